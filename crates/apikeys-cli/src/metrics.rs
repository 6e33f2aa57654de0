//! The audit as Prometheus metrics, in the OpenMetrics text format: what
//! `audit --format openmetrics` writes and `apikeys exporter` serves.
//!
//! [`encode`] is a function of a plain [`Snapshot`], so a benchmark can call it on made-up
//! data. The text is written by the `prometheus-client` crate (the Prometheus project's
//! Rust client), which escapes label values; text a server or the config chose is first
//! neutralised ([`crate::output::sanitize`]) and bounded ([`MAX_LABEL_CHARS`]). Timestamps
//! are whole seconds from `chrono` times, whose range an `i64` always holds: no NaN, no
//! infinity, no panic. Every series is a gauge: Debian's promtool 2.42 reads the classic
//! text format, where an OpenMetrics counter's `_total` sample has no HELP and fails its
//! lint (and an `info` TYPE is refused), so freshness is a timestamp, not a counter. A key listed twice (a hostile server) is exported once: a repeated
//! series would make Prometheus refuse the whole scrape.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeGaugeValue, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::output;
use crate::policy::Finding;

/// The most characters of a label value taken from a server or the config; longer values are
/// cut and end in `…`.
pub const MAX_LABEL_CHARS: usize = 128;

/// Everything one document reports.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The accounts, in the config file's order.
    pub accounts: Vec<AccountMetrics>,
    /// The exporter's own series; `None` for `audit --format openmetrics`.
    pub exporter: Option<ExporterMetrics>,
}

/// One account of the config file.
#[derive(Clone, Debug)]
pub struct AccountMetrics {
    /// The account's name in the config file.
    pub account: String,
    /// The vendor's name.
    pub vendor: &'static str,
    /// Whether its last audit listed its keys.
    pub up: bool,
    /// When its keys were last listed.
    pub last_success: Option<DateTime<Utc>>,
    /// How long its last audit took; `None` before the first one ended.
    pub audit_duration: Option<Duration>,
    /// Its keys as last listed (kept when a later audit fails); `None` if never listed.
    pub keys: Option<Vec<KeyMetrics>>,
}

/// One key and what the policy found about it.
#[derive(Clone, Debug)]
pub struct KeyMetrics {
    pub id: String,
    pub name: Option<String>,
    /// Only where the vendor reports it.
    pub enabled: Option<bool>,
    pub created_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub findings: Vec<Finding>,
    /// When a key in a rotation's overlap is revoked.
    pub retiring_until: Option<DateTime<Utc>>,
}

/// The exporter's own state.
#[derive(Clone, Debug)]
pub struct ExporterMetrics {
    /// The configured `--interval`.
    pub interval: Duration,
    /// When the last audit finished; `None` before the first.
    pub last_audit: Option<DateTime<Utc>>,
}

/// The snapshot as an OpenMetrics text document, `# EOF` included.
pub fn encode(snapshot: &Arc<Snapshot>) -> Result<String, fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Series(Arc::clone(snapshot))));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}

/// The snapshot as the registry's one collector.
#[derive(Debug)]
struct Series(Arc<Snapshot>);

/// A key's labels: account, vendor, key_id, key_name.
type KeyLabels<'a> = [(&'static str, &'a str); 4];

/// The label set of a series without labels.
const NO_LABELS: [(&str, &str); 0] = [];

impl Collector for Series {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let snapshot = &self.0;
        let accounts = accounts(snapshot);
        let keys = keys(&accounts);
        let e = &mut encoder;

        gauges(
            e,
            "apikeys_exporter_build_info",
            "The apikeys version that wrote these metrics.",
            [([("version", env!("CARGO_PKG_VERSION"))], 1)],
        )?;
        if let Some(exporter) = &snapshot.exporter {
            gauges(
                e,
                "apikeys_exporter_audit_interval_seconds",
                "How often the exporter audits every account (--interval).",
                [(NO_LABELS, seconds(exporter.interval))],
            )?;
            gauges(
                e,
                "apikeys_exporter_last_audit_timestamp_seconds",
                "When the exporter's last audit finished.",
                exporter.last_audit.map(|at| (NO_LABELS, at.timestamp())),
            )?;
        }

        gauges(
            e,
            "apikeys_account_up",
            "1 if the account's keys were listed by its last audit, else 0.",
            accounts
                .iter()
                .map(|a| (a.labels(), i64::from(a.metrics.up))),
        )?;
        gauges(
            e,
            "apikeys_account_keys",
            "How many keys the account had when they were last listed.",
            accounts.iter().filter_map(|a| {
                let count = a.metrics.keys.as_ref()?.len();
                Some((a.labels(), i64::try_from(count).unwrap_or(i64::MAX)))
            }),
        )?;
        gauges(
            e,
            "apikeys_account_last_success_timestamp_seconds",
            "When the account's keys were last listed.",
            accounts
                .iter()
                .filter_map(|a| Some((a.labels(), a.metrics.last_success?.timestamp()))),
        )?;
        gauges(
            e,
            "apikeys_account_audit_duration_seconds",
            "How long the account's last audit took.",
            accounts
                .iter()
                .filter_map(|a| Some((a.labels(), seconds(a.metrics.audit_duration?)))),
        )?;

