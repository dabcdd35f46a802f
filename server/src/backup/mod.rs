//! Backups of a data dir, taken while the server serves, and their restore and
//! verification (ADR 0032).
//!
//! A backup is one file (see [`archive`] for its frames): the store's trees as
//! of one instant (the store holds every writer off while it copies them to a
//! local dump, then serves again while the dump is compressed), the photo
//! blobs the copied photo records name (immutable, content-addressed, so read
//! after the instant without tearing anything), `policy.toml`, and a manifest
//! with counts, the last feed sequence and checksums. A restore writes it into
//! an empty data dir and gives the restored feed a new identity, so phones that
//! synced with the server after the backup start their pull over and send again
//! what the restored server lacks. When the photos live in an S3-compatible
//! bucket, a backup lists them instead of carrying them ([`listed`]).
//!
//! Taking a backup of a running server goes through the server itself
//! ([`control`]: the CLI asks it over loopback with the data dir's control
//! token), since the server holds the store's lock; with no server running the
//! CLI opens the store and takes it in its own process.

pub mod archive;
pub mod control;
pub mod listed;
pub mod schedule;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use self::archive::{Frame, FrameReader, FrameWriter, ARCHIVE_FORMAT};
use self::listed::{photo_store_of, ListedPhotos, Listing, PHOTO_STORE_FILE};
use crate::store::sled_store::STORE_FORMAT;
use crate::store::{SledStore, Store, SyncStore};

/// The extension of backup files.
pub const EXTENSION: &str = "fqbk";
/// Where photo blobs live inside the data dir.
const PHOTO_DIR: &str = "photos/blobs";
/// Files of the data dir a backup carries besides the store and the photos.
const CARRIED_FILES: &[&str] = &[crate::app::POLICY_FILE, PHOTO_STORE_FILE];

/// What wrote a backup (the first frame, read before anything is restored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Header {
    /// Frame layout ([`ARCHIVE_FORMAT`]).
    pub archive_format: u32,
    /// The store's format when copied.
    pub store_format: u64,
    /// The server's version.
    pub server_version: String,
    /// When the snapshot was taken (UTC).
    pub created_at: DateTime<Utc>,
}

/// One tree's entries and their checksum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TreeSum {
    /// Entries.
    pub entries: u64,
    /// SHA-256 (hex) over each entry's key and value, length-prefixed.
    pub sha256: String,
}

/// A file's size and checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileSum {
    /// Path inside the data dir.
    pub path: String,
    /// Bytes.
    pub bytes: u64,
    /// SHA-256 (hex).
    pub sha256: String,
}

/// What a backup holds: the last frame of the file, printed by `backup`,
/// `verify` and `restore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Manifest {
    /// What wrote it.
    #[serde(flatten)]
    pub header: Header,
    /// The last feed sequence in the copy.
    pub last_seq: u64,
    /// The feed's identity when copied.
    pub feed_epoch: Option<String>,
    /// Counts of what matters to an office: users, records, ops, changes,
    /// audit entries, photos.
    pub counts: BTreeMap<String, u64>,
    /// Every tree copied, with its checksum.
    pub trees: BTreeMap<String, TreeSum>,
    /// Photo blobs carried, their bytes and a checksum over their names in order
    /// (each blob's content is checked against its name, its SHA-256).
    pub photos: PhotoSum,
    /// Photos a copied record names whose blob was missing or damaged on disk
    /// (not carried; the phones that hold them can send them again).
    #[serde(default)]
    pub photos_missing: Vec<String>,
    /// When the photos live in an object store: the photos the copied records
    /// name, listed (their bytes are not carried; ADR 0038).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photos_listed: Option<ListedPhotos>,
    /// Other files carried (`policy.toml`).
    pub files: Vec<FileSum>,
    /// Milliseconds writes waited while the store was copied.
    pub writes_held_ms: u64,
}

/// The photos of a backup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PhotoSum {
    /// How many.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Manifest {
    /// One line for an operator.
    pub fn summary(&self) -> String {
        let c = |k: &str| self.counts.get(k).copied().unwrap_or(0);
        format!(
            "store format {}, feed sequence {}, {} records, {} ops, {} users, {} audit entries, {} photos ({} bytes){}",
            self.header.store_format,
            self.last_seq,
            c("records"),
            c("ops"),
            c("users"),
            c("audit"),
            self.photos.count,
            self.photos.bytes,
            match (self.photos_missing.len(), &self.photos_listed) {
                (_, Some(l)) => format!(
                    "; {} photos ({} bytes) listed, their bytes in {} (not in the backup)",
                    l.count, l.bytes, l.location
                ),
                (0, None) => String::new(),
                (n, None) => format!(", {n} photos missing on disk"),
            }
        )
    }
}

