//! balena (openapi/balena.yaml): whoami, `POST /api-key/user/full`, the `/v7/api_key`
//! OData resource (list with `$filter`/`$select`/`$expand`/`$orderby`/`$top`/`$skip`,
//! `$count`, PATCH and DELETE by id), and the application and device actor look-ups.
//!
//! Authentication is `Authorization: Bearer <token>`: a session token (JWT-shaped) or an
//! API key, told apart by shape. Only a session may create, update or revoke keys (an API
//! key gets 401, as on openBalena). What each credential may read follows openBalena's roles
//! (open-balena-api `src/lib/auth.ts`): a user (session or named key) reads only the keys of
//! its own actor, so its fleets' and devices' keys are not listed to it; a device key reads
//! its device and fleet but no keys; a provisioning key reads no keys or devices (401) and
//! finds no fleet, not even its own (200, no rows, as openBalena v49 answers). PATCH and
//! DELETE of a key the caller cannot see change nothing and answer 200.
//!
//! A key listing without `$select` sends every column, the secret `key` and `modified_at`
//! included, as openBalena does. Errors are balena's: empty bodies, JSON strings. Bodies are
//! written with `serde_json` here, never with the client crate's types, so that a field the
//! client names wrongly fails a test.

use std::sync::{Arc, Mutex};

use apikeys_common::Secret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::Vendor;
use crate::common::{
    bearer, empty, example, json, jwt, lock, now, percent_decode, query_pairs, query_value,
    random_hex, to_millis,
};
use crate::examples::balena as examples;
use crate::odata::{self, Row, Val};
use crate::seed::{SeedError, SeedKey, take_ids};

const MOUNT: &str = "/balena";
/// Every column of an `api_key` row; the secret `key` and `modified_at` too, as openBalena
/// has them.
const KEY_FIELDS: &[&str] = &[
    "id",
    "created_at",
    "modified_at",
    "name",
    "description",
    "expiry_date",
    "is_of__actor",
    "key",
];
const APPLICATION_FIELDS: &[&str] = &["id", "app_name", "slug", "uuid", "actor"];
const DEVICE_FIELDS: &[&str] = &["id", "uuid", "device_name", "actor"];
const NAME_TOO_LONG: &str = "It is necessary that each api key that has a name, has a name that has a Length (Type) that is less than or equal to 50.";
const DESCRIPTION_TOO_LONG: &str = "It is necessary that each api key that has a description, has a description that has a Length (Type) that is less than or equal to 150.";

#[derive(Clone)]
struct Key {
    id: i64,
    created_at: DateTime<Utc>,
    modified_at: DateTime<Utc>,
    name: Option<String>,
    description: Option<String>,
    expiry_date: Option<DateTime<Utc>>,
    actor: i64,
    secret: String,
}

impl Key {
    fn live(&self) -> bool {
        self.expiry_date.is_none_or(|at| at > Utc::now())
    }
}

struct User {
    id: i64,
    actor: i64,
    username: String,
    email: String,
}

#[derive(Clone)]
struct Application {
    id: i64,
    actor: i64,
    owner: i64,
    app_name: String,
    slug: String,
    uuid: String,
}

#[derive(Clone)]
struct Device {
    id: i64,
    actor: i64,
    application: i64,
    uuid: String,
    device_name: String,
}

struct Balena {
    users: Vec<User>,
    applications: Vec<Application>,
    devices: Vec<Device>,
    keys: Vec<Key>,
    /// Session tokens and the user each belongs to.
    sessions: Vec<(String, i64)>,
    next_id: i64,
}

type Shared = Arc<Mutex<Balena>>;

/// What kind of actor calls, which decides what it may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A user, with a session token or a named API key.
    User,
    /// A fleet, with its provisioning key.
    Fleet,
    /// A device, with its device key.
    Device,
}

/// Who is calling: an actor, its role, and whether with a user's session token.
struct Caller {
    actor: i64,
    role: Role,
    session: bool,
}

