//! Project automation, run as `cargo xtask <task>`.
//!
//! - `cargo xtask codegen` regenerates every vendor client, and its response examples, from
//!   its fragment in `openapi/`.
//! - `cargo xtask codegen --check` changes nothing and fails when a committed client is stale.
//! - Either takes vendor names to work on those alone.
//! - Both also write (or check) the files derived from the vendor table: the sandbox's and
//!   the CLI's vendor lists and the README tables.
//! - The workspace is the one around the current directory, printed first.

mod codegen;
mod constraints;
mod derived;
mod error_body;
mod examples;
mod fields;
mod key_info;
mod lint;
mod odata;
mod patch;
mod required;
mod streams;
mod surface;
mod vendors;
mod wire_query;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use similar::TextDiff;

use crate::vendors::VENDORS;

const USAGE: &str = "usage: cargo xtask codegen [--check] [VENDOR...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (check, only) = match args.split_first() {
        Some((task, rest)) if task == "codegen" => match rest.split_first() {
            Some((flag, names)) if flag == "--check" => (true, names),
            _ => (false, rest),
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Found at run time: a target dir shared by two clones runs one clone's binary in both.
    let root = match std::env::current_dir()
        .map_err(|e| format!("cannot read the current directory: {e}"))
        .and_then(|dir| find_workspace_root(&dir))
    {
        Ok(root) => root,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let verb = if check { "checking" } else { "generating in" };
    println!("{verb} the workspace at {}", root.display());
    match codegen_all(&root, check, only) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Regenerates the vendors named in `only` (every vendor when empty), or with `check`
/// reports the stale ones and changes nothing.
fn codegen_all(root: &Path, check: bool, only: &[String]) -> Result<(), String> {
    if let Some(unknown) = only
        .iter()
        .find(|name| !VENDORS.iter().any(|v| v.name == **name))
    {
        return Err(format!(
            "no vendor `{unknown}` in xtask/src/vendors.rs\n{USAGE}"
        ));
    }
    let mut files = Vec::new();
    for vendor in VENDORS
        .iter()
        .filter(|v| only.is_empty() || only.iter().any(|n| *n == v.name))
    {
        files.push((vendor.output(), codegen::generate(root, vendor)?));
        files.push((vendor.examples_output(), examples::generate(root, vendor)?));
    }
    files.push((
        examples::SANDBOX.to_string(),
        examples::sandbox(root, VENDORS)?,
    ));
    files.extend(derived::all(root)?);
    let mut stale = Vec::new();
    for (label, fresh) in files {
        let path = root.join(&label);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == fresh {
            continue;
        }
        if check {
            let diff = TextDiff::from_lines(&committed, &fresh);
            let fresh_label = format!("{label} (fresh)");
            eprint!(
                "{}",
                diff.unified_diff()
                    .context_radius(2)
                    .header(&label, &fresh_label)
            );
            stale.push(label);
        } else {
            std::fs::write(&path, fresh).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote {label}");
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "stale generated code: {}\nrun `cargo xtask codegen` and commit the result",
            stale.join(", ")
        ))
    }
}

/// The nearest directory at or above `start` whose `Cargo.toml` has a `[workspace]` table.
fn find_workspace_root(start: &Path) -> Result<PathBuf, String> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if text.lines().any(|line| line.trim() == "[workspace]") {
            return Ok(dir.to_path_buf());
        }
    }
    Err(format!(
        "no Cargo.toml with a [workspace] table in {} or above it: run `cargo xtask` inside the workspace",
        start.display()
    ))
}

/// The workspace this xtask was compiled in: right for its own tests, which cargo runs there.
#[cfg(test)]
fn workspace_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

#[cfg(test)]
mod contrib;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tidy;
