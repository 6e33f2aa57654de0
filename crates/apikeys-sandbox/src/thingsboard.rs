//! ThingsBoard 4.x (openapi/thingsboard.yaml): log in, save (create or update), enable,
//! list a user's keys in numbered pages, update the description, delete.
//!
//! Authentication is `X-Authorization: ApiKey <value>` or `Bearer <jwt>` (`Authorization`
//! only when `X-Authorization` is absent); every error is ThingsBoard's error body.
//!
//! The wire is written with this module's own types, after the server's sources in
//! `thingsboard/thingsboard` (`ApiKeyController.java`, `ApiKeyInfo.java`,
//! `ThingsboardErrorResponse.java`), never with the client's generated types: a field the
//! client's fragment names wrong then fails the end-to-end tests.

use std::sync::{Arc, Mutex};

use apikeys_common::Secret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{delete, post, put};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::Vendor;
use crate::common::{
    Reply, base64, empty, example, header, json, jwt, lock, now_ms, query_pairs, query_value,
    random_bytes,
};
use crate::examples::thingsboard as examples;
use crate::seed::{SeedError, SeedKey};

/// ThingsBoard's error codes (`ThingsboardErrorCode.java`), sent as numbers.
const AUTHENTICATION: i32 = 10;
const JWT_EXPIRED: i32 = 11;
const INVALID_ARGUMENTS: i32 = 30;
const BAD_REQUEST_PARAMS: i32 = 31;
const ITEM_NOT_FOUND: i32 = 32;
const PERMISSION_DENIED: i32 = 20;
const TOO_MANY_REQUESTS: i32 = 33;
const GENERAL: i32 = 2;

/// How long a JWT from `login` lasts (the server's default, 9000 s).
const JWT_LIFETIME_MS: i64 = 9_000_000;

struct Key {
    id: Uuid,
    /// Creation order, the tie-break of every sort.
    seq: u64,
    created_time: i64,
    user_id: Uuid,
    description: String,
    enabled: bool,
    expiration_time: i64,
    value: String,
}

impl Key {
    fn expired(&self, now: i64) -> bool {
        self.expiration_time != 0 && self.expiration_time < now
    }
}

struct User {
    id: Uuid,
    email: String,
    password: String,
}

struct Session {
    token: String,
    user_id: Uuid,
    expires: i64,
}

struct Tb {
    tenant_id: Uuid,
    users: Vec<User>,
    keys: Vec<Key>,
    sessions: Vec<Session>,
    seq: u64,
}

type Shared = Arc<Mutex<Tb>>;

/// The router, mounted at `/thingsboard`, with the credential and scope it was seeded with
/// and its seeder.
pub(crate) fn build() -> (Router, Secret, ThingsBoardScope, Seeder) {
    let tenant_id = Uuid::new_v4();
    let user_id = Uuid::new_v4();
    let mut tb = Tb {
        tenant_id,
        users: vec![User {
            id: user_id,
            email: "tenant@thingsboard.org".into(),
            password: "tenant".into(),
        }],
        keys: Vec::new(),
        sessions: Vec::new(),
        seq: 0,
    };
    let (api_key_id, credential) = seed_example(&mut tb, user_id);
    let scope = ThingsBoardScope {
        tenant_id,
        user_id,
        api_key_id,
        username: "tenant@thingsboard.org".into(),
        password: "tenant".into(),
    };
    let shared: Shared = Arc::new(Mutex::new(tb));
    let seeder = Seeder {
        tb: Arc::clone(&shared),
        user_id,
    };
    let router = Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/apiKey", post(save))
        .route("/api/apiKey/{id}", delete(remove))
        .route("/api/apiKey/{id}/description", put(describe))
        .route("/api/apiKey/{id}/enabled/{value}", put(enable))
        .route("/api/apiKeys/{user_id}", axum::routing::get(list))
        .fallback(not_found)
        .with_state(shared);
    (router, Secret::from(credential), scope, seeder)
}

