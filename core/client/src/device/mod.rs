//! The phone as a device shared in the field (ADR 0010): its offline lock
//! ([`lock`]), the work each user leaves waiting, the admin's wipe and the
//! server's revocation ([`wipe`]), and the core's disk use with its low-space
//! guard ([`disk_use`]).

mod disk_use;
mod lock;
mod wipe;

pub use self::disk_use::StorageUsage;
pub use self::lock::{LockStatus, PIN_FREE_ATTEMPTS, PIN_MAX_ATTEMPTS};
pub use self::wipe::{WaitingWork, WipeReport};
