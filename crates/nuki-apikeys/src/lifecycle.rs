//! [`KeyLifecycle`] for Nuki: the API keys of the authenticated account.

use apikeys_common::{
    CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, PartialKey, Result, numeric_id,
};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::Client;
use crate::types::{ApiKeyCreate, ApiKeyUpdate};

const VENDOR: &str = "nuki";

/// The API keys of the account the client authenticates as, managed through
/// [`KeyLifecycle`].
///
/// | operation | Nuki call |
/// |---|---|
/// | `list` | `list_api_keys` (one request: Nuki does not page) |
/// | `get` | `list_api_keys`, picking the key |
/// | `create` | `create_api_key` with the name as `description`; the secret is its `apiKey` |
/// | `update` | a name: `list_api_keys` for the key's redirect URIs, then `update_api_key` with the new `description` and those URIs, so they are kept |
/// | `revoke` | `delete_api_key` |
///
/// Ids are `apiKeyId`s in decimal. Nuki keys have no enabled flag and no expiry:
/// `update` refuses `enabled`, and `create` refuses an `expires_at`, before anything is
/// sent. [`KeyInfo::name`] is the key's `description`, `created_at` its `creationDate`.
///
/// ```no_run
/// # async fn demo() -> nuki_apikeys::Result<()> {
/// use apikeys_common::{KeyLifecycle, NewKey};
/// use nuki_apikeys::{KeyScope, BASE_URL, Client};
///
/// let client = Client::builder(BASE_URL)
///     .api_key("7b2e4f10a9c3d8e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4")
///     .build()?;
/// let keys = KeyScope::new(client);
///
/// match keys.rotate("1010101010", &NewKey::named("Home automation")).await {
///     Ok(new) => println!("store it now: {}", new.secret.expose_secret()),
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct KeyScope {
    client: Client,
}

impl KeyScope {
    /// The API keys of the account `client` authenticates as.
    pub fn new(client: Client) -> Self {
        KeyScope { client }
    }

    /// The client the calls are made with.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl KeyLifecycle for KeyScope {
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    fn list(&self) -> BoxStream<'_, Result<KeyInfo>> {
        self.client
            .list_api_keys()
            .stream()
            .map_ok(KeyInfo::from)
            .boxed()
    }

    fn create<'a>(&'a self, new: &'a NewKey) -> BoxFuture<'a, Result<CreatedKey>> {
        Box::pin(async move {
            if new.expires_at.is_some() {
                return Err(Error::InvalidRequest(
                    "nuki API keys cannot expire: create the key without `expires_at`".into(),
                ));
            }
            let body = ApiKeyCreate::builder().description(Some(new.name.clone()));
            let mut key = self.client.create_api_key().body(body).send().await?;
            let Some(secret) = key.api_key.take() else {
                let error = Error::Decode {
                    reason: "create_api_key answered without the key's `apiKey`".into(),
                    excerpt: String::new(),
                };
                return Err(Error::after_create(
                    PartialKey::new().id(key.api_key_id.to_string()),
                    error,
                ));
            };
            Ok(CreatedKey::new(KeyInfo::from(key), secret))
        })
    }

    fn update<'a>(&'a self, id: &'a str, update: &'a KeyUpdate) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i32 = numeric_id(VENDOR, id)?;
            update.refuse_enabled(VENDOR, "delete it")?;
            let mut key = self.client.list_api_keys().find(key_id).await?;
            let Some(name) = &update.name else {
                return Ok(KeyInfo::from(key));
            };
            // Whether Nuki clears a field left out of the update is not documented: the
            // key's redirect URIs are sent back as they are.
            let body = ApiKeyUpdate::builder()
                .description(Some(name.clone()))
                .redirect_uris(key.redirect_uris.clone());
            self.client
                .update_api_key()
                .api_key_id(key_id)
                .body(body)
                .send()
                .await?;
            key.description = Some(name.clone());
            Ok(KeyInfo::from(key))
        })
    }

    fn abilities(&self) -> apikeys_common::KeyAbilities {
        // The name is the description, which `update_api_key` sets.
        apikeys_common::KeyAbilities::new().rename()
    }

    fn revoke<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let key_id: i32 = numeric_id(VENDOR, id)?;
            self.client
                .delete_api_key()
                .api_key_id(key_id)
                .send()
                .await?;
            Ok(())
        })
    }

    /// The key from `list_api_keys`, compared by number; a missing one is
    /// [`Error::NotFound`].
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i32 = numeric_id(VENDOR, id)?;
            self.client
                .list_api_keys()
                .find(key_id)
                .await
                .map(KeyInfo::from)
        })
    }
}
