//! How Automox authenticates: the API key is the Bearer token, `Authorization: Bearer
//! <key>`, on every request; there is no login or refresh (the published spec's
//! `bearerAuth` scheme, in `AutomoxCommunity/openapi-defs`, `openapi/ax-console/openapi.yaml`).

use apikeys_common::{Credential, Result, Secret, Vendor};

use crate::{Client, STREAM_PAGE_LIMIT};

impl Vendor for Client {
    const USER_AGENT: &'static str =
        concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

    fn api_key_credential(key: Secret) -> Result<Credential> {
        Credential::bearer(key)
    }

    /// The fragment bounds `limit` to 1..=500, but progenitor only carries the lower bound
    /// (as `NonZeroU64`): a larger page is refused here rather than left to the server.
    fn prepare_request(request: &mut reqwest::Request) -> std::result::Result<(), String> {
        let too_large = request.url().query_pairs().any(|(name, value)| {
            name == "limit" && value.parse::<u64>().is_ok_and(|n| n > STREAM_PAGE_LIMIT)
        });
        if too_large {
            return Err(format!(
                "limit must be from 1 to {STREAM_PAGE_LIMIT}, the largest page Automox serves"
            ));
        }
        Ok(())
    }
}
