//! The one error type of every apikeys client.

use std::fmt;
use std::time::{Duration, SystemTime};

use progenitor_client::Error as GeneratedError;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The result of every apikeys call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a vendor's API.
///
/// Generated calls fail with `progenitor_client::Error`; `?` (or `Error::from`) turns that
/// into this type, which reads the vendor's error body. No variant ever holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server could not be reached, or the connection broke.
    #[error("could not talk to the server: {0}")]
    Transport(#[source] reqwest::Error),
    /// The request or the response took longer than the client's timeout.
    #[error("the request timed out: {0}")]
    Timeout(#[source] reqwest::Error),
    /// The request was refused before it was sent: a bad argument, base URL or credential.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A response body larger than the client's limit (`ClientBuilder::max_response_bytes`).
    #[error("the response body is larger than the {limit}-byte limit")]
    BodyTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A success response whose body is not what the API documents.
    #[error("the response body does not decode: {reason}; it begins {excerpt:?}")]
    Decode {
        /// Where decoding failed (never the offending value, which may be a secret).
        reason: String,
        /// The start of the body, with JSON string values masked.
        excerpt: String,
    },
    /// A look-up the client made found nothing, although the server answered success
    /// (balena answers an unknown device with an empty list, not a 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The server's pagination does not end as it should: a page points to itself or
    /// repeats an earlier one, a next page is offered past the server's own total, or past
    /// [`MAX_PAGES`](crate::MAX_PAGES).
    #[error("the server's pagination does not end: {0}")]
    Pagination(String),
    /// A status the API does not document for this operation.
    #[error("unexpected response status {0}")]
    UnexpectedStatus(StatusCode),
    /// The vendor answered with an error status.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::UnexpectedStatus(status) => Some(*status),
            Error::Transport(e) | Error::Timeout(e) => e.status(),
            _ => None,
        }
    }

    /// The vendor's error, when the server answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the thing asked for does not exist (HTTP 404, or [`Error::NotFound`]).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_)) || self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the credential was missing, wrong or expired (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether the credential lacks the permission (HTTP 403).
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(StatusCode::FORBIDDEN)
    }

    /// Whether the vendor is limiting the request rate (HTTP 429).
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_))
    }
}

/// An error status from the vendor, with what its body says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The vendor's own error code, when its body has one.
    pub code: Option<String>,
    /// The vendor's message, or the start of a body that is not the vendor's error shape.
    pub message: Option<String>,
    /// How long the server asked the client to wait (`Retry-After`), when it did.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server answered {}", self.status)?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(code) = &self.code {
            write!(f, " (error code {code})")?;
        }
        if let Some(wait) = self.retry_after {
            write!(f, "; retry after {} s", wait.as_secs())?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A vendor's error body: the one schema its fragment uses for every 4XX/5XX response.
pub trait ErrorBody: Serialize + DeserializeOwned {
    /// The vendor's error code, if the body carries one.
    fn code(&self) -> Option<String>;
    /// The vendor's human-readable message, if the body carries one.
    fn message(&self) -> Option<String>;
    /// The body to stand for an error response that is not in the vendor's shape (a proxy's
    /// HTML page, plain text, nothing), keeping `text` as its message.
    fn from_text(text: String) -> Self;
}

impl<E: ErrorBody> From<GeneratedError<E>> for Error {
    fn from(error: GeneratedError<E>) -> Self {
        match error {
            GeneratedError::InvalidRequest(why) | GeneratedError::Custom(why) => {
                Error::InvalidRequest(why)
            }
            GeneratedError::CommunicationError(e)
            | GeneratedError::ResponseBodyError(e)
            | GeneratedError::InvalidUpgrade(e) => Error::from(e),
            GeneratedError::ErrorResponse(response) => Error::Api(ApiError {
                status: response.status(),
                code: response.code(),
                message: response.message().filter(|m| !m.trim().is_empty()),
                retry_after: retry_after(response.headers()),
            }),
            GeneratedError::InvalidResponsePayload(body, e) => Error::Decode {
                reason: decode_reason(&e),
                excerpt: excerpt(&body),
            },
            GeneratedError::UnexpectedResponse(response) if response.status().is_success() => {
                Error::UnexpectedStatus(response.status())
            }
            GeneratedError::UnexpectedResponse(response) => Error::Api(ApiError {
                status: response.status(),
                code: None,
                message: None,
                retry_after: retry_after(response.headers()),
            }),
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            if let Some(BodyTooLarge { limit }) = cause.downcast_ref::<BodyTooLarge>() {
                return Error::BodyTooLarge { limit: *limit };
            }
            source = cause.source();
        }
        if error.is_timeout() {
            Error::Timeout(error)
        } else {
            Error::Transport(error)
        }
    }
}

/// How the hooks end a body that is over the limit: reqwest wraps it, and the conversion
/// above finds it again.
#[derive(Debug, thiserror::Error)]
#[error("the response body is larger than the {limit}-byte limit")]
pub(crate) struct BodyTooLarge {
    pub(crate) limit: usize,
}

/// Reads `Retry-After` in either of its forms: delay-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Says where serde_json stopped without quoting the value, which could be a secret.
fn decode_reason(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Io => "the body could not be read",
        Category::Syntax => "the body is not valid JSON",
        Category::Data => "a value has the wrong type or a required field is missing",
        Category::Eof => "the body ends too early",
    };
    format!("{what} (line {}, column {})", error.line(), error.column())
}

const EXCERPT_CHARS: usize = 160;

