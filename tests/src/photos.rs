//! Helpers for tests of photos: deterministic photo bytes, the source file an
//! app hands over, a phone with a synced visit to attach to, and the server's
//! side (download, blobs kept).

use std::path::Path;
use std::time::Duration;

use fengqiao_core::{ClientOptions, FieldClient, NewPhoto, PhotoStatus, RetryPolicy};
use fengqiao_domain::{EntityKind, Visit};
use sha2::{Digest, Sha256};

use crate::phone::{as_jpeg, fast_options, reopen, routine_visit, sign_in};
use crate::TestServer;

/// `len` deterministic, incompressible-looking bytes (a xorshift stream from
/// `seed`; another seed, other bytes), as a JPEG (see [`as_jpeg`]).
pub fn photo_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let bytes = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    as_jpeg(bytes)
}

/// SHA-256 of `bytes`, lowercase hex (a photo's name on the server).
pub fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes a source image file for the app to hand over; its path.
pub fn source(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write the source image");
    p.to_string_lossy().into_owned()
}

/// [`fast_options`] with uploads in chunks of at most `chunk` bytes and
/// `attempts` tries per request.
pub fn upload_options(chunk: usize, attempts: u32) -> ClientOptions {
    ClientOptions {
        upload_chunk_bytes: chunk as u32,
        retry: RetryPolicy {
            max_attempts: attempts,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
        },
        ..fast_options()
    }
}

/// A phone signed in as `user` that has pulled its scope, recorded a visit to
/// its first household and synced it.
pub async fn phone_with_visit(
    dir: &Path,
    url: &str,
    server: &TestServer,
    user: &str,
    opts: &ClientOptions,
) -> (FieldClient, Visit) {
    let p = reopen(dir, url, opts).await.expect("open the phone");
    sign_in(&p, server, user).await;
    p.sync().await.expect("first sync");
    let h = p.households().expect("households").remove(0);
    let v = p.record_visit(routine_visit(&h, "院墙开裂，拍照存证")).expect("record a visit");
    assert_eq!(p.sync().await.expect("sync the visit").pushed_applied, 1);
    (p, v)
}

/// A JPEG at `path` attached to `visit`.
pub fn new_photo(visit: &Visit, path: &str) -> NewPhoto {
    NewPhoto {
        target_kind: EntityKind::Visit,
        target_id: visit.id,
        source_path: path.to_string(),
        content_type: "image/jpeg".into(),
        caption: "院墙".into(),
    }
}

/// The phone's upload state of the photo `sha`.
pub fn state_of(p: &FieldClient, sha: &str) -> PhotoStatus {
    p.photo_states().expect("photo states").into_iter().find(|s| s.sha256 == sha).expect("photo queued")
}

/// How many photos the server keeps.
pub fn server_blob_count(server: &TestServer) -> usize {
    let root = server.data_dir.join("photos").join("blobs");
    std::fs::read_dir(root)
        .map(|d| d.flatten().map(|e| std::fs::read_dir(e.path()).map(|f| f.count()).unwrap_or(0)).sum())
        .unwrap_or(0)
}

/// `GET /v1/photos/{sha}` with `tok` (and a `Range` if given): status and body.
pub async fn download(server: &TestServer, tok: &str, sha: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = reqwest::Client::new().get(format!("{}/v1/photos/{sha}", server.url())).bearer_auth(tok);
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    let resp = req.send().await.expect("download");
    (resp.status().as_u16(), resp.bytes().await.expect("download body").to_vec())
}

/// A camera-like JPEG: `w` × `h` pixels of noisy detail (compresses like a
/// photo, not like a flat colour) whose top-left quarter is red, stored with
/// EXIF `orientation`, a capture time, a maker and model and, if `gps`, a
/// location. Quality 92, as phone cameras save.
pub fn camera_jpeg(w: u32, h: u32, orientation: u16, gps: bool) -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let mut x: u32 = 0x9E37_79B9;
    let img = image::RgbImage::from_fn(w, h, |px, py| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let n = (x & 0x3F) as u8;
        if px < w / 2 && py < h / 2 {
            image::Rgb([190 + n, n, n])
        } else {
            image::Rgb([n, 60 + n, 150 + n])
        }
    });
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let mut fields = vec![
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation]) },
        Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: ascii("Xiaomi") },
        Field { tag: Tag::Model, ifd_num: In::PRIMARY, value: ascii("Redmi Note 12") },
        Field { tag: Tag::DateTimeOriginal, ifd_num: In::PRIMARY, value: ascii("2026:12:07 09:30:00") },
    ];
    if gps {
        fields.push(Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: ascii("N") });
        fields.push(Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![Rational { num: 43, denom: 1 }; 3]),
        });
    }
    let mut writer = exif::experimental::Writer::new();
    fields.iter().for_each(|f| writer.push_field(f));
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("write the EXIF");
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92);
    image::ImageEncoder::set_exif_metadata(&mut enc, tiff.into_inner()).expect("EXIF on a JPEG");
    enc.encode_image(&img).expect("encode the JPEG");
    out
}

/// The EXIF tags of a JPEG (none if it has no EXIF).
pub fn exif_tags(jpeg: &[u8]) -> Vec<exif::Tag> {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(jpeg))
        .map(|e| e.fields().map(|f| f.tag).collect())
        .unwrap_or_default()
}
