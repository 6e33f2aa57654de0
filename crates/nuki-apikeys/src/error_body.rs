//! Nuki's error body, a Restlet status object as api.nuki.io sends it (see
//! <https://github.com/iobroker-community-adapters/ioBroker.nuki-extended/issues/412>), as the
//! shared error type reads it.

use apikeys_common::ErrorBody;

use crate::types::NukiError;

impl ErrorBody for NukiError {
    /// The Restlet status `code`: usually the HTTP status repeated, but Restlet also has
    /// codes of its own (1000 and up, for connector errors).
    fn code(&self) -> Option<String> {
        self.code.map(|code| code.to_string())
    }

    /// The most specific text the body has: `detailMessage`, then `description`, then
    /// `reasonPhrase`.
    fn message(&self) -> Option<String> {
        [&self.detail_message, &self.description, &self.reason_phrase]
            .into_iter()
            .flatten()
            .find(|text| !text.trim().is_empty())
            .cloned()
    }

    fn from_text(text: String) -> Self {
        NukiError {
            description: (!text.is_empty()).then_some(text),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn an_empty_body_has_no_message() {
        assert_eq!(NukiError::from_text(String::new()).message(), None);
        assert_eq!(
            NukiError::from_text("Bad gateway".into())
                .message()
                .as_deref(),
            Some("Bad gateway")
        );
    }
}
