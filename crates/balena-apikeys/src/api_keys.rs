//! The seven methods of the SDKs' `balena.models.apiKey` (`balena-io/balena-sdk`,
//! `src/models/api-key.ts`; `balena-io/balena-sdk-python`, `balena/models/api_key.py`), each
//! the look-ups it needs plus the generated call.

use apikeys_common::{Error, Result, Secret};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::odata::{self, ApiKeyField, Filter, Listing, ODataOptions, Order, RowRef, Table};
use crate::types::{
    ApiKey, CreateNamedUserApiKeyRequest, CreateNamedUserApiKeyRequestDescription,
    CreateNamedUserApiKeyRequestName,
};
use crate::{ApiKeyUpdate, Client};

impl Client {
    /// The API-key methods of the balena SDKs (`balena.models.apiKey`): create, list (all,
    /// the caller's named keys, a device's, a fleet's), update and revoke.
    ///
    /// ```no_run
    /// # async fn demo() -> balena_apikeys::Result<()> {
    /// let client = balena_apikeys::Client::builder("https://api.balena-cloud.com")
    ///     .api_key("Kq3XbN7v2RmT9cLpW4yHs8eJ1aFz6UdG")
    ///     .build()?;
    /// for key in client.api_key().get_all_named_user_api_keys().send().await? {
    ///     println!("{:?}: {:?}", key.id, key.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn api_key(&self) -> ApiKeys<'_> {
        ApiKeys { client: self }
    }
}

/// The API-key methods of the balena SDKs; see [`Client::api_key`].
#[derive(Clone, Copy, Debug)]
pub struct ApiKeys<'a> {
    client: &'a Client,
}

