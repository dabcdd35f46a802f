//! The phone's store seen as the domain's read-only [`StateView`], so the
//! phone runs the domain's own rules (the same `decide`, `may_decide`,
//! `handles`, ... the server runs) to offer only what will be accepted.
//!
//! A phone holds the units of its jurisdiction only; the units above (a group
//! leader's village, town and county) come from the session's grants
//! (`GrantInfo::ancestors`), so a unit's whole chain is known offline, and so
//! are the judicial offices serving its town (`GrantInfo::offices`). Disputes
//! can be overlaid with the phone's optimistic view of them (e.g. a request made
//! here and not yet synced), case-number blocks held here answer for their
//! owner, and another user's unsynced records on a shared phone are not seen.

use std::collections::HashMap;

use fengqiao_domain::apply::{PersonFacts, PersonLookup, StateView, ViewError};
use fengqiao_domain::disputes::Dispute;
use fengqiao_domain::org::OrgUnit;
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use crate::error::Error;
use crate::store::{ClientStore, LocalRecord, StoreError, StoredSession};

/// The one [`StateView`] adapter over a [`ClientStore`].
pub(crate) struct PhoneView<'a> {
    store: &'a dyn ClientStore,
    /// Units above the pulled ones and the judicial offices serving their
    /// towns, from the session's grants.
    ancestors: HashMap<Uuid, OrgUnit>,
    /// The signed-in user, owner of the case-number blocks held here.
    user: Option<Uuid>,
    /// The signed-in user's roles (the one user whose facts the phone knows).
    grants: Vec<fengqiao_domain::RoleGrant>,
    /// Disputes as the phone optimistically sees them (over the stored copies).
    overlay: HashMap<Uuid, Dispute>,
}

impl<'a> PhoneView<'a> {
    /// A view for `session`'s user (or for nobody).
    pub(crate) fn new(store: &'a dyn ClientStore, session: Option<&StoredSession>) -> Self {
        let mut ancestors = HashMap::new();
        if let Some(s) = session {
            for g in &s.user.roles {
                for u in g.ancestors.iter().chain(&g.offices) {
                    ancestors.insert(u.id, u.clone());
                }
            }
        }
        let grants = session.map(|s| s.user.roles.iter().map(|g| g.grant).collect()).unwrap_or_default();
        PhoneView { store, ancestors, user: session.map(|s| s.user.id), grants, overlay: HashMap::new() }
    }

    /// Replaces the stored copies of these disputes with the given ones.
    pub(crate) fn with_overlay(mut self, disputes: impl IntoIterator<Item = Dispute>) -> Self {
        self.overlay = disputes.into_iter().map(|d| (d.id, d)).collect();
        self
    }

    /// A unit, pulled or from the session's grants.
    pub(crate) fn unit(&self, id: Uuid) -> Result<Option<OrgUnit>, Error> {
        match self.get(EntityKind::Unit, id).map_err(view_error)? {
            Some(Record::Unit(u)) => Ok(Some(u)),
            _ => Ok(None),
        }
    }
}

impl PhoneView<'_> {
    /// Whether the view's user may see a stored record: pulled, or made here
    /// by them. Another user's unsynced work on this phone is not theirs to
    /// see or act on (a view for nobody sees every record).
    fn shows(&self, r: &LocalRecord) -> bool {
        self.user.is_none_or(|user| r.shown_to(user))
    }
}

/// A view failure as the crate's error (it is always the store's).
pub(crate) fn view_error(e: ViewError) -> Error {
    Error::Store(StoreError::Backend(e.0))
}

impl StateView for PhoneView<'_> {
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
        if kind == EntityKind::Dispute {
            if let Some(d) = self.overlay.get(&id) {
                return Ok(Some(Record::Dispute(d.clone())));
            }
        }
        let stored = self.store.get_record(kind, id).map_err(|e| ViewError(e.to_string()))?;
        match stored {
            Some(r) if self.shows(&r) => Ok(Some(r.record)),
            Some(_) => Ok(None),
            None if kind == EntityKind::Unit => Ok(self.ancestors.get(&id).cloned().map(Record::Unit)),
            None => Ok(None),
        }
    }

    /// The signed-in user owns the blocks held here (numbers are only taken
    /// from those); others' blocks are the server's to know.
    fn case_block_owner(&self, year: i32, block: u32) -> Result<Option<Uuid>, ViewError> {
        let Some(user) = self.user else { return Ok(None) };
        let held = self.store.case_blocks(user).map_err(|e| ViewError(e.to_string()))?;
        Ok(held.iter().any(|b| b.year == year && b.block == block).then_some(user))
    }

    /// The size the server gave a block this phone holds.
    fn case_block_size(&self, year: i32, block: u32) -> Result<Option<u32>, ViewError> {
        let Some(user) = self.user else { return Ok(None) };
        let held = self.store.case_blocks(user).map_err(|e| ViewError(e.to_string()))?;
        Ok(held.iter().find(|b| b.year == year && b.block == block).map(|b| b.size))
    }

    /// Numbers are taken from held blocks once each (see
    /// [`crate::store::CaseNumberStore`]); reuse across phones is the server's to check.
    fn case_number_holder(&self, _: &str) -> Result<Option<Uuid>, ViewError> {
        Ok(None)
    }

    /// The phone knows the leads of the visits it holds (its own and those pulled
    /// for its units): a lead found nowhere among them is refused here as on the
    /// server.
    fn lead_visit(&self, lead: Uuid) -> Result<Option<Uuid>, ViewError> {
        let visits = self.store.list_records(EntityKind::Visit, usize::MAX).map_err(|e| ViewError(e.to_string()))?;
        Ok(visits.into_iter().filter(|r| self.shows(r)).find_map(|r| match r.record {
            Record::Visit(v) if v.leads.iter().any(|l| l.id == lead) => Some(v.id),
            _ => None,
        }))
    }

    /// The phone knows its signed-in user (signed in, so enabled, with the
    /// session's roles); of anyone else it cannot tell whether they exist, are
    /// enabled or where their roles lie, so the rules on payees are the
    /// server's to apply (the phone never refuses a colleague on a guess).
    fn person(&self, id: Uuid) -> Result<PersonLookup, ViewError> {
        Ok(match self.user {
            Some(me) if me == id => PersonLookup::Known(PersonFacts { enabled: true, grants: self.grants.clone() }),
            _ => PersonLookup::CannotTell,
        })
    }
}
