//! The server's own backups: one at a time, on request ([`Backups::take`]) or
//! on a schedule (`serve --backup-every HOURS --backup-keep N`), keeping the
//! newest N scheduled files.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use super::{timestamped_name, write_backup, Manifest, EXTENSION};
use crate::store::Store;

/// Prefix of scheduled backup files (only these are pruned).
pub const SCHEDULED_PREFIX: &str = "fengqiao";

/// The server's backups: its data dir, the control token of this run, and the
/// last backup taken.
pub struct Backups {
    data_dir: PathBuf,
    token: String,
    running: Mutex<()>,
    last: Mutex<Option<DateTime<Utc>>>,
}

impl std::fmt::Debug for Backups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backups").field("data_dir", &self.data_dir).field("token", &"<redacted>").finish()
    }
}

/// Why a backup was not taken.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Another backup is being taken.
    #[error("a backup is being taken already; try again when it ends")]
    Busy,
    /// The file exists.
    #[error("{0} exists already: choose a new file name")]
    Exists(String),
    /// It failed.
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl Backups {
    /// For the data dir; a new control token.
    pub fn new(data_dir: &Path) -> Backups {
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        Backups {
            data_dir: data_dir.to_path_buf(),
            token: hex::encode(raw),
            running: Mutex::new(()),
            last: Mutex::new(None),
        }
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The control token of this run (see [`super::control`]).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether `presented` is this run's control token (compared by hash, in
    /// constant time over the digests).
    pub fn token_matches(&self, presented: &str) -> bool {
        let (a, b) = (Sha256::digest(presented.as_bytes()), Sha256::digest(self.token.as_bytes()));
        a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// When the last backup this server took (or found in its schedule's
    /// folder at start) was taken.
    pub fn last_backup_at(&self) -> Option<DateTime<Utc>> {
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn saw(&self, at: DateTime<Utc>) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|l| l < at) {
            *last = Some(at);
        }
    }

    /// Takes a backup into `to` (blocking; one at a time).
    pub fn take(&self, store: &dyn Store, to: &Path) -> Result<Manifest, BackupError> {
        let Ok(_running) = self.running.try_lock() else { return Err(BackupError::Busy) };
        if to.exists() {
            return Err(BackupError::Exists(to.display().to_string()));
        }
        let started = std::time::Instant::now();
        let manifest = write_backup(store, &self.data_dir, to).map_err(BackupError::Failed)?;
        self.saw(manifest.header.created_at);
        tracing::info!(
            file = %to.display(),
            last_seq = manifest.last_seq,
            writes_held_ms = manifest.writes_held_ms,
            took_ms = started.elapsed().as_millis() as u64,
            "backup taken"
        );
        Ok(manifest)
    }
}

/// Scheduled backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Time between two backups.
    pub every: Duration,
    /// Scheduled files kept (the oldest beyond are deleted).
    pub keep: usize,
    /// Their folder.
    pub dir: PathBuf,
}

/// Scheduled backup files in `dir`, oldest first (their names sort by time).
pub fn scheduled_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(&format!("{SCHEDULED_PREFIX}-")) && n.ends_with(&format!(".{EXTENSION}"))
            })
        })
        .collect();
    files.sort();
    files
}

/// Deletes the oldest scheduled files beyond `keep`; how many were deleted.
pub fn prune(dir: &Path, keep: usize) -> usize {
    let files = scheduled_files(dir);
    let extra = files.len().saturating_sub(keep);
    let mut done = 0;
    for f in files.into_iter().take(extra) {
        match std::fs::remove_file(&f) {
            Ok(()) => done += 1,
            Err(e) => tracing::warn!(file = %f.display(), error = %e, "could not delete an old backup"),
        }
    }
    done
}

/// Runs the schedule: a backup every `schedule.every` (the first one after
/// one interval), then the oldest beyond `keep` deleted. Failures are logged
/// and tried again at the next turn.
pub fn spawn(store: std::sync::Arc<dyn Store>, backups: std::sync::Arc<Backups>, schedule: Schedule) -> JoinHandle<()> {
    if let Some(newest) = scheduled_files(&schedule.dir).last() {
        if let Ok(modified) = std::fs::metadata(newest).and_then(|m| m.modified()) {
            backups.saw(DateTime::<Utc>::from(modified));
        }
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + schedule.every, schedule.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (store, backups, schedule) = (store.clone(), backups.clone(), schedule.clone());
            let done = tokio::task::spawn_blocking(move || {
                let to = schedule.dir.join(timestamped_name(SCHEDULED_PREFIX, Utc::now()));
                let r = backups.take(store.as_ref(), &to);
                if r.is_ok() {
                    prune(&schedule.dir, schedule.keep);
                }
                r
            })
            .await;
            match done {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "scheduled backup failed"),
                Err(e) => tracing::error!(error = %e, "scheduled backup task failed"),
            }
        }
    })
}

impl crate::readiness::BackupClock for Backups {
    fn last_backup(&self) -> Option<DateTime<Utc>> {
        self.last_backup_at()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    /// Backups come every interval, the newest `keep` stay, other files in
    /// the folder are left alone, and the last backup's time is known.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scheduled_backups_come_and_only_the_newest_are_kept() {
        let data = tempfile::tempdir().unwrap();
        let store: std::sync::Arc<dyn Store> =
            std::sync::Arc::new(SledStore::open(&data.path().join("store")).unwrap());
        let backups = std::sync::Arc::new(Backups::new(data.path()));
        let dir = data.path().join("backups");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("keep-me.fqbk"), b"an operator's own file").unwrap();
        assert_eq!(backups.last_backup_at(), None);
        let task =
            spawn(store, backups.clone(), Schedule { every: Duration::from_millis(120), keep: 2, dir: dir.clone() });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut taken = 0;
        while std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            taken = std::fs::read_dir(&dir).unwrap().count();
            if backups.last_backup_at().is_some() && scheduled_files(&dir).len() == 2 && taken == 3 {
                // Wait for a few more turns: the count must stay at two.
                tokio::time::sleep(Duration::from_millis(500)).await;
                break;
            }
        }
        task.abort();
        // A turn already on its blocking thread ends on its own.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let files = scheduled_files(&dir);
        assert_eq!(files.len(), 2, "kept: {files:?} ({taken} files seen)");
        assert!(dir.join("keep-me.fqbk").exists(), "not a scheduled file: left alone");
        for f in &files {
            super::super::verify(f).unwrap();
        }
        assert!(backups.last_backup_at().is_some());
    }

    #[test]
    fn the_control_token_matches_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let b = Backups::new(dir.path());
        assert!(b.token_matches(b.token()));
        assert!(!b.token_matches(""));
        assert!(!b.token_matches(&b.token()[1..]));
        assert_ne!(Backups::new(dir.path()).token(), b.token(), "a new token each run");
    }
}
