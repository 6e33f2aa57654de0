//! The Nuki Web API (openapi/nuki.yaml): API keys, their advanced API keys and their
//! tokens; all 13 operations. Lists are plain arrays, unpaged.
//!
//! Authentication is `Authorization: Bearer <token>`: any token of any key of the account
//! that has the `account` scope (the credential is one). Errors are Restlet status objects.
//!
//! The wire is written with this module's own types, after Nuki's Swagger document (served
//! at `https://api.nuki.io/static/swagger/swagger.json`), never with the client's generated
//! types: a field the client's fragment names wrong then fails the end-to-end tests.

use std::sync::{Arc, Mutex};

use apikeys_common::Secret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::Vendor;
use crate::common::{Reply, bearer, empty, example, json, lock, now, random_hex, to_millis};
use crate::examples::nuki as examples;
use crate::seed::{SeedError, SeedKey, take_ids};

const ACCOUNT_ID: i32 = 987_654_321;

/// The OAuth2 scopes of the Swagger document's `securityDefinitions`.
const SCOPES: [&str; 10] = [
    "account",
    "notification",
    "smartlock",
    "smartlock.readOnly",
    "smartlock.action",
    "smartlock.auth",
    "smartlock.config",
    "smartlock.log",
    "smartlock.create",
    "webhook.decentral",
];

/// What an advanced API key is applied for (`AdvancedApiKey.type`).
const TYPES: [&str; 5] = [
    "ONLY_SECRET",
    "SHORT_RENTAL",
    "HEALTHCARE",
    "SMART_HOME",
    "OTHER",
];

/// The events an advanced API key's webhook may carry (`webhookFeatures`).
const FEATURES: [&str; 6] = [
    "DEVICE_STATUS",
    "DEVICE_MASTERDATA",
    "DEVICE_CONFIG",
    "DEVICE_LOGS",
    "DEVICE_AUTHS",
    "ACCOUNT_USER",
];

/// A time as Nuki writes it: UTC, to the millisecond, with `Z`.
fn millis<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// `ApiKey`: a key as listed and created; `apiKey` only in creation's answer.
#[derive(Serialize)]
struct ApiKeyOut<'a> {
    #[serde(rename = "apiKeyId")]
    api_key_id: i32,
    #[serde(rename = "accountId")]
    account_id: i32,
    #[serde(rename = "description", skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "redirectUris", skip_serializing_if = "<[_]>::is_empty")]
    redirect_uris: &'a [String],
    #[serde(rename = "creationDate", serialize_with = "millis")]
    creation_date: DateTime<Utc>,
    #[serde(rename = "apiKey", skip_serializing_if = "Option::is_none")]
    api_key: Option<&'a str>,
}

/// `ApiKeyToken`: a token as listed and created; `accessToken` only in creation's answer.
#[derive(Serialize)]
struct TokenOut<'a> {
    #[serde(rename = "id")]
    id: &'a str,
    #[serde(rename = "accountId")]
    account_id: i32,
    #[serde(rename = "description", skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "accessToken", skip_serializing_if = "Option::is_none")]
    access_token: Option<&'a str>,
    #[serde(rename = "scopes")]
    scopes: &'a [String],
    #[serde(rename = "creationDate", serialize_with = "millis")]
    creation_date: DateTime<Utc>,
}

/// `AdvancedApiKeyCreate`: an application for an advanced API key. A `webhookStatus` in it
/// is read-only and ignored, like any other field the server does not know.
#[derive(Deserialize)]
struct Application {
    #[serde(rename = "name")]
    name: String,
    #[serde(rename = "country")]
    country: String,
    #[serde(rename = "description")]
    description: String,
    #[serde(rename = "type")]
    type_: String,
    #[serde(rename = "url")]
    url: String,
    #[serde(rename = "email")]
    email: String,
    #[serde(rename = "webhookUrl")]
    webhook_url: String,
    #[serde(rename = "webhookFeatures")]
    webhook_features: Vec<String>,
    #[serde(rename = "restricted")]
    restricted: bool,
}

/// `AdvancedApiKeyUpdate`: only the webhook's settings change.
#[derive(Deserialize)]
struct AdvancedUpdate {
    #[serde(rename = "webhookUrl")]
    webhook_url: String,
    #[serde(rename = "webhookFeatures")]
    webhook_features: Vec<String>,
}

