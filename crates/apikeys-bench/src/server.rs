//! A minimal HTTP/1.1 server on 127.0.0.1: canned vendor bodies (from `vendors.rs`),
//! keep-alive, and a count of the TCP connections it accepted.

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

use crate::alloc;
use crate::vendors::Answers;

/// What the server answers, built once before anything is measured: the vendors' canned
/// bodies come from `vendors.rs`, the one file of the benchmark that knows the vendors.
struct Canned(Answers);

impl Canned {
    /// The status and body for a request, by method and path.
    fn answer(&self, method: &Method, path: &str, query: &str) -> (StatusCode, Bytes) {
        let answers = &self.0;
        if method == Method::GET && path == answers.stream_path {
            let page: usize = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("page="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            return match answers.stream_pages.get(page) {
                Some(body) => (StatusCode::OK, body.clone()),
                None => (StatusCode::NOT_FOUND, Bytes::from_static(b"{}")),
            };
        }
        answers
            .routes
            .iter()
            .find(|route| route.method == method && route.path == path)
            .map(|route| (route.status, route.body.clone()))
            .unwrap_or((StatusCode::NOT_FOUND, Bytes::from_static(b"{}")))
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

/// Starts the server on its own thread and runtime, whose allocations are not counted;
/// `streams` says whether it serves the pages of keys to stream too (100,000 keys to build).
pub fn start(streams: bool) -> Server {
    let connections = Arc::new(AtomicUsize::new(0));
    let transcript: Arc<Mutex<Option<Vec<String>>>> = Arc::new(Mutex::new(None));
    let canned = Arc::new(Canned(crate::vendors::answers(streams)));
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
