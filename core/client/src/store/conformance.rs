//! The checks every [`ClientStore`] backend must pass. Each function takes a
//! fresh, empty store and panics (with an assertion message) on a violation;
//! backends run them all through [`crate::conformance_tests!`] in their unit
//! tests. Test support: these functions panic by design.

use chrono::{Duration, TimeZone, Utc};
use fengqiao_domain::org::{OrgUnit, UnitLevel};
use fengqiao_domain::wire::{Change, ChangeAction, GrantInfo, Op, OpEnvelope, UserInfo};
use fengqiao_domain::{EntityKind, Household, Record, Visit, VisitKind};
use uuid::Uuid;

use super::{
    ClientStore, PhotoUpload, PulledPage, QuarantineReason, RecordState, StoreError, StoredSession, SyncErrorInfo,
    SyncMeta, Tokens, UploadState,
};

/// Runs every backend-independent check on fresh stores made by `make`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        #[test]
        fn conformance_session_save_load_clear() {
            let (_g, s) = $make;
            $crate::store::conformance::session_save_load_clear(&s);
        }
        #[test]
        fn conformance_device_id_is_stable() {
            let (_g, s) = $make;
            $crate::store::conformance::device_id_is_stable(&s);
        }
        #[test]
        fn conformance_enqueue_is_atomic() {
            let (_g, s) = $make;
            $crate::store::conformance::enqueue_is_atomic(&s);
        }
        #[test]
        fn conformance_outbox_is_fifo_by_sequence() {
            let (_g, s) = $make;
            $crate::store::conformance::outbox_is_fifo_by_sequence(&s);
        }
        #[test]
        fn conformance_complete_removes_and_confirms() {
            let (_g, s) = $make;
            $crate::store::conformance::complete_removes_and_confirms(&s);
        }
        #[test]
        fn conformance_sent_ops_requeue_after_a_restore() {
            let (_g, s) = $make;
            $crate::store::conformance_sent::sent_ops_requeue_after_a_restore(&s);
        }
        #[test]
        fn conformance_quarantine_and_requeue() {
            let (_g, s) = $make;
            $crate::store::conformance::quarantine_and_requeue(&s);
        }
        #[test]
        fn conformance_discard_quarantined() {
            let (_g, s) = $make;
            $crate::store::conformance::discard_quarantined(&s);
        }
        #[test]
        fn conformance_apply_pulled_page_and_cursor() {
            let (_g, s) = $make;
            $crate::store::conformance::apply_pulled_page_and_cursor(&s);
        }
        #[test]
        fn conformance_reset_keeps_outbox_and_pending() {
            let (_g, s) = $make;
            $crate::store::conformance::reset_keeps_outbox_and_pending(&s);
        }
        #[test]
        fn conformance_list_records_newest_first() {
            let (_g, s) = $make;
            $crate::store::conformance::list_records_newest_first(&s);
        }
        #[test]
        fn conformance_photo_queue_enqueue_is_atomic_and_merges() {
            let (_g, s) = $make;
            $crate::store::conformance::photo_queue_enqueue_is_atomic_and_merges(&s);
        }
        #[test]
        fn conformance_photo_queue_confirm_progress_and_discard() {
            let (_g, s) = $make;
            $crate::store::conformance::photo_queue_confirm_progress_and_discard(&s);
        }
        #[test]
        fn conformance_sync_meta_roundtrips() {
            let (_g, s) = $make;
            $crate::store::conformance::sync_meta_roundtrips(&s);
        }
    };
}

fn user(id: Uuid) -> UserInfo {
    UserInfo { id, username: "leader".into(), display_name: "组长".into(), roles: Vec::<GrantInfo>::new() }
}

fn visit(id: Uuid) -> Visit {
    Visit {
        id,
        household_id: Uuid::from_u128(50),
        visitor_id: Uuid::from_u128(100),
        visited_at: Utc::now(),
        kind: VisitKind::Routine,
        notes: "n".into(),
        location: None,
        leads: vec![],
        group_id: None,
        body: None,
    }
}

