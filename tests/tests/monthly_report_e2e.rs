//! The monthly analysis report against a fixture month with hand-computed counts,
//! at village, town and county level; permissions; and the HTML page rendered in
//! headless Chromium with its charts checked.

use chrono::{DateTime, TimeZone, Utc};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::wire::{OpEnvelope, Outcome};
use fengqiao_server::store::Store;
use fengqiao_tests::api::{dispute_body, escalation_body, ApiUser};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

async fn get(u: &ApiUser, unit: Uuid) -> Value {
    let r = u.get(&format!("/v1/reports/monthly?unit={unit}&month=2026-05&format=json")).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()
}

/// Beijing time on a day of 2026 at 10:00.
fn at(month: u32, day: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai.with_ymd_and_hms(2026, month, day, 10, 0, 0).unwrap().with_timezone(&Utc)
}

struct Fixture<'a> {
    server: &'a TestServer,
    store: std::sync::Arc<dyn Store>,
}

impl Fixture<'_> {
    fn actor(&self, username: &str) -> Actor {
        let u = self.store.user_by_username(username).unwrap().unwrap();
        Actor { user_id: u.id, grants: u.grants }
    }

    /// Applies one op as `who` at server time `now`; it must apply.
    fn apply(&self, who: &str, now: DateTime<Utc>, kind: &str, body: Value) {
        let a = self.actor(who);
        let env: OpEnvelope = serde_json::from_value(json!({"op_id": Uuid::now_v7(), "v": 1, "author": a.user_id,
            "created_at": now, "op": {"kind": kind, "body": body}}))
        .unwrap();
        let ans = self.store.apply_ops(&a, &Default::default(), &[env], now).unwrap();
        assert!(matches!(ans[0].outcome, Outcome::Applied { .. }), "{who} {kind}: {:?}", ans[0].outcome);
    }

    fn case(&self, who: &str, prefix: &str) -> String {
        let a = self.actor(who);
        let block = self.store.reserve_case_block(a.user_id, 2026, &Default::default()).unwrap();
        format!("{prefix}-2026-{block:04}-000")
    }

    fn unit(&self, who: &str) -> Uuid {
        self.server.cred(who).unwrap().unit_id
    }

    /// Reports a dispute at the reporter's level, at `when`.
    fn report(&self, who: &str, prefix: &str, kind: &str, grade: &str, level: &str, when: DateTime<Utc>) -> Uuid {
        let id = Uuid::now_v7();
        let case = self.case(who, prefix);
        self.apply(who, when, "report_dispute", dispute_body(id, &case, self.unit(who), level, kind, grade));
        id
    }

    fn close(&self, who: &str, d: Uuid, outcome: &str, when: DateTime<Utc>) {
        self.apply(who, when, "close_dispute", json!({"dispute_id": d, "outcome": outcome, "note": ""}));
    }
}

fn labels(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["label"].as_str().unwrap().to_string(), c["count"].as_u64().unwrap()))
        .collect()
}

fn s(x: &str) -> String {
    x.to_string()
}

