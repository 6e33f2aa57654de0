//! Helpers for the vendor crates' tests (feature `testing`): a mock server that fails on
//! unexpected requests, hostile ids, malformed responses, a misbehaving TCP server and a
//! trace capture, so every crate runs the same checks.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant, SystemTime};

use percent_encoding::percent_decode_str;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::{ClientBuilder, Error, RetryPolicy, Vendor};

/// A secret no real system would contain: use it as credential and as created-key value,
/// then check it appears nowhere.
pub const CANARY: &str = "canary-7f3a9c1e-do-not-print";

/// A mock server on loopback with a catch-all mounted at the lowest priority: any request
/// no test mock matches is answered 500 and fails the test when the server is dropped.
pub async fn mock_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .named("catch-all: a request no test expected")
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// Fails when `shown` (a `Debug` or `Display` rendering) contains `secret`.
#[track_caller]
pub fn assert_hidden(shown: &str, secret: &str) {
    assert!(!shown.contains(secret), "the secret leaked into: {shown}");
}

/// A request with no body at all: no bytes and no `Content-Type`.
pub fn without_body(request: &Request) -> bool {
    request.body.is_empty() && !request.headers.contains_key("content-type")
}

/// The default retry policy with millisecond backoffs, so retry tests stay fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
}

/// Checks that `err` is the vendor's API error with this status, code and message.
#[track_caller]
pub fn assert_api_error(err: &Error, status: u16, code: Option<&str>, message: &str) {
    let api = err
        .api()
        .unwrap_or_else(|| panic!("not an API error: {err:?}"));
    assert_eq!(api.status.as_u16(), status, "{err}");
    assert_eq!(api.code.as_deref(), code, "{err}");
    assert_eq!(api.message.as_deref(), Some(message), "{err}");
}

/// Response headers that no error may repeat: a session cookie, a request id and an
/// authentication challenge, each value found nowhere else. Add them to an error response
/// with [`with_header_canaries`], then check what the caller sees with
/// [`assert_shows_no_header`].
pub const HEADER_CANARIES: [(&str, &str); 3] = [
    (
        "set-cookie",
        "JSESSIONID=hdr-canary-0c41e9; Path=/; HttpOnly",
    ),
    ("x-request-id", "hdr-canary-9d2e77"),
    ("www-authenticate", "Bearer realm=\"hdr-canary-3b7a5f\""),
];

/// `template` with every one of [`HEADER_CANARIES`].
pub fn with_header_canaries(template: ResponseTemplate) -> ResponseTemplate {
    HEADER_CANARIES
        .iter()
        .fold(template, |template, (name, value)| {
            template.insert_header(*name, *value)
        })
}

/// Fails when any of `shown` (renderings of an error: `Display`, `Debug`, alternate forms)
/// contains a header name or value of [`HEADER_CANARIES`].
#[track_caller]
pub fn assert_shows_no_header(shown: &[String]) {
    for text in shown {
        let lower = text.to_ascii_lowercase();
        for (name, value) in HEADER_CANARIES {
            assert!(
                !text.contains(value) && !lower.contains(name),
                "the response header `{name}` shows in: {text}"
            );
        }
    }
}

/// A mock server whose one expected request, `method` on `path`, is answered with `status`,
/// the vendor's error `body` and every one of [`HEADER_CANARIES`].
pub async fn error_server(method_name: &str, path_: &str, status: u16, body: Value) -> MockServer {
    let server = mock_server().await;
    Mock::given(method(method_name))
        .and(path(path_))
        .respond_with(with_header_canaries(
            ResponseTemplate::new(status).set_body_json(body),
        ))
        .expect(1)
        .mount(&server)
        .await;
    server
}