/// Seeds the user's keys from the fragment's `PageDataApiKeyInfo` example, with fresh ids
/// and values and the sandbox's tenant and user, and returns the credential's id and value.
///
/// The example's first key is the credential: enabled and never expiring, since the
/// example's expiry is a date near today and a sandbox must not lose its own credential.
/// The others keep the example's description, creation time, expiry and `enabled`. Should
/// the example not read (its unit test fails first), the credential alone is seeded.
fn seed_example(tb: &mut Tb, user_id: Uuid) -> (Uuid, String) {
    let keys = example::<PageData>(examples::PAGE_DATA_API_KEY_INFO)
        .map(|page| page.data)
        .unwrap_or_default();
    let mut keys = keys.into_iter();
    let credential = match keys.next() {
        Some(first) => tb.push_key(user_id, first.description, true, first.created_time, 0),
        None => tb.push_key(user_id, "Sandbox credential".into(), true, now_ms(), 0),
    };
    for key in keys {
        tb.push_key(
            user_id,
            key.description,
            key.enabled,
            key.created_time,
            key.expiration_time,
        );
    }
    credential
}

/// Adds keys to the seeded user. ThingsBoard has every field: `createdTime` and
/// `expirationTime` in epoch milliseconds (0 is "never" for both, so the epoch itself is
/// refused) and `enabled`; the description must not be blank, as the server checks.
pub(crate) struct Seeder {
    tb: Shared,
    user_id: Uuid,
}

impl Seeder {
    pub(crate) fn seed(&self, keys: Vec<SeedKey>) -> Result<Vec<String>, SeedError> {
        const VENDOR: Vendor = Vendor::ThingsBoard;
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            key.check_times(VENDOR)?;
            if key.name.trim().is_empty() {
                return Err(key.invalid(VENDOR, "name", "a description must not be blank"));
            }
            let created = key.created_at.timestamp_millis();
            if created == 0 {
                return Err(key.invalid(VENDOR, "created_at", "0 ms is read as no time"));
            }
            let expires = match key.expires_at.map(|at| at.timestamp_millis()) {
                None => 0,
                Some(0) => {
                    return Err(key.invalid(VENDOR, "expires_at", "0 ms means never expires"));
                }
                Some(ms) => ms,
            };
            rows.push((key.name, key.enabled, created, expires));
        }
        let mut tb = lock(&self.tb);
        tb.keys.reserve(rows.len());
        Ok(rows
            .into_iter()
            .map(|(description, enabled, created, expires)| {
                let (id, _) = tb.push_key(self.user_id, description, enabled, created, expires);
                id.to_string()
            })
            .collect())
    }
}

/// An id as ThingsBoard writes it in JSON: an object naming the entity type, never a bare
/// UUID.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityId {
    #[serde(rename = "entityType")]
    entity_type: EntityType,
    #[serde(rename = "id")]
    id: Uuid,
}

/// The entity types this module writes.
#[derive(Clone, Copy, PartialEq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum EntityType {
    ApiKey,
    Tenant,
    User,
}

/// An id as a request body carries it: `entityType` must be there, but only `id` counts.
#[derive(Deserialize)]
struct EntityIdIn {
    #[serde(rename = "entityType")]
    _entity_type: String,
    #[serde(rename = "id")]
    id: Uuid,
}

/// `ApiKeyInfo`: a key as every answer but creation shows it, without its value.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiKeyInfo {
    #[serde(rename = "id")]
    id: EntityId,
    #[serde(rename = "createdTime")]
    created_time: i64,
    #[serde(rename = "tenantId")]
    tenant_id: EntityId,
    #[serde(rename = "userId")]
    user_id: EntityId,
    /// Milliseconds since the epoch; 0 never expires.
    #[serde(rename = "expirationTime")]
    expiration_time: i64,
    #[serde(rename = "description")]
    description: String,
    #[serde(rename = "enabled")]
    enabled: bool,
    #[serde(rename = "expired")]
    expired: bool,
}

/// `ApiKey`: what `save` answers, the info plus the secret `value`, which is `null` on an
/// update.
#[derive(Serialize)]
struct ApiKey {
    #[serde(flatten)]
    info: ApiKeyInfo,
    #[serde(rename = "value")]
    value: Option<String>,
}

/// `PageDataApiKeyInfo`: one numbered page of a user's keys.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageData {
    #[serde(rename = "data")]
    data: Vec<ApiKeyInfo>,
    #[serde(rename = "totalPages")]
    total_pages: i32,
    #[serde(rename = "totalElements")]
    total_elements: i64,
    #[serde(rename = "hasNext")]
    has_next: bool,
}

