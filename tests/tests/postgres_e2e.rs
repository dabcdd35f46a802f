//! The real server binary on PostgreSQL: `migrate --store postgres://…`, then
//! `serve --store postgres://… --demo`; a visit pushed over HTTP is in the
//! feed, and after a restart (SIGKILL, then serve again) the feed is the same
//! and the same sign-in works. A throwaway PostgreSQL is started by the test.

use std::process::Command;

use fengqiao_server::store::postgres::testdb::TestPostgres;
use fengqiao_tests::crash::{self, ServerProcess};
use serde_json::json;
use uuid::Uuid;

const SERVER: &str = env!("CARGO_BIN_EXE_test_server");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_on_postgres_and_keeps_its_feed_across_a_restart() {
    let pg = TestPostgres::start().unwrap_or_else(|why| panic!("PostgreSQL could not start for the test: {why}"));
    let url = pg.database("county").unwrap();

    let out = Command::new(SERVER).args(["migrate", "--store", &url]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
    let version = fengqiao_server::store::postgres::MIGRATIONS.len();
    assert!(said.contains(&format!("schema at version {version}")), "{said}");
    let refused = Command::new(SERVER).args(["migrate", "--store", "/var/lib/x"]).output().unwrap();
    assert!(!refused.status.success(), "migrate refuses a store that is not PostgreSQL");
    let bad = Command::new(SERVER).args(["serve", "--data", "/tmp/x", "--store", "mysql://x"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("postgres://"), "names what --store takes");

    let data = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start_on(std::path::Path::new(SERVER), data.path(), Some(&url)).unwrap();
    let password = server.password("leader.t1v1g1").unwrap();
    let token = crash::token(&server.url(), "leader.t1v1g1", &password).await.unwrap();
    let before = crash::feed(&server.url(), &token).await.unwrap();
    let household = before.iter().find(|(_, e, _)| e == "household").map(|(_, _, id)| *id).expect("a household");

    let visit = Uuid::now_v7();
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/me", server.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me = &me["user"].as_object().map_or(me.clone(), |_| me["user"].clone());
    let op = json!({
        "op_id": Uuid::now_v7(), "v": 1, "author": me["id"], "created_at": chrono::Utc::now(),
        "op": { "kind": "record_visit",
                "body": { "id": visit, "household_id": household, "visitor_id": me["id"],
                          "visited_at": chrono::Utc::now(), "kind": "routine", "notes": "走访正常", "leads": [] } }
    });
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/sync/push", server.url()))
        .bearer_auth(&token)
        .json(&json!({ "v": 1, "ops": [op] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["answers"][0]["outcome"]["status"], "applied", "{answer}");
    let after = crash::feed(&server.url(), &token).await.unwrap();
    assert!(after.iter().any(|(_, e, id)| e == "visit" && *id == visit), "the visit is in the feed");

    server.restart().unwrap();
    let token = crash::token(&server.url(), "leader.t1v1g1", &password).await.unwrap();
    assert_eq!(crash::feed(&server.url(), &token).await.unwrap(), after, "the same feed after a restart");
    assert!(!data.path().join("store").exists(), "nothing in the embedded store");
}
