//! The sled backend: one `sled::Db` per data dir, one tree per concern.
//!
//! Trees: `session`, `records` (key: entity tag byte + 16-byte uuid), `outbox`
//! (key: big-endian enqueue sequence), `outbox_ids` (op id → sequence),
//! `quarantine` (op id → entry), `uploads` (photo SHA-256 hex → upload-queue
//! entry) and `meta`, the store's single values (format version, next
//! sequence, device id, pull cursor, sync bookkeeping, held case-number
//! blocks, write generation, freed bytes, and the core's named values: device
//! locks, known users, colleagues' names). Values are JSON with a format
//! version field `fv`, sealed by the store's [`Vault`] (ADR 0010) with their
//! tree and key as associated data; record, op and photo keys are keyed hashes
//! (a record key keeps its kind and the time part of its UUIDv7, inverted, in
//! the clear, so lists come newest first without decrypting). Multi-key writes
//! are sled transactions over the trees involved; every write but a plain
//! enqueue flushes before returning, since sled alone only syncs every 500 ms
//! (an enqueue's commit point is its synced outbox journal line: ADR 0015,
//! 0016). One writer: a mutex serialises writes (the reset scan that must
//! happen outside a sled transaction relies on it).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpEnvelope;
use fengqiao_domain::{EntityKind, Record};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::TransactionalTree;
use sled::{Transactional, Tree};
use uuid::Uuid;

mod cases;
mod compact;
mod complete;
mod enqueue;
mod integrity;
mod journal;
mod keyfile;
mod open;
mod pull;
mod quarantine;
mod sent;
mod uploads;
mod values;
mod wipe;
mod worker;

use self::integrity::GenFile;
pub use self::integrity::StoreRecovery;
use self::journal::Journal;
use self::values::{
    abort, backend, dec, enc, seal_in, seq_bytes, seq_from, to_entry, tx_err, unseal_in, OutboxAuthor, OutboxValue,
    QuarantineValue, RecordValue, TxResult, Versioned,
};
use self::worker::Worker;

use super::vault::{StoreKey, Vault};
use super::{
    op_photo, record_key, ClientStore, LocalRecord, OutboxEntry, PhotoUpload, PullState, PulledPage, QuarantineReason,
    QuarantinedEntry, RecordState, StoreError, StoreResult, StoredSession, SyncMeta, WipeCounts, WipeScope,
    STORE_FORMAT_VERSION,
};

const K_FORMAT: &[u8] = b"format";
const K_NEXT_SEQ: &[u8] = b"next_seq";
const K_DEVICE: &[u8] = b"device_id";
const K_PULL: &[u8] = b"pull";
const K_SYNC_META: &[u8] = b"sync_meta";
const K_SESSION: &[u8] = b"session";
/// The write generation (see [`integrity`]).
const K_GEN: &[u8] = b"write_gen";
/// Bytes of values discarded since sled's files were last measured (plain
/// u64, big-endian): opening measures and compacts only once this passes
/// [`compact::FLOOR`], so a store full of live data is not scanned at every open.
const K_FREED: &[u8] = b"freed_bytes";
/// Prefix of the core's own named values ([`ClientStore::local_value`]).
const K_LOCAL: &[u8] = b"local/";

/// Tree names, also the first part of each sealed value's associated data.
const T_SESSION: &str = "session";
const T_RECORDS: &str = "records";
const T_OUTBOX: &str = "outbox";
const T_QUARANTINE: &str = "quarantine";
/// The store's single values, each under its own key (the `K_` constants and
/// `case_blocks`; see the module doc). The name is on disk and stays.
const T_META: &str = "meta";
const T_UPLOADS: &str = "uploads";

/// A [`ClientStore`] on disk, in one sled database per data dir.
pub struct SledClientStore {
    db: sled::Db,
    session: Tree,
    records: Tree,
    outbox: Tree,
    outbox_ids: Tree,
    quarantine: Tree,
    meta: Tree,
    uploads: Tree,
    /// Ops the server took, kept to be sent again after a restore (`sent.rs`).
    sent: Tree,
    writer: Mutex<()>,
    /// The keys everything is sealed with.
    vault: Arc<Vault>,
    /// Where the store's files are.
    dir: std::path::PathBuf,
    /// The write generation last flushed, and the lock that orders flushes.
    gen: Mutex<u64>,
    gen_file: GenFile,
    journal: Journal,
    /// Applies enqueue transactions while the journal syncs (ADR 0016).
    worker: Worker,
    /// Set when a journal sync failed: reads and writes are refused until
    /// the store is reopened (ADR 0016).
    poisoned: AtomicBool,
}

