//! The in-memory backend: the same semantics as sled, nothing on disk. For tests,
//! previews and the conformance suite's reference.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::{ChangeAction, OpEnvelope};
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

mod cases;

use super::{
    change_key, op_photo, op_record_key, record_key, ClientStore, LocalRecord, OutboxEntry, PhotoUpload, PullState,
    PulledPage, QuarantineReason, QuarantinedEntry, RecordState, StoreError, StoreResult, StoredSession, SyncMeta,
    UploadState, Vault, WipeCounts, WipeScope,
};

#[derive(Default)]
struct Inner {
    session: Option<StoredSession>,
    device_id: Option<Uuid>,
    records: BTreeMap<[u8; 17], LocalRecord>,
    outbox: BTreeMap<u64, OutboxEntry>,
    outbox_ids: HashMap<Uuid, u64>,
    /// Ops the server took, by their sequence (see [`ClientStore::requeue_sent`]).
    sent: BTreeMap<u64, OutboxEntry>,
    quarantine: HashMap<Uuid, QuarantinedEntry>,
    next_seq: u64,
    pull: Option<PullState>,
    meta: SyncMeta,
    uploads: HashMap<String, PhotoUpload>,
    case_blocks: Vec<super::HeldCaseBlock>,
    local: HashMap<String, Vec<u8>>,
}

impl Inner {
    fn drop_synced(&mut self) {
        self.records.retain(|_, r| r.state.is_pending());
    }
}

/// A [`ClientStore`] held in memory (lost when dropped).
#[derive(Default)]
pub struct MemoryClientStore {
    inner: Mutex<Inner>,
}

