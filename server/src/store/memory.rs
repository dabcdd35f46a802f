//! The in-memory backend: for tests and as the reference the conformance suite
//! checks other backends against. A write transaction works on a copy of the
//! state that replaces the original only when the whole batch succeeded.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use fengqiao_domain::apply::{PersonFacts, PersonLookup, StateView, ViewError};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{Change, OpAnswer, OpEnvelope};
use fengqiao_domain::{EntityKind, Record, RoleGrant};
use uuid::Uuid;

use super::batch::{self, TxFail, WriteTx};
use super::{
    gather_page, AuditEntry, AuditQuery, FeedPage, PhotoRecord, RefreshRecord, SigningKeyRecord, SpendOutcome,
    SpendRequest, StoreError, StoreResult, StoredAnswer, StoredRecord, UploadRecord, UserRecord,
};
use super::{AccountStore, AuditStore, PhotoStore, SyncStore, UpkeepStore};

#[derive(Default, Clone)]
struct Sync {
    ops: HashMap<Uuid, StoredAnswer>,
    records: HashMap<(EntityKind, Uuid), StoredRecord>,
    changes: BTreeMap<u64, Change>,
    feed: BTreeSet<(Uuid, u64)>,
    photo_refs: BTreeSet<(String, Uuid)>,
    /// Owner and numbers used, by (year, block).
    /// Owner, numbers used and size when reserved, by (year, block).
    case_blocks: HashMap<(i32, u32), (Uuid, u32, u32)>,
    /// The county policies run under, by version.
    policies: HashMap<String, Policy>,
    case_numbers: HashMap<String, Uuid>,
    /// Lead id → the visit that found it.
    leads: HashMap<Uuid, Uuid>,
    /// The desk's index (`super::desk_index`).
    desk: BTreeMap<Vec<u8>, Vec<u8>>,
    seq: u64,
}

#[derive(Default)]
struct State {
    users: HashMap<Uuid, UserRecord>,
    usernames: HashMap<String, Uuid>,
    refresh: HashMap<String, RefreshRecord>,
    revoked: BTreeSet<Uuid>,
    device_revoked: BTreeSet<Uuid>,
    keys: Vec<SigningKeyRecord>,
    uploads: HashMap<Uuid, UploadRecord>,
    photos: HashMap<String, PhotoRecord>,
    photo_holders: BTreeSet<(String, Uuid)>,
    audit: Vec<AuditEntry>,
    sync: Sync,
}

/// The in-memory server store.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn transact<T>(&self, f: impl FnOnce(&MemTx) -> Result<T, TxFail>) -> StoreResult<T> {
        let mut st = self.st();
        let tx = MemTx(RefCell::new(st.sync.clone()), st.users.clone());
        match f(&tx) {
            Ok(v) => {
                st.sync = tx.0.into_inner();
                Ok(v)
            }
            Err(TxFail::Storage(e)) => Err(StoreError::Backend(e.0)),
            Err(TxFail::InvalidRecord(m)) => Err(StoreError::InvalidRecord(m)),
        }
    }
}

/// The sync state being changed, and the users as they stand.
struct MemTx(RefCell<Sync>, HashMap<Uuid, UserRecord>);

impl StateView for MemTx {
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError> {
        Ok(self.0.borrow().records.get(&(kind, id)).map(|s| s.record.clone()))
    }
    fn case_block_owner(&self, year: i32, block: u32) -> Result<Option<Uuid>, ViewError> {
        Ok(self.0.borrow().case_blocks.get(&(year, block)).map(|b| b.0))
    }
    fn case_block_size(&self, year: i32, block: u32) -> Result<Option<u32>, ViewError> {
        Ok(self.0.borrow().case_blocks.get(&(year, block)).map(|b| b.2))
    }
    fn earlier_policy(&self, version: &str) -> Result<Option<Policy>, ViewError> {
        Ok(self.0.borrow().policies.get(version).cloned())
    }
    fn case_number_holder(&self, case_number: &str) -> Result<Option<Uuid>, ViewError> {
        Ok(self.0.borrow().case_numbers.get(case_number).copied())
    }
    fn version(&self, kind: EntityKind, id: Uuid) -> Result<Option<u64>, ViewError> {
        Ok(self.0.borrow().records.get(&(kind, id)).map(|s| s.seq))
    }
    fn lead_visit(&self, lead: Uuid) -> Result<Option<Uuid>, ViewError> {
        Ok(self.0.borrow().leads.get(&lead).copied())
    }
    fn person(&self, id: Uuid) -> Result<PersonLookup, ViewError> {
        Ok(match self.1.get(&id) {
            Some(u) => PersonLookup::Known(PersonFacts { enabled: !u.disabled, grants: u.grants.clone() }),
            None => PersonLookup::NoSuchUser,
        })
    }
}