/// `AdvancedApiKey`: the application with its review status; `secret` only once Nuki has
/// approved it.
#[derive(Serialize)]
struct AdvancedOut<'a> {
    #[serde(rename = "name")]
    name: &'a str,
    #[serde(rename = "country")]
    country: &'a str,
    #[serde(rename = "description")]
    description: &'a str,
    #[serde(rename = "type")]
    type_: &'a str,
    #[serde(rename = "webhookStatus")]
    webhook_status: &'static str,
    #[serde(rename = "url")]
    url: &'a str,
    #[serde(rename = "email")]
    email: &'a str,
    #[serde(rename = "webhookUrl")]
    webhook_url: &'a str,
    #[serde(rename = "webhookFeatures")]
    webhook_features: &'a [String],
    #[serde(rename = "restricted")]
    restricted: bool,
    #[serde(rename = "secret", skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
    #[serde(rename = "status")]
    status: &'static str,
    #[serde(rename = "creationDate", serialize_with = "millis")]
    creation_date: DateTime<Utc>,
    #[serde(rename = "updateDate", serialize_with = "millis")]
    update_date: DateTime<Utc>,
}

/// `ApiKeyTokenCreate`: both fields optional.
#[derive(Deserialize)]
struct TokenCreate {
    #[serde(rename = "description")]
    description: Option<String>,
    #[serde(rename = "scopes", default)]
    scopes: Vec<String>,
}

/// A Restlet status object, the shape of the errors observed from api.nuki.io.
#[derive(Serialize)]
struct NukiError {
    #[serde(rename = "code")]
    code: u16,
    #[serde(rename = "description")]
    description: String,
    #[serde(rename = "detailMessage", skip_serializing_if = "Option::is_none")]
    detail_message: Option<String>,
    #[serde(rename = "homeRef")]
    home_ref: &'static str,
    #[serde(rename = "reasonPhrase")]
    reason_phrase: &'static str,
    #[serde(rename = "uri")]
    uri: String,
}

struct Token {
    id: String,
    description: Option<String>,
    scopes: Vec<String>,
    creation_date: DateTime<Utc>,
    access_token: String,
}

struct Advanced {
    application: Application,
    /// `INACTIVE`, `APPLIED`, `TESTING` or `ACTIVE`, in that order.
    status: &'static str,
    /// `ACTIVE` or `DEACTIVATED` (after failed deliveries).
    webhook_status: &'static str,
    secret: String,
    creation_date: DateTime<Utc>,
    update_date: DateTime<Utc>,
}

struct Key {
    id: i32,
    description: Option<String>,
    redirect_uris: Vec<String>,
    creation_date: DateTime<Utc>,
    value: String,
    advanced: Option<Advanced>,
    tokens: Vec<Token>,
}

struct Nuki {
    keys: Vec<Key>,
    next_id: i32,
}

type Shared = Arc<Mutex<Nuki>>;

/// The fragment's `ApiKey` example (as creation answers it, with `apiKey`), which the
/// seeded key is read from: the fields `ApiKeyOut` writes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleKey {
    #[serde(rename = "apiKeyId")]
    _api_key_id: i32,
    #[serde(rename = "accountId")]
    _account_id: i32,
    #[serde(rename = "description")]
    description: Option<String>,
    #[serde(rename = "redirectUris", default)]
    redirect_uris: Vec<String>,
    #[serde(rename = "creationDate")]
    creation_date: DateTime<Utc>,
    #[serde(rename = "apiKey")]
    _api_key: Option<String>,
}

