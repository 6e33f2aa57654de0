//! The seeded ids a client needs to address its calls: whose keys, in which tenant or
//! organization.

use std::fmt;

use apikeys_common::Secret;
use uuid::Uuid;

/// The seeded scope of every vendor: see [`Sandbox::scopes`](crate::Sandbox::scopes).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Scopes {
    /// ThingsBoard's tenant and user.
    pub thingsboard: ThingsBoardScope,
    /// SensorBucket's tenant.
    pub sensorbucket: SensorBucketScope,
    /// Nuki's account and seeded API key.
    pub nuki: NukiScope,
    /// balena's user, fleet and device.
    pub balena: BalenaScope,
    /// Automox's organization and user.
    pub automox: AutomoxScope,
}

/// ThingsBoard: the tenant administrator whose API key is the credential.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ThingsBoardScope {
    /// The tenant's id.
    pub tenant_id: Uuid,
    /// The user's id: pass it to `get_user_api_keys().user_id(..)` and in `SaveApiKeyRequest`.
    pub user_id: Uuid,
    /// The user's login (`login()` takes it with [`ThingsBoardScope::password`]).
    pub username: String,
    /// The user's password.
    pub password: String,
}

/// SensorBucket: the tenant the seeded keys belong to.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SensorBucketScope {
    /// The tenant's id, for `CreateApiKeyRequest::tenant_id` and `list_api_keys().tenant_id(..)`.
    pub tenant_id: i64,
    /// The tenant's name (each key's `tenant_name`).
    pub tenant_name: String,
    /// An archived tenant: creating a key in it is a 404, as on the real server.
    pub archived_tenant_id: i64,
}

/// Nuki: the account and the API key whose token is the credential.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NukiScope {
    /// The account's id (every key's and token's `accountId`).
    pub account_id: i32,
    /// The seeded API key that holds the credential's token and an advanced API key.
    pub api_key_id: i32,
    /// The id of the credential's token (revoking it locks the credential out).
    pub token_id: String,
}

/// balena: the user behind the session token, and a fleet and a device that user owns.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BalenaScope {
    /// The user's id (whoami's `actorTypeId`).
    pub user_id: i64,
    /// The user's actor id (whoami's `id`, the keys' `is_of__actor`).
    pub actor_id: i64,
    /// The user's name.
    pub username: String,
    /// A fleet of the user's, with one provisioning key.
    pub application_id: i64,
    /// The fleet's slug.
    pub application_slug: String,
    /// A device of the fleet, with one device key.
    pub device_id: i64,
    /// The device's uuid (32 hexadecimal digits).
    pub device_uuid: String,
    /// A named API key of the user: it may list keys, but not create, update or revoke
    /// them (401), as on openBalena.
    pub api_key: Secret,
    /// The fleet's provisioning key: as on openBalena it may create devices, but read
    /// neither its fleet nor any key (401).
    pub provisioning_key: Secret,
    /// The device's key: it reads its device and fleet, but no key (401).
    pub device_key: Secret,
}

/// Automox: the organization and the user whose key is the credential.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AutomoxScope {
    /// The organization's id (the `o` of every user call, the `id` of the org list).
    pub org_id: i64,
    /// The user's id.
    pub user_id: i64,
    /// The id of the credential's own key.
    pub api_key_id: i64,
    /// Another user of the organization, with a key of their own.
    pub other_user_id: i64,
}

impl fmt::Display for ThingsBoardScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tenant {}, user {} (login {} / {})",
            self.tenant_id, self.user_id, self.username, self.password
        )
    }
}

impl fmt::Display for SensorBucketScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tenant {} ({})", self.tenant_id, self.tenant_name)
    }
}

impl fmt::Display for NukiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "account {}, API key {} (token {})",
            self.account_id, self.api_key_id, self.token_id
        )
    }
}

impl fmt::Display for BalenaScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "user {} `{}` (actor {}), fleet {} `{}`, device {} `{}`",
            self.user_id,
            self.username,
            self.actor_id,
            self.application_id,
            self.application_slug,
            self.device_id,
            self.device_uuid
        )
    }
}

impl fmt::Display for AutomoxScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "organization {}, user {} (key {}); other user {}",
            self.org_id, self.user_id, self.api_key_id, self.other_user_id
        )
    }
}
