//! Built for rural networks, end to end (real server, real phone cores,
//! loopback): gzip negotiated both ways and a decompression bomb refused;
//! the policy and the names revalidated (`304`), not fetched twice; a held wait
//! that answers on a change in the caller's scope and not on one outside it; a
//! first pull that survives a cut after every page.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fengqiao_core::{ClientOptions, SyncPhase, SyncProgress};
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::phone::{fast_options, phone_with, reopen, sign_in, signed_in_synced};
use fengqiao_tests::proxy::{FaultMode, FaultProxy};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

/// A client that neither asks for nor decodes compression by itself.
fn plain_http() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().build().unwrap()
}

/// The id of the first household `user` pulls.
async fn a_household(user: &ApiUser) -> Value {
    user.pulled().await.into_iter().find(|c| c["entity"] == "household").map(|c| c["id"].clone()).unwrap()
}

fn visit_op(user: &ApiUser, household: &Value) -> (Uuid, Value) {
    let op_id = Uuid::now_v7();
    let visit =
        json!({"id": Uuid::now_v7(), "household_id": household, "visited_at": chrono::Utc::now(), "kind": "routine"});
    let env = json!({"op_id": op_id, "v": 1, "author": user.id, "created_at": chrono::Utc::now(),
        "op": {"kind": "record_visit", "body": visit}});
    (op_id, env)
}

/// Pull pages come gzip-compressed when asked for (and plain when not), every
/// API answer names gzip in `Accept-Encoding`; a gzip push is taken, one in an
/// encoding the server does not take is refused `415`.
#[tokio::test]
async fn gzip_is_negotiated_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let http = plain_http();
    let pull = format!("{}/v1/sync/pull?limit=500", server.url());
    let packed = http.get(&pull).bearer_auth(&leader.token).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(packed.status(), 200);
    assert_eq!(packed.headers()["content-encoding"], "gzip");
    assert_eq!(packed.headers()["accept-encoding"], "gzip", "the server says it takes gzip bodies");
    let packed = packed.bytes().await.unwrap();
    let plain = http.get(&pull).bearer_auth(&leader.token).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none(), "not asked for, not compressed");
    let plain = plain.bytes().await.unwrap();
    let unpacked: Value = serde_json::from_slice(&gunzip(&packed)).unwrap();
    assert_eq!(unpacked, serde_json::from_slice::<Value>(&plain).unwrap(), "the same page");
    assert!(packed.len() * 3 < plain.len(), "a page shrinks: {} of {} bytes", packed.len(), plain.len());

    let household = a_household(&leader).await;
    let (_, op) = visit_op(&leader, &household);
    let body = serde_json::to_vec(&json!({"v": 1, "ops": [op]})).unwrap();
    let push = format!("{}/v1/sync/push", server.url());
    let send = |encoding: &'static str, bytes: Vec<u8>| {
        http.post(&push)
            .bearer_auth(&leader.token)
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(bytes)
            .send()
    };
    let refused = send("br", body.clone()).await.unwrap();
    assert_eq!(refused.status(), 415);
    assert_eq!(refused.headers()["accept-encoding"], "gzip");
    let err: Value = refused.json().await.unwrap();
    assert_eq!(err["code"], "unsupported_media_type");
    let taken = send("gzip", gzip(&body)).await.unwrap();
    assert_eq!(taken.status(), 200);
    let answer: Value = taken.json().await.unwrap();
    assert_eq!(answer["answers"][0]["outcome"]["status"], "applied", "{answer}");
}

/// A few kilobytes of gzip that inflate past the push limit (2 MiB) are refused
/// `413 payload_too_large` while inflating, and the op inside is not applied.
#[tokio::test]
async fn a_decompression_bomb_gets_413_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let household = a_household(&leader).await;
    let (op_id, op) = visit_op(&leader, &household);
    let limit = server.state().unwrap().policy.sync.max_push_bytes;
    let mut body = format!("{{\"v\":1,\"ops\":[{op}").into_bytes();
    body.resize(body.len() + 4 * limit, b' '); // JSON whitespace
    body.extend_from_slice(b"]}");
    let bomb = gzip(&body);
    assert!(bomb.len() * 100 < limit, "the bomb is small on the wire: {} bytes", bomb.len());
    let resp = plain_http()
        .post(format!("{}/v1/sync/push", server.url()))
        .bearer_auth(&leader.token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["code"], "payload_too_large");
    // Nothing was applied: the same op now is new to the server.
    let again = serde_json::to_vec(&json!({"v": 1, "ops": [op]})).unwrap();
    let answer: Value =
        leader.post("/v1/sync/push", serde_json::from_slice(&again).unwrap()).await.json().await.unwrap();
    assert_eq!(answer["answers"][0]["outcome"]["status"], "applied", "{answer}");
    assert_eq!(answer["answers"][0]["op_id"], json!(op_id));
}