impl<'a> ApiKeys<'a> {
    /// Creates a named API key for the calling user and returns its secret, which is shown
    /// only this once (`POST /api-key/user/full`).
    ///
    /// `expiry_date` is when the key stops working (`None`: never); `description` is sent
    /// only when it is not empty. The client must be authenticated with a user's session
    /// token (`.jwt(..)`) obtained in the last 20 minutes: API keys cannot create keys, and
    /// an older token gets 401 `Fresh authentication token required`. A name that is empty
    /// or longer than 50 characters, or a description longer than 150, is refused before
    /// anything is sent.
    ///
    /// ```no_run
    /// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
    /// use chrono::{TimeZone, Utc};
    ///
    /// let expiry = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
    /// let key = client
    ///     .api_key()
    ///     .create("ci-deploy", Some(expiry), Some("Key used by the release pipeline"))
    ///     .await?;
    /// println!("store it now: {}", key.expose_secret());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(
        &self,
        name: &str,
        expiry_date: Option<DateTime<Utc>>,
        description: Option<&str>,
    ) -> Result<Secret> {
        let name = CreateNamedUserApiKeyRequestName::try_from(name)
            .map_err(|e| Error::InvalidRequest(format!("the key's name is {e}")))?;
        let description = description
            .filter(|d| !d.is_empty())
            .map(CreateNamedUserApiKeyRequestDescription::try_from)
            .transpose()
            .map_err(|e| Error::InvalidRequest(format!("the key's description is {e}")))?;
        let body = CreateNamedUserApiKeyRequest {
            name,
            expiry_date,
            description,
        };
        self.client
            .create_named_user_api_key()
            .body(body)
            .send()
            .await
    }

    /// Every key the credential may read, sorted by name (`GET /v7/api_key`).
    ///
    /// Like every listing, it asks only for the fields the model reads (see
    /// [`ListRequest::options`]), never for the keys' secrets. On openBalena a user's token
    /// reads only the user's own keys, not those of its fleets and devices.
    ///
    /// ```no_run
    /// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
    /// use balena_apikeys::odata::{ApiKeyField, Filter, ODataOptions};
    ///
    /// let ci_keys = client
    ///     .api_key()
    ///     .get_all()
    ///     .options(ODataOptions::new().filter(Filter::startswith(ApiKeyField::Name, "ci-")))
    ///     .send()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_all(&self) -> ListRequest<'a> {
        ListRequest::new(self.client, KeyListing::All)
    }

    /// The calling user's named keys: looks up the caller's actor
    /// (`GET /actor/v1/whoami`, once per client and its clones, as both official SDKs do;
    /// a failed look-up is asked again next time), then lists the keys of that actor that
    /// have a name (legacy user keys have none).
    ///
    /// ```no_run
    /// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
    /// use balena_apikeys::odata::{ApiKeyField, Filter, ODataOptions, Order};
    ///
    /// let never_expiring = client
    ///     .api_key()
    ///     .get_all_named_user_api_keys()
    ///     .options(
    ///         ODataOptions::new()
    ///             .filter(Filter::is_null(ApiKeyField::ExpiryDate))
    ///             .orderby(ApiKeyField::CreatedAt, Order::Desc),
    ///     )
    ///     .send()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_all_named_user_api_keys(&self) -> ListRequest<'a> {
        ListRequest::new(self.client, KeyListing::NamedUser)
    }

    /// The keys of an application (fleet), in practice its provisioning keys.
    /// Looks up the application's actor first: by numeric id, or by slug or uuid (matched
    /// in lower case). No such application is a not-found error
    /// ([`Error::is_not_found`]); a string that matches several is refused.
    ///
    /// What a token can see: on openBalena a user, with a session token or a named API key,
    /// may read only the keys of its own actor (open-balena-api's `api_key` read permission
    /// in `src/lib/auth.ts` is `is_of__actor eq @__ACTOR_ID`). For a user's token this
    /// therefore returns an empty list even when the fleet has provisioning keys: that is
    /// the server's answer, not an error. A provisioning key finds no fleet, not even its
    /// own: openBalena (v49) answers its look-up 200 with no rows, so this is a not-found
    /// error ([`Error::is_not_found`]) for it. balenaCloud grants more: its SDK's
    /// integration tests list a fleet's provisioning keys as the fleet's owner.
    ///
    /// ```no_run
    /// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
    /// let by_slug = client
    ///     .api_key()
    ///     .get_provisioning_api_keys_by_application("myorg/myapp")
    ///     .send()
    ///     .await?;
    /// let by_id = client.api_key().get_provisioning_api_keys_by_application(123).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_provisioning_api_keys_by_application(
        &self,
        application: impl Into<ApplicationRef>,
    ) -> ListRequest<'a> {
        ListRequest::new(self.client, KeyListing::Application(application.into()))
    }

    /// The keys of a device. Looks up the device's actor first: by numeric id,
    /// or by its full uuid (32 or 62 hexadecimal characters; anything else is refused
    /// before a request is sent). No such device is a not-found error
    /// ([`Error::is_not_found`]).
    ///
    /// What a token can see: on openBalena a user, with a session token or a named API key,
    /// may read only the keys of its own actor (open-balena-api's `api_key` read permission
    /// in `src/lib/auth.ts` is `is_of__actor eq @__ACTOR_ID`). For a user's token this
    /// therefore returns an empty list even when the device has keys: that is the server's
    /// answer, not an error. A device key may look up its own device but may not read keys:
    /// the listing fails with 401 ([`Error::is_unauthorized`]). balenaCloud grants more: its
    /// SDK's integration tests list a device's keys as the device's owner.
    ///
    /// ```no_run
    /// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
    /// let keys = client
    ///     .api_key()
    ///     .get_device_api_keys_by_device("7cf02a69e4d34c9da573914963cf54fd")
    ///     .send()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_device_api_keys_by_device(&self, device: impl Into<DeviceRef>) -> ListRequest<'a> {
        ListRequest::new(self.client, KeyListing::Device(device.into()))
    }

    /// Changes a key's name, description or expiry date (`PATCH /v7/api_key(<id>)`): only
    /// the fields set in `changes` are sent, as the JS SDK does; the others stay as they are.
    ///
    /// An update that changes nothing, sets an empty name or one longer than 50 characters,
    /// or a description longer than 150, is refused before anything is sent. The server answers 200 even for an id the caller cannot see (nothing changes).
    /// API keys cannot update keys (401): use a session token.
    ///
    /// ```no_run
    /// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
    /// use balena_apikeys::ApiKeyUpdate;
    ///
    /// client
    ///     .api_key()
    ///     .update(4870231, ApiKeyUpdate::new().name("ci-deploy-v2").clear_expiry_date())
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn update(&self, id: i64, changes: ApiKeyUpdate) -> Result<()> {
        // The fragment's `minProperties: 1` and the name's and description's lengths are
        // checked on the typed body before it is sent, like every generated request's bounds.
        self.client
            .update_api_key()
            .id(id)
            .body(changes)
            .send()
            .await
    }

    /// Revokes (deletes) a key (`DELETE /v7/api_key(<id>)`). The server answers
    /// 200 even for an id the caller cannot see (nothing is deleted). API keys cannot revoke
    /// keys (401): use a session token.
    ///
    /// ```no_run
    /// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
    /// client.api_key().revoke(4870231).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn revoke(&self, id: i64) -> Result<()> {
        self.client.revoke_api_key().id(id).send().await
    }
}

