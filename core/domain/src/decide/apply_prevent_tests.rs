//! Tests of the rules the law puts above a village (`apply_prevent.rs` with
//! `model/village_law.rs`): sanctions only under rules reviewed as lawful,
//! statutory benefits never suspended, the adopting vote, commitment letters.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::decide::apply::{decide, Effect, StateView, Verdict, ViewError};
use crate::model::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use crate::model::permissions::Actor;
use crate::model::prevent::{
    rules_id, standing_id, Adoption, NegativeItem, Sanction, SanctionsWithheld, VillageRules, Violation,
};
use crate::model::records::{EntityKind, Household, Record};
use crate::model::village_law::RecordCommitment;
use crate::policy::Policy;
use crate::wire::{Op, OpEnvelope, ReviewVillageRules};

const VILLAGE: u128 = 3;
const OTHER_VILLAGE: u128 = 4;
const HOME: u128 = 50;
const OTHER_HOME: u128 = 60;

/// county 1 > town 2 > villages 3, 4 > groups 5, 6 > households 50, 60; the
/// records ops put are kept, so ops see each other.
struct World {
    records: HashMap<(EntityKind, Uuid), Record>,
    policy: Policy,
    now: DateTime<Utc>,
    /// Policies the server ran under before (ADR 0030).
    earlier: Vec<Policy>,
}

