//! The server's storage, split by concern: accounts (users, refresh tokens,
//! signing keys), the audit log, sync (ops, records, the change feed, case
//! blocks), uploads and photos, and upkeep (emptiness, flush, snapshot). Each
//! trait has its own conformance suite (`conformance`). [`Store`] is their union,
//! implemented for every type that implements all of them: the server holds an
//! `Arc<dyn Store>`, and a function that needs one concern only takes that trait.
//!
//! Every method is atomic; writes are durable when they return.

use chrono::{DateTime, Utc};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{OpAnswer, OpEnvelope};
use fengqiao_domain::{EntityKind, Record, RoleGrant};
use uuid::Uuid;

use super::{
    AuditEntry, AuditQuery, FeedEpoch, FeedPage, PhotoRecord, RefreshRecord, SigningKeyRecord, SnapshotInfo,
    SnapshotSink, SpendOutcome, SpendRequest, StoreError, StoreResult, StoredRecord, UploadRecord, UserRecord,
};

/// The server's storage: every concern. Implemented for each type that
/// implements all the concern traits; it adds no method of its own.
pub trait Store: AccountStore + AuditStore + SyncStore + PhotoStore + UpkeepStore {}

impl<T: AccountStore + AuditStore + SyncStore + PhotoStore + UpkeepStore + ?Sized> Store for T {}

/// Identity: user accounts, refresh-token families and the token signing keys.
pub trait AccountStore: Send + Sync + 'static {
    /// Adds a user; fails with `AlreadyExists` if the username is taken.
    fn create_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// Replaces an existing user's record (same id).
    fn update_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// A user by id.
    fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>>;
    /// A user by username.
    fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Every user, by username.
    fn users(&self) -> StoreResult<Vec<UserRecord>>;

    /// Stores a new refresh token.
    fn insert_refresh(&self, record: &RefreshRecord) -> StoreResult<()>;
    /// Spends a refresh token atomically (see [`SpendOutcome`] and `plan_spend`).
    fn spend_refresh(&self, token_hash: &str, now: DateTime<Utc>, req: &SpendRequest) -> StoreResult<SpendOutcome>;
    /// Revokes a whole family (logout, reuse detected, device lost).
    fn revoke_family(&self, family: Uuid) -> StoreResult<()>;
    /// Whether a family was revoked.
    fn family_revoked(&self, family: Uuid) -> StoreResult<bool>;
    /// Revokes a family because the county revoked its device (a lost
    /// phone): refused like any revoked family, but told apart so the phone
    /// learns it must drop its data.
    fn revoke_device_family(&self, family: Uuid) -> StoreResult<()>;
    /// Whether a family was revoked with its device.
    fn family_device_revoked(&self, family: Uuid) -> StoreResult<bool>;
    /// The refresh record of a token hash, if any.
    fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>>;
    /// Every refresh record of a user (all families, spent or not), oldest first.
    fn refresh_of_user(&self, user: Uuid) -> StoreResult<Vec<RefreshRecord>>;

    /// All signing keys, oldest first.
    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Adds a signing key.
    fn add_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()>;
}

/// The audit log: append-only, read by query.
pub trait AuditStore: Send + Sync + 'static {
    /// Appends entries to the audit log, assigning each the next position (their
    /// `seq` is ignored). The log has no update and no delete.
    fn append_audit(&self, entries: &[AuditEntry]) -> StoreResult<()>;
    /// Audit entries matching a query, in log order, at most `query.limit`.
    fn audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
}

