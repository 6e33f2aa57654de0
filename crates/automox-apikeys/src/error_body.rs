//! Automox's error body, `{"errors": ["<message>", ...]}` (the published spec's error
//! responses, `openapi/ax-console/components/responses/` in `AutomoxCommunity/openapi-defs`),
//! as the shared error type reads it. Automox has no error codes.

use apikeys_common::ErrorBody;

use crate::types::AutomoxErrorResponse;

impl ErrorBody for AutomoxErrorResponse {
    fn code(&self) -> Option<String> {
        None
    }

    /// Every non-blank message, joined with `; ` (the spec documents one, but allows more).
    fn message(&self) -> Option<String> {
        let messages: Vec<&str> = self
            .errors
            .iter()
            .map(|m| m.trim())
            .filter(|m| !m.is_empty())
            .collect();
        (!messages.is_empty()).then(|| messages.join("; "))
    }

    fn from_text(text: String) -> Self {
        let errors = if text.trim().is_empty() {
            Vec::new()
        } else {
            vec![text]
        };
        AutomoxErrorResponse { errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let from_text = AutomoxErrorResponse::from_text("<html>502 Bad Gateway</html>".into());
        assert_eq!(
            from_text.message().as_deref(),
            Some("<html>502 Bad Gateway</html>")
        );
        assert_eq!(
            AutomoxErrorResponse::from_text(String::new()).message(),
            None
        );
    }
}
