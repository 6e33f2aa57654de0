//! The four API-key operations (`/api/key`) against a mock Nuki Web API, with the
//! example bodies in the shapes of Nuki's Swagger
//! (<https://api.nuki.io/static/swagger/swagger.json>), plus what every operation
//! shares: errors, retries and secrets.

mod common;

use std::time::Duration;

use apikeys_common::testing::{assert_hidden, mock_server};
use chrono::{SecondsFormat, TimeZone, Utc};
use common::*;
use nuki_apikeys::Error;
use nuki_apikeys::types::{ApiKeyCreate, ApiKeyUpdate};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn create_request() -> nuki_apikeys::types::builder::ApiKeyCreate {
    ApiKeyCreate::builder()
        .description("Home automation integration".to_string())
        .redirect_uris(vec!["https://example.com/oauth/nuki/callback".to_string()])
}

#[tokio::test]
async fn list_api_keys_gets_every_key_of_the_account() {
    let server = mock_server().await;
    let second = json!({
        "apiKeyId": 1010101011,
        "accountId": ACCOUNT_ID,
        "creationDate": "2025-06-07T09:00:00.125Z"
    });
    authenticated(Mock::given(method("GET")).and(path("/api/key")))
        .and(without_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([api_key(), second])))
        .expect(1)
        .mount(&server)
        .await;

    let keys = client(&server).list_api_keys().send().await.unwrap();

    assert_eq!(keys.len(), 2);
    let key = &keys[0];
    assert_eq!(key.api_key_id, KEY_ID);
    assert_eq!(key.account_id, ACCOUNT_ID);
    assert_eq!(
        key.description.as_deref(),
        Some("Home automation integration")
    );
    assert_eq!(
        key.redirect_uris,
        ["https://example.com/oauth/nuki/callback"]
    );
    assert_eq!(
        key.creation_date,
        Utc.with_ymd_and_hms(2025, 6, 4, 21, 41, 25).unwrap()
    );
    assert_eq!(
        key.api_key.as_ref().map(|k| k.expose_secret()),
        Some(API_KEY_VALUE)
    );
    // Only the required fields: the optional ones are absent, not errors.
    let bare = &keys[1];
    assert_eq!(bare.api_key_id, 1010101011);
    assert!(bare.description.is_none() && bare.api_key.is_none());
    assert!(bare.redirect_uris.is_empty());
    assert_eq!(
        bare.creation_date
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        "2025-06-07T09:00:00.125Z"
    );
}

