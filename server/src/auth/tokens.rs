//! Access tokens (JWT, EdDSA only) and opaque refresh tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::keys::KeyRing;

/// `iss` of every access token.
pub const ISSUER: &str = "fengqiao";
/// `aud` of every access token: the phone apps and scripts calling `/v1`.
pub const AUDIENCE: &str = "fengqiao-api";
/// Clock leeway for `exp` and `nbf`, seconds.
pub const LEEWAY_SECS: u64 = 30;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// Issued at (unix seconds).
    pub iat: u64,
    /// Not before (unix seconds).
    pub nbf: u64,
    /// Expires (unix seconds).
    pub exp: u64,
    /// Token id.
    pub jti: String,
    /// The refresh family (login session) it belongs to.
    pub sid: String,
}

/// Why a token was refused (all become 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Expired.
    Expired,
    /// Anything else: forged, wrong algorithm, key, issuer, audience, not yet valid.
    Invalid,
}

/// Signs claims with the current key.
pub fn sign(keys: &KeyRing, claims: &AccessClaims) -> Result<String, String> {
    let key = keys.current().ok_or("no signing key")?;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).map_err(|e| format!("signing failed: {e}"))
}

/// Verifies a token: EdDSA only, a `kid` we know, our issuer and audience, `exp`
/// and `nbf` checked, all claims present.
pub fn verify(keys: &KeyRing, token: &str) -> Result<AccessClaims, TokenProblem> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenProblem::Invalid)?;
    if header.alg != Algorithm::EdDSA {
        return Err(TokenProblem::Invalid);
    }
    let key = header.kid.as_deref().and_then(|kid| keys.by_kid(kid)).ok_or(TokenProblem::Invalid)?;
    let mut v = Validation::new(Algorithm::EdDSA);
    v.algorithms = vec![Algorithm::EdDSA];
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    v.validate_exp = true;
    v.validate_nbf = true;
    v.leeway = LEEWAY_SECS;
    match jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &v) {
        Ok(data) => Ok(data.claims),
        Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => Err(TokenProblem::Expired),
        Err(_) => Err(TokenProblem::Invalid),
    }
}

/// A new random opaque token (256 bits, base64url).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How a refresh token is stored: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Claims for a user and session, valid from `now` for `ttl_secs`.
pub fn claims_for(user: Uuid, family: Uuid, now: u64, ttl_secs: u64) -> AccessClaims {
    AccessClaims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: user.to_string(),
        iat: now,
        nbf: now,
        exp: now + ttl_secs,
        jti: Uuid::now_v7().to_string(),
        sid: family.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AccountStore, MemoryStore};

    fn ring() -> (MemoryStore, KeyRing) {
        let s = MemoryStore::new();
        let k = KeyRing::load_or_create(&s).unwrap();
        (s, k)
    }

    fn now() -> u64 {
        chrono::Utc::now().timestamp() as u64
    }

    #[test]
    fn signed_token_verifies_and_tampering_does_not() {
        let (_, keys) = ring();
        let c = claims_for(Uuid::now_v7(), Uuid::now_v7(), now(), 600);
        let t = sign(&keys, &c).unwrap();
        assert_eq!(verify(&keys, &t).unwrap(), c);
        // edit the claims after signing
        let parts: Vec<&str> = t.split('.').collect();
        let mut evil = c.clone();
        evil.sub = Uuid::now_v7().to_string();
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&evil).unwrap());
        assert_eq!(verify(&keys, &format!("{}.{}.{}", parts[0], body, parts[2])), Err(TokenProblem::Invalid));
        // alg none
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(verify(&keys, &format!("{}.{}.", none_header, parts[1])), Err(TokenProblem::Invalid));
    }

    #[test]
    fn expiry_not_before_issuer_audience_and_foreign_keys_are_checked() {
        let (_, keys) = ring();
        let mut c = claims_for(Uuid::now_v7(), Uuid::now_v7(), now() - 7200, 600);
        assert_eq!(verify(&keys, &sign(&keys, &c).unwrap()), Err(TokenProblem::Expired));
        c = claims_for(Uuid::now_v7(), Uuid::now_v7(), now() + 3600, 600);
        assert_eq!(verify(&keys, &sign(&keys, &c).unwrap()), Err(TokenProblem::Invalid));
        c = claims_for(Uuid::now_v7(), Uuid::now_v7(), now(), 600);
        c.aud = "someone-else".into();
        assert_eq!(verify(&keys, &sign(&keys, &c).unwrap()), Err(TokenProblem::Invalid));
        c.aud = AUDIENCE.into();
        c.iss = "evil".into();
        assert_eq!(verify(&keys, &sign(&keys, &c).unwrap()), Err(TokenProblem::Invalid));
        // signed by another server's key (unknown kid)
        let (_, other) = ring();
        let c = claims_for(Uuid::now_v7(), Uuid::now_v7(), now(), 600);
        assert_eq!(verify(&keys, &sign(&other, &c).unwrap()), Err(TokenProblem::Invalid));
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_and_signs_with_the_new_key() {
        let (store, keys) = ring();
        let c = claims_for(Uuid::now_v7(), Uuid::now_v7(), now(), 600);
        let old = sign(&keys, &c).unwrap();
        let kid = KeyRing::rotate(&store).unwrap();
        let keys = KeyRing::load_or_create(&store).unwrap();
        assert!(verify(&keys, &old).is_ok());
        let new = sign(&keys, &c).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&new).unwrap().kid, Some(kid));
        assert_eq!(keys.jwks()["keys"].as_array().unwrap().len(), 2);
        assert_eq!(store.signing_keys().unwrap().len(), 2);
    }
}
