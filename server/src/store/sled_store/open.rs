//! Opening the sled store: the database (waiting for a lock the previous
//! owner in this process is letting go of, refusing a damaged one), its trees,
//! the checks of the write generation and the layout version, and the indexes
//! a store written before they existed gets once.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use super::{backend, dec, holder_key, read_u64, user_refresh_key, SledStore, SEQ_KEY};
// The write generation: bumped in sled by every flush, then written to
// `GEN_FILE` beside sled's files once sled has flushed it. sled 0.34 opens a
// damaged log without an error and serves what came before the damage; a sled
// generation behind the file's is how that is caught (ADR 0006).
use crate::store::group_commit::{read_gen_file, Durability, GEN_FILE, GEN_KEY};
use crate::store::{record_key, RefreshRecord, StoreError, StoreResult, StoredRecord};

/// Version of the on-disk layout; a store written by a newer server is refused.
pub const STORE_FORMAT: u64 = 1;
pub(super) const FORMAT_KEY: &[u8] = b"format";
/// Set once the user → refresh-token index covers every stored token.
const USER_REFRESH_INDEXED: &[u8] = b"user_refresh_indexed";
/// Set once photos kept before holders were recorded have theirs.
pub(super) const PHOTO_HOLDERS_INDEXED: &[u8] = b"photo_holders_indexed";

/// Opens sled, waiting up to two seconds for a lock the previous owner in this
/// process is still letting go of (sled releases it from a background thread).
fn open_db(dir: &Path) -> StoreResult<sled::Db> {
    let mut waited = 0;
    loop {
        // sled 0.34 may panic on some damaged files instead of answering an error.
        let opened = std::panic::catch_unwind(|| sled::Config::new().path(dir).mode(sled::Mode::HighThroughput).open());
        let Ok(opened) = opened else {
            return Err(StoreError::Corrupt(format!(
                "the store at {} is damaged: the storage engine failed reading it; restore the data dir from a backup",
                dir.display()
            )));
        };
        match opened {
            Ok(db) => return Ok(db),
            Err(e) if waited < 40 && e.to_string().contains("lock") => {
                waited += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(StoreError::Backend(format!("could not open the store at {}: {e}", dir.display()))),
        }
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. A corrupt or newer-format store is
    /// refused with a clear error instead of being served.
    pub fn open(dir: &Path) -> StoreResult<SledStore> {
        let db = open_db(dir)?;
        let t = |name: &str| db.open_tree(name).map_err(backend);
        let meta = t("meta")?;
        let held = match meta.get(GEN_KEY).map_err(backend)? {
            Some(v) => read_u64(&v)?,
            None => 0,
        };
        let store = SledStore {
            users: t("users")?,
            usernames: t("usernames")?,
            refresh: t("refresh")?,
            revoked: t("revoked_families")?,
            keys: t("signing_keys")?,
            ops: t("ops")?,
            records: t("records")?,
            changes: t("changes")?,
            feed: t("feed")?,
            meta,
            uploads: t("uploads")?,
            photos: t("photos")?,
            photo_refs: t("photo_refs")?,
            photo_holders: t("photo_holders")?,
            case_blocks: t("case_blocks")?,
            case_numbers: t("case_numbers")?,
            leads: t("leads")?,
            user_refresh: t("user_refresh")?,
            audit: t("audit")?,
            db,
            writer: Mutex::new(()),
            audit_lock: Mutex::new(()),
            visible: AtomicU64::new(0),
            durability: Durability::open(dir, held)?,
            failed_full: std::sync::atomic::AtomicBool::new(false),
        };
        let acknowledged = read_gen_file(&dir.join(GEN_FILE))?;
        if held < acknowledged {
            return Err(StoreError::Corrupt(format!(
                "the store at {} is damaged: it holds {held} of the {acknowledged} writes it acknowledged (the \
                 storage engine dropped the rest); refusing to serve it: restore the data dir from a backup",
                dir.display()
            )));
        }
        match store.meta.get(FORMAT_KEY).map_err(backend)? {
            Some(v) if read_u64(&v)? > STORE_FORMAT => {
                return Err(StoreError::Corrupt(format!(
                    "store format {} is newer than this server's {STORE_FORMAT}",
                    read_u64(&v)?
                )))
            }
            Some(_) => {}
            None => {
                store.meta.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes()).map_err(backend)?;
            }
        }
        let seq = match store.meta.get(SEQ_KEY).map_err(backend)? {
            Some(v) => read_u64(&v)?,
            None => 0,
        };
        store.visible.store(seq, Ordering::SeqCst);
        if store.meta.get(USER_REFRESH_INDEXED).map_err(backend)?.is_none() {
            // A store written before the index existed: build it once.
            for kv in store.refresh.iter() {
                let (_, v) = kv.map_err(backend)?;
                let rec: RefreshRecord = dec(&v)?;
                store.user_refresh.insert(user_refresh_key(&rec), &[]).map_err(backend)?;
            }
            store.meta.insert(USER_REFRESH_INDEXED, &[1]).map_err(backend)?;
        }
        if store.meta.get(PHOTO_HOLDERS_INDEXED).map_err(backend)?.is_none() {
            store.index_photo_holders()?;
            store.meta.insert(PHOTO_HOLDERS_INDEXED, &[1]).map_err(backend)?;
        }
        store.index_old_leads()?;
        store.db.flush().map_err(backend)?;
        Ok(store)
    }

    /// A store written before holders were recorded: the author of every
    /// attachment of a photo already kept then counts as its holder (what
    /// those authors could read stays readable; later attaches must prove).
    fn index_photo_holders(&self) -> StoreResult<()> {
        for kv in self.photo_refs.iter() {
            let (k, _) = kv.map_err(backend)?;
            let Some((sha, id)) = k.split_at_checked(64) else { continue };
            let (Ok(sha), Ok(id)) = (std::str::from_utf8(sha), Uuid::from_slice(id)) else { continue };
            if !self.photos.contains_key(sha.as_bytes()).map_err(backend)? {
                continue;
            }
            let key = record_key(EntityKind::Attachment, id);
            if let Some(StoredRecord { record: Record::Attachment(a), .. }) = Self::get_json(&self.records, &key)? {
                self.photo_holders.insert(holder_key(sha, a.author), &[]).map_err(backend)?;
            }
        }
        Ok(())
    }
}
