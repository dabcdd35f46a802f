//! What the phone shows of disputes, offline after a sync: the dispute lists
//! with deadlines, a dispute's case file and flow table, the approver's inbox,
//! and which actions the user may take on a dispute — all computed with the
//! domain's helpers over the phone's optimistic view.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use fengqiao_domain::apply::{unit_scope, StateView};
use fengqiao_domain::apply_disputes::{handles, level_reachable, may_decide};
use fengqiao_domain::disputes::{
    Agreement, ClosingOutcome, Dispute, Escalation, FlowEntry, FollowUp, JudicialConfirmation, MediationSession,
};
use fengqiao_domain::ladder::{move_allowed, DeadlineState, Level};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::ops::actor_of;
use crate::store::{LocalRecord, RecordState};
use crate::view::{view_error, PhoneView};

/// A dispute in a list, as the phone sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeItem {
    /// The dispute (with this phone's own unsynced requests and decisions applied).
    pub dispute: Dispute,
    /// When its current level's time runs out ([`Dispute::deadline`]: by grade,
    /// from `level_since`, never before a re-grading's floor).
    pub deadline: DateTime<Utc>,
    /// Ok, approaching or overdue; `None` once closed.
    pub deadline_state: Option<DeadlineState>,
    /// The escalation waiting for a decision, if any.
    pub pending_escalation: Option<Escalation>,
    /// The user handles it at its current level.
    pub handled_by_me: bool,
    /// Reported or closed on this phone and not yet confirmed by the server.
    pub pending: bool,
    /// That operation was refused and waits in quarantine.
    pub quarantined: bool,
}

/// What the user may do on a dispute now (the app offers only these).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisputeActions {
    /// Levels the user may ask to move it to (empty: may not ask now).
    pub escalate_to: Vec<Level>,
    /// May record mediation sessions and agreements.
    pub record: bool,
    /// May record follow-ups and judicial confirmation (also once resolved).
    pub follow_up: bool,
    /// May close it.
    pub close: bool,
    /// May re-grade and re-analyse it (its handler, while open and no
    /// escalation waits: the domain's `regrade_dispute` rule, ADR 0026).
    pub regrade: bool,
    /// The waiting escalation the user may approve or refuse.
    pub decide: Option<Uuid>,
}

/// An escalation waiting for this user's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    /// The request.
    pub escalation: Escalation,
    /// Its dispute.
    pub dispute: DisputeItem,
}

/// A dispute's whole case file on this phone.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeFile {
    /// The dispute.
    pub item: DisputeItem,
    /// Escalation requests, oldest first.
    pub escalations: Vec<Escalation>,
    /// Mediation sessions, by time held.
    pub sessions: Vec<MediationSession>,
    /// Agreements, by time signed.
    pub agreements: Vec<Agreement>,
    /// Follow-ups, by time.
    pub follow_ups: Vec<FollowUp>,
    /// Judicial confirmations, by time applied.
    pub confirmations: Vec<JudicialConfirmation>,
    /// The flow table, by step (server-written; pulled).
    pub flow: Vec<FlowEntry>,
}

impl FieldClient {
    pub(super) fn quarantined_ops(&self) -> Result<HashSet<Uuid>, Error> {
        Ok(self.store.quarantined()?.into_iter().map(|q| q.op.op_id).collect())
    }

