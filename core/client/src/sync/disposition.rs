//! What each answer of the server does to a pushed operation, free of I/O:
//! done (applied, or a duplicate of an applied one) or quarantined for the
//! user (rejected, conflict), and the quarantine codes of the sync itself.

use fengqiao_domain::wire::Outcome;

use crate::store::QuarantineReason;

/// Quarantine code for an op the server could not parse (HTTP 422).
pub(crate) const MALFORMED_OP: &str = "malformed_op";
/// Quarantine code for an op too large for the server on its own (HTTP 413).
pub(crate) const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
/// Quarantine code for a conflict answer.
pub(crate) const CONFLICT: &str = "conflict";

/// What to do with a queued op after the server's answer.
#[derive(Debug, Clone, PartialEq)]
// Short-lived, one at a time: the size of a quarantined record does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Disposition {
    /// The server has it: remove from the outbox, mark the record synced.
    Done {
        /// It had been applied before (a duplicate delivery).
        duplicate: bool,
    },
    /// Refused for good: keep it in quarantine for the user.
    Quarantine {
        /// Rejected or conflict (for the report).
        conflict: bool,
        /// Why.
        reason: QuarantineReason,
    },
}

/// Decides what an answer means for the op. A duplicate carries the original
/// answer: a duplicate of a rejection is still a rejection.
pub(crate) fn disposition(outcome: &Outcome) -> Disposition {
    match outcome {
        Outcome::Applied { .. } => Disposition::Done { duplicate: false },
        Outcome::Duplicate { original } => match disposition(original) {
            Disposition::Done { .. } => Disposition::Done { duplicate: true },
            q => q,
        },
        Outcome::Rejected { code, message } => Disposition::Quarantine {
            conflict: false,
            reason: QuarantineReason { code: code.as_str().into(), message: message.clone(), current: None },
        },
        Outcome::Conflict { message, current } => Disposition::Quarantine {
            conflict: true,
            reason: QuarantineReason {
                code: CONFLICT.into(),
                message: message.clone(),
                current: current.as_deref().cloned(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengqiao_domain::{Household, Record, RejectionCode};
    use uuid::Uuid;

    #[test]
    fn answers_map_to_dispositions() {
        assert_eq!(disposition(&Outcome::Applied { seq: 4 }), Disposition::Done { duplicate: false });
        let dup = Outcome::Duplicate { original: Box::new(Outcome::Applied { seq: 4 }) };
        assert_eq!(disposition(&dup), Disposition::Done { duplicate: true });
        let rej = Outcome::Rejected { code: RejectionCode::NotInJurisdiction, message: "no".into() };
        let Disposition::Quarantine { conflict: false, reason } = disposition(&rej) else { panic!("rejected") };
        assert_eq!((reason.code.as_str(), reason.message.as_str()), ("not_in_jurisdiction", "no"));
        let Disposition::Quarantine { conflict: false, .. } =
            disposition(&Outcome::Duplicate { original: Box::new(rej) })
        else {
            panic!("a duplicate of a rejection stays a rejection")
        };
        let h = Record::Household(Household {
            id: Uuid::now_v7(),
            group_id: Uuid::now_v7(),
            head_name: "x".into(),
            address: "y".into(),
            phone: None,
            code: None,
            id_number: None,
        });
        let conf = Outcome::Conflict { message: "decided".into(), current: Some(Box::new(h.clone())) };
        let Disposition::Quarantine { conflict: true, reason } = disposition(&conf) else { panic!("conflict") };
        assert_eq!((reason.code.as_str(), reason.current), (CONFLICT, Some(h)));
    }
}
