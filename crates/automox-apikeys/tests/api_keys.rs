//! The seven API-key operations against a mock Automox Console API, answering with the
//! fragment's examples (`automox_apikeys::examples`) in the shapes of Automox's published
//! spec (`AutomoxCommunity/openapi-defs`, `openapi/ax-console/axconsoleAIO.yaml`). The
//! client's base URL carries the `/api` prefix, as the real one does.

use std::time::Duration;

use apikeys_common::testing::{
    CANARY, MALFORMED_LIMIT, assert_hidden, mock_server, pagination_end,
};
use automox_apikeys::types::{CreateApiKey, UpdateApiKey};
use automox_apikeys::{Client, Error, RetryPolicy, Timestamp};
use chrono::{DateTime, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use wiremock::matchers::{
    body_json, body_string, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

/// The caller's own API key: sent on every request, never shown.
const CALLER_KEY: &str = CANARY;
const ORG: i64 = 1234;
const USER: i64 = 98765;
const KEY: i64 = 424242;

/// The secret of the fragment's `decrypt` example.
fn decrypted() -> String {
    examples::decrypted_api_key()["api_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A client of the mock server, sending each request once so that every request the
/// server sees is one the test made (retries have their own test).
fn client(server: &MockServer) -> Client {
    Client::builder(format!("{}/api", server.uri()))
        .api_key(CALLER_KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap()
}

/// `method` on `path`, with the caller's Bearer key, the crate's user agent, JSON accepted
/// and no `api-version` header; expected exactly once.
fn expect(verb: &str, route: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(route))
        .and(header(
            "authorization",
            format!("Bearer {CALLER_KEY}").as_str(),
        ))
        .and(header(
            "user-agent",
            concat!("automox-apikeys/", env!("CARGO_PKG_VERSION")),
        ))
        .and(header("accept", "application/json"))
        .and(|request: &Request| !request.headers.contains_key("api-version"))
}

/// The one request the server saw (the catch-all records strays too, so this also proves
/// there were none).
async fn sole_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.remove(0)
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The fragment's `ApiKey` example (key `KEY` of user `USER`), enabled or not.
fn ci_pipeline(enabled: bool) -> Value {
    let mut key = examples::api_key();
    assert_eq!(
        (key["id"].as_i64(), key["user"]["id"].as_i64()),
        (Some(KEY), Some(USER))
    );
    key["is_enabled"] = json!(enabled);
    key
}

/// A key of a long list: `n` gives its id and name.
fn numbered_key(n: usize) -> Value {
    let mut key = examples::api_key();
    key["id"] = json!(n);
    key["name"] = json!(format!("key-{n}"));
    key
}

fn page_body(ids: std::ops::Range<usize>) -> Value {
    let results: Vec<Value> = ids.map(numbered_key).collect();
    json!({"size": results.len(), "results": results})
}

#[tokio::test]
async fn create_posts_the_name_and_expiry_in_the_documented_form_and_decodes_the_key() {
    let server = mock_server().await;
    expect("POST", "/api/users/98765/api_keys")
        .and(query_param("o", "1234"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"name": "ci-pipeline", "expires_at": "2026-12-31T23:59:59+0000"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(ci_pipeline(true)))
        .expect(1)
        .mount(&server)
        .await;

    let expires = Timestamp::from(Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap());
    let key = client(&server)
        .org(ORG)
        .create_user_api_key()
        .user_id(USER)
        .body(CreateApiKey {
            name: "ci-pipeline".into(),
            expires_at: Some(expires),
        })
        .send()
        .await
        .unwrap();

    assert_eq!(sole_request(&server).await.url.query(), Some("o=1234"));
    assert_eq!(key.id, Some(KEY));
    assert_eq!(key.name.as_deref(), Some("ci-pipeline"));
    assert_eq!(key.is_enabled, Some(true));
    assert_eq!(
        key.expires_at.map(|t| t.as_datetime()),
        Some(utc("2026-12-31T23:59:59Z"))
    );
    assert_eq!(
        key.created_at.map(|t| t.as_datetime()),
        Some(utc("2025-11-23T08:41:07Z"))
    );
    let user = key.user.unwrap();
    assert_eq!(user.id, Some(USER));
    assert_eq!(user.firstname.as_deref(), Some("Ada"));
    assert_eq!(user.lastname.as_deref(), Some("Lovelace"));
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
}

#[tokio::test]
async fn create_without_an_expiry_leaves_the_field_out() {
    let server = mock_server().await;
    expect("POST", "/api/users/98765/api_keys")
        .and(query_param("o", "1234"))
        .and(body_json(json!({"name": "no-expiry"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 1, "name": "no-expiry"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .create_user_api_key()
        .o(ORG)
        .user_id(USER)
        .body(CreateApiKey::builder().name("no-expiry"))
        .send()
        .await
        .unwrap();
    assert_eq!(key.name.as_deref(), Some("no-expiry"));
    assert_eq!(key.expires_at, None);
}

#[tokio::test]
async fn get_user_api_keys_sends_o_page_and_limit_and_decodes_a_null_expiry() {
    let server = mock_server().await;
    let body = examples::api_key_page();
    expect("GET", "/api/users/98765/api_keys")
        .and(query_param("o", "1234"))
        .and(query_param("page", "0"))
        .and(query_param("limit", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .expect(1)
        .mount(&server)
        .await;

    let page = client(&server)
        .org(ORG)
        .get_user_api_keys()
        .user_id(USER)
        .page(0u64)
        .limit(2u64)
        .send()
        .await
        .unwrap();

    assert_eq!(page.size, body["size"].as_i64());
    let sent = body["results"].as_array().unwrap();
    let names: Vec<_> = page.results.iter().map(|k| k.name.as_deref()).collect();
    let sent_names: Vec<_> = sent.iter().map(|k| k["name"].as_str()).collect();
    assert_eq!(names, sent_names);
    // The example's second key never expires: `"expires_at": null`.
    let legacy = &page.results[1];
    assert!(sent[1]["expires_at"].is_null());
    assert_eq!(
        (legacy.id, legacy.is_enabled, legacy.expires_at),
        (sent[1]["id"].as_i64(), Some(false), None)
    );
    assert_eq!(
        legacy.created_at.map(|t| t.as_datetime()),
        Some(utc("2024-03-01T12:00:00Z"))
    );
    let query = sole_request(&server).await.url.query().map(str::to_owned);
    assert_eq!(query.as_deref(), Some("limit=2&o=1234&page=0"));
}

#[tokio::test]
async fn get_user_api_keys_without_paging_sends_only_o() {
    let server = mock_server().await;
    expect("GET", "/api/users/98765/api_keys")
        .and(query_param("o", "1234"))
        .and(query_param_is_missing("page"))
        .and(query_param_is_missing("limit"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"size": 0, "results": []})))
        .expect(1)
        .mount(&server)
        .await;

    let page = client(&server)
        .org(ORG)
        .get_user_api_keys()
        .user_id(USER)
        .send()
        .await
        .unwrap();
    assert!(page.results.is_empty());
    assert_eq!(sole_request(&server).await.url.query(), Some("o=1234"));
}

#[tokio::test]
async fn get_organization_api_keys_puts_the_organization_in_the_path_not_in_o() {
    let server = mock_server().await;
    expect("GET", "/api/orgs/1234/api_keys")
        .and(query_param("limit", "500"))
        .and(query_param("page", "0"))
        .and(query_param_is_missing("o"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"results": [ci_pipeline(true)], "size": 1})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let page = client(&server)
        .org(ORG)
        .get_organization_api_keys()
        .limit(500u64)
        .page(0u64)
        .send()
        .await
        .unwrap();
    assert_eq!(page.size, Some(1));
    assert_eq!(page.results[0].id, Some(KEY));
    assert_eq!(
        sole_request(&server).await.url.query(),
        Some("limit=500&page=0")
    );
}

#[tokio::test]
async fn get_user_api_key_reads_one_key() {
    let server = mock_server().await;
    expect("GET", "/api/users/98765/api_keys/424242")
        .and(query_param("o", "1234"))
        .respond_with(ResponseTemplate::new(200).set_body_json(ci_pipeline(true)))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .org(ORG)
        .get_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(key.id, Some(KEY));
    assert_eq!(
        key.user.and_then(|u| u.email).as_deref(),
        Some("ada@example.com")
    );
    let request = sole_request(&server).await;
    assert_eq!(request.url.query(), Some("o=1234"));
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn update_user_api_key_puts_a_json_boolean() {
    let server = mock_server().await;
    expect("PUT", "/api/users/98765/api_keys/424242")
        .and(query_param("o", "1234"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"is_enabled": false})))
        .respond_with(ResponseTemplate::new(200).set_body_json(ci_pipeline(false)))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .org(ORG)
        .update_user_api_key()
        .user_id(USER)
        .id(KEY)
        .body(UpdateApiKey { is_enabled: false })
        .send()
        .await
        .unwrap();
    assert_eq!(key.is_enabled, Some(false));
    assert_eq!(sole_request(&server).await.url.query(), Some("o=1234"));
}

#[tokio::test]
async fn delete_user_api_key_sends_no_body_and_accepts_204() {
    let server = mock_server().await;
    expect("DELETE", "/api/users/98765/api_keys/424242")
        .and(query_param("o", "1234"))
        .and(body_string(""))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let () = client(&server)
        .org(ORG)
        .delete_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap();
    let request = sole_request(&server).await;
    assert_eq!(request.url.query(), Some("o=1234"));
    assert!(!request.headers.contains_key("content-type"));
}

#[tokio::test]
async fn decrypt_returns_the_secret_without_ever_showing_it() {
    let secret = decrypted();
    let server = mock_server().await;
    expect("POST", "/api/users/98765/api_keys/424242/decrypt")
        .and(query_param("o", "1234"))
        .and(body_string(""))
        .respond_with(ResponseTemplate::new(200).set_body_json(examples::decrypted_api_key()))
        .expect(1)
        .mount(&server)
        .await;

    let response = client(&server)
        .org(ORG)
        .decrypt_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap();
    assert_hidden(&format!("{response:?}"), &secret);
    let decrypted = response;
    assert_hidden(&format!("{decrypted:?}"), &secret);
    assert_hidden(&format!("{decrypted:#?}"), &secret);
    assert_hidden(&serde_json::to_string(&decrypted).unwrap(), &secret);
    assert_hidden(&decrypted.api_key.to_string(), &secret);
    assert_eq!(decrypted.api_key.expose_secret(), &secret);

    let request = sole_request(&server).await;
    assert_eq!(request.url.query(), Some("o=1234"));
    assert!(!request.headers.contains_key("content-type"));
}

#[tokio::test]
async fn a_decrypt_answer_without_the_secret_is_a_decode_error() {
    let server = mock_server().await;
    expect("POST", "/api/users/98765/api_keys/424242/decrypt")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"api_key": null})))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .org(ORG)
        .decrypt_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
}

#[tokio::test]
async fn a_user_scoped_call_without_o_is_refused_before_it_is_sent() {
    let server = mock_server().await;
    let client = client(&server);

    let error = client
        .get_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap_err();
    let Error::InvalidRequest(why) = &error else {
        panic!("expected an invalid request, got {error:?}");
    };
    assert!(
        why.contains("`o` is required: call `.o(..)` first"),
        "{why}"
    );

    let error = client
        .delete_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn ids_are_integers_sent_in_decimal_and_keep_the_path_shape() {
    // A string id such as `../x` does not compile (see the `Org` docs); the extremes of
    // the integer range are what remains, and each stays one path segment.
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(examples::decrypted_api_key()))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);
    for (org, user, key) in [(i64::MIN, -1, i64::MAX), (0, 0, 0)] {
        client
            .org(org)
            .decrypt_user_api_key()
            .user_id(user)
            .id(key)
            .send()
            .await
            .unwrap();
    }
    let seen: Vec<(String, Option<String>)> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| (r.url.path().to_owned(), r.url.query().map(str::to_owned)))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "/api/users/-1/api_keys/9223372036854775807/decrypt".to_owned(),
                Some("o=-9223372036854775808".to_owned())
            ),
            (
                "/api/users/0/api_keys/0/decrypt".to_owned(),
                Some("o=0".to_owned())
            ),
        ]
    );
}

