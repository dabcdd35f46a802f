//! Tests of the dispute operations: report, escalate, decide, case file, close.

use super::*;
use crate::model::disputes::{Analysis, CaseNumber, Difficulty, EscalationReason, Party};
use crate::model::ladder::{Grade, Level};
use crate::model::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use crate::wire::CloseDispute;
use std::cell::RefCell;
use std::collections::HashMap;

/// county > town T01 > villages V01, V02 > one group each; blocks owned by users.
struct World {
    records: RefCell<HashMap<(EntityKind, Uuid), Record>>,
    blocks: HashMap<(i32, u32), Uuid>,
    /// Feed sequence of each record's last change, as the server keeps it.
    versions: RefCell<HashMap<(EntityKind, Uuid), u64>>,
    /// The users, as the server's store knows them (every op's author is enrolled).
    people: RefCell<HashMap<Uuid, crate::decide::view::PersonFacts>>,
    /// Block sizes kept at reservation (a block absent here predates them).
    sizes: HashMap<(i32, u32), u32>,
    /// The policies the deployment has run under.
    earlier: Vec<Policy>,
}

const COUNTY: u128 = 1;
const TOWN: u128 = 2;
const V1: u128 = 3;
const V2: u128 = 4;
const G1: u128 = 5;
const G2: u128 = 6;

impl StateView for World {
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
        Ok(self.records.borrow().get(&(kind, id)).cloned())
    }
    fn case_block_owner(&self, year: i32, block: u32) -> Result<Option<Uuid>, ViewError> {
        Ok(self.blocks.get(&(year, block)).copied())
    }
    fn case_number_holder(&self, case: &str) -> Result<Option<Uuid>, ViewError> {
        Ok(self.records.borrow().values().find_map(|r| match r {
            Record::Dispute(d) if d.case_number == case => Some(d.id),
            _ => None,
        }))
    }
    fn version(&self, kind: EntityKind, id: Uuid) -> Result<Option<u64>, ViewError> {
        Ok(self.versions.borrow().get(&(kind, id)).copied())
    }
    fn lead_visit(&self, lead: Uuid) -> Result<Option<Uuid>, ViewError> {
        Ok(self.records.borrow().values().find_map(|r| match r {
            Record::Visit(v) if v.leads.iter().any(|l| l.id == lead) => Some(v.id),
            _ => None,
        }))
    }
    fn person(&self, id: Uuid) -> Result<crate::decide::view::PersonLookup, ViewError> {
        use crate::decide::view::PersonLookup;
        Ok(match self.people.borrow().get(&id) {
            Some(f) => PersonLookup::Known(f.clone()),
            None => PersonLookup::NoSuchUser,
        })
    }
    fn earlier_policy(&self, version: &str) -> Result<Option<Policy>, ViewError> {
        Ok(self.earlier.iter().find(|p| p.version() == version).cloned())
    }
    fn case_block_size(&self, year: i32, block: u32) -> Result<Option<u32>, ViewError> {
        Ok(self.sizes.get(&(year, block)).copied())
    }
}

