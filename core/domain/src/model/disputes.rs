//! Disputes (矛盾纠纷) and what happens to them: escalations, mediation sessions,
//! agreements, follow-ups, judicial confirmation and closing. The dispute flow
//! table (流向表) is [`crate::model::flow`], case numbers
//! [`crate::model::case_numbers`]; both are re-exported here.

use chrono::{DateTime, Datelike, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::ladder::{Grade, Level};
use crate::policy::Policy;
use crate::wire::rejection::{Rejection, RejectionCode};

pub use crate::model::case_numbers::{
    case_prefix, may_reserve_case_block, CaseBlockUse, CaseNumber, MAX_CASE_BLOCK_SIZE,
};
pub use crate::model::flow::{FlowEntry, FlowKind};

/// A party to a dispute (personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    /// Name.
    pub name: String,
    /// Their household, if in the county's register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<Uuid>,
    /// Contact phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// How hard a dispute is to mediate (调解难度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    /// 低
    Low,
    /// 中
    Medium,
    /// 高
    High,
}

impl Difficulty {
    /// The Chinese term.
    pub fn label_zh(self) -> &'static str {
        match self {
            Difficulty::Low => "低",
            Difficulty::Medium => "中",
            Difficulty::High => "高",
        }
    }
}

/// The three-axis analysis: cause, expected consequences, mediation difficulty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Analysis {
    /// 纠纷成因
    pub cause: String,
    /// 预计后果
    pub consequences: String,
    /// 调解难度
    pub difficulty: Difficulty,
}

/// How a dispute ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClosingOutcome {
    /// 调解成功
    Resolved,
    /// 调解不成
    NotResolved,
    /// 引导诉讼
    ReferredToCourt,
}

/// The closing of a dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Closing {
    /// Outcome.
    pub outcome: ClosingOutcome,
    /// Note.
    #[serde(default)]
    pub note: String,
    /// Who closed it.
    pub closed_by: Uuid,
    /// Server time.
    pub closed_at: DateTime<Utc>,
    /// The level that closed it.
    pub level: Level,
}

/// A dispute. The reporter fills the first block; the server keeps the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dispute {
    /// Stable id (UUIDv7 made on the device).
    pub id: Uuid,
    /// Human-readable case number, allocated offline ("one case, one code").
    pub case_number: String,
    /// Kind, one of the policy's dispute kinds (e.g. `land`, `neighbour`).
    pub kind: String,
    /// The group or village where it arose: its scope decides who sees it.
    pub origin_unit: Uuid,
    /// Parties.
    pub parties: Vec<Party>,
    /// What it is about (personal data).
    pub summary: String,
    /// Grade.
    pub grade: Grade,
    /// Cause, consequences, difficulty.
    pub analysis: Analysis,
    /// When it was found (device clock; informational).
    pub found_at: DateTime<Utc>,
    /// The visit lead it came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<Uuid>,
    /// Reporter (set by the server from the op's author).
    #[serde(default)]
    pub reported_by: Uuid,
    /// Current level.
    pub level: Level,
    /// The unit handling it at its level (group, village or town).
    #[serde(default)]
    pub handler_unit: Uuid,
    /// When it entered its current level (server time): deadlines count from here.
    #[serde(default)]
    pub level_since: DateTime<Utc>,
    /// When the server registered it.
    #[serde(default)]
    pub registered_at: DateTime<Utc>,
    /// The escalation waiting for a decision, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_escalation: Option<Uuid>,
    /// Set when closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing: Option<Closing>,
    /// Entries in its flow table so far.
    #[serde(default)]
    pub flow_count: u32,
    /// The case file's checklist items present so far (kept by the server).
    #[serde(default)]
    pub case_file: Vec<crate::model::entity::FileItem>,
    /// Mediators credited at the current level (from its sessions; kept by the server).
    #[serde(default)]
    pub credited: Vec<Uuid>,
    /// The credit of the levels the dispute has left, lowest first (kept by the
    /// server): moving up keeps each level's credit (see [`crate::model::credit`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_credit: Vec<LevelCredit>,
    /// Who the case's subsidy is owed to, once resolved (kept by the server).
    #[serde(default)]
    pub payees: Vec<Uuid>,
    /// The county policy's version ([`Policy::version`]). In a `report_dispute`
    /// op: the one the phone checked the report against (a kind it has since lost
    /// is still accepted if that version, kept by the server, had it). On the
    /// record: the one in force when the server registered it. Empty on disputes
    /// registered before versions were recorded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub policy_version: String,
    /// The deadlines in force when the server registered it (kept by the server):
    /// its deadlines count by these whatever the policy says later, so a deadline
    /// change does not re-date past months. Absent on disputes registered before
    /// they were recorded, which follow the policy in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadlines: Option<crate::policy::DeadlinePolicy>,
    /// The earliest the deadline may fall after a re-grading shortened it (kept
    /// by the server; cleared when the dispute changes level). See
    /// [`Dispute::deadline`] and ADR 0026.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_floor: Option<DateTime<Utc>>,
}

