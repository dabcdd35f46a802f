//! The simulator can fail: with the server's op id check skipped (the
//! test-only `sim-bugs` feature's `SKIP_OP_ID_CHECK`), an op re-sent after a
//! lost answer is applied twice, and the simulator finds it within 100
//! seeds, printing the command that replays the seed and the records' trace.
//! A process of its own: the switch is global to the server library.

use std::time::Duration;

use fengqiao_tests::dst::{self, Bug, Config};

#[test]
fn the_simulator_catches_a_server_that_skips_the_op_id_check_within_100_seeds() {
    let mut found = None;
    for seed in 1..=100 {
        let config = Config { day: Duration::from_secs(5 * 60), bug: Some(Bug::SkipOpId), ..Config::standard(seed) };
        let report = dst::run(&config).expect("the simulation runs");
        if !report.violations.is_empty() {
            found = Some(report);
            break;
        }
    }
    let report = found.expect("no seed of 100 caught the skipped op id check");
    assert!(report.violations.iter().any(|v| v.starts_with("exactly once:")), "{:?}", report.violations);
    let failure = report.failure(20);
    let replay = format!(
        "replay: cargo run -p fengqiao-tests --bin fengqiao-dst -- --seed {} --day-minutes 5 --tick-ms 100 --bug skip-op-id --trace",
        report.config.seed
    );
    assert!(failure.contains(&replay), "{failure}");
    assert!(failure.contains("the trace of "), "{failure}");
    // The switch is off again: the same seed on the healthy server passes.
    let healthy = dst::run(&Config { bug: None, ..report.config.clone() }).expect("runs");
    assert!(healthy.violations.is_empty(), "{}", healthy.failure(40));
}
