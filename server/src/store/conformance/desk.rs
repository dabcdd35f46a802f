//! The desk's index (`store::desk_index`): each query against what the
//! records say, kept as records change.

use chrono::{DateTime, Duration, Utc};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::{Record, Role, RoleGrant};
use serde_json::json;
use uuid::Uuid;

use super::{household, GROUPS, TOWN, VILLAGES};
use crate::store::desk_index::{self, DisputeSummary};
use crate::store::SyncStore;

fn dispute(id: Uuid, number: &str, group: Uuid, since: DateTime<Utc>, closed: Option<(DateTime<Utc>, &str)>) -> Record {
    let mut v = json!({"id": id, "case_number": number, "kind": "family",
        "origin_unit": group, "parties": [{"name": format!("当事人{number}"), "household_id": Uuid::from_u128(0xD1A)}],
        "summary": "", "grade": "general",
        "analysis": {"cause": "", "consequences": "", "difficulty": "low"}, "found_at": since,
        "reported_by": Uuid::nil(), "level": "group", "handler_unit": group, "level_since": since,
        "registered_at": since, "deadlines": Policy::default().deadlines});
    if let Some((t, outcome)) = closed {
        v["closing"] = json!({"outcome": outcome, "closed_by": Uuid::nil(), "closed_at": t, "level": "group"});
    }
    Record::Dispute(serde_json::from_value(v).expect("dispute"))
}

fn review(id: Uuid, dispute: Uuid, at: DateTime<Utc>, passed: bool) -> Record {
    Record::CaseReview(
        serde_json::from_value(json!({"id": id, "dispute_id": dispute, "score": 80, "passed": passed,
            "reasons": [], "correction_reason": "", "reviewer": Uuid::nil(), "reviewed_at": at}))
        .expect("review"),
    )
}

fn ids(list: &[DisputeSummary]) -> Vec<Uuid> {
    list.iter().map(|s| s.id).collect()
}

/// Disputes in list order and scoped like the pull; linked records, the latest
/// review, pending escalations and identity numbers, each kept as records change.
pub(super) fn desk_index_reads(store: &dyn SyncStore) {
    let policy = Policy::default();
    let now = Utc::now();
    let [a, b, c, d] = [0xDA1u128, 0xDA2, 0xDA3, 0xDB1].map(Uuid::from_u128);
    // a: open, due soonest; b: open, due later; c: closed (resolved); d: another village
    store
        .put_records(&[
            dispute(b, "D-2026-0001-002", GROUPS[0], now - Duration::days(1), None),
            dispute(a, "D-2026-0001-001", GROUPS[2], now - Duration::days(30), None),
            dispute(c, "D-2026-0001-003", GROUPS[0], now - Duration::days(60), Some((now, "resolved"))),
            dispute(d, "D-2026-0001-004", GROUPS[1], now - Duration::days(2), None),
        ])
        .expect("disputes");
    let village_a = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[0] }];
    let town = [RoleGrant { role: Role::TownCommittee, unit_id: TOWN }];
    let all = |g: &[RoleGrant]| ids(&desk_index::disputes_in_order(store, g, &policy, &|_| true).expect("order"));
    assert_eq!(all(&village_a), vec![a, b, c], "open first, nearest deadline first; only village A's");
    assert_eq!(all(&town), vec![a, d, b, c]);
    let both = [village_a[0], town[0]];
    assert_eq!(all(&both), vec![a, d, b, c], "two grants: each dispute once");
    let found = desk_index::disputes_in_order(store, &town, &policy, &|s| s.matches("0001-004", &Default::default()))
        .expect("search");
    assert_eq!(ids(&found), vec![d]);
    assert_eq!(found[0].names, vec!["当事人D-2026-0001-004".to_string()]);
    let resolved = desk_index::disputes_in_order(store, &town, &policy, &|s| s.resolved).expect("resolved");
    assert_eq!(ids(&resolved), vec![c]);
    assert!(resolved[0].closed_at.is_some());

    // b closes: it moves behind the open ones; its old place is gone
    store
        .put_records(&[dispute(b, "D-2026-0001-002", GROUPS[0], now - Duration::days(1), Some((now, "not_resolved")))])
        .expect("close b");
    assert_eq!(all(&village_a), vec![a, c, b], "closed ones by deadline after the open ones");
    assert_eq!(all(&village_a).len(), 3, "closing moves a dispute, it does not copy it");

    // reviews: the latest by time counts
    let (r1, r2) = (Uuid::from_u128(0xE1), Uuid::from_u128(0xE2));
    assert_eq!(desk_index::latest_review(store, c).expect("none"), None);
    store.put_records(&[review(r2, c, now, true), review(r1, c, now - Duration::hours(1), false)]).expect("reviews");
    assert_eq!(desk_index::latest_review(store, c).expect("latest"), Some((r2, true)));
    let linked = desk_index::linked(store, c).expect("linked");
    assert_eq!(linked.len(), 2, "a dispute's records are linked to it");

    // an escalation waits until decided
    let e = Uuid::from_u128(0xE5);
    let mut esc = json!({"id": e, "dispute_id": a, "from_level": "group", "to_level": "village",
        "reason": "other", "note": "", "requested_by": Uuid::nil(), "requested_at": now, "grade": "general"});
    store.put_records(&[Record::Escalation(serde_json::from_value(esc.clone()).expect("escalation"))]).expect("esc");
    let pending =
        |g: &[RoleGrant]| desk_index::pending(store, g).expect("pending").iter().map(Record::id).collect::<Vec<_>>();
    assert_eq!(pending(&town), vec![e]);
    assert_eq!(pending(&[RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[1] }]), Vec::<Uuid>::new());
    esc["decision"] = json!({"approved": true, "comment": "", "decided_by": Uuid::nil(), "decided_at": now});
    store.put_records(&[Record::Escalation(serde_json::from_value(esc).expect("decided"))]).expect("decided");
    assert_eq!(pending(&town), Vec::<Uuid>::new(), "a decided escalation waits no more");

    // identity numbers: found for grants that see the household
    let h = Uuid::from_u128(0xD1A);
    let mut rec = household(h, GROUPS[0]);
    if let Record::Household(x) = &mut rec {
        x.id_number = Some(fengqiao_domain::id_number::IdNumber::parse("11010519491231002X").expect("number"));
    }
    store.put_records(&[rec]).expect("household");
    let found = desk_index::households_by_id_number(store, &village_a, "11010519491231002X").expect("by number");
    assert!(found.contains(&h));
    let other = [RoleGrant { role: Role::VillageSecretary, unit_id: VILLAGES[1] }];
    assert!(desk_index::households_by_id_number(store, &other, "11010519491231002X").expect("other").is_empty());
    let hits = desk_index::disputes_in_order(store, &village_a, &policy, &|s| s.matches("11010519491231002X", &found))
        .expect("by household");
    assert_eq!(hits.len(), 3, "every dispute of village A names that household");
}
