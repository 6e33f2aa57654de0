//! ThingsBoard authenticates with `X-Authorization: ApiKey <value>` or `Bearer <jwt>`
//! (`ApiKeyHeaderTokenExtractor.java` and `JwtHeaderTokenExtractor.java` in
//! `thingsboard/thingsboard`, under `application/src/main/java/org/thingsboard/server/`
//! `service/security/auth/extractor/`), and logging in for a JWT.

use std::fmt;

use apikeys_common::{Error, Result, Secret};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Client, ClientBuilder};

/// Logs in with a username and password and returns a client that sends the JWT.
///
/// The JWT expires (after 2.5 hours by default): log in again, or use
/// [`Client::login`] yourself to keep the refresh token.
///
/// ```no_run
/// # async fn demo() -> thingsboard_apikeys::Result<()> {
/// use thingsboard_apikeys::{Client, login};
///
/// let builder = Client::builder("https://thingsboard.cloud");
/// let client = login(builder, "tenant@thingsboard.org", "tenant").await?;
/// # Ok(())
/// # }
/// ```
///
/// A user with two-factor authentication cannot log in this way: the server answers a
/// pre-verification token, and this is an [`Error::InvalidRequest`] that says so. Use
/// [`login_outcome`] to receive that token and act on it.
pub async fn login(
    builder: ClientBuilder,
    username: impl Into<String>,
    password: impl Into<Secret>,
) -> Result<Client> {
    match login_outcome(builder, username, password).await? {
        LoginOutcome::LoggedIn(client) => Ok(client),
        LoginOutcome::TwoFactorRequired { .. } => Err(Error::InvalidRequest(
            "this ThingsBoard user has two-factor authentication: the login answered a \
             pre-verification token, good only for the two-factor endpoints (use \
             `login_outcome`, or an API key)"
                .into(),
        )),
    }
}

/// What a ThingsBoard login ends in.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// Logged in: a client that sends the JWT.
    LoggedIn(Client),
    /// The user has two-factor authentication: the server answered `refreshToken: null`
    /// and `scope: "PRE_VERIFICATION_TOKEN"` (`RestAwareAuthenticationSuccessHandler` in
    /// `thingsboard/thingsboard`). The token is good only for the two-factor endpoints,
    /// which this crate does not cover.
    TwoFactorRequired {
        /// The pre-verification token (redacted when printed).
        pre_verification_token: Secret,
    },
}

/// The `scope` of a login answer whose token is good only for two-factor verification.
pub const PRE_VERIFICATION_SCOPE: &str = "PRE_VERIFICATION_TOKEN";

/// Logs in with a username and password, telling a complete login from one that needs a
/// second factor.
///
/// ```no_run
/// # async fn demo() -> thingsboard_apikeys::Result<()> {
/// use thingsboard_apikeys::{Client, LoginOutcome, login_outcome};
///
/// let builder = Client::builder("https://thingsboard.cloud");
/// match login_outcome(builder, "tenant@thingsboard.org", "tenant").await? {
///     LoginOutcome::LoggedIn(client) => { let _ = client; }
///     LoginOutcome::TwoFactorRequired { .. } => eprintln!("use an API key instead"),
///     _ => {}
/// }
/// # Ok(())
/// # }
/// ```
pub async fn login_outcome(
    builder: ClientBuilder,
    username: impl Into<String>,
    password: impl Into<Secret>,
) -> Result<LoginOutcome> {
    let anonymous = builder.clone().build()?;
    let tokens = anonymous
        .login()
        .body(LoginRequest::new(username, password))
        .send()
        .await?;
    let pending =
        tokens.scope.as_deref() == Some(PRE_VERIFICATION_SCOPE) || tokens.refresh_token.is_none();
    if pending {
        return Ok(LoginOutcome::TwoFactorRequired {
            pre_verification_token: tokens.token,
        });
    }
    Ok(LoginOutcome::LoggedIn(builder.jwt(tokens.token).build()?))
}

/// The body of [`Client::login`]: a username and a password that is never printed.
#[derive(Clone, Debug, Serialize)]
pub struct LoginRequest {
    username: String,
    #[serde(serialize_with = "expose")]
    password: Secret,
}

impl LoginRequest {
    /// A login with the user's e-mail address and password.
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        LoginRequest {
            username: username.into(),
            password: password.into(),
        }
    }
}

/// The password is the one secret that must reach the wire, and only in this body.
fn expose<S: Serializer>(password: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(password.expose_secret())
}

/// The secret value of an API key, as [`Client::save_api_key`] returns it once.
///
/// Redacted wherever it is printed or serialized; read it with
/// [`ApiKeyValue::expose_secret`], or pass it to [`Client::builder`]'s `.api_key(..)`.
#[derive(Clone)]
pub struct ApiKeyValue(Secret);

impl ApiKeyValue {
    /// The bare key value (`tb_…`), as sent in `X-Authorization: ApiKey <value>`.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<ApiKeyValue> for Secret {
    fn from(value: ApiKeyValue) -> Self {
        value.0
    }
}

impl fmt::Debug for ApiKeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyValue({})", self.0)
    }
}

impl Serialize for ApiKeyValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Some 4.x servers may return the value as `ApiKey <value>` (the published spec says so, and
/// an older `ApiKeyControllerTest.java` expected it); the prefix is a header scheme, not part
/// of the key, so it is dropped here, once.
impl<'de> Deserialize<'de> for ApiKeyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        let bare = value.strip_prefix("ApiKey ").unwrap_or(&value);
        Ok(ApiKeyValue(Secret::from(bare)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_prefix_is_stripped_once() {
        let plain: ApiKeyValue = serde_json::from_str(r#""tb_abc""#).unwrap();
        let prefixed: ApiKeyValue = serde_json::from_str(r#""ApiKey tb_abc""#).unwrap();
        assert_eq!(plain.expose_secret(), "tb_abc");
        assert_eq!(prefixed.expose_secret(), "tb_abc");
    }

    #[test]
    fn login_bodies_send_the_password_but_never_print_it() {
        let body = LoginRequest::new("tenant@thingsboard.org", "canary-pw");
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"username": "tenant@thingsboard.org", "password": "canary-pw"})
        );
        assert!(!format!("{body:?}").contains("canary"));
    }
}
