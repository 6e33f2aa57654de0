//! `KeyScope`, balena's `KeyLifecycle`, against a mock balena API: each method's exact
//! requests (query strings byte for byte), and rotations that succeed or fail part-way.

use apikeys_common::testing::{assert_hidden, mock_server};
use apikeys_common::{KeyInfo, KeyLifecycle, KeyUpdate, NewKey, RotationError};
use balena_apikeys::{Client, Error, KeyScope, RetryPolicy};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6NDJ9.callerSessionTokenSignature";
const NEW_SECRET: &str = "canaryBalena7f3a9c1eDoNotPrint";
const OLD: i64 = 4870231;
const NEW: i64 = 4870299;
/// The filter every named-user listing starts with, actor 1111 being the caller.
const MINE: &str = "is_of__actor%20eq%201111%20and%20name%20ne%20null";
/// What every listing selects: the fields the model reads, never the secret `key` column
/// that openBalena sends when no `$select` is given.
const MODEL_SELECT: &str = "$select=id,created_at,name,description,expiry_date,is_of__actor";

fn keys(server: &MockServer) -> KeyScope {
    let client = Client::builder(server.uri())
        .jwt(TOKEN)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    KeyScope::new(client)
}

fn authenticated(mock: MockBuilder) -> MockBuilder {
    mock.and(header("authorization", format!("Bearer {TOKEN}").as_str()))
}

fn exact_query(expected: impl Into<String>) -> impl Match + 'static {
    let expected = expected.into();
    move |request: &Request| request.url.query() == Some(expected.as_str())
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn d(rows: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "d": rows }))
}

fn row(id: i64, name: &str) -> Value {
    json!({
        "id": id,
        "created_at": "2025-03-14T10:22:31.418Z",
        "name": name,
        "description": "Key used by the release pipeline",
        "expiry_date": "2026-12-31T23:59:59.000Z",
        "is_of__actor": {"__id": 1111}
    })
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

async fn mount_whoami(server: &MockServer, times: u64) {
    authenticated(Mock::given(method("GET")).and(path("/actor/v1/whoami")))
        .respond_with(ResponseTemplate::new(200).set_body_json(examples::actor_whoami()))
        .expect(times)
        .mount(server)
        .await;
}

/// A create of `ci-deploy` with this expiry and a one-off marker as its description.
fn create_body(expiry: Value) -> impl Match + 'static {
    move |request: &Request| {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return false;
        };
        let marker = body["description"].as_str().unwrap_or_default();
        body.as_object().map(|o| o.len()) == Some(3)
            && body["name"] == "ci-deploy"
            && body["expiryDate"] == expiry
            && marker.starts_with("apikeys-create-")
    }
}

async fn mount_create(server: &MockServer, response: ResponseTemplate) {
    authenticated(Mock::given(method("POST")).and(path("/api-key/user/full")))
        .and(create_body(Value::Null))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

/// The marker the create sent, from the request log.
async fn marker(server: &MockServer) -> String {
    let requests = server.received_requests().await.unwrap_or_default();
    let create = requests
        .iter()
        .find(|r| r.url.path() == "/api-key/user/full")
        .unwrap();
    let body: Value = serde_json::from_slice(&create.body).unwrap();
    body["description"].as_str().unwrap().to_string()
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!(NEW_SECRET))
}

fn marked_query(marker: &str) -> String {
    format!(
        "$orderby=name%20asc&{MODEL_SELECT}&$top=1\
         &$filter={MINE}%20and%20description%20eq%20%27{marker}%27"
    )
}

/// The look-up of the key by the create's marker: no other key can answer it.
async fn mount_marked(server: &MockServer, rows: Value) {
    let prefix = format!(
        "$orderby=name%20asc&{MODEL_SELECT}&$top=1\
         &$filter={MINE}%20and%20description%20eq%20%27apikeys-create-"
    );
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(move |request: &Request| {
            request
                .url
                .query()
                .is_some_and(|q| q.starts_with(&prefix) && q.ends_with("%27"))
        })
        .respond_with(d(rows))
        .expect(1)
        .mount(server)
        .await;
}

