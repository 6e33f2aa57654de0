//! `audit --sandbox`: every vendor of an in-process sandbox as an account, each seeded with
//! a key of every finding it can hold, to try the audit without an account of one's own.

use apikeys_sandbox::{Sandbox, SeedError, SeedKey, Vendor};
use chrono::{TimeDelta, Utc};

use crate::config::{Account, Config, Credential};
use crate::connect::Scope;
use crate::exit::Failure;
use crate::policy::PolicyArgs;

/// The keys seeded into every vendor: one for each finding of [`policy`]. A key with a field
/// the vendor cannot hold (an expiry at Nuki, `enabled: false` at balena) is left out.
fn keys() -> Vec<SeedKey> {
    let now = Utc::now();
    let days = TimeDelta::days;
    vec![
        SeedKey::new("audit-old").created_at(now - days(400)),
        SeedKey::new("audit-expired")
            .created_at(now - days(60))
            .expires_at(now - days(1)),
        SeedKey::new("audit-expiring")
            .created_at(now - days(20))
            .expires_at(now + days(3)),
        SeedKey::new("audit-disabled").enabled(false),
    ]
}

/// The policy unless flags say otherwise: a year's age, two weeks' notice, disabled keys.
fn policy() -> PolicyArgs {
    PolicyArgs {
        max_age: Some(TimeDelta::days(365)),
        expiring_within: Some(TimeDelta::days(14)),
        require_expiry: None,
        disabled_keys: Some(true),
    }
}

/// A started, seeded sandbox and the config that names each of its vendors as an account
/// (the account is the vendor's name). The sandbox serves until it is dropped.
pub async fn seeded() -> Result<(Config, Sandbox), Failure> {
    let sandbox = Sandbox::start()
        .await
        .map_err(|e| Failure::other(format!("could not start the sandbox: {e}")))?;
    let mut accounts = Vec::new();
    for &vendor in Vendor::ALL {
        // Both lists come from the vendor table, so every vendor has a scope.
        let Some(scope) = Scope::demo(&sandbox, vendor) else {
            continue;
        };
        for key in keys() {
            match sandbox.seed(vendor, [key]) {
                Ok(_) | Err(SeedError::Unsupported { .. }) => {}
                Err(error) => {
                    return Err(Failure::other(format!(
                        "could not seed the sandbox: {error}"
                    )));
                }
            }
        }
        accounts.push(Account {
            name: vendor.name().to_string(),
            base_url: sandbox.base_url(vendor),
            scope,
            credential: Credential::Given(sandbox.credential(vendor)),
            line: 0,
        });
    }
    let config = Config {
        policy: policy(),
        accounts,
    };
    Ok((config, sandbox))
}
