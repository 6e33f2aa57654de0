//! The key policy `apikeys audit` checks (and `rotate --due` acts on): which keys are
//! expired, expiring soon, never expire, are too old, or are disabled.
//!
//! A field the vendor does not report is never guessed:
//! - no `created_at`: the key cannot be judged too old, so it is not `too-old` (the audit
//!   counts such keys and says so);
//! - no `expires_at`: the key is taken as never expiring (`KeyInfo` cannot tell "never"
//!   from "not reported"), so it is `no-expiry` when expiry is required, and never
//!   `expired` or `expiring`;
//! - no `enabled`: the key is not `disabled`.

use std::fmt;

use apikeys_common::KeyInfo;
use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use serde::Serialize;

/// What the policy found about one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finding {
    /// The key's expiry time has come (at or before now): always checked.
    Expired,
    /// The key expires after now but within `expiring-within`.
    Expiring,
    /// The key never expires (or the vendor does not say when), and `require-expiry` is on.
    NoExpiry,
    /// The key is `max-age` old or older (its creation time plus `max-age` has come).
    TooOld,
    /// The key is disabled, and `disabled-keys` is on (a disabled key is one to revoke).
    Disabled,
}

impl Finding {
    /// Every finding, in the order tables and summaries show them.
    pub const ALL: [Finding; 5] = [
        Finding::Expired,
        Finding::Expiring,
        Finding::NoExpiry,
        Finding::TooOld,
        Finding::Disabled,
    ];

