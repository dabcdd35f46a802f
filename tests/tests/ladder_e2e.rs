//! The four-level ladder end to end: real server (sled, demo county), real phone
//! cores (sled), real HTTP on loopback; phones cut off by the fault proxy while
//! they work offline. Where the phone refuses something, the server is asked the
//! same thing directly (a raw push) to show the two agree.

use std::sync::Arc;

use chrono::{Duration, Utc};
use fengqiao_core::{ClientError, ClientOptions, DisputeActions, ManualClock, NewAgreement, NewFollowUp, NewSession};
use fengqiao_domain::disputes::{ClosingOutcome, EscalationReason, FlowKind, Satisfaction};
use fengqiao_domain::ladder::{DeadlineState, Grade, Level};
use fengqiao_domain::org::{Role, RoleGrant};
use fengqiao_domain::wire::{DecideEscalation, Op, Outcome};
use fengqiao_server::store::UserRecord;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::phone::{
    escalated_to_village, fast_options, new_dispute, phone, signed_in_synced, signed_in_synced_with, EscalatedToVillage,
};
use fengqiao_tests::{FaultMode, FaultProxy, TestServer};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn session(dispute_id: Uuid, agreed: bool) -> NewSession {
    NewSession {
        dispute_id,
        held_at: None,
        place: "村委会".into(),
        mediators: vec![],
        participants: vec!["老党员王大爷".into()],
        record: if agreed { "双方同意按协议履行" } else { "双方各执一词" }.into(),
        agreed,
    }
}

fn reason_of(e: &ClientError) -> &str {
    match e {
        ClientError::Rejected { reason, .. } | ClientError::InvalidInput { reason, .. } => reason,
        other => panic!("not a refusal: {other:?}"),
    }
}

fn decide_op(escalation_id: Uuid, approve: bool) -> Op {
    Op::DecideEscalation(DecideEscalation { escalation_id, approve, comment: "意见".into() })
}

