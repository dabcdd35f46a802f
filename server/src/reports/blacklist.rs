//! The dishonesty list (失信名单) of a village or town: households with an
//! unrestored violation under rules reviewed as lawful whose item puts them on
//! the list, once its correction period is over
//! ([`fengqiao_domain::prevent::on_dishonesty_list`]). Read by the village's
//! cadres for their village and by the town's staff for their town.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fengqiao_domain::org::UnitLevel;
use fengqiao_domain::permissions::{any_may, Action, Actor};
use fengqiao_domain::prevent::on_dishonesty_list;
use fengqiao_domain::prevent::NegativeItem;
use fengqiao_domain::{EntityKind, OrgUnit, Record, RoleGrant};
use serde::Serialize;
use uuid::Uuid;

use super::render::Cell;
use crate::store::{Store, StoreResult};

/// One household on the list, for one violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BlacklistRow {
    /// 村
    pub village: String,
    /// 组
    pub group: String,
    /// The household.
    pub household_id: Uuid,
    /// 户主
    pub head_name: String,
    /// 住址
    pub address: String,
    /// The violation.
    pub violation_id: Uuid,
    /// 负面清单事项代码
    pub item_code: String,
    /// 负面清单事项
    pub item: String,
    /// 列入日期 (county zone): the end of the correction period.
    pub listed_on: String,
}

/// Column headers, Chinese.
pub const HEADERS: [&str; 7] = ["村", "组", "户主", "住址", "事项代码", "负面清单事项", "列入日期"];

impl BlacklistRow {
    /// The row's cells in [`HEADERS`] order (all text).
    pub fn cells(&self) -> Vec<Cell> {
        [&self.village, &self.group, &self.head_name, &self.address, &self.item_code, &self.item, &self.listed_on]
            .into_iter()
            .map(|s| Cell::Text(s.clone()))
            .collect()
    }
}

/// Why a caller may not read a unit's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// None of the caller's roles reads a dishonesty list.
    Role,
    /// The unit is unknown, not a village or town, or outside the caller's units.
    Unit,
}

/// Whether `grants` may read the list of `unit` (its scope: itself first, then
/// each unit above): a village's cadres their own village, a town's staff their
/// town and its villages.
pub fn may_read(grants: &[RoleGrant], unit: &OrgUnit, scope: &[Uuid]) -> Result<(), Refused> {
    if !any_may(grants, Action::ReadVillageBlacklist) && !any_may(grants, Action::ReadTownBlacklist) {
        return Err(Refused::Role);
    }
    let action = match unit.level {
        UnitLevel::Village => Action::ReadVillageBlacklist,
        UnitLevel::Town => Action::ReadTownBlacklist,
        _ => return Err(Refused::Unit),
    };
    let actor = Actor { user_id: Uuid::nil(), grants: grants.to_vec() };
    if actor.may(action, scope) {
        Ok(())
    } else {
        Err(Refused::Unit)
    }
}

/// The unit and its scope (itself, then each unit above), if it exists.
pub fn unit_and_scope(store: &dyn Store, unit: Uuid) -> StoreResult<Option<(OrgUnit, Vec<Uuid>)>> {
    let Some(Record::Unit(u)) = store.record(EntityKind::Unit, unit)? else { return Ok(None) };
    let mut scope = vec![u.id];
    let mut next = u.parent;
    while let Some(id) = next.take() {
        if scope.len() >= fengqiao_domain::apply::MAX_DEPTH {
            break;
        }
        if let Some(Record::Unit(p)) = store.record(EntityKind::Unit, id)? {
            scope.push(p.id);
            next = p.parent;
        }
    }
    Ok(Some((u, scope)))
}

