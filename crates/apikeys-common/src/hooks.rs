//! What happens around every request of every generated client. The generated code calls
//! this through `generated_client!`, which `cargo xtask codegen` emits for each vendor.

use std::borrow::Cow;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use reqwest::header::CONTENT_LENGTH;
use reqwest::{Request, Response, ResponseBuilderExt};
use tracing::{Instrument, field};

pub use crate::constraints::{Constraint, Location, Rule, check_body};
use crate::error::BodyTooLarge;
use crate::retry::{is_retryable_error, is_retryable_status};
use crate::{ClientState, ErrorBody, retry_after};

/// Error bodies are read up to this size; only their message is of use.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// An error body that is not the vendor's shape keeps this much of its text as the message.
const MAX_ERROR_TEXT: usize = 300;

/// One operation of a generated client, as its fragment declares it.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The operationId.
    pub id: &'static str,
    /// The path template, e.g. `/api/apiKey/{id}`.
    pub path: &'static str,
    /// Whether sending it twice has the effect of sending it once (and so may be retried).
    pub idempotent: bool,
    /// The success statuses whose body the generated code reads whole and decodes.
    pub decoded: &'static [u16],
    /// The bounds its fragment puts on what it sends, checked before sending.
    pub constraints: &'static [Constraint],
}

/// Runs before a request is sent: checks that the path kept the operation's shape and that
/// every bound of the fragment on its query and path holds (the body's are checked on the
/// typed body, by [`check_body`]) and sets the credential. (Text bodies are labelled as the
/// UTF-8 they are by the generated code itself: see `cargo xtask codegen`.)
///
/// `operation` is what the fragment declares, `base_url` the client's.
pub fn pre(
    state: &ClientState,
    base_url: &str,
    operation: &Operation,
    request: &mut Request,
) -> Result<(), String> {
    check_path(base_url, request.url().path(), operation.path)?;
    crate::constraints::check(
        operation.id,
        operation.constraints,
        base_url,
        operation.path,
        request,
    )?;
    let headers = request.headers_mut();
    if let Some(credential) = &state.credential {
        headers.insert(
            credential.header_name().clone(),
            credential.header_value().clone(),
        );
    }
    Ok(())
}

/// Percent-encodes one path parameter for the generated clients: what progenitor's own
/// `encode_path` encodes, and `\` too, which URL parsing would otherwise read as `/`.
pub fn encode_path(segment: &str) -> String {
    const PATH_SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'/')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'\\')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    // Through `Cow` rather than `Display`: one copy, without the formatting machinery.
    Cow::from(utf8_percent_encode(segment, PATH_SEGMENT)).into_owned()
}

/// Path parameters are percent-encoded, but `.` and `..` are not, and URL parsing resolves
/// them: `DELETE /users/{id}` with id `..` would become `DELETE /`. So the path that will
/// be sent must still have the template's segments: every literal in place, every
/// parameter non-empty.
fn check_path(base_url: &str, path: &str, template: &str) -> Result<(), String> {
    if path_fits(base_url, path, template) {
        Ok(())
    } else {
        Err(format!(
            "a path parameter would change the request path to `{}` (expected the shape \
             `{template}`): ids that are empty, `.` or `..`, or that contain `\\`, cannot be sent",
            crate::error::shorten(path, crate::error::MAX_URL_CHARS)
        ))
    }
}

