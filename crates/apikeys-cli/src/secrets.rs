//! Where a new key's secret goes: a file of the user's own (mode 0600), stdout, or both.
//! `create` and `rotate` refuse to run without one, so a secret the vendor shows once is
//! never lost.
//!
//! Each is a delivery that must succeed before the key counts as kept. The file is opened
//! (created exclusively, never through a symbolic link) before any key is created; once the
//! key exists its secret is written and synced there, printed and flushed to stdout, and only
//! then is the file put in place. The caller revokes a key whose delivery failed: live, with a
//! secret nobody holds, it would be an orphan. `--force` never writes into an existing file:
//! the secret goes to a new file in the same directory, renamed over the old name.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use apikeys_common::Secret;
use rustix::fs::{Mode, OFlags};

use crate::exit::Failure;

/// The destinations `create` or `rotate` were given.
#[derive(Clone, Debug)]
pub struct Destination {
    /// `--secret-file`.
    pub file: Option<PathBuf>,
    /// `--force`: the file may be replaced.
    pub force: bool,
    /// `--show-secret`: stdout (a field with `--json`).
    pub show: bool,
}

impl Destination {
    /// Refuses, before anything is sent, a command whose new secret would go nowhere, a
    /// `--secret-file` that exists already (unless `--force`), and one that `--force` would
    /// not replace safely: anything but a regular file.
    pub fn check(&self) -> Result<(), Failure> {
        if self.file.is_none() && !self.show {
            return Err(Failure::invalid(
                "the new key's secret is shown only once and would be lost: pass \
                 --secret-file PATH (written with mode 0600) or --show-secret (stdout)",
            ));
        }
        let Some(path) = &self.file else {
            return Ok(());
        };
        let Ok(metadata) = std::fs::symlink_metadata(path) else {
            return Ok(());
        };
        if !self.force {
            return Err(Failure::invalid(format!(
                "{} exists already: choose another --secret-file, or pass --force to \
                 replace it",
                path.display()
            )));
        }
        match kind(&metadata.file_type()) {
            None => Ok(()),
            Some(kind) => Err(Failure::invalid(format!(
                "{} is {kind}: --force replaces only a regular file (never through a link, \
                 never into a device): remove it or choose another --secret-file",
                path.display()
            ))),
        }
    }

    /// Opens the file, if there is one, before any key is created: the file itself, created
    /// exclusively, or with `--force` a new file beside it. Until [`Opened::deliver`] puts it
    /// in place, dropping the result removes it.
    pub fn open(&self) -> Result<Opened, Failure> {
        let file = match &self.file {
            Some(path) => Some(Pending::open(path, self.force).map_err(|e| {
                Failure::invalid(format!(
                    "could not create the --secret-file {}: {e}",
                    path.display()
                ))
            })?),
            None => None,
        };
        Ok(Opened {
            show: self.show,
            file,
        })
    }
}

/// What a file that `--force` must not replace is, or `None` for a regular file.
fn kind(file_type: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_file() {
        None
    } else if file_type.is_symlink() {
        Some("a symbolic link")
    } else if file_type.is_dir() {
        Some("a directory")
    } else if file_type.is_fifo() {
        Some("a fifo")
    } else if file_type.is_socket() {
        Some("a socket")
    } else if file_type.is_char_device() || file_type.is_block_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

/// A destination opened, waiting for its secret.
#[derive(Debug)]
pub struct Opened {
    show: bool,
    file: Option<Pending>,
}

impl Opened {
    /// Delivers `secret`: writes and syncs it to the file, writes `shown` (the text that
    /// carries it, given with `--show-secret`) to stdout and flushes it, then puts the file
    /// in place. On a failure the file is left as it was (or removed, if new): the caller
    /// revokes the key.
    pub fn deliver(&mut self, secret: &Secret, shown: Option<&str>) -> Result<(), Failure> {
        let mut file = self.file.take();
        if let Some(file) = &mut file {
            file.write(secret).map_err(|e| file.failure(e))?;
        }
        if let Some(text) = shown.filter(|_| self.show) {
            print(text).map_err(|e| Failure::other(format!("could not print the secret: {e}")))?;
        }
        if let Some(file) = &mut file {
            file.keep().map_err(|e| file.failure(e))?;
        }
        Ok(())
    }
}

/// Writes `text` and a newline to stdout and flushes it; any failure (a closed pipe, a full
/// disk) is returned, as the secret then reached no one.
fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        stdout.write_all(b"\n")?;
    }
    stdout.flush()
}

/// The `--secret-file` opened: `written` is the path itself, or with `--force` a new file in
/// the same directory renamed over it once complete.
#[derive(Debug)]
struct Pending {
    path: PathBuf,
    written: PathBuf,
    file: File,
    replace: bool,
    /// Set once in place; until then, dropping removes `written`.
    kept: bool,
}

impl Pending {
    fn open(path: &Path, replace: bool) -> std::io::Result<Pending> {
        let written = if replace {
            temporary(path)?
        } else {
            path.into()
        };
        // O_EXCL: never an existing file, never through a link at the last component.
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        let fd = rustix::fs::open(&written, flags | OFlags::CLOEXEC, Mode::RUSR | Mode::WUSR)?;
        Ok(Pending {
            path: path.into(),
            written,
            file: File::from(fd),
            replace,
            kept: false,
        })
    }

    /// Writes the secret and a newline, synced to disk.
    fn write(&mut self, secret: &Secret) -> std::io::Result<()> {
        self.file.write_all(secret.expose_secret().as_bytes())?;
        self.file.write_all(b"\n")?;
        self.file.sync_all()
    }

    /// Puts the file under its name (a rename never follows a link at its target) and syncs
    /// the directory, so that the name survives a crash.
    fn keep(&mut self) -> std::io::Result<()> {
        if self.replace {
            std::fs::rename(&self.written, &self.path)?;
        }
        self.kept = true;
        File::open(directory(&self.path))?.sync_all()
    }

    fn failure(&self, error: std::io::Error) -> Failure {
        Failure::other(format!(
            "could not write the secret to {}: {error}",
            self.path.display()
        ))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.written);
        }
    }
}

/// The directory `path` is in (`.` for a bare name).
fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// A new name beside `path`, hidden, that no other run picks.
pub(crate) fn temporary(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    Ok(directory(path).join(temporary))
}