/// What a caller sees of `error` once it is boxed into `anyhow::Error`: it downcasts back
/// to [`Error`] with this `status` and the vendor's `message`, and no rendering of it
/// (`Display`, `Debug`, alternate forms) shows a response header or the credential
/// [`CANARY`].
#[track_caller]
pub fn check_boxed_error(error: Error, status: u16, message: &str) {
    let boxed = anyhow::Error::from(error);
    let Some(error) = boxed.downcast_ref::<Error>() else {
        panic!("a boxed error does not downcast to `Error`: {boxed:?}");
    };
    assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{error}");
    assert!(error.to_string().contains(message), "{error}");
    let shown = [
        format!("{boxed}"),
        format!("{boxed:#}"),
        format!("{boxed:?}"),
        format!("{boxed:#?}"),
        format!("{error:#?}"),
    ];
    assert_shows_no_header(&shown);
    for text in &shown {
        assert_hidden(text, CANARY);
    }
}

/// A vendor crate's public-contract test, for `tests/public_contract.rs`: what a downstream
/// crate that depends on that crate alone writes compiles (`use <crate>::{Client, Error,
/// Secret, KeyLifecycle, NewKey, KeyUpdate, KeyInfo, CreatedKey}`, a list call typed
/// `Result<_, <crate>::Error>`), and the call's error, answered by [`error_server`] and
/// boxed into `anyhow`, passes [`check_boxed_error`].
///
/// ```ignore
/// apikeys_common::public_contract_test! {
///     krate: nuki_apikeys,
///     base_path: "",
///     request: ("GET", "/api/key"),
///     error: (401, examples::nuki_error(), "The request requires user authentication"),
///     call: |client| client.list_api_keys().send(),
/// }
/// ```
#[macro_export]
macro_rules! public_contract_test {
    (
        krate: $krate:ident,
        base_path: $base_path:expr,
        request: ($method:expr, $path:expr),
        error: ($status:expr, $body:expr, $message:expr),
        call: |$client:ident| $call:expr $(,)?
    ) => {
        use $krate::{Client, CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, Secret};

        /// The key-lifecycle names a caller writes down, from this crate alone.
        #[allow(dead_code)]
        fn the_lifecycle_names(
            _: &dyn KeyLifecycle,
            _: NewKey,
            _: KeyUpdate,
            _: KeyInfo,
            _: CreatedKey,
            _: Secret,
        ) {
        }

        #[tokio::test]
        async fn a_list_error_boxed_into_anyhow_is_still_the_crate_error_and_shows_no_header() {
            let server = $crate::testing::error_server($method, $path, $status, $body).await;
            let $client = Client::builder(format!("{}{}", server.uri(), $base_path))
                .api_key($crate::testing::CANARY)
                .build()
                .unwrap();
            let result: Result<_, Error> = $call.await;
            $crate::testing::check_boxed_error(result.map(drop).unwrap_err(), $status, $message);
        }
    };
}

/// Checks that `err` is a request refused before sending, for exactly this reason.
#[track_caller]
pub fn assert_refused(err: &Error, expected: &str) {
    match err {
        Error::InvalidRequest(why) => assert_eq!(why, expected),
        other => panic!("expected an invalid request, got {other:?}"),
    }
}

/// Reads `stream` to its end, failing the test if it yields more than `limit` items, and
/// returns how many items it yielded and the [`Error::Pagination`] it must have ended with.
pub async fn pagination_end<T: std::fmt::Debug>(
    stream: impl futures::Stream<Item = Result<T, Error>>,
    limit: usize,
) -> (usize, String) {
    use futures::StreamExt;
    futures::pin_mut!(stream);
    let mut items = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => {
                items += 1;
                assert!(items <= limit, "the stream went on past {limit} items");
            }
            Err(Error::Pagination(why)) => {
                assert!(
                    stream.next().await.is_none(),
                    "the stream went on after its error"
                );
                return (items, why);
            }
            Err(other) => panic!("expected Error::Pagination, got {other:?}"),
        }
    }
    panic!("the stream ended without Error::Pagination after {items} items");
}