fn u(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn world() -> World {
    let mut m = HashMap::new();
    let mut unit = |id: u128, code: &str, level, parent: Option<u128>| {
        let r = Record::Unit(OrgUnit {
            id: u(id),
            code: code.into(),
            name: code.into(),
            level,
            parent: parent.map(u),
            kind: None,
            offices: vec![],
        });
        m.insert((EntityKind::Unit, u(id)), r);
    };
    unit(COUNTY, "C01", UnitLevel::County, None);
    unit(TOWN, "T01", UnitLevel::Town, Some(COUNTY));
    unit(V1, "V01", UnitLevel::Village, Some(TOWN));
    unit(V2, "V02", UnitLevel::Village, Some(TOWN));
    unit(G1, "G01", UnitLevel::Group, Some(V1));
    unit(G2, "G01", UnitLevel::Group, Some(V2));
    World {
        records: RefCell::new(m),
        blocks: HashMap::new(),
        versions: RefCell::new(HashMap::new()),
        people: RefCell::new(HashMap::new()),
        sizes: HashMap::new(),
        earlier: Vec::new(),
    }
}

/// A user with one role, enrolled in the world's users (enabled).
fn enrol(w: &World, role: Role, unit: u128) -> Actor {
    let a = person(role, unit);
    w.people
        .borrow_mut()
        .insert(a.user_id, crate::decide::view::PersonFacts { enabled: true, grants: a.grants.clone() });
    a
}

fn person(role: Role, unit: u128) -> Actor {
    Actor { user_id: Uuid::now_v7(), grants: vec![RoleGrant { role, unit_id: u(unit) }] }
}

fn env(author: &Actor, op: Op) -> OpEnvelope {
    OpEnvelope { op_id: Uuid::now_v7(), v: 1, author: author.user_id, created_at: Utc::now(), op, seen: None }
}

/// Applies an op: returns the verdict and stores its effects.
fn run(w: &World, a: &Actor, op: Op) -> Verdict {
    run_seen(w, a, op, None)
}

/// [`run`] for an op made by a phone that had pulled up to `seen`.
fn run_seen(w: &World, a: &Actor, op: Op, seen: Option<u64>) -> Verdict {
    run_full(w, a, op, seen, &Policy::default())
}

/// [`run`] under a given policy.
fn run_under(w: &World, a: &Actor, op: Op, policy: &Policy) -> Verdict {
    run_full(w, a, op, None, policy)
}

fn run_full(w: &World, a: &Actor, op: Op, seen: Option<u64>, policy: &Policy) -> Verdict {
    let env = OpEnvelope { seen, ..env(a, op) };
    w.people
        .borrow_mut()
        .entry(a.user_id)
        .or_insert_with(|| crate::decide::view::PersonFacts { enabled: true, grants: a.grants.clone() });
    let v = super::super::apply::decide(&env, a, policy, w, Utc::now()).unwrap();
    crate::decide::view::assert_readable(&v);
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

impl World {
    /// The feed's last sequence (what a phone pulling now would have seen).
    fn last_seq(&self) -> u64 {
        self.versions.borrow().values().copied().max().unwrap_or(0)
    }
}

fn new_dispute(w: &mut World, reporter: &Actor, grade: Grade, index: u32) -> Dispute {
    w.blocks.insert((2026, 1), reporter.user_id);
    Dispute {
        id: Uuid::now_v7(),
        case_number: CaseNumber { prefix: "T01V01".into(), year: 2026, block: 1, index }.format(),
        kind: "neighbour".into(),
        origin_unit: u(G1),
        parties: vec![Party { name: "张三".into(), household_id: None, phone: None }],
        summary: "宅基地边界争议".into(),
        grade,
        analysis: Analysis {
            cause: "界线不清".into(),
            consequences: "可能激化".into(),
            difficulty: Difficulty::Medium,
        },
        found_at: Utc::now(),
        lead_id: None,
        reported_by: Uuid::nil(),
        level: Level::Group,
        handler_unit: Uuid::nil(),
        level_since: Utc::now(),
        registered_at: Utc::now(),
        pending_escalation: None,
        closing: None,
        flow_count: 0,
        case_file: vec![],
        credited: vec![],
        earlier_credit: vec![],
        payees: vec![],
        deadline_floor: None,
        policy_version: String::new(),
        deadlines: None,
    }
}

fn escalation(d: &Dispute, to: Level) -> Escalation {
    Escalation {
        id: Uuid::now_v7(),
        dispute_id: d.id,
        from_level: Level::Group,
        to_level: to,
        reason: EscalationReason::RepeatedMediationFailed,
        note: "两次调解未果".into(),
        requested_by: Uuid::nil(),
        requested_at: Utc::now(),
        grade: d.grade,
        to_unit: None,
        decision: None,
    }
}

fn code(v: &Verdict) -> Option<RejectionCode> {
    match v {
        Verdict::Reject(r) => Some(r.code),
        _ => None,
    }
}

fn dispute(w: &World, id: Uuid) -> Dispute {
    match w.get(EntityKind::Dispute, id).unwrap() {
        Some(Record::Dispute(d)) => d,
        other => panic!("{other:?}"),
    }
}

fn decide_op(e: &Escalation, approve: bool) -> Op {
    Op::DecideEscalation(DecideEscalation {
        escalation_id: e.id,
        approve,
        comment: if approve { String::new() } else { "先在村里再调".into() },
    })
}

#[test]
fn report_registers_at_the_group_with_a_flow_entry() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let d = new_dispute(&mut w, &leader, Grade::General, 0);
    assert!(matches!(run(&w, &leader, Op::ReportDispute(d.clone())), Verdict::Apply(ref e) if e.len() == 2));
    let stored = dispute(&w, d.id);
    assert_eq!(
        (stored.level, stored.handler_unit, stored.flow_count, stored.reported_by),
        (Level::Group, u(G1), 1, leader.user_id)
    );
}

#[test]
fn case_numbers_need_an_owned_block_the_right_prefix_and_no_reuse() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let other = person(Role::GroupLeader, G1);
    let mut d = new_dispute(&mut w, &leader, Grade::General, 0);
    assert_eq!(
        code(&run(&w, &other, Op::ReportDispute(d.clone()))),
        Some(RejectionCode::InvalidField),
        "block owned by someone else"
    );
    d.case_number = "T01V02-2026-0001-000".into();
    assert_eq!(
        code(&run(&w, &leader, Op::ReportDispute(d.clone()))),
        Some(RejectionCode::InvalidField),
        "wrong village code"
    );
    d.case_number = CaseNumber { prefix: "T01V01".into(), year: 2026, block: 1, index: 100 }.format();
    w.sizes.insert((2026, 1), Policy::default().disputes.case_block_size);
    assert_eq!(
        code(&run(&w, &leader, Op::ReportDispute(d.clone()))),
        Some(RejectionCode::InvalidField),
        "index past the block"
    );
    d.case_number = CaseNumber { prefix: "T01V01".into(), year: 2026, block: 1, index: 5 }.format();
    assert!(matches!(run(&w, &leader, Op::ReportDispute(d.clone())), Verdict::Apply(_)));
    let mut twin = new_dispute(&mut w, &leader, Grade::General, 5);
    twin.id = Uuid::now_v7();
    assert_eq!(code(&run(&w, &leader, Op::ReportDispute(twin))), Some(RejectionCode::IdConflict), "number reused");
}

