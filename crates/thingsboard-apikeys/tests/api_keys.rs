//! The five API-key operations against a mock ThingsBoard, answering with the fragment's
//! examples (`thingsboard_apikeys::examples`), in the shapes of ThingsBoard's published spec
//! (`thingsboard/thingsboard-java-client`, `ce/spec/openapi.json`) and of its server's models.

use std::time::Duration;

mod common;

use apikeys_common::testing::{assert_api_error, assert_hidden, mock_server, pagination_end};
use common::examples;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use thingsboard_apikeys::types::{
    ApiKeyId, EntityType, GetUserApiKeysSortOrder, GetUserApiKeysSortProperty, SaveApiKeyRequest,
};
use thingsboard_apikeys::{Client, Error, RetryPolicy};
use uuid::{Uuid, uuid};
use wiremock::matchers::{
    body_json, body_string, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CALLER_KEY: &str = "tb_callerKeyUsedForEveryRequestInTheseTests0123456789";
/// The user and key of the fragment's examples.
const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
const KEY: Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

/// The secret of the fragment's `ApiKey` example, which `save_api_key` answers with.
fn new_secret() -> String {
    examples::api_key()["value"].as_str().unwrap().to_owned()
}

fn client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .api_key(CALLER_KEY)
        .build()
        .unwrap()
}

/// Every request carries the caller's key and the crate's user agent, and never
/// progenitor's `api-version` header.
fn authenticated(mock: wiremock::MockBuilder) -> wiremock::MockBuilder {
    mock.and(header(
        "x-authorization",
        format!("ApiKey {CALLER_KEY}").as_str(),
    ))
    .and(header(
        "user-agent",
        concat!("thingsboard-apikeys/", env!("CARGO_PKG_VERSION")),
    ))
    .and(|request: &Request| !request.headers.contains_key("api-version"))
}

/// For the operations without query parameters: nothing after the path.
fn no_query(request: &Request) -> bool {
    request.url.query().is_none()
}

/// The fragment's `ApiKeyInfo` example with another id, description and state.
fn key_info(id: &str, description: &str, enabled: bool) -> Value {
    let mut body = examples::api_key_info();
    assert_eq!(body["userId"]["id"], json!(USER));
    body["id"]["id"] = json!(id);
    body["description"] = json!(description);
    body["enabled"] = json!(enabled);
    body
}

/// The fragment's `ApiKey` example (key `KEY`) with the secret `value`.
fn created_key(value: &str) -> Value {
    let mut body = examples::api_key();
    assert_eq!(body["id"]["id"], json!(KEY));
    body["value"] = json!(value);
    body
}

fn create_request() -> thingsboard_apikeys::types::builder::SaveApiKeyRequest {
    SaveApiKeyRequest::builder()
        .user_id(USER)
        .description("CI deploy key")
        .enabled(true)
        .expiration_time(1798761600000_i64)
}

fn thingsboard_error(status: u16, code: i32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "status": status, "message": message, "errorCode": code, "timestamp": 1763891299000_i64
    }))
}

#[tokio::test]
async fn save_api_key_creates_a_key_and_returns_its_secret_once() {
    let secret = new_secret();
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api/apiKey")))
        .and(no_query)
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "userId": {"entityType": "USER", "id": USER},
            "description": "CI deploy key",
            "enabled": true,
            "expirationTime": 1798761600000_i64
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(created_key(&secret)))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .save_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap();

    assert_eq!(key.id.id, KEY);
    assert_eq!(key.id.entity_type, EntityType::ApiKey);
    assert_eq!(key.user_id.id, USER);
    assert_eq!(
        key.tenant_id.as_ref().map(|t| t.entity_type.clone()),
        Some(EntityType::Tenant)
    );
    assert_eq!(key.description, "CI deploy key");
    assert!(key.enabled && !key.expired);
    assert_eq!(key.created_time, 1763891234567);
    assert_eq!(key.expiration_time, 1798761600000);
    assert_eq!(
        key.value.as_ref().map(|v| v.expose_secret()),
        Some(secret.as_str())
    );
    // Every other field decodes to what the example sent.
    let mut sent = examples::api_key();
    let mut decoded = serde_json::to_value(&key).unwrap();
    for body in [&mut sent, &mut decoded] {
        body.as_object_mut().unwrap().remove("value");
    }
    assert_eq!(decoded, sent);
}

