//! A policy change does not invalidate work done offline under the old policy:
//! reports of a removed kind, numbers of larger blocks, deadlines of past months.

use super::*;
use crate::model::ladder::DeadlineState;
use chrono::Duration;

/// The seed policy without the `labour` kind.
fn without_labour() -> Policy {
    let mut p = Policy::default();
    p.disputes.kinds.retain(|k| k.code != "labour");
    p
}

#[test]
fn a_report_made_under_a_policy_that_had_its_kind_is_accepted_after_the_kind_is_removed() {
    let v1 = Policy::default();
    let v2 = without_labour();
    assert_ne!(v1.version(), v2.version());
    let mut w = world();
    w.earlier = vec![v1.clone(), v2.clone()];
    let leader = person(Role::GroupLeader, G1);
    // queued on the phone under v1, pushed after the server moved to v2
    let d = Dispute {
        kind: "labour".into(),
        policy_version: v1.version(),
        ..new_dispute(&mut w, &leader, Grade::General, 0)
    };
    assert!(matches!(run_under(&w, &leader, Op::ReportDispute(d.clone()), &v2), Verdict::Apply(_)));
    let stored = dispute(&w, d.id);
    assert_eq!(stored.kind, "labour");
    assert_eq!(stored.policy_version, v2.version(), "registered under the policy in force");

    // a report made under v2 (or claiming a version never in force) still may not use it
    for claimed in [v2.version(), "0123456789abcdef".to_string(), String::new()] {
        let d = Dispute {
            kind: "labour".into(),
            policy_version: claimed,
            ..new_dispute(&mut w, &leader, Grade::General, 1)
        };
        assert_eq!(code(&run_under(&w, &leader, Op::ReportDispute(d), &v2)), Some(RejectionCode::InvalidField));
    }
    // and a kind no policy ever had is refused whatever version it names
    let d = Dispute {
        kind: "made_up".into(),
        policy_version: v1.version(),
        ..new_dispute(&mut w, &leader, Grade::General, 2)
    };
    assert_eq!(code(&run_under(&w, &leader, Op::ReportDispute(d), &v2)), Some(RejectionCode::InvalidField));
}

#[test]
fn a_smaller_block_size_does_not_refuse_numbers_of_a_larger_older_block() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let mut small = Policy::default();
    small.disputes.case_block_size = 10;
    // block 1 of 2026 was reserved with 100 numbers; the policy now reserves 10
    let d = new_dispute(&mut w, &leader, Grade::General, 57);
    w.sizes.insert((2026, 1), 100);
    assert!(matches!(run_under(&w, &leader, Op::ReportDispute(d), &small), Verdict::Apply(_)));
    // its own size still bounds it
    let d = new_dispute(&mut w, &leader, Grade::General, 100);
    assert_eq!(code(&run_under(&w, &leader, Op::ReportDispute(d), &small)), Some(RejectionCode::InvalidField));
    // a block whose size was not kept takes the largest any policy allows
    w.sizes.clear();
    let d = new_dispute(&mut w, &leader, Grade::General, 99);
    assert!(matches!(run_under(&w, &leader, Op::ReportDispute(d), &small), Verdict::Apply(_)));
}

#[test]
fn a_block_counts_as_outstanding_by_its_own_size() {
    use crate::model::disputes::CaseBlockUse;
    let mut small = Policy::default();
    small.disputes.case_block_size = 10;
    assert!(CaseBlockUse { used: 50, size: Some(100) }.outstanding(&small), "50 of 100 used");
    assert!(!CaseBlockUse { used: 10, size: Some(10) }.outstanding(&Policy::default()), "10 of 10 used");
    assert!(!CaseBlockUse { used: 10, size: None }.outstanding(&small), "no size kept: the policy's");
}

#[test]
fn a_dispute_keeps_the_deadlines_it_was_registered_under() {
    let mut w = world();
    let leader = person(Role::GroupLeader, G1);
    let v1 = Policy::default();
    let d = new_dispute(&mut w, &leader, Grade::General, 0);
    assert!(matches!(run_under(&w, &leader, Op::ReportDispute(d.clone()), &v1), Verdict::Apply(_)));
    let stored = dispute(&w, d.id);
    assert_eq!(stored.deadlines.as_ref(), Some(&v1.deadlines));
    assert_eq!(stored.policy_version, v1.version());

    // the county then lengthens general deadlines to 30 days
    let mut v2 = Policy::default();
    v2.deadlines.general_days = 30;
    let since = stored.level_since;
    assert_eq!(stored.deadline(&v2), since + Duration::days(7), "its own seven days, not the new thirty");
    assert_eq!(stored.deadline_state(since + Duration::days(8), &v2), DeadlineState::Overdue);
    // a dispute registered before deadlines were recorded follows the policy in force
    let old = Dispute { deadlines: None, ..stored };
    assert_eq!(old.deadline(&v2), since + Duration::days(30));
    assert_eq!(old.deadline_state(since + Duration::days(8), &v2), DeadlineState::Ok);
}
