//! Development certificates: a local CA and a server certificate signed by it
//! (`datahub-scim certs`), and a throwaway self-signed pair (`demo`, tests). Private
//! keys are written with mode 0600 and are never meant to be committed.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// rcgen failed.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// Writing a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// PEM of a certificate and its key.
pub struct Pair {
    /// Certificate, PEM.
    pub cert_pem: String,
    /// Private key, PEM (PKCS#8).
    pub key_pem: String,
}

/// A self-signed server certificate for `hosts`, valid for `days`.
pub fn self_signed(hosts: &[String], days: u32) -> Result<Pair, CertError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(hosts.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "datahub-scim (self-signed)");
    validity(&mut params, days);
    let cert = params.self_signed(&key)?;
    Ok(Pair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn validity(params: &mut CertificateParams, days: u32) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(i64::from(days));
}

/// A CA and a server certificate for `hosts` signed by it: `(ca, server)`.
pub fn ca_and_server(hosts: &[String], days: u32) -> Result<(Pair, Pair), CertError> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "datahub-scim development CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut ca, days.saturating_mul(2));
    let ca_cert = ca.self_signed(&ca_key)?;

    let key = KeyPair::generate()?;
    let mut server = CertificateParams::new(hosts.to_vec())?;
    server.distinguished_name.push(
        DnType::CommonName,
        hosts.first().map(String::as_str).unwrap_or("localhost"),
    );
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut server, days);
    let cert = server.signed_by(&key, &ca_cert, &ca_key)?;
    Ok((
        Pair {
            cert_pem: ca_cert.pem(),
            key_pem: ca_key.serialize_pem(),
        },
        Pair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        },
    ))
}

/// Writes `contents` to `path`; `secret` files get mode 0600.
pub fn write(path: &Path, contents: &str, secret: bool) -> Result<(), CertError> {
    let io = |source| CertError::Io {
        path: path.to_owned(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    use std::io::Write;
    opts.open(path)
        .and_then(|mut f| f.write_all(contents.as_bytes()))
        .map_err(io)
}

/// Writes `ca.crt`, `ca.key`, `tls.crt` (server + CA chain) and `tls.key` into `dir`.
pub fn write_dev_certs(dir: &Path, hosts: &[String], days: u32) -> Result<(), CertError> {
    std::fs::create_dir_all(dir).map_err(|source| CertError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let (ca, server) = ca_and_server(hosts, days)?;
    write(&dir.join("ca.crt"), &ca.cert_pem, false)?;
    write(&dir.join("ca.key"), &ca.key_pem, true)?;
    write(
        &dir.join("tls.crt"),
        &format!("{}{}", server.cert_pem, ca.cert_pem),
        false,
    )?;
    write(&dir.join("tls.key"), &server.key_pem, true)?;
    Ok(())
}
