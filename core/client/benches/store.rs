//! Phone store benchmarks of issue 11 (a bench binary, not a timed test):
//!
//! - **write**: the durable offline write (budget 1). In one run, interleaved
//!   round-robin so machine load hits every contender alike: a 4 KiB append +
//!   `sync_data` to a file (the disk's floor for one durable write);
//!   `FieldClient::record_visit` on the sled store (the real path: session
//!   check, domain validation, jurisdiction, `enqueue`); SQLite (WAL,
//!   `synchronous=FULL`) inserting the same record JSON and an outbox row in
//!   one transaction; and, to locate the cost, a bare sled insert +
//!   `Db::flush`, `record_visit` on the in-memory store (its CPU work alone),
//!   and a 4 KiB overwrite in place + `sync_data` in a file already written
//!   with zeros (no size or block-map change: how the store's journal writes).
//!   Medians, p95 and the ratios record/fsync and record/SQLite.
//! - **open**: a phone store holding 100,000 visits (written as a phone gets
//!   them: pulled pages through `apply_pulled`), then rounds of
//!   `FieldClient::open` + `list_visits(50)`, each on a freshly reopened store:
//!   "cold" rounds first evict the store's files from the page cache
//!   (`posix_fadvise(DONTNEED)` on those files only), "warm" ones do not (budget 6).
//!
//! Run: `cargo bench -p fengqiao-core --bench store` (both), or with `-- write`
//! or `-- open`. `-- record-only N` records N visits and nothing else (to
//! count the syscalls of one write under strace). Figures go in docs/BENCHMARKS.md.
//! The stores live under Cargo's target tmp dir (the build disk).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use fengqiao_core::store::{PulledPage, StoredSession};
use fengqiao_core::{ClientOptions, ClientStore, FieldClient, MemoryClientStore, NewVisit, SledClientStore};
use fengqiao_domain::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use fengqiao_domain::wire::{Change, ChangeAction, GrantInfo, Op, OpEnvelope, UserInfo};
use fengqiao_domain::{EntityKind, GeoPoint, Household, Record, Visit, VisitKind, WIRE_VERSION};
use uuid::Uuid;

const WARMUP: usize = 30;
const ITERS: usize = 300;
const VISITS: usize = 100_000;
const PAGE: usize = 5_000;
const OPEN_ROUNDS: usize = 11;
/// Nothing listens there: recording and listing are offline.
const NOWHERE: &str = "http://127.0.0.1:9";
/// The app's store key (a phone keeps its own in the platform keystore).
const KEY: [u8; 32] = [42u8; 32];

fn store_key() -> fengqiao_core::StoreKey {
    fengqiao_core::StoreKey::from_bytes(&KEY).expect("a 32-byte key")
}

const COUNTY: u128 = 1;
const TOWN: u128 = 2;
const VILLAGE: u128 = 3;
const GROUP: u128 = 4;
const HOUSE: u128 = 50;
const LEADER: u128 = 100;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn unit(n: u128, level: UnitLevel, parent: Option<u128>) -> Record {
    Record::Unit(OrgUnit {
        id: id(n),
        code: format!("U{n}"),
        name: format!("单位{n}"),
        level,
        parent: parent.map(id),
        kind: None,
        offices: vec![],
    })
}

fn put(record: Record) -> Change {
    Change { seq: 0, action: ChangeAction::Put, entity: record.kind(), id: record.id(), record: Some(record) }
}

const NOTES: &str = "入户走访，了解家庭近况，宣传人民调解和法律援助渠道；邻里关系和睦，暂无矛盾纠纷。";

fn new_visit() -> NewVisit {
    NewVisit {
        household_id: id(HOUSE),
        body: None,
        kind: VisitKind::Routine,
        visited_at: None,
        notes: NOTES.into(),
        location: Some(GeoPoint { lat: 27.61, lon: 113.85 }),
        leads: vec![],
    }
}

