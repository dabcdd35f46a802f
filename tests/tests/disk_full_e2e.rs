//! A full disk, for real: the real server binary runs with its data dir on a
//! small tmpfs (mounted here; the test needs root and fails, never skips, when the
//! mount is refused), a filler file takes every last byte, then phones and
//! scripts push.
//!
//! - Below the policy's reserve every write is refused `507 storage_full` with
//!   `Retry-After`, `/healthz` answers 200 `status: "degraded"`, `disk: "full"`
//!   (the store is open; freeing space is enough), the phone keeps its
//!   queued work; once space is freed the queued op goes through exactly once.
//! - With no reserve the store itself meets the full disk (ENOSPC inside the
//!   storage engine): still 507 `storage_full`, never 500, `/healthz` asks for a
//!   restart, and after the restart everything acknowledged is there, once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fengqiao_tests::crash::{self, counts, ServerProcess};
use fengqiao_tests::phone::{phone, routine_visit};
use serde_json::{json, Value};
use uuid::Uuid;

const SERVER: &str = env!("CARGO_BIN_EXE_test_server");
const USER: &str = "leader.t1v1g1";

/// A tmpfs mounted for the test; unmounted when dropped (also while a failed
/// assertion unwinds).
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mib: u64) -> Tmpfs {
        let parent = tempfile::tempdir().expect("temp dir");
        let dir = parent.path().join("mnt");
        std::fs::create_dir(&dir).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test needs to mount a tmpfs (run it as root): mount failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir, _parent: parent }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Writes a filler file until the file system refuses another byte.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let mut chunk = 1 << 20;
    while chunk > 0 {
        match f.write(&vec![0u8; chunk]) {
            Ok(0) => chunk /= 2,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "filling: {e}");
                chunk /= 2;
            }
        }
    }
    let _ = f.sync_all();
    assert_eq!(fs4::available_space(dir).expect("statvfs"), 0, "the disk is full to the last byte");
    path
}

async fn healthz(url: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{url}/healthz")).await.expect("healthz");
    (r.status().as_u16(), r.json().await.expect("healthz json"))
}

/// Pushes one visit op over HTTP: (status, Retry-After, body).
async fn push_visit(
    url: &str,
    token: &str,
    author: &str,
    household: Uuid,
    op_id: Uuid,
    visit: Uuid,
) -> (u16, Option<String>, Value) {
    let op = json!({"op_id": op_id, "v": 1, "author": author, "created_at": chrono::Utc::now(),
        "op": {"kind": "record_visit", "body": {"id": visit, "household_id": household, "visitor_id": author,
            "visited_at": chrono::Utc::now(), "kind": "routine", "notes": "走访".repeat(1500), "leads": []}}});
    let r = reqwest::Client::new()
        .post(format!("{url}/v1/sync/push"))
        .bearer_auth(token)
        .json(&json!({"v": 1, "ops": [op]}))
        .send()
        .await
        .expect("push");
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap_or_default().to_string());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

