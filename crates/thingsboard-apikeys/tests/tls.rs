//! TLS, under whichever backend the crate is built with (`rustls`, `rustls-ring` or
//! `native-tls`; CI runs this file under each): a client that trusts a private CA through
//! the builder reaches a loopback HTTPS server whose certificate that CA signed, and a
//! client that does not is refused before anything is sent.
#![cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use thingsboard_apikeys::{Client, Error, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use uuid::uuid;

const KEY: &str = "tb_tls_canary_UvImZaYMEtKJGF2VDuiBNgkWb2sRPReNbA";
const ID: uuid::Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

/// A test CA made for this run, and a server certificate it signed for `127.0.0.1`.
struct TestPki {
    ca_pem: String,
    server: ServerConfig,
}

fn test_pki() -> TestPki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "apikeys test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();

    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf.signed_by(&leaf_key, &ca).unwrap();

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    // The test server's provider: ring builds without aws-lc-rs under every backend.
    #[expect(deprecated, reason = "rustls 0.23 has no other ring provider")]
    let provider = ring::default_provider();
    let server = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    TestPki {
        ca_pem: ca.pem(),
        server,
    }
}

/// An HTTPS server on loopback that answers every request `200` with no body and reports
/// each request's head (request line and headers, lower-cased) on the channel.
async fn https_server(config: ServerConfig) -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("https://{}", listener.local_addr().unwrap());
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let (heads, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let heads = heads.clone();
            tokio::spawn(async move {
                // A client that does not trust the certificate fails the handshake here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = heads.send(String::from_utf8_lossy(&head).to_ascii_lowercase());
                let response = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (base_url, received)
}

#[tokio::test]
async fn a_client_trusting_the_test_ca_reaches_the_https_server() {
    let pki = test_pki();
    let (base_url, mut received) = https_server(pki.server).await;

    let client = Client::builder(&base_url)
        .add_root_certificate(pki.ca_pem.as_bytes())
        .api_key(KEY)
        .build()
        .unwrap();
    client.delete_api_key().id(ID).send().await.unwrap();

    let head = received.recv().await.unwrap();
    assert!(
        head.starts_with(&format!("delete /api/apikey/{ID} http/1.1\r\n")),
        "{head}"
    );
    let credential = format!(
        "\r\nx-authorization: apikey {}\r\n",
        KEY.to_ascii_lowercase()
    );
    assert!(head.contains(&credential), "{head}");
}

#[tokio::test]
async fn a_client_without_the_ca_is_refused_before_sending_anything() {
    let pki = test_pki();
    let (base_url, mut received) = https_server(pki.server).await;

    let client = Client::builder(&base_url)
        .api_key(KEY)
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    let err = client.delete_api_key().id(ID).send().await.unwrap_err();

    assert!(
        matches!(&err, Error::Transport(e) if e.is_connect()),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("tls_canary"), "{err:?}");
    assert!(received.try_recv().is_err(), "a request got through");
}

#[tokio::test]
async fn a_pem_without_a_certificate_is_an_invalid_request() {
    for pem in [&b"not a certificate"[..], b""] {
        let err = Client::builder("https://tb.example.com")
            .add_root_certificate(pem)
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest(m) if m.contains("root certificate")),
            "{err:?}"
        );
    }
}
