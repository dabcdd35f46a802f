//! The walking skeleton's loop, end to end: real server (sled), real phone cores
//! (sled), real HTTP on loopback.

use fengqiao_domain::{EntityKind, Record};
use fengqiao_server::store::Store;
use fengqiao_tests::phone::{phone, routine_visit, sign_in, signed_in};
use fengqiao_tests::server::unused_addr;
use fengqiao_tests::{FaultMode, FaultProxy, TestServer};

fn visit_count(store: &dyn Store, ids: &[uuid::Uuid]) -> usize {
    ids.iter().filter(|id| matches!(store.record(EntityKind::Visit, **id).unwrap(), Some(Record::Visit(_)))).count()
}

/// 1. Visits recorded while the server is down reach exactly the right secretary.
#[tokio::test]
async fn offline_visits_reach_the_village_secretary_and_no_one_beside() {
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let leader = signed_in(dirs[1].path(), &url, &server, "leader.t1v1g1").await;
    leader.sync().await.unwrap();
    let households = leader.households().unwrap();
    assert_eq!(households.len(), 5, "a group leader holds their group's households only");

    // the server goes down; the leader keeps working
    server.stop().await.unwrap();
    let mut ids = Vec::new();
    for (i, h) in households.iter().take(3).enumerate() {
        ids.push(leader.record_visit(routine_visit(h, &format!("第{i}次走访"))).unwrap().id);
    }
    let err = leader.sync().await.unwrap_err();
    assert!(err.is_transient(), "no server is a transient failure: {err:?}");
    let status = leader.sync_status().unwrap();
    assert_eq!(status.pending_ops, 3);
    assert!(leader.list_visits(10).unwrap().iter().all(|v| v.pending));

    // the server comes back; the leader syncs
    server.restart().await.unwrap();
    let report = leader.sync().await.unwrap();
    assert_eq!(report.pushed_applied, 3);
    assert_eq!(leader.sync_status().unwrap().pending_ops, 0);
    assert!(leader.list_visits(10).unwrap().iter().all(|v| !v.pending), "confirmed by the server");
    assert_eq!(visit_count(server.state().unwrap().store.as_ref(), &ids), 3);

    // the secretary of that village sees exactly those three
    let secretary = signed_in(dirs[2].path(), &url, &server, "secretary.t1v1").await;
    secretary.sync().await.unwrap();
    let mut seen: Vec<uuid::Uuid> = secretary.list_visits(100).unwrap().into_iter().map(|v| v.visit.id).collect();
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
    assert_eq!(secretary.households().unwrap().len(), 15, "three groups of five");

    // the secretary of another village sees none of them
    let other = signed_in(dirs[3].path(), &url, &server, "secretary.t1v2").await;
    other.sync().await.unwrap();
    assert!(other.list_visits(100).unwrap().is_empty());
    assert!(other.households().unwrap().iter().all(|h| !households.iter().any(|mine| mine.id == h.id)));
}

/// 2. The server applies a push but the answer is lost: the retry is answered
/// `duplicate` and every visit is held once.
#[tokio::test]
async fn lost_answer_is_retried_as_duplicates_and_applied_once() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let leader = signed_in(dirs[1].path(), &proxy.url(), &server, "leader.t2v3g2").await;
    leader.sync().await.unwrap();
    let households = leader.households().unwrap();
    let ids: Vec<uuid::Uuid> =
        households.iter().take(3).map(|h| leader.record_visit(routine_visit(h, "院墙破损")).unwrap().id).collect();
    let store = server.state().unwrap().store.clone();
    let before = store.last_seq().unwrap();

    proxy.set_mode(FaultMode::DropResponse);
    let err = leader.sync().await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(store.last_seq().unwrap(), before + 3, "the server committed the batch");
    assert_eq!(leader.sync_status().unwrap().pending_ops, 3, "the phone never heard, so it keeps them");

    proxy.set_mode(FaultMode::Pass);
    let report = leader.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.pushed_duplicate), (0, 3));
    assert_eq!(leader.sync_status().unwrap().pending_ops, 0);
    assert_eq!(store.last_seq().unwrap(), before + 3, "retries changed nothing");
    assert_eq!(visit_count(store.as_ref(), &ids), 3);
    // the leader's own pull brings each visit once
    let mine: Vec<uuid::Uuid> = leader.list_visits(100).unwrap().into_iter().map(|v| v.visit.id).collect();
    assert_eq!(mine.len(), 3);
}