/// Thirty ids that try to escape their path segment, break the query, or upset a parser.
pub const HOSTILE_IDS: [&str; 30] = [
    "../x",
    "../../admin",
    "..%2F..%2Fadmin",
    "%2F",
    "%2e%2e",
    "a/b",
    "a\\b",
    "?x=1",
    "x?pageSize=1000",
    "#frag",
    "x#y",
    "a b",
    " leading",
    "trailing ",
    "tab\there",
    "100%",
    "%",
    "&admin=true",
    "a;b=c",
    "a+b",
    "a,b",
    "\"quoted\"",
    "'single'",
    "<script>",
    "{id}",
    "ünïcødé",
    "日本語",
    "emoji-🔑",
    "x\u{0}y",
    "very-long-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

/// What a malformed response should end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The body is fine to decode (unknown fields are ignored).
    Decodes,
    /// A typed error: `Error::Decode` (or `BodyTooLarge` for the oversized body).
    Fails,
}

/// One malformed (or merely unusual) success response.
pub struct Malformed {
    /// What is wrong with it.
    pub name: &'static str,
    /// The response to mount.
    pub response: ResponseTemplate,
    /// What a JSON-decoding operation must end in.
    pub outcome: Outcome,
}

/// The body size [`malformed_responses`] overruns: build the client under test with
/// `max_response_bytes(MALFORMED_LIMIT)`.
pub const MALFORMED_LIMIT: usize = 64 * 1024;

/// Malformed variations of `valid`, an operation's correct success body (a JSON object, or a
/// list of them, whose first item is then the one altered), answered with `status`: cut
/// short, wrong types, required fields missing, nulls, unknown fields, an HTML page, an
/// empty body, bytes that are not UTF-8, nesting deep enough to hurt a recursive parser,
/// and a body over [`MALFORMED_LIMIT`].
pub fn malformed_responses(valid: &Value, status: u16) -> Vec<Malformed> {
    let json = |status: u16, body: Vec<u8>| {
        ResponseTemplate::new(status).set_body_raw(body, "application/json")
    };
    let text = valid.to_string();
    let mut wrong_types = valid.clone();
    for value in fields(&mut wrong_types) {
        *value = match value {
            Value::String(_) => Value::from(12),
            _ => Value::from("twelve"),
        };
    }
    let mut nulls = valid.clone();
    for value in fields(&mut nulls) {
        *value = Value::Null;
    }
    let mut extra = valid.clone();
    if let Some(object) = extra.as_object_mut() {
        object.insert(
            "addedInNextRelease".into(),
            serde_json::json!({"nested": [1, 2]}),
        );
    }
    // Far past serde_json's recursion limit (128), well under the size limit.
    let depth = 20_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    let mut oversized = valid.clone();
    if let Some(object) = object(&mut oversized) {
        object.insert("padding".into(), Value::from("x".repeat(MALFORMED_LIMIT)));
    }
    let half = text.len() / 2;
    vec![
        Malformed {
            name: "truncated JSON",
            response: json(status, text.as_bytes()[..half].to_vec()),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "wrong types",
            response: json(status, wrong_types.to_string().into_bytes()),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "required fields missing",
            response: json(status, b"{}".to_vec()),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "nulls",
            response: json(status, nulls.to_string().into_bytes()),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "unknown fields",
            response: json(status, extra.to_string().into_bytes()),
            outcome: Outcome::Decodes,
        },
        Malformed {
            name: "HTML page with 200",
            response: ResponseTemplate::new(status)
                .set_body_raw("<html><body>Maintenance</body></html>", "text/html"),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "empty 200",
            response: ResponseTemplate::new(status),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "not UTF-8",
            response: json(status, vec![b'{', 0xff, 0xfe, b'}']),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "deeply nested",
            response: json(status, nested),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "oversized",
            response: json(status, oversized.to_string().into_bytes()),
            outcome: Outcome::Fails,
        },
    ]
}

/// The object to mutate: the body itself, or the first item of a list body.
fn object(body: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    match body {
        Value::Array(items) => items.first_mut().and_then(Value::as_object_mut),
        other => other.as_object_mut(),
    }
}

fn fields(body: &mut Value) -> impl Iterator<Item = &mut Value> {
    object(body)
        .into_iter()
        .flat_map(|object| object.values_mut())
}

