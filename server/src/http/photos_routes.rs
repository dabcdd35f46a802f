//! `/v1/photos/`: a tus 1.0.0 upload endpoint (core protocol plus the `creation`,
//! `checksum` and `expiration` extensions) for content-addressed photos.
//!
//! The upload declares the photo's SHA-256 in `Upload-Metadata` (`sha256`, hex).
//! Each PATCH may carry `Upload-Checksum` (`sha1`, `sha256`, or `crc32` — the phone's choice, ADR 0020); a chunk that does
//! not match is discarded (460). When the last byte arrives the whole photo is
//! checked against the declared hash (kept as the bytes arrive, see
//! [`super::tus_ingest`]), made durable and kept only if it matches.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use fengqiao_domain::wire::ErrorBody;

use super::auth_routes::Authed;
use super::error::{ApiError, ApiResult};
pub use super::tus_headers::{parse_checksum, parse_metadata, parse_range};
pub use super::tus_ingest::Busy;
use super::tus_ingest::{BodyIngest, ChunkHash, WRITEBACK_EVERY};
use super::AppState;
use crate::store::{PhotoRecord, UploadRecord};

/// The protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// Extensions supported.
pub const TUS_EXTENSIONS: &str = "creation,checksum,expiration";
/// The `Upload-Checksum` algorithms accepted (`Tus-Checksum-Algorithm`): sha1
/// (which tus requires), sha256, and crc32, the phone's (ADR 0020).
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256,crc32";
/// `Tus-Resumable`.
pub static TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
static UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
static UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
static UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const OFFSET_STREAM: &str = "application/offset+octet-stream";

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn http_date(at: DateTime<Utc>) -> HeaderValue {
    hv(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn require_tus(h: &HeaderMap) -> ApiResult<()> {
    match header_str(h, "tus-resumable") {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::new(StatusCode::PRECONDITION_FAILED, "tus_version", "Tus-Resumable: 1.0.0 is required")),
    }
}

fn parse_u64(h: &HeaderMap, name: &str) -> ApiResult<u64> {
    header_str(h, name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| ApiError::bad_request("invalid_header", format!("{name}: a non-negative integer is required")))
}

/// `OPTIONS /v1/photos/`: what this server speaks.
#[utoipa::path(options, path = "/v1/photos/", tag = "photos",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm headers")))]
pub async fn options(State(st): State<AppState>) -> Response {
    let mut h = HeaderMap::new();
    h.insert("tus-version", hv(TUS_VERSION));
    h.insert("tus-extension", hv(TUS_EXTENSIONS));
    h.insert("tus-max-size", hv(&st.policy.photos.max_bytes.to_string()));
    h.insert("tus-checksum-algorithm", hv(CHECKSUM_ALGORITHMS));
    (StatusCode::NO_CONTENT, h).into_response()
}

/// `OPTIONS /v1/photos`: the same as `OPTIONS /v1/photos/` (a tus client given
/// the endpoint without its slash).
#[utoipa::path(options, path = "/v1/photos", tag = "photos",
    responses((status = 204, description = "as OPTIONS /v1/photos/")))]
pub async fn options_no_slash(st: State<AppState>) -> Response {
    options(st).await
}

/// `POST /v1/photos`: the same as `POST /v1/photos/`.
#[utoipa::path(post, path = "/v1/photos", tag = "photos", security(("bearer" = [])),
    params(("Upload-Length" = u64, Header, description = "photo size in bytes"),
           ("Upload-Metadata" = String, Header, description = "tus metadata; must include sha256 (hex, base64-encoded)"),
           ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 201, description = "as POST /v1/photos/"), (status = 400), (status = 401), (status = 412), (status = 413)))]
pub async fn create_no_slash(st: State<AppState>, caller: Authed, headers: HeaderMap) -> ApiResult<Response> {
    create(st, caller, headers).await
}

