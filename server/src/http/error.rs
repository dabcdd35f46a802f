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
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "找不到：没有这项内容，或它不在您的辖区内")
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
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "服务器出错：请稍后再试")
    }
}

/// The message of a 401 `unauthorized` (no valid access token).
pub const UNAUTHORIZED: &str = "请先登录：缺少有效的登录凭证";

/// The message of an error answer the handlers did not write (a refusal by the
/// HTTP layer itself), by status: plain Chinese, as every answer a phone may show.
pub fn status_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求不对：请更新应用后重试",
        401 => UNAUTHORIZED,
        403 => "无权访问：您的账号不能做这件事",
        404 => "找不到：没有这项内容",
        405 => "请求方式不对：这个地址不支持这种请求",
        408 => "请求超时：网络太慢，请稍后再试",
        413 => "请求太大：超过服务器允许的大小",
        415 => "请求格式不对：请更新应用后重试",
        422 => "请求内容无法处理：请更新应用后重试",
        429 => "尝试次数太多：请稍后再试",
        s if s >= 500 => "服务器出错：请稍后再试",
        _ => "请求失败：请稍后再试",
    }
}

/// 429 `rate_limited` with `Retry-After` (whole seconds, at least 1).
pub fn rate_limited(wait: std::time::Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let body = ErrorBody {
        code: "rate_limited".into(),
        message: format!("尝试次数太多：请 {} 秒后再试", secs.max(1)),
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
            StoreError::TooManyBlocks(max) => ApiError::new(
                StatusCode::CONFLICT,
                "too_many_blocks",
                format!("案件编号段：未用完的编号段已达上限（最多 {max} 段），请先用完手中的编号"),
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
        let unauthorized = |code, message: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, message);
        match e {
            AuthError::InvalidCredentials => unauthorized("invalid_credentials", "用户名或密码不对"),
            AuthError::RefreshInvalid => unauthorized("refresh_invalid", "登录已失效：请重新登录"),
            AuthError::TokenExpired => unauthorized("token_expired", "登录已过期：请重新登录"),
            AuthError::Unauthorized => unauthorized("unauthorized", UNAUTHORIZED),
            AuthError::DeviceRevoked => unauthorized("device_revoked", "这台手机已被县里停用：手机上的数据须清除"),
            e @ AuthError::WeakPassword(_) => ApiError::bad_request("weak_password", e.to_string()),
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
                "请求格式：请求内容须为 JSON（application/json）",
            ),
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "请求太大：超过服务器允许的大小")
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

#[cfg(test)]
mod tests {
    use super::*;
    use fengqiao_domain::rejection::unreadable_reason;

    #[test]
    fn answers_a_phone_may_show_are_plain_chinese() {
        let mut answers = vec![
            ApiError::not_found(),
            ApiError::internal("disk on fire"),
            ApiError::storage_full(),
            StoreError::TooManyBlocks(3).into(),
        ];
        for e in [
            AuthError::InvalidCredentials,
            AuthError::RefreshInvalid,
            AuthError::TokenExpired,
            AuthError::Unauthorized,
            AuthError::DeviceRevoked,
        ] {
            answers.push(e.into());
        }
        for a in &answers {
            assert_eq!(unreadable_reason(&a.message), None, "{}: {}", a.code, a.message);
            assert!(!a.message.contains("disk on fire"), "details go to the log only");
        }
        for status in [400u16, 401, 403, 404, 405, 408, 413, 415, 422, 429, 500, 503, 418] {
            let m = status_message(StatusCode::from_u16(status).unwrap());
            assert_eq!(unreadable_reason(m), None, "{status}: {m}");
        }
    }
}
