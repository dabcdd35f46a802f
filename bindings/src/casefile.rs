//! A dispute's case file: mediation sessions, agreements, follow-ups,
//! judicial confirmation, closing, and the flow table (矛盾纠纷排查化解流向表)
//! — recorded offline, read back as pulled.

use fengqiao_core::{
    DisputeFile as CoreFile, NewAgreement as CoreNewAgreement, NewConfirmation as CoreNewConfirmation,
    NewFollowUp as CoreNewFollowUp, NewSession as CoreNewSession,
};
use fengqiao_domain::disputes::{
    Agreement as DomAgreement, FlowEntry as DomFlowEntry, FlowKind as DomFlowKind, FollowUp as DomFollowUp,
    JudicialConfirmation as DomConfirmation, MediationSession as DomSession, Satisfaction as DomSatisfaction,
};

use crate::client::FieldClient;
use crate::convert::{id, ids, millis, mirror_enum, opt_from_millis, parse_id, parse_ids};
use crate::disputes::{ClosingOutcome, Dispute, DisputeItem, Escalation, Level};
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// Parties' satisfaction at a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Satisfaction {
    /// 满意
    Satisfied,
    /// 基本满意
    Neutral,
    /// 不满意
    Dissatisfied,
}
mirror_enum!(Satisfaction <=> DomSatisfaction { Satisfied, Neutral, Dissatisfied });

/// What a flow-table entry registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
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
    /// Judicial confirmation applied for or answered.
    ConfirmationRecorded,
    /// Closed.
    Closed,
}
mirror_enum!(FlowKind <=> DomFlowKind {
    Reported,
    EscalationRequested,
    EscalationApproved,
    EscalationRefused,
    SessionRecorded,
    AgreementRecorded,
    FollowUpRecorded,
    ConfirmationRecorded,
    Closed,
});

/// A mediation session record (调解笔录).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MediationSession {
    /// Id.
    pub id: String,
    /// The dispute.
    pub dispute_id: String,
    /// When (ms, UTC).
    pub held_at_ms: i64,
    /// Where.
    pub place: String,
    /// Mediators (user ids).
    pub mediators: Vec<String>,
    /// Other participants (e.g. respected villagers).
    pub participants: Vec<String>,
    /// What was said and agreed.
    pub record: String,
    /// Whether the parties agreed in this session.
    pub agreed: bool,
    /// The level the dispute was at.
    pub level: Option<Level>,
    /// Who recorded it.
    pub author: String,
}

impl From<DomSession> for MediationSession {
    fn from(m: DomSession) -> Self {
        MediationSession {
            id: id(m.id),
            dispute_id: id(m.dispute_id),
            held_at_ms: millis(m.held_at),
            place: m.place,
            mediators: ids(m.mediators),
            participants: m.participants,
            record: m.record,
            agreed: m.agreed,
            level: m.level.map(Level::from),
            author: id(m.author),
        }
    }
}

/// A mediation agreement (调解协议书). Money in integer fen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Agreement {
    /// Id.
    pub id: String,
    /// The dispute.
    pub dispute_id: String,
    /// When signed (ms, UTC).
    pub signed_at_ms: i64,
    /// Terms.
    pub terms: String,
    /// Sum to be paid, in fen (0 if none).
    pub sum_fen: i64,
    /// Obligations of each party.
    pub obligations: String,
    /// SHA-256 of photos of the parties' signatures.
    pub signature_photos: Vec<String>,
    /// Who recorded it.
    pub author: String,
}

impl From<DomAgreement> for Agreement {
    fn from(a: DomAgreement) -> Self {
        Agreement {
            id: id(a.id),
            dispute_id: id(a.dispute_id),
            signed_at_ms: millis(a.signed_at),
            terms: a.terms,
            sum_fen: a.sum_fen,
            obligations: a.obligations,
            signature_photos: a.signature_photos,
            author: id(a.author),
        }
    }
}

/// A follow-up visit (回访).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FollowUp {
    /// Id.
    pub id: String,
    /// The dispute.
    pub dispute_id: String,
    /// When (ms, UTC).
    pub at_ms: i64,
    /// Whether the agreement is fulfilled.
    pub fulfilled: bool,
    /// Parties' satisfaction.
    pub satisfaction: Satisfaction,
    /// Note.
    pub note: String,
    /// Who recorded it.
    pub author: String,
}

impl From<DomFollowUp> for FollowUp {
    fn from(f: DomFollowUp) -> Self {
        FollowUp {
            id: id(f.id),
            dispute_id: id(f.dispute_id),
            at_ms: millis(f.at),
            fulfilled: f.fulfilled,
            satisfaction: f.satisfaction.into(),
            note: f.note,
            author: id(f.author),
        }
    }
}

