//! Desk benchmark (issue 22; a bench binary, not a timed test).
//!
//! The demo county scaled up on a real server in this process (sled,
//! loopback HTTP): `--disputes` copies of a resolved case reported by a real
//! phone (its dispute, sessions, agreement, flow entries and subsidies, with
//! new ids, case numbers and party names, spread over the demo villages; two
//! in five left open, one in five with a case review), then routine visits of
//! the demo households until the feed holds `--changes` changes, all written
//! through `Store::put_records` (5,000 per transaction).
//!
//! Then each desk role signs in through the desk's form (judicial office,
//! town committee, county, village secretary) and every desk page it has is
//! fetched `--requests` times in a row over HTTP with its session cookie:
//! p50, p95 and max per page, beside the API's nearest read (the first page
//! of the caller's pull, 500 changes) as a ratio. The goal: every page's p95
//! ≤ 300 ms at 100,000 disputes and 1,000,000 changes.
//!
//! Run: `cargo bench -p fengqiao-tests --bench desk` (`-- --disputes 2000
//! --changes 20000` for a quick look; figures go in docs/BENCHMARKS.md).

use std::time::{Duration, Instant};

use fengqiao_domain::{EntityKind, Record};
use fengqiao_server::store::desk_index;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::desk::{named, resolved_case, DeskClient};
use fengqiao_tests::phone::signed_in_synced;
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 8] = ["建国", "秀英", "志强", "桂兰", "海涛", "春梅", "德明", "玉珍"];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `record` with a new id, belonging to `dispute` if it belonged to one.
fn copy(record: &Record, dispute: Uuid, edit: impl FnOnce(&mut Value)) -> Record {
    let mut v = serde_json::to_value(record).expect("record as json");
    v["data"]["id"] = json!(Uuid::now_v7());
    if v["data"].get("dispute_id").is_some_and(|d| !d.is_null()) {
        v["data"]["dispute_id"] = json!(dispute);
    }
    edit(&mut v["data"]);
    serde_json::from_value(v).expect("edited record")
}

/// p50, p95 and max of durations, in ms.
fn stats(mut d: Vec<Duration>) -> (f64, f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(d[((d.len() as f64 * q).ceil() as usize).clamp(1, d.len()) - 1]);
    (at(0.5), at(0.95), ms(*d.last().expect("a request")))
}

async fn time_desk(desk: &DeskClient, path: &str, n: usize) -> (f64, f64, f64) {
    let (status, body) = desk.get(path).await;
    assert_eq!(status, 200, "{path}: {}", &body[..body.len().min(300)]);
    let mut d = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let (status, _) = desk.get(path).await;
        d.push(t.elapsed());
        assert_eq!(status, 200, "{path}");
    }
    stats(d)
}

