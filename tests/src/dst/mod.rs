//! The deterministic simulator (`fengqiao-dst`, ADR 0039): one server and a
//! county's phones in one process, on turmoil's simulated network and clock,
//! everything that decides an interleaving drawn from one seed.
//!
//! The server is the real router (`fengqiao_server::http::router`) over a
//! [`MemoryStore`] served on turmoil's `TcpListener`; a server restart drops
//! everything but the store (what a commit made durable). Each phone is a real
//! phone core (`FieldClient`) on a memory store of its own, reaching the
//! server through the core's transport seam ([`net::SimTransport`]); a phone
//! restart drops the core and keeps the store. From the seed: the links'
//! latency, each phone's cuts (mid-request, after the commit, mid-answer),
//! crashes of the app mid-sync and restarts, partitions of single phones,
//! server crashes and restarts, each phone's clock skew, and every user's
//! actions through the day (visits, reports, escalations, two approvers
//! deciding the same request, sessions, closings). After the day every queue
//! drains and [`check`] tests the invariants; a violation prints the command
//! that replays the seed and the trace that led to it.

pub mod check;
pub mod county;
pub mod net;
pub mod phone;
pub mod trace;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fengqiao_server::store::MemoryStore;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use self::net::{Cuts, SimListener, SERVER};
use self::phone::{PhoneSpec, Shared};
use self::trace::Trace;

/// A deliberate server bug the simulator must find (`sim-bugs` feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bug {
    /// The op id check skipped: a re-sent op is applied again.
    SkipOpId,
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Everything else follows from it.
    pub seed: u64,
    /// The field day's length (simulated).
    pub day: Duration,
    /// Simulated time per step.
    pub tick: Duration,
    /// Network faults, crashes and restarts on (off: latency only).
    pub faults: bool,
    /// A deliberate server bug switched on for the run.
    pub bug: Option<Bug>,
}

impl Config {
    /// The standard run of `seed`: an eight-hour day with every fault.
    pub fn standard(seed: u64) -> Config {
        Config { seed, day: Duration::from_secs(8 * 3600), tick: Duration::from_millis(100), faults: true, bug: None }
    }

    /// The command that replays this run exactly.
    pub fn replay_command(&self) -> String {
        let mut cmd = format!(
            "cargo run -p fengqiao-tests --bin fengqiao-dst -- --seed {} --day-minutes {} --tick-ms {}",
            self.seed,
            self.day.as_secs() / 60,
            self.tick.as_millis()
        );
        if !self.faults {
            cmd.push_str(" --no-faults");
        }
        if let Some(Bug::SkipOpId) = self.bug {
            cmd.push_str(" --bug skip-op-id");
        }
        cmd.push_str(" --trace");
        cmd
    }
}

/// What one run did and found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The run's settings.
    pub config: Config,
    /// Phones simulated.
    pub phones: usize,
    /// Events in the trace (users' actions, syncs, cuts, crashes, restarts, partitions).
    pub events: usize,
    /// Ops the users made.
    pub ops: usize,
    /// Simulation steps.
    pub steps: u64,
    /// Simulated time, the drain included.
    pub simulated: Duration,
    /// Wall time.
    pub wall: Duration,
    /// Invariant violations (empty: the run passed).
    pub violations: Vec<String>,
    /// The trace.
    pub trace: Vec<String>,
}

impl Report {
    /// Simulated seconds per wall second.
    pub fn speedup(&self) -> f64 {
        self.simulated.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }

    /// The failure as a person reads it: the violations, the replay command
    /// and the trace's last `tail` lines.
    pub fn failure(&self, tail: usize) -> String {
        let mut s = format!("seed {} violated {} invariant(s):\n", self.config.seed, self.violations.len());
        for v in self.violations.iter().take(20) {
            s.push_str(&format!("  - {v}\n"));
        }
        s.push_str(&format!("replay: {}\n", self.config.replay_command()));
        // The story of each record a violation names (`V115`, `D11`, `E9`).
        let named: std::collections::BTreeSet<&str> = self
            .violations
            .iter()
            .take(5)
            .flat_map(|v| v.split(|c: char| !c.is_ascii_alphanumeric()))
            .filter(|w| {
                w.len() > 1
                    && w[..1].chars().all(|c| c.is_ascii_uppercase())
                    && w[1..].chars().all(|c| c.is_ascii_digit())
            })
            .collect();
        if !named.is_empty() {
            let story: Vec<&String> = self
                .trace
                .iter()
                .filter(|l| l.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| named.contains(w)))
                .collect();
            s.push_str(&format!("the trace of {}:\n", named.iter().copied().collect::<Vec<_>>().join(", ")));
            for line in story.iter().take(80) {
                s.push_str(&format!("  {line}\n"));
            }
        }
        s.push_str(&format!("the trace's last {} of {} events:\n", tail.min(self.trace.len()), self.trace.len()));
        for line in &self.trace[self.trace.len().saturating_sub(tail)..] {
            s.push_str(&format!("  {line}\n"));
        }
        s
    }
}

/// Longest the phones may take to drain after the day.
const DRAIN_BUDGET: Duration = Duration::from_secs(4 * 3600);

/// A scheduled fault.
#[derive(Debug, Clone, Copy)]
enum Fault {
    ServerDown,
    ServerUp,
    Cut(usize),
    Heal(usize),
}

/// The faults of a day, from the seed: two to four server crashes (down for
/// up to 1/48 of the day: ten minutes of eight hours), and partitions of single
/// phones (up to 1/8 of the day: an hour).
fn plan(rng: &mut StdRng, day: Duration, phones: usize) -> Vec<(Duration, Fault)> {
    let day = day.as_millis().max(1000) as u64;
    let mut out = Vec::new();
    for _ in 0..rng.gen_range(2..=4) {
        let at = rng.gen_range(day / 10..day * 9 / 10);
        out.push((Duration::from_millis(at), Fault::ServerDown));
        out.push((Duration::from_millis(at + rng.gen_range(1_000..1_000 + day / 48)), Fault::ServerUp));
    }
    for _ in 0..rng.gen_range(phones / 4..=phones / 2) {
        let phone = rng.gen_range(0..phones);
        let at = rng.gen_range(0..day * 9 / 10);
        out.push((Duration::from_millis(at), Fault::Cut(phone)));
        out.push((Duration::from_millis(at + rng.gen_range(10_000..10_000 + day / 8)), Fault::Heal(phone)));
    }
    out.sort_by_key(|(at, _)| *at);
    out
}

/// Switches a deliberate bug on for one run, off again when dropped.
struct BugSwitch(bool);

impl BugSwitch {
    fn on(bug: Option<Bug>) -> BugSwitch {
        let on = bug == Some(Bug::SkipOpId);
        fengqiao_server::sim_bugs::SKIP_OP_ID_CHECK.store(on, Ordering::SeqCst);
        BugSwitch(on)
    }
}

impl Drop for BugSwitch {
    fn drop(&mut self) {
        if self.0 {
            fengqiao_server::sim_bugs::SKIP_OP_ID_CHECK.store(false, Ordering::SeqCst);
        }
    }
}

/// The server's software: the router over the kept store, rebuilt on each start.
async fn serve(
    store: Arc<MemoryStore>,
    policy: Arc<fengqiao_domain::policy::Policy>,
    dir: std::path::PathBuf,
) -> turmoil::Result {
    let state = county::server_state(store, policy, &dir)?;
    // One request at a time: each handler's blocking work (argon2, the store)
    // runs on a thread of its own, and two finishing in a race would order the
    // answers, and the seed's draws after them, by the machine's whim.
    let app = fengqiao_server::http::router(state).layer(tower::limit::ConcurrencyLimitLayer::new(1));
    let listener = SimListener::bind().await?;
    // Without the peer's address (axum names it for tokio's listener only):
    // the sign-in limits per address do not apply, and the policy lifts them anyway.
    axum::serve(listener, app.into_make_service()).await?;
    Ok(())
}