fn op_for(author: Uuid, v: &Visit, created_at: chrono::DateTime<Utc>) -> OpEnvelope {
    OpEnvelope { op_id: Uuid::now_v7(), v: 1, author, created_at, op: Op::RecordVisit(v.clone()), seen: None }
}

/// Enqueues a new visit by `author`; returns (visit id, op id, seq).
pub(crate) fn enqueue_visit(s: &dyn ClientStore, author: Uuid) -> (Uuid, Uuid, u64) {
    let v = visit(Uuid::now_v7());
    let op = op_for(author, &v, Utc::now());
    let seq = s.enqueue(&Record::Visit(v.clone()), &op, Utc::now()).expect("enqueue");
    (v.id, op.op_id, seq)
}

fn household(id: Uuid) -> Record {
    Record::Household(Household {
        id,
        group_id: Uuid::from_u128(5),
        head_name: "张三".into(),
        address: "1号".into(),
        phone: None,
        code: None,
        id_number: None,
    })
}

fn put(seq: u64, r: Record) -> Change {
    Change { seq, action: ChangeAction::Put, entity: r.kind(), id: r.id(), record: Some(r) }
}

/// An attachment of the photo `sha` to a visit, its op by `author`, and its queue entry.
pub(crate) fn attach(author: Uuid, sha: &str) -> (Record, OpEnvelope, PhotoUpload) {
    let a = fengqiao_domain::Attachment {
        id: Uuid::now_v7(),
        target_kind: EntityKind::Visit,
        target_id: Uuid::now_v7(),
        sha256: sha.into(),
        length: 1234,
        content_type: "image/jpeg".into(),
        caption: String::new(),
        author,
        file_item: None,
    };
    let op = OpEnvelope {
        op_id: Uuid::now_v7(),
        v: 1,
        author,
        created_at: Utc::now(),
        op: Op::AttachPhoto(a.clone()),
        seen: None,
    };
    let up = PhotoUpload::new(sha.into(), 1234, "image/jpeg".into(), Utc::now());
    (Record::Attachment(a), op, up)
}

fn state(s: &dyn ClientStore, kind: EntityKind, id: Uuid) -> Option<RecordState> {
    s.get_record(kind, id).expect("get").map(|r| r.state)
}

pub(crate) fn reason(code: &str) -> QuarantineReason {
    QuarantineReason { code: code.into(), message: "refused".into(), current: None }
}

/// Session save, load, overwrite and clear.
pub fn session_save_load_clear(s: &dyn ClientStore) {
    assert_eq!(s.load_session().expect("load"), None);
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("time");
    let mut sess = StoredSession {
        user: user(Uuid::from_u128(1)),
        tokens: Some(Tokens {
            access_token: "a1".into(),
            access_expires_at: t,
            refresh_token: "r1".into(),
            refresh_expires_at: t,
        }),
    };
    s.save_session(&sess).expect("save");
    assert_eq!(s.load_session().expect("load"), Some(sess.clone()));
    sess.tokens = None;
    s.save_session(&sess).expect("save");
    assert_eq!(s.load_session().expect("load"), Some(sess));
    s.clear_session().expect("clear");
    assert_eq!(s.load_session().expect("load"), None);
    assert!(!format!(
        "{:?}",
        Tokens {
            access_token: "SECRET".into(),
            access_expires_at: t,
            refresh_token: "SECRET".into(),
            refresh_expires_at: t
        }
    )
    .contains("SECRET"));
}

/// The install id is made once and then stays.
pub fn device_id_is_stable(s: &dyn ClientStore) {
    let a = s.device_id().expect("id");
    assert!(!a.is_nil());
    assert_eq!(s.device_id().expect("id"), a);
}