impl SledClientStore {
    /// Opens (or creates) the store in `dir` with the app's `key`. Fails with
    /// [`StoreError::WrongKey`] if the key does not open it, if another process
    /// holds it or it was written by a newer, incompatible build, and with
    /// [`StoreError::Damaged`] if sled lost writes it had acknowledged (then
    /// [`SledClientStore::recover`] rebuilds it from the outbox journal).
    pub fn open(dir: impl AsRef<Path>, key: &StoreKey) -> StoreResult<Self> {
        let dir = dir.as_ref();
        // The key first: a wrong key must change nothing, not even create sled's files.
        let vault = Arc::new(keyfile::open_or_create(dir, key)?);
        Self::open_with(dir, vault)
    }

    /// A store whose values are not sealed, for the encryption-overhead
    /// benchmark only (feature `bench-plaintext`, off in every app build).
    #[cfg(feature = "bench-plaintext")]
    pub fn open_unencrypted_for_benchmarks(dir: impl AsRef<Path>) -> StoreResult<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(backend)?;
        Self::open_with(dir, Arc::new(Vault::plaintext_for_benchmarks()))
    }

    /// The sealed bytes of `v` stored under `key` in `tree`.
    pub(super) fn seal<T: Serialize>(&self, tree: &str, key: &[u8], v: &T) -> StoreResult<Vec<u8>> {
        seal_in(&self.vault, tree, key, v)
    }

    /// The value sealed under `key` in `tree`.
    pub(super) fn unseal<T: DeserializeOwned>(
        &self,
        what: &str,
        tree: &str,
        key: &[u8],
        bytes: &[u8],
    ) -> StoreResult<T> {
        unseal_in(&self.vault, what, tree, key, bytes)
    }

    /// [`unseal`](Self::unseal) inside a transaction.
    pub(super) fn tx_unseal<T: DeserializeOwned>(
        &self,
        what: &str,
        tree: &str,
        key: &[u8],
        bytes: &[u8],
    ) -> TxResult<T> {
        self.unseal(what, tree, key, bytes).map_err(abort)
    }

    /// [`seal`](Self::seal) inside a transaction.
    pub(super) fn tx_seal<T: Serialize>(&self, tree: &str, key: &[u8], v: &T) -> TxResult<Vec<u8>> {
        self.seal(tree, key, v).map_err(abort)
    }

    /// The sled key of a record: kind tag, the first 8 bytes of its UUIDv7 (its
    /// time) inverted, so a forward scan meets the newest first, and a keyed
    /// hash of the whole key. (A reverse scan would link in sled's 1 MiB
    /// reverse-iteration table: ADR 0014.)
    pub(super) fn rk(&self, plain: &[u8; 17]) -> [u8; 25] {
        let mut k = [0u8; 25];
        k[0] = plain[0];
        for (dst, src) in k[1..9].iter_mut().zip(&plain[1..9]) {
            *dst = !src;
        }
        k[9..].copy_from_slice(&self.vault.name(b"record", plain));
        k
    }

    /// The sled key of an op id.
    pub(super) fn ok(&self, op_id: Uuid) -> [u8; 16] {
        self.vault.name(b"op", op_id.as_bytes())
    }

    /// The sled key of a photo's upload entry.
    pub(super) fn pk(&self, sha256: &str) -> [u8; 16] {
        self.vault.name(b"photo", sha256.as_bytes())
    }

    /// The keys this store seals with (shared with the photo folder).
    pub fn vault(&self) -> Arc<Vault> {
        self.vault.clone()
    }

    fn record_value(&self, record: &Record, op: &OpEnvelope, rkey: &[u8]) -> StoreResult<Vec<u8>> {
        self.seal(T_RECORDS, rkey, &RecordValue::pending(record, op))
    }

    /// The generation the next write takes (callers hold the write lock).
    pub(super) fn next_gen(&self) -> u64 {
        *self.gen.lock().unwrap_or_else(|e| e.into_inner()) + 1
    }

    /// Compacts the outbox journal to the ops still queued or quarantined, if
    /// it has grown well past them (callers hold the write lock).
    fn compact_journal(&self) {
        let live = self.outbox_ids.len() as u64 + self.quarantine.len() as u64;
        self.journal.compact_if_due(live, |id| {
            let k = self.ok(id);
            matches!(self.outbox_ids.contains_key(k), Ok(true)) || matches!(self.quarantine.contains_key(k), Ok(true))
        });
    }

    /// Rebuilds a store that [`open`](Self::open) refused as damaged: moves
    /// sled's files into `dir/damaged-<time>/` (kept for inspection), opens a
    /// fresh store and replays the outbox journal into it. Pulled records, the
    /// session and held case-number blocks come back with the next login and
    /// sync; queued and quarantined ops are queued again (the server answers
    /// `duplicate` for any it had already applied). The photo folder is left
    /// as it is.
    pub fn recover(dir: impl AsRef<Path>, key: &StoreKey) -> StoreResult<StoreRecovery> {
        integrity::recover(dir.as_ref(), key)
    }

    /// Re-wraps the store's data key under `new_key` (durable when this
    /// returns); the store then opens only with `new_key`. `current` must open it.
    pub fn rotate_key(dir: impl AsRef<Path>, current: &StoreKey, new_key: &StoreKey) -> StoreResult<()> {
        keyfile::rotate(dir.as_ref(), current, new_key)
    }

    /// The write lock, unless the store is poisoned.
    fn write(&self) -> StoreResult<MutexGuard<'_, ()>> {
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.live()?;
        Ok(guard)
    }

    /// Refuses reads and writes once a journal sync has failed (ADR 0016).
    fn live(&self) -> StoreResult<()> {
        if self.poisoned.load(Ordering::SeqCst) {
            return Err(StoreError::Backend(
                "a disk sync of the outbox journal failed; the store must be reopened before it is used again".into(),
            ));
        }
        Ok(())
    }

    /// Marks the store unusable until reopened: after a failed journal sync
    /// what it holds in memory may not match what is on disk.
    fn poison(&self, cause: &StoreError) {
        tracing::error!(error = %cause, "outbox journal sync failed: the store refuses use until reopened");
        self.poisoned.store(true, Ordering::SeqCst);
    }

    /// Makes every write so far durable and bumps the write generation: inside
    /// sled first, then (after sled's flush) in the generation file, so the file
    /// never runs ahead of what sled has on disk.
    fn flush(&self) -> StoreResult<()> {
        let mut gen = self.gen.lock().unwrap_or_else(|e| e.into_inner());
        let next = *gen + 1;
        self.meta.insert(K_GEN, &seq_bytes(next)).map_err(backend)?;
        self.db.flush().map_err(backend)?;
        *gen = next;
        if let Err(e) = self.gen_file.write(next) {
            // Only weakens the damage check; the write itself is durable.
            tracing::warn!(error = %e, "could not record the write generation");
        }
        Ok(())
    }

    /// Where a stored record stands. A record is stored pending with the op
    /// that carries it and is not rewritten when that op completes (ADR 0021):
    /// it is pending while the op is queued or quarantined, synced after.
    /// (If the op's presence cannot be read, it counts as pending: kept.)
    pub(super) fn state_of(&self, stored: RecordState) -> RecordState {
        let RecordState::Pending { op_id, .. } = stored else { return stored };
        let key = self.ok(op_id);
        let gone = matches!(self.outbox_ids.contains_key(key), Ok(false))
            && matches!(self.quarantine.contains_key(key), Ok(false));
        if gone {
            RecordState::Synced
        } else {
            stored
        }
    }

    /// A stored record as the phone shows it.
    fn local(&self, v: RecordValue) -> LocalRecord {
        LocalRecord { state: self.state_of(v.state), record: v.record }
    }

    /// Whether a stored record value is pending (unreadable ones count as
    /// synced: they are server data that a pull brings back).
    fn is_pending(&self, key: &[u8], v: &[u8]) -> bool {
        self.unseal::<RecordValue>("record", T_RECORDS, key, v).is_ok_and(|r| self.state_of(r.state).is_pending())
    }

    /// Keys of every synced record.
    fn synced_keys(&self) -> StoreResult<Vec<sled::IVec>> {
        let mut keys = Vec::new();
        for item in self.records.iter() {
            let (k, v) = item.map_err(backend)?;
            if !self.is_pending(&k, &v) {
                keys.push(k);
            }
        }
        Ok(keys)
    }

    /// Removes `keys` (found synced by [`Self::synced_keys`] under the same
    /// writer lock, so still synced), inside a transaction. No other tree is
    /// read here: a plain read inside a sled transaction would wait for the
    /// transaction's own lock.
    fn tx_drop_synced(&self, records: &TransactionalTree, keys: &[sled::IVec]) -> TxResult<()> {
        for k in keys {
            records.remove(k)?;
        }
        Ok(())
    }

    /// A sealed meta value.
    fn meta_value<T: DeserializeOwned>(&self, what: &str, key: &[u8]) -> StoreResult<Option<T>> {
        self.live()?;
        match self.meta.get(key).map_err(backend)? {
            Some(v) => Ok(Some(self.unseal(what, T_META, key, &v)?)),
            None => Ok(None),
        }
    }

    /// Bytes of the store's own files (sled's, the journal, the small files).
    fn files_bytes(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            let Ok(meta) = std::fs::symlink_metadata(p) else { return 0 };
            if meta.is_file() {
                return meta.len();
            }
            if !meta.is_dir() {
                return 0;
            }
            std::fs::read_dir(p).map(|it| it.flatten().map(|e| walk(&e.path())).sum()).unwrap_or(0)
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return 0 };
        entries
            .flatten()
            .filter(|e| integrity::is_own_file(&e.file_name().to_string_lossy()))
            .map(|e| walk(&e.path()))
            .sum()
    }
}

