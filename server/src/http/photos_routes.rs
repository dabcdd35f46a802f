//! `/v1/photos/`: the HTTP face of the tus 1.0.0 upload endpoint (see
//! [`crate::tus`] for the protocol, the life of an upload and the checks) and
//! the download of a photo by its hash. Each handler parses the headers, calls
//! into [`crate::tus`], and answers.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use fengqiao_domain::wire::ErrorBody;

use super::auth_routes::Authed;
use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::tus::ingest::Chunk;
use crate::tus::upload::{self, Progress};
use crate::tus::{parse_metadata, parse_range, CHECKSUM_ALGORITHMS, TUS_EXTENSIONS, TUS_VERSION};

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
    let upload = upload::create(&st.uploads(), caller.user.id, length, sha256).await?;
    let mut h = HeaderMap::new();
    h.insert(header::LOCATION, hv(&format!("/v1/photos/uploads/{}", upload.id)));
    h.insert(UPLOAD_EXPIRES.clone(), http_date(upload.expires_at));
    h.insert(UPLOAD_OFFSET.clone(), hv("0"));
    Ok((StatusCode::CREATED, h).into_response())
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
    let at = upload::offset(&st.uploads(), caller.user.id, id).await?;
    let mut h = progress_headers(&at);
    h.insert(UPLOAD_LENGTH.clone(), hv(&at.length.to_string()));
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
    let chunk = patch_headers(&headers)?;
    let at = upload::append(&st.uploads(), caller.user.id, id, chunk, body.into_data_stream()).await?;
    Ok((StatusCode::NO_CONTENT, progress_headers(&at)).into_response())
}

/// The chunk a `PATCH`'s headers describe (`Tus-Resumable`, `Content-Type`,
/// `Upload-Offset`, `Upload-Checksum`, `Content-Length`).
fn patch_headers(headers: &HeaderMap) -> ApiResult<Chunk> {
    require_tus(headers)?;
    if header_str(headers, "content-type").map(|c| c.split(';').next().unwrap_or("").trim()) != Some(OFFSET_STREAM) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Content-Type: application/offset+octet-stream",
        ));
    }
    let offset = parse_u64(headers, "upload-offset")?;
    let declared = header_str(headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    Chunk::new(offset, declared, header_str(headers, "upload-checksum"))
        .map_err(|m| ApiError::bad_request("invalid_checksum", m))
}

/// `Upload-Offset` and `Upload-Expires` of an upload.
fn progress_headers(at: &Progress) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(UPLOAD_OFFSET.clone(), hv(&at.offset.to_string()));
    h.insert(UPLOAD_EXPIRES.clone(), http_date(at.expires_at));
    h
}

/// A photo's caching: its bytes never change (content-addressed), but only its
/// readers may have them.
pub const PHOTO_CACHE: &str = "private, max-age=31536000, immutable";

/// `GET /v1/photos/{sha256}`: the photo, to users who may see a record it is
/// attached to by someone who proved holding its bytes (an upload of theirs
/// completed); everyone else gets 404, the same as for a photo that does not
/// exist: knowing a photo's hash never grants its bytes. Supports a single
/// `Range`; cached for good (`Cache-Control: private, max-age=31536000,
/// immutable`), `304` when `If-None-Match` names its `ETag` (its hash, quoted).
#[utoipa::path(get, path = "/v1/photos/{sha256}", tag = "photos", security(("bearer" = [])),
    params(("sha256" = String, Path, description = "the photo's SHA-256, lowercase hex"),
           ("Range" = Option<String>, Header, description = "bytes=start-end (one range)"),
           ("If-None-Match" = Option<String>, Header, description = "the photo's ETag, its hash quoted")),
    responses((status = 200, description = "the photo (Content-Security-Policy: default-src 'none'; sandbox)"),
        (status = 304, description = "the photo named by If-None-Match: not sent again"),
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
    let content_type = tokio::task::spawn_blocking(move || visible_photo(store.as_ref(), &actor, &key))
        .await??
        .ok_or_else(ApiError::not_found)?;
    let len = st.blobs.blob_len(&sha).await.map_err(ApiError::internal)?.ok_or_else(ApiError::not_found)?;
    let etag = format!("\"{sha}\"");
    if super::cache::not_modified(&headers, &etag) {
        // Content-addressed: the bytes under a hash never change.
        let h = [(header::ETAG, hv(&etag)), (header::CACHE_CONTROL, hv(PHOTO_CACHE))];
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
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
    h.insert(header::ETAG, hv(&etag));
    h.insert(header::CACHE_CONTROL, hv(PHOTO_CACHE));
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

/// The content type of a kept photo if `actor` may see an attachment referencing
/// it (and its author's upload finished); `None` otherwise. The API's download and
/// the desk's photos ask this one check.
pub(crate) fn visible_photo(
    store: &dyn crate::store::Store,
    actor: &fengqiao_domain::permissions::Actor,
    sha: &str,
) -> Result<Option<String>, crate::store::StoreError> {
    for r in store.photo_refs(sha)? {
        let fengqiao_domain::Record::Attachment(att) = &r.record else { continue };
        if actor.may_see(r.record.visibility_kind(), &r.scope) && store.photo_held_by(sha, att.author)? {
            return Ok(Some(att.content_type.clone()));
        }
    }
    Ok(None)
}
