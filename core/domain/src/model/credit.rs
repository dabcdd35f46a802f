//! Credit for a case across the ladder's levels, and the split of its one
//! subsidy among them (docs/adr/0027-credit-across-levels.md).
//!
//! Every level a dispute passes through keeps the mediators credited in its
//! sessions. When the case closes resolved, its one subsidy is split: the level
//! that resolved it gets the policy's `subsidy.resolving_level_percent` (rounded
//! down to the fen), the lower credited levels share the rest equally (remainder
//! fen one each to the lowest levels first), and within a level the share is
//! split equally among its paid mediators (remainder fen one each to the first
//! credited). A level with nobody paid (only civil servants credited) keeps its
//! credit in the statistics; its share is not paid. A single credited level gets
//! the whole amount. The level shares always sum exactly to the case amount.

use uuid::Uuid;

pub use crate::model::disputes::LevelCredit;

use crate::model::ladder::Level;
use crate::model::subsidy::split;

/// The credit of every level a dispute has been handled at: those it left
/// (`earlier`, lowest first) then its current level (`current` credited), merged
/// by level, levels with nobody credited left out.
pub fn all_levels(earlier: &[LevelCredit], current_level: Level, current: &[Uuid]) -> Vec<LevelCredit> {
    let mut out: Vec<LevelCredit> = Vec::new();
    let entries = earlier.iter().map(|c| (c.level, c.mediators.as_slice())).chain([(current_level, current)]);
    for (level, mediators) in entries {
        if mediators.is_empty() {
            continue;
        }
        let at = match out.iter().position(|c| c.level == level) {
            Some(i) => i,
            None => {
                out.push(LevelCredit { level, mediators: vec![] });
                out.len() - 1
            }
        };
        for m in mediators {
            if !out[at].mediators.contains(m) {
                out[at].mediators.push(*m);
            }
        }
    }
    out.sort_by_key(|c| c.level);
    out
}

/// Each credited level's share of `amount_fen` (same order as `levels`): the
/// resolving level `resolving_percent` (rounded down), the others the rest,
/// equally, the remainder fen one each to the lowest first. Sums exactly to
/// `amount_fen`; `None` if the arithmetic overflows or `resolving_percent` > 100.
pub fn level_shares(
    amount_fen: i64,
    levels: &[LevelCredit],
    resolving: Level,
    resolving_percent: u32,
) -> Option<Vec<i64>> {
    if resolving_percent > 100 {
        return None;
    }
    let lower = levels.iter().filter(|c| c.level != resolving).count();
    let resolving_present = levels.iter().any(|c| c.level == resolving);
    let top = if !resolving_present {
        0
    } else if lower == 0 {
        amount_fen
    } else {
        amount_fen.checked_mul(i64::from(resolving_percent))?.checked_div(100)?
    };
    let mut rest = split(amount_fen.checked_sub(top)?, lower).into_iter();
    let shares: Vec<i64> =
        levels.iter().map(|c| if c.level == resolving { top } else { rest.next().unwrap_or(0) }).collect();
    Some(shares)
}

/// What each payee is owed of a resolved case's `amount_fen`, in `payees`' order:
/// their level shares ([`level_shares`]) split equally among the paid
/// mediators credited at each level, summed over the levels they were credited
/// at. With no level credit (records from before credit was kept by level) the
/// payees share the amount equally. `None` if the arithmetic overflows.
pub fn payee_shares(
    amount_fen: i64,
    levels: &[LevelCredit],
    resolving: Level,
    payees: &[Uuid],
    resolving_percent: u32,
) -> Option<Vec<(Uuid, i64)>> {
    if levels.is_empty() {
        return Some(payees.iter().copied().zip(split(amount_fen, payees.len())).collect());
    }
    let mut owed: Vec<(Uuid, i64)> = payees.iter().map(|p| (*p, 0)).collect();
    for (credit, share) in levels.iter().zip(level_shares(amount_fen, levels, resolving, resolving_percent)?) {
        let paid: Vec<Uuid> = credit.mediators.iter().copied().filter(|m| payees.contains(m)).collect();
        for (who, part) in paid.iter().zip(split(share, paid.len())) {
            if let Some(slot) = owed.iter_mut().find(|(p, _)| p == who) {
                slot.1 = slot.1.checked_add(part)?;
            }
        }
    }
    Some(owed)
}

