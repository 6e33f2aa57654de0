//! [`KeyLifecycle`] for SensorBucket: the keys of one tenant.

use apikeys_common::{
    CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, PartialKey, Result, numeric_id,
};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::Client;
use crate::types::{CreateApiKeyRequest, Permission};

const VENDOR: &str = "sensorbucket";

/// The API keys of one SensorBucket tenant, managed through [`KeyLifecycle`].
///
/// | operation | SensorBucket call |
/// |---|---|
/// | `list` | `list_api_keys` for the tenant, following every cursor |
/// | `get` | `get_api_key` (a key of another tenant is not found) |
/// | `create` | `create_api_key` with the scope's permissions and the expiry, if any |
/// | `update` | none: SensorBucket cannot change a key, so any change is refused |
/// | `revoke` | `revoke_api_key` |
///
/// Ids are the keys' numeric ids in decimal. SensorBucket keys have no enabled flag
/// (`enabled` is `None`), and `get` reports neither the name (the server sends `""`) nor
/// the creation time; `list` reports both.
///
/// `create` answers only with the new key's token, which is the base64 of
/// `<id>:<secret>`: the id is read from it. Should a server send a token of another shape,
/// the key is looked up by its name instead (names are unique within a tenant).
///
/// ```no_run
/// # async fn demo() -> sensorbucket_apikeys::Result<()> {
/// use sensorbucket_apikeys::{KeyLifecycle, NewKey};
/// use sensorbucket_apikeys::types::Permission;
/// use sensorbucket_apikeys::{BASE_URL, Client, KeyScope};
///
/// let client = Client::builder(BASE_URL)
///     .api_key("MjU5MzE1NDgwMjE2NTMwMTEyODo2MjY2MDdkMGViY2Q5MGRhMTRkZWE4NGY4MjEzYjRiNw")
///     .build()?;
/// let keys = KeyScope::new(client, 19, vec![Permission::ReadDevices]);
///
/// match keys.rotate("4821937465012837465", &NewKey::named("ingest-gateway")).await {
///     Ok(new) => println!("store it now: {}", new.secret.expose_secret()),
///     Err(e) => eprintln!("{e}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct KeyScope {
    client: Client,
    tenant_id: i64,
    permissions: Vec<Permission>,
}

impl KeyScope {
    /// The keys of the tenant `tenant_id`, managed with `client`. Keys this creates get
    /// `permissions`, of which SensorBucket requires at least one.
    pub fn new(client: Client, tenant_id: i64, permissions: Vec<Permission>) -> Self {
        KeyScope {
            client,
            tenant_id,
            permissions,
        }
    }

    /// The client the calls are made with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The tenant whose keys these are.
    pub fn tenant_id(&self) -> i64 {
        self.tenant_id
    }

    /// What the keys this creates may do.
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// The new key's id, looked up by its name when its token does not carry it.
    async fn created_id(&self, token: &str, name: &str) -> Result<i64> {
        if let Some(id) = token_id(token) {
            return Ok(id);
        }
        let found = self
            .client
            .list_api_keys()
            .tenant_id(self.tenant_id)
            .stream()
            .try_filter(|key| futures::future::ready(key.name == name));
        futures::pin_mut!(found);
        match found.try_next().await? {
            Some(key) => Ok(key.id),
            None => Err(Error::NotFound(format!(
                "the sensorbucket key `{name}` was created, but its token names no id and \
                 tenant {} lists no key of that name",
                self.tenant_id
            ))),
        }
    }
}

/// The id in a token, `base64(<id>:<secret>)` (`GenerateNewApiKey` in SensorBucket's
/// `services/tenants/apikeys/application.go`): standard or URL-safe alphabet,
/// padded or not. `None` when the token has another shape.
fn token_id(token: &str) -> Option<i64> {
    let decoded = base64_decode(token.trim().trim_end_matches('='))?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let id = std::str::from_utf8(decoded.get(..colon)?).ok()?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

/// Unpadded base64, either alphabet. Small enough not to warrant a dependency.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    }
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut bits = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            bits |= value(c)? << (18 - 6 * i);
        }
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(bytes.get(1..chunk.len())?);
    }
    Some(out)
}

