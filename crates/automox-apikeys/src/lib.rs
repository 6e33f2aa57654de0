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
mod org;
mod paging;
mod timestamp;

pub use apikeys_common::{ApiError, Error, Page, Result, RetryPolicy, Secret};
pub use generated::{Client, builder, types};
pub use lifecycle::UserKeys;
pub use org::Org;
pub use paging::STREAM_PAGE_LIMIT;
pub use timestamp::Timestamp;

/// The Automox Console API, which every path is relative to (the published spec's `servers`).
pub const BASE_URL: &str = "https://console.automox.com/api";

/// Builds a [`Client`]: see [`Client::builder`].
pub type ClientBuilder = apikeys_common::ClientBuilder<Client>;

impl Client {
    /// Starts building a client for the Automox API at `base_url`: [`BASE_URL`], or a
    /// stand-in for tests. The API key goes in with `.api_key(..)`.
    ///
    /// ```no_run
    /// # fn demo() -> automox_apikeys::Result<()> {
    /// use std::time::Duration;
    /// use automox_apikeys::{BASE_URL, Client};
    ///
    /// let client = Client::builder(BASE_URL)
    ///     .api_key("21636369-8b52-4b4a-97b7-50923ceb3ffd")
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }
}