/// How a [`FaultServer`] misbehaves.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Sends a status line and headers promising a body, a little of it, then closes.
    ResetMidBody,
    /// Closes the connection as soon as the request has arrived.
    CloseBeforeResponse,
}

/// A TCP server on loopback that answers every request with a [`Fault`] and counts them.
pub struct FaultServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
}

impl FaultServer {
    /// Starts the server; it runs until the test's runtime ends.
    pub async fn start(fault: Fault) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0; 64 * 1024];
                    // One read holds the whole (small) request these tests send.
                    if socket.read(&mut buffer).await.unwrap_or(0) == 0 {
                        return;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    if let Fault::ResetMidBody = fault {
                        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"id\":";
                        let _ = socket.write_all(head.as_bytes()).await;
                    }
                    let _ = socket.shutdown().await;
                });
            }
        });
        FaultServer { addr, requests }
    }

    /// The base URL to point a client at.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests arrived.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Everything `tracing` (and the `log` records of reqwest and hyper) emitted while a
/// [`TraceCapture`] was installed, at every level down to TRACE.
#[derive(Clone, Default)]
pub struct TraceCapture(Arc<Mutex<Vec<u8>>>);

impl TraceCapture {
    /// Installs a TRACE-level subscriber for the current thread until the guard is dropped.
    pub fn install(&self) -> CaptureGuard {
        let _ = tracing_log::LogTracer::init();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(self.clone())
            .with_ansi(false)
            .finish();
        let default = tracing::subscriber::set_default(subscriber);
        // While one dispatcher is registered, tracing caches a callsite's interest from
        // whichever thread reaches it first: if another test's thread, with no subscriber,
        // sent a request first, `apikeys.request` stays "never" (tokio-rs/tracing#3611). A
        // second registered dispatcher makes tracing ask each one, and the rebuild forgets
        // what was cached.
        let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        tracing::callsite::rebuild_interest_cache();
        CaptureGuard {
            _default: default,
            _second: second,
        }
    }

    /// Fails unless requests were traced and `secret` appears neither in what was
    /// captured nor in any of `shown` (`Debug`/`Display` renderings the test collected).
    #[track_caller]
    pub fn assert_never_shows(&self, secret: &str, shown: &[String]) {
        let logs = self.text();
        assert!(
            logs.contains("apikeys.request"),
            "the capture saw no request spans:\n{logs}"
        );
        assert_hidden(&logs, secret);
        for text in shown {
            assert_hidden(text, secret);
        }
    }