/// Record and op are written together; a refused enqueue writes neither.
pub fn enqueue_is_atomic(s: &dyn ClientStore) {
    let author = Uuid::from_u128(100);
    let v = visit(Uuid::now_v7());
    let op = op_for(author, &v, Utc::now());
    s.enqueue(&Record::Visit(v.clone()), &op, Utc::now()).expect("enqueue");
    assert_eq!(state(s, EntityKind::Visit, v.id), Some(RecordState::Pending { op_id: op.op_id, author }));
    let out = s.outbox(None, 10).expect("outbox");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].op, op);

    // Same op id again, carrying another record: refused, and that record is not written.
    let other = visit(Uuid::now_v7());
    let mut dup = op.clone();
    dup.op = Op::RecordVisit(other.clone());
    assert_eq!(s.enqueue(&Record::Visit(other.clone()), &dup, Utc::now()), Err(StoreError::DuplicateOp(op.op_id)));
    assert_eq!(state(s, EntityKind::Visit, other.id), None);
    assert_eq!(s.outbox_len(None).expect("len"), 1);

    // Also refused while the op sits in quarantine.
    assert!(s.quarantine_op(op.op_id, &reason("invalid_field"), Utc::now()).expect("q"));
    assert_eq!(s.enqueue(&Record::Visit(other.clone()), &dup, Utc::now()), Err(StoreError::DuplicateOp(op.op_id)));
    assert_eq!(state(s, EntityKind::Visit, other.id), None);
    assert_eq!(s.outbox_len(None).expect("len"), 0);
}

/// The outbox keeps enqueue order, not device time; author filter and limit keep it too.
pub fn outbox_is_fifo_by_sequence(s: &dyn ClientStore) {
    let (a, b) = (Uuid::from_u128(100), Uuid::from_u128(200));
    let base = Utc::now();
    let mut expected = Vec::new();
    for i in 0..12i64 {
        let author = if i % 3 == 0 { b } else { a };
        let v = visit(Uuid::now_v7());
        // device clock running backwards must not reorder anything
        let op = op_for(author, &v, base - Duration::minutes(i));
        let seq = s.enqueue(&Record::Visit(v), &op, base - Duration::minutes(i)).expect("enqueue");
        expected.push((seq, op.op_id, author));
    }
    let seqs: Vec<u64> = expected.iter().map(|e| e.0).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "sequences increase: {seqs:?}");
    let all: Vec<Uuid> = s.outbox(None, 100).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(all, expected.iter().map(|e| e.1).collect::<Vec<_>>());
    let only_a: Vec<Uuid> = s.outbox(Some(a), 100).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(only_a, expected.iter().filter(|e| e.2 == a).map(|e| e.1).collect::<Vec<_>>());
    let first3: Vec<Uuid> = s.outbox(Some(a), 3).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(first3, only_a[..3].to_vec());
    assert_eq!(s.outbox_len(None).expect("len"), 12);
    assert_eq!(s.outbox_len(Some(b)).expect("len"), 4);
}

/// An answered op leaves the outbox and its record becomes synced; others stay.
pub fn complete_removes_and_confirms(s: &dyn ClientStore) {
    let a = Uuid::from_u128(100);
    let (v1, o1, _) = enqueue_visit(s, a);
    let (v2, o2, _) = enqueue_visit(s, a);
    assert!(s.complete_op(o1).expect("complete"));
    assert!(!s.complete_op(o1).expect("complete twice"));
    assert_eq!(state(s, EntityKind::Visit, v1), Some(RecordState::Synced));
    assert_eq!(state(s, EntityKind::Visit, v2), Some(RecordState::Pending { op_id: o2, author: a }));
    let left: Vec<Uuid> = s.outbox(None, 10).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(left, vec![o2]);
    assert!(!s.complete_op(Uuid::now_v7()).expect("unknown"));
    // a push's answers together: the queued ones complete, unknown ones are skipped
    let (v3, o3, _) = enqueue_visit(s, a);
    let (v4, o4, _) = enqueue_visit(s, a);
    assert_eq!(s.complete_ops(&[o2, o3, Uuid::now_v7(), o3]).expect("complete many"), 2);
    for v in [v2, v3] {
        assert_eq!(state(s, EntityKind::Visit, v), Some(RecordState::Synced));
    }
    assert_eq!(state(s, EntityKind::Visit, v4), Some(RecordState::Pending { op_id: o4, author: a }));
    let left: Vec<Uuid> = s.outbox(None, 10).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(left, vec![o4]);
    // listed alike, and a pull reset keeps only what is still pending
    let listed: Vec<(Uuid, bool)> = s
        .list_records(EntityKind::Visit, 10)
        .expect("list")
        .iter()
        .map(|r| (r.record.id(), r.state.is_pending()))
        .collect();
    for (v, pending) in [(v1, false), (v2, false), (v3, false), (v4, true)] {
        assert!(listed.contains(&(v, pending)), "{v} pending {pending}: {listed:?}");
    }
    s.reset_pulled().expect("reset");
    assert_eq!(state(s, EntityKind::Visit, v3), None, "a completed record is server data now");
    assert_eq!(state(s, EntityKind::Visit, v4), Some(RecordState::Pending { op_id: o4, author: a }));
    assert_eq!(s.complete_ops(&[]).expect("none"), 0);
}

