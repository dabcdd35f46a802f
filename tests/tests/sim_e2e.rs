//! The field simulator's logic on a handful of phones against an in-process
//! server: steady rounds with offline phones, photos and disputes, a burst, a
//! drain, then the consistency check — read from the store and over the API.
//! Correctness only; timings are the load run's business (docs/BENCHMARKS.md).

use std::time::Duration;

use fengqiao_tests::sim::check;
use fengqiao_tests::sim::county::Spawned;
use fengqiao_tests::sim::{self, StoreKind, Workload};

fn run(store: StoreKind) {
    let tmp = tempfile::tempdir().unwrap();
    let (spawned, logins) = Spawned::start(&tmp.path().join("server"), 4).unwrap();
    let url = spawned.server.url();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let store_view = || check::snapshot_store(spawned.server.state().unwrap().store.as_ref(), spawned.town).unwrap();
    let before = store_view();
    let before_api = rt.block_on(check::snapshot_api(&url, &logins)).unwrap();
    assert!(!before.is_empty(), "the simulated town's units and households");
    let w = Workload { ops: 3, offline: 0.25, photos: true, disputes: true };
    let (devices, phases, stuck) = rt.block_on(async {
        let devices = sim::start_devices(&url, &logins, store, tmp.path(), 7, 4, None).await.unwrap();
        let (devices, steady) =
            sim::steady(devices, Duration::from_secs(4), Duration::from_secs(1), w, "steady", None).await.unwrap();
        let (devices, b) =
            sim::burst(devices, 5, Duration::from_secs(1), Duration::from_secs(30), w, None).await.unwrap();
        assert_eq!(b.done, 4, "every phone emptied its queue in the burst");
        let (devices, drain, stuck) = sim::drain(devices).await.unwrap();
        (devices, vec![steady, b.phase, drain], stuck)
    });
    assert_eq!(stuck, 0);
    for p in &phases {
        assert_eq!(p.counts.errors(), 0, "{}: {:?}", p.name, p.counts.sync_errors);
        assert!(p.counts.record_errors.is_empty(), "{}: {:?}", p.name, p.counts.record_errors);
    }
    assert!(phases[0].counts.syncs > 0 && phases[0].counts.offline > 0, "{:?}", phases[0].counts);
    let recorded = sim::recorded(&devices);
    let kinds: std::collections::HashSet<_> = recorded.iter().map(|r| r.0).collect();
    assert_eq!(kinds.len(), 3, "visits, disputes and photos: {kinds:?}");
    let c = check::compare(&before, &store_view(), &recorded);
    assert!(c.ok() && c.new_on_server == recorded.len(), "{c:?}");
    let after_api = rt.block_on(check::snapshot_api(&url, &logins)).unwrap();
    let c = check::compare(&before_api, &after_api, &recorded);
    assert!(c.ok() && c.new_on_server == recorded.len(), "{c:?}");
    // A record the server does not hold is caught.
    let mut more = recorded.clone();
    more.push((fengqiao_domain::EntityKind::Visit, uuid::Uuid::now_v7()));
    assert_eq!(check::compare(&before_api, &after_api, &more).missing.len(), 1);
    drop(rt);
    spawned.stop().unwrap();
}

#[test]
fn simulated_phones_leave_exactly_what_they_recorded_memory_stores() {
    run(StoreKind::Memory);
}

#[test]
fn simulated_phones_leave_exactly_what_they_recorded_sled_stores() {
    run(StoreKind::Sled);
}