/// Checksums of trees as their entries go by.
#[derive(Default)]
struct TreeSums {
    sums: BTreeMap<String, (u64, Sha256)>,
}

impl TreeSums {
    fn add(&mut self, tree: &str, key: &[u8], value: &[u8]) {
        let (n, h) = self.sums.entry(tree.to_string()).or_default();
        *n += 1;
        h.update((key.len() as u32).to_be_bytes());
        h.update(key);
        h.update((value.len() as u32).to_be_bytes());
        h.update(value);
    }

    fn touch(&mut self, tree: &str) {
        self.sums.entry(tree.to_string()).or_default();
    }

    fn finish(self) -> BTreeMap<String, TreeSum> {
        self.sums
            .into_iter()
            .map(|(name, (entries, h))| (name, TreeSum { entries, sha256: hex::encode(h.finalize()) }))
            .collect()
    }
}

fn counts_of(trees: &BTreeMap<String, TreeSum>, photos: u64) -> BTreeMap<String, u64> {
    let n = |t: &str| trees.get(t).map_or(0, |s| s.entries);
    BTreeMap::from([
        ("users".to_string(), n("users")),
        ("records".to_string(), n("records")),
        ("ops".to_string(), n("ops")),
        ("changes".to_string(), n("changes")),
        ("audit".to_string(), n("audit")),
        ("photos".to_string(), photos),
    ])
}

/// The path of photo `sha` inside the data dir.
fn photo_path(sha: &str) -> String {
    format!("{PHOTO_DIR}/{}/{sha}", sha.get(..2).unwrap_or("xx"))
}

fn is_sha(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A file path from a backup, checked: one of the carried files or a photo
/// blob at its place; nothing that could leave the data dir.
fn carried_path(path: &str) -> Option<PhotoOrFile<'_>> {
    if CARRIED_FILES.contains(&path) {
        return Some(PhotoOrFile::File);
    }
    let sha = path.strip_prefix(PHOTO_DIR)?.strip_prefix('/')?.split_once('/')?.1;
    (is_sha(sha) && photo_path(sha) == path).then_some(PhotoOrFile::Photo(sha))
}

enum PhotoOrFile<'a> {
    Photo(&'a str),
    File,
}

/// A file next to `to` with `suffix` added to its name.
fn beside(to: &Path, suffix: &str) -> PathBuf {
    let mut name = to.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    to.with_file_name(name)
}

fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    let _ = path;
}