/// What each of a dispute's payees is owed of `amount_fen` under the policy
/// ([`payee_shares`] over the dispute's credit at every level); `None` if the
/// arithmetic overflows.
pub fn case_payee_shares(
    d: &crate::model::disputes::Dispute,
    amount_fen: i64,
    policy: &crate::policy::Policy,
) -> Option<Vec<(Uuid, i64)>> {
    let levels = all_levels(&d.earlier_credit, d.level, &d.credited);
    payee_shares(amount_fen, &levels, d.level, &d.payees, policy.subsidy.resolving_level_percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn credit(level: Level, ids: &[u128]) -> LevelCredit {
        LevelCredit { level, mediators: ids.iter().map(|n| id(*n)).collect() }
    }

    #[test]
    fn level_shares_sum_exactly_for_odd_amounts() {
        for amount in [0i64, 1, 2, 3, 7, 99, 10_001, 12_345, 33_333, 50_001, 100_000_000_000] {
            for pct in [0u32, 1, 33, 60, 99, 100] {
                for levels in [
                    vec![credit(Level::Village, &[1])],
                    vec![credit(Level::Group, &[1]), credit(Level::Village, &[2, 3])],
                    vec![
                        credit(Level::Group, &[1]),
                        credit(Level::Village, &[2, 3]),
                        credit(Level::JudicialOffice, &[4]),
                        credit(Level::Town, &[5, 6, 7]),
                    ],
                ] {
                    let resolving = levels.last().map(|c| c.level).unwrap_or(Level::Group);
                    let shares = level_shares(amount, &levels, resolving, pct).unwrap();
                    assert_eq!(shares.iter().sum::<i64>(), amount, "{amount} {pct}% {levels:?}");
                    let all: Vec<Uuid> = levels.iter().flat_map(|c| c.mediators.clone()).collect();
                    let owed = payee_shares(amount, &levels, resolving, &all, pct).unwrap();
                    assert_eq!(owed.iter().map(|(_, a)| a).sum::<i64>(), amount);
                }
            }
        }
    }

    #[test]
    fn resolving_level_takes_its_percent_lower_levels_the_rest() {
        // 10 001 fen, resolved at the village (60 %), the group credited below
        let levels = vec![credit(Level::Group, &[1]), credit(Level::Village, &[2, 3])];
        assert_eq!(level_shares(10_001, &levels, Level::Village, 60), Some(vec![4_001, 6_000]));
        let owed = payee_shares(10_001, &levels, Level::Village, &[id(2), id(3), id(1)], 60).unwrap();
        assert_eq!(owed, vec![(id(2), 3_000), (id(3), 3_000), (id(1), 4_001)]);
        // three lower levels share 4 001: remainder fen to the lowest first
        let levels = vec![
            credit(Level::Group, &[1]),
            credit(Level::Village, &[2]),
            credit(Level::JudicialOffice, &[3]),
            credit(Level::Town, &[4]),
        ];
        assert_eq!(level_shares(10_001, &levels, Level::Town, 60), Some(vec![1_334, 1_334, 1_333, 6_000]));
        // one level alone takes everything, whatever the percent
        assert_eq!(level_shares(10_001, &[credit(Level::Group, &[1])], Level::Group, 60), Some(vec![10_001]));
        assert_eq!(level_shares(1, &[credit(Level::Group, &[1])], Level::Group, 100), Some(vec![1]));
        assert_eq!(level_shares(1, &levels, Level::Town, 101), None);
        assert_eq!(level_shares(i64::MAX, &levels, Level::Town, 60), None, "overflow is refused, not wrapped");
    }

    #[test]
    fn a_level_of_unpaid_officials_keeps_credit_but_its_share_is_not_paid() {
        // group leader 1 tried; judicial office staff 9 resolved (not paid)
        let levels = vec![credit(Level::Group, &[1]), credit(Level::JudicialOffice, &[9])];
        let owed = payee_shares(20_001, &levels, Level::JudicialOffice, &[id(1)], 60).unwrap();
        assert_eq!(owed, vec![(id(1), 8_001)]);
        // someone credited at two levels is owed both parts
        let levels = vec![credit(Level::Village, &[1, 2]), credit(Level::Town, &[2])];
        let owed = payee_shares(10_000, &levels, Level::Town, &[id(2), id(1)], 60).unwrap();
        assert_eq!(owed, vec![(id(2), 8_000), (id(1), 2_000)]);
    }

    #[test]
    fn levels_merge_in_ladder_order_and_old_records_split_equally() {
        let earlier = vec![credit(Level::Group, &[1]), credit(Level::Village, &[])];
        let all = all_levels(&earlier, Level::Village, &[id(2), id(2)]);
        assert_eq!(all, vec![credit(Level::Group, &[1]), credit(Level::Village, &[2])]);
        assert_eq!(payee_shares(5, &[], Level::Town, &[id(1), id(2)], 60), Some(vec![(id(1), 3), (id(2), 2)]));
    }
}
