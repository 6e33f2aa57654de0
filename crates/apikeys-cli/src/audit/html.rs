//! `apikeys audit --html FILE`: the audit as one self-contained HTML page (inline CSS and
//! SVG, no scripts, no external assets): the summary, the policy, a table and a timeline
//! per account.
//!
//! The page and its SVG come from maud templates: checked at compile time, and every
//! interpolated value escaped, so server text cannot become markup; it is also passed
//! through [`output::sanitize`], so control and bidi characters are shown, not obeyed.

use apikeys_common::KeyInfo;
use chrono::{DateTime, TimeDelta, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Audited, Judged, Report, day, rfc3339 as stamp};
use crate::output;
use crate::policy::{Finding, Policy};

/// The most bars one account's timeline draws: keys with findings first, then the newest;
/// the table still lists every key.
const MAX_BARS: usize = 200;
/// Key ids and names are cut to this many characters in the page (the full id is in the
/// bar's tooltip and the table wraps).
const MAX_LABEL: usize = 28;
const MAX_TEXT: usize = 200;

/// The whole page: the summary, the policy, then a timeline and a table per account.
pub(super) fn page(
    report: &Report<'_>,
    audited: &[Audited],
    policy: &Policy,
    now: DateTime<Utc>,
) -> Markup {
    let summary = &report.summary;
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "apikeys audit, " (stamp(now)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "API key audit" }
                    p.when { "Audited " time datetime=(stamp(now)) { (stamp(now)) } " by apikeys " (env!("CARGO_PKG_VERSION")) }
                }
                section.summary {
                    h2 { "Summary" }
                    div.cards {
                        div.card { b { (summary.accounts) } span { "accounts" } }
                        div.card { b { (summary.keys) } span { "keys" } }
                        div.card.(if summary.keys_with_findings > 0 { "bad" } else { "good" }) {
                            b { (summary.keys_with_findings) } span { "keys with findings" }
                        }
                        div.card.(if summary.accounts_failed > 0 { "bad" } else { "good" }) {
                            b { (summary.accounts_failed) } span { "accounts not audited" }
                        }
                    }
                    div.row {
                    div { h3 { "Findings" }
                    table.counts {
                        thead { tr { th { "finding" } th.num { "keys" } } }
                        tbody {
                            @for finding in Finding::ALL {
                                tr { td { (badge(Some(finding))) } td.num { (summary.findings.get(finding.name()).copied().unwrap_or(0)) } }
                            }
                            @if summary.keys_retiring > 0 {
                                tr { td { span.badge.retiring { "retiring" } } td.num { (summary.keys_retiring) } }
                            }
                        }
                    }
                    }
                    div { h3 { "Policy" } (policy_list(policy)) }
                    }
                    @if summary.keys_without_created_at > 0 {
                        p.note { (summary.keys_without_created_at) " keys have no creation time and were not judged for age." }
                    }
                    @let failures: Vec<_> = audited.iter().filter_map(|a| a.keys.as_ref().err().map(|f| (&a.account, f))).collect();
                    @if !failures.is_empty() {
                        h3 { "Accounts that could not be audited" }
                        ul.failures {
                            @for (account, failure) in failures {
                                li { b { (output::sanitize_bounded(&account.name, MAX_TEXT)) } " (" (account.vendor()) "): " (output::sanitize_bounded(&failure.clean(&[]), MAX_TEXT * 2)) }
                            }
                        }
                    }
                }
                @for (account, keys) in &report.accounts {
                    section.account {
                        h2 { (output::sanitize_bounded(&account.name, MAX_TEXT)) " " span.vendor { (account.vendor()) } }
                        @match keys {
                            None => p.failed { "Not audited: the error is in the summary above." },
                            Some(keys) => {
                                @let with = keys.iter().filter(|(_, f, _, _)| !f.is_empty()).count();
                                p { (keys.len()) " keys, " (with) " with findings." }
                                @if !keys.is_empty() {
                                    (timeline(keys, now))
                                    (key_table(keys))
                                }
                            }
                        }
                    }
                }
                footer { "Generated by " code { "apikeys audit --html" } ". Colours are always paired with the finding's name." }
            }
        }
    }
}

