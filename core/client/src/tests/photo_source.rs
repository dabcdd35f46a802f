//! What `attach_photo` refuses at once, with a stable reason and a Chinese
//! message, and what it records: a named pipe (which once hung the call and
//! every photo call after it), a folder, a file that is no image, and the
//! type the bytes show rather than the declared one; and `open` on an empty
//! data-dir path.

use std::path::Path;

use fengqiao_domain::Attachment;

use super::*;

/// A client with a photo folder, signed in as a group leader, with one visit.
async fn photo_env(t: &tempfile::TempDir) -> (FakeServer, Arc<FieldClient>, Uuid) {
    let mock = Arc::new(Mutex::new(Mock::new()));
    let m2 = mock.clone();
    let srv = FakeServer::start(move |req| m2.lock().expect("lock").handle(req)).await;
    let options = ClientOptions { photo_dir: Some(t.path().join("photos")), ..fast_options() };
    let client = FieldClient::with_store(Arc::new(MemoryClientStore::new()), srv.url(), options).expect("client");
    client.login("leader".into(), "pw".into()).await.expect("login");
    client.sync().await.expect("sync");
    let v = client.record_visit(visit("证件照")).expect("visit");
    (srv, Arc::new(client), v.id)
}

fn photo(target: Uuid, path: &Path, declared: &str) -> NewPhoto {
    NewPhoto {
        target_kind: EntityKind::Visit,
        target_id: target,
        source_path: path.to_string_lossy().into_owned(),
        content_type: declared.into(),
        caption: String::new(),
    }
}

/// Runs `attach_photo` on its own thread; `None` if it has not returned within 5 s.
fn attach_within(client: &Arc<FieldClient>, p: NewPhoto) -> Option<Result<Attachment, ClientError>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let c = client.clone();
    std::thread::spawn(move || {
        let _ = tx.send(c.attach_photo(p));
    });
    rx.recv_timeout(Duration::from_secs(5)).ok()
}

fn reason(r: &Result<Attachment, ClientError>) -> String {
    match r {
        Err(ClientError::InvalidInput { reason, message }) => {
            assert!(message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "a Chinese message: {message}");
            reason.clone()
        }
        other => panic!("expected invalid_input, got {other:?}"),
    }
}

/// A real `w` × `h` JPEG (a gradient), with `exif` (TIFF bytes) if given.
fn jpeg_bytes(w: u32, h: u32, exif: Option<Vec<u8>>) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    if let Some(e) = exif {
        image::ImageEncoder::set_exif_metadata(&mut enc, e).expect("exif");
    }
    enc.encode_image(&img).expect("encode");
    out
}

fn jpeg(dir: &Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, jpeg_bytes(320, 240, None)).expect("write");
    p
}

/// EXIF with a GPS latitude.
fn gps_exif() -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let f = [
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![Rational { num: 43, denom: 1 }; 3]),
        },
    ];
    let mut w = exif::experimental::Writer::new();
    f.iter().for_each(|f| w.push_field(f));
    let mut out = std::io::Cursor::new(Vec::new());
    w.write(&mut out, true).expect("exif");
    out.into_inner()
}

fn has_gps(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .is_ok_and(|e| e.fields().any(|f| f.tag == exif::Tag::GPSLatitude))
}

/// The attach sizes the photo by the policy: what is stored, queued and
/// recorded is the sized JPEG (long edge 1,600, no location); a damaged JPEG
/// is refused with `photo_corrupt` and nothing is stored or queued.
#[tokio::test]
async fn an_attached_photo_is_sized_by_the_policy_and_a_damaged_one_is_refused() {
    let t = tempfile::tempdir().expect("tmp");
    let (_srv, client, visit_id) = photo_env(&t).await;
    let big = t.path().join("camera.jpg");
    let taken = jpeg_bytes(2400, 1800, Some(gps_exif()));
    std::fs::write(&big, &taken).expect("write");
    let att = client.attach_photo(photo(visit_id, &big, "image/jpeg")).expect("attach");
    let stored = client.photo_bytes(&att.sha256).expect("bytes").expect("present");
    assert_ne!(stored, taken, "not the original");
    assert_eq!((att.length, att.content_type.as_str()), (stored.len() as u64, "image/jpeg"));
    assert_eq!(image::load_from_memory(&stored).expect("decodes").width(), 1600);
    assert!(has_gps(&taken) && !has_gps(&stored), "the location is dropped");
    assert_eq!(client.photo_states().expect("states")[0].length, stored.len() as u64);

    let mut cut = jpeg_bytes(1200, 900, None);
    cut.truncate(cut.len() / 2);
    let damaged = t.path().join("cut.jpg");
    std::fs::write(&damaged, &cut).expect("write");
    let got = client.attach_photo(photo(visit_id, &damaged, "image/jpeg"));
    assert_eq!(reason(&got), crate::PHOTO_CORRUPT);
    assert_eq!(client.photo_states().expect("states").len(), 1, "nothing queued");
    assert_eq!(client.photos_for(EntityKind::Visit, visit_id).expect("photos").len(), 1);
    let files = std::fs::read_dir(t.path().join("photos")).expect("folder").count();
    assert_eq!(files, 1, "nothing stored");
}

