#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod body;
mod client;
mod constraints;
mod error;
pub mod hooks;
mod lifecycle;
pub mod odata;
mod open_enum;
pub mod paging;
pub mod patch;
mod retry;
mod secret;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
// Test helpers fail by panicking, as assertions do.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
pub mod testing;
#[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
mod tls;
#[cfg(feature = "rustls-ring")]
pub use tls::rustls_ring_config;

pub use client::{
    Checked, ClientBuilder, ClientState, Credential, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, GeneratedClient, JwtAuth, Vendor,
    normalize_base_url, same_origin_redirects,
};
pub use error::{ApiError, Error, ErrorBody, Result, retry_after};
pub use lifecycle::{
    CreatedKey, KeyAbilities, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, PartialKey, RotationError,
    numeric_id, one_off_marker, rotate_with,
};
pub use paging::{MAX_PAGES, Page, paginate};
/// The reqwest these crates are built on (0.13): [`ClientBuilder::http_client`] takes its
/// `Client`. Name it through here (`apikeys_common::reqwest::Client`, or `<vendor
/// crate>::reqwest::Client`) when your own crate depends on another reqwest.
pub use reqwest;
pub use retry::RetryPolicy;
pub use secret::Secret;

/// What every vendor crate re-exports at its root (`pub use apikeys_common::reexport::*`), so
/// that its users depend on the vendor crate alone and meet the same names in each.
pub mod reexport {
    // What the lifecycle needs too (rotating without losing a secret), so that no user
    // needs apikeys-common for it.
    pub use crate::{
        ApiError, CreatedKey, Credential, Error, KeyAbilities, KeyInfo, KeyLifecycle, KeyUpdate,
        NewKey, PartialKey, Result, RetryPolicy, RotationError, Secret, reqwest, rotate_with,
    };
}

/// What the generated code reaches through this crate; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::body::{Body, QuerySome};
    pub use crate::error::{error_from_text, error_text};
    pub use futures::Stream;
    pub use progenitor_client::{
        ClientHooks, ClientInfo, Error as GeneratedError, OperationInfo, ResponseValue,
    };
    pub use reqwest;
    pub use serde;
}
