//! The config file of `apikeys audit` (and `rotate --due`): the accounts to look at, and an
//! optional `[policy]` table.
//!
//! ```toml
//! [policy]
//! max-age = "90d"
//!
//! [[account]]
//! name = "tb-prod"
//! vendor = "thingsboard"
//! base-url = "https://tb.example.com"      # optional: the vendor's public API
//! scope = { user-id = "784f394c-42b6-435a-983c-b7beff2784f9" }
//! credential = { env = "TB_PROD_API_KEY" }  # or { file = "..." } or { command = "..." }
//! ```
//!
//! Every mistake is reported as `<file>:<line>: <field>: <what>` before any request, in
//! messages built here from toml's message and span: toml's own `Display` quotes the source
//! line, and serde's messages the value, either of which could be a secret written in the
//! wrong field; no message quotes a value. A secret written in the file itself is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apikeys_common::{KeyInfo, KeyLifecycle, Secret};
use clap::Args;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::IgnoredAny;
use toml::Spanned;

use crate::connect::{Scope, Target};
use crate::exit::Failure;
use crate::policy::{PolicyArgs, parse_duration};

/// `--config PATH`, for every command that reads the accounts.
#[derive(Clone, Debug, Default, Args)]
pub struct ConfigArgs {
    /// The accounts file [default: $XDG_CONFIG_HOME/apikeys/config.toml, else
    /// ~/.config/apikeys/config.toml].
    #[arg(long, value_name = "PATH", env = "APIKEYS_CONFIG")]
    pub config: Option<PathBuf>,
}

impl ConfigArgs {
    /// The file to read: `--config`, else the default path.
    pub fn path(&self) -> Result<PathBuf, Failure> {
        match &self.config {
            Some(path) => Ok(path.clone()),
            None => default_path().ok_or_else(|| {
                Failure::invalid("no --config given, and neither XDG_CONFIG_HOME nor HOME is set")
            }),
        }
    }

    /// Reads and checks the file.
    pub fn load(&self) -> Result<Config, Failure> {
        let path = self.path()?;
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Failure::invalid(format!(
                "could not read the config file {}: {e}",
                path.display()
            ))
        })?;
        parse(&path.display().to_string(), &text)
    }
}

/// `$XDG_CONFIG_HOME/apikeys/config.toml`, else `$HOME/.config/apikeys/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let set = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    let dir = set("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| Path::new(&home).join(".config")))?;
    Some(dir.join("apikeys").join("config.toml"))
}

/// A checked config file.
#[derive(Clone, Debug)]
pub struct Config {
    /// The `[policy]` table (all unset when there is none); flags override it.
    pub policy: PolicyArgs,
    /// The accounts, in the file's order.
    pub accounts: Vec<Account>,
}

/// How the accounts are reached, from the global flags.
#[derive(Clone, Copy, Debug)]
pub struct Reach {
    /// How long one request may take.
    pub timeout: Duration,
    /// `--allow-insecure-http`.
    pub allow_insecure_http: bool,
}

/// One `[[account]]`.
#[derive(Clone, Debug)]
pub struct Account {
    /// Its unique name.
    pub name: String,
    /// The API's base URL (the vendor's public API unless the file says otherwise).
    pub base_url: String,
    /// The vendor and whose keys.
    pub scope: Scope,
    /// Where the credential comes from.
    pub credential: Credential,
    /// The line of the file the account starts on.
    pub line: usize,
}

