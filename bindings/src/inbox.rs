//! The ladder (四级逐调): ask to move a dispute up, the approver's inbox, and
//! the decision — all offline, checked on the phone by the rules the server
//! applies. A decision another approver made first comes back from the sync
//! as a quarantined `conflict` carrying the decision that stands.

use fengqiao_core::InboxItem as CoreInboxItem;
use fengqiao_domain::disputes::{
    Escalation as DomEscalation, EscalationDecision as DomDecision, EscalationReason as DomReason,
};

use crate::client::FieldClient;
use crate::convert::{id, millis, mirror_enum, parse_id};
use crate::disputes::{DisputeItem, Grade, Level};
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// Why a dispute is asked to move up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum EscalationReason {
    /// 屡调不成: repeated mediation failed.
    RepeatedMediationFailed,
    /// Beyond this level's scope.
    OutsideLevelScope,
    /// Parties highly agitated.
    PartiesAgitated,
    /// Large sums involved.
    LargeSums,
    /// A major dispute going straight to the level its grade needs.
    MajorGrade,
    /// Other (explain in the note).
    Other,
}
mirror_enum!(EscalationReason <=> DomReason {
    RepeatedMediationFailed,
    OutsideLevelScope,
    PartiesAgitated,
    LargeSums,
    MajorGrade,
    Other,
});

/// An approver's decision.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EscalationDecision {
    /// Approved or refused.
    pub approved: bool,
    /// Comment (required when refusing).
    pub comment: String,
    /// Who decided (user id).
    pub decided_by: String,
    /// Who decided, by name: set where the phone knows it (the user, or
    /// someone within their jurisdiction, once a sync brought the names);
    /// `None` otherwise.
    pub decided_by_name: Option<String>,
    /// When (ms, UTC; server time once synced).
    pub decided_at_ms: i64,
}

impl From<DomDecision> for EscalationDecision {
    fn from(d: DomDecision) -> Self {
        EscalationDecision {
            approved: d.approved,
            comment: d.comment,
            decided_by: id(d.decided_by),
            decided_by_name: None,
            decided_at_ms: millis(d.decided_at),
        }
    }
}

impl FieldClient {
    /// `e` as the bindings' record, its decider named as the core names them
    /// (`FieldClient::decider_name` of the core).
    pub(crate) fn escalation_named(&self, e: DomEscalation) -> Escalation {
        let name = self.core().decider_name(&e);
        let mut out = Escalation::from(e);
        if let Some(d) = out.decision.as_mut() {
            d.decided_by_name = name;
        }
        out
    }
}

/// A request to move a dispute up the ladder.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Escalation {
    /// Id (made on the phone).
    pub id: String,
    /// The dispute.
    pub dispute_id: String,
    /// The level it leaves.
    pub from_level: Level,
    /// The level it asks to go to.
    pub to_level: Level,
    /// Why.
    pub reason: EscalationReason,
    /// Explanation.
    pub note: String,
    /// Who asked.
    pub requested_by: String,
    /// When (ms, UTC; server time once synced).
    pub requested_at_ms: i64,
    /// The dispute's grade at the request.
    pub grade: Grade,
    /// The decision, once made.
    pub decision: Option<EscalationDecision>,
}

impl From<DomEscalation> for Escalation {
    fn from(e: DomEscalation) -> Self {
        Escalation {
            id: id(e.id),
            dispute_id: id(e.dispute_id),
            from_level: e.from_level.into(),
            to_level: e.to_level.into(),
            reason: e.reason.into(),
            note: e.note,
            requested_by: id(e.requested_by),
            requested_at_ms: millis(e.requested_at),
            grade: e.grade.into(),
            decision: e.decision.map(EscalationDecision::from),
        }
    }
}

/// An escalation waiting for this user's decision, with its dispute.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InboxItem {
    /// The request.
    pub escalation: Escalation,
    /// Its dispute.
    pub dispute: DisputeItem,
}

impl From<CoreInboxItem> for InboxItem {
    fn from(i: CoreInboxItem) -> Self {
        InboxItem { escalation: i.escalation.into(), dispute: i.dispute.into() }
    }
}

#[uniffi::export]
impl FieldClient {
    /// Asks to move a dispute up to `to_level` (one step; more only for a
    /// major dispute), offline. Offer the levels of `allowed_actions`.
    pub fn request_escalation(
        &self,
        dispute_id: String,
        to_level: Level,
        reason: EscalationReason,
        note: String,
    ) -> Result<Escalation, FengqiaoError> {
        guard(|| {
            let d = parse_id("dispute_id", &dispute_id)?;
            Ok(self.core().request_escalation(d, to_level.into(), reason.into(), note)?.into())
        })
    }

    /// The approver's inbox: escalations in the user's jurisdiction that they
    /// may decide, most severe first, then oldest first. Offline after a sync.
    pub fn escalation_inbox(&self) -> Result<Vec<InboxItem>, FengqiaoError> {
        guard(|| Ok(self.core().escalation_inbox()?.into_iter().map(InboxItem::from).collect()))
    }

    /// Approves or refuses an escalation (a comment is required to refuse),
    /// offline. Someone who may not decide it gets `Rejected` (reason
    /// `role_not_allowed`, `self_approval`, …) and nothing is queued.
    pub fn decide_escalation(
        &self,
        escalation_id: String,
        approve: bool,
        comment: String,
    ) -> Result<Escalation, FengqiaoError> {
        guard(|| {
            let e = parse_id("escalation_id", &escalation_id)?;
            Ok(self.escalation_named(self.core().decide_escalation(e, approve, comment)?))
        })
    }

    /// For a quarantined decision that lost to another approver's: the
    /// decision that stands, with the decider's name (`decided_by_name`)
    /// when they are within the user's jurisdiction (none for any other
    /// quarantined operation).
    pub fn standing_decision(&self, op_id: String) -> Result<Option<EscalationDecision>, FengqiaoError> {
        guard(|| {
            let op = parse_id("op_id", &op_id)?;
            Ok(self.core().standing_decision(op)?.map(|s| EscalationDecision {
                decided_by_name: s.decided_by_name,
                ..EscalationDecision::from(s.decision)
            }))
        })
    }

    /// The display name of a user as the signed-in user may see it: their
    /// own, or that of someone whose role lies within their jurisdiction
    /// (names come with each sync); `None` for anyone else. Offline.
    pub fn display_name(&self, user_id: String) -> Result<Option<String>, FengqiaoError> {
        guard(|| Ok(self.core().display_name(parse_id("user_id", &user_id)?)?))
    }
}
