//! `apikeys rotate --due --apply --secret-cmd`, run as a process against a sandbox: a command
//! at its timeout, and the command's environment.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Running, tempdir, text};

/// A sandbox, a config file whose one account is its ThingsBoard user (credential in
/// `TEST_TB_KEY`), and one key of that account due for rotation.
struct Fixture {
    sandbox: Running,
    dir: PathBuf,
    config: PathBuf,
}

impl Fixture {
    fn start() -> Fixture {
        let sandbox = Running::start();
        let dir = tempdir();
        let config = dir.join("config.toml");
        common::thingsboard_config(&sandbox, &config, "TEST_TB_KEY");
        let fixture = Fixture {
            sandbox,
            dir,
            config,
        };
        let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1)).to_rfc3339();
        fixture
            .vendor(&[
                "create",
                "--name",
                "deploy",
                "--expires-at",
                &tomorrow,
                "--show-secret",
            ])
            .assert()
            .success();
        fixture
    }

    fn credential(&self) -> String {
        self.sandbox.thingsboard_key()
    }

    fn vendor(&self, args: &[&str]) -> assert_cmd::Command {
        self.sandbox.thingsboard(&self.credential(), args)
    }

    fn ids(&self) -> Vec<String> {
        self.sandbox.thingsboard_ids()
    }

    /// `apikeys rotate --due --apply --secret-cmd <command> ...` as a plain process.
    fn rotate(&self, command: &str, extra: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("apikeys"));
        for (name, _) in std::env::vars() {
            if name.starts_with("APIKEYS_") {
                cmd.env_remove(name);
            }
        }
        cmd.args(["rotate", "--due", "--apply", "--expiring-within", "7d"])
            .arg("--secret-cmd")
            .arg(command)
            .arg("--journal")
            .arg(self.dir.join("journal"))
            .arg("--config")
            .arg(&self.config)
            .args(extra)
            .env("TEST_TB_KEY", self.credential())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

// issue 22, case 8: at the timeout the command's children die with it: none writes the
// (revoked) secret later, and none holds the tool's stderr open.
#[test]
fn a_secret_cmd_at_its_timeout_is_killed_with_its_children() {
    let fixture = Fixture::start();
    let before = fixture.ids();
    let marker = fixture.dir.join("marker");
    let command = format!("(sleep 3; echo late > '{}') & sleep 30", marker.display());
    let started = Instant::now();
    let out = fixture
        .rotate(&command, &["--secret-cmd-timeout", "1"])
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "stdout and stderr closed only after {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    std::thread::sleep(Duration::from_secs(4).saturating_sub(started.elapsed()));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!marker.exists(), "a child of the command outlived it");
    assert_eq!(fixture.ids(), before, "old key kept, new key revoked");
}

// issue 22, case 12: the accounts' credentials are not in the command's environment.
#[test]
fn a_secret_cmd_sees_no_apikeys_credential() {
    let fixture = Fixture::start();
    let env = fixture.dir.join("env");
    let out = fixture
        .rotate(&format!("cat >/dev/null; env > '{}'", env.display()), &[])
        .env("APIKEYS_NUKI_API_KEY", "leak-canary-1")
        .env("APIKEYS_CONFIG", "/leak-canary-2")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let env = std::fs::read_to_string(&env).unwrap();
    assert!(!env.contains("leak-canary"), "{env}");
    // issue 22, case 12: nor the configuration's own credential variable.
    assert!(!env.contains("TEST_TB_KEY"), "{env}");
    assert!(!env.contains(&fixture.credential()), "{env}");
    assert!(env.lines().any(|l| l == "APIKEYS_ACCOUNT=tb"), "{env}");
    assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
}
