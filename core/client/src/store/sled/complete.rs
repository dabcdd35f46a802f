//! Reading the outbox from a sequence on, and completing a push's ops.

use uuid::Uuid;

use super::{
    backend, op_photo, seq_bytes, seq_from, to_entry, tx_err, OutboxEntry, OutboxValue, SledClientStore, StoreResult,
    Transactional, T_OUTBOX,
};

impl SledClientStore {
    /// Queued ops from sequence `from` on, only `author`'s if given, at most `limit`.
    pub(super) fn outbox_range(&self, author: Option<Uuid>, from: u64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.live()?;
        let mut out = Vec::new();
        for item in self.outbox.range(seq_bytes(from)..) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(backend)?;
            let Some(seq) = seq_from(&k) else { continue };
            match self.unseal::<OutboxValue>("outbox", T_OUTBOX, &k, &v) {
                Ok(e) if author.is_none_or(|a| e.op.author == a) => out.push(to_entry(seq, e)),
                Ok(_) => {}
                Err(e) => tracing::warn!(seq, error = %e, "skipping unreadable outbox entry"),
            }
        }
        Ok(out)
    }

    /// Completes ops, one transaction and one flush; each goes to the sent
    /// log (`sent.rs`). With the entry as
    /// `outbox` read it (and still queued at its sequence), its op is not read
    /// and unsealed again. The records the ops carry are not rewritten: with
    /// the op gone they read as synced ([`SledClientStore::state_of`],
    /// ADR 0021). The journal is not compacted here (callers do, or leave it
    /// to [`ClientStore::tidy`] after a push).
    pub(super) fn complete_inner(&self, items: &[(Uuid, Option<&OutboxEntry>)]) -> StoreResult<u64> {
        if items.is_empty() {
            return Ok(0);
        }
        let keys: Vec<[u8; 16]> = items.iter().map(|(id, _)| self.ok(*id)).collect();
        let _w = self.write()?;
        let done = (&self.outbox_ids, &self.outbox, &self.uploads, &self.sent)
            .transaction(|(ids, outbox, uploads, sent)| {
                let mut done = 0u64;
                for ((op_id, known), op_key) in items.iter().zip(&keys) {
                    let Some(seq) = ids.remove(op_key)? else { continue };
                    done += 1;
                    let Some(v) = outbox.remove(&seq)? else { continue };
                    // Kept as it was sealed, to be sent again after a restore.
                    sent.insert(&seq, &v)?;
                    let read;
                    let op = match known {
                        Some(e) if seq_from(&seq) == Some(e.seq) && e.op.op_id == *op_id => &e.op,
                        _ => {
                            read = self.tx_unseal::<OutboxValue>("outbox", T_OUTBOX, &seq, &v)?.op;
                            &read
                        }
                    };
                    if let Some(sha) = op_photo(op) {
                        self.tx_confirm_photo(uploads, sha)?;
                    }
                }
                Ok(done)
            })
            .map_err(tx_err)?;
        self.flush()?;
        Ok(done)
    }
}
