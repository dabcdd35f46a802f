//! `/v1/reports/*`: reports in JSON, CSV, HTML or xlsx (by `format=` or `Accept`).

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
use crate::reports::render::{self, Cell};
use crate::reports::Month;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// application/json
    Json,
    /// text/csv (UTF-8 with BOM)
    Csv,
    /// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
    Xlsx,
    /// text/html (a printable page)
    Html,
}

impl Format {
    /// The `format=` value.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Html => "html",
        }
    }
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The formats of the flow table and the monthly report.
pub const REPORT_FORMATS: &[Format] = &[Format::Json, Format::Csv, Format::Html, Format::Xlsx];

/// Picks one of `offered`: `format=` wins, then `Accept`, then JSON. An unknown
/// or unoffered `format=` is refused, naming exactly the offered ones.
pub fn negotiate(format: Option<&str>, headers: &HeaderMap, offered: &[Format]) -> Result<Format, ApiError> {
    if let Some(f) = format {
        return offered.iter().copied().find(|o| o.name() == f).ok_or_else(|| {
            let names: Vec<&str> = offered.iter().map(|o| o.name()).collect();
            ApiError::bad_request("invalid_format", format!("format: {}", names.join(", ")))
        });
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let by_accept = [("spreadsheetml", Format::Xlsx), ("text/csv", Format::Csv), ("text/html", Format::Html)];
    Ok(by_accept
        .into_iter()
        .find(|(m, f)| accept.contains(m) && offered.contains(f))
        .map(|(_, f)| f)
        .unwrap_or(Format::Json))
}

/// A printable HTML page.
fn html_page(page: String) -> Response {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    (StatusCode::OK, h, page).into_response()
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
    /// `json`, `csv`, `html` or `xlsx` (else by `Accept`).
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

/// The dispute flow table (流向表) of a village or town for a month, as JSON
/// rows, CSV, a printable HTML page or xlsx.
#[utoipa::path(get, path = "/v1/reports/flow", tag = "reports", params(FlowQuery), security(("bearer" = [])),
    responses((status = 200, description = "JSON rows, or CSV / HTML / xlsx", content(
            (Vec<FlowRow> = "application/json"), (String = "text/csv"), (String = "text/html"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn flow(
    State(st): State<AppState>,
    Authed(caller): Authed,
    headers: HeaderMap,
    query: Result<Query<FlowQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let format = negotiate(q.format.as_deref(), &headers, REPORT_FORMATS)?;
    let month = Month::parse(&q.month).ok_or_else(|| ApiError::bad_request("invalid_month", "month: YYYY-MM"))?;
    let zone = st.policy.zone();
    let (from, to) = month.range(zone).ok_or_else(|| ApiError::bad_request("invalid_month", "month: YYYY-MM"))?;
    let (store, policy, grants, unit) = (st.store.clone(), st.policy.clone(), caller.user.grants.clone(), q.unit);
    let (rows, unit_name) =
        tokio::task::spawn_blocking(move || flow_for(store.as_ref(), &policy, &grants, unit, from, to))
            .await??
            .ok_or_else(ApiError::not_found)?;
    tracing::info!(user = %caller.user.id, rows = rows.len(), "flow table exported");
    let name = format!("flow-{}-{:04}-{:02}", unit, month.year, month.month);
    match format {
        Format::Json => Ok(Json(rows).into_response()),
        Format::Html => Ok(html_page(crate::reports::html::flow_page(&unit_name, &q.month, &rows))),
        _ => {
            let cells: Vec<Vec<Cell>> = rows.iter().map(FlowRow::cells).collect();
            send_table(format, "流向表", &name, &HEADERS, &cells)
        }
    }
}

/// Sends a table as CSV or xlsx (JSON and HTML are the caller's own shape).
pub fn send_table(
    format: Format,
    sheet: &str,
    name: &str,
    headers: &[&str],
    cells: &[Vec<Cell>],
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
    /// `json`, `csv`, `html` or `xlsx` (else by `Accept`).
    pub format: Option<String>,
}

/// The monthly analysis report (月度排查问题研判报告) as JSON, CSV, HTML
/// (printable, SVG charts) or xlsx. A month still running is reported as of the
/// time of the request (`as_of`); a past month as of its end.
#[utoipa::path(get, path = "/v1/reports/monthly", tag = "reports", params(MonthlyQuery), security(("bearer" = [])),
    responses((status = 200, description = "JSON, or CSV / HTML / xlsx", content(
            (crate::reports::monthly::MonthlyReport = "application/json"), (String = "text/csv"), (String = "text/html"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn monthly(
    State(st): State<AppState>,
    Authed(caller): Authed,
    headers: HeaderMap,
    query: Result<Query<MonthlyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    let format = negotiate(q.format.as_deref(), &headers, REPORT_FORMATS)?;
    let now = chrono::Utc::now();
    let month = Month::parse(&q.month).ok_or_else(|| ApiError::bad_request("invalid_month", "month: YYYY-MM"))?;
    let (store, policy, grants, unit) = (st.store.clone(), st.policy.clone(), caller.user.grants.clone(), q.unit);
    let report = tokio::task::spawn_blocking(move || {
        monthly_for(store.as_ref(), &policy, caller.user.id, grants, unit, month, now)
    })
    .await??
    .ok_or_else(ApiError::not_found)?;
    let zone = st.policy.zone();
    match format {
        Format::Json => Ok(Json(report).into_response()),
        Format::Html => Ok(html_page(crate::reports::html::render(&report, zone))),
        _ => {
            let name = format!("monthly-{}-{}", report.unit_id, report.month);
            send_table(format, "月度研判", &name, &["项目", "数值"], &crate::reports::html::table(&report, zone))
        }
    }
}

/// The monthly report of `unit` if the caller (`user_id` with `grants`) may read
/// reports there; `None` alike for an unknown unit and one outside their reach.
/// The API's report and the desk's share this check.
pub(crate) fn monthly_for(
    store: &dyn crate::store::Store,
    policy: &fengqiao_domain::policy::Policy,
    user_id: Uuid,
    grants: Vec<fengqiao_domain::RoleGrant>,
    unit: Uuid,
    month: Month,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<crate::reports::monthly::MonthlyReport>, crate::store::StoreError> {
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
    let actor = fengqiao_domain::permissions::Actor { user_id, grants };
    if !actor.may(fengqiao_domain::permissions::Action::ReadReports, &scope) {
        return Ok(None);
    }
    crate::reports::monthly::monthly_report(store, policy, &u, month, now).map(Some)
}

/// The flow table of `unit` between `from` and `to` with the unit's name, if
/// `grants` reach it (narrowed to it); `None` otherwise. The API's export and
/// the desk's page share this check.
pub(crate) fn flow_for(
    store: &dyn crate::store::Store,
    policy: &fengqiao_domain::policy::Policy,
    grants: &[fengqiao_domain::RoleGrant],
    unit: Uuid,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Option<(Vec<FlowRow>, String)>, crate::store::StoreError> {
    let narrowed = narrowed_grants(store, grants, unit)?;
    if narrowed.is_empty() {
        return Ok(None);
    }
    let name = match store.record(fengqiao_domain::EntityKind::Unit, unit)? {
        Some(fengqiao_domain::Record::Unit(u)) => u.name,
        _ => String::new(),
    };
    Ok(Some((flow_rows(store, policy, &narrowed, from, to)?, name)))
}
