//! `apikeys <vendor> create|rotate` delivering a new secret to `--show-secret` and
//! `--secret-file`, run as a process against a sandbox: a delivery that fails leaves no key
//! behind and the old key working, and `--force` never writes through into another file.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use apikeys_sandbox::Vendor;
use common::{Running, tempdir, text};
use serde_json::Value;

struct Fixture {
    sandbox: Running,
}

impl Fixture {
    fn start() -> Fixture {
        Fixture {
            sandbox: Running::start(),
        }
    }

    /// `apikeys thingsboard <args...>` authenticated with `key`, stdout and stderr piped.
    fn with_key(&self, key: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("apikeys"));
        for (name, _) in std::env::vars() {
            if name.starts_with("APIKEYS_") {
                cmd.env_remove(name);
            }
        }
        cmd.arg("thingsboard")
            .args(args)
            .arg("--base-url")
            .arg(self.sandbox.base_url(Vendor::ThingsBoard))
            .arg("--user-id")
            .arg(self.sandbox.scopes().thingsboard.user_id.to_string())
            .env("APIKEYS_THINGSBOARD_API_KEY", key)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let key = self.sandbox.credential(Vendor::ThingsBoard);
        self.with_key(key.expose_secret(), args)
    }

    /// Runs `args`, which must succeed, and returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    /// The ids of the account's keys, sorted.
    fn ids(&self) -> Vec<String> {
        let keys: Value = serde_json::from_str(&self.ok(&["list", "--json"])).unwrap();
        let mut ids: Vec<String> = keys
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    }

    /// A new key: its id and its secret.
    fn key(&self, name: &str) -> (String, String) {
        let out = self.ok(&["create", "--name", name, "--json", "--show-secret"]);
        let created: Value = serde_json::from_str(&out).unwrap();
        (
            created["key"]["id"].as_str().unwrap().to_string(),
            created["secret"].as_str().unwrap().to_string(),
        )
    }

    /// Whether `secret` authenticates.
    fn works(&self, secret: &str) -> bool {
        self.with_key(secret, &["list"])
            .output()
            .unwrap()
            .status
            .success()
    }
}

/// Where a delivery to stdout fails.
#[derive(Clone, Copy, Debug)]
enum Stdout {
    /// `> /dev/full`: every write fails.
    Full,
    /// `| true`: the reader is gone.
    Closed,
}

impl Stdout {
    const ALL: [Stdout; 2] = [Stdout::Full, Stdout::Closed];

    fn run(self, mut cmd: Command) -> Output {
        match self {
            Stdout::Full => {
                let full = std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap();
                cmd.stdout(full).output().unwrap()
            }
            Stdout::Closed => {
                let mut child = cmd.spawn().unwrap();
                drop(child.stdout.take());
                child.wait_with_output().unwrap()
            }
        }
    }
}

/// A character device of the test's own where it can make one (as root: one whose mode a
/// regression may change harmlessly), else `/dev/full`.
fn device() -> PathBuf {
    if rustix::process::geteuid().is_root() {
        let path = tempdir().join("full");
        let made = Command::new("mknod")
            .arg(&path)
            .args(["c", "1", "7"])
            .status();
        if made.is_ok_and(|status| status.success()) {
            return path;
        }
    }
    PathBuf::from("/dev/full")
}

