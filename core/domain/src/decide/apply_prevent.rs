//! Deciding the prevention and screening operations: village rules and their
//! legality review, violations and restorations, screenings.

use chrono::{DateTime, Utc};

use crate::decide::shared::{acts_as, from_unit, level_unit};
use crate::decide::view::{household_scope, nij, reject, unit_scope, Effect, Out, StateView, Verdict, ViewError};
use crate::model::ladder::Level;
use crate::model::org::Role;
use crate::model::permissions::Actor;
use crate::model::prevent::{
    check_items, default_items, rules_id, sanctions_from, standing_id, suspends, HouseholdStanding, Restoration,
    VillageRules,
};
use crate::model::records::{EntityKind, Record};
use crate::policy::Policy;
use crate::wire::rejection::RejectionCode;
use crate::wire::{Op, OpEnvelope};

/// Who records violations and files screenings: the village's cadres.
pub const RECORDERS: &[Role] = crate::model::permissions::roles_for(crate::model::permissions::Action::RecordViolation);
/// Who approves a restoration and sets the rules: the village's secretaries.
pub const RESTORERS: &[Role] = &[Role::VillageSecretary, Role::FirstSecretary];
/// Who reviews the rules' legality: the township judicial office.
pub const RULE_REVIEWERS: &[Role] = &[Role::JudicialOffice];

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
        },
    })
}

fn standing_of(view: &dyn StateView, household: uuid::Uuid) -> Result<HouseholdStanding, ViewError> {
    Ok(match view.get(EntityKind::HouseholdStanding, standing_id(household))? {
        Some(Record::HouseholdStanding(s)) => s,
        _ => HouseholdStanding { id: standing_id(household), household_id: household, suspensions: vec![] },
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
            let Some(scope) = unit_scope(view, r.village_id)? else { return nij("village") };
            if !acts_as(actor, RESTORERS, &scope) {
                return if actor.may_see(EntityKind::VillageRules, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "village rules are set by the village's secretaries")
                } else {
                    nij("village")
                };
            }
            if r.id != rules_id(r.village_id) {
                return reject(RejectionCode::InvalidField, "id: one rule set per village");
            }
            if let Err(r) = check_items(&r.items, policy) {
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
            let Some(scope) = unit_scope(view, r.village_id)? else { return nij("village") };
            let Some(town) = level_unit(view, &scope, Level::JudicialOffice)? else { return nij("village") };
            if !acts_as(actor, RULE_REVIEWERS, from_unit(&scope, town)) {
                return if actor.may_see(EntityKind::VillageRules, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "the township judicial office reviews village rules")
                } else {
                    nij("village")
                };
            }
            let mut rules = rules_of(view, r.village_id, policy)?;
            rules.legality_reviewed = r.reviewed;
            rules.reviewed_by = Some(env.author);
            rules.reviewed_at = Some(now);
            Ok(Verdict::Apply(vec![Effect::Put { record: Record::VillageRules(rules), scope }]))
        }
        Op::RecordViolation(v) => {
            let Some(scope) = household_scope(view, v.household_id)? else { return nij("household") };
            if !acts_as(actor, RECORDERS, &scope) {
                return if actor.may_see(EntityKind::Household, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "violations are recorded by village cadres")
                } else {
                    nij("household")
                };
            }
            let Some(village) = level_unit(view, &scope, Level::Village)? else { return nij("household") };
            let rules = rules_of(view, village, policy)?;
            let Some(item) = rules.items.iter().find(|i| i.code == v.item_code) else {
                return reject(RejectionCode::InvalidField, "item_code: not on this village's negative list");
            };
            if view.get(EntityKind::Violation, v.id)?.is_some() {
                return Ok(Verdict::Apply(vec![]));
            }
            let mut v = v.clone();
            v.recorded_by = env.author;
            v.notified_at = now;
            v.sanctions_from = sanctions_from(now, item);
            v.sanctions = item.sanctions.clone();
            v.restoration = None;
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
                return nij("violation");
            };
            let Some(scope) = household_scope(view, v.household_id)? else { return nij("violation") };
            if !actor.may_see(EntityKind::Violation, &scope) {
                return nij("violation");
            }
            if !acts_as(actor, RESTORERS, &scope) {
                return reject(RejectionCode::RoleNotAllowed, "restoration is approved by the village's secretaries");
            }
            if v.restoration.is_some() {
                return Ok(Verdict::Conflict {
                    message: "already restored".into(),
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
            let Some(scope) = unit_scope(view, s.village_id)? else { return nij("village") };
            if !acts_as(actor, RECORDERS, &scope) {
                return if actor.may_see(EntityKind::Household, &scope) {
                    reject(RejectionCode::RoleNotAllowed, "screenings are filed by village cadres")
                } else {
                    nij("village")
                };
            }
            if let Err(r) = s.validate(policy) {
                return Ok(Verdict::Reject(r));
            }
            let mut s = s.clone();
            s.filed_by = env.author;
            s.filed_at = now;
            Ok(Verdict::Apply(vec![Effect::Put { record: Record::Screening(s), scope }]))
        }
        _ => reject(RejectionCode::InvalidField, "not a prevention operation"),
    }
}

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

    fn set_rules(items: usize, policy: &Policy) -> Verdict {
        let (county, town, village) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let units = [
            (county, "C01", UnitLevel::County, None),
            (town, "T01", UnitLevel::Town, Some(county)),
            (village, "V01", UnitLevel::Village, Some(town)),
        ];
        let view = Units(
            units
                .into_iter()
                .map(|(id, code, level, parent)| {
                    (id, Record::Unit(OrgUnit { id, code: code.into(), name: code.into(), level, parent }))
                })
                .collect(),
        );
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
}
