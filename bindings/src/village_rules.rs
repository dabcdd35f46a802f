//! A household under its village's rules (村规民约): where the rules stand
//! with the judicial office's legality review (in plain Chinese from the
//! core), the representative meeting's adopting vote, and the household's
//! commitment letter (承诺书), which a village cadre records offline. Calendar
//! days cross the boundary as `YYYY-MM-DD` strings.

use chrono::NaiveDate;
use fengqiao_core::HouseholdRules as CoreRules;
use fengqiao_domain::prevent::{Adoption as DomAdoption, Commitment as DomCommitment};

use crate::client::FieldClient;
use crate::convert::{id, millis, parse_id};
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// The villagers' representative meeting's vote adopting the rules (村民代表会议表决).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RulesAdoption {
    /// The meeting's day, `YYYY-MM-DD`.
    pub meeting_date: String,
    /// Members of the meeting (应到).
    pub members: u32,
    /// Present (实到).
    pub present: u32,
    /// For.
    pub votes_for: u32,
    /// Against.
    pub votes_against: u32,
    /// Abstentions.
    pub abstentions: u32,
}

impl From<DomAdoption> for RulesAdoption {
    fn from(a: DomAdoption) -> Self {
        RulesAdoption {
            meeting_date: a.meeting_date.to_string(),
            members: a.members,
            present: a.present,
            votes_for: a.votes_for,
            votes_against: a.votes_against,
            abstentions: a.abstentions,
        }
    }
}

/// A household's commitment letter (承诺书).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CommitmentLetter {
    /// Signed or not.
    pub signed: bool,
    /// The day it was signed, `YYYY-MM-DD` (only when signed).
    pub signed_on: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When it was recorded (ms, UTC).
    pub recorded_at_ms: i64,
}

impl From<DomCommitment> for CommitmentLetter {
    fn from(c: DomCommitment) -> Self {
        CommitmentLetter {
            signed: c.signed,
            signed_on: c.signed_on.map(|d| d.to_string()),
            recorded_by: id(c.recorded_by),
            recorded_at_ms: millis(c.recorded_at),
        }
    }
}

/// A household under its village's rules.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HouseholdRules {
    /// The household.
    pub household_id: String,
    /// Services suspended now.
    pub suspended: bool,
    /// The rules were reviewed as lawful: their sanctions apply.
    pub rules_lawful: bool,
    /// Where the rules stand, in plain Chinese from the core (show as is).
    pub rules_status: String,
    /// The adopting vote, once recorded.
    pub adoption: Option<RulesAdoption>,
    /// The commitment letter, once recorded.
    pub commitment: Option<CommitmentLetter>,
    /// The letter was recorded on this phone and not yet confirmed by the server.
    pub commitment_pending: bool,
}

impl From<CoreRules> for HouseholdRules {
    fn from(r: CoreRules) -> Self {
        HouseholdRules {
            household_id: id(r.household_id),
            suspended: r.suspended,
            rules_lawful: r.rules_lawful,
            rules_status: r.rules_status,
            adoption: r.adoption.map(RulesAdoption::from),
            commitment: r.commitment.map(CommitmentLetter::from),
            commitment_pending: r.commitment_pending,
        }
    }
}

fn parse_day(what: &str, s: &str) -> Result<NaiveDate, FengqiaoError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        FengqiaoError::invalid_input("日期：须写成“年-月-日”，如 2026-03-01", || {
            format!("{what}: a day as YYYY-MM-DD")
        })
    })
}

#[uniffi::export]
impl FieldClient {
    /// The household under its village's rules (anyone who sees the household,
    /// group leaders too). Offline.
    pub fn household_rules(&self, household_id: String) -> Result<HouseholdRules, FengqiaoError> {
        guard(|| Ok(self.core().household_rules(parse_id("household_id", &household_id)?)?.into()))
    }

    /// Records whether the household signed the commitment letter, offline
    /// (village cadres): signed with its day (`YYYY-MM-DD`), or not signed
    /// with none.
    pub fn record_commitment(
        &self,
        household_id: String,
        signed: bool,
        signed_on: Option<String>,
    ) -> Result<CommitmentLetter, FengqiaoError> {
        guard(|| {
            let h = parse_id("household_id", &household_id)?;
            let day = signed_on.as_deref().map(|d| parse_day("signed_on", d)).transpose()?;
            Ok(self.core().record_commitment(h, signed, day)?.into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientConfig;

    #[test]
    fn the_calls_check_their_arguments_and_forward_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("phone").display().to_string();
        let client =
            FieldClient::new(data, "http://127.0.0.1:9".into(), vec![3u8; 32], ClientConfig::default()).unwrap();
        let h = uuid::Uuid::now_v7().to_string();
        assert_eq!(client.household_rules(h.clone()).unwrap_err().code(), "not_logged_in");
        let bad = client.record_commitment(h.clone(), true, Some("2026-13-01".into())).unwrap_err();
        assert!(matches!(bad, FengqiaoError::InvalidInput { ref detail, .. } if detail.starts_with("日期：")));
        let bad = client.household_rules("nope".into()).unwrap_err();
        assert!(matches!(bad, FengqiaoError::InvalidInput { ref reason, .. } if reason == "invalid_id"));
        assert_eq!(client.record_commitment(h, false, None).unwrap_err().code(), "not_logged_in");
    }
}
