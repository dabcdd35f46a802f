//! Battery proxies of issue 24 (a bench binary, not a timed test). The phone
//! runs in a child process of its own (this binary re-executed with
//! `--phone`), so its CPU time (`CLOCK_PROCESS_CPUTIME_ID`) and memory are the
//! phone's alone; the real server runs in this process on `127.0.0.1:0`.
//!
//! 1. **Sizing one 12-megapixel photo** (4,000 × 3,000, generated here: a
//!    camera-like JPEG at quality 92 with EXIF orientation, maker and GPS):
//!    the CPU time and wall time of `attach_photo` with the seed policy
//!    (sized to 1,600 px, quality 80), side by side with the same photo
//!    attached as taken (`photos.originals_for = ["record"]`: copied and
//!    encrypted only), three photos each, and the peak heap during the sized
//!    attach (a counting allocator: the most bytes allocated at once, less
//!    what was allocated before) with the process's `VmHWM`. Goal: peak ≤ 64 MB.
//! 2. **A background sync with nothing to do** (nothing to push, pull or
//!    upload; the policy fetched as usual): CPU time per sync, median of 30
//!    after 3 warm-ups, side by side with one plain HTTP `GET /healthz`
//!    on a fresh client (the least a wake-up that touches the network costs).
//!
//! Run: `cargo bench -p fengqiao-tests --bench battery` (figures in docs/BENCHMARKS.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fengqiao_core::{ClientOptions, FieldClient, NewPhoto, NewVisit, RetryPolicy};
use fengqiao_domain::policy::{PhotoPurpose, Policy};
use fengqiao_domain::{EntityKind, VisitKind};
use fengqiao_tests::photos::camera_jpeg;
use fengqiao_tests::TestServer;

/// Counts the heap in use and its peak (reset before a measured step).
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = IN_USE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const LEADER: &str = "leader.t1v1g1";
const MIB: f64 = 1024.0 * 1024.0;

fn cpu_s() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn vm_hwm_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn options(as_taken: bool) -> ClientOptions {
    let mut policy = Policy::default();
    if as_taken {
        policy.photos.originals_for = vec![PhotoPurpose::Record];
    }
    ClientOptions {
        policy,
        // the phone keeps its own policy: the two phones differ only in it
        adopt_server_policy: false,
        request_timeout: Duration::from_secs(60),
        retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::default() },
        ..ClientOptions::default()
    }
}

async fn ready_phone(dir: &Path, url: &str, user: &str, pw: &str, as_taken: bool) -> (FieldClient, uuid::Uuid) {
    let p = FieldClient::open(
        dir.to_string_lossy().into_owned(),
        url.into(),
        fengqiao_tests::phone::store_key(),
        options(as_taken),
    )
    .expect("open phone");
    p.login(user.into(), pw.into()).await.expect("login");
    p.sync().await.expect("first sync");
    let h = p.households().expect("households").remove(0);
    let v = p
        .record_visit(NewVisit {
            household_id: h.id,
            body: None,
            kind: VisitKind::Routine,
            visited_at: None,
            notes: "电池基准".into(),
            location: None,
            leads: vec![],
        })
        .expect("visit");
    p.sync().await.expect("sync the visit");
    (p, v.id)
}

fn attach(p: &FieldClient, visit: uuid::Uuid, path: &Path) -> u64 {
    p.attach_photo(NewPhoto {
        target_kind: EntityKind::Visit,
        target_id: visit,
        source_path: path.to_string_lossy().into_owned(),
        content_type: "image/jpeg".into(),
        caption: String::new(),
    })
    .expect("attach")
    .length
}

