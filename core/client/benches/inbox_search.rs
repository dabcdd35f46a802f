//! The approver's inbox and the household search, offline, on the phone's
//! encrypted sled store (issue 21: each within 50 ms on this machine).
//!
//! A first secretary's phone holds, as pulled: the org units, 5,000
//! households of the village's groups and 500 disputes at the group level,
//! each with an escalation to the village waiting for a decision. Measured in
//! one run, interleaved round-robin so the machine's load hits each alike:
//!
//! - **inbox**: `FieldClient::escalation_inbox` (every escalation checked by
//!   the domain's `may_decide`, its dispute with deadline and actions, the
//!   core's order);
//! - **search**: `FieldClient::search_households` over the 5,000, for a name
//!   (`王`), a pinyin-initials query (`wjg`), a household code (`H0042`) and a
//!   query that finds nothing;
//! - **list** (the baseline): `FieldClient::households`, the plain list the
//!   search reads.
//!
//! Medians and p95 with their ratio to the 50 ms budget.
//! Run: `cargo bench -p fengqiao-core --bench inbox_search`. Figures go in docs/BENCHMARKS.md.

use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use fengqiao_core::store::{PulledPage, StoredSession};
use fengqiao_core::{ClientOptions, ClientStore, FieldClient, SledClientStore};
use fengqiao_domain::disputes::{Analysis, Difficulty, Dispute, Escalation, EscalationReason, Party};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::org::{OrgUnit, Role, RoleGrant, UnitLevel};
use fengqiao_domain::wire::{Change, ChangeAction, GrantInfo, UserInfo};
use fengqiao_domain::{Household, Record};
use uuid::Uuid;

const HOUSEHOLDS: usize = 5_000;
const DISPUTES: usize = 500;
const GROUPS: u128 = 10;
const WARMUP: usize = 5;
const ITERS: usize = 60;
const BUDGET: Duration = Duration::from_millis(50);
const NOWHERE: &str = "http://127.0.0.1:9";
const KEY: [u8; 32] = [42u8; 32];

const COUNTY: u128 = 1;
const TOWN: u128 = 2;
const VILLAGE: u128 = 3;
const GROUP0: u128 = 100;
const SECRETARY: u128 = 9_000;
const LEADER: u128 = 9_001;

const SURNAMES: [&str; 12] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙"];
const GIVEN: [&str; 12] =
    ["建国", "秀英", "桂兰", "志强", "玉梅", "海军", "春花", "永福", "淑珍", "国华", "丽娟", "长林"];

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn unit(n: u128, level: UnitLevel, parent: Option<u128>) -> OrgUnit {
    OrgUnit {
        id: id(n),
        code: format!("U{n}"),
        name: format!("单位{n}"),
        level,
        parent: parent.map(id),
        kind: None,
        offices: vec![],
    }
}

fn put(record: Record) -> Change {
    Change { seq: 0, action: ChangeAction::Put, entity: record.kind(), id: record.id(), record: Some(record) }
}

fn household(i: usize) -> Record {
    Record::Household(Household {
        id: id(1_000_000 + i as u128),
        group_id: id(GROUP0 + (i as u128 % GROUPS)),
        head_name: format!("{}{}", SURNAMES[i % 12], GIVEN[(i / 12 + i) % 12]),
        address: format!("第{}组{}号", i as u128 % GROUPS + 1, i / GROUPS as usize + 1),
        phone: None,
        code: Some(format!("H{i:04}")),
        id_number: None,
    })
}

/// A dispute at a group with its escalation to the village waiting.
fn dispute(i: usize) -> [Record; 2] {
    let now = Utc::now() - Days::hours(i as i64);
    let group = GROUP0 + (i as u128 % GROUPS);
    let (d_id, e_id) = (id(2_000_000 + i as u128), id(3_000_000 + i as u128));
    let grade = [Grade::General, Grade::Larger, Grade::Major][i % 3];
    let d = Dispute {
        id: d_id,
        case_number: format!("T01V01-2026-{:04}-{:03}", i / 100, i % 100),
        kind: "neighbour".into(),
        origin_unit: id(group),
        parties: vec![Party { name: "王建国".into(), household_id: None, phone: None }],
        summary: format!("第{i}件：院墙滴水引发争执"),
        grade,
        analysis: Analysis {
            cause: "院墙滴水".into(), consequences: "口角".into(), difficulty: Difficulty::Medium
        },
        found_at: now,
        lead_id: None,
        reported_by: id(LEADER),
        level: Level::Group,
        handler_unit: id(group),
        level_since: now,
        registered_at: now,
        pending_escalation: Some(e_id),
        closing: None,
        flow_count: 2,
        case_file: vec![],
        credited: vec![],
        earlier_credit: vec![],
        payees: vec![],
        deadline_floor: None,
        policy_version: String::new(),
        deadlines: None,
    };
    let e = Escalation {
        id: e_id,
        dispute_id: d_id,
        from_level: Level::Group,
        to_level: Level::Village,
        reason: EscalationReason::RepeatedMediationFailed,
        note: "两次调解未果".into(),
        requested_by: id(LEADER),
        requested_at: now,
        grade,
        to_unit: Some(id(VILLAGE)),
        decision: None,
    };
    [Record::Dispute(d), Record::Escalation(e)]
}