    /// What was captured.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Keeps a [`TraceCapture`] installed; dropping it uninstalls the capture.
pub struct CaptureGuard {
    _default: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

impl Write for TraceCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for TraceCapture {
    type Writer = TraceCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A boxed call of one operation, for the table-driven checks below.
pub type Call<C> = for<'a> fn(&'a C) -> Pin<Box<dyn Future<Output = Result<(), Error>> + 'a>>;

/// A boxed call of one operation with one path parameter set to `id`.
pub type CallWithId<C> =
    for<'a> fn(&'a C, &'a str) -> Pin<Box<dyn Future<Output = Result<(), Error>> + 'a>>;

/// One operation under a malformed-response check.
pub struct OperationCase<C> {
    /// The operationId, for messages.
    pub operation: &'static str,
    /// The HTTP method the mock expects.
    pub method: &'static str,
    /// The exact path the mock expects.
    pub path: String,
    /// The success status the operation answers with.
    pub status: u16,
    /// A valid success body, or `None` when the operation reads no body.
    pub valid: Option<Value>,
    /// Malformed cases that still decode for this operation (`"required fields missing"`
    /// and `"nulls"` when every field of its body is optional).
    pub also_decodes: &'static [&'static str],
    /// Sends the request.
    pub call: Call<C>,
}

/// Feeds every operation every [`malformed_responses`] case, on a fresh server each time,
/// and checks the outcome: a value, or a typed error (`Decode`, `BodyTooLarge`). Returns
/// how many cases ran, as the servers counted them (one request each).
///
/// `base_path` is the API's prefix on the server (`""`, or `"/api"` when the base URL has
/// one); each case's `path` is the full path the server sees.
pub async fn check_malformed_responses<C: Vendor>(
    base_path: &str,
    cases: Vec<OperationCase<C>>,
) -> usize {
    let mut tried = 0;
    for case in cases {
        // An operation without a response body reads none: anything is a success.
        let reference = case
            .valid
            .clone()
            .unwrap_or_else(|| serde_json::json!({"unused": true}));
        for malformed in malformed_responses(&reference, case.status) {
            let server = mock_server().await;
            Mock::given(method(case.method))
                .and(path(case.path.as_str()))
                .respond_with(malformed.response)
                .expect(1)
                .mount(&server)
                .await;
            let client = ClientBuilder::<C>::new(format!("{}{base_path}", server.uri()))
                .api_key("k")
                .retry(RetryPolicy::disabled())
                .max_response_bytes(MALFORMED_LIMIT)
                .build()
                .unwrap();

            let result = (case.call)(&client).await;

            let decodes = case.valid.is_none() || case.also_decodes.contains(&malformed.name);
            let expected = if decodes {
                Outcome::Decodes
            } else {
                malformed.outcome
            };
            match (expected, &result) {
                (Outcome::Decodes, Ok(())) => {}
                (Outcome::Fails, Err(Error::Decode { .. })) if malformed.name != "oversized" => {}
                (
                    Outcome::Fails,
                    Err(Error::BodyTooLarge {
                        limit: MALFORMED_LIMIT,
                    }),
                ) if malformed.name == "oversized" => {}
                _ => panic!(
                    "{}, {}: expected {expected:?}, got {result:?}",
                    case.operation, malformed.name
                ),
            }
            tried += usize::from(received(&server).await == 1);
        }
    }
    tried
}

/// The faults every idempotent operation must survive, each on a fresh server: a 429 whose
/// `Retry-After` is in seconds and a 503 whose `Retry-After` is an HTTP-date are waited for,
/// then retried to success; a connection reset mid-body is a transport error; a stall past
/// the timeout is a timeout error; a redirect to another host is not followed (that host
/// sees no request, the caller gets the 307), one to the same host is, with the
/// credential. `case` must be idempotent and answer with a body; `base_path` is as for
/// [`check_malformed_responses`]. Returns how many faults the servers saw play out: each
/// counts when its server received exactly the requests the fault implies.
pub async fn check_faults<C: Vendor>(base_path: &str, case: OperationCase<C>) -> usize {
    let mut observed = 0;
    let valid = case.valid.clone().unwrap_or(Value::Null);
    let ok = || ResponseTemplate::new(case.status).set_body_json(&valid);
    let client = |uri: String, retry: RetryPolicy, timeout: Duration| {
        ClientBuilder::<C>::new(format!("{uri}{base_path}"))
            .api_key(CANARY)
            .retry(retry)
            .timeout(timeout)
            .build()
            .unwrap()
    };
    let ten_seconds = Duration::from_secs(10);

    // Retry-After, both forms. An HTTP-date has whole seconds, and the client reads it a
    // little later than it was written: three seconds from now leaves well over one.
    for (status, http_date) in [(429, false), (503, true)] {
        let retry_after = if http_date {
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3))
        } else {
            "1".to_string()
        };
        let server = mock_server().await;
        Mock::given(method(case.method))
            .and(path(case.path.as_str()))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", &*retry_after))
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method(case.method))
            .and(path(case.path.as_str()))
            .respond_with(ok())
            .expect(1)
            .mount(&server)
            .await;
        let started = Instant::now();
        let result = (case.call)(&client(server.uri(), RetryPolicy::default(), ten_seconds)).await;
        assert!(result.is_ok(), "{}, {status}: {result:?}", case.operation);
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{}: Retry-After {retry_after:?} waited only {:?}",
            case.operation,
            started.elapsed()
        );
        observed += usize::from(received(&server).await == 2);
    }

    let server = FaultServer::start(Fault::ResetMidBody).await;
    let result = (case.call)(&client(server.uri(), fast_retries(), ten_seconds)).await;
    assert!(
        matches!(result, Err(Error::Transport(_))),
        "{}, reset mid-body: {result:?}",
        case.operation
    );
    observed += usize::from(server.requests() == 1);

    let server = mock_server().await;
    Mock::given(method(case.method))
        .and(path(case.path.as_str()))
        .respond_with(ok().set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let stalled = client(
        server.uri(),
        RetryPolicy::disabled(),
        Duration::from_millis(200),
    );
    let result = (case.call)(&stalled).await;
    assert!(
        matches!(&result, Err(e) if e.is_timeout()),
        "{}, stall: {result:?}",
        case.operation
    );
    observed += usize::from(received(&server).await == 1);

    let elsewhere = mock_server().await; // its catch-all fails on any request
    let server = mock_server().await;
    let location = format!("{}{}", elsewhere.uri(), case.path);
    Mock::given(method(case.method))
        .and(path(case.path.as_str()))
        .respond_with(ResponseTemplate::new(307).insert_header("location", location))
        .expect(1)
        .mount(&server)
        .await;
    let result = (case.call)(&client(server.uri(), RetryPolicy::default(), ten_seconds)).await;
    assert_eq!(
        result
            .as_ref()
            .err()
            .and_then(Error::status)
            .map(|s| s.as_u16()),
        Some(307),
        "{}, cross-host redirect: {result:?}",
        case.operation
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    observed += usize::from(received(&server).await == 1 && received(&elsewhere).await == 0);

    let server = mock_server().await;
    let moved = format!("/moved{}", case.path);
    Mock::given(method(case.method))
        .and(path(case.path.as_str()))
        .respond_with(ResponseTemplate::new(307).insert_header("location", moved.as_str()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method(case.method))
        .and(path(moved.as_str()))
        .and(|request: &Request| {
            request
                .headers
                .values()
                .any(|v| v.to_str().is_ok_and(|v| v.contains(CANARY)))
        })
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;
    let result = (case.call)(&client(server.uri(), RetryPolicy::default(), ten_seconds)).await;
    assert!(
        result.is_ok(),
        "{}, same-host redirect: {result:?}",
        case.operation
    );
    observed += usize::from(received(&server).await == 2);
    observed
}

/// How many requests `server` has received.
async fn received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

/// Sends `call` once per [`HOSTILE_IDS`] entry and checks the path the server saw:
/// `prefix`, then one segment that decodes back to the id, then `suffix`, with the query
/// untouched. `base_path` is the API's prefix on the server, as for
/// [`check_malformed_responses`]; `prefix` is the full path before the id. Returns how
/// many ids the server received intact: requests, in order, whose id segment decodes
/// back to the id sent.
pub async fn check_hostile_ids<C: Vendor>(
    base_path: &str,
    verb: &'static str,
    prefix: &str,
    suffix: &str,
    response: ResponseTemplate,
    call: CallWithId<C>,
) -> usize {
    let server = mock_server().await;
    Mock::given(method(verb))
        .respond_with(response)
        .mount(&server)
        .await;
    let client = ClientBuilder::<C>::new(format!("{}{base_path}", server.uri()))
        .api_key("k")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    let mut query = None;
    for id in HOSTILE_IDS {
        let before = server.received_requests().await.unwrap_or_default().len();
        let result = call(&client, id).await;
        let seen = server.received_requests().await.unwrap_or_default();
        assert_eq!(seen.len(), before + 1, "{id:?} was not sent once");
        assert!(result.is_ok(), "{id:?}: {result:?}");
        let request = seen.last().unwrap();
        let sent = request.url.path();
        let segment = sent
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .unwrap_or_else(|| panic!("{id:?} changed the path: {sent}"));
        assert!(!segment.contains('/'), "{id:?} split the path: {sent}");
        assert_eq!(percent_decode_str(segment).decode_utf8().unwrap(), *id);
        let this_query = request.url.query().map(str::to_string);
        assert_eq!(
            *query.get_or_insert(this_query.clone()),
            this_query,
            "{id:?} changed the query"
        );
    }
    let seen = server.received_requests().await.unwrap_or_default();
    seen.iter()
        .zip(HOSTILE_IDS)
        .filter(|(request, id)| {
            let segment = request
                .url
                .path()
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix));
            segment.is_some_and(|s| percent_decode_str(s).decode_utf8().is_ok_and(|d| d == **id))
        })
        .count()
}

