//! Authentication: API key and JWT headers, logging in, and where credentials
//! may go.

use std::time::Duration;

use apikeys_common::testing::{assert_hidden, mock_server};
use serde_json::json;
use thingsboard_apikeys::{Client, Error, LoginOutcome, login, login_outcome};
use uuid::uuid;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const JWT: &str =
    "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJ0ZW5hbnRAdGhpbmdzYm9hcmQub3JnIiwiZXhwIjoxNzY0MDAwMDAwfQ.c2ln";
const REFRESH: &str =
    "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJ0ZW5hbnRAdGhpbmdzYm9hcmQub3JnIiwiZXhwIjoxNzY0NjAwMDAwfQ.c2ln";
const PASSWORD: &str = "tenant-password-canary";
const KEY: uuid::Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

async fn expect_delete_with_credential(server: &MockServer, credential: &str) {
    Mock::given(method("DELETE"))
        .and(path(format!("/api/apiKey/{KEY}")))
        .and(header("x-authorization", credential))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn login_exchanges_the_password_for_a_jwt_sent_as_bearer() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .and(|request: &wiremock::Request| !request.headers.contains_key("x-authorization"))
        .and(body_json(
            json!({"username": "tenant@thingsboard.org", "password": PASSWORD}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": JWT, "refreshToken": REFRESH})),
        )
        .expect(1)
        .mount(&server)
        .await;
    expect_delete_with_credential(&server, &format!("Bearer {JWT}")).await;

    let client = login(
        Client::builder(server.uri()),
        "tenant@thingsboard.org",
        PASSWORD,
    )
    .await
    .unwrap();
    client.delete_api_key().id(KEY).send().await.unwrap();

    assert_hidden(&format!("{client:?}"), JWT);
}

#[tokio::test]
async fn the_login_operation_returns_both_tokens_as_secrets() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": JWT, "refreshToken": REFRESH})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(server.uri()).build().unwrap();
    let body = thingsboard_apikeys::LoginRequest::new("tenant@thingsboard.org", PASSWORD);
    let tokens = client.login().body(body).send().await.unwrap();

    assert_eq!(tokens.token.expose_secret(), JWT);
    assert_eq!(
        tokens.refresh_token.as_ref().unwrap().expose_secret(),
        REFRESH
    );
    assert_hidden(&format!("{tokens:?}"), JWT);
    assert_hidden(&format!("{tokens:?}"), REFRESH);
}

#[tokio::test]
async fn a_wrong_password_is_unauthorized_and_never_echoed() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "status": 401, "message": "Invalid username or password", "errorCode": 10, "timestamp": 1763891299000_i64
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = login(
        Client::builder(server.uri()),
        "tenant@thingsboard.org",
        PASSWORD,
    )
    .await
    .unwrap_err();

    assert!(err.is_unauthorized(), "{err:?}");
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some("Invalid username or password")
    );
    assert_hidden(&format!("{err:?}"), PASSWORD);
}

#[tokio::test]
async fn a_jwt_goes_out_as_bearer_in_x_authorization() {
    let server = mock_server().await;
    expect_delete_with_credential(&server, &format!("Bearer {JWT}")).await;

    let client = Client::builder(server.uri()).jwt(JWT).build().unwrap();

    client.delete_api_key().id(KEY).send().await.unwrap();
}

#[tokio::test]
async fn a_product_name_goes_in_front_of_the_user_agent() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .and(header(
            "user-agent",
            concat!(
                "acme-rotator/2.1 thingsboard-apikeys/",
                env!("CARGO_PKG_VERSION")
            ),
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(server.uri())
        .api_key("tb_k")
        .user_agent("acme-rotator/2.1")
        .build()
        .unwrap();

    client.delete_api_key().id(KEY).send().await.unwrap();
}

#[tokio::test]
async fn a_trailing_slash_on_the_base_url_gives_no_double_slash() {
    let server = mock_server().await;
    expect_delete_with_credential(&server, "ApiKey tb_k").await;

    let client = Client::builder(format!("{}/", server.uri()))
        .api_key("tb_k")
        .build()
        .unwrap();

    client.delete_api_key().id(KEY).send().await.unwrap();
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_host() {
    let elsewhere = mock_server().await; // its catch-all fails the test on any request
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/api/apiKey/{KEY}", elsewhere.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(server.uri())
        .api_key("tb_redirect_canary")
        .build()
        .unwrap();
    let err = client.delete_api_key().id(KEY).send().await.unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(307));
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_same_host_redirect_is_followed_with_the_credential() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/apiKey/{KEY}")))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("/moved/api/apiKey/{KEY}")),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/moved/api/apiKey/{KEY}")))
        .and(header("x-authorization", "ApiKey tb_k"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(server.uri())
        .api_key("tb_k")
        .build()
        .unwrap();

    client.delete_api_key().id(KEY).send().await.unwrap();
}

#[tokio::test]
async fn a_stalled_server_is_a_timeout_error() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(server.uri())
        .api_key("tb_k")
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let err = client.delete_api_key().id(KEY).send().await.unwrap_err();

    assert!(err.is_timeout(), "{err:?}");
}

#[test]
fn clear_text_http_to_a_remote_host_needs_an_opt_in() {
    let err = Client::builder("http://thingsboard.example.com")
        .api_key("tb_k")
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(why) if why.contains("allow_insecure_http")),
        "{err}"
    );

    let client = Client::builder("http://thingsboard.example.com")
        .api_key("tb_k")
        .allow_insecure_http(true)
        .build();
    assert!(client.is_ok());
}

/// A user with two-factor authentication: `RestAwareAuthenticationSuccessHandler` answers
/// a pre-verification token with no refresh token.
async fn mount_two_factor_login(server: &MockServer, times: u64) {
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .and(body_json(
            json!({"username": "tenant@thingsboard.org", "password": PASSWORD}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token": JWT, "refreshToken": null, "scope": "PRE_VERIFICATION_TOKEN"
        })))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_two_factor_login_is_a_typed_outcome_with_the_pre_verification_token() {
    let server = mock_server().await;
    mount_two_factor_login(&server, 1).await;

    let outcome = login_outcome(
        Client::builder(server.uri()),
        "tenant@thingsboard.org",
        PASSWORD,
    )
    .await
    .unwrap();

    let LoginOutcome::TwoFactorRequired {
        pre_verification_token,
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(pre_verification_token.expose_secret(), JWT);
    assert_hidden(&format!("{outcome:?}"), JWT);
}

#[tokio::test]
async fn login_of_a_two_factor_user_says_so_instead_of_a_decode_error() {
    let server = mock_server().await;
    mount_two_factor_login(&server, 1).await;

    let err = login(
        Client::builder(server.uri()),
        "tenant@thingsboard.org",
        PASSWORD,
    )
    .await
    .unwrap_err();

    assert!(
        matches!(&err, Error::InvalidRequest(why) if why.contains("two-factor")),
        "{err:?}"
    );
    assert_hidden(&format!("{err:?} {err}"), JWT);
}

#[tokio::test]
async fn a_complete_login_is_logged_in() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .and(path("/api/auth/login"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"token": JWT, "refreshToken": REFRESH})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let outcome = login_outcome(
        Client::builder(server.uri()),
        "tenant@thingsboard.org",
        PASSWORD,
    )
    .await
    .unwrap();
    assert!(matches!(outcome, LoginOutcome::LoggedIn(_)), "{outcome:?}");
}
