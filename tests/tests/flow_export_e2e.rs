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

/// The rows of a CSV export (after its byte-order mark), as a spreadsheet reads them.
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).expect("CSV starts with a BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The first sheet of an xlsx export: its cells, and whether any cell is a formula.
fn xlsx_sheet(bytes: &[u8]) -> (calamine::Range<calamine::Data>, bool) {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    let name = book.sheet_names()[0].clone();
    let formulas = book.worksheet_formula(&name).unwrap().used_cells().any(|(_, _, f)| !f.is_empty());
    (book.worksheet_range(&name).unwrap(), formulas)
}

/// CWE-1236: a party name, a note, a user's and a unit's name that a spreadsheet
/// would run as a formula are neutralised in every CSV the server writes (flow
/// table, monthly report, subsidy ledger); in xlsx they are text cells and numbers
/// are numeric cells; the flow table is also served as an HTML page.
#[tokio::test]
async fn hostile_names_are_neutralised_in_every_export_and_numbers_stay_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let http = reqwest::Client::new();
    let admin = ApiUser::login(&server, "admin").await;
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let first = ApiUser::login(&server, "firstsec.t1v1").await;
    let (group, village) =
        (server.cred("leader.t1v1g1").unwrap().unit_id, server.cred("firstsec.t1v1").unwrap().unit_id);

    // hostile names: the group leader's display name, the village's and the group's names, a party, a note
    let evil_user = "=HYPERLINK(\"http://evil.example\",\"点我\")";
    let r = http
        .patch(format!("{}/v1/admin/users/{}", server.url(), leader.id))
        .bearer_auth(&admin.token)
        .json(&json!({"display_name": evil_user}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{}/v1/admin/import?name=units.csv", server.url()))
        .bearer_auth(&admin.token)
        .body("级别,上级编码,编码,名称\n村,T01,V01,@SUM(1+1)\n组,T01/V01,G01,+第一组\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["written"], true);
    let dispute = Uuid::now_v7();
    let mut body = dispute_body(dispute, &leader.case_number("T01V01", 0).await, group, "group", "land", "larger");
    body["parties"] = json!([{"name": "=1+2"}, {"name": "李秀英"}]);
    assert_eq!(leader.push("report_dispute", body).await["status"], "applied");
    let (e, body) = escalation_body(dispute, "village");
    assert_eq!(leader.push("request_escalation", body).await["status"], "applied");
    let no = first.push("decide_escalation", json!({"escalation_id": e, "approve": false, "comment": "-2+3"})).await;
    assert_eq!(no["status"], "applied", "{no}");
    let closed = leader.push("close_dispute", json!({"dispute_id": dispute, "outcome": "resolved", "note": ""})).await;
    assert_eq!(closed["status"], "applied", "{closed}");

    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let month = format!("{:04}-{:02}", now.year(), now.month());
    let get =
        |who: &ApiUser, path: String| http.get(format!("{}{path}", server.url())).bearer_auth(who.token.clone()).send();
    let flow = |fmt: &str| format!("/v1/reports/flow?unit={village}&month={month}&format={fmt}");
    let monthly = |fmt: &str| format!("/v1/reports/monthly?unit={village}&month={month}&format={fmt}");

    // flow table CSV: every hostile cell starts with a quote
    let r = get(&first, flow("csv")).await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let rows = csv_rows(&r.bytes().await.unwrap());
    assert_eq!(rows.len(), 5, "header, report, request, refusal, close: {rows:?}");
    for r in &rows[1..] {
        assert_eq!(r[1], "'=1+2、李秀英");
        assert_eq!(r[8], "'+第一组", "the handling unit");
    }
    assert_eq!(rows[1][9], format!("'{evil_user}"), "the actor");
    assert_eq!(rows[3][11], "'-2+3", "the refusal's comment");
    assert_eq!((rows[1][5].as_str(), rows[4][5].as_str()), ("1", "4"), "steps are plain numbers");

    // flow table xlsx: the same text as text cells, the step a number, no formula anywhere
    let (sheet, formulas) = xlsx_sheet(&get(&first, flow("xlsx")).await.unwrap().bytes().await.unwrap());
    assert!(!formulas);
    assert_eq!(sheet.get((1, 1)), Some(&calamine::Data::String("=1+2、李秀英".into())));
    assert_eq!(sheet.get((3, 11)), Some(&calamine::Data::String("-2+3".into())));
    assert_eq!(sheet.get((4, 5)), Some(&calamine::Data::Float(4.0)));

    // flow table HTML: served (by format= and by Accept), every text escaped
    let r = get(&first, flow("html")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = r.text().await.unwrap();
    assert!(page.contains("矛盾纠纷排查化解流向表") && page.contains("<td>=1+2、李秀英</td>"));
    assert!(page.contains("HYPERLINK(&quot;http://evil.example&quot;"), "escaped");
    let r = http
        .get(format!("{}/v1/reports/flow?unit={village}&month={month}", server.url()))
        .bearer_auth(&first.token)
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    // a format not offered is refused, naming exactly the ones offered
    let r = get(&first, flow("pdf")).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "format: json, csv, html, xlsx");

    // monthly report CSV and xlsx: the unit's name neutralised / text, counts numeric
    let r = get(&first, monthly("csv")).await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let rows = csv_rows(&r.bytes().await.unwrap());
    assert_eq!(rows[1], vec!["单位".to_string(), "'@SUM(1+1)".to_string()]);
    let (sheet, formulas) = xlsx_sheet(&get(&first, monthly("xlsx")).await.unwrap().bytes().await.unwrap());
    assert!(!formulas);
    assert_eq!(sheet.get((1, 1)), Some(&calamine::Data::String("@SUM(1+1)".into())));
    let value = |label: &str| {
        let row = (0..sheet.height()).find(|r| sheet.get((*r, 0)) == Some(&calamine::Data::String(label.into())));
        sheet.get((row.unwrap_or_else(|| panic!("no row {label}")), 1)).cloned()
    };
    assert_eq!(value("新增矛盾纠纷"), Some(calamine::Data::Float(1.0)));
    assert_eq!(value("化解"), Some(calamine::Data::Float(1.0)));
    assert!(matches!(value("补贴计提(元)"), Some(calamine::Data::Float(f)) if f > 0.0));

    // subsidy ledger CSV and xlsx: the payee is the hostile display name, the amount a number
    let r = get(&admin, "/v1/subsidies/ledger?format=csv".into()).await.unwrap();
    let rows = csv_rows(&r.bytes().await.unwrap());
    let line = rows.iter().find(|r| r[1].contains("HYPERLINK")).expect("the leader's subsidy");
    assert_eq!(line[1], format!("'{evil_user}"));
    assert!(line[2].parse::<f64>().is_ok(), "amount {}", line[2]);
    let (sheet, formulas) =
        xlsx_sheet(&get(&admin, "/v1/subsidies/ledger?format=xlsx".into()).await.unwrap().bytes().await.unwrap());
    assert!(!formulas);
    let row =
        (1..sheet.height()).find(|r| sheet.get((*r, 1)) == Some(&calamine::Data::String(evil_user.into()))).unwrap();
    assert!(matches!(sheet.get((row, 2)), Some(calamine::Data::Float(f)) if *f > 0.0));
    let r = get(&admin, "/v1/subsidies/ledger?format=html".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "format: json, csv, xlsx");
}
