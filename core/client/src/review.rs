//! Case-file review (案卷评查) on the phone, through the one op path like every
//! other operation: the judicial office's queue (resolved cases of its towns it
//! may review now, with the checklist and the missing items in words), the
//! review itself (pass, return with reasons, correct grade and difficulty),
//! and a case's reviews as anyone who sees the case reads them (a returned
//! file's reasons in words, the missing items named).

use chrono::{DateTime, Utc};
use fengqiao_domain::apply::{decide, Verdict};
use fengqiao_domain::disputes::{Difficulty, Dispute};
use fengqiao_domain::ladder::Grade;
use fengqiao_domain::subsidy::{missing_items, CaseReview};
use fengqiao_domain::wire::{Op, OpEnvelope};
use fengqiao_domain::{EntityKind, Record, WIRE_VERSION};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::disputes::checklist::checklist_lines;
use crate::disputes::{ChecklistLine, DisputeItem};
use crate::error::{ClientError, Error};
use crate::messages::{locale, notices as words};
use crate::ops::actor_of;
use crate::store::{RecordState, StoredSession};
use crate::view::{view_error, PhoneView};

/// A review as the reviewer fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    /// The resolved dispute whose file is reviewed.
    pub dispute_id: Uuid,
    /// Score 0–100 for how well the file is kept.
    pub score: u8,
    /// Passed (the subsidy becomes payable) or returned.
    pub passed: bool,
    /// Why returned (the missing required items are added by the rules).
    pub reasons: Vec<String>,
    /// The grade as reviewed (`None` confirms the recorded one).
    pub reviewed_grade: Option<Grade>,
    /// The difficulty as reviewed (`None` confirms the recorded one).
    pub reviewed_difficulty: Option<Difficulty>,
    /// Why grade or difficulty is corrected (required when either is).
    pub correction_reason: String,
}

/// A case waiting for the user's review.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    /// The case.
    pub dispute: DisputeItem,
    /// The checklist, in the policy's order.
    pub checklist: Vec<ChecklistLine>,
    /// The required items missing, in words (a file missing any cannot pass).
    pub missing: Vec<String>,
    /// The latest review, if the file was reviewed before (returned).
    pub last_review: Option<ReviewView>,
}

/// A review as shown: the record and its reasons in words.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewView {
    /// The review.
    pub review: CaseReview,
    /// Its reasons in the core's locale (a missing item named, not coded).
    pub reasons: Vec<String>,
    /// Made on this phone, not yet confirmed by the server.
    pub pending: bool,
}

impl FieldClient {
    /// The judicial office's review queue: the resolved cases it may review
    /// now (by the rules the server applies: its towns, a resolved case, no
    /// subsidy batched or paid yet), not yet passed and not reviewed here
    /// awaiting sync; files missing items first, then the oldest closed.
    /// Empty for anyone else. Offline.
    pub fn review_queue(&self) -> Result<Vec<ReviewItem>, ClientError> {
        Ok(self.review_queue_inner()?)
    }

    pub(crate) fn review_queue_inner(&self) -> Result<Vec<ReviewItem>, Error> {
        let run = || -> Result<Vec<ReviewItem>, Error> {
            let session = self.session()?;
            let mut out = Vec::new();
            for item in self.dispute_items(&session, crate::DisputeFilter::All)? {
                if item.dispute.closing.is_none() || !self.may_review(&session, &item.dispute)? {
                    continue;
                }
                let reviews = self.reviews_of(item.dispute.id, session.user.id)?;
                let last = reviews.last();
                if last.is_some_and(|r| r.review.passed || r.pending) {
                    continue;
                }
                let (checklist, missing) = self.checklist(&item.dispute);
                out.push(ReviewItem { dispute: item, checklist, missing, last_review: last.cloned() });
            }
            out.sort_by_key(|i| {
                (i.missing.is_empty(), i.dispute.dispute.closing.as_ref().map(|c| c.closed_at), i.dispute.dispute.id)
            });
            Ok(out)
        };
        run()
    }

