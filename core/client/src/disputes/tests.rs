//! Offline dispute work on one phone, with no server: case numbers taken from
//! held blocks (unique, durable across reopen, a clear error once spent), and
//! the optimistic view after a request made here.

use std::sync::Arc;

use fengqiao_domain::disputes::{Analysis, Difficulty, EscalationReason, Party};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use fengqiao_domain::wire::{GrantInfo, UserInfo};
use uuid::Uuid;

use crate::store::{ClientStore, HeldCaseBlock, StoredSession};
use crate::*;

fn unit(n: u128, code: &str, level: UnitLevel, parent: Option<u128>) -> OrgUnit {
    OrgUnit {
        id: Uuid::from_u128(n),
        code: code.into(),
        name: code.into(),
        level,
        parent: parent.map(Uuid::from_u128),
        kind: None,
        offices: vec![],
    }
}

const LEADER: u128 = 100;
const GROUP: u128 = 4;

/// Signs a group leader in on `store` (no server: the session is written as a
/// login would write it) and hands them a block of `size` numbers.
fn leader_on(store: Arc<dyn ClientStore>, size: u32, block: u32) -> FieldClient {
    let ancestors = vec![
        unit(GROUP, "G01", UnitLevel::Group, Some(3)),
        unit(3, "V01", UnitLevel::Village, Some(2)),
        unit(2, "T01", UnitLevel::Town, Some(1)),
        unit(1, "C01", UnitLevel::County, None),
    ];
    let user = UserInfo {
        id: Uuid::from_u128(LEADER),
        username: "leader".into(),
        display_name: "组长".into(),
        roles: vec![GrantInfo {
            grant: RoleGrant { role: Role::GroupLeader, unit_id: Uuid::from_u128(GROUP) },
            unit_name: "一组".into(),
            ancestors,
            offices: vec![],
        }],
    };
    store.save_session(&StoredSession { user, tokens: None }).expect("session");
    if size > 0 {
        let held = HeldCaseBlock { owner: Uuid::from_u128(LEADER), year: 2026, block, size, next: 0 };
        store.add_case_block(&held).expect("block");
    }
    FieldClient::with_store(store, "http://127.0.0.1:9".into(), ClientOptions::default()).expect("client")
}

fn new_dispute(summary: &str) -> NewDispute {
    NewDispute {
        kind: "neighbour".into(),
        origin_unit: Uuid::from_u128(GROUP),
        parties: vec![Party { name: "王五".into(), household_id: None, phone: None }],
        summary: summary.into(),
        grade: Grade::General,
        analysis: Analysis { cause: "排水".into(), consequences: "争吵".into(), difficulty: Difficulty::Low },
        found_at: None,
        lead_id: None,
        level: None,
    }
}

#[test]
fn numbers_are_taken_in_order_once_each_and_run_out_clearly() {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    let phone = leader_on(store.clone(), 3, 7);
    let numbers: Vec<String> =
        (0..3).map(|i| phone.report_dispute(new_dispute(&format!("第{i}起"))).expect("report").case_number).collect();
    assert_eq!(numbers, vec!["T01V01-2026-0007-000", "T01V01-2026-0007-001", "T01V01-2026-0007-002"]);
    assert_eq!(phone.case_numbers_left().expect("left"), 0);
    let err = phone.report_dispute(new_dispute("第四起")).expect_err("spent");
    assert_eq!(
        err,
        ClientError::Rejected {
            reason: "no_case_numbers".into(),
            message: "no case numbers left on this phone: connect once to reserve more".into(),
        }
    );
    assert_eq!(store.outbox_len(None).expect("len"), 3, "nothing queued for the refused report");
    // bad input is told as such, not as the numbers having run out
    let bad =
        phone.report_dispute(NewDispute { kind: "spaceship".into(), ..new_dispute("第五起") }).expect_err("bad kind");
    assert!(matches!(&bad, ClientError::InvalidInput { reason, .. } if reason == "invalid_field"), "{bad:?}");
    assert_eq!(store.outbox_len(None).expect("len"), 3, "nothing queued for the bad report");
    let listed = phone.list_disputes().expect("list");
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|i| i.pending && i.handled_by_me && i.dispute.level == Level::Group));
}

