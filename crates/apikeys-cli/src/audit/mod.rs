//! `apikeys audit`: every key of every account in the config file, listed concurrently
//! (at most `--concurrency` accounts at once), judged by the policy.
//!
//! Output: with no format flag, one table per account (only the keys with findings unless
//! `--all`) and a summary line, all on stdout; with `--json` or `--csv` (or `--format`),
//! one record per key on stdout and the summary on stderr, so stdout stays one document;
//! with `--format openmetrics`, every key as Prometheus metrics ([`crate::metrics`]).
//! `--output FILE` puts the document in a file instead, replaced atomically. An account that
//! could not be audited is named with its error on stderr, and the rest are still
//! reported. Exit: 8 if an account could not be audited, else 7 if the policy found
//! anything, else 0.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use apikeys_common::KeyInfo;
use apikeys_sandbox::Sandbox;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::cli::{AuditArgs, Format};
use crate::config::{self, Account, Config, ConfigArgs, Reach};
use crate::exit::{Exit, Failure};
use crate::metrics;
use crate::output;
use crate::policy::{Finding, Policy, age_days};

mod html;
mod sandbox;

/// One account's keys, or why it could not be listed, and how long that took.
struct Audited<'a> {
    account: &'a Account,
    keys: Result<Vec<KeyInfo>, Failure>,
    took: Duration,
}

/// Runs the audit and says how to exit.
pub async fn run(args: AuditArgs, reach: Reach, json: bool) -> Exit {
    let format = match args.format(json) {
        Ok(format) => format,
        Err(failure) => return failure.report("audit", &[], json),
    };
    // `--format json` reports errors as JSON too, as `--json` does.
    let json = json || format == Format::Json;
    // Before any vendor is asked: a path that would be refused is refused now.
    let files = [(&args.output, "--output"), (&args.html, "--html")];
    for (path, flag) in files {
        if let Some(path) = path
            && let Err(failure) = output::check_replaceable(path, flag)
        {
            return failure.report("audit", &[], json);
        }
    }
    // Held until the audit is over: the sandbox serves while it lives.
    let (config, _sandbox) = match load(&args.accounts.config, args.accounts.sandbox).await {
        Ok(loaded) => loaded,
        Err(failure) => return failure.report("audit", &[], json),
    };
    let policy = args.accounts.policy.over(&config.policy);
    let now = Utc::now();
    let progress = progress(config.accounts.len());
    let seen = AtomicU64::new(0);
    let on_key = || {
        let seen = seen.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        if !progress.is_hidden() {
            progress.set_message(format!("{seen} keys"));
        }
    };
    let audited = list(
        &config.accounts,
        reach,
        usize::from(args.accounts.concurrency),
        &on_key,
        &|| progress.inc(1),
    )
    .await;
    progress.finish_and_clear();

    let report = Report::new(&audited, &policy, now);
    // The failures first, on stderr: the reader of a long table still sees them.
    for (account, failure) in failures(&audited) {
        if json {
            output::eprint(&failure.json(account.vendor(), &[]));
        } else {
            output::eprint(&failure.line("audit", &[]));
        }
    }
    let outcome = if report.summary.accounts_failed > 0 {
        Exit::Incomplete
    } else if report.summary.keys_with_findings > 0 {
        Exit::Findings
    } else {
        Exit::Ok
    };
    // The document for stdout (or --output); the summary goes to stderr unless it is part
    // of the document (the table's last line).
    let document = match format {
        Format::Table => Ok(report.tables(args.all)),
        Format::Json => output::json(&report.records(args.all), true),
        Format::Csv => report.csv(args.all),
        Format::Openmetrics => {
            let snapshot = Arc::new(metrics::Snapshot {
                accounts: report.metrics(&audited, now),
                exporter: None,
            });
            metrics::encode(&snapshot)
                .map_err(|e| Failure::other(format!("could not write the metrics: {e}")))
        }
    };
    let document = match document {
        Ok(document) => document,
        Err(failure) => return failure.report("audit", &[], json),
    };
    // The files are what the caller asked for: not writing one is a failure whatever the
    // audit found (a cron job that expects 7 must still see it).
    if let Some(path) = &args.output
        && let Err(failure) = output::write_replacing(path, &document, "--output")
    {
        return failure.report("audit", &[], json);
    }
    if let Some(path) = &args.html {
        let page = html::page(&report, &audited, &policy, now).into_string();
        if let Err(failure) = output::write_replacing(path, &page, "--html") {
            return failure.report("audit", &[], json);
        }
    }
    let printed = match &args.output {
        Some(_) => Ok(()),
        None => output::print(&document),
    };
    match format {
        Format::Table => {}
        Format::Json => {
            match output::json(&serde_json::json!({ "summary": report.summary }), false) {
                Ok(summary) => output::eprint(&summary),
                Err(failure) => return failure.report("audit", &[], json),
            }
        }
        Format::Csv | Format::Openmetrics => output::eprint(&report.summary.line()),
    }
    outcome.after_output(printed, "audit", json)
}

