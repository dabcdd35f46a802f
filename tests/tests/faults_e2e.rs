//! The network's faults across the three kinds of sync traffic: a matrix of
//! fault-proxy modes (cut after N bytes, delay, answer dropped after the server
//! committed, slow trickle, a flipped byte, refused) × {push, pull, photo
//! upload}. In every case the phone converges once the fault is lifted, and the
//! server's feed holds every record exactly once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use fengqiao_core::{ClientOptions, FieldClient, NewPhoto, UploadState};
use fengqiao_domain::EntityKind;
use fengqiao_tests::crash::{self, counts, server_blob};
use fengqiao_tests::phone::{fast_options, routine_visit, signed_in_synced_with};
use fengqiao_tests::photos::photo_bytes;
use fengqiao_tests::{FaultMode, FaultProxy, TestServer};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn modes() -> Vec<FaultMode> {
    vec![
        FaultMode::CutAfterUpload(150),
        FaultMode::CutAfterUpload(1_200),
        FaultMode::CutAfterUpload(40_000),
        FaultMode::Delay(40),
        FaultMode::DropResponse,
        FaultMode::Trickle { bytes: 700, pause_ms: 3 },
        FaultMode::FlipByteAt(400),
        FaultMode::Refuse,
    ]
}

/// Syncs until nothing is left to push or upload and `done` holds (bounded).
async fn converge(phone: &FieldClient, done: impl Fn(&FieldClient) -> bool) -> usize {
    for attempt in 1..=30 {
        let _ = phone.sync().await;
        let st = phone.sync_status().unwrap();
        if st.pending_ops == 0 && st.photos_pending == 0 && done(phone) {
            assert!(st.quarantined.is_empty(), "nothing is refused for good: {:?}", st.quarantined);
            assert_eq!(st.photos_failed, 0, "no photo fails for good");
            return attempt;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("did not converge: {:?}", phone.sync_status().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_on_push_pull_and_upload_converges_with_nothing_lost_or_duplicated() {
    let started = Instant::now();
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    // one try per request, so a fault ends the faulty sync instead of being
    // retried away inside it
    let opts = ClientOptions {
        upload_chunk_bytes: 32 * 1024,
        retry: fengqiao_core::RetryPolicy { max_attempts: 1, ..fast_options().retry },
        request_timeout: Duration::from_secs(5),
        ..fast_options()
    };
    // through the proxy: the phone that pushes and uploads, and the one that pulls
    let leader = signed_in_synced_with(dirs[1].path(), &proxy.url(), &server, "leader.t1v1g1", opts.clone()).await;
    let secretary = signed_in_synced_with(dirs[2].path(), &proxy.url(), &server, "secretary.t1v1", opts.clone()).await;
    // straight to the server: the source of what the secretary pulls
    let other = signed_in_synced_with(dirs[3].path(), &server.url(), &server, "leader.t1v1g2", fast_options()).await;
    let (mine, theirs) = (leader.households().unwrap(), other.households().unwrap());

    let mut all_visits: Vec<Uuid> = Vec::new();
    let mut cases = 0;
    let mut failed_under_fault = 0;
    for (m, mode) in modes().into_iter().enumerate() {
        // push: five visits queued, pushed under the fault, then without it
        let ids: Vec<Uuid> = (0..5)
            .map(|i| {
                leader.record_visit(routine_visit(&mine[i % mine.len()], &format!("{mode:?} 推送 {i}"))).unwrap().id
            })
            .collect();
        proxy.set_mode(mode);
        let under = leader.sync().await;
        // a slow link is slow, not broken
        let slow_only = matches!(mode, FaultMode::Delay(_) | FaultMode::Trickle { .. });
        assert!(!slow_only || under.is_ok(), "{mode:?}: {under:?}");
        failed_under_fault += usize::from(under.is_err());
        proxy.set_mode(FaultMode::Pass);
        converge(&leader, |_| true).await;
        all_visits.extend(&ids);
        cases += 1;

        // pull: another leader's visits reach the secretary through the fault
        let pulled: Vec<Uuid> = (0..5)
            .map(|i| {
                other.record_visit(routine_visit(&theirs[i % theirs.len()], &format!("{mode:?} 拉取 {i}"))).unwrap().id
            })
            .collect();
        other.sync().await.unwrap();
        all_visits.extend(&pulled);
        proxy.set_mode(mode);
        failed_under_fault += usize::from(secretary.sync().await.is_err());
        proxy.set_mode(FaultMode::Pass);
        converge(&secretary, |p| {
            let have: HashSet<Uuid> = p.list_visits(100_000).unwrap().into_iter().map(|v| v.visit.id).collect();
            pulled.iter().all(|id| have.contains(id))
        })
        .await;
        cases += 1;

        // upload: a photo sent under the fault, then without it
        let visit = leader.record_visit(routine_visit(&mine[0], &format!("{mode:?} 照片"))).unwrap();
        all_visits.push(visit.id);
        converge(&leader, |_| true).await;
        let bytes = photo_bytes(150 * 1024 + m * 977, m as u64);
        let src = dirs[1].path().join(format!("src-{m}.jpg"));
        std::fs::write(&src, &bytes).unwrap();
        let sha = leader
            .attach_photo(NewPhoto {
                target_kind: EntityKind::Visit,
                target_id: visit.id,
                source_path: src.to_string_lossy().into_owned(),
                content_type: "image/jpeg".into(),
                caption: "存证".into(),
            })
            .unwrap()
            .sha256;
        proxy.set_mode(mode);
        failed_under_fault += usize::from(leader.sync().await.is_err());
        proxy.set_mode(FaultMode::Pass);
        converge(&leader, |p| p.photo_states().unwrap().iter().all(|s| s.state == UploadState::Done)).await;
        let blob = std::fs::read(server_blob(&server.data_dir, &sha)).expect("photo on the server");
        assert!(blob == bytes, "{mode:?}: the server's photo has the right bytes");
        assert_eq!(hex::encode(Sha256::digest(&blob)), sha);
        cases += 1;
    }

    // the server: every visit once, every attachment once, in sequence order
    let c = server.cred("secretary.t1v1").unwrap();
    let token = crash::token(&server.url(), &c.username, &c.password).await.unwrap();
    let feed = crash::feed(&server.url(), &token).await.unwrap();
    let visits = counts(&feed, "visit");
    for id in &all_visits {
        assert_eq!(visits.get(id), Some(&1), "visit {id} is on the server exactly once");
    }
    assert!(visits.values().all(|n| *n == 1), "no visit twice in the feed");
    assert_eq!(counts(&feed, "attachment").len(), modes().len());
    assert!(counts(&feed, "attachment").values().all(|n| *n == 1));
    assert!(feed.windows(2).all(|w| w[0].0 < w[1].0), "feed in sequence order");
    // and the phones hold what the server holds
    secretary.sync().await.unwrap();
    let on_secretary: HashSet<Uuid> = secretary.list_visits(100_000).unwrap().into_iter().map(|v| v.visit.id).collect();
    assert!(all_visits.iter().all(|id| on_secretary.contains(id)), "the secretary's phone has every visit");
    println!(
        "fault matrix: {} modes x 3 = {cases} cases, {failed_under_fault} syncs failed under the fault, {} visits and {} \
         photos each once, {:.1}s",
        modes().len(),
        all_visits.len(),
        modes().len(),
        started.elapsed().as_secs_f64()
    );
}

/// Found by the crash harness: every byte of a photo arrived, but the request
/// that brought the last ones ended before the server verified and kept the
/// photo (the phone was killed mid-answer). The next HEAD said "complete" and
/// the phone marked the photo uploaded though the server never kept it. Now
/// HEAD finishes such an upload first.
#[tokio::test]
async fn head_finishes_an_upload_whose_completion_was_cut() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let c = server.cred("leader.t1v1g1").unwrap();
    let token = crash::token(&server.url(), &c.username, &c.password).await.unwrap();
    let bytes = photo_bytes(100 * 1024 + 3, 9);
    let sha = hex::encode(Sha256::digest(&bytes));
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}/v1/photos/", server.url()))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", format!("sha256 {}", base64::engine::general_purpose::STANDARD.encode(&sha)))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let id: Uuid = location.rsplit('/').next().unwrap().parse().unwrap();
    // the bytes arrive and their chunk is kept; the verification that should follow never runs
    let state = server.state().unwrap();
    let mut w = state.blobs.write_partial(id, 0).await.unwrap();
    std::io::Write::write_all(&mut w, &bytes).unwrap();
    drop(w);
    state.blobs.keep_chunk(id, 0).await.unwrap();
    assert!(state.store.photo(&sha).unwrap().is_none());

    let head = http
        .head(format!("{}{location}", server.url()))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["upload-offset"].to_str().unwrap(), bytes.len().to_string());
    assert!(state.store.photo(&sha).unwrap().is_some(), "a complete offset means a kept photo");
    assert!(std::fs::read(server_blob(&server.data_dir, &sha)).unwrap() == bytes);
}
