//! Hostile servers: every operation fed malformed responses ends in a value or a typed
//! error; arbitrary bytes never break decoding; a canary secret reaches no log, value or
//! error; broken connections never duplicate a create.
//!
//! Hostile ids: the crate has NO string path parameter. `get_api_key` and `revoke_api_key`
//! take `api_key_id` as an `i64` and the other two operations have no path parameter, so no
//! string can reach a path and `check_hostile_ids` does not apply. The ids the type does
//! allow (the ends of `i64`) are tested in `api_keys.rs`
//! (`ids_at_the_ends_of_i64_are_sent_digit_for_digit_in_a_single_segment`), and the one
//! free string sent, the `cursor`, is a query value, tested there too
//! (`a_hostile_cursor_is_sent_back_as_one_exact_query_value`).

use apikeys_common::testing::{
    CANARY, Fault, FaultServer, OperationCase, TraceCapture, assert_hidden, check_faults,
    check_malformed_responses, fast_retries, mock_server,
};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use progenitor_client::Error as GeneratedError;
use proptest::prelude::*;
use sensorbucket_apikeys::types::{
    ApiKey, ApiKeyCreated, ApiKeyDetails, CreateApiKeyRequest, GatewayError, GetApiKey200Response,
    ListApiKeys200Response, PaginatedResponseLinks, Permission, RevokeApiKey200Response,
    SensorbucketErrorResponse,
};
use sensorbucket_apikeys::{Client, Error, RetryPolicy, session_cookie};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// Held by every test here that sends a request. `tracing` caches each callsite's interest
/// process-wide, computed by the first thread to reach it; with one scoped subscriber, a
/// sibling test's thread (which has none) can cache "never" for `apikeys.request` while the
/// canary test's capture is installed, and the span then vanishes from the capture
/// (tokio-rs/tracing#3611). So the canary test runs alone, and rebuilds the cache first.
static SENDING: futures::lock::Mutex<()> = futures::lock::Mutex::new(());

/// The first listed key (the same fixture as `api_keys.rs`).
const KEY: i64 = 4821937465012837465;
/// The token of the created key.
const NEW_TOKEN: &str = "NDgyMTkzNzQ2NTAxMjgzNzQ2NTo5Zjg2ZDA4MTg4NGM3ZDY1OWEyZmVhYTBjNTVhZDAxNQ";

/// That key, as the list returns it.
fn listed_key() -> Value {
    json!({
        "id": KEY,
        "name": "Device Beheerder",
        "tenant_id": 19,
        "tenant_name": "Provincie Zeeland",
        "expiration_date": "2026-12-31T23:00:00Z",
        "created": "2025-06-02T09:14:27.481923Z",
        "permissions": ["READ_DEVICES", "WRITE_DEVICES", "READ_MEASUREMENTS"]
    })
}

fn create_request() -> sensorbucket_apikeys::types::builder::CreateApiKeyRequest {
    let expiry: DateTime<Utc> = "2026-12-31T23:00:00Z".parse().unwrap();
    CreateApiKeyRequest::builder()
        .name("Device Beheerder")
        .tenant_id(19)
        .permissions(vec![
            Permission::ReadDevices,
            Permission::WriteDevices,
            Permission::ReadMeasurements,
        ])
        .expiration_date(Some(expiry))
}

/// Every generated operation (`list_api_keys`, `create_api_key`, `get_api_key`,
/// `revoke_api_key`), each with its real success status and body.
fn operations() -> Vec<OperationCase<Client>> {
    vec![
        OperationCase {
            operation: "list_api_keys",
            method: "GET",
            path: "/api/api-keys".into(),
            status: 200,
            valid: Some(json!({
                "links": {"previous": "", "next": ""},
                "page_size": 1, "total_count": 0, "data": [listed_key()]
            })),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.list_api_keys().tenant_id(19).limit(2);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "create_api_key",
            method: "POST",
            path: "/api/api-keys".into(),
            status: 201,
            valid: Some(json!({"api_key": NEW_TOKEN})),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.create_api_key().body(create_request());
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_api_key",
            method: "GET",
            path: format!("/api/api-keys/{KEY}"),
            status: 200,
            // The `data` envelope the server actually sends.
            valid: Some(json!({"data": {
                "id": KEY, "name": "", "expiration_date": null, "tenant_id": 19,
                "permissions": ["READ_DEVICES", "READ_MEASUREMENTS"]
            }})),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.get_api_key().api_key_id(KEY);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "revoke_api_key",
            method: "DELETE",
            path: format!("/api/api-keys/{KEY}"),
            status: 200,
            valid: Some(json!({"message": "API key has been revoked"})),
            // `RevokeApiKey200Response`'s one field, `message`, is optional: `{}` and
            // `{"message": null}` are a confirmation without text, and the key is revoked.
            also_decodes: &["required fields missing", "nulls"],
            call: |c| {
                Box::pin(async move {
                    let request = c.revoke_api_key().api_key_id(KEY);
                    request.send().await.map(drop)
                })
            },
        },
    ]
}