/// `ThingsboardErrorResponse`: the body of every error.
#[derive(Serialize)]
struct ErrorBody {
    /// The HTTP status, repeated.
    #[serde(rename = "status")]
    status: u16,
    #[serde(rename = "message")]
    message: String,
    #[serde(rename = "errorCode")]
    error_code: i32,
    /// Milliseconds since the epoch.
    #[serde(rename = "timestamp")]
    timestamp: i64,
}

fn error(status: StatusCode, code: i32, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        status: status.as_u16(),
        message: message.into(),
        error_code: code,
        timestamp: now_ms(),
    };
    json(status, &body)
}

fn unauthorized(message: &str) -> Response {
    error(StatusCode::UNAUTHORIZED, AUTHENTICATION, message)
}

/// A refusal injected by a fault rule, with the error code the server gives that status.
pub(crate) fn fault_response(status: StatusCode, message: &str) -> Response {
    let code = match status.as_u16() {
        400 => BAD_REQUEST_PARAMS,
        401 => AUTHENTICATION,
        403 => PERMISSION_DENIED,
        404 => ITEM_NOT_FOUND,
        429 => TOO_MANY_REQUESTS,
        _ => GENERAL,
    };
    error(status, code, message)
}

fn item_not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        ITEM_NOT_FOUND,
        "Requested item wasn't found!",
    )
}

async fn not_found() -> Response {
    item_not_found()
}

fn parse_uuid(text: &str) -> Result<Uuid, Response> {
    Uuid::parse_str(text).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            BAD_REQUEST_PARAMS,
            format!("Invalid UUID string: {text}"),
        )
    })
}

impl Tb {
    /// A new key's secret value: `tb_` and 86 base64url characters (64 random bytes).
    fn insert_key(
        &mut self,
        user_id: Uuid,
        description: String,
        enabled: bool,
        expiration_time: i64,
    ) -> String {
        let created = now_ms();
        self.push_key(user_id, description, enabled, created, expiration_time)
            .1
    }

    /// A new key created at `created_time`: its id and secret value.
    fn push_key(
        &mut self,
        user_id: Uuid,
        description: String,
        enabled: bool,
        created_time: i64,
        expiration_time: i64,
    ) -> (Uuid, String) {
        let id = Uuid::new_v4();
        let value = format!("tb_{}", base64(&random_bytes(64), true));
        self.seq += 1;
        self.keys.push(Key {
            id,
            seq: self.seq,
            created_time,
            user_id,
            description,
            enabled,
            expiration_time,
            value: value.clone(),
        });
        (id, value)
    }

