//! Hostile servers: every wire operation fed malformed responses ends in a value or a typed
//! error, never a panic; arbitrary bytes never break decoding; a canary secret appears in no
//! log, value or error; a create is never sent twice over a broken network.
//!
//! Hostile ids: the one string path parameter is the device uuid of
//! `get_device_actor_by_uuid` (`/v7/device(uuid='{uuid}')`); every other path id is an
//! `i64`. The fragment's `pattern` admits only full hexadecimal uuids, so none of the 30
//! ids is sent: `hostile_device_uuids_are_refused_before_sending` in hostile.rs checks
//! that, under several base paths, instead of `check_hostile_ids`.

use apikeys_common::testing::{
    CANARY, Fault, FaultServer, MALFORMED_LIMIT, OperationCase, TraceCapture, check_faults,
    check_malformed_responses, fast_retries, mock_server,
};
use balena_apikeys::types::{
    ActorRefCollection, ActorWhoami, ApiKey, ApiKeyCollection, BalenaError,
    CreateNamedUserApiKeyRequest, ODataCount,
};
use balena_apikeys::{ApiKeyUpdate, Client, Error, RetryPolicy, Secret};
use chrono::{DateTime, Utc};
use progenitor_client::Error as GeneratedError;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: i64 = 4870231;
const APPLICATION: i64 = 123;
const DEVICE: i64 = 456;
const DEVICE_UUID: &str = "7cf02a69e4d34c9da573914963cf54fd";
/// The secret of api_keys.rs's create test.
const CREATED: &str = "Kq3XbN7v2RmT9cLpW4yHs8eJ1aFz6UdG";

/// A user's whoami answer (api_keys.rs's `mount_whoami`).
fn whoami() -> Value {
    json!({
        "id": 1111, "actorType": "user", "actorTypeId": 42,
        "username": "jdoe", "email": "jdoe@example.com"
    })
}

/// The named keys' listing (api_keys.rs's `named_user_keys`).
fn named_user_keys() -> Value {
    json!({"d": [
        {
            "id": 4870231, "created_at": "2025-03-14T10:22:31.418Z", "name": "ci-deploy",
            "description": "Key used by the release pipeline",
            "expiry_date": "2026-12-31T23:59:59.000Z", "is_of__actor": {"__id": 1111}
        },
        {
            "id": 4870250, "created_at": "2025-04-02T08:05:12.007Z", "name": "grafana",
            "description": null, "expiry_date": null, "is_of__actor": {"__id": 1111}
        }
    ]})
}

/// An application or device read with `$select=actor`.
fn actor_rows() -> Value {
    json!({"d": [{"actor": {"__id": 7777}}]})
}

fn create_body() -> balena_apikeys::types::builder::CreateNamedUserApiKeyRequest {
    CreateNamedUserApiKeyRequest::builder()
        .name("ci-deploy")
        .expiry_date(None::<DateTime<Utc>>)
}

/// The create's answer is a bare JSON string. `malformed_responses` alters only objects
/// (or a list's first object), so for a string its "wrong types", "nulls" and "oversized"
/// cases are the valid body unchanged and decode; the real wrong-type, null and oversized
/// answers are checked by `a_create_answered_with_no_string_or_too_much_fails_typed`.
const SECRET_UNCHANGED_BY_THE_HELPER: &[&str] = &["wrong types", "nulls", "oversized"];

