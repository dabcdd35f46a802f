//! The phone's local store: records, the outbox of operations waiting for the
//! server, quarantined operations, the cached session and the pull cursor.
//!
//! [`ClientStore`] is the one trait every backend implements ([`SledClientStore`]
//! on the phone, [`MemoryClientStore`] in tests and previews); `conformance`
//! and `conformance_cases` hold the checks both must pass (compiled for tests
//! and with the `testing` feature only). Every write that returns `Ok` is durable
//! (the sled backend syncs its outbox journal, or flushes, before returning) and every multi-key write is
//! all-or-nothing across a crash: one transaction, or for the sled backend's
//! enqueue, ordered inserts that the next open completes from the outbox
//! journal (ADR 0017).

pub mod cases;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
#[cfg(any(test, feature = "testing"))]
pub mod conformance_cases;
#[cfg(any(test, feature = "testing"))]
pub mod conformance_sent;
mod memory;
mod sled;
pub mod vault;

pub use self::cases::{CaseClaim, CaseNumberStore, HeldCaseBlock};
pub use self::memory::MemoryClientStore;
pub use self::sled::{SledClientStore, StoreRecovery};
pub use self::vault::{StoreKey, Vault};

use std::fmt;

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::{Change, OpEnvelope, UserInfo};
use fengqiao_domain::{EntityKind, Record};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Format version of the values this build writes. Each stored value carries it
/// (`fv`), so a later build can migrate; readers tolerate added fields.
pub const STORE_FORMAT_VERSION: u32 = 2;

/// How many operations the server took a phone keeps after they left its
/// outbox (the newest), to send again to a server restored from an older
/// backup (ADR 0032): some weeks of a busy user's work.
pub const SENT_KEPT: usize = 10_000;

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (disk full, I/O error, lock held by another process).
    #[error("storage backend: {0}")]
    Backend(String),
    /// A stored value could not be read back.
    #[error("stored data unreadable: {0}")]
    Corrupt(String),
    /// The data dir was written by a newer, incompatible build.
    #[error("store format {found} is newer than this build's {supported}")]
    Incompatible {
        /// Format version found on disk.
        found: u32,
        /// Newest format this build reads.
        supported: u32,
    },
    /// An operation with this id is already queued or quarantined.
    #[error("operation {0} is already queued")]
    DuplicateOp(Uuid),
    /// The app's store key does not open this phone's store (another key, or
    /// the store's key file was replaced). Nothing was read or changed.
    #[error("the store key does not open this phone's store")]
    WrongKey,
    /// The key handed in is not a store key (it must be 32 bytes).
    #[error("invalid store key: {0}")]
    InvalidKey(String),
    /// The store lost writes it had acknowledged (a damaged file): refused
    /// rather than served. Its queued operations are kept in the outbox
    /// journal; `SledClientStore::recover` (`FieldClient::recover_store`)
    /// rebuilds it from there.
    #[error(
        "the phone's store is damaged ({detail}); {journalled_ops} unsynced operations are kept in its outbox \
         journal: recover the store to queue them again"
    )]
    Damaged {
        /// What was found.
        detail: String,
        /// Operations the outbox journal holds for recovery.
        journalled_ops: u64,
    },
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Where a local record stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordState {
    /// Made on this phone; its operation is queued (or quarantined) and the server
    /// has not confirmed it yet.
    Pending {
        /// The operation that carries it.
        op_id: Uuid,
        /// The user who made it.
        author: Uuid,
    },
    /// Confirmed by the server or pulled from it.
    Synced,
}

impl RecordState {
    /// True while the server has not confirmed the record.
    pub fn is_pending(&self) -> bool {
        matches!(self, RecordState::Pending { .. })
    }
}

/// A record as the phone holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalRecord {
    /// The record.
    pub record: Record,
    /// Pending or synced.
    pub state: RecordState,
}

impl LocalRecord {
    /// Whether `user` is shown this record: pulled, or made by them here.
    /// Another user's unsynced work on a shared phone is not theirs to see or
    /// act on (lists, the rules' view, photos alike).
    pub fn shown_to(&self, user: Uuid) -> bool {
        match self.state {
            RecordState::Synced => true,
            RecordState::Pending { author, .. } => author == user,
        }
    }
}

/// An operation waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Enqueue sequence: the outbox's only order (never the device clock).
    pub seq: u64,
    /// The operation as it will be pushed.
    pub op: OpEnvelope,
    /// When it was queued (device clock; informational).
    pub enqueued_at: DateTime<Utc>,
}

