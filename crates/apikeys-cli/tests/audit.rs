//! `apikeys audit` against a sandbox started in the test, with config files written here.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use apikeys_sandbox::{SeedKey, Vendor};
use chrono::{Duration, Utc};
use common::accounts::Fixture;
use common::{apikeys, text};
use predicates::prelude::*;
use serde_json::Value;

/// The binary, with no `APIKEYS_*` variable of the caller's leaking in.
/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_clean_audit_of_every_vendor_exits_0_in_every_format() {
    let f = Fixture::start();
    let config = f.every_vendor();
    // The seeded keys have no expiry, so only `expired` (always checked) could be found.
    let out = f.audit(&config).assert().code(0);
    let stdout = text(&out.get_output().stdout);
    for &vendor in Vendor::ALL {
        assert!(
            stdout.contains(&format!("{0} ({0}): ", vendor.name())),
            "{vendor}: {stdout}"
        );
    }
    let summary = stdout.lines().last().unwrap();
    assert!(summary.starts_with("audit: "), "{summary}");
    // issue 23, part 2: one account per vendor of the table.
    let accounts = format!(" in {} accounts; no findings", Vendor::ALL.len());
    assert!(summary.contains(&accounts), "{summary}");

    // --all --json: every key, as listed through the crates.
    let out = f.audit(&config).args(["--all", "--json"]).assert().code(0);
    let records: Vec<Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let vendors: BTreeSet<&str> = records
        .iter()
        .map(|r| r["vendor"].as_str().unwrap())
        .collect();
    assert_eq!(vendors.len(), Vendor::ALL.len(), "{records:?}");
    for record in &records {
        for field in [
            "account",
            "vendor",
            "id",
            "name",
            "enabled",
            "created_at",
            "expires_at",
            "age_days",
            "findings",
        ] {
            assert!(record.get(field).is_some(), "{field}: {record}");
        }
        assert_eq!(record["findings"], serde_json::json!([]));
    }
    let summary: Value = serde_json::from_slice(&out.get_output().stderr).unwrap();
    assert_eq!(summary["summary"]["keys"], records.len());
    assert_eq!(summary["summary"]["keys_with_findings"], 0);

    // --all --csv: a header and the same records.
    let out = f.audit(&config).args(["--all", "--csv"]).assert().code(0);
    let csv = text(&out.get_output().stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "account,vendor,id,name,enabled,created_at,expires_at,age_days,findings,retiring_until"
        )
    );
    assert_eq!(lines.count(), records.len());
    assert!(text(&out.get_output().stderr).starts_with("audit: "));
}

/// What each vendor's keys can hold, from the vendor table (the sandbox refuses the rest,
/// as the vendor would).
fn can(vendor: Vendor) -> Vec<&'static str> {
    let fields = vendor.key_fields();
    let mut can = vec!["old"];
    if fields.expires {
        can.extend(["expired", "expiring"]);
    }
    if fields.disables {
        can.push("disabled");
    }
    can
}

#[test]
fn an_audit_finds_each_finding_type_in_each_vendor() {
    let f = Fixture::start();
    let now = Utc::now();
    for &vendor in Vendor::ALL {
        let keys = can(vendor).into_iter().map(|name| match name {
            "old" => SeedKey::new("old").created_at(now - Duration::days(365)),
            "expired" => SeedKey::new("expired")
                .created_at(now - Duration::days(2))
                .expires_at(now - Duration::days(1)),
            "expiring" => SeedKey::new("expiring")
                .created_at(now - Duration::days(2))
                .expires_at(now + Duration::days(3)),
            _ => SeedKey::new("disabled")
                .created_at(now - Duration::days(2))
                .expires_at(now + Duration::days(300))
                .enabled(false),
        });
        f.sandbox.seed(vendor, keys).unwrap();
    }
    let out = f
        .audit(&f.every_vendor())
        .args(["--json", "--max-age", "90d", "--expiring-within", "14d"])
        .args(["--require-expiry", "--disabled-keys"])
        .assert()
        .code(7);
    let records: Vec<Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let found: BTreeMap<(String, String), Vec<String>> = records
        .iter()
        .map(|r| {
            let findings = r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            let name = r["name"].as_str().unwrap_or_default().to_string();
            ((r["vendor"].as_str().unwrap().to_string(), name), findings)
        })
        .collect();
    for &vendor in Vendor::ALL {
        let of = |name: &str| found.get(&(vendor.name().to_string(), name.to_string()));
        for name in can(vendor) {
            let expected: &[&str] = match name {
                // No expiry either.
                "old" => &["no-expiry", "too-old"],
                "expired" => &["expired"],
                "expiring" => &["expiring"],
                _ => &["disabled"],
            };
            assert_eq!(
                of(name).map(Vec::as_slice),
                Some(&expected.iter().map(|s| s.to_string()).collect::<Vec<_>>()[..]),
                "{vendor} {name}: {records:#?}"
            );
        }
    }
    let summary: Value = serde_json::from_slice(&out.get_output().stderr).unwrap();
    for finding in ["expired", "expiring", "no-expiry", "too-old", "disabled"] {
        assert!(
            summary["summary"]["findings"][finding].as_u64().unwrap() >= 1,
            "{finding}: {summary}"
        );
    }

    // The table shows the same, one account at a time, and only keys with findings.
    let out = f
        .audit(&f.every_vendor())
        .args(["--max-age", "90d", "--expiring-within", "14d"])
        .assert()
        .code(7);
    let stdout = text(&out.get_output().stdout);
    assert!(stdout.contains("finding"), "{stdout}");
    assert!(stdout.contains("too-old"), "{stdout}");
    assert!(stdout.contains("365d"), "{stdout}");
    // Without the flags, the file's [policy] applies; flags turn it off again.
    let with_policy = format!("[policy]\nmax-age = \"90d\"\n\n{}", f.every_vendor());
    f.audit(&with_policy).assert().code(7);
    f.audit(&with_policy)
        .args(["--max-age", "1000d"])
        .assert()
        .code(7); // still `expired` ones
}

