//! The server store's write transaction: sled's transactional trees seen
//! through the domain's [`StateView`] and the store's [`WriteTx`], so the one
//! copy of the write rules (`store::batch`) runs inside a sled transaction.

use std::cell::RefCell;

use fengqiao_domain::apply::{PersonFacts, PersonLookup, StateView, ViewError};
use fengqiao_domain::wire::Change;
use fengqiao_domain::{EntityKind, Record};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{TransactionalTree, UnabortableTransactionError};
use uuid::Uuid;

use super::super::batch::WriteTx;
use super::super::{feed_key, record_key, StoredAnswer, StoredRecord};
use super::{block_key, block_value, SEQ_KEY};

/// A sled transaction seen through [`WriteTx`]. sled's own errors are stashed so a
/// conflict reruns the transaction instead of aborting it.
pub(super) struct SledTx<'a> {
    pub(super) ops: &'a TransactionalTree,
    pub(super) records: &'a TransactionalTree,
    pub(super) changes: &'a TransactionalTree,
    pub(super) feed: &'a TransactionalTree,
    pub(super) meta: &'a TransactionalTree,
    pub(super) photo_refs: &'a TransactionalTree,
    pub(super) case_blocks: &'a TransactionalTree,
    pub(super) case_numbers: &'a TransactionalTree,
    pub(super) leads: &'a TransactionalTree,
    /// The users (read only: who may be credited and paid).
    pub(super) users: &'a TransactionalTree,
    /// The desk's index.
    pub(super) desk: &'a TransactionalTree,
    pub(super) stash: RefCell<Option<UnabortableTransactionError>>,
}

impl SledTx<'_> {
    pub(super) fn io<T>(&self, r: Result<T, UnabortableTransactionError>) -> Result<T, ViewError> {
        r.map_err(|e| {
            let msg = e.to_string();
            *self.stash.borrow_mut() = Some(e);
            ViewError(msg)
        })
    }
}

fn vdec<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ViewError> {
    serde_json::from_slice(bytes).map_err(|e| ViewError(format!("stored data could not be decoded: {e}")))
}

fn venc<T: Serialize>(v: &T) -> Result<Vec<u8>, ViewError> {
    serde_json::to_vec(v).map_err(|e| ViewError(e.to_string()))
}

impl StateView for SledTx<'_> {
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
        Ok(self.stored(kind, id)?.map(|s| s.record))
    }
    fn version(&self, kind: EntityKind, id: Uuid) -> Result<Option<u64>, ViewError> {
        Ok(self.stored(kind, id)?.map(|s| s.seq))
    }
    fn case_block_owner(&self, year: i32, block: u32) -> Result<Option<Uuid>, ViewError> {
        match self.io(self.case_blocks.get(block_key(year, block)))? {
            Some(v) => block_value(&v).map(|b| Some(b.owner)),
            None => Ok(None),
        }
    }
    fn case_block_size(&self, year: i32, block: u32) -> Result<Option<u32>, ViewError> {
        match self.io(self.case_blocks.get(block_key(year, block)))? {
            Some(v) => block_value(&v).map(|b| b.size),
            None => Ok(None),
        }
    }
    fn earlier_policy(&self, version: &str) -> Result<Option<fengqiao_domain::policy::Policy>, ViewError> {
        match self.io(self.meta.get(super::policy_key(version)))? {
            Some(v) => vdec(&v).map(Some),
            None => Ok(None),
        }
    }
    fn case_number_holder(&self, case_number: &str) -> Result<Option<Uuid>, ViewError> {
        match self.io(self.case_numbers.get(case_number.as_bytes()))? {
            Some(v) => Uuid::from_slice(&v).map(Some).map_err(|e| ViewError(e.to_string())),
            None => Ok(None),
        }
    }
    fn lead_visit(&self, lead: Uuid) -> Result<Option<Uuid>, ViewError> {
        match self.io(self.leads.get(lead.as_bytes()))? {
            Some(v) => Uuid::from_slice(&v).map(Some).map_err(|e| ViewError(e.to_string())),
            None => Ok(None),
        }
    }
    fn person(&self, id: Uuid) -> Result<PersonLookup, ViewError> {
        match self.io(self.users.get(id.as_bytes()))? {
            Some(v) => {
                let u: crate::store::UserRecord = vdec(&v)?;
                Ok(PersonLookup::Known(PersonFacts { enabled: !u.disabled, grants: u.grants }))
            }
            None => Ok(PersonLookup::NoSuchUser),
        }
    }
}

