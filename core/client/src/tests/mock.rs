//! The stateful fake server the `FieldClient` tests talk to: logins with
//! rotating tokens, a change feed with resets, and push answers by op id.

use super::*;

/// A stateful stand-in for the server.
#[derive(Default)]
pub(super) struct Mock {
    pub(super) n: u64,
    pub(super) access: HashMap<String, String>,
    pub(super) refresh: HashMap<String, String>,
    pub(super) expires_in: i64,
    pub(super) seen_ops: HashMap<Uuid, Outcome>,
    pub(super) feed: Vec<serde_json::Value>,
    pub(super) reset_next: bool,
    pub(super) push_script: VecDeque<Reply>,
    pub(super) logouts: Vec<String>,
    pub(super) refused_refresh: bool,
    pub(super) blocks: u32,
    /// Pushes handled so far.
    pub(super) pushes: usize,
    /// From this push on (1-based), answer 500 without applying.
    pub(super) fail_pushes_from: Option<usize>,
    /// This push (1-based) is applied but its answer is lost (connection closed).
    pub(super) lose_answer_of: Option<usize>,
}

impl Mock {
    pub(super) fn new() -> Self {
        let mut m = Mock { expires_in: 900, ..Default::default() };
        m.feed = vec![
            put(unit(COUNTY, UnitLevel::County, None)),
            put(unit(TOWN, UnitLevel::Town, Some(COUNTY))),
            put(unit(VILLAGE, UnitLevel::Village, Some(TOWN))),
            put(unit(GROUP, UnitLevel::Group, Some(VILLAGE))),
            put(house(HOUSE)),
            json!({"seq": 6, "action": "put", "entity": "spaceship", "id": Uuid::now_v7(), "record": {}}),
        ];
        m
    }

    pub(super) fn tokens(&mut self, who: &str) -> Reply {
        self.n += 1;
        let (a, r) = (format!("acc-{}", self.n), format!("ref-{}", self.n));
        self.access.insert(a.clone(), who.into());
        self.refresh.insert(r.clone(), who.into());
        let body = json!({
            "access_token": a, "token_type": "Bearer", "expires_in": self.expires_in,
            "expires_at": Utc::now() + chrono::Duration::seconds(self.expires_in),
            "refresh_token": r, "refresh_expires_at": Utc::now() + chrono::Duration::days(60),
            "user": user(who),
        });
        Reply::json(200, body.to_string())
    }

    pub(super) fn authed(&self, req: &Req) -> Option<String> {
        let tok = req.header("authorization")?.strip_prefix("Bearer ")?;
        self.access.get(tok).cloned()
    }

    pub(super) fn handle(&mut self, req: &Req) -> Reply {
        let body = req.json();
        match req.path.as_str() {
            "/v1/auth/login" => match (body["username"].as_str(), body["password"].as_str()) {
                (Some(u @ ("leader" | "other" | "mediator")), Some("pw")) => self.tokens(u),
                _ => Reply::json(401, r#"{"code":"invalid_credentials","message":"no"}"#),
            },
            "/v1/auth/refresh" => {
                let tok = body["refresh_token"].as_str().unwrap_or_default().to_string();
                match self.refresh.remove(&tok) {
                    Some(who) if !self.refused_refresh => self.tokens(&who),
                    _ => Reply::json(401, r#"{"code":"refresh_invalid","message":"no"}"#),
                }
            }
            "/v1/auth/logout" => {
                let tok = body["refresh_token"].as_str().unwrap_or_default().to_string();
                self.refresh.remove(&tok);
                self.logouts.push(tok);
                Reply::json(204, "")
            }
            "/v1/sync/push" => {
                if self.authed(req).is_none() {
                    return Reply::json(401, r#"{"code":"token_expired","message":"expired"}"#);
                }
                if let Some(r) = self.push_script.pop_front() {
                    return r;
                }
                self.pushes += 1;
                if self.fail_pushes_from.is_some_and(|n| self.pushes >= n) {
                    return Reply::json(500, r#"{"code":"internal","message":"x"}"#);
                }
                let mut answers = Vec::new();
                for op in body["ops"].as_array().cloned().unwrap_or_default() {
                    let Ok(env) = serde_json::from_value::<OpEnvelope>(op) else {
                        return Reply::json(422, r#"{"code":"malformed_op","message":"bad","op_index":0}"#);
                    };
                    let outcome = match self.seen_ops.get(&env.op_id) {
                        Some(o) => Outcome::Duplicate { original: Box::new(o.clone()) },
                        None => {
                            let Op::RecordVisit(v) = &env.op else {
                                return Reply::json(422, r#"{"code":"malformed_op","message":"bad","op_index":0}"#);
                            };
                            let o = match v.notes.as_str() {
                                "REJECT" => {
                                    Outcome::Rejected { code: RejectionCode::InvalidField, message: "bad field".into() }
                                }
                                "CONFLICT" => Outcome::Conflict {
                                    message: "moved on".into(),
                                    current: Some(Box::new(house(HOUSE))),
                                },
                                _ => {
                                    self.feed.push(put(Record::Visit(v.clone())));
                                    Outcome::Applied { seq: self.feed.len() as u64 }
                                }
                            };
                            self.seen_ops.insert(env.op_id, o.clone());
                            o
                        }
                    };
                    answers.push(OpAnswer { op_id: env.op_id, outcome });
                }
                if self.lose_answer_of == Some(self.pushes) {
                    return Reply::Close;
                }
                Reply::json(200, json!({"v": 1, "answers": answers}).to_string())
            }
            "/v1/sync/pull" => {
                if self.authed(req).is_none() {
                    return Reply::json(401, r#"{"code":"unauthorized","message":"no"}"#);
                }
                let q: HashMap<&str, &str> = req.query.split('&').filter_map(|kv| kv.split_once('=')).collect();
                let cursor = q.get("cursor").copied().unwrap_or_default();
                let Ok(from) = (if cursor.is_empty() { Ok(0) } else { cursor.parse::<usize>() }) else {
                    return Reply::json(400, r#"{"code":"invalid_cursor","message":"unknown cursor"}"#);
                };
                let limit: usize = q.get("limit").and_then(|c| c.parse().ok()).unwrap_or(100);
                let reset = std::mem::take(&mut self.reset_next);
                let from = if reset { 0 } else { from.min(self.feed.len()) };
                let to = (from + limit).min(self.feed.len());
                let body = json!({"v": 1, "reset": reset, "changes": &self.feed[from..to], "next_cursor": to.to_string(), "has_more": to < self.feed.len()});
                Reply::json(200, body.to_string())
            }
            "/v1/cases/blocks" if self.authed(req).is_some() => {
                self.blocks += 1;
                Reply::json(201, json!({"year": 2026, "block": self.blocks, "size": 100}).to_string())
            }
            _ => Reply::json(404, r#"{"code":"not_found","message":""}"#),
        }
    }
}