#[test]
fn the_next_index_survives_reopening_the_phone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = {
        let store: Arc<dyn ClientStore> =
            Arc::new(SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open"));
        let phone = leader_on(store, 100, 2);
        phone.report_dispute(new_dispute("一")).expect("report").case_number
    };
    // sled releases its lock asynchronously: retry the reopen briefly
    let mut reopened = None;
    for _ in 0..50 {
        match SledClientStore::open(dir.path(), &crate::store::test_key()) {
            Ok(s) => {
                reopened = Some(s);
                break;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    let store: Arc<dyn ClientStore> = Arc::new(reopened.expect("reopen"));
    let phone = leader_on(store, 0, 0);
    let second = phone.report_dispute(new_dispute("二")).expect("report").case_number;
    assert_eq!((first.as_str(), second.as_str()), ("T01V01-2026-0002-000", "T01V01-2026-0002-001"));
    assert_eq!(phone.case_numbers_left().expect("left"), 98);
}

#[test]
fn a_request_made_here_shows_at_once_and_blocks_closing() {
    let phone = leader_on(Arc::new(MemoryClientStore::new()), 10, 1);
    let d = phone.report_dispute(new_dispute("邻里纠纷")).expect("report");
    let actions = phone.allowed_actions(d.id).expect("actions");
    assert_eq!(actions.escalate_to, vec![Level::Village], "one step for a general dispute");
    assert!(actions.record && actions.close && actions.decide.is_none());
    let e =
        phone.request_escalation(d.id, Level::Village, EscalationReason::RepeatedMediationFailed, "两次未果".into());
    let e = e.expect("request");
    assert_eq!((e.from_level, e.requested_by), (Level::Group, Uuid::from_u128(LEADER)));
    let item = phone.dispute(d.id).expect("item");
    assert_eq!(item.pending_escalation.map(|p| p.id), Some(e.id));
    let actions = phone.allowed_actions(d.id).expect("actions");
    assert!(actions.escalate_to.is_empty() && !actions.close && actions.record);
    assert!(phone.decide_escalation(e.id, true, String::new()).is_err(), "nobody decides their own request");
    let err = phone.close_dispute(d.id, fengqiao_domain::disputes::ClosingOutcome::Resolved, String::new());
    assert_eq!(err.expect_err("waiting").code(), "rejected");
    assert!(phone.escalation_inbox().expect("inbox").is_empty(), "a group leader approves nothing");
    let skip = phone.request_escalation(d.id, Level::JudicialOffice, EscalationReason::Other, "x".into());
    assert!(skip.is_err());
}

/// Re-grading is offered exactly when the domain would accept it: to the
/// handler while the dispute is open and no escalation waits.
#[test]
fn regrade_is_offered_to_the_handler_while_open_and_nothing_waits() {
    let phone = leader_on(Arc::new(MemoryClientStore::new()), 10, 1);
    let d = phone.report_dispute(new_dispute("邻里纠纷")).expect("report");
    assert!(phone.allowed_actions(d.id).expect("actions").regrade);
    let analysis =
        Analysis { cause: "宅基地".into(), consequences: "可能动手".into(), difficulty: Difficulty::High };
    let regraded = phone.regrade_dispute(d.id, Grade::Larger, analysis.clone(), "查明涉及宅基地".into());
    assert_eq!(regraded.expect("offered, so accepted").grade, Grade::Larger);
    let e = phone.request_escalation(d.id, Level::Village, EscalationReason::OutsideLevelScope, String::new());
    e.expect("request");
    assert!(!phone.allowed_actions(d.id).expect("actions").regrade, "a request waits");
    let refused = phone.regrade_dispute(d.id, Grade::Major, analysis, "更重".into());
    assert!(matches!(&refused, Err(ClientError::Rejected { reason, .. }) if reason == "invalid_state"), "{refused:?}");

    let other = phone.report_dispute(new_dispute("另一起")).expect("report");
    phone.close_dispute(other.id, fengqiao_domain::disputes::ClosingOutcome::Resolved, String::new()).expect("close");
    assert!(!phone.allowed_actions(other.id).expect("actions").regrade, "closed");
}

/// One rule for every operation: a text over its limit is the input's fault
/// (`invalid_input`, reason `text_too_long`), for a dispute's note as for a
/// visit's (see `tests::visits_are_recorded_offline_validated_and_checked`).
#[test]
fn a_text_over_its_limit_is_invalid_input_for_every_operation() {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    let phone = leader_on(store.clone(), 10, 1);
    let d = phone.report_dispute(new_dispute("邻里纠纷")).expect("report");
    let long = "字".repeat(fengqiao_domain::policy::Policy::default().text.max_note_chars + 1);
    let err = phone.close_dispute(d.id, fengqiao_domain::disputes::ClosingOutcome::Resolved, long);
    let err = err.expect_err("too long");
    assert!(matches!(&err, ClientError::InvalidInput { reason, .. } if reason == "text_too_long"), "{err:?}");
    assert_eq!(store.outbox_len(None).expect("len"), 1, "only the report is queued");
}

/// On a shared phone, another user's unsynced dispute is not theirs to act
/// on: the rules' view hides it, for a case record as for a photo.
#[test]
fn another_users_unsynced_dispute_is_not_theirs_to_act_on() {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    let phone = leader_on(store.clone(), 10, 1);
    let d = phone.report_dispute(new_dispute("邻里纠纷")).expect("report");
    // A second leader of the same group signs in on this phone.
    let mut other = store.load_session().expect("session").expect("session");
    other.user.id = Uuid::from_u128(LEADER + 1);
    other.user.username = "leader2".into();
    store.save_session(&other).expect("session");
    let session = NewSession {
        dispute_id: d.id,
        held_at: None,
        place: "村委会".into(),
        mediators: vec![],
        participants: vec![],
        record: "调解".into(),
        agreed: false,
    };
    let err = phone.record_session(session).expect_err("not theirs");
    assert!(matches!(&err, ClientError::Rejected { reason, .. } if reason == "not_in_jurisdiction"), "{err:?}");
    assert_eq!(store.outbox_len(Some(Uuid::from_u128(LEADER + 1))).expect("len"), 0, "nothing queued");
    assert_eq!(phone.allowed_actions(d.id).expect("actions"), DisputeActions::default(), "nothing offered");
}

const SECRETARY: u128 = 200;

/// Signs a village's first secretary in on a phone whose town two judicial
/// office units serve (`offices` as `/v1/me` names them), with numbers to report.
fn secretary_in_two_office_town(store: Arc<dyn ClientStore>) -> FieldClient {
    let mut town = unit(2, "T01", UnitLevel::Town, Some(1));
    town.offices = vec![Uuid::from_u128(51), Uuid::from_u128(50)];
    let ancestors = vec![unit(3, "V01", UnitLevel::Village, Some(2)), town, unit(1, "C01", UnitLevel::County, None)];
    let mut west = unit(51, "SF2", UnitLevel::JudicialOffice, Some(1));
    west.name = "西所".into();
    let mut central = unit(50, "SF1", UnitLevel::JudicialOffice, Some(1));
    central.name = "中心司法所".into();
    let user = UserInfo {
        id: Uuid::from_u128(SECRETARY),
        username: "firstsec".into(),
        display_name: "第一书记".into(),
        roles: vec![GrantInfo {
            grant: RoleGrant { role: Role::FirstSecretary, unit_id: Uuid::from_u128(3) },
            unit_name: "一村".into(),
            ancestors,
            offices: vec![west, central],
        }],
    };
    store.save_session(&StoredSession { user, tokens: None }).expect("session");
    let held = HeldCaseBlock { owner: Uuid::from_u128(SECRETARY), year: 2026, block: 1, size: 10, next: 0 };
    store.add_case_block(&held).expect("block");
    FieldClient::with_store(store, "http://127.0.0.1:9".into(), ClientOptions::default()).expect("client")
}

/// A town served by two offices: the core lists both by code, offers the third
/// level, refuses a request that names none (`office_choice_required`) or one
/// that does not serve the town (`office_not_serving`), and queues the one that
/// names a serving office, which an approval here would move to that office.
#[test]
fn a_town_served_by_two_offices_needs_the_office_chosen() {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    let phone = secretary_in_two_office_town(store.clone());
    let nd =
        NewDispute { origin_unit: Uuid::from_u128(3), level: Some(Level::Village), ..new_dispute("宅基地纠纷") };
    let d = phone.report_dispute(nd).expect("report");
    let offices = phone.offices_for(d.id).expect("offices");
    let listed: Vec<(&str, &str)> = offices.iter().map(|u| (u.code.as_str(), u.name.as_str())).collect();
    assert_eq!(listed, vec![("SF1", "中心司法所"), ("SF2", "西所")]);
    assert_eq!(phone.allowed_actions(d.id).expect("actions").escalate_to, vec![Level::JudicialOffice]);
    let ask = |to: Option<Uuid>| {
        phone.request_escalation_to(d.id, Level::JudicialOffice, EscalationReason::Other, "疑难".into(), to)
    };
    let none = ask(None).expect_err("no office chosen");
    assert!(matches!(&none, ClientError::Rejected { reason, .. } if reason == "office_choice_required"), "{none:?}");
    let other = ask(Some(Uuid::from_u128(2))).expect_err("the town is not one of its offices");
    assert!(matches!(&other, ClientError::Rejected { reason, .. } if reason == "office_not_serving"), "{other:?}");
    assert_eq!(store.outbox_len(None).expect("len"), 1, "only the report is queued");
    let e = ask(Some(Uuid::from_u128(51))).expect("request");
    assert_eq!((e.to_level, e.to_unit), (Level::JudicialOffice, Some(Uuid::from_u128(51))));
    assert_eq!(phone.dispute(d.id).expect("item").pending_escalation.map(|p| p.id), Some(e.id));
    assert!(phone.offices_for(Uuid::from_u128(999)).expect("unknown dispute").is_empty());
}