impl WriteTx for MemTx {
    fn answer(&self, op_id: Uuid) -> Result<Option<StoredAnswer>, ViewError> {
        Ok(self.0.borrow().ops.get(&op_id).cloned())
    }
    fn put_answer(&self, op_id: Uuid, answer: &StoredAnswer) -> Result<(), ViewError> {
        self.0.borrow_mut().ops.insert(op_id, answer.clone());
        Ok(())
    }
    fn stored(&self, kind: EntityKind, id: Uuid) -> Result<Option<StoredRecord>, ViewError> {
        Ok(self.0.borrow().records.get(&(kind, id)).cloned())
    }
    fn put_stored(&self, stored: &StoredRecord) -> Result<(), ViewError> {
        let key = (stored.record.kind(), stored.record.id());
        self.0.borrow_mut().records.insert(key, stored.clone());
        Ok(())
    }
    fn next_seq(&self) -> Result<u64, ViewError> {
        let mut s = self.0.borrow_mut();
        s.seq += 1;
        Ok(s.seq)
    }
    fn claim_case_number(&self, case_number: &str, dispute: Uuid) -> Result<(), ViewError> {
        let mut s = self.0.borrow_mut();
        let first = s.case_numbers.insert(case_number.to_string(), dispute).is_none();
        if let Some(case) = fengqiao_domain::disputes::CaseNumber::parse(case_number).filter(|_| first) {
            if let Some(b) = s.case_blocks.get_mut(&(case.year, case.block)) {
                b.1 = b.1.saturating_add(1);
            }
        }
        Ok(())
    }
    fn index_lead(&self, lead: Uuid, visit: Uuid) -> Result<(), ViewError> {
        self.0.borrow_mut().leads.insert(lead, visit);
        Ok(())
    }
    fn add_photo_ref(&self, sha256: &str, attachment: Uuid) -> Result<(), ViewError> {
        self.0.borrow_mut().photo_refs.insert((sha256.to_string(), attachment));
        Ok(())
    }
    fn append_change(&self, change: &Change, units: &[Uuid]) -> Result<(), ViewError> {
        let mut s = self.0.borrow_mut();
        s.changes.insert(change.seq, change.clone());
        for u in units {
            s.feed.insert((*u, change.seq));
        }
        Ok(())
    }
    fn desk_index_put(&self, key: &[u8], value: &[u8]) -> Result<(), ViewError> {
        self.0.borrow_mut().desk.insert(key.to_vec(), value.to_vec());
        Ok(())
    }
    fn desk_index_remove(&self, key: &[u8]) -> Result<(), ViewError> {
        self.0.borrow_mut().desk.remove(key);
        Ok(())
    }
}

