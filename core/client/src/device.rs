//! The phone as a device shared in the field: an offline lock (PIN or the
//! platform's biometric check), unsynced work kept per user, the county
//! admin's "wipe this phone", the server's device revocation, and the core's
//! disk use with its low-space guard (ADR 0010).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use fengqiao_domain::permissions::{may, Action};
use fengqiao_domain::wire::{Op, UserInfo};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::store::{WipeCounts, WipeScope};

/// Wrong PINs accepted without waiting.
pub const PIN_FREE_ATTEMPTS: u32 = 5;
/// Wrong PINs after which only an online login opens the phone.
pub const PIN_MAX_ATTEMPTS: u32 = 10;
/// The first wait after the free attempts (doubling with each wrong PIN).
const PIN_FIRST_WAIT_SECS: i64 = 30;
/// Local value holding the users known on this phone.
const KNOWN_USERS: &str = "known_users";

fn lock_name(user: Uuid) -> String {
    format!("device_lock/{user}")
}

/// A user's offline lock as stored (sealed) on the phone.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeviceLock {
    /// Argon2id hash of the PIN (PHC string).
    pin_hash: String,
    /// The platform's biometric check may unlock too.
    biometric: bool,
    /// Wrong PINs in a row.
    failed: u32,
    /// No attempt accepted before this (device clock).
    wait_until: Option<DateTime<Utc>>,
}

/// A user known on this phone (from their logins), for the "waiting" screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KnownUser {
    username: String,
    display_name: String,
}

/// Where the phone's lock stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockStatus {
    /// The signed-in user set a PIN on this phone.
    pub pin_set: bool,
    /// The store is closed to this app run until unlocked.
    pub locked: bool,
    /// The biometric check may unlock.
    pub biometric_allowed: bool,
    /// PIN attempts left before only an online login opens the phone.
    pub attempts_left: u32,
    /// Seconds before the next PIN attempt is accepted (0: now).
    pub retry_after_secs: u64,
}

/// Unsynced work one user left on this phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingWork {
    /// The user.
    pub user_id: Uuid,
    /// Their username, if they logged in on this phone.
    pub username: Option<String>,
    /// Their display name, if known.
    pub display_name: Option<String>,
    /// Operations queued for the server.
    pub ops: u64,
    /// Operations the server refused, waiting for them.
    pub quarantined: u64,
    /// Of those, photos attached.
    pub photos: u64,
    /// The signed-in user.
    pub is_current: bool,
}

/// What a wipe removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WipeReport {
    /// Queued operations the server never received (lost).
    pub ops_lost: u64,
    /// Quarantined operations (lost).
    pub quarantined_lost: u64,
    /// Photos not uploaded yet (lost).
    pub photos_lost: u64,
    /// Local records removed (pulled ones come back with a sync).
    pub records_removed: u64,
    /// Photo files removed.
    pub photo_files_removed: u64,
}

impl WipeReport {
    fn from_counts(c: WipeCounts, files: u64) -> WipeReport {
        WipeReport {
            ops_lost: c.ops,
            quarantined_lost: c.quarantined,
            photos_lost: c.photos,
            records_removed: c.records,
            photo_files_removed: files,
        }
    }
}

/// The core's disk use and the space left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageUsage {
    /// Bytes of the store's files (records, outbox, journal).
    pub store_bytes: u64,
    /// Bytes of the photo folder.
    pub photo_bytes: u64,
    /// Bytes free for the core (the disk's free space, or what is left of
    /// `ClientOptions::storage_quota_bytes`, whichever is less).
    pub free_bytes: u64,
    /// Below this much free space new photos are refused (`storage_low`).
    pub min_free_bytes: u64,
    /// A new photo would be accepted now (space permitting its size).
    pub photos_allowed: bool,
}

fn hash_pin(pin: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Error::InvalidInput("the PIN could not be set".into()))
}

fn pin_matches(pin: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(pin.as_bytes(), &h).is_ok())
}

fn check_pin_shape(pin: &str) -> Result<(), Error> {
    if !(4..=12).contains(&pin.chars().count()) || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::InvalidInput("a PIN is 4 to 12 digits".into()));
    }
    Ok(())
}

