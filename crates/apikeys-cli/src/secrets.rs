//! Where a new key's secret goes: a file of the user's own (mode 0600, never overwriting
//! unless asked), stdout, or both. `create` and `rotate` refuse to run without one, so a
//! secret the vendor shows once is never lost.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use apikeys_common::Secret;

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
    /// Refuses, before anything is sent, a command whose new secret would go nowhere, and a
    /// `--secret-file` that exists already (unless `--force`).
    pub fn check(&self) -> Result<(), Failure> {
        if self.file.is_none() && !self.show {
            return Err(Failure::invalid(
                "the new key's secret is shown only once and would be lost: pass \
                 --secret-file PATH (written with mode 0600) or --show-secret (stdout)",
            ));
        }
        if let Some(path) = &self.file
            && !self.force
            && std::fs::symlink_metadata(path).is_ok()
        {
            return Err(Failure::invalid(format!(
                "{} exists already: choose another --secret-file, or pass --force to \
                 replace it",
                path.display()
            )));
        }
        Ok(())
    }

    /// Writes `secret` to the file, if there is one, and syncs it to disk.
    pub fn store(&self, secret: &Secret) -> Result<(), Failure> {
        match &self.file {
            Some(path) => write(path, secret, self.force).map_err(|e| {
                Failure::other(format!(
                    "could not write the secret to {}: {e}",
                    path.display()
                ))
            }),
            None => Ok(()),
        }
    }
}

/// Writes `secret` and a newline to `path`, created with mode 0600 (an existing file only
/// with `force`, and then made 0600 too), and syncs file and data before returning.
fn write(path: &Path, secret: &Secret, force: bool) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        // `mode` applies only to a file it creates: a replaced file is narrowed too.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(secret.expose_secret().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}
