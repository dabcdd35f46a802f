//! Photos a backup lists instead of carrying: when a data dir's photo bytes
//! live in an S3-compatible bucket (its [`PHOTO_STORE_FILE`] names it), a
//! backup holds the photo records (in the store's `photos` tree) and, in its
//! manifest, the bucket and a checksum over every photo's name and length; the
//! bytes stay in the bucket, kept by its own versioning (ADR 0038). `verify`
//! checks the listing against the records the backup holds.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file in a data dir that names the bucket of its photos (no secret: the
/// location's URL). Absent: photos in the data dir's `photos/`.
pub const PHOTO_STORE_FILE: &str = "photo-store.url";

/// The photos of a backup whose bytes stay in an object store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListedPhotos {
    /// Where the bytes are (`s3://bucket/prefix?…`; no credentials).
    pub location: String,
    /// How many photos the copied records name.
    pub count: u64,
    /// Their bytes, as the records say.
    pub bytes: u64,
    /// SHA-256 (hex) over each photo's `"<sha256> <length>\n"`, in the records' order.
    pub sha256: String,
}

/// The bucket a data dir's photos live in, if they live in one.
pub fn photo_store_of(data_dir: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(data_dir.join(PHOTO_STORE_FILE)) {
        Ok(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", data_dir.join(PHOTO_STORE_FILE).display())),
    }
}

/// Photo records as they go by, summed into a [`ListedPhotos`].
#[derive(Default)]
pub struct Listing {
    count: u64,
    bytes: u64,
    hash: Sha256,
    /// Each photo's name and length, in order.
    pub photos: Vec<(String, u64)>,
}

impl Listing {
    /// Takes one entry of the `photos` tree (key: the hash; value: the record
    /// as JSON). An unreadable record is an error.
    pub fn add(&mut self, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
        let sha = std::str::from_utf8(key).map_err(|_| anyhow::anyhow!("a photo record's name is not text"))?;
        let record: serde_json::Value = serde_json::from_slice(value)?;
        let length =
            record["length"].as_u64().ok_or_else(|| anyhow::anyhow!("photo {sha}: a record without length"))?;
        self.count += 1;
        self.bytes += length;
        self.hash.update(format!("{sha} {length}\n").as_bytes());
        self.photos.push((sha.to_string(), length));
        Ok(())
    }

    /// The sum, for photos in `location`.
    pub fn finish(&self, location: &str) -> ListedPhotos {
        ListedPhotos {
            location: location.to_string(),
            count: self.count,
            bytes: self.bytes,
            sha256: hex::encode(self.hash.clone().finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_sums_names_and_lengths_in_order_and_refuses_a_bad_record() {
        let mut a = Listing::default();
        a.add(b"aa", br#"{"sha256":"aa","length":3}"#).unwrap();
        a.add(b"bb", br#"{"sha256":"bb","length":4}"#).unwrap();
        let sum = a.finish("s3://b/p");
        assert_eq!((sum.count, sum.bytes, sum.location.as_str()), (2, 7, "s3://b/p"));
        let mut b = Listing::default();
        b.add(b"aa", br#"{"sha256":"aa","length":3}"#).unwrap();
        b.add(b"bb", br#"{"sha256":"bb","length":5}"#).unwrap();
        assert_ne!(b.finish("s3://b/p").sha256, sum.sha256, "a length that differs changes the sum");
        assert!(Listing::default().add(b"cc", b"{}").is_err());
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(photo_store_of(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join(PHOTO_STORE_FILE), "s3://b/p\n").unwrap();
        assert_eq!(photo_store_of(dir.path()).unwrap().as_deref(), Some("s3://b/p"));
    }
}
