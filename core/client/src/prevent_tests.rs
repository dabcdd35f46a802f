//! Prevention on one phone, with no server: a cadre records a violation and
//! files the screening offline through the domain's rules; a group leader
//! sees only whether services are suspended.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use fengqiao_domain::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use fengqiao_domain::prevent::{screening_period, standing_id, HouseholdStanding};
use fengqiao_domain::wire::{Change, ChangeAction, GrantInfo, UserInfo};
use fengqiao_domain::{Household, Record};
use uuid::Uuid;

use crate::store::{ClientStore, PulledPage, StoredSession};
use crate::*;

const COUNTY: u128 = 1;
const TOWN: u128 = 2;
const VILLAGE: u128 = 3;
const GROUP: u128 = 4;
const HOME: u128 = 50;

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

fn put(seq: u64, record: Record) -> Change {
    Change { seq, action: ChangeAction::Put, entity: record.kind(), id: record.id(), record: Some(record) }
}

/// A phone signed in as `role` at `unit` (no server: the session written as a
/// login would), holding the group and one household as pulled.
fn phone_as(role: Role, unit_id: u128, clock: Arc<ManualClock>) -> (FieldClient, Arc<dyn ClientStore>) {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    let chain = [
        unit(GROUP, "G01", UnitLevel::Group, Some(VILLAGE)),
        unit(VILLAGE, "V01", UnitLevel::Village, Some(TOWN)),
        unit(TOWN, "T01", UnitLevel::Town, Some(COUNTY)),
        unit(COUNTY, "C01", UnitLevel::County, None),
    ];
    let ancestors = chain.iter().skip_while(|u| u.id != Uuid::from_u128(unit_id)).cloned().collect();
    let user_id = Uuid::from_u128(1000 + unit_id);
    let user = UserInfo {
        id: user_id,
        username: "u".into(),
        display_name: "u".into(),
        roles: vec![GrantInfo {
            grant: RoleGrant { role, unit_id: Uuid::from_u128(unit_id) },
            unit_name: "一村".into(),
            ancestors,
            offices: vec![],
        }],
    };
    store.save_session(&StoredSession { user, tokens: None }).expect("session");
    let home = Household {
        id: Uuid::from_u128(HOME),
        group_id: Uuid::from_u128(GROUP),
        head_name: "张三".into(),
        address: "一组1号".into(),
        phone: None,
        code: None,
        id_number: None,
    };
    let page = PulledPage {
        reset: false,
        changes: vec![put(1, Record::Unit(chain[0].clone())), put(2, Record::Household(home))],
        next_cursor: "2".into(),
    };
    store.apply_pulled(user_id, &page).expect("pull");
    let options = ClientOptions { clock: clock.clone(), ..ClientOptions::default() };
    let client = FieldClient::with_store(store.clone(), "http://127.0.0.1:9".into(), options).expect("client");
    (client, store)
}

fn clock_at(y: i32, m: u32, d: u32, h: u32) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("time")))
}

fn violation(item: &str) -> NewViolation {
    NewViolation {
        household_id: Uuid::from_u128(HOME),
        item_code: item.into(),
        note: "连续三个月未缴水费".into(),
        evidence: vec![],
    }
}

#[test]
fn a_cadre_records_a_violation_offline_and_a_group_leader_may_not_see_it() {
    let (cadre, store) = phone_as(Role::VillageCadre, VILLAGE, clock_at(2026, 5, 20, 3));
    let list = cadre.negative_list(Uuid::from_u128(HOME)).expect("list");
    assert!(!list.is_empty() && list.len() <= 15, "the policy's default negative list");
    let item = list[0].code.clone();
    let v = cadre.record_violation(violation(&item)).expect("record");
    assert_eq!((v.household_id, v.item_code.as_str()), (Uuid::from_u128(HOME), item.as_str()));
    // no rules reviewed as lawful on this phone: kept, no sanction, as the server will decide
    assert!(v.sanctions.is_empty(), "{v:?}");
    assert_eq!(v.sanctions_withheld, Some(fengqiao_domain::prevent::SanctionsWithheld::RulesUnreviewed));
    assert_eq!(store.outbox_len(None).expect("len"), 1, "queued with its record");
    let seen = cadre.violations_for(Uuid::from_u128(HOME)).expect("violations");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].pending && !seen[0].quarantined && seen[0].violation.id == v.id);
    assert!(cadre.violations_for(Uuid::from_u128(HOME + 1)).expect("other").is_empty());

    let bad = cadre.record_violation(violation("not_on_the_list")).expect_err("unknown item");
    assert!(matches!(bad, ClientError::InvalidInput { ref reason, .. } if reason == "invalid_field"), "{bad:?}");
    let restore = cadre.restore_household(v.id, "已缴清".into()).expect_err("a cadre may not restore");
    assert!(matches!(restore, ClientError::Rejected { ref reason, .. } if reason == "role_not_allowed"));
    assert_eq!(store.outbox_len(None).expect("len"), 1, "nothing refused was queued");

    let (leader, _) = phone_as(Role::GroupLeader, GROUP, clock_at(2026, 5, 20, 3));
    let e = leader.violations_for(Uuid::from_u128(HOME)).expect_err("never the history");
    assert!(matches!(e, ClientError::Rejected { ref reason, .. } if reason == "role_not_allowed"));
    let e = leader.record_violation(violation(&item)).expect_err("leaders do not record");
    assert!(matches!(e, ClientError::Rejected { ref reason, .. } if reason == "role_not_allowed"), "{e:?}");
    assert!(!leader.household_standing(Uuid::from_u128(HOME)).expect("standing"), "no standing: not suspended");
}

