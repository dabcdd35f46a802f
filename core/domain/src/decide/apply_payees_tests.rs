//! Pay follows reviewed facts: who may be credited in a session (existing,
//! enabled users whose role mediates at the level, within its unit), credit kept
//! across levels and the case's one subsidy split by the policy, unpaid
//! officials credited without money, and consultations paid only once reviewed.

use super::*;
use crate::model::disputes::Satisfaction;
use crate::model::subsidy::{Consultation, ConsultationOutcome, SubsidyStatus};
use crate::wire::ReviewConsultation;

fn close_resolved(d: &Dispute) -> Op {
    Op::CloseDispute(CloseDispute { dispute_id: d.id, outcome: ClosingOutcome::Resolved, note: String::new() })
}

fn rejection(v: &Verdict) -> &Rejection {
    match v {
        Verdict::Reject(r) => r,
        other => panic!("not a rejection: {other:?}"),
    }
}

#[test]
fn a_session_credits_only_existing_enabled_mediators_of_its_level_and_unit() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let d = new_dispute(&mut w, &leader, Grade::General, 20);
    assert!(matches!(run(&w, &leader, Op::ReportDispute(d.clone())), Verdict::Apply(_)));
    let made_up = Uuid::now_v7();
    let other_village = enrol(&w, Role::Mediator, V2);
    let official = enrol(&w, Role::JudicialOffice, TOWN);
    let gone = enrol(&w, Role::Mediator, V1);
    if let Some(f) = w.people.borrow_mut().get_mut(&gone.user_id) {
        f.enabled = false;
    }
    let own = enrol(&w, Role::Mediator, V1);
    for (who, want) in [
        (made_up, RejectionCode::MediatorUnknown),
        (other_village.user_id, RejectionCode::MediatorNotAllowed),
        (official.user_id, RejectionCode::MediatorNotAllowed),
        (gone.user_id, RejectionCode::MediatorDisabled),
    ] {
        let v = run(&w, &leader, session(&d, vec![leader.user_id, who]));
        let r = rejection(&v);
        assert_eq!(r.code, want, "{}", r.message);
        assert!(r.message.contains("调解员") && r.message.contains(&who.to_string()), "{}", r.message);
        assert!(dispute(&w, d.id).credited.is_empty(), "a refused session credits nobody");
    }
    assert!(matches!(run(&w, &leader, session(&d, vec![leader.user_id, own.user_id])), Verdict::Apply(_)));
    assert_eq!(dispute(&w, d.id).credited, vec![leader.user_id, own.user_id]);
    // the stable codes on the wire
    assert_eq!(RejectionCode::MediatorUnknown.as_str(), "mediator_unknown");
    assert_eq!(RejectionCode::MediatorNotAllowed.as_str(), "mediator_not_allowed");
    assert_eq!(RejectionCode::MediatorDisabled.as_str(), "mediator_disabled");
}

#[test]
fn a_view_that_cannot_tell_leaves_the_payee_rule_to_the_server() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let d = new_dispute(&mut w, &leader, Grade::General, 21);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    /// A phone: it knows no one but through the world's records.
    struct Phone<'a>(&'a World);
    impl StateView for Phone<'_> {
        fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
            self.0.get(kind, id)
        }
        fn case_block_owner(&self, _: i32, _: u32) -> Result<Option<Uuid>, ViewError> {
            Ok(None)
        }
        fn case_number_holder(&self, _: &str) -> Result<Option<Uuid>, ViewError> {
            Ok(None)
        }
        fn lead_visit(&self, _: Uuid) -> Result<Option<Uuid>, ViewError> {
            Ok(None)
        }
        fn person(&self, _: Uuid) -> Result<crate::decide::view::PersonLookup, ViewError> {
            Ok(crate::decide::view::PersonLookup::CannotTell)
        }
    }
    let op = session(&d, vec![Uuid::now_v7()]);
    let v =
        crate::decide::apply::decide(&env(&leader, op.clone()), &leader, &Policy::default(), &Phone(&w), Utc::now());
    assert!(matches!(v, Ok(Verdict::Apply(_))), "the phone lets it through: {v:?}");
    assert_eq!(code(&run(&w, &leader, op)), Some(RejectionCode::MediatorUnknown), "the server refuses");
}

