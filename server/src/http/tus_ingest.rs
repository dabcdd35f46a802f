//! Taking a tus `PATCH` body in: which uploads are being written, the running
//! SHA-256 of each, the writing and hashing of a body off the async executor
//! (in batches on blocking threads: the file write with the chunk's
//! `Upload-Checksum`, and the upload's running hash, side by side, while the
//! next batch arrives), and the early writeback of a partial upload so that
//! the fsync before a photo is kept finds little to do.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::blobs::{BlobStore, PartWriter};

/// Body bytes gathered before a batch goes to the blocking threads (small
/// enough that the last batch, written and hashed after the body ends, adds
/// little to the answer).
const BATCH: usize = 256 * 1024;

/// Bytes received since the last early writeback that start the next one.
pub const WRITEBACK_EVERY: u64 = 1024 * 1024;

/// Uploads being written (one writer per upload), the running SHA-256 of each
/// upload's bytes so far (so a completed upload is verified without reading it
/// again; after a restart the hash is recomputed from the file instead), and the
/// uploads whose early writeback is under way.
#[derive(Default)]
pub struct Busy {
    writing: Mutex<HashSet<Uuid>>,
    hashes: Mutex<HashMap<Uuid, (u64, Sha256)>>,
    syncing: Arc<Mutex<HashSet<Uuid>>>,
}

/// Holds an upload for one writer; let go when dropped. Owned, so that the
/// keeping of a complete photo can hold it in a task of its own.
pub struct BusyGuard(Arc<Busy>, Uuid);

impl Busy {
    /// The upload for this request alone, or `None` if another request holds it.
    ///
    /// The guard is made only once the claim is won and the lock is let go: a
    /// guard made and dropped under the lock would lock again in its `Drop`
    /// (a deadlock of the thread, then of every request) and would release the
    /// other writer's claim.
    pub fn take(self: &Arc<Self>, id: Uuid) -> Option<BusyGuard> {
        let won = self.writing.lock().unwrap_or_else(|p| p.into_inner()).insert(id);
        if won {
            Some(BusyGuard(self.clone(), id))
        } else {
            None
        }
    }

    /// The running hash of an upload if it covers exactly `offset` bytes.
    pub fn running(&self, id: Uuid, offset: u64) -> Option<Sha256> {
        if offset == 0 {
            return Some(Sha256::new());
        }
        let map = self.hashes.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&id).filter(|(o, _)| *o == offset).map(|(_, h)| h.clone())
    }

    /// Keeps the running hash of an upload's first `offset` bytes.
    pub fn keep(&self, id: Uuid, offset: u64, h: Sha256) {
        self.hashes.lock().unwrap_or_else(|p| p.into_inner()).insert(id, (offset, h));
    }

    /// Drops (and returns) an upload's running hash.
    pub fn forget(&self, id: Uuid) -> Option<(u64, Sha256)> {
        self.hashes.lock().unwrap_or_else(|p| p.into_inner()).remove(&id)
    }

    /// Starts writing back what the partial upload holds so far, in the
    /// background, unless that is under way for it already (at most one at a
    /// time per upload). Only makes bytes durable sooner: the photo is still
    /// fsynced whole before it is kept. Failures are logged, never answered.
    pub fn early_writeback(&self, blobs: Arc<dyn BlobStore>, id: Uuid) {
        let started = self.syncing.lock().unwrap_or_else(|p| p.into_inner()).insert(id);
        if !started {
            return;
        }
        let syncing = self.syncing.clone();
        tokio::spawn(async move {
            if let Err(e) = blobs.sync_partial(id).await {
                // Gone meanwhile (kept, discarded or expired): nothing to write back.
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::debug!(upload = %id, error = %e, "early writeback of an upload failed");
                }
            }
            syncing.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        });
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.writing.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.1);
    }
}

/// The digest a `PATCH` asked for in `Upload-Checksum`, if any.
pub enum ChunkHash {
    /// No checksum asked for.
    None,
    /// `sha1`.
    Sha1(Sha1),
    /// `sha256`.
    Sha256(Sha256),
    /// `crc32` (IEEE, as zlib; the digest is its 4 bytes big-endian).
    Crc32(crc32fast::Hasher),
}

