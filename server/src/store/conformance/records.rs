//! Checks of records, ops and the feed: applied once, answered in order, pulled
//! by unit and role in pages, dropped where a moved record left; case blocks.

use chrono::Utc;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{ChangeAction, Op, Outcome};
use fengqiao_domain::{EntityKind, Record, RejectionCode, Role, RoleGrant};
use uuid::Uuid;

use crate::store::{StoreError, SyncStore};

use super::*;

pub(super) fn records_of_kind_lists_current_records(store: &dyn SyncStore) {
    let units = store.records_of_kind(EntityKind::Unit).unwrap();
    assert_eq!(units.len(), 7, "the small world's units");
    assert!(units.iter().all(|r| r.kind() == EntityKind::Unit));
    let hh = store.records_of_kind(EntityKind::Household).unwrap();
    assert!(HOUSEHOLDS.iter().all(|h| hh.iter().any(|r| r.id() == *h)));
    assert!(hh.iter().all(|r| r.kind() == EntityKind::Household));
}

pub(super) fn case_blocks_are_unique_per_year(store: &dyn SyncStore) {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let p = Policy::default();
    let x = store.reserve_case_block(a, 2026, &p).unwrap();
    let y = store.reserve_case_block(b, 2026, &p).unwrap();
    let z = store.reserve_case_block(a, 2027, &p).unwrap();
    assert_ne!(x, y);
    assert_eq!(z, 1, "each year numbers its blocks from 1");
    assert!(x >= 1 && y >= 1);
    // outstanding blocks per user and year are capped by policy
    let mut capped = Policy::default();
    capped.disputes.max_open_case_blocks = 2;
    store.reserve_case_block(a, 2030, &capped).unwrap();
    store.reserve_case_block(a, 2030, &capped).unwrap();
    assert!(matches!(store.reserve_case_block(a, 2030, &capped), Err(StoreError::TooManyBlocks(2))));
    store.reserve_case_block(b, 2030, &capped).expect("another user's cap is their own");
    store.reserve_case_block(a, 2031, &capped).expect("another year's cap is its own");
}

pub(super) fn unknown_unit_writes_nothing(store: &dyn SyncStore) {
    let before = store.last_seq().unwrap();
    let good = household(Uuid::now_v7(), GROUPS[0]);
    let bad = household(Uuid::now_v7(), Uuid::now_v7());
    assert!(matches!(store.put_records(&[good.clone(), bad]), Err(StoreError::InvalidRecord(_))));
    assert_eq!(store.last_seq().unwrap(), before);
    assert_eq!(store.record(EntityKind::Household, good.id()).unwrap(), None, "the whole batch rolled back");
}

pub(super) fn ops_apply_once_and_answer_in_order(store: &dyn SyncStore) {
    let policy = Policy::default();
    let leader = actor(Role::GroupLeader, GROUPS[0]);
    let ok = visit_op(leader.user_id, HOUSEHOLDS[0]);
    let outside = visit_op(leader.user_id, HOUSEHOLDS[1]);
    let ok2 = visit_op(leader.user_id, HOUSEHOLDS[0]);
    let before = store.last_seq().unwrap();
    let answers = store.apply_ops(&leader, &policy, &[ok.clone(), outside.clone(), ok2.clone()], Utc::now()).unwrap();
    assert_eq!(answers.iter().map(|a| a.op_id).collect::<Vec<_>>(), vec![ok.op_id, outside.op_id, ok2.op_id]);
    assert!(matches!(answers[0].outcome, Outcome::Applied { seq } if seq > before));
    assert!(matches!(&answers[1].outcome, Outcome::Rejected { code: RejectionCode::NotInJurisdiction, .. }));
    assert!(matches!(answers[2].outcome, Outcome::Applied { .. }));
    assert_eq!(store.last_seq().unwrap(), before + 2, "one change per applied visit, none for the rejected");

    // replaying the whole batch changes nothing and returns the original answers
    let again = store.apply_ops(&leader, &policy, &[ok.clone(), outside.clone(), ok2], Utc::now()).unwrap();
    for (first, second) in answers.iter().zip(&again) {
        assert_eq!(second.outcome, Outcome::Duplicate { original: Box::new(first.outcome.clone()) });
    }
    assert_eq!(store.last_seq().unwrap(), before + 2);

    // the same op id twice within one batch applies once
    let twice = visit_op(leader.user_id, HOUSEHOLDS[0]);
    let a = store.apply_ops(&leader, &policy, &[twice.clone(), twice], Utc::now()).unwrap();
    assert!(matches!(a[0].outcome, Outcome::Applied { .. }));
    assert!(matches!(a[1].outcome, Outcome::Duplicate { .. }));

    // another user replaying someone's op id gets nothing of it
    let other = actor(Role::GroupLeader, GROUPS[0]);
    let mut stolen = ok.clone();
    stolen.author = other.user_id;
    let a = store.apply_ops(&other, &policy, &[stolen], Utc::now()).unwrap();
    assert!(matches!(&a[0].outcome, Outcome::Rejected { code: RejectionCode::AuthorMismatch, .. }));

    // the stored visit carries the server's view: visitor and group
    let Op::RecordVisit(v) = &ok.op else { unreachable!() };
    let Some(Record::Visit(stored)) = store.record(EntityKind::Visit, v.id).unwrap() else { panic!("visit stored") };
    assert_eq!(stored.visitor_id, leader.user_id);
    assert_eq!(stored.group_id, Some(GROUPS[0]));
}

