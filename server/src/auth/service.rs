//! Sign-in, refresh, logout and request authentication over a [`Store`].

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{GrantInfo, TokenResponse, UserInfo};
use fengqiao_domain::{effective_grants, EntityKind, OrgUnit, Record, RoleGrant, UnitLevel};
use uuid::Uuid;

use super::keys::KeyRing;
use super::password;
use super::tokens::{self, TokenProblem};
use crate::store::{AuditAction, AuditEntry, RefreshRecord, SpendOutcome, SpendRequest, Store, StoreError, UserRecord};

/// Why an auth call failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong username or password, or a disabled user (not told apart).
    #[error("wrong username or password")]
    InvalidCredentials,
    /// The refresh token is unknown, spent, expired or revoked.
    #[error("the refresh token is no longer valid; sign in again")]
    RefreshInvalid,
    /// The access token has expired.
    #[error("the access token has expired")]
    TokenExpired,
    /// No valid access token.
    #[error("a valid access token is required")]
    Unauthorized,
    /// The session's device was revoked by the county (a lost phone).
    #[error("this device was revoked: its data must be removed from the phone")]
    DeviceRevoked,
    /// A new password does not meet the policy (the message says why; it never
    /// repeats the password).
    #[error("{0}")]
    WeakPassword(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else failed on the server.
    #[error("{0}")]
    Internal(String),
}

impl AuthError {
    /// A stable code for the audit log and error answers.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::RefreshInvalid => "refresh_invalid",
            AuthError::TokenExpired => "token_expired",
            AuthError::Unauthorized => "unauthorized",
            AuthError::DeviceRevoked => "device_revoked",
            AuthError::WeakPassword(_) => "weak_password",
            AuthError::Store(_) | AuthError::Internal(_) => "internal",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user record.
    pub user: UserRecord,
    /// The user as an actor for permission checks.
    pub actor: Actor,
    /// Their session (refresh family).
    pub family: Uuid,
    /// The county revoked the session's device: only sending what the phone
    /// holds is still allowed (see `http::auth_routes`).
    pub device_revoked: bool,
}

/// Auth over a store, with the key ring and policy.
pub struct AuthService {
    store: Arc<dyn Store>,
    keys: KeyRing,
    policy: Arc<Policy>,
}

impl AuthService {
    /// Builds the service, creating the first signing key if needed.
    pub fn new(store: Arc<dyn Store>, policy: Arc<Policy>) -> Result<AuthService, StoreError> {
        let keys = KeyRing::load_or_create(store.as_ref())?;
        Ok(AuthService { store, keys, policy })
    }

