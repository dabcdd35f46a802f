//! The HTTP surface: routes, shared state and the tower layers around them
//! (body limit, timeout, panic catcher, tracing without headers or bodies,
//! the security headers and `Connection: close` of [`hygiene`], gzip both ways
//! with the request's decompressed size under the body limit, the feed's bell
//! for held waits of [`wait`]).

pub mod admin_routes;
pub mod auth_routes;
pub mod backup_routes;
pub mod blacklist_routes;
pub mod cache;
pub mod case_routes;
pub mod error;
pub mod hygiene;
pub mod meta;
pub mod ops_routes;
pub mod people_routes;
pub mod photos_routes;
pub mod report_routes;
pub mod subsidy_routes;
pub mod sync_routes;
pub mod wait;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use fengqiao_domain::policy::Policy;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::AuthService;
use crate::store::Store;
use crate::tus::BlobStore;
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
    pub busy: Arc<crate::tus::Busy>,
    /// Sign-in attempts per username and per client address.
    pub login_limiter: Arc<crate::auth::ratelimit::LoginLimiter>,
    /// Free space on the data dir.
    pub disk: Arc<crate::disk::DiskWatch>,
    /// Backups: the data dir, this run's control token, the last backup taken.
    pub backups: Arc<crate::backup::schedule::Backups>,
    /// What `/metrics` serves, and who may read it.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// When the data dir was last backed up (`/readyz`).
    pub backup_clock: Arc<dyn crate::readiness::BackupClock>,
    /// Rung when the feed moves: wakes the held waits of `GET /v1/sync/wait`.
    pub bell: Arc<wait::FeedBell>,
    /// The desk console's sign-in sessions.
    pub desk: Arc<crate::desk::session::DeskSessions>,
}

impl AppState {
    /// What the life of a photo upload works on ([`crate::tus::upload`]).
    pub fn uploads(&self) -> crate::tus::upload::Uploads {
        crate::tus::upload::Uploads {
            store: self.store.clone(),
            blobs: self.blobs.clone(),
            busy: self.busy.clone(),
            policy: self.policy.clone(),
            metrics: self.metrics.clone(),
        }
    }
}

/// How long one request may take before it is answered 408, unless the policy
/// says otherwise (`[sync] request_timeout_secs`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

fn panic_answer(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}

/// How long one photo PATCH may take (slow rural uplinks send large chunks slowly).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The tus endpoint's routes (path, handlers): part of the one table
/// ([`route_table`]) the router is built from and the OpenAPI test checks.
fn photo_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/v1/photos", post(photos_routes::create_no_slash).options(photos_routes::options_no_slash)),
        ("/v1/photos/", post(photos_routes::create).options(photos_routes::options)),
        ("/v1/photos/uploads/{id}", axum::routing::head(photos_routes::head).patch(photos_routes::patch)),
        ("/v1/photos/{sha256}", get(photos_routes::download).layer(hygiene::photo_csp())),
    ]
}

/// The tus endpoint: its own timeout, `Tus-Resumable` on every answer.
fn photos_router() -> Router<AppState> {
    photo_routes()
        .into_iter()
        .fold(Router::new(), |r, (path, m)| r.route(path, m))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, UPLOAD_TIMEOUT))
        .layer(SetResponseHeaderLayer::overriding(
            photos_routes::TUS_RESUMABLE.clone(),
            axum::http::HeaderValue::from_static(crate::tus::TUS_VERSION),
        ))
}

/// The held wait for changes: its own timeout, longer than the API's.
fn wait_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![("/v1/sync/wait", get(wait::wait))]
}

/// The content codings a request body may use (tower-http decodes them); every
/// API answer says so in `Accept-Encoding` (RFC 7694), so a phone compresses its
/// pushes only towards a server that takes them.
pub const REQUEST_ENCODINGS: &str = "gzip";

/// Answers shorter than this go uncompressed: gzip's own header and the chunked
/// framing of a compressed answer outweigh what it saves on a small body (a
/// no-op pull page, a 304).
pub const COMPRESS_FROM: u16 = 512;

/// Every API route outside the tus endpoint (path, handlers): part of the one
/// table ([`route_table`]) the router is built from and the OpenAPI test checks.
fn api_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/healthz", get(meta::healthz)),
        ("/readyz", get(ops_routes::readyz)),
        ("/metrics", get(ops_routes::metrics)),
        ("/openapi.json", get(meta::openapi_json)),
        ("/.well-known/jwks.json", get(meta::jwks)),
        ("/v1/auth/login", post(auth_routes::login)),
        ("/v1/auth/refresh", post(auth_routes::refresh)),
        ("/v1/auth/logout", post(auth_routes::logout)),
        ("/v1/auth/password", post(auth_routes::change_password)),
        ("/v1/admin/users", get(admin_routes::list_users).post(admin_routes::create_user)),
        ("/v1/admin/users/{id}", get(admin_routes::get_user).patch(admin_routes::update_user)),
        ("/v1/admin/users/{id}/disable", post(admin_routes::disable_user)),
        ("/v1/admin/users/{id}/enable", post(admin_routes::enable_user)),
        ("/v1/admin/users/{id}/password", post(admin_routes::reset_password)),
        ("/v1/admin/users/{id}/devices", get(admin_routes::list_devices)),
        ("/v1/admin/users/{id}/devices/{device}/revoke", post(admin_routes::revoke_device)),
        (
            "/v1/admin/import",
            post(admin_routes::import_file).layer(DefaultBodyLimit::max(admin_routes::MAX_IMPORT_BYTES)),
        ),
        ("/v1/admin/audit", get(admin_routes::audit_log)),
        ("/v1/me", get(sync_routes::me)),
        ("/v1/policy", get(meta::policy)),
        ("/v1/sync/push", post(sync_routes::push)),
        ("/v1/sync/pull", get(sync_routes::pull)),
        ("/v1/people", get(people_routes::people)),
        ("/v1/cases/blocks", post(case_routes::reserve_block)),
        ("/v1/reports/flow", get(report_routes::flow)),
        ("/v1/reports/monthly", get(report_routes::monthly)),
        ("/v1/reports/blacklist", get(blacklist_routes::blacklist)),
        ("/v1/subsidies/mine", get(subsidy_routes::mine)),
        ("/v1/subsidies/ledger", get(subsidy_routes::ledger)),
        ("/v1/subsidies/batches", post(subsidy_routes::create_batch)),
        ("/v1/subsidies/batches/{id}/paid", post(subsidy_routes::mark_paid)),
        ("/v1/subsidies/{id}", get(subsidy_routes::one)),
        ("/v1/consultations/{id}/review", post(subsidy_routes::review_consultation)),
    ]
}