impl FieldClient {
    fn device_lock(&self, user: Uuid) -> Result<Option<DeviceLock>, Error> {
        match self.store.local_value(&lock_name(user))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Store(crate::store::StoreError::Corrupt(format!("device lock: {e}")))),
            None => Ok(None),
        }
    }

    fn save_device_lock(&self, user: Uuid, lock: Option<&DeviceLock>) -> Result<(), Error> {
        let bytes = lock.map(serde_json::to_vec).transpose().map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(self.store.save_local_value(&lock_name(user), bytes.as_deref())?)
    }

    /// Refuses with [`Error::Locked`] while the signed-in user's PIN lock is
    /// closed. Every call that reads or writes the user's data passes here.
    pub(crate) fn gate(&self) -> Result<(), Error> {
        if self.unlocked.load(Ordering::Acquire) {
            return Ok(());
        }
        let Some(session) = self.store.load_session()? else { return Ok(()) };
        match self.device_lock(session.user.id)? {
            Some(_) => Err(Error::Locked),
            None => Ok(()),
        }
    }

    /// Where the signed-in user's lock stands.
    pub fn lock_status(&self) -> Result<LockStatus, ClientError> {
        let run = || -> Result<LockStatus, Error> {
            let Some(session) = self.store.load_session()? else {
                return Ok(LockStatus {
                    pin_set: false,
                    locked: false,
                    biometric_allowed: false,
                    attempts_left: PIN_MAX_ATTEMPTS,
                    retry_after_secs: 0,
                });
            };
            let lock = self.device_lock(session.user.id)?;
            let now = self.options.clock.now();
            Ok(LockStatus {
                pin_set: lock.is_some(),
                locked: lock.is_some() && !self.unlocked.load(Ordering::Acquire),
                biometric_allowed: lock.as_ref().is_some_and(|l| l.biometric),
                attempts_left: lock.as_ref().map_or(PIN_MAX_ATTEMPTS, |l| PIN_MAX_ATTEMPTS.saturating_sub(l.failed)),
                retry_after_secs: lock.and_then(|l| l.wait_until).map_or(0, |t| (t - now).num_seconds().max(0) as u64),
            })
        };
        Ok(run()?)
    }

    /// Sets (or changes) the signed-in user's PIN, 4–12 digits, and whether
    /// the platform's biometric check may unlock instead. The phone must be
    /// unlocked. From the next app start (or [`lock`](Self::lock)) the user's
    /// data stays closed until [`unlock`](Self::unlock).
    pub fn set_pin(&self, pin: String, allow_biometric: bool) -> Result<(), ClientError> {
        let run = || -> Result<(), Error> {
            self.gate()?;
            check_pin_shape(&pin)?;
            let user = self.session()?.user.id;
            let lock =
                DeviceLock { pin_hash: hash_pin(&pin)?, biometric: allow_biometric, failed: 0, wait_until: None };
            self.save_device_lock(user, Some(&lock))?;
            self.unlocked.store(true, Ordering::Release);
            tracing::info!("device PIN set");
            Ok(())
        };
        Ok(run()?)
    }

    /// Removes the signed-in user's PIN (the phone must be unlocked).
    pub fn clear_pin(&self) -> Result<(), ClientError> {
        let run = || -> Result<(), Error> {
            self.gate()?;
            let user = self.session()?.user.id;
            self.save_device_lock(user, None)
        };
        Ok(run()?)
    }

    /// Closes the user's data until the next unlock (the app calls this when
    /// it goes to the background or the phone is handed over).
    pub fn lock(&self) {
        self.unlocked.store(false, Ordering::Release);
    }

    /// Opens the user's data with their PIN, offline. Wrong PINs:
    /// [`ClientError::WrongPin`]; after [`PIN_FREE_ATTEMPTS`] each one waits
    /// longer, and after [`PIN_MAX_ATTEMPTS`] only an online login (the
    /// password) opens the phone.
    pub fn unlock(&self, pin: String) -> Result<(), ClientError> {
        Ok(self.unlock_inner(Some(&pin), false)?)
    }

    /// Opens the user's data with the platform's biometric result (Android
    /// BiometricPrompt / iOS LocalAuthentication), if the user allowed it and
    /// the PIN is not locked out.
    pub fn unlock_with_biometric(&self, verified: bool) -> Result<(), ClientError> {
        Ok(self.unlock_inner(None, verified)?)
    }

    fn unlock_inner(&self, pin: Option<&str>, biometric_ok: bool) -> Result<(), Error> {
        if let Some(p) = pin {
            // Not a PIN at all: refused without spending an attempt.
            check_pin_shape(p)?;
        }
        let session = self.store.load_session()?.ok_or(Error::NotLoggedIn)?;
        let user = session.user.id;
        let Some(mut lock) = self.device_lock(user)? else {
            self.unlocked.store(true, Ordering::Release);
            return Ok(());
        };
        let now = self.options.clock.now();
        let out_of_attempts = Error::WrongPin { attempts_left: 0, retry_after_secs: 0 };
        if lock.failed >= PIN_MAX_ATTEMPTS {
            return Err(out_of_attempts);
        }
        if let Some(t) = lock.wait_until.filter(|t| *t > now) {
            let attempts_left = PIN_MAX_ATTEMPTS - lock.failed;
            return Err(Error::WrongPin { attempts_left, retry_after_secs: (t - now).num_seconds().max(1) as u64 });
        }
        let ok = match pin {
            Some(p) => pin_matches(p, &lock.pin_hash),
            None => {
                if !lock.biometric {
                    return Err(Error::InvalidInput("biometric unlock is not allowed on this phone".into()));
                }
                biometric_ok
            }
        };
        if ok {
            if lock.failed > 0 || lock.wait_until.is_some() {
                lock.failed = 0;
                lock.wait_until = None;
                self.save_device_lock(user, Some(&lock))?;
            }
            self.unlocked.store(true, Ordering::Release);
            tracing::info!("device unlocked");
            return Ok(());
        }
        if pin.is_none() {
            // A failed biometric check is the platform's to limit.
            return Err(Error::Locked);
        }
        lock.failed += 1;
        lock.wait_until = (lock.failed >= PIN_FREE_ATTEMPTS && lock.failed < PIN_MAX_ATTEMPTS).then(|| {
            let doublings = (lock.failed - PIN_FREE_ATTEMPTS).min(10);
            now + Duration::seconds(PIN_FIRST_WAIT_SECS << doublings)
        });
        self.save_device_lock(user, Some(&lock))?;
        tracing::warn!(failed = lock.failed, "wrong device PIN");
        if lock.failed >= PIN_MAX_ATTEMPTS {
            return Err(out_of_attempts);
        }
        let retry_after_secs = lock.wait_until.map_or(0, |t| (t - now).num_seconds().max(0) as u64);
        Err(Error::WrongPin { attempts_left: PIN_MAX_ATTEMPTS - lock.failed, retry_after_secs })
    }

    /// After a successful online login: remembers the user for the
    /// "waiting" screen and opens their lock (the password beats the PIN).
    pub(crate) fn after_login(&self, user: &UserInfo) -> Result<(), Error> {
        let mut known = self.known_users()?;
        known.insert(user.id, KnownUser { username: user.username.clone(), display_name: user.display_name.clone() });
        let bytes = serde_json::to_vec(&known).map_err(|e| Error::Protocol(e.to_string()))?;
        self.store.save_local_value(KNOWN_USERS, Some(&bytes))?;
        if let Some(mut lock) = self.device_lock(user.id)? {
            if lock.failed > 0 || lock.wait_until.is_some() {
                lock.failed = 0;
                lock.wait_until = None;
                self.save_device_lock(user.id, Some(&lock))?;
            }
        }
        self.unlocked.store(true, Ordering::Release);
        Ok(())
    }

    fn known_users(&self) -> Result<BTreeMap<Uuid, KnownUser>, Error> {
        Ok(match self.store.local_value(KNOWN_USERS)? {
            Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
            None => BTreeMap::new(),
        })
    }

    /// Unsynced work on this phone per user (the signed-in one and anyone
    /// who logged out or was replaced): each user's work waits for them and
    /// is sent when they next log in. Readable while locked: it shows counts
    /// and names only.
    pub fn waiting_work(&self) -> Result<Vec<WaitingWork>, ClientError> {
        let run = || -> Result<Vec<WaitingWork>, Error> {
            let current = self.store.load_session()?.map(|s| s.user.id);
            let known = self.known_users()?;
            let mut by_user: BTreeMap<Uuid, WaitingWork> = BTreeMap::new();
            let entry = |m: &mut BTreeMap<Uuid, WaitingWork>, u: Uuid| {
                m.entry(u)
                    .or_insert_with(|| WaitingWork {
                        user_id: u,
                        username: known.get(&u).map(|k| k.username.clone()),
                        display_name: known.get(&u).map(|k| k.display_name.clone()),
                        ops: 0,
                        quarantined: 0,
                        photos: 0,
                        is_current: current == Some(u),
                    })
                    .clone()
            };
            for e in self.store.outbox(None, usize::MAX)? {
                let mut w = entry(&mut by_user, e.op.author);
                w.ops += 1;
                w.photos += u64::from(matches!(e.op.op, Op::AttachPhoto(_)));
                by_user.insert(w.user_id, w);
            }
            for q in self.store.quarantined()? {
                let mut w = entry(&mut by_user, q.op.author);
                w.quarantined += 1;
                w.photos += u64::from(matches!(q.op.op, Op::AttachPhoto(_)));
                by_user.insert(w.user_id, w);
            }
            Ok(by_user.into_values().collect())
        };
        Ok(run()?)
    }

    /// "Wipe this phone", for a county admin signed in on it: removes every
    /// user's data, photos and the session, and reports what was lost.
    /// Refuses with [`ClientError::UnsyncedWork`] while anything is not synced,
    /// unless `force`.
    pub fn wipe_phone(&self, force: bool) -> Result<WipeReport, ClientError> {
        let run = || -> Result<WipeReport, Error> {
            self.gate()?;
            let session = self.session()?;
            if !session.user.roles.iter().any(|g| may(g.grant.role, Action::Administer)) {
                return Err(Error::Rejected(fengqiao_domain::Rejection::new(
                    fengqiao_domain::RejectionCode::RoleNotAllowed,
                    "only a county administrator may wipe a phone",
                )));
            }
            let ops = self.store.outbox_len(None)? + self.store.quarantined()?.len() as u64;
            let photos =
                self.store.photo_uploads()?.iter().filter(|u| u.state != crate::store::UploadState::Done).count()
                    as u64;
            if !force && ops + photos > 0 {
                return Err(Error::UnsyncedWork { ops, photos });
            }
            self.wipe_store(WipeScope::All)
        };
        Ok(run()?)
    }

    /// Wipes the store (one user's data, or all) and the photo files no
    /// remaining queue entry refers to, closes the lock, and logs the counts.
    fn wipe_store(&self, scope: WipeScope) -> Result<WipeReport, Error> {
        let _photos = self.photo_lock.lock().unwrap_or_else(|p| p.into_inner());
        let counts = self.store.wipe(scope)?;
        if let WipeScope::User(user) = scope {
            self.store.save_local_value(&lock_name(user), None)?;
        }
        let mut files = 0;
        if let Some(blobs) = self.photos.as_ref() {
            let queue = self.store.photo_uploads()?;
            let referenced = blobs.names_for(queue.iter().map(|u| u.sha256.as_str()));
            for (name, _) in blobs.files()? {
                if !referenced.contains_key(&name) {
                    files += u64::from(blobs.remove_file(&name)?);
                }
            }
        }
        self.unlocked.store(false, Ordering::Release);
        let report = WipeReport::from_counts(counts, files);
        tracing::warn!(
            whole_phone = matches!(scope, WipeScope::All),
            ops_lost = report.ops_lost,
            quarantined_lost = report.quarantined_lost,
            photos_lost = report.photos_lost,
            records = report.records_removed,
            "local data wiped (a county admin's wipe, or a revoked device)"
        );
        Ok(report)
    }

    /// The server revoked this device: drops the user's data (after the sync
    /// sent what the server still took) and their photo files nothing else
    /// refers to.
    pub(crate) fn wipe_revoked(&self, user: Uuid) -> Result<WipeReport, Error> {
        self.wipe_store(WipeScope::User(user))
    }

    /// The core's disk use and the space left.
    pub fn storage_usage(&self) -> Result<StorageUsage, ClientError> {
        Ok(self.storage_usage_inner()?)
    }

    pub(crate) fn storage_usage_inner(&self) -> Result<StorageUsage, Error> {
        let store_bytes = self.store.disk_bytes();
        let photo_bytes = match self.photos.as_ref() {
            Some(b) => b.files()?.iter().map(|(_, l)| l).sum(),
            None => 0,
        };
        let dir = self.data_dir.clone().or_else(|| self.options.photo_dir.clone());
        let disk_free = match dir {
            Some(d) => fs4::available_space(&d)
                .map_err(|e| Error::Store(crate::store::StoreError::Backend(format!("free space: {e}"))))?,
            None => u64::MAX,
        };
        let quota_free = self
            .options
            .storage_quota_bytes
            .map_or(u64::MAX, |q| q.saturating_sub(store_bytes.saturating_add(photo_bytes)));
        let free_bytes = disk_free.min(quota_free);
        Ok(StorageUsage {
            store_bytes,
            photo_bytes,
            free_bytes,
            min_free_bytes: self.options.min_free_bytes,
            photos_allowed: free_bytes > self.options.min_free_bytes,
        })
    }

    /// Before a photo of `len` bytes is copied in: enough free space must stay
    /// above the threshold. Evicts originals the server already has first;
    /// then refuses with [`Error::StorageLow`] (text records still save).
    /// Callers hold the photo lock.
    pub(crate) fn ensure_photo_space(&self, len: u64) -> Result<(), Error> {
        let usage = self.storage_usage_inner()?;
        let need = self.options.min_free_bytes.saturating_add(len);
        if usage.free_bytes >= need {
            return Ok(());
        }
        if let Some(blobs) = self.photos.as_ref() {
            let short = need - usage.free_bytes;
            let target = usage.photo_bytes.saturating_sub(short);
            crate::photos::make_room(self.store.as_ref(), blobs, target, 0)?;
        }
        let after = self.storage_usage_inner()?;
        if after.free_bytes >= need {
            return Ok(());
        }
        Err(Error::StorageLow(format!(
            "{} MB free, {} MB must stay free: new photos are refused until the phone syncs or space is freed",
            after.free_bytes / 1_000_000,
            self.options.min_free_bytes / 1_000_000
        )))
    }
}
