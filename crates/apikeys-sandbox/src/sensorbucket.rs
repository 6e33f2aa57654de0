//! SensorBucket (openapi/sensorbucket.yaml): list with opaque cursors, create, get, revoke.
//!
//! Authentication is `Authorization: Bearer <token>`, checked as the Ory gateway does:
//! its refusals come in the gateway's `{"error": {...}}` envelope, the services' errors as
//! `{"message", "code"}`. The quirks of the real server are kept: `get` wraps the key in
//! `data` and sends its `name` as `""`, a full last page is followed by an empty one, and a
//! non-numeric id is a 500 on `get` but a 400 on `revoke`.
//!
//! The wire is written with this module's own types, after the server's sources in
//! `sensorbucket/SensorBucket` (`services/tenants/transports/apikeys_http.go`,
//! `services/tenants/apikeys/`, `internal/web/web.go`), never with the client's generated
//! types: a field the client's fragment names wrong then fails the end-to-end tests.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use apikeys_common::Secret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::Vendor;
use crate::common::{
    Reply, base64, bearer, example, header, hex, json, lock, query_pairs, query_value, random_hex,
    random_i63, unhex,
};
use crate::examples::sensorbucket as examples;
use crate::seed::{SeedError, SeedKey};

/// The seeded tenant (the fragment's example's keys are its), and an archived one.
const TENANT: i64 = 19;
const ARCHIVED_TENANT: i64 = 20;

const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;

/// Every permission the server knows (`pkg/auth/permissions.go`), case-sensitive.
const PERMISSIONS: [&str; 15] = [
    "READ_DEVICES",
    "WRITE_DEVICES",
    "READ_API_KEYS",
    "WRITE_API_KEYS",
    "READ_TENANTS",
    "WRITE_TENANTS",
    "READ_PIPELINES",
    "WRITE_PIPELINES",
    "READ_MEASUREMENTS",
    "WRITE_MEASUREMENTS",
    "READ_TRACING",
    "READ_USER_WORKERS",
    "WRITE_USER_WORKERS",
    "READ_PROJECTS",
    "WRITE_PROJECTS",
];

struct Key {
    id: i64,
    name: String,
    tenant_id: i64,
    permissions: Vec<&'static str>,
    expiration: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
    token: String,
}

struct Tenant {
    id: i64,
    name: String,
    active: bool,
}

struct Sb {
    /// The base URL `links.next` is built on (the server's `HTTP_BASE`).
    base_url: String,
    tenants: Vec<Tenant>,
    keys: Vec<Key>,
}

type Shared = Arc<Mutex<Sb>>;

/// The router, mounted at `/sensorbucket/api`, with the credential and scope it was seeded
/// with, and its seeder. `base_url` is where that mount is reachable.
pub(crate) fn build(base_url: &str) -> (Router, Secret, SensorBucketScope, Seeder) {
    let keys = example::<Page>(examples::LIST_API_KEYS200_RESPONSE)
        .map(|page| page.data)
        .unwrap_or_default();
    let tenant_name = keys
        .first()
        .map_or_else(|| "Sandbox tenant".into(), |k| k.tenant_name.clone());
    let mut sb = Sb {
        base_url: base_url.to_string(),
        tenants: vec![
            Tenant {
                id: TENANT,
                name: tenant_name.clone(),
                active: true,
            },
            Tenant {
                id: ARCHIVED_TENANT,
                name: "Archived tenant".into(),
                active: false,
            },
        ],
        keys: Vec::new(),
    };
    // The example's keys, in the sandbox's tenant with fresh ids and tokens. The first is
    // the credential, its expiry cleared (the example's is a date near today). The server
    // checks no permission on the key operations, so the example's permissions serve.
    let mut keys = keys.into_iter();
    let credential = match keys.next() {
        Some(first) => {
            let (_, token) = sb.push_key(
                first.name,
                TENANT,
                first.permissions,
                None,
                micros(first.created),
            );
            token
        }
        None => sb.insert_key(
            "Sandbox credential".into(),
            TENANT,
            vec!["READ_DEVICES"],
            None,
        ),
    };
    for key in keys {
        let created = micros(key.created);
        let expiration = key.expiration_date.map(micros);
        sb.push_key(key.name, TENANT, key.permissions, expiration, created);
    }
    let scope = SensorBucketScope {
        tenant_id: TENANT,
        tenant_name,
        archived_tenant_id: ARCHIVED_TENANT,
    };
    let shared: Shared = Arc::new(Mutex::new(sb));
    let seeder = Seeder {
        sb: Arc::clone(&shared),
        tenant_id: scope.tenant_id,
    };
    let router = Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", get(get_one).delete(revoke))
        .fallback(not_found)
        .with_state(shared);
    (router, Secret::from(credential), scope, seeder)
}

