//! The sled store: the conformance suite, and what only a store on disk can show.

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
