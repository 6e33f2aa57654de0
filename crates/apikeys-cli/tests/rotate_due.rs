//! `apikeys rotate --due`, run as a process against a sandbox started in the test: the plan,
//! the refusals, and a run killed with SIGKILL mid-rotation, then resumed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{Running, apikeys, tempdir};
use serde_json::Value;

/// A sandbox on its own runtime, with a config file whose one account is its ThingsBoard
/// user, and two keys of that account that expire tomorrow (due with --expiring-within 7d).
struct Fixture {
    sandbox: Running,
    dir: PathBuf,
    config: PathBuf,
    due: Vec<String>,
}

const POLICY: [&str; 2] = ["--expiring-within", "7d"];

impl Fixture {
    fn start() -> Fixture {
        let sandbox = Running::start();
        let dir = tempdir();
        std::fs::create_dir_all(dir.join("secrets")).unwrap();
        let config = dir.join("config.toml");
        common::thingsboard_config(&sandbox, &config, "TEST_TB_KEY");
        let mut fixture = Fixture {
            sandbox,
            dir,
            config,
            due: Vec::new(),
        };
        let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).to_rfc3339();
        for name in ["deploy", "backup"] {
            let out = fixture
                .vendor(&[
                    "create",
                    "--name",
                    name,
                    "--expires-at",
                    &tomorrow,
                    "--show-secret",
                    "--json",
                ])
                .assert()
                .success();
            let created: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
            fixture
                .due
                .push(created["key"]["id"].as_str().unwrap().to_string());
        }
        fixture
    }

    fn credential(&self) -> String {
        self.sandbox.thingsboard_key()
    }

    /// `apikeys thingsboard <args>` with the sandbox's credential.
    fn vendor(&self, args: &[&str]) -> Command {
        self.vendor_with(&self.credential(), args)
    }

    fn vendor_with(&self, key: &str, args: &[&str]) -> Command {
        self.sandbox.thingsboard(key, args)
    }

    /// `apikeys rotate <args> --config <the config>`.
    fn rotate(&self, args: &[&str]) -> Command {
        let mut cmd = apikeys();
        cmd.arg("rotate")
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("TEST_TB_KEY", self.credential());
        cmd
    }

    fn ids(&self) -> Vec<String> {
        self.sandbox.thingsboard_ids()
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never came",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn without_apply_the_plan_is_printed_and_nothing_changes() {
    let fixture = Fixture::start();
    let before = fixture.ids();
    let mut args = vec!["--due", "--json", "--concurrency", "1"];
    args.extend(POLICY);
    let out = fixture.rotate(&args).assert().success();
    let plan: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let mut planned: Vec<String> = plan["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    planned.sort();
    let mut due = fixture.due.clone();
    due.sort();
    assert_eq!(planned, due, "{plan}");
    assert_eq!(plan["plan"][0]["why"][0], "expiring", "{plan}");
    assert_eq!(fixture.ids(), before);
}

#[test]
fn apply_needs_exactly_one_sink_and_secret_cmd_a_journal_and_concurrency_is_bounded() {
    let fixture = Fixture::start();
    let secrets = fixture.path("secrets");
    for args in [
        vec!["--due", "--concurrency", "0"],
        vec!["--due", "--apply"],
        vec!["--due", "--apply", "--secret-cmd", "cat >/dev/null"],
        vec![
            "--due",
            "--apply",
            "--secret-dir",
            &secrets,
            "--secret-cmd",
            "true",
        ],
    ] {
        let mut args = args.clone();
        args.extend(POLICY);
        fixture.rotate(&args).assert().code(2);
    }
}

#[test]
fn a_failing_secret_cmd_exits_9_and_leaves_the_old_keys() {
    let fixture = Fixture::start();
    let before = fixture.ids();
    let journal = fixture.path("journal");
    let mut args = vec![
        "--due",
        "--apply",
        "--secret-cmd",
        "cat >/dev/null; exit 1",
        "--journal",
        &journal,
    ];
    args.extend(POLICY);
    let out = fixture.rotate(&args).assert().code(9);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("failed at deliver"), "{stdout}");
    assert_eq!(fixture.ids(), before, "old keys kept, new keys revoked");
}

