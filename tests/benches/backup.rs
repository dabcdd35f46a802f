//! Backup benchmark (issue 26; a bench binary, not a timed test).
//!
//! The demo county scaled up: `--disputes` copies of a dispute reported by a
//! real phone (new ids and case numbers, written through the store's
//! `put_records`) and `--photos` photo blobs of `--photo-kb` KiB of random
//! bytes (as incompressible as JPEG) with their records, on a real server
//! (in-process, sled). Then, in one run:
//!
//! - **backup**: a backup through `POST /v1/admin/backup` (as the command line
//!   asks): seconds, how long writes were held, the file's size and the data
//!   dir's; then `verify` and `restore` of it;
//! - **push throughput**: `--pushers` users each pushing batches of 100 visits
//!   over loopback for `--window` seconds, without a backup and then with
//!   backups taken back to back, side by side, as a ratio (goal ≥ 0.8).
//!
//! Run: `cargo bench -p fengqiao-tests --bench backup` (`-- --disputes 2000
//! --photos 200` for a quick look; figures go in docs/BENCHMARKS.md).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fengqiao_domain::{EntityKind, Record};
use fengqiao_server::backup;
use fengqiao_server::store::PhotoRecord;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::phone::{new_dispute, signed_in_synced};
use fengqiao_tests::TestServer;
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn mb(b: u64) -> f64 {
    b as f64 / 1_048_576.0
}

/// Pushes batches of 100 visits as `user` until `stop`; counts applied ops.
async fn pusher(user: ApiUser, households: Vec<String>, stop: Arc<AtomicBool>, applied: Arc<AtomicU64>) {
    let mut b = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let ops: Vec<Value> = (0..100)
            .map(|i| {
                json!({"op_id": Uuid::now_v7(), "v": 1, "author": user.id, "created_at": chrono::Utc::now(),
                    "op": {"kind": "record_visit", "body": {"id": Uuid::now_v7(),
                    "household_id": households[(b + i) % households.len()], "visited_at": chrono::Utc::now(),
                    "kind": "routine", "notes": format!("入户走访：了解家庭生产生活情况，询问邻里关系。{b}-{i}")}}})
            })
            .collect();
        let answer: Value = user.post("/v1/sync/push", json!({"v": 1, "ops": ops})).await.json().await.expect("answer");
        let n = answer["answers"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|x| x["outcome"]["status"] == "applied").count());
        applied.fetch_add(n as u64, Ordering::SeqCst);
        b += 1;
    }
}