async fn me(url: &str, token: &str) -> String {
    let v: Value = reqwest::Client::new()
        .get(format!("{url}/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("me json");
    v["id"].as_str().expect("user id").to_string()
}

fn assert_storage_full(status: u16, retry: &Option<String>, body: &Value) {
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["code"], "storage_full", "{body}");
    let secs: u64 = retry.as_deref().expect("Retry-After on a 507").parse().expect("Retry-After seconds");
    assert!(secs >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_507_keeps_the_phones_work_and_takes_it_once_freed() {
    let fs = Tmpfs::mount(64);
    let data = fs.dir.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("policy.toml"), "[storage]\nreserve_bytes = 4194304\nwarn_free_bytes = 8388608\n")
        .unwrap();
    let mut server = ServerProcess::start(Path::new(SERVER), &data).unwrap();
    let url = server.url();
    let (status, h) = healthz(&url).await;
    assert_eq!((status, h["status"].as_str(), h["writable"].as_bool()), (200, Some("ok"), Some(true)), "{h}");

    let phone_dir = tempfile::tempdir().unwrap();
    let phone = phone(phone_dir.path(), &url);
    phone.login(USER.into(), server.password(USER).unwrap()).await.unwrap();
    phone.sync().await.unwrap();
    let households = phone.households().unwrap();
    let before = phone.record_visit(routine_visit(&households[0], "满盘之前")).unwrap().id;
    phone.sync().await.unwrap();
    assert_eq!(phone.sync_status().unwrap().pending_ops, 0);
    let token = crash::token(&url, USER, &server.password(USER).unwrap()).await.unwrap();
    let author = me(&url, &token).await;
    // a photo upload started before the disk fills
    let photo = b"0123456789".to_vec();
    let r = tus(reqwest::Client::new().post(format!("{url}/v1/photos/")), &token)
        .header("Upload-Length", photo.len().to_string())
        .header("Upload-Metadata", format!("sha256 {}", base64_sha(&photo)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let upload = format!("{url}{}", r.headers()["location"].to_str().unwrap().trim_start_matches(&url));

    let filler = fill(&fs.dir);

    // /healthz still answers, and names the state
    let (status, h) = healthz(&url).await;
    assert_eq!(status, 200, "the store is open: {h}");
    assert_eq!(
        (h["status"].as_str(), h["disk"].as_str(), h["writable"].as_bool()),
        (Some("degraded"), Some("full"), Some(false)),
        "{h}"
    );
    assert_eq!(h["restart_required"], false, "{h}");

    // the phone's work waits in its outbox: a transient failure, nothing refused
    let queued = phone.record_visit(routine_visit(&households[1], "满盘之时")).unwrap().id;
    let err = phone.sync().await.expect_err("the server cannot take it");
    assert!(err.is_transient(), "a full disk is transient for the phone: {err}");
    let st = phone.sync_status().unwrap();
    assert_eq!(st.pending_ops, 1);
    assert!(st.quarantined.is_empty(), "{:?}", st.quarantined);

    // a script's push: 507, stable code, Retry-After
    let (refused_op, refused_visit) = (Uuid::now_v7(), Uuid::now_v7());
    let (status, retry, body) = push_visit(&url, &token, &author, households[2].id, refused_op, refused_visit).await;
    assert_storage_full(status, &retry, &body);
    // a photo upload can neither start nor take bytes, and keeps none
    let r = tus(reqwest::Client::new().post(format!("{url}/v1/photos/")), &token)
        .header("Upload-Length", "10")
        .header("Upload-Metadata", format!("sha256 {}", base64_sha(b"9876543210")))
        .send()
        .await
        .unwrap();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let status = r.status().as_u16();
    assert_storage_full(status, &retry, &r.json().await.unwrap());
    let r = patch(&upload, &token, &photo).await;
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let status = r.status().as_u16();
    assert_storage_full(status, &retry, &r.json().await.unwrap());
    let r = tus(reqwest::Client::new().head(&upload), &token).send().await.unwrap();
    assert_eq!(r.headers()["upload-offset"], "0", "nothing of the refused chunk was kept");
    // reads are still served
    assert!(crash::feed(&url, &token).await.is_ok());

    // space comes back: the queued op goes through, once
    std::fs::remove_file(&filler).unwrap();
    let (status, h) = healthz(&url).await;
    assert_eq!((status, h["disk"].as_str()), (200, Some("ok")), "{h}");
    phone.sync().await.unwrap();
    assert_eq!(phone.sync_status().unwrap().pending_ops, 0);
    phone.sync().await.unwrap();
    assert_eq!(patch(&upload, &token, &photo).await.status(), 204, "the photo goes up once space is back");
    server.restart().unwrap();
    let token = crash::token(&url, USER, &server.password(USER).unwrap()).await.unwrap();
    let visits = counts(&crash::feed(&url, &token).await.unwrap(), "visit");
    assert_eq!(visits.get(&before), Some(&1));
    assert_eq!(visits.get(&queued), Some(&1), "the queued visit is on the server exactly once");
    assert_eq!(visits.get(&refused_visit), None, "a refused push left nothing");
}

fn tus(req: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
    req.bearer_auth(token).header("Tus-Resumable", "1.0.0")
}

async fn patch(upload: &str, token: &str, bytes: &[u8]) -> reqwest::Response {
    tus(reqwest::Client::new().patch(upload), token)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

fn base64_sha(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(hex::encode(sha2::Sha256::digest(bytes)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_meeting_a_full_disk_answers_507_and_loses_nothing_it_acknowledged() {
    let fs = Tmpfs::mount(64);
    let data = fs.dir.join("data");
    std::fs::create_dir(&data).unwrap();
    // no reserve: the storage engine itself meets ENOSPC
    std::fs::write(data.join("policy.toml"), "[storage]\nreserve_bytes = 0\nwarn_free_bytes = 0\n").unwrap();
    let mut server = ServerProcess::start(Path::new(SERVER), &data).unwrap();
    let url = server.url();
    let password = server.password(USER).unwrap();
    let token = crash::token(&url, USER, &password).await.unwrap();
    let author = me(&url, &token).await;
    let phone_dir = tempfile::tempdir().unwrap();
    let phone = phone(phone_dir.path(), &url);
    phone.login(USER.into(), password.clone()).await.unwrap();
    phone.sync().await.unwrap();
    let household = phone.households().unwrap()[0].id;

    let filler = fill(&fs.dir);
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for _ in 0..2000 {
        let (op, visit) = (Uuid::now_v7(), Uuid::now_v7());
        let (status, retry, body) = push_visit(&url, &token, &author, household, op, visit).await;
        if status == 200 {
            assert_eq!(body["answers"][0]["outcome"]["status"], "applied", "{body}");
            acknowledged.push(visit);
            continue;
        }
        assert_storage_full(status, &retry, &body);
        refused = Some((op, visit));
        break;
    }
    let (refused_op, refused_visit) = refused.expect("the store met the full disk");
    let (status, h) = healthz(&url).await;
    assert_eq!((status, h["disk"].as_str(), h["restart_required"].as_bool()), (503, Some("full"), Some(true)), "{h}");
    // later writes are refused the same way, not with 500
    let (status, retry, body) = push_visit(&url, &token, &author, household, Uuid::now_v7(), Uuid::now_v7()).await;
    assert_storage_full(status, &retry, &body);

    std::fs::remove_file(&filler).unwrap();
    server.restart().unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, h) = healthz(&url).await;
    assert_eq!((status, h["restart_required"].as_bool()), (200, Some(false)), "{h}");
    let token = crash::token(&url, USER, &password).await.unwrap();
    let visits = counts(&crash::feed(&url, &token).await.unwrap(), "visit");
    for v in &acknowledged {
        assert_eq!(visits.get(v), Some(&1), "an acknowledged visit is there after the restart, once");
    }
    // the refused op, sent again, is taken once
    let (status, _, body) = push_visit(&url, &token, &author, household, refused_op, refused_visit).await;
    assert_eq!(status, 200, "{body}");
    let visits = counts(&crash::feed(&url, &token).await.unwrap(), "visit");
    assert_eq!(visits.get(&refused_visit), Some(&1));
}
