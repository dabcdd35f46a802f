//! Ed25519 signing keys: made on first start, kept in the store (so several
//! stateless servers can share them), published as a JWKS for third parties.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::Utc;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::store::{SigningKeyRecord, Store, StoreError};

/// One usable key.
pub struct LoadedKey {
    /// Key id.
    pub kid: String,
    /// For signing (only the newest key signs).
    pub encoding: EncodingKey,
    /// For verifying.
    pub decoding: DecodingKey,
    /// JWK `x`.
    pub public_x: String,
}

/// The server's keys: the newest signs, all verify (rotation keeps old tokens valid
/// until they expire).
pub struct KeyRing {
    keys: Vec<LoadedKey>,
}

/// Makes a new key record (private key as PKCS#8 DER).
pub fn generate() -> Result<SigningKeyRecord, StoreError> {
    let signing = SigningKey::generate(&mut rand::rngs::OsRng);
    let der =
        signing.to_pkcs8_der().map_err(|e| StoreError::Backend(format!("could not encode a new signing key: {e}")))?;
    let public = signing.verifying_key().to_bytes();
    let kid = hex::encode(&Sha256::digest(public)[..8]);
    Ok(SigningKeyRecord {
        kid,
        private_pkcs8_b64: STANDARD.encode(der.as_bytes()),
        public_x: URL_SAFE_NO_PAD.encode(public),
        created_at: Utc::now(),
    })
}

impl KeyRing {
    /// Loads the store's keys, making the first one if there is none.
    pub fn load_or_create(store: &dyn Store) -> Result<KeyRing, StoreError> {
        let mut records = store.signing_keys()?;
        if records.is_empty() {
            let k = generate()?;
            store.add_signing_key(&k)?;
            records.push(k);
        }
        let mut keys = Vec::with_capacity(records.len());
        for r in records {
            let der = STANDARD
                .decode(&r.private_pkcs8_b64)
                .map_err(|_| StoreError::Corrupt(format!("signing key {} is not base64", r.kid)))?;
            let decoding = DecodingKey::from_ed_components(&r.public_x)
                .map_err(|_| StoreError::Corrupt(format!("signing key {} has a bad public part", r.kid)))?;
            keys.push(LoadedKey {
                kid: r.kid,
                encoding: EncodingKey::from_ed_der(&der),
                decoding,
                public_x: r.public_x,
            });
        }
        Ok(KeyRing { keys })
    }

    /// Adds a fresh key to the store; it signs from the next start on.
    pub fn rotate(store: &dyn Store) -> Result<String, StoreError> {
        let k = generate()?;
        store.add_signing_key(&k)?;
        Ok(k.kid)
    }

    /// The key that signs new tokens (the newest).
    pub fn current(&self) -> Option<&LoadedKey> {
        self.keys.last()
    }

    /// The key with this id, if it is ours.
    pub fn by_kid(&self, kid: &str) -> Option<&LoadedKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The public keys as a JSON Web Key Set.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": k.kid, "x": k.public_x}))
            .collect();
        json!({ "keys": keys })
    }
}