impl Account {
    /// The vendor's name.
    pub fn vendor(&self) -> &'static str {
        self.scope.vendor()
    }

    /// The account as a target: its credential read (this runs a `command` credential, so
    /// call it off the async runtime's threads, e.g. in `spawn_blocking`).
    pub fn target(&self, reach: Reach) -> Result<Target, Failure> {
        let api_key = self.credential.read().map_err(Failure::invalid)?;
        Ok(Target {
            base_url: self.base_url.clone(),
            api_key,
            timeout: reach.timeout,
            allow_insecure_http: reach.allow_insecure_http,
            scope: self.scope.clone(),
        })
    }

    /// Every key of the account, and the lifecycle that listed them.
    async fn list(&self, reach: Reach, on_key: &(dyn Fn() + Sync)) -> Result<Listed, Failure> {
        // A `command` credential runs a process: off the runtime's threads.
        let owned = self.clone();
        let target = tokio::task::spawn_blocking(move || owned.target(reach))
            .await
            .map_err(|e| Failure::other(format!("reading the credential stopped: {e}")))??;
        let secret = target.api_key.clone();
        let scrub = |error: &apikeys_common::Error| self.failure(error, &secret);
        let keys = target.lifecycle().map_err(|e| scrub(&e))?;
        let mut listed = Vec::new();
        let mut stream = keys.list();
        while let Some(key) = stream.try_next().await.map_err(|e| scrub(&e))? {
            listed.push(key);
            on_key();
        }
        drop(stream);
        drop(keys);
        Ok(Listed { listed })
    }

    /// The account's key lifecycle: its credential read and its client built (for
    /// `rotate --resume`, which lists nothing).
    pub fn lifecycle(&self, reach: Reach) -> Result<Box<dyn KeyLifecycle>, Failure> {
        let target = self.target(reach)?;
        target
            .lifecycle()
            .map_err(|error| self.failure(&error, &target.api_key))
    }

    /// A client's error as the account's failure: without `secret`, and a refused
    /// credential's source named as this file gives it (not `--api-key`).
    fn failure(&self, error: &apikeys_common::Error, secret: &Secret) -> Failure {
        let failure = Failure::from_error(error).credential_from(&self.credential_source());
        Failure {
            exit: failure.exit,
            message: failure.clean(&[secret.expose_secret()]),
        }
    }

    /// Where the account's credential comes from, for messages: `account `tb-prod`'s
    /// credential (variable TB_KEY, config line 7)`.
    fn credential_source(&self) -> String {
        let line = if self.line == 0 {
            String::new()
        } else {
            format!(", config line {}", self.line)
        };
        format!(
            "account `{}`'s credential ({}{line})",
            self.name,
            self.credential.describe()
        )
    }
}

/// Every key an account listed.
pub struct Listed {
    /// The account's keys.
    pub listed: Vec<KeyInfo>,
}

/// Lists the keys of every account, `concurrency` accounts at once, yielding each one's
/// index in `accounts`, its keys and how long listing them took, as it ends (`on_key` is
/// told of every key as it arrives). An error never holds the account's credential.
pub fn list_each<'a>(
    accounts: &'a [Account],
    reach: Reach,
    concurrency: usize,
    on_key: &'a (dyn Fn() + Sync),
) -> impl Stream<Item = (usize, Result<Listed, Failure>, Duration)> + 'a {
    futures::stream::iter(accounts.iter().enumerate())
        .map(move |(index, account)| async move {
            let start = Instant::now();
            let listed = account.list(reach, on_key).await;
            (index, listed, start.elapsed())
        })
        .buffer_unordered(concurrency.max(1))
}

/// Where an account's credential comes from (a config file never holds the credential itself).
#[derive(Clone, Debug)]
pub enum Credential {
    /// An environment variable.
    Env(String),
    /// A file (its content, trimmed).
    File(PathBuf),
    /// A command run with `sh -c` (its standard output, trimmed).
    Command(String),
    /// A credential the program holds already (`audit --sandbox`'s); no file can say it.
    Given(Secret),
}

impl Credential {
    /// Reads the credential; an error says where it was looked for, never what was found.
    pub fn read(&self) -> Result<Secret, String> {
        let text = match self {
            Credential::Given(secret) => return Ok(secret.clone()),
            Credential::Env(name) => match std::env::var(name) {
                Ok(value) => value,
                Err(std::env::VarError::NotPresent) => {
                    return Err(format!("the credential variable {name} is not set"));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!("the credential variable {name} is not UTF-8"));
                }
            },
            Credential::File(path) => std::fs::read_to_string(path).map_err(|e| {
                format!("could not read the credential file {}: {e}", path.display())
            })?,
            Credential::Command(command) => {
                // Its stderr is not shown: it could hold what it was asked for.
                let output = Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .stdin(Stdio::null())
                    .stderr(Stdio::null())
                    .output()
                    .map_err(|e| format!("could not run the credential command: {e}"))?;
                if !output.status.success() {
                    return Err(format!(
                        "the credential command failed ({}); run it yourself to see why",
                        output.status
                    ));
                }
                String::from_utf8(output.stdout)
                    .map_err(|_| "the credential command printed something not UTF-8".to_string())?
            }
        };
        let value = text.trim();
        if value.is_empty() {
            return Err(format!("the credential ({}) is empty", self.describe()));
        }
        Ok(Secret::from(value.to_string()))
    }

    /// Where the credential is, for messages: `variable X`, `file P`, `command`.
    pub fn describe(&self) -> String {
        match self {
            Credential::Env(name) => format!("variable {name}"),
            Credential::File(path) => format!("file {}", path.display()),
            Credential::Command(_) => "command".to_string(),
            Credential::Given(_) => "built in".to_string(),
        }
    }
}