/// Quarantine keeps the op with its reason; requeue puts it back at its place.
pub fn quarantine_and_requeue(s: &dyn ClientStore) {
    let a = Uuid::from_u128(100);
    let (v1, o1, seq1) = enqueue_visit(s, a);
    let (_, o2, _) = enqueue_visit(s, a);
    let current = household(Uuid::now_v7());
    let why =
        QuarantineReason { code: "conflict".into(), message: "decided already".into(), current: Some(current.clone()) };
    assert!(s.quarantine_op(o1, &why, Utc::now()).expect("quarantine"));
    assert!(!s.quarantine_op(o1, &why, Utc::now()).expect("again"));
    let q = s.quarantined().expect("list");
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].op.op_id, q[0].seq, q[0].code.as_str(), q[0].message.as_str()),
        (o1, seq1, "conflict", "decided already")
    );
    assert_eq!(q[0].current, Some(current));
    // the one behind it is not blocked
    let left: Vec<Uuid> = s.outbox(None, 10).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(left, vec![o2]);
    // the record stays visible as pending
    assert!(state(s, EntityKind::Visit, v1).is_some_and(|st| st.is_pending()));
    assert!(s.requeue_quarantined(o1).expect("requeue"));
    assert!(!s.requeue_quarantined(o1).expect("requeue twice"));
    assert!(s.quarantined().expect("list").is_empty());
    let order: Vec<Uuid> = s.outbox(None, 10).expect("outbox").iter().map(|e| e.op.op_id).collect();
    assert_eq!(order, vec![o1, o2], "requeued op goes back to its original place");
    // a requeued op can be completed normally
    assert!(s.complete_op(o1).expect("complete"));
    assert_eq!(state(s, EntityKind::Visit, v1), Some(RecordState::Synced));
}