/// 3. The server restarts between push and pull: nothing is lost, tokens still work.
#[tokio::test]
async fn server_restart_between_push_and_pull_loses_nothing() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let leader = signed_in(dirs[1].path(), &url, &server, "leader.t1v2g3").await;
    let secretary = signed_in(dirs[2].path(), &url, &server, "firstsec.t1v2").await;
    leader.sync().await.unwrap();
    secretary.sync().await.unwrap();
    let h = leader.households().unwrap();
    let v1 = leader.record_visit(routine_visit(&h[0], "第一户")).unwrap().id;
    let v2 = leader.record_visit(routine_visit(&h[1], "第二户")).unwrap().id;
    assert_eq!(leader.sync().await.unwrap().pushed_applied, 2);

    server.restart().await.unwrap();
    // the first secretary's cached access token was signed before the restart
    let report = secretary.sync().await.unwrap();
    assert!(report.pulled >= 2);
    let seen: Vec<uuid::Uuid> = secretary.list_visits(100).unwrap().into_iter().map(|v| v.visit.id).collect();
    assert!(seen.contains(&v1) && seen.contains(&v2));
    // and the phones themselves survive a restart of the app
    drop(leader);
    let reopened = phone(dirs[1].path(), &url);
    assert!(reopened.current_user().is_some(), "session kept on disk");
    assert_eq!(reopened.list_visits(10).unwrap().len(), 2);
    assert_eq!(reopened.sync().await.unwrap().pushed_applied, 0);
}

/// 5. An op the server refuses (its household moved to another village while the
/// leader was offline) waits in quarantine with a stable code; later ops still sync.
#[tokio::test]
async fn refused_op_sits_in_quarantine_while_later_ops_sync() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let leader = signed_in(dirs[1].path(), &url, &server, "leader.t1v1g1").await;
    leader.sync().await.unwrap();
    let h = leader.households().unwrap();

    // offline: first a visit to a household that is about to move away, then two more
    let moving = leader.record_visit(routine_visit(&h[0], "即将迁出")).unwrap().id;
    let later: Vec<uuid::Uuid> =
        h[1..3].iter().map(|x| leader.record_visit(routine_visit(x, "正常")).unwrap().id).collect();

    // meanwhile the county moves that household to a group in another village
    let store = server.state().unwrap().store.clone();
    let elsewhere = server.cred("leader.t1v2g1").unwrap().unit_id;
    let mut moved = h[0].clone();
    moved.group_id = elsewhere;
    store.put_records(&[Record::Household(moved)]).unwrap();

    let report = leader.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.rejected), (2, 1));
    let q = leader.quarantined().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].code, "not_in_jurisdiction");
    assert!(!q[0].message.is_empty());
    assert_eq!(visit_count(store.as_ref(), &later), 2);
    assert_eq!(visit_count(store.as_ref(), &[moving]), 0);
    // the phone was told to drop the household that left its group
    assert!(leader.households().unwrap().iter().all(|x| x.id != h[0].id));
    // the refused visit is still there for the user to see, flagged
    let item = leader.list_visits(10).unwrap().into_iter().find(|v| v.visit.id == moving).unwrap();
    assert!(item.quarantined);
    assert_eq!(leader.sync_status().unwrap().quarantined.len(), 1);
    // a new op behind it syncs too
    let next = leader.record_visit(routine_visit(&h[3], "之后")).unwrap().id;
    assert_eq!(leader.sync().await.unwrap().pushed_applied, 1);
    assert_eq!(visit_count(store.as_ref(), &[next]), 1);
    assert_eq!(leader.quarantined().unwrap().len(), 1, "kept until the user acts");
}

/// A phone pointed at an address nobody listens on keeps everything.
#[tokio::test]
async fn no_network_at_all_keeps_the_outbox() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let leader = signed_in(dirs[1].path(), &server.url(), &server, "leader.t1v1g2").await;
    leader.sync().await.unwrap();
    let h = leader.households().unwrap();
    drop(leader);
    let dead = format!("http://{}", unused_addr().unwrap());
    let offline = phone(dirs[1].path(), &dead);
    offline.record_visit(routine_visit(&h[0], "无信号")).unwrap();
    assert!(offline.sync().await.unwrap_err().is_transient());
    assert_eq!(offline.sync_status().unwrap().pending_ops, 1);
    drop(offline);
    let back = phone(dirs[1].path(), &server.url());
    assert_eq!(back.sync().await.unwrap().pushed_applied, 1);
}

