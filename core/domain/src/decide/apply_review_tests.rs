//! Pay follows reviewed facts: the case-file review confirms or corrects grade
//! and difficulty (a correction needs a reason, is refused once the subsidy is
//! batched or paid, and re-prices it before), and an open dispute is re-graded
//! by its handler with a reason, its deadline following ADR 0026.

use super::*;
use crate::model::disputes::{regraded_deadline_floor, FlowKind};
use crate::model::subsidy::{amount_fen, quality_percent, CaseReview, Subsidy, SubsidyStatus};
use crate::wire::{CreatePaymentBatch, MarkBatchPaid, RegradeDispute};
use chrono::{Duration, TimeZone};

/// Applies an op at server time `now`, storing its effects.
fn run_at(w: &World, a: &Actor, op: Op, now: DateTime<Utc>) -> Verdict {
    let v = crate::decide::apply::decide(&env(a, op), a, &Policy::default(), w, now).unwrap();
    if let Verdict::Apply(effects) = &v {
        for Effect::Put { record, .. } in effects {
            let key = (record.kind(), record.id());
            let seq = w.last_seq() + 1;
            w.versions.borrow_mut().insert(key, seq);
            w.records.borrow_mut().insert(key, record.clone());
        }
    }
    v
}

pub(super) fn subsidies(w: &World, d: Uuid) -> Vec<Subsidy> {
    let mut out: Vec<Subsidy> = w
        .records
        .borrow()
        .values()
        .filter_map(|r| match r {
            Record::Subsidy(s) if s.dispute_id == Some(d) => Some(s.clone()),
            _ => None,
        })
        .collect();
    out.sort_by_key(|s| s.payee);
    out
}

fn flows(w: &World, d: Uuid) -> Vec<FlowEntry> {
    let mut out: Vec<FlowEntry> = w
        .records
        .borrow()
        .values()
        .filter_map(|r| match r {
            Record::FlowEntry(f) if f.dispute_id == d => Some(f.clone()),
            _ => None,
        })
        .collect();
    out.sort_by_key(|f| f.step);
    out
}

/// A dispute reported at the group as `grade` with high difficulty, mediated by
/// two mediators, resolved, with every required checklist item on file.
pub(super) fn resolved_case(w: &mut World, leader: &Actor, grade: Grade, index: u32) -> Dispute {
    let mut d = new_dispute(w, leader, grade, index);
    d.analysis.difficulty = Difficulty::High;
    assert!(matches!(run(w, leader, Op::ReportDispute(d.clone())), Verdict::Apply(_)));
    // two village mediators (payees must be enrolled users who mediate here)
    let (m1, m2) = (enrol(w, Role::Mediator, V1).user_id, enrol(w, Role::Mediator, V1).user_id);
    assert!(matches!(run(w, leader, session(&d, vec![m1, m2])), Verdict::Apply(_)));
    let close =
        Op::CloseDispute(CloseDispute { dispute_id: d.id, outcome: ClosingOutcome::Resolved, note: String::new() });
    assert!(matches!(run(w, leader, close), Verdict::Apply(_)));
    let mut stored = dispute(w, d.id);
    for item in Policy::default().subsidy.checklist.iter().filter(|i| i.required) {
        if !stored.case_file.iter().any(|f| f.item == item.code) {
            stored.case_file.push(crate::model::subsidy::FileItem {
                item: item.code.clone(),
                kind: EntityKind::Attachment,
                id: Uuid::now_v7(),
            });
        }
    }
    w.records.borrow_mut().insert((EntityKind::Dispute, d.id), Record::Dispute(stored.clone()));
    stored
}

pub(super) fn review(d: &Dispute, grade: Option<Grade>, difficulty: Option<Difficulty>, reason: &str) -> Op {
    Op::ReviewCaseFile(CaseReview {
        id: Uuid::now_v7(),
        dispute_id: d.id,
        score: 95,
        passed: true,
        reasons: vec![],
        reviewed_grade: grade,
        reviewed_difficulty: difficulty,
        correction_reason: reason.into(),
        reviewer: Uuid::nil(),
        reviewed_at: Utc::now(),
    })
}

/// The policy's amount for a case, split between its two payees.
fn priced(grade: Grade, difficulty: Difficulty, score: u8) -> i64 {
    let p = Policy::default();
    amount_fen(grade, difficulty, "neighbour", quality_percent(score, &p), &p).unwrap()
}

fn total(w: &World, d: Uuid) -> i64 {
    subsidies(w, d).iter().map(|s| s.amount_fen).sum()
}

