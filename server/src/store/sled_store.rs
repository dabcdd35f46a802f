//! The embedded default backend: sled, one database in the data dir.
//!
//! One writer: batches apply under a mutex in one multi-tree transaction, then the
//! database is flushed before anyone is answered. The feed's visible watermark is
//! raised only after the flush, so a pull never reads a sequence that is still in
//! flight or not yet durable.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use chrono::{DateTime, Utc};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{Change, OpAnswer, OpEnvelope};
use fengqiao_domain::{EntityKind, Record, RoleGrant};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{ConflictableTransactionError, TransactionError, UnabortableTransactionError};
use sled::{Transactional, Tree};
use uuid::Uuid;

use super::batch::{self, TxFail};
use super::{AccountStore, AuditStore, PhotoStore, SyncStore, UpkeepStore};

mod cases;
mod open;
mod snapshot;
mod tx;
use self::cases::{block_key, block_value};
pub use self::open::{Upgrade, STORE_FORMAT};
use self::tx::SledTx;
use super::group_commit::Durability;
use super::{
    feed_key, gather_page, record_key, AuditEntry, AuditQuery, FeedEpoch, FeedPage, PhotoRecord, RefreshRecord,
    SigningKeyRecord, SnapshotInfo, SnapshotSink, SpendOutcome, SpendRequest, StoreError, StoreResult, StoredRecord,
    UploadRecord, UserRecord,
};

const SEQ_KEY: &[u8] = b"seq";

/// Meta key of a county policy the server has run under, by its version.
pub(super) fn policy_key(version: &str) -> Vec<u8> {
    format!("policy:{version}").into_bytes()
}

/// The sled-backed server store.
pub struct SledStore {
    db: sled::Db,
    users: Tree,
    usernames: Tree,
    refresh: Tree,
    revoked: Tree,
    keys: Tree,
    ops: Tree,
    records: Tree,
    changes: Tree,
    feed: Tree,
    meta: Tree,
    uploads: Tree,
    photos: Tree,
    photo_refs: Tree,
    /// Who proved holding which photo: sha256 (hex) + user id, empty values.
    photo_holders: Tree,
    case_blocks: Tree,
    case_numbers: Tree,
    /// Lead id → the visit that found it.
    leads: Tree,
    /// The desk's index (`super::desk_index`).
    desk: Tree,
    user_refresh: Tree,
    audit: Tree,
    writer: Mutex<()>,
    audit_lock: Mutex<()>,
    /// Writes outside `writer` and `audit_lock` (tokens, keys, uploads, photos)
    /// hold it shared; a snapshot holds it alone, with the other two, so that
    /// it sees every tree as of one instant.
    gate: RwLock<()>,
    /// The feed's identity, fixed while the store is open.
    epoch: FeedEpoch,
    visible: AtomicU64,
    /// Flushes with group commit, and the write generation.
    durability: Durability,
    /// A flush failed on a full disk: sled refuses every later write until the
    /// store is reopened (its I/O error is sticky), so the server says so.
    failed_full: std::sync::atomic::AtomicBool,
}

/// sled's failures as store errors (a full disk told apart: see [`StoreError`]'s
/// `From<sled::Error>`).
fn backend(e: sled::Error) -> StoreError {
    e.into()
}

fn enc<T: Serialize>(v: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn dec<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn read_u64(bytes: &[u8]) -> StoreResult<u64> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| StoreError::Corrupt("bad counter".into()))?;
    Ok(u64::from_be_bytes(arr))
}

