//! Building a vendor client: base URL, credential, timeouts and user agent, checked once.

use std::future::Future;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::redirect;
use url::Url;

use crate::{Error, Result, RetryPolicy, Secret};

/// How long a whole request may take by default, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many same-origin redirects are followed.
const MAX_REDIRECTS: usize = 5;

/// A credential sent on every request as one sensitive header.
#[derive(Clone)]
pub struct Credential {
    name: HeaderName,
    value: HeaderValue,
    secret: Secret,
}

impl Credential {
    /// A credential sent as `<name>: <scheme> <secret>` (e.g. `Authorization: Bearer …`),
    /// or `<name>: <secret>` when `scheme` is empty.
    ///
    /// Fails when `name` is not a header name (`X-Api Key`, say) or the secret cannot be a
    /// header value (a newline, say, or anything but ASCII: RFC 9110 keeps other bytes for
    /// obsolete text, and http 1.6 refuses them); the error does not contain the secret.
    pub fn header(name: &str, scheme: &str, secret: Secret) -> Result<Self> {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Error::InvalidRequest(format!("`{name}` cannot be the name of an HTTP header"))
        })?;
        let text = match scheme {
            "" => secret.expose_secret().to_string(),
            scheme => format!("{scheme} {}", secret.expose_secret()),
        };
        let refused = || {
            Error::InvalidRequest(format!(
                "the credential for `{name}` has characters a header cannot carry"
            ))
        };
        // Checked here too, so that a non-ASCII secret fails the same way whichever http
        // 1.x a build resolves (1.5 took it as opaque bytes).
        if !text.is_ascii() {
            return Err(refused());
        }
        let mut value = HeaderValue::from_str(&text).map_err(|_| refused())?;
        value.set_sensitive(true);
        Ok(Credential {
            name: header,
            value,
            secret,
        })
    }

    /// The most common credential: `Authorization: Bearer <secret>`.
    pub fn bearer(secret: Secret) -> Result<Self> {
        Credential::header("authorization", "Bearer", secret)
    }

    /// HTTP basic authentication: `Authorization: Basic base64(<user>:<password>)`, the
    /// secret given as `user:password`.
    ///
    /// Fails when the secret has no `:` (the error does not contain the secret).
    pub fn basic(secret: Secret) -> Result<Self> {
        if !secret.expose_secret().contains(':') {
            return Err(Error::InvalidRequest(
                "a basic-auth credential is `user:password`: the one given has no `:`".into(),
            ));
        }
        let encoded = base64(secret.expose_secret().as_bytes());
        let mut credential = Credential::header("authorization", "Basic", Secret::from(encoded))?;
        credential.secret = secret;
        Ok(credential)
    }

    /// The header this credential is sent in.
    pub fn header_name(&self) -> &HeaderName {
        &self.name
    }

    pub(crate) fn header_value(&self) -> &HeaderValue {
        &self.value
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }
}

/// Standard base64 with padding (RFC 4648), for [`Credential::basic`].
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("header", &self.name)
            .finish_non_exhaustive()
    }
}

/// The most a success response body may weigh by default (8 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// What the request hooks need from a client: its credential, retry policy and response
/// size limit. The generated `Client` carries one as its inner state.
#[derive(Clone, Debug)]
pub struct ClientState {
    pub(crate) credential: Option<Credential>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: usize,
    /// Who the credential belongs to, once asked; clones share it, as they share the
    /// credential (which never changes after the build).
    pub(crate) caller: Arc<OnceLock<i64>>,
}

impl Default for ClientState {
    fn default() -> Self {
        ClientState {
            credential: None,
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            caller: Arc::default(),
        }
    }
}