/// Whether `path` has the shape of the base URL's path followed by `template`.
fn path_fits(base_url: &str, path: &str, template: &str) -> bool {
    // Runs on every request. The usual base path (none, or segments without an empty one
    // or a `{`) is compared as one prefix, and a template without parameters as one text.
    // Short texts are scanned byte by byte: `str::find` would set up a searcher or call
    // `memchr` for each.
    let has = |text: &str, byte: u8| text.bytes().any(|b| b == byte);
    let base_path = base_url
        .bytes()
        .position(|b| b == b':')
        .and_then(|at| base_url.get(at + 1..)?.strip_prefix("//"))
        .map(|rest| {
            let at = rest.bytes().position(|b| b == b'/');
            at.and_then(|at| rest.get(at..)).unwrap_or("")
        });
    let plain = |text: &str| !text.contains("//") && !text.ends_with('/') && !has(text, b'{');
    if let Some(base_path) = base_path.filter(|base| plain(base))
        && template.starts_with('/')
    {
        let Some(rest) = path.strip_prefix(base_path) else {
            return false;
        };
        if !has(template, b'{') {
            return rest == template;
        }
        return segments_fit(slash_split(template).skip(1), slash_split(rest).skip(1))
            && rest.starts_with('/');
    }
    segment_by_segment(base_url, path, template)
}

/// [`path_fits`] for any base URL: the base's non-empty segments, then the template's.
fn segment_by_segment(base_url: &str, path: &str, template: &str) -> bool {
    // Segments are compared pairwise, nothing is collected.
    let base = slash_split(base_url).skip(3).filter(|s| !s.is_empty());
    let expected = base.chain(slash_split(template).skip(1));
    segments_fit(expected, slash_split(path).skip(1))
}

/// Whether `actual` has as many segments as `expected`, each fitting its template segment.
fn segments_fit<'t, 'p>(
    mut expected: impl Iterator<Item = &'t str>,
    mut actual: impl Iterator<Item = &'p str>,
) -> bool {
    loop {
        match (expected.next(), actual.next()) {
            (Some(want), Some(got)) if segment_fits(want, got) => {}
            (None, None) => break true,
            _ => break false,
        }
    }
}

/// `text.split('/')`, found byte by byte: `/` is ASCII, so the pieces are the same, without
/// a `char` searcher's set-up for every short segment of every request.
pub(crate) fn slash_split(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == b'/') {
            Some(at) => {
                rest = current.get(at + 1..);
                current.get(..at)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Whether a path segment matches a template segment such as `apiKey`, `{id}` or `key({id})`.
fn segment_fits(template: &str, segment: &str) -> bool {
    // Byte by byte: segments are short, and `{` and `}` are ASCII.
    let open = template.bytes().position(|b| b == b'{');
    let close = template.bytes().rposition(|b| b == b'}');
    match (open, close) {
        (Some(open), Some(close)) if open < close => {
            let (prefix, suffix) = (&template[..open], &template[close + 1..]);
            segment.len() > prefix.len() + suffix.len()
                && segment.starts_with(prefix)
                && segment.ends_with(suffix)
        }
        _ => template == segment,
    }
}

/// Sends a request inside a `tracing` span (vendor, operation, method, attempts, status,
/// latency; never headers or bodies: see the crate README), retrying idempotent operations
/// as the client's [`RetryPolicy`] allows. The body is read here, up to the client's limit, so that an oversized body is
/// refused rather than buffered, and every error response is put into the vendor's error
/// shape so the caller always gets the status and a message.
///
/// [`RetryPolicy`]: crate::RetryPolicy
///
/// A plain function returning the instrumented future, not an `async fn`: each layer of
/// `async` around a future moves the whole of it once more on every request.
pub fn exec<'a, E: ErrorBody>(
    vendor: &'static str,
    http: &'a reqwest::Client,
    state: &'a ClientState,
    operation: &'a Operation,
    request: Request,
) -> impl Future<Output = reqwest::Result<Response>> + 'a {
    let span = tracing::debug_span!(
        "apikeys.request",
        vendor,
        operation = operation.id,
        method = %request.method(),
        attempts = field::Empty,
        status = field::Empty,
        latency_ms = field::Empty,
    );
    // The span is recorded through a handle of its own: `Span::current()` would look it
    // up in the dispatcher for every request.
    let recorder = span.clone();
    async move {
        let started = Instant::now();
        let span = recorder;
        let (outcome, attempts) = send_with_retries(http, state, operation, request, started).await;
        // Each field is recorded once, when the call is over.
        span.record("attempts", attempts);
        span.record(
            "latency_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        match outcome {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                tracing::debug!("response received");
                if handed_on_unread(&response, state, operation) {
                    Ok(response)
                } else {
                    // Boxed: the reading and rebuilding would otherwise weigh on the
                    // future of every request, which is moved whole at each `.await` layer.
                    Box::pin(buffer_response::<E>(response, state, operation)).await
                }
            }
            Err(error) => {
                let error = crate::error::with_short_url(error);
                tracing::debug!(%error, "request failed");
                Err(error)
            }
        }
    }
    .instrument(span)
}