/// An operation the server refused (or could not read), kept for the user to
/// retry or discard.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantinedEntry {
    /// Its original enqueue sequence (a retried op goes back to this place).
    pub seq: u64,
    /// The operation.
    pub op: OpEnvelope,
    /// Stable code: a domain rejection code, `conflict`, `malformed_op`, ...
    pub code: String,
    /// The server's human message.
    pub message: String,
    /// For a conflict: the state that stands on the server.
    pub current: Option<Record>,
    /// When it was quarantined (device clock).
    pub quarantined_at: DateTime<Utc>,
}

/// Why an operation goes to quarantine.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineReason {
    /// Stable code.
    pub code: String,
    /// Human message.
    pub message: String,
    /// For a conflict: the server's current record.
    pub current: Option<Record>,
}

/// The tokens of a signed-in session. `Debug` never prints them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Bearer access token.
    pub access_token: String,
    /// When the access token expires, on the device's clock (received-at plus
    /// the server's `expires_in`; a skewed clock cannot misjudge it).
    pub access_expires_at: DateTime<Utc>,
    /// Refresh token (rotates on every refresh).
    pub refresh_token: String,
    /// When the refresh token expires, on the device's clock (the server's
    /// expiry moved by the server clock's offset at login).
    pub refresh_expires_at: DateTime<Utc>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_token", &"<redacted>")
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// The cached session: who is signed in, and their tokens while the server
/// still honours them. `tokens` is `None` after the server refused the refresh
/// token: the user stays known (work goes on offline) but must log in again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    /// The user and their roles as of the last login or refresh.
    pub user: UserInfo,
    /// Tokens, if the session is still valid on the server.
    pub tokens: Option<Tokens>,
}

/// One page of pulled changes, applied with its cursor in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct PulledPage {
    /// Drop every pulled record before applying (the user's scope changed).
    pub reset: bool,
    /// The changes this build understood, in feed order.
    pub changes: Vec<Change>,
    /// The cursor to send next time.
    pub next_cursor: String,
}

/// Whose pull this is and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullState {
    /// The user whose scope the pulled records belong to.
    pub user: Uuid,
    /// The feed cursor (empty: from the start).
    pub cursor: String,
    /// The highest feed sequence pulled into the records held now (`None`:
    /// unknown). Ops carry it so the server tells a lost race from a plain
    /// invalid request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<u64>,
}

impl PullState {
    /// The state after applying `page` over `prev` for `user`.
    pub fn after(prev: Option<&PullState>, user: Uuid, page: &PulledPage) -> PullState {
        let before = match prev {
            Some(p) if p.user == user && !page.reset => p.seen,
            _ => None,
        };
        let top = page.changes.iter().map(|c| c.seq).max();
        PullState { user, cursor: page.next_cursor.clone(), seen: before.max(top) }
    }
}

/// The last sync error, for the status screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncErrorInfo {
    /// Stable code (see [`crate::ClientError::code`]).
    pub code: String,
    /// Human message (no personal data).
    pub message: String,
    /// When it happened (device clock).
    pub at: DateTime<Utc>,
}

/// Bookkeeping shown on the sync status screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncMeta {
    /// End of the last sync that completed without error.
    #[serde(default)]
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last sync's error, cleared by a successful sync.
    #[serde(default)]
    pub last_error: Option<SyncErrorInfo>,
    /// The county's policy as the server last served it (`GET /v1/policy`), JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county_policy: Option<String>,
    /// The `ETag` the server gave `county_policy`: sent back in `If-None-Match`,
    /// and compared with the tag a pull names, to fetch the policy only when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county_policy_etag: Option<String>,
    /// The server said it takes gzip request bodies (`Accept-Encoding`), so the
    /// first push of a fresh process goes compressed too.
    #[serde(default)]
    pub server_takes_gzip: bool,
}

/// Where one photo's upload stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UploadState {
    /// Waiting: for its attach operation to be confirmed, or for the next sync.
    Pending,
    /// Partly on the server (resumes from the server's offset).
    Uploading {
        /// Bytes the server has confirmed.
        bytes_done: u64,
        /// The photo's size.
        total: u64,
    },
    /// On the server, verified by hash.
    Done,
    /// Failed: `permanent` ones are not retried (others are, on the next sync).
    Failed {
        /// Stable code (e.g. `photo_too_large`, `local_file_missing`).
        code: String,
        /// Human message (no personal data).
        message: String,
        /// Not retried.
        permanent: bool,
    },
}

