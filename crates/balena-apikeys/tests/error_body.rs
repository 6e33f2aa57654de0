//! How balena's error bodies give a message (generated from the fragment's
//! `x-apikeys-error`).
//!
//! The server answers errors with an empty body, a JSON string (`"No fields to update"`),
//! plain text (`Device id must be a number`) or an object (`{"error": "..."}`). The first
//! two forms decode as `BalenaError`; the request hooks turn any other body into
//! `BalenaError::Text` with the body's text, so every error keeps its status and message.

use apikeys_common::ErrorBody;
use balena_apikeys::types::BalenaError;

fn message(body: &str) -> Option<String> {
    serde_json::from_str::<BalenaError>(body)
        .ok()
        .or_else(|| BalenaError::from_text(body.into()))
        .unwrap()
        .message()
}

#[test]
fn every_body_shape_gives_its_message() {
    assert_eq!(
        message(r#""No fields to update""#).as_deref(),
        Some("No fields to update")
    );
    assert_eq!(
        message(r#"{"error":"API key required"}"#).as_deref(),
        Some("API key required")
    );
    assert_eq!(
        message(r#"{"message":"Server Error"}"#).as_deref(),
        Some("Server Error")
    );
    assert_eq!(
        message("Device id must be a number").as_deref(),
        Some("Device id must be a number")
    );
    assert_eq!(message(""), None);
    assert_eq!(message(r#""""#), None);
    // An object in no known shape keeps its text rather than losing it.
    assert_eq!(message(r#"{"x":1}"#).as_deref(), Some(r#"{"x":1}"#));
}

#[test]
fn balena_errors_carry_no_code() {
    let body: BalenaError = serde_json::from_str(r#"{"error":"API key required"}"#).unwrap();
    assert_eq!(body.code(), None);
    assert!(matches!(
        BalenaError::from_text("text".into()),
        Some(BalenaError::Text(_))
    ));
}
