//! The kinds of record, and the reference a dispute's case file keeps to the
//! record (or photo) that fulfils one of its items.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What kind of record a change or a key refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// An org unit.
    Unit,
    /// A household (户).
    Household,
    /// A door-to-door visit (走访).
    Visit,
    /// A photo attached to a record.
    Attachment,
    /// A dispute (矛盾纠纷).
    Dispute,
    /// A request to move a dispute up the ladder.
    Escalation,
    /// An entry of the dispute flow table.
    FlowEntry,
    /// A mediation session record.
    MediationSession,
    /// A mediation agreement.
    Agreement,
    /// A follow-up visit.
    FollowUp,
    /// Judicial confirmation.
    JudicialConfirmation,
    /// A per-case (or per-consultation) subsidy.
    Subsidy,
    /// A case-file review.
    CaseReview,
    /// A legal consultation.
    Consultation,
    /// A payment batch.
    PaymentBatch,
    /// A village's rules and negative list.
    VillageRules,
    /// A violation of the negative list.
    Violation,
    /// Whether a household's services are suspended.
    HouseholdStanding,
    /// A village's screening for a period.
    Screening,
}

impl EntityKind {
    /// One-byte tag used in storage keys. Stable: never renumber.
    pub fn tag(self) -> u8 {
        match self {
            EntityKind::Unit => 1,
            EntityKind::Household => 2,
            EntityKind::Visit => 3,
            EntityKind::Attachment => 4,
            EntityKind::Dispute => 5,
            EntityKind::Escalation => 6,
            EntityKind::FlowEntry => 7,
            EntityKind::MediationSession => 8,
            EntityKind::Agreement => 9,
            EntityKind::FollowUp => 10,
            EntityKind::JudicialConfirmation => 11,
            EntityKind::Subsidy => 12,
            EntityKind::CaseReview => 13,
            EntityKind::Consultation => 14,
            EntityKind::PaymentBatch => 15,
            EntityKind::VillageRules => 16,
            EntityKind::Violation => 17,
            EntityKind::HouseholdStanding => 18,
            EntityKind::Screening => 19,
        }
    }

    /// Whether records of this kind belong to a dispute's case file.
    pub fn is_case_record(self) -> bool {
        matches!(
            self,
            EntityKind::Dispute
                | EntityKind::Escalation
                | EntityKind::FlowEntry
                | EntityKind::MediationSession
                | EntityKind::Agreement
                | EntityKind::FollowUp
                | EntityKind::JudicialConfirmation
                | EntityKind::CaseReview
        )
    }
}

/// The items of a case file present so far, each with what satisfies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileItem {
    /// Checklist item code (e.g. `agreement`).
    pub item: String,
    /// What satisfies it: a record kind and id, or a photo.
    pub kind: EntityKind,
    /// Record id.
    pub id: Uuid,
}