fn date(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Row for Key {
    fn field(&self, name: &str) -> Val {
        let text = |t: &Option<String>| t.clone().map_or(Val::Null, Val::Str);
        match name {
            "id" => Val::Int(self.id),
            "created_at" => Val::Date(self.created_at),
            "modified_at" => Val::Date(self.modified_at),
            "name" => text(&self.name),
            "description" => text(&self.description),
            "expiry_date" => self.expiry_date.map_or(Val::Null, Val::Date),
            "is_of__actor" => Val::Int(self.actor),
            "key" => Val::Str(self.secret.clone()),
            _ => Val::Null,
        }
    }
}

impl Row for Application {
    fn field(&self, name: &str) -> Val {
        match name {
            "id" => Val::Int(self.id),
            "app_name" => Val::Str(self.app_name.clone()),
            "slug" => Val::Str(self.slug.clone()),
            "uuid" => Val::Str(self.uuid.clone()),
            "actor" => Val::Int(self.actor),
            _ => Val::Null,
        }
    }
}

impl Row for Device {
    fn field(&self, name: &str) -> Val {
        match name {
            "id" => Val::Int(self.id),
            "uuid" => Val::Str(self.uuid.clone()),
            "device_name" => Val::Str(self.device_name.clone()),
            "actor" => Val::Int(self.actor),
            _ => Val::Null,
        }
    }
}

/// An `api_key` row of the fragment's `ApiKeyCollection` example, which the user's named
/// keys are seeded from: only columns this module writes (`KEY_FIELDS`), each there.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleKey {
    #[serde(rename = "id")]
    _id: i64,
    #[serde(rename = "created_at")]
    created_at: DateTime<Utc>,
    #[serde(rename = "name")]
    name: Option<String>,
    #[serde(rename = "description")]
    description: Option<String>,
    #[serde(rename = "expiry_date")]
    expiry_date: Option<DateTime<Utc>>,
    #[serde(rename = "is_of__actor")]
    _is_of_actor: ExampleActorRef,
}

/// A reference to an actor as `$expand` leaves it out: its id only.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleActorRef {
    #[serde(rename = "__id")]
    _id: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleCollection {
    #[serde(rename = "d")]
    d: Vec<ExampleKey>,
}

/// The fragment's `ActorWhoami` example for a user, which the user's name and email are
/// seeded from: the fields `whoami` writes for a user.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleWhoami {
    #[serde(rename = "id")]
    _id: i64,
    #[serde(rename = "actorType")]
    _actor_type: String,
    #[serde(rename = "actorTypeId")]
    _actor_type_id: i64,
    #[serde(rename = "username")]
    username: String,
    #[serde(rename = "email")]
    email: String,
}