/// Refuses, before anything is sent, the changes SensorBucket cannot make: all of them.
fn refuse_unsupported(update: &KeyUpdate) -> Result<()> {
    let unsupported: Vec<&str> = [
        update.name.is_some().then_some("name"),
        update.enabled.is_some().then_some("enabled"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if unsupported.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidRequest(format!(
        "sensorbucket cannot change a key's {} (it has no update operation; create a new key \
         and revoke this one instead)",
        unsupported.join(" or ")
    )))
}

impl KeyLifecycle for KeyScope {
    fn vendor(&self) -> &'static str {
        VENDOR
    }

    fn list(&self) -> BoxStream<'_, Result<KeyInfo>> {
        self.client
            .list_api_keys()
            .tenant_id(self.tenant_id)
            .stream()
            .map_ok(KeyInfo::from)
            .boxed()
    }

    fn create<'a>(&'a self, new: &'a NewKey) -> BoxFuture<'a, Result<CreatedKey>> {
        Box::pin(async move {
            if self.permissions.is_empty() {
                return Err(Error::InvalidRequest(
                    "a sensorbucket key needs at least one permission: give `KeyScope::new` \
                     some"
                        .into(),
                ));
            }
            let body = CreateApiKeyRequest::builder()
                .name(new.name.clone())
                .tenant_id(self.tenant_id)
                .permissions(self.permissions.clone())
                .expiration_date(new.expires_at);
            let secret = self
                .client
                .create_api_key()
                .body(body)
                .send()
                .await?
                .api_key;
            let id = match self.created_id(secret.expose_secret(), &new.name).await {
                Ok(id) => id,
                Err(error) => {
                    return Err(Error::after_create(PartialKey::new().secret(secret), error));
                }
            };
            let mut key = KeyInfo::new(id.to_string()).name(new.name.clone());
            key.expires_at = new.expires_at;
            Ok(CreatedKey::new(key, secret))
        })
    }

    fn update<'a>(&'a self, id: &'a str, update: &'a KeyUpdate) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            numeric_id::<i64>(VENDOR, id)?;
            refuse_unsupported(update)?;
            self.get(id).await
        })
    }

    fn revoke<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let id: i64 = numeric_id(VENDOR, id)?;
            self.client.revoke_api_key().api_key_id(id).send().await?;
            Ok(())
        })
    }

    /// `get_api_key`: one request. A key of another tenant is [`Error::NotFound`].
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let key_id: i64 = numeric_id(VENDOR, id)?;
            let key = self
                .client
                .get_api_key()
                .api_key_id(key_id)
                .send()
                .await?
                .data;
            if key.tenant_id != self.tenant_id {
                return Err(Error::NotFound(format!(
                    "sensorbucket key `{id}` in tenant {}",
                    self.tenant_id
                )));
            }
            let mut info = KeyInfo::new(key.id.to_string());
            info.name = Some(key.name).filter(|name| !name.is_empty());
            info.expires_at = key.expiration_date;
            Ok(info)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_from_tokens_in_either_alphabet_with_or_without_padding() {
        // `4821937465012837465:9f86d081884c7d659a2feaa0c55ad015`
        let token = "NDgyMTkzNzQ2NTAxMjgzNzQ2NTo5Zjg2ZDA4MTg4NGM3ZDY1OWEyZmVhYTBjNTVhZDAxNQ";
        assert_eq!(token_id(token), Some(4821937465012837465));
        assert_eq!(token_id(&format!("{token}==")), Some(4821937465012837465));
        // `7:a?>` has `?` and `>`, which encode to `/` and `+` (or `_` and `-`).
        assert_eq!(token_id("NzphPz4"), Some(7));
        assert_eq!(token_id("NzphPz4="), Some(7));
        assert_eq!(base64_decode("YT8-"), Some(b"a?>".to_vec()));
        assert_eq!(base64_decode("YT8+"), Some(b"a?>".to_vec()));
    }

    #[test]
    fn tokens_of_another_shape_name_no_id() {
        for token in [
            "",
            "not base64!",
            "c2VjcmV0",
            "OnNlY3JldA",
            "LTE6c2VjcmV0",
            "Y",
        ] {
            assert_eq!(token_id(token), None, "{token}");
        }
    }
}