impl ClientStore for SledClientStore {
    fn load_session(&self) -> StoreResult<Option<StoredSession>> {
        self.live()?;
        match self.session.get(K_SESSION).map_err(backend)? {
            Some(v) => Ok(Some(self.unseal::<Versioned<StoredSession>>("session", T_SESSION, K_SESSION, &v)?.value)),
            None => Ok(None),
        }
    }

    fn save_session(&self, session: &StoredSession) -> StoreResult<()> {
        let bytes = self.seal(T_SESSION, K_SESSION, &Versioned { fv: STORE_FORMAT_VERSION, value: session })?;
        let _w = self.write()?;
        self.session.insert(K_SESSION, bytes).map_err(backend)?;
        self.flush()
    }

    fn clear_session(&self) -> StoreResult<()> {
        let _w = self.write()?;
        self.session.remove(K_SESSION).map_err(backend)?;
        self.flush()
    }

    fn device_id(&self) -> StoreResult<Uuid> {
        let _w = self.write()?;
        if let Some(id) = self.meta_value::<Uuid>("device id", K_DEVICE)? {
            return Ok(id);
        }
        let id = fengqiao_domain::new_id();
        self.meta.insert(K_DEVICE, self.seal(T_META, K_DEVICE, &id)?).map_err(backend)?;
        self.flush()?;
        Ok(id)
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
        self.read_upload(sha256)
    }

