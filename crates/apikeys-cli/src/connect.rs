//! From the command line to a `Box<dyn KeyLifecycle>`. Each vendor's client and scope
//! type is known only to `vendors.rs`, generated from the vendor table.

use std::time::Duration;

use apikeys_common::{ClientBuilder, DEFAULT_CONNECT_TIMEOUT, KeyLifecycle, Secret, Vendor};

use crate::cli::{Action, Command};
use crate::credential::{self, Reach};
use crate::exit::Failure;
pub use crate::vendors::Scope;

/// What `User-Agent` starts with.
const PRODUCT: &str = concat!("apikeys-cli/", env!("CARGO_PKG_VERSION"));

/// Where and as whom to manage keys.
#[derive(Clone, Debug)]
pub struct Target {
    /// The API's base URL.
    pub base_url: String,
    /// The credential (its `Debug` is redacted).
    pub api_key: Secret,
    /// How long one request may take.
    pub timeout: Duration,
    /// Whether plain http is allowed on a host other than loopback.
    pub allow_insecure_http: bool,
    /// Whose keys.
    pub scope: Scope,
}

impl Target {
    /// The vendor's name.
    pub fn vendor(&self) -> &'static str {
        self.scope.vendor()
    }

    /// The key lifecycle this target describes: the one place a client is built.
    pub fn lifecycle(&self) -> apikeys_common::Result<Box<dyn KeyLifecycle>> {
        self.scope.clone().lifecycle(self)
    }

    /// A client of the vendor's crate for this target.
    pub fn client<V: Vendor>(&self) -> apikeys_common::Result<V> {
        ClientBuilder::<V>::new(self.base_url.as_str())
            .api_key(self.api_key.clone())
            .timeout(self.timeout)
            .allow_insecure_http(self.allow_insecure_http)
            .connect_timeout(self.timeout.min(DEFAULT_CONNECT_TIMEOUT))
            .user_agent(PRODUCT)
            .build()
    }
}

/// A vendor command, checked: the target and what to do there.
#[derive(Debug)]
pub struct Invocation {
    /// Where.
    pub target: Target,
    /// What.
    pub action: Action,
}

/// Checks a vendor command: every vendor needs a credential, and most a scope. Errors name
/// the vendor through `Err((vendor, failure))`.
pub fn resolve(
    command: Command,
    timeout: Duration,
    reach: &Reach,
) -> Result<Invocation, (&'static str, Failure)> {
    let (base_url, api_key, action, scope) = match command {
        Command::Vendor(command) => command.resolve()?,
        Command::Demo => {
            return Err(("demo", Failure::other("the demo is not a vendor command")));
        }
        Command::Audit(_) => {
            return Err(("audit", Failure::other("the audit is not a vendor command")));
        }
        Command::Exporter(_) => {
            return Err((
                "exporter",
                Failure::other("the exporter is not a vendor command"),
            ));
        }
        Command::Rotate(_) => {
            return Err((
                "rotate",
                Failure::other("rotate --due is not a vendor command"),
            ));
        }
        Command::Completions { .. } => {
            return Err(("completions", Failure::other("not a vendor command")));
        }
    };
    let vendor = scope.vendor();
    let api_key = credential::read(vendor, api_key, reach.api_key_file.as_deref())
        .map_err(|failure| (vendor, failure))?;
    Ok(Invocation {
        target: Target {
            base_url,
            api_key,
            timeout,
            allow_insecure_http: reach.allow_insecure_http,
            scope,
        },
        action,
    })
}

/// A scope flag's value, or the error naming the flag and its variable.
pub fn required<T>(
    vendor: &'static str,
    value: Option<T>,
    flag: &str,
    variable: &str,
) -> Result<T, (&'static str, Failure)> {
    value.ok_or_else(|| {
        (
            vendor,
            Failure::invalid(format!(
                "{flag} is required (or set APIKEYS_{}_{variable})",
                vendor.to_ascii_uppercase()
            )),
        )
    })
}

/// A list flag's values for new keys (trimmed, upper-cased, empty ones dropped), of which
/// an action that creates a key (create, rotate) needs at least one.
pub fn for_new_keys(
    vendor: &'static str,
    action: &Action,
    values: &[String],
    flag: &str,
    example: &str,
) -> Result<Vec<String>, (&'static str, Failure)> {
    let values: Vec<String> = values
        .iter()
        .map(|value| value.trim().to_ascii_uppercase())
        .filter(|value| !value.is_empty())
        .collect();
    if values.is_empty() && matches!(action, Action::Create(_) | Action::Rotate(_)) {
        return Err((
            vendor,
            Failure::invalid(format!(
                "a new {vendor} key needs at least one {flag} (e.g. {flag} {example})"
            )),
        ));
    }
    Ok(values)
}
