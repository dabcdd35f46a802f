//! The push half of a sync, pipelined (ADR 0018). One request is in flight
//! at a time, oldest ops first; while it is on its way the phone
//! records the answers to the batch before it (one transaction and one flush)
//! and reads and encodes the batch after it, on a blocking thread. So the
//! phone's disk work overlaps the server's instead of adding to it.
//!
//! Exactly-once still rests on op ids: a crash (or an error) after a batch was
//! sent but before the answers to the one before it were recorded leaves those
//! ops queued, and the next push sends them again; the server answers them
//! `duplicate` and they are completed then.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpAnswer;
use fengqiao_domain::WIRE_VERSION;
use uuid::Uuid;

use super::disposition::{disposition, Disposition, MALFORMED_OP, PAYLOAD_TOO_LARGE};
use super::Engine;
use crate::error::Error;
use crate::progress::{SyncPhase, SyncReport};
use crate::session::Authed;
use crate::store::{ClientStore, OutboxEntry, QuarantineReason};

/// A batch ready to send: its entries and the encoded request body.
struct Batch {
    entries: Vec<OutboxEntry>,
    body: Bytes,
}

/// Answers received and not yet recorded in the store.
struct Unrecorded {
    /// Applied or duplicate: completed together.
    done: Vec<OutboxEntry>,
    /// Refused: quarantined with the server's reason.
    quarantine: Vec<(Uuid, QuarantineReason)>,
    at: DateTime<Utc>,
}

impl Unrecorded {
    fn count(&self) -> u64 {
        (self.done.len() + self.quarantine.len()) as u64
    }

    /// Quarantines the refused ops, then completes the others in one
    /// transaction and one flush.
    fn record(&self, store: &dyn ClientStore) -> Result<u64, Error> {
        for (op_id, reason) in &self.quarantine {
            store.quarantine_op(*op_id, reason, self.at)?;
        }
        store.complete_entries(&self.done)?;
        Ok(self.count())
    }
}

/// Encodes the longest prefix of `entries` (at least one op) whose ops' JSON
/// fits in `max_bytes`, as a `PushRequest` body: each op is serialised once,
/// so a batch of long records is not refused whole (413) and retried in halves.
fn encode(mut entries: Vec<OutboxEntry>, max_bytes: usize) -> Result<Batch, Error> {
    let head = format!("{{\"v\":{WIRE_VERSION},\"ops\":[");
    let mut body = Vec::with_capacity(head.len() + 2 + entries.len() * 1024);
    body.extend_from_slice(head.as_bytes());
    let (mut n, mut bytes) = (0usize, 0usize);
    for e in &entries {
        let start = body.len();
        if n > 0 {
            body.push(b',');
        }
        serde_json::to_writer(&mut body, &e.op).map_err(|e| Error::Protocol(format!("encode op: {e}")))?;
        let len = body.len() - start;
        if n > 0 && bytes + len > max_bytes {
            body.truncate(start);
            break;
        }
        bytes += len;
        n += 1;
    }
    body.extend_from_slice(b"]}");
    entries.truncate(n);
    Ok(Batch { entries, body: body.into() })
}

/// Runs `job` on a blocking thread (the store's disk work must not hold up the
/// runtime that carries the request).
async fn blocking<T: Send + 'static>(job: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    match tokio::task::spawn_blocking(job).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(Error::Cancelled),
    }
}

