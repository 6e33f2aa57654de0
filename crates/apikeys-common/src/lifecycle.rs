//! One key lifecycle for every vendor: list, create, update, revoke, and a rotation that
//! never leaves the caller without a working key.
//!
//! Each vendor crate implements [`KeyLifecycle`] for a small scope type that holds its
//! client and what the vendor scopes keys by (a ThingsBoard user, an Automox user in an
//! organization, a SensorBucket tenant, the balena actor, the Nuki account), so code that
//! manages keys can be written once and pointed at any vendor.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, TryStreamExt};
use serde::Serialize;

use crate::{Error, Result, Secret};

/// A key as every vendor can describe it. Fields a vendor does not report are `None`.
///
/// ```
/// use apikeys_common::KeyInfo;
///
/// let key = KeyInfo::new("42").name("ci").enabled(true);
/// assert_eq!(key.name.as_deref(), Some("ci"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The vendor's id for the key, as text (numeric ids are written in decimal).
    pub id: String,
    /// The key's name or description.
    pub name: Option<String>,
    /// Whether the key can authenticate.
    pub enabled: Option<bool>,
    /// When the key was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When the key stops working; `None` when it never expires or the vendor does not say.
    pub expires_at: Option<DateTime<Utc>>,
}

impl KeyInfo {
    /// A key known only by its id.
    pub fn new(id: impl Into<String>) -> Self {
        KeyInfo {
            id: id.into(),
            name: None,
            enabled: None,
            created_at: None,
            expires_at: None,
        }
    }

    /// With this name (or description).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Enabled or disabled.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Created at this time.
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = Some(at);
        self
    }

    /// Expiring at this time.
    pub fn expires_at(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at);
        self
    }
}

/// What to create.
///
/// ```
/// use apikeys_common::NewKey;
/// use chrono::{TimeZone, Utc};
///
/// let new = NewKey::named("ci").expires_at(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap());
/// # let _ = new;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewKey {
    /// The key's name (or description, for vendors that have only that).
    pub name: String,
    /// When the key should stop working; `None` for never (where the vendor allows it).
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewKey {
    /// A key with this name that does not expire.
    pub fn named(name: impl Into<String>) -> Self {
        NewKey {
            name: name.into(),
            expires_at: None,
        }
    }

    /// Expiring at this time (`None`: never, where the vendor allows it).
    pub fn expires_at(mut self, at: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.expires_at = at.into();
        self
    }
}

/// A key just created, with its secret: the one time most vendors show it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CreatedKey {
    /// The new key.
    pub key: KeyInfo,
    /// Its secret value.
    pub secret: Secret,
}

impl CreatedKey {
    /// The key `key`, whose secret is `secret`.
    pub fn new(key: KeyInfo, secret: Secret) -> Self {
        CreatedKey { key, secret }
    }
}

/// What is known of a key the server created when a later step of the same call failed
/// (see [`Error::KeyCreated`]): its id, its secret, or both.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PartialKey {
    /// The new key's id, when the server said it.
    pub id: Option<String>,
    /// The new key's secret, when the server showed it.
    pub secret: Option<Secret>,
}

impl PartialKey {
    /// A key of which nothing is known yet.
    pub fn new() -> Self {
        PartialKey::default()
    }

    /// With this id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// With this secret.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secret = Some(secret);
        self
    }
}

impl From<CreatedKey> for PartialKey {
    fn from(created: CreatedKey) -> Self {
        PartialKey {
            id: Some(created.key.id),
            secret: Some(created.secret),
        }
    }
}

/// Changes to a key. A vendor that cannot make one of them refuses the whole update with
/// [`Error::InvalidRequest`] before sending anything.
///
/// ```
/// use apikeys_common::KeyUpdate;
///
/// let update = KeyUpdate::new().name("renamed").enabled(false);
/// # let _ = update;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyUpdate {
    /// A new name (or description).
    pub name: Option<String>,
    /// Enable or disable the key.
    pub enabled: Option<bool>,
}

impl KeyUpdate {
    /// No change yet.
    pub fn new() -> Self {
        KeyUpdate::default()
    }

