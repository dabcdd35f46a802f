//! Durability for the sled store: the write generation (ADR 0006) and group
//! commit (ADR 0012).
//!
//! Every write that must be durable before it is answered calls
//! [`Durability::durable`] after it is applied. The caller first takes a ticket
//! (a counter bumped *after* its write); a flush that starts after the ticket was
//! taken covers the write. So callers that queued behind a flush in progress
//! find, once they get the lock, that the flush which just ended after them may
//! already cover them, and return without flushing again: under concurrent
//! pushes one `fsync` answers many requests.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{StoreError, StoreResult};

/// The write generation's key in sled's `meta` tree.
pub(crate) const GEN_KEY: &[u8] = b"write_gen";
/// File (inside the store dir) of the last generation sled acknowledged.
pub(crate) const GEN_FILE: &str = "write.gen";

/// Flush bookkeeping, under one lock.
struct Flushed {
    /// The last flushed write generation.
    gen: u64,
    /// Every ticket up to this one is durable.
    covered: u64,
}

/// Group commit over one sled database.
pub(crate) struct Durability {
    tickets: AtomicU64,
    flushed: Mutex<Flushed>,
    gen_file: Mutex<std::fs::File>,
    /// Flushes done, and durable calls answered by another caller's flush.
    stats: (AtomicU64, AtomicU64),
}

fn read_u64(bytes: &[u8]) -> StoreResult<u64> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| StoreError::Corrupt("bad counter".into()))?;
    Ok(u64::from_be_bytes(arr))
}

/// The generation in the file (0 if none or never written).
pub(crate) fn read_gen_file(path: &Path) -> StoreResult<u64> {
    match std::fs::read(path) {
        Ok(b) if b.len() >= 8 => read_u64(&b[..8]),
        Ok(_) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(StoreError::Backend(format!("{}: {e}", path.display()))),
    }
}

impl Durability {
    /// Opens (creating) the generation file in `dir`; `held` is the generation
    /// sled holds.
    pub(crate) fn open(dir: &Path, held: u64) -> StoreResult<Durability> {
        let path = dir.join(GEN_FILE);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        Ok(Durability {
            tickets: AtomicU64::new(0),
            flushed: Mutex::new(Flushed { gen: held, covered: 0 }),
            gen_file: Mutex::new(file),
            stats: (AtomicU64::new(0), AtomicU64::new(0)),
        })
    }

    /// Makes every write the caller has applied durable: returns at once if a
    /// flush that began after those writes has ended, else flushes sled (with a
    /// new generation in `meta`) and then records the generation in the file.
    pub(crate) fn durable(&self, db: &sled::Db, meta: &sled::Tree) -> StoreResult<()> {
        let ticket = self.tickets.fetch_add(1, Ordering::SeqCst) + 1;
        let mut f = self.flushed.lock().unwrap_or_else(|p| p.into_inner());
        if f.covered >= ticket {
            self.stats.1.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        // Every ticket up to here was taken after its write: this flush covers them.
        let target = self.tickets.load(Ordering::SeqCst);
        let next = f.gen + 1;
        meta.insert(GEN_KEY, &next.to_be_bytes()).map_err(StoreError::from)?;
        db.flush().map_err(StoreError::from)?;
        f.gen = next;
        f.covered = target;
        self.stats.0.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.write_gen_file(next) {
            // Only weakens the damage check; the write itself is durable.
            tracing::warn!(error = %e, "could not record the write generation");
        }
        Ok(())
    }

    fn write_gen_file(&self, gen: u64) -> std::io::Result<()> {
        use std::io::{Seek, Write};
        let mut f = self.gen_file.lock().unwrap_or_else(|p| p.into_inner());
        f.seek(std::io::SeekFrom::Start(0))?;
        f.write_all(&gen.to_be_bytes())?;
        f.sync_data()
    }

    /// (flushes done, durable calls another caller's flush answered).
    pub(crate) fn stats(&self) -> (u64, u64) {
        (self.stats.0.load(Ordering::Relaxed), self.stats.1.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_callers_share_flushes_and_the_generation_file_follows() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let meta = db.open_tree("meta").unwrap();
        let d = std::sync::Arc::new(Durability::open(dir.path(), 0).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (d, db, meta) = (d.clone(), db.clone(), meta.clone());
                std::thread::spawn(move || {
                    for j in 0..50u64 {
                        meta.insert(format!("k{i}-{j}"), &j.to_be_bytes()).unwrap();
                        d.durable(&db, &meta).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (flushes, shared) = d.stats();
        assert_eq!(flushes + shared, 400);
        let held = read_u64(&meta.get(GEN_KEY).unwrap().unwrap()).unwrap();
        assert_eq!(held, flushes);
        assert_eq!(read_gen_file(&dir.path().join(GEN_FILE)).unwrap(), held);
    }
}
