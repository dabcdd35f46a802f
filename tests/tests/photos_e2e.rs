//! Photos end to end: real server (sled, tus endpoint), real phone cores (sled,
//! photo folder), real HTTP on loopback, faults injected by the TCP proxy.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fengqiao_core::{
    ClientError, ClientOptions, FieldClient, NewPhoto, PhotoStatus, RetryPolicy, SyncPhase, SyncProgress, UploadState,
};
use fengqiao_domain::{EntityKind, Visit};
use fengqiao_tests::phone::{fast_options, routine_visit};
use fengqiao_tests::{FaultMode, FaultProxy, TestServer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const KIB: usize = 1024;

/// Deterministic, incompressible-looking bytes.
fn photo_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let bytes = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    fengqiao_tests::phone::as_jpeg(bytes)
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes a source image file for the app to hand over.
fn source(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_string_lossy().into_owned()
}

fn options(chunk: usize, attempts: u32) -> ClientOptions {
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

/// Opens a phone on `dir`, waiting for a just-dropped store's lock to go.
async fn open_phone(dir: &Path, url: &str, opts: &ClientOptions) -> FieldClient {
    for _ in 0..100 {
        match FieldClient::open(
            dir.to_string_lossy().into_owned(),
            url.to_string(),
            fengqiao_tests::phone::store_key(),
            opts.clone(),
        ) {
            Ok(p) => return p,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("the phone store did not open");
}

/// A signed-in phone that has pulled its scope, recorded a visit and synced it.
async fn phone_with_visit(
    dir: &Path,
    url: &str,
    server: &TestServer,
    user: &str,
    opts: &ClientOptions,
) -> (FieldClient, Visit) {
    let c = server.cred(user).unwrap();
    let p = open_phone(dir, url, opts).await;
    p.login(c.username, c.password).await.unwrap();
    p.sync().await.unwrap();
    let h = p.households().unwrap().remove(0);
    let v = p.record_visit(routine_visit(&h, "院墙开裂，拍照存证")).unwrap();
    assert_eq!(p.sync().await.unwrap().pushed_applied, 1);
    (p, v)
}

fn new_photo(visit: &Visit, path: &str) -> NewPhoto {
    NewPhoto {
        target_kind: EntityKind::Visit,
        target_id: visit.id,
        source_path: path.to_string(),
        content_type: "image/jpeg".into(),
        caption: "院墙".into(),
    }
}

fn state_of(p: &FieldClient, sha: &str) -> PhotoStatus {
    p.photo_states().unwrap().into_iter().find(|s| s.sha256 == sha).expect("photo queued")
}

/// Where the server keeps a verified photo.
fn server_blob(server: &TestServer, sha: &str) -> PathBuf {
    server.data_dir.join("photos").join("blobs").join(&sha[..2]).join(sha)
}

fn server_blob_count(server: &TestServer) -> usize {
    let root = server.data_dir.join("photos").join("blobs");
    std::fs::read_dir(root)
        .map(|d| d.flatten().map(|e| std::fs::read_dir(e.path()).map(|f| f.count()).unwrap_or(0)).sum())
        .unwrap_or(0)
}

async fn token(server: &TestServer, user: &str) -> String {
    let c = server.cred(user).unwrap();
    let r: Value = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", server.url()))
        .json(&json!({"username": c.username, "password": c.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

async fn download(server: &TestServer, tok: &str, sha: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = reqwest::Client::new().get(format!("{}/v1/photos/{sha}", server.url())).bearer_auth(tok);
    if let Some(r) = range {
        req = req.header("Range", r);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
}

/// Upload headers and small requests around the chunks (push, pull, HEAD, ...).
const OVERHEAD: u64 = 32 * KIB as u64;

/// a. Attach + sync uploads after the record; the village secretary downloads
/// the same bytes (ranges too); another village's secretary gets 404. The same
/// bytes attached twice are stored once.
#[tokio::test]
async fn attached_photo_uploads_and_only_those_who_see_the_visit_may_download_it() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let (leader, visit) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", &options(64 * KIB, 2)).await;
    let bytes = photo_bytes(300 * KIB + 17, 1);
    let sha = sha_hex(&bytes);
    let src = source(dirs[1].path(), "IMG_0001.jpg", &bytes);
    let a1 = leader.attach_photo(new_photo(&visit, &src)).unwrap();
    let a2 = leader.attach_photo(new_photo(&visit, &src)).unwrap();
    assert_eq!((a1.sha256.as_str(), a1.length), (sha.as_str(), bytes.len() as u64));
    assert_eq!(a2.sha256, sha);
    std::fs::remove_file(&src).unwrap(); // the app may delete its copy: the core has its own
    let local: Vec<_> = std::fs::read_dir(dirs[1].path().join("photos")).unwrap().flatten().collect();
    assert_eq!(local.len(), 1, "the same bytes twice are stored once");

    let listed = leader.photos_for(EntityKind::Visit, visit.id).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|p| p.pending && p.status.as_ref().is_some_and(|s| s.is_pending() && !s.confirmed)));
    assert_eq!(leader.sync_status().unwrap().photos_pending, 1);
    assert_eq!(state_of(&leader, &sha).state, UploadState::Pending);

    let report = leader.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.photos_uploaded, report.photos_failed), (2, 1, 0));
    let st = state_of(&leader, &sha);
    assert_eq!((st.state, st.bytes_done, st.local_file), (UploadState::Done, bytes.len() as u64, true));
    assert_eq!(leader.sync_status().unwrap().photos_pending, 0);
    assert!(leader.photos_for(EntityKind::Visit, visit.id).unwrap().iter().all(|p| !p.pending));
    assert_eq!(std::fs::read(server_blob(&server, &sha)).unwrap(), bytes, "the server kept the same bytes");
    assert_eq!(leader.photo_bytes(&sha).unwrap().unwrap(), bytes);

    let secretary = token(&server, "secretary.t1v1").await;
    let (status, body) = download(&server, &secretary, &sha, None).await;
    assert_eq!(status, 200);
    assert!(body == bytes, "the secretary downloads the same bytes");
    let (status, body) = download(&server, &secretary, &sha, Some("bytes=1000-1999")).await;
    assert_eq!((status, body.as_slice()), (206, &bytes[1000..2000]));
    let (status, body) = download(&server, &secretary, &sha, Some("bytes=-17")).await;
    assert_eq!((status, body.as_slice()), (206, &bytes[bytes.len() - 17..]));

    let other = token(&server, "secretary.t1v2").await;
    assert_eq!(download(&server, &other, &sha, None).await.0, 404, "another village's secretary");
    let stranger = photo_bytes(10, 99);
    assert_eq!(download(&server, &secretary, &sha_hex(&stranger), None).await.0, 404, "unknown photo");
}

/// An unsatisfiable `Range` is one JSON error (`invalid_range`) with
/// `Content-Range: bytes */LEN` and nothing cacheable; a photo is served with
/// `nosniff` and a Content-Security-Policy that lets nothing in it run.
#[tokio::test]
async fn an_unsatisfiable_range_is_one_json_error_and_photos_carry_a_csp() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let (leader, visit) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", &options(64 * KIB, 2)).await;
    let bytes = photo_bytes(20 * KIB, 7);
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "r.jpg", &bytes))).unwrap().sha256;
    assert_eq!(leader.sync().await.unwrap().photos_uploaded, 1);
    let tok = token(&server, "secretary.t1v1").await;
    let get = |range: Option<&'static str>| {
        let mut req = reqwest::Client::new().get(format!("{}/v1/photos/{sha}", server.url())).bearer_auth(&tok);
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        req.send()
    };
    let r = get(Some("bytes=999999-")).await.unwrap();
    assert_eq!(r.status(), 416);
    let h = r.headers().clone();
    assert_eq!(h.get("content-range").unwrap(), &format!("bytes */{}", bytes.len()));
    assert!(h.get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
    assert!(
        h.get("cache-control").is_none_or(|c| !c.to_str().unwrap().contains("immutable")),
        "an error is not cached for good: {h:?}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_range", "the error once, not wrapped: {body}");
    assert!(!body["message"].as_str().unwrap().contains("invalid_range"), "{body}");

    let r = get(None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(r.headers().get("content-security-policy").unwrap(), "default-src 'none'; sandbox");
    assert!(r.headers().get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
}

/// Knowing a photo's hash is not holding it: a group leader in another town
/// attaches a known hash to his own visit. The attach is applied (records
/// sync ahead of photos) but grants no bytes: his download answers exactly
/// what a photo that does not exist answers. The uploader's village secretary,
/// who sees the uploader's visit, gets the bytes; an attach before its
/// author's own upload grants them once that upload completes.
#[tokio::test]
async fn knowing_a_photos_hash_grants_no_bytes_only_an_authors_upload_does() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let opts = options(64 * KIB, 2);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", &opts).await;
    let bytes = photo_bytes(100 * KIB, 11);
    let sha = sha_hex(&bytes);
    leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "p.jpg", &bytes))).unwrap();

    // The attacker's own visit, and an attach of the known hash to it.
    let (_attacker_phone, own) = phone_with_visit(dirs[2].path(), &server.url(), &server, "leader.t2v1g1", &opts).await;
    let attacker = fengqiao_tests::api::ApiUser::login(&server, "leader.t2v1g1").await;
    let attach = json!({"id": uuid::Uuid::now_v7(), "target_kind": "visit", "target_id": own.id, "sha256": sha,
        "length": bytes.len(), "content_type": "image/jpeg", "caption": "", "author": attacker.id});
    assert_eq!(attacker.push("attach_photo", attach).await["status"], "applied", "the attach itself is applied");

    // Before anyone uploaded: nobody gets the bytes.
    let secretary = token(&server, "secretary.t1v1").await;
    assert_eq!(download(&server, &secretary, &sha, None).await.0, 404);
    // The honest upload (its attach was pushed first, in the same sync).
    let report = leader.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.photos_uploaded), (1, 1));
    let (status, body) = download(&server, &secretary, &sha, None).await;
    assert_eq!(status, 200, "the uploader's colleague who sees the visit gets the photo");
    assert!(body == bytes);

    // The attacker: the same answer as for a photo that does not exist.
    let stolen = attacker.get(&format!("/v1/photos/{sha}")).await;
    let nothing = attacker.get(&format!("/v1/photos/{}", sha_hex(b"no such photo"))).await;
    assert_eq!((stolen.status().as_u16(), nothing.status().as_u16()), (404, 404));
    let (hs, hn) = (stolen.headers().clone(), nothing.headers().clone());
    for name in ["content-type", "content-length", "content-range", "cache-control", "etag"] {
        assert_eq!(hs.get(name), hn.get(name), "{name}");
    }
    assert_eq!(stolen.bytes().await.unwrap(), nothing.bytes().await.unwrap(), "byte-identical");
    let ranged = reqwest::Client::new()
        .get(format!("{}/v1/photos/{sha}", server.url()))
        .bearer_auth(&attacker.token)
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 404, "no part of it either");
}