/// A visit as a pull delivers it (the same shape `record_visit` makes).
fn visit_record() -> Record {
    Record::Visit(Visit {
        id: fengqiao_domain::new_id(),
        household_id: id(HOUSE),
        visitor_id: id(LEADER),
        visited_at: Utc::now(),
        kind: VisitKind::Routine,
        notes: NOTES.into(),
        location: Some(GeoPoint { lat: 27.61, lon: 113.85 }),
        leads: vec![],
        group_id: Some(id(GROUP)),
        body: None,
    })
}

/// A sled store in `dir`, seeded by [`seed_store`].
fn seed(dir: &Path, visits: usize) {
    seed_store(&SledClientStore::open(dir, &store_key()).expect("open store"), visits);
}

/// A store with a signed-in group leader (offline: no tokens needed to
/// record), the org units above their group and one household; then `visits`
/// pulled visits in pages of [`PAGE`].
fn seed_store(store: &dyn ClientStore, visits: usize) {
    let user = UserInfo {
        id: id(LEADER),
        username: "leader".into(),
        display_name: "组长".into(),
        roles: vec![GrantInfo {
            grant: RoleGrant { role: Role::GroupLeader, unit_id: id(GROUP) },
            unit_name: "一组".into(),
            ancestors: vec![],
            offices: vec![],
        }],
    };
    store.save_session(&StoredSession { user, tokens: None }).expect("session");
    let household = Record::Household(Household {
        id: id(HOUSE),
        group_id: id(GROUP),
        head_name: "张三".into(),
        address: "一组50号".into(),
        phone: None,
        code: None,
        id_number: None,
    });
    let first = vec![
        put(unit(COUNTY, UnitLevel::County, None)),
        put(unit(TOWN, UnitLevel::Town, Some(COUNTY))),
        put(unit(VILLAGE, UnitLevel::Village, Some(TOWN))),
        put(unit(GROUP, UnitLevel::Group, Some(VILLAGE))),
        put(household),
    ];
    let page = |changes, n: usize| PulledPage { reset: false, changes, next_cursor: format!("c{n}") };
    store.apply_pulled(id(LEADER), &page(first, 0)).expect("pull units");
    let mut done = 0;
    while done < visits {
        let n = PAGE.min(visits - done);
        let changes = (0..n).map(|_| put(visit_record())).collect();
        store.apply_pulled(id(LEADER), &page(changes, done + n)).expect("pull visits");
        done += n;
    }
}

fn open_client(dir: &Path) -> FieldClient {
    FieldClient::open(dir.display().to_string(), NOWHERE.into(), KEY.to_vec(), ClientOptions::default())
        .expect("open client")
}

/// Median, p95 and mean of samples, in milliseconds.
struct Stats {
    median: f64,
    p95: f64,
    mean: f64,
}

fn stats(samples: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Stats { median: at(0.5), p95: at(0.95), mean: ms.iter().sum::<f64>() / ms.len() as f64 }
}

/// One 4 KiB append made durable: the disk's cost of one durable write.
struct FsyncFloor {
    file: File,
    block: Vec<u8>,
}

impl FsyncFloor {
    fn run(&mut self) {
        self.file.write_all(&self.block).expect("write");
        self.file.sync_data().expect("sync_data");
    }
}

/// One 4 KiB block overwritten in place in a file already written with
/// zeros, made durable: a sync that changes neither the size nor the block
/// map (the way the store's journal writes; see ADR 0016).
struct InPlaceFloor {
    file: File,
    block: Vec<u8>,
    at: u64,
}

impl InPlaceFloor {
    fn open(path: &Path, blocks: usize) -> InPlaceFloor {
        let mut file = OpenOptions::new().create(true).truncate(true).write(true).open(path).expect("in-place file");
        file.write_all(&vec![0; blocks * 4096]).expect("zeros");
        file.sync_all().expect("sync");
        InPlaceFloor { file, block: vec![0xA5; 4096], at: 0 }
    }

    fn run(&mut self) {
        use std::os::unix::fs::FileExt;
        self.file.write_all_at(&self.block, self.at).expect("write");
        self.file.sync_data().expect("sync_data");
        self.at += 4096;
    }
}

