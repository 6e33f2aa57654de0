//! `KeyScope`, SensorBucket's `KeyLifecycle`, against a mock server: each method's exact
//! requests, and rotations that succeed or fail part-way.

use apikeys_common::testing::{assert_hidden, mock_server};
use apikeys_common::{KeyInfo, KeyLifecycle, KeyUpdate, NewKey, RotationError};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sensorbucket_apikeys::types::Permission;
use sensorbucket_apikeys::{Client, Error, KeyScope, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

const CALLER_KEY: &str = "MjU5MzE1NDgwMjE2NTMwMTEyODo2MjY2MDdkMGViY2Q5MGRhMTRkZWE4NGY4MjEzYjRiNw";
/// `base64(4821937465012837465:9f86d081884c7d659a2feaa0c55ad015)`, unpadded.
const NEW_TOKEN: &str = "NDgyMTkzNzQ2NTAxMjgzNzQ2NTo5Zjg2ZDA4MTg4NGM3ZDY1OWEyZmVhYTBjNTVhZDAxNQ";
const NEW: i64 = 4821937465012837465;
const OLD: i64 = 4611686018427387904;
const TENANT: i64 = 19;
const CURSOR: &str = "omVMaW1pdAJnQ29sdW1uc6JlS2V5SUQbEeGH3GjvM7lnQ3JlYXRlZMH7Qdn0EJigAAA";

fn keys(server: &MockServer) -> KeyScope {
    let client = Client::builder(format!("{}/api", server.uri()))
        .api_key(CALLER_KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    KeyScope::new(
        client,
        TENANT,
        vec![Permission::ReadDevices, Permission::WriteMeasurements],
    )
}

fn authenticated(mock: MockBuilder) -> MockBuilder {
    mock.and(header(
        "authorization",
        format!("Bearer {CALLER_KEY}").as_str(),
    ))
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The first key of the fragment's list example (of `TENANT`), under another id and name
/// and without an expiry.
fn listed(id: i64, name: &str) -> Value {
    let mut key = examples::list_api_keys200_response()["data"][0].clone();
    assert_eq!(key["tenant_id"], TENANT);
    key["id"] = json!(id);
    key["name"] = json!(name);
    key["expiration_date"] = Value::Null;
    key
}

fn page(keys: Vec<Value>, next: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "links": {"previous": "", "next": next},
        "page_size": keys.len(),
        "total_count": 0,
        "data": keys
    }))
}

fn details(id: i64, tenant: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {
        "id": id,
        "name": "",
        "tenant_id": tenant,
        "expiration_date": "2026-12-31T23:00:00Z",
        "permissions": ["READ_DEVICES"]
    }}))
}

fn sensorbucket_error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"message": message}))
}

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

async fn mount_create(server: &MockServer, response: ResponseTemplate) {
    authenticated(Mock::given(method("POST")).and(path("/api/api-keys")))
        .and(body_json(json!({
            "name": "ingest-gateway",
            "tenant_id": TENANT,
            "permissions": ["READ_DEVICES", "WRITE_MEASUREMENTS"]
        })))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_get(server: &MockServer, id: i64, response: ResponseTemplate) {
    authenticated(Mock::given(method("GET")).and(path(format!("/api/api-keys/{id}"))))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_revoke(server: &MockServer, id: i64, response: ResponseTemplate) {
    authenticated(Mock::given(method("DELETE")).and(path(format!("/api/api-keys/{id}"))))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

fn revoked() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"message": "API key has been revoked"}))
}

#[tokio::test]
async fn create_posts_the_scope_s_tenant_and_permissions_and_reads_the_id_from_the_token() {
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api/api-keys")))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "name": "ingest-gateway",
            "tenant_id": TENANT,
            "permissions": ["READ_DEVICES", "WRITE_MEASUREMENTS"],
            "expiration_date": "2026-12-31T23:00:00Z"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"api_key": NEW_TOKEN})))
        .expect(1)
        .mount(&server)
        .await;

    let new = NewKey::named("ingest-gateway").expires_at(Some(at("2026-12-31T23:00:00Z")));
    let created = keys(&server).create(&new).await.unwrap();

    assert_eq!(created.secret.expose_secret(), NEW_TOKEN);
    assert_eq!(
        created.key,
        KeyInfo::new(NEW.to_string())
            .name("ingest-gateway")
            .expires_at(at("2026-12-31T23:00:00Z"))
    );
    assert_eq!(log(&server).await.len(), 1, "the id comes from the token");
    assert_hidden(&format!("{created:?}"), NEW_TOKEN);
}

