//! Crashes, for real: processes killed with SIGKILL at random points, then
//! reopened. A phone process (`field_driver`) that records and syncs; the
//! server process (`test_server`, the real `fengqiao-server` command line)
//! killed while a phone pushes and while it uploads a photo. Afterwards the
//! stores open cleanly, every recorded item is on the server exactly once, and
//! every photo is there with the right bytes.
//!
//! CI runs a short version; `FENGQIAO_LONG=1` the long one (figures in
//! docs/RELIABILITY.md). `FENGQIAO_SEED=N` replays a run.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fengqiao_core::{ClientOptions, FieldClient, NewPhoto, SledClientStore, UploadState};
use fengqiao_domain::EntityKind;
use fengqiao_tests::crash::{self, counts, long_mode, read_journal, server_blob, ServerProcess};
use fengqiao_tests::phone::{fast_options, reopen, routine_visit};
use fengqiao_tests::photos::{photo_bytes, sha_hex};
use fengqiao_tests::TestServer;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

const DRIVER: &str = env!("CARGO_BIN_EXE_field_driver");
const SERVER: &str = env!("CARGO_BIN_EXE_test_server");

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The store after a kill: it must open (no damage, no lost acknowledged write).
async fn assert_store_opens(dir: &Path) {
    for _ in 0..200 {
        match SledClientStore::open(
            dir,
            &fengqiao_core::StoreKey::from_bytes(&fengqiao_tests::phone::STORE_KEY).expect("key"),
        ) {
            Ok(_) => return,
            Err(fengqiao_core::store::StoreError::Backend(m)) if m.contains("lock") || m.contains("temporarily") => {
                tokio::time::sleep(ms(25)).await
            }
            Err(e) => panic!("the phone store does not open cleanly after a kill: {e}"),
        }
    }
    panic!("the phone store stayed locked");
}

/// Syncs until nothing is left to push or upload (bounded).
async fn drain(phone: &FieldClient) {
    for _ in 0..40 {
        let _ = phone.sync().await;
        let st = phone.sync_status().unwrap();
        if st.pending_ops == 0 && st.photos_pending == 0 {
            assert!(st.quarantined.is_empty(), "nothing should be refused: {:?}", st.quarantined);
            assert_eq!(st.photos_failed, 0);
            return;
        }
        tokio::time::sleep(ms(50)).await;
    }
    panic!("the phone did not converge: {:?}", phone.sync_status().unwrap());
}

/// Every visit in the feed appears once; the ones in `expected` are all there.
fn assert_exactly_once(feed: &[(u64, String, Uuid)], expected: &[Uuid]) {
    let visits = counts(feed, "visit");
    let dups: Vec<_> = visits.iter().filter(|(_, n)| **n != 1).collect();
    assert!(dups.is_empty(), "visits in the feed more than once: {dups:?}");
    let missing: Vec<_> = expected.iter().filter(|id| !visits.contains_key(id)).collect();
    assert!(missing.is_empty(), "recorded visits missing on the server: {missing:?}");
    let atts = counts(feed, "attachment");
    assert!(atts.values().all(|n| *n == 1), "an attachment in the feed twice");
    let seqs: Vec<u64> = feed.iter().map(|c| c.0).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "the feed is in sequence order");
}

