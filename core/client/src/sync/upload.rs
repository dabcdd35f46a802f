//! The photo uploader, run by `sync` after the records: each confirmed photo in
//! the persisted queue goes up over tus in chunks (`Upload-Checksum: crc32`;
//! the whole photo's SHA-256 is checked by the server at the end, ADR 0020),
//! its progress saved after every chunk, resuming from the server's offset
//! (HEAD) after a cut, a crash or a restart. A photo that fails for good is
//! marked failed and the next one goes on.
//!
//! Chunks grow while the link keeps up ([`super::chunk_size`]), never past
//! `ClientOptions::upload_chunk_bytes`. The photo's bytes are read off the async
//! executor: the next chunk is read — decrypted once — and hashed on a blocking
//! thread while the current chunk is in flight, then sent from that buffer. At
//! most two chunks are held (the one in flight and the next), whatever the
//! photo's size. Every read of the photo's bytes goes through [`open_photo`].

use std::io;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use tokio::task::JoinHandle;

use super::chunk_size::ChunkSize;
use crate::error::Error;
use crate::photo_folder::BlobDir;
use crate::progress::{SyncPhase, SyncProgress, SyncReport};
use crate::session::{Authed, Ctx};
use crate::store::{PhotoUpload, StoreError, UploadState};

/// Chunks refused as corrupted (460) in a row before the sync gives up for now.
const MAX_CHECKSUM_RETRIES: u32 = 4;
/// Offset re-syncs (409/423/interrupted) or new uploads per photo per sync.
const MAX_RESYNCS: u32 = 12;

/// How one photo ended in this sync.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    Done,
    Failed,
}

/// A failure that ends one photo's upload for good.
fn permanent(code: &str, message: impl Into<String>) -> UploadState {
    UploadState::Failed { code: code.into(), message: message.into(), permanent: true }
}

/// The uploader for one sync.
pub(crate) struct Uploader<'a> {
    pub ctx: &'a Ctx<'a>,
    pub blobs: &'a BlobDir,
    /// The largest chunk, in bytes.
    pub chunk: usize,
    pub progress: Option<&'a dyn SyncProgress>,
}

/// Aggregate progress over the photos of one sync.
struct Tally {
    before: u64,
    total: u64,
}

