//! Helpers every area's decisions share: the unit at a level, a scope from a unit
//! up, whether an actor acts in a role there, a visible dispute, and puts.

use uuid::Uuid;

use crate::decide::view::{unit_scope, Effect, StateView, ViewError};
use crate::model::disputes::Dispute;
use crate::model::ladder::Level;
use crate::model::org::{covers, Role, UnitLevel};
use crate::model::permissions::Actor;
use crate::model::records::{EntityKind, Record};

/// The unit at `level` within a scope (the scope's units looked up in `view`).
pub fn level_unit(view: &dyn StateView, scope: &[Uuid], level: Level) -> Result<Option<Uuid>, ViewError> {
    let want: UnitLevel = level.unit_level();
    for id in scope {
        if let Some(Record::Unit(u)) = view.get(EntityKind::Unit, *id)? {
            if u.level == want {
                return Ok(Some(u.id));
            }
        }
    }
    Ok(None)
}

/// The part of `scope` from `unit` upwards (the unit's own scope).
pub(crate) fn from_unit(scope: &[Uuid], unit: Uuid) -> &[Uuid] {
    match scope.iter().position(|u| *u == unit) {
        Some(i) => &scope[i..],
        None => &[],
    }
}

/// Whether the actor holds one of `roles` at a unit covering `unit_scope`.
pub fn acts_as(actor: &Actor, roles: &[Role], unit_scope: &[Uuid]) -> bool {
    actor.grants.iter().any(|g| roles.contains(&g.role) && covers(g.unit_id, unit_scope))
}

/// A dispute and its scope, if it exists and the actor may see it.
pub(crate) fn visible_dispute(
    view: &dyn StateView,
    actor: &Actor,
    id: Uuid,
) -> Result<Option<(Dispute, Vec<Uuid>)>, ViewError> {
    let Some(Record::Dispute(d)) = view.get(EntityKind::Dispute, id)? else { return Ok(None) };
    let Some(scope) = unit_scope(view, d.origin_unit)? else { return Ok(None) };
    Ok(actor.may_see(EntityKind::Dispute, &scope).then_some((d, scope)))
}

/// Puts of records that share a scope.
pub(crate) fn put_effects(scope: &[Uuid], records: Vec<Record>) -> Vec<Effect> {
    records.into_iter().map(|record| Effect::Put { record, scope: scope.to_vec() }).collect()
}
