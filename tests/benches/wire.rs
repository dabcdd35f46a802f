//! Bytes on the wire and held waits (issue 24; a bench binary, not a timed test).
//!
//! 1. **Bytes per recorded visit**, gzip off (the phone as it was: nothing
//!    compressed) and on, side by side, each on a fresh demo server behind a
//!    counting proxy: a phone records 500 visits offline and syncs (its push,
//!    and the pull that brings the server's copies back), then a second phone of
//!    the same user pulls them (its first sync). Printed per visit and as the
//!    ratio on / off (goal: at most a third).
//! 2. **A sync with nothing to do**, both ways, bytes in all (goal ≤ 1 KB, the
//!    policy included), beside the requests the phone made on every sync before
//!    (the policy and the names fetched again, uncompressed).
//! 3. **1,000 held waits** (`GET /v1/sync/wait`) on the real server binary: its
//!    resident memory before and while they are held, per wait, and the time
//!    from a change in their scope until every one has answered.
//!
//! Run: `cargo bench -p fengqiao-tests --bench wire` (`-- --visits 100
//! --waiters 200` for a quick look; figures go in docs/BENCHMARKS.md).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fengqiao_core::{ClientOptions, FieldClient, NewVisit, RetryPolicy};
use fengqiao_domain::VisitKind;
use fengqiao_tests::crash::{token, ServerProcess};
use fengqiao_tests::phone::{reopen, sign_in};
use fengqiao_tests::proxy::{FaultMode, FaultProxy};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const SERVER: &str = env!("CARGO_BIN_EXE_test_server");
const USER: &str = "leader.t1v1g1";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Notes as long as a field visit's usually are (60 to 100 characters), each
/// put together from different phrases so that they do not repeat one another.
fn notes(i: usize) -> String {
    const PARTS: [&str; 12] = [
        "入户走访，了解家庭生产生活情况",
        "宣传人民调解法和村规民约",
        "询问邻里关系有无矛盾",
        "户主反映与东邻因宅基地界线有争议",
        "土地承包合同到期，提醒续签",
        "老人赡养由两个儿子轮流负责",
        "今年玉米收成较好，家庭收入稳定",
        "孩子在镇上读初中，住校",
        "院墙西侧开裂，建议尽快修补",
        "提醒注意冬季取暖防煤气中毒",
        "反映村道路灯损坏两盏",
        "户主表示近期无纠纷",
    ];
    let mut x = (i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut out = format!("第{}次走访（{}月{}日）：", i % 7 + 1, x % 12 + 1, (x >> 8) % 28 + 1);
    for _ in 0..3 + (x % 3) {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        out.push_str(PARTS[(x >> 33) as usize % PARTS.len()]);
        out.push('；');
    }
    out.push_str(&format!("人口{}，耕地{}亩。", (x >> 40) % 6 + 1, (x >> 20) % 30 + 2));
    out
}

fn options(compress: bool) -> ClientOptions {
    ClientOptions {
        compress,
        request_timeout: Duration::from_secs(120),
        retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() },
        ..ClientOptions::default()
    }
}

/// Bytes both ways through the proxy while `f` runs.
async fn metered<T>(proxy: &FaultProxy, f: impl std::future::Future<Output = T>) -> (T, u64, u64) {
    let (u0, d0) = (proxy.upstream_bytes.load(Ordering::SeqCst), proxy.downstream_bytes.load(Ordering::SeqCst));
    let out = f.await;
    let (u1, d1) = (proxy.upstream_bytes.load(Ordering::SeqCst), proxy.downstream_bytes.load(Ordering::SeqCst));
    (out, u1 - u0, d1 - d0)
}

/// What one side (gzip off or on) measured.
struct Bytes {
    push_up: u64,
    push_down: u64,
    pull_down: u64,
    pull_up: u64,
    noop: u64,
    /// The policy and the names as the phone fetched them on every sync before.
    refetch: u64,
}

async fn phone(dir: &Path, url: &str, server: &TestServer, compress: bool) -> FieldClient {
    let p = reopen(dir, url, &options(compress)).await.expect("phone");
    sign_in(&p, server, USER).await;
    p
}

