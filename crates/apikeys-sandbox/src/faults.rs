//! Fault injection: rules that make chosen calls of a vendor's operation fail, wait, or lose
//! their connection, for testing retry and rotation code against a misbehaving server.
//!
//! A middleware in front of every emulator names each request's operation from the
//! vendor's fragment (method and path, generated into `crate::examples`), and applies the
//! first rule that hits it. Dropping a connection needs the socket, which no handler has:
//! the server's listener wraps each connection in a [`CuttableStream`] whose writes fail
//! once the middleware has cut it, so hyper closes it without sending a byte of the answer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::Vendor;
use crate::common::{empty, json, lock, percent_decode, with_type};

/// Where the fault rules are read and set: at the root, beside the seeding route.
pub(crate) const ROUTE: &str = "/_sandbox/faults";

/// The longest [`Fault::Delay`]: a minute.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// The lifecycle verbs a rule may name instead of an operationId.
const VERBS: &[&str] = &["list", "get", "create", "update", "revoke"];

/// One operation of a vendor's fragment (`crate::examples::operations`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operation {
    /// The HTTP method, upper case.
    pub(crate) method: &'static str,
    /// The fragment's path template, relative to the vendor's base path.
    pub(crate) path: &'static str,
    /// The fragment's operationId.
    pub(crate) id: &'static str,
    /// The lifecycle verbs that name it too.
    pub(crate) verbs: &'static [&'static str],
}

impl Operation {
    fn named(&self, name: &str) -> bool {
        self.id == name || self.verbs.contains(&name)
    }
}

/// Whether `path` fits the fragment's `template`, segment by segment; a `{param}` (which may
/// sit inside a segment, as in balena's `api_key({id})`) stands for a non-empty value
/// without the characters that delimit OData keys.
fn path_matches(template: &str, path: &str) -> bool {
    let mut templates = template.split('/');
    let mut segments = path.split('/');
    loop {
        match (templates.next(), segments.next()) {
            (None, None) => return true,
            (Some(t), Some(s)) if segment_matches(t, s) => {}
            _ => return false,
        }
    }
}

fn segment_matches(template: &str, segment: &str) -> bool {
    let (Some(open), Some(close)) = (template.find('{'), template.rfind('}')) else {
        return template == segment;
    };
    let (Some(prefix), Some(suffix)) = (template.get(..open), template.get(close + 1..)) else {
        return false;
    };
    segment
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|value| !value.is_empty() && !value.contains(['(', ')', '\'', '=', ',', '/']))
}

/// The vendor and operation a request calls, if it is one of a fragment's.
fn classify(method: &Method, path: &str) -> Option<(Vendor, &'static Operation)> {
    let path = percent_decode(path)?;
    Vendor::ALL.iter().find_map(|&vendor| {
        let rest = path.strip_prefix(vendor.base_path())?;
        crate::examples::operations(vendor)
            .iter()
            .find(|op| op.method == method.as_str() && path_matches(op.path, rest))
            .map(|op| (vendor, op))
    })
}

/// What a rule does to a call it hits.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answers with this status (200 to 599) before the handler runs, in the vendor's error
    /// body from 400 on (empty below), with a `Retry-After` header when one is given.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` header's value (seconds, or an HTTP date).
        retry_after: Option<String>,
    },
    /// Waits this long (at most [`MAX_DELAY`]), then serves the call as usual.
    Delay(Duration),
    /// Closes the connection without an answer before the handler runs: nothing changes.
    Drop,
    /// Serves the call (a create creates the key), then closes the connection without
    /// sending the answer: the client sees a transport error, the change stays.
    CommitThenDrop,
}