#[test]
fn a_review_without_reviewed_values_confirms_the_recorded_ones() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let judicial = person(Role::JudicialOffice, TOWN);
    let d = resolved_case(&mut w, &leader, Grade::Larger, 20);
    assert!(matches!(run(&w, &judicial, review(&d, None, None, "")), Verdict::Apply(_)));
    let subs = subsidies(&w, d.id);
    assert!(subs.iter().all(|s| s.status == SubsidyStatus::Approved));
    assert_eq!(total(&w, d.id), priced(Grade::Larger, Difficulty::High, 95));
    let last = flows(&w, d.id).pop().unwrap();
    assert_eq!((last.kind, last.actor), (FlowKind::CaseReviewed, judicial.user_id));
    assert!(last.note.contains("确认"), "{}", last.note);
    let stored = w.records.borrow().values().find_map(|r| match r {
        Record::CaseReview(r) if r.dispute_id == d.id => Some(r.clone()),
        _ => None,
    });
    let stored = stored.unwrap();
    assert_eq!((stored.reviewed_grade, stored.reviewed_difficulty), (Some(Grade::Larger), Some(Difficulty::High)));
    // a review sent by an older desk client (no reviewed fields) parses as a confirmation
    let old = serde_json::json!({"id": Uuid::now_v7(), "dispute_id": d.id, "score": 90, "passed": true});
    let parsed: CaseReview = serde_json::from_value(old).unwrap();
    assert_eq!((parsed.reviewed_grade, parsed.correction_reason.as_str()), (None, ""));
}

#[test]
fn a_correction_without_a_reason_is_refused_and_changes_nothing() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let judicial = person(Role::JudicialOffice, TOWN);
    let d = resolved_case(&mut w, &leader, Grade::Major, 21);
    let before = subsidies(&w, d.id);
    for op in [
        review(&d, Some(Grade::General), None, ""),
        review(&d, None, Some(Difficulty::Low), "  "),
        review(&d, Some(Grade::General), Some(Difficulty::Low), ""),
    ] {
        assert_eq!(code(&run(&w, &judicial, op)), Some(RejectionCode::CorrectionReasonRequired));
    }
    assert_eq!(subsidies(&w, d.id), before);
    assert_eq!(dispute(&w, d.id).grade, Grade::Major);
    assert_eq!(RejectionCode::CorrectionReasonRequired.as_str(), "correction_reason_required");
}

#[test]
fn a_correction_prices_the_subsidy_from_the_reviewed_values_only() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let judicial = person(Role::JudicialOffice, TOWN);
    let d = resolved_case(&mut w, &leader, Grade::Major, 22);
    let estimate = total(&w, d.id);
    assert_eq!(estimate, priced(Grade::Major, Difficulty::High, 100), "the reporter's values give an estimate");
    let v = run(&w, &judicial, review(&d, Some(Grade::General), Some(Difficulty::Low), "一般邻里纠纷，当场化解"));
    assert!(matches!(v, Verdict::Apply(_)), "{v:?}");
    assert_eq!(total(&w, d.id), priced(Grade::General, Difficulty::Low, 95));
    assert!(subsidies(&w, d.id).iter().all(|s| s.status == SubsidyStatus::Approved));
    let stored = dispute(&w, d.id);
    assert_eq!((stored.grade, stored.analysis.difficulty), (Grade::General, Difficulty::Low));
    let last = flows(&w, d.id).pop().unwrap();
    assert_eq!(last.kind, FlowKind::CaseReviewed);
    assert!(
        last.note.contains("重大") && last.note.contains("一般") && last.note.contains("当场化解"),
        "{}",
        last.note
    );
}

#[test]
fn a_re_review_before_batching_re_prices_the_approved_items() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let judicial = person(Role::JudicialOffice, TOWN);
    let d = resolved_case(&mut w, &leader, Grade::Major, 23);
    assert!(matches!(run(&w, &judicial, review(&d, None, None, "")), Verdict::Apply(_)));
    assert_eq!(total(&w, d.id), priced(Grade::Major, Difficulty::High, 95));
    // the office looks again before the county batches it: corrected and re-priced
    let v = run(&w, &judicial, review(&d, Some(Grade::Larger), Some(Difficulty::Medium), "复查：涉及金额不大"));
    assert!(matches!(v, Verdict::Apply(_)), "{v:?}");
    assert_eq!(total(&w, d.id), priced(Grade::Larger, Difficulty::Medium, 95));
    assert!(subsidies(&w, d.id).iter().all(|s| s.status == SubsidyStatus::Approved));
    // a re-review may also return the file: back under review, not payable
    let mut back = review(&d, None, None, "");
    if let Op::ReviewCaseFile(r) = &mut back {
        r.passed = false;
        r.reasons = vec!["笔录缺当事人签名".into()];
    }
    assert!(matches!(run(&w, &judicial, back), Verdict::Apply(_)));
    assert!(subsidies(&w, d.id).iter().all(|s| s.status == SubsidyStatus::UnderReview && s.approved_at.is_none()));
    assert_eq!(total(&w, d.id), priced(Grade::Larger, Difficulty::Medium, 100), "the estimate, from reviewed values");
}