/// Group leader mediates, the village takes the case over and resolves it:
/// both levels keep their credit and split the one subsidy 40 / 60.
#[test]
fn moving_up_keeps_the_lower_levels_credit_and_the_split_sums_exactly() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let first_sec = person(Role::FirstSecretary, V1);
    let (m1, m2) = (enrol(&w, Role::Mediator, V1), enrol(&w, Role::Mediator, V1));
    let d = new_dispute(&mut w, &leader, Grade::Larger, 22);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    assert!(matches!(run(&w, &leader, session(&d, vec![])), Verdict::Apply(_)));
    let e = escalation(&d, Level::Village);
    run(&w, &leader, Op::RequestEscalation(e.clone()));
    assert!(matches!(run(&w, &first_sec, decide_op(&e, true)), Verdict::Apply(_)));
    let moved = dispute(&w, d.id);
    assert!(moved.credited.is_empty());
    assert_eq!(moved.earlier_credit, vec![LevelCredit { level: Level::Group, mediators: vec![leader.user_id] }]);
    assert!(matches!(run(&w, &m1, session(&d, vec![m1.user_id, m2.user_id])), Verdict::Apply(_)));
    let v = run(&w, &m1, close_resolved(&d));
    let subs = subsidies_of(&v);
    // larger + medium = 25 000 fen: the village 60 % (15 000, 7 500 each), the group 10 000
    let owed = |who: Uuid| subs.iter().find(|s| s.payee == who).map(|s| s.amount_fen);
    assert_eq!(owed(leader.user_id), Some(10_000));
    assert_eq!((owed(m1.user_id), owed(m2.user_id)), (Some(7_500), Some(7_500)));
    assert_eq!(subs.iter().map(|s| s.amount_fen).sum::<i64>(), 25_000);
    // an odd amount under an odd percent still sums exactly
    let mut odd = Policy::default();
    odd.subsidy.base_larger_fen = 20_001;
    odd.subsidy.resolving_level_percent = 33;
    let d2 = dispute(&w, d.id);
    let shares = crate::model::credit::case_payee_shares(&d2, 25_001, &odd).unwrap();
    assert_eq!(shares.iter().map(|(_, a)| a).sum::<i64>(), 25_001);
    assert_eq!(shares.iter().find(|(p, _)| *p == leader.user_id).map(|(_, a)| *a), Some(25_001 - 8_250));
}

/// The judicial office resolves a case the group and village tried: its staff
/// are credited (statistics) but not paid; the lower levels keep their share.
#[test]
fn a_credited_official_outside_the_paid_list_gets_credit_and_no_money() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let first_sec = person(Role::FirstSecretary, V1);
    let judicial = enrol(&w, Role::JudicialOffice, TOWN);
    let mediator = enrol(&w, Role::Mediator, V1);
    let d = new_dispute(&mut w, &leader, Grade::General, 23);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    run(&w, &leader, session(&d, vec![]));
    let e = escalation(&d, Level::Village);
    run(&w, &leader, Op::RequestEscalation(e.clone()));
    run(&w, &first_sec, decide_op(&e, true));
    assert!(matches!(run(&w, &mediator, session(&d, vec![])), Verdict::Apply(_)));
    let e2 = Escalation { from_level: Level::Village, ..escalation(&d, Level::JudicialOffice) };
    assert!(matches!(run(&w, &mediator, Op::RequestEscalation(e2.clone())), Verdict::Apply(_)));
    assert!(matches!(run(&w, &judicial, decide_op(&e2, true)), Verdict::Apply(_)));
    assert!(matches!(run(&w, &judicial, session(&d, vec![])), Verdict::Apply(_)));
    let v = run(&w, &judicial, close_resolved(&d));
    let closed = dispute(&w, d.id);
    assert_eq!(closed.credited, vec![judicial.user_id], "credited in the statistics");
    assert_eq!(closed.payees, vec![leader.user_id, mediator.user_id]);
    let subs = subsidies_of(&v);
    // general + medium = 15 000: the office's 60 % (9 000) is not paid; 3 000 each below
    assert_eq!(subs.len(), 2);
    assert!(subs.iter().all(|s| s.amount_fen == 3_000 && s.payee != judicial.user_id));
    // a county that pays its office staff lists the role
    let mut pays_all = Policy::default();
    pays_all.subsidy.paid_roles.push(Role::JudicialOffice);
    assert!(crate::decide::payees::is_paid(
        &w,
        &pays_all,
        judicial.user_id,
        Level::JudicialOffice,
        u(TOWN),
        &[u(TOWN), u(COUNTY)]
    )
    .unwrap());
    assert!(!crate::decide::payees::is_paid(
        &w,
        &Policy::default(),
        judicial.user_id,
        Level::JudicialOffice,
        u(TOWN),
        &[u(TOWN), u(COUNTY)]
    )
    .unwrap());
}

fn consultation(village: u128) -> Consultation {
    Consultation {
        id: Uuid::now_v7(),
        village_id: u(village),
        at: Utc::now(),
        question: "土地流转合同怎么签".into(),
        answer: "书面合同，写明期限".into(),
        satisfaction: Satisfaction::Satisfied,
        advisor: Uuid::nil(),
        outcome: Some(ConsultationOutcome::Solved),
        review: None,
    }
}

