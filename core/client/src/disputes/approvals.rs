//! The approver's side of the ladder beyond the inbox's list: the whole case
//! behind a request ([`InboxCase`], one call), the comment templates, a
//! decision that lost to a colleague's (settled out of quarantine into the
//! history with the decision that stands), and the history of the user's own
//! decisions ([`MyDecision`]).

use chrono::{DateTime, Utc};
use fengqiao_domain::apply::StateView;
use fengqiao_domain::apply_disputes::may_decide;
use fengqiao_domain::disputes::{Escalation, EscalationDecision};
use fengqiao_domain::wire::Op;
use fengqiao_domain::{EntityKind, Record};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DisputeFile;
use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::messages::{locale, notices as words};
use crate::ops::actor_of;
use crate::people::StandingDecision;
use crate::photos::AttachedPhoto;
use crate::store::{RecordState, StoredSession};
use crate::view::view_error;

/// Everything an approver reads before deciding, in one record: the request,
/// the whole case file (parties, kind, analysis, every session and agreement,
/// the flow table, the deadline), the photos, names and labels in the core's
/// locale, the comment templates, and whether the user may decide it now.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxCase {
    /// The request.
    pub escalation: Escalation,
    /// Its dispute's whole case file.
    pub file: DisputeFile,
    /// The dispute's kind in words (the policy's label).
    pub kind_label: String,
    /// The reason for escalation in words.
    pub reason_label: String,
    /// Who asked, by name (if within the user's jurisdiction).
    pub requester_name: Option<String>,
    /// The deadline at the current level, in the county's zone, with its state in words.
    pub deadline_text: String,
    /// Photos of the dispute, its sessions and its agreements, oldest first.
    pub photos: Vec<AttachedPhoto>,
    /// Comments offered for an approval.
    pub approve_templates: Vec<String>,
    /// Comments offered for a refusal.
    pub refuse_templates: Vec<String>,
    /// The user may decide it now (the domain's `may_decide`).
    pub may_decide: bool,
    /// Already decided: the decision that stands, with the decider's name.
    pub standing: Option<StandingDecision>,
}

/// One of the user's own decisions, newest first in [`FieldClient::my_decisions`].
#[derive(Debug, Clone, PartialEq)]
pub struct MyDecision {
    /// The request decided.
    pub escalation_id: Uuid,
    /// Its dispute.
    pub dispute_id: Uuid,
    /// The case number.
    pub case_number: String,
    /// Approved (or refused).
    pub approved: bool,
    /// The user's comment.
    pub comment: String,
    /// When (server time once confirmed; the phone's before).
    pub decided_at: DateTime<Utc>,
    /// Made on this phone, not yet confirmed by the server.
    pub pending: bool,
    /// A colleague decided first: the decision that stands (this one did not).
    pub superseded_by: Option<StandingDecision>,
}

/// A decision of the user's that lost to a colleague's, as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LostDecision {
    pub op_id: Uuid,
    pub escalation_id: Uuid,
    pub dispute_id: Uuid,
    pub approved: bool,
    pub comment: String,
    pub decided_at: DateTime<Utc>,
    pub standing: EscalationDecision,
}

fn lost_name(user: Uuid) -> String {
    format!("decisions/{user}")
}

