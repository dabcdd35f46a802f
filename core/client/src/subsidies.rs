//! "My subsidies" (一案一补): the signed-in mediator's (or legal advisor's)
//! per-case subsidies as pulled to the phone, with their status, the overdue
//! flag and totals, plus an estimate for their own resolved cases whose
//! subsidy has not reached the phone yet. Readable offline after a sync.
//!
//! The server delivers each payee's own subsidies through their personal feed;
//! the phone stores them like any record and shows only the user's own (a
//! county admin's phone may hold others', which are never shown here).

use chrono::{DateTime, Utc};
use fengqiao_domain::disputes::{ClosingOutcome, Dispute};
use fengqiao_domain::model::credit::case_payee_shares;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::subsidy::{
    estimate_fen, is_overdue, payee_order, subsidy_id, subsidy_reason_zh, totals, Subsidy, SubsidyStatus, SubsidyTotals,
};
pub use fengqiao_domain::subsidy::{StatusTotal, SubsidyTotal};
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};

/// One of the user's subsidies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsidyItem {
    /// The subsidy as the server keeps it (amount in fen; `reason` if returned
    /// or rejected).
    pub subsidy: Subsidy,
    /// Approved but unpaid past the policy's days (`is_overdue`).
    pub overdue: bool,
    /// Why it was returned or rejected, as the reader sees it: a missing
    /// case-file item by its Chinese label (`subsidy_reason_zh`); empty if none.
    pub reason_text: String,
    /// The amount is final (the file passed review, or later); before that it
    /// is an estimate of the county's formula.
    pub is_final: bool,
}

/// What a case the user resolved should pay them, before its subsidy reaches
/// the phone (closed here and not yet synced, or not yet accrued by the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsidyEstimate {
    /// The dispute.
    pub dispute_id: Uuid,
    /// Its case number.
    pub case_number: String,
    /// The user's share of the full-quality amount, in fen (`estimate_fen`,
    /// split across the credited levels by `case_payee_shares`).
    pub amount_fen: i64,
    /// When it was closed.
    pub closed_at: DateTime<Utc>,
}

/// The user's subsidies with totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MySubsidies {
    /// Overdue first, then newest accrual first.
    pub items: Vec<SubsidyItem>,
    /// Totals by month of accrual (county zone) and status, oldest month first
    /// (the domain's `totals`).
    pub by_month: Vec<SubsidyTotal>,
    /// Totals by status over all months, in the lifecycle's order.
    pub by_status: Vec<StatusTotal>,
    /// Sum of every item, in fen (rejected ones excluded).
    pub total_fen: i64,
    /// Owed and not yet paid, in fen (the domain's `SubsidyStatus::is_owed`).
    pub owed_fen: i64,
    /// Paid, in fen.
    pub paid_fen: i64,
    /// How many items are overdue (approved and unpaid past the county's days).
    pub overdue_count: u32,
    /// Resolved cases whose subsidy is not on the phone yet, newest first.
    pub estimates: Vec<SubsidyEstimate>,
}

/// Builds the view from the user's subsidies and the disputes on the phone.
pub(crate) fn summarise(
    user: Uuid,
    subsidies: Vec<Subsidy>,
    disputes: &[Dispute],
    now: DateTime<Utc>,
    policy: &Policy,
) -> MySubsidies {
    let mine: Vec<Subsidy> = subsidies.into_iter().filter(|s| s.payee == user).collect();
    let SubsidyTotals { by_month, by_status, total_fen, owed_fen, paid_fen } = totals(&mine, policy.zone());
    let known: std::collections::HashSet<Uuid> = mine.iter().map(|s| s.id).collect();
    let mut estimates: Vec<SubsidyEstimate> = disputes
        .iter()
        .filter_map(|d| {
            let closing = d.closing.as_ref().filter(|c| c.outcome == ClosingOutcome::Resolved)?;
            if !d.payees.contains(&user) || known.contains(&subsidy_id(d.id, user)) {
                return None;
            }
            let shares = case_payee_shares(d, estimate_fen(d, policy)?, policy)?;
            let share = shares.into_iter().find(|(p, _)| *p == user).map(|(_, a)| a)?;
            Some(SubsidyEstimate {
                dispute_id: d.id,
                case_number: d.case_number.clone(),
                amount_fen: share,
                closed_at: closing.closed_at,
            })
        })
        .collect();
    estimates.sort_by_key(|e| std::cmp::Reverse((e.closed_at, e.dispute_id)));
    let mut items: Vec<SubsidyItem> = mine
        .into_iter()
        .map(|s| SubsidyItem {
            overdue: is_overdue(&s, now, policy),
            reason_text: subsidy_reason_zh(&s.reason, policy),
            is_final: matches!(s.status, SubsidyStatus::Approved | SubsidyStatus::Batched | SubsidyStatus::Paid),
            subsidy: s,
        })
        .collect();
    items.sort_by_cached_key(|i| payee_order(&i.subsidy, i.overdue));
    let overdue_count = u32::try_from(items.iter().filter(|i| i.overdue).count()).unwrap_or(u32::MAX);
    MySubsidies { items, by_month, by_status, total_fen, owed_fen, paid_fen, overdue_count, estimates }
}