#[tokio::test]
async fn create_without_expiry_leaves_it_out() {
    let server = mock_server().await;
    mount_create(
        &server,
        ResponseTemplate::new(201).set_body_json(json!({"api_key": NEW_TOKEN})),
    )
    .await;

    let created = keys(&server)
        .create(&NewKey::named("ingest-gateway"))
        .await
        .unwrap();

    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.key.expires_at, None);
}

#[tokio::test]
async fn a_token_that_names_no_id_is_resolved_by_listing_the_tenant_s_keys_by_name() {
    let server = mock_server().await;
    mount_create(
        &server,
        ResponseTemplate::new(201).set_body_json(json!({"api_key": "opaque-token"})),
    )
    .await;
    authenticated(Mock::given(method("GET")).and(path("/api/api-keys")))
        .and(query_param("tenant_id", "19"))
        .respond_with(page(
            vec![listed(OLD, "grafana"), listed(NEW, "ingest-gateway")],
            "",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let created = keys(&server)
        .create(&NewKey::named("ingest-gateway"))
        .await
        .unwrap();

    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), "opaque-token");
}

#[tokio::test]
async fn create_without_permissions_is_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let client = Client::builder(format!("{}/api", server.uri()))
        .api_key(CALLER_KEY)
        .build()
        .unwrap();
    let keys = KeyScope::new(client, TENANT, Vec::new());

    let err = keys
        .create(&NewKey::named("ingest-gateway"))
        .await
        .unwrap_err();

    assert!(
        matches!(&err, Error::InvalidRequest(why) if why.contains("permission")),
        "{err:?}"
    );
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn list_follows_the_cursors_of_the_tenant_s_keys() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path("/api/api-keys")))
        .and(query_param("tenant_id", "19"))
        .and(query_param_is_missing("cursor"))
        .respond_with(page(
            vec![listed(NEW, "ingest-gateway"), listed(OLD, "grafana")],
            &format!("https://sensorbucket.nl/api/api-keys?cursor={CURSOR}&tenant_id=19"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("GET")).and(path("/api/api-keys")))
        .and(query_param("tenant_id", "19"))
        .and(query_param("cursor", CURSOR))
        .respond_with(page(vec![listed(7, "backup")], ""))
        .expect(1)
        .mount(&server)
        .await;

    let listed: Vec<KeyInfo> = keys(&server).list().try_collect().await.unwrap();

    let ids: Vec<&str> = listed.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, [NEW.to_string(), OLD.to_string(), "7".to_string()]);
    assert_eq!(
        listed[0],
        KeyInfo::new(NEW.to_string())
            .name("ingest-gateway")
            .created_at(at("2025-06-02T09:14:27.481923Z"))
    );
}