#[tokio::test]
async fn create_api_key_puts_the_body_and_returns_the_new_key() {
    // Nuki creates with PUT.
    let server = mock_server().await;
    json_body(
        authenticated(Mock::given(method("PUT")).and(path("/api/key"))),
        json!({
            "description": "Home automation integration",
            "redirectUris": ["https://example.com/oauth/nuki/callback"]
        }),
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(api_key()))
    .expect(1)
    .mount(&server)
    .await;

    let key = client(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap();

    assert_eq!(key.api_key_id, KEY_ID);
    assert_eq!(key.account_id, ACCOUNT_ID);
    assert_eq!(
        key.api_key.as_ref().map(|k| k.expose_secret()),
        Some(API_KEY_VALUE)
    );
}

#[tokio::test]
async fn create_api_key_without_fields_still_sends_an_empty_object() {
    // The body is required even though all of its fields are optional.
    let server = mock_server().await;
    json_body(
        authenticated(Mock::given(method("PUT")).and(path("/api/key"))),
        json!({}),
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(api_key()))
    .expect(1)
    .mount(&server)
    .await;

    let key = client(&server).create_api_key().send().await.unwrap();

    assert_eq!(key.api_key_id, KEY_ID);
}

#[tokio::test]
async fn update_api_key_posts_to_the_keys_path_and_accepts_204() {
    // Nuki updates with POST and answers 204 with no body.
    let server = mock_server().await;
    json_body(
        authenticated(Mock::given(method("POST")).and(path("/api/key/1010101010"))),
        json!({
            "description": "Home automation (renamed)",
            "redirectUris": ["https://example.com/a", "https://example.com/b"]
        }),
    )
    .respond_with(ResponseTemplate::new(204))
    .expect(1)
    .mount(&server)
    .await;

    let () = client(&server)
        .update_api_key()
        .api_key_id(KEY_ID)
        .body(
            ApiKeyUpdate::builder()
                .description("Home automation (renamed)".to_string())
                .redirect_uris(vec![
                    "https://example.com/a".to_string(),
                    "https://example.com/b".to_string(),
                ]),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn update_api_key_sends_an_empty_list_and_leaves_an_unset_one_out() {
    let server = mock_server().await;
    for (builder, sent) in [
        (
            ApiKeyUpdate::builder().redirect_uris(Vec::<String>::new()),
            json!({"redirectUris": []}),
        ),
        (
            ApiKeyUpdate::builder().description("renamed".to_string()),
            json!({"description": "renamed"}),
        ),
    ] {
        json_body(
            authenticated(Mock::given(method("POST")).and(path("/api/key/1010101010"))),
            sent,
        )
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;

        let client = client(&server);
        let request = client.update_api_key().api_key_id(KEY_ID).body(builder);
        request.send().await.unwrap();
    }
}

#[tokio::test]
async fn delete_api_key_sends_no_body_and_accepts_204() {
    let server = mock_server().await;
    authenticated(Mock::given(method("DELETE")).and(path("/api/key/1010101010")))
        .and(without_body)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let () = client(&server)
        .delete_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_api_key_id_outside_int32_is_refused_before_anything_is_sent() {
    // `apiKeyId` is an int32 in the Swagger's schemas; the catch-all fails the test if a
    // request leaves.
    let server = mock_server().await;
    let err = client(&server)
        .delete_api_key()
        .api_key_id(5_000_000_000_i64)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(why) if why.contains("api_key_id")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_api_key_value_never_shows_in_debug_or_serialized_values() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([api_key()])))
        .mount(&server)
        .await;

    let response = client(&server).list_api_keys().send().await.unwrap();
    assert_hidden(&format!("{response:?}"), API_KEY_VALUE);
    let keys = response;
    assert_hidden(&format!("{keys:?}"), API_KEY_VALUE);
    assert_hidden(&format!("{keys:#?}"), API_KEY_VALUE);
    assert_hidden(&serde_json::to_string(&keys).unwrap(), API_KEY_VALUE);
    assert_hidden(&format!("{:?}", client(&server)), CALLER_TOKEN);
}

#[tokio::test]
async fn a_bad_parameter_is_a_400_with_nukis_message() {
    let server = mock_server().await;
    Mock::given(method("PUT"))
        .and(path("/api/key"))
        .respond_with(nuki_error(
            400,
            "Bad Request",
            "The request could not be understood by the server due to malformed syntax",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err();

    assert_api_error(
        &err,
        400,
        Some("400"),
        "The request could not be understood by the server due to malformed syntax",
    );
    assert!(!err.is_unauthorized() && !err.is_not_found());
}

#[tokio::test]
async fn a_detail_message_is_preferred_to_the_generic_description() {
    // The `nuki-web-api` wrapper reads `detailMessage` when an error has one.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/key/1010101010"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 400,
            "description": "Invalid parameter given",
            "reasonPhrase": "Bad Request",
            "detailMessage": "redirectUris[0] is not a valid uri"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .update_api_key()
        .api_key_id(KEY_ID)
        .body(ApiKeyUpdate::builder().redirect_uris(vec!["not a uri".to_string()]))
        .send()
        .await
        .unwrap_err();

    assert_api_error(&err, 400, Some("400"), "redirectUris[0] is not a valid uri");
}

#[tokio::test]
async fn without_a_detail_message_update_api_key_400_gives_the_description() {
    // The Swagger documents this 400 as "Invalid parameter given": in the Restlet shape,
    // whose `reasonPhrase` is less specific, and as a bare description.
    for (body, code) in [
        (
            json!({
                "code": 400,
                "description": "Invalid parameter given",
                "homeRef": "/",
                "reasonPhrase": "Bad Request",
                "uri": "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1"
            }),
            Some("400"),
        ),
        (json!({"description": "Invalid parameter given"}), None),
    ] {
        let server = mock_server().await;
        Mock::given(method("POST"))
            .and(path("/api/key/1010101010"))
            .respond_with(ResponseTemplate::new(400).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;

        let err = client(&server)
            .update_api_key()
            .api_key_id(KEY_ID)
            .body(ApiKeyUpdate::builder().redirect_uris(vec!["not a uri".to_string()]))
            .send()
            .await
            .unwrap_err();

        assert_api_error(&err, 400, code, "Invalid parameter given");
        assert!(!err.is_unauthorized() && !err.is_not_found());
    }
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    // The Restlet status object api.nuki.io sends.
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/api/key"))
        .respond_with(nuki_error(
            401,
            "Unauthorized",
            "The request requires user authentication",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server).list_api_keys().send().await.unwrap_err();

    assert!(err.is_unauthorized());
    assert_api_error(
        &err,
        401,
        Some("401"),
        "The request requires user authentication",
    );
    assert_eq!(
        err.to_string(),
        "the server answered 401 Unauthorized: The request requires user authentication \
         (error code 401)"
    );
}

#[tokio::test]
async fn an_error_echoing_the_callers_token_does_not_leak_it() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(nuki_error(
            401,
            "Unauthorized",
            &format!("Unknown token {CALLER_TOKEN}"),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server).list_api_keys().send().await.unwrap_err();

    assert!(err.is_unauthorized());
    assert_hidden(&format!("{err:?}"), CALLER_TOKEN);
    assert_hidden(&err.to_string(), CALLER_TOKEN);
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some("Unknown token [REDACTED]")
    );
}

#[tokio::test]
async fn a_proxys_html_error_page_still_gives_the_status_and_its_text() {
    // api.nuki.io's nginx answers gateway errors with HTML (as reported in
    // <https://github.com/iobroker-community-adapters/ioBroker.nuki-extended/issues/280>).
    let server = mock_server().await;
    let page = "<html><head><title>502 Bad Gateway</title></head></html>";
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(page, "text/html"))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .delete_api_key()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap_err();

    assert_api_error(&err, 502, None, page);
}

#[tokio::test]
async fn rate_limiting_is_recognised_and_keeps_retry_after() {
    // Not documented for these paths, but the wider API uses 429.
    let server = mock_server().await;
    Mock::given(method("GET"))
        .respond_with(
            nuki_error(429, "Too Many Requests", "Too many requests")
                .insert_header("retry-after", "7"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server).list_api_keys().send().await.unwrap_err();

    assert!(err.is_rate_limited());
    assert_eq!(err.api().unwrap().retry_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn creating_with_put_is_never_retried() {
    // PUT is idempotent elsewhere, but here it creates: a retry after a lost
    // answer would make a second key.
    let server = mock_server().await;
    Mock::given(method("PUT"))
        .and(path("/api/key"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;

    let err = retrying_client(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn updating_with_post_is_retried() {
    // POST is not idempotent elsewhere, but here it sets the key's fields.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/key/1010101010"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    json_body(
        Mock::given(method("POST")).and(path("/api/key/1010101010")),
        json!({"description": "again"}),
    )
    .respond_with(ResponseTemplate::new(204))
    .expect(1)
    .mount(&server)
    .await;

    let () = retrying_client(&server)
        .update_api_key()
        .api_key_id(KEY_ID)
        .body(ApiKeyUpdate::builder().description("again".to_string()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_malformed_success_body_is_a_decode_error_that_hides_string_values() {
    let server = mock_server().await;
    let mut body = api_key();
    body["creationDate"] = json!("yesterday");
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .create_api_key()
        .body(create_request())
        .send()
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_hidden(&format!("{err:?}"), API_KEY_VALUE);
    assert_hidden(&err.to_string(), "yesterday");
}
