//! Deciding an operation: the sans-I/O heart of sync.
//!
//! A store backend opens its write transaction, wraps it as a [`StateView`], calls
//! [`decide`], and executes the returned [`Effect`]s together with the op-id record
//! — so every backend applies exactly the same rules.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::model::permissions::{Action, Actor, Standing};
use crate::model::records::{EntityKind, Record};
use crate::policy::Policy;
use crate::wire::rejection::{Rejection, RejectionCode};
use crate::wire::{Op, OpEnvelope};
use crate::WIRE_VERSION;

use crate::decide::view::not_in_jurisdiction;
pub use crate::decide::view::{
    household_scope, known_scope, record_scope, unit_scope, Effect, PersonFacts, PersonLookup, StateView, Verdict,
    ViewError, MAX_DEPTH,
};

/// Decides one operation for an authenticated actor at server time `now`.
/// `Err(_)` means storage failed: abort the transaction.
pub fn decide(
    env: &OpEnvelope,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
    now: DateTime<Utc>,
) -> Result<Verdict, ViewError> {
    if env.author != actor.user_id {
        return Ok(Verdict::Reject(Rejection::new(
            RejectionCode::AuthorMismatch,
            "操作人：这条记录是另一位用户做的，不能用您的账号提交",
        )));
    }
    if env.v > WIRE_VERSION {
        return Ok(Verdict::Reject(Rejection::new(
            RejectionCode::UnsupportedVersion,
            format!(
                "应用版本：这条记录来自更新版本的应用（格式 {}，服务器只认到 {}），请等县里升级服务器后再同步",
                env.v, WIRE_VERSION
            ),
        )));
    }
    // The op's own fields first (lengths, visible text, dates): the same check
    // on the phone and on the server.
    if let Err(r) = env.op.validate(policy) {
        return Ok(Verdict::Reject(r));
    }
    let verdict = match &env.op {
        Op::RecordVisit(visit) => decide_record_visit(env, actor, policy, view, visit).map(Verdict::from),
        Op::AttachPhoto(att) => decide_attach_photo(env, actor, policy, view, att).map(Verdict::from),
        Op::ReviewCaseFile(_)
        | Op::RecordConsultation(_)
        | Op::ReviewConsultation(_)
        | Op::CreatePaymentBatch(_)
        | Op::MarkBatchPaid(_)
        | Op::RejectSubsidy(_) => crate::decide::apply_subsidy::decide(env, &env.op, actor, policy, view, now),
        Op::SetVillageRules(_)
        | Op::ReviewVillageRules(_)
        | Op::RecordViolation(_)
        | Op::RestoreHousehold(_)
        | Op::FileScreening(_)
        | Op::RecordCommitment(_) => crate::decide::apply_prevent::decide(env, &env.op, actor, policy, view, now),
        other => crate::decide::apply_disputes::decide(env, other, actor, policy, view, now),
    }?;
    lost_race(env, view, verdict)
}

/// The existing records whose state an operation depends on: a colleague's op
/// changing one of them can make this one lose.
pub fn acts_on(view: &dyn StateView, op: &Op) -> Result<Vec<(EntityKind, Uuid)>, ViewError> {
    let dispute = |id: Uuid| vec![(EntityKind::Dispute, id)];
    Ok(match op {
        Op::CloseDispute(c) => dispute(c.dispute_id),
        Op::RequestEscalation(e) => dispute(e.dispute_id),
        Op::DecideEscalation(d) => vec![(EntityKind::Escalation, d.escalation_id)],
        Op::RecordSession(m) => dispute(m.dispute_id),
        Op::RegradeDispute(r) => dispute(r.dispute_id),
        Op::RecordAgreement(a) => dispute(a.dispute_id),
        Op::RecordFollowUp(f) => dispute(f.dispute_id),
        Op::RecordConfirmation(j) => {
            vec![(EntityKind::Dispute, j.dispute_id), (EntityKind::Agreement, j.agreement_id)]
        }
        // A review settles the case's subsidies, which another review may have settled first.
        Op::ReviewCaseFile(r) => {
            let mut on = dispute(r.dispute_id);
            if let Some(Record::Dispute(d)) = view.get(EntityKind::Dispute, r.dispute_id)? {
                on.extend(d.payees.iter().map(|p| (EntityKind::Subsidy, crate::model::subsidy::subsidy_id(d.id, *p))));
            }
            on
        }
        Op::CreatePaymentBatch(b) => b.subsidy_ids.iter().map(|id| (EntityKind::Subsidy, *id)).collect(),
        Op::MarkBatchPaid(b) => vec![(EntityKind::PaymentBatch, b.batch_id)],
        Op::RejectSubsidy(r) => vec![(EntityKind::Subsidy, r.subsidy_id)],
        // a review settles the consultation's subsidy, which the county may have batched first
        Op::ReviewConsultation(r) => {
            let mut on = vec![(EntityKind::Consultation, r.consultation_id)];
            if let Some(Record::Consultation(c)) = view.get(EntityKind::Consultation, r.consultation_id)? {
                on.push((EntityKind::Subsidy, crate::model::subsidy::subsidy_id(c.id, c.advisor)));
            }
            on
        }
        Op::SetVillageRules(r) => vec![(EntityKind::VillageRules, r.id)],
        Op::ReviewVillageRules(r) => vec![(EntityKind::VillageRules, crate::model::prevent::rules_id(r.village_id))],
        Op::RestoreHousehold(r) => vec![(EntityKind::Violation, r.violation_id)],
        Op::RecordVisit(_)
        | Op::AttachPhoto(_)
        | Op::ReportDispute(_)
        | Op::RecordConsultation(_)
        | Op::RecordViolation(_)
        | Op::FileScreening(_)
        | Op::RecordCommitment(_) => Vec::new(),
    })
}