impl UploadState {
    /// Not done and not failed for good: the uploader still works on it.
    pub fn is_open(&self) -> bool {
        !matches!(self, UploadState::Done | UploadState::Failed { permanent: true, .. })
    }
}

/// A photo in the persisted upload queue (one per SHA-256, however many records
/// it is attached to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoUpload {
    /// SHA-256 of the bytes, lowercase hex (the key).
    pub sha256: String,
    /// Size in bytes.
    pub length: u64,
    /// Image type (sent as tus metadata).
    pub content_type: String,
    /// Queue order: the enqueue sequence of its first attach operation (set by the store).
    #[serde(default)]
    pub seq: u64,
    /// The server applied an attach operation of this photo: it may upload.
    #[serde(default)]
    pub confirmed: bool,
    /// Where the upload stands.
    pub state: UploadState,
    /// The tus upload's URL (path on the server) once created.
    #[serde(default)]
    pub upload_url: Option<String>,
    /// Upload attempts started so far.
    #[serde(default)]
    pub attempts: u32,
    /// When it was queued (device clock; informational).
    pub queued_at: DateTime<Utc>,
    /// When the server confirmed the whole photo (device clock; eviction order).
    #[serde(default)]
    pub done_at: Option<DateTime<Utc>>,
}

impl PhotoUpload {
    /// A new queue entry, pending until its attach operation is confirmed.
    pub fn new(sha256: String, length: u64, content_type: String, at: DateTime<Utc>) -> Self {
        PhotoUpload {
            sha256,
            length,
            content_type,
            seq: 0,
            confirmed: false,
            state: UploadState::Pending,
            upload_url: None,
            attempts: 0,
            queued_at: at,
            done_at: None,
        }
    }

    /// Merges a new attach of the same bytes into an existing entry: a failed
    /// upload gets a fresh start (the file was just stored again); anything else
    /// stays as it is.
    pub(crate) fn merge_new_attach(&mut self, new: &PhotoUpload) {
        if matches!(self.state, UploadState::Failed { .. }) {
            self.state = UploadState::Pending;
            self.upload_url = None;
            self.attempts = 0;
            self.content_type = new.content_type.clone();
        }
    }
}

/// Whose data a [`ClientStore::wipe`] drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WipeScope {
    /// One user's: their queued and quarantined ops, the pending records and
    /// not-yet-confirmed photos those carry, their held case numbers, and (if
    /// the pulled records are theirs) the pulled records and the cursor; their
    /// session if it is the cached one.
    User(Uuid),
    /// Everything, the device id included (the next login is a new device).
    All,
}

/// What a wipe dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WipeCounts {
    /// Queued operations the server never received.
    pub ops: u64,
    /// Quarantined operations.
    pub quarantined: u64,
    /// Photos whose upload had not finished.
    pub photos: u64,
    /// Local records (pending and pulled).
    pub records: u64,
}

impl WipeCounts {
    /// Work the server never received (queued and quarantined ops, unfinished photos).
    pub fn unsynced(&self) -> u64 {
        self.ops + self.quarantined + self.photos
    }
}

/// The phone's store. One writer at a time (backends serialise writes); every
/// write is atomic and durable when it returns `Ok`. Case-number blocks are in
/// the [`CaseNumberStore`] part.
pub trait ClientStore: Send + Sync + CaseNumberStore {
    /// The cached session, if any.
    fn load_session(&self) -> StoreResult<Option<StoredSession>>;
    /// Replaces the cached session (durably: a rotated refresh token must
    /// survive a crash before the new access token is used).
    fn save_session(&self, session: &StoredSession) -> StoreResult<()>;
    /// Forgets the cached session. Queued operations stay.
    fn clear_session(&self) -> StoreResult<()>;
    /// This install's id, made on first use and stable afterwards.
    fn device_id(&self) -> StoreResult<Uuid>;

    /// Saves a record made on this phone as pending on `op` and appends `op` to
    /// the outbox, all or nothing. Returns the op's enqueue sequence.
    /// Fails with [`StoreError::DuplicateOp`] (changing nothing) if the op id is
    /// already queued or quarantined.
    fn enqueue(&self, record: &Record, op: &OpEnvelope, at: DateTime<Utc>) -> StoreResult<u64>;
    /// One record.
    fn get_record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<LocalRecord>>;
    /// Records of a kind, highest id first (UUIDv7: newest made first), at most `limit`.
    fn list_records(&self, kind: EntityKind, limit: usize) -> StoreResult<Vec<LocalRecord>>;