/// b. The connection is cut mid-upload: the next sync asks the server for its
/// offset and re-sends at most one chunk.
#[tokio::test]
async fn cut_mid_upload_resumes_from_the_server_offset_and_resends_at_most_one_chunk() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let chunk = 64 * KIB;
    // one try per request: the cut ends this sync instead of being retried in it
    let opts = options(chunk, 1);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &proxy.url(), &server, "leader.t1v1g2", &opts).await;
    let bytes = photo_bytes(1024 * KIB, 2);
    let len = bytes.len() as u64;
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "a.jpg", &bytes))).unwrap().sha256;
    // a fresh connection: the proxy counts from the first byte of this sync
    drop(leader);
    let leader = open_phone(dirs[1].path(), &proxy.url(), &opts).await;

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
    assert_eq!(std::fs::read(server_blob(&server, &sha)).unwrap(), bytes);
}

/// b2. Chunks grow while the link keeps up, never past `upload_chunk_bytes`: a
/// cut still re-sends at most one chunk, and progress moves at most one bound
/// at a time.
#[tokio::test]
async fn growing_chunks_stay_within_the_bound_and_a_cut_resends_at_most_one() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let (mib, bound) = (1024 * KIB as u64, 2048 * KIB as u64);
    let opts = options(bound as usize, 1);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &proxy.url(), &server, "leader.t1v2g2", &opts).await;
    let bytes = photo_bytes(5 * 1024 * KIB + 123, 7);
    let len = bytes.len() as u64;
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "g.jpg", &bytes))).unwrap().sha256;
    drop(leader);
    let leader = open_phone(dirs[1].path(), &proxy.url(), &opts).await;

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
    assert_eq!(std::fs::read(server_blob(&server, &sha)).unwrap(), bytes);
}

