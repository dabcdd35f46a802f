//! `fengqiao-dst`: the deterministic simulator (not to be confused with the
//! load driver `fengqiao-sim`, which runs on the real network and clock).
//!
//! ```text
//! # 100 seeds from 1 (what the README's test command runs):
//! cargo run -p fengqiao-tests --bin fengqiao-dst -- --seeds 100
//! # one seed again, with its whole trace:
//! cargo run -p fengqiao-tests --bin fengqiao-dst -- --seed 42 --trace
//! # the deliberately broken server (op id check skipped) must be caught:
//! cargo run -p fengqiao-tests --bin fengqiao-dst -- --seeds 100 --bug skip-op-id --expect-violation
//! ```
//! Prints one line per seed (events, ops, simulated and wall time) and a
//! summary; a violating seed prints its invariants, the one-line command that
//! replays it and the trace's tail. Exits 1 on a violation (or, with
//! `--expect-violation`, when no seed found one), 2 on a setup error.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use fengqiao_tests::dst::{self, Bug, Config};

/// Runs the field day of one or many seeds in the deterministic simulator.
#[derive(Debug, Parser)]
#[command(name = "fengqiao-dst", version)]
struct Args {
    /// Run this one seed.
    #[arg(long, conflicts_with = "seeds")]
    seed: Option<u64>,
    /// Run this many seeds, from --from.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// The first seed of --seeds.
    #[arg(long, default_value_t = 1)]
    from: u64,
    /// Length of the field day in simulated minutes.
    #[arg(long, default_value_t = 480)]
    day_minutes: u64,
    /// Simulated milliseconds per step.
    #[arg(long, default_value_t = 100)]
    tick_ms: u64,
    /// Latency only: no cuts, crashes, restarts or partitions.
    #[arg(long)]
    no_faults: bool,
    /// Switch on a deliberate server bug.
    #[arg(long, value_enum)]
    bug: Option<Bug>,
    /// Succeed only if some seed finds a violation (stops at the first).
    #[arg(long)]
    expect_violation: bool,
    /// Print the whole trace of each seed.
    #[arg(long)]
    trace: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seeds: Vec<u64> = match args.seed {
        Some(s) => vec![s],
        None => (args.from..args.from.saturating_add(args.seeds)).collect(),
    };
    let started = Instant::now();
    let (mut runs, mut events, mut ops, mut violating) = (0u64, 0usize, 0usize, 0u64);
    let (mut simulated, mut wall) = (Duration::ZERO, Duration::ZERO);
    for seed in seeds {
        let config = Config {
            day: Duration::from_secs(args.day_minutes * 60),
            tick: Duration::from_millis(args.tick_ms.max(1)),
            faults: !args.no_faults,
            bug: args.bug,
            ..Config::standard(seed)
        };
        let report = match dst::run(&config) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("seed {seed}: the simulation could not be set up: {e:#}");
                return ExitCode::from(2);
            }
        };
        runs += 1;
        events += report.events;
        ops += report.ops;
        simulated += report.simulated;
        wall += report.wall;
        if args.trace {
            for line in &report.trace {
                println!("{line}");
            }
        }
        println!(
            "seed {seed}: {} phones, {} events, {} ops, {} steps, {:.1} h simulated in {:.2} s (×{:.0}), {} violation(s)",
            report.phones,
            report.events,
            report.ops,
            report.steps,
            report.simulated.as_secs_f64() / 3600.0,
            report.wall.as_secs_f64(),
            report.speedup(),
            report.violations.len()
        );
        if !report.violations.is_empty() {
            violating += 1;
            eprintln!("{}", report.failure(60));
            if args.expect_violation {
                break;
            }
        }
    }
    println!(
        "dst: {runs} seed(s), {events} events, {ops} ops, {violating} violating seed(s); {:.1} h simulated in {:.1} s wall (×{:.0}), {:.1} s in all",
        simulated.as_secs_f64() / 3600.0,
        wall.as_secs_f64(),
        simulated.as_secs_f64() / wall.as_secs_f64().max(1e-9),
        started.elapsed().as_secs_f64()
    );
    match (args.expect_violation, violating) {
        (false, 0) | (true, 1..) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
