//! The phone as a shared device in the field: the store key (rotation), the
//! offline PIN / biometric lock, unsynced work per user, the county admin's
//! "wipe this phone", and the core's disk use.

use fengqiao_core::{
    FieldClient as CoreClient, LockStatus as CoreLock, StorageUsage as CoreUsage, WaitingWork as CoreWaiting,
    WipeReport as CoreWipe,
};

use crate::client::FieldClient;
use crate::convert::id;
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// Where the phone's lock stands for the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LockStatus {
    /// The user set a PIN on this phone.
    pub pin_set: bool,
    /// Their data is closed until unlocked.
    pub locked: bool,
    /// The platform's biometric check may unlock.
    pub biometric_allowed: bool,
    /// PIN attempts left before only an online login opens the phone.
    pub attempts_left: u32,
    /// Seconds before the next PIN attempt is accepted.
    pub retry_after_secs: u64,
}

impl From<CoreLock> for LockStatus {
    fn from(l: CoreLock) -> Self {
        LockStatus {
            pin_set: l.pin_set,
            locked: l.locked,
            biometric_allowed: l.biometric_allowed,
            attempts_left: l.attempts_left,
            retry_after_secs: l.retry_after_secs,
        }
    }
}

/// Unsynced work one user left on this phone (it waits for them).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WaitingWork {
    /// The user's id.
    pub user_id: String,
    /// Their username, if they logged in on this phone.
    pub username: Option<String>,
    /// Their display name, if known.
    pub display_name: Option<String>,
    /// Operations queued.
    pub ops: u64,
    /// Operations refused by the server, waiting for them.
    pub quarantined: u64,
    /// Of those, photos.
    pub photos: u64,
    /// The signed-in user.
    pub is_current: bool,
}

impl From<CoreWaiting> for WaitingWork {
    fn from(w: CoreWaiting) -> Self {
        WaitingWork {
            user_id: id(w.user_id),
            username: w.username,
            display_name: w.display_name,
            ops: w.ops,
            quarantined: w.quarantined,
            photos: w.photos,
            is_current: w.is_current,
        }
    }
}

/// What a wipe removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct WipeReport {
    /// Queued operations lost.
    pub ops_lost: u64,
    /// Quarantined operations lost.
    pub quarantined_lost: u64,
    /// Photos not uploaded, lost.
    pub photos_lost: u64,
    /// Local records removed.
    pub records_removed: u64,
    /// Photo files removed.
    pub photo_files_removed: u64,
}

impl From<CoreWipe> for WipeReport {
    fn from(w: CoreWipe) -> Self {
        WipeReport {
            ops_lost: w.ops_lost,
            quarantined_lost: w.quarantined_lost,
            photos_lost: w.photos_lost,
            records_removed: w.records_removed,
            photo_files_removed: w.photo_files_removed,
        }
    }
}

/// The core's disk use and the space left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct StorageUsage {
    /// Bytes of the store's files.
    pub store_bytes: u64,
    /// Bytes of the photo folder.
    pub photo_bytes: u64,
    /// Bytes free for the core.
    pub free_bytes: u64,
    /// Below this, new photos are refused (`storage_low`).
    pub min_free_bytes: u64,
    /// A new photo would be accepted now.
    pub photos_allowed: bool,
}

impl From<CoreUsage> for StorageUsage {
    fn from(u: CoreUsage) -> Self {
        StorageUsage {
            store_bytes: u.store_bytes,
            photo_bytes: u.photo_bytes,
            free_bytes: u.free_bytes,
            min_free_bytes: u.min_free_bytes,
            photos_allowed: u.photos_allowed,
        }
    }
}

/// Rebuilds a store that `FieldClient(...)` refused as damaged (a `Storage`
/// error saying so) from its outbox journal; see the core's `recover_store`.
/// Returns how many operations were queued again.
#[uniffi::export]
pub fn recover_store(data_dir: String, store_key: Vec<u8>) -> Result<u64, FengqiaoError> {
    guard(|| Ok(CoreClient::recover_store(data_dir, store_key)?.replayed_ops))
}

#[uniffi::export]
impl FieldClient {
    /// Re-wraps the store under a new key from the platform keystore (the
    /// current one must open it); afterwards only `new_key` opens it.
    pub fn rotate_store_key(&self, current_key: Vec<u8>, new_key: Vec<u8>) -> Result<(), FengqiaoError> {
        guard(|| Ok(self.core().rotate_store_key(current_key, new_key)?))
    }

    /// Where the signed-in user's lock stands.
    pub fn lock_status(&self) -> Result<LockStatus, FengqiaoError> {
        guard(|| Ok(self.core().lock_status()?.into()))
    }

    /// Sets the signed-in user's PIN (4–12 digits) and whether biometrics may
    /// unlock; the phone must be unlocked.
    pub fn set_pin(&self, pin: String, allow_biometric: bool) -> Result<(), FengqiaoError> {
        guard(|| Ok(self.core().set_pin(pin, allow_biometric)?))
    }

    /// Removes the signed-in user's PIN.
    pub fn clear_pin(&self) -> Result<(), FengqiaoError> {
        guard(|| Ok(self.core().clear_pin()?))
    }

    /// Closes the user's data until the next unlock (app to background, phone
    /// handed over).
    pub fn lock(&self) {
        let _ = guard(|| {
            self.core().lock();
            Ok(())
        });
    }

    /// Opens the user's data with their PIN, offline (`WrongPin` with the
    /// attempts left and any wait).
    pub fn unlock(&self, pin: String) -> Result<(), FengqiaoError> {
        guard(|| Ok(self.core().unlock(pin)?))
    }

    /// Opens the user's data with the platform's biometric result, if allowed.
    pub fn unlock_with_biometric(&self, verified: bool) -> Result<(), FengqiaoError> {
        guard(|| Ok(self.core().unlock_with_biometric(verified)?))
    }

    /// Unsynced work on this phone per user; each user's waits for them.
    pub fn waiting_work(&self) -> Result<Vec<WaitingWork>, FengqiaoError> {
        guard(|| Ok(self.core().waiting_work()?.into_iter().map(WaitingWork::from).collect()))
    }

    /// "Wipe this phone" (a county admin signed in): refuses with
    /// `UnsyncedWork` unless `force`; reports what was lost.
    pub fn wipe_phone(&self, force: bool) -> Result<WipeReport, FengqiaoError> {
        guard(|| Ok(self.core().wipe_phone(force)?.into()))
    }

    /// The core's disk use and the free space left.
    pub fn storage_usage(&self) -> Result<StorageUsage, FengqiaoError> {
        guard(|| Ok(self.core().storage_usage()?.into()))
    }
}
