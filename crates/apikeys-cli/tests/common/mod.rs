//! What the `apikeys` binary's test files share: a sandbox on a runtime of its own, the
//! command with no `APIKEYS_*` variable of the developer's leaking in, and scratch folders.
#![allow(dead_code)] // Each test file uses its own part of this.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use apikeys_sandbox::Sandbox;

pub mod accounts;
pub mod openmetrics;
pub mod vendors;
use assert_cmd::Command;

/// A sandbox serving on its own runtime for as long as the test holds it.
pub struct Running {
    pub sandbox: Sandbox,
    // Declared after the sandbox: dropped last, so the server stops inside its runtime.
    _runtime: tokio::runtime::Runtime,
}

impl std::ops::Deref for Running {
    type Target = Sandbox;

    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

impl Running {
    pub fn start() -> Running {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime.block_on(Sandbox::start()).unwrap();
        Running {
            sandbox,
            _runtime: runtime,
        }
    }
}

/// `apikeys`, without the caller's `APIKEYS_*` variables, given a minute at most.
pub fn apikeys() -> Command {
    let mut cmd = Command::cargo_bin("apikeys").unwrap();
    for (name, _) in std::env::vars() {
        if name.starts_with("APIKEYS_") {
            cmd.env_remove(name);
        }
    }
    cmd.timeout(std::time::Duration::from_secs(60));
    cmd
}

/// A fresh directory of the test's own.
pub fn tempdir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "apikeys-cli-test-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes at `path` a config whose one account, `tb`, is `sandbox`'s ThingsBoard user, its
/// credential read from the variable `variable`.
pub fn thingsboard_config(sandbox: &Running, path: &std::path::Path, variable: &str) {
    let vendor = apikeys_sandbox::Vendor::ThingsBoard;
    std::fs::write(
        path,
        format!(
            "[[account]]\nname = \"tb\"\nvendor = \"thingsboard\"\nbase-url = \"{}\"\n\
             scope = {{ user-id = \"{}\" }}\ncredential = {{ env = \"{variable}\" }}\n",
            sandbox.base_url(vendor),
            sandbox.scopes().thingsboard.user_id
        ),
    )
    .unwrap();
}

/// A scope value as a flag takes it: a list comma-separated, a string unquoted.
pub fn flag_value(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Array(items) => items.iter().map(flag_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

impl Running {
    /// The sandbox's ThingsBoard credential.
    pub fn thingsboard_key(&self) -> String {
        self.credential(apikeys_sandbox::Vendor::ThingsBoard)
            .expose_secret()
            .to_string()
    }

    /// `apikeys thingsboard <args>` against the sandbox's ThingsBoard user, with `key`.
    pub fn thingsboard(&self, key: &str, args: &[&str]) -> Command {
        let mut cmd = apikeys();
        cmd.arg("thingsboard")
            .args(args)
            .arg("--base-url")
            .arg(self.base_url(apikeys_sandbox::Vendor::ThingsBoard))
            .arg("--user-id")
            .arg(self.scopes().thingsboard.user_id.to_string())
            .env("APIKEYS_THINGSBOARD_API_KEY", key);
        cmd
    }

    /// The ids of the sandbox's ThingsBoard user's keys, sorted.
    pub fn thingsboard_ids(&self) -> Vec<String> {
        let out = self
            .thingsboard(&self.thingsboard_key(), &["list", "--json"])
            .assert()
            .success();
        let keys: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let mut ids: Vec<String> = keys
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    }
}
