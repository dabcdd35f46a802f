//! Backups of a running server and restores that phones survive (issue 26,
//! ADR 0032), end to end: a real server, real phone cores, real HTTP on
//! loopback.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fengqiao_domain::EntityKind;
use fengqiao_server::backup::{self, Manifest};
use fengqiao_server::store::{SledStore, SyncStore};
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::phone::{routine_visit, signed_in_synced};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

/// `fengqiao-server backup` of a running server: through its control file and
/// `POST /v1/admin/backup`, as the command line does it.
async fn backup_through_the_server(data_dir: &Path, to: &Path) -> Manifest {
    let (data_dir, to) = (data_dir.to_path_buf(), to.to_path_buf());
    tokio::task::spawn_blocking(move || backup::control::request_backup(&data_dir, &to))
        .await
        .unwrap()
        .expect("backup request")
        .expect("a server answers on the data dir")
}

/// Restores `from` into a new data dir (with the demo credentials, which a
/// backup does not carry) and starts a server on it at `server`'s address.
async fn restore_and_restart(server: &mut TestServer, from: &Path, into: &Path) {
    let old = server.data_dir.clone();
    server.stop().await.unwrap();
    let (from, into_dir) = (from.to_path_buf(), into.to_path_buf());
    tokio::task::spawn_blocking(move || backup::restore(&from, &into_dir)).await.unwrap().expect("restore");
    std::fs::copy(old.join("demo-credentials.json"), into.join("demo-credentials.json")).unwrap();
    *server = TestServer::start_at(into, server.addr()).await.unwrap();
}

/// Every change of the feed `user` sees, from the start, not folded by record.
async fn whole_feed(user: &ApiUser) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value =
            user.get(&format!("/v1/sync/pull?cursor={cursor}&limit=1000")).await.json().await.expect("pull answer");
        out.extend(page["changes"].as_array().expect("changes").iter().cloned());
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
        if page["has_more"] != true {
            return out;
        }
    }
}