fn visits_seen(store: &dyn SyncStore, grants: &[RoleGrant]) -> Vec<Uuid> {
    let page = store.pull(grants, None, 0, 10_000).unwrap();
    assert!(!page.has_more);
    page.changes.iter().filter(|c| c.entity == EntityKind::Visit).map(|c| c.id).collect()
}

pub(super) fn pull_is_scoped_by_unit_and_role(store: &dyn SyncStore) {
    let policy = Policy::default();
    let b_leader = actor(Role::GroupLeader, GROUPS[1]);
    let op = visit_op(b_leader.user_id, HOUSEHOLDS[1]);
    store.apply_ops(&b_leader, &policy, std::slice::from_ref(&op), Utc::now()).unwrap();
    let Op::RecordVisit(v) = &op.op else { unreachable!() };

    let sec_a = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] }];
    let sec_b = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[1] }];
    let leader_a2 = [RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[2] }];
    let mediator_b = [RoleGrant { role: Role::Mediator, unit_id: VILLAGES[1] }];
    assert!(visits_seen(store, &sec_b).contains(&v.id));
    assert!(!visits_seen(store, &sec_a).contains(&v.id), "village A does not see village B");
    assert!(visits_seen(store, &leader_a2).is_empty(), "no visits were made in group A2");
    assert!(visits_seen(store, &mediator_b).is_empty(), "mediators do not see visit logs");
    // but the mediator sees the households of their village, and none beside it
    let page = store.pull(&mediator_b, None, 0, 10_000).unwrap();
    let hh: Vec<Uuid> = page.changes.iter().filter(|c| c.entity == EntityKind::Household).map(|c| c.id).collect();
    assert_eq!(hh, vec![HOUSEHOLDS[1]]);
    // a user with two grants sees the union, each change once
    let both: Vec<RoleGrant> = sec_a.iter().chain(sec_b.iter()).copied().collect();
    let page = store.pull(&both, None, 0, 10_000).unwrap();
    let mut seqs: Vec<u64> = page.changes.iter().map(|c| c.seq).collect();
    let n = seqs.len();
    seqs.dedup();
    assert_eq!(seqs.len(), n);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

pub(super) fn pull_pages_without_skips_or_repeats(store: &dyn SyncStore) {
    let grants = [
        RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] },
        RoleGrant { role: Role::Mediator, unit_id: VILLAGES[1] },
    ];
    let full = store.pull(&grants, None, 0, 10_000).unwrap();
    let mut got = Vec::new();
    let mut cursor = 0;
    let mut pages = 0;
    loop {
        let page = store.pull(&grants, None, cursor, 2).unwrap();
        assert!(page.changes.len() <= 2);
        got.extend(page.changes.iter().map(|c| c.seq));
        assert!(page.position >= cursor);
        cursor = page.position;
        pages += 1;
        if !page.has_more {
            break;
        }
        assert!(pages < 1000);
    }
    assert_eq!(got, full.changes.iter().map(|c| c.seq).collect::<Vec<_>>());
    assert!(pages > 1);
    // a no-op pull from the end returns nothing and stays put
    let page = store.pull(&grants, None, cursor, 2).unwrap();
    assert!(page.changes.is_empty() && !page.has_more);
    assert_eq!(page.position, cursor);
    assert_eq!(cursor, store.last_seq().unwrap());
    assert!(!page.beyond_end);
    // a position past the end (a restored server, a forged cursor) is not taken up
    let page = store.pull(&grants, None, cursor + 1_000, 2).unwrap();
    assert!(page.beyond_end && page.changes.is_empty() && !page.has_more);
    assert_eq!(page.position, cursor);
}

pub(super) fn moved_record_is_dropped_where_it_left(store: &dyn SyncStore) {
    let h = Uuid::now_v7();
    store.put_records(&[household(h, GROUPS[0])]).unwrap();
    let a1 = [RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[0] }];
    let a2 = [RoleGrant { role: Role::GroupLeader, unit_id: GROUPS[2] }];
    let va = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] }];
    let (c1, c2, cv) = (store.last_seq().unwrap(), store.last_seq().unwrap(), store.last_seq().unwrap());
    // moves from group A1 to A2 (same village)
    store.put_records(&[household(h, GROUPS[2])]).unwrap();
    let p1 = store.pull(&a1, None, c1, 100).unwrap();
    assert_eq!(p1.changes.len(), 1);
    assert_eq!((p1.changes[0].action, p1.changes[0].id), (ChangeAction::Drop, h));
    let p2 = store.pull(&a2, None, c2, 100).unwrap();
    assert_eq!(p2.changes.len(), 1);
    assert_eq!(p2.changes[0].action, ChangeAction::Put);
    // the village still holds it: one put, no drop
    let pv = store.pull(&va, None, cv, 100).unwrap();
    assert_eq!(pv.changes.iter().map(|c| c.action).collect::<Vec<_>>(), vec![ChangeAction::Put]);
    // writing the identical record again changes nothing
    let before = store.last_seq().unwrap();
    store.put_records(&[household(h, GROUPS[2])]).unwrap();
    assert_eq!(store.last_seq().unwrap(), before);
}
