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
                if r.reasons.len() > MAX_REASONS {
                    return Err(Rejection::new(
                        RejectionCode::InvalidField,
                        format!("reasons：最多 {MAX_REASONS} 条理由"),
                    ));
                }
                check_all("reasons", &r.reasons, true, note)
            }
            Op::RecordConsultation(c) => {
                crate::model::disputes::check_year("at", c.at)?;
                check("question", &c.question, true, note)?;
                check("answer", &c.answer, false, note)
            }
            Op::CreatePaymentBatch(_) | Op::ReviewVillageRules(_) => Ok(()),
            Op::MarkBatchPaid(m) => m.validate(),
            Op::RejectSubsidy(r) => r.validate(policy),
            Op::SetVillageRules(r) => r.items.iter().try_for_each(|i| {
                check("items.code", &i.code, true, MAX_CODE_CHARS)?;
                check("items.label_zh", &i.label_zh, true, MAX_NAME_CHARS)
            }),
            Op::RecordViolation(v) => {
                check("item_code", &v.item_code, true, MAX_CODE_CHARS)?;
                check("note", &v.note, true, note)?;
                if v.evidence.iter().any(|s| !crate::model::records::is_sha256_hex(s)) {
                    return Err(Rejection::new(RejectionCode::InvalidField, "evidence: SHA-256 hex"));
                }
                Ok(())
            }
            Op::RestoreHousehold(r) => r.validate(policy),
            Op::FileScreening(s) => {
                check_all("hazards", &s.hazards, false, 1000)?;
                check("note", &s.note, false, note)
            }
        }
    }
}

impl CloseDispute {
    /// The note within the policy's limit.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check("note", &self.note, false, policy.text.max_note_chars)
    }
}

impl DecideEscalation {
    /// The comment within the policy's limit; required (visible) when refusing.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check("comment", &self.comment, !self.approve, policy.text.max_note_chars)
    }
}

impl RejectSubsidy {
    /// A reason is required, within the policy's limit.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check("reason", &self.reason, true, policy.text.max_note_chars)
    }
}

impl RestoreHousehold {
    /// The note within the policy's limit.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check("note", &self.note, false, policy.text.max_note_chars)
    }
}

impl MarkBatchPaid {
    /// A payment reference is required.
    pub fn validate(&self) -> Result<(), Rejection> {
        check("payment_ref", &self.payment_ref, true, MAX_NAME_CHARS)
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
        assert!(e.message.starts_with("note："), "{e}");
        let mut small = p.clone();
        small.text.max_note_chars = 4;
        assert!(close("双方和解".into()).validate(&small).is_ok());
        assert!(close("双方和解了".into()).validate(&small).is_err(), "policy-backed");
    }
}
