//! The `apikeys.request` span, as apikeys-common's README documents it.

use apikeys_common::testing::{TraceCapture, fast_retries, mock_server};
use serde_json::json;
use thingsboard_apikeys::Client;
use uuid::{Uuid, uuid};
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");

// issue 25, point 7: the span names the vendor, and each field is recorded once (the
// attempts when the call is over, not on each try).
#[tokio::test(flavor = "current_thread")]
async fn the_span_names_the_vendor_and_records_each_field_once() {
    let capture = TraceCapture::default();
    let _guard = capture.install();
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": [], "totalPages": 0, "totalElements": 0, "hasNext": false}),
        ))
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .api_key("tb_callerKeyUsedForEveryRequestInTheseTests0123456789")
        .retry(fast_retries())
        .build()
        .unwrap();
    client
        .get_user_api_keys()
        .user_id(USER)
        .page_size(1)
        .send()
        .await
        .unwrap();

    let logs = capture.text();
    let done = logs
        .lines()
        .find(|line| line.contains("response received"))
        .unwrap_or_else(|| panic!("no response event:\n{logs}"));
    assert!(
        done.contains(
            "apikeys.request{vendor=\"thingsboard\" operation=\"get_user_api_keys\" method=GET"
        ),
        "{done}"
    );
    assert_eq!(done.matches("attempts=").count(), 1, "{done}");
    assert!(
        done.contains("attempts=3") && done.contains("status=200"),
        "{done}"
    );
    assert_eq!(logs.matches("retrying").count(), 2, "{logs}");
}
