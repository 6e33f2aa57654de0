//! The rotation journal: append-only JSON lines, each synced to disk before the step it
//! announces is taken (write-ahead) and an outcome line after it, so that a run killed at
//! any point can be resumed from what the journal says. No secret ever goes into it: a
//! line names keys by id and says where a secret went, never what it is.
//!
//! The file is locked (`flock`, released by the kernel when the process dies, even on
//! SIGKILL) for as long as a run holds it: a second run refuses to start.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One journal line: when, which run, which key (its account and old id), and the step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When the line was written.
    pub at: DateTime<Utc>,
    /// The run that wrote it.
    pub run: String,
    /// The account (from the configuration) the key belongs to.
    pub account: String,
    /// The id of the key being replaced.
    pub old: String,
    /// What happens or happened.
    #[serde(flatten)]
    pub step: Step,
}

/// The steps of one key's rotation, as the journal records them. A step and its outcome
/// come in pairs: `create`/`created`, `deliver`/`delivered`, `confirm`/`confirmed`,
/// `revoke`/`revoked`, `discard`/`discarded`; `plan` opens a key's record and `done` or
/// `failed` closes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The key is due: its vendor, name, and why.
    Plan {
        vendor: String,
        name: Option<String>,
        why: Vec<String>,
        /// The expiry the new key gets, if any.
        expires_at: Option<DateTime<Utc>>,
    },
    /// A key named `name` (unique to this run and attempt) is about to be created.
    Create { name: String },
    /// It was created, with this id.
    Created { new: String },
    /// Its secret is about to be delivered.
    Deliver { new: String },
    /// Its secret was delivered there (a path, or `secret-cmd`).
    Delivered { new: String, to: String },
    /// The server is about to be asked whether the new key exists.
    Confirm { new: String },
    /// It does.
    Confirmed { new: String },
    /// The old key is about to be revoked.
    Revoke,
    /// The old key is revoked (or was already gone).
    Revoked,
    /// A new key that cannot be used (its secret was not delivered) is about to be revoked.
    Discard { new: String, why: String },
    /// It is revoked (or was already gone).
    Discarded { new: String },
    /// The key is rotated: `new` replaced it, its secret is at `to`.
    Done { new: String, to: String },
    /// The rotation failed at `failed_step`; `works` says which key still works.
    Failed {
        failed_step: String,
        message: String,
        works: String,
    },
}

