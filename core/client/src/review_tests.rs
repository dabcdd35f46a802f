//! Case-file review on one phone, with no server: the judicial office's queue
//! with the checklist and missing items in words, the review through the one
//! op path (refused as the server would), and the returned file's reasons in
//! words for the mediator.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use fengqiao_domain::disputes::{Analysis, Closing, ClosingOutcome, Difficulty, Dispute, Party};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use fengqiao_domain::subsidy::FileItem;
use fengqiao_domain::wire::{Change, ChangeAction, GrantInfo, UserInfo};
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use crate::store::{ClientStore, PulledPage, StoredSession};
use crate::*;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn unit(n: u128, code: &str, level: UnitLevel, parent: Option<u128>) -> OrgUnit {
    OrgUnit {
        id: id(n),
        code: code.into(),
        name: code.into(),
        level,
        parent: parent.map(id),
        kind: None,
        offices: vec![],
    }
}

fn chain() -> Vec<OrgUnit> {
    vec![
        unit(4, "G01", UnitLevel::Group, Some(3)),
        unit(3, "V01", UnitLevel::Village, Some(2)),
        unit(2, "T01", UnitLevel::Town, Some(1)),
        unit(1, "C01", UnitLevel::County, None),
    ]
}

fn resolved() -> Dispute {
    let at = Utc.with_ymd_and_hms(2026, 5, 10, 3, 0, 0).single().expect("time");
    Dispute {
        id: id(10),
        case_number: "T01V01-2026-0001-010".into(),
        kind: "neighbour".into(),
        origin_unit: id(4),
        parties: vec![Party { name: "王五".into(), household_id: None, phone: None }],
        summary: "排水沟".into(),
        grade: Grade::General,
        analysis: Analysis { cause: "排水".into(), consequences: "争吵".into(), difficulty: Difficulty::Low },
        found_at: at,
        lead_id: None,
        reported_by: id(100),
        level: Level::Village,
        handler_unit: id(3),
        level_since: at,
        registered_at: at,
        pending_escalation: None,
        closing: Some(Closing {
            outcome: ClosingOutcome::Resolved,
            note: String::new(),
            closed_by: id(100),
            closed_at: at + Duration::days(3),
            level: Level::Village,
        }),
        flow_count: 3,
        case_file: vec![FileItem { item: "intake_form".into(), kind: EntityKind::Dispute, id: id(10) }],
        credited: vec![id(100)],
        earlier_credit: vec![],
        payees: vec![id(100)],
        deadline_floor: None,
        policy_version: String::new(),
        deadlines: None,
    }
}

fn phone_as(user: u128, role: Role, at: u128) -> FieldClient {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    let info = UserInfo {
        id: id(user),
        username: "u".into(),
        display_name: "u".into(),
        roles: vec![GrantInfo {
            grant: RoleGrant { role, unit_id: id(at) },
            unit_name: "x".into(),
            ancestors: chain().into_iter().skip_while(|u| u.id != id(at)).collect(),
            offices: vec![],
        }],
    };
    store.save_session(&StoredSession { user: info, tokens: None }).expect("session");
    let records = vec![Record::Unit(chain()[0].clone()), Record::Unit(chain()[1].clone()), Record::Dispute(resolved())];
    let changes = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| Change {
            seq: i as u64 + 1,
            action: ChangeAction::Put,
            entity: r.kind(),
            id: r.id(),
            record: Some(r),
        })
        .collect();
    store.apply_pulled(id(user), &PulledPage { reset: false, changes, next_cursor: "3".into() }).expect("pull");
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 5, 20, 3, 0, 0).single().expect("time")));
    FieldClient::with_store(store, "http://127.0.0.1:9".into(), ClientOptions { clock, ..ClientOptions::default() })
        .expect("client")
}

fn review(passed: bool, reasons: &[&str]) -> NewReview {
    NewReview {
        dispute_id: id(10),
        score: 90,
        passed,
        reasons: reasons.iter().map(|s| s.to_string()).collect(),
        reviewed_grade: None,
        reviewed_difficulty: None,
        correction_reason: String::new(),
    }
}

#[test]
fn the_judicial_office_reviews_through_the_core_and_a_returned_file_reads_in_words() {
    let office = phone_as(500, Role::JudicialOffice, 2);
    let queue = office.review_queue().expect("queue");
    assert_eq!(queue.len(), 1, "{queue:#?}");
    let item = &queue[0];
    assert_eq!(item.dispute.dispute.id, id(10));
    assert!(item.missing.iter().any(|m| m == "权利义务告知书"), "{:?}", item.missing);
    assert!(item.checklist.iter().any(|l| l.code == "intake_form" && l.present && l.label == "受理登记表"));
    assert!(item.last_review.is_none());

    let e = office.review_case_file(review(true, &[])).expect_err("a file missing items cannot pass");
    match e {
        ClientError::InvalidInput { reason, message, .. } => {
            assert_eq!(reason, "invalid_field");
            assert!(message.contains("权利义务告知书"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let mut corrected = review(false, &["笔录字迹不清"]);
    corrected.reviewed_grade = Some(Grade::Larger);
    let e = office.review_case_file(corrected).expect_err("a correction needs its reason");
    assert!(matches!(e, ClientError::Rejected { ref reason, .. } if reason == "correction_reason_required"), "{e:?}");

    let r = office.review_case_file(review(false, &["笔录字迹不清"])).expect("returned");
    assert!(!r.passed && r.reasons.iter().any(|x| x == "missing: rights_notice"), "{:?}", r.reasons);
    assert!(office.review_queue().expect("queue").is_empty(), "reviewed here, waiting to be sent");
    let shown = office.case_reviews(id(10)).expect("reviews");
    assert_eq!(shown.len(), 1);
    assert!(shown[0].pending);
    assert!(shown[0].reasons.iter().any(|x| x == "缺少“权利义务告知书”"), "{:?}", shown[0].reasons);
    assert!(shown[0].reasons.iter().all(|x| !x.starts_with("missing:")));
    assert!(shown[0].reasons.contains(&"笔录字迹不清".to_string()));

    let leader = phone_as(100, Role::GroupLeader, 4);
    assert!(leader.review_queue().expect("queue").is_empty(), "not the judicial office");
    let e = leader.review_case_file(review(false, &["x"])).expect_err("leaders do not review");
    assert!(matches!(e, ClientError::Rejected { ref reason, .. } if reason == "role_not_allowed"), "{e:?}");
}
