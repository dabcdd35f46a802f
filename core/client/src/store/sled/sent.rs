//! The sent log: operations the server took, kept after they left the outbox
//! so that they can be sent again to a server restored from an older backup
//! (ADR 0032). An entry is the outbox's own sealed value under its own
//! sequence, moved as it is (sealed for the outbox tree and that sequence), so
//! keeping it costs no encryption; the newest [`SENT_KEPT`] are kept.

use sled::Transactional;
use uuid::Uuid;

use super::super::{op_photo, PhotoUpload, StoreResult, UploadState, SENT_KEPT};
use super::{backend, seq_from, tx_err, OutboxValue, SledClientStore, Versioned, T_OUTBOX, T_UPLOADS};

impl SledClientStore {
    /// Moves `author`'s sent ops back into the outbox at their places (those
    /// queued or quarantined again meanwhile are left), and makes their photos
    /// upload again; how many, in one transaction.
    pub(super) fn requeue_sent_ops(&self, author: Uuid) -> StoreResult<u64> {
        let _w = self.write()?;
        let mut theirs = Vec::new();
        for item in self.sent.iter() {
            let (k, v) = item.map_err(backend)?;
            match self.unseal::<OutboxValue>("sent", T_OUTBOX, &k, &v) {
                Ok(e) if e.op.author == author => theirs.push((k, v, e.op)),
                Ok(_) => {}
                Err(e) => tracing::warn!(seq = ?seq_from(&k), error = %e, "skipping an unreadable sent op"),
            }
        }
        let n = (&self.sent, &self.outbox, &self.outbox_ids, &self.quarantine, &self.uploads)
            .transaction(|(sent, outbox, ids, quarantine, uploads)| {
                let mut n = 0u64;
                for (k, v, op) in &theirs {
                    sent.remove(k)?;
                    let op_key = self.ok(op.op_id);
                    if ids.get(op_key)?.is_some() || quarantine.get(op_key)?.is_some() {
                        continue;
                    }
                    outbox.insert(k, v)?;
                    ids.insert(&op_key, k)?;
                    n += 1;
                    if let Some(sha) = op_photo(op) {
                        // The restored server may lack the bytes: send them
                        // again once it takes the attach (it answers at once
                        // if it has them).
                        let pkey = self.pk(sha);
                        if let Some(uv) = uploads.get(pkey)? {
                            let mut up: Versioned<PhotoUpload> = self.tx_unseal("upload", T_UPLOADS, &pkey, &uv)?;
                            up.value.confirmed = false;
                            up.value.state = UploadState::Pending;
                            up.value.upload_url = None;
                            up.value.attempts = 0;
                            up.value.done_at = None;
                            uploads.insert(&pkey, self.tx_seal(T_UPLOADS, &pkey, &up)?)?;
                        }
                    }
                }
                Ok(n)
            })
            .map_err(tx_err)?;
        self.flush()?;
        Ok(n)
    }

    /// Drops the oldest sent ops beyond [`SENT_KEPT`] (callers hold the write lock).
    pub(super) fn trim_sent(&self) -> StoreResult<()> {
        let extra = self.sent.len().saturating_sub(SENT_KEPT);
        for _ in 0..extra {
            if self.sent.pop_min().map_err(backend)?.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// How many ops the sent log holds.
    pub(super) fn sent_count(&self) -> usize {
        self.sent.len()
    }
}
