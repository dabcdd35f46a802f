//! Case numbers (案件编号) and the blocks they are reserved in: a phone numbers
//! the cases it reports offline from blocks the server hands it per device.

use crate::policy::Policy;

/// The largest case-number block a policy may set (`disputes.case_block_size`):
/// an index has three digits. A block reserved before block sizes were kept
/// accepts indexes below this.
pub const MAX_CASE_BLOCK_SIZE: u32 = 1000;

/// How much of one reserved case-number block has been used: the server counts a
/// number as used when a `report_dispute` citing it is accepted (each number is
/// claimed once; later updates of the same dispute do not count again).
///
/// A block is *outstanding* while it has unused numbers. A user may hold at most
/// `disputes.max_open_case_blocks` outstanding blocks of a year; a phone keeps
/// one in use and one spare, so the cap only stops runaway reservations. Numbers
/// are never handed back, so a block a phone lost stays outstanding: the cap is a
/// per-year bound and the year's turn frees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseBlockUse {
    /// Numbers of the block used by accepted disputes.
    pub used: u32,
    /// The block's size when it was reserved (`None` for a block reserved before
    /// sizes were kept: the policy's size then counts).
    pub size: Option<u32>,
}

impl CaseBlockUse {
    /// Whether the block still has unused numbers (of its own size).
    pub fn outstanding(self, policy: &Policy) -> bool {
        self.used < self.size.unwrap_or(policy.disputes.case_block_size)
    }
}

/// Whether a user holding `outstanding` outstanding blocks of a year may reserve
/// another ([`CaseBlockUse`]).
pub fn may_reserve_case_block(outstanding: usize, policy: &Policy) -> bool {
    outstanding < policy.disputes.max_open_case_blocks as usize
}

/// A parsed case number: `{town code}{village code}-{year}-{block:04}-{index:03}`,
/// e.g. `T01V02-2026-0007-013`. Blocks are reserved from the server per device, so
/// phones number cases offline without collisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumber {
    /// Town and village codes of the origin, e.g. `T01V02`.
    pub prefix: String,
    /// Year of the block.
    pub year: i32,
    /// Block number (unique per year).
    pub block: u32,
    /// Index within the block, from 0.
    pub index: u32,
}

/// The case-number prefix of a dispute arising in a unit: its town's code then its
/// village's code (e.g. `T01V02`), from the unit's chain of units (any order).
pub fn case_prefix(chain: &[crate::model::org::OrgUnit]) -> Option<String> {
    use crate::model::org::UnitLevel;
    let town = chain.iter().find(|u| u.level == UnitLevel::Town)?;
    let village = chain.iter().find(|u| u.level == UnitLevel::Village)?;
    Some(format!("{}{}", town.code, village.code))
}

impl CaseNumber {
    /// Formats a case number.
    pub fn format(&self) -> String {
        format!("{}-{}-{:04}-{:03}", self.prefix, self.year, self.block, self.index)
    }

    /// Parses one; `None` if malformed.
    pub fn parse(s: &str) -> Option<CaseNumber> {
        let mut it = s.split('-');
        let (prefix, year, block, index) = (it.next()?, it.next()?, it.next()?, it.next()?);
        if it.next().is_some()
            || prefix.is_empty()
            || prefix.len() > 32
            || !prefix.bytes().all(|b| b.is_ascii_alphanumeric())
            || year.len() != 4
        {
            return None;
        }
        Some(CaseNumber {
            prefix: prefix.into(),
            year: year.parse().ok()?,
            block: block.parse().ok()?,
            index: index.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers_roundtrip_and_reject_garbage() {
        let c = CaseNumber { prefix: "T01V02".into(), year: 2026, block: 7, index: 13 };
        assert_eq!(c.format(), "T01V02-2026-0007-013");
        assert_eq!(CaseNumber::parse(&c.format()), Some(c));
        for bad in ["", "T01V02-2026-7", "T01V02-26-0007-013", "T0 1-2026-0007-013", "A-2026-x-1", "A-2026-1-1-1"] {
            assert_eq!(CaseNumber::parse(bad), None, "{bad}");
        }
    }
}