/// 1. A phone app killed (SIGKILL) at random points while it records, attaches
/// photos and syncs; reopened each time. At the end every visit whose
/// `record_visit` returned is on the server exactly once, every photo whose
/// `attach_photo` returned is there with its bytes, and the store opened
/// cleanly after every kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_killed_at_random_points_keeps_every_recorded_item_exactly_once() {
    let iterations = if long_mode() { 200 } else { 12 };
    let seed = crash::seed("phone_killed_at_random_points");
    let mut rng = StdRng::seed_from_u64(seed);
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let (user, secretary) = (server.cred("leader.t1v1g1").unwrap(), server.cred("secretary.t1v1").unwrap());
    let journal = dirs[2].path().join("journal");
    let sec_token = crash::token(&server.url(), &secretary.username, &secretary.password).await.unwrap();
    let before: HashSet<Uuid> =
        counts(&crash::feed(&server.url(), &sec_token).await.unwrap(), "visit").into_keys().collect();

    let started = Instant::now();
    for i in 0..iterations {
        let mut child = Command::new(DRIVER)
            .arg("--data")
            .arg(dirs[1].path())
            .args(["--url", &server.url(), "--user", &user.username, "--password", &user.password])
            .arg("--journal")
            .arg(&journal)
            .args(["--seed", &(seed.wrapping_add(i)).to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // The kill point: anywhere from opening the store to deep in the loop.
        tokio::time::sleep(ms(rng.gen_range(10..1500))).await;
        if let Some(status) = child.try_wait().unwrap() {
            panic!("iteration {i}: the phone process ended by itself ({status})");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_store_opens(dirs[1].path()).await;
    }
    let killing = started.elapsed();

    let phone = reopen(dirs[1].path(), &server.url(), &fast_options())
        .await
        .unwrap_or_else(|e| panic!("the phone store did not open (damaged?): {e}"));
    drain(&phone).await;
    let (visits, photos) = read_journal(&journal);
    assert!(!visits.is_empty(), "the phone recorded something between kills");
    let feed = crash::feed(&server.url(), &sec_token).await.unwrap();
    assert_exactly_once(&feed, &visits);
    // Nothing extra either: the server's new visits are exactly the phone's.
    let on_server: HashSet<Uuid> = counts(&feed, "visit").into_keys().filter(|id| !before.contains(id)).collect();
    let on_phone: HashSet<Uuid> = phone.list_visits(100_000).unwrap().into_iter().map(|v| v.visit.id).collect();
    assert_eq!(on_server, on_phone, "server and phone hold the same visits");
    assert!(phone.list_visits(100_000).unwrap().iter().all(|v| !v.pending));
    let states = phone.photo_states().unwrap();
    for sha in &photos {
        let Ok(blob) = std::fs::read(server_blob(&server.data_dir, sha)) else {
            panic!(
                "recorded photo {sha} is not on the server; on the phone: {:?}; the server's record: {:?}",
                states.iter().find(|s| &s.sha256 == sha),
                server.state().unwrap().store.photo(sha)
            );
        };
        assert_eq!(&sha_hex(&blob), sha, "the server's photo has the right bytes");
    }
    assert!(phone.photo_states().unwrap().iter().all(|p| p.state == UploadState::Done));
    println!(
        "phone kills: {iterations} SIGKILLs in {:.1}s; {} visits and {} photos recorded, {} visits on the server, \
         all exactly once",
        killing.as_secs_f64(),
        visits.len(),
        photos.len(),
        on_server.len()
    );
}

/// 2. The server process killed (SIGKILL) while a phone pushes, restarted on
/// the same data dir: the phone converges, every visit is there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_during_push_loses_and_duplicates_nothing() {
    let rounds = if long_mode() { 30 } else { 3 };
    let seed = crash::seed("server_killed_during_push");
    let mut rng = StdRng::seed_from_u64(seed);
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = ServerProcess::start(Path::new(SERVER), dirs[0].path()).unwrap();
    let url = server.url();
    let opts = ClientOptions { push_batch_size: 10, ..fast_options() };
    let phone = Arc::new(
        reopen(dirs[1].path(), &url, &opts)
            .await
            .unwrap_or_else(|e| panic!("the phone store did not open (damaged?): {e}")),
    );
    phone.login("leader.t2v1g1".into(), server.password("leader.t2v1g1").unwrap()).await.unwrap();
    phone.sync().await.unwrap();
    let households = phone.households().unwrap();
    let mut ids = Vec::new();
    let mut interrupted = 0;
    for r in 0..rounds {
        for i in 0..60 {
            let h = &households[(r * 7 + i) % households.len()];
            ids.push(phone.record_visit(routine_visit(h, &format!("第{r}轮第{i}户"))).unwrap().id);
        }
        let p = phone.clone();
        let sync = tokio::spawn(async move { p.sync().await });
        tokio::time::sleep(ms(rng.gen_range(0..120))).await;
        server.kill().unwrap();
        if sync.await.unwrap().is_err() {
            interrupted += 1;
        }
        server.restart().unwrap();
        drain(&phone).await;
    }
    let token = crash::token(&url, "secretary.t2v1", &server.password("secretary.t2v1").unwrap()).await.unwrap();
    let feed = crash::feed(&url, &token).await.unwrap();
    assert_exactly_once(&feed, &ids);
    println!(
        "server kills during push: {rounds} SIGKILLs ({interrupted} cut a sync short), {} visits, each once",
        ids.len()
    );
}

/// 3. The server process killed (SIGKILL) while a photo uploads, at a random
/// point of the upload, restarted on the same data dir: the upload resumes or
/// restarts, and the server keeps the photo once with the right bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_during_photo_upload_keeps_each_photo_once_and_whole() {
    let rounds = if long_mode() { 20 } else { 3 };
    let seed = crash::seed("server_killed_during_photo_upload");
    let mut rng = StdRng::seed_from_u64(seed);
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = ServerProcess::start(Path::new(SERVER), dirs[0].path()).unwrap();
    let url = server.url();
    let opts = ClientOptions { upload_chunk_bytes: 32 * 1024, ..fast_options() };
    let phone = Arc::new(
        reopen(dirs[1].path(), &url, &opts)
            .await
            .unwrap_or_else(|e| panic!("the phone store did not open (damaged?): {e}")),
    );
    phone.login("leader.t1v2g1".into(), server.password("leader.t1v2g1").unwrap()).await.unwrap();
    phone.sync().await.unwrap();
    let households = phone.households().unwrap();
    let (mut shas, mut visits, mut mid_upload) = (Vec::new(), Vec::new(), 0);
    for r in 0..rounds {
        let visit = phone.record_visit(routine_visit(&households[r % households.len()], "拍照存证")).unwrap();
        visits.push(visit.id);
        let bytes = photo_bytes(rng.gen_range(600..1200) * 1024, rng.gen());
        let src = dirs[1].path().join(format!("src-{r}.jpg"));
        std::fs::write(&src, &bytes).unwrap();
        let sha = phone
            .attach_photo(NewPhoto {
                target_kind: EntityKind::Visit,
                target_id: visit.id,
                source_path: src.to_string_lossy().into_owned(),
                content_type: "image/jpeg".into(),
                caption: "院墙".into(),
            })
            .unwrap()
            .sha256;
        assert_eq!(sha, sha_hex(&bytes));
        let cut_at = rng.gen_range(0..bytes.len() as u64);
        let p = phone.clone();
        let sync = tokio::spawn(async move { p.sync().await });
        // Kill when the upload has passed a random byte (or the sync ended).
        for _ in 0..2000 {
            let done = phone
                .photo_states()
                .unwrap()
                .into_iter()
                .find(|s| s.sha256 == sha)
                .is_some_and(|s| s.bytes_done >= cut_at || s.state == UploadState::Done);
            if done || sync.is_finished() {
                break;
            }
            tokio::time::sleep(ms(2)).await;
        }
        server.kill().unwrap();
        if sync.await.unwrap().is_err() {
            mid_upload += 1;
        }
        server.restart().unwrap();
        drain(&phone).await;
        let blob = std::fs::read(server_blob(&server.data_dir, &sha)).expect("the photo is on the server");
        assert!(blob == bytes, "round {r}: the server's copy has the right bytes");
        shas.push(sha);
    }
    let token = crash::token(&url, "secretary.t1v2", &server.password("secretary.t1v2").unwrap()).await.unwrap();
    let feed = crash::feed(&url, &token).await.unwrap();
    assert_exactly_once(&feed, &visits);
    assert_eq!(counts(&feed, "attachment").len(), rounds, "one attachment per photo");
    let blobs_dir = server.data_dir.join("photos").join("blobs");
    let stored: usize = std::fs::read_dir(&blobs_dir)
        .unwrap()
        .flatten()
        .map(|d| std::fs::read_dir(d.path()).map(|f| f.count()).unwrap_or(0))
        .sum();
    assert_eq!(stored, shas.len(), "each photo stored once, no half uploads kept");
    println!("server kills during upload: {rounds} SIGKILLs ({mid_upload} cut an upload short), photos whole and once");
}