#[test]
fn standing_shows_a_suspension_only_once_it_applies() {
    let clock = clock_at(2026, 5, 20, 3);
    let (leader, store) = phone_as(Role::GroupLeader, GROUP, clock.clone());
    let home = Uuid::from_u128(HOME);
    let starts = clock.now() + Duration::days(7);
    let standing =
        HouseholdStanding { id: standing_id(home), household_id: home, suspensions: vec![starts], commitment: None };
    let page = PulledPage {
        reset: false,
        changes: vec![put(3, Record::HouseholdStanding(standing))],
        next_cursor: "3".into(),
    };
    store.apply_pulled(Uuid::from_u128(1000 + GROUP), &page).expect("pull");
    assert!(!leader.household_standing(home).expect("standing"), "in the correction period");
    clock.advance(Duration::days(7));
    assert!(leader.household_standing(home).expect("standing"), "suspended from the end of the period");
    assert!(!leader.household_standing(Uuid::from_u128(HOME + 1)).expect("none"));
}

#[test]
fn the_screening_is_due_for_the_current_period_until_filed() {
    // 4 March 2026 16:30 UTC is already 5 March in the county: the Two Sessions, weekly.
    let clock = clock_at(2026, 3, 4, 17);
    let (cadre, store) = phone_as(Role::VillageSecretary, VILLAGE, clock.clone());
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 5).expect("date");
    let period = screening_period(today, &fengqiao_domain::policy::Policy::default());
    assert_eq!(period, "2026-W10");
    let due = cadre.screening_due().expect("due").expect("a screening is due");
    assert_eq!(
        (due.village_id, due.period.as_str(), due.village_name.as_str()),
        (Uuid::from_u128(VILLAGE), "2026-W10", "V01")
    );
    assert_eq!(due.due_on, chrono::NaiveDate::from_ymd_opt(2026, 3, 8).expect("date"), "due by the week's Sunday");

    let bad = NewScreening {
        village_id: Uuid::from_u128(VILLAGE),
        period: None,
        hazards: vec![],
        focus_areas: vec!["not_a_focus_area".into()],
        new_disputes: vec![],
        note: String::new(),
    };
    assert!(matches!(cadre.file_screening(bad.clone()), Err(ClientError::InvalidInput { .. })));
    let filed = cadre
        .file_screening(NewScreening { focus_areas: vec![], hazards: vec!["宅基地界线".into()], ..bad })
        .expect("file");
    assert_eq!(filed.period, "2026-W10");
    assert_eq!(cadre.screening_due().expect("due"), None, "filed here counts, before any sync");
    assert_eq!(store.outbox_len(None).expect("len"), 1);

    clock.advance(Duration::days(7));
    assert_eq!(cadre.screening_due().expect("due").map(|d| d.period), Some("2026-W11".to_string()));

    let (leader, _) = phone_as(Role::GroupLeader, GROUP, clock);
    assert_eq!(leader.screening_due().expect("due"), None, "group leaders do not file screenings");
}

