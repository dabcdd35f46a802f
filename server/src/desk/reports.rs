//! Reports on the desk: the monthly analysis report (with its village ranking)
//! and the flow table of any unit the user may read reports of, as the API's
//! printable HTML pages, through the API's own checks
//! ([`crate::http::report_routes::monthly_for`], [`crate::http::report_routes::flow_for`]).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use fengqiao_domain::permissions::{Action, Actor};
use fengqiao_domain::{EntityKind, Record};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{html_answer, page, DeskError, DeskResult, DeskUser};
use crate::http::report_routes::{flow_for, monthly_for};
use crate::http::AppState;
use crate::reports::Month;

/// Query of the report page.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    kind: String,
}

/// The units whose reports the user may read (with their names).
async fn units_in_reach(st: &AppState, actor: Actor) -> DeskResult<Vec<(Uuid, String)>> {
    let store = st.store.clone();
    Ok(tokio::task::spawn_blocking(move || -> Result<_, crate::store::StoreError> {
        let mut out = Vec::new();
        for r in store.records_of_kind(EntityKind::Unit)? {
            let Record::Unit(u) = r else { continue };
            let Some(scope) = crate::reports::flow::unit_scope(store.as_ref(), u.id)? else { continue };
            if actor.may(Action::ReadReports, &scope) {
                out.push((u.id, u.name));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    })
    .await??)
}

/// The report chooser, or (with `unit`, `month` and `kind`) the report itself.
pub async fn reports(State(st): State<AppState>, user: DeskUser, Query(q): Query<ReportQuery>) -> DeskResult<Response> {
    if !user.may(Action::ReadReports) {
        return Err(DeskError::NotFound);
    }
    if q.unit.is_empty() {
        let units = units_in_reach(&st, user.caller.actor.clone()).await?;
        let this_month = chrono::Utc::now().with_timezone(&st.policy.zone()).format("%Y-%m").to_string();
        let body = html! {
            h1 { "月度研判报告与流向表" }
            form.box method="get" action="/desk/reports" {
                label { "单位 " select name="unit" { @for (id, n) in &units { option value=(id) { (n) } } } }
                label { "月份 " input name="month" value=(this_month) pattern="[0-9]{4}-[0-9]{2}" required; }
                label { input type="radio" name="kind" value="monthly" checked; " 月度研判报告（含村排名）" }
                label { input type="radio" name="kind" value="flow"; " 流向表" }
                button type="submit" { "查看" }
            }
        };
        return Ok(page("报告", &user, body));
    }
    let unit = Uuid::parse_str(&q.unit).map_err(|_| DeskError::NotFound)?;
    let month = Month::parse(&q.month).ok_or_else(|| DeskError::Refused("月份须为 YYYY-MM".into()))?;
    let (store, policy, grants, me) =
        (st.store.clone(), st.policy.clone(), user.caller.user.grants.clone(), user.caller.user.id);
    let zone = st.policy.zone();
    let html = match q.kind.as_str() {
        "flow" => {
            let (from, to) = month.range(zone).ok_or_else(|| DeskError::Refused("月份须为 YYYY-MM".into()))?;
            let (rows, name) =
                tokio::task::spawn_blocking(move || flow_for(store.as_ref(), &policy, &grants, unit, from, to))
                    .await??
                    .ok_or(DeskError::NotFound)?;
            crate::reports::html::flow_page(&name, &q.month, &rows)
        }
        _ => {
            let now = chrono::Utc::now();
            let report =
                tokio::task::spawn_blocking(move || monthly_for(store.as_ref(), &policy, me, grants, unit, month, now))
                    .await??
                    .ok_or(DeskError::NotFound)?;
            crate::reports::html::render(&report, zone)
        }
    };
    Ok(html_answer(StatusCode::OK, html))
}