#[test]
fn audit_sandbox_finds_every_seeded_finding_in_every_vendor_without_a_config() {
    let out = apikeys()
        .args(["audit", "--sandbox", "--json"])
        .assert()
        .code(7);
    let records: Vec<Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for record in &records {
        let name = record["name"].as_str().unwrap_or_default();
        if let Some(seeded) = name.strip_prefix("audit-") {
            let findings: Vec<&str> = record["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            let expected = match seeded {
                "old" => "too-old",
                "disabled" => "disabled",
                other => other,
            };
            assert!(findings.contains(&expected), "{record}");
            found
                .entry(record["vendor"].as_str().unwrap().to_string())
                .or_default()
                .insert(expected.to_string());
        }
    }
    // Every vendor that can hold a finding shows it.
    for &vendor in Vendor::ALL {
        let expected: BTreeSet<String> = can(vendor)
            .iter()
            .map(|&name| if name == "old" { "too-old" } else { name }.to_string())
            .collect();
        assert_eq!(found.get(vendor.name()), Some(&expected), "{vendor}");
    }
    // A config and the sandbox are one source too many.
    apikeys()
        .args(["audit", "--sandbox", "--config", "x.toml"])
        .assert()
        .code(2);
}

#[test]
fn an_account_that_cannot_be_audited_exits_8_and_the_others_are_reported() {
    let f = Fixture::start();
    let mut config = f.every_vendor();
    config += &f.account(Vendor::Nuki, "refused", "WRONG_KEY");
    config += &format!(
        "[[account]]\nname = \"down\"\nvendor = \"balena\"\nbase-url = \"http://127.0.0.1:{}\"\n\
         credential = {{ env = \"WRONG_KEY\" }}\n",
        closed_port()
    );
    let out = f
        .audit(&config)
        .args(["--timeout", "5"])
        .env("WRONG_KEY", "wrong-canary-credential")
        .assert()
        .code(8)
        .stderr(predicate::str::contains("wrong-canary-credential").not())
        .stdout(predicate::str::contains("wrong-canary-credential").not());
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("apikeys: audit: account `refused` (nuki) could not be audited: the credential was refused"),
        "{stderr}"
    );
    assert!(
        stderr.contains("account `down` (balena) could not be audited: "),
        "{stderr}"
    );
    let stdout = text(&out.get_output().stdout);
    assert!(stdout.contains("refused (nuki): not audited"), "{stdout}");
    assert!(stdout.contains("thingsboard (thingsboard): "), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "in {} accounts (2 could not be audited)",
            Vendor::ALL.len() + 2
        )),
        "{stdout}"
    );

    // 8 wins over 7; with --json the failures are JSON on stderr.
    let out = f
        .audit(&config)
        .args(["--timeout", "5", "--json", "--require-expiry"])
        .env("WRONG_KEY", "wrong-canary-credential")
        .assert()
        .code(8);
    let records: Vec<Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(
        records
            .iter()
            .any(|r| r["findings"] == serde_json::json!(["no-expiry"]))
    );
    let errors: Vec<Value> = text(&out.get_output().stderr)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        errors
            .iter()
            .filter(|e| e["error"]["exit_code"].is_number())
            .count(),
        2,
        "{errors:?}"
    );
}

