//! The wire format between phone and server (JSON over HTTP, versioned by
//! [`crate::WIRE_VERSION`]). Readers tolerate added fields; the server's request
//! envelopes refuse unknown fields at their top level.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::disputes::{
    Agreement, ClosingOutcome, Dispute, Escalation, FollowUp, JudicialConfirmation, MediationSession,
};
use crate::model::org::RoleGrant;
use crate::model::records::{Attachment, EntityKind, Record, Visit};
use crate::model::subsidy::{CaseReview, Consultation};
use crate::wire::rejection::RejectionCode;

/// An operation: an intent recorded on the phone and applied once by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
// `report_dispute` carries the whole dispute; ops are decoded and decided one at a
// time (as records are, see `Record`), so the size does not multiply.
#[allow(clippy::large_enum_variant)]
pub enum Op {
    /// Log a door-to-door visit.
    RecordVisit(Visit),
    /// Attach a photo (already stored on the phone) to a record.
    AttachPhoto(Attachment),
    /// Report a dispute.
    ReportDispute(Dispute),
    /// Ask to move a dispute up the ladder.
    RequestEscalation(Escalation),
    /// Approve or refuse an escalation.
    DecideEscalation(DecideEscalation),
    /// Record a mediation session.
    RecordSession(MediationSession),
    /// Record a mediation agreement.
    RecordAgreement(Agreement),
    /// Record a follow-up visit.
    RecordFollowUp(FollowUp),
    /// Record judicial confirmation (application or the court's answer).
    RecordConfirmation(JudicialConfirmation),
    /// Close a dispute.
    CloseDispute(CloseDispute),
    /// Review a closed case's file (judicial office).
    ReviewCaseFile(CaseReview),
    /// Log a legal consultation (legal advisor).
    RecordConsultation(Consultation),
    /// Review a legal consultation: confirm or correct its outcome and the
    /// villager's satisfaction, which price the advisor's subsidy (judicial office).
    ReviewConsultation(ReviewConsultation),
    /// Put approved subsidies in a payment batch (county admin).
    CreatePaymentBatch(CreatePaymentBatch),
    /// Mark a batch paid (county admin).
    MarkBatchPaid(MarkBatchPaid),
    /// Refuse a subsidy with a reason (county admin).
    RejectSubsidy(RejectSubsidy),
    /// Adopt or change a village's rules and negative list.
    SetVillageRules(crate::model::prevent::VillageRules),
    /// Record the township's legality review of a village's rules.
    ReviewVillageRules(ReviewVillageRules),
    /// Record a violation against a household.
    RecordViolation(crate::model::prevent::Violation),
    /// Restore a household after correction.
    RestoreHousehold(RestoreHousehold),
    /// File a village's screening for a period.
    FileScreening(crate::model::prevent::Screening),
    /// Record whether a household signed the commitment letter to its village's
    /// rules (承诺书).
    RecordCommitment(crate::model::village_law::RecordCommitment),
    /// Re-grade and re-analyse an open dispute (its handler at its level).
    RegradeDispute(RegradeDispute),
}

/// Body of `regrade_dispute`: the dispute's grade and analysis as its handler
/// now judges them, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegradeDispute {
    /// The dispute.
    pub dispute_id: Uuid,
    /// The new grade.
    pub grade: crate::model::ladder::Grade,
    /// The new cause, consequences and difficulty.
    pub analysis: crate::model::disputes::Analysis,
    /// Why (required: `correction_reason_required`).
    #[serde(default)]
    pub reason: String,
}

/// Body of `review_village_rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewVillageRules {
    /// The village.
    pub village_id: Uuid,
    /// Reviewed as lawful (true) or not yet / withdrawn (false).
    pub reviewed: bool,
}

/// Body of `review_consultation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewConsultation {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The reviewed outcome.
    pub outcome: crate::model::subsidy::ConsultationOutcome,
    /// The reviewed satisfaction of the villager.
    pub satisfaction: crate::model::disputes::Satisfaction,
    /// The reviewer's note (e.g. what the villager said when called back).
    #[serde(default)]
    pub note: String,
}

/// Body of `restore_household`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoreHousehold {
    /// The violation corrected.
    pub violation_id: Uuid,
    /// What was corrected.
    #[serde(default)]
    pub note: String,
}

/// Body of `create_payment_batch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatePaymentBatch {
    /// New batch id.
    pub id: Uuid,
    /// Approved subsidies to pay.
    pub subsidy_ids: Vec<Uuid>,
}

