//! The four-level ladder (四级逐调): a dispute's grade, which moves between levels
//! are allowed, and the deadline at each grade; the levels themselves, with the one
//! rule table of who acts and who approves at each, are [`Level`]. Used by the phone
//! (to offer only what will be accepted) and by the server (as the authority).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::{DeadlinePolicy, Policy};

pub use crate::model::level::Level;

/// Grade of a dispute (一般 / 较大 / 重大).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 一般
    General,
    /// 较大
    Larger,
    /// 重大
    Major,
}

impl Grade {
    /// The Chinese term.
    pub fn label_zh(self) -> &'static str {
        match self {
            Grade::General => "一般",
            Grade::Larger => "较大",
            Grade::Major => "重大",
        }
    }
}

/// Whether a move from `from` to `to` is allowed for a dispute of `grade`: one
/// step up always; more than one step only for a major dispute (with a reason).
pub fn move_allowed(from: Level, to: Level, grade: Grade) -> Result<(), &'static str> {
    if to <= from {
        return Err("上报层级：只能向上一级上报，不能平级或向下");
    }
    if from.next() == Some(to) || grade == Grade::Major {
        Ok(())
    } else {
        Err("上报层级：只有重大纠纷才能越级上报，其他纠纷须逐级上报")
    }
}

/// How near a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Time enough.
    Ok,
    /// Within the policy's warning days.
    Approaching,
    /// Past it.
    Overdue,
}

/// The deadline of a dispute of `grade` that entered its current level at `since`.
pub fn deadline(grade: Grade, since: DateTime<Utc>, policy: &Policy) -> DateTime<Utc> {
    deadline_in(grade, since, &policy.deadlines)
}

/// [`deadline`] by a given set of deadlines (a dispute's own: [`crate::disputes::Dispute::deadline`]).
pub fn deadline_in(grade: Grade, since: DateTime<Utc>, d: &DeadlinePolicy) -> DateTime<Utc> {
    let days = match grade {
        Grade::General => d.general_days,
        Grade::Larger => d.larger_days,
        Grade::Major => d.major_days,
    };
    since + Duration::days(days as i64)
}

/// Where `now` stands against a deadline (same on phone and server).
pub fn deadline_state(deadline: DateTime<Utc>, now: DateTime<Utc>, policy: &Policy) -> DeadlineState {
    deadline_state_in(deadline, now, &policy.deadlines)
}

/// [`deadline_state`] by a given set of deadlines.
pub fn deadline_state_in(deadline: DateTime<Utc>, now: DateTime<Utc>, d: &DeadlinePolicy) -> DeadlineState {
    if now >= deadline {
        DeadlineState::Overdue
    } else if deadline - now <= Duration::days(d.warn_days_before as i64) {
        DeadlineState::Approaching
    } else {
        DeadlineState::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::org::Role;
    use chrono::TimeZone;

    #[test]
    fn one_step_always_skip_only_for_major() {
        assert!(move_allowed(Level::Group, Level::Village, Grade::General).is_ok());
        assert!(move_allowed(Level::Group, Level::JudicialOffice, Grade::Larger).is_err());
        assert!(move_allowed(Level::Group, Level::Town, Grade::Major).is_ok());
        assert!(move_allowed(Level::Village, Level::Village, Grade::Major).is_err());
        assert!(move_allowed(Level::Town, Level::Village, Grade::Major).is_err());
    }

    #[test]
    fn approvers_follow_the_table() {
        assert_eq!(Level::Village.approvers(), &[Role::VillageSecretary, Role::FirstSecretary]);
        assert_eq!(Level::JudicialOffice.approvers(), &[Role::JudicialOffice]);
        assert_eq!(Level::Town.approvers(), &[Role::TownCommittee]);
        assert!(!Level::Village.approvers().contains(&Role::GroupLeader));
    }

    #[test]
    fn deadlines_by_grade_with_warnings_at_the_boundary() {
        let p = Policy::default();
        let since = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        let due = deadline(Grade::General, since, &p);
        assert_eq!(due, Utc.with_ymd_and_hms(2026, 5, 8, 0, 0, 0).unwrap());
        assert_eq!(deadline(Grade::Larger, since, &p) - since, Duration::days(15));
        assert_eq!(deadline(Grade::Major, since, &p) - since, Duration::days(20));
        let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 5, d, h, 0, 0).unwrap();
        assert_eq!(deadline_state(due, at(5, 23), &p), DeadlineState::Ok);
        assert_eq!(deadline_state(due, at(6, 0), &p), DeadlineState::Approaching, "two days before");
        assert_eq!(deadline_state(due, at(7, 23), &p), DeadlineState::Approaching);
        assert_eq!(deadline_state(due, at(8, 0), &p), DeadlineState::Overdue);
    }
}
