//! Liveness, public keys and the OpenAPI document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::ApiResult;
use super::AppState;

/// Liveness: 200 when the store is open and answers.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "store open"), (status = 500)))]
pub async fn healthz(State(st): State<AppState>) -> ApiResult<(StatusCode, Json<Value>)> {
    let store = st.store.clone();
    let seq = tokio::task::spawn_blocking(move || store.last_seq()).await??;
    Ok((StatusCode::OK, Json(serde_json::json!({"status": "ok", "feed_seq": seq}))))
}

/// The public keys that verify access tokens (JWKS, Ed25519).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "meta", responses((status = 200, description = "JSON Web Key Set")))]
pub async fn jwks(State(st): State<AppState>) -> Json<Value> {
    Json(st.auth.keys().jwks())
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

/// The OpenAPI document of every endpoint.
#[derive(OpenApi)]
#[openapi(
    info(title = "Fengqiao API", description = "Offline-first grassroots dispute mediation: auth and sync."),
    paths(
        healthz, jwks, openapi_json,
        super::auth_routes::login, super::auth_routes::refresh, super::auth_routes::logout,
        super::auth_routes::change_password,
        super::admin_routes::list_users, super::admin_routes::create_user, super::admin_routes::get_user,
        super::admin_routes::update_user, super::admin_routes::disable_user, super::admin_routes::enable_user,
        super::admin_routes::reset_password, super::admin_routes::list_devices, super::admin_routes::revoke_device,
        super::admin_routes::import_file, super::admin_routes::audit_log,
        super::sync_routes::me, super::sync_routes::push, super::sync_routes::pull,
        super::photos_routes::options, super::photos_routes::create, super::photos_routes::head, super::photos_routes::patch, super::photos_routes::download,
        super::case_routes::reserve_block, super::report_routes::flow, super::report_routes::monthly,
        super::subsidy_routes::mine, super::subsidy_routes::one, super::subsidy_routes::ledger,
        super::subsidy_routes::create_batch, super::subsidy_routes::mark_paid,
    ),
    components(schemas(fengqiao_domain::wire::Change, fengqiao_domain::wire::OpEnvelope)),
    modifiers(&BearerAuth),
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
            "/v1/me",
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
