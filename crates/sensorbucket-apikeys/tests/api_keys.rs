//! The four API-key operations against a mock SensorBucket, with example bodies in the
//! shapes the server sends (`services/tenants/transports/apikeys_http.go` and its test in
//! `sensorbucket/SensorBucket`) and the server's behaviour where it departs from the
//! published spec.

use std::time::Duration;

use apikeys_common::testing::{Call, assert_hidden, mock_server, pagination_end};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use sensorbucket_apikeys::types::{CreateApiKeyRequest, Permission};
use sensorbucket_apikeys::{Client, Error, RetryPolicy, session_cookie};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

/// The caller's own key (the spec's example token).
const CALLER_KEY: &str = "MjU5MzE1NDgwMjE2NTMwMTEyODo2MjY2MDdkMGViY2Q5MGRhMTRkZWE4NGY4MjEzYjRiNw";
/// An opaque cursor as the server encodes it (base64url of CBOR).
const CURSOR_1: &str = "omVMaW1pdAJnQ29sdW1uc6JlS2V5SUQbEeGH3GjvM7lnQ3JlYXRlZMH7Qdn0EJigAAA";
const CURSOR_2: &str = "omVMaW1pdAJnQ29sdW1uc6JlS2V5SUQbEd-_3GjvM7lnQ3JlYXRlZMH7Qdn0DwAAAAA";

/// The API lives under `/api`; the client is given that prefix as its base URL.
fn client(server: &MockServer) -> Client {
    Client::builder(format!("{}/api", server.uri()))
        .api_key(CALLER_KEY)
        .build()
        .unwrap()
}

/// Every request carries the caller's key as a bearer token and the crate's user agent,
/// and never progenitor's `api-version` header.
fn authenticated(mock: MockBuilder) -> MockBuilder {
    mock.and(header(
        "authorization",
        format!("Bearer {CALLER_KEY}").as_str(),
    ))
    .and(header(
        "user-agent",
        concat!("sensorbucket-apikeys/", env!("CARGO_PKG_VERSION")),
    ))
    .and(|request: &Request| !request.headers.contains_key("api-version"))
}