/// `POST /v1/photos/`: create an upload (`Upload-Length`, `Upload-Metadata` with `sha256`).
#[utoipa::path(post, path = "/v1/photos/", tag = "photos", security(("bearer" = [])),
    params(("Upload-Length" = u64, Header, description = "photo size in bytes"),
           ("Upload-Metadata" = String, Header, description = "tus metadata; must include sha256 (hex, base64-encoded)"),
           ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 201, description = "created; Location is the upload's URL"), (status = 400), (status = 401), (status = 412), (status = 413)))]
pub async fn create(State(st): State<AppState>, Authed(caller): Authed, headers: HeaderMap) -> ApiResult<Response> {
    require_tus(&headers)?;
    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::bad_request("invalid_header", "Upload-Defer-Length is not supported"));
    }
    let length = parse_u64(&headers, "upload-length")?;
    let max = st.policy.photos.max_bytes;
    if length > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo_too_large",
            format!("photos are at most {max} bytes"),
        ));
    }
    if length == 0 {
        return Err(ApiError::bad_request("invalid_header", "Upload-Length: an empty photo is not a photo"));
    }
    let meta = parse_metadata(header_str(&headers, "upload-metadata").unwrap_or_default())
        .map_err(|m| ApiError::bad_request("invalid_header", m))?;
    let sha256 = meta
        .iter()
        .find(|(k, _)| k == "sha256")
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| ApiError::bad_request("sha256_required", "Upload-Metadata must carry sha256 (64 hex digits)"))?;
    let now = Utc::now();
    let upload = UploadRecord {
        id: Uuid::now_v7(),
        owner: caller.user.id,
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
    tracing::info!(user = %caller.user.id, upload = %upload.id, length, "photo upload created");
    let mut h = HeaderMap::new();
    h.insert(header::LOCATION, hv(&format!("/v1/photos/uploads/{}", upload.id)));
    h.insert(UPLOAD_EXPIRES.clone(), http_date(upload.expires_at));
    h.insert(UPLOAD_OFFSET.clone(), hv("0"));
    Ok((StatusCode::CREATED, h).into_response())
}

/// The caller's live upload, or 404 (someone else's uploads do not exist for them).
async fn own_upload(st: &AppState, caller: Uuid, id: Uuid) -> ApiResult<UploadRecord> {
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
/// (kept), else the bytes its partial file holds. Without a partial file the
/// upload was kept or discarded by another request meanwhile (its record,
/// read again once no request holds it, tells which: 404 if discarded), or is
/// being kept right now (423).
async fn standing(st: &AppState, up: &UploadRecord) -> ApiResult<Option<u64>> {
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

/// `HEAD /v1/photos/uploads/{id}`: how much the server holds (the whole length
/// once the photo is kept, until the upload expires).
#[utoipa::path(head, path = "/v1/photos/uploads/{id}", tag = "photos", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "upload id")),
    responses((status = 200, description = "Upload-Offset and Upload-Length headers (Upload-Offset = Upload-Length once complete)"),
        (status = 404), (status = 423, description = "another request is writing this upload")))]
pub async fn head(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    let up = own_upload(&st, caller.user.id, id).await?;
    let offset = match standing(&st, &up).await? {
        None => up.length,
        Some(n) if n == up.length => {
            // Every byte is here, yet the upload is still open: the request
            // that brought the last bytes ended before the photo was verified
            // and kept (the client went away mid-answer, or the server was
            // stopped). Finish it now: a client that sees a complete offset
            // takes the photo as kept.
            let Some(guard) = st.busy.take(id) else { return Err(upload_busy()) };
            if st.blobs.partial_len(id).await.map_err(ApiError::internal)?.is_some() {
                keep(&st, &up, guard).await?;
            } else if !own_upload(&st, up.owner, id).await?.completed {
                // Discarded meanwhile by the request that held it.
                return Err(ApiError::not_found());
            }
            n
        }
        Some(n) => n,
    };
    let mut h = HeaderMap::new();
    h.insert(UPLOAD_OFFSET.clone(), hv(&offset.to_string()));
    h.insert(UPLOAD_LENGTH.clone(), hv(&up.length.to_string()));
    h.insert(UPLOAD_EXPIRES.clone(), http_date(up.expires_at));
    h.insert(header::CACHE_CONTROL, hv("no-store"));
    Ok((StatusCode::OK, h).into_response())
}

