//! How Nuki authenticates: `Authorization: Bearer <token>`, with an API token or an OAuth2
//! access token (<https://developer.nuki.io/t/web-api-authentication/52>).

use apikeys_common::{Credential, Result, Secret, Vendor};

use crate::Client;

impl Vendor for Client {
    const USER_AGENT: &'static str =
        concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

    fn api_key_credential(key: Secret) -> Result<Credential> {
        Credential::bearer(key)
    }
}
