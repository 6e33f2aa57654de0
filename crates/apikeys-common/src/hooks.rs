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

/// Runs before a request is sent: sets the credential, drops progenitor's `api-version`
/// header (no vendor reads it), and labels text bodies as the UTF-8 they are.
pub fn pre(state: &ClientState, request: &mut Request) {
    let headers = request.headers_mut();
    headers.remove("api-version");
    if let Some(credential) = &state.credential {
        headers.insert(credential.header_name().clone(), credential.header_value().clone());
    }
    // progenitor sends `text/plain` without a charset, and servers such as Spring's then
    // read the body as ISO-8859-1.
    if headers.get(CONTENT_TYPE).is_some_and(|v| v == "text/plain") {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
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
        span.record("latency_ms", u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
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
        let text: String = String::from_utf8_lossy(&body).trim().chars().take(MAX_ERROR_TEXT).collect();
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
    let Some(secret) = state.credential.as_ref().map(|c| c.secret().expose_secret()) else {
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
/// vendor's error schema; it is not meant to be written by hand.
#[macro_export]
macro_rules! generated_client {
    ($client:ident, $error:ty) => {
        impl $crate::__private::ClientHooks<$crate::ClientState> for $client {
            async fn pre<E>(
                &self,
                request: &mut $crate::__private::reqwest::Request,
                _info: &$crate::__private::OperationInfo,
            ) -> ::std::result::Result<(), $crate::__private::GeneratedError<E>> {
                $crate::hooks::pre($crate::__private::ClientInfo::inner(self), request);
                Ok(())
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
            credential: Some(Credential::header("authorization", "Bearer", Secret::from(secret)).unwrap()),
        }
    }

    #[test]
    fn pre_sets_the_credential_and_drops_api_version() {
        let mut request = Request::new(reqwest::Method::GET, "http://127.0.0.1/x".parse().unwrap());
        request.headers_mut().insert("api-version", HeaderValue::from_static("4.4.0"));
        request.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        pre(&state_with("k"), &mut request);
        let headers = request.headers();
        assert!(headers.get("api-version").is_none());
        assert_eq!(headers["authorization"], "Bearer k");
        assert!(headers["authorization"].is_sensitive());
        assert_eq!(headers[CONTENT_TYPE], "text/plain; charset=utf-8");
    }

    #[test]
    fn the_credential_is_masked_in_error_bodies() {
        let masked = mask_credential(Bytes::from_static(b"bad key canary-77 given"), &state_with("canary-77"));
        assert_eq!(masked, "bad key [REDACTED] given");
        let untouched = mask_credential(Bytes::from_static(b"plain"), &ClientState::default());
        assert_eq!(untouched, "plain");
    }
}