/// A list flag's or field's values: trimmed, upper-cased, the empty ones dropped.
pub fn normalized(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|value| value.trim().to_ascii_uppercase())
        .filter(|value| !value.is_empty())
        .collect()
}

/// The file as toml reads it, before the checks toml cannot make.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policy: Option<RawPolicy>,
    #[serde(default)]
    account: Vec<Spanned<RawAccount>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    max_age: Option<Spanned<String>>,
    expiring_within: Option<Spanned<String>>,
    require_expiry: Option<bool>,
    disabled_keys: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAccount {
    name: Spanned<String>,
    vendor: Spanned<String>,
    base_url: Option<Spanned<String>>,
    scope: Option<Spanned<toml::Table>>,
    // Read untyped so that no message of toml's can quote it.
    credential: Option<Spanned<toml::Value>>,
    // A secret written in the file: refused below, never read.
    api_key: Option<Spanned<IgnoredAny>>,
    token: Option<Spanned<IgnoredAny>>,
    secret: Option<Spanned<IgnoredAny>>,
    password: Option<Spanned<IgnoredAny>>,
}

/// Why a secret does not belong in the file.
const NO_LITERAL: &str = "a credential cannot be written in the config file (config files get \
     copied and committed): use credential = { env = \"VARIABLE\" }, { file = \"PATH\" } or \
     { command = \"pass show ...\" }";

/// Parses and checks the text of the config file `file` (its name, for messages).
pub fn parse(file: &str, text: &str) -> Result<Config, Failure> {
    let at = |span: Option<std::ops::Range<usize>>, message: &str| {
        let line = span.map_or(0, |span| line_of(text, span.start));
        Failure::invalid(if line == 0 {
            format!("{file}: {message}")
        } else {
            format!("{file}:{line}: {message}")
        })
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let message = without_value(e.message());
        match e.span().and_then(|span| field_at(text, span)) {
            Some(field) if !message.contains(&format!("`{field}`")) => {
                at(e.span(), &format!("{field}: {message}"))
            }
            _ => at(e.span(), &message),
        }
    })?;
    let mut policy = PolicyArgs::default();
    if let Some(raw) = raw.policy {
        let duration = |field: Option<Spanned<String>>, key: &str| {
            field
                .map(|value| {
                    parse_duration(value.get_ref())
                        .map_err(|e| at(Some(value.span()), &format!("policy {key}: {e}")))
                })
                .transpose()
        };
        policy.max_age = duration(raw.max_age, "max-age")?;
        policy.expiring_within = duration(raw.expiring_within, "expiring-within")?;
        policy.require_expiry = raw.require_expiry;
        policy.disabled_keys = raw.disabled_keys;
    }
    if raw.account.is_empty() {
        return Err(at(
            None,
            "no [[account]]: add one per account to audit (name, vendor, scope, credential)",
        ));
    }
    let mut accounts: Vec<Account> = Vec::with_capacity(raw.account.len());
    for spanned in raw.account {
        let start = spanned.span();
        let raw = spanned.into_inner();
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(at(
                Some(raw.name.span()),
                "an account's name cannot be empty",
            ));
        }
        let this = format!("account `{}`", crate::output::sanitize(&name));
        if let Some(first) = accounts.iter().find(|account| account.name == name) {
            return Err(at(
                Some(raw.name.span()),
                &format!(
                    "name: duplicate account name (first on line {})",
                    first.line
                ),
            ));
        }
        if let Some(literal) = [&raw.api_key, &raw.token, &raw.secret, &raw.password]
            .into_iter()
            .flatten()
            .next()
        {
            return Err(at(Some(literal.span()), &format!("{this}: {NO_LITERAL}")));
        }
        let (scope_span, table) = match raw.scope {
            Some(scope) => (Some(scope.span()), scope.into_inner()),
            None => (None, toml::Table::new()),
        };
        let scope = Scope::from_config(raw.vendor.get_ref(), table).map_err(|e| {
            // The message of vendors.rs quotes an unknown vendor, and serde's the value.
            if let Some(("", vendors)) = e.split_once("unknown vendor ") {
                let known = vendors.split_once("; ").map_or("", |(_, known)| known);
                return at(
                    Some(raw.vendor.span()),
                    &format!("{this}: vendor: unknown vendor; {known}"),
                );
            }
            let span = scope_span.clone().or(Some(start.clone()));
            at(span, &format!("{this}: scope: {}", without_value(&e)))
        })?;
        let base_url = match raw.base_url {
            Some(url) => {
                let value = url.get_ref().trim();
                if !(value.starts_with("https://") || value.starts_with("http://")) {
                    return Err(at(
                        Some(url.span()),
                        &format!("{this}: base-url: must be an http:// or https:// URL"),
                    ));
                }
                value.to_string()
            }
            None => scope.default_base_url().to_string(),
        };
        let credential = match raw.credential {
            Some(value) => credential(value.get_ref())
                .map_err(|e| at(Some(value.span()), &format!("{this}: {e}")))?,
            None => {
                return Err(at(
                    Some(start),
                    &format!(
                        "{this} has no credential: add credential = {{ env = \"VARIABLE\" }}, \
                         {{ file = \"PATH\" }} or {{ command = \"...\" }}"
                    ),
                ));
            }
        };
        accounts.push(Account {
            name,
            base_url,
            scope,
            credential,
            line: line_of(text, start.start),
        });
    }
    Ok(Config { policy, accounts })
}