    /// Renames the key.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Enables or disables the key.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Refuses `enabled` before anything is sent, for a vendor whose keys have no enabled
    /// flag; `instead` says what to do (`"revoke it"`).
    pub fn refuse_enabled(&self, vendor: &str, instead: &str) -> Result<()> {
        match self.enabled {
            Some(_) => Err(Error::InvalidRequest(format!(
                "{vendor} cannot enable or disable an API key (`enabled` is not supported); \
                 {instead} instead"
            ))),
            None => Ok(()),
        }
    }
}

/// What a vendor lets a caller do with a key beyond list, create and revoke, so that code
/// written over [`KeyLifecycle`] can plan (a rotation that disables the old key first, or
/// names the new one within the vendor's limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyAbilities {
    /// The most characters a key's name may have, where the vendor limits it.
    pub name_chars: Option<usize>,
    /// Whether a key can be disabled (and enabled) through [`KeyLifecycle::update`].
    pub disable: bool,
    /// Whether a key can be renamed through [`KeyLifecycle::update`].
    pub rename: bool,
}

impl KeyAbilities {
    /// Nothing beyond list, create and revoke.
    pub fn new() -> Self {
        KeyAbilities::default()
    }

    /// Names of at most `chars` characters.
    pub fn name_chars(mut self, chars: usize) -> Self {
        self.name_chars = Some(chars);
        self
    }

    /// Keys can be disabled.
    pub fn disable(mut self) -> Self {
        self.disable = true;
        self
    }

    /// Keys can be renamed.
    pub fn rename(mut self) -> Self {
        self.rename = true;
        self
    }
}

/// The lifecycle of API keys at one vendor, within one scope.
///
/// Methods return boxed futures and streams so that `dyn KeyLifecycle` works: a tool can
/// hold one per vendor and treat them alike.
pub trait KeyLifecycle: Send + Sync {
    /// The vendor's name, for messages (`"thingsboard"`, …).
    fn vendor(&self) -> &'static str;

    /// Every key in the scope, fetched page by page as the stream is read.
    fn list(&self) -> BoxStream<'_, Result<KeyInfo>>;

    /// Creates a key and returns it with its secret.
    fn create<'a>(&'a self, new: &'a NewKey) -> BoxFuture<'a, Result<CreatedKey>>;

    /// Changes a key and returns it as it now is.
    fn update<'a>(&'a self, id: &'a str, update: &'a KeyUpdate) -> BoxFuture<'a, Result<KeyInfo>>;

    /// Revokes (deletes) a key.
    fn revoke<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>>;

    /// What [`KeyLifecycle::update`] can change, and the vendor's name limit. By default:
    /// nothing, and no limit.
    fn abilities(&self) -> KeyAbilities {
        KeyAbilities::new()
    }

    /// One key. By default it is looked for in [`KeyLifecycle::list`]; a missing one is
    /// [`Error::NotFound`].
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<KeyInfo>> {
        Box::pin(async move {
            let found = self
                .list()
                .try_filter(|key| futures::future::ready(key.id == id));
            futures::pin_mut!(found);
            found
                .try_next()
                .await?
                .ok_or_else(|| Error::NotFound(format!("{} key `{id}`", self.vendor())))
        })
    }

    /// Replaces the key `old` by a new one: checks that `old` exists (and that this
    /// credential sees it), creates the new key, confirms the server knows it, and only
    /// then revokes `old`. Whatever step fails, the caller keeps a working key, and the
    /// [`RotationError`] says which one it is; a key created on the way is in the error.
    ///
    /// It is [`rotate_with`] with nothing to deliver: to store the new secret before the
    /// old key goes, call [`rotate_with`].
    ///
    /// `old` may be the key this scope's own client authenticates with: its last step, the
    /// revoke, is the old key's last call. From then on that client gets 401
    /// ([`Error::is_unauthorized`]); build a new one from [`CreatedKey::secret`] (the
    /// workspace README shows it).
    fn rotate<'a>(
        &'a self,
        old: &'a str,
        new: &'a NewKey,
    ) -> BoxFuture<'a, std::result::Result<CreatedKey, RotationError>> {
        Box::pin(rotate_with(self, old, new, async |_: &CreatedKey| Ok(())))
    }
}