#[test]
fn a_run_killed_with_sigkill_mid_rotation_resumes_to_one_rotation_per_key() {
    let fixture = Fixture::start();
    let before = fixture.ids();
    let journal = fixture.path("journal");
    let secrets = fixture.dir.join("secrets");
    // The first run's command takes the secret, says so, then hangs: the run is killed
    // while it delivers the first key.
    let hang = format!(
        "cat > /dev/null; echo $$ > '{pid}'; exec sleep 60",
        pid = fixture.path("pid")
    );
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("apikeys"));
    first
        .args([
            "rotate",
            "--due",
            "--apply",
            "--secret-cmd",
            &hang,
            "--journal",
            &journal,
        ])
        .args(POLICY)
        .arg("--config")
        .arg(&fixture.config)
        .env("TEST_TB_KEY", fixture.credential())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = first.spawn().unwrap();
    wait_for(&fixture.dir.join("pid"));
    // While it runs, a second run on the same journal refuses.
    let mut second = vec![
        "--resume",
        "--secret-cmd",
        "cat > /dev/null",
        "--journal",
        &journal,
    ];
    second.extend(POLICY);
    let out = fixture.rotate(&second).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("another `apikeys rotate` holds the journal"),
        "{stderr}"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let sleeper = std::fs::read_to_string(fixture.dir.join("pid")).unwrap();
    let _ = std::process::Command::new("kill")
        .arg(sleeper.trim())
        .status();

    // A fresh run finishes what the killed one left open before it plans anything, and
    // plans none of those keys again (issue 22: later runs finish what is due).
    let keep = format!("cat > '{}'/\"$APIKEYS_KEY_ID\".secret", secrets.display());
    let mut again = vec![
        "--due",
        "--apply",
        "--secret-cmd",
        &keep,
        "--journal",
        &journal,
        "--json",
    ];
    again.extend(POLICY);
    let out = fixture.rotate(&again).assert().success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let rotations = report["rotations"].as_array().unwrap();
    assert_eq!(rotations.len(), 2, "{report}");
    let mut expected: Vec<String> = before
        .iter()
        .filter(|id| !fixture.due.contains(id))
        .cloned()
        .collect();
    let journal_text = std::fs::read_to_string(&journal).unwrap();
    for rotation in rotations {
        assert_eq!(rotation["status"], "rotated", "{report}");
        let new = rotation["new"].as_str().unwrap();
        expected.push(new.to_string());
        let secret = std::fs::read_to_string(secrets.join(format!("{new}.secret"))).unwrap();
        let secret = secret.trim();
        assert!(!journal_text.contains(secret), "a secret in the journal");
        assert!(
            !report.to_string().contains(secret),
            "a secret in the report"
        );
        fixture
            .vendor_with(secret, &["get", new])
            .assert()
            .success();
    }
    expected.sort();
    assert_eq!(
        fixture.ids(),
        expected,
        "old keys revoked, nothing orphaned"
    );
    assert!(
        journal_text.contains(r#""step":"discarded""#),
        "{journal_text}"
    );
    let mut resume = vec!["--resume", "--secret-cmd", &keep, "--journal", &journal];
    resume.extend(POLICY);
    let out = fixture.rotate(&resume).assert().success();
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout).contains("nothing to resume"),
        "the fresh run finished everything"
    );
}

impl Fixture {
    /// The account's keys by id: (enabled, name).
    fn keys(&self) -> std::collections::BTreeMap<String, (Option<bool>, String)> {
        let out = self.vendor(&["list", "--json"]).assert().success();
        let keys: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        keys.as_array()
            .unwrap()
            .iter()
            .map(|k| {
                let id = k["id"].as_str().unwrap().to_string();
                let name = k["name"].as_str().unwrap_or_default().to_string();
                (id, (k["enabled"].as_bool(), name))
            })
            .collect()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(POLICY);
        all.push("--json");
        let out = self.rotate(&all).assert().success();
        serde_json::from_slice(&out.get_output().stdout).unwrap()
    }
}

