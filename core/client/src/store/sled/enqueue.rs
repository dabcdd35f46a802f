//! Queueing an op durably: the journal line is the commit point; the op's
//! sled writes are applied while the line's sync is in flight (ADR 0015,
//! 0016), as plain inserts in a fixed order rather than a transaction
//! (ADR 0017), which the next open completes if a crash cut them short.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpEnvelope;
use fengqiao_domain::Record;
use sled::Tree;
use uuid::Uuid;

use super::super::vault::Vault;
use super::super::{record_key, PhotoUpload, StoreError, StoreResult, STORE_FORMAT_VERSION};
use super::journal::JournalledOp;
use super::{
    backend, seal_in, seq_bytes, seq_from, unseal_in, OutboxValue, RecordValue, SledClientStore, Versioned, K_GEN,
    K_NEXT_SEQ, T_OUTBOX, T_RECORDS, T_UPLOADS,
};

/// An enqueue's sled writes with everything they need, owned: they run on
/// the store's helper thread while the caller syncs the journal.
///
/// No sled transaction: sled 0.34 writes out its log buffer twice for every
/// transaction (`pin_log`), and those writes queued on the disk beside the
/// journal's sync were most of a visit's cost beyond the sync (ADR 0017).
/// Plain inserts only reach sled's log buffer, which sled writes within its
/// flush interval. sled recovers a prefix of its log after a crash, so the
/// order of the inserts below decides what a cut-short enqueue can leave:
///
/// 1. the next sequence (a gap in sequences is harmless),
/// 2. the photo upload, 3. the record (both overwritten alike by a replay),
/// 4. the outbox entry, 5. its op id (an entry without its id is adopted at
///    open: everything it needs was written before it, see
///    [`SledClientStore::adopt_cut_enqueue`]),
/// 6. the write generation (an op whose generation sled does not hold is
///    queued again from the journal at open, unless its id is already there).
struct EnqueueWrite {
    trees: [Tree; 5],
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

/// How many inserts an [`EnqueueWrite`] makes (with a photo upload).
#[cfg(test)]
const ENQUEUE_STEPS: usize = 6;

impl EnqueueWrite {
    /// Applies the writes (in sled's memory; sled writes them lazily).
    fn apply(&self) -> StoreResult<u64> {
        self.apply_first(usize::MAX).map(|seq| seq.unwrap_or(0))
    }

