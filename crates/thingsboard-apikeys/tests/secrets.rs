//! A canary secret, used as the caller's credential and as the value of a created key,
//! appears nowhere: not in TRACE-level logs (ours, reqwest's, hyper's), not in the `Debug`
//! or `Display` of any value or error.

use apikeys_common::testing::{CANARY, TraceCapture, mock_server};
use serde_json::json;
use thingsboard_apikeys::types::SaveApiKeyRequest;
use thingsboard_apikeys::{Client, LoginRequest, RetryPolicy, login};
use uuid::{Uuid, uuid};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
const KEY: Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

#[tokio::test(flavor = "current_thread")]
async fn the_canary_never_reaches_logs_values_or_errors() {
    let capture = TraceCapture::default();
    let _guard = capture.install();
    let server = mock_server().await;
    let created = json!({
        "id": {"entityType": "API_KEY", "id": KEY}, "createdTime": 1, "userId": {"entityType": "USER", "id": USER},
        "expirationTime": 0, "description": "d", "enabled": true, "expired": false, "value": CANARY
    });
    Mock::given(method("POST"))
        .and(path("/api/apiKey"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created))
        .mount(&server)
        .await;
    let echo = json!({"status": 401, "message": format!("bad key {CANARY}"), "errorCode": 10});
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(401).set_body_json(echo))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": CANARY, "refreshToken": CANARY})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"value": CANARY, "createdTime": "x"})),
        )
        .mount(&server)
        .await;

    let mut shown = Vec::new();
    let builder = Client::builder(server.uri())
        .api_key(CANARY)
        .retry(RetryPolicy::disabled());
    shown.push(format!("{builder:?}"));
    let client = builder.build().unwrap();
    shown.push(format!("{client:?}"));

    let body = SaveApiKeyRequest::builder()
        .user_id(USER)
        .description("d")
        .enabled(true);
    let created = client.save_api_key().body(body).send().await.unwrap();
    shown.push(format!("{created:?} {:?}", created.value));
    shown.push(serde_json::to_string(&created).unwrap());

    let unauthorized = client.delete_api_key().id(KEY).send().await.unwrap_err();
    shown.push(format!("{unauthorized:?} {unauthorized}"));

    let decode = client
        .enable_api_key()
        .id(KEY)
        .enabled_value(true)
        .send()
        .await
        .unwrap_err();
    shown.push(format!("{decode:?} {decode}"));

    let login_body = LoginRequest::new("tenant@thingsboard.org", CANARY);
    shown.push(format!("{login_body:?}"));
    let tokens = client.login().body(login_body).send().await.unwrap();
    shown.push(format!("{tokens:?}"));
    let jwt_client = login(
        Client::builder(server.uri()),
        "tenant@thingsboard.org",
        CANARY,
    )
    .await
    .unwrap();
    shown.push(format!("{jwt_client:?}"));
    let refused = Client::builder(server.uri())
        .api_key(format!("{CANARY}\n"))
        .build()
        .unwrap_err();
    shown.push(format!("{refused:?} {refused}"));

    capture.assert_never_shows(CANARY, &shown);
    assert_eq!(shown.len(), 10);
}