#[tokio::test]
async fn fixture_month_matches_hand_computed_numbers_at_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let f = Fixture { server: &server, store: server.state().unwrap().store.clone() };

    // April: one family dispute in 东升村, resolved in its group.
    let a1 = f.report("leader.t1v1g1", "T01V01", "family", "general", "group", at(4, 10));
    f.close("leader.t1v1g1", a1, "resolved", at(4, 12));
    // May, 东升村: D1 neighbour, resolved in the group; D2 land, escalated to the village, resolved there.
    let d1 = f.report("leader.t1v1g1", "T01V01", "neighbour", "general", "group", at(5, 3));
    f.close("leader.t1v1g1", d1, "resolved", at(5, 5));
    let d2 = f.report("leader.t1v1g1", "T01V01", "land", "larger", "group", at(5, 4));
    let (e2, body) = escalation_body(d2, "village");
    f.apply("leader.t1v1g1", at(5, 6), "request_escalation", body);
    f.apply("firstsec.t1v1", at(5, 7), "decide_escalation", json!({"escalation_id": e2, "approve": true}));
    // closed by the village secretary, a paid mediator (a first secretary is credited but
    // unpaid by the county's default `subsidy.paid_roles`)
    f.close("secretary.t1v1", d2, "resolved", at(5, 10));
    // May, 前进村: D3 land (larger) escalation refused, still open and overdue (due 5-23);
    // D4 family (general) from 5-28, open, not yet due (6-04).
    let d3 = f.report("leader.t1v2g1", "T01V02", "land", "larger", "group", at(5, 8));
    let (e3, body) = escalation_body(d3, "village");
    f.apply("leader.t1v2g1", at(5, 9), "request_escalation", body);
    f.apply(
        "secretary.t1v2",
        at(5, 10),
        "decide_escalation",
        json!({"escalation_id": e3, "approve": false, "comment": "组内继续调"}),
    );
    let _d4 = f.report("leader.t1v2g1", "T01V02", "family", "general", "group", at(5, 28));
    // May, 团结镇/永安村: D5 mass (major) straight to the town, referred to court.
    let d5 = f.report("leader.t2v1g1", "T02V01", "mass", "major", "group", at(5, 15));
    let (e5, mut body) = escalation_body(d5, "town");
    body["reason"] = json!("major_grade");
    f.apply("leader.t2v1g1", at(5, 15), "request_escalation", body);
    f.apply("committee.t2", at(5, 16), "decide_escalation", json!({"escalation_id": e5, "approve": true}));
    f.close("committee.t2", d5, "referred_to_court", at(5, 25));
    // 东升村 files its May screening; nobody else does.
    let v1 = f.unit("secretary.t1v1");
    let sid = fengqiao_domain::prevent::screening_id(v1, "2026-05");
    f.apply("cadre.t1v1", at(5, 30), "file_screening", json!({"id": sid, "village_id": v1, "period": "2026-05",
        "hazards": ["两户宅基地边界不清"], "focus_areas": ["land_rights"], "new_disputes": [d1, d2], "filed_by": Uuid::nil(), "filed_at": at(5, 30)}));

    let county_admin = ApiUser::login(&server, "admin").await;
    let judicial = ApiUser::login(&server, "judicial.t1").await;
    let secretary = ApiUser::login(&server, "secretary.t1v1").await;

    // village 东升村
    let v = get(&secretary, v1).await;
    let n = &v["numbers"];
    assert_eq!((n["new_disputes"].as_u64(), v["previous"]["new_disputes"].as_u64()), (Some(2), Some(1)));
    assert_eq!((n["resolved"].as_u64(), n["still_open"].as_u64(), n["overdue"].as_u64()), (Some(2), Some(0), Some(0)));
    assert_eq!(
        (n["escalations_asked"].as_u64(), n["escalations_approved"].as_u64(), n["escalations_refused"].as_u64()),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!((n["settled_locally_permille"].as_u64(), n["pushed_beyond_permille"].as_u64()), (Some(1000), Some(0)));
    assert_eq!(labels(&v["new_by_kind"]), vec![(s("土地纠纷"), 1), (s("邻里纠纷"), 1)]);
    assert_eq!(labels(&v["new_by_level"]), vec![(s("组"), 2), (s("村"), 0), (s("司法所"), 0), (s("镇综合调委会"), 0)]);
    assert_eq!(
        labels(&v["resolved_by_level"]),
        vec![(s("组"), 1), (s("村"), 1), (s("司法所"), 0), (s("镇综合调委会"), 0)]
    );
    assert_eq!((v["screening"]["complete"].as_u64(), v["screening"]["villages"].as_u64()), (Some(1), Some(1)));
    // subsidies accrued in May: D1 general+medium 15,000 fen; D2 larger+medium 25,000 fen
    assert_eq!(
        (v["subsidies"]["accrued_count"].as_u64(), v["subsidies"]["accrued_fen"].as_i64()),
        (Some(2), Some(40_000))
    );
    let trend = labels(&v["trend"]);
    assert_eq!(trend.len(), 12);
    assert_eq!(trend[11], (s("2026-05"), 2));
    assert_eq!(trend[10], (s("2026-04"), 1));
    assert!(v["hotspots"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "东升村" && h["this_month"] == 2 && h["last_month"] == 1));

    // town 红旗镇
    let town = f.unit("judicial.t1");
    let t = get(&judicial, town).await;
    let n = &t["numbers"];
    assert_eq!(
        (n["new_disputes"].as_u64(), n["resolved"].as_u64(), n["still_open"].as_u64(), n["overdue"].as_u64()),
        (Some(4), Some(2), Some(2), Some(1))
    );
    assert_eq!(
        (n["escalations_asked"].as_u64(), n["escalations_approved"].as_u64(), n["escalations_refused"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(n["settled_locally_permille"].as_u64(), Some(1000));
    assert_eq!(labels(&t["new_by_kind"]), vec![(s("土地纠纷"), 2), (s("家庭纠纷"), 1), (s("邻里纠纷"), 1)]);
    assert_eq!((t["screening"]["complete"].as_u64(), t["screening"]["villages"].as_u64()), (Some(1), Some(3)));
    assert_eq!(t["screening"]["missing"], json!(["前进村", "新华村"]));
    assert_eq!(t["ranking"][0]["village"], "东升村", "the village that settled locally and screened ranks first");

    // county
    let county = f.unit("admin");
    let c = get(&county_admin, county).await;
    let n = &c["numbers"];
    assert_eq!(
        (n["new_disputes"].as_u64(), n["resolved"].as_u64(), n["still_open"].as_u64(), n["overdue"].as_u64()),
        (Some(5), Some(2), Some(2), Some(1))
    );
    assert_eq!(
        (n["escalations_asked"].as_u64(), n["escalations_approved"].as_u64(), n["escalations_refused"].as_u64()),
        (Some(3), Some(2), Some(1))
    );
    // closed in May: D1, D2 (locally) and D5 (referred to court)
    assert_eq!(
        (
            n["settled_locally_permille"].as_u64(),
            n["settled_by_town_permille"].as_u64(),
            n["pushed_beyond_permille"].as_u64()
        ),
        (Some(666), Some(0), Some(333))
    );
    assert_eq!((c["screening"]["complete"].as_u64(), c["screening"]["villages"].as_u64()), (Some(1), Some(6)));
    assert!(c["summary"].as_str().unwrap().contains("本月新增矛盾纠纷5件"));

    // permissions: another village's secretary, and any group leader, get 404
    let other = ApiUser::login(&server, "secretary.t1v2").await;
    assert_eq!(other.get(&format!("/v1/reports/monthly?unit={v1}&month=2026-05")).await.status(), 404);
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    assert_eq!(leader.get(&format!("/v1/reports/monthly?unit={v1}&month=2026-05")).await.status(), 404);

    // xlsx and HTML from the same numbers
    let x = secretary.get(&format!("/v1/reports/monthly?unit={v1}&month=2026-05&format=xlsx")).await;
    assert_eq!(&x.bytes().await.unwrap()[..2], b"PK");
    let html =
        judicial.get(&format!("/v1/reports/monthly?unit={town}&month=2026-05&format=html")).await.text().await.unwrap();
    assert!(html.contains("<svg id=\"by-kind\""));
    render_in_chromium(&html, 3, 12);
}

/// Renders the page in headless Chromium (Debian's `chromium`, installed by the
/// test script), saves a screenshot, and counts the bars in the rendered DOM.
fn render_in_chromium(html: &str, kind_bars: usize, trend_bars: usize) {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("chromium is installed by tests/run-all.sh");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    let url = format!("file://{}", page.display());
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let profile = format!("--user-data-dir={}", dir.path().join("profile").display());
    let dom =
        std::process::Command::new(chromium).args(flags).arg(&profile).arg("--dump-dom").arg(&url).output().unwrap();
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    let section = |id: &str| -> String {
        let start =
            dom.find(&format!("<svg id=\"{id}\"")).unwrap_or_else(|| panic!("no svg #{id} in the rendered page"));
        let end = dom[start..].find("</svg>").unwrap() + start;
        dom[start..end].to_string()
    };
    assert_eq!(section("by-kind").matches("class=\"bar\"").count(), kind_bars, "one bar per kind");
    assert_eq!(section("trend").matches("class=\"bar\"").count(), trend_bars, "twelve months");
    assert_eq!(section("by-level").matches("class=\"stack\"").count(), 4, "one stack per level");
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("monthly-report.png");
    let out = std::process::Command::new(chromium)
        .args(flags)
        .arg(&profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=900,1600")
        .arg(&url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.len() > 10_000 && png.starts_with(b"\x89PNG"), "a real screenshot at {}", shot.display());
}

#[tokio::test]
async fn negative_list_violations_are_for_cadres_and_restoration_for_secretaries() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let cadre = ApiUser::login(&server, "cadre.t1v1").await;
    let secretary = ApiUser::login(&server, "secretary.t1v1").await;
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let other_leader = ApiUser::login(&server, "leader.t1v2g1").await;
    let judicial = ApiUser::login(&server, "judicial.t1").await;
    let households: Vec<Value> = leader.pulled().await.into_iter().filter(|c| c["entity"] == "household").collect();
    let household = households[0]["id"].as_str().unwrap().to_string();

    // a group leader cannot record a violation; a cadre can
    let violation = |id: Uuid| {
        json!({"id": id, "household_id": household, "item_code": "water_fees_unpaid", "note": "拖欠水费两年",
        "evidence": [], "recorded_by": Uuid::nil(), "notified_at": Utc::now(), "sanctions_from": Utc::now(), "sanctions": []})
    };
    let refused = leader.push("record_violation", violation(Uuid::now_v7())).await;
    assert_eq!(refused["code"], "role_not_allowed");

    // sanctions apply under rules the representative meeting adopted and the
    // judicial office reviewed as lawful: the village adopts the county's list
    let v1 = server.cred("secretary.t1v1").unwrap().unit_id;
    let rules_id = fengqiao_domain::prevent::rules_id(v1);
    let adoption = json!({"meeting_date": Utc::now().date_naive().pred_opt().unwrap(), "members": 30, "present": 25,
        "votes_for": 22, "votes_against": 1, "abstentions": 2});
    let county_list = fengqiao_domain::prevent::default_items(&fengqiao_domain::policy::Policy::default());
    let adopted = json!({"id": rules_id, "village_id": v1, "items": county_list, "legality_reviewed": false,
        "adoption": adoption});
    assert_eq!(secretary.push("set_village_rules", adopted).await["status"], "applied");
    assert_eq!(
        judicial.push("review_village_rules", json!({"village_id": v1, "reviewed": true})).await["status"],
        "applied"
    );
    let vid = Uuid::now_v7();
    assert_eq!(cadre.push("record_violation", violation(vid)).await["status"], "applied");
    let outside = other_leader.push("record_violation", violation(Uuid::now_v7())).await;
    assert_eq!(outside["code"], "not_in_jurisdiction", "another village's household does not exist for them");

    // the group leader sees only the household's standing, never the violation
    let seen = leader.pulled().await;
    assert!(!seen.iter().any(|c| c["entity"] == "violation"), "no violation history for a group leader");
    let standing = seen.iter().find(|c| c["entity"] == "household_standing").expect("standing pulled");
    let suspensions = standing["record"]["data"]["suspensions"].as_array().unwrap();
    assert_eq!(suspensions.len(), 1, "services will be suspended after the correction period");
    assert!(
        secretary.pulled().await.iter().any(|c| c["entity"] == "violation"),
        "the village's cadres see the history"
    );

    // restoration needs a secretary: the cadre who recorded it cannot restore
    let restore = json!({"violation_id": vid, "note": "已缴清水费"});
    assert_eq!(cadre.push("restore_household", restore.clone()).await["code"], "role_not_allowed");
    assert_eq!(leader.push("restore_household", restore.clone()).await["code"], "not_in_jurisdiction");
    assert_eq!(secretary.push("restore_household", restore.clone()).await["status"], "applied");
    assert_eq!(secretary.push("restore_household", restore).await["status"], "conflict", "restored once");
    let standing = leader.pulled().await.into_iter().find(|c| c["entity"] == "household_standing").unwrap();
    assert!(standing["record"]["data"]["suspensions"].as_array().unwrap().is_empty());

    // the village's rules carry the township's legality review
    let items = json!([{"code": "water_fees_unpaid", "label_zh": "不按规定交纳水费", "correction_days": 30,
        "sanctions": [{"type": "services_suspended", "services": ["村集体分红"]}]},
        {"code": "burning_straw", "label_zh": "焚烧秸秆", "correction_days": 7, "sanctions": [{"type": "public_notice"}]}]);
    let rules =
        json!({"id": rules_id, "village_id": v1, "items": items, "legality_reviewed": true, "adoption": adoption});
    assert_eq!(secretary.push("set_village_rules", rules).await["status"], "applied");
    let r = secretary.pulled().await.into_iter().find(|c| c["entity"] == "village_rules").unwrap();
    assert_eq!(r["record"]["data"]["legality_reviewed"], false, "changed rules wait for the township's review");
    assert_eq!(
        cadre.push("review_village_rules", json!({"village_id": v1, "reviewed": true})).await["code"],
        "role_not_allowed"
    );
    assert_eq!(
        judicial.push("review_village_rules", json!({"village_id": v1, "reviewed": true})).await["status"],
        "applied"
    );
    let r = secretary.pulled().await.into_iter().find(|c| c["entity"] == "village_rules").unwrap();
    assert_eq!(r["record"]["data"]["legality_reviewed"], true);
}

/// The month still running is reported as of the request: a dispute due later
/// this month is not counted overdue (the report used to count every deadline
/// before the month's end), and the summary says "as of" rather than "month end".
#[tokio::test]
async fn the_running_month_is_reported_as_of_now() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let secretary = ApiUser::login(&server, "secretary.t1v1").await;
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;
    let village = server.cred("secretary.t1v1").unwrap().unit_id;
    let case = leader.case_number("T01V01", 0).await;
    let body = dispute_body(Uuid::now_v7(), &case, group, "group", "family", "general");
    assert_eq!(leader.push("report_dispute", body).await["status"], "applied");

    let before = Utc::now();
    let now = before.with_timezone(&chrono_tz::Asia::Shanghai);
    let month = now.format("%Y-%m").to_string();
    let r: Value = secretary
        .get(&format!("/v1/reports/monthly?unit={village}&month={month}&format=json"))
        .await
        .json()
        .await
        .unwrap();
    let as_of: DateTime<Utc> = r["as_of"].as_str().unwrap().parse().unwrap();
    assert!(as_of >= before && as_of <= Utc::now(), "as of the request: {as_of}");
    assert_eq!((r["numbers"]["still_open"].as_u64(), r["numbers"]["overdue"].as_u64()), (Some(1), Some(0)), "{r}");
    assert_eq!(r["ranking"][0]["on_time_permille"], 1000);
    assert!(r["summary"].as_str().unwrap().contains("截至"), "{}", r["summary"]);
    // and as CSV, which the document lists
    let csv = secretary.get(&format!("/v1/reports/monthly?unit={village}&month={month}&format=csv")).await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
}
