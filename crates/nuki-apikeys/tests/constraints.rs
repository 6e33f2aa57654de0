//! The fragment's bounds on what a request sends, checked before it leaves: a value past a
//! bound is refused with `Error::InvalidRequest` naming the wire field, the server receives
//! nothing, and a value within it is sent.

use apikeys_common::testing::mock_server;
use nuki_apikeys::types::{AdvancedApiKeyUpdate, WebhookFeature};
use nuki_apikeys::{Client, Error, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY_ID: i32 = 1010101010;

fn client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .api_key("a3f1c9a7e52b04d1e8c6a0f9b7d2e4c11b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e")
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_webhook_feature_named_twice_is_refused_unsent_and_distinct_ones_are_sent() {
    let server = mock_server().await;
    let client = client(&server);
    let update = |features: Vec<WebhookFeature>| {
        client
            .update_advanced_api_key()
            .api_key_id(KEY_ID)
            .body(
                AdvancedApiKeyUpdate::builder()
                    .webhook_url("https://rentals.example.com/hooks/nuki")
                    .webhook_features(features),
            )
            .send()
    };
    use WebhookFeature::{DeviceLogs, DeviceStatus};
    let error = update(vec![DeviceStatus, DeviceLogs, DeviceStatus])
        .await
        .unwrap_err();
    match &error {
        Error::InvalidRequest(why) => assert_eq!(
            why,
            "update_advanced_api_key: `webhookFeatures` must not hold the same item twice"
        ),
        other => panic!("expected an invalid request, got {other:?}"),
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("POST"))
        .and(path("/api/key/1010101010/advanced"))
        .and(body_json(json!({
            "webhookUrl": "https://rentals.example.com/hooks/nuki",
            "webhookFeatures": ["DEVICE_STATUS", "DEVICE_LOGS"]
        })))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    update(vec![DeviceStatus, DeviceLogs]).await.unwrap();
}