/// The router, at the host root as balena serves its API (`/v7/…`, `/actor/v1/…`,
/// `/api-key/…`, which no other vendor's mount shares) and, for older clients, under
/// `/balena` too; balena's paths hold parentheses and quotes, which are matched by hand.
/// With the credential and scope it was seeded with, and its seeder.
pub(crate) fn build() -> (Router, Secret, BalenaScope, Seeder) {
    let created = now();
    let whoami = example::<ExampleWhoami>(examples::ACTOR_WHOAMI).ok();
    let (username, email) = match whoami {
        Some(me) => (me.username, me.email),
        None => ("sandbox".into(), "sandbox@example.com".into()),
    };
    // The sandbox's own ids: the fragment's example has the same ones.
    let user = User {
        id: 42,
        actor: 1111,
        username,
        email,
    };
    let application = Application {
        id: 123,
        actor: 5555,
        owner: user.id,
        app_name: "fleet".into(),
        slug: "sandbox/fleet".into(),
        uuid: random_hex(32),
    };
    let device = Device {
        id: 456,
        actor: 7777,
        application: application.id,
        uuid: random_hex(32),
        device_name: "sandbox-device".into(),
    };
    let mut next_id = 4_870_231;
    let mut key = |name: Option<String>,
                   description: Option<String>,
                   created_at: DateTime<Utc>,
                   expiry_date: Option<DateTime<Utc>>,
                   actor: i64| {
        next_id += 1;
        Key {
            id: next_id - 1,
            created_at,
            modified_at: created_at,
            name,
            description,
            expiry_date,
            actor,
            secret: random_hex(32),
        }
    };
    // The user's named keys are the fragment's `ApiKeyCollection` example's, with fresh ids
    // and secrets and the user's actor. The last is `scopes().balena.api_key`, a working
    // credential: its expiry is cleared (the example's are dates near today).
    let rows = example::<ExampleCollection>(examples::API_KEY_COLLECTION)
        .map(|collection| collection.d)
        .unwrap_or_default();
    let last = rows.len().saturating_sub(1);
    let mut keys: Vec<Key> = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let expiry = if i == last { None } else { row.expiry_date };
            key(
                row.name,
                row.description,
                to_millis(row.created_at),
                expiry.map(to_millis),
                user.actor,
            )
        })
        .collect();
    if keys.is_empty() {
        keys.push(key(Some("sandbox".into()), None, created, None, user.actor));
    }
    let api_key = keys.last().map(|k| k.secret.clone()).unwrap_or_default();
    // A legacy, unnamed user key: not one of the "named user keys".
    keys.push(key(None, None, created, None, user.actor));
    let provisioning = key(None, None, created, None, application.actor);
    let device_key = key(None, None, created, None, device.actor);
    let (provisioning_key, device_key_secret) =
        (provisioning.secret.clone(), device_key.secret.clone());
    keys.extend([provisioning, device_key]);
    let session = jwt(&json!({
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "iat": created.timestamp(),
        "authTime": created.timestamp_millis(),
    }));
    let scope = BalenaScope {
        user_id: user.id,
        actor_id: user.actor,
        username: user.username.clone(),
        application_id: application.id,
        application_slug: application.slug.clone(),
        device_id: device.id,
        device_uuid: device.uuid.clone(),
        api_key: Secret::from(api_key),
        provisioning_key: Secret::from(provisioning_key),
        device_key: Secret::from(device_key_secret),
    };
    let actor = user.actor;
    let balena = Balena {
        sessions: vec![(session.clone(), user.id)],
        users: vec![user],
        applications: vec![application],
        devices: vec![device],
        keys,
        next_id,
    };
    let router = Router::new()
        .route("/balena/{*path}", any(handle))
        .route("/v7/{*path}", any(handle))
        .route("/actor/{*path}", any(handle))
        .route("/api-key/{*path}", any(handle));
    let shared: Shared = Arc::new(Mutex::new(balena));
    let seeder = Seeder {
        balena: Arc::clone(&shared),
        actor,
    };
    (
        router.with_state(shared),
        Secret::from(session),
        scope,
        seeder,
    )
}

/// Adds named keys to the seeded user's actor. A balena key has `created_at` and
/// `expiry_date` (milliseconds; `modified_at` is set to `created_at`) but no enabled flag;
/// a name is 1 to 50 characters, as the server checks.
pub(crate) struct Seeder {
    balena: Shared,
    actor: i64,
}

impl Seeder {
    pub(crate) fn seed(&self, keys: Vec<SeedKey>) -> Result<Vec<String>, SeedError> {
        const VENDOR: Vendor = Vendor::Balena;
        for key in &keys {
            key.check_times(VENDOR)?;
            if !key.enabled {
                return Err(key.unsupported(VENDOR, "enabled"));
            }
            if key.name.is_empty() {
                return Err(key.invalid(VENDOR, "name", "a named key's name cannot be empty"));
            }
            if key.name.chars().count() > 50 {
                return Err(key.invalid(VENDOR, "name", NAME_TOO_LONG));
            }
        }
        let mut balena = lock(&self.balena);
        let first = take_ids(&mut balena.next_id, &keys, VENDOR)?;
        balena.keys.reserve(keys.len());
        Ok((first..)
            .zip(keys)
            .map(|(id, key)| {
                let created = to_millis(key.created_at);
                balena.keys.push(Key {
                    id,
                    created_at: created,
                    modified_at: created,
                    name: Some(key.name),
                    description: None,
                    expiry_date: key.expires_at.map(to_millis),
                    actor: self.actor,
                    secret: random_hex(32),
                });
                id.to_string()
            })
            .collect())
    }
}

/// A balena error with a JSON-string body (pinejs's form).
fn text_error(status: StatusCode, message: &str) -> Response {
    json(status, &message)
}

/// A refusal injected by a fault rule.
pub(crate) fn fault_response(status: StatusCode, message: &str) -> Response {
    text_error(status, message)
}

fn unauthorized() -> Response {
    empty(StatusCode::UNAUTHORIZED)
}

/// The OData envelope, `{"d": [...]}`.
fn rows(d: Vec<Value>) -> Response {
    json(StatusCode::OK, &json!({ "d": d }))
}

