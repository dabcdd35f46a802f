//! Answers a client may keep: a strong `ETag` on slow-changing JSON documents
//! (the policy, the names of colleagues) and `304 Not Modified` when the
//! request's `If-None-Match` names it, so nothing is fetched twice.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::ApiError;

/// A strong entity tag of `bytes`: the first 16 hex digits of their SHA-256, quoted.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", hex::encode(&digest[..8]))
}

/// Whether the request's `If-None-Match` matches `etag` (a list, `*`, and weak
/// tags compared weakly, as RFC 9110 §13.1.2 asks of a GET).
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    let bare = etag.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == bare))
}

/// `304` with the tag and caching headers, or `200` with the JSON of `value`.
pub fn json_or_304<T: Serialize>(headers: &HeaderMap, value: &T, cache_control: &'static str) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(b) => b,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let etag = etag_of(&body);
    let Ok(tag) = HeaderValue::from_str(&etag) else {
        return ApiError::internal("entity tag").into_response();
    };
    let cc = HeaderValue::from_static(cache_control);
    if not_modified(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag), (header::CACHE_CONTROL, cc)]).into_response();
    }
    let json = HeaderValue::from_static("application/json");
    (StatusCode::OK, [(header::ETAG, tag), (header::CACHE_CONTROL, cc), (header::CONTENT_TYPE, json)], body)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn if_none_match_lists_star_and_weak_tags() {
        let tag = etag_of(b"{}");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 18, "{tag}");
        assert!(not_modified(&with(&tag), &tag));
        assert!(not_modified(&with(&format!("\"x\", W/{tag}")), &tag));
        assert!(not_modified(&with("*"), &tag));
        assert!(!not_modified(&with("\"other\""), &tag));
        assert!(!not_modified(&HeaderMap::new(), &tag));
    }

    #[tokio::test]
    async fn a_matching_tag_answers_304_without_a_body() {
        let value = serde_json::json!({"a": 1});
        let first = json_or_304(&HeaderMap::new(), &value, "no-cache");
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].to_str().expect("tag").to_string();
        let again = json_or_304(&with(&tag), &value, "no-cache");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG].to_str().expect("tag"), tag);
        let body = axum::body::to_bytes(again.into_body(), 1024).await.expect("body");
        assert!(body.is_empty());
        let changed = json_or_304(&with(&tag), &serde_json::json!({"a": 2}), "no-cache");
        assert_eq!(changed.status(), StatusCode::OK);
    }
}
