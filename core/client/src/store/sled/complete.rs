//! Reading the outbox from a sequence on, and completing a push's ops.

use uuid::Uuid;

use super::{
    backend, op_photo, op_record_key, seq_bytes, seq_from, to_entry, tx_err, OutboxEntry, OutboxValue, RecordState,
    RecordValue, SledClientStore, StoreResult, Transactional, STORE_FORMAT_VERSION, T_OUTBOX, T_RECORDS,
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

    /// Completes ops, one transaction and one flush. With the entry as
    /// `outbox` read it (and still queued at its sequence), its op is not read
    /// and unsealed again. The journal is not compacted here (callers do, or
    /// leave it to [`ClientStore::tidy`] after a push).
    pub(super) fn complete_inner(&self, items: &[(Uuid, Option<&OutboxEntry>)]) -> StoreResult<u64> {
        if items.is_empty() {
            return Ok(0);
        }
        let keys: Vec<[u8; 16]> = items.iter().map(|(id, _)| self.ok(*id)).collect();
        let _w = self.write()?;
        let done = (&self.outbox_ids, &self.outbox, &self.records, &self.uploads)
            .transaction(|(ids, outbox, records, uploads)| {
                let mut done = 0u64;
                for ((op_id, known), op_key) in items.iter().zip(&keys) {
                    let Some(seq) = ids.remove(op_key)? else { continue };
                    done += 1;
                    let Some(v) = outbox.remove(&seq)? else { continue };
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
                    if let Some(plain) = op_record_key(op) {
                        let rkey = self.rk(&plain);
                        if let Some(rv) = records.get(rkey)? {
                            let mut r: RecordValue = self.tx_unseal("record", T_RECORDS, &rkey, &rv)?;
                            if matches!(r.state, RecordState::Pending { op_id: o, .. } if o == *op_id) {
                                r.state = RecordState::Synced;
                                r.fv = STORE_FORMAT_VERSION;
                                records.insert(&rkey, self.tx_seal(T_RECORDS, &rkey, &r)?)?;
                            }
                        }
                    }
                }
                Ok(done)
            })
            .map_err(tx_err)?;
        self.flush()?;
        Ok(done)
    }
}