impl FieldClient {
    pub(crate) fn lost_decisions(&self, user: Uuid) -> Result<Vec<LostDecision>, Error> {
        Ok(match self.store.local_value(&lost_name(user))? {
            Some(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            None => Vec::new(),
        })
    }

    pub(crate) fn forget_lost_decisions(&self, user: Uuid) -> Result<(), Error> {
        Ok(self.store.save_local_value(&lost_name(user), None)?)
    }

    /// Moves the user's decisions that lost to a colleague's out of quarantine
    /// into the history, with the decision that stands: nothing there for the
    /// user to retry or discard (a retry would be refused again). Kept first,
    /// then dropped from quarantine, so a crash between the two loses nothing
    /// and keeps it once.
    pub(crate) fn settle_lost_decisions(&self, session: &StoredSession) -> Result<(), Error> {
        let user = session.user.id;
        let lost: Vec<_> = self
            .store
            .quarantined()?
            .into_iter()
            .filter(|q| q.op.author == user && q.code == "conflict")
            .filter_map(|q| match (&q.op.op, &q.current) {
                (Op::DecideEscalation(d), Some(Record::Escalation(e))) => {
                    e.decision.clone().map(|standing| LostDecision {
                        op_id: q.op.op_id,
                        escalation_id: d.escalation_id,
                        dispute_id: e.dispute_id,
                        approved: d.approve,
                        comment: d.comment.clone(),
                        decided_at: q.op.created_at,
                        standing,
                    })
                }
                _ => None,
            })
            .collect();
        if lost.is_empty() {
            return Ok(());
        }
        let mut kept = self.lost_decisions(user)?;
        let before = kept.len();
        for l in &lost {
            if !kept.iter().any(|k| k.op_id == l.op_id) {
                kept.push(l.clone());
            }
        }
        if kept.len() != before {
            let bytes = serde_json::to_vec(&kept).map_err(|e| Error::Protocol(e.to_string()))?;
            self.store.save_local_value(&lost_name(user), Some(&bytes))?;
        }
        for l in lost {
            self.store.discard_quarantined(l.op_id)?;
            tracing::info!(op_id = %l.op_id, "a decision that lost to a colleague's settled into the history");
        }
        Ok(())
    }

    /// The whole case behind an escalation the user may see (see
    /// [`InboxCase`]), offline. `not_found` for one not on the phone.
    pub fn inbox_case(&self, escalation_id: Uuid) -> Result<InboxCase, ClientError> {
        let run = || -> Result<InboxCase, Error> {
            let session = self.session()?;
            let not_found = || Error::NotFound("本机上没有这条上报请求".into());
            let local = self.store.get_record(EntityKind::Escalation, escalation_id)?.ok_or_else(not_found)?;
            let Record::Escalation(e) = local.record.clone() else { return Err(not_found()) };
            if !local.shown_to(session.user.id) {
                return Err(not_found());
            }
            let file = self.dispute_file(e.dispute_id).map_err(|_| not_found())?;
            let view = self.optimistic_view(&session)?;
            let actor = actor_of(&session);
            // the phone's current copy (a decision made here shows at once)
            let e = match view.get(EntityKind::Escalation, e.id).map_err(view_error)? {
                Some(Record::Escalation(cur)) => cur,
                _ => e,
            };
            let may = e.decision.is_none() && may_decide(&view, &actor, &e).map_err(view_error)?;
            let mut photos = self.photos_for_inner(EntityKind::Dispute, e.dispute_id)?;
            for s in &file.sessions {
                photos.extend(self.photos_for_inner(EntityKind::MediationSession, s.id)?);
            }
            for a in &file.agreements {
                photos.extend(self.photos_for_inner(EntityKind::Agreement, a.id)?);
            }
            let policy = self.policy();
            let kind = &file.item.dispute.kind;
            let loc = locale();
            let kind_label = policy
                .disputes
                .kinds
                .iter()
                .find(|k| &k.code == kind)
                .map_or_else(|| kind.clone(), |k| words::kind_label(k, loc));
            let deadline_text =
                words::deadline_text(&self.format_time(file.item.deadline), file.item.deadline_state, loc);
            let standing = match e.decision.clone() {
                Some(decision) => {
                    Some(StandingDecision { decided_by_name: self.display_name_inner(decision.decided_by)?, decision })
                }
                None => None,
            };
            Ok(InboxCase {
                reason_label: words::reason_label(e.reason, loc).into(),
                requester_name: self.display_name_inner(e.requested_by)?,
                approve_templates: words::comment_templates(true, loc),
                refuse_templates: words::comment_templates(false, loc),
                may_decide: may,
                standing,
                escalation: e,
                file,
                kind_label,
                deadline_text,
                photos,
            })
        };
        Ok(run()?)
    }

    /// The user's own decisions, newest first: those made here or pulled
    /// (confirmed or not), and those that lost to a colleague's, each with the
    /// decision that stands. Offline.
    pub fn my_decisions(&self) -> Result<Vec<MyDecision>, ClientError> {
        let run = || -> Result<Vec<MyDecision>, Error> {
            let session = self.session()?;
            let user = session.user.id;
            let numbers = self.case_numbers(user)?;
            let mut out = Vec::new();
            for local in self.store.list_records(EntityKind::Escalation, usize::MAX)? {
                if !local.shown_to(user) {
                    continue;
                }
                let pending = matches!(local.state, RecordState::Pending { .. });
                let Record::Escalation(e) = local.record else { continue };
                let Some(d) = e.decision.as_ref().filter(|d| d.decided_by == user) else { continue };
                out.push(MyDecision {
                    escalation_id: e.id,
                    dispute_id: e.dispute_id,
                    case_number: numbers.get(&e.dispute_id).cloned().unwrap_or_default(),
                    approved: d.approved,
                    comment: d.comment.clone(),
                    decided_at: d.decided_at,
                    pending,
                    superseded_by: None,
                });
            }
            for l in self.lost_decisions(user)? {
                let name = self.display_name_inner(l.standing.decided_by)?;
                out.push(MyDecision {
                    escalation_id: l.escalation_id,
                    dispute_id: l.dispute_id,
                    case_number: numbers.get(&l.dispute_id).cloned().unwrap_or_default(),
                    approved: l.approved,
                    comment: l.comment,
                    decided_at: l.decided_at,
                    pending: false,
                    superseded_by: Some(StandingDecision { decision: l.standing, decided_by_name: name }),
                });
            }
            out.sort_by_key(|d| std::cmp::Reverse((d.decided_at, d.escalation_id)));
            Ok(out)
        };
        Ok(run()?)
    }
}