/// The whole ladder: group → village → judicial office → town, with the
/// reporter and the first approver offline while they work; the flow table on
/// the reporter's phone holds every step, in order.
#[tokio::test]
async fn a_dispute_climbs_the_whole_ladder_with_phones_offline_in_between() {
    let dirs: Vec<tempfile::TempDir> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let leader_net = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let sec_net = FaultProxy::start(server.addr(), FaultMode::Pass).await.unwrap();
    let leader = signed_in_synced(dirs[1].path(), &leader_net.url(), &server, "leader.t1v1g1").await;
    let firstsec = signed_in_synced(dirs[2].path(), &sec_net.url(), &server, "firstsec.t1v1").await;
    let judicial = signed_in_synced(dirs[3].path(), &url, &server, "judicial.t1").await;
    let committee = signed_in_synced(dirs[4].path(), &url, &server, "committee.t1").await;
    assert!(leader.case_numbers_left().unwrap() >= 100, "a sync reserves case numbers");
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;

    // the group leader, offline, reports and asks the village to take it
    leader_net.set_mode(FaultMode::Refuse);
    let d = leader.report_dispute(new_dispute(group, Grade::Larger, "两户因宅基地边界争执")).unwrap();
    assert!(d.case_number.starts_with("T01V01-"), "{}", d.case_number);
    let e1 = leader.request_escalation(
        d.id,
        Level::Village,
        EscalationReason::RepeatedMediationFailed,
        "组内两次调解未果".into(),
    );
    let e1 = e1.unwrap();
    assert!(leader.sync().await.unwrap_err().is_transient());
    leader_net.set_mode(FaultMode::Pass);
    assert_eq!(leader.sync().await.unwrap().pushed_applied, 2);

    // the first secretary pulls the request, then approves it offline
    firstsec.sync().await.unwrap();
    let inbox = firstsec.escalation_inbox().unwrap();
    assert_eq!(inbox.iter().map(|i| i.escalation.id).collect::<Vec<_>>(), vec![e1.id]);
    sec_net.set_mode(FaultMode::Refuse);
    let decided = firstsec.decide_escalation(e1.id, true, "同意移交村调委会".into()).unwrap();
    assert!(decided.decision.as_ref().is_some_and(|x| x.approved));
    assert_eq!(firstsec.dispute(d.id).unwrap().dispute.level, Level::Village, "shown at once, before any sync");
    assert!(firstsec.escalation_inbox().unwrap().is_empty());
    assert!(firstsec.sync().await.unwrap_err().is_transient());
    sec_net.set_mode(FaultMode::Pass);
    let report = firstsec.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.conflicts), (1, 0));
    leader.sync().await.unwrap();
    assert_eq!(leader.dispute(d.id).unwrap().dispute.level, Level::Village);
    assert_eq!(leader.allowed_actions(d.id).unwrap(), DisputeActions::default(), "the group no longer handles it");

    // the village mediates, then asks the judicial office (one step: not major)
    firstsec.record_session(session(d.id, false)).unwrap();
    assert_eq!(firstsec.allowed_actions(d.id).unwrap().escalate_to, vec![Level::JudicialOffice]);
    firstsec
        .request_escalation(d.id, Level::JudicialOffice, EscalationReason::PartiesAgitated, "双方情绪激动".into())
        .unwrap();
    assert_eq!(firstsec.sync().await.unwrap().pushed_applied, 2);

    // the judicial office approves and, still offline, asks the town to take it
    judicial.sync().await.unwrap();
    let e2 = judicial.escalation_inbox().unwrap().remove(0).escalation;
    assert_eq!(e2.to_level, Level::JudicialOffice);
    judicial.decide_escalation(e2.id, true, "司法所受理".into()).unwrap();
    let e3 = judicial.request_escalation(d.id, Level::Town, EscalationReason::OutsideLevelScope, "涉及多户".into());
    let e3 = e3.unwrap();
    assert_eq!(judicial.sync().await.unwrap().pushed_applied, 2);

    // the town committee approves, mediates to an agreement, closes, follows up
    committee.sync().await.unwrap();
    assert_eq!(committee.escalation_inbox().unwrap()[0].escalation.id, e3.id);
    committee.decide_escalation(e3.id, true, "镇综合调委会受理".into()).unwrap();
    committee.record_session(session(d.id, true)).unwrap();
    let signature = hex::encode(Sha256::digest(b"signatures page"));
    let agreement = NewAgreement {
        dispute_id: d.id,
        signed_at: None,
        terms: "重新勘界, 李四赔偿赵六损失".into(),
        sum_fen: 200_000,
        obligations: "一个月内付清".into(),
        signature_photos: vec![signature.clone()],
    };
    assert_eq!(committee.record_agreement(agreement).unwrap().signature_photos, vec![signature]);
    committee.close_dispute(d.id, ClosingOutcome::Resolved, "达成协议".into()).unwrap();
    let follow = NewFollowUp {
        dispute_id: d.id,
        at: None,
        fulfilled: true,
        satisfaction: Satisfaction::Satisfied,
        note: String::new(),
    };
    committee.record_follow_up(follow).unwrap();
    let report = committee.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.rejected, report.conflicts), (5, 0, 0));

    // the reporter's phone holds the whole flow table, in order
    leader.sync().await.unwrap();
    let item = leader.dispute(d.id).unwrap();
    assert_eq!(item.dispute.level, Level::Town);
    assert_eq!(item.dispute.closing.as_ref().map(|c| c.outcome), Some(ClosingOutcome::Resolved));
    assert_eq!(item.deadline_state, None, "closed: no deadline");
    let flow = leader.flow_table(d.id).unwrap();
    use FlowKind::*;
    let kinds: Vec<FlowKind> = flow.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        vec![
            Reported,
            EscalationRequested,
            EscalationApproved,
            SessionRecorded,
            EscalationRequested,
            EscalationApproved,
            EscalationRequested,
            EscalationApproved,
            SessionRecorded,
            AgreementRecorded,
            Closed,
            FollowUpRecorded,
        ]
    );
    assert_eq!(flow.iter().map(|f| f.step).collect::<Vec<_>>(), (1..=12).collect::<Vec<u32>>());
    let levels: Vec<Level> = flow.iter().map(|f| f.level).collect();
    assert_eq!(&levels[..3], &[Level::Group, Level::Group, Level::Village]);
    assert_eq!(levels[5], Level::JudicialOffice);
    assert!(levels[7..].iter().all(|l| *l == Level::Town));
    assert!(flow.iter().all(|f| f.case_number == d.case_number));
    let file = leader.dispute_file(d.id).unwrap();
    assert_eq!((file.escalations.len(), file.sessions.len(), file.agreements.len()), (3, 2, 1));
    assert_eq!(file.follow_ups.len(), 1);
}

