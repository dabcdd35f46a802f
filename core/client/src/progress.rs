//! What a sync tells the app: the phase running, progress as it goes
//! ([`SyncProgress`]) and what it did ([`SyncReport`]). Plain types, used by
//! the sync engine and the photo uploader alike.

/// Which part of a sync is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPhase {
    /// Sending queued operations.
    Pushing,
    /// Fetching changes: `done` of `total` is the feed position reached of the feed's end.
    Pulling,
    /// Uploading photos: `done` of `total` bytes of this sync's photos.
    Uploading,
}

/// Receives progress during a sync (called from the syncing task; keep it quick).
pub trait SyncProgress: Send + Sync {
    /// Pushing: `done` of `total` ops pushed. Pulling: the position in the
    /// server's feed reached (`done`) of the feed's end (`total`), so a first
    /// pull resumed after a cut shows how far it has come; from a server that
    /// does not say, `done` changes pulled so far and `total` 0 (unknown).
    fn on_progress(&self, phase: SyncPhase, done: u64, total: u64);
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Ops the server applied now.
    pub pushed_applied: u64,
    /// Ops the server had applied before (duplicate delivery).
    pub pushed_duplicate: u64,
    /// Ops refused for good, now in quarantine.
    pub rejected: u64,
    /// Ops refused because the state moved on, now in quarantine.
    pub conflicts: u64,
    /// Ops the server could not read (422) or take even alone (413), now in quarantine.
    pub malformed: u64,
    /// Changes pulled and applied (puts and drops).
    pub pulled: u64,
    /// Of those, drops (records that left the user's jurisdiction).
    pub dropped: u64,
    /// Changes this build does not understand, skipped.
    pub skipped_unknown: u64,
    /// Pull pages fetched.
    pub pages: u64,
    /// The server reset the user's scope: pulled records were replaced.
    pub reset: bool,
    /// Ops queued by other users of this phone, left waiting for them.
    pub waiting_for_other_users: u64,
    /// Photos whose upload completed (verified by the server) in this sync.
    pub photos_uploaded: u64,
    /// Photos that failed for good in this sync (the others went on).
    pub photos_failed: u64,
    /// Notices this sync gave (see [`crate::FieldClient::pending_notices`]).
    pub new_notices: u64,
}
