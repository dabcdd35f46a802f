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
