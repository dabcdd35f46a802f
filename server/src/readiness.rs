//! What `/readyz` (`http::ops_routes`) reports beside the store and disk: whether this server should be sent traffic (its store answers, its
//! disk takes writes), with the age of the last backup for the office to see.
//! `/healthz` stays the liveness answer.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// Tells when the data dir was last backed up. The backup commands fill it in;
/// until a backup exists it answers `None` ("no backup yet").
pub trait BackupClock: Send + Sync {
    /// When the newest backup of this data dir was taken, if any.
    fn last_backup(&self) -> Option<DateTime<Utc>>;
}

/// No backup is known.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoBackups;

impl BackupClock for NoBackups {
    fn last_backup(&self) -> Option<DateTime<Utc>> {
        None
    }
}

/// The default clock of a server: no backup known.
pub fn no_backups() -> Arc<dyn BackupClock> {
    Arc::new(NoBackups)
}
