//! Liveness, public keys and the OpenAPI document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::ApiResult;
use super::AppState;

/// Liveness and the data dir's disk. 200 while the store is open (DESIGN §9):
/// `status: "ok"` when writable, with `disk` `"ok"` or `"low"` (below the policy's
/// `storage.warn_free_bytes`: still writable, the log warns); `status: "degraded"`,
/// `disk: "full"`, `writable: false` while free space is below
/// `storage.reserve_bytes` (every write answered `507 storage_full`; freeing space
/// is enough). 503 with `restart_required: true` once the store met the full disk
/// itself: it takes writes again only after a restart, which is what a liveness
/// probe should then bring about. Reads are served either way.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses(
    (status = 200, description = "store open: {status: \"ok\"|\"degraded\", feed_seq, disk: \"ok\"|\"low\"|\"full\", free_bytes, writable, restart_required: false}"),
    (status = 503, description = "the store met a full disk and needs a restart: {status: \"degraded\", feed_seq, disk: \"full\", free_bytes, writable: false, restart_required: true}"),
    (status = 500)))]
pub async fn healthz(State(st): State<AppState>) -> ApiResult<(StatusCode, Json<Value>)> {
    let (store, disk) = (st.store.clone(), st.disk.clone());
    let (seq, (state, free), failed) =
        tokio::task::spawn_blocking(move || store.last_seq().map(|seq| (seq, disk.check(), store.write_failed_full())))
            .await??;
    let writable = state != crate::disk::DiskState::Full && !failed;
    let (code, status, disk) = match (writable, failed) {
        (true, _) => (StatusCode::OK, "ok", state.as_str()),
        (false, true) => (StatusCode::SERVICE_UNAVAILABLE, "degraded", "full"),
        (false, false) => (StatusCode::OK, "degraded", state.as_str()),
    };
    let body = serde_json::json!({
        "status": status,
        "feed_seq": seq,
        "disk": disk,
        "free_bytes": free,
        "writable": writable,
        "restart_required": failed,
    });
    Ok((code, Json(body)))
}

/// The public keys that verify access tokens (JWKS, Ed25519).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "meta", responses((status = 200, description = "JSON Web Key Set")))]
pub async fn jwks(State(st): State<AppState>) -> Json<Value> {
    Json(st.auth.keys().jwks())
}

/// The county's policy (limits, deadlines, dispute kinds, negative list, subsidy
/// rates): phones use it to guide users offline with the same numbers as the server.
/// Its `ETag` is the policy's version (the pull names it too); a request whose
/// `If-None-Match` names it is answered `304` without a body.
#[utoipa::path(get, path = "/v1/policy", tag = "meta", security(("bearer" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of the policy the phone keeps")),
    responses((status = 200, description = "the policy as JSON (the TOML file's structure); ETag: its version, quoted"),
        (status = 304, description = "the policy is the one named by If-None-Match"), (status = 401)))]
pub async fn policy(
    State(st): State<AppState>,
    _caller: super::auth_routes::Authed,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    super::cache::json_or_304(&headers, st.policy.as_ref(), "private, no-cache")
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Answers every operation can give besides its own, added to the document so it
/// describes what the server really sends (checked by schemathesis): 401 where a
/// token is required, 400/413/415 where there is a body, 400 where there are
/// parameters, 412 on the tus endpoints without `Tus-Resumable`, 408 everywhere.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody")))).build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let tus = path.starts_with("/v1/photos/uploads/") || path == "/v1/photos" || path == "/v1/photos/";
            // (operation, a tus method, may write: refused 507 on a full disk)
            let ops = [
                (&mut item.get, false, false),
                (&mut item.post, true, true),
                (&mut item.patch, true, true),
                (&mut item.put, true, true),
                (&mut item.delete, false, true),
                (&mut item.head, true, false),
                (&mut item.options, false, false),
            ];
            for (op, tus_method, writes) in ops {
                let Some(op) = op.as_mut() else { continue };
                let mut add = |status: &str, what: &str| {
                    op.responses.responses.entry(status.to_string()).or_insert_with(|| RefOr::T(error(what)));
                };
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let body = op.request_body.is_some();
                let params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                if secured {
                    add("401", "unauthorized / token_expired: no valid access token");
                }
                if body || params {
                    add("400", "bad input (malformed body, path or query)");
                }
                if body {
                    add("413", "payload_too_large");
                    add("415", "unsupported_media_type");
                }
                if tus && tus_method {
                    add("412", "tus_version: Tus-Resumable 1.0.0 required");
                }
                add("408", "timeout: the request took too long");
                if writes {
                    add(
                        "507",
                        "storage_full: the server's disk is full; nothing was saved; retry after Retry-After seconds",
                    );
                }
            }
        }
    }
}