/// [`KeyLifecycle::rotate`] with a keep step: check `old` → create → confirm → **deliver**
/// → revoke `old`.
///
/// `deliver` receives the new key and its secret once the server has confirmed the key,
/// and must put the secret where it will be kept (a file synced to disk, a vault) before
/// it returns `Ok`: the old key is revoked only after that. When `deliver` fails, the new
/// key is useless (its secret is shown once and was not kept), so it is revoked at once
/// and the old key is left working: the error is [`RotationError::Deliver`], which says
/// whether that revoke worked; when it did not, the new key's id is in the error, so it is
/// never orphaned silently.
///
/// ```
/// # async fn demo(keys: &dyn apikeys_common::KeyLifecycle) -> Result<(), apikeys_common::RotationError> {
/// use apikeys_common::{Error, NewKey, rotate_with};
///
/// let created = rotate_with(keys, "42", &NewKey::named("ci"), async |created| {
///     std::fs::write("/run/secrets/ci", created.secret.expose_secret()).map_err(Error::delivery)
/// })
/// .await?;
/// # let _ = created; Ok(()) }
/// ```
pub async fn rotate_with<K, D>(
    keys: &K,
    old: &str,
    new: &NewKey,
    deliver: D,
) -> std::result::Result<CreatedKey, RotationError>
where
    K: KeyLifecycle + ?Sized,
    // An async closure: its future may borrow both the new key and the caller's values
    // (a `&Path`), which a `BoxFuture<'k>` of the key's lifetime could not.
    D: AsyncFnOnce(&CreatedKey) -> Result<()>,
{
    keys.get(old).await.map_err(RotationError::Check)?;
    let created = keys.create(new).await.map_err(RotationError::Create)?;
    if let Err(error) = keys.get(&created.key.id).await {
        return Err(RotationError::Confirm { created, error });
    }
    if let Err(error) = deliver(&created).await {
        let unrevoked = keys.revoke(&created.key.id).await.err();
        return Err(RotationError::Deliver {
            created,
            error,
            unrevoked,
        });
    }
    match keys.revoke(old).await {
        Ok(()) => Ok(created),
        Err(error) => Err(RotationError::Revoke { created, error }),
    }
}

/// How a rotation failed, and which key still works.
#[derive(Debug)]
#[non_exhaustive]
pub enum RotationError {
    /// The old key could not be found (or read) with this credential; nothing was created
    /// and nothing was revoked.
    Check(Error),
    /// The new key could not be created; the old key is untouched and still works. When
    /// the server did create it before a later step failed, the error is
    /// [`Error::KeyCreated`] with what is known of it (see [`RotationError::partial`]).
    Create(Error),
    /// The new key was created but could not be found again; the old key is untouched.
    /// The new key's secret is here in case it does exist: revoke or keep it.
    Confirm {
        /// The key that was created.
        created: CreatedKey,
        /// Why it could not be confirmed.
        error: Error,
    },
    /// The new key's secret could not be delivered, so the new key was revoked (or, when
    /// `unrevoked` says why not, still exists and should be revoked); the old key is
    /// untouched and still works.
    Deliver {
        /// The key that was created (its secret was not kept).
        created: CreatedKey,
        /// Why the secret could not be delivered.
        error: Error,
        /// Why the new key could not be revoked in turn; `None` when it was.
        unrevoked: Option<Error>,
    },
    /// The new key works, but the old one could not be revoked and still works too.
    Revoke {
        /// The new key, which works.
        created: CreatedKey,
        /// Why the old key could not be revoked.
        error: Error,
    },
}

impl RotationError {
    /// The step that failed: `"check"`, `"create"`, `"confirm"`, `"deliver"` or `"revoke"`.
    pub fn step(&self) -> &'static str {
        match self {
            RotationError::Check(_) => "check",
            RotationError::Create(_) => "create",
            RotationError::Confirm { .. } => "confirm",
            RotationError::Deliver { .. } => "deliver",
            RotationError::Revoke { .. } => "revoke",
        }
    }

    /// The underlying error.
    pub fn error(&self) -> &Error {
        match self {
            RotationError::Check(error)
            | RotationError::Create(error)
            | RotationError::Confirm { error, .. }
            | RotationError::Deliver { error, .. }
            | RotationError::Revoke { error, .. } => error,
        }
    }

    /// The new key, when it was created and is fully known.
    pub fn created(&self) -> Option<&CreatedKey> {
        match self {
            RotationError::Check(_) | RotationError::Create(_) => None,
            RotationError::Confirm { created, .. }
            | RotationError::Deliver { created, .. }
            | RotationError::Revoke { created, .. } => Some(created),
        }
    }
}

