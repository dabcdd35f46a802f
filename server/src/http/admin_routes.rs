//! `/v1/admin/*`: users and devices, imports, the audit log. County admins only;
//! anyone else gets 404, so the admin surface reveals nothing. Every action is
//! written to the audit log with the admin's id and device.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use fengqiao_domain::wire::ErrorBody;
use fengqiao_domain::RoleGrant;
use serde::Deserialize;
use uuid::Uuid;

use super::auth_routes::Authed;
use super::error::{ApiError, ApiJson, ApiResult};
use super::AppState;
use crate::admin::import::{self, ImportOptions, ImportReport, InputFile};
use crate::admin::users::{self, DeviceView, NewUser, UserView};
use crate::admin::{audit, is_admin, AdminError};
use crate::auth::service::Caller;
use crate::store::{AuditAction, AuditEntry, AuditQuery};

/// Largest import file accepted over HTTP.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound(_) => ApiError::not_found(),
            AdminError::Invalid("already_exists", m) => ApiError::new(StatusCode::CONFLICT, "already_exists", m),
            AdminError::Invalid(code, m) => ApiError::bad_request(code, m),
            AdminError::Store(s) => s.into(),
            AdminError::Internal(m) => ApiError::internal(m),
        }
    }
}

fn admin(caller: &Caller) -> ApiResult<()> {
    if is_admin(&caller.user.grants) {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// Runs an admin action off the async runtime and audits it (success or not).
pub(crate) async fn act<T: Send + 'static>(
    st: &AppState,
    caller: &Caller,
    action: AuditAction,
    target: Option<Uuid>,
    f: impl FnOnce(&AppState) -> Result<T, AdminError> + Send + 'static,
) -> ApiResult<T> {
    admin(caller)?;
    let (state, actor, family) = (st.clone(), caller.user.id, caller.family);
    let out = tokio::task::spawn_blocking(move || -> ApiResult<T> {
        let r = f(&state);
        let outcome = match &r {
            Ok(_) => "ok".to_string(),
            Err(AdminError::NotFound(_)) => "not_found".to_string(),
            Err(AdminError::Invalid(code, _)) => (*code).to_string(),
            Err(_) => "internal".to_string(),
        };
        let device = state.auth.device_of(actor, family)?;
        let e = AuditEntry::new(action, Some(actor), target.map(|t| t.to_string()), outcome).device(device);
        state.store.append_audit(&[e])?;
        Ok(r?)
    })
    .await??;
    Ok(out)
}

/// Every user (county admin).
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserView>), (status = 404, body = ErrorBody)))]
pub async fn list_users(State(st): State<AppState>, Authed(caller): Authed) -> ApiResult<Json<Vec<UserView>>> {
    admin(&caller)?;
    let store = st.store.clone();
    let all = tokio::task::spawn_blocking(move || store.users()).await??;
    Ok(Json(all.iter().map(UserView::from).collect()))
}

/// One user (county admin).
#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<UserView>> {
    admin(&caller)?;
    let store = st.store.clone();
    let u = tokio::task::spawn_blocking(move || store.user(id)).await??.ok_or_else(ApiError::not_found)?;
    Ok(Json(UserView::from(&u)))
}

/// Create a user; they must change the initial password at first sign-in.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", request_body = NewUser, security(("bearer" = [])),
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn create_user(
    State(st): State<AppState>,
    Authed(caller): Authed,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    admin(&caller)?;
    // The new user's id is known only after creation: audit it by id then.
    let (state, actor, family) = (st.clone(), caller.user.id, caller.family);
    let u = tokio::task::spawn_blocking(move || -> ApiResult<UserView> {
        let r = users::create(state.store.as_ref(), &state.policy, body);
        let (target, outcome) = match &r {
            Ok(u) => (Some(u.id.to_string()), "ok".to_string()),
            Err(AdminError::Invalid(code, _)) => (None, (*code).to_string()),
            Err(_) => (None, "internal".to_string()),
        };
        let device = state.auth.device_of(actor, family)?;
        state
            .store
            .append_audit(&[AuditEntry::new(AuditAction::UserCreate, Some(actor), target, outcome).device(device)])?;
        Ok(UserView::from(&r?))
    })
    .await??;
    Ok((StatusCode::CREATED, Json(u)))
}

