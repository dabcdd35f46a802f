//! Deciding the subsidy operations: case-file review (judicial office), legal
//! consultations (legal advisors), payment batches and rejections (county admin).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::decide::shared::{from_unit, level_unit, put_effects, visible_dispute};
use crate::decide::view::{nij, record_scope, reject, unit_scope, Effect, Out, StateView, Verdict, ViewError};
use crate::model::disputes::ClosingOutcome;
use crate::model::ladder::Level;
use crate::model::permissions::{Action, Actor};
use crate::model::records::{EntityKind, Record};
use crate::model::subsidy::{
    amount_fen, consultation_amount_fen, missing_items, quality_percent, subsidy_id, ConsultationReview, PaymentBatch,
    Subsidy, SubsidyStatus,
};
use crate::policy::Policy;
use crate::wire::rejection::RejectionCode;
use crate::wire::{Op, OpEnvelope, ReviewConsultation};

/// A subsidy with the scope its feeds carry (source scope + the payee's own feed).
fn subsidy_put(view: &dyn StateView, s: Subsidy) -> Result<Option<Effect>, ViewError> {
    let record = Record::Subsidy(s);
    Ok(record_scope(view, &record)?.map(|scope| Effect::Put { record, scope }))
}

fn load_subsidy(view: &dyn StateView, id: Uuid) -> Result<Option<Subsidy>, ViewError> {
    Ok(match view.get(EntityKind::Subsidy, id)? {
        Some(Record::Subsidy(s)) => Some(s),
        _ => None,
    })
}

