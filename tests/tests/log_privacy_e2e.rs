//! No secrets or personal data in logs: the server's tracing output (every level,
//! both the plain and the JSON format) is captured while users sign in (rightly and
//! wrongly), refresh, push cases whose parties, notes and summaries carry a known
//! name and phone number, send malformed bodies and queries that carry them, pull
//! and log out; then it is scanned for the passwords, access and refresh tokens,
//! phone numbers and names.

use std::io::Write;
use std::sync::{Arc, Mutex};

use fengqiao_tests::api::{dispute_body, login_request, ApiUser};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const PHONE: &str = "13912345678";
const NAME: &str = "欧阳娜娜";
const OTHER_NAME: &str = "司马建华";

#[tokio::test]
async fn logs_hold_no_password_token_phone_or_name() {
    use tracing_subscriber::layer::SubscriberExt;
    let plain = Capture::default();
    let json_cap = Capture::default();
    let (p, j) = (plain.clone(), json_cap.clone());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(move || p.clone()))
        .with(tracing_subscriber::fmt::layer().json().with_writer(move || j.clone()))
        .with(tracing_subscriber::filter::LevelFilter::TRACE)
        // the test's own HTTP client logs its requests; only the server's side counts
        .with(tracing_subscriber::filter::filter_fn(|m| {
            !(m.target().starts_with("reqwest") || m.target().starts_with("hyper_util::client"))
        }));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let (url, http) = (server.url(), reqwest::Client::new());
    let mut secrets: Vec<String> = vec![PHONE.into(), NAME.into(), OTHER_NAME.into()];

    // sign-ins: right, wrong password, unknown user, password in the username field
    let c = server.cred("leader.t1v1g1").unwrap();
    secrets.push(c.password.clone());
    let login = |u: String, p: String| {
        let (http, url) = (http.clone(), url.clone());
        async move { login_request(&http, &url, &u, &p).await }
    };
    let t: Value = login(c.username.clone(), c.password.clone()).await.json().await.unwrap();
    let wrong = "Wr0ng-Secret-Guess-77";
    secrets.push(wrong.into());
    assert_eq!(login(c.username.clone(), wrong.into()).await.status(), 401);
    assert_eq!(login(PHONE.to_string(), wrong.into()).await.status(), 401);
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    secrets.push(access.clone());
    secrets.push(access.rsplit('.').next().unwrap().to_string()); // the signature alone
    secrets.push(refresh.clone());

    // refresh (twice: the second is a reuse that revokes the family and is logged)
    let r: Value = http
        .post(format!("{url}/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access2 = r["access_token"].as_str().unwrap_or_else(|| panic!("refresh: {r}")).to_string();
    secrets.push(access2.clone());
    secrets.push(r["refresh_token"].as_str().unwrap().to_string());
    let reuse = http.post(format!("{url}/v1/auth/refresh")).json(&json!({"refresh_token": refresh})).send().await;
    assert_eq!(reuse.unwrap().status(), 401);

    // a fresh session to push with
    let u = ApiUser::login(&server, "leader.t1v1g1").await;
    secrets.push(u.token.clone());
    let me = u.get("/v1/me").await;
    assert_eq!(me.status(), 200);
    let group: Uuid = c.unit_id;
    let number = u.case_number("T01V01", 1).await;
    let mut d = dispute_body(Uuid::now_v7(), &number, group, "group", "neighbour", "general");
    d["parties"] = json!([{"name": NAME, "phone": PHONE}, {"name": OTHER_NAME}]);
    d["summary"] = json!(format!("{NAME}（电话{PHONE}）与{OTHER_NAME}因宅基地争执"));
    let outcome = u.push("report_dispute", d).await;
    assert_eq!(outcome["status"], "applied", "{outcome}");
    // malformed pushes and queries carrying the same data
    let bad = json!({"v": 1, "ops": [{"op_id": Uuid::now_v7(), "v": 1, "author": u.id, "created_at": chrono::Utc::now(),
        "op": {"kind": "report_dispute", "body": {"parties": [{"name": NAME, "phone": PHONE}], "summary": PHONE}}}]});
    assert_eq!(u.post("/v1/sync/push", bad).await.status(), 422);
    let r = http
        .post(format!("{url}/v1/sync/push"))
        .bearer_auth(&u.token)
        .header("content-type", "application/json")
        .body(format!("{{\"v\":1,\"ops\":[{{\"note\":\"{NAME} {PHONE}\"")) // cut short
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(u.get(&format!("/v1/sync/pull?cursor={PHONE}&name={NAME}")).await.status(), 400);
    assert_eq!(u.get(&format!("/v1/subsidies/{PHONE}")).await.status().as_u16() / 100, 4);
    // a forged token with the real signature on it
    let forged = format!("{}.e30.{}", access.split('.').next().unwrap(), access.rsplit('.').next().unwrap());
    let r = http.get(format!("{url}/v1/sync/pull")).bearer_auth(&forged).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // pulls return the households' names and phones; the log must not
    assert_eq!(u.get("/v1/sync/pull").await.status(), 200);
    let r = http
        .post(format!("{url}/v1/auth/logout"))
        .json(&json!({"refresh_token": r#"{"secret":"x"}"#}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // demo households' phones (pulled above) and a household head's name
    for phone in ["13900000000", "13900000001"] {
        secrets.push(phone.into());
    }

    let mut server = server;
    server.stop().await.unwrap();
    for (format, cap) in [("plain", &plain), ("json", &json_cap)] {
        let text = String::from_utf8_lossy(&cap.0.lock().unwrap()).into_owned();
        assert!(text.contains("login"), "{format}: the capture works (saw no login line):\n{text}");
        assert!(text.len() > 1000, "{format}: too little was logged to mean anything");
        assert!(text.contains("/v1/subsidies/{id}"), "{format}: spans name the route template");
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{format} log leaks {s:?}:\n{text}");
        }
        // nothing that looks like a bearer token at all
        assert!(!text.contains("eyJ"), "{format} log holds something JWT-like");
    }
}
