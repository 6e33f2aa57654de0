//! Hostile servers: every operation fed malformed responses ends in a value or a typed
//! error, never a panic; arbitrary bytes never break decoding; a canary secret reaches no
//! log, value or error; creates (PUT here) are never sent twice; and hostile token ids stay
//! in their path segment.
//!
//! The string path parameter is the token `id` of `update_api_key_token` and
//! `delete_api_key_token`; `apiKeyId` is an `i32` everywhere.

#[allow(unused_imports)]
mod common;

use apikeys_common::testing::{
    CANARY, Call, Fault, FaultServer, OperationCase, TraceCapture, check_faults, check_hostile_ids,
    check_malformed_responses, fast_retries, mock_server,
};
use common::*;
use nuki_apikeys::types::{
    AdvancedApiKey, AdvancedApiKeyCreate, AdvancedApiKeyType, AdvancedApiKeyUpdate, ApiKey,
    ApiKeyCreate, ApiKeyToken, ApiKeyTokenCreate, ApiKeyTokenUpdate, ApiKeyUpdate, NukiError,
    Scope, WebhookFeature,
};
use nuki_apikeys::{Client, Error, RetryPolicy};
use progenitor_client::Error as GeneratedError;
use proptest::prelude::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const ADVANCED: &str = "/api/key/1010101010/advanced";
const TOKENS: &str = "/api/key/1010101010/token";

/// A complete application (nine required fields).
fn application() -> nuki_apikeys::types::builder::AdvancedApiKeyCreate {
    AdvancedApiKeyCreate::builder()
        .name("Example Rentals GmbH")
        .country("Austria")
        .description("Short-term rental platform issuing time-limited keypad codes to guests.")
        .type_(AdvancedApiKeyType::ShortRental)
        .url("https://rentals.example.com")
        .email("integrations@rentals.example.com")
        .webhook_url("https://rentals.example.com/hooks/nuki")
        .webhook_features(vec![WebhookFeature::DeviceStatus])
        .restricted(false)
}

/// The webhook settings (both fields required).
fn webhook_settings() -> nuki_apikeys::types::builder::AdvancedApiKeyUpdate {
    AdvancedApiKeyUpdate::builder()
        .webhook_url("https://rentals.example.com/hooks/nuki-v2")
        .webhook_features(vec![WebhookFeature::DeviceStatus])
}

fn token_request() -> nuki_apikeys::types::builder::ApiKeyTokenCreate {
    ApiKeyTokenCreate::builder()
        .description("CI read-only token".to_string())
        .scopes(vec![Scope::SmartlockReadOnly, Scope::SmartlockLog])
}

