//! A minimal HTTP/1.1 server on 127.0.0.1: canned vendor bodies, keep-alive, and a count
//! of the TCP connections it accepted.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::alloc;
use crate::vendors::{
    AUTOMOX_USER, LIST_LEN, STREAM_PAGE_SIZE, STREAM_PAGES, STREAM_USER, TB_USER,
};

/// What the server answers, built once before anything is measured.
struct Canned {
    tb_page: Bytes,
    tb_created: Bytes,
    /// Every page of the streamed listing: each holds other keys, as a stream refuses a
    /// page that repeats one before it.
    tb_stream: Vec<Bytes>,
    sb_list: Bytes,
    sb_created: Bytes,
    nuki_list: Bytes,
    nuki_created: Bytes,
    balena_list: Bytes,
    balena_created: Bytes,
    automox_list: Bytes,
    automox_created: Bytes,
}

fn bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap())
}

/// Item `n` of a ThingsBoard page: the fragment's `ApiKeyInfo` example, numbered.
fn tb_key(n: usize) -> Value {
    let mut key = thingsboard_apikeys::examples::api_key_info();
    key["id"]["id"] = json!(format!("a81c0e70-c8d4-11f0-8a3b-{n:012x}"));
    key["userId"]["id"] = json!(TB_USER);
    key["description"] = json!(format!("CI deploy key {n}"));
    key["enabled"] = json!(true);
    key
}

/// A page of `len` keys from key `first` on.
fn tb_page(first: usize, len: usize, has_next: bool) -> Value {
    json!({
        "data": (first..first + len).map(tb_key).collect::<Vec<_>>(),
        "totalPages": STREAM_PAGES,
        "totalElements": STREAM_PAGES * STREAM_PAGE_SIZE,
        "hasNext": has_next
    })
}

/// `example` with its `id` field raised by `n` and ` n` appended to its `name` field.
fn numbered(mut example: Value, id: &str, name: &str, n: usize) -> Value {
    let first = example[id].as_i64().unwrap();
    example[id] = json!(first + n as i64);
    let base = example[name].as_str().unwrap().to_owned();
    example[name] = json!(format!("{base} {n}"));
    example
}

impl Canned {
    /// Every body is a fragment's example (`<vendor>_apikeys::examples`), lists of
    /// `LIST_LEN` of its keys numbered.
    fn new() -> Self {
        let sb_list = sensorbucket_apikeys::examples::list_api_keys200_response();
        let sb_key = |n| numbered(sb_list["data"][0].clone(), "id", "name", n);
        let nuki_key = |n| {
            numbered(
                nuki_apikeys::examples::api_key(),
                "apiKeyId",
                "description",
                n,
            )
        };
        let balena_list = balena_apikeys::examples::api_key_collection();
        let balena_key = |n| numbered(balena_list["d"][0].clone(), "id", "name", n);
        let automox_key = |n| {
            let key = numbered(automox_apikeys::examples::api_key(), "id", "name", n);
            assert_eq!(key["user"]["id"], AUTOMOX_USER);
            key
        };
        let list = |f: &dyn Fn(usize) -> Value| (0..LIST_LEN).map(f).collect::<Vec<_>>();
        Canned {
            tb_page: bytes(&tb_page(0, LIST_LEN, false)),
            tb_created: bytes(&thingsboard_apikeys::examples::api_key()),
            tb_stream: (0..STREAM_PAGES)
                .map(|page| {
                    let has_next = page + 1 < STREAM_PAGES;
                    bytes(&tb_page(
                        page * STREAM_PAGE_SIZE,
                        STREAM_PAGE_SIZE,
                        has_next,
                    ))
                })
                .collect(),
            sb_list: bytes(&json!({
                "links": {"previous": "", "next": ""},
                "page_size": LIST_LEN,
                "total_count": LIST_LEN,
                "data": list(&sb_key)
            })),
            // Go's encoder ends the body with a newline.
            sb_created: Bytes::from(format!(
                "{}\n",
                sensorbucket_apikeys::examples::api_key_created()
            )),
            nuki_list: bytes(&json!(list(&nuki_key))),
            nuki_created: bytes(&nuki_apikeys::examples::api_key()),
            balena_list: bytes(&json!({ "d": list(&balena_key) })),
            balena_created: bytes(&balena_apikeys::examples::api_key_secret()),
            automox_list: bytes(&json!({"size": LIST_LEN, "results": list(&automox_key)})),
            automox_created: bytes(&automox_apikeys::examples::api_key()),
        }
    }

