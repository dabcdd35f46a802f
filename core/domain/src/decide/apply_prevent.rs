//! Deciding the prevention and screening operations: village rules and their
//! legality review, violations and restorations, screenings.

use chrono::{DateTime, Utc};

use crate::decide::shared::{earlier_policy, from_unit, level_unit};
use crate::decide::view::{household_scope, nij, reject, unit_scope, Effect, Out, StateView, Verdict, ViewError};
use crate::model::ladder::Level;
use crate::model::permissions::{Action, Actor};
use crate::model::prevent::{
    default_items, rules_id, sanctions_from, standing_id, suspends, Commitment, HouseholdStanding, Restoration,
    VillageRules,
};
use crate::model::records::{EntityKind, Record};
use crate::policy::Policy;
use crate::wire::rejection::RejectionCode;
use crate::wire::{Op, OpEnvelope};

/// The rules in force in a village (its own, else the policy's defaults).
pub fn rules_of(view: &dyn StateView, village: uuid::Uuid, policy: &Policy) -> Result<VillageRules, ViewError> {
    Ok(match view.get(EntityKind::VillageRules, rules_id(village))? {
        Some(Record::VillageRules(r)) => r,
        _ => VillageRules {
            id: rules_id(village),
            village_id: village,
            items: default_items(policy),
            legality_reviewed: false,
            reviewed_by: None,
            reviewed_at: None,
            adoption: None,
        },
    })
}

/// Today's calendar day in the county's zone.
fn county_today(policy: &Policy, now: DateTime<Utc>) -> chrono::NaiveDate {
    now.with_timezone(&policy.zone()).date_naive()
}

fn standing_of(view: &dyn StateView, household: uuid::Uuid) -> Result<HouseholdStanding, ViewError> {
    Ok(match view.get(EntityKind::HouseholdStanding, standing_id(household))? {
        Some(Record::HouseholdStanding(s)) => s,
        _ => HouseholdStanding {
            id: standing_id(household),
            household_id: household,
            suspensions: vec![],
            commitment: None,
        },
    })
}

