//! The ladder (四级逐调): ask to move a dispute up, the approver's inbox, and
//! the decision — all offline, checked on the phone by the rules the server
//! applies. A decision another approver made first comes back from the sync
//! as a quarantined `conflict` carrying the decision that stands.

use fengqiao_core::InboxItem as CoreInboxItem;
use fengqiao_domain::disputes::Escalation as DomEscalation;

use crate::client::FieldClient;
use crate::convert::parse_id;
use crate::disputes::{DisputeItem, Escalation, EscalationDecision, EscalationReason, Level};
use crate::error::FengqiaoError;
use crate::org::OrgUnit;
use crate::runtime::guard;

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
    /// major dispute), offline. Offer the levels of `allowed_actions`. To the
    /// judicial office (`to_level` the third level), `to_unit` names the office
    /// chosen among `offices_for`: needed when more than one serves the
    /// dispute's town (`Rejected`, reason `office_choice_required`, without
    /// one; `office_not_serving` for an office that does not serve it).
    #[uniffi::method(default(to_unit = None))]
    pub fn request_escalation(
        &self,
        dispute_id: String,
        to_level: Level,
        reason: EscalationReason,
        note: String,
        to_unit: Option<String>,
    ) -> Result<Escalation, FengqiaoError> {
        guard(|| {
            let d = parse_id("dispute_id", &dispute_id)?;
            let to_unit = to_unit.map(|u| parse_id("to_unit", &u)).transpose()?;
            Ok(self.core().request_escalation_to(d, to_level.into(), reason.into(), note, to_unit)?.into())
        })
    }

    /// The judicial offices serving a dispute's town, in the order to offer
    /// them: where a move to the judicial office may go. More than one: the
    /// user chooses and `request_escalation` names the choice (`to_unit`).
    /// Empty for a dispute the user does not see. Offline.
    pub fn offices_for(&self, dispute_id: String) -> Result<Vec<OrgUnit>, FengqiaoError> {
        guard(|| {
            let d = parse_id("dispute_id", &dispute_id)?;
            Ok(self.core().offices_for(d)?.into_iter().map(OrgUnit::from).collect())
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

/// Everything an approver reads before deciding: the request, the whole case
/// file, the photos, labels and names in the core's locale, the comment
/// templates, whether the user may decide now, and a decision that stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InboxCase {
    /// The request (its decider named, if decided).
    pub escalation: Escalation,
    /// The dispute's whole case file (parties, kind, analysis, sessions,
    /// agreements, flow table, deadline).
    pub file: crate::casefile::DisputeFile,
    /// The dispute's kind in words.
    pub kind_label: String,
    /// The reason for escalation in words.
    pub reason_label: String,
    /// Who asked, by name (if within the user's jurisdiction).
    pub requester_name: Option<String>,
    /// The deadline at the current level, in the county's zone, with its state.
    pub deadline_text: String,
    /// Photos of the dispute, its sessions and its agreements.
    pub photos: Vec<crate::photos::AttachedPhoto>,
    /// Comments offered for an approval.
    pub approve_templates: Vec<String>,
    /// Comments offered for a refusal.
    pub refuse_templates: Vec<String>,
    /// The user may decide it now.
    pub may_decide: bool,
    /// Already decided: the decision that stands, its decider named.
    pub standing: Option<EscalationDecision>,
}

/// One of the user's own decisions.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MyDecision {
    /// The request decided.
    pub escalation_id: String,
    /// Its dispute.
    pub dispute_id: String,
    /// The case number.
    pub case_number: String,
    /// Approved (or refused).
    pub approved: bool,
    /// The user's comment.
    pub comment: String,
    /// When (ms, UTC).
    pub decided_at_ms: i64,
    /// Not yet confirmed by the server.
    pub pending: bool,
    /// A colleague decided first: the decision that stands (this one did not).
    pub superseded_by: Option<EscalationDecision>,
}

fn standing(s: fengqiao_core::StandingDecision) -> EscalationDecision {
    EscalationDecision { decided_by_name: s.decided_by_name, ..EscalationDecision::from(s.decision) }
}

#[uniffi::export]
impl FieldClient {
    /// The whole case behind an escalation, in one call, for the approver
    /// before deciding (also once decided: `standing` then). Offline.
    pub fn inbox_case(&self, escalation_id: String) -> Result<InboxCase, FengqiaoError> {
        guard(|| {
            let e = parse_id("escalation_id", &escalation_id)?;
            let mut c = self.core().inbox_case(e)?;
            let escalations = std::mem::take(&mut c.file.escalations);
            let mut file = crate::casefile::DisputeFile::from(c.file);
            file.escalations = escalations.into_iter().map(|e| self.escalation_named(e)).collect();
            Ok(InboxCase {
                escalation: self.escalation_named(c.escalation),
                file,
                kind_label: c.kind_label,
                reason_label: c.reason_label,
                requester_name: c.requester_name,
                deadline_text: c.deadline_text,
                photos: c.photos.into_iter().map(crate::photos::AttachedPhoto::from).collect(),
                approve_templates: c.approve_templates,
                refuse_templates: c.refuse_templates,
                may_decide: c.may_decide,
                standing: c.standing.map(standing),
            })
        })
    }

    /// The user's own decisions, newest first, with any that lost to a
    /// colleague's and the decision that stands. Offline.
    pub fn my_decisions(&self) -> Result<Vec<MyDecision>, FengqiaoError> {
        guard(|| {
            Ok(self
                .core()
                .my_decisions()?
                .into_iter()
                .map(|d| MyDecision {
                    escalation_id: crate::convert::id(d.escalation_id),
                    dispute_id: crate::convert::id(d.dispute_id),
                    case_number: d.case_number,
                    approved: d.approved,
                    comment: d.comment,
                    decided_at_ms: crate::convert::millis(d.decided_at),
                    pending: d.pending,
                    superseded_by: d.superseded_by.map(standing),
                })
                .collect())
        })
    }
}