#[test]
fn credentials_come_from_a_file_or_a_command() {
    let f = Fixture::start();
    let key = f.sandbox.credential(Vendor::Nuki);
    let file = f.write("nuki.key", &format!("{}\n", key.expose_secret()));
    let account = |source: String| {
        f.account(Vendor::Nuki, "n", "UNUSED")
            .replace("{ env = \"UNUSED\" }", &source)
    };
    let from_file = account(format!("{{ file = \"{}\" }}", file.display()));
    f.audit(&from_file).assert().code(0);
    let from_command = account(format!("{{ command = \"cat '{}'\" }}", file.display()));
    f.audit(&from_command).assert().code(0);

    // A failing command, an empty output, a missing file: that account is not audited.
    for (source, says) in [
        ("{ command = \"exit 3\" }", "the credential command failed"),
        ("{ command = \"true\" }", "is empty"),
        (
            "{ file = \"/nonexistent/key\" }",
            "could not read the credential file",
        ),
        (
            "{ env = \"NOT_SET_ANYWHERE\" }",
            "NOT_SET_ANYWHERE is not set",
        ),
    ] {
        f.audit(&account(source.to_string()))
            .assert()
            .code(8)
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn config_errors_name_the_line_and_exit_2_before_any_request() {
    let f = Fixture::start();
    let good = f.account(Vendor::Automox, "a", "KEY_AUTOMOX");
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{good}colour = \"blue\"\n"),
            ":8: unknown field `colour`",
        ),
        (
            good.replace("vendor = \"automox\"", "vendor = \"automoxx\""),
            ":3: account `a`: vendor: unknown vendor; the vendors are thingsboard, sensorbucket, nuki, balena, automox",
        ),
        (
            good.replace(", user-id = ", ", nope = "),
            ":5: account `a`: scope: unknown field `nope`",
        ),
        (
            good.replace("scope = { org = ", "scope = { orgg = "),
            ":5: account `a`: scope: unknown field `orgg`",
        ),
        (
            format!("{good}{good}"),
            ":9: name: duplicate account name (first on line 1)",
        ),
        (
            format!("{good}[policy]\nmax-age = \"90 days\"\n"),
            ":9: policy max-age: ",
        ),
        (
            good.replace(
                "credential = { env = \"KEY_AUTOMOX\" }",
                "credential = \"ax-canary-secret\"",
            ),
            ":6: account `a`: a credential cannot be written in the config file",
        ),
        (
            good.replace(
                "credential = { env = \"KEY_AUTOMOX\" }",
                "api-key = \"ax-canary-secret\"",
            ),
            ":6: account `a`: a credential cannot be written in the config file",
        ),
        (
            good.replace(
                "credential = { env = \"KEY_AUTOMOX\" }",
                "credential = { value = \"ax-canary-secret\" }",
            ),
            ":6: account `a`: a credential cannot be written in the config file",
        ),
        (String::new(), "no [[account]]"),
    ];
    for (config, says) in cases {
        f.audit(&config)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says))
            .stderr(predicate::str::contains("ax-canary-secret").not())
            .stdout("");
    }
    // A missing scope field names the account's line.
    let thingsboard = f
        .account(Vendor::ThingsBoard, "tb", "KEY_THINGSBOARD")
        .lines()
        .filter(|line| !line.starts_with("scope"))
        .collect::<Vec<_>>()
        .join("\n");
    f.audit(&format!("{good}{thingsboard}"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "config.toml:8: account `tb`: scope: missing field `user-id`",
        ));
}

#[test]
fn the_config_file_defaults_to_the_xdg_directory_and_flags_are_checked() {
    let f = Fixture::start();
    let xdg = f.dir.join("xdg");
    std::fs::create_dir_all(xdg.join("apikeys")).unwrap();
    std::fs::write(
        xdg.join("apikeys/config.toml"),
        f.account(Vendor::Balena, "b", "KEY_BALENA"),
    )
    .unwrap();
    let run = |args: &[&str], xdg: &Path| {
        let mut cmd = apikeys();
        cmd.arg("audit").args(args).env("XDG_CONFIG_HOME", xdg).env(
            "KEY_BALENA",
            f.sandbox.credential(Vendor::Balena).expose_secret(),
        );
        cmd
    };
    run(&[], &xdg)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("b (balena): "));
    run(&[], &f.dir.join("nothing-here"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("could not read the config file"));
    for bad in [
        &["--concurrency", "0"][..],
        &["--concurrency", "65"],
        &["--max-age", "9999999999999999999w"],
        &["--json", "--csv"],
    ] {
        run(bad, &xdg).assert().code(2);
    }
}

#[test]
fn help_documents_the_audit_exit_codes() {
    apikeys()
        .args(["audit", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "7  audit: the policy found something",
        ))
        .stdout(predicate::str::contains(
            "8  audit: an account could not be audited",
        ))
        .stdout(predicate::str::contains("--expiring-within <DURATION>"));
}
