//! The store traits on PostgreSQL.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{Change, OpAnswer, OpEnvelope};
use fengqiao_domain::{EntityKind, Record, RoleGrant};
use uuid::Uuid;

use super::tx::{seq_col, seq_of, PgTx};
use super::{dec, enc, Db, Mode, PgStore};
use crate::store::batch::{self, TxFail};
use crate::store::{
    gather_page, plan_spend, AccountStore, AuditEntry, AuditQuery, AuditStore, FeedPage, PhotoRecord, PhotoStore,
    RefreshRecord, SigningKeyRecord, SpendOutcome, SpendRequest, StoreError, StoreResult, StoredRecord, SyncStore,
    UpkeepStore, UploadRecord, UserRecord,
};

/// Changes fetched per round trip while a pull scans one unit's feed.
const SCAN_CHUNK: i64 = 256;

fn bodies<T: serde::de::DeserializeOwned>(rows: Vec<tokio_postgres::Row>) -> StoreResult<Vec<T>> {
    rows.iter().map(|r| dec(r.get::<_, &[u8]>(0))).collect()
}

fn body<T: serde::de::DeserializeOwned>(row: Option<tokio_postgres::Row>) -> StoreResult<Option<T>> {
    row.map(|r| dec(r.get::<_, &[u8]>(0))).transpose()
}

fn tx_fail(e: TxFail) -> StoreError {
    match e {
        TxFail::Storage(e) => StoreError::Backend(e.0),
        TxFail::InvalidRecord(m) => StoreError::InvalidRecord(m),
    }
}

