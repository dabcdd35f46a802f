//! The HTTP surface: routes, shared state and the tower layers around them
//! (body limit, timeout, panic catcher, tracing without headers or bodies).

pub mod admin_routes;
pub mod auth_routes;
pub mod case_routes;
pub mod error;
pub mod meta;
pub mod photos_routes;
pub mod report_routes;
pub mod subsidy_routes;
pub mod sync_routes;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use fengqiao_domain::policy::Policy;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::AuthService;
use crate::blobs::BlobStore;
use crate::store::Store;
use error::ApiError;

/// Everything a handler needs.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Auth over the store.
    pub auth: Arc<AuthService>,
    /// The county's policy.
    pub policy: Arc<Policy>,
    /// Photo bytes.
    pub blobs: Arc<dyn BlobStore>,
    /// Uploads being written.
    pub busy: Arc<photos_routes::Busy>,
}

/// How long one request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}

/// How long one photo PATCH may take (slow rural uplinks send large chunks slowly).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The tus endpoint: its own timeout, `Tus-Resumable` on every answer.
fn photos_router() -> Router<AppState> {
    Router::new()
        .route("/v1/photos", post(photos_routes::create).options(photos_routes::options))
        .route("/v1/photos/", post(photos_routes::create).options(photos_routes::options))
        .route("/v1/photos/uploads/{id}", axum::routing::head(photos_routes::head).patch(photos_routes::patch))
        .route("/v1/photos/{sha256}", get(photos_routes::download))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, UPLOAD_TIMEOUT))
        .layer(SetResponseHeaderLayer::overriding(
            photos_routes::TUS_RESUMABLE.clone(),
            axum::http::HeaderValue::from_static(photos_routes::TUS_VERSION),
        ))
}

/// The full router with its layers.
pub fn router(state: AppState) -> Router {
    let body_limit = state.policy.sync.max_push_bytes;
    let api = Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/openapi.json", get(meta::openapi_json))
        .route("/.well-known/jwks.json", get(meta::jwks))
        .route("/v1/auth/login", post(auth_routes::login))
        .route("/v1/auth/refresh", post(auth_routes::refresh))
        .route("/v1/auth/logout", post(auth_routes::logout))
        .route("/v1/auth/password", post(auth_routes::change_password))
        .route("/v1/admin/users", get(admin_routes::list_users).post(admin_routes::create_user))
        .route("/v1/admin/users/{id}", get(admin_routes::get_user).patch(admin_routes::update_user))
        .route("/v1/admin/users/{id}/disable", post(admin_routes::disable_user))
        .route("/v1/admin/users/{id}/enable", post(admin_routes::enable_user))
        .route("/v1/admin/users/{id}/password", post(admin_routes::reset_password))
        .route("/v1/admin/users/{id}/devices", get(admin_routes::list_devices))
        .route("/v1/admin/users/{id}/devices/{device}/revoke", post(admin_routes::revoke_device))
        .route(
            "/v1/admin/import",
            post(admin_routes::import_file).layer(DefaultBodyLimit::max(admin_routes::MAX_IMPORT_BYTES)),
        )
        .route("/v1/admin/audit", get(admin_routes::audit_log))
        .route("/v1/me", get(sync_routes::me))
        .route("/v1/sync/push", post(sync_routes::push))
        .route("/v1/sync/pull", get(sync_routes::pull))
        .route("/v1/cases/blocks", post(case_routes::reserve_block))
        .route("/v1/reports/flow", get(report_routes::flow))
        .route("/v1/reports/monthly", get(report_routes::monthly))
        .route("/v1/subsidies/mine", get(subsidy_routes::mine))
        .route("/v1/subsidies/ledger", get(subsidy_routes::ledger))
        .route("/v1/subsidies/batches", post(subsidy_routes::create_batch))
        .route("/v1/subsidies/batches/{id}/paid", post(subsidy_routes::mark_paid))
        .route("/v1/subsidies/{id}", get(subsidy_routes::one))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT));
    Router::new()
        .merge(api)
        .merge(photos_router())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed here")
        })
        .layer(CatchPanicLayer::custom(panic_answer))
        .layer(TraceLayer::new_for_http())
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .with_state(state)
}
