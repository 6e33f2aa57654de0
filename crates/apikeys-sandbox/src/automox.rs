//! The Automox console API (openapi/automox.yaml): the seven API-key operations, the
//! user-scoped ones with the organization in the `o` query parameter, the organization
//! list with it in the path. Pages are numbered from 0, `limit` keys each (1 to 500,
//! default 500).
//!
//! Authentication is `Authorization: Bearer <key>`: an enabled, unexpired key. No answer
//! but `decrypt` ever carries a secret, and only a key's owner may decrypt it. Errors are
//! `{"errors": ["..."]}`.
//!
//! The wire is written with this module's own types, after Automox's published OpenAPI
//! document (`AutomoxCommunity/openapi-defs`, `openapi/ax-console/axconsoleAIO.yaml`),
//! never with the client's generated types: a field the client's fragment names wrong then
//! fails the end-to-end tests.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use apikeys_common::Secret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Vendor;
use crate::common::{Reply, bearer, empty, example, json, lock, query_pairs, query_value};
use crate::examples::automox as examples;
use crate::seed::{SeedError, SeedKey, take_ids};

/// At most this many enabled keys per user and organization, as the create operation's
/// description in Automox's OpenAPI document says.
const MAX_ACTIVE_KEYS: usize = 10;
const MAX_LIMIT: u64 = 500;

/// How Automox writes a time: ISO 8601 with an offset without a colon,
/// `2021-12-05T18:21:47+0000`.
const WIRE_TIME: &str = "%Y-%m-%dT%H:%M:%S%z";

fn wire_time<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&at.format(WIRE_TIME))
}

fn wire_time_or_null<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => wire_time(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// A time as a client may send it: the documented `+0000` form, RFC 3339 (`Z`, `+00:00`,
/// fractions) or, since the API's times are UTC, no offset at all.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|at| at.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|at| at.and_utc())
        })
        .ok()
}

fn required_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    optional_time(deserializer)?.ok_or_else(|| serde::de::Error::custom("a time is required"))
}

fn optional_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) => parse_time(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format_args!("`{text}` is not a time"))),
    }
}

/// `ApiKey`: a key as every answer shows it, never with its secret. A key that never
/// expires has `"expires_at": null`. (Read only from the fragment's examples.)
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiKeyOut<'a> {
    #[serde(rename = "id")]
    id: i64,
    #[serde(rename = "name", borrow)]
    name: Cow<'a, str>,
    #[serde(rename = "is_enabled")]
    is_enabled: bool,
    #[serde(
        rename = "expires_at",
        serialize_with = "wire_time_or_null",
        deserialize_with = "optional_time"
    )]
    expires_at: Option<DateTime<Utc>>,
    #[serde(
        rename = "created_at",
        serialize_with = "wire_time",
        deserialize_with = "required_time"
    )]
    created_at: DateTime<Utc>,
    #[serde(rename = "user", skip_serializing_if = "Option::is_none", borrow)]
    user: Option<UserOut<'a>>,
}

/// The key's owner, inside `ApiKey`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserOut<'a> {
    #[serde(rename = "id")]
    id: i64,
    #[serde(rename = "firstname", borrow)]
    firstname: Cow<'a, str>,
    #[serde(rename = "lastname", borrow)]
    lastname: Cow<'a, str>,
    #[serde(rename = "email", borrow)]
    email: Cow<'a, str>,
}

/// A page of either list: `size` counts every key of the list, `results` is the page.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Page<'a> {
    #[serde(rename = "size")]
    size: usize,
    #[serde(rename = "results", borrow)]
    results: Vec<ApiKeyOut<'a>>,
}

/// `CreateApiKey`: the name, required, and an optional expiry.
#[derive(Deserialize)]
struct CreateBody {
    #[serde(rename = "name")]
    name: String,
    #[serde(rename = "expires_at", default, deserialize_with = "optional_time")]
    expires_at: Option<DateTime<Utc>>,
}

/// `UpdateApiKey`: enabling or disabling is the only change there is.
#[derive(Deserialize)]
struct UpdateBody {
    #[serde(rename = "is_enabled")]
    is_enabled: bool,
}

/// Decrypt's answer: the key's secret.
#[derive(Serialize)]
struct Decrypted<'a> {
    #[serde(rename = "api_key")]
    api_key: &'a str,
}

/// Every error: one message in an array.
#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "errors")]
    errors: [&'a str; 1],
}

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
/// The seeded user, whose keys and name are the fragment's `ApiKeyPage` example's.
const USER: i64 = 98765;
/// Another user of the organization, with a key of its own.
const OTHER_USER: i64 = 98766;

