//! TLS for the SCIM listener: one builder ([`server_config`]) turning PEM certificate
//! chain + key into a rustls `ServerConfig` (TLS 1.2/1.3, ALPN `h2` + `http/1.1`), and
//! a [`CertStore`] that reloads the files when their content changes (polling, so
//! Kubernetes Secret symlink swaps work) and keeps the old config if the new files are
//! bad.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use super::metrics::{Metrics, ReloadLabels};
use crate::config::TlsFiles;

/// Why TLS material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The PEM held no certificate.
    #[error("no certificate found in the PEM data")]
    NoCertificate,
    /// The PEM held no usable private key.
    #[error("no private key found in the PEM data")]
    NoKey,
    /// The certificate could not be parsed as X.509.
    #[error("certificate is not valid X.509: {0}")]
    X509(String),
    /// rustls refused the pair (e.g. key does not match certificate).
    #[error("rustls rejected the certificate/key: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Builds the server config from a PEM certificate chain (leaf first) and a PEM key.
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TlsError::NoKey)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// notAfter of the first certificate in `cert_pem`, in unix seconds.
pub fn cert_expiry(cert_pem: &[u8]) -> Result<i64, TlsError> {
    let der = CertificateDer::pem_slice_iter(cert_pem)
        .filter_map(Result::ok)
        .next()
        .ok_or(TlsError::NoCertificate)?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(&der).map_err(|e| TlsError::X509(e.to_string()))?;
    Ok(cert.validity().not_after.timestamp())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Certificate and key as read from disk.
struct Material {
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl Material {
    fn read(files: &TlsFiles) -> Result<Self, TlsError> {
        Ok(Material {
            cert: read(&files.cert)?,
            key: read(&files.key)?,
        })
    }

    fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(&self.cert);
        h.update([0u8]);
        h.update(&self.key);
        h.finalize().into()
    }
}

/// The current TLS config, swapped in place on reload.
pub struct CertStore {
    current: RwLock<Arc<ServerConfig>>,
    files: TlsFiles,
    /// Digest of the material last tried (good or bad), so a bad file is reported once.
    last_seen: RwLock<[u8; 32]>,
}

impl CertStore {
    /// Loads the files; fails if they are unusable.
    pub fn load(files: TlsFiles, metrics: &Metrics) -> Result<Self, TlsError> {
        let m = Material::read(&files)?;
        let cfg = server_config(&m.cert, &m.key)?;
        metrics.cert_expiry.set(cert_expiry(&m.cert)?);
        Ok(CertStore {
            current: RwLock::new(cfg),
            files,
            last_seen: RwLock::new(m.digest()),
        })
    }

    /// The config new connections use.
    pub fn current(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the files; swaps the config in if they changed and are good. Returns
    /// `Some(result)` when a change was seen, `None` when nothing changed.
    pub fn reload_if_changed(&self, metrics: &Metrics) -> Option<Result<(), TlsError>> {
        // Unreadable mid-swap files are retried on the next tick, not reported.
        let m = Material::read(&self.files).ok()?;
        let digest = m.digest();
        {
            let mut last = self.last_seen.write().unwrap_or_else(|p| p.into_inner());
            if *last == digest {
                return None;
            }
            *last = digest;
        }
        let result =
            server_config(&m.cert, &m.key).and_then(|cfg| Ok((cfg, cert_expiry(&m.cert)?)));
        match result {
            Ok((cfg, expiry)) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = cfg;
                metrics.cert_expiry.set(expiry);
                metrics
                    .tls_reloads
                    .get_or_create(&ReloadLabels { result: "ok" })
                    .inc();
                tracing::info!(tls.not_after = expiry, "tls certificate reloaded");
                Some(Ok(()))
            }
            Err(e) => {
                metrics
                    .tls_reloads
                    .get_or_create(&ReloadLabels { result: "failed" })
                    .inc();
                tracing::warn!(error = %e, "tls certificate reload failed, keeping the previous certificate");
                Some(Err(e))
            }
        }
    }

    /// Polls the files every `interval` until the task is dropped.
    pub async fn watch(self: Arc<Self>, interval: Duration, metrics: Arc<Metrics>) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let store = self.clone();
            let metrics = metrics.clone();
            // File reads are blocking; keep them off the reactor.
            let _ = tokio::task::spawn_blocking(move || store.reload_if_changed(&metrics)).await;
        }
    }
}
