//! Queueing an op durably: the journal line is the commit point, the sled
//! transaction is applied in memory while the line's sync is in flight
//! (ADR 0015, 0016).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpEnvelope;
use fengqiao_domain::Record;
use sled::{Transactional, Tree};
use uuid::Uuid;

use super::super::vault::Vault;
use super::super::{record_key, PhotoUpload, StoreError, StoreResult, STORE_FORMAT_VERSION};
use super::journal::JournalledOp;
use super::{
    abort, backend, seal_in, seq_bytes, seq_from, tx_err, unseal_in, OutboxValue, RecordValue, SledClientStore,
    TxResult, Versioned, K_GEN, K_NEXT_SEQ, T_OUTBOX, T_RECORDS, T_UPLOADS,
};

/// An enqueue's sled transaction with everything it needs, owned: it runs on
/// the store's helper thread while the caller syncs the journal.
struct EnqueueTx {
    trees: [Tree; 6],
    vault: Arc<Vault>,
    record: Record,
    op: OpEnvelope,
    upload: Option<PhotoUpload>,
    at: DateTime<Utc>,
    gen: u64,
    rkey: [u8; 25],
    op_key: [u8; 16],
    pkey: Option<[u8; 16]>,
}

impl EnqueueTx {
    fn seal<T: serde::Serialize>(&self, tree: &str, key: &[u8], v: &T) -> TxResult<Vec<u8>> {
        seal_in(&self.vault, tree, key, v).map_err(abort)
    }

    /// Applies the transaction (in sled's memory; sled writes it lazily).
    fn apply(&self) -> StoreResult<u64> {
        let Self { op, record, upload, at, gen, rkey, op_key, pkey, .. } = self;
        let rec = seal_in(&self.vault, T_RECORDS, rkey, &RecordValue::pending(record, op))?;
        let [o, i, q, r, m, u] = &self.trees;
        (o, i, q, r, m, u)
            .transaction(|(outbox, ids, quarantine, records, meta, uploads)| {
                if ids.get(op_key)?.is_some() || quarantine.get(op_key)?.is_some() {
                    return Err(abort(StoreError::DuplicateOp(op.op_id)));
                }
                let seq = meta.get(K_NEXT_SEQ)?.and_then(|v| seq_from(&v)).unwrap_or(1).max(1);
                meta.insert(K_NEXT_SEQ, &seq_bytes(seq + 1))?;
                meta.insert(K_GEN, &seq_bytes(*gen))?;
                if let (Some(up), Some(key)) = (upload, pkey.as_ref()) {
                    let next = match uploads.get(key)? {
                        Some(v) => {
                            let mut cur: Versioned<PhotoUpload> =
                                unseal_in(&self.vault, "upload", T_UPLOADS, key, &v).map_err(abort)?;
                            cur.value.merge_new_attach(up);
                            cur.value
                        }
                        None => PhotoUpload { seq, confirmed: false, ..up.clone() },
                    };
                    uploads.insert(
                        key,
                        self.seal(T_UPLOADS, key, &Versioned { fv: STORE_FORMAT_VERSION, value: next })?,
                    )?;
                }
                let out = self.seal(
                    T_OUTBOX,
                    &seq_bytes(seq),
                    &OutboxValue { fv: STORE_FORMAT_VERSION, op: op.clone(), enqueued_at: *at },
                )?;
                records.insert(rkey, rec.as_slice())?;
                outbox.insert(&seq_bytes(seq), out)?;
                ids.insert(op_key, &seq_bytes(seq))?;
                Ok(seq)
            })
            .map_err(tx_err)
    }
}

impl SledClientStore {
    /// Queues an op with its record (and photo). The journal line, synced,
    /// is the commit point; the sled transaction is applied in memory on the
    /// helper thread while that sync runs, and sled writes it within its
    /// 500 ms flush (a crash before that is repaired at the next open from the
    /// journal, see [`super::integrity`]). One fsync per visit. A failed sync
    /// poisons the store until it is reopened (ADR 0016).
    pub(super) fn enqueue_inner(
        &self,
        record: &Record,
        op: &OpEnvelope,
        upload: Option<&PhotoUpload>,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let rkey = self.rk(&record_key(record.kind(), record.id()));
        let op_key = self.ok(op.op_id);
        let pkey = upload.map(|u| self.pk(&u.sha256));
        let _w = self.write()?;
        // One writer: checked here, nothing can queue it in between.
        if self.outbox_ids.contains_key(op_key).map_err(backend)?
            || self.quarantine.contains_key(op_key).map_err(backend)?
        {
            return Err(StoreError::DuplicateOp(op.op_id));
        }
        let gen = self.next_gen();
        // Written, not yet synced; a failure here leaves nothing applied.
        self.journal.write_op(op, record, upload, at, gen)?;
        let tx = EnqueueTx {
            trees: [
                self.outbox.clone(),
                self.outbox_ids.clone(),
                self.quarantine.clone(),
                self.records.clone(),
                self.meta.clone(),
                self.uploads.clone(),
            ],
            vault: self.vault.clone(),
            record: record.clone(),
            op: op.clone(),
            upload: upload.cloned(),
            at,
            gen,
            rkey,
            op_key,
            pkey,
        };
        let applied = self.worker.run(move || tx.apply());
        let synced = self.journal.sync();
        let applied =
            applied.wait().unwrap_or_else(|| Err(StoreError::Backend("the store's helper thread failed".into())));
        if let Err(e) = synced {
            // The line may or may not be on disk and the transaction may be in
            // sled's memory: until a reopen sorts it out from what is on disk,
            // the store would serve what it cannot vouch for.
            self.poison(&e);
            return Err(e);
        }
        let seq = self.journalled(op.op_id, applied)?;
        *self.gen.lock().unwrap_or_else(|e| e.into_inner()) = gen;
        Ok(seq)
    }

