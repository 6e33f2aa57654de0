//! From the command line to a `Box<dyn KeyLifecycle>`: the one place that knows each
//! vendor's client and scope type.

use std::time::Duration;

use apikeys_common::{ClientBuilder, DEFAULT_CONNECT_TIMEOUT, KeyLifecycle, Secret, Vendor};
use uuid::Uuid;

use crate::cli::{Action, Command};
use crate::exit::Failure;

/// What `User-Agent` starts with.
const PRODUCT: &str = concat!("apikeys-cli/", env!("CARGO_PKG_VERSION"));

/// The scope a vendor's keys live in, and what that vendor needs to know of it.
#[derive(Clone, Debug)]
pub enum Scope {
    /// The keys of one ThingsBoard user.
    Thingsboard {
        /// The user.
        user_id: Uuid,
    },
    /// The keys of one SensorBucket tenant.
    Sensorbucket {
        /// The tenant.
        tenant_id: i64,
        /// What new keys may do.
        permissions: Vec<sensorbucket_apikeys::types::Permission>,
    },
    /// The keys of the Nuki account the token belongs to.
    Nuki,
    /// The named keys of the balena user the key belongs to.
    Balena,
    /// The keys of one Automox user in one organization.
    Automox {
        /// The organization.
        org: i64,
        /// The user.
        user_id: i64,
    },
}

impl Scope {
    /// The vendor's name, as the command line and messages spell it.
    pub fn vendor(&self) -> &'static str {
        match self {
            Scope::Thingsboard { .. } => "thingsboard",
            Scope::Sensorbucket { .. } => "sensorbucket",
            Scope::Nuki => "nuki",
            Scope::Balena => "balena",
            Scope::Automox { .. } => "automox",
        }
    }
}

/// Where and as whom to manage keys.
#[derive(Clone, Debug)]
pub struct Target {
    /// The API's base URL.
    pub base_url: String,
    /// The credential (its `Debug` is redacted).
    pub api_key: Secret,
    /// How long one request may take.
    pub timeout: Duration,
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
        Ok(match &self.scope {
            Scope::Thingsboard { user_id } => {
                Box::new(thingsboard_apikeys::UserKeys::new(self.client()?, *user_id))
            }
            Scope::Sensorbucket {
                tenant_id,
                permissions,
            } => Box::new(sensorbucket_apikeys::TenantKeys::new(
                self.client()?,
                *tenant_id,
                permissions.clone(),
            )),
            Scope::Nuki => Box::new(nuki_apikeys::AccountKeys::new(self.client()?)),
            Scope::Balena => Box::new(balena_apikeys::UserKeys::new(self.client()?)),
            Scope::Automox { org, user_id } => Box::new(automox_apikeys::UserKeys::new(
                self.client()?,
                *org,
                *user_id,
            )),
        })
    }

    fn client<V: Vendor>(&self) -> apikeys_common::Result<V> {
        ClientBuilder::<V>::new(self.base_url.as_str())
            .api_key(self.api_key.clone())
            .timeout(self.timeout)
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
pub fn resolve(command: Command, timeout: Duration) -> Result<Invocation, (&'static str, Failure)> {
    let (base_url, api_key, action, scope) = match command {
        Command::Thingsboard(args) => {
            let user_id = required("thingsboard", args.user_id, "--user-id", "USER_ID")?;
            let scope = Scope::Thingsboard { user_id };
            (args.base_url, args.api_key, args.action, scope)
        }
        Command::Sensorbucket(args) => {
            let tenant_id = required("sensorbucket", args.tenant_id, "--tenant-id", "TENANT_ID")?;
            let permissions = args
                .permissions
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(|p| {
                    sensorbucket_apikeys::types::Permission::from(p.to_ascii_uppercase().as_str())
                })
                .collect::<Vec<_>>();
            if permissions_needed(&args.action) && permissions.is_empty() {
                return Err((
                    "sensorbucket",
                    Failure::invalid(
                        "a new sensorbucket key needs at least one --permission \
                         (e.g. --permission READ_DEVICES)",
                    ),
                ));
            }
            let scope = Scope::Sensorbucket {
                tenant_id,
                permissions,
            };
            (args.base_url, args.api_key, args.action, scope)
        }
        Command::Nuki(args) => (args.base_url, args.api_key, args.action, Scope::Nuki),
        Command::Balena(args) => (args.base_url, args.api_key, args.action, Scope::Balena),
        Command::Automox(args) => {
            let org = required("automox", args.org, "--org", "ORG")?;
            let user_id = required("automox", args.user_id, "--user-id", "USER_ID")?;
            let scope = Scope::Automox { org, user_id };
            (args.base_url, args.api_key, args.action, scope)
        }
        Command::Demo => {
            return Err(("demo", Failure::other("the demo is not a vendor command")));
        }
        Command::Completions { .. } => {
            return Err(("completions", Failure::other("not a vendor command")));
        }
    };
    let vendor = scope.vendor();
    let api_key = match api_key {
        Some(key) if !key.trim().is_empty() => Secret::from(key.trim().to_string()),
        _ => {
            return Err((
                vendor,
                Failure::invalid(format!(
                    "no API key: pass --api-key or set APIKEYS_{}_API_KEY",
                    vendor.to_ascii_uppercase()
                )),
            ));
        }
    };
    Ok(Invocation {
        target: Target {
            base_url,
            api_key,
            timeout,
            scope,
        },
        action,
    })
}

fn required<T>(
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

/// Whether the action creates a key, which SensorBucket gives permissions.
fn permissions_needed(action: &Action) -> bool {
    matches!(action, Action::Create(_) | Action::Rotate(_))
}
