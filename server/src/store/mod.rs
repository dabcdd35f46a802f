//! The server's store: users, refresh tokens, signing keys, records and the change
//! feed, behind traits split by concern ([`AccountStore`], [`AuditStore`],
//! [`SyncStore`], [`PhotoStore`], [`UpkeepStore`]; [`Store`] is their union), so
//! another backend fits without touching anything above it.
//!
//! Both backends ([`SledStore`], [`MemoryStore`]) apply operations through the same
//! [`batch`] functions over their own [`batch::WriteTx`], and both run the
//! conformance suite (`conformance`, compiled for tests and with the
//! `testing` feature only).

pub mod audit;
pub mod batch;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod desk_index;
mod group_commit;
pub mod memory;
pub mod postgres;
pub mod sled_store;
mod traits;

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::Change;
use fengqiao_domain::{EntityKind, Record, RoleGrant};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use audit::{AuditAction, AuditEntry, AuditQuery};
pub use memory::MemoryStore;
pub use postgres::PgStore;
pub use sled_store::SledStore;
pub use traits::{AccountStore, AuditStore, PhotoStore, Store, SyncStore, UpkeepStore};

/// Storage failures. Never carries personal data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The underlying database failed.
    #[error("storage backend: {0}")]
    Backend(String),
    /// Stored bytes could not be decoded (corruption or an unknown newer format).
    #[error("stored data could not be decoded: {0}")]
    Corrupt(String),
    /// A unique key is taken (e.g. a username).
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// A record could not be placed (its org unit is unknown).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// The user holds as many outstanding case-number blocks as the policy allows
    /// (`disputes.max_open_case_blocks`, the number in the error).
    #[error("too many outstanding case-number blocks (at most {0})")]
    TooManyBlocks(u32),
    /// The store was written by a newer server, in a format this one cannot read.
    #[error(
        "the data dir was written by a newer fengqiao-server (store format {found}; this server reads formats up to \
         {supported}): run that release or a newer one, or restore a backup taken by this release into an empty data dir"
    )]
    NewerFormat {
        /// The format found on disk.
        found: u64,
        /// The newest format this build reads.
        supported: u64,
    },
    /// The disk is full (ENOSPC, or a quota): nothing of the write was
    /// acknowledged; it may be retried once an operator frees space.
    #[error("storage full: {0}")]
    StorageFull(String),
}

/// Whether an I/O error means the disk (or the user's quota) is full. The one
/// place ENOSPC is recognised: the store, the photo blobs and the HTTP layer all
/// ask here.
pub fn is_storage_full(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        if is_storage_full(&e) {
            StoreError::StorageFull(e.to_string())
        } else {
            StoreError::Backend(e.to_string())
        }
    }
}

impl From<sled::Error> for StoreError {
    /// sled wraps the operating system's error in `sled::Error::Io`; a full disk
    /// becomes [`StoreError::StorageFull`], anything else a backend failure.
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Io(io) => io.into(),
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// A user account as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Stable id.
    pub id: Uuid,
    /// Unique sign-in name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// argon2id PHC string. Never logged, never sent.
    pub password_hash: String,
    /// Roles bound to org units.
    pub grants: Vec<RoleGrant>,
    /// A disabled user's tokens stop working at once.
    #[serde(default)]
    pub disabled: bool,
    /// Set by an administrator's password reset: the user must choose a new
    /// password before doing anything else.
    #[serde(default)]
    pub must_change_password: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// A refresh token, stored by its hash only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The rotation family: every token descended from one login.
    pub family: Uuid,
    /// Whose.
    pub user_id: Uuid,
    /// The phone's install id, if it sent one.
    #[serde(default)]
    pub device_id: Option<Uuid>,
    /// When issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Spent by a rotation (reusing a spent token revokes the family).
    #[serde(default)]
    pub spent: bool,
    /// When it was spent by a rotation: a retry by the same device shortly
    /// after is answered again (see [`SpendRequest`]). `None` for a token never
    /// spent, or one superseded by a retry (it has no grace of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_at: Option<DateTime<Utc>>,
    /// The hash of the token its rotation issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
}

