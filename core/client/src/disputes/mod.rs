//! Disputes on the phone: reporting (with a case number taken offline from a
//! block reserved earlier), the case file (sessions, agreement, follow-ups,
//! judicial confirmation, closing), escalation requests and decisions — all
//! offline, each an operation in the outbox.
//!
//! Every action takes the one operation path ([`crate::ops`]): the domain's own
//! `decide` over the phone's [`PhoneView`] (the server's rule, run on local
//! state), so the phone refuses what the server would refuse; the server stays
//! the authority. The record the op creates or changes is kept locally as the
//! domain computed it (the phone's optimistic view) until a pull brings the
//! server's copy.

mod approvals;
pub(crate) mod case_numbers;
pub(crate) mod checklist;
mod inbox;
mod lists;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use fengqiao_domain::apply::{unit_scope, StateView};
use fengqiao_domain::apply_disputes::{handles, level_unit, offices_serving, target_of};
use fengqiao_domain::disputes::{
    Agreement, Analysis, CaseNumber, ClosingOutcome, Dispute, Escalation, EscalationDecision, EscalationReason,
    FollowUp, JudicialConfirmation, MediationSession, Party, Satisfaction,
};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::wire::{CloseDispute, DecideEscalation, Op, RegradeDispute};
use fengqiao_domain::{EntityKind, OrgUnit, Record, Rejection, RejectionCode};
use uuid::Uuid;

pub use self::approvals::{InboxCase, MyDecision};
pub use self::case_numbers::CaseNumberStock;
pub use self::checklist::{CaseFileCheck, ChecklistLine};
pub use self::inbox::{DisputeActions, DisputeFile, DisputeItem, InboxItem};
pub use self::lists::{dispute_order, DisputeFilter};
use crate::client::{FieldClient, QuarantinedOp};
use crate::error::{ClientError, Error};
use crate::ops::{actor_of, typed, Enqueue};
use crate::store::{RecordState, StoredSession};
use crate::view::{view_error, PhoneView};

/// A dispute as the user reports it (from a visit's lead or directly).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDispute {
    /// Kind: one of the policy's `disputes.kinds` codes.
    pub kind: String,
    /// The group or village where it arose (a unit on this phone).
    pub origin_unit: Uuid,
    /// Parties (at least one).
    pub parties: Vec<Party>,
    /// What it is about.
    pub summary: String,
    /// Grade.
    pub grade: Grade,
    /// Cause, expected consequences, mediation difficulty.
    pub analysis: Analysis,
    /// When it was found; `None`: now.
    pub found_at: Option<DateTime<Utc>>,
    /// The visit lead it came from, if any.
    pub lead_id: Option<Uuid>,
    /// The level that takes it; `None`: the lowest level the user handles there.
    pub level: Option<Level>,
}

/// A mediation session as the user records it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    /// The dispute.
    pub dispute_id: Uuid,
    /// When; `None`: now.
    pub held_at: Option<DateTime<Utc>>,
    /// Where.
    pub place: String,
    /// Mediators (user ids); empty: the user.
    pub mediators: Vec<Uuid>,
    /// Other participants (e.g. respected villagers).
    pub participants: Vec<String>,
    /// What was said and agreed.
    pub record: String,
    /// Whether the parties agreed.
    pub agreed: bool,
}

/// A mediation agreement as the user records it. Money in integer fen.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAgreement {
    /// The dispute.
    pub dispute_id: Uuid,
    /// When signed; `None`: now.
    pub signed_at: Option<DateTime<Utc>>,
    /// Terms.
    pub terms: String,
    /// Sum to be paid, in fen.
    pub sum_fen: i64,
    /// Obligations of each party.
    pub obligations: String,
    /// SHA-256 (lowercase hex) of photos of the parties' signatures.
    pub signature_photos: Vec<String>,
}

/// A follow-up visit as the user records it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFollowUp {
    /// The dispute.
    pub dispute_id: Uuid,
    /// When; `None`: now.
    pub at: Option<DateTime<Utc>>,
    /// Whether the agreement is fulfilled.
    pub fulfilled: bool,
    /// Parties' satisfaction.
    pub satisfaction: Satisfaction,
    /// Note.
    pub note: String,
}