async fn send_with_retries(
    http: &reqwest::Client,
    state: &ClientState,
    operation: &Operation,
    request: Request,
    started: Instant,
) -> (reqwest::Result<Response>, u32) {
    let mut attempt = 1;
    let mut request = request;
    loop {
        // A body that cannot be cloned (a stream) can only be sent once. No copy is made
        // for an attempt that the policy would not follow with another.
        let spare = if operation.idempotent && attempt < state.retry.max_attempts {
            request.try_clone()
        } else {
            None
        };
        let outcome = http.execute(request).await;
        let (reason, asked) = match &outcome {
            Ok(response) if is_retryable_status(response.status()) => (
                response.status().to_string(),
                retry_after(response.headers()),
            ),
            Err(error) if is_retryable_error(error) => ("connection failed".to_string(), None),
            _ => return (outcome, attempt),
        };
        // A delay is computed only for a request that may be sent again.
        let Some(next) = spare else {
            return (outcome, attempt);
        };
        let Some(delay) = state.retry.next_delay(attempt, started.elapsed(), asked) else {
            return (outcome, attempt);
        };
        tracing::info!(
            attempt,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            %reason,
            "retrying"
        );
        drop(outcome);
        // Boxed, as only a retry needs it: see `exec`.
        Box::pin(tokio::time::sleep(delay)).await;
        attempt += 1;
        request = next;
    }
}

/// Decodes a success body, for the generated clients: what progenitor's
/// `ResponseValue::from_response` does, without its copy of the response headers, which
/// `send` drops unread.
pub async fn decode<T: serde::de::DeserializeOwned, E>(
    response: Response,
) -> Result<crate::__private::ResponseValue<T>, crate::__private::GeneratedError<E>> {
    use crate::__private::GeneratedError;
    let status = response.status();
    let full = response
        .bytes()
        .await
        .map_err(GeneratedError::ResponseBodyError)?;
    let inner = serde_json::from_slice(&full)
        .map_err(|e| GeneratedError::InvalidResponsePayload(full, e))?;
    Ok(crate::__private::ResponseValue::new(
        inner,
        status,
        reqwest::header::HeaderMap::new(),
    ))
}

/// Reads the whole body (refusing one over the client's limit) and hands the response on,
/// error responses in the vendor's error shape.
async fn buffer_response<E: ErrorBody>(
    mut response: Response,
    state: &ClientState,
    operation: &Operation,
) -> reqwest::Result<Response> {
    if handed_on_unread(&response, state, operation) {
        return Ok(response);
    }
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    let limit = if failed {
        MAX_ERROR_BODY
    } else {
        state.max_response_bytes
    };
    let declared = response
        .content_length()
        .and_then(|n| usize::try_from(n).ok());
    // The headers and extensions move to the rebuilt response (no copy), and so does the
    // URL: without it reqwest would parse a placeholder URL for every response.
    let mut headers = std::mem::take(response.headers_mut());
    // The body may be cut or rewritten below; reqwest recomputes the length.
    headers.remove(CONTENT_LENGTH);
    let mut rebuilt = http::Response::builder()
        .status(status)
        .version(response.version());
    if let Some(extensions) = rebuilt.extensions_mut() {
        *extensions = std::mem::take(response.extensions_mut());
    }
    let mut rebuilt = rebuilt.url(response.url().clone());
    if let Some(rebuilt) = rebuilt.headers_mut() {
        *rebuilt = headers;
    }
    let body = match declared {
        Some(length) if !failed && length > limit => None,
        _ => read_capped(response, limit, failed, declared).await?,
    };
    let body = match body {
        None => reqwest::Body::wrap_stream(futures::stream::once(async move {
            Err::<Bytes, _>(BodyTooLarge { limit })
        })),
        Some(body) if failed => reqwest::Body::from(vendor_error_body::<E>(body, state)),
        Some(body) => reqwest::Body::from(body),
    };
    Ok(Response::from(rebuilt.body(body).unwrap_or_default()))
}

