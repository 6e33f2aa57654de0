//! The rotation journal: append-only lines, each synced to disk before the step it
//! announces is taken (write-ahead) and an outcome line after it, so that a run killed at
//! any point can be resumed from what the journal says. No secret ever goes into it: a
//! line names keys by id and says where a secret went, never what it is.
//!
//! A line is `<seal> <json>`: the seal is an HMAC-SHA256 of the JSON keyed by the
//! account's credential and identity (vendor, base URL, scope), so a line that this
//! configuration's run did not write (edited, another user's, another configuration
//! reusing the account's name) is refused, and can make the tool touch no key.
//!
//! The file is opened without following a symbolic link, must be a regular file of the
//! user's own that no one else can write, and is created with mode 0600. It is locked
//! (`flock`, released by the kernel when the process dies, even on SIGKILL) for as long
//! as a run holds it: a second run refuses to start.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::protocol::Record;

/// One journal line: when, which run, which key (its account and old id), and the record.
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
    pub record: Record,
}

/// A line as read: its seal, its JSON, and its entry. Its seal is checked by the account's
/// [`Seal`] before the line is used.
#[derive(Clone, Debug)]
pub struct Line {
    /// The line's number in the file.
    pub number: usize,
    seal: String,
    json: String,
    /// The entry the line holds.
    pub entry: Entry,
}

impl Line {
    /// Whether `seal` wrote this line.
    pub fn sealed_by(&self, seal: &Seal) -> bool {
        seal.verifies(&self.json, &self.seal)
    }
}