/// The OpenAPI document of every endpoint.
#[derive(OpenApi)]
#[openapi(
    info(title = "Fengqiao API", description = "Offline-first grassroots dispute mediation: auth and sync."),
    paths(
        healthz, jwks, openapi_json, policy,
        super::auth_routes::login, super::auth_routes::refresh, super::auth_routes::logout,
        super::auth_routes::change_password,
        super::admin_routes::list_users, super::admin_routes::create_user, super::admin_routes::get_user,
        super::admin_routes::update_user, super::admin_routes::disable_user, super::admin_routes::enable_user,
        super::admin_routes::reset_password, super::admin_routes::list_devices, super::admin_routes::revoke_device,
        super::admin_routes::import_file, super::admin_routes::audit_log,
        super::sync_routes::me, super::sync_routes::push, super::sync_routes::pull, super::wait::wait,
        super::people_routes::people,
        super::photos_routes::options, super::photos_routes::create,
        super::photos_routes::options_no_slash, super::photos_routes::create_no_slash, super::photos_routes::head, super::photos_routes::patch, super::photos_routes::download,
        super::case_routes::reserve_block, super::report_routes::flow, super::report_routes::monthly,
        super::blacklist_routes::blacklist,
        super::subsidy_routes::mine, super::subsidy_routes::one, super::subsidy_routes::ledger,
        super::subsidy_routes::create_batch, super::subsidy_routes::mark_paid,
        super::subsidy_routes::review_consultation,
    ),
    components(schemas(fengqiao_domain::wire::Change, fengqiao_domain::wire::OpEnvelope)),
    modifiers(&BearerAuth, &CommonErrors),
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    /// The document the server serves is the one kept in the repo
    /// (`docs/openapi.json`); regenerate with `UPDATE_OPENAPI=1 cargo test -p fengqiao-server openapi`.
    #[test]
    fn openapi_document_matches_the_repo_copy_and_lists_every_route() {
        let doc = ApiDoc::openapi().to_pretty_json().unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, format!("{doc}\n")).unwrap();
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept.trim_end() == doc.trim_end(),
            "docs/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p fengqiao-server openapi"
        );
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        for p in [
            "/healthz",
            "/openapi.json",
            "/.well-known/jwks.json",
            "/v1/auth/login",
            "/v1/auth/refresh",
            "/v1/auth/logout",
            "/v1/sync/push",
            "/v1/sync/pull",
            "/v1/sync/wait",
            "/v1/me",
            "/v1/policy",
            "/v1/auth/password",
            "/v1/admin/users",
            "/v1/admin/users/{id}",
            "/v1/admin/users/{id}/disable",
            "/v1/admin/users/{id}/enable",
            "/v1/admin/users/{id}/password",
            "/v1/admin/users/{id}/devices",
            "/v1/admin/users/{id}/devices/{device}/revoke",
            "/v1/admin/import",
            "/v1/admin/audit",
        ] {
            assert!(v["paths"].get(p).is_some(), "{p} missing from the OpenAPI document");
        }
        for p in v["paths"]["/v1/sync/pull"]["get"]["parameters"].as_array().unwrap() {
            assert_eq!(p["in"], "query", "pull parameters are query parameters");
        }
    }
}