    pub(super) fn item(
        &self,
        view: &PhoneView<'_>,
        actor: &Actor,
        local: &LocalRecord,
        quarantined: &HashSet<Uuid>,
    ) -> Result<Option<DisputeItem>, Error> {
        let Some(Record::Dispute(d)) = view.get(EntityKind::Dispute, local.record.id()).map_err(view_error)? else {
            return Ok(None);
        };
        let county_policy = self.policy();
        let policy = &*county_policy;
        let due = d.deadline(policy);
        let state = d.closing.is_none().then(|| d.deadline_state(self.options.clock.now(), policy));
        let pending_escalation = match d.pending_escalation {
            Some(id) => match view.get(EntityKind::Escalation, id).map_err(view_error)? {
                Some(Record::Escalation(e)) if e.decision.is_none() => Some(e),
                _ => None,
            },
            None => None,
        };
        let scope = unit_scope(view, d.origin_unit).map_err(view_error)?.unwrap_or_default();
        let (pending, quar) = match local.state {
            RecordState::Synced => (false, false),
            RecordState::Pending { op_id, .. } => (true, quarantined.contains(&op_id)),
        };
        Ok(Some(DisputeItem {
            handled_by_me: handles(actor, &d, &scope),
            dispute: d,
            deadline: due,
            deadline_state: state,
            pending_escalation,
            pending,
            quarantined: quar,
        }))
    }

    /// One dispute as listed.
    pub fn dispute(&self, dispute_id: Uuid) -> Result<DisputeItem, ClientError> {
        let run = || -> Result<DisputeItem, Error> {
            let session = self.session()?;
            let not_found = || Error::NotFound("本机上没有这件纠纷".into());
            let local = self.store.get_record(EntityKind::Dispute, dispute_id)?.ok_or_else(not_found)?;
            if !local.shown_to(session.user.id) {
                return Err(not_found());
            }
            let view = self.optimistic_view(&session)?;
            self.item(&view, &actor_of(&session), &local, &self.quarantined_ops()?)?.ok_or_else(not_found)
        };
        Ok(run()?)
    }

    fn case_records(&self, kind: EntityKind, dispute_id: Uuid, user: Uuid) -> Result<Vec<Record>, Error> {
        Ok(self
            .store
            .list_records(kind, usize::MAX)?
            .into_iter()
            .filter(|r| r.shown_to(user) && r.record.dispute_id() == Some(dispute_id))
            .map(|r| r.record)
            .collect())
    }

    /// A dispute's flow table (矛盾纠纷排查化解流向表) as pulled, by step.
    pub fn flow_table(&self, dispute_id: Uuid) -> Result<Vec<FlowEntry>, ClientError> {
        let run = || -> Result<Vec<FlowEntry>, Error> {
            let user = self.session()?.user.id;
            let mut flow: Vec<FlowEntry> = self
                .case_records(EntityKind::FlowEntry, dispute_id, user)?
                .into_iter()
                .filter_map(|r| match r {
                    Record::FlowEntry(f) => Some(f),
                    _ => None,
                })
                .collect();
            flow.sort_by_key(|f| f.step);
            Ok(flow)
        };
        Ok(run()?)
    }

    /// A dispute's case file: the dispute, its escalations, sessions,
    /// agreements, follow-ups, confirmations and flow table.
    pub fn dispute_file(&self, dispute_id: Uuid) -> Result<DisputeFile, ClientError> {
        let item = self.dispute(dispute_id)?;
        let run = || -> Result<DisputeFile, Error> {
            let user = self.session()?.user.id;
            let mut file = DisputeFile {
                item,
                escalations: vec![],
                sessions: vec![],
                agreements: vec![],
                follow_ups: vec![],
                confirmations: vec![],
                flow: vec![],
            };
            for kind in [
                EntityKind::Escalation,
                EntityKind::MediationSession,
                EntityKind::Agreement,
                EntityKind::FollowUp,
                EntityKind::JudicialConfirmation,
                EntityKind::FlowEntry,
            ] {
                for r in self.case_records(kind, dispute_id, user)? {
                    match r {
                        Record::Escalation(e) => file.escalations.push(e),
                        Record::MediationSession(m) => file.sessions.push(m),
                        Record::Agreement(a) => file.agreements.push(a),
                        Record::FollowUp(f) => file.follow_ups.push(f),
                        Record::JudicialConfirmation(j) => file.confirmations.push(j),
                        Record::FlowEntry(f) => file.flow.push(f),
                        _ => {}
                    }
                }
            }
            file.escalations.sort_by_key(|e| (e.requested_at, e.id));
            file.sessions.sort_by_key(|m| (m.held_at, m.id));
            file.agreements.sort_by_key(|a| (a.signed_at, a.id));
            file.follow_ups.sort_by_key(|f| (f.at, f.id));
            file.confirmations.sort_by_key(|j| (j.applied_at, j.id));
            file.flow.sort_by_key(|f| f.step);
            Ok(file)
        };
        Ok(run()?)
    }