/// `Retry-After` values no server should send: the largest number of seconds, one past it,
/// a date in the year 9999, a date in the past, and not a value at all.
pub const HOSTILE_RETRY_AFTER: [&str; 5] = [
    "18446744073709551615",
    "18446744073709551616",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "soon",
];

/// Every operation answered 429 and 503 with each [`HOSTILE_RETRY_AFTER`] value, on a fresh
/// server, by a client allowed three attempts within two seconds: the call ends in the API
/// error with that status, without a panic; a wait past the budget is not started (one
/// request), and no call is sent more than three times. Returns how many calls ended so,
/// as the servers counted them.
pub async fn check_retry_after_storms<C: Vendor>(
    base_path: &str,
    cases: Vec<OperationCase<C>>,
) -> usize {
    let mut ended = 0;
    for case in cases {
        for status in [429, 503] {
            for value in HOSTILE_RETRY_AFTER {
                let server = mock_server().await;
                Mock::given(method(case.method))
                    .and(path(case.path.as_str()))
                    .respond_with(ResponseTemplate::new(status).insert_header("retry-after", value))
                    .mount(&server)
                    .await;
                let client = ClientBuilder::<C>::new(format!("{}{base_path}", server.uri()))
                    .api_key(CANARY)
                    .retry(fast_retries().budget(Duration::from_secs(2)))
                    .build()
                    .unwrap();
                let started = Instant::now();

                let result = (case.call)(&client).await;

                let what = format!("{}, {status} with Retry-After {value:?}", case.operation);
                let err = result.expect_err(&what);
                assert_eq!(
                    err.status().map(|s| s.as_u16()),
                    Some(status),
                    "{what}: {err:?}"
                );
                assert!(started.elapsed() < Duration::from_secs(2), "{what}: waited");
                let sent = server.received_requests().await.unwrap().len();
                // The largest number and the year 9999 ask for far more than the budget.
                let past_budget = [HOSTILE_RETRY_AFTER[0], HOSTILE_RETRY_AFTER[2]].contains(&value);
                if past_budget {
                    assert_eq!(sent, 1, "{what}: a wait past the budget was started");
                } else {
                    assert!((1..=3).contains(&sent), "{what}: sent {sent} times");
                }
                ended += 1;
            }
        }
    }
    ended
}