impl PgStore {
    /// Runs a sync write (ops or records) in one transaction holding the feed lock.
    fn sync_write<T>(
        &self,
        f: impl FnOnce(&PgTx<'_, '_>) -> Result<T, TxFail>,
        after: impl FnOnce(&Db<'_>, &T) -> StoreResult<()>,
    ) -> StoreResult<T> {
        self.transact(Mode::Write, |db| {
            let tx = PgTx::begin(db)?;
            let out = f(&tx).map_err(tx_fail)?;
            tx.finish()?;
            after(db, &out)?;
            Ok(out)
        })
    }

    fn read<T>(&self, f: impl FnOnce(&Db<'_>) -> StoreResult<T>) -> StoreResult<T> {
        self.transact(Mode::Write, f)
    }
}

fn append_audit_in(db: &Db<'_>, entries: &[AuditEntry]) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut seq = seq_of(db.lock_counter("audit")?)?;
    for e in entries {
        seq += 1;
        let entry = AuditEntry { seq, ..e.clone() };
        let action = serde_json::to_string(&entry.action).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        db.exec(
            "INSERT INTO fq_audit (seq, at, actor, target, action, body) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&seq_col(seq)?, &entry.at, &entry.actor, &entry.target, &action, &enc(&entry)?],
        )?;
    }
    db.exec("UPDATE fq_counters SET value = $1 WHERE name = 'audit'", &[&seq_col(seq)?])?;
    Ok(())
}

impl AccountStore for PgStore {
    fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_users (id, username, body) VALUES ($1, $2, $3)",
                &[&user.id, &user.username, &enc(user)?],
            )
            .map(|_| ())
        })
        .map_err(|e| match e {
            StoreError::AlreadyExists(_) => StoreError::AlreadyExists(format!("username {}", user.username)),
            other => other,
        })
    }

    fn update_user(&self, user: &UserRecord) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_users (id, username, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, body = EXCLUDED.body",
                &[&user.id, &user.username, &enc(user)?],
            )
            .map(|_| ())
        })
    }

    fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>> {
        self.read(|db| body(db.row("SELECT body FROM fq_users WHERE id = $1", &[&id])?))
    }

    fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        self.read(|db| body(db.row("SELECT body FROM fq_users WHERE username = $1", &[&username])?))
    }

    fn users(&self) -> StoreResult<Vec<UserRecord>> {
        // Ordered in Rust: the database's collation may not order as bytes do.
        let mut all: Vec<UserRecord> = self.read(|db| bodies(db.rows("SELECT body FROM fq_users", &[])?))?;
        all.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(all)
    }

    fn insert_refresh(&self, record: &RefreshRecord) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_refresh (token_hash, user_id, issued_at, body) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (token_hash) DO UPDATE SET body = EXCLUDED.body",
                &[&record.token_hash, &record.user_id, &record.issued_at, &enc(record)?],
            )
            .map(|_| ())
        })
    }

    fn spend_refresh(&self, token_hash: &str, now: DateTime<Utc>, req: &SpendRequest) -> StoreResult<SpendOutcome> {
        self.read(|db| {
            // The token's row lock makes two spends of one token take turns.
            let rec: Option<RefreshRecord> =
                body(db.row("SELECT body FROM fq_refresh WHERE token_hash = $1 FOR UPDATE", &[&token_hash])?)?;
            let revoked = match &rec {
                Some(r) => db.row("SELECT 1 FROM fq_revoked WHERE family = $1", &[&r.family])?.is_some(),
                None => false,
            };
            let successor: Option<RefreshRecord> = match rec.as_ref().and_then(|r| r.successor.clone()) {
                Some(h) => body(db.row("SELECT body FROM fq_refresh WHERE token_hash = $1 FOR UPDATE", &[&h])?)?,
                None => None,
            };
            let plan = plan_spend(rec, revoked, successor, now, req);
            for r in &plan.write {
                db.exec(
                    "INSERT INTO fq_refresh (token_hash, user_id, issued_at, body) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (token_hash) DO UPDATE SET body = EXCLUDED.body",
                    &[&r.token_hash, &r.user_id, &r.issued_at, &enc(r)?],
                )?;
            }
            if let Some(f) = plan.revoke {
                db.exec(
                    "INSERT INTO fq_revoked (family, with_device) VALUES ($1, false) ON CONFLICT DO NOTHING",
                    &[&f],
                )?;
            }
            Ok(plan.outcome)
        })
    }

    fn revoke_family(&self, family: Uuid) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_revoked (family, with_device) VALUES ($1, false) ON CONFLICT DO NOTHING",
                &[&family],
            )
            .map(|_| ())
        })
    }

    fn family_revoked(&self, family: Uuid) -> StoreResult<bool> {
        self.read(|db| Ok(db.row("SELECT 1 FROM fq_revoked WHERE family = $1", &[&family])?.is_some()))
    }

    fn revoke_device_family(&self, family: Uuid) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_revoked (family, with_device) VALUES ($1, true) \
                 ON CONFLICT (family) DO UPDATE SET with_device = true",
                &[&family],
            )
            .map(|_| ())
        })
    }

    fn family_device_revoked(&self, family: Uuid) -> StoreResult<bool> {
        self.read(|db| Ok(db.row("SELECT 1 FROM fq_revoked WHERE family = $1 AND with_device", &[&family])?.is_some()))
    }

    fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>> {
        self.read(|db| body(db.row("SELECT body FROM fq_refresh WHERE token_hash = $1", &[&token_hash])?))
    }

    fn refresh_of_user(&self, user: Uuid) -> StoreResult<Vec<RefreshRecord>> {
        let mut all: Vec<RefreshRecord> =
            self.read(|db| bodies(db.rows("SELECT body FROM fq_refresh WHERE user_id = $1", &[&user])?))?;
        all.sort_by(|a, b| (a.issued_at, &a.token_hash).cmp(&(b.issued_at, &b.token_hash)));
        Ok(all)
    }

    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let mut all: Vec<SigningKeyRecord> =
            self.read(|db| bodies(db.rows("SELECT body FROM fq_signing_keys", &[])?))?;
        all.sort_by_key(|k| k.created_at);
        Ok(all)
    }

    fn add_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_signing_keys (kid, created_at, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (kid) DO UPDATE SET body = EXCLUDED.body",
                &[&key.kid, &key.created_at, &enc(key)?],
            )
            .map(|_| ())
        })
    }
}