impl ClientState {
    /// The caller's numeric id (e.g. balena's actor, from `whoami`): `ask`ed the first
    /// time, then remembered for this client and its clones, as the vendors' own SDKs
    /// remember it per client. A failed ask is not remembered; two first calls at once may
    /// both ask.
    pub async fn caller_id<F>(&self, ask: impl FnOnce() -> F) -> Result<i64>
    where
        F: Future<Output = Result<i64>>,
    {
        if let Some(id) = self.caller.get() {
            return Ok(*id);
        }
        let id = ask().await?;
        Ok(*self.caller.get_or_init(|| id))
    }
}

/// A generated client, as the `generated_client!` macro (emitted by `cargo xtask codegen`)
/// describes it to the builder.
pub trait GeneratedClient: Sized {
    /// Wraps an HTTP client configured by [`ClientBuilder`]. Only the builder can call it:
    /// it alone makes the [`Checked`] it takes.
    fn from_parts(
        base_url: &str,
        http: reqwest::Client,
        state: ClientState,
        checked: Checked,
    ) -> Self;
}

/// Proof that [`ClientBuilder::build`] checked the base URL and the settings. Nothing else
/// can make one, so no public path builds a client around the builder's checks.
///
/// ```compile_fail
/// let forged = apikeys_common::Checked(());
/// ```
#[derive(Debug)]
pub struct Checked(());

/// What the shared builder needs to know of a vendor. Each vendor crate implements it for
/// its `Client`.
pub trait Vendor: GeneratedClient {
    /// Sent as `User-Agent`: `<crate>/<version>`.
    const USER_AGENT: &'static str;

    /// The vendor's short name (`thingsboard`), as [`KeyLifecycle::vendor`] says it: the
    /// `vendor` field of the `apikeys.request` span.
    ///
    /// [`KeyLifecycle::vendor`]: crate::KeyLifecycle::vendor
    const NAME: &'static str;

    /// How the vendor expects an API key (or API token) to be sent.
    fn api_key_credential(key: Secret) -> Result<Credential>;

    /// A last change to every request before it is sent, for wire rules the generator
    /// cannot express (balena's OData query syntax, say). Nothing by default; an `Err`
    /// refuses the request with that message.
    fn prepare_request(request: &mut reqwest::Request) -> std::result::Result<(), String> {
        let _ = request;
        Ok(())
    }
}

/// Vendors whose users also sign in with a JWT (ThingsBoard).
pub trait JwtAuth: Vendor {
    /// How the vendor expects the JWT to be sent.
    fn jwt_credential(jwt: Secret) -> Result<Credential>;
}

/// Builds a vendor's `Client`; every vendor crate offers it as `Client::builder(base_url)`.
///
/// Nothing is checked until [`ClientBuilder::build`], which reports the first problem.
#[must_use]
pub struct ClientBuilder<V> {
    base_url: String,
    credential: Option<Result<Credential>>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: Option<String>,
    allow_insecure_http: bool,
    retry: RetryPolicy,
    max_response_bytes: usize,
    /// PEM files or bundles to trust on top of the platform's roots.
    root_certificates: Vec<Vec<u8>>,
    /// The caller's own HTTP client, used instead of one made here.
    http_client: Option<reqwest::Client>,
    /// The settings called that configure the HTTP client made here, so that they are not
    /// silently dropped when the caller brings their own.
    http_settings: Vec<&'static str>,
    vendor: PhantomData<fn() -> V>,
}

impl<V> Clone for ClientBuilder<V> {
    fn clone(&self) -> Self {
        ClientBuilder {
            base_url: self.base_url.clone(),
            credential: self.credential.as_ref().map(|c| match c {
                Ok(credential) => Ok(credential.clone()),
                Err(e) => Err(Error::InvalidRequest(e.to_string())),
            }),
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            user_agent: self.user_agent.clone(),
            allow_insecure_http: self.allow_insecure_http,
            retry: self.retry.clone(),
            max_response_bytes: self.max_response_bytes,
            root_certificates: self.root_certificates.clone(),
            http_client: self.http_client.clone(),
            http_settings: self.http_settings.clone(),
            vendor: PhantomData,
        }
    }
}