impl FieldClient {
    /// The signed-in user's own subsidies as last pulled (never another
    /// user's), with the overdue flag, totals by month (county zone) and
    /// status, and estimates for the cases they resolved whose subsidy has not
    /// arrived yet. Offline.
    pub fn my_subsidies(&self) -> Result<MySubsidies, ClientError> {
        let run = || -> Result<MySubsidies, Error> { self.my_subsidies_inner(self.session()?.user.id) };
        Ok(run()?)
    }

    /// [`my_subsidies`](Self::my_subsidies) of `user`, the session already checked.
    pub(crate) fn my_subsidies_inner(&self, user: uuid::Uuid) -> Result<MySubsidies, Error> {
        {
            let subsidies = self
                .store
                .list_records(EntityKind::Subsidy, usize::MAX)?
                .into_iter()
                .filter_map(|r| match r.record {
                    Record::Subsidy(s) => Some(s),
                    _ => None,
                })
                .collect();
            let disputes: Vec<Dispute> = self
                .store
                .list_records(EntityKind::Dispute, usize::MAX)?
                .into_iter()
                .filter(|r| r.shown_to(user))
                .filter_map(|r| match r.record {
                    Record::Dispute(d) => Some(d),
                    _ => None,
                })
                .collect();
            Ok(summarise(user, subsidies, &disputes, self.options.clock.now(), &self.policy()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use fengqiao_domain::disputes::{Analysis, Closing, Difficulty};
    use fengqiao_domain::ladder::{Grade, Level};

    fn subsidy(payee: Uuid, status: SubsidyStatus, fen: i64, accrued: DateTime<Utc>) -> Subsidy {
        Subsidy {
            id: Uuid::now_v7(),
            dispute_id: Some(Uuid::now_v7()),
            consultation_id: None,
            case_number: "T01V01-2026-0001-000".into(),
            payee,
            amount_fen: fen,
            status,
            accrued_at: accrued,
            approved_at: matches!(status, SubsidyStatus::Approved).then_some(accrued),
            batch_id: None,
            paid_at: None,
            payment_ref: String::new(),
            reason: String::new(),
        }
    }

    fn resolved(payees: Vec<Uuid>, closed_at: DateTime<Utc>) -> Dispute {
        Dispute {
            id: Uuid::now_v7(),
            case_number: "T01V01-2026-0001-001".into(),
            kind: "mass".into(),
            origin_unit: Uuid::nil(),
            parties: vec![],
            summary: "x".into(),
            grade: Grade::Larger,
            analysis: Analysis { cause: String::new(), consequences: String::new(), difficulty: Difficulty::Medium },
            found_at: closed_at,
            lead_id: None,
            reported_by: Uuid::nil(),
            level: Level::Village,
            handler_unit: Uuid::nil(),
            level_since: closed_at,
            registered_at: closed_at,
            pending_escalation: None,
            closing: Some(Closing {
                outcome: ClosingOutcome::Resolved,
                note: String::new(),
                closed_by: Uuid::nil(),
                closed_at,
                level: Level::Village,
            }),
            flow_count: 0,
            case_file: vec![],
            credited: payees.clone(),
            earlier_credit: vec![],
            payees,
            deadline_floor: None,
            policy_version: String::new(),
            deadlines: None,
        }
    }

    #[test]
    fn only_the_users_own_with_totals_by_county_month_and_status() {
        let p = Policy::default();
        let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
        // 16:30 UTC on 31 May is already 1 June in Asia/Shanghai
        let late_may = Utc.with_ymd_and_hms(2026, 5, 31, 16, 30, 0).unwrap();
        let mid_may = Utc.with_ymd_and_hms(2026, 5, 10, 2, 0, 0).unwrap();
        let approved_long_ago = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 6, 2, 0, 0, 0).unwrap();
        let all = vec![
            subsidy(me, SubsidyStatus::Accrued, 10_000, late_may),
            subsidy(me, SubsidyStatus::Accrued, 25_000, mid_may),
            subsidy(me, SubsidyStatus::Approved, 8_000, approved_long_ago),
            subsidy(me, SubsidyStatus::Rejected, 5_000, mid_may),
            subsidy(other, SubsidyStatus::Paid, 99_999, mid_may),
        ];
        let v = summarise(me, all, &[], now, &p);
        assert_eq!(v.items.len(), 4, "another payee's subsidy is never shown");
        assert!(v.items.iter().all(|i| i.subsidy.payee == me));
        assert!(v.items[0].overdue && v.items[0].subsidy.amount_fen == 8_000, "overdue first");
        assert_eq!(v.items[1].subsidy.accrued_at, late_may, "then newest first");
        assert_eq!(v.total_fen, 43_000, "rejected ones are not counted");
        assert_eq!((v.owed_fen, v.paid_fen, v.overdue_count), (43_000, 0, 1), "all owed, one overdue");
        let months: Vec<(&str, SubsidyStatus, u32, i64)> =
            v.by_month.iter().map(|t| (t.month.as_str(), t.status, t.count, t.total_fen)).collect();
        assert_eq!(
            months,
            vec![
                ("2026-03", SubsidyStatus::Approved, 1, 8_000),
                ("2026-05", SubsidyStatus::Accrued, 1, 25_000),
                ("2026-05", SubsidyStatus::Rejected, 1, 5_000),
                ("2026-06", SubsidyStatus::Accrued, 1, 10_000),
            ]
        );
        let statuses: Vec<(SubsidyStatus, u32, i64)> =
            v.by_status.iter().map(|t| (t.status, t.count, t.total_fen)).collect();
        assert_eq!(
            statuses,
            vec![
                (SubsidyStatus::Accrued, 2, 35_000),
                (SubsidyStatus::Approved, 1, 8_000),
                (SubsidyStatus::Rejected, 1, 5_000)
            ]
        );
    }

    #[test]
    fn resolved_cases_without_their_subsidy_are_estimated_by_the_formula() {
        let p = Policy::default();
        let (me, partner, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let now = Utc.with_ymd_and_hms(2026, 6, 2, 0, 0, 0).unwrap();
        let alone = resolved(vec![me], now - Duration::days(2));
        let shared = resolved(vec![me, partner], now - Duration::days(1));
        let not_mine = resolved(vec![other], now);
        let mut paid_already = resolved(vec![me], now);
        paid_already.kind = "family".into();
        let mut s = subsidy(me, SubsidyStatus::Accrued, 1, now);
        s.id = subsidy_id(paid_already.id, me);
        let mut unresolved = resolved(vec![me], now);
        if let Some(c) = unresolved.closing.as_mut() {
            c.outcome = ClosingOutcome::NotResolved;
        }
        let v = summarise(me, vec![s], &[alone.clone(), shared.clone(), not_mine, paid_already, unresolved], now, &p);
        // larger (20000) + medium difficulty (5000) at full quality + mass bonus (10000)
        let full = fengqiao_domain::subsidy::amount_fen(Grade::Larger, Difficulty::Medium, "mass", 100, &p);
        assert_eq!(full, Some(35_000));
        let got: Vec<(Uuid, i64)> = v.estimates.iter().map(|e| (e.dispute_id, e.amount_fen)).collect();
        assert_eq!(got, vec![(shared.id, 17_500), (alone.id, 35_000)], "newest first, shares split");
        assert_eq!(v.items.len(), 1);
    }
}
