//! The Nuki Web API (openapi/nuki.yaml): API keys, their advanced API keys and their
//! tokens; all 13 operations. Lists are plain arrays, unpaged.
//!
//! Authentication is `Authorization: Bearer <token>`: any token of any key of the account
//! that has the `account` scope (the credential is one). Errors are Restlet status objects.

use std::sync::{Arc, Mutex};

use apikeys_common::Secret;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use nuki_apikeys::types::{
    AdvancedApiKey, AdvancedApiKeyCreate, AdvancedApiKeyStatus, AdvancedApiKeyType,
    AdvancedApiKeyUpdate, ApiKey, ApiKeyToken, ApiKeyTokenCreate, NukiError, Scope, WebhookFeature,
    WebhookStatus,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::common::{Reply, bearer, empty, json, lock, now, random_hex};
use crate::scope::NukiScope;

const ACCOUNT_ID: i32 = 987_654_321;

struct Token {
    id: String,
    description: Option<String>,
    scopes: Vec<Scope>,
    creation_date: DateTime<Utc>,
    access_token: String,
}

struct Advanced {
    application: AdvancedApiKeyCreate,
    status: AdvancedApiKeyStatus,
    webhook_status: WebhookStatus,
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

/// The router, mounted at `/nuki`, with the credential and scope it was seeded with.
pub(crate) fn build() -> (Router, Secret, NukiScope) {
    let created = now();
    let credential = random_hex(80);
    let token_id = random_hex(24);
    let first = Key {
        id: 1_010_101_010,
        description: Some("Home automation integration".into()),
        redirect_uris: vec!["https://example.com/oauth/nuki/callback".into()],
        creation_date: created,
        value: random_hex(32),
        advanced: Some(Advanced {
            application: AdvancedApiKeyCreate {
                country: "Austria".into(),
                description: "Short-term rental platform issuing keypad codes to guests.".into(),
                email: "integrations@rentals.example.com".into(),
                name: "Example Rentals GmbH".into(),
                restricted: false,
                type_: AdvancedApiKeyType::ShortRental,
                url: "https://rentals.example.com".into(),
                webhook_features: vec![WebhookFeature::DeviceStatus, WebhookFeature::DeviceLogs],
                webhook_url: "https://rentals.example.com/hooks/nuki".into(),
            },
            status: AdvancedApiKeyStatus::Active,
            // Deliveries failed: `reactivate_advanced_api_key` turns them back on.
            webhook_status: WebhookStatus::Deactivated,
            secret: random_hex(32),
            creation_date: created,
            update_date: created,
        }),
        tokens: vec![Token {
            id: token_id.clone(),
            description: Some("Sandbox credential".into()),
            scopes: vec![Scope::Account, Scope::Smartlock],
            creation_date: created,
            access_token: credential.clone(),
        }],
    };
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
        )
        .fallback(not_found_route)
        .with_state(Arc::new(Mutex::new(nuki)));
    (router, Secret::from(credential), scope)
}

/// A Restlet status object, the error body api.nuki.io sends.
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
        code: Some(i32::from(status.as_u16())),
        description: Some(description.into()),
        detail_message: detail,
        home_ref: Some("/".into()),
        reason_phrase: status.canonical_reason().map(Into::into),
        uri: Some(format!(
            "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.{section}"
        )),
    };
    json(status, &body)
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

/// A JSON body as the generated type, or Nuki's 400.
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(bytes).map_err(|e| bad_request(format!("invalid body: {e}")))
}

/// Open enums keep values they do not know; the server refuses them.
fn known<T: Clone>(values: &[T], unknown: impl Fn(&T) -> bool, what: &str) -> Result<(), Response> {
    match values.iter().any(unknown) {
        true => Err(bad_request(format!("unknown {what}"))),
        false => Ok(()),
    }
}

fn known_scopes(scopes: &[Scope]) -> Result<(), Response> {
    known(scopes, |s| matches!(s, Scope::Unknown(_)), "scope")
}