/// A key value a hostile server puts in its answers; like [`CANARY`], it must appear nowhere.
pub const ECHOED_KEY: &str = "echoed-key-5b1f0d7e-do-not-print";

/// Bodies that carry `secret` in the shapes and escapings a careless or hostile server
/// uses: an HTML page, plain text, a bare JSON string, JSON with the value unquoted, as an
/// object key, JSON-escaped (`\u002d`, `\/`), and inside a string with bytes that are not
/// UTF-8.
pub fn secret_echoes(secret: &str) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let escaped: String = secret
        .chars()
        .map(|c| match c {
            '-' => "\\u002d".to_string(),
            '/' => "\\/".to_string(),
            c => c.to_string(),
        })
        .collect();
    let mut broken = format!(r#"{{"message": "bad key {secret}"#).into_bytes();
    broken.extend([0xff, 0xfe]);
    broken.extend(br#"", "value": 1}"#);
    vec![
        (
            "HTML page",
            format!("<html><body><p>Invalid key {secret}</p></body></html>").into_bytes(),
            "text/html",
        ),
        ("plain text", secret.as_bytes().to_vec(), "text/plain"),
        (
            "bare JSON string",
            format!(r#""{secret}""#).into_bytes(),
            "application/json",
        ),
        (
            "unquoted value",
            format!(r#"{{"message": {secret}, "value": {secret}}}"#).into_bytes(),
            "application/json",
        ),
        (
            "object key",
            format!(r#"{{"{secret}": 1}}"#).into_bytes(),
            "application/json",
        ),
        (
            "JSON-escaped",
            format!(r#"{{"message": "Invalid key {escaped}", "error": "Invalid key {escaped}", "errors": ["Invalid key {escaped}"]}}"#).into_bytes(),
            "application/json",
        ),
        ("not UTF-8 inside a string", broken, "application/json"),
    ]
}

/// Every operation answered with every [`secret_echoes`] body, on a fresh server: of the
/// client's own credential ([`CANARY`]) at the operation's success status and at 401, and
/// of a key value ([`ECHOED_KEY`]) at the success status. Each call ends in a value or a
/// typed error whose `Display` and `Debug` hold neither secret, and nothing traced does.
/// Returns how many calls the servers answered.
pub async fn check_secret_echoes<C: Vendor>(
    base_path: &str,
    cases: Vec<OperationCase<C>>,
) -> usize {
    let capture = TraceCapture::default();
    let _guard = capture.install();
    let mut shown = Vec::new();
    let mut answered = 0;
    for case in cases {
        let statuses = [
            (CANARY, case.status),
            (CANARY, 401),
            (ECHOED_KEY, case.status),
        ];
        for (secret, status) in statuses {
            for (shape, body, content_type) in secret_echoes(secret) {
                let server = mock_server().await;
                Mock::given(method(case.method))
                    .and(path(case.path.as_str()))
                    .respond_with(ResponseTemplate::new(status).set_body_raw(body, content_type))
                    .expect(1)
                    .mount(&server)
                    .await;
                let client = ClientBuilder::<C>::new(format!("{}{base_path}", server.uri()))
                    .api_key(CANARY)
                    .retry(RetryPolicy::disabled())
                    .build()
                    .unwrap();

                let result = (case.call)(&client).await;

                let what = format!("{}, {shape} at {status}", case.operation);
                if status == 401 {
                    let err = result.as_ref().expect_err(&what);
                    assert!(err.is_unauthorized(), "{what}: {err:?}");
                }
                if let Err(err) = &result {
                    assert!(
                        !matches!(err, Error::Transport(_) | Error::Timeout(_)),
                        "{what}: {err:?}"
                    );
                    shown.push(format!("{what}: {err} {err:?}"));
                }
                answered += server.received_requests().await.unwrap().len();
            }
        }
    }
    capture.assert_never_shows(CANARY, &shown);
    capture.assert_never_shows(ECHOED_KEY, &shown);
    answered
}

/// An id of 100 KB: no URL that holds it can be sent.
pub fn oversized_id() -> String {
    "x".repeat(100 * 1024)
}

/// Calls `call` with [`oversized_id`] on a client whose base URL is the server's followed
/// by `base_path` (which may hold the oversized id itself, for a crate without a string
/// parameter). The call must be refused before sending, with `Error::InvalidRequest`, and
/// neither its message nor the log may carry the 100 KB. Returns how many requests reached
/// the server.
pub async fn check_oversized_id<C: Vendor>(base_path: &str, call: CallWithId<C>) -> usize {
    let capture = TraceCapture::default();
    let _guard = capture.install();
    let server = mock_server().await;
    let client = ClientBuilder::<C>::new(format!("{}{base_path}", server.uri()))
        .api_key(CANARY)
        .retry(fast_retries())
        .build()
        .unwrap();
    let id = oversized_id();

    let result = call(&client, &id).await;

    let err = result.expect_err("a 100 KB id was accepted");
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        shown.len() < 2_000,
        "{} bytes: {}",
        shown.len(),
        &shown[..2_000]
    );
    let logs = capture.text();
    assert!(
        !logs.contains(&id[..1_000]),
        "the log holds the id: {} bytes",
        logs.len()
    );
    server.received_requests().await.unwrap().len()
}