        gauges(
            e,
            "apikeys_key_expiry_timestamp_seconds",
            "When the key expires (absent for a key that never expires).",
            keys.iter()
                .filter_map(|k| Some((k.labels(), k.metrics.expires_at?.timestamp()))),
        )?;
        gauges(
            e,
            "apikeys_key_created_timestamp_seconds",
            "When the key was created (absent where the vendor does not say).",
            keys.iter()
                .filter_map(|k| Some((k.labels(), k.metrics.created_at?.timestamp()))),
        )?;
        gauges(
            e,
            "apikeys_key_enabled",
            "1 if the key is enabled, 0 if disabled (only where the vendor reports it).",
            keys.iter()
                .filter_map(|k| Some((k.labels(), i64::from(k.metrics.enabled?)))),
        )?;
        gauges(
            e,
            "apikeys_key_finding",
            "1 for each finding of the policy about the key: expired, expiring, no-expiry, \
             too-old, disabled.",
            keys.iter().flat_map(|k| {
                k.metrics.findings.iter().map(move |f| {
                    let [account, vendor, id, name] = k.labels();
                    ([account, vendor, id, name, ("finding", f.name())], 1)
                })
            }),
        )?;
        gauges(
            e,
            "apikeys_key_retiring_until_timestamp_seconds",
            "When a key replaced by a rotation is revoked (it works until then).",
            keys.iter()
                .filter_map(|k| Some((k.labels(), k.metrics.retiring_until?.timestamp()))),
        )?;
        Ok(())
    }
}

/// An account with its label values made safe, once per document.
struct Prepared<'a> {
    account: String,
    vendor: &'static str,
    metrics: &'a AccountMetrics,
}

impl Prepared<'_> {
    fn labels(&self) -> [(&'static str, &str); 2] {
        [("account", &self.account), ("vendor", self.vendor)]
    }
}

/// The accounts with safe labels; an account whose labels repeat an earlier one's (two
/// names alike once bounded) is left out.
fn accounts(snapshot: &Snapshot) -> Vec<Prepared<'_>> {
    let mut seen = BTreeSet::new();
    snapshot
        .accounts
        .iter()
        .map(|a| Prepared {
            account: label(&a.account),
            vendor: a.vendor,
            metrics: a,
        })
        .filter(|a| seen.insert((a.account.clone(), a.vendor)))
        .collect()
}

/// A key with its label values made safe.
struct PreparedKey<'a> {
    account: &'a Prepared<'a>,
    id: String,
    name: String,
    metrics: &'a KeyMetrics,
}

impl PreparedKey<'_> {
    fn labels(&self) -> KeyLabels<'_> {
        [
            ("account", &self.account.account),
            ("vendor", self.account.vendor),
            ("key_id", &self.id),
            ("key_name", &self.name),
        ]
    }
}

