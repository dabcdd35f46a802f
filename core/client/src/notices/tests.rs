//! Being told, on one phone with no server: each kind of event told once, the
//! dedupe surviving a reopen of the store, racing computations giving one
//! notice, a lost decision settled out of quarantine into the history.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fengqiao_domain::disputes::{
    Analysis, Closing, ClosingOutcome, Difficulty, Dispute, Escalation, EscalationDecision, EscalationReason, Party,
};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use fengqiao_domain::subsidy::{CaseReview, Subsidy, SubsidyStatus};
use fengqiao_domain::wire::{Change, ChangeAction, GrantInfo, UserInfo};
use fengqiao_domain::Record;
use uuid::Uuid;

use crate::store::{test_key, ClientStore, PulledPage, QuarantineReason, StoredSession};
use crate::*;

const COUNTY: u128 = 1;
const TOWN: u128 = 2;
const VILLAGE: u128 = 3;
const GROUP: u128 = 4;
const LEADER: u128 = 100;
const FIRST_SEC: u128 = 300;
const VILLAGE_SEC: u128 = 301;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn unit(n: u128, code: &str, level: UnitLevel, parent: Option<u128>) -> OrgUnit {
    OrgUnit {
        id: id(n),
        code: code.into(),
        name: code.into(),
        level,
        parent: parent.map(id),
        kind: None,
        offices: vec![],
    }
}

fn chain() -> Vec<OrgUnit> {
    vec![
        unit(GROUP, "G01", UnitLevel::Group, Some(VILLAGE)),
        unit(VILLAGE, "V01", UnitLevel::Village, Some(TOWN)),
        unit(TOWN, "T01", UnitLevel::Town, Some(COUNTY)),
        unit(COUNTY, "C01", UnitLevel::County, None),
    ]
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 20, 3, 0, 0).single().expect("time")
}

fn put(seq: u64, record: Record) -> Change {
    Change { seq, action: ChangeAction::Put, entity: record.kind(), id: record.id(), record: Some(record) }
}

fn sign_in(store: &dyn ClientStore, user: u128, role: Role, at: u128) {
    let ancestors = chain().into_iter().skip_while(|u| u.id != id(at)).collect();
    let info = UserInfo {
        id: id(user),
        username: format!("u{user}"),
        display_name: format!("用户{user}"),
        roles: vec![GrantInfo {
            grant: RoleGrant { role, unit_id: id(at) },
            unit_name: "一村".into(),
            ancestors,
            offices: vec![],
        }],
    };
    store.save_session(&StoredSession { user: info, tokens: None }).expect("session");
}

fn pull(store: &dyn ClientStore, user: u128, from: u64, records: Vec<Record>) {
    let changes: Vec<Change> = records.into_iter().enumerate().map(|(i, r)| put(from + i as u64, r)).collect();
    let next = (from + changes.len() as u64).to_string();
    store.apply_pulled(id(user), &PulledPage { reset: false, changes, next_cursor: next }).expect("pull");
}

fn client(store: Arc<dyn ClientStore>, clock: Arc<ManualClock>) -> FieldClient {
    let options = ClientOptions { clock, ..ClientOptions::default() };
    FieldClient::with_store(store, "http://127.0.0.1:9".into(), options).expect("client")
}

fn dispute(n: u128, level: Level, since: DateTime<Utc>) -> Dispute {
    Dispute {
        id: id(n),
        case_number: format!("T01V01-2026-0001-{n:03}"),
        kind: "neighbour".into(),
        origin_unit: id(GROUP),
        parties: vec![Party { name: "王五".into(), household_id: None, phone: None }],
        summary: "排水沟".into(),
        grade: Grade::General,
        analysis: Analysis { cause: "排水".into(), consequences: "争吵".into(), difficulty: Difficulty::Low },
        found_at: since,
        lead_id: None,
        reported_by: id(LEADER),
        level,
        handler_unit: if level == Level::Group { id(GROUP) } else { id(VILLAGE) },
        level_since: since,
        registered_at: since,
        pending_escalation: None,
        closing: None,
        flow_count: 1,
        case_file: vec![],
        credited: vec![],
        earlier_credit: vec![],
        payees: vec![],
        deadline_floor: None,
        policy_version: String::new(),
        deadlines: None,
    }
}

fn escalation(n: u128, dispute: u128, at: DateTime<Utc>) -> Escalation {
    Escalation {
        id: id(n),
        dispute_id: id(dispute),
        from_level: Level::Group,
        to_level: Level::Village,
        reason: EscalationReason::RepeatedMediationFailed,
        note: "两次调解未成".into(),
        requested_by: id(LEADER),
        requested_at: at,
        grade: Grade::General,
        to_unit: None,
        decision: None,
    }
}

