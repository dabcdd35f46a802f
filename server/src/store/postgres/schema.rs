//! The PostgreSQL schema, as numbered migrations applied in order at open and
//! by `fengqiao-server migrate --store postgres://…`. A migration is applied
//! once, in one transaction, under an advisory lock, so several servers
//! starting together apply it once.

/// The migrations, oldest first; the schema version is their count.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema. Bodies are the serde JSON of the store's records
    // (as sled keeps them); columns beside a body are the keys queries use.
    r#"
    CREATE TABLE fq_counters (name text PRIMARY KEY, value bigint NOT NULL);
    INSERT INTO fq_counters (name, value) VALUES ('seq', 0), ('audit', 0);
    CREATE TABLE fq_users (id uuid PRIMARY KEY, username text NOT NULL UNIQUE, body bytea NOT NULL);
    CREATE TABLE fq_refresh (
        token_hash text PRIMARY KEY, user_id uuid NOT NULL, issued_at timestamptz NOT NULL, body bytea NOT NULL);
    CREATE INDEX fq_refresh_user ON fq_refresh (user_id, issued_at, token_hash);
    CREATE TABLE fq_revoked (family uuid PRIMARY KEY, with_device boolean NOT NULL);
    CREATE TABLE fq_signing_keys (kid text PRIMARY KEY, created_at timestamptz NOT NULL, body bytea NOT NULL);
    CREATE TABLE fq_audit (
        seq bigint PRIMARY KEY, at timestamptz NOT NULL, actor uuid, target text, action text NOT NULL,
        body bytea NOT NULL);
    CREATE TABLE fq_ops (op_id uuid PRIMARY KEY, body bytea NOT NULL);
    CREATE TABLE fq_records (kind smallint NOT NULL, id uuid NOT NULL, body bytea NOT NULL, PRIMARY KEY (kind, id));
    CREATE TABLE fq_changes (seq bigint PRIMARY KEY, body bytea NOT NULL);
    CREATE TABLE fq_feed (unit uuid NOT NULL, seq bigint NOT NULL, PRIMARY KEY (unit, seq));
    CREATE TABLE fq_photo_refs (sha256 text NOT NULL, attachment uuid NOT NULL, PRIMARY KEY (sha256, attachment));
    CREATE TABLE fq_case_blocks (
        year integer NOT NULL, block bigint NOT NULL, owner uuid NOT NULL, used bigint NOT NULL, size bigint,
        PRIMARY KEY (year, block));
    CREATE TABLE fq_case_numbers (case_number text PRIMARY KEY, dispute uuid NOT NULL);
    CREATE TABLE fq_leads (lead uuid PRIMARY KEY, visit uuid NOT NULL);
    CREATE TABLE fq_policies (version text PRIMARY KEY, body bytea NOT NULL);
    CREATE TABLE fq_uploads (id uuid PRIMARY KEY, expires_at timestamptz NOT NULL, body bytea NOT NULL);
    CREATE INDEX fq_uploads_expiry ON fq_uploads (expires_at);
    CREATE TABLE fq_photos (sha256 text PRIMARY KEY, body bytea NOT NULL);
    CREATE TABLE fq_photo_holders (sha256 text NOT NULL, user_id uuid NOT NULL, PRIMARY KEY (sha256, user_id));
    "#,
    // 2: the desk's index (`store::desk_index`): plain ordered bytes, written in
    // the transaction of each record; read by key prefix in key order (bytea
    // compares bytewise). A database of schema 1 is indexed when it migrates
    // (`PgStore::migrate`).
    r#"
    CREATE TABLE fq_desk_index (key bytea PRIMARY KEY, value bytea NOT NULL);
    "#,
];

/// The schema version that added the desk's index: a database migrating from
/// below it has its records indexed in the migration's transaction.
pub const DESK_INDEX_VERSION: usize = 2;

/// The advisory lock key migrations run under ("fqschema" as bytes).
pub const MIGRATION_LOCK: i64 = 0x6671_7363_6865_6d61;
