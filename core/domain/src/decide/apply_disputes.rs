//! Deciding the dispute operations: report, escalate, decide, record the case
//! file, close. Every accepted move appends an entry to the flow table.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::decide::payees::{check_mediators, is_paid};
use crate::decide::view::{nij, reject, unit_scope, Effect, Out, StateView, Verdict, ViewError};
use crate::model::credit::{all_levels, LevelCredit};
use crate::model::disputes::{Closing, ClosingOutcome, Dispute, Escalation, EscalationDecision, FlowEntry, FlowKind};
use crate::model::ladder::{move_allowed, Level};
use crate::model::permissions::Actor;
use crate::model::records::{EntityKind, Record};
use crate::policy::Policy;
use crate::wire::rejection::{Rejection, RejectionCode};
use crate::wire::{DecideEscalation, Op, OpEnvelope, RegradeDispute};

pub use crate::decide::shared::{acts_as, level_reachable, level_unit, office_for, offices_serving, unit_within};
use crate::decide::shared::{earlier_policy, put_effects, visible_dispute};

/// Whether the actor handles the dispute at its current level (at its handler
/// unit: for the third level, the judicial office it went to).
pub fn handles(actor: &Actor, d: &Dispute, scope: &[Uuid]) -> bool {
    acts_as(actor, d.level.handlers(), &unit_within(scope, d.handler_unit))
}

/// The unit an escalation goes to: the one it names, else (a request made before
/// requests named one) the level's unit.
pub fn target_of(view: &dyn StateView, scope: &[Uuid], e: &Escalation) -> Result<Option<Uuid>, ViewError> {
    match e.to_unit {
        Some(u) => Ok(Some(u)),
        None => level_unit(view, scope, e.to_level),
    }
}

/// Whether the actor may decide an escalation (approver at the target level,
/// not the requester, still undecided and the dispute still where it was asked
/// to move from). The phone's inbox uses this to offer only what will be accepted.
pub fn may_decide(view: &dyn StateView, actor: &Actor, e: &Escalation) -> Result<bool, ViewError> {
    if e.decision.is_some() || e.requested_by == actor.user_id {
        return Ok(false);
    }
    let Some((d, scope)) = visible_dispute(view, actor, e.dispute_id)? else { return Ok(false) };
    if d.level != e.from_level || d.pending_escalation != Some(e.id) {
        return Ok(false);
    }
    let Some(target) = target_of(view, &scope, e)? else { return Ok(false) };
    Ok(acts_as(actor, e.to_level.approvers(), &unit_within(&scope, target)))
}

fn flow(d: &mut Dispute, kind: FlowKind, actor: Uuid, now: DateTime<Utc>, note: String) -> Record {
    d.flow_count += 1;
    Record::FlowEntry(FlowEntry {
        id: crate::new_id(),
        dispute_id: d.id,
        case_number: d.case_number.clone(),
        step: d.flow_count,
        kind,
        level: d.level,
        handler_unit: d.handler_unit,
        actor,
        at: now,
        note,
    })
}

fn puts(scope: &[Uuid], records: Vec<Record>) -> Verdict {
    Verdict::Apply(put_effects(scope, records))
}

