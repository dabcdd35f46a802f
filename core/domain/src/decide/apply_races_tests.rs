//! Lost races: an op refused because a colleague's op changed the record first
//! is a conflict carrying the record as it stands; a request the phone could
//! have known was invalid stays a rejection.

use super::*;

/// A dispute moved up to village V01, where several colleagues handle it.
fn village_case(w: &mut World) -> (Dispute, Actor, Actor) {
    let leader = person(Role::GroupLeader, G1);
    let first_sec = person(Role::FirstSecretary, V1);
    let mediator = person(Role::Mediator, V1);
    let d = new_dispute(w, &leader, Grade::General, w.last_seq() as u32);
    assert!(matches!(run(w, &leader, Op::ReportDispute(d.clone())), Verdict::Apply(_)));
    let e = escalation(&d, Level::Village);
    assert!(matches!(run(w, &leader, Op::RequestEscalation(e.clone())), Verdict::Apply(_)));
    assert!(matches!(run(w, &first_sec, decide_op(&e, true)), Verdict::Apply(_)));
    (dispute(w, d.id), first_sec, mediator)
}

fn close(d: &Dispute) -> Op {
    Op::CloseDispute(CloseDispute {
        dispute_id: d.id, outcome: ClosingOutcome::NotResolved, note: "调解不成".into()
    })
}

/// The record a conflict carries.
fn current(v: &Verdict) -> &Record {
    match v {
        Verdict::Conflict { current, .. } => current,
        other => panic!("not a conflict: {other:?}"),
    }
}

