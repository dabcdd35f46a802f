//! Changing the county's policy never invalidates work already done offline
//! under the old one: a phone reports under policy v1, the server restarts with
//! a v2 that removed a dispute kind, shrank the case-number blocks and lengthened
//! the deadlines, and the phone's queued reports are all accepted, the old
//! numbers included, while the disputes keep the deadlines they were registered
//! under. A village cadre's screening naming a focus area and violation of a
//! default negative-list item, both queued under v1 and removed in v2, are
//! accepted too; new ones made under v2 are refused.

use chrono::Duration;
use fengqiao_core::{NewDispute, NewScreening, NewViolation};
use fengqiao_domain::disputes::CaseNumber;
use fengqiao_domain::ladder::Grade;
use fengqiao_domain::policy::Policy;
use fengqiao_tests::phone::{new_dispute, signed_in_synced};
use fengqiao_tests::TestServer;
use uuid::Uuid;

/// A general dispute of `kind` found in `origin`.
fn dispute(origin: Uuid, kind: &str, summary: &str) -> NewDispute {
    NewDispute { kind: kind.into(), ..new_dispute(origin, Grade::General, summary) }
}

#[tokio::test]
async fn reports_queued_under_an_older_policy_survive_the_change() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let v1 = Policy::default();
    std::fs::write(dirs[0].path().join("policy.toml"), v1.to_toml()).unwrap();
    let mut server = TestServer::start(dirs[0].path()).await.unwrap();
    let c = server.cred("leader.t1v1g1").unwrap();
    let leader = signed_in_synced(dirs[1].path(), &server.url(), &server, "leader.t1v1g1").await;
    let cadre_dir = tempfile::tempdir().unwrap();
    let cadre = signed_in_synced(cadre_dir.path(), &server.url(), &server, "cadre.t1v1").await;
    let village = server.cred("cadre.t1v1").unwrap().unit_id;
    assert_eq!(leader.policy().version(), v1.version(), "the phone checks against the server's policy");

    // registered under v1 (general: 7 days)
    let early = leader.report_dispute(dispute(c.unit_id, "neighbour", "登记于旧政策")).unwrap();
    leader.sync().await.unwrap();
    let registered = leader.dispute(early.id).unwrap();
    assert!(!registered.pending);
    assert_eq!(registered.deadline, registered.dispute.level_since + Duration::days(7));

    // offline: a labour-service dispute, then numbers past what v2's blocks hold
    let labour = leader.report_dispute(dispute(c.unit_id, "labour", "工钱没结清")).unwrap();
    let mut last = labour.clone();
    for i in 0..12 {
        last = leader.report_dispute(dispute(c.unit_id, "neighbour", &format!("第{i}起"))).unwrap();
    }
    let index = CaseNumber::parse(&last.case_number).unwrap().index;
    assert!(index >= 10, "a number v2's blocks of 10 would not hold: {}", last.case_number);

    // offline too: the cadre's screening of the water-fees focus area and a
    // violation of the default list's water-fees item
    let screening = |areas: &[&str]| NewScreening {
        village_id: village,
        period: None,
        hazards: vec![],
        focus_areas: areas.iter().map(|a| a.to_string()).collect(),
        new_disputes: vec![],
        note: String::new(),
    };
    let home = cadre.households().unwrap()[0].id;
    let violation = || NewViolation {
        household_id: home,
        item_code: "water_fees_unpaid".into(),
        note: "连续三个月未缴水费".into(),
        evidence: vec![],
    };
    let screened = cadre.file_screening(screening(&["water_fees", "land_rights"])).unwrap();
    let violated = cadre.record_violation(violation()).unwrap();

    // the county's v2: no labour kind, blocks of 10, general disputes get 14 days,
    // no water-fees focus area nor negative-list item
    let mut v2 = v1.clone();
    v2.screening.focus_areas.retain(|a| a.code != "water_fees");
    v2.negative_list.retain(|i| i.code != "water_fees_unpaid");
    v2.disputes.kinds.retain(|k| k.code != "labour");
    v2.disputes.case_block_size = 10;
    v2.deadlines.general_days = 14;
    std::fs::write(dirs[0].path().join("policy.toml"), v2.to_toml()).unwrap();
    server.restart().await.unwrap();

    let report = leader.sync().await.unwrap();
    assert_eq!((report.rejected, report.conflicts, report.malformed), (0, 0, 0), "{report:?}");
    assert!(leader.quarantined().unwrap().is_empty(), "{:?}", leader.quarantined().unwrap());
    assert_eq!(leader.policy().version(), v2.version());
    for d in [&labour, &last] {
        let item = leader.dispute(d.id).unwrap();
        assert!(!item.pending, "{} accepted", d.case_number);
        assert_eq!(item.dispute.policy_version, v2.version(), "registered under the policy in force");
        assert_eq!(item.deadline, item.dispute.level_since + Duration::days(14));
    }
    assert_eq!(leader.dispute(labour.id).unwrap().dispute.kind, "labour");

    // the dispute registered under v1 keeps its seven days
    let early = leader.dispute(early.id).unwrap();
    assert_eq!(early.dispute.policy_version, v1.version());
    assert_eq!(early.deadline, early.dispute.level_since + Duration::days(7));

    // the cadre's queued screening and violation are accepted under v2
    let report = cadre.sync().await.unwrap();
    assert_eq!((report.rejected, report.conflicts, report.malformed), (0, 0, 0), "{report:?}");
    assert!(cadre.quarantined().unwrap().is_empty(), "{:?}", cadre.quarantined().unwrap());
    let kept = cadre.violations_for(home).unwrap().into_iter().find(|v| v.violation.id == violated.id).unwrap();
    assert!(!kept.pending && !kept.quarantined, "{kept:?}");
    assert_eq!(kept.violation.policy_version, v2.version(), "recorded under the policy in force");
    assert_eq!(cadre.screening_due().unwrap(), None, "{} filed", screened.period);
    // new ones made under v2 may no longer name them
    let refused = cadre.file_screening(screening(&["water_fees"])).unwrap_err();
    assert!(matches!(refused, fengqiao_core::ClientError::InvalidInput { .. }), "{refused:?}");
    let refused = cadre.record_violation(violation()).unwrap_err();
    assert!(matches!(refused, fengqiao_core::ClientError::InvalidInput { .. }), "{refused:?}");

    // a new report may no longer use the removed kind
    let refused = leader.report_dispute(dispute(c.unit_id, "labour", "新的")).unwrap_err();
    assert!(
        matches!(refused, fengqiao_core::ClientError::InvalidInput { ref reason, .. } if reason == "invalid_field"),
        "{refused:?}"
    );
}
