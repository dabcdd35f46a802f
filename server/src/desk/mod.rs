//! The desk console at `/desk/`: server-rendered HTML in Chinese for the
//! judicial office, the town committee and the county (ADR 0036). Plain forms
//! that work without script; every form carries the session's CSRF token.
//!
//! The desk is no second API: it reads through the same scoping as the API (the
//! caller's feed, [`crate::store::Store::pull`], and the domain's `may_see`)
//! and writes every change as an operation through the phones' path
//! ([`crate::http::subsidy_routes::apply_as`] → `apply_ops_audited` → `decide`).
//! Its routes are a table of their own ([`route_table`]), kept out of the
//! OpenAPI document and checked by `server/tests/openapi_routes.rs`.

mod admin;
mod cases;
mod import;
mod inbox;
pub mod page;
mod print;
pub mod read;
mod reports;
pub mod session;
mod signin;
mod subsidies;

use axum::routing::{get, post, MethodRouter};

use crate::http::AppState;

/// Every desk route (path, handlers).
fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/desk", get(|| async { axum::response::Redirect::permanent("/desk/") })),
        ("/desk/", get(signin::home)),
        ("/desk/login", get(signin::login_form).post(signin::login)),
        ("/desk/logout", post(signin::logout)),
        ("/desk/cases", get(cases::search)),
        ("/desk/cases/{id}", get(cases::case_page)),
        ("/desk/cases/{id}/review", post(cases::review)),
        ("/desk/cases/{id}/print/{doc}", get(print::print)),
        ("/desk/review", get(cases::review_queue)),
        ("/desk/inbox", get(inbox::inbox)),
        ("/desk/escalations/{id}/decide", post(inbox::decide)),
        ("/desk/consultations/{id}/review", post(inbox::review_consultation)),
        ("/desk/reports", get(reports::reports)),
        ("/desk/photos/{sha256}", get(cases::photo)),
        ("/desk/subsidies", get(subsidies::ledger_page)),
        ("/desk/subsidies/batches", post(subsidies::create_batch)),
        ("/desk/subsidies/batches/{id}/paid", post(subsidies::mark_paid)),
        ("/desk/subsidies/export", get(subsidies::export)),
        ("/desk/users", get(admin::users_page).post(admin::create_user)),
        ("/desk/users/{id}", get(admin::user_page)),
        ("/desk/users/{id}/disable", post(admin::disable)),
        ("/desk/users/{id}/enable", post(admin::enable)),
        ("/desk/users/{id}/password", post(admin::reset_password)),
        ("/desk/users/{id}/devices/{device}/revoke", post(admin::revoke_device)),
        ("/desk/audit", get(admin::audit_page)),
        ("/desk/policy", get(admin::policy_page)),
        ("/desk/policy/check", post(admin::policy_check)),
        (
            "/desk/import",
            get(import::import_form)
                .post(import::import)
                .layer(axum::extract::DefaultBodyLimit::max(crate::http::admin_routes::MAX_IMPORT_BYTES)),
        ),
    ]
}

/// Every desk path, in the order the router is built. None of them is in the
/// OpenAPI document: the desk is HTML beside the API.
pub fn route_table() -> Vec<&'static str> {
    routes().into_iter().map(|(p, _)| p).collect()
}

/// The desk's routes as a router.
pub fn router() -> axum::Router<AppState> {
    routes().into_iter().fold(axum::Router::new(), |r, (path, m)| r.route(path, m))
}
