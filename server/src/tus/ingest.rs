//! Taking a tus `PATCH` body in and judging it: [`ingest`] writes and hashes
//! the body off the async executor (in batches on blocking threads: the
//! chunk's write with its `Upload-Checksum`, and the upload's running hash,
//! side by side, while the next batch arrives), then gives the [`Verdict`]:
//! the chunk's bytes kept, or dropped and why.

use std::io::{self, Write};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::blobs::PartWriter;
use super::busy::Busy;
use super::headers::parse_checksum;

/// Body bytes gathered before a batch goes to the blocking threads (small
/// enough that the last batch, written and hashed after the body ends, adds
/// little to the answer).
const BATCH: usize = 256 * 1024;

/// A `PATCH`'s chunk as its headers describe it.
pub struct Chunk {
    /// `Upload-Offset`: where the chunk starts.
    pub offset: u64,
    /// `Content-Length` (0 if not given).
    pub declared: u64,
    /// The digest `Upload-Checksum` asked for.
    hash: ChunkHash,
    /// The digest `Upload-Checksum` declared.
    expected: Option<Vec<u8>>,
}

impl Chunk {
    /// The chunk at `offset` of `declared` bytes, checked against the
    /// `Upload-Checksum` header if there is one; its fault if it is malformed.
    pub fn new(offset: u64, declared: u64, checksum: Option<&str>) -> Result<Chunk, String> {
        let (hash, expected) = match checksum {
            None => (ChunkHash::None, None),
            Some(raw) => {
                let (alg, digest) = parse_checksum(raw)?;
                let hash = match alg.as_str() {
                    "sha1" => ChunkHash::Sha1(Sha1::new()),
                    "crc32" => ChunkHash::Crc32(crc32fast::Hasher::new()),
                    _ => ChunkHash::Sha256(Sha256::new()),
                };
                (hash, Some(digest))
            }
        };
        Ok(Chunk { offset, declared, hash, expected })
    }
}

/// What [`ingest`] made of a chunk.
pub enum Verdict {
    /// Every byte written and vouched for: the upload now holds `offset` bytes.
    Keep {
        /// The upload's new offset.
        offset: u64,
    },
    /// The chunk's bytes are not kept: the chunk is to be dropped (the upload
    /// stays at the chunk's offset), and the request refused for this reason.
    Truncate(Refusal),
}

/// Why a chunk's bytes are not kept.
#[derive(Debug)]
pub enum Refusal {
    /// A write failed: bytes not written or hashed cannot be vouched for.
    Failed(io::Error),
    /// More bytes than the upload has room for.
    TooLong,
    /// The body was cut short while a checksum was to verify it.
    Cut,
    /// The bytes do not match `Upload-Checksum`.
    ChecksumMismatch,
}

/// The upload a body goes into: which one, and how many bytes it still lacks.
pub struct Target<'a> {
    /// Uploads being written (running hashes).
    pub busy: &'a Busy,
    /// The upload.
    pub id: Uuid,
    /// Bytes it still lacks (its length less its offset).
    pub room: u64,
}

/// Takes a `PATCH` body into `file` (the writer of the chunk at its offset)
/// and judges it. Every piece taken is written (or its write failed) before
/// the verdict, so dropping the chunk cannot race a write still under way. A
/// kept chunk leaves the upload's running hash at its new offset (or forgets
/// it when it was not known).
pub async fn ingest<S, E>(to: Target<'_>, file: PartWriter, chunk: Chunk, body: S) -> Verdict
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let mut body = std::pin::pin!(body);
    let mut taking = BodyIngest::new(file, chunk.hash, to.busy.running(to.id, chunk.offset));
    let mut written: u64 = 0;
    let mut cut = false;
    let mut too_long = false;
    let mut failed = None;
    while let Some(next) = body.next().await {
        let Ok(piece) = next else {
            cut = true;
            break;
        };
        if written + piece.len() as u64 > to.room {
            too_long = true;
            break;
        }
        written += piece.len() as u64;
        if let Err(e) = taking.push(piece).await {
            failed = Some(e);
            break;
        }
    }
    let (got, running) = match (failed, taking.finish().await) {
        (Some(e), _) | (None, Err(e)) => return Verdict::Truncate(Refusal::Failed(e)),
        (None, Ok(_)) if too_long => return Verdict::Truncate(Refusal::TooLong),
        (None, Ok(_)) if cut && chunk.expected.is_some() => return Verdict::Truncate(Refusal::Cut),
        (None, Ok(d)) => d,
    };
    if let (Some(want), Some(got)) = (chunk.expected, got) {
        if want != got {
            return Verdict::Truncate(Refusal::ChecksumMismatch);
        }
    }
    // The offset is the kept chunks' length, read again on every HEAD; the
    // whole photo is verified against its hash and made durable before it is
    // kept.
    let offset = chunk.offset + written;
    match running {
        Some(r) => to.busy.keep(to.id, offset, r),
        None => {
            to.busy.forget(to.id);
        }
    }
    Verdict::Keep { offset }
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
