//! Lost races end to end: two real phones (sled stores) act on one dispute while
//! offline; the server applies the first to arrive, and the other's ops come
//! back as conflicts carrying the dispute as it stands — not as bare rejections.

use fengqiao_core::NewSession;
use fengqiao_domain::disputes::ClosingOutcome;
use fengqiao_domain::ladder::Level;
use fengqiao_domain::Record;
use fengqiao_tests::phone::{escalated_to_village, EscalatedToVillage};
use fengqiao_tests::TestServer;

/// Two village secretaries work the same case offline: one closes it; the other
/// records a session and closes it too. The second to sync gets both ops back as
/// conflicts carrying the closed dispute, and its phone then shows the close
/// that stands.
#[tokio::test]
async fn a_close_and_a_session_lost_to_a_colleagues_close_come_back_as_conflicts() {
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let case =
        escalated_to_village(&server, [dirs[1].path(), dirs[2].path(), dirs[3].path()], "排水沟堵塞引发争执").await;
    let EscalatedToVillage { secretary, firstsec, .. } = &case;
    secretary.sync().await.unwrap();
    secretary.decide_escalation(case.escalation, true, "村里接手".into()).unwrap();
    secretary.sync().await.unwrap();
    firstsec.sync().await.unwrap();
    assert_eq!(firstsec.dispute(case.dispute).unwrap().dispute.level, Level::Village);

    // both work offline (neither syncs in between)
    secretary.close_dispute(case.dispute, ClosingOutcome::Resolved, "双方和解".into()).unwrap();
    firstsec
        .record_session(NewSession {
            dispute_id: case.dispute,
            held_at: None,
            place: "村委会".into(),
            mediators: vec![],
            participants: vec![],
            record: "再次调解".into(),
            agreed: false,
        })
        .unwrap();
    firstsec.close_dispute(case.dispute, ClosingOutcome::NotResolved, "调解不成".into()).unwrap();
    assert_eq!(secretary.sync().await.unwrap().pushed_applied, 1);
    let report = firstsec.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.rejected, report.conflicts), (0, 0, 2));

    let winner = secretary.current_user().unwrap().id;
    let quarantined = firstsec.quarantined().unwrap();
    assert_eq!(quarantined.len(), 2);
    for q in &quarantined {
        assert_eq!(q.code, "conflict", "{}: {}", q.kind, q.message);
        let Some(Record::Dispute(current)) = &q.current else { panic!("{}: no current dispute", q.kind) };
        let closing = current.closing.as_ref().expect("the close that stands");
        assert_eq!((closing.closed_by, closing.outcome), (winner, ClosingOutcome::Resolved));
    }
    let kinds: Vec<&str> = quarantined.iter().map(|q| q.kind.as_str()).collect();
    assert!(kinds.contains(&"record_session") && kinds.contains(&"close_dispute"), "{kinds:?}");
    // after the pull, the loser's phone shows the close that stands
    let shown = firstsec.dispute(case.dispute).unwrap().dispute;
    assert_eq!(shown.closing.map(|c| c.closed_by), Some(winner));
}
