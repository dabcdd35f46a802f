//! Photo upload benchmark (a bench binary, not a timed test):
//!
//! 1. throughput of a 20 MB photo uploaded by the phone core (tus, checksummed
//!    chunks growing from 1 MiB up to `upload_chunk_bytes`, progress saved per
//!    chunk, the verified photo fsynced before the last answer) against a plain
//!    HTTP PUT of the same bytes to a trivial axum handler that streams the body
//!    into a file and fsyncs it (the same durability), and the same PUT without
//!    the fsync — all over loopback, in the same run, median of several rounds,
//!    with the CPU time the process spent on each (phone and server alike);
//! 2. the floor this machine puts under any upload that does the work the core
//!    must do per byte (the server's SHA-256 of the photo, the phone decrypting
//!    its encrypted photo folder, a CRC-32 chunk checksum on each side), measured
//!    in the same run: that work's CPU plus the plain PUT's own CPU, spread over
//!    every core with no protocol cost at all, and the best ratio it allows;
//! 3. the phone core's peak RSS (VmHWM) uploading a 5 MB and a 50 MB photo, each
//!    in a child process of its own.
//!
//! Run: `cargo bench -p fengqiao-tests --bench upload` (results go in
//! docs/BENCHMARKS.md); `-- --chunk-mib N` sets the phone's largest chunk
//! (`upload_chunk_bytes`; default: the core's default).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fengqiao_core::{ClientOptions, FieldClient, NewPhoto, RetryPolicy};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{EntityKind, VisitKind};
use fengqiao_tests::TestServer;

const MB: usize = 1_000_000;
const ROUNDS: usize = 5;
const LEADER: &str = "leader.t1v1g1";

/// The photos are kept as taken (`originals_for`): this bench measures the
/// uploader on large files of known size, not the sizing at capture (its
/// cost is `cargo bench -p fengqiao-core --bench sizing`).
fn policy() -> Policy {
    let mut p = Policy::default();
    p.photos.max_bytes = 64 * 1024 * 1024;
    p.photos.originals_for = vec![fengqiao_domain::policy::PhotoPurpose::Record];
    p
}

/// `--chunk-mib N`: the phone's largest chunk, if not the core's default.
static CHUNK_MIB: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();

fn options() -> ClientOptions {
    let defaults = ClientOptions::default();
    let chunk = CHUNK_MIB.get().copied().flatten().map_or(defaults.upload_chunk_bytes, |m| m * 1024 * 1024);
    ClientOptions {
        upload_chunk_bytes: chunk,
        policy: policy(),
        request_timeout: Duration::from_secs(120),
        retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() },
        ..defaults
    }
}

/// Writes `len` pseudo-random bytes to `path` 64 KiB at a time (never whole in memory).
fn write_photo(path: &Path, len: usize, seed: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create photo"));
    let mut x = seed.wrapping_mul(6364136223846793005) | 1;
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = len;
    let mut first = true;
    while left > 0 {
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 24) as u8;
        }
        if first {
            // the JPEG marker: the core takes only what its bytes show to be a photo
            buf[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
            first = false;
        }
        let n = left.min(buf.len());
        f.write_all(&buf[..n]).expect("write photo");
        left -= n;
    }
    f.flush().expect("flush photo");
}

/// A signed-in phone with one synced visit; returns the visit id.
async fn ready_phone(dir: &Path, url: &str, user: &str, password: &str) -> (FieldClient, uuid::Uuid) {
    let p = FieldClient::open(
        dir.to_string_lossy().into_owned(),
        url.into(),
        fengqiao_tests::phone::store_key(),
        options(),
    )
    .expect("open phone");
    p.login(user.into(), password.into()).await.expect("login");
    p.sync().await.expect("first sync");
    let h = p.households().expect("households").remove(0);
    let v = p
        .record_visit(fengqiao_core::NewVisit {
            household_id: h.id,
            body: None,
            kind: VisitKind::Routine,
            visited_at: None,
            notes: "bench".into(),
            location: None,
            leads: vec![],
        })
        .expect("visit");
    p.sync().await.expect("visit sync");
    (p, v.id)
}