#[tokio::test]
async fn every_documented_error_status_is_typed_with_automox_messages() {
    // The spec declares 400, 401, 403, 404, 429 and 503, all `{"errors": [..]}`.
    for (status, message) in [
        (400, "API key name already exists"),
        (401, "Unauthorized"),
        (403, "You do not have permission to perform this action."),
        (404, "Entity not found"),
        (429, "Too Many Requests"),
        (503, "Service Unavailable"),
    ] {
        let server = mock_server().await;
        expect("GET", "/api/users/98765/api_keys/424242")
            .and(query_param("o", "1234"))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({"errors": [message]})))
            .expect(1)
            .mount(&server)
            .await;

        let error = client(&server)
            .org(ORG)
            .get_user_api_key()
            .user_id(USER)
            .id(KEY)
            .send()
            .await
            .unwrap_err();
        let api = error.api().unwrap_or_else(|| panic!("{status}: {error:?}"));
        assert_eq!(api.status.as_u16(), status);
        assert_eq!(api.message.as_deref(), Some(message), "{status}");
        assert_eq!(api.code, None, "{status}");
        assert_eq!(api.retry_after, None, "{status}: no Retry-After was sent");
        assert_eq!(error.is_unauthorized(), status == 401, "{status}");
        assert_eq!(error.is_forbidden(), status == 403, "{status}");
        assert_eq!(error.is_not_found(), status == 404, "{status}");
        assert_eq!(error.is_rate_limited(), status == 429, "{status}");
        assert!(error.to_string().contains(message), "{error}");
    }
}