impl AccountStore for MemoryStore {
    fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        let mut st = self.st();
        if st.usernames.contains_key(&user.username) {
            return Err(StoreError::AlreadyExists(format!("username {}", user.username)));
        }
        st.usernames.insert(user.username.clone(), user.id);
        st.users.insert(user.id, user.clone());
        Ok(())
    }

    fn update_user(&self, user: &UserRecord) -> StoreResult<()> {
        self.st().users.insert(user.id, user.clone());
        Ok(())
    }

    fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>> {
        Ok(self.st().users.get(&id).cloned())
    }

    fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let st = self.st();
        Ok(st.usernames.get(username).and_then(|id| st.users.get(id)).cloned())
    }

    fn users(&self) -> StoreResult<Vec<UserRecord>> {
        let mut all: Vec<UserRecord> = self.st().users.values().cloned().collect();
        all.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(all)
    }

    fn refresh_of_user(&self, user: Uuid) -> StoreResult<Vec<RefreshRecord>> {
        let mut all: Vec<RefreshRecord> = self.st().refresh.values().filter(|r| r.user_id == user).cloned().collect();
        all.sort_by(|a, b| (a.issued_at, &a.token_hash).cmp(&(b.issued_at, &b.token_hash)));
        Ok(all)
    }

    fn insert_refresh(&self, record: &RefreshRecord) -> StoreResult<()> {
        self.st().refresh.insert(record.token_hash.clone(), record.clone());
        Ok(())
    }

    fn spend_refresh(&self, token_hash: &str, now: DateTime<Utc>, req: &SpendRequest) -> StoreResult<SpendOutcome> {
        let mut st = self.st();
        let rec = st.refresh.get(token_hash).cloned();
        let revoked = rec.as_ref().is_some_and(|r| st.revoked.contains(&r.family));
        let successor = rec.as_ref().and_then(|r| r.successor.as_ref()).and_then(|h| st.refresh.get(h)).cloned();
        let plan = super::plan_spend(rec, revoked, successor, now, req);
        for r in plan.write {
            st.refresh.insert(r.token_hash.clone(), r);
        }
        if let Some(f) = plan.revoke {
            st.revoked.insert(f);
        }
        Ok(plan.outcome)
    }

    fn revoke_family(&self, family: Uuid) -> StoreResult<()> {
        self.st().revoked.insert(family);
        Ok(())
    }

    fn family_revoked(&self, family: Uuid) -> StoreResult<bool> {
        Ok(self.st().revoked.contains(&family))
    }

    fn revoke_device_family(&self, family: Uuid) -> StoreResult<()> {
        let mut st = self.st();
        st.revoked.insert(family);
        st.device_revoked.insert(family);
        Ok(())
    }

    fn family_device_revoked(&self, family: Uuid) -> StoreResult<bool> {
        Ok(self.st().device_revoked.contains(&family))
    }

    fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>> {
        Ok(self.st().refresh.get(token_hash).cloned())
    }

    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        Ok(self.st().keys.clone())
    }

    fn add_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        let mut st = self.st();
        st.keys.push(key.clone());
        st.keys.sort_by_key(|k| k.created_at);
        Ok(())
    }
}

impl AuditStore for MemoryStore {
    fn append_audit(&self, entries: &[AuditEntry]) -> StoreResult<()> {
        let mut st = self.st();
        for e in entries {
            let seq = st.audit.last().map_or(0, |l| l.seq) + 1;
            st.audit.push(AuditEntry { seq, ..e.clone() });
        }
        Ok(())
    }

    fn audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let st = self.st();
        Ok(st.audit.iter().filter(|e| e.seq > query.after && query.matches(e)).take(query.limit).cloned().collect())
    }
}

