//! rustls client configuration for https GMS: ring provider, system roots
//! (rustls-native-certs) plus an optional extra PEM CA bundle.

use std::sync::Arc;

use super::error::{Error, Result};

/// TLS config for the GMS connector. For plain-http bases no roots are loaded.
pub(crate) fn client_config(
    https: bool,
    ca_bundle: Option<&std::path::Path>,
) -> Result<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    let mut roots = rustls::RootCertStore::empty();
    if https {
        let native = rustls_native_certs::load_native_certs();
        if !native.errors.is_empty() {
            tracing::warn!(
                errors = native.errors.len(),
                "some system CA certificates could not be loaded"
            );
        }
        let (_added, _ignored) = roots.add_parsable_certificates(native.certs);
    }
    if let Some(path) = ca_bundle {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| Error::Config(format!("cannot read CA bundle {}: {e}", path.display())))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Config(format!("bad PEM in CA bundle {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(Error::Config(format!(
                "CA bundle {} holds no certificate",
                path.display()
            )));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| Error::Config(format!("bad CA certificate: {e}")))?;
        }
    }
    if https && roots.is_empty() {
        return Err(Error::Config("no trusted CA certificates for https".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}
