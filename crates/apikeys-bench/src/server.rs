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
    tb_stream_more: Bytes,
    tb_stream_last: Bytes,
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

fn tb_key(n: usize) -> Value {
    json!({
        "id": {"entityType": "API_KEY", "id": format!("a81c0e70-c8d4-11f0-8a3b-{n:012x}")},
        "createdTime": 1763891234567_i64,
        "tenantId": {"entityType": "TENANT", "id": "1e3f7b40-8b2e-11f0-9d41-6b1e2a7c4d10"},
        "userId": {"entityType": "USER", "id": TB_USER},
        "expirationTime": 1798761600000_i64,
        "description": format!("CI deploy key {n}"),
        "enabled": true,
        "expired": false
    })
}

fn tb_page(len: usize, has_next: bool) -> Value {
    json!({
        "data": (0..len).map(tb_key).collect::<Vec<_>>(),
        "totalPages": STREAM_PAGES,
        "totalElements": STREAM_PAGES * STREAM_PAGE_SIZE,
        "hasNext": has_next
    })
}

impl Canned {
    fn new() -> Self {
        let mut tb_created = tb_key(0);
        tb_created["value"] = json!("tb_UvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA_TkB_yOaGglfIPk5VlDPk4");
        let sb_key = |n: usize| {
            json!({
                "id": 4821937465012837465_i64 + n as i64,
                "name": format!("Device Beheerder {n}"),
                "tenant_id": 19,
                "tenant_name": "Provincie Zeeland",
                "expiration_date": "2026-12-31T23:00:00Z",
                "created": "2025-06-02T09:14:27.481923Z",
                "permissions": ["READ_DEVICES", "WRITE_DEVICES", "READ_MEASUREMENTS"]
            })
        };
        let nuki_key = |n: usize| {
            json!({
                "apiKeyId": 1010101010 + n,
                "accountId": 987654321,
                "description": format!("Home automation integration {n}"),
                "redirectUris": ["https://example.com/oauth/nuki/callback"],
                "creationDate": "2025-06-04T21:41:25.000Z",
                "apiKey": "3f1c9a7e52b04d1e8c6a0f9b7d2e4c11"
            })
        };
        let balena_key = |n: usize| {
            json!({
                "id": 4870231 + n,
                "created_at": "2025-03-14T10:22:31.418Z",
                "name": format!("ci-deploy-{n}"),
                "description": "Key used by the release pipeline",
                "expiry_date": "2026-12-31T23:59:59.000Z",
                "is_of__actor": {"__id": 1111}
            })
        };
        let automox_key = |n: usize| {
            json!({
                "id": 424242 + n, "name": format!("ci-pipeline-{n}"), "is_enabled": true,
                "expires_at": "2026-12-31T23:59:59+0000", "created_at": "2025-11-23T08:41:07+0000",
                "user": {"id": AUTOMOX_USER, "firstname": "Ada", "lastname": "Lovelace",
                         "email": "ada@example.com"}
            })
        };
        let list = |f: &dyn Fn(usize) -> Value| (0..LIST_LEN).map(f).collect::<Vec<_>>();
        Canned {
            tb_page: bytes(&tb_page(LIST_LEN, false)),
            tb_created: bytes(&tb_created),
            tb_stream_more: bytes(&tb_page(STREAM_PAGE_SIZE, true)),
            tb_stream_last: bytes(&tb_page(STREAM_PAGE_SIZE, false)),
            sb_list: bytes(&json!({
                "links": {"previous": "", "next": ""},
                "page_size": LIST_LEN,
                "total_count": LIST_LEN,
                "data": list(&sb_key)
            })),
            sb_created: Bytes::from(format!(
                "{}\n",
                json!({"api_key": "NDgyMTkzNzQ2NTAxMjgzNzQ2NTo5Zjg2ZDA4MTg4NGM3ZDY1OWEyZmVhYTBj"})
            )),
            nuki_list: bytes(&json!(list(&nuki_key))),
            nuki_created: bytes(&nuki_key(0)),
            balena_list: bytes(&json!({ "d": list(&balena_key) })),
            balena_created: bytes(&json!("Kq3XbN7v2RmT9cLpW4yHs8eJ1aFz6UdG")),
            automox_list: bytes(&json!({"size": LIST_LEN, "results": list(&automox_key)})),
            automox_created: bytes(&automox_key(0)),
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
                if page + 1 < STREAM_PAGES {
                    ok(&self.tb_stream_more)
                } else {
                    ok(&self.tb_stream_last)
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
