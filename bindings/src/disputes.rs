//! Disputes (矛盾纠纷): report one offline (with parties, grade, kind and the
//! three-axis analysis; its case number comes from a block reserved earlier),
//! list them with their deadline state, read one, see which actions the user
//! may take, and keep the stock of case numbers. The case file (sessions,
//! agreements, …) is in [`crate::casefile`], the ladder's requests and decisions
//! in [`crate::inbox`].

use fengqiao_core::{
    DisputeActions as CoreActions, DisputeFilter as CoreFilter, DisputeItem as CoreItem, NewDispute as CoreNewDispute,
};
use fengqiao_domain::disputes::{
    Analysis as DomAnalysis, ClosingOutcome as DomOutcome, Difficulty as DomDifficulty, Dispute as DomDispute,
    Escalation as DomEscalation, EscalationDecision as DomDecision, EscalationReason as DomReason, Party as DomParty,
};
use fengqiao_domain::ladder::{DeadlineState as DomDeadline, Grade as DomGrade, Level as DomLevel};

use crate::client::FieldClient;
use crate::convert::{id, ids, millis, mirror_enum, opt_from_millis, parse_id};
use crate::error::FengqiaoError;
use crate::runtime::{guard, run};

/// Which disputes a list holds. The filter and the order are the core's; show
/// the list as it comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum DisputeFilter {
    /// Every dispute on this phone (the user's jurisdiction as pulled, and
    /// their own unsynced ones).
    All,
    /// "My disputes": those the user handles at their current level, and
    /// those they reported, open or closed.
    Mine,
    /// Open disputes past their level's deadline.
    Overdue,
}
mirror_enum!(DisputeFilter <=> CoreFilter { All, Mine, Overdue });

/// The level a dispute is handled at (四级逐调), lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Level {
    /// 组: family and neighbour disputes.
    Group,
    /// 村: complex, land and inter-group disputes.
    Village,
    /// 司法所: difficult disputes.
    JudicialOffice,
    /// 镇综合调委会: major, historical and mass disputes.
    Town,
}
mirror_enum!(Level <=> DomLevel { Group, Village, JudicialOffice, Town });

/// Grade of a dispute (一般 / 较大 / 重大).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Grade {
    /// 一般
    General,
    /// 较大
    Larger,
    /// 重大
    Major,
}
mirror_enum!(Grade <=> DomGrade { General, Larger, Major });

/// Mediation difficulty (调解难度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Difficulty {
    /// 低
    Low,
    /// 中
    Medium,
    /// 高
    High,
}
mirror_enum!(Difficulty <=> DomDifficulty { Low, Medium, High });

/// How a dispute ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ClosingOutcome {
    /// 调解成功
    Resolved,
    /// 调解不成
    NotResolved,
    /// 引导诉讼
    ReferredToCourt,
}
mirror_enum!(ClosingOutcome <=> DomOutcome { Resolved, NotResolved, ReferredToCourt });

/// How near a dispute's deadline at its level is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum DeadlineState {
    /// Time enough.
    Ok,
    /// Within the policy's warning days.
    Approaching,
    /// Past it.
    Overdue,
}
mirror_enum!(DeadlineState <=> DomDeadline { Ok, Approaching, Overdue });

/// The Chinese term for a level (e.g. `司法所`).
#[uniffi::export]
pub fn level_label_zh(level: Level) -> String {
    DomLevel::from(level).label_zh().into()
}

/// The Chinese term for a grade (e.g. `较大`).
#[uniffi::export]
pub fn grade_label_zh(grade: Grade) -> String {
    DomGrade::from(grade).label_zh().into()
}

/// A party to a dispute (personal data).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Party {
    /// Name.
    pub name: String,
    /// Their household, if in the county's register.
    #[uniffi(default = None)]
    pub household_id: Option<String>,
    /// Contact phone.
    #[uniffi(default = None)]
    pub phone: Option<String>,
}

impl From<DomParty> for Party {
    fn from(p: DomParty) -> Self {
        Party { name: p.name, household_id: p.household_id.map(id), phone: p.phone }
    }
}

impl Party {
    fn into_dom(self) -> Result<DomParty, FengqiaoError> {
        let household_id = self.household_id.as_deref().map(|h| parse_id("parties.household_id", h)).transpose()?;
        Ok(DomParty { name: self.name, household_id, phone: self.phone })
    }
}

