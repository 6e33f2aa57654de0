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
/// A variant with a cause returns it from `source()` and does not repeat it in its own
/// message: print the whole chain (anyhow's `{:#}`, or walk `source()`) to see it.
///
/// Every call of the vendor crates (their generated `send()` included) fails with this
/// type, read from the vendor's error body. No variant ever holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server could not be reached, or the connection broke.
    #[error("could not talk to the server")]
    Transport(#[source] reqwest::Error),
    /// The request or the response took longer than the client's timeout.
    #[error("the request timed out")]
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
        /// The shape of the body's start: its punctuation, with every string, number,
        /// key and word masked, so that no value (a key, a token) can show.
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
    /// The server created a key, but a later step of the same call failed: the key exists.
    /// Whatever is known of it (its id, its secret) is in `key`, so that the caller can
    /// keep it or revoke it; nothing created is ever dropped silently.
    #[error("{}", created_but(key))]
    KeyCreated {
        /// What is known of the key the server created.
        key: Box<crate::PartialKey>,
        /// The step that failed after the key was created.
        #[source]
        error: Box<Error>,
    },
    /// A caller could not keep a new key's secret (see
    /// [`rotate_with`](crate::rotate_with)): the file or command it was to go to failed.
    #[error("the new secret could not be delivered")]
    Delivery(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn created_but(key: &crate::PartialKey) -> String {
    let id = key.id.as_deref().map_or_else(
        || "a key whose id is unknown".to_string(),
        |id| format!("key `{id}`"),
    );
    let secret = if key.secret.is_some() {
        "its secret is in the error"
    } else {
        "its secret could not be read"
    };
    format!("the server created {id} ({secret}), then a later step failed")
}

impl Error {
    /// A secret that could not be delivered, for the callback of
    /// [`rotate_with`](crate::rotate_with). `cause` must not contain the secret.
    pub fn delivery(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::Delivery(cause.into())
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::KeyCreated { error, .. } => error.status(),
            Error::Api(e) => Some(e.status),
            Error::UnexpectedStatus(status) => Some(*status),
            Error::Transport(e) | Error::Timeout(e) => e.status(),
            _ => None,
        }
    }

    /// The vendor's error, when the server answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::KeyCreated { error, .. } => error.api(),
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the thing asked for does not exist (HTTP 404, or [`Error::NotFound`]).
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::KeyCreated { error, .. } => error.is_not_found(),
            _ => matches!(self, Error::NotFound(_)) || self.status() == Some(StatusCode::NOT_FOUND),
        }
    }

    /// `error`, which happened after the server created `key`: an [`Error::KeyCreated`].
    /// When `error` already is one, what it knows of the key is kept, and `key` fills in
    /// the rest (an id found by a later step, the secret the create showed).
    pub fn after_create(key: crate::PartialKey, error: Error) -> Error {
        match error {
            Error::KeyCreated {
                key: mut known,
                error,
            } => {
                known.id = known.id.or(key.id);
                known.secret = known.secret.or(key.secret);
                Error::KeyCreated { key: known, error }
            }
            error => Error::KeyCreated {
                key: Box::new(key),
                error: Box::new(error),
            },
        }
    }

    /// The key the server created before this error happened, if it did.
    pub fn created_key(&self) -> Option<&crate::PartialKey> {
        match self {
            Error::KeyCreated { key, .. } => Some(key),
            _ => None,
        }
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
        match self {
            Error::KeyCreated { error, .. } => error.is_timeout(),
            _ => matches!(self, Error::Timeout(_)),
        }
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
///
/// Each vendor crate's impl is generated from its fragment's `x-apikeys-error`.
pub trait ErrorBody: Serialize + DeserializeOwned {
    /// The vendor's error code, if the body carries one.
    fn code(&self) -> Option<String>;
    /// The vendor's human-readable message, if the body carries one.
    fn message(&self) -> Option<String>;
    /// The body to stand for an error response that is not in the vendor's shape (a proxy's
    /// HTML page, plain text, nothing), keeping `text` as its message; `None` if the shape
    /// cannot hold it.
    fn from_text(text: String) -> Option<Self>;
}

/// The first of `candidates` that gives text in `body` as the wire has it: each candidate is
/// one or more JSON pointers, whose strings, integers and arrays of strings give texts,
/// trimmed, blank ones skipped, joined with `join`.
///
/// The body is turned into a `serde_json::Value` for this: error bodies only.
pub fn error_text<B: Serialize>(body: &B, candidates: &[&[&str]], join: &str) -> Option<String> {
    let body = serde_json::to_value(body).ok()?;
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => Some(text.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    candidates.iter().find_map(|pointers| {
        let mut texts = Vec::new();
        for pointer in *pointers {
            match body.pointer(pointer) {
                Some(serde_json::Value::Array(items)) => {
                    texts.extend(items.iter().filter_map(text))
                }
                Some(value) => texts.extend(text(value)),
                None => {}
            }
        }
        (!texts.is_empty()).then(|| texts.join(join))
    })
}

/// A body of shape `E` holding only `text` at the JSON `pointer` (`""`: the body is the
/// text): as the one item of an array with `many` (no item when `text` is blank).
pub fn error_from_text<E: DeserializeOwned>(pointer: &str, many: bool, text: String) -> Option<E> {
    use serde_json::Value;
    let mut body = match (many, text.trim().is_empty()) {
        (false, _) => Value::String(text),
        (true, true) => Value::Array(Vec::new()),
        (true, false) => Value::Array(vec![Value::String(text)]),
    };
    if let Some(path) = pointer.strip_prefix('/') {
        for token in path.rsplit('/') {
            let name = token.replace("~1", "/").replace("~0", "~");
            body = Value::Object(serde_json::Map::from_iter([(name, body)]));
        }
    }
    serde_json::from_value(body).ok()
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
        let error = with_short_url(error);
        // A request that could not be built (an invalid URL, a body that does not
        // serialize) was never sent.
        if error.is_builder() {
            let mut why = match error.url() {
                Some(url) => format!("the request to {url} could not be built"),
                None => "the request could not be built".to_string(),
            };
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                why.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            return Error::InvalidRequest(shorten(&why, MAX_MESSAGE_CHARS));
        }
        if error.is_timeout() {
            Error::Timeout(error)
        } else {
            Error::Transport(error)
        }
    }
}

/// The most characters of a URL that an error or a log line shows.
pub(crate) const MAX_URL_CHARS: usize = 200;
/// The most characters of an `InvalidRequest` message built from another error.
const MAX_MESSAGE_CHARS: usize = 1_000;

/// `error` and each of its causes, joined with ": " (as anyhow's `{:#}`): for an error
/// that is shown inside another one's message rather than as its source.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut shown = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        shown.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    shown
}