impl MemoryClientStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn enqueue_inner(
        &self,
        record: &Record,
        op: &OpEnvelope,
        upload: Option<&PhotoUpload>,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let mut g = self.lock();
        if g.outbox_ids.contains_key(&op.op_id) || g.quarantine.contains_key(&op.op_id) {
            return Err(StoreError::DuplicateOp(op.op_id));
        }
        let seq = g.next_seq.max(1);
        g.next_seq = seq + 1;
        if let Some(up) = upload {
            match g.uploads.get_mut(&up.sha256) {
                Some(cur) => cur.merge_new_attach(up),
                None => {
                    g.uploads.insert(up.sha256.clone(), PhotoUpload { seq, confirmed: false, ..up.clone() });
                }
            }
        }
        let state = RecordState::Pending { op_id: op.op_id, author: op.author };
        g.records.insert(record_key(record.kind(), record.id()), LocalRecord { record: record.clone(), state });
        g.outbox.insert(seq, OutboxEntry { seq, op: op.clone(), enqueued_at: at });
        g.outbox_ids.insert(op.op_id, seq);
        Ok(seq)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied write: every
        // write below mutates only after all checks passed.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ClientStore for MemoryClientStore {
    fn load_session(&self) -> StoreResult<Option<StoredSession>> {
        Ok(self.lock().session.clone())
    }

    fn save_session(&self, session: &StoredSession) -> StoreResult<()> {
        self.lock().session = Some(session.clone());
        Ok(())
    }

    fn clear_session(&self) -> StoreResult<()> {
        self.lock().session = None;
        Ok(())
    }

    fn device_id(&self) -> StoreResult<Uuid> {
        let mut g = self.lock();
        Ok(*g.device_id.get_or_insert_with(fengqiao_domain::new_id))
    }

    fn enqueue(&self, record: &Record, op: &OpEnvelope, at: DateTime<Utc>) -> StoreResult<u64> {
        self.enqueue_inner(record, op, None, at)
    }

    fn enqueue_photo(
        &self,
        record: &Record,
        op: &OpEnvelope,
        upload: &PhotoUpload,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.enqueue_inner(record, op, Some(upload), at)
    }

    fn photo_upload(&self, sha256: &str) -> StoreResult<Option<PhotoUpload>> {
        Ok(self.lock().uploads.get(sha256).cloned())
    }

    fn photo_uploads(&self) -> StoreResult<Vec<PhotoUpload>> {
        let mut v: Vec<PhotoUpload> = self.lock().uploads.values().cloned().collect();
        v.sort_by(|a, b| (a.seq, &a.sha256).cmp(&(b.seq, &b.sha256)));
        Ok(v)
    }

    fn save_photo_upload(&self, upload: &PhotoUpload) -> StoreResult<bool> {
        let mut g = self.lock();
        let Some(cur) = g.uploads.get_mut(&upload.sha256) else { return Ok(false) };
        let (seq, confirmed) = (cur.seq, cur.confirmed);
        *cur = PhotoUpload { seq, confirmed, ..upload.clone() };
        Ok(true)
    }

    fn get_record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<LocalRecord>> {
        Ok(self.lock().records.get(&record_key(kind, id)).cloned())
    }

    fn list_records(&self, kind: EntityKind, limit: usize) -> StoreResult<Vec<LocalRecord>> {
        let g = self.lock();
        let lo = record_key(kind, Uuid::nil());
        let hi = record_key(kind, Uuid::max());
        Ok(g.records.range(lo..=hi).rev().take(limit).map(|(_, r)| r.clone()).collect())
    }

    fn outbox(&self, author: Option<Uuid>, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        let g = self.lock();
        Ok(g.outbox.values().filter(|e| author.is_none_or(|a| e.op.author == a)).take(limit).cloned().collect())
    }

    fn outbox_after(&self, author: Option<Uuid>, after: u64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        let g = self.lock();
        Ok(g.outbox
            .range(after.saturating_add(1)..)
            .map(|(_, e)| e)
            .filter(|e| author.is_none_or(|a| e.op.author == a))
            .take(limit)
            .cloned()
            .collect())
    }

    fn outbox_len(&self, author: Option<Uuid>) -> StoreResult<u64> {
        let g = self.lock();
        Ok(g.outbox.values().filter(|e| author.is_none_or(|a| e.op.author == a)).count() as u64)
    }

    fn complete_op(&self, op_id: Uuid) -> StoreResult<bool> {
        let mut g = self.lock();
        let Some(seq) = g.outbox_ids.remove(&op_id) else { return Ok(false) };
        let entry = g.outbox.remove(&seq);
        if let Some(e) = &entry {
            g.sent.insert(seq, e.clone());
        }
        if let Some(sha) = entry.as_ref().and_then(|e| op_photo(&e.op)) {
            if let Some(up) = g.uploads.get_mut(sha) {
                up.confirmed = true;
            }
        }
        if let Some(key) = entry.as_ref().and_then(|e| op_record_key(&e.op)) {
            if let Some(r) = g.records.get_mut(&key) {
                if matches!(r.state, RecordState::Pending { op_id: o, .. } if o == op_id) {
                    r.state = RecordState::Synced;
                }
            }
        }
        Ok(true)
    }

    fn complete_ops(&self, op_ids: &[Uuid]) -> StoreResult<u64> {
        let mut done = 0;
        for id in op_ids {
            done += u64::from(self.complete_op(*id)?);
        }
        Ok(done)
    }

    fn tidy(&self) {
        let mut g = self.lock();
        while g.sent.len() > super::SENT_KEPT {
            g.sent.pop_first();
        }
    }

    fn requeue_sent(&self, author: Uuid) -> StoreResult<u64> {
        let mut g = self.lock();
        let seqs: Vec<u64> = g.sent.values().filter(|e| e.op.author == author).map(|e| e.seq).collect();
        let mut n = 0;
        for seq in seqs {
            let Some(e) = g.sent.remove(&seq) else { continue };
            let id = e.op.op_id;
            if g.outbox_ids.contains_key(&id) || g.quarantine.contains_key(&id) {
                continue;
            }
            if let Some(sha) = op_photo(&e.op) {
                if let Some(up) = g.uploads.get_mut(sha) {
                    up.confirmed = false;
                    up.state = UploadState::Pending;
                    up.upload_url = None;
                    up.attempts = 0;
                    up.done_at = None;
                }
            }
            if let Some(key) = op_record_key(&e.op) {
                if let Some(r) = g.records.get_mut(&key) {
                    if r.state == RecordState::Synced {
                        r.state = RecordState::Pending { op_id: id, author: e.op.author };
                    }
                }
            }
            g.outbox_ids.insert(id, seq);
            g.outbox.insert(seq, e);
            n += 1;
        }
        Ok(n)
    }

    fn sent_len(&self) -> StoreResult<u64> {
        Ok(self.lock().sent.len() as u64)
    }

    fn quarantine_op(&self, op_id: Uuid, reason: &QuarantineReason, at: DateTime<Utc>) -> StoreResult<bool> {
        let mut g = self.lock();
        let Some(seq) = g.outbox_ids.remove(&op_id) else { return Ok(false) };
        let Some(entry) = g.outbox.remove(&seq) else { return Ok(false) };
        g.quarantine.insert(
            op_id,
            QuarantinedEntry {
                seq,
                op: entry.op,
                code: reason.code.clone(),
                message: reason.message.clone(),
                current: reason.current.clone(),
                quarantined_at: at,
            },
        );
        Ok(true)
    }

    fn quarantined(&self) -> StoreResult<Vec<QuarantinedEntry>> {
        let g = self.lock();
        let mut v: Vec<_> = g.quarantine.values().cloned().collect();
        v.sort_by_key(|q| q.seq);
        Ok(v)
    }

    fn requeue_quarantined(&self, op_id: Uuid) -> StoreResult<bool> {
        let mut g = self.lock();
        let Some(q) = g.quarantine.remove(&op_id) else { return Ok(false) };
        g.outbox_ids.insert(op_id, q.seq);
        g.outbox.insert(q.seq, OutboxEntry { seq: q.seq, op: q.op, enqueued_at: q.quarantined_at });
        Ok(true)
    }

    fn discard_quarantined(&self, op_id: Uuid) -> StoreResult<bool> {
        let mut g = self.lock();
        let Some(q) = g.quarantine.remove(&op_id) else { return Ok(false) };
        if let Some(sha) = op_photo(&q.op) {
            if g.uploads.get(sha).is_some_and(|u| !u.confirmed) {
                g.uploads.remove(sha);
            }
        }
        if let Some(key) = op_record_key(&q.op) {
            let carried = g
                .records
                .get(&key)
                .is_some_and(|r| matches!(r.state, RecordState::Pending { op_id: o, .. } if o == op_id));
            if carried {
                g.records.remove(&key);
            }
        }
        // The conflict's record as it stood then fills a gap only: a copy
        // held now (pulled since, or another op's) is newer.
        if let Some(cur) = q.current {
            g.records
                .entry(record_key(cur.kind(), cur.id()))
                .or_insert(LocalRecord { record: cur, state: RecordState::Synced });
        }
        Ok(true)
    }

    fn pull_state(&self) -> StoreResult<Option<PullState>> {
        Ok(self.lock().pull.clone())
    }

    fn apply_pulled(&self, user: Uuid, page: &PulledPage) -> StoreResult<()> {
        let mut g = self.lock();
        if page.reset {
            g.drop_synced();
        }
        for change in &page.changes {
            let key = change_key(change);
            match (change.action, &change.record) {
                (ChangeAction::Put, Some(record)) => {
                    g.records.insert(key, LocalRecord { record: record.clone(), state: RecordState::Synced });
                }
                (ChangeAction::Put, None) => {}
                (ChangeAction::Drop, _) => {
                    g.records.remove(&key);
                }
            }
        }
        g.pull = Some(PullState::after(g.pull.as_ref(), user, page));
        Ok(())
    }

    fn reset_pulled(&self) -> StoreResult<()> {
        let mut g = self.lock();
        g.drop_synced();
        g.pull = None;
        Ok(())
    }

    fn sync_meta(&self) -> StoreResult<SyncMeta> {
        Ok(self.lock().meta.clone())
    }

    fn save_sync_meta(&self, meta: &SyncMeta) -> StoreResult<()> {
        self.lock().meta = meta.clone();
        Ok(())
    }

    fn local_value(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.lock().local.get(name).cloned())
    }

    fn save_local_value(&self, name: &str, value: Option<&[u8]>) -> StoreResult<()> {
        let mut g = self.lock();
        match value {
            Some(v) => g.local.insert(name.to_string(), v.to_vec()),
            None => g.local.remove(name),
        };
        Ok(())
    }

    fn wipe(&self, scope: WipeScope) -> StoreResult<WipeCounts> {
        let mut g = self.lock();
        let user = match scope {
            WipeScope::All => {
                let counts = WipeCounts {
                    ops: g.outbox.len() as u64,
                    quarantined: g.quarantine.len() as u64,
                    photos: g.uploads.values().filter(|u| u.state != UploadState::Done).count() as u64,
                    records: g.records.len() as u64,
                };
                let next_seq = g.next_seq;
                *g = Inner { next_seq, ..Inner::default() };
                return Ok(counts);
            }
            WipeScope::User(u) => u,
        };
        let mut counts = WipeCounts::default();
        let mut photos = Vec::new();
        let ops: Vec<u64> = g.outbox.values().filter(|e| e.op.author == user).map(|e| e.seq).collect();
        for seq in ops {
            if let Some(e) = g.outbox.remove(&seq) {
                g.outbox_ids.remove(&e.op.op_id);
                photos.extend(op_photo(&e.op).map(str::to_string));
                counts.ops += 1;
            }
        }
        g.sent.retain(|_, e| e.op.author != user);
        let quarantined: Vec<Uuid> =
            g.quarantine.values().filter(|q| q.op.author == user).map(|q| q.op.op_id).collect();
        for id in quarantined {
            if let Some(q) = g.quarantine.remove(&id) {
                photos.extend(op_photo(&q.op).map(str::to_string));
                counts.quarantined += 1;
            }
        }
        for sha in photos {
            if g.uploads.get(&sha).is_some_and(|u| !u.confirmed) && g.uploads.remove(&sha).is_some() {
                counts.photos += 1;
            }
        }
        let pulled_theirs = g.pull.as_ref().is_some_and(|p| p.user == user);
        let before = g.records.len();
        g.records.retain(|_, r| match r.state {
            RecordState::Pending { author, .. } => author != user,
            RecordState::Synced => !pulled_theirs,
        });
        counts.records = (before - g.records.len()) as u64;
        if pulled_theirs {
            g.pull = None;
        }
        if g.session.as_ref().is_some_and(|s| s.user.id == user) {
            g.session = None;
        }
        g.case_blocks.retain(|b| b.owner != user);
        Ok(counts)
    }

    fn disk_bytes(&self) -> u64 {
        0
    }

    fn vault(&self) -> Option<std::sync::Arc<Vault>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::conformance_tests!(((), MemoryClientStore::new()));
}