impl Engine<'_> {
    /// Pushes `user`'s outbox, oldest first, until it is empty.
    pub(super) async fn push(&self, auth: &mut Authed<'_>, user: Uuid, report: &mut SyncReport) -> Result<(), Error> {
        let store = self.ctx.store;
        let total = store.outbox_len(Some(user))?;
        let mut done = 0u64;
        let mut limit = self.push_batch.clamp(1, 500);
        if total > 0 {
            self.progress(SyncPhase::Pushing, 0, total);
        }
        // The next batch, read and encoded while the one before was in flight.
        let mut next: Option<Batch> = None;
        let mut unrecorded: Option<Unrecorded> = None;
        loop {
            if let Err(e) = self.check_cancel() {
                self.record_now(&mut unrecorded, &mut done, total)?;
                return Err(e);
            }
            let batch = match next.take() {
                Some(b) => b,
                None => {
                    // Read from the front: the answers before must be in first.
                    self.record_now(&mut unrecorded, &mut done, total)?;
                    encode(store.outbox(Some(user), limit)?, self.push_bytes)?
                }
            };
            let Some(after) = batch.entries.last().map(|e| e.seq) else {
                return self.record_now(&mut unrecorded, &mut done, total);
            };
            let job = {
                let (shared, pending, max_bytes) = (Arc::clone(&self.shared_store), unrecorded.take(), self.push_bytes);
                blocking(move || {
                    let recorded = match pending {
                        Some(p) => p.record(shared.as_ref())?,
                        None => 0,
                    };
                    Ok((recorded, encode(shared.outbox_after(Some(user), after, limit)?, max_bytes)?))
                })
            };
            let api = self.ctx.api;
            let body = &batch.body;
            let request = auth.call(move |tok| {
                let body = body.clone();
                async move { api.push(&tok, body).await }
            });
            let (res, job) = tokio::join!(request, job);
            // The answers before are recorded (or the store failed: stop; the
            // ops stay queued and are answered `duplicate` next time).
            let (recorded, prefetched) = job?;
            if recorded > 0 {
                done += recorded;
                self.progress(SyncPhase::Pushing, done.min(total), total);
            }
            let entries = batch.entries;
            match res {
                Ok(resp) => {
                    let (pending, missing) = self.sort_answers(entries, resp.answers, report);
                    unrecorded = Some(pending);
                    if missing > 0 {
                        self.record_now(&mut unrecorded, &mut done, total)?;
                        // Unanswered ops stay queued; stop rather than loop on them.
                        return Err(Error::Protocol(format!(
                            "the server did not answer {missing} pushed operation(s)"
                        )));
                    }
                    next = Some(prefetched);
                }
                Err(Error::Refused { status: 422, body }) if body.code == MALFORMED_OP => {
                    match body.op_index.and_then(|i| entries.get(i)) {
                        Some(bad) => self.quarantine(bad, MALFORMED_OP, body.message)?,
                        None if entries.len() == 1 => self.quarantine(&entries[0], MALFORMED_OP, body.message)?,
                        // No usable index: find the culprit one op at a time.
                        None => {
                            limit = 1;
                            continue;
                        }
                    }
                    report.malformed += 1;
                    done += 1;
                    self.progress(SyncPhase::Pushing, done.min(total), total);
                }
                Err(Error::Refused { status: 413, body }) => {
                    if entries.len() == 1 {
                        self.quarantine(&entries[0], PAYLOAD_TOO_LARGE, body.message)?;
                        report.malformed += 1;
                        done += 1;
                        self.progress(SyncPhase::Pushing, done.min(total), total);
                    } else {
                        limit = (entries.len() / 2).max(1);
                    }
                }
                // Any other refusal (400 malformed_body / unsupported_version) is
                // about the request, not one op: stop, keep everything queued.
                Err(e) => return Err(e),
            }
        }
    }

    /// Records answers still waiting, here and now.
    fn record_now(&self, pending: &mut Option<Unrecorded>, done: &mut u64, total: u64) -> Result<(), Error> {
        if let Some(p) = pending.take() {
            *done += p.record(self.ctx.store)?;
            self.progress(SyncPhase::Pushing, (*done).min(total), total);
        }
        Ok(())
    }

    /// Sorts a batch's answers into completions and quarantines (counted in
    /// `report`); also how many of its ops went unanswered.
    fn sort_answers(
        &self,
        entries: Vec<OutboxEntry>,
        answers: Vec<OpAnswer>,
        report: &mut SyncReport,
    ) -> (Unrecorded, usize) {
        let mut by_id: HashMap<Uuid, OpAnswer> = answers.into_iter().map(|a| (a.op_id, a)).collect();
        let mut out =
            Unrecorded { done: Vec::with_capacity(entries.len()), quarantine: Vec::new(), at: self.ctx.clock.now() };
        let mut missing = 0usize;
        for entry in entries {
            let Some(answer) = by_id.remove(&entry.op.op_id) else {
                missing += 1;
                continue;
            };
            match disposition(&answer.outcome) {
                Disposition::Done { duplicate } => {
                    if duplicate {
                        report.pushed_duplicate += 1;
                    } else {
                        report.pushed_applied += 1;
                    }
                    out.done.push(entry);
                }
                Disposition::Quarantine { conflict, reason } => {
                    tracing::warn!(op_id = %entry.op.op_id, code = reason.code.as_str(), "operation refused by the server");
                    if conflict {
                        report.conflicts += 1;
                    } else {
                        report.rejected += 1;
                    }
                    out.quarantine.push((entry.op.op_id, reason));
                }
            }
        }
        (out, missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengqiao_domain::wire::PushRequest;

    #[test]
    fn encoded_body_reads_as_a_push_request_and_fits_the_byte_limit() {
        use fengqiao_domain::wire::{Op, OpEnvelope};
        use fengqiao_domain::{Visit, VisitKind};
        let entries: Vec<OutboxEntry> = (0..5u64)
            .map(|seq| {
                let v = Visit {
                    id: Uuid::now_v7(),
                    household_id: Uuid::now_v7(),
                    visitor_id: Uuid::now_v7(),
                    visited_at: Utc::now(),
                    kind: VisitKind::Routine,
                    notes: format!("走访 {seq} \"quoted\""),
                    location: None,
                    leads: vec![],
                    group_id: None,
                    body: None,
                };
                let op = OpEnvelope {
                    op_id: Uuid::now_v7(),
                    v: 1,
                    author: v.visitor_id,
                    created_at: Utc::now(),
                    op: Op::RecordVisit(v),
                    seen: None,
                };
                OutboxEntry { seq, op, enqueued_at: Utc::now() }
            })
            .collect();
        let one = serde_json::to_vec(&entries[0].op).expect("enc").len();
        let all = encode(entries.clone(), usize::MAX).expect("encode");
        let req: PushRequest = serde_json::from_slice(&all.body).expect("a push request");
        assert_eq!((req.v, req.ops.len(), all.entries.len()), (WIRE_VERSION, 5, 5));
        for (raw, e) in req.ops.iter().zip(&entries) {
            assert_eq!(raw, &serde_json::to_value(&e.op).expect("value"));
        }
        // Room for two ops (and a comma), not three.
        let two = encode(entries.clone(), 2 * one + 10).expect("encode");
        let req: PushRequest = serde_json::from_slice(&two.body).expect("a push request");
        assert_eq!((req.ops.len(), two.entries.len()), (2, 2));
        // At least one op, even past the limit.
        let first = encode(entries, 1).expect("encode");
        assert_eq!(serde_json::from_slice::<PushRequest>(&first.body).expect("req").ops.len(), 1);
    }
}