    /// The finding's name in output and flags: `expired`, `expiring`, `no-expiry`,
    /// `too-old`, `disabled`.
    pub fn name(self) -> &'static str {
        match self {
            Finding::Expired => "expired",
            Finding::Expiring => "expiring",
            Finding::NoExpiry => "no-expiry",
            Finding::TooOld => "too-old",
            Finding::Disabled => "disabled",
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The policy's flags, which override the config file's `[policy]` table; every field
/// unset means "as the file says" (and, failing that, off).
#[derive(Clone, Debug, Default, PartialEq, Eq, Args)]
pub struct PolicyArgs {
    /// Report keys this old or older, e.g. 90d (units: s, m, h, d, w; may be combined,
    /// as in 1w3d).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_age: Option<TimeDelta>,
    /// Report keys that expire within this long from now, e.g. 14d.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expiring_within: Option<TimeDelta>,
    /// Report keys that never expire (or whose vendor does not say when);
    /// --require-expiry=false turns off the file's setting.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub require_expiry: Option<bool>,
    /// Report disabled keys; --disabled-keys=false turns off the file's setting.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub disabled_keys: Option<bool>,
}

impl PolicyArgs {
    /// These settings, with anything unset taken from `file`.
    pub fn over(&self, file: &PolicyArgs) -> Policy {
        Policy {
            max_age: self.max_age.or(file.max_age),
            expiring_within: self.expiring_within.or(file.expiring_within),
            require_expiry: self.require_expiry.or(file.require_expiry).unwrap_or(false),
            disabled_keys: self.disabled_keys.or(file.disabled_keys).unwrap_or(false),
        }
    }
}

/// The policy in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Keys this old or older are `too-old`.
    pub max_age: Option<TimeDelta>,
    /// Keys expiring within this long from now are `expiring`.
    pub expiring_within: Option<TimeDelta>,
    /// Keys without an expiry time are `no-expiry`.
    pub require_expiry: bool,
    /// Disabled keys are `disabled`.
    pub disabled_keys: bool,
}

impl Policy {
    /// What the policy finds about `key` at `now`, in [`Finding::ALL`]'s order.
    pub fn findings(&self, key: &KeyInfo, now: DateTime<Utc>) -> Vec<Finding> {
        let mut found = Vec::new();
        match key.expires_at {
            Some(expires) if expires <= now => found.push(Finding::Expired),
            Some(expires) => {
                // A window past the end of time holds every future expiry.
                let soon = self.expiring_within.is_some_and(|within| {
                    now.checked_add_signed(within)
                        .is_none_or(|limit| expires <= limit)
                });
                if soon {
                    found.push(Finding::Expiring);
                }
            }
            None if self.require_expiry => found.push(Finding::NoExpiry),
            None => {}
        }
        if let (Some(max_age), Some(created)) = (self.max_age, key.created_at) {
            // A deadline past the end of time never comes.
            if created
                .checked_add_signed(max_age)
                .is_some_and(|deadline| deadline <= now)
            {
                found.push(Finding::TooOld);
            }
        }
        if self.disabled_keys && key.enabled == Some(false) {
            found.push(Finding::Disabled);
        }
        found
    }
}

/// How old a key is at `now`, in whole days (negative when the server says it was created
/// in the future); `None` when the vendor does not report its creation time.
pub fn age_days(key: &KeyInfo, now: DateTime<Utc>) -> Option<i64> {
    // Both times are within chrono's range, whose span a TimeDelta always holds.
    key.created_at
        .map(|created| now.signed_duration_since(created).num_days())
}

/// A duration such as `90d`, `12h`, `2w` or `1w3d12h`: whole numbers, each with a unit
/// (`s`, `m`, `h`, `d`, `w`). A total beyond what a time span can hold is refused. Errors
/// never quote the text: in a config file it may be a secret written in the wrong field.
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a duration cannot be empty (e.g. 90d, 12h, 2w)".into());
    }
    let too_long = || "too long a duration".to_string();
    let mut seconds: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits);
        if number.is_empty() {
            return Err(
                "not a duration: expected a number, then a unit (s, m, h, d, w; e.g. 90d)".into(),
            );
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let per_unit: i64 = match unit.trim() {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            "" => {
                return Err("a number needs a unit after it: s, m, h, d or w (e.g. 90d)".into());
            }
            _ => {
                return Err("not a duration: unknown unit; use s, m, h, d or w (e.g. 90d)".into());
            }
        };
        let number: i64 = number.parse().map_err(|_| too_long())?;
        seconds = number
            .checked_mul(per_unit)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(too_long)?;
        rest = next;
    }
    TimeDelta::try_seconds(seconds).ok_or_else(too_long)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn key(created: Option<i64>, expires: Option<i64>, enabled: Option<bool>) -> KeyInfo {
        let mut key = KeyInfo::new("1");
        key.created_at = created.map(at);
        key.expires_at = expires.map(at);
        key.enabled = enabled;
        key
    }

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn strict() -> Policy {
        Policy {
            max_age: Some(TimeDelta::days(90)),
            expiring_within: Some(TimeDelta::days(14)),
            require_expiry: true,
            disabled_keys: true,
        }
    }

    #[test]
    fn durations_parse_with_units_and_combine() {
        assert_eq!(parse_duration("90d"), Ok(TimeDelta::days(90)));
        assert_eq!(parse_duration("12h"), Ok(TimeDelta::hours(12)));
        assert_eq!(parse_duration("2w"), Ok(TimeDelta::weeks(2)));
        assert_eq!(parse_duration(" 30m "), Ok(TimeDelta::minutes(30)));
        assert_eq!(
            parse_duration("1w3d12h"),
            Ok(TimeDelta::hours(7 * 24 + 3 * 24 + 12))
        );
        assert_eq!(parse_duration("0d"), Ok(TimeDelta::zero()));
        for bad in ["", "90", "d", "90x", "-5d", "1.5d", "9d 3", "h12"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        // Past i64 seconds, past what TimeDelta holds, and past i64 digits.
        for absurd in [
            "15250284452472w",
            "106751991167301d",
            "9223372036854775807s1s",
            "99999999999999999999999d",
        ] {
            let error = parse_duration(absurd).unwrap_err();
            assert!(error.contains("too long"), "{absurd}: {error}");
        }
    }

    #[test]
    fn flags_override_the_file_and_unset_means_off() {
        let file = PolicyArgs {
            max_age: Some(TimeDelta::days(90)),
            expiring_within: None,
            require_expiry: Some(true),
            disabled_keys: Some(true),
        };
        let flags = PolicyArgs {
            max_age: Some(TimeDelta::days(30)),
            expiring_within: Some(TimeDelta::days(7)),
            require_expiry: Some(false),
            disabled_keys: None,
        };
        assert_eq!(
            flags.over(&file),
            Policy {
                max_age: Some(TimeDelta::days(30)),
                expiring_within: Some(TimeDelta::days(7)),
                require_expiry: false,
                disabled_keys: true,
            }
        );
        assert_eq!(
            PolicyArgs::default().over(&PolicyArgs::default()),
            Policy::default()
        );
    }

    #[test]
    fn each_finding_and_what_unreported_fields_mean() {
        let now = at(NOW);
        let p = strict();
        // A fresh key that expires in a month: nothing.
        assert!(
            p.findings(&key(Some(NOW - DAY), Some(NOW + 30 * DAY), Some(true)), now)
                .is_empty()
        );
        assert_eq!(
            p.findings(&key(Some(NOW - DAY), Some(NOW - 1), None), now),
            [Finding::Expired]
        );
        assert_eq!(
            p.findings(&key(Some(NOW - DAY), Some(NOW + DAY), None), now),
            [Finding::Expiring]
        );
        assert_eq!(
            p.findings(&key(Some(NOW - DAY), None, None), now),
            [Finding::NoExpiry]
        );
        assert_eq!(
            p.findings(&key(Some(NOW - 100 * DAY), Some(NOW - 1), Some(false)), now),
            [Finding::Expired, Finding::TooOld, Finding::Disabled]
        );
        // Nothing reported: only `no-expiry`, and only when expiry is required.
        assert_eq!(p.findings(&key(None, None, None), now), [Finding::NoExpiry]);
        assert!(
            Policy::default()
                .findings(&key(None, None, None), now)
                .is_empty()
        );
        // Expired is checked whatever the policy.
        assert_eq!(
            Policy::default().findings(&key(None, Some(NOW), None), now),
            [Finding::Expired]
        );
        assert_eq!(
            age_days(&key(Some(NOW - 3 * DAY - 1), None, None), now),
            Some(3)
        );
        assert_eq!(age_days(&key(None, None, None), now), None);
    }

    proptest! {
        #[test]
        fn the_limits_are_inclusive(
            now in -3_000_000_000_000i64..3_000_000_000_000,
            limit in 0i64..5_000_000_000_000,
        ) {
            let p = Policy {
                max_age: Some(TimeDelta::seconds(limit)),
                expiring_within: Some(TimeDelta::seconds(limit)),
                require_expiry: false,
                disabled_keys: false,
            };
            let time = at(now);
            // Expires exactly now: expired; one second later: expiring (or nothing if the
            // window is empty).
            prop_assert_eq!(p.findings(&key(None, Some(now), None), time), vec![Finding::Expired]);
            let in_one = p.findings(&key(None, Some(now + 1), None), time);
            if limit >= 1 {
                prop_assert_eq!(in_one, vec![Finding::Expiring]);
            } else {
                prop_assert!(in_one.is_empty());
            }
            // Expires exactly at the window's end: expiring; a second after: nothing.
            if limit >= 1 {
                prop_assert_eq!(p.findings(&key(None, Some(now + limit), None), time), vec![Finding::Expiring]);
            }
            prop_assert!(p.findings(&key(None, Some(now + limit + 1), None), time).is_empty());
            // Created exactly max-age ago: too old; a second later: not.
            prop_assert_eq!(p.findings(&key(Some(now - limit), None, None), time), vec![Finding::TooOld]);
            prop_assert!(p.findings(&key(Some(now - limit + 1), None, None), time).is_empty());
        }

        #[test]
        fn absurd_durations_and_times_never_panic(
            now in -8_000_000_000_000i64..8_000_000_000_000,
            created in -8_000_000_000_000i64..8_000_000_000_000,
            expires in -8_000_000_000_000i64..8_000_000_000_000,
            limit in 0i64..=i64::MAX / 1_000,
        ) {
            let p = Policy {
                max_age: Some(TimeDelta::seconds(limit)),
                expiring_within: Some(TimeDelta::seconds(limit)),
                require_expiry: true,
                disabled_keys: true,
            };
            let found = p.findings(&key(Some(created), Some(expires), Some(false)), at(now));
            prop_assert!(found.contains(&Finding::Disabled));
            // An endless window holds every future expiry; an endless max-age is never reached
            // by a key created after the start of time.
            if expires > now {
                let window_end = at(now).checked_add_signed(TimeDelta::seconds(limit));
                prop_assert_eq!(
                    found.contains(&Finding::Expiring),
                    window_end.is_none_or(|end| at(expires) <= end)
                );
            }
            let _ = age_days(&key(Some(created), None, None), at(now));
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "\\PC{0,24}") {
            let _ = parse_duration(&text);
        }

        #[test]
        fn numbers_with_units_parse_exactly(n in 0i64..1_000_000, unit in 0usize..5) {
            let (suffix, seconds) = [("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400), ("w", 604_800)][unit];
            prop_assert_eq!(parse_duration(&format!("{n}{suffix}")), Ok(TimeDelta::seconds(n * seconds)));
        }
    }
}
