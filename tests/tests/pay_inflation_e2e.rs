//! A payee tries to inflate their pay, and the ledger pays only what review
//! confirms (issue 20, "Pay follows reviewed facts, not the payee's word").
//!
//! First part (grade and difficulty): a village mediator reports a dispute
//! self-declared 重大 and 高难度 on the phone and resolves it; the judicial
//! office's case-file review corrects it to 一般 / 低 with a reason; the
//! mediator's phone and the county's ledger and batch show only the amount
//! priced from the reviewed values by the served policy.
//!
//! Second part (payees): the same mediator also credits a colleague from another
//! village and a made-up id in sessions of the case; the phone cannot tell
//! offline, the server refuses each with its stable code and a Chinese message
//! the phone keeps in its quarantine, and after the review's correction the
//! ledger pays the mediator alone the reviewed amount.

use fengqiao_core::{FieldClient, NewAgreement, NewDispute, NewPhoto, NewSession};
use fengqiao_domain::disputes::{Analysis, ClosingOutcome, Difficulty, Dispute, FlowKind, Party};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::subsidy::{amount_fen, quality_percent, SubsidyStatus};
use fengqiao_domain::EntityKind;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::phone::{as_jpeg, phone};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

/// The kind of the inflated case (a plain neighbour quarrel).
const KIND: &str = "neighbour";
/// The review's score of the file.
const SCORE: u8 = 95;

/// The people of the story, each on their own phone or desk client.
struct County {
    server: TestServer,
    dirs: Vec<tempfile::TempDir>,
    mediator: FieldClient,
    judicial: ApiUser,
    admin: ApiUser,
}

async fn county() -> County {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let c = server.cred("mediator.t1v1").unwrap();
    let mediator = phone(dirs[1].path(), &server.url());
    mediator.login(c.username, c.password).await.unwrap();
    mediator.sync().await.unwrap();
    let judicial = ApiUser::login(&server, "judicial.t1").await;
    let admin = ApiUser::login(&server, "admin").await;
    County { server, dirs, mediator, judicial, admin }
}

/// On the mediator's phone: a dispute reported as `grade` / `difficulty` at the
/// village, a session crediting each of `also_credited` (each refused by the
/// server), mediated to an agreement, its required papers photographed, closed
/// resolved, synced.
async fn resolved_on_the_phone(c: &County, grade: Grade, difficulty: Difficulty, also_credited: &[Uuid]) -> Dispute {
    let m = &c.mediator;
    let village = c.server.cred("mediator.t1v1").unwrap().unit_id;
    m.prepare_case_numbers(1).await.unwrap();
    let d = m
        .report_dispute(NewDispute {
            kind: KIND.into(),
            origin_unit: village,
            parties: vec![Party { name: "赵大".into(), household_id: None, phone: None }],
            summary: "邻居院墙滴水争执".into(),
            grade,
            analysis: Analysis { cause: "院墙滴水".into(), consequences: "口角".into(), difficulty },
            found_at: None,
            lead_id: None,
            level: Some(Level::Village),
        })
        .unwrap();
    for who in also_credited {
        let session = NewSession {
            dispute_id: d.id,
            held_at: None,
            place: "村委会".into(),
            mediators: vec![*who],
            participants: vec![],
            record: "调解".into(),
            agreed: false,
        };
        m.record_session(session).unwrap();
    }
    let session = NewSession {
        dispute_id: d.id,
        held_at: None,
        place: "村委会".into(),
        mediators: vec![],
        participants: vec![],
        record: "双方同意加装排水槽".into(),
        agreed: true,
    };
    m.record_session(session).unwrap();
    let agreement = NewAgreement {
        dispute_id: d.id,
        signed_at: None,
        terms: "加装排水槽".into(),
        sum_fen: 0,
        obligations: "赵大出工".into(),
        signature_photos: vec![],
    };
    m.record_agreement(agreement).unwrap();
    for (i, item) in ["rights_notice", "identity_documents"].into_iter().enumerate() {
        let path = c.dirs[1].path().join(format!("{item}.jpg"));
        std::fs::write(&path, as_jpeg(vec![i as u8 + 1; 20_000])).unwrap();
        let photo = NewPhoto {
            target_kind: EntityKind::Dispute,
            target_id: d.id,
            source_path: path.to_string_lossy().into_owned(),
            content_type: "image/jpeg".into(),
            caption: item.into(),
        };
        m.attach_case_file_photo(photo, item.into()).unwrap();
    }
    m.close_dispute(d.id, ClosingOutcome::Resolved, "和解".into()).unwrap();
    let r = m.sync().await.unwrap();
    assert_eq!(r.rejected, also_credited.len() as u64, "{r:?}");
    d
}

