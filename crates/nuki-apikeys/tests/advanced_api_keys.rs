//! The five advanced-API-key operations (`/api/key/{apiKeyId}/advanced`) against a mock
//! Nuki Web API, with example bodies in the shapes of Nuki's Swagger
//! (<https://api.nuki.io/static/swagger/swagger.json>).

mod common;

use apikeys_common::testing::{assert_hidden, mock_server};
use chrono::{SecondsFormat, TimeZone, Utc};
use common::*;
use nuki_apikeys::Error;
use nuki_apikeys::types::{
    AdvancedApiKeyCreate, AdvancedApiKeyStatus, AdvancedApiKeyType, AdvancedApiKeyUpdate,
    WebhookFeature, WebhookStatus,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const ADVANCED: &str = "/api/key/1010101010/advanced";

#[tokio::test]
async fn get_advanced_api_key_decodes_the_application() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path(ADVANCED)))
        .and(without_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(advanced_api_key()))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .get_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();

    assert_eq!(key.name, "Example Rentals GmbH");
    assert_eq!(key.country, "Austria");
    assert_eq!(
        key.description,
        "Short-term rental platform issuing time-limited keypad codes to guests."
    );
    assert_eq!(key.type_, AdvancedApiKeyType::ShortRental);
    assert_eq!(key.webhook_status, Some(WebhookStatus::Active));
    assert_eq!(key.url, "https://rentals.example.com");
    assert_eq!(key.email, "integrations@rentals.example.com");
    assert_eq!(key.webhook_url, "https://rentals.example.com/hooks/nuki");
    assert_eq!(
        key.webhook_features,
        [
            WebhookFeature::DeviceStatus,
            WebhookFeature::DeviceLogs,
            WebhookFeature::DeviceAuths
        ]
    );
    assert!(!key.restricted);
    assert_eq!(
        key.secret.as_ref().map(|s| s.expose_secret()),
        Some(CLIENT_SECRET)
    );
    assert_eq!(key.status, AdvancedApiKeyStatus::Testing);
    assert_eq!(
        key.creation_date,
        Utc.with_ymd_and_hms(2025, 6, 5, 8, 20, 0).unwrap()
    );
    assert_eq!(
        key.update_date.to_rfc3339_opts(SecondsFormat::Millis, true),
        "2025-06-06T10:02:13.551Z"
    );
}

#[tokio::test]
async fn an_application_not_yet_approved_decodes_without_a_secret() {
    // The spec requires `secret`, but its own description says it is only visible from
    // status TESTING on; absent and null both decode.
    let server = mock_server().await;
    let mut absent = advanced_api_key();
    absent.as_object_mut().unwrap().remove("secret");
    absent.as_object_mut().unwrap().remove("webhookStatus");
    absent["status"] = json!("APPLIED");
    let mut null = advanced_api_key();
    null["secret"] = json!(null);
    null["status"] = json!("INACTIVE");
    Mock::given(method("GET"))
        .and(path(ADVANCED))
        .respond_with(ResponseTemplate::new(200).set_body_json(absent))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ADVANCED))
        .respond_with(ResponseTemplate::new(200).set_body_json(null))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    let applied = client
        .get_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
    assert!(applied.secret.is_none() && applied.webhook_status.is_none());
    assert_eq!(applied.status, AdvancedApiKeyStatus::Applied);

    let inactive = client
        .get_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
    assert!(inactive.secret.is_none());
    assert_eq!(inactive.status, AdvancedApiKeyStatus::Inactive);
}