fn policy_list(policy: &Policy) -> Markup {
    let duration = |d: Option<TimeDelta>| {
        d.map_or_else(|| "off".to_string(), |d| format!("{}d", d.num_days()))
    };
    let on = |b: bool| if b { "on" } else { "off" };
    html! {
        dl.policy {
            dt { "max age" } dd { (duration(policy.max_age)) }
            dt { "expiring within" } dd { (duration(policy.expiring_within)) }
            dt { "require expiry" } dd { (on(policy.require_expiry)) }
            dt { "disabled keys" } dd { (on(policy.disabled_keys)) }
        }
    }
}

/// A finding's name on its colour; `None` is a key the policy found nothing about.
fn badge(finding: Option<Finding>) -> Markup {
    let (class, name) = finding.map_or(("ok", "ok"), |f| (f.name(), f.name()));
    html! { span.badge.(class) { (name) } }
}

fn key_table(keys: &[Judged<'_>]) -> Markup {
    html! {
        table.keys {
            thead { tr { th { "id" } th { "name" } th { "enabled" } th { "created" } th { "expires" } th.num { "age" } th { "findings" } } }
            tbody {
                @for (key, findings, age, retires) in keys {
                    tr {
                        td { code { (output::sanitize_bounded(&key.id, MAX_TEXT)) } }
                        td { (key.name.as_deref().map_or_else(|| "-".into(), |n| output::sanitize_bounded(n, MAX_TEXT))) }
                        td { (key.enabled.map_or("-", |e| if e { "yes" } else { "no" })) }
                        td { (day(key.created_at)) }
                        td { (if key.expires_at.is_some() { day(key.expires_at) } else { "never".into() }) }
                        td.num { (age.map_or_else(|| "-".into(), |d| format!("{d}d"))) }
                        td {
                            @if let Some(at) = retires {
                                span.badge.retiring { "retiring, revoked " (day(Some(*at))) }
                            } @else if findings.is_empty() {
                                (badge(None))
                            } @else {
                                @for finding in findings { (badge(Some(*finding))) " " }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The SVG's geometry: a label column, then the time axis.
const WIDTH: f64 = 1100.0;
const LABEL: f64 = 220.0;
const RIGHT: f64 = 20.0;
const ROW: f64 = 18.0;
const TOP: f64 = 28.0;

/// The span the timeline shows: the earliest creation to the latest expiry, with today
/// inside, at most ten years back and five ahead (a bar past it runs to the edge).
struct Axis {
    start: i64,
    end: i64,
}

impl Axis {
    fn new(keys: &[&Judged<'_>], now: DateTime<Utc>) -> Axis {
        let now_s = now.timestamp();
        let year = 365 * 86_400;
        let earliest = keys
            .iter()
            .filter_map(|(k, ..)| k.created_at)
            .map(|t| t.timestamp())
            .min()
            .unwrap_or(now_s);
        let latest = keys
            .iter()
            .filter_map(|(k, ..)| k.expires_at)
            .map(|t| t.timestamp())
            .max()
            .unwrap_or(now_s);
        let start = earliest.clamp(
            now_s.saturating_sub(10 * year),
            now_s.saturating_sub(30 * 86_400),
        );
        let end = latest.clamp(
            now_s.saturating_add(90 * 86_400),
            now_s.saturating_add(5 * year),
        );
        Axis { start, end }
    }

    /// The x of a time in seconds, clamped to the chart.
    fn x(&self, seconds: i64) -> f64 {
        let span = (self.end as f64 - self.start as f64).max(1.0);
        let at = ((seconds as f64 - self.start as f64) / span).clamp(0.0, 1.0);
        LABEL + at * (WIDTH - LABEL - RIGHT)
    }
}

/// Which keys the timeline draws when there are too many: findings first, then newest.
fn drawn<'k, 'a>(keys: &'k [Judged<'a>]) -> Vec<&'k Judged<'a>> {
    let mut shown: Vec<&Judged<'_>> = keys.iter().collect();
    if shown.len() > MAX_BARS {
        shown.sort_by_key(|(key, findings, _, retires)| {
            (
                findings.is_empty() && retires.is_none(),
                std::cmp::Reverse(key.created_at),
            )
        });
        shown.truncate(MAX_BARS);
    }
    shown
}

fn colour_class(findings: &[Finding], retiring: bool) -> &'static str {
    if retiring {
        return "retiring";
    }
    findings.first().map_or("ok", |f| f.name())
}

fn timeline(keys: &[Judged<'_>], now: DateTime<Utc>) -> Markup {
    let shown = drawn(keys);
    let axis = Axis::new(&shown, now);
    let height = TOP + ROW * shown.len() as f64 + 8.0;
    let today = axis.x(now.timestamp());
    let years = year_ticks(&axis);
    let view = format!("0 0 {WIDTH} {height}");
    html! {
        figure.timeline {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(view) width=(WIDTH) height=(height) role="img" aria-label="Key lifetimes: created to expiry" {
                @for (x, label) in &years {
                    line.grid x1=(x) x2=(x) y1=(TOP - 6.0) y2=(height) {}
                    text.tick x=(x) y=(TOP - 10.0) text-anchor="middle" { (label) }
                }
                @for (row, (key, findings, _, retires)) in shown.iter().enumerate() {
                    @let y = TOP + ROW * row as f64;
                    @let left = key.created_at.map_or(LABEL, |t| axis.x(t.timestamp()));
                    @let right = key.expires_at.map_or(WIDTH - RIGHT, |t| axis.x(t.timestamp()));
                    @let right = right.max(left + 2.0);
                    @let class = colour_class(findings, retires.is_some());
                    g {
                        title { (output::sanitize_bounded(&key.id, MAX_TEXT)) ": " (describe(key, findings, retires.is_some())) }
                        text.label x=(LABEL - 8.0) y=(y + 12.5) text-anchor="end" { (output::sanitize_bounded(&key.id, MAX_LABEL)) }
                        rect class=(format!("bar {class}")) x=(left) y=(y + 3.0) width=(right - left) height=(ROW - 6.0) rx="3" {}
                        @if key.created_at.is_none() {
                            text.mark x=(LABEL + 3.0) y=(y + 12.5) { "? no created date" }
                        }
                        @if key.expires_at.is_none() {
                            text.mark x=(WIDTH - RIGHT - 3.0) y=(y + 12.5) text-anchor="end" { "never expires →" }
                        }
                    }
                }
                line.today x1=(today) x2=(today) y1=(TOP - 6.0) y2=(height) {}
                text.today x=(today) y=(TOP - 18.0) text-anchor="middle" { "today" }
            }
            figcaption {
                @if shown.len() < keys.len() {
                    p.note { "The timeline draws " (shown.len()) " of " (keys.len()) " keys (those with findings first, then the newest); the table lists every key." }
                }
                ul.legend {
                    li { (badge(None)) " no finding" }
                    @for finding in Finding::ALL { li { (badge(Some(finding))) } }
                    li { span.badge.retiring { "retiring" } " replaced, revoked soon" }
                    li { "“never expires →”: no expiry date; “?”: no creation date, drawn from the left edge" }
                    li { span.todaykey {} " today" }
                }
            }
        }
    }
}

fn describe(key: &KeyInfo, findings: &[Finding], retiring: bool) -> String {
    let names: Vec<&str> = findings.iter().map(|f| f.name()).collect();
    let status = if retiring {
        "retiring".to_string()
    } else if names.is_empty() {
        "ok".to_string()
    } else {
        names.join(", ")
    };
    let expires = if key.expires_at.is_some() {
        day(key.expires_at)
    } else {
        "never".into()
    };
    format!(
        "created {}, expires {expires}, {status}",
        day(key.created_at)
    )
}

/// A tick at each 1 January inside the axis (every other year or more when they crowd).
fn year_ticks(axis: &Axis) -> Vec<(f64, String)> {
    use chrono::Datelike;
    let year = |s: i64| DateTime::from_timestamp(s, 0).map(|t| t.year());
    let (Some(first), Some(last)) = (year(axis.start), year(axis.end)) else {
        return Vec::new();
    };
    let step = usize::try_from((last - first) / 8 + 1).unwrap_or(1);
    (first.saturating_add(1)..=last)
        .step_by(step)
        .filter_map(|y| chrono::NaiveDate::from_ymd_opt(y, 1, 1))
        .filter_map(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| (axis.x(t.and_utc().timestamp()), t.format("%Y").to_string()))
        .collect()
}

const STYLE: &str = r#"
:root { --ok:#2e7d32; --expired:#c62828; --expiring:#ef6c00; --no-expiry:#6a1b9a; --too-old:#ad1457; --disabled:#616161; --retiring:#1565c0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#1f2328; background:#f6f8fa; margin:0; padding:24px 32px; }
h1 { margin:0 0 2px; font-size:26px; }
h2 { font-size:19px; margin:0 0 8px; }
h3 { font-size:15px; margin:18px 0 6px; }
.when { color:#57606a; margin:0 0 18px; }
section { background:#fff; border:1px solid #d0d7de; border-radius:8px; padding:16px 20px; margin:0 0 18px; overflow-x:auto; }
.cards { display:flex; gap:12px; flex-wrap:wrap; margin-bottom:14px; }
.card { border:1px solid #d0d7de; border-radius:8px; padding:8px 16px; min-width:150px; border-left:5px solid #8c959f; }
.card b { display:block; font-size:24px; }
.card span { color:#57606a; }
.row { display:flex; gap:48px; flex-wrap:wrap; align-items:flex-start; }
.card.good { border-left-color:var(--ok); }
.card.bad { border-left-color:var(--expired); }
table { border-collapse:collapse; }
th, td { text-align:left; padding:4px 10px; border-bottom:1px solid #eaeef2; vertical-align:top; }
th { background:#f6f8fa; font-weight:600; }
td.num, th.num { text-align:right; }
table.keys { width:100%; margin-top:8px; }
table.keys td:first-child, table.keys td:nth-child(2) { word-break:break-all; max-width:320px; }
.badge { display:inline-block; padding:0 8px; border-radius:10px; color:#fff; font-size:12px; font-weight:600; white-space:nowrap; background:#8c959f; }
.badge.ok { background:var(--ok); } .badge.expired { background:var(--expired); } .badge.expiring { background:var(--expiring); }
.badge.no-expiry { background:var(--no-expiry); } .badge.too-old { background:var(--too-old); } .badge.disabled { background:var(--disabled); }
.badge.retiring { background:var(--retiring); }
.vendor { font-size:13px; font-weight:normal; color:#57606a; border:1px solid #d0d7de; border-radius:10px; padding:0 8px; }
.failures li, .failed { color:var(--expired); word-break:break-all; }
.note { color:#57606a; font-style:italic; }
dl.policy { display:grid; grid-template-columns:max-content auto; gap:2px 16px; margin:0; }
dl.policy dt { color:#57606a; } dl.policy dd { margin:0; font-weight:600; }
figure { margin:8px 0 4px; }
svg { max-width:100%; height:auto; font-size:11px; }
svg .grid { stroke:#eaeef2; }
svg .tick { fill:#57606a; }
svg .label { fill:#1f2328; font-family:ui-monospace, monospace; }
svg .mark { fill:#fff; font-size:10px; font-weight:600; }
svg .bar { fill:#8c959f; } svg .bar.ok { fill:var(--ok); } svg .bar.expired { fill:var(--expired); } svg .bar.expiring { fill:var(--expiring); }
svg .bar.no-expiry { fill:var(--no-expiry); } svg .bar.too-old { fill:var(--too-old); } svg .bar.disabled { fill:var(--disabled); } svg .bar.retiring { fill:var(--retiring); }
svg line.today { stroke:#cf222e; stroke-width:2; stroke-dasharray:4 3; }
svg text.today { fill:#cf222e; font-weight:600; }
.legend { list-style:none; padding:0; margin:6px 0 0; display:flex; flex-wrap:wrap; gap:6px 16px; color:#57606a; font-size:12px; }
.todaykey { display:inline-block; width:0; height:12px; border-left:2px dashed #cf222e; vertical-align:middle; }
footer { color:#57606a; font-size:12px; }
"#;