fn known_features(features: &[WebhookFeature]) -> Result<(), Response> {
    known(
        features,
        |f| matches!(f, WebhookFeature::Unknown(_)),
        "webhook feature",
    )
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
        if token.scopes.contains(&Scope::Account) {
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
fn key_json(key: &Key, value: Option<&str>) -> Value {
    let model = ApiKey {
        account_id: ACCOUNT_ID,
        api_key: None,
        api_key_id: key.id,
        creation_date: key.creation_date,
        description: key.description.clone(),
        redirect_uris: key.redirect_uris.clone(),
    };
    let mut out = serde_json::to_value(model).unwrap_or_default();
    if let (Some(object), Some(value)) = (out.as_object_mut(), value) {
        object.insert("apiKey".into(), value.into());
    }
    out
}

/// The token as listed: never its `accessToken`, which only creation returns.
fn token_json(token: &Token, access_token: Option<&str>) -> Value {
    let model = ApiKeyToken {
        access_token: None,
        account_id: ACCOUNT_ID,
        creation_date: token.creation_date,
        description: token.description.clone(),
        id: token.id.clone(),
        scopes: token.scopes.clone(),
    };
    let mut out = serde_json::to_value(model).unwrap_or_default();
    if let (Some(object), Some(access)) = (out.as_object_mut(), access_token) {
        object.insert("accessToken".into(), access.into());
    }
    out
}

async fn list_keys(State(nuki): State<Shared>, headers: HeaderMap) -> Reply {
    let nuki = lock(&nuki);
    nuki.authenticate(&headers)?;
    let keys: Vec<Value> = nuki.keys.iter().map(|k| key_json(k, None)).collect();
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
    let out = key_json(&key, Some(&key.value));
    nuki.keys.push(key);
    Ok(json(StatusCode::OK, &out))
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
    let model = AdvancedApiKey {
        country: a.country.clone(),
        creation_date: advanced.creation_date,
        description: a.description.clone(),
        email: a.email.clone(),
        name: a.name.clone(),
        restricted: a.restricted,
        secret: None,
        status: advanced.status.clone(),
        type_: a.type_.clone(),
        update_date: advanced.update_date,
        url: a.url.clone(),
        webhook_features: a.webhook_features.clone(),
        webhook_status: Some(advanced.webhook_status.clone()),
        webhook_url: a.webhook_url.clone(),
    };
    let mut out = serde_json::to_value(model).unwrap_or_default();
    // The client secret is visible once Nuki has approved the application (TESTING on).
    let approved = matches!(
        advanced.status,
        AdvancedApiKeyStatus::Testing | AdvancedApiKeyStatus::Active
    );
    if let (Some(object), true) = (out.as_object_mut(), approved) {
        object.insert("secret".into(), advanced.secret.clone().into());
    }
    Ok(json(StatusCode::OK, &out))
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
    let application: AdvancedApiKeyCreate = body(&bytes)?;
    known_features(&application.webhook_features)?;
    if matches!(application.type_, AdvancedApiKeyType::Unknown(_)) {
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
        status: AdvancedApiKeyStatus::Applied,
        webhook_status: WebhookStatus::Active,
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
    let update: AdvancedApiKeyUpdate = body(&bytes)?;
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
    advanced.webhook_status = WebhookStatus::Active;
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
    let tokens: Vec<Value> = key.tokens.iter().map(|t| token_json(t, None)).collect();
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
    let create: ApiKeyTokenCreate = body(&bytes)?;
    known_scopes(&create.scopes)?;
    let token = Token {
        id: random_hex(24),
        description: create.description,
        scopes: create.scopes,
        creation_date: now(),
        access_token: random_hex(80),
    };
    let out = token_json(&token, Some(&token.access_token));
    key.tokens.push(token);
    Ok(json(StatusCode::OK, &out))
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
        let scopes: Vec<Scope> = serde_json::from_value(scopes.clone())
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
