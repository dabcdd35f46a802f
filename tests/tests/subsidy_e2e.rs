//! One case, one subsidy: a mediator resolves a case on the phone, the judicial
//! office returns the file, the mediator adds the missing papers as photos filed
//! under their checklist items, re-review passes, the county pays it in a batch —
//! and after every step the mediator's phone shows the new status after a sync,
//! while another mediator sees nothing of it.

use chrono::Utc;
use fengqiao_core::{FieldClient, NewAgreement, NewDispute, NewPhoto, NewSession};
use fengqiao_domain::disputes::{Analysis, ClosingOutcome, Difficulty, Party};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::subsidy::SubsidyStatus;
use fengqiao_domain::EntityKind;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::phone::signed_in_synced;
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

/// After a sync: the phone's one subsidy as (status, amount, reason).
async fn after_sync(p: &FieldClient) -> (SubsidyStatus, i64, String) {
    p.sync().await.unwrap();
    let mine = p.my_subsidies().unwrap();
    assert_eq!(mine.items.len(), 1, "exactly one subsidy for the case: {:?}", mine.items);
    let s = &mine.items[0].subsidy;
    (s.status, s.amount_fen, s.reason.clone())
}

#[tokio::test]
async fn resolved_case_is_reviewed_returned_fixed_approved_and_paid_once() {
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mediator = signed_in_synced(dirs[1].path(), &server.url(), &server, "mediator.t1v1").await;
    let other = signed_in_synced(dirs[2].path(), &server.url(), &server, "mediator.t1v2").await;
    let judicial = ApiUser::login(&server, "judicial.t1").await;
    let admin = ApiUser::login(&server, "admin").await;
    let village = server.cred("mediator.t1v1").unwrap().unit_id;

    // on the phone: a major mass dispute at village level, mediated twice, resolved
    mediator.prepare_case_numbers(1).await.unwrap();
    let d = mediator
        .report_dispute(NewDispute {
            kind: "mass".into(),
            origin_unit: village,
            parties: vec![Party { name: "第一组村民".into(), household_id: None, phone: None }],
            summary: "灌溉用水分配纠纷".into(),
            grade: Grade::Major,
            analysis: Analysis {
                cause: "水源不足".into(),
                consequences: "可能聚集".into(),
                difficulty: Difficulty::Medium,
            },
            found_at: None,
            lead_id: None,
            level: Some(Level::Village),
        })
        .unwrap();
    for (i, agreed) in [false, true].into_iter().enumerate() {
        mediator
            .record_session(NewSession {
                dispute_id: d.id,
                held_at: None,
                place: "村委会".into(),
                mediators: vec![],
                participants: vec!["乡贤王老".into()],
                record: format!("第{}次调解", i + 1),
                agreed,
            })
            .unwrap();
    }
    mediator
        .record_agreement(NewAgreement {
            dispute_id: d.id,
            signed_at: None,
            terms: "按户轮灌".into(),
            sum_fen: 0,
            obligations: "各组按时段放水".into(),
            signature_photos: vec![],
        })
        .unwrap();
    mediator.close_dispute(d.id, ClosingOutcome::Resolved, "和解".into()).unwrap();
    // major 30,000 + medium difficulty 5,000 at full quality + mass-dispute bonus 10,000
    assert_eq!(after_sync(&mediator).await, (SubsidyStatus::Accrued, 45_000, String::new()));
    other.sync().await.unwrap();
    assert!(other.my_subsidies().unwrap().items.is_empty(), "another mediator sees none");

    // the judicial office reviews: required items are missing
    let review = |passed: bool, reasons: Vec<&str>| {
        json!({"id": Uuid::now_v7(), "dispute_id": d.id, "score": 85, "passed": passed, "reasons": reasons,
            "reviewer": Uuid::nil(), "reviewed_at": Utc::now()})
    };
    let cannot = judicial.push("review_case_file", review(true, vec![])).await;
    assert_eq!(
        (cannot["status"].as_str(), cannot["code"].as_str()),
        (Some("rejected"), Some("invalid_field")),
        "a file missing required items cannot pass"
    );
    assert_eq!(judicial.push("review_case_file", review(false, vec!["材料不全"])).await["status"], "applied");
    let (status, _, reason) = after_sync(&mediator).await;
    assert_eq!(status, SubsidyStatus::UnderReview);
    assert!(reason.contains("rights_notice") && reason.contains("identity_documents"), "{reason}");
    let sid = mediator.my_subsidies().unwrap().items[0].subsidy.id;
    assert_eq!(
        admin.post("/v1/subsidies/batches", json!({"subsidy_ids": [sid]})).await.status(),
        422,
        "blocked while returned"
    );

    // on the phone: the missing papers, photographed and filed under their items
    for (i, item) in ["rights_notice", "identity_documents"].into_iter().enumerate() {
        let path = dirs[1].path().join(format!("{item}.jpg"));
        std::fs::write(&path, fengqiao_tests::phone::as_jpeg(vec![i as u8 + 1; 40_000])).unwrap();
        let photo = NewPhoto {
            target_kind: EntityKind::Dispute,
            target_id: d.id,
            source_path: path.to_string_lossy().into_owned(),
            content_type: "image/jpeg".into(),
            caption: item.into(),
        };
        mediator.attach_case_file_photo(photo, item.into()).unwrap();
    }
    let r = mediator.sync().await.unwrap();
    assert_eq!((r.rejected, r.photos_uploaded), (0, 2), "{r:?}");
    assert_eq!(judicial.push("review_case_file", review(true, vec![])).await["status"], "applied");
    // 80 % quality for a score of 85: (30,000 + 5,000) × 0.8 + 10,000
    assert_eq!(after_sync(&mediator).await, (SubsidyStatus::Approved, 38_000, String::new()));

    // the county pays it in a batch
    let ledger: Value = admin.get("/v1/subsidies/ledger").await.json().await.unwrap();
    assert_eq!(ledger.as_array().unwrap().len(), 1);
    let b = admin.post("/v1/subsidies/batches", json!({"subsidy_ids": [sid]})).await;
    assert_eq!(b.status(), 201);
    let batch: Value = b.json().await.unwrap();
    assert_eq!(after_sync(&mediator).await.0, SubsidyStatus::Batched);
    let paid_path = format!("/v1/subsidies/batches/{}/paid", batch["id"].as_str().unwrap());
    assert_eq!(admin.post(&paid_path, json!({"payment_ref": "NX2026-0001"})).await.status(), 204);
    assert_eq!(after_sync(&mediator).await.0, SubsidyStatus::Paid);
    let mine = mediator.my_subsidies().unwrap();
    assert_eq!(mine.items[0].subsidy.payment_ref, "NX2026-0001");
    assert_eq!(admin.post(&paid_path, json!({"payment_ref": "again"})).await.status(), 409, "a batch is paid once");

    // by id: the payee and the county only; the ledger exports
    let me = ApiUser::login(&server, "mediator.t1v1").await;
    let them = ApiUser::login(&server, "mediator.t1v2").await;
    assert_eq!(me.get(&format!("/v1/subsidies/{sid}")).await.status(), 200);
    assert_eq!(them.get(&format!("/v1/subsidies/{sid}")).await.status(), 404);
    assert_eq!(them.get("/v1/subsidies/ledger").await.status(), 404);
    other.sync().await.unwrap();
    assert!(other.my_subsidies().unwrap().items.is_empty());
    let xlsx = admin.get("/v1/subsidies/ledger?format=xlsx").await;
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
}

/// A legal advisor's consultations count toward their subsidy (policy rate).
#[tokio::test]
async fn consultations_accrue_to_the_legal_advisor() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let advisor = ApiUser::login(&server, "advisor.t1v1").await;
    let cadre = ApiUser::login(&server, "cadre.t1v1").await;
    let village = server.cred("advisor.t1v1").unwrap().unit_id;
    let consult = || {
        json!({"id": Uuid::now_v7(), "village_id": village, "at": Utc::now(), "question": "宅基地能否继承？",
        "answer": "依法可以继承房屋所有权", "satisfaction": "satisfied", "advisor": Uuid::nil()})
    };
    assert_eq!(cadre.push("record_consultation", consult()).await["code"], "role_not_allowed");
    for _ in 0..2 {
        assert_eq!(advisor.push("record_consultation", consult()).await["status"], "applied");
    }
    let mine: Value = advisor.get("/v1/subsidies/mine").await.json().await.unwrap();
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["status"] == "approved" && i["amount_fen"] == 2_000));
}
