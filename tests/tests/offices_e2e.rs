//! The judicial office as a unit of its own (ADR 0028) against a real server: the
//! county imports a 中心司法所 serving both demo towns and a second office serving
//! the first town only, with staff at each; the third ladder level goes to the
//! office serving the dispute's town (the request chooses when two serve it),
//! each office's staff see and act on their towns' disputes only, a 嘎查 is
//! named so in the town's report, and an office's monthly report counts the
//! towns it serves together, for its own staff.

use fengqiao_server::admin::import::validate::derived_id;
use fengqiao_tests::api::{dispute_body, escalation_body, ApiUser};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD: &str = "Office-initial-pw-01";

async fn import_csv(admin: &ApiUser, name: &str, text: String) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/admin/import?name={name}", admin.url))
        .bearer_auth(&admin.token)
        .body(text.into_bytes())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// An imported user, signed in, past the first-sign-in password change.
async fn staff(server: &TestServer, username: &str) -> ApiUser {
    let u = ApiUser::login_with(server, username, PASSWORD).await;
    let r =
        u.post("/v1/auth/password", json!({"old_password": PASSWORD, "new_password": "Office-changed-pw-02"})).await;
    assert_eq!(r.status(), 204);
    u
}

/// Whether the user's pull (every page) carries the record with this id.
async fn pulls(u: &ApiUser, id: Uuid) -> bool {
    let (mut cursor, mut found) = (String::new(), false);
    loop {
        let page: Value = u.get(&format!("/v1/sync/pull?cursor={cursor}&limit=500")).await.json().await.unwrap();
        found |= page["changes"].to_string().contains(&id.to_string());
        cursor = page["next_cursor"].as_str().unwrap().to_string();
        if page["has_more"] != true {
            return found;
        }
    }
}

/// A dispute of the demo group `t{t}v1g1`, moved up to its village; returns its id.
async fn at_village(server: &TestServer, t: u32, index: u32) -> Uuid {
    let leader = ApiUser::login(server, &format!("leader.t{t}v1g1")).await;
    let secretary = ApiUser::login(server, &format!("firstsec.t{t}v1")).await;
    let group = server.cred(&format!("leader.t{t}v1g1")).unwrap().unit_id;
    let id = Uuid::now_v7();
    let case = leader.case_number(&format!("T{t:02}V01"), index).await;
    let out = leader.push("report_dispute", dispute_body(id, &case, group, "group", "neighbour", "general")).await;
    assert_eq!(out["status"], "applied", "{out}");
    let (e, mut body) = escalation_body(id, "village");
    body["grade"] = json!("general");
    assert_eq!(leader.push("request_escalation", body).await["status"], "applied");
    let decided = secretary.push("decide_escalation", json!({"escalation_id": e, "approve": true})).await;
    assert_eq!(decided["status"], "applied", "{decided}");
    id
}

/// Asks, as the village's first secretary, to move the dispute to the judicial
/// office (`office`: the one chosen, if any); returns the escalation id and outcome.
async fn to_office(server: &TestServer, t: u32, dispute: Uuid, office: Option<Uuid>) -> (Uuid, Value) {
    let secretary = ApiUser::login(server, &format!("firstsec.t{t}v1")).await;
    let (e, mut body) = escalation_body(dispute, "judicial_office");
    body["from_level"] = json!("village");
    if let Some(o) = office {
        body["to_unit"] = json!(o);
    }
    (e, secretary.push("request_escalation", body).await)
}

fn approve(e: Uuid) -> Value {
    json!({"escalation_id": e, "approve": true})
}