/// Adds keys to the seeded tenant, with `READ_DEVICES` (a key needs a permission).
/// SensorBucket keys have a `created` time and an `expiration_date` (microseconds), but no
/// enabled flag; names are unique per tenant and not empty, as the server checks.
pub(crate) struct Seeder {
    sb: Shared,
    tenant_id: i64,
}

impl Seeder {
    pub(crate) fn seed(&self, keys: Vec<SeedKey>) -> Result<Vec<String>, SeedError> {
        const VENDOR: Vendor = Vendor::SensorBucket;
        let mut sb = lock(&self.sb);
        let mut taken: HashSet<String> = sb
            .keys
            .iter()
            .filter(|k| k.tenant_id == self.tenant_id)
            .map(|k| k.name.clone())
            .collect();
        for key in &keys {
            key.check_times(VENDOR)?;
            if !key.enabled {
                return Err(key.unsupported(VENDOR, "enabled"));
            }
            if key.name.is_empty() {
                return Err(key.invalid(VENDOR, "name", "a name cannot be empty"));
            }
            if !taken.insert(key.name.clone()) {
                return Err(key.invalid(VENDOR, "name", "the tenant has a key of that name"));
            }
        }
        sb.keys.reserve(keys.len());
        Ok(keys
            .into_iter()
            .map(|key| {
                let created = micros(key.created_at);
                let expiration = key.expires_at.map(micros);
                let (id, _) = sb.push_key(
                    key.name,
                    self.tenant_id,
                    vec!["READ_DEVICES"],
                    expiration,
                    created,
                );
                id.to_string()
            })
            .collect())
    }
}

/// A time as Go's `time.Time` writes it in JSON (RFC 3339, UTC, `Z`, the fraction without
/// trailing zeros); the database keeps microseconds.
fn go_time<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let text = at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let text = match text.split_once('.') {
        Some((seconds, fraction)) => {
            let digits = fraction.trim_end_matches('Z').trim_end_matches('0');
            match digits {
                "" => format!("{seconds}Z"),
                digits => format!("{seconds}.{digits}Z"),
            }
        }
        None => text,
    };
    serializer.serialize_str(&text)
}

fn go_time_or_null<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => go_time(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// A key as the list shows it (`ApiKeyDTO`): `expiration_date` is always there, `null`
/// when the key never expires, and `permissions` too.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListedKey {
    #[serde(rename = "id")]
    id: i64,
    #[serde(rename = "name")]
    name: String,
    #[serde(rename = "tenant_id")]
    tenant_id: i64,
    #[serde(rename = "tenant_name")]
    tenant_name: String,
    #[serde(rename = "expiration_date", serialize_with = "go_time_or_null")]
    expiration_date: Option<DateTime<Utc>>,
    #[serde(rename = "created", serialize_with = "go_time")]
    created: DateTime<Utc>,
    #[serde(rename = "permissions", deserialize_with = "known_permissions")]
    permissions: Vec<&'static str>,
}

/// Permissions read from an example: only ones the server knows.
fn known_permissions<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<&'static str>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|p| {
            PERMISSIONS
                .iter()
                .copied()
                .find(|known| known == p)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown permission `{p}`")))
        })
        .collect()
}

