//! Object- and function-level authorisation, as a matrix generated from the demo
//! county: every demo user (every role, every unit) × endpoints that name a unit,
//! a user or a record × a resource inside / outside the caller's units / one that
//! does not exist. Every outside access is refused, and the answer to an existing
//! but forbidden resource is byte-for-byte the answer to a non-existent one (it
//! reveals nothing about existence). Pulls carry nothing from outside one's units.
//!
//! Endpoints covered: push (`record_visit` on a household, `report_dispute` from a
//! unit), pull, `/v1/reports/flow`, `/v1/reports/monthly`, `/v1/admin/users/{id}`
//! (+ devices, disable, enable), `/v1/subsidies/{id}`, `/v1/photos/{sha256}`.

use std::collections::{HashMap, HashSet};

use fengqiao_domain::wire::Change;
use fengqiao_domain::{EntityKind, Record};
use fengqiao_tests::api::{dispute_body, ApiUser};
use fengqiao_tests::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

/// A unit and everything under it.
fn subtree(root: Uuid, children: &HashMap<Uuid, Vec<Uuid>>) -> HashSet<Uuid> {
    let mut out = HashSet::new();
    let mut stack = vec![root];
    while let Some(u) = stack.pop() {
        if out.insert(u) {
            stack.extend(children.get(&u).into_iter().flatten().copied());
        }
    }
    out
}

async fn answer(r: reqwest::Response) -> (u16, String) {
    let s = r.status().as_u16();
    (s, r.text().await.unwrap_or_default())
}

fn outcome_without_ids(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("op_id");
    }
    v
}

#[tokio::test]
async fn every_role_is_refused_outside_its_units_without_revealing_existence() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let store = server.state().unwrap().store.clone();

    // the county's tree and households
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut units = Vec::new();
    for r in store.records_of_kind(EntityKind::Unit).unwrap() {
        if let Record::Unit(u) = r {
            if let Some(p) = u.parent {
                children.entry(p).or_default().push(u.id);
            }
            units.push(u);
        }
    }
    let households: Vec<(Uuid, Uuid)> = store
        .records_of_kind(EntityKind::Household)
        .unwrap()
        .into_iter()
        .filter_map(|r| match r {
            Record::Household(h) => Some((h.id, h.group_id)),
            _ => None,
        })
        .collect();
    let creds = fengqiao_server::demo::read_credentials(&server.data_dir).unwrap();
    let user_ids: HashMap<String, Uuid> =
        creds.iter().map(|c| (c.username.clone(), store.user_by_username(&c.username).unwrap().unwrap().id)).collect();
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let http = reqwest::Client::new();
    let mut cells = 0usize;

    for c in &creds {
        let u = ApiUser::login(&server, &c.username).await;
        let inside = subtree(c.unit_id, &children);
        let outside_units: Vec<Uuid> = units.iter().map(|x| x.id).filter(|id| !inside.contains(id)).collect();
        let ghost = Uuid::now_v7();

        // pull: nothing from outside (households are the personal data at stake)
        let mut cursor = String::new();
        loop {
            let page: Value = u.get(&format!("/v1/sync/pull?limit=1000&cursor={cursor}")).await.json().await.unwrap();
            for ch in page["changes"].as_array().unwrap() {
                let ch: Change = serde_json::from_value(ch.clone()).unwrap();
                if let Some(Record::Household(h)) = ch.record {
                    assert!(inside.contains(&h.group_id), "{}: pulled a household outside its units", c.username);
                }
            }
            cells += 1;
            if !page["has_more"].as_bool().unwrap() {
                break;
            }
            cursor = page["next_cursor"].as_str().unwrap().to_string();
        }

        // reports by unit: outside and non-existent answer the same, and never 2xx
        for path in ["/v1/reports/flow", "/v1/reports/monthly"] {
            let none = answer(u.get(&format!("{path}?unit={ghost}&month={month}&format=json")).await).await;
            assert!(none.0 == 404 || none.0 == 403, "{} {path} ghost: {none:?}", c.username);
            for out in &outside_units {
                let got = answer(u.get(&format!("{path}?unit={out}&month={month}&format=json")).await).await;
                assert_eq!(got, none, "{} {path}: an outside unit answers unlike a missing one", c.username);
                cells += 1;
            }
        }

        // admin by user id: a non-admin learns nothing about which ids exist
        let is_admin = c.role == "county_admin";
        for other in ["leader.t2v3g3", "secretary.t1v2", "admin"] {
            let id = user_ids[other];
            for (method, suffix) in [("GET", ""), ("GET", "/devices"), ("POST", "/disable"), ("POST", "/enable")] {
                let send = |id: Uuid| {
                    let url = format!("{}/v1/admin/users/{id}{suffix}", u.url);
                    let req = if method == "GET" { http.get(url) } else { http.post(url).json(&json!({})) };
                    req.bearer_auth(&u.token).send()
                };
                if is_admin {
                    if method == "GET" {
                        assert_eq!(send(id).await.unwrap().status(), 200, "admin reads {other}{suffix}");
                    }
                } else {
                    let real = answer(send(id).await.unwrap()).await;
                    let fake = answer(send(ghost).await.unwrap()).await;
                    assert!(real.0 >= 400, "{} may {method} /v1/admin/users/{other}{suffix}", c.username);
                    assert_eq!(real, fake, "{}: {method} /admin/users/{{id}}{suffix} reveals existence", c.username);
                }
                cells += 1;
            }
        }
        // by-id reads of records that do not exist / are not one's own answer alike
        let a = answer(u.get(&format!("/v1/subsidies/{ghost}")).await).await;
        assert_eq!(a.0, 404, "{}", c.username);
        let a = answer(u.get(&format!("/v1/photos/{}", "ab".repeat(32))).await).await;
        assert_eq!(a.0, 404, "{}", c.username);
        cells += 2;

        // push: a visit to a household outside vs a household that does not exist
        let visit = |household: Uuid| {
            json!({"id": Uuid::now_v7(), "household_id": household, "visitor_id": u.id,
                   "visited_at": chrono::Utc::now(), "kind": "routine"})
        };
        let none = u.push("record_visit", visit(ghost)).await;
        assert_eq!(none["status"], "rejected", "{}: {none}", c.username);
        if let Some((h, _)) = households.iter().find(|(_, g)| !inside.contains(g)) {
            let got = u.push("record_visit", visit(*h)).await;
            assert_eq!(outcome_without_ids(&got), outcome_without_ids(&none), "{}: visit outside", c.username);
            cells += 1;
        }
        // push: a dispute reported from a unit outside vs a unit that does not exist
        let dispute =
            |unit: Uuid| dispute_body(Uuid::now_v7(), "T09V09-2026-0001-001", unit, "group", "land", "general");
        let none = u.push("report_dispute", dispute(ghost)).await;
        assert_eq!(none["status"], "rejected", "{}: {none}", c.username);
        for out in outside_units.iter().filter(|id| !inside.contains(id)).take(3) {
            let got = u.push("report_dispute", dispute(*out)).await;
            assert_eq!(outcome_without_ids(&got), outcome_without_ids(&none), "{}: dispute outside", c.username);
            cells += 1;
        }
    }
    assert!(creds.len() >= 50 && cells > 1000, "the matrix is too small: {} users, {cells} cells", creds.len());
    println!("authorisation matrix: {} users, {cells} cells", creds.len());
}
