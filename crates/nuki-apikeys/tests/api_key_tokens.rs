//! The four API-key-token operations (`/api/key/{apiKeyId}/token`) against a mock Nuki Web
//! API, with example bodies in the shapes of Nuki's Swagger
//! (<https://api.nuki.io/static/swagger/swagger.json>).

mod common;

use apikeys_common::testing::{assert_hidden, mock_server};
use chrono::{SecondsFormat, TimeZone, Utc};
use common::*;
use nuki_apikeys::Error;
use nuki_apikeys::types::{ApiKeyTokenCreate, ApiKeyTokenUpdate, Scope};
use percent_encoding::percent_decode_str;
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

const TOKENS: &str = "/api/key/1010101010/token";

fn token_path() -> String {
    format!("{TOKENS}/{TOKEN_ID}")
}

#[tokio::test]
async fn list_api_key_tokens_gets_the_keys_tokens() {
    let server = mock_server().await;
    let listed = json!({
        "id": "665f8e2a1c9d440001a3b7d9",
        "accountId": ACCOUNT_ID,
        "scopes": ["account", "smartlock.action"],
        "creationDate": "2025-06-06T12:00:00.000Z"
    });
    authenticated(Mock::given(method("GET")).and(path(TOKENS)))
        .and(without_body)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([created_token(), listed])))
        .expect(1)
        .mount(&server)
        .await;

    let tokens = client(&server)
        .list_api_key_tokens()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();

    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0].id, TOKEN_ID);
    assert_eq!(tokens[0].account_id, ACCOUNT_ID);
    assert_eq!(tokens[0].description.as_deref(), Some("CI read-only token"));
    assert_eq!(
        tokens[0].scopes,
        [Scope::SmartlockReadOnly, Scope::SmartlockLog]
    );
    assert_eq!(
        tokens[0]
            .creation_date
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        "2025-06-05T08:12:44.318Z"
    );
    // A listed token may come without its access token and description.
    assert_eq!(tokens[1].id, "665f8e2a1c9d440001a3b7d9");
    assert!(tokens[1].access_token.is_none() && tokens[1].description.is_none());
    assert_eq!(tokens[1].scopes, [Scope::Account, Scope::SmartlockAction]);
    assert_eq!(
        tokens[1].creation_date,
        Utc.with_ymd_and_hms(2025, 6, 6, 12, 0, 0).unwrap()
    );
}

