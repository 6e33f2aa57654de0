#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod api_keys;
mod auth;
mod error_body;
#[rustfmt::skip]
#[allow(missing_docs, unused_imports, clippy::unwrap_used, clippy::expect_used)]
mod generated;
mod lifecycle;
pub mod odata;
mod paging;
mod update;

pub use api_keys::{ApiKeys, ApplicationRef, DeviceRef, ListRequest};
pub use apikeys_common::{ApiError, Error, Page, Result, RetryPolicy, Secret};
pub use generated::{Client, builder, types};
pub use lifecycle::UserKeys;
pub use paging::DEFAULT_PAGE_SIZE;
pub use update::ApiKeyUpdate;

/// Builds a [`Client`]: see [`Client::builder`].
pub type ClientBuilder = apikeys_common::ClientBuilder<Client>;

impl Client {
    /// Starts building a client for the balena API at `base_url`: balenaCloud's
    /// `https://api.balena-cloud.com`, or your openBalena's `https://api.<domain>`.
    ///
    /// Authenticate with `.api_key(..)` (an API key) or `.jwt(..)` (a session token; needed
    /// to create, update or revoke keys): both are sent as `Authorization: Bearer …`.
    ///
    /// ```no_run
    /// # async fn demo() -> balena_apikeys::Result<()> {
    /// use std::time::Duration;
    /// use balena_apikeys::Client;
    ///
    /// let client = Client::builder("https://api.balena-cloud.com")
    ///     .api_key("Kq3XbN7v2RmT9cLpW4yHs8eJ1aFz6UdG")
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }
}
