//! `/v1/sync/push` and `/v1/sync/pull`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use fengqiao_domain::wire::{
    ErrorBody, OpAnswer, OpEnvelope, Outcome, PullResponse, PushRequest, PushResponse, UserInfo,
};
use fengqiao_domain::{RoleGrant, WIRE_VERSION};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::auth_routes::Authed;
use super::error::{ApiError, ApiJson, ApiResult};
use super::AppState;
use crate::store::audit::sync_op_entries;

/// Push a batch of operations; one answer per op, in order.
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", request_body = PushRequest,
    security(("bearer" = [])),
    responses((status = 200, body = PushResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn push(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(req): ApiJson<PushRequest>,
) -> ApiResult<Json<PushResponse>> {
    if req.v > WIRE_VERSION {
        return Err(ApiError::bad_request(
            "unsupported_version",
            format!("wire version {} is newer than this server's {WIRE_VERSION}", req.v),
        ));
    }
    let max = st.policy.sync.max_push_ops;
    if req.ops.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_ops",
            format!("at most {max} operations per push"),
        ));
    }
    let mut ops: Vec<OpEnvelope> = Vec::with_capacity(req.ops.len());
    for (i, raw) in req.ops.into_iter().enumerate() {
        match parse_op(&raw) {
            Ok(op) => ops.push(op),
            Err(e) => {
                let mut err =
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "malformed_op", format!("operation {i}: {e}"));
                err.op_index = Some(i);
                return Err(err);
            }
        }
    }
    let (store, policy, actor) = (st.store.clone(), st.policy.clone(), caller.actor.clone());
    let n = ops.len();
    let (auth, family) = (st.auth.clone(), caller.family);
    let answers = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let device = auth.device_of(actor.user_id, family)?;
        let audit = |answers: &[OpAnswer]| sync_op_entries(actor.user_id, device, &ops, answers);
        Ok(store.apply_ops_audited(&actor, &policy, &ops, chrono::Utc::now(), &audit)?)
    })
    .await??;
    let rejected = answers.iter().filter(|a| matches!(a.outcome, Outcome::Rejected { .. })).count();
    tracing::info!(user = %caller.user.id, ops = n, rejected, "push");
    Ok(Json(PushResponse { v: WIRE_VERSION, answers }))
}

/// Reads one pushed operation. The error names the path of the offending field
/// (`op.body.visited_at: input is out of range`), so whoever sent it can tell
/// which value to correct.
fn parse_op(raw: &serde_json::Value) -> Result<OpEnvelope, String> {
    let err = match serde_path_to_error::deserialize::<_, OpEnvelope>(raw) {
        Ok(env) => return Ok(env),
        Err(e) => e,
    };
    // A JSON object reaches serde with its keys sorted, so an op's `body` comes
    // before its `kind` and is buffered, which hides the path inside it. Read the
    // op again with its kind first to name the field within the body.
    let path = err.path().to_string();
    let at_path = |path: &str, inner: &serde_json::Error| match path {
        "." => inner.to_string(),
        p => format!("{p}: {inner}"),
    };
    if path != "op" && !path.starts_with("op.") {
        return Err(at_path(&path, err.inner()));
    }
    if let Some(serde_json::Value::Object(op)) = raw.get("op") {
        if let (Some(kind), Some(body)) = (op.get("kind"), op.get("body")) {
            let pairs = [("kind".to_string(), kind.clone()), ("body".to_string(), body.clone())];
            let ordered = serde::de::value::MapDeserializer::<_, serde_json::Error>::new(pairs.into_iter());
            if let Err(e) = serde_path_to_error::deserialize::<_, fengqiao_domain::wire::Op>(ordered) {
                return Err(format!("op.{}: {}", e.path(), e.inner()));
            }
        }
    }
    Err(at_path(&path, err.inner()))
}

/// Query of a pull.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PullQuery {
    /// Cursor from the last pull; empty or absent for the start.
    pub cursor: Option<String>,
    /// Page size, 1 to the policy's maximum (default 500).
    pub limit: Option<usize>,
}