#[tokio::test]
async fn values_nuki_adds_later_are_kept_not_refused() {
    let server = mock_server().await;
    let mut body = advanced_api_key();
    body["type"] = json!("ENTERPRISE");
    body["status"] = json!("SUSPENDED");
    body["webhookStatus"] = json!("THROTTLED");
    body["webhookFeatures"] = json!(["DEVICE_STATUS", "DEVICE_BATTERY"]);
    body["approvedBy"] = json!("ops");
    Mock::given(method("GET"))
        .and(path(ADVANCED))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .get_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();

    assert_eq!(key.type_, AdvancedApiKeyType::Unknown("ENTERPRISE".into()));
    assert_eq!(key.status.as_str(), "SUSPENDED");
    assert_eq!(
        key.webhook_status,
        Some(WebhookStatus::Unknown("THROTTLED".into()))
    );
    assert_eq!(
        key.webhook_features,
        [
            WebhookFeature::DeviceStatus,
            WebhookFeature::Unknown("DEVICE_BATTERY".into())
        ]
    );
}

#[tokio::test]
async fn the_client_secret_never_shows_in_debug_or_serialized_values() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path(ADVANCED))
        .respond_with(ResponseTemplate::new(200).set_body_json(advanced_api_key()))
        .expect(1)
        .mount(&server)
        .await;

    let response = client(&server)
        .get_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
    assert_hidden(&format!("{response:?}"), CLIENT_SECRET);
    let key = response;
    assert_hidden(&format!("{key:?}"), CLIENT_SECRET);
    assert_hidden(&format!("{key:#?}"), CLIENT_SECRET);
    assert_hidden(&serde_json::to_string(&key).unwrap(), CLIENT_SECRET);
}

#[tokio::test]
async fn get_advanced_api_key_forbidden_is_a_403() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path(ADVANCED))
        .respond_with(nuki_error(
            403,
            "Forbidden",
            "The server understood the request, but is refusing to fulfill it",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .get_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_forbidden() && !err.is_not_found());
    assert_api_error(
        &err,
        403,
        Some("403"),
        "The server understood the request, but is refusing to fulfill it",
    );
}

#[tokio::test]
async fn get_advanced_api_key_without_an_application_is_not_found() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path(ADVANCED))
        .respond_with(nuki_error(
            404,
            "Not Found",
            "The server has not found anything matching the request URI",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .get_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_not_found());
    assert_api_error(
        &err,
        404,
        Some("404"),
        "The server has not found anything matching the request URI",
    );
}