/// The marker cleared from the new key.
async fn mount_unmark(server: &MockServer, id: i64, response: ResponseTemplate) {
    authenticated(Mock::given(method("PATCH")).and(path(format!("/v7/api_key({id})"))))
        .and(body_json(json!({"description": null})))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

fn by_id_query(id: i64) -> String {
    format!("$orderby=name%20asc&{MODEL_SELECT}&$top=1&$filter={MINE}%20and%20id%20eq%20{id}")
}

async fn mount_by_id(server: &MockServer, id: i64, rows: Value) {
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(by_id_query(id)))
        .respond_with(d(rows))
        .expect(1)
        .mount(server)
        .await;
}

/// The old key, found by the rotation's check and again by the revoke (balena answers a
/// DELETE of an unknown id with success, so revoke looks first).
async fn mount_old_twice(server: &MockServer) {
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(by_id_query(OLD)))
        .respond_with(d(json!([row(OLD, "old")])))
        .expect(2)
        .mount(server)
        .await;
}

async fn mount_revoke(server: &MockServer, id: i64, response: ResponseTemplate) {
    authenticated(Mock::given(method("DELETE")).and(path(format!("/v7/api_key({id})"))))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn create_posts_the_name_and_expiry_then_finds_the_key_by_its_marker() {
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api-key/user/full")))
        .and(create_body(json!("2026-12-31T23:59:59Z")))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    mount_whoami(&server, 1).await;
    mount_marked(&server, json!([row(NEW, "ci-deploy")])).await;
    mount_unmark(&server, NEW, ResponseTemplate::new(200)).await;

    let new = NewKey::named("ci-deploy").expires_at(Some(at("2026-12-31T23:59:59Z")));
    let created = keys(&server).create(&new).await.unwrap();

    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert_eq!(
        created.key,
        KeyInfo::new(NEW.to_string())
            .name("ci-deploy")
            .created_at(at("2025-03-14T10:22:31.418Z"))
            .expires_at(at("2026-12-31T23:59:59Z"))
    );
    let marker = marker(&server).await;
    assert_eq!(
        log(&server).await,
        [
            "POST /api-key/user/full".to_string(),
            "GET /actor/v1/whoami".to_string(),
            format!("GET /v7/api_key?{}", marked_query(&marker)),
            format!("PATCH /v7/api_key({NEW})"),
        ]
    );
    assert_hidden(&format!("{created:?}"), NEW_SECRET);
}

#[tokio::test]
async fn two_creates_send_different_markers() {
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api-key/user/full")))
        .respond_with(ResponseTemplate::new(503))
        .expect(2)
        .mount(&server)
        .await;
    let keys = keys(&server);
    let new = NewKey::named("ci-deploy");
    let (a, b) = futures::join!(keys.create(&new), keys.create(&new));
    assert!(a.is_err() && b.is_err());
    let requests = server.received_requests().await.unwrap();
    let markers: Vec<Value> = requests
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["description"].clone())
        .collect();
    assert_ne!(markers[0], markers[1]);
}

#[tokio::test]
async fn a_failure_after_the_create_returns_the_new_key_id_and_secret() {
    let server = mock_server().await;
    mount_create(&server, created()).await;
    mount_whoami(&server, 1).await;
    mount_marked(&server, json!([row(NEW, "ci-deploy")])).await;
    mount_unmark(&server, NEW, ResponseTemplate::new(503)).await;

    let err = keys(&server)
        .create(&NewKey::named("ci-deploy"))
        .await
        .unwrap_err();

    let key = err.created_key().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(key.id.as_deref(), Some(NEW.to_string().as_str()));
    assert_eq!(key.secret.as_ref().unwrap().expose_secret(), NEW_SECRET);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_hidden(&format!("{err:?} {err}"), NEW_SECRET);
}