/// An application (fleet): its numeric id, or its slug or uuid (matched in lower case).
pub type ApplicationRef = RowRef<Application>;

/// A device: its numeric id or its full uuid (32 or 62 hexadecimal characters).
pub type DeviceRef = RowRef<Device>;

/// balena's applications (fleets), the table of an [`ApplicationRef`].
#[derive(Debug)]
pub enum Application {}

impl Table for Application {
    const NOUN: &'static str = "application";
}

/// balena's devices, the table of a [`DeviceRef`].
#[derive(Debug)]
pub enum Device {}

impl Table for Device {
    const NOUN: &'static str = "device";
}

/// Page size when the options set no `$top`.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// One of the listing methods of [`ApiKeys`], ready to [`send`](odata::ListRequest::send)
/// (one request, `{"d": [...]}` unwrapped) or [`stream`](odata::ListRequest::stream) (every
/// key, `$top`/`$skip` page by page).
///
/// [`options`](odata::ListRequest::options) merges your OData options with the method's as
/// the SDKs do. Without a `$select` of yours the listing asks for [`ApiKeyField::ALL`], the
/// fields the model reads: openBalena would otherwise send each key's secret (`key`) along.
/// A `$select` that names `key` or `*`, at the top or inside an [`Expand`], is refused with
/// [`Error::InvalidRequest`] before anything is sent; a secret is read only when a key is
/// created.
///
/// A stream does the look-ups (whoami, device or application actor) once, before the first
/// page; its page size is your `$top` or [`DEFAULT_PAGE_SIZE`], and it orders by `id` too.
/// balena's list answer carries no total (counting is a request of its own,
/// `count_api_keys`), so a server that answers every `$skip` with the same page is caught by
/// the repeat, and one that pages on past [`MAX_PAGES`](apikeys_common::MAX_PAGES) by the
/// cap: both end the stream with [`Error::Pagination`].
///
/// ```no_run
/// # async fn demo(client: balena_apikeys::Client) -> balena_apikeys::Result<()> {
/// use balena_apikeys::odata::ODataOptions;
/// use futures::TryStreamExt;
///
/// // The stream is `Unpin`: no `pin!` is needed before `try_next()`.
/// let mut keys = client
///     .api_key()
///     .get_all_named_user_api_keys()
///     .options(ODataOptions::new().top(50))
///     .stream();
/// while let Some(key) = keys.try_next().await? {
///     println!("{:?} {:?}", key.id, key.name);
/// }
/// # Ok(())
/// # }
/// ```
///
/// [`Expand`]: crate::odata::Expand
pub type ListRequest<'a> = odata::ListRequest<'a, Client, KeyListing>;

/// Whose keys one of the [`ApiKeys`] listings is about: what its [`ListRequest`] adds to
/// your options (see [`ApiKeys::get_all`] and the methods after it).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum KeyListing {
    /// Every key the credential may read.
    All,
    /// The caller's named keys.
    NamedUser,
    /// The keys of an application's actor.
    Application(ApplicationRef),
    /// The keys of a device's actor.
    Device(DeviceRef),
}

