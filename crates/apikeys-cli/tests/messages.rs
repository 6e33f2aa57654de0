//! Messages that name the real cause (issue 22, case 10): where a refused credential came
//! from, and why a resumed account could not be reached.

mod common;

use std::path::{Path, PathBuf};

use apikeys_sandbox::{SeedKey, Vendor};
use common::{Running, apikeys, tempdir, text};
use predicates::prelude::*;

/// A config file with one ThingsBoard account `tb` of `sandbox`, its credential in `TB_PROD_KEY`.
fn config(sandbox: &Running, dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    common::thingsboard_config(sandbox, &path, "TB_PROD_KEY");
    path
}

// issue 22, case 10 (first message): a refused credential named `APIKEYS_AUDIT_API_KEY`, a
// variable that does not exist, instead of the config's `TB_PROD_KEY`.
#[test]
fn a_refused_credential_names_the_config_variable_it_came_from() {
    let sandbox = Running::start();
    let config = config(&sandbox, &tempdir());
    for json in [false, true] {
        let mut cmd = apikeys();
        cmd.arg("audit")
            .arg("--config")
            .arg(&config)
            .env("TB_PROD_KEY", "tb_not-the-right-key");
        if json {
            cmd.arg("--json");
        }
        cmd.assert()
            .code(8)
            .stderr(predicate::str::contains("TB_PROD_KEY"))
            .stderr(predicate::str::contains("config line 1"))
            .stderr(predicate::str::contains("APIKEYS_").not())
            .stderr(predicate::str::contains("--api-key").not())
            .stderr(predicate::str::contains("tb_not-the-right-key").not());
    }
}

// issue 22, case 10: with `--api-key-file`, the refusal names that file, not the variable.
#[test]
fn a_refused_api_key_file_is_named() {
    let sandbox = Running::start();
    let file = tempdir().join("tb.key");
    std::fs::write(&file, "tb_not-the-right-key\n").unwrap();
    apikeys()
        .arg("thingsboard")
        .arg("list")
        .arg("--base-url")
        .arg(sandbox.base_url(Vendor::ThingsBoard))
        .arg("--user-id")
        .arg(sandbox.scopes().thingsboard.user_id.to_string())
        .arg("--api-key-file")
        .arg(&file)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "check --api-key-file {}",
            file.display()
        )))
        .stderr(predicate::str::contains("APIKEYS_THINGSBOARD_API_KEY").not());
}

// issue 22, case 10 (second message): `--resume` with the account's credential variable
// unset said `no account tb in the configuration`, hiding that `TB_PROD_KEY` is unset.
#[test]
fn a_resume_says_why_an_account_cannot_be_reached() {
    let sandbox = Running::start();
    let tomorrow = chrono::Utc::now() + chrono::TimeDelta::days(1);
    sandbox
        .seed(
            Vendor::ThingsBoard,
            [SeedKey::new("deploy").expires_at(tomorrow)],
        )
        .unwrap();
    let dir = tempdir();
    let config = config(&sandbox, &dir);
    let journal = dir.join("journal");
    let credential = sandbox.credential(Vendor::ThingsBoard);
    // The delivery command kills the run (its parent) mid-rotation: an unfinished journal.
    let out = apikeys()
        .args(["rotate", "--due", "--apply", "--expiring-within", "7d"])
        .args(["--secret-cmd", "cat >/dev/null; kill -9 $PPID"])
        .arg("--journal")
        .arg(&journal)
        .arg("--config")
        .arg(&config)
        .env("TB_PROD_KEY", credential.expose_secret())
        .assert()
        .failure();
    assert_eq!(out.get_output().status.code(), None, "killed by a signal");

    let out = apikeys()
        .args([
            "rotate",
            "--resume",
            "--json",
            "--secret-cmd",
            "cat >/dev/null",
        ])
        .arg("--journal")
        .arg(&journal)
        .arg("--config")
        .arg(&config)
        .assert()
        .code(9);
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let stderr = text(&out.get_output().stderr);
    let why = "the credential variable TB_PROD_KEY is not set";
    assert!(stderr.contains(why), "{stderr}");
    let message = report["rotations"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains(why), "the report says it too: {report}");
}