/// Body of `mark_batch_paid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkBatchPaid {
    /// The batch.
    pub batch_id: Uuid,
    /// Payment reference (bank transfer number).
    pub payment_ref: String,
}

/// Body of `reject_subsidy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectSubsidy {
    /// The subsidy.
    pub subsidy_id: Uuid,
    /// Why.
    pub reason: String,
}

/// Body of `decide_escalation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecideEscalation {
    /// The escalation decided.
    pub escalation_id: Uuid,
    /// Approve (true) or refuse.
    pub approve: bool,
    /// Comment (required when refusing).
    #[serde(default)]
    pub comment: String,
}

/// Body of `close_dispute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CloseDispute {
    /// The dispute.
    pub dispute_id: Uuid,
    /// Outcome.
    pub outcome: ClosingOutcome,
    /// Note.
    #[serde(default)]
    pub note: String,
}

impl Op {
    /// The operation kind as on the wire.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Op::RecordVisit(_) => "record_visit",
            Op::AttachPhoto(_) => "attach_photo",
            Op::ReportDispute(_) => "report_dispute",
            Op::RequestEscalation(_) => "request_escalation",
            Op::DecideEscalation(_) => "decide_escalation",
            Op::RecordSession(_) => "record_session",
            Op::RecordAgreement(_) => "record_agreement",
            Op::RecordFollowUp(_) => "record_follow_up",
            Op::RecordConfirmation(_) => "record_confirmation",
            Op::CloseDispute(_) => "close_dispute",
            Op::ReviewCaseFile(_) => "review_case_file",
            Op::RecordConsultation(_) => "record_consultation",
            Op::ReviewConsultation(_) => "review_consultation",
            Op::CreatePaymentBatch(_) => "create_payment_batch",
            Op::MarkBatchPaid(_) => "mark_batch_paid",
            Op::RejectSubsidy(_) => "reject_subsidy",
            Op::SetVillageRules(_) => "set_village_rules",
            Op::ReviewVillageRules(_) => "review_village_rules",
            Op::RecordViolation(_) => "record_violation",
            Op::RestoreHousehold(_) => "restore_household",
            Op::FileScreening(_) => "file_screening",
            Op::RecordCommitment(_) => "record_commitment",
            Op::RegradeDispute(_) => "regrade_dispute",
        }
    }

    /// The record this operation creates or changes (kind and id).
    pub fn record_ref(&self) -> (EntityKind, Uuid) {
        match self {
            Op::RecordVisit(v) => (EntityKind::Visit, v.id),
            Op::AttachPhoto(a) => (EntityKind::Attachment, a.id),
            Op::ReportDispute(d) => (EntityKind::Dispute, d.id),
            Op::RequestEscalation(e) => (EntityKind::Escalation, e.id),
            Op::DecideEscalation(d) => (EntityKind::Escalation, d.escalation_id),
            Op::RecordSession(m) => (EntityKind::MediationSession, m.id),
            Op::RecordAgreement(a) => (EntityKind::Agreement, a.id),
            Op::RecordFollowUp(f) => (EntityKind::FollowUp, f.id),
            Op::RecordConfirmation(j) => (EntityKind::JudicialConfirmation, j.id),
            Op::CloseDispute(c) => (EntityKind::Dispute, c.dispute_id),
            Op::ReviewCaseFile(r) => (EntityKind::CaseReview, r.id),
            Op::RecordConsultation(c) => (EntityKind::Consultation, c.id),
            Op::ReviewConsultation(r) => (EntityKind::Consultation, r.consultation_id),
            Op::CreatePaymentBatch(b) => (EntityKind::PaymentBatch, b.id),
            Op::MarkBatchPaid(b) => (EntityKind::PaymentBatch, b.batch_id),
            Op::RejectSubsidy(r) => (EntityKind::Subsidy, r.subsidy_id),
            Op::SetVillageRules(r) => (EntityKind::VillageRules, r.id),
            Op::ReviewVillageRules(r) => (EntityKind::VillageRules, crate::model::prevent::rules_id(r.village_id)),
            Op::RecordViolation(v) => (EntityKind::Violation, v.id),
            Op::RestoreHousehold(r) => (EntityKind::Violation, r.violation_id),
            Op::FileScreening(s) => (EntityKind::Screening, s.id),
            Op::RecordCommitment(c) => {
                (EntityKind::HouseholdStanding, crate::model::prevent::standing_id(c.household_id))
            }
            Op::RegradeDispute(r) => (EntityKind::Dispute, r.dispute_id),
        }
    }
}

