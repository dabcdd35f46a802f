//! The dispute flow table (矛盾纠纷排查化解流向表): the entries the server
//! appends at every move of a dispute.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::ladder::Level;

/// What a flow-table entry registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// Reported (排查登记).
    Reported,
    /// Escalation asked for.
    EscalationRequested,
    /// Escalation approved: the level changed.
    EscalationApproved,
    /// Escalation refused: the level stays.
    EscalationRefused,
    /// A mediation session.
    SessionRecorded,
    /// An agreement.
    AgreementRecorded,
    /// A follow-up.
    FollowUpRecorded,
    /// Judicial confirmation applied or answered.
    ConfirmationRecorded,
    /// Closed.
    Closed,
    /// Re-graded or re-analysed while open (the note gives old → new and the reason).
    Regraded,
    /// The judicial office's case-file review: grade and difficulty confirmed or
    /// corrected (the note gives the reviewed values and any correction's reason).
    CaseReviewed,
}

/// One entry of the dispute flow table (矛盾纠纷排查化解流向表): server-authored,
/// append-only, never edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowEntry {
    /// Stable id.
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// Its case number.
    pub case_number: String,
    /// Position in the dispute's flow, from 1.
    pub step: u32,
    /// What happened.
    pub kind: FlowKind,
    /// The level after this step.
    pub level: Level,
    /// The handling unit after this step.
    pub handler_unit: Uuid,
    /// Who did it.
    pub actor: Uuid,
    /// Server time.
    pub at: DateTime<Utc>,
    /// Comment, reason or result.
    #[serde(default)]
    pub note: String,
}