pub(crate) fn decide(
    env: &OpEnvelope,
    op: &Op,
    actor: &Actor,
    policy: &Policy,
    view: &dyn StateView,
    now: DateTime<Utc>,
) -> Out {
    match op {
        Op::SetVillageRules(r) => {
            let Some(scope) = unit_scope(view, r.village_id)? else { return nij("村") };
            if !actor.may(Action::SetVillageRules, &scope) {
                return if actor.may_see(EntityKind::VillageRules, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "权限：村规民约由本村书记制定")
                } else {
                    nij("村")
                };
            }
            if r.id != rules_id(r.village_id) {
                return reject(RejectionCode::InvalidField, "村规民约：每个村只有一份村规民约");
            }
            if let Some(Err(r)) = r.adoption.as_ref().map(|a| a.validate(county_today(policy, now))) {
                return Ok(Verdict::Reject(r));
            }
            let mut rules = r.clone();
            // changed rules need the township's legality review again
            rules.legality_reviewed = false;
            rules.reviewed_by = None;
            rules.reviewed_at = None;
            Ok(Verdict::Apply(vec![Effect::Put { record: Record::VillageRules(rules), scope }]))
        }
        Op::ReviewVillageRules(r) => {
            let Some(scope) = unit_scope(view, r.village_id)? else { return nij("村") };
            let Some(town) = level_unit(view, &scope, Level::Town)? else { return nij("村") };
            if !actor.may(Action::ReviewVillageRules, from_unit(&scope, town)) {
                return if actor.may_see(EntityKind::VillageRules, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "权限：村规民约由乡镇司法所审查")
                } else {
                    nij("村")
                };
            }
            let mut rules = rules_of(view, r.village_id, policy)?;
            if r.reviewed && !rules.adoption.as_ref().is_some_and(|a| a.passed()) {
                return reject(
                    RejectionCode::InvalidState,
                    "村规民约审查：须先经村民代表会议表决通过（记录会议日期、到会和表决情况），才能审查为合法",
                );
            }
            rules.legality_reviewed = r.reviewed;
            rules.reviewed_by = Some(env.author);
            rules.reviewed_at = Some(now);
            Ok(Verdict::Apply(vec![Effect::Put { record: Record::VillageRules(rules), scope }]))
        }
        Op::RecordViolation(v) => {
            let Some(scope) = household_scope(view, v.household_id)? else { return nij("农户") };
            if !actor.may(Action::RecordViolation, &scope) {
                return if actor.may_see(EntityKind::Household, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "权限：违反村规民约的情况由村干部登记")
                } else {
                    nij("农户")
                };
            }
            let Some(village) = level_unit(view, &scope, Level::Village)? else { return nij("农户") };
            let rules = rules_of(view, village, policy)?;
            // a village on the policy's default list: an item the county removed
            // since the phone recorded it is still that of the policy it was made under
            let own_rules = view.get(EntityKind::VillageRules, rules_id(village))?.is_some();
            let earlier = if own_rules { None } else { earlier_policy(view, policy, &v.policy_version)? };
            let earlier_items = earlier.as_ref().map(default_items).unwrap_or_default();
            let Some(item) = rules.items.iter().chain(&earlier_items).find(|i| i.code == v.item_code) else {
                return reject(RejectionCode::InvalidField, "违反事项：不在本村的负面清单上");
            };
            if view.get(EntityKind::Violation, v.id)?.is_some() {
                return Ok(Verdict::Apply(vec![]));
            }
            let mut v = v.clone();
            v.recorded_by = env.author;
            v.notified_at = now;
            v.sanctions_from = sanctions_from(now, item);
            // sanctions only under rules reviewed as lawful when recorded
            v.sanctions_withheld = rules.sanctions_withheld();
            v.sanctions = if v.sanctions_withheld.is_some() { Vec::new() } else { item.sanctions.clone() };
            v.restoration = None;
            v.policy_version = policy.version();
            let mut effects = Vec::new();
            if suspends(&v) {
                let mut st = standing_of(view, v.household_id)?;
                st.suspensions.push(v.sanctions_from);
                effects.push(Effect::Put { record: Record::HouseholdStanding(st), scope: scope.clone() });
            }
            effects.insert(0, Effect::Put { record: Record::Violation(v), scope });
            Ok(Verdict::Apply(effects))
        }
        Op::RestoreHousehold(r) => {
            let Some(Record::Violation(mut v)) = view.get(EntityKind::Violation, r.violation_id)? else {
                return nij("违反记录");
            };
            let Some(scope) = household_scope(view, v.household_id)? else { return nij("违反记录") };
            if !actor.may_see(EntityKind::Violation, &scope) {
                return nij("违反记录");
            }
            if !actor.may(Action::RestoreHousehold, &scope) {
                return reject(RejectionCode::RoleNotAllowed, "权限：恢复待遇须由本村书记批准");
            }
            if v.restoration.is_some() {
                return Ok(Verdict::Conflict {
                    message: "恢复待遇：这户已经恢复过了".into(),
                    current: Box::new(Record::Violation(v)),
                });
            }
            v.restoration = Some(Restoration { approved_by: env.author, at: now, note: r.note.clone() });
            let mut effects = Vec::new();
            if suspends(&v) {
                let mut st = standing_of(view, v.household_id)?;
                if let Some(i) = st.suspensions.iter().position(|t| *t == v.sanctions_from) {
                    st.suspensions.remove(i);
                }
                effects.push(Effect::Put { record: Record::HouseholdStanding(st), scope: scope.clone() });
            }
            effects.insert(0, Effect::Put { record: Record::Violation(v), scope });
            Ok(Verdict::Apply(effects))
        }
        Op::FileScreening(s) => {
            let Some(scope) = unit_scope(view, s.village_id)? else { return nij("村") };
            if !actor.may(Action::FileScreening, &scope) {
                return if actor.may_see(EntityKind::Household, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "权限：矛盾纠纷排查由村干部上报")
                } else {
                    nij("村")
                };
            }
            // focus areas: the policy in force, or the one it was filed under
            if let Err(r) = s.validate_under(policy, earlier_policy(view, policy, &s.policy_version)?.as_ref()) {
                return Ok(Verdict::Reject(r));
            }
            let mut s = s.clone();
            s.filed_by = env.author;
            s.filed_at = now;
            s.policy_version = policy.version();
            Ok(Verdict::Apply(vec![Effect::Put { record: Record::Screening(s), scope }]))
        }
        Op::RecordCommitment(c) => {
            let Some(scope) = household_scope(view, c.household_id)? else { return nij("农户") };
            if !actor.may(Action::RecordCommitment, &scope) {
                return if actor.may_see(EntityKind::Household, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "权限：村规民约承诺书由村干部登记")
                } else {
                    nij("农户")
                };
            }
            if let Err(r) = c.validate(county_today(policy, now)) {
                return Ok(Verdict::Reject(r));
            }
            let mut st = standing_of(view, c.household_id)?;
            st.commitment = Some(Commitment {
                signed: c.signed,
                signed_on: c.signed_on,
                recorded_by: env.author,
                recorded_at: now,
            });
            Ok(Verdict::Apply(vec![Effect::Put { record: Record::HouseholdStanding(st), scope }]))
        }
        _ => reject(RejectionCode::InvalidField, crate::decide::view::NOT_THIS_AREA),
    }
}