/// The router, mounted at `/automox/api`, with the credential and scope it was seeded with
/// and its seeder.
pub(crate) fn build() -> (Router, Secret, AutomoxScope, Seeder) {
    let user = |id: i64, firstname: &str, lastname: &str, email: &str| User {
        id,
        org_id: ORG,
        firstname: firstname.into(),
        lastname: lastname.into(),
        email: email.into(),
    };
    let page = example::<Page>(examples::API_KEY_PAGE).ok();
    let results = page.map(|page| page.results).unwrap_or_default();
    // The example's keys' owner is the seeded user (with the sandbox's ids); the other user
    // has no example.
    let ada = match results.first().and_then(|key| key.user.as_ref()) {
        Some(u) => user(USER, &u.firstname, &u.lastname, &u.email),
        None => user(USER, "Sandbox", "User", "sandbox@example.com"),
    };
    let mut automox = Automox {
        users: vec![
            ada,
            user(OTHER_USER, "Charles", "Babbage", "charles@example.com"),
        ],
        keys: Vec::new(),
        next_id: 424_242,
    };
    // The example's first key is the credential: enabled and never expiring (the example's
    // expiry is a date near today). The others keep the example's name, state and times.
    let mut results = results.into_iter();
    let own = match results.next() {
        Some(first) => {
            automox.push_key(USER, first.name.into_owned(), true, None, first.created_at)
        }
        None => automox.insert_key(USER, "sandbox credential".into(), None),
    };
    for key in results {
        let name = key.name.into_owned();
        automox.push_key(USER, name, key.is_enabled, key.expires_at, key.created_at);
    }
    automox.insert_key(OTHER_USER, "babbage-ci".into(), None);
    let (own_id, credential) = automox
        .keys
        .iter()
        .find(|k| k.id == own)
        .map(|k| (k.id, k.secret.clone()))
        .unwrap_or_default();
    let scope = AutomoxScope {
        org_id: ORG,
        user_id: USER,
        api_key_id: own_id,
        other_user_id: OTHER_USER,
    };
    let router = Router::new()
        .route("/orgs/{id}/api_keys", get(org_keys))
        .route("/users/{user_id}/api_keys", get(user_keys).post(create))
        .route(
            "/users/{user_id}/api_keys/{id}",
            get(get_one).put(update).delete(remove),
        )
        .route("/users/{user_id}/api_keys/{id}/decrypt", post(decrypt))
        .fallback(not_found_route);
    let shared: Shared = Arc::new(Mutex::new(automox));
    let seeder = Seeder {
        ax: Arc::clone(&shared),
        org: scope.org_id,
        user_id: scope.user_id,
    };
    (
        router.with_state(shared),
        Secret::from(credential),
        scope,
        seeder,
    )
}

/// Adds keys to the seeded user. An Automox key has every field: `created_at` and
/// `expires_at` (to the second) and `is_enabled`; names are unique per user and not blank,
/// as the server checks. The limit of ten enabled keys per user is a rule of creation and
/// is not applied, so that lists of any length can be seeded.
pub(crate) struct Seeder {
    ax: Shared,
    org: i64,
    user_id: i64,
}

impl Seeder {
    pub(crate) fn seed(&self, keys: Vec<SeedKey>) -> Result<Vec<String>, SeedError> {
        const VENDOR: Vendor = Vendor::Automox;
        let mut ax = lock(&self.ax);
        let mut taken: HashSet<String> = ax
            .keys
            .iter()
            .filter(|k| k.org_id == self.org && k.user_id == self.user_id)
            .map(|k| k.name.clone())
            .collect();
        for key in &keys {
            key.check_times(VENDOR)?;
            if key.name.trim() != key.name || key.name.is_empty() {
                return Err(key.invalid(VENDOR, "name", "a name is not blank and not padded"));
            }
            if !taken.insert(key.name.clone()) {
                return Err(key.invalid(VENDOR, "name", "the user has a key of that name"));
            }
        }
        let first = take_ids(&mut ax.next_id, &keys, VENDOR)?;
        ax.keys.reserve(keys.len());
        Ok((first..)
            .zip(keys)
            .map(|(id, key)| {
                ax.keys.push(Key {
                    id,
                    user_id: self.user_id,
                    org_id: self.org,
                    name: key.name,
                    is_enabled: key.enabled,
                    expires_at: key.expires_at.map(seconds),
                    created_at: seconds(key.created_at),
                    secret: uuid::Uuid::new_v4().to_string(),
                });
                id.to_string()
            })
            .collect())
    }
}

/// A time to the second, as Automox writes it.
fn seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

fn error(status: StatusCode, message: &str) -> Response {
    json(status, &ErrorBody { errors: [message] })
}

