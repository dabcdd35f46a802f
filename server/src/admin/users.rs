//! Users and their devices: create, disable (tokens stop at once), re-enable,
//! reset a password (the user must change it at next sign-in), change roles,
//! list and revoke devices. Plain functions over a [`Store`]; the HTTP layer
//! checks who may call them and writes the audit entries.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{EntityKind, Record, RoleGrant};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AdminError, AdminResult};
use crate::auth::password;
use crate::store::{Store, StoreError, UserRecord};

/// A user as administrators see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserView {
    /// User id.
    pub id: Uuid,
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Roles bound to units.
    pub grants: Vec<RoleGrant>,
    /// Disabled users cannot sign in; their tokens stopped working.
    pub disabled: bool,
    /// Must choose a new password at next sign-in.
    pub must_change_password: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            grants: u.grants.clone(),
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
        }
    }
}

/// A device a user signed in from: its sessions (refresh families).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeviceView {
    /// The phone's install id (`None`: sessions that sent none).
    pub device_id: Option<Uuid>,
    /// Sessions from this device still usable (not revoked, not expired).
    pub active_sessions: usize,
    /// First sign-in from it.
    pub first_seen: DateTime<Utc>,
    /// Last token issued to it.
    pub last_seen: DateTime<Utc>,
}

/// Usernames: 1 to 64 characters of letters, digits, `.`, `_`, `-`.
pub fn check_username(name: &str) -> Result<(), String> {
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > 64 || !ok_chars {
        return Err("a username is 1 to 64 letters, digits, '.', '_' or '-'".into());
    }
    Ok(())
}

/// Checks grants: each unit exists and each role may be bound at its level.
pub fn check_grants(store: &dyn Store, grants: &[RoleGrant]) -> AdminResult<()> {
    if grants.is_empty() {
        return Err(AdminError::Invalid("invalid_grants", "a user needs at least one role".into()));
    }
    for g in grants {
        let Some(Record::Unit(u)) = store.record(EntityKind::Unit, g.unit_id)? else {
            return Err(AdminError::Invalid("unknown_unit", format!("no org unit {}", g.unit_id)));
        };
        if !g.role.valid_levels().contains(&u.level) {
            return Err(AdminError::Invalid(
                "role_not_valid_at_level",
                format!("role {} cannot be bound to a {:?} unit", g.role.code(), u.level),
            ));
        }
    }
    Ok(())
}

/// A new user (the password is checked against the policy and stored hashed).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Initial password; the user must change it at first sign-in.
    pub password: String,
    /// Roles bound to units.
    pub grants: Vec<RoleGrant>,
}

/// Creates a user who must change the initial password at first sign-in.
pub fn create(store: &dyn Store, policy: &Policy, new: NewUser) -> AdminResult<UserRecord> {
    check_username(&new.username).map_err(|m| AdminError::Invalid("invalid_username", m))?;
    if new.display_name.trim().is_empty() || new.display_name.chars().count() > 64 {
        return Err(AdminError::Invalid("invalid_field", "display_name: 1 to 64 characters".into()));
    }
    password::check_policy(policy, &new.username, &new.password)
        .map_err(|m| AdminError::Invalid("weak_password", m))?;
    check_grants(store, &new.grants)?;
    let user = UserRecord {
        id: Uuid::now_v7(),
        username: new.username,
        display_name: new.display_name.trim().to_string(),
        password_hash: password::hash(&new.password).map_err(AdminError::Internal)?,
        grants: dedup(new.grants),
        disabled: false,
        must_change_password: true,
        created_at: Utc::now(),
    };
    store.create_user(&user).map_err(|e| match e {
        StoreError::AlreadyExists(_) => AdminError::Invalid("already_exists", "that username is taken".into()),
        other => other.into(),
    })?;
    Ok(user)
}

fn dedup(mut grants: Vec<RoleGrant>) -> Vec<RoleGrant> {
    grants.sort();
    grants.dedup();
    grants
}

fn get(store: &dyn Store, id: Uuid) -> AdminResult<UserRecord> {
    store.user(id)?.ok_or(AdminError::NotFound("user"))
}

