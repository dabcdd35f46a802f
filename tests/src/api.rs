//! Raw HTTP helpers for end-to-end tests that speak the wire format directly
//! (a desk client, a script, or a phone whose core is not under test).

use chrono::Utc;
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

impl ApiUser {
    /// Signs in as a demo user.
    pub async fn login(server: &TestServer, username: &str) -> ApiUser {
        let c = server.cred(username).expect("demo user");
        ApiUser::login_with(server, &c.username, &c.password).await
    }

    /// Signs in with a username and password (a user an import made).
    pub async fn login_with(server: &TestServer, username: &str, password: &str) -> ApiUser {
        let http = reqwest::Client::new();
        let t: Value = http
            .post(format!("{}/v1/auth/login", server.url()))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login request")
            .json()
            .await
            .expect("login answer");
        ApiUser {
            token: t["access_token"].as_str().expect("token").into(),
            id: t["user"]["id"].as_str().expect("id").into(),
            url: server.url(),
            http,
        }
    }

    /// Pushes one op; returns its outcome.
    pub async fn push(&self, kind: &str, body: Value) -> Value {
        let op = json!({"op_id": Uuid::now_v7(), "v": 1, "author": self.id, "created_at": Utc::now(),
            "op": {"kind": kind, "body": body}});
        let r: Value = self
            .http
            .post(format!("{}/v1/sync/push", self.url))
            .bearer_auth(&self.token)
            .json(&json!({"v": 1, "ops": [op]}))
            .send()
            .await
            .expect("push")
            .json()
            .await
            .expect("push answer");
        r["answers"][0]["outcome"].clone()
    }

    /// GET with the token.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).bearer_auth(&self.token).send().await.expect("get")
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
