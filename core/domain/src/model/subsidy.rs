//! One case, one subsidy (一案一补，绝不拖欠): the case-file checklist, the review,
//! the subsidy formula with its split, and the payment lifecycle. The phone uses
//! the formula to show an estimate; the server is the authority. Money is integer fen.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::disputes::{Difficulty, Dispute};
use crate::model::ladder::Grade;
use crate::policy::Policy;

pub use crate::model::entity::FileItem;

/// Where a subsidy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubsidyStatus {
    /// The case closed resolved: owed once its file passes review.
    Accrued,
    /// The file was returned (deficient): payment blocked until fixed and re-reviewed.
    UnderReview,
    /// The file passed review: the amount is final.
    Approved,
    /// In a payment batch, not yet paid.
    Batched,
    /// Paid.
    Paid,
    /// Not payable (reason given).
    Rejected,
}

/// A subsidy owed to one mediator (or legal advisor) for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Subsidy {
    /// Deterministic per (dispute or consultation, payee): a case pays each payee once.
    pub id: Uuid,
    /// The dispute, if a case subsidy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute_id: Option<Uuid>,
    /// The consultation, if an advisor's consultation subsidy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consultation_id: Option<Uuid>,
    /// Case number (or consultation reference) shown to the payee.
    pub case_number: String,
    /// Who is paid.
    pub payee: Uuid,
    /// Amount in fen (an estimate until approved).
    pub amount_fen: i64,
    /// Status.
    pub status: SubsidyStatus,
    /// When it accrued.
    pub accrued_at: DateTime<Utc>,
    /// When approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<DateTime<Utc>>,
    /// Payment batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<Uuid>,
    /// When paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
    /// Payment reference (bank transfer number).
    #[serde(default)]
    pub payment_ref: String,
    /// Why returned or rejected.
    #[serde(default)]
    pub reason: String,
}

/// A review of a closed case's file (案卷评查).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseReview {
    /// Stable id.
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// Score 0-100 for how well the file is kept.
    pub score: u8,
    /// Passed (payable) or returned.
    pub passed: bool,
    /// Reasons when returned (missing items are added by the server).
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The grade as reviewed: absent confirms the dispute's recorded grade.
    /// The subsidy is priced from the reviewed grade only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_grade: Option<Grade>,
    /// The difficulty as reviewed: absent confirms the recorded difficulty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_difficulty: Option<Difficulty>,
    /// Why the review corrects grade or difficulty (required when either differs
    /// from the recorded one: `correction_reason_required`).
    #[serde(default)]
    pub correction_reason: String,
    /// Reviewer (set by the server).
    #[serde(default)]
    pub reviewer: Uuid,
    /// Server time.
    #[serde(default)]
    pub reviewed_at: DateTime<Utc>,
}

/// What came of a legal consultation (处置结果).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsultationOutcome {
    /// 已解决: the question was answered and settled.
    Solved,
    /// 已引导: referred on (to mediation, legal aid, the court).
    Referred,
    /// 未解决
    NotSolved,
}

/// The judicial office's review of a consultation: it confirms or corrects the
/// outcome and the villager's satisfaction (e.g. after calling the villager back);
/// the advisor is paid from these values only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsultationReview {
    /// Reviewed outcome.
    pub outcome: ConsultationOutcome,
    /// Reviewed satisfaction.
    pub satisfaction: crate::model::disputes::Satisfaction,
    /// The reviewer's note.
    #[serde(default)]
    pub note: String,
    /// Reviewer (set by the server).
    pub reviewer: Uuid,
    /// Server time.
    pub reviewed_at: DateTime<Utc>,
}

/// A legal consultation logged by a village's legal advisor (法律咨询).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consultation {
    /// Stable id.
    pub id: Uuid,
    /// The village.
    pub village_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// The villager's question (personal data).
    pub question: String,
    /// The advice given.
    pub answer: String,
    /// Villager satisfaction.
    pub satisfaction: crate::model::disputes::Satisfaction,
    /// The advisor (set by the server).
    #[serde(default)]
    pub advisor: Uuid,
    /// What came of it, as the advisor records it (absent in older payloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ConsultationOutcome>,
    /// The judicial office's review (set by `review_consultation`); until then
    /// the consultation's subsidy is an unapproved estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ConsultationReview>,
}

