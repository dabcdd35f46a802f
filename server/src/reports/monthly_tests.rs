//! The monthly report against a small world with an injected clock: a running
//! month is reported as of now, and the village ranking rewards what a village did.

use chrono::{DateTime, TimeZone, Utc};
use fengqiao_domain::disputes::Dispute;
use fengqiao_domain::org::OrgUnit;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::prevent::{screening_id, Screening};
use fengqiao_domain::{EntityKind, Record};
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::reports::Month;
use crate::store::conformance::{small_world, GROUPS, TOWN, VILLAGES};
use crate::store::{MemoryStore, Store, SyncStore};

/// Beijing time on a day of May 2026 at 10:00.
fn may(day: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 5, day, 10, 0, 0).unwrap().with_timezone(&Utc)
}

/// A general-grade dispute (7 days to settle) of `group`, registered at `at`;
/// closed at `closed` by the `level` given.
fn dispute(n: u32, group: Uuid, at: DateTime<Utc>, closed: Option<(DateTime<Utc>, &str)>) -> Record {
    let mut v = json!({"id": Uuid::now_v7(), "case_number": format!("T-2026-0001-{n:03}"), "kind": "family",
        "origin_unit": group, "parties": [{"name": "王一"}], "summary": "", "grade": "general",
        "analysis": {"cause": "", "consequences": "", "difficulty": "low"}, "found_at": at,
        "reported_by": Uuid::nil(), "level": "group", "handler_unit": group, "level_since": at, "registered_at": at});
    if let Some((t, level)) = closed {
        v["closing"] = json!({"outcome": "resolved", "closed_by": Uuid::nil(), "closed_at": t, "level": level});
    }
    Record::Dispute(serde_json::from_value::<Dispute>(v).unwrap())
}

fn screening(village: Uuid, at: DateTime<Utc>) -> Record {
    Record::Screening(Screening {
        id: screening_id(village, "2026-05"),
        village_id: village,
        period: "2026-05".into(),
        hazards: vec![],
        focus_areas: vec![],
        new_disputes: vec![],
        note: String::new(),
        filed_by: Uuid::nil(),
        filed_at: at,
        policy_version: String::new(),
    })
}

fn unit(store: &dyn Store, id: Uuid) -> OrgUnit {
    match store.record(EntityKind::Unit, id).unwrap() {
        Some(Record::Unit(u)) => u,
        other => panic!("no unit {id}: {other:?}"),
    }
}

#[test]
fn a_running_month_counts_overdue_as_of_now_not_as_of_its_end() {
    let (store, policy) = (MemoryStore::new(), Policy::default());
    small_world(&store);
    // due 5-08 (overdue by 5-10) and due 5-17 (overdue only later in the month)
    store
        .put_records(&[
            dispute(1, GROUPS[0], may(1), None),
            dispute(2, GROUPS[0], may(10) - chrono::Duration::hours(1), None),
        ])
        .unwrap();
    let village = unit(&store, VILLAGES[0]);
    let month = Month { year: 2026, month: 5 };

    let now = may(10);
    let r = monthly_report(&store, &policy, &village, month, now).unwrap();
    assert_eq!(r.as_of, now, "a running month is reported as of now");
    assert_eq!((r.numbers.still_open, r.numbers.overdue), (2, 1), "the dispute due on 5-17 is not overdue on 5-10");
    assert_eq!(r.ranking[0].on_time_permille, Some(500));
    assert!(r.summary.contains("截至5月10日在办2件，其中超期1件"), "{}", r.summary);

    // the same month once it is over: as of its end, both are overdue
    let later = chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 6, 3, 9, 0, 0).unwrap().with_timezone(&Utc);
    let r = monthly_report(&store, &policy, &village, month, later).unwrap();
    assert_eq!(r.as_of, month.range(chrono_tz::Asia::Shanghai).unwrap().1);
    assert_eq!((r.numbers.still_open, r.numbers.overdue), (2, 2));
    assert!(r.summary.contains("月末在办2件，其中超期2件"), "{}", r.summary);
}