    /// The key ring (for the JWKS and for tests that mint tokens).
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Password sign-in. Costs one argon2 verification whether or not the user exists.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        device_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, AuthError> {
        let user = self.store.user_by_username(username)?;
        let ok = match &user {
            Some(u) => password::verify(password, &u.password_hash),
            None => {
                // Same cost as a real check, so timing does not tell which usernames exist.
                let _ = password::verify(password, password::decoy_hash());
                false
            }
        };
        match user {
            Some(u) if ok && !u.disabled => self.issue(&u, Uuid::now_v7(), device_id, tokens::random_token(), now),
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    /// Spends a refresh token and issues its successor in the same family. The
    /// same device presenting it again within the policy's grace, before using
    /// the successor it was given, is taken for a retry whose answer was lost:
    /// it gets a fresh pair, and the lost one is spent. Any other reuse revokes
    /// the family.
    pub fn refresh(
        &self,
        refresh_token: &str,
        device: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, AuthError> {
        if let Some(rec) = self.store.refresh(&tokens::token_hash(refresh_token))? {
            if self.store.family_device_revoked(rec.family)? {
                return Err(AuthError::DeviceRevoked);
            }
        }
        let next = tokens::random_token();
        let req = SpendRequest {
            successor: tokens::token_hash(&next),
            device,
            grace: Duration::seconds(self.policy.auth.refresh_retry_grace_secs.min(600) as i64),
        };
        match self.store.spend_refresh(&tokens::token_hash(refresh_token), now, &req)? {
            SpendOutcome::Spent(old) => {
                let user = self.store.user(old.user_id)?.filter(|u| !u.disabled).ok_or(AuthError::RefreshInvalid)?;
                self.issue(&user, old.family, old.device_id, next, now)
            }
            SpendOutcome::Retried(old) => {
                tracing::info!(family = %old.family, "refresh retried by the same device: answered again");
                self.store.append_audit(&[AuditEntry::new(
                    AuditAction::RefreshRetry,
                    Some(old.user_id),
                    Some(old.family.to_string()),
                    "reissued",
                )
                .device(old.device_id)])?;
                let user = self.store.user(old.user_id)?.filter(|u| !u.disabled).ok_or(AuthError::RefreshInvalid)?;
                self.issue(&user, old.family, old.device_id, next, now)
            }
            SpendOutcome::Reused { family } => {
                tracing::warn!(%family, "spent refresh token reused: session family revoked");
                let user = self.store.refresh(&tokens::token_hash(refresh_token))?.map(|r| r.user_id);
                self.store.append_audit(&[AuditEntry::new(
                    AuditAction::RefreshReuse,
                    None,
                    user.map(|u| u.to_string()),
                    "family_revoked",
                )
                .detail(format!("family {family}"))])?;
                Err(AuthError::RefreshInvalid)
            }
            SpendOutcome::Invalid => Err(AuthError::RefreshInvalid),
        }
    }

    /// Revokes the session the refresh token belongs to. Unknown tokens are ignored
    /// (logout is idempotent and says nothing about what exists). Returns the
    /// revoked session's record, if the token was known.
    pub fn logout(&self, refresh_token: &str) -> Result<Option<RefreshRecord>, AuthError> {
        let rec = self.store.refresh(&tokens::token_hash(refresh_token))?;
        if let Some(rec) = &rec {
            self.store.revoke_family(rec.family)?;
        }
        Ok(rec)
    }

    /// Changes the caller's own password: the old one must match and the new one
    /// meet the policy; clears a reset's "must change" flag. Every other session
    /// of the user ends (its refresh family is revoked, so its access tokens stop
    /// working too); the session `keep` that changed it stays signed in.
    pub fn change_password(&self, user_id: Uuid, keep: Uuid, old: &str, new: &str) -> Result<(), AuthError> {
        let mut user = self.store.user(user_id)?.filter(|u| !u.disabled).ok_or(AuthError::Unauthorized)?;
        if !password::verify(old, &user.password_hash) {
            return Err(AuthError::InvalidCredentials);
        }
        password::check_policy(&self.policy, &user.username, new).map_err(AuthError::WeakPassword)?;
        if old == new {
            return Err(AuthError::WeakPassword("the new password must differ from the old one".into()));
        }
        user.password_hash = password::hash(new).map_err(AuthError::Internal)?;
        user.must_change_password = false;
        self.store.update_user(&user)?;
        let mut others: Vec<Uuid> =
            self.store.refresh_of_user(user_id)?.into_iter().map(|r| r.family).filter(|f| *f != keep).collect();
        others.sort();
        others.dedup();
        for family in others {
            if !self.store.family_revoked(family)? {
                self.store.revoke_family(family)?;
            }
        }
        Ok(())
    }

    /// The device of a session (the install id the phone sent at sign-in), if any.
    pub fn device_of(&self, user_id: Uuid, family: Uuid) -> Result<Option<Uuid>, AuthError> {
        Ok(self.store.refresh_of_user(user_id)?.into_iter().find(|r| r.family == family).and_then(|r| r.device_id))
    }

    /// Authenticates a bearer token: valid signature and claims, a live session,
    /// an existing user who is not disabled.
    pub fn authenticate(&self, bearer: &str) -> Result<Caller, AuthError> {
        let claims = tokens::verify(&self.keys, bearer).map_err(|p| match p {
            TokenProblem::Expired => AuthError::TokenExpired,
            TokenProblem::Invalid => AuthError::Unauthorized,
        })?;
        let user_id = Uuid::parse_str(&claims.sub).map_err(|_| AuthError::Unauthorized)?;
        let family = Uuid::parse_str(&claims.sid).map_err(|_| AuthError::Unauthorized)?;
        self.caller_for(user_id, family)
    }

    /// The caller of a session (refresh `family`) of `user_id`, checked as a bearer
    /// token's is: a live session (or one whose device alone was revoked), an
    /// existing user who is not disabled, acting with their effective grants. The
    /// desk's cookie sessions are checked here on every request.
    pub fn caller_for(&self, user_id: Uuid, family: Uuid) -> Result<Caller, AuthError> {
        let device_revoked = self.store.family_revoked(family)? && {
            if !self.store.family_device_revoked(family)? {
                return Err(AuthError::Unauthorized);
            }
            true
        };
        let mut user = self.store.user(user_id)?.filter(|u| !u.disabled).ok_or(AuthError::Unauthorized)?;
        // the caller acts with their effective grants (a judicial office's staff at
        // each town it serves); every check and the pull's fingerprint use these
        user.grants = self.effective(&user.grants)?;
        let actor = Actor { user_id: user.id, grants: user.grants.clone() };
        Ok(Caller { user, actor, family, device_revoked })
    }

    /// The grants a user acts with ([`effective_grants`]): their own, and for a
    /// role held at a judicial office, the same role at each town it serves. The
    /// units are read only when a grant is at an office.
    pub fn effective(&self, grants: &[RoleGrant]) -> Result<Vec<RoleGrant>, AuthError> {
        let mut at_office = false;
        for g in grants {
            if let Some(Record::Unit(u)) = self.store.record(EntityKind::Unit, g.unit_id)? {
                at_office |= u.level == UnitLevel::JudicialOffice;
            }
        }
        if !at_office {
            return Ok(grants.to_vec());
        }
        let units: Vec<OrgUnit> = self
            .store
            .records_of_kind(EntityKind::Unit)?
            .into_iter()
            .filter_map(|r| if let Record::Unit(u) = r { Some(u) } else { None })
            .collect();
        Ok(effective_grants(
            grants,
            |id| units.iter().find(|u| u.id == id).cloned(),
            |office| OrgUnit::served_towns(office, &units),
        ))
    }

    /// The user as the phone shows it (roles with their units' names; a judicial
    /// office's staff also at each town it serves, so the phone decides as the
    /// server does; each grant with the office units serving its town, so the
    /// phone can offer the choice of office).
    pub fn user_info(&self, user: &UserRecord) -> Result<UserInfo, AuthError> {
        let grants = self.effective(&user.grants)?;
        let mut roles = Vec::with_capacity(grants.len());
        for g in &grants {
            let mut ancestors = Vec::new();
            let mut next = Some(g.unit_id);
            while let Some(id) = next.take() {
                if ancestors.len() >= fengqiao_domain::apply::MAX_DEPTH {
                    break;
                }
                if let Some(Record::Unit(u)) = self.store.record(EntityKind::Unit, id)? {
                    next = u.parent;
                    ancestors.push(u);
                }
            }
            let unit_name = ancestors.first().map(|u| u.name.clone()).unwrap_or_default();
            let mut offices = Vec::new();
            if let Some(town) = ancestors.iter().find(|u| u.level == UnitLevel::Town) {
                for id in &town.offices {
                    if let Some(Record::Unit(o)) = self.store.record(EntityKind::Unit, *id)? {
                        offices.push(o);
                    }
                }
            }
            roles.push(GrantInfo { grant: *g, unit_name, ancestors, offices });
        }
        Ok(UserInfo { id: user.id, username: user.username.clone(), display_name: user.display_name.clone(), roles })
    }

    fn issue(
        &self,
        user: &UserRecord,
        family: Uuid,
        device_id: Option<Uuid>,
        refresh_token: String,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, AuthError> {
        let ttl = self.policy.auth.access_ttl_secs;
        let now_s = now.timestamp().max(0) as u64;
        let claims = tokens::claims_for(user.id, family, now_s, ttl);
        let access_token = tokens::sign(&self.keys, &claims).map_err(AuthError::Internal)?;
        let refresh_expires_at = now + Duration::days(self.policy.auth.refresh_ttl_days as i64);
        self.store.insert_refresh(&RefreshRecord {
            token_hash: tokens::token_hash(&refresh_token),
            family,
            user_id: user.id,
            device_id,
            issued_at: now,
            expires_at: refresh_expires_at,
            spent: false,
            spent_at: None,
            successor: None,
        })?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: ttl,
            expires_at: Utc.timestamp_opt(claims.exp as i64, 0).single().unwrap_or(now),
            refresh_token,
            refresh_expires_at,
            user: self.user_info(user)?,
            must_change_password: user.must_change_password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn service(grace_secs: u64) -> (AuthService, Arc<dyn Store>, UserRecord) {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let user = UserRecord {
            id: Uuid::now_v7(),
            username: "li.si".into(),
            display_name: "李四".into(),
            password_hash: password::hash("a-good-password").unwrap(),
            grants: vec![],
            disabled: false,
            must_change_password: false,
            created_at: Utc::now(),
        };
        store.create_user(&user).unwrap();
        let mut policy = Policy::default();
        policy.auth.refresh_retry_grace_secs = grace_secs;
        (AuthService::new(store.clone(), Arc::new(policy)).unwrap(), store, user)
    }

    fn family_of(store: &dyn Store, token: &str) -> Uuid {
        store.refresh(&tokens::token_hash(token)).unwrap().unwrap().family
    }

    #[test]
    fn a_retry_within_the_grace_is_answered_and_a_late_one_revokes() {
        let (auth, store, _) = service(60);
        let phone = Some(Uuid::now_v7());
        let t0 = Utc::now();
        let first = auth.login("li.si", "a-good-password", phone, t0).unwrap();
        let fam = family_of(store.as_ref(), &first.refresh_token);
        let lost = auth.refresh(&first.refresh_token, phone, t0).unwrap();
        // the answer was lost: the same phone tries again 10 s later
        let again = auth.refresh(&first.refresh_token, phone, t0 + Duration::seconds(10)).unwrap();
        assert_ne!(again.refresh_token, lost.refresh_token);
        assert!(!store.family_revoked(fam).unwrap());
        let audit = store
            .audit(&crate::store::AuditQuery {
                action: Some(AuditAction::RefreshRetry),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(audit.len(), 1);
        // and goes on with the pair it got
        let next = auth.refresh(&again.refresh_token, phone, t0 + Duration::seconds(20)).unwrap();
        // past the grace, the spent token is reuse: the family dies
        let late = auth.refresh(&next.refresh_token, phone, t0 + Duration::seconds(30)).unwrap();
        assert!(matches!(
            auth.refresh(&next.refresh_token, phone, t0 + Duration::seconds(91)),
            Err(AuthError::RefreshInvalid)
        ));
        assert!(store.family_revoked(fam).unwrap());
        assert!(auth.refresh(&late.refresh_token, phone, t0 + Duration::seconds(92)).is_err());
    }

    #[test]
    fn no_grace_from_another_device_without_a_device_or_when_turned_off() {
        let phone = Some(Uuid::now_v7());
        for (grace, presenter) in [(60, Some(Uuid::now_v7())), (60, None), (0, phone)] {
            let (auth, store, _) = service(grace);
            let t0 = Utc::now();
            let first = auth.login("li.si", "a-good-password", phone, t0).unwrap();
            let fam = family_of(store.as_ref(), &first.refresh_token);
            let second = auth.refresh(&first.refresh_token, phone, t0).unwrap();
            assert!(matches!(
                auth.refresh(&first.refresh_token, presenter, t0 + Duration::seconds(1)),
                Err(AuthError::RefreshInvalid)
            ));
            assert!(store.family_revoked(fam).unwrap(), "grace {grace}, presenter {presenter:?}");
            assert!(auth.refresh(&second.refresh_token, phone, t0 + Duration::seconds(2)).is_err());
        }
    }

    #[test]
    fn a_password_change_ends_the_other_sessions_only() {
        let (auth, store, user) = service(60);
        let now = Utc::now();
        let here = auth.login("li.si", "a-good-password", Some(Uuid::now_v7()), now).unwrap();
        let there = auth.login("li.si", "a-good-password", Some(Uuid::now_v7()), now).unwrap();
        let (keep, other) =
            (family_of(store.as_ref(), &here.refresh_token), family_of(store.as_ref(), &there.refresh_token));
        auth.change_password(user.id, keep, "a-good-password", "another-good-password").unwrap();
        assert!(store.family_revoked(other).unwrap());
        assert!(!store.family_revoked(keep).unwrap());
        assert!(matches!(auth.authenticate(&there.access_token), Err(AuthError::Unauthorized)));
        assert!(auth.authenticate(&here.access_token).is_ok());
    }
}
