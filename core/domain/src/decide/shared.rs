//! Helpers every area's decisions share: the unit at a level (and the judicial
//! office serving a town), a scope from a unit up, whether an actor acts in a role
//! there, a visible dispute, and puts.

use uuid::Uuid;

use crate::decide::view::{unit_scope, Effect, StateView, ViewError};
use crate::model::disputes::Dispute;
use crate::model::ladder::Level;
use crate::model::org::{covers, OrgUnit, Role, UnitLevel};
use crate::model::permissions::Actor;
use crate::model::records::{EntityKind, Record};
use crate::policy::Policy;
use crate::wire::rejection::{Rejection, RejectionCode};

/// The unit at `level` within a scope (the scope's units looked up in `view`).
/// The third level is the judicial office serving the scope's town: the one
/// office when one serves it, the town itself when none does, and `None` when
/// several do (the request names one: [`office_for`]).
pub fn level_unit(view: &dyn StateView, scope: &[Uuid], level: Level) -> Result<Option<Uuid>, ViewError> {
    if level == Level::JudicialOffice {
        return Ok(match offices_serving(view, scope)?.as_slice() {
            [one] => Some(*one),
            _ => None,
        });
    }
    Ok(unit_at(view, scope, level.unit_level())?.map(|u| u.id))
}

/// Whether a dispute of this scope can move to `level` at all: the level's unit
/// exists, or (the third level) at least one judicial office serves the town,
/// when several do the request names one ([`office_for`]).
pub fn level_reachable(view: &dyn StateView, scope: &[Uuid], level: Level) -> Result<bool, ViewError> {
    if level == Level::JudicialOffice {
        return Ok(!offices_serving(view, scope)?.is_empty());
    }
    Ok(level_unit(view, scope, level)?.is_some())
}

fn unit_at(view: &dyn StateView, scope: &[Uuid], want: UnitLevel) -> Result<Option<OrgUnit>, ViewError> {
    for id in scope {
        if let Some(Record::Unit(u)) = view.get(EntityKind::Unit, *id)? {
            if u.level == want {
                return Ok(Some(u));
            }
        }
    }
    Ok(None)
}

/// The judicial offices serving the town of a scope: the town's offices, or the
/// town itself when no office unit serves it; empty when the scope has no town.
pub fn offices_serving(view: &dyn StateView, scope: &[Uuid]) -> Result<Vec<Uuid>, ViewError> {
    Ok(match unit_at(view, scope, UnitLevel::Town)? {
        Some(t) if t.offices.is_empty() => vec![t.id],
        Some(t) => t.offices,
        None => vec![],
    })
}

/// The judicial office a move to the third level goes to: `chosen` if given (it
/// must serve the scope's town), else the one office serving the town. Refused
/// `office_not_serving` for an office that does not serve it, and
/// `office_choice_required` when several serve it and none is chosen.
pub fn office_for(
    view: &dyn StateView,
    scope: &[Uuid],
    chosen: Option<Uuid>,
) -> Result<Result<Uuid, Rejection>, ViewError> {
    let offices = offices_serving(view, scope)?;
    Ok(match (chosen, offices.as_slice()) {
        (_, []) => {
            Err(Rejection::new(RejectionCode::InvalidField, "上报层级：纠纷所在单位不属于任何乡镇，无法上报司法所"))
        }
        (Some(o), _) if offices.contains(&o) => Ok(o),
        (Some(_), _) => Err(Rejection::new(
            RejectionCode::OfficeNotServing,
            "受理司法所：所选司法所不服务该纠纷所在的乡镇（司法所只受理其服务乡镇的纠纷）",
        )),
        (None, [one]) => Ok(*one),
        (None, _) => Err(Rejection::new(
            RejectionCode::OfficeChoiceRequired,
            "受理司法所：该乡镇由多个司法所服务，上报司法所时须选定受理的司法所",
        )),
    })
}

/// The scope of `unit` as seen from a record's `scope`: the part from the unit up
/// when the unit is in it, else the unit under the scope's county (a judicial
/// office, which hangs under the county beside the towns it serves).
pub fn unit_within(scope: &[Uuid], unit: Uuid) -> Vec<Uuid> {
    match scope.iter().position(|u| *u == unit) {
        Some(i) => scope[i..].to_vec(),
        None => std::iter::once(unit).chain(scope.last().copied()).collect(),
    }
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

/// The policy an op was made under, when it is not the one in force: kept by the
/// server (ADR 0030), read back by its version; `None` when `version` is empty,
/// the one in force, or unknown to this view (a phone keeps no older policies).
pub(crate) fn earlier_policy(
    view: &dyn StateView,
    policy: &Policy,
    version: &str,
) -> Result<Option<Policy>, ViewError> {
    if version.is_empty() || version == policy.version() {
        return Ok(None);
    }
    view.earlier_policy(version)
}

/// Puts of records that share a scope.
pub(crate) fn put_effects(scope: &[Uuid], records: Vec<Record>) -> Vec<Effect> {
    records.into_iter().map(|record| Effect::Put { record, scope: scope.to_vec() }).collect()
}