/// The policy's and the names' `ETag`s: a request naming them is answered `304`
/// without a body; the pull names the policy's tag, so a phone whose policy is
/// current does not ask for it at all.
#[tokio::test]
async fn the_policy_and_the_names_answer_304_to_their_etag() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let http = plain_http();
    for (path, cache) in [("/v1/policy", "private, no-cache"), ("/v1/people", "private, max-age=3600")] {
        let url = format!("{}{path}", server.url());
        let first = http.get(&url).bearer_auth(&leader.token).send().await.unwrap();
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(first.headers()["cache-control"], cache, "{path}");
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        let again = http.get(&url).bearer_auth(&leader.token).header("if-none-match", &tag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
        assert!(again.bytes().await.unwrap().is_empty(), "{path}: no body");
        let other =
            http.get(&url).bearer_auth(&leader.token).header("if-none-match", "\"stale\"").send().await.unwrap();
        assert_eq!(other.status(), 200, "{path}: another tag gets the document");
        let anonymous = http.get(&url).header("if-none-match", &tag).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{path}: a tag grants nothing without a token");
        if path == "/v1/policy" {
            let page: Value = leader.get("/v1/sync/pull?limit=1").await.json().await.unwrap();
            assert_eq!(format!("\"{}\"", page["policy_tag"].as_str().unwrap()), tag, "the pull names the policy's tag");
            assert_eq!(tag, format!("\"{}\"", server.state().unwrap().policy.version()));
        }
    }

    // A phone: the first sync fetches the policy; later ones do not ask for it.
    let phone_dir = tempfile::tempdir().unwrap();
    let p = signed_in_synced(phone_dir.path(), &server.url(), &server, "leader.t1v1g1").await;
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    drop(p);
    let p = reopen(phone_dir.path(), &proxy.url(), &fast_options()).await.unwrap();
    let before = proxy.upstream_bytes.load(Ordering::SeqCst);
    p.sync().await.unwrap();
    let sent = proxy.upstream_bytes.load(Ordering::SeqCst) - before;
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 1, "one connection");
    // One request (the pull): the policy is current and the names fresh.
    assert!(sent < 900, "a sync with nothing to do sends one small request: {sent} bytes");
}

