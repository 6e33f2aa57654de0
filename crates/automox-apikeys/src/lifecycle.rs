//! [`KeyLifecycle`] for Automox: the keys of one user in one organization.

use apikeys_common::{
    CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, PartialKey, Result, numeric_id,
};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::types::{ApiKey, CreateApiKey, UpdateApiKey};
use crate::{Client, Org, Timestamp};

const VENDOR: &str = "automox";

/// The API keys of one Automox user in one organization, managed through
/// [`KeyLifecycle`] (every call goes through [`Client::org`]).
///
/// | operation | Automox call |
/// |---|---|
/// | `list` | `get_user_api_keys`, every page |
/// | `get` | `get_user_api_key` |
/// | `create` | `create_user_api_key` (name and expiry), then `decrypt_user_api_key` for the secret |
/// | `update` | `enabled`: `update_user_api_key` |
/// | `revoke` | `delete_user_api_key` |
///
/// Ids are the keys' numeric ids in decimal. `is_enabled` is the key's only mutable
/// property, so `update` refuses a new name before anything is sent.
///
/// Automox creates a key without showing its secret; the secret is read with a second
/// call. Should that call fail, the key exists without its secret having been seen:
/// decrypt it later, or revoke it (its id is in `list`).
///
/// ```no_run
/// # async fn demo() -> automox_apikeys::Result<()> {
/// use automox_apikeys::{KeyLifecycle, NewKey};
/// use automox_apikeys::{BASE_URL, Client, KeyScope};
///
/// let client = Client::builder(BASE_URL)
///     .api_key("21636369-8b52-4b4a-97b7-50923ceb3ffd")
///     .build()?;
/// let keys = KeyScope::new(client, 1234, 98765);
///
/// match keys.rotate("424242", &NewKey::named("ci-pipeline-2025-11")).await {
///     Ok(new) => println!("store it now: {}", new.secret.expose_secret()),
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct KeyScope {
    client: Client,
    org: i64,
    user_id: i64,
}

impl KeyScope {
    /// The keys of the user `user_id` in the organization `org`, managed with `client`.
    pub fn new(client: Client, org: i64, user_id: i64) -> Self {
        KeyScope {
            client,
            org,
            user_id,
        }
    }

    /// The client the calls are made with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The organization the keys belong to.
    pub fn org_id(&self) -> i64 {
        self.org
    }

    /// The user whose keys these are.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    fn org(&self) -> Org<'_> {
        self.client.org(self.org)
    }
}

fn id_of(key: &ApiKey) -> Result<i64> {
    key.id.ok_or_else(|| Error::Decode {
        reason: "an automox key came without its `id`".into(),
        excerpt: String::new(),
    })
}

/// Automox lets a user hold at most 10 active keys per organization and refuses an 11th
/// with a bare 400: the error says so, and what to do.
fn too_many_keys(mut error: Error) -> Error {
    if let Error::Api(api) = &mut error
        && api.status.as_u16() == 400
        && api
            .message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("active"))
    {
        let said = api.message.take().unwrap_or_default();
        api.message = Some(format!(
            "a user may hold at most 10 active API keys per organization: disable or revoke \
             one first (automox said: {said})"
        ));
    }
    error
}

impl KeyLifecycle for KeyScope {
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    fn list(&self) -> BoxStream<'_, Result<KeyInfo>> {
        self.org()
            .get_user_api_keys()
            .user_id(self.user_id)
            .stream()
            .and_then(|key| futures::future::ready(KeyInfo::try_from(key)))
            .boxed()
    }

    fn create<'a>(&'a self, new: &'a NewKey) -> BoxFuture<'a, Result<CreatedKey>> {
        Box::pin(async move {
            let body = CreateApiKey {
                name: new.name.clone(),
                expires_at: new.expires_at.map(Timestamp::from),
            };
            let created = self
                .org()
                .create_user_api_key()
                .user_id(self.user_id)
                .body(body)
                .send()
                .await
                .map_err(too_many_keys)?;
            let key_id = id_of(&created)?;
            let key = KeyInfo::try_from(created)?;
            // Automox never answers a create with the secret: it is read with decrypt.
            let decrypted = self
                .org()
                .decrypt_user_api_key()
                .user_id(self.user_id)
                .id(key_id)
                .send()
                .await;
            match decrypted {
                Ok(found) => Ok(CreatedKey::new(key, found.api_key)),
                Err(error) => Err(Error::after_create(PartialKey::new().id(key.id), error)),
            }
        })
    }

    fn update<'a>(&'a self, id: &'a str, update: &'a KeyUpdate) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            if update.name.is_some() {
                return Err(Error::InvalidRequest(
                    "automox cannot rename an API key (`name` is not supported; only \
                     `enabled` can change)"
                        .into(),
                ));
            }
            let Some(enabled) = update.enabled else {
                return self.get(id).await;
            };
            let key = self
                .org()
                .update_user_api_key()
                .user_id(self.user_id)
                .id(key_id)
                .body(UpdateApiKey {
                    is_enabled: enabled,
                })
                .send()
                .await?;
            KeyInfo::try_from(key)
        })
    }

    fn abilities(&self) -> apikeys_common::KeyAbilities {
        // `is_enabled` can be set; the name cannot.
        apikeys_common::KeyAbilities::new().disable()
    }

    fn revoke<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            self.org()
                .delete_user_api_key()
                .user_id(self.user_id)
                .id(key_id)
                .send()
                .await?;
            Ok(())
        })
    }

    /// `get_user_api_key`: one request.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            let key = self
                .org()
                .get_user_api_key()
                .user_id(self.user_id)
                .id(key_id)
                .send()
                .await?;
            KeyInfo::try_from(key)
        })
    }
}
