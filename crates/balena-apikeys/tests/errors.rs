//! balena's error bodies come in four shapes: empty, a JSON string, plain text
//! and `{"error": ...}`. Every one becomes `Error::Api` with the status and the message.

use std::time::Duration;

use apikeys_common::testing::{assert_hidden, mock_server};
use balena_apikeys::{ApiKeyUpdate, Client, Error};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6NDJ9.tokenThatMustNotLeak";

fn client(server: &MockServer) -> Client {
    Client::builder(server.uri()).jwt(TOKEN).build().unwrap()
}

async fn answer(server: &MockServer, verb: &str, at: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn an_empty_401_is_unauthorized_without_a_message() {
    let server = mock_server().await;
    answer(
        &server,
        "DELETE",
        "/v7/api_key(7)",
        ResponseTemplate::new(401),
    )
    .await;

    let err = client(&server).api_key().revoke(7).await.unwrap_err();

    assert!(err.is_unauthorized(), "{err:?}");
    let api = err.api().unwrap();
    assert_eq!(api.status.as_u16(), 401);
    assert_eq!((api.code.as_deref(), api.message.as_deref()), (None, None));
}

#[tokio::test]
async fn a_json_string_body_is_the_message() {
    let server = mock_server().await;
    answer(
        &server,
        "PATCH",
        "/v7/api_key(7)",
        ResponseTemplate::new(400).set_body_raw(r#""No fields to update""#, "application/json"),
    )
    .await;

    let err = client(&server)
        .api_key()
        .update(7, ApiKeyUpdate::new().name("x"))
        .await
        .unwrap_err();

    let api = err.api().unwrap();
    assert_eq!(api.status.as_u16(), 400);
    assert_eq!(api.message.as_deref(), Some("No fields to update"));
    assert_eq!(
        err.to_string(),
        "the server answered 400 Bad Request: No fields to update"
    );
}

#[tokio::test]
async fn a_plain_text_body_is_the_message() {
    let server = mock_server().await;
    answer(
        &server,
        "GET",
        "/v7/device(12)",
        ResponseTemplate::new(400).set_body_raw("Device id must be a number", "text/plain"),
    )
    .await;

    let err = client(&server)
        .api_key()
        .get_device_api_keys_by_device(12)
        .send()
        .await
        .unwrap_err();

    let api = err.api().unwrap();
    assert_eq!(api.status.as_u16(), 400);
    assert_eq!(api.message.as_deref(), Some("Device id must be a number"));
}

#[tokio::test]
async fn an_error_object_body_gives_its_error_string() {
    let server = mock_server().await;
    answer(
        &server,
        "POST",
        "/api-key/user/full",
        ResponseTemplate::new(401)
            .set_body_json(json!({"error": "Fresh authentication token required"})),
    )
    .await;

    let err = client(&server)
        .api_key()
        .create("ci", None, None)
        .await
        .unwrap_err();

    assert!(err.is_unauthorized(), "{err:?}");
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some("Fresh authentication token required")
    );
}

#[tokio::test]
async fn a_body_in_no_known_shape_keeps_its_text() {
    let server = mock_server().await;
    answer(
        &server,
        "GET",
        "/v7/api_key",
        ResponseTemplate::new(500).set_body_json(json!({"status": "down"})),
    )
    .await;

    let err = client(&server)
        .api_key()
        .get_all()
        .send()
        .await
        .unwrap_err();

    let api = err.api().unwrap();
    assert_eq!(api.status.as_u16(), 500);
    assert_eq!(api.message.as_deref(), Some(r#"{"status":"down"}"#));
}

#[tokio::test]
async fn a_malformed_url_400_from_a_lookup_keeps_the_servers_message() {
    let server = mock_server().await;
    answer(
        &server,
        "GET",
        "/actor/v1/whoami",
        ResponseTemplate::new(400)
            .set_body_raw(r#""Malformed url: '/actor/v1/whoami'""#, "application/json"),
    )
    .await;

    let err = client(&server)
        .api_key()
        .get_all_named_user_api_keys()
        .send()
        .await
        .unwrap_err();

    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some("Malformed url: '/actor/v1/whoami'")
    );
}

#[tokio::test]
async fn rate_limiting_is_typed_with_retry_after() {
    let server = mock_server().await;
    // POST is not idempotent, so the 429 comes straight back instead of being retried.
    answer(
        &server,
        "POST",
        "/api-key/user/full",
        ResponseTemplate::new(429).insert_header("retry-after", "30"),
    )
    .await;

    let err = client(&server)
        .api_key()
        .create("ci", None, None)
        .await
        .unwrap_err();

    assert!(err.is_rate_limited(), "{err:?}");
    assert_eq!(
        err.api().unwrap().retry_after,
        Some(Duration::from_secs(30))
    );
}

#[tokio::test]
async fn a_token_echoed_in_an_error_body_is_masked() {
    let server = mock_server().await;
    answer(
        &server,
        "DELETE",
        "/v7/api_key(7)",
        ResponseTemplate::new(401)
            .set_body_raw(format!("\"Invalid token {TOKEN}\""), "application/json"),
    )
    .await;

    let err = client(&server).api_key().revoke(7).await.unwrap_err();

    assert!(err.is_unauthorized());
    assert_hidden(&format!("{err:?}"), TOKEN);
    assert_hidden(&err.to_string(), TOKEN);
    assert!(matches!(err, Error::Api(_)));
}
