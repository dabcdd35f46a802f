//! The sled store: the conformance suite, and what only a store on disk can show.

use super::open::{FORMAT_KEY, PHOTO_HOLDERS_INDEXED};
use super::*;

#[test]
fn sled_store_passes_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    crate::store::conformance::run_all(&store);
}

#[test]
fn data_survives_reopen_and_sequence_continues() {
    let dir = tempfile::tempdir().unwrap();
    let last = {
        let store = SledStore::open(dir.path()).unwrap();
        let w = crate::store::conformance::small_world(&store);
        assert!(w.last_seq > 0);
        store.last_seq().unwrap()
    };
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.last_seq().unwrap(), last);
    let page = store
        .pull(
            &[RoleGrant { role: fengqiao_domain::Role::CountyAdmin, unit_id: crate::store::conformance::COUNTY }],
            None,
            0,
            1000,
        )
        .unwrap();
    assert_eq!(page.changes.len() as u64, last);
}

#[test]
fn refuses_a_store_from_a_newer_server() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        store.meta.insert(FORMAT_KEY, &(STORE_FORMAT + 1).to_be_bytes()).unwrap();
        store.db.flush().unwrap();
    }
    let err = SledStore::open(dir.path()).err().unwrap().to_string();
    assert!(err.contains("newer"), "{err}");
}

/// A store written before photo holders were recorded: at open, the authors of
/// the attachments of photos already kept become their holders (once), and a
/// photo not kept makes no holder.
#[test]
fn photos_kept_before_holders_existed_get_their_authors_as_holders() {
    use crate::store::conformance::{actor, small_world, visit_op, GROUPS, HOUSEHOLDS};
    use fengqiao_domain::wire::Op;
    let dir = tempfile::tempdir().unwrap();
    let (kept, missing) = ("5c".repeat(32), "6d".repeat(32));
    let leader = actor(fengqiao_domain::Role::GroupLeader, GROUPS[0]);
    {
        let store = SledStore::open(dir.path()).unwrap();
        small_world(&store);
        let policy = Policy::default();
        let visit = visit_op(leader.user_id, HOUSEHOLDS[0]);
        store.apply_ops(&leader, &policy, std::slice::from_ref(&visit), Utc::now()).unwrap();
        let Op::RecordVisit(v) = &visit.op else { unreachable!() };
        for sha in [&kept, &missing] {
            let mut att = visit.clone();
            att.op_id = Uuid::now_v7();
            att.op = Op::AttachPhoto(fengqiao_domain::Attachment {
                id: Uuid::now_v7(),
                target_kind: EntityKind::Visit,
                target_id: v.id,
                sha256: sha.clone(),
                length: 10,
                content_type: "image/jpeg".into(),
                caption: String::new(),
                author: leader.user_id,
                file_item: None,
            });
            store.apply_ops(&leader, &policy, &[att], Utc::now()).unwrap();
        }
        store.put_photo(&PhotoRecord { sha256: kept.clone(), length: 10, created_at: Utc::now() }).unwrap();
        // as written by a server that kept no holders
        store.meta.remove(PHOTO_HOLDERS_INDEXED).unwrap();
        store.photo_holders.clear().unwrap();
        store.db.flush().unwrap();
        assert!(!store.photo_held_by(&kept, leader.user_id).unwrap());
    }
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.photo_held_by(&kept, leader.user_id).unwrap(), "the author of a kept photo's attachment");
    assert!(!store.photo_held_by(&missing, leader.user_id).unwrap(), "a photo never kept has no holder");
    assert!(!store.photo_held_by(&kept, Uuid::now_v7()).unwrap());
}

/// A store written before the desk's index existed: the index is built from
/// its records when it is opened.
#[test]
fn the_desk_index_is_built_for_an_older_store() {
    let dir = tempfile::tempdir().unwrap();
    let grants = [RoleGrant { role: fengqiao_domain::Role::CountyAdmin, unit_id: crate::store::conformance::COUNTY }];
    let policy = fengqiao_domain::policy::Policy::default();
    let households = {
        let store = SledStore::open(dir.path()).unwrap();
        crate::store::conformance::small_world(&store);
        let mut h = crate::store::conformance::household(Uuid::from_u128(0x5A), crate::store::conformance::GROUPS[0]);
        if let Record::Household(x) = &mut h {
            x.id_number = Some(fengqiao_domain::id_number::IdNumber::parse("11010519491231002X").unwrap());
        }
        store.put_records(&[h]).unwrap();
        let found = crate::store::desk_index::households_by_id_number(&store, &grants, "11010519491231002X").unwrap();
        assert_eq!(found.len(), 1);
        // as written before the index
        store.desk.clear().unwrap();
        store.meta.remove(b"desk_indexed").unwrap();
        store.db.flush().unwrap();
        found
    };
    let store = SledStore::open(dir.path()).unwrap();
    let found = crate::store::desk_index::households_by_id_number(&store, &grants, "11010519491231002X").unwrap();
    assert_eq!(found, households);
    assert!(crate::store::desk_index::disputes_in_order(&store, &grants, &policy, &|_| true).unwrap().is_empty());
}