impl Fault {
    /// A refusal with `status`.
    pub fn status(status: u16) -> Self {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    /// A refusal with `status` and a `Retry-After: <retry_after>` header.
    pub fn status_with_retry_after(status: u16, retry_after: impl Into<String>) -> Self {
        Fault::Status {
            status,
            retry_after: Some(retry_after.into()),
        }
    }

    /// A delay of `delay` before the call is served.
    pub fn delay(delay: Duration) -> Self {
        Fault::Delay(delay)
    }
}

/// A fault rule: which calls of which operation of a vendor it hits, and what it does.
///
/// It hits the matching calls after the first `skip` of them (none by default), `times`
/// of them, or all that follow when `times` is `None` (the default). Each rule counts the
/// calls it matches on its own; when several rules hit a call, the first in the list applies.
///
/// Its JSON form, as `POST /_sandbox/faults` and `apikeys-sandbox --faults` read it:
/// `{"vendor": "thingsboard", "operation": "create", "fault": "status", "status": 503,
/// "retry_after": "2", "skip": 1, "times": 2}`; `fault` is `status`, `delay` (with
/// `delay_ms`), `drop` or `commit_then_drop`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRule", into = "RawRule")]
#[non_exhaustive]
pub struct FaultRule {
    /// The vendor.
    pub vendor: Vendor,
    /// An operationId of the vendor's fragment (`save_api_key`) or a lifecycle verb
    /// (`list`, `get`, `create`, `update`, `revoke`) naming the operations the vendor
    /// crate's `KeyLifecycle` method calls for it.
    pub operation: String,
    /// What happens to the calls it hits.
    pub fault: Fault,
    /// How many matching calls pass before it hits.
    pub skip: u64,
    /// How many calls it hits; `None`: every one after the skipped ones.
    pub times: Option<u64>,
}

impl FaultRule {
    /// A rule hitting every call of `vendor`'s `operation` (an operationId or a lifecycle
    /// verb) with `fault`.
    pub fn new(vendor: Vendor, operation: impl Into<String>, fault: Fault) -> Self {
        FaultRule {
            vendor,
            operation: operation.into(),
            fault,
            skip: 0,
            times: None,
        }
    }

