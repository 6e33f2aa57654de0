//! The Automox console API (openapi/automox.yaml): the seven API-key operations, the
//! user-scoped ones with the organization in the `o` query parameter, the organization
//! list with it in the path. Pages are numbered from 0, `limit` keys each (1 to 500,
//! default 500).
//!
//! Authentication is `Authorization: Bearer <key>`: an enabled, unexpired key. No answer
//! but `decrypt` ever carries a secret, and only a key's owner may decrypt it. Errors are
//! `{"errors": ["..."]}`.

use std::sync::{Arc, Mutex};

use apikeys_common::Secret;
use automox_apikeys::Timestamp;
use automox_apikeys::types::{
    ApiKey, ApiKeyPage, ApiKeyUser, AutomoxErrorResponse, CreateApiKey, UpdateApiKey,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::common::{Reply, bearer, empty, json, lock, query_pairs, query_value};
use crate::scope::AutomoxScope;

/// At most this many enabled keys per user and organization (the text of the published
/// spec's create operation).
const MAX_ACTIVE_KEYS: usize = 10;
const MAX_LIMIT: u64 = 500;

struct Key {
    id: i64,
    user_id: i64,
    org_id: i64,
    name: String,
    is_enabled: bool,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    secret: String,
}

impl Key {
    fn live(&self) -> bool {
        self.is_enabled && self.expires_at.is_none_or(|at| at > Utc::now())
    }
}

struct User {
    id: i64,
    org_id: i64,
    firstname: String,
    lastname: String,
    email: String,
}

struct Automox {
    users: Vec<User>,
    keys: Vec<Key>,
    next_id: i64,
}

type Shared = Arc<Mutex<Automox>>;

const ORG: i64 = 1234;

/// The router, mounted at `/automox/api`, with the credential and scope it was seeded with.
pub(crate) fn build() -> (Router, Secret, AutomoxScope) {
    let user = |id: i64, firstname: &str, lastname: &str, email: &str| User {
        id,
        org_id: ORG,
        firstname: firstname.into(),
        lastname: lastname.into(),
        email: email.into(),
    };
    let mut automox = Automox {
        users: vec![
            user(98765, "Ada", "Lovelace", "ada@example.com"),
            user(98766, "Charles", "Babbage", "charles@example.com"),
        ],
        keys: Vec::new(),
        next_id: 424_242,
    };
    let own = automox.insert_key(98765, "sandbox credential".into(), None);
    automox.insert_key(98765, "legacy-sync".into(), None);
    if let Some(key) = automox.keys.last_mut() {
        key.is_enabled = false;
    }
    automox.insert_key(98766, "babbage-ci".into(), None);
    let (own_id, credential) = automox
        .keys
        .iter()
        .find(|k| k.id == own)
        .map(|k| (k.id, k.secret.clone()))
        .unwrap_or_default();
    let scope = AutomoxScope {
        org_id: ORG,
        user_id: 98765,
        api_key_id: own_id,
        other_user_id: 98766,
    };
    let router = Router::new()
        .route("/orgs/{id}/api_keys", get(org_keys))
        .route("/users/{user_id}/api_keys", get(user_keys).post(create))
        .route(
            "/users/{user_id}/api_keys/{id}",
            get(get_one).put(update).delete(remove),
        )
        .route("/users/{user_id}/api_keys/{id}/decrypt", post(decrypt))
        .fallback(not_found_route)
        .with_state(Arc::new(Mutex::new(automox)));
    (router, Secret::from(credential), scope)
}

fn error(status: StatusCode, message: &str) -> Response {
    json(
        status,
        &AutomoxErrorResponse {
            errors: vec![message.into()],
        },
    )
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

fn forbidden() -> Response {
    error(StatusCode::FORBIDDEN, "Forbidden")
}

async fn not_found_route() -> Response {
    not_found()
}

fn int(text: &str) -> Result<i64, Response> {
    text.parse().map_err(|_| bad_request("Bad Request"))
}

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(bytes).map_err(|e| bad_request(&format!("Invalid body: {e}")))
}

/// `page` (from 0) and `limit` (1 to 500), as offsets into a list.
fn paging(pairs: &[(String, String)]) -> Result<(usize, usize), Response> {
    let number = |name: &str, default: u64| -> Result<u64, Response> {
        query_value(pairs, name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| bad_request(&format!("{name} must be a non-negative integer")))
        })
    };
    let page = number("page", 0)?;
    let limit = number("limit", MAX_LIMIT)?;
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_request("limit must be between 1 and 500"));
    }
    let limit = usize::try_from(limit).unwrap_or(1);
    let skip = usize::try_from(page)
        .unwrap_or(usize::MAX)
        .saturating_mul(limit);
    Ok((skip, limit))
}

