//! [`KeyLifecycle`] for ThingsBoard: the keys of one user.

use apikeys_common::{
    CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, PartialKey, Result, Secret,
};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use uuid::Uuid;

use crate::Client;
use crate::types::{ApiKey, ApiKeyInfo, SaveApiKeyRequest};

/// How many keys [`KeyScope::list`](KeyLifecycle::list) asks for per page.
const PAGE_SIZE: u32 = 100;

/// The API keys of one ThingsBoard user, managed through [`KeyLifecycle`].
///
/// | operation | ThingsBoard call |
/// |---|---|
/// | `list` | `get_user_api_keys`, every page of 100 |
/// | `get` | `list`, stopping at the key (the API has no single-key read) |
/// | `create` | `save_api_key` with `description` = the name, `enabled: true` and `expirationTime` (ms) when an expiry is given |
/// | `update` | `update_api_key_description` for a name, `enable_api_key` for `enabled` (both, in that order, when both are given) |
/// | `revoke` | `delete_api_key` |
///
/// Ids are the keys' UUIDs as text. Every field of [`KeyInfo`] is filled in: an
/// `expirationTime` of 0 (never) becomes `expires_at: None`.
///
/// ```no_run
/// # async fn demo() -> thingsboard_apikeys::Result<()> {
/// use thingsboard_apikeys::{KeyLifecycle, NewKey};
/// use thingsboard_apikeys::{Client, KeyScope};
///
/// let client = Client::builder("https://thingsboard.cloud")
///     .api_key("tb_UvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA")
///     .build()?;
/// let user = uuid::uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
/// let keys = KeyScope::new(client, user);
///
/// let old = "a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a";
/// match keys.rotate(old, &NewKey::named("CI deploy key")).await {
///     Ok(new) => println!("store it now: {}", new.secret.expose_secret()),
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct KeyScope {
    client: Client,
    user_id: Uuid,
}

impl KeyScope {
    /// The keys of the user `user_id`, managed with `client`.
    pub fn new(client: Client, user_id: Uuid) -> Self {
        KeyScope { client, user_id }
    }

    /// The client the calls are made with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The user whose keys these are.
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }
}

/// A key id given as text: ThingsBoard's ids are UUIDs.
fn key_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id.trim()).map_err(|_| {
        Error::InvalidRequest(format!("`{id}` is not a key id: thingsboard ids are UUIDs"))
    })
}

/// ThingsBoard's times are milliseconds since the epoch; 0 means "never" for expiry.
fn millis(ms: i64) -> Option<DateTime<Utc>> {
    (ms != 0)
        .then(|| DateTime::from_timestamp_millis(ms))
        .flatten()
}

fn info(key: ApiKeyInfo) -> KeyInfo {
    key_info(
        key.id.id,
        key.description,
        key.enabled,
        key.created_time,
        key.expiration_time,
    )
}

fn key_info(id: Uuid, description: String, enabled: bool, created: i64, expires: i64) -> KeyInfo {
    let mut info = KeyInfo::new(id.to_string())
        .name(description)
        .enabled(enabled);
    info.created_at = millis(created);
    info.expires_at = millis(expires);
    info
}

fn saved(key: ApiKey) -> Result<CreatedKey> {
    let Some(secret) = key.value.map(Secret::from) else {
        let error = Error::Decode {
            reason: "save_api_key answered without the key's `value`".into(),
            excerpt: String::new(),
        };
        return Err(Error::after_create(
            PartialKey::new().id(key.id.id.to_string()),
            error,
        ));
    };
    let key = key_info(
        key.id.id,
        key.description,
        key.enabled,
        key.created_time,
        key.expiration_time,
    );
    Ok(CreatedKey::new(key, secret))
}

impl KeyLifecycle for KeyScope {
    fn vendor(&self) -> &'static str {
        "thingsboard"
    }

    fn list(&self) -> BoxStream<'_, Result<KeyInfo>> {
        self.client
            .get_user_api_keys()
            .user_id(self.user_id)
            .page_size(PAGE_SIZE)
            .stream()
            .map_ok(info)
            .boxed()
    }

    fn create<'a>(&'a self, new: &'a NewKey) -> BoxFuture<'a, Result<CreatedKey>> {
        Box::pin(async move {
            let mut body = SaveApiKeyRequest::builder()
                .user_id(self.user_id)
                .description(new.name.clone())
                .enabled(true);
            if let Some(at) = new.expires_at {
                body = body.expiration_time(at.timestamp_millis());
            }
            let key = self.client.save_api_key().body(body).send().await?;
            saved(key)
        })
    }

    fn update<'a>(&'a self, id: &'a str, update: &'a KeyUpdate) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let uuid = key_id(id)?;
            if update.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(Error::InvalidRequest(
                    "a thingsboard key's description cannot be empty".into(),
                ));
            }
            let mut now = None;
            if let Some(name) = &update.name {
                let key = self
                    .client
                    .update_api_key_description()
                    .id(uuid)
                    .body(name.clone())
                    .send()
                    .await?;
                now = Some(key);
            }
            if let Some(enabled) = update.enabled {
                let key = self
                    .client
                    .enable_api_key()
                    .id(uuid)
                    .enabled_value(enabled)
                    .send()
                    .await?;
                now = Some(key);
            }
            match now {
                Some(key) => Ok(info(key)),
                None => self.get(id).await,
            }
        })
    }

    fn abilities(&self) -> apikeys_common::KeyAbilities {
        // `enable_api_key` and `update_api_key_description`.
        apikeys_common::KeyAbilities::new().disable().rename()
    }

    fn revoke<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let uuid = key_id(id)?;
            self.client.delete_api_key().id(uuid).send().await?;
            Ok(())
        })
    }

    /// Looks for the key in [`list`](KeyLifecycle::list), comparing UUIDs (so case and
    /// braces do not matter); a missing one is [`Error::NotFound`].
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let uuid = key_id(id)?;
            let wanted = uuid.to_string();
            let found = self
                .list()
                .try_filter(|key| futures::future::ready(key.id == wanted));
            futures::pin_mut!(found);
            found
                .try_next()
                .await?
                .ok_or_else(|| Error::NotFound(format!("thingsboard key `{id}`")))
        })
    }
}