fn deferred(id: i64) -> Value {
    json!({ "__id": id })
}

async fn handle(
    State(balena): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw_path = uri.path().strip_prefix(MOUNT).unwrap_or(uri.path());
    let shown = uri
        .path_and_query()
        .map(|pq| {
            pq.as_str()
                .strip_prefix(MOUNT)
                .unwrap_or(pq.as_str())
                .to_string()
        })
        .unwrap_or_default();
    let malformed = || {
        text_error(
            StatusCode::BAD_REQUEST,
            &format!("Malformed url: '{shown}'"),
        )
    };
    let Some(path) = percent_decode(raw_path) else {
        return malformed();
    };
    let pairs = query_pairs(uri.query());
    let mut balena = lock(&balena);
    let caller = match balena.authenticate(&headers) {
        Some(caller) => caller,
        None => return unauthorized(),
    };
    let outcome = match (path.as_str(), &method) {
        ("/actor/v1/whoami", &Method::GET) => Ok(balena.whoami(&caller)),
        ("/api-key/user/full", &Method::POST) => Ok(balena.create(&caller, &body)),
        ("/v7/api_key", &Method::GET) => balena.list(&caller, &pairs),
        ("/v7/api_key/$count", &Method::GET) => balena.count(&caller, &pairs),
        ("/v7/application", &Method::GET) => balena.applications(&caller, None, &pairs),
        (p, m) => match resource_key(p) {
            Some(("api_key", key)) => match (key_id(key), m) {
                (Some(id), &Method::PATCH) => Ok(balena.update(&caller, id, &body)),
                (Some(id), &Method::DELETE) => Ok(balena.revoke(&caller, id)),
                (Some(_), _) => Ok(empty(StatusCode::METHOD_NOT_ALLOWED)),
                (None, _) => Err(String::new()),
            },
            Some(("application", key)) if *m == Method::GET => match key_id(key) {
                Some(id) => balena.applications(&caller, Some(id), &pairs),
                None => Err(String::new()),
            },
            Some(("device", key)) if *m == Method::GET => balena.devices(&caller, key, &pairs),
            _ => Ok(empty(StatusCode::NOT_FOUND)),
        },
    };
    outcome.unwrap_or_else(|_| malformed())
}

/// `/v7/<resource>(<key>)` as (resource, key).
fn resource_key(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v7/")?.strip_suffix(')')?;
    rest.split_once('(')
}

/// A numeric key, `123` or `id=123`.
fn key_id(key: &str) -> Option<i64> {
    key.strip_prefix("id=").unwrap_or(key).parse().ok()
}

/// The OData options of one request, parsed against `fields`.
struct Options {
    filter: Option<odata::Filter>,
    orderby: Vec<(String, bool)>,
    select: Option<Vec<String>>,
    expand: Vec<String>,
    top: Option<usize>,
    skip: usize,
}

fn options(
    pairs: &[(String, String)],
    fields: &[&str],
    navigable: &[&str],
) -> Result<Options, String> {
    let count = |name: &str| -> Result<Option<usize>, String> {
        query_value(pairs, name)
            .map(|v| v.trim().parse::<usize>().map_err(|_| format!("bad {name}")))
            .transpose()
    };
    Ok(Options {
        filter: query_value(pairs, "$filter")
            .map(|f| odata::parse_filter(f, fields))
            .transpose()?,
        orderby: query_value(pairs, "$orderby")
            .map(|o| odata::parse_orderby(o, fields))
            .transpose()?
            .unwrap_or_default(),
        select: query_value(pairs, "$select")
            .map(|s| odata::parse_select(s, fields))
            .transpose()?,
        expand: query_value(pairs, "$expand")
            .map(|e| odata::parse_expand(e, navigable))
            .transpose()?
            .unwrap_or_default(),
        top: count("$top")?,
        skip: count("$skip")?.unwrap_or(0),
    })
}

impl Options {
    /// Filters, sorts and pages `rows`.
    fn apply<R: Row + Clone>(&self, rows: &[R]) -> Vec<R> {
        let mut kept: Vec<R> = rows
            .iter()
            .filter(|r| self.filter.as_ref().is_none_or(|f| f.matches(*r)))
            .cloned()
            .collect();
        odata::sort(&mut kept, &self.orderby);
        kept.into_iter()
            .skip(self.skip)
            .take(self.top.unwrap_or(usize::MAX))
            .collect()
    }

