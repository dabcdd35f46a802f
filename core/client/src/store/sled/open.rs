//! Opening the sled store: sled's files (a damaged log is answered, not a
//! panic), the write generation checked against the one acknowledged beside
//! them (ADR 0006), sled's files rewritten when they far outgrew their data
//! ([`super::compact`]), the format version, and the journal lines sled lost
//! replayed (ADR 0015).

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use super::super::vault::Vault;
use super::super::{StoreError, StoreResult, STORE_FORMAT_VERSION};
use super::compact;
use super::integrity::{self, GenFile};
use super::journal::{self, Journal};
use super::worker::Worker;
use super::{backend, dec, enc, seq_from, SledClientStore, K_FORMAT, K_GEN};

impl SledClientStore {
    /// Opens sled in `dir` with `vault`'s keys (the key file is already checked).
    pub(super) fn open_with(dir: &Path, vault: Arc<Vault>) -> StoreResult<Self> {
        let damaged =
            |what: String| StoreError::Damaged { detail: what, journalled_ops: journal::journalled_ops(dir, &vault) };
        // A swap of compacted files an earlier open began is finished before sled opens.
        let swap_lock = integrity::lock(dir)?;
        compact::resume(dir)?;
        let open_db = || {
            // sled 0.34 may panic on some damaged files instead of answering an error.
            match std::panic::catch_unwind(|| sled::Config::new().path(dir).open()) {
                Ok(Ok(db)) => Ok(db),
                Ok(Err(e @ sled::Error::Corruption { .. })) => Err(damaged(e.to_string())),
                Ok(Err(e)) => Err(backend(e)),
                Err(_) => Err(damaged("the storage engine failed reading its files".into())),
            }
        };
        let acknowledged = integrity::read_gen(dir)?;
        let held_in = |db: &sled::Db| -> StoreResult<u64> {
            let held = match db.open_tree("meta").map_err(backend)?.get(K_GEN).map_err(backend)? {
                Some(v) => seq_from(&v).ok_or_else(|| damaged("unreadable write generation".into()))?,
                None => 0,
            };
            if held < acknowledged {
                return Err(damaged(format!(
                    "it holds {held} of the {acknowledged} writes it acknowledged (sled dropped the rest)"
                )));
            }
            Ok(held)
        };
        let mut db = open_db()?;
        let mut held = held_in(&db)?;
        // Only a store that passed the generation check is copied (see
        // [`compact`]), and only one that discarded enough to be worth measuring.
        if compact::freed(&db) >= compact::FLOOR {
            if compact::due(&db) {
                match compact::copy(&db, dir) {
                    Ok(()) => {
                        drop(db);
                        compact::wait_released(&dir.join("db"))?;
                        compact::resume(dir)?;
                        db = open_db()?;
                        held = held_in(&db)?;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not compact the store's files; keeping them"),
                }
            }
            compact::forget_freed(&db)?;
        }
        drop(swap_lock);
        let journal = Journal::open(dir, vault.clone())?;
        let tree = |name: &str| db.open_tree(name).map_err(backend);
        let meta = tree("meta")?;
        let store = SledClientStore {
            gen: Mutex::new(held),
            gen_file: GenFile::open(dir)?,
            journal,
            worker: Worker::start(),
            poisoned: AtomicBool::new(false),
            session: tree("session")?,
            records: tree("records")?,
            outbox: tree("outbox")?,
            outbox_ids: tree("outbox_ids")?,
            quarantine: tree("quarantine")?,
            meta,
            uploads: tree("uploads")?,
            sent: tree("sent")?,
            writer: Mutex::new(()),
            vault,
            dir: dir.to_path_buf(),
            db,
        };
        match store.meta.get(K_FORMAT).map_err(backend)? {
            Some(v) => {
                let found: u32 = dec("format", &v)?;
                if found > STORE_FORMAT_VERSION {
                    return Err(StoreError::Incompatible { found, supported: STORE_FORMAT_VERSION });
                }
            }
            None => {
                store.meta.insert(K_FORMAT, enc(&STORE_FORMAT_VERSION)?).map_err(backend)?;
                store.flush()?;
            }
        }
        store.replay_lost(held)?;
        Ok(store)
    }
}
