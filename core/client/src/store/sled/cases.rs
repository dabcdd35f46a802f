//! The sled backend's case-number blocks: one JSON value under `case_blocks` in
//! the `meta` tree, updated inside the same transaction as the enqueue.

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpEnvelope;
use fengqiao_domain::Record;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;
use uuid::Uuid;

use super::super::cases::{self, CaseClaim, CaseNumberStore, HeldCaseBlock};
use super::super::{record_key, RecordState, StoreError, StoreResult};
use super::{
    backend, dec, enc, seq_bytes, seq_from, tx_err, OutboxValue, RecordValue, SledClientStore, TxResult, K_NEXT_SEQ,
    STORE_FORMAT_VERSION,
};

const K_CASE_BLOCKS: &[u8] = b"case_blocks";

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

/// The stored value: every user's held blocks, in the order reserved.
#[derive(Serialize, Deserialize)]
struct BlocksValue {
    fv: u32,
    blocks: Vec<HeldCaseBlock>,
}

fn tx_blocks(meta: &TransactionalTree) -> TxResult<Vec<HeldCaseBlock>> {
    match meta.get(K_CASE_BLOCKS)? {
        Some(v) => Ok(dec::<BlocksValue>("case blocks", &v).map_err(abort)?.blocks),
        None => Ok(Vec::new()),
    }
}

fn tx_save_blocks(meta: &TransactionalTree, blocks: &[HeldCaseBlock]) -> TxResult<()> {
    let bytes = enc(&BlocksValue { fv: STORE_FORMAT_VERSION, blocks: blocks.to_vec() }).map_err(abort)?;
    meta.insert(K_CASE_BLOCKS, bytes)?;
    Ok(())
}

impl CaseNumberStore for SledClientStore {
    fn case_blocks(&self, owner: Uuid) -> StoreResult<Vec<HeldCaseBlock>> {
        let all = match self.meta.get(K_CASE_BLOCKS).map_err(backend)? {
            Some(v) => dec::<BlocksValue>("case blocks", &v)?.blocks,
            None => Vec::new(),
        };
        Ok(cases::of_owner(&all, owner))
    }

    fn add_case_block(&self, block: &HeldCaseBlock) -> StoreResult<bool> {
        let _w = self.write();
        let added = self
            .meta
            .transaction(|meta| {
                let mut blocks = tx_blocks(meta)?;
                if !cases::add(&mut blocks, block) {
                    return Ok(false);
                }
                tx_save_blocks(meta, &blocks)?;
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
        let rec = enc(&RecordValue {
            fv: STORE_FORMAT_VERSION,
            record: record.clone(),
            state: RecordState::Pending { op_id: op.op_id, author: op.author },
        })?;
        let out = enc(&OutboxValue { fv: STORE_FORMAT_VERSION, op: op.clone(), enqueued_at: at })?;
        let rkey = record_key(record.kind(), record.id());
        let op_key = *op.op_id.as_bytes();
        let _w = self.write();
        self.journal.log_op(op, record, None, at)?;
        let seq = (&self.outbox, &self.outbox_ids, &self.quarantine, &self.records, &self.meta)
            .transaction(|(outbox, ids, quarantine, records, meta)| {
                if ids.get(op_key)?.is_some() || quarantine.get(op_key)?.is_some() {
                    return Err(abort(StoreError::DuplicateOp(op.op_id)));
                }
                let mut blocks = tx_blocks(meta)?;
                if !cases::take(&mut blocks, claim) {
                    return Ok(None);
                }
                tx_save_blocks(meta, &blocks)?;
                let seq = meta.get(K_NEXT_SEQ)?.and_then(|v| seq_from(&v)).unwrap_or(1).max(1);
                meta.insert(K_NEXT_SEQ, &seq_bytes(seq + 1))?;
                records.insert(&rkey, rec.as_slice())?;
                outbox.insert(&seq_bytes(seq), out.as_slice())?;
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
        crate::store::conformance_cases::survives_reopen(|| Box::new(SledClientStore::open(dir.path()).expect("open")));
    }
}
