//! Encryption at rest for everything the phone keeps (ADR 0010).
//!
//! The app hands in a 32-byte [`StoreKey`] (kept by the Android Keystore or
//! the iOS Keychain; the core never writes it to disk). It wraps a random data
//! key kept in the store; rotating the app's key re-wraps the data key in one
//! durable write. From the data key, HKDF-SHA256 derives three keys:
//!
//! - values: XChaCha20-Poly1305 with a random 24-byte nonce per write and the
//!   value's sled key as associated data (a value moved under another key
//!   fails to open);
//! - names: HMAC-SHA256, truncated to 16 bytes, of record ids, op ids and photo
//!   hashes, so sled keys and file names reveal none of them;
//! - photos: the STREAM construction over XChaCha20-Poly1305 (64 KiB segments,
//!   each authenticated, the last one marked), so a photo is encrypted and
//!   decrypted a segment at a time and read from any offset.

use chacha20poly1305::aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{StoreError, StoreResult};

/// Length of the app's key and of the data key.
pub const KEY_LEN: usize = 32;
/// Nonce length of XChaCha20-Poly1305.
const NONCE_LEN: usize = 24;
/// Authentication tag length.
pub(crate) const TAG_LEN: usize = 16;
/// Plaintext bytes per photo segment.
pub(crate) const SEGMENT: usize = 64 * 1024;
/// Nonce prefix length of STREAM over XChaCha20 (24 − 4 counter − 1 flag).
pub(crate) const STREAM_PREFIX_LEN: usize = 19;
/// Associated data of the wrapped data key.
const WRAP_AAD: &[u8] = b"fengqiao/store-key/v1";

/// The app's key for the phone store: 32 bytes from the platform's keystore.
/// Zeroed when dropped; `Debug` never prints it.
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

impl StoreKey {
    /// The key from its bytes; anything but 32 bytes is refused.
    pub fn from_bytes(bytes: &[u8]) -> StoreResult<StoreKey> {
        let arr: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| StoreError::InvalidKey(format!("a store key is {KEY_LEN} bytes, not {}", bytes.len())))?;
        Ok(StoreKey(Zeroizing::new(arr)))
    }

    /// A fresh random key (tests and first-run helpers; the app keeps it).
    pub fn generate() -> StoreKey {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(k.as_mut());
        StoreKey(k)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.0.as_ref()))
    }

    /// Wraps a data key under this key.
    pub(crate) fn wrap(&self, data_key: &DataKey) -> StoreResult<Vec<u8>> {
        seal_with(&self.cipher(), WRAP_AAD, data_key.0.as_ref())
    }

    /// Unwraps a data key; [`StoreError::WrongKey`] if this key did not wrap it.
    pub(crate) fn unwrap(&self, wrapped: &[u8]) -> StoreResult<DataKey> {
        let plain = Zeroizing::new(open_with(&self.cipher(), WRAP_AAD, wrapped).map_err(|_| StoreError::WrongKey)?);
        let arr: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| StoreError::WrongKey)?;
        Ok(DataKey(Zeroizing::new(arr)))
    }
}

/// The random key the store's data is encrypted under (wrapped by the
/// [`StoreKey`], never stored in the clear).
pub(crate) struct DataKey(Zeroizing<[u8; KEY_LEN]>);

impl DataKey {
    /// A fresh random data key.
    pub(crate) fn generate() -> DataKey {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        OsRng.fill_bytes(k.as_mut());
        DataKey(k)
    }
}

fn seal_with(cipher: &XChaCha20Poly1305, aad: &[u8], plain: &[u8]) -> StoreResult<Vec<u8>> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ct = cipher
        .encrypt(&nonce, Payload { msg: plain, aad })
        .map_err(|_| StoreError::Corrupt("encryption failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open_with(cipher: &XChaCha20Poly1305, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, ()> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(());
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad }).map_err(|_| ())
}

/// Decrypted values kept in memory (plaintext never goes to disk).
const OPENED_CACHE: usize = 4096;

/// Values opened recently, keyed by their associated data and nonce: a nonce
/// is random per write, so a hit is the very value authenticated before (a
/// rewritten value has a new nonce; a tampered one under the same nonce still
/// gets the authentic plaintext).
type OpenedCache = std::sync::Mutex<lru::LruCache<Vec<u8>, std::sync::Arc<Zeroizing<Vec<u8>>>>>;