    /// Queues journalled ops again (those already queued are skipped);
    /// returns how many were queued. Callers flush.
    pub(super) fn replay(&self, ops: Vec<JournalledOp>) -> StoreResult<u64> {
        use super::super::ClientStore;
        let mut replayed = 0;
        for o in ops {
            let res = match &o.upload {
                Some(up) => self.enqueue_photo(&o.record, &o.op, up, o.at),
                None => self.enqueue(&o.record, &o.op, o.at),
            };
            match res {
                Ok(_) => replayed += 1,
                Err(StoreError::DuplicateOp(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(replayed)
    }

    /// Queues again the ops the journal acknowledged but sled lost in a crash
    /// (journalled with a generation above the one sled holds).
    pub(super) fn replay_lost(&self, held: u64) -> StoreResult<u64> {
        let replayed = self.replay(self.journal.lost_since(held)?)?;
        if replayed > 0 {
            self.flush()?;
            tracing::info!(replayed, "queued again the ops sled lost in a crash (from the outbox journal)");
        }
        Ok(replayed)
    }

    /// Notes in the journal an op whose enqueue did not happen.
    pub(super) fn journalled<T>(&self, op_id: Uuid, res: StoreResult<T>) -> StoreResult<T> {
        // A duplicate's first copy stays queued (and journalled): no cancel.
        if matches!(&res, Err(e) if !matches!(e, StoreError::DuplicateOp(_))) {
            self.journal.log_cancel(op_id);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::integrity::tests::{outbox_ids, queue, reopen, visit_op};
    use super::super::journal::{read_journal, JOURNAL_FILE};
    use super::*;
    use crate::store::{ClientStore, EntityKind};

    /// A journal sync that fails after the transaction went into sled's
    /// memory: the enqueue answers the error, the store then refuses reads
    /// and writes (it cannot vouch for what it holds) until reopened, and the
    /// reopened store holds the op at most once and works again.
    #[test]
    fn a_failed_journal_sync_poisons_the_store_until_reopened() {
        let dir = tempfile::tempdir().expect("dir");
        let (kept, failed) = {
            let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
            let kept = queue(&s, 2);
            let (r, op) = visit_op(Uuid::from_u128(7));
            s.journal.fail_next_sync.store(true, std::sync::atomic::Ordering::SeqCst);
            let err = s.enqueue(&r, &op, Utc::now()).expect_err("the sync failed");
            assert!(matches!(err, StoreError::Backend(ref m) if m.contains("injected")), "{err:?}");
            // poisoned: reads and writes alike, until reopened
            assert!(matches!(s.outbox(None, 10), Err(StoreError::Backend(m)) if m.contains("reopened")));
            assert!(s.get_record(EntityKind::Visit, r.id()).is_err());
            let (r2, op2) = visit_op(Uuid::from_u128(7));
            assert!(s.enqueue(&r2, &op2, Utc::now()).is_err());
            assert!(s.save_sync_meta(&crate::store::SyncMeta::default()).is_err());
            (kept, op.op_id)
        };
        let s = reopen(dir.path()).expect("a reopened store works");
        let ids = outbox_ids(&s);
        assert_eq!(&ids[..2], &kept[..]);
        assert!(ids.len() <= 3 && ids[2..].iter().all(|id| *id == failed), "the failed op at most once: {ids:?}");
        let more = queue(&s, 1);
        assert_eq!(outbox_ids(&s).last(), more.last());
    }

    /// sled may write an enqueue's transaction before its journal line is on
    /// disk (its flusher runs on its own clock). A crash then leaves sled
    /// ahead of the journal: the op is there once, nothing is replayed, and
    /// later writes and reopens stay consistent.
    #[test]
    fn sled_ahead_of_the_journal_after_a_crash_is_consistent() {
        let dir = tempfile::tempdir().expect("dir");
        let ids = {
            let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
            let ids = queue(&s, 3);
            s.db.flush().expect("sled wrote it");
            // as if the last line had not reached the disk
            let path = dir.path().join(JOURNAL_FILE);
            let bytes = fs::read(&path).expect("journal");
            let end = read_journal(&path, &s.vault()).expect("read").end as usize;
            let last = bytes[..end - 1].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let mut cut = bytes.clone();
            cut[last..].iter_mut().for_each(|b| *b = 0);
            fs::write(&path, cut).expect("cut");
            ids
        };
        let s = reopen(dir.path()).expect("reopen");
        assert_eq!(outbox_ids(&s), ids, "held once, not replayed");
        let more = queue(&s, 2);
        drop(s);
        let s = reopen(dir.path()).expect("reopen again");
        assert_eq!(outbox_ids(&s), [ids, more].concat());
    }
}
