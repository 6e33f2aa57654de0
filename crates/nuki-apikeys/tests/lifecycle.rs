//! `KeyScope`, Nuki's `KeyLifecycle`, against a mock Nuki Web API: each method's exact
//! requests, and rotations that succeed or fail part-way.

mod common;

use apikeys_common::testing::{assert_hidden, mock_server};
use apikeys_common::{KeyInfo, KeyLifecycle, KeyUpdate, NewKey, RotationError};
use chrono::{DateTime, Utc};
use common::*;
use futures::TryStreamExt;
use nuki_apikeys::{Error, KeyScope};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The key a rotation creates, and its `apiKey`.
const NEW_ID: i32 = 1010101011;
const NEW_SECRET: &str = "canary-nuki-6c1e0d9b4a7f22e8a5d3";

fn keys(server: &MockServer) -> KeyScope {
    KeyScope::new(client(server))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn new_key() -> Value {
    json!({
        "apiKeyId": NEW_ID,
        "accountId": ACCOUNT_ID,
        "description": "Home automation",
        "creationDate": "2025-07-01T12:00:00.000Z",
        "apiKey": NEW_SECRET
    })
}

async fn log(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

async fn mount_create(server: &MockServer, response: ResponseTemplate) {
    json_body(
        authenticated(Mock::given(method("PUT")).and(path("/api/key"))),
        json!({"description": "Home automation"}),
    )
    .respond_with(response)
    .expect(1)
    .mount(server)
    .await;
}

async fn mount_list(server: &MockServer, keys: Value, times: u64) {
    authenticated(Mock::given(method("GET")).and(path("/api/key")))
        .and(without_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(keys))
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_delete(server: &MockServer, id: i32, response: ResponseTemplate) {
    authenticated(Mock::given(method("DELETE")).and(path(format!("/api/key/{id}"))))
        .and(without_body)
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn create_puts_the_name_as_description_and_returns_the_api_key_as_secret() {
    let server = mock_server().await;
    mount_create(&server, ResponseTemplate::new(200).set_body_json(new_key())).await;

    let created = keys(&server)
        .create(&NewKey::named("Home automation"))
        .await
        .unwrap();

    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(
        created.key,
        KeyInfo::new(NEW_ID.to_string())
            .name("Home automation")
            .created_at(at("2025-07-01T12:00:00Z"))
    );
    assert_hidden(&format!("{created:?} {:?}", created.key), NEW_SECRET);
}

#[tokio::test]
async fn a_created_key_without_its_api_key_is_a_decode_error_that_keeps_its_id() {
    let server = mock_server().await;
    let mut body = new_key();
    body.as_object_mut().unwrap().remove("apiKey");
    mount_create(&server, ResponseTemplate::new(200).set_body_json(body)).await;

    let err = keys(&server)
        .create(&NewKey::named("Home automation"))
        .await
        .unwrap_err();

    let Error::KeyCreated { key, error } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(key.id.as_deref(), Some(NEW_ID.to_string().as_str()));
    assert!(
        matches!(&**error, Error::Decode { reason, .. } if reason.contains("apiKey")),
        "{err:?}"
    );
    assert!(err.to_string().contains(&NEW_ID.to_string()), "{err}");
}

#[tokio::test]
async fn an_expiry_is_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let new = NewKey::named("Home automation").expires_at(Some(at("2026-12-31T23:59:59Z")));

    let err = keys(&server).create(&new).await.unwrap_err();

    assert!(
        matches!(&err, Error::InvalidRequest(why) if why.contains("expire")),
        "{err:?}"
    );
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn list_reads_every_key_of_the_account_in_one_request() {
    let server = mock_server().await;
    mount_list(&server, json!([api_key(), new_key()]), 1).await;

    let listed: Vec<KeyInfo> = keys(&server).list().try_collect().await.unwrap();

    assert_eq!(
        listed,
        [
            KeyInfo::new(KEY_ID.to_string())
                .name("Home automation integration")
                .created_at(at("2025-06-04T21:41:25Z")),
            KeyInfo::new(NEW_ID.to_string())
                .name("Home automation")
                .created_at(at("2025-07-01T12:00:00Z")),
        ]
    );
    assert_hidden(&format!("{listed:?}"), API_KEY_VALUE);
}

#[tokio::test]
async fn get_finds_a_key_by_number_or_says_not_found() {
    let server = mock_server().await;
    mount_list(&server, json!([api_key()]), 2).await;

    let keys = keys(&server);
    assert_eq!(keys.get("1010101010").await.unwrap().id, KEY_ID.to_string());
    let err = keys.get(&NEW_ID.to_string()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn update_name_keeps_the_redirect_uris_it_reads_first() {
    let server = mock_server().await;
    mount_list(&server, json!([api_key()]), 1).await;
    json_body(
        authenticated(Mock::given(method("POST")).and(path("/api/key/1010101010"))),
        json!({
            "description": "Home automation (renamed)",
            "redirectUris": ["https://example.com/oauth/nuki/callback"]
        }),
    )
    .respond_with(ResponseTemplate::new(204))
    .expect(1)
    .mount(&server)
    .await;

    let update = KeyUpdate::new().name("Home automation (renamed)");
    let key = keys(&server).update("1010101010", &update).await.unwrap();

    assert_eq!(key.name.as_deref(), Some("Home automation (renamed)"));
    assert_eq!(key.id, KEY_ID.to_string());
    assert_eq!(
        log(&server).await,
        ["GET /api/key", "POST /api/key/1010101010"]
    );
}

#[tokio::test]
async fn update_of_an_unknown_key_is_not_found_and_changes_nothing() {
    let server = mock_server().await;
    mount_list(&server, json!([api_key()]), 1).await;

    let update = KeyUpdate::new().name("renamed");
    let err = keys(&server)
        .update(&NEW_ID.to_string(), &update)
        .await
        .unwrap_err();

    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(log(&server).await, ["GET /api/key"]);
}

#[tokio::test]
async fn enabled_is_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    for name in [None, Some("renamed".to_string())] {
        let update = {
            let mut value = KeyUpdate::new().enabled(false);
            value.name = name;
            value
        };
        let err = keys.update("1010101010", &update).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(why) if why.contains("enabled")),
            "{err:?}"
        );
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn an_empty_update_only_reads_the_key() {
    let server = mock_server().await;
    mount_list(&server, json!([api_key()]), 1).await;

    let key = keys(&server)
        .update("1010101010", &KeyUpdate::default())
        .await
        .unwrap();

    assert_eq!(key.name.as_deref(), Some("Home automation integration"));
}

#[tokio::test]
async fn ids_that_are_not_int32_numbers_are_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    for id in ["abc", "../1", "", "5000000000", "1e3"] {
        for err in [
            keys.revoke(id).await.unwrap_err(),
            keys.get(id).await.unwrap_err(),
            keys.update(id, &KeyUpdate::default()).await.unwrap_err(),
        ] {
            assert!(
                matches!(&err, Error::InvalidRequest(why) if why.contains("nuki ids are numbers")),
                "{id:?}: {err:?}"
            );
        }
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn revoke_deletes_the_key() {
    let server = mock_server().await;
    mount_delete(&server, KEY_ID, ResponseTemplate::new(204)).await;

    keys(&server).revoke("1010101010").await.unwrap();
}

#[tokio::test]
async fn rotate_creates_confirms_then_revokes_the_old_key() {
    let server = mock_server().await;
    mount_create(&server, ResponseTemplate::new(200).set_body_json(new_key())).await;
    // The old key is looked for before the create, the new one after it.
    mount_list(&server, json!([api_key(), new_key()]), 2).await;
    mount_delete(&server, KEY_ID, ResponseTemplate::new(204)).await;

    let created = keys(&server)
        .rotate("1010101010", &NewKey::named("Home automation"))
        .await
        .unwrap();

    assert_eq!(created.key.id, NEW_ID.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(
        log(&server).await,
        [
            "GET /api/key",
            "PUT /api/key",
            "GET /api/key",
            "DELETE /api/key/1010101010"
        ]
    );
}

#[tokio::test]
async fn a_rotation_whose_revoke_fails_hands_back_the_new_key() {
    let server = mock_server().await;
    mount_create(&server, ResponseTemplate::new(200).set_body_json(new_key())).await;
    // The old key is looked for before the create, the new one after it.
    mount_list(&server, json!([api_key(), new_key()]), 2).await;
    mount_delete(
        &server,
        KEY_ID,
        nuki_error(500, "Internal Server Error", "Internal Server Error"),
    )
    .await;

    let err = keys(&server)
        .rotate("1010101010", &NewKey::named("Home automation"))
        .await
        .unwrap_err();

    let RotationError::Revoke { created, error } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(created.key.id, NEW_ID.to_string());
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
    mount_create(&server, nuki_error(403, "Forbidden", "Forbidden")).await;
    mount_list(&server, json!([api_key()]), 1).await;

    let err = keys(&server)
        .rotate("1010101010", &NewKey::named("Home automation"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Create(_)), "{err:?}");
    assert_api_error(err.error(), 403, Some("403"), "Forbidden");
    assert_eq!(log(&server).await, ["GET /api/key", "PUT /api/key"]);
}

#[tokio::test]
async fn a_rotation_of_an_unknown_key_creates_nothing() {
    let server = mock_server().await;
    mount_list(&server, json!([new_key()]), 1).await;

    let err = keys(&server)
        .rotate("1010101010", &NewKey::named("Home automation"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Check(_)), "{err:?}");
    assert!(err.error().is_not_found());
    assert_eq!(log(&server).await, ["GET /api/key"]);
}

#[tokio::test]
async fn a_rotation_whose_new_key_is_not_listed_stops_before_the_revoke() {
    let server = mock_server().await;
    mount_create(&server, ResponseTemplate::new(200).set_body_json(new_key())).await;
    mount_list(&server, json!([api_key()]), 2).await;

    let err = keys(&server)
        .rotate("1010101010", &NewKey::named("Home automation"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Confirm { .. }), "{err:?}");
    assert_eq!(
        err.created().map(|c| c.secret.expose_secret()),
        Some(NEW_SECRET)
    );
    let created = err.created().unwrap();
    assert_eq!(
        created.key.id,
        NEW_ID.to_string(),
        "the failure after the create keeps the id"
    );
    assert_eq!(
        log(&server).await,
        ["GET /api/key", "PUT /api/key", "GET /api/key"]
    );
    assert_hidden(&format!("{err:?} {err}"), NEW_SECRET);
}