/// Two approvers decide the same request offline: the first the server applies
/// stands; the second comes back as a conflict carrying that decision, which
/// the loser's phone settles into its history of decisions (not an error left
/// in quarantine), tells once, and shows with the decider's name.
#[tokio::test]
async fn concurrent_approvals_the_first_stands_the_second_sees_it() {
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let case = escalated_to_village(&server, [dirs[1].path(), dirs[2].path(), dirs[3].path()], "借款纠纷").await;
    let EscalatedToVillage { leader, secretary, firstsec, dispute: d, escalation: e } = &case;
    secretary.sync().await.unwrap();
    firstsec.sync().await.unwrap();

    // both approve while offline (neither syncs in between)
    secretary.decide_escalation(*e, true, "村书记同意".into()).unwrap();
    firstsec.decide_escalation(*e, true, "第一书记同意".into()).unwrap();
    assert_eq!(secretary.sync().await.unwrap().pushed_applied, 1);
    let report = firstsec.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.conflicts), (0, 1));

    let winner = secretary.current_user().unwrap().id;
    let winner_name = secretary.current_user().unwrap().display_name;
    assert!(firstsec.quarantined().unwrap().is_empty(), "a lost race is not an error for the user");
    let mine = firstsec.my_decisions().unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!((mine[0].approved, mine[0].comment.as_str(), mine[0].escalation_id), (true, "第一书记同意", *e));
    let standing = mine[0].superseded_by.as_ref().expect("the decision that stands");
    assert_eq!(
        (standing.decision.approved, standing.decision.decided_by, standing.decision.comment.as_str()),
        (true, winner, "村书记同意")
    );
    // the decider by name: the server sent the names within the loser's jurisdiction
    assert_eq!(standing.decided_by_name.as_deref(), Some(winner_name.as_str()));
    let told: Vec<_> = firstsec
        .pending_notices()
        .unwrap()
        .into_iter()
        .filter(|n| n.kind == fengqiao_core::NoticeKind::DecisionSuperseded)
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].body.contains(&winner_name) && told[0].body.contains("已先行批准"), "{}", told[0].body);
    let case_view = firstsec.inbox_case(*e).unwrap();
    assert!(!case_view.may_decide);
    assert_eq!(case_view.standing.as_ref().map(|s| s.decision.decided_by), Some(winner));
    let below = leader.current_user().unwrap();
    assert_eq!(firstsec.display_name(below.id).unwrap(), Some(below.display_name), "a group of the village");
    let store = &server.state().unwrap().store;
    let elsewhere = store.user_by_username("secretary.t1v2").unwrap().unwrap();
    assert_eq!(firstsec.display_name(elsewhere.id).unwrap(), None, "no names from outside the jurisdiction");
    let above = store.user_by_username("committee.t1").unwrap().unwrap();
    assert_eq!(firstsec.display_name(above.id).unwrap(), None, "nor from the town above");
    // after the pull, the loser's phone shows the server's decision, not its own
    let file = firstsec.dispute_file(*d).unwrap();
    let shown = file.escalations[0].decision.as_ref().unwrap();
    assert_eq!(shown.decided_by, winner);
    assert_eq!(file.item.dispute.level, Level::Village);
    assert!(!file.item.pending && file.item.pending_escalation.is_none());
    // a second sync tells nothing again
    firstsec.sync().await.unwrap();
    assert!(firstsec.refresh_notices().unwrap().is_empty());
}