#[tokio::test]
async fn every_operation_survives_every_malformed_response() {
    let _alone = SENDING.lock().await;
    let operations = operations();
    let count = operations.len();
    assert_eq!(count, 4, "one case per generated operation");
    assert_eq!(
        check_malformed_responses("/api", operations).await,
        count * 10
    );
}

/// What the generated code turns an undecodable success body into.
fn decode_error(body: &[u8], e: serde_json::Error) -> Error {
    Error::from(
        GeneratedError::<SensorbucketErrorResponse>::InvalidResponsePayload(
            body.to_vec().into(),
            e,
        ),
    )
}

/// The decode errors of every type a response body is decoded into: the four success
/// bodies, the types nested in them, and the error bodies.
fn decode_errors(body: &[u8]) -> Vec<Error> {
    let failures = [
        serde_json::from_slice::<ListApiKeys200Response>(body).err(),
        serde_json::from_slice::<ApiKeyCreated>(body).err(),
        serde_json::from_slice::<GetApiKey200Response>(body).err(),
        serde_json::from_slice::<RevokeApiKey200Response>(body).err(),
        serde_json::from_slice::<ApiKey>(body).err(),
        serde_json::from_slice::<ApiKeyDetails>(body).err(),
        serde_json::from_slice::<PaginatedResponseLinks>(body).err(),
        serde_json::from_slice::<SensorbucketErrorResponse>(body).err(),
        serde_json::from_slice::<GatewayError>(body).err(),
    ];
    failures
        .into_iter()
        .flatten()
        .map(|e| decode_error(body, e))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_break_response_decoding(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        for error in decode_errors(&body) {
            let shown = format!("{error} {error:?}");
            let is_decode = matches!(error, Error::Decode { .. });
            prop_assert!(is_decode, "{}", shown);
        }
    }

    #[test]
    fn decode_errors_of_arbitrary_bytes_stay_short(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        for error in decode_errors(&body) {
            let shown = format!("{error} {error:?}");
            prop_assert!(shown.len() < 2_000, "{} chars: {}", shown.len(), shown);
        }
    }
}

#[test]
fn a_token_after_a_missing_colon_stays_out_of_the_decode_error() {
    // The token follows a key with no `:` between them: neither string is a key, so the
    // excerpt must mask both.
    let body = format!("{{\"api_key\" \"{NEW_TOKEN}\"}}");
    let e = serde_json::from_str::<ApiKeyCreated>(&body).unwrap_err();
    let error = decode_error(body.as_bytes(), e);
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert_hidden(&format!("{error} {error:?}"), NEW_TOKEN);
}

#[tokio::test(flavor = "current_thread")]
async fn the_canary_never_reaches_logs_values_or_errors() {
    let _alone = SENDING.lock().await;
    let capture = TraceCapture::default();
    let _guard = capture.install();
    let server = mock_server().await;
    // The first create returns the canary as the new key's token; the second a body that
    // does not decode but still carries it.
    Mock::given(method("POST"))
        .and(path("/api/api-keys"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"api_key": CANARY})))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/api-keys"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"apiKey": CANARY, "api_key": 12})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The services and the gateway echo the rejected key in their error bodies.
    Mock::given(method("GET"))
        .and(path("/api/api-keys"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "message": format!("invalid token Bearer {CANARY}"), "code": CANARY
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/api-keys/{KEY}")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": 403, "id": CANARY, "status": "Forbidden",
            "message": format!("key {CANARY} refused"), "reason": CANARY
        }})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/api-keys/{KEY}")))
        .respond_with(
            ResponseTemplate::new(400).set_body_string(format!("Authorization: Bearer {CANARY}")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let mut shown = Vec::new();
    let builder = Client::builder(format!("{}/api", server.uri()))
        .api_key(CANARY)
        .retry(RetryPolicy::disabled());
    shown.push(format!("{builder:?}"));
    let client = builder.build().unwrap();
    shown.push(format!("{client:?}"));

    let request = client.create_api_key().body(create_request());
    shown.push(format!("{request:?}"));
    let response = request.send().await.unwrap();
    shown.push(format!("{response:?}"));
    let created = response;
    assert_eq!(created.api_key.expose_secret(), CANARY);
    shown.push(format!("{created:?} {created:#?} {}", created.api_key));
    shown.push(serde_json::to_string(&created).unwrap());

    let undecodable = client
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(undecodable, Error::Decode { .. }),
        "{undecodable:?}"
    );
    shown.push(format!("{undecodable:?} {undecodable}"));

    let unauthorized = client.list_api_keys().send().await.unwrap_err();
    assert!(unauthorized.is_unauthorized(), "{unauthorized:?}");
    shown.push(format!("{unauthorized:?} {unauthorized}"));
    let streamed: Vec<_> = client.list_api_keys().stream().collect().await;
    shown.push(format!("{streamed:?}"));
    let streamed = streamed.into_iter().next().unwrap().unwrap_err();
    shown.push(format!("{streamed}"));

    let forbidden = client
        .get_api_key()
        .api_key_id(KEY)
        .send()
        .await
        .unwrap_err();
    assert!(forbidden.is_forbidden(), "{forbidden:?}");
    shown.push(format!("{forbidden:?} {forbidden}"));

    let refused = client
        .revoke_api_key()
        .api_key_id(KEY)
        .send()
        .await
        .unwrap_err();
    shown.push(format!("{refused:?} {refused}"));

    let cookie = session_cookie(CANARY).unwrap();
    shown.push(format!("{cookie:?}"));
    let cookie_client = Client::builder(format!("{}/api", server.uri()))
        .credential(cookie)
        .build()
        .unwrap();
    shown.push(format!("{cookie_client:?}"));
    let bad_key = Client::builder(server.uri())
        .api_key(format!("{CANARY}\n"))
        .build()
        .unwrap_err();
    shown.push(format!("{bad_key:?} {bad_key}"));
    let bad_cookie = session_cookie(format!("{CANARY};admin=1")).unwrap_err();
    shown.push(format!("{bad_cookie:?} {bad_cookie}"));

    capture.assert_never_shows(CANARY, &shown);
    assert_eq!(shown.len(), 16);
}