    /// Reviews a resolved case's file, offline (judicial office of its town):
    /// passed makes its subsidy final and payable; returned (with reasons;
    /// the missing required items are added) holds it until the file is fixed
    /// and reviewed again. Correcting grade or difficulty needs a reason
    /// (`correction_reason_required`); a file missing a required item cannot
    /// pass (`invalid_field`, naming the items).
    pub fn review_case_file(&self, new: NewReview) -> Result<CaseReview, ClientError> {
        self.submit(|a| {
            Op::ReviewCaseFile(CaseReview {
                id: fengqiao_domain::new_id(),
                dispute_id: new.dispute_id,
                score: new.score,
                passed: new.passed,
                reasons: new.reasons,
                reviewed_grade: new.reviewed_grade,
                reviewed_difficulty: new.reviewed_difficulty,
                correction_reason: new.correction_reason,
                reviewer: a.user,
                reviewed_at: a.now,
            })
        })
    }

    /// A case's reviews, oldest first, with their reasons in words: what a
    /// mediator reads of a returned file. Offline.
    pub fn case_reviews(&self, dispute_id: Uuid) -> Result<Vec<ReviewView>, ClientError> {
        let run = || -> Result<Vec<ReviewView>, Error> { self.reviews_of(dispute_id, self.session()?.user.id) };
        Ok(run()?)
    }

    /// The checklist of a case in words, and its missing required items.
    pub(crate) fn checklist(&self, d: &Dispute) -> (Vec<ChecklistLine>, Vec<String>) {
        let policy = self.policy();
        let lines = checklist_lines(&d.case_file, &policy);
        let missing = missing_items(&d.case_file, &policy)
            .iter()
            .map(|code| words::item_label(code, &policy).to_string())
            .collect();
        (lines, missing)
    }

    /// A case's reviews as the user sees them, oldest first.
    pub(crate) fn reviews_of(&self, dispute_id: Uuid, user: Uuid) -> Result<Vec<ReviewView>, Error> {
        let policy = self.policy();
        let loc = locale();
        let mut out: Vec<ReviewView> = self
            .store
            .list_records(EntityKind::CaseReview, usize::MAX)?
            .into_iter()
            .filter(|r| r.shown_to(user))
            .filter_map(|r| {
                let pending = matches!(r.state, RecordState::Pending { .. });
                match r.record {
                    Record::CaseReview(c) if c.dispute_id == dispute_id => Some(ReviewView {
                        reasons: c.reasons.iter().map(|x| words::review_reason(x, &policy, loc)).collect(),
                        review: c,
                        pending,
                    }),
                    _ => None,
                }
            })
            .collect();
        out.sort_by_key(|r| (r.review.reviewed_at, r.review.id));
        Ok(out)
    }

    /// Whether the user may review the case's file now: the domain's own
    /// decision on a probe review (returned, with a reason), over this
    /// phone's view. Nothing is queued.
    fn may_review(&self, session: &StoredSession, d: &Dispute) -> Result<bool, Error> {
        let now: DateTime<Utc> = self.options.clock.now();
        let probe = Op::ReviewCaseFile(CaseReview {
            id: Uuid::nil(),
            dispute_id: d.id,
            score: 0,
            passed: false,
            reasons: vec!["?".into()],
            reviewed_grade: None,
            reviewed_difficulty: None,
            correction_reason: String::new(),
            reviewer: session.user.id,
            reviewed_at: now,
        });
        let env = OpEnvelope {
            op_id: Uuid::nil(),
            v: WIRE_VERSION,
            author: session.user.id,
            created_at: now,
            op: probe,
            seen: None,
        };
        let view = PhoneView::new(self.store.as_ref(), Some(session));
        let verdict = decide(&env, &actor_of(session), &self.policy(), &view, now).map_err(view_error)?;
        Ok(matches!(verdict, Verdict::Apply(_)))
    }
}

#[cfg(test)]
#[path = "review_tests.rs"]
mod tests;
