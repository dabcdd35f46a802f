//! Photo uploads end to end: real server (sled, tus endpoint), real phone
//! cores (sled, photo folder), real HTTP on loopback, faults injected by the
//! TCP proxy: resumed after a cut or a kill, a damaged chunk re-sent, the same
//! bytes kept once, a lost file or a full photo folder; each against both
//! photo backends (the data dir's folder, and an S3 bucket in `moto_server`).
//! Who may download a photo is in `photos_access_e2e.rs`; helpers in
//! `fengqiao_tests::photos`.

use std::sync::Arc;

use fengqiao_core::{ClientError, ClientOptions, SyncPhase, SyncProgress, UploadState};
use fengqiao_domain::EntityKind;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::moto::Photos;
use fengqiao_tests::phone::reopen;
use fengqiao_tests::photos::{
    camera_jpeg, download, exif_tags, new_photo, phone_with_visit, photo_bytes, sha_hex, source, state_of,
    upload_options,
};
use fengqiao_tests::{FaultMode, FaultProxy};

const KIB: usize = 1024;

/// Upload headers and small requests around the chunks (push, pull, HEAD, ...).
const OVERHEAD: u64 = 32 * KIB as u64;

/// b. The connection is cut mid-upload: the next sync asks the server for its
/// offset and re-sends at most one chunk.
async fn cut_mid_upload_resumes_from_the_server_offset_and_resends_at_most_one_chunk(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let chunk = 64 * KIB;
    // one try per request: the cut ends this sync instead of being retried in it
    let opts = upload_options(chunk, 1);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &proxy.url(), &server, "leader.t1v1g2", &opts).await;
    let bytes = photo_bytes(1024 * KIB, 2);
    let len = bytes.len() as u64;
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "a.jpg", &bytes))).unwrap().sha256;
    // a fresh connection: the proxy counts from the first byte of this sync
    drop(leader);
    let leader = reopen(dirs[1].path(), &proxy.url(), &opts).await.expect("the phone store did not open");

    proxy.set_mode(FaultMode::CutAfterUpload(400_000));
    let before = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst);
    let err = leader.sync().await.unwrap_err();
    assert!(err.is_transient(), "a cut connection is a network failure: {err:?}");
    let first = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    let st = state_of(&leader, &sha);
    let UploadState::Uploading { bytes_done, total } = st.state else { panic!("mid-upload: {st:?}") };
    assert_eq!(total, len);
    assert!(bytes_done >= 4 * chunk as u64 && bytes_done < len, "{bytes_done}");
    assert_eq!(bytes_done % chunk as u64, 0, "progress is saved per confirmed chunk");
    assert_eq!(st.bytes_done, bytes_done);

    proxy.set_mode(FaultMode::Pass);
    let before = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst);
    let report = leader.sync().await.unwrap();
    assert_eq!(report.photos_uploaded, 1);
    let second = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert!(second <= len - bytes_done + OVERHEAD, "resumed from the server's offset: {second} bytes sent");
    assert!(second >= len - bytes_done, "{second}");
    assert!(
        first + second <= len + chunk as u64 + 2 * OVERHEAD,
        "at most one chunk sent twice: {first} + {second} for {len}"
    );
    assert_eq!(state_of(&leader, &sha).state, UploadState::Done);
    assert_eq!(Photos::blob(&server, &sha).await.unwrap(), bytes);
}