/// A refusal injected by a fault rule.
pub(crate) fn fault_response(status: StatusCode, message: &str) -> Response {
    error(status, message)
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
        self.push_key(user_id, name, true, expires_at, Utc::now())
    }

    /// A key of the organization created at `created_at`: its id.
    fn push_key(
        &mut self,
        user_id: i64,
        name: String,
        is_enabled: bool,
        expires_at: Option<DateTime<Utc>>,
        created_at: DateTime<Utc>,
    ) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.keys.push(Key {
            id,
            user_id,
            org_id: ORG,
            name,
            is_enabled,
            expires_at: expires_at.map(seconds),
            created_at: seconds(created_at),
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

    fn model<'a>(&'a self, key: &'a Key) -> ApiKeyOut<'a> {
        let user = self.users.iter().find(|u| u.id == key.user_id);
        ApiKeyOut {
            id: key.id,
            name: Cow::Borrowed(&key.name),
            is_enabled: key.is_enabled,
            expires_at: key.expires_at,
            created_at: key.created_at,
            user: user.map(|u| UserOut {
                id: u.id,
                firstname: Cow::Borrowed(&u.firstname),
                lastname: Cow::Borrowed(&u.lastname),
                email: Cow::Borrowed(&u.email),
            }),
        }
    }

    fn page(&self, keys: Vec<&Key>, pairs: &[(String, String)]) -> Result<Response, Response> {
        let (skip, limit) = paging(pairs)?;
        let size = keys.len();
        let results = keys
            .into_iter()
            .skip(skip)
            .take(limit)
            .map(|k| self.model(k))
            .collect();
        Ok(json(StatusCode::OK, &Page { size, results }))
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
    let request: CreateBody = body(&bytes)?;
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
    let expires_at = request.expires_at;
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
    let request: UpdateBody = body(&bytes)?;
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
        &Decrypted {
            api_key: &ax.keys[index].secret,
        },
    ))
}

/// Automox: the organization and the user whose key is the credential.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AutomoxScope {
    /// The organization's id (the `o` of every user call, the `id` of the org list).
    pub org_id: i64,
    /// The user's id.
    pub user_id: i64,
    /// The id of the credential's own key.
    pub api_key_id: i64,
    /// Another user of the organization, with a key of their own.
    pub other_user_id: i64,
}

impl std::fmt::Display for AutomoxScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "organization {}, user {} (key {}); other user {}",
            self.org_id, self.user_id, self.api_key_id, self.other_user_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeded user and keys are the example's: a field the fragment writes and this
    /// module does not (or the reverse) fails the read.
    #[test]
    fn the_seeded_keys_are_the_fragments_example() {
        let page: Page = example(examples::API_KEY_PAGE).unwrap();
        assert!(
            page.results.len() >= 2,
            "the example must list the credential and another key"
        );
        let (_, credential, scope, seeder) = build();
        let ax = lock(&seeder.ax);
        let seeded: Vec<_> = ax
            .keys
            .iter()
            .filter(|k| k.user_id == scope.user_id)
            .map(|k| (k.name.as_str(), k.is_enabled, k.expires_at, k.created_at))
            .collect();
        let expected: Vec<_> = page
            .results
            .iter()
            .enumerate()
            .map(|(i, k)| match i {
                // The credential: enabled, never expiring.
                0 => (k.name.as_ref(), true, None, k.created_at),
                _ => (k.name.as_ref(), k.is_enabled, k.expires_at, k.created_at),
            })
            .collect();
        assert_eq!(seeded, expected);
        let own = ax.keys.iter().find(|k| k.id == scope.api_key_id).unwrap();
        assert_eq!(own.secret, credential.expose_secret());
        let user = page.results[0].user.as_ref().unwrap();
        let seeded_user = ax.users.iter().find(|u| u.id == scope.user_id).unwrap();
        assert_eq!(
            (
                seeded_user.firstname.as_str(),
                seeded_user.lastname.as_str()
            ),
            (user.firstname.as_ref(), user.lastname.as_ref())
        );
        assert_eq!(seeded_user.email, user.email);
    }

    #[test]
    fn times_are_read_in_every_documented_form_and_written_with_plus_0000() {
        let want = DateTime::from_timestamp(1_638_728_507, 0).unwrap();
        for text in [
            "2021-12-05T18:21:47+0000",
            "2021-12-05T20:21:47+0200",
            "2021-12-05T18:21:47Z",
            "2021-12-05T18:21:47+00:00",
            "2021-12-05T18:21:47",
        ] {
            assert_eq!(parse_time(text), Some(want), "{text}");
        }
        assert_eq!(parse_time("2021-12-05"), None);
        let key = Key {
            id: 424_242,
            user_id: 98765,
            org_id: ORG,
            name: "ci-pipeline".into(),
            is_enabled: true,
            expires_at: None,
            created_at: want,
            secret: String::new(),
        };
        let automox = Automox {
            users: Vec::new(),
            keys: Vec::new(),
            next_id: 0,
        };
        assert_eq!(
            serde_json::to_value(automox.model(&key)).unwrap(),
            serde_json::json!({
                "id": 424_242,
                "name": "ci-pipeline",
                "is_enabled": true,
                "expires_at": null,
                "created_at": "2021-12-05T18:21:47+0000",
            })
        );
    }
}
