//! The fragment's bounds on what a request sends, checked before it leaves: a value past a
//! bound is refused with `Error::InvalidRequest` naming the wire field, the server receives
//! nothing, and the boundary value is sent.

use apikeys_common::testing::{assert_refused, mock_server};
use serde_json::json;
use thingsboard_apikeys::types::SaveApiKeyRequest;
use thingsboard_apikeys::{Client, RetryPolicy};
use uuid::{Uuid, uuid};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
const KEY: Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

fn client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .api_key("tb_callerKeyUsedForEveryRequestInTheseTests0123456789")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

fn empty_page() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"data": [], "totalPages": 0, "totalElements": 0, "hasNext": false}))
}

#[tokio::test]
async fn a_page_size_of_0_and_a_negative_page_are_refused_unsent_and_1_and_0_are_sent() {
    let server = mock_server().await;
    let client = client(&server);
    let list = |page_size: u32, page: i32| {
        client
            .get_user_api_keys()
            .user_id(USER.to_string())
            .page_size(page_size)
            .page(page)
            .send()
    };
    let error = list(0, 0).await.unwrap_err();
    assert_refused(
        &error,
        "get_user_api_keys: `pageSize` must be at least 1 (`NonZeroU32`)",
    );
    for page in [-1, i32::MIN] {
        let error = list(10, page).await.unwrap_err();
        assert_refused(
            &error,
            &format!("get_user_api_keys: `page` must be at least 0, got {page}"),
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("GET"))
        .and(path(format!("/api/apiKeys/{USER}")))
        .and(query_param("pageSize", "1"))
        .and(query_param("page", "0"))
        .respond_with(empty_page())
        .expect(1)
        .mount(&server)
        .await;
    assert!(list(1, 0).await.unwrap().data.is_empty());
}

// issue 25, point 4: a listing starts at the first page without `.page(0)`; a missing
// value names its setter; a bound is reported whatever else is missing.
#[tokio::test]
async fn a_listing_starts_at_the_first_page_and_every_problem_is_named_at_once() {
    let server = mock_server().await;
    let client = client(&server);
    let error = client
        .get_user_api_keys()
        .page_size(0)
        .send()
        .await
        .unwrap_err();
    let shown = error.to_string();
    for said in [
        "get_user_api_keys: `user_id` is required: call `.user_id(..)` first",
        "get_user_api_keys: `pageSize` must be at least 1",
    ] {
        assert!(shown.contains(said), "{shown}");
    }
    assert!(!shown.contains("page` is required"), "{shown}");
    let error = client
        .get_user_api_keys()
        .user_id(USER.to_string())
        .send()
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "get_user_api_keys: `page_size` is required: call `.page_size(..)` first",
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("GET"))
        .and(path(format!("/api/apiKeys/{USER}")))
        .and(query_param("pageSize", "5"))
        .and(query_param("page", "0"))
        .respond_with(empty_page())
        .expect(1)
        .mount(&server)
        .await;
    let page = client
        .get_user_api_keys()
        .user_id(USER.to_string())
        .page_size(5)
        .send()
        .await
        .unwrap();
    assert!(page.data.is_empty());
}

#[tokio::test]
async fn an_empty_description_is_refused_unsent_and_one_character_is_sent() {
    let server = mock_server().await;
    let client = client(&server);
    let save = |description: &str| {
        let body = SaveApiKeyRequest::builder()
            .user_id(USER)
            .description(description)
            .enabled(true);
        client.save_api_key().body(body).send()
    };
    let error = save("").await.unwrap_err();
    // progenitor's own check, on its `description` newtype, comes first.
    assert_refused(
        &error,
        "conversion to `SaveApiKeyRequest` for body failed: \
         error converting supplied value for description: shorter than 1 characters",
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("POST"))
        .and(path("/api/apiKey"))
        .and(body_json(json!({
            "userId": {"entityType": "USER", "id": USER}, "description": "d", "enabled": true
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": {"entityType": "API_KEY", "id": KEY}, "createdTime": 1763891234567_i64,
            "userId": {"entityType": "USER", "id": USER}, "expirationTime": 0,
            "description": "d", "enabled": true, "expired": false, "value": "tb_secret"
        })))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(save("d").await.unwrap().description, "d");
}