/// An operation with its identity: the op id is what makes it apply exactly once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpEnvelope {
    /// Unique per operation (UUIDv7 made on the device).
    pub op_id: Uuid,
    /// Format version of this operation.
    pub v: u32,
    /// The user who made it on the phone; must be the user whose token sends it.
    pub author: Uuid,
    /// Device clock when it was made (informational only; never orders anything).
    pub created_at: DateTime<Utc>,
    /// The intent.
    pub op: Op,
    /// The highest feed sequence the phone had pulled when it made the op. A
    /// refusal because a record the op acts on is in another state is a lost
    /// race when that record changed after this (answered `conflict` with the
    /// record as it stands); otherwise it stays a rejection. Absent: unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<u64>,
}

/// `POST /v1/sync/push` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// Wire version of the sender.
    pub v: u32,
    /// The operations, oldest first. Each is checked on its own; a malformed one
    /// refuses the whole batch (422 naming its index) and nothing is applied.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<OpEnvelope>))]
    pub ops: Vec<serde_json::Value>,
}

/// The server's answer to one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied now; its changes are in the feed at `seq` (0 if it changed nothing).
    Applied {
        /// Feed sequence of the last change it made.
        seq: u64,
    },
    /// Seen before: the original answer.
    Duplicate {
        /// What the server answered the first time.
        #[cfg_attr(feature = "openapi", schema(no_recursion))]
        original: Box<Outcome>,
    },
    /// Refused for good: the phone keeps it where the user can see it.
    Rejected {
        /// Stable code.
        code: RejectionCode,
        /// Human message.
        message: String,
    },
    /// Refused because the state moved on (e.g. another approver decided first).
    Conflict {
        /// Human message.
        message: String,
        /// The state that stands.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current: Option<Box<Record>>,
    },
}

/// The answer to one operation, by op id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpAnswer {
    /// The operation answered.
    pub op_id: Uuid,
    /// What happened to it.
    pub outcome: Outcome,
}

/// `POST /v1/sync/push` response: one answer per operation, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// Wire version of the server.
    pub v: u32,
    /// One per pushed operation, same order.
    pub answers: Vec<OpAnswer>,
}

/// Whether a change puts a record or tells the phone to drop one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    /// The record is new or changed: store it.
    Put,
    /// The record left the caller's jurisdiction (or was removed): drop it.
    Drop,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Server sequence number: the only order there is.
    pub seq: u64,
    /// Put or drop.
    pub action: ChangeAction,
    /// Kind of record.
    pub entity: EntityKind,
    /// Record id.
    pub id: Uuid,
    /// The record, for a put.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Record>,
}

impl Change {
    /// The kind whose visibility rule governs this change (see
    /// [`Record::visibility_kind`]); for a drop, its entity.
    pub fn visibility_kind(&self) -> EntityKind {
        self.record.as_ref().map(Record::visibility_kind).unwrap_or(self.entity)
    }

    /// Parses a change leniently: `None` for a kind of record this build does not
    /// know (an older app meeting a newer server skips it instead of failing).
    pub fn from_json_lenient(v: serde_json::Value) -> Option<Change> {
        serde_json::from_value(v).ok()
    }
}

/// `GET /v1/sync/pull` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// Wire version of the server.
    pub v: u32,
    /// True when the caller's scope changed since the cursor, or the cursor is
    /// beyond the end of the feed (the server was restored from a backup): drop
    /// everything pulled before and take these changes as the start.
    #[serde(default)]
    pub reset: bool,
    /// Changes in sequence order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Change>))]
    pub changes: Vec<serde_json::Value>,
    /// Cursor to send next time.
    pub next_cursor: String,
    /// More changes wait beyond this page.
    pub has_more: bool,
    /// The feed position this page reached (0 from a server that does not say):
    /// with [`PullResponse::head`], how far a first pull has come.
    #[serde(default)]
    pub position: u64,
    /// The end of the whole feed when the page was read (0 from a server that does not say).
    #[serde(default)]
    pub head: u64,
    /// The entity tag of the county's policy as `GET /v1/policy` serves it (its
    /// version, quoted as an `ETag` is not): the phone fetches the policy only when
    /// this differs from the one it keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_tag: Option<String>,
}

/// `GET /v1/sync/wait` response: whether the caller's scope has a change after
/// the cursor (then the app pulls), or the wait's time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitResponse {
    /// A change in the caller's scope waits to be pulled.
    pub changed: bool,
}

/// A user as colleagues see them: the id records carry, and the name to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// User id (as in `decided_by`, `requested_by`, ...).
    pub id: Uuid,
    /// Display name.
    pub display_name: String,
}