#[test]
fn the_whole_ladder_with_the_right_approver_at_each_step() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let first_sec = person(Role::FirstSecretary, V1);
    let judicial = person(Role::JudicialOffice, TOWN);
    let committee = person(Role::TownCommittee, TOWN);
    let d = new_dispute(&mut w, &leader, Grade::Larger, 1);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    let e1 = escalation(&d, Level::Village);
    assert!(matches!(run(&w, &leader, Op::RequestEscalation(e1.clone())), Verdict::Apply(_)));
    assert!(matches!(run(&w, &first_sec, decide_op(&e1, true)), Verdict::Apply(_)));
    assert_eq!((dispute(&w, d.id).level, dispute(&w, d.id).handler_unit), (Level::Village, u(V1)));
    // the group leader no longer handles it
    let mut e2 = escalation(&d, Level::JudicialOffice);
    assert_eq!(code(&run(&w, &leader, Op::RequestEscalation(e2.clone()))), Some(RejectionCode::RoleNotAllowed));
    e2.id = Uuid::now_v7();
    assert!(matches!(run(&w, &first_sec, Op::RequestEscalation(e2.clone())), Verdict::Apply(_)));
    assert_eq!(
        code(&run(&w, &committee, decide_op(&e2, true))),
        Some(RejectionCode::RoleNotAllowed),
        "the town committee does not take village → judicial office"
    );
    assert!(matches!(run(&w, &judicial, decide_op(&e2, true)), Verdict::Apply(_)));
    let e3 = escalation(&d, Level::Town);
    assert!(matches!(run(&w, &judicial, Op::RequestEscalation(e3.clone())), Verdict::Apply(_)));
    assert!(matches!(run(&w, &committee, decide_op(&e3, true)), Verdict::Apply(_)));
    let close =
        Op::CloseDispute(CloseDispute {
            dispute_id: d.id, outcome: ClosingOutcome::Resolved, note: "达成协议".into()
        });
    assert_eq!(code(&run(&w, &judicial, close.clone())), Some(RejectionCode::RoleNotAllowed));
    assert!(matches!(run(&w, &committee, close), Verdict::Apply(_)));
    let final_d = dispute(&w, d.id);
    assert_eq!(final_d.level, Level::Town);
    assert_eq!(final_d.flow_count, 8, "report, 3 × (request + approval), close");
    let mut steps: Vec<(u32, FlowKind)> = w
        .records
        .borrow()
        .values()
        .filter_map(|r| match r {
            Record::FlowEntry(f) if f.dispute_id == d.id => Some((f.step, f.kind)),
            _ => None,
        })
        .collect();
    steps.sort_by_key(|s| s.0);
    use FlowKind::*;
    let kinds: Vec<FlowKind> = steps.iter().map(|s| s.1).collect();
    assert_eq!(
        kinds,
        vec![
            Reported,
            EscalationRequested,
            EscalationApproved,
            EscalationRequested,
            EscalationApproved,
            EscalationRequested,
            EscalationApproved,
            Closed
        ]
    );
}

