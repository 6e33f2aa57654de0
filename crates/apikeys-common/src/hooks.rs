//! What happens around every request of every generated client. The generated code calls
//! this through `generated_client!`, which `cargo xtask codegen` emits for each vendor.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use progenitor_client::OperationInfo;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Request, Response};
use tracing::{Instrument, field};

use crate::ClientState;
use crate::ErrorBody;

/// Error bodies are read up to this size; only their message is of use.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// An error body that is not the vendor's shape keeps this much of its text as the message.
const MAX_ERROR_TEXT: usize = 300;

/// Runs before a request is sent: checks that the path kept the operation's shape, sets
/// the credential, drops progenitor's `api-version` header (no vendor reads it), and labels
/// text bodies as the UTF-8 they are.
///
/// `template` is the operation's path in the fragment, `base_url` the client's.
pub fn pre(
    state: &ClientState,
    base_url: &str,
    template: &str,
    request: &mut Request,
) -> Result<(), String> {
    check_path(base_url, request.url().path(), template)?;
    let headers = request.headers_mut();
    headers.remove("api-version");
    if let Some(credential) = &state.credential {
        headers.insert(
            credential.header_name().clone(),
            credential.header_value().clone(),
        );
    }
    // progenitor sends `text/plain` without a charset, and servers such as Spring's then
    // read the body as ISO-8859-1.
    if headers.get(CONTENT_TYPE).is_some_and(|v| v == "text/plain") {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    Ok(())
}

/// Path parameters are percent-encoded, but `.` and `..` are not, and URL parsing resolves
/// them: `DELETE /users/{id}` with id `..` would become `DELETE /`. So the path that will be
/// sent must still have the template's segments: every literal in place, every parameter
/// non-empty.
fn check_path(base_url: &str, path: &str, template: &str) -> Result<(), String> {
    let base = base_url.split('/').skip(3).filter(|s| !s.is_empty());
    let expected: Vec<&str> = base.chain(template.split('/').skip(1)).collect();
    let actual: Vec<&str> = path.split('/').skip(1).collect();
    let fits = expected.len() == actual.len()
        && expected
            .iter()
            .zip(&actual)
            .all(|(want, got)| segment_fits(want, got));
    if fits {
        Ok(())
    } else {
        Err(format!(
            "a path parameter would change the request path to `{path}` (expected the shape              `{template}`); `.`, `..` and empty ids cannot be sent"
        ))
    }
}

/// Whether a path segment matches a template segment such as `apiKey`, `{id}` or `key({id})`.
fn segment_fits(template: &str, segment: &str) -> bool {
    match (template.find('{'), template.rfind('}')) {
        (Some(open), Some(close)) if open < close => {
            let (prefix, suffix) = (&template[..open], &template[close + 1..]);
            segment.len() > prefix.len() + suffix.len()
                && segment.starts_with(prefix)
                && segment.ends_with(suffix)
        }
        _ => template == segment,
    }
}

/// Sends a request inside a `tracing` span (operation, method, status, latency; never
/// headers or bodies), and puts every error response into the vendor's error shape so the
/// caller always gets the status and a message.
pub async fn exec<E: ErrorBody>(
    http: &reqwest::Client,
    state: &ClientState,
    request: Request,
    info: &OperationInfo,
) -> reqwest::Result<Response> {
    let span = tracing::debug_span!(
        "apikeys.request",
        operation = info.operation_id,
        method = %request.method(),
        status = field::Empty,
        latency_ms = field::Empty,
    );
    async move {
        let started = Instant::now();
        let outcome = http.execute(request).await;
        let span = tracing::Span::current();
        span.record(
            "latency_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        match outcome {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                tracing::debug!("response received");
                if response.status().is_client_error() || response.status().is_server_error() {
                    vendor_error_shape::<E>(response, state).await
                } else {
                    Ok(response)
                }
            }
            Err(error) => {
                tracing::debug!(%error, "request failed");
                Err(error)
            }
        }
    }
    .instrument(span)
    .await
}