/// A cursor: the feed position and a fingerprint of the caller's roles, so that a
/// change of roles restarts the phone's pull from the beginning.
pub(crate) fn scope_fingerprint(grants: &[RoleGrant]) -> String {
    let mut g = grants.to_vec();
    g.sort();
    let mut h = Sha256::new();
    for grant in &g {
        h.update(grant.role.code().as_bytes());
        h.update(grant.unit_id.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

fn encode_cursor(position: u64, fingerprint: &str) -> String {
    format!("1.{position}.{fingerprint}")
}

/// Parses a cursor: `Ok(None)` when it belongs to another scope (reset).
pub(crate) fn decode_cursor(cursor: &str, fingerprint: &str) -> Result<Option<u64>, ApiError> {
    let bad = || ApiError::bad_request("invalid_cursor", "the cursor is not one this server gave out");
    let mut parts = cursor.splitn(3, '.');
    let (Some("1"), Some(pos), Some(fp)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let pos: u64 = pos.parse().map_err(|_| bad())?;
    Ok((fp == fingerprint).then_some(pos))
}

/// Changes in the caller's jurisdiction since the cursor, one page, with where
/// the page ends in the feed and the feed's end (a first pull's progress) and the
/// policy's entity tag (the phone fetches the policy only when it differs from the
/// one it keeps). A cursor of
/// another scope (the caller's roles changed) or past the end of the feed (given
/// out before a restore) answers from the beginning with `reset: true`.
#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", params(PullQuery), security(("bearer" = [])),
    responses((status = 200, body = PullResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn pull(
    State(st): State<AppState>,
    Authed(caller): Authed,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PullResponse>> {
    let Query(q) = query?;
    let max = st.policy.sync.max_pull_limit;
    let limit = q.limit.unwrap_or(500.min(max));
    if limit == 0 || limit > max {
        return Err(ApiError::bad_request("invalid_limit", format!("limit: 1 to {max}")));
    }
    let fingerprint = scope_fingerprint(&caller.user.grants);
    let (after, reset) = match q.cursor.as_deref() {
        None | Some("") => (0, false),
        Some(c) => match decode_cursor(c, &fingerprint)? {
            Some(pos) => (pos, false),
            None => (0, true),
        },
    };
    let (store, grants, user_id) = (st.store.clone(), caller.user.grants.clone(), caller.user.id);
    let (page, beyond_end, head) = tokio::task::spawn_blocking(move || -> crate::store::StoreResult<_> {
        let head = store.last_seq()?;
        let page = store.pull(&grants, Some(user_id), after, limit)?;
        if !page.beyond_end {
            return Ok((page, false, head));
        }
        // A cursor past the end of this feed (given out before a restore, or
        // forged): the phone starts over, as after a change of scope.
        store.pull(&grants, Some(user_id), 0, limit).map(|p| (p, true, head))
    })
    .await??;
    if beyond_end {
        tracing::warn!(user = %user_id, after, "pull cursor beyond the end of the feed; resetting the phone");
    }
    let reset = reset || beyond_end;
    let changes =
        page.changes.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>().map_err(ApiError::internal)?;
    Ok(Json(PullResponse {
        v: WIRE_VERSION,
        reset,
        changes,
        next_cursor: encode_cursor(page.position, &fingerprint),
        has_more: page.has_more,
        position: page.position,
        head: head.max(page.position),
        policy_tag: Some(st.policy.version()),
    }))
}

/// The signed-in user and their roles.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserInfo), (status = 401, body = ErrorBody)))]
pub async fn me(State(st): State<AppState>, Authed(caller): Authed) -> ApiResult<Json<UserInfo>> {
    let auth = st.auth.clone();
    Ok(Json(tokio::task::spawn_blocking(move || auth.user_info(&caller.user)).await??))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengqiao_domain::Role;
    use uuid::Uuid;

    fn visit_op(body: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"op_id": Uuid::now_v7(), "v": 1, "author": Uuid::now_v7(),
            "created_at": "2026-01-01T00:00:00Z", "op": {"kind": "record_visit", "body": body}})
    }

    #[test]
    fn a_malformed_op_is_refused_naming_the_field() {
        let good = serde_json::json!({"id": Uuid::now_v7(), "household_id": Uuid::now_v7(),
            "visited_at": "2026-01-01T00:00:00Z", "kind": "routine"});
        assert!(parse_op(&visit_op(good.clone())).is_ok(), "server-owned fields may be left out");
        let mut month13 = good.clone();
        month13["visited_at"] = "2026-13-01T00:00:00Z".into();
        let e = parse_op(&visit_op(month13)).unwrap_err();
        assert!(e.starts_with("op.body.visited_at: "), "{e}");
        assert!(e.contains("out of range"), "{e}");
        let mut wrong_type = good.clone();
        wrong_type["household_id"] = 7.into();
        let e = parse_op(&visit_op(wrong_type)).unwrap_err();
        assert!(e.starts_with("op.body.household_id: "), "{e}");
        let mut missing = good;
        missing.as_object_mut().unwrap().remove("visited_at");
        let e = parse_op(&visit_op(missing)).unwrap_err();
        assert!(e.contains("visited_at"), "{e}");
        let mut envelope = visit_op(serde_json::json!({}));
        envelope["created_at"] = "yesterday".into();
        let e = parse_op(&envelope).unwrap_err();
        assert!(e.starts_with("created_at: "), "{e}");
        let e = parse_op(&serde_json::json!({"op_id": Uuid::now_v7(), "v": 1, "author": Uuid::now_v7(),
            "created_at": "2026-01-01T00:00:00Z", "op": {"kind": "launch_rocket", "body": {}}}))
        .unwrap_err();
        assert!(e.contains("launch_rocket"), "{e}");
        let mut extra = visit_op(serde_json::json!({}));
        extra["admin"] = true.into();
        let e = parse_op(&extra).unwrap_err();
        assert!(e.contains("admin") && !e.starts_with('.'), "{e}");
    }

    #[test]
    fn cursor_roundtrips_and_detects_scope_change() {
        let a = [RoleGrant { role: Role::GroupLeader, unit_id: Uuid::from_u128(1) }];
        let b = [RoleGrant { role: Role::GroupLeader, unit_id: Uuid::from_u128(2) }];
        let fa = scope_fingerprint(&a);
        let c = encode_cursor(42, &fa);
        assert_eq!(decode_cursor(&c, &fa).unwrap(), Some(42));
        assert_eq!(decode_cursor(&c, &scope_fingerprint(&b)).unwrap(), None);
        assert!(decode_cursor("garbage", &fa).is_err());
        assert!(decode_cursor("1.x.ab", &fa).is_err());
        // order of grants does not matter
        let ab: Vec<RoleGrant> = a.iter().chain(b.iter()).copied().collect();
        let ba: Vec<RoleGrant> = b.iter().chain(a.iter()).copied().collect();
        assert_eq!(scope_fingerprint(&ab), scope_fingerprint(&ba));
    }
}