/// Routes without the API's request timeout (a backup takes as long as the
/// data needs).
fn untimed_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![("/v1/admin/backup", post(backup_routes::backup))]
}

/// Every route's path, in the order the router is built: the API routes, the
/// untimed ones, the wait, then the tus endpoint's. Each must be in the OpenAPI
/// document, and nothing else may be.
pub fn route_table() -> Vec<&'static str> {
    api_routes()
        .into_iter()
        .chain(untimed_routes())
        .chain(wait_routes())
        .chain(photo_routes())
        .map(|(p, _)| p)
        .collect()
}

/// Every error answer is JSON with a stable code ([`ErrorBody`]): rejections made
/// by axum's own extractors (plain text) and bodiless ones (a timeout's 408) are
/// rewritten here; answers to HEAD keep their empty bodies but say JSON.
async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let head = req.method() == axum::http::Method::HEAD;
    let desk = req.uri().path().starts_with("/desk/");
    let mut res = next.run(req).await;
    let status = res.status();
    // the desk's own error pages are HTML (its unknown paths get the JSON 404)
    let page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || (desk && page) {
        return res;
    }
    if head {
        res.headers_mut().insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
        return res;
    }
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text =
        axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let code = match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        429 => "rate_limited",
        s if s >= 500 => "internal",
        _ => "error",
    };
    // a handler's own Chinese text is kept; the HTTP layer's English one is
    // replaced by the status's plain Chinese
    let text = text.trim();
    let message = if text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        text.to_string()
    } else {
        crate::http::error::status_message(status).to_string()
    };
    let body = fengqiao_domain::wire::ErrorBody { code: code.into(), message, op_index: None };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Refuses every request that may write (anything but GET, HEAD and OPTIONS) with
/// `507 storage_full` while the data dir's disk is below the policy's reserve, or
/// after the store met a full disk (then until a restart): nothing is half-kept,
/// and the phones retry later.
async fn disk_guard(
    axum::extract::State(st): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::Method;
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && (st.disk.check().0 == crate::disk::DiskState::Full || st.store.write_failed_full())
    {
        return ApiError::storage_full().into_response();
    }
    next.run(req).await
}

/// The full router with its layers.
pub fn router(state: AppState) -> Router {
    let body_limit = state.policy.sync.max_push_bytes;
    let timeout = match state.policy.sync.request_timeout_secs {
        0 => REQUEST_TIMEOUT,
        s => Duration::from_secs(s),
    };
    let api = api_routes()
        .into_iter()
        .fold(Router::new(), |r, (path, m)| r.route(path, m))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
        // The body limit counts decoded bytes: a small gzip bomb is refused 413
        // once the limit's worth is inflated, before anything is applied.
        .layer(RequestDecompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::ACCEPT_ENCODING,
            axum::http::HeaderValue::from_static(REQUEST_ENCODINGS),
        ));
    let waits = wait_routes()
        .into_iter()
        .fold(Router::new(), |r, (path, m)| r.route(path, m))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, wait::WAIT_ROUTE_TIMEOUT));
    let untimed = untimed_routes().into_iter().fold(Router::new(), |r, (path, m)| r.route(path, m));
    let desk = crate::desk::router()
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout));
    Router::new()
        .merge(api)
        .merge(untimed)
        .merge(waits)
        .merge(photos_router())
        .merge(desk)
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                crate::http::error::status_message(StatusCode::METHOD_NOT_ALLOWED),
            )
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), disk_guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), wait::ring_after_writes))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn(hygiene::close_when_body_unread))
        .layer(hygiene::html_csp())
        .layer(CatchPanicLayer::custom(panic_answer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops_routes::track))
        // Answers gzip-compressed when the request accepts it (JSON pages, not
        // photos): images and bodies under COMPRESS_FROM bytes pass as they are.
        .layer(
            CompressionLayer::new().compress_when(
                SizeAbove::new(COMPRESS_FROM)
                    .and(NotForContentType::GRPC)
                    .and(NotForContentType::IMAGES)
                    .and(NotForContentType::SSE),
            ),
        )
        // Spans name the method and the route's template only (`/v1/subsidies/{id}`):
        // never the concrete path, query, headers or body, which can carry input.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            let route = req.extensions().get::<axum::extract::MatchedPath>().map_or("-", |m| m.as_str());
            tracing::info_span!("request", method = %req.method(), route = %route)
        }))
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        // Outermost: also on the panic catcher's answers.
        .layer(hygiene::nosniff())
        .with_state(state)
}
