//! How Automox authenticates: the API key is the Bearer token, `Authorization: Bearer
//! <key>`, on every request; there is no login or refresh (the published spec's
//! `bearerAuth` scheme, in `AutomoxCommunity/openapi-defs`, `openapi/ax-console/openapi.yaml`).

use apikeys_common::{Credential, Result, Secret, Vendor};

use crate::Client;

impl Vendor for Client {
    const USER_AGENT: &'static str =
        concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

    fn api_key_credential(key: Secret) -> Result<Credential> {
        Credential::bearer(key)
    }
}
