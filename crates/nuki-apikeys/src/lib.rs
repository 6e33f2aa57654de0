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

pub use apikeys_common::{ApiError, Error, Result, RetryPolicy, Secret};
pub use generated::{Client, builder, types};
pub use lifecycle::AccountKeys;

/// Builds a [`Client`]: see [`Client::builder`].
pub type ClientBuilder = apikeys_common::ClientBuilder<Client>;

/// The Nuki Web API's address.
pub const BASE_URL: &str = "https://api.nuki.io";

impl Client {
    /// Starts building a client for the Nuki Web API at `base_url`: [`BASE_URL`], or a
    /// test server. The credential is an API token from Nuki Web (MENU > API) or an OAuth2
    /// access token with the `account` scope, sent as `Authorization: Bearer <token>`.
    ///
    /// ```no_run
    /// # async fn demo() -> nuki_apikeys::Result<()> {
    /// use std::time::Duration;
    /// use nuki_apikeys::{Client, BASE_URL};
    ///
    /// let client = Client::builder(BASE_URL)
    ///     .api_key("7b2e4f10a9c3d8e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4")
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }
}
