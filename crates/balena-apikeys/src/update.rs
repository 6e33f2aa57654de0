//! The body of an update: each field absent (left as it is), `null` (cleared) or a value
//! (as the JS SDK's `update` sends it). Generated types cannot tell absent from `null`, so
//! this one is written by hand and replaces the fragment's `ApiKeyUpdate`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use serde_with::rust::double_option;

/// What [`ApiKeys::update`](crate::ApiKeys::update) changes. A field left `None` is not
/// sent and stays as it is; `Some(None)` sends `null` and clears it.
///
/// ```
/// use balena_apikeys::ApiKeyUpdate;
///
/// let changes = ApiKeyUpdate::new().name("ci-deploy-v2").clear_description();
/// assert_eq!(
///     serde_json::to_string(&changes).unwrap(),
///     r#"{"name":"ci-deploy-v2","description":null}"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiKeyUpdate {
    /// A new name (1 to 50 characters). A key's name cannot be cleared: a key without one
    /// would count as a legacy unnamed key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new description (at most 150 characters), or `Some(None)` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub description: Option<Option<String>>,
    /// A new expiry date, or `Some(None)` to remove the expiry. A date in the past expires
    /// the key at once.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expiry_millis",
        deserialize_with = "double_option::deserialize"
    )]
    pub expiry_date: Option<Option<DateTime<Utc>>>,
}

impl ApiKeyUpdate {
    /// Changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the key.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(Some(description.into()));
        self
    }

    /// Clears the description (sends `null`).
    #[must_use]
    pub fn clear_description(mut self) -> Self {
        self.description = Some(None);
        self
    }

    /// Sets the expiry date.
    #[must_use]
    pub fn expiry_date(mut self, at: DateTime<Utc>) -> Self {
        self.expiry_date = Some(Some(at));
        self
    }

    /// Removes the expiry date: the key never expires (sends `null`).
    #[must_use]
    pub fn clear_expiry_date(mut self) -> Self {
        self.expiry_date = Some(None);
        self
    }

    /// Whether nothing would change (the server refuses that with 400).
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.expiry_date.is_none()
    }
}

/// Dates go out as the SDKs and the server write them: UTC, milliseconds, `Z` (JavaScript's
/// `toISOString()`).
fn expiry_millis<S: Serializer>(
    value: &Option<Option<DateTime<Utc>>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(Some(at)) => {
            serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
        }
        _ => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[test]
    fn absent_null_and_value_are_three_different_bodies() {
        let at = Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap();
        let full = ApiKeyUpdate::new()
            .name("ci-deploy-v2")
            .clear_description()
            .expiry_date(at);
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            json!({"name": "ci-deploy-v2", "description": null, "expiry_date": "2027-06-30T00:00:00.000Z"})
        );
        assert_eq!(
            serde_json::to_value(ApiKeyUpdate::new()).unwrap(),
            json!({})
        );
        let round: ApiKeyUpdate = serde_json::from_value(
            json!({"description": null, "expiry_date": "2027-06-30T00:00:00.000Z"}),
        )
        .unwrap();
        assert_eq!(round.name, None);
        assert_eq!(round.description, Some(None));
        assert_eq!(round.expiry_date, Some(Some(at)));
    }
}