    /// `object` with only the selected fields (all of them without `$select`).
    fn selected(&self, object: Map<String, Value>) -> Value {
        match &self.select {
            None => Value::Object(object),
            Some(fields) => Value::Object(
                object
                    .into_iter()
                    .filter(|(name, _)| fields.contains(name))
                    .collect(),
            ),
        }
    }
}

impl Balena {
    fn authenticate(&self, headers: &HeaderMap) -> Option<Caller> {
        let token = bearer(headers)?;
        if token.split('.').count() == 3 {
            let user = self.sessions.iter().find(|(t, _)| t == token)?.1;
            let actor = self.users.iter().find(|u| u.id == user)?.actor;
            return Some(Caller {
                actor,
                role: Role::User,
                session: true,
            });
        }
        let key = self.keys.iter().find(|k| k.secret == token && k.live())?;
        let role = if self.user_of(key.actor).is_some() {
            Role::User
        } else if self.applications.iter().any(|a| a.actor == key.actor) {
            Role::Fleet
        } else if self.devices.iter().any(|d| d.actor == key.actor) {
            Role::Device
        } else {
            return None;
        };
        Some(Caller {
            actor: key.actor,
            role,
            session: false,
        })
    }

    fn user_of(&self, actor: i64) -> Option<&User> {
        self.users.iter().find(|u| u.actor == actor)
    }

    /// The applications the caller may read: a user's own, or a device's fleet. A
    /// provisioning key reads none, not even its own fleet: openBalena (v49) answers its
    /// look-up 200 with no rows.
    fn visible_applications(&self, caller: &Caller) -> Vec<Application> {
        let readable = |a: &Application| match caller.role {
            Role::User => self.user_of(caller.actor).is_some_and(|u| u.id == a.owner),
            Role::Device => self
                .devices
                .iter()
                .any(|d| d.actor == caller.actor && d.application == a.id),
            Role::Fleet => false,
        };
        self.applications
            .iter()
            .filter(|a| readable(a))
            .cloned()
            .collect()
    }

    /// The devices the caller may read: those of a user's fleets, or a device itself
    /// (`None` for a provisioning key: 401).
    fn visible_devices(&self, caller: &Caller) -> Option<Vec<Device>> {
        if caller.role == Role::Fleet {
            return None;
        }
        let fleets: Vec<i64> = self
            .visible_applications(caller)
            .iter()
            .map(|a| a.id)
            .collect();
        let readable = |d: &Device| match caller.role {
            Role::User => fleets.contains(&d.application),
            _ => d.actor == caller.actor,
        };
        Some(
            self.devices
                .iter()
                .filter(|d| readable(d))
                .cloned()
                .collect(),
        )
    }

    /// The keys the caller may read. openBalena gives users (sessions and named keys)
    /// `api_key` read with `is_of__actor eq @__ACTOR_ID`, their own keys only, and device
    /// and provisioning keys no `api_key` read at all (`None`: 401).
    fn visible_keys(&self, caller: &Caller) -> Option<Vec<Key>> {
        (caller.role == Role::User).then(|| {
            self.keys
                .iter()
                .filter(|k| k.actor == caller.actor)
                .cloned()
                .collect()
        })
    }

    fn whoami(&self, caller: &Caller) -> Response {
        let me = if let Some(user) = self.user_of(caller.actor) {
            json!({
                "id": caller.actor,
                "actorType": "user",
                "actorTypeId": user.id,
                "username": user.username,
                "email": user.email,
            })
        } else if let Some(app) = self.applications.iter().find(|a| a.actor == caller.actor) {
            json!({
                "id": caller.actor,
                "actorType": "application",
                "actorTypeId": app.id,
                "slug": app.slug,
            })
        } else if let Some(device) = self.devices.iter().find(|d| d.actor == caller.actor) {
            json!({
                "id": caller.actor,
                "actorType": "device",
                "actorTypeId": device.id,
                "uuid": device.uuid,
            })
        } else {
            return text_error(
                StatusCode::UNAUTHORIZED,
                "Request API Key or Token has no associated actor",
            );
        };
        json(StatusCode::OK, &me)
    }