/// Discarding drops the op and the pending record it carried (or puts the
/// server's current record in its place).
pub fn discard_quarantined(s: &dyn ClientStore) {
    let a = Uuid::from_u128(100);
    let (v1, o1, _) = enqueue_visit(s, a);
    let (v2, o2, _) = enqueue_visit(s, a);
    assert!(s.quarantine_op(o1, &reason("not_in_jurisdiction"), Utc::now()).expect("q"));
    assert!(!s.discard_quarantined(o2).expect("not quarantined"));
    assert!(s.discard_quarantined(o1).expect("discard"));
    assert!(!s.discard_quarantined(o1).expect("twice"));
    assert_eq!(state(s, EntityKind::Visit, v1), None);
    assert!(s.quarantined().expect("list").is_empty());
    assert_eq!(s.outbox_len(None).expect("len"), 1);

    let mut server_copy = visit(v2);
    server_copy.notes = "server".into();
    let why = QuarantineReason {
        code: "conflict".into(),
        message: "m".into(),
        current: Some(Record::Visit(server_copy.clone())),
    };
    assert!(s.quarantine_op(o2, &why, Utc::now()).expect("q"));
    assert!(s.discard_quarantined(o2).expect("discard"));
    let got = s.get_record(EntityKind::Visit, v2).expect("get").expect("current kept");
    assert_eq!((got.record, got.state), (Record::Visit(server_copy), RecordState::Synced));

    // The conflict's record is as it stood when the op was answered: a copy
    // pulled since is newer and stays (found by the deterministic simulator:
    // a discarded lost race put back a dispute two levels down).
    let (v3, o3, _) = enqueue_visit(s, a);
    let mut then = visit(v3);
    then.notes = "as answered".into();
    let why = QuarantineReason { code: "conflict".into(), message: "m".into(), current: Some(Record::Visit(then)) };
    assert!(s.quarantine_op(o3, &why, Utc::now()).expect("q"));
    let mut since = visit(v3);
    since.notes = "pulled since".into();
    let page =
        PulledPage { reset: false, changes: vec![put(7, Record::Visit(since.clone()))], next_cursor: "c7".into() };
    s.apply_pulled(a, &page).expect("pull");
    assert!(s.discard_quarantined(o3).expect("discard"));
    let got = s.get_record(EntityKind::Visit, v3).expect("get").expect("still there");
    assert_eq!((got.record, got.state), (Record::Visit(since), RecordState::Synced), "the newer copy stays");
}

/// A page's changes and its cursor land together; puts replace pending copies.
pub fn apply_pulled_page_and_cursor(s: &dyn ClientStore) {
    let me = Uuid::from_u128(100);
    assert_eq!(s.pull_state().expect("pull"), None);
    let (h1, h2) = (Uuid::now_v7(), Uuid::now_v7());
    let page = PulledPage {
        reset: false,
        changes: vec![put(1, household(h1)), put(2, household(h2))],
        next_cursor: "c2".into(),
    };
    s.apply_pulled(me, &page).expect("apply");
    assert_eq!(state(s, EntityKind::Household, h1), Some(RecordState::Synced));
    let ps = s.pull_state().expect("pull").expect("some");
    assert_eq!((ps.user, ps.cursor.as_str()), (me, "c2"));

    // drop, and a put of our own pending visit (the server's copy wins)
    let (vid, oid, _) = enqueue_visit(s, me);
    let mut server_copy = visit(vid);
    server_copy.group_id = Some(Uuid::from_u128(5));
    let drop = Change { seq: 3, action: ChangeAction::Drop, entity: EntityKind::Household, id: h1, record: None };
    let page = PulledPage {
        reset: false,
        changes: vec![drop, put(4, Record::Visit(server_copy.clone()))],
        next_cursor: "c4".into(),
    };
    s.apply_pulled(me, &page).expect("apply");
    assert_eq!(state(s, EntityKind::Household, h1), None);
    assert_eq!(state(s, EntityKind::Household, h2), Some(RecordState::Synced));
    let got = s.get_record(EntityKind::Visit, vid).expect("get").expect("visit");
    assert_eq!((got.record, got.state), (Record::Visit(server_copy), RecordState::Synced));
    assert_eq!(s.pull_state().expect("pull").expect("some").cursor, "c4");
    // the outbox is not the pull's business
    assert_eq!(s.outbox(None, 10).expect("outbox").iter().map(|e| e.op.op_id).collect::<Vec<_>>(), vec![oid]);
    // an empty page still moves the cursor
    s.apply_pulled(me, &PulledPage { reset: false, changes: vec![], next_cursor: "c5".into() }).expect("apply");
    assert_eq!(s.pull_state().expect("pull").expect("some").cursor, "c5");
}

