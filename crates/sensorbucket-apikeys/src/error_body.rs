//! SensorBucket's error bodies (`internal/web/web.go` in `sensorbucket/SensorBucket`) as the
//! shared error type reads them: the services' `{"message", "code"}` and the gateway's
//! `{"error": {...}}`.

use apikeys_common::ErrorBody;

use crate::types::SensorbucketErrorResponse;

impl ErrorBody for SensorbucketErrorResponse {
    /// The services' `code` (`ERR_API_KEY_NOT_FOUND`, …), else the gateway's error id.
    fn code(&self) -> Option<String> {
        self.code
            .clone()
            .or_else(|| self.error.as_ref().and_then(|e| e.id.clone()))
    }

    /// The services' `message`, else the gateway's, with its reason when it gives one.
    fn message(&self) -> Option<String> {
        if let Some(message) = &self.message {
            return Some(message.clone());
        }
        let gateway = self.error.as_ref()?;
        match (&gateway.message, &gateway.reason) {
            (Some(message), Some(reason)) => Some(format!("{message}: {reason}")),
            (message, reason) => message.clone().or_else(|| reason.clone()),
        }
    }

    fn from_text(text: String) -> Self {
        SensorbucketErrorResponse {
            message: (!text.is_empty()).then_some(text),
            ..Default::default()
        }
    }
}