#[test]
fn a_village_that_did_nothing_does_not_rank_first() {
    let (store, policy) = (MemoryStore::new(), Policy::default());
    small_world(&store);
    // village A: one dispute settled by the judicial office, screening filed; village B: nothing
    let handled = dispute(1, GROUPS[0], may(3), Some((may(6), "judicial_office")));
    store.put_records(&[handled, screening(VILLAGES[0], may(20))]).unwrap();
    let town = unit(&store, TOWN);
    let month = Month { year: 2026, month: 5 };
    let r = monthly_report(&store, &policy, &town, month, may(31)).unwrap();
    let a = unit(&store, VILLAGES[0]).name;
    let b = unit(&store, VILLAGES[1]).name;
    assert_eq!(r.ranking[0].village, a, "{:?}", r.ranking);
    let idle = &r.ranking[1];
    assert_eq!(idle.village, b);
    assert_eq!(idle.score, 0, "no screening filed earns no screening points");
    assert_eq!((idle.settled_locally_permille, idle.screening_permille, idle.on_time_permille), (None, Some(0), None));
    // A: nothing settled locally (0 of 1), screened (1000), nothing open: (50*0 + 30*1000) / 80
    assert_eq!((r.ranking[0].score, r.ranking[0].settled_locally_permille), (375, Some(0)));

    // B files its screening: it earns the screening points, and with no disputes it
    // is ranked by that alone
    store.put_records(&[screening(VILLAGES[1], may(25))]).unwrap();
    let r = monthly_report(&store, &policy, &town, month, may(31)).unwrap();
    let b_score = r.ranking.iter().find(|v| v.village == b).unwrap();
    assert_eq!((b_score.score, b_score.screening_permille), (1000, Some(1000)));
}

#[test]
fn a_sumu_and_its_gacha_are_named_by_their_kind_not_town_and_village() {
    let (store, policy) = (MemoryStore::new(), Policy::default());
    small_world(&store);
    let mut town = unit(&store, TOWN);
    town.kind = Some(fengqiao_domain::UnitKind::Sumu);
    let mut gacha = unit(&store, VILLAGES[1]);
    gacha.kind = Some(fengqiao_domain::UnitKind::Gacha);
    store.put_records(&[Record::Unit(town.clone()), Record::Unit(gacha.clone())]).unwrap();
    // the gacha's disputes rise: a hotspot named as a 嘎查
    store.put_records(&[dispute(1, GROUPS[1], may(3), None), dispute(2, GROUPS[1], may(4), None)]).unwrap();
    let month = Month { year: 2026, month: 5 };
    let r = monthly_report(&store, &policy, &town, month, may(31)).unwrap();
    assert_eq!(r.unit_kind, "苏木");
    let kinds: Vec<(&str, &str)> = r.ranking.iter().map(|v| (v.village.as_str(), v.kind.as_str())).collect();
    assert!(kinds.contains(&(gacha.name.as_str(), "嘎查")), "{kinds:?}");
    assert!(kinds.contains(&(unit(&store, VILLAGES[0]).name.as_str(), "村")), "{kinds:?}");
    assert_eq!(r.screening.villages_label, "村/嘎查");
    assert!(r.summary.contains(&format!("{}（嘎查）", gacha.name)), "{}", r.summary);
    assert!(r.summary.contains("个村/嘎查"), "{}", r.summary);
    let page = crate::reports::html::render(&r, chrono_tz::Asia::Shanghai);
    assert!(page.contains("<td>嘎查</td>"), "the ranking row says 嘎查");
    let gacha_report = monthly_report(&store, &policy, &gacha, month, may(31)).unwrap();
    assert_eq!(gacha_report.unit_kind, "嘎查");
}

