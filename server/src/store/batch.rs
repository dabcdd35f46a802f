//! Applying operations and server-authored records inside one write transaction,
//! the same way on every backend. A backend wraps its transaction as a [`WriteTx`].

use fengqiao_domain::apply::{decide, record_scope, Effect, StateView, Verdict, ViewError};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{Change, ChangeAction, OpAnswer, OpEnvelope, Outcome};
use fengqiao_domain::{Record, Rejection, RejectionCode};
use uuid::Uuid;

use super::{StoredAnswer, StoredRecord};

/// Why a transaction was abandoned (everything in it is rolled back).
#[derive(Debug)]
pub enum TxFail {
    /// The backend failed.
    Storage(ViewError),
    /// A server-authored record could not be placed.
    InvalidRecord(String),
}

impl From<ViewError> for TxFail {
    fn from(e: ViewError) -> Self {
        TxFail::Storage(e)
    }
}

/// Storage format version of [`StoredRecord`].
pub const STORED_RECORD_VERSION: u32 = 1;

/// The writes a backend offers inside one transaction. Reads see the
/// transaction's own earlier writes.
pub trait WriteTx: StateView {
    /// The stored answer of an op id, if it was seen before.
    fn answer(&self, op_id: Uuid) -> Result<Option<StoredAnswer>, ViewError>;
    /// Records an op's answer.
    fn put_answer(&self, op_id: Uuid, answer: &StoredAnswer) -> Result<(), ViewError>;
    /// A record with its scope.
    fn stored(&self, kind: fengqiao_domain::EntityKind, id: Uuid) -> Result<Option<StoredRecord>, ViewError>;
    /// Writes a record with its scope.
    fn put_stored(&self, stored: &StoredRecord) -> Result<(), ViewError>;
    /// Allocates the next feed sequence.
    fn next_seq(&self) -> Result<u64, ViewError>;
    /// Claims a case number for a dispute.
    fn claim_case_number(&self, case_number: &str, dispute: Uuid) -> Result<(), ViewError>;
    /// Notes which visit found a lead (a dispute may cite only a known lead).
    fn index_lead(&self, lead: Uuid, visit: Uuid) -> Result<(), ViewError>;
    /// Notes that an attachment references a photo (for download checks).
    fn add_photo_ref(&self, sha256: &str, attachment: Uuid) -> Result<(), ViewError>;
    /// Appends a change at its sequence and indexes it under each unit.
    fn append_change(&self, change: &Change, units: &[Uuid]) -> Result<(), ViewError>;

    // The desk's index (`super::desk_index`): plain ordered bytes.
    /// Writes an entry of the desk's index.
    fn desk_index_put(&self, key: &[u8], value: &[u8]) -> Result<(), ViewError>;
    /// Removes an entry of the desk's index.
    fn desk_index_remove(&self, key: &[u8]) -> Result<(), ViewError>;
}

/// Applies a batch of ops for `actor`. Each op answers once; its answer and effects
/// are written in the caller's transaction.
pub fn apply_ops(
    tx: &dyn WriteTx,
    actor: &Actor,
    policy: &Policy,
    ops: &[OpEnvelope],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<OpAnswer>, TxFail> {
    let mut answers = Vec::with_capacity(ops.len());
    for env in ops {
        if let Some(prev) = known_answer(tx, env.op_id)? {
            let outcome = if prev.author == actor.user_id {
                Outcome::Duplicate { original: Box::new(prev.outcome) }
            } else {
                let r = Rejection::new(
                    RejectionCode::AuthorMismatch,
                    "操作编号：这个操作编号已属于另一位用户，请更新应用后重试",
                );
                Outcome::Rejected { code: r.code, message: r.message }
            };
            answers.push(OpAnswer { op_id: env.op_id, outcome });
            continue;
        }
        let outcome = match decide(env, actor, policy, tx, now)? {
            Verdict::Apply(effects) => {
                let mut seq = 0;
                for effect in effects {
                    match effect {
                        Effect::Put { record, scope } => seq = put(tx, record, scope)?,
                    }
                }
                Outcome::Applied { seq }
            }
            Verdict::Reject(r) => Outcome::Rejected { code: r.code, message: r.message },
            Verdict::Conflict { message, current } => Outcome::Conflict { message, current: Some(current) },
        };
        tx.put_answer(env.op_id, &StoredAnswer { author: actor.user_id, outcome: outcome.clone() })?;
        answers.push(OpAnswer { op_id: env.op_id, outcome });
    }
    Ok(answers)
}

/// The answer already stored under `op_id` (a re-sent op), if any.
fn known_answer(tx: &dyn WriteTx, op_id: Uuid) -> Result<Option<StoredAnswer>, TxFail> {
    #[cfg(feature = "sim-bugs")]
    if crate::sim_bugs::SKIP_OP_ID_CHECK.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(None);
    }
    Ok(tx.answer(op_id)?)
}

/// Writes server-authored records (seed, import), computing each one's scope from
/// the org tree. A record whose unit is unknown fails the whole transaction.
pub fn put_records(tx: &dyn WriteTx, records: &[Record]) -> Result<u64, TxFail> {
    let mut last = 0;
    for record in records {
        let Some(scope) = record_scope(tx, record)? else {
            return Err(TxFail::InvalidRecord(format!("{:?} {} has no known org unit", record.kind(), record.id())));
        };
        if let Some(prev) = tx.stored(record.kind(), record.id())? {
            if prev.record == *record && prev.scope == scope {
                continue;
            }
        }
        last = put(tx, record.clone(), scope)?;
    }
    Ok(last)
}

/// Stores a record and feeds it. If its scope shrank (the record moved), the units
/// it left get a drop change first, so phones there forget it.
fn put(tx: &dyn WriteTx, record: Record, scope: Vec<Uuid>) -> Result<u64, ViewError> {
    let (kind, id) = (record.kind(), record.id());
    let before = tx.stored(kind, id)?;
    if let Some(prev) = &before {
        let left: Vec<Uuid> = prev.scope.iter().filter(|u| !scope.contains(u)).copied().collect();
        if !left.is_empty() {
            let seq = tx.next_seq()?;
            let change = Change { seq, action: ChangeAction::Drop, entity: kind, id, record: None };
            tx.append_change(&change, &left)?;
        }
    }
    let seq = tx.next_seq()?;
    let change = Change { seq, action: ChangeAction::Put, entity: kind, id, record: Some(record.clone()) };
    tx.append_change(&change, &scope)?;
    match &record {
        Record::Attachment(a) => tx.add_photo_ref(&a.sha256, a.id)?,
        Record::Dispute(d) => tx.claim_case_number(&d.case_number, d.id)?,
        Record::Visit(v) => v.leads.iter().try_for_each(|l| tx.index_lead(l.id, v.id))?,
        _ => {}
    }
    let stored = StoredRecord { v: STORED_RECORD_VERSION, scope, record, seq };
    reindex(tx, before.as_ref(), &stored)?;
    tx.put_stored(&stored)?;
    Ok(seq)
}

/// Rewrites a record's entries in the desk's index: those of its earlier
/// version it no longer has are removed, its own written.
fn reindex(tx: &dyn WriteTx, before: Option<&StoredRecord>, now: &StoredRecord) -> Result<(), ViewError> {
    let new = super::desk_index::entries(now);
    if let Some(prev) = before {
        for (k, _) in super::desk_index::entries(prev) {
            if !new.iter().any(|(n, _)| *n == k) {
                tx.desk_index_remove(&k)?;
            }
        }
    }
    for (k, v) in &new {
        tx.desk_index_put(k, v)?;
    }
    Ok(())
}