#[test]
fn a_review_after_batching_or_payment_is_refused() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let judicial = person(Role::JudicialOffice, TOWN);
    let county = person(Role::CountyAdmin, COUNTY);
    let d = resolved_case(&mut w, &leader, Grade::Major, 24);
    assert!(matches!(run(&w, &judicial, review(&d, None, None, "")), Verdict::Apply(_)));
    let batch = Uuid::now_v7();
    let ids = subsidies(&w, d.id).iter().map(|s| s.id).collect();
    let v = run(&w, &county, Op::CreatePaymentBatch(CreatePaymentBatch { id: batch, subsidy_ids: ids }));
    assert!(matches!(v, Verdict::Apply(_)), "{v:?}");
    let paid = total(&w, d.id);
    let correct = || review(&d, Some(Grade::General), Some(Difficulty::Low), "复查");
    assert_eq!(code(&run(&w, &judicial, correct())), Some(RejectionCode::SubsidyAlreadyPaid), "batched");
    assert_eq!(code(&run(&w, &judicial, review(&d, None, None, ""))), Some(RejectionCode::SubsidyAlreadyPaid));
    let v = run(&w, &county, Op::MarkBatchPaid(MarkBatchPaid { batch_id: batch, payment_ref: "NX-1".into() }));
    assert!(matches!(v, Verdict::Apply(_)));
    assert_eq!(code(&run(&w, &judicial, correct())), Some(RejectionCode::SubsidyAlreadyPaid), "paid");
    assert_eq!(total(&w, d.id), paid);
    assert_eq!(dispute(&w, d.id).grade, Grade::Major);
    assert!(subsidies(&w, d.id).iter().all(|s| s.status == SubsidyStatus::Paid));
}

fn regrade(d: &Dispute, grade: Grade, difficulty: Difficulty, reason: &str) -> Op {
    Op::RegradeDispute(RegradeDispute {
        dispute_id: d.id,
        grade,
        analysis: Analysis {
            cause: "界线不清，另有历史遗留".into(), consequences: "可能激化".into(), difficulty
        },
        reason: reason.into(),
    })
}

#[test]
fn the_handler_at_the_current_level_re_grades_with_a_reason_and_a_flow_entry() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let other_group = person(Role::GroupLeader, G2);
    let village = person(Role::VillageSecretary, V1);
    let d = new_dispute(&mut w, &leader, Grade::General, 30);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    assert_eq!(
        code(&run(&w, &other_group, regrade(&d, Grade::Larger, Difficulty::High, "x"))),
        Some(RejectionCode::NotInJurisdiction)
    );
    assert_eq!(
        code(&run(&w, &village, regrade(&d, Grade::Larger, Difficulty::High, "涉及多户"))),
        Some(RejectionCode::RoleNotAllowed),
        "the village does not handle it while it is at the group"
    );
    assert_eq!(
        code(&run(&w, &leader, regrade(&d, Grade::Larger, Difficulty::High, " "))),
        Some(RejectionCode::CorrectionReasonRequired)
    );
    assert_eq!(dispute(&w, d.id).grade, Grade::General, "refusals change nothing");
    let v = run(&w, &leader, regrade(&d, Grade::Larger, Difficulty::High, "涉及多户"));
    assert!(matches!(v, Verdict::Apply(_)), "{v:?}");
    let stored = dispute(&w, d.id);
    assert_eq!((stored.grade, stored.analysis.difficulty), (Grade::Larger, Difficulty::High));
    assert_eq!(stored.analysis.cause, "界线不清，另有历史遗留");
    let last = flows(&w, d.id).pop().unwrap();
    assert_eq!((last.kind, last.actor, last.level), (FlowKind::Regraded, leader.user_id, Level::Group));
    assert!(last.note.contains("一般") && last.note.contains("较大") && last.note.contains("涉及多户"));
    // nothing to change is refused too
    assert_eq!(
        code(&run(&w, &leader, regrade(&d, Grade::Larger, Difficulty::High, "再次"))),
        Some(RejectionCode::InvalidField)
    );
    // after moving up, the village's handler re-grades and the group leader no longer may
    let e = escalation(&d, Level::Village);
    run(&w, &leader, Op::RequestEscalation(e.clone()));
    assert_eq!(
        code(&run(&w, &leader, regrade(&d, Grade::Major, Difficulty::High, "情绪激动"))),
        Some(RejectionCode::InvalidState),
        "not while an escalation waits"
    );
    run(&w, &village, decide_op(&e, true));
    assert_eq!(
        code(&run(&w, &leader, regrade(&d, Grade::Major, Difficulty::High, "情绪激动"))),
        Some(RejectionCode::RoleNotAllowed)
    );
    assert!(matches!(run(&w, &village, regrade(&d, Grade::Major, Difficulty::High, "情绪激动")), Verdict::Apply(_)));
}

