//! What the law puts above a village's rules (村规民约): statutory benefits no
//! sanction may touch, the villagers' representative meeting that adopts the
//! rules, each household's commitment letter (承诺书), why a violation recorded
//! under rules not reviewed as lawful carries no sanction. Who stands on the
//! dishonesty list (失信名单) is [`crate::model::prevent::on_dishonesty_list`].
//!
//! The protected benefits are a list in code, not policy: no county file and no
//! village can make a statutory benefit a sanction.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::wire::rejection::{Rejection, RejectionCode};

/// Statutory benefits (and words that name them) that no sanction may suspend:
/// 低保, 特困供养, 医保, 养老保险, 义务教育 and the like. A service whose name
/// contains one of these (spaces ignored) names a protected benefit.
pub const PROTECTED_BENEFITS: &[&str] = &[
    "低保",
    "最低生活保障",
    "特困",
    "五保",
    "医保",
    "医疗保险",
    "医疗救助",
    "养老保险",
    "养老金",
    "义务教育",
    "临时救助",
    "残疾人",
    "优抚",
    "抚恤",
];

/// The protected benefit a service name names, if any ([`PROTECTED_BENEFITS`]).
pub fn protected_benefit(service: &str) -> Option<&'static str> {
    let s: String = service.chars().filter(|c| !c.is_whitespace()).collect();
    PROTECTED_BENEFITS.iter().copied().find(|p| s.contains(p))
}

/// Refuses a service that names a protected benefit (`protected_benefit`), with
/// a plain Chinese message naming the service and the rule.
pub fn refuse_protected(field: &str, service: &str) -> Result<(), Rejection> {
    match protected_benefit(service) {
        Some(p) => Err(Rejection::new(
            RejectionCode::ProtectedBenefit,
            format!("{field}：“{service}”属于法定保障（{p}），任何村规民约或政策都不能暂停法定保障待遇"),
        )),
        None => Ok(()),
    }
}

/// Why a violation carries no sanction. A violation is kept whatever its rules,
/// but its sanctions apply only under rules the judicial office has reviewed as
/// lawful (司法所合法性审查) at the time it is recorded. A later lawful review
/// does not give sanctions to a violation recorded before it: the household was
/// notified under rules not yet lawful, and no sanction reaches back (a new
/// violation after the review carries the rules' sanctions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SanctionsWithheld {
    /// The village's rules had not been reviewed by the judicial office.
    RulesUnreviewed,
    /// The judicial office reviewed the rules and did not find them lawful.
    RulesUnlawful,
}

impl SanctionsWithheld {
    /// The reason as the phone shows it, in plain Chinese naming the rule.
    pub fn message_zh(self) -> &'static str {
        match self {
            SanctionsWithheld::RulesUnreviewed => {
                "本村村规民约尚未经司法所合法性审查，此条记录保留但不予惩戒（审查通过后新发生的违约才予惩戒）"
            }
            SanctionsWithheld::RulesUnlawful => {
                "本村村规民约未通过司法所合法性审查，此条记录保留但不予惩戒（村规民约须依法修改并经审查）"
            }
        }
    }
}

/// Where a village's rules stand with the judicial office's legality review,
/// in plain Chinese for the phone: lawful (sanctions apply) or why violations
/// carry no sanction.
pub fn rules_status_zh(withheld: Option<SanctionsWithheld>) -> &'static str {
    match withheld {
        None => "本村村规民约已经村民代表会议表决通过并经司法所合法性审查，负面清单惩戒有效",
        Some(SanctionsWithheld::RulesUnreviewed) => "本村村规民约尚未经司法所合法性审查：其间记录的违约保留但不予惩戒",
        Some(SanctionsWithheld::RulesUnlawful) => {
            "本村村规民约未通过司法所合法性审查：违约记录保留但不予惩戒，须依法修改并重新审查"
        }
    }
}

