//! The tus header parsers (`Upload-Metadata`, `Upload-Checksum`, `Range` on photo
//! downloads). Must never panic; what they accept must be within bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The server's own parsers, built alone (they need only base64).
#[path = "../../server/src/tus/headers.rs"]
#[allow(dead_code)]
mod tus_headers;
use tus_headers::{parse_checksum, parse_metadata, parse_range};

fuzz_target!(|data: &[u8]| {
    let (len, rest) = match data.split_first_chunk::<8>() {
        Some((n, rest)) => (u64::from_le_bytes(*n) % (1 << 40), rest),
        None => (0, data),
    };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if let Ok(pairs) = parse_metadata(text) {
        for (k, _) in pairs {
            assert!(!k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()));
        }
    }
    if let Ok((alg, digest)) = parse_checksum(text) {
        assert!(matches!((alg.as_str(), digest.len()), ("sha1", 20) | ("sha256", 32)));
    }
    if let Ok(Some((start, end))) = parse_range(Some(text), len) {
        assert!(start <= end && end < len, "range {start}-{end} outside 0..{len}");
    }
});
