//! Field checks of every operation, before any state is read: text lengths
//! (`text_too_long`, naming the field), required texts with a visible character,
//! phone numbers, dates in range. [`crate::decide::apply::decide`] runs them first, so the
//! phone (which decides before queueing) and the server refuse the same ops with
//! the same codes. Checks that need state (a record's existence, a dispute's
//! level) stay in `decide`.

use crate::model::text::{check, check_all};
use crate::policy::Policy;
use crate::wire::rejection::{Rejection, RejectionCode};
use crate::wire::{CloseDispute, DecideEscalation, MarkBatchPaid, Op, RejectSubsidy, RestoreHousehold};

/// Longest stable code (a negative-list item, a checklist item), in characters.
const MAX_CODE_CHARS: usize = 64;
/// Longest name, label or reference (a court, a place, a payment reference).
const MAX_NAME_CHARS: usize = 200;
/// Most reasons on one case-file review.
const MAX_REASONS: usize = 50;
/// Longest payment reference (the treasury's voucher number), in characters.
pub const MAX_PAYMENT_REF_CHARS: usize = 100;
/// Most subsidies in one payment batch.
pub const MAX_BATCH_SUBSIDIES: usize = 10_000;
/// Highest case-file review score.
pub const MAX_REVIEW_SCORE: u8 = 100;

impl Op {
    /// Checks the op's own fields against the policy (see the module doc).
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        let note = policy.text.max_note_chars;
        match self {
            Op::RecordVisit(v) => v.validate(policy),
            Op::AttachPhoto(a) => a.validate(policy),
            Op::ReportDispute(d) => d.validate_fields(),
            Op::RequestEscalation(e) => e.validate(),
            Op::DecideEscalation(d) => d.validate(policy),
            Op::RecordSession(m) => m.validate(),
            Op::RecordAgreement(a) => a.validate(),
            Op::RecordFollowUp(f) => f.validate(policy),
            Op::RecordConfirmation(j) => j.validate_fields(),
            Op::CloseDispute(c) => c.validate(policy),
            Op::ReviewCaseFile(r) => {
                if r.score > MAX_REVIEW_SCORE {
                    return Err(Rejection::new(
                        RejectionCode::InvalidField,
                        format!("评查分数：须在 0 至 {MAX_REVIEW_SCORE} 分之间"),
                    ));
                }
                if r.reasons.len() > MAX_REASONS {
                    return Err(Rejection::new(
                        RejectionCode::InvalidField,
                        format!("评查理由：最多写 {MAX_REASONS} 条"),
                    ));
                }
                check_all("评查理由", &r.reasons, true, note)?;
                check("更正理由", &r.correction_reason, false, note)
            }
            Op::RecordConsultation(c) => {
                crate::model::disputes::check_year("咨询日期", c.at)?;
                check("咨询问题", &c.question, true, note)?;
                check("解答内容", &c.answer, false, note)
            }
            Op::CreatePaymentBatch(b) => {
                if b.subsidy_ids.is_empty() || b.subsidy_ids.len() > MAX_BATCH_SUBSIDIES {
                    return Err(Rejection::new(
                        RejectionCode::InvalidField,
                        format!("支付批次：一个批次须有 1 至 {MAX_BATCH_SUBSIDIES} 笔补贴"),
                    ));
                }
                Ok(())
            }
            Op::ReviewConsultation(r) => check("评查意见", &r.note, false, note),
            // a commitment's date is checked against the day in `decide`
            Op::ReviewVillageRules(_) | Op::RecordCommitment(_) => Ok(()),
            Op::MarkBatchPaid(m) => m.validate(),
            Op::RejectSubsidy(r) => r.validate(policy),
            Op::SetVillageRules(r) => {
                r.items.iter().try_for_each(|i| {
                    check("负面清单项代码", &i.code, true, MAX_CODE_CHARS)?;
                    check("负面清单项名称", &i.label_zh, true, MAX_NAME_CHARS)
                })?;
                crate::prevent::check_items(&r.items, policy)
            }
            Op::RecordViolation(v) => {
                check("违反事项", &v.item_code, true, MAX_CODE_CHARS)?;
                check("违反情况", &v.note, true, note)?;
                if v.evidence.iter().any(|s| !crate::model::records::is_sha256_hex(s)) {
                    return Err(Rejection::new(RejectionCode::InvalidField, crate::model::text::BAD_PHOTO_HASH));
                }
                Ok(())
            }
            Op::RestoreHousehold(r) => r.validate(policy),
            Op::FileScreening(s) => s.validate_fields(policy),
            Op::RegradeDispute(r) => {
                check("起因分析", &r.analysis.cause, false, 2000)?;
                check("后果分析", &r.analysis.consequences, false, 2000)?;
                check("重新定级理由", &r.reason, false, note)
            }
        }
    }
}

impl CloseDispute {
    /// The note within the policy's limit.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check("结案说明", &self.note, false, policy.text.max_note_chars)
    }
}