    /// `POST /api-key/user/full`: a session only; the secret as a JSON string.
    fn create(&mut self, caller: &Caller, body: &[u8]) -> Response {
        if !caller.session || self.user_of(caller.actor).is_none() {
            return unauthorized();
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return empty(StatusCode::BAD_REQUEST);
        };
        let name = match body.get("name") {
            Some(Value::String(name)) if !name.is_empty() => name.clone(),
            _ => return empty(StatusCode::BAD_REQUEST),
        };
        let description = match body.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => return empty(StatusCode::BAD_REQUEST),
        };
        let expiry_date = match body.get("expiryDate") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => match parse_date(text) {
                Some(at) => Some(at),
                None => {
                    return text_error(
                        StatusCode::BAD_REQUEST,
                        "Key expiry date should be a valid date",
                    );
                }
            },
            Some(_) => return empty(StatusCode::BAD_REQUEST),
        };
        if name.chars().count() > 50 {
            return text_error(StatusCode::BAD_REQUEST, NAME_TOO_LONG);
        }
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 150)
        {
            return text_error(StatusCode::BAD_REQUEST, DESCRIPTION_TOO_LONG);
        }
        let secret = random_hex(32);
        let id = self.next_id;
        self.next_id += 1;
        let created = now();
        self.keys.push(Key {
            id,
            created_at: created,
            modified_at: created,
            name: Some(name),
            description,
            expiry_date,
            actor: caller.actor,
            secret: secret.clone(),
        });
        json(StatusCode::OK, &secret)
    }

    fn key_json(key: &Key, options: &Options) -> Value {
        let actor = if options.expand.iter().any(|e| e == "is_of__actor") {
            json!([{ "id": key.actor }])
        } else {
            deferred(key.actor)
        };
        let mut object = Map::new();
        object.insert("id".into(), key.id.into());
        object.insert("created_at".into(), date(&key.created_at).into());
        object.insert("modified_at".into(), date(&key.modified_at).into());
        object.insert("name".into(), key.name.clone().into());
        object.insert("description".into(), key.description.clone().into());
        object.insert(
            "expiry_date".into(),
            key.expiry_date.as_ref().map(date).into(),
        );
        object.insert("is_of__actor".into(), actor);
        object.insert("key".into(), key.secret.clone().into());
        options.selected(object)
    }

    fn list(&self, caller: &Caller, pairs: &[(String, String)]) -> Result<Response, String> {
        let options = options(pairs, KEY_FIELDS, &["is_of__actor"])?;
        let Some(visible) = self.visible_keys(caller) else {
            return Ok(unauthorized());
        };
        let keys = options.apply(&visible);
        Ok(rows(
            keys.iter().map(|k| Balena::key_json(k, &options)).collect(),
        ))
    }

    /// `$count` ignores `$orderby`, `$top` and `$skip`, as the server's SQL translation does.
    fn count(&self, caller: &Caller, pairs: &[(String, String)]) -> Result<Response, String> {
        let filter = query_value(pairs, "$filter")
            .map(|f| odata::parse_filter(f, KEY_FIELDS))
            .transpose()?;
        let Some(visible) = self.visible_keys(caller) else {
            return Ok(unauthorized());
        };
        let n = visible
            .iter()
            .filter(|k| filter.as_ref().is_none_or(|f| f.matches(*k)))
            .count();
        Ok(json(StatusCode::OK, &json!({ "d": n })))
    }

    /// PATCH `/v7/api_key(<id>)`: a session only; a key the caller cannot see
    /// is left alone, and the answer is 200 either way.
    fn update(&mut self, caller: &Caller, id: i64, body: &[u8]) -> Response {
        if !caller.session {
            return unauthorized();
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return text_error(StatusCode::BAD_REQUEST, "Malformed JSON body");
        };
        let Ok(changes) = Changes::read(&body) else {
            return text_error(
                StatusCode::BAD_REQUEST,
                "Invalid value for an api key field",
            );
        };
        if changes.is_empty() {
            return text_error(StatusCode::BAD_REQUEST, "No fields to update");
        }
        if changes
            .name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 50)
        {
            return text_error(StatusCode::BAD_REQUEST, NAME_TOO_LONG);
        }
        if changes
            .description
            .as_ref()
            .and_then(Option::as_ref)
            .is_some_and(|d| d.chars().count() > 150)
        {
            return text_error(StatusCode::BAD_REQUEST, DESCRIPTION_TOO_LONG);
        }
        let visible = self
            .visible_keys(caller)
            .is_some_and(|keys| keys.iter().any(|k| k.id == id));
        if let Some(key) = self.keys.iter_mut().find(|k| k.id == id && visible) {
            if let Some(name) = changes.name {
                key.name = Some(name);
            }
            if let Some(description) = changes.description {
                key.description = description;
            }
            if let Some(expiry) = changes.expiry_date {
                key.expiry_date = expiry;
            }
            key.modified_at = now();
        }
        empty(StatusCode::OK)
    }

    /// DELETE `/v7/api_key(<id>)`: a session only; 200 whether or not the
    /// caller could see the key.
    fn revoke(&mut self, caller: &Caller, id: i64) -> Response {
        if !caller.session {
            return unauthorized();
        }
        if self
            .visible_keys(caller)
            .is_some_and(|keys| keys.iter().any(|k| k.id == id))
        {
            self.keys.retain(|k| k.id != id);
        }
        empty(StatusCode::OK)
    }

    fn applications(
        &self,
        caller: &Caller,
        id: Option<i64>,
        pairs: &[(String, String)],
    ) -> Result<Response, String> {
        let options = options(pairs, APPLICATION_FIELDS, &[])?;
        let visible: Vec<Application> = self
            .visible_applications(caller)
            .into_iter()
            .filter(|a| id.is_none_or(|id| a.id == id))
            .collect();
        let d = options
            .apply(&visible)
            .iter()
            .map(|a| {
                let mut object = Map::new();
                object.insert("id".into(), a.id.into());
                object.insert("app_name".into(), a.app_name.clone().into());
                object.insert("slug".into(), a.slug.clone().into());
                object.insert("uuid".into(), a.uuid.clone().into());
                object.insert("actor".into(), deferred(a.actor));
                options.selected(object)
            })
            .collect();
        Ok(rows(d))
    }

    /// `/v7/device(<id>)`, `/v7/device(id=<id>)` or `/v7/device(uuid='<uuid>')`.
    fn devices(
        &self,
        caller: &Caller,
        key: &str,
        pairs: &[(String, String)],
    ) -> Result<Response, String> {
        let options = options(pairs, DEVICE_FIELDS, &[])?;
        let matches: Box<dyn Fn(&Device) -> bool> = if let Some(id) = key_id(key) {
            Box::new(move |d| d.id == id)
        } else if let Some(uuid) = key
            .strip_prefix("uuid='")
            .and_then(|rest| rest.strip_suffix('\''))
        {
            let uuid = uuid.replace("''", "'");
            Box::new(move |d| d.uuid == uuid)
        } else {
            return Err(format!("unknown device key `{key}`"));
        };
        let Some(readable) = self.visible_devices(caller) else {
            return Ok(unauthorized());
        };
        let visible: Vec<Device> = readable.into_iter().filter(|d| matches(d)).collect();
        let d = options
            .apply(&visible)
            .iter()
            .map(|device| {
                let mut object = Map::new();
                object.insert("id".into(), device.id.into());
                object.insert("uuid".into(), device.uuid.clone().into());
                object.insert("device_name".into(), device.device_name.clone().into());
                object.insert("actor".into(), deferred(device.actor));
                options.selected(object)
            })
            .collect();
        Ok(rows(d))
    }
}