/// The config file's accounts, or with `--sandbox` a seeded sandbox's (which serves until
/// it is dropped).
pub async fn load(
    config: &ConfigArgs,
    sandbox: bool,
) -> Result<(Config, Option<Sandbox>), Failure> {
    if sandbox {
        let (config, sandbox) = sandbox::seeded().await?;
        Ok((config, Some(sandbox)))
    } else {
        Ok((config.load()?, None))
    }
}

/// Each account that could not be audited, and why, naming it.
fn failures<'b>(audited: &'b [Audited<'_>]) -> impl Iterator<Item = (&'b Account, Failure)> {
    audited.iter().filter_map(|a| {
        let failure = a.keys.as_ref().err()?;
        let who = format!(
            "account `{}` ({})",
            output::sanitize(&a.account.name),
            a.account.vendor()
        );
        Some((
            a.account,
            Failure {
                exit: failure.exit,
                message: format!("{who} could not be audited: {}", failure.message),
            },
        ))
    })
}

/// One audit of every account as metrics, with a line for each account that could not be
/// audited: what `apikeys exporter` runs each interval. Such an account has no keys and no
/// last success here; the exporter keeps its earlier ones.
pub async fn metrics(
    accounts: &[Account],
    reach: Reach,
    concurrency: usize,
    policy: &Policy,
) -> (Vec<metrics::AccountMetrics>, Vec<String>) {
    let audited = list(accounts, reach, concurrency, &|| {}, &|| {}).await;
    let now = Utc::now();
    let failures = failures(&audited).map(|(_, f)| f.message).collect();
    (
        Report::new(&audited, policy, now).metrics(&audited, now),
        failures,
    )
}

/// Lists every account's keys, `concurrency` at once, in the config file's order whichever
/// answered first; `on_key` is told of every key, `on_account` of every account done.
async fn list<'a>(
    accounts: &'a [Account],
    reach: Reach,
    concurrency: usize,
    on_key: &(dyn Fn() + Sync),
    on_account: &(dyn Fn() + Sync),
) -> Vec<Audited<'a>> {
    let mut listed: Vec<(usize, Result<Vec<KeyInfo>, Failure>, Duration)> =
        config::list_each(accounts, reach, concurrency, on_key)
            .map(|(index, listed, took)| {
                on_account();
                (index, listed.map(|listed| listed.listed), took)
            })
            .collect()
            .await;
    listed.sort_by_key(|(index, _, _)| *index);
    accounts
        .iter()
        .zip(listed)
        .map(|(account, (_, keys, took))| Audited {
            account,
            keys,
            took,
        })
        .collect()
}

/// Accounts done out of all, and keys seen, on stderr; only when stderr is a terminal.
fn progress(accounts: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(accounts).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} auditing: {pos}/{len} accounts, {msg}")
    {
        bar.set_style(style);
    }
    bar.set_message("0 keys");
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// One key as `--json` and `--csv` show it.
#[derive(Serialize)]
struct Record<'a> {
    account: &'a str,
    vendor: &'static str,
    id: &'a str,
    name: Option<&'a str>,
    enabled: Option<bool>,
    created_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    age_days: Option<i64>,
    findings: Vec<Finding>,
    /// When a key in a rotation's overlap is revoked (it is not judged by the policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    retiring_until: Option<DateTime<Utc>>,
}

/// The counts the summary line gives.
#[derive(Default, Serialize)]
struct Summary {
    accounts: usize,
    accounts_failed: usize,
    keys: usize,
    keys_with_findings: usize,
    /// Old keys in a rotation's overlap: replaced, working until they are retired.
    keys_retiring: usize,
    /// Keys with no creation time: never `too-old`, whatever their age.
    keys_without_created_at: usize,
    findings: BTreeMap<&'static str, usize>,
    by_vendor: BTreeMap<&'static str, usize>,
}

