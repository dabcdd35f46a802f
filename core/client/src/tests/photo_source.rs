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

fn jpeg(dir: &Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..5000u32).map(|i| (i % 251) as u8));
    std::fs::write(&p, bytes).expect("write");
    p
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
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend([7u8; 3000]);
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