#[tokio::test]
async fn create_advanced_api_key_puts_the_application_and_accepts_204() {
    // The application exactly: no read-only `webhookStatus`.
    let server = mock_server().await;
    json_body(
        authenticated(Mock::given(method("PUT")).and(path(ADVANCED))),
        json!({
            "name": "Example Rentals GmbH",
            "country": "Austria",
            "description": "Short-term rental platform issuing time-limited keypad codes to guests.",
            "type": "SHORT_RENTAL",
            "url": "https://rentals.example.com",
            "email": "integrations@rentals.example.com",
            "webhookUrl": "https://rentals.example.com/hooks/nuki",
            "webhookFeatures": ["DEVICE_STATUS", "DEVICE_LOGS", "DEVICE_AUTHS"],
            "restricted": false
        }),
    )
    .respond_with(ResponseTemplate::new(204))
    .expect(1)
    .mount(&server)
    .await;

    let () = client(&server)
        .create_advanced_api_key()
        .api_key_id(KEY_ID)
        .body(
            AdvancedApiKeyCreate::builder()
                .name("Example Rentals GmbH")
                .country("Austria")
                .description(
                    "Short-term rental platform issuing time-limited keypad codes to guests.",
                )
                .type_(AdvancedApiKeyType::ShortRental)
                .url("https://rentals.example.com")
                .email("integrations@rentals.example.com")
                .webhook_url("https://rentals.example.com/hooks/nuki")
                .webhook_features(vec![
                    WebhookFeature::DeviceStatus,
                    WebhookFeature::DeviceLogs,
                    WebhookFeature::DeviceAuths,
                ])
                .restricted(false),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_incomplete_application_is_refused_before_anything_is_sent() {
    // Nine fields are required; the catch-all fails the test if a request leaves.
    let server = mock_server().await;
    let err = client(&server)
        .create_advanced_api_key()
        .api_key_id(KEY_ID)
        .body(AdvancedApiKeyCreate::builder().name("Example Rentals GmbH"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[tokio::test]
async fn create_advanced_api_key_bad_parameter_is_a_400() {
    let server = mock_server().await;
    Mock::given(method("PUT"))
        .and(path(ADVANCED))
        .respond_with(nuki_error(400, "Bad Request", "Bad Parameter"))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .create_advanced_api_key()
        .api_key_id(KEY_ID)
        .body(
            AdvancedApiKeyCreate::builder()
                .name("x")
                .country("x")
                .description("x")
                .type_(AdvancedApiKeyType::Other)
                .url("x")
                .email("x")
                .webhook_url("x")
                .webhook_features(vec![])
                .restricted(true),
        )
        .send()
        .await
        .unwrap_err();

    assert_api_error(&err, 400, Some("400"), "Bad Parameter");
}

#[tokio::test]
async fn update_advanced_api_key_posts_the_webhook_settings_and_accepts_204() {
    // Both webhook settings.
    let server = mock_server().await;
    json_body(
        authenticated(Mock::given(method("POST")).and(path(ADVANCED))),
        json!({
            "webhookUrl": "https://rentals.example.com/hooks/nuki-v2",
            "webhookFeatures": [
                "DEVICE_STATUS", "DEVICE_MASTERDATA", "DEVICE_CONFIG",
                "DEVICE_LOGS", "DEVICE_AUTHS", "ACCOUNT_USER"
            ]
        }),
    )
    .respond_with(ResponseTemplate::new(204))
    .expect(1)
    .mount(&server)
    .await;

    let () = client(&server)
        .update_advanced_api_key()
        .api_key_id(KEY_ID)
        .body(
            AdvancedApiKeyUpdate::builder()
                .webhook_url("https://rentals.example.com/hooks/nuki-v2")
                .webhook_features(vec![
                    WebhookFeature::DeviceStatus,
                    WebhookFeature::DeviceMasterdata,
                    WebhookFeature::DeviceConfig,
                    WebhookFeature::DeviceLogs,
                    WebhookFeature::DeviceAuths,
                    WebhookFeature::AccountUser,
                ]),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_advanced_api_key_sends_no_body_and_accepts_204() {
    let server = mock_server().await;
    authenticated(Mock::given(method("DELETE")).and(path(ADVANCED)))
        .and(without_body)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let () = client(&server)
        .delete_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn reactivate_advanced_api_key_posts_with_no_body_and_accepts_204() {
    // The Swagger defines no body for reactivation: none is sent.
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api/key/1010101010/advanced/reactivate")))
        .and(without_body)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let () = client(&server)
        .reactivate_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn reactivate_advanced_api_key_bad_parameter_is_a_400() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/key/1010101010/advanced/reactivate"))
        .respond_with(nuki_error(400, "Bad Request", "Bad Parameter"))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .reactivate_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap_err();

    assert_api_error(&err, 400, Some("400"), "Bad Parameter");
}

#[tokio::test]
async fn update_advanced_api_key_bad_parameter_is_a_400() {
    // The Swagger documents this 400 as "Bad Parameter".
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path(ADVANCED))
        .respond_with(nuki_error(400, "Bad Request", "Bad Parameter"))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .update_advanced_api_key()
        .api_key_id(KEY_ID)
        .body(
            AdvancedApiKeyUpdate::builder()
                .webhook_url("not a url")
                .webhook_features(vec![WebhookFeature::DeviceStatus]),
        )
        .send()
        .await
        .unwrap_err();

    assert_api_error(&err, 400, Some("400"), "Bad Parameter");
    assert!(!err.is_unauthorized() && !err.is_not_found());
}

#[tokio::test]
async fn delete_advanced_api_key_unauthorized_is_a_401() {
    // The Swagger documents only 401 here; the body is Nuki's Restlet status object.
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .and(path(ADVANCED))
        .respond_with(nuki_error(
            401,
            "Unauthorized",
            "The request requires user authentication",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .delete_advanced_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_unauthorized() && !err.is_forbidden());
    assert_api_error(
        &err,
        401,
        Some("401"),
        "The request requires user authentication",
    );
}
