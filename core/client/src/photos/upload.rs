//! The photo uploader, run by `sync` after the records: each confirmed photo in
//! the persisted queue goes up over tus in chunks (`Upload-Checksum: sha256`),
//! its progress saved after every chunk, resuming from the server's offset
//! (HEAD) after a cut, a crash or a restart. A photo that fails for good is
//! marked failed and the next one goes on.

use std::time::Duration;

use super::blobs::{BlobDir, PhotoReader};
use crate::error::Error;
use crate::session::{Authed, Ctx};
use crate::store::{PhotoUpload, UploadState};
use crate::sync::{SyncPhase, SyncProgress, SyncReport};

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
            self.ctx.store.photo_uploads()?.into_iter().filter(|u| u.confirmed && is_open(&u.state)).collect();
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
        let reader = match self.blobs.reader(&up.sha256) {
            Ok(Some(r)) if r.length == up.length => r,
            Ok(Some(_)) | Err(Error::Store(_)) => {
                return self.fail(up, permanent("local_file_corrupt", "the photo's file on this phone is damaged"))
            }
            Ok(None) => {
                return self.fail(up, permanent("local_file_missing", "the photo's file is no longer on this phone"))
            }
            Err(e) => return Err(e),
        };
        let reader = std::sync::Arc::new(std::sync::Mutex::new(reader));
        up.attempts = up.attempts.saturating_add(1);
        self.save(&up)?;
        let api = self.ctx.api;
        let mut resyncs = 0u32;
        let mut checksum_failures = 0u32;
        let mut restarted_after_mismatch = false;
        'upload: loop {
            self.check_cancel()?;
            resyncs += 1;
            if resyncs > MAX_RESYNCS {
                return Err(Error::Protocol("the photo upload keeps losing its place; try again later".into()));
            }
            // 1. The upload's URL: the stored one, or a new upload.
            let location = match up.upload_url.clone() {
                Some(l) => l,
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
                            l
                        }
                        Err(Error::Refused { status, body }) if status != 409 && status != 423 => {
                            return self.fail(up, permanent(&body.code, body.message));
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            // 2. Where the server stands.
            let loc = location.as_str();
            let mut offset = match auth.call(move |tok| async move { api.tus_head(&tok, loc).await }).await {
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
            };
            up.state = UploadState::Uploading { bytes_done: offset, total: up.length };
            self.save(&up)?;
            self.report(tally.before + offset, tally.total);
            // 3. Chunks from there.
            while offset < up.length {
                self.check_cancel()?;
                let want = (up.length - offset).min(self.chunk as u64) as usize;
                let Some(chunk) = read_at(&reader, offset, want).await else {
                    return self.fail(up, permanent("local_file_corrupt", "the photo's file on this phone is damaged"));
                };
                let chunk = bytes::Bytes::from(chunk);
                let c = &chunk;
                let res = auth
                    .call(move |tok| {
                        let body = c.clone();
                        async move { api.tus_patch(&tok, loc, offset, body).await }
                    })
                    .await;
                match res {
                    Ok(next) if next > offset && next <= up.length => {
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
                        tracing::info!(attempt = checksum_failures, "photo chunk arrived damaged; resending");
                        if checksum_failures > MAX_CHECKSUM_RETRIES {
                            return Err(Error::Network("photo chunks keep arriving damaged".into()));
                        }
                    }
                    Err(Error::Refused { status: 409 | 423, .. }) => {
                        tokio::time::sleep(Duration::from_millis(50 * u64::from(resyncs))).await;
                        continue 'upload;
                    }
                    Err(Error::Refused { status: 400, body }) if body.code == "upload_interrupted" => {
                        continue 'upload;
                    }
                    Err(Error::Refused { status: 404 | 410, .. }) => {
                        up.upload_url = None;
                        self.save(&up)?;
                        continue 'upload;
                    }
                    Err(Error::Refused { status: 422, body }) if body.code == "photo_hash_mismatch" => {
                        up.upload_url = None;
                        let r = reader.clone();
                        let rehash =
                            tokio::task::spawn_blocking(move || r.lock().unwrap_or_else(|p| p.into_inner()).hash())
                                .await
                                .map_err(|_| Error::Protocol("photo check stopped".into()))?;
                        match rehash {
                            Ok((sha, _)) if sha == up.sha256 && !restarted_after_mismatch => {
                                // The local file is sound: one fresh upload.
                                restarted_after_mismatch = true;
                                up.state = UploadState::Uploading { bytes_done: 0, total: up.length };
                                self.save(&up)?;
                                continue 'upload;
                            }
                            Ok((sha, _)) if sha == up.sha256 => {
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

/// Not done and not failed for good: the uploader still works on it.
pub(crate) fn is_open(state: &UploadState) -> bool {
    !matches!(state, UploadState::Done | UploadState::Failed { permanent: true, .. })
}

/// Reads exactly `len` bytes of the photo at `offset`, decrypting off the
/// async executor; `None` if the file is shorter or fails authentication.
async fn read_at(reader: &SharedReader, offset: u64, len: usize) -> Option<Vec<u8>> {
    let r = reader.clone();
    let bytes =
        tokio::task::spawn_blocking(move || r.lock().unwrap_or_else(|p| p.into_inner()).read_range(offset, len))
            .await
            .ok()?
            .ok()?;
    (bytes.len() == len).then_some(bytes)
}

/// The photo being uploaded, shared with the blocking reads.
type SharedReader = std::sync::Arc<std::sync::Mutex<PhotoReader>>;
