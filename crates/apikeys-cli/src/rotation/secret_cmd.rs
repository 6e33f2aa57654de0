//! `--secret-cmd`: the command a rotated key's new secret is given to on its standard input.

use std::process::Stdio;
use std::time::Duration;

use apikeys_common::CreatedKey;
use tokio::io::AsyncWriteExt;

use super::sink::Delivery;

/// Runs `command` with `sh -c`, the secret and a newline on its standard input and the
/// key's names in its environment; anything but exit status 0 within `timeout` fails.
pub async fn run_command(
    command: &str,
    timeout: Duration,
    to: Delivery<'_>,
    created: &CreatedKey,
) -> Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("APIKEYS_ACCOUNT", to.account)
        .env("APIKEYS_VENDOR", to.vendor)
        .env("APIKEYS_KEY_ID", &created.key.id)
        .env("APIKEYS_OLD_KEY_ID", to.old)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start --secret-cmd: {e}"))?;
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
    match tokio::time::timeout(timeout, fed).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("--secret-cmd failed ({status})")),
        Ok(Err(error)) => Err(format!("--secret-cmd: {error}")),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!(
                "--secret-cmd did not finish within {}s and was killed",
                timeout.as_secs()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sink::{COMMAND_TIMEOUT, Sink};
    use super::*;
    use apikeys_common::{KeyInfo, Secret};

    fn created(id: &str) -> CreatedKey {
        CreatedKey::new(KeyInfo::new(id), Secret::from("tb_s3cret_value"))
    }

    const TO: Delivery<'static> = Delivery {
        account: "prod/tb",
        vendor: "thingsboard",
        old: "old-1",
    };

    #[tokio::test]
    async fn the_command_gets_the_secret_on_stdin_and_the_ids_in_its_environment() {
        let dir = crate::rotation::tests::tempdir();
        let out = dir.join("out");
        let sink = Sink::Command {
            command: format!(
                "{{ cat; echo \"$APIKEYS_ACCOUNT $APIKEYS_VENDOR $APIKEYS_KEY_ID $APIKEYS_OLD_KEY_ID\"; }} > '{}'",
                out.display()
            ),
            timeout: COMMAND_TIMEOUT,
        };
        assert_eq!(
            sink.deliver(TO, &created("k2")).await.unwrap(),
            "secret-cmd"
        );
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "tb_s3cret_value\nprod/tb thingsboard k2 old-1\n"
        );
    }

    #[tokio::test]
    async fn a_failing_or_slow_command_is_not_a_delivery() {
        let fail = Sink::Command {
            command: "cat >/dev/null; exit 1".into(),
            timeout: COMMAND_TIMEOUT,
        };
        let why = fail.deliver(TO, &created("k2")).await.unwrap_err();
        assert!(why.contains("failed") && !why.contains("s3cret"), "{why}");
        let slow = Sink::Command {
            command: "sleep 30".into(),
            timeout: Duration::from_millis(200),
        };
        let why = slow.deliver(TO, &created("k2")).await.unwrap_err();
        assert!(why.contains("killed"), "{why}");
    }
}
