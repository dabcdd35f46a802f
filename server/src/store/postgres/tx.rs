//! A PostgreSQL transaction seen through the domain's [`StateView`] and the
//! store's [`WriteTx`], so the one copy of the write rules (`store::batch`)
//! runs inside it. Every sync write transaction holds the `seq` counter's row
//! lock from its start (see the module above), so its reads see every earlier
//! write and nothing else writes beside it.

use std::cell::Cell;

use fengqiao_domain::apply::{PersonFacts, PersonLookup, StateView, ViewError};
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::Change;
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use super::super::batch::WriteTx;
use super::super::{StoreError, StoredAnswer, StoredRecord, UserRecord};
use super::{dec, enc, Db};

fn view(e: StoreError) -> ViewError {
    ViewError(e.to_string())
}

/// Counter value as a sequence (counters never go below zero).
pub(crate) fn seq_of(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative sequence {v}")))
}

/// A sequence as stored.
pub(crate) fn seq_col(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("sequence {v} out of range")))
}

/// The write transaction: the database transaction and the feed counter, read
/// once under its lock and written back at the end ([`PgTx::finish`]).
pub(crate) struct PgTx<'a, 'b> {
    pub(crate) db: &'a Db<'b>,
    seq: Cell<u64>,
    start: u64,
}

impl<'a, 'b> PgTx<'a, 'b> {
    /// Takes the feed counter's lock (held until the transaction ends).
    pub(crate) fn begin(db: &'a Db<'b>) -> Result<PgTx<'a, 'b>, StoreError> {
        let seq = seq_of(db.lock_counter("seq")?)?;
        Ok(PgTx { db, seq: Cell::new(seq), start: seq })
    }

    /// Writes the feed counter back if sequences were used.
    pub(crate) fn finish(&self) -> Result<(), StoreError> {
        if self.seq.get() != self.start {
            self.db.exec("UPDATE fq_counters SET value = $1 WHERE name = 'seq'", &[&seq_col(self.seq.get())?])?;
        }
        Ok(())
    }

    fn opt_uuid(&self, sql: &str, key: &(dyn tokio_postgres::types::ToSql + Sync)) -> Result<Option<Uuid>, ViewError> {
        Ok(self.db.row(sql, &[key]).map_err(view)?.map(|r| r.get(0)))
    }
}

impl StateView for PgTx<'_, '_> {
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
        Ok(self.stored(kind, id)?.map(|s| s.record))
    }
    fn version(&self, kind: EntityKind, id: Uuid) -> Result<Option<u64>, ViewError> {
        Ok(self.stored(kind, id)?.map(|s| s.seq))
    }
    fn case_block_owner(&self, year: i32, block: u32) -> Result<Option<Uuid>, ViewError> {
        let row = self
            .db
            .row("SELECT owner FROM fq_case_blocks WHERE year = $1 AND block = $2", &[&year, &i64::from(block)])
            .map_err(view)?;
        Ok(row.map(|r| r.get(0)))
    }
    fn case_block_size(&self, year: i32, block: u32) -> Result<Option<u32>, ViewError> {
        let row = self
            .db
            .row("SELECT size FROM fq_case_blocks WHERE year = $1 AND block = $2", &[&year, &i64::from(block)])
            .map_err(view)?;
        match row.and_then(|r| r.get::<_, Option<i64>>(0)) {
            Some(s) => u32::try_from(s).map(Some).map_err(|_| ViewError("bad case-block size".into())),
            None => Ok(None),
        }
    }
    fn earlier_policy(&self, version: &str) -> Result<Option<Policy>, ViewError> {
        match self.db.row("SELECT body FROM fq_policies WHERE version = $1", &[&version]).map_err(view)? {
            Some(r) => dec(r.get::<_, &[u8]>(0)).map(Some).map_err(view),
            None => Ok(None),
        }
    }
    fn case_number_holder(&self, case_number: &str) -> Result<Option<Uuid>, ViewError> {
        self.opt_uuid("SELECT dispute FROM fq_case_numbers WHERE case_number = $1", &case_number)
    }
    fn lead_visit(&self, lead: Uuid) -> Result<Option<Uuid>, ViewError> {
        self.opt_uuid("SELECT visit FROM fq_leads WHERE lead = $1", &lead)
    }
    fn person(&self, id: Uuid) -> Result<PersonLookup, ViewError> {
        match self.db.row("SELECT body FROM fq_users WHERE id = $1", &[&id]).map_err(view)? {
            Some(r) => {
                let u: UserRecord = dec(r.get::<_, &[u8]>(0)).map_err(view)?;
                Ok(PersonLookup::Known(PersonFacts { enabled: !u.disabled, grants: u.grants }))
            }
            None => Ok(PersonLookup::NoSuchUser),
        }
    }
}