    /// The status and body for a request, by method and path.
    fn answer(&self, method: &Method, path: &str, query: &str) -> (StatusCode, Bytes) {
        let ok = |body: &Bytes| (StatusCode::OK, body.clone());
        let tb_keys = format!("/api/apiKeys/{TB_USER}");
        let tb_stream = format!("/api/apiKeys/{STREAM_USER}");
        let automox = format!("/api/users/{AUTOMOX_USER}/api_keys");
        match (method.as_str(), path) {
            ("GET", p) if p == tb_stream => {
                let page: usize = query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("page="))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                match self.tb_stream.get(page) {
                    Some(body) => ok(body),
                    None => (StatusCode::NOT_FOUND, Bytes::from_static(b"{}")),
                }
            }
            ("GET", p) if p == tb_keys => ok(&self.tb_page),
            ("POST", "/api/apiKey") => ok(&self.tb_created),
            ("GET", "/api/api-keys") => ok(&self.sb_list),
            ("POST", "/api/api-keys") => (StatusCode::CREATED, self.sb_created.clone()),
            ("GET", "/api/key") => ok(&self.nuki_list),
            ("PUT", "/api/key") => ok(&self.nuki_created),
            ("GET", "/v7/api_key") => ok(&self.balena_list),
            ("POST", "/api-key/user/full") => ok(&self.balena_created),
            ("GET", p) if p == automox => ok(&self.automox_list),
            ("POST", p) if p == automox => ok(&self.automox_created),
            _ => (StatusCode::NOT_FOUND, Bytes::from_static(b"{}")),
        }
    }
}

/// The running server: its address, the connections it accepted, and (when switched on)
/// a transcript of the requests it received.
pub struct Server {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    transcript: Arc<Mutex<Option<Vec<String>>>>,
}

impl Server {
    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Starts writing down every request (method, URI, headers, body).
    pub fn record(&self) {
        *self.transcript.lock().unwrap() = Some(Vec::new());
    }

    /// Stops writing down and returns what was written.
    pub fn recorded(&self) -> Vec<String> {
        self.transcript.lock().unwrap().take().unwrap_or_default()
    }
}

/// Starts the server on its own thread and runtime, whose allocations are not counted.
pub fn start() -> Server {
    let connections = Arc::new(AtomicUsize::new(0));
    let transcript: Arc<Mutex<Option<Vec<String>>>> = Arc::new(Mutex::new(None));
    let canned = Arc::new(Canned::new());
    let (tx, rx) = std::sync::mpsc::channel();
    let (count, log) = (connections.clone(), transcript.clone());
    std::thread::spawn(move || {
        alloc::ignore_this_thread();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                count.fetch_add(1, Ordering::Relaxed);
                stream.set_nodelay(true).unwrap();
                let (canned, log) = (canned.clone(), log.clone());
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request| serve(request, canned.clone(), log.clone()));
                    // A connection ends when the client drops it; nothing to report.
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    Server {
        addr: rx.recv().unwrap(),
        connections,
        transcript,
    }
}

async fn serve(
    request: Request<Incoming>,
    canned: Arc<Canned>,
    transcript: Arc<Mutex<Option<Vec<String>>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    // The body is read whole, so the connection can be kept alive.
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if let Some(log) = transcript.lock().unwrap().as_mut() {
        let mut headers: Vec<String> = parts
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("<bytes>")))
            .collect();
        headers.sort();
        log.push(format!(
            "{} {}\n{}\n{}",
            parts.method,
            parts.uri,
            headers.join("\n"),
            String::from_utf8_lossy(&body)
        ));
    }
    let (status, body) = canned.answer(
        &parts.method,
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
    );
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
