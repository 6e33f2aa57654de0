//! Project automation, run as `cargo xtask <task>`.
//!
//! - `cargo xtask codegen` regenerates every vendor client from its fragment in `openapi/`.
//! - `cargo xtask codegen --check` changes nothing and fails when a committed client is stale.

mod codegen;
mod lint;
mod vendors;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use similar::TextDiff;

use crate::vendors::VENDORS;

const USAGE: &str = "usage: cargo xtask codegen [--check]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["codegen"] => false,
        ["codegen", "--check"] => true,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match codegen_all(&workspace_root(), check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Regenerates every vendor's client, or with `check` reports the stale ones.
fn codegen_all(root: &Path, check: bool) -> Result<(), String> {
    let mut stale = Vec::new();
    for vendor in VENDORS {
        let fresh = codegen::generate(root, vendor)?;
        let path = root.join(vendor.output());
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == fresh {
            continue;
        }
        if check {
            let diff = TextDiff::from_lines(&committed, &fresh);
            let label = vendor.output();
            eprint!("{}", diff.unified_diff().context_radius(2).header(&label, &format!("{label} (fresh)")));
            stale.push(label);
        } else {
            std::fs::write(&path, fresh).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote {}", vendor.output());
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

fn workspace_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

#[cfg(test)]
mod tests;