impl AuditStore for PgStore {
    fn append_audit(&self, entries: &[AuditEntry]) -> StoreResult<()> {
        self.read(|db| append_audit_in(db, entries))
    }

    fn audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let action = match query.action {
            Some(a) => Some(serde_json::to_string(&a).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            None => None,
        };
        let rows = self.read(|db| {
            db.rows(
                "SELECT body FROM fq_audit WHERE seq > $1 \
                 AND ($2::uuid IS NULL OR actor = $2) AND ($3::text IS NULL OR target = $3) \
                 AND ($4::text IS NULL OR action = $4) AND ($5::timestamptz IS NULL OR at >= $5) \
                 AND ($6::timestamptz IS NULL OR at < $6) ORDER BY seq LIMIT $7",
                &[&seq_col(query.after)?, &query.actor, &query.target, &action, &query.from, &query.to, &limit],
            )
        })?;
        let all: Vec<AuditEntry> = bodies(rows)?;
        Ok(all.into_iter().filter(|e| query.matches(e)).collect())
    }
}

/// One unit's feed after a cursor up to the visible sequence, fetched lazily
/// in chunks inside the pull's snapshot.
struct FeedScan<'a, 'b> {
    db: &'a Db<'b>,
    unit: Uuid,
    after: u64,
    visible: u64,
    buf: VecDeque<Change>,
    done: bool,
}

impl Iterator for FeedScan<'_, '_> {
    type Item = StoreResult<Change>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() && !self.done {
            let fetched = (|| -> StoreResult<Vec<Change>> {
                let rows = self.db.rows(
                    "SELECT c.body FROM fq_feed f JOIN fq_changes c ON c.seq = f.seq \
                     WHERE f.unit = $1 AND f.seq > $2 AND f.seq <= $3 ORDER BY f.seq LIMIT $4",
                    &[&self.unit, &seq_col(self.after)?, &seq_col(self.visible)?, &SCAN_CHUNK],
                )?;
                bodies(rows)
            })();
            match fetched {
                Ok(changes) => {
                    self.done = (changes.len() as i64) < SCAN_CHUNK;
                    if let Some(last) = changes.last() {
                        self.after = last.seq;
                    }
                    self.buf.extend(changes);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.buf.pop_front().map(Ok)
    }
}

impl SyncStore for PgStore {
    fn apply_ops(
        &self,
        actor: &Actor,
        policy: &Policy,
        ops: &[OpEnvelope],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<OpAnswer>> {
        self.sync_write(|tx| batch::apply_ops(tx, actor, policy, ops, now), |_, _| Ok(()))
    }

    fn apply_ops_audited(
        &self,
        actor: &Actor,
        policy: &Policy,
        ops: &[OpEnvelope],
        now: DateTime<Utc>,
        audit: &dyn Fn(&[OpAnswer]) -> Vec<AuditEntry>,
    ) -> StoreResult<Vec<OpAnswer>> {
        self.sync_write(
            |tx| batch::apply_ops(tx, actor, policy, ops, now),
            |db, answers| append_audit_in(db, &audit(answers)),
        )
    }

    fn reserve_case_block(&self, owner: Uuid, year: i32, policy: &Policy) -> StoreResult<u32> {
        use fengqiao_domain::disputes::{may_reserve_case_block, CaseBlockUse};
        self.read(|db| {
            // Under the feed lock: claims of case numbers take turns with it.
            db.lock_counter("seq")?;
            let rows = db.rows("SELECT owner, used, size, block FROM fq_case_blocks WHERE year = $1", &[&year])?;
            let mut outstanding = 0;
            let mut last = 0i64;
            for r in &rows {
                let (o, used, size, block): (Uuid, i64, Option<i64>, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
                last = last.max(block);
                let used = u32::try_from(used).unwrap_or(u32::MAX);
                let size = size.and_then(|s| u32::try_from(s).ok());
                if o == owner && (CaseBlockUse { used, size }).outstanding(policy) {
                    outstanding += 1;
                }
            }
            if !may_reserve_case_block(outstanding, policy) {
                return Err(StoreError::TooManyBlocks(policy.disputes.max_open_case_blocks));
            }
            let next = u32::try_from(last + 1).map_err(|_| StoreError::Corrupt("case block number".into()))?;
            db.exec(
                "INSERT INTO fq_case_blocks (year, block, owner, used, size) VALUES ($1, $2, $3, 0, $4)",
                &[&year, &i64::from(next), &owner, &i64::from(policy.disputes.case_block_size)],
            )?;
            Ok(next)
        })
    }

    fn keep_policy(&self, policy: &Policy) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_policies (version, body) VALUES ($1, $2) \
                 ON CONFLICT (version) DO UPDATE SET body = EXCLUDED.body",
                &[&policy.version(), &enc(policy)?],
            )
            .map(|_| ())
        })
    }

