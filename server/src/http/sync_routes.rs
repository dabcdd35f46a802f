//! `/v1/sync/push` and `/v1/sync/pull`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use fengqiao_domain::wire::{ErrorBody, OpEnvelope, Outcome, PullResponse, PushRequest, PushResponse, UserInfo};
use fengqiao_domain::{RoleGrant, WIRE_VERSION};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::auth_routes::Authed;
use super::error::{ApiError, ApiJson, ApiResult};
use super::AppState;
use crate::store::{AuditAction, AuditEntry};

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
        match serde_json::from_value::<OpEnvelope>(raw) {
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
        // One audit entry per op: who, from which device, what kind, which record, how it ended.
        let audit = |answers: &[fengqiao_domain::wire::OpAnswer]| -> Vec<AuditEntry> {
            ops.iter()
                .zip(answers)
                .map(|(env, a)| {
                    let outcome = match &a.outcome {
                        Outcome::Applied { .. } => "applied".to_string(),
                        Outcome::Duplicate { .. } => "duplicate".to_string(),
                        Outcome::Rejected { code, .. } => format!("rejected:{}", code.as_str()),
                        Outcome::Conflict { .. } => "conflict".to_string(),
                    };
                    let target = env.op.record_ref().1.to_string();
                    AuditEntry::new(AuditAction::SyncOp, Some(actor.user_id), Some(target), outcome)
                        .device(device)
                        .detail(env.op.kind_name())
                })
                .collect()
        };
        Ok(store.apply_ops_audited(&actor, &policy, &ops, chrono::Utc::now(), &audit)?)
    })
    .await??;
    let rejected = answers.iter().filter(|a| matches!(a.outcome, Outcome::Rejected { .. })).count();
    tracing::info!(user = %caller.user.id, ops = n, rejected, "push");
    Ok(Json(PushResponse { v: WIRE_VERSION, answers }))
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
fn scope_fingerprint(grants: &[RoleGrant]) -> String {
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
fn decode_cursor(cursor: &str, fingerprint: &str) -> Result<Option<u64>, ApiError> {
    let bad = || ApiError::bad_request("invalid_cursor", "the cursor is not one this server gave out");
    let mut parts = cursor.splitn(3, '.');
    let (Some("1"), Some(pos), Some(fp)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let pos: u64 = pos.parse().map_err(|_| bad())?;
    Ok((fp == fingerprint).then_some(pos))
}

/// Changes in the caller's jurisdiction since the cursor, one page.
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
    let page = tokio::task::spawn_blocking(move || store.pull(&grants, Some(user_id), after, limit)).await??;
    let changes =
        page.changes.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>().map_err(ApiError::internal)?;
    Ok(Json(PullResponse {
        v: WIRE_VERSION,
        reset,
        changes,
        next_cursor: encode_cursor(page.position, &fingerprint),
        has_more: page.has_more,
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
