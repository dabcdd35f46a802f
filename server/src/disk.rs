//! Free space on the data dir: writes are refused before the disk is full, the
//! log warns while space runs low, and `/healthz` names the state.
//!
//! The storage engine (sled 0.34) keeps refusing writes after any I/O error until
//! it is reopened, so the server does not let it meet a full disk: every write
//! request is refused with `507 storage_full` (and `Retry-After`) while less than
//! the policy's `storage.reserve_bytes` is free. A full disk met anyway (another
//! program filled it between two checks) is mapped to the same answer in one place
//! ([`crate::store::is_storage_full`]); nothing is acknowledged that was not made
//! durable, and `/healthz` then asks for a restart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use fengqiao_domain::policy::StoragePolicy;

/// Seconds a refused write is told to wait (`Retry-After` of a 507).
pub const STORAGE_FULL_RETRY_AFTER_SECS: u64 = 60;

/// How often the free space is looked at without any request asking.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);

/// The data dir's space, as last measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskState {
    /// Above the warning threshold.
    Ok,
    /// Below `storage.warn_free_bytes`: still writable; the log warns.
    Low,
    /// Below `storage.reserve_bytes`: writes are refused until space is freed.
    Full,
}

impl DiskState {
    /// The name `/healthz` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskState::Ok => "ok",
            DiskState::Low => "low",
            DiskState::Full => "full",
        }
    }

    fn from_u8(v: u8) -> DiskState {
        match v {
            1 => DiskState::Low,
            2 => DiskState::Full,
            _ => DiskState::Ok,
        }
    }
}

/// Watches the free space of one directory against the policy's thresholds.
#[derive(Debug)]
pub struct DiskWatch {
    dir: PathBuf,
    policy: StoragePolicy,
    last: AtomicU8,
}

impl DiskWatch {
    /// Watches `dir` (the data dir).
    pub fn new(dir: PathBuf, policy: StoragePolicy) -> DiskWatch {
        DiskWatch { dir, policy, last: AtomicU8::new(DiskState::Ok as u8) }
    }

    /// Measures now; logs when the state changes (a warning when space runs low,
    /// an error when writes start being refused). Returns the state and the free
    /// bytes (`None` if the file system could not be asked: then writes are let
    /// through and fail, if they must, on their own).
    pub fn check(&self) -> (DiskState, Option<u64>) {
        let free = match fs4::available_space(&self.dir) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "could not measure the free space of the data dir");
                return (DiskState::from_u8(self.last.load(Ordering::SeqCst)), None);
            }
        };
        let state = if free < self.policy.reserve_bytes {
            DiskState::Full
        } else if free < self.policy.warn_free_bytes {
            DiskState::Low
        } else {
            DiskState::Ok
        };
        let before = DiskState::from_u8(self.last.swap(state as u8, Ordering::SeqCst));
        if before != state {
            match state {
                DiskState::Full => tracing::error!(
                    free_bytes = free,
                    reserve_bytes = self.policy.reserve_bytes,
                    "the data dir's disk is full: writes are refused (507 storage_full) until space is freed"
                ),
                DiskState::Low => tracing::warn!(
                    free_bytes = free,
                    warn_free_bytes = self.policy.warn_free_bytes,
                    "the data dir's disk is running out of space"
                ),
                DiskState::Ok => tracing::info!(free_bytes = free, "the data dir's disk has space again"),
            }
        }
        (state, Some(free))
    }

    /// The state of the last measurement.
    pub fn last(&self) -> DiskState {
        DiskState::from_u8(self.last.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_name_the_state_and_only_changes_are_logged() {
        let dir = tempfile::tempdir().unwrap();
        let free = fs4::available_space(dir.path()).unwrap();
        let at = |reserve: u64, warn: u64| {
            DiskWatch::new(dir.path().into(), StoragePolicy { reserve_bytes: reserve, warn_free_bytes: warn }).check().0
        };
        assert_eq!(at(0, 0), DiskState::Ok);
        assert_eq!(at(0, u64::MAX), DiskState::Low);
        assert_eq!(at(u64::MAX, u64::MAX), DiskState::Full);
        assert!(free > 0);
    }
}