/// How to spend a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendRequest {
    /// The hash of the token to issue in its place.
    pub successor: String,
    /// The device presenting it (the phone's install id), if it said.
    pub device: Option<Uuid>,
    /// How long after a spend the same device may present the token again and
    /// get a new successor (its answer was lost), as long as the successor it
    /// was given has not been spent.
    pub grace: chrono::Duration,
}

/// What spending a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpendOutcome {
    /// It was live; it is now spent. Issue its successor in the same family.
    Spent(RefreshRecord),
    /// It was spent moments ago by the same device, whose answer was lost: the
    /// successor issued then is now spent unused. Issue the new successor.
    Retried(RefreshRecord),
    /// It had been spent before: the family is now revoked.
    Reused {
        /// The revoked family.
        family: Uuid,
    },
    /// Unknown, expired, or its family revoked.
    Invalid,
}

/// An Ed25519 signing key for access tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyRecord {
    /// Key id (`kid` in token headers and the JWKS).
    pub kid: String,
    /// PKCS#8 DER of the private key, base64.
    pub private_pkcs8_b64: String,
    /// Raw public key, base64url (the JWK `x`).
    pub public_x: String,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// A photo upload in progress (tus). Its bytes live in the blob store; its offset is
/// the length of what the blob store holds, so it survives any crash consistently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// Upload id (in the upload's URL).
    pub id: Uuid,
    /// The uploader; nobody else may see or continue it.
    pub owner: Uuid,
    /// Declared SHA-256 of the whole photo, lowercase hex.
    pub sha256: String,
    /// Declared length in bytes.
    pub length: u64,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When it is removed (complete or not).
    pub expires_at: DateTime<Utc>,
    /// Every byte arrived, was verified and kept. The record stays until
    /// `expires_at`, so that `HEAD` keeps answering the full offset (tus 1.0).
    #[serde(default)]
    pub completed: bool,
}

/// A complete, verified photo blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRecord {
    /// SHA-256 of its bytes, lowercase hex (its name).
    pub sha256: String,
    /// Length in bytes.
    pub length: u64,
    /// When the first upload of these bytes completed.
    pub created_at: DateTime<Utc>,
}

/// One page of the change feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    /// Changes in sequence order.
    pub changes: Vec<Change>,
    /// More visible changes wait beyond this page.
    pub has_more: bool,
    /// Where the next pull may start: the last change returned, or, when the feed
    /// was read to its end, the highest committed sequence.
    pub position: u64,
    /// The pull started beyond the end of the feed (a cursor from before a restore,
    /// or forged): nothing was read, and the caller must start over from the
    /// beginning.
    pub beyond_end: bool,
}

/// The identity of a store's change feed. A restore from a backup gives the
/// restored store a new one, so a phone whose cursor was given out by the
/// store before (and may lie ahead of the restored feed) is told to start over
/// and to send its work again (ADR 0032).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedEpoch {
    /// The feed's id (a UUID, as text), carried by every cursor given out.
    pub id: Option<String>,
    /// Whether a cursor without an id (given out before store format 2) still
    /// belongs to this feed: true until the store is restored from a backup.
    pub accepts_unmarked: bool,
}

/// Where a snapshot goes: called with each entry's tree name, key and value.
pub type SnapshotSink<'a> = dyn FnMut(&str, &[u8], &[u8]) -> std::io::Result<()> + 'a;

/// What a snapshot was taken at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The last feed sequence written (every change up to it is in the copy).
    pub last_seq: u64,
    /// The feed's id at the time.
    pub feed_epoch: Option<String>,
    /// The store's on-disk format.
    pub store_format: u64,
}

/// The stored form of an op's answer: the original outcome and who sent it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAnswer {
    /// The op's author.
    pub author: Uuid,
    /// The first answer given.
    pub outcome: fengqiao_domain::wire::Outcome,
}

/// A record with the scope whose feeds carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// Storage format version.
    pub v: u32,
    /// Home unit first, county last.
    pub scope: Vec<Uuid>,
    /// The record.
    pub record: Record,
    /// Feed sequence of its last change (0: stored before versions were kept).
    #[serde(default)]
    pub seq: u64,
}

/// Key of a record: entity tag byte + 16-byte id.
pub fn record_key(kind: EntityKind, id: Uuid) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = kind.tag();
    k[1..].copy_from_slice(id.as_bytes());
    k
}

