//! The conformance suites every backend runs, one per store concern: accounts
//! ([`account_suite`]), the audit log ([`audit_suite`]), sync ([`sync_suite`]),
//! photos ([`photo_suite`]), and [`run_all`], which runs them all on one empty
//! [`Store`] with the checks that span concerns. Checks assert observable
//! behaviour only. This module also holds the small world the checks (and other
//! tests) start from; the checks are in `accounts`, `records` and `photos`.

use chrono::Utc;
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::wire::{Op, OpEnvelope};
use fengqiao_domain::{Household, OrgUnit, Record, Role, RoleGrant, UnitLevel, Visit, VisitKind};
use uuid::Uuid;

use crate::store::{AccountStore, AuditStore, PhotoStore, Store, SyncStore};

mod accounts;
mod desk;
mod photos;
mod records;

/// The county of the small world.
pub const COUNTY: Uuid = Uuid::from_u128(0xC0);

/// Town.
pub const TOWN: Uuid = Uuid::from_u128(0x70);

/// Village A and B.
pub const VILLAGES: [Uuid; 2] = [Uuid::from_u128(0xA0), Uuid::from_u128(0xB0)];

/// One group in each village (A1, B1) and a second in village A (A2).
pub const GROUPS: [Uuid; 3] = [Uuid::from_u128(0xA1), Uuid::from_u128(0xB1), Uuid::from_u128(0xA2)];

/// One household in each group, same order as [`GROUPS`].
pub const HOUSEHOLDS: [Uuid; 3] = [Uuid::from_u128(0x1A1), Uuid::from_u128(0x1B1), Uuid::from_u128(0x1A2)];

/// What [`small_world`] wrote.
pub struct World {
    /// Last feed sequence after seeding.
    pub last_seq: u64,
}

fn unit(id: Uuid, level: UnitLevel, parent: Option<Uuid>) -> Record {
    Record::Unit(OrgUnit {
        id,
        code: format!("{:X}", id.as_u128()),
        name: format!("unit-{:x}", id.as_u128()),
        level,
        parent,
        kind: None,
        offices: vec![],
    })
}

/// Household record in a group.
pub fn household(id: Uuid, group: Uuid) -> Record {
    Record::Household(Household {
        id,
        group_id: group,
        head_name: "王五".into(),
        address: "3号".into(),
        phone: Some("13800000000".into()),
        code: None,
        id_number: None,
    })
}

/// Seeds county > town > villages A, B > groups A1, B1, A2 > one household each.
pub fn small_world(store: &dyn SyncStore) -> World {
    let mut records = vec![
        unit(COUNTY, UnitLevel::County, None),
        unit(TOWN, UnitLevel::Town, Some(COUNTY)),
        unit(VILLAGES[0], UnitLevel::Village, Some(TOWN)),
        unit(VILLAGES[1], UnitLevel::Village, Some(TOWN)),
        unit(GROUPS[0], UnitLevel::Group, Some(VILLAGES[0])),
        unit(GROUPS[1], UnitLevel::Group, Some(VILLAGES[1])),
        unit(GROUPS[2], UnitLevel::Group, Some(VILLAGES[0])),
    ];
    for (h, g) in HOUSEHOLDS.iter().zip(GROUPS) {
        records.push(household(*h, g));
    }
    let last_seq = store.put_records(&records).expect("seed the small world");
    World { last_seq }
}

/// An actor with one grant.
pub fn actor(role: Role, unit: Uuid) -> Actor {
    Actor { user_id: Uuid::now_v7(), grants: vec![RoleGrant { role, unit_id: unit }] }
}

/// A record-visit op by `author` for `household`.
pub fn visit_op(author: Uuid, household: Uuid) -> OpEnvelope {
    OpEnvelope {
        op_id: Uuid::now_v7(),
        v: 1,
        author,
        created_at: Utc::now(),
        op: Op::RecordVisit(Visit {
            id: Uuid::now_v7(),
            household_id: household,
            visitor_id: author,
            visited_at: Utc::now(),
            kind: VisitKind::Routine,
            notes: "走访正常".into(),
            location: None,
            leads: vec![],
            group_id: None,
            body: None,
        }),
        seen: None,
    }
}

/// The accounts suite: users, refresh tokens and their families, signing keys.
/// Needs a store with no users and no signing keys.
pub fn account_suite(store: &dyn AccountStore) {
    accounts::users(store);
    accounts::refresh_tokens(store);
    accounts::refresh_retry_grace(store);
    accounts::signing_keys(store);
}

/// The audit suite: positions, filters and paging. Needs an empty audit log.
pub fn audit_suite(store: &dyn AuditStore) {
    accounts::audit_log_appends_and_filters(store);
}

/// The sync suite: seeds the [`small_world`], then ops, the feed, moved records,
/// case blocks, current records and the desk's index. Needs an empty feed.
pub fn sync_suite(store: &dyn SyncStore) {
    small_world(store);
    records::unknown_unit_writes_nothing(store);
    records::ops_apply_once_and_answer_in_order(store);
    records::pull_is_scoped_by_unit_and_role(store);
    records::pull_pages_without_skips_or_repeats(store);
    records::moved_record_is_dropped_where_it_left(store);
    records::case_blocks_are_unique_per_year(store);
    records::records_of_kind_lists_current_records(store);
    desk::desk_index_reads(store);
}

/// The photo suite: uploads, their expiry, verified photos and their holders.
pub fn photo_suite(store: &dyn PhotoStore) {
    photos::uploads_and_photos(store);
}

/// Runs every suite on one empty store, then the checks that span concerns (an
/// attachment op indexes its photo; the store is no longer empty and flushes).
pub fn run_all(store: &dyn Store) {
    assert!(store.is_empty().unwrap(), "conformance needs an empty store");
    account_suite(store);
    sync_suite(store);
    photo_suite(store);
    photos::attachments_index_their_photos(store);
    audit_suite(store);
    assert!(!store.is_empty().unwrap(), "users and records were written");
    store.flush().unwrap();
}