/// What a consultation pays for an outcome and satisfaction: the policy's
/// percent of `consultation_fen`, rounded down to the fen; `None` if the
/// arithmetic overflows (a checked policy never does) or the table lacks the pair
/// (a checked policy has every pair).
pub fn consultation_amount_fen(
    outcome: ConsultationOutcome,
    satisfaction: crate::model::disputes::Satisfaction,
    policy: &Policy,
) -> Option<i64> {
    let s = &policy.subsidy;
    let rate = s.consultation_rates.iter().find(|r| r.outcome == outcome && r.satisfaction == satisfaction)?;
    s.consultation_fen.checked_mul(i64::from(rate.percent))?.checked_div(100)
}

/// A payment batch made by the county from approved subsidies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentBatch {
    /// Stable id.
    pub id: Uuid,
    /// The subsidies in it.
    pub subsidy_ids: Vec<Uuid>,
    /// Total in fen.
    pub total_fen: i64,
    /// Who made it.
    pub created_by: Uuid,
    /// Server time.
    pub created_at: DateTime<Utc>,
    /// When paid, with the payment reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
    /// Payment reference.
    #[serde(default)]
    pub payment_ref: String,
}

/// Checklist item codes the server fills from records (others come from photos
/// attached with a `file_item`).
pub mod items {
    /// 受理登记表: the dispute's registration itself.
    pub const INTAKE_FORM: &str = "intake_form";
    /// 调解笔录
    pub const MEDIATION_RECORD: &str = "mediation_record";
    /// 调解协议书
    pub const AGREEMENT: &str = "agreement";
    /// 回访记录
    pub const FOLLOW_UP_RECORD: &str = "follow_up_record";
    /// 司法确认材料
    pub const CONFIRMATION_PAPERS: &str = "confirmation_papers";
}

/// Required checklist items missing from a file.
pub fn missing_items(present: &[FileItem], policy: &Policy) -> Vec<String> {
    policy
        .subsidy
        .checklist
        .iter()
        .filter(|i| i.required && !present.iter().any(|p| p.item == i.code))
        .map(|i| i.code.clone())
        .collect()
}

/// The checklist items `codes` by their Chinese labels (a code the policy no
/// longer lists by itself), joined for a message.
pub fn labels_of(codes: &[String], policy: &Policy) -> String {
    fn label<'a>(c: &'a String, policy: &'a Policy) -> &'a str {
        policy.subsidy.checklist.iter().find(|i| &i.code == c).map_or(c.as_str(), |i| i.label_zh.as_str())
    }
    codes.iter().map(|c| format!("“{}”", label(c, policy))).collect::<Vec<_>>().join("、")
}

/// The prefix a returned review gives each missing checklist item among its
/// reasons (`missing: rights_notice`), which the server adds for the record.
pub const MISSING_REASON_PREFIX: &str = "missing: ";

/// A returned review's reason as a reader sees it: a missing checklist item
/// (`missing: rights_notice`) becomes `缺少“权利义务告知书”` by the policy's
/// label; the reviewer's own words are kept as written.
pub fn review_reason_zh(reason: &str, policy: &Policy) -> String {
    match reason.trim().strip_prefix(MISSING_REASON_PREFIX) {
        Some(code) => format!("缺少{}", labels_of(&[code.trim().to_string()], policy)),
        None => reason.trim().to_string(),
    }
}

/// A subsidy's `reason` (a returned review's reasons joined by `; `) as a
/// reader sees it: each part through [`review_reason_zh`], joined by `；`.
pub fn subsidy_reason_zh(reason: &str, policy: &Policy) -> String {
    reason
        .split("; ")
        .filter(|r| !r.trim().is_empty())
        .map(|r| review_reason_zh(r, policy))
        .collect::<Vec<_>>()
        .join("；")
}

/// The quality factor for a review score, in percent (0 = not payable).
pub fn quality_percent(score: u8, policy: &Policy) -> u32 {
    policy.subsidy.quality.iter().filter(|q| score >= q.min_score).map(|q| q.percent).max().unwrap_or(0)
}

/// Largest amount, in fen, that a policy may make one subsidy (or any one rate)
/// worth: 1e11 fen (10亿元). The policy check refuses rates whose worst case
/// ([`worst_case_fen`]) is larger, so the formula never overflows and any sum
/// of up to 92 million subsidies still fits in `i64` fen.
pub const MAX_AMOUNT_FEN: i64 = 100_000_000_000;

