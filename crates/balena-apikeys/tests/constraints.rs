//! The fragment's bounds on what a request sends, checked before it leaves: a value past a
//! bound is refused with `Error::InvalidRequest` naming the field, the server receives
//! nothing, and the boundary value is sent.

use apikeys_common::testing::{assert_refused, mock_server};
use balena_apikeys::{ApiKeyUpdate, Client, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: i64 = 4870231;

fn client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .jwt("eyJhbGciOiJIUzI1NiJ9.eyJpZCI6NDJ9.callerSessionTokenSignature")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn create_refuses_a_name_over_50_or_a_description_over_150_and_sends_both_limits() {
    let server = mock_server().await;
    let keys = client(&server);
    let error = keys
        .api_key()
        .create(&"n".repeat(51), None, None)
        .await
        .unwrap_err();
    assert_refused(&error, "the key's name is longer than 50 characters");
    let error = keys
        .api_key()
        .create("ci", None, Some(&"d".repeat(151)))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "the key's description is longer than 150 characters",
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("POST"))
        .and(path("/api-key/user/full"))
        .and(body_json(json!({
            "name": "é".repeat(50), "expiryDate": null, "description": "d".repeat(150)
        })))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!("Kq3XbN7v2RmT9cLpW4yHs8eJ1aFz6UdG")),
        )
        .expect(1)
        .mount(&server)
        .await;
    keys.api_key()
        .create(&"é".repeat(50), None, Some(&"d".repeat(150)))
        .await
        .unwrap();
}

#[tokio::test]
async fn update_refuses_a_name_over_50_or_a_description_over_150_and_sends_both_limits() {
    // `ApiKeyUpdate` is hand-written: only the generated check on the wire holds these.
    let server = mock_server().await;
    let keys = client(&server);
    let error = keys
        .api_key()
        .update(KEY, ApiKeyUpdate::new().name("n".repeat(51)))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "update_api_key: `name` must be at most 50 characters long, got 51",
    );
    let error = keys
        .api_key()
        .update(KEY, ApiKeyUpdate::new().description("d".repeat(151)))
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "update_api_key: `description` must be at most 150 characters long, got 151",
    );
    // Through the generated builder, without the helper's own checks.
    let error = keys
        .update_api_key()
        .id(KEY)
        .body(ApiKeyUpdate::new().name(""))
        .send()
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "update_api_key: `name` must be at least 1 character long, got 0",
    );
    let error = keys
        .update_api_key()
        .id(KEY)
        .body(ApiKeyUpdate::new())
        .send()
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "update_api_key: the request body must have at least 1 property, got 0",
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("PATCH"))
        .and(path(format!("/v7/api_key({KEY})")))
        .and(body_json(
            json!({"name": "n".repeat(50), "description": "d".repeat(150)}),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let changes = ApiKeyUpdate::new()
        .name("n".repeat(50))
        .description("d".repeat(150));
    keys.api_key().update(KEY, changes).await.unwrap();
}

#[tokio::test]
async fn a_negative_top_or_skip_is_refused_unsent_and_0_is_sent() {
    let server = mock_server().await;
    let client = client(&server);
    let error = client.get_api_keys().top(-1).send().await.unwrap_err();
    assert_refused(&error, "get_api_keys: `$top` must be at least 0, got -1");
    let error = client.get_api_keys().skip(-5).send().await.unwrap_err();
    assert_refused(&error, "get_api_keys: `$skip` must be at least 0, got -5");
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("GET"))
        .and(path("/v7/api_key"))
        .and(|request: &Request| request.url.query()
                == Some("$select=id,created_at,name,description,expiry_date,is_of__actor&$top=0&$skip=0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"d": []})))
        .expect(1)
        .mount(&server)
        .await;
    let page = client.get_api_keys().top(0).skip(0).send().await.unwrap();
    assert!(page.d.is_empty());
}