#[tokio::test]
async fn a_created_key_that_is_not_listed_is_not_found_and_the_error_keeps_its_secret_hidden() {
    let server = mock_server().await;
    mount_create(&server, created()).await;
    mount_whoami(&server, 1).await;
    mount_marked(&server, json!([])).await;

    let err = keys(&server)
        .create(&NewKey::named("ci-deploy"))
        .await
        .unwrap_err();

    assert!(err.is_not_found(), "{err:?}");
    // What was not found is the cause's message (KeyCreated does not repeat it).
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert!(cause.is_some_and(|c| c.contains("ci-deploy")), "{err}");
    let key = err.created_key().unwrap();
    assert_eq!(key.secret.as_ref().unwrap().expose_secret(), NEW_SECRET);
    assert_hidden(&format!("{err:?} {err}"), NEW_SECRET);
}

#[tokio::test]
async fn list_streams_the_caller_s_named_keys_100_at_a_time() {
    let server = mock_server().await;
    mount_whoami(&server, 1).await;
    let first: Vec<Value> = (1..=100).map(|id| row(id, &format!("key-{id}"))).collect();
    for (skip, rows) in [("0", json!(first)), ("100", json!([row(OLD, "ci-deploy")]))] {
        authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
            .and(exact_query(format!(
                "$orderby=name%20asc,id%20asc&{MODEL_SELECT}&$top=100&$skip={skip}&$filter={MINE}"
            )))
            .respond_with(d(rows))
            .expect(1)
            .mount(&server)
            .await;
    }

    let listed: Vec<KeyInfo> = keys(&server).list().try_collect().await.unwrap();

    assert_eq!(listed.len(), 101);
    assert_eq!(listed[0].id, "1");
    assert_eq!(
        listed[100],
        KeyInfo::new(OLD.to_string())
            .name("ci-deploy")
            .created_at(at("2025-03-14T10:22:31.418Z"))
            .expires_at(at("2026-12-31T23:59:59Z"))
    );
}

#[tokio::test]
async fn get_asks_for_the_one_key_and_a_missing_one_is_not_found() {
    let server = mock_server().await;
    // The actor is asked once per client, as both official SDKs ask it.
    mount_whoami(&server, 1).await;
    mount_by_id(&server, OLD, json!([row(OLD, "ci-deploy")])).await;
    mount_by_id(&server, NEW, json!([])).await;

    let keys = keys(&server);
    assert_eq!(
        keys.get(&OLD.to_string()).await.unwrap().id,
        OLD.to_string()
    );
    let err = keys.get(&NEW.to_string()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn update_name_patches_it_then_reads_the_key_back() {
    let server = mock_server().await;
    authenticated(Mock::given(method("PATCH")).and(path(format!("/v7/api_key({OLD})"))))
        .and(body_json(json!({"name": "ci-deploy-v2"})))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    mount_whoami(&server, 1).await;
    mount_by_id(&server, OLD, json!([row(OLD, "ci-deploy-v2")])).await;

    let update = KeyUpdate::new().name("ci-deploy-v2");
    let key = keys(&server)
        .update(&OLD.to_string(), &update)
        .await
        .unwrap();

    assert_eq!(key.name.as_deref(), Some("ci-deploy-v2"));
    assert_eq!(
        log(&server).await,
        [
            format!("PATCH /v7/api_key({OLD})"),
            "GET /actor/v1/whoami".to_string(),
            format!("GET /v7/api_key?{}", by_id_query(OLD)),
        ]
    );
}

#[tokio::test]
async fn enabled_and_empty_names_are_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    for name in [None, Some("renamed".to_string())] {
        let update = {
            let mut value = KeyUpdate::new().enabled(true);
            value.name = name;
            value
        };
        let err = keys.update(&OLD.to_string(), &update).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(why) if why.contains("enabled")),
            "{err:?}"
        );
    }
    let empty = KeyUpdate::new().name(String::new());
    let err = keys.update(&OLD.to_string(), &empty).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn an_empty_update_only_reads_the_key() {
    let server = mock_server().await;
    mount_whoami(&server, 1).await;
    mount_by_id(&server, OLD, json!([row(OLD, "ci-deploy")])).await;

    let key = keys(&server)
        .update(&OLD.to_string(), &KeyUpdate::default())
        .await
        .unwrap();

    assert_eq!(key.name.as_deref(), Some("ci-deploy"));
}

