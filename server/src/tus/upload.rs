//! The life of a tus upload over the store and the blob store: created, its
//! offset told (finishing an upload whose every byte arrived but whose keeping
//! was cut), chunks appended, the whole photo verified against its declared
//! SHA-256 and kept only if it matches, expired uploads swept. The HTTP
//! handlers (`crate::http::photos_routes`) parse the headers and answer.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use fengqiao_domain::policy::Policy;
use futures_util::Stream;
use sha2::Digest;
use uuid::Uuid;

use axum::http::StatusCode;
use bytes::Bytes;

use super::blobs::BlobStore;
use super::busy::{Busy, BusyGuard};
use super::ingest::{ingest, Chunk, Refusal, Target, Verdict};
use crate::http::error::{ApiError, ApiResult};
use crate::store::{PhotoRecord, Store, UploadRecord};

/// What the life of an upload works on: the store, the blob store, the uploads
/// being written and the county's policy. The HTTP handlers build it from the
/// server's state.
#[derive(Clone)]
pub struct Uploads {
    /// The store (upload and photo records).
    pub store: Arc<dyn Store>,
    /// Photo bytes.
    pub blobs: Arc<dyn BlobStore>,
    /// Uploads being written.
    pub busy: Arc<Busy>,
    /// The county's policy (the upload expiry).
    pub policy: Arc<Policy>,
    /// Counts the photo bytes kept.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Where an upload stands after a request: the bytes held, of how many, and
/// until when the upload lives.
pub struct Progress {
    /// `Upload-Offset`.
    pub offset: u64,
    /// `Upload-Length`.
    pub length: u64,
    /// `Upload-Expires`.
    pub expires_at: DateTime<Utc>,
}

impl Progress {
    fn of(up: &UploadRecord, offset: u64) -> Progress {
        Progress { offset, length: up.length, expires_at: up.expires_at }
    }
}

/// Creates an upload of `length` bytes declared to hash to `sha256` (lowercase
/// hex), owned by `owner`, with its empty partial upload.
pub async fn create(st: &Uploads, owner: Uuid, length: u64, sha256: String) -> ApiResult<UploadRecord> {
    let now = Utc::now();
    let upload = UploadRecord {
        id: Uuid::now_v7(),
        owner,
        sha256,
        length,
        created_at: now,
        expires_at: now + Duration::hours(st.policy.photos.upload_expiry_hours as i64),
        completed: false,
    };
    st.blobs.create_partial(upload.id).await.map_err(ApiError::io)?;
    let store = st.store.clone();
    let rec = upload.clone();
    tokio::task::spawn_blocking(move || store.put_upload(&rec)).await??;
    tracing::info!(user = %owner, upload = %upload.id, length, "photo upload created");
    Ok(upload)
}

/// The caller's live upload, or 404 (someone else's uploads do not exist for them).
async fn own_upload(st: &Uploads, caller: Uuid, id: Uuid) -> ApiResult<UploadRecord> {
    let store = st.store.clone();
    let up = tokio::task::spawn_blocking(move || store.upload(id)).await??;
    match up {
        Some(u) if u.owner == caller && u.expires_at > Utc::now() => Ok(u),
        _ => Err(ApiError::not_found()),
    }
}

fn upload_busy() -> ApiError {
    ApiError::new(StatusCode::LOCKED, "upload_busy", "another request is writing this upload")
}

/// The offset of an upload no request holds: `None` once it is complete
/// (kept), else the bytes its partial upload holds. Without a partial upload the
/// upload was kept or discarded by another request meanwhile (its record,
/// read again once no request holds it, tells which: 404 if discarded), or is
/// being kept right now (423).
async fn standing(st: &Uploads, up: &UploadRecord) -> ApiResult<Option<u64>> {
    if up.completed {
        return Ok(None);
    }
    if let Some(n) = st.blobs.partial_len(up.id).await.map_err(ApiError::internal)? {
        return Ok(Some(n));
    }
    let Some(_guard) = st.busy.take(up.id) else { return Err(upload_busy()) };
    match own_upload(st, up.owner, up.id).await? {
        again if again.completed => Ok(None),
        _ => Err(ApiError::not_found()),
    }
}

/// How much the server holds of the caller's upload `id` (the whole length
/// once the photo is kept, until the upload expires).
pub async fn offset(st: &Uploads, caller: Uuid, id: Uuid) -> ApiResult<Progress> {
    let up = own_upload(st, caller, id).await?;
    let offset = match standing(st, &up).await? {
        None => up.length,
        Some(n) if n == up.length => {
            // Every byte is here, yet the upload is still open: the request
            // that brought the last bytes ended before the photo was verified
            // and kept (the client went away mid-answer, or the server was
            // stopped). Finish it now: a client that sees a complete offset
            // takes the photo as kept.
            let Some(guard) = st.busy.take(id) else { return Err(upload_busy()) };
            if st.blobs.partial_len(id).await.map_err(ApiError::internal)?.is_some() {
                keep(st, &up, guard).await?;
            } else if !own_upload(st, up.owner, id).await?.completed {
                // Discarded meanwhile by the request that held it.
                return Err(ApiError::not_found());
            }
            n
        }
        Some(n) => n,
    };
    Ok(Progress::of(&up, offset))
}

/// Appends `chunk`, whose bytes are `body`, to the caller's upload `id`: the
/// upload held for this request alone (423 if another holds it), the chunk at
/// the upload's offset (409), taken in and judged by [`ingest`] (a chunk not
/// kept is dropped), and the photo verified and kept once complete.
pub async fn append<S, E>(st: &Uploads, caller: Uuid, id: Uuid, chunk: Chunk, body: S) -> ApiResult<Progress>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let up = own_upload(st, caller, id).await?;
    if up.completed {
        return append_to_complete(&up, &chunk);
    }
    let Some(guard) = st.busy.take(id) else { return Err(upload_busy()) };
    let current = match st.blobs.partial_len(id).await.map_err(ApiError::internal)? {
        Some(n) => n,
        None => {
            // Kept (or discarded) by the request that held it before this one.
            let again = own_upload(st, caller, id).await?;
            if !again.completed {
                return Err(ApiError::not_found());
            }
            return append_to_complete(&again, &chunk);
        }
    };
    if chunk.offset != current {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!("the upload is at offset {current}"),
        ));
    }
    let file = st.blobs.write_partial(id, current).await.map_err(ApiError::io)?;
    let to = Target { busy: &st.busy, id, room: up.length - current };
    let offset = match ingest(to, file, chunk, body).await {
        Verdict::Keep { offset } => offset,
        Verdict::Truncate(why) => {
            st.blobs.drop_chunk(id, current).await.map_err(ApiError::internal)?;
            return Err(refused(id, why));
        }
    };
    match st.blobs.keep_chunk(id, current).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another server process took a chunk at this offset first.
            st.busy.forget(id);
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "offset_mismatch",
                "another request wrote at this offset first; resume from HEAD",
            ));
        }
        Err(e) => {
            st.busy.forget(id);
            return Err(ApiError::io(e));
        }
    }
    if offset == up.length {
        keep(st, &up, guard).await?;
    }
    Ok(Progress::of(&up, offset))
}