/// The fragment's `AdvancedApiKey` example, which the seeded advanced key is read from: the
/// fields `AdvancedOut` writes, with the values this module knows.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleAdvanced {
    #[serde(rename = "name")]
    name: String,
    #[serde(rename = "country")]
    country: String,
    #[serde(rename = "description")]
    description: String,
    #[serde(rename = "type", deserialize_with = "advanced_type")]
    type_: String,
    #[serde(rename = "url")]
    url: String,
    #[serde(rename = "email")]
    email: String,
    #[serde(rename = "webhookUrl")]
    webhook_url: String,
    #[serde(rename = "webhookFeatures", deserialize_with = "features")]
    webhook_features: Vec<String>,
    #[serde(rename = "restricted")]
    restricted: bool,
    #[serde(rename = "status", deserialize_with = "status")]
    status: &'static str,
    #[serde(rename = "webhookStatus", deserialize_with = "webhook_status")]
    _webhook_status: &'static str,
    #[serde(rename = "secret")]
    _secret: Option<String>,
    #[serde(rename = "creationDate")]
    creation_date: DateTime<Utc>,
    #[serde(rename = "updateDate")]
    update_date: DateTime<Utc>,
}

/// The fragment's `ApiKeyToken` example (as creation answers it, with `accessToken`), which
/// the seeded key's second token is read from: the fields `TokenOut` writes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleToken {
    #[serde(rename = "id")]
    _id: String,
    #[serde(rename = "accountId")]
    _account_id: i32,
    #[serde(rename = "description")]
    description: Option<String>,
    #[serde(rename = "accessToken")]
    _access_token: Option<String>,
    #[serde(rename = "scopes", deserialize_with = "scopes")]
    scopes: Vec<String>,
    #[serde(rename = "creationDate")]
    creation_date: DateTime<Utc>,
}

/// One of `values`, as the `&'static str` this module keeps.
fn one_of<'de, D: serde::Deserializer<'de>>(
    d: D,
    values: &[&'static str],
) -> Result<&'static str, D::Error> {
    let text = String::deserialize(d)?;
    values
        .iter()
        .copied()
        .find(|known| *known == text)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown value `{text}`")))
}

/// Each of a list one of `values`.
fn all_of<'de, D: serde::Deserializer<'de>>(
    d: D,
    values: &[&str],
) -> Result<Vec<String>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    match list.iter().find(|v| !values.contains(&v.as_str())) {
        Some(unknown) => Err(serde::de::Error::custom(format!(
            "unknown value `{unknown}`"
        ))),
        None => Ok(list),
    }
}

fn advanced_type<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    one_of(d, &TYPES).map(String::from)
}

fn features<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    all_of(d, &FEATURES)
}

fn scopes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    all_of(d, &SCOPES)
}

fn status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    one_of(d, &["INACTIVE", "APPLIED", "TESTING", "ACTIVE"])
}

fn webhook_status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    one_of(d, &["ACTIVE", "DEACTIVATED"])
}