impl StateView for World {
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
        Ok(self.records.get(&(kind, id)).cloned())
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
    fn earlier_policy(&self, version: &str) -> Result<Option<Policy>, ViewError> {
        Ok(self.earlier.iter().find(|p| p.version() == version).cloned())
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn world() -> World {
    let mut w = World { records: HashMap::new(), policy: Policy::default(), now: Utc::now(), earlier: vec![] };
    let units = [
        (1, UnitLevel::County, None),
        (2, UnitLevel::Town, Some(1)),
        (VILLAGE, UnitLevel::Village, Some(2)),
        (OTHER_VILLAGE, UnitLevel::Village, Some(2)),
        (5, UnitLevel::Group, Some(VILLAGE)),
        (6, UnitLevel::Group, Some(OTHER_VILLAGE)),
    ];
    for (n, level, parent) in units {
        let u = OrgUnit {
            id: id(n),
            code: format!("U{n}"),
            name: format!("u{n}"),
            level,
            parent: parent.map(id),
            kind: None,
            offices: vec![],
        };
        w.records.insert((EntityKind::Unit, u.id), Record::Unit(u));
    }
    for (h, g) in [(HOME, 5), (OTHER_HOME, 6)] {
        let hh = Household {
            id: id(h),
            group_id: id(g),
            head_name: "张三".into(),
            address: "1号".into(),
            phone: None,
            code: None,
            id_number: None,
        };
        w.records.insert((EntityKind::Household, hh.id), Record::Household(hh));
    }
    w
}

fn actor(role: Role, unit: u128) -> Actor {
    Actor { user_id: Uuid::now_v7(), grants: vec![RoleGrant { role, unit_id: id(unit) }] }
}

impl World {
    /// Decides `op` by `who` and keeps what it puts.
    fn run(&mut self, who: &Actor, op: Op) -> Verdict {
        let env = OpEnvelope { op_id: Uuid::now_v7(), v: 1, author: who.user_id, created_at: self.now, op, seen: None };
        let verdict = decide(&env, who, &self.policy, self, self.now).expect("view");
        crate::decide::view::assert_readable(&verdict);
        if let Verdict::Apply(effects) = &verdict {
            for Effect::Put { record, .. } in effects {
                self.records.insert((record.kind(), record.id()), record.clone());
            }
        }
        verdict
    }

    fn code(&mut self, who: &Actor, op: Op) -> &'static str {
        match self.run(who, op) {
            Verdict::Reject(r) => r.code.as_str(),
            Verdict::Apply(_) => "applied",
            Verdict::Conflict { .. } => "conflict",
        }
    }

    fn violation(&self, v: Uuid) -> Violation {
        match self.records.get(&(EntityKind::Violation, v)) {
            Some(Record::Violation(v)) => v.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn suspensions(&self) -> usize {
        match self.records.get(&(EntityKind::HouseholdStanding, standing_id(id(HOME)))) {
            Some(Record::HouseholdStanding(s)) => s.suspensions.len(),
            _ => 0,
        }
    }
}

fn violation_op(item: &str) -> (Uuid, Op) {
    let v = Violation {
        id: Uuid::now_v7(),
        household_id: id(HOME),
        item_code: item.into(),
        note: "连续三个月未缴水费".into(),
        evidence: vec![],
        recorded_by: Uuid::nil(),
        notified_at: Utc::now(),
        sanctions_from: Utc::now(),
        sanctions: vec![],
        sanctions_withheld: None,
        restoration: None,
        policy_version: String::new(),
    };
    (v.id, Op::RecordViolation(v))
}

fn passed_vote(today: NaiveDate) -> Adoption {
    Adoption { meeting_date: today, members: 30, present: 24, votes_for: 20, votes_against: 2, abstentions: 2 }
}

fn rules(services: &[&str], adoption: Option<Adoption>) -> Op {
    let item = NegativeItem {
        code: "water_fees_unpaid".into(),
        label_zh: "不按规定交纳水费".into(),
        sanctions: vec![
            Sanction::ServicesSuspended { services: services.iter().map(|s| s.to_string()).collect() },
            Sanction::DishonestyList,
        ],
        correction_days: 15,
    };
    Op::SetVillageRules(VillageRules {
        id: rules_id(id(VILLAGE)),
        village_id: id(VILLAGE),
        items: vec![item],
        legality_reviewed: true,
        reviewed_by: None,
        reviewed_at: None,
        adoption,
    })
}

fn review(lawful: bool) -> Op {
    Op::ReviewVillageRules(ReviewVillageRules { village_id: id(VILLAGE), reviewed: lawful })
}

/// A violation recorded while the village's rules are not reviewed as lawful is
/// kept with no sanction and says why; a later lawful review does not reach
/// back to it, and violations recorded after the review carry the sanctions. A
/// review finding the rules unlawful withholds sanctions again.
#[test]
fn sanctions_apply_only_under_rules_reviewed_as_lawful() {
    let mut w = world();
    let today = w.now.date_naive();
    let (cadre, secretary, judicial) =
        (actor(Role::VillageCadre, VILLAGE), actor(Role::VillageSecretary, VILLAGE), actor(Role::JudicialOffice, 2));

    // the county's default list, never reviewed for this village
    let (before, op) = violation_op("water_fees_unpaid");
    assert_eq!(w.code(&cadre, op), "applied");
    let v = w.violation(before);
    assert!(v.sanctions.is_empty(), "no sanction under unreviewed rules: {v:?}");
    assert_eq!(v.sanctions_withheld, Some(SanctionsWithheld::RulesUnreviewed));
    assert!(SanctionsWithheld::RulesUnreviewed.message_zh().contains("合法性审查"));
    assert_eq!(w.suspensions(), 0, "services are not suspended");
    assert!(!crate::model::prevent::on_dishonesty_list(&v, w.now + Duration::days(30)));

    assert_eq!(w.code(&secretary, rules(&["村集体分红"], Some(passed_vote(today)))), "applied");
    assert_eq!(w.code(&judicial, review(true)), "applied");
    assert_eq!(w.violation(before), v, "a later review does not sanction an earlier violation");

    let (after, op) = violation_op("water_fees_unpaid");
    assert_eq!(w.code(&cadre, op), "applied");
    let v2 = w.violation(after);
    assert_eq!(v2.sanctions_withheld, None);
    assert_eq!(v2.sanctions.len(), 2, "the rules' sanctions: {v2:?}");
    assert_eq!(w.suspensions(), 1);
    assert!(crate::model::prevent::on_dishonesty_list(&v2, v2.sanctions_from));
    assert!(!crate::model::prevent::on_dishonesty_list(&v2, v2.sanctions_from - Duration::seconds(1)));

    // the judicial office finds the rules unlawful: new violations carry nothing
    assert_eq!(w.code(&judicial, review(false)), "applied");
    let (unlawful, op) = violation_op("water_fees_unpaid");
    assert_eq!(w.code(&cadre, op), "applied");
    let v3 = w.violation(unlawful);
    assert_eq!((v3.sanctions.len(), v3.sanctions_withheld), (0, Some(SanctionsWithheld::RulesUnlawful)));
    assert_eq!(w.suspensions(), 1, "only the lawful one suspends");
}

/// No village rules suspend a statutory benefit, whatever the policy's list of
/// village services says; a suspension names only the county's village services.
#[test]
fn statutory_benefits_are_never_suspended() {
    let mut w = world();
    let today = w.now.date_naive();
    let secretary = actor(Role::VillageSecretary, VILLAGE);
    for benefit in ["低保", "城乡居民医保", "特困人员供养", "义务教育阶段资助", "基本养老保险"]
    {
        assert_eq!(w.code(&secretary, rules(&[benefit], Some(passed_vote(today)))), "protected_benefit", "{benefit}");
    }
    match w.run(&secretary, rules(&["村集体分红", "低保"], None)) {
        Verdict::Reject(r) => assert!(r.message.contains("低保") && r.message.contains("法定保障"), "{}", r.message),
        other => panic!("{other:?}"),
    }
    // a policy built past the policy check still cannot open a statutory benefit
    w.policy.village_rules.services.push("农村低保".into());
    assert_eq!(w.code(&secretary, rules(&["农村低保"], None)), "protected_benefit");
    assert_eq!(w.code(&secretary, rules(&["村里的路灯"], None)), "invalid_field", "not a county village service");
    assert_eq!(w.code(&secretary, rules(&[], None)), "invalid_field", "a suspension names its services");
    assert_eq!(w.code(&secretary, rules(&["村集体分红", "村级福利"], None)), "applied");
}

/// Rules are reviewed as lawful only once the representative meeting adopted
/// them; a vote that did not pass is refused.
#[test]
fn a_lawful_review_needs_the_representative_meetings_vote() {
    let mut w = world();
    let today = w.now.date_naive();
    let (secretary, judicial) = (actor(Role::VillageSecretary, VILLAGE), actor(Role::JudicialOffice, 2));
    assert_eq!(w.code(&judicial, review(true)), "invalid_state", "the county's defaults were never voted");
    assert_eq!(w.code(&secretary, rules(&["村集体分红"], None)), "applied");
    assert_eq!(w.code(&judicial, review(true)), "invalid_state", "rules without a vote");
    assert_eq!(w.code(&judicial, review(false)), "applied", "finding them unlawful needs no vote");
    let short = Adoption { present: 19, votes_for: 19, votes_against: 0, abstentions: 0, ..passed_vote(today) };
    assert_eq!(w.code(&secretary, rules(&["村集体分红"], Some(short))), "invalid_state", "no quorum");
    let tomorrow = Adoption { meeting_date: today + Duration::days(2), ..passed_vote(today) };
    assert_eq!(w.code(&secretary, rules(&["村集体分红"], Some(tomorrow))), "invalid_field");
    assert_eq!(w.code(&secretary, rules(&["村集体分红"], Some(passed_vote(today)))), "applied");
    match w.records.get(&(EntityKind::VillageRules, rules_id(id(VILLAGE)))) {
        Some(Record::VillageRules(r)) => assert_eq!(r.adoption, Some(passed_vote(today))),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.code(&judicial, review(true)), "applied");
}

/// A cadre records each household's commitment letter on its standing (next to
/// its suspensions, which stay); a group leader or another village's cadre
/// cannot, and a letter is dated when signed only.
#[test]
fn commitment_letters_are_recorded_per_household() {
    let mut w = world();
    let today = w.now.date_naive();
    let (secretary, judicial, cadre) =
        (actor(Role::VillageSecretary, VILLAGE), actor(Role::JudicialOffice, 2), actor(Role::VillageCadre, VILLAGE));
    assert_eq!(w.code(&secretary, rules(&["村集体分红"], Some(passed_vote(today)))), "applied");
    assert_eq!(w.code(&judicial, review(true)), "applied");
    let (_, op) = violation_op("water_fees_unpaid");
    assert_eq!(w.code(&cadre, op), "applied");

    let letter = |household: u128, signed: bool, signed_on: Option<NaiveDate>| {
        Op::RecordCommitment(RecordCommitment { household_id: id(household), signed, signed_on })
    };
    assert_eq!(w.code(&actor(Role::GroupLeader, 5), letter(HOME, true, Some(today))), "role_not_allowed");
    assert_eq!(
        w.code(&actor(Role::VillageCadre, OTHER_VILLAGE), letter(HOME, true, Some(today))),
        "not_in_jurisdiction"
    );
    assert_eq!(w.code(&cadre, letter(HOME, true, None)), "invalid_field");
    assert_eq!(w.code(&cadre, letter(HOME, true, Some(today + Duration::days(2)))), "invalid_field");
    assert_eq!(w.code(&cadre, letter(HOME, false, None)), "applied");
    assert_eq!(w.code(&cadre, letter(HOME, true, Some(today))), "applied");
    match w.records.get(&(EntityKind::HouseholdStanding, standing_id(id(HOME)))) {
        Some(Record::HouseholdStanding(s)) => {
            let c = s.commitment.as_ref().expect("recorded");
            assert_eq!((c.signed, c.signed_on, c.recorded_by), (true, Some(today), cadre.user_id));
            assert_eq!(s.suspensions.len(), 1, "the suspension stays");
        }
        other => panic!("{other:?}"),
    }
}

/// A screening made under `version` covering `areas`, for the village.
fn screening(areas: &[&str], version: &str) -> Op {
    let period = "2026-05";
    Op::FileScreening(crate::model::prevent::Screening {
        id: crate::model::prevent::screening_id(id(VILLAGE), period),
        village_id: id(VILLAGE),
        period: period.into(),
        hazards: vec![],
        focus_areas: areas.iter().map(|a| a.to_string()).collect(),
        new_disputes: vec![],
        note: String::new(),
        filed_by: Uuid::nil(),
        filed_at: Utc::now(),
        policy_version: version.into(),
    })
}

/// A focus area the county removes (ADR 0030): a screening filed under the
/// policy that had it is still accepted; one filed under the new policy, or
/// naming a version the server never ran, is refused.
#[test]
fn a_focus_area_removed_later_is_accepted_for_screenings_filed_under_the_policy_that_had_it() {
    let v1 = Policy::default();
    let mut v2 = v1.clone();
    v2.screening.focus_areas.retain(|a| a.code != "water_fees");
    let mut w = world();
    (w.policy, w.earlier) = (v2.clone(), vec![v1.clone(), v2.clone()]);
    let cadre = actor(Role::VillageCadre, VILLAGE);
    assert_eq!(w.code(&cadre, screening(&["water_fees", "land_rights"], &v1.version())), "applied");
    match w.records.get(&(EntityKind::Screening, crate::model::prevent::screening_id(id(VILLAGE), "2026-05"))) {
        Some(Record::Screening(s)) => assert_eq!(s.policy_version, v2.version(), "filed under the policy in force"),
        other => panic!("{other:?}"),
    }
    for claimed in [v2.version(), "0123456789abcdef".into(), String::new()] {
        assert_eq!(w.code(&cadre, screening(&["water_fees"], &claimed)), "invalid_field", "{claimed:?}");
    }
    assert_eq!(w.code(&cadre, screening(&["made_up"], &v1.version())), "invalid_field", "no policy had it");
}

/// An item of the policy's default negative list that the county removes: a
/// violation recorded under the policy that had it (the village on the default
/// list) is still accepted, with that item's terms; one recorded under the new
/// policy is refused; a village with rules of its own is judged by those only.
#[test]
fn a_negative_list_item_removed_later_is_accepted_for_violations_recorded_under_the_policy_that_had_it() {
    let v1 = Policy::default();
    let mut v2 = v1.clone();
    v2.negative_list.retain(|i| i.code != "water_fees_unpaid");
    let mut w = world();
    (w.policy, w.earlier) = (v2.clone(), vec![v1.clone(), v2.clone()]);
    let cadre = actor(Role::VillageCadre, VILLAGE);
    let made_under = |version: String| {
        let (vid, op) = violation_op("water_fees_unpaid");
        let Op::RecordViolation(mut v) = op else { unreachable!() };
        v.policy_version = version;
        (vid, Op::RecordViolation(v))
    };
    let (vid, op) = made_under(v1.version());
    assert_eq!(w.code(&cadre, op), "applied");
    let kept = w.violation(vid);
    assert_eq!((kept.item_code.as_str(), kept.policy_version.clone()), ("water_fees_unpaid", v2.version()));
    assert!(kept.sanctions_withheld.is_some(), "the default list is not reviewed rules: no sanction");
    for claimed in [v2.version(), "0123456789abcdef".into(), String::new()] {
        assert_eq!(w.code(&cadre, made_under(claimed.clone()).1), "invalid_field", "{claimed:?}");
    }
    // the village adopts rules of its own without the item: only those count
    let Op::SetVillageRules(mut own) = rules(&[], None) else { unreachable!() };
    own.items[0].code = "yard_dirty_messy".into();
    own.items[0].sanctions = vec![Sanction::DishonestyList];
    assert_eq!(w.code(&actor(Role::VillageSecretary, VILLAGE), Op::SetVillageRules(own)), "applied");
    assert_eq!(w.code(&cadre, made_under(v1.version()).1), "invalid_field", "the village's own list");
}
