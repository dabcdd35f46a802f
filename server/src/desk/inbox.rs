//! The judicial office's inbox on the desk: escalation requests awaiting its
//! decision (those the domain's `may_decide` offers, as the phone's inbox) and
//! legal consultations awaiting review. Each decision is an operation through
//! the phones' path (`decide_escalation`, `review_consultation`).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use fengqiao_domain::apply::{PersonLookup, StateView, ViewError};
use fengqiao_domain::apply_disputes::may_decide;
use fengqiao_domain::disputes::{Escalation, Satisfaction};
use fengqiao_domain::permissions::Action;
use fengqiao_domain::subsidy::{Consultation, ConsultationOutcome};
use fengqiao_domain::wire::{DecideEscalation, Op, ReviewConsultation};
use fengqiao_domain::{EntityKind, Record};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{csrf_field, local_time, page, DeskError, DeskResult, DeskUser};
use crate::http::AppState;
use crate::store::Store;

/// The store read as the domain's view, for the domain's read-only questions
/// (who may decide): records by id; what only a write needs answers nothing.
struct StoreView<'a>(&'a dyn Store);

impl StateView for StoreView<'_> {
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
        self.0.record(kind, id).map_err(|e| ViewError(e.to_string()))
    }
    fn case_block_owner(&self, _year: i32, _block: u32) -> Result<Option<Uuid>, ViewError> {
        Ok(None)
    }
    fn case_number_holder(&self, _case_number: &str) -> Result<Option<Uuid>, ViewError> {
        Ok(None)
    }
    fn lead_visit(&self, _lead: Uuid) -> Result<Option<Uuid>, ViewError> {
        Ok(None)
    }
    fn person(&self, _id: Uuid) -> Result<PersonLookup, ViewError> {
        Ok(PersonLookup::CannotTell)
    }
}

fn code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The inbox: escalations to decide, consultations to review.
pub async fn inbox(State(st): State<AppState>, user: DeskUser) -> DeskResult<Response> {
    let (store, actor) = (st.store.clone(), user.caller.actor.clone());
    let reviews = user.may(Action::ReviewConsultation);
    type Inbox = (Vec<(Escalation, String)>, Vec<Consultation>);
    let (escalations, consultations) =
        tokio::task::spawn_blocking(move || -> Result<Inbox, crate::store::StoreError> {
            let records = crate::store::desk_index::pending(store.as_ref(), &actor.grants)?;
            let view = StoreView(store.as_ref());
            let (mut es, mut cs) = (Vec::new(), Vec::new());
            for r in records {
                match r {
                    Record::Escalation(e) if may_decide(&view, &actor, &e).unwrap_or(false) => {
                        let number = match store.record(EntityKind::Dispute, e.dispute_id)? {
                            Some(Record::Dispute(d)) => d.case_number,
                            _ => String::new(),
                        };
                        es.push((e, number));
                    }
                    Record::Consultation(c) if reviews => {
                        if let Some(scope) = crate::reports::flow::unit_scope(store.as_ref(), c.village_id)? {
                            if actor.may(Action::ReviewConsultation, &scope) {
                                cs.push(c);
                            }
                        }
                    }
                    _ => {}
                }
            }
            es.sort_by_key(|(e, _)| e.requested_at);
            cs.sort_by_key(|c| c.at);
            Ok((es, cs))
        })
        .await??;
    let body = html! {
        h1 { "待办" }
        h2 { "待决定的上报请求（" (escalations.len()) "）" }
        @if escalations.is_empty() { p { "没有。" } }
        @for (e, number) in &escalations {
            div.box.escalation {
                p {
                    a href={ "/desk/cases/" (e.dispute_id) } { (number) } "：" (e.from_level.label_zh()) " → " (e.to_level.label_zh())
                    "，" (e.grade.label_zh()) "，" (local_time(&st, e.requested_at)) "。" (e.note)
                }
                form method="post" action={ "/desk/escalations/" (e.id) "/decide" } {
                    (csrf_field(&user))
                    label { input type="radio" name="decision" value="approve" checked; " 同意上报" }
                    label { input type="radio" name="decision" value="refuse"; " 不同意（须写明意见）" }
                    label { "意见 " input name="comment" size="60" maxlength="500"; }
                    button type="submit" { "决定" }
                }
            }
        }
        @if reviews {
            h2 { "待复核的法律咨询（" (consultations.len()) "）" }
            @if consultations.is_empty() { p { "没有。" } }
            @for c in &consultations {
                div.box.consultation {
                    p { (local_time(&st, c.at)) "：" (c.question) br; "答复：" (c.answer) }
                    form method="post" action={ "/desk/consultations/" (c.id) "/review" } {
                        (csrf_field(&user))
                        label { "处置结果 " select name="outcome" {
                            @for (o, zh) in [(ConsultationOutcome::Solved, "已解决"), (ConsultationOutcome::Referred, "已引导"), (ConsultationOutcome::NotSolved, "未解决")] {
                                option value=(code(&o)) selected[c.outcome == Some(o)] { (zh) }
                            }
                        } }
                        label { "群众满意度 " select name="satisfaction" {
                            @for (s, zh) in [(Satisfaction::Satisfied, "满意"), (Satisfaction::Neutral, "基本满意"), (Satisfaction::Dissatisfied, "不满意")] {
                                option value=(code(&s)) selected[c.satisfaction == s] { (zh) }
                            }
                        } }
                        label { "复核说明 " input name="note" size="60" maxlength="500"; }
                        button type="submit" { "复核" }
                    }
                }
            }
        }
    };
    Ok(page("待办", &user, body))
}

/// The escalation decision form.
#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

/// Decides an escalation (`decide_escalation`).
pub async fn decide(
    State(st): State<AppState>,
    user: DeskUser,
    Path(id): Path<Uuid>,
    Form(f): Form<DecideForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    let approve = match f.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(DeskError::Refused("请选择“同意”或“不同意”".into())),
    };
    let op = Op::DecideEscalation(DecideEscalation { escalation_id: id, approve, comment: f.comment });
    crate::http::subsidy_routes::apply_as(&st, &user.caller, op).await?;
    Ok(Redirect::to("/desk/inbox").into_response())
}

/// The consultation review form.
#[derive(Debug, Deserialize)]
pub struct ConsultationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    satisfaction: String,
    #[serde(default)]
    note: String,
}

/// Reviews a consultation (`review_consultation`).
pub async fn review_consultation(
    State(st): State<AppState>,
    user: DeskUser,
    Path(id): Path<Uuid>,
    Form(f): Form<ConsultationForm>,
) -> DeskResult<Response> {
    user.check_csrf(&f.csrf)?;
    let parse = |s: &str| serde_json::Value::String(s.to_string());
    let outcome: ConsultationOutcome =
        serde_json::from_value(parse(&f.outcome)).map_err(|_| DeskError::Refused("请选择处置结果".into()))?;
    let satisfaction: Satisfaction =
        serde_json::from_value(parse(&f.satisfaction)).map_err(|_| DeskError::Refused("请选择满意度".into()))?;
    let op = Op::ReviewConsultation(ReviewConsultation { consultation_id: id, outcome, satisfaction, note: f.note });
    crate::http::subsidy_routes::apply_as(&st, &user.caller, op).await?;
    Ok(Redirect::to("/desk/inbox").into_response())
}