/// Every demo role but the village's secretaries is refused a group → village
/// approval — by the phone (which does not offer it) and by the server alike.
#[tokio::test]
async fn forbidden_approvals_for_every_other_role() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let leader = signed_in_synced(dirs[1].path(), &url, &server, "leader.t1v1g1").await;
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;
    let d = leader.report_dispute(new_dispute(group, Grade::General, "土地纠纷")).unwrap();
    let e =
        leader.request_escalation(d.id, Level::Village, EscalationReason::OutsideLevelScope, String::new()).unwrap();
    leader.sync().await.unwrap();

    let matrix = [
        ("leader.t1v1g1", "role_not_allowed"),
        ("cadre.t1v1", "role_not_allowed"),
        ("mediator.t1v1", "role_not_allowed"),
        ("advisor.t1v1", "role_not_allowed"),
        ("judicial.t1", "role_not_allowed"),
        ("committee.t1", "role_not_allowed"),
        ("mediator.t1", "role_not_allowed"),
        ("leader.t1v1g2", "not_in_jurisdiction"),
        ("secretary.t1v2", "not_in_jurisdiction"),
        ("firstsec.t1v2", "not_in_jurisdiction"),
        ("judicial.t2", "not_in_jurisdiction"),
        ("admin", "not_in_jurisdiction"),
    ];
    for (i, (user, want)) in matrix.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let p = if i == 0 { None } else { Some(signed_in_synced(dir.path(), &url, &server, user).await) };
        let p = p.as_ref().unwrap_or(&leader);
        assert!(p.escalation_inbox().unwrap().iter().all(|x| x.escalation.id != e.id), "{user}: not in the inbox");
        assert_eq!(p.allowed_actions(d.id).unwrap().decide, None, "{user}: not offered");
        let err = p.decide_escalation(e.id, true, String::new()).unwrap_err();
        assert_eq!(reason_of(&err), *want, "{user}: refused on the phone");
        match ApiUser::login(&server, user).await.push_op(decide_op(e.id, true)).await {
            Outcome::Rejected { code, .. } => assert_eq!(code.as_str(), *want, "{user}: refused by the server"),
            other => panic!("{user}: {other:?}"),
        }
    }
    for user in ["secretary.t1v1", "firstsec.t1v1"] {
        let dir = tempfile::tempdir().unwrap();
        let p = signed_in_synced(dir.path(), &url, &server, user).await;
        assert_eq!(p.allowed_actions(d.id).unwrap().decide, Some(e.id), "{user} may decide");
        assert_eq!(p.escalation_inbox().unwrap()[0].escalation.id, e.id);
    }
    let _ = &dirs[2];
}

/// Someone who both asked and approves (group leader and first secretary of the
/// village) may not decide their own request: not offered, refused by both.
#[tokio::test]
async fn nobody_approves_their_own_request() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;
    let village = server.cred("firstsec.t1v1").unwrap().unit_id;
    let password = "both-roles-password-1";
    let store = server.state().unwrap().store.clone();
    store
        .create_user(&UserRecord {
            id: Uuid::now_v7(),
            username: "both.t1v1".into(),
            display_name: "组长兼第一书记".into(),
            password_hash: fengqiao_server::auth::password::hash(password).unwrap(),
            grants: vec![
                RoleGrant { role: Role::GroupLeader, unit_id: group },
                RoleGrant { role: Role::FirstSecretary, unit_id: village },
            ],
            disabled: false,
            must_change_password: false,
            created_at: Utc::now(),
        })
        .unwrap();
    let p = phone(dirs[1].path(), &server.url());
    p.login("both.t1v1".into(), password.into()).await.unwrap();
    p.sync().await.unwrap();
    let d = p.report_dispute(new_dispute(group, Grade::General, "家庭纠纷")).unwrap();
    assert_eq!(d.level, Level::Group, "reported at the lowest level they handle");
    let e =
        p.request_escalation(d.id, Level::Village, EscalationReason::RepeatedMediationFailed, String::new()).unwrap();
    p.sync().await.unwrap();
    assert!(p.escalation_inbox().unwrap().is_empty());
    assert_eq!(p.allowed_actions(d.id).unwrap().decide, None);
    assert_eq!(reason_of(&p.decide_escalation(e.id, true, String::new()).unwrap_err()), "self_approval");

    let both = ApiUser::login_with(&server, "both.t1v1", password).await;
    let outcome = both.push_op(decide_op(e.id, true)).await;
    assert!(matches!(&outcome, Outcome::Rejected { code, .. } if code.as_str() == "self_approval"));
}

