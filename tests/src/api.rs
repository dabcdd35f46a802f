//! Raw HTTP helpers for end-to-end tests that speak the wire format directly
//! (a desk client, a script, or a phone whose core is not under test).

use chrono::Utc;
use fengqiao_domain::wire::{Op, OpEnvelope, Outcome};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::TestServer;

/// A signed-in user.
pub struct ApiUser {
    /// Access token.
    pub token: String,
    /// User id.
    pub id: String,
    /// Base URL.
    pub url: String,
    http: reqwest::Client,
}

/// `POST /v1/auth/login` as a client sends it: `username`, `password` and, if
/// given, `device_id`. The answer whatever its status; `Err` only when no
/// answer came.
pub async fn send_login(
    http: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
    device: Option<Uuid>,
) -> reqwest::Result<reqwest::Response> {
    let mut body = json!({"username": username, "password": password});
    if let Some(d) = device {
        body["device_id"] = json!(d);
    }
    http.post(format!("{url}/v1/auth/login")).json(&body).send().await
}

/// [`send_login`] without a device, for a test: the answer whatever its status.
pub async fn login_request(http: &reqwest::Client, url: &str, username: &str, password: &str) -> reqwest::Response {
    send_login(http, url, username, password, None).await.expect("login request")
}

/// [`send_login`] for a test, read as (status, JSON body or null).
pub async fn login_answer(
    http: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
    device: Option<Uuid>,
) -> (u16, Value) {
    let r = send_login(http, url, username, password, device).await.expect("login request");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

impl ApiUser {
    /// Signs in as a demo user.
    pub async fn login(server: &TestServer, username: &str) -> ApiUser {
        let c = server.cred(username).expect("demo user");
        ApiUser::login_with(server, &c.username, &c.password).await
    }

    /// Signs in with a username and password (a user the test made).
    pub async fn login_with(server: &TestServer, username: &str, password: &str) -> ApiUser {
        let http = reqwest::Client::new();
        let t: Value =
            login_request(&http, &server.url(), username, password).await.json().await.expect("login answer");
        ApiUser {
            token: t["access_token"].as_str().expect("token").into(),
            id: t["user"]["id"].as_str().expect("id").into(),
            url: server.url(),
            http,
        }
    }

    /// Pushes one op; returns its outcome.
    pub async fn push(&self, kind: &str, body: Value) -> Value {
        self.push_one(json!({"op_id": Uuid::now_v7(), "v": 1, "author": self.id, "created_at": Utc::now(),
            "op": {"kind": kind, "body": body}}))
            .await
    }

    /// Pushes one typed op, built here and checked by no phone; its outcome.
    pub async fn push_op(&self, op: Op) -> Outcome {
        let author = self.id.parse().expect("user id");
        let env = OpEnvelope { op_id: Uuid::now_v7(), v: 1, author, created_at: Utc::now(), op, seen: None };
        let outcome = self.push_one(serde_json::to_value(&env).expect("an op as JSON")).await;
        serde_json::from_value(outcome).expect("an outcome")
    }

    /// Pushes one op envelope as given (JSON); its outcome.
    pub async fn push_envelope(&self, op: Value) -> Value {
        self.push_one(op).await
    }

    /// `POST /v1/sync/push` of one op envelope; its answer's outcome.
    async fn push_one(&self, op: Value) -> Value {
        let r: Value =
            self.post("/v1/sync/push", json!({"v": 1, "ops": [op]})).await.json().await.expect("push answer");
        r["answers"][0]["outcome"].clone()
    }

    /// GET with the token.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).bearer_auth(&self.token).send().await.expect("get")
    }

    /// Every change the user pulls from the start, latest version of each
    /// record (keyed by record id).
    pub async fn pulled(&self) -> Vec<Value> {
        let mut out = std::collections::BTreeMap::new();
        let mut cursor = String::new();
        loop {
            let page: Value =
                self.get(&format!("/v1/sync/pull?cursor={cursor}&limit=1000")).await.json().await.expect("pull answer");
            for c in page["changes"].as_array().expect("changes") {
                out.insert(c["id"].as_str().unwrap_or_default().to_string(), c.clone());
            }
            cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
            if page["has_more"] != true {
                break;
            }
        }
        out.into_values().collect()
    }

    /// POST JSON with the token.
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.url)).bearer_auth(&self.token).json(&body).send().await.expect("post")
    }

    /// Reserves a case-number block; a case number from it (`T01V01`-style prefix).
    pub async fn case_number(&self, prefix: &str, index: u32) -> String {
        let b: Value = self.post("/v1/cases/blocks", json!({})).await.json().await.expect("block");
        format!("{prefix}-{}-{:04}-{index:03}", b["year"], b["block"].as_u64().expect("block no"))
    }
}

/// A `report_dispute` body.
pub fn dispute_body(id: Uuid, case_number: &str, origin: Uuid, level: &str, kind: &str, grade: &str) -> Value {
    json!({"id": id, "case_number": case_number, "kind": kind, "origin_unit": origin,
        "parties": [{"name": "王建国"}, {"name": "李秀英"}], "summary": "承包地边界争议", "grade": grade,
        "analysis": {"cause": "界桩缺失", "consequences": "可能激化", "difficulty": "medium"},
        "found_at": Utc::now(), "reported_by": Uuid::nil(), "level": level, "handler_unit": Uuid::nil(),
        "level_since": Utc::now(), "registered_at": Utc::now()})
}

/// A `request_escalation` body; returns its id too.
pub fn escalation_body(dispute: Uuid, to: &str) -> (Uuid, Value) {
    let id = Uuid::now_v7();
    (
        id,
        json!({"id": id, "dispute_id": dispute, "from_level": "group", "to_level": to, "reason": "repeated_mediation_failed",
        "note": "多次调解未果", "requested_by": Uuid::nil(), "requested_at": Utc::now(), "grade": "larger"}),
    )
}