/// The judicial office's case-file review, passed at [`SCORE`], with reviewed
/// grade and difficulty (`None`: confirm) and a correction reason.
async fn review(c: &County, d: &Dispute, grade: Option<Grade>, difficulty: Option<Difficulty>, reason: &str) -> Value {
    let mut body = json!({"id": Uuid::now_v7(), "dispute_id": d.id, "score": SCORE, "passed": true,
        "correction_reason": reason});
    if let Some(g) = grade {
        body["reviewed_grade"] = serde_json::to_value(g).unwrap();
    }
    if let Some(x) = difficulty {
        body["reviewed_difficulty"] = serde_json::to_value(x).unwrap();
    }
    c.judicial.push("review_case_file", body).await
}

/// What the case pays in all, by the served policy, at a quality of `score`.
fn priced(policy: &Policy, grade: Grade, difficulty: Difficulty, score: u8) -> i64 {
    amount_fen(grade, difficulty, KIND, quality_percent(score, policy), policy).expect("a checked policy prices it")
}

/// The mediator's subsidies after a sync, as (status, amount) of this case.
async fn mediator_sees(c: &County, d: &Dispute) -> Vec<(SubsidyStatus, i64)> {
    c.mediator.sync().await.unwrap();
    let mine = c.mediator.my_subsidies().unwrap();
    mine.items
        .iter()
        .filter(|l| l.subsidy.dispute_id == Some(d.id))
        .map(|l| (l.subsidy.status, l.subsidy.amount_fen))
        .collect()
}

/// The county's ledger lines of this case, as (status, amount).
async fn county_ledger(c: &County, d: &Dispute) -> Vec<(String, i64, Uuid)> {
    let ledger: Value = c.admin.get("/v1/subsidies/ledger").await.json().await.unwrap();
    let lines = ledger.as_array().expect("ledger lines");
    lines
        .iter()
        .filter(|l| l["dispute_id"] == json!(d.id))
        .map(|l| {
            let id = l["id"].as_str().and_then(|s| s.parse().ok()).expect("subsidy id");
            (l["status"].as_str().unwrap_or_default().to_string(), l["amount_fen"].as_i64().unwrap_or(-1), id)
        })
        .collect()
}

/// The county batches the case's subsidies; the ledger's batched total of the case.
async fn county_batches(c: &County, d: &Dispute, ids: Vec<Uuid>) -> i64 {
    let b = c.admin.post("/v1/subsidies/batches", json!({ "subsidy_ids": ids })).await;
    assert_eq!(b.status(), 201);
    let lines = county_ledger(c, d).await;
    assert!(lines.iter().all(|l| l.0 == "batched"), "{lines:?}");
    lines.iter().map(|l| l.1).sum()
}