/// A reset drops pulled records only: the outbox, quarantine and pending records stay.
pub fn reset_keeps_outbox_and_pending(s: &dyn ClientStore) {
    let me = Uuid::from_u128(100);
    let (h_old, h_new) = (Uuid::now_v7(), Uuid::now_v7());
    s.apply_pulled(me, &PulledPage { reset: false, changes: vec![put(1, household(h_old))], next_cursor: "c1".into() })
        .expect("apply");
    let (v_pending, o_pending, _) = enqueue_visit(s, me);
    let (v_quar, o_quar, _) = enqueue_visit(s, me);
    let (v_done, o_done, _) = enqueue_visit(s, me);
    assert!(s.quarantine_op(o_quar, &reason("invalid_field"), Utc::now()).expect("q"));
    assert!(s.complete_op(o_done).expect("complete"));

    let page = PulledPage { reset: true, changes: vec![put(1, household(h_new))], next_cursor: "n1".into() };
    s.apply_pulled(me, &page).expect("apply reset");
    assert_eq!(state(s, EntityKind::Household, h_old), None, "old pulled record dropped");
    assert_eq!(state(s, EntityKind::Visit, v_done), None, "confirmed records are server data: dropped too");
    assert_eq!(state(s, EntityKind::Household, h_new), Some(RecordState::Synced));
    assert!(state(s, EntityKind::Visit, v_pending).is_some_and(|st| st.is_pending()));
    assert!(state(s, EntityKind::Visit, v_quar).is_some_and(|st| st.is_pending()));
    assert_eq!(s.outbox(None, 10).expect("outbox").iter().map(|e| e.op.op_id).collect::<Vec<_>>(), vec![o_pending]);
    assert_eq!(s.quarantined().expect("q").len(), 1);
    assert_eq!(s.pull_state().expect("pull").expect("some").cursor, "n1");

    s.reset_pulled().expect("reset");
    assert_eq!(s.pull_state().expect("pull"), None);
    assert_eq!(state(s, EntityKind::Household, h_new), None);
    assert!(state(s, EntityKind::Visit, v_pending).is_some_and(|st| st.is_pending()));
    assert_eq!(s.outbox_len(None).expect("len"), 1);
    assert_eq!(s.quarantined().expect("q").len(), 1);
}

/// Listing is per kind, highest (newest UUIDv7) id first, and honours the limit.
pub fn list_records_newest_first(s: &dyn ClientStore) {
    let me = Uuid::from_u128(100);
    let ids: Vec<Uuid> = (0..5).map(|_| enqueue_visit(s, me).0).collect();
    let unit = Record::Unit(OrgUnit {
        id: Uuid::now_v7(),
        code: "G1".into(),
        name: "一组".into(),
        level: UnitLevel::Group,
        parent: None,
        kind: None,
        offices: vec![],
    });
    s.apply_pulled(
        me,
        &PulledPage {
            reset: false,
            changes: vec![put(1, unit.clone()), put(2, household(Uuid::now_v7()))],
            next_cursor: "c".into(),
        },
    )
    .expect("apply");
    let listed: Vec<Uuid> =
        s.list_records(EntityKind::Visit, 100).expect("list").iter().map(|r| r.record.id()).collect();
    let mut want = ids.clone();
    want.reverse();
    assert_eq!(listed, want);
    assert_eq!(s.list_records(EntityKind::Visit, 2).expect("list").len(), 2);
    let units = s.list_records(EntityKind::Unit, 100).expect("list");
    assert_eq!(units.len(), 1);
    assert_eq!(units[0].record, unit);
    assert_eq!(s.list_records(EntityKind::Household, 100).expect("list").len(), 1);
}

