//! The phone decides with the server's limits: what the server would refuse
//! (a megabyte phone number, a 10 MiB closing note, a session in 1900, an
//! agreement in 2200, a dispute citing a lead that does not exist) is refused on
//! the phone before anything is queued, with the same stable codes; and what a
//! phone with an older, looser policy queued anyway leaves no lasting growth in
//! its store once discarded.

use std::path::Path;

use chrono::{TimeZone, Utc};
use fengqiao_core::{
    ClientError, ClientOptions, FieldClient, NewAgreement, NewDispute, NewFollowUp, NewSession, NewVisit,
};
use fengqiao_domain::disputes::{Analysis, ClosingOutcome, Difficulty, Party, Satisfaction};
use fengqiao_domain::ladder::Grade;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::VisitKind;
use fengqiao_tests::api::{dispute_body, ApiUser};
use fengqiao_tests::phone::{fast_options, phone_with, routine_visit, signed_in_synced, signed_in_synced_with};
use fengqiao_tests::TestServer;
use uuid::Uuid;

const USER: &str = "leader.t1v1g1";

fn new_dispute(origin: Uuid) -> NewDispute {
    NewDispute {
        kind: "neighbour".into(),
        origin_unit: origin,
        parties: vec![Party { name: "王建国".into(), household_id: None, phone: Some("13800000000".into()) }],
        summary: "宅基地界线".into(),
        grade: Grade::General,
        analysis: Analysis { cause: String::new(), consequences: String::new(), difficulty: Difficulty::Low },
        found_at: None,
        lead_id: None,
        level: None,
    }
}