    /// The user the request's credential belongs to: `X-Authorization` (or `Authorization`
    /// when it is absent) with `ApiKey <value>` or `Bearer <jwt>`, prefixes matched as
    /// written.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Uuid, Response> {
        let value = header(headers, "x-authorization").or_else(|| header(headers, "authorization"));
        let now = now_ms();
        let Some(value) = value else {
            return Err(unauthorized("Authorization header cannot be blank!"));
        };
        let user = if let Some(secret) = value.strip_prefix("ApiKey ") {
            let key = self
                .keys
                .iter()
                .find(|k| k.value == secret)
                .ok_or_else(|| unauthorized("User not found for the provided API key"))?;
            if !key.enabled {
                return Err(unauthorized("API key auth is not active"));
            }
            if key.expired(now) {
                return Err(unauthorized("API key is expired"));
            }
            key.user_id
        } else if let Some(token) = value.strip_prefix("Bearer ") {
            let session = self
                .sessions
                .iter()
                .find(|s| s.token == token)
                .ok_or_else(|| unauthorized("Authentication failed"))?;
            if session.expires < now {
                return Err(error(
                    StatusCode::UNAUTHORIZED,
                    JWT_EXPIRED,
                    "Token has expired",
                ));
            }
            session.user_id
        } else {
            return Err(unauthorized("Authentication failed"));
        };
        if self.users.iter().any(|u| u.id == user) {
            Ok(user)
        } else {
            Err(unauthorized("Authentication failed"))
        }
    }

    fn info(&self, key: &Key) -> ApiKeyInfo {
        ApiKeyInfo {
            id: EntityId {
                entity_type: EntityType::ApiKey,
                id: key.id,
            },
            created_time: key.created_time,
            tenant_id: EntityId {
                entity_type: EntityType::Tenant,
                id: self.tenant_id,
            },
            user_id: EntityId {
                entity_type: EntityType::User,
                id: key.user_id,
            },
            expiration_time: key.expiration_time,
            description: key.description.clone(),
            enabled: key.enabled,
            expired: key.expired(now_ms()),
        }
    }

    fn key_mut(&mut self, id: Uuid) -> Result<&mut Key, Response> {
        self.keys
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or_else(item_not_found)
    }

    fn check_user(&self, user_id: Uuid) -> Result<(), Response> {
        if self.users.iter().any(|u| u.id == user_id) {
            Ok(())
        } else {
            Err(item_not_found())
        }
    }
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(State(tb): State<Shared>, body: Bytes) -> Reply {
    let body: LoginBody = serde_json::from_slice(&body).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            BAD_REQUEST_PARAMS,
            "Invalid request body",
        )
    })?;
    let mut tb = lock(&tb);
    let user = tb
        .users
        .iter()
        .find(|u| u.email == body.username && u.password == body.password)
        .ok_or_else(|| unauthorized("Invalid username or password"))?;
    let user_id = user.id;
    let now = now_ms();
    let claims = |kind: &str, lifetime: i64| {
        json!({
            "sub": body.username,
            "userId": user_id,
            "scopes": [kind],
            "iss": "thingsboard.io",
            "iat": now / 1000,
            "exp": (now + lifetime) / 1000,
        })
    };
    let token = jwt(&claims("TENANT_ADMIN", JWT_LIFETIME_MS));
    let refresh = jwt(&claims("REFRESH_TOKEN", 604_800_000));
    tb.sessions.push(Session {
        token: token.clone(),
        user_id,
        expires: now + JWT_LIFETIME_MS,
    });
    Ok(json(
        StatusCode::OK,
        &json!({"token": token, "refreshToken": refresh}),
    ))
}

/// The body of `save_api_key`, read as leniently as the server reads it: a missing
/// `enabled` is `false` and a missing `expirationTime` is 0: both are Java primitives in
/// the server's `ApiKeyInfo.java`.
#[derive(Deserialize)]
struct SaveBody {
    #[serde(rename = "id")]
    id: Option<EntityIdIn>,
    #[serde(rename = "userId")]
    user_id: Option<EntityIdIn>,
    #[serde(rename = "description")]
    description: Option<String>,
    #[serde(rename = "enabled", default)]
    enabled: bool,
    #[serde(rename = "expirationTime", default)]
    expiration_time: i64,
}

async fn save(State(tb): State<Shared>, headers: HeaderMap, body: Bytes) -> Reply {
    let mut tb = lock(&tb);
    tb.authenticate(&headers)?;
    let body: SaveBody = serde_json::from_slice(&body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            BAD_REQUEST_PARAMS,
            format!("Invalid request body: {e}"),
        )
    })?;
    let Some(user_id) = body.user_id.map(|u| u.id) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            INVALID_ARGUMENTS,
            "API key should be assigned to user!",
        ));
    };
    let description = body.description.unwrap_or_default();
    if description.trim().is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            INVALID_ARGUMENTS,
            "Validation error: description must not be blank",
        ));
    }
    tb.check_user(user_id)?;
    let (id, value) = match body.id {
        None => {
            let value = tb.insert_key(user_id, description, body.enabled, body.expiration_time);
            let id = tb.keys.last().map(|k| k.id).unwrap_or_default();
            (id, Some(value))
        }
        Some(EntityIdIn { id, .. }) => {
            let invalid =
                |message: &str| error(StatusCode::BAD_REQUEST, INVALID_ARGUMENTS, message);
            let key = tb
                .keys
                .iter_mut()
                .find(|k| k.id == id)
                .ok_or_else(|| invalid("Cannot update non-existent API key!"))?;
            if key.user_id != user_id {
                return Err(invalid("Cannot update API key user id!"));
            }
            if key.expiration_time != body.expiration_time {
                return Err(invalid("Cannot update API key expiration time!"));
            }
            key.description = description;
            key.enabled = body.enabled;
            (id, None)
        }
    };
    let key = tb
        .keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(item_not_found)?;
    // The secret is returned on creation only; an update answers `"value": null`.
    let body = ApiKey {
        info: tb.info(key),
        value,
    };
    Ok(json(StatusCode::OK, &body))
}