/// Changes to a user: roles (replacing all) and/or display name.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New roles (each role valid at its unit's level).
    pub grants: Option<Vec<RoleGrant>>,
    /// New display name.
    pub display_name: Option<String>,
}

/// Change a user's roles and their units, or display name.
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", request_body = UserPatch, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_user(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<UserPatch>,
) -> ApiResult<Json<UserView>> {
    not_self(&caller, id, "修改自己的角色（请另一位县管理员修改）")?;
    let u = act(&st, &caller, AuditAction::UserUpdate, Some(id), move |s| {
        users::update(s.store.as_ref(), id, body.grants, body.display_name)
    })
    .await?;
    Ok(Json(UserView::from(&u)))
}

/// Disable a user: their tokens stop working at once.
#[utoipa::path(post, path = "/v1/admin/users/{id}/disable", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn disable_user(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<UserView>> {
    not_self(&caller, id, "停用自己的账号")?;
    let u =
        act(&st, &caller, AuditAction::UserDisable, Some(id), move |s| users::set_disabled(s.store.as_ref(), id, true))
            .await?;
    Ok(Json(UserView::from(&u)))
}

/// Refuses an admin action on the admin's own account (it would lock them out or
/// drop their own role). A non-admin learns nothing here: the admin check comes first.
pub(crate) fn not_self(caller: &Caller, id: Uuid, what: &str) -> ApiResult<()> {
    admin(caller)?;
    if id == caller.user.id {
        return Err(ApiError::bad_request("invalid_target", format!("管理员不能{what}")));
    }
    Ok(())
}

/// Re-enable a user (they sign in again; old sessions stay revoked).
#[utoipa::path(post, path = "/v1/admin/users/{id}/enable", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
pub async fn enable_user(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<UserView>> {
    let u =
        act(&st, &caller, AuditAction::UserEnable, Some(id), move |s| users::set_disabled(s.store.as_ref(), id, false))
            .await?;
    Ok(Json(UserView::from(&u)))
}

/// Body of a password reset.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// A temporary password (meets the policy); the user must change it at next sign-in.
    pub new_password: String,
}

