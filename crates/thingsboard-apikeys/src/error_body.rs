//! ThingsBoard's error body (`ThingsboardErrorResponse.java` in `thingsboard/thingsboard`) as
//! the shared error type reads it.

use apikeys_common::ErrorBody;

use crate::types::ThingsboardErrorResponse;

impl ErrorBody for ThingsboardErrorResponse {
    /// `errorCode` is an open integer: 32 is "item not found", 33 "too many requests", …
    fn code(&self) -> Option<String> {
        self.error_code.map(|code| code.to_string())
    }

    fn message(&self) -> Option<String> {
        self.message.clone()
    }

    fn from_text(text: String) -> Self {
        ThingsboardErrorResponse {
            message: Some(text),
            ..Default::default()
        }
    }
}
