//! `--secret-cmd`: the command a rotated key's new secret is given to on its standard input.
//!
//! It runs in a process group of its own, killed whole (SIGKILL) when it overruns its
//! timeout, fails, or its run is dropped: a child left behind could otherwise write a
//! revoked key's secret over the working one later, and would hold the tool's stderr open.
//! Its environment is the tool's without any `APIKEYS_*` variable (bar the four it is
//! promised) and without the variables the configuration reads credentials from.

use std::ffi::{OsStr, OsString};
use std::process::Stdio;
use std::time::Duration;

use apikeys_common::CreatedKey;
use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::AsyncWriteExt;

use super::sink::Delivery;

/// A `--secret-cmd`: what to run, for how long, and what it must not see.
#[derive(Clone, Debug)]
pub struct SecretCmd {
    /// The command line, run with `sh -c`.
    pub command: String,
    /// How long it may run.
    pub timeout: Duration,
    /// Variables kept from the command besides every `APIKEYS_*` one: those the
    /// configuration names as credential sources (`credential = { env = "..." }`).
    pub scrub: Vec<String>,
}

impl SecretCmd {
    /// `command`, given `timeout`, with only the `APIKEYS_*` variables scrubbed.
    pub fn new(command: &str, timeout: Duration) -> Self {
        SecretCmd {
            command: command.to_string(),
            timeout,
            scrub: Vec::new(),
        }
    }

    /// Runs the command with `sh -c`, the secret and a newline on its standard input and
    /// the key's names in its environment; anything but exit status 0 within the timeout
    /// fails.
    pub async fn run(&self, to: Delivery<'_>, created: &CreatedKey) -> Result<(), String> {
        self.run_in(std::env::vars_os(), to, created).await
    }

    /// [`SecretCmd::run`] with `parent` as the environment it is derived from.
    async fn run_in(
        &self,
        parent: impl IntoIterator<Item = (OsString, OsString)>,
        to: Delivery<'_>,
        created: &CreatedKey,
    ) -> Result<(), String> {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .env_clear()
            .envs(parent.into_iter().filter(|(name, _)| self.passes(name)))
            .env("APIKEYS_ACCOUNT", to.account)
            .env("APIKEYS_VENDOR", to.vendor)
            .env("APIKEYS_KEY_ID", &created.key.id)
            .env("APIKEYS_OLD_KEY_ID", to.old)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start --secret-cmd: {e}"))?;
        // Declared after `child`, so dropped before it: the group is killed while its
        // leader is not yet reaped, and its id cannot have been reused.
        let mut group = Group(
            child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .and_then(Pid::from_raw),
        );
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| "--secret-cmd has no standard input".to_string())?;
        let fed = async {
            // A command that exits without reading is judged by its exit status alone.
            let _ = stdin
                .write_all(format!("{}\n", created.secret.expose_secret()).as_bytes())
                .await;
            drop(stdin);
            child.wait().await
        };
        match tokio::time::timeout(self.timeout, fed).await {
            Ok(Ok(status)) if status.success() => {
                // A delivery that worked: what it started in the background is its own.
                group.0 = None;
                Ok(())
            }
            Ok(Ok(status)) => Err(format!("--secret-cmd failed ({status})")),
            Ok(Err(error)) => Err(format!("--secret-cmd: {error}")),
            Err(_) => {
                group.kill();
                let _ = child.wait().await;
                Err(format!(
                    "--secret-cmd did not finish within {}s and was killed",
                    self.timeout.as_secs()
                ))
            }
        }
    }

    /// Whether the variable `name` may reach the command.
    fn passes(&self, name: &OsStr) -> bool {
        !name.as_encoded_bytes().starts_with(b"APIKEYS_")
            && !self.scrub.iter().any(|scrubbed| name == scrubbed.as_str())
    }
}

/// The command's process group, killed when dropped (unless emptied).
struct Group(Option<Pid>);