fn reason(e: &ClientError) -> String {
    match e {
        ClientError::InvalidInput { reason, .. } | ClientError::Rejected { reason, .. } => reason.clone(),
        other => panic!("not a refusal: {other:?}"),
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|it| {
            it.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn the_phone_refuses_before_queueing_what_the_server_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let pdir = tempfile::tempdir().unwrap();
    let p = signed_in_synced(pdir.path(), &server.url(), &server, USER).await;
    let c = server.cred(USER).unwrap();
    let pending = || p.sync_status().unwrap().pending_ops;

    // a megabyte phone number; an invisible name
    let mut d = new_dispute(c.unit_id);
    d.parties[0].phone = Some("1".repeat(1 << 20));
    assert_eq!(reason(&p.report_dispute(d).unwrap_err()), "text_too_long");
    let mut d = new_dispute(c.unit_id);
    d.parties[0].name = "\u{200B}".into();
    assert_eq!(reason(&p.report_dispute(d).unwrap_err()), "invalid_field");
    // a lead nobody found
    let mut d = new_dispute(c.unit_id);
    d.lead_id = Some(Uuid::now_v7());
    assert_eq!(reason(&p.report_dispute(d).unwrap_err()), "not_in_jurisdiction");
    assert_eq!(pending(), 0, "nothing refused was queued");

    let dispute = p.report_dispute(new_dispute(c.unit_id)).unwrap();
    // dates out of 2000–2100, a 10 MiB note
    let y1900 = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
    let y2200 = Utc.with_ymd_and_hms(2200, 1, 1, 0, 0, 0).unwrap();
    let session = NewSession {
        dispute_id: dispute.id,
        held_at: Some(y1900),
        place: "村委会".into(),
        mediators: vec![],
        participants: vec![],
        record: "调解".into(),
        agreed: false,
    };
    assert_eq!(reason(&p.record_session(session).unwrap_err()), "invalid_field");
    let agreement = NewAgreement {
        dispute_id: dispute.id,
        signed_at: Some(y2200),
        terms: "赔偿".into(),
        sum_fen: 0,
        obligations: String::new(),
        signature_photos: vec![],
    };
    assert_eq!(reason(&p.record_agreement(agreement).unwrap_err()), "invalid_field");
    let follow = NewFollowUp {
        dispute_id: dispute.id,
        at: Some(y1900),
        fulfilled: true,
        satisfaction: Satisfaction::Satisfied,
        note: String::new(),
    };
    assert!(p.record_follow_up(follow).is_err());
    let note = "字".repeat(10 * 1024 * 1024 / 3);
    assert_eq!(reason(&p.close_dispute(dispute.id, ClosingOutcome::Resolved, note).unwrap_err()), "text_too_long");
    assert_eq!(pending(), 1, "only the good report is queued");

    // a dispute from a real lead is taken by both
    let home = &p.households().unwrap()[0];
    let visit = p
        .record_visit(NewVisit {
            kind: VisitKind::LeadFound,
            leads: vec!["两户争吵".into()],
            ..routine_visit(home, "发现线索")
        })
        .unwrap();
    let draft = p.dispute_draft_from_lead(visit.id, visit.leads[0].id).unwrap();
    p.report_dispute(NewDispute { kind: "neighbour".into(), parties: new_dispute(c.unit_id).parties, ..draft })
        .unwrap();
    let report = p.sync().await.unwrap();
    assert_eq!((report.rejected, pending()), (0, 0), "{report:?}");

    // the server refuses a report citing an unknown lead the same way
    let leader = ApiUser::login(&server, USER).await;
    let mut body =
        dispute_body(Uuid::now_v7(), &leader.case_number("T01V01", 0).await, c.unit_id, "group", "land", "general");
    body["lead_id"] = serde_json::json!(Uuid::now_v7());
    let out = leader.push("report_dispute", body).await;
    assert_eq!(
        (out["status"].as_str(), out["code"].as_str()),
        (Some("rejected"), Some("not_in_jurisdiction")),
        "{out}"
    );
}

/// A phone on an older, looser policy queues large visits that the server then
/// refuses; discarding them gives their space back: the outbox journal is
/// compacted at the discard, sled's files (which sled never shrinks) are
/// rewritten at the next open.
#[tokio::test]
async fn discarding_large_refused_ops_leaves_no_lasting_growth() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let pdir = tempfile::tempdir().unwrap();
    let mut loose = Policy::default();
    loose.visits.max_notes_chars = 100_000;
    let opts = ClientOptions { policy: loose, adopt_server_policy: false, ..fast_options() };
    let empty;
    let (full, discarded);
    {
        let p: FieldClient = signed_in_synced_with(pdir.path(), &server.url(), &server, USER, opts.clone()).await;
        empty = dir_bytes(pdir.path());
        let home = p.households().unwrap()[0].clone();
        for i in 0..10 {
            p.record_visit(routine_visit(&home, &format!("{i}{}", "字".repeat(99_000)))).unwrap();
        }
        let report = p.sync().await.unwrap();
        assert_eq!(report.rejected, 10);
        full = dir_bytes(pdir.path());
        for q in p.quarantined().unwrap() {
            assert_eq!(q.code, "text_too_long");
            p.discard_quarantined(q.op_id).unwrap();
        }
        assert!(p.quarantined().unwrap().is_empty());
        discarded = dir_bytes(pdir.path());
    }
    // reopened: the store rewrites sled's files, which outgrew what they hold
    let p = phone_with(pdir.path(), &server.url(), opts.clone());
    let at_reopen = dir_bytes(pdir.path());
    assert_eq!(p.sync_status().unwrap().pending_ops, 0);
    for i in 0..10 {
        let home = p.households().unwrap()[0].clone();
        p.record_visit(routine_visit(&home, &format!("再来{i}"))).unwrap();
    }
    p.sync().await.unwrap();
    let reopened = dir_bytes(pdir.path());
    let figures = format!(
        "phone store on disk: empty {empty} B, 10 refused 300 KB visits {full} B, after discarding {discarded} B, \
         reopened {at_reopen} B, used again {reopened} B"
    );
    println!("{figures}");
    assert!(full > empty + 2_000_000, "the large ops were stored: {figures}");
    // Measured: reopened = empty + one 512 KiB sled segment; used again adds a
    // 256 KiB journal chunk and sled's next writes. Before, 21 MB stayed.
    assert!(at_reopen < empty + 1024 * 1024, "the discarded ops' space came back: {figures}");
    assert!(reopened < empty + 3 * 512 * 1024, "and stays back once the store is used: {figures}");
}
