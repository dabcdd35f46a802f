//! Tests of the sled store beyond the conformance suite.

use super::*;

/// A new store in a temporary folder (also used by the `cases` tests).
pub(super) fn fresh() -> (tempfile::TempDir, SledClientStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
    (dir, store)
}

crate::conformance_tests!(fresh());

#[test]
fn data_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    crate::store::conformance::survives_reopen(|| {
        Box::new(SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open"))
    });
}

#[test]
fn newer_format_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = SledClientStore::open(dir.path(), &crate::store::test_key()).expect("open");
        s.meta.insert(K_FORMAT, enc(&(STORE_FORMAT_VERSION + 1)).expect("enc")).expect("insert");
        s.flush().expect("flush");
    }
    assert!(matches!(
        SledClientStore::open(dir.path(), &crate::store::test_key()),
        Err(StoreError::Incompatible { .. })
    ));
}

#[test]
fn record_keys_are_tag_then_uuid_and_outbox_keys_big_endian() {
    let id = Uuid::now_v7();
    let k = record_key(EntityKind::Visit, id);
    assert_eq!(k[0], EntityKind::Visit.tag());
    assert_eq!(&k[1..], id.as_bytes());
    assert!(seq_bytes(2) > seq_bytes(1) && seq_bytes(256) > seq_bytes(255));
}
