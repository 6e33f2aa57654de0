//! Hostile servers: every operation fed malformed responses ends in a value or a typed
//! error, never a panic; and arbitrary bytes never break decoding.

use std::future::Future;
use std::pin::Pin;

use apikeys_common::testing::{MALFORMED_LIMIT, Outcome, malformed_responses, mock_server};
use proptest::prelude::*;
use serde_json::{Value, json};
use thingsboard_apikeys::types::{
    ApiKey, ApiKeyInfo, LoginResponse, PageDataApiKeyInfo, SaveApiKeyRequest,
};
use thingsboard_apikeys::{Client, Error, LoginRequest, RetryPolicy};
use uuid::{Uuid, uuid};
use wiremock::Mock;
use wiremock::matchers::{method, path};

const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
const KEY: Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

type Call = for<'a> fn(&'a Client) -> Pin<Box<dyn Future<Output = Result<(), Error>> + 'a>>;

fn key_info() -> Value {
    json!({
        "id": {"entityType": "API_KEY", "id": KEY}, "createdTime": 1763891234567_i64,
        "tenantId": {"entityType": "TENANT", "id": "1e3f7b40-8b2e-11f0-9d41-6b1e2a7c4d10"},
        "userId": {"entityType": "USER", "id": USER}, "expirationTime": 0,
        "description": "CI deploy key", "enabled": true, "expired": false
    })
}

/// Every operation: (operationId, method, path, a valid 200 body or `None` when the
/// operation reads no body, the call).
fn operations() -> Vec<(&'static str, &'static str, String, Option<Value>, Call)> {
    let mut created = key_info();
    created["value"] = json!("tb_secret");
    let page = json!({"data": [key_info()], "totalPages": 1, "totalElements": 1, "hasNext": false});
    vec![
        (
            "login",
            "POST",
            "/api/auth/login".into(),
            Some(json!({"token": "a.b.c", "refreshToken": "d.e.f"})),
            |c| {
                Box::pin(async move {
                    c.login()
                        .body(LoginRequest::new("u@example.com", "pw"))
                        .send()
                        .await
                        .map(drop)
                        .map_err(Error::from)
                })
            },
        ),
        (
            "save_api_key",
            "POST",
            "/api/apiKey".into(),
            Some(created),
            |c| {
                Box::pin(async move {
                    let body = SaveApiKeyRequest::builder()
                        .user_id(USER)
                        .description("d")
                        .enabled(true);
                    c.save_api_key()
                        .body(body)
                        .send()
                        .await
                        .map(drop)
                        .map_err(Error::from)
                })
            },
        ),
        (
            "enable_api_key",
            "PUT",
            format!("/api/apiKey/{KEY}/enabled/true"),
            Some(key_info()),
            |c| {
                Box::pin(async move {
                    c.enable_api_key()
                        .id(KEY)
                        .enabled_value(true)
                        .send()
                        .await
                        .map(drop)
                        .map_err(Error::from)
                })
            },
        ),
        (
            "update_api_key_description",
            "PUT",
            format!("/api/apiKey/{KEY}/description"),
            Some(key_info()),
            |c| {
                Box::pin(async move {
                    c.update_api_key_description()
                        .id(KEY)
                        .body("new")
                        .send()
                        .await
                        .map(drop)
                        .map_err(Error::from)
                })
            },
        ),
        (
            "get_user_api_keys",
            "GET",
            format!("/api/apiKeys/{USER}"),
            Some(page),
            |c| {
                Box::pin(async move {
                    c.get_user_api_keys()
                        .user_id(USER.to_string())
                        .page(0)
                        .page_size(10)
                        .send()
                        .await
                        .map(drop)
                        .map_err(Error::from)
                })
            },
        ),
        (
            "delete_api_key",
            "DELETE",
            format!("/api/apiKey/{KEY}"),
            None,
            |c| {
                Box::pin(async move {
                    c.delete_api_key()
                        .id(KEY)
                        .send()
                        .await
                        .map(drop)
                        .map_err(Error::from)
                })
            },
        ),
    ]
}

#[tokio::test]
async fn every_operation_survives_every_malformed_response() {
    let mut tried = 0;
    for (operation, verb, route, valid, call) in operations() {
        // An operation without a response body reads none, so anything is a success.
        let reference = valid.clone().unwrap_or_else(|| json!({"unused": true}));
        for case in malformed_responses(&reference) {
            let server = mock_server().await;
            Mock::given(method(verb))
                .and(path(route.as_str()))
                .respond_with(case.response)
                .expect(1)
                .mount(&server)
                .await;
            let client = Client::builder(server.uri())
                .api_key("tb_k")
                .retry(RetryPolicy::disabled())
                .max_response_bytes(MALFORMED_LIMIT)
                .build()
                .unwrap();

            let result = call(&client).await;

            let expected = if valid.is_some() {
                case.outcome
            } else {
                Outcome::Decodes
            };
            match (expected, &result) {
                (Outcome::Decodes, Ok(())) => {}
                (Outcome::Fails, Err(Error::Decode { .. } | Error::BodyTooLarge { .. })) => {}
                _ => panic!(
                    "{operation}, {}: expected {expected:?}, got {result:?}",
                    case.name
                ),
            }
            if case.name == "oversized" && valid.is_some() {
                assert!(
                    matches!(
                        result,
                        Err(Error::BodyTooLarge {
                            limit: MALFORMED_LIMIT
                        })
                    ),
                    "{result:?}"
                );
            }
            tried += 1;
        }
    }
    assert_eq!(tried, 6 * 10);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_break_response_decoding(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        // What the generated code does with a 200 body, for every response type.
        let _ = serde_json::from_slice::<ApiKey>(&body);
        let _ = serde_json::from_slice::<ApiKeyInfo>(&body);
        let _ = serde_json::from_slice::<PageDataApiKeyInfo>(&body);
        let _ = serde_json::from_slice::<LoginResponse>(&body);
        if let Err(e) = serde_json::from_slice::<ApiKey>(&body) {
            let generated = thingsboard_apikeys::GeneratedError::<thingsboard_apikeys::types::ThingsboardErrorResponse>::InvalidResponsePayload(body.clone().into(), e);
            let error = Error::from(generated);
            let shown = format!("{error} {error:?}");
            let is_decode = matches!(error, Error::Decode { .. });
            prop_assert!(is_decode, "{}", shown);
            prop_assert!(shown.len() < 2_000);
        }
    }

    #[test]
    fn arbitrary_json_strings_in_the_secret_field_never_leak_through_decode_errors(secret in "[a-zA-Z0-9_-]{12,40}") {
        // A secret in a body with a wrong-typed field: the decode error must not quote it.
        let body = json!({"value": secret, "createdTime": "not-a-number"}).to_string();
        let e = serde_json::from_str::<ApiKey>(&body).unwrap_err();
        let error = Error::from(thingsboard_apikeys::GeneratedError::<thingsboard_apikeys::types::ThingsboardErrorResponse>::InvalidResponsePayload(body.into(), e));
        let shown = format!("{error} {error:?}");
        prop_assert!(!shown.contains(&secret), "{}", shown);
    }
}