impl Summary {
    /// `audit: 12 keys in 5 accounts (1 not audited); 3 with findings: expired 1, ...`.
    fn line(&self) -> String {
        let mut line = format!("audit: {} keys in {} accounts", self.keys, self.accounts);
        if self.accounts_failed > 0 {
            line += &format!(" ({} could not be audited)", self.accounts_failed);
        }
        if self.keys_with_findings == 0 {
            line += "; no findings";
        } else {
            let counts = |map: &BTreeMap<&str, usize>, order: &[&str]| {
                order
                    .iter()
                    .filter_map(|name| map.get(name).map(|n| format!("{name} {n}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let findings: Vec<&str> = Finding::ALL.iter().map(|f| f.name()).collect();
            let vendors: Vec<&str> = self.by_vendor.keys().copied().collect();
            line += &format!(
                "; {} with findings: {}; by vendor: {}",
                self.keys_with_findings,
                counts(&self.findings, &findings),
                counts(&self.by_vendor, &vendors)
            );
        }
        if self.keys_retiring > 0 {
            line += &format!("; {} retiring after a rotation", self.keys_retiring);
        }
        if self.keys_without_created_at > 0 {
            line += &format!(
                "; {} keys have no creation time and were not judged for age",
                self.keys_without_created_at
            );
        }
        line
    }
}

/// A key, its findings, its age in days, and when it is revoked if it is retiring.
type Judged<'a> = (
    &'a KeyInfo,
    Vec<Finding>,
    Option<i64>,
    Option<DateTime<Utc>>,
);

/// Every audited key with its findings, in the config file's order (`None`: the account
/// could not be audited).
struct Report<'a> {
    accounts: Vec<(&'a Account, Option<Vec<Judged<'a>>>)>,
    summary: Summary,
}

impl<'a> Report<'a> {
    fn new(audited: &'a [Audited<'a>], policy: &Policy, now: DateTime<Utc>) -> Report<'a> {
        let mut summary = Summary {
            accounts: audited.len(),
            ..Summary::default()
        };
        let accounts = audited
            .iter()
            .map(|a| {
                let Ok(keys) = &a.keys else {
                    summary.accounts_failed += 1;
                    return (a.account, None);
                };
                // Old keys a delivered replacement's tag names: in their overlap, on schedule.
                let retiring = crate::rotation::engine::found_in(&a.account.name, keys);
                let judged = keys
                    .iter()
                    .map(|key| {
                        let retires = retiring
                            .iter()
                            .find(|found| found.tag.old == key.id)
                            .map(|found| found.tag.revoke_at);
                        let findings = match retires {
                            Some(_) => {
                                summary.keys_retiring += 1;
                                Vec::new()
                            }
                            None => policy.findings(key, now),
                        };
                        summary.keys += 1;
                        if key.created_at.is_none() {
                            summary.keys_without_created_at += 1;
                        }
                        if !findings.is_empty() {
                            summary.keys_with_findings += 1;
                            *summary.by_vendor.entry(a.account.vendor()).or_default() += 1;
                        }
                        for finding in &findings {
                            *summary.findings.entry(finding.name()).or_default() += 1;
                        }
                        (key, findings, age_days(key, now), retires)
                    })
                    .collect();
                (a.account, Some(judged))
            })
            .collect();
        Report { accounts, summary }
    }

    /// Every account and key as metrics (`audited` is what the report was made of).
    fn metrics(&self, audited: &[Audited<'_>], now: DateTime<Utc>) -> Vec<metrics::AccountMetrics> {
        self.accounts
            .iter()
            .zip(audited)
            .map(|((account, keys), audited)| metrics::AccountMetrics {
                account: account.name.clone(),
                vendor: account.vendor(),
                up: keys.is_some(),
                last_success: keys.as_ref().map(|_| now),
                audit_duration: Some(audited.took),
                keys: keys.as_ref().map(|keys| {
                    keys.iter()
                        .map(|(key, findings, _, retires)| metrics::KeyMetrics {
                            id: key.id.clone(),
                            name: key.name.clone(),
                            enabled: key.enabled,
                            created_at: key.created_at,
                            expires_at: key.expires_at,
                            findings: findings.clone(),
                            retiring_until: *retires,
                        })
                        .collect()
                }),
            })
            .collect()
    }

    fn records(&self, all: bool) -> Vec<Record<'_>> {
        self.accounts
            .iter()
            .filter_map(|(account, keys)| keys.as_ref().map(|keys| (account, keys)))
            .flat_map(|(account, keys)| {
                keys.iter()
                    .filter(move |(_, findings, _, retires)| {
                        all || !findings.is_empty() || retires.is_some()
                    })
                    .map(move |(key, findings, age, retires)| Record {
                        account: &account.name,
                        vendor: account.vendor(),
                        id: &key.id,
                        name: key.name.as_deref(),
                        enabled: key.enabled,
                        created_at: key.created_at,
                        expires_at: key.expires_at,
                        age_days: *age,
                        findings: findings.clone(),
                        retiring_until: *retires,
                    })
            })
            .collect()
    }

