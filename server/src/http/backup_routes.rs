//! `POST /v1/admin/backup`: the server takes a backup of its data dir while it
//! serves (ADR 0032). Asked by `fengqiao-server backup` on the same machine,
//! with the control token the server wrote into its data dir.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use fengqiao_domain::wire::ErrorBody;

use super::error::{ApiError, ApiJson, ApiResult};
use super::AppState;
use crate::backup::control::{BackupRequest, CONTROL_HEADER};
use crate::backup::schedule::BackupError;
use crate::backup::Manifest;

/// Takes a consistent backup of the running server's store, photos and policy
/// file into a new file on the server's machine, and answers its manifest.
/// Writes wait only while the store is copied to a local dump. Authorised by
/// the control token of this run of the server (`X-Fengqiao-Control`, from
/// `<data>/control.json`), not by a user's token.
#[utoipa::path(post, path = "/v1/admin/backup", tag = "admin", request_body = BackupRequest,
    security(("control" = [])),
    responses(
        (status = 200, body = Manifest, description = "the backup was written; its manifest"),
        (status = 400, body = ErrorBody, description = "invalid_backup_path: the path is not absolute"),
        (status = 401, body = ErrorBody, description = "control_token_invalid"),
        (status = 409, body = ErrorBody, description = "backup_exists: the file exists; backup_running: another backup is being taken"),
        (status = 500, body = ErrorBody)))]
pub async fn backup(
    State(st): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<BackupRequest>,
) -> ApiResult<Json<Manifest>> {
    let presented = headers.get(CONTROL_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !st.backups.token_matches(presented) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "control_token_invalid",
            "a backup is asked for with the control token from the data dir's control.json",
        ));
    }
    let to = std::path::PathBuf::from(&req.to);
    if !to.is_absolute() {
        return Err(ApiError::bad_request("invalid_backup_path", "the backup's path must be absolute"));
    }
    let (store, backups) = (st.store.clone(), st.backups.clone());
    let manifest = tokio::task::spawn_blocking(move || backups.take(store.as_ref(), &to)).await?;
    match manifest {
        Ok(m) => Ok(Json(m)),
        Err(BackupError::Busy) => {
            Err(ApiError::new(StatusCode::CONFLICT, "backup_running", BackupError::Busy.to_string()))
        }
        Err(e @ BackupError::Exists(_)) => Err(ApiError::new(StatusCode::CONFLICT, "backup_exists", e.to_string())),
        Err(BackupError::Failed(e)) => Err(ApiError::internal(format!("backup failed: {e:#}"))),
    }
}