/// Whether a response is handed on as it is, its body unread.
///
/// `content_length` is the body's exact size as the connection frames it (a declared
/// `Content-Length`, which hyper and h2 hold the body to, and unknown while reqwest
/// decompresses): such a body cannot outgrow its length, so a success within the limit
/// is handed on as it is, and the caller reads it once, with no copy or rebuilt response.
/// Only for a status whose body the operation then reads whole: any other (an
/// undocumented success) is read by [`buffer_response`], so a broken body ends in a
/// transport error first.
fn handed_on_unread(response: &Response, state: &ClientState, operation: &Operation) -> bool {
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    !failed
        && response
            .content_length()
            .and_then(|n| usize::try_from(n).ok())
            .is_some_and(|length| length <= state.max_response_bytes)
        && operation.decoded.contains(&status.as_u16())
}

/// The body, or `None` when it exceeds `limit`. With `truncate`, a longer body is cut at
/// `limit` instead (error bodies: only their start is of use).
///
/// A body that arrives in one chunk is kept as it is, without a copy; chunks are joined in
/// one buffer sized from the declared length (up to `limit`), so it grows at most rarely.
async fn read_capped(
    mut response: Response,
    limit: usize,
    truncate: bool,
    declared: Option<usize>,
) -> reqwest::Result<Option<Bytes>> {
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while let Some(mut chunk) = response.chunk().await? {
        let received = first.as_ref().map_or(joined.len(), Bytes::len);
        let cut = received + chunk.len() > limit;
        if cut {
            if !truncate {
                return Ok(None);
            }
            chunk.truncate(limit - received);
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            None => joined.extend_from_slice(&chunk),
            Some(start) => {
                let expected = declared.unwrap_or(0).min(limit);
                joined.reserve(expected.max(start.len() + chunk.len()));
                joined.extend_from_slice(&start);
                joined.extend_from_slice(&chunk);
            }
        }
        if cut {
            break;
        }
    }
    Ok(Some(first.unwrap_or_else(|| joined.freeze())))
}

/// An error body in the vendor's error shape. A body in another shape (a proxy's HTML page,
/// plain text, nothing) becomes the vendor shape with its text as the message; otherwise
/// progenitor would report a decode error and the status would be lost. The client's own
/// credential is masked.
fn vendor_error_body<E: ErrorBody>(body: Bytes, state: &ClientState) -> Bytes {
    let body = mask_credential(body, state);
    if serde_json::from_slice::<E>(&body).is_ok() {
        return body;
    }
    let text: String = String::from_utf8_lossy(&body)
        .trim()
        .chars()
        .take(MAX_ERROR_TEXT)
        .collect();
    match E::from_text(text).map(|shaped| serde_json::to_vec(&shaped)) {
        Some(Ok(json)) => Bytes::from(json),
        _ => body,
    }
}

/// Servers sometimes echo a rejected credential in their error text, raw or escaped.
fn mask_credential(body: Bytes, state: &ClientState) -> Bytes {
    let Some(secret) = state
        .credential
        .as_ref()
        .map(|c| c.secret().expose_secret())
    else {
        return body;
    };
    match crate::secret::mask_in(&body, secret) {
        Some(masked) => Bytes::from(masked),
        None => body,
    }
}

