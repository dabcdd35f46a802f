//! Words a villager's cadre reads: every rejection code is driven through at
//! least one real refusal by `decide`, and its message is plain Chinese naming
//! the rule — no raw code, no English rule text (the stable code stays on the
//! rejection for support).

use super::offices::{at_village, offices_world, to_office, OFFICE_A, OFFICE_B};
use super::review::{resolved_case, review, subsidies};
use super::*;
use crate::model::prevent::{rules_id, NegativeItem, Sanction, VillageRules};
use crate::wire::CreatePaymentBatch;
use crate::WIRE_VERSION;

/// The rejection of `v` (a refusal is what each case below must get).
fn refused(v: Verdict) -> Rejection {
    match v {
        Verdict::Reject(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Decides `env` for `actor` (who need not be its author) without storing anything.
fn decide_env(w: &World, actor: &Actor, env: OpEnvelope) -> Rejection {
    refused(crate::decide::apply::decide(&env, actor, &Policy::default(), w, Utc::now()).unwrap())
}

/// One refusal for `code`, made for real on a fresh world.
fn refusal_for(code: RejectionCode) -> Rejection {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let d = new_dispute(&mut w, &leader, Grade::General, 40);
    let report = |w: &World, d: &Dispute| run(w, &leader, Op::ReportDispute(d.clone()));
    match code {
        RejectionCode::InvalidField => refused(report(&w, &Dispute { parties: vec![], ..d })),
        RejectionCode::NotInJurisdiction => {
            assert!(matches!(report(&w, &d), Verdict::Apply(_)));
            refused(run(&w, &person(Role::GroupLeader, G2), session(&d, vec![])))
        }
        RejectionCode::RoleNotAllowed => {
            let batch = CreatePaymentBatch { id: Uuid::now_v7(), subsidy_ids: vec![Uuid::now_v7()] };
            refused(run(&w, &leader, Op::CreatePaymentBatch(batch)))
        }
        RejectionCode::AuthorMismatch => {
            decide_env(&w, &leader, env(&person(Role::GroupLeader, G1), Op::ReportDispute(d)))
        }
        RejectionCode::IdConflict => {
            assert!(matches!(report(&w, &d), Verdict::Apply(_)));
            refused(report(&w, &Dispute { summary: "另一件事".into(), ..d }))
        }
        RejectionCode::UnsupportedVersion => {
            let newer = OpEnvelope { v: WIRE_VERSION + 1, ..env(&leader, Op::ReportDispute(d)) };
            decide_env(&w, &leader, newer)
        }
        RejectionCode::InvalidState => {
            assert!(matches!(report(&w, &d), Verdict::Apply(_)));
            let close = || {
                Op::CloseDispute(CloseDispute {
                    dispute_id: d.id,
                    outcome: ClosingOutcome::Resolved,
                    note: String::new(),
                })
            };
            assert!(matches!(run(&w, &leader, close()), Verdict::Apply(_)));
            refused(run(&w, &leader, close()))
        }
        RejectionCode::SelfApproval => {
            // a group leader who is also the village's first secretary
            let both = Actor {
                user_id: leader.user_id,
                grants: vec![
                    RoleGrant { role: Role::GroupLeader, unit_id: u(G1) },
                    RoleGrant { role: Role::FirstSecretary, unit_id: u(V1) },
                ],
            };
            assert!(matches!(report(&w, &d), Verdict::Apply(_)));
            let e = escalation(&d, Level::Village);
            assert!(matches!(run(&w, &both, Op::RequestEscalation(e.clone())), Verdict::Apply(_)));
            refused(run(&w, &both, decide_op(&e, true)))
        }
        RejectionCode::TextTooLong => refused(report(&w, &Dispute { summary: "字".repeat(4001), ..d })),
        RejectionCode::OfficeChoiceRequired | RejectionCode::OfficeNotServing => {
            let mut w = offices_world(&[OFFICE_A, OFFICE_B], &[OFFICE_B]);
            let (d, first_sec) = at_village(&mut w, false, 0);
            let office = if code == RejectionCode::OfficeNotServing { Some(V2) } else { None };
            refused(run(&w, &first_sec, Op::RequestEscalation(to_office(&d, office))))
        }
        RejectionCode::ProtectedBenefit => {
            let item = NegativeItem {
                code: "illegal_building".into(),
                label_zh: "违章建房".into(),
                sanctions: vec![Sanction::ServicesSuspended { services: vec!["低保".into()] }],
                correction_days: 15,
            };
            let rules = VillageRules {
                id: rules_id(u(V1)),
                village_id: u(V1),
                items: vec![item],
                legality_reviewed: false,
                reviewed_by: None,
                reviewed_at: None,
                adoption: None,
            };
            refused(run(&w, &person(Role::VillageSecretary, V1), Op::SetVillageRules(rules)))
        }
        RejectionCode::MediatorUnknown | RejectionCode::MediatorDisabled | RejectionCode::MediatorNotAllowed => {
            assert!(matches!(report(&w, &d), Verdict::Apply(_)));
            let payee = match code {
                RejectionCode::MediatorUnknown => Uuid::now_v7(),
                RejectionCode::MediatorNotAllowed => enrol(&w, Role::Mediator, V2).user_id,
                _ => {
                    let gone = enrol(&w, Role::Mediator, V1).user_id;
                    if let Some(f) = w.people.borrow_mut().get_mut(&gone) {
                        f.enabled = false;
                    }
                    gone
                }
            };
            refused(run(&w, &leader, session(&d, vec![leader.user_id, payee])))
        }
        RejectionCode::CorrectionReasonRequired | RejectionCode::SubsidyAlreadyPaid => {
            let judicial = person(Role::JudicialOffice, TOWN);
            let d = resolved_case(&mut w, &leader, Grade::Major, 41);
            if code == RejectionCode::SubsidyAlreadyPaid {
                assert!(matches!(run(&w, &judicial, review(&d, None, None, "")), Verdict::Apply(_)));
                let ids = subsidies(&w, d.id).iter().map(|s| s.id).collect();
                let batch = CreatePaymentBatch { id: Uuid::now_v7(), subsidy_ids: ids };
                assert!(matches!(
                    run(&w, &person(Role::CountyAdmin, COUNTY), Op::CreatePaymentBatch(batch)),
                    Verdict::Apply(_)
                ));
            }
            let reason = if code == RejectionCode::SubsidyAlreadyPaid { "复查" } else { "" };
            refused(run(&w, &judicial, review(&d, Some(Grade::General), None, reason)))
        }
    }
}

#[test]
fn every_rejection_code_is_refused_in_plain_chinese_naming_the_rule() {
    for code in RejectionCode::ALL {
        let r = refusal_for(*code);
        assert_eq!(r.code, *code, "{}", r.message);
        assert_eq!(crate::wire::rejection::unreadable_reason(&r.message), None, "{}: {}", code.as_str(), r.message);
        assert!(!r.message.contains(code.as_str()), "{}", r.message);
        // the rule is named: a subject before the colon, then why
        assert!(r.message.contains('：'), "{}: {}", code.as_str(), r.message);
    }
}

#[test]
fn the_field_is_named_in_the_users_words() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let d = new_dispute(&mut w, &leader, Grade::General, 42);
    let r = refused(run(&w, &leader, Op::ReportDispute(Dispute { parties: vec![], ..d.clone() })));
    assert_eq!(r.message, "当事人：每件纠纷 1 至 200 人");
    let r = refused(run(&w, &leader, Op::ReportDispute(Dispute { summary: " ".into(), ..d })));
    assert!(r.message.starts_with("纠纷概要："), "{}", r.message);
}
