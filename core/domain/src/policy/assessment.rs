//! The township's monthly assessment of its villages (乡镇考核各村化解纠纷、维护稳定
//! 指标): how a village settled its disputes, whether it screened, whether it kept
//! its open disputes on time.
//!
//! The rule (weights from the policy's `[screening.assessment]`, percent):
//!
//! - **Settled locally** (组、村两级化解): of the disputes closed in the month, the
//!   share resolved in the group or the village. *Not applicable* when the village
//!   closed none — a village without disputes is neither best nor worst at settling.
//! - **Screening** (一月一排查): the share of the month's screening periods the
//!   village filed. Nothing filed earns nothing. *Not applicable* only when the
//!   month has no period.
//! - **On time**: of the disputes open at the report's "as of" time, the share not
//!   overdue. *Not applicable* when none is open.
//!
//! The score (0–1000) is the weighted mean of the parts that apply: each part's
//! per mille times its weight, divided by the sum of the weights of those parts.
//! A village to which no part applies scores 0. So a village is ranked by what it
//! did: one with no disputes that filed no screening scores 0, and one with no
//! disputes that screened fully scores as well as one that settled everything
//! locally, on time, and screened.

use crate::policy::AssessmentWeights;

/// What a village did in the month, as counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VillageMonth {
    /// Disputes closed in the month.
    pub closed: u32,
    /// … of which resolved in the group or the village.
    pub closed_locally: u32,
    /// Screening periods of the month.
    pub periods: u32,
    /// … of which the village filed.
    pub periods_filed: u32,
    /// Disputes open at the "as of" time.
    pub open: u32,
    /// … of which overdue then.
    pub overdue: u32,
}

/// A village's assessment: the score and each part (`None`: not applicable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    /// Score 0–1000.
    pub score: u32,
    /// Settled locally, per mille of closed.
    pub settled_locally_permille: Option<u32>,
    /// Screening periods filed, per mille.
    pub screening_permille: Option<u32>,
    /// Open disputes not overdue, per mille.
    pub on_time_permille: Option<u32>,
}

fn share(part: u32, whole: u32) -> Option<u32> {
    (whole > 0).then(|| (u64::from(part.min(whole)) * 1000 / u64::from(whole)) as u32)
}

/// Assesses one village's month with the policy's weights (see the module doc).
pub fn assess(m: &VillageMonth, w: &AssessmentWeights) -> Assessment {
    let settled = share(m.closed_locally, m.closed);
    let screening = share(m.periods_filed, m.periods);
    let on_time = share(m.open.saturating_sub(m.overdue), m.open);
    let parts = [(settled, w.settled_locally), (screening, w.screening), (on_time, w.on_time)];
    let (sum, weights) = parts.iter().fold((0u64, 0u64), |(s, ws), (p, wt)| match p {
        Some(p) => (s + u64::from(*p) * u64::from(*wt), ws + u64::from(*wt)),
        None => (s, ws),
    });
    let score = sum.checked_div(weights).unwrap_or(0) as u32;
    Assessment { score, settled_locally_permille: settled, screening_permille: screening, on_time_permille: on_time }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> AssessmentWeights {
        AssessmentWeights::default()
    }

    #[test]
    fn a_village_that_did_nothing_scores_nothing() {
        let idle = VillageMonth { periods: 1, ..Default::default() };
        let a = assess(&idle, &w());
        assert_eq!(
            a,
            Assessment {
                score: 0,
                settled_locally_permille: None,
                screening_permille: Some(0),
                on_time_permille: None
            }
        );
    }

    #[test]
    fn screening_points_only_for_filed_periods() {
        let half = VillageMonth { periods: 2, periods_filed: 1, ..Default::default() };
        assert_eq!(assess(&half, &w()).score, 500);
        let full = VillageMonth { periods: 2, periods_filed: 2, ..Default::default() };
        assert_eq!(assess(&full, &w()).score, 1000);
    }

    #[test]
    fn parts_that_do_not_apply_are_left_out_of_the_mean() {
        // settled 1 of 2 locally, screened, one open on time: (50*500 + 30*1000 + 20*1000) / 100
        let busy = VillageMonth { closed: 2, closed_locally: 1, periods: 1, periods_filed: 1, open: 1, overdue: 0 };
        assert_eq!(assess(&busy, &w()).score, 750);
        // everything closed locally, nothing open, not screened: (50*1000 + 30*0) / 80
        let no_screen = VillageMonth { closed: 1, closed_locally: 1, periods: 1, ..Default::default() };
        assert_eq!(assess(&no_screen, &w()).score, 625);
        // one open and overdue, nothing closed, screened: (30*1000 + 20*0) / 50
        let late = VillageMonth { periods: 1, periods_filed: 1, open: 1, overdue: 1, ..Default::default() };
        assert_eq!(assess(&late, &w()).score, 600);
        assert_eq!(assess(&VillageMonth::default(), &w()).score, 0, "nothing to assess");
    }
}