    /// Queued operations in enqueue order, only `author`'s if given, at most `limit`.
    fn outbox(&self, author: Option<Uuid>, limit: usize) -> StoreResult<Vec<OutboxEntry>>;
    /// [`outbox`](Self::outbox) from the first op queued after sequence
    /// `after` (the next batch while an earlier one is still being pushed).
    fn outbox_after(&self, author: Option<Uuid>, after: u64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        Ok(self.outbox(author, usize::MAX)?.into_iter().filter(|e| e.seq > after).take(limit).collect())
    }
    /// How many operations are queued (only `author`'s if given).
    fn outbox_len(&self, author: Option<Uuid>) -> StoreResult<u64>;
    /// The server took the op (applied or duplicate): removes it from the outbox
    /// (keeping it in the sent log, see [`requeue_sent`](Self::requeue_sent))
    /// and marks its record synced, in one transaction. `false` if not queued.
    fn complete_op(&self, op_id: Uuid) -> StoreResult<bool>;
    /// [`complete_op`](Self::complete_op) for every op of one push's answers,
    /// in one transaction and one flush. Returns how many were queued.
    fn complete_ops(&self, op_ids: &[Uuid]) -> StoreResult<u64>;
    /// [`complete_ops`](Self::complete_ops) for entries as
    /// [`outbox`](Self::outbox) returned them: a backend may use the entry's
    /// op instead of reading it again (an entry counts only if its op id is
    /// still queued at its sequence). Returns how many were queued.
    fn complete_entries(&self, entries: &[OutboxEntry]) -> StoreResult<u64> {
        self.complete_ops(&entries.iter().map(|e| e.op.op_id).collect::<Vec<_>>())
    }
    /// Housekeeping after a push, outside its critical path (the sled store
    /// compacts its outbox journal and trims the sent log here). Best effort.
    fn tidy(&self) {}
    /// The server was restored from a backup and may lack ops it took before:
    /// puts `author`'s sent ops (those [`complete_op`](Self::complete_op)
    /// kept, the newest [`SENT_KEPT`]) back in the outbox at their places, so
    /// the next push sends them again (the server answers `duplicate` for those
    /// it has), and marks their photos to upload again. Returns how many.
    fn requeue_sent(&self, author: Uuid) -> StoreResult<u64>;
    /// How many sent ops are kept.
    fn sent_len(&self) -> StoreResult<u64>;
    /// Moves a queued op to quarantine with the reason, in one transaction.
    /// `false` if not queued.
    fn quarantine_op(&self, op_id: Uuid, reason: &QuarantineReason, at: DateTime<Utc>) -> StoreResult<bool>;
    /// Quarantined operations, in enqueue order.
    fn quarantined(&self) -> StoreResult<Vec<QuarantinedEntry>>;
    /// Puts a quarantined op back in the outbox at its original place.
    /// `false` if not quarantined.
    fn requeue_quarantined(&self, op_id: Uuid) -> StoreResult<bool>;
    /// Drops a quarantined op for good, with the local pending record it carried
    /// (replaced by the server's `current` record of a conflict, if any, unless
    /// the phone holds a copy pulled since, which is newer).
    /// `false` if not quarantined.
    fn discard_quarantined(&self, op_id: Uuid) -> StoreResult<bool>;

    /// Whose pull the local records are and the cursor, if anything was pulled.
    fn pull_state(&self) -> StoreResult<Option<PullState>>;
    /// Applies one pulled page for `user` and stores its cursor, in one
    /// transaction. With `page.reset`, first drops every synced record (pending
    /// records and the outbox stay). A put replaces a pending copy with the same id.
    fn apply_pulled(&self, user: Uuid, page: &PulledPage) -> StoreResult<()>;
    /// Drops every synced record and the cursor (pending records, the outbox
    /// and quarantine stay), e.g. when another user signs in.
    fn reset_pulled(&self) -> StoreResult<()>;

