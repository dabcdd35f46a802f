//! Identity against a real server on loopback: forged, expired, foreign tokens are
//! refused; a reused refresh token revokes its family; logout revokes; bad input
//! gets a JSON error with a stable code and changes nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fengqiao_server::auth::tokens::{claims_for, sign, AccessClaims};
use fengqiao_tests::api::{login_request, send_login};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};

async fn pull_status(http: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let r = http.get(format!("{url}/v1/sync/pull")).bearer_auth(token).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let url = server.url();
    let http = reqwest::Client::new();
    let c = server.cred("leader.t1v1g1").unwrap();
    let tokens: Value = login_request(&http, &url, &c.username, &c.password).await.json().await.unwrap();
    let good = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(pull_status(&http, &url, &good).await.0, 200);

    let user_id: uuid::Uuid = tokens["user"]["id"].as_str().unwrap().parse().unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let claims: AccessClaims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let family: uuid::Uuid = claims.sid.parse().unwrap();
    let keys = server.state().unwrap().auth.keys();

    let mut cases: Vec<(&str, String)> = Vec::new();
    // alg none, with the real claims
    cases.push(("alg none", format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#), parts[1])));
    // algorithm swapped to HS256 keyed with the public key (classic confusion attack)
    {
        let kid = keys.current().unwrap().kid.clone();
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some(kid);
        let public_x = keys.current().unwrap().public_x.clone();
        let t =
            jsonwebtoken::encode(&h, &claims, &jsonwebtoken::EncodingKey::from_secret(public_x.as_bytes()).unwrap())
                .unwrap();
        cases.push(("HS256 with public key", t));
    }
    // claims edited after signing (another user's id)
    {
        let mut evil = claims.clone();
        evil.sub = uuid::Uuid::now_v7().to_string();
        cases.push((
            "edited claims",
            format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(serde_json::to_vec(&evil).unwrap()), parts[2]),
        ));
    }
    // expired, not yet valid, wrong audience, wrong issuer: properly signed by the server's key
    let mut expired = claims_for(user_id, family, now() - 7200, 900);
    cases.push(("expired", sign(keys, &expired).unwrap()));
    expired = claims_for(user_id, family, now() + 3600, 900);
    cases.push(("not yet valid", sign(keys, &expired).unwrap()));
    let mut aud = claims_for(user_id, family, now(), 900);
    aud.aud = "another-service".into();
    cases.push(("other audience", sign(keys, &aud).unwrap()));
    let mut iss = claims_for(user_id, family, now(), 900);
    iss.iss = "someone-else".into();
    cases.push(("other issuer", sign(keys, &iss).unwrap()));
    // a different server's key with an unknown kid
    {
        let other = fengqiao_server::store::MemoryStore::new();
        let ring = fengqiao_server::auth::KeyRing::load_or_create(&other).unwrap();
        cases.push(("foreign key", sign(&ring, &claims_for(user_id, family, now(), 900)).unwrap()));
    }
    cases.push(("garbage", "not.a.token".into()));

    for (what, token) in cases {
        let (status, body) = pull_status(&http, &url, &token).await;
        assert_eq!(status, 401, "{what} must be refused");
        assert!(matches!(body["code"].as_str(), Some("unauthorized" | "token_expired")), "{what}: {body}");
    }
    // an expired token says so, for the phone to refresh
    let t = sign(keys, &claims_for(user_id, family, now() - 7200, 900)).unwrap();
    assert_eq!(pull_status(&http, &url, &t).await.1["code"], "token_expired");
    // no token at all
    let r = http.get(format!("{url}/v1/sync/pull")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn reused_refresh_token_revokes_the_family_and_logout_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let url = server.url();
    let http = reqwest::Client::new();
    let c = server.cred("secretary.t1v1").unwrap();
    let first: Value = login_request(&http, &url, &c.username, &c.password).await.json().await.unwrap();
    let r1 = first["refresh_token"].as_str().unwrap();

    let refresh = |t: String| {
        let http = http.clone();
        let url = url.clone();
        async move { http.post(format!("{url}/v1/auth/refresh")).json(&json!({"refresh_token": t})).send().await.unwrap() }
    };
    let resp = refresh(r1.to_string()).await;
    assert_eq!(resp.status(), 200);
    let second: Value = resp.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    let a2 = second["access_token"].as_str().unwrap().to_string();
    assert_ne!(r2, r1);
    assert_eq!(pull_status(&http, &url, &a2).await.0, 200);

    // the thief replays the spent token: refused, and the whole family dies
    let resp = refresh(r1.to_string()).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "refresh_invalid");
    assert_eq!(refresh(r2.clone()).await.status(), 401, "the successor is revoked too");
    assert_eq!(pull_status(&http, &url, &a2).await.0, 401, "access tokens of the family stop at once");

    // a new login is a new family, unaffected; logout ends it
    let third: Value = login_request(&http, &url, &c.username, &c.password).await.json().await.unwrap();
    let a3 = third["access_token"].as_str().unwrap().to_string();
    assert_eq!(pull_status(&http, &url, &a3).await.0, 200);
    let out = http
        .post(format!("{url}/v1/auth/logout"))
        .json(&json!({"refresh_token": third["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(pull_status(&http, &url, &a3).await.0, 401);
    assert_eq!(refresh(third["refresh_token"].as_str().unwrap().to_string()).await.status(), 401);

    // wrong password and unknown user look the same
    let a = login_request(&http, &url, &c.username, "wrong-password").await;
    let b = login_request(&http, &url, "nobody.here", "wrong-password").await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (401, 401));
    assert_eq!(a.json::<Value>().await.unwrap(), b.json::<Value>().await.unwrap());
}

#[tokio::test]
async fn bad_input_gets_a_coded_json_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let url = server.url();
    let http = reqwest::Client::new();
    let c = server.cred("leader.t1v1g1").unwrap();
    let t: Value = login_request(&http, &url, &c.username, &c.password).await.json().await.unwrap();
    let token = t["access_token"].as_str().unwrap();
    let before = server.state().unwrap().store.last_seq().unwrap();

    let push = |body: reqwest::Body, ctype: &'static str| {
        http.post(format!("{url}/v1/sync/push")).bearer_auth(token).header("content-type", ctype).body(body).send()
    };
    let op = |kind: &str, body: Value| {
        json!({"op_id": uuid::Uuid::now_v7(), "v": 1, "author": t["user"]["id"], "created_at": "2026-06-01T08:00:00Z",
               "op": {"kind": kind, "body": body}})
    };
    let cases: Vec<(reqwest::Body, &'static str, u16, &str)> = vec![
        ("{oops".into(), "application/json", 400, "malformed_body"),
        (r#"{"v":1}"#.into(), "application/json", 400, "malformed_body"),
        (r#"{"v":1,"ops":[],"admin":true}"#.into(), "application/json", 400, "malformed_body"),
        (r#"{"v":1,"ops":[]}"#.into(), "text/plain", 415, "unsupported_media_type"),
        (
            json!({"v": 1, "ops": [op("launch_rocket", json!({}))]}).to_string().into(),
            "application/json",
            422,
            "malformed_op",
        ),
        (
            json!({"v": 1, "ops": [op("record_visit", json!({"id": uuid::Uuid::now_v7()}))]}).to_string().into(),
            "application/json",
            422,
            "malformed_op",
        ),
        (json!({"v": 99, "ops": []}).to_string().into(), "application/json", 400, "unsupported_version"),
        (vec![b' '; 3 * 1024 * 1024].into(), "application/json", 413, "payload_too_large"),
    ];
    for (body, ctype, status, code) in cases {
        let r = push(body, ctype).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "expected {code}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], code, "{b}");
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // a malformed op after a good one: refused whole, naming the index; the good one is not applied
    let good = op(
        "record_visit",
        json!({"id": uuid::Uuid::now_v7(), "household_id": uuid::Uuid::now_v7(), "visitor_id": t["user"]["id"],
        "visited_at": "2026-06-01T08:00:00Z", "kind": "routine"}),
    );
    let r = push(json!({"v": 1, "ops": [good, op("nope", json!({}))]}).to_string().into(), "application/json")
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["op_index"], 1);
    // too many ops
    let many: Vec<Value> = (0..501).map(|_| json!({})).collect();
    let r = push(json!({"v": 1, "ops": many}).to_string().into(), "application/json").await.unwrap();
    assert_eq!(r.status(), 413);
    // bad pull queries
    for q in ["limit=0", "limit=100000", "limit=abc", "cursor=forged", "cursor=1.5", "bogus=1"] {
        let r = http.get(format!("{url}/v1/sync/pull?{q}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        let b: Value = r.json().await.unwrap();
        assert!(b["code"].is_string(), "{q}: {b}");
    }
    assert_eq!(server.state().unwrap().store.last_seq().unwrap(), before, "nothing changed");
    // still healthy
    assert_eq!(http.get(format!("{url}/healthz")).send().await.unwrap().status(), 200);
}

/// Changing one's password ends every other session of the user at once (their
/// access tokens and refresh tokens stop working); the session that changed it
/// stays signed in, and the new password signs in anew.
#[tokio::test]
async fn password_change_ends_the_other_sessions_and_keeps_this_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let url = server.url();
    let http = reqwest::Client::new();
    let c = server.cred("secretary.t1v2").unwrap();
    let desk: Value = login_request(&http, &url, &c.username, &c.password).await.json().await.unwrap();
    let phone: Value = login_request(&http, &url, &c.username, &c.password).await.json().await.unwrap();
    let (desk_access, phone_access) =
        (desk["access_token"].as_str().unwrap().to_string(), phone["access_token"].as_str().unwrap().to_string());
    assert_eq!(pull_status(&http, &url, &desk_access).await.0, 200);
    assert_eq!(pull_status(&http, &url, &phone_access).await.0, 200);
    // another user's session is none of this change's business
    let o = server.cred("secretary.t1v1").unwrap();
    let other: Value = login_request(&http, &url, &o.username, &o.password).await.json().await.unwrap();

    let new_password = "换了一个新的密码-2026";
    let r = http
        .post(format!("{url}/v1/auth/password"))
        .bearer_auth(&desk_access)
        .json(&json!({"old_password": c.password, "new_password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let refresh = |t: &Value| {
        http.post(format!("{url}/v1/auth/refresh")).json(&json!({"refresh_token": t["refresh_token"]})).send()
    };
    // the other session: its access token stops at once, its refresh token is dead
    let (status, body) = pull_status(&http, &url, &phone_access).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(refresh(&phone).await.unwrap().status(), 401);
    // this session goes on, and keeps rotating
    assert_eq!(pull_status(&http, &url, &desk_access).await.0, 200);
    let next = refresh(&desk).await.unwrap();
    assert_eq!(next.status(), 200);
    let next: Value = next.json().await.unwrap();
    assert_eq!(pull_status(&http, &url, next["access_token"].as_str().unwrap()).await.0, 200);
    // the other user is untouched
    assert_eq!(pull_status(&http, &url, other["access_token"].as_str().unwrap()).await.0, 200);
    // the old password no longer signs in, the new one does
    assert_eq!(login_request(&http, &url, &c.username, &c.password).await.status(), 401);
    assert_eq!(login_request(&http, &url, &c.username, new_password).await.status(), 200);
}

/// A refresh whose answer is lost on the way: the phone presents the spent
/// token again, gets a fresh pair (same device, within the grace), stays signed
/// in, and its queued work is sent.
#[tokio::test]
async fn lost_refresh_answer_is_retried_and_the_phone_stays_signed_in() {
    use fengqiao_tests::phone::{fast_options, routine_visit, signed_in_synced_with};
    use fengqiao_tests::{FaultMode, FaultProxy};
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    // a margin longer than the token's life: the phone refreshes before each call
    let options =
        fengqiao_core::ClientOptions { token_refresh_margin: std::time::Duration::from_secs(3600), ..fast_options() };
    let leader = signed_in_synced_with(dirs[1].path(), &proxy.url(), &server, "leader.t1v1g1", options).await;
    let h = leader.households().unwrap();
    let visit = leader.record_visit(routine_visit(&h[0], "信号时有时无")).unwrap().id;

    proxy.set_mode(FaultMode::DropNextResponseTo("/v1/auth/refresh"));
    let report = leader.sync().await.expect("the retried refresh is answered");
    assert_eq!(report.pushed_applied, 1);
    assert!(leader.current_user().is_some(), "still signed in");
    assert_eq!(leader.sync_status().unwrap().pending_ops, 0);
    let store = server.state().unwrap().store.clone();
    assert!(store.record(fengqiao_domain::EntityKind::Visit, visit).unwrap().is_some());
    let retries = store
        .audit(&fengqiao_server::store::AuditQuery {
            action: Some(fengqiao_server::store::AuditAction::RefreshRetry),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(retries.len(), 1, "one answer was lost and answered again");
    // and it goes on syncing
    leader.record_visit(routine_visit(&h[1], "之后")).unwrap();
    assert_eq!(leader.sync().await.unwrap().pushed_applied, 1);
}

/// A spent refresh token presented by another device (or by no device) is theft,
/// grace or not: the family is revoked. The same device within the grace gets a
/// fresh pair, and the pair it lost no longer works.
#[tokio::test]
async fn spent_refresh_token_from_another_device_revokes_even_within_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let url = server.url();
    let http = reqwest::Client::new();
    let c = server.cred("secretary.t1v1").unwrap();
    let (phone, thief) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let login_on = |device: uuid::Uuid| send_login(&http, &url, &c.username, &c.password, Some(device));
    let refresh = |token: &str, device: Option<uuid::Uuid>| {
        let mut body = json!({"refresh_token": token});
        if let Some(d) = device {
            body["device_id"] = json!(d);
        }
        http.post(format!("{url}/v1/auth/refresh")).json(&body).send()
    };
    let tok = |v: &Value, k: &str| v[k].as_str().unwrap().to_string();

    for presenter in [Some(thief), None] {
        let first: Value = login_on(phone).await.unwrap().json().await.unwrap();
        let second: Value = refresh(&tok(&first, "refresh_token"), Some(phone)).await.unwrap().json().await.unwrap();
        let r = refresh(&tok(&first, "refresh_token"), presenter).await.unwrap();
        assert_eq!(r.status(), 401, "{presenter:?}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "refresh_invalid");
        assert_eq!(refresh(&tok(&second, "refresh_token"), Some(phone)).await.unwrap().status(), 401);
        assert_eq!(pull_status(&http, &url, &tok(&second, "access_token")).await.0, 401, "the session is over");
    }

    // the phone itself, within the grace: a fresh pair; the lost one is spent
    let first: Value = login_on(phone).await.unwrap().json().await.unwrap();
    let lost: Value = refresh(&tok(&first, "refresh_token"), Some(phone)).await.unwrap().json().await.unwrap();
    let r = refresh(&tok(&first, "refresh_token"), Some(phone)).await.unwrap();
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_ne!(tok(&again, "refresh_token"), tok(&lost, "refresh_token"));
    assert_eq!(pull_status(&http, &url, &tok(&again, "access_token")).await.0, 200);
    let next = refresh(&tok(&again, "refresh_token"), Some(phone)).await.unwrap();
    assert_eq!(next.status(), 200);
    // once the new pair was used, the first token is plain reuse
    assert_eq!(refresh(&tok(&first, "refresh_token"), Some(phone)).await.unwrap().status(), 401);
    let next: Value = next.json().await.unwrap();
    assert_eq!(pull_status(&http, &url, &tok(&next, "access_token")).await.0, 401, "revoked");
}

/// The answers a phone may show are plain Chinese, the stable code kept: a
/// wrong password, a missing token, an unknown path and a method the HTTP
/// layer refuses by itself.
#[tokio::test]
async fn answers_a_phone_may_show_are_plain_chinese_with_their_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let url = server.url();
    let http = reqwest::Client::new();
    let c = server.cred("leader.t1v1g1").unwrap();
    let check = |b: &Value, code: &str| {
        assert_eq!(b["code"], code, "{b}");
        let m = b["message"].as_str().unwrap_or_default();
        assert_eq!(fengqiao_domain::rejection::unreadable_reason(m), None, "{b}");
    };
    let wrong = login_request(&http, &url, &c.username, "not-the-password").await;
    assert_eq!(wrong.status().as_u16(), 401);
    check(&wrong.json().await.unwrap(), "invalid_credentials");
    let r = http.get(format!("{url}/v1/sync/pull")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    check(&r.json().await.unwrap(), "unauthorized");
    let r = http.delete(format!("{url}/v1/sync/pull")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    check(&r.json().await.unwrap(), "method_not_allowed");
}