/// Connects a generated `Client` to this crate: its request hooks and its builder.
///
/// `cargo xtask codegen` emits one call at the end of every `generated.rs`, naming the
/// vendor's error schema and, for each operation, its path template, whether it is
/// idempotent, the success statuses whose body it decodes (`[200u16]`) and its fragment's
/// bounds as `(Query, "limit", Maximum(500))`; it is not meant to be written by hand.
#[macro_export]
macro_rules! generated_client {
    (
        $client:ident,
        $error:ty,
        [$((
            $operation:literal,
            $path:literal,
            $idempotent:literal,
            [$($decoded:literal),* $(,)?],
            [$(($location:ident, $field:literal, $rule:ident($bound:literal))),* $(,)?]
        )),* $(,)?]
    ) => {
        impl $client {
            const OPERATIONS: &'static [$crate::hooks::Operation] = &[
                $($crate::hooks::Operation {
                    id: $operation,
                    path: $path,
                    idempotent: $idempotent,
                    decoded: &[$($decoded),*],
                    constraints: &[$($crate::hooks::Constraint {
                        location: $crate::hooks::Location::$location,
                        field: $field,
                        rule: $crate::hooks::Rule::$rule($bound),
                    }),*],
                }),*
            ];

            fn operation(info: &$crate::__private::OperationInfo) -> &'static $crate::hooks::Operation {
                const UNKNOWN: $crate::hooks::Operation =
                    $crate::hooks::Operation {
                    id: "",
                    path: "",
                    idempotent: false,
                    decoded: &[],
                    constraints: &[],
                };
                Self::OPERATIONS
                    .iter()
                    .find(|operation| operation.id == info.operation_id)
                    .unwrap_or(&UNKNOWN)
            }

            /// The operation's body bounds, checked on the typed body before it is sent;
            /// every `exchange` that sends a body calls this.
            fn check_body<E, B: $crate::__private::serde::Serialize + ?Sized>(
                info: &$crate::__private::OperationInfo,
                body: &B,
            ) -> ::std::result::Result<(), $crate::__private::GeneratedError<E>> {
                let operation = Self::operation(info);
                $crate::hooks::check_body(operation.id, operation.constraints, body)
                    .map_err($crate::__private::GeneratedError::InvalidRequest)
            }
        }

        impl $crate::__private::ClientHooks<$crate::ClientState> for $client {
            async fn pre<E>(
                &self,
                request: &mut $crate::__private::reqwest::Request,
                info: &$crate::__private::OperationInfo,
            ) -> ::std::result::Result<(), $crate::__private::GeneratedError<E>> {
                $crate::hooks::pre(
                    $crate::__private::ClientInfo::inner(self),
                    $crate::__private::ClientInfo::baseurl(self),
                    Self::operation(info),
                    request,
                )
                .and_then(|()| <$client as $crate::Vendor>::prepare_request(request))
                .map_err($crate::__private::GeneratedError::InvalidRequest)
            }

            // The future of `hooks::exec` itself, without an `async` layer around it.
            fn exec(
                &self,
                request: $crate::__private::reqwest::Request,
                info: &$crate::__private::OperationInfo,
            ) -> impl ::std::future::Future<
                Output = $crate::__private::reqwest::Result<$crate::__private::reqwest::Response>,
            > {
                $crate::hooks::exec::<$error>(
                    <$client as $crate::Vendor>::NAME,
                    $crate::__private::ClientInfo::client(self),
                    $crate::__private::ClientInfo::inner(self),
                    Self::operation(info),
                    request,
                )
            }
        }

        impl $crate::GeneratedClient for $client {
            fn from_parts(
                base_url: &str,
                http: $crate::__private::reqwest::Client,
                state: $crate::ClientState,
                _checked: $crate::Checked,
            ) -> Self {
                Self::new_with_client(base_url, http, state)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credential, Secret};

    fn state_with(secret: &str) -> ClientState {
        ClientState {
            credential: Some(
                Credential::header("authorization", "Bearer", Secret::from(secret)).unwrap(),
            ),
            ..ClientState::default()
        }
    }

    #[test]
    fn pre_sets_the_credential() {
        let mut request = Request::new(reqwest::Method::GET, "http://127.0.0.1/x".parse().unwrap());
        let operation = Operation {
            id: "x",
            path: "/x",
            idempotent: true,
            decoded: &[],
            constraints: &[],
        };
        pre(
            &state_with("k"),
            "http://127.0.0.1",
            &operation,
            &mut request,
        )
        .unwrap();
        let headers = request.headers();
        assert_eq!(headers["authorization"], "Bearer k");
        assert!(headers["authorization"].is_sensitive());
    }

    #[test]
    fn slash_split_splits_as_str_split_does() {
        for text in [
            "",
            "/",
            "//",
            "a",
            "/a/b/",
            "http://h:1/api//x",
            "é/日/🔑",
            "a/",
        ] {
            assert_eq!(
                slash_split(text).collect::<Vec<_>>(),
                text.split('/').collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn paths_that_keep_the_template_shape_pass() {
        let ok = |base, path, template| check_path(base, path, template).is_ok();
        assert!(ok("https://h", "/api/apiKey/a81c", "/api/apiKey/{id}"));
        assert!(ok(
            "https://h/api",
            "/api/api-keys/7",
            "/api-keys/{api_key_id}"
        ));
        assert!(ok(
            "https://h",
            "/api/apiKey/..%2Fx/enabled/true",
            "/api/apiKey/{id}/enabled/{enabledValue}"
        ));
        assert!(ok("https://h", "/v7/api_key(12)", "/v7/api_key({id})"));
        assert!(ok("https://h", "/api/auth/login", "/api/auth/login"));
    }

    proptest::proptest! {
        /// The shortcut for a plain base path decides as the segment-by-segment reading.
        #[test]
        fn the_plain_base_shortcut_decides_as_segments_do(
            base in "(https?://)?h(:1)?(/[a-z{}]{0,3}){0,3}/?",
            path in "(/[a-z.{}7]{0,4}){0,5}/?",
            template in "/?([a-z]{0,3}|\\{id\\}|x\\{id\\}y)(/([a-z]{0,3}|\\{id\\})){0,3}",
        ) {
            // Paths built from the base and the template, so that most cases are near misses.
            let joined = |rest: &str| format!("{}{rest}", base.split_once("//h").map_or("", |(_, p)| p.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit())));
            for path in [path.clone(), joined(&path), joined(&template), joined(&template.replace("{id}", "7"))] {
                proptest::prop_assert_eq!(
                    path_fits(&base, &path, &template),
                    segment_by_segment(&base, &path, &template),
                    "{} {} {}", base, path, template
                );
            }
        }
    }

    #[test]
    fn dot_segments_and_empty_ids_are_refused() {
        let refused = |path, template| check_path("https://h", path, template).is_err();
        // What `..`, `.` and `` become once the URL is parsed.
        assert!(refused("/api/", "/api/apiKey/{id}"));
        assert!(refused("/api/apiKey/", "/api/apiKey/{id}"));
        assert!(refused(
            "/api/apiKey/enabled/true",
            "/api/apiKey/{id}/enabled/{enabledValue}"
        ));
        assert!(refused("/v7/api_key()", "/v7/api_key({id})"));
        assert!(refused("/api/other/x", "/api/apiKey/{id}"));
        assert!(check_path("https://h/api", "/api-keys/7", "/api-keys/{api_key_id}").is_err());
    }

    #[test]
    fn path_parameters_are_encoded_as_progenitor_does_and_backslashes_too() {
        assert_eq!(encode_path("a\\b"), "a%5Cb");
        for id in [
            "../x",
            "a/b",
            "?x=1",
            "#f",
            "a b",
            "100%",
            "{id}",
            "日本語",
            "x\u{0}y",
            "a;b,c+d",
        ] {
            let ours = encode_path(id);
            assert_eq!(
                ours.replace("%5C", "\\"),
                progenitor_client::encode_path(id)
            );
        }
    }

    fn chunked(chunks: &[&'static str]) -> Response {
        let chunks: Vec<Result<Bytes, std::io::Error>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from_static(c.as_bytes())))
            .collect();
        let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
        Response::from(http::Response::new(body))
    }

    #[tokio::test]
    async fn bodies_are_read_whole_in_one_chunk_or_many() {
        let read = |chunks, declared| async move {
            read_capped(chunked(chunks), 100, false, declared)
                .await
                .unwrap()
        };
        assert_eq!(read(&["whole"], Some(5)).await.unwrap(), "whole");
        assert_eq!(read(&["ab", "cd", "ef"], Some(6)).await.unwrap(), "abcdef");
        assert_eq!(read(&["ab", "", "cd"], None).await.unwrap(), "abcd");
        assert_eq!(read(&["", "ab"], Some(2)).await.unwrap(), "ab");
        assert_eq!(read(&[], None).await.unwrap(), "");
        // A declared length that is wrong only sizes the buffer.
        assert_eq!(read(&["ab", "cd"], Some(1)).await.unwrap(), "abcd");
        assert_eq!(read(&["ab", "cd"], Some(1000)).await.unwrap(), "abcd");
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused_or_cut() {
        let read = |chunks, truncate| async move {
            read_capped(chunked(chunks), 5, truncate, None)
                .await
                .unwrap()
        };
        assert_eq!(read(&["abc", "def"], false).await, None);
        assert_eq!(read(&["abcdef"], false).await, None);
        assert_eq!(read(&["abcde"], false).await.unwrap(), "abcde");
        assert_eq!(read(&["abc", "def"], true).await.unwrap(), "abcde");
        assert_eq!(read(&["abcdefgh"], true).await.unwrap(), "abcde");
        assert_eq!(
            read(&["ab", "cd", "ef", "gh"], true).await.unwrap(),
            "abcde"
        );
    }

    #[test]
    fn the_credential_is_masked_in_error_bodies() {
        let masked = mask_credential(
            Bytes::from_static(b"bad key canary-77 given"),
            &state_with("canary-77"),
        );
        assert_eq!(masked, "bad key [REDACTED] given");
        let untouched = mask_credential(Bytes::from_static(b"plain"), &ClientState::default());
        assert_eq!(untouched, "plain");
    }

    /// An error body with a message, as vendors' are.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Body {
        message: Option<String>,
    }

    impl ErrorBody for Body {
        fn code(&self) -> Option<String> {
            None
        }
        fn message(&self) -> Option<String> {
            self.message.clone()
        }
        fn from_text(text: String) -> Option<Self> {
            Some(Body {
                message: Some(text),
            })
        }
    }

    /// One way to write `c`: as itself, or escaped as JSON, a URL or HTML would.
    fn written(c: char, how: u8) -> String {
        let mut units = [0u16; 2];
        let json: String = c
            .encode_utf16(&mut units)
            .iter()
            .map(|u| format!("\\u{u:04x}"))
            .collect();
        let mut utf8 = [0; 4];
        let percent: String = c
            .encode_utf8(&mut utf8)
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect();
        match how {
            0 => c.to_string(),
            1 => json,
            2 => json.to_uppercase().replace("\\U", "\\u"),
            3 if c == '/' => "\\/".to_string(),
            4 => percent,
            5 => format!("&#{};", u32::from(c)),
            6 => format!("&#x{:X};", u32::from(c)),
            _ => c.to_string(),
        }
    }

    /// Undoes every escape `written` can produce, in any mix: an independent reading of
    /// what a person or a program could recover from a text.
    fn unescape_all(text: &str) -> String {
        let bytes = text.as_bytes();
        let hex = |from: usize, len: usize| {
            let digits = std::str::from_utf8(bytes.get(from..from + len)?).ok()?;
            u32::from_str_radix(digits, 16).ok()
        };
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(b) = bytes.get(at) {
            let mut push = |c: char| out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            if b == &b'\\'
                && bytes.get(at + 1) == Some(&b'u')
                && let Some(unit) = hex(at + 2, 4)
            {
                let low = (bytes.get(at + 6..at + 8) == Some(b"\\u"))
                    .then(|| hex(at + 8, 4))
                    .flatten()
                    .filter(|low| (0xDC00..0xE000).contains(low));
                if let (0xD800..0xDC00, Some(low)) = (unit, low) {
                    let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    push(char::from_u32(c).unwrap_or('?'));
                    at += 12;
                } else {
                    push(char::from_u32(unit).unwrap_or('?'));
                    at += 6;
                }
                continue;
            }
            if b == &b'\\' && matches!(bytes.get(at + 1), Some(b'/' | b'\\' | b'"')) {
                out.push(bytes[at + 1]);
                at += 2;
                continue;
            }
            if b == &b'%'
                && let Some(byte) = hex(at + 1, 2)
            {
                out.push(byte as u8);
                at += 3;
                continue;
            }
            if b == &b'&'
                && let Some(end) = bytes.iter().skip(at).take(12).position(|b| *b == b';')
            {
                let name = &text[at + 1..at + end];
                let value = if let Some(h) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = name.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                if let Some(c) = value.and_then(char::from_u32) {
                    push(c);
                    at += end + 1;
                    continue;
                }
            }
            out.push(*b);
            at += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// The caller's credential, echoed in an error body in any shape and any mix of
        /// escapes, is in neither the message nor the error's `Display` or `Debug`, even
        /// once every escape is undone.
        #[test]
        fn an_echoed_credential_never_reaches_the_error(
            // What a header can carry (`Credential::header` refuses anything but ASCII).
            secret in "[A-Za-z0-9._~+/=:-]{1,20}[A-Za-z0-9!#$*]{1,4}[A-Za-z0-9._/-]{6,30}",
            escapes in proptest::collection::vec(0u8..12, 64),
            before in "[ -~]{0,40}",
            shape in 0u8..5,
        ) {
            let before = before.replace(['"', '\\', '%', '&'], "");
            let echoed: String = secret
                .chars()
                .zip(escapes.iter().cycle())
                .map(|(c, how)| written(c, *how))
                .collect();
            let body = match shape {
                0 => format!(r#"{{"message": "{before}{echoed} is not valid"}}"#),
                1 => format!("<html><body><p>{before}{echoed}</p></body></html>"),
                2 => format!("{before}{echoed}"),
                3 => format!(r#"{{"message": {echoed}}}"#),
                _ => format!(r#"{{"{echoed}": "{before}"}}"#),
            };
            proptest::prop_assert!(unescape_all(&body).contains(&secret), "{}", body);
            let masked = vendor_error_body::<Body>(Bytes::from(body), &state_with(&secret));
            let message = serde_json::from_slice::<Body>(&masked).ok().and_then(|b| b.message);
            let error = crate::Error::Api(crate::ApiError {
                status: reqwest::StatusCode::UNAUTHORIZED,
                code: None,
                message,
                retry_after: None,
            });
            let debug = format!("{error:?}");
            let displayed = format!("{error} {}", String::from_utf8_lossy(&masked));
            proptest::prop_assert!(!debug.contains(&secret), "{}", debug);
            proptest::prop_assert!(!unescape_all(&displayed).contains(&secret), "{}", displayed);
        }
    }
}