/// The phone's side, in its own process: prints one line of figures per step.
fn phone(args: &[String]) {
    let (url, user, pw, photos) = (&args[0], &args[1], &args[2], Path::new(&args[3]));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let work = tempfile::tempdir().expect("tmp");
        let (sized, v1) = ready_phone(&work.path().join("sized"), url, user, pw, false).await;
        let (taken, v2) = ready_phone(&work.path().join("taken"), url, user, pw, true).await;

        // 1. sizing, three photos, alternating with the copy as taken
        let (mut cpu_sized, mut cpu_taken, mut wall_sized, mut wall_taken) = (vec![], vec![], vec![], vec![]);
        let (mut peak, mut bytes_sized, mut bytes_taken) = (0usize, 0u64, 0u64);
        let hwm_before = vm_hwm_mib();
        for i in 0..3 {
            let path = photos.join(format!("camera{i}.jpg"));
            let base = IN_USE.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let (c, t) = (cpu_s(), Instant::now());
            bytes_sized = attach(&sized, v1, &path);
            wall_sized.push(t.elapsed().as_secs_f64());
            cpu_sized.push(cpu_s() - c);
            peak = peak.max(PEAK.load(Ordering::Relaxed).saturating_sub(base));
            let (c, t) = (cpu_s(), Instant::now());
            bytes_taken = attach(&taken, v2, &path);
            wall_taken.push(t.elapsed().as_secs_f64());
            cpu_taken.push(cpu_s() - c);
        }
        println!(
            "SIZE cpu_sized {:.3} cpu_taken {:.3} wall_sized {:.3} wall_taken {:.3} peak_mib {:.1} hwm_before {:.1} hwm_after {:.1} bytes_sized {} bytes_taken {}",
            median(cpu_sized),
            median(cpu_taken),
            median(wall_sized),
            median(wall_taken),
            peak as f64 / MIB,
            hwm_before,
            vm_hwm_mib(),
            bytes_sized,
            bytes_taken
        );
        // upload them so the next syncs have nothing to do
        sized.sync().await.expect("upload");
        taken.sync().await.expect("upload");

        // 2. the no-op background sync
        for _ in 0..3 {
            sized.sync().await.expect("warm-up");
        }
        let (mut cpu, mut wall) = (vec![], vec![]);
        for _ in 0..30 {
            let (c, t) = (cpu_s(), Instant::now());
            let r = sized.sync().await.expect("no-op sync");
            wall.push(t.elapsed().as_secs_f64());
            cpu.push(cpu_s() - c);
            assert_eq!((r.pushed_applied, r.photos_uploaded), (0, 0), "nothing to do");
        }
        let (mut get_cpu, mut get_wall) = (vec![], vec![]);
        for _ in 0..30 {
            let (c, t) = (cpu_s(), Instant::now());
            let http = reqwest::Client::new();
            let status = http.get(format!("{url}/healthz")).send().await.expect("GET").status();
            get_wall.push(t.elapsed().as_secs_f64());
            get_cpu.push(cpu_s() - c);
            assert!(status.is_success(), "{status}");
        }
        println!(
            "NOOP cpu_ms {:.2} wall_ms {:.2} get_cpu_ms {:.2} get_wall_ms {:.2}",
            median(cpu) * 1e3,
            median(wall) * 1e3,
            median(get_cpu) * 1e3,
            median(get_wall) * 1e3
        );
    });
}

fn field(line: &str, name: &str) -> f64 {
    let f: Vec<&str> = line.split_whitespace().collect();
    f.iter().position(|w| *w == name).and_then(|i| f.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--phone") {
        phone(&args[i + 1..]);
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let work = tempfile::tempdir().expect("tmp");
        let data = work.path().join("server");
        std::fs::create_dir_all(&data).expect("data dir");
        let server = TestServer::start(&data).await.expect("server");
        let cred = server.cred(LEADER).expect("cred");
        let photos = work.path().join("photos");
        std::fs::create_dir_all(&photos).expect("photos");
        let mut taken_len = 0;
        for (i, orientation) in [1u16, 6, 8].into_iter().enumerate() {
            let jpeg = camera_jpeg(4000, 3000, orientation, true);
            taken_len = jpeg.len();
            std::fs::write(photos.join(format!("camera{i}.jpg")), jpeg).expect("write");
        }
        let exe = std::env::current_exe().expect("exe");
        let url = server.url();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(exe)
                .args(["--phone", &url, &cred.username, &cred.password])
                .arg(&photos)
                .output()
                .expect("phone process")
        })
        .await
        .expect("join");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "phone failed: {}\n{text}", String::from_utf8_lossy(&out.stderr));
        let size = text.lines().find(|l| l.starts_with("SIZE")).expect("sizing figures");
        let noop = text.lines().find(|l| l.starts_with("NOOP")).expect("no-op figures");
        println!("12-megapixel camera JPEG (4000 x 3000, quality 92): {taken_len} bytes; median of 3");
        let (cs, ct) = (field(size, "cpu_sized"), field(size, "cpu_taken"));
        println!(
            "  attach, sized (1600 px, q80): CPU {cs:.3} s, wall {:.3} s -> {} bytes",
            field(size, "wall_sized"),
            field(size, "bytes_sized")
        );
        println!(
            "  attach, as taken:             CPU {ct:.3} s, wall {:.3} s -> {} bytes",
            field(size, "wall_taken"),
            field(size, "bytes_taken")
        );
        println!(
            "  ratios sized / as taken: CPU {:.1}, bytes to upload {:.3}",
            cs / ct,
            field(size, "bytes_sized") / field(size, "bytes_taken")
        );
        let peak = field(size, "peak_mib");
        println!(
            "  peak heap while sizing: {peak:.1} MiB = {:.1} MB (goal <= 64 MB: {}); VmHWM {:.1} -> {:.1} MiB",
            peak * MIB / 1e6,
            if peak * MIB <= 64e6 { "met" } else { "NOT met" },
            field(size, "hwm_before"),
            field(size, "hwm_after")
        );
        let (c, g) = (field(noop, "cpu_ms"), field(noop, "get_cpu_ms"));
        println!(
            "background sync with nothing to do: CPU {c:.2} ms, wall {:.2} ms (median of 30); one plain GET /healthz on a new client: CPU {g:.2} ms, wall {:.2} ms; ratio {:.1}",
            field(noop, "wall_ms"),
            field(noop, "get_wall_ms"),
            c / g
        );
    });
}
