//! Why an operation was refused: a stable code and a human message.

use serde::{Deserialize, Serialize};

/// Stable codes of permanent rejections. Phones and scripts match on these; never
/// rename one (add new ones instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    /// A field is missing, malformed or out of range.
    InvalidField,
    /// The target is not inside the author's units (or does not exist: the two are
    /// not told apart, so nothing leaks about records outside one's jurisdiction).
    NotInJurisdiction,
    /// None of the author's roles may do this.
    RoleNotAllowed,
    /// The operation's author is not the user whose token sent it.
    AuthorMismatch,
    /// A record with this id exists already with different content.
    IdConflict,
    /// The operation's format version is newer than the server understands.
    UnsupportedVersion,
    /// The record is not in a state that allows this (e.g. closed).
    InvalidState,
    /// Nobody may approve their own request.
    SelfApproval,
    /// A text field is longer than its limit (the message names the field).
    TextTooLong,
    /// Several judicial offices serve the dispute's town and the move to the third
    /// level names none of them.
    OfficeChoiceRequired,
    /// The judicial office named does not serve the dispute's town.
    OfficeNotServing,
    /// A sanction names a statutory benefit (低保, 医保, 义务教育 …), which no
    /// village rules or policy may suspend.
    ProtectedBenefit,
    /// A credited mediator (a payee) is no user of the system.
    MediatorUnknown,
    /// A credited mediator's account is disabled.
    MediatorDisabled,
    /// A credited mediator holds no role that mediates at the session's level
    /// within (or above) that level's unit.
    MediatorNotAllowed,
    /// A change of a case's reviewed or recorded facts (a case-file review that
    /// corrects grade or difficulty, a re-grading) gives no reason.
    CorrectionReasonRequired,
    /// The case's subsidy is already in a payment batch or paid: its review can
    /// no longer change.
    SubsidyAlreadyPaid,
}

impl RejectionCode {
    /// Every code, in declaration order (a new code is added here too; the
    /// domain's message test drives each through a refusal).
    pub const ALL: &'static [RejectionCode] = &[
        RejectionCode::InvalidField,
        RejectionCode::NotInJurisdiction,
        RejectionCode::RoleNotAllowed,
        RejectionCode::AuthorMismatch,
        RejectionCode::IdConflict,
        RejectionCode::UnsupportedVersion,
        RejectionCode::InvalidState,
        RejectionCode::SelfApproval,
        RejectionCode::TextTooLong,
        RejectionCode::OfficeChoiceRequired,
        RejectionCode::OfficeNotServing,
        RejectionCode::ProtectedBenefit,
        RejectionCode::MediatorUnknown,
        RejectionCode::MediatorDisabled,
        RejectionCode::MediatorNotAllowed,
        RejectionCode::CorrectionReasonRequired,
        RejectionCode::SubsidyAlreadyPaid,
    ];

    /// The code of its wire string (`None` for a code this build does not know).
    pub fn parse(s: &str) -> Option<RejectionCode> {
        RejectionCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::InvalidField => "invalid_field",
            RejectionCode::NotInJurisdiction => "not_in_jurisdiction",
            RejectionCode::RoleNotAllowed => "role_not_allowed",
            RejectionCode::AuthorMismatch => "author_mismatch",
            RejectionCode::IdConflict => "id_conflict",
            RejectionCode::UnsupportedVersion => "unsupported_version",
            RejectionCode::InvalidState => "invalid_state",
            RejectionCode::SelfApproval => "self_approval",
            RejectionCode::TextTooLong => "text_too_long",
            RejectionCode::OfficeChoiceRequired => "office_choice_required",
            RejectionCode::OfficeNotServing => "office_not_serving",
            RejectionCode::ProtectedBenefit => "protected_benefit",
            RejectionCode::MediatorUnknown => "mediator_unknown",
            RejectionCode::MediatorDisabled => "mediator_disabled",
            RejectionCode::MediatorNotAllowed => "mediator_not_allowed",
            RejectionCode::CorrectionReasonRequired => "correction_reason_required",
            RejectionCode::SubsidyAlreadyPaid => "subsidy_already_paid",
        }
    }
}

/// A permanent refusal of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{code:?}: {message}")]
pub struct Rejection {
    /// Stable code.
    pub code: RejectionCode,
    /// Human-readable explanation (no personal data).
    pub message: String,
}

impl Rejection {
    /// A rejection with a code and message.
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Self {
        Rejection { code, message: message.into() }
    }
}

/// Why `message` is not plain Chinese for a user's screen, if it is not: it must
/// hold Chinese, and no raw code (`snake_case`) nor English rule text (two
/// lowercase English words in a row). Tests call it on every refusal they drive.
pub fn unreadable_reason(message: &str) -> Option<&'static str> {
    if !message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        return Some("no Chinese");
    }
    let words: Vec<&str> = message.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    if words.iter().any(|w| w.contains('_') && w.chars().any(|c| c.is_ascii_lowercase())) {
        return Some("a raw snake_case code");
    }
    let english = |w: &&str| w.len() > 1 && w.chars().all(|c| c.is_ascii_lowercase());
    let mut ascii_words = message.split(|c: char| c.is_whitespace()).filter(|w| !w.is_empty()).peekable();
    while let Some(w) = ascii_words.next() {
        if english(&w) && ascii_words.peek().is_some_and(english) {
            return Some("English text");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_from_its_wire_string() {
        for c in RejectionCode::ALL {
            assert_eq!(RejectionCode::parse(c.as_str()), Some(*c));
        }
        assert_eq!(RejectionCode::parse("no_such_code"), None);
    }

    #[test]
    fn the_readability_check_refuses_codes_and_english() {
        assert_eq!(unreadable_reason("当事人：每件纠纷 1 至 200 人"), None);
        assert_eq!(unreadable_reason("照片格式：只收 JPEG、PNG 或 WebP"), None);
        assert_eq!(unreadable_reason("parties: 1 to 200"), Some("no Chinese"));
        assert_eq!(unreadable_reason("to_unit：请选择"), Some("a raw snake_case code"));
        assert_eq!(unreadable_reason("纠纷 is not within your units"), Some("English text"));
    }
}