/// Anyone who sees the household reads where its village's rules stand (in
/// Chinese from the domain) and its commitment letter; a cadre records the
/// letter offline, a group leader may not.
#[test]
fn household_rules_and_the_commitment_letter_offline() {
    let clock = clock_at(2026, 5, 20, 3);
    let home = Uuid::from_u128(HOME);
    let (leader, _) = phone_as(Role::GroupLeader, GROUP, clock.clone());
    let r = leader.household_rules(home).expect("rules");
    assert!(!r.rules_lawful && !r.suspended && r.adoption.is_none() && r.commitment.is_none());
    assert!(r.rules_status.contains("尚未经司法所合法性审查"), "{}", r.rules_status);
    let e = leader.record_commitment(home, true, chrono::NaiveDate::from_ymd_opt(2026, 5, 20)).expect_err("leader");
    assert!(matches!(e, ClientError::Rejected { ref reason, .. } if reason == "role_not_allowed"), "{e:?}");
    assert!(leader.household_rules(Uuid::from_u128(HOME + 1)).is_err(), "not a household of theirs");

    let (cadre, store) = phone_as(Role::VillageCadre, VILLAGE, clock);
    let bad = cadre.record_commitment(home, true, None).expect_err("a signed letter has its day");
    assert!(matches!(bad, ClientError::InvalidInput { ref reason, .. } if reason == "invalid_field"), "{bad:?}");
    let day = chrono::NaiveDate::from_ymd_opt(2026, 5, 19);
    let c = cadre.record_commitment(home, true, day).expect("record");
    assert_eq!((c.signed, c.signed_on), (true, day));
    assert_eq!(store.outbox_len(None).expect("len"), 1);
    let r = cadre.household_rules(home).expect("rules");
    assert_eq!(r.commitment.map(|c| c.signed), Some(true));
    assert!(r.commitment_pending);
}

/// A group leader finds a household offline by name, code or pinyin initials,
/// with its standing and nothing of its violations.
#[test]
fn households_are_found_offline_with_their_standing() {
    let clock = clock_at(2026, 5, 20, 3);
    let (leader, store) = phone_as(Role::GroupLeader, GROUP, clock.clone());
    let home = Uuid::from_u128(HOME);
    let other = Household {
        id: Uuid::from_u128(HOME + 1),
        group_id: Uuid::from_u128(GROUP),
        head_name: "曾小明".into(),
        address: "一组2号".into(),
        phone: None,
        code: Some("H152801".into()),
        id_number: None,
    };
    let standing = HouseholdStanding {
        id: standing_id(home),
        household_id: home,
        suspensions: vec![clock.now()],
        commitment: None,
    };
    let page = PulledPage {
        reset: false,
        changes: vec![put(3, Record::Household(other)), put(4, Record::HouseholdStanding(standing))],
        next_cursor: "4".into(),
    };
    store.apply_pulled(Uuid::from_u128(1000 + GROUP), &page).expect("pull");
    let names = |q: &str| -> Vec<(String, bool)> {
        leader
            .search_households(q, 20)
            .expect("search")
            .into_iter()
            .map(|m| (m.household.head_name, m.suspended))
            .collect()
    };
    assert_eq!(names("zs"), vec![("张三".to_string(), true)], "initials, and the suspension now");
    assert_eq!(names("zxm"), vec![("曾小明".to_string(), false)], "曾 read as a surname");
    assert_eq!(names("h1528"), vec![("曾小明".to_string(), false)], "the household code");
    assert_eq!(names("张"), vec![("张三".to_string(), true)]);
    assert_eq!(names("").len(), 2);
    assert!(names("李").is_empty());
}

/// A legal advisor logs a consultation offline; others may not.
#[test]
fn a_legal_advisor_logs_a_consultation_offline() {
    use fengqiao_domain::disputes::Satisfaction;
    use fengqiao_domain::subsidy::ConsultationOutcome;
    let clock = clock_at(2026, 5, 20, 3);
    let (advisor, store) = phone_as(Role::LegalAdvisor, VILLAGE, clock.clone());
    let new = NewConsultation {
        village_id: Uuid::from_u128(VILLAGE),
        question: "土地流转合同到期后能否续签".into(),
        answer: "可协商续签，须书面变更".into(),
        outcome: ConsultationOutcome::Solved,
        satisfaction: Satisfaction::Satisfied,
        at: None,
    };
    let c = advisor.record_consultation(new.clone()).expect("log");
    assert_eq!((c.outcome, c.at), (Some(ConsultationOutcome::Solved), clock.now()));
    let mine = advisor.my_consultations().expect("mine");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].pending && mine[0].consultation.id == c.id);
    assert_eq!(store.outbox_len(None).expect("len"), 1);
    let (cadre, cadre_store) = phone_as(Role::VillageCadre, VILLAGE, clock);
    let e = cadre.record_consultation(new).expect_err("only the advisor");
    assert!(matches!(e, ClientError::Rejected { ref reason, .. } if reason == "role_not_allowed"), "{e:?}");
    assert_eq!(cadre_store.outbox_len(None).expect("len"), 0);
}

/// The case numbers left, with the warning when few are (no block held here).
#[test]
fn the_case_number_stock_warns_when_low() {
    let (leader, _) = phone_as(Role::GroupLeader, GROUP, clock_at(2026, 5, 20, 3));
    let s = leader.case_number_stock().expect("stock");
    assert_eq!((s.left, s.low), (0, true));
    assert!(s.warning.contains("案件编号"), "{}", s.warning);
}
