//! Field work the phone core offers beside the dispute ladder: finding a
//! household offline by name, household code or pinyin initials with its
//! standing; a legal advisor's consultations; a dispute's case-file checklist
//! with the last review's reasons in Chinese; and the case numbers left for
//! reporting offline, with the core's warning when few are.

use fengqiao_core::{
    CaseFileCheck as CoreCheck, CaseNumberStock as CoreStock, ChecklistLine as CoreLine,
    ConsultationItem as CoreConsultationItem, HouseholdMatch as CoreMatch, NewConsultation as CoreNewConsultation,
};
use fengqiao_domain::subsidy::{Consultation as DomConsultation, ConsultationOutcome as DomOutcome};

use crate::casefile::Satisfaction;
use crate::client::FieldClient;
use crate::convert::{id, millis, mirror_enum, opt_from_millis, parse_id};
use crate::error::FengqiaoError;
use crate::org::Household;
use crate::review::ReviewView;
use crate::runtime::guard;

/// A household found, with whether its services are suspended now and no
/// more of its record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HouseholdMatch {
    /// The household.
    pub household: Household,
    /// Its services are suspended now (暂停公共服务).
    pub suspended: bool,
}

impl From<CoreMatch> for HouseholdMatch {
    fn from(m: CoreMatch) -> Self {
        HouseholdMatch { household: m.household.into(), suspended: m.suspended }
    }
}

/// What came of a legal consultation (处置结果).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ConsultationOutcome {
    /// 已解决
    Solved,
    /// 已引导 (to mediation, legal aid, the court)
    Referred,
    /// 未解决
    NotSolved,
}
mirror_enum!(ConsultationOutcome <=> DomOutcome { Solved, Referred, NotSolved });

/// A legal consultation as the advisor enters it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewConsultation {
    /// The advisor's village.
    pub village_id: String,
    /// The villager's question (personal data).
    pub question: String,
    /// The advice given.
    pub answer: String,
    /// What came of it.
    pub outcome: ConsultationOutcome,
    /// The villager's satisfaction.
    pub satisfaction: Satisfaction,
    /// When it was held (ms, UTC); `None`: now.
    #[uniffi(default = None)]
    pub at_ms: Option<i64>,
}

/// A legal consultation (法律咨询).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Consultation {
    /// Id.
    pub id: String,
    /// The village.
    pub village_id: String,
    /// When (ms, UTC).
    pub at_ms: i64,
    /// The villager's question.
    pub question: String,
    /// The advice.
    pub answer: String,
    /// What came of it, as the advisor recorded it.
    pub outcome: Option<ConsultationOutcome>,
    /// The villager's satisfaction.
    pub satisfaction: Satisfaction,
    /// The judicial office reviewed it (its subsidy is final).
    pub reviewed: bool,
}

impl From<DomConsultation> for Consultation {
    fn from(c: DomConsultation) -> Self {
        Consultation {
            id: id(c.id),
            village_id: id(c.village_id),
            at_ms: millis(c.at),
            question: c.question,
            answer: c.answer,
            outcome: c.outcome.map(Into::into),
            satisfaction: c.satisfaction.into(),
            reviewed: c.review.is_some(),
        }
    }
}

/// A consultation on the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsultationItem {
    /// The consultation.
    pub consultation: Consultation,
    /// Logged here and not yet confirmed by the server.
    pub pending: bool,
}

impl From<CoreConsultationItem> for ConsultationItem {
    fn from(i: CoreConsultationItem) -> Self {
        ConsultationItem { consultation: i.consultation.into(), pending: i.pending }
    }
}

/// An item of the county's case-file checklist.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChecklistLine {
    /// Stable code (the `file_item` of a photo that files it).
    pub code: String,
    /// Chinese label.
    pub label: String,
    /// Required in every file.
    pub required: bool,
    /// The file holds it.
    pub present: bool,
}

impl From<CoreLine> for ChecklistLine {
    fn from(l: CoreLine) -> Self {
        ChecklistLine { code: l.code, label: l.label, required: l.required, present: l.present }
    }
}

/// Where a dispute's case file stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseFileCheck {
    /// The dispute.
    pub dispute_id: String,
    /// Every checklist item, in the county's order.
    pub items: Vec<ChecklistLine>,
    /// The required items still missing.
    pub missing: Vec<ChecklistLine>,
    /// The last review, if any reached this phone.
    pub last_review: Option<ReviewView>,
    /// Returned, and nothing required is missing now: waits for review again.
    pub ready_for_review: bool,
}

impl From<CoreCheck> for CaseFileCheck {
    fn from(c: CoreCheck) -> Self {
        CaseFileCheck {
            dispute_id: id(c.dispute_id),
            items: c.items.into_iter().map(Into::into).collect(),
            missing: c.missing.into_iter().map(Into::into).collect(),
            last_review: c.last_review.map(ReviewView::from),
            ready_for_review: c.ready_for_review,
        }
    }
}

/// The case numbers left offline.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseNumberStock {
    /// Numbers left on this phone.
    pub left: u64,
    /// Few are left: the screen warns.
    pub low: bool,
    /// The warning in the core's locale (empty unless `low`).
    pub warning: String,
}

impl From<CoreStock> for CaseNumberStock {
    fn from(s: CoreStock) -> Self {
        CaseNumberStock { left: s.left, low: s.low, warning: s.warning }
    }
}

#[uniffi::export]
impl FieldClient {
    /// Households on this phone answering `query` by the head's name, the
    /// household code, the address or the name's pinyin initials, best first,
    /// at most `limit` (capped by the core), each with its standing. Offline.
    pub fn search_households(&self, query: String, limit: u32) -> Result<Vec<HouseholdMatch>, FengqiaoError> {
        guard(|| Ok(self.core().search_households(&query, limit)?.into_iter().map(Into::into).collect()))
    }

    /// Logs a legal consultation offline (the village's legal advisor).
    pub fn record_consultation(&self, consultation: NewConsultation) -> Result<Consultation, FengqiaoError> {
        guard(|| {
            let c = CoreNewConsultation {
                village_id: parse_id("village_id", &consultation.village_id)?,
                question: consultation.question,
                answer: consultation.answer,
                outcome: consultation.outcome.into(),
                satisfaction: consultation.satisfaction.into(),
                at: opt_from_millis("at_ms", consultation.at_ms)?,
            };
            Ok(self.core().record_consultation(c)?.into())
        })
    }

    /// The consultations the user logged, newest first. Offline.
    pub fn my_consultations(&self) -> Result<Vec<ConsultationItem>, FengqiaoError> {
        guard(|| Ok(self.core().my_consultations()?.into_iter().map(Into::into).collect()))
    }

    /// Where a dispute's case file stands: checklist, missing items, the last
    /// review with its reasons in Chinese. Offline.
    pub fn case_file_check(&self, dispute_id: String) -> Result<CaseFileCheck, FengqiaoError> {
        guard(|| Ok(self.core().case_file_check(parse_id("dispute_id", &dispute_id)?)?.into()))
    }

    /// The case numbers left offline, with the core's warning when few are.
    pub fn case_number_stock(&self) -> Result<CaseNumberStock, FengqiaoError> {
        guard(|| Ok(self.core().case_number_stock()?.into()))
    }
}
