//! Certificates made on the fly for TLS tests: a county CA and a server
//! certificate it signs for the loopback, and the server key's SPKI pin.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use sha2::{Digest, Sha256};

/// A CA and one server certificate it issued for `127.0.0.1` and `localhost`.
pub struct TestPki {
    /// The CA's certificate (PEM): what a phone is given as the county's CA.
    pub ca_pem: String,
    /// The server's certificate (PEM).
    pub cert_pem: String,
    /// The server's certificate (DER), to recognise it on a connection.
    pub cert_der: Vec<u8>,
    /// The server's private key (PEM).
    pub key_pem: String,
    /// The server key's pin: `sha256/<base64 of SHA-256 of its SubjectPublicKeyInfo>`.
    pub pin: String,
    /// The CA key's pin, same form.
    pub ca_pin: String,
}

/// The pin of a DER SubjectPublicKeyInfo.
pub fn spki_pin(spki_der: &[u8]) -> String {
    format!("sha256/{}", B64.encode(Sha256::digest(spki_der)))
}

impl TestPki {
    /// A fresh CA named `name` and a server certificate it signed.
    pub fn new(name: &str) -> anyhow::Result<TestPki> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, format!("{name} CA"));
        let ca_cert = ca.self_signed(&ca_key)?;
        let key = KeyPair::generate()?;
        let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
        leaf.distinguished_name.push(DnType::CommonName, format!("{name} server"));
        let cert = leaf.signed_by(&key, &ca_cert, &ca_key)?;
        Ok(TestPki {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
            pin: spki_pin(&key.public_key_der()),
            ca_pin: spki_pin(&ca_key.public_key_der()),
        })
    }

    /// Writes the server's certificate and key as `cert.pem` and `key.pem` in
    /// `dir` (each through a temporary file and a rename, as an operator's
    /// renewal would); returns their paths.
    pub fn write(&self, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        for (path, text) in [(&key, &self.key_pem), (&cert, &self.cert_pem)] {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, text)?;
            std::fs::rename(&tmp, path)?;
        }
        Ok((cert, key))
    }
}
