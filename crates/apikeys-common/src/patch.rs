//! Serde helpers for PATCH bodies whose fields are each absent (left as they are), `null`
//! (cleared) or a value, as `cargo xtask codegen` generates them from a schema with
//! `x-apikeys-patch`: a field that may be cleared is an `Option<Option<T>>`, with `None`
//! skipped, `Some(None)` sent as `null` and `Some(Some(value))` as the value.
//!
//! ```
//! use apikeys_common::patch;
//!
//! #[derive(serde::Serialize, serde::Deserialize, Default)]
//! struct Change {
//!     #[serde(default, skip_serializing_if = "Option::is_none", with = "patch::nullable")]
//!     note: Option<Option<String>>,
//! }
//!
//! let cleared = Change { note: Some(None) };
//! assert_eq!(serde_json::to_string(&cleared).unwrap(), r#"{"note":null}"#);
//! assert_eq!(serde_json::to_string(&Change::default()).unwrap(), "{}");
//! let read: Change = serde_json::from_str(r#"{"note":null}"#).unwrap();
//! assert_eq!(read.note, Some(None));
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field that may be cleared: `Some(None)` is `null`. Skip `None` with
/// `skip_serializing_if = "Option::is_none"` and read an absent field as `None` with
/// `default`.
pub mod nullable {
    use super::*;

    /// `Some(Some(value))` as the value, anything else as `null`.
    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(Some(value)) => value.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }

    /// A present field: `null` is `Some(None)`, a value `Some(Some(value))`.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// A date as JavaScript's `toISOString()` writes it: UTC, milliseconds, `Z`
/// (`2027-06-30T00:00:00.000Z`). For an `Option<DateTime<Utc>>` field.
pub mod millis {
    use super::*;

    /// The date in milliseconds, `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.as_ref().map(Millis).serialize(serializer)
    }

    /// Any RFC 3339 date.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<DateTime<Utc>>::deserialize(deserializer)
    }
}

/// [`millis`] for a field that may be cleared (`Option<Option<DateTime<Utc>>>`), as
/// [`nullable`].
pub mod nullable_millis {
    use super::*;

    /// `Some(Some(date))` in milliseconds, anything else as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<Option<DateTime<Utc>>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        super::millis::serialize(&value.flatten(), serializer)
    }

    /// A present field: `null` is `Some(None)`, a date `Some(Some(date))`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<DateTime<Utc>>>, D::Error> {
        super::nullable::deserialize(deserializer)
    }
}

struct Millis<'a>(&'a DateTime<Utc>);

impl Serialize for Millis<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Change {
        #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
        note: Option<Option<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none", with = "millis")]
        at: Option<DateTime<Utc>>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "nullable_millis"
        )]
        until: Option<Option<DateTime<Utc>>>,
    }

    #[test]
    fn absent_null_and_value_round_trip() {
        let at = Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap();
        let cases = [
            (Change::default(), json!({})),
            (
                Change {
                    note: Some(None),
                    at: Some(at),
                    until: Some(None),
                },
                json!({"note": null, "at": "2027-06-30T00:00:00.000Z", "until": null}),
            ),
            (
                Change {
                    note: Some(Some("n".into())),
                    at: None,
                    until: Some(Some(at + chrono::Duration::milliseconds(5))),
                },
                json!({"note": "n", "until": "2027-06-30T00:00:00.005Z"}),
            ),
        ];
        for (change, wire) in cases {
            assert_eq!(serde_json::to_value(&change).unwrap(), wire);
            assert_eq!(serde_json::from_value::<Change>(wire).unwrap(), change);
        }
    }
}
