//! Damaged store files. sled 0.34 opens a damaged log without an error and
//! serves what came before the damage; both stores must refuse that with a
//! clear error instead (ADR 0006), and the phone's unsynced outbox must stay
//! recoverable.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fengqiao_core::FieldClient;
use fengqiao_tests::crash::{self, counts, ServerProcess};
use fengqiao_tests::phone::{fast_options, reopen, routine_visit, sign_in};
use fengqiao_tests::TestServer;
use uuid::Uuid;

const SERVER: &str = env!("CARGO_BIN_EXE_test_server");
const ZERO: f64 = -1.0;
const TRUNCATE: f64 = -2.0;

/// Damages sled's log: 64 bytes inverted at `frac` of the length in use;
/// `TRUNCATE`: the file cut to half of that (a torn write-back); `ZERO`: every
/// byte zeroed.
fn damage(db: &Path, frac: f64) {
    let mut bytes = std::fs::read(db).unwrap();
    // sled's file has free (zeroed) space; aim at the part in use
    let used = bytes.iter().rposition(|b| *b != 0).map_or(bytes.len(), |p| p + 1);
    if frac == ZERO {
        bytes.iter_mut().for_each(|b| *b = 0);
    } else if frac == TRUNCATE {
        bytes.truncate(used / 2);
    } else {
        let at = (used as f64 * frac) as usize;
        let end = (at + 64).min(bytes.len());
        bytes[at..end].iter_mut().for_each(|b| *b ^= 0xA5);
    }
    std::fs::write(db, bytes).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The phone: a damaged store is refused with a `storage` error that says so;
/// `recover_store` rebuilds it from the outbox journal; after login and sync
/// the server holds every visit once, the unsynced ones included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_phone_store_is_refused_and_its_outbox_recovered() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let (synced, unsynced) = {
        let p = reopen(dirs[1].path(), &server.url(), &fast_options()).await.unwrap();
        sign_in(&p, &server, "leader.t1v1g1").await;
        p.sync().await.unwrap();
        let h = p.households().unwrap();
        let synced: Vec<Uuid> = (0..4).map(|i| p.record_visit(routine_visit(&h[i], "已同步")).unwrap().id).collect();
        p.sync().await.unwrap();
        let unsynced: Vec<Uuid> =
            (0..6).map(|i| p.record_visit(routine_visit(&h[i % h.len()], "未同步")).unwrap().id).collect();
        (synced, unsynced)
    };
    let pristine = dirs[2].path().join("pristine");
    // wait for sled to let go of the dropped phone's files, then keep a copy
    drop(reopen(dirs[1].path(), &server.url(), &fast_options()).await.unwrap());
    tokio::time::sleep(Duration::from_millis(200)).await;
    copy_dir(dirs[1].path(), &pristine);

    let mut refused = 0;
    for (i, frac) in [0.15, 0.5, 0.85, 0.97, TRUNCATE, ZERO].into_iter().enumerate() {
        let dir = dirs[2].path().join(format!("case-{i}"));
        copy_dir(&pristine, &dir);
        damage(&dir.join("db"), frac);
        match reopen(&dir, &server.url(), &fast_options()).await {
            Ok(p) => {
                // damage sled no longer reads: then all of it must be there
                assert_eq!(p.sync_status().unwrap().pending_ops, unsynced.len() as u64, "frac {frac}");
                let have: HashSet<Uuid> = p.list_visits(100).unwrap().into_iter().map(|v| v.visit.id).collect();
                assert!(synced.iter().chain(&unsynced).all(|id| have.contains(id)), "frac {frac}: served less");
                continue;
            }
            Err(e) => {
                refused += 1;
                println!("phone store, damage {frac}: {e}");
                assert_eq!(e.code(), "storage");
                let msg = e.to_string();
                assert!(msg.contains("损坏") && msg.contains("恢复"), "a clear message: {msg}");
            }
        }
        let rec =
            FieldClient::recover_store(dir.to_string_lossy().into_owned(), fengqiao_tests::phone::store_key()).unwrap();
        assert!(rec.replayed_ops >= unsynced.len() as u64, "{rec:?}");
        assert!(rec.damaged_copy.exists());
        let p = reopen(&dir, &server.url(), &fast_options()).await.unwrap();
        // Every op of the journal is queued again, for whoever made it; sign in and sync.
        sign_in(&p, &server, "leader.t1v1g1").await;
        let report = p.sync().await.unwrap();
        assert_eq!(p.sync_status().unwrap().pending_ops, 0);
        assert!(report.pushed_duplicate >= synced.len() as u64, "already applied ops are answered duplicate");
        let have: HashSet<Uuid> = p.list_visits(100).unwrap().into_iter().map(|v| v.visit.id).collect();
        assert!(synced.iter().chain(&unsynced).all(|id| have.contains(id)), "all back on the phone");
        // A store that is fine is not "recovered".
        drop(p);
        let again = loop {
            match FieldClient::recover_store(dir.to_string_lossy().into_owned(), fengqiao_tests::phone::store_key()) {
                Err(fengqiao_core::ClientError::Storage { message })
                    if message.contains("lock") || message.contains("temporarily") =>
                {
                    tokio::time::sleep(Duration::from_millis(25)).await
                }
                other => break other,
            }
        };
        assert_eq!(again.unwrap_err().code(), "invalid_input");
    }
    println!("phone store: {refused} of 6 damaged copies refused, the rest opened whole");
    assert!(refused >= 2, "damage that loses acknowledged writes is refused ({refused} of 6)");

    let s = server.cred("secretary.t1v1").unwrap();
    let token = crash::token(&server.url(), &s.username, &s.password).await.unwrap();
    let visits = counts(&crash::feed(&server.url(), &token).await.unwrap(), "visit");
    for id in synced.iter().chain(&unsynced) {
        assert_eq!(visits.get(id), Some(&1), "visit {id} on the server exactly once");
    }
}