    /// The records as CSV, findings separated by `;`, control characters as `?`.
    fn csv(&self, all: bool) -> Result<String, Failure> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let failed = |e: csv::Error| Failure::other(format!("could not write CSV: {e}"));
        writer
            .write_record([
                "account",
                "vendor",
                "id",
                "name",
                "enabled",
                "created_at",
                "expires_at",
                "age_days",
                "findings",
                "retiring_until",
            ])
            .map_err(failed)?;
        for r in self.records(all) {
            let findings: Vec<&str> = r.findings.iter().map(|f| f.name()).collect();
            writer
                .write_record([
                    cell(r.account),
                    r.vendor.to_string(),
                    cell(r.id),
                    r.name.map(cell).unwrap_or_default(),
                    r.enabled.map(|e| e.to_string()).unwrap_or_default(),
                    r.created_at.map(rfc3339).unwrap_or_default(),
                    r.expires_at.map(rfc3339).unwrap_or_default(),
                    r.age_days.map(|d| d.to_string()).unwrap_or_default(),
                    findings.join(";"),
                    r.retiring_until.map(rfc3339).unwrap_or_default(),
                ])
                .map_err(failed)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|e| Failure::other(format!("could not write CSV: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Failure::other(format!("could not write CSV: {e}")))
    }

    /// One heading and table per account, then the summary line.
    fn tables(&self, all: bool) -> String {
        let mut text = String::new();
        for (account, keys) in &self.accounts {
            let heading = format!("{} ({})", output::sanitize(&account.name), account.vendor());
            let Some(keys) = keys else {
                text += &format!("{heading}: not audited (the error is on stderr)\n\n");
                continue;
            };
            let shown: Vec<_> = keys
                .iter()
                .filter(|(_, findings, _, retires)| {
                    all || !findings.is_empty() || retires.is_some()
                })
                .collect();
            let with = keys.iter().filter(|(_, f, _, _)| !f.is_empty()).count();
            text += &format!("{heading}: {} keys, {with} with findings\n", keys.len());
            if shown.is_empty() {
                text += "\n";
                continue;
            }
            let mut table = output::table(&["finding", "id", "name", "created", "expires", "age"]);
            for (key, findings, age, retires) in shown {
                let findings: Vec<&str> = findings.iter().map(|f| f.name()).collect();
                table.add_row(vec![
                    match retires {
                        Some(at) => format!("retiring (revoked {})", day(Some(*at))),
                        None if findings.is_empty() => "-".to_string(),
                        None => findings.join(", "),
                    },
                    output::sanitize(&key.id),
                    key.name
                        .as_deref()
                        .map_or_else(|| "-".into(), output::sanitize),
                    day(key.created_at),
                    day(key.expires_at),
                    age.map_or_else(|| "-".into(), |days| format!("{days}d")),
                ]);
            }
            if let Some(id) = table.column_mut(1) {
                id.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
            }
            text += &format!("{table}\n\n");
        }
        text + &self.summary.line()
    }
}

/// A CSV cell of text a server or the config chose: hostile characters shown as escapes
/// ([`output::sanitize`]), and a cell whose first character after any whitespace is `=`,
/// `+`, `-` or `@` (or their fullwidth forms, which spreadsheets read alike) quoted with `'`,
/// so that a spreadsheet opening the file shows a key named `=HYPERLINK(…)` as text
/// instead of running it as a formula.
fn cell(text: &str) -> String {
    let text = output::sanitize(text);
    let formula = [
        '=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ];
    if text.trim_start().starts_with(formula) {
        format!("'{text}")
    } else {
        text
    }
}

/// A time as the audit table shows it: its UTC date (the records keep the time).
fn day(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d").to_string())
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn csv_cells_cannot_become_spreadsheet_formulas() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for risky in ["+1", "-1", "@SUM(A1)"] {
            assert_eq!(cell(risky), format!("'{risky}"));
        }
        // issue 22, case 11: leading whitespace and fullwidth signs do not escape the guard.
        for risky in [
            " =1+1",
            "\u{3000}+1",
            "\u{ff1d}SUM(A1)",
            "  \u{ff20}x",
            "\u{ff0b}1",
            "\u{ff0d}1",
        ] {
            assert_eq!(cell(risky), format!("'{risky}"));
        }
        assert_eq!(
            cell("\t=1"),
            "\\u{9}=1",
            "a tab is shown, so it starts no formula"
        );
        assert_eq!(cell("ci-deploy"), "ci-deploy");
        assert_eq!(cell("a\nb\u{202e}"), "a\\u{a}b\\u{202e}");
    }
}
