//! The store conformance suites against a real PostgreSQL started for the test.

use super::testdb::TestPostgres;
use super::PgStore;
use crate::store::conformance;

fn cluster() -> TestPostgres {
    match TestPostgres::start() {
        Ok(pg) => pg,
        Err(why) => panic!("PostgreSQL could not start for the test: {why}"),
    }
}

fn store(pg: &TestPostgres, db: &str) -> PgStore {
    let url = pg.database(db).unwrap_or_else(|e| panic!("{e}"));
    PgStore::open(&url).unwrap_or_else(|e| panic!("open {url}: {e}"))
}

#[test]
fn postgres_store_passes_conformance() {
    let pg = cluster();
    conformance::run_all(&store(&pg, "all_suites"));
    // each concern's suite on a store of its own
    conformance::account_suite(&store(&pg, "accounts"));
    conformance::audit_suite(&store(&pg, "audit"));
    conformance::sync_suite(&store(&pg, "sync"));
    conformance::photo_suite(&store(&pg, "photos"));
}

#[test]
fn migrations_apply_once_and_a_newer_schema_is_refused() {
    let pg = cluster();
    let url = pg.database("migrate").unwrap();
    let s = PgStore::open(&url).unwrap();
    assert_eq!(s.migrate().unwrap(), super::MIGRATIONS.len(), "a second run applies nothing and keeps the version");
    conformance::small_world(&s);
    drop(s);
    let again = PgStore::open(&url).expect("reopening keeps the data");
    assert!(!crate::store::UpkeepStore::is_empty(&again).unwrap());
    again.transact(super::Mode::Write, |db| db.exec("UPDATE fq_schema SET version = version + 1", &[])).unwrap();
    drop(again);
    match PgStore::open(&url) {
        Err(crate::store::StoreError::NewerFormat { found, supported }) => {
            assert_eq!((found, supported), (super::MIGRATIONS.len() as u64 + 1, super::MIGRATIONS.len() as u64))
        }
        Err(e) => panic!("wrong refusal: {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    match PgStore::open(&format!("postgres://fq@127.0.0.1:{port}/none")) {
        Err(e) => assert!(e.to_string().contains("postgres"), "{e}"),
        Ok(_) => panic!("opened a database nobody serves"),
    }
    assert!(PgStore::open("postgres://fq@127.0.0.1:notaport/x").is_err());
}

/// A database of the schema before the desk's index: migrating it indexes the
/// records it holds, in the migration's transaction.
#[test]
fn the_desk_index_is_built_when_an_older_schema_migrates() {
    use crate::store::conformance::{household, small_world, COUNTY, GROUPS};
    use fengqiao_domain::{Record, RoleGrant};
    let pg = cluster();
    let url = pg.database("desk_migrate").unwrap();
    let grants = [RoleGrant { role: fengqiao_domain::Role::CountyAdmin, unit_id: COUNTY }];
    let number = "11010519491231002X";
    let s = PgStore::open(&url).unwrap();
    small_world(&s);
    let mut h = household(uuid::Uuid::from_u128(0x5A), GROUPS[0]);
    if let Record::Household(x) = &mut h {
        x.id_number = Some(fengqiao_domain::id_number::IdNumber::parse(number).unwrap());
    }
    crate::store::SyncStore::put_records(&s, &[h]).unwrap();
    let found = crate::store::desk_index::households_by_id_number(&s, &grants, number).unwrap();
    assert_eq!(found.len(), 1);
    let written = all_entries(&s);
    assert!(!written.is_empty());
    // as written before the index: schema 1, no table
    s.transact(super::Mode::Write, |db| {
        db.exec("DROP TABLE fq_desk_index", &[])?;
        db.exec("UPDATE fq_schema SET version = $1", &[&((super::schema::DESK_INDEX_VERSION - 1) as i32)])
    })
    .unwrap();
    drop(s);
    let again = PgStore::open(&url).unwrap();
    assert_eq!(crate::store::desk_index::households_by_id_number(&again, &grants, number).unwrap(), found);
    assert_eq!(all_entries(&again), written, "the same entries as written with the records");
}

/// Every entry of the desk's index, in key order.
fn all_entries(store: &PgStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    crate::store::SyncStore::desk_index_scan(store, &[], &[], &mut |k, v| {
        out.push((k.to_vec(), v.to_vec()));
        true
    })
    .unwrap();
    out
}
