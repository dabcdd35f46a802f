//! How the phone trusts the county's server (ADR 0033): the server's
//! certificate is always verified (the public roots, plus the county's own CA
//! when one is given), and with pins the server must also present one of the
//! county's keys. A certificate that fails either check ends the handshake:
//! not one byte of a request is sent.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::Error;

/// Stable reason of a server whose key is not one of the pinned keys.
pub const PIN_MISMATCH: &str = "certificate_pin_mismatch";
/// Stable reason of a server certificate that does not verify (unknown
/// issuer, expired, another name).
pub const UNTRUSTED: &str = "certificate_untrusted";

/// The phone's message for [`PIN_MISMATCH`].
pub const PIN_MISMATCH_MESSAGE: &str =
    "服务器的公钥与本县设定的证书指纹不符，连接已拒绝，没有发送任何数据。请联系县里的系统管理员。";
/// The phone's message for [`UNTRUSTED`].
pub const UNTRUSTED_MESSAGE: &str =
    "无法验证服务器的证书（签发机构不受信任、已过期或地址不符），连接已拒绝，没有发送任何数据。请联系县里的系统管理员。";

/// The server presented none of the pinned keys.
#[derive(Debug)]
pub(crate) struct PinMismatch;

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the server's key is not one of the pinned keys")
    }
}

impl std::error::Error for PinMismatch {}

/// Reads pins of the form `sha256/<base64>` (the prefix may be left out): the
/// SHA-256 of a certificate's SubjectPublicKeyInfo.
pub(crate) fn parse_pins(pins: &[String]) -> Result<Vec<[u8; 32]>, Error> {
    pins.iter()
        .map(|p| {
            let b64 = p.trim().strip_prefix("sha256/").unwrap_or(p.trim());
            B64.decode(b64).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or_else(|| Error::BadInput {
                reason: "invalid_pin",
                message: "证书指纹格式不对：应为 sha256/ 加上 32 字节摘要的 Base64".into(),
            })
        })
        .collect()
}

/// Pins protect nothing over plain HTTP: with any set, the server's address
/// must be `https://`.
pub(crate) fn require_https(server_url: &str, pins: &[String]) -> Result<(), Error> {
    if pins.is_empty() || server_url.trim().to_ascii_lowercase().starts_with("https://") {
        return Ok(());
    }
    Err(Error::BadInput {
        reason: "pins_need_https",
        message: "设定了证书指纹时，服务器地址必须以 https:// 开头".into(),
    })
}

/// The roots a phone trusts: the public ones and the county's CA certificates (PEM).
fn roots(ca_pem: Option<&str>) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(pem) = ca_pem {
        let bad = || Error::BadInput {
            reason: "invalid_ca", message: "本县根证书（CA）不是有效的 PEM 证书".into()
        };
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|_| bad())?;
        if certs.is_empty() {
            return Err(bad());
        }
        for c in certs {
            roots.add(c).map_err(|_| bad())?;
        }
    }
    Ok(roots)
}

/// The TLS configuration of the phone's HTTP client when the county gave a CA
/// or pins; `None` keeps reqwest's own (the public roots).
pub(crate) fn client_config(ca_pem: Option<&str>, pins: &[String]) -> Result<Option<rustls::ClientConfig>, Error> {
    if ca_pem.is_none() && pins.is_empty() {
        return Ok(None);
    }
    let pins = parse_pins(pins)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let internal = |e: String| Error::InvalidInput(format!("tls: {e}"));
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots(ca_pem)?), provider.clone())
        .build()
        .map_err(|e| internal(e.to_string()))?;
    let verifier = Arc::new(PinningVerifier { inner, pins });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| internal(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(config))
}

/// The usual verification, then: one of the chain's keys must be pinned.
#[derive(Debug)]
struct PinningVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pins: Vec<[u8; 32]>,
}

fn spki_sha256(cert: &CertificateDer<'_>) -> Option<[u8; 32]> {
    let parsed = webpki::EndEntityCert::try_from(cert).ok()?;
    Some(Sha256::digest(parsed.subject_public_key_info().as_ref()).into())
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        if self.pins.is_empty() {
            return Ok(verified);
        }
        let pinned =
            std::iter::once(end_entity).chain(intermediates).filter_map(spki_sha256).any(|h| self.pins.contains(&h));
        if pinned {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(PinMismatch)))))
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

/// Which certificate check, if any, a failed request met: [`PIN_MISMATCH`] or
/// [`UNTRUSTED`]. Walks the error's causes; an I/O error is looked into (its
/// `source` skips the error it wraps, which may wrap another I/O error).
pub(crate) fn certificate_failure(e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(rustls::Error::InvalidCertificate(c)) = err.downcast_ref::<rustls::Error>() {
            return Some(match c {
                CertificateError::Other(OtherError(o)) if o.downcast_ref::<PinMismatch>().is_some() => PIN_MISMATCH,
                _ => UNTRUSTED,
            });
        }
        cur = match err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_sha256_of_32_bytes_in_base64() {
        let ok = format!("sha256/{}", B64.encode([7u8; 32]));
        assert_eq!(parse_pins(&[ok.clone(), B64.encode([8u8; 32])]).unwrap(), vec![[7u8; 32], [8u8; 32]]);
        for bad in ["sha256/abc", "sha256/!!!", "", &format!("sha256/{}", B64.encode([1u8; 20]))] {
            match parse_pins(&[bad.to_string()]) {
                Err(Error::BadInput { reason, .. }) => assert_eq!(reason, "invalid_pin"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn pins_need_an_https_address() {
        let pins = [B64.encode([0u8; 32])];
        assert!(require_https("https://county.example", &pins).is_ok());
        assert!(require_https("http://county.example", &[]).is_ok());
        assert!(matches!(
            require_https("http://county.example", &pins),
            Err(Error::BadInput { reason: "pins_need_https", .. })
        ));
    }

    #[test]
    fn a_county_ca_must_be_a_pem_certificate() {
        assert!(matches!(client_config(Some("nonsense"), &[]), Err(Error::BadInput { reason: "invalid_ca", .. })));
        assert!(client_config(None, &[]).unwrap().is_none(), "no CA and no pins: reqwest's own roots");
        assert!(client_config(None, &[B64.encode([0u8; 32])]).unwrap().is_some());
    }

    #[test]
    fn the_cause_is_found_inside_an_io_error() {
        let pin = rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(PinMismatch))));
        let io = std::io::Error::other(pin);
        assert_eq!(certificate_failure(&io), Some(PIN_MISMATCH));
        let io = std::io::Error::other(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
        assert_eq!(certificate_failure(&io), Some(UNTRUSTED));
        assert_eq!(certificate_failure(&std::io::Error::other("reset")), None);
        // As a TLS connector reports it: an I/O error around an I/O error around the cause.
        let pin = rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(PinMismatch))));
        let nested = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, pin));
        assert_eq!(certificate_failure(&nested), Some(PIN_MISMATCH));
    }
}