/// b2. Chunks grow while the link keeps up, never past `upload_chunk_bytes`: a
/// cut still re-sends at most one chunk, and progress moves at most one bound
/// at a time.
async fn growing_chunks_stay_within_the_bound_and_a_cut_resends_at_most_one(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let (mib, bound) = (1024 * KIB as u64, 2048 * KIB as u64);
    let opts = upload_options(bound as usize, 1);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &proxy.url(), &server, "leader.t1v2g2", &opts).await;
    let bytes = photo_bytes(5 * 1024 * KIB + 123, 7);
    let len = bytes.len() as u64;
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "g.jpg", &bytes))).unwrap().sha256;
    drop(leader);
    let leader = reopen(dirs[1].path(), &proxy.url(), &opts).await.expect("the phone store did not open");

    // cut inside the third chunk (1 MiB, 1 MiB, then 1 or 2 MiB)
    proxy.set_mode(FaultMode::CutAfterUpload(2_600_000));
    let before = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst);
    assert!(leader.sync().await.unwrap_err().is_transient());
    let first = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    let UploadState::Uploading { bytes_done, .. } = state_of(&leader, &sha).state else { panic!("mid-upload") };
    assert!(bytes_done >= mib && bytes_done < len && bytes_done % mib == 0, "{bytes_done}");

    proxy.set_mode(FaultMode::Pass);
    let before = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let report = leader.sync_with(Some(Arc::new(Progress(tx))), None).await.unwrap();
    assert_eq!(report.photos_uploaded, 1);
    let second = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert!(first + second <= len + bound + 2 * OVERHEAD, "at most one chunk sent twice: {first} + {second}");
    let mut steps = Vec::new();
    while let Ok(done) = rx.try_recv() {
        steps.push(done);
    }
    // from where the server stood on
    let steps: Vec<u64> = steps.into_iter().skip_while(|d| *d != bytes_done).collect();
    assert_eq!((steps.first(), steps.last()), (Some(&bytes_done), Some(&len)), "{steps:?}");
    assert!(steps.windows(2).all(|w| w[1] >= w[0] && w[1] - w[0] <= bound), "chunks within the bound: {steps:?}");
    assert_eq!(Photos::blob(&server, &sha).await.unwrap(), bytes);
}

/// c. A byte flipped in a chunk: the server answers 460 and discards it, the
/// phone re-sends that chunk and the photo completes with the right bytes.
async fn corrupted_chunk_is_refused_discarded_and_resent(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let chunk = 256 * KIB;
    let opts = upload_options(chunk, 2);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &proxy.url(), &server, "leader.t1v1g3", &opts).await;
    let bytes = photo_bytes(1024 * KIB, 3);
    let len = bytes.len() as u64;
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "b.jpg", &bytes))).unwrap().sha256;
    drop(leader);
    let leader = reopen(dirs[1].path(), &proxy.url(), &opts).await.expect("the phone store did not open");

    // byte 100 000 of the connection falls inside the first chunk's body
    proxy.set_mode(FaultMode::FlipByteAt(100_000));
    let before = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst);
    let report = leader.sync().await.unwrap();
    let sent = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!((report.photos_uploaded, report.photos_failed), (1, 0));
    assert!(sent >= len + chunk as u64, "the damaged chunk was sent again: {sent}");
    assert!(sent < len + 2 * chunk as u64, "only that chunk: {sent}");
    assert_eq!(Photos::blob(&server, &sha).await.unwrap(), bytes, "the server kept the right bytes");
    assert_eq!(state_of(&leader, &sha).state, UploadState::Done);
}

/// Reports upload progress to the test.
struct Progress(tokio::sync::mpsc::UnboundedSender<u64>);

impl SyncProgress for Progress {
    fn on_progress(&self, phase: SyncPhase, done: u64, _total: u64) {
        if phase == SyncPhase::Uploading {
            let _ = self.0.send(done);
        }
    }
}

/// d. The app is killed mid-upload (the sync task dropped, the client with it)
/// and reopened: the upload resumes where the server stands. Cancelling leaves
/// the same resumable state.
async fn killed_and_reopened_mid_upload_resumes(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let chunk = 64 * KIB;
    let opts = upload_options(chunk, 2);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &proxy.url(), &server, "leader.t1v2g1", &opts).await;
    let bytes = photo_bytes(1536 * KIB, 4);
    let len = bytes.len() as u64;
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "c.jpg", &bytes))).unwrap().sha256;

    // first a cancel at 3 chunks: resumable, reported as cancelled
    let cancel = fengqiao_core::CancelHandle::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let leader = Arc::new(leader);
    let task = {
        let (leader, cancel) = (leader.clone(), cancel.clone());
        tokio::spawn(async move { leader.sync_with(Some(Arc::new(Progress(tx))), Some(cancel)).await })
    };
    while let Some(done) = rx.recv().await {
        if done >= 3 * chunk as u64 {
            cancel.cancel();
            break;
        }
    }
    assert_eq!(task.await.unwrap().unwrap_err(), ClientError::Cancelled);
    let after_cancel = state_of(&leader, &sha).bytes_done;
    assert!(after_cancel >= 3 * chunk as u64 && after_cancel < len, "{after_cancel}");

    // then a kill at 10 chunks: the task is dropped mid-request
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = {
        let leader = leader.clone();
        tokio::spawn(async move { leader.sync_with(Some(Arc::new(Progress(tx))), None).await })
    };
    while let Some(done) = rx.recv().await {
        if done >= 10 * chunk as u64 {
            task.abort();
            break;
        }
    }
    assert!(task.await.unwrap_err().is_cancelled(), "killed before it finished");
    drop(leader);

    let leader = reopen(dirs[1].path(), &proxy.url(), &opts).await.expect("the phone store did not open");
    let st = state_of(&leader, &sha);
    let UploadState::Uploading { bytes_done, .. } = st.state else { panic!("still mid-upload: {st:?}") };
    assert!(bytes_done >= 10 * chunk as u64 && bytes_done < len, "{bytes_done}");
    assert_eq!(leader.sync_status().unwrap().photos_pending, 1);
    let before = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst);
    let report = leader.sync().await.unwrap();
    let sent = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!(report.photos_uploaded, 1);
    assert!(sent <= len - bytes_done + chunk as u64 + OVERHEAD, "resumed, not restarted: {sent}");
    assert_eq!(Photos::blob(&server, &sha).await.unwrap(), bytes);
    assert_eq!(state_of(&leader, &sha).state, UploadState::Done);
}

