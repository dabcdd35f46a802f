//! The judicial office as a unit of its own (ADR 0028): an office serving two
//! towns, a town served by two offices (the request chooses one, which must serve
//! the town), and staff who see and act on the towns their office serves only.

use super::*;
use crate::model::org::effective_grants;

const T2: u128 = 20;
const V3: u128 = 21;
const G3: u128 = 22;
pub(super) const OFFICE_A: u128 = 30;
pub(super) const OFFICE_B: u128 = 31;

fn put_unit(w: &World, id: u128, code: &str, level: UnitLevel, parent: Option<u128>, offices: &[u128]) {
    let mut unit = OrgUnit::new(u(id), code, code, level, parent.map(u));
    unit.offices = offices.iter().map(|o| u(*o)).collect();
    w.records.borrow_mut().insert((EntityKind::Unit, u(id)), Record::Unit(unit));
}

/// The base world plus a second town T02 (village V03, group G01) and two office
/// units under the county; `t1` and `t2` list the offices serving each town.
pub(super) fn offices_world(t1: &[u128], t2: &[u128]) -> World {
    let w = world();
    put_unit(&w, TOWN, "T01", UnitLevel::Town, Some(COUNTY), t1);
    put_unit(&w, T2, "T02", UnitLevel::Town, Some(COUNTY), t2);
    put_unit(&w, V3, "V03", UnitLevel::Village, Some(T2), &[]);
    put_unit(&w, G3, "G01", UnitLevel::Group, Some(V3), &[]);
    put_unit(&w, OFFICE_A, "S01", UnitLevel::JudicialOffice, Some(COUNTY), &[]);
    put_unit(&w, OFFICE_B, "S02", UnitLevel::JudicialOffice, Some(COUNTY), &[]);
    w
}

/// Judicial-office staff of `office`, acting with the grants the server gives them.
fn staff(w: &World, office: u128) -> Actor {
    let units: Vec<OrgUnit> = w
        .records
        .borrow()
        .values()
        .filter_map(|r| if let Record::Unit(u) = r { Some(u.clone()) } else { None })
        .collect();
    let own = [RoleGrant { role: Role::JudicialOffice, unit_id: u(office) }];
    let grants =
        effective_grants(&own, |id| units.iter().find(|x| x.id == id).cloned(), |o| OrgUnit::served_towns(o, &units));
    Actor { user_id: Uuid::now_v7(), grants }
}

/// A dispute reported by `leader` in T01's group G1 (or T02's G3), moved up to the
/// village by its first secretary, who then asks for the judicial office.
pub(super) fn at_village(w: &mut World, in_t2: bool, index: u32) -> (Dispute, Actor) {
    let (group, village, prefix) = if in_t2 { (G3, V3, "T02V03") } else { (G1, V1, "T01V01") };
    let leader = person(Role::GroupLeader, group);
    let first_sec = person(Role::FirstSecretary, village);
    let mut d = new_dispute(w, &leader, Grade::General, index);
    d.origin_unit = u(group);
    d.case_number = CaseNumber { prefix: prefix.into(), year: 2026, block: 1, index }.format();
    assert!(matches!(run(w, &leader, Op::ReportDispute(d.clone())), Verdict::Apply(_)));
    let e = escalation(&d, Level::Village);
    run(w, &leader, Op::RequestEscalation(e.clone()));
    assert!(matches!(run(w, &first_sec, decide_op(&e, true)), Verdict::Apply(_)));
    (d, first_sec)
}

pub(super) fn to_office(d: &Dispute, office: Option<u128>) -> Escalation {
    Escalation { from_level: Level::Village, to_unit: office.map(u), ..escalation(d, Level::JudicialOffice) }
}

#[test]
fn one_office_serving_two_towns_takes_the_third_level_of_both() {
    let mut w = offices_world(&[OFFICE_A], &[OFFICE_A]);
    let office = staff(&w, OFFICE_A);
    let town_office = person(Role::JudicialOffice, TOWN);
    for (in_t2, index) in [(false, 0), (true, 1)] {
        let (d, first_sec) = at_village(&mut w, in_t2, index);
        let e = to_office(&d, None);
        assert!(matches!(run(&w, &first_sec, Op::RequestEscalation(e.clone())), Verdict::Apply(_)));
        let stored = match w.get(EntityKind::Escalation, e.id).unwrap() {
            Some(Record::Escalation(x)) => x,
            other => panic!("{other:?}"),
        };
        assert_eq!(stored.to_unit, Some(u(OFFICE_A)), "the one office serving the town");
        if !in_t2 {
            assert_eq!(
                code(&run(&w, &town_office, decide_op(&e, true))),
                Some(RejectionCode::RoleNotAllowed),
                "a grant at the town is not the office the case goes to"
            );
        }
        assert!(matches!(run(&w, &office, decide_op(&e, true)), Verdict::Apply(_)));
        let now = dispute(&w, d.id);
        assert_eq!((now.level, now.handler_unit), (Level::JudicialOffice, u(OFFICE_A)));
        assert!(matches!(run(&w, &office, session(&d, vec![])), Verdict::Apply(_)), "the office handles it");
    }
}