/// `links` of a page: `previous` is always `""`, `next` is `""` after the last page.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Links {
    #[serde(rename = "previous")]
    previous: String,
    #[serde(rename = "next")]
    next: String,
}

/// A page of the list; `total_count` is always 0, the server never counts.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    #[serde(rename = "links")]
    links: Links,
    #[serde(rename = "page_size")]
    page_size: usize,
    #[serde(rename = "total_count")]
    total_count: u64,
    #[serde(rename = "data")]
    data: Vec<ListedKey>,
}

/// A key as `get` shows it (`HashedApiKey`): no `tenant_name`, no `created`.
#[derive(Serialize)]
struct HashedKey {
    #[serde(rename = "id")]
    id: i64,
    #[serde(rename = "name")]
    name: String,
    #[serde(rename = "expiration_date", serialize_with = "go_time_or_null")]
    expiration_date: Option<DateTime<Utc>>,
    #[serde(rename = "tenant_id")]
    tenant_id: i64,
    #[serde(rename = "permissions")]
    permissions: Vec<&'static str>,
}

/// `get`'s answer: the key wrapped in `data`.
#[derive(Serialize)]
struct Wrapped {
    #[serde(rename = "data")]
    data: HashedKey,
}

/// Create's answer: the token, shown this once.
#[derive(Serialize)]
struct Created {
    #[serde(rename = "api_key")]
    api_key: String,
}

/// A service's message: an error (`code` only when the error is typed) or revoke's answer.
#[derive(Serialize)]
struct Message {
    #[serde(rename = "message")]
    message: String,
    #[serde(rename = "code", skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
}

/// The gateway's refusal, Ory Oathkeeper's JSON error handler writing through
/// `ory/herodot`'s `json.go`: the error wrapped in `error`.
#[derive(Serialize)]
struct GatewayRefusal {
    #[serde(rename = "error")]
    error: GatewayError,
}

#[derive(Serialize)]
struct GatewayError {
    #[serde(rename = "code")]
    code: u16,
    #[serde(rename = "status")]
    status: &'static str,
    #[serde(rename = "id")]
    id: &'static str,
    #[serde(rename = "message")]
    message: &'static str,
    #[serde(rename = "reason")]
    reason: String,
}

fn message(status: StatusCode, message: &str, code: Option<&'static str>) -> Response {
    let body = Message {
        message: message.into(),
        code,
    };
    json(status, &body)
}

fn internal() -> Response {
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal server error",
        None,
    )
}

/// A refusal injected by a fault rule.
pub(crate) fn fault_response(status: StatusCode, text: &str) -> Response {
    message(status, text, None)
}

async fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Not Found", None)
}

/// The gateway's refusal of a missing or bad token.
fn unauthorized(reason: &str) -> Response {
    let body = GatewayRefusal {
        error: GatewayError {
            code: 401,
            status: "Unauthorized",
            id: "unauthorized",
            message: "The request could not be authorized",
            reason: reason.into(),
        },
    };
    json(StatusCode::UNAUTHORIZED, &body)
}

impl Sb {
    /// A new key's token: unpadded standard base64 of `<id>:<32 hex digits>`, the id a
    /// random non-negative int64 (`services/tenants/apikeys/api-keys.go`).
    fn insert_key(
        &mut self,
        name: String,
        tenant_id: i64,
        permissions: Vec<&'static str>,
        expiration: Option<DateTime<Utc>>,
    ) -> String {
        let created = micros(Utc::now());
        self.push_key(name, tenant_id, permissions, expiration, created)
            .1
    }