/// Why the journal could not be used.
#[derive(Debug)]
pub enum JournalError {
    /// Another run holds the journal.
    Locked(PathBuf),
    /// A line that is not a journal line (other than a torn last line).
    Corrupt { path: PathBuf, line: usize },
    /// Reading, writing or syncing failed.
    Io(PathBuf, std::io::Error),
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::Locked(path) => write!(
                f,
                "another `apikeys rotate` holds the journal {}; wait for it to finish",
                path.display()
            ),
            JournalError::Corrupt { path, line } => write!(
                f,
                "the journal {} has an unreadable line {line}: repair or move it",
                path.display()
            ),
            JournalError::Io(path, error) => {
                write!(f, "the journal {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for JournalError {}

/// An open, locked journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens (or creates, mode 0600) the journal at `path` and locks it; a torn last line
    /// (a run killed while writing it) is cut off, so that the next line starts clean.
    /// Returns the journal and the lines it holds.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Entry>), JournalError> {
        let io = |error| JournalError::Io(path.to_path_buf(), error);
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let existed = path.exists();
        let file = options.open(path).map_err(io)?;
        lock(&file, path)?;
        if !existed {
            // The new file's name must survive a crash as well as its lines.
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        let (entries, clean_len) = read(&file, path)?;
        if file.metadata().map_err(io)?.len() != clean_len {
            file.set_len(clean_len).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let journal = Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        Ok((journal, entries))
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entries` as lines and syncs them to disk before returning.
    pub fn append(&self, entries: &[Entry]) -> Result<(), JournalError> {
        let io = |error| JournalError::Io(self.path.clone(), error);
        let mut text = String::new();
        for entry in entries {
            let line = serde_json::to_string(entry)
                .map_err(|e| io(std::io::Error::other(e.to_string())))?;
            text.push_str(&line);
            text.push('\n');
        }
        // A poisoned lock only means another task panicked mid-write: the file is still
        // the file, and a torn line is cut off when the journal is next opened.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)
    }
}

/// How long a lock held by someone else is waited for before the run refuses. A process
/// forked by this one (a `--secret-cmd`) holds a copy of every descriptor until it execs,
/// so a journal closed and reopened in one process can be held for that instant.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Locks the journal (`flock`, exclusive), or says another run holds it.
fn lock(file: &File, path: &Path) -> Result<(), JournalError> {
    let start = std::time::Instant::now();
    loop {
        match fs4::FileExt::try_lock(file) {
            Ok(()) => return Ok(()),
            Err(fs4::TryLockError::WouldBlock) if start.elapsed() < LOCK_PATIENCE => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(JournalError::Locked(path.to_path_buf()));
            }
            Err(fs4::TryLockError::Error(error)) => {
                return Err(JournalError::Io(path.to_path_buf(), error));
            }
        }
    }
}

/// The journal's lines, and the length of the file up to the end of its last complete
/// line. A last line without its newline is a write the process did not finish: ignored.
fn read(file: &File, path: &Path) -> Result<(Vec<Entry>, u64), JournalError> {
    let io = |error| JournalError::Io(path.to_path_buf(), error);
    let mut file = file;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut reader = BufReader::new(file);
    let mut entries = Vec::new();
    let mut clean = 0u64;
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(io)?;
        if read == 0 || line.last() != Some(&b'\n') {
            break;
        }
        number = number.saturating_add(1);
        let text = String::from_utf8_lossy(&line);
        if !text.trim().is_empty() {
            let entry = serde_json::from_str(text.trim()).map_err(|_| JournalError::Corrupt {
                path: path.to_path_buf(),
                line: number,
            })?;
            entries.push(entry);
        }
        clean = clean.saturating_add(read as u64);
    }
    Ok((entries, clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(step: Step) -> Entry {
        Entry {
            at: Utc::now(),
            run: "r1".into(),
            account: "tb".into(),
            old: "7".into(),
            step,
        }
    }

    #[test]
    fn lines_round_trip_and_a_torn_last_line_is_cut_off() {
        let dir = crate::rotation::tests::tempdir();
        let path = dir.join("journal");
        let written = vec![
            entry(Step::Create {
                name: "ci (rotated r1-1)".into(),
            }),
            entry(Step::Created { new: "8".into() }),
        ];
        {
            let (journal, entries) = Journal::open(&path).unwrap();
            assert!(entries.is_empty());
            journal.append(&written).unwrap();
        }
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"at":"2026-01-01T00:00:00Z","ru"#)
            .unwrap();
        drop(file);
        let (journal, entries) = Journal::open(&path).unwrap();
        assert_eq!(entries, written);
        journal.append(&[entry(Step::Revoke)]).unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.lines().last().unwrap().contains(r#""step":"revoke""#));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_second_run_is_refused_while_the_first_holds_the_journal() {
        let dir = crate::rotation::tests::tempdir();
        let path = dir.join("journal");
        let (first, _) = Journal::open(&path).unwrap();
        assert!(matches!(Journal::open(&path), Err(JournalError::Locked(_))));
        drop(first);
        assert!(Journal::open(&path).is_ok());
    }

    #[test]
    fn a_line_that_is_not_a_journal_line_is_refused() {
        let dir = crate::rotation::tests::tempdir();
        let path = dir.join("journal");
        std::fs::write(&path, "not json\n").unwrap();
        assert!(matches!(
            Journal::open(&path),
            Err(JournalError::Corrupt { line: 1, .. })
        ));
    }
}
