//! The deterministic simulator (`fengqiao_tests::dst`) on a healthy server:
//! a short field day of 52 phones with every fault keeps every invariant.
//! (The README's test command also runs `fengqiao-dst --seeds 100`; the
//! broken server it must catch is `dst_bug.rs`, in a process of its own.)

use std::time::Duration;

use fengqiao_tests::dst::{self, Config};

#[test]
fn a_field_day_of_fifty_two_phones_with_every_fault_keeps_every_invariant() {
    let config = Config { day: Duration::from_secs(5 * 60), ..Config::standard(7) };
    let report = dst::run(&config).expect("the simulation runs");
    assert!(report.violations.is_empty(), "{}", report.failure(40));
    assert!(report.phones >= 50, "{} phones", report.phones);
    assert!(report.ops > 100, "the users made only {} ops", report.ops);
    let trace = report.trace.join("\n");
    for event in ["server crashed", "server restarted", "out of signal", "cut after", "app restarted", "approves"] {
        assert!(trace.contains(event), "the day had no `{event}`");
    }
    assert!(trace.contains("decide_escalation") && trace.contains("(conflict)"), "two approvers raced and one lost");
}
