//! FieldClient and sync engine tests against a stateful fake server on loopback
//! (the real server's end-to-end tests live in the workspace's `tests/`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use fengqiao_domain::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{Change, ChangeAction, GrantInfo, Op, OpAnswer, OpEnvelope, Outcome, UserInfo};
use fengqiao_domain::{EntityKind, Household, Record, RejectionCode, VisitKind};
use serde_json::json;
use uuid::Uuid;

use crate::testutil::{FakeServer, Reply, Req};
use crate::*;

mod mock;
mod people;
mod photo_source;
mod push;
mod transport;

use self::mock::Mock;

const COUNTY: u128 = 1;
const TOWN: u128 = 2;
const VILLAGE: u128 = 3;
const GROUP: u128 = 4;
const HOUSE: u128 = 50;
const HOUSE2: u128 = 51;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn user(name: &str) -> UserInfo {
    let (uid, role, unit) = match name {
        "leader" => (100, Role::GroupLeader, GROUP),
        "other" => (200, Role::GroupLeader, GROUP),
        _ => (300, Role::Mediator, VILLAGE),
    };
    UserInfo {
        id: id(uid),
        username: name.into(),
        display_name: name.into(),
        roles: vec![GrantInfo {
            grant: RoleGrant { role, unit_id: id(unit) },
            unit_name: "u".into(),
            ancestors: vec![],
            offices: vec![],
        }],
    }
}

fn put(r: Record) -> serde_json::Value {
    serde_json::to_value(Change { seq: 0, action: ChangeAction::Put, entity: r.kind(), id: r.id(), record: Some(r) })
        .expect("json")
}

fn unit(n: u128, level: UnitLevel, parent: Option<u128>) -> Record {
    Record::Unit(OrgUnit {
        id: id(n),
        code: format!("U{n}"),
        name: format!("u{n}"),
        level,
        parent: parent.map(id),
        kind: None,
        offices: vec![],
    })
}

fn house(n: u128) -> Record {
    Record::Household(Household {
        id: id(n),
        group_id: id(GROUP),
        head_name: "张三".into(),
        address: format!("{n}号"),
        phone: None,
        code: None,
        id_number: None,
    })
}

struct Env {
    srv: FakeServer,
    mock: Arc<Mutex<Mock>>,
    store: Arc<MemoryClientStore>,
    client: FieldClient,
}

fn fast_options() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
        },
        request_timeout: Duration::from_secs(5),
        pull_page_limit: 4,
        ..ClientOptions::default()
    }
}

async fn env_with(options: ClientOptions) -> Env {
    let mock = Arc::new(Mutex::new(Mock::new()));
    let m2 = mock.clone();
    let srv = FakeServer::start(move |req| m2.lock().expect("lock").handle(req)).await;
    let store = Arc::new(MemoryClientStore::new());
    let client = FieldClient::with_store(store.clone(), srv.url(), options).expect("client");
    Env { srv, mock, store, client }
}

async fn env() -> Env {
    env_with(fast_options()).await
}

fn visit(notes: &str) -> NewVisit {
    NewVisit {
        household_id: id(HOUSE),
        body: None,
        kind: VisitKind::Routine,
        visited_at: None,
        notes: notes.into(),
        location: None,
        leads: vec![],
    }
}

/// Logged in as `who` with the reference data pulled.
async fn ready(who: &str) -> Env {
    let e = env().await;
    e.client.login(who.into(), "pw".into()).await.expect("login");
    e.client.sync().await.expect("first sync");
    e
}

#[tokio::test]
async fn login_pulls_reference_data_in_pages_and_skips_unknown() {
    let e = env().await;
    assert_eq!(e.client.current_user(), None);
    let err = e.client.login("leader".into(), "wrong".into()).await.expect_err("bad password");
    assert_eq!(err.code(), "invalid_credentials");
    let u = e.client.login("leader".into(), "pw".into()).await.expect("login");
    assert_eq!(u.id, id(100));
    let login = e.srv.requests().into_iter().find(|r| r.path == "/v1/auth/login").expect("login req");
    assert!(login.json()["device_id"].is_string(), "the install id goes with the login");
    let report = e.client.sync().await.expect("sync");
    assert_eq!((report.pulled, report.skipped_unknown, report.pages), (5, 1, 2));
    assert_eq!(e.client.units().expect("units").len(), 4);
    assert_eq!(e.client.units().expect("units")[0].level, UnitLevel::County);
    assert_eq!(e.client.households().expect("households").len(), 1);
    let st = e.client.sync_status().expect("status");
    assert!(st.last_sync_at.is_some() && st.last_error.is_none() && !st.session_expired);
}

