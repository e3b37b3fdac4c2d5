//! HTTPS (`--tls-cert`, `--tls-key`): rustls with the ring provider, HTTP/2 and HTTP/1.1 by
//! ALPN. The pair is checked at start-up (readable, PEM, the key matching the certificate,
//! the certificate valid now) and again on each SIGHUP, which swaps in the new pair for new
//! handshakes; connections already open keep theirs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use anyhow::{Context as _, anyhow, bail};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::io::io_reason;

/// The TLS side of the listener: the acceptor and the pair it presents.
pub(crate) struct Tls {
    acceptor: TlsAcceptor,
    current: Arc<Current>,
    cert: PathBuf,
    key: PathBuf,
}

impl Tls {
    /// Reads and checks the pair.
    ///
    /// # Errors
    /// A file that is missing or unreadable, holds no PEM certificate or key, a key that is
    /// not the certificate's, or a certificate not valid now; each names the file.
    pub(crate) fn load(cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = Arc::new(Current(RwLock::new(Arc::new(certified_key(
            cert, key, &provider,
        )?))));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS set-up")?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            current,
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        })
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// Reads the files again and, if the pair passes the start-up checks, presents it from the
    /// next handshake on; else the previous pair stays.
    pub(crate) fn reload(&self) -> anyhow::Result<()> {
        let provider = rustls::crypto::ring::default_provider();
        let pair = certified_key(&self.cert, &self.key, &provider)?;
        *self
            .current
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(pair);
        Ok(())
    }
}

/// The pair presented to every client, swapped on reload.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.0
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

fn certified_key(
    cert: &Path,
    key: &Path,
    provider: &rustls::crypto::CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let shown = cert.display();
    let cert_pem = read(cert, "certificate")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("invalid TLS certificate file '{shown}': {e}"))?;
    let Some(leaf) = chain.first() else {
        bail!("invalid TLS certificate file '{shown}': no PEM certificate in it");
    };
    check_validity(leaf, SystemTime::now())
        .map_err(|why| anyhow!("TLS certificate '{shown}' {why}"))?;
    let key_pem = read(key, "key")?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        anyhow!(
            "invalid TLS key file '{}': no PEM private key in it ({e})",
            key.display()
        )
    })?;
    let signing = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| anyhow!("invalid TLS key file '{}': {e}", key.display()))?;
    let pair = CertifiedKey::new(chain, signing);
    match pair.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(_) => bail!(
            "TLS key '{}' does not match certificate '{shown}'",
            key.display()
        ),
    }
    Ok(pair)
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        anyhow!(
            "cannot read TLS {what} '{}': {}",
            path.display(),
            io_reason(&e)
        )
    })
}

/// The certificate's validity period must hold `now`.
fn check_validity(leaf: &CertificateDer<'_>, now: SystemTime) -> Result<(), String> {
    use x509_cert::der::Decode as _;
    let certificate = x509_cert::Certificate::from_der(leaf)
        .map_err(|_| "cannot be read (not an X.509 certificate)".to_owned())?;
    let validity = certificate.tbs_certificate.validity;
    if now > validity.not_after.to_system_time() {
        return Err("has expired".into());
    }
    if now < validity.not_before.to_system_time() {
        return Err("is not valid yet".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_certificate() {
        let garbage = CertificateDer::from(b"not der".to_vec());
        assert_eq!(
            check_validity(&garbage, SystemTime::now()),
            Err("cannot be read (not an X.509 certificate)".into())
        );
    }
}