/// The `credential` value as a source, or why not (never quoting the value).
fn credential(value: &toml::Value) -> Result<Credential, String> {
    let table = match value {
        toml::Value::Table(table) => table,
        toml::Value::String(_) => return Err(NO_LITERAL.to_string()),
        _ => {
            return Err(
                "credential must be { env = \"VARIABLE\" }, { file = \"PATH\" } or \
                        { command = \"...\" }"
                    .to_string(),
            );
        }
    };
    let mut sources = Vec::new();
    for (key, value) in table {
        let text = match value {
            toml::Value::String(text) if !text.trim().is_empty() => text.trim().to_string(),
            _ if matches!(key.as_str(), "env" | "file" | "command") => {
                return Err(format!("credential {key} must be a non-empty string"));
            }
            _ => String::new(),
        };
        sources.push(match key.as_str() {
            "env" => Credential::Env(text),
            "file" => Credential::File(PathBuf::from(text)),
            "command" => Credential::Command(text),
            "value" | "key" | "api-key" | "token" | "secret" | "password" => {
                return Err(NO_LITERAL.to_string());
            }
            other => {
                return Err(format!(
                    "unknown credential source `{}`; use env, file or command",
                    crate::output::sanitize(other)
                ));
            }
        });
    }
    match <[Credential; 1]>::try_from(sources) {
        Ok([source]) => Ok(source),
        Err(_) => Err("credential needs exactly one of env, file or command".to_string()),
    }
}

/// serde's message without the value it quotes (`invalid type: string "s3cr3t", expected a
/// boolean` becomes `invalid type, expected a boolean`).
fn without_value(message: &str) -> String {
    for prefix in [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // The value may hold ", expected" itself: serde's own is the last.
            let expected = rest.rfind(", expected ").map_or("", |at| &rest[at..]);
            return format!("{prefix}{expected}");
        }
    }
    message.to_string()
}

