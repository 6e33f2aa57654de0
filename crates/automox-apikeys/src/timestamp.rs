//! Automox's timestamps: `2021-12-05T18:21:47+0000`, an ISO 8601 offset without the colon
//! that RFC 3339 requires, so strict RFC 3339 parsing refuses them. That is the form of the
//! examples in Automox's published spec (`AutomoxCommunity/openapi-defs`,
//! `openapi/ax-console/axconsoleAIO.yaml`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How Automox writes a timestamp, and how this client sends one.
const WIRE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%z";

/// A point in time as Automox sends and reads it (`expires_at`, `created_at`).
///
/// Reads the server's `2021-12-05T18:21:47+0000`, RFC 3339 (`Z`, `+00:00`, fractional
/// seconds) and, since the API documents its times as UTC, a time without an offset.
/// Writes the documented `2021-12-05T18:21:47+0000`, to the second.
///
/// ```
/// use automox_apikeys::Timestamp;
/// use chrono::{TimeZone, Utc};
///
/// let at: Timestamp = "2021-12-05T18:21:47+0000".parse()?;
/// assert_eq!(at, Timestamp::from(Utc.with_ymd_and_hms(2021, 12, 5, 18, 21, 47).unwrap()));
/// assert_eq!(at.to_string(), "2021-12-05T18:21:47+0000");
/// # Ok::<(), chrono::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The time, in UTC.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }
}

impl<Tz: TimeZone> From<DateTime<Tz>> for Timestamp {
    fn from(at: DateTime<Tz>) -> Self {
        Timestamp(at.with_timezone(&Utc))
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(at: Timestamp) -> Self {
        at.0
    }
}

impl FromStr for Timestamp {
    type Err = chrono::ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        DateTime::parse_from_rfc3339(text)
            .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .map(Timestamp::from)
            .or_else(|_| {
                NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                    .map(|naive| Timestamp(naive.and_utc()))
            })
    }
}

/// The wire form, `2021-12-05T18:21:47+0000`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format(WIRE_FORMAT))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|e| serde::de::Error::custom(format_args!("`{text}` is not a timestamp: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn reads_the_offset_without_a_colon_that_rfc3339_refuses() {
        assert!(DateTime::parse_from_rfc3339("2021-12-05T18:21:47+0000").is_err());
        let at: Timestamp = "2021-12-05T18:21:47+0000".parse().unwrap();
        assert_eq!(at.as_datetime(), utc("2021-12-05T18:21:47Z"));
    }

    #[test]
    fn reads_other_offsets_fractions_rfc3339_and_naive_utc() {
        for (text, want) in [
            ("2021-12-05T20:21:47+0200", "2021-12-05T18:21:47Z"),
            ("2021-12-05T18:21:47.250+0000", "2021-12-05T18:21:47.250Z"),
            ("2021-12-05T18:21:47Z", "2021-12-05T18:21:47Z"),
            ("2021-12-05T18:21:47.5+00:00", "2021-12-05T18:21:47.5Z"),
            ("2021-12-05T13:21:47-05:00", "2021-12-05T18:21:47Z"),
            ("2021-12-05T18:21:47", "2021-12-05T18:21:47Z"),
        ] {
            let at: Timestamp = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(at.as_datetime(), utc(want), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for text in ["", "yesterday", "2021-12-05", "2021-13-05T18:21:47+0000"] {
            assert!(text.parse::<Timestamp>().is_err(), "{text}");
        }
        let err = serde_json::from_str::<Timestamp>("\"soon\"").unwrap_err();
        assert!(
            err.to_string().contains("`soon` is not a timestamp"),
            "{err}"
        );
    }

    #[test]
    fn writes_the_documented_form_in_utc() {
        let at =
            Timestamp::from(DateTime::parse_from_rfc3339("2026-12-31T23:59:59.9-01:00").unwrap());
        assert_eq!(
            serde_json::to_string(&at).unwrap(),
            "\"2027-01-01T00:59:59+0000\""
        );
    }
}
