//! Push benchmark (issue 11, budget 2; a bench binary, not a timed test).
//!
//! In one run, side by side:
//!
//! - **direct**: the server-side writes of a push done straight on sled, one
//!   multi-tree transaction per batch and one flush per batch: per op the op-id
//!   answer, the stored record (a ~600-byte visit), the change carrying it, four
//!   feed-index entries (group, village, town, county) and the sequence counter;
//! - **direct, one tx per op**: the same with a transaction and a flush per op;
//! - **phone → server**: 10,000 visits queued on a real phone core
//!   ([`FieldClient`]) pushed over loopback HTTP to the real server (in-process,
//!   sled), timed from the start of `sync()` until the phone has recorded the
//!   last answer (the push phase; the pull that follows is reported apart).
//!   Once with the in-memory phone store (the server path alone) and once with
//!   the phone's sled store (`--sled-phone`, default on: both are run).
//!
//! The direct rounds run before and after the phone rounds, to bracket the
//! machine's noise. Run: `cargo bench -p fengqiao-tests --bench push`
//! (`-- --ops 2000` for a quick look; figures go in docs/BENCHMARKS.md).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fengqiao_core::{ClientOptions, FieldClient, MemoryClientStore, NewVisit, RetryPolicy, SyncPhase, SyncProgress};
use fengqiao_domain::wire::{Change, ChangeAction};
use fengqiao_domain::{EntityKind, Record, Visit, VisitKind};
use fengqiao_tests::TestServer;
use uuid::Uuid;

/// Notes long enough that a stored visit is about 600 bytes of JSON.
fn notes(i: usize) -> String {
    format!("{i:06} 入户走访：了解家庭生产生活情况，宣传人民调解法和村规民约，询问邻里关系、土地承包、赡养等方面有无矛盾纠纷苗头。户主表示近期无纠纷。")
}

fn options() -> ClientOptions {
    ClientOptions {
        request_timeout: Duration::from_secs(120),
        retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() },
        ..ClientOptions::default()
    }
}

/// Marks the moment the push phase ends (the last ops answered and recorded).
struct PushClock {
    start: Instant,
    pushed_at: Mutex<Option<Duration>>,
    pushed: AtomicU64,
}

impl SyncProgress for PushClock {
    fn on_progress(&self, phase: SyncPhase, done: u64, total: u64) {
        if phase == SyncPhase::Pushing && total > 0 && done >= total {
            *self.pushed_at.lock().expect("clock") = Some(self.start.elapsed());
            self.pushed.store(done, Ordering::SeqCst);
        }
    }
}

/// What one phone round measured.
struct PhoneRound {
    push: Duration,
    whole_sync: Duration,
    ops: u64,
}

async fn phone_round(phone: FieldClient, user: &str, password: &str, n: usize) -> PhoneRound {
    phone.login(user.into(), password.into()).await.expect("login");
    phone.sync().await.expect("first sync");
    let households = phone.households().expect("households");
    for i in 0..n {
        let h = &households[i % households.len()];
        phone
            .record_visit(NewVisit {
                household_id: h.id,
                body: None,
                kind: VisitKind::Routine,
                visited_at: None,
                notes: notes(i),
                location: None,
                leads: vec![],
            })
            .expect("visit");
    }
    let clock = Arc::new(PushClock { start: Instant::now(), pushed_at: Mutex::new(None), pushed: AtomicU64::new(0) });
    let report = phone.sync_with(Some(clock.clone()), None).await.expect("sync");
    let whole_sync = clock.start.elapsed();
    assert_eq!(report.pushed_applied as usize, n, "every op applied: {report:?}");
    assert_eq!(phone.sync_status().expect("status").pending_ops, 0, "every answer recorded");
    let push = clock.pushed_at.lock().expect("clock").expect("push finished");
    PhoneRound { push, whole_sync, ops: clock.pushed.load(Ordering::SeqCst) }
}