#[test]
fn a_deadline_change_does_not_re_date_a_past_month() {
    let store = MemoryStore::new();
    small_world(&store);
    // registered on 5-01 under the seed's deadlines (general: 7 days, due 5-08)
    let Record::Dispute(mut d) = dispute(1, GROUPS[0], may(1), None) else { unreachable!() };
    d.deadlines = Some(Policy::default().deadlines);
    // and one registered before deadlines were recorded: it follows the policy in force
    let Record::Dispute(old) = dispute(2, GROUPS[0], may(1), None) else { unreachable!() };
    store.put_records(&[Record::Dispute(d), Record::Dispute(old)]).unwrap();
    // in June the county gives general disputes 60 days
    let mut later = Policy::default();
    later.deadlines.general_days = 60;
    let village = unit(&store, VILLAGES[0]);
    let june = chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, 6, 3, 9, 0, 0).unwrap().with_timezone(&Utc);
    let r = monthly_report(&store, &later, &village, Month { year: 2026, month: 5 }, june).unwrap();
    assert_eq!(
        (r.numbers.still_open, r.numbers.overdue),
        (2, 1),
        "May's figures keep the dispute due on 5-08 overdue; only the unrecorded one follows the new 60 days"
    );
}

/// A judicial office unit serving two of three towns (ADR 0028): its report
/// counts the disputes, villages and screenings of the towns it serves together,
/// names them, and leaves out the town it does not serve.
#[test]
fn an_office_report_covers_the_towns_it_serves_together() {
    let (store, policy) = (MemoryStore::new(), Policy::default());
    small_world(&store);
    let office_id = Uuid::from_u128(0x0F);
    let org = |n: u128, code: &str, name: &str, level, parent: Uuid| OrgUnit {
        id: Uuid::from_u128(n),
        code: code.into(),
        name: name.into(),
        level,
        parent: Some(parent),
        kind: None,
        offices: vec![],
    };
    use fengqiao_domain::org::UnitLevel::{Group, JudicialOffice, Town, Village};
    let office = org(0x0F, "SF1", "中心司法所", JudicialOffice, crate::store::conformance::COUNTY);
    let mut first = unit(&store, TOWN);
    first.offices = vec![office_id];
    let mut second = org(0x71, "T72", "二镇", Town, crate::store::conformance::COUNTY);
    second.offices = vec![office_id];
    let third = org(0x74, "T74", "三镇", Town, crate::store::conformance::COUNTY);
    let units = [
        office.clone(),
        first.clone(),
        second.clone(),
        org(0x72, "V72", "二镇一村", Village, second.id),
        org(0x73, "G73", "二镇一组", Group, Uuid::from_u128(0x72)),
        third.clone(),
        org(0x75, "V75", "三镇一村", Village, third.id),
        org(0x76, "G76", "三镇一组", Group, Uuid::from_u128(0x75)),
    ];
    store.put_records(&units.map(Record::Unit)).unwrap();
    store
        .put_records(&[
            dispute(1, GROUPS[0], may(3), None),
            dispute(2, Uuid::from_u128(0x73), may(4), Some((may(6), "judicial_office"))),
            dispute(3, Uuid::from_u128(0x76), may(5), None),
            screening(Uuid::from_u128(0x72), may(20)),
        ])
        .unwrap();
    let month = Month { year: 2026, month: 5 };
    let r = monthly_report(&store, &policy, &office, month, may(31)).unwrap();
    assert_eq!((r.unit_kind.as_str(), r.towns.clone()), ("司法所", vec![first.name.clone(), "二镇".to_string()]));
    assert_eq!((r.numbers.new_disputes, r.numbers.resolved), (2, 1), "the two served towns' disputes, not the third's");
    let mut villages: Vec<&str> = r.ranking.iter().map(|v| v.village.as_str()).collect();
    villages.sort();
    let mut want = vec![unit(&store, VILLAGES[0]).name, unit(&store, VILLAGES[1]).name, "二镇一村".to_string()];
    want.sort();
    assert_eq!(villages, want, "every village of the towns served, and no other");
    assert_eq!((r.screening.villages, r.screening.complete), (3, 1));
    let town = monthly_report(&store, &policy, &first, month, may(31)).unwrap();
    assert!(town.towns.is_empty(), "a town's report lists no towns");
    assert_eq!(town.numbers.new_disputes, 1);
}
