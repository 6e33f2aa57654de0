//! [`KeyLifecycle`] for balena: the caller's named user API keys.

use apikeys_common::{
    CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, PartialKey, Result, numeric_id,
    one_off_marker,
};
use std::sync::Arc;

use tokio::sync::OnceCell;

use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::odata::{ApiKeyField, Filter, ODataOptions};
use crate::{ApiKeyUpdate, Client};

const VENDOR: &str = "balena";

/// The named API keys of the user the client authenticates as, managed through
/// [`KeyLifecycle`] with the SDK methods of [`Client::api_key`].
///
/// | operation | balena call |
/// |---|---|
/// | `list` | the caller's named keys (`get_all` on the caller's actor), 100 at a time |
/// | `get` | the same, filtered on the id |
/// | `create` | `create` (name, expiry, a one-off marker as description), the key with that marker, then `update` to clear the marker |
/// | `update` | a name: `update`, then `get` for the key as it now is |
/// | `revoke` | `get` (balena answers success for an id it does not have), then `revoke` |
///
/// The caller's actor is asked of `whoami` once per client, as both official SDKs ask
/// it (a scope made from a client that already asked does not ask again). Ids are the
/// keys' numeric ids in decimal. balena keys have no enabled flag, so `update` refuses `enabled`
/// before anything is sent; [`KeyInfo::enabled`] is `None`. Creating, updating and revoking
/// need a user's session token (`.jwt(..)`), not an API key.
///
/// balena answers a create with the secret alone. To find the new key's id without racing
/// other creates of the same name, the key is created with a description no other key has
/// (`apikeys-create-…`), found by it, and the description is then cleared. Should a step
/// after the create fail, the error is [`Error::KeyCreated`] with the secret.
///
/// ```no_run
/// # async fn demo() -> balena_apikeys::Result<()> {
/// use balena_apikeys::{KeyLifecycle, NewKey};
/// use balena_apikeys::{Client, KeyScope};
///
/// let client = Client::builder("https://api.balena-cloud.com")
///     .jwt("eyJhbGciOiJIUzI1NiJ9.eyJpZCI6NDJ9.c2lnbmF0dXJl")
///     .build()?;
/// let keys = KeyScope::new(client);
///
/// match keys.rotate("4870231", &NewKey::named("ci-deploy-2025-11")).await {
///     Ok(new) => println!("store it now: {}", new.secret.expose_secret()),
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct KeyScope {
    client: Client,
    /// The caller's actor id, asked once (shared by clones).
    actor: Arc<OnceCell<i64>>,
}

impl KeyScope {
    /// The named API keys of the user `client` authenticates as.
    pub fn new(client: Client) -> Self {
        KeyScope {
            client,
            actor: Arc::default(),
        }
    }

    /// The caller's actor, from `whoami` the first time only (two first calls at once ask
    /// once; a failed ask is asked again next time).
    async fn actor(&self) -> Result<i64> {
        let ask = async || self.client.caller_actor().await;
        self.actor.get_or_try_init(ask).await.copied()
    }

    /// The caller's named keys (the filter `get_all_named_user_api_keys` sends), with
    /// what `more` adds to the options.
    async fn named(
        &self,
        more: impl FnOnce(ODataOptions) -> ODataOptions,
    ) -> Result<crate::ListRequest<'_>> {
        let actor = self.actor().await?;
        let mine = ODataOptions::new()
            .filter(Filter::eq(ApiKeyField::IsOfActor, actor))
            .filter(Filter::not_null(ApiKeyField::Name));
        Ok(self.client.api_key().get_all().options(more(mine)))
    }

    /// The client the calls are made with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The first of the caller's named keys that `filter` selects, if any.
    async fn first(&self, filter: Filter) -> Result<Option<KeyInfo>> {
        let rows = self
            .named(|mine| mine.filter(filter).top(1))
            .await?
            .send()
            .await?;
        rows.into_iter().next().map(KeyInfo::try_from).transpose()
    }
}

impl KeyLifecycle for KeyScope {
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    fn list(&self) -> BoxStream<'_, Result<KeyInfo>> {
        futures::stream::once(self.named(|mine| mine))
            .map_ok(|request| request.stream())
            .try_flatten()
            .and_then(|key| futures::future::ready(KeyInfo::try_from(key)))
            .boxed()
    }

    fn create<'a>(&'a self, new: &'a NewKey) -> BoxFuture<'a, Result<CreatedKey>> {
        Box::pin(async move {
            // Unique, and under balena's 150-character limit for a description.
            let marker = one_off_marker("apikeys-create-");
            let secret = self
                .client
                .api_key()
                .create(&new.name, new.expires_at, Some(&marker))
                .await?;
            let found = async {
                let mine = Filter::eq(ApiKeyField::Description, marker.as_str());
                let key = self.first(mine).await?.ok_or_else(|| {
                    Error::NotFound(format!(
                        "the balena key `{}` was created, but the caller's keys do not list it",
                        new.name
                    ))
                })?;
                let id: i64 = numeric_id(VENDOR, &key.id)?;
                let cleared = ApiKeyUpdate::new().clear_description();
                if let Err(error) = self.client.api_key().update(id, cleared).await {
                    return Err(Error::after_create(PartialKey::new().id(key.id), error));
                }
                Ok(key)
            };
            match found.await {
                Ok(key) => Ok(CreatedKey::new(key, secret)),
                Err(error) => Err(Error::after_create(PartialKey::new().secret(secret), error)),
            }
        })
    }

    fn update<'a>(&'a self, id: &'a str, update: &'a KeyUpdate) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            update.refuse_enabled(VENDOR, "revoke it")?;
            if let Some(name) = &update.name {
                self.client
                    .api_key()
                    .update(key_id, ApiKeyUpdate::new().name(name.as_str()))
                    .await?;
            }
            self.get(id).await
        })
    }

    fn abilities(&self) -> apikeys_common::KeyAbilities {
        // The server refuses names over 50 characters.
        apikeys_common::KeyAbilities::new().rename().name_chars(50)
    }

    fn revoke<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            // balena answers 200 for an id it does not have (or the caller cannot see):
            // ask first, so that an unknown id is `NotFound` as at every other vendor.
            self.get(id).await?;
            self.client.api_key().revoke(key_id).await
        })
    }

    /// The caller's named key with this id, asked for by id (one page of one row); a
    /// missing one is [`Error::NotFound`].
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            self.first(Filter::eq(ApiKeyField::Id, key_id))
                .await?
                .ok_or_else(|| Error::NotFound(format!("balena key `{id}` of the caller")))
        })
    }
}