async fn remove(State(tb): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let mut tb = lock(&tb);
    tb.authenticate(&headers)?;
    let id = parse_uuid(&id)?;
    tb.key_mut(id)?;
    tb.keys.retain(|k| k.id != id);
    Ok(empty(StatusCode::OK))
}

/// The body is the raw text, whatever its Content-Type: the controller takes the request
/// body as a plain `String`.
async fn describe(
    State(tb): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let mut tb = lock(&tb);
    tb.authenticate(&headers)?;
    let id = parse_uuid(&id)?;
    let description = String::from_utf8(body.to_vec()).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            BAD_REQUEST_PARAMS,
            "Invalid request body",
        )
    })?;
    let key = tb.key_mut(id)?;
    if description.trim().is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            INVALID_ARGUMENTS,
            "Validation error: description must not be blank",
        ));
    }
    key.description = description;
    let key = tb
        .keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(item_not_found)?;
    Ok(json(StatusCode::OK, &tb.info(key)))
}

async fn enable(
    State(tb): State<Shared>,
    headers: HeaderMap,
    Path((id, value)): Path<(String, String)>,
) -> Reply {
    let mut tb = lock(&tb);
    tb.authenticate(&headers)?;
    let id = parse_uuid(&id)?;
    // Spring reads booleans without regard to case (`True` from the Python client works).
    let enabled = match value.to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                BAD_REQUEST_PARAMS,
                format!("Invalid boolean value: {value}"),
            ));
        }
    };
    tb.key_mut(id)?.enabled = enabled;
    let key = tb
        .keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(item_not_found)?;
    Ok(json(StatusCode::OK, &tb.info(key)))
}

/// A required integer query parameter, at least `min`.
fn int_param(pairs: &[(String, String)], name: &str, min: i32) -> Result<i32, Response> {
    let bad = |message: String| error(StatusCode::BAD_REQUEST, BAD_REQUEST_PARAMS, message);
    let text = query_value(pairs, name).ok_or_else(|| {
        bad(format!(
            "Required request parameter '{name}' for method parameter type int is not present"
        ))
    })?;
    let value: i32 = text
        .parse()
        .map_err(|_| bad(format!("Invalid value of '{name}': {text}")))?;
    if value < min {
        return Err(bad(format!("'{name}' must be at least {min}")));
    }
    Ok(value)
}

async fn list(
    State(tb): State<Shared>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    let tb = lock(&tb);
    tb.authenticate(&headers)?;
    let user_id = parse_uuid(&user_id)?;
    let pairs = query_pairs(query.as_deref());
    let page_size = int_param(&pairs, "pageSize", 1)?;
    let page = int_param(&pairs, "page", 0)?;
    tb.check_user(user_id)?;
    let search = query_value(&pairs, "textSearch").map(str::to_lowercase);
    let mut keys: Vec<&Key> = tb
        .keys
        .iter()
        .filter(|k| k.user_id == user_id)
        .filter(|k| {
            search
                .as_deref()
                .is_none_or(|s| k.description.to_lowercase().contains(s))
        })
        .collect();
    let property = query_value(&pairs, "sortProperty").unwrap_or("createdTime");
    let descending = match query_value(&pairs, "sortOrder").unwrap_or("ASC") {
        "ASC" => false,
        "DESC" => true,
        other => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                BAD_REQUEST_PARAMS,
                format!("Invalid sort order: {other}"),
            ));
        }
    };
    match property {
        "createdTime" => keys.sort_by_key(|k| (k.created_time, k.seq)),
        "expirationTime" => keys.sort_by_key(|k| (k.expiration_time, k.seq)),
        "description" => keys
            .sort_by(|a, b| (a.description.as_str(), a.seq).cmp(&(b.description.as_str(), b.seq))),
        "enabled" => keys.sort_by_key(|k| (k.enabled, k.seq)),
        other => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                BAD_REQUEST_PARAMS,
                format!("Invalid sort property: {other}"),
            ));
        }
    }
    if descending {
        keys.reverse();
    }
    let total = keys.len();
    let size = usize::try_from(page_size).unwrap_or(1).max(1);
    let start = usize::try_from(page).unwrap_or(0).saturating_mul(size);
    let data: Vec<ApiKeyInfo> = keys
        .iter()
        .skip(start)
        .take(size)
        .map(|k| tb.info(k))
        .collect();
    let body = PageData {
        data,
        total_pages: i32::try_from(total.div_ceil(size)).unwrap_or(i32::MAX),
        total_elements: i64::try_from(total).unwrap_or(i64::MAX),
        has_next: start.saturating_add(size) < total,
    };
    Ok(json(StatusCode::OK, &body))
}

