//! Clock skew between devices: phones whose clocks are hours ahead, hours
//! behind, or years in the past record and sync; the server's sequence (never
//! a device clock) orders the feed; another phone pulls in that order; a
//! retried push is still deduped by op id; tokens keep working.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use fengqiao_core::{ClientOptions, FieldClient, ManualClock, NewVisit};
use fengqiao_tests::crash::{self, counts};
use fengqiao_tests::phone::{fast_options, phone_with, routine_visit, sign_in, signed_in_synced_with};
use fengqiao_tests::{FaultMode, FaultProxy, TestServer};
use uuid::Uuid;

async fn skewed(
    dir: &std::path::Path,
    url: &str,
    server: &TestServer,
    user: &str,
    clock: Arc<ManualClock>,
) -> FieldClient {
    signed_in_synced_with(dir, url, server, user, ClientOptions { clock, ..fast_options() }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skewed_clocks_neither_order_nor_dedupe_anything() {
    let dirs: Vec<tempfile::TempDir> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let now = Utc::now();
    let ahead = Arc::new(ManualClock::new(now + Duration::hours(9)));
    let behind = Arc::new(ManualClock::new(now - Duration::hours(7)));
    let long_ago = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2003, 3, 1, 8, 0, 0).unwrap()));
    // the phone ahead goes through the proxy, to lose an answer later
    let p_ahead = skewed(dirs[1].path(), &proxy.url(), &server, "leader.t1v1g1", ahead.clone()).await;
    let p_behind = skewed(dirs[2].path(), &server.url(), &server, "leader.t1v1g2", behind.clone()).await;
    let p_old = skewed(dirs[3].path(), &server.url(), &server, "leader.t1v1g3", long_ago.clone()).await;

    // Interleaved: each phone records and pushes in turn. The push order is the
    // order the server applies, whatever the devices' clocks say.
    let mut pushed: Vec<Uuid> = Vec::new();
    for round in 0..3 {
        for (p, clock) in [(&p_old, &long_ago), (&p_ahead, &ahead), (&p_behind, &behind)] {
            let h = p.households().unwrap();
            let id = p.record_visit(routine_visit(&h[round], &format!("第{round}轮"))).unwrap().id;
            assert_eq!(p.sync().await.unwrap().pushed_applied, 1);
            pushed.push(id);
            // the clocks run on (at their offsets), less than a token's life
            clock.advance(Duration::seconds(40));
        }
    }

    // A lost answer from the phone ahead: the retry is a duplicate, applied once.
    let h = p_ahead.households().unwrap();
    let retried = p_ahead.record_visit(routine_visit(&h[3], "重试")).unwrap().id;
    proxy.set_mode(FaultMode::DropResponse);
    assert!(p_ahead.sync().await.is_err());
    proxy.set_mode(FaultMode::Pass);
    let again = p_ahead.sync().await.unwrap();
    assert_eq!((again.pushed_applied, again.pushed_duplicate), (0, 1));
    pushed.push(retried);

    // The feed: in server sequence, which is the push order, not visited_at.
    let c = server.cred("secretary.t1v1").unwrap();
    let token = crash::token(&server.url(), &c.username, &c.password).await.unwrap();
    let feed = crash::feed(&server.url(), &token).await.unwrap();
    let ours: HashSet<Uuid> = pushed.iter().copied().collect();
    let order: Vec<Uuid> = feed.iter().filter(|c| c.1 == "visit" && ours.contains(&c.2)).map(|c| c.2).collect();
    assert_eq!(order, pushed, "the feed follows the server's sequence");
    assert!(counts(&feed, "visit").values().all(|n| *n == 1), "each visit once, the retried one too");
    let store = server.state().unwrap().store.clone();
    let visited_at: Vec<_> = pushed
        .iter()
        .map(|id| match store.record(fengqiao_domain::EntityKind::Visit, *id).unwrap() {
            Some(fengqiao_domain::Record::Visit(v)) => v.visited_at,
            other => panic!("visit {id} on the server: {other:?}"),
        })
        .collect();
    assert!(!visited_at.windows(2).all(|w| w[0] <= w[1]), "device times are out of order (the test means something)");
    assert!(visited_at[0].format("%Y").to_string() == "2003", "the device's own time is kept as data");

    // A second phone (normal clock) pulls them all, in server order, each once.
    let secretary = phone_with(dirs[4].path(), &server.url(), ClientOptions { pull_page_limit: 2, ..fast_options() });
    sign_in(&secretary, &server, "secretary.t1v1").await;
    let report = secretary.sync().await.unwrap();
    assert!(report.pages > 2, "paged through the feed");
    let seen: Vec<Uuid> =
        secretary.list_visits(1000).unwrap().into_iter().map(|v| v.visit.id).filter(|id| ours.contains(id)).collect();
    assert_eq!(seen.len(), pushed.len());
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), ours);

    // The phones' tokens kept working: the one ahead refreshed early, the ones
    // behind were refreshed when the server said so. One more sync each.
    for p in [&p_ahead, &p_behind, &p_old] {
        p.sync().await.unwrap();
        assert_eq!(p.sync_status().unwrap().pending_ops, 0);
    }
}

/// A phone whose clock fell back to 1970 (a drained battery) cannot stamp a
/// visit with "now": it says so clearly and queues nothing; with the date
/// entered by hand it records and syncs.
#[tokio::test]
async fn a_phone_clock_reset_to_1970_gets_a_clear_error_not_a_bad_record() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let epoch = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(1970, 1, 1, 0, 5, 0).unwrap()));
    let p = skewed(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", epoch).await;
    let h = p.households().unwrap();
    let err = p.record_visit(routine_visit(&h[0], "时钟错误")).unwrap_err();
    assert_eq!(err.code(), "invalid_input", "{err}");
    assert!(err.to_string().starts_with("走访日期："), "{err}");
    assert_eq!(p.sync_status().unwrap().pending_ops, 0);
    let when = Utc::now() - Duration::hours(2);
    let v = p.record_visit(NewVisit { visited_at: Some(when), ..routine_visit(&h[0], "手填日期") }).unwrap();
    assert_eq!(p.sync().await.unwrap().pushed_applied, 1);
    match server.state().unwrap().store.record(fengqiao_domain::EntityKind::Visit, v.id).unwrap() {
        Some(fengqiao_domain::Record::Visit(s)) => assert_eq!(s.visited_at, when),
        other => panic!("{other:?}"),
    }
}