/// Judicial confirmation (司法确认) of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JudicialConfirmation {
    /// Id.
    pub id: String,
    /// The dispute.
    pub dispute_id: String,
    /// The agreement to confirm.
    pub agreement_id: String,
    /// When applied (ms, UTC).
    pub applied_at_ms: i64,
    /// Court.
    pub court: String,
    /// The court's answer, once known.
    pub confirmed: Option<bool>,
    /// When the court answered (ms, UTC).
    pub answered_at_ms: Option<i64>,
    /// Who recorded it.
    pub author: String,
}

impl From<DomConfirmation> for JudicialConfirmation {
    fn from(j: DomConfirmation) -> Self {
        JudicialConfirmation {
            id: id(j.id),
            dispute_id: id(j.dispute_id),
            agreement_id: id(j.agreement_id),
            applied_at_ms: millis(j.applied_at),
            court: j.court,
            confirmed: j.confirmed,
            answered_at_ms: j.answered_at.map(millis),
            author: id(j.author),
        }
    }
}

/// One entry of the dispute flow table (server-written, append-only).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FlowEntry {
    /// Id.
    pub id: String,
    /// The dispute.
    pub dispute_id: String,
    /// Its case number.
    pub case_number: String,
    /// Position in the dispute's flow, from 1.
    pub step: u32,
    /// What happened.
    pub kind: FlowKind,
    /// The level after this step.
    pub level: Level,
    /// The handling unit after this step.
    pub handler_unit: String,
    /// Who did it.
    pub actor: String,
    /// When (ms, UTC; server time).
    pub at_ms: i64,
    /// Comment, reason or result.
    pub note: String,
}

impl From<DomFlowEntry> for FlowEntry {
    fn from(f: DomFlowEntry) -> Self {
        FlowEntry {
            id: id(f.id),
            dispute_id: id(f.dispute_id),
            case_number: f.case_number,
            step: f.step,
            kind: f.kind.into(),
            level: f.level.into(),
            handler_unit: id(f.handler_unit),
            actor: id(f.actor),
            at_ms: millis(f.at),
            note: f.note,
        }
    }
}

/// A dispute's whole case file on this phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
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
    /// The flow table, by step.
    pub flow: Vec<FlowEntry>,
}

impl From<CoreFile> for DisputeFile {
    fn from(f: CoreFile) -> Self {
        DisputeFile {
            item: f.item.into(),
            escalations: f.escalations.into_iter().map(Escalation::from).collect(),
            sessions: f.sessions.into_iter().map(MediationSession::from).collect(),
            agreements: f.agreements.into_iter().map(Agreement::from).collect(),
            follow_ups: f.follow_ups.into_iter().map(FollowUp::from).collect(),
            confirmations: f.confirmations.into_iter().map(JudicialConfirmation::from).collect(),
            flow: f.flow.into_iter().map(FlowEntry::from).collect(),
        }
    }
}

/// A mediation session as the user records it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewSession {
    /// The dispute.
    pub dispute_id: String,
    /// What was said and agreed.
    pub record: String,
    /// Whether the parties agreed.
    pub agreed: bool,
    /// Where.
    #[uniffi(default = "")]
    pub place: String,
    /// When (ms, UTC); none: now.
    #[uniffi(default = None)]
    pub held_at_ms: Option<i64>,
    /// Mediators (user ids); empty: the user.
    #[uniffi(default = [])]
    pub mediators: Vec<String>,
    /// Other participants (e.g. respected villagers).
    #[uniffi(default = [])]
    pub participants: Vec<String>,
}

/// A mediation agreement as the user records it. Money in integer fen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewAgreement {
    /// The dispute.
    pub dispute_id: String,
    /// Terms.
    pub terms: String,
    /// Sum to be paid, in fen.
    #[uniffi(default = 0)]
    pub sum_fen: i64,
    /// Obligations of each party.
    #[uniffi(default = "")]
    pub obligations: String,
    /// When signed (ms, UTC); none: now.
    #[uniffi(default = None)]
    pub signed_at_ms: Option<i64>,
    /// SHA-256 (lowercase hex) of photos of the parties' signatures.
    #[uniffi(default = [])]
    pub signature_photos: Vec<String>,
}

/// A follow-up visit as the user records it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewFollowUp {
    /// The dispute.
    pub dispute_id: String,
    /// Whether the agreement is fulfilled.
    pub fulfilled: bool,
    /// Parties' satisfaction.
    pub satisfaction: Satisfaction,
    /// Note.
    #[uniffi(default = "")]
    pub note: String,
    /// When (ms, UTC); none: now.
    #[uniffi(default = None)]
    pub at_ms: Option<i64>,
}