/// The answer to a chunk whose bytes were dropped.
fn refused(id: Uuid, why: Refusal) -> ApiError {
    match why {
        Refusal::Failed(e) => ApiError::io(e),
        Refusal::TooLong => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "upload_exceeds_length", "more bytes than Upload-Length")
        }
        Refusal::Cut => ApiError::bad_request("upload_interrupted", "the chunk was cut short; resume from HEAD"),
        Refusal::ChecksumMismatch => {
            tracing::info!(upload = %id, "chunk checksum mismatch: discarded");
            ApiError::new(
                StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
                "checksum_mismatch",
                "the chunk does not match Upload-Checksum and was discarded",
            )
        }
    }
}

/// A chunk for an upload already complete: nothing more fits. At its length
/// with no bytes it is answered like the last chunk (a client resuming after a
/// cut during that chunk); anything else is refused.
fn append_to_complete(up: &UploadRecord, chunk: &Chunk) -> ApiResult<Progress> {
    if chunk.offset != up.length {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!("the upload is complete, at offset {}", up.length),
        ));
    }
    if chunk.declared > 0 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "upload_exceeds_length",
            "more bytes than Upload-Length",
        ));
    }
    Ok(Progress::of(up, up.length))
}

/// [`finish`] in a task of its own that holds the upload: a client gone
/// mid-answer (its request is dropped) does not cut the keeping short between
/// the photo's file and its records.
async fn keep(st: &Uploads, up: &UploadRecord, guard: BusyGuard) -> ApiResult<()> {
    let (st, up) = (st.clone(), up.clone());
    tokio::spawn(async move {
        let _held = guard;
        finish(&st, &up).await
    })
    .await?
}

/// Verifies a complete upload against its declared hash and keeps it only if it matches.
async fn finish(st: &Uploads, up: &UploadRecord) -> ApiResult<()> {
    let actual = match st.busy.forget(up.id) {
        Some((offset, h)) if offset == up.length => hex::encode(h.finalize()),
        _ => st.blobs.hash_partial(up.id).await.map_err(ApiError::internal)?,
    };
    let store = st.store.clone();
    let id = up.id;
    if actual != up.sha256 {
        st.blobs.remove_partial(up.id).await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || store.delete_upload(id)).await??;
        tracing::info!(upload = %up.id, "photo hash mismatch: upload discarded");
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_hash_mismatch",
            "the photo's bytes do not match its declared sha256; upload discarded",
        ));
    }
    st.blobs.promote(up.id, &up.sha256).await.map_err(ApiError::io)?;
    let photo = PhotoRecord { sha256: up.sha256.clone(), length: up.length, created_at: Utc::now() };
    let done = up.clone();
    tokio::task::spawn_blocking(move || store.complete_upload(&photo, &done)).await??;
    st.metrics.observe_photo(up.length);
    tracing::info!(upload = %up.id, "photo upload complete");
    Ok(())
}

/// Removes expired incomplete uploads and their partial uploads. Returns how many.
pub async fn sweep_expired(st: &Uploads) -> anyhow::Result<usize> {
    let store = st.store.clone();
    let expired = tokio::task::spawn_blocking(move || store.expired_uploads(Utc::now())).await??;
    for up in &expired {
        st.busy.forget(up.id);
        st.blobs.remove_partial(up.id).await?;
        let store = st.store.clone();
        let id = up.id;
        tokio::task::spawn_blocking(move || store.delete_upload(id)).await??;
    }
    Ok(expired.len())
}

/// Runs [`sweep_expired`] every `every` until the returned handle is aborted.
pub fn spawn_sweeper(st: Uploads, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match sweep_expired(&st).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "expired photo uploads removed"),
                Err(e) => tracing::warn!(error = %e, "sweeping expired uploads failed"),
            }
        }
    })
}