/// The three-axis analysis: cause, expected consequences, mediation difficulty.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Analysis {
    /// 纠纷成因
    pub cause: String,
    /// 预计后果
    pub consequences: String,
    /// 调解难度
    pub difficulty: Difficulty,
}

impl From<DomAnalysis> for Analysis {
    fn from(a: DomAnalysis) -> Self {
        Analysis { cause: a.cause, consequences: a.consequences, difficulty: a.difficulty.into() }
    }
}

impl From<Analysis> for DomAnalysis {
    fn from(a: Analysis) -> Self {
        DomAnalysis { cause: a.cause, consequences: a.consequences, difficulty: a.difficulty.into() }
    }
}

/// The closing of a dispute.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Closing {
    /// Outcome.
    pub outcome: ClosingOutcome,
    /// Note.
    pub note: String,
    /// Who closed it.
    pub closed_by: String,
    /// When (ms, UTC; server time once synced).
    pub closed_at_ms: i64,
    /// The level that closed it.
    pub level: Level,
}

/// A dispute. The reporter fills the first fields; the server keeps the rest.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Dispute {
    /// Id (UUIDv7 made on the phone).
    pub id: String,
    /// Case number, e.g. `T01V01-2026-0007-003` ("one case, one code").
    pub case_number: String,
    /// Kind: a code of [`DisputeKind`] (e.g. `land`).
    pub kind: String,
    /// The group or village where it arose.
    pub origin_unit: String,
    /// Parties.
    pub parties: Vec<Party>,
    /// What it is about (personal data).
    pub summary: String,
    /// Grade.
    pub grade: Grade,
    /// Cause, consequences, difficulty.
    pub analysis: Analysis,
    /// When it was found (ms, UTC; device clock).
    pub found_at_ms: i64,
    /// The visit lead it came from, if any.
    pub lead_id: Option<String>,
    /// Reporter.
    pub reported_by: String,
    /// Current level.
    pub level: Level,
    /// The unit handling it at its level.
    pub handler_unit: String,
    /// When it entered its current level (ms, UTC): deadlines count from here.
    pub level_since_ms: i64,
    /// When it was registered (ms, UTC).
    pub registered_at_ms: i64,
    /// The escalation waiting for a decision, if any.
    pub pending_escalation: Option<String>,
    /// Set once closed.
    pub closing: Option<Closing>,
    /// Entries in its flow table so far.
    pub flow_count: u32,
    /// Case-file checklist items present so far (e.g. `agreement`).
    pub case_file_items: Vec<String>,
    /// Mediators credited at the current level.
    pub credited: Vec<String>,
    /// Who its subsidy is owed to, once resolved.
    pub payees: Vec<String>,
}

impl From<DomDispute> for Dispute {
    fn from(d: DomDispute) -> Self {
        Dispute {
            id: id(d.id),
            case_number: d.case_number,
            kind: d.kind,
            origin_unit: id(d.origin_unit),
            parties: d.parties.into_iter().map(Party::from).collect(),
            summary: d.summary,
            grade: d.grade.into(),
            analysis: d.analysis.into(),
            found_at_ms: millis(d.found_at),
            lead_id: d.lead_id.map(id),
            reported_by: id(d.reported_by),
            level: d.level.into(),
            handler_unit: id(d.handler_unit),
            level_since_ms: millis(d.level_since),
            registered_at_ms: millis(d.registered_at),
            pending_escalation: d.pending_escalation.map(id),
            closing: d.closing.map(|c| Closing {
                outcome: c.outcome.into(),
                note: c.note,
                closed_by: id(c.closed_by),
                closed_at_ms: millis(c.closed_at),
                level: c.level.into(),
            }),
            flow_count: d.flow_count,
            case_file_items: d.case_file.into_iter().map(|i| i.item).collect(),
            credited: ids(d.credited),
            payees: ids(d.payees),
        }
    }
}

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
    /// The unit it goes to (for the judicial office: the office chosen or the
    /// one serving the town); none on a request made before units were named.
    #[uniffi(default = None)]
    pub to_unit: Option<String>,
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
            to_unit: e.to_unit.map(id),
        }
    }
}

/// A dispute in a list, as the phone sees it now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisputeItem {
    /// The dispute (with this phone's own unsynced requests and decisions applied).
    pub dispute: Dispute,
    /// When its current level's time runs out (ms, UTC).
    pub deadline_ms: i64,
    /// Ok, approaching or overdue; none once closed.
    pub deadline_state: Option<DeadlineState>,
    /// The escalation waiting for a decision, if any.
    pub pending_escalation: Option<Escalation>,
    /// The user handles it at its current level.
    pub handled_by_me: bool,
    /// Reported or changed on this phone and not yet confirmed by the server.
    pub pending: bool,
    /// That operation was refused and waits in quarantine.
    pub quarantined: bool,
}

