//! The PostgreSQL backend (ADR 0037), for a province's deployment: several
//! servers on one database. Selected by `--store postgres://…` (or
//! `FENGQIAO_STORE`); the embedded sled store stays the default.
//!
//! The store traits are synchronous and the server calls them from blocking
//! threads (`spawn_blocking`). This backend keeps its own small tokio runtime,
//! which owns the connection pool (deadpool-postgres) and drives every
//! connection's socket; a store call takes a connection on that runtime and
//! then waits for its queries on the calling thread ([`block_on`]), so no
//! worker of the server's runtime ever waits on the database, and a store call
//! made from a plain thread (a test, the CLI) works the same way.
//!
//! The change feed keeps its promise (a reader never skips a change that
//! commits after a later-numbered one) because a sequence is only handed out
//! under the row lock of the `seq` counter, taken at the start of every sync
//! write transaction and held until it commits: sync writes commit one after
//! another in sequence order, and a reader's snapshot always holds a prefix of
//! the feed up to the counter it reads in the same snapshot.

mod impls;
#[cfg(test)]
mod race_tests;
mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testdb;
#[cfg(test)]
mod tests;
mod tx;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use uuid::Uuid;

use super::{StoreError, StoreResult, StoredRecord};
pub use schema::MIGRATIONS;

/// Connections the pool keeps at most.
const POOL_SIZE: usize = 16;