/// The router, mounted at `/nuki`, with the credential and scope it was seeded with and
/// its seeder.
pub(crate) fn build() -> (Router, Secret, NukiScope, Seeder) {
    let created = now();
    let credential = random_hex(80);
    let token_id = random_hex(24);
    // The key the credential's token belongs to is the fragment's `ApiKey` example, with its
    // advanced key the `AdvancedApiKey` example and a second token the `ApiKeyToken`
    // example, all with fresh ids and secrets. The credential's own token is not the
    // example's, which lacks the `account` scope every call needs.
    let mut first = match example::<ExampleKey>(examples::API_KEY) {
        Ok(key) => Key {
            id: 1_010_101_010,
            description: key.description,
            redirect_uris: key.redirect_uris,
            creation_date: to_millis(key.creation_date),
            value: random_hex(32),
            advanced: None,
            tokens: Vec::new(),
        },
        Err(_) => Key {
            id: 1_010_101_010,
            description: Some("Sandbox key".into()),
            redirect_uris: Vec::new(),
            creation_date: created,
            value: random_hex(32),
            advanced: None,
            tokens: Vec::new(),
        },
    };
    first.advanced = example::<ExampleAdvanced>(examples::ADVANCED_API_KEY)
        .ok()
        .map(|advanced| Advanced {
            application: Application {
                name: advanced.name,
                country: advanced.country,
                description: advanced.description,
                type_: advanced.type_,
                url: advanced.url,
                email: advanced.email,
                webhook_url: advanced.webhook_url,
                webhook_features: advanced.webhook_features,
                restricted: advanced.restricted,
            },
            status: advanced.status,
            // Deliveries failed: `reactivate_advanced_api_key` turns them back on.
            webhook_status: "DEACTIVATED",
            secret: random_hex(32),
            creation_date: to_millis(advanced.creation_date),
            update_date: to_millis(advanced.update_date),
        });
    first.tokens.push(Token {
        id: token_id.clone(),
        description: Some("Sandbox credential".into()),
        scopes: vec!["account".into(), "smartlock".into()],
        creation_date: created,
        access_token: credential.clone(),
    });
    if let Ok(token) = example::<ExampleToken>(examples::API_KEY_TOKEN) {
        first.tokens.push(Token {
            id: random_hex(24),
            description: token.description,
            scopes: token.scopes,
            creation_date: to_millis(token.creation_date),
            access_token: random_hex(80),
        });
    }
    let second = Key {
        id: 1_010_101_011,
        description: Some("Guest access app".into()),
        redirect_uris: Vec::new(),
        creation_date: created,
        value: random_hex(32),
        advanced: None,
        tokens: Vec::new(),
    };
    let scope = NukiScope {
        account_id: ACCOUNT_ID,
        api_key_id: first.id,
        token_id,
    };
    let nuki = Nuki {
        keys: vec![first, second],
        next_id: 1_010_101_012,
    };
    let router = Router::new()
        .route("/api/key", get(list_keys).put(create_key))
        .route("/api/key/{id}", post(update_key).delete(delete_key))
        .route(
            "/api/key/{id}/advanced",
            get(get_advanced)
                .put(create_advanced)
                .post(update_advanced)
                .delete(delete_advanced),
        )
        .route("/api/key/{id}/advanced/reactivate", post(reactivate))
        .route("/api/key/{id}/token", get(list_tokens).put(create_token))
        .route(
            "/api/key/{id}/token/{token}",
            post(update_token).delete(delete_token),
        );
    let shared: Shared = Arc::new(Mutex::new(nuki));
    let seeder = Seeder(Arc::clone(&shared));
    let router = router.fallback(not_found_route).with_state(shared);
    (router, Secret::from(credential), scope, seeder)
}

/// Adds keys to the account. A Nuki API key has a `creationDate` (milliseconds) and a
/// description, the seed's name; it never expires and cannot be disabled, so an expiry or
/// `enabled: false` is refused.
pub(crate) struct Seeder(Shared);

impl Seeder {
    pub(crate) fn seed(&self, keys: Vec<SeedKey>) -> Result<Vec<String>, SeedError> {
        const VENDOR: Vendor = Vendor::Nuki;
        for key in &keys {
            key.check_times(VENDOR)?;
            if key.expires_at.is_some() {
                return Err(key.unsupported(VENDOR, "expires_at"));
            }
            if !key.enabled {
                return Err(key.unsupported(VENDOR, "enabled"));
            }
        }
        let mut nuki = lock(&self.0);
        let first = take_ids(&mut nuki.next_id, &keys, VENDOR)?;
        nuki.keys.reserve(keys.len());
        Ok((first..)
            .zip(keys)
            .map(|(id, key)| {
                nuki.keys.push(Key {
                    id,
                    description: Some(key.name),
                    redirect_uris: Vec::new(),
                    creation_date: to_millis(key.created_at),
                    value: random_hex(32),
                    advanced: None,
                    tokens: Vec::new(),
                });
                id.to_string()
            })
            .collect())
    }
}

/// A Restlet status object; `uri` points into RFC 2616's status code section.
fn error(status: StatusCode, description: &str, detail: Option<String>) -> Response {
    let section = match status.as_u16() {
        400 => "4.1",
        401 => "4.2",
        403 => "4.4",
        404 => "4.5",
        409 => "4.10",
        _ => "5.1",
    };
    let body = NukiError {
        code: status.as_u16(),
        description: description.into(),
        detail_message: detail,
        home_ref: "/",
        reason_phrase: status.canonical_reason().unwrap_or_default(),
        uri: format!("http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.{section}"),
    };
    json(status, &body)
}

/// A refusal injected by a fault rule.
pub(crate) fn fault_response(status: StatusCode, message: &str) -> Response {
    let description = status.canonical_reason().unwrap_or("Error");
    error(status, description, Some(message.into()))
}

fn bad_request(detail: impl Into<String>) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "The request could not be understood by the server due to malformed syntax",
        Some(detail.into()),
    )
}