/// Revokes every session of a user (all devices).
fn revoke_all(store: &dyn Store, id: Uuid) -> AdminResult<()> {
    let mut families: Vec<Uuid> = store.refresh_of_user(id)?.into_iter().map(|r| r.family).collect();
    families.sort();
    families.dedup();
    for f in families {
        store.revoke_family(f)?;
    }
    Ok(())
}

/// Disables or re-enables a user. Disabling also revokes every session, so the
/// user's tokens stop working at once and stay dead after re-enabling.
pub fn set_disabled(store: &dyn Store, id: Uuid, disabled: bool) -> AdminResult<UserRecord> {
    let mut u = get(store, id)?;
    if disabled {
        revoke_all(store, id)?;
    }
    if u.disabled != disabled {
        u.disabled = disabled;
        store.update_user(&u)?;
    }
    Ok(u)
}

/// Sets a new password chosen by the admin; the user must change it at next
/// sign-in, and every current session ends.
pub fn reset_password(store: &dyn Store, policy: &Policy, id: Uuid, new_password: &str) -> AdminResult<UserRecord> {
    let mut u = get(store, id)?;
    password::check_policy(policy, &u.username, new_password).map_err(|m| AdminError::Invalid("weak_password", m))?;
    u.password_hash = password::hash(new_password).map_err(AdminError::Internal)?;
    u.must_change_password = true;
    store.update_user(&u)?;
    revoke_all(store, id)?;
    Ok(u)
}

/// Replaces a user's roles (and optionally display name). The user's phone sees
/// a new scope fingerprint in its cursor and pulls its new jurisdiction afresh.
pub fn update(
    store: &dyn Store,
    id: Uuid,
    grants: Option<Vec<RoleGrant>>,
    display_name: Option<String>,
) -> AdminResult<UserRecord> {
    let mut u = get(store, id)?;
    if let Some(g) = grants {
        check_grants(store, &g)?;
        u.grants = dedup(g);
    }
    if let Some(n) = display_name {
        if n.trim().is_empty() || n.chars().count() > 64 {
            return Err(AdminError::Invalid("invalid_field", "display_name: 1 to 64 characters".into()));
        }
        u.display_name = n.trim().to_string();
    }
    store.update_user(&u)?;
    Ok(u)
}

/// A user's devices with their sessions.
pub fn devices(store: &dyn Store, id: Uuid, now: DateTime<Utc>) -> AdminResult<Vec<DeviceView>> {
    get(store, id)?;
    let mut by_device: BTreeMap<Option<Uuid>, DeviceView> = BTreeMap::new();
    let mut live_families: BTreeMap<Option<Uuid>, Vec<Uuid>> = BTreeMap::new();
    for r in store.refresh_of_user(id)? {
        let d = by_device.entry(r.device_id).or_insert(DeviceView {
            device_id: r.device_id,
            active_sessions: 0,
            first_seen: r.issued_at,
            last_seen: r.issued_at,
        });
        d.first_seen = d.first_seen.min(r.issued_at);
        d.last_seen = d.last_seen.max(r.issued_at);
        if !r.spent && r.expires_at > now && !store.family_revoked(r.family)? {
            live_families.entry(r.device_id).or_default().push(r.family);
        }
    }
    for (dev, mut fams) in live_families {
        fams.sort();
        fams.dedup();
        if let Some(d) = by_device.get_mut(&dev) {
            d.active_sessions = fams.len();
        }
    }
    let mut out: Vec<DeviceView> = by_device.into_values().collect();
    out.sort_by_key(|d| std::cmp::Reverse(d.last_seen));
    Ok(out)
}

