//! `fengqiao-sim`: simulates a county of phones against a Fengqiao server.
//!
//! ```text
//! # against the demo server you started (devices share its group leaders):
//! cargo run --release -p fengqiao-tests --bin fengqiao-sim -- \
//!     --url http://127.0.0.1:8080 --credentials demo-data/demo-credentials.json
//! # self-contained, with the load run of issue 11 (1,000 phones, 2 min + burst):
//! cargo run --release -p fengqiao-tests --bin fengqiao-sim -- --load
//! ```
//! Prints a summary (syncs, ops, duplicates, rejections, latency percentiles,
//! errors) and checks that the server holds exactly what the phones recorded;
//! exits 1 when that check fails, 2 on a setup error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fengqiao_tests::sim::check::{self, Snapshot};
use fengqiao_tests::sim::county::{self, Spawned};
use fengqiao_tests::sim::stats::{summary_header, summary_line};
use fengqiao_tests::sim::{self, baseline, Phase, StoreKind, Workload};
use indicatif::{ProgressBar, ProgressStyle};

/// Simulates grid heads' phones recording and syncing against a server.
#[derive(Debug, Parser)]
#[command(name = "fengqiao-sim", version)]
struct Args {
    /// The server's base URL (devices share the demo group leaders from --credentials).
    #[arg(long, conflicts_with = "spawn_server")]
    url: Option<String>,
    /// The server's demo-credentials.json (with --url).
    #[arg(long, default_value = "demo-data/demo-credentials.json")]
    credentials: PathBuf,
    /// Start a server in this process on a temporary data dir (or --data), with a
    /// simulated town: one group and one grid head per device.
    #[arg(long)]
    spawn_server: bool,
    /// Data dir of the spawned server (default: a temporary dir, removed after).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Simulated phones.
    #[arg(long, default_value_t = 20)]
    devices: usize,
    /// Length of the steady phase, seconds (0: none).
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Seconds between a phone's syncs.
    #[arg(long, default_value_t = 10.0)]
    interval: f64,
    /// Ops a phone records before each sync.
    #[arg(long, default_value_t = 5)]
    ops_per_sync: usize,
    /// Chance that a phone is out of signal at a sync time (it keeps its ops queued).
    #[arg(long, default_value_t = 0.1)]
    offline: f64,
    /// Attach a small photo every third round (uploaded with tus).
    #[arg(long)]
    photos: bool,
    /// Record no disputes (by default one in every fourth round).
    #[arg(long)]
    no_disputes: bool,
    /// The phones' store: memory (light, for hundreds of phones) or sled (as on a phone).
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    store: StoreKind,
    /// Evening burst after the steady phase: ops each phone queues offline (0: no burst).
    #[arg(long, default_value_t = 0)]
    burst_ops: usize,
    /// All phones come back into signal within this many seconds.
    #[arg(long, default_value_t = 10.0)]
    burst_window: f64,
    /// A phone not done this many seconds after the burst began counts as failed.
    #[arg(long, default_value_t = 30.0)]
    burst_deadline: f64,
    /// Ramp: comma-separated sync rates (syncs/s over all phones), each run as a
    /// steady step of --ramp-step seconds.
    #[arg(long, value_delimiter = ',')]
    ramp: Vec<f64>,
    /// Seconds per ramp step.
    #[arg(long, default_value_t = 30.0)]
    ramp_step: f64,
    /// Measure an axum hello-world's requests/s in the same run.
    #[arg(long)]
    baseline: bool,
    /// The load run of issue 11: --spawn-server --devices 1000 --duration 120
    /// --interval 30 --ops-per-sync 5 --offline 0 --burst-ops 20 --baseline.
    #[arg(long)]
    load: bool,
    /// Phones signing in at once during setup.
    #[arg(long, default_value_t = 16)]
    setup_concurrency: usize,
    /// Seed of the phones' choices.
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn bar(args: &Args, len: u64, template: &str) -> Option<ProgressBar> {
    if args.quiet {
        return None;
    }
    let b = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        b.set_style(style);
    }
    Some(b)
}

const PHASE_BAR: &str = "[{elapsed_precise}] {bar:30} {pos}/{len} s  {msg}";

fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.load {
        args.spawn_server = true;
        args.devices = 1000;
        args.duration = 120.0;
        args.interval = 30.0;
        args.ops_per_sync = 5;
        args.offline = 0.0;
        args.burst_ops = 20;
        args.baseline = true;
    }
    if args.url.is_none() && !args.spawn_server {
        eprintln!("fengqiao-sim: give --url URL (a running server) or --spawn-server");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("fengqiao-sim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<bool> {
    let tmp = tempfile::tempdir()?;
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("phones").enable_all().build()?;
    let (spawned, url, logins) = if args.spawn_server {
        let data = args.data.clone().unwrap_or_else(|| tmp.path().join("server"));
        eprintln!("starting a server on {} with {} simulated grid heads…", data.display(), args.devices);
        let (s, logins) = Spawned::start(&data, args.devices)?;
        let url = s.server.url();
        (Some(s), url, logins)
    } else {
        let url = args.url.clone().unwrap_or_default();
        (None, url.clone(), county::demo_logins(&args.credentials, args.devices)?)
    };
    let snapshot = |spawned: &Option<Spawned>| -> anyhow::Result<Snapshot> {
        match spawned {
            Some(s) => check::snapshot_store(s.server.state()?.store.as_ref(), s.town),
            None => rt.block_on(check::snapshot_api(&url, &logins)),
        }
    };
    let before = snapshot(&spawned)?;
    let w =
        Workload { ops: args.ops_per_sync, offline: args.offline, photos: args.photos, disputes: !args.no_disputes };
    let mut phases: Vec<Phase> = Vec::new();
    let mut burst_result = None;
    let mut hello = None;
    let (devices, stuck) = rt.block_on(async {
        let setup =
            bar(args, logins.len() as u64, "[{elapsed_precise}] {bar:30} {pos}/{len} phones signed in and synced");
        let devices = sim::start_devices(
            &url,
            &logins,
            args.store,
            tmp.path(),
            args.seed,
            args.setup_concurrency,
            setup.as_ref(),
        )
        .await?;
        if let Some(b) = setup {
            b.finish();
        }
        if args.baseline {
            let server_rt = match &spawned {
                Some(s) => s.runtime.handle().clone(),
                None => tokio::runtime::Handle::current(),
            };
            hello = Some(baseline::hello_world_rps(&server_rt, 64, 5.0).await?);
        }
        let mut devices = devices;
        if args.duration > 0.0 {
            let b = bar(args, args.duration as u64, PHASE_BAR);
            let (d, p) = sim::steady(devices, secs(args.duration), secs(args.interval), w, "steady", b.clone()).await?;
            finish(b);
            devices = d;
            phases.push(p);
        }
        for rate in &args.ramp {
            let interval = secs(devices.len() as f64 / rate.max(0.001));
            let b = bar(args, args.ramp_step as u64, PHASE_BAR);
            let name = format!("ramp {rate}/s");
            let (d, p) = sim::steady(devices, secs(args.ramp_step), interval, w, &name, b.clone()).await?;
            finish(b);
            devices = d;
            phases.push(p);
        }
        if args.burst_ops > 0 {
            let b = bar(args, args.burst_deadline as u64, PHASE_BAR);
            let (d, r) =
                sim::burst(devices, args.burst_ops, secs(args.burst_window), secs(args.burst_deadline), w, b.clone())
                    .await?;
            finish(b);
            devices = d;
            phases.push(r.phase.clone());
            burst_result = Some(r);
        }
        let (devices, p, stuck) = sim::drain(devices).await?;
        phases.push(p);
        anyhow::Ok((devices, stuck))
    })?;
    let after = snapshot(&spawned)?;
    let recorded = sim::recorded(&devices);
    let consistency = check::compare(&before, &after, &recorded);

    println!();
    println!(
        "{} phones ({:?} stores) against {url}; {} ops per sync, offline chance {}, photos {}, disputes {}",
        devices.len(),
        args.store,
        args.ops_per_sync,
        args.offline,
        args.photos,
        !args.no_disputes
    );
    println!("{}", summary_header());
    for p in &phases {
        println!("{}", summary_line(&p.name, &p.counts, p.secs));
    }
    let record_errors: u64 = phases.iter().flat_map(|p| p.counts.record_errors.values()).sum();
    if record_errors > 0 {
        let list: Vec<String> = phases
            .iter()
            .flat_map(|p| p.counts.record_errors.iter().map(|(k, v)| format!("{}: {k} {v}", p.name)))
            .collect();
        println!("ops the phones refused to record: {}", list.join(", "));
    }
    if let Some(b) = &burst_result {
        println!(
            "burst: {}/{} phones done; the last after {:.1} s (deadline {} s)",
            b.done,
            b.devices,
            b.last_done.as_secs_f64(),
            args.burst_deadline
        );
    }
    if let Some(rps) = hello {
        println!("axum hello-world on the same machine: {rps:.0} requests/s (64 keep-alive clients, 5 s)");
    }
    for p in phases.iter().filter(|p| p.name.starts_with("ramp") || p.name == "steady") {
        let ok = p.counts.errors() == 0 && p.counts.percentile_ms(0.99) <= 200.0;
        println!(
            "{}: {:.1} syncs/s sustained, p99 {:.0} ms{}",
            p.name,
            p.counts.syncs as f64 / p.secs,
            p.counts.percentile_ms(0.99),
            if ok { " (within 200 ms, no errors)" } else { " (over budget or errors)" }
        );
    }
    if stuck > 0 {
        println!("{stuck} phones could not empty their queue");
    }
    println!(
        "consistency: {} recorded on the phones, {} new on the server ({} derived; by kind: {}); missing {}, \
         unexpected {}, duplicated {} → {}",
        consistency.recorded,
        consistency.new_on_server,
        consistency.derived,
        consistency.by_kind.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "),
        consistency.missing.len(),
        consistency.unexpected.len(),
        consistency.duplicated.len(),
        if consistency.ok() { "OK" } else { "FAILED" }
    );
    drop(rt);
    if let Some(s) = spawned {
        s.stop()?;
    }
    Ok(consistency.ok() && stuck == 0)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn finish(b: Option<ProgressBar>) {
    if let Some(b) = b {
        b.finish_and_clear();
    }
}
