//! The sent log's checks, part of the conformance suite
//! ([`crate::conformance_tests!`]). Test support: these functions panic by design.

use chrono::Utc;
use uuid::Uuid;

use super::conformance::{attach, enqueue_visit, reason};
use super::{ClientStore, UploadState, WipeScope};

/// Completed ops are kept; after a restore an author's are queued again at
/// their places (not those queued or quarantined meanwhile, not another
/// author's), their photos upload again, and a wipe of a user drops theirs.
pub fn sent_ops_requeue_after_a_restore(s: &dyn ClientStore) {
    let (a, b) = (Uuid::from_u128(100), Uuid::from_u128(200));
    let (_, o1, seq1) = enqueue_visit(s, a);
    let (_, o2, _) = enqueue_visit(s, b);
    let (_, o3, _) = enqueue_visit(s, a);
    let sha = "ab".repeat(32);
    let (rec, op4, up) = attach(a, &sha);
    s.enqueue_photo(&rec, &op4, &up, Utc::now()).expect("photo");
    assert_eq!(s.sent_len().expect("sent"), 0, "nothing sent yet");
    assert_eq!(s.complete_ops(&[o1, o2, op4.op_id]).expect("complete"), 3);
    let mut done = s.photo_upload(&sha).expect("get").expect("queued");
    assert!(done.confirmed);
    done.state = UploadState::Done;
    done.done_at = Some(Utc::now());
    assert!(s.save_photo_upload(&done).expect("uploaded"));
    assert_eq!(s.sent_len().expect("sent"), 3);
    assert!(s.quarantine_op(o3, &reason("conflict"), Utc::now()).expect("quarantine"));

    assert_eq!(s.requeue_sent(a).expect("requeue"), 2, "a's two sent ops");
    let queued: Vec<(u64, Uuid)> = s.outbox(None, 10).expect("outbox").iter().map(|e| (e.seq, e.op.op_id)).collect();
    assert_eq!(queued.first(), Some(&(seq1, o1)), "back at its place: {queued:?}");
    assert_eq!(queued.iter().map(|q| q.1).collect::<Vec<_>>(), vec![o1, op4.op_id]);
    let again = s.photo_upload(&sha).expect("get").expect("kept");
    assert!(!again.confirmed && again.state == UploadState::Pending && again.upload_url.is_none(), "{again:?}");
    assert_eq!(s.sent_len().expect("sent"), 1, "b's stays");
    assert_eq!(s.requeue_sent(a).expect("again"), 0, "nothing left of a's");

    // Sent again, completed again: kept again.
    assert_eq!(s.complete_ops(&[o1, op4.op_id]).expect("complete"), 2);
    assert_eq!(s.sent_len().expect("sent"), 3);
    s.wipe(WipeScope::User(b)).expect("wipe b");
    assert_eq!(s.sent_len().expect("sent"), 2, "b's sent op went with b's data");
    assert_eq!(s.requeue_sent(b).expect("requeue b"), 0);
    s.wipe(WipeScope::All).expect("wipe all");
    assert_eq!(s.sent_len().expect("sent"), 0);
}
