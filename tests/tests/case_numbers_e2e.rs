//! Offline case numbers across many devices: 20 phones (18 group leaders, two
//! of them on a second phone too) reserve blocks from the real server, then
//! number 500 disputes each with no server at all; all 10,000 numbers are
//! distinct, and a sample pushed afterwards is accepted.

use std::collections::HashSet;
use std::sync::Arc;

use fengqiao_core::{ClientError, FieldClient, MemoryClientStore};
use fengqiao_domain::disputes::CaseNumber;
use fengqiao_domain::ladder::Grade;
use fengqiao_domain::{EntityKind, Record};
use fengqiao_tests::phone::{fast_options, new_dispute, sign_in};
use fengqiao_tests::TestServer;
use uuid::Uuid;

const PER_PHONE: usize = 500;

#[tokio::test]
async fn twenty_devices_number_ten_thousand_cases_offline_without_collisions() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start(dir.path()).await.unwrap();
    let mut users: Vec<String> = Vec::new();
    for t in 1..=2 {
        for v in 1..=3 {
            for g in 1..=3 {
                users.push(format!("leader.t{t}v{v}g{g}"));
            }
        }
    }
    users.push("leader.t1v1g1".into());
    users.push("leader.t2v1g1".into());
    assert_eq!(users.len(), 20);

    let mut phones: Vec<(FieldClient, Uuid)> = Vec::new();
    for u in &users {
        let p = FieldClient::with_store(Arc::new(MemoryClientStore::new()), server.url(), fast_options()).unwrap();
        sign_in(&p, &server, u).await;
        let held = p.prepare_case_numbers(PER_PHONE as u32).await.unwrap();
        assert!(held >= PER_PHONE as u64, "{u}: {held}");
        phones.push((p, server.cred(u).unwrap().unit_id));
    }

    // no server from here on
    server.stop().await.unwrap();
    let mut all = HashSet::new();
    let mut sample = Vec::new();
    for (i, (p, group)) in phones.iter().enumerate() {
        for n in 0..PER_PHONE {
            let d = p.report_dispute(new_dispute(*group, Grade::General, &format!("第{n}起"))).unwrap();
            assert!(CaseNumber::parse(&d.case_number).is_some());
            assert!(all.insert(d.case_number.clone()), "duplicate case number {}", d.case_number);
            if (i == 7 || i == 14) && n % 50 == 0 {
                sample.push((d.id, d.case_number.clone()));
            }
        }
    }
    assert_eq!(all.len(), 20 * PER_PHONE);
    // a phone that spends everything gets a clear error, not a made-up number
    let (p0, g0) = &phones[0];
    for n in 0..p0.case_numbers_left().unwrap() {
        p0.report_dispute(new_dispute(*g0, Grade::General, &format!("第{n}起"))).unwrap();
    }
    match p0.report_dispute(new_dispute(*g0, Grade::General, "第0起")).unwrap_err() {
        ClientError::Rejected { reason, .. } => assert_eq!(reason, "no_case_numbers"),
        other => panic!("{other:?}"),
    }

    // the server comes back; a sample of phones push everything they numbered
    server.restart().await.unwrap();
    for i in [7, 14] {
        let report = phones[i].0.sync().await.unwrap();
        assert_eq!((report.pushed_applied, report.rejected, report.conflicts), (PER_PHONE as u64, 0, 0), "phone {i}");
    }
    let store = server.state().unwrap().store.clone();
    assert_eq!(sample.len(), 20);
    for (id, number) in &sample {
        match store.record(EntityKind::Dispute, *id).unwrap() {
            Some(Record::Dispute(d)) => assert_eq!(&d.case_number, number, "the server keeps the phone's number"),
            other => panic!("not on the server: {other:?}"),
        }
    }
}

/// Reserves a block over HTTP: (status, body).
async fn reserve(u: &fengqiao_tests::api::ApiUser) -> (u16, serde_json::Value) {
    let r = u.post("/v1/cases/blocks", serde_json::json!({})).await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn outstanding_blocks_are_capped_and_a_used_up_block_frees_a_place() {
    use fengqiao_tests::api::{dispute_body, escalation_body, ApiUser};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.toml"), "[disputes]\ncase_block_size = 3\nmax_open_case_blocks = 2\n")
        .unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let leader = ApiUser::login(&server, "leader.t1v1g1").await;
    let first = ApiUser::login(&server, "firstsec.t1v1").await;
    let group = server.cred("leader.t1v1g1").unwrap().unit_id;

    let (s, b1) = reserve(&leader).await;
    assert_eq!(s, 201, "{b1}");
    assert_eq!(reserve(&leader).await.0, 201);
    let (s, body) = reserve(&leader).await;
    assert_eq!((s, body["code"].as_str()), (409, Some("too_many_blocks")), "{body}");
    // another user's cap is their own
    let other = ApiUser::login(&server, "leader.t1v1g2").await;
    assert_eq!(reserve(&other).await.0, 201);

    // two numbers of the first block used; a dispute written again (its escalation
    // approved) does not count twice
    let number = |i: u32| format!("T01V01-{}-{:04}-{i:03}", b1["year"], b1["block"].as_u64().unwrap());
    let d0 = Uuid::now_v7();
    for (id, i) in [(d0, 0), (Uuid::now_v7(), 1)] {
        let out = leader.push("report_dispute", dispute_body(id, &number(i), group, "group", "land", "larger")).await;
        assert_eq!(out["status"], "applied", "{out}");
    }
    let (e, body) = escalation_body(d0, "village");
    assert_eq!(leader.push("request_escalation", body).await["status"], "applied");
    let ok = first.push("decide_escalation", serde_json::json!({"escalation_id": e, "approve": true})).await;
    assert_eq!(ok["status"], "applied", "{ok}");
    assert_eq!(reserve(&leader).await.0, 409, "the first block still has a number left");
    // the last number used: the block is spent and a place frees up
    let out =
        leader.push("report_dispute", dispute_body(Uuid::now_v7(), &number(2), group, "group", "land", "larger")).await;
    assert_eq!(out["status"], "applied", "{out}");
    assert_eq!(reserve(&leader).await.0, 201);
    assert_eq!(reserve(&leader).await.0, 409);

    // a phone tops up to the cap and no further, without failing
    let p = FieldClient::with_store(Arc::new(MemoryClientStore::new()), server.url(), fast_options()).unwrap();
    sign_in(&p, &server, "leader.t1v1g3").await;
    p.sync().await.unwrap();
    assert_eq!(p.case_numbers_left().unwrap(), 6, "two blocks of three");
    assert_eq!(p.prepare_case_numbers(100).await.unwrap(), 6, "the cap stops a long trip's preparation, gracefully");
    p.sync().await.unwrap();
    assert_eq!(p.case_numbers_left().unwrap(), 6);
}