    /// Hits only `n` calls (the first `n` after the skipped ones).
    pub fn first(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Hits every call after the skipped ones.
    pub fn every(mut self) -> Self {
        self.times = None;
        self
    }

    /// Lets the first `k` matching calls pass (`skip(1).first(1)`: the second call fails).
    pub fn skip(mut self, k: u64) -> Self {
        self.skip = k;
        self
    }

    /// Refuses what the sandbox cannot do: an operation the vendor does not have, a status
    /// outside 200 to 599, a `Retry-After` that is not a header value, a delay over
    /// [`MAX_DELAY`], `times` of 0.
    fn check(&self) -> Result<(), RuleError> {
        let operations = crate::examples::operations(self.vendor);
        if !operations.iter().any(|op| op.named(&self.operation)) {
            let ids: Vec<&str> = operations.iter().map(|op| op.id).collect();
            let verbs: Vec<&str> = VERBS
                .iter()
                .copied()
                .filter(|verb| operations.iter().any(|op| op.named(verb)))
                .collect();
            return Err(RuleError::new(
                "operation",
                format!(
                    "`{}` is no operation of {}: name one of its operationIds ({}) or a verb ({})",
                    self.operation,
                    self.vendor,
                    ids.join(", "),
                    verbs.join(", ")
                ),
            ));
        }
        match &self.fault {
            Fault::Status {
                status,
                retry_after,
            } => {
                if !(200..=599).contains(status) {
                    return Err(RuleError::new(
                        "status",
                        format!(
                            "must be from 200 to 599 (a 1xx is not a final answer), not {status}"
                        ),
                    ));
                }
                if let Some(value) = retry_after
                    && (value.is_empty() || HeaderValue::from_str(value).is_err())
                {
                    return Err(RuleError::new(
                        "retry_after",
                        "must be seconds or an HTTP date, in visible ASCII",
                    ));
                }
            }
            Fault::Delay(delay) if *delay > MAX_DELAY => {
                return Err(RuleError::new(
                    "delay_ms",
                    format!("must be at most {} (a minute)", MAX_DELAY.as_millis()),
                ));
            }
            Fault::Delay(_) | Fault::Drop | Fault::CommitThenDrop => {}
        }
        if self.times == Some(0) {
            return Err(RuleError::new(
                "times",
                "must be at least 1; leave it out to hit every call",
            ));
        }
        Ok(())
    }
}

/// Whether the `matched`-th matching call (counting from 1) is one a rule with `skip` and
/// `times` hits.
fn hits(skip: u64, times: Option<u64>, matched: u64) -> bool {
    matched > skip && times.is_none_or(|times| matched - skip <= times)
}

/// A rule as its JSON reads, before its numbers are checked.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    vendor: String,
    operation: String,
    fault: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    skip: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<Number>,
}

/// What is wrong with one rule: the field and why.
#[derive(Debug)]
struct RuleError {
    field: &'static str,
    reason: String,
}

impl RuleError {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        RuleError {
            field,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` {}", self.field, self.reason)
    }
}

/// A whole number from the JSON within `range`, or why not.
fn whole(
    field: &'static str,
    number: &Number,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, RuleError> {
    number
        .as_u64()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            RuleError::new(
                field,
                format!(
                    "must be a whole number from {} to {}, not {number}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// Refuses a field the rule's fault does not use, rather than ignoring it.
fn unused<T>(field: &'static str, value: &Option<T>, kind: &str) -> Result<(), RuleError> {
    match value {
        Some(_) => Err(RuleError::new(
            field,
            format!("is not a field of a `{kind}` fault"),
        )),
        None => Ok(()),
    }
}

impl TryFrom<RawRule> for FaultRule {
    type Error = RuleError;

    fn try_from(raw: RawRule) -> Result<Self, RuleError> {
        let vendor = Vendor::from_name(&raw.vendor).ok_or_else(|| {
            let names: Vec<&str> = Vendor::ALL.iter().map(|v| v.name()).collect();
            RuleError::new(
                "vendor",
                format!("`{}` is none of {}", raw.vendor, names.join(", ")),
            )
        })?;
        let kind = raw.fault.as_str();
        if kind != "status" {
            unused("status", &raw.status, kind)?;
            unused("retry_after", &raw.retry_after, kind)?;
        }
        if kind != "delay" {
            unused("delay_ms", &raw.delay_ms, kind)?;
        }
        let fault = match kind {
            "status" => {
                let status = raw
                    .status
                    .as_ref()
                    .ok_or_else(|| RuleError::new("status", "is needed by a `status` fault"))?;
                let retry_after = match raw.retry_after {
                    None => None,
                    Some(Value::String(text)) => Some(text),
                    Some(Value::Number(n)) => {
                        Some(whole("retry_after", &n, 0..=u64::MAX)?.to_string())
                    }
                    Some(_) => {
                        return Err(RuleError::new(
                            "retry_after",
                            "must be a number of seconds or a string",
                        ));
                    }
                };
                Fault::Status {
                    status: u16::try_from(whole("status", status, 200..=599)?)
                        .map_err(|_| RuleError::new("status", "must be from 200 to 599"))?,
                    retry_after,
                }
            }
            "delay" => {
                let ms = raw
                    .delay_ms
                    .as_ref()
                    .ok_or_else(|| RuleError::new("delay_ms", "is needed by a `delay` fault"))?;
                let max = u64::try_from(MAX_DELAY.as_millis()).unwrap_or(u64::MAX);
                Fault::Delay(Duration::from_millis(whole("delay_ms", ms, 0..=max)?))
            }
            "drop" => Fault::Drop,
            "commit_then_drop" => Fault::CommitThenDrop,
            other => {
                return Err(RuleError::new(
                    "fault",
                    format!("`{other}` is none of status, delay, drop, commit_then_drop"),
                ));
            }
        };
        let rule = FaultRule {
            vendor,
            operation: raw.operation,
            fault,
            skip: match &raw.skip {
                Some(n) => whole("skip", n, 0..=u64::MAX)?,
                None => 0,
            },
            times: match &raw.times {
                Some(n) => Some(whole("times", n, 1..=u64::MAX)?),
                None => None,
            },
        };
        rule.check()?;
        Ok(rule)
    }
}

impl From<FaultRule> for RawRule {
    fn from(rule: FaultRule) -> Self {
        let (fault, status, retry_after, delay_ms) = match rule.fault {
            Fault::Status {
                status,
                retry_after,
            } => (
                "status",
                Some(Number::from(status)),
                retry_after.map(Value::String),
                None,
            ),
            Fault::Delay(delay) => (
                "delay",
                None,
                None,
                Some(Number::from(
                    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                )),
            ),
            Fault::Drop => ("drop", None, None, None),
            Fault::CommitThenDrop => ("commit_then_drop", None, None, None),
        };
        RawRule {
            vendor: rule.vendor.name().into(),
            operation: rule.operation,
            fault: fault.into(),
            status,
            retry_after,
            delay_ms,
            skip: (rule.skip > 0).then(|| Number::from(rule.skip)),
            times: rule.times.map(Number::from),
        }
    }
}

/// Why fault rules were refused; none of them was set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaultError {
    /// A rule asks for what the sandbox cannot do; `rule` counts from 1.
    #[error("rule {rule}: `{field}` {reason}")]
    Invalid {
        /// The rule's place in the list, from 1.
        rule: usize,
        /// The JSON field at fault.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The text is not a JSON array of rules; the message says where.
    #[error("the rules are not a JSON array of fault rules: {0}")]
    Json(String),
}

/// A rule as the sandbox holds it, with how often it has matched and hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FiredRule {
    /// The rule.
    pub rule: FaultRule,
    /// How many calls of its operation it has seen since it was set.
    pub matched: u64,
    /// How many of them it hit (when two rules hit a call, only the first counts it).
    pub fired: u64,
}

/// The rules in force, shared by the middleware, the route and [`crate::Sandbox`].
#[derive(Default)]
pub(crate) struct Faults {
    rules: Mutex<Vec<FiredRule>>,
}

impl Faults {
    /// Replaces the rules, once every one is checked.
    pub(crate) fn set(&self, rules: Vec<FaultRule>) -> Result<usize, FaultError> {
        for (i, rule) in rules.iter().enumerate() {
            rule.check().map_err(|e| invalid(i, e))?;
        }
        let count = rules.len();
        *lock(&self.rules) = rules
            .into_iter()
            .map(|rule| FiredRule {
                rule,
                matched: 0,
                fired: 0,
            })
            .collect();
        Ok(count)
    }

    /// Replaces the rules with those of a JSON array.
    pub(crate) fn set_json(&self, text: &[u8]) -> Result<usize, FaultError> {
        let raw: Vec<RawRule> =
            serde_json::from_slice(text).map_err(|e| FaultError::Json(e.to_string()))?;
        let rules = raw
            .into_iter()
            .enumerate()
            .map(|(i, raw)| FaultRule::try_from(raw).map_err(|e| invalid(i, e)))
            .collect::<Result<Vec<_>, _>>()?;
        self.set(rules)
    }

    pub(crate) fn list(&self) -> Vec<FiredRule> {
        lock(&self.rules).clone()
    }

    pub(crate) fn clear(&self) {
        lock(&self.rules).clear();
    }

    /// Counts a call of `vendor`'s `op` against every rule it matches, and returns the
    /// fault of the first that hits it.
    fn pick(&self, vendor: Vendor, op: &Operation) -> Option<Fault> {
        let mut rules = lock(&self.rules);
        let mut picked = None;
        for entry in rules.iter_mut() {
            if entry.rule.vendor != vendor || !op.named(&entry.rule.operation) {
                continue;
            }
            entry.matched = entry.matched.saturating_add(1);
            if picked.is_none() && hits(entry.rule.skip, entry.rule.times, entry.matched) {
                entry.fired = entry.fired.saturating_add(1);
                picked = Some(entry.rule.fault.clone());
            }
        }
        picked
    }
}

fn invalid(index: usize, e: RuleError) -> FaultError {
    FaultError::Invalid {
        rule: index + 1,
        field: e.field,
        reason: e.reason,
    }
}

/// The rules' route, for the server's root.
pub(crate) fn routes(faults: Arc<Faults>) -> Router {
    Router::new()
        .route(ROUTE, axum::routing::get(list).post(set).delete(clear))
        .with_state(faults)
}

fn plain(status: StatusCode, message: String) -> Response {
    with_type(status, "text/plain; charset=utf-8", message.into_bytes())
}

/// `GET /_sandbox/faults`: the rules with their counts.
async fn list(State(faults): State<Arc<Faults>>) -> Response {
    json(StatusCode::OK, &faults.list())
}

/// `POST /_sandbox/faults` with a JSON array of rules: replaces the rules and answers
/// them as `GET` does; 400 with a plain-text reason, and the old rules kept, for a bad one.
async fn set(State(faults): State<Arc<Faults>>, body: Bytes) -> Response {
    match faults.set_json(&body) {
        Ok(_) => json(StatusCode::OK, &faults.list()),
        Err(e) => plain(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

/// `DELETE /_sandbox/faults`: no more rules.
async fn clear(State(faults): State<Arc<Faults>>) -> Response {
    faults.clear();
    empty(StatusCode::NO_CONTENT)
}

/// The middleware: applies the first rule that hits the request's operation.
pub(crate) async fn inject(
    State(faults): State<Arc<Faults>>,
    request: Request,
    next: Next,
) -> Response {
    let Some((vendor, op)) = classify(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let Some(fault) = faults.pick(vendor, op) else {
        return next.run(request).await;
    };
    let message = format!("fault injected by the sandbox into {vendor}'s {}", op.id);
    match fault {
        Fault::Status {
            status,
            retry_after,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = if status.as_u16() >= 400 {
                vendor.fault_response(status, &message)
            } else {
                empty(status)
            };
            if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            response
        }
        Fault::Delay(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Fault::Drop => cut(&request),
        Fault::CommitThenDrop => {
            let connection = request
                .extensions()
                .get::<ConnectInfo<Connection>>()
                .cloned();
            // The handler's answer is dropped unsent: the change it made stays.
            drop(next.run(request).await);
            match connection {
                Some(ConnectInfo(connection)) => connection.cut(),
                None => uncuttable(),
            }
        }
    }
}

/// Cuts the request's connection; the answer returned is never sent.
fn cut(request: &Request) -> Response {
    match request.extensions().get::<ConnectInfo<Connection>>() {
        Some(ConnectInfo(connection)) => connection.cut(),
        None => uncuttable(),
    }
}

/// Only a server on [`CuttableListener`] can drop connections; `Sandbox` always is.
fn uncuttable() -> Response {
    plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the sandbox cannot drop this connection".into(),
    )
}

/// A connection the middleware can cut, as `ConnectInfo`.
#[derive(Clone, Debug)]
pub(crate) struct Connection {
    cut: Arc<AtomicBool>,
}

impl Connection {
    /// Makes every later write fail, so hyper closes the connection without an answer; the
    /// response returned is a placeholder that cannot be sent.
    fn cut(&self) -> Response {
        self.cut.store(true, Ordering::SeqCst);
        empty(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl Connected<IncomingStream<'_, CuttableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, CuttableListener>) -> Self {
        Connection {
            cut: Arc::clone(&stream.io().cut),
        }
    }
}

/// The sandbox's listener: TCP connections that the middleware can cut.
pub(crate) struct CuttableListener(pub(crate) TcpListener);

impl Listener for CuttableListener {
    type Io = CuttableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // TcpListener's own accept retries the errors that do not stop a server.
        let (stream, addr) = Listener::accept(&mut self.0).await;
        let stream = CuttableStream {
            stream,
            cut: Arc::new(AtomicBool::new(false)),
        };
        (stream, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A TCP connection whose writes fail once it is cut.
pub(crate) struct CuttableStream {
    stream: TcpStream,
    cut: Arc<AtomicBool>,
}

impl CuttableStream {
    fn check(&self) -> io::Result<()> {
        if self.cut.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "a fault rule dropped the connection",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for CuttableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_the_fragments_templates() {
        assert!(path_matches("/api/apiKey/{id}", "/api/apiKey/abc"));
        assert!(!path_matches("/api/apiKey/{id}", "/api/apiKey/"));
        assert!(!path_matches("/api/apiKey/{id}", "/api/apiKey/a/b"));
        assert!(path_matches("/v7/api_key({id})", "/v7/api_key(12)"));
        assert!(!path_matches("/v7/device({id})", "/v7/device(uuid='ab')"));
        assert!(path_matches(
            "/v7/device(uuid='{uuid}')",
            "/v7/device(uuid='ab')"
        ));
        assert!(!path_matches("/api/key", "/api/key/1"));
    }

    #[test]
    fn requests_are_named_by_vendor_and_operation() {
        let name = |method: Method, path: &str| {
            classify(&method, path).map(|(vendor, op)| (vendor, op.id, op.verbs))
        };
        assert_eq!(
            name(Method::POST, "/thingsboard/api/apiKey"),
            Some((Vendor::ThingsBoard, "save_api_key", &["create"][..]))
        );
        assert_eq!(
            name(Method::DELETE, "/v7/api_key(5)"),
            Some((Vendor::Balena, "revoke_api_key", &["revoke"][..]))
        );
        assert_eq!(
            name(Method::GET, "/v7/device(uuid=%27ab%27)").map(|n| n.1),
            Some("get_device_actor_by_uuid")
        );
        assert_eq!(
            name(Method::PUT, "/nuki/api/key").map(|n| n.1),
            Some("create_api_key")
        );
        assert_eq!(name(Method::GET, "/_sandbox/faults"), None);
        assert_eq!(name(Method::PATCH, "/thingsboard/api/apiKey"), None);
    }

    #[test]
    fn every_verb_names_an_operation_of_every_vendor_that_has_it() {
        for &vendor in Vendor::ALL {
            for verb in VERBS {
                let named = crate::examples::operations(vendor)
                    .iter()
                    .any(|op| op.named(verb));
                // SensorBucket cannot change a key; every other verb exists everywhere.
                let expected = !(vendor == Vendor::SensorBucket && *verb == "update");
                assert_eq!(named, expected, "{vendor} {verb}");
            }
        }
    }

    /// The hit window against arithmetic that cannot overflow, over every small case and
    /// the edges of `u64` (where `skip + times` would overflow).
    #[test]
    fn the_hit_window_is_exact_at_every_bound() {
        let oracle = |skip: u64, times: Option<u64>, n: u64| {
            let (skip, n) = (u128::from(skip), u128::from(n));
            n > skip && times.is_none_or(|t| n <= skip + u128::from(t))
        };
        let edges = [
            0,
            1,
            2,
            3,
            5,
            u64::MAX / 2,
            u64::MAX - 2,
            u64::MAX - 1,
            u64::MAX,
        ];
        let small = 0..8u64;
        for skip in small.clone().chain(edges) {
            for times in small.clone().chain(edges).map(Some).chain([None]) {
                for n in small.clone().chain(edges) {
                    assert_eq!(
                        hits(skip, times, n),
                        oracle(skip, times, n),
                        "{skip} {times:?} {n}"
                    );
                }
            }
        }
    }

    fn parse(text: &str) -> Result<Vec<FaultRule>, FaultError> {
        let faults = Faults::default();
        faults.set_json(text.as_bytes())?;
        Ok(faults.list().into_iter().map(|f| f.rule).collect())
    }

    fn refused(text: &str) -> String {
        match parse(text) {
            Err(e) => e.to_string(),
            Ok(rules) => panic!("accepted {rules:?}"),
        }
    }

    #[test]
    fn rules_round_trip_through_json() {
        let rules = vec![
            FaultRule::new(
                Vendor::ThingsBoard,
                "create",
                Fault::status_with_retry_after(503, "2"),
            )
            .skip(1)
            .first(2),
            FaultRule::new(
                Vendor::Nuki,
                "delete_api_key",
                Fault::delay(Duration::from_millis(1500)),
            ),
            FaultRule::new(Vendor::Balena, "list", Fault::Drop),
            FaultRule::new(Vendor::Automox, "revoke", Fault::CommitThenDrop).first(1),
        ];
        let text = serde_json::to_string(&rules).unwrap();
        assert!(
            text.starts_with(
                r#"[{"vendor":"thingsboard","operation":"create","fault":"status","status":503,"retry_after":"2","skip":1,"times":2}"#
            ),
            "{text}"
        );
        assert_eq!(parse(&text).unwrap(), rules);
        let one: FaultRule = serde_json::from_str(
            r#"{"vendor":"nuki","operation":"list","fault":"status","status":429,"retry_after":7}"#,
        )
        .unwrap();
        assert_eq!(
            one.fault,
            Fault::status_with_retry_after(429, "7"),
            "a number of seconds is read as text"
        );
    }

    #[test]
    fn every_number_and_name_is_checked_and_the_field_named() {
        let rule =
            |rest: &str| format!(r#"[{{"vendor":"thingsboard","operation":"create",{rest}}}]"#);
        for (rest, wanted) in [
            (
                r#""fault":"status","status":700"#,
                "rule 1: `status` must be",
            ),
            (r#""fault":"status","status":99"#, "`status` must be"),
            (r#""fault":"status","status":-1"#, "`status` must be"),
            (r#""fault":"status","status":500.5"#, "`status` must be"),
            (r#""fault":"status""#, "`status` is needed"),
            (
                r#""fault":"status","status":503,"retry_after":"a\nb""#,
                "`retry_after`",
            ),
            (r#""fault":"delay","delay_ms":60001"#, "`delay_ms` must be"),
            (r#""fault":"delay""#, "`delay_ms` is needed"),
            (
                r#""fault":"drop","delay_ms":5"#,
                "`delay_ms` is not a field of a `drop` fault",
            ),
            (r#""fault":"drop","times":0"#, "`times` must be"),
            (r#""fault":"drop","skip":-2"#, "`skip` must be"),
            (r#""fault":"explode""#, "`fault` `explode` is none of"),
        ] {
            let message = refused(&rule(rest));
            assert!(message.contains(wanted), "{rest}: {message}");
        }
        let message = refused(r#"[{"vendor":"acme","operation":"list","fault":"drop"}]"#);
        assert!(message.contains("`vendor` `acme` is none of"), "{message}");
        let message = refused(r#"[{"vendor":"sensorbucket","operation":"update","fault":"drop"}]"#);
        assert!(
            message.contains("`operation` `update` is no operation of sensorbucket"),
            "{message}"
        );
        assert!(message.contains("revoke_api_key"), "{message}");
        let message = refused(r#"[{"vendor":"nuki","operation":"list","fault":"drop","x":1}]"#);
        assert!(message.contains("unknown field `x`"), "{message}");
        assert!(refused("{}").contains("not a JSON array"));
        // The largest delay is allowed; the Rust API is checked as the JSON is.
        assert!(parse(&rule(r#""fault":"delay","delay_ms":60000"#)).is_ok());
        let faults = Faults::default();
        let long = FaultRule::new(
            Vendor::Nuki,
            "list",
            Fault::delay(MAX_DELAY + Duration::from_millis(1)),
        );
        let ok = FaultRule::new(Vendor::Nuki, "list", Fault::Drop);
        assert!(matches!(
            faults.set(vec![ok, long]),
            Err(FaultError::Invalid {
                rule: 2,
                field: "delay_ms",
                ..
            })
        ));
    }
}