/// Judicial confirmation as the user records it (the application, or later the
/// court's answer as a new record).
#[derive(Debug, Clone, PartialEq)]
pub struct NewConfirmation {
    /// The dispute.
    pub dispute_id: Uuid,
    /// The agreement to confirm.
    pub agreement_id: Uuid,
    /// When applied; `None`: now.
    pub applied_at: Option<DateTime<Utc>>,
    /// Court.
    pub court: String,
    /// The court's answer, once known.
    pub confirmed: Option<bool>,
    /// When the court answered.
    pub answered_at: Option<DateTime<Utc>>,
}

impl QuarantinedOp {
    /// For an escalation decision the server refused because another approver
    /// decided first: the decision that stands.
    pub fn standing_decision(&self) -> Option<&EscalationDecision> {
        match &self.current {
            Some(Record::Escalation(e)) if self.kind == "decide_escalation" => e.decision.as_ref(),
            _ => None,
        }
    }
}

impl FieldClient {
    /// Reports a dispute offline. It gets a case number from a block this user
    /// reserved earlier (taken in the same transaction that saves the dispute
    /// and its operation, never reused). With no number left:
    /// [`ClientError::Rejected`] with reason `no_case_numbers` (connect once to
    /// reserve more).
    pub fn report_dispute(&self, new: NewDispute) -> Result<Dispute, ClientError> {
        Ok(self.report_dispute_inner(new)?)
    }

    fn report_dispute_inner(&self, nd: NewDispute) -> Result<Dispute, Error> {
        let session = self.session()?;
        let user = session.user.id;
        let now = self.options.clock.now();
        let level = match nd.level {
            Some(l) => l,
            None => self.lowest_handled_level(&session, nd.origin_unit)?,
        };
        let view = PhoneView::new(self.store.as_ref(), Some(&session));
        let scope = unit_scope(&view, nd.origin_unit).map_err(view_error)?.unwrap_or_default();
        let mut chain = Vec::with_capacity(scope.len());
        for id in &scope {
            chain.extend(view.unit(*id)?);
        }
        let prefix = fengqiao_domain::disputes::case_prefix(&chain).ok_or_else(|| {
            Error::Rejected(Rejection::new(
                RejectionCode::NotInJurisdiction,
                "发生地：所选地点不是您负责的村或组（或还没有同步到本机）",
            ))
        })?;
        let handler_unit = level_unit(&view, &scope, level).map_err(view_error)?.unwrap_or(nd.origin_unit);
        let mut dispute = Dispute {
            id: fengqiao_domain::new_id(),
            case_number: String::new(),
            kind: nd.kind,
            origin_unit: nd.origin_unit,
            parties: nd.parties,
            summary: nd.summary,
            grade: nd.grade,
            analysis: nd.analysis,
            found_at: nd.found_at.unwrap_or(now),
            lead_id: nd.lead_id,
            reported_by: user,
            level,
            handler_unit,
            level_since: now,
            registered_at: now,
            pending_escalation: None,
            closing: None,
            flow_count: 0,
            case_file: Vec::new(),
            credited: Vec::new(),
            earlier_credit: Vec::new(),
            payees: Vec::new(),
            deadline_floor: None,
            // the policy this phone checks the report against: a kind the county
            // removes later is still accepted for it
            policy_version: self.policy().version(),
            deadlines: None,
        };
        // What the reporter filled in is checked before a number is claimed:
        // bad input is told as such, even on a phone with no number left.
        dispute.validate_report(&self.policy(), None).map_err(Error::refused)?;
        // A few tries: another report on this phone may take the number between
        // reading the blocks and claiming (the claim is checked in the store).
        for _ in 0..8 {
            let claim = self.next_case_claim(user)?;
            dispute.case_number =
                CaseNumber { prefix: prefix.clone(), year: claim.year, block: claim.block, index: claim.index }
                    .format();
            let d = self.decide_locally(&session, Op::ReportDispute(dispute.clone()), now)?;
            if self.enqueue_decided(&d, Enqueue::Claiming(&claim))?.is_some() {
                return typed(d.record);
            }
        }
        Err(Error::Store(crate::store::StoreError::Backend("case number contended: try again".into())))
    }