fn seed(store: &dyn ClientStore) {
    let chain = [
        unit(VILLAGE, UnitLevel::Village, Some(TOWN)),
        unit(TOWN, UnitLevel::Town, Some(COUNTY)),
        unit(COUNTY, UnitLevel::County, None),
    ];
    let user = UserInfo {
        id: id(SECRETARY),
        username: "firstsec".into(),
        display_name: "第一书记".into(),
        roles: vec![GrantInfo {
            grant: RoleGrant { role: Role::FirstSecretary, unit_id: id(VILLAGE) },
            unit_name: "一村".into(),
            ancestors: chain.to_vec(),
            offices: vec![],
        }],
    };
    store.save_session(&StoredSession { user, tokens: None }).expect("session");
    let mut changes: Vec<Change> = chain.iter().cloned().map(|u| put(Record::Unit(u))).collect();
    changes.extend((0..GROUPS).map(|g| put(Record::Unit(unit(GROUP0 + g, UnitLevel::Group, Some(VILLAGE))))));
    let page = |changes, n: usize| PulledPage { reset: false, changes, next_cursor: format!("c{n}") };
    store.apply_pulled(id(SECRETARY), &page(changes, 0)).expect("units");
    let homes: Vec<Change> = (0..HOUSEHOLDS).map(|i| put(household(i))).collect();
    store.apply_pulled(id(SECRETARY), &page(homes, 1)).expect("households");
    let cases: Vec<Change> = (0..DISPUTES).flat_map(dispute).map(put).collect();
    store.apply_pulled(id(SECRETARY), &page(cases, 2)).expect("disputes");
}

fn quantile(v: &[Duration], q: f64) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s[((s.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let key = fengqiao_core::StoreKey::from_bytes(&KEY).expect("key");
    seed(&SledClientStore::open(dir.path(), &key).expect("store"));
    let client =
        FieldClient::open(dir.path().display().to_string(), NOWHERE.into(), KEY.to_vec(), ClientOptions::default())
            .expect("client");
    assert_eq!(client.escalation_inbox().expect("inbox").len(), DISPUTES, "every escalation waits for this approver");
    assert_eq!(client.households().expect("list").len(), HOUSEHOLDS);
    assert!(!client.search_households("wjg", 50).expect("search").is_empty(), "王建国 by initials");

    type Case<'a> = (&'a str, Box<dyn Fn() -> usize + 'a>);
    let cases: Vec<Case<'_>> = vec![
        ("inbox (500 escalations)", Box::new(|| client.escalation_inbox().expect("inbox").len())),
        ("search name 王", Box::new(|| client.search_households("王", 100).expect("search").len())),
        ("search initials wjg", Box::new(|| client.search_households("wjg", 100).expect("search").len())),
        ("search code H0042", Box::new(|| client.search_households("H0042", 100).expect("search").len())),
        ("search no match", Box::new(|| client.search_households("欧阳", 100).expect("search").len())),
        ("list households (baseline)", Box::new(|| client.households().expect("list").len())),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(ITERS); cases.len()];
    for round in 0..WARMUP + ITERS {
        for (i, (_, run)) in cases.iter().enumerate() {
            let t = Instant::now();
            std::hint::black_box(run());
            if round >= WARMUP {
                times[i].push(t.elapsed());
            }
        }
    }
    println!(
        "{HOUSEHOLDS} households, {DISPUTES} waiting escalations, encrypted sled store; {ITERS} rounds interleaved"
    );
    println!("{:<28} {:>10} {:>10} {:>14}", "case", "median", "p95", "p95 / 50 ms");
    for ((name, _), t) in cases.iter().zip(&times) {
        let (med, p95) = (quantile(t, 0.5), quantile(t, 0.95));
        println!(
            "{name:<28} {:>8.2}ms {:>8.2}ms {:>13.2}",
            med.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            p95.as_secs_f64() / BUDGET.as_secs_f64()
        );
    }
}