// issue 22, overlap windows: the old key keeps working during the overlap, then a later
// run on another machine (no journal of the first: a fresh secret dir) finds the pending
// stage from the vendor's own data (the new key's tag), disables the old key, and a run
// after that revokes it. `audit` reports the old key as retiring, not as due.
#[test]
fn an_overlap_keeps_the_old_key_then_later_runs_anywhere_retire_it() {
    let fixture = Fixture::start();
    let first = fixture.dir.join("secrets");
    let report = fixture.json(&[
        "--due",
        "--apply",
        "--secret-dir",
        first.to_str().unwrap(),
        "--overlap",
        "3s",
        "--disabled-for",
        "3s",
        "--lifetime",
        "30d",
    ]);
    let rotations = report["rotations"].as_array().unwrap();
    assert_eq!(rotations.len(), 2, "{report}");
    let mut new_keys = Vec::new();
    for rotation in rotations {
        assert_eq!(rotation["status"], "retiring", "{report}");
        let new = rotation["new"].as_str().unwrap().to_string();
        let secret = std::fs::read_to_string(first.join(format!("tb.{new}.secret"))).unwrap();
        fixture
            .vendor_with(secret.trim(), &["get", &new])
            .assert()
            .success();
        new_keys.push(new);
    }
    let keys = fixture.keys();
    for old in &fixture.due {
        assert_eq!(
            keys[old].0,
            Some(true),
            "the old key works during the overlap"
        );
        fixture.vendor(&["get", old]).assert().success();
    }
    for new in &new_keys {
        assert!(keys[new].1.contains("~ak1."), "tagged: {:?}", keys[new]);
    }

    // Pending, from the journal and from the tags; audit says retiring.
    let pending = fixture.json(&["--pending", "--secret-dir", first.to_str().unwrap()]);
    assert_eq!(pending["pending"].as_array().unwrap().len(), 2, "{pending}");
    let out = apikeys()
        .args(["audit", "--expiring-within", "7d", "--json", "--config"])
        .arg(&fixture.config)
        .env("TEST_TB_KEY", fixture.credential())
        .assert()
        .success();
    let audit: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let text = audit.to_string();
    for old in &fixture.due {
        let record = audit
            .as_array()
            .unwrap_or_else(|| panic!("{text}"))
            .iter()
            .find(|r| r["id"] == old.as_str())
            .unwrap_or_else(|| panic!("{old} in {text}"));
        assert!(record["retiring_until"].is_string(), "{record}");
        assert_eq!(record["findings"], serde_json::json!([]), "{record}");
    }

    // Another machine: a fresh secret dir, so no journal of the first run.
    let second = fixture.dir.join("elsewhere");
    std::fs::create_dir_all(&second).unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    let report = fixture.json(&["--due", "--apply", "--secret-dir", second.to_str().unwrap()]);
    let rotations = report["rotations"].as_array().unwrap();
    assert_eq!(rotations.len(), 2, "nothing new planned: {report}");
    let keys = fixture.keys();
    for old in &fixture.due {
        assert_eq!(
            keys[old].0,
            Some(false),
            "disabled after the overlap: {report}"
        );
    }
    std::thread::sleep(Duration::from_millis(3500));
    let report = fixture.json(&["--due", "--apply", "--secret-dir", second.to_str().unwrap()]);
    for rotation in report["rotations"].as_array().unwrap() {
        assert_eq!(rotation["status"], "rotated", "{report}");
    }
    let keys = fixture.keys();
    for old in &fixture.due {
        assert!(!keys.contains_key(old), "revoked at the end: {report}");
    }
    for new in &new_keys {
        assert_eq!(keys[new].0, Some(true), "the new key works");
    }
    let pending = fixture.json(&["--pending", "--secret-dir", second.to_str().unwrap()]);
    assert_eq!(pending["pending"], serde_json::json!([]), "{pending}");
}