#[cfg(test)]
#[path = "apply_prevent_tests.rs"]
mod law_tests;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::Utc;
    use uuid::Uuid;

    use crate::decide::apply::{decide, StateView, Verdict, ViewError};
    use crate::model::org::{OrgUnit, Role, RoleGrant, UnitLevel};
    use crate::model::permissions::Actor;
    use crate::model::prevent::{rules_id, NegativeItem, VillageRules};
    use crate::model::records::{EntityKind, Record};
    use crate::policy::Policy;
    use crate::wire::{Op, OpEnvelope};

    struct Units(HashMap<Uuid, Record>);

    impl StateView for Units {
        fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
            Ok(if kind == EntityKind::Unit { self.0.get(&id).cloned() } else { None })
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

    /// County 1 > town 2 > village 3.
    fn village_view() -> Units {
        let (county, town, village) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let units = [
            (county, "C01", UnitLevel::County, None),
            (town, "T01", UnitLevel::Town, Some(county)),
            (village, "V01", UnitLevel::Village, Some(town)),
        ];
        Units(
            units
                .into_iter()
                .map(|(id, code, level, parent)| {
                    (
                        id,
                        Record::Unit(OrgUnit {
                            id,
                            code: code.into(),
                            name: code.into(),
                            level,
                            parent,
                            kind: None,
                            offices: vec![],
                        }),
                    )
                })
                .collect(),
        )
    }

    fn set_rules(items: usize, policy: &Policy) -> Verdict {
        let village = Uuid::from_u128(3);
        let view = village_view();
        let secretary = Actor {
            user_id: Uuid::now_v7(),
            grants: vec![RoleGrant { role: Role::VillageSecretary, unit_id: village }],
        };
        let items = (0..items)
            .map(|i| NegativeItem {
                code: format!("item{i}"),
                label_zh: format!("事项{i}"),
                sanctions: vec![],
                correction_days: 15,
            })
            .collect();
        let rules = VillageRules {
            id: rules_id(village),
            village_id: village,
            items,
            legality_reviewed: false,
            reviewed_by: None,
            reviewed_at: None,
            adoption: None,
        };
        let env = OpEnvelope {
            op_id: Uuid::now_v7(),
            v: 1,
            author: secretary.user_id,
            created_at: Utc::now(),
            op: Op::SetVillageRules(rules),
            seen: None,
        };
        decide(&env, &secretary, policy, &view, Utc::now()).unwrap()
    }

    /// How many items a village's negative list may have is the county's choice
    /// (`village_rules.max_items`), not a number in code.
    #[test]
    fn the_item_cap_of_village_rules_is_the_policys() {
        let seed = Policy::default();
        assert!(matches!(set_rules(15, &seed), Verdict::Apply(_)));
        match set_rules(16, &seed) {
            Verdict::Reject(r) => assert!(r.message.contains("1 至 15"), "{}", r.message),
            other => panic!("{other:?}"),
        }
        let roomy = Policy::from_toml("[village_rules]\nmax_items = 20\n").unwrap();
        assert!(matches!(set_rules(16, &roomy), Verdict::Apply(_)));
        assert!(matches!(set_rules(21, &roomy), Verdict::Reject(_)));
        assert!(matches!(set_rules(0, &roomy), Verdict::Reject(_)));
    }

    /// A consultation's texts and a screening's note are held to the county's
    /// `text.max_note_chars` alone: `decide` kept its own 4000/8000 and 4000, so a
    /// county allowing longer notes had them refused after `validate` let them by.
    #[test]
    fn long_texts_follow_the_policys_note_limit_alone() {
        use crate::disputes::Satisfaction;
        use crate::prevent::{screening_id, Screening};
        use crate::subsidy::Consultation;
        let roomy = Policy::from_toml("[text]\nmax_note_chars = 6000\n").unwrap();
        let long = "问".repeat(5000);
        let village = Uuid::from_u128(3);
        let run = |role: Role, op: Op, policy: &Policy| {
            let actor = Actor { user_id: Uuid::now_v7(), grants: vec![RoleGrant { role, unit_id: village }] };
            let env = OpEnvelope {
                op_id: Uuid::now_v7(),
                v: 1,
                author: actor.user_id,
                created_at: Utc::now(),
                op,
                seen: None,
            };
            decide(&env, &actor, policy, &village_view(), Utc::now()).unwrap()
        };
        let consult = |question: String, answer: String| {
            Op::RecordConsultation(Consultation {
                id: Uuid::now_v7(),
                village_id: village,
                at: Utc::now(),
                question,
                answer,
                satisfaction: Satisfaction::Satisfied,
                advisor: Uuid::nil(),
                outcome: None,
                review: None,
            })
        };
        let screening = |note: String| {
            Op::FileScreening(Screening {
                id: screening_id(village, "2026-05"),
                village_id: village,
                period: "2026-05".into(),
                hazards: vec![],
                focus_areas: vec![],
                new_disputes: vec![],
                note,
                filed_by: Uuid::nil(),
                filed_at: Utc::now(),
                policy_version: String::new(),
            })
        };
        let applied = |v: Verdict| matches!(v, Verdict::Apply(_));
        let code = |v: Verdict| match v {
            Verdict::Reject(r) => r.code.as_str(),
            other => panic!("{other:?}"),
        };
        assert!(applied(run(Role::LegalAdvisor, consult(long.clone(), long.clone()), &roomy)));
        assert!(applied(run(Role::VillageSecretary, screening(long.clone()), &roomy)));
        let seed = Policy::default();
        assert_eq!(code(run(Role::LegalAdvisor, consult(long.clone(), "好".into()), &seed)), "text_too_long");
        assert_eq!(code(run(Role::LegalAdvisor, consult("好".into(), long.clone()), &seed)), "text_too_long");
        assert_eq!(code(run(Role::LegalAdvisor, consult(" ".into(), "好".into()), &seed)), "invalid_field");
        assert_eq!(code(run(Role::VillageSecretary, screening(long), &seed)), "text_too_long");
    }
}
