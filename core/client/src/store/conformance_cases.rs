//! The case-number checks every [`ClientStore`] backend must pass (run through
//! [`crate::case_number_conformance_tests!`]). Test support: these panic by design.

use chrono::Utc;
use fengqiao_domain::wire::{Op, OpEnvelope};
use fengqiao_domain::{EntityKind, Record, Visit, VisitKind};
use uuid::Uuid;

use super::cases::{CaseClaim, HeldCaseBlock};
use super::{ClientStore, StoreError};

/// Runs every case-number check on fresh stores made by `make`.
#[macro_export]
macro_rules! case_number_conformance_tests {
    ($make:expr) => {
        #[test]
        fn conformance_case_blocks_claim_in_order_and_never_twice() {
            let (_g, s) = $make;
            $crate::store::conformance_cases::claim_in_order_and_never_twice(&s);
        }
        #[test]
        fn conformance_case_claim_is_atomic_with_the_enqueue() {
            let (_g, s) = $make;
            $crate::store::conformance_cases::claim_is_atomic_with_the_enqueue(&s);
        }
        #[test]
        fn conformance_outbox_after_and_complete_entries() {
            let (_g, s) = $make;
            $crate::store::conformance_cases::outbox_after_and_complete_entries(&s);
        }
    };
}

fn record_and_op(author: Uuid) -> (Record, OpEnvelope) {
    let v = Visit {
        id: Uuid::now_v7(),
        household_id: Uuid::now_v7(),
        visitor_id: author,
        visited_at: Utc::now(),
        kind: VisitKind::Routine,
        notes: String::new(),
        location: None,
        leads: vec![],
        group_id: None,
        body: None,
    };
    let op = OpEnvelope {
        op_id: Uuid::now_v7(),
        v: 1,
        author,
        created_at: Utc::now(),
        op: Op::RecordVisit(v.clone()),
        seen: None,
    };
    (Record::Visit(v), op)
}

fn block(owner: Uuid, n: u32, size: u32) -> HeldCaseBlock {
    HeldCaseBlock { owner, year: 2026, block: n, size, next: 0 }
}

fn claim(owner: Uuid, n: u32, index: u32) -> CaseClaim {
    CaseClaim { owner, year: 2026, block: n, index }
}

/// Blocks are listed per owner in the order held; each index is taken once, in
/// order; an exhausted block is gone; a block already held is not added twice.
pub fn claim_in_order_and_never_twice(s: &dyn ClientStore) {
    let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
    assert!(s.case_blocks(me).expect("list").is_empty());
    assert!(s.add_case_block(&block(me, 7, 2)).expect("add"));
    assert!(s.add_case_block(&block(me, 9, 3)).expect("add"));
    assert!(!s.add_case_block(&block(me, 7, 2)).expect("add again"), "held once");
    assert!(s.add_case_block(&block(other, 8, 5)).expect("add other"));
    let mine: Vec<u32> = s.case_blocks(me).expect("list").iter().map(|b| b.block).collect();
    assert_eq!(mine, vec![7, 9], "only mine, oldest first");

    let (r, op) = record_and_op(me);
    assert!(s.enqueue_claiming(&r, &op, &claim(me, 7, 0), Utc::now()).expect("claim").is_some());
    let (r2, op2) = record_and_op(me);
    assert_eq!(s.enqueue_claiming(&r2, &op2, &claim(me, 7, 0), Utc::now()).expect("stale"), None, "index 0 is taken");
    let foreign = CaseClaim { owner: me, ..claim(other, 8, 0) };
    assert_eq!(s.enqueue_claiming(&r2, &op2, &foreign, Utc::now()).expect("foreign"), None, "not my block");
    assert!(s.get_record(EntityKind::Visit, r2.id()).expect("get").is_none(), "a stale claim writes nothing");
    assert_eq!(s.outbox_len(None).expect("len"), 1);
    assert!(s.enqueue_claiming(&r2, &op2, &claim(me, 7, 1), Utc::now()).expect("claim").is_some());
    let left: Vec<(u32, u32)> = s.case_blocks(me).expect("list").iter().map(|b| (b.block, b.next)).collect();
    assert_eq!(left, vec![(9, 0)], "block 7 is spent and forgotten");
    let (r3, op3) = record_and_op(me);
    assert_eq!(s.enqueue_claiming(&r3, &op3, &claim(me, 7, 2), Utc::now()).expect("spent"), None);
    assert_eq!(s.case_blocks(other).expect("list")[0].next, 0, "another owner's block is untouched");
}

