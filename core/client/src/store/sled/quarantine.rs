//! The quarantine: ops the server refused for good, kept aside with the
//! reason (out of the outbox) until the user sends them again or discards them
//! (a discarded op's pending record and unsent photo go with it).

use chrono::{DateTime, Utc};
use sled::Transactional;
use uuid::Uuid;

use super::super::{
    op_photo, op_record_key, record_key, PhotoUpload, QuarantineReason, QuarantinedEntry, RecordState, StoreResult,
    STORE_FORMAT_VERSION,
};
use super::{
    backend, seq_bytes, seq_from, tx_err, OutboxValue, QuarantineValue, RecordValue, SledClientStore, Versioned,
    T_OUTBOX, T_QUARANTINE, T_RECORDS, T_UPLOADS,
};

impl SledClientStore {
    pub(super) fn quarantine_entry(
        &self,
        op_id: Uuid,
        reason: &QuarantineReason,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let op_key = self.ok(op_id);
        let _w = self.write()?;
        let done = (&self.outbox_ids, &self.outbox, &self.quarantine)
            .transaction(|(ids, outbox, quarantine)| {
                let Some(seq_b) = ids.remove(&op_key)? else { return Ok(false) };
                let Some(v) = outbox.remove(&seq_b)? else { return Ok(false) };
                let entry: OutboxValue = self.tx_unseal("outbox", T_OUTBOX, &seq_b, &v)?;
                let q = QuarantineValue {
                    fv: STORE_FORMAT_VERSION,
                    seq: seq_from(&seq_b).unwrap_or(0),
                    op: entry.op,
                    code: reason.code.clone(),
                    message: reason.message.clone(),
                    current: reason.current.clone(),
                    quarantined_at: at,
                };
                quarantine.insert(&op_key, self.tx_seal(T_QUARANTINE, &op_key, &q)?)?;
                Ok(true)
            })
            .map_err(tx_err)?;
        self.flush()?;
        Ok(done)
    }

    pub(super) fn quarantine_entries(&self) -> StoreResult<Vec<QuarantinedEntry>> {
        self.live()?;
        let mut out = Vec::new();
        for item in self.quarantine.iter() {
            let (k, v) = item.map_err(backend)?;
            match self.unseal::<QuarantineValue>("quarantine", T_QUARANTINE, &k, &v) {
                Ok(q) => out.push(QuarantinedEntry {
                    seq: q.seq,
                    op: q.op,
                    code: q.code,
                    message: q.message,
                    current: q.current,
                    quarantined_at: q.quarantined_at,
                }),
                Err(e) => tracing::warn!(error = %e, "skipping unreadable quarantine entry"),
            }
        }
        out.sort_by_key(|q| q.seq);
        Ok(out)
    }

    pub(super) fn requeue_entry(&self, op_id: Uuid) -> StoreResult<bool> {
        let op_key = self.ok(op_id);
        let _w = self.write()?;
        let done = (&self.quarantine, &self.outbox, &self.outbox_ids)
            .transaction(|(quarantine, outbox, ids)| {
                let Some(v) = quarantine.remove(&op_key)? else { return Ok(false) };
                let q: QuarantineValue = self.tx_unseal("quarantine", T_QUARANTINE, &op_key, &v)?;
                let out = OutboxValue { fv: STORE_FORMAT_VERSION, op: q.op, enqueued_at: q.quarantined_at };
                let seq = seq_bytes(q.seq);
                outbox.insert(&seq, self.tx_seal(T_OUTBOX, &seq, &out)?)?;
                ids.insert(&op_key, &seq)?;
                Ok(true)
            })
            .map_err(tx_err)?;
        self.flush()?;
        Ok(done)
    }

    pub(super) fn discard_entry(&self, op_id: Uuid) -> StoreResult<bool> {
        let op_key = self.ok(op_id);
        let _w = self.write()?;
        let freed = (&self.quarantine, &self.records, &self.uploads)
            .transaction(|(quarantine, records, uploads)| {
                let Some(v) = quarantine.remove(&op_key)? else { return Ok(None) };
                let mut freed = v.len() as u64;
                let q: QuarantineValue = self.tx_unseal("quarantine", T_QUARANTINE, &op_key, &v)?;
                if let Some(sha) = op_photo(&q.op) {
                    let pkey = self.pk(sha);
                    if let Some(uv) = uploads.get(pkey)? {
                        let cur: Versioned<PhotoUpload> = self.tx_unseal("upload", T_UPLOADS, &pkey, &uv)?;
                        if !cur.value.confirmed {
                            uploads.remove(&pkey)?;
                        }
                    }
                }
                if let Some(plain) = op_record_key(&q.op) {
                    let rkey = self.rk(&plain);
                    if let Some(rv) = records.get(rkey)? {
                        let carried = self
                            .unseal::<RecordValue>("record", T_RECORDS, &rkey, &rv)
                            .map(|r| matches!(r.state, RecordState::Pending { op_id: o, .. } if o == op_id))
                            .unwrap_or(false);
                        if carried {
                            records.remove(&rkey)?;
                            freed += rv.len() as u64;
                        }
                    }
                }
                // The conflict's record as it stood then fills a gap only: a
                // copy held now (pulled since, or another op's) is newer.
                if let Some(cur) = q.current {
                    let key = self.rk(&record_key(cur.kind(), cur.id()));
                    if records.get(key)?.is_none() {
                        let val = RecordValue { fv: STORE_FORMAT_VERSION, record: cur, state: RecordState::Synced };
                        records.insert(&key, self.tx_seal(T_RECORDS, &key, &val)?)?;
                    }
                }
                Ok(Some(freed))
            })
            .map_err(tx_err)?;
        if let Some(n) = freed {
            self.note_freed(n)?;
        }
        self.flush()?;
        self.compact_journal();
        Ok(freed.is_some())
    }
}