/// The PostgreSQL server store.
pub struct PgStore {
    pool: Pool,
    /// The store's own runtime (always `Some` until dropped).
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for PgStore {
    /// Shuts the store's runtime down without waiting, so a store may be
    /// dropped anywhere (inside the server's runtime too); its connections close.
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Whether a store address names PostgreSQL (`postgres://` or `postgresql://`).
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on the calling thread, parking between polls.
/// The futures given here only talk over channels to connection tasks that run
/// on the store's own runtime, so they need no runtime of their own.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// A database error as a store error: its SQLSTATE code and message only (the
/// detail, which can quote row values, is left out). A full disk is
/// [`StoreError::StorageFull`], a taken unique key [`StoreError::AlreadyExists`].
pub(crate) fn pg_error(e: &tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    match e.as_db_error() {
        Some(db) if *db.code() == SqlState::DISK_FULL => StoreError::StorageFull(db.message().to_string()),
        Some(db) if *db.code() == SqlState::UNIQUE_VIOLATION => {
            StoreError::AlreadyExists(db.constraint().unwrap_or("unique key").to_string())
        }
        Some(db) => StoreError::Backend(format!("postgres {}: {}", db.code().code(), db.message())),
        None => StoreError::Backend(format!("postgres: {e}")),
    }
}

pub(crate) fn enc<T: Serialize>(v: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn dec<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// One transaction's statements, run on the calling thread.
pub(crate) struct Db<'a> {
    tx: deadpool_postgres::Transaction<'a>,
}

impl Db<'_> {
    /// Rows of a statement (prepared once per connection).
    pub(crate) fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<Row>> {
        block_on(async {
            let st = self.tx.prepare_cached(sql).await?;
            self.tx.query(&st, params).await
        })
        .map_err(|e| pg_error(&e))
    }

    /// The row of a statement, if any.
    pub(crate) fn row(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Option<Row>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// Runs a statement; the rows it changed.
    pub(crate) fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        block_on(async {
            let st = self.tx.prepare_cached(sql).await?;
            self.tx.execute(&st, params).await
        })
        .map_err(|e| pg_error(&e))
    }

    /// Takes the row lock of a counter until the transaction ends; its value.
    pub(crate) fn lock_counter(&self, name: &str) -> StoreResult<i64> {
        let row = self.row("SELECT value FROM fq_counters WHERE name = $1 FOR UPDATE", &[&name])?;
        row.map(|r| r.get(0)).ok_or_else(|| StoreError::Corrupt(format!("counter {name} missing")))
    }
}

/// How a transaction reads.
#[derive(Clone, Copy)]
pub(crate) enum Mode {
    /// Read committed: each statement sees what committed before it (writes
    /// serialise on row locks).
    Write,
    /// One snapshot for every statement, read only.
    Snapshot,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`, or with `?host=/socket/dir`),
    /// then applies the migrations this build knows and the database lacks.
    /// Refuses a database whose schema is newer than this build's.
    pub fn open(url: &str) -> StoreResult<PgStore> {
        PgStore::open_with_pool(url, POOL_SIZE)
    }

    /// [`PgStore::open`] with at most `connections` connections (at least 1).
    pub fn open_with_pool(url: &str, connections: usize) -> StoreResult<PgStore> {
        let config: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Backend(format!("postgres address: {e}")))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fq-postgres")
            .enable_all()
            .build()?;
        let mgr = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = {
            let _in_rt = rt.enter();
            Pool::builder(mgr).max_size(connections.max(1)).build().map_err(|e| StoreError::Backend(e.to_string()))?
        };
        let store = PgStore { pool, rt: Some(rt) };
        store.migrate()?;
        Ok(store)
    }

    /// Applies the migrations the database lacks, under an advisory lock; the
    /// schema version it ends at.
    pub fn migrate(&self) -> StoreResult<usize> {
        self.transact(Mode::Write, |db| {
            db.exec("SELECT pg_advisory_xact_lock($1)", &[&schema::MIGRATION_LOCK])?;
            db.exec("CREATE TABLE IF NOT EXISTS fq_schema (version integer NOT NULL)", &[])?;
            let found: i32 = match db.row("SELECT version FROM fq_schema", &[])? {
                Some(r) => r.get(0),
                None => {
                    db.exec("INSERT INTO fq_schema (version) VALUES (0)", &[])?;
                    0
                }
            };
            let found = usize::try_from(found).map_err(|_| StoreError::Corrupt("schema version".into()))?;
            if found > MIGRATIONS.len() {
                return Err(StoreError::NewerFormat { found: found as u64, supported: MIGRATIONS.len() as u64 });
            }
            for sql in &MIGRATIONS[found..] {
                block_on(db.tx.batch_execute(sql)).map_err(|e| pg_error(&e))?;
            }
            if found < schema::DESK_INDEX_VERSION && MIGRATIONS.len() >= schema::DESK_INDEX_VERSION {
                index_desk(db)?;
            }
            let version = i32::try_from(MIGRATIONS.len()).map_err(|_| StoreError::Corrupt("schema version".into()))?;
            db.exec("UPDATE fq_schema SET version = $1", &[&version])?;
            Ok(MIGRATIONS.len())
        })
    }

    /// Runs `f` in one transaction, committed when it returns `Ok`, rolled back
    /// otherwise.
    pub(crate) fn transact<T>(&self, mode: Mode, f: impl FnOnce(&Db<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let pool = self.pool.clone();
        let rt = self.rt.as_ref().ok_or_else(|| StoreError::Backend("postgres store closed".into()))?;
        let mut conn = block_on(rt.spawn(async move { pool.get().await }))
            .map_err(|e| StoreError::Backend(format!("postgres pool: {e}")))?
            .map_err(|e| StoreError::Backend(format!("postgres connection: {e}")))?;
        let builder = conn.build_transaction();
        let builder = match mode {
            Mode::Write => builder.isolation_level(IsolationLevel::ReadCommitted),
            Mode::Snapshot => builder.isolation_level(IsolationLevel::RepeatableRead).read_only(true),
        };
        let tx = block_on(builder.start()).map_err(|e| pg_error(&e))?;
        let db = Db { tx };
        let out = f(&db)?;
        block_on(db.tx.commit()).map_err(|e| pg_error(&e))?;
        Ok(out)
    }
}

/// Writes the desk's index entries of every stored record (a database written
/// before the index existed), reading the records in chunks in key order.
fn index_desk(db: &Db<'_>) -> StoreResult<()> {
    const CHUNK: i64 = 1_000;
    let mut after: Option<(i16, Uuid)> = None;
    loop {
        let rows = match after {
            None => db.rows("SELECT kind, id, body FROM fq_records ORDER BY kind, id LIMIT $1", &[&CHUNK])?,
            Some((kind, id)) => db.rows(
                "SELECT kind, id, body FROM fq_records WHERE (kind, id) > ($1, $2) ORDER BY kind, id LIMIT $3",
                &[&kind, &id, &CHUNK],
            )?,
        };
        let done = (rows.len() as i64) < CHUNK;
        for r in &rows {
            after = Some((r.get(0), r.get(1)));
            let stored: StoredRecord = dec(r.get::<_, &[u8]>(2))?;
            for (k, v) in crate::store::desk_index::entries(&stored) {
                db.exec(
                    "INSERT INTO fq_desk_index (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    &[&k, &v],
                )?;
            }
        }
        if done {
            return Ok(());
        }
    }
}
