//! Who may be credited in a mediation session, and who of them is paid.
//!
//! A session's mediators become the case's payees, so each must be an existing,
//! enabled user holding a role that mediates at the session's level
//! ([`crate::model::permissions::mediates_at`]) on a unit inside that level's
//! unit or above it on its chain. Of those credited, only the holders of a role
//! in the county's `subsidy.paid_roles` are paid; the others keep their credit.
//! A view that cannot tell (a phone, for anyone but its own user) leaves the
//! rule to the server.

use uuid::Uuid;

use crate::decide::view::{unit_scope, PersonLookup, StateView, ViewError};
use crate::model::ladder::Level;
use crate::model::org::{Role, RoleGrant};
use crate::model::permissions::mediates_at;
use crate::policy::Policy;
use crate::wire::rejection::{Rejection, RejectionCode};

/// Whether `grant` (role and unit) mediates at `level` for the dispute whose
/// level unit is `level_unit` with chain `level_chain` (the unit itself first,
/// the county last), restricted to `roles`.
fn grant_fits(
    view: &dyn StateView,
    grant: &RoleGrant,
    roles: &[Role],
    level_unit: Uuid,
    level_chain: &[Uuid],
) -> Result<bool, ViewError> {
    if !roles.contains(&grant.role) {
        return Ok(false);
    }
    if level_chain.contains(&grant.unit_id) {
        return Ok(true);
    }
    Ok(unit_scope(view, grant.unit_id)?.is_some_and(|chain| chain.contains(&level_unit)))
}

/// The refusal, if any, of crediting `mediators` in a session at `level` whose
/// unit is `level_unit` (chain `level_chain`). Each refusal names the mediator's
/// id and the rule, in Chinese, with a stable code.
pub fn check_mediators(
    view: &dyn StateView,
    level: Level,
    level_unit: Uuid,
    level_chain: &[Uuid],
    mediators: &[Uuid],
) -> Result<Option<Rejection>, ViewError> {
    let roles = mediates_at(level);
    for who in mediators {
        let facts = match view.person(*who)? {
            PersonLookup::CannotTell => continue,
            PersonLookup::NoSuchUser => {
                return Ok(Some(Rejection::new(
                    RejectionCode::MediatorUnknown,
                    format!("调解员 {who} 不是本系统的用户：只有在册的调解人员才能记入调解记录、领取补贴"),
                )))
            }
            PersonLookup::Known(f) => f,
        };
        if !facts.enabled {
            return Ok(Some(Rejection::new(
                RejectionCode::MediatorDisabled,
                format!("调解员 {who} 的账号已停用：停用的账号不能记入新的调解记录"),
            )));
        }
        let mut fits = false;
        for g in &facts.grants {
            if grant_fits(view, g, roles, level_unit, level_chain)? {
                fits = true;
                break;
            }
        }
        if !fits {
            let allowed: Vec<&str> = roles.iter().map(|r| r.label_zh()).collect();
            return Ok(Some(Rejection::new(
                RejectionCode::MediatorNotAllowed,
                format!(
                    "调解员 {who} 不能记入这次调解：在{}一级调解的只能是本辖区的{}",
                    level.label_zh(),
                    allowed.join("、")
                ),
            )));
        }
    }
    Ok(None)
}

/// Whether `who`, credited at `level` (unit `level_unit`, chain `level_chain`),
/// is paid: they hold a role of the policy's `subsidy.paid_roles` that mediates
/// there. A view that cannot tell counts them as paid (a phone's estimate; the
/// server decides); an unknown user is not paid.
pub fn is_paid(
    view: &dyn StateView,
    policy: &Policy,
    who: Uuid,
    level: Level,
    level_unit: Uuid,
    level_chain: &[Uuid],
) -> Result<bool, ViewError> {
    let facts = match view.person(who)? {
        PersonLookup::CannotTell => return Ok(true),
        PersonLookup::NoSuchUser => return Ok(false),
        PersonLookup::Known(f) => f,
    };
    let roles: Vec<Role> =
        mediates_at(level).iter().copied().filter(|r| policy.subsidy.paid_roles.contains(r)).collect();
    for g in &facts.grants {
        if grant_fits(view, g, &roles, level_unit, level_chain)? {
            return Ok(true);
        }
    }
    Ok(false)
}