pub(crate) fn decide(
    env: &OpEnvelope,
    op: &Op,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
    now: DateTime<Utc>,
) -> Out {
    match op {
        Op::ReportDispute(d) => report(env, actor, policy, view, now, d.clone()),
        Op::RequestEscalation(e) => request(env, actor, view, now, e.clone()),
        Op::DecideEscalation(d) => decide_escalation(env, actor, view, now, d),
        Op::RegradeDispute(r) => regrade(env, actor, policy, view, now, r),
        Op::CloseDispute(c) => {
            let Some((mut d, scope)) = visible_dispute(view, actor, c.dispute_id)? else {
                return nij("纠纷");
            };
            if let Some(v) = refuse_unless_handler(actor, &d, &scope, false) {
                return Ok(v);
            }
            if d.pending_escalation.is_some() {
                return reject(RejectionCode::InvalidState, "结案：这件纠纷有待审批的上报申请，须等审批后才能结案");
            }
            d.closing = Some(Closing {
                outcome: c.outcome,
                note: c.note.clone(),
                closed_by: env.author,
                closed_at: now,
                level: d.level,
            });
            let mut subsidies = Vec::new();
            if c.outcome == ClosingOutcome::Resolved {
                // one case, one subsidy: split across the credited levels, owed to
                // the paid mediators among those credited (with no sessions, the closer)
                if d.credited.is_empty() {
                    d.credited.push(env.author);
                }
                d.payees = paid_among_credited(view, policy, &d, &scope)?;
                let Some(estimate) = crate::model::subsidy::estimate_fen(&d, policy) else {
                    return reject(RejectionCode::InvalidState, crate::decide::view::SUBSIDY_OUT_OF_RANGE);
                };
                let Some(shares) = crate::model::credit::case_payee_shares(&d, estimate, policy) else {
                    return reject(RejectionCode::InvalidState, crate::decide::view::SUBSIDY_OUT_OF_RANGE);
                };
                for (payee, amount_fen) in shares.iter().map(|(p, a)| (p, *a)) {
                    subsidies.push(Effect::Put {
                        record: Record::Subsidy(crate::model::subsidy::Subsidy {
                            id: crate::model::subsidy::subsidy_id(d.id, *payee),
                            dispute_id: Some(d.id),
                            consultation_id: None,
                            case_number: d.case_number.clone(),
                            payee: *payee,
                            amount_fen,
                            status: crate::model::subsidy::SubsidyStatus::Accrued,
                            accrued_at: now,
                            approved_at: None,
                            batch_id: None,
                            paid_at: None,
                            payment_ref: String::new(),
                            reason: String::new(),
                        }),
                        scope: scope.iter().copied().chain([*payee]).collect(),
                    });
                }
            }
            let label = match c.outcome {
                ClosingOutcome::Resolved => "resolved",
                ClosingOutcome::NotResolved => "not resolved",
                ClosingOutcome::ReferredToCourt => "referred to court",
            };
            let entry = flow(&mut d, FlowKind::Closed, env.author, now, format!("{label}: {}", c.note));
            let mut effects = put_effects(&scope, vec![Record::Dispute(d), entry]);
            effects.extend(subsidies);
            Ok(Verdict::Apply(effects))
        }
        Op::RecordSession(m) => {
            // the payees' rule, once the actor may record here at all (else case_record refuses)
            if let Some((d, scope)) = visible_dispute(view, actor, m.dispute_id)? {
                if refuse_unless_handler(actor, &d, &scope, false).is_none() {
                    let mediators = if m.mediators.is_empty() { vec![env.author] } else { m.mediators.clone() };
                    let chain = unit_within(&scope, d.handler_unit);
                    if let Some(r) = check_mediators(view, d.level, d.handler_unit, &chain, &mediators)? {
                        return Ok(Verdict::Reject(r));
                    }
                }
            }
            case_record(env, actor, view, now, m.dispute_id, FlowKind::SessionRecorded, false, |author, d| {
                let mut m = m.clone();
                m.author = author;
                m.level = Some(d.level);
                if m.mediators.is_empty() {
                    m.mediators.push(author);
                }
                for who in &m.mediators {
                    if !d.credited.contains(who) {
                        d.credited.push(*who);
                    }
                }
                m.validate().map(|()| Record::MediationSession(m))
            })
        }
        Op::RecordAgreement(a) => {
            case_record(env, actor, view, now, a.dispute_id, FlowKind::AgreementRecorded, false, |author, _| {
                let mut a = a.clone();
                a.author = author;
                a.validate().map(|()| Record::Agreement(a))
            })
        }
        Op::RecordFollowUp(f) => {
            case_record(env, actor, view, now, f.dispute_id, FlowKind::FollowUpRecorded, true, |author, _| {
                let mut f = f.clone();
                f.author = author;
                f.validate(policy).map(|()| Record::FollowUp(f))
            })
        }
        Op::RecordConfirmation(j) => {
            let agreement = match view.get(EntityKind::Agreement, j.agreement_id)? {
                Some(Record::Agreement(a)) if a.dispute_id == j.dispute_id => a,
                _ => return reject(RejectionCode::InvalidField, "调解协议：这件纠纷没有所选的调解协议"),
            };
            case_record(env, actor, view, now, j.dispute_id, FlowKind::ConfirmationRecorded, true, |author, _| {
                let mut j = j.clone();
                j.author = author;
                j.validate(&agreement, policy).map(|()| Record::JudicialConfirmation(j))
            })
        }
        _ => reject(RejectionCode::InvalidField, crate::decide::view::NOT_THIS_AREA),
    }
}