impl DecideEscalation {
    /// The comment within the policy's limit; required (visible) when refusing.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check("审批意见", &self.comment, !self.approve, policy.text.max_note_chars)
    }
}

impl RejectSubsidy {
    /// A reason is required, within the policy's limit.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check("驳回理由", &self.reason, true, policy.text.max_note_chars)
    }
}

impl RestoreHousehold {
    /// The note within the policy's limit.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check("恢复说明", &self.note, false, policy.text.max_note_chars)
    }
}

impl MarkBatchPaid {
    /// A payment reference is required, at most [`MAX_PAYMENT_REF_CHARS`].
    pub fn validate(&self) -> Result<(), Rejection> {
        check("支付凭证号", &self.payment_ref, true, MAX_PAYMENT_REF_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::disputes::ClosingOutcome;

    #[test]
    fn a_megabyte_note_is_refused_naming_the_field() {
        let p = Policy::default();
        let close = |note: String| {
            Op::CloseDispute(CloseDispute { dispute_id: uuid::Uuid::nil(), outcome: ClosingOutcome::Resolved, note })
        };
        close("双方和解".into()).validate(&p).unwrap();
        let e = close("字".repeat(1_800_000 / 3)).validate(&p).unwrap_err();
        assert_eq!(e.code.as_str(), "text_too_long");
        assert!(e.message.starts_with("结案说明："), "{e}");
        let mut small = p.clone();
        small.text.max_note_chars = 4;
        assert!(close("双方和解".into()).validate(&small).is_ok());
        assert!(close("双方和解了".into()).validate(&small).is_err(), "policy-backed");
    }

    fn code_of(op: Op, p: &Policy) -> Option<&'static str> {
        op.validate(p).err().map(|r| r.code.as_str())
    }

    /// Limits that `decide` used to check after reading state are the op's own
    /// fields: refused by `validate`, on the phone as on the server, with their codes.
    #[test]
    fn field_limits_of_subsidy_and_prevention_ops_are_validates() {
        use crate::prevent::{rules_id, screening_id, NegativeItem, Screening, VillageRules};
        use crate::subsidy::CaseReview;
        use crate::wire::CreatePaymentBatch;
        use uuid::Uuid;
        let p = Policy::default();
        let paid = |r: String| Op::MarkBatchPaid(MarkBatchPaid { batch_id: Uuid::nil(), payment_ref: r });
        assert_eq!(code_of(paid("号".repeat(MAX_PAYMENT_REF_CHARS)), &p), None);
        assert_eq!(code_of(paid("号".repeat(MAX_PAYMENT_REF_CHARS + 1)), &p), Some("text_too_long"));
        assert_eq!(code_of(paid(" ".into()), &p), Some("invalid_field"));
        let batch = |n: usize| {
            Op::CreatePaymentBatch(CreatePaymentBatch { id: Uuid::nil(), subsidy_ids: vec![Uuid::nil(); n] })
        };
        assert_eq!(code_of(batch(0), &p), Some("invalid_field"));
        assert_eq!(code_of(batch(MAX_BATCH_SUBSIDIES + 1), &p), Some("invalid_field"));
        assert_eq!(code_of(batch(1), &p), None);
        let review = |score: u8| {
            Op::ReviewCaseFile(CaseReview {
                id: Uuid::nil(),
                dispute_id: Uuid::nil(),
                score,
                passed: true,
                reasons: vec![],
                reviewer: Uuid::nil(),
                reviewed_at: chrono::Utc::now(),
                reviewed_grade: None,
                reviewed_difficulty: None,
                correction_reason: String::new(),
            })
        };
        assert_eq!(code_of(review(100), &p), None);
        assert_eq!(code_of(review(101), &p), Some("invalid_field"));
        let village = Uuid::from_u128(3);
        let screening = |hazards: usize| {
            Op::FileScreening(Screening {
                id: screening_id(village, "2026-05"),
                village_id: village,
                period: "2026-05".into(),
                hazards: vec!["宅基地边界".into(); hazards],
                focus_areas: vec![],
                new_disputes: vec![],
                note: String::new(),
                filed_by: Uuid::nil(),
                filed_at: chrono::Utc::now(),
                policy_version: String::new(),
            })
        };
        assert_eq!(code_of(screening(crate::prevent::MAX_HAZARDS), &p), None);
        assert_eq!(code_of(screening(crate::prevent::MAX_HAZARDS + 1), &p), Some("invalid_field"));
        let rules = |n: usize| {
            Op::SetVillageRules(VillageRules {
                id: rules_id(village),
                village_id: village,
                items: (0..n)
                    .map(|i| NegativeItem {
                        code: format!("item{i}"),
                        label_zh: format!("事项{i}"),
                        sanctions: vec![],
                        correction_days: 15,
                    })
                    .collect(),
                legality_reviewed: false,
                reviewed_by: None,
                reviewed_at: None,
                adoption: None,
            })
        };
        assert_eq!(code_of(rules(p.village_rules.max_items), &p), None);
        assert_eq!(code_of(rules(p.village_rules.max_items + 1), &p), Some("invalid_field"));
    }
}
