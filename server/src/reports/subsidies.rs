//! Subsidy views: a payee's own list with totals, and the county's ledger with
//! overdue ones first. Read from the change feed (latest version of each).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fengqiao_domain::policy::Policy;
pub use fengqiao_domain::subsidy::SubsidyTotal;
use fengqiao_domain::subsidy::{is_overdue, ledger_order, payee_order, Subsidy, SubsidyStatus};
use fengqiao_domain::{Record, RoleGrant};
use serde::Serialize;
use uuid::Uuid;

use super::render::Cell;
use crate::store::{Store, StoreResult};

/// The latest version of every subsidy visible to `grants` / `personal`.
pub fn subsidies(store: &dyn Store, grants: &[RoleGrant], personal: Option<Uuid>) -> StoreResult<Vec<Subsidy>> {
    let mut latest: BTreeMap<Uuid, Subsidy> = BTreeMap::new();
    let mut cursor = 0;
    loop {
        let page = store.pull(grants, personal, cursor, 1000)?;
        for c in page.changes {
            if let Some(Record::Subsidy(s)) = c.record {
                latest.insert(s.id, s);
            }
        }
        cursor = page.position;
        if !page.has_more {
            break;
        }
    }
    Ok(latest.into_values().collect())
}

/// A payee's subsidies with their overdue flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubsidyLine {
    /// The subsidy.
    #[serde(flatten)]
    pub subsidy: Subsidy,
    /// Approved but unpaid past the policy's days.
    pub overdue: bool,
}

/// "My subsidies": each case and totals by month and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MySubsidies {
    /// Overdue first, then newest accrual first (as the phone lists them).
    pub items: Vec<SubsidyLine>,
    /// Totals by month of accrual (county zone) and status: oldest month first,
    /// each month's statuses in the lifecycle's order.
    pub totals: Vec<SubsidyTotal>,
}

/// Ledger lines: overdue first, then the longest waiting first (the domain's
/// `ledger_order`).
pub fn lines(items: Vec<Subsidy>, now: DateTime<Utc>, policy: &Policy) -> Vec<SubsidyLine> {
    let mut out = flagged(items, now, policy);
    out.sort_by_cached_key(|l| ledger_order(&l.subsidy, l.overdue));
    out
}

/// A payee's own lines as the phone lists them: overdue first, then newest
/// first (the domain's `payee_order`).
pub fn payee_lines(items: Vec<Subsidy>, now: DateTime<Utc>, policy: &Policy) -> Vec<SubsidyLine> {
    let mut out = flagged(items, now, policy);
    out.sort_by_cached_key(|l| payee_order(&l.subsidy, l.overdue));
    out
}

fn flagged(items: Vec<Subsidy>, now: DateTime<Utc>, policy: &Policy) -> Vec<SubsidyLine> {
    items.into_iter().map(|s| SubsidyLine { overdue: is_overdue(&s, now, policy), subsidy: s }).collect()
}

/// Totals by month (county zone) and status: the domain's rule, as the phone
/// shows them.
pub fn totals(items: &[Subsidy], policy: &Policy) -> Vec<SubsidyTotal> {
    fengqiao_domain::subsidy::totals(items, policy.zone()).by_month
}

/// Ledger headers (Chinese).
pub const LEDGER_HEADERS: [&str; 9] =
    ["案件编号", "收款人", "金额(元)", "状态", "计提日期", "批准日期", "支付日期", "支付凭证", "逾期"];

/// A ledger row's cells; amounts in yuan with two decimals from integer fen.
pub fn ledger_cells(store: &dyn Store, lines: &[SubsidyLine], policy: &Policy) -> StoreResult<Vec<Vec<Cell>>> {
    let zone = policy.zone();
    let day = |t: Option<DateTime<Utc>>| {
        Cell::Text(t.map(|t| t.with_timezone(&zone).format("%Y-%m-%d").to_string()).unwrap_or_default())
    };
    let mut rows = Vec::with_capacity(lines.len());
    for l in lines {
        let s = &l.subsidy;
        let payee = store.user(s.payee)?.map(|u| u.display_name).unwrap_or_default();
        let status = match s.status {
            SubsidyStatus::Accrued => "待评查",
            SubsidyStatus::UnderReview => "退回补正",
            SubsidyStatus::Approved => "已批准",
            SubsidyStatus::Batched => "待支付",
            SubsidyStatus::Paid => "已支付",
            SubsidyStatus::Rejected => "不予补贴",
        };
        rows.push(vec![
            Cell::Text(s.case_number.clone()),
            Cell::Text(payee),
            Cell::Yuan(s.amount_fen),
            status.into(),
            day(Some(s.accrued_at)),
            day(s.approved_at),
            day(s.paid_at),
            Cell::Text(s.payment_ref.clone()),
            Cell::from(if l.overdue { "是" } else { "" }),
        ]);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use fengqiao_domain::subsidy::{Subsidy, SubsidyStatus};
    use uuid::Uuid;

    fn item(status: SubsidyStatus, fen: i64) -> Subsidy {
        Subsidy {
            id: Uuid::now_v7(),
            dispute_id: None,
            consultation_id: None,
            case_number: String::new(),
            payee: Uuid::nil(),
            amount_fen: fen,
            status,
            accrued_at: chrono::Utc.with_ymd_and_hms(2026, 5, 10, 2, 0, 0).unwrap(),
            approved_at: None,
            batch_id: None,
            paid_at: None,
            payment_ref: String::new(),
            reason: String::new(),
        }
    }

    /// The server's "my subsidies" totals are the phone's: one month's statuses in
    /// the lifecycle's order (a returned file before an approved one), not by name.
    #[test]
    fn totals_list_statuses_in_the_lifecycle_order_as_the_phone_does() {
        let policy = fengqiao_domain::policy::Policy::default();
        let items = vec![item(SubsidyStatus::Approved, 10), item(SubsidyStatus::UnderReview, 20)];
        let got: Vec<SubsidyStatus> = super::totals(&items, &policy).iter().map(|t| t.status).collect();
        assert_eq!(got, vec![SubsidyStatus::UnderReview, SubsidyStatus::Approved]);
        assert_eq!(super::totals(&items, &policy), fengqiao_domain::subsidy::totals(&items, policy.zone()).by_month);
    }

    /// "My subsidies" lists newest first, as its document and the phone say; the
    /// county's ledger lists the longest waiting first.
    #[test]
    fn a_payees_list_is_newest_first_and_the_ledger_oldest_first() {
        let policy = fengqiao_domain::policy::Policy::default();
        let mut older = item(SubsidyStatus::Accrued, 10);
        let newer =
            Subsidy { accrued_at: older.accrued_at + chrono::Duration::days(3), ..item(SubsidyStatus::Accrued, 20) };
        older.id = Uuid::from_u128(1);
        let now = newer.accrued_at;
        let fen = |ls: Vec<super::SubsidyLine>| ls.iter().map(|l| l.subsidy.amount_fen).collect::<Vec<_>>();
        assert_eq!(fen(super::payee_lines(vec![older.clone(), newer.clone()], now, &policy)), vec![20, 10]);
        assert_eq!(fen(super::lines(vec![newer, older], now, &policy)), vec![10, 20]);
    }
}