    /// The lowest level at which the user handles disputes arising at `origin`.
    fn lowest_handled_level(&self, session: &StoredSession, origin: Uuid) -> Result<Level, Error> {
        let view = PhoneView::new(self.store.as_ref(), Some(session));
        let actor = actor_of(session);
        if let Some(scope) = unit_scope(&view, origin).map_err(view_error)? {
            for level in Level::ALL {
                let Some(unit) = level_unit(&view, &scope, level).map_err(view_error)? else { continue };
                let probe = probe_dispute(origin, level, unit);
                if handles(&actor, &probe, &scope) {
                    return Ok(level);
                }
            }
        }
        Err(Error::Rejected(Rejection::new(RejectionCode::RoleNotAllowed, "权限：您的角色不办理发生在那里的纠纷")))
    }

    /// A report prefilled from a lead found on a visit on this phone: its
    /// summary, the visit's group and time. Fill in kind, parties, grade and
    /// analysis, then [`report_dispute`](Self::report_dispute).
    pub fn dispute_draft_from_lead(&self, visit_id: Uuid, lead_id: Uuid) -> Result<NewDispute, ClientError> {
        let run = || -> Result<NewDispute, Error> {
            self.session()?;
            let not_found = || Error::NotFound("本机上没有这条苗头隐患".into());
            let Some(Record::Visit(v)) = self.store.get_record(EntityKind::Visit, visit_id)?.map(|r| r.record) else {
                return Err(not_found());
            };
            let lead = v.leads.iter().find(|l| l.id == lead_id).ok_or_else(not_found)?;
            let origin_unit = match v.group_id {
                Some(g) => g,
                None => match self.store.get_record(EntityKind::Household, v.household_id)?.map(|r| r.record) {
                    Some(Record::Household(h)) => h.group_id,
                    _ => return Err(not_found()),
                },
            };
            Ok(NewDispute {
                kind: String::new(),
                origin_unit,
                parties: vec![],
                summary: lead.summary.clone(),
                grade: Grade::General,
                analysis: Analysis {
                    cause: String::new(),
                    consequences: String::new(),
                    difficulty: fengqiao_domain::disputes::Difficulty::Low,
                },
                found_at: Some(v.visited_at),
                lead_id: Some(lead.id),
                level: None,
            })
        };
        Ok(run()?)
    }

    /// Asks to move a dispute up to `to_level` (one step; more only for a major
    /// dispute), offline. To the judicial office of a town that several offices
    /// serve, use [`request_escalation_to`](Self::request_escalation_to).
    pub fn request_escalation(
        &self,
        dispute_id: Uuid,
        to_level: Level,
        reason: EscalationReason,
        note: String,
    ) -> Result<Escalation, ClientError> {
        self.request_escalation_to(dispute_id, to_level, reason, note, None)
    }

    /// [`request_escalation`](Self::request_escalation) naming the judicial
    /// office it goes to (`to_unit`, one of [`offices_for`](Self::offices_for)).
    /// With none named, a town that several offices serve refuses the move to
    /// the third level (`office_choice_required`); an office that does not
    /// serve the dispute's town is refused (`office_not_serving`).
    pub fn request_escalation_to(
        &self,
        dispute_id: Uuid,
        to_level: Level,
        reason: EscalationReason,
        note: String,
        to_unit: Option<Uuid>,
    ) -> Result<Escalation, ClientError> {
        self.submit(|a| {
            Op::RequestEscalation(Escalation {
                id: fengqiao_domain::new_id(),
                dispute_id,
                // The domain sets the level it leaves and the grade.
                from_level: Level::Group,
                to_level,
                reason,
                note,
                requested_by: a.user,
                requested_at: a.now,
                grade: Grade::General,
                to_unit,
                decision: None,
            })
        })
    }