#[test]
fn forbidden_approvals_self_approval_and_second_decision() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let d = new_dispute(&mut w, &leader, Grade::General, 2);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    let e = escalation(&d, Level::Village);
    run(&w, &leader, Op::RequestEscalation(e.clone()));
    // every role that may not approve group → village of village V1
    let forbidden = [
        (person(Role::GroupLeader, G1), RejectionCode::RoleNotAllowed),
        (person(Role::VillageCadre, V1), RejectionCode::RoleNotAllowed),
        (person(Role::Mediator, V1), RejectionCode::RoleNotAllowed),
        (person(Role::LegalAdvisor, V1), RejectionCode::RoleNotAllowed),
        (person(Role::JudicialOffice, TOWN), RejectionCode::RoleNotAllowed),
        (person(Role::TownCommittee, TOWN), RejectionCode::RoleNotAllowed),
        (person(Role::FirstSecretary, V2), RejectionCode::NotInJurisdiction),
        (person(Role::VillageSecretary, V2), RejectionCode::NotInJurisdiction),
        (person(Role::CountyAdmin, COUNTY), RejectionCode::NotInJurisdiction),
    ];
    for (who, want) in &forbidden {
        assert_eq!(code(&run(&w, who, decide_op(&e, true))), Some(*want), "{:?}", who.grants[0].role);
    }
    // a secretary who asked cannot approve their own request
    let sec = person(Role::VillageSecretary, V1);
    let mut both = person(Role::GroupLeader, G1);
    both.grants.push(RoleGrant { role: Role::FirstSecretary, unit_id: u(V1) });
    let d2 = new_dispute(&mut w, &both, Grade::General, 3);
    run(&w, &both, Op::ReportDispute(d2.clone()));
    let e2 = escalation(&d2, Level::Village);
    run(&w, &both, Op::RequestEscalation(e2.clone()));
    assert_eq!(code(&run(&w, &both, decide_op(&e2, true))), Some(RejectionCode::SelfApproval));
    // two approvers: the first decision stands, the second is a conflict carrying it
    let first = person(Role::FirstSecretary, V1);
    assert!(matches!(run(&w, &first, decide_op(&e, false)), Verdict::Apply(_)));
    match run(&w, &sec, decide_op(&e, true)) {
        Verdict::Conflict { current, .. } => match *current {
            Record::Escalation(x) => {
                assert_eq!(x.decision.map(|d| (d.approved, d.decided_by)), Some((false, first.user_id)))
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(dispute(&w, d.id).level, Level::Group, "refused: it stays");
}

fn subsidies_of(v: &Verdict) -> Vec<crate::model::subsidy::Subsidy> {
    match v {
        Verdict::Apply(effects) => effects
            .iter()
            .filter_map(|Effect::Put { record, .. }| match record {
                Record::Subsidy(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

fn session(d: &Dispute, mediators: Vec<Uuid>) -> Op {
    Op::RecordSession(crate::model::disputes::MediationSession {
        id: Uuid::now_v7(),
        dispute_id: d.id,
        held_at: Utc::now(),
        place: "村委会".into(),
        mediators,
        participants: vec![],
        record: "调解".into(),
        agreed: false,
        author: Uuid::nil(),
        level: None,
    })
}

#[test]
fn only_a_resolved_case_pays_and_a_re_mediated_case_pays_once_split_exactly() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let (m1, m2) = (enrol(&w, Role::Mediator, V1).user_id, enrol(&w, Role::Mediator, V1).user_id);
    // not resolved: nothing accrues
    let d = new_dispute(&mut w, &leader, Grade::General, 10);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    let v = run(
        &w,
        &leader,
        Op::CloseDispute(CloseDispute { dispute_id: d.id, outcome: ClosingOutcome::NotResolved, note: String::new() }),
    );
    assert!(matches!(v, Verdict::Apply(_)));
    assert!(subsidies_of(&v).is_empty(), "an unsuccessful case pays nothing");
    // mediated three times by two mediators: one subsidy each, summing exactly
    let d = new_dispute(&mut w, &leader, Grade::Major, 11);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    for who in [vec![m1], vec![m1, m2], vec![m2]] {
        assert!(matches!(run(&w, &leader, session(&d, who)), Verdict::Apply(_)));
    }
    let v = run(
        &w,
        &leader,
        Op::CloseDispute(CloseDispute { dispute_id: d.id, outcome: ClosingOutcome::Resolved, note: String::new() }),
    );
    let subs = subsidies_of(&v);
    assert_eq!(subs.len(), 2, "one per credited mediator, however many sessions");
    let total: i64 = subs.iter().map(|s| s.amount_fen).sum();
    let expected = crate::model::subsidy::estimate_fen(&dispute(&w, d.id), &Policy::default()).unwrap();
    assert_eq!(total, expected);
    assert_eq!(expected, 30_000 + 5_000, "major + medium difficulty, no bonus for a neighbour dispute");
    assert!(subs.iter().all(|s| s.status == crate::model::subsidy::SubsidyStatus::Accrued));
    let mut payees: Vec<Uuid> = subs.iter().map(|s| s.payee).collect();
    payees.sort();
    let mut want = vec![m1, m2];
    want.sort();
    assert_eq!(payees, want);
    // closing again is refused: the case pays once
    let again = run(
        &w,
        &leader,
        Op::CloseDispute(CloseDispute { dispute_id: d.id, outcome: ClosingOutcome::Resolved, note: String::new() }),
    );
    assert_eq!(code(&again), Some(RejectionCode::InvalidState));
    // with no sessions, the one who closed it is credited
    let d = new_dispute(&mut w, &leader, Grade::General, 12);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    let v = run(
        &w,
        &leader,
        Op::CloseDispute(CloseDispute { dispute_id: d.id, outcome: ClosingOutcome::Resolved, note: String::new() }),
    );
    assert_eq!(subsidies_of(&v).iter().map(|s| s.payee).collect::<Vec<_>>(), vec![leader.user_id]);
}

#[test]
fn only_major_disputes_skip_levels_and_refusal_needs_a_comment() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let judicial = person(Role::JudicialOffice, TOWN);
    let d = new_dispute(&mut w, &leader, Grade::Larger, 4);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    assert_eq!(
        code(&run(&w, &leader, Op::RequestEscalation(escalation(&d, Level::JudicialOffice)))),
        Some(RejectionCode::InvalidField)
    );
    let m = new_dispute(&mut w, &leader, Grade::Major, 6);
    run(&w, &leader, Op::ReportDispute(m.clone()));
    let mut skip = escalation(&m, Level::JudicialOffice);
    skip.reason = EscalationReason::MajorGrade;
    assert!(matches!(run(&w, &leader, Op::RequestEscalation(skip.clone())), Verdict::Apply(_)));
    let refuse_silently =
        Op::DecideEscalation(DecideEscalation { escalation_id: skip.id, approve: false, comment: " ".into() });
    assert_eq!(code(&run(&w, &judicial, refuse_silently)), Some(RejectionCode::InvalidField));
    assert!(matches!(run(&w, &judicial, decide_op(&skip, true)), Verdict::Apply(_)));
    assert_eq!(dispute(&w, m.id).level, Level::JudicialOffice);
    // a second request while one waits is a conflict
    let d3 = new_dispute(&mut w, &leader, Grade::General, 7);
    run(&w, &leader, Op::RequestEscalation(escalation(&d3, Level::Village)));
    run(&w, &leader, Op::ReportDispute(d3.clone()));
    run(&w, &leader, Op::RequestEscalation(escalation(&d3, Level::Village)));
    assert!(matches!(
        run(&w, &leader, Op::RequestEscalation(escalation(&d3, Level::Village))),
        Verdict::Conflict { .. }
    ));
}

/// A policy built in code past the file check (amounts that overflow `i64`):
/// closing a resolved case is refused with a stable code, never a panic or a
/// wrapped subsidy.
#[test]
fn an_overflowing_subsidy_is_refused_not_wrapped() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let d = new_dispute(&mut w, &leader, Grade::General, 12);
    run(&w, &leader, Op::ReportDispute(d.clone()));
    let mut extreme = Policy::default();
    extreme.subsidy.base_general_fen = i64::MAX;
    let close =
        Op::CloseDispute(CloseDispute { dispute_id: d.id, outcome: ClosingOutcome::Resolved, note: String::new() });
    match super::super::apply::decide(&env(&leader, close), &leader, &extreme, &w, Utc::now()).unwrap() {
        Verdict::Reject(r) => assert_eq!(r.code, RejectionCode::InvalidState, "{}", r.message),
        other => panic!("{other:?}"),
    }
}

#[path = "apply_races_tests.rs"]
mod races;

#[path = "offices_tests.rs"]
mod offices;

#[path = "apply_payees_tests.rs"]
mod payees;

#[path = "apply_review_tests.rs"]
mod review;

#[path = "apply_policy_change_tests.rs"]
mod policy_change;

#[path = "messages_tests.rs"]
mod messages;
