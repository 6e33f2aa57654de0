//! How Nuki's error body, a Restlet status object, gives a code and a message (generated
//! from the fragment's `x-apikeys-error`).

use apikeys_common::ErrorBody;
use nuki_apikeys::types::NukiError;

#[test]
fn the_most_specific_message_wins() {
    let body: NukiError = serde_json::from_value(serde_json::json!({
        "code": 400,
        "description": "The request could not be understood",
        "reasonPhrase": "Bad Request",
        "detailMessage": "redirectUris: invalid uri"
    }))
    .unwrap();
    assert_eq!(body.message().as_deref(), Some("redirectUris: invalid uri"));
    assert_eq!(body.code().as_deref(), Some("400"));

    let phrase_only: NukiError =
        serde_json::from_value(serde_json::json!({"reasonPhrase": "Forbidden"})).unwrap();
    assert_eq!(phrase_only.message().as_deref(), Some("Forbidden"));

    let blank_detail: NukiError = serde_json::from_value(
        serde_json::json!({"detailMessage": " ", "description": "What went wrong"}),
    )
    .unwrap();
    assert_eq!(blank_detail.message().as_deref(), Some("What went wrong"));
}

#[test]
fn an_empty_body_has_no_message() {
    assert_eq!(NukiError::from_text(String::new()).unwrap().message(), None);
    assert_eq!(
        NukiError::from_text("Bad gateway".into())
            .unwrap()
            .message()
            .as_deref(),
        Some("Bad gateway")
    );
}
