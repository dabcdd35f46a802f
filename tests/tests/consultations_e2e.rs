//! A legal advisor's consultation pays nothing until the judicial office of its
//! town reviews it (`POST /v1/consultations/{id}/review`); the review confirms or
//! corrects outcome and satisfaction, the ledger then shows the reviewed amount
//! only, and once batched the review stands. (The payee refusals are in
//! `pay_inflation_e2e.rs`.)

use fengqiao_tests::api::ApiUser;
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn a_consultation_pays_only_its_reviewed_amount() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let advisor = ApiUser::login(&server, "advisor.t1v1").await;
    let judicial = ApiUser::login(&server, "judicial.t1").await;
    let other_town = ApiUser::login(&server, "judicial.t2").await;
    let secretary = ApiUser::login(&server, "secretary.t1v1").await;
    let admin = ApiUser::login(&server, "admin").await;
    let village = server.cred("advisor.t1v1").unwrap().unit_id;

    let id = Uuid::now_v7();
    // the advisor records a solved question, a satisfied villager, and a review of their own
    let logged = advisor
        .push(
            "record_consultation",
            json!({"id": id, "village_id": village, "at": chrono::Utc::now(), "question": "土地流转合同怎么签",
                "answer": "书面合同，写明期限", "satisfaction": "satisfied", "outcome": "solved",
                "review": {"outcome": "solved", "satisfaction": "satisfied", "reviewer": advisor.id,
                    "reviewed_at": chrono::Utc::now()}}),
        )
        .await;
    assert_eq!(logged["status"], "applied", "{logged}");
    let mine: Value = advisor.get("/v1/subsidies/mine").await.json().await.unwrap();
    let item = &mine["items"][0];
    assert_eq!((item["status"].as_str(), item.get("approved_at")), (Some("accrued"), None), "{mine}");
    let sid = item["id"].as_str().unwrap().to_string();
    assert_eq!(admin.post("/v1/subsidies/batches", json!({"subsidy_ids": [sid]})).await.status(), 422, "unreviewed");

    // only the judicial office of the consultation's town reviews it
    let path = format!("/v1/consultations/{id}/review");
    let body =
        |outcome: &str, satisfaction: &str| json!({"outcome": outcome, "satisfaction": satisfaction, "note": "回访"});
    let r = secretary.post(&path, body("solved", "satisfied")).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "role_not_allowed", "{e}");
    assert_eq!(other_town.post(&path, body("solved", "satisfied")).await.status(), 404);
    assert_eq!(advisor.post(&path, body("solved", "satisfied")).await.status(), 422);
    // the review corrects it: referred on, the villager only neutral → 60 % of 2 000 fen
    assert_eq!(judicial.post(&path, body("referred", "neutral")).await.status(), 204);
    let ledger: Value = admin.get("/v1/subsidies/ledger").await.json().await.unwrap();
    let line = ledger.as_array().unwrap().iter().find(|l| l["id"] == sid.as_str()).expect("in the ledger").clone();
    assert_eq!((line["status"].as_str(), line["amount_fen"].as_i64()), (Some("approved"), Some(1_200)), "{line}");
    let b = admin.post("/v1/subsidies/batches", json!({"subsidy_ids": [sid]})).await;
    assert_eq!(b.status(), 201);
    // once batched the review stands
    let late = judicial.post(&path, body("solved", "satisfied")).await;
    assert_eq!(late.status(), 422);
    let e: Value = late.json().await.unwrap();
    assert_eq!(e["code"], "invalid_state", "{e}");
    let ledger: Value = admin.get("/v1/subsidies/ledger").await.json().await.unwrap();
    assert_eq!(ledger.as_array().unwrap().iter().map(|l| l["amount_fen"].as_i64().unwrap()).sum::<i64>(), 1_200);
}