/// The subsidy of a resolved case: base by grade + by difficulty, times the
/// quality factor, plus the social-impact bonus of its kind. Integer fen, rounded
/// down to the fen, computed with checked arithmetic: `None` when a step would
/// overflow `i64` — never a wrapped or saturated amount. A policy that passed its
/// check ([`MAX_AMOUNT_FEN`]) never gives `None` for a quality from its table.
pub fn amount_fen(grade: Grade, difficulty: Difficulty, kind: &str, quality_pct: u32, policy: &Policy) -> Option<i64> {
    let s = &policy.subsidy;
    let base = match grade {
        Grade::General => s.base_general_fen,
        Grade::Larger => s.base_larger_fen,
        Grade::Major => s.base_major_fen,
    };
    let extra = match difficulty {
        Difficulty::Low => 0,
        Difficulty::Medium => s.difficulty_medium_fen,
        Difficulty::High => s.difficulty_high_fen,
    };
    let bonus = s.impact_bonus.iter().find(|b| b.kind == kind).map(|b| b.fen).unwrap_or(0);
    base.checked_add(extra)?.checked_mul(i64::from(quality_pct))?.checked_div(100)?.checked_add(bonus)
}

/// The largest amount the policy's formula can give any case (`None`: it
/// overflows `i64`): the largest base plus the largest difficulty addition, at the
/// best quality step (at least 100 %, the estimate's), plus the largest bonus.
pub fn worst_case_fen(policy: &Policy) -> Option<i64> {
    let s = &policy.subsidy;
    let base = s.base_general_fen.max(s.base_larger_fen).max(s.base_major_fen);
    let extra = s.difficulty_medium_fen.max(s.difficulty_high_fen).max(0);
    let pct = s.quality.iter().map(|q| q.percent).max().unwrap_or(0).max(100);
    let bonus = s.impact_bonus.iter().map(|b| b.fen).max().unwrap_or(0).max(0);
    base.checked_add(extra)?.checked_mul(i64::from(pct))?.checked_div(100)?.checked_add(bonus)
}

/// The estimate shown on the phone before review (full quality); `None` as for
/// [`amount_fen`].
pub fn estimate_fen(d: &Dispute, policy: &Policy) -> Option<i64> {
    amount_fen(d.grade, d.analysis.difficulty, &d.kind, 100, policy)
}

/// Splits an amount among payees so the shares sum exactly to it: equal shares,
/// the remainder fen going one each to the first payees.
pub fn split(amount_fen: i64, payees: usize) -> Vec<i64> {
    if payees == 0 {
        return vec![];
    }
    let n = payees as i64;
    let (share, rest) = (amount_fen / n, amount_fen % n);
    (0..n).map(|i| share + i64::from(i < rest)).collect()
}

/// The id of the subsidy a case (or consultation) owes a payee: the same inputs
/// always give the same id, so a case can never pay twice.
pub fn subsidy_id(source: Uuid, payee: Uuid) -> Uuid {
    let mut name = [0u8; 32];
    name[..16].copy_from_slice(source.as_bytes());
    name[16..].copy_from_slice(payee.as_bytes());
    Uuid::new_v5(&Uuid::NAMESPACE_OID, &name)
}

/// Approved but unpaid past the policy's days: shown first on the county's list.
pub fn is_overdue(s: &Subsidy, now: DateTime<Utc>, policy: &Policy) -> bool {
    match (s.status, s.approved_at) {
        (SubsidyStatus::Approved | SubsidyStatus::Batched, Some(at)) => {
            now >= at + Duration::days(policy.subsidy.pay_within_days as i64)
        }
        _ => false,
    }
}

impl SubsidyStatus {
    /// Every status in the order of the lifecycle (accrued … paid, rejected last):
    /// the order totals are listed in, on the phone and on the server.
    pub const LIFECYCLE: [SubsidyStatus; 6] = [
        SubsidyStatus::Accrued,
        SubsidyStatus::UnderReview,
        SubsidyStatus::Approved,
        SubsidyStatus::Batched,
        SubsidyStatus::Paid,
        SubsidyStatus::Rejected,
    ];

    /// Owed to the payee and not yet paid: accrued, held under review, approved
    /// or in a payment batch (what a mediator's "owed" sum counts).
    pub fn is_owed(self) -> bool {
        matches!(
            self,
            SubsidyStatus::Accrued | SubsidyStatus::UnderReview | SubsidyStatus::Approved | SubsidyStatus::Batched
        )
    }