/// Judicial confirmation as the user records it (the application; the court's
/// answer later as another record).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewConfirmation {
    /// The dispute.
    pub dispute_id: String,
    /// The agreement to confirm.
    pub agreement_id: String,
    /// Court.
    pub court: String,
    /// When applied (ms, UTC); none: now.
    #[uniffi(default = None)]
    pub applied_at_ms: Option<i64>,
    /// The court's answer, once known.
    #[uniffi(default = None)]
    pub confirmed: Option<bool>,
    /// When the court answered (ms, UTC).
    #[uniffi(default = None)]
    pub answered_at_ms: Option<i64>,
}

#[uniffi::export]
impl FieldClient {
    /// Records a mediation session, offline.
    pub fn record_session(&self, session: NewSession) -> Result<MediationSession, FengqiaoError> {
        guard(|| {
            let s = CoreNewSession {
                dispute_id: parse_id("dispute_id", &session.dispute_id)?,
                held_at: opt_from_millis("held_at_ms", session.held_at_ms)?,
                place: session.place,
                mediators: parse_ids("mediators", &session.mediators)?,
                participants: session.participants,
                record: session.record,
                agreed: session.agreed,
            };
            Ok(self.core().record_session(s)?.into())
        })
    }

    /// Records a mediation agreement, offline. Attach the signature photos to
    /// it with `attach_photo` (kind `agreement`).
    pub fn record_agreement(&self, agreement: NewAgreement) -> Result<Agreement, FengqiaoError> {
        guard(|| {
            let a = CoreNewAgreement {
                dispute_id: parse_id("dispute_id", &agreement.dispute_id)?,
                signed_at: opt_from_millis("signed_at_ms", agreement.signed_at_ms)?,
                terms: agreement.terms,
                sum_fen: agreement.sum_fen,
                obligations: agreement.obligations,
                signature_photos: agreement.signature_photos,
            };
            Ok(self.core().record_agreement(a)?.into())
        })
    }

    /// Records a follow-up visit (also after a resolved dispute is closed), offline.
    pub fn record_follow_up(&self, follow_up: NewFollowUp) -> Result<FollowUp, FengqiaoError> {
        guard(|| {
            let f = CoreNewFollowUp {
                dispute_id: parse_id("dispute_id", &follow_up.dispute_id)?,
                at: opt_from_millis("at_ms", follow_up.at_ms)?,
                fulfilled: follow_up.fulfilled,
                satisfaction: follow_up.satisfaction.into(),
                note: follow_up.note,
            };
            Ok(self.core().record_follow_up(f)?.into())
        })
    }

    /// Records judicial confirmation (applied for within the policy's days of
    /// the agreement), offline.
    pub fn record_confirmation(&self, confirmation: NewConfirmation) -> Result<JudicialConfirmation, FengqiaoError> {
        guard(|| {
            let c = CoreNewConfirmation {
                dispute_id: parse_id("dispute_id", &confirmation.dispute_id)?,
                agreement_id: parse_id("agreement_id", &confirmation.agreement_id)?,
                applied_at: opt_from_millis("applied_at_ms", confirmation.applied_at_ms)?,
                court: confirmation.court,
                confirmed: confirmation.confirmed,
                answered_at: opt_from_millis("answered_at_ms", confirmation.answered_at_ms)?,
            };
            Ok(self.core().record_confirmation(c)?.into())
        })
    }

    /// Closes a dispute (no escalation may be waiting), offline. Closed as
    /// resolved, it owes its mediators a subsidy (see `my_subsidies`).
    pub fn close_dispute(
        &self,
        dispute_id: String,
        outcome: ClosingOutcome,
        note: String,
    ) -> Result<Dispute, FengqiaoError> {
        guard(|| {
            let d = parse_id("dispute_id", &dispute_id)?;
            Ok(self.core().close_dispute(d, outcome.into(), note)?.into())
        })
    }

    /// A dispute's flow table as pulled, by step. Offline.
    pub fn flow_table(&self, dispute_id: String) -> Result<Vec<FlowEntry>, FengqiaoError> {
        guard(|| {
            let d = parse_id("dispute_id", &dispute_id)?;
            Ok(self.core().flow_table(d)?.into_iter().map(FlowEntry::from).collect())
        })
    }

    /// A dispute's whole case file: the dispute, escalations, sessions,
    /// agreements, follow-ups, confirmations and flow table. Offline.
    pub fn dispute_file(&self, dispute_id: String) -> Result<DisputeFile, FengqiaoError> {
        guard(|| {
            let mut core_file = self.core().dispute_file(parse_id("dispute_id", &dispute_id)?)?;
            let escalations = std::mem::take(&mut core_file.escalations);
            let mut file = DisputeFile::from(core_file);
            file.escalations = escalations.into_iter().map(|e| self.escalation_named(e)).collect();
            Ok(file)
        })
    }
}