/// The villagers' representative meeting's vote adopting the rules (村民代表会议
/// 表决). The meeting may sit with at least two thirds of its members present,
/// and adopts by more than half of those present (村民委员会组织法 第二十六条).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Adoption {
    /// The meeting's date (county-local calendar day).
    pub meeting_date: NaiveDate,
    /// Members of the meeting (应到人数), at least 1.
    pub members: u32,
    /// Members present (实到人数).
    pub present: u32,
    /// Votes for.
    pub votes_for: u32,
    /// Votes against.
    pub votes_against: u32,
    /// Abstentions.
    pub abstentions: u32,
}

impl Adoption {
    /// Whether the meeting could sit (two thirds present) and adopted the rules
    /// (more than half of those present for).
    pub fn passed(&self) -> bool {
        u64::from(self.present) * 3 >= u64::from(self.members) * 2
            && u64::from(self.votes_for) * 2 > u64::from(self.present)
    }

    /// Sane numbers, a date no later than `today`, and a vote that passed.
    pub fn validate(&self, today: NaiveDate) -> Result<(), Rejection> {
        let bad = |m: String| Err(Rejection::new(RejectionCode::InvalidField, m));
        if self.members == 0 {
            return bad("表决情况：村民代表会议组成人员至少 1 人".into());
        }
        if self.present > self.members {
            return bad(format!("表决情况：到会 {} 人多于组成人员 {} 人", self.present, self.members));
        }
        let cast = u64::from(self.votes_for) + u64::from(self.votes_against) + u64::from(self.abstentions);
        if cast > u64::from(self.present) {
            return bad(format!("表决情况：赞成、反对、弃权共 {cast} 票，多于到会 {} 人", self.present));
        }
        if self.meeting_date > today || self.meeting_date < NaiveDate::from_ymd_opt(1980, 1, 1).unwrap_or(today) {
            return bad("会议日期：不能晚于今天，也不能早于 1980 年".into());
        }
        if !self.passed() {
            return Err(Rejection::new(
                RejectionCode::InvalidState,
                "表决情况：村民代表会议须有三分之二以上组成人员到会、到会人员过半数赞成，村规民约方为通过",
            ));
        }
        Ok(())
    }
}

/// A household's commitment letter to the village's rules (村规民约承诺书).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commitment {
    /// Signed (true) or not (refused or not yet).
    pub signed: bool,
    /// The day it was signed (only when signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_on: Option<NaiveDate>,
    /// Who recorded it (set by the server).
    #[serde(default)]
    pub recorded_by: Uuid,
    /// When it was recorded (server time).
    #[serde(default)]
    pub recorded_at: DateTime<Utc>,
}

/// Body of `record_commitment`: a household's commitment letter signed or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordCommitment {
    /// The household.
    pub household_id: Uuid,
    /// Signed (true) or not.
    pub signed: bool,
    /// The day it was signed (required when signed, absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_on: Option<NaiveDate>,
}

