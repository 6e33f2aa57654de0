//! Hostile servers: every operation fed malformed responses ends in a value or a typed
//! error, never a panic; arbitrary bytes never break decoding; a canary secret appears in no
//! log, value or error; creates are never sent twice over a broken network.
//!
//! Hostile ids: this crate has no string path parameter. Every path parameter (`userId`,
//! the key's `id`, the organization's `id`) is an `i64`, so no id can change the
//! shape of a path and `check_hostile_ids` has nothing to try. A string id does not compile
//! (the `compile_fail` doctest on `Org`), and the integer extremes are sent in decimal as
//! one segment (`ids_are_integers_sent_in_decimal_and_keep_the_path_shape` in api_keys.rs).

use apikeys_common::testing::{
    CANARY, Fault, FaultServer, OperationCase, TraceCapture, check_faults,
    check_malformed_responses, fast_retries, mock_server,
};
use automox_apikeys::types::{
    ApiKey, ApiKeyPage, AutomoxErrorResponse, CreateApiKey, DecryptedApiKey, UpdateApiKey,
};
use automox_apikeys::{Client, Error, RetryPolicy, Timestamp};
use progenitor_client::Error as GeneratedError;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ORG: i64 = 1234;
const USER: i64 = 98765;
const KEY: i64 = 424242;
/// The secret `decrypt` returns in api_keys.rs.
const DECRYPTED: &str = "21636369-8b52-4b4a-97b7-50923ceb3ffd";

/// The `ApiKey` that api_keys.rs's `ci_pipeline` fixture writes.
fn ci_pipeline(enabled: bool) -> Value {
    json!({
        "id": KEY, "name": "ci-pipeline", "is_enabled": enabled,
        "expires_at": "2026-12-31T23:59:59+0000", "created_at": "2025-11-23T08:41:07+0000",
        "user": {"id": USER, "firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"}
    })
}

/// A page of keys, as api_keys.rs's list tests answer.
fn page() -> Value {
    json!({"size": 1, "results": [ci_pipeline(true)]})
}

/// Every `ApiKey` field is optional: a key without fields, or with only nulls, is
/// still a key, so these two malformed cases legitimately decode for key answers.
const KEY_ALSO_DECODES: &[&str] = &["required fields missing", "nulls"];
/// An `ApiKeyPage`'s `results` defaults to empty and `size` is optional, so `{}` is an empty
/// page; `"results": null` is not a list and still fails.
const PAGE_ALSO_DECODES: &[&str] = &["required fields missing"];