    fn put_records(&self, records: &[Record]) -> StoreResult<u64> {
        self.sync_write(|tx| batch::put_records(tx, records), |_, _| Ok(()))
    }

    fn record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<Record>> {
        let tag = i16::from(kind.tag());
        let stored: Option<StoredRecord> =
            self.read(|db| body(db.row("SELECT body FROM fq_records WHERE kind = $1 AND id = $2", &[&tag, &id])?))?;
        Ok(stored.map(|s| s.record))
    }

    fn records_of_kind(&self, kind: EntityKind) -> StoreResult<Vec<Record>> {
        let tag = i16::from(kind.tag());
        let all: Vec<StoredRecord> =
            self.read(|db| bodies(db.rows("SELECT body FROM fq_records WHERE kind = $1 ORDER BY id", &[&tag])?))?;
        Ok(all.into_iter().map(|s| s.record).collect())
    }

    fn pull(&self, grants: &[RoleGrant], personal: Option<Uuid>, after: u64, limit: usize) -> StoreResult<FeedPage> {
        // One snapshot: the counter read and every scan see the same committed
        // prefix of the feed.
        self.transact(Mode::Snapshot, |db| {
            let visible = seq_of(
                db.row("SELECT value FROM fq_counters WHERE name = 'seq'", &[])?
                    .map(|r| r.get(0))
                    .ok_or_else(|| StoreError::Corrupt("counter seq missing".into()))?,
            )?;
            gather_page(grants, personal, limit, visible, after, |unit| FeedScan {
                db,
                unit,
                after,
                visible,
                buf: VecDeque::new(),
                done: false,
            })
        })
    }

    fn desk_index_scan(
        &self,
        prefix: &[u8],
        start: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        // One snapshot, read in chunks in key order until the prefix ends or
        // `visit` stops.
        self.transact(Mode::Snapshot, |db| {
            let mut from = prefix.max(start).to_vec();
            let mut first = true;
            loop {
                let rows = if first {
                    db.rows(
                        "SELECT key, value FROM fq_desk_index WHERE key >= $1 ORDER BY key LIMIT $2",
                        &[&from, &SCAN_CHUNK],
                    )?
                } else {
                    db.rows(
                        "SELECT key, value FROM fq_desk_index WHERE key > $1 ORDER BY key LIMIT $2",
                        &[&from, &SCAN_CHUNK],
                    )?
                };
                first = false;
                let done = (rows.len() as i64) < SCAN_CHUNK;
                for r in &rows {
                    let (k, v): (&[u8], &[u8]) = (r.get(0), r.get(1));
                    if !k.starts_with(prefix) || !visit(k, v) {
                        return Ok(());
                    }
                    from = k.to_vec();
                }
                if done {
                    return Ok(());
                }
            }
        })
    }

    fn stored_record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<StoredRecord>> {
        let tag = i16::from(kind.tag());
        self.read(|db| body(db.row("SELECT body FROM fq_records WHERE kind = $1 AND id = $2", &[&tag, &id])?))
    }