/// The token of the fragment's `ApiKeyCreated` example, the answer of `create_api_key`.
fn new_token() -> String {
    examples::api_key_created()["api_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A listed key: the first key of the fragment's list example for its id, otherwise its
/// second key (which never expires) under the id `id` and the name `key <id>`.
fn listed_key(id: i64) -> Value {
    let example = examples::list_api_keys200_response();
    let [first, second] = example["data"].as_array().unwrap().as_slice() else {
        panic!("the list example has two keys")
    };
    if first["id"] == id {
        return first.clone();
    }
    let mut key = second.clone();
    key["id"] = json!(id);
    key["name"] = json!(format!("key {id}"));
    key
}

fn page(ids: &[i64], next: &str) -> ResponseTemplate {
    let data: Vec<Value> = ids.iter().map(|id| listed_key(*id)).collect();
    ResponseTemplate::new(200).set_body_json(json!({
        "links": {"previous": "", "next": next},
        "page_size": data.len(),
        "total_count": 0,
        "data": data
    }))
}

fn create_request() -> sensorbucket_apikeys::types::builder::CreateApiKeyRequest {
    CreateApiKeyRequest::builder()
        .name("Device Beheerder")
        .tenant_id(19)
        .permissions(vec![
            Permission::ReadDevices,
            Permission::WriteDevices,
            Permission::ReadMeasurements,
        ])
        .expiration_date(Some(at("2026-12-31T23:00:00Z")))
}

/// Go's encoder ends every body with a newline; the client must not mind.
fn go_json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(format!("{body}\n"), "application/json")
}

#[tokio::test]
async fn create_api_key_posts_the_exact_json_and_returns_the_token_once() {
    let token = new_token();
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api/api-keys")))
        // The server refuses anything but exactly `application/json`.
        .and(|request: &Request| {
            request
                .headers
                .get("content-type")
                .is_some_and(|v| v == "application/json")
        })
        .and(body_json(json!({
            "name": "Device Beheerder",
            "tenant_id": 19,
            "permissions": ["READ_DEVICES", "WRITE_DEVICES", "READ_MEASUREMENTS"],
            "expiration_date": "2026-12-31T23:00:00Z"
        })))
        .respond_with(go_json(201, examples::api_key_created()))
        .expect(1)
        .mount(&server)
        .await;

    let response = client(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap();

    assert_eq!(response.api_key.expose_secret(), &token);
}

#[tokio::test]
async fn create_api_key_without_expiry_leaves_the_field_out() {
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api/api-keys")))
        .and(body_json(
            json!({"name": "Dashboard readonly", "tenant_id": 19, "permissions": ["READ_DEVICES"]}),
        ))
        .respond_with(go_json(201, examples::api_key_created()))
        .expect(1)
        .mount(&server)
        .await;

    let body = CreateApiKeyRequest::builder()
        .name("Dashboard readonly")
        .tenant_id(19)
        .permissions(vec![Permission::ReadDevices]);
    client(&server)
        .create_api_key()
        .body(body)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_new_token_never_shows_in_debug_display_or_serialized_values() {
    let token = new_token();
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/api-keys"))
        .respond_with(go_json(201, examples::api_key_created()))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let response = client
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap();
    assert_hidden(&format!("{response:?}"), &token);
    let created = response;
    assert_hidden(&format!("{created:?}"), &token);
    assert_hidden(&format!("{created:#?}"), &token);
    assert_hidden(&created.api_key.to_string(), &token);
    assert_hidden(&serde_json::to_string(&created).unwrap(), &token);
    assert_hidden(&format!("{client:?}"), CALLER_KEY);
    assert_eq!(
        created.api_key.expose_secret(),
        &token,
        "the value is still there to read"
    );
}

#[tokio::test]
async fn a_token_in_a_body_that_does_not_decode_stays_out_of_the_error() {
    let token = new_token();
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(go_json(201, json!({"apiKey": &token})))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_hidden(&format!("{err:?}"), &token);
    assert_hidden(&err.to_string(), &token);
}

#[tokio::test]
async fn create_api_key_refuses_an_empty_name_before_sending() {
    // The catch-all fails the test if anything is sent.
    let server = mock_server().await;
    let body = CreateApiKeyRequest::builder()
        .name("")
        .tenant_id(19)
        .permissions(vec![Permission::ReadDevices]);

    let err = client(&server)
        .create_api_key()
        .body(body)
        .send()
        .await
        .unwrap_err();

    assert!(
        matches!(&err, Error::InvalidRequest(why) if why.contains("name")),
        "{err}"
    );
}

async fn create_failing_with(response: ResponseTemplate) -> Error {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/api-keys"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err()
}

#[track_caller]
fn assert_api_error(err: &Error, status: u16, code: Option<&str>, message: &str) {
    let api = err
        .api()
        .unwrap_or_else(|| panic!("not an API error: {err:?}"));
    assert_eq!(api.status, status, "{err}");
    assert_eq!(api.code.as_deref(), code, "{err}");
    assert_eq!(api.message.as_deref(), Some(message), "{err}");
}

#[tokio::test]
async fn create_api_key_400s_carry_sensorbucket_code_and_message() {
    // Typed errors carry a code, ad-hoc ones only a message.
    for (body, code) in [
        (
            json!({"message": "Invalid content type", "code": "INVALID_CONTENT_TYPE"}),
            Some("INVALID_CONTENT_TYPE"),
        ),
        (
            json!({"message": "at least one permission is required"}),
            None,
        ),
        (
            json!({"message": "permission value is invalid", "code": "ERR_PERMISSION_INVALID"}),
            Some("ERR_PERMISSION_INVALID"),
        ),
        (
            json!({"message": "API Key with name already exists for this tenant", "code": "API_KEY_NAME_TENANT_COMBO_NOT_UNIQUE"}),
            Some("API_KEY_NAME_TENANT_COMBO_NOT_UNIQUE"),
        ),
    ] {
        let message = body["message"].as_str().unwrap().to_string();
        let err = create_failing_with(go_json(400, body)).await;
        assert_api_error(&err, 400, code, &message);
        assert!(!err.is_not_found() && !err.is_unauthorized());
    }
}

#[tokio::test]
async fn create_api_key_for_a_missing_or_archived_tenant_is_not_found() {
    // Undocumented 404s.
    let err = create_failing_with(go_json(
        404,
        json!({"message": "Tenant could not be found", "code": "TENANT_NOT_FOUND"}),
    ))
    .await;
    assert!(err.is_not_found());
    assert_api_error(
        &err,
        404,
        Some("TENANT_NOT_FOUND"),
        "Tenant could not be found",
    );

    let err = create_failing_with(go_json(
        404,
        json!({"message": "Organisation does not exist or has been archived"}),
    ))
    .await;
    assert!(err.is_not_found());
    assert_api_error(
        &err,
        404,
        None,
        "Organisation does not exist or has been archived",
    );
}

#[tokio::test]
async fn get_api_key_reads_the_data_envelope_the_server_actually_sends() {
    // Not the spec's bare `apiKey`.
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path("/api/api-keys/1288460349127734201")))
        .and(|request: &Request| request.url.query().is_none() && request.body.is_empty())
        .respond_with(go_json(200, examples::get_api_key200_response()))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .get_api_key()
        .api_key_id(1288460349127734201_i64)
        .send()
        .await
        .unwrap()
        .data;

    // Every field decodes to what the example sent: `name` as `""`, `expiration_date` as
    // `null`.
    let sent = &examples::get_api_key200_response()["data"];
    assert_eq!(key.id, 1288460349127734201);
    assert_eq!(json!(key.id), sent["id"]);
    assert_eq!((key.name.as_str(), sent["name"].as_str()), ("", Some("")));
    assert_eq!(json!(key.tenant_id), sent["tenant_id"]);
    assert!(key.expiration_date.is_none() && sent["expiration_date"].is_null());
    assert_eq!(json!(key.permissions), sent["permissions"]);
}

#[tokio::test]
async fn get_api_key_of_an_unknown_or_expired_key_is_not_found() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/api-keys/42"))
        .respond_with(go_json(404, examples::sensorbucket_error_response()))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .get_api_key()
        .api_key_id(42)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_not_found());
    assert_api_error(
        &err,
        404,
        Some("ERR_API_KEY_NOT_FOUND"),
        "API Key not found",
    );
}