/// Reset a user's password: their sessions end and they must choose a new one.
#[utoipa::path(post, path = "/v1/admin/users/{id}/password", tag = "admin", request_body = PasswordReset,
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "user id")),
    responses((status = 204, description = "reset"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<PasswordReset>,
) -> ApiResult<StatusCode> {
    not_self(&caller, id, "重置自己的密码（请在“修改密码”中自己修改）")?;
    act(&st, &caller, AuditAction::PasswordReset, Some(id), move |s| {
        users::reset_password(s.store.as_ref(), &s.policy, id, &body.new_password)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's devices and their live sessions.
#[utoipa::path(get, path = "/v1/admin/users/{id}/devices", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id")),
    responses((status = 200, body = Vec<DeviceView>), (status = 404, body = ErrorBody)))]
pub async fn list_devices(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<DeviceView>>> {
    admin(&caller)?;
    let store = st.store.clone();
    Ok(Json(tokio::task::spawn_blocking(move || users::devices(store.as_ref(), id, Utc::now())).await??))
}

/// Revoke a device: every session of the user on it ends at once.
#[utoipa::path(post, path = "/v1/admin/users/{id}/devices/{device}/revoke", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "user id"), ("device" = Uuid, Path, description = "device id")),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorBody)))]
pub async fn revoke_device(
    State(st): State<AppState>,
    Authed(caller): Authed,
    Path((id, device)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    act(&st, &caller, AuditAction::DeviceRevoke, Some(id), move |s| users::revoke_device(s.store.as_ref(), id, device))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of an import.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Check and report only.
    #[serde(default)]
    pub dry_run: bool,
    /// Write the valid rows even if some are invalid.
    #[serde(default)]
    pub skip_invalid: bool,
    /// Let rows change the roles of existing users (else such rows are problems
    /// and those users are left unchanged).
    #[serde(default)]
    pub update_roles: bool,
    /// Confirm granting the county-admin role by spreadsheet (else such rows are
    /// problems).
    #[serde(default)]
    pub confirm_admin_grants: bool,
    /// The file's name, for problem locations (and a CSV's sheet name).
    pub name: Option<String>,
}

/// Import org units, users and households from an `.xlsx` workbook or a CSV file
/// (the request body, as uploaded). Always answers the report; `written` says
/// whether anything was stored, `user_changes` what it changes of existing users.
/// A row changing an existing user's roles needs `update_roles=true`; granting
/// the county-admin role needs `confirm_admin_grants=true`; each role change
/// written is audited.
#[utoipa::path(post, path = "/v1/admin/import", tag = "admin", params(ImportQuery), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the .xlsx or .csv file"),
    responses((status = 200, body = ImportReport), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import_file(
    State(st): State<AppState>,
    Authed(caller): Authed,
    query: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    let Query(q) = query?;
    admin(&caller)?;
    let name = q.name.unwrap_or_else(|| "upload".into());
    let opts = ImportOptions {
        dry_run: q.dry_run,
        skip_invalid: q.skip_invalid,
        update_roles: q.update_roles,
        confirm_admin_grants: q.confirm_admin_grants,
        actor: Some(caller.user.id),
    };
    Ok(Json(run_import(&st, &caller, name, body.to_vec(), opts).await?))
}

/// Runs an import as `caller` (checked, written unless a dry run or invalid,
/// audited with its role changes): the API's import and the desk's share it.
pub(crate) async fn run_import(
    st: &AppState,
    caller: &Caller,
    name: String,
    bytes: Vec<u8>,
    opts: ImportOptions,
) -> ApiResult<ImportReport> {
    let (state, actor, family) = (st.clone(), caller.user.id, caller.family);
    tokio::task::spawn_blocking(move || -> ApiResult<ImportReport> {
        let files = [InputFile { name, bytes }];
        let report = import::run(state.store.as_ref(), &state.policy, &files, opts, &mut |_, _| {})?;
        if !report.dry_run {
            let device = state.auth.device_of(actor, family)?;
            let outcome = if report.written { "ok" } else { "invalid" };
            let e = AuditEntry::new(AuditAction::Import, Some(actor), None, outcome).device(device).detail(format!(
                "{}; {} problems",
                report.summary(),
                report.problems.len()
            ));
            let mut entries = vec![e];
            entries.extend(import::roles::audit_entries(&report, Some(actor), device));
            state.store.append_audit(&entries)?;
        }
        Ok(report)
    })
    .await?
}

/// Query of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only this actor's entries.
    pub actor: Option<Uuid>,
    /// Only entries about this target (a user or record id).
    pub target: Option<String>,
    /// Only this action (e.g. `login_failed`, `sync_op`).
    pub action: Option<AuditAction>,
    /// From this time (RFC 3339, inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this time (RFC 3339, exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Only entries after this position (paging: the last `seq` seen).
    pub after: Option<u64>,
    /// At most this many (1 to 10000, default 1000).
    pub limit: Option<usize>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// The audit log, filtered by actor, target, action and period; JSON or CSV.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", params(AuditParams), security(("bearer" = [])),
    responses((status = 200, description = "JSON, or CSV with format=csv",
            content((Vec<AuditEntry> = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn audit_log(
    State(st): State<AppState>,
    Authed(caller): Authed,
    query: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query?;
    admin(&caller)?;
    let limit = q.limit.unwrap_or(1000);
    if limit == 0 || limit > 10_000 {
        return Err(ApiError::bad_request("invalid_limit", "limit: 1 to 10000"));
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::bad_request("invalid_format", "format: json or csv")),
    };
    let query = AuditQuery {
        actor: q.actor,
        target: q.target,
        action: q.action,
        from: q.from,
        to: q.to,
        after: q.after.unwrap_or(0),
        limit,
    };
    let store = st.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.audit(&query)).await??;
    if !csv {
        return Ok(Json(entries).into_response());
    }
    let bytes = audit::csv(&entries).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        bytes,
    )
        .into_response())
}