/// A major dispute may skip levels (straight to the town); a general one may
/// not, on the phone or on the server.
#[tokio::test]
async fn only_a_major_dispute_skips_levels() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let url = server.url();
    let leader = signed_in_synced(dirs[1].path(), &url, &server, "leader.t1v1g1").await;
    let committee = signed_in_synced(dirs[2].path(), &url, &server, "committee.t1").await;
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;

    let general = leader.report_dispute(new_dispute(group, Grade::General, "一般纠纷")).unwrap();
    assert_eq!(leader.allowed_actions(general.id).unwrap().escalate_to, vec![Level::Village]);
    let err = leader.request_escalation(general.id, Level::Town, EscalationReason::Other, "越级".into()).unwrap_err();
    assert_eq!(reason_of(&err), "invalid_field");

    let major = leader.report_dispute(new_dispute(group, Grade::Major, "群体性土地纠纷")).unwrap();
    let all_up = vec![Level::Village, Level::JudicialOffice, Level::Town];
    assert_eq!(leader.allowed_actions(major.id).unwrap().escalate_to, all_up);
    let e =
        leader.request_escalation(major.id, Level::Town, EscalationReason::MajorGrade, "涉及三十余户".into()).unwrap();
    leader.sync().await.unwrap();

    // the server refuses the general skip too
    let skip = fengqiao_domain::disputes::Escalation {
        id: Uuid::now_v7(),
        dispute_id: general.id,
        from_level: Level::Group,
        to_level: Level::Town,
        reason: EscalationReason::Other,
        note: "越级".into(),
        requested_by: Uuid::nil(),
        requested_at: Utc::now(),
        grade: Grade::General,
        to_unit: None,
        decision: None,
    };
    match ApiUser::login(&server, "leader.t1v1g1").await.push_op(Op::RequestEscalation(skip)).await {
        Outcome::Rejected { code, .. } => assert_eq!(code.as_str(), "invalid_field"),
        other => panic!("{other:?}"),
    }

    committee.sync().await.unwrap();
    let inbox = committee.escalation_inbox().unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!((inbox[0].escalation.id, inbox[0].escalation.grade), (e.id, Grade::Major));
    committee.decide_escalation(e.id, true, "镇里直接受理".into()).unwrap();
    committee.sync().await.unwrap();
    leader.sync().await.unwrap();
    assert_eq!(leader.dispute(major.id).unwrap().dispute.level, Level::Town);
    assert_eq!(leader.dispute(general.id).unwrap().dispute.level, Level::Group);
}

/// Deadlines by grade, counted from the server's `level_since`, with the
/// phone's clock moved forward: ok → approaching → overdue.
#[tokio::test]
async fn deadline_warnings_follow_the_clock() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let options = ClientOptions { clock: clock.clone(), ..fast_options() };
    let leader = signed_in_synced_with(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", options).await;
    let c = server.cred("leader.t1v1g1").unwrap();
    let general = leader.report_dispute(new_dispute(c.unit_id, Grade::General, "一般")).unwrap();
    let larger = leader.report_dispute(new_dispute(c.unit_id, Grade::Larger, "较大")).unwrap();
    leader.sync().await.unwrap();
    let g = leader.dispute(general.id).unwrap();
    assert!(!g.pending, "the server's copy, with its level_since");
    assert_eq!(g.deadline, g.dispute.level_since + Duration::days(7));
    assert_eq!(leader.dispute(larger.id).unwrap().deadline, g.dispute.level_since + Duration::days(15));
    let state = |id| leader.dispute(id).unwrap().deadline_state;
    assert_eq!(state(general.id), Some(DeadlineState::Ok));
    clock.set(g.dispute.level_since + Duration::days(5) + Duration::hours(1));
    assert_eq!(state(general.id), Some(DeadlineState::Approaching));
    assert_eq!(state(larger.id), Some(DeadlineState::Ok));
    clock.set(g.dispute.level_since + Duration::days(7));
    assert_eq!(state(general.id), Some(DeadlineState::Overdue));
    let listed = leader.list_disputes().unwrap();
    assert_eq!(listed[0].dispute.id, general.id, "the soonest deadline first");
    assert_eq!(listed[0].deadline_state, Some(DeadlineState::Overdue));
    clock.set(g.dispute.level_since + Duration::days(14));
    assert_eq!(state(larger.id), Some(DeadlineState::Approaching));
}
