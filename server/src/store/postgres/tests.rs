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
