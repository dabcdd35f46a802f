//! `/v1/auth/*` and the authenticated-caller extractor.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, Extensions, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use fengqiao_domain::wire::{ChangePasswordRequest, ErrorBody, LoginRequest, RefreshRequest, TokenResponse};

use super::error::{rate_limited, ApiError, ApiJson, ApiResult};
use super::AppState;
use crate::auth::service::Caller;
use crate::store::{AuditAction, AuditEntry};

/// Paths a user whose password was reset may still call.
const WHILE_MUST_CHANGE: [&str; 2] = ["/v1/auth/password", "/v1/me"];

/// Longest username or password accepted (a longer one is refused before hashing).
const MAX_CREDENTIAL_CHARS: usize = 256;

/// What a revoked device may still do while its access token lasts: send the
/// work it holds (push ops, upload photos). Everything else is answered 401
/// `device_revoked`, which tells the phone to drop the user's data.
fn sends_held_work(parts: &Parts) -> bool {
    let path = parts.uri.path();
    path == "/v1/sync/push" || path == "/v1/photos" || path == "/v1/photos/" || path.starts_with("/v1/photos/uploads/")
}

/// The authenticated caller of a request (`Authorization: Bearer <token>`).
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", crate::http::error::UNAUTHORIZED))?
            .trim()
            .to_string();
        let auth = state.auth.clone();
        let caller = tokio::task::spawn_blocking(move || auth.authenticate(&token)).await??;
        if caller.device_revoked && !sends_held_work(parts) {
            return Err(crate::auth::AuthError::DeviceRevoked.into());
        }
        if caller.user.must_change_password && !WHILE_MUST_CHANGE.contains(&parts.uri.path()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "your password was reset: choose a new one (POST /v1/auth/password) first",
            ));
        }
        state.metrics.touch_session(caller.family);
        Ok(Authed(caller))
    }
}

/// Sign in with username and password. Attempts are limited per username and per
/// client address (policy `[auth] login_per_*_per_minute`): past the limit the
/// answer is 429 `rate_limited` with `Retry-After`, before any password is hashed.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "rate_limited",
            headers(("Retry-After" = u64, description = "seconds to wait")))))]
pub async fn login(
    State(st): State<AppState>,
    ext: Extensions,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, Response> {
    if req.username.is_empty()
        || req.username.chars().count() > MAX_CREDENTIAL_CHARS
        || req.password.chars().count() > MAX_CREDENTIAL_CHARS
    {
        return Err(ApiError::bad_request("invalid_field", "用户名和密码：须为 1 至 256 个字符").into_response());
    }
    let address = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Err(wait) = st.login_limiter.check(&req.username, address) {
        tracing::info!("login rate-limited");
        return Err(rate_limited(wait));
    }
    login_checked(st, req).await.map_err(IntoResponse::into_response)
}

/// Signs in (the password checked, the attempt audited) once the limiter let the attempt through;
/// the desk's sign-in form comes here too.
pub(crate) async fn login_checked(st: AppState, req: LoginRequest) -> ApiResult<Json<TokenResponse>> {
    let (auth, store, device) = (st.auth.clone(), st.store.clone(), req.device_id);
    let result = tokio::task::spawn_blocking(move || {
        let r = auth.login(&req.username, &req.password, req.device_id, Utc::now());
        // The audit names a user by id only; an unknown username is not kept.
        let entry = match &r {
            Ok(t) => AuditEntry::new(AuditAction::Login, Some(t.user.id), Some(t.user.id.to_string()), "ok"),
            Err(e) => {
                let known = store.user_by_username(&req.username).ok().flatten().map(|u| u.id.to_string());
                let detail = if known.is_some() { "" } else { "unknown user" };
                AuditEntry::new(AuditAction::LoginFailed, None, known, e.code()).detail(detail)
            }
        };
        store.append_audit(&[entry.device(device)]).map(|_| r)
    })
    .await??;
    match result {
        Ok(t) => {
            tracing::info!(user = %t.user.id, "login");
            Ok(Json(t))
        }
        Err(e) => {
            tracing::info!("login refused");
            Err(e.into())
        }
    }
}

/// Rotate: spend a refresh token, get new access and refresh tokens. The same
/// device presenting the token again within `auth.refresh_retry_grace_secs`
/// (its answer was lost), before using the pair it was given, gets a fresh pair;
/// any other reuse of a spent token revokes the session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let auth = st.auth.clone();
    Ok(Json(tokio::task::spawn_blocking(move || auth.refresh(&req.refresh_token, req.device_id, Utc::now())).await??))
}

/// Sign out: revoke the session the refresh token belongs to.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "revoked")))]
pub async fn logout(State(st): State<AppState>, ApiJson(req): ApiJson<RefreshRequest>) -> ApiResult<StatusCode> {
    let (auth, store) = (st.auth.clone(), st.store.clone());
    tokio::task::spawn_blocking(move || -> Result<(), crate::auth::AuthError> {
        if let Some(rec) = auth.logout(&req.refresh_token)? {
            let e = AuditEntry::new(AuditAction::Logout, Some(rec.user_id), Some(rec.family.to_string()), "ok");
            store.append_audit(&[e.device(rec.device_id)])?;
        }
        Ok(())
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}

/// Change one's own password (required after an administrator's reset). Every
/// other session of the user ends; the calling one stays signed in.
#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "changed"), (status = 400, body = ErrorBody, description = "weak_password"),
        (status = 401, body = ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    if req.old_password.chars().count() > MAX_CREDENTIAL_CHARS {
        return Err(ApiError::bad_request("invalid_field", "密码：最多 256 个字符"));
    }
    let (auth, store) = (st.auth.clone(), st.store.clone());
    tokio::task::spawn_blocking(move || -> Result<(), crate::auth::AuthError> {
        let id = caller.user.id;
        let r = auth.change_password(id, caller.family, &req.old_password, &req.new_password);
        let outcome = match &r {
            Ok(()) => "ok",
            Err(e) => e.code(),
        };
        let device = auth.device_of(id, caller.family)?;
        let e = AuditEntry::new(AuditAction::PasswordChange, Some(id), Some(id.to_string()), outcome);
        store.append_audit(&[e.device(device)])?;
        r
    })
    .await??;
    Ok(StatusCode::NO_CONTENT)
}
