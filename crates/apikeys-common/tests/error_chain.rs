//! issue 25, point 3: an error that returns its cause from `source()` does not also print
//! it in `Display`, so that a report walking the chain (anyhow's `{:#}`) says each thing once.

use apikeys_common::{
    __private::reqwest::{self, StatusCode},
    CreatedKey, Error, KeyInfo, PartialKey, RotationError, Secret,
};

/// What anyhow's `{:#}` prints: each error of the chain, joined with ": ".
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut shown = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        shown.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    shown
}

/// Every error of the chain says something its cause does not.
fn assert_says_each_thing_once(error: &(dyn std::error::Error + 'static)) {
    let mut current = error;
    while let Some(cause) = current.source() {
        let (outer, inner) = (current.to_string(), cause.to_string());
        assert!(
            !outer.contains(&inner),
            "`{outer}` repeats its source `{inner}`; the chain reads: {}",
            chain(error)
        );
        current = cause;
    }
}

async fn refused() -> Error {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let error = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/keys"))
        .send()
        .await
        .unwrap_err();
    Error::from(error)
}

fn missing_file() -> Error {
    Error::delivery(std::fs::read("/nonexistent/apikeys/secret").unwrap_err())
}

fn created() -> CreatedKey {
    CreatedKey::new(KeyInfo::new("k-2"), Secret::new("tb_new_secret"))
}

fn unavailable() -> Error {
    Error::UnexpectedStatus(StatusCode::SERVICE_UNAVAILABLE)
}

#[tokio::test]
async fn no_error_prints_its_source_again() {
    let errors: Vec<Box<dyn std::error::Error + 'static>> = vec![
        Box::new(refused().await),
        Box::new(Error::after_create(
            PartialKey::new().id("k-1").secret(Secret::new("tb_secret")),
            refused().await,
        )),
        Box::new(missing_file()),
        Box::new(RotationError::Deliver {
            created: created(),
            error: missing_file(),
            unrevoked: Some(unavailable()),
        }),
        Box::new(RotationError::Create(Error::after_create(
            PartialKey::new().id("k-1"),
            unavailable(),
        ))),
        Box::new(RotationError::Confirm {
            created: created(),
            error: refused().await,
        }),
    ];
    // Shown with `--nocapture`: the renderings the closing note of issue 25 quotes.
    for error in &errors {
        println!("{}", chain(error.as_ref()));
    }
    for error in &errors {
        assert_says_each_thing_once(error.as_ref());
        assert!(!chain(error.as_ref()).contains("secret\u{0}"));
        assert!(!format!("{} {error:?}", chain(error.as_ref())).contains("tb_"));
    }
}

// issue 25, point 2: the delivery callback borrows from its caller (a `&Path`), with no
// `'static` needed. This compiles, or the test does not build.
#[allow(dead_code)]
async fn deliver_to(
    keys: &dyn apikeys_common::KeyLifecycle,
    path: &std::path::Path,
) -> Result<CreatedKey, RotationError> {
    apikeys_common::rotate_with(
        keys,
        "42",
        &apikeys_common::NewKey::named("ci"),
        async |created: &CreatedKey| {
            std::fs::write(path, created.secret.expose_secret()).map_err(Error::delivery)
        },
    )
    .await
}
