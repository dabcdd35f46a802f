//! Seeing the server (issue 26, ADR 0033): `/metrics` in the Prometheus text
//! format, for the loopback (or a token) only, with route templates and no
//! personal data; `/readyz` with the store, the disk and the last backup.

use fengqiao_tests::phone::{routine_visit, signed_in};
use fengqiao_tests::TestServer;

/// The value of the first sample line that starts with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_pushes_and_sessions_by_template_without_personal_data() {
    let (data, phone_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = TestServer::start(data.path()).await.unwrap();
    let url = server.url();
    let leader = signed_in(phone_dir.path(), &url, &server, "leader.t1v1g1").await;
    leader.sync().await.unwrap();
    let households = leader.households().unwrap();
    for (i, h) in households.iter().take(2).enumerate() {
        leader.record_visit(routine_visit(h, &format!("第{i}次"))).unwrap();
    }
    leader.sync().await.unwrap();

    let http = reqwest::Client::new();
    let res = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = res.text().await.unwrap();
    assert!(
        sample(&text, "fengqiao_http_requests_total{route=\"/v1/sync/push\",method=\"POST\",status=\"200\"}")
            .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(text.contains("fengqiao_http_request_duration_seconds_bucket{le="), "{text}");
    assert!(text.contains("route=\"/v1/sync/pull\""), "{text}");
    assert_eq!(sample(&text, "fengqiao_push_ops_total{outcome=\"applied\"}"), Some(2.0), "{text}");
    let seq = server.state().unwrap().store.last_seq().unwrap();
    assert_eq!(sample(&text, "fengqiao_feed_length "), Some(seq as f64), "{text}");
    assert!(sample(&text, "fengqiao_disk_free_bytes ").is_some_and(|v| v > 0.0), "{text}");
    assert_eq!(sample(&text, "fengqiao_active_sessions "), Some(1.0), "{text}");
    assert!(text.contains("fengqiao_photo_bytes_stored_total"), "{text}");

    // No user, unit, id or token in any label: templates only.
    let me = server.cred("leader.t1v1g1").unwrap();
    assert!(!text.contains(&me.username), "a username in the metrics");
    for h in &households {
        assert!(!text.contains(&h.id.to_string()), "a household id in the metrics");
    }
    assert!(!text.contains("Bearer"));

    // A request that came through a proxy is not the loopback's.
    let res = http.get(format!("{url}/metrics")).header("X-Forwarded-For", "10.0.0.9").send().await.unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "metrics_forbidden");
}

#[tokio::test]
async fn readiness_reports_store_disk_and_that_no_backup_exists_yet() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(data.path()).await.unwrap();
    let res = reqwest::get(format!("{}/readyz", server.url())).await.unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["ready"], true, "{v}");
    assert_eq!(v["store"], "ok", "{v}");
    assert!(matches!(v["disk"].as_str(), Some("ok" | "low")), "{v}");
    assert!(v["free_bytes"].as_u64().is_some(), "{v}");
    assert_eq!(v["backup"]["state"], "none", "{v}");
    assert!(v["backup"]["age_secs"].is_null(), "{v}");
    // Liveness is unchanged.
    let res = reqwest::get(format!("{}/healthz", server.url())).await.unwrap();
    assert_eq!(res.status(), 200);
}

/// Below the policy's reserve of free space the server takes no writes: not ready
/// (503), while liveness still answers 200 (a restart would not free space).
#[tokio::test]
async fn a_full_disk_makes_the_server_unready_but_alive() {
    let data = tempfile::tempdir().unwrap();
    let huge = 1u64 << 62;
    std::fs::write(
        data.path().join("policy.toml"),
        format!("[storage]\nreserve_bytes = {huge}\nwarn_free_bytes = {huge}\n"),
    )
    .unwrap();
    let server = TestServer::start(data.path()).await.unwrap();
    let res = reqwest::get(format!("{}/readyz", server.url())).await.unwrap();
    assert_eq!(res.status(), 503);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["ready"], false, "{v}");
    assert_eq!(v["disk"], "full", "{v}");
    assert_eq!(v["store"], "ok", "{v}");
    let res = reqwest::get(format!("{}/healthz", server.url())).await.unwrap();
    assert_eq!(res.status(), 200);
}

/// A photo uploaded whole counts its bytes once.
#[tokio::test]
async fn a_kept_photo_counts_its_bytes() {
    use fengqiao_tests::photos::{new_photo, phone_with_visit, photo_bytes, source, upload_options};
    let (data, phone_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = TestServer::start(data.path()).await.unwrap();
    let (leader, visit) =
        phone_with_visit(phone_dir.path(), &server.url(), &server, "leader.t1v1g2", &upload_options(64 * 1024, 2))
            .await;
    let bytes = photo_bytes(200 * 1024, 7);
    leader.attach_photo(new_photo(&visit, &source(phone_dir.path(), "m.jpg", &bytes))).unwrap();
    leader.sync().await.unwrap();
    let text = server.state().unwrap().metrics.render(0, None);
    assert_eq!(sample(&text, "fengqiao_photo_bytes_stored_total "), Some(bytes.len() as f64), "{text}");
}
