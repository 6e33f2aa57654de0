//! How SensorBucket authenticates: `Authorization: Bearer <api key>`, or a logged-in
//! user's session cookie (the bundled spec's `APIKey` and `CookieSession` schemes, in
//! `sensorbucket/SensorBucket`, `tools/oathkeeper/bundled_openapi.yaml`).

use apikeys_common::{Credential, Error, Result, Secret};

/// The session cookie the server's authentication gateway reads: the gateway configuration
/// in `sensorbucket/SensorBucket` (`tools/docker-compose/oathkeeper_config/config.yaml`)
/// accepts only this cookie; the published spec names it `SID`, and production's is not
/// published.
pub const SESSION_COOKIE: &str = "ory_kratos_session";

/// A logged-in user's session, sent as `Cookie: ory_kratos_session=<value>`; pass it to
/// the builder's `.credential(..)`.
///
/// Fails when the value has a character a cookie cannot carry (`;`, `,`, a space, a
/// quote, a control character); the error does not contain the value.
///
/// ```no_run
/// # fn demo() -> sensorbucket_apikeys::Result<()> {
/// use sensorbucket_apikeys::{Client, session_cookie};
///
/// let client = Client::builder("https://sensorbucket.nl/api")
///     .credential(session_cookie("MTcxNjY0NjQ4NnxEd...")?)
///     .build()?;
/// # Ok(())
/// # }
/// ```
pub fn session_cookie(value: impl Into<Secret>) -> Result<Credential> {
    session_cookie_named(SESSION_COOKIE, value)
}

/// A session sent in a cookie of another name, for a deployment whose gateway reads a
/// different one (the published spec says `SID`).
pub fn session_cookie_named(name: &str, value: impl Into<Secret>) -> Result<Credential> {
    let value = value.into();
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(Error::InvalidRequest(format!(
            "`{name}` cannot be a cookie name"
        )));
    }
    let bare = value.expose_secret();
    if bare.is_empty() || !bare.bytes().all(is_cookie_octet) {
        return Err(Error::InvalidRequest(format!(
            "the `{name}` session has characters a cookie cannot carry"
        )));
    }
    Credential::header("cookie", "", Secret::from(format!("{name}={bare}")))
}

/// RFC 6265 `cookie-octet`: printable ASCII except space, `"`, `,`, `;` and `\`.
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// RFC 7230 `tchar`, what a cookie name is made of.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_that_would_smuggle_another_cookie_are_refused_without_echoing() {
        for bad in [
            "canary;admin=1",
            "canary value",
            "canary,x",
            "canary\"",
            "",
            "canary\n",
        ] {
            let err = session_cookie(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{bad:?}: {err:?}");
            assert!(!err.to_string().contains("canary"), "{err}");
        }
        for bad_name in ["", "a=b", "a b", "a;b"] {
            assert!(session_cookie_named(bad_name, "v").is_err(), "{bad_name:?}");
        }
    }

    #[test]
    fn a_session_cookie_is_a_sensitive_cookie_header() {
        let credential = session_cookie("MTcx-_=.Zw").unwrap();
        assert_eq!(credential.header_name(), "cookie");
        assert!(!format!("{credential:?}").contains("MTcx"));
        assert!(session_cookie_named("SID", "abc").is_ok());
    }
}