/// Whether the actor pays (county admin over the subsidy's scope).
fn pays(view: &dyn StateView, actor: &Actor, s: &Subsidy) -> Result<bool, ViewError> {
    let record = Record::Subsidy(s.clone());
    Ok(match record_scope(view, &record)? {
        Some(scope) => actor.may(Action::PaySubsidies, &scope),
        None => false,
    })
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
        Op::ReviewCaseFile(r) => {
            let Some((d, scope)) = visible_dispute(view, actor, r.dispute_id)? else {
                return nij("纠纷");
            };
            let Some(town) = level_unit(view, &scope, Level::Town)? else {
                return reject(RejectionCode::InvalidState, "案卷评查：纠纷所在的村不属于任何乡镇，无法评查");
            };
            if !actor.may(Action::ReviewCaseFile, from_unit(&scope, town)) {
                return reject(RejectionCode::RoleNotAllowed, "权限：案卷由本乡镇司法所评查");
            }
            if d.closing.as_ref().map(|c| c.outcome) != Some(ClosingOutcome::Resolved) {
                return reject(RejectionCode::InvalidState, "案卷评查：只有调解成功并结案的纠纷才评查补贴");
            }
            let mut review = r.clone();
            review.reviewer = env.author;
            review.reviewed_at = now;
            let missing = missing_items(&d.case_file, policy);
            let quality = quality_percent(review.score, policy);
            if review.passed && (!missing.is_empty() || quality == 0) {
                return reject(
                    RejectionCode::InvalidField,
                    if missing.is_empty() {
                        "案卷评查：评查分数太低（按本县补贴政策不计补贴），不能评为合格".to_string()
                    } else {
                        format!(
                            "案卷评查：案卷缺少{}，不能评为合格",
                            crate::model::subsidy::labels_of(&missing, policy)
                        )
                    },
                );
            }
            if !review.passed {
                for m in &missing {
                    let why = format!("{}{m}", crate::model::subsidy::MISSING_REASON_PREFIX);
                    if !review.reasons.contains(&why) {
                        review.reasons.push(why);
                    }
                }
                if review.reasons.is_empty() {
                    return reject(RejectionCode::InvalidField, "评查理由：退回案卷须写明理由");
                }
            }
            // grade and difficulty as reviewed (absent: the recorded ones confirmed)
            let grade = review.reviewed_grade.unwrap_or(d.grade);
            let difficulty = review.reviewed_difficulty.unwrap_or(d.analysis.difficulty);
            review.reviewed_grade = Some(grade);
            review.reviewed_difficulty = Some(difficulty);
            review.correction_reason = review.correction_reason.trim().to_string();
            let corrected = grade != d.grade || difficulty != d.analysis.difficulty;
            if corrected && review.correction_reason.is_empty() {
                return reject(
                    RejectionCode::CorrectionReasonRequired,
                    "更正理由：案卷评查更正等级或调解难度时须写明更正理由",
                );
            }
            // what a review may change: every payee's subsidy until one of them is
            // batched or paid; a rejected one stays rejected
            let mut subsidies = Vec::new();
            for (i, payee) in d.payees.iter().enumerate() {
                let Some(s) = load_subsidy(view, subsidy_id(d.id, *payee))? else { continue };
                if matches!(s.status, SubsidyStatus::Batched | SubsidyStatus::Paid) {
                    return reject(
                        RejectionCode::SubsidyAlreadyPaid,
                        "本案补贴已列入支付批次或已发放：案卷评查结果（含等级、难度的更正）不能再改",
                    );
                }
                subsidies.push((i, s));
            }
            // passed: the final amount at the file's quality; returned: the estimate
            // (full quality), both from the reviewed grade and difficulty
            let pct = if review.passed { quality } else { 100 };
            let Some(amount) = amount_fen(grade, difficulty, &d.kind, pct, policy) else {
                return reject(RejectionCode::InvalidState, crate::decide::view::SUBSIDY_OUT_OF_RANGE);
            };
            let note = if corrected {
                format!(
                    "评查更正：{}/{} → {}/{}：{}",
                    d.grade.label_zh(),
                    d.analysis.difficulty.label_zh(),
                    grade.label_zh(),
                    difficulty.label_zh(),
                    review.correction_reason
                )
            } else {
                format!("评查确认：{}/{}", grade.label_zh(), difficulty.label_zh())
            };
            let mut d = d;
            d.grade = grade;
            d.analysis.difficulty = difficulty;
            let entry = crate::decide::apply_disputes::review_flow(&mut d, env.author, now, note);
            // split across the credited levels (ADR 0027), in the payees' order
            let Some(shares) = crate::model::credit::case_payee_shares(&d, amount, policy) else {
                return reject(RejectionCode::InvalidState, crate::decide::view::SUBSIDY_OUT_OF_RANGE);
            };
            let mut effects =
                put_effects(&scope, vec![Record::CaseReview(review.clone()), Record::Dispute(d.clone()), entry]);
            for (i, mut s) in subsidies {
                let Some(&(_, share)) = shares.get(i) else { continue };
                if s.status == SubsidyStatus::Rejected {
                    continue;
                }
                s.amount_fen = share;
                if review.passed {
                    s.status = SubsidyStatus::Approved;
                    s.approved_at = Some(now);
                    s.reason.clear();
                } else {
                    s.status = SubsidyStatus::UnderReview;
                    s.approved_at = None;
                    s.reason = review.reasons.join("; ");
                }
                effects.extend(subsidy_put(view, s)?);
            }
            Ok(Verdict::Apply(effects))
        }
        Op::RecordConsultation(c) => {
            let Some(scope) = unit_scope(view, c.village_id)? else {
                return nij("村");
            };
            if !actor.may(Action::RecordConsultation, &scope) {
                return reject(RejectionCode::RoleNotAllowed, "权限：法律咨询由本村法律顾问记录");
            }
            let mut c = c.clone();
            c.advisor = env.author;
            if view.get(EntityKind::Consultation, c.id)?.is_some() {
                return Ok(Verdict::Apply(vec![]));
            }
            // the review is the judicial office's: never taken from the advisor's payload
            c.review = None;
            let mut effects = put_effects(&scope, vec![Record::Consultation(c.clone())]);
            // accrued at the estimate of the advisor's own record, approved only by review
            let estimate = match c.outcome {
                Some(o) => consultation_amount_fen(o, c.satisfaction, policy).unwrap_or(0),
                None => 0,
            };
            let s = Subsidy {
                id: subsidy_id(c.id, c.advisor),
                dispute_id: None,
                consultation_id: Some(c.id),
                case_number: format!("ZX-{}", &c.id.simple().to_string()[..12]),
                payee: c.advisor,
                amount_fen: estimate,
                status: SubsidyStatus::Accrued,
                accrued_at: now,
                approved_at: None,
                batch_id: None,
                paid_at: None,
                payment_ref: String::new(),
                reason: String::new(),
            };
            effects.push(Effect::Put {
                record: Record::Subsidy(s),
                scope: scope.iter().copied().chain([c.advisor]).collect(),
            });
            Ok(Verdict::Apply(effects))
        }
        Op::ReviewConsultation(r) => review_consultation(env, actor, policy, view, now, r),
        Op::CreatePaymentBatch(b) => {
            let Some(county) = actor.unit_for(Action::PaySubsidies) else {
                return reject(RejectionCode::RoleNotAllowed, "权限：支付批次由县里制作");
            };
            if view.get(EntityKind::PaymentBatch, b.id)?.is_some() {
                return reject(RejectionCode::IdConflict, "记录编号：已有编号相同的支付批次，请更新应用后重试");
            }
            let mut effects = Vec::new();
            let mut total = 0i64;
            for id in &b.subsidy_ids {
                let Some(mut s) = load_subsidy(view, *id)? else {
                    return nij("补贴");
                };
                if !pays(view, actor, &s)? {
                    return nij("补贴");
                }
                if s.status != SubsidyStatus::Approved {
                    return reject(
                        RejectionCode::InvalidState,
                        format!("支付批次：案件 {} 的补贴不是“已核准、未支付”状态，不能列入批次", s.case_number),
                    );
                }
                let Some(sum) = total.checked_add(s.amount_fen) else {
                    return reject(RejectionCode::InvalidField, "批次合计金额超出可计算范围：请分成几个批次");
                };
                total = sum;
                s.status = SubsidyStatus::Batched;
                s.batch_id = Some(b.id);
                effects.extend(subsidy_put(view, s)?);
            }
            let batch = PaymentBatch {
                id: b.id,
                subsidy_ids: b.subsidy_ids.clone(),
                total_fen: total,
                created_by: env.author,
                created_at: now,
                paid_at: None,
                payment_ref: String::new(),
            };
            effects.push(Effect::Put { record: Record::PaymentBatch(batch), scope: vec![county] });
            Ok(Verdict::Apply(effects))
        }
        Op::MarkBatchPaid(p) => {
            let Some(Record::PaymentBatch(mut batch)) = view.get(EntityKind::PaymentBatch, p.batch_id)? else {
                return nij("支付批次");
            };
            let Some(county) = actor.unit_for(Action::PaySubsidies) else {
                return reject(RejectionCode::RoleNotAllowed, "权限：支付批次由县里发放");
            };
            if batch.paid_at.is_some() {
                return Ok(Verdict::Conflict {
                    message: "支付批次：这个批次已经发放过了".into(),
                    current: Box::new(Record::PaymentBatch(batch)),
                });
            }
            let mut effects = Vec::new();
            for id in &batch.subsidy_ids {
                if let Some(mut s) = load_subsidy(view, *id)? {
                    if s.status == SubsidyStatus::Batched && s.batch_id == Some(batch.id) {
                        s.status = SubsidyStatus::Paid;
                        s.paid_at = Some(now);
                        s.payment_ref = p.payment_ref.clone();
                        effects.extend(subsidy_put(view, s)?);
                    }
                }
            }
            batch.paid_at = Some(now);
            batch.payment_ref = p.payment_ref.clone();
            effects.push(Effect::Put { record: Record::PaymentBatch(batch), scope: vec![county] });
            Ok(Verdict::Apply(effects))
        }
        Op::RejectSubsidy(r) => {
            let Some(mut s) = load_subsidy(view, r.subsidy_id)? else {
                return nij("补贴");
            };
            if !pays(view, actor, &s)? {
                return nij("补贴");
            }
            if matches!(s.status, SubsidyStatus::Paid | SubsidyStatus::Batched) {
                return reject(RejectionCode::InvalidState, "驳回补贴：已列入支付批次或已发放的补贴不能驳回");
            }
            s.status = SubsidyStatus::Rejected;
            s.reason = r.reason.clone();
            Ok(Verdict::Apply(subsidy_put(view, s)?.into_iter().collect()))
        }
        _ => reject(RejectionCode::InvalidField, crate::decide::view::NOT_THIS_AREA),
    }
}

