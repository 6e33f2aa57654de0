//! A misbehaving network: retries of idempotent operations, never of creates; Retry-After;
//! broken connections; stalls; oversized bodies.

use std::time::{Duration, Instant};

use apikeys_common::testing::{Fault, FaultServer, mock_server};
use serde_json::json;
use thingsboard_apikeys::types::SaveApiKeyRequest;
use thingsboard_apikeys::{Client, Error, RetryPolicy};
use uuid::{Uuid, uuid};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
const KEY: Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

/// Fast backoff so the tests stay quick; the policy's shape is what is under test.
fn client(uri: String) -> Client {
    let retry = RetryPolicy::default()
        .base_delay(Duration::from_millis(10))
        .max_attempts(3);
    Client::builder(uri)
        .api_key("tb_k")
        .retry(retry)
        .build()
        .unwrap()
}

fn create_request() -> thingsboard_apikeys::types::builder::SaveApiKeyRequest {
    SaveApiKeyRequest::builder()
        .user_id(USER)
        .description("CI deploy key")
        .enabled(true)
}

async fn unavailable_twice_then(
    server: &MockServer,
    verb: &str,
    route: String,
    then: ResponseTemplate,
) {
    Mock::given(method(verb))
        .and(path(route.as_str()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(server)
        .await;
    Mock::given(method(verb))
        .and(path(route.as_str()))
        .respond_with(then)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn an_idempotent_operation_succeeds_after_two_503s() {
    let server = mock_server().await;
    unavailable_twice_then(
        &server,
        "DELETE",
        format!("/api/apiKey/{KEY}"),
        ResponseTemplate::new(200),
    )
    .await;

    client(server.uri())
        .delete_api_key()
        .id(KEY)
        .send()
        .await
        .unwrap();

    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_retried_request_is_the_same_request() {
    let server = mock_server().await;
    let description = "rotated";
    unavailable_twice_then(
        &server,
        "PUT",
        format!("/api/apiKey/{KEY}/description"),
        ResponseTemplate::new(200).set_body_json(json!({
            "id": {"entityType": "API_KEY", "id": KEY}, "createdTime": 1, "userId": {"entityType": "USER", "id": USER},
            "expirationTime": 0, "description": description, "enabled": true, "expired": false
        })),
    )
    .await;

    client(server.uri())
        .update_api_key_description()
        .id(KEY)
        .body(description)
        .send()
        .await
        .unwrap();

    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert_eq!(request.body, description.as_bytes());
        assert_eq!(request.headers["x-authorization"], "ApiKey tb_k");
    }
}

#[tokio::test]
async fn a_create_is_sent_once_even_when_the_server_is_unavailable() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/apiKey"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(server.uri())
        .save_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn a_create_is_sent_once_when_the_connection_breaks() {
    for fault in [Fault::ResetMidBody, Fault::CloseBeforeResponse] {
        let server = FaultServer::start(fault).await;

        let err = client(server.uri())
            .save_api_key()
            .body(create_request())
            .send()
            .await
            .unwrap_err();

        assert!(matches!(err, Error::Transport(_)), "{fault:?}: {err:?}");
        assert_eq!(server.requests(), 1, "{fault:?}");
    }
}

#[tokio::test]
async fn a_reset_mid_body_is_a_transport_error_for_reads_too() {
    let server = FaultServer::start(Fault::ResetMidBody).await;

    let err = client(server.uri())
        .enable_api_key()
        .id(KEY)
        .enabled_value(true)
        .send()
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    client(server.uri())
        .delete_api_key()
        .id(KEY)
        .send()
        .await
        .unwrap();

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_is_returned_at_once() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let err = client(server.uri())
        .delete_api_key()
        .id(KEY)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_rate_limited());
    assert_eq!(
        err.api().unwrap().retry_after,
        Some(Duration::from_secs(3600))
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn attempts_stop_at_the_policy_maximum() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&server)
        .await;

    let err = client(server.uri())
        .delete_api_key()
        .id(KEY)
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
}

#[tokio::test]
async fn the_budget_counts_the_attempts_not_only_the_waits() {
    // Each attempt takes 800 ms: the second starts within the 1.2 s budget, a third would not.
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(800)))
        .expect(2)
        .mount(&server)
        .await;
    let retry = RetryPolicy::default()
        .base_delay(Duration::from_millis(1))
        .max_attempts(5)
        .budget(Duration::from_millis(1200));
    let client = Client::builder(server.uri())
        .api_key("tb_k")
        .retry(retry)
        .build()
        .unwrap();

    let err = client.delete_api_key().id(KEY).send().await.unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn errors_that_will_not_change_are_not_retried() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(server.uri())
        .delete_api_key()
        .id(KEY)
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .api_key("tb_k")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();

    let err = client.delete_api_key().id(KEY).send().await.unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn a_stall_past_the_timeout_is_a_timeout_error() {
    let server = mock_server().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .api_key("tb_k")
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();

    let err = client
        .enable_api_key()
        .id(KEY)
        .enabled_value(true)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn an_oversized_body_is_refused_not_buffered() {
    let server = mock_server().await;
    let page = json!({"data": [], "totalPages": 0, "totalElements": 0, "hasNext": false, "padding": "x".repeat(4096)});
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .api_key("tb_k")
        .max_response_bytes(1024)
        .build()
        .unwrap();

    let err = client
        .get_user_api_keys()
        .user_id(USER.to_string())
        .page(0)
        .page_size(1)
        .send()
        .await
        .unwrap_err();

    assert!(
        matches!(err, Error::BodyTooLarge { limit: 1024 }),
        "{err:?}"
    );
}