#[tokio::test]
async fn ids_at_the_ends_of_i64_are_sent_digit_for_digit_in_a_single_segment() {
    // Ids are random int64s, often above 2^53; a float would round them.
    // The path parameter is an `i64`, so no string can reach the path: these are the
    // hostile ids the type allows.
    let server = mock_server().await;
    let ids = [i64::MAX, 9_007_199_254_740_993, 0, -1, i64::MIN];
    for id in ids {
        Mock::given(method("DELETE"))
            .and(path(format!("/api/api-keys/{id}")))
            .respond_with(go_json(200, examples::revoke_api_key200_response()))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = client(&server);
    for id in ids {
        client.revoke_api_key().api_key_id(id).send().await.unwrap();
    }

    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        seen,
        [
            "/api/api-keys/9223372036854775807",
            "/api/api-keys/9007199254740993",
            "/api/api-keys/0",
            "/api/api-keys/-1",
            "/api/api-keys/-9223372036854775808",
        ]
    );
}

#[tokio::test]
async fn revoke_api_key_deletes_by_id_without_a_body_and_reads_the_confirmation() {
    let server = mock_server().await;
    authenticated(Mock::given(method("DELETE")).and(path("/api/api-keys/4821937465012837465")))
        .and(|request: &Request| request.url.query().is_none() && request.body.is_empty())
        .respond_with(go_json(200, examples::revoke_api_key200_response()))
        .expect(1)
        .mount(&server)
        .await;

    let done = client(&server)
        .revoke_api_key()
        .api_key_id(4821937465012837465_i64)
        .send()
        .await
        .unwrap();

    assert_eq!(done.message.as_deref(), Some("API key has been revoked"));
}