/// Phones sync, a backup is taken, phones sync more, the server is restored
/// from the backup, the phones sync again: the work done after the backup is
/// sent again, what the restored server had is answered `duplicate`, and the
/// server ends with every op exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_ahead_of_a_restored_server_send_their_work_again_and_each_op_lands_once() {
    let dirs: Vec<tempfile::TempDir> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let a = signed_in_synced(dirs[1].path(), &url, &server, "leader.t1v1g1").await;
    let b = signed_in_synced(dirs[2].path(), &url, &server, "leader.t1v1g2").await;
    let record = |p: &fengqiao_core::FieldClient, n: usize, note: &str| -> Vec<Uuid> {
        let hs = p.households().unwrap();
        (0..n).map(|i| p.record_visit(routine_visit(&hs[i % hs.len()], &format!("{note}{i}"))).unwrap().id).collect()
    };
    let mut before = record(&a, 2, "备份前");
    before.extend(record(&b, 2, "备份前"));
    a.sync().await.unwrap();
    b.sync().await.unwrap();

    let file = dirs[4].path().join("county.fqbk");
    let manifest = backup_through_the_server(&server.data_dir, &file).await;
    assert_eq!(manifest.counts["ops"], 4, "{manifest:?}");
    let at_backup = server.state().unwrap().store.last_seq().unwrap();
    assert_eq!(manifest.last_seq, at_backup);

    let mut after = record(&a, 2, "备份后");
    after.extend(record(&b, 3, "备份后"));
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    assert!(server.state().unwrap().store.last_seq().unwrap() > at_backup);

    // The disk fails; the office restores last night's backup.
    restore_and_restart(&mut server, &file, &dirs[3].path().join("data")).await;
    let store = server.state().unwrap().store.clone();
    assert_eq!(store.last_seq().unwrap(), at_backup, "the restored server is behind the phones");
    for id in &after {
        assert!(store.record(EntityKind::Visit, *id).unwrap().is_none(), "work after the backup is lost on the server");
    }

    // B first: its three ops carry the restored feed past A's cursor (A last
    // pulled at the backup's sequence + 2), so only the feed's new identity,
    // not a cursor beyond the end, tells A that the server was restored.
    let rb = b.sync().await.unwrap();
    assert!(rb.reset, "the phone starts its pull over");
    assert_eq!((rb.pushed_applied, rb.pushed_duplicate), (3, 2), "B: {rb:?}");
    assert_eq!(store.last_seq().unwrap(), at_backup + 3);
    let ra = a.sync().await.unwrap();
    assert!(ra.reset, "the phone starts its pull over");
    assert_eq!((ra.pushed_applied, ra.pushed_duplicate), (2, 2), "A: {ra:?}");
    assert_eq!(ra.rejected + ra.conflicts + rb.rejected + rb.conflicts, 0);

    // Every visit is on the server once, and in the feed once.
    for id in before.iter().chain(&after) {
        assert!(store.record(EntityKind::Visit, *id).unwrap().is_some(), "visit {id} missing");
    }
    let secretary = ApiUser::login(&server, "secretary.t1v1").await;
    let mut puts: BTreeMap<String, usize> = BTreeMap::new();
    for c in whole_feed(&secretary).await {
        if c["entity"] == "visit" {
            *puts.entry(c["id"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    let expected: BTreeSet<String> = before.iter().chain(&after).map(|id| id.to_string()).collect();
    assert_eq!(puts.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(puts.values().all(|n| *n == 1), "each visit changed once: {puts:?}");

    // The phones show their work as the server holds it, nothing pending.
    for (p, n) in [(&a, 4), (&b, 5)] {
        let visits = p.list_visits(100).unwrap();
        assert_eq!(visits.len(), n);
        assert!(visits.iter().all(|v| !v.pending));
        assert_eq!(p.sync_status().unwrap().pending_ops, 0);
    }
    // A later sync is an ordinary one.
    let again = a.sync().await.unwrap();
    assert!(!again.reset && again.pushed_applied + again.pushed_duplicate == 0, "{again:?}");
}

/// Household ids `user` sees.
async fn households(user: &ApiUser) -> Vec<String> {
    user.pulled()
        .await
        .into_iter()
        .filter(|c| c["entity"] == "household")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// Pushes `batches` batches of `per` visits as `user`; every op id with the
/// feed sequence it was applied at.
async fn push_load(user: ApiUser, batches: usize, per: usize) -> Vec<(Uuid, u64)> {
    let hs = households(&user).await;
    let mut out = Vec::new();
    for b in 0..batches {
        let ops: Vec<Value> = (0..per)
            .map(|i| {
                json!({"op_id": Uuid::now_v7(), "v": 1, "author": user.id, "created_at": chrono::Utc::now(),
                    "op": {"kind": "record_visit", "body": {"id": Uuid::now_v7(), "household_id": hs[(b + i) % hs.len()],
                    "visited_at": chrono::Utc::now(), "kind": "routine", "notes": format!("负载{b}-{i}")}}})
            })
            .collect();
        let ids: Vec<Uuid> =
            ops.iter().map(|o| serde_json::from_value(o["op"]["body"]["id"].clone()).unwrap()).collect();
        let answer: Value = user.post("/v1/sync/push", json!({"v": 1, "ops": ops})).await.json().await.unwrap();
        let answers = answer["answers"].as_array().unwrap_or_else(|| panic!("no answers: {answer}"));
        for (id, a) in ids.into_iter().zip(answers) {
            assert_eq!(a["outcome"]["status"], "applied", "{a}");
            out.push((id, a["outcome"]["seq"].as_u64().expect("seq")));
        }
    }
    out
}

/// A backup taken while phones push is a clean cut: the restored store holds
/// exactly the visits applied at or before its last feed sequence, each
/// backup verifies, and restores into a store that opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_phones_push_is_a_consistent_cut_and_restores() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mut pushers = Vec::new();
    for user in ["leader.t1v1g1", "leader.t1v1g2", "leader.t1v2g1", "leader.t2v1g1"] {
        let u = ApiUser::login(&server, user).await;
        pushers.push(tokio::spawn(push_load(u, 30, 20)));
    }
    // Backups while they push, through the server as the command line asks.
    let mut files: Vec<(PathBuf, Manifest)> = Vec::new();
    for i in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let to = dirs[1].path().join(format!("b{i}.fqbk"));
        let m = backup_through_the_server(&server.data_dir, &to).await;
        files.push((to, m));
    }
    let mut applied: Vec<(Uuid, u64)> = Vec::new();
    for p in pushers {
        applied.extend(p.await.unwrap());
    }
    assert_eq!(applied.len(), 4 * 30 * 20);
    let during: Vec<u64> = files.iter().map(|(_, m)| m.last_seq).collect();
    let (first, last) = (applied.iter().map(|a| a.1).min().unwrap(), applied.iter().map(|a| a.1).max().unwrap());
    assert!(
        during.iter().any(|s| *s > first && *s < last),
        "a backup fell while the pushes ran: {during:?} in {first}..{last}"
    );

    for (i, (file, manifest)) in files.iter().enumerate() {
        let checked = backup::verify(file).expect("verify");
        assert_eq!(&checked, manifest);
        let into = dirs[1].path().join(format!("restored{i}"));
        backup::restore(file, &into).expect("restore");
        let store = SledStore::open(&into.join("store")).unwrap();
        assert_eq!(store.last_seq().unwrap(), manifest.last_seq);
        for (id, seq) in &applied {
            let held = store.record(EntityKind::Visit, *id).unwrap().is_some();
            assert_eq!(held, *seq <= manifest.last_seq, "visit applied at {seq}, backup at {}", manifest.last_seq);
        }
    }
}

/// A restore refuses a data dir that holds anything, and a damaged backup
/// leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_refuses_a_used_dir_and_a_damaged_file() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let file = dirs[1].path().join("b.fqbk");
    backup_through_the_server(&server.data_dir, &file).await;
    let used = dirs[1].path().join("used");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("keep.txt"), b"x").unwrap();
    let err = backup::restore(&file, &used).unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(std::fs::read(used.join("keep.txt")).unwrap(), b"x", "left as it was");

    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    let bad = dirs[1].path().join("bad.fqbk");
    std::fs::write(&bad, &bytes).unwrap();
    assert!(backup::verify(&bad).is_err());
    let into = dirs[1].path().join("fresh");
    assert!(backup::restore(&bad, &into).is_err());
    assert!(!into.exists(), "nothing left of a failed restore");
    // Asking a second time for the same file is refused; the first stands.
    let again = tokio::task::spawn_blocking({
        let (d, f) = (server.data_dir.clone(), file.clone());
        move || backup::control::request_backup(&d, &f)
    })
    .await
    .unwrap();
    assert!(again.unwrap_err().to_string().contains("backup_exists"));
    assert!(backup::verify(&file).is_ok());
}
