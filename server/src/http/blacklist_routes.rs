//! `/v1/reports/blacklist`: the dishonesty list (失信名单) of a village or town,
//! as JSON or CSV (every text cell neutralised, `reports/render.rs`).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fengqiao_domain::wire::ErrorBody;
use serde::Deserialize;
use uuid::Uuid;

use super::auth_routes::Authed;
use super::error::{ApiError, ApiResult};
use super::report_routes::{negotiate, send_table, Format};
use super::AppState;
use crate::reports::blacklist::{blacklist_rows, may_read, unit_and_scope, BlacklistRow, Refused, HEADERS};

/// Query of the dishonesty list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BlacklistQuery {
    /// Village or town id.
    pub unit: Uuid,
    /// `json` or `csv` (else by `Accept`).
    pub format: Option<String>,
}

/// The dishonesty list (失信名单) of a village or town as of now: households
/// with an unrestored violation, recorded under rules the judicial office had
/// reviewed as lawful, whose item puts them on the list and whose correction
/// period is over. A village's cadres read their village's; the town's judicial
/// office and committee their town's and its villages'. Any other role is
/// refused 403 `role_not_allowed`; a unit outside the caller's (or not a village
/// or town) answers 404.
#[utoipa::path(get, path = "/v1/reports/blacklist", tag = "reports", params(BlacklistQuery), security(("bearer" = [])),
    responses((status = 200, description = "JSON rows, or CSV", content(
            (Vec<BlacklistRow> = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn blacklist(
    State(st): State<AppState>,
    Authed(caller): Authed,
    headers: HeaderMap,
    query: Result<Query<BlacklistQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let format = negotiate(q.format.as_deref(), &headers, &[Format::Json, Format::Csv])?;
    let zone = st.policy.zone();
    let (store, policy, grants, unit) = (st.store.clone(), st.policy.clone(), caller.user.grants.clone(), q.unit);
    let now = chrono::Utc::now();
    let rows =
        tokio::task::spawn_blocking(move || -> Result<Result<Vec<BlacklistRow>, Refused>, crate::store::StoreError> {
            let Some((u, scope)) = unit_and_scope(store.as_ref(), unit)? else { return Ok(Err(Refused::Unit)) };
            if let Err(r) = may_read(&grants, &u, &scope) {
                return Ok(Err(r));
            }
            blacklist_rows(store.as_ref(), &policy, unit, now, zone).map(Ok)
        })
        .await??
        .map_err(|r| match r {
            Refused::Role => ApiError::new(
                StatusCode::FORBIDDEN,
                "role_not_allowed",
                "失信名单只由本村村干部查看本村、镇司法所和镇综合调委会查看本镇",
            ),
            Refused::Unit => ApiError::not_found(),
        })?;
    tracing::info!(user = %caller.user.id, rows = rows.len(), "dishonesty list read");
    match format {
        Format::Json => Ok(Json(rows).into_response()),
        _ => {
            let cells: Vec<_> = rows.iter().map(BlacklistRow::cells).collect();
            send_table(format, "失信名单", &format!("blacklist-{unit}"), &HEADERS, &cells)
        }
    }
}