#[tokio::test]
async fn revoking_a_key_that_is_gone_is_not_found_without_a_code() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .and(path("/api/api-keys/4821937465012837465"))
        .respond_with(go_json(404, json!({"message": "Key does not exist"})))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .revoke_api_key()
        .api_key_id(4821937465012837465_i64)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_not_found());
    assert_api_error(&err, 404, None, "Key does not exist");
}

#[tokio::test]
async fn list_api_keys_sends_its_filters_and_decodes_e3() {
    let server = mock_server().await;
    let next =
        format!("https://sensorbucket.nl/api/api-keys?cursor={CURSOR_1}&limit=2&tenant_id=19");
    authenticated(Mock::given(method("GET")).and(path("/api/api-keys")))
        .and(query_param("tenant_id", "19"))
        .and(query_param("limit", "2"))
        .and(query_param_is_missing("cursor"))
        .respond_with(page(&[4821937465012837465, 1288460349127734201], &next))
        .expect(1)
        .mount(&server)
        .await;

    let body = client(&server)
        .list_api_keys()
        .tenant_id(19)
        .limit(2)
        .send()
        .await
        .unwrap();

    assert_eq!(body.links.next.as_deref(), Some(next.as_str()));
    assert_eq!(body.page_size, 2);
    let [first, second] = &body.data[..] else {
        panic!("{:?}", body.data)
    };
    assert_eq!(first.id, 4821937465012837465);
    assert_eq!(first.name, "Device Beheerder");
    assert_eq!(first.tenant_id, 19);
    assert_eq!(first.tenant_name, "Provincie Zeeland");
    assert_eq!(first.expiration_date, Some(at("2026-12-31T23:00:00Z")));
    assert_eq!(first.created, at("2025-06-02T09:14:27.481923Z"));
    assert_eq!(first.created.timestamp_subsec_micros(), 481923);
    assert_eq!(
        first.permissions,
        [
            Permission::ReadDevices,
            Permission::WriteDevices,
            Permission::ReadMeasurements
        ]
    );
    assert_eq!(second.id, 1288460349127734201);
    assert_eq!(second.expiration_date, None, "`null` is no expiry");
    assert_eq!(second.created, at("2025-03-11T14:02:10.500Z"));
}

