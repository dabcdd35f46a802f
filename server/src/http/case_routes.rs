//! `/v1/cases/*`: case-number blocks for offline numbering.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Datelike, Utc};
use fengqiao_domain::permissions::{any_may, Action};
use fengqiao_domain::wire::{CaseBlock, ErrorBody};

use super::auth_routes::Authed;
use super::error::{ApiError, ApiResult};
use super::AppState;

/// Reserve a block of case numbers for this user (phones keep one or two spare so
/// they can number disputes offline without collisions). Refused `409
/// too_many_blocks` while the user holds the policy's
/// `disputes.max_open_case_blocks` outstanding blocks of the year (a block is
/// outstanding while some of its numbers are not yet used by an accepted
/// dispute): a phone that still holds numbers simply keeps using them.
#[utoipa::path(post, path = "/v1/cases/blocks", tag = "disputes", security(("bearer" = [])),
    responses((status = 201, body = CaseBlock), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "too_many_blocks: as many outstanding blocks as the policy allows")))]
pub async fn reserve_block(
    State(st): State<AppState>,
    Authed(caller): Authed,
) -> ApiResult<(StatusCode, Json<CaseBlock>)> {
    let handles = any_may(&caller.user.grants, Action::HandleDispute);
    if !handles {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "role_not_allowed",
            "权限：您的角色不上报纠纷，不能领取案件编号",
        ));
    }
    let year = Utc::now().with_timezone(&st.policy.zone()).year();
    let (store, policy) = (st.store.clone(), st.policy.clone());
    let owner = caller.user.id;
    let block = tokio::task::spawn_blocking(move || store.reserve_case_block(owner, year, &policy)).await??;
    tracing::info!(user = %owner, year, block, "case-number block reserved");
    Ok((StatusCode::CREATED, Json(CaseBlock { year, block, size: st.policy.disputes.case_block_size })))
}