fn code(out: &Value) -> &str {
    assert_eq!(out["status"], "rejected", "{out}");
    out["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_third_level_goes_to_the_office_serving_the_town_and_staff_see_their_towns_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let admin = ApiUser::login(&server, "admin").await;
    let county = server.cred("admin").unwrap().unit_id;
    let units = "级别,上级编码,编码,名称,服务乡镇\n\
                 中心司法所,,SF1,中心司法所,T01、T02\n\
                 司法所,,SF2,红旗司法所,T01\n\
                 嘎查,T02,V09,巴音嘎查,\n"
        .to_string();
    let r = import_csv(&admin, "units.csv", units).await;
    assert_eq!(r["written"], true, "{r}");
    let users = format!(
        "用户名,姓名,角色,单位,初始密码\nsf1.wang,王中心,司法所,SF1,{PASSWORD}\nsf2.li,李红旗,judicial_office,SF2,{PASSWORD}\n"
    );
    let r = import_csv(&admin, "users.csv", users).await;
    assert_eq!(r["written"], true, "{r}");
    let sf2 = derived_id(county, "unit", "SF2");
    let (central, hongqi) = (staff(&server, "sf1.wang").await, staff(&server, "sf2.li").await);
    let me: Value = hongqi.get("/v1/me").await.json().await.unwrap();
    let town1 = server.cred("committee.t1").unwrap().unit_id;
    let town2 = server.cred("committee.t2").unwrap().unit_id;
    let mut units_of_sf2: Vec<String> =
        me["roles"].as_array().unwrap().iter().map(|g| g["unit_id"].as_str().unwrap().to_string()).collect();
    units_of_sf2.sort();
    let mut want = vec![sf2.to_string(), town1.to_string()];
    want.sort();
    assert_eq!(units_of_sf2, want, "the office's staff act at the office and at the one town it serves");

    // town 2 is served by the central office only: the request needs no choice
    let d2 = at_village(&server, 2, 0).await;
    assert!(pulls(&central, d2).await, "the central office sees town 2's disputes");
    assert!(!pulls(&hongqi, d2).await, "the 红旗 office does not see a town it does not serve");
    let (e2, out) = to_office(&server, 2, d2, None).await;
    assert_eq!(out["status"], "applied", "{out}");
    assert_eq!(code(&hongqi.push("decide_escalation", approve(e2)).await), "not_in_jurisdiction");
    let legacy = ApiUser::login(&server, "judicial.t2").await;
    assert_eq!(
        code(&legacy.push("decide_escalation", approve(e2)).await),
        "role_not_allowed",
        "the town's own office grant is not the office the case went to"
    );
    assert_eq!(central.push("decide_escalation", approve(e2)).await["status"], "applied");

    // town 1 is served by both: the request must choose one that serves it
    let d1 = at_village(&server, 1, 1).await;
    assert!(pulls(&central, d1).await && pulls(&hongqi, d1).await);
    assert_eq!(code(&to_office(&server, 1, d1, None).await.1), "office_choice_required");
    assert_eq!(code(&to_office(&server, 1, d1, Some(town2)).await.1), "office_not_serving");
    let (e1, out) = to_office(&server, 1, d1, Some(sf2)).await;
    assert_eq!(out["status"], "applied", "{out}");
    assert_eq!(code(&central.push("decide_escalation", approve(e1)).await), "role_not_allowed");
    assert_eq!(hongqi.push("decide_escalation", approve(e1)).await["status"], "applied");

    // the town report names the 嘎查 as such
    let committee = ApiUser::login(&server, "committee.t2").await;
    let report: Value = committee
        .get(&format!("/v1/reports/monthly?unit={town2}&month={}", chrono::Utc::now().format("%Y-%m")))
        .await
        .json()
        .await
        .unwrap();
    let gacha = report["ranking"].as_array().unwrap().iter().find(|v| v["village"] == "巴音嘎查").cloned();
    assert_eq!(gacha.map(|v| v["kind"].clone()), Some(json!("嘎查")), "{report}");

    // an office's report counts the towns it serves together; its staff read it,
    // another office's staff do not
    let month = chrono::Utc::now().format("%Y-%m");
    let sf1 = derived_id(county, "unit", "SF1");
    let r = central.get(&format!("/v1/reports/monthly?unit={sf1}&month={month}")).await;
    assert_eq!(r.status(), 200);
    let office: Value = r.json().await.unwrap();
    assert_eq!((&office["unit_kind"], &office["towns"]), (&json!("司法所"), &json!(["红旗镇", "团结镇"])), "{office}");
    assert_eq!(office["numbers"]["new_disputes"], 2, "both towns' disputes: {office}");
    let villages = office["ranking"].as_array().unwrap().len();
    assert_eq!(villages, 7, "the six demo villages and the 嘎查: {office}");
    let one: Value = hongqi.get(&format!("/v1/reports/monthly?unit={sf2}&month={month}")).await.json().await.unwrap();
    assert_eq!((&one["towns"], &one["numbers"]["new_disputes"]), (&json!(["红旗镇"]), &json!(1)), "{one}");
    assert_eq!(hongqi.get(&format!("/v1/reports/monthly?unit={sf1}&month={month}")).await.status(), 404);
    assert_eq!(committee.get(&format!("/v1/reports/monthly?unit={sf1}&month={month}")).await.status(), 404);
}