/// The paid mediators among everyone credited on the dispute, at every level,
/// in ladder order (see [`crate::decide::payees::is_paid`]).
fn paid_among_credited(
    view: &dyn StateView,
    policy: &Policy,
    d: &Dispute,
    scope: &[Uuid],
) -> Result<Vec<Uuid>, ViewError> {
    let mut payees = Vec::new();
    for credit in all_levels(&d.earlier_credit, d.level, &d.credited) {
        let Some(unit) = level_unit(view, scope, credit.level)? else { continue };
        let chain = unit_within(scope, unit);
        for who in &credit.mediators {
            if !payees.contains(who) && is_paid(view, policy, *who, credit.level, unit, &chain)? {
                payees.push(*who);
            }
        }
    }
    Ok(payees)
}

/// `Some(verdict)` refusing an actor who does not handle the dispute at its level
/// (or a closed dispute, unless `after_close` allows resolved ones).
fn refuse_unless_handler(actor: &Actor, d: &Dispute, scope: &[Uuid], after_close: bool) -> Option<Verdict> {
    if !handles(actor, d, scope) {
        return Some(Verdict::Reject(Rejection::new(
            RejectionCode::RoleNotAllowed,
            format!("办理层级：这件纠纷现在由{}办理，其他层级不能办理", d.level.label_zh()),
        )));
    }
    match &d.closing {
        None => None,
        Some(c) if after_close && c.outcome == ClosingOutcome::Resolved => None,
        Some(_) => {
            Some(Verdict::Reject(Rejection::new(RejectionCode::InvalidState, "纠纷状态：这件纠纷已经结案，不能再办理")))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn case_record(
    env: &OpEnvelope,
    actor: &Actor,
    view: &dyn StateView,
    now: DateTime<Utc>,
    dispute_id: Uuid,
    kind: FlowKind,
    after_close: bool,
    build: impl FnOnce(Uuid, &mut Dispute) -> Result<Record, Rejection>,
) -> Out {
    let Some((mut d, scope)) = visible_dispute(view, actor, dispute_id)? else {
        return nij("纠纷");
    };
    if let Some(v) = refuse_unless_handler(actor, &d, &scope, after_close) {
        return Ok(v);
    }
    let record = match build(env.author, &mut d) {
        Ok(r) => r,
        Err(r) => return Ok(Verdict::Reject(r)),
    };
    if let Some(existing) = view.get(record.kind(), record.id())? {
        return Ok(if existing == record {
            Verdict::Apply(vec![])
        } else {
            Verdict::Reject(Rejection::new(
                RejectionCode::IdConflict,
                "记录编号：已有一条编号相同但内容不同的记录，请更新应用后重试",
            ))
        });
    }
    if let Some(item) = file_item_of(&record) {
        d.case_file.push(crate::model::subsidy::FileItem { item: item.into(), kind: record.kind(), id: record.id() });
    }
    let entry = flow(&mut d, kind, env.author, now, String::new());
    Ok(puts(&scope, vec![record, Record::Dispute(d), entry]))
}

/// The checklist item a case record satisfies by itself.
fn file_item_of(r: &Record) -> Option<&'static str> {
    use crate::model::subsidy::items;
    match r {
        Record::Dispute(_) => Some(items::INTAKE_FORM),
        Record::MediationSession(_) => Some(items::MEDIATION_RECORD),
        Record::Agreement(_) => Some(items::AGREEMENT),
        Record::FollowUp(_) => Some(items::FOLLOW_UP_RECORD),
        Record::JudicialConfirmation(_) => Some(items::CONFIRMATION_PAPERS),
        _ => None,
    }
}

fn report(
    env: &OpEnvelope,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
    now: DateTime<Utc>,
    mut d: Dispute,
) -> Out {
    d.reported_by = env.author;
    // judged by the policy in force, and by the one the phone made it under
    // (kept by the server) for what a later policy removed
    let current = policy.version();
    let earlier = earlier_policy(view, policy, &d.policy_version)?;
    if let Err(r) = d.validate_under(policy, earlier.as_ref()) {
        return Ok(Verdict::Reject(r));
    }
    let Some(scope) = unit_scope(view, d.origin_unit)? else {
        return nij("单位");
    };
    if !actor.may_see(EntityKind::Dispute, &scope) {
        return nij("单位");
    }
    // at the third level: the reporter's own office among those serving the town
    let candidates = match d.level {
        Level::JudicialOffice => offices_serving(view, &scope)?,
        level => level_unit(view, &scope, level)?.into_iter().collect(),
    };
    if candidates.is_empty() {
        return reject(RejectionCode::InvalidField, "办理层级：纠纷发生地之上没有这一层级的单位");
    }
    let Some(handler_unit) =
        candidates.into_iter().find(|u| acts_as(actor, d.level.handlers(), &unit_within(&scope, *u)))
    else {
        return reject(RejectionCode::RoleNotAllowed, "权限：您的角色不在这一层级办理本地的纠纷");
    };
    // a cited lead must exist (whether it is unknown or out of reach is not told)
    if let Some(lead) = d.lead_id {
        let visible = match view.lead_visit(lead)? {
            Some(visit) => match view.get(EntityKind::Visit, visit)? {
                Some(v) => {
                    crate::decide::view::record_scope(view, &v)?.is_some_and(|sc| actor.may_see(EntityKind::Visit, &sc))
                }
                None => false,
            },
            None => false,
        };
        if !visible {
            return reject(RejectionCode::NotInJurisdiction, "苗头隐患：所引用的苗头隐患不存在或不在您的辖区内");
        }
    }
    // one case, one code: a number from a block this user reserved, not yet used
    let Some(case) = crate::model::disputes::CaseNumber::parse(&d.case_number) else {
        return reject(RejectionCode::InvalidField, crate::model::disputes::NOT_A_CASE_NUMBER);
    };
    let mut chain = Vec::new();
    for id in &scope {
        if let Some(Record::Unit(u)) = view.get(EntityKind::Unit, *id)? {
            chain.push(u);
        }
    }
    if crate::model::disputes::case_prefix(&chain).as_deref() != Some(case.prefix.as_str()) {
        return reject(RejectionCode::InvalidField, "案件编号：编号前缀不是纠纷发生地的乡镇和村代码");
    }
    // a block's numbers are those of its size when it was reserved, whatever
    // the size of the blocks reserved today
    let size = view.case_block_size(case.year, case.block)?.unwrap_or(crate::model::disputes::MAX_CASE_BLOCK_SIZE);
    if view.case_block_owner(case.year, case.block)? != Some(env.author) || case.index >= size {
        return reject(RejectionCode::InvalidField, "案件编号：这个编号不在您领取的号段内");
    }
    if let Some(holder) = view.case_number_holder(&d.case_number)? {
        if holder != d.id {
            return reject(RejectionCode::IdConflict, "案件编号：这个编号已被另一件纠纷使用");
        }
    }
    if let Some(existing) = view.get(EntityKind::Dispute, d.id)? {
        return Ok(Verdict::Apply(vec![]).keep_if_same(existing, &d));
    }
    d.handler_unit = handler_unit;
    d.level_since = now;
    d.registered_at = now;
    d.policy_version = current;
    d.deadlines = Some(policy.deadlines.clone());
    d.pending_escalation = None;
    d.closing = None;
    d.flow_count = 0;
    d.credited = vec![];
    d.payees = vec![];
    d.deadline_floor = None;
    d.case_file = vec![crate::model::subsidy::FileItem {
        item: crate::model::subsidy::items::INTAKE_FORM.into(),
        kind: EntityKind::Dispute,
        id: d.id,
    }];
    let entry = flow(&mut d, FlowKind::Reported, env.author, now, String::new());
    Ok(puts(&scope, vec![Record::Dispute(d), entry]))
}

impl Verdict {
    /// A repeated report of the same dispute id: no effect if it is the same
    /// report, else an id conflict.
    fn keep_if_same(self, existing: Record, new: &Dispute) -> Verdict {
        match existing {
            Record::Dispute(e)
                if e.case_number == new.case_number && e.reported_by == new.reported_by && e.summary == new.summary =>
            {
                self
            }
            _ => Verdict::Reject(Rejection::new(
                RejectionCode::IdConflict,
                "记录编号：已有一件编号相同但内容不同的纠纷，请更新应用后重试",
            )),
        }
    }
}

fn request(env: &OpEnvelope, actor: &Actor, view: &dyn StateView, now: DateTime<Utc>, mut e: Escalation) -> Out {
    let Some((mut d, scope)) = visible_dispute(view, actor, e.dispute_id)? else {
        return nij("纠纷");
    };
    if let Some(Record::Escalation(existing)) = view.get(EntityKind::Escalation, e.id)? {
        return Ok(if existing.requested_by == env.author && existing.dispute_id == e.dispute_id {
            Verdict::Apply(vec![])
        } else {
            Verdict::Reject(Rejection::new(
                RejectionCode::IdConflict,
                "记录编号：已有一份编号相同但内容不同的上报申请，请更新应用后重试",
            ))
        });
    }
    if let Some(v) = refuse_unless_handler(actor, &d, &scope, false) {
        return Ok(v);
    }
    if let Some(pending) = d.pending_escalation {
        if let Some(current) = view.get(EntityKind::Escalation, pending)? {
            return Ok(Verdict::Conflict {
                message: "上报申请：这件纠纷已有一份待审批的上报申请".into(),
                current: Box::new(current),
            });
        }
    }
    if let Err(m) = move_allowed(d.level, e.to_level, d.grade) {
        return reject(RejectionCode::InvalidField, m);
    }
    let target = if e.to_level == Level::JudicialOffice {
        match office_for(view, &scope, e.to_unit)? {
            Ok(office) => office,
            Err(r) => return Ok(Verdict::Reject(r)),
        }
    } else {
        let Some(unit) = level_unit(view, &scope, e.to_level)? else {
            return reject(RejectionCode::InvalidField, "上报层级：纠纷所在单位之上没有这一层级的单位");
        };
        if e.to_unit.is_some_and(|u| u != unit) {
            return reject(RejectionCode::InvalidField, "受理司法所：只有上报司法所时才可选择受理单位");
        }
        unit
    };
    e.to_unit = Some(target);
    e.from_level = d.level;
    e.requested_by = env.author;
    e.requested_at = now;
    e.grade = d.grade;
    e.decision = None;
    if let Err(r) = e.validate() {
        return Ok(Verdict::Reject(r));
    }
    d.pending_escalation = Some(e.id);
    let note = format!("{} → {}: {}", e.from_level.label_zh(), e.to_level.label_zh(), e.note);
    let entry = flow(&mut d, FlowKind::EscalationRequested, env.author, now, note);
    Ok(puts(&scope, vec![Record::Escalation(e), Record::Dispute(d), entry]))
}

fn decide_escalation(
    env: &OpEnvelope,
    actor: &Actor,
    view: &dyn StateView,
    now: DateTime<Utc>,
    op: &DecideEscalation,
) -> Out {
    let Some(Record::Escalation(mut e)) = view.get(EntityKind::Escalation, op.escalation_id)? else {
        return nij("上报申请");
    };
    let Some((mut d, scope)) = visible_dispute(view, actor, e.dispute_id)? else {
        return nij("上报申请");
    };
    let Some(target) = target_of(view, &scope, &e)? else {
        return reject(RejectionCode::InvalidState, "上报层级：申请上报的层级没有对应的单位");
    };
    if !acts_as(actor, e.to_level.approvers(), &unit_within(&scope, target)) {
        return reject(RejectionCode::RoleNotAllowed, format!("审批权限：上报到{}须由该级审批", e.to_level.label_zh()));
    }
    if e.requested_by == env.author {
        return reject(RejectionCode::SelfApproval, "审批：不能审批自己提出的上报申请");
    }
    if let Some(decision) = &e.decision {
        let who = if decision.approved { "批准" } else { "驳回" };
        return Ok(Verdict::Conflict {
            message: format!("审批：这份上报申请已被其他审批人{who}"),
            current: Box::new(Record::Escalation(e)),
        });
    }
    if d.level != e.from_level || d.pending_escalation != Some(e.id) {
        return Ok(Verdict::Conflict {
            message: "纠纷状态：这件纠纷已有新的进展（层级或上报申请已变），请同步后再看".into(),
            current: Box::new(Record::Dispute(d)),
        });
    }
    e.decision = Some(EscalationDecision {
        approved: op.approve,
        comment: op.comment.clone(),
        decided_by: env.author,
        decided_at: now,
    });
    d.pending_escalation = None;
    let kind = if op.approve {
        d.level = e.to_level;
        d.handler_unit = target;
        d.level_since = now;
        d.deadline_floor = None;
        // the level left keeps its credit (ADR 0027)
        let left = std::mem::take(&mut d.credited);
        if !left.is_empty() {
            d.earlier_credit.push(LevelCredit { level: e.from_level, mediators: left });
        }
        FlowKind::EscalationApproved
    } else {
        FlowKind::EscalationRefused
    };
    let entry = flow(&mut d, kind, env.author, now, op.comment.clone());
    Ok(puts(&scope, vec![Record::Escalation(e), Record::Dispute(d), entry]))
}

/// Re-grading and re-analysis of an open dispute (ADR 0026): by whoever handles
/// it at its current level (the same rule as recording a session there), with a
/// reason and a flow entry; not while an escalation waits (its request carries
/// the grade the approver judges). The deadline follows
/// [`crate::model::disputes::regraded_deadline_floor`].
fn regrade(
    env: &OpEnvelope,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
    now: DateTime<Utc>,
    r: &RegradeDispute,
) -> Out {
    let Some((mut d, scope)) = visible_dispute(view, actor, r.dispute_id)? else {
        return nij("纠纷");
    };
    if let Some(v) = refuse_unless_handler(actor, &d, &scope, false) {
        return Ok(v);
    }
    if d.pending_escalation.is_some() {
        return reject(RejectionCode::InvalidState, "上报申请待批期间不能重新定级：请先等审批结果");
    }
    if d.grade == r.grade && d.analysis == r.analysis {
        return reject(RejectionCode::InvalidField, "重新定级：等级和研判与现有记录相同，没有需要更改的内容");
    }
    if r.reason.trim().is_empty() {
        return reject(RejectionCode::CorrectionReasonRequired, "重新定级理由：重新定级或重新研判须写明理由");
    }
    let note = format!(
        "{}/{} → {}/{}：{}",
        d.grade.label_zh(),
        d.analysis.difficulty.label_zh(),
        r.grade.label_zh(),
        r.analysis.difficulty.label_zh(),
        r.reason.trim()
    );
    d.deadline_floor = crate::model::disputes::regraded_deadline_floor(&d, r.grade, now, policy);
    d.grade = r.grade;
    d.analysis = r.analysis.clone();
    let entry = flow(&mut d, FlowKind::Regraded, env.author, now, note);
    Ok(puts(&scope, vec![Record::Dispute(d), entry]))
}

/// The flow entry of a case-file review (confirming or correcting grade and
/// difficulty), appended to the dispute's flow table.
pub(crate) fn review_flow(d: &mut Dispute, actor: Uuid, now: DateTime<Utc>, note: String) -> Record {
    flow(d, FlowKind::CaseReviewed, actor, now, note)
}

#[cfg(test)]
#[path = "apply_disputes_tests.rs"]
mod tests;