    /// [`enqueue`](Self::enqueue) for an attach-photo op, which also adds the
    /// photo to the upload queue (or merges into its entry, see
    /// [`PhotoUpload::merge_new_attach`]), all or nothing. The server's
    /// `applied`/`duplicate` answer to the op ([`complete_op`](Self::complete_op))
    /// marks the entry `confirmed`; discarding the quarantined op drops an
    /// unconfirmed entry.
    fn enqueue_photo(
        &self,
        record: &Record,
        op: &OpEnvelope,
        upload: &PhotoUpload,
        at: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// One upload-queue entry.
    fn photo_upload(&self, sha256: &str) -> StoreResult<Option<PhotoUpload>>;
    /// The upload queue in queue order.
    fn photo_uploads(&self) -> StoreResult<Vec<PhotoUpload>>;
    /// Replaces an existing entry's progress (state, URL, attempts, done time);
    /// `false` (changing nothing) if the photo is not queued. `seq` and
    /// `confirmed` are kept as stored. A step of an upload still under way
    /// (pending or uploading, before and after, same upload URL) may return
    /// before it is on disk: the server tells the bytes sent again, and an
    /// attempt count is cheap to lose. A new URL and an upload that ends are
    /// durable on return.
    fn save_photo_upload(&self, upload: &PhotoUpload) -> StoreResult<bool>;

    /// Sync bookkeeping.
    fn sync_meta(&self) -> StoreResult<SyncMeta>;
    /// Replaces the sync bookkeeping.
    fn save_sync_meta(&self, meta: &SyncMeta) -> StoreResult<()>;

    /// A small named value of the core's own bookkeeping (the device lock,
    /// users known on this phone), sealed like everything else.
    fn local_value(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Replaces (or with `None` removes) a named value, durably.
    fn save_local_value(&self, name: &str, value: Option<&[u8]>) -> StoreResult<()>;

    /// Drops one user's data or everything (see [`WipeScope`]) and reports
    /// what was dropped. Callers decide whether unsynced work may go.
    fn wipe(&self, scope: WipeScope) -> StoreResult<WipeCounts>;

    /// Bytes the store's files take on disk (0 for a store in memory).
    fn disk_bytes(&self) -> u64;

    /// The keys the store seals with, for the photo folder (`None`: the
    /// store is not on disk).
    fn vault(&self) -> Option<std::sync::Arc<Vault>>;
}

/// A fixed store key for tests.
#[cfg(test)]
pub(crate) fn test_key() -> StoreKey {
    match StoreKey::from_bytes(&[7u8; vault::KEY_LEN]) {
        Ok(k) => k,
        Err(_) => StoreKey::generate(),
    }
}

/// The key of a record: entity tag byte + the 16 bytes of its uuid.
pub(crate) fn record_key(kind: EntityKind, id: Uuid) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = kind.tag();
    k[1..].copy_from_slice(id.as_bytes());
    k
}

/// The record's key for a pulled change: the record's own if present.
pub(crate) fn change_key(change: &Change) -> [u8; 17] {
    match &change.record {
        Some(r) => record_key(r.kind(), r.id()),
        None => record_key(change.entity, change.id),
    }
}

/// The photo an attach operation refers to, if it is one.
pub(crate) fn op_photo(op: &OpEnvelope) -> Option<&str> {
    if let fengqiao_domain::wire::Op::AttachPhoto(a) = &op.op {
        Some(a.sha256.as_str())
    } else {
        None
    }
}

/// The key of the record an operation carries, if it carries one.
pub(crate) fn op_record_key(op: &OpEnvelope) -> Option<[u8; 17]> {
    let (kind, id) = op.op.record_ref();
    Some(record_key(kind, id))
}

#[cfg(test)]
mod pull_state_tests {
    use super::*;
    use fengqiao_domain::wire::{Change, ChangeAction};
    use fengqiao_domain::EntityKind;

    fn page(reset: bool, seqs: &[u64]) -> PulledPage {
        let changes = seqs
            .iter()
            .map(|s| Change {
                seq: *s,
                action: ChangeAction::Drop,
                entity: EntityKind::Visit,
                id: Uuid::nil(),
                record: None,
            })
            .collect();
        PulledPage { reset, changes, next_cursor: "c".into() }
    }

    #[test]
    fn seen_is_the_highest_sequence_pulled_for_this_user_since_the_last_reset() {
        let (me, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let first = PullState::after(None, me, &page(false, &[3, 9, 5]));
        assert_eq!(first.seen, Some(9));
        let empty = PullState::after(Some(&first), me, &page(false, &[]));
        assert_eq!(empty.seen, Some(9), "an empty page keeps it");
        assert_eq!(PullState::after(Some(&empty), me, &page(false, &[12])).seen, Some(12));
        assert_eq!(PullState::after(Some(&empty), me, &page(true, &[4])).seen, Some(4), "a reset starts over");
        assert_eq!(PullState::after(Some(&empty), other, &page(false, &[])).seen, None, "another user's");
    }
}
