#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod auth;
mod error_body;
#[rustfmt::skip]
#[allow(missing_docs, unused_imports, clippy::unwrap_used, clippy::expect_used)]
mod generated;
mod lifecycle;
mod paging;

pub use apikeys_common::{ApiError, Credential, Error, Page, Result, RetryPolicy, Secret};
pub use auth::{SESSION_COOKIE, session_cookie, session_cookie_named};
pub use generated::{Client, builder, types};
pub use lifecycle::TenantKeys;

/// Builds a [`Client`]: see [`Client::builder`].
pub type ClientBuilder = apikeys_common::ClientBuilder<Client>;

/// SensorBucket's public API (the bundled spec's production server).
pub const BASE_URL: &str = "https://sensorbucket.nl/api";

impl Client {
    /// Starts building a client for the SensorBucket API at `base_url`, including its
    /// `/api` prefix: [`BASE_URL`], or your own deployment's.
    ///
    /// ```no_run
    /// # async fn demo() -> sensorbucket_apikeys::Result<()> {
    /// use std::time::Duration;
    /// use sensorbucket_apikeys::{Client, BASE_URL};
    ///
    /// let client = Client::builder(BASE_URL)
    ///     .api_key("MjU5MzE1NDgwMjE2NTMwMTEyODo2MjY2MDdkMGViY2Q5MGRhMTRkZWE4NGY4MjEzYjRiNw")
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }
}
