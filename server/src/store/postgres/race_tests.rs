//! The change feed keeps its promise on PostgreSQL: with many writers
//! committing at once (on one server) and readers pulling all the while (on
//! another, as a second replica would), no reader skips a change, none sees a
//! change twice, and every reader ends with exactly the feed's set.
//!
//! 64 writers push visits in batches; by default 960 ops (each test run),
//! with `FENGQIAO_LONG=1` 100,480 ops. The figures are printed.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use chrono::Utc;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::Outcome;
use fengqiao_domain::{Role, RoleGrant};

use super::testdb::TestPostgres;
use super::PgStore;
use crate::store::conformance::{actor, small_world, visit_op, COUNTY, GROUPS, HOUSEHOLDS, VILLAGES};
use crate::store::SyncStore;

const WRITERS: usize = 64;
const READERS: usize = 4;

/// What one reader saw: every sequence, in the order pulled.
struct Seen {
    seqs: Vec<u64>,
    pulls: u64,
}

fn read_until_done(store: &PgStore, grants: &[RoleGrant], done: &AtomicBool, limit: usize) -> Seen {
    let (mut cursor, mut seqs, mut pulls) = (0u64, Vec::new(), 0u64);
    loop {
        // Read "done" before pulling: a pull that starts after every writer
        // returned and reaches the end has seen everything.
        let finished = done.load(Ordering::SeqCst);
        let page = store.pull(grants, None, cursor, limit).expect("pull");
        pulls += 1;
        assert!(!page.beyond_end, "a cursor the store gave out is never beyond its end");
        for c in &page.changes {
            assert!(c.seq > cursor, "change {} at or before the cursor {cursor}: seen twice", c.seq);
            cursor = c.seq;
            seqs.push(c.seq);
        }
        cursor = cursor.max(page.position);
        if finished && !page.has_more {
            return Seen { seqs, pulls };
        }
        if !page.has_more {
            // Caught up: a phone would wait before asking again.
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

#[test]
fn feed_never_skips_a_change_that_commits_out_of_order() {
    let long = std::env::var("FENGQIAO_LONG").is_ok_and(|v| v == "1");
    let (per_writer_batches, batch) = if long { (157, 10) } else { (3, 5) };
    let pg = TestPostgres::start().unwrap_or_else(|why| panic!("PostgreSQL could not start for the test: {why}"));
    let url = pg.database("race").unwrap_or_else(|e| panic!("{e}"));
    let writers_store = Arc::new(PgStore::open_with_pool(&url, WRITERS).expect("open"));
    let readers_store = Arc::new(PgStore::open_with_pool(&url, READERS * 2).expect("open a second server"));
    small_world(writers_store.as_ref());

    let done = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WRITERS + READERS));
    // Readers: both villages (every visit, and the county's units) and one
    // village each, with small and large pages.
    let both = vec![
        RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] },
        RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[1] },
        RoleGrant { role: Role::CountyAdmin, unit_id: COUNTY },
    ];
    let reader_grants = [
        (both.clone(), 50),
        (both, 1000),
        (vec![RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] }], 7),
        (vec![RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[1] }], 200),
    ];
    let readers: Vec<_> = reader_grants
        .iter()
        .cloned()
        .map(|(grants, limit)| {
            let (store, done, start) = (readers_store.clone(), done.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (grants.clone(), read_until_done(&store, &grants, &done, limit))
            })
        })
        .collect();
    let began = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, start) = (writers_store.clone(), start.clone());
            std::thread::spawn(move || {
                let (group, household) = (GROUPS[w % 3], HOUSEHOLDS[w % 3]);
                let leader = actor(Role::GroupLeader, group);
                let policy = Policy::default();
                start.wait();
                let mut applied = 0usize;
                for _ in 0..per_writer_batches {
                    let ops: Vec<_> = (0..batch).map(|_| visit_op(leader.user_id, household)).collect();
                    let answers = store.apply_ops(&leader, &policy, &ops, Utc::now()).expect("push");
                    applied += answers.iter().filter(|a| matches!(a.outcome, Outcome::Applied { .. })).count();
                }
                applied
            })
        })
        .collect();
    let applied: usize = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    let write_secs = began.elapsed().as_secs_f64();
    done.store(true, Ordering::SeqCst);
    assert_eq!(applied, WRITERS * per_writer_batches * batch, "every op applied");

    let last = writers_store.last_seq().unwrap();
    for reader in readers {
        let (grants, seen) = reader.join().expect("reader");
        // The server's set for these grants: one pull of everything, after the end.
        let all = writers_store.pull(&grants, None, 0, usize::MAX).unwrap();
        assert!(!all.has_more);
        let expected: Vec<u64> = all.changes.iter().map(|c| c.seq).collect();
        let unique: BTreeSet<u64> = seen.seqs.iter().copied().collect();
        assert_eq!(unique.len(), seen.seqs.len(), "{grants:?}: 0 duplicated");
        let skipped: Vec<u64> = expected.iter().filter(|s| !unique.contains(s)).copied().take(10).collect();
        assert!(skipped.is_empty(), "{grants:?}: skipped {skipped:?}…");
        assert_eq!(seen.seqs, expected, "{grants:?}: exactly the server's set, in order");
        println!(
            "reader of {} grant(s) from {:?}: {} changes in {} pulls, 0 skipped, 0 duplicated",
            grants.len(),
            grants[0].role,
            seen.seqs.len(),
            seen.pulls
        );
    }
    println!(
        "{WRITERS} writers, {applied} ops in {write_secs:.1} s ({:.0} ops/s) while {READERS} readers pulled; last seq {last}",
        applied as f64 / write_secs
    );
}
