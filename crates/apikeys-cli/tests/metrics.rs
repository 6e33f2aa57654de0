//! `apikeys audit --format openmetrics [--output FILE]`: the audit as Prometheus metrics.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use apikeys_sandbox::{SeedKey, Vendor};
use chrono::{DateTime, Duration, Utc};
use common::accounts::Fixture;
use common::openmetrics::{Sample, parse, promtool_complaint};
use common::{apikeys, text};
use serde_json::Value;

/// A sandbox whose every vendor holds a key of each finding it can hold (as `audit
/// --sandbox` seeds them), and the policy flags that find them.
fn seeded() -> Fixture {
    let f = Fixture::start();
    let now = Utc::now();
    for &vendor in Vendor::ALL {
        let fields = vendor.key_fields();
        let mut keys = vec![SeedKey::new("old").created_at(now - Duration::days(400))];
        if fields.expires {
            keys.push(
                SeedKey::new("expired")
                    .created_at(now - Duration::days(2))
                    .expires_at(now - Duration::days(1)),
            );
            keys.push(
                SeedKey::new("expiring")
                    .created_at(now - Duration::days(2))
                    .expires_at(now + Duration::days(3)),
            );
        }
        if fields.disables {
            keys.push(SeedKey::new("disabled").enabled(false));
        }
        f.sandbox.seed(vendor, keys).unwrap();
    }
    f
}

const POLICY: [&str; 6] = [
    "--max-age",
    "90d",
    "--expiring-within",
    "14d",
    "--require-expiry",
    "--disabled-keys",
];

fn timestamp(value: &Value) -> Option<String> {
    value.as_str().map(|t| {
        DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp()
            .to_string()
    })
}

/// The samples of `name`, by (account, key_id) and then finding.
fn by_key(samples: &[Sample], name: &str) -> BTreeMap<(String, String, String), String> {
    samples
        .iter()
        .filter(|s| s.name == name)
        .map(|s| {
            let key = (
                s.label("account").to_string(),
                s.label("key_id").to_string(),
                s.label("finding").to_string(),
            );
            (key, s.value.clone())
        })
        .collect()
}