/// The keys derived from the data key, and what they do.
pub struct Vault {
    values: XChaCha20Poly1305,
    opened: OpenedCache,
    photos: XChaCha20Poly1305,
    names: Zeroizing<[u8; KEY_LEN]>,
    /// Values pass through unsealed: only ever set by the benchmark-only
    /// constructor (feature `bench-plaintext`), to measure what sealing costs.
    plain: bool,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(<keys>)")
    }
}

impl Vault {
    /// The keys of a data key.
    pub(crate) fn new(data_key: &DataKey) -> Vault {
        let hk = Hkdf::<Sha256>::new(Some(b"fengqiao/phone-store/v1"), data_key.0.as_ref());
        let derive = |info: &[u8]| {
            let mut k = Zeroizing::new([0u8; KEY_LEN]);
            // 32 bytes is far below HKDF-SHA256's limit: expand cannot fail here.
            if hk.expand(info, k.as_mut()).is_err() {
                tracing::error!("key derivation failed");
            }
            k
        };
        let values = derive(b"values");
        let photos = derive(b"photos");
        let cap = std::num::NonZeroUsize::new(OPENED_CACHE).unwrap_or(std::num::NonZeroUsize::MIN);
        Vault {
            opened: std::sync::Mutex::new(lru::LruCache::new(cap)),
            values: XChaCha20Poly1305::new(Key::from_slice(values.as_ref())),
            photos: XChaCha20Poly1305::new(Key::from_slice(photos.as_ref())),
            names: derive(b"names"),
            plain: false,
        }
    }

    /// A vault that seals nothing, for the encryption-overhead benchmark only
    /// (never built into the apps: the feature is off by default).
    #[cfg(feature = "bench-plaintext")]
    pub fn plaintext_for_benchmarks() -> Vault {
        let mut v = Vault::ephemeral();
        v.plain = true;
        v
    }

    /// Keys that live only as long as this value (a client on an in-memory
    /// store still keeps its photo files sealed).
    pub fn ephemeral() -> Vault {
        Vault::new(&DataKey::generate())
    }

    /// Encrypts a value stored under `aad` (its tree and key).
    pub(crate) fn seal(&self, aad: &[u8], plain: &[u8]) -> StoreResult<Vec<u8>> {
        if self.plain {
            return Ok(plain.to_vec());
        }
        seal_with(&self.values, aad, plain)
    }

    /// Decrypts a value stored under `aad`; a value that fails authentication
    /// (tampered, moved, or from another key) is [`StoreError::Corrupt`].
    /// Recently opened values come from memory.
    pub(crate) fn open(&self, what: &str, aad: &[u8], sealed: &[u8]) -> StoreResult<Zeroizing<Vec<u8>>> {
        if self.plain {
            return Ok(Zeroizing::new(sealed.to_vec()));
        }
        let Some(nonce) = sealed.get(..NONCE_LEN) else {
            return Err(StoreError::Corrupt(format!("{what}: fails authentication (damaged or foreign)")));
        };
        let mut cache_key = Vec::with_capacity(aad.len() + NONCE_LEN);
        cache_key.extend_from_slice(aad);
        cache_key.extend_from_slice(nonce);
        if let Some(hit) = self.opened.lock().unwrap_or_else(|p| p.into_inner()).get(&cache_key) {
            return Ok(Zeroizing::new(hit.as_slice().to_vec()));
        }
        let plain = Zeroizing::new(
            open_with(&self.values, aad, sealed)
                .map_err(|_| StoreError::Corrupt(format!("{what}: fails authentication (damaged or foreign)")))?,
        );
        let kept = std::sync::Arc::new(plain.clone());
        self.opened.lock().unwrap_or_else(|p| p.into_inner()).put(cache_key, kept);
        Ok(plain)
    }

    /// The keyed hash standing for a name (`domain` separates uses).
    pub fn name(&self, domain: &[u8], raw: &[u8]) -> [u8; 16] {
        if self.plain {
            let mut out = [0u8; 16];
            let n = raw.len().min(16);
            out[..n].copy_from_slice(&raw[raw.len() - n..]);
            return out;
        }
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(self.names.as_ref()) {
            Ok(m) => m,
            // HMAC takes keys of any length.
            Err(_) => return [0u8; 16],
        };
        mac.update(&(domain.len() as u32).to_be_bytes());
        mac.update(domain);
        mac.update(raw);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }

    /// A fresh nonce prefix for one photo file.
    pub(crate) fn photo_prefix() -> [u8; STREAM_PREFIX_LEN] {
        let mut p = [0u8; STREAM_PREFIX_LEN];
        OsRng.fill_bytes(&mut p);
        p
    }