    /// Applies the first `steps` inserts (all of them with `usize::MAX`);
    /// the sequence taken once all were made. Fewer is a crash in between,
    /// for tests.
    fn apply_first(&self, steps: usize) -> StoreResult<Option<u64>> {
        let Self { op, record, upload, at, gen, rkey, op_key, pkey, .. } = self;
        // Not queued yet: `enqueue_inner` checked that under the writer lock,
        // which it holds until these writes are done.
        let [outbox, ids, records, meta, uploads] = &self.trees;
        let rec = seal_in(&self.vault, T_RECORDS, rkey, &RecordValue::pending(record, op))?;
        let seq = meta.get(K_NEXT_SEQ).map_err(backend)?.and_then(|v| seq_from(&v)).unwrap_or(1).max(1);
        let out = seal_in(
            &self.vault,
            T_OUTBOX,
            &seq_bytes(seq),
            &OutboxValue { fv: STORE_FORMAT_VERSION, op: op.clone(), enqueued_at: *at },
        )?;
        let mut left = steps;
        let mut step = || {
            let go = left > 0;
            left = left.saturating_sub(1);
            go
        };
        if !step() {
            return Ok(None);
        }
        meta.insert(K_NEXT_SEQ, &seq_bytes(seq + 1)).map_err(backend)?;
        if let (Some(up), Some(key)) = (upload, pkey.as_ref()) {
            if !step() {
                return Ok(None);
            }
            let next = match uploads.get(key).map_err(backend)? {
                Some(v) => {
                    let mut cur: Versioned<PhotoUpload> = unseal_in(&self.vault, "upload", T_UPLOADS, key, &v)?;
                    cur.value.merge_new_attach(up);
                    cur.value
                }
                None => PhotoUpload { seq, confirmed: false, ..up.clone() },
            };
            let sealed = seal_in(&self.vault, T_UPLOADS, key, &Versioned { fv: STORE_FORMAT_VERSION, value: next })?;
            uploads.insert(key, sealed).map_err(backend)?;
        }
        for (tree, key, value) in [
            (records, &rkey[..], rec.as_slice()),
            (outbox, &seq_bytes(seq)[..], out.as_slice()),
            (ids, &op_key[..], &seq_bytes(seq)[..]),
            (meta, K_GEN, &seq_bytes(*gen)[..]),
        ] {
            if !step() {
                return Ok(None);
            }
            tree.insert(key, value).map_err(backend)?;
        }
        Ok(Some(seq))
    }
}

impl SledClientStore {
    /// Queues an op with its record (and photo). The journal line, synced,
    /// is the commit point; the sled writes ([`EnqueueWrite`]) are applied in
    /// memory on the helper thread while that sync runs, and sled writes them
    /// within its 500 ms flush (a crash before that is repaired at the next
    /// open from the journal, see [`super::integrity`]). One fsync per visit,
    /// and no other disk write on its way. A failed sync poisons the store
    /// until it is reopened (ADR 0016).
    pub(super) fn enqueue_inner(
        &self,
        record: &Record,
        op: &OpEnvelope,
        upload: Option<&PhotoUpload>,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let op_key = self.ok(op.op_id);
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
        let write = self.enqueue_write(record, op, upload, at, gen);
        let applied = self.worker.run(move || write.apply());
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

    /// The sled writes of an enqueue, ready to run on the helper thread.
    fn enqueue_write(
        &self,
        record: &Record,
        op: &OpEnvelope,
        upload: Option<&PhotoUpload>,
        at: DateTime<Utc>,
        gen: u64,
    ) -> EnqueueWrite {
        EnqueueWrite {
            trees: [
                self.outbox.clone(),
                self.outbox_ids.clone(),
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
            rkey: self.rk(&record_key(record.kind(), record.id())),
            op_key: self.ok(op.op_id),
            pkey: upload.map(|u| self.pk(&u.sha256)),
        }
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
        let adopted = self.adopt_cut_enqueue()?;
        let replayed = self.replay(self.journal.lost_since(held)?)?;
        if adopted || replayed > 0 {
            self.flush()?;
        }
        if replayed > 0 {
            tracing::info!(replayed, "queued again the ops sled lost in a crash (from the outbox journal)");
        }
        Ok(replayed)
    }

    /// Completes an enqueue a crash cut short between its outbox entry and
    /// its op id: only the newest outbox entry can be one (an enqueue writes
    /// the entry, then the id, and sled recovers a prefix of its writes).
    /// Its record and photo were written before it, so it is kept, and its id
    /// written; a replay from the journal then finds it queued. True if one
    /// was adopted (callers flush).
    ///
    /// The newest entry is found by a forward scan from the sequence the
    /// store handed out last (an enqueue writes the next sequence before its
    /// entry), never backwards: a reverse scan (sled's `Tree::last` and even
    /// its `Iter::last`, which is `next_back`) links sled's 1 MiB upper-bound
    /// key into the phone library (docs/BENCHMARKS.md, "Native library size").
    pub(super) fn adopt_cut_enqueue(&self) -> StoreResult<bool> {
        let next = self.meta.get(K_NEXT_SEQ).map_err(backend)?.and_then(|v| seq_from(&v)).unwrap_or(0);
        let mut newest = None;
        for item in self.outbox.range(seq_bytes(next.saturating_sub(1))..) {
            newest = Some(item.map_err(backend)?);
        }
        let Some((k, v)) = newest else { return Ok(false) };
        let Some(seq) = seq_from(&k) else { return Ok(false) };
        let entry = match self.unseal::<OutboxValue>("outbox", T_OUTBOX, &k, &v) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(seq, error = %e, "newest outbox entry unreadable; not checked at open");
                return Ok(false);
            }
        };
        let key = self.ok(entry.op.op_id);
        if self.outbox_ids.contains_key(key).map_err(backend)? {
            return Ok(false);
        }
        self.outbox_ids.insert(key, &seq_bytes(seq)).map_err(backend)?;
        tracing::info!(seq, "completed an enqueue a crash had cut short");
        Ok(true)
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
    use crate::store::{ClientStore, EntityKind, PhotoUpload};

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

    /// A crash may cut an enqueue's sled writes short after any of them
    /// (sled recovers a prefix of its log). Whatever prefix is on disk, the
    /// next open holds the op queued exactly once, after the earlier ones,
    /// with its record pending and its photo queued; later opens and writes
    /// stay consistent.
    #[test]
    fn an_enqueue_cut_short_after_any_write_is_completed_at_open() {
        for steps in 0..=ENQUEUE_STEPS {
            let dir = tempfile::tempdir().expect("dir");
            let (kept, record, op, sha) = {
                let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
                let kept = queue(&s, 2);
                let (record, op) = visit_op(Uuid::from_u128(7));
                let sha = format!("{steps:02}").repeat(32);
                let up = PhotoUpload::new(sha.clone(), 10, "image/jpeg".into(), Utc::now());
                let gen = s.next_gen();
                // the journal line synced, then the crash after `steps` writes
                s.journal.log_op(&op, &record, Some(&up), Utc::now(), gen).expect("journal");
                let done = s.enqueue_write(&record, &op, Some(&up), Utc::now(), gen).apply_first(steps).expect("apply");
                assert_eq!(done.is_some(), steps == ENQUEUE_STEPS);
                s.db.flush().expect("sled wrote what it had");
                (kept, record, op, sha)
            };
            for round in 0..2 {
                let s = reopen(dir.path()).expect("reopen");
                let ids = outbox_ids(&s);
                assert_eq!(ids, [kept.clone(), vec![op.op_id]].concat(), "cut after {steps} (open {round})");
                let r = s.get_record(EntityKind::Visit, record.id()).expect("read").expect("record kept");
                assert!(r.state.is_pending(), "cut after {steps}");
                assert!(s.photo_uploads().expect("uploads").iter().any(|u| u.sha256 == sha), "cut after {steps}");
                assert!(matches!(s.enqueue(&record, &op, Utc::now()), Err(StoreError::DuplicateOp(_))));
            }
            let s = reopen(dir.path()).expect("reopen");
            let more = queue(&s, 1);
            assert_eq!(s.complete_ops(&[op.op_id]).expect("complete"), 1, "cut after {steps}: its id leads to it");
            drop(s);
            let s = reopen(dir.path()).expect("reopen");
            assert_eq!(outbox_ids(&s), [kept, more].concat(), "cut after {steps}");
        }
    }

    /// sled may write an enqueue's writes before its journal line is on
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
