//! What goes to stdout (tables, JSON, a requested secret) and the progress spinner on
//! stderr.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use apikeys_common::KeyInfo;
use chrono::{DateTime, SecondsFormat, Utc};
use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rustix::fs::{Mode, OFlags};
use serde::Serialize;

use crate::exit::Failure;

/// Writes `text` to stdout, adding a final newline when it lacks one. A failed write (the
/// reader gone, as under `| head -1`: Rust ignores SIGPIPE, so the write gets EPIPE; or a
/// full disk) is an [`crate::exit::Exit::Output`] failure, which
/// [`crate::exit::Exit::after_output`] weighs against the command's own outcome.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(newline.as_bytes()))
        .and_then(|()| stdout.flush());
    written.map_err(|e| Failure::output(&e))
}

/// Writes `line` and a newline to stderr. A failed write is ignored (nothing is left to
/// tell it to), where `eprintln!` would panic and turn the exit code into 101: under
/// `2>&1 | head -1`, stderr is the same closed pipe that made stdout fail.
pub fn eprint(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Refuses, as invalid input, a `flag`'s path that is there but is not a regular file (a
/// symbolic link, a directory, a fifo, a device): [`write_replacing`] would not follow it
/// but replace it, which is not what its owner meant.
pub fn check_replaceable(path: &Path, flag: &str) -> Result<(), Failure> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    match crate::secrets::kind(&metadata.file_type()) {
        None => Ok(()),
        Some(kind) => Err(Failure::invalid(format!(
            "{} is {kind}: {flag} replaces only a regular file (never through a link): \
             remove it or choose another path",
            path.display()
        ))),
    }
}

/// Writes `text` to `path` atomically, for a reader that may open it at any moment (as
/// node_exporter's textfile collector does): a new file in the same directory (created
/// exclusively, not through a link, mode 0644 whatever the umask: the reader is often
/// another user), synced, renamed over `path` (a rename replaces a link planted meanwhile,
/// never follows it), and the directory synced. The new file is removed on failure.
pub fn write_replacing(path: &Path, text: &str, flag: &str) -> Result<(), Failure> {
    let failed =
        |e: std::io::Error| Failure::other(format!("could not write {}: {e}", path.display()));
    check_replaceable(path, flag)?;
    let temporary = crate::secrets::temporary(path).map_err(failed)?;
    let written = (|| {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        let mode = Mode::from_raw_mode(0o644);
        let fd = rustix::fs::open(&temporary, flags | OFlags::CLOEXEC, mode)?;
        rustix::fs::fchmod(&fd, mode)?;
        let mut file = std::fs::File::from(fd);
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(failed(error));
    }
    std::fs::File::open(crate::secrets::directory(path))
        .and_then(|dir| dir.sync_all())
        .map_err(failed)
}

/// Whether `c` can deceive a reader of server or config text: a control character (C0,
/// DEL, C1: an escape sequence's ESC, a carriage return), a bidi override, embedding or
/// isolate (which reorders what follows), or a zero-width or line-breaking character.
fn hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{061c}'
                | '\u{feff}'
        )
}

/// Server and config text made safe for a terminal, a table or a CSV cell: every
/// [`hostile`] character is shown as its escape (`\u{202e}`), so it is seen, not obeyed.
pub fn sanitize(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if hostile(c) {
            safe.extend(c.escape_unicode());
        } else {
            safe.push(c);
        }
    }
    safe
}

/// [`sanitize`]d and at most `max` characters, the last of them `…` when cut: server text
/// for a metric label or a page, where an unbounded name would swamp the rest.
pub fn sanitize_bounded(text: &str, max: usize) -> String {
    let safe = sanitize(text);
    match safe.char_indices().nth(max) {
        None => safe,
        Some((cut, _)) => {
            let mut bounded = safe[..cut].to_string();
            bounded.pop();
            bounded.push('…');
            bounded
        }
    }
}

