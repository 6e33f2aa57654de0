//! [`KeyLifecycle`] for balena: the caller's named user API keys.

use apikeys_common::{
    CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, Result, numeric_id,
};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::odata::{ApiKeyField, Filter, ODataOptions, Order};
use crate::types::ApiKey;
use crate::{ApiKeyUpdate, Client};

const VENDOR: &str = "balena";

/// The named API keys of the user the client authenticates as, managed through
/// [`KeyLifecycle`] with the SDK methods of [`Client::api_key`].
///
/// | operation | balena call |
/// |---|---|
/// | `list` | `get_all_named_user_api_keys`, streamed 100 at a time |
/// | `get` | `get_all_named_user_api_keys` filtered on the id |
/// | `create` | `create` (name and expiry), then `get_all_named_user_api_keys` for the new key's id |
/// | `update` | a name: `update`, then `get` for the key as it now is |
/// | `revoke` | `revoke` |
///
/// Every call first asks `whoami` for the caller's actor, as the SDKs do. Ids are the keys'
/// numeric ids in decimal. balena keys have no enabled flag, so `update` refuses `enabled`
/// before anything is sent; [`KeyInfo::enabled`] is `None`. Creating, updating and revoking
/// need a user's session token (`.jwt(..)`), not an API key.
///
/// balena answers a create with the secret alone, so the new key's id is looked up
/// afterwards: it is the newest of the caller's keys with that name. Give keys distinct
/// names, or a key created at the same moment under the same name could be taken for it.
///
/// ```no_run
/// # async fn demo() -> balena_apikeys::Result<()> {
/// use apikeys_common::{KeyLifecycle, NewKey};
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
}

impl KeyScope {
    /// The named API keys of the user `client` authenticates as.
    pub fn new(client: Client) -> Self {
        KeyScope { client }
    }

    /// The client the calls are made with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The first of the caller's named keys that `options` select, if any.
    async fn first(&self, options: ODataOptions) -> Result<Option<KeyInfo>> {
        let rows = self
            .client
            .api_key()
            .get_all_named_user_api_keys()
            .options(options.top(1))
            .send()
            .await?;
        rows.into_iter().next().map(info).transpose()
    }
}

fn info(key: ApiKey) -> Result<KeyInfo> {
    let id = key.id.ok_or_else(|| Error::Decode {
        reason: "a balena key was listed without its `id`".into(),
        excerpt: String::new(),
    })?;
    let mut info = KeyInfo::new(id.to_string());
    info.name = key.name;
    info.created_at = key.created_at;
    info.expires_at = key.expiry_date;
    Ok(info)
}

impl KeyLifecycle for KeyScope {
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    fn list(&self) -> BoxStream<'_, Result<KeyInfo>> {
        self.client
            .api_key()
            .get_all_named_user_api_keys()
            .stream()
            .and_then(|key| futures::future::ready(info(key)))
            .boxed()
    }

    fn create<'a>(&'a self, new: &'a NewKey) -> BoxFuture<'a, Result<CreatedKey>> {
        Box::pin(async move {
            let secret = self
                .client
                .api_key()
                .create(&new.name, new.expires_at, None)
                .await?;
            // balena answers with the secret alone: the new key is the newest of the
            // caller's keys with this name (created_at, then id, descending).
            let newest = ODataOptions::new()
                .filter(Filter::eq(ApiKeyField::Name, new.name.as_str()))
                .orderby(ApiKeyField::CreatedAt, Order::Desc)
                .orderby(ApiKeyField::Id, Order::Desc);
            let key = self.first(newest).await?.ok_or_else(|| {
                Error::NotFound(format!(
                    "the balena key `{}` was created, but the caller's keys do not list it: \
                     revoke it by name",
                    new.name
                ))
            })?;
            Ok(CreatedKey::new(key, secret))
        })
    }

    fn update<'a>(&'a self, id: &'a str, update: &'a KeyUpdate) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            if update.enabled.is_some() {
                return Err(Error::InvalidRequest(
                    "balena cannot enable or disable an API key (`enabled` is not supported); \
                     revoke it instead"
                        .into(),
                ));
            }
            if let Some(name) = &update.name {
                self.client
                    .api_key()
                    .update(key_id, ApiKeyUpdate::new().name(name.as_str()))
                    .await?;
            }
            self.get(id).await
        })
    }

    fn revoke<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            self.client.api_key().revoke(key_id).await
        })
    }

    /// The caller's named key with this id, asked for by id (one page of one row); a
    /// missing one is [`Error::NotFound`].
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            let options = ODataOptions::new().filter(Filter::eq(ApiKeyField::Id, key_id));
            self.first(options)
                .await?
                .ok_or_else(|| Error::NotFound(format!("balena key `{id}` of the caller")))
        })
    }
}