impl From<CoreItem> for DisputeItem {
    fn from(i: CoreItem) -> Self {
        DisputeItem {
            dispute: i.dispute.into(),
            deadline_ms: millis(i.deadline),
            deadline_state: i.deadline_state.map(DeadlineState::from),
            pending_escalation: i.pending_escalation.map(Escalation::from),
            handled_by_me: i.handled_by_me,
            pending: i.pending,
            quarantined: i.quarantined,
        }
    }
}

/// What the user may do on a dispute now (offer only these).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct DisputeActions {
    /// Levels the user may ask to move it to (empty: may not ask now).
    pub escalate_to: Vec<Level>,
    /// May record mediation sessions and agreements.
    pub record: bool,
    /// May record follow-ups and judicial confirmation (also once resolved).
    pub follow_up: bool,
    /// May close it.
    pub close: bool,
    /// May re-grade and re-analyse it (`regrade_dispute`).
    pub regrade: bool,
    /// The waiting escalation the user may approve or refuse.
    pub decide: Option<String>,
}

impl From<CoreActions> for DisputeActions {
    fn from(a: CoreActions) -> Self {
        DisputeActions {
            escalate_to: a.escalate_to.into_iter().map(Level::from).collect(),
            record: a.record,
            follow_up: a.follow_up,
            close: a.close,
            regrade: a.regrade,
            decide: a.decide.map(id),
        }
    }
}

/// A dispute as the user reports it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewDispute {
    /// Kind: a code of [`DisputeKind`].
    pub kind: String,
    /// The group or village where it arose (a unit on this phone).
    pub origin_unit: String,
    /// Parties (at least one).
    pub parties: Vec<Party>,
    /// What it is about.
    pub summary: String,
    /// Grade.
    pub grade: Grade,
    /// Cause, expected consequences, mediation difficulty.
    pub analysis: Analysis,
    /// When it was found (ms, UTC); none: now.
    #[uniffi(default = None)]
    pub found_at_ms: Option<i64>,
    /// The visit lead it came from, if any.
    #[uniffi(default = None)]
    pub lead_id: Option<String>,
    /// The level that takes it; none: the lowest level the user handles there.
    #[uniffi(default = None)]
    pub level: Option<Level>,
}

impl NewDispute {
    fn into_core(self) -> Result<CoreNewDispute, FengqiaoError> {
        Ok(CoreNewDispute {
            kind: self.kind,
            origin_unit: parse_id("origin_unit", &self.origin_unit)?,
            parties: self.parties.into_iter().map(Party::into_dom).collect::<Result<_, _>>()?,
            summary: self.summary,
            grade: self.grade.into(),
            analysis: self.analysis.into(),
            found_at: opt_from_millis("found_at_ms", self.found_at_ms)?,
            lead_id: self.lead_id.as_deref().map(|l| parse_id("lead_id", l)).transpose()?,
            level: self.level.map(DomLevel::from),
        })
    }
}

impl From<CoreNewDispute> for NewDispute {
    fn from(n: CoreNewDispute) -> Self {
        NewDispute {
            kind: n.kind,
            origin_unit: id(n.origin_unit),
            parties: n.parties.into_iter().map(Party::from).collect(),
            summary: n.summary,
            grade: n.grade.into(),
            analysis: n.analysis.into(),
            found_at_ms: n.found_at.map(millis),
            lead_id: n.lead_id.map(id),
            level: n.level.map(Level::from),
        }
    }
}

/// One of the county's dispute kinds (policy), for the report form.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DisputeKind {
    /// Stable code (the value of `NewDispute.kind`).
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// The level that usually settles it.
    pub usual_level: Level,
}

#[uniffi::export]
impl FieldClient {
    /// Reports a dispute offline; durable when it returns, sent by the next
    /// sync. Its case number comes from a block reserved earlier; with none
    /// left: `Rejected` with reason `no_case_numbers` (sync or
    /// `prepare_case_numbers` once online).
    pub fn report_dispute(&self, dispute: NewDispute) -> Result<Dispute, FengqiaoError> {
        guard(|| Ok(self.core().report_dispute(dispute.into_core()?)?.into()))
    }