fn subsidy_of(w: &World, c: &Consultation, advisor: &Actor) -> crate::model::subsidy::Subsidy {
    match w.get(EntityKind::Subsidy, crate::model::subsidy::subsidy_id(c.id, advisor.user_id)).unwrap() {
        Some(Record::Subsidy(s)) => s,
        other => panic!("{other:?}"),
    }
}

fn review(c: &Consultation, outcome: ConsultationOutcome, satisfaction: Satisfaction) -> Op {
    Op::ReviewConsultation(ReviewConsultation {
        consultation_id: c.id,
        outcome,
        satisfaction,
        note: "回访当事人".into(),
    })
}

#[test]
fn an_unreviewed_consultation_pays_nothing_and_the_review_prices_it() {
    let w = world();
    let advisor = person(Role::LegalAdvisor, V1);
    let mut c = consultation(V1);
    // the advisor's payload cannot carry a review of its own
    c.review = Some(crate::model::subsidy::ConsultationReview {
        outcome: ConsultationOutcome::Solved,
        satisfaction: Satisfaction::Satisfied,
        note: String::new(),
        reviewer: advisor.user_id,
        reviewed_at: Utc::now(),
    });
    assert!(matches!(run(&w, &advisor, Op::RecordConsultation(c.clone())), Verdict::Apply(_)));
    let s = subsidy_of(&w, &c, &advisor);
    assert_eq!((s.status, s.approved_at), (SubsidyStatus::Accrued, None), "not approved before review");
    assert_eq!(s.amount_fen, 2_000, "an estimate from the advisor's own record");
    match w.get(EntityKind::Consultation, c.id).unwrap() {
        Some(Record::Consultation(stored)) => assert!(stored.review.is_none()),
        other => panic!("{other:?}"),
    }
    // the county cannot batch it yet
    let admin = person(Role::CountyAdmin, COUNTY);
    let batch = |id: Uuid| Op::CreatePaymentBatch(crate::wire::CreatePaymentBatch { id, subsidy_ids: vec![s.id] });
    assert_eq!(code(&run(&w, &admin, batch(Uuid::now_v7()))), Some(RejectionCode::InvalidState));
    // reviewed by the same rule as case files: the town's judicial office, not the advisor or the village
    let secretary = person(Role::VillageSecretary, V1);
    let judicial = person(Role::JudicialOffice, TOWN);
    let r = run(&w, &secretary, review(&c, ConsultationOutcome::Solved, Satisfaction::Satisfied));
    assert_eq!(code(&r), Some(RejectionCode::RoleNotAllowed), "a secretary sees it but cannot review");
    let r = run(&w, &advisor, review(&c, ConsultationOutcome::Solved, Satisfaction::Satisfied));
    assert_eq!(code(&r), Some(RejectionCode::RoleNotAllowed));
    assert!(rejection(&r).message.contains("司法所"));
    // the review corrects the outcome: referred on, villager neutral → 60 % of 2 000
    assert!(matches!(
        run(&w, &judicial, review(&c, ConsultationOutcome::Referred, Satisfaction::Neutral)),
        Verdict::Apply(_)
    ));
    let s = subsidy_of(&w, &c, &advisor);
    assert_eq!((s.status, s.amount_fen), (SubsidyStatus::Approved, 1_200));
    // a second review before batching re-prices it
    assert!(matches!(
        run(&w, &judicial, review(&c, ConsultationOutcome::NotSolved, Satisfaction::Dissatisfied)),
        Verdict::Apply(_)
    ));
    assert_eq!(subsidy_of(&w, &c, &advisor).amount_fen, 0);
    run(&w, &judicial, review(&c, ConsultationOutcome::Solved, Satisfaction::Neutral));
    assert_eq!(subsidy_of(&w, &c, &advisor).amount_fen, 1_600);
    // once batched the review stands
    assert!(matches!(run(&w, &admin, batch(Uuid::now_v7())), Verdict::Apply(_)));
    let late = run(&w, &judicial, review(&c, ConsultationOutcome::Solved, Satisfaction::Satisfied));
    assert_eq!(code(&late), Some(RejectionCode::InvalidState));
    assert_eq!(subsidy_of(&w, &c, &advisor).amount_fen, 1_600);
}

#[test]
fn a_consultation_without_an_outcome_accrues_at_nothing() {
    let w = world();
    let advisor = person(Role::LegalAdvisor, V1);
    let c = Consultation { outcome: None, ..consultation(V1) };
    // an older payload without the field parses
    let mut json = serde_json::to_value(&c).unwrap();
    json.as_object_mut().unwrap().remove("outcome");
    assert_eq!(serde_json::from_value::<Consultation>(json).unwrap(), c);
    run(&w, &advisor, Op::RecordConsultation(c.clone()));
    assert_eq!(subsidy_of(&w, &c, &advisor).amount_fen, 0);
}
