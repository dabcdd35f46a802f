//! Pay follows reviewed facts, end to end against the real server: a mediator on
//! a phone credits a colleague from another village and a made-up id in their
//! sessions — the phone lets them through offline (it cannot know every user),
//! the server refuses each with its stable code and a Chinese message the phone
//! keeps in its quarantine, and the case pays only the mediator. A legal
//! advisor's consultation pays nothing until the judicial office reviews it; the
//! ledger then shows the reviewed amount only.

use fengqiao_core::{FieldClient, NewDispute, NewSession};
use fengqiao_domain::disputes::{Analysis, ClosingOutcome, Difficulty, Party};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::subsidy::SubsidyStatus;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::phone::phone;
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

async fn signed_in(dir: &std::path::Path, server: &TestServer, user: &str) -> FieldClient {
    let c = server.cred(user).unwrap();
    let p = phone(dir, &server.url());
    p.login(c.username, c.password).await.unwrap();
    p.sync().await.unwrap();
    p
}

fn session(dispute_id: Uuid, mediators: Vec<Uuid>) -> NewSession {
    NewSession {
        dispute_id,
        held_at: None,
        place: "村委会".into(),
        mediators,
        participants: vec![],
        record: "调解".into(),
        agreed: false,
    }
}

#[tokio::test]
async fn foreign_and_made_up_payees_are_refused_and_the_case_pays_the_mediator_only() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mediator = signed_in(dirs[1].path(), &server, "mediator.t1v1").await;
    let colleague = ApiUser::login(&server, "mediator.t1v2").await;
    let colleague_id: Uuid = colleague.id.parse().unwrap();
    let village = server.cred("mediator.t1v1").unwrap().unit_id;

    mediator.prepare_case_numbers(1).await.unwrap();
    let d = mediator
        .report_dispute(NewDispute {
            kind: "neighbour".into(),
            origin_unit: village,
            parties: vec![Party { name: "李四".into(), household_id: None, phone: None }],
            summary: "院墙边界争议".into(),
            grade: Grade::General,
            analysis: Analysis {
                cause: "界线不清".into(),
                consequences: "可能激化".into(),
                difficulty: Difficulty::Low,
            },
            found_at: None,
            lead_id: None,
            level: Some(Level::Village),
        })
        .unwrap();
    // offline the phone cannot tell: both sessions are queued
    let made_up = Uuid::now_v7();
    mediator.record_session(session(d.id, vec![colleague_id])).unwrap();
    mediator.record_session(session(d.id, vec![made_up])).unwrap();
    let r = mediator.sync().await.unwrap();
    assert_eq!(r.rejected, 2, "{r:?}");
    let mut refused: Vec<(String, String)> =
        mediator.quarantined().unwrap().into_iter().map(|q| (q.code, q.message)).collect();
    refused.sort();
    assert_eq!(refused[0].0, "mediator_not_allowed", "{refused:?}");
    assert!(refused[0].1.contains(&colleague_id.to_string()) && refused[0].1.contains("本辖区"), "{refused:?}");
    assert_eq!(refused[1].0, "mediator_unknown", "{refused:?}");
    assert!(refused[1].1.contains(&made_up.to_string()) && refused[1].1.contains("不是本系统的用户"), "{refused:?}");
    // the server's dispute credits nobody from the refused sessions
    let stored = mediator.dispute(d.id).unwrap().dispute;
    assert!(stored.credited.is_empty(), "{:?}", stored.credited);

    // the mediator's own session and the close: one subsidy, the mediator's
    mediator.record_session(session(d.id, vec![])).unwrap();
    mediator.close_dispute(d.id, ClosingOutcome::Resolved, "和解".into()).unwrap();
    let r = mediator.sync().await.unwrap();
    assert_eq!(r.rejected, 0, "{r:?}");
    mediator.sync().await.unwrap();
    let mine = mediator.my_subsidies().unwrap();
    assert_eq!(mine.items.len(), 1, "{:?}", mine.items);
    assert_eq!((mine.items[0].subsidy.status, mine.items[0].subsidy.amount_fen), (SubsidyStatus::Accrued, 10_000));
    let admin = ApiUser::login(&server, "admin").await;
    let ledger: Value = admin.get("/v1/subsidies/ledger").await.json().await.unwrap();
    let payees: Vec<&str> = ledger.as_array().unwrap().iter().filter_map(|l| l["payee"].as_str()).collect();
    assert_eq!(payees, vec![mediator_id(&server, "mediator.t1v1").await.as_str()]);
}

async fn mediator_id(server: &TestServer, user: &str) -> String {
    ApiUser::login(server, user).await.id
}

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
