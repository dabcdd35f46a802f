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
use crate::store::FeedEpoch;
// The write generation: bumped in sled by every flush, then written to
// `GEN_FILE` beside sled's files once sled has flushed it. sled 0.34 opens a
// damaged log without an error and serves what came before the damage; a sled
// generation behind the file's is how that is caught (ADR 0006).
use crate::store::group_commit::{read_gen_file, Durability, GEN_FILE, GEN_KEY};
use crate::store::{record_key, RefreshRecord, StoreError, StoreResult, StoredRecord};

/// Version of the on-disk layout; a store written by a newer server is refused,
/// an older one is migrated forward when opened (after the caller's
/// [`Upgrade`] step, which takes a backup: ADR 0032).
///
/// - 1: the first layout.
/// - 2: the feed has an identity ([`FeedEpoch`]) that pull cursors carry and a
///   restore changes. A store migrated from 1 still accepts the cursors it gave
///   out before (they carry none) until it is restored.
pub const STORE_FORMAT: u64 = 2;
pub(crate) const FORMAT_KEY: &[u8] = b"format";
/// Meta key of the feed's identity (a UUID as text).
pub(crate) const FEED_EPOCH_KEY: &[u8] = b"feed_epoch";
/// Meta key of the feed identity that cursors without one belong to (set by
/// the migration from format 1; a restore removes it).
pub(crate) const UNMARKED_EPOCH_KEY: &[u8] = b"unmarked_cursor_epoch";

/// Called with a store of an older format (and that format) before it is
/// migrated: `Ok(true)` migrates it, `Ok(false)` leaves it as it is (opened to
/// be copied, not served); an error leaves it unmigrated and the open fails.
pub type Upgrade<'a> = &'a dyn Fn(&SledStore, u64) -> StoreResult<bool>;
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
    /// refused with a clear error instead of being served; an older one is
    /// migrated forward without a backup (servers open data dirs through
    /// [`SledStore::open_upgrading`]).
    pub fn open(dir: &Path) -> StoreResult<SledStore> {
        Self::open_upgrading(dir, &|_, _| Ok(true))
    }

    /// [`SledStore::open`], calling `before_upgrade` with a store of an older
    /// format before migrating it.
    pub fn open_upgrading(dir: &Path, before_upgrade: Upgrade<'_>) -> StoreResult<SledStore> {
        let db = open_db(dir)?;
        let t = |name: &str| db.open_tree(name).map_err(backend);
        let meta = t("meta")?;
        let held = match meta.get(GEN_KEY).map_err(backend)? {
            Some(v) => read_u64(&v)?,
            None => 0,
        };
        let mut store = SledStore {
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
            desk: t("desk_index")?,
            user_refresh: t("user_refresh")?,
            audit: t("audit")?,
            db,
            writer: Mutex::new(()),
            audit_lock: Mutex::new(()),
            gate: std::sync::RwLock::new(()),
            epoch: FeedEpoch::default(),
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
        let found = match store.meta.get(FORMAT_KEY).map_err(backend)? {
            Some(v) => Some(read_u64(&v)?),
            // Written before the format was recorded: the first layout.
            None if !store.db.tree_names().iter().all(|n| db_tree_empty(&store.db, n)) => Some(1),
            None => None,
        };
        match found {
            Some(v) if v > STORE_FORMAT => {
                return Err(StoreError::NewerFormat { found: v, supported: STORE_FORMAT });
            }
            Some(v) if v < STORE_FORMAT => {
                if before_upgrade(&store, v)? {
                    store.migrate(v)?;
                }
            }
            Some(_) => {}
            None => {
                let mut batch = sled::Batch::default();
                batch.insert(FEED_EPOCH_KEY, Uuid::new_v4().to_string().as_bytes());
                batch.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes());
                store.meta.apply_batch(batch).map_err(backend)?;
            }
        }
        store.epoch = store.read_epoch()?;
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
        store.index_desk()?;
        store.db.flush().map_err(backend)?;
        Ok(store)
    }

    /// Migrates a store of format `from` to [`STORE_FORMAT`], in one atomic
    /// write of `meta`.
    fn migrate(&self, from: u64) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        if from < 2 {
            // The feed gets an identity; the cursors phones hold (without one)
            // keep their place in it.
            let epoch = Uuid::new_v4().to_string();
            batch.insert(FEED_EPOCH_KEY, epoch.as_bytes());
            batch.insert(UNMARKED_EPOCH_KEY, epoch.as_bytes());
        }
        batch.insert(FORMAT_KEY, &STORE_FORMAT.to_be_bytes());
        self.meta.apply_batch(batch).map_err(backend)?;
        self.db.flush().map_err(backend)?;
        tracing::info!(from, to = STORE_FORMAT, "store migrated to the current format");
        Ok(())
    }

    /// Gives the feed a new identity, which no cursor given out before
    /// carries: done to a store restored from a backup, whose feed may be
    /// behind what phones pulled. Takes effect when the store is next opened.
    pub fn renew_feed_epoch(&self) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        batch.insert(FEED_EPOCH_KEY, Uuid::new_v4().to_string().as_bytes());
        batch.remove(UNMARKED_EPOCH_KEY);
        self.meta.apply_batch(batch).map_err(backend)?;
        self.db.flush().map_err(backend)?;
        Ok(())
    }

    /// The feed's identity as `meta` holds it.
    fn read_epoch(&self) -> StoreResult<FeedEpoch> {
        let text = |key: &[u8]| -> StoreResult<Option<String>> {
            match self.meta.get(key).map_err(backend)? {
                Some(v) => Ok(Some(
                    String::from_utf8(v.to_vec()).map_err(|_| StoreError::Corrupt("feed epoch is not text".into()))?,
                )),
                None => Ok(None),
            }
        };
        let id = text(FEED_EPOCH_KEY)?;
        let unmarked = text(UNMARKED_EPOCH_KEY)?;
        Ok(FeedEpoch { accepts_unmarked: id.is_none() || unmarked == id, id })
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

/// Whether a tree of `db` holds nothing (sled's own default tree counts).
fn db_tree_empty(db: &sled::Db, name: &[u8]) -> bool {
    db.open_tree(name).map(|t| t.is_empty()).unwrap_or(true)
}
