//! A caller's own `reqwest::Client` given to the builder: it sends the requests, and the
//! credential and retries still apply; builder settings it would silently drop are refused.

use std::time::Duration;

use apikeys_common::testing::mock_server;
use thingsboard_apikeys::{Client, Error, RetryPolicy};
use uuid::uuid;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

const KEY: &str = "tb_own_client_UvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA";
const ID: uuid::Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

fn own_client() -> reqwest::Client {
    // With `rustls-ring`, reqwest has no crypto provider of its own: an application that
    // builds its own client hands it the builder's TLS configuration (the README says so).
    let builder = reqwest::Client::builder();
    #[cfg(feature = "rustls-ring")]
    let builder = builder.tls_backend_preconfigured(apikeys_common::rustls_ring_config().unwrap());
    builder
        .user_agent("my-app/1.0")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_caller_supplied_client_sends_the_credential() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/apiKey/{ID}")))
        .and(header("x-authorization", format!("ApiKey {KEY}")))
        // The caller's client sent it, not one the builder made.
        .and(header("user-agent", "my-app/1.0"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(server.uri())
        .http_client(own_client())
        .api_key(KEY)
        .build()
        .unwrap();
    client.delete_api_key().id(ID).send().await.unwrap();
}

#[tokio::test]
async fn a_caller_supplied_client_still_retries() {
    let server = mock_server().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/apiKey/{ID}")))
        .and(header("x-authorization", format!("ApiKey {KEY}")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/apiKey/{ID}")))
        .and(header("x-authorization", format!("ApiKey {KEY}")))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::builder(server.uri())
        .http_client(own_client())
        .api_key(KEY)
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    client.delete_api_key().id(ID).send().await.unwrap();
}

#[tokio::test]
async fn settings_of_the_builders_own_client_are_refused_with_a_caller_supplied_one() {
    let with_timeout = Client::builder("https://thingsboard.cloud")
        .timeout(Duration::from_secs(3))
        .user_agent("ignored/1.0")
        .http_client(own_client())
        .build();
    let Err(Error::InvalidRequest(message)) = with_timeout else {
        panic!("{with_timeout:?}");
    };
    assert!(message.contains("`timeout`, `user_agent`"), "{message}");

    // The base URL is still checked.
    let err = Client::builder("http://tb.example.com")
        .http_client(own_client())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("allow_insecure_http"), "{err}");
}
