//! The operator's routes: `/readyz` (readiness) and `/metrics` (Prometheus),
//! and the layer that counts every request ([`track`]).

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::disk::DiskState;
use crate::metrics::CONTENT_TYPE;

/// Counts every answered request by route template, method and status.
pub async fn track(State(st): State<AppState>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    st.metrics.observe_request(&route, &method, res.status().as_u16(), started.elapsed());
    res
}

/// The server's metrics in the OpenMetrics text format (Prometheus reads it):
/// requests by route template and status, latency histograms, pushed ops by
/// answer, feed length, photo bytes kept, disk free and active sessions. Only
/// for a direct loopback caller, or with the `--metrics-token` as a bearer token
/// when one is set; anyone else gets 403.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses(
    (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text"),
    (status = 403, body = fengqiao_domain::wire::ErrorBody, description = "not from the loopback, or without the metrics token"),
    (status = 500, body = fengqiao_domain::wire::ErrorBody)))]
pub async fn metrics(
    State(st): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
) -> Result<Response, ApiError> {
    let peer = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if !st.metrics.may_read(peer, &headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "metrics_forbidden",
            "metrics are served to the loopback, or with the metrics token",
        ));
    }
    let (store, disk) = (st.store.clone(), st.disk.clone());
    let (seq, (_, free)) = tokio::task::spawn_blocking(move || store.last_seq().map(|s| (s, disk.check()))).await??;
    let body = st.metrics.render(seq, free);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response())
}

/// Readiness: 200 with `ready: true` while the store answers and the data dir's
/// disk takes writes; 503 with `ready: false` otherwise (the store failed or met
/// a full disk, or free space is below `storage.reserve_bytes`). Always reports
/// `store` (`"ok"`/`"failed"`), `disk` (`"ok"`/`"low"`/`"full"`), `free_bytes`,
/// `feed_seq`, and the last backup: `backup.last_at` and `backup.age_secs`
/// (null with `backup.state: "none"` while none is known). A backup's age does
/// not make the server unready: alert on it from `/readyz` or the logs.
#[utoipa::path(get, path = "/readyz", tag = "meta", responses(
    (status = 200, description = "ready: {ready: true, store: \"ok\", disk: \"ok\"|\"low\", free_bytes, feed_seq, backup: {state: \"ok\"|\"none\", last_at, age_secs}}"),
    (status = 503, description = "not ready: {ready: false, store: \"ok\"|\"failed\", disk, free_bytes, feed_seq, backup}"),
    (status = 500)))]
pub async fn readyz(State(st): State<AppState>) -> ApiResult<(StatusCode, Json<Value>)> {
    let (store, disk) = (st.store.clone(), st.disk.clone());
    let (seq, (disk_state, free), failed) =
        tokio::task::spawn_blocking(move || (store.last_seq(), disk.check(), store.write_failed_full())).await?;
    let store_ok = seq.is_ok() && !failed;
    let disk_state = if failed { DiskState::Full } else { disk_state };
    let ready = store_ok && disk_state != DiskState::Full;
    let last = st.backup_clock.last_backup();
    let backup = match last {
        Some(at) => serde_json::json!({
            "state": "ok",
            "last_at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "age_secs": (Utc::now() - at).num_seconds().max(0),
        }),
        None => serde_json::json!({ "state": "none", "last_at": null, "age_secs": null }),
    };
    let body = serde_json::json!({
        "ready": ready,
        "store": if store_ok { "ok" } else { "failed" },
        "disk": disk_state.as_str(),
        "free_bytes": free,
        "feed_seq": seq.ok(),
        "backup": backup,
    });
    let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    Ok((code, Json(body)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::app::{self, ServerConfig};
    use crate::readiness::BackupClock;

    struct TakenAt(DateTime<Utc>);

    impl BackupClock for TakenAt {
        fn last_backup(&self) -> Option<DateTime<Utc>> {
            Some(self.0)
        }
    }

    #[tokio::test]
    async fn readiness_reports_the_age_of_the_last_backup() {
        let dir = tempfile::tempdir().unwrap();
        let config = ServerConfig { data_dir: dir.path().to_path_buf(), policy_file: None, demo: false };
        let mut st = app::open(&config).unwrap();
        let (code, Json(v)) = readyz(State(st.clone())).await.unwrap();
        assert_eq!((code, &v["backup"]["state"]), (StatusCode::OK, &Value::from("none")), "{v}");
        let at = Utc::now() - chrono::Duration::hours(3);
        st.backup_clock = Arc::new(TakenAt(at));
        let (code, Json(v)) = readyz(State(st)).await.unwrap();
        assert_eq!(code, StatusCode::OK);
        assert_eq!(v["backup"]["state"], "ok", "{v}");
        assert_eq!(v["backup"]["last_at"], at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let age = v["backup"]["age_secs"].as_i64().unwrap();
        assert!((3 * 3600..3 * 3600 + 60).contains(&age), "{age}");
    }
}