#[tokio::test]
async fn visits_are_recorded_offline_validated_and_checked() {
    let e = ready("leader").await;
    drop(e.srv); // offline from here on
    let v = e.client.record_visit(visit("院子整洁")).expect("record");
    assert_eq!(v.id.get_version_num(), 7, "UUIDv7 made on the device");
    assert_eq!((v.visitor_id, v.group_id), (id(100), Some(id(GROUP))));
    let list = e.client.list_visits(10).expect("list");
    assert_eq!(list.len(), 1);
    assert!(list[0].pending && !list[0].quarantined);
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 1);

    let long = "字".repeat(Policy::default().visits.max_notes_chars + 1);
    let err = e.client.record_visit(visit(&long)).expect_err("too long");
    assert_eq!(
        (err.code(), &err),
        (
            "invalid_input",
            &ClientError::InvalidInput {
                reason: "text_too_long".into(),
                message: "走访记录：最多 4000 个字，请精简后再提交（文字长度上限）".into()
            }
        )
    );
    let mut lead = visit("x");
    lead.kind = VisitKind::LeadFound;
    assert_eq!(e.client.record_visit(lead).expect_err("needs a lead").code(), "invalid_input");
    let mut elsewhere = visit("x");
    elsewhere.household_id = id(999);
    let err = e.client.record_visit(elsewhere).expect_err("unknown household");
    assert!(matches!(&err, ClientError::Rejected { reason, .. } if reason == "not_in_jurisdiction"), "{err:?}");
    // a household of another group, pulled (e.g. for a village role before), is still refused
    let g2 = Record::Household(Household {
        id: id(77),
        group_id: id(9),
        head_name: "李四".into(),
        address: "9号".into(),
        phone: None,
        code: None,
        id_number: None,
    });
    let page = store::PulledPage {
        reset: false,
        changes: vec![Change {
            seq: 9,
            action: ChangeAction::Put,
            entity: EntityKind::Household,
            id: id(77),
            record: Some(g2),
        }],
        next_cursor: e.store.pull_state().expect("p").expect("p").cursor,
    };
    e.store.apply_pulled(id(100), &page).expect("apply");
    let mut elsewhere = visit("x");
    elsewhere.household_id = id(77);
    let err = e.client.record_visit(elsewhere).expect_err("other group");
    assert!(matches!(&err, ClientError::Rejected { reason, .. } if reason == "not_in_jurisdiction"), "{err:?}");
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 1, "refused input queues nothing");

    // sync while offline: transient, everything kept
    let err = e.client.sync().await.expect_err("offline");
    assert_eq!(err.code(), "network");
    assert_eq!(e.client.sync_status().expect("status").last_error.map(|x| x.code), Some("network".into()));
    assert_eq!(e.client.list_visits(10).expect("list").len(), 1);
}

#[tokio::test]
async fn a_visit_may_go_to_a_social_body_instead_of_a_household() {
    use fengqiao_domain::records::{SocialBody, SocialBodyKind};
    let e = ready("leader").await;
    drop(e.srv); // offline
    let body = |name: &str, unit: Uuid| SocialBody { kind: SocialBodyKind::School, name: name.into(), unit_id: unit };
    let to = |b: SocialBody| NewVisit { household_id: Uuid::nil(), body: Some(b), ..visit("了解校园周边纠纷") };
    let v = e.client.record_visit(to(body("团结小学", id(GROUP)))).expect("record");
    assert_eq!((v.household_id, v.group_id), (Uuid::nil(), Some(id(GROUP))));
    assert_eq!(v.body.as_ref().map(|b| b.name.as_str()), Some("团结小学"));
    assert!(e.client.list_visits(10).expect("list")[0].pending);

    let err = e.client.record_visit(to(body("团结小学", id(999)))).expect_err("unknown unit");
    assert!(matches!(&err, ClientError::Rejected { reason, .. } if reason == "not_in_jurisdiction"), "{err:?}");
    let err = e.client.record_visit(to(body(" ", id(GROUP)))).expect_err("no name");
    assert!(
        matches!(&err, ClientError::InvalidInput { reason, message } if reason == "invalid_field" && message.starts_with("走访对象名称")),
        "{err:?}"
    );
    let both = NewVisit { body: Some(body("团结小学", id(GROUP))), ..visit("x") };
    let err = e.client.record_visit(both).expect_err("household and body");
    assert!(
        matches!(&err, ClientError::InvalidInput { reason, message } if reason == "invalid_field" && message.starts_with("走访对象")),
        "{err:?}"
    );
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 1, "refused input queues nothing");
}

