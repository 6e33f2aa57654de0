//! SensorBucket (openapi/sensorbucket.yaml): list with opaque cursors, create, get, revoke.
//!
//! Authentication is `Authorization: Bearer <token>`, checked as the Ory gateway does:
//! its refusals come in the gateway's `{"error": {...}}` envelope, the services' errors as
//! `{"message", "code"}`. The quirks of the real server are kept: `get` wraps the key in
//! `data` and sends its `name` as `""`, a full last page is followed by an empty one, and a
//! non-numeric id is a 500 on `get` but a 400 on `revoke`.

use std::sync::{Arc, Mutex};

use apikeys_common::Secret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use sensorbucket_apikeys::types::{
    ApiKey, ApiKeyDetails, GatewayError, GetApiKey200Response, ListApiKeys200Response,
    PaginatedResponseLinks, Permission, RevokeApiKey200Response, SensorbucketErrorResponse,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::{
    Reply, base64, bearer, header, hex, json, lock, query_pairs, query_value, random_hex,
    random_i63, unhex,
};
use crate::scope::SensorBucketScope;

const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;

struct Key {
    id: i64,
    name: String,
    tenant_id: i64,
    permissions: Vec<Permission>,
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
/// with. `base_url` is where that mount is reachable.
pub(crate) fn build(base_url: &str) -> (Router, Secret, SensorBucketScope) {
    let mut sb = Sb {
        base_url: base_url.to_string(),
        tenants: vec![
            Tenant {
                id: 19,
                name: "Sandbox tenant".into(),
                active: true,
            },
            Tenant {
                id: 20,
                name: "Archived tenant".into(),
                active: false,
            },
        ],
        keys: Vec::new(),
    };
    let all = vec![
        Permission::ReadDevices,
        Permission::WriteDevices,
        Permission::ReadApiKeys,
        Permission::WriteApiKeys,
        Permission::ReadMeasurements,
    ];
    let credential = sb.insert_key("Sandbox credential".into(), 19, all, None);
    sb.insert_key(
        "Dashboard readonly".into(),
        19,
        vec![Permission::ReadDevices, Permission::ReadMeasurements],
        None,
    );
    let scope = SensorBucketScope {
        tenant_id: 19,
        tenant_name: "Sandbox tenant".into(),
        archived_tenant_id: 20,
    };
    let router = Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", get(get_one).delete(revoke))
        .fallback(not_found)
        .with_state(Arc::new(Mutex::new(sb)));
    (router, Secret::from(credential), scope)
}

fn message(status: StatusCode, message: &str, code: Option<&str>) -> Response {
    let body = SensorbucketErrorResponse {
        message: Some(message.into()),
        code: code.map(Into::into),
        error: None,
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

async fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Not Found", None)
}

/// The gateway's refusal (Ory Oathkeeper's JSON error handler).
fn unauthorized(reason: &str) -> Response {
    let body = SensorbucketErrorResponse {
        error: Some(GatewayError {
            code: Some(401),
            id: Some("unauthorized".into()),
            message: Some("The request could not be authorized".into()),
            reason: Some(reason.into()),
            status: Some("Unauthorized".into()),
        }),
        ..Default::default()
    };
    json(StatusCode::UNAUTHORIZED, &body)
}

impl Sb {
    /// A new key's token: unpadded base64 of `<id>:<32 hex digits>`.
    fn insert_key(
        &mut self,
        name: String,
        tenant_id: i64,
        permissions: Vec<Permission>,
        expiration: Option<DateTime<Utc>>,
    ) -> String {
        let id = random_i63();
        let token = base64(format!("{id}:{}", random_hex(32)).as_bytes(), false);
        self.keys.push(Key {
            id,
            name,
            tenant_id,
            permissions,
            expiration,
            created: Utc::now(),
            token: token.clone(),
        });
        token
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

/// A generated model as JSON, with `expiration_date: null` put back: the server sends the
/// field always, the generated type leaves out a `None`.
fn with_null_expiry(model: &impl serde::Serialize) -> Value {
    let mut value = serde_json::to_value(model).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.entry("expiration_date").or_insert(Value::Null);
    }
    value
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
        // A cursor carries its own limit; the parameter is then ignored. A cursor
        // that does not decode is a 500 on the real server.
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
    // A full page always names a next one, even when nothing follows.
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
    let data: Vec<Value> = keys
        .iter()
        .map(|k| {
            with_null_expiry(&ApiKey {
                created: k.created,
                expiration_date: k.expiration,
                id: k.id,
                name: k.name.clone(),
                permissions: k.permissions.clone(),
                tenant_id: k.tenant_id,
                tenant_name: sb.tenant_name(k.tenant_id),
            })
        })
        .collect();
    let body = ListApiKeys200Response {
        page_size: i64::try_from(keys.len()).unwrap_or(i64::MAX),
        total_count: 0,
        links: PaginatedResponseLinks {
            next: Some(next),
            previous: Some(String::new()),
        },
        data: Vec::new(),
    };
    let mut body = serde_json::to_value(body).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.insert("data".into(), Value::Array(data));
    }
    Ok(json(StatusCode::OK, &body))
}

/// The create body as the server decodes it: every field optional, checked one by one in
/// the server's order.
#[derive(Deserialize)]
struct CreateBody {
    name: Option<String>,
    tenant_id: Option<i64>,
    permissions: Option<Vec<String>>,
    expiration_date: Option<DateTime<Utc>>,
}

async fn create(State(sb): State<Shared>, headers: HeaderMap, body: Bytes) -> Reply {
    let mut sb = lock(&sb);
    sb.authenticate(&headers)?;
    let bad = |text: &str, code: Option<&str>| message(StatusCode::BAD_REQUEST, text, code);
    if header(&headers, "content-type") != Some("application/json") {
        return Err(bad("Invalid content type", Some("INVALID_CONTENT_TYPE")));
    }
    let body: CreateBody =
        serde_json::from_slice(&body).map_err(|_| bad("Malformed JSON", Some("MALFORMED_JSON")))?;
    let permissions = body
        .permissions
        .unwrap_or_default()
        .iter()
        .map(|p| match Permission::from(p.as_str()) {
            Permission::Unknown(_) => None,
            known => Some(known),
        })
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
    if body.expiration_date.is_some_and(|at| at <= Utc::now()) {
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
    let token = sb.insert_key(name, tenant_id, permissions, body.expiration_date);
    Ok(json(StatusCode::CREATED, &json!({ "api_key": token })))
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
        // Asking for an expired key deletes it.
        sb.keys.retain(|k| k.id != id);
        return Err(not_found());
    }
    let body = GetApiKey200Response {
        data: ApiKeyDetails {
            expiration_date: key.expiration,
            id: key.id,
            // The server's query leaves the name out: it is always "".
            name: String::new(),
            permissions: key.permissions.clone(),
            tenant_id: key.tenant_id,
        },
    };
    let mut body = serde_json::to_value(body).unwrap_or_default();
    if let Some(data) = body.get_mut("data").and_then(Value::as_object_mut) {
        data.entry("expiration_date").or_insert(Value::Null);
    }
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
    let body = RevokeApiKey200Response {
        message: Some("API key has been revoked".into()),
    };
    Ok(json(StatusCode::OK, &body))
}