/// The judicial office of the consultation's town reviews it (the same reviewer
/// rule as case files): it confirms or corrects the outcome and satisfaction, and
/// the advisor's subsidy is approved at the policy's rate for the reviewed values.
/// A review after the subsidy is batched, paid or rejected is refused; one before
/// re-prices it.
fn review_consultation(
    env: &OpEnvelope,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
    now: DateTime<Utc>,
    r: &ReviewConsultation,
) -> Out {
    let Some(Record::Consultation(mut c)) = view.get(EntityKind::Consultation, r.consultation_id)? else {
        return nij("法律咨询");
    };
    let Some(scope) = unit_scope(view, c.village_id)? else { return nij("法律咨询") };
    if !actor.may_see(EntityKind::Consultation, &scope) {
        return nij("法律咨询");
    }
    let Some(town) = level_unit(view, &scope, Level::Town)? else {
        return reject(RejectionCode::InvalidState, "法律咨询评查：该咨询所在的村不属于任何乡镇，无法评查");
    };
    if !actor.may(Action::ReviewConsultation, from_unit(&scope, town)) {
        return reject(RejectionCode::RoleNotAllowed, "权限：法律咨询由本乡镇司法所评查，其他角色不能评查");
    }
    if c.advisor == env.author {
        return reject(RejectionCode::SelfApproval, "法律咨询评查：不能评查自己记录的法律咨询");
    }
    let Some(amount) = consultation_amount_fen(r.outcome, r.satisfaction, policy) else {
        return reject(RejectionCode::InvalidState, crate::decide::view::SUBSIDY_OUT_OF_RANGE);
    };
    let mut effects = Vec::new();
    if let Some(mut s) = load_subsidy(view, subsidy_id(c.id, c.advisor))? {
        match s.status {
            SubsidyStatus::Accrued | SubsidyStatus::UnderReview | SubsidyStatus::Approved => {}
            _ => {
                return reject(
                    RejectionCode::InvalidState,
                    "该咨询补贴已列入支付批次、已支付或已驳回：评查结果不能再改",
                )
            }
        }
        s.status = SubsidyStatus::Approved;
        s.amount_fen = amount;
        s.approved_at = Some(now);
        s.reason.clear();
        effects.extend(subsidy_put(view, s)?);
    }
    c.review = Some(ConsultationReview {
        outcome: r.outcome,
        satisfaction: r.satisfaction,
        note: r.note.clone(),
        reviewer: env.author,
        reviewed_at: now,
    });
    effects.insert(0, Effect::Put { record: Record::Consultation(c), scope });
    Ok(Verdict::Apply(effects))
}