/// e. Two phones upload the same bytes: the server keeps one blob, and both
/// phones see their photo done.
async fn two_phones_same_bytes_one_blob_on_the_server(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let opts = upload_options(128 * KIB, 2);
    let (a, va) = phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t2v1g1", &opts).await;
    let (b, vb) = phone_with_visit(dirs[2].path(), &server.url(), &server, "leader.t2v1g2", &opts).await;
    let bytes = photo_bytes(700 * KIB, 5);
    let sha = sha_hex(&bytes);
    a.attach_photo(new_photo(&va, &source(dirs[1].path(), "same.jpg", &bytes))).unwrap();
    b.attach_photo(new_photo(&vb, &source(dirs[2].path(), "same.jpg", &bytes))).unwrap();
    let (ra, rb) = tokio::join!(a.sync(), b.sync());
    assert_eq!(ra.unwrap().photos_uploaded, 1);
    assert_eq!(rb.unwrap().photos_uploaded, 1);
    assert_eq!(photos.blob_count(&server).await, 1, "one blob per hash");
    assert_eq!(Photos::blob(&server, &sha).await.unwrap(), bytes);
    assert_eq!(state_of(&a, &sha).state, UploadState::Done);
    assert_eq!(state_of(&b, &sha).state, UploadState::Done);
    // each leader may download it through their own visit
    for user in ["leader.t2v1g1", "leader.t2v1g2"] {
        assert_eq!(download(&server, &ApiUser::login(&server, user).await.token, &sha, None).await.0, 200, "{user}");
    }
}

/// A photo that fails for good (its file is gone) is marked failed with the
/// reason; the next photo still goes up.
async fn a_photo_failing_for_good_does_not_block_the_others(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let (leader, visit) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t2v2g1", &upload_options(64 * KIB, 2)).await;
    let lost = photo_bytes(100 * KIB, 6);
    let kept = photo_bytes(100 * KIB, 7);
    let photo_files = || -> std::collections::BTreeSet<std::path::PathBuf> {
        std::fs::read_dir(dirs[1].path().join("photos")).unwrap().map(|e| e.unwrap().path()).collect()
    };
    let before = photo_files();
    let lost_sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "l.jpg", &lost))).unwrap().sha256;
    // File names are keyed hashes: the lost photo's file is the one this attach added.
    let lost_file: Vec<_> = photo_files().difference(&before).cloned().collect();
    assert_eq!(lost_file.len(), 1);
    let kept_sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "k.jpg", &kept))).unwrap().sha256;
    std::fs::remove_file(&lost_file[0]).unwrap();
    let report = leader.sync().await.unwrap();
    assert_eq!((report.photos_uploaded, report.photos_failed), (1, 1));
    match state_of(&leader, &lost_sha).state {
        UploadState::Failed { code, permanent: true, .. } => assert_eq!(code, "local_file_missing"),
        other => panic!("{other:?}"),
    }
    assert_eq!(state_of(&leader, &kept_sha).state, UploadState::Done);
    let status = leader.sync_status().unwrap();
    assert_eq!((status.photos_pending, status.photos_failed), (0, 1));
    assert!(Photos::blob(&server, &kept_sha).await.unwrap() == kept);
    assert!(Photos::blob(&server, &lost_sha).await.is_none());
}