impl Listing<Client> for KeyListing {
    type Row = ApiKey;
    const ORDER_KEY: &'static str = ApiKeyField::Id.as_str();
    const PAGE_SIZE: u64 = DEFAULT_PAGE_SIZE;

    /// The method's own options (the SDK's defaults for it), after the look-ups they need:
    /// every method but `get_all` keeps to one actor's keys, and all sort by name.
    fn defaults<'a>(&'a self, client: &'a Client) -> BoxFuture<'a, Result<ODataOptions>> {
        Box::pin(async move {
            let by_name = ODataOptions::new().orderby(ApiKeyField::Name, Order::Asc);
            let actor = match self {
                KeyListing::All => return Ok(by_name),
                KeyListing::NamedUser => client.caller_actor().await?,
                KeyListing::Application(application) => {
                    application_actor(client, application).await?
                }
                KeyListing::Device(device) => device_actor(client, device).await?,
            };
            let mut options = by_name.filter(Filter::eq(ApiKeyField::IsOfActor, actor));
            if let KeyListing::NamedUser = self {
                // Legacy user keys have no name; the SDK leaves them out.
                options = options.filter(Filter::not_null(ApiKeyField::Name));
            }
            Ok(options)
        })
    }

    /// `GET /v7/api_key` with `options`, the envelope unwrapped.
    fn fetch(client: &Client, options: ODataOptions) -> BoxFuture<'_, Result<Vec<ApiKey>>> {
        Box::pin(async move { Ok(client.get_api_keys().odata(&options).send().await?.d) })
    }
}

impl Client {
    /// The caller's actor: asked of `whoami` once per client (and its clones), as both
    /// official SDKs do; a failed ask is asked again next time.
    pub(crate) async fn caller_actor(&self) -> Result<i64> {
        let ask = async || Ok(self.get_actor_whoami().send().await?.id);
        self.inner.caller_id(ask).await
    }
}

/// The actor of an application, looked up as the SDK's `application.get` does
/// (`balena-io/balena-sdk`, `src/models/application.ts`).
async fn application_actor(client: &Client, application: &ApplicationRef) -> Result<i64> {
    let by_id = async |id| {
        let rows = client
            .get_application_actor()
            .id(id)
            .select("actor")
            .send()
            .await?;
        Ok(rows.d)
    };
    let by_text = async |text: &str| {
        let text = text.to_lowercase();
        let filter = Filter::eq("slug", &text).or(Filter::eq("uuid", &text));
        let rows = client
            .find_application_actor()
            .filter(filter.to_string())
            .select("actor")
            .send()
            .await?;
        Ok(rows.d)
    };
    Ok(application.look_up(by_id, by_text).await?.actor.id)
}

/// The actor of a device, looked up as the SDK's `device.get` does (`balena-io/balena-sdk`,
/// `src/models/device.ts`).
async fn device_actor(client: &Client, device: &DeviceRef) -> Result<i64> {
    let by_id = async |id| {
        let rows = client
            .get_device_actor()
            .id(id)
            .select("actor")
            .send()
            .await?;
        Ok(rows.d)
    };
    // The fragment's `pattern` has the generated code refuse a uuid that is not full.
    let by_uuid = async |uuid: &str| {
        let rows = client
            .get_device_actor_by_uuid()
            .uuid(uuid)
            .select("actor")
            .send()
            .await?;
        Ok(rows.d)
    };
    Ok(device.look_up(by_id, by_uuid).await?.actor.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::RowKey;

    #[test]
    fn references_convert_and_name_themselves_in_messages() {
        assert_eq!(ApplicationRef::from(5).key(), &RowKey::Id(5));
        assert_eq!(ApplicationRef::from(5).to_string(), "application 5");
        assert_eq!(
            ApplicationRef::from(String::from("myorg/myapp")).to_string(),
            "application `myorg/myapp`"
        );
        assert_eq!(DeviceRef::from("7cf0").key(), &RowKey::Text("7cf0".into()));
        assert_eq!(DeviceRef::from(456).to_string(), "device 456");
        assert_eq!(DeviceRef::from("7cf0").to_string(), "device `7cf0`");
    }
}
