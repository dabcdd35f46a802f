//! What encryption at rest costs the phone store (issue 9, goal ≤ 15 %):
//! durable writes (a visit and its outbox op, one transaction, flushed) and
//! listing the newest 50 of 2,000 visits, on an encrypted store and on the
//! same store with sealing switched off, interleaved in one run.
//!
//! `cargo bench -p fengqiao-core --bench encryption --features bench-plaintext`

use std::time::{Duration, Instant};

use chrono::Utc;
use fengqiao_core::store::{ClientStore, SledClientStore, StoreKey};
use fengqiao_domain::wire::{Op, OpEnvelope};
use fengqiao_domain::{EntityKind, Record, Visit, VisitKind};
use uuid::Uuid;

const WRITES: usize = 300;
const LIST_RECORDS: usize = 2_000;
const LISTS: usize = 200;

fn visit(author: Uuid, i: usize) -> (Record, OpEnvelope) {
    let v = Visit {
        id: Uuid::now_v7(),
        household_id: Uuid::now_v7(),
        visitor_id: author,
        visited_at: Utc::now(),
        kind: VisitKind::Routine,
        notes: format!("第{i}次走访：王秀英反映邻里院墙倒塌，已现场查看并约定周三调解。联系电话 139 1234 5678。"),
        location: None,
        leads: vec![],
        group_id: None,
        body: None,
    };
    let op = OpEnvelope {
        op_id: Uuid::now_v7(),
        v: 1,
        author,
        created_at: Utc::now(),
        op: Op::RecordVisit(v.clone()),
        seen: None,
    };
    (Record::Visit(v), op)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p95(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() * 95 / 100]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let key = StoreKey::generate();
    let sealed = SledClientStore::open(dir.path().join("sealed"), &key)?;
    let plain = SledClientStore::open_unencrypted_for_benchmarks(dir.path().join("plain"))?;
    let stores: [(&str, &dyn ClientStore); 2] = [("encrypted", &sealed), ("plain", &plain)];
    let author = Uuid::now_v7();

    // Durable writes, interleaved so both see the same disk and load.
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for i in 0..WRITES + 20 {
        for (s, (_, store)) in stores.iter().enumerate() {
            let (r, op) = visit(author, i);
            let t = Instant::now();
            store.enqueue(&r, &op, Utc::now())?;
            if i >= 20 {
                times[s].push(t.elapsed());
            }
        }
    }
    let write = [median(times[0].clone()), median(times[1].clone())];
    println!("durable write (visit + outbox op, flushed), {WRITES} each after 20 warm-up:");
    for (s, (name, _)) in stores.iter().enumerate() {
        println!("  {name:<9} median {:>8.3} ms  p95 {:>8.3} ms", ms(write[s]), ms(p95(times[s].clone())));
    }
    println!("  ratio encrypted/plain: {:.3}", write[0].as_secs_f64() / write[1].as_secs_f64());

    // Listing the newest 50 of LIST_RECORDS visits.
    for (_, store) in &stores {
        let have = store.list_records(EntityKind::Visit, usize::MAX)?.len();
        for i in have..LIST_RECORDS {
            let (r, op) = visit(author, i);
            store.enqueue(&r, &op, Utc::now())?;
        }
    }
    let mut lists: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..LISTS {
        for (s, (_, store)) in stores.iter().enumerate() {
            let t = Instant::now();
            let got = store.list_records(EntityKind::Visit, 50)?;
            lists[s].push(t.elapsed());
            assert_eq!(got.len(), 50);
        }
    }
    let list = [median(lists[0].clone()), median(lists[1].clone())];
    println!("list newest 50 of {LIST_RECORDS} visits, {LISTS} each:");
    for (s, (name, _)) in stores.iter().enumerate() {
        println!("  {name:<9} median {:>8.3} ms  p95 {:>8.3} ms", ms(list[s]), ms(p95(lists[s].clone())));
    }
    println!("  ratio encrypted/plain: {:.3}", list[0].as_secs_f64() / list[1].as_secs_f64());
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
