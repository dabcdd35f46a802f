//! The phone's offline lock: a PIN (Argon2id-hashed, attempts limited with
//! growing waits) or the platform's biometric check opens the signed-in
//! user's data; [`FieldClient::gate`] guards every call that reads or writes it.

use std::sync::atomic::Ordering;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use fengqiao_domain::wire::UserInfo;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};

/// Wrong PINs accepted without waiting.
pub const PIN_FREE_ATTEMPTS: u32 = 5;
/// Wrong PINs after which only an online login opens the phone.
pub const PIN_MAX_ATTEMPTS: u32 = 10;
/// The first wait after the free attempts (doubling with each wrong PIN).
const PIN_FIRST_WAIT_SECS: i64 = 30;
pub(super) fn lock_name(user: Uuid) -> String {
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

fn hash_pin(pin: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Error::InvalidInput("锁屏密码：未能设置，请重试".into()))
}

fn pin_matches(pin: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(pin.as_bytes(), &h).is_ok())
}

fn check_pin_shape(pin: &str) -> Result<(), Error> {
    if !(4..=12).contains(&pin.chars().count()) || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::InvalidInput("锁屏密码：须为 4 至 12 位数字".into()));
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
                    return Err(Error::InvalidInput("解锁：本机不允许用指纹或面容解锁，请输入锁屏密码".into()));
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
        self.remember_user(user)?;
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
}
