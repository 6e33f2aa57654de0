//! `KeyScope`, Automox's `KeyLifecycle`, against a mock Automox Console API: each method's
//! exact requests (create followed by decrypt), and rotations that succeed or fail
//! part-way.

use apikeys_common::testing::{CANARY, assert_hidden, mock_server};
use apikeys_common::{KeyInfo, KeyLifecycle, KeyUpdate, NewKey, RotationError};
use automox_apikeys::{Client, Error, KeyScope, RetryPolicy};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_string, header, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

const CALLER_KEY: &str = "21636369-8b52-4b4a-97b7-50923ceb3ffd";
/// The new key's secret, as `decrypt_user_api_key` returns it.
const NEW_SECRET: &str = CANARY;
const ORG: i64 = 1234;
const USER: i64 = 98765;
const OLD: i64 = 424242;
const NEW: i64 = 424299;

fn keys(server: &MockServer) -> KeyScope {
    let client = Client::builder(format!("{}/api", server.uri()))
        .api_key(CALLER_KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    KeyScope::new(client, ORG, USER)
}

/// `verb` on `route`, with the caller's key and the organization as `o`.
fn expect(verb: &str, route: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(route))
        .and(header(
            "authorization",
            format!("Bearer {CALLER_KEY}").as_str(),
        ))
        .and(query_param("o", "1234"))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The fragment's `ApiKey` example with another id, name and state.
fn key(id: i64, name: &str, enabled: bool) -> Value {
    let mut key = examples::api_key();
    key["id"] = json!(id);
    key["name"] = json!(name);
    key["is_enabled"] = json!(enabled);
    key
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn automox_error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"errors": [message]}))
}

