//! Helpers for the vendor crates' wiremock tests (feature `testing`).

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

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