/// `text` cut to `max` characters, with `…` when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.to_string(),
    }
}

/// A transport error whose URL is cut to [`MAX_URL_CHARS`], so that a huge id does not
/// fill the message and the log.
pub(crate) fn with_short_url(error: reqwest::Error) -> reqwest::Error {
    let Some(url) = error.url() else {
        return error;
    };
    if url.as_str().chars().count() <= MAX_URL_CHARS {
        return error;
    }
    match url::Url::parse(&shorten(url.as_str(), MAX_URL_CHARS)) {
        Ok(short) => error.with_url(short),
        Err(_) => error.without_url(),
    }
}

/// A URL as an error message may show it: without user info, query or fragment (where a
/// credential may be), and at most [`MAX_URL_CHARS`] characters. A URL that has any of
/// `@?#` and does not parse is not shown at all: where its parts begin cannot be known.
pub(crate) fn redact_url(url: &str) -> String {
    let url = url.trim();
    if !url.contains(['@', '?', '#']) {
        return shorten(url, MAX_URL_CHARS);
    }
    let stripped = url::Url::parse(url).ok().and_then(|mut parsed| {
        parsed.set_username("").ok()?;
        parsed.set_password(None).ok()?;
        parsed.set_query(None);
        parsed.set_fragment(None);
        Some(parsed)
    });
    match stripped {
        Some(parsed) => shorten(parsed.as_str(), MAX_URL_CHARS),
        None => "(not shown: it may hold a credential)".to_string(),
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

/// The most characters an excerpt shows.
const EXCERPT_CHARS: usize = 160;

/// The characters an excerpt keeps as they are: JSON's and HTML's punctuation.
fn is_punctuation(c: char) -> bool {
    matches!(c, '{' | '}' | '[' | ']' | ',' | ':' | '<' | '>' | '/')
}

/// The shape of the start of a success body, for a decode error: punctuation, whitespace
/// (as one space) and JSON's `true`, `false` and `null` are kept; every string becomes
/// `"…"`, and every other run of characters (a number, a word, a bare token, a key) `…`.
///
/// Shape only, for every operation and whatever the body: success bodies of these APIs
/// carry key values, and the conversion that builds the excerpt cannot tell which
/// operation, which credential, or which escaping produced a body. Where decoding failed
/// is in the reason (line and column). At most [`EXCERPT_CHARS`] characters.
pub(crate) fn excerpt(body: &[u8]) -> String {
    // Only the start is shown; masking shrinks it, so read a little more than that.
    let start = body
        .get(..body.len().min(EXCERPT_CHARS * 16))
        .unwrap_or(body);
    let text = String::from_utf8_lossy(start);
    let mut out = String::new();
    let mut shown = 0;
    let mut chars = text.trim_start().chars().peekable();
    while let Some(c) = chars.next() {
        if shown >= EXCERPT_CHARS {
            out.push('…');
            break;
        }
        let piece = match c {
            '"' => {
                let mut escaped = false;
                for s in chars.by_ref() {
                    match (escaped, s) {
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => escaped = false,
                    }
                }
                "\"…\""
            }
            c if c.is_whitespace() => {
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                " "
            }
            c if is_punctuation(c) => {
                out.push(c);
                shown += 1;
                continue;
            }
            c => {
                // A run up to the next punctuation, space or quote: shown only if it is a
                // JSON literal.
                let mut word = String::from(c);
                while let Some(next) =
                    chars.next_if(|c| !(is_punctuation(*c) || c.is_whitespace() || *c == '"'))
                {
                    if word.len() <= 5 {
                        word.push(next);
                    }
                }
                match word.as_str() {
                    "true" => "true",
                    "false" => "false",
                    "null" => "null",
                    _ => "…",
                }
            }
        };
        out.push_str(piece);
        shown += piece.chars().count();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_shows_the_shape_of_json_only() {
        let body = br#"{"id": 7, "value": "tb_secret", "tags": ["a", "b"], "ok": true, "n": null}"#;
        assert_eq!(
            excerpt(body),
            r#"{"…": …, "…": "…", "…": ["…", "…"], "…": true, "…": null}"#
        );
        assert_eq!(
            excerpt(br#"{"value": "tb_\"secret", "n": 1}"#),
            r#"{"…": "…", "…": …}"#
        );
        assert_eq!(excerpt(br#"{"tb_secret": 1}"#), r#"{"…": …}"#);
    }

    #[test]
    fn excerpt_masks_every_shape_a_secret_can_take() {
        for body in [
            &br#""tb_secret""#[..],
            b"tb_secret",
            b"  tb_secret\n",
            br#"{"key": tb_secret}"#,
            b"{\"key\": \"tb_\xffsecret\"}",
            b"\"tb_secret",
            b"<html><body>Invalid key tb_secret</body></html>",
            b"key=tb_secret&x=1",
            b"\x00tb_secret\x1b",
        ] {
            let shown = excerpt(body);
            assert!(!shown.contains("secret"), "{shown}");
        }
        assert_eq!(
            excerpt(b"<html><body>Maintenance</body></html>"),
            "<…><…>…</…></…>"
        );
    }

    #[test]
    fn excerpt_truncates() {
        let many = format!("[{}]", vec![r#""tb_secret""#; 200].join(","));
        let shown = excerpt(many.as_bytes());
        assert!(!shown.contains("tb_secret") && shown.chars().count() <= EXCERPT_CHARS + 3);
        assert!(shown.ends_with('…'));
        let long = format!("[{}]", "1,".repeat(500));
        assert!(excerpt(long.as_bytes()).chars().count() <= EXCERPT_CHARS + 3);
    }

    #[test]
    fn excerpt_survives_non_utf8_and_controls() {
        assert_eq!(excerpt(&[0xff, b'a']), "…");
        assert_eq!(excerpt(b"a\x1b[31mb\x00\n"), "…[… ");
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// A secret a success body carries, in any shape (a bare string, plain text, a key,
        /// an unquoted value, HTML, broken UTF-8 around or inside it) and escaping, is never
        /// in a decode error's `Display` or `Debug`.
        #[test]
        fn a_secret_in_a_success_body_never_reaches_a_decode_error(
            secret in "[A-Za-z0-9_-]{4,20}[0-9][A-Za-z0-9._~+/=-]{6,30}",
            shape in 0u8..9,
            cut in proptest::prelude::any::<proptest::sample::Index>(),
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16),
        ) {
            let escaped: String = secret.chars().map(|c| format!("\\u{:04x}", u32::from(c))).collect();
            let mut body = match shape {
                0 => format!(r#""{secret}""#).into_bytes(),
                1 => secret.clone().into_bytes(),
                2 => format!(r#"{{"value": {secret}}}"#).into_bytes(),
                3 => format!(r#"{{"{secret}": 1}}"#).into_bytes(),
                4 => format!("<html><body>key {secret}</body></html>").into_bytes(),
                5 => format!(r#"{{"value": "{escaped}"}}"#).into_bytes(),
                6 => format!(r#"[{{"id": 1, "value": "{secret}"}}, {secret}]"#).into_bytes(),
                7 => format!("token={secret}&x=1").into_bytes(),
                _ => format!(r#"{{"value": "{secret}"#).into_bytes(),
            };
            // Bytes that are not UTF-8, or anything, somewhere in the body.
            let at = cut.index(body.len() + 1);
            body.splice(at..at, noise);
            for decode in [
                serde_json::from_slice::<u64>(&body).err(),
                serde_json::from_slice::<Vec<u64>>(&body).err(),
                serde_json::from_slice::<std::collections::HashMap<String, u64>>(&body).err(),
            ]
            .into_iter()
            .flatten()
            {
                let error = Error::from(GeneratedError::<Dummy>::InvalidResponsePayload(
                    body.clone().into(),
                    decode,
                ));
                let shown = format!("{error} {error:?}");
                proptest::prop_assert!(!shown.contains(&secret), "{}", shown);
                proptest::prop_assert!(shown.len() < 1_000, "{}", shown);
            }
        }
    }

    #[test]
    fn error_text_takes_the_first_candidate_with_text() {
        let body = serde_json::json!({
            "message": "  ",
            "code": 32,
            "error": {"message": "Access denied", "reason": " no scope "},
            "errors": ["a", " ", "b"],
            "flag": true
        });
        let read = |candidates: &[&[&str]]| error_text(&body, candidates, "; ");
        assert_eq!(read(&[&["/message"], &["/code"]]).as_deref(), Some("32"));
        assert_eq!(
            read(&[&["/message"], &["/error/message", "/error/reason"]]).as_deref(),
            Some("Access denied; no scope")
        );
        assert_eq!(read(&[&["/errors"]]).as_deref(), Some("a; b"));
        assert_eq!(read(&[&["/message", "/flag", "/nope"], &[]]), None);
        assert_eq!(
            error_text(&"  plain ", &[&[""], &["/error"]], "").as_deref(),
            Some("plain")
        );
    }

    #[test]
    fn error_from_text_builds_the_body_at_the_pointer() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Nested {
            outer: Inner,
        }
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Inner {
            #[serde(rename = "a/b~")]
            texts: Vec<String>,
        }
        let nested = |text: &str| error_from_text::<Nested>("/outer/a~1b~0", true, text.into());
        assert_eq!(nested("x").unwrap().outer.texts, ["x"]);
        assert!(nested(" ").unwrap().outer.texts.is_empty());
        assert_eq!(
            error_from_text::<String>("", false, "bare".into()).as_deref(),
            Some("bare")
        );
        assert_eq!(error_from_text::<u32>("", false, "7".into()), None);
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Dummy {}

    impl ErrorBody for Dummy {
        fn code(&self) -> Option<String> {
            None
        }
        fn message(&self) -> Option<String> {
            None
        }
        fn from_text(_: String) -> Option<Self> {
            Some(Dummy {})
        }
    }
}
