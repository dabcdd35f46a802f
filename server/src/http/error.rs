//! The one place server errors become HTTP answers: a status, a stable code and a
//! human message as JSON ([`ErrorBody`]). Nothing personal is put in messages or logs.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use fengqiao_domain::wire::ErrorBody;
use serde::de::DeserializeOwned;

use crate::auth::AuthError;
use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Human message.
    pub message: String,
    /// For a refused push: the offending op's index.
    pub op_index: Option<usize>,
}

impl ApiError {
    /// An error with status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), op_index: None }
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 `not_found` (also for what exists outside the caller's units).
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// 507 `storage_full`: the disk is full; nothing of the request was kept. The
    /// answer carries `Retry-After` ([`crate::disk::STORAGE_FULL_RETRY_AFTER_SECS`]):
    /// phones keep their work and retry.
    pub fn storage_full() -> ApiError {
        ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "storage_full",
            "服务器磁盘已满，本次没有保存任何内容，请稍后再试（手机上的记录都还在，会自动重发）",
        )
    }

    /// An I/O failure: [`ApiError::storage_full`] for a full disk, else
    /// [`ApiError::internal`].
    pub fn io(e: std::io::Error) -> ApiError {
        if crate::store::is_storage_full(&e) {
            tracing::error!(error = %e, "a write met a full disk");
            ApiError::storage_full()
        } else {
            ApiError::internal(e)
        }
    }

    /// 500 for an internal failure; the detail goes to the log, not the caller.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server failed; try again later")
    }
}

/// 429 `rate_limited` with `Retry-After` (whole seconds, at least 1).
pub fn rate_limited(wait: std::time::Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let body = ErrorBody {
        code: "rate_limited".into(),
        message: format!("too many attempts; try again in {} s", secs.max(1)),
        op_index: None,
    };
    (StatusCode::TOO_MANY_REQUESTS, [(axum::http::header::RETRY_AFTER, secs.max(1).to_string())], Json(body))
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { code: self.code.to_string(), message: self.message, op_index: self.op_index };
        if self.status == StatusCode::INSUFFICIENT_STORAGE {
            let wait = crate::disk::STORAGE_FULL_RETRY_AFTER_SECS.to_string();
            return (self.status, [(axum::http::header::RETRY_AFTER, wait)], Json(body)).into_response();
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists(m) => ApiError::new(StatusCode::CONFLICT, "already_exists", m),
            StoreError::InvalidRecord(m) => ApiError::bad_request("invalid_record", m),
            e @ StoreError::TooManyBlocks(_) => ApiError::new(
                StatusCode::CONFLICT,
                "too_many_blocks",
                format!("未用完的案件编号段已达上限（{e}）：请先用完手中的编号"),
            ),
            StoreError::StorageFull(m) => {
                tracing::error!(error = %m, "a write met a full disk");
                ApiError::storage_full()
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let msg = e.to_string();
        match e {
            AuthError::InvalidCredentials => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", msg),
            AuthError::RefreshInvalid => ApiError::new(StatusCode::UNAUTHORIZED, "refresh_invalid", msg),
            AuthError::TokenExpired => ApiError::new(StatusCode::UNAUTHORIZED, "token_expired", msg),
            AuthError::Unauthorized => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", msg),
            AuthError::DeviceRevoked => ApiError::new(StatusCode::UNAUTHORIZED, "device_revoked", msg),
            AuthError::WeakPassword(_) => ApiError::bad_request("weak_password", msg),
            AuthError::Store(s) => s.into(),
            AuthError::Internal(m) => ApiError::internal(m),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(e)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ),
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the body is too large")
            }
            JsonRejection::JsonDataError(e) => ApiError::bad_request("malformed_body", e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::bad_request("malformed_body", e.body_text()),
            other => ApiError::bad_request("malformed_body", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", r.body_text())
    }
}

/// `Json` whose refusals are [`ApiError`]s with stable codes.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(r.into()),
        }
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