impl Automox {
    fn insert_key(&mut self, user_id: i64, name: String, expires_at: Option<DateTime<Utc>>) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let now = Utc::now();
        self.keys.push(Key {
            id,
            user_id,
            org_id: ORG,
            name,
            is_enabled: true,
            expires_at,
            created_at: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
            secret: uuid::Uuid::new_v4().to_string(),
        });
        id
    }

    /// The calling user (the owner of the presented key).
    fn authenticate(&self, headers: &HeaderMap) -> Result<&User, Response> {
        let unauthorized = || error(StatusCode::UNAUTHORIZED, "Unauthorized");
        let token = bearer(headers).ok_or_else(unauthorized)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.secret == token && k.live())
            .ok_or_else(unauthorized)?;
        self.users
            .iter()
            .find(|u| u.id == key.user_id)
            .ok_or_else(unauthorized)
    }

    /// The organization of a user-scoped call (`o`, required) and the user, checked
    /// against the caller's organization.
    fn scope(
        &self,
        caller_org: i64,
        user_id: &str,
        pairs: &[(String, String)],
    ) -> Result<(i64, i64), Response> {
        let org = query_value(pairs, "o").ok_or_else(|| bad_request("o is required"))?;
        let org = int(org)?;
        let user_id = int(user_id)?;
        if org != caller_org {
            return Err(forbidden());
        }
        if !self
            .users
            .iter()
            .any(|u| u.id == user_id && u.org_id == org)
        {
            return Err(not_found());
        }
        Ok((org, user_id))
    }

    fn model(&self, key: &Key) -> ApiKey {
        let user = self.users.iter().find(|u| u.id == key.user_id);
        ApiKey {
            created_at: Some(Timestamp::from(key.created_at)),
            expires_at: key.expires_at.map(Timestamp::from),
            id: Some(key.id),
            is_enabled: Some(key.is_enabled),
            name: Some(key.name.clone()),
            user: user.map(|u| ApiKeyUser {
                email: Some(u.email.clone()),
                firstname: Some(u.firstname.clone()),
                id: Some(u.id),
                lastname: Some(u.lastname.clone()),
            }),
        }
    }

    fn page(&self, keys: Vec<&Key>, pairs: &[(String, String)]) -> Result<Response, Response> {
        let (skip, limit) = paging(pairs)?;
        let size = i64::try_from(keys.len()).unwrap_or(i64::MAX);
        let results = keys
            .into_iter()
            .skip(skip)
            .take(limit)
            .map(|k| self.model(k))
            .collect();
        Ok(json(
            StatusCode::OK,
            &ApiKeyPage {
                results,
                size: Some(size),
            },
        ))
    }

    fn find(&self, org: i64, user_id: i64, id: &str) -> Result<usize, Response> {
        let id = int(id)?;
        self.keys
            .iter()
            .position(|k| k.id == id && k.user_id == user_id && k.org_id == org)
            .ok_or_else(not_found)
    }

    fn active_keys(&self, org: i64, user_id: i64) -> usize {
        self.keys
            .iter()
            .filter(|k| k.org_id == org && k.user_id == user_id && k.is_enabled)
            .count()
    }
}

async fn org_keys(
    State(ax): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    let ax = lock(&ax);
    let caller_org = ax.authenticate(&headers)?.org_id;
    let org = int(&id)?;
    if org != caller_org {
        return Err(forbidden());
    }
    let keys = ax.keys.iter().filter(|k| k.org_id == org).collect();
    ax.page(keys, &query_pairs(query.as_deref()))
}