/// Every generated operation (the seven of xtask's automox row), with its real success
/// status and a valid body (`None` for delete's bodiless 204).
fn operations() -> Vec<OperationCase<Client>> {
    vec![
        OperationCase {
            operation: "get_organization_api_keys",
            method: "GET",
            path: format!("/api/orgs/{ORG}/api_keys"),
            status: 200,
            valid: Some(page()),
            also_decodes: PAGE_ALSO_DECODES,
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .org(ORG)
                        .get_organization_api_keys()
                        .page(0u64)
                        .limit(1u64);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_user_api_keys",
            method: "GET",
            path: format!("/api/users/{USER}/api_keys"),
            status: 200,
            valid: Some(page()),
            also_decodes: PAGE_ALSO_DECODES,
            call: |c| {
                Box::pin(async move {
                    let request = c.org(ORG).get_user_api_keys().user_id(USER);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "create_user_api_key",
            method: "POST",
            path: format!("/api/users/{USER}/api_keys"),
            status: 200,
            valid: Some(ci_pipeline(true)),
            also_decodes: KEY_ALSO_DECODES,
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .org(ORG)
                        .create_user_api_key()
                        .user_id(USER)
                        .body(CreateApiKey::builder().name("ci-pipeline"));
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_user_api_key",
            method: "GET",
            path: format!("/api/users/{USER}/api_keys/{KEY}"),
            status: 200,
            valid: Some(ci_pipeline(true)),
            also_decodes: KEY_ALSO_DECODES,
            call: |c| {
                Box::pin(async move {
                    let request = c.org(ORG).get_user_api_key().user_id(USER).id(KEY);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "update_user_api_key",
            method: "PUT",
            path: format!("/api/users/{USER}/api_keys/{KEY}"),
            status: 200,
            valid: Some(ci_pipeline(false)),
            also_decodes: KEY_ALSO_DECODES,
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .org(ORG)
                        .update_user_api_key()
                        .user_id(USER)
                        .id(KEY)
                        .body(UpdateApiKey { is_enabled: false });
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "delete_user_api_key",
            method: "DELETE",
            path: format!("/api/users/{USER}/api_keys/{KEY}"),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.org(ORG).delete_user_api_key().user_id(USER).id(KEY);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "decrypt_user_api_key",
            method: "POST",
            path: format!("/api/users/{USER}/api_keys/{KEY}/decrypt"),
            status: 200,
            valid: Some(json!({"api_key": DECRYPTED})),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.org(ORG).decrypt_user_api_key().user_id(USER).id(KEY);
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
    assert_eq!(operations, 7);
    assert_eq!(
        check_malformed_responses("/api", cases).await,
        operations * 10
    );
}

/// How long `Display` + `Debug` of a decode error may be, in bytes, whatever the body
/// (the excerpt replaces characters `Debug` would escape at length).
const SHOWN_LIMIT: usize = 2_000;

/// What the generated code does with a success body of type `T`: any failure is a typed,
/// short `Error::Decode`.
fn decodes_or_fails_typed<T: DeserializeOwned>(body: &[u8]) -> Result<(), TestCaseError> {
    if let Err(e) = serde_json::from_slice::<T>(body) {
        let generated =
            GeneratedError::<AutomoxErrorResponse>::InvalidResponsePayload(body.to_vec().into(), e);
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

#[test]
fn the_worst_bodies_for_the_excerpt_stay_under_the_limit() {
    let mut controls = b"[".to_vec();
    controls.extend([0x7f; 511]);
    let mut wide = b"[".to_vec();
    wide.extend("\u{10ffff}".repeat(127).into_bytes());
    for body in [controls, wide] {
        let e = serde_json::from_slice::<ApiKey>(&body).unwrap_err();
        let error = Error::from(
            GeneratedError::<AutomoxErrorResponse>::InvalidResponsePayload(body.into(), e),
        );
        let shown = format!("{error} {error:?}");
        assert!(shown.len() < SHOWN_LIMIT, "{}", shown.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_break_response_decoding(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        // Every response type, the error body and the hand-written timestamp.
        decodes_or_fails_typed::<ApiKey>(&body)?;
        decodes_or_fails_typed::<ApiKeyPage>(&body)?;
        decodes_or_fails_typed::<DecryptedApiKey>(&body)?;
        decodes_or_fails_typed::<AutomoxErrorResponse>(&body)?;
        decodes_or_fails_typed::<Timestamp>(&body)?;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_canary_never_reaches_logs_values_or_errors() {
    let capture = TraceCapture::default();
    let _guard = capture.install();
    let server = mock_server().await;
    let echo = |status: u16| {
        ResponseTemplate::new(status)
            .set_body_json(json!({"errors": [format!("Invalid API key {CANARY}")]}))
    };
    let on = |verb: &str, route: String| Mock::given(method(verb)).and(path(route.as_str()));
    // Automox's created key carries no secret: decrypt is where one comes back.
    on("POST", format!("/api/users/{USER}/api_keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ci_pipeline(true)))
        .expect(1)
        .mount(&server)
        .await;
    on("POST", format!("/api/users/{USER}/api_keys/{KEY}/decrypt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"api_key": CANARY})))
        .expect(1)
        .mount(&server)
        .await;
    on("DELETE", format!("/api/users/{USER}/api_keys/{KEY}"))
        .respond_with(echo(401))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", format!("/api/orgs/{ORG}/api_keys"))
        .respond_with(echo(403))
        .expect(1)
        .mount(&server)
        .await;
    // The timestamp's own decode error quotes the text it refused.
    on("GET", format!("/api/users/{USER}/api_keys/{KEY}"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": KEY, "created_at": CANARY})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Cut short inside the secret's string.
    on("PUT", format!("/api/users/{USER}/api_keys/{KEY}"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(r#"{{"id": {KEY}, "name": "{CANARY}"#),
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", format!("/api/users/{USER}/api_keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page()))
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
    let org = client.org(ORG);
    shown.push(format!("{org:?}"));

    let created = org
        .create_user_api_key()
        .user_id(USER)
        .body(CreateApiKey::builder().name("ci-pipeline"))
        .send()
        .await
        .unwrap();
    shown.push(format!("{created:?}"));

    let decrypted = org
        .decrypt_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap();
    shown.push(format!("{decrypted:?} {decrypted:#?}"));
    let decrypted = decrypted;
    assert_eq!(decrypted.api_key.expose_secret(), CANARY);
    shown.push(format!("{decrypted:?} {}", decrypted.api_key));
    shown.push(serde_json::to_string(&decrypted).unwrap());

    let raw = org
        .delete_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap_err();
    shown.push(format!("{raw:?} {raw}"));
    let unauthorized = raw;
    assert!(unauthorized.is_unauthorized(), "{unauthorized:?}");
    shown.push(format!("{unauthorized:?} {unauthorized}"));

    let forbidden = org.get_organization_api_keys().send().await.unwrap_err();
    assert!(forbidden.is_forbidden(), "{forbidden:?}");
    shown.push(format!("{forbidden:?} {forbidden}"));

    for decode in [
        org.get_user_api_key()
            .user_id(USER)
            .id(KEY)
            .send()
            .await
            .unwrap_err(),
        org.update_user_api_key()
            .user_id(USER)
            .id(KEY)
            .body(UpdateApiKey { is_enabled: true })
            .send()
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(decode, Error::Decode { .. }), "{decode:?}");
        shown.push(format!("{decode:?} {decode}"));
    }

    let listed = org.get_user_api_keys().user_id(USER).send().await.unwrap();
    shown.push(format!("{listed:?}"));

    let refused = Client::builder(format!("{}/api", server.uri()))
        .api_key(format!("{CANARY}\n"))
        .build()
        .unwrap_err();
    shown.push(format!("{refused:?} {refused}"));

    capture.assert_never_shows(CANARY, &shown);
    assert_eq!(shown.len(), 14);
}

/// A client that retries idempotent operations quickly, with the `/api` prefix.
fn retrying_client(uri: String) -> Client {
    Client::builder(format!("{uri}/api"))
        .api_key("21636369-8b52-4b4a-97b7-50923ceb3ffd")
        .retry(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn retry_after_reset_stall_and_redirects_behave_for_an_idempotent_read() {
    let case = operations()
        .into_iter()
        .find(|case| case.operation == "get_user_api_keys")
        .unwrap();
    assert_eq!(check_faults("/api", case).await, 6);
}

#[tokio::test]
async fn decrypt_succeeds_after_two_503s_in_exactly_three_requests() {
    // Decrypt is a POST that xtask marks idempotent: reading a secret changes nothing.
    let server: MockServer = mock_server().await;
    let route = format!("/api/users/{USER}/api_keys/{KEY}/decrypt");
    Mock::given(method("POST"))
        .and(path(route.as_str()))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"errors": ["Service Unavailable"]})),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(route.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"api_key": DECRYPTED})))
        .expect(1)
        .mount(&server)
        .await;

    let decrypted = retrying_client(server.uri())
        .org(ORG)
        .decrypt_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap();

    assert_eq!(decrypted.api_key.expose_secret(), DECRYPTED);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

// A create under 503 is sent once: `decrypt_is_retried_after_a_503_but_create_is_never_sent_twice`
// in api_keys.rs. `create_user_api_key` is the crate's only non-idempotent operation.
#[tokio::test]
async fn a_create_is_sent_once_when_the_connection_breaks() {
    for fault in [Fault::ResetMidBody, Fault::CloseBeforeResponse] {
        let server = FaultServer::start(fault).await;

        let err = retrying_client(server.uri())
            .org(ORG)
            .create_user_api_key()
            .user_id(USER)
            .body(CreateApiKey::builder().name("ci-pipeline"))
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
    oversized_id, secret_echoes,
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
async fn a_100_kb_url_is_refused_before_sending() {
    // No string reaches an Automox URL (every id is an `i64`): the 100 KB is a path prefix.
    let base = format!("/api/{}", oversized_id());
    let sent = check_oversized_id::<Client>(&base, |client, _| {
        Box::pin(async move {
            let request = client.org(ORG).get_user_api_keys().user_id(USER);
            request.send().await.map(drop)
        })
    })
    .await;
    assert_eq!(sent, 0);
}