impl<V> std::fmt::Debug for ClientBuilder<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &crate::error::redact_url(&self.base_url))
            .field(
                "credential",
                &self.credential.as_ref().map(|c| c.as_ref().ok()),
            )
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("root_certificates", &self.root_certificates.len())
            .field("http_client", &self.http_client.is_some())
            .finish()
    }
}

impl<V: Vendor> ClientBuilder<V> {
    /// Starts a client for the API at `base_url` (scheme, host and any path prefix).
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientBuilder {
            base_url: base_url.into(),
            credential: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: None,
            allow_insecure_http: false,
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_certificates: Vec::new(),
            http_client: None,
            http_settings: Vec::new(),
            vendor: PhantomData,
        }
    }

    /// Authenticates with an API key, sent the way the vendor expects.
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.credential = Some(V::api_key_credential(key.into()));
        self
    }

    /// Authenticates with a credential built by hand.
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(Ok(credential));
        self
    }

    /// Limits how long a whole request may take, body included (default 30 s).
    ///
    /// A setting of the HTTP client the builder makes: refused with
    /// [`http_client`](Self::http_client).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.http_setting("timeout");
        self
    }

    /// Limits how long connecting may take (default 10 s).
    ///
    /// A setting of the HTTP client the builder makes: refused with
    /// [`http_client`](Self::http_client).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self.http_setting("connect_timeout");
        self
    }

    /// Puts `product` in front of the crate's own `User-Agent` (`<product> <crate>/<version>`).
    ///
    /// A setting of the HTTP client the builder makes: refused with
    /// [`http_client`](Self::http_client).
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self.http_setting("user_agent");
        self
    }

    /// Also trusts the certificates of a PEM file or bundle (`-----BEGIN CERTIFICATE-----`)
    /// as roots, on top of the platform's: for a self-hosted server behind a private CA.
    /// May be called more than once. [`build`](Self::build) refuses a PEM without a
    /// certificate with [`Error::InvalidRequest`].
    ///
    /// A setting of the HTTP client the builder makes: refused with
    /// [`http_client`](Self::http_client) (add the certificate to your own client instead).
    #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")))
    )]
    pub fn add_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self.http_setting("add_root_certificate");
        self
    }

    /// Sends every request through the caller's own `reqwest::Client` (a proxy, a custom
    /// TLS setup, a connection pool shared with the rest of the application) instead of
    /// one made by the builder.
    ///
    /// `client` is a **reqwest 0.13** `Client`, re-exported as [`crate::reqwest`] (and as
    /// `reqwest` by each vendor crate). A client of another reqwest (0.12, say) is another
    /// type, refused by the compiler ("multiple different versions of crate `reqwest`"):
    /// build it through the re-export, which is always the right one.
    ///
    /// ```no_run
    /// use apikeys_common::reqwest;
    ///
    /// let http: reqwest::Client = reqwest::Client::builder()
    ///     .timeout(apikeys_common::DEFAULT_TIMEOUT)
    ///     .build()
    ///     .expect("a client");
    /// # let _ = http;
    /// ```
    ///
    /// The client still sends the credential and checks paths, retries, limits response
    /// sizes and traces every request: that happens around each request, whatever client
    /// sends it. What the builder sets on the client it makes is then up to yours:
    ///
    /// - **Redirects**: the builder's client follows redirects only within the base URL's
    ///   origin, so a credential in a header reqwest does not strip (ThingsBoard's
    ///   `X-Authorization`) never reaches another host. Give your client the same rule with
    ///   `.redirect(apikeys_common::same_origin_redirects(base_url)?)`, or
    ///   `reqwest::redirect::Policy::none()`.
    /// - **Timeouts**: reqwest has none by default; set `.timeout(..)` and
    ///   `.connect_timeout(..)` (the defaults here are [`DEFAULT_TIMEOUT`] and
    ///   [`DEFAULT_CONNECT_TIMEOUT`]), or one hung request waits forever.
    /// - **User agent** and **extra root certificates**: set them on your client.
    /// - **`rustls-ring`**: reqwest then has no crypto provider of its own, so a client you
    ///   build panics unless you hand it the builder's TLS configuration:
    ///   `.tls_backend_preconfigured(apikeys_common::rustls_ring_config()?)`.
    ///
    /// [`timeout`](Self::timeout), [`connect_timeout`](Self::connect_timeout),
    /// [`user_agent`](Self::user_agent) and `add_root_certificate` configure the client the
    /// builder makes, so combining them with this one is a mistake:
    /// [`build`](Self::build) refuses it with [`Error::InvalidRequest`] rather than ignore
    /// them. The base URL check (`https`, or [`allow_insecure_http`](Self::allow_insecure_http))
    /// still applies.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    fn http_setting(&mut self, name: &'static str) {
        if !self.http_settings.contains(&name) {
            self.http_settings.push(name);
        }
    }

    /// Allows a plain `http://` base URL on a host other than loopback. Off by default, so
    /// that a credential is never sent in clear text by accident.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Sets how idempotent operations are retried (see [`RetryPolicy`]; on by default).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Refuses success responses whose body is larger than `bytes` (default 8 MiB) with
    /// [`Error::BodyTooLarge`], instead of buffering them.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<V> {
        let base_url = normalize_base_url(&self.base_url, self.allow_insecure_http)?;
        let user_agent = match &self.user_agent {
            Some(product) => format!("{product} {}", V::USER_AGENT),
            None => V::USER_AGENT.to_string(),
        };
        let origin = Url::parse(&base_url).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let http = match self.http_client {
            Some(_) if !self.http_settings.is_empty() => {
                return Err(Error::InvalidRequest(format!(
                    "the builder settings `{}` apply to the HTTP client the builder makes, which \
                     `.http_client(..)` replaces: set them on your own reqwest::Client instead",
                    self.http_settings.join("`, `")
                )));
            }
            Some(client) => client,
            None => {
                let builder = reqwest::Client::builder()
                    .timeout(self.timeout)
                    .connect_timeout(self.connect_timeout)
                    .user_agent(user_agent)
                    .redirect(same_origin_redirect_policy(origin));
                #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
                let builder = {
                    let mut roots = Vec::new();
                    for pem in &self.root_certificates {
                        roots.extend(crate::tls::parse_pem(pem)?);
                    }
                    crate::tls::configure(builder, roots)?
                };
                builder.build().map_err(|e| {
                    Error::InvalidRequest(format!("cannot build the HTTP client: {e}"))
                })?
            }
        };
        let state = ClientState {
            credential: self.credential.transpose()?,
            retry: self.retry,
            max_response_bytes: self.max_response_bytes,
            caller: Arc::default(),
        };
        Ok(V::from_parts(&base_url, http, state, Checked(())))
    }
}