/// `PATCH /v1/photos/uploads/{id}`: append bytes at `Upload-Offset`.
#[utoipa::path(patch, path = "/v1/photos/uploads/{id}", tag = "photos", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "upload id"),
           ("Upload-Offset" = u64, Header, description = "must equal the server's offset"),
           ("Upload-Checksum" = Option<String>, Header, description = "sha1|sha256|crc32 <base64 digest> of this chunk (crc32: 4 bytes, big-endian)")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "new Upload-Offset"), (status = 409, description = "offset mismatch"),
        (status = 413, body = ErrorBody, description = "more bytes than Upload-Length (Connection: close when the body is left unread)"),
        (status = 415), (status = 423, body = ErrorBody, description = "another request is writing this upload"),
        (status = 460, description = "checksum mismatch: chunk discarded"), (status = 404)))]
pub async fn patch(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    require_tus(&headers)?;
    if header_str(&headers, "content-type").map(|c| c.split(';').next().unwrap_or("").trim()) != Some(OFFSET_STREAM) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type: application/offset+octet-stream",
        ));
    }
    let offset = parse_u64(&headers, "upload-offset")?;
    let chunk_hash = match header_str(&headers, "upload-checksum") {
        None => ChunkHash::None,
        Some(raw) => {
            let (alg, _) = parse_checksum(raw).map_err(|m| ApiError::bad_request("invalid_checksum", m))?;
            match alg.as_str() {
                "sha1" => ChunkHash::Sha1(Sha1::new()),
                "crc32" => ChunkHash::Crc32(crc32fast::Hasher::new()),
                _ => ChunkHash::Sha256(Sha256::new()),
            }
        }
    };
    let expected = header_str(&headers, "upload-checksum").and_then(|raw| parse_checksum(raw).ok()).map(|(_, d)| d);
    let up = own_upload(&st, caller.user.id, id).await?;
    if up.completed {
        return patch_complete(&up, offset, &headers);
    }
    let Some(guard) = st.busy.take(id) else { return Err(upload_busy()) };
    let current = match st.blobs.partial_len(id).await.map_err(ApiError::internal)? {
        Some(n) => n,
        None => {
            // Kept (or discarded) by the request that held it before this one.
            let again = own_upload(&st, caller.user.id, id).await?;
            if !again.completed {
                return Err(ApiError::not_found());
            }
            return patch_complete(&again, offset, &headers);
        }
    };
    if offset != current {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!("the upload is at offset {current}"),
        ));
    }
    let room = up.length - current;
    let file = st.blobs.write_partial(id, offset).await.map_err(ApiError::io)?;
    let mut ingest = BodyIngest::new(file, chunk_hash, st.busy.running(id, offset));
    let mut stream = body.into_data_stream();
    let mut written: u64 = 0;
    let mut unsynced: u64 = 0;
    let mut cut = false;
    let mut too_long = false;
    let mut ingest_failed = None;
    while let Some(next) = stream.next().await {
        let chunk = match next {
            Ok(c) => c,
            Err(_) => {
                cut = true;
                break;
            }
        };
        if written + chunk.len() as u64 > room {
            too_long = true;
            break;
        }
        written += chunk.len() as u64;
        unsynced += chunk.len() as u64;
        if let Err(e) = ingest.push(chunk).await {
            ingest_failed = Some(e);
            break;
        }
        if unsynced >= WRITEBACK_EVERY {
            // A large chunk: start writing back what has arrived so far.
            st.busy.early_writeback(st.blobs.clone(), id);
            unsynced = 0;
        }
    }
    // Every piece taken is written (or the write failed) before anything is
    // judged, so a truncation below cannot race a write still under way.
    let ingested = ingest.finish().await;
    let digests = match (ingest_failed, ingested) {
        (Some(e), _) | (None, Err(e)) => Err(e),
        (None, Ok(_)) if too_long || (cut && expected.is_some()) => Ok(None),
        (None, Ok(d)) => Ok(Some(d)),
    };
    let (got, running) = match digests {
        Ok(Some(d)) => d,
        Err(e) => {
            // Bytes that were not written or hashed cannot be vouched for: not kept.
            st.blobs.truncate_partial(id, offset).await.map_err(ApiError::internal)?;
            return Err(ApiError::io(e));
        }
        Ok(None) => {
            // Bytes that cannot be verified or do not fit are not kept.
            st.blobs.truncate_partial(id, offset).await.map_err(ApiError::internal)?;
            if too_long {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "upload_exceeds_length",
                    "more bytes than Upload-Length",
                ));
            }
            return Err(ApiError::bad_request("upload_interrupted", "the chunk was cut short; resume from HEAD"));
        }
    };
    if let (Some(want), Some(got)) = (expected, got) {
        if want != got {
            st.blobs.truncate_partial(id, offset).await.map_err(ApiError::internal)?;
            tracing::info!(upload = %id, "chunk checksum mismatch: discarded");
            return Err(ApiError::new(
                StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
                "checksum_mismatch",
                "the chunk does not match Upload-Checksum and was discarded",
            ));
        }
    }
    // No fsync per chunk: the offset is the file's length, read again on every
    // HEAD, and the whole photo is verified against its hash and fsynced before
    // it is kept. A large chunk starts the writeback of what came so far, so
    // that fsync finds little left to write.
    let new_offset = offset + written;
    if written >= WRITEBACK_EVERY && new_offset < up.length {
        st.busy.early_writeback(st.blobs.clone(), id);
    }
    match running {
        Some(r) => st.busy.keep(id, new_offset, r),
        None => {
            st.busy.forget(id);
        }
    }
    if new_offset == up.length {
        keep(&st, &up, guard).await?;
    }
    let mut h = HeaderMap::new();
    h.insert(UPLOAD_OFFSET.clone(), hv(&new_offset.to_string()));
    h.insert(UPLOAD_EXPIRES.clone(), http_date(up.expires_at));
    Ok((StatusCode::NO_CONTENT, h).into_response())
}