#[tokio::test]
async fn role_without_the_right_is_refused_offline() {
    let e = ready("mediator").await;
    let err = e.client.record_visit(visit("x")).expect_err("mediators do not log visits");
    assert!(matches!(&err, ClientError::Rejected { reason, .. } if reason == "role_not_allowed"), "{err:?}");
    e.client.logout().await.expect("logout");
    assert_eq!(e.client.record_visit(visit("x")).expect_err("no session").code(), "not_logged_in");
    assert_eq!(e.client.list_visits(5).expect_err("no session").code(), "not_logged_in");
}

#[tokio::test]
async fn push_applies_quarantines_and_pull_confirms() {
    let e = ready("leader").await;
    let ok = e.client.record_visit(visit("ok")).expect("v");
    let rej = e.client.record_visit(visit("REJECT")).expect("v");
    let conf = e.client.record_visit(visit("CONFLICT")).expect("v");
    let ok2 = e.client.record_visit(visit("ok2")).expect("v");
    let progress = Arc::new(Seen::default());
    let report = e.client.sync_with(Some(progress.clone()), None).await.expect("sync");
    assert_eq!((report.pushed_applied, report.rejected, report.conflicts), (2, 1, 1));
    assert_eq!(report.pulled, 2, "the two applied visits come back through the feed");
    assert!(progress.0.lock().expect("lock").contains(&(SyncPhase::Pushing, 4, 4)));
    let q = e.client.quarantined().expect("q");
    assert_eq!(
        q.iter().map(|q| (q.record_id, q.code.as_str())).collect::<Vec<_>>(),
        vec![(Some(rej.id), "invalid_field"), (Some(conf.id), "conflict")]
    );
    assert_eq!(q[1].current, Some(house(HOUSE)));
    let list = e.client.list_visits(10).expect("list");
    let by_id: HashMap<Uuid, &VisitItem> = list.iter().map(|i| (i.visit.id, i)).collect();
    assert!(!by_id[&ok.id].pending && !by_id[&ok2.id].pending);
    assert!(by_id[&rej.id].pending && by_id[&rej.id].quarantined);
    assert_eq!(
        list.iter().map(|i| i.visit.id).collect::<Vec<_>>(),
        vec![ok2.id, conf.id, rej.id, ok.id],
        "newest first"
    );

    // retry sends it again (the server answers duplicate of the rejection); discard drops it
    e.client.retry_quarantined(rej.id).expect_err("an op id is needed, not a record id");
    e.client.retry_quarantined(q[0].op_id).expect("retry");
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 1);
    let report = e.client.sync().await.expect("sync");
    assert_eq!(report.rejected, 1);
    e.client.discard_quarantined(q[0].op_id).expect("discard");
    e.client.discard_quarantined(q[1].op_id).expect("discard");
    assert!(e.client.quarantined().expect("q").is_empty());
    let ids: HashSet<Uuid> = e.client.list_visits(10).expect("list").iter().map(|i| i.visit.id).collect();
    assert_eq!(ids, HashSet::from([ok.id, ok2.id]));
    assert_eq!(e.client.discard_quarantined(q[0].op_id).expect_err("gone").code(), "not_found");
}

#[derive(Default)]
struct Seen(Mutex<Vec<(SyncPhase, u64, u64)>>);
impl SyncProgress for Seen {
    fn on_progress(&self, phase: SyncPhase, done: u64, total: u64) {
        self.0.lock().expect("lock").push((phase, done, total));
    }
}

