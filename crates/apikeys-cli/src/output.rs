//! What goes to stdout (tables, JSON, a requested secret) and the progress spinner on
//! stderr.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use apikeys_common::KeyInfo;
use chrono::{DateTime, SecondsFormat, Utc};
use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::exit::Failure;

/// Writes `text` to stdout, adding a final newline when it lacks one. When the reader has
/// gone (`apikeys ... | head -1`) the tool exits at once, quietly and successfully, as
/// command line tools do: nobody is left to read the rest.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(newline.as_bytes()))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::other(format!("could not write to stdout: {e}"))),
    }
}

/// Server text made safe for a terminal: every control character (an escape sequence's
/// ESC, a carriage return, a newline) becomes `?`.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The widest a table gets, on a terminal or not (a pipe, a log).
const TABLE_WIDTH: u16 = 100;

/// Writes `value` to stdout as pretty JSON.
pub fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::other(format!("could not write JSON: {e}")))?;
    print(&text)
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