/// Revokes every session of a user on one device; its tokens stop at once,
/// answered `device_revoked` so the phone drops the user's data (it may still
/// push and upload what it holds while its access token lasts). Returns how
/// many sessions were revoked.
pub fn revoke_device(store: &dyn Store, id: Uuid, device: Uuid) -> AdminResult<usize> {
    get(store, id)?;
    let mut fams: Vec<Uuid> =
        store.refresh_of_user(id)?.into_iter().filter(|r| r.device_id == Some(device)).map(|r| r.family).collect();
    if fams.is_empty() {
        return Err(AdminError::NotFound("device"));
    }
    fams.sort();
    fams.dedup();
    for f in &fams {
        store.revoke_device_family(*f)?;
    }
    Ok(fams.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{small_world, COUNTY, GROUPS, VILLAGES};
    use crate::store::{AccountStore, MemoryStore, RefreshRecord};
    use fengqiao_domain::Role;

    fn new_user(name: &str, grants: Vec<RoleGrant>) -> NewUser {
        NewUser { username: name.into(), display_name: "测试".into(), password: "a-good-password-1".into(), grants }
    }

    #[test]
    fn create_checks_name_password_and_role_levels() {
        let (store, policy) = (MemoryStore::new(), Policy::default());
        small_world(&store);
        let leader_at_village = vec![RoleGrant { role: Role::GroupLeader, unit_id: VILLAGES[0] }];
        let e = create(&store, &policy, new_user("li.si", leader_at_village)).unwrap_err();
        assert!(matches!(e, AdminError::Invalid("role_not_valid_at_level", _)), "{e:?}");
        let ok = vec![RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[0] }];
        let mut weak = new_user("li.si", ok.clone());
        weak.password = "short".into();
        assert!(matches!(create(&store, &policy, weak), Err(AdminError::Invalid("weak_password", _))));
        assert!(matches!(create(&store, &policy, new_user("李四", ok.clone())), Err(AdminError::Invalid(..))));
        let u = create(&store, &policy, new_user("li.si", ok.clone())).unwrap();
        assert!(u.must_change_password && !u.disabled);
        assert!(password::verify("a-good-password-1", &u.password_hash));
        assert!(matches!(
            create(&store, &policy, new_user("li.si", ok)),
            Err(AdminError::Invalid("already_exists", _))
        ));
        let unknown = vec![RoleGrant { role: Role::CountyAdmin, unit_id: Uuid::now_v7() }];
        assert!(matches!(check_grants(&store, &unknown), Err(AdminError::Invalid("unknown_unit", _))));
        assert!(check_grants(&store, &[RoleGrant { role: Role::CountyAdmin, unit_id: COUNTY }]).is_ok());
    }

    #[test]
    fn disable_and_device_revocation_end_sessions() {
        let (store, policy) = (MemoryStore::new(), Policy::default());
        small_world(&store);
        let u =
            create(&store, &policy, new_user("wang", vec![RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[0] }]))
                .unwrap();
        let (phone, fam1, fam2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let now = Utc::now();
        for (hash, fam, dev) in [("t1", fam1, Some(phone)), ("t2", fam2, None)] {
            store
                .insert_refresh(&RefreshRecord {
                    token_hash: hash.into(),
                    family: fam,
                    user_id: u.id,
                    device_id: dev,
                    issued_at: now,
                    expires_at: now + chrono::Duration::days(1),
                    spent: false,
                    spent_at: None,
                    successor: None,
                })
                .unwrap();
        }
        let d = devices(&store, u.id, now).unwrap();
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|d| d.active_sessions == 1));
        assert_eq!(revoke_device(&store, u.id, phone).unwrap(), 1);
        assert!(store.family_revoked(fam1).unwrap() && !store.family_revoked(fam2).unwrap());
        assert!(matches!(revoke_device(&store, u.id, Uuid::now_v7()), Err(AdminError::NotFound("device"))));
        set_disabled(&store, u.id, true).unwrap();
        assert!(store.family_revoked(fam2).unwrap());
        assert!(store.user(u.id).unwrap().unwrap().disabled);
        assert!(!set_disabled(&store, u.id, false).unwrap().disabled);
        let r = reset_password(&store, &policy, u.id, "another-password-2").unwrap();
        assert!(r.must_change_password);
        assert!(matches!(set_disabled(&store, Uuid::now_v7(), true), Err(AdminError::NotFound("user"))));
    }
}
