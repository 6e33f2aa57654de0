//! What a downstream crate that depends on `balena-apikeys` alone sees: every name of the
//! public contract is exported here, a call returns the crate's one `Error`, and that error
//! survives a boxing error type (`anyhow`) and shows no response header.

use apikeys_common::testing::{
    CANARY, assert_hidden, assert_shows_no_header, mock_server, with_header_canaries,
};
use balena_apikeys::{Client, CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

// The fragment's examples, read from the source: the `testing` feature that exports them
// could be turned on only by the crate depending on itself.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

/// The key-lifecycle names a caller writes down, from this crate alone.
#[allow(dead_code)]
fn the_lifecycle_names(
    _: &dyn KeyLifecycle,
    _: NewKey,
    _: KeyUpdate,
    _: KeyInfo,
    _: CreatedKey,
    _: Secret,
) {
}

#[tokio::test]
async fn a_list_error_boxed_into_anyhow_is_still_the_crate_error_and_shows_no_header() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/v7/api_key"))
        .respond_with(with_header_canaries(
            ResponseTemplate::new(400).set_body_json(examples::balena_error()),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .api_key(CANARY)
        .build()
        .unwrap();

    let result: Result<_, Error> = client.api_key().get_all().send().await;

    let boxed = anyhow::Error::from(result.unwrap_err());
    let error = boxed
        .downcast_ref::<Error>()
        .expect("`api_key().get_all` fails with the crate's `Error`");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert!(
        error
            .to_string()
            .contains("Key expiry date should be a valid date"),
        "{error}"
    );
    let shown = [
        format!("{boxed}"),
        format!("{boxed:#}"),
        format!("{boxed:?}"),
        format!("{boxed:#?}"),
        format!("{error:#?}"),
    ];
    assert_shows_no_header(&shown);
    for text in &shown {
        assert_hidden(text, CANARY);
    }
}
