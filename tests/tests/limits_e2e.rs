//! Resource limits against a real server on loopback, with small limits set in the
//! data dir's policy file: sign-in rate limits per account and per address (429
//! with `Retry-After`, before any password is hashed), body size, batch size and
//! page size limits, and the request timeout (a client that stalls mid-body gets 408).

use std::time::{Duration, Instant};

use fengqiao_server::store::{AuditAction, AuditQuery};
use fengqiao_tests::api::{login_request, ApiUser};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start_with_policy(dir: &std::path::Path, policy: &str) -> TestServer {
    std::fs::write(dir.join("policy.toml"), policy).unwrap();
    TestServer::start(dir).await.unwrap()
}

fn failed_logins(server: &TestServer) -> usize {
    let q = AuditQuery { action: Some(AuditAction::LoginFailed), limit: 10_000, ..Default::default() };
    server.state().unwrap().store.audit(&q).unwrap().len()
}

#[tokio::test]
async fn brute_force_gets_429_per_account_and_per_address_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    // account: 3 at once (one more every 20 s); address: 6 at once (one more every 10 s)
    let server =
        start_with_policy(dir.path(), "[auth]\nlogin_per_account_per_minute = 3\nlogin_per_address_per_minute = 6\n")
            .await;
    let (url, http) = (server.url(), reqwest::Client::new());
    let c = server.cred("leader.t1v1g1").unwrap();
    let started = Instant::now();

    for i in 0..3 {
        assert_eq!(login_request(&http, &url, &c.username, "wrong-password").await.status(), 401, "attempt {i}");
    }
    assert_eq!(failed_logins(&server), 3);
    // the fourth guess is refused before its password is checked: even the right password
    let r = login_request(&http, &url, &c.username, &c.password).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "rate_limited");
    // a burst of 20 more costs no hashing at all: no audit entry, quick answers
    let t = Instant::now();
    for _ in 0..20 {
        assert_eq!(login_request(&http, &url, &c.username, "guess").await.status(), 429);
    }
    assert!(t.elapsed() < Duration::from_secs(5), "429s took {:?}", t.elapsed());
    assert_eq!(failed_logins(&server), 3, "rate-limited attempts never reached the password check");

    // the address bucket had 6; the account bucket's refusals took from it too, so
    // spraying other usernames from this address is cut off as well
    let other = server.cred("secretary.t1v1").unwrap();
    let r = login_request(&http, &url, &other.username, "wrong").await;
    assert_eq!(r.status(), 429, "the address is over its limit");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "rate_limited");
    assert_eq!(login_request(&http, &url, "nobody.at.all", "wrong").await.status(), 429);
    assert_eq!(failed_logins(&server), 3);
    assert!(started.elapsed() < Duration::from_secs(10), "the test must run inside one refill");
}

#[tokio::test]
async fn a_spray_over_many_usernames_from_one_address_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        start_with_policy(dir.path(), "[auth]\nlogin_per_account_per_minute = 5\nlogin_per_address_per_minute = 4\n")
            .await;
    let (url, http) = (server.url(), reqwest::Client::new());
    let mut statuses = Vec::new();
    for name in ["a.one", "b.two", "c.three", "d.four", "e.five", "f.six"] {
        statuses.push(login_request(&http, &url, name, "wrong-password").await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    assert_eq!(failed_logins(&server), 4);
}

#[tokio::test]
async fn body_batch_and_page_size_limits_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_policy(
        dir.path(),
        "[sync]\nmax_push_ops = 5\nmax_push_bytes = 65536\nmax_pull_limit = 50\n[auth]\nlogin_per_address_per_minute = 0\n",
    )
    .await;
    let (url, http) = (server.url(), reqwest::Client::new());
    let u = ApiUser::login(&server, "leader.t1v1g1").await;
    let before = server.state().unwrap().store.last_seq().unwrap();

    // bodies over the policy's byte limit: push, login, refresh
    let big = format!("{{\"v\":1,\"ops\":[],\"pad\":\"{}\"}}", "x".repeat(70_000));
    for path in ["/v1/sync/push", "/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"] {
        let r = http
            .post(format!("{url}{path}"))
            .bearer_auth(&u.token)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "payload_too_large", "{path}");
    }
    // more ops than the policy allows in one push
    let ops: Vec<Value> = (0..6).map(|_| json!({})).collect();
    let r = u.post("/v1/sync/push", json!({"v": 1, "ops": ops})).await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "too_many_ops");
    // page sizes
    assert_eq!(u.get("/v1/sync/pull?limit=50").await.status(), 200);
    for q in ["limit=51", "limit=0", "limit=18446744073709551616"] {
        let r = u.get(&format!("/v1/sync/pull?{q}")).await;
        assert_eq!(r.status(), 400, "{q}");
    }
    let page: Value = u.get("/v1/sync/pull").await.json().await.unwrap();
    assert!(page["changes"].as_array().unwrap().len() <= 50, "the default page obeys the maximum");
    assert_eq!(server.state().unwrap().store.last_seq().unwrap(), before, "nothing changed");
}

