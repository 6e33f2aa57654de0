//! How ThingsBoard's error body gives a code and a message (generated from the fragment's
//! `x-apikeys-error`).

use apikeys_common::ErrorBody;
use thingsboard_apikeys::types::ThingsboardErrorResponse;

fn body(json: serde_json::Value) -> ThingsboardErrorResponse {
    serde_json::from_value(json).unwrap()
}

#[test]
fn the_open_integer_code_and_the_message_are_read() {
    let found = body(serde_json::json!({
        "status": 404, "message": "Requested item wasn't found!", "errorCode": 32,
        "timestamp": 1759300000000i64
    }));
    assert_eq!(found.code().as_deref(), Some("32"));
    assert_eq!(
        found.message().as_deref(),
        Some("Requested item wasn't found!")
    );
    let bare = body(serde_json::json!({"status": 500}));
    assert_eq!((bare.code(), bare.message()), (None, None));
}

#[test]
fn text_in_another_shape_becomes_the_message() {
    let from_text = ThingsboardErrorResponse::from_text("<html>502</html>".into()).unwrap();
    assert_eq!(from_text.message().as_deref(), Some("<html>502</html>"));
    assert_eq!(from_text.code(), None);
    let empty = ThingsboardErrorResponse::from_text(String::new()).unwrap();
    assert_eq!(empty.message(), None);
}
