//! Where a rotated key's new secret goes: a file of its own in `--secret-dir`, or the
//! standard input of `--secret-cmd`. A secret is delivered only when the sink says so; a
//! sink that fails leaves the old key in place.

use std::io::Write;
use std::path::{Path, PathBuf};

use apikeys_common::CreatedKey;

use super::protocol::{Reply, Staged};
use super::secret_cmd::SecretCmd;

/// How long the tests' `--secret-cmd` may run.
#[cfg(test)]
pub const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The sink of one run.
#[derive(Clone, Debug)]
pub enum Sink {
    /// `--secret-dir`: one file per new key, mode 0600, never overwritten.
    Dir(PathBuf),
    /// `--secret-cmd`: run with `sh -c`, the secret on its standard input.
    Command(SecretCmd),
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
    /// Delivers `created`'s secret: with `--secret-cmd`, the command took it
    /// ([`Reply::Delivered`]); with `--secret-dir`, it is staged in a file of this run's own
    /// ([`Reply::Staged`], with the file's identity, to be journaled before
    /// [`Sink::publish`]). Never the secret in a reply.
    pub async fn deliver(&self, to: Delivery<'_>, created: &CreatedKey) -> Reply {
        match self {
            Sink::Dir(dir) => {
                let path = self.file_for(to.account, &created.key.id);
                let secret = created.secret.expose_secret().to_string();
                let dir = dir.clone();
                let staged = path.clone();
                match tokio::task::spawn_blocking(move || stage(&dir, &staged, &secret)).await {
                    Ok(Ok(file)) => Reply::Staged(Staged {
                        to: path.display().to_string(),
                        file,
                    }),
                    Ok(Err(e)) => Reply::Failed(format!("could not write {}: {e}", path.display())),
                    Err(e) => Reply::Failed(format!("the writer stopped: {e}")),
                }
            }
            Sink::Command(command) => match command.run(to, created).await {
                Ok(()) => Reply::Delivered("secret-cmd".into()),
                Err(why) => Reply::Failed(why),
            },
        }
    }

    /// Publishes a staged secret file under its final name: delivered if that name is the
    /// staged file itself (this run's, by its identity), or once the staged file is linked
    /// there. Anything else at the final name is not this run's: not delivered, and the
    /// staged file (the only copy of a live secret) is kept.
    pub async fn publish(&self, staged: &Staged) -> Reply {
        let staged = staged.clone();
        match tokio::task::spawn_blocking(move || publish(&staged)).await {
            Ok(Ok(to)) => Reply::Delivered(to),
            Ok(Err(why)) => Reply::Failed(why),
            Err(e) => Reply::Failed(format!("the writer stopped: {e}")),
        }
    }

    /// Removes the staged file of `new`, a key just revoked (its secret opens nothing).
    pub fn clean_up(&self, account: &str, new: &str) {
        if let Sink::Dir(_) = self {
            let partial = temporary(&self.file_for(account, new));
            if std::fs::symlink_metadata(&partial).is_ok_and(|m| m.is_file()) {
                let _ = std::fs::remove_file(partial);
            }
        }
    }