    fn last_seq(&self) -> StoreResult<u64> {
        self.read(|db| {
            seq_of(
                db.row("SELECT value FROM fq_counters WHERE name = 'seq'", &[])?
                    .map(|r| r.get(0))
                    .ok_or_else(|| StoreError::Corrupt("counter seq missing".into()))?,
            )
        })
    }
}

impl PhotoStore for PgStore {
    fn put_upload(&self, upload: &UploadRecord) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_uploads (id, expires_at, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at, body = EXCLUDED.body",
                &[&upload.id, &upload.expires_at, &enc(upload)?],
            )
            .map(|_| ())
        })
    }

    fn upload(&self, id: Uuid) -> StoreResult<Option<UploadRecord>> {
        self.read(|db| body(db.row("SELECT body FROM fq_uploads WHERE id = $1", &[&id])?))
    }

    fn delete_upload(&self, id: Uuid) -> StoreResult<()> {
        self.read(|db| db.exec("DELETE FROM fq_uploads WHERE id = $1", &[&id]).map(|_| ()))
    }

    fn expired_uploads(&self, now: DateTime<Utc>) -> StoreResult<Vec<UploadRecord>> {
        self.read(|db| bodies(db.rows("SELECT body FROM fq_uploads WHERE expires_at <= $1 ORDER BY id", &[&now])?))
    }

    fn put_photo(&self, photo: &PhotoRecord) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_photos (sha256, body) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&photo.sha256, &enc(photo)?],
            )
            .map(|_| ())
        })
    }

    fn put_photo_holder(&self, sha256: &str, user: Uuid) -> StoreResult<()> {
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_photo_holders (sha256, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&sha256, &user],
            )
            .map(|_| ())
        })
    }

    fn photo_held_by(&self, sha256: &str, user: Uuid) -> StoreResult<bool> {
        self.read(|db| {
            Ok(db
                .row("SELECT 1 FROM fq_photo_holders WHERE sha256 = $1 AND user_id = $2", &[&sha256, &user])?
                .is_some())
        })
    }

    fn complete_upload(&self, photo: &PhotoRecord, upload: &UploadRecord) -> StoreResult<()> {
        let done = UploadRecord { completed: true, ..upload.clone() };
        self.read(|db| {
            db.exec(
                "INSERT INTO fq_photos (sha256, body) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&photo.sha256, &enc(photo)?],
            )?;
            db.exec(
                "INSERT INTO fq_photo_holders (sha256, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&photo.sha256, &upload.owner],
            )?;
            db.exec(
                "INSERT INTO fq_uploads (id, expires_at, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at, body = EXCLUDED.body",
                &[&done.id, &done.expires_at, &enc(&done)?],
            )
            .map(|_| ())
        })
    }

    fn photo(&self, sha256: &str) -> StoreResult<Option<PhotoRecord>> {
        self.read(|db| body(db.row("SELECT body FROM fq_photos WHERE sha256 = $1", &[&sha256])?))
    }

    fn photo_refs(&self, sha256: &str) -> StoreResult<Vec<StoredRecord>> {
        let tag = i16::from(EntityKind::Attachment.tag());
        self.read(|db| {
            bodies(db.rows(
                "SELECT r.body FROM fq_photo_refs p JOIN fq_records r ON r.kind = $2 AND r.id = p.attachment \
                 WHERE p.sha256 = $1 ORDER BY p.attachment",
                &[&sha256, &tag],
            )?)
        })
    }
}

impl UpkeepStore for PgStore {
    fn is_empty(&self) -> StoreResult<bool> {
        self.read(|db| {
            let any =
                db.row("SELECT 1 WHERE EXISTS (SELECT 1 FROM fq_users) OR EXISTS (SELECT 1 FROM fq_records)", &[])?;
            Ok(any.is_none())
        })
    }

    fn flush(&self) -> StoreResult<()> {
        // Every write committed before it returned (synchronous commit).
        Ok(())
    }
}