async fn log(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

async fn mount_create(server: &MockServer, response: ResponseTemplate) {
    expect("POST", "/api/users/98765/api_keys")
        .and(body_json(json!({"name": "ci-pipeline"})))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_decrypt(server: &MockServer, id: i64, response: ResponseTemplate) {
    expect("POST", &format!("/api/users/98765/api_keys/{id}/decrypt"))
        .and(body_string(""))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_get(server: &MockServer, id: i64, response: ResponseTemplate) {
    expect("GET", &format!("/api/users/98765/api_keys/{id}"))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_delete(server: &MockServer, id: i64, response: ResponseTemplate) {
    expect("DELETE", &format!("/api/users/98765/api_keys/{id}"))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

fn decrypted() -> ResponseTemplate {
    ok(json!({"api_key": NEW_SECRET}))
}

#[tokio::test]
async fn create_posts_name_and_expiry_then_decrypts_the_new_key_for_its_secret() {
    let server = mock_server().await;
    expect("POST", "/api/users/98765/api_keys")
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"name": "ci-pipeline", "expires_at": "2026-12-31T23:59:59+0000"}),
        ))
        .respond_with(ok(key(NEW, "ci-pipeline", true)))
        .expect(1)
        .mount(&server)
        .await;
    mount_decrypt(&server, NEW, decrypted()).await;

    let new = NewKey::named("ci-pipeline").expires_at(Some(at("2026-12-31T23:59:59Z")));
    let created = keys(&server).create(&new).await.unwrap();

    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(
        created.key,
        KeyInfo::new(NEW.to_string())
            .name("ci-pipeline")
            .enabled(true)
            .created_at(at("2025-11-23T08:41:07Z"))
            .expires_at(at("2026-12-31T23:59:59Z"))
    );
    assert_eq!(
        log(&server).await,
        [
            "POST /api/users/98765/api_keys".to_string(),
            format!("POST /api/users/98765/api_keys/{NEW}/decrypt"),
        ]
    );
    assert_hidden(&format!("{created:?} {:?}", created.key), NEW_SECRET);
}

#[tokio::test]
async fn a_failed_decrypt_fails_the_create_without_deleting_anything() {
    let server = mock_server().await;
    mount_create(&server, ok(key(NEW, "ci-pipeline", true))).await;
    mount_decrypt(&server, NEW, automox_error(403, "Forbidden")).await;

    let err = keys(&server)
        .create(&NewKey::named("ci-pipeline"))
        .await
        .unwrap_err();

    assert!(err.is_forbidden(), "{err:?}");
    assert_eq!(log(&server).await.len(), 2);
}

#[tokio::test]
async fn a_created_key_without_an_id_is_a_decode_error_and_is_not_decrypted() {
    let server = mock_server().await;
    mount_create(
        &server,
        ok(json!({"name": "ci-pipeline", "is_enabled": true})),
    )
    .await;

    let err = keys(&server)
        .create(&NewKey::named("ci-pipeline"))
        .await
        .unwrap_err();

    assert!(
        matches!(&err, Error::Decode { reason, .. } if reason.contains("id")),
        "{err:?}"
    );
    assert_eq!(log(&server).await, ["POST /api/users/98765/api_keys"]);
}

#[tokio::test]
async fn list_reads_every_page_of_500() {
    let server = mock_server().await;
    let full: Vec<Value> = (1..=500)
        .map(|n| key(n, &format!("key-{n}"), true))
        .collect();
    for (page, results) in [("0", json!(full)), ("1", json!([key(OLD, "old", false)]))] {
        expect("GET", "/api/users/98765/api_keys")
            .and(query_param("page", page))
            .and(query_param("limit", "500"))
            .respond_with(ok(json!({"size": 501, "results": results})))
            .expect(1)
            .mount(&server)
            .await;
    }

    let listed: Vec<KeyInfo> = keys(&server).list().try_collect().await.unwrap();

    assert_eq!(listed.len(), 501);
    assert_eq!(listed[0].id, "1");
    assert_eq!(
        listed[500],
        KeyInfo::new(OLD.to_string())
            .name("old")
            .enabled(false)
            .created_at(at("2025-11-23T08:41:07Z"))
            .expires_at(at("2026-12-31T23:59:59Z"))
    );
}

#[tokio::test]
async fn get_reads_one_key() {
    let server = mock_server().await;
    mount_get(&server, OLD, ok(key(OLD, "ci-pipeline", true))).await;

    let key = keys(&server).get(&OLD.to_string()).await.unwrap();

    assert_eq!(key.id, OLD.to_string());
    assert_eq!(key.enabled, Some(true));
}

#[tokio::test]
async fn update_enabled_puts_the_new_state() {
    let server = mock_server().await;
    expect("PUT", &format!("/api/users/98765/api_keys/{OLD}"))
        .and(body_json(json!({"is_enabled": false})))
        .respond_with(ok(key(OLD, "ci-pipeline", false)))
        .expect(1)
        .mount(&server)
        .await;

    let update = KeyUpdate::new().enabled(false);
    let key = keys(&server)
        .update(&OLD.to_string(), &update)
        .await
        .unwrap();

    assert_eq!(key.enabled, Some(false));
    assert_eq!(log(&server).await.len(), 1);
}

#[tokio::test]
async fn a_new_name_is_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    for enabled in [None, Some(true)] {
        let update = {
            let mut value = KeyUpdate::new().name("renamed");
            value.enabled = enabled;
            value
        };
        let err = keys.update(&OLD.to_string(), &update).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(why) if why.contains("name")),
            "{err:?}"
        );
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn an_empty_update_only_reads_the_key() {
    let server = mock_server().await;
    mount_get(&server, OLD, ok(key(OLD, "ci-pipeline", true))).await;

    let key = keys(&server)
        .update(&OLD.to_string(), &KeyUpdate::default())
        .await
        .unwrap();

    assert_eq!(key.name.as_deref(), Some("ci-pipeline"));
}

