//! The dispute flow table exported as .xlsx and CSV, read back by a real reader
//! (calamine), after a dispute went up the ladder over real HTTP.

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use chrono::Datelike;
use fengqiao_tests::api::{dispute_body, escalation_body, ApiUser};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn flow_table_exports_every_step_as_xlsx_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let http = reqwest::Client::new();
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let first = ApiUser::login(&server, "firstsec.t1v1").await;
    let judicial = ApiUser::login(&server, "judicial.t1").await;
    let case = leader.case_number("T01V01", 0).await;
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;
    let village = server.cred("firstsec.t1v1").unwrap().unit_id;
    let dispute = Uuid::now_v7();
    let report = dispute_body(dispute, &case, group, "group", "land", "larger");
    assert_eq!(leader.push("report_dispute", report).await["status"], "applied");
    let (e1, body) = escalation_body(dispute, "village");
    assert_eq!(leader.push("request_escalation", body).await["status"], "applied");
    let ok = first.push("decide_escalation", json!({"escalation_id": e1, "approve": true})).await;
    assert_eq!(ok["status"], "applied", "{ok}");
    let (e2, body) = escalation_body(dispute, "judicial_office");
    assert_eq!(first.push("request_escalation", body).await["status"], "applied");
    let no = judicial
        .push("decide_escalation", json!({"escalation_id": e2, "approve": false, "comment": "村级继续调解"}))
        .await;
    assert_eq!(no["status"], "applied", "{no}");
    let closed =
        first.push("close_dispute", json!({"dispute_id": dispute, "outcome": "resolved", "note": "双方和解"})).await;
    assert_eq!(closed["status"], "applied", "{closed}");

    let month = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let month = format!("{:04}-{:02}", month.year(), month.month());
    let url =
        |unit: Uuid, fmt: &str| format!("{}/v1/reports/flow?unit={unit}&month={month}&format={fmt}", server.url());

    // xlsx, opened by a real reader
    let resp = http.get(url(village, "xlsx")).bearer_auth(&first.token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let bytes = resp.bytes().await.unwrap();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range("流向表").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][0], "案件编号");
    assert_eq!(rows.len(), 1 + 6, "header + report, request, approval, request, refusal, close");
    let actions: Vec<&str> = rows[1..].iter().map(|r| r[6].as_str()).collect();
    assert_eq!(actions, vec!["排查登记", "申请逐级上报", "批准上报", "申请逐级上报", "不予上报", "结案"]);
    let levels: Vec<&str> = rows[1..].iter().map(|r| r[7].as_str()).collect();
    assert_eq!(levels, vec!["组", "组", "村", "村", "村", "村"]);
    for r in &rows[1..] {
        assert_eq!(r[0], case);
        assert_eq!(r[1], "王建国、李秀英");
        assert_eq!((r[2].as_str(), r[3].as_str()), ("土地纠纷", "较大"));
    }
    assert_eq!(rows[5][11], "村级继续调解");

    // CSV, same rows
    let csv = http.get(url(village, "csv")).bearer_auth(&judicial.token).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert_eq!(text.trim_start_matches('\u{feff}').lines().count(), 7);
    // the town sees it too (JSON)
    let town = server.cred("judicial.t1").unwrap().unit_id;
    let j: Value = http.get(url(town, "json")).bearer_auth(&judicial.token).send().await.unwrap().json().await.unwrap();
    assert_eq!(j.as_array().unwrap().len(), 6);

    // outside the caller's units: 404, nothing told
    let other = ApiUser::login(&server, "secretary.t1v2").await;
    assert_eq!(http.get(url(village, "xlsx")).bearer_auth(&other.token).send().await.unwrap().status(), 404);
    assert_eq!(
        http.get(url(village, "json")).bearer_auth(&leader.token).send().await.unwrap().status(),
        404,
        "a group leader exports no village table"
    );
    let r = http
        .get(format!("{}/v1/reports/flow?unit={village}&month=2026-13", server.url()))
        .bearer_auth(&first.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