fn new_photo(visit: uuid::Uuid, path: &Path) -> NewPhoto {
    NewPhoto {
        target_kind: EntityKind::Visit,
        target_id: visit,
        source_path: path.to_string_lossy().into_owned(),
        content_type: "image/jpeg".into(),
        caption: String::new(),
    }
}

/// CPU time (ns) every thread of this process has used so far (phone core and
/// server alike: they share the process): `CLOCK_PROCESS_CPUTIME_ID`, which
/// also counts the calling thread's current slice (the per-thread counters in
/// `/proc` only move at scheduler ticks while a thread runs).
fn cpu_ns() -> u64 {
    timespec_ns(rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime))
}

/// CPU time (ns) the calling thread has used so far (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu_ns() -> u64 {
    timespec_ns(rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime))
}

fn timespec_ns(t: rustix::time::Timespec) -> u64 {
    u64::try_from(t.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(t.tv_nsec).unwrap_or(0))
}

/// Marks when the upload phase of a sync starts (its first progress report),
/// with the process's CPU time then.
struct UploadStart(std::sync::Mutex<Option<(Instant, u64)>>);

impl fengqiao_core::SyncProgress for UploadStart {
    fn on_progress(&self, phase: fengqiao_core::SyncPhase, _done: u64, _total: u64) {
        if phase == fengqiao_core::SyncPhase::Uploading {
            let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
            t.get_or_insert_with(|| (Instant::now(), cpu_ns()));
        }
    }
}

/// Seconds of wall time and of CPU time (all threads).
#[derive(Debug, Clone, Copy)]
struct Timed {
    wall: f64,
    cpu: f64,
}

/// Attach + sync (which pushes the attach op and pulls, then uploads): seconds of
/// the upload phase alone — from its first progress report to the server's last
/// answer — so the push and pull of records are not counted against tus.
async fn core_upload(p: &FieldClient, visit: uuid::Uuid, path: &Path) -> Timed {
    p.attach_photo(new_photo(visit, path)).expect("attach");
    let start = Arc::new(UploadStart(std::sync::Mutex::new(None)));
    let r = p.sync_with(Some(start.clone()), None).await.expect("upload sync");
    let (end, cpu_end) = (Instant::now(), cpu_ns());
    assert_eq!(r.photos_uploaded, 1, "the photo went up");
    let (began, cpu) = start.0.lock().unwrap_or_else(|p| p.into_inner()).expect("upload progress reported");
    Timed { wall: (end - began).as_secs_f64(), cpu: cpu_end.saturating_sub(cpu) as f64 / 1e9 }
}