/// The list of `unit` at `now`, by village, group, head and listing date.
pub fn blacklist_rows(
    store: &dyn Store,
    policy: &fengqiao_domain::policy::Policy,
    unit: Uuid,
    now: DateTime<Utc>,
    zone: Tz,
) -> StoreResult<Vec<BlacklistRow>> {
    let units: HashMap<Uuid, OrgUnit> = store
        .records_of_kind(EntityKind::Unit)?
        .into_iter()
        .filter_map(|r| if let Record::Unit(u) = r { Some((u.id, u)) } else { None })
        .collect();
    // the village of a group, if `unit` is that village or above it
    let village_within = |group: Uuid| -> Option<&OrgUnit> {
        let mut at = units.get(&group)?;
        let mut village = None;
        for _ in 0..fengqiao_domain::apply::MAX_DEPTH {
            if at.level == UnitLevel::Village {
                village = Some(at);
            }
            if at.id == unit {
                return village;
            }
            at = units.get(&at.parent?)?;
        }
        None
    };
    let mut rules: HashMap<Uuid, Vec<NegativeItem>> = HashMap::new();
    let mut rows = Vec::new();
    for r in store.records_of_kind(EntityKind::Violation)? {
        let Record::Violation(v) = r else { continue };
        if !on_dishonesty_list(&v, now) {
            continue;
        }
        let Some(Record::Household(h)) = store.record(EntityKind::Household, v.household_id)? else { continue };
        let Some(village) = village_within(h.group_id) else { continue };
        let items = match rules.get(&village.id) {
            Some(items) => items,
            None => {
                let items =
                    match store.record(EntityKind::VillageRules, fengqiao_domain::prevent::rules_id(village.id))? {
                        Some(Record::VillageRules(r)) => r.items,
                        _ => fengqiao_domain::prevent::default_items(policy),
                    };
                rules.entry(village.id).or_insert(items)
            }
        };
        let item = items.iter().find(|i| i.code == v.item_code).map_or_else(String::new, |i| i.label_zh.clone());
        rows.push(BlacklistRow {
            village: village.name.clone(),
            group: units.get(&h.group_id).map_or_else(String::new, |g| g.name.clone()),
            household_id: h.id,
            head_name: h.head_name,
            address: h.address,
            violation_id: v.id,
            item_code: v.item_code,
            item,
            listed_on: v.sanctions_from.with_timezone(&zone).format("%Y-%m-%d").to_string(),
        });
    }
    rows.sort_by(|a, b| {
        (&a.village, &a.group, &a.head_name, &a.listed_on, a.violation_id).cmp(&(
            &b.village,
            &b.group,
            &b.head_name,
            &b.listed_on,
            b.violation_id,
        ))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengqiao_domain::org::Role;

    fn unit(n: u128, level: UnitLevel) -> OrgUnit {
        OrgUnit {
            id: Uuid::from_u128(n),
            code: format!("U{n}"),
            name: format!("u{n}"),
            level,
            parent: None,
            kind: None,
            offices: vec![],
        }
    }

    /// Least visibility: a village's cadres read their village only, a town's
    /// staff their town and its villages, a group leader or the county admin none.
    #[test]
    fn each_reads_the_list_of_their_own_unit_only() {
        let (town, village, other) = (Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4));
        let g = |role, unit| vec![RoleGrant { role, unit_id: unit }];
        let v = unit(3, UnitLevel::Village);
        let t = unit(2, UnitLevel::Town);
        let (v_scope, t_scope) = (vec![village, town, Uuid::from_u128(1)], vec![town, Uuid::from_u128(1)]);
        assert_eq!(may_read(&g(Role::VillageCadre, village), &v, &v_scope), Ok(()));
        assert_eq!(may_read(&g(Role::VillageCadre, other), &v, &v_scope), Err(Refused::Unit));
        assert_eq!(may_read(&g(Role::VillageSecretary, village), &t, &t_scope), Err(Refused::Unit));
        assert_eq!(may_read(&g(Role::JudicialOffice, town), &t, &t_scope), Ok(()));
        assert_eq!(may_read(&g(Role::TownCommittee, town), &v, &v_scope), Ok(()));
        assert_eq!(may_read(&g(Role::GroupLeader, village), &v, &v_scope), Err(Refused::Role));
        assert_eq!(may_read(&g(Role::CountyAdmin, Uuid::from_u128(1)), &t, &t_scope), Err(Refused::Role));
        let county = unit(1, UnitLevel::County);
        assert_eq!(may_read(&g(Role::JudicialOffice, town), &county, &[Uuid::from_u128(1)]), Err(Refused::Unit));
    }
}