/// Sync: operations applied once, the current records, the change feed, case
/// blocks and the county policies work was done under.
pub trait SyncStore: AuditStore {
    /// Applies a batch of operations for one actor, each exactly once: the op-id
    /// record and its state change commit together. One answer per op, in order.
    fn apply_ops(
        &self,
        actor: &Actor,
        policy: &Policy,
        ops: &[OpEnvelope],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<OpAnswer>>;
    /// [`SyncStore::apply_ops`], then the audit entries `audit` makes of the answers,
    /// durable together when it returns (a backend may flush once for both).
    fn apply_ops_audited(
        &self,
        actor: &Actor,
        policy: &Policy,
        ops: &[OpEnvelope],
        now: DateTime<Utc>,
        audit: &dyn Fn(&[OpAnswer]) -> Vec<AuditEntry>,
    ) -> StoreResult<Vec<OpAnswer>> {
        let answers = self.apply_ops(actor, policy, ops, now)?;
        self.append_audit(&audit(&answers))?;
        Ok(answers)
    }
    /// Reserves the next case-number block of `year` for `owner`; its number.
    /// Refused with [`StoreError::TooManyBlocks`] while `owner` holds
    /// `policy.disputes.max_open_case_blocks` outstanding blocks of `year`
    /// ([`fengqiao_domain::disputes::CaseBlockUse`]: a block is outstanding while
    /// fewer of its numbers than the block size were claimed by accepted disputes).
    fn reserve_case_block(&self, owner: Uuid, year: i32, policy: &Policy) -> StoreResult<u32>;
    /// Keeps the county policy the server runs under, by its version, for good:
    /// work a phone made offline under it is judged by it after the county
    /// changes the policy ([`fengqiao_domain::apply::StateView::earlier_policy`]).
    fn keep_policy(&self, policy: &Policy) -> StoreResult<()>;
    /// Writes server-authored records (seed, import) into state and feed.
    /// Returns the last sequence used.
    fn put_records(&self, records: &[Record]) -> StoreResult<u64>;
    /// The current record of a kind and id.
    fn record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<Record>>;
    /// Every current record of a kind (imports compare against them).
    fn records_of_kind(&self, kind: EntityKind) -> StoreResult<Vec<Record>>;
    /// Changes after `after` visible to these grants, plus everything in the
    /// personal feed of `personal` (a user's own subsidies), at most `limit`.
    fn pull(&self, grants: &[RoleGrant], personal: Option<Uuid>, after: u64, limit: usize) -> StoreResult<FeedPage>;
    /// Calls `visit` with each entry (key, value) of the desk's index
    /// (`store::desk_index`, kept by `batch` with each record) whose key starts
    /// with `prefix` and is not below `start`, in key order, until it answers false.
    fn desk_index_scan(
        &self,
        prefix: &[u8],
        start: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()>;
    /// The current record of a kind and id with its scope.
    fn stored_record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<StoredRecord>>;
    /// Highest committed (visible) sequence.
    fn last_seq(&self) -> StoreResult<u64>;

    /// The identity of this store's feed, which pull cursors carry (see
    /// [`FeedEpoch`]). A backend that is never restored from a backup keeps
    /// the default: no identity, every cursor belongs to it.
    fn feed_epoch(&self) -> StoreResult<FeedEpoch> {
        Ok(FeedEpoch { id: None, accepts_unmarked: true })
    }
}

/// Photo uploads in progress (tus metadata) and verified photos: their
/// records, holders and the attachments that reference them. The bytes live
/// in the blob store, not here.
pub trait PhotoStore: Send + Sync + 'static {
    /// Stores (or replaces) an upload's metadata.
    fn put_upload(&self, upload: &UploadRecord) -> StoreResult<()>;
    /// An upload by id.
    fn upload(&self, id: Uuid) -> StoreResult<Option<UploadRecord>>;
    /// Forgets an upload.
    fn delete_upload(&self, id: Uuid) -> StoreResult<()>;
    /// Uploads whose expiry is at or before `now`.
    fn expired_uploads(&self, now: DateTime<Utc>) -> StoreResult<Vec<UploadRecord>>;
    /// Records a verified photo (idempotent).
    fn put_photo(&self, photo: &PhotoRecord) -> StoreResult<()>;
    /// Notes that `user` proved holding the bytes of photo `sha256` (an upload
    /// of theirs completed). Idempotent.
    fn put_photo_holder(&self, sha256: &str, user: Uuid) -> StoreResult<()>;
    /// Whether `user` proved holding the bytes of photo `sha256`: only then does
    /// an attachment of theirs let readers of its record download the photo.
    fn photo_held_by(&self, sha256: &str, user: Uuid) -> StoreResult<bool>;
    /// Records the verified photo an upload brought, the upload's owner as a
    /// holder of it, and the upload as completed (kept until it expires), all
    /// durable when it returns (a store may make them so in one flush).
    fn complete_upload(&self, photo: &PhotoRecord, upload: &UploadRecord) -> StoreResult<()> {
        self.put_photo(photo)?;
        self.put_photo_holder(&photo.sha256, upload.owner)?;
        self.put_upload(&UploadRecord { completed: true, ..upload.clone() })
    }
    /// A verified photo by its hash.
    fn photo(&self, sha256: &str) -> StoreResult<Option<PhotoRecord>>;
    /// The attachments referencing a photo, with their scopes.
    fn photo_refs(&self, sha256: &str) -> StoreResult<Vec<StoredRecord>>;
}

/// Upkeep of the store as a whole: emptiness, durability, health, backups.
pub trait UpkeepStore: Send + Sync + 'static {
    /// True when nothing at all is stored (a fresh data dir).
    fn is_empty(&self) -> StoreResult<bool>;
    /// Makes everything written so far durable.
    fn flush(&self) -> StoreResult<()>;

    /// True once a write failed because the disk was full in a way the backend
    /// does not recover from while running (sled keeps refusing writes after an
    /// I/O error until it is reopened): writes stay impossible until a restart.
    fn write_failed_full(&self) -> bool {
        false
    }

    /// Writes a consistent copy of everything stored to `sink`, tree by tree
    /// (tree name, key, value), as of one instant: no write is half in it.
    /// Backends that cannot be backed up this way answer an error.
    fn snapshot(&self, sink: &mut SnapshotSink<'_>) -> StoreResult<SnapshotInfo> {
        let _ = sink;
        Err(StoreError::Backend("this store cannot be backed up".into()))
    }
}
