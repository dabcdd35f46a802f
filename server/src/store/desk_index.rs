//! The desk's index (issue 22): what the desk's pages read without walking the
//! change feed. Its entries are a function of each record's current stored
//! version alone ([`entries`]); [`super::batch`] rewrites a record's entries
//! in the transaction that stores it, the same way on every backend, which
//! keep them as plain ordered bytes ([`super::SyncStore::desk_index_scan`]).
//!
//! Entries, each key led by a tag byte:
//!
//! - `o` ‖ unit ‖ class ‖ deadline ‖ dispute id → [`DisputeSummary`]: every
//!   dispute under each unit of its scope, open ones first, by deadline (a
//!   dispute registered before deadlines were kept with it has its own class,
//!   ordered by the policy in force when read);
//! - `l` ‖ parent ‖ kind ‖ id → nothing: the records of a dispute (sessions,
//!   agreements, follow-ups, confirmations, escalations, flow entries, reviews,
//!   subsidies) and the attachments of any record;
//! - `v` ‖ dispute ‖ reviewed at ‖ review id → passed (1) or returned (0);
//! - `p` ‖ unit ‖ kind ‖ id → nothing: escalations awaiting a decision and
//!   consultations awaiting review, under each unit of their scope;
//! - `h` ‖ identity number ‖ 0 ‖ household id → nothing;
//! - `f` ‖ unit ‖ at ‖ id → nothing: flow-table entries under each unit of
//!   their scope, by time.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use fengqiao_domain::disputes::{ClosingOutcome, Dispute};
use fengqiao_domain::permissions::sees;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{EntityKind, Record, RoleGrant};
use uuid::Uuid;

use super::{StoreError, StoreResult, StoredRecord, SyncStore};

const ORDER: u8 = b'o';
const LINK: u8 = b'l';
const REVIEW: u8 = b'v';
const PENDING: u8 = b'p';
const ID_NUMBER: u8 = b'h';
const FLOW: u8 = b'f';

