//! API-key values, tokens and passwords: never printed, zeroed when dropped.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const REDACTED: &str = "[REDACTED]";

/// A secret string: an API-key value, a token or a password.
///
/// `Debug`, `Display` and `Serialize` all write `[REDACTED]`; the memory is zeroed on drop.
/// The value is read only through [`Secret::expose_secret`], so every place that uses it
/// is easy to find.
///
/// ```
/// use apikeys_common::Secret;
///
/// let key = Secret::from("tb_UvImZaYMEtKJ");
/// assert_eq!(format!("{key:?}"), "Secret([REDACTED])");
/// assert_eq!(key.expose_secret(), "tb_UvImZaYMEtKJ");
/// ```
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The secret itself. Call this only where the value must leave the program.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<SecretString> for Secret {
    fn from(value: SecretString) -> Self {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Serializing a response that holds a secret (to log or cache it) must not leak it.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

/// Replaces every occurrence of `secret` in `text` with `[REDACTED]`, however it is
/// escaped: each character may be written as itself, as a JSON escape (`\u002d`, a
/// surrogate pair, `\/`), percent-encoded (`%2D`) or as an HTML character reference
/// (`&#45;`, `&#x2d;`, `&amp;`), in any mix. `None` when it does not occur (or is empty).
pub(crate) fn mask_in(text: &[u8], secret: &str) -> Option<Vec<u8>> {
    let first = secret.chars().next()?;
    let mut first_bytes = [0; 4];
    let first_byte = *first.encode_utf8(&mut first_bytes).as_bytes().first()?;
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut at = 0;
    while at < text.len() {
        let starts = text
            .get(at)
            .is_some_and(|b| matches!(*b, b'\\' | b'%' | b'&') || *b == first_byte);
        if let Some(end) = starts.then(|| match_secret(text, at, secret)).flatten() {
            let out = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
            out.extend_from_slice(text.get(copied..at).unwrap_or_default());
            out.extend_from_slice(REDACTED.as_bytes());
            copied = end;
            at = end;
        } else {
            at += 1;
        }
    }
    let mut out = out?;
    out.extend_from_slice(text.get(copied..).unwrap_or_default());
    Some(out)
}

/// Where an occurrence of `secret` starting at `at` ends, if there is one.
fn match_secret(text: &[u8], mut at: usize, secret: &str) -> Option<usize> {
    for c in secret.chars() {
        at = match_char(text, at, c)?;
    }
    Some(at)
}

/// Where one written form of `c` starting at `at` ends, if one starts there.
fn match_char(text: &[u8], at: usize, c: char) -> Option<usize> {
    let rest = text.get(at..)?;
    let mut utf8 = [0; 4];
    let plain = c.encode_utf8(&mut utf8).as_bytes();
    if rest.starts_with(plain) {
        return Some(at + plain.len());
    }
    match rest.first()? {
        b'\\' => json_escape(rest, c).map(|n| at + n),
        b'%' => {
            // Every UTF-8 byte as `%XX`.
            let mut used = 0;
            for byte in plain {
                let hex = rest.get(used..used + 3)?;
                if hex.first() != Some(&b'%') || hex_value(hex.get(1..3)?)? != u32::from(*byte) {
                    return None;
                }
                used += 3;
            }
            Some(at + used)
        }
        b'&' => html_reference(rest, c).map(|n| at + n),
        _ => None,
    }
}

/// The length of a JSON escape of `c` at the start of `text` (`\uXXXX`, a surrogate pair,
/// or a short escape such as `\/`).
fn json_escape(text: &[u8], c: char) -> Option<usize> {
    let short = match c {
        '/' => Some(b'/'),
        '\\' => Some(b'\\'),
        '"' => Some(b'"'),
        '\u{8}' => Some(b'b'),
        '\u{c}' => Some(b'f'),
        '\n' => Some(b'n'),
        '\r' => Some(b'r'),
        '\t' => Some(b't'),
        _ => None,
    };
    if short.is_some() && text.get(1) == short.as_ref() {
        return Some(2);
    }
    let unit = |at: usize| {
        let escape = text.get(at..at + 6)?;
        (escape.get(..2)? == b"\\u").then_some(())?;
        hex_value(escape.get(2..)?)
    };
    let mut units = [0u16; 2];
    let encoded = c.encode_utf16(&mut units);
    let mut used = 0;
    for want in encoded.iter() {
        if unit(used)? != u32::from(*want) {
            return None;
        }
        used += 6;
    }
    Some(used)
}

/// The length of an HTML character reference to `c` at the start of `text`.
fn html_reference(text: &[u8], c: char) -> Option<usize> {
    let end = text.iter().take(12).position(|b| *b == b';')?;
    let name = text.get(1..end)?;
    let value = match name {
        [b'#', b'x' | b'X', hex @ ..] => hex_value(hex)?,
        [b'#', decimal @ ..] => std::str::from_utf8(decimal).ok()?.parse().ok()?,
        b"amp" => u32::from('&'),
        b"lt" => u32::from('<'),
        b"gt" => u32::from('>'),
        b"quot" => u32::from('"'),
        b"apos" => u32::from('\''),
        _ => return None,
    };
    (value == u32::from(c)).then_some(end + 1)
}

/// The value of 1 to 8 hex digits.
fn hex_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_serialize_are_redacted() {
        let secret = Secret::from("canary-4f1d");
        for shown in [
            format!("{secret:?}"),
            format!("{secret:#?}"),
            secret.to_string(),
            serde_json::to_string(&secret).unwrap(),
        ] {
            assert!(!shown.contains("canary"), "{shown}");
            assert!(shown.contains(REDACTED), "{shown}");
        }
    }

    #[test]
    fn deserializes_from_a_json_string_and_exposes_on_request() {
        let secret: Secret = serde_json::from_str(r#""tb_abc""#).unwrap();
        assert_eq!(secret.expose_secret(), "tb_abc");
        assert!(serde_json::from_str::<Secret>("12").is_err());
    }

    #[test]
    fn a_secret_is_found_however_it_is_escaped() {
        let masked = |text: &str| {
            mask_in(text.as_bytes(), "tb-a/b🔑").map(|m| String::from_utf8(m).unwrap())
        };
        for echo in [
            "tb-a/b🔑",
            "tb\\u002da\\/b\\ud83d\\udd11",
            "\\u0074\\u0062\\u002D\\u0061\\u002F\\u0062🔑",
            "tb%2Da%2fb%F0%9F%94%91",
            "tb&#45;a&#x2F;b&#128273;",
        ] {
            assert_eq!(
                masked(&format!("bad key {echo}!")).as_deref(),
                Some("bad key [REDACTED]!"),
                "{echo}"
            );
        }
        assert_eq!(masked("tb-a/b"), None);
        assert_eq!(
            masked("tb-a/b🔑tb-a/b🔑").as_deref(),
            Some("[REDACTED][REDACTED]")
        );
        assert_eq!(mask_in(b"anything", ""), None);
    }
}
