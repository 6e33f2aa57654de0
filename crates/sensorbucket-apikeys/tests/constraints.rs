//! The fragment's bounds on what a request sends, checked before it leaves: a value past a
//! bound is refused with `Error::InvalidRequest` naming the wire field, the server receives
//! nothing, and the boundary value is sent.

use apikeys_common::testing::{assert_refused, mock_server};
use sensorbucket_apikeys::types::{CreateApiKeyRequest, Permission};
use sensorbucket_apikeys::{Client, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> Client {
    Client::builder(format!("{}/api", server.uri()))
        .api_key("MjU5MzE1NDgwMjE2NTMwMTEyODo2MjY2MDdkMGViY2Q5MGRhMTRkZWE4NGY4MjEzYjRiNw")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

fn create(
    name: &str,
    permissions: Vec<Permission>,
) -> sensorbucket_apikeys::types::builder::CreateApiKeyRequest {
    CreateApiKeyRequest::builder()
        .name(name)
        .tenant_id(19)
        .permissions(permissions)
}

#[tokio::test]
async fn a_key_without_permissions_is_refused_unsent_and_one_permission_is_sent() {
    let server = mock_server().await;
    let client = client(&server);
    let error = client
        .create_api_key()
        .body(create("Dashboard", vec![]))
        .send()
        .await
        .unwrap_err();
    assert_refused(
        &error,
        "create_api_key: `permissions` must have at least 1 item, got 0",
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("POST"))
        .and(path("/api/api-keys"))
        .and(body_json(json!({
            "name": "Dashboard", "tenant_id": 19, "permissions": ["READ_DEVICES"]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"api_key": "dG9rZW4"})))
        .expect(1)
        .mount(&server)
        .await;
    client
        .create_api_key()
        .body(create("Dashboard", vec![Permission::ReadDevices]))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_empty_name_is_refused_unsent_and_one_character_is_sent() {
    let server = mock_server().await;
    let client = client(&server);
    let error = client
        .create_api_key()
        .body(create("", vec![Permission::ReadDevices]))
        .send()
        .await
        .unwrap_err();
    // progenitor's own check, on its `name` newtype, comes first.
    assert_refused(
        &error,
        "conversion to `CreateApiKeyRequest` for body failed: \
         error converting supplied value for name: shorter than 1 characters",
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("POST"))
        .and(path("/api/api-keys"))
        .and(body_json(json!({
            "name": "d", "tenant_id": 19, "permissions": ["READ_DEVICES"]
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"api_key": "dG9rZW4"})))
        .expect(1)
        .mount(&server)
        .await;
    client
        .create_api_key()
        .body(create("d", vec![Permission::ReadDevices]))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_negative_page_size_is_refused_unsent_and_0_is_sent() {
    let server = mock_server().await;
    let client = client(&server);
    for limit in [-1i64, i64::MIN] {
        let error = client
            .list_api_keys()
            .limit(limit)
            .send()
            .await
            .unwrap_err();
        assert_refused(
            &error,
            &format!("list_api_keys: `limit` must be at least 0, got {limit}"),
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("GET"))
        .and(path("/api/api-keys"))
        .and(query_param("limit", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "links": {"previous": "", "next": ""}, "page_size": 0, "total_count": 0, "data": []
        })))
        .expect(1)
        .mount(&server)
        .await;
    let page = client.list_api_keys().limit(0).send().await.unwrap();
    assert!(page.data.is_empty());
}
