//! Helpers for the vendor crates' tests (feature `testing`): a mock server that fails on
//! unexpected requests, hostile ids, malformed responses, a misbehaving TCP server and a
//! trace capture, so every crate runs the same checks.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

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

/// Malformed variations of `valid`, an operation's correct 200 body (a JSON object): cut
/// short, wrong types, required fields missing, nulls, unknown fields, an HTML page, an
/// empty body, bytes that are not UTF-8, nesting deep enough to hurt a recursive parser,
/// and a body over [`MALFORMED_LIMIT`].
pub fn malformed_responses(valid: &Value) -> Vec<Malformed> {
    let json = |status: u16, body: Vec<u8>| {
        ResponseTemplate::new(status).set_body_raw(body, "application/json")
    };
    let text = valid.to_string();
    let mut wrong_types = valid.clone();
    let mut nulls = valid.clone();
    if let (Some(wrong), Some(null)) = (wrong_types.as_object_mut(), nulls.as_object_mut()) {
        for value in wrong.values_mut() {
            *value = match value {
                Value::String(_) => Value::from(12),
                _ => Value::from("twelve"),
            };
        }
        for value in null.values_mut() {
            *value = Value::Null;
        }
    }
    let mut extra = valid.clone();
    if let Some(object) = extra.as_object_mut() {
        object.insert(
            "addedInNextRelease".into(),
            serde_json::json!({"nested": [1, 2]}),
        );
    }
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    let mut oversized = valid.clone();
    if let Some(object) = oversized.as_object_mut() {
        object.insert("padding".into(), Value::from("x".repeat(MALFORMED_LIMIT)));
    }
    let half = text.len() / 2;
    vec![
        Malformed {
            name: "truncated JSON",
            response: json(200, text.as_bytes()[..half].to_vec()),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "wrong types",
            response: json(200, wrong_types.to_string().into_bytes()),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "required fields missing",
            response: json(200, b"{}".to_vec()),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "nulls",
            response: json(200, nulls.to_string().into_bytes()),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "unknown fields",
            response: json(200, extra.to_string().into_bytes()),
            outcome: Outcome::Decodes,
        },
        Malformed {
            name: "HTML page with 200",
            response: ResponseTemplate::new(200)
                .set_body_raw("<html><body>Maintenance</body></html>", "text/html"),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "empty 200",
            response: ResponseTemplate::new(200),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "not UTF-8",
            response: json(200, vec![b'{', 0xff, 0xfe, b'}']),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "deeply nested",
            response: json(200, nested),
            outcome: Outcome::Fails,
        },
        Malformed {
            name: "oversized",
            response: json(200, oversized.to_string().into_bytes()),
            outcome: Outcome::Fails,
        },
    ]
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
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let _ = tracing_log::LogTracer::init();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(self.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// What was captured.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
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
