//! Headers every answer owes the client: `X-Content-Type-Options: nosniff`
//! on all, a Content-Security-Policy on photos and HTML pages, and
//! `Connection: close` when the connection will not be kept.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Response};
use axum::middleware::Next;
use futures_util::StreamExt;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of a photo: nothing in it may run, load or be framed into a
/// page of this origin's (a photo is only ever shown, never a document).
pub const PHOTO_CSP: &str = "default-src 'none'; sandbox";

/// The policy of an HTML page (the monthly report): its own inline `<style>`
/// and inline SVG, nothing loaded, nothing run, no forms, not framed.
pub const HTML_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `X-Content-Type-Options: nosniff` on every answer.
pub fn nosniff() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))
}

/// [`PHOTO_CSP`] on every answer of the route it wraps.
pub fn photo_csp() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PHOTO_CSP))
}

fn is_html<B>(res: &Response<B>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// [`HTML_CSP`] on every HTML answer that names no policy of its own.
pub fn html_csp() -> SetResponseHeaderLayer<impl FnMut(&Response<Body>) -> Option<HeaderValue> + Clone> {
    SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, |res: &Response<Body>| {
        is_html(res).then(|| HeaderValue::from_static(HTML_CSP))
    })
}

/// Whether a request says it carries a body.
fn has_body(req: &Request) -> bool {
    let h = req.headers();
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() != "0")
}

/// `Connection: close` on an answer given before its request's body was read
/// to the end (a refused upload, a body over the limit, a timeout): the HTTP
/// server cannot find the next request on such a connection and closes it, so
/// the client is told rather than left to find a dead connection.
pub async fn close_when_body_unread(req: Request, next: Next) -> Response<Body> {
    if !has_body(&req) {
        return next.run(req).await;
    }
    let ended = Arc::new(AtomicBool::new(false));
    let seen = ended.clone();
    let (parts, body) = req.into_parts();
    // The body's end is noted when its stream is polled past the last piece.
    let watched = body.into_data_stream().chain(futures_util::stream::poll_fn(move |_| {
        seen.store(true, Ordering::SeqCst);
        Poll::Ready(None)
    }));
    let mut res = next.run(Request::from_parts(parts, Body::from_stream(watched))).await;
    if !ended.load(Ordering::SeqCst) {
        res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}