impl RotationError {
    /// What is known of a new key the server created although the create step failed
    /// (its id, its secret): keep it or revoke it.
    pub fn partial(&self) -> Option<&PartialKey> {
        match self {
            RotationError::Create(error) => error.created_key(),
            _ => None,
        }
    }
}

impl fmt::Display for RotationError {
    // The underlying error is the source, so it is not repeated here.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RotationError::Check(_) => {
                write!(f, "could not check the old key, nothing was created")
            }
            RotationError::Create(Error::KeyCreated { .. }) => write!(
                f,
                "the new key was created but not completely, the old key still works"
            ),
            RotationError::Create(_) => {
                write!(f, "could not create the new key, the old key still works")
            }
            RotationError::Confirm { created, .. } => write!(
                f,
                "created key `{}` but could not confirm it, the old key still works",
                created.key.id
            ),
            RotationError::Deliver {
                created,
                unrevoked: None,
                ..
            } => write!(
                f,
                "created key `{}` but could not deliver its secret, so it was revoked; the old \
                 key still works",
                created.key.id
            ),
            // The revoke's error is no source (the delivery's is), so its chain is shown.
            RotationError::Deliver {
                created,
                unrevoked: Some(revoke),
                ..
            } => write!(
                f,
                "created key `{}` but could not deliver its secret, nor revoke it ({}): \
                 revoke it; the old key still works",
                created.key.id,
                crate::error::chain(revoke)
            ),
            RotationError::Revoke { created, .. } => write!(
                f,
                "created key `{}`, but the old key could not be revoked and still works",
                created.key.id
            ),
        }
    }
}

impl std::error::Error for RotationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.error())
    }
}

/// A text no other call makes, in this process or another: `prefix`, the time, the process
/// and a counter (at most `prefix` and 50 characters). For vendors whose create does not
/// answer the new key's id: the key is created carrying it (as a description, say) and then
/// found by it, without racing other creates of the same name.
pub fn one_off_marker(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{nanos:x}-{:x}-{count:x}", std::process::id())
}