impl Dispute {
    /// When its current level's time runs out: the grade's deadline counted from
    /// `level_since` by the deadlines it was registered under
    /// ([`Dispute::deadline_policy`]), never earlier than the floor a re-grading
    /// left ([`regraded_deadline_floor`]).
    pub fn deadline(&self, policy: &Policy) -> DateTime<Utc> {
        let by_grade = crate::model::ladder::deadline_in(self.grade, self.level_since, self.deadline_policy(policy));
        match self.deadline_floor {
            Some(floor) if floor > by_grade => floor,
            _ => by_grade,
        }
    }
}

/// The deadline floor a dispute keeps after being re-graded to `new_grade` at
/// `now` (ADR 0026). A re-grading that does not shorten the deadline needs no
/// floor (`None`): the new grade's deadline counts from `level_since`. One that
/// shortens it leaves the handler at least `deadlines.regrade_grace_days` from
/// now, but never more time than the deadline had before the re-grading — so a
/// re-grading neither makes a case overdue at once nor rescues an overdue one.
pub fn regraded_deadline_floor(
    d: &Dispute,
    new_grade: Grade,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Option<DateTime<Utc>> {
    let before = d.deadline(policy);
    let by_grade = crate::model::ladder::deadline_in(new_grade, d.level_since, d.deadline_policy(policy));
    if by_grade >= before {
        return None;
    }
    let grace = now + Duration::days(i64::from(policy.deadlines.regrade_grace_days));
    Some(grace.min(before))
}

/// The mediators credited at one level of a dispute's ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LevelCredit {
    /// The level.
    pub level: Level,
    /// Those credited in its sessions (in the order first credited).
    pub mediators: Vec<Uuid>,
}

/// Why a dispute is asked to move up (屡调不成 and others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EscalationReason {
    /// 屡调不成
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

/// An approver's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationDecision {
    /// Approved or refused.
    pub approved: bool,
    /// Comment (required when refusing).
    #[serde(default)]
    pub comment: String,
    /// Who decided.
    pub decided_by: Uuid,
    /// Server time.
    pub decided_at: DateTime<Utc>,
}

/// A request to move a dispute up the ladder (逐调 / 移交 / 上报).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Escalation {
    /// Stable id (made on the device).
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// Level it leaves (set by the server).
    pub from_level: Level,
    /// Level it asks to go to.
    pub to_level: Level,
    /// Why.
    pub reason: EscalationReason,
    /// Explanation.
    #[serde(default)]
    pub note: String,
    /// Who asked (set by the server).
    #[serde(default)]
    pub requested_by: Uuid,
    /// Server time of the request.
    #[serde(default)]
    pub requested_at: DateTime<Utc>,
    /// Grade of the dispute at the request (for the inbox order).
    pub grade: Grade,
    /// The unit it asks to go to: for the judicial-office level, the office chosen
    /// in the request (required when several serve the dispute's town; it must
    /// serve it); set by the server to the target unit. Absent in requests made
    /// before offices were units: the level's unit then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_unit: Option<Uuid>,
    /// The decision, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<EscalationDecision>,
}

/// A mediation session record (调解笔录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediationSession {
    /// Stable id.
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// When.
    pub held_at: DateTime<Utc>,
    /// Where.
    pub place: String,
    /// Mediators (user ids).
    pub mediators: Vec<Uuid>,
    /// Other participants, e.g. invited respected villagers (乡贤).
    #[serde(default)]
    pub participants: Vec<String>,
    /// What was said and agreed.
    pub record: String,
    /// Whether the parties agreed in this session.
    pub agreed: bool,
    /// The level the dispute was at (set by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Who recorded it (set by the server).
    #[serde(default)]
    pub author: Uuid,
}

/// A mediation agreement (调解协议书). Money in integer fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agreement {
    /// Stable id.
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// When signed.
    pub signed_at: DateTime<Utc>,
    /// Terms.
    pub terms: String,
    /// Sum to be paid, in fen (0 if none).
    pub sum_fen: i64,
    /// Obligations of each party.
    #[serde(default)]
    pub obligations: String,
    /// SHA-256 of photos of the parties' signatures (attached with the photo mechanism).
    #[serde(default)]
    pub signature_photos: Vec<String>,
    /// Who recorded it (set by the server).
    #[serde(default)]
    pub author: Uuid,
}

