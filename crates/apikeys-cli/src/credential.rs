//! The credential: `--api-key KEY` (or its variable), `--api-key -` for standard input, or
//! `--api-key-file PATH`.

use std::io::Read;
use std::path::{Path, PathBuf};

use apikeys_common::Secret;

use crate::exit::Failure;

/// How to reach the vendor, from the global flags.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    /// `--api-key-file`.
    pub api_key_file: Option<PathBuf>,
    /// `--allow-insecure-http`.
    pub allow_insecure_http: bool,
}

/// The credential for `vendor`: from `file` when given, from stdin when `flag` is `-`,
/// else `flag` (the flag or its variable). Surrounding whitespace is dropped.
pub fn read(vendor: &str, flag: Option<String>, file: Option<&Path>) -> Result<Secret, Failure> {
    let text = match (file, flag) {
        (Some(path), _) => std::fs::read_to_string(path).map_err(|e| {
            Failure::invalid(format!(
                "could not read --api-key-file {}: {e}",
                path.display()
            ))
        })?,
        (None, Some(flag)) if flag == "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| {
                Failure::invalid(format!("could not read the API key from stdin: {e}"))
            })?;
            text
        }
        (None, Some(flag)) => flag,
        (None, None) => String::new(),
    };
    let key = text.trim();
    if key.is_empty() {
        return Err(Failure::invalid(format!(
            "no API key: pass --api-key KEY, --api-key - (stdin) or --api-key-file PATH, \
             or set {}",
            variable(vendor)
        )));
    }
    Ok(Secret::from(key.to_string()))
}

/// The variable that holds `vendor`'s credential: `APIKEYS_THINGSBOARD_API_KEY`, ….
pub fn variable(vendor: &str) -> String {
    format!("APIKEYS_{}_API_KEY", vendor.to_ascii_uppercase())
}