/// Ops per second the pushers got through in `window`, with backups taken back
/// to back into `backups` meanwhile if given; and how many backups were taken.
async fn throughput(server: &TestServer, users: &[&str], window: Duration, backups: Option<&Path>) -> (f64, u32) {
    let stop = Arc::new(AtomicBool::new(false));
    let applied = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for u in users {
        let user = ApiUser::login(server, u).await;
        let hs: Vec<String> = user
            .pulled()
            .await
            .into_iter()
            .filter(|c| c["entity"] == "household")
            .map(|c| c["id"].as_str().unwrap_or_default().to_string())
            .collect();
        tasks.push(tokio::spawn(pusher(user, hs, stop.clone(), applied.clone())));
    }
    // Warm up, then count over the window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let start_count = applied.load(Ordering::SeqCst);
    let start = Instant::now();
    let mut taken = 0u32;
    match backups {
        Some(dir) => {
            while start.elapsed() < window {
                let to = dir.join(format!("during-{taken}.fqbk"));
                let data = server.data_dir.clone();
                tokio::task::spawn_blocking(move || {
                    let m = backup::control::request_backup(&data, &to).expect("backup").expect("server answers");
                    let _ = std::fs::remove_file(&to);
                    m
                })
                .await
                .expect("backup task");
                taken += 1;
            }
        }
        None => tokio::time::sleep(window).await,
    }
    let secs = start.elapsed().as_secs_f64();
    let done = applied.load(Ordering::SeqCst) - start_count;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        let _ = t.await;
    }
    (done as f64 / secs, taken)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let disputes = arg("--disputes", 100_000) as usize;
    let photos = arg("--photos", 10_000) as usize;
    let photo_kb = arg("--photo-kb", 100) as usize;
    let window = Duration::from_secs(arg("--window", 15));
    let pushers = arg("--pushers", 4) as usize;
    let work = tempfile::tempdir().expect("tempdir");
    let (data, out) = (work.path().join("data"), work.path().join("out"));
    std::fs::create_dir_all(&out).expect("out dir");
    let server = TestServer::start(&data).await.expect("server");
    let store = server.state().expect("state").store.clone();

    // The county scaled up.
    let seed = Instant::now();
    let phone_dir = work.path().join("phone");
    let leader = signed_in_synced(&phone_dir, &server.url(), &server, "leader.t1v1g1").await;
    let group = server.cred("leader.t1v1g1").expect("cred").unit_id;
    let d = leader
        .report_dispute(new_dispute(group, fengqiao_domain::ladder::Grade::General, "承包地边界争议"))
        .expect("report");
    leader.sync().await.expect("sync");
    let Some(Record::Dispute(model)) = store.record(EntityKind::Dispute, d.id).expect("read") else {
        panic!("the reported dispute is on the server")
    };
    for chunk in (0..disputes).collect::<Vec<_>>().chunks(2000) {
        let batch: Vec<Record> = chunk
            .iter()
            .map(|i| {
                let mut c = model.clone();
                c.id = Uuid::now_v7();
                c.case_number = format!("T01V01-2026-{:04}-{:03}", 1000 + i / 1000, i % 1000);
                Record::Dispute(c)
            })
            .collect();
        store.put_records(&batch).expect("put disputes");
    }
    let mut rng = rand::thread_rng();
    let mut bytes = vec![0u8; photo_kb * 1024];
    for _ in 0..photos {
        rng.fill_bytes(&mut bytes);
        let sha = hex::encode(Sha256::digest(&bytes));
        let path = data.join("photos/blobs").join(&sha[..2]).join(&sha);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("blob dir");
        std::fs::write(&path, &bytes).expect("blob");
        store
            .put_photo(&PhotoRecord { sha256: sha, length: bytes.len() as u64, created_at: chrono::Utc::now() })
            .expect("photo record");
    }
    store.flush().expect("flush");
    println!(
        "seeded {disputes} disputes and {photos} photos of {photo_kb} KiB in {:.1} s; data dir {:.0} MiB (store {:.0} MiB)",
        seed.elapsed().as_secs_f64(),
        mb(dir_bytes(&data)),
        mb(dir_bytes(&data.join("store")))
    );

    // One backup, timed, then verify and restore.
    let file = out.join("county.fqbk");
    let t = Instant::now();
    let m = {
        let (data, file) = (data.clone(), file.clone());
        tokio::task::spawn_blocking(move || backup::control::request_backup(&data, &file))
            .await
            .expect("task")
            .expect("backup")
            .expect("server answers")
    };
    let backup_s = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backup: {backup_s:.1} s (writes held {} ms), file {:.0} MiB; {}",
        m.writes_held_ms,
        mb(size),
        m.summary()
    );
    let t = Instant::now();
    backup::verify(&file).expect("verify");
    println!("verify: {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    backup::restore(&file, &work.path().join("restored")).expect("restore");
    println!("restore: {:.1} s", t.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(work.path().join("restored"));
    let _ = std::fs::remove_file(&file);

    // Push throughput without and with backups running, side by side.
    let users = ["leader.t1v1g1", "leader.t1v2g1", "leader.t2v1g1", "leader.t2v2g1", "leader.t1v3g1", "leader.t2v3g1"];
    let users = &users[..pushers.min(users.len())];
    let (without, _) = throughput(&server, users, window, None).await;
    let (with, taken) = throughput(&server, users, window, Some(&out)).await;
    let (without2, _) = throughput(&server, users, window, None).await;
    let base = (without + without2) / 2.0;
    println!(
        "push: without backup {without:.0} and {without2:.0} ops/s; with {taken} backups back to back {with:.0} ops/s; ratio {:.2}",
        with / base
    );
}