/// `cmd`'s output, killed after a minute (a regression could block on a fifo forever).
fn bounded(cmd: Command) -> Output {
    assert_cmd::Command::from_std(cmd)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

// issue 22, case 2: `rotate --show-secret` whose secret cannot be printed keeps the old key
// and leaves no new one, with or without --json, with or without a --secret-file too.
#[test]
fn rotate_show_secret_to_a_failing_stdout_keeps_the_old_key() {
    let fixture = Fixture::start();
    let dir = tempdir();
    for stdout in Stdout::ALL {
        for json in [false, true] {
            for file in [false, true] {
                let case = format!("{stdout:?}, json {json}, file {file}");
                let (old, secret) = fixture.key("old");
                let before = fixture.ids();
                let path = dir.join(format!("{stdout:?}-{json}-{file}"));
                let mut args = vec!["rotate", "--old", &old, "--name", "new", "--show-secret"];
                if json {
                    args.push("--json");
                }
                if file {
                    args.extend(["--secret-file", path.to_str().unwrap()]);
                }
                let out = stdout.run(fixture.cmd(&args));
                let stderr = text(&out.stderr);
                assert_eq!(out.status.code(), Some(1), "{case}: {stderr}");
                assert!(
                    stderr.contains("at the deliver step")
                        && stderr.contains("so it was revoked; the old key still works")
                        && !stderr.contains(&secret),
                    "{case}: {stderr}"
                );
                assert_eq!(fixture.ids(), before, "{case}: old kept, no new key");
                assert!(fixture.works(&secret), "{case}: the old key works");
                assert!(!path.exists(), "{case}: no file of a revoked key");
            }
        }
    }
}

// issue 22, case 2: `create --show-secret` whose secret cannot be printed leaves no key.
#[test]
fn create_show_secret_to_a_failing_stdout_leaves_no_key() {
    let fixture = Fixture::start();
    for stdout in Stdout::ALL {
        for json in [false, true] {
            let before = fixture.ids();
            let mut args = vec!["create", "--name", "orphan", "--show-secret"];
            if json {
                args.push("--json");
            }
            let out = stdout.run(fixture.cmd(&args));
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{stdout:?}: {stderr}");
            assert!(
                stderr.contains("could not print the secret") && stderr.contains("was revoked"),
                "{stdout:?}: {stderr}"
            );
            assert_eq!(fixture.ids(), before, "{stdout:?}, json {json}: no orphan");
        }
    }
}

// issue 22, case 2: with --secret-file --force and --show-secret, a failed print leaves the
// file as it was (it held the old key's secret) and the old key working.
#[test]
fn a_failed_print_leaves_the_replaced_file_as_it_was() {
    let fixture = Fixture::start();
    let (old, secret) = fixture.key("old");
    let file = tempdir().join("secret");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let args = [
        "rotate",
        "--old",
        &old,
        "--name",
        "new",
        "--show-secret",
        "--secret-file",
        file.to_str().unwrap(),
        "--force",
    ];
    let out = Stdout::Full.run(fixture.cmd(&args));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{secret}\n")
    );
    assert!(fixture.works(&secret));
    assert_eq!(
        std::fs::read_dir(file.parent().unwrap()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

// issue 22, case 3: a --secret-file that cannot be created is refused before any key is.
#[test]
fn create_with_a_secret_file_that_cannot_be_created_creates_no_key() {
    let fixture = Fixture::start();
    let missing = tempdir().join("missing").join("k");
    let device = device();
    let before = fixture.ids();
    for args in [
        vec!["--secret-file", missing.to_str().unwrap()],
        vec!["--secret-file", device.to_str().unwrap(), "--force"],
    ] {
        let mut all = vec!["create", "--name", "never"];
        all.extend(&args);
        let out = fixture.cmd(&all).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(fixture.ids(), before, "{args:?}: no key created");
    }
}

// issue 22, case 3: a --secret-file whose write fails after the key was created (here: a
// file size limit of 0) gets the key revoked, and no file is left.
#[test]
fn create_whose_secret_file_write_fails_revokes_the_key() {
    let fixture = Fixture::start();
    let file = tempdir().join("k");
    let before = fixture.ids();
    let plain = fixture.cmd(&[
        "create",
        "--name",
        "unwritten",
        "--secret-file",
        file.to_str().unwrap(),
    ]);
    // The same command under `ulimit -f 0`, SIGXFSZ ignored: a write fails with EFBIG.
    let mut limited = Command::new("sh");
    limited
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$@\"")
        .arg(plain.get_program())
        .args(plain.get_args())
        .envs(plain.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in plain.get_envs() {
        if value.is_none() {
            limited.env_remove(name);
        }
    }
    let out = limited.output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("could not write the secret") && stderr.contains("was revoked"),
        "{stderr}"
    );
    assert_eq!(fixture.ids(), before, "no orphan");
    assert!(!file.exists());
}

// issue 22, case 4: --force never writes through a symbolic link, and leaves its target
// and the target's mode as they were.
#[test]
fn force_refuses_a_symlink_and_leaves_its_target_alone() {
    let fixture = Fixture::start();
    let dir = tempdir();
    let victim = dir.join("victim");
    std::fs::write(&victim, "victim\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let (old, _) = fixture.key("old");
    let before = fixture.ids();
    for action in [
        vec!["create", "--name", "x"],
        vec!["rotate", "--old", &old, "--name", "x"],
    ] {
        let mut args = action.clone();
        args.extend(["--secret-file", link.to_str().unwrap(), "--force"]);
        let out = fixture.cmd(&args).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{action:?}: {stderr}");
        assert!(stderr.contains("symbolic link"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim\n");
        assert_eq!(mode(&victim), 0o644);
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fixture.ids(), before, "{action:?}: nothing created");
    }
}

// issue 22, case 4: --force replaces the name, never the inode: another name of the same
// file (a hard link, here another user's) keeps its content, mode and owner.
#[test]
fn force_replaces_a_hard_link_without_writing_into_its_inode() {
    let fixture = Fixture::start();
    let dir = tempdir();
    let other = dir.join("other");
    std::fs::write(&other, "other's\n").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o644)).unwrap();
    // Another user's file, where the test may make one.
    let owner = if rustix::process::geteuid().is_root() {
        std::os::unix::fs::chown(&other, Some(65534), Some(65534)).unwrap();
        65534
    } else {
        std::fs::metadata(&other).unwrap().uid()
    };
    let target = dir.join("secret");
    std::fs::hard_link(&other, &target).unwrap();
    let out = fixture.ok(&[
        "create",
        "--name",
        "linked",
        "--secret-file",
        target.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        "other's\n",
        "{out}"
    );
    let kept = std::fs::metadata(&other).unwrap();
    assert_eq!(
        (kept.mode() & 0o7777, kept.uid(), kept.nlink()),
        (0o644, owner, 1)
    );
    let secret = std::fs::read_to_string(&target).unwrap();
    assert!(fixture.works(secret.trim()));
    assert_eq!(mode(&target), 0o600);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "no temporary file left"
    );
}

// issue 22, case 4: a fifo or a device is refused before any key is created, and the
// device's mode is left alone.
#[test]
fn force_refuses_a_fifo_or_a_device() {
    let fixture = Fixture::start();
    let fifo = tempdir().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let device = device();
    let device_mode = mode(&device);
    let before = fixture.ids();
    for (path, what) in [(fifo.as_path(), "a fifo"), (device.as_path(), "a device")] {
        let out = bounded(fixture.cmd(&[
            "create",
            "--name",
            "x",
            "--secret-file",
            path.to_str().unwrap(),
            "--force",
        ]));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(what), "{stderr}");
        assert_eq!(fixture.ids(), before, "{what}: nothing created");
    }
    assert_eq!(mode(&device), device_mode);
}

// Without --force any existing path, a dangling link too, is refused before anything is sent.
#[test]
fn without_force_an_existing_path_of_any_kind_is_refused() {
    let fixture = Fixture::start();
    let dir = tempdir();
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
    let before = fixture.ids();
    let device = device();
    for path in [dangling.as_path(), device.as_path(), dir.as_path()] {
        let out = fixture
            .cmd(&[
                "create",
                "--name",
                "x",
                "--secret-file",
                path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("exists already"));
    }
    assert!(!dir.join("nowhere").exists(), "the link was not followed");
    assert_eq!(fixture.ids(), before);
}