impl<V: JwtAuth> ClientBuilder<V> {
    /// Authenticates with a JWT, sent the way the vendor expects.
    pub fn jwt(mut self, jwt: impl Into<Secret>) -> Self {
        self.credential = Some(V::jwt_credential(jwt.into()));
        self
    }
}

/// The redirect rule of the builder's own HTTP client, for a caller's client given to
/// [`ClientBuilder::http_client`]: redirects are followed within `base_url`'s origin only (at
/// most 5), so the credential never reaches another host; a redirect elsewhere comes back
/// as the 3xx response.
///
/// ```
/// let base_url = "https://tb.internal.example";
/// let http = reqwest::Client::builder()
///     .redirect(apikeys_common::same_origin_redirects(base_url)?)
///     .timeout(apikeys_common::DEFAULT_TIMEOUT)
///     .connect_timeout(apikeys_common::DEFAULT_CONNECT_TIMEOUT)
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn same_origin_redirects(base_url: &str) -> Result<redirect::Policy> {
    let origin = Url::parse(base_url.trim())
        .map_err(|e| Error::InvalidRequest(format!("base URL `{base_url}`: {e}")))?;
    Ok(same_origin_redirect_policy(origin))
}

/// Redirects are followed only within the base URL's origin: the credential header is one
/// reqwest does not know to strip (ThingsBoard's `X-Authorization`), so it must never reach
/// another host. A cross-origin redirect comes back to the caller as the 3xx response.
fn same_origin_redirect_policy(origin: Url) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        let same = attempt.url().origin() == origin.origin();
        if !same {
            attempt.stop()
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// Checks a base URL and puts it in the form the generated code appends paths to: no
/// trailing `/` (which would give `//api/...`), no query or fragment.
pub fn normalize_base_url(base_url: &str, allow_insecure_http: bool) -> Result<String> {
    // The URL is shown without user info or query: either may hold a credential.
    let invalid = |why: &str| {
        Error::InvalidRequest(format!(
            "base URL `{}`: {why}",
            crate::error::redact_url(base_url)
        ))
    };
    let url = Url::parse(base_url.trim()).map_err(|e| invalid(&e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(invalid(
                "plain http would send the credential in clear text; use https, or call \
                 `.allow_insecure_http(true)` on the builder if you mean it",
            ));
        }
        _ => return Err(invalid("the scheme must be https (or http)")),
    }
    if url.host().is_none() {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials go in the builder, not in the URL"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // issue 23, part 2: HTTP basic auth, a shape the generator now covers.
    #[test]
    fn basic_auth_sends_user_and_password_in_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        let credential = Credential::basic(Secret::from("Aladdin:open sesame")).unwrap();
        assert_eq!(credential.header_name().as_str(), "authorization");
        assert_eq!(
            credential.header_value().to_str().unwrap(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert!(credential.header_value().is_sensitive());
        assert_eq!(credential.secret().expose_secret(), "Aladdin:open sesame");
        assert!(!format!("{credential:?}").contains("QWxh"));
        let refused = Credential::basic(Secret::from("no-colon-canary"))
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("user:password"), "{refused}");
        assert!(!refused.contains("canary"), "{refused}");
    }

    #[test]
    fn trailing_slashes_are_dropped_and_prefixes_kept() {
        let ok = |url| normalize_base_url(url, false).unwrap();
        assert_eq!(
            ok("https://thingsboard.cloud/"),
            "https://thingsboard.cloud"
        );
        assert_eq!(ok("https://thingsboard.cloud"), "https://thingsboard.cloud");
        assert_eq!(
            ok("https://sensorbucket.nl/api/"),
            "https://sensorbucket.nl/api"
        );
        assert_eq!(
            ok("https://sensorbucket.nl/api//"),
            "https://sensorbucket.nl/api"
        );
        assert_eq!(ok(" http://127.0.0.1:8080/ "), "http://127.0.0.1:8080");
        assert_eq!(ok("http://localhost:8080"), "http://localhost:8080");
        assert_eq!(ok("http://[::1]:8080"), "http://[::1]:8080");
    }

    #[test]
    fn clear_text_http_needs_an_explicit_opt_in() {
        let err = normalize_base_url("http://tb.example.com", false).unwrap_err();
        assert!(err.to_string().contains("allow_insecure_http"), "{err}");
        assert_eq!(
            normalize_base_url("http://tb.example.com", true).unwrap(),
            "http://tb.example.com"
        );
    }

    #[test]
    fn malformed_base_urls_are_invalid_requests() {
        for bad in [
            "",
            "thingsboard.cloud",
            "ftp://thingsboard.cloud",
            "https://tb.example.com/?x=1",
            "https://tb.example.com/#top",
            "https://user:pw@tb.example.com",
        ] {
            let err = normalize_base_url(bad, true).unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{bad}: {err:?}");
        }
    }

    #[test]
    fn a_secret_a_header_cannot_carry_is_refused_without_showing_it() {
        // Non-ASCII fails here whatever http 1.x is resolved (1.5 let it through).
        for secret in ["SECRETé", "SECRET🔑", "SECRET\nX", "SECRET\u{7f}"] {
            let err = Credential::header("authorization", "Bearer", Secret::from(secret))
                .err()
                .unwrap_or_else(|| panic!("{secret:?} was taken"));
            let shown = format!("{err} {err:?}");
            assert!(
                shown.contains("has characters a header cannot carry"),
                "{shown}"
            );
            assert!(!shown.contains("SECRET"), "{shown}");
        }
        assert!(Credential::header("x-api-key", "", Secret::from("a1~+/=:._-")).is_ok());
    }

    #[test]
    fn a_base_url_with_a_credential_is_refused_without_showing_it() {
        for bad in [
            "https://user:PASSWORD@tb.example.com",
            "https://user:PASSWORD@tb.example.com/api?x=1",
            "https://PASSWORD@tb.example.com",
            "https://tb.example.com/?token=PASSWORD",
            "https://tb.example.com/#PASSWORD",
            "https://user:PASSWORD@tb.example.com:99999",
            "ftp://user:PASSWORD@tb.example.com",
            "http://user:PASSWORD@tb.example.com",
            "user:PASSWORD@tb.example.com",
            "https://user:PASS@WORD@tb.example.com",
            " https://a:PASSWORD@[::1 ",
            "https://user:PASS?WORD@tb.example.com",
            "https://user:PASS/WORD@tb.example.com",
            "https://tb.example.com/?x=a@b&token=PASSWORD",
        ] {
            let err = normalize_base_url(bad, false).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(matches!(err, Error::InvalidRequest(_)), "{bad}: {shown}");
            assert!(
                !shown.contains("PASSWORD") && !shown.contains("WORD"),
                "{shown}"
            );
        }
        let long = format!("https://tb.example.com/{}?x=1", "p".repeat(10_000));
        let err = normalize_base_url(&long, false).unwrap_err().to_string();
        assert!(err.len() < 500, "{err}");
    }

    #[test]
    fn redacted_urls_keep_scheme_host_and_path() {
        use crate::error::redact_url;
        assert_eq!(
            redact_url("https://u:p@h.example/api?t=1#f"),
            "https://h.example/api"
        );
        assert_eq!(redact_url("https://h.example/a@b"), "https://h.example/a@b");
        assert_eq!(
            redact_url("https://h.example/api/"),
            "https://h.example/api/"
        );
        for hidden in [
            "u:p@h",
            "https://u:pa?ss@h",
            "https://u:p/ss@h",
            "mailto:p@h",
        ] {
            assert!(!redact_url(hidden).contains('p'), "{hidden}");
        }
    }

    #[test]
    fn credentials_are_sensitive_and_never_debug_printed() {
        let credential =
            Credential::header("x-authorization", "ApiKey", "tb_canary".into()).unwrap();
        assert!(credential.header_value().is_sensitive());
        assert_eq!(credential.header_value(), "ApiKey tb_canary");
        assert!(!format!("{credential:?}").contains("canary"));
        assert!(!format!("{:?}", credential.header_value()).contains("canary"));
    }

    #[test]
    fn a_header_name_that_is_not_one_is_refused_not_a_panic() {
        for bad in ["X-Api Key", "", "x\napi", "é"] {
            let err = Credential::header(bad, "", "canary".into()).unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{bad:?}: {err:?}");
        }
        let mixed = Credential::header("X-Authorization", "ApiKey", "canary".into()).unwrap();
        assert_eq!(mixed.header_name(), "x-authorization");
    }

    #[test]
    fn a_secret_that_cannot_be_a_header_is_refused_without_echoing_it() {
        let err =
            Credential::header("authorization", "Bearer", "canary\nsecret".into()).unwrap_err();
        assert!(!err.to_string().contains("canary"), "{err}");
    }
}
