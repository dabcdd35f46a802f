//! Wiping the sled store: one user's data, or everything.

use sled::Transactional;
use uuid::Uuid;

use super::super::{op_photo, RecordState, StoreResult, WipeCounts, WipeScope};
use super::{
    backend, tx_err, OutboxValue, PhotoUpload, PullState, QuarantineValue, RecordValue, SledClientStore, Versioned,
    K_FORMAT, K_GEN, K_NEXT_SEQ, K_PULL, K_SESSION, T_OUTBOX, T_QUARANTINE, T_RECORDS, T_UPLOADS,
};
use crate::store::StoredSession;

impl SledClientStore {
    pub(super) fn wipe_inner(&self, scope: WipeScope) -> StoreResult<WipeCounts> {
        let _w = self.write()?;
        let counts = match scope {
            WipeScope::All => self.wipe_all()?,
            WipeScope::User(user) => self.wipe_user(user)?,
        };
        self.flush()?;
        if scope == WipeScope::All {
            self.journal.truncate()?;
        } else {
            self.compact_journal();
        }
        Ok(counts)
    }

    fn unfinished_photos(&self) -> StoreResult<u64> {
        let mut n = 0;
        for item in self.uploads.iter() {
            let (k, v) = item.map_err(backend)?;
            let done = self
                .unseal::<Versioned<PhotoUpload>>("upload", T_UPLOADS, &k, &v)
                .map(|u| matches!(u.value.state, crate::store::UploadState::Done))
                .unwrap_or(false);
            if !done {
                n += 1;
            }
        }
        Ok(n)
    }

    fn wipe_all(&self) -> StoreResult<WipeCounts> {
        let counts = WipeCounts {
            ops: self.outbox.len() as u64,
            quarantined: self.quarantine.len() as u64,
            photos: self.unfinished_photos()?,
            records: self.records.len() as u64,
        };
        for tree in
            [&self.session, &self.records, &self.outbox, &self.outbox_ids, &self.quarantine, &self.uploads, &self.sent]
        {
            tree.clear().map_err(backend)?;
        }
        for item in self.meta.iter() {
            let (k, _) = item.map_err(backend)?;
            // The device id goes too: the next login is a new device.
            if ![K_FORMAT, K_NEXT_SEQ, K_GEN].contains(&k.as_ref()) {
                self.meta.remove(k).map_err(backend)?;
            }
        }
        Ok(counts)
    }

    fn wipe_user(&self, user: Uuid) -> StoreResult<WipeCounts> {
        let mut counts = WipeCounts::default();
        // Collected under the write lock (nothing else writes meanwhile), removed in one transaction.
        let mut outbox_keys = Vec::new();
        let mut op_keys = Vec::new();
        let mut quarantine_keys = Vec::new();
        let mut photo_keys = Vec::new();
        let mut dropped_ops = Vec::new();
        let mut photo_of = |op: &fengqiao_domain::wire::OpEnvelope| {
            if let Some(sha) = op_photo(op) {
                photo_keys.push(self.pk(sha));
            }
        };
        for item in self.outbox.iter() {
            let (k, v) = item.map_err(backend)?;
            if let Ok(e) = self.unseal::<OutboxValue>("outbox", T_OUTBOX, &k, &v) {
                if e.op.author == user {
                    photo_of(&e.op);
                    op_keys.push(self.ok(e.op.op_id));
                    dropped_ops.push(e.op.op_id);
                    outbox_keys.push(k);
                }
            }
        }
        for item in self.quarantine.iter() {
            let (k, v) = item.map_err(backend)?;
            if let Ok(q) = self.unseal::<QuarantineValue>("quarantine", T_QUARANTINE, &k, &v) {
                if q.op.author == user {
                    photo_of(&q.op);
                    dropped_ops.push(q.op.op_id);
                    quarantine_keys.push(k);
                }
            }
        }
        // Their sent ops go too (not counted: the server has them).
        let mut sent_keys = Vec::new();
        for item in self.sent.iter() {
            let (k, v) = item.map_err(backend)?;
            let theirs = self.unseal::<OutboxValue>("sent", T_OUTBOX, &k, &v).map(|e| e.op.author == user);
            if theirs.unwrap_or(true) {
                sent_keys.push(k);
            }
        }
        counts.ops = outbox_keys.len() as u64;
        counts.quarantined = quarantine_keys.len() as u64;
        let pulled_theirs =
            self.meta_value::<Versioned<PullState>>("pull state", K_PULL)?.is_some_and(|p| p.value.user == user);
        let mut record_keys = Vec::new();
        for item in self.records.iter() {
            let (k, v) = item.map_err(backend)?;
            let drop = match self.unseal::<RecordValue>("record", T_RECORDS, &k, &v) {
                Ok(r) => match self.state_of(r.state) {
                    RecordState::Pending { author, .. } => author == user,
                    RecordState::Synced => pulled_theirs,
                },
                Err(_) => pulled_theirs,
            };
            if drop {
                record_keys.push(k);
            }
        }
        counts.records = record_keys.len() as u64;
        let session_theirs = match self.session.get(K_SESSION).map_err(backend)? {
            Some(v) => self
                .unseal::<Versioned<StoredSession>>("session", super::T_SESSION, K_SESSION, &v)
                .map(|s| s.value.user.id == user)
                .unwrap_or(true),
            None => false,
        };
        let mut unfinished = Vec::new();
        for key in &photo_keys {
            if let Some(v) = self.uploads.get(key).map_err(backend)? {
                let keep = self
                    .unseal::<Versioned<PhotoUpload>>("upload", T_UPLOADS, key, &v)
                    .map(|u| u.value.confirmed)
                    .unwrap_or(false);
                if !keep && !unfinished.contains(key) {
                    unfinished.push(*key);
                }
            }
        }
        counts.photos = unfinished.len() as u64;
        (
            &self.outbox,
            &self.outbox_ids,
            &self.quarantine,
            &self.records,
            &self.uploads,
            &self.session,
            &self.meta,
            &self.sent,
        )
            .transaction(|(outbox, ids, quarantine, records, uploads, session, meta, sent)| {
                for k in &outbox_keys {
                    outbox.remove(k)?;
                }
                for k in &sent_keys {
                    sent.remove(k)?;
                }
                for k in &op_keys {
                    ids.remove(k)?;
                }
                for k in &quarantine_keys {
                    quarantine.remove(k)?;
                }
                for k in &record_keys {
                    records.remove(k)?;
                }
                for k in &unfinished {
                    uploads.remove(k)?;
                }
                if session_theirs {
                    session.remove(K_SESSION)?;
                }
                if pulled_theirs {
                    meta.remove(K_PULL)?;
                }
                self.tx_drop_case_blocks(meta, user)?;
                Ok(())
            })
            .map_err(tx_err)?;
        for op in dropped_ops {
            self.journal.log_cancel(op);
        }
        Ok(counts)
    }
}