    /// The judicial offices serving a dispute's town, where a move to the third
    /// level may go, by code (then name): the office units the signed-in user's
    /// session names for that town, or the town itself when no office unit serves
    /// it. More than one: the user chooses, and the request names the choice
    /// ([`request_escalation_to`](Self::request_escalation_to)). Empty for a
    /// dispute the user does not see. Offline.
    pub fn offices_for(&self, dispute_id: Uuid) -> Result<Vec<OrgUnit>, ClientError> {
        let run = || -> Result<Vec<OrgUnit>, Error> {
            let session = self.session()?;
            let view = PhoneView::new(self.store.as_ref(), Some(&session));
            let actor = actor_of(&session);
            let Some(Record::Dispute(d)) = view.get(EntityKind::Dispute, dispute_id).map_err(view_error)? else {
                return Ok(Vec::new());
            };
            let Some(scope) = unit_scope(&view, d.origin_unit).map_err(view_error)? else { return Ok(Vec::new()) };
            if !actor.may_see(EntityKind::Dispute, &scope) {
                return Ok(Vec::new());
            }
            let mut out = Vec::new();
            for id in offices_serving(&view, &scope).map_err(view_error)? {
                out.extend(view.unit(id)?);
            }
            out.sort_by(|a, b| (&a.code, &a.name).cmp(&(&b.code, &b.name)));
            Ok(out)
        };
        Ok(run()?)
    }

    /// Approves or refuses an escalation (a comment is required to refuse),
    /// offline. If another approver's decision reaches the server first, this
    /// one comes back as a conflict in quarantine carrying the decision that
    /// stands ([`QuarantinedOp::standing_decision`]); the next pull shows it.
    pub fn decide_escalation(
        &self,
        escalation_id: Uuid,
        approve: bool,
        comment: String,
    ) -> Result<Escalation, ClientError> {
        self.submit(|_| Op::DecideEscalation(DecideEscalation { escalation_id, approve, comment }))
    }

    /// Records a mediation session, offline.
    pub fn record_session(&self, new: NewSession) -> Result<MediationSession, ClientError> {
        self.submit(|a| {
            Op::RecordSession(MediationSession {
                id: fengqiao_domain::new_id(),
                dispute_id: new.dispute_id,
                held_at: new.held_at.unwrap_or(a.now),
                place: new.place,
                mediators: if new.mediators.is_empty() { vec![a.user] } else { new.mediators },
                participants: new.participants,
                record: new.record,
                agreed: new.agreed,
                level: None,
                author: a.user,
            })
        })
    }

    /// Records a mediation agreement, offline. Signature photos are listed by
    /// SHA-256; attach each photo's file to the agreement with `attach_photo`
    /// (target kind `Agreement`) so it uploads and joins the case file.
    pub fn record_agreement(&self, new: NewAgreement) -> Result<Agreement, ClientError> {
        self.submit(|a| {
            Op::RecordAgreement(Agreement {
                id: fengqiao_domain::new_id(),
                dispute_id: new.dispute_id,
                signed_at: new.signed_at.unwrap_or(a.now),
                terms: new.terms,
                sum_fen: new.sum_fen,
                obligations: new.obligations,
                signature_photos: new.signature_photos,
                author: a.user,
            })
        })
    }

    /// Records a follow-up visit (also after a resolved dispute is closed), offline.
    pub fn record_follow_up(&self, new: NewFollowUp) -> Result<FollowUp, ClientError> {
        self.submit(|a| {
            Op::RecordFollowUp(FollowUp {
                id: fengqiao_domain::new_id(),
                dispute_id: new.dispute_id,
                at: new.at.unwrap_or(a.now),
                fulfilled: new.fulfilled,
                satisfaction: new.satisfaction,
                note: new.note,
                author: a.user,
            })
        })
    }

    /// Records judicial confirmation (applied for within the policy's days of the
    /// agreement; the court's answer later as another record), offline.
    pub fn record_confirmation(&self, new: NewConfirmation) -> Result<JudicialConfirmation, ClientError> {
        self.submit(|a| {
            Op::RecordConfirmation(JudicialConfirmation {
                id: fengqiao_domain::new_id(),
                dispute_id: new.dispute_id,
                agreement_id: new.agreement_id,
                applied_at: new.applied_at.unwrap_or(a.now),
                court: new.court,
                confirmed: new.confirmed,
                answered_at: new.answered_at,
                author: a.user,
            })
        })
    }

    /// Closes a dispute (no escalation may be waiting), offline.
    pub fn close_dispute(
        &self,
        dispute_id: Uuid,
        outcome: ClosingOutcome,
        note: String,
    ) -> Result<Dispute, ClientError> {
        self.submit(|_| Op::CloseDispute(CloseDispute { dispute_id, outcome, note }))
    }