/// `value` as JSON (indented when `pretty`), every [`hostile`] character escaped as
/// `\uXXXX`: serde_json escapes C0 but writes DEL, C1, bidi and zero-width characters raw.
/// The one way the tool writes JSON. Escaping after serde_json is exact: outside strings
/// its output is ASCII punctuation, digits, letters and whitespace (C0, left alone), so
/// any other hostile character is inside a string, where `\uXXXX` means the same.
pub fn json(value: &impl Serialize, pretty: bool) -> Result<String, Failure> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(|e| Failure::other(format!("could not write JSON: {e}")))?;
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if hostile(c) && c >= ' ' {
            // Every hostile character is in the Basic Multilingual Plane: one `\uXXXX`.
            safe += &format!("\\u{:04x}", u32::from(c));
        } else {
            safe.push(c);
        }
    }
    Ok(safe)
}

/// The widest a table gets, on a terminal or not (a pipe, a log).
const TABLE_WIDTH: u16 = 100;

/// Writes `value` to stdout as pretty JSON.
pub fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    print(&json(value, true)?)
}

/// A new table with the house style: box drawing on a terminal, plain ASCII otherwise.
pub fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    if std::io::stdout().is_terminal() {
        table.load_style(presets::UTF8_FULL_CONDENSED);
    } else {
        table.load_style(presets::ASCII_FULL_CONDENSED);
    }
    table
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    let width = table.width().map_or(TABLE_WIDTH, |w| w.min(TABLE_WIDTH));
    table.set_width(width);
    table
}

/// Keys as a table: id, name, enabled, created, expires.
pub fn key_table(keys: &[KeyInfo]) -> Table {
    let mut table = table(&["id", "name", "enabled", "created", "expires"]);
    for key in keys {
        table.add_row(vec![
            sanitize(&key.id),
            key.name.as_deref().map_or_else(|| "-".into(), sanitize),
            match key.enabled {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => "-".into(),
            },
            time(key.created_at),
            time(key.expires_at),
        ]);
    }
    // Ids are copied and pasted: never broken across lines (names wrap instead).
    if let Some(id) = table.column_mut(0) {
        id.set_constraint(ColumnConstraint::ContentWidth);
    }
    table
}

/// Keys as `--json` or a table asks.
pub fn print_keys(keys: &[KeyInfo], json: bool) -> Result<(), Failure> {
    if json {
        print_json(&keys)
    } else {
        print(&key_table(keys).to_string())
    }
}

/// A time as the table shows it, `-` when unknown.
pub fn time(time: Option<DateTime<Utc>>) -> String {
    time.map_or_else(
        || "-".into(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// A spinner on stderr that counts keys as a list streams in; hidden unless stderr is a
/// terminal, so pipes and logs never see it.
pub fn spinner(what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}: {pos} so far") {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    // issue 22, case 11: the one function every table, CSV cell and message goes through.
    #[test]
    fn hostile_characters_are_shown_not_obeyed() {
        assert_eq!(sanitize("ci\u{1b}[31m"), "ci\\u{1b}[31m");
        assert_eq!(sanitize("a\u{85}b\u{7f}"), "a\\u{85}b\\u{7f}");
        assert_eq!(sanitize("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
        for c in [
            '\u{2066}', '\u{2069}', '\u{200b}', '\u{200f}', '\u{2060}', '\u{feff}',
        ] {
            assert_eq!(sanitize(&c.to_string()), c.escape_unicode().to_string());
        }
        assert_eq!(sanitize("ci-deploy ключ ☃"), "ci-deploy ключ ☃");
    }

    // issue 22, case 11: serde_json alone writes C1, bidi and zero-width characters raw.
    #[test]
    fn json_escapes_what_serde_json_writes_raw() {
        let name = "a\u{9b}b\u{202e}c\u{200b}d\u{feff}\u{7f}\n\"é";
        for pretty in [false, true] {
            let text = json(&serde_json::json!({ "name": name, "n": [1, 2] }), pretty).unwrap();
            assert!(text.is_ascii() || text.contains('é'), "{text}");
            assert!(!text.chars().any(|c| hostile(c) && c != '\n'), "{text}");
            assert!(
                text.contains("\\u009b") && text.contains("\\u202e"),
                "{text}"
            );
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back["name"], name, "the same text, only escaped");
        }
    }
}
