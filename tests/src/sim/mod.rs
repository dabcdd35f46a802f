//! The field simulator (`fengqiao-sim`): a county of phones recording and
//! syncing against one server.
//!
//! Each simulated device is a real phone core ([`fengqiao_core::FieldClient`]) with
//! its own store (in memory, or sled on disk) and device id, signed in as a grid
//! head. In a **steady** phase every device, at its own random phase, records a
//! few ops and syncs once per interval (or, with the offline chance, stays out of
//! signal and keeps them queued). In a **burst** every device records a batch
//! offline and then all come back into signal within a short window. A **ramp**
//! runs steady steps at rising sync rates. At the end every device drains its
//! queue and the [`check`] compares what the server holds with what the devices
//! recorded.

pub mod baseline;
pub mod check;
pub mod county;
pub mod device;
pub mod stats;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fengqiao_domain::EntityKind;
use indicatif::ProgressBar;
use uuid::Uuid;

pub use device::{Device, Workload};
pub use stats::{Counts, Tally};

/// A sign-in for a device.
#[derive(Debug, Clone)]
pub struct Login {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Which store the simulated phones keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// `MemoryClientStore`: light enough for a thousand phones in one process.
    Memory,
    /// `SledClientStore` on disk, as on a real phone (one sled database each).
    Sled,
}

/// One phase's counters and wall time.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Name in the summary.
    pub name: String,
    /// Counters.
    pub counts: Counts,
    /// Wall time, seconds.
    pub secs: f64,
}

/// Signs every device in (at most `concurrency` at a time) and pulls its
/// jurisdiction. Devices get directories under `dir`.
pub async fn start_devices(
    url: &str,
    logins: &[Login],
    store: StoreKind,
    dir: &Path,
    seed: u64,
    concurrency: usize,
    bar: Option<&ProgressBar>,
) -> anyhow::Result<Vec<Device>> {
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let tasks: Vec<_> = logins
        .iter()
        .enumerate()
        .map(|(i, login)| {
            let (sem, url, login, dir) =
                (sem.clone(), url.to_string(), login.clone(), dir.join(format!("device-{i:04}")));
            tokio::spawn(async move {
                let _permit = sem.acquire_owned().await?;
                Device::start(i, &url, &login, store, dir, seed).await
            })
        })
        .collect();
    let mut devices = Vec::with_capacity(tasks.len());
    for t in tasks {
        devices.push(t.await??);
        if let Some(b) = bar {
            b.inc(1);
        }
    }
    Ok(devices)
}

/// Updates the bar's message from the tally until `stop` is set.
fn ticker(bar: Option<ProgressBar>, tally: Arc<Tally>, name: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(bar) = bar else { return };
        let start = Instant::now();
        loop {
            let c = tally.snapshot_light();
            bar.set_position(start.elapsed().as_secs());
            bar.set_message(format!("{name}: {} syncs, {} ops recorded, {} applied, {} errors", c.0, c.1, c.2, c.3));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
}

/// Steady phase: each device records `w.ops` ops and syncs every `interval`, at a
/// random phase, for `duration`.
pub async fn steady(
    devices: Vec<Device>,
    duration: Duration,
    interval: Duration,
    w: Workload,
    name: &str,
    bar: Option<ProgressBar>,
) -> anyhow::Result<(Vec<Device>, Phase)> {
    let tally = Arc::new(Tally::default());
    let tick = ticker(bar, tally.clone(), name.to_string());
    let start = Instant::now();
    let end = start + duration;
    let tasks: Vec<_> = devices
        .into_iter()
        .map(|mut d| {
            let tally = tally.clone();
            tokio::spawn(async move {
                let phase = Duration::from_micros(d.rand_below(interval.as_micros() as u64));
                let mut k = 0u32;
                loop {
                    let at = start + phase + interval * k;
                    if at >= end {
                        break;
                    }
                    tokio::time::sleep_until(at.into()).await;
                    d.record(&w, w.ops, &tally).await;
                    if d.offline(w.offline) {
                        tally.offline();
                    } else {
                        let _ = d.sync(&tally).await;
                    }
                    k += 1;
                }
                d
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await?);
    }
    tick.abort();
    Ok((out, Phase { name: name.into(), counts: tally.snapshot(), secs: start.elapsed().as_secs_f64() }))
}

/// What the burst measured beyond its counters.
#[derive(Debug, Clone)]
pub struct BurstResult {
    /// The phase's counters.
    pub phase: Phase,
    /// Devices whose queue was empty by the deadline.
    pub done: usize,
    /// Devices in the burst.
    pub devices: usize,
    /// Time from the burst's start until the last device was done.
    pub last_done: Duration,
}

/// The evening burst: each device records `ops` ops out of signal, then all come
/// back within `window` (each at a random moment) and sync until their queue is
/// empty; a device still not done at `deadline` after the start counts as failed.
pub async fn burst(
    devices: Vec<Device>,
    ops: usize,
    window: Duration,
    deadline: Duration,
    w: Workload,
    bar: Option<ProgressBar>,
) -> anyhow::Result<(Vec<Device>, BurstResult)> {
    let tally = Arc::new(Tally::default());
    // Recorded while out of signal, before anyone comes back.
    let mut offline = Vec::with_capacity(devices.len());
    for mut d in devices {
        d.record(&w, ops, &tally).await;
        offline.push(d);
    }
    let tick = ticker(bar, tally.clone(), "burst".into());
    let start = Instant::now();
    let tasks: Vec<_> = offline
        .into_iter()
        .map(|mut d| {
            let tally = tally.clone();
            tokio::spawn(async move {
                let at = start + Duration::from_micros(d.rand_below(window.as_micros() as u64));
                tokio::time::sleep_until(at.into()).await;
                let mut done = None;
                while start.elapsed() < deadline {
                    if d.sync(&tally).await.is_ok() {
                        if let Ok(s) = d.client.sync_status() {
                            if s.pending_ops == 0 {
                                done = Some(start.elapsed());
                                break;
                            }
                        }
                    } else {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                (d, done)
            })
        })
        .collect();
    let (mut out, mut done, mut last) = (Vec::new(), 0, Duration::ZERO);
    for t in tasks {
        let (d, finished) = t.await?;
        if let Some(at) = finished {
            done += 1;
            last = last.max(at);
        }
        out.push(d);
    }
    tick.abort();
    let n = out.len();
    let phase = Phase { name: "burst".into(), counts: tally.snapshot(), secs: start.elapsed().as_secs_f64() };
    Ok((out, BurstResult { phase, done, devices: n, last_done: last }))
}

/// Every device syncs until its queue (ops and photos) is empty. Returns the
/// phase and the devices that could not drain.
pub async fn drain(devices: Vec<Device>) -> anyhow::Result<(Vec<Device>, Phase, usize)> {
    let tally = Arc::new(Tally::default());
    let start = Instant::now();
    let tasks: Vec<_> = devices
        .into_iter()
        .map(|d| {
            let tally = tally.clone();
            tokio::spawn(async move {
                let ok = d.drain(&tally, 10).await;
                (d, ok)
            })
        })
        .collect();
    let (mut out, mut stuck) = (Vec::new(), 0);
    for t in tasks {
        let (d, ok) = t.await?;
        stuck += usize::from(!ok);
        out.push(d);
    }
    Ok((out, Phase { name: "drain".into(), counts: tally.snapshot(), secs: start.elapsed().as_secs_f64() }, stuck))
}

/// Everything the devices recorded.
pub fn recorded(devices: &[Device]) -> Vec<(EntityKind, Uuid)> {
    devices.iter().flat_map(|d| d.recorded.iter().copied()).collect()
}
