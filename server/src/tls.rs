//! TLS served by the server itself (ADR 0033): rustls (ring), HTTP/1.1, the
//! certificate chain and key read from PEM files and read again when they
//! change. A reload swaps the configuration new handshakes use; connections
//! already open keep theirs and are not dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

/// How often the certificate files are looked at by default.
pub const RELOAD_EVERY: Duration = Duration::from_secs(30);

/// Marks a request that reached this server over its own TLS listener (a
/// request extension set by [`crate::app::spawn_tls`]): the desk's cookies then
/// carry `Secure`.
#[derive(Debug, Clone, Copy)]
pub struct ServedOverTls;

/// Where the certificate and key are, and how often to look for new ones.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain (PEM, leaf first).
    pub cert: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// How often both files are read to see whether they changed.
    pub reload_every: Duration,
}

/// The contents of both files, as last seen.
type Seen = [u8; 32];

fn read_both(files: &TlsFiles) -> anyhow::Result<(Vec<u8>, Vec<u8>, Seen)> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()));
    let (cert, key) = (read(&files.cert)?, read(&files.key)?);
    let mut h = Sha256::new();
    h.update((cert.len() as u64).to_le_bytes());
    h.update(&cert);
    h.update(&key);
    Ok((cert, key, h.finalize().into()))
}

/// A rustls server configuration of a PEM chain and key (the key must match
/// the leaf certificate).
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("certificate file: {e}"))?;
    if chain.is_empty() {
        anyhow::bail!("certificate file: no certificate in it");
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| anyhow::anyhow!("key file: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| anyhow::anyhow!("certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Reads the files once: the configuration to serve, and what was seen.
pub fn load(files: &TlsFiles) -> anyhow::Result<(RustlsConfig, Seen)> {
    let (cert, key, seen) = read_both(files)?;
    let config = server_config(&cert, &key)?;
    Ok((RustlsConfig::from_config(Arc::new(config)), seen))
}

/// Reads the files again every `reload_every`; when their contents changed,
/// new handshakes use the new certificate. Files that cannot be used (half
/// written, key not matching) leave the current certificate in place, with a
/// warning, until they change again.
pub fn spawn_reloader(config: RustlsConfig, files: TlsFiles, mut seen: Seen) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(files.reload_every.max(Duration::from_millis(100)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let f = files.clone();
            let read = match tokio::task::spawn_blocking(move || read_both(&f)).await {
                Ok(r) => r,
                Err(_) => continue,
            };
            let (cert, key, now) = match read {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "TLS files unreadable: keeping the current certificate");
                    continue;
                }
            };
            if now == seen {
                continue;
            }
            seen = now;
            match server_config(&cert, &key) {
                Ok(c) => {
                    config.reload_from_config(Arc::new(c));
                    tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "TLS files changed but cannot be used: keeping the current certificate")
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str) -> (String, String) {
        let c = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
        (c.cert.pem(), c.key_pair.serialize_pem())
    }

    #[test]
    fn a_key_that_does_not_match_the_certificate_is_refused() {
        let (cert_a, key_a) = pair("a.example");
        let (_, key_b) = pair("b.example");
        assert!(server_config(cert_a.as_bytes(), key_a.as_bytes()).is_ok());
        let e = server_config(cert_a.as_bytes(), key_b.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("certificate and key"), "{e}");
        let e = server_config(b"not pem", key_a.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("certificate file"), "{e}");
        let e = server_config(cert_a.as_bytes(), b"").unwrap_err().to_string();
        assert!(e.contains("key file"), "{e}");
    }
}