#[test]
fn a_town_with_two_offices_goes_to_the_one_chosen_which_must_serve_it() {
    // T01 is served by offices A and B; T02 by B only
    let mut w = offices_world(&[OFFICE_A, OFFICE_B], &[OFFICE_B]);
    let (a, b) = (staff(&w, OFFICE_A), staff(&w, OFFICE_B));
    let (d, first_sec) = at_village(&mut w, false, 0);
    let none = to_office(&d, None);
    assert_eq!(
        code(&run(&w, &first_sec, Op::RequestEscalation(none))),
        Some(RejectionCode::OfficeChoiceRequired),
        "two offices serve the town: the request must choose"
    );
    let foreign = to_office(&d, Some(V2));
    assert_eq!(code(&run(&w, &first_sec, Op::RequestEscalation(foreign))), Some(RejectionCode::OfficeNotServing));
    let chosen = to_office(&d, Some(OFFICE_B));
    assert!(matches!(run(&w, &first_sec, Op::RequestEscalation(chosen.clone())), Verdict::Apply(_)));
    assert_eq!(
        code(&run(&w, &a, decide_op(&chosen, true))),
        Some(RejectionCode::RoleNotAllowed),
        "office A sees the dispute of its town, but it went to office B"
    );
    assert!(matches!(run(&w, &b, decide_op(&chosen, true)), Verdict::Apply(_)));
    assert_eq!(dispute(&w, d.id).handler_unit, u(OFFICE_B));
    assert_eq!(code(&run(&w, &a, session(&d, vec![]))), Some(RejectionCode::RoleNotAllowed));
    assert!(matches!(run(&w, &b, session(&d, vec![])), Verdict::Apply(_)));
}

#[test]
fn an_office_not_serving_the_town_is_refused_by_its_code() {
    let mut w = offices_world(&[OFFICE_A], &[OFFICE_B]);
    let (d, first_sec) = at_village(&mut w, false, 0);
    let wrong = to_office(&d, Some(OFFICE_B));
    assert_eq!(code(&run(&w, &first_sec, Op::RequestEscalation(wrong))), Some(RejectionCode::OfficeNotServing));
    let right = to_office(&d, Some(OFFICE_A));
    assert!(matches!(run(&w, &first_sec, Op::RequestEscalation(right)), Verdict::Apply(_)));
}

#[test]
fn staff_of_office_a_cannot_see_a_town_served_only_by_b() {
    let mut w = offices_world(&[OFFICE_A], &[OFFICE_B]);
    let (a, b) = (staff(&w, OFFICE_A), staff(&w, OFFICE_B));
    assert_eq!(a.grants.iter().filter(|g| g.unit_id == u(TOWN)).count(), 1);
    assert!(!a.grants.iter().any(|g| g.unit_id == u(T2)), "no grant at the town B serves");
    let (d2, sec2) = at_village(&mut w, true, 1);
    let scope2 = [u(G3), u(V3), u(T2), u(COUNTY)];
    assert!(!a.may_see(EntityKind::Dispute, &scope2));
    assert!(b.may_see(EntityKind::Dispute, &scope2));
    let e = to_office(&d2, None);
    assert!(matches!(run(&w, &sec2, Op::RequestEscalation(e.clone())), Verdict::Apply(_)));
    assert_eq!(code(&run(&w, &a, decide_op(&e, true))), Some(RejectionCode::NotInJurisdiction));
    // case-file review: B's town is out of A's reach; A's own town passes the reviewer check
    let review = |dispute: &Dispute| -> Op {
        Op::ReviewCaseFile(
            serde_json::from_value(serde_json::json!({
                "id": Uuid::now_v7(), "dispute_id": dispute.id, "score": 90, "passed": false, "reasons": ["材料不全"]
            }))
            .unwrap(),
        )
    };
    assert_eq!(code(&run(&w, &a, review(&d2))), Some(RejectionCode::NotInJurisdiction));
    assert_eq!(code(&run(&w, &b, review(&d2))), Some(RejectionCode::InvalidState), "B reviews it (once closed)");
    let (d1, _) = at_village(&mut w, false, 0);
    assert_eq!(code(&run(&w, &a, review(&d1))), Some(RejectionCode::InvalidState));
    assert_eq!(code(&run(&w, &b, review(&d1))), Some(RejectionCode::NotInJurisdiction));
}

#[test]
fn a_town_without_office_units_keeps_its_own_office_as_before() {
    let mut w = world();
    let (d, first_sec) = at_village(&mut w, false, 0);
    let e = to_office(&d, None);
    assert!(matches!(run(&w, &first_sec, Op::RequestEscalation(e.clone())), Verdict::Apply(_)));
    assert!(matches!(run(&w, &person(Role::JudicialOffice, TOWN), decide_op(&e, true)), Verdict::Apply(_)));
    assert_eq!(dispute(&w, d.id).handler_unit, u(TOWN));
}

#[test]
fn an_escalation_stored_before_offices_still_parses_and_resolves() {
    let mut w = world();
    let (d, first_sec) = at_village(&mut w, false, 0);
    let e = to_office(&d, None);
    let mut json = serde_json::to_value(&e).unwrap();
    json.as_object_mut().unwrap().remove("to_unit");
    let old: Escalation = serde_json::from_value(json).unwrap();
    assert_eq!(old.to_unit, None);
    assert!(matches!(run(&w, &first_sec, Op::RequestEscalation(old)), Verdict::Apply(_)));
}