// Faults. Already covered in `api_keys.rs`: `create_api_key` under 503 is sent once
// (`create_api_key_is_sent_once_even_when_the_server_is_unavailable`). The 503-then-200
// retry there (`get_api_key_is_retried_after_a_503`) fails only once, so the two-503s case
// is here.

fn retrying_client(uri: String) -> Client {
    Client::builder(format!("{uri}/api"))
        .api_key("k")
        .retry(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn retry_after_reset_stall_and_redirects_behave_for_an_idempotent_read() {
    let _alone = SENDING.lock().await;
    let case = operations()
        .into_iter()
        .find(|case| case.operation == "list_api_keys")
        .unwrap();
    assert_eq!(check_faults("/api", case).await, 6);
}

#[tokio::test]
async fn an_idempotent_operation_succeeds_after_two_503s_in_exactly_three_requests() {
    let _alone = SENDING.lock().await;
    let server = mock_server().await;
    let route = format!("/api/api-keys/{KEY}");
    Mock::given(method("DELETE"))
        .and(path(route.as_str()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(route.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"message": "API key has been revoked"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let done = retrying_client(server.uri())
        .revoke_api_key()
        .api_key_id(KEY)
        .send()
        .await
        .unwrap();

    assert_eq!(done.message.as_deref(), Some("API key has been revoked"));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_create_reaches_the_server_once_when_the_connection_breaks() {
    let _alone = SENDING.lock().await;
    // `create_api_key` is the crate's one non-idempotent operation (POST, no override).
    for fault in [Fault::ResetMidBody, Fault::CloseBeforeResponse] {
        let server = FaultServer::start(fault).await;

        let err = retrying_client(server.uri())
            .create_api_key()
            .body(create_request())
            .send()
            .await
            .unwrap_err();

        assert!(matches!(err, Error::Transport(_)), "{fault:?}: {err:?}");
        assert_eq!(server.requests(), 1, "{fault:?}");
    }
}

/// The API's prefix on the test server.
const BASE: &str = "/api";

// The examples of a misbehaving server that must end in a typed error: a `Retry-After` no
// client can wait for, secrets echoed in any shape, and an id too long for any URL.
// (Endless pagination is tested next to the other stream tests.)
use apikeys_common::testing::{
    HOSTILE_RETRY_AFTER, check_oversized_id, check_retry_after_storms, check_secret_echoes,
    secret_echoes,
};

#[tokio::test]
async fn a_retry_after_storm_ends_every_operation_in_its_typed_error() {
    let expected = operations().len() * 2 * HOSTILE_RETRY_AFTER.len();
    assert_eq!(check_retry_after_storms(BASE, operations()).await, expected);
}

#[tokio::test]
async fn secrets_echoed_in_any_shape_reach_no_error_or_log() {
    let expected = operations().len() * 3 * secret_echoes(CANARY).len();
    assert_eq!(check_secret_echoes(BASE, operations()).await, expected);
}

#[tokio::test]
async fn a_100_kb_cursor_is_refused_before_sending() {
    // The one free string of the crate's URLs is the `cursor` query value.
    let sent = check_oversized_id::<Client>("/api", |client, cursor| {
        Box::pin(async move {
            let request = client.list_api_keys().cursor(cursor);
            request.send().await.map(drop)
        })
    })
    .await;
    assert_eq!(sent, 0);
}
