//! Case-number blocks and the lead index of the sled store.

use fengqiao_domain::apply::ViewError;
use fengqiao_domain::disputes::{may_reserve_case_block, CaseBlockUse};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{EntityKind, Record};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use uuid::Uuid;

use super::{backend, SledStore};
use crate::store::{StoreError, StoreResult, SyncStore};

/// Set once the lead → visit index covers every stored visit.
const LEADS_INDEXED: &[u8] = b"leads_indexed";

/// Set once the desk's index covers every stored record.
const DESK_INDEXED: &[u8] = b"desk_indexed";

/// A case block as stored: its owner, the count of its numbers claimed by
/// accepted disputes, and its size when reserved (`None` for blocks reserved
/// before sizes were kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BlockValue {
    pub(super) owner: Uuid,
    pub(super) used: u32,
    pub(super) size: Option<u32>,
}

impl BlockValue {
    /// The stored bytes: owner (16), used (u32 big-endian), size (u32 big-endian).
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut v = self.owner.as_bytes().to_vec();
        v.extend_from_slice(&self.used.to_be_bytes());
        if let Some(size) = self.size {
            v.extend_from_slice(&size.to_be_bytes());
        }
        v
    }
}

/// Reads a case block's value: the owner, then (once a number of it was used, or
/// when its size was kept) the used count, then (blocks reserved since sizes are
/// kept) the size, each u32 big-endian.
pub(super) fn block_value(v: &[u8]) -> Result<BlockValue, ViewError> {
    let bad = || ViewError("bad case-block value".into());
    let owner = Uuid::from_slice(v.get(..16).ok_or_else(bad)?).map_err(|_| bad())?;
    let word = |at: usize| -> Result<Option<u32>, ViewError> {
        match v.get(at..(at + 4).min(v.len())) {
            None | Some([]) => Ok(None),
            Some(b) => Ok(Some(u32::from_be_bytes(b.try_into().map_err(|_| bad())?))),
        }
    };
    if v.len() > 24 {
        return Err(bad());
    }
    Ok(BlockValue { owner, used: word(16)?.unwrap_or(0), size: word(20)? })
}

/// Key of a case block: year then block number, big-endian.
pub(super) fn block_key(year: i32, block: u32) -> [u8; 8] {
    let mut k = [0u8; 8];
    k[..4].copy_from_slice(&year.to_be_bytes());
    k[4..].copy_from_slice(&block.to_be_bytes());
    k
}

impl SledStore {
    /// [`Store::reserve_case_block`]: refused while `owner` holds the policy's
    /// number of outstanding blocks of `year`.
    pub(super) fn reserve_block(&self, owner: Uuid, year: i32, policy: &Policy) -> StoreResult<u32> {
        let _w = self.lock();
        // Every write to `case_blocks` holds the writer lock: this count stands
        // until the reservation below is written.
        let mut outstanding = 0;
        for kv in self.case_blocks.scan_prefix(year.to_be_bytes()) {
            let (_, v) = kv.map_err(backend)?;
            let b = block_value(&v).map_err(|e| StoreError::Corrupt(e.0))?;
            if b.owner == owner && (CaseBlockUse { used: b.used, size: b.size }).outstanding(policy) {
                outstanding += 1;
            }
        }
        if !may_reserve_case_block(outstanding, policy) {
            return Err(StoreError::TooManyBlocks(policy.disputes.max_open_case_blocks));
        }
        let counter = format!("case_block:{year}");
        let res = (&self.meta, &self.case_blocks).transaction(|(meta, blocks)| {
            let next = match meta.get(counter.as_bytes())? {
                Some(v) => {
                    u32::from_be_bytes(v.as_ref().try_into().map_err(|_| ConflictableTransactionError::Abort(()))?) + 1
                }
                None => 1,
            };
            meta.insert(counter.as_bytes(), &next.to_be_bytes())?;
            let value = BlockValue { owner, used: 0, size: Some(policy.disputes.case_block_size) };
            blocks.insert(&block_key(year, next), value.encode())?;
            Ok(next)
        });
        let block = res.map_err(|e| match e {
            TransactionError::Abort(()) => StoreError::Corrupt("bad case-block counter".into()),
            TransactionError::Storage(s) => backend(s),
        })?;
        self.durable()?;
        Ok(block)
    }

    /// Builds the lead → visit index once for a store written before it existed.
    pub(super) fn index_old_leads(&self) -> StoreResult<()> {
        if self.meta.get(LEADS_INDEXED).map_err(backend)?.is_none() {
            // A store written before the lead index existed: build it once.
            for r in self.records_of_kind(EntityKind::Visit)? {
                if let Record::Visit(v) = r {
                    for lead in &v.leads {
                        self.leads.insert(lead.id.as_bytes(), v.id.as_bytes()).map_err(backend)?;
                    }
                }
            }
            self.meta.insert(LEADS_INDEXED, &[1]).map_err(backend)?;
        }
        Ok(())
    }
}

impl SledStore {
    /// Builds the desk's index once for a store written before it existed
    /// (records are written with their entries from then on).
    pub(super) fn index_desk(&self) -> StoreResult<()> {
        if self.meta.get(DESK_INDEXED).map_err(backend)?.is_some() {
            return Ok(());
        }
        let _w = self.lock();
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for kv in self.records.iter() {
            let (_, v) = kv.map_err(backend)?;
            let stored: crate::store::StoredRecord =
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            for (k, v) in crate::store::desk_index::entries(&stored) {
                batch.insert(k, v);
                n += 1;
            }
            if n >= 10_000 {
                self.desk.apply_batch(std::mem::take(&mut batch)).map_err(backend)?;
                n = 0;
            }
        }
        self.desk.apply_batch(batch).map_err(backend)?;
        self.meta.insert(DESK_INDEXED, &[1]).map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_values_of_every_age_read_back() {
        let owner = Uuid::now_v7();
        // reserved before use counts, before sizes, and today
        assert_eq!(block_value(owner.as_bytes()).unwrap(), BlockValue { owner, used: 0, size: None });
        let mut used = owner.as_bytes().to_vec();
        used.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(block_value(&used).unwrap(), BlockValue { owner, used: 7, size: None });
        let today = BlockValue { owner, used: 3, size: Some(100) };
        assert_eq!(block_value(&today.encode()).unwrap(), today);
        assert_eq!(block_value(&BlockValue { size: None, ..today }.encode()).unwrap().size, None);
        for bad in [&owner.as_bytes()[..10], &used[..18], &[used.clone(), vec![0; 2]].concat()[..], &[0u8; 30][..]] {
            assert!(block_value(bad).is_err(), "{}", bad.len());
        }
    }
}