#[tokio::test]
async fn ids_that_are_not_numbers_are_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    for id in ["abc", "../1", "", "1?o=1", "424242/decrypt"] {
        for err in [
            keys.revoke(id).await.unwrap_err(),
            keys.get(id).await.unwrap_err(),
            keys.update(id, &KeyUpdate::default()).await.unwrap_err(),
        ] {
            assert!(
                matches!(&err, Error::InvalidRequest(why) if why.contains("automox ids are numbers")),
                "{id:?}: {err:?}"
            );
        }
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn revoke_deletes_the_key() {
    let server = mock_server().await;
    mount_delete(&server, OLD, ResponseTemplate::new(204)).await;

    keys(&server).revoke(&OLD.to_string()).await.unwrap();
}

#[tokio::test]
async fn rotate_creates_decrypts_confirms_then_revokes_the_old_key() {
    let server = mock_server().await;
    mount_get(&server, OLD, ok(key(OLD, "old", true))).await;
    mount_create(&server, ok(key(NEW, "ci-pipeline", true))).await;
    mount_decrypt(&server, NEW, decrypted()).await;
    mount_get(&server, NEW, ok(key(NEW, "ci-pipeline", true))).await;
    mount_delete(&server, OLD, ResponseTemplate::new(204)).await;

    let created = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ci-pipeline"))
        .await
        .unwrap();

    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(
        log(&server).await,
        [
            format!("GET /api/users/98765/api_keys/{OLD}"),
            "POST /api/users/98765/api_keys".to_string(),
            format!("POST /api/users/98765/api_keys/{NEW}/decrypt"),
            format!("GET /api/users/98765/api_keys/{NEW}"),
            format!("DELETE /api/users/98765/api_keys/{OLD}"),
        ]
    );
}

#[tokio::test]
async fn a_rotation_whose_revoke_fails_hands_back_the_new_key() {
    let server = mock_server().await;
    mount_get(&server, OLD, ok(key(OLD, "old", true))).await;
    mount_create(&server, ok(key(NEW, "ci-pipeline", true))).await;
    mount_decrypt(&server, NEW, decrypted()).await;
    mount_get(&server, NEW, ok(key(NEW, "ci-pipeline", true))).await;
    mount_delete(&server, OLD, automox_error(503, "Service Unavailable")).await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ci-pipeline"))
        .await
        .unwrap_err();

    let RotationError::Revoke { created, error } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
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
    mount_get(&server, OLD, ok(key(OLD, "old", true))).await;
    mount_create(
        &server,
        automox_error(400, "A user may only have 10 active API keys"),
    )
    .await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ci-pipeline"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Create(_)), "{err:?}");
    // The vendor's message is the cause's, not repeated in the rotation's own.
    assert!(
        err.error()
            .to_string()
            .contains("at most 10 active API keys"),
        "{err}"
    );
    assert_eq!(
        log(&server).await,
        [
            format!("GET /api/users/98765/api_keys/{OLD}"),
            "POST /api/users/98765/api_keys".to_string()
        ]
    );
}

#[tokio::test]
async fn a_rotation_of_an_unknown_key_creates_nothing() {
    let server = mock_server().await;
    mount_get(&server, OLD, automox_error(404, "Not Found")).await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ci-pipeline"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Check(_)), "{err:?}");
    assert!(err.error().is_not_found());
    assert_eq!(
        log(&server).await,
        [format!("GET /api/users/98765/api_keys/{OLD}")]
    );
}

#[tokio::test]
async fn a_failed_decrypt_after_the_create_returns_the_new_keys_id() {
    let server = mock_server().await;
    mount_create(&server, ok(key(NEW, "ci-pipeline", true))).await;
    mount_decrypt(&server, NEW, automox_error(503, "Service Unavailable")).await;

    let err = keys(&server)
        .create(&NewKey::named("ci-pipeline"))
        .await
        .unwrap_err();

    let key = err.created_key().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(key.id.as_deref(), Some(NEW.to_string().as_str()));
    assert!(key.secret.is_none(), "automox showed no secret");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(err.to_string().contains(&NEW.to_string()), "{err}");
}

#[tokio::test]
async fn a_rotation_whose_new_key_cannot_be_read_stops_before_the_revoke() {
    let server = mock_server().await;
    mount_get(&server, OLD, ok(key(OLD, "old", true))).await;
    mount_create(&server, ok(key(NEW, "ci-pipeline", true))).await;
    mount_decrypt(&server, NEW, decrypted()).await;
    mount_get(&server, NEW, automox_error(404, "Not Found")).await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ci-pipeline"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Confirm { .. }), "{err:?}");
    assert_eq!(
        err.created().map(|c| c.secret.expose_secret()),
        Some(NEW_SECRET)
    );
    assert!(!log(&server).await.iter().any(|r| r.starts_with("DELETE")));
    assert_hidden(&format!("{err:?} {err}"), NEW_SECRET);
}