    fn photo_uploads(&self) -> StoreResult<Vec<PhotoUpload>> {
        self.read_uploads()
    }

    fn save_photo_upload(&self, upload: &PhotoUpload) -> StoreResult<bool> {
        self.write_upload(upload)
    }

    fn get_record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<LocalRecord>> {
        self.live()?;
        let key = self.rk(&record_key(kind, id));
        match self.records.get(key).map_err(backend)? {
            Some(v) => Ok(Some(self.local(self.unseal("record", T_RECORDS, &key, &v)?))),
            None => Ok(None),
        }
    }

    fn list_records(&self, kind: EntityKind, limit: usize) -> StoreResult<Vec<LocalRecord>> {
        self.live()?;
        let mut out = Vec::new();
        for item in self.records.scan_prefix([kind.tag()]) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(backend)?;
            match self.unseal::<RecordValue>("record", T_RECORDS, &k, &v) {
                Ok(r) => out.push(self.local(r)),
                // A value this build cannot read (e.g. written by a newer one) is
                // left in place, not shown.
                Err(e) => tracing::warn!(error = %e, "skipping unreadable record"),
            }
        }
        // Keys sort by the id's time part; ids made in the same millisecond
        // are put in id order here.
        out.sort_by_key(|r| std::cmp::Reverse(r.record.id()));
        Ok(out)
    }

    fn outbox(&self, author: Option<Uuid>, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.outbox_range(author, 0, limit)
    }

    fn outbox_after(&self, author: Option<Uuid>, after: u64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.outbox_range(author, after.saturating_add(1), limit)
    }

    fn outbox_len(&self, author: Option<Uuid>) -> StoreResult<u64> {
        self.live()?;
        let Some(author) = author else { return Ok(self.outbox.len() as u64) };
        // Only the author is read from each entry (the rest is skipped unparsed).
        let mut n = 0;
        for item in self.outbox.iter() {
            let (k, v) = item.map_err(backend)?;
            match self.unseal::<OutboxAuthor>("outbox", T_OUTBOX, &k, &v) {
                Ok(e) if e.op.author == author => n += 1,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "skipping unreadable outbox entry"),
            }
        }
        Ok(n)
    }

    fn complete_op(&self, op_id: Uuid) -> StoreResult<bool> {
        Ok(self.complete_ops(&[op_id])? == 1)
    }

    fn complete_ops(&self, op_ids: &[Uuid]) -> StoreResult<u64> {
        let items: Vec<(Uuid, Option<&OutboxEntry>)> = op_ids.iter().map(|id| (*id, None)).collect();
        let done = self.complete_inner(&items)?;
        let _w = self.write()?;
        self.compact_journal();
        Ok(done)
    }

    fn complete_entries(&self, entries: &[OutboxEntry]) -> StoreResult<u64> {
        let items: Vec<(Uuid, Option<&OutboxEntry>)> = entries.iter().map(|e| (e.op.op_id, Some(e))).collect();
        self.complete_inner(&items)
    }

    fn tidy(&self) {
        if let Ok(_w) = self.write() {
            self.compact_journal();
            if let Err(e) = self.trim_sent() {
                tracing::warn!(error = %e, "could not trim the sent log");
            }
        }
    }

    fn requeue_sent(&self, author: Uuid) -> StoreResult<u64> {
        self.requeue_sent_ops(author)
    }

    fn sent_len(&self) -> StoreResult<u64> {
        self.live()?;
        Ok(self.sent_count() as u64)
    }

    fn quarantine_op(&self, op_id: Uuid, reason: &QuarantineReason, at: DateTime<Utc>) -> StoreResult<bool> {
        self.quarantine_entry(op_id, reason, at)
    }

    fn quarantined(&self) -> StoreResult<Vec<QuarantinedEntry>> {
        self.quarantine_entries()
    }

    fn requeue_quarantined(&self, op_id: Uuid) -> StoreResult<bool> {
        self.requeue_entry(op_id)
    }

    fn discard_quarantined(&self, op_id: Uuid) -> StoreResult<bool> {
        self.discard_entry(op_id)
    }

    fn pull_state(&self) -> StoreResult<Option<PullState>> {
        Ok(self.meta_value::<Versioned<PullState>>("pull state", K_PULL)?.map(|v| v.value))
    }

    fn apply_pulled(&self, user: Uuid, page: &PulledPage) -> StoreResult<()> {
        self.apply_page(user, page)
    }

    fn reset_pulled(&self) -> StoreResult<()> {
        self.drop_pulled()
    }

    fn sync_meta(&self) -> StoreResult<SyncMeta> {
        Ok(self.meta_value::<Versioned<SyncMeta>>("sync meta", K_SYNC_META)?.map(|v| v.value).unwrap_or_default())
    }

    fn save_sync_meta(&self, meta: &SyncMeta) -> StoreResult<()> {
        let bytes = self.seal(T_META, K_SYNC_META, &Versioned { fv: STORE_FORMAT_VERSION, value: meta })?;
        let _w = self.write()?;
        self.meta.insert(K_SYNC_META, bytes).map_err(backend)?;
        self.flush()
    }

    fn local_value(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let key = [K_LOCAL, name.as_bytes()].concat();
        self.meta_value::<Vec<u8>>("local value", &key)
    }

    fn save_local_value(&self, name: &str, value: Option<&[u8]>) -> StoreResult<()> {
        let key = [K_LOCAL, name.as_bytes()].concat();
        let sealed = value.map(|v| self.seal(T_META, &key, &v)).transpose()?;
        let _w = self.write()?;
        match sealed {
            Some(b) => self.meta.insert(key, b).map(|_| ()),
            None => self.meta.remove(key).map(|_| ()),
        }
        .map_err(backend)?;
        self.flush()
    }

    fn wipe(&self, scope: WipeScope) -> StoreResult<WipeCounts> {
        self.wipe_inner(scope)
    }

    fn disk_bytes(&self) -> u64 {
        self.files_bytes()
    }

    fn vault(&self) -> Option<Arc<Vault>> {
        Some(self.vault.clone())
    }
}

#[cfg(test)]
mod tests;
