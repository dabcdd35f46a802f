//! Case-number blocks held on the phone: reserved from the server during sync,
//! spent offline one index at a time. The index a dispute takes is advanced in
//! the same transaction that saves the dispute and its operation, so a number is
//! never handed out twice, even across a crash.

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::OpEnvelope;
use fengqiao_domain::Record;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StoreResult;

/// A block of case numbers reserved from the server for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldCaseBlock {
    /// The user the server reserved it for (only they may number with it).
    pub owner: Uuid,
    /// Year of the block.
    pub year: i32,
    /// Block number (unique per year on the server).
    pub block: u32,
    /// Numbers in the block (indexes `0..size`).
    pub size: u32,
    /// The next index not yet taken.
    pub next: u32,
}

impl HeldCaseBlock {
    /// Numbers still free in this block.
    pub fn remaining(&self) -> u32 {
        self.size.saturating_sub(self.next)
    }
}

/// One case number taken from a held block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseClaim {
    /// The block's owner (the dispute's reporter).
    pub owner: Uuid,
    /// Year of the block.
    pub year: i32,
    /// Block number.
    pub block: u32,
    /// The index taken: must be the block's `next`.
    pub index: u32,
}

/// Case-number storage; every [`super::ClientStore`] implements it.
pub trait CaseNumberStore {
    /// `owner`'s blocks that still have free numbers, oldest reservation first.
    fn case_blocks(&self, owner: Uuid) -> StoreResult<Vec<HeldCaseBlock>>;
    /// Keeps a newly reserved block (durably). `false`, changing nothing, if a
    /// block with that year and number is already held.
    fn add_case_block(&self, block: &HeldCaseBlock) -> StoreResult<bool>;
    /// [`super::ClientStore::enqueue`] that also takes the claimed number, in one
    /// transaction: the claim must be its block's next free index (the block
    /// then moves on by one; an exhausted block is forgotten). `Ok(None)`,
    /// changing nothing, if the claim is stale (taken meanwhile, or no such block).
    fn enqueue_claiming(
        &self,
        record: &Record,
        op: &OpEnvelope,
        claim: &CaseClaim,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<u64>>;
}

/// Takes `claim` from `blocks` in place: `false` (changing nothing) if stale.
pub(crate) fn take(blocks: &mut Vec<HeldCaseBlock>, claim: &CaseClaim) -> bool {
    let Some(i) = blocks.iter().position(|b| b.owner == claim.owner && b.year == claim.year && b.block == claim.block)
    else {
        return false;
    };
    if blocks[i].next != claim.index || claim.index >= blocks[i].size {
        return false;
    }
    blocks[i].next += 1;
    if blocks[i].remaining() == 0 {
        blocks.remove(i);
    }
    true
}

/// Adds `block` unless one with its year and number is held: whether added.
pub(crate) fn add(blocks: &mut Vec<HeldCaseBlock>, block: &HeldCaseBlock) -> bool {
    if blocks.iter().any(|b| b.year == block.year && b.block == block.block) || block.remaining() == 0 {
        return false;
    }
    blocks.push(block.clone());
    true
}

/// `owner`'s blocks with free numbers, in the order held.
pub(crate) fn of_owner(blocks: &[HeldCaseBlock], owner: Uuid) -> Vec<HeldCaseBlock> {
    blocks.iter().filter(|b| b.owner == owner && b.remaining() > 0).cloned().collect()
}