#[tokio::test]
async fn the_created_secret_never_shows_in_debug_or_serialized_values() {
    let secret = new_secret();
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created_key(&secret)))
        .mount(&server)
        .await;

    let response = client(&server)
        .save_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap();
    assert_hidden(&format!("{response:?}"), &secret);
    let key = response;
    assert_hidden(&format!("{key:?}"), &secret);
    assert_hidden(&format!("{key:#?}"), &secret);
    assert_hidden(&serde_json::to_string(&key).unwrap(), &secret);
    assert_hidden(&format!("{:?}", client(&server)), CALLER_KEY);
}

#[tokio::test]
async fn save_api_key_strips_an_api_key_prefix_some_servers_add() {
    let secret = new_secret();
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/apiKey"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(created_key(&format!("ApiKey {secret}"))),
        )
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .save_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap();

    assert_eq!(key.value.unwrap().expose_secret(), &secret);
}

#[tokio::test]
async fn save_api_key_with_an_id_updates_and_the_server_withholds_the_value() {
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api/apiKey")))
        .and(no_query)
        .and(body_json(json!({
            "id": {"entityType": "API_KEY", "id": KEY},
            "userId": {"entityType": "USER", "id": USER},
            "description": "CI deploy key",
            "enabled": false
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json({
            let mut body = key_info(&KEY.to_string(), "CI deploy key", false);
            body["value"] = Value::Null;
            body
        }))
        .expect(1)
        .mount(&server)
        .await;

    let update = SaveApiKeyRequest::builder()
        .id(ApiKeyId::from(KEY))
        .user_id(USER)
        .description("CI deploy key")
        .enabled(false);
    let key = client(&server)
        .save_api_key()
        .body(update)
        .send()
        .await
        .unwrap();

    assert!(key.value.is_none());
    assert!(!key.enabled);
}

#[tokio::test]
async fn save_api_key_refuses_to_send_without_enabled_or_with_an_empty_description() {
    // The server would create a disabled key without `enabled` (a primitive `boolean` in
    // `ApiKeyInfo.java`); the catch-all fails the test if anything is sent.
    let server = mock_server().await;
    let client = client(&server);

    let without_enabled = SaveApiKeyRequest::builder()
        .user_id(USER)
        .description("CI deploy key");
    let err = client
        .save_api_key()
        .body(without_enabled)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(why) if why.contains("enabled")),
        "{err}"
    );

    let empty = SaveApiKeyRequest::builder()
        .user_id(USER)
        .description("")
        .enabled(true);
    let err = client.save_api_key().body(empty).send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
}

#[tokio::test]
async fn enable_api_key_puts_the_flag_in_the_path_without_a_body() {
    let server = mock_server().await;
    authenticated(Mock::given(method("PUT")).and(path(format!("/api/apiKey/{KEY}/enabled/false"))))
        .and(no_query)
        .and(|request: &Request| request.body.is_empty())
        .respond_with(ResponseTemplate::new(200).set_body_json(key_info(
            &KEY.to_string(),
            "CI deploy key",
            false,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .enable_api_key()
        .id(KEY)
        .enabled_value(false)
        .send()
        .await
        .unwrap();

    assert_eq!(key.id.id, KEY);
    assert!(!key.enabled);
}

#[tokio::test]
async fn update_api_key_description_sends_raw_utf8_text() {
    // The server reads the body raw; a JSON string would keep its quotes.
    let description = "CI deploy key (rotated 2025-11) — Schlüssel";
    let server = mock_server().await;
    authenticated(Mock::given(method("PUT")).and(path(format!("/api/apiKey/{KEY}/description"))))
        .and(no_query)
        .and(header("content-type", "text/plain; charset=utf-8"))
        .and(body_string(description))
        .respond_with(ResponseTemplate::new(200).set_body_json(key_info(
            &KEY.to_string(),
            description,
            true,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .update_api_key_description()
        .id(KEY)
        .body(description)
        .send()
        .await
        .unwrap();

    assert_eq!(key.description, description);
}

#[tokio::test]
async fn delete_api_key_accepts_the_empty_200() {
    let server = mock_server().await;
    authenticated(Mock::given(method("DELETE")).and(path(format!("/api/apiKey/{KEY}"))))
        .and(no_query)
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let () = client(&server)
        .delete_api_key()
        .id(KEY)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn get_user_api_keys_sends_paging_and_sort_and_decodes_a_page() {
    let server = mock_server().await;
    let body = examples::page_data_api_key_info();
    authenticated(Mock::given(method("GET")).and(path(format!("/api/apiKeys/{USER}"))))
        .and(query_param("pageSize", "2"))
        .and(query_param("page", "0"))
        .and(query_param("sortProperty", "createdTime"))
        .and(query_param("sortOrder", "DESC"))
        .and(query_param_is_missing("textSearch"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .expect(1)
        .mount(&server)
        .await;

    let page = client(&server)
        .get_user_api_keys()
        .user_id(USER.to_string())
        .page_size(2)
        .page(0)
        .sort_property(GetUserApiKeysSortProperty::CreatedTime)
        .sort_order(GetUserApiKeysSortOrder::Desc)
        .send()
        .await
        .unwrap();

    assert_eq!(
        (
            i64::from(page.total_pages),
            page.total_elements,
            page.has_next
        ),
        (
            body["totalPages"].as_i64().unwrap(),
            body["totalElements"].as_i64().unwrap(),
            body["hasNext"].as_bool().unwrap()
        )
    );
    let sent = body["data"].as_array().unwrap();
    let descriptions: Vec<_> = page.data.iter().map(|k| k.description.as_str()).collect();
    let sent_descriptions: Vec<_> = sent
        .iter()
        .map(|k| k["description"].as_str().unwrap())
        .collect();
    assert_eq!(descriptions, sent_descriptions);
    // The example's second key never expires.
    assert_eq!(sent[1]["expirationTime"], 0);
    assert_eq!(page.data[1].expiration_time, 0);
    assert_eq!(json!(page.data[1].id.id), sent[1]["id"]["id"]);
}

#[tokio::test]
async fn stream_walks_three_pages_keeping_every_filter() {
    let server = mock_server().await;
    for (page, has_next) in [(0, true), (1, true), (2, false)] {
        let items: Vec<Value> = (0..2)
            .map(|i| {
                key_info(
                    &Uuid::from_u128(page * 2 + i).to_string(),
                    &format!("ci key {}", page * 2 + i),
                    true,
                )
            })
            .collect();
        authenticated(Mock::given(method("GET")).and(path(format!("/api/apiKeys/{USER}"))))
            .and(query_param("page", page.to_string().as_str()))
            .and(query_param("pageSize", "2"))
            .and(query_param("textSearch", "ci key"))
            .and(query_param("sortProperty", "description"))
            .and(query_param("sortOrder", "ASC"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": items, "totalPages": 3, "totalElements": 6, "hasNext": has_next
            })))
            .expect(1)
            .mount(&server)
            .await;
    }

    let client = client(&server);
    let keys: Vec<_> = client
        .get_user_api_keys()
        .user_id(USER.to_string())
        .page_size(2)
        .text_search("ci key")
        .sort_property(GetUserApiKeysSortProperty::Description)
        .sort_order(GetUserApiKeysSortOrder::Asc)
        .stream()
        .try_collect()
        .await
        .unwrap();

    let descriptions: Vec<_> = keys.iter().map(|k| k.description.clone()).collect();
    assert_eq!(
        descriptions,
        (0..6).map(|i| format!("ci key {i}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn stream_reports_a_failing_page_after_the_items_before_it() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(query_param("page", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [key_info(&KEY.to_string(), "CI deploy key", true)],
            "totalPages": 2, "totalElements": 2, "hasNext": true
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("page", "1"))
        .respond_with(thingsboard_error(500, 2, "Something went wrong"))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let results: Vec<_> = client
        .get_user_api_keys()
        .user_id(USER.to_string())
        .page_size(1)
        .stream()
        .collect()
        .await;

    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(
        err.api().and_then(|e| e.message.as_deref()),
        Some("Something went wrong")
    );
}

#[tokio::test]
async fn every_operation_maps_a_thingsboard_error_to_its_status_code_and_message() {
    let statuses = [
        (400, 31, "Invalid UUID string: 123"),
        (401, 10, "Authentication failed"),
        (
            403,
            20,
            "You don't have permission to perform this operation!",
        ),
        (404, 32, "Requested item wasn't found!"),
        (500, 2, "General server error"),
    ];
    // Login is the one call made without a key (tests/auth.rs covers its 401).
    for case in common::operations()
        .iter()
        .filter(|c| c.operation != "login")
    {
        for (status, code, message) in statuses {
            let server = mock_server().await;
            authenticated(Mock::given(method(case.method)).and(path(case.path.as_str())))
                .respond_with(thingsboard_error(status, code, message))
                .expect(1)
                .mount(&server)
                .await;
            let client = Client::builder(server.uri())
                .api_key(CALLER_KEY)
                .retry(RetryPolicy::disabled())
                .build()
                .unwrap();

            let err = (case.call)(&client).await.unwrap_err();

            assert_api_error(&err, status, Some(&code.to_string()), message);
            assert_eq!(
                err.is_not_found(),
                status == 404,
                "{}, {status}",
                case.operation
            );
        }
    }
}

/// Sends a delete that the server answers with `response`, once (retries are the subject
/// of tests/faults.rs), and returns the error.
async fn delete_failing_with(response: ResponseTemplate) -> Error {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .api_key(CALLER_KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    client.delete_api_key().id(KEY).send().await.unwrap_err()
}

#[tokio::test]
async fn bad_request_carries_thingsboards_code_and_message() {
    let err = delete_failing_with(thingsboard_error(400, 31, "Invalid UUID string: 123")).await;
    assert_api_error(&err, 400, Some("31"), "Invalid UUID string: 123");
    assert!(!err.is_not_found() && !err.is_unauthorized());
}

#[tokio::test]
async fn unauthorized_is_recognised() {
    let err = delete_failing_with(thingsboard_error(401, 10, "Authentication failed")).await;
    assert_api_error(&err, 401, Some("10"), "Authentication failed");
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn forbidden_is_recognised() {
    let message = "You don't have permission to perform this operation!";
    let err = delete_failing_with(thingsboard_error(403, 20, message)).await;
    assert_api_error(&err, 403, Some("20"), message);
    assert!(err.is_forbidden());
}

#[tokio::test]
async fn not_found_is_recognised() {
    let err = delete_failing_with(thingsboard_error(404, 32, "Requested item wasn't found!")).await;
    assert_api_error(&err, 404, Some("32"), "Requested item wasn't found!");
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        "the server answered 404 Not Found: Requested item wasn't found! (error code 32)"
    );
}

#[tokio::test]
async fn too_many_requests_is_rate_limited_and_keeps_retry_after() {
    let limited = thingsboard_error(429, 33, "Too many requests for current tenant!")
        .insert_header("retry-after", "7");
    let err = delete_failing_with(limited).await;
    assert_api_error(
        &err,
        429,
        Some("33"),
        "Too many requests for current tenant!",
    );
    assert!(err.is_rate_limited());
    assert_eq!(err.api().unwrap().retry_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn server_errors_keep_their_status_and_message() {
    let err = delete_failing_with(thingsboard_error(500, 2, "Something went wrong")).await;
    assert_api_error(&err, 500, Some("2"), "Something went wrong");
}

#[tokio::test]
async fn a_proxys_html_error_page_still_gives_the_status_and_its_text() {
    let page = ResponseTemplate::new(502)
        .set_body_raw("<html><body>Bad gateway</body></html>", "text/html");
    let err = delete_failing_with(page).await;
    let api = err.api().unwrap();
    assert_eq!(api.status.as_u16(), 502);
    assert_eq!(api.code, None);
    assert_eq!(
        api.message.as_deref(),
        Some("<html><body>Bad gateway</body></html>")
    );
}

#[tokio::test]
async fn an_error_echoing_the_callers_key_does_not_leak_it() {
    let echo = thingsboard_error(401, 10, &format!("Unknown API key {CALLER_KEY}"));
    let err = delete_failing_with(echo).await;
    assert!(err.is_unauthorized());
    assert_hidden(&format!("{err:?}"), CALLER_KEY);
    assert_hidden(&err.to_string(), CALLER_KEY);
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some("Unknown API key [REDACTED]")
    );
}

#[tokio::test]
async fn a_malformed_success_body_is_a_decode_error_that_hides_string_values() {
    let secret = new_secret();
    let server = mock_server().await;
    let mut body = created_key(&secret);
    body["createdTime"] = json!("yesterday");
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;

    let err = client(&server)
        .save_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_hidden(&format!("{err:?}"), &secret);
    assert_hidden(&err.to_string(), &secret);
    assert_hidden(&err.to_string(), "yesterday");
}

#[tokio::test]
async fn unknown_entity_types_and_extra_fields_decode() {
    // Servers add entity kinds and hidden fields (`internal`, `permissions` in `ApiKey.java`).
    let server = mock_server().await;
    let mut body = key_info(&KEY.to_string(), "CI deploy key", true);
    body["userId"]["entityType"] = json!("SERVICE_ACCOUNT");
    body["internal"] = json!(true);
    body["permissions"] = json!(["READ"]);
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;

    let key = client(&server)
        .enable_api_key()
        .id(KEY)
        .enabled_value(true)
        .send()
        .await
        .unwrap();

    assert_eq!(
        key.user_id.entity_type,
        EntityType::Unknown("SERVICE_ACCOUNT".into())
    );
    assert_eq!(key.user_id.entity_type.as_str(), "SERVICE_ACCOUNT");
}

// issue 25, point 6: the user id is a `Uuid`, as in `KeyScope` and `SaveApiKeyRequest`:
// no other text reaches the path (hostile ids, dot segments), and nothing is sent.
#[tokio::test]
async fn a_user_id_that_is_not_a_uuid_is_refused_before_anything_is_sent() {
    let server = mock_server().await;
    let client = client(&server);
    for id in [
        "..",
        ".",
        "",
        "../x",
        "a/b",
        "%2e%2e",
        "5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d1",
    ] {
        let err = client
            .get_user_api_keys()
            .user_id(id)
            .page_size(1)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(why) if why.contains("user_id")),
            "{id:?}: {err}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    let typed: uuid::Uuid = "5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10".parse().unwrap();
    let _compiles = client.get_user_api_keys().user_id(typed);
}

#[tokio::test]
async fn a_server_answering_the_same_full_page_forever_ends_the_stream() {
    let server = mock_server().await;
    let same = json!({
        "data": [key_info(&KEY.to_string(), "CI deploy key", true), key_info("b81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a", "other", true)],
        "totalPages": 1000, "totalElements": 2000, "hasNext": true
    });
    authenticated(Mock::given(method("GET")).and(path(format!("/api/apiKeys/{USER}"))))
        .and(query_param("pageSize", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(same))
        .expect(2)
        .mount(&server)
        .await;

    let client = client(&server);
    let stream = client
        .get_user_api_keys()
        .user_id(USER.to_string())
        .page_size(2)
        .stream();
    let (items, why) = pagination_end(stream, 10).await;

    assert_eq!(items, 2, "the first page only: {why}");
    assert!(why.contains("repeats"), "{why}");
}

#[tokio::test]
async fn a_next_page_past_the_servers_own_total_pages_ends_the_stream() {
    let server = mock_server().await;
    // Fresh keys on every page, `hasNext: true` forever, and `totalPages: 3` throughout.
    authenticated(Mock::given(method("GET")).and(path(format!("/api/apiKeys/{USER}"))))
        .respond_with(|request: &Request| {
            let page = request
                .url
                .query_pairs()
                .find(|(name, _)| name == "page")
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(json!({
                "data": [key_info(&format!("00000000-0000-0000-0000-{page:0>12}"), "k", true)],
                "totalPages": 3, "totalElements": 3, "hasNext": true
            }))
        })
        .expect(3)
        .mount(&server)
        .await;

    let client = client(&server);
    let stream = client
        .get_user_api_keys()
        .user_id(USER.to_string())
        .page_size(1)
        .stream();
    let (items, why) = pagination_end(stream, 10).await;

    assert_eq!(
        items, 2,
        "pages 0 and 1; page 2 says it is the last and offers more"
    );
    assert!(why.contains("total"), "{why}");
}
