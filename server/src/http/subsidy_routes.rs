//! `/v1/subsidies/*`: my subsidies, one subsidy, the county ledger, payment
//! batches; `/v1/consultations/{id}/review`: the judicial office's review of a
//! legal consultation, which prices the advisor's subsidy.
//! State changes go through the same operations as phones push.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use fengqiao_domain::disputes::Satisfaction;
use fengqiao_domain::permissions::{any_may, Action};
use fengqiao_domain::subsidy::ConsultationOutcome;
use fengqiao_domain::wire::{
    CreatePaymentBatch, ErrorBody, MarkBatchPaid, Op, OpEnvelope, Outcome, ReviewConsultation,
};
use fengqiao_domain::{EntityKind, Record, WIRE_VERSION};
use serde::Deserialize;
use uuid::Uuid;

use super::auth_routes::Authed;
use super::error::{ApiError, ApiResult};
use super::report_routes::{negotiate, send_table, Format};
use super::AppState;
use crate::auth::service::Caller;
use crate::reports::subsidies::{
    ledger_cells, lines, payee_lines, subsidies, totals, MySubsidies, SubsidyLine, LEDGER_HEADERS,
};
use crate::store::{AuditAction, AuditEntry};

/// The caller's own subsidies, with totals by month and status.
#[utoipa::path(get, path = "/v1/subsidies/mine", tag = "subsidies", security(("bearer" = [])),
    responses((status = 200, body = MySubsidies), (status = 401, body = ErrorBody)))]
pub async fn mine(State(st): State<AppState>, Authed(caller): Authed) -> ApiResult<Json<MySubsidies>> {
    let (store, policy, me) = (st.store.clone(), st.policy.clone(), caller.user.id);
    let items = tokio::task::spawn_blocking(move || subsidies(store.as_ref(), &[], Some(me))).await??;
    let totals = totals(&items, &st.policy);
    Ok(Json(MySubsidies { items: payee_lines(items, Utc::now(), &policy), totals }))
}

/// One subsidy: to its payee and to the county that pays it; 404 to anyone else.
#[utoipa::path(get, path = "/v1/subsidies/{id}", tag = "subsidies", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "subsidy id")),
    responses((status = 200, body = SubsidyLine), (status = 404, body = ErrorBody)))]