/// A character as the message shows it: one that `Debug` would escape into several
/// (`\u{1b}`, `\u{10ffff}`) becomes `·`, so the escaped excerpt stays short.
fn printable(c: char) -> char {
    match c {
        '\n' | '\r' | '\t' => ' ',
        '"' | '\\' | '\'' => c,
        c if c.escape_debug().count() > 1 => '·',
        c => c,
    }
}

/// The longest object key an excerpt shows; a longer one is masked like a value.
const EXCERPT_KEY_CHARS: usize = 64;

/// The start of a body for an error message. In JSON, every string is masked (`"…"`),
/// since a secret can only be a string, except object keys (a short string between `{` or
/// `,` and `:`), so the structure stays readable. At most [`EXCERPT_CHARS`] characters.
pub(crate) fn excerpt(body: &[u8]) -> String {
    // Only the start is shown; masking can shrink it, so read a little more than that.
    let start = body
        .get(..body.len().min(EXCERPT_CHARS * 16))
        .unwrap_or(body);
    let text = String::from_utf8_lossy(start);
    let json = text.trim_start().starts_with(['{', '[']);
    let mut out: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    let mut containers: Vec<char> = Vec::new();
    let mut last = ' ';
    while let Some(c) = chars.next() {
        if out.len() >= EXCERPT_CHARS {
            out.push("…".into());
            break;
        }
        if json && c == '"' {
            let mut literal = String::from('"');
            let mut escaped = false;
            for s in chars.by_ref() {
                literal.push(s);
                match (escaped, s) {
                    (false, '\\') => escaped = true,
                    (false, '"') => break,
                    _ => escaped = false,
                }
            }
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            let is_key = containers.last() == Some(&'{')
                && matches!(last, '{' | ',')
                && chars.peek() == Some(&':')
                && literal.chars().count() <= EXCERPT_KEY_CHARS + 2;
            out.push(if is_key {
                literal.chars().map(printable).collect()
            } else {
                "\"…\"".into()
            });
            last = '"';
            continue;
        }
        match c {
            '{' | '[' => containers.push(c),
            '}' | ']' => {
                containers.pop();
            }
            _ => {}
        }
        if !c.is_whitespace() {
            last = c;
        }
        out.push(printable(c).into());
    }
    // Counted in pieces (a kept key is one), then cut to the character budget.
    let mut text: String = out.concat();
    if let Some((cut, _)) = text.char_indices().nth(EXCERPT_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_masks_json_string_values_but_keeps_keys() {
        let body = br#"{"id": 7, "value": "tb_secret", "tags": ["a", "b"], "ok": true}"#;
        assert_eq!(
            excerpt(body),
            r#"{"id": 7, "value": "…", "tags": ["…", "…"], "ok": true}"#
        );
    }

    #[test]
    fn excerpt_masks_strings_with_escaped_quotes() {
        let body = br#"{"value": "tb_\"secret", "n": 1}"#;
        assert_eq!(excerpt(body), r#"{"value": "…", "n": 1}"#);
    }

    #[test]
    fn excerpt_masks_strings_that_are_not_keys_even_in_broken_json() {
        // No colon after the first string: neither is a key.
        assert_eq!(excerpt(br#"{"api_key" "tb_secret"}"#), r#"{"…""…"}"#);
        let long_key = format!(r#"{{"{}": 1}}"#, "k".repeat(100));
        assert_eq!(excerpt(long_key.as_bytes()), r#"{"…": 1}"#);
        let many = format!("[{}]", vec![r#""tb_secret""#; 200].join(","));
        let shown = excerpt(many.as_bytes());
        assert!(!shown.contains("tb_secret") && shown.chars().count() <= EXCERPT_CHARS + 1);
    }

    #[test]
    fn excerpt_keeps_plain_text_and_truncates() {
        let page = format!("<html>{}</html>", "x".repeat(500));
        let got = excerpt(page.as_bytes());
        assert!(got.starts_with("<html>xxx"));
        assert_eq!(got.chars().count(), EXCERPT_CHARS + 1);
        assert!(got.ends_with('…'));
    }

    #[test]
    fn excerpt_survives_non_utf8() {
        assert_eq!(excerpt(&[0xff, b'a']), "\u{fffd}a");
        assert_eq!(excerpt(b"a\x1b[31mb\x00\n"), "a·[31mb· ");
        let wide = format!("[{}", "\u{10ffff}".repeat(400));
        let error = Error::Decode {
            reason: String::new(),
            excerpt: excerpt(wide.as_bytes()),
        };
        assert!(format!("{error} {error:?}").len() < 1_000);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));

        let later = SystemTime::now() + Duration::from_secs(90);
        headers.insert(RETRY_AFTER, httpdate::fmt_http_date(later).parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(85) && wait <= Duration::from_secs(90),
            "{wait:?}"
        );

        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a past date means now"
        );

        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn decode_reason_never_quotes_the_value() {
        let e = serde_json::from_str::<u64>(r#""tb_secret""#).unwrap_err();
        let reason = decode_reason(&e);
        assert!(!reason.contains("tb_secret"), "{reason}");
        assert!(reason.contains("wrong type"), "{reason}");
    }

    #[test]
    fn api_error_reads_well() {
        let e = Error::Api(ApiError {
            status: StatusCode::NOT_FOUND,
            code: Some("32".into()),
            message: Some("Requested item wasn't found!".into()),
            retry_after: None,
        });
        assert_eq!(
            e.to_string(),
            "the server answered 404 Not Found: Requested item wasn't found! (error code 32)"
        );
        assert!(e.is_not_found() && !e.is_unauthorized() && !e.is_rate_limited());
    }
}