/// The phone guides its user with the county's own numbers: after a sync it uses
/// the policy the server serves, not the defaults it was built with.
#[tokio::test]
async fn phone_adopts_the_county_policy_served_by_the_server() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    std::fs::write(
        dirs[0].path().join("policy.toml"),
        "[deadlines]\ngeneral_days = 3\n\n[visits]\nmax_notes_chars = 20\n",
    )
    .unwrap();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let leader = phone(dirs[1].path(), &server.url());
    assert_eq!(leader.policy().deadlines.general_days, 7, "the built-in default before any sync");
    sign_in(&leader, &server, "leader.t1v1g1").await;
    leader.sync().await.unwrap();
    assert_eq!(leader.policy().deadlines.general_days, 3);
    assert_eq!(leader.policy().visits.max_notes_chars, 20);
    let h = leader.households().unwrap().remove(0);
    let err =
        leader.record_visit(routine_visit(&h, "这段走访记录明显超过了本县规定的二十个字符的长度限制")).unwrap_err();
    assert_eq!(err.code(), "invalid_input", "refused on the phone with the county's limit");
    assert!(leader.record_visit(routine_visit(&h, "正常")).is_ok());
    // kept across a restart of the app, offline
    drop(leader);
    let offline = phone(dirs[1].path(), &format!("http://{}", unused_addr().unwrap()));
    assert_eq!(offline.policy().deadlines.general_days, 3);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The server is restored from a copy of its data dir taken before the phones' last
/// pull: their cursors point beyond the end of its feed. Pulling with such a cursor
/// resets the phone, which takes the server's state as it stands and receives what
/// follows; the phone whose work the copy lacks sends it again (ADR 0032).
#[tokio::test]
async fn cursor_beyond_a_restored_feed_resets_the_phone_and_it_receives_its_scope() {
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let leader = signed_in(dirs[1].path(), &url, &server, "leader.t1v1g1").await;
    let secretary = signed_in(dirs[2].path(), &url, &server, "secretary.t1v1").await;
    leader.sync().await.unwrap();
    secretary.sync().await.unwrap();

    // the night's backup
    server.stop().await.unwrap();
    let backup = dirs[3].path().join("backup");
    copy_dir(dirs[0].path(), &backup);
    server.restart().await.unwrap();

    // a day's work after the backup reaches the secretary
    let h = leader.households().unwrap();
    let lost: Vec<uuid::Uuid> =
        h.iter().take(3).map(|x| leader.record_visit(routine_visit(x, "备份之后")).unwrap().id).collect();
    assert_eq!(leader.sync().await.unwrap().pushed_applied, 3);
    secretary.sync().await.unwrap();
    assert_eq!(secretary.list_visits(100).unwrap().len(), 3);

    // the disk fails; the server is restored from the backup
    server.stop().await.unwrap();
    std::fs::remove_dir_all(dirs[0].path()).unwrap();
    copy_dir(&backup, dirs[0].path());
    // As `fengqiao-server restore` does: the restored feed gets a new identity.
    // (A bare copy keeps it; then only cursors beyond its end would be caught,
    // and the leader's resent work below would carry the feed past the
    // secretary's cursor.)
    fengqiao_server::store::SledStore::open(&dirs[0].path().join("store")).unwrap().renew_feed_epoch().unwrap();
    server.restart().await.unwrap();

    // a new visit takes a sequence number the secretary's cursor is already past
    let fresh = leader.record_visit(routine_visit(&h[3], "恢复之后")).unwrap().id;
    let report = leader.sync().await.unwrap();
    assert_eq!(report.pushed_applied, 4, "the new visit, and the three the restored server lacked, sent again");
    assert!(report.reset, "the leader's cursor was beyond the restored feed too");

    let report = secretary.sync().await.unwrap();
    assert!(report.reset, "a cursor of the feed before the restore resets the phone");
    let mut seen: Vec<uuid::Uuid> = secretary.list_visits(100).unwrap().into_iter().map(|v| v.visit.id).collect();
    let mut all = lost.clone();
    all.push(fresh);
    seen.sort();
    all.sort();
    assert_eq!(seen, all, "the server's state as it stands, with the leader's work back");
    assert_eq!(secretary.households().unwrap().len(), 15, "the scope came back whole");
    // and the next sync goes on from the new cursor
    let again = secretary.sync().await.unwrap();
    assert!(!again.reset);
    assert_eq!(again.pulled, 0);
}