/// The fields of a PATCH body: each absent (`None`), `null` (`Some(None)`) or a value.
#[derive(Default)]
struct Changes {
    name: Option<String>,
    description: Option<Option<String>>,
    expiry_date: Option<Option<DateTime<Utc>>>,
}

impl Changes {
    /// The writable fields of `body`; a field of another name, or of the wrong type, is an
    /// error, so that a client's misspelt field is not taken for "nothing to change".
    fn read(body: &Map<String, Value>) -> Result<Changes, String> {
        let mut changes = Changes::default();
        for (field, value) in body {
            match (field.as_str(), value) {
                ("name", Value::String(name)) => changes.name = Some(name.clone()),
                ("description", Value::Null) => changes.description = Some(None),
                ("description", Value::String(text)) => {
                    changes.description = Some(Some(text.clone()));
                }
                ("expiry_date", Value::Null) => changes.expiry_date = Some(None),
                ("expiry_date", Value::String(text)) => {
                    let at = parse_date(text).ok_or_else(|| format!("bad date `{text}`"))?;
                    changes.expiry_date = Some(Some(at));
                }
                _ => return Err(format!("`{field}` cannot be set to {value}")),
            }
        }
        Ok(changes)
    }

    fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.expiry_date.is_none()
    }
}

/// A date as JavaScript's `Date` reads the SDKs' strings: RFC 3339, or a bare date.
fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

