//! What the desk reads, through the API's scoping: the caller's feed
//! ([`Store::pull`] with the caller's grants, filtered by the domain's `sees`)
//! for lists, and for one case its unit scope and the domain's `may_see`, then
//! its records from the feed of its origin unit with the caller's grants there.

use std::collections::{BTreeMap, HashMap, HashSet};

use fengqiao_domain::disputes::{
    Agreement, Dispute, Escalation, FlowEntry, FollowUp, JudicialConfirmation, MediationSession,
};
use fengqiao_domain::permissions::{sees, Actor};
use fengqiao_domain::subsidy::CaseReview;
use fengqiao_domain::{Attachment, EntityKind, Household, Record, RoleGrant};
use uuid::Uuid;

use crate::reports::flow::unit_scope;
use crate::store::{desk_index, Store, StoreResult, StoredRecord};

/// Every record in the feed of `grants` whose latest version `keep` takes (that
/// latest version).
pub fn latest(store: &dyn Store, grants: &[RoleGrant], keep: impl Fn(&Record) -> bool) -> StoreResult<Vec<Record>> {
    let mut out: BTreeMap<(EntityKind, Uuid), Record> = BTreeMap::new();
    let mut cursor = 0;
    loop {
        let page = store.pull(grants, None, cursor, 1000)?;
        for c in page.changes {
            match c.record {
                Some(r) if keep(&r) => {
                    out.insert((r.kind(), r.id()), r);
                }
                // a later version that `keep` leaves out replaces the earlier one too
                Some(r) => {
                    out.remove(&(r.kind(), r.id()));
                }
                None => {
                    out.remove(&(c.entity, c.id));
                }
            }
        }
        cursor = page.position;
        if !page.has_more {
            break;
        }
    }
    Ok(out.into_values().collect())
}

/// A dispute and its unit scope if it exists and `actor` may see it; `None`
/// alike for one that does not exist and one outside the actor's units.
pub fn visible_dispute(store: &dyn Store, actor: &Actor, id: Uuid) -> StoreResult<Option<(Dispute, Vec<Uuid>)>> {
    let Some(Record::Dispute(d)) = store.record(EntityKind::Dispute, id)? else { return Ok(None) };
    let Some(scope) = unit_scope(store, d.origin_unit)? else { return Ok(None) };
    Ok(actor.may_see(EntityKind::Dispute, &scope).then_some((d, scope)))
}

/// The whole file of one case, as far as the caller sees it.
#[derive(Debug, Default)]
pub struct CaseFile {
    /// Mediation sessions, oldest first.
    pub sessions: Vec<MediationSession>,
    /// Agreements.
    pub agreements: Vec<Agreement>,
    /// Follow-ups.
    pub follow_ups: Vec<FollowUp>,
    /// Judicial confirmations.
    pub confirmations: Vec<JudicialConfirmation>,
    /// Escalation requests.
    pub escalations: Vec<Escalation>,
    /// The flow table's entries, by step.
    pub flow: Vec<FlowEntry>,
    /// Case-file reviews, oldest first.
    pub reviews: Vec<CaseReview>,
    /// Photos attached to the dispute or to its records.
    pub photos: Vec<Attachment>,
    /// The parties' households (for their identity numbers).
    pub households: HashMap<Uuid, Household>,
}

/// The records of a visible dispute (`scope` from [`visible_dispute`]) that its
/// origin unit's feed carries to those of the caller's grants that cover it
/// (a role seeing disputes there, and the record's kind), read through the
/// desk's index: the dispute's own records, their attachments, its parties'
/// households.
pub fn case_file(store: &dyn Store, actor: &Actor, d: &Dispute, scope: &[Uuid]) -> StoreResult<CaseFile> {
    let roles: Vec<_> = actor
        .grants
        .iter()
        .filter(|g| scope.contains(&g.unit_id) && sees(g.role, EntityKind::Dispute))
        .map(|g| g.role)
        .collect();
    let shown = |s: &StoredRecord| {
        s.scope.contains(&d.origin_unit) && roles.iter().any(|r| sees(*r, s.record.visibility_kind()))
    };
    let mut records: Vec<Record> = Vec::new();
    let mut parents = vec![d.id];
    for s in desk_index::linked(store, d.id)? {
        if shown(&s) {
            if matches!(
                s.record,
                Record::MediationSession(_)
                    | Record::Agreement(_)
                    | Record::FollowUp(_)
                    | Record::JudicialConfirmation(_)
            ) {
                parents.push(s.record.id());
            }
            records.push(s.record);
        }
    }
    for p in parents {
        let attachments = if p == d.id { Vec::new() } else { desk_index::linked(store, p)? };
        records.extend(attachments.into_iter().filter(&shown).map(|s| s.record));
    }
    let mut seen_households = HashSet::new();
    for h in d.parties.iter().filter_map(|p| p.household_id) {
        if seen_households.insert(h) {
            if let Some(s) = store.stored_record(EntityKind::Household, h)? {
                if shown(&s) {
                    records.push(s.record);
                }
            }
        }
    }
    records.sort_by_key(|r| (r.kind(), r.id()));
    let mut f = CaseFile::default();
    let mut attachments = Vec::new();
    for r in records {
        match r {
            Record::MediationSession(x) => f.sessions.push(x),
            Record::Agreement(x) => f.agreements.push(x),
            Record::FollowUp(x) => f.follow_ups.push(x),
            Record::JudicialConfirmation(x) => f.confirmations.push(x),
            Record::Escalation(x) => f.escalations.push(x),
            Record::FlowEntry(x) => f.flow.push(x),
            Record::CaseReview(x) => f.reviews.push(x),
            Record::Attachment(x) => attachments.push(x),
            Record::Household(h) => {
                f.households.insert(h.id, h);
            }
            _ => {}
        }
    }
    let mut ours: HashSet<Uuid> = HashSet::from([d.id]);
    ours.extend(f.sessions.iter().map(|x| x.id));
    ours.extend(f.agreements.iter().map(|x| x.id));
    ours.extend(f.follow_ups.iter().map(|x| x.id));
    ours.extend(f.confirmations.iter().map(|x| x.id));
    f.photos = attachments.into_iter().filter(|a| ours.contains(&a.target_id)).collect();
    f.sessions.sort_by_key(|x| x.held_at);
    f.flow.sort_by_key(|x| x.step);
    f.reviews.sort_by_key(|x| x.reviewed_at);
    Ok(f)
}

/// Display names of users and units, looked up once each.
#[derive(Default)]
pub struct Names(HashMap<Uuid, String>);

impl Names {
    /// A user's display name (empty if unknown).
    pub fn user(&mut self, store: &dyn Store, id: Uuid) -> StoreResult<String> {
        if let Some(n) = self.0.get(&id) {
            return Ok(n.clone());
        }
        let n = store.user(id)?.map(|u| u.display_name).unwrap_or_default();
        self.0.insert(id, n.clone());
        Ok(n)
    }

    /// A unit's name (empty if unknown).
    pub fn unit(&mut self, store: &dyn Store, id: Uuid) -> StoreResult<String> {
        if let Some(n) = self.0.get(&id) {
            return Ok(n.clone());
        }
        let n = match store.record(EntityKind::Unit, id)? {
            Some(Record::Unit(u)) => u.name,
            _ => String::new(),
        };
        self.0.insert(id, n.clone());
        Ok(n)
    }
}