    /// A new key created at `created`: its id and token.
    fn push_key(
        &mut self,
        name: String,
        tenant_id: i64,
        permissions: Vec<&'static str>,
        expiration: Option<DateTime<Utc>>,
        created: DateTime<Utc>,
    ) -> (i64, String) {
        let id = random_i63();
        let token = base64(format!("{id}:{}", random_hex(32)).as_bytes(), false);
        self.keys.push(Key {
            id,
            name,
            tenant_id,
            permissions,
            expiration,
            created,
            token: token.clone(),
        });
        (id, token)
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<(), Response> {
        let token = bearer(headers).ok_or_else(|| unauthorized("no bearer token"))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.token == token)
            .ok_or_else(|| unauthorized("the API key is invalid"))?;
        if key.expiration.is_some_and(|at| at <= Utc::now()) {
            return Err(unauthorized("the API key has expired"));
        }
        Ok(())
    }

    fn tenant_name(&self, id: i64) -> String {
        self.tenants
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }
}

/// A time to the microsecond, as the server's database keeps it.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// The cursor names the last key of a page and the page size: opaque to clients.
fn encode_cursor(key: &Key, limit: u64) -> String {
    let micros = key.created.timestamp_micros();
    hex(format!("{micros}:{}:{limit}", key.id).as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<(i64, i64, u64)> {
    let text = String::from_utf8(unhex(cursor)?).ok()?;
    let mut parts = text.split(':');
    let micros = parts.next()?.parse().ok()?;
    let id = parts.next()?.parse().ok()?;
    let limit = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((micros, id, limit))
}

async fn list(State(sb): State<Shared>, headers: HeaderMap, RawQuery(query): RawQuery) -> Reply {
    let sb = lock(&sb);
    sb.authenticate(&headers)?;
    let pairs = query_pairs(query.as_deref());
    let invalid = || message(StatusCode::BAD_REQUEST, "invalid params", None);
    let tenants = pairs
        .iter()
        .filter(|(name, _)| name == "tenant_id")
        .map(|(_, value)| value.parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid())?;
    let limit = match query_value(&pairs, "limit") {
        Some(text) => text.parse::<u64>().map_err(|_| invalid())?,
        None => 0,
    };
    let (after, limit) = match query_value(&pairs, "cursor") {
        // A cursor carries its own limit; the parameter is then ignored. A cursor that does
        // not decode is a 500 on the real server (`internal/pagination/pagination.go`).
        Some(cursor) => {
            let (micros, id, limit) = decode_cursor(cursor).ok_or_else(internal)?;
            (Some((micros, id)), limit)
        }
        None => (None, limit),
    };
    let limit = match limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let mut keys: Vec<&Key> = sb
        .keys
        .iter()
        .filter(|k| tenants.is_empty() || tenants.contains(&k.tenant_id))
        .filter(|k| after.is_none_or(|after| (k.created.timestamp_micros(), k.id) < after))
        .collect();
    // Newest first: `created DESC, id DESC`.
    keys.sort_by_key(|k| std::cmp::Reverse((k.created.timestamp_micros(), k.id)));
    keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    // A full page always names a next one, even when nothing follows (upstream's
    // pagination code says so, citing its issue #82).
    let next = match keys.last() {
        Some(last) if keys.len() as u64 >= limit => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("cursor", &encode_cursor(last, limit));
            let mut rest: Vec<&(String, String)> =
                pairs.iter().filter(|(name, _)| name != "cursor").collect();
            rest.sort_by(|a, b| a.0.cmp(&b.0));
            for (name, value) in rest {
                query.append_pair(name, value);
            }
            format!("{}/api-keys?{}", sb.base_url, query.finish())
        }
        _ => String::new(),
    };
    let data: Vec<ListedKey> = keys
        .iter()
        .map(|k| ListedKey {
            id: k.id,
            name: k.name.clone(),
            tenant_id: k.tenant_id,
            tenant_name: sb.tenant_name(k.tenant_id),
            expiration_date: k.expiration,
            created: k.created,
            permissions: k.permissions.clone(),
        })
        .collect();
    let body = Page {
        links: Links {
            previous: String::new(),
            next,
        },
        page_size: data.len(),
        total_count: 0,
        data,
    };
    Ok(json(StatusCode::OK, &body))
}

/// The create body as the server decodes it: every field optional, checked one by one in
/// the order of `httpCreateApiKey` (`services/tenants/transports/apikeys_http.go`).
#[derive(Deserialize)]
struct CreateBody {
    #[serde(rename = "name")]
    name: Option<String>,
    #[serde(rename = "tenant_id")]
    tenant_id: Option<i64>,
    #[serde(rename = "permissions")]
    permissions: Option<Vec<String>>,
    #[serde(rename = "expiration_date")]
    expiration_date: Option<DateTime<Utc>>,
}

async fn create(State(sb): State<Shared>, headers: HeaderMap, body: Bytes) -> Reply {
    let mut sb = lock(&sb);
    sb.authenticate(&headers)?;
    let bad = |text: &str, code: Option<&'static str>| message(StatusCode::BAD_REQUEST, text, code);
    if header(&headers, "content-type") != Some("application/json") {
        return Err(bad("Invalid content type", Some("INVALID_CONTENT_TYPE")));
    }
    let body: CreateBody =
        serde_json::from_slice(&body).map_err(|_| bad("Malformed JSON", Some("MALFORMED_JSON")))?;
    let permissions = body
        .permissions
        .unwrap_or_default()
        .iter()
        .map(|p| PERMISSIONS.iter().copied().find(|known| known == p))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            bad(
                "permission value is invalid",
                Some("ERR_PERMISSION_INVALID"),
            )
        })?;
    let name = body.name.unwrap_or_default();
    if name.is_empty() {
        return Err(bad("name cannot be empty", None));
    }
    let tenant_id = body.tenant_id.unwrap_or(0);
    if tenant_id <= 0 {
        return Err(bad("tenant_id must be higher than 0", None));
    }
    let expiration = body.expiration_date.map(micros);
    if expiration.is_some_and(|at| at <= Utc::now()) {
        return Err(bad("expiration_date must be set in the future", None));
    }
    if permissions.is_empty() {
        return Err(bad("at least one permission is required", None));
    }
    let tenant = sb
        .tenants
        .iter()
        .find(|t| t.id == tenant_id)
        .ok_or_else(|| {
            message(
                StatusCode::NOT_FOUND,
                "Tenant could not be found",
                Some("TENANT_NOT_FOUND"),
            )
        })?;
    if !tenant.active {
        return Err(message(
            StatusCode::NOT_FOUND,
            "Organisation does not exist or has been archived",
            None,
        ));
    }
    if sb
        .keys
        .iter()
        .any(|k| k.tenant_id == tenant_id && k.name == name)
    {
        return Err(bad(
            "API Key with name already exists for this tenant",
            Some("API_KEY_NAME_TENANT_COMBO_NOT_UNIQUE"),
        ));
    }
    let api_key = sb.insert_key(name, tenant_id, permissions, expiration);
    Ok(json(StatusCode::CREATED, &Created { api_key }))
}

