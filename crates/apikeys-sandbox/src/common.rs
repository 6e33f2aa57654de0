//! What every vendor's emulation shares: locking, responses, query strings, random secrets.

use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a handler answers: the response, or the vendor's error response.
pub(crate) type Reply = Result<Response, Response>;

/// Locks a vendor's state. A handler that panicked mid-update cannot leave it worse than
/// the panic already did, so a poisoned lock is taken as it is.
pub(crate) fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One of the fragments' `example`s (`crate::examples`) read with the emulator's own wire
/// types, which deny fields they do not write: the seeded data is the vendor's documented
/// body, and a field the fragment and the emulator disagree on fails the emulator's unit
/// test that reads it. At run time a failure seeds the emulator's fallback instead.
pub(crate) fn example<T: serde::Deserialize<'static>>(
    text: &'static str,
) -> Result<T, serde_json::Error> {
    serde_json::from_str(text)
}

/// A JSON response with the given status.
pub(crate) fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => with_type(status, "application/json", bytes),
        Err(_) => with_type(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            b"the sandbox could not encode its answer".to_vec(),
        ),
    }
}

/// A response with a body of the given content type.
pub(crate) fn with_type(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A response without a body.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// The decoded `name=value` pairs of a query string, in order (repeats kept).
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

/// The first value of the query parameter `name`.
pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A URL path with its `%XX` escapes decoded (`+` stays a plus); `None` when an escape is
/// malformed or the result is not UTF-8.
pub(crate) fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The value of header `name`, when it is present and text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is matched without
/// regard to case, as most servers do.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case("bearer ") && !token.is_empty()).then_some(token)
}

/// Sixteen random bytes (a v4 UUID's, which come from the OS's generator).
fn random16() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

/// `n` random bytes.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        out.extend_from_slice(&random16());
    }
    out.truncate(n);
    out
}

/// `n` random lowercase hexadecimal digits.
pub(crate) fn random_hex(n: usize) -> String {
    hex(&random_bytes(n.div_ceil(2))).chars().take(n).collect()
}

/// A random non-negative 63-bit integer.
pub(crate) fn random_i63() -> i64 {
    let bytes = random16();
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    i64::from_be_bytes(word) & i64::MAX
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lowercase or uppercase hexadecimal text.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 without padding, in the standard or the URL-safe alphabet.
pub(crate) fn base64(bytes: &[u8], url_safe: bool) -> String {
    let alphabet = if url_safe { URL_SAFE } else { STANDARD };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let index = (n >> (18 - 6 * i)) & 63;
            out.push(char::from(alphabet[index as usize]));
        }
    }
    out
}

/// A JWT-shaped token (`header.payload.signature`, base64url): servers tell sessions from
/// API keys by this shape. The signature is random; only the sandbox checks these tokens.
pub(crate) fn jwt(claims: &serde_json::Value) -> String {
    let header = base64(br#"{"alg":"HS512","typ":"JWT"}"#, true);
    let payload = base64(claims.to_string().as_bytes(), true);
    let signature = base64(&random_bytes(32), true);
    format!("{header}.{payload}.{signature}")
}

/// Now, to the millisecond (what most of these vendors store).
pub(crate) fn now() -> DateTime<Utc> {
    to_millis(Utc::now())
}

/// `at`, to the millisecond.
pub(crate) fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_reference_vectors() {
        assert_eq!(base64(b"", false), "");
        assert_eq!(base64(b"f", false), "Zg");
        assert_eq!(base64(b"fo", false), "Zm8");
        assert_eq!(base64(b"foo", false), "Zm9v");
        assert_eq!(base64(b"foob", false), "Zm9vYg");
        assert_eq!(base64(b"\xfb\xff", true), "-_8");
        assert_eq!(base64(b"\xfb\xff", false), "+/8");
        // The example token of SensorBucket's OpenAPI document
        // (`tools/oathkeeper/bundled_openapi.yaml` in `sensorbucket/SensorBucket`).
        assert_eq!(
            base64(
                b"2593154802165301128:626607d0ebcd90da14dea84f8213b4b7",
                false
            ),
            "MjU5MzE1NDgwMjE2NTMwMTEyODo2MjY2MDdkMGViY2Q5MGRhMTRkZWE4NGY4MjEzYjRiNw"
        );
    }

    #[test]
    fn hex_round_trips_and_random_values_have_their_length() {
        assert_eq!(unhex(&hex(b"\x00\xffab")).unwrap(), b"\x00\xffab");
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(random_hex(24).len(), 24);
        assert_eq!(random_hex(7).len(), 7);
        assert_eq!(random_bytes(64).len(), 64);
        assert_eq!(
            percent_decode("/v7/device(uuid=%27ab%27)").as_deref(),
            Some("/v7/device(uuid='ab')")
        );
        assert_eq!(percent_decode("/a+b%2"), None);
        assert!(random_i63() >= 0);
    }

    #[test]
    fn bearer_tokens_are_read_whatever_the_scheme_case() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert("authorization", HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
    }
}