/// Parses a numeric key id given as text, for vendors whose ids are integers.
pub fn numeric_id<T: std::str::FromStr>(vendor: &str, id: &str) -> Result<T> {
    id.parse().map_err(|_| {
        Error::InvalidRequest(format!("`{id}` is not a key id: {vendor} ids are numbers"))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::StreamExt;
    use reqwest::StatusCode;

    use super::*;
    use crate::ApiError;

    /// An in-memory vendor whose steps can be made to fail.
    #[derive(Default)]
    struct Memory {
        keys: Mutex<Vec<KeyInfo>>,
        fail_create: bool,
        fail_revoke: bool,
        hide_created: bool,
        /// Revoking this id fails (the others work).
        fail_revoke_of: Option<String>,
    }

    fn server_error() -> Error {
        Error::Api(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: None,
            message: None,
            retry_after: None,
        })
    }

    impl KeyLifecycle for Memory {
        fn vendor(&self) -> &'static str {
            "memory"
        }

        fn list(&self) -> BoxStream<'_, Result<KeyInfo>> {
            let keys = self.keys.lock().unwrap().clone();
            futures::stream::iter(keys.into_iter().map(Ok)).boxed()
        }

        fn create<'a>(&'a self, new: &'a NewKey) -> BoxFuture<'a, Result<CreatedKey>> {
            Box::pin(async move {
                if self.fail_create {
                    return Err(server_error());
                }
                let mut keys = self.keys.lock().unwrap();
                let mut key = KeyInfo::new(format!("k{}", keys.len() + 1));
                key.name = Some(new.name.clone());
                if !self.hide_created {
                    keys.push(key.clone());
                }
                Ok(CreatedKey {
                    key,
                    secret: Secret::from("s3cret"),
                })
            })
        }

        fn update<'a>(&'a self, id: &'a str, _: &'a KeyUpdate) -> BoxFuture<'a, Result<KeyInfo>> {
            Box::pin(async move { self.get(id).await })
        }

        fn revoke<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
            Box::pin(async move {
                if self.fail_revoke || self.fail_revoke_of.as_deref() == Some(id) {
                    return Err(server_error());
                }
                self.keys.lock().unwrap().retain(|key| key.id != id);
                Ok(())
            })
        }
    }

    fn with_old_key(memory: Memory) -> Memory {
        memory.keys.lock().unwrap().push(KeyInfo::new("old"));
        memory
    }

    #[tokio::test]
    async fn rotation_creates_confirms_then_revokes() {
        let memory = with_old_key(Memory::default());
        let created = memory.rotate("old", &NewKey::named("ci")).await.unwrap();
        let ids: Vec<String> = memory.list().map(|k| k.unwrap().id).collect().await;
        assert_eq!(ids, [created.key.id]);
    }

    #[tokio::test]
    async fn an_unknown_old_key_stops_the_rotation_before_anything_is_created() {
        let memory = with_old_key(Memory::default());
        let err = memory
            .rotate("gone", &NewKey::named("ci"))
            .await
            .unwrap_err();
        assert!(matches!(err, RotationError::Check(_)), "{err}");
        assert!(err.error().is_not_found() && err.step() == "check");
        let ids: Vec<String> = memory.list().map(|k| k.unwrap().id).collect().await;
        assert_eq!(ids, ["old"], "nothing may be created");
    }

    #[test]
    fn a_key_created_before_a_failure_is_in_the_error_without_its_secret_shown() {
        let key = PartialKey::new().id("k9").secret(Secret::from("s3cret"));
        let err = Error::after_create(key, server_error());
        let rotation = RotationError::Create(err);
        let partial = rotation.partial().unwrap();
        assert_eq!(partial.id.as_deref(), Some("k9"));
        assert_eq!(partial.secret.as_ref().unwrap().expose_secret(), "s3cret");
        assert_eq!(
            rotation.error().status(),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        let shown = format!("{rotation} {rotation:?}");
        assert!(shown.contains("k9") && !shown.contains("s3cret"), "{shown}");
    }

    #[tokio::test]
    async fn a_failed_create_leaves_the_old_key_alone() {
        let memory = with_old_key(Memory {
            fail_create: true,
            ..Memory::default()
        });
        let err = memory
            .rotate("old", &NewKey::named("ci"))
            .await
            .unwrap_err();
        assert!(matches!(err, RotationError::Create(_)) && err.created().is_none());
        assert!(err.to_string().contains("the old key still works"), "{err}");
        assert!(memory.get("old").await.is_ok());
    }

    #[tokio::test]
    async fn an_unconfirmed_key_stops_the_rotation_before_the_revoke() {
        let memory = with_old_key(Memory {
            hide_created: true,
            ..Memory::default()
        });
        let err = memory
            .rotate("old", &NewKey::named("ci"))
            .await
            .unwrap_err();
        assert!(matches!(err, RotationError::Confirm { .. }), "{err}");
        assert!(err.error().is_not_found());
        assert!(memory.get("old").await.is_ok(), "the old key must survive");
    }

    #[tokio::test]
    async fn a_failed_revoke_reports_both_keys_alive() {
        let memory = with_old_key(Memory {
            fail_revoke: true,
            ..Memory::default()
        });
        let err = memory
            .rotate("old", &NewKey::named("ci"))
            .await
            .unwrap_err();
        let created = err.created().unwrap();
        assert!(matches!(err, RotationError::Revoke { .. }));
        assert!(memory.get(&created.key.id).await.is_ok() && memory.get("old").await.is_ok());
        assert!(!format!("{err:?} {err}").contains("s3cret"));
    }

    fn ids(memory: &Memory) -> Vec<String> {
        memory
            .keys
            .lock()
            .unwrap()
            .iter()
            .map(|k| k.id.clone())
            .collect()
    }

    #[tokio::test]
    async fn the_secret_is_delivered_after_the_confirm_and_before_the_revoke() {
        let memory = with_old_key(Memory::default());
        let seen = Mutex::new(None);
        let created = rotate_with(&memory, "old", &NewKey::named("ci"), async |created| {
            // At delivery both keys exist: the old one is revoked only afterwards.
            *seen.lock().unwrap() =
                Some((ids(&memory), created.secret.expose_secret().to_string()));
            Ok(())
        })
        .await
        .unwrap();
        let (at_delivery, secret) = seen.lock().unwrap().take().unwrap();
        assert_eq!(at_delivery, ["old".to_string(), created.key.id.clone()]);
        assert_eq!(secret, "s3cret");
        assert_eq!(ids(&memory), [created.key.id]);
    }

    #[tokio::test]
    async fn a_failed_delivery_revokes_the_new_key_and_keeps_the_old_one() {
        let memory = with_old_key(Memory::default());
        let err = rotate_with(&memory, "old", &NewKey::named("ci"), async |_| {
            Err(Error::delivery("disk full"))
        })
        .await
        .unwrap_err();
        assert_eq!(err.step(), "deliver");
        assert!(
            matches!(
                err,
                RotationError::Deliver {
                    unrevoked: None,
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(err.error(), Error::Delivery(_)));
        assert_eq!(ids(&memory), ["old"], "the useless new key is revoked");
        let shown = format!("{err} {err:?}");
        assert!(
            shown.contains("the old key still works") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_new_key_that_cannot_be_revoked_after_a_failed_delivery_is_named() {
        let memory = with_old_key(Memory {
            fail_revoke_of: Some("k2".into()),
            ..Memory::default()
        });
        let err = rotate_with(&memory, "old", &NewKey::named("ci"), async |_| {
            Err(Error::delivery("no vault"))
        })
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                RotationError::Deliver {
                    unrevoked: Some(_),
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.created().unwrap().key.id, "k2");
        assert!(err.to_string().contains("nor revoke it"), "{err}");
        assert_eq!(ids(&memory), ["old", "k2"]);
    }

    #[tokio::test]
    async fn an_unconfirmed_key_is_never_delivered() {
        let memory = with_old_key(Memory {
            hide_created: true,
            ..Memory::default()
        });
        let err = rotate_with(
            &memory,
            "old",
            &NewKey::named("ci"),
            async |_| -> Result<()> { panic!("delivered an unconfirmed key") },
        )
        .await
        .unwrap_err();
        assert_eq!(err.step(), "confirm");
    }

    #[test]
    fn enabled_is_refused_where_keys_have_no_flag() {
        assert!(KeyUpdate::new().name("n").refuse_enabled("v", "x").is_ok());
        let refused = KeyUpdate::new()
            .enabled(false)
            .refuse_enabled("acme", "revoke it");
        assert_eq!(
            refused.unwrap_err().to_string(),
            "invalid request: acme cannot enable or disable an API key (`enabled` is not \
             supported); revoke it instead"
        );
    }

    #[test]
    fn markers_are_never_repeated() {
        let (a, b) = (
            one_off_marker("apikeys-create-"),
            one_off_marker("apikeys-create-"),
        );
        assert!(a.starts_with("apikeys-create-") && a != b, "{a} {b}");
        assert!(a.len() <= "apikeys-create-".len() + 50, "{a}");
    }

    #[test]
    fn a_later_step_s_key_created_error_keeps_what_each_step_knew() {
        let inner = Error::after_create(PartialKey::new().id("7"), server_error());
        let outer = Error::after_create(PartialKey::new().secret(Secret::from("s3cr3t")), inner);
        let key = outer.created_key().unwrap();
        assert_eq!(key.id.as_deref(), Some("7"));
        assert!(key.secret.is_some());
        assert!(matches!(outer, Error::KeyCreated { error, .. } if error.api().is_some()));
    }

    #[test]
    fn numeric_ids_are_checked() {
        assert_eq!(numeric_id::<i64>("balena", "42").unwrap(), 42);
        assert!(matches!(
            numeric_id::<i64>("balena", "4x"),
            Err(Error::InvalidRequest(_))
        ));
    }
}