/// Runs `serve` on a data dir and waits for it to listen or to exit (bounded).
/// `Ok(url)`, still running (`child` kept to be killed), or `Err(stderr)`.
fn try_serve(data: &Path) -> (Option<std::process::Child>, Result<String, String>) {
    let mut child = Command::new(SERVER)
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--demo"])
        .env("FENGQIAO_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.strip_prefix("fengqiao-server listening on ") {
                let _ = tx.send(u.trim().to_string());
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(url) = rx.recv_timeout(Duration::from_millis(50)) {
            return (Some(child), Ok(url));
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            assert!(!status.success());
            return (None, Err(err));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server neither started nor failed");
}

/// The server: a damaged store makes `serve` exit with a clear message instead
/// of serving what sled kept; damage sled no longer reads leaves it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_server_store_stops_the_server_with_a_clear_error() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = ServerProcess::start(Path::new(SERVER), dirs[0].path()).unwrap();
    let phone = reopen(dirs[1].path(), &server.url(), &fast_options()).await.unwrap();
    phone.login("leader.t1v1g1".into(), server.password("leader.t1v1g1").unwrap()).await.unwrap();
    phone.sync().await.unwrap();
    let h = phone.households().unwrap();
    let ids: Vec<Uuid> =
        (0..20).map(|i| phone.record_visit(routine_visit(&h[i % h.len()], "服务器")).unwrap().id).collect();
    phone.sync().await.unwrap();
    let secretary_pw = server.password("secretary.t1v1").unwrap();
    server.kill().unwrap();
    let pristine = dirs[0].path().to_path_buf();

    let mut refused = 0;
    for (i, frac) in [0.2, 0.5, 0.8, 0.97, TRUNCATE, ZERO].into_iter().enumerate() {
        let data = dirs[1].path().join(format!("server-{i}"));
        copy_dir(&pristine, &data);
        damage(&data.join("store").join("db"), frac);
        match try_serve(&data) {
            (child, Ok(url)) => {
                let token = crash::token(&url, "secretary.t1v1", &secretary_pw).await;
                let visits = match token {
                    Ok(t) => counts(&crash::feed(&url, &t).await.unwrap(), "visit"),
                    Err(e) => panic!("frac {frac}: the server started but lost its users: {e}"),
                };
                if let Some(mut c) = child {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                assert!(
                    ids.iter().all(|id| visits.get(id) == Some(&1)),
                    "frac {frac}: a server that starts serves it all"
                );
            }
            (_, Err(stderr)) => {
                refused += 1;
                println!("server store, damage {frac}: {}", stderr.trim());
                assert!(stderr.contains("damaged"), "a clear startup error: {stderr}");
                assert!(!stderr.contains("panicked"), "an error, not a panic: {stderr}");
            }
        }
    }
    println!("server store: {refused} of 6 damaged copies refused, the rest served whole");
    assert!(refused >= 2, "damage that loses acknowledged writes stops the server ({refused} of 6)");
}