    /// Re-grades and re-analyses an open dispute, offline: its handler at its
    /// current level, with a reason (`correction_reason_required` without one).
    /// The deadline follows the domain's rule for a re-graded dispute
    /// ([`Dispute::deadline`]).
    pub fn regrade_dispute(
        &self,
        dispute_id: Uuid,
        grade: Grade,
        analysis: Analysis,
        reason: String,
    ) -> Result<Dispute, ClientError> {
        self.submit(|_| Op::RegradeDispute(RegradeDispute { dispute_id, grade, analysis, reason }))
    }

    /// The phone's view with its optimistic disputes: each dispute carrying
    /// the user's own requests and decisions not yet confirmed by the server
    /// (a request waits on it; an approval has moved it up).
    pub(crate) fn optimistic_view(&self, session: &StoredSession) -> Result<PhoneView<'_>, Error> {
        let overlay = self.optimistic_disputes(session)?;
        Ok(PhoneView::new(self.store.as_ref(), Some(session)).with_overlay(overlay))
    }

    /// The disputes the user's unconfirmed escalation records change.
    fn optimistic_disputes(&self, session: &StoredSession) -> Result<Vec<Dispute>, Error> {
        let user = session.user.id;
        let mut mine: Vec<Escalation> = self
            .store
            .list_records(EntityKind::Escalation, usize::MAX)?
            .into_iter()
            .filter(|r| matches!(r.state, RecordState::Pending { author, .. } if author == user))
            .filter_map(|r| match r.record {
                Record::Escalation(e) => Some(e),
                _ => None,
            })
            .collect();
        if mine.is_empty() {
            return Ok(Vec::new());
        }
        // Decisions first, then requests, each oldest first: a request made here
        // follows any decision made here on the same dispute.
        mine.sort_by_key(|e| (e.decision.is_none(), e.id));
        let plain = PhoneView::new(self.store.as_ref(), Some(session));
        let mut out: std::collections::HashMap<Uuid, Dispute> = std::collections::HashMap::new();
        for e in mine {
            let d = match out.remove(&e.dispute_id) {
                Some(d) => d,
                None => match self.store.get_record(EntityKind::Dispute, e.dispute_id)?.map(|r| r.record) {
                    Some(Record::Dispute(d)) => d,
                    _ => continue,
                },
            };
            let mut d = d;
            match &e.decision {
                None => d.pending_escalation = Some(e.id),
                Some(dec) => {
                    if d.pending_escalation == Some(e.id) {
                        d.pending_escalation = None;
                    }
                    if dec.approved && d.level == e.from_level {
                        let scope = unit_scope(&plain, d.origin_unit).map_err(view_error)?.unwrap_or_default();
                        if let Some(unit) = target_of(&plain, &scope, &e).map_err(view_error)? {
                            d.level = e.to_level;
                            d.handler_unit = unit;
                            d.level_since = dec.decided_at;
                            d.deadline_floor = None;
                        }
                    }
                }
            }
            out.insert(d.id, d);
        }
        Ok(out.into_values().collect())
    }
}

/// A dispute used only to ask the domain whether someone handles at a level.
fn probe_dispute(origin: Uuid, level: Level, unit: Uuid) -> Dispute {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    Dispute {
        id: Uuid::nil(),
        case_number: String::new(),
        kind: String::new(),
        origin_unit: origin,
        parties: vec![],
        summary: String::new(),
        grade: Grade::General,
        analysis: Analysis {
            cause: String::new(),
            consequences: String::new(),
            difficulty: fengqiao_domain::disputes::Difficulty::Low,
        },
        found_at: epoch,
        lead_id: None,
        reported_by: Uuid::nil(),
        level,
        handler_unit: unit,
        level_since: epoch,
        registered_at: epoch,
        pending_escalation: None,
        closing: None,
        flow_count: 0,
        case_file: Vec::new(),
        credited: Vec::new(),
        earlier_credit: Vec::new(),
        payees: Vec::new(),
        deadline_floor: None,
        policy_version: String::new(),
        deadlines: None,
    }
}