impl SyncStore for MemoryStore {
    fn apply_ops(
        &self,
        actor: &Actor,
        policy: &Policy,
        ops: &[OpEnvelope],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<OpAnswer>> {
        self.transact(|tx| batch::apply_ops(tx, actor, policy, ops, now))
    }

    fn reserve_case_block(&self, owner: Uuid, year: i32, policy: &Policy) -> StoreResult<u32> {
        use fengqiao_domain::disputes::{may_reserve_case_block, CaseBlockUse};
        let mut st = self.st();
        let outstanding = st
            .sync
            .case_blocks
            .iter()
            .filter(|((y, _), (o, used, size))| {
                *y == year && *o == owner && CaseBlockUse { used: *used, size: Some(*size) }.outstanding(policy)
            })
            .count();
        if !may_reserve_case_block(outstanding, policy) {
            return Err(StoreError::TooManyBlocks(policy.disputes.max_open_case_blocks));
        }
        let next = st.sync.case_blocks.keys().filter(|(y, _)| *y == year).map(|(_, b)| *b).max().unwrap_or(0) + 1;
        st.sync.case_blocks.insert((year, next), (owner, 0, policy.disputes.case_block_size));
        Ok(next)
    }

    fn keep_policy(&self, policy: &Policy) -> StoreResult<()> {
        self.st().sync.policies.insert(policy.version(), policy.clone());
        Ok(())
    }

    fn put_records(&self, records: &[Record]) -> StoreResult<u64> {
        self.transact(|tx| batch::put_records(tx, records))
    }

    fn record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<Record>> {
        Ok(self.st().sync.records.get(&(kind, id)).map(|s| s.record.clone()))
    }

    fn records_of_kind(&self, kind: EntityKind) -> StoreResult<Vec<Record>> {
        let st = self.st();
        let mut all: Vec<Record> =
            st.sync.records.iter().filter(|((k, _), _)| *k == kind).map(|(_, s)| s.record.clone()).collect();
        all.sort_by_key(|r| r.id());
        Ok(all)
    }

    fn pull(&self, grants: &[RoleGrant], personal: Option<Uuid>, after: u64, limit: usize) -> StoreResult<FeedPage> {
        let st = self.st();
        let sync = &st.sync;
        gather_page(grants, personal, limit, sync.seq, after, |unit| {
            sync.feed.range((unit, after + 1)..=(unit, u64::MAX)).map(|(_, seq)| match sync.changes.get(seq) {
                Some(c) => Ok(c.clone()),
                None => Err(StoreError::Corrupt(format!("feed names missing change {seq}"))),
            })
        })
    }

    fn desk_index_scan(
        &self,
        prefix: &[u8],
        start: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        let st = self.st();
        for (k, v) in st.sync.desk.range(prefix.max(start).to_vec()..) {
            if !k.starts_with(prefix) || !visit(k, v) {
                break;
            }
        }
        Ok(())
    }

    fn stored_record(&self, kind: EntityKind, id: Uuid) -> StoreResult<Option<StoredRecord>> {
        Ok(self.st().sync.records.get(&(kind, id)).cloned())
    }

    fn last_seq(&self) -> StoreResult<u64> {
        Ok(self.st().sync.seq)
    }
}

impl PhotoStore for MemoryStore {
    fn put_upload(&self, upload: &UploadRecord) -> StoreResult<()> {
        self.st().uploads.insert(upload.id, upload.clone());
        Ok(())
    }

    fn upload(&self, id: Uuid) -> StoreResult<Option<UploadRecord>> {
        Ok(self.st().uploads.get(&id).cloned())
    }

    fn delete_upload(&self, id: Uuid) -> StoreResult<()> {
        self.st().uploads.remove(&id);
        Ok(())
    }

    fn expired_uploads(&self, now: DateTime<Utc>) -> StoreResult<Vec<UploadRecord>> {
        Ok(self.st().uploads.values().filter(|u| u.expires_at <= now).cloned().collect())
    }

    fn put_photo(&self, photo: &PhotoRecord) -> StoreResult<()> {
        self.st().photos.entry(photo.sha256.clone()).or_insert_with(|| photo.clone());
        Ok(())
    }

    fn put_photo_holder(&self, sha256: &str, user: Uuid) -> StoreResult<()> {
        self.st().photo_holders.insert((sha256.to_string(), user));
        Ok(())
    }

    fn photo_held_by(&self, sha256: &str, user: Uuid) -> StoreResult<bool> {
        Ok(self.st().photo_holders.contains(&(sha256.to_string(), user)))
    }

    fn photo(&self, sha256: &str) -> StoreResult<Option<PhotoRecord>> {
        Ok(self.st().photos.get(sha256).cloned())
    }

    fn photo_refs(&self, sha256: &str) -> StoreResult<Vec<StoredRecord>> {
        let st = self.st();
        Ok(st
            .sync
            .photo_refs
            .iter()
            .filter(|(sha, _)| sha == sha256)
            .filter_map(|(_, id)| st.sync.records.get(&(EntityKind::Attachment, *id)).cloned())
            .collect())
    }
}

impl UpkeepStore for MemoryStore {
    fn is_empty(&self) -> StoreResult<bool> {
        let st = self.st();
        Ok(st.users.is_empty() && st.sync.records.is_empty())
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_store_passes_conformance() {
        crate::store::conformance::run_all(&super::MemoryStore::new());
    }
}
