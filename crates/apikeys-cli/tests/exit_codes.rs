//! A stdout nobody reads (`| head -1`, `| true`, `> /dev/full`) never turns a failing
//! `audit` or `rotate` into exit 0: they are CI gates (issue 22, case 9).

mod common;

use std::fs::File;
use std::process::{Output, Stdio};

use apikeys_sandbox::{SeedKey, Vendor};
use common::{Running, tempdir, text};

/// Stdout a pipe whose reader is already closed: every write gets EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

/// Stdout `/dev/full`: every write gets ENOSPC.
fn full_disk() -> Stdio {
    Stdio::from(File::options().write(true).open("/dev/full").unwrap())
}

/// Runs `apikeys <args>` with `stdout`, returning its exit and stderr.
fn run(args: &[&str], envs: &[(&str, &str)], stdout: fn() -> Stdio) -> Output {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("apikeys"));
    cmd.args(args).stdout(stdout()).stderr(Stdio::piped());
    for (name, value) in envs {
        cmd.env(name, value);
    }
    for (name, _) in std::env::vars() {
        if name.starts_with("APIKEYS_") {
            cmd.env_remove(name);
        }
    }
    cmd.output().unwrap()
}

// issue 22, case 9: `apikeys audit --sandbox | head -1` exited 0 though the policy found
// something (the sandbox is seeded with a key of every finding).
#[test]
fn an_audit_with_findings_exits_7_whatever_became_of_stdout() {
    for format in [None, Some("--json"), Some("--csv")] {
        for (stdout, how) in [
            (closed_pipe as fn() -> Stdio, "closed pipe"),
            (full_disk, "/dev/full"),
        ] {
            let mut args = vec!["audit", "--sandbox"];
            args.extend(format);
            let out = run(&args, &[], stdout);
            assert_eq!(
                out.status.code(),
                Some(7),
                "{format:?} to a {how}: {}",
                text(&out.stderr)
            );
            assert!(
                text(&out.stderr).contains("could not write to stdout"),
                "{format:?} to a {how}: {}",
                text(&out.stderr)
            );
        }
    }
}

// issue 22, case 9: under `2>&1 | head -1` stderr is the same closed pipe: telling of the
// failed write must not panic (exit 101) either.
#[test]
fn an_audit_whose_stdout_and_stderr_are_closed_still_exits_7() {
    for format in [None, Some("--json"), Some("--csv")] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("apikeys"))
            .args(["audit", "--sandbox"])
            .args(format)
            .stdout(writer.try_clone().unwrap())
            .stderr(writer)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(7), "{format:?}");
    }
}

// issue 22, case 9: `rotate --due --apply | true` whose rotations failed exited 0.
#[test]
fn a_failed_rotation_exits_9_whatever_became_of_stdout() {
    let sandbox = Running::start();
    let tomorrow = chrono::Utc::now() + chrono::TimeDelta::days(1);
    sandbox
        .seed(
            Vendor::ThingsBoard,
            [SeedKey::new("deploy").expires_at(tomorrow)],
        )
        .unwrap();
    let dir = tempdir();
    let config = dir.join("config.toml");
    common::thingsboard_config(&sandbox, &config, "TEST_TB_KEY");
    let credential = sandbox.credential(Vendor::ThingsBoard);
    for (n, stdout) in [closed_pipe as fn() -> Stdio, full_disk]
        .into_iter()
        .enumerate()
    {
        let journal = dir.join(format!("journal-{n}"));
        let out = run(
            &[
                "rotate",
                "--due",
                "--apply",
                "--expiring-within",
                "7d",
                "--secret-cmd",
                "cat >/dev/null; exit 1",
                "--journal",
                journal.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
            ],
            &[("TEST_TB_KEY", credential.expose_secret())],
            stdout,
        );
        assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("could not write to stdout"),
            "{}",
            text(&out.stderr)
        );
    }
}

// issue 22, case 9: a command that succeeded, but whose output went nowhere, is not a
// success either: exit 10, told on stderr.
#[test]
fn completions_to_a_full_disk_exit_10() {
    let out = run(&["completions", "bash"], &[], full_disk);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("apikeys: completions: could not write to stdout"),
        "{}",
        text(&out.stderr)
    );
}