/// The photo folder's budget: uploaded originals are evicted to make room,
/// photos not yet uploaded never are; when nothing can go, attaching fails
/// with `storage_full` and writes nothing.
async fn budget_evicts_uploaded_originals_never_pending_ones(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let size = 200 * KIB;
    let opts = ClientOptions { photo_budget_bytes: (size * 3 / 2) as u64, ..upload_options(64 * KIB, 2) };
    let (leader, visit) = phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t2v2g2", &opts).await;
    let (p1, p2, p3) = (photo_bytes(size, 8), photo_bytes(size, 9), photo_bytes(size, 10));
    let s1 = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "1.jpg", &p1))).unwrap().sha256;
    assert_eq!(leader.sync().await.unwrap().photos_uploaded, 1);
    assert!(leader.photo_bytes(&s1).unwrap().is_some(), "within budget: the original stays");

    // room for the second photo is made by evicting the uploaded first one
    let s2 = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "2.jpg", &p2))).unwrap().sha256;
    assert!(leader.photo_bytes(&s1).unwrap().is_none(), "the uploaded original was evicted");
    assert!(!state_of(&leader, &s1).local_file);
    assert_eq!(state_of(&leader, &s1).state, UploadState::Done);

    // the second is not uploaded yet: it is never evicted, so the third does not fit
    let src3 = source(dirs[1].path(), "3.jpg", &p3);
    let err = leader.attach_photo(new_photo(&visit, &src3)).unwrap_err();
    assert_eq!(err.code(), "storage_full", "{err:?}");
    assert!(leader.photo_bytes(&s2).unwrap().is_some());
    let files: Vec<String> = std::fs::read_dir(dirs[1].path().join("photos"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "no temp file, no third photo: {files:?}");
    assert!(!files[0].contains(&s2[..16]), "the file's name does not give its hash away");
    assert_eq!(leader.photos_for(EntityKind::Visit, visit.id).unwrap().len(), 2, "nothing else written");

    // once the second is uploaded, the third fits
    assert_eq!(leader.sync().await.unwrap().photos_uploaded, 1);
    leader.attach_photo(new_photo(&visit, &src3)).unwrap();
    assert!(leader.photo_bytes(&s2).unwrap().is_none());
}

/// Sized at capture (issue 24): a camera photo stored sideways with a
/// location is attached; what the phone queues and the server keeps is a
/// JPEG of long edge 1,600 (the seed policy), upright, with its capture time
/// and without location or device fields.
async fn a_camera_photo_is_sized_at_capture_and_the_server_keeps_the_sized_one(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let (leader, visit) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g2", &upload_options(256 * KIB, 2)).await;
    let taken = camera_jpeg(2400, 1800, 6, true);
    assert!(exif_tags(&taken).contains(&exif::Tag::GPSLatitude));
    let att = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "camera.jpg", &taken))).unwrap();
    assert!(att.length < taken.len() as u64 / 2, "{} bytes from {}", att.length, taken.len());
    assert_eq!(leader.sync().await.unwrap().photos_uploaded, 1);
    let kept = Photos::blob(&server, &att.sha256).await.unwrap();
    assert_eq!((sha_hex(&kept), kept.len() as u64), (att.sha256.clone(), att.length));
    let img = image::load_from_memory(&kept).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1200, 1600), "upright, long edge 1,600");
    assert!(img.get_pixel(1100, 100).0[0] > 150, "the red quarter turned to the top right");
    assert!(img.get_pixel(100, 100).0[0] < 120, "top left is not red");
    let tags = exif_tags(&kept);
    assert!(tags.contains(&exif::Tag::DateTimeOriginal), "{tags:?}");
    for gone in [exif::Tag::GPSLatitude, exif::Tag::Make, exif::Tag::Model, exif::Tag::Orientation] {
        assert!(!tags.contains(&gone), "{gone} dropped: {tags:?}");
    }
}

fengqiao_tests::both_photo_backends!(
    cut_mid_upload_resumes_from_the_server_offset_and_resends_at_most_one_chunk,
    growing_chunks_stay_within_the_bound_and_a_cut_resends_at_most_one,
    corrupted_chunk_is_refused_discarded_and_resent,
    killed_and_reopened_mid_upload_resumes,
    two_phones_same_bytes_one_blob_on_the_server,
    a_photo_failing_for_good_does_not_block_the_others,
    budget_evicts_uploaded_originals_never_pending_ones,
    a_camera_photo_is_sized_at_capture_and_the_server_keeps_the_sized_one,
);