/// A `PATCH` to an upload already complete: nothing more fits. At its length
/// with no bytes it is answered like the last chunk (a client resuming after a
/// cut during that chunk); anything else is refused.
fn patch_complete(up: &UploadRecord, offset: u64, headers: &HeaderMap) -> ApiResult<Response> {
    if offset != up.length {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!("the upload is complete, at offset {}", up.length),
        ));
    }
    let declared = header_str(headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    if declared > 0 {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "upload_exceeds_length",
            "more bytes than Upload-Length",
        ));
    }
    let mut h = HeaderMap::new();
    h.insert(UPLOAD_OFFSET.clone(), hv(&up.length.to_string()));
    h.insert(UPLOAD_EXPIRES.clone(), http_date(up.expires_at));
    Ok((StatusCode::NO_CONTENT, h).into_response())
}

/// [`finish`] in a task of its own that holds the upload: a client gone
/// mid-answer (its request is dropped) does not cut the keeping short between
/// the photo's file and its records.
async fn keep(st: &AppState, up: &UploadRecord, guard: super::tus_ingest::BusyGuard) -> ApiResult<()> {
    let (st, up) = (st.clone(), up.clone());
    tokio::spawn(async move {
        let _held = guard;
        finish(&st, &up).await
    })
    .await?
}

/// Verifies a complete upload against its declared hash and keeps it only if it matches.
async fn finish(st: &AppState, up: &UploadRecord) -> ApiResult<()> {
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
    tracing::info!(upload = %up.id, "photo upload complete");
    Ok(())
}

/// `GET /v1/photos/{sha256}`: the photo, to users who may see a record it is
/// attached to by someone who proved holding its bytes (an upload of theirs
/// completed); everyone else gets 404, the same as for a photo that does not
/// exist: knowing a photo's hash never grants its bytes. Supports a single
/// `Range`.
#[utoipa::path(get, path = "/v1/photos/{sha256}", tag = "photos", security(("bearer" = [])),
    params(("sha256" = String, Path, description = "the photo's SHA-256, lowercase hex"),
           ("Range" = Option<String>, Header, description = "bytes=start-end (one range)")),
    responses((status = 200, description = "the photo (Content-Security-Policy: default-src 'none'; sandbox)"),
        (status = 206, description = "a range of it"),
        (status = 404, description = "no such photo you may see"),
        (status = 416, body = ErrorBody, description = "invalid_range: Content-Range bytes */LEN")))]