    /// The file the secret of `new` goes to, with `--secret-dir` (empty otherwise).
    pub fn file_for(&self, account: &str, new: &str) -> PathBuf {
        match self {
            Sink::Dir(dir) => dir.join(format!("{}.{}.secret", sanitize(account), sanitize(new))),
            Sink::Command(_) => PathBuf::new(),
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

/// Writes `secret` to the staged file beside `path` (created exclusively, mode 0600,
/// never through a link), syncs it and the directory, and returns its identity
/// (`device:inode`). A file already there is not this run's: refused, never removed.
fn stage(dir: &Path, path: &Path, secret: &str) -> std::io::Result<String> {
    let partial = temporary(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let mut file = options.open(&partial)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(identity(&file.metadata()?))
}

/// A file's identity, as the journal records it: device and inode, and (since a deleted
/// file's inode is soon reused) its size and its birth and modification times, to the
/// nanosecond. Linking a file to a second name changes none of them.
fn identity(meta: &std::fs::Metadata) -> String {
    let nanos = |time: std::io::Result<std::time::SystemTime>| {
        time.ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    };
    let times = format!(
        "{}:{}:{}",
        meta.len(),
        nanos(meta.created()),
        nanos(meta.modified())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        format!("{}:{}:{times}", meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        times
    }
}

/// See [`Sink::publish`].
fn publish(staged: &Staged) -> Result<String, String> {
    let path = Path::new(&staged.to);
    let partial = temporary(path);
    let ours = |p: &Path| {
        std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file() && identity(&m) == staged.file)
    };
    if !ours(path) {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(format!(
                "{} exists and is not the file this run wrote: the secret stays in {}",
                path.display(),
                partial.display()
            ));
        }
        if !ours(&partial) {
            return Err(format!(
                "the staged secret {} is gone or not the file this run wrote",
                partial.display()
            ));
        }
        // Fails when `path` exists (raced in): never overwritten.
        std::fs::hard_link(&partial, path)
            .map_err(|e| format!("could not publish {}: {e}", path.display()))?;
        if !ours(path) {
            return Err(format!("{} is not the file this run wrote", path.display()));
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| format!("could not sync {}: {e}", dir.display()))?;
    }
    // The final name holds the same file now: the staged name can go.
    if ours(&partial) {
        let _ = std::fs::remove_file(&partial);
    }
    Ok(staged.to.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rotation::tests::{TO, created};

    async fn staged(sink: &Sink, id: &str) -> Staged {
        match sink.deliver(TO, &created(id)).await {
            Reply::Staged(staged) => staged,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_secret_file_is_0600_sanitized_published_once_and_never_overwritten() {
        let dir = crate::rotation::tests::tempdir();
        let sink = Sink::Dir(dir.clone());
        let staged = staged(&sink, "../k 1").await;
        let path = dir.join("prod_tb.___k_1.secret");
        assert_eq!(staged.to, path.display().to_string());
        assert!(!path.exists(), "staged, not published");
        assert_eq!(
            sink.publish(&staged).await,
            Reply::Delivered(staged.to.clone())
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "tb_s3cret_value\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Publishing again (a resumed run) finds its own file: delivered, nothing changed.
        assert_eq!(
            sink.publish(&staged).await,
            Reply::Delivered(staged.to.clone())
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no staged file left"
        );
    }

    // issue 22, case 7: a file planted at the final name after the staging is not the
    // delivery, and the staged file (the only copy of the secret) is kept.
    #[tokio::test]
    async fn a_file_planted_at_the_final_name_is_not_a_delivery() {
        let dir = crate::rotation::tests::tempdir();
        let sink = Sink::Dir(dir.clone());
        let staged = staged(&sink, "k2").await;
        std::fs::write(&staged.to, "planted\n").unwrap();
        let Reply::Failed(why) = sink.publish(&staged).await else {
            panic!("a planted file counted as delivered");
        };
        assert!(why.contains("not the file this run wrote"), "{why}");
        let partial = temporary(Path::new(&staged.to));
        assert_eq!(
            std::fs::read_to_string(partial).unwrap(),
            "tb_s3cret_value\n"
        );
        assert_eq!(std::fs::read_to_string(&staged.to).unwrap(), "planted\n");
    }

    // A staged file replaced by another one (same name, another inode) is not ours either.
    #[tokio::test]
    async fn a_replaced_staged_file_is_not_published() {
        let dir = crate::rotation::tests::tempdir();
        let sink = Sink::Dir(dir.clone());
        let staged = staged(&sink, "k3").await;
        let partial = temporary(Path::new(&staged.to));
        std::fs::remove_file(&partial).unwrap();
        std::fs::write(&partial, "forged\n").unwrap();
        assert!(matches!(sink.publish(&staged).await, Reply::Failed(_)));
        assert!(!Path::new(&staged.to).exists());
    }

    // A file left at the staging name is never removed nor written through.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_link_planted_at_the_staging_name_is_refused() {
        let dir = crate::rotation::tests::tempdir();
        let sink = Sink::Dir(dir.clone());
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let partial = temporary(&sink.file_for(TO.account, "k4"));
        std::os::unix::fs::symlink(&victim, &partial).unwrap();
        assert!(matches!(
            sink.deliver(TO, &created("k4")).await,
            Reply::Failed(_)
        ));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    }
}
