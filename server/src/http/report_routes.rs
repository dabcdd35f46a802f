//! `/v1/reports/*`: reports in JSON, CSV or xlsx (by `format=` or `Accept`).

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fengqiao_domain::wire::ErrorBody;
use serde::Deserialize;
use uuid::Uuid;

use super::auth_routes::Authed;
use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::reports::flow::{flow_rows, narrowed_grants, FlowRow, HEADERS};
use crate::reports::{render, Month};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// application/json
    Json,
    /// text/csv (UTF-8 with BOM)
    Csv,
    /// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
    Xlsx,
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Picks the format: `format=` wins, then `Accept`, then JSON.
pub fn negotiate(format: Option<&str>, headers: &HeaderMap) -> Result<Format, ApiError> {
    match format {
        Some("json") => return Ok(Format::Json),
        Some("csv") => return Ok(Format::Csv),
        Some("xlsx") => return Ok(Format::Xlsx),
        Some(_) => return Err(ApiError::bad_request("invalid_format", "format: json, csv, html or xlsx")),
        None => {}
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(if accept.contains("spreadsheetml") {
        Format::Xlsx
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    })
}

/// Query of the flow-table export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FlowQuery {
    /// Village or town id.
    pub unit: Uuid,
    /// `YYYY-MM` in the county's zone.
    pub month: String,
    /// `json`, `csv` or `xlsx` (else by `Accept`).
    pub format: Option<String>,
}

fn file(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    (StatusCode::OK, h, bytes).into_response()
}

/// The dispute flow table (流向表) of a village or town for a month.
#[utoipa::path(get, path = "/v1/reports/flow", tag = "reports", params(FlowQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<FlowRow>, description = "JSON rows, or CSV / xlsx"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn flow(
    State(st): State<AppState>,
    Authed(caller): Authed,
    headers: HeaderMap,
    query: Result<Query<FlowQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let format = negotiate(q.format.as_deref(), &headers)?;
    let month = Month::parse(&q.month).ok_or_else(|| ApiError::bad_request("invalid_month", "month: YYYY-MM"))?;
    let zone: chrono_tz::Tz = st.policy.county.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let (from, to) = month.range(zone).ok_or_else(|| ApiError::bad_request("invalid_month", "month: YYYY-MM"))?;
    let (store, policy, grants, unit) = (st.store.clone(), st.policy.clone(), caller.user.grants.clone(), q.unit);
    let rows = tokio::task::spawn_blocking(move || -> Result<Option<Vec<FlowRow>>, crate::store::StoreError> {
        let narrowed = narrowed_grants(store.as_ref(), &grants, unit)?;
        if narrowed.is_empty() {
            return Ok(None);
        }
        flow_rows(store.as_ref(), &policy, &narrowed, from, to).map(Some)
    })
    .await??
    .ok_or_else(ApiError::not_found)?;
    tracing::info!(user = %caller.user.id, rows = rows.len(), "flow table exported");
    let name = format!("flow-{}-{:04}-{:02}", unit, month.year, month.month);
    if format == Format::Json {
        return Ok(Json(rows).into_response());
    }
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.cells().to_vec()).collect();
    send_table(format, "流向表", &name, &HEADERS, &cells)
}

/// Sends a table as CSV or xlsx (JSON is the caller's own shape).
pub fn send_table(
    format: Format,
    sheet: &str,
    name: &str,
    headers: &[&str],
    cells: &[Vec<String>],
) -> ApiResult<Response> {
    Ok(match format {
        Format::Xlsx => {
            file(render::xlsx(sheet, headers, cells).map_err(ApiError::internal)?, XLSX, &format!("{name}.xlsx"))
        }
        _ => file(
            render::csv(headers, cells).map_err(ApiError::internal)?,
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
        ),
    })
}

/// Query of the monthly report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MonthlyQuery {
    /// Village, town or county id.
    pub unit: Uuid,
    /// `YYYY-MM` in the county's zone.
    pub month: String,
    /// `json`, `html` or `xlsx` (else by `Accept`).
    pub format: Option<String>,
}

/// The monthly analysis report (月度排查问题研判报告) as JSON, HTML (printable,
/// SVG charts) or xlsx.
#[utoipa::path(get, path = "/v1/reports/monthly", tag = "reports", params(MonthlyQuery), security(("bearer" = [])),
    responses((status = 200, body = crate::reports::monthly::MonthlyReport, description = "JSON, or HTML / xlsx"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn monthly(
    State(st): State<AppState>,
    Authed(caller): Authed,
    headers: HeaderMap,
    query: Result<Query<MonthlyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let html = q.format.as_deref() == Some("html") || (q.format.is_none() && accept.contains("text/html"));
    let format = if html { Format::Json } else { negotiate(q.format.as_deref(), &headers)? };
    let month = Month::parse(&q.month).ok_or_else(|| ApiError::bad_request("invalid_month", "month: YYYY-MM"))?;
    let (store, policy, grants, unit) = (st.store.clone(), st.policy.clone(), caller.user.grants.clone(), q.unit);
    let report = tokio::task::spawn_blocking(
        move || -> Result<Option<crate::reports::monthly::MonthlyReport>, crate::store::StoreError> {
            let Some(fengqiao_domain::Record::Unit(u)) = store.record(fengqiao_domain::EntityKind::Unit, unit)? else {
                return Ok(None);
            };
            let mut scope = vec![u.id];
            let mut next = u.parent;
            while let Some(id) = next.take() {
                if let Some(fengqiao_domain::Record::Unit(p)) = store.record(fengqiao_domain::EntityKind::Unit, id)? {
                    scope.push(p.id);
                    next = p.parent;
                }
            }
            let readers = crate::reports::monthly::READERS;
            if !grants.iter().any(|g| readers.contains(&g.role) && fengqiao_domain::org::covers(g.unit_id, &scope)) {
                return Ok(None);
            }
            crate::reports::monthly::monthly_report(store.as_ref(), &policy, &u, month).map(Some)
        },
    )
    .await??
    .ok_or_else(ApiError::not_found)?;
    if html {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        return Ok((StatusCode::OK, h, crate::reports::html::render(&report)).into_response());
    }
    if format == Format::Json {
        return Ok(Json(report).into_response());
    }
    let name = format!("monthly-{}-{}", report.unit_id, report.month);
    send_table(format, "月度研判", &name, &["项目", "数值"], &crate::reports::html::table(&report))
}