/// The key whose value (or which key) the error at `span` is about, when that is on one
/// line: `require-expiry` for `require-expiry = "x"`, `env` for `credential = { env = 1 }`.
fn field_at(text: &str, span: std::ops::Range<usize>) -> Option<&str> {
    let before = text.get(..span.start)?;
    let line = &before[before.rfind('\n').map_or(0, |at| at + 1)..];
    let key = match line.rfind('=') {
        // The span is the value right after `key =`.
        Some(at) if line[at + 1..].trim().is_empty() => line[..at].trim_end(),
        Some(_) => return None,
        // The span is a key (`duplicate key`), never a value on a line of its own.
        None => {
            let after = text.get(span.end..)?.trim_start_matches([' ', '\t']);
            after.starts_with('=').then(|| text.get(span))??.trim()
        }
    };
    let bare = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let key = &key[key.rfind(|c: char| !bare(c)).map_or(0, |at| at + 1)..];
    (!key.is_empty()).then_some(key)
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.bytes().filter(|&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse("config.toml", text).unwrap_err().message
    }

    const SCOPELESS: &str = "[[account]]\nname = \"a\"\nvendor = \"nuki\"\n";

    #[test]
    fn a_minimal_account_gets_the_default_base_url() {
        let config = parse(
            "config.toml",
            &format!("{SCOPELESS}credential = {{ env = \"X\" }}\n"),
        )
        .unwrap();
        let account = &config.accounts[0];
        assert_eq!(account.vendor(), "nuki");
        assert_eq!(account.base_url, nuki_apikeys::BASE_URL);
        assert!(matches!(&account.credential, Credential::Env(name) if name == "X"));
        assert_eq!(account.line, 1);
        assert_eq!(config.policy, PolicyArgs::default());
    }

    #[test]
    fn errors_name_the_line_and_never_the_secret() {
        let literal = error(&format!("\n{SCOPELESS}credential = \"tb_canary_value\"\n"));
        assert!(
            literal.starts_with("config.toml:5: account `a`: a credential cannot"),
            "{literal}"
        );
        assert!(!literal.contains("tb_canary_value"));
        for line in [
            "api-key = \"tb_canary_value\"",
            "token = \"tb_canary_value\"",
            "credential = { value = \"tb_canary_value\" }",
            "credential = { env = \"X\", value = \"tb_canary_value\" }",
        ] {
            let message = error(&format!("{SCOPELESS}{line}\n"));
            assert!(message.starts_with("config.toml:4: "), "{message}");
            assert!(
                message.contains("cannot be written in the config file"),
                "{message}"
            );
            assert!(!message.contains("tb_canary_value"), "{message}");
        }
        let unknown = error(&format!(
            "{SCOPELESS}credential = {{ env = \"X\" }}\ncolour = 1\n"
        ));
        assert!(
            unknown.starts_with("config.toml:5: unknown field `colour`"),
            "{unknown}"
        );
        let syntax = error("[[account]]\nname = \"tb_canary_value\nvendor = 1\n");
        assert!(syntax.starts_with("config.toml:2: "), "{syntax}");
        assert!(!syntax.contains("tb_canary_value"), "{syntax}");
    }

    #[test]
    fn two_sources_or_none_are_refused() {
        let both = error(&format!(
            "{SCOPELESS}credential = {{ env = \"X\", file = \"/f\" }}\n"
        ));
        assert!(
            both.contains("exactly one of env, file or command"),
            "{both}"
        );
        let none = error(SCOPELESS);
        assert!(
            none.starts_with("config.toml:1: account `a` has no credential"),
            "{none}"
        );
    }

    #[test]
    fn a_policy_table_is_read_and_checked() {
        let config = parse(
            "c.toml",
            &format!(
                "[policy]\nmax-age = \"90d\"\nrequire-expiry = true\n{SCOPELESS}credential = {{ env = \"X\" }}\n"
            ),
        )
        .unwrap();
        assert_eq!(config.policy.max_age, Some(chrono::TimeDelta::days(90)));
        assert_eq!(config.policy.require_expiry, Some(true));
        let bad = error("[policy]\n\nexpiring-within = \"9999999999999999w\"\n");
        assert!(
            bad.starts_with("config.toml:3: policy expiring-within: "),
            "{bad}"
        );
        assert!(bad.contains("too long"), "{bad}");
    }

    #[test]
    fn the_default_path_follows_xdg_then_home() {
        // Read-only look at what the process has: both variables are usually set or unset
        // together in CI, so only the shape is checked.
        if let Some(path) = default_path() {
            assert!(path.ends_with("apikeys/config.toml"));
        }
    }
}