/// Every key with safe labels; a key whose account and id repeat an earlier one's is left
/// out (its series would repeat).
fn keys<'a>(accounts: &'a [Prepared<'a>]) -> Vec<PreparedKey<'a>> {
    let mut seen = BTreeSet::new();
    let mut keys = Vec::new();
    for account in accounts {
        for key in account.metrics.keys.iter().flatten() {
            let id = label(&key.id);
            if seen.insert((account.account.as_str(), account.vendor, id.clone())) {
                keys.push(PreparedKey {
                    account,
                    id,
                    name: key.name.as_deref().map(label).unwrap_or_default(),
                    metrics: key,
                });
            }
        }
    }
    keys
}

/// Server or config text as a label value: hostile characters shown as escapes, at most
/// [`MAX_LABEL_CHARS`] characters.
fn label(text: &str) -> String {
    output::sanitize_bounded(text, MAX_LABEL_CHARS)
}

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

/// One gauge family: its HELP and TYPE, then a sample per series.
fn gauges<L, V>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (L, V)>,
) -> Result<(), fmt::Error>
where
    L: prometheus_client::encoding::EncodeLabelSet,
    V: EncodeGaugeValue,
{
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in series {
        ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, name: &str) -> KeyMetrics {
        KeyMetrics {
            id: id.into(),
            name: Some(name.into()),
            enabled: Some(true),
            created_at: Some(DateTime::<Utc>::MIN_UTC),
            expires_at: Some(DateTime::<Utc>::MAX_UTC),
            findings: vec![Finding::Expiring, Finding::TooOld],
            retiring_until: None,
        }
    }

    #[test]
    fn repeated_keys_are_exported_once_and_extreme_times_are_plain_numbers() {
        let long = "k".repeat(300);
        let snapshot = Arc::new(Snapshot {
            accounts: vec![AccountMetrics {
                account: "a".into(),
                vendor: "nuki",
                up: false,
                last_success: None,
                audit_duration: Some(Duration::from_millis(1500)),
                // The same id twice, and two ids alike in their first 128 characters.
                keys: Some(vec![
                    key("1", "first"),
                    key("1", "again"),
                    key(&format!("{long}1"), "x"),
                    key(&format!("{long}2"), "y"),
                ]),
            }],
            exporter: Some(ExporterMetrics {
                interval: Duration::from_secs(1800),
                last_audit: None,
            }),
        });
        let text = encode(&snapshot).unwrap();
        let expiry: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("apikeys_key_expiry_timestamp_seconds{"))
            .collect();
        assert_eq!(expiry.len(), 2, "{text}");
        assert!(expiry[0].contains("key_name=\"first\""), "{text}");
        assert!(
            expiry[0].ends_with(&format!(" {}", DateTime::<Utc>::MAX_UTC.timestamp())),
            "{text}"
        );
        assert_eq!(text.matches("apikeys_key_finding{").count(), 4, "{text}");
        // Gauges only: promtool 2.42's classic parser fails an OpenMetrics counter's lint.
        assert_eq!(
            text.matches("\n# TYPE ").count(),
            text.matches(" gauge\n").count(),
            "{text}"
        );
        assert!(
            text.contains("\napikeys_exporter_audit_interval_seconds 1800.0\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "\napikeys_account_audit_duration_seconds{account=\"a\",vendor=\"nuki\"} 1.5\n"
            ),
            "{text}"
        );
        assert!(
            !text.contains("\napikeys_exporter_last_audit_timestamp_seconds "),
            "{text}"
        );
        assert!(!text.contains("NaN") && !text.contains("Inf"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    use proptest::prelude::*;

    /// Any time chrono can hold, or none.
    fn time() -> impl Strategy<Value = Option<DateTime<Utc>>> {
        let (min, max) = (
            DateTime::<Utc>::MIN_UTC.timestamp(),
            DateTime::<Utc>::MAX_UTC.timestamp(),
        );
        proptest::option::of((min..=max).prop_filter_map("in chrono's range", |secs| {
            DateTime::from_timestamp(secs, 0)
        }))
    }

    fn any_key() -> impl Strategy<Value = KeyMetrics> {
        (
            any::<String>(),
            proptest::option::of(any::<String>()),
            proptest::option::of(any::<bool>()),
            time(),
            time(),
            proptest::sample::subsequence(
                vec![
                    Finding::Expired,
                    Finding::Expiring,
                    Finding::NoExpiry,
                    Finding::TooOld,
                    Finding::Disabled,
                ],
                0..=5,
            ),
            time(),
        )
            .prop_map(
                |(id, name, enabled, created_at, expires_at, findings, retiring_until)| {
                    KeyMetrics {
                        id,
                        name,
                        enabled,
                        created_at,
                        expires_at,
                        findings,
                        retiring_until,
                    }
                },
            )
    }

    proptest! {
        /// Whatever names, ids and times servers send, the document is well formed: one
        /// sample per line with a finite value, no control character but the line breaks,
        /// no label value longer than the bound, and the end marker.
        #[test]
        fn any_server_text_and_times_make_a_well_formed_document(
            account in any::<String>(),
            up in any::<bool>(),
            keys in proptest::collection::vec(any_key(), 0..8),
            last_success in time(),
        ) {
            let count = keys.len();
            let snapshot = Arc::new(Snapshot {
                accounts: vec![AccountMetrics {
                    account,
                    vendor: "nuki",
                    up,
                    last_success,
                    audit_duration: Some(Duration::from_millis(1)),
                    keys: Some(keys),
                }],
                exporter: None,
            });
            let text = encode(&snapshot).unwrap();
            prop_assert!(text.ends_with("# EOF\n"));
            prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
            let mut expiries = 0;
            for line in text.lines().filter(|line| !line.starts_with('#')) {
                let (series, value) = line.rsplit_once(' ').unwrap();
                let value: f64 = value.parse().unwrap();
                prop_assert!(value.is_finite(), "{line}");
                prop_assert!(series.ends_with('}') || !series.contains('{'), "{line}");
                // Each label value (between `="` and the next unescaped `"`) is bounded.
                for value in series.split("=\"").skip(1) {
                    let mut chars = 0;
                    let mut escaped = false;
                    for c in value.chars() {
                        match (escaped, c) {
                            (false, '"') => break,
                            (false, '\\') => escaped = true,
                            _ => {
                                escaped = false;
                                chars += 1;
                            }
                        }
                    }
                    prop_assert!(chars <= MAX_LABEL_CHARS, "{line}");
                }
                if series.starts_with("apikeys_key_expiry_timestamp_seconds{") {
                    expiries += 1;
                }
            }
            prop_assert!(expiries <= count);
        }
    }
}