impl ChunkHash {
    fn finish(self) -> Option<Vec<u8>> {
        match self {
            ChunkHash::None => None,
            ChunkHash::Sha1(h) => Some(h.finalize().to_vec()),
            ChunkHash::Sha256(h) => Some(h.finalize().to_vec()),
            ChunkHash::Crc32(h) => Some(h.finalize().to_be_bytes().to_vec()),
        }
    }
}

/// A digest that takes bytes in.
trait Absorb: Send + 'static {
    fn absorb(&mut self, data: &[u8]);
}

impl Absorb for ChunkHash {
    fn absorb(&mut self, data: &[u8]) {
        match self {
            ChunkHash::None => {}
            ChunkHash::Sha1(h) => h.update(data),
            ChunkHash::Sha256(h) => h.update(data),
            ChunkHash::Crc32(h) => h.update(data),
        }
    }
}

impl Absorb for Sha256 {
    fn absorb(&mut self, data: &[u8]) {
        self.update(data);
    }
}

/// One digest, fed batch by batch on a blocking thread (one batch at a time).
enum Lane<H> {
    Idle(H),
    Busy(JoinHandle<H>),
}

impl<H: Absorb> Lane<H> {
    /// The digest once its batch is absorbed.
    async fn settle(self) -> io::Result<H> {
        match self {
            Lane::Idle(h) => Ok(h),
            Lane::Busy(job) => job.await.map_err(io::Error::other),
        }
    }

    /// Waits for the batch in flight, then hands this one over.
    async fn feed(self, batch: Arc<[Bytes]>) -> io::Result<Lane<H>> {
        let mut h = self.settle().await?;
        Ok(Lane::Busy(tokio::task::spawn_blocking(move || {
            for piece in batch.iter() {
                h.absorb(piece);
            }
            h
        })))
    }
}

/// The partial upload's file with the chunk's checksum: each batch is
/// written at the file's end, then hashed, on one blocking thread. A failed
/// write is kept and answered at [`BodyIngest::finish`].
struct FileLane {
    file: PartWriter,
    chunk: ChunkHash,
    failed: Option<io::Error>,
}

impl Absorb for FileLane {
    fn absorb(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            if let Err(e) = self.file.write_all(data) {
                self.failed = Some(e);
            }
        }
        self.chunk.absorb(data);
    }
}

/// One `PATCH` body taken in off the async executor, batch by batch: the
/// bytes written to the partial upload with the chunk's checksum (if asked
/// for) on one blocking thread, the upload's running hash (if known) on
/// another, while the next batch arrives. No copy of the body is made.
pub struct BodyIngest {
    file: Option<Lane<FileLane>>,
    running: Option<Lane<Sha256>>,
    batch: Vec<Bytes>,
    gathered: usize,
}

/// What [`BodyIngest::finish`] gives back: the chunk's digest (if one was asked
/// for) and the running hash (if it was known at the start).
pub type Digests = (Option<Vec<u8>>, Option<Sha256>);

impl BodyIngest {
    /// Takes a body into `file` (at the upload's offset), checked against
    /// `chunk`, continuing `running`.
    pub fn new(file: PartWriter, chunk: ChunkHash, running: Option<Sha256>) -> BodyIngest {
        BodyIngest {
            file: Some(Lane::Idle(FileLane { file, chunk, failed: None })),
            running: running.map(Lane::Idle),
            batch: Vec::new(),
            gathered: 0,
        }
    }

    /// Takes the next piece of the body (written and hashed once a batch is
    /// gathered).
    pub async fn push(&mut self, piece: Bytes) -> io::Result<()> {
        self.gathered += piece.len();
        self.batch.push(piece);
        if self.gathered >= BATCH {
            self.dispatch().await?;
        }
        Ok(())
    }

    async fn dispatch(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch: Arc<[Bytes]> = std::mem::take(&mut self.batch).into();
        self.gathered = 0;
        if let Some(lane) = self.file.take() {
            self.file = Some(lane.feed(batch.clone()).await?);
        }
        if let Some(lane) = self.running.take() {
            self.running = Some(lane.feed(batch).await?);
        }
        Ok(())
    }