    fn stream(&self, prefix: &[u8; STREAM_PREFIX_LEN]) -> StreamBE32<XChaCha20Poly1305> {
        StreamBE32::from_aead(self.photos.clone(), prefix.as_slice().into())
    }

    /// Encrypts photo segment `index` in place (`last`: the file's final segment).
    pub(crate) fn seal_segment(
        &self,
        prefix: &[u8; STREAM_PREFIX_LEN],
        index: u32,
        last: bool,
        buf: &mut Vec<u8>,
    ) -> StoreResult<()> {
        self.stream(prefix)
            .encrypt_in_place(index, last, b"", buf)
            .map_err(|_| StoreError::Corrupt("photo encryption failed".into()))
    }

    /// Decrypts photo segment `index` in place; fails if it was altered, moved,
    /// or its last-segment mark does not match.
    pub(crate) fn open_segment(
        &self,
        prefix: &[u8; STREAM_PREFIX_LEN],
        index: u32,
        last: bool,
        buf: &mut Vec<u8>,
    ) -> StoreResult<()> {
        self.stream(prefix)
            .decrypt_in_place(index, last, b"", buf)
            .map_err(|_| StoreError::Corrupt("photo file fails authentication (damaged or foreign)".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_are_bound_to_their_key() {
        let v = Vault::new(&DataKey::generate());
        let sealed = v.seal(b"records/1", b"Zhang San 13800138000").expect("seal");
        assert!(!sealed.windows(9).any(|w| w == b"Zhang San"));
        assert_eq!(v.open("r", b"records/1", &sealed).expect("open").as_slice(), b"Zhang San 13800138000");
        assert_eq!(
            v.open("r", b"records/1", &sealed).expect("again, from memory").as_slice(),
            b"Zhang San 13800138000"
        );
        assert!(v.open("r", b"records/2", &sealed).is_err(), "moved value refused");
        let fresh = v.seal(b"records/3", b"Li Si").expect("seal");
        let mut flipped = fresh.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(v.open("r", b"records/3", &flipped).is_err(), "tampered value refused");
        // once authenticated, a value is served from memory: a later flip of
        // its bytes on disk cannot put anything but the authentic value in
        assert_eq!(v.open("r", b"records/3", &fresh).expect("open").as_slice(), b"Li Si");
        assert_eq!(v.open("r", b"records/3", &flipped).expect("cached").as_slice(), b"Li Si");
        assert!(v.open("r", b"records/1", b"short").is_err());
        let other = Vault::new(&DataKey::generate());
        assert!(other.open("r", b"records/1", &sealed).is_err(), "another key refused");
        assert_ne!(v.seal(b"a", b"x").expect("1"), v.seal(b"a", b"x").expect("2"), "fresh nonce each time");
    }

    #[test]
    fn names_are_keyed_and_domain_separated() {
        let v = Vault::new(&DataKey::generate());
        assert_eq!(v.name(b"op", b"abc"), v.name(b"op", b"abc"));
        assert_ne!(v.name(b"op", b"abc"), v.name(b"rec", b"abc"));
        assert_ne!(v.name(b"op", b"abc"), Vault::new(&DataKey::generate()).name(b"op", b"abc"));
    }

    #[test]
    fn wrapped_data_key_needs_the_right_store_key() {
        let app = StoreKey::generate();
        let dk = DataKey::generate();
        let wrapped = app.wrap(&dk).expect("wrap");
        let back = app.unwrap(&wrapped).expect("unwrap");
        assert_eq!(back.0.as_ref(), dk.0.as_ref());
        assert!(matches!(StoreKey::generate().unwrap(&wrapped), Err(StoreError::WrongKey)));
        assert!(matches!(StoreKey::from_bytes(&[1u8; 31]), Err(StoreError::InvalidKey(_))));
        assert_eq!(format!("{app:?}"), "StoreKey(<redacted>)");
    }

    #[test]
    fn photo_segments_open_only_in_place() {
        let v = Vault::new(&DataKey::generate());
        let prefix = Vault::photo_prefix();
        let mut seg = b"segment zero".to_vec();
        v.seal_segment(&prefix, 0, false, &mut seg).expect("seal");
        let mut wrong_index = seg.clone();
        assert!(v.open_segment(&prefix, 1, false, &mut wrong_index).is_err());
        let mut wrong_last = seg.clone();
        assert!(v.open_segment(&prefix, 0, true, &mut wrong_last).is_err(), "truncation is detected");
        v.open_segment(&prefix, 0, false, &mut seg).expect("open");
        assert_eq!(seg, b"segment zero");
    }
}
