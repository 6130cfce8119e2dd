//! The probe's TLS: rustls with the ring provider, server name indication, a chosen ALPN offer,
//! and the trust to check certificates against (the system's roots, a private CA, or nothing).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::target::{Resolve, Target};
use super::{Failure, Options, Stage};

/// What a server certificate is checked against.
#[derive(Clone, Debug, Default)]
pub enum Trust {
    /// The system's root certificates.
    #[default]
    System,
    /// Only these certificates (`--ca FILE`, like curl's `--cacert`).
    Roots(Vec<CertificateDer<'static>>),
    /// No check at all (`--insecure`).
    AcceptAnyCertificate,
}

/// Why the trust could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("reading the CA file {path}: {message}")]
    CaFile { path: String, message: String },
    #[error("the CA file {0} holds no certificate")]
    EmptyCaFile(String),
    #[error("no system root certificates found; name a CA with --ca FILE")]
    NoSystemRoots,
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
}

impl Trust {
    /// The certificates of a PEM file.
    pub fn ca_file(path: &Path) -> Result<Trust, TrustError> {
        let shown = path.display().to_string();
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TrustError::CaFile {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(TrustError::EmptyCaFile(shown));
        }
        Ok(Trust::Roots(certs))
    }
}

/// The two offers the probe makes: what a browser offers, and HTTP/1.1 alone.
pub struct Configs {
    pub browser: Arc<ClientConfig>,
    pub http1: Arc<ClientConfig>,
}

pub const H2: &[u8] = b"h2";
pub const HTTP1: &[u8] = b"http/1.1";

impl Configs {
    pub fn new(trust: &Trust) -> Result<Configs, TrustError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let config = match trust {
            Trust::AcceptAnyCertificate => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth(),
            Trust::Roots(certs) => builder
                .with_root_certificates(roots(certs.iter().cloned()))
                .with_no_client_auth(),
            Trust::System => {
                let found = rustls_native_certs::load_native_certs();
                let store = roots(found.certs);
                if store.is_empty() {
                    return Err(TrustError::NoSystemRoots);
                }
                builder.with_root_certificates(store).with_no_client_auth()
            }
        };
        let with = |alpn: &[&[u8]]| {
            let mut c = config.clone();
            c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Arc::new(c)
        };
        Ok(Configs {
            browser: with(&[H2, HTTP1]),
            http1: with(&[HTTP1]),
        })
    }
}

/// A store of the certificates that parse (a broken system certificate is skipped, as
/// curl and browsers do).
fn roots(certs: impl IntoIterator<Item = CertificateDer<'static>>) -> RootCertStore {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs);
    store
}

/// Resolves, connects and shakes hands with `target` offering `config`'s ALPN, each step within
/// the timeout. Returns the stream and the address it reached.
pub async fn connect(
    target: &Target,
    config: &Arc<ClientConfig>,
    options: &Options,
) -> Result<(TlsStream<TcpStream>, SocketAddr), Failure> {
    let addresses = match Resolve::find(&options.resolve, target) {
        Some(a) => vec![a],
        None => {
            let found = options
                .within(
                    Stage::Resolve,
                    tokio::net::lookup_host((target.host.as_str(), target.port)),
                )
                .await?;
            let found: Vec<SocketAddr> = found
                .map_err(|e| Failure::error(Stage::Resolve, format!("{}: {e}", target.host)))?
                .collect();
            if found.is_empty() {
                return Err(Failure::error(
                    Stage::Resolve,
                    format!("{} has no address", target.host),
                ));
            }
            found
        }
    };
    let mut last = None;
    for address in addresses {
        match options
            .within(Stage::Connect, TcpStream::connect(address))
            .await?
        {
            Ok(tcp) => {
                let name = ServerName::try_from(target.host.clone())
                    .map_err(|e| Failure::error(Stage::Tls, e.to_string()))?;
                let tls = options
                    .within(
                        Stage::Tls,
                        tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp),
                    )
                    .await?
                    .map_err(|e| Failure::error(Stage::Tls, tls_message(&e)))?;
                return Ok((tls, address));
            }
            Err(e) => last = Some(Failure::error(Stage::Connect, format!("{address}: {e}"))),
        }
    }
    Err(last.expect("at least one address was tried"))
}

/// A TLS failure in plain words, with what to do about a private CA.
fn tls_message(e: &std::io::Error) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => format!(
            "the server's certificate is not trusted ({c:?}); for a private CA pass --ca FILE, or --insecure to skip the check"
        ),
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}

/// Accepts every certificate (`--insecure`); signatures are still checked, so the handshake
/// itself is real.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
