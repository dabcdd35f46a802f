//! The subsidy section of the county policy (`[subsidy]`): rates in integer fen,
//! the consultation rates, quality steps and impact bonuses, the case-file
//! checklist, who is paid, the resolving level's share and the payment deadline.

use serde::{Deserialize, Serialize};

/// Subsidy rates (integer fen), the case-file checklist, payment deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubsidyPolicy {
    /// Base for a general case.
    pub base_general_fen: i64,
    /// Base for a larger (difficult) case.
    pub base_larger_fen: i64,
    /// Base for a major case.
    pub base_major_fen: i64,
    /// Added for medium difficulty.
    pub difficulty_medium_fen: i64,
    /// Added for high difficulty.
    pub difficulty_high_fen: i64,
    /// Quality factor by review score: the highest step whose `min_score` is met.
    pub quality: Vec<QualityStep>,
    /// Social-impact bonus by dispute kind (e.g. mass disputes).
    pub impact_bonus: Vec<ImpactBonus>,
    /// Per legal consultation logged by a legal advisor, at its best reviewed
    /// outcome and satisfaction (the full rate of `consultation_rates`).
    pub consultation_fen: i64,
    /// What a reviewed consultation pays, in percent of `consultation_fen`, by
    /// the reviewed outcome and the villager's satisfaction (人民满意度和处置成功率):
    /// one row for every pair. An unreviewed consultation pays nothing.
    pub consultation_rates: Vec<ConsultationRate>,
    /// The roles whose holders are paid a case's subsidy when credited in its
    /// sessions: the people's mediators of each level (group leaders, village
    /// mediation committee members, mediators) and legal advisors. Not judicial
    /// office staff, first secretaries or the town committee (civil servants): a
    /// credited holder of no listed role keeps the credit in the statistics and
    /// is paid nothing.
    pub paid_roles: Vec<crate::model::org::Role>,
    /// Percent of a case's subsidy owed to the level that resolved it when lower
    /// levels are credited too; the lower levels share the rest
    /// (docs/adr/0027-credit-across-levels.md). 0 to 100.
    pub resolving_level_percent: u32,
    /// Approved subsidies are paid within this many days (else overdue).
    pub pay_within_days: u32,
    /// The case-file checklist (People's Mediation case-file format).
    pub checklist: Vec<ChecklistItem>,
}

/// One row of the consultation pay table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsultationRate {
    /// Reviewed outcome.
    pub outcome: crate::model::subsidy::ConsultationOutcome,
    /// Reviewed satisfaction.
    pub satisfaction: crate::model::disputes::Satisfaction,
    /// Percent of `consultation_fen` paid (0 to 100).
    pub percent: u32,
}

/// The seed's consultation pay table: a solved question with a satisfied
/// villager pays the full rate; a question referred on (to mediation, the court)
/// pays less; an unsolved one or a dissatisfied villager pays little or nothing.
fn default_consultation_rates() -> Vec<ConsultationRate> {
    use crate::model::disputes::Satisfaction::{Dissatisfied, Neutral, Satisfied};
    use crate::model::subsidy::ConsultationOutcome::{NotSolved, Referred, Solved};
    [
        (Solved, Satisfied, 100),
        (Solved, Neutral, 80),
        (Solved, Dissatisfied, 40),
        (Referred, Satisfied, 80),
        (Referred, Neutral, 60),
        (Referred, Dissatisfied, 30),
        (NotSolved, Satisfied, 40),
        (NotSolved, Neutral, 20),
        (NotSolved, Dissatisfied, 0),
    ]
    .into_iter()
    .map(|(outcome, satisfaction, percent)| ConsultationRate { outcome, satisfaction, percent })
    .collect()
}

/// One step of the quality factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityStep {
    /// Lowest review score for this step.
    pub min_score: u8,
    /// Percent of the base paid.
    pub percent: u32,
}

/// A social-impact bonus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImpactBonus {
    /// Dispute kind code.
    pub kind: String,
    /// Bonus in fen.
    pub fen: i64,
}

/// An item of the case-file checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// Stable code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// Required in every file (else: as needed).
    pub required: bool,
}

impl Default for SubsidyPolicy {
    fn default() -> Self {
        let checklist = [
            ("intake_form", "受理登记表", true),
            ("rights_notice", "权利义务告知书", true),
            ("identity_documents", "当事人身份证明", true),
            ("mediation_record", "调解笔录", true),
            ("agreement", "调解协议书", true),
            ("evidence", "证据材料", false),
            ("investigation", "调查记录", false),
            ("fulfilment_proof", "履行凭证", false),
            ("follow_up_record", "回访记录", false),
            ("confirmation_papers", "司法确认材料", false),
        ]
        .into_iter()
        .map(|(c, zh, r)| ChecklistItem { code: c.into(), label_zh: zh.into(), required: r })
        .collect();
        SubsidyPolicy {
            base_general_fen: 10_000,
            base_larger_fen: 20_000,
            base_major_fen: 30_000,
            difficulty_medium_fen: 5_000,
            difficulty_high_fen: 10_000,
            quality: vec![
                QualityStep { min_score: 90, percent: 100 },
                QualityStep { min_score: 75, percent: 80 },
                QualityStep { min_score: 60, percent: 60 },
            ],
            impact_bonus: vec![ImpactBonus { kind: "mass".into(), fen: 10_000 }],
            consultation_fen: 2_000,
            consultation_rates: default_consultation_rates(),
            paid_roles: {
                use crate::model::org::Role;
                vec![Role::GroupLeader, Role::VillageSecretary, Role::VillageCadre, Role::Mediator, Role::LegalAdvisor]
            },
            resolving_level_percent: 60,
            pay_within_days: 30,
            checklist,
        }
    }
}
