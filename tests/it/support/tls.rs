//! Test PKI: a throw-away CA and a server certificate for 127.0.0.1/localhost, made
//! with rcgen, written as PEM files the gateway loads; the test client trusts the CA.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// PEM material of one test PKI.
pub struct TestPki {
    /// The CA certificate the client trusts (PEM).
    pub ca_pem: String,
    /// Server certificate chain file (leaf, then CA).
    pub cert_file: PathBuf,
    /// Server private key file.
    pub key_file: PathBuf,
}

impl TestPki {
    /// Generates a CA and a leaf for `127.0.0.1` and `localhost` into `dir`.
    pub fn generate(dir: &Path) -> TestPki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "datahub-scim test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).expect("CA cert");

        let leaf_key = KeyPair::generate().expect("leaf key");
        let mut leaf_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("leaf params");
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("leaf cert");

        let cert_file = dir.join("tls.crt");
        let key_file = dir.join("tls.key");
        std::fs::write(&cert_file, format!("{}{}", leaf.pem(), ca.pem())).expect("write cert");
        std::fs::write(&key_file, leaf_key.serialize_pem()).expect("write key");
        TestPki {
            ca_pem: ca.pem(),
            cert_file,
            key_file,
        }
    }
}