/// Sync bookkeeping round-trips.
pub fn sync_meta_roundtrips(s: &dyn ClientStore) {
    assert_eq!(s.sync_meta().expect("meta"), SyncMeta::default());
    let m = SyncMeta {
        last_success_at: Some(Utc::now()),
        last_error: Some(SyncErrorInfo { code: "network".into(), message: "offline".into(), at: Utc::now() }),
        county_policy: Some(r#"{"county":{"name":"示范旗"}}"#.into()),
        county_policy_etag: Some("\"0123456789abcdef\"".into()),
        server_takes_gzip: true,
    };
    s.save_sync_meta(&m).expect("save");
    assert_eq!(s.sync_meta().expect("meta"), m);
}

/// Everything written survives closing and reopening (for on-disk backends).
/// `open` must open the same location each time; the previous store is
/// dropped before the next open.
pub fn survives_reopen(open: impl Fn() -> Box<dyn ClientStore>) {
    let me = Uuid::from_u128(100);
    let h = Uuid::now_v7();
    let (v1, o1, o2, seq2, device);
    {
        let s = open();
        device = s.device_id().expect("id");
        s.save_session(&StoredSession { user: user(me), tokens: None }).expect("session");
        let a = enqueue_visit(&*s, me);
        let b = enqueue_visit(&*s, me);
        (v1, o1, o2, seq2) = (a.0, a.1, b.1, b.2);
        assert!(s.quarantine_op(o1, &reason("invalid_field"), Utc::now()).expect("q"));
        s.apply_pulled(me, &PulledPage { reset: false, changes: vec![put(1, household(h))], next_cursor: "c1".into() })
            .expect("apply");
        s.save_sync_meta(&SyncMeta { last_success_at: Some(Utc::now()), ..SyncMeta::default() }).expect("meta");
        let (r, o, mut u) = attach(me, &"f".repeat(64));
        s.enqueue_photo(&r, &o, &u, Utc::now()).expect("photo");
        assert!(s.complete_op(o.op_id).expect("confirm photo"));
        u.state = UploadState::Uploading { bytes_done: 7, total: 1234 };
        u.upload_url = Some("/v1/photos/uploads/7".into());
        assert!(s.save_photo_upload(&u).expect("progress"));
    }
    let s = open();
    assert_eq!(s.device_id().expect("id"), device);
    assert_eq!(s.load_session().expect("session").map(|x| x.user.id), Some(me));
    assert_eq!(s.outbox(None, 10).expect("outbox").iter().map(|e| e.op.op_id).collect::<Vec<_>>(), vec![o2]);
    assert_eq!(s.quarantined().expect("q").iter().map(|q| q.op.op_id).collect::<Vec<_>>(), vec![o1]);
    assert!(state(&*s, EntityKind::Visit, v1).is_some_and(|st| st.is_pending()));
    assert_eq!(state(&*s, EntityKind::Household, h), Some(RecordState::Synced));
    assert_eq!(s.pull_state().expect("pull").map(|p| p.cursor), Some("c1".into()));
    assert!(s.sync_meta().expect("meta").last_success_at.is_some());
    let photo = s.photo_upload(&"f".repeat(64)).expect("photo").expect("queued");
    assert_eq!(photo.state, UploadState::Uploading { bytes_done: 7, total: 1234 });
    assert_eq!(photo.upload_url.as_deref(), Some("/v1/photos/uploads/7"));
    assert!(photo.confirmed);
    let (_, _, seq3) = enqueue_visit(&*s, me);
    assert!(seq3 > seq2, "sequences keep increasing across reopen");
}

/// An attach op, its record and its upload-queue entry are written together;
/// a refused enqueue writes none; the same photo attached again stays one entry
/// (a failed one starts afresh).
pub fn photo_queue_enqueue_is_atomic_and_merges(s: &dyn ClientStore) {
    let me = Uuid::from_u128(100);
    let (sha1, sha2) = ("a".repeat(64), "b".repeat(64));
    enqueue_visit(s, me);
    let (rec, op, up) = attach(me, &sha1);
    let seq = s.enqueue_photo(&rec, &op, &up, Utc::now()).expect("enqueue photo");
    let got = s.photo_upload(&sha1).expect("get").expect("queued");
    assert_eq!((got.seq, got.confirmed, &got.state), (seq, false, &UploadState::Pending));
    assert_eq!(state(s, EntityKind::Attachment, rec.id()), Some(RecordState::Pending { op_id: op.op_id, author: me }));
    assert_eq!(s.outbox(None, 10).expect("outbox").last().map(|e| e.op.op_id), Some(op.op_id));

    // the same op id again with another photo: refused, nothing of it written
    let (rec2, _, up2) = attach(me, &sha2);
    assert_eq!(s.enqueue_photo(&rec2, &op, &up2, Utc::now()), Err(StoreError::DuplicateOp(op.op_id)));
    assert_eq!(s.photo_upload(&sha2).expect("get"), None);
    assert_eq!(state(s, EntityKind::Attachment, rec2.id()), None);

    // the same bytes attached to another record: one entry, first place kept
    let mut failed = got.clone();
    failed.state = UploadState::Failed { code: "local_file_missing".into(), message: "gone".into(), permanent: true };
    failed.upload_url = Some("/v1/photos/uploads/x".into());
    failed.attempts = 3;
    assert!(s.save_photo_upload(&failed).expect("save"));
    let (rec3, op3, up3) = attach(me, &sha1);
    s.enqueue_photo(&rec3, &op3, &up3, Utc::now()).expect("again");
    let all = s.photo_uploads().expect("all");
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].seq, &all[0].state, all[0].attempts, &all[0].upload_url),
        (seq, &UploadState::Pending, 0, &None)
    );

    // queue order is attach order
    let (rec4, op4, up4) = attach(me, &sha2);
    s.enqueue_photo(&rec4, &op4, &up4, Utc::now()).expect("second photo");
    let order: Vec<String> = s.photo_uploads().expect("all").into_iter().map(|u| u.sha256).collect();
    assert_eq!(order, vec![sha1, sha2]);
}

