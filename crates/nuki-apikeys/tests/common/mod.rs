//! What every test file shares: the client, the headers every request carries, and the
//! fragment's example bodies (`nuki_apikeys::examples`), in the shapes of Nuki's Swagger.
#![allow(dead_code)]

use apikeys_common::RetryPolicy;
use apikeys_common::testing::fast_retries;
pub use apikeys_common::testing::{assert_api_error, without_body};
use nuki_apikeys::Client;
use serde_json::{Value, json};
use wiremock::matchers::header;
use wiremock::{MockBuilder, MockServer, Request, ResponseTemplate};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

/// The caller's API token (80 hex digits, as the example token of Nuki's authentication
/// guide, <https://developer.nuki.io/t/web-api-authentication/52>).
pub const CALLER_TOKEN: &str =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978";
/// The ids and secrets of the fragment's examples (`api_key()` and the others check them).
pub const KEY_ID: i32 = 1010101010;
pub const ACCOUNT_ID: i32 = 987654321;
/// The example key's `apiKey`.
pub const API_KEY_VALUE: &str = "3f1c9a7e52b04d1e8c6a0f9b7d2e4c11";
/// The example token's `accessToken`.
pub const ACCESS_TOKEN: &str =
    "7b2e4f10a9c3d8e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4";
/// The example token's id.
pub const TOKEN_ID: &str = "665f8e2a1c9d440001a3b7c2";
/// The example advanced API key's `secret`.
pub const CLIENT_SECRET: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// A client with the caller's token that does not retry (so that `.expect(1)` holds for
/// every status).
pub fn client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .api_key(CALLER_TOKEN)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

/// A client with the default retry policy, shortened so that tests stay fast.
pub fn retrying_client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .api_key(CALLER_TOKEN)
        .retry(fast_retries())
        .build()
        .unwrap()
}

/// Every request carries the bearer token, the crate's user agent and `Accept:
/// application/json`, never progenitor's `api-version` header, and no query string.
pub fn authenticated(mock: MockBuilder) -> MockBuilder {
    mock.and(header(
        "authorization",
        format!("Bearer {CALLER_TOKEN}").as_str(),
    ))
    .and(header(
        "user-agent",
        concat!("nuki-apikeys/", env!("CARGO_PKG_VERSION")),
    ))
    .and(header("accept", "application/json"))
    .and(|request: &Request| !request.headers.contains_key("api-version"))
    .and(|request: &Request| request.url.query().is_none())
}

/// A JSON body, labelled as such.
pub fn json_body(mock: MockBuilder, body: Value) -> MockBuilder {
    mock.and(header("content-type", "application/json"))
        .and(wiremock::matchers::body_json(body))
}

/// The fragment's `ApiKey` example, as listed and as created.
pub fn api_key() -> Value {
    let key = examples::api_key();
    assert_eq!(
        (&key["apiKeyId"], &key["accountId"], &key["apiKey"]),
        (&json!(KEY_ID), &json!(ACCOUNT_ID), &json!(API_KEY_VALUE)),
        "the constants name the example's values"
    );
    key
}

/// The fragment's `ApiKeyToken` example, as created, with its access token.
pub fn created_token() -> Value {
    let token = examples::api_key_token();
    assert_eq!(
        (&token["id"], &token["accountId"], &token["accessToken"]),
        (&json!(TOKEN_ID), &json!(ACCOUNT_ID), &json!(ACCESS_TOKEN)),
        "the constants name the example's values"
    );
    token
}

/// The fragment's `AdvancedApiKey` example: in testing, with its secret.
pub fn advanced_api_key() -> Value {
    let key = examples::advanced_api_key();
    assert_eq!(
        key["secret"], CLIENT_SECRET,
        "the constant names the example's secret"
    );
    key
}

/// Nuki's Restlet-style error body.
pub fn nuki_error(status: u16, reason: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": status,
        "description": description,
        "homeRef": "/",
        "reasonPhrase": reason,
        "uri": "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
    }))
}