#[test]
fn the_series_say_what_the_json_records_say() {
    let f = seeded();
    let config = f.every_vendor();
    let out = f
        .audit(&config)
        .args(["--all", "--json"])
        .args(POLICY)
        .assert()
        .code(7);
    let records: Vec<Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let out = f
        .audit(&config)
        .args(["--format", "openmetrics"])
        .args(POLICY)
        .assert()
        .code(7);
    let document = text(&out.get_output().stdout);
    assert!(text(&out.get_output().stderr).starts_with("audit: "));
    let samples = parse(&document);
    if let Some(complaint) = promtool_complaint(&document) {
        panic!("promtool check metrics: {complaint}\n{document}");
    }

    // Every key series carries the four labels, its name as the JSON gives it.
    let mut expiry = BTreeMap::new();
    let mut created = BTreeMap::new();
    let mut enabled = BTreeMap::new();
    let mut findings = BTreeMap::new();
    for r in &records {
        let account = r["account"].as_str().unwrap().to_string();
        let id = r["id"].as_str().unwrap().to_string();
        let key = |finding: &str| (account.clone(), id.clone(), finding.to_string());
        if let Some(at) = timestamp(&r["expires_at"]) {
            expiry.insert(key(""), at);
        }
        if let Some(at) = timestamp(&r["created_at"]) {
            created.insert(key(""), at);
        }
        if let Some(on) = r["enabled"].as_bool() {
            enabled.insert(key(""), if on { "1" } else { "0" }.to_string());
        }
        for finding in r["findings"].as_array().unwrap() {
            findings.insert(key(finding.as_str().unwrap()), "1".to_string());
        }
        let name = r["name"].as_str().unwrap_or_default();
        for sample in samples.iter().filter(|s| s.label("key_id") == id) {
            assert_eq!(sample.label("key_name"), name, "{sample:?}");
            assert_eq!(sample.label("vendor"), r["vendor"].as_str().unwrap());
        }
    }
    assert_eq!(
        by_key(&samples, "apikeys_key_expiry_timestamp_seconds"),
        expiry
    );
    assert_eq!(
        by_key(&samples, "apikeys_key_created_timestamp_seconds"),
        created
    );
    assert_eq!(by_key(&samples, "apikeys_key_enabled"), enabled);
    assert_eq!(by_key(&samples, "apikeys_key_finding"), findings);
    let names: BTreeSet<&str> = findings.keys().map(|(_, _, f)| f.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["disabled", "expired", "expiring", "no-expiry", "too-old"])
    );

    // One series per account: up, its key count, when and how long.
    for &vendor in Vendor::ALL {
        let of = |name: &str| {
            let found: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.name == name && s.label("account") == vendor.name())
                .collect();
            assert_eq!(found.len(), 1, "{name} {vendor}: {document}");
            assert_eq!(found[0].label("vendor"), vendor.name());
            found[0].value.clone()
        };
        assert_eq!(of("apikeys_account_up"), "1");
        let keys = records
            .iter()
            .filter(|r| r["account"] == vendor.name())
            .count();
        assert_eq!(of("apikeys_account_keys"), keys.to_string());
        let success: i64 = of("apikeys_account_last_success_timestamp_seconds")
            .parse()
            .unwrap();
        assert!((Utc::now().timestamp() - success).abs() < 120, "{success}");
        let took: f64 = of("apikeys_account_audit_duration_seconds")
            .parse()
            .unwrap();
        assert!((0.0..60.0).contains(&took), "{took}");
    }
    let build: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "apikeys_exporter_build_info")
        .collect();
    assert_eq!(build.len(), 1);
    assert_eq!(build[0].label("version"), env!("CARGO_PKG_VERSION"));
    // The exporter's own series are the exporter's.
    assert!(!document.contains("apikeys_exporter_audit"), "{document}");
    assert!(document.contains("# TYPE apikeys_key_finding gauge\n"));
}

#[test]
fn a_failed_account_is_down_without_keys_and_no_credential_shows() {
    let f = Fixture::start();
    let config = f.every_vendor() + &f.account(Vendor::Nuki, "refused", "WRONG_KEY");
    let out = f
        .audit(&config)
        .args(["--format", "openmetrics"])
        .env("WRONG_KEY", "wrong-canary-credential")
        .assert()
        .code(8);
    let document = text(&out.get_output().stdout);
    let stderr = text(&out.get_output().stderr);
    assert!(!document.contains("wrong-canary-credential"));
    assert!(!stderr.contains("wrong-canary-credential"));
    for &vendor in Vendor::ALL {
        let secret = f.sandbox.credential(vendor);
        assert!(!document.contains(secret.expose_secret()), "{vendor}");
    }
    let samples = parse(&document);
    let refused: BTreeMap<&str, &str> = samples
        .iter()
        .filter(|s| s.label("account") == "refused")
        .map(|s| (s.name.as_str(), s.value.as_str()))
        .collect();
    // Down, how long it took to fail, and nothing about keys it could not list.
    assert_eq!(
        refused.keys().copied().collect::<Vec<_>>(),
        [
            "apikeys_account_audit_duration_seconds",
            "apikeys_account_up"
        ]
    );
    assert_eq!(refused["apikeys_account_up"], "0");
    assert!(promtool_complaint(&document).is_none());
}

