//! The sled store's value formats (JSON with a format version `fv`) and the
//! helpers that encode, seal and unseal them with their tree and key as
//! associated data (ADR 0010).

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpEnvelope;
use fengqiao_domain::Record;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use uuid::Uuid;

use super::super::vault::Vault;
use super::super::{OutboxEntry, RecordState, StoreError, StoreResult, STORE_FORMAT_VERSION};

#[derive(Serialize, Deserialize)]
pub(super) struct RecordValue {
    pub(super) fv: u32,
    pub(super) record: Record,
    pub(super) state: RecordState,
}

impl RecordValue {
    /// A record as queued by `op`, waiting for the server's answer.
    pub(super) fn pending(record: &Record, op: &OpEnvelope) -> RecordValue {
        RecordValue {
            fv: STORE_FORMAT_VERSION,
            record: record.clone(),
            state: RecordState::Pending { op_id: op.op_id, author: op.author },
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct OutboxValue {
    pub(super) fv: u32,
    pub(super) op: OpEnvelope,
    pub(super) enqueued_at: DateTime<Utc>,
}

/// The author of a queued op, read without parsing the rest of the entry.
#[derive(Deserialize)]
pub(super) struct OutboxAuthor {
    pub(super) op: OpAuthor,
}

#[derive(Deserialize)]
pub(super) struct OpAuthor {
    pub(super) author: Uuid,
}

#[derive(Serialize, Deserialize)]
pub(super) struct QuarantineValue {
    pub(super) fv: u32,
    pub(super) seq: u64,
    pub(super) op: OpEnvelope,
    pub(super) code: String,
    pub(super) message: String,
    #[serde(default)]
    pub(super) current: Option<Record>,
    pub(super) quarantined_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Versioned<T> {
    pub(super) fv: u32,
    #[serde(flatten)]
    pub(super) value: T,
}

pub(super) type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

pub(super) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(super) fn enc<T: Serialize>(v: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(format!("encode: {e}")))
}

pub(super) fn dec<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(super) fn tx_err(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => backend(e),
    }
}

pub(super) fn seq_bytes(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

pub(super) fn seq_from(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

pub(super) fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

/// Associated data of a sealed value: its tree and its key.
pub(super) fn aad(tree: &str, key: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(tree.len() + 1 + key.len());
    a.extend_from_slice(tree.as_bytes());
    a.push(0);
    a.extend_from_slice(key);
    a
}

/// The sealed bytes of `v` stored under `key` in `tree`.
pub(super) fn seal_in<T: Serialize>(vault: &Vault, tree: &str, key: &[u8], v: &T) -> StoreResult<Vec<u8>> {
    let plain = zeroize::Zeroizing::new(enc(v)?);
    vault.seal(&aad(tree, key), &plain)
}

/// The value sealed under `key` in `tree`.
pub(super) fn unseal_in<T: DeserializeOwned>(
    vault: &Vault,
    what: &str,
    tree: &str,
    key: &[u8],
    bytes: &[u8],
) -> StoreResult<T> {
    let plain = vault.open(what, &aad(tree, key), bytes)?;
    dec(what, &plain)
}

pub(super) fn to_entry(seq: u64, v: OutboxValue) -> OutboxEntry {
    OutboxEntry { seq, op: v.op, enqueued_at: v.enqueued_at }
}
