//! The desk's frame, against the real router over a demo store: sign-in with
//! the API's accounts, its CSRF double submit and rate limit; the session
//! cookie's flags; sign-out; the idle timeout; a disabled user's session ends;
//! the county's pages (users and devices, audit log, policy check) and their gate.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use fengqiao_server::app::{self, ServerConfig};
use fengqiao_server::demo::read_credentials;
use fengqiao_server::http::{router, AppState};
use tower::ServiceExt;

/// A demo county's router and state.
fn demo() -> (tempfile::TempDir, AppState, Router) {
    let dir = tempfile::tempdir().unwrap();
    let state = app::open(&ServerConfig { data_dir: dir.path().to_path_buf(), policy_file: None, demo: true }).unwrap();
    let app = router(state.clone());
    (dir, state, app)
}

struct Answer {
    status: StatusCode,
    cookies: Vec<String>,
    location: String,
    body: String,
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let cookies = res.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let location = res.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22).await.unwrap();
    Answer { status, cookies, location, body: String::from_utf8_lossy(&bytes).into_owned() }
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

/// The value of a form's hidden `csrf` field.
fn csrf_of(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    body[at..at + 64].to_string()
}

fn cookie_value(set: &str) -> String {
    set.split(';').next().unwrap().to_string()
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Signs in; returns the session cookie (`fq_desk=…`) and the Set-Cookie line.
async fn sign_in(app: &Router, username: &str, password: &str, tls: bool) -> (String, String) {
    let form = send(app, get("/desk/login", "")).await;
    assert_eq!(form.status, 200);
    let signin = cookie_value(&form.cookies[0]);
    let csrf = csrf_of(&form.body);
    let mut req =
        post("/desk/login", &signin, &format!("csrf={csrf}&username={}&password={}", enc(username), enc(password)));
    if tls {
        req.headers_mut().insert("x-forwarded-proto", "https".parse().unwrap());
    }
    let a = send(app, req).await;
    assert_eq!((a.status, a.location.as_str()), (StatusCode::SEE_OTHER, "/desk/"), "{}", a.body);
    let set = a.cookies.iter().find(|c| c.starts_with("fq_desk=")).unwrap().clone();
    (cookie_value(&set), set)
}

#[tokio::test]
async fn sign_in_csrf_cookie_flags_sign_out_idle_and_disabled() {
    let (dir, state, app) = demo();
    let creds = read_credentials(dir.path()).unwrap();
    let pw = |u: &str| creds.iter().find(|c| c.username == u).unwrap().password.clone();

    // signed out: pages send to the sign-in form, forms are refused
    let a = send(&app, get("/desk/", "")).await;
    assert_eq!((a.status, a.location.as_str()), (StatusCode::SEE_OTHER, "/desk/login"));
    assert_eq!(send(&app, post("/desk/logout", "", "csrf=x")).await.status, StatusCode::FORBIDDEN);

    // the sign-in form's token must come back with its cookie
    let form = send(&app, get("/desk/login", "")).await;
    let csrf = csrf_of(&form.body);
    let no_cookie = send(&app, post("/desk/login", "", &format!("csrf={csrf}&username=judicial.t1&password=x"))).await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    assert!(no_cookie.cookies.iter().all(|c| !c.starts_with("fq_desk=")));

    // a wrong password, then the right one; the cookie's flags
    let signin = cookie_value(&form.cookies[0]);
    let wrong =
        send(&app, post("/desk/login", &signin, &format!("csrf={csrf}&username=judicial.t1&password=nope"))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码不对"), "{}", wrong.body);
    let (session, set) = sign_in(&app, "judicial.t1", &pw("judicial.t1"), false).await;
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/desk"), "{set}");
    assert!(!set.contains("Secure"), "plain HTTP: no Secure flag: {set}");
    let (_, tls_set) = sign_in(&app, "committee.t1", &pw("committee.t1"), true).await;
    assert!(tls_set.contains("; Secure"), "{tls_set}");

    let home = send(&app, get("/desk/", &session)).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("红旗镇司法所") && home.body.contains("案卷评查"), "{}", home.body);

    // sign-out needs the session's token
    let csrf = csrf_of(&home.body);
    assert_eq!(send(&app, post("/desk/logout", &session, "csrf=")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, get("/desk/", &session)).await.status, StatusCode::OK, "still signed in");
    let out = send(&app, post("/desk/logout", &session, &format!("csrf={csrf}"))).await;
    assert_eq!((out.status, out.location.as_str()), (StatusCode::SEE_OTHER, "/desk/login"));
    assert_eq!(send(&app, get("/desk/", &session)).await.status, StatusCode::SEE_OTHER, "signed out");

    // idle past the policy's minutes: the session ends
    let (session, _) = sign_in(&app, "judicial.t1", &pw("judicial.t1"), false).await;
    state.desk.age_all(std::time::Duration::from_secs(60 * u64::from(state.policy.auth.desk_idle_mins) + 1));
    assert_eq!(send(&app, get("/desk/", &session)).await.status, StatusCode::SEE_OTHER, "idle session ended");

    // a disabled user's session ends at once
    let (session, _) = sign_in(&app, "judicial.t1", &pw("judicial.t1"), false).await;
    let mut u = state.store.user_by_username("judicial.t1").unwrap().unwrap();
    u.disabled = true;
    state.store.update_user(&u).unwrap();
    assert_eq!(send(&app, get("/desk/", &session)).await.status, StatusCode::SEE_OTHER, "disabled user");
}

#[tokio::test]
async fn desk_sign_in_is_rate_limited_as_the_api_is() {
    let (_dir, state, app) = demo();
    let limit = state.policy.auth.login_per_account_per_minute;
    let mut last = StatusCode::OK;
    for _ in 0..=limit {
        let form = send(&app, get("/desk/login", "")).await;
        let (csrf, signin) = (csrf_of(&form.body), cookie_value(&form.cookies[0]));
        last = send(&app, post("/desk/login", &signin, &format!("csrf={csrf}&username=admin&password=wrong")))
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_county_manages_users_reads_the_audit_and_checks_a_policy_others_find_nothing() {
    let (dir, state, app) = demo();
    let creds = read_credentials(dir.path()).unwrap();
    let pw = |u: &str| creds.iter().find(|c| c.username == u).unwrap().password.clone();
    let (admin, _) = sign_in(&app, "admin", &pw("admin"), false).await;
    let (judicial, _) = sign_in(&app, "judicial.t1", &pw("judicial.t1"), false).await;

    // the county's pages are not found for anyone else, as the API's admin routes
    for path in ["/desk/users", "/desk/audit", "/desk/policy", "/desk/import", "/desk/subsidies"] {
        assert_eq!(send(&app, get(path, &judicial)).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let users = send(&app, get("/desk/users", &admin)).await;
    assert_eq!(users.status, 200);
    assert!(users.body.contains("judicial.t1"));
    let csrf = csrf_of(&users.body);

    // create a user (the form's unit: the first village listed)
    let unit = {
        let at = users.body.find("<select name=\"unit\"><option value=\"").unwrap() + 35;
        users.body[at..at + 36].to_string()
    };
    let form = format!(
        "csrf={csrf}&username=sun.qi&display_name={}&password=Sun-initial-pw1&role=mediator&unit={unit}",
        enc("孙七")
    );
    let bare = send(&app, post("/desk/users", &admin, &form.replace(&format!("csrf={csrf}"), "csrf="))).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN, "without the token: refused");
    assert!(state.store.user_by_username("sun.qi").unwrap().is_none(), "and nothing made");
    let made = send(&app, post("/desk/users", &admin, &form)).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let sun = state.store.user_by_username("sun.qi").unwrap().expect("created");
    assert!(sun.must_change_password);

    // disable the judicial office's user: their desk session ends at once
    let j = state.store.user_by_username("judicial.t1").unwrap().unwrap();
    let page = send(&app, get(&format!("/desk/users/{}", j.id), &admin)).await;
    assert!(page.body.contains("停用"), "{}", page.body);
    let off = send(&app, post(&format!("/desk/users/{}/disable", j.id), &admin, &format!("csrf={csrf}"))).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert!(state.store.user(j.id).unwrap().unwrap().disabled);
    assert_eq!(send(&app, get("/desk/", &judicial)).await.status, StatusCode::SEE_OTHER);
    // an admin cannot disable themselves (the API's rule)
    let me = state.store.user_by_username("admin").unwrap().unwrap();
    let mine = send(&app, post(&format!("/desk/users/{}/disable", me.id), &admin, &format!("csrf={csrf}"))).await;
    assert_eq!(mine.status, StatusCode::BAD_REQUEST);
    assert!(mine.body.contains("管理员不能停用自己的账号"), "the rule in Chinese: {}", mine.body);
    assert!(!state.store.user(me.id).unwrap().unwrap().disabled);

    // the audit log shows it, filtered by action
    let audit = send(&app, get("/desk/audit?action=user_disable", &admin)).await;
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains(&j.id.to_string()) && audit.body.contains("user_disable"), "{}", audit.body);

    // a policy file is checked, not applied
    let bad =
        send(&app, post("/desk/policy/check", &admin, &format!("csrf={csrf}&toml={}", enc("[auth]\nsurprise = 1\n"))))
            .await;
    assert!(bad.body.contains("不能使用") && bad.body.contains("surprise"), "{}", bad.body);
    let good = send(
        &app,
        post("/desk/policy/check", &admin, &format!("csrf={csrf}&toml={}", enc("[auth]\ndesk_idle_mins = 15\n"))),
    )
    .await;
    assert!(good.body.contains("检查通过"), "{}", good.body);
    assert_eq!(state.policy.auth.desk_idle_mins, 30, "nothing applied");
}

#[tokio::test]
async fn reports_of_units_in_reach_only() {
    let (dir, _state, app) = demo();
    let creds = read_credentials(dir.path()).unwrap();
    let c = |u: &str| creds.iter().find(|c| c.username == u).unwrap().clone();
    let (committee, _) = sign_in(&app, "committee.t1", &c("committee.t1").password, false).await;
    let (town, other_town) = (c("committee.t1").unit_id, c("committee.t2").unit_id);
    let chooser = send(&app, get("/desk/reports", &committee)).await;
    assert_eq!(chooser.status, 200);
    assert!(chooser.body.contains(&town.to_string()) && !chooser.body.contains(&other_town.to_string()));
    for kind in ["monthly", "flow"] {
        let own = send(&app, get(&format!("/desk/reports?unit={town}&month=2026-11&kind={kind}"), &committee)).await;
        assert_eq!(own.status, 200, "{kind}: {}", own.body);
        assert!(own.body.starts_with("<!DOCTYPE html>") || own.body.contains("<html"), "{kind}");
        let other =
            send(&app, get(&format!("/desk/reports?unit={other_town}&month=2026-11&kind={kind}"), &committee)).await;
        assert_eq!(other.status, StatusCode::NOT_FOUND, "{kind}: another town's report");
    }
}