impl Uploader<'_> {
    fn check_cancel(&self) -> Result<(), Error> {
        match self.ctx.cancel {
            Some(c) if c.is_cancelled() => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    fn report(&self, done: u64, total: u64) {
        if let Some(p) = self.progress {
            p.on_progress(SyncPhase::Uploading, done, total);
        }
    }

    fn save(&self, up: &PhotoUpload) -> Result<(), Error> {
        self.ctx.store.save_photo_upload(up)?;
        Ok(())
    }

    /// Uploads every confirmed photo not yet done (nor failed for good), in queue order.
    pub(crate) async fn run(&self, auth: &mut Authed<'_>, report: &mut SyncReport) -> Result<(), Error> {
        let todo: Vec<PhotoUpload> =
            self.ctx.store.photo_uploads()?.into_iter().filter(|u| u.confirmed && u.state.is_open()).collect();
        if todo.is_empty() {
            return Ok(());
        }
        let total: u64 = todo.iter().map(|u| u.length).sum();
        let mut tally = Tally { before: 0, total };
        self.report(0, total);
        for up in todo {
            self.check_cancel()?;
            let length = up.length;
            match self.upload_one(auth, up, &tally).await? {
                Ended::Done => report.photos_uploaded += 1,
                Ended::Failed => report.photos_failed += 1,
            }
            tally.before += length;
            self.report(tally.before, tally.total);
        }
        Ok(())
    }

    fn fail(&self, mut up: PhotoUpload, state: UploadState) -> Result<Ended, Error> {
        if let UploadState::Failed { code, .. } = &state {
            tracing::warn!(code = code.as_str(), "photo upload failed for good");
        }
        up.state = state;
        self.save(&up)?;
        Ok(Ended::Failed)
    }

    async fn upload_one(&self, auth: &mut Authed<'_>, mut up: PhotoUpload, tally: &Tally) -> Result<Ended, Error> {
        match self.blobs.reader(&up.sha256) {
            Ok(Some(r)) if r.length == up.length => {}
            Ok(Some(_)) | Err(Error::Store(_)) => {
                return self.fail(up, permanent("local_file_corrupt", "the photo's file on this phone is damaged"))
            }
            Ok(None) => {
                return self.fail(up, permanent("local_file_missing", "the photo's file is no longer on this phone"))
            }
            Err(e) => return Err(e),
        }
        let path = Photo { blobs: self.blobs.clone(), sha256: up.sha256.clone() };
        up.attempts = up.attempts.saturating_add(1);
        self.save(&up)?;
        let api = self.ctx.api;
        let mut resyncs = 0u32;
        let mut checksum_failures = 0u32;
        let mut restarted_after_mismatch = false;
        let mut size = ChunkSize::new(self.chunk as u64);
        // The next chunk's checksum, computed while the current chunk is sent
        // (the first one while the server is asked where the upload stands).
        let resume_at = match up.state {
            UploadState::Uploading { bytes_done, .. } => bytes_done,
            _ => 0,
        };
        // Chunk buffers sent and answered, to be filled again (at most two are
        // ever in use: the chunk in flight and the next one).
        let mut spare = Buffers::default();
        let mut ahead = (resume_at < up.length)
            .then(|| Ahead::start(&path, resume_at, size.next(up.length - resume_at), spare.take()));
        // A chunk the server refused as damaged, to be sent again.
        let mut again: Option<Chunk> = None;
        'upload: loop {
            self.check_cancel()?;
            resyncs += 1;
            if resyncs > MAX_RESYNCS {
                return Err(Error::Protocol("the photo upload keeps losing its place; try again later".into()));
            }
            // 1. The upload's URL: the stored one, or a new upload.
            let (location, created) = match up.upload_url.clone() {
                Some(l) => (l, false),
                None => {
                    let sha = up.sha256.as_str();
                    if auth.call(move |tok| async move { api.photo_exists(&tok, sha).await }).await? {
                        return self.done(up);
                    }
                    let (len, ct) = (up.length, up.content_type.as_str());
                    match auth.call(move |tok| async move { api.tus_create(&tok, len, sha, ct).await }).await {
                        Ok(l) => {
                            up.upload_url = Some(l.clone());
                            up.state = UploadState::Uploading { bytes_done: 0, total: up.length };
                            self.save(&up)?;
                            (l, true)
                        }
                        Err(Error::Refused { status, body }) if status != 409 && status != 423 => {
                            return self.fail(up, permanent(&body.code, body.message));
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            // 2. Where the server stands (a new upload is empty: no need to ask).
            let loc = location.as_str();
            let mut offset = if created {
                0
            } else {
                match auth.call(move |tok| async move { api.tus_head(&tok, loc).await }).await {
                    Ok((offset, len)) if len == up.length && offset <= len => offset,
                    Ok(_) | Err(Error::Refused { status: 404 | 410, .. }) => {
                        // Expired, unknown or not this user's: start a new upload.
                        up.upload_url = None;
                        self.save(&up)?;
                        continue 'upload;
                    }
                    Err(Error::Refused { status: 409 | 423, .. }) => {
                        tokio::time::sleep(Duration::from_millis(50 * u64::from(resyncs))).await;
                        continue 'upload;
                    }
                    Err(e) => return Err(e),
                }
            };
            up.state = UploadState::Uploading { bytes_done: offset, total: up.length };
            self.save(&up)?;
            self.report(tally.before + offset, tally.total);
            // 3. Chunks from there.
            while offset < up.length {
                self.check_cancel()?;
                let chunk = match again.take() {
                    Some(c) if c.offset == offset => c,
                    _ => {
                        let next = match ahead.take() {
                            Some(a) if a.offset == offset => a,
                            _ => Ahead::start(&path, offset, size.next(up.length - offset), spare.take()),
                        };
                        match next.chunk().await {
                            Ok(c) => c,
                            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                                return self.fail(
                                    up,
                                    permanent("local_file_changed", "the photo's file changed on this phone"),
                                );
                            }
                            Err(e) => return Err(read_error(e)),
                        }
                    }
                };
                let len = chunk.len();
                // Read and hash the next chunk while this one is in flight.
                let after = offset + len;
                if after < up.length && ahead.as_ref().map(|a| a.offset) != Some(after) {
                    ahead = Some(Ahead::start(&path, after, size.next(up.length - after), spare.take()));
                }
                let sent = Instant::now();
                let (bytes, sum) = (&chunk.bytes, chunk.checksum.as_str());
                let res = auth
                    .call(move |tok| async move {
                        api.tus_patch(&tok, loc, offset, len, sum, reqwest::Body::from(bytes.clone())).await
                    })
                    .await;
                match res {
                    Ok(next) if next > offset && next <= up.length => {
                        spare.give_back(chunk.bytes);
                        size.confirmed(next - offset, sent.elapsed());
                        offset = next;
                        checksum_failures = 0;
                        up.state = UploadState::Uploading { bytes_done: offset, total: up.length };
                        self.save(&up)?;
                        self.report(tally.before + offset, tally.total);
                    }
                    Ok(_) => return Err(Error::Protocol("the server answered a chunk with a bad offset".into())),
                    Err(Error::Refused { status: 460, .. }) => {
                        // The chunk arrived damaged and was discarded: send it again.
                        checksum_failures += 1;
                        size.failed();
                        tracing::info!(attempt = checksum_failures, "photo chunk arrived damaged; resending");
                        if checksum_failures > MAX_CHECKSUM_RETRIES {
                            if local_hash(&path).await.is_ok_and(|sha| sha != up.sha256) {
                                return self.fail(
                                    up,
                                    permanent("local_file_corrupt", "the photo's file no longer matches its hash"),
                                );
                            }
                            return Err(Error::Network("photo chunks keep arriving damaged".into()));
                        }
                        again = Some(chunk);
                    }
                    Err(Error::Refused { status: 409 | 423, .. }) => {
                        tokio::time::sleep(Duration::from_millis(50 * u64::from(resyncs))).await;
                        continue 'upload;
                    }
                    Err(Error::Refused { status: 400, body }) if body.code == "upload_interrupted" => {
                        size.failed();
                        continue 'upload;
                    }
                    Err(Error::Refused { status: 404 | 410, .. }) => {
                        up.upload_url = None;
                        self.save(&up)?;
                        continue 'upload;
                    }
                    Err(Error::Refused { status: 422, body }) if body.code == "photo_hash_mismatch" => {
                        up.upload_url = None;
                        match local_hash(&path).await {
                            Ok(sha) if sha == up.sha256 && !restarted_after_mismatch => {
                                // The local file is sound: one fresh upload.
                                restarted_after_mismatch = true;
                                up.state = UploadState::Uploading { bytes_done: 0, total: up.length };
                                self.save(&up)?;
                                continue 'upload;
                            }
                            Ok(sha) if sha == up.sha256 => {
                                return self.fail(up, permanent(&body.code, body.message));
                            }
                            _ => {
                                return self.fail(
                                    up,
                                    permanent("local_file_corrupt", "the photo's file no longer matches its hash"),
                                )
                            }
                        }
                    }
                    Err(Error::Refused { body, .. }) => return self.fail(up, permanent(&body.code, body.message)),
                    Err(e) => return Err(e),
                }
            }
            return self.done(up);
        }
    }

    fn done(&self, mut up: PhotoUpload) -> Result<Ended, Error> {
        up.state = UploadState::Done;
        up.upload_url = None;
        up.done_at = Some(self.ctx.clock.now());
        self.save(&up)?;
        tracing::info!("photo uploaded");
        Ok(Ended::Done)
    }
}

/// A chunk of the photo, decrypted and hashed, ready to send (and to send
/// again if it arrives damaged).
struct Chunk {
    offset: u64,
    bytes: Bytes,
    /// `Upload-Checksum` of `bytes`: `crc32 <base64 of its 4 bytes, big-endian>`.
    checksum: String,
}

impl Chunk {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// Chunk buffers to fill again: no fresh allocation (and page faults) per
/// chunk, and the memory an upload holds stays at two chunks.
#[derive(Default)]
struct Buffers(Vec<Vec<u8>>);

impl Buffers {
    fn take(&mut self) -> Vec<u8> {
        self.0.pop().unwrap_or_default()
    }

    /// Keeps a sent chunk's buffer if nothing else holds it any more.
    fn give_back(&mut self, bytes: Bytes) {
        if let Ok(b) = bytes.try_into_mut() {
            if self.0.len() < 2 {
                self.0.push(b.into());
            }
        }
    }
}

/// A chunk being read and checksummed on a blocking thread.
struct Ahead {
    offset: u64,
    task: JoinHandle<io::Result<Chunk>>,
}

impl Ahead {
    /// Starts reading the `len` bytes at `offset` into `buf`.
    fn start(path: &Photo, offset: u64, len: u64, buf: Vec<u8>) -> Ahead {
        let path = path.clone();
        Ahead { offset, task: tokio::task::spawn_blocking(move || read_chunk(&path, offset, len, buf)) }
    }

    /// The chunk; `UnexpectedEof` if the photo is shorter.
    async fn chunk(self) -> io::Result<Chunk> {
        self.task.await.map_err(io::Error::other)?
    }
}

fn read_error(e: io::Error) -> Error {
    Error::Store(StoreError::Backend(format!("photo folder: read: {e}")))
}

/// A photo in the phone's (encrypted) photo folder.
#[derive(Clone)]
struct Photo {
    blobs: BlobDir,
    sha256: String,
}

fn invalid(e: Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// SHA-256 of the whole photo (lowercase hex), off the async executor.
async fn local_hash(path: &Photo) -> io::Result<String> {
    let path = path.clone();
    let hashed = tokio::task::spawn_blocking(move || open_photo(&path)?.hash().map_err(invalid))
        .await
        .map_err(io::Error::other)?;
    hashed.map(|(sha, _)| sha)
}

/// The one place the uploader opens a photo's bytes: decrypted a segment at a
/// time (any cut or altered byte fails with `InvalidData`).
/// Blocking: only ever called on a blocking thread.
fn open_photo(path: &Photo) -> io::Result<crate::photo_folder::PhotoReader> {
    path.blobs.reader(&path.sha256).map_err(invalid)?.ok_or_else(|| io::ErrorKind::NotFound.into())
}

/// The `len` bytes at `offset`, decrypted once and checksummed as they are
/// read (one segment at a time, while it is in the cache); `UnexpectedEof` if
/// the photo is shorter. Blocking.
///
/// The chunk's checksum only catches bytes damaged on the way (a damaged
/// chunk is refused with 460 and sent again); CRC-32 does that at a fraction
/// of SHA-256's cost on both ends, and the photo's SHA-256, which the server
/// verifies before it keeps the photo, stays the proof of its content.
fn read_chunk(path: &Photo, offset: u64, len: u64, mut bytes: Vec<u8>) -> io::Result<Chunk> {
    let mut reader = open_photo(path)?;
    let cap = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    bytes.clear();
    bytes.reserve_exact(cap);
    let mut crc = crc32fast::Hasher::new();
    let read = reader.read_into(offset, cap, &mut bytes, |piece| crc.update(piece)).map_err(invalid)?;
    if read < cap {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let checksum = format!("crc32 {}", B64.encode(crc.finalize().to_be_bytes()));
    Ok(Chunk { offset, bytes: Bytes::from(bytes), checksum })
}
