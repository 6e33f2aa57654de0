//! `KeyScope`, ThingsBoard's `KeyLifecycle`, against a mock server: each method's exact
//! requests, and rotations that succeed or fail part-way.

use apikeys_common::testing::{assert_hidden, mock_server};
use apikeys_common::{KeyInfo, KeyLifecycle, KeyUpdate, NewKey, RotationError};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{Value, json};
use thingsboard_apikeys::{Client, Error, KeyScope, RetryPolicy};
use uuid::{Uuid, uuid};
use wiremock::matchers::{body_json, body_string, header, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

const CALLER_KEY: &str = "tb_callerKeyUsedForEveryRequestInTheseTests0123456789";
const NEW_SECRET: &str = "tb_NewKeyCanary7f3a9c1eDoNotPrintUvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA";
const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
const OLD: Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");
const NEW: Uuid = uuid!("c0ffee00-c8d4-11f0-8a3b-1f2e3d4c5b6a");
const CREATED_MS: i64 = 1763891234567;
const EXPIRES_MS: i64 = 1798761600000;

/// A client that sends each request once, so that every request counted is one made.
fn keys(server: &MockServer) -> KeyScope {
    let client = Client::builder(server.uri())
        .api_key(CALLER_KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    KeyScope::new(client, USER)
}

fn authenticated(mock: MockBuilder) -> MockBuilder {
    mock.and(header(
        "x-authorization",
        format!("ApiKey {CALLER_KEY}").as_str(),
    ))
}

fn ms(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at).unwrap()
}

/// The fragment's `ApiKeyInfo` example (of `USER`, created at `CREATED_MS`) with another
/// id, description, state and expiry.
fn key_info(id: Uuid, description: &str, enabled: bool, expires: i64) -> Value {
    let mut body = examples::api_key_info();
    assert_eq!(body["userId"]["id"], json!(USER));
    assert_eq!(body["createdTime"], CREATED_MS);
    body["id"]["id"] = json!(id);
    body["description"] = json!(description);
    body["enabled"] = json!(enabled);
    body["expirationTime"] = json!(expires);
    body
}

fn created(id: Uuid, description: &str, expires: i64) -> Value {
    let mut body = key_info(id, description, true, expires);
    body["value"] = json!(NEW_SECRET);
    body
}

fn page(keys: Vec<Value>, has_next: bool) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "data": keys, "totalPages": 2, "totalElements": 3, "hasNext": has_next
    }))
}

/// Every request the server received, as `METHOD path?query`.
async fn log(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| match r.url.query() {
            Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
            None => format!("{} {}", r.method, r.url.path()),
        })
        .collect()
}

fn list_path() -> String {
    format!("/api/apiKeys/{USER}")
}

