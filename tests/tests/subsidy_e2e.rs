//! One case, one subsidy, over real HTTP: a mediator resolves a village case, the
//! judicial office returns the file, the missing item is added, re-review passes,
//! the county pays it in a batch — and after every step the mediator's own feed
//! shows the new status while another mediator sees nothing.

use chrono::Utc;
use fengqiao_tests::api::{dispute_body, ApiUser};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

/// The mediator's subsidies as pulled (latest version of each).
async fn pulled_subsidies(u: &ApiUser) -> Vec<Value> {
    let mut latest = std::collections::BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let page: Value = u.get(&format!("/v1/sync/pull?cursor={cursor}&limit=1000")).await.json().await.unwrap();
        for c in page["changes"].as_array().unwrap() {
            if c["entity"] == "subsidy" {
                latest.insert(c["id"].as_str().unwrap().to_string(), c["record"]["data"].clone());
            }
        }
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] != true {
            break;
        }
    }
    latest.into_values().collect()
}

async fn status_of(u: &ApiUser) -> (String, i64, String) {
    let s = pulled_subsidies(u).await;
    assert_eq!(s.len(), 1, "exactly one subsidy for the case: {s:?}");
    (
        s[0]["status"].as_str().unwrap().into(),
        s[0]["amount_fen"].as_i64().unwrap(),
        s[0]["reason"].as_str().unwrap_or("").into(),
    )
}

#[tokio::test]
async fn resolved_case_is_reviewed_returned_fixed_approved_and_paid_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let mediator = ApiUser::login(&server, "mediator.t1v1").await;
    let other_mediator = ApiUser::login(&server, "mediator.t1v2").await;
    let judicial = ApiUser::login(&server, "judicial.t1").await;
    let admin = ApiUser::login(&server, "admin").await;
    let village = server.cred("mediator.t1v1").unwrap().unit_id;

    // a village-level case, mediated twice (re-mediation still pays once), resolved
    let dispute = Uuid::now_v7();
    let case = mediator.case_number("T01V01", 0).await;
    let ok = mediator.push("report_dispute", dispute_body(dispute, &case, village, "village", "mass", "major")).await;
    assert_eq!(ok["status"], "applied", "{ok}");
    for i in 0..2 {
        let s = json!({"id": Uuid::now_v7(), "dispute_id": dispute, "held_at": Utc::now(), "place": "村委会",
            "mediators": [], "participants": ["乡贤王老"], "record": format!("第{}次调解", i + 1), "agreed": i == 1, "author": Uuid::nil()});
        assert_eq!(mediator.push("record_session", s).await["status"], "applied");
    }
    let agreement = json!({"id": Uuid::now_v7(), "dispute_id": dispute, "signed_at": Utc::now(), "terms": "重新立界桩",
        "sum_fen": 150000, "obligations": "甲方赔偿1500元", "signature_photos": [], "author": Uuid::nil()});
    assert_eq!(mediator.push("record_agreement", agreement).await["status"], "applied");
    let close =
        mediator.push("close_dispute", json!({"dispute_id": dispute, "outcome": "resolved", "note": "和解"})).await;
    assert_eq!(close["status"], "applied", "{close}");
    // major (30000) + medium difficulty (5000) at full quality + mass bonus (10000)
    assert_eq!(status_of(&mediator).await, ("accrued".into(), 45_000, String::new()));
    assert!(pulled_subsidies(&other_mediator).await.is_empty(), "another mediator sees none");

    // the judicial office returns the file: required items are missing
    let review = |passed: bool, reasons: Vec<&str>| {
        json!({"id": Uuid::now_v7(), "dispute_id": dispute, "score": 85, "passed": passed, "reasons": reasons,
            "reviewer": Uuid::nil(), "reviewed_at": Utc::now()})
    };
    let cannot = judicial.push("review_case_file", review(true, vec![])).await;
    assert_eq!(
        (cannot["status"].as_str(), cannot["code"].as_str()),
        (Some("rejected"), Some("invalid_field")),
        "a file missing required items cannot pass"
    );
    assert_eq!(judicial.push("review_case_file", review(false, vec!["材料不全"])).await["status"], "applied");
    let (status, _, reason) = status_of(&mediator).await;
    assert_eq!(status, "under_review");
    assert!(reason.contains("rights_notice") && reason.contains("identity_documents"), "{reason}");
    // blocked: not payable while returned
    let sid = pulled_subsidies(&mediator).await[0]["id"].as_str().unwrap().to_string();
    let blocked = admin.post("/v1/subsidies/batches", json!({"subsidy_ids": [sid]})).await;
    assert_eq!(blocked.status(), 422);

    // the mediator adds the missing papers as photos filed under their checklist items
    for item in ["rights_notice", "identity_documents"] {
        let att = json!({"id": Uuid::now_v7(), "target_kind": "dispute", "target_id": dispute, "sha256": format!("{:064x}", item.len()),
            "length": 1000, "content_type": "image/jpeg", "caption": item, "author": Uuid::nil(), "file_item": item});
        let a = mediator.push("attach_photo", att).await;
        assert_eq!(a["status"], "applied", "{a}");
    }
    assert_eq!(judicial.push("review_case_file", review(true, vec![])).await["status"], "applied");
    // 80 % quality for a score of 85: (30000 + 5000) × 0.8 + 10000
    assert_eq!(status_of(&mediator).await, ("approved".into(), 38_000, String::new()));

    // the county pays it in a batch
    let ledger: Value = admin.get("/v1/subsidies/ledger").await.json().await.unwrap();
    assert_eq!(ledger.as_array().unwrap().len(), 1);
    let b = admin.post("/v1/subsidies/batches", json!({"subsidy_ids": [sid]})).await;
    assert_eq!(b.status(), 201);
    let batch: Value = b.json().await.unwrap();
    assert_eq!(status_of(&mediator).await.0, "batched");
    let paid = admin
        .post(
            &format!("/v1/subsidies/batches/{}/paid", batch["id"].as_str().unwrap()),
            json!({"payment_ref": "NX2026-0001"}),
        )
        .await;
    assert_eq!(paid.status(), 204);
    let s = pulled_subsidies(&mediator).await;
    assert_eq!((s[0]["status"].as_str(), s[0]["payment_ref"].as_str()), (Some("paid"), Some("NX2026-0001")));
    let again = admin
        .post(&format!("/v1/subsidies/batches/{}/paid", batch["id"].as_str().unwrap()), json!({"payment_ref": "again"}))
        .await;
    assert_eq!(again.status(), 409, "a batch is paid once");

    // my subsidies, by id: the payee and the county only
    let mine: Value = mediator.get("/v1/subsidies/mine").await.json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["totals"][0]["total_fen"], 38_000);
    assert_eq!(mediator.get(&format!("/v1/subsidies/{sid}")).await.status(), 200);
    assert_eq!(other_mediator.get(&format!("/v1/subsidies/{sid}")).await.status(), 404);
    assert_eq!(other_mediator.get("/v1/subsidies/ledger").await.status(), 404);
    let xlsx = admin.get("/v1/subsidies/ledger?format=xlsx").await;
    assert_eq!(xlsx.status(), 200);
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
}
