//! How SensorBucket's error bodies give a code and a message (generated from the fragment's
//! `x-apikeys-error`): the services' `{"message", "code"}` and the gateway's `{"error": {...}}`.

use apikeys_common::ErrorBody;
use sensorbucket_apikeys::types::SensorbucketErrorResponse;

fn body(json: serde_json::Value) -> SensorbucketErrorResponse {
    serde_json::from_value(json).unwrap()
}

#[test]
fn the_services_code_and_message_come_first() {
    let found = body(serde_json::json!({
        "message": "API Key not found", "code": "ERR_API_KEY_NOT_FOUND",
        "error": {"id": "unauthorized", "message": "gateway"}
    }));
    assert_eq!(found.code().as_deref(), Some("ERR_API_KEY_NOT_FOUND"));
    assert_eq!(found.message().as_deref(), Some("API Key not found"));
}

#[test]
fn the_gateways_message_carries_its_reason() {
    let both = body(serde_json::json!({"error": {
        "id": "forbidden", "code": 403, "status": "Forbidden",
        "message": "Access denied", "reason": "missing scope"
    }}));
    assert_eq!(both.code().as_deref(), Some("forbidden"));
    assert_eq!(
        both.message().as_deref(),
        Some("Access denied: missing scope")
    );
    let reason = body(serde_json::json!({"error": {"reason": "missing scope"}}));
    assert_eq!(reason.message().as_deref(), Some("missing scope"));
    let message = body(serde_json::json!({"error": {"message": "Access denied"}}));
    assert_eq!(message.message().as_deref(), Some("Access denied"));
    assert_eq!(body(serde_json::json!({})).message(), None);
}

#[test]
fn text_in_another_shape_becomes_the_message() {
    let from_text = SensorbucketErrorResponse::from_text("Bad gateway".into()).unwrap();
    assert_eq!(from_text.message().as_deref(), Some("Bad gateway"));
    assert_eq!(from_text.code(), None);
    let empty = SensorbucketErrorResponse::from_text(String::new()).unwrap();
    assert_eq!(empty.message(), None);
}