async fn user_keys(
    State(ax): State<Shared>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    let ax = lock(&ax);
    let caller_org = ax.authenticate(&headers)?.org_id;
    let pairs = query_pairs(query.as_deref());
    let (org, user_id) = ax.scope(caller_org, &user_id, &pairs)?;
    let keys = ax
        .keys
        .iter()
        .filter(|k| k.org_id == org && k.user_id == user_id)
        .collect();
    ax.page(keys, &pairs)
}

async fn create(
    State(ax): State<Shared>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> Reply {
    let mut ax = lock(&ax);
    let caller_org = ax.authenticate(&headers)?.org_id;
    let (org, user_id) = ax.scope(caller_org, &user_id, &query_pairs(query.as_deref()))?;
    let request: CreateApiKey = body(&bytes)?;
    let name = request.name.trim().to_string();
    if name.is_empty() {
        return Err(bad_request("name is required"));
    }
    if ax
        .keys
        .iter()
        .any(|k| k.org_id == org && k.user_id == user_id && k.name == name)
    {
        return Err(bad_request("API key name already exists"));
    }
    if ax.active_keys(org, user_id) >= MAX_ACTIVE_KEYS {
        return Err(bad_request("A user may have at most 10 active API keys"));
    }
    let expires_at = request.expires_at.map(|t| t.as_datetime());
    if expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(bad_request("expires_at must be in the future"));
    }
    let id = ax.insert_key(user_id, name, expires_at);
    let index = ax.find(org, user_id, &id.to_string())?;
    Ok(json(StatusCode::OK, &ax.model(&ax.keys[index])))
}

async fn get_one(
    State(ax): State<Shared>,
    headers: HeaderMap,
    Path((user_id, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Reply {
    let ax = lock(&ax);
    let caller_org = ax.authenticate(&headers)?.org_id;
    let (org, user_id) = ax.scope(caller_org, &user_id, &query_pairs(query.as_deref()))?;
    let index = ax.find(org, user_id, &id)?;
    Ok(json(StatusCode::OK, &ax.model(&ax.keys[index])))
}

async fn update(
    State(ax): State<Shared>,
    headers: HeaderMap,
    Path((user_id, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> Reply {
    let mut ax = lock(&ax);
    let caller_org = ax.authenticate(&headers)?.org_id;
    let (org, user_id) = ax.scope(caller_org, &user_id, &query_pairs(query.as_deref()))?;
    let index = ax.find(org, user_id, &id)?;
    let request: UpdateApiKey = body(&bytes)?;
    let enabling = request.is_enabled && !ax.keys[index].is_enabled;
    if enabling && ax.active_keys(org, user_id) >= MAX_ACTIVE_KEYS {
        return Err(bad_request("A user may have at most 10 active API keys"));
    }
    ax.keys[index].is_enabled = request.is_enabled;
    Ok(json(StatusCode::OK, &ax.model(&ax.keys[index])))
}

async fn remove(
    State(ax): State<Shared>,
    headers: HeaderMap,
    Path((user_id, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Reply {
    let mut ax = lock(&ax);
    let caller_org = ax.authenticate(&headers)?.org_id;
    let (org, user_id) = ax.scope(caller_org, &user_id, &query_pairs(query.as_deref()))?;
    let index = ax.find(org, user_id, &id)?;
    ax.keys.remove(index);
    Ok(empty(StatusCode::NO_CONTENT))
}

/// The key's secret, for its owner only. Whether Automox lets an administrator decrypt
/// another user's key is not documented; the sandbox answers 403, the stricter reading.
async fn decrypt(
    State(ax): State<Shared>,
    headers: HeaderMap,
    Path((user_id, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Reply {
    let ax = lock(&ax);
    let caller = ax.authenticate(&headers)?;
    let (caller_id, caller_org) = (caller.id, caller.org_id);
    let (org, user_id) = ax.scope(caller_org, &user_id, &query_pairs(query.as_deref()))?;
    let index = ax.find(org, user_id, &id)?;
    if user_id != caller_id {
        return Err(forbidden());
    }
    Ok(json(
        StatusCode::OK,
        &json!({ "api_key": ax.keys[index].secret }),
    ))
}