    /// The approver's inbox: escalations waiting in the user's jurisdiction that
    /// they may decide (the domain's `may_decide`), most severe first, then
    /// oldest first. Works offline after a sync.
    pub fn escalation_inbox(&self) -> Result<Vec<InboxItem>, ClientError> {
        Ok(self.escalation_inbox_inner()?)
    }

    pub(crate) fn escalation_inbox_inner(&self) -> Result<Vec<InboxItem>, Error> {
        let run = || -> Result<Vec<InboxItem>, Error> {
            let session = self.session()?;
            let user = session.user.id;
            let view = self.optimistic_view(&session)?;
            let actor = actor_of(&session);
            let quarantined = self.quarantined_ops()?;
            let mut out = Vec::new();
            for local in self.store.list_records(EntityKind::Escalation, usize::MAX)? {
                let Record::Escalation(e) = &local.record else { continue };
                if !local.shown_to(user) || !may_decide(&view, &actor, e).map_err(view_error)? {
                    continue;
                }
                let Some(d) = self.store.get_record(EntityKind::Dispute, e.dispute_id)? else { continue };
                if let Some(item) = self.item(&view, &actor, &d, &quarantined)? {
                    out.push(InboxItem { escalation: e.clone(), dispute: item });
                }
            }
            out.sort_by(|a, b| {
                (std::cmp::Reverse(a.escalation.grade), a.escalation.requested_at, a.escalation.id).cmp(&(
                    std::cmp::Reverse(b.escalation.grade),
                    b.escalation.requested_at,
                    b.escalation.id,
                ))
            });
            Ok(out)
        };
        run()
    }

    /// What the user may do on a dispute now, by the same rules the server
    /// applies (`handles`, `move_allowed`, `may_decide`), over this phone's
    /// view including its unsynced work. Nothing for a dispute not on the phone.
    pub fn allowed_actions(&self, dispute_id: Uuid) -> Result<DisputeActions, ClientError> {
        let run = || -> Result<DisputeActions, Error> {
            let session = self.session()?;
            let view = self.optimistic_view(&session)?;
            let actor = actor_of(&session);
            let Some(Record::Dispute(d)) = view.get(EntityKind::Dispute, dispute_id).map_err(view_error)? else {
                return Ok(DisputeActions::default());
            };
            let Some(scope) = unit_scope(&view, d.origin_unit).map_err(view_error)? else {
                return Ok(DisputeActions::default());
            };
            if !actor.may_see(EntityKind::Dispute, &scope) {
                return Ok(DisputeActions::default());
            }
            let handler = handles(&actor, &d, &scope);
            let open = d.closing.is_none();
            let resolved = d.closing.as_ref().is_some_and(|c| c.outcome == ClosingOutcome::Resolved);
            let waiting = d.pending_escalation.is_some();
            let mut escalate_to = Vec::new();
            if handler && open && !waiting {
                for to in Level::ALL {
                    if move_allowed(d.level, to, d.grade).is_ok()
                        && level_reachable(&view, &scope, to).map_err(view_error)?
                    {
                        escalate_to.push(to);
                    }
                }
            }
            let decide = match d.pending_escalation {
                Some(id) => match view.get(EntityKind::Escalation, id).map_err(view_error)? {
                    Some(Record::Escalation(e)) if may_decide(&view, &actor, &e).map_err(view_error)? => Some(id),
                    _ => None,
                },
                None => None,
            };
            Ok(DisputeActions {
                escalate_to,
                record: handler && open,
                follow_up: handler && (open || resolved),
                close: handler && open && !waiting,
                regrade: handler && open && !waiting,
                decide,
            })
        };
        Ok(run()?)
    }
}