async fn time_api(api: &ApiUser, n: usize) -> (f64, f64, f64) {
    let mut d = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let res = api.get("/v1/sync/pull?limit=500").await;
        let _ = res.bytes().await;
        d.push(t.elapsed());
    }
    stats(d)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let disputes = arg("--disputes", 100_000);
    let changes = arg("--changes", 1_000_000);
    let requests = arg("--requests", 30);
    let work = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(&work.path().join("data")).await.expect("server");
    let store = server.state().expect("state").store.clone();

    // The model case, from a real phone.
    let seed = Instant::now();
    let village = server.cred("mediator.t1v1").expect("cred").unit_id;
    let mediator = signed_in_synced(&work.path().join("phone"), &server.url(), &server, "mediator.t1v1").await;
    let model = resolved_case(&mediator, village, named(&["王建国", "李秀英"]));
    mediator.sync().await.expect("sync");
    let Some(Record::Dispute(model)) = store.record(EntityKind::Dispute, model.id).expect("read") else {
        panic!("the model case is on the server")
    };
    let linked: Vec<Record> = desk_index::linked(store.as_ref(), model.id)
        .expect("linked")
        .into_iter()
        .map(|s| s.record)
        .filter(|r| !matches!(r, Record::Attachment(_) | Record::CaseReview(_)))
        .collect();
    let units = store.records_of_kind(EntityKind::Unit).expect("units");
    let villages: Vec<Uuid> = units
        .iter()
        .filter_map(|r| match r {
            Record::Unit(u) if u.level == fengqiao_domain::UnitLevel::Village => Some(u.id),
            _ => None,
        })
        .collect();
    let households: Vec<Record> = store.records_of_kind(EntityKind::Household).expect("households");
    let model_review = json!({"entity": "case_review", "data": {"id": Uuid::nil(), "dispute_id": Uuid::nil(),
        "score": 85, "passed": true, "reasons": [], "correction_reason": "", "reviewer": Uuid::nil(),
        "reviewed_at": chrono::Utc::now()}});
    let model_review: Record = serde_json::from_value(model_review).expect("review");
    let mut batch: Vec<Record> = Vec::with_capacity(5_000);
    let mut sample = (model.id, model.case_number.clone(), String::new());
    for i in 0..disputes {
        let id = Uuid::now_v7();
        let origin = villages[i % villages.len()];
        let number = format!("B{:02}-2026-{:04}-{:03}", i % 97, 1000 + i / 1000, i % 1000);
        let name = format!("{}{}{}", SURNAMES[i % 8], GIVEN[(i / 8) % 8], i);
        if i >= disputes / 2 && origin == village && sample.0 == model.id {
            sample = (id, number.clone(), name.clone());
        }
        let open = i % 5 < 2;
        batch.push(copy(&Record::Dispute(model.clone()), id, |d| {
            d["id"] = json!(id);
            d["case_number"] = json!(number);
            d["origin_unit"] = json!(origin);
            d["handler_unit"] = json!(origin);
            d["parties"] = json!([{"name": name}, {"name": "对方当事人"}]);
            if open {
                d["closing"] = Value::Null;
            }
        }));
        for r in &linked {
            batch.push(copy(r, id, |_| {}));
        }
        if i % 5 == 4 {
            batch.push(copy(&model_review, id, |_| {}));
        }
        if batch.len() >= 5_000 {
            store.put_records(&batch).expect("put");
            batch.clear();
        }
    }
    store.put_records(&batch).expect("put");
    batch.clear();
    let visit = json!({"entity": "visit", "data": {"id": Uuid::nil(), "household_id": Uuid::nil(),
        "visitor_id": Uuid::nil(), "visited_at": chrono::Utc::now(), "kind": "routine",
        "notes": "入户走访：了解家庭生产生活情况，询问邻里关系。"}});
    let visit: Record = serde_json::from_value(visit).expect("visit");
    let mut i = 0usize;
    while (store.last_seq().expect("seq") as usize) < changes {
        let left = changes - store.last_seq().expect("seq") as usize;
        for _ in 0..left.min(5_000) {
            let h = households[i % households.len()].id();
            batch.push(copy(&visit, Uuid::nil(), |v| v["household_id"] = json!(h)));
            i += 1;
        }
        store.put_records(&batch).expect("put visits");
        batch.clear();
    }
    store.flush().expect("flush");
    println!(
        "seeded {disputes} disputes ({} records each) and {i} visits: {} changes in {:.0} s",
        1 + linked.len(),
        store.last_seq().expect("seq"),
        seed.elapsed().as_secs_f64()
    );

    let (case, number, name) = sample;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let town = server.cred("judicial.t1").expect("cred");
    let town_unit = server.cred("committee.t1").expect("cred").unit_id;
    let county = server.cred("admin").expect("cred").unit_id;
    let q = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let roles: Vec<(&str, Vec<String>)> = vec![
        (
            "judicial.t1",
            vec![
                "/desk/".into(),
                "/desk/cases".into(),
                format!("/desk/cases?q={}", q(&number)),
                format!("/desk/cases?q={}", q(&name)),
                "/desk/cases?q=11010519491231002X".into(),
                format!("/desk/cases/{case}"),
                "/desk/review".into(),
                "/desk/inbox".into(),
                "/desk/reports".into(),
                format!("/desk/reports?unit={}&month={month}&kind=monthly", town.unit_id),
                format!("/desk/reports?unit={town_unit}&month={month}&kind=flow"),
                format!("/desk/cases/{case}/print/agreement"),
                format!("/desk/cases/{case}/print/intake"),
                format!("/desk/cases/{case}/print/notice"),
                format!("/desk/cases/{case}/print/cover"),
            ],
        ),
        (
            "committee.t1",
            vec![
                "/desk/cases".into(),
                format!("/desk/cases?q={}", q(&name)),
                "/desk/inbox".into(),
                format!("/desk/reports?unit={town_unit}&month={month}&kind=monthly"),
            ],
        ),
        (
            "admin",
            vec![
                // the county's administrator sees no disputes (the API's scoping): its list is empty
                "/desk/cases".into(),
                "/desk/subsidies".into(),
                "/desk/users".into(),
                "/desk/audit".into(),
                "/desk/policy".into(),
                format!("/desk/reports?unit={county}&month={month}&kind=monthly"),
            ],
        ),
        (
            "secretary.t1v1",
            vec!["/desk/cases".into(), format!("/desk/cases?q={}", q(&name)), format!("/desk/cases/{case}")],
        ),
    ];
    println!("| role | page | p50 ms | p95 ms | max ms | p95 ÷ API pull p95 |");
    println!("|---|---|---:|---:|---:|---:|");
    for (user, pages) in roles {
        let cred = server.cred(user).expect("cred");
        let desk = DeskClient::sign_in(&server.url(), &cred.username, &cred.password).await;
        let api = ApiUser::login(&server, user).await;
        let (a50, a95, amax) = time_api(&api, requests).await;
        println!("| {user} | API: GET /v1/sync/pull?limit=500 | {a50:.1} | {a95:.1} | {amax:.1} | 1.00 |");
        for p in pages {
            let (p50, p95, max) = time_desk(&desk, &p, requests).await;
            let shown = p
                .replace(&case.to_string(), "{case}")
                .replace(&q(&number), "{case number}")
                .replace(&q(&name), "{party name}")
                .replace(&month, "{month}")
                .replace(&town.unit_id.to_string(), "{judicial office}")
                .replace(&town_unit.to_string(), "{town}")
                .replace(&county.to_string(), "{county}");
            println!("| {user} | {shown} | {p50:.1} | {p95:.1} | {max:.1} | {:.2} |", p95 / a95.max(0.001));
        }
    }
}
