//! How Automox's error body, `{"errors": ["<message>", ...]}`, gives a message (generated
//! from the fragment's `x-apikeys-error`). Automox has no error codes.

use apikeys_common::ErrorBody;
use automox_apikeys::types::AutomoxErrorResponse;

fn body(errors: &[&str]) -> AutomoxErrorResponse {
    AutomoxErrorResponse {
        errors: errors.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn messages_are_joined_and_blank_ones_dropped() {
    assert_eq!(
        body(&["Bad Request"]).message().as_deref(),
        Some("Bad Request")
    );
    assert_eq!(
        body(&["name is required", " ", "expires_at is invalid"])
            .message()
            .as_deref(),
        Some("name is required; expires_at is invalid")
    );
    assert_eq!(body(&[]).message(), None);
    assert_eq!(body(&["Bad Request"]).code(), None);
}

#[test]
fn text_in_another_shape_becomes_the_message() {
    let from_text = AutomoxErrorResponse::from_text("<html>502 Bad Gateway</html>".into()).unwrap();
    assert_eq!(
        from_text.message().as_deref(),
        Some("<html>502 Bad Gateway</html>")
    );
    let empty = AutomoxErrorResponse::from_text(String::new()).unwrap();
    assert!(empty.errors.is_empty());
    assert_eq!(empty.message(), None);
}