/// Reads an error response (up to [`MAX_ERROR_BODY`]) and hands it on in the vendor's
/// error shape. A body in another shape (a proxy's HTML page, plain text, nothing) becomes
/// the vendor shape with its text as the message; otherwise progenitor would report a
/// decode error and the status would be lost. The client's own credential is masked.
async fn vendor_error_shape<E: ErrorBody>(
    response: Response,
    state: &ClientState,
) -> reqwest::Result<Response> {
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = mask_credential(read_capped(response, MAX_ERROR_BODY).await?, state);
    let body = if serde_json::from_slice::<E>(&body).is_ok() {
        body
    } else {
        let text: String = String::from_utf8_lossy(&body)
            .trim()
            .chars()
            .take(MAX_ERROR_TEXT)
            .collect();
        match serde_json::to_vec(&E::from_text(text)) {
            Ok(json) => Bytes::from(json),
            Err(_) => body,
        }
    };
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(Response::from(rebuilt))
}

async fn read_capped(mut response: Response, cap: usize) -> reqwest::Result<Bytes> {
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(body.freeze())
}

/// Servers sometimes echo a rejected credential in their error text.
fn mask_credential(body: Bytes, state: &ClientState) -> Bytes {
    let Some(secret) = state
        .credential
        .as_ref()
        .map(|c| c.secret().expose_secret())
    else {
        return body;
    };
    let text = String::from_utf8_lossy(&body);
    if secret.is_empty() || !text.contains(secret) {
        return body;
    }
    Bytes::from(text.replace(secret, "[REDACTED]"))
}

/// Connects a generated `Client` to this crate: its request hooks and its builder.
///
/// `cargo xtask codegen` emits one call at the end of every `generated.rs`, naming the
/// vendor's error schema and each operation's path template; it is not meant to be
/// written by hand.
#[macro_export]
macro_rules! generated_client {
    ($client:ident, $error:ty, { $($operation:literal => $template:literal),* $(,)? }) => {
        impl $crate::__private::ClientHooks<$crate::ClientState> for $client {
            async fn pre<E>(
                &self,
                request: &mut $crate::__private::reqwest::Request,
                info: &$crate::__private::OperationInfo,
            ) -> ::std::result::Result<(), $crate::__private::GeneratedError<E>> {
                let template = match info.operation_id {
                    $($operation => $template,)*
                    _ => "",
                };
                $crate::hooks::pre(
                    $crate::__private::ClientInfo::inner(self),
                    $crate::__private::ClientInfo::baseurl(self),
                    template,
                    request,
                )
                .map_err($crate::__private::GeneratedError::InvalidRequest)
            }

            async fn exec(
                &self,
                request: $crate::__private::reqwest::Request,
                info: &$crate::__private::OperationInfo,
            ) -> $crate::__private::reqwest::Result<$crate::__private::reqwest::Response> {
                $crate::hooks::exec::<$error>(
                    $crate::__private::ClientInfo::client(self),
                    $crate::__private::ClientInfo::inner(self),
                    request,
                    info,
                )
                .await
            }
        }

        impl $crate::GeneratedClient for $client {
            fn from_parts(
                base_url: &str,
                http: $crate::__private::reqwest::Client,
                state: $crate::ClientState,
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
        }
    }

    #[test]
    fn pre_sets_the_credential_and_drops_api_version() {
        let mut request = Request::new(reqwest::Method::GET, "http://127.0.0.1/x".parse().unwrap());
        request
            .headers_mut()
            .insert("api-version", HeaderValue::from_static("4.4.0"));
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        pre(&state_with("k"), "http://127.0.0.1", "/x", &mut request).unwrap();
        let headers = request.headers();
        assert!(headers.get("api-version").is_none());
        assert_eq!(headers["authorization"], "Bearer k");
        assert!(headers["authorization"].is_sensitive());
        assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
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
    fn the_credential_is_masked_in_error_bodies() {
        let masked = mask_credential(
            Bytes::from_static(b"bad key canary-77 given"),
            &state_with("canary-77"),
        );
        assert_eq!(masked, "bad key [REDACTED] given");
        let untouched = mask_credential(Bytes::from_static(b"plain"), &ClientState::default());
        assert_eq!(untouched, "plain");
    }
}
