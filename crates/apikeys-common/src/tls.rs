//! The TLS settings the builder gives the HTTP client it makes: extra root certificates, and
//! with the `rustls-ring` feature, a rustls configuration that uses ring instead of aws-lc-rs.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::{Error, Result};

/// Every certificate of a PEM file or bundle, as DER. The error says why, never the bytes.
pub(crate) fn parse_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidRequest(format!("root certificate: not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::InvalidRequest(
            "root certificate: the PEM has no `BEGIN CERTIFICATE` block".to_string(),
        ));
    }
    Ok(certs)
}

/// Trusts `roots` on top of the platform's roots, the way the crate's TLS feature does it.
pub(crate) fn configure(
    builder: reqwest::ClientBuilder,
    roots: Vec<CertificateDer<'static>>,
) -> Result<reqwest::ClientBuilder> {
    #[cfg(feature = "rustls-ring")]
    {
        // With `rustls-no-provider` reqwest has no crypto provider of its own (it would panic
        // or use a process-wide default), so it gets a complete configuration instead.
        Ok(builder.tls_backend_preconfigured(with_ring::client_config(roots)?))
    }
    #[cfg(not(feature = "rustls-ring"))]
    {
        let roots = roots
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect::<reqwest::Result<Vec<_>>>()
            .map_err(|e| Error::InvalidRequest(format!("root certificate: {e}")))?;
        Ok(builder.tls_certs_merge(roots))
    }
}

/// The TLS configuration the builder gives its own client with the `rustls-ring` feature:
/// ring, the platform's certificate verifier, safe protocol versions, HTTP/2 and HTTP/1.1.
///
/// With `rustls-ring` reqwest has no crypto provider of its own, so a `reqwest::Client` you
/// build yourself (for [`ClientBuilder::http_client`](crate::ClientBuilder::http_client))
/// panics unless it is handed a complete configuration:
///
/// ```no_run
/// # fn demo() -> apikeys_common::Result<()> {
/// let http = reqwest::Client::builder()
///     .tls_backend_preconfigured(apikeys_common::rustls_ring_config()?)
///     .build()?;
/// # let _ = http;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "rustls-ring")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls-ring")))]
pub fn rustls_ring_config() -> Result<rustls::ClientConfig> {
    with_ring::client_config(Vec::new())
}

#[cfg(feature = "rustls-ring")]
mod with_ring {
    use std::sync::Arc;

    use rustls::ClientConfig;
    use rustls::crypto::{CryptoProvider, ring};
    use rustls_pki_types::CertificateDer;
    use rustls_platform_verifier::Verifier;

    use crate::{Error, Result};

    /// What reqwest's own `rustls` feature builds, with ring as the provider: the
    /// platform's verifier (plus `roots`), safe protocol versions, and ALPN for HTTP/2.
    pub(super) fn client_config(roots: Vec<CertificateDer<'static>>) -> Result<ClientConfig> {
        let invalid = |e: rustls::Error| Error::InvalidRequest(format!("TLS configuration: {e}"));
        let provider = Arc::new(provider());
        let verifier = verifier(roots, provider.clone()).map_err(invalid)?;
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(invalid)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    /// rustls 0.23's only ring provider. rustls 0.23.48 deprecates it because ring has no
    /// post-quantum key exchange, and names no ring replacement: that exchange is
    /// aws-lc-rs's, which this feature exists to leave out (the `rustls` feature has it).
    #[expect(
        deprecated,
        reason = "the ring provider is what the rustls-ring feature is for"
    )]
    fn provider() -> CryptoProvider {
        ring::default_provider()
    }

    #[cfg(not(target_os = "android"))]
    fn verifier(
        roots: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> std::result::Result<Verifier, rustls::Error> {
        if roots.is_empty() {
            Verifier::new(provider)
        } else {
            Verifier::new_with_extra_roots(roots, provider)
        }
    }

    #[cfg(target_os = "android")]
    fn verifier(
        roots: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> std::result::Result<Verifier, rustls::Error> {
        if roots.is_empty() {
            Verifier::new(provider)
        } else {
            Err(rustls::Error::General(
                "the platform verifier cannot add root certificates on Android".to_string(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_without_a_certificate_is_refused() {
        for bad in [
            &b""[..],
            b"not pem at all",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let err = parse_pem(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
        }
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(parse_pem(broken), Err(Error::InvalidRequest(_))));
    }
}