fn time_key(t: DateTime<Utc>) -> [u8; 8] {
    ((t.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

fn time_of(b: &[u8]) -> Option<DateTime<Utc>> {
    let ms = (u64::from_be_bytes(b.try_into().ok()?) ^ (1 << 63)) as i64;
    DateTime::from_timestamp_millis(ms)
}

fn key(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The index entries (key, value) of a record's stored version.
pub fn entries(stored: &StoredRecord) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let r = &stored.record;
    let (kind, id) = ([r.kind().tag()], r.id());
    let parent = match r {
        Record::MediationSession(x) => Some(x.dispute_id),
        Record::Agreement(x) => Some(x.dispute_id),
        Record::FollowUp(x) => Some(x.dispute_id),
        Record::JudicialConfirmation(x) => Some(x.dispute_id),
        Record::Escalation(x) => Some(x.dispute_id),
        Record::FlowEntry(x) => Some(x.dispute_id),
        Record::CaseReview(x) => Some(x.dispute_id),
        Record::Subsidy(x) => x.dispute_id,
        Record::Attachment(x) => Some(x.target_id),
        _ => None,
    };
    if let Some(p) = parent {
        out.push((key(&[&[LINK], p.as_bytes(), &kind, id.as_bytes()]), Vec::new()));
    }
    let pending = match r {
        Record::Escalation(x) => x.decision.is_none(),
        Record::Consultation(x) => x.review.is_none(),
        _ => false,
    };
    if pending {
        for u in &stored.scope {
            out.push((key(&[&[PENDING], u.as_bytes(), &kind, id.as_bytes()]), Vec::new()));
        }
    }
    match r {
        Record::Dispute(d) => {
            let (class, deadline) = order_of(d);
            let value = DisputeSummary::of(d).encode();
            for u in &stored.scope {
                out.push((key(&[&[ORDER], u.as_bytes(), &[class], &deadline, id.as_bytes()]), value.clone()));
            }
        }
        Record::CaseReview(x) => {
            out.push((
                key(&[&[REVIEW], x.dispute_id.as_bytes(), &time_key(x.reviewed_at), id.as_bytes()]),
                vec![u8::from(x.passed)],
            ));
        }
        Record::FlowEntry(x) => {
            for u in &stored.scope {
                out.push((key(&[&[FLOW], u.as_bytes(), &time_key(x.at), id.as_bytes()]), Vec::new()));
            }
        }
        Record::Household(h) => {
            if let Some(n) = &h.id_number {
                out.push((key(&[&[ID_NUMBER], n.as_str().as_bytes(), &[0], id.as_bytes()]), Vec::new()));
            }
        }
        _ => {}
    }
    out
}

/// A dispute's class and deadline key: its deadline by the deadlines it was
/// registered under; one without them sorts by the policy read at the time.
fn order_of(d: &Dispute) -> (u8, [u8; 8]) {
    let closed = if d.closing.is_some() { 2 } else { 0 };
    match d.deadlines {
        // `deadline` takes the dispute's own deadlines: the policy is not read.
        Some(_) => (closed, time_key(d.deadline(&Policy::default()))),
        None => (closed + 1, [0; 8]),
    }
}

/// What the desk's lists need of a dispute without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeSummary {
    /// The dispute.
    pub id: Uuid,
    /// Its origin unit (its scope's home).
    pub origin: Uuid,
    /// When it was closed, if it was.
    pub closed_at: Option<DateTime<Utc>>,
    /// Closed as resolved (its file goes to review).
    pub resolved: bool,
    /// The households of its parties.
    pub households: Vec<Uuid>,
    /// Its case number.
    pub case_number: String,
    /// Its parties' names.
    pub names: Vec<String>,
}

impl DisputeSummary {
    fn of(d: &Dispute) -> DisputeSummary {
        DisputeSummary {
            id: d.id,
            origin: d.origin_unit,
            closed_at: d.closing.as_ref().map(|c| c.closed_at),
            resolved: d.closing.as_ref().map(|c| c.outcome) == Some(ClosingOutcome::Resolved),
            households: d.parties.iter().filter_map(|p| p.household_id).collect(),
            case_number: d.case_number.clone(),
            names: d.parties.iter().map(|p| p.name.clone()).collect(),
        }
    }

    /// origin (16) ‖ closed at (8, zero when open) ‖ resolved (1) ‖ household
    /// count (u16) ‖ households ‖ case number and names, each followed by 0.
    fn encode(&self) -> Vec<u8> {
        let mut v = self.origin.as_bytes().to_vec();
        v.extend_from_slice(&self.closed_at.map(time_key).unwrap_or([0; 8]));
        v.push(u8::from(self.resolved));
        v.extend_from_slice(&(self.households.len().min(u16::MAX as usize) as u16).to_be_bytes());
        for h in self.households.iter().take(u16::MAX as usize) {
            v.extend_from_slice(h.as_bytes());
        }
        for s in std::iter::once(&self.case_number).chain(&self.names) {
            // text fields hold no NUL (the domain's text checks); one would end the field early
            v.extend(s.bytes().take_while(|b| *b != 0));
            v.push(0);
        }
        v
    }

    fn decode(id: Uuid, v: &[u8]) -> Option<DisputeSummary> {
        let origin = Uuid::from_slice(v.get(..16)?).ok()?;
        let closed = v.get(16..24)?;
        let closed_at = if closed == [0; 8] { None } else { Some(time_of(closed)?) };
        let resolved = *v.get(24)? == 1;
        let n = u16::from_be_bytes(v.get(25..27)?.try_into().ok()?) as usize;
        let mut at = 27;
        let mut households = Vec::with_capacity(n);
        for _ in 0..n {
            households.push(Uuid::from_slice(v.get(at..at + 16)?).ok()?);
            at += 16;
        }
        let mut texts = v.get(at..)?.split(|b| *b == 0).map(|s| String::from_utf8_lossy(s).into_owned());
        let case_number = texts.next()?;
        let mut names: Vec<String> = texts.collect();
        // the last field's terminator leaves one empty piece
        names.pop();
        Some(DisputeSummary { id, origin, closed_at, resolved, households, case_number, names })
    }

    /// Whether `needle` is in its case number or a party's name, or one of
    /// `households` is a party's.
    pub fn matches(&self, needle: &str, households: &HashSet<Uuid>) -> bool {
        needle.is_empty()
            || self.case_number.contains(needle)
            || self.names.iter().any(|n| n.contains(needle))
            || self.households.iter().any(|h| households.contains(h))
    }
}

fn corrupt() -> StoreError {
    StoreError::Corrupt("bad desk index entry".into())
}

/// The units whose disputes `grants` see (as the API's pull: each grant's unit
/// whose role sees disputes), once each.
fn dispute_units(grants: &[RoleGrant]) -> Vec<Uuid> {
    let mut units: Vec<Uuid> = Vec::new();
    for g in grants.iter().filter(|g| sees(g.role, EntityKind::Dispute)) {
        if !units.contains(&g.unit_id) {
            units.push(g.unit_id);
        }
    }
    units
}

/// The disputes `grants` see (those the API's pull gives them), summarised,
/// that `keep` takes: open ones first, each part by deadline (the nearest, so
/// the overdue, first), then by id. Reads the index alone, but for a dispute
/// registered before deadlines were kept with it (read, its deadline by
/// `policy`).
pub fn disputes_in_order(
    store: &dyn SyncStore,
    grants: &[RoleGrant],
    policy: &Policy,
    keep: &dyn Fn(&DisputeSummary) -> bool,
) -> StoreResult<Vec<DisputeSummary>> {
    let units = dispute_units(grants);
    let mut seen: HashSet<Uuid> = HashSet::new();
    // (open or closed, deadline, id) and the summary
    let mut rows: Vec<((bool, i64, Uuid), DisputeSummary)> = Vec::new();
    let mut bad = false;
    for unit in &units {
        let prefix = key(&[&[ORDER], unit.as_bytes()]);
        store.desk_index_scan(&prefix, &[], &mut |k, v| {
            let Some(rest) = k.get(17..) else {
                bad = true;
                return false;
            };
            let (Some(class), Some(dl), Some(id)) = (rest.first(), rest.get(1..9), rest.get(9..25)) else {
                bad = true;
                return false;
            };
            let Ok(id) = Uuid::from_slice(id) else {
                bad = true;
                return false;
            };
            if units.len() > 1 && !seen.insert(id) {
                return true;
            }
            let Some(s) = DisputeSummary::decode(id, v) else {
                bad = true;
                return false;
            };
            if keep(&s) {
                // classes: open with its deadlines kept (0), without (1); closed alike (2, 3)
                let ms = if class % 2 == 1 {
                    i64::MIN
                } else {
                    time_of(dl).map(|t| t.timestamp_millis()).unwrap_or(i64::MIN)
                };
                rows.push(((*class >= 2, ms, id), s));
            }
            true
        })?;
        if bad {
            return Err(corrupt());
        }
    }
    // those without kept deadlines: by the policy in force
    for row in rows.iter_mut().filter(|r| r.0 .1 == i64::MIN) {
        if let Some(Record::Dispute(d)) = store.record(EntityKind::Dispute, row.1.id)? {
            row.0 .1 = d.deadline(policy).timestamp_millis();
        }
    }
    if units.len() > 1 || rows.iter().any(|r| r.0 .1 == i64::MIN) || rows.windows(2).any(|w| w[0].0 > w[1].0) {
        rows.sort_by_key(|r| r.0);
    }
    Ok(rows.into_iter().map(|r| r.1).collect())
}

/// The kind of a linked record by its tag.
fn linked_kind(tag: u8) -> Option<EntityKind> {
    [
        EntityKind::Attachment,
        EntityKind::Escalation,
        EntityKind::FlowEntry,
        EntityKind::MediationSession,
        EntityKind::Agreement,
        EntityKind::FollowUp,
        EntityKind::JudicialConfirmation,
        EntityKind::Subsidy,
        EntityKind::CaseReview,
    ]
    .into_iter()
    .find(|k| k.tag() == tag)
}

/// The current records linked to `parent`: a dispute's records, a record's
/// attachments; with their scopes.
pub fn linked(store: &dyn SyncStore, parent: Uuid) -> StoreResult<Vec<StoredRecord>> {
    let mut ids: Vec<(EntityKind, Uuid)> = Vec::new();
    let mut bad = false;
    store.desk_index_scan(&key(&[&[LINK], parent.as_bytes()]), &[], &mut |k, _| {
        match (k.get(17).and_then(|t| linked_kind(*t)), k.get(18..34).and_then(|b| Uuid::from_slice(b).ok())) {
            (Some(kind), Some(id)) => ids.push((kind, id)),
            _ => bad = true,
        }
        !bad
    })?;
    if bad {
        return Err(corrupt());
    }
    let mut out = Vec::with_capacity(ids.len());
    for (kind, id) in ids {
        if let Some(s) = store.stored_record(kind, id)? {
            out.push(s);
        }
    }
    Ok(out)
}

/// The latest review of a dispute's file (by time, then id): its id and
/// whether it passed.
pub fn latest_review(store: &dyn SyncStore, dispute: Uuid) -> StoreResult<Option<(Uuid, bool)>> {
    let mut last = None;
    let mut bad = false;
    store.desk_index_scan(&key(&[&[REVIEW], dispute.as_bytes()]), &[], &mut |k, v| {
        match k.get(25..41).and_then(|b| Uuid::from_slice(b).ok()) {
            Some(id) => last = Some((id, v.first() == Some(&1))),
            None => bad = true,
        }
        !bad
    })?;
    if bad {
        return Err(corrupt());
    }
    Ok(last)
}

/// Escalations awaiting a decision and consultations awaiting review that
/// `grants` see (each grant's unit, filtered by its role).
pub fn pending(store: &dyn SyncStore, grants: &[RoleGrant]) -> StoreResult<Vec<Record>> {
    let mut found: HashMap<(EntityKind, Uuid), Record> = HashMap::new();
    for g in grants {
        for kind in [EntityKind::Escalation, EntityKind::Consultation] {
            if !sees(g.role, kind) {
                continue;
            }
            let mut ids = Vec::new();
            store.desk_index_scan(&key(&[&[PENDING], g.unit_id.as_bytes(), &[kind.tag()]]), &[], &mut |k, _| {
                if let Some(id) = k.get(18..34).and_then(|b| Uuid::from_slice(b).ok()) {
                    ids.push(id);
                }
                true
            })?;
            for id in ids {
                if let std::collections::hash_map::Entry::Vacant(e) = found.entry((kind, id)) {
                    if let Some(r) = store.record(kind, id)? {
                        e.insert(r);
                    }
                }
            }
        }
    }
    let mut out: Vec<Record> = found.into_values().collect();
    out.sort_by_key(|r| (r.kind().tag(), r.id()));
    Ok(out)
}

/// The households with this identity number that `grants` see (a grant's
/// unit in the household's scope, its role seeing households).
pub fn households_by_id_number(
    store: &dyn SyncStore,
    grants: &[RoleGrant],
    number: &str,
) -> StoreResult<HashSet<Uuid>> {
    let mut ids = Vec::new();
    store.desk_index_scan(&key(&[&[ID_NUMBER], number.as_bytes(), &[0]]), &[], &mut |k, _| {
        if let Some(id) = k.len().checked_sub(16).and_then(|at| Uuid::from_slice(&k[at..]).ok()) {
            ids.push(id);
        }
        true
    })?;
    let mut out = HashSet::new();
    for id in ids {
        if let Some(s) = store.stored_record(EntityKind::Household, id)? {
            if grants.iter().any(|g| s.scope.contains(&g.unit_id) && sees(g.role, EntityKind::Household)) {
                out.insert(id);
            }
        }
    }
    Ok(out)
}

/// The flow-table entries under `unit` (its scope holding it) with `from` ≤
/// time < `to`, by time.
pub fn flow_entries(
    store: &dyn SyncStore,
    unit: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<fengqiao_domain::disputes::FlowEntry>> {
    let prefix = key(&[&[FLOW], unit.as_bytes()]);
    let (start, end) = (key(&[&prefix, &time_key(from)]), key(&[&prefix, &time_key(to)]));
    let mut ids = Vec::new();
    store.desk_index_scan(&prefix, &start, &mut |k, _| {
        if k >= end.as_slice() {
            return false;
        }
        if let Some(id) = k.get(25..41).and_then(|b| Uuid::from_slice(b).ok()) {
            ids.push(id);
        }
        true
    })?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(Record::FlowEntry(f)) = store.record(EntityKind::FlowEntry, id)? {
            out.push(f);
        }
    }
    Ok(out)
}
