//! Pull benchmark (issue 11, budget 3; a bench binary, not a timed test).
//!
//! Two real servers in this process (sled, loopback HTTP), side by side:
//!
//! - **near-empty**: the demo county only;
//! - **full**: the demo county plus a town of 100 villages × 10 groups × 10
//!   households whose villages hold visits, one million changes in all, written
//!   straight through the store API (`Store::put_records`, 5,000 per transaction).
//!
//! Measured, in alternating rounds:
//!
//! 1. a **no-op pull** (`GET /v1/sync/pull` with the caller's latest cursor:
//!    nothing new) by a demo group leader and by a village secretary of the big
//!    town, median and p99 of sequential requests on one connection; the budget
//!    is full ≤ 1.5 × near-empty;
//! 2. the **initial pull of a village of 10,000 records** by a phone core (its
//!    first `sync()` after sign-in: push nothing, pull every page, top up case
//!    numbers, fetch the policy), with the in-memory and the sled phone store;
//!    the budget is under one second.
//!
//! Run: `cargo bench -p fengqiao-tests --bench pull` (`-- --changes 100000` for
//! a quick look; figures go in docs/BENCHMARKS.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use fengqiao_core::{ClientOptions, FieldClient, MemoryClientStore};
use fengqiao_domain::{EntityKind, Household, OrgUnit, Record, Role, RoleGrant, UnitLevel, Visit, VisitKind};
use fengqiao_server::store::{Store, UserRecord};
use fengqiao_tests::TestServer;
use serde_json::Value;
use uuid::Uuid;

const PASSWORD: &str = "bench-password-2026";
const VILLAGES: usize = 100;
const GROUPS: usize = 10;
const HOUSEHOLDS: usize = 10;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Adds the big town to `store`: `total` records over 100 villages. Returns the
/// first village's id.
fn fill(store: &dyn Store, county: Uuid, total: usize) -> Uuid {
    let town = OrgUnit {
        id: Uuid::now_v7(),
        code: "T99".into(),
        name: "大镇".into(),
        level: UnitLevel::Town,
        parent: Some(county),
        kind: None,
        offices: vec![],
    };
    store.put_records(&[Record::Unit(town.clone())]).expect("town");
    let per_village = total / VILLAGES;
    let mut first = None;
    let started = Instant::now();
    for v in 0..VILLAGES {
        let village = OrgUnit {
            id: Uuid::now_v7(),
            code: format!("V{v:03}"),
            name: format!("第{v}村"),
            level: UnitLevel::Village,
            parent: Some(town.id),
            kind: None,
            offices: vec![],
        };
        first.get_or_insert(village.id);
        let mut records = vec![Record::Unit(village.clone())];
        let mut households = Vec::new();
        for g in 0..GROUPS {
            let group = OrgUnit {
                id: Uuid::now_v7(),
                code: format!("G{g:02}"),
                name: format!("第{g}组"),
                level: UnitLevel::Group,
                parent: Some(village.id),
                kind: None,
                offices: vec![],
            };
            records.push(Record::Unit(group.clone()));
            for h in 0..HOUSEHOLDS {
                let hh = Household {
                    id: Uuid::now_v7(),
                    group_id: group.id,
                    head_name: format!("户主{v}-{g}-{h}"),
                    address: format!("第{g}组{h}号"),
                    phone: None,
                    code: None,
                    id_number: None,
                };
                households.push((hh.id, group.id));
                records.push(Record::Household(hh));
            }
        }
        store.put_records(&records).expect("units and households");
        let visits = per_village.saturating_sub(records.len());
        let visitor = Uuid::now_v7();
        for chunk in (0..visits).collect::<Vec<_>>().chunks(5_000) {
            let batch: Vec<Record> = chunk
                .iter()
                .map(|i| {
                    let (household_id, group_id) = households[i % households.len()];
                    Record::Visit(Visit {
                        id: Uuid::now_v7(),
                        household_id,
                        visitor_id: visitor,
                        visited_at: Utc::now(),
                        kind: VisitKind::Routine,
                        notes: format!("走访{i}：无纠纷苗头。"),
                        location: None,
                        leads: vec![],
                        group_id: Some(group_id),
                        body: None,
                    })
                })
                .collect();
            store.put_records(&batch).expect("visits");
        }
        if v % 10 == 9 {
            eprintln!(
                "  filled {} villages, last seq {}, {:.0} s",
                v + 1,
                store.last_seq().unwrap_or(0),
                started.elapsed().as_secs_f64()
            );
        }
    }
    first.expect("a village")
}