    /// Both digests, once every piece is written and absorbed; the first
    /// write error if a write failed.
    pub async fn finish(mut self) -> io::Result<Digests> {
        self.dispatch().await?;
        let chunk = match self.file.take() {
            Some(lane) => {
                let mut done = lane.settle().await?;
                if let Some(e) = done.failed.take() {
                    return Err(e);
                }
                done.file.flush()?;
                done.chunk.finish()
            }
            None => None,
        };
        let running = match self.running.take() {
            Some(lane) => Some(lane.settle().await?),
            None => None,
        };
        Ok((chunk, running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A take that is refused neither blocks nor lets go of the holder's claim.
    #[test]
    fn a_refused_take_keeps_the_holders_claim() {
        let busy = Arc::new(Busy::default());
        let id = Uuid::now_v7();
        let other = Uuid::now_v7();
        let holder = busy.take(id).expect("the first take wins");
        // On another thread, bounded: a take that locks twice never returns.
        let (tx, rx) = std::sync::mpsc::channel();
        let b = busy.clone();
        std::thread::spawn(move || {
            let refused = b.take(id).is_none();
            let still_held = b.take(id).is_none();
            let other_free = b.take(other).is_some();
            let _ = tx.send((refused, still_held, other_free));
        });
        let Ok((refused, still_held, other_free)) = rx.recv_timeout(std::time::Duration::from_secs(5)) else {
            // The stuck thread holds the lock: dropping the guard would wait forever.
            std::mem::forget(holder);
            panic!("a refused take must answer at once, not wait for a lock it holds");
        };
        assert!(refused, "a second writer is refused");
        assert!(still_held, "the refused take did not release the holder's claim");
        assert!(other_free, "another upload is not held");
        drop(holder);
        assert!(busy.take(id).is_some(), "free again once the holder is done");
    }

    /// A file of the test's own, to ingest into.
    fn sink(dir: &tempfile::TempDir) -> (std::path::PathBuf, PartWriter) {
        let path = dir.path().join("part");
        let f = std::fs::File::create(&path).unwrap();
        (path, Box::new(f))
    }

    #[tokio::test]
    async fn batched_writes_and_hashes_match_one_pass_over_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..3 * BATCH + 12_345).map(|i| (i % 251) as u8).collect();
        let mut prefix = Sha256::new();
        prefix.update(b"earlier chunks");
        let (path, file) = sink(&dir);
        let mut h = BodyIngest::new(file, ChunkHash::Sha256(Sha256::new()), Some(prefix.clone()));
        for piece in body.chunks(70_001) {
            h.push(Bytes::copy_from_slice(piece)).await.unwrap();
        }
        let (chunk, running) = h.finish().await.unwrap();
        assert_eq!(chunk.unwrap(), Sha256::digest(&body).to_vec());
        prefix.update(&body);
        assert_eq!(running.unwrap().finalize(), prefix.finalize());
        assert!(std::fs::read(&path).unwrap() == body, "every byte written, in order");

        let (_, file) = sink(&dir);
        let mut h = BodyIngest::new(file, ChunkHash::Sha1(Sha1::new()), None);
        h.push(Bytes::from_static(b"abc")).await.unwrap();
        let (chunk, running) = h.finish().await.unwrap();
        assert_eq!(chunk.unwrap(), Sha1::digest(b"abc").to_vec());
        assert!(running.is_none());

        // crc32 as zlib computes it, digest big-endian (the check value of "123456789")
        let (_, file) = sink(&dir);
        let mut h = BodyIngest::new(file, ChunkHash::Crc32(crc32fast::Hasher::new()), None);
        h.push(Bytes::from_static(b"12345")).await.unwrap();
        h.push(Bytes::from_static(b"6789")).await.unwrap();
        let (chunk, _) = h.finish().await.unwrap();
        assert_eq!(chunk.unwrap(), 0xCBF4_3926u32.to_be_bytes().to_vec());
        let (_, file) = sink(&dir);
        let (chunk, _) = BodyIngest::new(file, ChunkHash::None, None).finish().await.unwrap();
        assert!(chunk.is_none());
    }

    /// A write that fails (a full disk) is answered, not swallowed.
    #[tokio::test]
    async fn a_failed_write_is_answered_at_finish() {
        struct Full;
        impl std::io::Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut h = BodyIngest::new(Box::new(Full), ChunkHash::None, None);
        h.push(Bytes::from(vec![7u8; 2 * BATCH])).await.unwrap();
        let err = h.finish().await.expect_err("the write failed");
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }
}
