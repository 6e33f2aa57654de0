//! The fragment's bounds on what a request sends, checked before it leaves: a value past a
//! bound is refused with `Error::InvalidRequest` naming the wire field, the server receives
//! nothing, and the boundary value is sent.

use apikeys_common::testing::{assert_refused, mock_server};
use automox_apikeys::{Client, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ORG: i64 = 1234;
const USER: i64 = 98765;

fn client(server: &MockServer) -> Client {
    Client::builder(format!("{}/api", server.uri()))
        .api_key("21636369-8b52-4b4a-97b7-50923ceb3ffd")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_limit_past_500_is_refused_unsent_and_500_is_sent() {
    let server = mock_server().await;
    let client = client(&server);
    for limit in [501u64, u64::MAX] {
        let error = client
            .org(ORG)
            .get_user_api_keys()
            .user_id(USER)
            .limit(limit)
            .send()
            .await
            .unwrap_err();
        assert_refused(
            &error,
            &format!("get_user_api_keys: `limit` must be at most 500, got {limit}"),
        );
        let error = client
            .get_organization_api_keys()
            .id(ORG)
            .limit(limit)
            .send()
            .await
            .unwrap_err();
        assert_refused(
            &error,
            &format!("get_organization_api_keys: `limit` must be at most 500, got {limit}"),
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    for (route, limit) in [
        (format!("/api/users/{USER}/api_keys"), "500"),
        (format!("/api/orgs/{ORG}/api_keys"), "500"),
        (format!("/api/users/{USER}/api_keys"), "1"),
    ] {
        Mock::given(method("GET"))
            .and(path(route))
            .and(query_param("limit", limit))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": []})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let user_keys = |limit: u64| {
        client
            .org(ORG)
            .get_user_api_keys()
            .user_id(USER)
            .limit(limit)
            .send()
    };
    user_keys(500).await.unwrap();
    user_keys(1).await.unwrap();
    client
        .get_organization_api_keys()
        .id(ORG)
        .limit(500u64)
        .send()
        .await
        .unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_limit_of_0_and_a_negative_page_are_refused_unsent() {
    let server = mock_server().await;
    let client = client(&server);
    let error = client
        .org(ORG)
        .get_user_api_keys()
        .user_id(USER)
        .limit(0u64)
        .send()
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "get_user_api_keys: `limit` must be at least 1 and at most 500 (`NonZeroU64`)",
    );
    let error = client
        .get_organization_api_keys()
        .id(ORG)
        .page(-1i64)
        .send()
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "get_organization_api_keys: `page` must be at least 0 (`u64`)",
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