impl WriteTx for SledTx<'_> {
    fn answer(&self, op_id: Uuid) -> Result<Option<StoredAnswer>, ViewError> {
        match self.io(self.ops.get(op_id.as_bytes()))? {
            Some(v) => vdec(&v).map(Some),
            None => Ok(None),
        }
    }

    fn put_answer(&self, op_id: Uuid, answer: &StoredAnswer) -> Result<(), ViewError> {
        self.io(self.ops.insert(op_id.as_bytes(), venc(answer)?)).map(|_| ())
    }

    fn stored(&self, kind: EntityKind, id: Uuid) -> Result<Option<StoredRecord>, ViewError> {
        match self.io(self.records.get(record_key(kind, id)))? {
            Some(v) => vdec(&v).map(Some),
            None => Ok(None),
        }
    }

    fn put_stored(&self, stored: &StoredRecord) -> Result<(), ViewError> {
        let key = record_key(stored.record.kind(), stored.record.id());
        self.io(self.records.insert(&key, venc(stored)?)).map(|_| ())
    }

    fn next_seq(&self) -> Result<u64, ViewError> {
        let cur = match self.io(self.meta.get(SEQ_KEY))? {
            Some(v) => u64::from_be_bytes(v.as_ref().try_into().map_err(|_| ViewError("bad counter".into()))?),
            None => 0,
        };
        let next = cur + 1;
        self.io(self.meta.insert(SEQ_KEY, &next.to_be_bytes()))?;
        Ok(next)
    }

    fn claim_case_number(&self, case_number: &str, dispute: Uuid) -> Result<(), ViewError> {
        let before = self.io(self.case_numbers.insert(case_number.as_bytes(), dispute.as_bytes()))?;
        // A number used for the first time counts against its block.
        let Some(case) = fengqiao_domain::disputes::CaseNumber::parse(case_number).filter(|_| before.is_none()) else {
            return Ok(());
        };
        let key = block_key(case.year, case.block);
        if let Some(v) = self.io(self.case_blocks.get(key))? {
            let b = block_value(&v)?;
            let value = super::cases::BlockValue { used: b.used.saturating_add(1), ..b }.encode();
            self.io(self.case_blocks.insert(&key, value))?;
        }
        Ok(())
    }

    fn index_lead(&self, lead: Uuid, visit: Uuid) -> Result<(), ViewError> {
        self.io(self.leads.insert(lead.as_bytes(), visit.as_bytes())).map(|_| ())
    }

    fn add_photo_ref(&self, sha256: &str, attachment: Uuid) -> Result<(), ViewError> {
        let mut key = sha256.as_bytes().to_vec();
        key.extend_from_slice(attachment.as_bytes());
        self.io(self.photo_refs.insert(key, &[])).map(|_| ())
    }

    fn append_change(&self, change: &Change, units: &[Uuid]) -> Result<(), ViewError> {
        self.io(self.changes.insert(&change.seq.to_be_bytes(), venc(change)?))?;
        for unit in units {
            self.io(self.feed.insert(&feed_key(*unit, change.seq), &[]))?;
        }
        Ok(())
    }

    fn desk_index_put(&self, key: &[u8], value: &[u8]) -> Result<(), ViewError> {
        self.io(self.desk.insert(key, value)).map(|_| ())
    }

    fn desk_index_remove(&self, key: &[u8]) -> Result<(), ViewError> {
        self.io(self.desk.remove(key)).map(|_| ())
    }
}
