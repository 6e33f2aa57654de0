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
mod ids;
mod lifecycle;
mod paging;

pub use apikeys_common::{ApiError, Error, Page, Result, RetryPolicy, Secret};
pub use auth::{ApiKeyValue, LoginRequest, login};
pub use generated::{Client, builder, types};
pub use lifecycle::UserKeys;

/// Builds a [`Client`]: see [`Client::builder`].
pub type ClientBuilder = apikeys_common::ClientBuilder<Client>;

impl Client {
    /// Starts building a client for the ThingsBoard server at `base_url` (its root, e.g.
    /// `https://thingsboard.cloud`; every path starts with `/api`).
    ///
    /// ```no_run
    /// # async fn demo() -> thingsboard_apikeys::Result<()> {
    /// use std::time::Duration;
    /// use thingsboard_apikeys::Client;
    ///
    /// let client = Client::builder("https://thingsboard.cloud")
    ///     .api_key("tb_UvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA")
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }
}