/// ThingsBoard: the tenant administrator whose API key is the credential.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ThingsBoardScope {
    /// The tenant's id.
    pub tenant_id: Uuid,
    /// The user's id: pass it to `get_user_api_keys().user_id(..)` and in `SaveApiKeyRequest`.
    pub user_id: Uuid,
    /// The id of the credential's own key: revoking or disabling it makes the credential
    /// fail with 401.
    pub api_key_id: Uuid,
    /// The user's login (`login()` takes it with [`ThingsBoardScope::password`]).
    pub username: String,
    /// The user's password.
    pub password: String,
}

impl std::fmt::Display for ThingsBoardScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tenant {}, user {} (key {}; login {} / {})",
            self.tenant_id, self.user_id, self.api_key_id, self.username, self.password
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeded keys are the example's: a field the fragment writes and this module does
    /// not (or the reverse) fails the read.
    #[test]
    fn the_seeded_keys_are_the_fragments_example() {
        let page: PageData = example(examples::PAGE_DATA_API_KEY_INFO).unwrap();
        assert!(
            page.data.len() >= 2,
            "the example must list the credential and another key"
        );
        let (_, credential, scope, seeder) = build();
        let tb = lock(&seeder.tb);
        let seeded: Vec<_> = tb
            .keys
            .iter()
            .map(|k| {
                (
                    k.description.as_str(),
                    k.enabled,
                    k.created_time,
                    k.expiration_time,
                )
            })
            .collect();
        let expected: Vec<_> = page
            .data
            .iter()
            .enumerate()
            .map(|(i, k)| match i {
                // The credential: enabled, never expiring.
                0 => (k.description.as_str(), true, k.created_time, 0),
                _ => (
                    k.description.as_str(),
                    k.enabled,
                    k.created_time,
                    k.expiration_time,
                ),
            })
            .collect();
        assert_eq!(seeded, expected);
        assert_eq!(tb.keys[0].value, credential.expose_secret());
        assert_eq!(tb.keys[0].id, scope.api_key_id);
        assert!(tb.keys.iter().all(|k| k.user_id == scope.user_id));
        assert!(tb.keys.iter().all(|k| k.id != page.data[0].id.id));
        assert_eq!(tb.tenant_id, scope.tenant_id);
    }

    #[test]
    fn ids_are_objects_and_an_update_answers_a_null_value() {
        let id = Uuid::nil();
        let entity = |entity_type| EntityId { entity_type, id };
        let body = ApiKey {
            info: ApiKeyInfo {
                id: entity(EntityType::ApiKey),
                created_time: 1_763_891_234_567,
                tenant_id: entity(EntityType::Tenant),
                user_id: entity(EntityType::User),
                expiration_time: 0,
                description: "CI deploy key".into(),
                enabled: true,
                expired: false,
            },
            value: None,
        };
        let nil = "00000000-0000-0000-0000-000000000000";
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({
                "id": {"entityType": "API_KEY", "id": nil},
                "createdTime": 1_763_891_234_567_i64,
                "tenantId": {"entityType": "TENANT", "id": nil},
                "userId": {"entityType": "USER", "id": nil},
                "expirationTime": 0,
                "description": "CI deploy key",
                "enabled": true,
                "expired": false,
                "value": null,
            })
        );
    }
}