/// c. A byte flipped in a chunk: the server answers 460 and discards it, the
/// phone re-sends that chunk and the photo completes with the right bytes.
#[tokio::test]
async fn corrupted_chunk_is_refused_discarded_and_resent() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let chunk = 256 * KIB;
    let opts = options(chunk, 2);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &proxy.url(), &server, "leader.t1v1g3", &opts).await;
    let bytes = photo_bytes(1024 * KIB, 3);
    let len = bytes.len() as u64;
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "b.jpg", &bytes))).unwrap().sha256;
    drop(leader);
    let leader = open_phone(dirs[1].path(), &proxy.url(), &opts).await;

    // byte 100 000 of the connection falls inside the first chunk's body
    proxy.set_mode(FaultMode::FlipByteAt(100_000));
    let before = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst);
    let report = leader.sync().await.unwrap();
    let sent = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!((report.photos_uploaded, report.photos_failed), (1, 0));
    assert!(sent >= len + chunk as u64, "the damaged chunk was sent again: {sent}");
    assert!(sent < len + 2 * chunk as u64, "only that chunk: {sent}");
    assert_eq!(std::fs::read(server_blob(&server, &sha)).unwrap(), bytes, "the server kept the right bytes");
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
#[tokio::test]
async fn killed_and_reopened_mid_upload_resumes() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let chunk = 64 * KIB;
    let opts = options(chunk, 2);
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

    let leader = open_phone(dirs[1].path(), &proxy.url(), &opts).await;
    let st = state_of(&leader, &sha);
    let UploadState::Uploading { bytes_done, .. } = st.state else { panic!("still mid-upload: {st:?}") };
    assert!(bytes_done >= 10 * chunk as u64 && bytes_done < len, "{bytes_done}");
    assert_eq!(leader.sync_status().unwrap().photos_pending, 1);
    let before = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst);
    let report = leader.sync().await.unwrap();
    let sent = proxy.upstream_bytes.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert_eq!(report.photos_uploaded, 1);
    assert!(sent <= len - bytes_done + chunk as u64 + OVERHEAD, "resumed, not restarted: {sent}");
    assert_eq!(std::fs::read(server_blob(&server, &sha)).unwrap(), bytes);
    assert_eq!(state_of(&leader, &sha).state, UploadState::Done);
}