    /// The status's place in [`SubsidyStatus::LIFECYCLE`].
    pub fn rank(self) -> usize {
        match self {
            SubsidyStatus::Accrued => 0,
            SubsidyStatus::UnderReview => 1,
            SubsidyStatus::Approved => 2,
            SubsidyStatus::Batched => 3,
            SubsidyStatus::Paid => 4,
            SubsidyStatus::Rejected => 5,
        }
    }
}

/// Where a subsidy stands in its payee's own list ("my subsidies", on the phone
/// and from the server): overdue first, then newest accrual first, ties by id.
pub fn payee_order(s: &Subsidy, overdue: bool) -> (bool, std::cmp::Reverse<DateTime<Utc>>, Uuid) {
    (!overdue, std::cmp::Reverse(s.accrued_at), s.id)
}

/// Where a subsidy stands in the county's ledger: overdue first, then the one
/// waiting longest (since approval, else accrual) first, ties by id.
pub fn ledger_order(s: &Subsidy, overdue: bool) -> (bool, DateTime<Utc>, Uuid) {
    (!overdue, s.approved_at.unwrap_or(s.accrued_at), s.id)
}

/// Totals for one month (county zone) and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubsidyTotal {
    /// `YYYY-MM` of accrual.
    pub month: String,
    /// Status.
    pub status: SubsidyStatus,
    /// Number of subsidies.
    pub count: u32,
    /// Sum in fen.
    pub total_fen: i64,
}

/// Totals of one status over all months.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusTotal {
    /// Status.
    pub status: SubsidyStatus,
    /// Number of subsidies.
    pub count: u32,
    /// Sum in fen.
    pub total_fen: i64,
}

/// A list of subsidies summed up: the one rule for "my subsidies" totals on the
/// phone and on the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubsidyTotals {
    /// By month of accrual in the county's zone and status: oldest month first,
    /// each month's statuses in [`SubsidyStatus::LIFECYCLE`] order.
    pub by_month: Vec<SubsidyTotal>,
    /// By status over all months, in [`SubsidyStatus::LIFECYCLE`] order.
    pub by_status: Vec<StatusTotal>,
    /// Sum of every subsidy except rejected ones, in fen.
    pub total_fen: i64,
    /// Owed and not yet paid ([`SubsidyStatus::is_owed`]), in fen.
    pub owed_fen: i64,
    /// Paid, in fen.
    pub paid_fen: i64,
}

/// Sums `items` by month of accrual (in `zone`, the county's: [`Policy::zone`])
/// and status, by status, and in all. Sums stop at `i64::MAX` fen and `u32::MAX`
/// items rather than wrap (real amounts are far below).
pub fn totals<'a>(items: impl IntoIterator<Item = &'a Subsidy>, zone: chrono_tz::Tz) -> SubsidyTotals {
    let mut months: std::collections::BTreeMap<(String, usize), SubsidyTotal> = Default::default();
    let mut statuses: std::collections::BTreeMap<usize, StatusTotal> = Default::default();
    let (mut total_fen, mut owed_fen, mut paid_fen) = (0i64, 0i64, 0i64);
    for s in items {
        let month = crate::time::local_month(s.accrued_at, zone);
        let m = months.entry((month.clone(), s.status.rank())).or_insert(SubsidyTotal {
            month,
            status: s.status,
            count: 0,
            total_fen: 0,
        });
        m.count = m.count.saturating_add(1);
        m.total_fen = m.total_fen.saturating_add(s.amount_fen);
        let t = statuses.entry(s.status.rank()).or_insert(StatusTotal { status: s.status, count: 0, total_fen: 0 });
        t.count = t.count.saturating_add(1);
        t.total_fen = t.total_fen.saturating_add(s.amount_fen);
        if s.status != SubsidyStatus::Rejected {
            total_fen = total_fen.saturating_add(s.amount_fen);
        }
        if s.status.is_owed() {
            owed_fen = owed_fen.saturating_add(s.amount_fen);
        }
        if s.status == SubsidyStatus::Paid {
            paid_fen = paid_fen.saturating_add(s.amount_fen);
        }
    }
    SubsidyTotals {
        by_month: months.into_values().collect(),
        by_status: statuses.into_values().collect(),
        total_fen,
        owed_fen,
        paid_fen,
    }
}

#[cfg(test)]
#[path = "subsidy_tests.rs"]
mod tests;
