//! Where a rotated key's new secret goes: a file of its own in `--secret-dir`, or the
//! standard input of `--secret-cmd`. A secret is delivered only when the sink says so; a
//! sink that fails leaves the old key in place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use apikeys_common::CreatedKey;

/// How long the tests' `--secret-cmd` may run.
#[cfg(test)]
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The sink of one run.
#[derive(Clone, Debug)]
pub enum Sink {
    /// `--secret-dir`: one file per new key, mode 0600, never overwritten.
    Dir(PathBuf),
    /// `--secret-cmd`: run with `sh -c`, the secret on its standard input.
    Command {
        /// The command line.
        command: String,
        /// How long it may run.
        timeout: Duration,
    },
}

/// What a delivery is about (everything but the secret).
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    /// The account's name.
    pub account: &'a str,
    /// The vendor's name.
    pub vendor: &'a str,
    /// The key being replaced.
    pub old: &'a str,
}

impl Sink {
    /// Delivers `created`'s secret; returns where it went (never the secret), or why not.
    pub async fn deliver(&self, to: Delivery<'_>, created: &CreatedKey) -> Result<String, String> {
        match self {
            Sink::Dir(dir) => {
                let path = self
                    .file_for(to.account, &created.key.id)
                    .unwrap_or_default();
                let secret = created.secret.expose_secret().to_string();
                let dir = dir.clone();
                let written = path.clone();
                tokio::task::spawn_blocking(move || write_new(&dir, &written, &secret))
                    .await
                    .map_err(|e| format!("the writer stopped: {e}"))?
                    .map_err(|e| format!("could not write {}: {e}", path.display()))?;
                Ok(path.display().to_string())
            }
            Sink::Command { command, timeout } => {
                super::secret_cmd::SecretCmd::new(command, *timeout)
                    .run(to, created)
                    .await?;
                Ok("secret-cmd".into())
            }
        }
    }

    /// Whether the secret of the new key `new` is known to have been delivered although
    /// the journal does not say so (a run killed after the delivery): with `--secret-dir`,
    /// its file is there under its final name (only a complete, synced file ever is).
    pub fn was_delivered(&self, account: &str, new: &str) -> Option<String> {
        let path = self.file_for(account, new)?;
        std::fs::symlink_metadata(&path)
            .is_ok()
            .then(|| path.display().to_string())
    }

    /// Removes what a killed delivery of `new` may have left half-done (a temporary file).
    pub fn clean_up(&self, account: &str, new: &str) {
        if let Some(path) = self.file_for(account, new) {
            let _ = std::fs::remove_file(temporary(&path));
        }
    }

    /// The file the secret of `new` goes to, with `--secret-dir`.
    pub fn file_for(&self, account: &str, new: &str) -> Option<PathBuf> {
        match self {
            Sink::Dir(dir) => {
                Some(dir.join(format!("{}.{}.secret", sanitize(account), sanitize(new))))
            }
            Sink::Command { .. } => None,
        }
    }
}

/// A file-name part: letters, digits, `-` and `_` kept, anything else `_`, at most 64
/// characters, never empty.
fn sanitize(part: &str) -> String {
    let clean: String = part
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if clean.is_empty() { "_".into() } else { clean }
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes `secret` to a temporary file in `dir` (mode 0600), syncs it, then links it to
/// `path`, which must not exist: a partial file never shows under the final name, and an
/// existing file is never replaced. The directory is synced, so the name survives a crash.
fn write_new(dir: &Path, path: &Path, secret: &str) -> std::io::Result<()> {
    let partial = temporary(path);
    // Left by a run killed mid-write (the journal lock says no other run is writing).
    let _ = std::fs::remove_file(&partial);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&partial)?;
        file.write_all(secret.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        // Fails when `path` exists: never overwritten.
        std::fs::hard_link(&partial, path)
    })();
    let _ = std::fs::remove_file(&partial);
    written?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
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
    async fn a_secret_file_is_0600_sanitized_and_never_overwritten() {
        let dir = crate::rotation::tests::tempdir();
        let sink = Sink::Dir(dir.clone());
        let to = sink.deliver(TO, &created("../k 1")).await.unwrap();
        let path = dir.join("prod_tb.___k_1.secret");
        assert_eq!(to, path.display().to_string());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "tb_s3cret_value\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(sink.was_delivered("prod/tb", "../k 1").is_some());
        let again = sink.deliver(TO, &created("../k 1")).await.unwrap_err();
        assert!(again.contains("exists"), "{again}");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