/// e. Two phones upload the same bytes: the server keeps one blob, and both
/// phones see their photo done.
#[tokio::test]
async fn two_phones_same_bytes_one_blob_on_the_server() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let opts = options(128 * KIB, 2);
    let (a, va) = phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t2v1g1", &opts).await;
    let (b, vb) = phone_with_visit(dirs[2].path(), &server.url(), &server, "leader.t2v1g2", &opts).await;
    let bytes = photo_bytes(700 * KIB, 5);
    let sha = sha_hex(&bytes);
    a.attach_photo(new_photo(&va, &source(dirs[1].path(), "same.jpg", &bytes))).unwrap();
    b.attach_photo(new_photo(&vb, &source(dirs[2].path(), "same.jpg", &bytes))).unwrap();
    let (ra, rb) = tokio::join!(a.sync(), b.sync());
    assert_eq!(ra.unwrap().photos_uploaded, 1);
    assert_eq!(rb.unwrap().photos_uploaded, 1);
    assert_eq!(server_blob_count(&server), 1, "one blob per hash");
    assert_eq!(std::fs::read(server_blob(&server, &sha)).unwrap(), bytes);
    assert_eq!(state_of(&a, &sha).state, UploadState::Done);
    assert_eq!(state_of(&b, &sha).state, UploadState::Done);
    // each leader may download it through their own visit
    for user in ["leader.t2v1g1", "leader.t2v1g2"] {
        assert_eq!(download(&server, &token(&server, user).await, &sha, None).await.0, 200, "{user}");
    }
}

