//! Hostile servers: every operation fed malformed responses ends in a value or a typed
//! error, never a panic; and arbitrary bytes never break decoding.

mod common;

use apikeys_common::testing::check_malformed_responses;
use common::operations;
use proptest::prelude::*;
use serde_json::json;
use thingsboard_apikeys::Error;
use thingsboard_apikeys::types::{ApiKey, ApiKeyInfo, LoginResponse, PageDataApiKeyInfo};

#[tokio::test]
async fn every_operation_survives_every_malformed_response() {
    assert_eq!(check_malformed_responses("", operations()).await, 6 * 10);
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
            let generated = progenitor_client::Error::<thingsboard_apikeys::types::ThingsboardErrorResponse>::InvalidResponsePayload(body.clone().into(), e);
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
        let error = Error::from(progenitor_client::Error::<thingsboard_apikeys::types::ThingsboardErrorResponse>::InvalidResponsePayload(body.into(), e));
        let shown = format!("{error} {error:?}");
        prop_assert!(!shown.contains(&secret), "{}", shown);
    }
}