#[test]
fn hostile_key_names_stay_inside_their_label() {
    let f = Fixture::start();
    let long = "x".repeat(500);
    let names = [
        "quote\" } apikeys_account_up 1",
        "back\\slash\\",
        "new\nline",
        "brace} {",
        "esc\u{1b}[31m\u{202e}",
        long.as_str(),
    ];
    f.sandbox
        .seed(Vendor::ThingsBoard, names.iter().map(|n| SeedKey::new(*n)))
        .unwrap();
    let config = f.account(Vendor::ThingsBoard, "tb", "KEY_THINGSBOARD");
    let out = f
        .audit(&config)
        .args(["--format", "openmetrics"])
        .assert()
        .code(0);
    let document = text(&out.get_output().stdout);
    if let Some(complaint) = promtool_complaint(&document) {
        panic!("promtool check metrics: {complaint}\n{document}");
    }
    let samples = parse(&document);
    let shown: BTreeSet<&str> = samples
        .iter()
        .filter(|s| s.name == "apikeys_key_created_timestamp_seconds")
        .map(|s| s.label("key_name"))
        .collect();
    // Quotes, backslashes and braces are escaped by the encoder and read back as they
    // were; control and bidi characters are shown as escapes; a long name is cut.
    for expected in [
        "quote\" } apikeys_account_up 1",
        "back\\slash\\",
        "new\\u{a}line",
        "brace} {",
        "esc\\u{1b}[31m\\u{202e}",
    ] {
        assert!(shown.contains(expected), "{expected:?} in {shown:?}");
    }
    let cut = format!("{}…", "x".repeat(127));
    assert!(shown.contains(cut.as_str()), "{shown:?}");
    assert!(
        !document.chars().any(|c| c.is_control() && c != '\n'),
        "{document:?}"
    );
    // Only the real series: the name that mimics one stayed inside its label.
    assert_eq!(
        samples
            .iter()
            .filter(|s| s.name == "apikeys_account_up")
            .count(),
        1
    );
}

#[test]
fn output_replaces_the_file_atomically_and_refuses_a_link() {
    let f = Fixture::start();
    let config = f.account(Vendor::Balena, "b", "KEY_BALENA");
    let dir = f.dir.join("textfile");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("apikeys.prom");
    std::fs::write(&file, "old\n").unwrap();
    let before = std::fs::metadata(&file).unwrap().ino();
    let path = f.write("config.toml", &config);
    // Under a umask that would leave the file unreadable to node_exporter's user.
    let script = format!(
        "umask 077; exec \"$0\" audit --config '{}' --format openmetrics --output '{}'",
        path.display(),
        file.display()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(assert_cmd::cargo::cargo_bin("apikeys"))
        .env(
            "KEY_BALENA",
            f.sandbox.credential(Vendor::Balena).expose_secret(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "the document went to the file");
    assert!(text(&out.stderr).starts_with("audit: "));
    let metadata = std::fs::metadata(&file).unwrap();
    assert_eq!(metadata.permissions().mode() & 0o777, 0o644);
    assert_ne!(
        metadata.ino(),
        before,
        "a new file renamed over the old one"
    );
    let document = std::fs::read_to_string(&file).unwrap();
    assert!(
        parse(&document)
            .iter()
            .any(|s| s.name == "apikeys_account_up" && s.value == "1")
    );
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");

    // A planted link is refused, not followed: its target is untouched.
    let target = f.dir.join("target");
    std::fs::write(&target, "mine\n").unwrap();
    let link = dir.join("link.prom");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = f
        .audit(&config)
        .args(["--format", "openmetrics", "--output"])
        .arg(&link)
        .assert()
        .code(2);
    assert!(text(&out.get_output().stderr).contains("is a symbolic link"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine\n");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    // A directory is refused too; --output works for the other formats.
    f.audit(&config)
        .args(["--format", "openmetrics", "--output"])
        .arg(&dir)
        .assert()
        .code(2);
    let csv = dir.join("keys.csv");
    f.audit(&config)
        .args(["--csv", "--all", "--output"])
        .arg(&csv)
        .assert()
        .code(0)
        .stdout("");
    assert!(
        std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("account,vendor,id")
    );
}

#[test]
fn conflicting_format_flags_are_invalid_input() {
    for flags in [
        &["--format", "openmetrics", "--json"][..],
        &["--format", "table", "--csv"],
        &["--json", "--csv"],
        &["--format", "yaml"],
    ] {
        apikeys()
            .args(["audit", "--sandbox"])
            .args(flags)
            .assert()
            .code(2);
    }
    // Agreeing ones are not.
    let out = apikeys()
        .args(["audit", "--sandbox", "--format", "json", "--json"])
        .assert()
        .code(7);
    let _: Vec<Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
}