/// `GET /v1/people`: the users whose roles lie within the caller's
/// jurisdiction (and the caller), so the phone shows names, not ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeopleResponse {
    /// Those users, by id.
    pub people: Vec<Person>,
}

/// `POST /v1/auth/login` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// The phone's install id (made by the app), to list and revoke devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Uuid>,
}

/// `POST /v1/auth/refresh` and `/v1/auth/logout` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token last handed out.
    pub refresh_token: String,
    /// The phone's install id (as sent at sign-in). A refresh retried by the
    /// same device shortly after its answer was lost is answered again instead
    /// of being taken for theft (see the policy's `auth.refresh_retry_grace_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Uuid>,
}

/// A role grant with its unit's name, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantInfo {
    /// The grant.
    #[serde(flatten)]
    pub grant: RoleGrant,
    /// Name of the unit it is bound to.
    #[serde(default)]
    pub unit_name: String,
    /// The unit and every unit above it, the county last (names and codes for
    /// display and case numbers; a phone holds no records above its units).
    #[serde(default)]
    pub ancestors: Vec<crate::model::org::OrgUnit>,
}

/// `POST /v1/cases/blocks` response: a block of case numbers reserved for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseBlock {
    /// Year of the block (server time, county zone).
    pub year: i32,
    /// Block number.
    pub block: u32,
    /// Numbers in the block (indexes 0 to size - 1).
    pub size: u32,
}

/// The signed-in user, as the phone caches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    /// User id.
    pub id: Uuid,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Roles and their units.
    pub roles: Vec<GrantInfo>,
}

/// Login and refresh response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// Signed access token (JWT, EdDSA).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// When the access token expires (UTC).
    pub expires_at: DateTime<Utc>,
    /// Opaque refresh token; spend it once.
    pub refresh_token: String,
    /// When the refresh token expires (UTC).
    pub refresh_expires_at: DateTime<Utc>,
    /// The user and their roles.
    pub user: UserInfo,
    /// The password was reset by an administrator: until it is changed
    /// (`POST /v1/auth/password`) every other call is refused with
    /// `password_change_required`.
    #[serde(default)]
    pub must_change_password: bool,
}

/// `POST /v1/auth/password` body: change one's own password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    pub old_password: String,
    /// The new password (at least the policy's `auth.min_password_chars`).
    pub new_password: String,
}

/// The JSON body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable code (e.g. `malformed_body`, `unauthorized`).
    pub code: String,
    /// Human message.
    pub message: String,
    /// For a refused push: index of the offending operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_index: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::VisitKind;

    #[test]
    fn op_roundtrips_with_kind_and_body() {
        let env = OpEnvelope {
            op_id: Uuid::now_v7(),
            v: 1,
            author: Uuid::now_v7(),
            created_at: Utc::now(),
            op: Op::RecordVisit(Visit {
                id: Uuid::now_v7(),
                household_id: Uuid::now_v7(),
                visitor_id: Uuid::now_v7(),
                visited_at: Utc::now(),
                kind: VisitKind::Routine,
                notes: String::new(),
                location: None,
                leads: vec![],
                group_id: None,
                body: None,
            }),
            seen: None,
        };
        let j = serde_json::to_value(&env).unwrap();
        assert_eq!(j["op"]["kind"], "record_visit");
        assert_eq!(serde_json::from_value::<OpEnvelope>(j).unwrap(), env);
    }

    #[test]
    fn unknown_op_kind_and_unknown_envelope_field_fail_to_parse() {
        let j = serde_json::json!({"op_id": Uuid::now_v7(), "v": 1, "author": Uuid::now_v7(),
            "created_at": "2026-01-01T00:00:00Z", "op": {"kind": "launch_rocket", "body": {}}});
        assert!(serde_json::from_value::<OpEnvelope>(j).is_err());
        let j = serde_json::json!({"op_id": Uuid::now_v7(), "v": 1, "author": Uuid::now_v7(), "admin": true,
            "created_at": "2026-01-01T00:00:00Z", "op": {"kind": "record_visit", "body": {}}});
        assert!(serde_json::from_value::<OpEnvelope>(j).is_err());
    }

    #[test]
    fn unknown_entity_change_is_skipped_not_fatal() {
        let j =
            serde_json::json!({"seq": 5, "action": "put", "entity": "spaceship", "id": Uuid::now_v7(), "record": {}});
        assert!(Change::from_json_lenient(j).is_none());
        let j =
            serde_json::json!({"seq": 5, "action": "drop", "entity": "visit", "id": Uuid::now_v7(), "new_field": 1});
        assert!(Change::from_json_lenient(j).is_some());
    }
}