#[tokio::test]
async fn permissions_a_newer_server_adds_are_kept_not_refused() {
    let server = mock_server().await;
    let mut key = listed_key(7);
    key["permissions"] = json!(["READ_PROJECTS", "READ_FLEETS"]);
    Mock::given(method("GET"))
        .and(path("/api/api-keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "links": {"previous": "", "next": ""}, "page_size": 1, "total_count": 0, "data": [key]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let body = client(&server).list_api_keys().send().await.unwrap();

    assert_eq!(
        body.data[0].permissions,
        [
            Permission::ReadProjects,
            Permission::Unknown("READ_FLEETS".into())
        ]
    );
    assert_eq!(body.data[0].permissions[1].to_string(), "READ_FLEETS");
}

#[tokio::test]
async fn stream_follows_the_cursor_across_three_pages_keeping_every_filter() {
    let server = mock_server().await;
    // Page 1 links absolutely (production), page 2 relatively (an empty `HTTP_BASE`),
    // with the cursor percent-encoded as Go's url.Values does.
    let pages = [
        (
            None,
            page(
                &[101, 102],
                &format!(
                    "https://sensorbucket.nl/api/api-keys?cursor={CURSOR_1}&limit=2&tenant_id=19"
                ),
            ),
        ),
        (
            Some(CURSOR_1),
            page(
                &[103, 104],
                "/api-keys?cursor=omVM%2Bx%2F%3D%3D+z&limit=2&tenant_id=19",
            ),
        ),
        (Some("omVM+x/== z"), page(&[105], "")),
    ];
    for (cursor, response) in pages {
        let mock = authenticated(Mock::given(method("GET")).and(path("/api/api-keys")))
            .and(query_param("tenant_id", "19"))
            .and(query_param("limit", "2"));
        let mock = match cursor {
            None => mock.and(query_param_is_missing("cursor")),
            Some(cursor) => mock.and(query_param("cursor", cursor)),
        };
        mock.respond_with(response).expect(1).mount(&server).await;
    }

    let ids: Vec<i64> = client(&server)
        .list_api_keys()
        .tenant_id(19)
        .limit(2)
        .stream()
        .map_ok(|key| key.id)
        .try_collect()
        .await
        .unwrap();

    assert_eq!(ids, [101, 102, 103, 104, 105]);
    // The link's host is never followed: every request went to the client's base URL.
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn stream_ends_on_the_empty_page_after_a_full_last_page() {
    // An exact multiple of the limit costs one empty page.
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(query_param_is_missing("cursor"))
        .respond_with(page(
            &[101, 102],
            &format!("/api-keys?cursor={CURSOR_2}&limit=2"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("cursor", CURSOR_2))
        .respond_with(go_json(200, json!({"links": {"previous": "", "next": ""}, "page_size": 0, "total_count": 0, "data": []})))
        .expect(1)
        .mount(&server)
        .await;

    let keys: Vec<_> = client(&server)
        .list_api_keys()
        .limit(2)
        .stream()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(keys.len(), 2);
}

#[tokio::test]
async fn stream_yields_a_failing_page_as_one_error_after_the_items_before_it() {
    // A malformed or stale cursor is a 500.
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(query_param_is_missing("cursor"))
        .respond_with(page(&[101], &format!("/api-keys?cursor={CURSOR_1}")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("cursor", CURSOR_1))
        .respond_with(go_json(500, json!({"message": "Internal server error"})))
        .expect(1)
        .mount(&server)
        .await;

    let results: Vec<_> = client(&server).list_api_keys().stream().collect().await;

    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap().id, 101);
    assert_api_error(
        results[1].as_ref().unwrap_err(),
        500,
        None,
        "Internal server error",
    );
}

#[tokio::test]
async fn a_hostile_cursor_is_sent_back_as_one_exact_query_value() {
    let hostile = "../x&tenant_id=7#f?x=1 %2F a/b é";
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/api-keys"))
        .and(query_param("cursor", hostile))
        .and(query_param("tenant_id", "19"))
        .respond_with(page(&[], ""))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .list_api_keys()
        .tenant_id(19)
        .cursor(hostile)
        .send()
        .await
        .unwrap();

    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.url.path(), "/api/api-keys");
    let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [
            ("cursor".to_string(), hostile.to_string()),
            ("tenant_id".to_string(), "19".to_string())
        ]
    );
}

async fn list_failing_with(response: ResponseTemplate) -> Error {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/api-keys"))
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    client(&server).list_api_keys().send().await.unwrap_err()
}

#[tokio::test]
async fn a_bad_parameter_is_a_400_with_the_servers_message() {
    let err = list_failing_with(go_json(400, json!({"message": "invalid params"}))).await;
    assert_api_error(&err, 400, None, "invalid params");
}

#[tokio::test]
async fn the_gateways_401_is_unauthorized_with_its_message_and_reason() {
    // The gateway answers 401/403 itself, in Ory's envelope.
    let err = list_failing_with(go_json(401, json!({
        "error": {"code": 401, "status": "Unauthorized", "message": "The request could not be authorized", "reason": "token expired"}
    })))
    .await;
    assert!(err.is_unauthorized());
    assert_api_error(
        &err,
        401,
        None,
        "The request could not be authorized: token expired",
    );
}

#[tokio::test]
async fn an_empty_403_is_forbidden_without_a_message() {
    let err = list_failing_with(ResponseTemplate::new(403)).await;
    assert!(err.is_forbidden());
    assert_eq!(err.api().unwrap().message, None);
}

#[tokio::test]
async fn every_documented_error_of_create_get_and_revoke_carries_status_and_message() {
    // The spec lists 400, 401, 403 and 500 on all three; the services answer with
    // `{"message"}`, the gateway with Ory's envelope. A 400 on get has no known body (the
    // server answers a non-numeric id with a 500, and the `i64` parameter cannot send one),
    // so it is not here.
    let create: Call<Client> = |c| {
        Box::pin(async move {
            let request = c.create_api_key().body(create_request());
            request.send().await.map(drop)
        })
    };
    let get: Call<Client> = |c| {
        Box::pin(async move {
            let request = c.get_api_key().api_key_id(1288460349127734201_i64);
            request.send().await.map(drop)
        })
    };
    let revoke: Call<Client> = |c| {
        Box::pin(async move {
            let request = c.revoke_api_key().api_key_id(4821937465012837465_i64);
            request.send().await.map(drop)
        })
    };
    let operations = [
        ("create_api_key", "POST", "/api/api-keys", create),
        (
            "get_api_key",
            "GET",
            "/api/api-keys/1288460349127734201",
            get,
        ),
        (
            "revoke_api_key",
            "DELETE",
            "/api/api-keys/4821937465012837465",
            revoke,
        ),
    ];
    let gateway = |code: u16, status: &str, message: &str| json!({"error": {"code": code, "status": status, "message": message}});
    // (operation, status, body, code, message)
    let mut cases = vec![(
        operations[2],
        400,
        json!({"message": "api_key_id must be a valid int"}),
        None,
        "api_key_id must be a valid int",
    )];
    for operation in operations {
        cases.push((
            operation,
            401,
            gateway(401, "Unauthorized", "The request could not be authorized"),
            None,
            "The request could not be authorized",
        ));
        cases.push((
            operation,
            403,
            gateway(403, "Forbidden", "The requested action was forbidden"),
            None,
            "The requested action was forbidden",
        ));
        cases.push((
            operation,
            500,
            json!({"message": "Internal server error"}),
            None,
            "Internal server error",
        ));
    }

    for ((operation, verb, route, call), status, body, code, message) in cases {
        let server = mock_server().await;
        authenticated(Mock::given(method(verb)).and(path(route)))
            .respond_with(go_json(status, body))
            .expect(1)
            .mount(&server)
            .await;

        let err = call(&client(&server))
            .await
            .expect_err(&format!("{operation} {status}"));

        let seen = server.received_requests().await.unwrap();
        let sent: Vec<(&str, &str)> = seen
            .iter()
            .map(|r| (r.method.as_str(), r.url.path()))
            .collect();
        assert_eq!(sent, [(verb, route)], "{operation} {status}");
        assert_api_error(&err, status, code, message);
        assert_eq!(err.is_unauthorized(), status == 401, "{operation}: {err}");
        assert_eq!(err.is_forbidden(), status == 403, "{operation}: {err}");
        assert!(!err.is_not_found(), "{operation}: {err}");
    }
}

#[tokio::test]
async fn a_proxys_429_keeps_its_retry_after_when_retries_are_off() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/api-keys"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_string("slow down"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(format!("{}/api", server.uri()))
        .api_key(CALLER_KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();

    let err = client.list_api_keys().send().await.unwrap_err();

    assert!(err.is_rate_limited());
    let api = err.api().unwrap();
    assert_eq!(api.retry_after, Some(Duration::from_secs(30)));
    assert_eq!(api.message.as_deref(), Some("slow down"));
}

fn quick_retries(server: &MockServer) -> Client {
    let retry = RetryPolicy::default()
        .base_delay(Duration::from_millis(10))
        .max_attempts(3);
    Client::builder(format!("{}/api", server.uri()))
        .api_key(CALLER_KEY)
        .retry(retry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn get_api_key_is_retried_after_a_503() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/api-keys/7"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/api-keys/7"))
        .respond_with(go_json(200, json!({"data": {"id": 7, "name": "", "expiration_date": null, "tenant_id": 19, "permissions": ["READ_TRACING"]}})))
        .expect(1)
        .mount(&server)
        .await;

    let key = quick_retries(&server)
        .get_api_key()
        .api_key_id(7)
        .send()
        .await
        .unwrap()
        .data;

    assert_eq!(key.permissions, [Permission::ReadTracing]);
}

#[tokio::test]
async fn create_api_key_is_sent_once_even_when_the_server_is_unavailable() {
    // A second POST of the same name would at best be refused as a duplicate.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/api-keys"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;

    let err = quick_retries(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn a_rejected_key_echoed_in_an_error_body_is_masked() {
    let err = list_failing_with(
        ResponseTemplate::new(401).set_body_string(format!("invalid token Bearer {CALLER_KEY}")),
    )
    .await;
    assert!(err.is_unauthorized());
    assert_hidden(&format!("{err:?}"), CALLER_KEY);
    assert_hidden(&err.to_string(), CALLER_KEY);
}

#[tokio::test]
async fn a_session_cookie_is_sent_instead_of_a_bearer_token() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/api-keys/7"))
        .and(header("cookie", "ory_kratos_session=MTcxNjY0NjQ4Nnx-_abc="))
        .and(|request: &Request| !request.headers.contains_key("authorization"))
        .respond_with(go_json(200, json!({"data": {"id": 7, "name": "", "expiration_date": null, "tenant_id": 19, "permissions": []}})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(format!("{}/api/", server.uri()))
        .credential(session_cookie("MTcxNjY0NjQ4Nnx-_abc=").unwrap())
        .build()
        .unwrap();

    let key = client
        .get_api_key()
        .api_key_id(7)
        .send()
        .await
        .unwrap()
        .data;

    assert_eq!(key.id, 7);
    assert!(key.permissions.is_empty());
    assert_hidden(&format!("{client:?}"), "MTcxNjY0NjQ4Nnx");
}

// The malformed-response loop that was here is superseded by
// `hostile_servers.rs::every_operation_survives_every_malformed_response`; what it checked
// beyond the outcome is kept below.

async fn create_answered_with(
    body: String,
) -> Result<sensorbucket_apikeys::types::ApiKeyCreated, Error> {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/api-keys"))
        .respond_with(ResponseTemplate::new(201).set_body_raw(body, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
}

#[tokio::test]
async fn a_token_next_to_fields_a_newer_server_adds_is_still_read() {
    let token = new_token();
    let created = create_answered_with(format!(
        "{{\"api_key\": \"{token}\", \"id\": 4821937465012837465}}"
    ))
    .await
    .unwrap();
    assert_eq!(created.api_key.expose_secret(), &token);
}

#[tokio::test]
async fn the_part_of_a_token_a_truncated_body_carries_stays_out_of_the_error() {
    let token = new_token();
    let body = format!("{{\"api_key\": \"{token}\"}}");
    let cut = &body[..body.len() / 2];
    let partial = cut.split('"').next_back().unwrap();
    assert!(partial.len() > 20, "{partial}");

    let err = create_answered_with(cut.to_string()).await.unwrap_err();

    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_hidden(&format!("{err:?} {err}"), partial);
}

#[tokio::test]
async fn a_server_answering_the_same_page_under_every_new_cursor_ends_the_stream() {
    // The cursor changes on every page (so it never points to itself), the keys do not.
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path("/api/api-keys")))
        .respond_with(|request: &Request| {
            let n = request.url.query().map_or(0, str::len);
            page(&[1, 2], &format!("/api-keys?cursor=c{n}"))
        })
        .expect(2)
        .mount(&server)
        .await;

    let client = client(&server);
    let (items, why) = pagination_end(client.list_api_keys().stream(), 10).await;

    assert_eq!(items, 2, "the first page only: {why}");
    assert!(why.contains("repeats"), "{why}");
}