pub async fn one(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<SubsidyLine>> {
    let store = st.store.clone();
    let rec = tokio::task::spawn_blocking(move || store.record(EntityKind::Subsidy, id)).await??;
    let Some(Record::Subsidy(s)) = rec else { return Err(ApiError::not_found()) };
    let county = any_may(&caller.user.grants, Action::PaySubsidies);
    if s.payee != caller.user.id && !county {
        return Err(ApiError::not_found());
    }
    let mut l = lines(vec![s], Utc::now(), &st.policy);
    l.pop().map(Json).ok_or_else(ApiError::not_found)
}

fn county_admin(caller: &Caller) -> ApiResult<()> {
    if any_may(&caller.user.grants, Action::PaySubsidies) {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// Query of the ledger.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// `json`, `csv` or `xlsx` (else by `Accept`).
    pub format: Option<String>,
}

/// The county's subsidy ledger, overdue first (county admin).
#[utoipa::path(get, path = "/v1/subsidies/ledger", tag = "subsidies", params(LedgerQuery), security(("bearer" = [])),
    responses((status = 200, description = "JSON, or CSV / xlsx", content((Vec<SubsidyLine> = "application/json"),
            (String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = ErrorBody)))]
pub async fn ledger(
    State(st): State<AppState>,
    Authed(caller): Authed,
    headers: HeaderMap,
    query: Result<Query<LedgerQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    county_admin(&caller)?;
    let format = negotiate(q.format.as_deref(), &headers, &[Format::Json, Format::Csv, Format::Xlsx])?;
    let (store, policy, grants) = (st.store.clone(), st.policy.clone(), caller.user.grants.clone());
    let (rows, cells) = tokio::task::spawn_blocking(move || -> Result<_, crate::store::StoreError> {
        let rows = lines(subsidies(store.as_ref(), &grants, None)?, Utc::now(), &policy);
        let cells = ledger_cells(store.as_ref(), &rows, &policy)?;
        Ok((rows, cells))
    })
    .await??;
    if format == Format::Json {
        return Ok(Json(rows).into_response());
    }
    send_table(format, "补贴台账", "subsidy-ledger", &LEDGER_HEADERS, &cells)
}

/// Applies one operation as the caller (the same path as a phone's push, with
/// the same audit entry: who, what kind, which record, how it ended).
pub(crate) async fn apply_as(st: &AppState, caller: &Caller, op: Op) -> ApiResult<()> {
    let env = OpEnvelope {
        op_id: Uuid::now_v7(),
        v: WIRE_VERSION,
        author: caller.user.id,
        created_at: Utc::now(),
        op,
        seen: None,
    };
    let (store, policy, actor) = (st.store.clone(), st.policy.clone(), caller.actor.clone());
    let answers = tokio::task::spawn_blocking(move || {
        let audit = |answers: &[fengqiao_domain::wire::OpAnswer]| -> Vec<AuditEntry> {
            answers
                .iter()
                .map(|a| {
                    let outcome = match &a.outcome {
                        Outcome::Applied { .. } => "applied".to_string(),
                        Outcome::Duplicate { .. } => "duplicate".to_string(),
                        Outcome::Rejected { code, .. } => format!("rejected:{}", code.as_str()),
                        Outcome::Conflict { .. } => "conflict".to_string(),
                    };
                    let target = env.op.record_ref().1.to_string();
                    AuditEntry::new(AuditAction::SyncOp, Some(actor.user_id), Some(target), outcome)
                        .detail(env.op.kind_name())
                })
                .collect()
        };
        store.apply_ops_audited(&actor, &policy, std::slice::from_ref(&env), Utc::now(), &audit)
    })
    .await??;
    match answers.into_iter().next().map(|a| a.outcome) {
        Some(Outcome::Applied { .. }) | Some(Outcome::Duplicate { .. }) => Ok(()),
        Some(Outcome::Rejected { code, message }) => {
            let status = if code == fengqiao_domain::RejectionCode::NotInJurisdiction {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Err(ApiError::new(status, code.as_str(), message))
        }
        Some(Outcome::Conflict { message, .. }) => Err(ApiError::new(StatusCode::CONFLICT, "conflict", message)),
        None => Err(ApiError::internal("no answer for an applied operation")),
    }
}

/// Body of a new batch.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    /// Approved subsidies to pay.
    pub subsidy_ids: Vec<Uuid>,
}

/// Put approved subsidies in a payment batch (county admin).
#[utoipa::path(post, path = "/v1/subsidies/batches", tag = "subsidies", request_body = NewBatch, security(("bearer" = [])),
    responses((status = 201, description = "the batch id"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_batch(
    State(st): State<AppState>,
    Authed(caller): Authed,
    super::error::ApiJson(body): super::error::ApiJson<NewBatch>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    county_admin(&caller)?;
    let id = Uuid::now_v7();
    apply_as(&st, &caller, Op::CreatePaymentBatch(CreatePaymentBatch { id, subsidy_ids: body.subsidy_ids })).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))))
}

/// Body of marking a batch paid.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Paid {
    /// Payment reference (bank transfer number).
    pub payment_ref: String,
}

/// Mark a batch paid (county admin).
#[utoipa::path(post, path = "/v1/subsidies/batches/{id}/paid", tag = "subsidies", request_body = Paid, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "batch id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "the payment reference is empty, too long or only invisible characters")))]
pub async fn mark_paid(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
    super::error::ApiJson(body): super::error::ApiJson<Paid>,
) -> ApiResult<StatusCode> {
    county_admin(&caller)?;
    apply_as(&st, &caller, Op::MarkBatchPaid(MarkBatchPaid { batch_id: id, payment_ref: body.payment_ref })).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of a consultation's review.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationReviewBody {
    /// The reviewed outcome (confirming or correcting the advisor's).
    pub outcome: ConsultationOutcome,
    /// The villager's reviewed satisfaction.
    pub satisfaction: Satisfaction,
    /// The reviewer's note.
    #[serde(default)]
    pub note: String,
}

/// Review a legal consultation (the judicial office of its town): the reviewed
/// outcome and satisfaction price the advisor's subsidy by the policy's
/// `subsidy.consultation_rates` and approve it; until then it pays nothing.
/// A review after the subsidy is batched, paid or rejected is refused (422
/// `invalid_state`); one before re-prices it.
#[utoipa::path(post, path = "/v1/consultations/{id}/review", tag = "subsidies", request_body = ConsultationReviewBody,
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "consultation id")),
    responses((status = 204), (status = 404, body = ErrorBody, description = "no such consultation within the caller's units"),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "not the town's judicial office, the subsidy already batched or paid, or a bad field")))]
pub async fn review_consultation(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
    super::error::ApiJson(body): super::error::ApiJson<ConsultationReviewBody>,
) -> ApiResult<StatusCode> {
    let op = Op::ReviewConsultation(ReviewConsultation {
        consultation_id: id,
        outcome: body.outcome,
        satisfaction: body.satisfaction,
        note: body.note,
    });
    apply_as(&st, &caller, op).await?;
    Ok(StatusCode::NO_CONTENT)
}
