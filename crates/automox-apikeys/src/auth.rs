//! The request rule progenitor cannot carry from the fragment. (The API key itself is the
//! Bearer token on every request, with no login or refresh: the published spec's
//! `bearerAuth` scheme, in `AutomoxCommunity/openapi-defs`; the fragment says so and the
//! generator writes it.)

use crate::STREAM_PAGE_LIMIT;

/// The fragment bounds `limit` to 1..=500, but progenitor only carries the lower bound
/// (as `NonZeroU64`): a larger page is refused here rather than left to the server.
pub(crate) fn prepare_request(request: &mut reqwest::Request) -> std::result::Result<(), String> {
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
