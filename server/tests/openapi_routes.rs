//! The OpenAPI document and the router describe the same endpoints: every
//! (path, method) the router answers is in the document, and every one the
//! document lists is answered by a handler (not the 404 / 405 fallbacks).
//!
//! Paths come from the one table the router is built from
//! ([`fengqiao_server::http::route_table`]); methods are found by asking the real
//! router with each method and seeing whether the method-not-allowed fallback answers.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request};
use fengqiao_server::app::{self, ServerConfig};
use fengqiao_server::http::{meta::ApiDoc, route_table, router};
use tower::ServiceExt;
use utoipa::OpenApi;

const METHODS: [Method; 7] =
    [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS, Method::HEAD];

/// A concrete URL for a templated path.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "0190a0b0-0000-7000-8000-000000000001" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_routed_method_is_documented_and_every_documented_one_is_routed() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        app::open(&ServerConfig { data_dir: dir.path().to_path_buf(), policy_file: None, demo: false }).unwrap();
    let app = router(state);

    let doc: serde_json::Value = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for m in ops.as_object().unwrap().keys() {
            if METHODS.iter().any(|x| x.as_str().eq_ignore_ascii_case(m)) {
                documented.insert((path.clone(), m.to_ascii_uppercase()));
            }
        }
    }

    let table = route_table();
    let unique: BTreeSet<&str> = table.iter().copied().collect();
    assert_eq!(unique.len(), table.len(), "a path is routed twice");
    let mut routed = BTreeSet::new();
    for path in &table {
        let mut answered = Vec::new();
        for m in METHODS {
            let req = Request::builder().method(m.clone()).uri(concrete(path)).body(Body::empty()).unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            // no handler answers 405: only the method-not-allowed fallback does
            // (whose JSON body a HEAD answer cannot carry)
            if res.status() != axum::http::StatusCode::METHOD_NOT_ALLOWED {
                answered.push(m);
            }
        }
        // axum answers HEAD for every GET route; only a HEAD without a GET is its own endpoint
        let has_get = answered.contains(&Method::GET);
        for m in answered {
            if m == Method::HEAD && has_get {
                continue;
            }
            routed.insert((path.to_string(), m.as_str().to_string()));
        }
    }
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routed but not in the OpenAPI document: {undocumented:?}");
    assert!(unrouted.is_empty(), "in the OpenAPI document but not routed: {unrouted:?}");
    assert!(routed.len() >= 30, "the probe found only {} endpoints", routed.len());
}

/// An unknown path gets the JSON 404, an unknown method the JSON 405.
#[tokio::test]
async fn fallbacks_answer_json_with_stable_codes() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        app::open(&ServerConfig { data_dir: dir.path().to_path_buf(), policy_file: None, demo: false }).unwrap();
    let app = router(state);
    for (m, uri, status, code) in [
        (Method::GET, "/v1/nothing-here", 404, "not_found"),
        (Method::DELETE, "/v1/sync/push", 405, "method_not_allowed"),
    ] {
        let res =
            app.clone().oneshot(Request::builder().method(m).uri(uri).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(res.status().as_u16(), status);
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["code"], code);
    }
}

/// Regression (schemathesis): axum's own rejections answered `text/plain`, which the
/// document does not describe; every error answer is now JSON with a code.
#[tokio::test]
async fn extractor_rejections_and_head_errors_are_json() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        app::open(&ServerConfig { data_dir: dir.path().to_path_buf(), policy_file: None, demo: false }).unwrap();
    let app = router(state);
    let cases = [
        // a path parameter that is not a UUID (before auth: the path is checked first)
        (Method::GET, "/v1/subsidies/not-a-uuid", None, 400),
        // a JSON body sent as text/plain to a handler using axum's Json
        (Method::PATCH, "/v1/admin/users/0190a0b0-0000-7000-8000-000000000001", Some("text/plain"), 415),
        (Method::HEAD, "/v1/photos/uploads/null%2Cnull", None, 0),
    ];
    for (m, uri, ctype, status) in cases {
        let mut req = Request::builder().method(m.clone()).uri(uri);
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        let res = app.clone().oneshot(req.body(Body::from("{}")).unwrap()).await.unwrap();
        assert!(res.status().is_client_error(), "{m} {uri}: {}", res.status());
        if status != 0 {
            assert!(res.status().as_u16() == status || res.status() == 401, "{m} {uri}: {}", res.status());
        }
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(ct.starts_with("application/json"), "{m} {uri}: content-type {ct}");
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        if m != Method::HEAD {
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert!(body["code"].as_str().is_some_and(|c| !c.is_empty()), "{m} {uri}: {body}");
        }
    }
}

/// The desk's routes (HTML beside the API) are a table of their own: each is
/// answered by a handler, none shares a path with the API, and none is in the
/// OpenAPI document.
#[tokio::test]
async fn desk_routes_are_routed_and_kept_out_of_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        app::open(&ServerConfig { data_dir: dir.path().to_path_buf(), policy_file: None, demo: false }).unwrap();
    let app = router(state);
    let doc: serde_json::Value = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let desk = fengqiao_server::desk::route_table();
    assert!(desk.len() >= 4, "{desk:?}");
    let api: BTreeSet<&str> = route_table().into_iter().collect();
    let unique: BTreeSet<&str> = desk.iter().copied().collect();
    assert_eq!(unique.len(), desk.len(), "a desk path is routed twice");
    for path in &desk {
        assert!(path == &"/desk" || path.starts_with("/desk/"), "{path}");
        assert!(!api.contains(path), "{path} is in both tables");
        assert!(doc["paths"].get(*path).is_none(), "{path} is in the OpenAPI document");
        let mut answered = 0;
        for m in [Method::GET, Method::POST] {
            let req = Request::builder().method(m).uri(concrete(path)).body(Body::empty()).unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            if res.status() != axum::http::StatusCode::METHOD_NOT_ALLOWED && res.status() != 404 {
                answered += 1;
            }
        }
        assert!(answered > 0, "{path}: no handler answers");
    }
}