#[test]
fn a_closed_dispute_is_not_re_graded() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let d = new_dispute(&mut w, &leader, Grade::General, 31);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    let close =
        Op::CloseDispute(CloseDispute { dispute_id: d.id, outcome: ClosingOutcome::NotResolved, note: String::new() });
    run(&w, &leader, close);
    assert_eq!(
        code(&run(&w, &leader, regrade(&d, Grade::Major, Difficulty::High, "补报"))),
        Some(RejectionCode::InvalidState)
    );
}

/// ADR 0026: the new grade's deadline from `level_since`, but a downgrade leaves
/// at least `regrade_grace_days` from the re-grading, and never more than the
/// deadline had before (an overdue case stays overdue).
#[test]
fn the_deadline_of_a_re_graded_dispute_at_its_boundaries() {
    let p = Policy::default();
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let day = Duration::days(1);
    let grace = Duration::days(i64::from(p.deadlines.regrade_grace_days));
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let mut case = |index: u32| {
        let d = new_dispute(&mut w, &leader, Grade::Major, index);
        let d = match run_at(&w, &leader, Op::ReportDispute(d.clone()), t0) {
            Verdict::Apply(_) => d,
            other => panic!("{other:?}"),
        };
        d.id
    };
    let ids: Vec<Uuid> = (40..45).map(&mut case).collect();
    let at = |id: Uuid| dispute(&w, id);
    assert_eq!(at(ids[0]).deadline(&p), t0 + day * 20);
    // downgraded to 一般 (7 days) early: the grade's deadline stands (later than now + grace)
    let early = t0 + day * 7 - grace - Duration::seconds(1);
    run_at(&w, &leader, regrade(&at(ids[0]), Grade::General, Difficulty::Low, "降级"), early);
    assert_eq!(at(ids[0]).deadline(&p), t0 + day * 7);
    // exactly at the boundary: both give the same instant
    let edge = t0 + day * 7 - grace;
    run_at(&w, &leader, regrade(&at(ids[1]), Grade::General, Difficulty::Low, "降级"), edge);
    assert_eq!(at(ids[1]).deadline(&p), t0 + day * 7);
    // one second later: now + grace
    let late = edge + Duration::seconds(1);
    run_at(&w, &leader, regrade(&at(ids[2]), Grade::General, Difficulty::Low, "降级"), late);
    assert_eq!(at(ids[2]).deadline(&p), late + grace);
    // downgraded after the major deadline passed: it stays overdue at that deadline
    let overdue = t0 + day * 25;
    run_at(&w, &leader, regrade(&at(ids[3]), Grade::General, Difficulty::Low, "降级"), overdue);
    assert_eq!(at(ids[3]).deadline(&p), t0 + day * 20);
    // downgraded just before the major deadline: not past the old one
    let near = t0 + day * 20 - Duration::hours(1);
    run_at(&w, &leader, regrade(&at(ids[4]), Grade::Larger, Difficulty::Low, "降级"), near);
    assert_eq!(at(ids[4]).deadline(&p), t0 + day * 20);
    // an upgrade counts the new grade from level_since and drops the floor
    let up = at(ids[2]);
    run_at(&w, &leader, regrade(&up, Grade::Major, Difficulty::High, "升级"), late + day);
    assert_eq!((at(ids[2]).deadline(&p), at(ids[2]).deadline_floor), (t0 + day * 20, None));
    // the floor alone, as a function
    let mut fresh = at(ids[0]);
    fresh.grade = Grade::Major;
    fresh.deadline_floor = None;
    assert_eq!(regraded_deadline_floor(&fresh, Grade::Major, late, &p), None);
    assert_eq!(regraded_deadline_floor(&fresh, Grade::General, late, &p), Some(late + grace));
}