#[tokio::test]
async fn malformed_op_is_quarantined_and_the_rest_go_through() {
    let e = ready("leader").await;
    let vs: Vec<_> = (0..3).map(|i| e.client.record_visit(visit(&format!("v{i}"))).expect("v")).collect();
    e.mock
        .lock()
        .expect("lock")
        .push_script
        .push_back(Reply::json(422, r#"{"code":"malformed_op","message":"unknown op kind","op_index":1}"#));
    let report = e.client.sync().await.expect("sync");
    assert_eq!((report.malformed, report.pushed_applied), (1, 2));
    let q = e.client.quarantined().expect("q");
    assert_eq!((q.len(), q[0].record_id, q[0].code.as_str()), (1, Some(vs[1].id), "malformed_op"));
}

#[tokio::test]
async fn oversized_batches_are_halved_and_5xx_retried() {
    let e = ready("leader").await;
    for i in 0..4 {
        e.client.record_visit(visit(&format!("v{i}"))).expect("v");
    }
    {
        let mut m = e.mock.lock().expect("lock");
        m.push_script.push_back(Reply::json(413, r#"{"code":"payload_too_large","message":"big"}"#));
        m.push_script.push_back(Reply::json(503, r#"{"code":"unavailable","message":"busy"}"#));
        m.push_script.push_back(Reply::Close);
    }
    let report = e.client.sync().await.expect("sync after retries");
    assert_eq!(report.pushed_applied, 4);
    assert_eq!(e.srv.count("/v1/sync/push"), 5, "413, 503, closed, then two halves");
}

#[tokio::test]
async fn persistent_server_errors_keep_the_outbox() {
    let e = ready("leader").await;
    e.client.record_visit(visit("v")).expect("v");
    for _ in 0..3 {
        e.mock.lock().expect("lock").push_script.push_back(Reply::json(500, r#"{"code":"internal","message":"x"}"#));
    }
    let err = e.client.sync().await.expect_err("gives up");
    assert_eq!(err.code(), "server");
    assert!(err.is_transient());
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 1);
    assert_eq!(e.client.sync().await.expect("later").pushed_applied, 1);
}

#[tokio::test]
async fn expired_access_token_is_refreshed_and_rotation_is_stored() {
    let e = ready("leader").await;
    let before = e.store.load_session().expect("load").expect("session").tokens.expect("tokens");
    // the server forgets the access token: 401 → one refresh → retry
    e.mock.lock().expect("lock").access.clear();
    e.client.record_visit(visit("v")).expect("v");
    assert_eq!(e.client.sync().await.expect("sync").pushed_applied, 1);
    let after = e.store.load_session().expect("load").expect("session").tokens.expect("tokens");
    assert_ne!(after.refresh_token, before.refresh_token, "rotated refresh token stored");
    assert_eq!(e.srv.count("/v1/auth/refresh"), 1);
}

#[tokio::test]
async fn clock_past_expiry_refreshes_before_use() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let e = env_with(ClientOptions { clock: clock.clone(), ..fast_options() }).await;
    e.client.login("leader".into(), "pw".into()).await.expect("login");
    e.client.sync().await.expect("sync");
    assert_eq!(e.srv.count("/v1/auth/refresh"), 0);
    clock.advance(chrono::Duration::seconds(900 - 30)); // inside the 60 s margin
    e.client.sync().await.expect("sync");
    assert_eq!(e.srv.count("/v1/auth/refresh"), 1);
    let pulls: Vec<Req> = e.srv.requests().into_iter().filter(|r| r.path == "/v1/sync/pull").collect();
    assert_eq!(pulls.len(), 3, "two pages, then one");
    assert_eq!(pulls[2].header("authorization"), Some("Bearer acc-2"), "the new token was used, not the old one");
}

#[tokio::test]
async fn refused_refresh_expires_the_session_but_keeps_work() {
    let e = ready("leader").await;
    e.client.record_visit(visit("v")).expect("v");
    {
        let mut m = e.mock.lock().expect("lock");
        m.access.clear();
        m.refused_refresh = true;
    }
    let err = e.client.sync().await.expect_err("expired");
    assert_eq!(err, ClientError::SessionExpired);
    let st = e.client.sync_status().expect("status");
    assert!(st.session_expired);
    assert_eq!(st.pending_ops, 1);
    assert_eq!(e.client.current_user().map(|u| u.id), Some(id(100)), "still known offline");
    e.client.record_visit(visit("offline work goes on")).expect("v");
    assert_eq!(e.client.sync().await.expect_err("no network call").code(), "session_expired");
    e.mock.lock().expect("lock").refused_refresh = false;
    e.client.login("leader".into(), "pw".into()).await.expect("login again");
    assert_eq!(e.client.sync().await.expect("sync").pushed_applied, 2);
}

#[tokio::test]
async fn ops_wait_for_their_author_and_pulled_data_follows_the_user() {
    let e = ready("leader").await;
    let mine = e.client.record_visit(visit("by leader")).expect("v");
    e.client.logout().await.expect("logout");
    assert_eq!(e.mock.lock().expect("lock").logouts.len(), 1, "refresh token revoked");
    assert_eq!(e.store.outbox_len(None).expect("len"), 1, "logout keeps queued work");
    e.client.login("other".into(), "pw".into()).await.expect("login other");
    let report = e.client.sync().await.expect("sync");
    assert_eq!((report.pushed_applied, report.waiting_for_other_users), (0, 1));
    assert!(e.client.list_visits(10).expect("list").iter().all(|i| i.visit.id != mine.id), "not shown to another user");
    assert_eq!(e.client.sync_status().expect("status").waiting_for_other_users, 1);
    e.client.logout().await.expect("logout");
    e.client.login("leader".into(), "pw".into()).await.expect("login leader");
    assert_eq!(e.client.sync().await.expect("sync").pushed_applied, 1);
}

#[tokio::test]
async fn reset_drops_pulled_records_but_keeps_pending_work() {
    let e = ready("leader").await;
    let pending = e.client.record_visit(visit("keep me")).expect("v");
    e.mock.lock().expect("lock").push_script.push_back(Reply::json(503, "{}"));
    e.mock.lock().expect("lock").push_script.push_back(Reply::json(503, "{}"));
    e.mock.lock().expect("lock").push_script.push_back(Reply::json(503, "{}"));
    e.client.sync().await.expect_err("push fails: nothing pulled either");
    {
        let mut m = e.mock.lock().expect("lock");
        m.feed.retain(|c| c["id"] != json!(id(HOUSE)));
        m.feed.push(put(house(HOUSE2)));
        m.reset_next = true;
    }
    // the scope changed: the old household goes, the new one comes, the pending visit stays
    let report = e.client.sync().await.expect("sync");
    assert!(report.reset);
    let hs: Vec<Uuid> = e.client.households().expect("h").iter().map(|h| h.id).collect();
    assert_eq!(hs, vec![id(HOUSE2)]);
    assert!(e.client.list_visits(10).expect("list").iter().any(|i| i.visit.id == pending.id));
}

#[tokio::test]
async fn cancel_stops_sync_and_keeps_the_outbox() {
    let e = ready("leader").await;
    e.client.record_visit(visit("v")).expect("v");
    e.mock.lock().expect("lock").push_script.push_back(Reply::Hang);
    let cancel = CancelHandle::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c2.cancel();
    });
    let err = e.client.sync_with(None, Some(cancel)).await.expect_err("cancelled");
    assert_eq!(err, ClientError::Cancelled);
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 1);
    assert_eq!(e.client.sync().await.expect("sync").pushed_applied, 1);
}

fn key() -> Vec<u8> {
    vec![7u8; 32]
}

#[tokio::test]
async fn sled_client_keeps_visits_across_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("fq").to_string_lossy().to_string();
    let mock = Arc::new(Mutex::new(Mock::new()));
    let m2 = mock.clone();
    let srv = FakeServer::start(move |req| m2.lock().expect("lock").handle(req)).await;
    let v = {
        let c = FieldClient::open(data.clone(), srv.url(), key(), fast_options()).expect("open");
        c.login("leader".into(), "pw".into()).await.expect("login");
        c.sync().await.expect("sync");
        c.record_visit(visit("durable")).expect("v")
    };
    let wrong = FieldClient::open(data.clone(), srv.url(), vec![9u8; 32], fast_options()).expect_err("wrong key");
    assert_eq!(wrong.code(), "wrong_store_key");
    let short = FieldClient::open(data.clone(), srv.url(), vec![9u8; 16], fast_options()).expect_err("short key");
    assert_eq!(short.code(), "invalid_input");
    let c = FieldClient::open(data, srv.url(), key(), fast_options()).expect("reopen");
    assert_eq!(c.current_user().map(|u| u.id), Some(id(100)));
    let list = c.list_visits(10).expect("list");
    assert_eq!((list.len(), list[0].visit.id, list[0].pending), (1, v.id, true));
    assert_eq!(c.sync().await.expect("sync").pushed_applied, 1);
    assert!(!c.list_visits(10).expect("list")[0].pending);
    assert!(FieldClient::open(
        dir.path().join("x").to_string_lossy().to_string(),
        "nope".into(),
        key(),
        fast_options()
    )
    .is_err());
}

#[tokio::test]
async fn unknown_cursor_restarts_the_pull_and_batch_refusals_keep_the_outbox() {
    let e = ready("leader").await;
    e.store
        .apply_pulled(id(100), &store::PulledPage { reset: false, changes: vec![], next_cursor: "garbage".into() })
        .expect("cursor");
    let report = e.client.sync().await.expect("sync");
    assert!(report.reset);
    assert_eq!(report.pulled, 5);
    assert_eq!(e.client.households().expect("h").len(), 1);

    e.client.record_visit(visit("v")).expect("v");
    e.mock
        .lock()
        .expect("lock")
        .push_script
        .push_back(Reply::json(400, r#"{"code":"unsupported_version","message":"old"}"#));
    let err = e.client.sync().await.expect_err("refused batch");
    assert_eq!(err.code(), "protocol");
    assert!(e.client.quarantined().expect("q").is_empty(), "a batch-level refusal quarantines nothing");
    assert_eq!(e.client.sync_status().expect("status").pending_ops, 1);
}