impl RecordCommitment {
    /// A signed letter has a date no later than `today`; an unsigned one none.
    pub fn validate(&self, today: NaiveDate) -> Result<(), Rejection> {
        let bad = |m: &str| Err(Rejection::new(RejectionCode::InvalidField, m));
        match (self.signed, self.signed_on) {
            (true, None) => bad("承诺书签订日期：已签承诺书须写明签订日期"),
            (true, Some(d)) if d > today => bad("承诺书签订日期：不能晚于今天"),
            (false, Some(_)) => bad("承诺书签订日期：未签承诺书不能有签订日期"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn vote(members: u32, present: u32, f: u32, a: u32, ab: u32) -> Adoption {
        Adoption { meeting_date: day(2026, 3, 1), members, present, votes_for: f, votes_against: a, abstentions: ab }
    }

    #[test]
    fn statutory_benefits_are_named_however_written() {
        for s in [
            "低保",
            "农村 低保",
            "城乡居民基本医疗保险",
            "医保缴费代办",
            "特困人员供养",
            "义务教育",
            "城乡居民养老保险",
        ] {
            assert!(protected_benefit(s).is_some(), "{s}");
            let e = refuse_protected("暂停的服务", s).unwrap_err();
            assert_eq!(e.code.as_str(), "protected_benefit");
            assert!(e.message.contains("法定保障"), "{}", e.message);
        }
        for s in ["村集体分红", "村级评优评先", "村级福利"] {
            assert_eq!(protected_benefit(s), None, "{s}");
        }
    }

    #[test]
    fn a_representative_vote_needs_two_thirds_present_and_a_majority_for() {
        let today = day(2026, 12, 7);
        vote(30, 20, 11, 5, 4).validate(today).unwrap();
        let code = |a: Adoption| a.validate(today).unwrap_err().code.as_str();
        assert_eq!(code(vote(30, 19, 19, 0, 0)), "invalid_state", "fewer than two thirds present");
        assert_eq!(code(vote(30, 20, 10, 10, 0)), "invalid_state", "half is not a majority");
        assert_eq!(code(vote(30, 31, 31, 0, 0)), "invalid_field", "more present than members");
        assert_eq!(code(vote(30, 20, 15, 5, 1)), "invalid_field", "more votes than present");
        assert_eq!(code(vote(0, 0, 0, 0, 0)), "invalid_field");
        assert_eq!(code(vote(u32::MAX, u32::MAX, u32::MAX, u32::MAX, u32::MAX)), "invalid_field", "no overflow");
        let mut later = vote(30, 20, 11, 5, 4);
        later.meeting_date = day(2026, 12, 8);
        assert_eq!(code(later), "invalid_field", "a meeting in the future");
    }

    #[test]
    fn a_commitment_letter_is_dated_when_signed_only() {
        let today = day(2026, 12, 7);
        let c = |signed, signed_on| RecordCommitment { household_id: Uuid::nil(), signed, signed_on };
        c(true, Some(today)).validate(today).unwrap();
        c(false, None).validate(today).unwrap();
        assert!(c(true, None).validate(today).is_err());
        assert!(c(false, Some(today)).validate(today).is_err());
        assert!(c(true, Some(day(2026, 12, 8))).validate(today).is_err());
    }

    /// `check-policy` refuses a list of village services or a negative list
    /// that names a statutory benefit, naming the key; the seed passes.
    #[test]
    fn a_policy_cannot_make_a_statutory_benefit_a_sanction() {
        use crate::policy::{Policy, PolicyError};
        let key = |toml: &str| match Policy::from_toml(toml) {
            Err(PolicyError::Key { key, message }) => (key, message),
            other => panic!("{toml}: {other:?}"),
        };
        let (k, m) = key("[village_rules]\nservices = [\"村集体分红\", \"农村低保\"]\n");
        assert_eq!(k, "village_rules.services");
        assert!(m.contains("农村低保") && m.contains("法定保障"), "{m}");
        assert_eq!(key("[village_rules]\nservices = [\"村级福利\", \"村级福利\"]\n").0, "village_rules.services");
        let suspends = |service: &str| {
            format!(
                "[[negative_list]]\ncode = \"x\"\nlabel_zh = \"某事\"\nlabel_en = \"x\"\n\
                 sanctions = [{{ type = \"services_suspended\", services = [\"{service}\"] }}]\n"
            )
        };
        let (k, m) = key(&suspends("城乡居民医保"));
        assert_eq!(k, "negative_list");
        assert!(m.contains("法定保障"), "{m}");
        assert_eq!(key(&suspends("村里的路灯")).0, "negative_list", "not a village service of the county's list");
        Policy::from_toml(&suspends("村级福利")).unwrap();
        Policy::from_toml(&Policy::default().to_toml()).unwrap();
        assert_eq!(Policy::default().village_rules.services, ["村集体分红", "村级评优评先", "村级福利"]);
    }
}
