//! `/v1/auth/*` and the authenticated-caller extractor.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use chrono::Utc;
use fengqiao_domain::wire::{ErrorBody, LoginRequest, RefreshRequest, TokenResponse};

use super::error::{ApiError, ApiJson, ApiResult};
use super::AppState;
use crate::auth::service::Caller;

/// Longest username or password accepted (a longer one is refused before hashing).
const MAX_CREDENTIAL_CHARS: usize = 256;

/// The authenticated caller of a request (`Authorization: Bearer <token>`).
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid access token is required"))?
            .trim()
            .to_string();
        let auth = state.auth.clone();
        let caller = tokio::task::spawn_blocking(move || auth.authenticate(&token)).await??;
        Ok(Authed(caller))
    }
}

/// Sign in with username and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn login(State(st): State<AppState>, ApiJson(req): ApiJson<LoginRequest>) -> ApiResult<Json<TokenResponse>> {
    if req.username.is_empty()
        || req.username.chars().count() > MAX_CREDENTIAL_CHARS
        || req.password.chars().count() > MAX_CREDENTIAL_CHARS
    {
        return Err(ApiError::bad_request("invalid_field", "username and password: 1 to 256 characters"));
    }
    let auth = st.auth.clone();
    let result =
        tokio::task::spawn_blocking(move || auth.login(&req.username, &req.password, req.device_id, Utc::now()))
            .await?;
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

/// Rotate: spend a refresh token, get new access and refresh tokens.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(st): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let auth = st.auth.clone();
    Ok(Json(tokio::task::spawn_blocking(move || auth.refresh(&req.refresh_token, Utc::now())).await??))
}

/// Sign out: revoke the session the refresh token belongs to.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "revoked")))]
pub async fn logout(State(st): State<AppState>, ApiJson(req): ApiJson<RefreshRequest>) -> ApiResult<StatusCode> {
    let auth = st.auth.clone();
    tokio::task::spawn_blocking(move || auth.logout(&req.refresh_token)).await??;
    Ok(StatusCode::NO_CONTENT)
}
