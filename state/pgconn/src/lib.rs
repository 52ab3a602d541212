//! How tenantform connects to PostgreSQL, shared by the `postgres` provider and the `pg` state
//! backend (neither may depend on the other): libpq's `sslmode` semantics implemented over
//! rustls, so that a setting means what platform engineers know it to mean.
//!
//! | sslmode | encryption | certificate checked |
//! |---|---|---|
//! | `disable` | never | — |
//! | `allow`, `prefer` (default) | when the server offers it, else in clear | no |
//! | `require` | always | no — unless `sslrootcert` is set, then as `verify-ca` (as libpq does) |
//! | `verify-ca` | always | chain up to a trusted root; any host name |
//! | `verify-full` | always | chain and host name |
//!
//! Trusted roots are the PEM file `sslrootcert` names, or — when it is unset or `system` — the
//! Mozilla root store compiled in (webpki-roots), which covers public CAs (not the private CAs
//! of AWS RDS or Cloud SQL: download theirs and set `sslrootcert`). `allow` behaves like
//! `prefer` (TLS first). Client certificates (`sslcert`/`sslkey`) are not supported.
//!
//! This crate owns TLS settings and the connect call; it knows nothing of resources or state.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres::{Client, Config, Connection, Socket};
pub use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Result<SslMode, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "unknown sslmode {other:?}; use disable, allow, prefer, require, verify-ca or verify-full"
                ))
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// TLS settings of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    pub mode: SslMode,
    /// PEM file of trusted root certificates; `None` (or `system`): the compiled-in roots.
    pub root_cert: Option<String>,
}

impl Default for Tls {
    fn default() -> Self {
        Tls { mode: SslMode::Prefer, root_cert: None }
    }
}

impl Tls {
    pub fn new(mode: &str, root_cert: Option<&str>) -> Result<Tls, String> {
        Ok(Tls { mode: SslMode::parse(mode)?, root_cert: root_cert.filter(|r| !r.is_empty()).map(str::to_string) })
    }

    /// How the certificate is checked, after libpq's rule that `require` with a root file
    /// verifies the chain.
    fn check(&self) -> Check {
        match self.mode {
            SslMode::VerifyFull => Check::Full,
            SslMode::VerifyCa => Check::Chain,
            SslMode::Require if self.root_cert.as_deref().is_some_and(|r| r != "system") => Check::Chain,
            _ => Check::Nothing,
        }
    }

    fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        match self.root_cert.as_deref() {
            None | Some("system") => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?;
                let (added, _ignored) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(format!("sslrootcert {path} holds no usable certificate"));
                }
            }
        }
        Ok(roots)
    }

    /// The rustls connector for these settings.
    pub fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match self.check() {
            Check::Nothing => Arc::new(AcceptAny(provider.clone())),
            check => {
                let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(self.roots()?), provider.clone())
                    .build()
                    .map_err(|e| format!("cannot set up certificate verification: {e}"))?;
                Arc::new(Verify { inner, check_name: check == Check::Full })
            }
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    /// Applies the mode to a driver configuration (which knows only disable/prefer/require).
    pub fn configure(&self, config: &mut Config) {
        config.ssl_mode(match self.mode {
            SslMode::Disable => DriverSslMode::Disable,
            SslMode::Allow | SslMode::Prefer => DriverSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => DriverSslMode::Require,
        });
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Nothing,
    Chain,
    Full,
}

/// A connection as the driver returns it.
pub type PgConnection = Connection<Socket, <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<Socket>>::Stream>;

/// Connects with `config` (its `sslmode` replaced by `tls`'s).
pub async fn connect(config: &Config, tls: &Tls) -> Result<(Client, PgConnection), ConnectError> {
    let mut config = config.clone();
    tls.configure(&mut config);
    let connector = cached_connector(tls).map_err(ConnectError::Tls)?;
    config.connect(connector).await.map_err(ConnectError::Postgres)
}

/// Connectors are built once per distinct setting (building one costs milliseconds: the
/// crypto provider, and for the verifying modes the root store).
fn cached_connector(tls: &Tls) -> Result<MakeRustlsConnect, String> {
    static CACHE: std::sync::Mutex<Vec<(Tls, MakeRustlsConnect)>> = std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, c)) = cache.iter().find(|(t, _)| t == tls) {
        return Ok(c.clone());
    }
    let c = tls.connector()?;
    cache.push((tls.clone(), c.clone()));
    Ok(c)
}

/// Why a connection failed.
#[derive(Debug)]
pub enum ConnectError {
    /// The TLS settings themselves are unusable (an unreadable root certificate file).
    Tls(String),
    Postgres(tokio_postgres::Error),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Tls(m) => write!(f, "{m}"),
            ConnectError::Postgres(e) => {
                write!(f, "{e}")?;
                let mut src = std::error::Error::source(e);
                while let Some(inner) = src {
                    write!(f, ": {inner}")?;
                    src = inner.source();
                }
                Ok(())
            }
        }
    }
}

/// `prefer`/`require`: encrypt, but accept any certificate (libpq's behaviour). The handshake
/// signatures are still checked, so the peer holds the key of the certificate it shows.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` (chain only) and `verify-full` (chain and host name).
#[derive(Debug)]
struct Verify {
    inner: Arc<WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for Verify {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_libpq() {
        assert_eq!(SslMode::parse("verify-full").unwrap(), SslMode::VerifyFull);
        assert!(SslMode::parse("on").unwrap_err().contains("verify-full"));
        assert_eq!(Tls::new("require", None).unwrap().check(), Check::Nothing);
        assert_eq!(
            Tls::new("require", Some("/ca.pem")).unwrap().check(),
            Check::Chain,
            "libpq: a root file means verify-ca"
        );
        assert_eq!(Tls::new("verify-ca", None).unwrap().check(), Check::Chain);
        assert_eq!(Tls::new("verify-full", Some("system")).unwrap().check(), Check::Full);
        assert!(Tls::new("verify-full", Some("/nonexistent.pem")).unwrap().connector().is_err());
        assert!(Tls::new("verify-full", None).unwrap().connector().is_ok());
    }
}
