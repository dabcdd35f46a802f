//! The dishonesty list (失信名单) against a real server: only violations under
//! rules the judicial office reviewed as lawful, unrestored, put a household on
//! it; a village's cadres read their village's list, the town's staff the
//! town's, anyone else is refused; the CSV export neutralises formula-like text.
//! Commitment letters are recorded on the household's standing.

use chrono::Utc;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

fn violation(id: Uuid, household: &str) -> Value {
    json!({"id": id, "household_id": household, "item_code": "elderly_abandoned", "note": "拒不赡养老人",
        "evidence": [], "sanctions_from": Utc::now(), "sanctions": []})
}

async fn rows(u: &ApiUser, unit: &str) -> (u16, Value) {
    let r = u.get(&format!("/v1/reports/blacklist?unit={unit}&format=json")).await;
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_dishonesty_list_holds_sanctioned_households_under_lawful_rules_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let cadre = ApiUser::login(&server, "cadre.t1v1").await;
    let secretary = ApiUser::login(&server, "secretary.t1v1").await;
    let judicial = ApiUser::login(&server, "judicial.t1").await;
    let village = server.cred("secretary.t1v1").unwrap().unit_id.to_string();
    let town = server.cred("judicial.t1").unwrap().unit_id.to_string();
    let households: Vec<String> = secretary
        .pulled()
        .await
        .into_iter()
        .filter(|c| c["entity"] == "household")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(households.len() >= 3, "{households:?}");

    // rules whose item lists the household at once (no correction period); the
    // label starts like a spreadsheet formula
    let rules = json!({"id": fengqiao_domain::prevent::rules_id(village.parse().unwrap()), "village_id": village,
        "legality_reviewed": false,
        "items": [{"code": "elderly_abandoned", "label_zh": "=遗弃虐待老人", "correction_days": 0,
            "sanctions": [{"type": "dishonesty_list"}]}],
        "adoption": {"meeting_date": Utc::now().date_naive().pred_opt().unwrap(), "members": 30, "present": 21,
            "votes_for": 15, "votes_against": 3, "abstentions": 3}});
    assert_eq!(secretary.push("set_village_rules", rules).await["status"], "applied");

    // recorded before the review: kept, no sanction, not on the list
    let early = Uuid::now_v7();
    assert_eq!(cadre.push("record_violation", violation(early, &households[0])).await["status"], "applied");
    assert_eq!(rows(&cadre, &village).await, (200, json!([])));
    let kept = cadre.pulled().await.into_iter().find(|c| c["id"] == early.to_string()).expect("kept");
    assert_eq!(kept["record"]["data"]["sanctions_withheld"], "rules_unreviewed");

    assert_eq!(
        judicial.push("review_village_rules", json!({"village_id": village, "reviewed": true})).await["status"],
        "applied"
    );
    let (listed, restored) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(cadre.push("record_violation", violation(listed, &households[1])).await["status"], "applied");
    assert_eq!(cadre.push("record_violation", violation(restored, &households[2])).await["status"], "applied");
    let restore = json!({"violation_id": restored, "note": "已赡养"});
    assert_eq!(secretary.push("restore_household", restore).await["status"], "applied");

    let (status, list) = rows(&cadre, &village).await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["household_id"], households[1].as_str());
    assert_eq!(list[0]["violation_id"], listed.to_string());
    assert_eq!(list[0]["item"], "=遗弃虐待老人");
    assert_eq!(rows(&judicial, &town).await, (200, Value::Array(list.clone())), "the town's staff: the town");
    let committee = ApiUser::login(&server, "committee.t1").await;
    assert_eq!(rows(&committee, &village).await.0, 200, "and each of its villages");

    // least visibility
    let refused = |(s, b): (u16, Value)| (s, b["code"].as_str().unwrap_or_default().to_string());
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    assert_eq!(
        refused(rows(&leader, &village).await),
        (403, "role_not_allowed".into()),
        "group leaders see standing only"
    );
    let admin = ApiUser::login(&server, "admin").await;
    assert_eq!(refused(rows(&admin, &town).await).0, 403);
    let other = ApiUser::login(&server, "secretary.t1v2").await;
    assert_eq!(refused(rows(&other, &village).await), (404, "not_found".into()), "another village's");
    assert_eq!(refused(rows(&secretary, &town).await).0, 404, "a village's cadres do not read the town's");
    assert_eq!(rows(&cadre, &Uuid::now_v7().to_string()).await.0, 404);

    // CSV: UTF-8 with BOM, Chinese headers, formula-like text neutralised
    let csv = cadre.get(&format!("/v1/reports/blacklist?unit={village}&format=csv")).await;
    assert_eq!(csv.status().as_u16(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = csv.text().await.unwrap();
    let body = body.trim_start_matches('\u{feff}');
    assert!(body.starts_with("村,组,户主,住址,事项代码,负面清单事项,列入日期"), "{body}");
    assert!(body.contains(",'=遗弃虐待老人,"), "neutralised: {body}");
    assert_eq!(body.lines().count(), 2, "{body}");
    let xlsx = cadre.get(&format!("/v1/reports/blacklist?unit={village}&format=xlsx")).await;
    assert_eq!(xlsx.status().as_u16(), 400, "JSON and CSV only");

    // commitment letters: on the household's standing, seen by its group leader
    let letter = json!({"household_id": households[1], "signed": true, "signed_on": Utc::now().date_naive().pred_opt().unwrap()});
    assert_eq!(leader.push("record_commitment", letter.clone()).await["code"], "role_not_allowed");
    assert_eq!(cadre.push("record_commitment", letter).await["status"], "applied");
    let standing = secretary
        .pulled()
        .await
        .into_iter()
        .find(|c| c["entity"] == "household_standing" && c["record"]["data"]["household_id"] == households[1].as_str())
        .expect("standing");
    assert_eq!(standing["record"]["data"]["commitment"]["signed"], true);
}
