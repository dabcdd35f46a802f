//! "My subsidies" (一案一补，绝不拖欠): the signed-in mediator's own per-case
//! subsidies as last pulled, with status, amount in integer fen, the overdue
//! flag, totals by month (county zone) and status, and estimates for resolved
//! cases whose subsidy has not arrived yet. Offline after a sync.

use fengqiao_core::{MySubsidies as CoreMine, SubsidyItem as CoreItem};
use fengqiao_domain::subsidy::{Subsidy as DomSubsidy, SubsidyStatus as DomStatus};

use crate::client::FieldClient;
use crate::convert::{id, millis, mirror_enum};
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// Where a subsidy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SubsidyStatus {
    /// The case closed resolved: owed once its file passes review.
    Accrued,
    /// The file was returned: payment waits until it is fixed and re-reviewed.
    UnderReview,
    /// The file passed review: the amount is final.
    Approved,
    /// In a payment batch, not yet paid.
    Batched,
    /// Paid.
    Paid,
    /// Not payable (see `reason`).
    Rejected,
}
mirror_enum!(SubsidyStatus <=> DomStatus { Accrued, UnderReview, Approved, Batched, Paid, Rejected });

/// A per-case (or per-consultation) subsidy owed to the user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Subsidy {
    /// Id (one per case and payee).
    pub id: String,
    /// The dispute, for a case subsidy.
    pub dispute_id: Option<String>,
    /// The consultation, for a legal advisor's consultation subsidy.
    pub consultation_id: Option<String>,
    /// Case number (or consultation reference).
    pub case_number: String,
    /// Amount in fen (an estimate until approved).
    pub amount_fen: i64,
    /// Status.
    pub status: SubsidyStatus,
    /// When it accrued (ms, UTC).
    pub accrued_at_ms: i64,
    /// When approved (ms, UTC).
    pub approved_at_ms: Option<i64>,
    /// When paid (ms, UTC).
    pub paid_at_ms: Option<i64>,
    /// Payment reference (bank transfer number), once paid.
    pub payment_ref: String,
    /// Why returned or rejected (empty otherwise).
    pub reason: String,
}

impl From<DomSubsidy> for Subsidy {
    fn from(s: DomSubsidy) -> Self {
        Subsidy {
            id: id(s.id),
            dispute_id: s.dispute_id.map(id),
            consultation_id: s.consultation_id.map(id),
            case_number: s.case_number,
            amount_fen: s.amount_fen,
            status: s.status.into(),
            accrued_at_ms: millis(s.accrued_at),
            approved_at_ms: s.approved_at.map(millis),
            paid_at_ms: s.paid_at.map(millis),
            payment_ref: s.payment_ref,
            reason: s.reason,
        }
    }
}

/// One of the user's subsidies with its overdue flag.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SubsidyItem {
    /// The subsidy.
    pub subsidy: Subsidy,
    /// Approved but unpaid past the policy's days (shown first).
    pub overdue: bool,
    /// Why it was returned or rejected, in Chinese (a missing case-file item
    /// by its label); empty if none.
    pub reason_text: String,
    /// The amount is final (the file passed review); otherwise an estimate.
    pub is_final: bool,
}

impl From<CoreItem> for SubsidyItem {
    fn from(i: CoreItem) -> Self {
        SubsidyItem { subsidy: i.subsidy.into(), overdue: i.overdue, reason_text: i.reason_text, is_final: i.is_final }
    }
}

/// Totals of one month of accrual (county zone) and one status.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SubsidyMonthTotal {
    /// `YYYY-MM` of accrual in the county's zone.
    pub month: String,
    /// Status.
    pub status: SubsidyStatus,
    /// Number of subsidies.
    pub count: u32,
    /// Sum in fen.
    pub total_fen: i64,
}

/// Totals of one status over all months.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SubsidyStatusTotal {
    /// Status.
    pub status: SubsidyStatus,
    /// Number of subsidies.
    pub count: u32,
    /// Sum in fen.
    pub total_fen: i64,
}

/// What a case the user resolved should pay them before its subsidy arrives.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SubsidyEstimate {
    /// The dispute.
    pub dispute_id: String,
    /// Its case number.
    pub case_number: String,
    /// The user's share at full quality, in fen (the county's formula).
    pub amount_fen: i64,
    /// When it was closed (ms, UTC).
    pub closed_at_ms: i64,
}

/// The user's subsidies with totals.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MySubsidies {
    /// Overdue first, then newest first.
    pub items: Vec<SubsidyItem>,
    /// Totals by month of accrual (county zone) and status, oldest month first.
    pub by_month: Vec<SubsidyMonthTotal>,
    /// Totals by status.
    pub by_status: Vec<SubsidyStatusTotal>,
    /// Sum of every item except rejected ones, in fen.
    pub total_fen: i64,
    /// Owed and not yet paid (accrued, under review, approved, in a batch), in fen.
    pub owed_fen: i64,
    /// Paid, in fen.
    pub paid_fen: i64,
    /// How many items are overdue.
    pub overdue_count: u32,
    /// Resolved cases whose subsidy is not on the phone yet.
    pub estimates: Vec<SubsidyEstimate>,
}

impl From<CoreMine> for MySubsidies {
    fn from(m: CoreMine) -> Self {
        MySubsidies {
            items: m.items.into_iter().map(SubsidyItem::from).collect(),
            by_month: m
                .by_month
                .into_iter()
                .map(|t| SubsidyMonthTotal {
                    month: t.month,
                    status: t.status.into(),
                    count: t.count,
                    total_fen: t.total_fen,
                })
                .collect(),
            by_status: m
                .by_status
                .into_iter()
                .map(|t| SubsidyStatusTotal { status: t.status.into(), count: t.count, total_fen: t.total_fen })
                .collect(),
            total_fen: m.total_fen,
            owed_fen: m.owed_fen,
            paid_fen: m.paid_fen,
            overdue_count: m.overdue_count,
            estimates: m
                .estimates
                .into_iter()
                .map(|e| SubsidyEstimate {
                    dispute_id: id(e.dispute_id),
                    case_number: e.case_number,
                    amount_fen: e.amount_fen,
                    closed_at_ms: millis(e.closed_at),
                })
                .collect(),
        }
    }
}

#[uniffi::export]
impl FieldClient {
    /// The signed-in user's own subsidies as last pulled (never anyone
    /// else's), with totals and estimates. Offline.
    pub fn my_subsidies(&self) -> Result<MySubsidies, FengqiaoError> {
        guard(|| Ok(self.core().my_subsidies()?.into()))
    }
}