/// A purpose the policy keeps as taken is neither scaled nor stripped.
#[tokio::test]
async fn a_purpose_the_policy_keeps_is_stored_as_taken() {
    let t = tempfile::tempdir().expect("tmp");
    let mock = Arc::new(Mutex::new(Mock::new()));
    let m2 = mock.clone();
    let srv = FakeServer::start(move |req| m2.lock().expect("lock").handle(req)).await;
    let mut policy = fengqiao_domain::policy::Policy::default();
    policy.photos.originals_for = vec![fengqiao_domain::policy::PhotoPurpose::Record];
    let options = ClientOptions { photo_dir: Some(t.path().join("photos")), policy, ..fast_options() };
    let client = FieldClient::with_store(Arc::new(MemoryClientStore::new()), srv.url(), options).expect("client");
    client.login("leader".into(), "pw".into()).await.expect("login");
    client.sync().await.expect("sync");
    let v = client.record_visit(visit("原图")).expect("visit");
    let taken = jpeg_bytes(2400, 1800, Some(gps_exif()));
    let src = t.path().join("paper.jpg");
    std::fs::write(&src, &taken).expect("write");
    let att = client.attach_photo(photo(v.id, &src, "image/jpeg")).expect("attach");
    assert_eq!(client.photo_bytes(&att.sha256).expect("bytes").expect("present"), taken, "byte for byte");
}

#[cfg(unix)]
#[tokio::test]
async fn a_named_pipe_is_refused_promptly_and_other_photo_calls_still_work() {
    let t = tempfile::tempdir().expect("tmp");
    let (_srv, client, visit_id) = photo_env(&t).await;
    let pipe = t.path().join("camera.jpg");
    crate::testutil::mkfifo(&pipe);
    let got = attach_within(&client, photo(visit_id, &pipe, "image/jpeg")).expect("a pipe must not hang the call");
    assert_eq!(reason(&got), crate::PHOTO_NOT_A_FILE);
    let got = attach_within(&client, photo(visit_id, t.path(), "image/jpeg")).expect("prompt");
    assert_eq!(reason(&got), crate::PHOTO_NOT_A_FILE, "a folder");
    // the photo lock is free: the next photo goes in
    let ok = attach_within(&client, photo(visit_id, &jpeg(t.path(), "ok.jpg"), "image/jpeg")).expect("not blocked");
    let att = ok.expect("a real photo is attached");
    assert_eq!(client.photo_states().expect("states").len(), 1);
    assert!(client.photo_bytes(&att.sha256).expect("bytes").is_some());
}

#[tokio::test]
async fn a_file_that_is_no_image_is_refused_and_the_recorded_type_is_the_sniffed_one() {
    let t = tempfile::tempdir().expect("tmp");
    let (_srv, client, visit_id) = photo_env(&t).await;
    let text = t.path().join("notes.jpg");
    std::fs::write(&text, "调解笔录：双方同意……".repeat(50)).expect("write");
    let got = client.attach_photo(photo(visit_id, &text, "image/jpeg"));
    assert_eq!(reason(&got), crate::PHOTO_NOT_AN_IMAGE);
    assert!(client.photo_states().expect("states").is_empty(), "nothing queued");
    assert!(client.photos_for(EntityKind::Visit, visit_id).expect("photos").is_empty());
    assert_eq!(client.sync_status().expect("status").pending_ops, 1, "only the visit waits");

    // a PNG the app called a JPEG is recorded as what it is
    let png = t.path().join("scan.jpg");
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(64, 48))
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("png");
    std::fs::write(&png, bytes).expect("write");
    let att = client.attach_photo(photo(visit_id, &png, "image/jpeg")).expect("attach");
    assert_eq!(att.content_type, "image/png");
    assert_eq!(client.photo_states().expect("states")[0].content_type, "image/png");
    let listed = client.photos_for(EntityKind::Visit, visit_id).expect("photos");
    assert_eq!(listed[0].attachment.content_type, "image/png");
}

#[test]
fn an_empty_data_dir_is_refused() {
    for dir in ["", "   "] {
        let err = FieldClient::open(dir.into(), "http://127.0.0.1:9".into(), vec![1u8; 32], ClientOptions::default())
            .expect_err("an empty data dir");
        match err {
            ClientError::InvalidInput { reason, message } => {
                assert_eq!(reason, crate::EMPTY_DATA_DIR);
                assert!(message.contains("数据目录"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
