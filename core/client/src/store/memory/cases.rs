//! The in-memory backend's case-number blocks (same semantics as sled): the
//! claim and the enqueue happen under one lock.

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpEnvelope;
use fengqiao_domain::Record;
use uuid::Uuid;

use super::super::cases::{self, CaseClaim, CaseNumberStore, HeldCaseBlock};
use super::super::{record_key, LocalRecord, OutboxEntry, RecordState, StoreError, StoreResult};
use super::MemoryClientStore;

impl CaseNumberStore for MemoryClientStore {
    fn case_blocks(&self, owner: Uuid) -> StoreResult<Vec<HeldCaseBlock>> {
        Ok(cases::of_owner(&self.lock().case_blocks, owner))
    }

    fn add_case_block(&self, block: &HeldCaseBlock) -> StoreResult<bool> {
        Ok(cases::add(&mut self.lock().case_blocks, block))
    }

    fn enqueue_claiming(
        &self,
        record: &Record,
        op: &OpEnvelope,
        claim: &CaseClaim,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<u64>> {
        let mut g = self.lock();
        if g.outbox_ids.contains_key(&op.op_id) || g.quarantine.contains_key(&op.op_id) {
            return Err(StoreError::DuplicateOp(op.op_id));
        }
        if !cases::take(&mut g.case_blocks, claim) {
            return Ok(None);
        }
        let seq = g.next_seq.max(1);
        g.next_seq = seq + 1;
        let state = RecordState::Pending { op_id: op.op_id, author: op.author };
        g.records.insert(record_key(record.kind(), record.id()), LocalRecord { record: record.clone(), state });
        g.outbox.insert(seq, OutboxEntry { seq, op: op.clone(), enqueued_at: at });
        g.outbox_ids.insert(op.op_id, seq);
        Ok(Some(seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::case_number_conformance_tests!(((), MemoryClientStore::new()));
}