fn add_user(store: &dyn Store, username: &str, role: Role, unit_id: Uuid) {
    let hash = argon2_hash();
    store
        .create_user(&UserRecord {
            id: Uuid::now_v7(),
            username: username.into(),
            display_name: username.into(),
            password_hash: hash,
            grants: vec![RoleGrant { role, unit_id }],
            disabled: false,
            must_change_password: false,
            created_at: Utc::now(),
        })
        .expect("user");
}

fn argon2_hash() -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(b"fengqiao-bench-salt").expect("salt");
    argon2::Argon2::default().hash_password(PASSWORD.as_bytes(), &salt).expect("hash").to_string()
}

/// A signed-in raw HTTP caller whose cursor is at the top of its feed.
struct Puller {
    http: reqwest::Client,
    url: String,
    token: String,
    cursor: String,
}

impl Puller {
    async fn new(url: &str, username: &str, password: &str) -> Puller {
        let http = reqwest::Client::new();
        let t: Value = fengqiao_tests::api::login_request(&http, url, username, password)
            .await
            .json()
            .await
            .expect("login answer");
        let token = t["access_token"].as_str().expect("token").to_string();
        let mut p = Puller { http, url: url.into(), token, cursor: String::new() };
        loop {
            let page = p.pull().await;
            p.cursor = page["next_cursor"].as_str().expect("cursor").into();
            if !page["has_more"].as_bool().expect("has_more") {
                break;
            }
        }
        p
    }

    async fn pull(&self) -> Value {
        self.http
            .get(format!("{}/v1/sync/pull", self.url))
            .query(&[("cursor", self.cursor.as_str()), ("limit", "1000")])
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("pull")
            .json()
            .await
            .expect("page")
    }

    /// Sequential no-op pulls; sorted latencies.
    async fn noop_round(&self, n: usize) -> Vec<Duration> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let page = self.pull().await;
            out.push(t.elapsed());
            assert_eq!(page["changes"].as_array().map(Vec::len), Some(0), "a no-op pull");
        }
        out.sort();
        out
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

/// First sync of a fresh phone; (seconds, changes pulled).
async fn initial_pull(phone: FieldClient, username: &str) -> (f64, u64) {
    phone.login(username.into(), PASSWORD.into()).await.expect("login");
    let t = Instant::now();
    let report = phone.sync().await.expect("sync");
    (t.elapsed().as_secs_f64(), report.pulled)
}