/// A dispute at the group with an escalation to the village waiting.
fn waiting(d: u128, e: u128) -> Vec<Record> {
    let mut dis = dispute(d, Level::Group, t0() - Duration::days(1));
    dis.pending_escalation = Some(id(e));
    vec![Record::Unit(chain()[0].clone()), Record::Dispute(dis), Record::Escalation(escalation(e, d, t0()))]
}

fn first_secretary(store: Arc<dyn ClientStore>, clock: Arc<ManualClock>) -> FieldClient {
    sign_in(store.as_ref(), FIRST_SEC, Role::FirstSecretary, VILLAGE);
    client(store, clock)
}

/// The notices about decisions (a first secretary is also told of the screening due).
fn about_decisions(told: Vec<Notice>) -> Vec<Notice> {
    told.into_iter().filter(|n| n.kind != NoticeKind::ScreeningDue).collect()
}

#[test]
fn an_escalation_awaiting_is_told_once_even_across_a_reopen_of_the_store() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(ManualClock::new(t0()));
    {
        let store: Arc<dyn ClientStore> = Arc::new(SledClientStore::open(dir.path(), &test_key()).expect("open"));
        pull(store.as_ref(), FIRST_SEC, 1, waiting(10, 20));
        let phone = first_secretary(store, clock.clone());
        let told = about_decisions(phone.refresh_notices().expect("refresh"));
        assert_eq!(told.len(), 1, "{told:?}");
        let n = &told[0];
        assert_eq!((n.kind, n.tab, n.subject_id), (NoticeKind::AwaitsDecision, NoticeTab::Inbox, Some(id(20))));
        assert_eq!(n.title, "待您审批");
        assert!(n.body.contains("T01V01-2026-0001-010") && n.body.contains("村"), "{}", n.body);
        assert!(phone.refresh_notices().expect("again").is_empty(), "never told twice");
        assert_eq!(phone.pending_notices().expect("pending").len(), 2, "kept until the app shows them");
        assert_eq!(phone.tab_counts().expect("counts").inbox, 1);
    }
    // the phone restarts: the same event is not told again; the unshown one waits
    let store: Arc<dyn ClientStore> = Arc::new(SledClientStore::open(dir.path(), &test_key()).expect("reopen"));
    let phone = client(store, clock);
    assert!(phone.refresh_notices().expect("after reopen").is_empty());
    let pending = phone.pending_notices().expect("pending");
    assert_eq!(pending.len(), 2);
    let mut keys: Vec<String> = pending.iter().map(|n| n.key.clone()).collect();
    keys.push("unknown".into());
    assert_eq!(phone.acknowledge_notices(keys).expect("ack"), 2);
    assert!(phone.pending_notices().expect("none").is_empty());
    assert!(phone.refresh_notices().expect("after ack").is_empty(), "acknowledged is still seen");
    assert_eq!(phone.tab_counts().expect("counts").notices, 0);
}

