//! Photos over tus 1.0.0 (core protocol plus the `creation`, `checksum` and
//! `expiration` extensions), all but the HTTP handlers
//! (`crate::http::photos_routes`, which parse and answer):
//! - [`headers`]: the parsers of `Upload-Metadata`, `Upload-Checksum` and
//!   `Range`, pure functions the fuzz targets (`fuzz/`) build alone;
//! - [`upload`]: the life of an upload (create, offset, append, verify and
//!   keep the whole photo, sweep the expired);
//! - [`ingest`]: one `PATCH` body written and hashed off the executor, and its
//!   verdict (kept, or dropped and why);
//! - [`busy`]: one writer per upload, running hashes;
//! - [`blobs`]: where photo bytes live ([`BlobStore`]); [`objects`]: in an
//!   object store, a local folder or an S3-compatible bucket
//!   ([`ObjectBlobStore`]), named by [`location`] ([`PhotoLocation`]).
//!
//! The upload declares the photo's SHA-256 in `Upload-Metadata` (`sha256`,
//! hex). Each `PATCH` may carry `Upload-Checksum` (`sha1`, `sha256`, or
//! `crc32`, the phone's choice, ADR 0020); a chunk that does not match is
//! discarded (460). When the last byte arrives the whole photo is checked
//! against the declared hash (kept as the bytes arrive), made durable and kept
//! only if it matches.

pub mod blobs;
pub mod busy;
pub mod headers;
pub mod ingest;
pub mod location;
pub mod objects;
pub mod upload;

pub use blobs::BlobStore;
pub use busy::Busy;
pub use headers::{parse_checksum, parse_metadata, parse_range};
pub use location::PhotoLocation;
pub use objects::ObjectBlobStore;

/// The protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// Extensions supported.
pub const TUS_EXTENSIONS: &str = "creation,checksum,expiration";
/// The `Upload-Checksum` algorithms accepted (`Tus-Checksum-Algorithm`): sha1
/// (which tus requires), sha256, and crc32, the phone's (ADR 0020).
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256,crc32";

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use sha2::{Digest, Sha256};

    #[test]
    fn ranges_parse_to_inclusive_bounds() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(parse_range(Some("bytes=7-"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=-4"), 10), Ok(Some((6, 9))));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Ok(Some((5, 9))));
        for bad in ["bytes=10-", "bytes=4-2", "items=0-1", "bytes=0-1,3-4", "bytes=-0", "bytes=x-1"] {
            assert_eq!(parse_range(Some(bad), 10), Err(()), "{bad}");
        }
    }

    #[test]
    fn metadata_and_checksum_headers_parse_strictly() {
        let m = parse_metadata("sha256 YWJj,filename dGVzdC5qcGc=,empty").unwrap();
        assert_eq!(
            m,
            vec![
                ("sha256".into(), "abc".into()),
                ("filename".into(), "test.jpg".into()),
                ("empty".into(), String::new())
            ]
        );
        assert!(parse_metadata("sha256 !!!").is_err());
        let d = STANDARD.encode(Sha256::digest(b"x"));
        assert_eq!(parse_checksum(&format!("sha256 {d}")).unwrap().0, "sha256");
        assert!(parse_checksum(&format!("md5 {d}")).is_err());
        assert!(parse_checksum("sha1 AAAA").is_err());
        assert_eq!(parse_checksum("CRC32 y/Q5Jg==").unwrap(), ("crc32".into(), vec![0xcb, 0xf4, 0x39, 0x26]));
        assert!(parse_checksum("crc32 y/Q5").is_err(), "3 bytes is not a crc32");
        assert!(parse_checksum("sha256").is_err());
    }
}
