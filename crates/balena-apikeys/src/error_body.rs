//! balena's error bodies as the shared error type reads them.
//!
//! The server answers errors with an empty body, a JSON string (`"No fields to update"`),
//! plain text (`Device id must be a number`) or an object (`{"error": "..."}`). The first
//! two forms decode as [`BalenaError`]; the request hooks turn any other body into
//! [`BalenaError::Text`] with the body's text, so every error keeps its status and message.

use apikeys_common::ErrorBody;

use crate::types::{BalenaError, ErrorText};

impl ErrorBody for BalenaError {
    /// balena's errors carry no code.
    fn code(&self) -> Option<String> {
        None
    }

    /// The message; `None` for an empty body.
    fn message(&self) -> Option<String> {
        let text = match self {
            BalenaError::Text(text) => &text.0,
            BalenaError::Message(object) => &object.message,
            BalenaError::Object(object) => &object.error,
        };
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }

    fn from_text(text: String) -> Self {
        BalenaError::Text(ErrorText(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> Option<String> {
        serde_json::from_str::<BalenaError>(body)
            .unwrap_or_else(|_| BalenaError::from_text(body.into()))
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
}