impl SledStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while holding the lock cannot leave sled half-written (the
        // transaction is atomic), so a poisoned lock is safe to take over.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Held by a write outside the writer lock while it changes a tree, so a
    /// snapshot does not see it half done.
    fn gate(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes everything this caller wrote durable (group commit: a flush that
    /// started after the caller's writes may already have done it). The write
    /// generation is bumped in sled first, then (once sled has it on disk) in the
    /// generation file, which so never runs ahead.
    fn durable(&self) -> StoreResult<()> {
        self.noted(self.durability.durable(&self.db, &self.meta))
    }

    /// Passes `r` on, remembering a full disk met by sled (whose I/O errors are
    /// sticky: it refuses writes from then on until reopened).
    fn noted<T>(&self, r: StoreResult<T>) -> StoreResult<T> {
        if let Err(StoreError::StorageFull(_)) = &r {
            if !self.failed_full.swap(true, Ordering::SeqCst) {
                tracing::error!(
                    "the disk is full: the store could not write and refuses writes until the server restarts"
                );
            }
        }
        r
    }

    /// Flushes done and durable calls answered by another caller's flush, since open.
    pub fn flush_stats(&self) -> (u64, u64) {
        self.durability.stats()
    }

    /// Runs the shared batch logic in one transaction over the sync trees; durable
    /// and visible when it returns.
    fn transact<T>(&self, f: impl Fn(&SledTx<'_>) -> Result<T, TxFail>) -> StoreResult<T> {
        let (value, top) = self.transact_unflushed(f)?;
        self.durable()?;
        self.visible.fetch_max(top, Ordering::SeqCst);
        Ok(value)
    }

    /// The transaction alone: applied in sled, neither flushed nor visible yet.
    /// Returns the value and the highest sequence written so far, to be made
    /// visible after the flush.
    fn transact_unflushed<T>(&self, f: impl Fn(&SledTx<'_>) -> Result<T, TxFail>) -> StoreResult<(T, u64)> {
        let _w = self.lock();
        let trees = (
            &self.ops,
            &self.records,
            &self.changes,
            &self.feed,
            &self.meta,
            &self.photo_refs,
            &self.case_blocks,
            &self.case_numbers,
            &self.leads,
            &self.users,
            &self.desk,
        );
        let result = trees.transaction(
            |(ops, records, changes, feed, meta, photo_refs, case_blocks, case_numbers, leads, users, desk)| {
                let tx = SledTx {
                    ops,
                    records,
                    changes,
                    feed,
                    meta,
                    photo_refs,
                    case_blocks,
                    case_numbers,
                    leads,
                    users,
                    desk,
                    stash: RefCell::new(None),
                };
                match f(&tx) {
                    Ok(v) => Ok(v),
                    Err(e) => Err(match tx.stash.into_inner() {
                        Some(UnabortableTransactionError::Conflict) => ConflictableTransactionError::Conflict,
                        Some(UnabortableTransactionError::Storage(s)) => ConflictableTransactionError::Storage(s),
                        None => ConflictableTransactionError::Abort(e),
                    }),
                }
            },
        );
        let value = self.noted(result.map_err(|e: TransactionError<TxFail>| match e {
            TransactionError::Abort(TxFail::Storage(v)) => StoreError::Backend(v.0),
            TransactionError::Abort(TxFail::InvalidRecord(m)) => StoreError::InvalidRecord(m),
            TransactionError::Storage(s) => backend(s),
        }))?;
        let top = match self.meta.get(SEQ_KEY).map_err(backend)? {
            Some(v) => read_u64(&v)?,
            None => 0,
        };
        drop(_w);
        Ok((value, top))
    }

    /// Appends audit entries without flushing (the caller makes them durable).
    fn append_audit_unflushed(&self, entries: &[AuditEntry]) -> StoreResult<()> {
        let _a = self.audit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut seq = match self.audit.last().map_err(backend)? {
            Some((k, _)) => read_u64(&k)?,
            None => 0,
        };
        let mut batch = sled::Batch::default();
        for e in entries {
            seq += 1;
            batch.insert(&seq.to_be_bytes(), enc(&AuditEntry { seq, ..e.clone() })?);
        }
        self.noted(self.audit.apply_batch(batch).map_err(backend))
    }

    /// One insert outside the writer lock, under the snapshot gate.
    fn put(&self, tree: &Tree, key: &[u8], value: &[u8]) -> StoreResult<()> {
        let _g = self.gate();
        self.noted(tree.insert(key, value).map(drop).map_err(backend))
    }

    fn get_json<T: DeserializeOwned>(tree: &Tree, key: &[u8]) -> StoreResult<Option<T>> {
        match tree.get(key).map_err(backend)? {
            Some(v) => Ok(Some(dec(&v)?)),
            None => Ok(None),
        }
    }
}

/// Key of a photo holder: the photo's hash (hex) + the user's id.
fn holder_key(sha256: &str, user: Uuid) -> Vec<u8> {
    let mut k = sha256.as_bytes().to_vec();
    k.extend_from_slice(user.as_bytes());
    k
}

/// Key of the user → refresh-token index: user id + token hash.
fn user_refresh_key(rec: &RefreshRecord) -> Vec<u8> {
    let mut k = rec.user_id.as_bytes().to_vec();
    k.extend_from_slice(rec.token_hash.as_bytes());
    k
}

/// Value of a family revoked with its device (others are empty).
const REVOKED_WITH_DEVICE: &[u8] = b"device";

impl AccountStore for SledStore {
    fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        let _w = self.lock();
        let name = user.username.as_bytes();
        let res = (&self.users, &self.usernames).transaction(|(users, names)| {
            if names.get(name)?.is_some() {
                return Err(ConflictableTransactionError::Abort(()));
            }
            names.insert(name, user.id.as_bytes())?;
            let bytes = serde_json::to_vec(user).map_err(|_| ConflictableTransactionError::Abort(()))?;
            users.insert(user.id.as_bytes(), bytes)?;
            Ok(())
        });
        match res {
            Ok(()) => self.durable(),
            Err(TransactionError::Abort(())) => Err(StoreError::AlreadyExists(format!("username {}", user.username))),
            Err(TransactionError::Storage(e)) => Err(backend(e)),
        }
    }

    fn update_user(&self, user: &UserRecord) -> StoreResult<()> {
        let _w = self.lock();
        self.users.insert(user.id.as_bytes(), enc(user)?).map_err(backend)?;
        self.durable()
    }

    fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>> {
        Self::get_json(&self.users, id.as_bytes())
    }

    fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        match self.usernames.get(username.as_bytes()).map_err(backend)? {
            Some(id) => Self::get_json(&self.users, &id),
            None => Ok(None),
        }
    }

    fn users(&self) -> StoreResult<Vec<UserRecord>> {
        let mut out = Vec::new();
        for kv in self.usernames.iter() {
            let (_, id) = kv.map_err(backend)?;
            if let Some(u) = Self::get_json(&self.users, &id)? {
                out.push(u);
            }
        }
        Ok(out)
    }

    fn refresh_of_user(&self, user: Uuid) -> StoreResult<Vec<RefreshRecord>> {
        let mut out: Vec<RefreshRecord> = Vec::new();
        for kv in self.user_refresh.scan_prefix(user.as_bytes()) {
            let (k, _) = kv.map_err(backend)?;
            if let Some(r) = Self::get_json(&self.refresh, &k[16..])? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| (a.issued_at, &a.token_hash).cmp(&(b.issued_at, &b.token_hash)));
        Ok(out)
    }

    fn insert_refresh(&self, record: &RefreshRecord) -> StoreResult<()> {
        {
            let _g = self.gate();
            self.refresh.insert(record.token_hash.as_bytes(), enc(record)?).map_err(backend)?;
            self.user_refresh.insert(user_refresh_key(record), &[]).map_err(backend)?;
        }
        self.durable()
    }

    fn spend_refresh(&self, token_hash: &str, now: DateTime<Utc>, req: &SpendRequest) -> StoreResult<SpendOutcome> {
        let _w = self.lock();
        let res = (&self.refresh, &self.revoked).transaction(|(refresh, revoked)| {
            let read = |hash: &str| -> Result<Option<RefreshRecord>, ConflictableTransactionError<String>> {
                match refresh.get(hash.as_bytes())? {
                    Some(bytes) => serde_json::from_slice(&bytes)
                        .map(Some)
                        .map_err(|e| ConflictableTransactionError::Abort(e.to_string())),
                    None => Ok(None),
                }
            };
            let rec = read(token_hash)?;
            let family_revoked = match &rec {
                Some(r) => revoked.get(r.family.as_bytes())?.is_some(),
                None => false,
            };
            let successor = match rec.as_ref().and_then(|r| r.successor.as_deref()) {
                Some(h) => read(h)?,
                None => None,
            };
            let plan = super::plan_spend(rec, family_revoked, successor, now, req);
            for r in &plan.write {
                let out = serde_json::to_vec(r).map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
                refresh.insert(r.token_hash.as_bytes(), out)?;
            }
            if let Some(f) = plan.revoke {
                revoked.insert(f.as_bytes(), &[])?;
            }
            Ok(plan.outcome)
        });
        let outcome = res.map_err(|e| match e {
            TransactionError::Abort(m) => StoreError::Corrupt(m),
            TransactionError::Storage(s) => backend(s),
        })?;
        self.durable()?;
        Ok(outcome)
    }

    fn revoke_family(&self, family: Uuid) -> StoreResult<()> {
        self.put(&self.revoked, family.as_bytes(), &[])?;
        self.durable()
    }

    fn family_revoked(&self, family: Uuid) -> StoreResult<bool> {
        self.revoked.contains_key(family.as_bytes()).map_err(backend)
    }

    fn revoke_device_family(&self, family: Uuid) -> StoreResult<()> {
        self.put(&self.revoked, family.as_bytes(), REVOKED_WITH_DEVICE)?;
        self.durable()
    }

    fn family_device_revoked(&self, family: Uuid) -> StoreResult<bool> {
        Ok(self.revoked.get(family.as_bytes()).map_err(backend)?.is_some_and(|v| v.as_ref() == REVOKED_WITH_DEVICE))
    }

    fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>> {
        Self::get_json(&self.refresh, token_hash.as_bytes())
    }

    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let mut keys: Vec<SigningKeyRecord> = Vec::new();
        for kv in self.keys.iter() {
            let (_, v) = kv.map_err(backend)?;
            keys.push(dec(&v)?);
        }
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    fn add_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        self.put(&self.keys, key.kid.as_bytes(), &enc(key)?)?;
        self.durable()
    }
}

impl AuditStore for SledStore {
    fn append_audit(&self, entries: &[AuditEntry]) -> StoreResult<()> {
        self.append_audit_unflushed(entries)?;
        self.durable()
    }

    fn audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let mut out = Vec::new();
        if query.limit == 0 {
            return Ok(out);
        }
        for kv in self.audit.range(query.after.saturating_add(1).to_be_bytes()..) {
            let (_, v) = kv.map_err(backend)?;
            let e: AuditEntry = dec(&v)?;
            if query.matches(&e) {
                out.push(e);
                if out.len() >= query.limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}

impl SyncStore for SledStore {
    fn apply_ops_audited(
        &self,
        actor: &Actor,
        policy: &Policy,
        ops: &[OpEnvelope],
        now: DateTime<Utc>,
        audit: &dyn Fn(&[OpAnswer]) -> Vec<AuditEntry>,
    ) -> StoreResult<Vec<OpAnswer>> {
        let (answers, top) = self.transact_unflushed(|tx| batch::apply_ops(tx, actor, policy, ops, now))?;
        self.append_audit_unflushed(&audit(&answers))?;
        // One flush (often shared with other requests) for the ops and their audit.
        self.durable()?;
        self.visible.fetch_max(top, Ordering::SeqCst);
        Ok(answers)
    }

    fn apply_ops(
        &self,
        actor: &Actor,
        policy: &Policy,
        ops: &[OpEnvelope],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<OpAnswer>> {
        self.transact(|tx| batch::apply_ops(tx, actor, policy, ops, now))
    }

    fn reserve_case_block(&self, owner: Uuid, year: i32, policy: &Policy) -> StoreResult<u32> {
        self.reserve_block(owner, year, policy)
    }

    fn keep_policy(&self, policy: &Policy) -> StoreResult<()> {
        let json = serde_json::to_vec(policy).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.put(&self.meta, &policy_key(&policy.version()), &json)?;
        self.durable()
    }

    fn put_records(&self, records: &[Record]) -> StoreResult<u64> {
        self.transact(|tx| batch::put_records(tx, records))
    }

    fn record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<Record>> {
        Ok(Self::get_json::<StoredRecord>(&self.records, &record_key(kind, id))?.map(|s| s.record))
    }

    fn records_of_kind(&self, kind: EntityKind) -> StoreResult<Vec<Record>> {
        let mut out = Vec::new();
        for kv in self.records.scan_prefix([kind.tag()]) {
            let (_, v) = kv.map_err(backend)?;
            out.push(dec::<StoredRecord>(&v)?.record);
        }
        Ok(out)
    }

    fn desk_index_scan(
        &self,
        prefix: &[u8],
        start: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        for kv in self.desk.range(prefix.max(start)..) {
            let (k, v) = kv.map_err(backend)?;
            if !k.starts_with(prefix) || !visit(&k, &v) {
                break;
            }
        }
        Ok(())
    }

    fn stored_record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<StoredRecord>> {
        Self::get_json(&self.records, &record_key(kind, id))
    }

    fn pull(&self, grants: &[RoleGrant], personal: Option<Uuid>, after: u64, limit: usize) -> StoreResult<FeedPage> {
        let visible = self.visible.load(Ordering::SeqCst);
        gather_page(grants, personal, limit, visible, after, |unit| {
            self.feed.range(feed_key(unit, after + 1)..=feed_key(unit, visible)).map(move |kv| {
                let (k, _) = kv.map_err(backend)?;
                let seq = read_u64(&k[16..])?;
                match self.changes.get(seq.to_be_bytes()).map_err(backend)? {
                    Some(bytes) => dec::<Change>(&bytes),
                    None => Err(StoreError::Corrupt(format!("feed names missing change {seq}"))),
                }
            })
        })
    }

    fn last_seq(&self) -> StoreResult<u64> {
        Ok(self.visible.load(Ordering::SeqCst))
    }

    fn feed_epoch(&self) -> StoreResult<FeedEpoch> {
        Ok(self.epoch.clone())
    }
}

impl PhotoStore for SledStore {
    fn put_upload(&self, upload: &UploadRecord) -> StoreResult<()> {
        self.put(&self.uploads, upload.id.as_bytes(), &enc(upload)?)?;
        self.durable()
    }

    fn upload(&self, id: Uuid) -> StoreResult<Option<UploadRecord>> {
        Self::get_json(&self.uploads, id.as_bytes())
    }

    fn delete_upload(&self, id: Uuid) -> StoreResult<()> {
        let _g = self.gate();
        self.uploads.remove(id.as_bytes()).map_err(backend)?;
        drop(_g);
        self.durable()
    }

    fn expired_uploads(&self, now: DateTime<Utc>) -> StoreResult<Vec<UploadRecord>> {
        let mut out = Vec::new();
        for kv in self.uploads.iter() {
            let (_, v) = kv.map_err(backend)?;
            let u: UploadRecord = dec(&v)?;
            if u.expires_at <= now {
                out.push(u);
            }
        }
        Ok(out)
    }

    fn put_photo(&self, photo: &PhotoRecord) -> StoreResult<()> {
        if self.photos.contains_key(photo.sha256.as_bytes()).map_err(backend)? {
            return Ok(());
        }
        self.put(&self.photos, photo.sha256.as_bytes(), &enc(photo)?)?;
        self.durable()
    }

    fn put_photo_holder(&self, sha256: &str, user: Uuid) -> StoreResult<()> {
        self.put(&self.photo_holders, &holder_key(sha256, user), &[])?;
        self.durable()
    }

    fn photo_held_by(&self, sha256: &str, user: Uuid) -> StoreResult<bool> {
        self.photo_holders.contains_key(holder_key(sha256, user)).map_err(backend)
    }

    fn complete_upload(&self, photo: &PhotoRecord, upload: &UploadRecord) -> StoreResult<()> {
        let g = self.gate();
        if !self.photos.contains_key(photo.sha256.as_bytes()).map_err(backend)? {
            self.photos.insert(photo.sha256.as_bytes(), enc(photo)?).map_err(backend)?;
        }
        self.photo_holders.insert(holder_key(&photo.sha256, upload.owner), &[]).map_err(backend)?;
        let done = UploadRecord { completed: true, ..upload.clone() };
        self.uploads.insert(done.id.as_bytes(), enc(&done)?).map_err(backend)?;
        drop(g);
        // One flush for all three (the photo's record is written first).
        self.durable()
    }

    fn photo(&self, sha256: &str) -> StoreResult<Option<PhotoRecord>> {
        Self::get_json(&self.photos, sha256.as_bytes())
    }

    fn photo_refs(&self, sha256: &str) -> StoreResult<Vec<StoredRecord>> {
        let mut out = Vec::new();
        for kv in self.photo_refs.scan_prefix(sha256.as_bytes()) {
            let (k, _) = kv.map_err(backend)?;
            let id = Uuid::from_slice(&k[sha256.len()..]).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if let Some(s) = Self::get_json::<StoredRecord>(&self.records, &record_key(EntityKind::Attachment, id))? {
                out.push(s);
            }
        }
        Ok(out)
    }
}

impl UpkeepStore for SledStore {
    fn is_empty(&self) -> StoreResult<bool> {
        Ok(self.users.is_empty() && self.records.is_empty())
    }

    fn flush(&self) -> StoreResult<()> {
        self.durable()
    }

    fn write_failed_full(&self) -> bool {
        self.failed_full.load(Ordering::SeqCst)
    }

    fn snapshot(&self, sink: &mut SnapshotSink<'_>) -> StoreResult<SnapshotInfo> {
        self.snapshot_to(sink)
    }
}

#[cfg(test)]
mod tests;