fn not_found(detail: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "The server has not found anything matching the request URI",
        Some(detail.into()),
    )
}

async fn not_found_route() -> Response {
    not_found("no such resource")
}

/// A JSON body as the given type, or Nuki's 400.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(bytes).map_err(|e| bad_request(format!("invalid body: {e}")))
}

/// Every value is one of `known`, or Nuki's 400.
fn known(values: &[String], known: &[&str], what: &str) -> Result<(), Response> {
    match values.iter().all(|v| known.contains(&v.as_str())) {
        true => Ok(()),
        false => Err(bad_request(format!("unknown {what}"))),
    }
}

fn known_scopes(scopes: &[String]) -> Result<(), Response> {
    known(scopes, &SCOPES, "scope")
}

fn known_features(features: &[String]) -> Result<(), Response> {
    known(features, &FEATURES, "webhook feature")
}

fn parse_id(text: &str) -> Result<i32, Response> {
    text.parse()
        .map_err(|_| bad_request(format!("apiKeyId `{text}` is not an integer")))
}

impl Nuki {
    fn authenticate(&self, headers: &HeaderMap) -> Result<(), Response> {
        let unauthorized = || {
            error(
                StatusCode::UNAUTHORIZED,
                "The request requires user authentication",
                None,
            )
        };
        let presented = bearer(headers).ok_or_else(unauthorized)?;
        let token = self
            .keys
            .iter()
            .flat_map(|k| &k.tokens)
            .find(|t| t.access_token == presented)
            .ok_or_else(unauthorized)?;
        if token.scopes.iter().any(|s| s == "account") {
            Ok(())
        } else {
            Err(error(
                StatusCode::FORBIDDEN,
                "The server understood the request, but is refusing to fulfill it",
                Some("the token lacks the `account` scope".into()),
            ))
        }
    }

    fn key_mut(&mut self, id: &str) -> Result<&mut Key, Response> {
        let id = parse_id(id)?;
        self.keys
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or_else(|| not_found("no such API key"))
    }
}

/// The key as listed: never its `apiKey` value, which only creation returns.
fn key_out<'a>(key: &'a Key, value: Option<&'a str>) -> ApiKeyOut<'a> {
    ApiKeyOut {
        api_key_id: key.id,
        account_id: ACCOUNT_ID,
        description: key.description.as_deref(),
        redirect_uris: &key.redirect_uris,
        creation_date: key.creation_date,
        api_key: value,
    }
}

/// The token as listed: never its `accessToken`, which only creation returns.
fn token_out<'a>(token: &'a Token, access_token: Option<&'a str>) -> TokenOut<'a> {
    TokenOut {
        id: &token.id,
        account_id: ACCOUNT_ID,
        description: token.description.as_deref(),
        access_token,
        scopes: &token.scopes,
        creation_date: token.creation_date,
    }
}

async fn list_keys(State(nuki): State<Shared>, headers: HeaderMap) -> Reply {
    let nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let keys: Vec<ApiKeyOut> = nuki.keys.iter().map(|k| key_out(k, None)).collect();
    Ok(json(StatusCode::OK, &keys))
}

/// Reads the `description` and `redirectUris` of a create or update body; for an update,
/// an absent field is left as it is.
fn key_fields(bytes: &[u8]) -> Result<(Option<String>, Option<Vec<String>>), Response> {
    let value: Value = body(bytes)?;
    let object = value
        .as_object()
        .ok_or_else(|| bad_request("the body must be an object"))?;
    let description = match object.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err(bad_request("description must be a string")),
    };
    let uris = match object.get("redirectUris") {
        None | Some(Value::Null) => None,
        Some(list) => Some(
            serde_json::from_value::<Vec<String>>(list.clone())
                .map_err(|_| bad_request("redirectUris must be an array of strings"))?,
        ),
    };
    Ok((description, uris))
}

async fn create_key(State(nuki): State<Shared>, headers: HeaderMap, bytes: Bytes) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let (description, uris) = key_fields(&bytes)?;
    let id = nuki.next_id;
    nuki.next_id = nuki.next_id.saturating_add(1);
    let key = Key {
        id,
        description,
        redirect_uris: uris.unwrap_or_default(),
        creation_date: now(),
        value: random_hex(32),
        advanced: None,
        tokens: Vec::new(),
    };
    let out = json(StatusCode::OK, &key_out(&key, Some(&key.value)));
    nuki.keys.push(key);
    Ok(out)
}