/// Parties' satisfaction at a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 满意
    Satisfied,
    /// 基本满意
    Neutral,
    /// 不满意
    Dissatisfied,
}

/// A follow-up visit (履行 / 回访).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUp {
    /// Stable id.
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether the agreement is fulfilled.
    pub fulfilled: bool,
    /// Parties' satisfaction.
    pub satisfaction: Satisfaction,
    /// Note.
    #[serde(default)]
    pub note: String,
    /// Who recorded it (set by the server).
    #[serde(default)]
    pub author: Uuid,
}

/// Judicial confirmation (司法确认) of an agreement by a court.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JudicialConfirmation {
    /// Stable id.
    pub id: Uuid,
    /// The dispute.
    pub dispute_id: Uuid,
    /// The agreement to confirm.
    pub agreement_id: Uuid,
    /// When applied (within the policy's days of the agreement).
    pub applied_at: DateTime<Utc>,
    /// Court.
    pub court: String,
    /// The court's answer: confirmed (true) or not, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<bool>,
    /// When the court answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    /// Who recorded it (set by the server).
    #[serde(default)]
    pub author: Uuid,
}

/// A text field: required (`min` 1: a visible character) or optional (`min` 0),
/// at most `max` characters ([`crate::model::text::check`]).
fn check_text(field: &str, s: &str, min: usize, max: usize) -> Result<(), Rejection> {
    crate::model::text::check(field, s, min > 0, max)
}

/// The refusal of a case number that is not one (its form, or no block of its author).
pub const NOT_A_CASE_NUMBER: &str = "案件编号：不是有效的案件编号（编号须来自本机领取的号段）";

/// Longest contact phone number, in characters (`+86 138-0000-0000` and the like).
pub const MAX_PHONE_CHARS: usize = 20;

/// A contact phone number: digits, with `+`, `-`, spaces and parentheses, at most
/// [`MAX_PHONE_CHARS`] characters and at least one digit.
pub fn check_phone(field: &str, phone: &str) -> Result<(), Rejection> {
    if phone.chars().nth(MAX_PHONE_CHARS).is_some() {
        return Err(Rejection::new(
            RejectionCode::TextTooLong,
            format!("{field}：电话号码最多 {MAX_PHONE_CHARS} 个字符"),
        ));
    }
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')');
    if !phone.chars().all(allowed) || !phone.chars().any(|c| c.is_ascii_digit()) {
        return Err(Rejection::new(
            RejectionCode::InvalidField,
            format!("{field}：电话号码只能有数字和 + - ( ) 空格，且至少有一个数字"),
        ));
    }
    Ok(())
}

/// Dates of sessions, agreements, follow-ups and disputes lie in 2000–2100.
pub fn check_year(field: &str, at: DateTime<Utc>) -> Result<(), Rejection> {
    if !(2000..=2100).contains(&at.year()) {
        return Err(Rejection::new(RejectionCode::InvalidField, format!("{field}：日期须在 2000 年至 2100 年之间")));
    }
    Ok(())
}

impl Dispute {
    /// The deadlines it counts by: those it was registered under, else the
    /// policy's.
    pub fn deadline_policy<'a>(&'a self, policy: &'a Policy) -> &'a crate::policy::DeadlinePolicy {
        self.deadlines.as_ref().unwrap_or(&policy.deadlines)
    }

    /// Where `now` stands against its deadline, by [`Dispute::deadline_policy`].
    pub fn deadline_state(&self, now: DateTime<Utc>, policy: &Policy) -> crate::model::ladder::DeadlineState {
        crate::model::ladder::deadline_state_in(self.deadline(policy), now, self.deadline_policy(policy))
    }