    /// A report prefilled from a lead found on a visit on this phone (summary,
    /// group, time). Fill in kind, parties, grade and analysis, then report it.
    pub fn dispute_draft_from_lead(&self, visit_id: String, lead_id: String) -> Result<NewDispute, FengqiaoError> {
        guard(|| {
            let visit = parse_id("visit_id", &visit_id)?;
            let lead = parse_id("lead_id", &lead_id)?;
            Ok(self.core().dispute_draft_from_lead(visit, lead)?.into())
        })
    }

    /// The disputes `filter` holds, in the core's order: open ones first, the
    /// soonest deadline first, then closed ones, the latest deadline first.
    /// Offline.
    pub fn disputes(&self, filter: DisputeFilter) -> Result<Vec<DisputeItem>, FengqiaoError> {
        guard(|| Ok(self.core().disputes(filter.into())?.into_iter().map(DisputeItem::from).collect()))
    }

    /// Every dispute on this phone (the user's jurisdiction as pulled, and
    /// their own unsynced ones): open ones first by deadline, then closed. Offline.
    pub fn list_disputes(&self) -> Result<Vec<DisputeItem>, FengqiaoError> {
        guard(|| Ok(self.core().list_disputes()?.into_iter().map(DisputeItem::from).collect()))
    }

    /// The user's disputes: those they handle at their current level or reported. Offline.
    pub fn my_disputes(&self) -> Result<Vec<DisputeItem>, FengqiaoError> {
        guard(|| Ok(self.core().my_disputes()?.into_iter().map(DisputeItem::from).collect()))
    }

    /// One dispute as listed; `NotFound` if it is not on this phone.
    pub fn dispute(&self, dispute_id: String) -> Result<DisputeItem, FengqiaoError> {
        guard(|| Ok(self.core().dispute(parse_id("dispute_id", &dispute_id)?)?.into()))
    }

    /// What the user may do on a dispute now, by the rules the server applies
    /// (nothing for a dispute not on this phone). Offline.
    pub fn allowed_actions(&self, dispute_id: String) -> Result<DisputeActions, FengqiaoError> {
        guard(|| Ok(self.core().allowed_actions(parse_id("dispute_id", &dispute_id)?)?.into()))
    }

    /// How many case numbers the user can still give offline.
    pub fn case_numbers_left(&self) -> Result<u64, FengqiaoError> {
        guard(|| Ok(self.core().case_numbers_left()?))
    }

    /// Reserves case numbers until at least `at_least` are held (e.g. before
    /// days out of coverage; `sync` keeps a smaller stock by itself). Returns
    /// the numbers held. Needs the network.
    pub async fn prepare_case_numbers(&self, at_least: u32) -> Result<u64, FengqiaoError> {
        let core = self.core_arc();
        run(None, async move { Ok(core.prepare_case_numbers(at_least).await?) }).await
    }

    /// The county's dispute kinds (policy), for the report form.
    pub fn dispute_kinds(&self) -> Vec<DisputeKind> {
        guard(|| {
            Ok(self
                .core()
                .policy()
                .disputes
                .kinds
                .iter()
                .map(|k| DisputeKind {
                    code: k.code.clone(),
                    label_zh: k.label_zh.clone(),
                    label_en: k.label_en.clone(),
                    usual_level: k.usual_level.into(),
                })
                .collect())
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_disputes_convert_and_bad_ids_are_typed_errors() {
        let nd = NewDispute {
            kind: "land".into(),
            origin_unit: uuid::Uuid::now_v7().to_string(),
            parties: vec![Party { name: "王五".into(), household_id: Some("nope".into()), phone: None }],
            summary: "界桩".into(),
            grade: Grade::Larger,
            analysis: Analysis { cause: "c".into(), consequences: "q".into(), difficulty: Difficulty::Medium },
            found_at_ms: Some(1_767_225_600_000),
            lead_id: None,
            level: Some(Level::Village),
        };
        let e = nd.clone().into_core().unwrap_err();
        assert!(matches!(e, FengqiaoError::InvalidInput { ref reason, .. } if reason == "invalid_id"));
        let mut ok = nd;
        ok.parties[0].household_id = None;
        let core = ok.clone().into_core().unwrap();
        assert_eq!((core.grade, core.level), (DomGrade::Larger, Some(DomLevel::Village)));
        assert_eq!(NewDispute::from(core), ok, "round trip");
        assert_eq!(level_label_zh(Level::JudicialOffice), "司法所");
        assert_eq!(grade_label_zh(Grade::Major), "重大");
    }
}