async fn get_one(State(sb): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let mut sb = lock(&sb);
    sb.authenticate(&headers)?;
    // The real server does not type this parse error: a 500.
    let id: i64 = id.parse().map_err(|_| internal())?;
    let not_found = || {
        message(
            StatusCode::NOT_FOUND,
            "API Key not found",
            Some("ERR_API_KEY_NOT_FOUND"),
        )
    };
    let key = sb.keys.iter().find(|k| k.id == id).ok_or_else(not_found)?;
    if !sb.tenants.iter().any(|t| t.id == key.tenant_id && t.active) {
        return Err(not_found());
    }
    if key.expiration.is_some_and(|at| at <= Utc::now()) {
        // Asking for an expired key deletes it (`GetAPIKey` in
        // `services/tenants/apikeys/application.go`).
        sb.keys.retain(|k| k.id != id);
        return Err(not_found());
    }
    let body = Wrapped {
        data: HashedKey {
            id: key.id,
            // The store's query for one key does not select the name: it is always "".
            name: String::new(),
            expiration_date: key.expiration,
            tenant_id: key.tenant_id,
            permissions: key.permissions.clone(),
        },
    };
    Ok(json(StatusCode::OK, &body))
}

async fn revoke(State(sb): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let mut sb = lock(&sb);
    sb.authenticate(&headers)?;
    let id: i64 = id.parse().map_err(|_| {
        message(
            StatusCode::BAD_REQUEST,
            "api_key_id must be a valid int",
            None,
        )
    })?;
    if !sb.keys.iter().any(|k| k.id == id) {
        return Err(message(StatusCode::NOT_FOUND, "Key does not exist", None));
    }
    sb.keys.retain(|k| k.id != id);
    Ok(message(StatusCode::OK, "API key has been revoked", None))
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

impl std::fmt::Display for SensorBucketScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tenant {} ({})", self.tenant_id, self.tenant_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeded tenant and keys are the example's: a field the fragment writes and this
    /// module does not (or the reverse) fails the read.
    #[test]
    fn the_seeded_keys_are_the_fragments_example() {
        let page: Page = example(examples::LIST_API_KEYS200_RESPONSE).unwrap();
        assert!(
            page.data.len() >= 2,
            "the example must list the credential and another key"
        );
        let (_, credential, scope, seeder) = build("http://127.0.0.1:1/sensorbucket/api");
        let sb = lock(&seeder.sb);
        let seeded: Vec<_> = sb
            .keys
            .iter()
            .map(|k| {
                (
                    k.name.as_str(),
                    &k.permissions,
                    k.expiration,
                    k.created,
                    k.tenant_id,
                )
            })
            .collect();
        let expected: Vec<_> = page
            .data
            .iter()
            .enumerate()
            .map(|(i, k)| {
                // The credential never expires.
                let expiration = if i == 0 { None } else { k.expiration_date };
                (
                    k.name.as_str(),
                    &k.permissions,
                    expiration,
                    k.created,
                    TENANT,
                )
            })
            .collect();
        assert_eq!(seeded, expected);
        assert_eq!(sb.keys[0].token, credential.expose_secret());
        assert!(sb.keys.iter().all(|k| k.id != page.data[0].id));
        assert_eq!(scope.tenant_name, page.data[0].tenant_name);
        assert_eq!(sb.tenant_name(scope.tenant_id), scope.tenant_name);
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn times_are_written_as_go_writes_them() {
        for (time, wire) in [
            ("2025-06-02T09:14:27.481923Z", "2025-06-02T09:14:27.481923Z"),
            ("2025-03-11T14:02:10.5Z", "2025-03-11T14:02:10.5Z"),
            ("2025-03-11T14:02:10.000Z", "2025-03-11T14:02:10Z"),
            (
                "2025-03-11T14:02:10.123456789Z",
                "2025-03-11T14:02:10.123456Z",
            ),
        ] {
            let mut out = Vec::new();
            go_time(&at(time), &mut serde_json::Serializer::new(&mut out)).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), format!("\"{wire}\""));
        }
    }

    #[test]
    fn a_listed_key_always_has_its_expiry_and_permissions() {
        let key = ListedKey {
            id: 1_288_460_349_127_734_201,
            name: "Dashboard readonly".into(),
            tenant_id: 19,
            tenant_name: "Provincie Zeeland".into(),
            expiration_date: None,
            created: at("2025-03-11T14:02:10.5Z"),
            permissions: vec!["READ_DEVICES"],
        };
        assert_eq!(
            serde_json::to_value(&key).unwrap(),
            serde_json::json!({
                "id": 1_288_460_349_127_734_201_i64,
                "name": "Dashboard readonly",
                "tenant_id": 19,
                "tenant_name": "Provincie Zeeland",
                "expiration_date": null,
                "created": "2025-03-11T14:02:10.5Z",
                "permissions": ["READ_DEVICES"],
            })
        );
    }
}