/// balena: the user behind the session token, and a fleet and a device that user owns.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BalenaScope {
    /// The user's id (whoami's `actorTypeId`).
    pub user_id: i64,
    /// The user's actor id (whoami's `id`, the keys' `is_of__actor`).
    pub actor_id: i64,
    /// The user's name.
    pub username: String,
    /// A fleet of the user's, with one provisioning key.
    pub application_id: i64,
    /// The fleet's slug.
    pub application_slug: String,
    /// A device of the fleet, with one device key.
    pub device_id: i64,
    /// The device's uuid (32 hexadecimal digits).
    pub device_uuid: String,
    /// A named API key of the user: it may list keys, but not create, update or revoke
    /// them (401), as on openBalena.
    pub api_key: Secret,
    /// The fleet's provisioning key: as on openBalena it may create devices, but read
    /// neither its fleet nor any key (401).
    pub provisioning_key: Secret,
    /// The device's key: it reads its device and fleet, but no key (401).
    pub device_key: Secret,
}

impl BalenaScope {
    /// The keys besides the credential, for [`Sandbox::other_credentials`](crate::Sandbox::other_credentials).
    pub(crate) fn other_credentials(&self) -> Vec<(&'static str, Secret)> {
        vec![
            ("read-only API key", self.api_key.clone()),
            ("provisioning key", self.provisioning_key.clone()),
            ("device key", self.device_key.clone()),
        ]
    }
}

impl std::fmt::Display for BalenaScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "user {} `{}` (actor {}), fleet {} `{}`, device {} `{}`",
            self.user_id,
            self.username,
            self.actor_id,
            self.application_id,
            self.application_slug,
            self.device_id,
            self.device_uuid
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The user and their named keys are the examples': a field the fragment writes and this
    /// module does not (or the reverse) fails the read.
    #[tokio::test]
    async fn the_seeded_user_and_keys_are_the_fragments_examples() {
        let rows = example::<ExampleCollection>(examples::API_KEY_COLLECTION)
            .unwrap()
            .d;
        assert!(rows.len() >= 2, "the example must list two named keys");
        let collection: Value = serde_json::from_str(examples::API_KEY_COLLECTION).unwrap();
        for row in collection["d"].as_array().unwrap() {
            for field in row.as_object().unwrap().keys() {
                assert!(KEY_FIELDS.contains(&field.as_str()), "{field}");
            }
        }
        let me = example::<ExampleWhoami>(examples::ACTOR_WHOAMI).unwrap();

        let (_, _, scope, seeder) = build();
        // The lock is let go before the body is read.
        let response = {
            let balena = lock(&seeder.balena);
            let named: Vec<_> = balena
                .keys
                .iter()
                .filter(|k| k.actor == scope.actor_id && k.name.is_some())
                .map(|k| (&k.name, &k.description, k.created_at, k.expiry_date))
                .collect();
            let last = rows.len() - 1;
            let expected: Vec<_> = rows
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    // The last is `scope.api_key`, a working credential: it never expires.
                    let expiry = if i == last { None } else { row.expiry_date };
                    (&row.name, &row.description, row.created_at, expiry)
                })
                .collect();
            assert_eq!(named, expected);
            let api_key = balena.keys.iter().find(|k| k.id == 4_870_231 + last as i64);
            assert_eq!(api_key.unwrap().secret, scope.api_key.expose_secret());
            assert_eq!(scope.username, me.username);

            // `whoami` writes the example's fields for the user.
            let caller = Caller {
                actor: scope.actor_id,
                role: Role::User,
                session: true,
            };
            balena.whoami(&caller)
        };
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let written: Value = serde_json::from_slice(&body).unwrap();
        let example: Value = serde_json::from_str(examples::ACTOR_WHOAMI).unwrap();
        let names = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&written), names(&example));
        assert_eq!(written["email"], example["email"]);
    }
}