#[tokio::test]
async fn create_api_key_token_puts_the_scopes_and_returns_the_access_token() {
    // Nuki creates with PUT.
    let server = mock_server().await;
    json_body(
        authenticated(Mock::given(method("PUT")).and(path(TOKENS))),
        json!({
            "description": "CI read-only token",
            "scopes": ["smartlock.readOnly", "smartlock.log"]
        }),
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(created_token()))
    .expect(1)
    .mount(&server)
    .await;

    let token = client(&server)
        .create_api_key_token()
        .api_key_id(KEY_ID)
        .body(
            ApiKeyTokenCreate::builder()
                .description("CI read-only token".to_string())
                .scopes(vec![Scope::SmartlockReadOnly, Scope::SmartlockLog]),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(token.id, TOKEN_ID);
    assert_eq!(
        token.access_token.as_ref().map(|t| t.expose_secret()),
        Some(ACCESS_TOKEN)
    );
    assert_eq!(
        token.scopes,
        [Scope::SmartlockReadOnly, Scope::SmartlockLog]
    );
}

#[tokio::test]
async fn the_access_token_never_shows_in_debug_or_serialized_values() {
    let server = mock_server().await;
    Mock::given(method("PUT"))
        .and(path(TOKENS))
        .respond_with(ResponseTemplate::new(200).set_body_json(created_token()))
        .expect(1)
        .mount(&server)
        .await;

    let response = client(&server)
        .create_api_key_token()
        .api_key_id(KEY_ID)
        .send()
        .await
        .unwrap();
    assert_hidden(&format!("{response:?}"), ACCESS_TOKEN);
    let token = response;
    assert_hidden(&format!("{token:?}"), ACCESS_TOKEN);
    assert_hidden(&format!("{token:#?}"), ACCESS_TOKEN);
    assert_hidden(&serde_json::to_string(&token).unwrap(), ACCESS_TOKEN);
    assert_hidden(&token.access_token.unwrap().to_string(), ACCESS_TOKEN);
}

#[tokio::test]
async fn create_api_key_token_bad_parameter_is_a_400() {
    let server = mock_server().await;
    Mock::given(method("PUT"))
        .and(path(TOKENS))
        .respond_with(nuki_error(400, "Bad Request", "Bad Parameter"))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .create_api_key_token()
        .api_key_id(KEY_ID)
        .body(ApiKeyTokenCreate::builder().scopes(vec![Scope::from("root")]))
        .send()
        .await
        .unwrap_err();

    assert_api_error(&err, 400, Some("400"), "Bad Parameter");
}

#[tokio::test]
async fn update_api_key_token_posts_to_the_tokens_path_and_accepts_204() {
    // Unknown scopes go out exactly as given: Nuki may accept more than its nine names.
    let server = mock_server().await;
    json_body(
        authenticated(Mock::given(method("POST")).and(path(token_path()))),
        json!({
            "description": "CI token (read and operate)",
            "scopes": ["smartlock.readOnly", "smartlock.action", "smartlock.future"]
        }),
    )
    .respond_with(ResponseTemplate::new(204))
    .expect(1)
    .mount(&server)
    .await;

    let () = client(&server)
        .update_api_key_token()
        .api_key_id(KEY_ID)
        .id(TOKEN_ID)
        .body(
            ApiKeyTokenUpdate::builder()
                .description("CI token (read and operate)".to_string())
                .scopes(vec![
                    Scope::SmartlockReadOnly,
                    Scope::SmartlockAction,
                    Scope::from("smartlock.future"),
                ]),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn update_api_key_token_invalid_parameter_is_a_400() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path(token_path()))
        .respond_with(nuki_error(400, "Bad Request", "Invalid parameter given"))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .update_api_key_token()
        .api_key_id(KEY_ID)
        .id(TOKEN_ID)
        .send()
        .await
        .unwrap_err();

    assert_api_error(&err, 400, Some("400"), "Invalid parameter given");
}

#[tokio::test]
async fn delete_api_key_token_sends_no_body_and_accepts_204() {
    let server = mock_server().await;
    authenticated(Mock::given(method("DELETE")).and(path(token_path())))
        .and(without_body)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let () = client(&server)
        .delete_api_key_token()
        .api_key_id(KEY_ID)
        .id(TOKEN_ID)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_api_key_token_unauthorized_is_a_401() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .and(path(token_path()))
        .respond_with(nuki_error(
            401,
            "Unauthorized",
            "The request requires user authentication",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .delete_api_key_token()
        .api_key_id(KEY_ID)
        .id(TOKEN_ID)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_unauthorized());
    assert_api_error(
        &err,
        401,
        Some("401"),
        "The request requires user authentication",
    );
}

const HOSTILE: &[&str] = &[
    "../x",
    "a/b",
    "?x=1",
    "#frag",
    "%2F",
    "a b",
    "ünï/cødé",
    "..%2F..",
    "x?scope=account",
];

/// Each request's token segment: one segment, decoding to the id given, and no query.
async fn assert_token_segments(server: &wiremock::MockServer, verb: &str) {
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), HOSTILE.len());
    for (id, request) in HOSTILE.iter().zip(&seen) {
        assert_eq!(request.method.as_str(), verb);
        let raw = request.url.path();
        let segment = raw
            .strip_prefix("/api/key/1010101010/token/")
            .unwrap_or_else(|| panic!("{id} moved the path: {raw}"));
        assert!(!segment.contains('/'), "{id} split the path: {raw}");
        assert_eq!(percent_decode_str(segment).decode_utf8().unwrap(), *id);
        assert_eq!(request.url.query(), None, "{id} added a query");
    }
}

#[tokio::test]
async fn hostile_token_ids_are_percent_encoded_when_updating() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/key/1010101010/token/[^/]+$"))
        .respond_with(ResponseTemplate::new(204))
        .expect(HOSTILE.len() as u64)
        .mount(&server)
        .await;
    let client = client(&server);
    for id in HOSTILE {
        client
            .update_api_key_token()
            .api_key_id(KEY_ID)
            .id(*id)
            .send()
            .await
            .unwrap();
    }

    assert_token_segments(&server, "POST").await;
}

#[tokio::test]
async fn hostile_token_ids_are_percent_encoded_when_deleting() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/api/key/1010101010/token/[^/]+$"))
        .respond_with(ResponseTemplate::new(204))
        .expect(HOSTILE.len() as u64)
        .mount(&server)
        .await;
    let client = client(&server);
    for id in HOSTILE {
        client
            .delete_api_key_token()
            .api_key_id(KEY_ID)
            .id(*id)
            .send()
            .await
            .unwrap();
    }

    assert_token_segments(&server, "DELETE").await;
}

#[tokio::test]
async fn dot_segment_token_ids_are_refused_before_anything_is_sent() {
    // `..` would turn `DELETE /api/key/1/token/..` into `DELETE /api/key/1/`, deleting the
    // key itself; the catch-all fails the test if any request leaves.
    let server = mock_server().await;
    let client = client(&server);
    for id in ["..", ".", ""] {
        let err = client
            .delete_api_key_token()
            .api_key_id(KEY_ID)
            .id(id)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(why) if why.contains("path")),
            "{id:?}: {err}"
        );
    }
}