/// A sample visit as the server stores it, for the direct rounds.
fn sample_record(i: usize) -> (Record, Vec<Uuid>) {
    let scope = vec![Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let visit = Visit {
        id: Uuid::now_v7(),
        household_id: Uuid::now_v7(),
        visitor_id: Uuid::now_v7(),
        visited_at: chrono::Utc::now(),
        kind: VisitKind::Routine,
        notes: notes(i),
        location: None,
        leads: vec![],
        group_id: Some(scope[0]),
        body: None,
    };
    (Record::Visit(visit), scope)
}

/// Direct sled writes of `n` ops, `per_tx` ops per transaction and flush. Ops/s.
fn direct(n: usize, per_tx: usize) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sled::Config::new().path(dir.path()).mode(sled::Mode::HighThroughput).open().expect("sled");
    let t = |name: &str| db.open_tree(name).expect("tree");
    let (ops, records, changes, feed, meta) = (t("ops"), t("records"), t("changes"), t("feed"), t("meta"));
    let prepared: Vec<(Uuid, Record, Vec<Uuid>)> = (0..n)
        .map(|i| {
            let (r, s) = sample_record(i);
            (Uuid::now_v7(), r, s)
        })
        .collect();
    let start = Instant::now();
    for chunk in prepared.chunks(per_tx) {
        use sled::Transactional;
        (&ops, &records, &changes, &feed, &meta)
            .transaction(|(ops, records, changes, feed, meta)| {
                let mut seq = match meta.get(b"seq")? {
                    Some(v) => u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])),
                    None => 0,
                };
                for (op_id, record, scope) in chunk {
                    seq += 1;
                    let answer =
                        serde_json::json!({"author": Uuid::nil(), "outcome": {"status": "applied", "seq": seq}});
                    ops.insert(op_id.as_bytes(), serde_json::to_vec(&answer).expect("enc"))?;
                    let stored = serde_json::json!({"v": 1, "scope": scope, "record": record});
                    let key = fengqiao_server::store::record_key(record.kind(), record.id());
                    records.insert(&key, serde_json::to_vec(&stored).expect("enc"))?;
                    let change = Change {
                        seq,
                        action: ChangeAction::Put,
                        entity: EntityKind::Visit,
                        id: record.id(),
                        record: Some(record.clone()),
                    };
                    changes.insert(&seq.to_be_bytes(), serde_json::to_vec(&change).expect("enc"))?;
                    for unit in scope {
                        feed.insert(&fengqiao_server::store::feed_key(*unit, seq), &[])?;
                    }
                }
                meta.insert(b"seq", &seq.to_be_bytes())?;
                Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
            })
            .expect("tx");
        db.flush().expect("flush");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let n = arg("--ops", 10_000);
    let batch = arg("--batch", 500);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let size = {
        let (r, s) = sample_record(0);
        serde_json::to_vec(&serde_json::json!({"v": 1, "scope": s, "record": r})).expect("enc").len()
    };
    println!("push bench: {n} ops, phone push batch {batch}, stored visit {size} bytes");
    let direct_before = direct(n, batch);
    let direct_per_op = direct(n.min(2_000), 1);
    println!("direct sled, one tx per {batch}:  {direct_before:>9.0} ops/s");
    println!("direct sled, one tx per op:    {direct_per_op:>9.0} ops/s");

    let data = tempfile::tempdir().expect("tempdir");
    let phones = tempfile::tempdir().expect("tempdir");
    let (mem, sled_round) = rt.block_on(async {
        let server = TestServer::start(data.path()).await.expect("server");
        let url = server.url();
        let mut opts = options();
        opts.push_batch_size = batch as u32;
        let c1 = server.cred("leader.t1v1g1").expect("cred");
        let p1 = FieldClient::with_store(Arc::new(MemoryClientStore::new()), url.clone(), opts.clone()).expect("phone");
        let mem = phone_round(p1, &c1.username, &c1.password, n).await;
        let c2 = server.cred("leader.t1v1g2").expect("cred");
        let p2 = FieldClient::open(
            phones.path().join("sled").to_string_lossy().into_owned(),
            url,
            fengqiao_tests::phone::store_key(),
            opts,
        )
        .expect("phone");
        let sled_round = phone_round(p2, &c2.username, &c2.password, n).await;
        (mem, sled_round)
    });
    let direct_after = direct(n, batch);
    println!("direct sled, one tx per {batch} (again): {direct_after:>9.0} ops/s");
    let direct_mean = (direct_before + direct_after) / 2.0;
    for (name, r) in [("phone (memory store)", &mem), ("phone (sled store)", &sled_round)] {
        let rate = r.ops as f64 / r.push.as_secs_f64();
        println!(
            "{name}: push {} ops in {:.3} s = {rate:.0} ops/s (whole sync incl. pulling them back {:.3} s); \
             ratio to direct {:.2}",
            r.ops,
            r.push.as_secs_f64(),
            r.whole_sync.as_secs_f64(),
            rate / direct_mean
        );
    }
}