/// A pull whose cursor lies far beyond the end of the feed is answered from the
/// beginning with `reset`, and a cursor within the feed is not.
#[tokio::test]
async fn raw_pull_with_a_cursor_beyond_the_end_answers_reset_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let sec = fengqiao_tests::api::ApiUser::login(&server, "secretary.t1v1").await;
    let first: serde_json::Value = sec.get("/v1/sync/pull").await.json().await.unwrap();
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (pos, fp) = cursor.trim_start_matches("1.").split_once('.').unwrap();
    let pos: u64 = pos.parse().unwrap();
    let forged = format!("1.{}.{fp}", pos + 1_000_000);
    let r = sec.get(&format!("/v1/sync/pull?cursor={forged}")).await;
    assert_eq!(r.status(), 200);
    let page: serde_json::Value = r.json().await.unwrap();
    assert_eq!(page["reset"], true);
    assert_eq!(page["changes"], first["changes"], "the whole scope again");
    assert_eq!(page["next_cursor"], first["next_cursor"], "a cursor this server gave out");
    let same: serde_json::Value = sec.get(&format!("/v1/sync/pull?cursor={cursor}")).await.json().await.unwrap();
    assert_eq!(same["reset"], false);
    assert_eq!(same["changes"].as_array().unwrap().len(), 0);
}

/// A push may leave out the fields the server fills in itself (`reported_by`,
/// `handler_unit`, `level_since`, `registered_at`, `visitor_id`, the escalation's
/// `requested_by` and `requested_at`): the ops apply. And an op that cannot be
/// read is refused naming the field.
#[tokio::test]
async fn raw_push_without_server_owned_fields_applies_and_a_bad_field_is_named() {
    use fengqiao_tests::api::{dispute_body, escalation_body, ApiUser};
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;
    let case = leader.case_number("T01V01", 0).await;
    let id = uuid::Uuid::now_v7();
    let mut report = dispute_body(id, &case, group, "group", "land", "general");
    for server_owned in ["reported_by", "handler_unit", "level_since", "registered_at"] {
        report.as_object_mut().unwrap().remove(server_owned);
    }
    let out = leader.push("report_dispute", report).await;
    assert_eq!(out["status"], "applied", "{out}");
    let store = server.state().unwrap().store.clone();
    let Some(Record::Dispute(d)) = store.record(EntityKind::Dispute, id).unwrap() else { panic!("stored") };
    assert_eq!(d.reported_by.to_string(), leader.id);
    assert_eq!(d.handler_unit, group);
    assert!(d.registered_at > chrono::Utc::now() - chrono::Duration::minutes(5));
    let (_, mut esc) = escalation_body(id, "village");
    for server_owned in ["requested_by", "requested_at"] {
        esc.as_object_mut().unwrap().remove(server_owned);
    }
    let out = leader.push("request_escalation", esc).await;
    assert_eq!(out["status"], "applied", "{out}");

    let sync: serde_json::Value = leader.get("/v1/sync/pull").await.json().await.unwrap();
    let household = sync["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["entity"] == "household")
        .map(|c| c["id"].clone())
        .unwrap();
    let visit = |visited_at: &str| json!({"id": uuid::Uuid::now_v7(), "household_id": household, "visited_at": visited_at, "kind": "routine"});
    let out = leader.push("record_visit", visit("2026-06-01T08:00:00Z")).await;
    assert_eq!(out["status"], "applied", "no visitor_id: {out}");

    let op = json!({"op_id": uuid::Uuid::now_v7(), "v": 1, "author": leader.id, "created_at": chrono::Utc::now(),
        "op": {"kind": "record_visit", "body": visit("2026-13-01T08:00:00Z")}});
    let r = leader.post("/v1/sync/push", json!({"v": 1, "ops": [op]})).await;
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "malformed_op");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("op.body.visited_at"), "the field is named: {message}");
}