/// Runs one seed to quiescence and checks the invariants.
pub fn run(config: &Config) -> anyhow::Result<Report> {
    let wall = Instant::now();
    let _bug = BugSwitch::on(config.bug);
    let (store, county) = county::seed()?;
    let policy = county::policy()?;
    let dir = tempfile::tempdir()?;
    let trace = Arc::new(Trace::default());
    for p in &county.people {
        trace.alias(p.id, &p.username);
    }
    let mut rng = StdRng::seed_from_u64(config.seed);
    let min_latency = Duration::from_millis(rng.gen_range(5..60));
    let max_latency = min_latency + Duration::from_millis(rng.gen_range(20..1500));
    let mut sim = turmoil::Builder::new()
        .rng_seed(config.seed)
        .tick_duration(config.tick)
        .simulation_duration(config.day + DRAIN_BUDGET)
        .min_message_latency(min_latency)
        .max_message_latency(max_latency)
        .build();
    let (s, p, d) = (store.clone(), policy.clone(), dir.path().to_path_buf());
    sim.host(SERVER, move || serve(s.clone(), p.clone(), d.clone()));
    let phones = county.people.len();
    let shared = Arc::new(Shared {
        trace: trace.clone(),
        county: Arc::new(county.clone()),
        day: config.day,
        t0: chrono::Utc::now() - chrono::Duration::days(2),
        made: Mutex::new(Vec::new()),
        dropped: Mutex::new(Vec::new()),
        drained: AtomicUsize::new(0),
        phones,
        finals: Mutex::new(Vec::new()),
    });
    let f = config.faults;
    for (index, person) in county.people.iter().enumerate() {
        let spec = PhoneSpec {
            index,
            person: person.clone(),
            seed: rng.gen(),
            skew: chrono::Duration::seconds(rng.gen_range(-6 * 3600..6 * 3600)),
            cuts: Cuts { cut_chance: if f { rng.gen_range(0.0..0.15) } else { 0.0 }, cut_within: max_latency * 4 },
            restart_chance: if f { 0.05 } else { 0.0 },
            crash_in_sync_chance: if f { 0.1 } else { 0.0 },
        };
        sim.client(format!("phone{index}"), phone::life(spec, shared.clone()));
    }
    trace.event_at(
        Duration::ZERO,
        "simulator",
        format!("seed {}: {phones} phones, latency {min_latency:?}..{max_latency:?}", config.seed),
    );
    let mut faults = if f { plan(&mut rng, config.day, phones) } else { Vec::new() }.into_iter().peekable();
    let mut violations = Vec::new();
    let mut steps = 0u64;
    loop {
        while let Some((_, fault)) = faults.next_if(|(at, _)| *at <= sim.elapsed()) {
            let at = sim.elapsed();
            match fault {
                Fault::ServerDown => {
                    sim.crash(SERVER);
                    trace.event_at(at, "simulator", "server crashed");
                }
                Fault::ServerUp => {
                    sim.bounce(SERVER);
                    trace.event_at(at, "simulator", "server restarted");
                }
                Fault::Cut(i) => {
                    sim.partition(format!("phone{i}"), SERVER);
                    trace.event_at(at, "simulator", format!("{} out of signal", county.people[i].username));
                }
                Fault::Heal(i) => {
                    sim.repair(format!("phone{i}"), SERVER);
                    trace.event_at(at, "simulator", format!("{} back in signal", county.people[i].username));
                }
            }
        }
        steps += 1;
        match sim.step() {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => {
                violations.push(format!("quiescence: the run did not finish: {e}"));
                break;
            }
        }
    }
    let simulated = sim.elapsed();
    drop(sim);
    if violations.is_empty() {
        violations.extend(check::at_quiescence(&store, &shared, &policy)?);
    }
    let ops = shared.made.lock().unwrap_or_else(|p| p.into_inner()).len();
    Ok(Report {
        config: config.clone(),
        phones,
        events: trace.len(),
        ops,
        steps,
        simulated,
        wall: wall.elapsed(),
        violations,
        trace: trace.lines(),
    })
}