/// The trivial baseline: `PUT /blob/{durable}` streams the body into a file and,
/// when `durable` is `sync`, fsyncs it before answering (the core's server makes
/// a verified photo durable before it answers its last chunk; `nosync` does not).
async fn plain_put_server(dir: &Path) -> std::net::SocketAddr {
    use axum::body::Body;
    use axum::extract::Path as UrlPath;
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let dir = Arc::new(dir.to_path_buf());
    let app = axum::Router::new().route(
        "/blob/{durable}",
        axum::routing::put(move |UrlPath(durable): UrlPath<String>, body: Body| {
            let target = dir.join(format!("put-{durable}.bin"));
            async move {
                let mut f = tokio::fs::File::create(&target).await.expect("create");
                let mut s = body.into_data_stream();
                while let Some(chunk) = s.next().await {
                    f.write_all(&chunk.expect("body")).await.expect("write");
                }
                f.flush().await.expect("flush");
                if durable == "sync" {
                    f.sync_all().await.expect("fsync");
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

/// One plain PUT of `bytes` to `/blob/{durable}`.
async fn plain_put(http: &reqwest::Client, addr: std::net::SocketAddr, durable: &str, bytes: &bytes::Bytes) -> Timed {
    let (t, cpu) = (Instant::now(), cpu_ns());
    let r = http.put(format!("http://{addr}/blob/{durable}")).body(bytes.clone()).send().await.expect("put");
    assert!(r.status().is_success());
    Timed { wall: t.elapsed().as_secs_f64(), cpu: cpu_ns().saturating_sub(cpu) as f64 / 1e9 }
}

/// CPU seconds `work` takes on the calling thread, median of `ROUNDS` runs.
fn cpu_of(mut work: impl FnMut() -> u64) -> f64 {
    let mut v = Vec::new();
    let mut sink = 0u64;
    for _ in 0..ROUNDS {
        let before = thread_cpu_ns();
        sink = sink.wrapping_add(work());
        v.push(thread_cpu_ns().saturating_sub(before) as f64 / 1e9);
    }
    std::hint::black_box(sink);
    median(v)
}

/// The per-byte work the core's upload of `bytes` cannot skip, as CPU seconds,
/// each measured alone on the primitives the core and server use: the server's
/// SHA-256 of the whole photo (issue 3: the photo is kept only if it matches),
/// the phone decrypting its photo folder (issue 9: XChaCha20-Poly1305 segments
/// of 64 KiB), and a CRC-32 chunk checksum computed on each side (issue 3: a
/// damaged chunk is refused with 460). A lower bound: reading the photo file,
/// requests and fsync are left out.
struct Floor {
    sha256: f64,
    decrypt: f64,
    crc32: f64,
}

fn floor_work(bytes: &[u8]) -> Floor {
    use chacha20poly1305::aead::{AeadInPlace, KeyInit};
    use sha2::Digest;
    const SEGMENT: usize = 64 * 1024;
    let cipher = chacha20poly1305::XChaCha20Poly1305::new(&[7u8; 32].into());
    let nonce = chacha20poly1305::XNonce::from([1u8; 24]);
    let sealed: Vec<Vec<u8>> = bytes
        .chunks(SEGMENT)
        .map(|s| {
            let mut b = s.to_vec();
            cipher.encrypt_in_place(&nonce, b"", &mut b).expect("seal");
            b
        })
        .collect();
    let mut buf = Vec::with_capacity(SEGMENT + 16);
    Floor {
        sha256: cpu_of(|| u64::from(sha2::Sha256::digest(bytes)[0])),
        decrypt: cpu_of(|| {
            let mut n = 0;
            for s in &sealed {
                buf.clear();
                buf.extend_from_slice(s);
                cipher.decrypt_in_place(&nonce, b"", &mut buf).expect("open");
                n += buf.len() as u64;
            }
            n
        }),
        crc32: cpu_of(|| u64::from(crc32fast::hash(bytes))),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Child process: one phone uploads one photo of `size` bytes; prints VmHWM.
fn rss_child(args: &[String]) {
    let (url, user, password, size, dir) = (&args[0], &args[1], &args[2], &args[3], &args[4]);
    let size: usize = size.parse().expect("size");
    let dir = Path::new(dir);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let photo = dir.join("photo.jpg");
        write_photo(&photo, size, size as u64);
        let (p, visit) = ready_phone(&dir.join("phone"), url, user, password).await;
        let before = vm_hwm_kib();
        core_upload(&p, visit, &photo).await;
        println!("VMHWM_KIB {} BEFORE_KIB {}", vm_hwm_kib(), before);
    });
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let chunk = args.iter().position(|a| a == "--chunk-mib").map(|i| {
        let mib = args.get(i + 1).and_then(|v| v.parse::<u32>().ok()).expect("--chunk-mib N");
        args.drain(i..i + 2);
        mib
    });
    CHUNK_MIB.set(chunk).expect("set once");
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        rss_child(&args[i + 1..]);
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let work = tempfile::tempdir().expect("tmp");
    let data = work.path().join("server");
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::write(data.join("policy.toml"), policy().to_toml()).expect("policy");
    let server = TestServer::start(&data).await.expect("server");
    let url = server.url();
    let cred = server.cred(LEADER).expect("cred");
    let size = 20 * MB;

    // 1. throughput: core upload vs plain PUT, alternating, same bytes per round
    let (phone, visit) = ready_phone(&work.path().join("phone"), &url, &cred.username, &cred.password).await;
    let put_addr = plain_put_server(work.path()).await;
    let http = reqwest::Client::new();
    let (mut core_s, mut put_s, mut nosync_s) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=ROUNDS {
        let photo = work.path().join(format!("photo{round}.jpg"));
        write_photo(&photo, size, 1000 + round as u64);
        let bytes = bytes::Bytes::from(std::fs::read(&photo).expect("read"));
        let nosync = plain_put(&http, put_addr, "nosync", &bytes).await;
        let put = plain_put(&http, put_addr, "sync", &bytes).await;
        drop(bytes);
        let core = core_upload(&phone, visit, &photo).await;
        if round > 0 {
            // round 0 warms up every path
            nosync_s.push(nosync);
            put_s.push(put);
            core_s.push(core);
        }
        std::fs::remove_file(&photo).ok();
    }
    let walls = |v: &[Timed]| v.iter().map(|t| t.wall).collect::<Vec<f64>>();
    let cpus = |v: &[Timed]| v.iter().map(|t| t.cpu).collect::<Vec<f64>>();
    let (core, put, nosync) = (median(walls(&core_s)), median(walls(&put_s)), median(walls(&nosync_s)));
    let mbps = |s: f64| size as f64 / MB as f64 / s;
    let chunk = options().upload_chunk_bytes;
    println!("largest chunk: {} MiB", chunk / (1024 * 1024));
    println!("20 MB upload over loopback, median of {ROUNDS} rounds (CPU: all threads, phone and server alike)");
    for (name, m, v) in [
        ("core (tus, adaptive chunks)", core, &core_s),
        ("plain PUT -> file + fsync", put, &put_s),
        ("plain PUT -> file, no fsync", nosync, &nosync_s),
    ] {
        println!(
            "  {name:<28} {m:.3} s = {:>6.1} MB/s, CPU {:.3} s   (all: {:.3?})",
            mbps(m),
            median(cpus(v)),
            walls(v)
        );
    }
    println!(
        "  throughput ratio core / (PUT + fsync): {:.2}   <- the goal's baseline (issue 24: the durable PUT)",
        put / core
    );
    println!("  throughput ratio core / (PUT, no fsync): {:.2}", nosync / core);

    // 2. the floor: the plain PUT's CPU plus the per-byte work the core must
    // add, on every core at once with no protocol cost
    let last = work.path().join("floor.bin");
    write_photo(&last, size, 999);
    let floor = floor_work(&std::fs::read(&last).expect("read"));
    std::fs::remove_file(&last).ok();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let put_cpu = median(cpus(&nosync_s));
    let must = put_cpu + floor.sha256 + floor.decrypt + 2.0 * floor.crc32;
    let best = (must / cores).max(nosync);
    let ms = |s: f64| s * 1e3;
    println!(
        "floor on {cores} cores: CPU of the plain PUT {:.1} ms + SHA-256 {:.1} ms + decrypt {:.1} ms + 2 x CRC-32 {:.1} ms = {:.1} ms",
        ms(put_cpu),
        ms(floor.sha256),
        ms(floor.decrypt),
        ms(2.0 * floor.crc32),
        ms(must)
    );
    println!(
        "  at best {best:.3} s (every core busy, no requests, no file read, no fsync): ratio core / (PUT, no fsync) <= {:.2}; the core reaches {:.0} % of that bound",
        nosync / best,
        100.0 * best / core
    );

    // 3. peak RSS of the phone core per photo size, one child process each
    let exe = std::env::current_exe().expect("exe");
    for size in [5 * MB, 50 * MB] {
        let dir = tempfile::tempdir().expect("tmp");
        let out = Command::new(&exe)
            .args(["--rss-child", &url, &cred.username, &cred.password, &size.to_string()])
            .arg(dir.path())
            .args(["--chunk-mib", &(chunk / (1024 * 1024)).to_string()])
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "child failed: {}", String::from_utf8_lossy(&out.stderr));
        let line = text.lines().find(|l| l.starts_with("VMHWM_KIB")).unwrap_or("");
        let f: Vec<&str> = line.split_whitespace().collect();
        let (peak, before): (u64, u64) =
            (f.get(1).and_then(|v| v.parse().ok()).unwrap_or(0), f.get(3).and_then(|v| v.parse().ok()).unwrap_or(0));
        println!(
            "peak RSS uploading a {} MB photo: {:.1} MiB (before the attach: {:.1} MiB)",
            size / MB,
            peak as f64 / 1024.0,
            before as f64 / 1024.0
        );
    }
}