    /// Checks the reporter's fields against policy (phone and server).
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        self.validate_under(policy, None)
    }

    /// [`Dispute::validate`], the kind also accepted if `earlier` (the policy the
    /// report was made under, when it differs from the one in force) has it: a
    /// kind the county removed does not refuse reports made before the change.
    pub fn validate_under(&self, policy: &Policy, earlier: Option<&Policy>) -> Result<(), Rejection> {
        self.validate_report(policy, earlier)?;
        self.validate_case_number()
    }

    /// What the reporter filled in, before a case number is given: the kind (in
    /// the policy in force, or in `earlier`), texts, parties and date. A phone
    /// checks this first, so bad input is told as such even when no case
    /// number is left.
    pub fn validate_report(&self, policy: &Policy, earlier: Option<&Policy>) -> Result<(), Rejection> {
        let has_kind = |p: &Policy| p.disputes.kinds.iter().any(|k| k.code == self.kind);
        if !has_kind(policy) && !earlier.is_some_and(has_kind) {
            return Err(Rejection::new(RejectionCode::InvalidField, "纠纷类型：不是本县规定的纠纷类型"));
        }
        self.validate_reported_fields()
    }

    /// The checks that need no policy (texts, parties, date, case number's form);
    /// the kind is checked by [`Dispute::validate_under`] once the policy the
    /// report was made under is known.
    pub fn validate_fields(&self) -> Result<(), Rejection> {
        self.validate_reported_fields()?;
        self.validate_case_number()
    }

    fn validate_case_number(&self) -> Result<(), Rejection> {
        CaseNumber::parse(&self.case_number)
            .ok_or_else(|| Rejection::new(RejectionCode::InvalidField, NOT_A_CASE_NUMBER))?;
        Ok(())
    }

    fn validate_reported_fields(&self) -> Result<(), Rejection> {
        check_text("纠纷概要", &self.summary, 1, 4000)?;
        check_text("起因分析", &self.analysis.cause, 0, 2000)?;
        check_text("后果分析", &self.analysis.consequences, 0, 2000)?;
        if self.parties.is_empty() || self.parties.len() > 200 {
            return Err(Rejection::new(RejectionCode::InvalidField, "当事人：每件纠纷 1 至 200 人"));
        }
        for p in &self.parties {
            check_text("当事人姓名", &p.name, 1, 100)?;
            if let Some(phone) = &p.phone {
                check_phone("当事人电话", phone)?;
            }
        }
        check_year("发现日期", self.found_at)?;
        Ok(())
    }
}

impl JudicialConfirmation {
    /// The checks that need no other record (the court's name, the dates).
    pub fn validate_fields(&self) -> Result<(), Rejection> {
        check_text("受理法院", &self.court, 1, 200)?;
        check_year("申请司法确认日期", self.applied_at)?;
        if let Some(at) = self.answered_at {
            check_year("法院答复日期", at)?;
        }
        Ok(())
    }
}

impl FollowUp {
    /// Field checks: the date, and the note within the policy's limit.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        check_year("回访日期", self.at)?;
        check_text("回访情况", &self.note, 0, policy.text.max_note_chars)
    }
}

impl Escalation {
    /// Checks the requester's fields (phone and server).
    pub fn validate(&self) -> Result<(), Rejection> {
        check_text("上报说明", &self.note, 0, 2000)?;
        if self.reason == EscalationReason::Other && self.note.trim().is_empty() {
            return Err(Rejection::new(RejectionCode::InvalidField, "上报说明：以“其他原因”申请上报时须写明原因"));
        }
        Ok(())
    }
}

impl MediationSession {
    /// Field checks.
    pub fn validate(&self) -> Result<(), Rejection> {
        check_year("调解日期", self.held_at)?;
        check_text("调解笔录", &self.record, 1, 20_000)?;
        check_text("调解地点", &self.place, 0, 200)?;
        if self.participants.len() > 200 || self.mediators.len() > 50 {
            return Err(Rejection::new(
                RejectionCode::InvalidField,
                "参加人员：每次调解最多记 200 名参加人员、50 名调解员",
            ));
        }
        crate::model::text::check_all("参加人员", &self.participants, true, 100)?;
        Ok(())
    }
}

impl Agreement {
    /// Field checks. Sums are integer fen, never negative.
    pub fn validate(&self) -> Result<(), Rejection> {
        check_year("协议签订日期", self.signed_at)?;
        check_text("协议内容", &self.terms, 1, 20_000)?;
        check_text("履行义务", &self.obligations, 0, 20_000)?;
        if self.signature_photos.len() > 50 {
            return Err(Rejection::new(RejectionCode::InvalidField, "签字照片：每份协议最多 50 张"));
        }
        if self.sum_fen < 0 || self.sum_fen > 100_000_000_000 {
            return Err(Rejection::new(RejectionCode::InvalidField, "协议金额：须在 0 至 10 亿元之间"));
        }
        if self.signature_photos.iter().any(|s| !crate::model::text::is_sha256_hex(s)) {
            return Err(Rejection::new(RejectionCode::InvalidField, crate::model::text::BAD_PHOTO_HASH));
        }
        Ok(())
    }
}

impl JudicialConfirmation {
    /// Applied within the policy's days of the agreement being signed.
    pub fn validate(&self, agreement: &Agreement, policy: &Policy) -> Result<(), Rejection> {
        self.validate_fields()?;
        let days = policy.disputes.confirmation_within_days as i64;
        if self.applied_at < agreement.signed_at || self.applied_at > agreement.signed_at + Duration::days(days) {
            return Err(Rejection::new(
                RejectionCode::InvalidField,
                format!("申请司法确认日期：须在调解协议签订之日起 {days} 天内申请司法确认"),
            ));
        }
        Ok(())
    }
}
