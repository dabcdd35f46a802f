//! What an import changes of existing users, and when it may.
//!
//! A row whose username exists updates that user. Its display name may change
//! freely; its roles (the set of role-at-unit grants the file lists for the user)
//! change only when the import is asked to (`update_roles`), and a county-admin
//! role is granted by spreadsheet — to an existing or a new user — only when the
//! importing admin confirms it (`confirm_admin_grants`); the importing admin's
//! own roles never change by import. Otherwise the user's rows
//! are reported as problems and nothing changes for that user. Every change is
//! listed in the report as a diff ([`UserChange`]), in a dry run too, and every
//! role change written is audited ([`audit_entries`]).

use std::collections::HashMap;

use fengqiao_domain::permissions::{may, Action};
use fengqiao_domain::{Role, RoleGrant};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ImportOptions, ImportReport};
use crate::store::{AuditAction, AuditEntry, UserRecord};

/// A role at a unit, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantView {
    /// The role.
    pub role: Role,
    /// The unit's id.
    pub unit_id: Uuid,
    /// The unit's code path as the file writes it (`T01/V01`; empty: the county).
    pub unit: String,
}

/// What the file changes of one user: an existing user whose display name or
/// roles differ, or a new user given an admin role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserChange {
    /// The user's id.
    pub user_id: Uuid,
    /// Sign-in name.
    pub username: String,
    /// The user is new (created by this file).
    pub new_user: bool,
    /// File of the user's first row.
    pub file: String,
    /// Sheet of the user's first row.
    pub sheet: String,
    /// The user's first row.
    pub row: u32,
    /// Display name before, when it changes.
    pub display_name_from: Option<String>,
    /// Display name after, when it changes.
    pub display_name_to: Option<String>,
    /// Roles the user gains.
    pub roles_added: Vec<GrantView>,
    /// Roles the user loses.
    pub roles_removed: Vec<GrantView>,
    /// Whether the change is made (in a dry run: would be); `false`: refused, see
    /// the problem at the same row.
    pub allowed: bool,
}

impl UserChange {
    /// Whether the user's roles change.
    pub fn changes_roles(&self) -> bool {
        !self.roles_added.is_empty() || !self.roles_removed.is_empty()
    }
}

/// Where a user's first row is: file, sheet, row.
pub type Location = (String, String, u32);

fn view(g: &RoleGrant, paths: &HashMap<Uuid, String>) -> GrantView {
    GrantView { role: g.role, unit_id: g.unit_id, unit: paths.get(&g.unit_id).cloned().unwrap_or_default() }
}

fn describe(grants: &[GrantView]) -> String {
    grants
        .iter()
        .map(|g| {
            let unit = if g.unit.is_empty() { "(county)" } else { g.unit.as_str() };
            format!("{} at {unit}", g.role.label_zh())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compares what the file says of a user with what is stored. Returns the
/// change to report (none when nothing is to report) and, when the change is
/// refused, the problem's message.
pub fn review(
    old: Option<&UserRecord>,
    new: &UserRecord,
    at: Location,
    opts: &ImportOptions,
    paths: &HashMap<Uuid, String>,
) -> (Option<UserChange>, Option<String>) {
    let before: &[RoleGrant] = old.map(|o| o.grants.as_slice()).unwrap_or(&[]);
    let added: Vec<GrantView> = new.grants.iter().filter(|g| !before.contains(g)).map(|g| view(g, paths)).collect();
    let removed: Vec<GrantView> = before.iter().filter(|g| !new.grants.contains(g)).map(|g| view(g, paths)).collect();
    let renamed = old.filter(|o| o.display_name != new.display_name);
    let admin_added: Vec<GrantView> = added.iter().filter(|g| may(g.role, Action::Administer)).cloned().collect();
    let roles_change = !added.is_empty() || !removed.is_empty();
    let problem = if old.is_some() && roles_change && opts.actor == Some(new.id) {
        Some(format!(
            "changes the roles of {}, the importing admin: an admin cannot change their own roles (another county admin does)",
            new.username
        ))
    } else if old.is_some() && roles_change && !opts.update_roles {
        let mut what = Vec::new();
        if !added.is_empty() {
            what.push(format!("adds {}", describe(&added)));
        }
        if !removed.is_empty() {
            what.push(format!("removes {}", describe(&removed)));
        }
        Some(format!(
            "changes the roles of existing user {} ({}): role changes by import need update_roles=true (command line: --update-roles)",
            new.username,
            what.join("; ")
        ))
    } else if !admin_added.is_empty() && !opts.confirm_admin_grants {
        Some(format!(
            "grants {} to {}: an admin role is granted by spreadsheet only with confirm_admin_grants=true (command line: --confirm-admin-grants)",
            describe(&admin_added),
            new.username
        ))
    } else {
        None
    };
    let report = match old {
        Some(_) => roles_change || renamed.is_some(),
        None => !admin_added.is_empty(),
    };
    let change = report.then(|| UserChange {
        user_id: new.id,
        username: new.username.clone(),
        new_user: old.is_none(),
        file: at.0,
        sheet: at.1,
        row: at.2,
        display_name_from: renamed.map(|o| o.display_name.clone()),
        display_name_to: renamed.map(|_| new.display_name.clone()),
        roles_added: added,
        roles_removed: removed,
        allowed: problem.is_none(),
    });
    (change, problem)
}

/// One audit entry per user whose roles a written import changed (`user_update`
/// for an existing user, `user_create` for a new admin), by `actor` (`None`: the
/// command line). The detail names roles and unit ids, never a person.
pub fn audit_entries(report: &ImportReport, actor: Option<Uuid>, device: Option<Uuid>) -> Vec<AuditEntry> {
    if !report.written {
        return vec![];
    }
    fn grants(sign: char, gs: &[GrantView]) -> impl Iterator<Item = String> + '_ {
        gs.iter().map(move |g| format!("{sign}{}@{}", g.role.code(), g.unit_id))
    }
    report
        .user_changes
        .iter()
        .filter(|c| c.allowed && c.changes_roles())
        .map(|c| {
            let action = if c.new_user { AuditAction::UserCreate } else { AuditAction::UserUpdate };
            let detail: Vec<String> = grants('+', &c.roles_added).chain(grants('-', &c.roles_removed)).collect();
            AuditEntry::new(action, actor, Some(c.user_id.to_string()), "ok")
                .device(device)
                .detail(format!("import: roles {}", detail.join(" ")))
        })
        .collect()
}