#[test]
fn computations_racing_on_one_phone_tell_an_event_once() {
    // many rounds, each with a fresh phone and eight threads released at once
    for round in 0..40 {
        let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
        pull(store.as_ref(), FIRST_SEC, 1, waiting(10, 20));
        let phone = Arc::new(first_secretary(store, Arc::new(ManualClock::new(t0()))));
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (p, b) = (phone.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    p.refresh_notices().expect("refresh").into_iter().map(|n| n.key).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut keys: Vec<String> = handles.into_iter().flat_map(|h| h.join().expect("thread")).collect();
        let all = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!((all, keys.len()), (2, 2), "round {round}: awaiting and the screening, each told once");
        assert_eq!(phone.pending_notices().expect("pending").len(), 2);
    }
}

#[test]
fn a_mediator_is_told_of_a_decision_deadlines_a_returned_file_and_a_payment_once_each() {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    sign_in(store.as_ref(), LEADER, Role::GroupLeader, GROUP);
    let clock = Arc::new(ManualClock::new(t0()));
    // a request decided by the village; a case at the group due within two days;
    // a resolved case whose file came back; two paid subsidies, one long ago
    let mut decided = escalation(21, 11, t0() - Duration::days(1));
    decided.decision = Some(EscalationDecision {
        approved: true,
        comment: String::new(),
        decided_by: id(FIRST_SEC),
        decided_at: t0(),
    });
    let due = dispute(12, Level::Group, t0() - Duration::days(6));
    let mut resolved = dispute(13, Level::Group, t0() - Duration::days(20));
    resolved.closing = Some(Closing {
        outcome: ClosingOutcome::Resolved,
        note: String::new(),
        closed_by: id(LEADER),
        closed_at: t0() - Duration::days(3),
        level: Level::Group,
    });
    resolved.payees = vec![id(LEADER)];
    let review = CaseReview {
        id: id(30),
        dispute_id: id(13),
        score: 60,
        passed: false,
        reasons: vec!["missing: rights_notice".into(), "笔录字迹不清".into()],
        reviewed_grade: None,
        reviewed_difficulty: None,
        correction_reason: String::new(),
        reviewer: id(500),
        reviewed_at: t0() - Duration::hours(5),
    };
    let paid = |n: u128, at: DateTime<Utc>| Subsidy {
        id: id(n),
        dispute_id: Some(id(13)),
        consultation_id: None,
        case_number: format!("T01V01-2026-0001-{n:03}"),
        payee: id(LEADER),
        amount_fen: 123_450,
        status: SubsidyStatus::Paid,
        accrued_at: at - Duration::days(10),
        approved_at: Some(at - Duration::days(5)),
        batch_id: Some(id(900)),
        paid_at: Some(at),
        payment_ref: format!("YH-{n}"),
        reason: String::new(),
    };
    pull(
        store.as_ref(),
        LEADER,
        1,
        vec![
            Record::Unit(chain()[0].clone()),
            Record::Dispute(dispute(11, Level::Village, t0())),
            Record::Escalation(decided),
            Record::Dispute(due),
            Record::Dispute(resolved),
            Record::CaseReview(review),
            Record::Subsidy(paid(40, t0() - Duration::hours(2))),
            Record::Subsidy(paid(41, t0() - Duration::days(90))),
        ],
    );
    let phone = client(store.clone(), clock.clone());
    let told = phone.refresh_notices().expect("refresh");
    let kinds: Vec<NoticeKind> = told.iter().map(|n| n.kind).collect();
    for k in [
        NoticeKind::RequestDecided,
        NoticeKind::DeadlineApproaching,
        NoticeKind::CaseFileReturned,
        NoticeKind::SubsidyPaid,
    ] {
        assert_eq!(kinds.iter().filter(|x| **x == k).count(), 1, "{k:?} once in {told:#?}");
    }
    assert_eq!(told.len(), 4, "the payment of 90 days ago is old news: {told:#?}");
    let by = |k: NoticeKind| told.iter().find(|n| n.kind == k).expect("kind").clone();
    assert!(by(NoticeKind::RequestDecided).body.contains("已批准上报至村"), "{:?}", by(NoticeKind::RequestDecided));
    let returned = by(NoticeKind::CaseFileReturned);
    assert!(
        returned.body.contains("缺少“权利义务告知书”") && returned.body.contains("笔录字迹不清"),
        "{}",
        returned.body
    );
    assert!(!returned.body.contains("missing:"), "no code on the screen: {}", returned.body);
    let p = by(NoticeKind::SubsidyPaid);
    assert_eq!((p.amount_fen, p.payment_ref.as_deref(), p.tab), (Some(123_450), Some("YH-40"), NoticeTab::Subsidies));
    assert!(p.body.contains("1234.50 元") && p.body.contains("2026-05-20") && p.body.contains("YH-40"), "{}", p.body);
    assert_eq!(by(NoticeKind::DeadlineApproaching).dispute_id, Some(id(12)));
    assert!(phone.refresh_notices().expect("again").is_empty());

    // two days on, the same case is overdue: told once more, as overdue
    clock.advance(Duration::days(2));
    let later = phone.refresh_notices().expect("later");
    assert_eq!(later.iter().map(|n| n.kind).collect::<Vec<_>>(), vec![NoticeKind::DeadlineOverdue], "{later:#?}");
    assert!(phone.refresh_notices().expect("again").is_empty());
    let counts = phone.tab_counts().expect("counts");
    assert_eq!((counts.my_disputes, counts.notices, counts.inbox), (1, 5, 0), "{counts:?}");

    // the English locale words the same notices, keys unchanged
    crate::messages::set_locale(Locale::En);
    let en = phone.pending_notices().expect("en");
    crate::messages::set_locale(Locale::ZhCn);
    let returned_en = en.iter().find(|n| n.kind == NoticeKind::CaseFileReturned).expect("returned");
    assert_eq!(returned_en.key, returned.key);
    assert_eq!(returned_en.title, "Case file returned");
}

#[test]
fn a_screening_due_is_told_once_per_period() {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    sign_in(store.as_ref(), 400, Role::VillageCadre, VILLAGE);
    let clock = Arc::new(ManualClock::new(t0()));
    let phone = client(store, clock);
    let told = phone.refresh_notices().expect("refresh");
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!((told[0].kind, told[0].tab), (NoticeKind::ScreeningDue, NoticeTab::Prevention));
    assert!(told[0].body.contains("V01"), "{}", told[0].body);
    assert!(phone.refresh_notices().expect("again").is_empty());
    assert_eq!(phone.tab_counts().expect("counts").screenings, 1);
    let ind = phone.indicator().expect("indicator");
    assert!(ind.needs_user && ind.unread_notices == 1, "{ind:?}");
    assert!(ind.summary.contains("尚未同步") && ind.summary.contains("1 件事需要您处理"), "{}", ind.summary);
}

#[test]
fn a_decision_that_lost_to_a_colleague_leaves_quarantine_for_the_history_with_the_decision_that_stands() {
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    pull(store.as_ref(), FIRST_SEC, 1, waiting(10, 20));
    let clock = Arc::new(ManualClock::new(t0()));
    let phone = first_secretary(store.clone(), clock.clone());
    assert_eq!(about_decisions(phone.refresh_notices().expect("awaits")).len(), 1);
    let case = phone.inbox_case(id(20)).expect("the whole case");
    assert!(case.may_decide && case.standing.is_none());
    assert_eq!(case.reason_label, "屡调不成");
    assert!(!case.approve_templates.is_empty() && !case.refuse_templates.is_empty());
    assert_eq!(case.file.item.dispute.parties[0].name, "王五");
    assert!(case.deadline_text.contains('（'), "{}", case.deadline_text);

    phone.decide_escalation(id(20), true, "同意".into()).expect("decide offline");
    let mine = phone.my_decisions().expect("history");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].pending && mine[0].approved && mine[0].superseded_by.is_none());
    // the server answers: the village secretary refused first
    let op = store.outbox(None, 10).expect("outbox").remove(0).op;
    let mut standing = escalation(20, 10, t0());
    standing.decision = Some(EscalationDecision {
        approved: false,
        comment: "继续在组里调".into(),
        decided_by: id(VILLAGE_SEC),
        decided_at: t0() + Duration::minutes(1),
    });
    let reason = QuarantineReason {
        code: "conflict".into(),
        message: "已有决定".into(),
        current: Some(Record::Escalation(standing.clone())),
    };
    assert!(store.quarantine_op(op.op_id, &reason, t0()).expect("quarantine"));
    let mut d = dispute(10, Level::Group, t0() - Duration::days(1));
    d.pending_escalation = None;
    pull(store.as_ref(), FIRST_SEC, 10, vec![Record::Escalation(standing), Record::Dispute(d)]);

    let told = phone.refresh_notices().expect("refresh");
    assert_eq!(told.len(), 1, "{told:#?}");
    assert_eq!(told[0].kind, NoticeKind::DecisionSuperseded);
    assert!(told[0].body.contains("已先行不予批准"), "{}", told[0].body);
    assert!(phone.quarantined().expect("quarantine").is_empty(), "not an error for the user to handle");
    let mine = phone.my_decisions().expect("history");
    assert_eq!(mine.len(), 1, "{mine:#?}");
    let s = mine[0].superseded_by.as_ref().expect("the decision that stands");
    assert!(mine[0].approved && !s.decision.approved && s.decision.decided_by == id(VILLAGE_SEC));
    let case = phone.inbox_case(id(20)).expect("case");
    assert!(!case.may_decide && case.standing.as_ref().is_some_and(|s| !s.decision.approved));
    assert!(phone.escalation_inbox().expect("inbox").is_empty());
    assert!(phone.refresh_notices().expect("again").is_empty());
}

#[tokio::test]
async fn a_sync_that_fails_still_tells_what_the_phone_holds() {
    // the escalation came with an earlier pull; this sync cannot reach the server
    let store: Arc<dyn ClientStore> = Arc::new(MemoryClientStore::new());
    pull(store.as_ref(), FIRST_SEC, 1, waiting(10, 20));
    let phone = first_secretary(store, Arc::new(ManualClock::new(t0())));
    assert!(phone.pending_notices().expect("none yet").is_empty());
    assert!(phone.sync().await.is_err(), "no server, no session tokens");
    let told = about_decisions(phone.pending_notices().expect("pending"));
    assert_eq!(told.len(), 1, "worked out after the failed sync too: {told:?}");
    assert_eq!(told[0].kind, NoticeKind::AwaitsDecision);
    assert!(phone.sync().await.is_err());
    assert_eq!(about_decisions(phone.pending_notices().expect("pending")).len(), 1, "and not twice");
}