/// An account's journal key: derived from its credential and identity, never written.
pub struct Seal {
    key: ring::hmac::Key,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

impl Seal {
    /// The seal of the account whose credential is `credential` and whose identity (vendor,
    /// base URL, scope) is `identity`.
    pub fn new(credential: &str, identity: &str) -> Seal {
        let root = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, credential.as_bytes());
        let derived = ring::hmac::sign(&root, format!("apikeys journal v1\0{identity}").as_bytes());
        Seal {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    fn sign(&self, json: &str) -> String {
        hex(ring::hmac::sign(&self.key, json.as_bytes()).as_ref())
    }

    fn verifies(&self, json: &str, seal: &str) -> bool {
        let Some(tag) = unhex(seal) else {
            return false;
        };
        ring::hmac::verify(&self.key, json.as_bytes(), &tag).is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
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
    /// The path is not a journal this user may trust: what is wrong, and what to do.
    Unsafe(PathBuf, String),
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
            JournalError::Unsafe(path, why) => write!(f, "the journal {}: {why}", path.display()),
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
    /// Returns the journal and the lines it holds, unchecked (see [`Line::sealed_by`]).
    pub fn open(path: &Path) -> Result<(Journal, Vec<Line>), JournalError> {
        let io = |error| JournalError::Io(path.to_path_buf(), error);
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options
                .mode(0o600)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        }
        let existed = std::fs::symlink_metadata(path).is_ok();
        let file = options.open(path).map_err(|error| {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                JournalError::Unsafe(
                    path.to_path_buf(),
                    "is a symbolic link, which is never followed: give the real path".into(),
                )
            } else {
                io(error)
            }
        })?;
        trusted(&file, path)?;
        lock(&file, path)?;
        if !existed {
            // The new file's name must survive a crash as well as its lines.
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        let (lines, clean_len) = read(&file, path)?;
        if file.metadata().map_err(io)?.len() != clean_len {
            file.set_len(clean_len).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let journal = Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        Ok((journal, lines))
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entries` as lines sealed by `seal` and syncs them to disk before returning.
    pub fn append(&self, seal: &Seal, entries: &[Entry]) -> Result<(), JournalError> {
        let io = |error| JournalError::Io(self.path.clone(), error);
        let mut text = String::new();
        for entry in entries {
            let json = serde_json::to_string(entry)
                .map_err(|e| io(std::io::Error::other(e.to_string())))?;
            text.push_str(&seal.sign(&json));
            text.push(' ');
            text.push_str(&json);
            text.push('\n');
        }
        // A poisoned lock only means another task panicked mid-write: the file is still
        // the file, and a torn line is cut off when the journal is next opened.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)
    }
}

/// Refuses a journal that is not a regular file of this user's own, or that another user
/// could write.
fn trusted(file: &File, path: &Path) -> Result<(), JournalError> {
    let meta = file
        .metadata()
        .map_err(|e| JournalError::Io(path.to_path_buf(), e))?;
    let refuse = |why: &str| Err(JournalError::Unsafe(path.to_path_buf(), why.to_string()));
    if !meta.is_file() {
        return refuse("is not a regular file: give the path of a file (or of none yet)");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return refuse(
                "belongs to another user: a journal another user could have written is not \
                 trusted; move it away or give another --journal",
            );
        }
        if meta.mode() & 0o022 != 0 {
            return refuse(
                "can be written by other users (group or world writable): check who changed \
                 it, then `chmod 600` it",
            );
        }
    }
    Ok(())
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
fn read(file: &File, path: &Path) -> Result<(Vec<Line>, u64), JournalError> {
    let io = |error| JournalError::Io(path.to_path_buf(), error);
    let mut file = file;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut reader = BufReader::new(file);
    let mut lines = Vec::new();
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
        let corrupt = || JournalError::Corrupt {
            path: path.to_path_buf(),
            line: number,
        };
        let text = std::str::from_utf8(&line)
            .map_err(|_| corrupt())?
            .trim_end();
        if !text.is_empty() {
            let (seal, json) = text.split_once(' ').ok_or_else(corrupt)?;
            let entry = serde_json::from_str(json).map_err(|_| corrupt())?;
            lines.push(Line {
                number,
                seal: seal.to_string(),
                json: json.to_string(),
                entry,
            });
        }
        clean = clean.saturating_add(read as u64);
    }
    Ok((lines, clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(record: Record) -> Entry {
        Entry {
            at: Utc::now(),
            run: "r1".into(),
            account: "tb".into(),
            old: "7".into(),
            record,
        }
    }

    fn seal() -> Seal {
        Seal::new("tb-credential", "thingsboard http://127.0.0.1 user")
    }

    #[test]
    fn lines_round_trip_sealed_and_a_torn_last_line_is_cut_off() {
        let dir = crate::rotation::tests::tempdir();
        let path = dir.join("journal");
        let written = vec![
            entry(Record::Create {
                marker: "~ak1.abcdefghij-1".into(),
                name: "ci ~ak1.abcdefghij-1".into(),
            }),
            entry(Record::Created { new: "8".into() }),
        ];
        {
            let (journal, lines) = Journal::open(&path).unwrap();
            assert!(lines.is_empty());
            journal.append(&seal(), &written).unwrap();
        }
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"00 {"at":"2026-01-01T00:00:00Z","ru"#)
            .unwrap();
        drop(file);
        let (journal, lines) = Journal::open(&path).unwrap();
        let read: Vec<Entry> = lines.iter().map(|l| l.entry.clone()).collect();
        assert_eq!(read, written);
        assert!(lines.iter().all(|l| l.sealed_by(&seal())));
        journal.append(&seal(), &[entry(Record::Revoked)]).unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(
            text.lines()
                .last()
                .unwrap()
                .contains(r#""record":{"step":"revoked"}"#)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    // issue 22, case 6: a line the run did not write (edited, or sealed for another
    // credential or another account identity) does not verify.
    #[test]
    fn an_edited_or_foreign_line_is_not_sealed_by_the_account() {
        let dir = crate::rotation::tests::tempdir();
        let path = dir.join("journal");
        let (journal, _) = Journal::open(&path).unwrap();
        journal
            .append(&seal(), &[entry(Record::Created { new: "8".into() })])
            .unwrap();
        let other = Seal::new("another-credential", "thingsboard http://127.0.0.1 user");
        let moved = Seal::new("tb-credential", "thingsboard https://other.example user");
        journal
            .append(&other, &[entry(Record::Created { new: "9".into() })])
            .unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen(r#""new":"8""#, r#""new":"1""#, 1);
        std::fs::write(&path, edited).unwrap();
        let (_, lines) = Journal::open(&path).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(!lines[0].sealed_by(&seal()), "edited");
        assert!(!lines[1].sealed_by(&seal()), "another credential");
        assert!(!lines[1].sealed_by(&moved));
        assert!(lines[1].sealed_by(&other));
    }

    // issue 22, case 5: a symlink, a foreign-writable or a non-regular journal is refused,
    // and the link's target is left as it was.
    #[cfg(unix)]
    #[test]
    fn a_journal_that_is_a_link_or_writable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::rotation::tests::tempdir();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let refused = Journal::open(&link).unwrap_err();
        assert!(refused.to_string().contains("symbolic link"), "{refused}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

        let open = dir.join("open");
        std::fs::write(&open, "").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).unwrap();
        let refused = Journal::open(&open).unwrap_err();
        assert!(refused.to_string().contains("writable"), "{refused}");

        let refused = Journal::open(&dir).unwrap_err();
        assert!(matches!(
            refused,
            JournalError::Io(..) | JournalError::Unsafe(..)
        ));
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
