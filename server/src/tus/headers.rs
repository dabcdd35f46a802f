//! Parsers of the tus upload headers (`Upload-Metadata`, `Upload-Checksum`) and
//! of `Range` on photo downloads: pure functions over header text, kept apart
//! from the handlers so the fuzz targets (`fuzz/`) can build them alone.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Parses `Upload-Metadata`: comma-separated `key base64value` pairs.
pub fn parse_metadata(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut it = pair.splitn(2, ' ');
        let key = it.next().unwrap_or_default();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("Upload-Metadata: bad key".into());
        }
        let value = match it.next() {
            Some(v) => {
                let bytes = STANDARD.decode(v.trim()).map_err(|_| format!("Upload-Metadata: {key} is not base64"))?;
                String::from_utf8(bytes).map_err(|_| format!("Upload-Metadata: {key} is not UTF-8"))?
            }
            None => String::new(),
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

/// Parses `Upload-Checksum: <algorithm> <base64 digest>`.
pub fn parse_checksum(raw: &str) -> Result<(String, Vec<u8>), String> {
    let mut it = raw.trim().splitn(2, ' ');
    let alg = it.next().unwrap_or_default().to_ascii_lowercase();
    let digest =
        STANDARD.decode(it.next().unwrap_or_default().trim()).map_err(|_| "Upload-Checksum: digest is not base64")?;
    match (alg.as_str(), digest.len()) {
        ("sha1", 20) | ("sha256", 32) | ("crc32", 4) => Ok((alg, digest)),
        ("sha1" | "sha256" | "crc32", _) => Err("Upload-Checksum: digest has the wrong length".into()),
        _ => Err("Upload-Checksum: algorithm not supported (sha1, sha256, crc32)".into()),
    }
}

/// A single byte range of a photo of `len` bytes: `Ok(None)` for the whole photo.
#[allow(clippy::result_unit_err)] // the one failure is "not satisfiable" (416)
pub fn parse_range(raw: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(raw) = raw else { return Ok(None) };
    let spec = raw.trim().strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') || len == 0 {
        return Err(());
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len - 1)
        }
        (s, "") => (s.parse().map_err(|_| ())?, len - 1),
        (s, e) => (s.parse().map_err(|_| ())?, e.parse::<u64>().map_err(|_| ())?.min(len - 1)),
    };
    if start > end || start >= len {
        return Err(());
    }
    Ok(Some((start, end)))
}