/// Takes a backup of the store open in this process and the data dir's photos
/// and files, into a new file `to` (refused if it exists). Writes are held off
/// only while the store's trees are copied to a dump beside `to`; the
/// compressed file is written after, and appears under its name only once
/// complete and on disk.
pub fn write_backup(store: &dyn Store, data_dir: &Path, to: &Path) -> anyhow::Result<Manifest> {
    if to.exists() {
        bail!("{} exists already: choose a new file name", to.display());
    }
    if let Some(dir) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let dump = beside(to, &format!(".dump-{}", uuid::Uuid::new_v4()));
    let partial = beside(to, ".partial");
    let result = write_via(store, data_dir, to, &dump, &partial);
    let _ = std::fs::remove_file(&dump);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn write_via(store: &dyn Store, data_dir: &Path, to: &Path, dump: &Path, partial: &Path) -> anyhow::Result<Manifest> {
    // 1. The store as of one instant, to a local dump, writers held off.
    let created_at = Utc::now();
    let held = Instant::now();
    let mut photos: Vec<String> = Vec::new();
    let mut listing = Listing::default();
    let photo_store = photo_store_of(data_dir)?;
    let info = {
        let file = File::create(dump).with_context(|| format!("cannot create {}", dump.display()))?;
        let mut w = FrameWriter::new(BufWriter::with_capacity(1 << 20, file))?;
        let mut current = String::new();
        let info = store.snapshot(&mut |tree: &str, k: &[u8], v: &[u8]| {
            if tree != current {
                w.tree(tree)?;
                current = tree.to_string();
            }
            if tree == "photos" {
                if let Ok(sha) = std::str::from_utf8(k) {
                    photos.push(sha.to_string());
                }
                if photo_store.is_some() {
                    listing
                        .add(k, v)
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
                }
            }
            w.entry(k, v)
        })?;
        w.finish(b"{}")?.into_inner().map_err(|e| e.into_error())?;
        info
    };
    let writes_held_ms = held.elapsed().as_millis() as u64;

    // 2. Compressed, with the photos and files, while the server serves.
    let header = Header {
        archive_format: ARCHIVE_FORMAT,
        store_format: info.store_format,
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
    };
    let file = File::create(partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let gz = GzEncoder::new(BufWriter::with_capacity(1 << 20, file), flate2::Compression::fast());
    let mut out = FrameWriter::new(gz)?;
    out.header(&serde_json::to_vec(&header)?)?;
    let mut sums = TreeSums::default();
    let mut inp = FrameReader::new(BufReader::with_capacity(1 << 20, File::open(dump)?))?;
    let mut current = String::new();
    while let Some(frame) = inp.next_frame()? {
        match frame {
            Frame::Tree(name) => {
                out.tree(&name)?;
                sums.touch(&name);
                current = name;
            }
            Frame::Entry(k, v) => {
                sums.add(&current, &k, &v);
                out.entry(&k, &v)?;
            }
            Frame::Manifest(_) => break,
            Frame::Header(_) | Frame::File(..) => bail!("the dump holds an unexpected frame"),
        }
    }
    let mut photo_sum = PhotoSum::default();
    let mut photos_missing = Vec::new();
    let photos_listed = photo_store.as_deref().map(|at| listing.finish(at));
    // Photos in an object store are listed, not carried.
    let carried = if photos_listed.is_some() { &[][..] } else { &photos[..] };
    for sha in carried {
        let path = photo_path(sha);
        match std::fs::read(data_dir.join(&path)) {
            Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == *sha => {
                out.file(&path, &bytes)?;
                photo_sum.count += 1;
                photo_sum.bytes += bytes.len() as u64;
            }
            Ok(_) => {
                tracing::error!(photo = %sha, "a photo's bytes on disk do not match its hash; not in the backup");
                photos_missing.push(sha.clone());
            }
            Err(e) => {
                tracing::error!(photo = %sha, error = %e, "a photo named by the store is not on disk; not in the backup");
                photos_missing.push(sha.clone());
            }
        }
    }
    let mut files = Vec::new();
    for name in CARRIED_FILES {
        match std::fs::read(data_dir.join(name)) {
            Ok(bytes) => {
                out.file(name, &bytes)?;
                let sha256 = hex::encode(Sha256::digest(&bytes));
                files.push(FileSum { path: name.to_string(), bytes: bytes.len() as u64, sha256 });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow!("cannot read {}: {e}", data_dir.join(name).display())),
        }
    }
    let trees = sums.finish();
    let manifest = Manifest {
        header,
        last_seq: info.last_seq,
        feed_epoch: info.feed_epoch,
        counts: counts_of(&trees, photos_listed.as_ref().map_or(photo_sum.count, |l| l.count)),
        trees,
        photos: photo_sum,
        photos_missing,
        photos_listed,
        files,
        writes_held_ms,
    };
    let gz = out.finish(&serde_json::to_vec(&manifest)?)?;
    let file = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(partial, to).with_context(|| format!("cannot name the backup {}", to.display()))?;
    sync_parent(to);
    Ok(manifest)
}

/// Called with each tree entry read back: tree, key, value.
type OnEntry<'a> = dyn FnMut(&str, Vec<u8>, Vec<u8>) -> anyhow::Result<()> + 'a;

/// What reading a whole backup found.
struct ReadBack {
    header: Header,
    manifest: Manifest,
}

/// Reads a backup from end to end, handing each tree entry and file to the
/// callbacks, and checks everything against the manifest: the closing digest,
/// each tree's checksum and count, each photo's content against its name, each
/// file's checksum. Any mismatch is an error.
fn read_backup(
    from: &Path,
    on_header: &mut dyn FnMut(&Header) -> anyhow::Result<()>,
    on_entry: &mut OnEntry<'_>,
    on_file: &mut dyn FnMut(&str, &[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<ReadBack> {
    let file = File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let mut gz = GzDecoder::new(BufReader::with_capacity(1 << 20, file));
    let mut r = FrameReader::new(&mut gz).map_err(|e| anyhow!("{}: {e}", from.display()))?;
    let mut header: Option<Header> = None;
    let mut sums = TreeSums::default();
    let mut current: Option<String> = None;
    let mut photos = PhotoSum::default();
    let mut listing = Listing::default();
    let mut files: Vec<FileSum> = Vec::new();
    let manifest = loop {
        let frame = r.next_frame().map_err(|e| anyhow!("{}: {e}", from.display()))?;
        match frame {
            Some(Frame::Header(json)) if header.is_none() => {
                let h: Header = serde_json::from_slice(&json).context("the backup's header is unreadable")?;
                on_header(&h)?;
                header = Some(h);
            }
            Some(_) if header.is_none() => bail!("the backup is damaged (no header)"),
            Some(Frame::Header(_)) => bail!("the backup is damaged (a second header)"),
            Some(Frame::Tree(name)) => {
                sums.touch(&name);
                current = Some(name);
            }
            Some(Frame::Entry(k, v)) => {
                let tree = current.as_deref().ok_or_else(|| anyhow!("the backup is damaged (entry outside a tree)"))?;
                sums.add(tree, &k, &v);
                if tree == "photos" {
                    listing.add(&k, &v).context("the backup is damaged (a photo record is unreadable)")?;
                }
                on_entry(tree, k, v)?;
            }
            Some(Frame::File(path, bytes)) => {
                match carried_path(&path) {
                    Some(PhotoOrFile::Photo(sha)) => {
                        if hex::encode(Sha256::digest(&bytes)) != sha {
                            bail!("the backup is damaged (photo {sha} does not match its hash)");
                        }
                        photos.count += 1;
                        photos.bytes += bytes.len() as u64;
                    }
                    Some(PhotoOrFile::File) => files.push(FileSum {
                        path: path.clone(),
                        bytes: bytes.len() as u64,
                        sha256: hex::encode(Sha256::digest(&bytes)),
                    }),
                    None => bail!("the backup is damaged (a file outside the data dir's layout: {path:?})"),
                }
                on_file(&path, &bytes)?;
            }
            Some(Frame::Manifest(json)) => {
                break serde_json::from_slice::<Manifest>(&json).context("the backup's manifest is unreadable")?
            }
            None => bail!("the backup is damaged (no manifest)"),
        }
    };
    // Nothing may follow the digest.
    let mut rest = [0u8; 1];
    if gz.read(&mut rest)? != 0 {
        bail!("the backup is damaged (bytes after its end)");
    }
    let header = header.ok_or_else(|| anyhow!("the backup is damaged (no header)"))?;
    let trees = sums.finish();
    if manifest.header != header {
        bail!("the backup is damaged (its manifest and header disagree)");
    }
    if trees != manifest.trees {
        let bad: Vec<&String> =
            manifest.trees.keys().chain(trees.keys()).filter(|t| manifest.trees.get(*t) != trees.get(*t)).collect();
        bail!("the backup is damaged (trees do not match the manifest: {bad:?})");
    }
    if photos != manifest.photos || files != manifest.files {
        bail!("the backup is damaged (photos or files do not match the manifest)");
    }
    if let Some(listed) = &manifest.photos_listed {
        if listing.finish(&listed.location) != *listed {
            bail!("the backup is damaged (the photos listed do not match the photo records it holds)");
        }
    }
    Ok(ReadBack { header, manifest })
}

/// Checks a backup without restoring it: every byte read and every checksum
/// compared. The manifest if it is sound.
pub fn verify(from: &Path) -> anyhow::Result<Manifest> {
    let back = read_backup(from, &mut |_| Ok(()), &mut |_, _, _| Ok(()), &mut |_, _| Ok(()))?;
    if back.header.store_format > STORE_FORMAT {
        bail!(
            "the backup is sound but was taken by a newer fengqiao-server (store format {}; this server reads up to \
             {STORE_FORMAT}): restore it with that release or a newer one",
            back.header.store_format
        );
    }
    Ok(back.manifest)
}

/// Restores a backup into `data_dir`, which must be empty or absent. The
/// restored feed gets a new identity (phones that synced after the backup start
/// over and send again what it lacks). On any failure nothing is left in
/// `data_dir`.
pub fn restore(from: &Path, data_dir: &Path) -> anyhow::Result<Manifest> {
    let existed = data_dir.exists();
    if existed {
        let mut entries = std::fs::read_dir(data_dir).with_context(|| format!("cannot read {}", data_dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "refusing to restore into {}: it is not empty (restore into a new, empty data dir, then point the \
                 server at it)",
                data_dir.display()
            );
        }
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let result = restore_into(from, data_dir);
    if result.is_err() {
        if existed {
            if let Ok(entries) = std::fs::read_dir(data_dir) {
                for e in entries.flatten() {
                    let p = e.path();
                    let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(data_dir);
        }
    }
    result
}

fn restore_into(from: &Path, data_dir: &Path) -> anyhow::Result<Manifest> {
    let store_dir = data_dir.join("store");
    let manifest = {
        let db = sled::Config::new()
            .path(&store_dir)
            .mode(sled::Mode::HighThroughput)
            .open()
            .with_context(|| format!("cannot create the store in {}", store_dir.display()))?;
        let mut trees: BTreeMap<String, sled::Tree> = BTreeMap::new();
        let mut pending: Vec<(String, sled::Batch, usize)> = Vec::new();
        let flush_batch = |trees: &BTreeMap<String, sled::Tree>, (name, batch, _): (String, sled::Batch, usize)| {
            trees.get(&name).ok_or_else(|| anyhow!("no tree {name}"))?.apply_batch(batch).map_err(anyhow::Error::from)
        };
        let back = read_backup(
            from,
            &mut |h| {
                if h.store_format > STORE_FORMAT {
                    bail!(crate::store::StoreError::NewerFormat { found: h.store_format, supported: STORE_FORMAT });
                }
                Ok(())
            },
            &mut |tree, k, v| {
                if !trees.contains_key(tree) {
                    trees.insert(tree.to_string(), db.open_tree(tree)?);
                }
                match pending.last_mut() {
                    Some((name, batch, n)) if name == tree && *n < 10_000 => {
                        batch.insert(k, v);
                        *n += 1;
                    }
                    _ => {
                        if let Some(full) = pending.pop() {
                            flush_batch(&trees, full)?;
                        }
                        let mut batch = sled::Batch::default();
                        batch.insert(k, v);
                        pending.push((tree.to_string(), batch, 1));
                    }
                }
                Ok(())
            },
            &mut |path, bytes| {
                let dest = data_dir.join(path);
                if let Some(dir) = dest.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut f = File::create(&dest).with_context(|| format!("cannot write {}", dest.display()))?;
                f.write_all(bytes)?;
                f.sync_all()?;
                Ok(())
            },
        )?;
        if let Some(last) = pending.pop() {
            flush_batch(&trees, last)?;
        }
        db.flush()?;
        back.manifest
    };
    // Migrated if older, then a new feed identity.
    {
        let store = open_store_retrying(&store_dir)?;
        store.renew_feed_epoch()?;
    }
    let store = open_store_retrying(&store_dir)?;
    let last = store.last_seq()?;
    if last != manifest.last_seq {
        bail!("the restored store ends at feed sequence {last}, the manifest says {}", manifest.last_seq);
    }
    Ok(manifest)
}

/// Opens a restored store (waiting, as [`SledStore::open`] does, for the lock
/// a handle just dropped in this process lets go of).
fn open_store_retrying(dir: &Path) -> anyhow::Result<SledStore> {
    SledStore::open(dir).map_err(|e| anyhow!("{e}"))
}

/// Opens the store of a data dir for serving or importing: a store of an
/// older format is first backed up into `<data>/backups/` (the file named in
/// the log), then migrated forward; a newer one is refused.
pub fn open_data_store(data_dir: &Path) -> anyhow::Result<SledStore> {
    let upgrade = |store: &SledStore, from: u64| -> crate::store::StoreResult<bool> {
        let to = data_dir.join("backups").join(timestamped_name(&format!("pre-upgrade-format{from}"), Utc::now()));
        tracing::info!(from, to = STORE_FORMAT, file = %to.display(), "older store format: taking a backup before migrating");
        let manifest = write_backup(store, data_dir, &to)
            .map_err(|e| crate::store::StoreError::Backend(format!("the backup before the upgrade failed: {e:#}")))?;
        tracing::info!(file = %to.display(), last_seq = manifest.last_seq, "backup before the upgrade taken");
        Ok(true)
    };
    SledStore::open_upgrading(&data_dir.join("store"), &upgrade).map_err(anyhow::Error::from)
}

/// The name of a backup taken at `at`: `fengqiao-20261207T223000.123Z.fqbk`
/// (names sort by time).
pub fn timestamped_name(prefix: &str, at: DateTime<Utc>) -> String {
    format!("{prefix}-{}.{EXTENSION}", at.format("%Y%m%dT%H%M%S%.3fZ"))
}