/// The server's answer to the attach op confirms the photo; progress saves keep
/// the queue place and the confirmation; discarding an unconfirmed attach op
/// drops its entry.
pub fn photo_queue_confirm_progress_and_discard(s: &dyn ClientStore) {
    let me = Uuid::from_u128(100);
    let (sha1, sha2) = ("c".repeat(64), "d".repeat(64));
    let (r1, o1, u1) = attach(me, &sha1);
    let (r2, o2, u2) = attach(me, &sha2);
    let seq1 = s.enqueue_photo(&r1, &o1, &u1, Utc::now()).expect("1");
    s.enqueue_photo(&r2, &o2, &u2, Utc::now()).expect("2");
    assert!(s.complete_op(o1.op_id).expect("complete"));
    let mut got = s.photo_upload(&sha1).expect("get").expect("queued");
    assert!(got.confirmed);
    assert_eq!(state(s, EntityKind::Attachment, r1.id()), Some(RecordState::Synced));

    got.state = UploadState::Uploading { bytes_done: 512, total: 1234 };
    got.upload_url = Some("/v1/photos/uploads/1".into());
    got.attempts = 1;
    got.seq = 999;
    got.confirmed = false;
    assert!(s.save_photo_upload(&got).expect("save"));
    let back = s.photo_upload(&sha1).expect("get").expect("queued");
    assert_eq!(back.state, UploadState::Uploading { bytes_done: 512, total: 1234 });
    assert_eq!(back.upload_url.as_deref(), Some("/v1/photos/uploads/1"));
    assert_eq!((back.seq, back.confirmed, back.attempts), (seq1, true, 1), "place and confirmation are the store's");
    let stranger = PhotoUpload::new("e".repeat(64), 1, "image/png".into(), Utc::now());
    assert!(!s.save_photo_upload(&stranger).expect("unknown"));
    assert_eq!(s.photo_upload(&stranger.sha256).expect("get"), None);

    // the second attach is refused by the server and discarded by the user
    assert!(s.quarantine_op(o2.op_id, &reason("not_in_jurisdiction"), Utc::now()).expect("q"));
    assert!(!s.photo_upload(&sha2).expect("get").expect("still queued").confirmed);
    assert!(s.discard_quarantined(o2.op_id).expect("discard"));
    assert_eq!(s.photo_upload(&sha2).expect("get"), None);
    assert_eq!(s.photo_uploads().expect("all").len(), 1);
}