impl WriteTx for PgTx<'_, '_> {
    fn answer(&self, op_id: Uuid) -> Result<Option<StoredAnswer>, ViewError> {
        match self.db.row("SELECT body FROM fq_ops WHERE op_id = $1", &[&op_id]).map_err(view)? {
            Some(r) => dec(r.get::<_, &[u8]>(0)).map(Some).map_err(view),
            None => Ok(None),
        }
    }

    fn put_answer(&self, op_id: Uuid, answer: &StoredAnswer) -> Result<(), ViewError> {
        let body = enc(answer).map_err(view)?;
        self.db
            .exec(
                "INSERT INTO fq_ops (op_id, body) VALUES ($1, $2) ON CONFLICT (op_id) DO UPDATE SET body = EXCLUDED.body",
                &[&op_id, &body],
            )
            .map_err(view)?;
        Ok(())
    }

    fn stored(&self, kind: EntityKind, id: Uuid) -> Result<Option<StoredRecord>, ViewError> {
        let tag = i16::from(kind.tag());
        match self.db.row("SELECT body FROM fq_records WHERE kind = $1 AND id = $2", &[&tag, &id]).map_err(view)? {
            Some(r) => dec(r.get::<_, &[u8]>(0)).map(Some).map_err(view),
            None => Ok(None),
        }
    }

    fn put_stored(&self, stored: &StoredRecord) -> Result<(), ViewError> {
        let (tag, id) = (i16::from(stored.record.kind().tag()), stored.record.id());
        let body = enc(stored).map_err(view)?;
        self.db
            .exec(
                "INSERT INTO fq_records (kind, id, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body",
                &[&tag, &id, &body],
            )
            .map_err(view)?;
        Ok(())
    }

    fn next_seq(&self) -> Result<u64, ViewError> {
        let next = self.seq.get() + 1;
        self.seq.set(next);
        Ok(next)
    }

    fn claim_case_number(&self, case_number: &str, dispute: Uuid) -> Result<(), ViewError> {
        let first = self.case_number_holder(case_number)?.is_none();
        self.db
            .exec(
                "INSERT INTO fq_case_numbers (case_number, dispute) VALUES ($1, $2) \
                 ON CONFLICT (case_number) DO UPDATE SET dispute = EXCLUDED.dispute",
                &[&case_number, &dispute],
            )
            .map_err(view)?;
        // A number used for the first time counts against its block.
        if let Some(case) = fengqiao_domain::disputes::CaseNumber::parse(case_number).filter(|_| first) {
            self.db
                .exec(
                    "UPDATE fq_case_blocks SET used = used + 1 WHERE year = $1 AND block = $2",
                    &[&case.year, &i64::from(case.block)],
                )
                .map_err(view)?;
        }
        Ok(())
    }

    fn index_lead(&self, lead: Uuid, visit: Uuid) -> Result<(), ViewError> {
        self.db
            .exec(
                "INSERT INTO fq_leads (lead, visit) VALUES ($1, $2) ON CONFLICT (lead) DO UPDATE SET visit = EXCLUDED.visit",
                &[&lead, &visit],
            )
            .map_err(view)?;
        Ok(())
    }

    fn add_photo_ref(&self, sha256: &str, attachment: Uuid) -> Result<(), ViewError> {
        self.db
            .exec(
                "INSERT INTO fq_photo_refs (sha256, attachment) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&sha256, &attachment],
            )
            .map_err(view)?;
        Ok(())
    }

    fn desk_index_put(&self, key: &[u8], value: &[u8]) -> Result<(), ViewError> {
        self.db
            .exec(
                "INSERT INTO fq_desk_index (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&key, &value],
            )
            .map_err(view)?;
        Ok(())
    }

    fn desk_index_remove(&self, key: &[u8]) -> Result<(), ViewError> {
        self.db.exec("DELETE FROM fq_desk_index WHERE key = $1", &[&key]).map_err(view)?;
        Ok(())
    }

    fn append_change(&self, change: &Change, units: &[Uuid]) -> Result<(), ViewError> {
        let seq = seq_col(change.seq).map_err(view)?;
        let body = enc(change).map_err(view)?;
        self.db.exec("INSERT INTO fq_changes (seq, body) VALUES ($1, $2)", &[&seq, &body]).map_err(view)?;
        self.db
            .exec(
                "INSERT INTO fq_feed (unit, seq) SELECT u, $2 FROM unnest($1::uuid[]) AS u ON CONFLICT DO NOTHING",
                &[&units, &seq],
            )
            .map_err(view)?;
        Ok(())
    }
}