#[tokio::test]
async fn the_review_corrects_a_self_declared_major_case_and_only_the_reviewed_amount_is_paid() {
    let c = county().await;
    let d = resolved_on_the_phone(&c, Grade::Major, Difficulty::High, &[]).await;
    let policy = c.mediator.policy();
    let declared = priced(&policy, Grade::Major, Difficulty::High, 100);
    let reviewed = priced(&policy, Grade::General, Difficulty::Low, SCORE);
    assert!(reviewed < declared, "the correction matters: {reviewed} < {declared}");

    // before review: the reporter's values give an estimate, never an approval
    assert_eq!(mediator_sees(&c, &d).await, vec![(SubsidyStatus::Accrued, declared)]);
    let ids: Vec<Uuid> = county_ledger(&c, &d).await.iter().map(|l| l.2).collect();
    let early = c.admin.post("/v1/subsidies/batches", json!({ "subsidy_ids": ids })).await;
    assert_eq!(early.status(), 422, "an estimate is not payable");

    // a correction without a reason is refused with its code; with one it applies
    let refused = review(&c, &d, Some(Grade::General), Some(Difficulty::Low), "").await;
    assert_eq!(
        (refused["status"].as_str(), refused["code"].as_str()),
        (Some("rejected"), Some("correction_reason_required"))
    );
    let applied = review(&c, &d, Some(Grade::General), Some(Difficulty::Low), "普通邻里纠纷，一次调解即成").await;
    assert_eq!(applied["status"], "applied", "{applied}");

    // the server's audit log names the corrected values (codes only)
    let path = format!("/v1/admin/audit?action=sync_op&actor={}", c.judicial.id);
    let audit: Value = c.admin.get(&path).await.json().await.unwrap();
    let details: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|e| e["detail"].as_str()).collect();
    assert!(details.contains(&"review_case_file reviewed_grade=general reviewed_difficulty=low"), "{details:?}");

    // the mediator's phone: the corrected grade, the flow entry, the reviewed amount
    assert_eq!(mediator_sees(&c, &d).await, vec![(SubsidyStatus::Approved, reviewed)]);
    let item = c.mediator.dispute(d.id).unwrap();
    assert_eq!((item.dispute.grade, item.dispute.analysis.difficulty), (Grade::General, Difficulty::Low));
    let flow = c.mediator.flow_table(d.id).unwrap();
    let last = flow.last().expect("flow entries");
    assert_eq!(last.kind, FlowKind::CaseReviewed);
    assert!(last.note.contains("一次调解即成"), "{}", last.note);

    // the county's ledger and batch: the reviewed amount only
    let ledger = county_ledger(&c, &d).await;
    assert_eq!(ledger.iter().map(|l| (l.0.as_str(), l.1)).collect::<Vec<_>>(), vec![("approved", reviewed)]);
    let total = county_batches(&c, &d, ledger.iter().map(|l| l.2).collect()).await;
    assert_eq!(total, reviewed);
    // batched: the review can no longer change
    let late = review(&c, &d, Some(Grade::Larger), None, "复查").await;
    assert_eq!(late["code"], "subsidy_already_paid", "{late}");
    assert_eq!(mediator_sees(&c, &d).await, vec![(SubsidyStatus::Batched, reviewed)]);
}

#[tokio::test]
async fn foreign_and_made_up_payees_are_refused_and_the_ledger_pays_the_reviewed_amount_only() {
    let c = county().await;
    let colleague: Uuid = ApiUser::login(&c.server, "mediator.t1v2").await.id.parse().unwrap();
    let me: Uuid = ApiUser::login(&c.server, "mediator.t1v1").await.id.parse().unwrap();
    let made_up = Uuid::now_v7();
    let d = resolved_on_the_phone(&c, Grade::Major, Difficulty::High, &[colleague, made_up]).await;

    // the phone keeps each refusal with its stable code and the core's Chinese message
    let mut refused: Vec<(String, String)> =
        c.mediator.quarantined().unwrap().into_iter().map(|q| (q.code, q.message)).collect();
    refused.sort();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[0].0, "mediator_not_allowed", "{refused:?}");
    assert!(refused[0].1.contains(&colleague.to_string()) && refused[0].1.contains("本辖区"), "{refused:?}");
    assert_eq!(refused[1].0, "mediator_unknown", "{refused:?}");
    assert!(refused[1].1.contains(&made_up.to_string()) && refused[1].1.contains("不是本系统的用户"), "{refused:?}");
    let item = c.mediator.dispute(d.id).unwrap();
    assert_eq!((item.dispute.credited, item.dispute.payees), (vec![me], vec![me]), "only the mediator is credited");

    // the review corrects the self-declared grade; the ledger: the mediator alone, the reviewed amount
    let policy = c.mediator.policy();
    let reviewed = priced(&policy, Grade::General, Difficulty::Low, SCORE);
    let applied = review(&c, &d, Some(Grade::General), Some(Difficulty::Low), "普通邻里纠纷，一次调解即成").await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let ledger: Value = c.admin.get("/v1/subsidies/ledger").await.json().await.unwrap();
    let lines: Vec<(&str, &str, i64)> = ledger
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["dispute_id"] == json!(d.id))
        .map(|l| {
            (
                l["payee"].as_str().unwrap_or(""),
                l["status"].as_str().unwrap_or(""),
                l["amount_fen"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(lines, vec![(me.to_string().as_str(), "approved", reviewed)]);
    assert_eq!(mediator_sees(&c, &d).await, vec![(SubsidyStatus::Approved, reviewed)]);
}