async fn mount_create(server: &MockServer, response: ResponseTemplate) {
    authenticated(Mock::given(method("POST")).and(path("/api/apiKey")))
        .and(body_json(json!({
            "userId": {"entityType": "USER", "id": USER},
            "description": "CI deploy key",
            "enabled": true
        })))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_list(server: &MockServer, keys: Vec<Value>) {
    mount_list_times(server, keys, 1).await;
}

/// The list, read `times` times (a rotation reads it for the old key, then the new one).
async fn mount_list_times(server: &MockServer, keys: Vec<Value>, times: u64) {
    authenticated(Mock::given(method("GET")).and(path(list_path())))
        .and(query_param("page", "0"))
        .and(query_param("pageSize", "100"))
        .respond_with(page(keys, false))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn create_saves_an_enabled_key_with_its_expiry_and_returns_the_secret() {
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api/apiKey")))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "userId": {"entityType": "USER", "id": USER},
            "description": "CI deploy key",
            "enabled": true,
            "expirationTime": EXPIRES_MS
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(created(
            NEW,
            "CI deploy key",
            EXPIRES_MS,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let new = NewKey::named("CI deploy key").expires_at(Some(ms(EXPIRES_MS)));
    let created = keys(&server).create(&new).await.unwrap();

    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(
        created.key,
        KeyInfo::new(NEW.to_string())
            .name("CI deploy key")
            .enabled(true)
            .created_at(ms(CREATED_MS))
            .expires_at(ms(EXPIRES_MS))
    );
    assert_hidden(&format!("{created:?} {:?}", created.key), NEW_SECRET);
}

#[tokio::test]
async fn create_without_expiry_leaves_expiration_time_out() {
    let server = mock_server().await;
    mount_create(
        &server,
        ResponseTemplate::new(200).set_body_json(created(NEW, "CI deploy key", 0)),
    )
    .await;

    let created = keys(&server)
        .create(&NewKey::named("CI deploy key"))
        .await
        .unwrap();

    assert_eq!(created.key.expires_at, None, "0 means never");
    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
}

#[tokio::test]
async fn a_created_key_without_its_value_is_a_decode_error_that_keeps_its_id() {
    let server = mock_server().await;
    mount_create(
        &server,
        ResponseTemplate::new(200).set_body_json(key_info(NEW, "CI deploy key", true, 0)),
    )
    .await;

    let err = keys(&server)
        .create(&NewKey::named("CI deploy key"))
        .await
        .unwrap_err();

    let Error::KeyCreated { key, error } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(key.id.as_deref(), Some(NEW.to_string().as_str()));
    assert!(
        matches!(&**error, Error::Decode { reason, .. } if reason.contains("value")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_empty_name_is_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let err = keys(&server).create(&NewKey::named("")).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn list_reads_every_page_of_100_and_maps_every_field() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path(list_path())))
        .and(query_param("page", "0"))
        .and(query_param("pageSize", "100"))
        .respond_with(page(
            vec![
                key_info(OLD, "CI deploy key", true, EXPIRES_MS),
                key_info(NEW, "grafana", false, 0),
            ],
            true,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let third = uuid!("0badcafe-c8d4-11f0-8a3b-1f2e3d4c5b6a");
    authenticated(Mock::given(method("GET")).and(path(list_path())))
        .and(query_param("page", "1"))
        .and(query_param("pageSize", "100"))
        .respond_with(page(vec![key_info(third, "backup", true, 0)], false))
        .expect(1)
        .mount(&server)
        .await;

    let listed: Vec<KeyInfo> = keys(&server).list().try_collect().await.unwrap();

    let ids: Vec<String> = listed.iter().map(|k| k.id.clone()).collect();
    assert_eq!(ids, [OLD.to_string(), NEW.to_string(), third.to_string()]);
    assert_eq!(
        listed[0],
        KeyInfo::new(OLD.to_string())
            .name("CI deploy key")
            .enabled(true)
            .created_at(ms(CREATED_MS))
            .expires_at(ms(EXPIRES_MS))
    );
    assert_eq!(listed[1].enabled, Some(false));
    assert_eq!(listed[1].expires_at, None);
}

#[tokio::test]
async fn get_finds_a_key_whatever_the_case_of_its_uuid_or_says_not_found() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path(list_path())))
        .respond_with(page(vec![key_info(OLD, "CI deploy key", true, 0)], false))
        .expect(2)
        .mount(&server)
        .await;

    let keys = keys(&server);
    let found = keys.get(&OLD.to_string().to_uppercase()).await.unwrap();
    assert_eq!(found.id, OLD.to_string());
    let err = keys.get(&NEW.to_string()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn update_name_puts_the_description_as_plain_text() {
    let server = mock_server().await;
    authenticated(Mock::given(method("PUT")).and(path(format!("/api/apiKey/{OLD}/description"))))
        .and(header("content-type", "text/plain; charset=utf-8"))
        .and(body_string("CI deploy key (rotated)"))
        .respond_with(ResponseTemplate::new(200).set_body_json(key_info(
            OLD,
            "CI deploy key (rotated)",
            true,
            0,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let update = KeyUpdate::new().name("CI deploy key (rotated)");
    let key = keys(&server)
        .update(&OLD.to_string(), &update)
        .await
        .unwrap();

    assert_eq!(key.name.as_deref(), Some("CI deploy key (rotated)"));
    assert_eq!(log(&server).await.len(), 1);
}

#[tokio::test]
async fn update_enabled_puts_the_new_state_in_the_path() {
    let server = mock_server().await;
    authenticated(Mock::given(method("PUT")).and(path(format!("/api/apiKey/{OLD}/enabled/false"))))
        .and(|request: &Request| request.body.is_empty())
        .respond_with(ResponseTemplate::new(200).set_body_json(key_info(
            OLD,
            "CI deploy key",
            false,
            0,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let update = KeyUpdate::new().enabled(false);
    let key = keys(&server)
        .update(&OLD.to_string(), &update)
        .await
        .unwrap();

    assert_eq!(key.enabled, Some(false));
}

#[tokio::test]
async fn update_of_both_fields_sets_the_description_then_the_state() {
    let server = mock_server().await;
    authenticated(Mock::given(method("PUT")).and(path(format!("/api/apiKey/{OLD}/description"))))
        .and(body_string("renamed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(key_info(OLD, "renamed", true, 0)))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("PUT")).and(path(format!("/api/apiKey/{OLD}/enabled/false"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(key_info(OLD, "renamed", false, 0)))
        .expect(1)
        .mount(&server)
        .await;

    let update = KeyUpdate::new().name("renamed").enabled(false);
    let key = keys(&server)
        .update(&OLD.to_string(), &update)
        .await
        .unwrap();

    assert_eq!(
        (key.name.as_deref(), key.enabled),
        (Some("renamed"), Some(false))
    );
    assert_eq!(
        log(&server).await,
        [
            format!("PUT /api/apiKey/{OLD}/description"),
            format!("PUT /api/apiKey/{OLD}/enabled/false"),
        ]
    );
}

#[tokio::test]
async fn an_empty_update_only_reads_the_key() {
    let server = mock_server().await;
    mount_list(&server, vec![key_info(OLD, "CI deploy key", true, 0)]).await;

    let key = keys(&server)
        .update(&OLD.to_string(), &KeyUpdate::default())
        .await
        .unwrap();

    assert_eq!(key.name.as_deref(), Some("CI deploy key"));
}

#[tokio::test]
async fn bad_ids_and_empty_names_are_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    let rename = KeyUpdate::new().name("x");
    for id in ["42", "../x", ""] {
        let err = keys.update(id, &rename).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(why) if why.contains("UUID")),
            "{err:?}"
        );
        let err = keys.revoke(id).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    }
    let blank = KeyUpdate::new().name(" ").enabled(true);
    let err = keys.update(&OLD.to_string(), &blank).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn revoke_deletes_the_key() {
    let server = mock_server().await;
    authenticated(Mock::given(method("DELETE")).and(path(format!("/api/apiKey/{OLD}"))))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    keys(&server).revoke(&OLD.to_string()).await.unwrap();
}

#[tokio::test]
async fn rotate_creates_confirms_then_revokes_the_old_key() {
    let server = mock_server().await;
    mount_create(
        &server,
        ResponseTemplate::new(200).set_body_json(created(NEW, "CI deploy key", 0)),
    )
    .await;
    mount_list_times(
        &server,
        vec![
            key_info(OLD, "CI deploy key", true, 0),
            key_info(NEW, "CI deploy key", true, 0),
        ],
        2,
    )
    .await;
    authenticated(Mock::given(method("DELETE")).and(path(format!("/api/apiKey/{OLD}"))))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let created = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("CI deploy key"))
        .await
        .unwrap();

    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(
        log(&server).await,
        [
            format!("GET {}?page=0&pageSize=100", list_path()),
            "POST /api/apiKey".to_string(),
            format!("GET {}?page=0&pageSize=100", list_path()),
            format!("DELETE /api/apiKey/{OLD}"),
        ]
    );
}

#[tokio::test]
async fn a_rotation_whose_revoke_fails_hands_back_the_new_key() {
    let server = mock_server().await;
    mount_create(
        &server,
        ResponseTemplate::new(200).set_body_json(created(NEW, "CI deploy key", 0)),
    )
    .await;
    mount_list_times(
        &server,
        vec![
            key_info(OLD, "CI deploy key", true, 0),
            key_info(NEW, "CI deploy key", true, 0),
        ],
        2,
    )
    .await;
    authenticated(Mock::given(method("DELETE")).and(path(format!("/api/apiKey/{OLD}"))))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "status": 500, "message": "database down", "errorCode": 46
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("CI deploy key"))
        .await
        .unwrap_err();

    let RotationError::Revoke { created, error } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    let deletes = log(&server)
        .await
        .into_iter()
        .filter(|r| r.starts_with("DELETE"))
        .count();
    assert_eq!(deletes, 1);
    assert_hidden(&format!("{err:?} {err} {created:?}"), NEW_SECRET);
}

#[tokio::test]
async fn a_rotation_whose_create_fails_never_revokes() {
    let server = mock_server().await;
    mount_create(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({
            "status": 400, "message": "Too many API keys", "errorCode": 31
        })),
    )
    .await;
    mount_list(&server, vec![key_info(OLD, "CI deploy key", true, 0)]).await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("CI deploy key"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Create(_)), "{err:?}");
    assert!(err.created().is_none() && err.partial().is_none());
    assert_eq!(
        log(&server).await,
        [
            format!("GET {}?page=0&pageSize=100", list_path()),
            "POST /api/apiKey".to_string()
        ]
    );
}

#[tokio::test]
async fn a_rotation_of_an_unknown_key_creates_nothing() {
    let server = mock_server().await;
    mount_list(&server, vec![key_info(NEW, "other", true, 0)]).await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("CI deploy key"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Check(_)), "{err:?}");
    assert!(err.error().is_not_found());
    assert_eq!(
        log(&server).await,
        [format!("GET {}?page=0&pageSize=100", list_path())]
    );
}

#[tokio::test]
async fn a_rotation_whose_new_key_is_not_listed_stops_before_the_revoke() {
    let server = mock_server().await;
    mount_create(
        &server,
        ResponseTemplate::new(200).set_body_json(created(NEW, "CI deploy key", 0)),
    )
    .await;
    mount_list_times(&server, vec![key_info(OLD, "CI deploy key", true, 0)], 2).await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("CI deploy key"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Confirm { .. }), "{err:?}");
    // The failure after the create hands back the new key's id and secret.
    assert_eq!(
        err.created().map(|c| c.key.id.clone()),
        Some(NEW.to_string())
    );
    assert_eq!(
        err.created().map(|c| c.secret.expose_secret()),
        Some(NEW_SECRET)
    );
    assert!(!log(&server).await.iter().any(|r| r.starts_with("DELETE")));
    assert_hidden(&format!("{err:?} {err}"), NEW_SECRET);
}