/// The store's two syncs of one write, without the store: a journal-sized
/// append + `sync_data`, then an 8-byte overwrite + `sync_data` (as `store.gen`).
struct TwoSyncs {
    journal: File,
    gen: File,
    line: Vec<u8>,
    n: u64,
}

impl TwoSyncs {
    fn run(&mut self) {
        use std::io::{Seek, SeekFrom};
        self.journal.write_all(&self.line).expect("write");
        self.journal.sync_data().expect("sync_data");
        self.n += 1;
        self.gen.seek(SeekFrom::Start(0)).expect("seek");
        self.gen.write_all(&self.n.to_be_bytes()).expect("write");
        self.gen.sync_data().expect("sync_data");
    }
}

/// SQLite as a phone app would use it for the same write.
struct Sqlite {
    conn: rusqlite::Connection,
    author: Uuid,
}

impl Sqlite {
    fn open(path: &Path) -> Sqlite {
        let conn = rusqlite::Connection::open(path).expect("sqlite open");
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).expect("wal");
        assert_eq!(mode, "wal");
        conn.execute_batch(
            "PRAGMA synchronous=FULL;
             CREATE TABLE records (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
             CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, op_id BLOB NOT NULL UNIQUE, value BLOB NOT NULL);",
        )
        .expect("schema");
        Sqlite { conn, author: id(LEADER) }
    }

    /// The record and its outbox op (both JSON, as the sled store keeps them), in one transaction.
    fn run(&mut self) {
        let record = visit_record();
        let Record::Visit(visit) = &record else { unreachable!("a visit") };
        let op = OpEnvelope {
            op_id: fengqiao_domain::new_id(),
            v: WIRE_VERSION,
            author: self.author,
            created_at: Utc::now(),
            op: Op::RecordVisit(visit.clone()),
            seen: None,
        };
        let mut key = vec![EntityKind::Visit.tag()];
        key.extend_from_slice(record.id().as_bytes());
        let rec = serde_json::to_vec(&record).expect("json");
        let out = serde_json::to_vec(&op).expect("json");
        let tx = self.conn.transaction().expect("begin");
        tx.execute("INSERT INTO records (key, value) VALUES (?1, ?2)", rusqlite::params![key, rec]).expect("record");
        tx.execute("INSERT INTO outbox (op_id, value) VALUES (?1, ?2)", rusqlite::params![op.op_id.as_bytes(), out])
            .expect("outbox");
        tx.commit().expect("commit");
    }
}

/// A bare sled insert + flush (what sled's own durability costs, without the store's extras).
struct BareSled {
    db: sled::Db,
}

impl BareSled {
    fn run(&mut self) {
        let record = serde_json::to_vec(&visit_record()).expect("json");
        self.db.insert(fengqiao_domain::new_id().as_bytes(), record).expect("insert");
        self.db.flush().expect("flush");
    }
}

/// sled as the store's `enqueue` uses it, without the journal and `store.gen`:
/// one transaction over six trees (duplicate check, next sequence, record,
/// outbox entry, op id), then the write-generation insert and `Db::flush`.
struct SledAsUsed {
    db: sled::Db,
    trees: [sled::Tree; 6],
    gen: u64,
}

impl SledAsUsed {
    fn open(path: &Path) -> SledAsUsed {
        let db = sled::Config::new().path(path).open().expect("sled");
        let t = |n: &str| db.open_tree(n).expect("tree");
        let trees = [t("outbox"), t("outbox_ids"), t("quarantine"), t("records"), t("meta"), t("uploads")];
        SledAsUsed { db, trees, gen: 0 }
    }