/// Every generated operation (the ten of xtask's balena row), with its success status
/// (200 for all) and a valid body (`None` for update and revoke, which read none).
fn operations() -> Vec<OperationCase<Client>> {
    vec![
        OperationCase {
            operation: "create_named_user_api_key",
            method: "POST",
            path: "/api-key/user/full".into(),
            status: 200,
            valid: Some(json!(CREATED)),
            also_decodes: SECRET_UNCHANGED_BY_THE_HELPER,
            call: |c| {
                Box::pin(async move {
                    let request = c.create_named_user_api_key().body(create_body());
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_actor_whoami",
            method: "GET",
            path: "/actor/v1/whoami".into(),
            status: 200,
            valid: Some(whoami()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.get_actor_whoami();
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_api_keys",
            method: "GET",
            path: "/v7/api_key".into(),
            status: 200,
            valid: Some(named_user_keys()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.get_api_keys().orderby("name asc");
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "count_api_keys",
            method: "GET",
            path: "/v7/api_key/$count".into(),
            status: 200,
            valid: Some(json!({"d": 2})),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.count_api_keys().filter("name ne null");
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "update_api_key",
            method: "PATCH",
            path: format!("/v7/api_key({KEY})"),
            status: 200,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .update_api_key()
                        .id(KEY)
                        .body(ApiKeyUpdate::new().name("ci-deploy-v2"));
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "revoke_api_key",
            method: "DELETE",
            path: format!("/v7/api_key({KEY})"),
            status: 200,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.revoke_api_key().id(KEY);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_application_actor",
            method: "GET",
            path: format!("/v7/application({APPLICATION})"),
            status: 200,
            valid: Some(actor_rows()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.get_application_actor().id(APPLICATION).select("actor");
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "find_application_actor",
            method: "GET",
            path: "/v7/application".into(),
            status: 200,
            valid: Some(actor_rows()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .find_application_actor()
                        .filter("slug eq 'myorg%2Fmyapp' or uuid eq 'myorg%2Fmyapp'")
                        .select("actor");
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_device_actor",
            method: "GET",
            path: format!("/v7/device({DEVICE})"),
            status: 200,
            valid: Some(actor_rows()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.get_device_actor().id(DEVICE).select("actor");
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_device_actor_by_uuid",
            method: "GET",
            path: format!("/v7/device(uuid='{DEVICE_UUID}')"),
            status: 200,
            valid: Some(actor_rows()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .get_device_actor_by_uuid()
                        .uuid(DEVICE_UUID)
                        .select("actor");
                    request.send().await.map(drop)
                })
            },
        },
    ]
}

#[tokio::test]
async fn every_operation_survives_every_malformed_response() {
    let cases = operations();
    let operations = cases.len();
    assert_eq!(operations, 10);
    assert_eq!(check_malformed_responses("", cases).await, operations * 10);
}

#[tokio::test]
async fn retry_after_reset_stall_and_redirects_behave_for_an_idempotent_read() {
    let case = operations()
        .into_iter()
        .find(|case| case.operation == "get_api_keys")
        .unwrap();
    assert_eq!(check_faults("", case).await, 6);
}

#[tokio::test]
async fn a_create_answered_with_no_string_or_too_much_fails_typed() {
    // The three cases the helper cannot build for a bare-string body.
    let oversized = json!("x".repeat(MALFORMED_LIMIT)).to_string().into_bytes();
    let cases = [
        (b"12".to_vec(), "wrong type"),
        (b"null".to_vec(), "null"),
        (oversized, "oversized"),
    ];
    for (body, name) in cases {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .and(path("/api-key/user/full"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
        let client = Client::builder(server.uri())
            .jwt("token")
            .retry(RetryPolicy::disabled())
            .max_response_bytes(MALFORMED_LIMIT)
            .build()
            .unwrap();

        let err = client
            .api_key()
            .create("ci-deploy", None, None)
            .await
            .unwrap_err();

        match name {
            "oversized" => assert!(
                matches!(
                    err,
                    Error::BodyTooLarge {
                        limit: MALFORMED_LIMIT
                    }
                ),
                "{name}: {err:?}"
            ),
            _ => assert!(matches!(err, Error::Decode { .. }), "{name}: {err:?}"),
        }
    }
}

/// How long `Display` + `Debug` of a decode error may be, whatever the body.
const SHOWN_LIMIT: usize = 2_000;

/// What the generated code does with a success body of type `T`: any failure is a typed,
/// short `Error::Decode`.
fn decodes_or_fails_typed<T: DeserializeOwned>(body: &[u8]) -> Result<(), TestCaseError> {
    if let Err(e) = serde_json::from_slice::<T>(body) {
        let generated =
            GeneratedError::<BalenaError>::InvalidResponsePayload(body.to_vec().into(), e);
        let error = Error::from(generated);
        let shown = format!("{error} {error:?}");
        prop_assert!(matches!(error, Error::Decode { .. }), "{}", shown);
        prop_assert!(
            shown.len() < SHOWN_LIMIT,
            "{} bytes: {}",
            shown.len(),
            shown
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_break_response_decoding(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        // Every response type of the ten operations, the key row they contain and the
        // error body.
        decodes_or_fails_typed::<Secret>(&body)?;
        decodes_or_fails_typed::<ActorWhoami>(&body)?;
        decodes_or_fails_typed::<ApiKeyCollection>(&body)?;
        decodes_or_fails_typed::<ApiKey>(&body)?;
        decodes_or_fails_typed::<ODataCount>(&body)?;
        decodes_or_fails_typed::<ActorRefCollection>(&body)?;
        decodes_or_fails_typed::<BalenaError>(&body)?;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_canary_never_reaches_logs_values_or_errors() {
    let capture = TraceCapture::default();
    let _guard = capture.install();
    let server = mock_server().await;
    // The created key's secret is the canary.
    Mock::given(method("POST"))
        .and(path("/api-key/user/full"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(CANARY)))
        .mount(&server)
        .await;
    // openBalena may send the secret `key` column in a listing; the crate does not model it.
    Mock::given(method("GET"))
        .and(path("/v7/api_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"d": [{"id": KEY, "name": "ci-deploy", "key": CANARY, "is_of__actor": {"__id": 1111}}]}),
        ))
        .mount(&server)
        .await;
    // Error bodies echoing the credential, in two of balena's error shapes.
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_raw(format!("\"Invalid token {CANARY}\""), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": format!("Bad API key {CANARY}")})),
        )
        .mount(&server)
        .await;
    // A success body that does not decode and quotes the canary.
    Mock::given(method("GET"))
        .and(path("/actor/v1/whoami"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "x", "actorType": "user", "actorTypeId": 42, "username": CANARY}),
        ))
        .mount(&server)
        .await;

    let mut shown = Vec::new();
    let builder = Client::builder(server.uri())
        .jwt(CANARY)
        .retry(RetryPolicy::disabled());
    shown.push(format!("{builder:?}"));
    let client = builder.build().unwrap();
    shown.push(format!("{client:?}"));
    let key_client = Client::builder(server.uri())
        .api_key(CANARY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    shown.push(format!("{key_client:?}"));

    let created = client.api_key().create("ci", None, None).await.unwrap();
    assert_eq!(
        created.expose_secret(),
        CANARY,
        "the secret is there when asked"
    );
    shown.push(format!("{created:?} {created:#?} {created}"));
    shown.push(serde_json::to_string(&created).unwrap());
    let response = client
        .create_named_user_api_key()
        .body(create_body())
        .send()
        .await
        .unwrap();
    shown.push(format!("{response:?}"));

    let keys = key_client.api_key().get_all().send().await.unwrap();
    shown.push(format!("{keys:?}"));
    shown.push(serde_json::to_string(&keys).unwrap());

    let revoked = client.api_key().revoke(KEY).await.unwrap_err();
    shown.push(format!("{revoked:?} {revoked}"));
    let updated = key_client
        .api_key()
        .update(KEY, ApiKeyUpdate::new().name("x"))
        .await
        .unwrap_err();
    shown.push(format!("{updated:?} {updated}"));
    let decode = client.get_actor_whoami().send().await.unwrap_err();
    assert!(matches!(decode, Error::Decode { .. }), "{decode:?}");
    shown.push(format!("{decode:?} {decode}"));

    let refused = Client::builder(server.uri())
        .api_key(format!("{CANARY}\n"))
        .build()
        .unwrap_err();
    shown.push(format!("{refused:?} {refused}"));

    capture.assert_never_shows(CANARY, &shown);
    assert_eq!(shown.len(), 12);
}

/// A client that retries idempotent operations quickly.
fn retrying_client(uri: String) -> Client {
    Client::builder(uri)
        .jwt("eyJhbGciOiJIUzI1NiJ9.eyJpZCI6NDJ9.sig")
        .retry(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_update_succeeds_after_two_503s_in_exactly_three_requests() {
    // The PATCH that xtask marks idempotent: setting fields to values twice is setting them
    // once.
    let server: MockServer = mock_server().await;
    let route = format!("/v7/api_key({KEY})");
    Mock::given(method("PATCH"))
        .and(path(route.as_str()))
        .respond_with(ResponseTemplate::new(503).set_body_raw("Service Unavailable", "text/plain"))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(route.as_str()))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    retrying_client(server.uri())
        .api_key()
        .update(KEY, ApiKeyUpdate::new().name("ci-deploy-v2"))
        .await
        .unwrap();

    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|r| r.body == seen[0].body),
        "one request, resent"
    );
}

// `create_named_user_api_key` is the crate's only non-idempotent operation.
#[tokio::test]
async fn a_create_is_sent_once_when_the_server_is_unavailable() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api-key/user/full"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;

    let err = retrying_client(server.uri())
        .api_key()
        .create("ci-deploy", None, None)
        .await
        .unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err:?}");
}

#[tokio::test]
async fn a_create_is_sent_once_when_the_connection_breaks() {
    for fault in [Fault::ResetMidBody, Fault::CloseBeforeResponse] {
        let server = FaultServer::start(fault).await;

        let err = retrying_client(server.uri())
            .api_key()
            .create("ci-deploy", None, None)
            .await
            .unwrap_err();

        assert!(matches!(err, Error::Transport(_)), "{fault:?}: {err:?}");
        assert_eq!(server.requests(), 1, "{fault:?}");
    }
}

/// The API's prefix on the test server.
const BASE: &str = "";

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
async fn a_100_kb_device_uuid_is_refused_before_sending() {
    let sent = check_oversized_id::<Client>("", |client, uuid| {
        Box::pin(async move {
            let request = client.get_device_actor_by_uuid().uuid(uuid).select("actor");
            request.send().await.map(drop)
        })
    })
    .await;
    assert_eq!(sent, 0);
}