fn current_dispute(v: &Verdict) -> &Dispute {
    match current(v) {
        Record::Dispute(d) => d,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_close_lost_to_a_colleagues_close_is_a_conflict_carrying_the_dispute() {
    let mut w = world();
    let (d, first_sec, mediator) = village_case(&mut w);
    let seen = Some(w.last_seq());
    // both close it offline; the mediator's op arrives first
    assert!(matches!(run_seen(&w, &mediator, close(&d), seen), Verdict::Apply(_)));
    let lost = run_seen(&w, &first_sec, close(&d), seen);
    let standing = current_dispute(&lost);
    assert_eq!(standing.closing.as_ref().map(|c| c.closed_by), Some(mediator.user_id));
    // one who had pulled the close, or who does not say what it saw, is refused
    assert_eq!(code(&run_seen(&w, &first_sec, close(&d), Some(w.last_seq()))), Some(RejectionCode::InvalidState));
    assert_eq!(code(&run_seen(&w, &first_sec, close(&d), None)), Some(RejectionCode::InvalidState));
}

#[test]
fn every_case_op_that_loses_to_a_colleague_is_a_conflict() {
    let mut w = world();
    let (d, first_sec, mediator) = village_case(&mut w);
    let seen = Some(w.last_seq());
    assert!(matches!(run_seen(&w, &mediator, close(&d), seen), Verdict::Apply(_)));
    // a session, an agreement, an escalation request made before the close arrived
    let lost = run_seen(&w, &first_sec, session(&d, vec![]), seen);
    assert!(current_dispute(&lost).closing.is_some());
    let agreement = Op::RecordAgreement(crate::model::disputes::Agreement {
        id: Uuid::now_v7(),
        dispute_id: d.id,
        signed_at: Utc::now(),
        terms: "赔偿损失".into(),
        sum_fen: 0,
        obligations: String::new(),
        signature_photos: vec![],
        author: Uuid::nil(),
    });
    assert!(matches!(run_seen(&w, &first_sec, agreement, seen), Verdict::Conflict { .. }));
    let e = Escalation { from_level: Level::Village, ..escalation(&d, Level::JudicialOffice) };
    assert!(matches!(run_seen(&w, &first_sec, Op::RequestEscalation(e), seen), Verdict::Conflict { .. }));

    // a close lost to a colleague's escalation request
    let (d, first_sec, mediator) = village_case(&mut w);
    let seen = Some(w.last_seq());
    let up = Escalation { from_level: Level::Village, ..escalation(&d, Level::JudicialOffice) };
    assert!(matches!(run_seen(&w, &first_sec, Op::RequestEscalation(up.clone()), seen), Verdict::Apply(_)));
    let lost = run_seen(&w, &mediator, close(&d), seen);
    assert_eq!(current_dispute(&lost).pending_escalation, Some(up.id));
    // a second request lost to the first
    let again = Escalation { from_level: Level::Village, ..escalation(&d, Level::JudicialOffice) };
    assert!(matches!(current(&run_seen(&w, &mediator, Op::RequestEscalation(again), seen)), Record::Escalation(_)));
    // once the move is approved, the village's session made before it is a lost race
    let judicial = person(Role::JudicialOffice, TOWN);
    assert!(matches!(run(&w, &judicial, decide_op(&up, true)), Verdict::Apply(_)));
    let lost = run_seen(&w, &mediator, session(&d, vec![]), seen);
    assert_eq!(current_dispute(&lost).level, Level::JudicialOffice);
    // and a second approval of the same request is a conflict, as always
    assert!(matches!(current(&run_seen(&w, &judicial, decide_op(&up, true), seen)), Record::Escalation(_)));
}

#[test]
fn a_plain_invalid_request_stays_a_rejection_even_after_a_colleagues_change() {
    let mut w = world();
    let (d, first_sec, mediator) = village_case(&mut w);
    let seen = Some(w.last_seq());
    assert!(matches!(run_seen(&w, &first_sec, session(&d, vec![]), seen), Verdict::Apply(_)));
    // asking to move back down is wrong whatever the colleague did
    let down = Escalation { from_level: Level::Village, ..escalation(&d, Level::Group) };
    assert_eq!(code(&run_seen(&w, &mediator, Op::RequestEscalation(down), seen)), Some(RejectionCode::InvalidField));
    // a group leader never handled it at the village: no race to lose
    let leader = person(Role::GroupLeader, G2);
    assert_eq!(code(&run_seen(&w, &leader, close(&d), seen)), Some(RejectionCode::NotInJurisdiction));
    // nothing changed since the phone pulled: its own mistake
    let fresh = Some(w.last_seq());
    assert!(matches!(run_seen(&w, &mediator, close(&d), fresh), Verdict::Apply(_)));
    assert_eq!(code(&run_seen(&w, &mediator, close(&d), Some(w.last_seq()))), Some(RejectionCode::InvalidState));
}

#[test]
fn subsidy_ops_lost_to_a_colleagues_batch_are_conflicts_carrying_the_subsidy() {
    let w = world();
    let advisor = person(Role::LegalAdvisor, V1);
    let consultation = crate::model::subsidy::Consultation {
        id: Uuid::now_v7(),
        village_id: u(V1),
        at: Utc::now(),
        question: "土地流转合同怎么签".into(),
        answer: "书面合同，写明期限".into(),
        satisfaction: crate::model::disputes::Satisfaction::Satisfied,
        advisor: Uuid::nil(),
        outcome: Some(crate::model::subsidy::ConsultationOutcome::Solved),
        review: None,
    };
    assert!(matches!(run(&w, &advisor, Op::RecordConsultation(consultation.clone())), Verdict::Apply(_)));
    let review = crate::wire::ReviewConsultation {
        consultation_id: consultation.id,
        outcome: crate::model::subsidy::ConsultationOutcome::Solved,
        satisfaction: crate::model::disputes::Satisfaction::Satisfied,
        note: String::new(),
    };
    assert!(matches!(run(&w, &person(Role::JudicialOffice, TOWN), Op::ReviewConsultation(review)), Verdict::Apply(_)));
    let subsidy = crate::model::subsidy::subsidy_id(consultation.id, advisor.user_id);
    let (admin_a, admin_b) = (person(Role::CountyAdmin, COUNTY), person(Role::CountyAdmin, COUNTY));
    let seen = Some(w.last_seq());
    let batch = |id: Uuid| Op::CreatePaymentBatch(crate::wire::CreatePaymentBatch { id, subsidy_ids: vec![subsidy] });
    assert!(matches!(run_seen(&w, &admin_a, batch(Uuid::now_v7()), seen), Verdict::Apply(_)));
    // admin B, from the same ledger, rejects it and batches it again
    let reject = Op::RejectSubsidy(crate::wire::RejectSubsidy { subsidy_id: subsidy, reason: "材料不全".into() });
    for lost in [run_seen(&w, &admin_b, reject.clone(), seen), run_seen(&w, &admin_b, batch(Uuid::now_v7()), seen)] {
        let Record::Subsidy(s) = current(&lost) else { panic!("{lost:?}") };
        assert_eq!(s.status, crate::model::subsidy::SubsidyStatus::Batched);
    }
    // knowing it was batched, rejecting it is a plain mistake
    assert_eq!(code(&run_seen(&w, &admin_b, reject, Some(w.last_seq()))), Some(RejectionCode::InvalidState));
}
