//! The desk's browser tests from Rust: runs a script of `tests/desk/` (headless
//! Chromium through playwright-core, installed by `tests/run-all.sh`) against a
//! test server, and a resolved case made on a real phone core.

use std::path::PathBuf;
use std::process::Command;

use fengqiao_core::{FieldClient, NewAgreement, NewDispute, NewSession};
use fengqiao_domain::disputes::{Analysis, ClosingOutcome, Difficulty, Dispute, Party};
use fengqiao_domain::ladder::{Grade, Level};
use uuid::Uuid;

/// Where the screenshots go: `desk-screenshots` in cargo's target directory
/// (the test binary runs from `<target>/debug/deps`).
pub fn screenshots() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe.ancestors().nth(3).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("desk-screenshots")
}

/// Runs `tests/desk/<script>` with `env` and the server's URL; returns the JSON
/// it printed. Panics with the script's own error output when a check failed.
pub async fn browser(script: &str, url: &str, env: &[(&str, String)]) -> serde_json::Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("desk");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci --prefix tests/desk` (tests/run-all.sh does)"
    );
    let mut cmd = Command::new("node");
    cmd.arg(script).current_dir(&dir).env("DESK_URL", url).env("DESK_SHOTS", screenshots());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().unwrap_or("{}");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}

/// Parties by name only (no household).
pub fn named(names: &[&str]) -> Vec<Party> {
    names.iter().map(|n| Party { name: n.to_string(), household_id: None, phone: None }).collect()
}

/// A major dispute reported on the phone at village level with `parties`,
/// mediated twice, agreed and closed as resolved (not yet synced).
pub fn resolved_case(phone: &FieldClient, village: Uuid, parties: Vec<Party>) -> Dispute {
    let d = phone
        .report_dispute(NewDispute {
            kind: "mass".into(),
            origin_unit: village,
            parties,
            summary: "灌溉用水分配纠纷".into(),
            grade: Grade::Major,
            analysis: Analysis {
                cause: "水源不足".into(),
                consequences: "可能聚集".into(),
                difficulty: Difficulty::Medium,
            },
            found_at: None,
            lead_id: None,
            level: Some(Level::Village),
        })
        .expect("report");
    for (i, agreed) in [false, true].into_iter().enumerate() {
        phone
            .record_session(NewSession {
                dispute_id: d.id,
                held_at: None,
                place: "村委会".into(),
                mediators: vec![],
                participants: vec!["乡贤王老".into()],
                record: format!("第{}次调解", i + 1),
                agreed,
            })
            .expect("session");
    }
    phone
        .record_agreement(NewAgreement {
            dispute_id: d.id,
            signed_at: None,
            terms: "按户轮灌".into(),
            sum_fen: 0,
            obligations: "各组按时段放水".into(),
            signature_photos: vec![],
        })
        .expect("agreement");
    phone.close_dispute(d.id, ClosingOutcome::Resolved, "和解".into()).expect("close");
    d
}

/// A desk session without a browser (plain HTTP with the session cookie), for
/// checks of what a page holds.
pub struct DeskClient {
    url: String,
    cookie: String,
    csrf: String,
    http: reqwest::Client,
}

impl DeskClient {
    /// Signs in through the desk's form.
    pub async fn sign_in(url: &str, username: &str, password: &str) -> DeskClient {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let form = http.get(format!("{url}/desk/login")).send().await.expect("login form");
        let signin = cookie_of(&form, "fq_desk_signin");
        let body = form.text().await.expect("body");
        let at = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
        let csrf = body[at..at + 64].to_string();
        let res = http
            .post(format!("{url}/desk/login"))
            .header("cookie", signin)
            .form(&[("csrf", csrf.as_str()), ("username", username), ("password", password)])
            .send()
            .await
            .expect("sign in");
        assert_eq!(res.status(), 303, "desk sign-in of {username}");
        let mut desk =
            DeskClient { url: url.to_string(), cookie: cookie_of(&res, "fq_desk"), csrf: String::new(), http };
        let (_, home) = desk.get("/desk/").await;
        let at = home.find("name=\"csrf\" value=\"").expect("the session's csrf field") + 19;
        desk.csrf = home[at..at + 64].to_string();
        desk
    }

    /// Posts a form with the session's CSRF token: status and body.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let res = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .expect("post");
        (res.status().as_u16(), res.text().await.unwrap_or_default())
    }

    /// A page: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res =
            self.http.get(format!("{}{path}", self.url)).header("cookie", &self.cookie).send().await.expect("get");
        (res.status().as_u16(), res.text().await.unwrap_or_default())
    }
}

fn cookie_of(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .expect("the cookie")
        .to_string()
}
