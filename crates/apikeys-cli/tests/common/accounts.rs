//! A sandbox with config files naming its vendors as accounts, for the commands that read
//! a config file (`audit`, `exporter`).

use std::path::PathBuf;

use apikeys_sandbox::Vendor;
use assert_cmd::Command;

use super::{Running, apikeys, tempdir};

/// A sandbox on its own runtime for as long as the test holds it.
pub struct Fixture {
    pub sandbox: Running,
    pub dir: PathBuf,
}

impl Fixture {
    pub fn start() -> Fixture {
        let sandbox = Running::start();
        Fixture {
            sandbox,
            dir: tempdir(),
        }
    }

    /// An `[[account]]` of `vendor` in the sandbox's seeded scope, its credential in `env`.
    pub fn account(&self, vendor: Vendor, name: &str, env: &str) -> String {
        // The vendor table's scope, as the CLI's demo passes it.
        let fields: Vec<String> = super::vendors::scope(&self.sandbox, vendor)
            .into_iter()
            .map(|(key, value)| format!("{key} = {value}"))
            .collect();
        let scope = if fields.is_empty() {
            String::new()
        } else {
            format!("scope = {{ {} }}\n", fields.join(", "))
        };
        format!(
            "[[account]]\nname = \"{name}\"\nvendor = \"{}\"\nbase-url = \"{}\"\n{scope}\
             credential = {{ env = \"{env}\" }}\n\n",
            vendor.name(),
            self.sandbox.base_url(vendor)
        )
    }

    /// A config with one account per vendor, named after it, credentials in `KEY_<VENDOR>`.
    pub fn every_vendor(&self) -> String {
        Vendor::ALL
            .iter()
            .map(|&v| self.account(v, v.name(), &variable(v)))
            .collect()
    }

    /// `apikeys audit --config <file with text>` with every vendor's credential set.
    pub fn audit(&self, config: &str) -> Command {
        self.command("audit", config)
    }

    /// `apikeys <subcommand> --config <file with text>` with every vendor's credential set.
    pub fn command(&self, subcommand: &str, config: &str) -> Command {
        let path = self.write("config.toml", config);
        let mut cmd = apikeys();
        cmd.arg(subcommand).arg("--config").arg(path);
        cmd.envs(self.credentials());
        cmd
    }

    /// Every vendor's credential variable (as [`Fixture::every_vendor`] names them) and value.
    pub fn credentials(&self) -> Vec<(String, String)> {
        Vendor::ALL
            .iter()
            .map(|&vendor| {
                let secret = self.sandbox.credential(vendor);
                (variable(vendor), secret.expose_secret().to_string())
            })
            .collect()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

pub fn variable(vendor: Vendor) -> String {
    format!("KEY_{}", vendor.name().to_ascii_uppercase())
}