async fn update_key(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let key = nuki.key_mut(&id)?;
    let (description, uris) = key_fields(&bytes)?;
    if description.is_some() {
        key.description = description;
    }
    if let Some(uris) = uris {
        key.redirect_uris = uris;
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn delete_key(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let id = nuki.key_mut(&id)?.id;
    nuki.keys.retain(|k| k.id != id);
    Ok(empty(StatusCode::NO_CONTENT))
}

fn advanced_mut(key: &mut Key) -> Result<&mut Advanced, Response> {
    key.advanced
        .as_mut()
        .ok_or_else(|| not_found("the API key has no advanced API key"))
}

async fn get_advanced(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let advanced = advanced_mut(nuki.key_mut(&id)?)?;
    let a = &advanced.application;
    // The client secret is visible once Nuki has approved the application (TESTING on).
    let approved = matches!(advanced.status, "TESTING" | "ACTIVE");
    let body = AdvancedOut {
        name: &a.name,
        country: &a.country,
        description: &a.description,
        type_: &a.type_,
        webhook_status: advanced.webhook_status,
        url: &a.url,
        email: &a.email,
        webhook_url: &a.webhook_url,
        webhook_features: &a.webhook_features,
        restricted: a.restricted,
        secret: approved.then_some(advanced.secret.as_str()),
        status: advanced.status,
        creation_date: advanced.creation_date,
        update_date: advanced.update_date,
    };
    Ok(json(StatusCode::OK, &body))
}

async fn create_advanced(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let key = nuki.key_mut(&id)?;
    let application: Application = body(&bytes)?;
    known_features(&application.webhook_features)?;
    if !TYPES.contains(&application.type_.as_str()) {
        return Err(bad_request("unknown type"));
    }
    if key.advanced.is_some() {
        return Err(error(
            StatusCode::CONFLICT,
            "The request could not be completed due to a conflict with the current state of the resource",
            Some("the API key already has an advanced API key".into()),
        ));
    }
    let created = now();
    // A new application waits for Nuki's review: no secret is visible yet.
    key.advanced = Some(Advanced {
        application,
        status: "APPLIED",
        webhook_status: "ACTIVE",
        secret: random_hex(32),
        creation_date: created,
        update_date: created,
    });
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn update_advanced(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let advanced = advanced_mut(nuki.key_mut(&id)?)?;
    let update: AdvancedUpdate = body(&bytes)?;
    known_features(&update.webhook_features)?;
    advanced.application.webhook_url = update.webhook_url;
    advanced.application.webhook_features = update.webhook_features;
    advanced.update_date = now();
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn delete_advanced(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let key = nuki.key_mut(&id)?;
    advanced_mut(key)?;
    key.advanced = None;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn reactivate(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let advanced = advanced_mut(nuki.key_mut(&id)?)?;
    advanced.webhook_status = "ACTIVE";
    advanced.update_date = now();
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn list_tokens(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let key = nuki.key_mut(&id)?;
    let tokens: Vec<TokenOut> = key.tokens.iter().map(|t| token_out(t, None)).collect();
    Ok(json(StatusCode::OK, &tokens))
}

async fn create_token(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let key = nuki.key_mut(&id)?;
    let create: TokenCreate = body(&bytes)?;
    known_scopes(&create.scopes)?;
    let token = Token {
        id: random_hex(24),
        description: create.description,
        scopes: create.scopes,
        creation_date: now(),
        access_token: random_hex(80),
    };
    let out = json(
        StatusCode::OK,
        &token_out(&token, Some(&token.access_token)),
    );
    key.tokens.push(token);
    Ok(out)
}

async fn update_token(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path((id, token_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let key = nuki.key_mut(&id)?;
    let token = key
        .tokens
        .iter_mut()
        .find(|t| t.id == token_id)
        .ok_or_else(|| not_found("no such token"))?;
    let value: Value = body(&bytes)?;
    let object = value
        .as_object()
        .ok_or_else(|| bad_request("the body must be an object"))?;
    if let Some(description) = object.get("description") {
        token.description = match description {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            _ => return Err(bad_request("description must be a string")),
        };
    }
    if let Some(scopes) = object.get("scopes").filter(|s| !s.is_null()) {
        let scopes: Vec<String> = serde_json::from_value(scopes.clone())
            .map_err(|_| bad_request("scopes must be an array of strings"))?;
        known_scopes(&scopes)?;
        token.scopes = scopes;
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn delete_token(
    State(nuki): State<Shared>,
    headers: HeaderMap,
    Path((id, token_id)): Path<(String, String)>,
) -> Reply {
    let mut nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let key = nuki.key_mut(&id)?;
    if !key.tokens.iter().any(|t| t.id == token_id) {
        return Err(not_found("no such token"));
    }
    key.tokens.retain(|t| t.id != token_id);
    Ok(empty(StatusCode::NO_CONTENT))
}

/// Nuki: the account and the API key whose token is the credential.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NukiScope {
    /// The account's id (every key's and token's `accountId`).
    pub account_id: i32,
    /// The seeded API key that holds the credential's token and an advanced API key.
    pub api_key_id: i32,
    /// The id of the credential's token (revoking it locks the credential out).
    pub token_id: String,
}

impl std::fmt::Display for NukiScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "account {}, API key {} (token {})",
            self.account_id, self.api_key_id, self.token_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeded key, its advanced key and its second token are the examples': a field the
    /// fragment writes and this module does not (or the reverse) fails the read.
    #[test]
    fn the_seeded_key_is_the_fragments_examples() {
        let key: ExampleKey = example(examples::API_KEY).unwrap();
        let advanced: ExampleAdvanced = example(examples::ADVANCED_API_KEY).unwrap();
        let token: ExampleToken = example(examples::API_KEY_TOKEN).unwrap();
        let (_, credential, scope, seeder) = build();
        let nuki = lock(&seeder.0);
        let seeded = nuki.keys.iter().find(|k| k.id == scope.api_key_id).unwrap();
        assert_eq!(seeded.description, key.description);
        assert_eq!(seeded.redirect_uris, key.redirect_uris);
        assert_eq!(seeded.creation_date, key.creation_date);

        let a = seeded.advanced.as_ref().unwrap();
        let app = &a.application;
        assert_eq!(
            (
                app.name.as_str(),
                app.country.as_str(),
                app.description.as_str()
            ),
            (
                advanced.name.as_str(),
                advanced.country.as_str(),
                advanced.description.as_str()
            )
        );
        assert_eq!(
            (&app.type_, &app.url, &app.email),
            (&advanced.type_, &advanced.url, &advanced.email)
        );
        assert_eq!(app.webhook_url, advanced.webhook_url);
        assert_eq!(app.webhook_features, advanced.webhook_features);
        assert_eq!(app.restricted, advanced.restricted);
        assert_eq!(a.status, advanced.status);
        assert_eq!(
            (a.creation_date, a.update_date),
            (advanced.creation_date, advanced.update_date)
        );
        // Deactivated on purpose, for `reactivate` to turn on.
        assert_eq!(a.webhook_status, "DEACTIVATED");

        let [own, other] = &seeded.tokens[..] else {
            panic!("two tokens")
        };
        assert_eq!(own.access_token, credential.expose_secret());
        assert_eq!(own.id, scope.token_id);
        assert!(own.scopes.iter().any(|s| s == "account"));
        assert_eq!(other.description, token.description);
        assert_eq!(other.scopes, token.scopes);
        assert_eq!(other.creation_date, token.creation_date);
    }

    #[test]
    fn times_always_have_milliseconds() {
        let at = DateTime::from_timestamp(1_749_073_285, 0).unwrap();
        let token = Token {
            id: "665f8e2a1c9d440001a3b7c2".into(),
            description: None,
            scopes: vec!["smartlock.log".into()],
            creation_date: at,
            access_token: "secret".into(),
        };
        assert_eq!(
            serde_json::to_value(token_out(&token, None)).unwrap(),
            serde_json::json!({
                "id": "665f8e2a1c9d440001a3b7c2",
                "accountId": ACCOUNT_ID,
                "scopes": ["smartlock.log"],
                "creationDate": "2025-06-04T21:41:25.000Z",
            })
        );
    }
}