#[tokio::test]
async fn a_request_stalled_mid_body_is_answered_408_at_the_policy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_policy(dir.path(), "[sync]\nrequest_timeout_secs = 2\n").await;
    let u = ApiUser::login(&server, "leader.t1v1g1").await;
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /v1/sync/push HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"v\":1,",
        u.token
    );
    let t = Instant::now();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf)).await.expect("answered").unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(1900) && waited < Duration::from_secs(15), "{waited:?}");
    // the server is fine afterwards
    assert_eq!(u.get("/v1/me").await.status(), 200);
}

/// Every free-text field has a limit (`text_too_long`, naming the field) and a
/// required text needs a visible character; dates and phone numbers are checked
/// too. A refused op changes nothing: the dispute closes afterwards as usual.
#[tokio::test]
async fn free_text_is_bounded_and_invisible_text_refused() {
    use fengqiao_tests::api::dispute_body;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;
    let refused = |out: &Value, code: &str, field: &str| {
        assert_eq!((out["status"].as_str(), out["code"].as_str()), (Some("rejected"), Some(code)), "{out}");
        assert!(out["message"].as_str().unwrap_or_default().starts_with(field), "{out}");
    };

    // a lone zero-width space as a party's name; a megabyte phone number
    let mut body =
        dispute_body(uuid::Uuid::now_v7(), &leader.case_number("T01V01", 0).await, group, "group", "land", "general");
    body["parties"][0]["name"] = json!("\u{200B}");
    refused(&leader.push("report_dispute", body.clone()).await, "invalid_field", "当事人姓名：");
    body["parties"][0]["name"] = json!("王建国");
    body["parties"][0]["phone"] = json!("1".repeat(1 << 20));
    refused(&leader.push("report_dispute", body.clone()).await, "text_too_long", "当事人电话：");
    body["parties"][0]["phone"] = json!("138 0000 0000");
    assert_eq!(leader.push("report_dispute", body.clone()).await["status"], "applied");
    let dispute = body["id"].clone();

    // a session of 1900
    let session = json!({"id": uuid::Uuid::now_v7(), "dispute_id": dispute, "held_at": "1900-01-01T00:00:00Z",
        "place": "村委会", "mediators": [], "participants": [], "record": "调解", "agreed": false, "author": leader.id});
    refused(&leader.push("record_session", session).await, "invalid_field", "调解日期：");

    // a closing note of 1.8 MB
    let note = "字".repeat(600_000);
    let out = leader.push("close_dispute", json!({"dispute_id": dispute, "outcome": "resolved", "note": note})).await;
    refused(&out, "text_too_long", "结案说明：");
    let out =
        leader.push("close_dispute", json!({"dispute_id": dispute, "outcome": "resolved", "note": "双方和解"})).await;
    assert_eq!(out["status"], "applied", "the refused close changed nothing: {out}");
}