    fn run(&mut self) {
        use sled::transaction::ConflictableTransactionError as E;
        use sled::Transactional;
        let record = serde_json::to_vec(&visit_record()).expect("json");
        let outbox = serde_json::to_vec(&visit_record()).expect("json");
        let op_id = fengqiao_domain::new_id();
        let [o, i, q, r, m, u] = &self.trees;
        (o, i, q, r, m, u)
            .transaction(|(outbox_t, ids, quarantine, records, meta, _uploads)| {
                if ids.get(op_id.as_bytes())?.is_some() || quarantine.get(op_id.as_bytes())?.is_some() {
                    return Err(E::Abort(()));
                }
                let seq = meta
                    .get(b"next_seq")?
                    .map(|v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])))
                    .unwrap_or(1);
                meta.insert(b"next_seq", &(seq + 1).to_be_bytes())?;
                records.insert(fengqiao_domain::new_id().as_bytes(), record.as_slice())?;
                outbox_t.insert(&seq.to_be_bytes(), outbox.as_slice())?;
                ids.insert(op_id.as_bytes(), &seq.to_be_bytes())?;
                Ok(())
            })
            .expect("transaction");
        self.gen += 1;
        m.insert(b"write_gen", &self.gen.to_be_bytes()).expect("gen");
        self.db.flush().expect("flush");
    }
}

fn bench_write(root: &Path) {
    println!("== budget 1: durable offline write ({ITERS} iterations after {WARMUP} warm-up, interleaved)");
    let phone = root.join("phone");
    seed(&phone, 0);
    let client = open_client(&phone);
    let mut floor = FsyncFloor {
        file: OpenOptions::new().create(true).append(true).open(root.join("floor.bin")).expect("floor file"),
        block: vec![0xA5; 4096],
    };
    let mut sqlite = Sqlite::open(&root.join("sqlite.db"));
    let mut as_used = SledAsUsed::open(&root.join("sled-as-used"));
    let mut bare = BareSled { db: sled::Config::new().path(root.join("bare-sled")).open().expect("bare sled") };
    let mut two = TwoSyncs {
        journal: OpenOptions::new().create(true).append(true).open(root.join("two.journal")).expect("journal"),
        gen: OpenOptions::new().create(true).truncate(false).write(true).open(root.join("two.gen")).expect("gen"),
        line: vec![b'j'; 1200],
        n: 0,
    };
    let mut in_place = InPlaceFloor::open(&root.join("in-place.bin"), WARMUP + ITERS + 1);
    let memory = Arc::new(MemoryClientStore::new());
    seed_store(memory.as_ref(), 0);
    let in_memory = FieldClient::with_store(memory, NOWHERE.into(), ClientOptions::default()).expect("memory client");

    let names = [
        "4 KiB append + sync_data",
        "record_visit (sled store)",
        "SQLite WAL FULL (record + outbox)",
        "bare sled insert + flush",
        "record_visit (in-memory store)",
        "1.2 KB append+sync, 8 B overwrite+sync",
        "sled as enqueue uses it (txn + flush)",
        "4 KiB overwrite in place + sync_data",
    ];
    let mut samples: [Vec<Duration>; 8] = Default::default();
    for i in 0..WARMUP + ITERS {
        for k in 0..names.len() {
            let which = (i + k) % names.len();
            let t = Instant::now();
            match which {
                0 => floor.run(),
                1 => {
                    client.record_visit(new_visit()).expect("record_visit");
                }
                2 => sqlite.run(),
                3 => bare.run(),
                4 => {
                    in_memory.record_visit(new_visit()).expect("record_visit in memory");
                }
                5 => two.run(),
                6 => as_used.run(),
                _ => in_place.run(),
            }
            if i >= WARMUP {
                samples[which].push(t.elapsed());
            }
        }
    }
    let s: Vec<Stats> = samples.iter().map(|v| stats(v)).collect();
    println!("{:<40} {:>10} {:>10} {:>10}", "", "median ms", "p95 ms", "mean ms");
    for (name, st) in names.iter().zip(&s) {
        println!("{name:<40} {:>10.3} {:>10.3} {:>10.3}", st.median, st.p95, st.mean);
    }
    println!(
        "ratio record_visit / fsync floor: median {:.2}, p95 {:.2}   (budget: median <= 1.3)",
        s[1].median / s[0].median,
        s[1].p95 / s[0].p95
    );
    println!(
        "ratio record_visit / SQLite:      median {:.2}, p95 {:.2}   (budget: median <= 1.0)",
        s[1].median / s[2].median,
        s[1].p95 / s[2].p95
    );
    println!(
        "ratio record_visit / in-place 4 KiB sync: median {:.2}, p95 {:.2}",
        s[1].median / s[7].median,
        s[1].p95 / s[7].p95
    );
    println!("ratio SQLite / fsync floor:       median {:.2}", s[2].median / s[0].median);
    println!("ratio bare sled / fsync floor:    median {:.2}", s[3].median / s[0].median);
    println!("ratio two syncs / fsync floor:    median {:.2}", s[5].median / s[0].median);
    println!("ratio sled as used / fsync floor: median {:.2}", s[6].median / s[0].median);
}