#[tokio::test]
async fn ids_that_are_not_numbers_are_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let keys = keys(&server);
    for id in ["abc", "1)", "../1", "", "1 or 1 eq 1"] {
        for err in [
            keys.revoke(id).await.unwrap_err(),
            keys.get(id).await.unwrap_err(),
            keys.update(id, &KeyUpdate::default()).await.unwrap_err(),
        ] {
            assert!(
                matches!(&err, Error::InvalidRequest(why) if why.contains("balena ids are numbers")),
                "{id:?}: {err:?}"
            );
        }
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn revoke_finds_then_deletes_the_key() {
    let server = mock_server().await;
    mount_whoami(&server, 1).await;
    mount_by_id(&server, OLD, json!([row(OLD, "ci-deploy")])).await;
    mount_revoke(&server, OLD, ResponseTemplate::new(200)).await;

    keys(&server).revoke(&OLD.to_string()).await.unwrap();
}

#[tokio::test]
async fn revoke_of_an_unknown_id_is_not_found_and_deletes_nothing() {
    // balena answers 200 to a DELETE of an id it does not have.
    let server = mock_server().await;
    mount_whoami(&server, 1).await;
    mount_by_id(&server, OLD, json!([])).await;

    let err = keys(&server).revoke(&OLD.to_string()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(!log(&server).await.iter().any(|r| r.starts_with("DELETE")));
}

#[tokio::test]
async fn rotate_creates_confirms_then_revokes_the_old_key() {
    let server = mock_server().await;
    mount_old_twice(&server).await;
    mount_create(&server, created()).await;
    mount_whoami(&server, 1).await;
    mount_marked(&server, json!([row(NEW, "ci-deploy")])).await;
    mount_unmark(&server, NEW, ResponseTemplate::new(200)).await;
    mount_by_id(&server, NEW, json!([row(NEW, "ci-deploy")])).await;
    mount_revoke(&server, OLD, ResponseTemplate::new(200)).await;

    let created = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ci-deploy"))
        .await
        .unwrap();

    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    let marker = marker(&server).await;
    assert_eq!(
        log(&server).await,
        [
            "GET /actor/v1/whoami".to_string(),
            format!("GET /v7/api_key?{}", by_id_query(OLD)),
            "POST /api-key/user/full".to_string(),
            format!("GET /v7/api_key?{}", marked_query(&marker)),
            format!("PATCH /v7/api_key({NEW})"),
            format!("GET /v7/api_key?{}", by_id_query(NEW)),
            format!("GET /v7/api_key?{}", by_id_query(OLD)),
            format!("DELETE /v7/api_key({OLD})"),
        ]
    );
}

#[tokio::test]
async fn a_rotation_whose_revoke_fails_hands_back_the_new_key() {
    let server = mock_server().await;
    mount_old_twice(&server).await;
    mount_create(&server, created()).await;
    mount_whoami(&server, 1).await;
    mount_marked(&server, json!([row(NEW, "ci-deploy")])).await;
    mount_unmark(&server, NEW, ResponseTemplate::new(200)).await;
    mount_by_id(&server, NEW, json!([row(NEW, "ci-deploy")])).await;
    mount_revoke(
        &server,
        OLD,
        ResponseTemplate::new(401).set_body_json(json!("Fresh authentication token required")),
    )
    .await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ci-deploy"))
        .await
        .unwrap_err();

    let RotationError::Revoke { created, error } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(created.key.id, NEW.to_string());
    assert_eq!(created.secret.expose_secret(), NEW_SECRET);
    assert!(error.is_unauthorized(), "{error:?}");
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
    mount_whoami(&server, 1).await;
    mount_by_id(&server, OLD, json!([row(OLD, "old")])).await;
    mount_create(
        &server,
        ResponseTemplate::new(401).set_body_json(json!("Fresh authentication token required")),
    )
    .await;

    let err = keys(&server)
        .rotate(&OLD.to_string(), &NewKey::named("ci-deploy"))
        .await
        .unwrap_err();

    assert!(matches!(err, RotationError::Create(_)), "{err:?}");
    assert_eq!(
        log(&server).await,
        [
            "GET /actor/v1/whoami".to_string(),
            format!("GET /v7/api_key?{}", by_id_query(OLD)),
            "POST /api-key/user/full".to_string(),
        ]
    );
}