/// Tells a lost race from a plain invalid request, for every operation alike:
/// a refusal for the state of a record the op acts on ([`acts_on`]) or for
/// who may act on it now (the level moved on) is a conflict carrying that record
/// when it changed after the phone last pulled (`env.seen`) — a colleague's op
/// got there first. A refusal the phone could have known of stays a rejection.
fn lost_race(env: &OpEnvelope, view: &dyn StateView, verdict: Verdict) -> Result<Verdict, ViewError> {
    let (Verdict::Reject(r), Some(seen)) = (&verdict, env.seen) else { return Ok(verdict) };
    if !matches!(r.code, RejectionCode::InvalidState | RejectionCode::RoleNotAllowed) {
        return Ok(verdict);
    }
    for (kind, id) in acts_on(view, &env.op)? {
        if view.version(kind, id)?.is_some_and(|v| v > seen) {
            if let Some(current) = view.get(kind, id)? {
                return Ok(Verdict::Conflict {
                    message: format!("这条记录已被他人先一步改动（冲突，以服务器上的现状为准）：{}", r.message),
                    current: Box::new(current),
                });
            }
        }
    }
    Ok(verdict)
}

type Decision = Result<Result<Vec<Effect>, Rejection>, ViewError>;

fn decide_record_visit(
    env: &OpEnvelope,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
    visit: &crate::model::records::Visit,
) -> Decision {
    let mut visit = visit.clone();
    visit.visitor_id = env.author;
    if let Err(r) = visit.validate(policy) {
        return Ok(Err(r));
    }
    // placed by the household's group, or by the unit where the body stands
    let (unit, what) = match visit.target() {
        crate::model::visit_target::VisitTarget::Household(id) => match view.get(EntityKind::Household, id)? {
            Some(Record::Household(h)) => (h.group_id, "农户"),
            _ => return Ok(Err(not_in_jurisdiction("农户"))),
        },
        crate::model::visit_target::VisitTarget::Body(b) => (b.unit_id, "走访对象所在的村或组"),
    };
    let Some(scope) = unit_scope(view, unit)? else {
        return Ok(Err(not_in_jurisdiction(what)));
    };
    if let Some(r) = refuse_unless_allowed(actor, Action::RecordVisit, &scope, what) {
        return Ok(Err(r));
    }
    visit.group_id = Some(unit);
    put_new(view, Record::Visit(visit), scope, "走访记录")
}

fn decide_attach_photo(
    env: &OpEnvelope,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
    att: &crate::model::records::Attachment,
) -> Decision {
    let mut att = att.clone();
    att.author = env.author;
    if let Err(r) = att.validate(policy) {
        return Ok(Err(r));
    }
    let Some(target) = view.get(att.target_kind, att.target_id)? else {
        return Ok(Err(not_in_jurisdiction("记录")));
    };
    let Some(scope) = record_scope(view, &target)? else {
        return Ok(Err(not_in_jurisdiction("记录")));
    };
    if !actor.may_see(target.visibility_kind(), &scope) {
        return Ok(Err(not_in_jurisdiction("记录")));
    }
    let Some(action) = Action::writing(att.target_kind) else {
        return Ok(Err(Rejection::new(RejectionCode::RoleNotAllowed, "照片：这类记录不能附照片")));
    };
    if let Some(r) = refuse_unless_allowed(actor, action, &scope, "记录") {
        return Ok(Err(r));
    }
    // A photo filed as a checklist item of a dispute's case file.
    let dispute_id = match (&att.file_item, &target) {
        (Some(_), Record::Dispute(d)) => Some(d.id),
        (Some(_), other) => other.dispute_id(),
        (None, _) => None,
    };
    let mut effects = match put_new(view, Record::Attachment(att.clone()), scope.clone(), "照片")? {
        Ok(e) => e,
        Err(r) => return Ok(Err(r)),
    };
    if let (Some(id), Some(item), false) = (dispute_id, &att.file_item, effects.is_empty()) {
        if let Some(Record::Dispute(mut d)) = view.get(EntityKind::Dispute, id)? {
            d.case_file.push(crate::model::subsidy::FileItem {
                item: item.clone(),
                kind: EntityKind::Attachment,
                id: att.id,
            });
            effects.push(Effect::Put { record: Record::Dispute(d), scope });
        }
    }
    Ok(Ok(effects))
}

/// `None` if allowed, else the rejection (outside and unknown look the same).
fn refuse_unless_allowed(actor: &Actor, action: Action, scope: &[Uuid], what: &str) -> Option<Rejection> {
    match actor.standing(action, scope) {
        Standing::Allowed => None,
        Standing::RoleNotAllowed => {
            Some(Rejection::new(RejectionCode::RoleNotAllowed, "权限：您的角色不能在这里办理此事"))
        }
        Standing::OutsideJurisdiction => Some(not_in_jurisdiction(what)),
    }
}

/// A record created by an op: new, or an identical repeat (no effect), or a
/// different record under a taken id (refused).
pub(crate) fn put_new(view: &dyn StateView, record: Record, scope: Vec<Uuid>, what: &str) -> Decision {
    if let Some(existing) = view.get(record.kind(), record.id())? {
        return Ok(if existing == record {
            Ok(vec![])
        } else {
            Err(Rejection::new(
                RejectionCode::IdConflict,
                format!("记录编号：已有一条编号相同但内容不同的{what}，请更新应用后重试"),
            ))
        });
    }
    Ok(Ok(vec![Effect::Put { record, scope }]))
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