impl Group {
    fn kill(&mut self) {
        if let Some(group) = self.0.take() {
            // Fails only when every process of the group has gone already.
            let _ = kill_process_group(group, Signal::KILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::super::protocol::Reply;
    use super::super::sink::{COMMAND_TIMEOUT, Sink};
    use super::*;
    use crate::rotation::tests::{TO, created};

    #[tokio::test]
    async fn the_command_gets_the_secret_on_stdin_and_the_ids_in_its_environment() {
        let dir = crate::rotation::tests::tempdir();
        let out = dir.join("out");
        let sink = Sink::Command(SecretCmd::new(
            &format!(
                "{{ cat; echo \"$APIKEYS_ACCOUNT $APIKEYS_VENDOR $APIKEYS_KEY_ID $APIKEYS_OLD_KEY_ID\"; }} > '{}'",
                out.display()
            ),
            COMMAND_TIMEOUT,
        ));
        assert_eq!(
            sink.deliver(TO, &created("k2")).await,
            Reply::Delivered("secret-cmd".into())
        );
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "tb_s3cret_value\nprod/tb thingsboard k2 old-1\n"
        );
    }

    #[tokio::test]
    async fn a_failing_or_slow_command_is_not_a_delivery() {
        let fail = Sink::Command(SecretCmd::new("cat >/dev/null; exit 1", COMMAND_TIMEOUT));
        let Reply::Failed(why) = fail.deliver(TO, &created("k2")).await else {
            panic!("a failing command delivered");
        };
        assert!(why.contains("failed") && !why.contains("s3cret"), "{why}");
        let slow = Sink::Command(SecretCmd::new("sleep 30", Duration::from_millis(200)));
        let Reply::Failed(why) = slow.deliver(TO, &created("k2")).await else {
            panic!("a slow command delivered");
        };
        assert!(why.contains("killed"), "{why}");
    }

    /// A command whose background child writes `marker` after a second, unless killed.
    fn leaving_a_child(marker: &std::path::Path, then: &str) -> String {
        format!("(sleep 1; echo late > '{}') & {then}", marker.display())
    }

    /// Waits past the child's second, then says whether it wrote its marker.
    async fn marker_written(marker: &std::path::Path) -> bool {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        marker.exists()
    }

    // issue 22, case 8: at the timeout the whole group is killed, not only `sh`.
    #[tokio::test]
    async fn a_command_at_its_timeout_is_killed_with_its_children() {
        let marker = crate::rotation::tests::tempdir().join("marker");
        let command = SecretCmd::new(
            &leaving_a_child(&marker, "sleep 30"),
            Duration::from_millis(300),
        );
        let started = std::time::Instant::now();
        let why = command.run(TO, &created("k2")).await.unwrap_err();
        assert!(why.contains("killed"), "{why}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            !marker_written(&marker).await,
            "a child outlived the timeout"
        );
    }

    // issue 22, case 8: a command that fails takes its children with it.
    #[tokio::test]
    async fn a_failing_command_is_killed_with_its_children() {
        let marker = crate::rotation::tests::tempdir().join("marker");
        let command = SecretCmd::new(&leaving_a_child(&marker, "exit 3"), COMMAND_TIMEOUT);
        let why = command.run(TO, &created("k2")).await.unwrap_err();
        assert!(why.contains("failed"), "{why}");
        assert!(
            !marker_written(&marker).await,
            "a child outlived the failure"
        );
    }

    // issue 22, case 8: so does a run that is dropped (its rotation abandoned).
    #[tokio::test]
    async fn a_dropped_run_kills_the_command_and_its_children() {
        let marker = crate::rotation::tests::tempdir().join("marker");
        let command = SecretCmd::new(&leaving_a_child(&marker, "sleep 30"), COMMAND_TIMEOUT);
        let key = created("k2");
        let run = command.run(TO, &key);
        assert!(
            tokio::time::timeout(Duration::from_millis(300), run)
                .await
                .is_err()
        );
        assert!(!marker_written(&marker).await, "a child outlived its run");
    }

    // issue 22, case 12: no account's credential reaches the command; the basics do.
    #[tokio::test]
    async fn the_environment_holds_no_credential() {
        let out = crate::rotation::tests::tempdir().join("env");
        let parent = [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/home/ops"),
            ("LANG", "C.UTF-8"),
            ("APIKEYS_THINGSBOARD_API_KEY", "leak1"),
            ("MY_TB_KEY", "leak2"),
            ("APIKEYS_KEY_ID", "forged"),
        ]
        .map(|(name, value)| (OsString::from(name), OsString::from(value)));
        let command = SecretCmd {
            command: format!("cat >/dev/null; env > '{}'", out.display()),
            timeout: COMMAND_TIMEOUT,
            scrub: vec!["MY_TB_KEY".into()],
        };
        command.run_in(parent, TO, &created("k2")).await.unwrap();
        let env = std::fs::read_to_string(&out).unwrap();
        assert!(!env.contains("leak"), "{env}");
        for line in [
            "PATH=/usr/bin:/bin",
            "HOME=/home/ops",
            "LANG=C.UTF-8",
            "APIKEYS_ACCOUNT=prod/tb",
            "APIKEYS_VENDOR=thingsboard",
            "APIKEYS_KEY_ID=k2",
            "APIKEYS_OLD_KEY_ID=old-1",
        ] {
            assert!(env.lines().any(|l| l == line), "{line} missing:\n{env}");
        }
        assert_eq!(env.matches("APIKEYS_").count(), 4, "{env}");
    }
}