/// Evicts every file of the store from the page cache (this store's files only).
fn evict(dir: &Path) {
    use std::os::fd::AsRawFd;
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            evict(&path);
        } else if let Ok(f) = File::open(&path) {
            let _ = f.sync_all();
            // SAFETY: a valid open descriptor; advice only, no memory is touched.
            unsafe {
                libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
            }
        }
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn bench_open(root: &Path) {
    println!("== budget 6: open a store of {VISITS} visits + list the newest 50 ({OPEN_ROUNDS} rounds each)");
    let phone = root.join("big");
    let t = Instant::now();
    seed(&phone, VISITS);
    println!(
        "built in {:.1} s ({} pages of {PAGE} via apply_pulled); store on disk: {:.1} MiB",
        t.elapsed().as_secs_f64(),
        VISITS / PAGE,
        dir_bytes(&phone) as f64 / 1048576.0
    );

    for cold in [true, false] {
        let (mut open, mut list, mut total, mut store_open, mut store_list) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..OPEN_ROUNDS {
            if cold {
                evict(&phone);
            }
            let t0 = Instant::now();
            let client = open_client(&phone);
            let t1 = Instant::now();
            let visits = client.list_visits(50).expect("list");
            let t2 = Instant::now();
            assert_eq!(visits.len(), 50);
            drop(client);
            open.push(t1 - t0);
            list.push(t2 - t1);
            total.push(t2 - t0);

            // The store alone (no HTTP client, no photo folder), same conditions.
            if cold {
                evict(&phone);
            }
            let t0 = Instant::now();
            let store = SledClientStore::open(&phone, &store_key()).expect("store open");
            let t1 = Instant::now();
            let records = store.list_records(EntityKind::Visit, 50).expect("list records");
            let t2 = Instant::now();
            assert_eq!(records.len(), 50);
            drop(store);
            store_open.push(t1 - t0);
            store_list.push(t2 - t1);
        }
        let label = if cold { "cold (page cache evicted)" } else { "warm (page cache kept)" };
        let (o, l, tt, so, sl) = (stats(&open), stats(&list), stats(&total), stats(&store_open), stats(&store_list));
        println!("-- {label}: median (p95) ms");
        println!("FieldClient::open                  {:>9.2} ({:.2})", o.median, o.p95);
        println!("list_visits(50)                    {:>9.2} ({:.2})", l.median, l.p95);
        println!("open + list_visits(50)             {:>9.2} ({:.2})   (budget: <= 100 ms)", tt.median, tt.p95);
        println!("SledClientStore::open              {:>9.2} ({:.2})", so.median, so.p95);
        println!("list_records(Visit, 50)            {:>9.2} ({:.2})", sl.median, sl.p95);
    }
}

fn record_only(root: &Path, n: usize) {
    let phone = root.join("strace");
    seed(&phone, 0);
    let client = open_client(&phone);
    client.record_visit(new_visit()).expect("warm-up visit");
    eprintln!("-- recording {n} visits --");
    for _ in 0..n {
        client.record_visit(new_visit()).expect("record_visit");
    }
    eprintln!("-- done --");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    if args.first().map(String::as_str) == Some("record-only") {
        let n = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
        record_only(tmp.path(), n);
        return;
    }
    let all = args.is_empty();
    if all || args.iter().any(|a| a == "write") {
        bench_write(tmp.path());
    }
    if all || args.iter().any(|a| a == "open") {
        bench_open(tmp.path());
    }
}