fn main() {
    let total = arg("--changes", 1_000_000);
    let rounds = arg("--rounds", 3);
    let per_round = arg("--pulls", 1_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (small_dir, big_dir, phone_dir) =
        (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    rt.block_on(async {
        let small = TestServer::start(small_dir.path()).await.expect("server");
        let big = TestServer::start(big_dir.path()).await.expect("server");
        let county = |s: &TestServer| {
            s.state()
                .expect("state")
                .store
                .records_of_kind(EntityKind::Unit)
                .expect("units")
                .into_iter()
                .find_map(|r| match r {
                    Record::Unit(u) if u.level == UnitLevel::County => Some(u.id),
                    _ => None,
                })
                .expect("county")
        };
        let store = big.state().expect("state").store.clone();
        let big_county = county(&big);
        let t = Instant::now();
        let village = tokio::task::spawn_blocking(move || fill(store.as_ref(), big_county, total)).await.expect("fill");
        let big_store = &big.state().expect("state").store;
        println!(
            "filled the full server: last seq {} in {:.1} s",
            big_store.last_seq().expect("seq"),
            t.elapsed().as_secs_f64()
        );
        for s in [&small, &big] {
            add_user(
                s.state().expect("state").store.as_ref(),
                "bench.secretary",
                Role::VillageSecretary,
                s_village(s, village),
            );
        }
        let leader = small.cred("leader.t1v1g1").expect("cred");
        let leader_big = big.cred("leader.t1v1g1").expect("cred");
        let p_small = Puller::new(&small.url(), &leader.username, &leader.password).await;
        let p_big = Puller::new(&big.url(), &leader_big.username, &leader_big.password).await;
        let s_small = Puller::new(&small.url(), "bench.secretary", PASSWORD).await;
        let s_big = Puller::new(&big.url(), "bench.secretary", PASSWORD).await;
        println!("no-op pull latency, µs (median / p99 of {per_round} sequential pulls):");
        let mut ratios = Vec::new();
        for round in 0..rounds {
            let a = p_small.noop_round(per_round).await;
            let b = p_big.noop_round(per_round).await;
            let c = s_small.noop_round(per_round).await;
            let d = s_big.noop_round(per_round).await;
            println!(
                "  round {round}: leader near-empty {:.0} / {:.0}, full {:.0} / {:.0} (ratio {:.2}); \
                 secretary near-empty {:.0} / {:.0}, full {:.0} / {:.0} (ratio {:.2})",
                pct(&a, 0.5),
                pct(&a, 0.99),
                pct(&b, 0.5),
                pct(&b, 0.99),
                pct(&b, 0.5) / pct(&a, 0.5),
                pct(&c, 0.5),
                pct(&c, 0.99),
                pct(&d, 0.5),
                pct(&d, 0.99),
                pct(&d, 0.5) / pct(&c, 0.5),
            );
            ratios.push(pct(&b, 0.5) / pct(&a, 0.5));
            ratios.push(pct(&d, 0.5) / pct(&c, 0.5));
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "no-op pull ratio full / near-empty: median {:.2}, worst {:.2}",
            ratios[ratios.len() / 2],
            ratios[ratios.len() - 1]
        );

        let opts = ClientOptions { request_timeout: Duration::from_secs(60), ..ClientOptions::default() };
        for round in 0..rounds {
            let mem =
                FieldClient::with_store(Arc::new(MemoryClientStore::new()), big.url(), opts.clone()).expect("phone");
            let (secs, pulled) = initial_pull(mem, "bench.secretary").await;
            let dir = phone_dir.path().join(format!("sled-{round}"));
            let on_sled = FieldClient::open(
                dir.to_string_lossy().into_owned(),
                big.url(),
                fengqiao_tests::phone::store_key(),
                opts.clone(),
            )
            .expect("phone");
            let (secs_sled, pulled_sled) = initial_pull(on_sled, "bench.secretary").await;
            println!(
                "initial pull of the village, round {round}: memory store {pulled} changes in {secs:.3} s; \
                 sled store {pulled_sled} changes in {secs_sled:.3} s"
            );
        }
    });
}

/// The village to give the secretary on each server: the big town's first
/// village on the full server, a demo village on the near-empty one.
fn s_village(s: &TestServer, big_village: Uuid) -> Uuid {
    let store = &s.state().expect("state").store;
    if store.record(EntityKind::Unit, big_village).ok().flatten().is_some() {
        return big_village;
    }
    store
        .records_of_kind(EntityKind::Unit)
        .expect("units")
        .into_iter()
        .find_map(|r| match r {
            Record::Unit(u) if u.level == UnitLevel::Village => Some(u.id),
            _ => None,
        })
        .expect("a village")
}