#[tokio::test]
async fn get_reads_one_key_and_a_key_of_another_tenant_is_not_found() {
    let server = mock_server().await;
    mount_get(&server, NEW, details(NEW, TENANT)).await;
    mount_get(&server, OLD, details(OLD, 20)).await;

    let keys = keys(&server);
    let key = keys.get(&NEW.to_string()).await.unwrap();
    assert_eq!(
        key,
        KeyInfo::new(NEW.to_string()).expires_at(at("2026-12-31T23:00:00Z"))
    );
    let err = keys.get(&OLD.to_string()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn every_change_is_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    for (update, what) in [
        (KeyUpdate::new().name("renamed"), "name"),
        (KeyUpdate::new().enabled(false), "enabled"),
        (
            KeyUpdate::new().name("renamed").enabled(true),
            "name or enabled",
        ),
    ] {
        let err = keys.update(&OLD.to_string(), &update).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(why) if why.contains(what)),
            "{err:?}"
        );
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn an_empty_update_only_reads_the_key() {
    let server = mock_server().await;
    mount_get(&server, NEW, details(NEW, TENANT)).await;

    let key = keys(&server)
        .update(&NEW.to_string(), &KeyUpdate::default())
        .await
        .unwrap();

    assert_eq!(key.id, NEW.to_string());
}

#[tokio::test]
async fn ids_that_are_not_numbers_are_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    for id in ["abc", "../1", "", "1.5", "99999999999999999999"] {
        for err in [
            keys.revoke(id).await.unwrap_err(),
            keys.get(id).await.unwrap_err(),
            keys.update(id, &KeyUpdate::default()).await.unwrap_err(),
        ] {
            assert!(
                matches!(&err, Error::InvalidRequest(why) if why.contains("sensorbucket ids are numbers")),
                "{id:?}: {err:?}"
            );
        }
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn revoke_deletes_the_key() {
    let server = mock_server().await;
    mount_revoke(&server, OLD, revoked()).await;

    keys(&server).revoke(&OLD.to_string()).await.unwrap();
}

#[tokio::test]
async fn rotate_creates_confirms_then_revokes_the_old_key() {
    let server = mock_server().await;
    mount_get(&server, OLD, details(OLD, TENANT)).await;
    mount_create(
        &server,
        ResponseTemplate::new(201).set_body_json(json!({"api_key": NEW_TOKEN})),
    )
    .await;
    mount_get(&server, NEW, details(NEW, TENANT)).await;
    mount_revoke(&server, OLD, revoked()).await;

    let created = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ingest-gateway"))
        .await
        .unwrap();

    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_TOKEN);
    assert_eq!(
        log(&server).await,
        [
            format!("GET /api/api-keys/{OLD}"),
            "POST /api/api-keys".to_string(),
            format!("GET /api/api-keys/{NEW}"),
            format!("DELETE /api/api-keys/{OLD}"),
        ]
    );
}

#[tokio::test]
async fn a_rotation_whose_revoke_fails_hands_back_the_new_key() {
    let server = mock_server().await;
    mount_get(&server, OLD, details(OLD, TENANT)).await;
    mount_create(
        &server,
        ResponseTemplate::new(201).set_body_json(json!({"api_key": NEW_TOKEN})),
    )
    .await;
    mount_get(&server, NEW, details(NEW, TENANT)).await;
    mount_revoke(
        &server,
        OLD,
        sensorbucket_error(500, "internal server error"),
    )
    .await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ingest-gateway"))
        .await
        .unwrap_err();

    let RotationError::Revoke { created, error } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_TOKEN);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    let deletes: Vec<String> = log(&server)
        .await
        .into_iter()
        .filter(|r| r.starts_with("DELETE"))
        .collect();
    assert_eq!(deletes, [format!("DELETE /api/api-keys/{OLD}")]);
    assert_hidden(&format!("{err:?} {err} {created:?}"), NEW_TOKEN);
}

#[tokio::test]
async fn a_rotation_whose_create_fails_never_revokes() {
    let server = mock_server().await;
    mount_get(&server, OLD, details(OLD, TENANT)).await;
    mount_create(
        &server,
        sensorbucket_error(400, "API key name and tenant combination must be unique"),
    )
    .await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ingest-gateway"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Create(_)), "{err:?}");
    assert_eq!(
        log(&server).await,
        [
            format!("GET /api/api-keys/{OLD}"),
            "POST /api/api-keys".to_string()
        ]
    );
}

#[tokio::test]
async fn a_rotation_of_an_unknown_key_creates_nothing() {
    let server = mock_server().await;
    mount_get(&server, OLD, sensorbucket_error(404, "API key not found")).await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ingest-gateway"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Check(_)), "{err:?}");
    assert_eq!(log(&server).await, [format!("GET /api/api-keys/{OLD}")]);
}

#[tokio::test]
async fn a_failure_after_the_create_returns_the_new_secret() {
    // A token that names no id: the key is looked for in the tenant's list, which fails.
    let server = mock_server().await;
    let opaque = "opaque-sensorbucket-canary-token";
    mount_create(
        &server,
        ResponseTemplate::new(201).set_body_json(json!({"api_key": opaque})),
    )
    .await;
    authenticated(Mock::given(method("GET")).and(path("/api/api-keys")))
        .respond_with(sensorbucket_error(503, "unavailable"))
        .mount(&server)
        .await;

    let err = keys(&server)
        .create(&NewKey::named("ingest-gateway"))
        .await
        .unwrap_err();

    let key = err.created_key().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(key.secret.as_ref().unwrap().expose_secret(), opaque);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_hidden(&format!("{err:?} {err}"), opaque);
}

#[tokio::test]
async fn a_rotation_whose_new_key_cannot_be_read_stops_before_the_revoke() {
    let server = mock_server().await;
    mount_get(&server, OLD, details(OLD, TENANT)).await;
    mount_create(
        &server,
        ResponseTemplate::new(201).set_body_json(json!({"api_key": NEW_TOKEN})),
    )
    .await;
    mount_get(&server, NEW, sensorbucket_error(404, "API key not found")).await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ingest-gateway"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Confirm { .. }), "{err:?}");
    assert!(err.error().is_not_found());
    let created = err.created().unwrap();
    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_TOKEN);
    assert!(!log(&server).await.iter().any(|r| r.starts_with("DELETE")));
    assert_hidden(&format!("{err:?} {err}"), NEW_TOKEN);
}