async fn measure_bytes(visits: usize, compress: bool) -> Bytes {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let server = TestServer::start(dirs[0].path()).await.expect("server");
    let proxy = FaultProxy::start(server.addr(), FaultMode::Pass).await.expect("proxy");
    let a = phone(dirs[1].path(), &proxy.url(), &server, compress).await;
    a.sync().await.expect("first sync");
    let homes = a.households().expect("households");
    for i in 0..visits {
        let h = &homes[i % homes.len()];
        let v = NewVisit {
            household_id: h.id,
            body: None,
            kind: VisitKind::Routine,
            visited_at: None,
            notes: notes(i),
            location: None,
            leads: vec![],
        };
        a.record_visit(v).expect("visit");
    }
    let (report, push_up, push_down) = metered(&proxy, a.sync()).await;
    assert_eq!(report.expect("push").pushed_applied, visits as u64);
    let b = reopen(dirs[2].path(), &proxy.url(), &options(compress)).await.expect("phone b");
    let c = server.cred(USER).expect("cred");
    b.login(c.username.clone(), c.password.clone()).await.expect("login");
    let (report, pull_up, pull_down) = metered(&proxy, b.sync()).await;
    assert!(report.expect("pull").pulled >= visits as u64);
    let (report, up, down) = metered(&proxy, b.sync()).await;
    report.expect("no-op sync");
    let http =
        if compress { reqwest::Client::new() } else { reqwest::Client::builder().no_gzip().build().expect("http") };
    let tok = token(&server.url(), USER, &c.password).await.expect("token");
    let (_, ru, rd) = metered(&proxy, async {
        for path in ["/v1/policy", "/v1/people"] {
            let r = http.get(format!("{}{path}", proxy.url())).bearer_auth(&tok).send().await.expect("get");
            r.bytes().await.expect("body");
        }
    })
    .await;
    Bytes { push_up, push_down, pull_down, pull_up, noop: up + down, refetch: ru + rd }
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn measure_waits(waiters: usize) {
    let dir = tempfile::tempdir().expect("tmp");
    let server = ServerProcess::start(Path::new(SERVER), dir.path()).expect("server binary");
    let pid = server.pid().expect("pid");
    let url = server.url();
    let tok = token(&url, USER, &server.password(USER).expect("password")).await.expect("token");
    let http = reqwest::Client::new();
    let (mut cursor, mut household) = (String::new(), Value::Null);
    loop {
        let page: Value = http
            .get(format!("{url}/v1/sync/pull?cursor={cursor}&limit=1000"))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("pull")
            .json()
            .await
            .expect("page");
        if let Some(h) = page["changes"].as_array().and_then(|c| c.iter().find(|c| c["entity"] == "household")) {
            household = h["id"].clone();
        }
        cursor = page["next_cursor"].as_str().expect("cursor").to_string();
        if page["has_more"] != true {
            break;
        }
    }
    // Warm the server's paths once (a wait answered at its timeout).
    http.get(format!("{url}/v1/sync/wait?cursor={cursor}&timeout=1")).bearer_auth(&tok).send().await.expect("warm");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let request = format!(
        "GET /v1/sync/wait?cursor={cursor}&timeout=55 HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {tok}\r\n\r\n",
        server.addr
    );
    let mut held = Vec::with_capacity(waiters);
    for _ in 0..waiters {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
        s.write_all(request.as_bytes()).await.expect("send");
        held.push(s);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = rss_kib(pid);
    let op = json!({"op_id": Uuid::now_v7(), "v": 1, "author": Value::Null, "created_at": chrono::Utc::now(),
        "op": {"kind": "record_visit", "body": {"id": Uuid::now_v7(), "household_id": household,
            "visited_at": chrono::Utc::now(), "kind": "routine"}}});
    let me: Value =
        http.get(format!("{url}/v1/me")).bearer_auth(&tok).send().await.expect("me").json().await.expect("me");
    let mut op = op;
    op["author"] = me["id"].clone();
    let changed = Instant::now();
    let r = http.post(format!("{url}/v1/sync/push")).bearer_auth(&tok).json(&json!({"v": 1, "ops": [op]})).send();
    let answer: Value = r.await.expect("push").json().await.expect("answer");
    assert_eq!(answer["answers"][0]["outcome"]["status"], "applied", "{answer}");
    let mut answered = 0;
    let mut tasks = tokio::task::JoinSet::new();
    for mut s in held {
        tasks.spawn(async move {
            let mut buf = vec![0u8; 2048];
            let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await.ok()?.ok()?;
            String::from_utf8_lossy(&buf[..n]).contains("\"changed\":true").then_some(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        answered += usize::from(matches!(r, Ok(Some(()))));
    }
    let all = changed.elapsed();
    println!(
        "held waits: {waiters}; server RSS {:.1} MiB before, {:.1} MiB while held: {:.1} KiB per wait; \
         a change in scope answered {answered} of them (changed: true) in {:.0} ms",
        before as f64 / 1024.0,
        during as f64 / 1024.0,
        during.saturating_sub(before) as f64 / waiters as f64,
        all.as_secs_f64() * 1000.0
    );
    drop(server);
}

fn main() {
    let visits = arg("--visits", 500);
    let waiters = arg("--waiters", 1000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let off = measure_bytes(visits, false).await;
        let on = measure_bytes(visits, true).await;
        let per = |b: u64| b as f64 / visits as f64;
        println!("bytes per recorded visit ({visits} visits), gzip off | on | on/off:");
        for (what, a, b) in [
            ("push: phone -> server", off.push_up, on.push_up),
            ("push: server -> phone (answers and the pull back)", off.push_down, on.push_down),
            ("a second phone's pull: server -> phone", off.pull_down, on.pull_down),
            ("a second phone's pull: phone -> server", off.pull_up, on.pull_up),
        ] {
            println!("  {what:<52} {:>8.1} | {:>8.1} | {:.2}", per(a), per(b), b as f64 / a as f64);
        }
        let (up_off, up_on) = (off.push_up + off.push_down, on.push_up + on.push_down);
        println!(
            "  push sync both ways {:.1} | {:.1} | {:.2}; pull both ways {:.1} | {:.1} | {:.2}",
            per(up_off),
            per(up_on),
            up_on as f64 / up_off as f64,
            per(off.pull_down + off.pull_up),
            per(on.pull_down + on.pull_up),
            (on.pull_down + on.pull_up) as f64 / (off.pull_down + off.pull_up) as f64
        );
        println!(
            "a sync with nothing to do, bytes both ways: {} (gzip off) | {} (gzip on); \
             before this change it also fetched the policy and the names: +{} bytes uncompressed, +{} gzip",
            off.noop, on.noop, off.refetch, on.refetch
        );
        measure_waits(waiters).await;
    });
}
