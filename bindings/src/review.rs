//! Case-file review (案卷评查) on the phone, through the core like every other
//! operation: the judicial office's queue with the checklist and the missing
//! items in words, the review (pass, return with reasons, correct grade and
//! difficulty), and a case's reviews with their reasons in words.

use fengqiao_core::{NewReview as CoreNewReview, ReviewItem as CoreItem, ReviewView as CoreView};
use fengqiao_domain::subsidy::CaseReview as DomReview;

use crate::client::FieldClient;
use crate::convert::{id, millis, parse_id};
use crate::disputes::{Difficulty, DisputeItem, Grade};
use crate::error::FengqiaoError;
use crate::fieldwork::ChecklistLine;
use crate::runtime::guard;

/// A review of a case file.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseReview {
    /// Id.
    pub id: String,
    /// The dispute.
    pub dispute_id: String,
    /// Score 0–100.
    pub score: u8,
    /// Passed (payable) or returned.
    pub passed: bool,
    /// Reasons as recorded (codes included; show `ReviewView.reasons`).
    pub reasons: Vec<String>,
    /// The grade as reviewed.
    pub reviewed_grade: Option<Grade>,
    /// The difficulty as reviewed.
    pub reviewed_difficulty: Option<Difficulty>,
    /// Why grade or difficulty was corrected.
    pub correction_reason: String,
    /// Reviewer (user id).
    pub reviewer: String,
    /// When (ms, UTC; server time once synced).
    pub reviewed_at_ms: i64,
}

impl From<DomReview> for CaseReview {
    fn from(r: DomReview) -> Self {
        CaseReview {
            id: id(r.id),
            dispute_id: id(r.dispute_id),
            score: r.score,
            passed: r.passed,
            reasons: r.reasons,
            reviewed_grade: r.reviewed_grade.map(Grade::from),
            reviewed_difficulty: r.reviewed_difficulty.map(Difficulty::from),
            correction_reason: r.correction_reason,
            reviewer: id(r.reviewer),
            reviewed_at_ms: millis(r.reviewed_at),
        }
    }
}

/// A review as the reviewer fills it in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewReview {
    /// The resolved dispute.
    pub dispute_id: String,
    /// Score 0–100.
    pub score: u8,
    /// Passed or returned.
    pub passed: bool,
    /// Why returned (the missing required items are added by the rules).
    pub reasons: Vec<String>,
    /// The grade as reviewed (`None` confirms it).
    pub reviewed_grade: Option<Grade>,
    /// The difficulty as reviewed (`None` confirms it).
    pub reviewed_difficulty: Option<Difficulty>,
    /// Why grade or difficulty is corrected (required when either is).
    pub correction_reason: String,
}

/// A review as shown.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReviewView {
    /// The review.
    pub review: CaseReview,
    /// Its reasons in words (a missing item named).
    pub reasons: Vec<String>,
    /// Made on this phone, not yet confirmed by the server.
    pub pending: bool,
}

impl From<CoreView> for ReviewView {
    fn from(v: CoreView) -> Self {
        ReviewView { review: v.review.into(), reasons: v.reasons, pending: v.pending }
    }
}

/// A case waiting for the user's review.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReviewItem {
    /// The case.
    pub dispute: DisputeItem,
    /// The checklist.
    pub checklist: Vec<ChecklistLine>,
    /// The required items missing, in words.
    pub missing: Vec<String>,
    /// The latest review (a returned file reviewed again).
    pub last_review: Option<ReviewView>,
}

impl From<CoreItem> for ReviewItem {
    fn from(i: CoreItem) -> Self {
        ReviewItem {
            dispute: i.dispute.into(),
            checklist: i.checklist.into_iter().map(ChecklistLine::from).collect(),
            missing: i.missing,
            last_review: i.last_review.map(ReviewView::from),
        }
    }
}

#[uniffi::export]
impl FieldClient {
    /// The judicial office's review queue: resolved cases it may review now,
    /// files missing items first, then the oldest closed. Offline.
    pub fn review_queue(&self) -> Result<Vec<ReviewItem>, FengqiaoError> {
        guard(|| Ok(self.core().review_queue()?.into_iter().map(ReviewItem::from).collect()))
    }

    /// Reviews a resolved case's file, offline: passed, or returned with
    /// reasons; grade and difficulty corrected with a reason. Refused as the
    /// server would (`invalid_field` naming the missing items for a pass,
    /// `correction_reason_required`, `role_not_allowed`).
    pub fn review_case_file(&self, review: NewReview) -> Result<CaseReview, FengqiaoError> {
        guard(|| {
            let r = CoreNewReview {
                dispute_id: parse_id("dispute_id", &review.dispute_id)?,
                score: review.score,
                passed: review.passed,
                reasons: review.reasons,
                reviewed_grade: review.reviewed_grade.map(Into::into),
                reviewed_difficulty: review.reviewed_difficulty.map(Into::into),
                correction_reason: review.correction_reason,
            };
            Ok(self.core().review_case_file(r)?.into())
        })
    }

    /// A case's reviews, oldest first, reasons in words. Offline.
    pub fn case_reviews(&self, dispute_id: String) -> Result<Vec<ReviewView>, FengqiaoError> {
        guard(|| {
            let d = parse_id("dispute_id", &dispute_id)?;
            Ok(self.core().case_reviews(d)?.into_iter().map(ReviewView::from).collect())
        })
    }
}