pub async fn download(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(sha): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if !fengqiao_domain::records::is_sha256_hex(&sha) {
        return Err(ApiError::not_found());
    }
    let (store, key, actor) = (st.store.clone(), sha.clone(), caller.actor.clone());
    let content_type = tokio::task::spawn_blocking(move || -> Result<Option<String>, crate::store::StoreError> {
        for r in store.photo_refs(&key)? {
            let fengqiao_domain::Record::Attachment(att) = &r.record else { continue };
            if actor.may_see(r.record.visibility_kind(), &r.scope) && store.photo_held_by(&key, att.author)? {
                return Ok(Some(att.content_type.clone()));
            }
        }
        Ok(None)
    })
    .await??
    .ok_or_else(ApiError::not_found)?;
    let len = st.blobs.blob_len(&sha).await.map_err(ApiError::internal)?.ok_or_else(ApiError::not_found)?;
    let range = match parse_range(header_str(&headers, "range"), len) {
        Ok(r) => r,
        Err(()) => {
            // An error: JSON (not the photo's type), and nothing to cache.
            let body = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "invalid_range",
                "one satisfiable byte range, e.g. bytes=0-1023",
            );
            return Ok(([(header::CONTENT_RANGE, hv(&format!("bytes */{len}")))], body).into_response());
        }
    };
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, hv(&content_type));
    h.insert(header::ACCEPT_RANGES, hv("bytes"));
    h.insert(header::ETAG, hv(&format!("\"{sha}\"")));
    h.insert(header::CACHE_CONTROL, hv("private, max-age=31536000, immutable"));
    let (status, start, count) = match range {
        None => (StatusCode::OK, 0, len),
        Some((a, b)) => {
            h.insert(header::CONTENT_RANGE, hv(&format!("bytes {a}-{b}/{len}")));
            (StatusCode::PARTIAL_CONTENT, a, b - a + 1)
        }
    };
    h.insert(header::CONTENT_LENGTH, hv(&count.to_string()));
    let reader = st.blobs.read_blob(&sha, start, count).await.map_err(ApiError::internal)?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    Ok((status, h, body).into_response())
}

/// Removes expired incomplete uploads and their partial files. Returns how many.
pub async fn sweep_expired(st: &AppState) -> anyhow::Result<usize> {
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
pub fn spawn_sweeper(st: AppState, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    #[test]
    fn ranges_parse_to_inclusive_bounds() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(parse_range(Some("bytes=7-"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=-4"), 10), Ok(Some((6, 9))));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Ok(Some((5, 9))));
        for bad in ["bytes=10-", "bytes=4-2", "items=0-1", "bytes=0-1,3-4", "bytes=-0", "bytes=x-1"] {
            assert_eq!(parse_range(Some(bad), 10), Err(()), "{bad}");
        }
    }

    #[test]
    fn metadata_and_checksum_headers_parse_strictly() {
        let m = parse_metadata("sha256 YWJj,filename dGVzdC5qcGc=,empty").unwrap();
        assert_eq!(
            m,
            vec![
                ("sha256".into(), "abc".into()),
                ("filename".into(), "test.jpg".into()),
                ("empty".into(), String::new())
            ]
        );
        assert!(parse_metadata("sha256 !!!").is_err());
        let d = STANDARD.encode(Sha256::digest(b"x"));
        assert_eq!(parse_checksum(&format!("sha256 {d}")).unwrap().0, "sha256");
        assert!(parse_checksum(&format!("md5 {d}")).is_err());
        assert!(parse_checksum("sha1 AAAA").is_err());
        assert_eq!(parse_checksum("CRC32 y/Q5Jg==").unwrap(), ("crc32".into(), vec![0xcb, 0xf4, 0x39, 0x26]));
        assert!(parse_checksum("crc32 y/Q5").is_err(), "3 bytes is not a crc32");
        assert!(parse_checksum("sha256").is_err());
    }
}
