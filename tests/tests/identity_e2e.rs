//! Forged identity beyond auth_e2e.rs: a wrong or missing `kid`, another key under
//! our `kid`, the token of a disabled or deleted user — each refused with 401 on a
//! write (push) and a read, and nothing changed in the store.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use fengqiao_server::auth::tokens::{claims_for, sign, AccessClaims};
use fengqiao_tests::api::{login_request, ApiUser};
use fengqiao_tests::TestServer;
use jsonwebtoken::{Algorithm, Header};
use serde_json::{json, Value};
use uuid::Uuid;

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

/// A visit op by `author` (valid for a group leader in their own group).
fn visit_push(author: &str) -> Value {
    json!({"v": 1, "ops": [{"op_id": Uuid::now_v7(), "v": 1, "author": author, "created_at": chrono::Utc::now(),
        "op": {"kind": "record_visit", "body": {"id": Uuid::now_v7(), "household_id": Uuid::now_v7(),
        "visitor_id": author, "visited_at": chrono::Utc::now(), "kind": "routine"}}}]})
}

fn all_audit() -> fengqiao_server::store::AuditQuery {
    fengqiao_server::store::AuditQuery { limit: 100_000, ..Default::default() }
}

async fn refused_everywhere(server: &TestServer, what: &str, token: &str, author: &str) {
    let http = reqwest::Client::new();
    let url = server.url();
    let before = server.state().unwrap().store.last_seq().unwrap();
    let audit_before = server.state().unwrap().store.audit(&all_audit()).unwrap().len();
    let r = http.post(format!("{url}/v1/sync/push")).bearer_auth(token).json(&visit_push(author)).send().await.unwrap();
    assert_eq!(r.status(), 401, "{what}: push");
    let b: Value = r.json().await.unwrap();
    assert!(matches!(b["code"].as_str(), Some("unauthorized" | "token_expired")), "{what}: {b}");
    for path in ["/v1/sync/pull", "/v1/me", "/v1/subsidies/mine"] {
        let r = http.get(format!("{url}{path}")).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 401, "{what}: {path}");
    }
    let r = http.post(format!("{url}/v1/cases/blocks")).bearer_auth(token).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 401, "{what}: case block");
    assert_eq!(server.state().unwrap().store.last_seq().unwrap(), before, "{what}: nothing changed");
    let audit_after = server.state().unwrap().store.audit(&all_audit()).unwrap().len();
    assert_eq!(audit_after, audit_before, "{what}: no action was recorded as done");
}

#[tokio::test]
async fn wrong_kid_and_foreign_key_under_our_kid_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let u = ApiUser::login(&server, "leader.t1v1g1").await;
    // the genuine token works for a push
    let r = u.post("/v1/sync/push", visit_push(&u.id)).await;
    assert_eq!(r.status(), 200);

    let claims: AccessClaims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(u.token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let user: Uuid = claims.sub.parse().unwrap();
    let family: Uuid = claims.sid.parse().unwrap();
    let keys = server.state().unwrap().auth.keys();
    let ours = keys.current().unwrap();
    let fresh = || claims_for(user, family, now(), 900);
    let mut cases: Vec<(&str, String)> = Vec::new();

    let with_kid = |kid: Option<&str>| {
        let mut h = Header::new(Algorithm::EdDSA);
        h.kid = kid.map(str::to_string);
        jsonwebtoken::encode(&h, &fresh(), &ours.encoding).unwrap()
    };
    cases.push(("unknown kid, our key", with_kid(Some("0011223344556677"))));
    cases.push(("no kid, our key", with_kid(None)));
    cases.push(("kid with path tricks", with_kid(Some("../../keys/x"))));
    // another server's key, claiming our kid
    let other_store = fengqiao_server::store::MemoryStore::new();
    let other = fengqiao_server::auth::KeyRing::load_or_create(&other_store).unwrap();
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(ours.kid.clone());
    cases.push((
        "foreign key under our kid",
        jsonwebtoken::encode(&h, &fresh(), &other.current().unwrap().encoding).unwrap(),
    ));
    // our genuine signature moved onto another header (kid swapped after signing)
    let parts: Vec<&str> = u.token.split('.').collect();
    let swapped = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT","kid":"ffffffffffffffff"}"#);
    cases.push(("kid edited after signing", format!("{swapped}.{}.{}", parts[1], parts[2])));
    // a session id that is not ours (a forged family is never valid)
    let mut c = fresh();
    c.sid = "not-a-uuid".into();
    cases.push(("bad sid", sign(keys, &c).unwrap()));

    for (what, token) in cases {
        refused_everywhere(&server, what, &token, &u.id).await;
    }
}

#[tokio::test]
async fn tokens_of_a_disabled_or_deleted_user_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let http = reqwest::Client::new();
    let url = server.url();
    let c = server.cred("leader.t1v1g2").unwrap();
    let t: Value = login_request(&http, &url, &c.username, &c.password).await.json().await.unwrap();
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let id = t["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        http.get(format!("{url}/v1/me")).bearer_auth(&access).send().await.unwrap().status(),
        200,
        "valid before"
    );

    // disabled (as the admin endpoint does, straight in the store)
    let store = server.state().unwrap().store.clone();
    let mut rec = store.user_by_username(&c.username).unwrap().unwrap();
    rec.disabled = true;
    store.update_user(&rec).unwrap();
    refused_everywhere(&server, "disabled user's access token", &access, &id).await;
    // nor can the refresh token mint a new one, nor the password sign in
    let r = http.post(format!("{url}/v1/auth/refresh")).json(&json!({"refresh_token": refresh})).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = login_request(&http, &url, &c.username, &c.password).await;
    assert_eq!(r.status(), 401);

    // deleted: a well-signed token for a user the store does not have (users are
    // only ever disabled, but a restored backup or a removed record must not pass)
    let keys = server.state().unwrap().auth.keys();
    let ghost = Uuid::now_v7();
    let token = sign(keys, &claims_for(ghost, Uuid::now_v7(), now(), 900)).unwrap();
    refused_everywhere(&server, "deleted user's token", &token, &ghost.to_string()).await;
}
