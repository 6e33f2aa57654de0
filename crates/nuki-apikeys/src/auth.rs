//! How Nuki authenticates: `Authorization: Bearer <token>`, with an API token or an OAuth2
//! access token (REF §1 "Auth").

use apikeys_common::{Credential, Result, Secret, Vendor};

use crate::Client;

impl Vendor for Client {
    const USER_AGENT: &'static str =
        concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

    fn api_key_credential(key: Secret) -> Result<Credential> {
        Credential::bearer(key)
    }
}