/// Every one of the 13 operations, with its real success status and body (`None` for the
/// 204s, which read no body). No `also_decodes`: every response type has required fields,
/// so `{}` and all-nulls fail, and the two list bodies are arrays, which `{}` is not.
fn operations() -> Vec<OperationCase<Client>> {
    vec![
        OperationCase {
            operation: "list_api_keys",
            method: "GET",
            path: "/api/key".into(),
            status: 200,
            valid: Some(json!([api_key()])),
            also_decodes: &[],
            call: |c| Box::pin(async move { c.list_api_keys().send().await.map(drop) }),
        },
        OperationCase {
            operation: "create_api_key",
            method: "PUT",
            path: "/api/key".into(),
            status: 200,
            valid: Some(api_key()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let body = ApiKeyCreate::builder().description("d".to_string());
                    let request = c.create_api_key().body(body);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "update_api_key",
            method: "POST",
            path: "/api/key/1010101010".into(),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let body = ApiKeyUpdate::builder().description("d".to_string());
                    let request = c.update_api_key().api_key_id(KEY_ID).body(body);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "delete_api_key",
            method: "DELETE",
            path: "/api/key/1010101010".into(),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.delete_api_key().api_key_id(KEY_ID);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_advanced_api_key",
            method: "GET",
            path: ADVANCED.into(),
            status: 200,
            valid: Some(advanced_api_key()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.get_advanced_api_key().api_key_id(KEY_ID);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "create_advanced_api_key",
            method: "PUT",
            path: ADVANCED.into(),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .create_advanced_api_key()
                        .api_key_id(KEY_ID)
                        .body(application());
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "update_advanced_api_key",
            method: "POST",
            path: ADVANCED.into(),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .update_advanced_api_key()
                        .api_key_id(KEY_ID)
                        .body(webhook_settings());
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "delete_advanced_api_key",
            method: "DELETE",
            path: ADVANCED.into(),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.delete_advanced_api_key().api_key_id(KEY_ID);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "reactivate_advanced_api_key",
            method: "POST",
            path: format!("{ADVANCED}/reactivate"),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.reactivate_advanced_api_key().api_key_id(KEY_ID);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "list_api_key_tokens",
            method: "GET",
            path: TOKENS.into(),
            status: 200,
            valid: Some(json!([created_token()])),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.list_api_key_tokens().api_key_id(KEY_ID);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "create_api_key_token",
            method: "PUT",
            path: TOKENS.into(),
            status: 200,
            valid: Some(created_token()),
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .create_api_key_token()
                        .api_key_id(KEY_ID)
                        .body(token_request());
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "update_api_key_token",
            method: "POST",
            path: format!("{TOKENS}/{TOKEN_ID}"),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let body = ApiKeyTokenUpdate::builder().description("d".to_string());
                    let request = c
                        .update_api_key_token()
                        .api_key_id(KEY_ID)
                        .id(TOKEN_ID)
                        .body(body);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "delete_api_key_token",
            method: "DELETE",
            path: format!("{TOKENS}/{TOKEN_ID}"),
            status: 204,
            valid: None,
            also_decodes: &[],
            call: |c| {
                Box::pin(async move {
                    let request = c.delete_api_key_token().api_key_id(KEY_ID).id(TOKEN_ID);
                    request.send().await.map(drop)
                })
            },
        },
    ]
}

#[tokio::test]
async fn every_operation_survives_every_malformed_response() {
    assert_eq!(check_malformed_responses("", operations()).await, 13 * 10);
}

/// A failed decode as the generated code reports it, through the crate's `Error`.
fn decode_error(body: &[u8], e: serde_json::Error) -> Error {
    Error::from(GeneratedError::<NukiError>::InvalidResponsePayload(
        body.to_vec().into(),
        e,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_break_response_decoding(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        // What the generated code does with a success (or error) body, for every response
        // type: a value or an error, never a panic; and each error is a short `Decode`.
        let failures = [
            serde_json::from_slice::<Vec<ApiKey>>(&body).err(),
            serde_json::from_slice::<ApiKey>(&body).err(),
            serde_json::from_slice::<AdvancedApiKey>(&body).err(),
            serde_json::from_slice::<Vec<ApiKeyToken>>(&body).err(),
            serde_json::from_slice::<ApiKeyToken>(&body).err(),
            serde_json::from_slice::<NukiError>(&body).err(),
        ];
        for e in failures.into_iter().flatten() {
            let error = decode_error(&body, e);
            let shown = format!("{error} {error:?}");
            let is_decode = matches!(error, Error::Decode { .. });
            prop_assert!(is_decode, "{}", shown);
            prop_assert!(shown.len() < 2_000, "{}", shown.len());
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_canary_never_reaches_logs_values_or_errors() {
    let capture = TraceCapture::default();
    let _guard = capture.install();
    let server = mock_server().await;
    let mut key = api_key();
    key["apiKey"] = json!(CANARY);
    let mut token = created_token();
    token["accessToken"] = json!(CANARY);
    let mut advanced = advanced_api_key();
    advanced["secret"] = json!(CANARY);
    Mock::given(method("PUT"))
        .and(path("/api/key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&key))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([key])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(TOKENS))
        .respond_with(ResponseTemplate::new(200).set_body_json(&token))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(TOKENS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([token])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ADVANCED))
        .respond_with(ResponseTemplate::new(200).set_body_json(&advanced))
        .expect(1)
        .mount(&server)
        .await;
    // An error body echoing the credential.
    Mock::given(method("DELETE"))
        .respond_with(nuki_error(
            401,
            "Unauthorized",
            &format!("Unknown token {CANARY}"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let mut shown = Vec::new();
    let builder = Client::builder(server.uri())
        .api_key(CANARY)
        .retry(RetryPolicy::disabled());
    shown.push(format!("{builder:?}"));
    let client = builder.build().unwrap();
    shown.push(format!("{client:?}"));

    let created = client
        .create_api_key()
        .body(ApiKeyCreate::builder())
        .send()
        .await
        .unwrap();
    shown.push(format!("{created:?} {created:#?}"));
    let created = created;
    let value = created.api_key.as_ref().unwrap();
    assert_eq!(value.expose_secret(), CANARY);
    shown.push(format!("{value} {value:?}"));
    shown.push(serde_json::to_string(&created).unwrap());

    let keys = client.list_api_keys().send().await.unwrap();
    shown.push(format!(
        "{keys:?} {}",
        serde_json::to_string(&keys).unwrap()
    ));

    let token = client
        .create_api_key_token()
        .api_key_id(KEY_ID)
        .body(token_request())
        .send()
        .await
        .unwrap();
    shown.push(format!("{token:?}"));
    let token = token;
    let access = token.access_token.as_ref().unwrap();
    assert_eq!(access.expose_secret(), CANARY);
    shown.push(format!("{access} {access:?}"));
    shown.push(serde_json::to_string(&token).unwrap());

    let tokens = client
        .list_api_key_tokens()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
    shown.push(format!(
        "{tokens:?} {}",
        serde_json::to_string(&tokens).unwrap()
    ));

    let advanced = client
        .get_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
    shown.push(format!("{advanced:?}"));
    let advanced = advanced;
    let secret = advanced.secret.as_ref().unwrap();
    assert_eq!(secret.expose_secret(), CANARY);
    shown.push(format!("{secret} {secret:?}"));
    shown.push(serde_json::to_string(&advanced).unwrap());

    let unauthorized = client
        .delete_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap_err();
    assert!(unauthorized.is_unauthorized(), "{unauthorized:?}");
    shown.push(format!("{unauthorized:?} {unauthorized}"));

    // A success body holding the canary that does not decode (`creationDate` a number).
    let server_decode = mock_server().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"accessToken": CANARY, "creationDate": 12})),
        )
        .expect(1)
        .mount(&server_decode)
        .await;
    let decoding = Client::builder(server_decode.uri())
        .api_key(CANARY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    let decode = decoding
        .create_api_key_token()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(decode, Error::Decode { .. }), "{decode:?}");
    shown.push(format!("{decode:?} {decode}"));

    let refused = Client::builder(server.uri())
        .api_key(format!("{CANARY}\n"))
        .build()
        .unwrap_err();
    shown.push(format!("{refused:?} {refused}"));

    capture.assert_never_shows(CANARY, &shown);
    assert_eq!(shown.len(), 16);
}

/// The default retry policy (shortened), pointed at `uri`.
fn retrying(uri: String) -> Client {
    Client::builder(uri)
        .api_key(CALLER_TOKEN)
        .retry(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn retry_after_reset_stall_and_redirects_behave_for_an_idempotent_read() {
    let case = operations()
        .into_iter()
        .find(|case| case.operation == "list_api_keys")
        .unwrap();
    assert_eq!(check_faults("", case).await, 6);
}

#[tokio::test]
async fn an_idempotent_read_succeeds_after_two_503s() {
    // `updating_with_post_is_retried` (api_keys.rs) covers one 503 on an update.
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/key"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([api_key()])))
        .expect(1)
        .mount(&server)
        .await;

    let keys = retrying(server.uri()).list_api_keys().send().await.unwrap();

    assert_eq!(keys[0].api_key_id, KEY_ID);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

/// The three creates (Nuki creates with PUT), with their paths.
fn creates() -> [(&'static str, &'static str, Call<Client>); 3] {
    [
        ("create_api_key", "/api/key", |c| {
            Box::pin(async move {
                let request = c.create_api_key().body(ApiKeyCreate::builder());
                request.send().await.map(drop)
            })
        }),
        ("create_advanced_api_key", ADVANCED, |c| {
            Box::pin(async move {
                let request = c
                    .create_advanced_api_key()
                    .api_key_id(KEY_ID)
                    .body(application());
                request.send().await.map(drop)
            })
        }),
        ("create_api_key_token", TOKENS, |c| {
            Box::pin(async move {
                let request = c
                    .create_api_key_token()
                    .api_key_id(KEY_ID)
                    .body(token_request());
                request.send().await.map(drop)
            })
        }),
    ]
}

#[tokio::test]
async fn every_create_is_sent_once_even_when_the_server_is_unavailable() {
    // `create_api_key` under 503 is `creating_with_put_is_never_retried` (api_keys.rs).
    for (operation, route, call) in creates()
        .into_iter()
        .filter(|(operation, ..)| *operation != "create_api_key")
    {
        let server = mock_server().await;
        Mock::given(method("PUT"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(503))
            .expect(1)
            .mount(&server)
            .await;

        let err = call(&retrying(server.uri())).await.unwrap_err();

        assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{operation}");
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            1,
            "{operation}"
        );
    }
}

#[tokio::test]
async fn every_create_is_sent_once_when_the_connection_breaks() {
    for fault in [Fault::ResetMidBody, Fault::CloseBeforeResponse] {
        for (operation, _, call) in creates() {
            let server = FaultServer::start(fault).await;

            let err = call(&retrying(server.uri())).await.unwrap_err();

            assert!(
                matches!(err, Error::Transport(_)),
                "{operation}, {fault:?}: {err:?}"
            );
            assert_eq!(server.requests(), 1, "{operation}, {fault:?}");
        }
    }
}

#[tokio::test]
async fn hostile_token_ids_stay_in_their_segment_when_updating() {
    let tried = check_hostile_ids::<Client>(
        "",
        "POST",
        "/api/key/1010101010/token/",
        "",
        ResponseTemplate::new(204),
        |client, id| {
            Box::pin(async move {
                let body = ApiKeyTokenUpdate::builder().description("d".to_string());
                let request = client
                    .update_api_key_token()
                    .api_key_id(KEY_ID)
                    .id(id)
                    .body(body);
                request.send().await.map(drop)
            })
        },
    )
    .await;
    assert_eq!(tried, 30);
}

#[tokio::test]
async fn hostile_token_ids_stay_in_their_segment_when_deleting() {
    let tried = check_hostile_ids::<Client>(
        "",
        "DELETE",
        "/api/key/1010101010/token/",
        "",
        ResponseTemplate::new(204),
        |client, id| {
            Box::pin(async move {
                let request = client.delete_api_key_token().api_key_id(KEY_ID).id(id);
                request.send().await.map(drop)
            })
        },
    )
    .await;
    assert_eq!(tried, 30);
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
async fn a_100_kb_token_id_is_refused_before_sending() {
    let sent = check_oversized_id::<Client>("", |client, id| {
        Box::pin(async move {
            let request = client.delete_api_key_token().api_key_id(KEY_ID).id(id);
            request.send().await.map(drop)
        })
    })
    .await;
    assert_eq!(sent, 0);
}