/// Key of a feed-index entry: unit id + big-endian sequence.
pub fn feed_key(unit: Uuid, seq: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..16].copy_from_slice(unit.as_bytes());
    k[16..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// Reads one page of the feed the same way on every backend: each grant's unit
/// feed filtered by its role, plus the personal feed unfiltered, at most `limit`
/// visible changes from each, merged. `scan(unit)` yields the unit's changes after
/// the cursor, in sequence order, up to the visible watermark.
pub(crate) fn gather_page<I>(
    grants: &[RoleGrant],
    personal: Option<Uuid>,
    limit: usize,
    visible: u64,
    after: u64,
    mut scan: impl FnMut(Uuid) -> I,
) -> StoreResult<FeedPage>
where
    I: Iterator<Item = StoreResult<Change>>,
{
    let mut all = Vec::new();
    let mut any_full = false;
    if after < visible {
        let feeds = grants.iter().map(|g| (g.unit_id, Some(g.role))).chain(personal.map(|p| (p, None)));
        for (unit, role) in feeds {
            let mut taken = 0;
            for change in scan(unit) {
                let change = change?;
                if role.is_some_and(|r| !fengqiao_domain::permissions::sees(r, change.visibility_kind())) {
                    continue;
                }
                all.push(change);
                taken += 1;
                if taken == limit {
                    any_full = true;
                    break;
                }
            }
        }
    }
    if after > visible {
        return Ok(FeedPage { changes: Vec::new(), has_more: false, position: visible, beyond_end: true });
    }
    Ok(merge_page(all, any_full, limit, visible))
}

/// What spending a refresh token writes: the outcome, the refresh records to
/// store, and a family to revoke. The one rule every backend applies inside its
/// transaction, given the token's record, whether its family is revoked, and the
/// record of the successor its last rotation issued.
pub(crate) struct SpendPlan {
    /// The answer.
    pub outcome: SpendOutcome,
    /// Records to write (replacing those with the same hash).
    pub write: Vec<RefreshRecord>,
    /// A family to revoke.
    pub revoke: Option<Uuid>,
}

pub(crate) fn plan_spend(
    rec: Option<RefreshRecord>,
    family_revoked: bool,
    successor: Option<RefreshRecord>,
    now: DateTime<Utc>,
    req: &SpendRequest,
) -> SpendPlan {
    let nothing = |outcome| SpendPlan { outcome, write: Vec::new(), revoke: None };
    let Some(mut rec) = rec else { return nothing(SpendOutcome::Invalid) };
    if family_revoked {
        return nothing(SpendOutcome::Invalid);
    }
    if rec.spent {
        let retry = rec.spent_at.is_some_and(|at| now < at + req.grace)
            && req.device.is_some()
            && req.device == rec.device_id
            && successor.as_ref().is_none_or(|s| !s.spent);
        if !retry {
            return SpendPlan {
                outcome: SpendOutcome::Reused { family: rec.family },
                write: Vec::new(),
                revoke: Some(rec.family),
            };
        }
        let mut write = Vec::with_capacity(2);
        if let Some(mut lost) = successor {
            lost.spent = true;
            lost.spent_at = None;
            write.push(lost);
        }
        rec.successor = Some(req.successor.clone());
        write.push(rec.clone());
        return SpendPlan { outcome: SpendOutcome::Retried(rec), write, revoke: None };
    }
    if rec.expires_at <= now {
        return nothing(SpendOutcome::Invalid);
    }
    rec.spent = true;
    rec.spent_at = Some(now);
    rec.successor = Some(req.successor.clone());
    SpendPlan { outcome: SpendOutcome::Spent(rec.clone()), write: vec![rec], revoke: None }
}

/// Merges per-grant candidate lists into one page (sorted, deduplicated).
pub(crate) fn merge_page(mut all: Vec<Change>, any_full: bool, limit: usize, visible: u64) -> FeedPage {
    all.sort_by_key(|c| c.seq);
    all.dedup_by_key(|c| c.seq);
    let has_more = all.len() > limit || any_full;
    all.truncate(limit);
    let position = match (has_more, all.last()) {
        (true, Some(last)) => last.seq,
        // Read to the end of every index: the next pull may start at the top.
        _ => visible,
    };
    FeedPage { changes: all, has_more, position, beyond_end: false }
}