/// A claim whose enqueue fails (duplicate op id) takes no number.
pub fn claim_is_atomic_with_the_enqueue(s: &dyn ClientStore) {
    let me = Uuid::now_v7();
    assert!(s.add_case_block(&block(me, 1, 10)).expect("add"));
    let (r, op) = record_and_op(me);
    s.enqueue_claiming(&r, &op, &claim(me, 1, 0), Utc::now()).expect("claim").expect("fresh");
    let (r2, _) = record_and_op(me);
    match s.enqueue_claiming(&r2, &op, &claim(me, 1, 1), Utc::now()) {
        Err(StoreError::DuplicateOp(id)) => assert_eq!(id, op.op_id),
        other => panic!("expected a duplicate op, got {other:?}"),
    }
    assert_eq!(s.case_blocks(me).expect("list")[0].next, 1, "the failed enqueue took no number");
    assert!(s.get_record(EntityKind::Visit, r2.id()).expect("get").is_none());
}

/// Blocks and the next index survive closing and reopening the store.
pub fn survives_reopen(open: impl Fn() -> Box<dyn ClientStore>) {
    let me = Uuid::now_v7();
    {
        let s = open();
        assert!(s.add_case_block(&block(me, 3, 10)).expect("add"));
        for i in 0..4 {
            let (r, op) = record_and_op(me);
            s.enqueue_claiming(&r, &op, &claim(me, 3, i), Utc::now()).expect("claim").expect("fresh");
        }
    }
    let s = open();
    let held = s.case_blocks(me).expect("list");
    assert_eq!((held.len(), held[0].next), (1, 4), "the next index is durable");
    let (r, op) = record_and_op(me);
    assert_eq!(s.enqueue_claiming(&r, &op, &claim(me, 3, 3), Utc::now()).expect("stale"), None, "never reused");
}

/// The next batch read past the one in flight; a push's entries completed as
/// read (an entry no longer queued at its sequence is skipped).
pub fn outbox_after_and_complete_entries(s: &dyn ClientStore) {
    let (a, b) = (Uuid::from_u128(100), Uuid::from_u128(200));
    let mut queued = Vec::new();
    for i in 0..7 {
        let (record, op) = record_and_op(if i % 3 == 2 { b } else { a });
        let seq = s.enqueue(&record, &op, Utc::now()).expect("enqueue");
        queued.push((seq, op.op_id, record.id()));
    }
    let first = s.outbox(Some(a), 2).expect("outbox");
    let after = first.last().expect("two").seq;
    let next: Vec<Uuid> = s.outbox_after(Some(a), after, 10).expect("after").iter().map(|e| e.op.op_id).collect();
    let a_ops: Vec<Uuid> = s.outbox(Some(a), 10).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(next, a_ops[2..].to_vec(), "a's ops past the first two, in order");
    assert_eq!(s.outbox_after(None, after, 2).expect("after").len(), 2, "limit holds");
    assert!(s.outbox_after(None, queued[6].0, 10).expect("after").is_empty());
    assert_eq!(s.outbox_len(Some(b)).expect("len"), 2);
    assert_eq!(s.complete_entries(&first).expect("complete"), 2);
    assert_eq!(s.complete_entries(&first).expect("again"), 0, "completed once");
    for e in &first {
        let kept = s.get_record(EntityKind::Visit, queued.iter().find(|q| q.1 == e.op.op_id).expect("q").2);
        assert!(!kept.expect("get").expect("record").state.is_pending(), "its record is synced");
    }
    let left: Vec<Uuid> = s.outbox(None, 10).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(left, queued.iter().skip(2).map(|q| q.1).collect::<Vec<_>>());
    s.tidy();
    assert_eq!(s.complete_entries(&[]).expect("none"), 0);
}