/// A held wait answers `changed: true` within moments of a change in the
/// caller's scope, and not on a change outside it; with nothing, it answers
/// `changed: false` when its time is up. Out-of-range timeouts are refused.
#[tokio::test]
async fn a_wait_answers_on_a_change_in_scope_and_not_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let waiter = ApiUser::login(&server, "leader.t1v1g1").await;
    let colleague = ApiUser::login(&server, "leader.t1v1g1").await; // the same group, another device
    let outsider = ApiUser::login(&server, "leader.t2v1g1").await;
    let (inside, outside) = (a_household(&colleague).await, a_household(&outsider).await);
    let mut cursor = String::new();
    loop {
        let page: Value = waiter.get(&format!("/v1/sync/pull?cursor={cursor}&limit=1000")).await.json().await.unwrap();
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] != true {
            break;
        }
    }
    for bad in ["0", "56", "x"] {
        assert_eq!(waiter.get(&format!("/v1/sync/wait?cursor={cursor}&timeout={bad}")).await.status(), 400, "{bad}");
    }
    let started = Instant::now();
    let idle: Value = waiter.get(&format!("/v1/sync/wait?cursor={cursor}&timeout=1")).await.json().await.unwrap();
    assert_eq!(idle, json!({"changed": false}));
    assert!(started.elapsed() >= Duration::from_millis(900), "held for its time: {:?}", started.elapsed());

    let url = format!("{}/v1/sync/wait?cursor={cursor}&timeout=20", server.url());
    let token = waiter.token.clone();
    let held = tokio::spawn(async move {
        let r = reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap();
        (Instant::now(), r.json::<Value>().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(outsider.push_envelope(visit_op(&outsider, &outside).1).await["status"], "applied");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(!held.is_finished(), "a change outside the caller's scope does not answer the wait");
    assert_eq!(server.state().unwrap().bell.waiting(), 1, "the wait is held");
    let pushed = Instant::now();
    assert_eq!(colleague.push_envelope(visit_op(&colleague, &inside).1).await["status"], "applied");
    let (answered, body) = tokio::time::timeout(Duration::from_secs(5), held).await.unwrap().unwrap();
    assert_eq!(body, json!({"changed": true}));
    assert!(answered - pushed < Duration::from_secs(1), "answered within a second: {:?}", answered - pushed);
    // After the change, a wait on the old cursor answers at once.
    let now: Value = waiter.get(&format!("/v1/sync/wait?cursor={cursor}&timeout=20")).await.json().await.unwrap();
    assert_eq!(now, json!({"changed": true}));
}

/// The phone's wait-then-sync: nothing within the time answers `None`; a
/// colleague's visit in the same group brings the sync that pulls it.
#[tokio::test]
async fn a_phone_waits_then_syncs_on_a_change_in_its_scope() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let phone = signed_in_synced(dirs[1].path(), &server.url(), &server, "leader.t1v1g1").await;
    let phone = Arc::new(phone);
    assert!(phone.wait_and_sync(1, None, None).await.unwrap().is_none(), "nothing changed");
    assert_eq!(phone.wait_and_sync(0, None, None).await.unwrap_err().code(), "invalid_input");
    let colleague = ApiUser::login(&server, "leader.t1v1g1").await;
    let household = a_household(&colleague).await;
    let p = phone.clone();
    let waiting = tokio::spawn(async move { p.wait_and_sync(20, None, None).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, op) = visit_op(&colleague, &household);
    let visit_id = op["op"]["body"]["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    let pushed = Instant::now();
    assert_eq!(colleague.push_envelope(op).await["status"], "applied");
    let report = tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap().unwrap();
    assert!(pushed.elapsed() < Duration::from_secs(2), "pulled within two seconds: {:?}", pushed.elapsed());
    assert!(report.expect("a sync ran").pulled >= 1);
    assert!(
        phone.list_visits(100).unwrap().iter().any(|v| v.visit.id == visit_id),
        "the colleague's visit is on the phone"
    );
}

/// Records each pull page's progress; cuts the link after the `cut_after`-th
/// page of this sync (the page is kept, the next request meets a dead link).
struct CutAfterPage {
    proxy: Arc<FaultProxy>,
    pages: AtomicU64,
    cut_after: u64,
    seen: Mutex<Vec<(u64, u64)>>,
}

impl SyncProgress for CutAfterPage {
    fn on_progress(&self, phase: SyncPhase, done: u64, total: u64) {
        if phase != SyncPhase::Pulling {
            return;
        }
        self.seen.lock().unwrap().push((done, total));
        // The last page (the feed's end reached) is not cut: the sync completes.
        if self.pages.fetch_add(1, Ordering::SeqCst) + 1 == self.cut_after && done < total {
            self.proxy.set_mode(FaultMode::Refuse);
        }
    }
}

/// A new phone's first pull, cut after every page (and the app restarted after
/// every other cut): each sync goes on from the last page kept, never from the
/// start, its progress rising to the feed's end; the phone ends with the same
/// records as one that pulled without a cut.
#[tokio::test]
async fn a_first_pull_cut_after_every_page_resumes_from_the_last_page_kept() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let page = 4;
    let opts = ClientOptions { pull_page_limit: page, ..fast_options() };
    let whole = phone_with(dirs[1].path(), &server.url(), opts.clone());
    sign_in(&whole, &server, "secretary.t1v1").await;
    let uncut = whole.sync().await.unwrap();
    assert!(uncut.pages >= 4, "enough pages to cut: {}", uncut.pages);

    let proxy = Arc::new(FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap());
    let mut phone = phone_with(dirs[2].path(), &proxy.url(), opts.clone());
    sign_in(&phone, &server, "secretary.t1v1").await;
    let mut last_done = 0;
    let mut syncs: u64 = 0;
    loop {
        syncs += 1;
        assert!(syncs <= uncut.pages + 2, "no end to the resumed pulls");
        proxy.set_mode(FaultMode::Pass);
        let cut = Arc::new(CutAfterPage {
            proxy: proxy.clone(),
            pages: AtomicU64::new(0),
            cut_after: 1,
            seen: Mutex::default(),
        });
        let result = phone.sync_with(Some(cut.clone()), None).await;
        let seen = cut.seen.lock().unwrap().clone();
        let (first, _) = *seen.first().expect("a page every sync");
        assert!(
            first > last_done,
            "sync {syncs} went on after the last page kept ({last_done}), not from the start: {seen:?}"
        );
        assert!(seen.iter().all(|&(done, total)| total > 0 && done <= total), "{seen:?}");
        last_done = seen.last().unwrap().0;
        match result {
            Ok(report) => {
                assert_eq!(seen.last().unwrap().0, seen.last().unwrap().1, "the last page reaches the feed's end");
                assert!(!report.reset);
                break;
            }
            Err(e) => assert_eq!(e.code(), "network", "{e:?}"),
        }
        if syncs % 2 == 0 {
            drop(phone);
            phone = reopen(dirs[2].path(), &proxy.url(), &opts).await.unwrap();
        }
    }
    assert!(syncs >= uncut.pages, "one page per sync: {syncs} syncs for {} pages", uncut.pages);
    let ids = |p: &fengqiao_core::FieldClient| {
        let mut v: Vec<Uuid> = p.households().unwrap().into_iter().map(|h| h.id).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&phone), ids(&whole), "the same households as a pull without cuts");
    assert_eq!(phone.units().unwrap().len(), whole.units().unwrap().len());
}