#[tokio::test]
async fn too_many_requests_carries_retry_after_in_seconds_or_as_a_date() {
    let later = std::time::SystemTime::now() + Duration::from_secs(120);
    for (retry_after, at_least, at_most) in [
        ("60".to_owned(), 60, 60),
        (httpdate::fmt_http_date(later), 110, 120),
    ] {
        let server = mock_server().await;
        expect("POST", "/api/users/98765/api_keys")
            .and(query_param("o", "1234"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", retry_after.as_str())
                    .set_body_json(json!({"errors": ["Too Many Requests"]})),
            )
            .expect(1)
            .mount(&server)
            .await;

        let error = client(&server)
            .org(ORG)
            .create_user_api_key()
            .user_id(USER)
            .body(CreateApiKey::builder().name("ci-pipeline"))
            .send()
            .await
            .unwrap_err();
        assert!(error.is_rate_limited(), "{error:?}");
        let api = error.api().unwrap();
        let wait = api
            .retry_after
            .unwrap_or_else(|| panic!("{retry_after}: none"));
        assert!(
            (at_least..=at_most).contains(&wait.as_secs()),
            "{retry_after}: {wait:?}"
        );
        assert_eq!(api.message.as_deref(), Some("Too Many Requests"));
    }
}

#[tokio::test]
async fn several_messages_are_joined_and_a_body_in_another_shape_keeps_its_text() {
    let server = mock_server().await;
    expect("PUT", "/api/users/98765/api_keys/424242")
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({"errors": ["is_enabled must be a boolean", "unknown field"]}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    expect("PUT", "/api/users/98765/api_keys/1")
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    expect("PUT", "/api/users/98765/api_keys/2")
        .respond_with(
            ResponseTemplate::new(422).set_body_json(json!({"message": "name is too long"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let org = client.org(ORG);
    let update = |id: i64| {
        org.update_user_api_key()
            .user_id(USER)
            .id(id)
            .body(UpdateApiKey { is_enabled: true })
            .send()
    };

    let joined = update(KEY).await.unwrap_err();
    assert_eq!(
        joined.api().unwrap().message.as_deref(),
        Some("is_enabled must be a boolean; unknown field")
    );
    let proxy = update(1).await.unwrap_err();
    assert_eq!(proxy.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(
        proxy.api().unwrap().message.as_deref(),
        Some("<html>Bad Gateway</html>")
    );
    let other = update(2).await.unwrap_err();
    assert_eq!(other.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(
        other.api().unwrap().message.as_deref(),
        Some(r#"{"message":"name is too long"}"#)
    );
}

#[tokio::test]
async fn the_callers_key_echoed_in_an_error_is_never_shown() {
    let server = mock_server().await;
    expect("POST", "/api/users/98765/api_keys/424242/decrypt")
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"errors": [format!("Invalid API key {CALLER_KEY}")]})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let raw = client(&server)
        .org(ORG)
        .decrypt_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap_err();
    assert_hidden(&format!("{raw:?}"), CALLER_KEY);
    let error = raw;
    assert!(error.is_unauthorized());
    assert_hidden(&format!("{error:?}"), CALLER_KEY);
    assert_hidden(&error.to_string(), CALLER_KEY);
    assert_eq!(
        error.api().unwrap().message.as_deref(),
        Some("Invalid API key [REDACTED]")
    );
    assert_hidden(&format!("{client:?}", client = client(&server)), CALLER_KEY);
}

#[tokio::test]
async fn a_users_keys_stream_across_three_pages_keeping_the_user_and_organization() {
    let server = mock_server().await;
    for (page, ids) in [("0", 0..500), ("1", 500..1000), ("2", 1000..1003)] {
        expect("GET", "/api/users/98765/api_keys")
            .and(query_param("o", "1234"))
            .and(query_param("limit", "500"))
            .and(query_param("page", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(page_body(ids)))
            .expect(1)
            .mount(&server)
            .await;
    }

    let keys: Vec<_> = client(&server)
        .org(ORG)
        .get_user_api_keys()
        .user_id(USER)
        .stream()
        .try_collect()
        .await
        .unwrap();

    let ids: Vec<i64> = keys.iter().map(|k| k.id.unwrap()).collect();
    assert_eq!(ids, (0..1003).collect::<Vec<i64>>());
    assert_eq!(keys[1002].name.as_deref(), Some("key-1002"));
    let queries: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        queries,
        [
            "limit=500&o=1234&page=0",
            "limit=500&o=1234&page=1",
            "limit=500&o=1234&page=2"
        ],
        "an unset limit streams the largest page; no fourth page after the short one"
    );
}

#[tokio::test]
async fn a_stream_keeps_the_callers_limit_and_starts_at_the_first_page() {
    let server = mock_server().await;
    for (page, ids) in [("0", 0..2), ("1", 2..3)] {
        expect("GET", "/api/orgs/1234/api_keys")
            .and(query_param("limit", "2"))
            .and(query_param("page", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(page_body(ids)))
            .expect(1)
            .mount(&server)
            .await;
    }

    let keys: Vec<_> = client(&server)
        .org(ORG)
        .get_organization_api_keys()
        .limit(2u64)
        .page(5u64)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<i64> = keys.iter().map(|k| k.id.unwrap()).collect();
    assert_eq!(
        ids,
        [0, 1, 2],
        "page 5 set on the builder is not where a stream starts"
    );
}

#[tokio::test]
async fn an_organizations_keys_stream_across_three_pages_and_stop_on_an_empty_one() {
    let server = mock_server().await;
    for (page, ids) in [("0", 0..500), ("1", 500..1000), ("2", 1000..1000)] {
        expect("GET", "/api/orgs/1234/api_keys")
            .and(query_param("limit", "500"))
            .and(query_param("page", page))
            .and(query_param_is_missing("o"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page_body(ids)))
            .expect(1)
            .mount(&server)
            .await;
    }

    let keys: Vec<_> = client(&server)
        .org(ORG)
        .get_organization_api_keys()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys.len(), 1000);
    assert_eq!(keys[999].id, Some(999));
}

#[tokio::test]
async fn a_rate_limited_page_ends_the_stream_with_the_typed_error() {
    let server = mock_server().await;
    expect("GET", "/api/users/98765/api_keys")
        .and(query_param("o", "1234"))
        .and(query_param("page", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_body(0..500)))
        .expect(1)
        .mount(&server)
        .await;
    expect("GET", "/api/users/98765/api_keys")
        .and(query_param("o", "1234"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_json(json!({"errors": ["Too Many Requests"]})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let results: Vec<_> = client(&server)
        .org(ORG)
        .get_user_api_keys()
        .user_id(USER)
        .stream()
        .collect()
        .await;
    assert_eq!(results.len(), 501);
    assert!(results[..500].iter().all(Result::is_ok));
    let error = results[500].as_ref().unwrap_err();
    assert!(error.is_rate_limited(), "{error:?}");
    assert_eq!(
        error.api().unwrap().retry_after,
        Some(Duration::from_secs(30))
    );
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_absent_ones_are_none() {
    let server = mock_server().await;
    expect("GET", "/api/users/98765/api_keys/424242")
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": KEY, "last_used_at": "2025-11-23T09:00:00+0000", "scopes": ["x"]}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .org(ORG)
        .get_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(key.id, Some(KEY));
    assert_eq!(
        (key.name, key.is_enabled, key.expires_at, key.created_at),
        (None, None, None, None)
    );
    assert!(key.user.is_none());
}

#[tokio::test]
async fn decrypt_is_retried_after_a_503_but_create_is_never_sent_twice() {
    let secret = decrypted();
    let server = mock_server().await;
    expect("POST", "/api/users/98765/api_keys/424242/decrypt")
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"errors": ["Service Unavailable"]})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    expect("POST", "/api/users/98765/api_keys/424242/decrypt")
        .respond_with(ResponseTemplate::new(200).set_body_json(examples::decrypted_api_key()))
        .expect(1)
        .mount(&server)
        .await;
    expect("POST", "/api/users/98765/api_keys")
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"errors": ["Service Unavailable"]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(format!("{}/api", server.uri()))
        .api_key(CALLER_KEY)
        .retry(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let org = client.org(ORG);

    let decrypted = org
        .decrypt_user_api_key()
        .user_id(USER)
        .id(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(decrypted.api_key.expose_secret(), &secret);

    let error = org
        .create_user_api_key()
        .user_id(USER)
        .body(CreateApiKey::builder().name("ci-pipeline"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        error.api().unwrap().message.as_deref(),
        Some("Service Unavailable")
    );
}

#[tokio::test]
async fn decrypt_answers_that_carry_the_secret_but_do_not_decode_never_show_it() {
    let secret = decrypted();
    // Every operation against every malformed response is in hostile_servers.rs; this keeps
    // the secret's side: an answer holding the full secret that fails to decode (or is too
    // large) is a typed error that shows none of it, and one that decodes shows none either.
    let padding = "x".repeat(MALFORMED_LIMIT);
    for (name, body, decodes) in [
        (
            "cut short after the secret",
            format!(r#"{{"api_key": "{secret}", "#),
            false,
        ),
        ("a list", format!(r#"[{{"api_key": "{secret}"}}]"#), false),
        (
            "nested",
            format!(r#"{{"api_key": {{"value": "{secret}"}}}}"#),
            false,
        ),
        (
            "twice",
            format!(r#"{{"api_key": "{secret}", "api_key": "{secret}"}}"#),
            false,
        ),
        (
            "oversized",
            format!(r#"{{"api_key": "{secret}", "padding": "{padding}"}}"#),
            false,
        ),
        (
            "unknown fields",
            format!(r#"{{"api_key": "{secret}", "echo": "{secret}"}}"#),
            true,
        ),
    ] {
        let server = mock_server().await;
        expect("POST", "/api/users/98765/api_keys/424242/decrypt")
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
        let client = Client::builder(format!("{}/api", server.uri()))
            .api_key(CALLER_KEY)
            .retry(RetryPolicy::disabled())
            .max_response_bytes(MALFORMED_LIMIT)
            .build()
            .unwrap();

        let result = client
            .org(ORG)
            .decrypt_user_api_key()
            .user_id(USER)
            .id(KEY)
            .send()
            .await;
        match result {
            Ok(response) if decodes => {
                assert_hidden(&format!("{response:?}"), &secret);
                assert_eq!(response.api_key.expose_secret(), &secret);
            }
            Err(raw) if !decodes => {
                let error = raw;
                let expected = if name == "oversized" {
                    matches!(error, Error::BodyTooLarge { .. })
                } else {
                    matches!(error, Error::Decode { .. })
                };
                assert!(expected, "{name}: {error:?}");
                assert_hidden(&format!("{error:?}"), &secret);
                assert_hidden(&error.to_string(), &secret);
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_server_answering_the_same_full_page_to_every_page_ends_the_stream() {
    let server = mock_server().await;
    expect("GET", "/api/users/98765/api_keys")
        .and(query_param("o", "1234"))
        .and(query_param("limit", "500"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_body(0..500)))
        .expect(2)
        .mount(&server)
        .await;

    let client = client(&server);
    let stream = client.org(ORG).get_user_api_keys().user_id(USER).stream();
    let (items, why) = pagination_end(stream, 2_000).await;

    assert_eq!(items, 500, "the first page only: {why}");
    let pages: Vec<_> = server.received_requests().await.unwrap();
    let asked: Vec<_> = pages
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        asked,
        ["limit=500&o=1234&page=0", "limit=500&o=1234&page=1"]
    );
}

#[tokio::test]
async fn full_pages_past_the_servers_own_size_end_the_stream() {
    let server = mock_server().await;
    // `size: 1200` (more than a page, so a total), yet full pages of fresh keys forever.
    expect("GET", "/api/orgs/1234/api_keys")
        .respond_with(|request: &Request| {
            let page: usize = request
                .url
                .query_pairs()
                .find(|(name, _)| name == "page")
                .and_then(|(_, value)| value.parse().ok())
                .unwrap_or(0);
            let results: Vec<Value> = (page * 500..page * 500 + 500).map(numbered_key).collect();
            ResponseTemplate::new(200).set_body_json(json!({"size": 1200, "results": results}))
        })
        .expect(3)
        .mount(&server)
        .await;

    let client = client(&server);
    let stream = client.org(ORG).get_organization_api_keys().stream();
    let (items, why) = pagination_end(stream, 5_000).await;

    assert_eq!(
        items, 1000,
        "two pages; the third is past 1,200 keys and offers more"
    );
    assert!(why.contains("total"), "{why}");
}
