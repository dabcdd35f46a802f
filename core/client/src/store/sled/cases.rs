//! The sled backend's case-number blocks: one sealed JSON value under
//! `case_blocks` in the `meta` tree, updated inside the same transaction as
//! the enqueue.

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpEnvelope;
use fengqiao_domain::Record;
use serde::{Deserialize, Serialize};
use sled::transaction::TransactionalTree;
use sled::Transactional;
use uuid::Uuid;

use super::super::cases::{self, CaseClaim, CaseNumberStore, HeldCaseBlock};
use super::super::{record_key, StoreError, StoreResult};
use super::{
    abort, seq_bytes, seq_from, tx_err, OutboxValue, SledClientStore, TxResult, K_NEXT_SEQ, STORE_FORMAT_VERSION,
    T_META, T_OUTBOX,
};

const K_CASE_BLOCKS: &[u8] = b"case_blocks";

/// The stored value: every user's held blocks, in the order reserved.
#[derive(Serialize, Deserialize)]
struct BlocksValue {
    fv: u32,
    blocks: Vec<HeldCaseBlock>,
}

impl SledClientStore {
    fn tx_blocks(&self, meta: &TransactionalTree) -> TxResult<Vec<HeldCaseBlock>> {
        match meta.get(K_CASE_BLOCKS)? {
            Some(v) => Ok(self.tx_unseal::<BlocksValue>("case blocks", T_META, K_CASE_BLOCKS, &v)?.blocks),
            None => Ok(Vec::new()),
        }
    }

    fn tx_save_blocks(&self, meta: &TransactionalTree, blocks: &[HeldCaseBlock]) -> TxResult<()> {
        let bytes =
            self.tx_seal(T_META, K_CASE_BLOCKS, &BlocksValue { fv: STORE_FORMAT_VERSION, blocks: blocks.to_vec() })?;
        meta.insert(K_CASE_BLOCKS, bytes)?;
        Ok(())
    }

    /// Drops the blocks `owner` holds, inside a transaction (a wipe).
    pub(super) fn tx_drop_case_blocks(&self, meta: &TransactionalTree, owner: Uuid) -> TxResult<()> {
        let mut blocks = self.tx_blocks(meta)?;
        let before = blocks.len();
        blocks.retain(|b| b.owner != owner);
        if blocks.len() != before {
            self.tx_save_blocks(meta, &blocks)?;
        }
        Ok(())
    }
}

impl CaseNumberStore for SledClientStore {
    fn case_blocks(&self, owner: Uuid) -> StoreResult<Vec<HeldCaseBlock>> {
        let all = self.meta_value::<BlocksValue>("case blocks", K_CASE_BLOCKS)?.map(|b| b.blocks).unwrap_or_default();
        Ok(cases::of_owner(&all, owner))
    }

    fn add_case_block(&self, block: &HeldCaseBlock) -> StoreResult<bool> {
        let _w = self.write()?;
        let added = self
            .meta
            .transaction(|meta| {
                let mut blocks = self.tx_blocks(meta)?;
                if !cases::add(&mut blocks, block) {
                    return Ok(false);
                }
                self.tx_save_blocks(meta, &blocks)?;
                Ok(true)
            })
            .map_err(tx_err)?;
        self.flush()?;
        Ok(added)
    }

    fn enqueue_claiming(
        &self,
        record: &Record,
        op: &OpEnvelope,
        claim: &CaseClaim,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<u64>> {
        let rkey = self.rk(&record_key(record.kind(), record.id()));
        let rec = self.record_value(record, op, &rkey)?;
        let op_key = self.ok(op.op_id);
        let _w = self.write()?;
        // A claim is not in the journal, so this enqueue flushes before it
        // answers (a lost claim could hand its number out twice).
        let gen = self.next_gen();
        self.journal.log_op(op, record, None, at, gen)?;
        let seq = (&self.outbox, &self.outbox_ids, &self.quarantine, &self.records, &self.meta)
            .transaction(|(outbox, ids, quarantine, records, meta)| {
                if ids.get(op_key)?.is_some() || quarantine.get(op_key)?.is_some() {
                    return Err(abort(StoreError::DuplicateOp(op.op_id)));
                }
                let mut blocks = self.tx_blocks(meta)?;
                if !cases::take(&mut blocks, claim) {
                    return Ok(None);
                }
                self.tx_save_blocks(meta, &blocks)?;
                let seq = meta.get(K_NEXT_SEQ)?.and_then(|v| seq_from(&v)).unwrap_or(1).max(1);
                meta.insert(K_NEXT_SEQ, &seq_bytes(seq + 1))?;
                let out = self.tx_seal(
                    T_OUTBOX,
                    &seq_bytes(seq),
                    &OutboxValue { fv: STORE_FORMAT_VERSION, op: op.clone(), enqueued_at: at },
                )?;
                records.insert(&rkey, rec.as_slice())?;
                outbox.insert(&seq_bytes(seq), out)?;
                ids.insert(&op_key, &seq_bytes(seq))?;
                Ok(Some(seq))
            })
            .map_err(tx_err);
        if matches!(seq, Ok(None)) || matches!(&seq, Err(e) if !matches!(e, StoreError::DuplicateOp(_))) {
            // Refused or a stale claim: nothing was queued.
            self.journal.log_cancel(op.op_id);
        }
        let seq = seq?;
        self.flush()?;
        Ok(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fresh;
    use super::*;

    crate::case_number_conformance_tests!(fresh());

    #[test]
    fn case_blocks_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::store::conformance_cases::survives_reopen(|| {
            Box::new(SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open"))
        });
    }
}
