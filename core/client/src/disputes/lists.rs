//! The dispute lists: which disputes each list holds ([`DisputeFilter`], the
//! meaning of "my disputes") and their order ([`dispute_order`]). Both are the
//! core's; the apps show what [`FieldClient::disputes`] returns as it comes.

use std::cmp::Ordering;

use fengqiao_domain::ladder::DeadlineState;
use fengqiao_domain::EntityKind;
use uuid::Uuid;

use super::DisputeItem;
use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::ops::actor_of;
use crate::store::StoredSession;

/// Which disputes a list holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DisputeFilter {
    /// Every dispute on this phone: the user's jurisdiction as pulled, and
    /// their own not yet synced.
    #[default]
    All,
    /// "My disputes": those the user handles at their current level, and those
    /// they reported (wherever the case went since), open or closed.
    Mine,
    /// Open disputes past their level's deadline.
    Overdue,
}

impl DisputeFilter {
    /// Whether `item` belongs in this list for `user`.
    pub fn keeps(self, item: &DisputeItem, user: Uuid) -> bool {
        match self {
            DisputeFilter::All => true,
            DisputeFilter::Mine => item.handled_by_me || item.dispute.reported_by == user,
            DisputeFilter::Overdue => item.deadline_state == Some(DeadlineState::Overdue),
        }
    }
}

/// The order of every dispute list: open ones first, the soonest deadline
/// first; then closed ones, the latest deadline first; on a tie, the newest
/// made first.
pub fn dispute_order(a: &DisputeItem, b: &DisputeItem) -> Ordering {
    let (a_closed, b_closed) = (a.dispute.closing.is_some(), b.dispute.closing.is_some());
    let by_deadline = match (a_closed, b_closed) {
        (false, false) => a.deadline.cmp(&b.deadline),
        (true, true) => b.deadline.cmp(&a.deadline),
        _ => a_closed.cmp(&b_closed),
    };
    by_deadline.then_with(|| b.dispute.id.cmp(&a.dispute.id))
}

impl FieldClient {
    /// The disputes `filter` holds, in [`dispute_order`]. Offline.
    pub fn disputes(&self, filter: DisputeFilter) -> Result<Vec<DisputeItem>, ClientError> {
        let run = || -> Result<Vec<DisputeItem>, Error> { self.dispute_items(&self.session()?, filter) };
        Ok(run()?)
    }

    /// Every dispute on this phone (see [`DisputeFilter::All`]), in [`dispute_order`].
    pub fn list_disputes(&self) -> Result<Vec<DisputeItem>, ClientError> {
        self.disputes(DisputeFilter::All)
    }

    /// The user's disputes (see [`DisputeFilter::Mine`]), in [`dispute_order`].
    pub fn my_disputes(&self) -> Result<Vec<DisputeItem>, ClientError> {
        self.disputes(DisputeFilter::Mine)
    }

    pub(crate) fn dispute_items(
        &self,
        session: &StoredSession,
        filter: DisputeFilter,
    ) -> Result<Vec<DisputeItem>, Error> {
        let view = self.optimistic_view(session)?;
        let actor = actor_of(session);
        let quarantined = self.quarantined_ops()?;
        let user = session.user.id;
        let mut out = Vec::new();
        for local in self.store.list_records(EntityKind::Dispute, usize::MAX)? {
            if local.shown_to(user) {
                out.extend(self.item(&view, &actor, &local, &quarantined)?.filter(|i| filter.keeps(i, user)));
            }
        }
        out.sort_by(dispute_order);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use fengqiao_domain::disputes::{Analysis, Closing, ClosingOutcome, Difficulty, Dispute};
    use fengqiao_domain::ladder::{Grade, Level};

    use super::*;

    const ME: u128 = 1;

    fn item(n: u128, deadline_day: i64, closed: bool, handled: bool, reporter: u128, overdue: bool) -> DisputeItem {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        let deadline = epoch + Duration::days(deadline_day);
        DisputeItem {
            dispute: Dispute {
                id: Uuid::from_u128(n),
                case_number: String::new(),
                kind: "neighbour".into(),
                origin_unit: Uuid::nil(),
                parties: vec![],
                summary: format!("{n}"),
                grade: Grade::General,
                analysis: Analysis { cause: String::new(), consequences: String::new(), difficulty: Difficulty::Low },
                found_at: epoch,
                lead_id: None,
                reported_by: Uuid::from_u128(reporter),
                level: Level::Group,
                handler_unit: Uuid::nil(),
                level_since: epoch,
                registered_at: epoch,
                pending_escalation: None,
                closing: closed.then(|| Closing {
                    outcome: ClosingOutcome::Resolved,
                    note: String::new(),
                    closed_by: Uuid::from_u128(reporter),
                    closed_at: deadline,
                    level: Level::Group,
                }),
                flow_count: 0,
                case_file: vec![],
                credited: vec![],
                earlier_credit: vec![],
                payees: vec![],
                deadline_floor: None,
                policy_version: String::new(),
                deadlines: None,
            },
            deadline,
            deadline_state: (!closed).then_some(if overdue { DeadlineState::Overdue } else { DeadlineState::Ok }),
            pending_escalation: None,
            handled_by_me: handled,
            pending: false,
            quarantined: false,
        }
    }

    /// The one rule of "my disputes" and of the lists' order, as the apps
    /// show them: handled by me or reported by me, open or closed.
    #[test]
    fn my_disputes_are_those_i_handle_or_reported_open_ones_first_by_deadline() {
        let items = [
            item(1, 30, false, true, 9, false),  // I handle it
            item(2, 10, false, false, ME, true), // I reported it; it moved up to others (overdue)
            item(3, 5, false, false, 9, true),   // neither
            item(4, 50, true, true, 9, false),   // closed, I handled it
            item(5, 70, true, false, ME, false), // closed, I reported it
            item(6, 30, false, true, ME, false), // same deadline as 1, made later
        ];
        let list = |f: DisputeFilter| {
            let mut l: Vec<DisputeItem> = items.iter().filter(|i| f.keeps(i, Uuid::from_u128(ME))).cloned().collect();
            l.sort_by(dispute_order);
            l.iter().map(|i| i.dispute.id.as_u128()).collect::<Vec<_>>()
        };
        assert_eq!(list(DisputeFilter::All), vec![3, 2, 6, 1, 5, 4]);
        assert_eq!(list(DisputeFilter::Mine), vec![2, 6, 1, 5, 4]);
        assert_eq!(list(DisputeFilter::Overdue), vec![3, 2]);
    }
}
