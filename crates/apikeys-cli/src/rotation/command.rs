//! `apikeys rotate --due`: the accounts of the config file, the keys the policy finds
//! something about, and the engine that rotates them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use futures::StreamExt;

use super::engine::{self, Abort, Engine, Outcome, PlannedRotation};
use super::journal::{Journal, JournalError, Line, Seal};
use super::protocol::Overlap;
use super::secret_cmd::SecretCmd;
use super::sink::Sink;
use crate::cli::RotateDueArgs;
use crate::config::{self, Account, Config, Credential, Listed, Reach};
use crate::exit::{Exit, Failure};
use crate::policy::Policy;

/// The file name of the journal in `--secret-dir` when `--journal` is not given.
pub const JOURNAL_NAME: &str = "apikeys-rotate.journal";

/// Runs `rotate --due`; returns how to exit.
pub async fn run(args: RotateDueArgs, reach: Reach, json: bool) -> Exit {
    match run_checked(args, reach, json).await {
        Ok(exit) => exit,
        Err(failure) => failure.report("rotate", &[], json),
    }
}

async fn run_checked(args: RotateDueArgs, reach: Reach, json: bool) -> Result<Exit, Failure> {
    let apply = args.apply || args.resume;
    let mut sink = sink(&args, apply)?;
    let journal_path = journal_path(&args, apply)?;
    let config = args.config.load()?;
    if let Some(Sink::Command(command)) = &mut sink {
        // The delivery command sees no account's credential.
        command.scrub = config
            .accounts
            .iter()
            .filter_map(|account| match &account.credential {
                Credential::Env(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
    }
    let policy = args.policy.over(&config.policy);
    let overlap = Overlap {
        overlap: args.overlap.unwrap_or_default(),
        disabled_for: args.disabled_for.unwrap_or_default(),
    };

    if args.resume {
        let (Some(sink), Some(path)) = (sink, journal_path) else {
            return Err(Failure::invalid(
                "--resume needs --secret-dir or --secret-cmd",
            ));
        };
        let (accounts, unreachable) = connect(&config, reach).await;
        let (journal, lines) = Journal::open(&path).map_err(journal_failure)?;
        let (open, foreign) = engine::open_rotations(&lines, &accounts);
        let skipped = report_unusable(&lines, &foreign, &accounts, &unreachable, json);
        if open.is_empty() && skipped.is_empty() {
            let printed =
                crate::output::print("the journal has no unfinished rotation: nothing to resume");
            return Ok(Exit::Ok.after_output(printed, "rotate", json));
        }
        let engine = Engine::new(&accounts, &unreachable, &sink, &journal)
            .concurrency(usize::from(args.concurrency));
        let outcomes = engine.resume(open).await;
        return Ok(finish(
            outcomes,
            skipped,
            &journal,
            json,
            unreachable.is_empty(),
        ));
    }

    let now = Utc::now();
    let concurrency = usize::from(args.concurrency);
    let mut listed: Vec<_> = config::list_each(&config.accounts, reach, concurrency, &|| {})
        .collect()
        .await;
    listed.sort_by_key(|(index, _, _)| *index);
    let mut unlisted = Vec::new();
    let mut plan = Vec::new();
    let mut found = Vec::new();
    // In the file's order, whichever account answered first.
    for (account, (_, listed, _)) in config.accounts.iter().zip(listed) {
        let Listed { listed, .. } = match listed {
            Ok(listed) => listed,
            Err(failure) => {
                unlisted.push((account.name.clone(), failure.message));
                continue;
            }
        };
        found.extend(engine::found_in(&account.name, &listed));
        for key in listed {
            let findings = policy.findings(&key, now);
            if !findings.is_empty() {
                let mut planned = PlannedRotation {
                    account: account.name.clone(),
                    vendor: account.vendor().to_string(),
                    key,
                    why: findings.iter().map(ToString::to_string).collect(),
                    lifetime: args.lifetime,
                };
                if planned.lifetime.is_none() && planned.old_lifetime().is_none() {
                    planned.lifetime = new_lifetime(&policy, &planned)?;
                }
                plan.push(planned);
            }
        }
    }
    for (account, why) in &unlisted {
        let failure = Failure::other(format!(
            "account `{}` could not be listed, none of its keys is planned: {why}",
            crate::output::sanitize(account)
        ));
        let _ = failure.report("rotate", &[], json);
    }
    if args.pending {
        let (accounts, unreachable) = connect(&config, reach).await;
        let mut open = Vec::new();
        if let Some(path) = &journal_path
            && std::fs::symlink_metadata(path).is_ok()
        {
            let (_, lines) = Journal::open(path).map_err(journal_failure)?;
            let (from_journal, foreign) = engine::open_rotations(&lines, &accounts);
            report_unusable(&lines, &foreign, &accounts, &unreachable, json);
            open = from_journal;
        }
        found.retain(|f| {
            !open.iter().any(|(account, rotation)| {
                *account == f.account && rotation.plan().old == f.tag.old
            })
        });
        let printed = super::print_pending(&open, &found, now, json);
        let outcome = if unlisted.is_empty() && unreachable.is_empty() {
            Exit::Ok
        } else {
            Exit::Incomplete
        };
        return Ok(outcome.after_output(printed, "rotate", json));
    }
    if !apply {
        let outcome = if unlisted.is_empty() {
            Exit::Ok
        } else {
            Exit::Incomplete
        };
        return Ok(outcome.after_output(super::print_plan(&plan, json), "rotate", json));
    }
    let (Some(sink), Some(path)) = (sink, journal_path) else {
        return Err(Failure::invalid(
            "--apply needs --secret-dir or --secret-cmd",
        ));
    };
    let (accounts, unreachable) = connect(&config, reach).await;
    let (journal, lines) = Journal::open(&path).map_err(journal_failure)?;
    let (mut open, foreign) = engine::open_rotations(&lines, &accounts);
    let skipped = report_unusable(&lines, &foreign, &accounts, &unreachable, json);
    let engine = Engine::new(&accounts, &unreachable, &sink, &journal)
        .concurrency(usize::from(args.concurrency))
        .overlap(overlap);
    // Retirements an earlier run (elsewhere, without this journal) tagged on the vendor.
    found.retain(|f| {
        !open
            .iter()
            .any(|(account, rotation)| *account == f.account && rotation.plan().old == f.tag.old)
    });
    match engine.adopt(found) {
        Ok(adopted) => open.extend(adopted),
        Err(error) => {
            let abort = Abort {
                error,
                outcomes: Vec::new(),
            };
            return Ok(finish(Err(abort), skipped, &journal, json, false));
        }
    }
    // What earlier runs left open (a crash, an overlap still running) is finished first,
    // and its keys are not planned again.
    let busy: Vec<(String, String)> = open
        .iter()
        .flat_map(|(account, rotation)| {
            let new = rotation
                .new_key()
                .map(|new| (account.clone(), new.to_string()));
            std::iter::once((account.clone(), rotation.plan().old.clone())).chain(new)
        })
        .collect();
    plan.retain(|p| {
        !busy.contains(&(p.account.clone(), p.key.id.clone())) && accounts.contains_key(&p.account)
    });
    let mut outcomes = match engine.resume(open).await {
        Ok(outcomes) => outcomes,
        Err(abort) => return Ok(finish(Err(abort), skipped, &journal, json, false)),
    };
    let planned = engine.run(plan).await;
    let every_account = unlisted.is_empty() && unreachable.is_empty();
    let result = match planned {
        Ok(more) => {
            outcomes.extend(more);
            Ok(outcomes)
        }
        Err(mut abort) => {
            outcomes.append(&mut abort.outcomes);
            abort.outcomes = outcomes;
            Err(abort)
        }
    };
    Ok(finish(result, skipped, &journal, json, every_account))
}

/// Says which journal lines cannot be used (another configuration's, edited, or of an
/// account that cannot be reached now) and returns an outcome per account left so.
fn report_unusable(
    lines: &[Line],
    foreign: &[usize],
    accounts: &HashMap<String, engine::Account>,
    unreachable: &HashMap<String, String>,
    json: bool,
) -> Vec<Outcome> {
    let mut skipped = Vec::new();
    for account in engine::accounts_named(lines) {
        if let Some(why) = unreachable.get(&account) {
            let failure = Failure::other(format!(
                "account `{}` could not be reached, its rotations in the journal cannot be \
                 resumed: {why}",
                crate::output::sanitize(&account)
            ));
            let _ = failure.report("rotate", &[], json);
            skipped.push(engine::unreachable_outcome(&account, why));
        }
    }
    let forged: Vec<String> = lines
        .iter()
        .filter(|line| foreign.contains(&line.number))
        .filter(|line| !unreachable.contains_key(&line.entry.account))
        .map(|line| match accounts.get(&line.entry.account) {
            Some(account) => format!("{} ({})", line.number, account.seal.mismatch(line)),
            None => format!("{} (no such account in the configuration)", line.number),
        })
        .collect();
    if !forged.is_empty() {
        let failure = Failure::other(format!(
            "journal line(s) {} were not written by a run of this configuration: they are \
             ignored, and no key they name is touched",
            forged.join(", ")
        ));
        let _ = failure.report("rotate", &[], json);
        skipped.push(engine::foreign_outcome(&forged));
    }
    skipped
}

/// The lifetime of a key replacing one that never expired: none, unless the policy
/// requires an expiry (or the replacement would be flagged again at once), when it is the
/// policy's max-age, and without one the command refuses to plan.
fn new_lifetime(policy: &Policy, planned: &PlannedRotation) -> Result<Option<TimeDelta>, Failure> {
    if !policy.require_expiry {
        return Ok(None);
    }
    policy.max_age.map(Some).ok_or_else(|| {
        Failure::invalid(format!(
            "key `{}` of account `{}` never expires and the policy requires an expiry: \
             give --lifetime DURATION (or a max-age) for the keys that replace such keys",
            crate::output::sanitize(&planned.key.id),
            crate::output::sanitize(&planned.account)
        ))
    })
}

/// Prints the report (also when the journal failed: what was done until then); exit 9
/// when a rotation failed or was left unfinished, 8 when an account was not reached,
/// whether or not the report could be written.
fn finish(
    result: Result<Vec<Outcome>, Abort>,
    skipped: Vec<Outcome>,
    journal: &Journal,
    json: bool,
    every_account: bool,
) -> Exit {
    let (mut outcomes, abort) = match result {
        Ok(outcomes) => (outcomes, None),
        Err(abort) => (abort.outcomes, Some(abort.error)),
    };
    outcomes.extend(skipped);
    let outcome = if abort.is_some() || outcomes.iter().any(|o| !o.rotated()) {
        Exit::RotationFailed
    } else if !every_account {
        Exit::Incomplete
    } else {
        Exit::Ok
    };
    let printed = super::print_report(&outcomes, journal.path(), json);
    if let Some(error) = abort {
        let failure = Failure::other(format!(
            "{error}: the run stopped; the rotations above are what it did, run again with \
             --resume to finish the rest"
        ));
        let _ = failure.report("rotate", &[], json);
    }
    outcome.after_output(printed, "rotate", json)
}

/// The sink the flags name; with `--apply`, exactly one is required.
fn sink(args: &RotateDueArgs, apply: bool) -> Result<Option<Sink>, Failure> {
    let sink = match (&args.secret_dir, &args.secret_cmd) {
        (Some(dir), None) => {
            if !dir.is_dir() {
                return Err(Failure::invalid(format!(
                    "--secret-dir {} is not a directory",
                    dir.display()
                )));
            }
            Some(Sink::Dir(dir.clone()))
        }
        (None, Some(command)) => Some(Sink::Command(SecretCmd::new(
            command,
            Duration::from_secs(args.secret_cmd_timeout),
        ))),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(Failure::invalid(
                "pass --secret-dir or --secret-cmd, not both",
            ));
        }
    };
    if apply && sink.is_none() {
        return Err(Failure::invalid(
            "--apply needs a place for the new secrets, which are shown only once: \
             --secret-dir DIR or --secret-cmd CMD",
        ));
    }
    Ok(sink)
}

/// `--journal`, else `<secret-dir>/apikeys-rotate.journal`; `--secret-cmd` needs `--journal`.
fn journal_path(args: &RotateDueArgs, apply: bool) -> Result<Option<PathBuf>, Failure> {
    match (&args.journal, &args.secret_dir) {
        (Some(path), _) => Ok(Some(path.clone())),
        (None, Some(dir)) => Ok(Some(dir.join(JOURNAL_NAME))),
        (None, None) if apply && args.secret_cmd.is_some() => Err(Failure::invalid(
            "--secret-cmd needs --journal PATH: the journal is what makes a killed run resumable",
        )),
        (None, None) => Ok(None),
    }
}

fn journal_failure(error: JournalError) -> Failure {
    match error {
        JournalError::Locked(_) => Failure {
            exit: Exit::InvalidInput,
            message: error.to_string(),
        },
        _ => Failure::other(error.to_string()),
    }
}

/// Every account's lifecycle and journal seal (credentials read off the async threads: a
/// `command` credential runs a process), and the accounts that could not be set up, each
/// with why (`the credential variable AMX_KEY is not set`), by name.
async fn connect(
    config: &Config,
    reach: Reach,
) -> (HashMap<String, engine::Account>, HashMap<String, String>) {
    let mut accounts = HashMap::new();
    let mut failed = HashMap::new();
    for account in &config.accounts {
        let owned: Account = account.clone();
        let built = tokio::task::spawn_blocking(move || {
            let target = owned.target(reach)?;
            // The account's identity: a line sealed for another vendor, base URL or
            // scope under the same name does not verify.
            let identity = format!(
                "{}\0{}\0{:?}",
                owned.vendor(),
                target.base_url,
                target.scope
            );
            let seal = Seal::new(target.api_key.expose_secret(), &identity);
            let keys = owned.lifecycle(reach)?;
            Ok::<_, Failure>(engine::Account { keys, seal })
        })
        .await;
        match built {
            Ok(Ok(connected)) => {
                accounts.insert(account.name.clone(), connected);
            }
            Ok(Err(failure)) => {
                failed.insert(account.name.clone(), failure.message);
            }
            Err(error) => {
                failed.insert(account.name.clone(), error.to_string());
            }
        }
    }
    (accounts, failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use apikeys_common::KeyInfo;

    fn forever(name: &str) -> PlannedRotation {
        PlannedRotation {
            account: "acct".into(),
            vendor: "v".into(),
            key: KeyInfo::new("7").name(name),
            why: vec!["no-expiry".into()],
            lifetime: None,
        }
    }

    #[test]
    fn a_key_that_never_expired_gets_an_expiry_only_when_the_policy_requires_one() {
        let days = TimeDelta::days(90);
        let lax = Policy::default();
        assert_eq!(new_lifetime(&lax, &forever("ci")).unwrap(), None);
        let strict = Policy {
            require_expiry: true,
            max_age: Some(days),
            ..Policy::default()
        };
        assert_eq!(new_lifetime(&strict, &forever("ci")).unwrap(), Some(days));
        let without_age = Policy {
            require_expiry: true,
            ..Policy::default()
        };
        let refused = new_lifetime(&without_age, &forever("ci")).unwrap_err();
        assert_eq!(refused.exit, Exit::InvalidInput);
        assert!(
            refused.message.contains("--lifetime"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn the_new_expiry_is_the_lifetime_else_the_old_keys_lifetime_from_now() {
        let now = Utc::now();
        let mut plan = forever("ci");
        assert_eq!(plan.old_lifetime(), None);
        plan.key.created_at = Some(now - TimeDelta::days(100));
        plan.key.expires_at = Some(now - TimeDelta::days(70));
        assert_eq!(plan.old_lifetime(), Some(TimeDelta::days(30)));
        plan.lifetime = Some(TimeDelta::days(7));
        assert_eq!(plan.new_expiry(now), Some(now + TimeDelta::days(7)));
        plan.lifetime = None;
        assert_eq!(plan.new_expiry(now), Some(now + TimeDelta::days(30)));
        plan.lifetime = Some(TimeDelta::MAX);
        assert_eq!(
            plan.new_expiry(now),
            None,
            "a lifetime past the end of time is no expiry, not a panic"
        );
    }
}
