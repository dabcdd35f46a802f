//! What the server counts for the county's monitoring: one Prometheus registry
//! per server ([`Metrics`]), served at `/metrics` in the OpenMetrics text format
//! (ADR 0033; the route and its access check are in `http::ops_routes`). Labels are route templates (`/v1/subsidies/{id}`), methods,
//! statuses and outcomes only: never a concrete path, a user, a unit or a token.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use uuid::Uuid;

/// A session counts as active while it made a request within this window.
pub const ACTIVE_SESSION_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The content type of `/metrics`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of one answered request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route's template, or `unmatched`.
    pub route: String,
    /// The HTTP method.
    pub method: String,
    /// The answer's status code.
    pub status: u16,
}

/// Labels of a latency observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route's template, or `unmatched`.
    pub route: String,
    /// The HTTP method.
    pub method: String,
}

/// Label of a pushed op's answer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `applied`, `duplicate`, `rejected` or `conflict`.
    pub outcome: &'static str,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms to ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The server's metrics and who may read them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
    push_ops: Family<OutcomeLabels, Counter>,
    photo_bytes: Counter,
    feed_length: Gauge,
    disk_free: Gauge,
    active_sessions: Gauge,
    sessions: Mutex<HashMap<Uuid, Instant>>,
    token: Option<String>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("token", &self.token.as_ref().map(|_| "<set>")).finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh registry. With `token`, `/metrics` answers whoever presents it as
    /// `Authorization: Bearer <token>`; without, only direct loopback callers.
    pub fn new(token: Option<String>) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "fengqiao_http_requests",
            "HTTP requests answered, by route template and status",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "fengqiao_http_request_duration_seconds",
            "Time to answer a request (to the answer's head), by route template",
            latency.clone(),
        );
        let push_ops = Family::<OutcomeLabels, Counter>::default();
        registry.register("fengqiao_push_ops", "Pushed operations by answer", push_ops.clone());
        let photo_bytes = Counter::default();
        registry.register(
            "fengqiao_photo_bytes_stored",
            "Bytes of photos completely uploaded and kept",
            photo_bytes.clone(),
        );
        let feed_length = Gauge::default();
        registry.register(
            "fengqiao_feed_length",
            "The feed's last sequence number (changes kept)",
            feed_length.clone(),
        );
        let disk_free = Gauge::default();
        registry.register("fengqiao_disk_free_bytes", "Free bytes on the data dir's disk", disk_free.clone());
        let active_sessions = Gauge::default();
        registry.register(
            "fengqiao_active_sessions",
            "Signed-in sessions that made a request in the last 15 minutes",
            active_sessions.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            push_ops,
            photo_bytes,
            feed_length,
            disk_free,
            active_sessions,
            sessions: Mutex::new(HashMap::new()),
            token: token.filter(|t| !t.is_empty()),
        }
    }

    /// Counts one answered request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let (route, method) = (route.to_string(), method.to_string());
        self.requests.get_or_create(&RequestLabels { route: route.clone(), method: method.clone(), status }).inc();
        self.latency.get_or_create(&RouteLabels { route, method }).observe(took.as_secs_f64());
    }

    /// Counts the answers of one push.
    pub fn observe_push(&self, answers: &[fengqiao_domain::wire::OpAnswer]) {
        use fengqiao_domain::wire::Outcome;
        for a in answers {
            let outcome = match a.outcome {
                Outcome::Applied { .. } => "applied",
                Outcome::Duplicate { .. } => "duplicate",
                Outcome::Rejected { .. } => "rejected",
                Outcome::Conflict { .. } => "conflict",
            };
            self.push_ops.get_or_create(&OutcomeLabels { outcome }).inc();
        }
    }

    /// Counts the bytes of a photo kept.
    pub fn observe_photo(&self, bytes: u64) {
        self.photo_bytes.inc_by(bytes);
    }

    /// Notes a request made in a signed-in session.
    pub fn touch_session(&self, family: Uuid) {
        if let Ok(mut s) = self.sessions.lock() {
            s.insert(family, Instant::now());
        }
    }

    /// Sessions seen within [`ACTIVE_SESSION_WINDOW`]; forgets older ones.
    pub fn active_sessions(&self) -> usize {
        match self.sessions.lock() {
            Ok(mut s) => {
                s.retain(|_, at| at.elapsed() < ACTIVE_SESSION_WINDOW);
                s.len()
            }
            Err(_) => 0,
        }
    }

    /// The registry as OpenMetrics text, the gauges set from the given values.
    pub fn render(&self, feed_length: u64, disk_free: Option<u64>) -> String {
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.feed_length.set(clamp(feed_length));
        self.disk_free.set(disk_free.map_or(-1, clamp));
        self.active_sessions.set(clamp(self.active_sessions() as u64));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// Whether a request may read `/metrics`: the token if one is set, else a
    /// caller on the loopback that no proxy forwarded.
    pub fn may_read(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
        match &self.token {
            Some(token) => headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|t| constant_time_eq(t.trim().as_bytes(), token.as_bytes())),
            None => {
                let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|h| headers.contains_key(*h));
                !forwarded && peer.is_some_and(|p| p.ip().is_loopback())
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_named_series_with_templates_not_paths() {
        let m = Metrics::new(None);
        m.observe_request("/v1/subsidies/{id}", "GET", 200, Duration::from_millis(3));
        m.observe_photo(1234);
        m.touch_session(Uuid::nil());
        let text = m.render(42, Some(1_000));
        for needle in [
            "fengqiao_http_requests_total{route=\"/v1/subsidies/{id}\",method=\"GET\",status=\"200\"} 1",
            "fengqiao_http_request_duration_seconds_bucket{",
            "fengqiao_photo_bytes_stored_total 1234",
            "fengqiao_feed_length 42",
            "fengqiao_disk_free_bytes 1000",
            "fengqiao_active_sessions 1",
        ] {
            assert!(text.contains(needle), "{needle} missing in:\n{text}");
        }
    }

    #[test]
    fn loopback_without_proxy_or_the_token() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        let open = Metrics::new(None);
        let none = HeaderMap::new();
        assert!(open.may_read(Some(local), &none));
        assert!(!open.may_read(Some(remote), &none));
        assert!(!open.may_read(None, &none));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", "10.1.2.3".parse().unwrap());
        assert!(!open.may_read(Some(local), &proxied));

        let tokened = Metrics::new(Some("s3cret".into()));
        assert!(!tokened.may_read(Some(local), &none), "with a token, loopback alone is not enough");
        let mut good = HeaderMap::new();
        good.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(tokened.may_read(Some(remote), &good));
        let mut bad = HeaderMap::new();
        bad.insert(header::AUTHORIZATION, "Bearer s3cre".parse().unwrap());
        assert!(!tokened.may_read(Some(remote), &bad));
    }
}