/// A photo that fails for good (its file is gone) is marked failed with the
/// reason; the next photo still goes up.
#[tokio::test]
async fn a_photo_failing_for_good_does_not_block_the_others() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let (leader, visit) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t2v2g1", &options(64 * KIB, 2)).await;
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
    assert!(std::fs::read(server_blob(&server, &kept_sha)).unwrap() == kept);
    assert!(!server_blob(&server, &lost_sha).exists());
}

/// The photo folder's budget: uploaded originals are evicted to make room,
/// photos not yet uploaded never are; when nothing can go, attaching fails
/// with `storage_full` and writes nothing.
#[tokio::test]
async fn budget_evicts_uploaded_originals_never_pending_ones() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let size = 200 * KIB;
    let opts = ClientOptions { photo_budget_bytes: (size * 3 / 2) as u64, ..options(64 * KIB, 2) };
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

/// A signature photo attached to a mediation agreement from the phone uploads and
/// joins the dispute's case file; the village secretary can download it.
#[tokio::test]
async fn signature_photo_attaches_to_an_agreement_and_joins_the_case_file() {
    use fengqiao_core::{NewAgreement, NewDispute};
    use fengqiao_domain::disputes::{Analysis, Difficulty, Party};
    use fengqiao_domain::ladder::Grade;
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let (leader, _) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", &options(64 * 1024, 3)).await;
    leader.prepare_case_numbers(1).await.unwrap();
    let d = leader
        .report_dispute(NewDispute {
            kind: "neighbour".into(),
            origin_unit: server.cred("leader.t1v1g1").unwrap().unit_id,
            parties: vec![Party { name: "张三".into(), household_id: None, phone: None }],
            summary: "排水沟纠纷".into(),
            grade: Grade::General,
            analysis: Analysis { cause: "排水".into(), consequences: "轻微".into(), difficulty: Difficulty::Low },
            found_at: None,
            lead_id: None,
            level: None,
        })
        .unwrap();
    let bytes = photo_bytes(150_000, 42);
    let sha = sha_hex(&bytes);
    let a = leader
        .record_agreement(NewAgreement {
            dispute_id: d.id,
            signed_at: None,
            terms: "疏通排水沟".into(),
            sum_fen: 0,
            obligations: "双方共同出工".into(),
            signature_photos: vec![sha.clone()],
        })
        .unwrap();
    let path = source(dirs[1].path(), "signature.jpg", &bytes);
    leader
        .attach_photo(NewPhoto {
            target_kind: EntityKind::Agreement,
            target_id: a.id,
            source_path: path,
            content_type: "image/jpeg".into(),
            caption: "双方签字".into(),
        })
        .unwrap();
    let r = leader.sync().await.unwrap();
    assert_eq!((r.rejected, r.photos_uploaded), (0, 1), "{r:?}");
    assert_eq!(std::fs::read(server_blob(&server, &sha)).unwrap(), bytes);
    // the village secretary may download it; another village's may not
    let sec = fengqiao_tests::api::ApiUser::login(&server, "secretary.t1v1").await;
    let got = sec.get(&format!("/v1/photos/{sha}")).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    let other = fengqiao_tests::api::ApiUser::login(&server, "secretary.t1v2").await;
    assert_eq!(other.get(&format!("/v1/photos/{sha}")).await.status(), 404);
}
