//! Prevent and screen (四提前, 四到位): whether a household's services are
//! suspended (all a group leader sees of it), the negative list, violations
//! and restorations (village cadres), and the village's screening for the
//! current period. Written offline, sent by the next sync.

use fengqiao_core::{
    NewScreening as CoreNewScreening, NewViolation as CoreNewViolation, ScreeningDue as CoreDue,
    ViolationItem as CoreViolationItem,
};
use fengqiao_domain::prevent::{
    NegativeItem as DomItem, Sanction as DomSanction, Screening as DomScreening, Violation as DomViolation,
};

use crate::client::FieldClient;
use crate::convert::{id, millis, parse_id, parse_ids};
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// A sanction of the negative list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Sanction {
    /// 暂停公共服务: named village services (never statutory benefits).
    ServicesSuspended {
        /// Which services.
        services: Vec<String>,
    },
    /// 失信黑名单
    DishonestyList,
    /// 曝光
    PublicNotice,
}

impl From<DomSanction> for Sanction {
    fn from(s: DomSanction) -> Self {
        match s {
            DomSanction::ServicesSuspended { services } => Sanction::ServicesSuspended { services },
            DomSanction::DishonestyList => Sanction::DishonestyList,
            DomSanction::PublicNotice => Sanction::PublicNotice,
        }
    }
}

/// An item of a village's negative list (负面清单).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NegativeItem {
    /// Stable code (the value of `NewViolation.item_code`).
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// Sanctions after the correction period.
    pub sanctions: Vec<Sanction>,
    /// Days to correct before sanctions apply.
    pub correction_days: u32,
}

impl From<DomItem> for NegativeItem {
    fn from(i: DomItem) -> Self {
        NegativeItem {
            code: i.code,
            label_zh: i.label_zh,
            sanctions: i.sanctions.into_iter().map(Sanction::from).collect(),
            correction_days: i.correction_days,
        }
    }
}

/// A restoration (恢复正常服务) after correction.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Restoration {
    /// Who approved it.
    pub approved_by: String,
    /// When (ms, UTC).
    pub at_ms: i64,
    /// What was corrected.
    pub note: String,
}

/// A violation of the negative list recorded against a household.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Violation {
    /// Id.
    pub id: String,
    /// The household.
    pub household_id: String,
    /// The negative-list item.
    pub item_code: String,
    /// What happened (personal data).
    pub note: String,
    /// SHA-256 of evidence photos.
    pub evidence: Vec<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When the household was notified (ms, UTC; server time once synced).
    pub notified_at_ms: i64,
    /// Sanctions apply from here, after the correction period (ms, UTC).
    pub sanctions_from_ms: i64,
    /// The sanctions that apply.
    pub sanctions: Vec<Sanction>,
    /// Set once restored.
    pub restoration: Option<Restoration>,
    /// Why this violation carries no sanction (its village's rules were not
    /// reviewed as lawful when it was recorded), in plain Chinese from the
    /// core; `None` when the rules' sanctions apply.
    pub no_sanction_reason: Option<String>,
}

impl From<DomViolation> for Violation {
    fn from(v: DomViolation) -> Self {
        Violation {
            id: id(v.id),
            household_id: id(v.household_id),
            item_code: v.item_code,
            note: v.note,
            evidence: v.evidence,
            recorded_by: id(v.recorded_by),
            notified_at_ms: millis(v.notified_at),
            sanctions_from_ms: millis(v.sanctions_from),
            sanctions: v.sanctions.into_iter().map(Sanction::from).collect(),
            restoration: v.restoration.map(|r| Restoration {
                approved_by: id(r.approved_by),
                at_ms: millis(r.at),
                note: r.note,
            }),
            no_sanction_reason: v.sanctions_withheld.map(|w| w.message_zh().to_string()),
        }
    }
}

/// A violation on the phone, with where it stands with the server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ViolationItem {
    /// The violation.
    pub violation: Violation,
    /// Recorded or restored here and not yet confirmed by the server.
    pub pending: bool,
    /// That operation was refused and waits in quarantine.
    pub quarantined: bool,
}

impl From<CoreViolationItem> for ViolationItem {
    fn from(i: CoreViolationItem) -> Self {
        ViolationItem { violation: i.violation.into(), pending: i.pending, quarantined: i.quarantined }
    }
}

/// A village's screening (排查) for one period.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Screening {
    /// Id (one per village and period).
    pub id: String,
    /// The village.
    pub village_id: String,
    /// The period: `2026-05` (monthly), `2026-09-H2` (half month), `2026-W40` (week).
    pub period: String,
    /// Hazards and leads found.
    pub hazards: Vec<String>,
    /// Focus areas covered (policy codes).
    pub focus_areas: Vec<String>,
    /// Disputes newly registered in the period.
    pub new_disputes: Vec<String>,
    /// Note.
    pub note: String,
    /// Who filed it.
    pub filed_by: String,
    /// When (ms, UTC; server time once synced).
    pub filed_at_ms: i64,
}

impl From<DomScreening> for Screening {
    fn from(s: DomScreening) -> Self {
        Screening {
            id: id(s.id),
            village_id: id(s.village_id),
            period: s.period,
            hazards: s.hazards,
            focus_areas: s.focus_areas,
            new_disputes: s.new_disputes.into_iter().map(id).collect(),
            note: s.note,
            filed_by: id(s.filed_by),
            filed_at_ms: millis(s.filed_at),
        }
    }
}

/// A screening the user's village still owes for the current period.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScreeningDue {
    /// The village.
    pub village_id: String,
    /// Its name.
    pub village_name: String,
    /// The current period (today in the county's zone, under its key periods).
    pub period: String,
    /// The period's last day in the county's zone (`YYYY-MM-DD`): due by then.
    pub due_on: String,
}

impl From<CoreDue> for ScreeningDue {
    fn from(d: CoreDue) -> Self {
        ScreeningDue {
            village_id: id(d.village_id),
            village_name: d.village_name,
            period: d.period,
            due_on: d.due_on.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A violation as a cadre records it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewViolation {
    /// The household.
    pub household_id: String,
    /// The negative-list item (a code of `negative_list`).
    pub item_code: String,
    /// What happened.
    pub note: String,
    /// SHA-256 of evidence photos (attach each with `attach_photo`, kind `violation`).
    #[uniffi(default = [])]
    pub evidence: Vec<String>,
}

/// A screening as a cadre files it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewScreening {
    /// The village.
    pub village_id: String,
    /// The period; none: the current one.
    #[uniffi(default = None)]
    pub period: Option<String>,
    /// Hazards and leads found.
    #[uniffi(default = [])]
    pub hazards: Vec<String>,
    /// Focus areas covered (codes of `focus_areas`).
    #[uniffi(default = [])]
    pub focus_areas: Vec<String>,
    /// Disputes newly registered in the period.
    #[uniffi(default = [])]
    pub new_disputes: Vec<String>,
    /// Note.
    #[uniffi(default = "")]
    pub note: String,
}

/// A focus area of screening (重点领域), from the county's policy.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FocusArea {
    /// Stable code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
}

#[uniffi::export]
impl FieldClient {
    /// Whether the household's services are suspended now, from the standing
    /// last pulled; `false` if none. All a group leader may know (not why, not
    /// the history). Offline.
    pub fn household_standing(&self, household_id: String) -> Result<bool, FengqiaoError> {
        guard(|| Ok(self.core().household_standing(parse_id("household_id", &household_id)?)?))
    }

    /// The negative list in force in the household's village. Offline.
    pub fn negative_list(&self, household_id: String) -> Result<Vec<NegativeItem>, FengqiaoError> {
        guard(|| {
            let h = parse_id("household_id", &household_id)?;
            Ok(self.core().negative_list(h)?.into_iter().map(NegativeItem::from).collect())
        })
    }

    /// The violations recorded against a household, newest first (village
    /// cadres and above; others get `Rejected` with `role_not_allowed`). Offline.
    pub fn violations_for(&self, household_id: String) -> Result<Vec<ViolationItem>, FengqiaoError> {
        guard(|| {
            let h = parse_id("household_id", &household_id)?;
            Ok(self.core().violations_for(h)?.into_iter().map(ViolationItem::from).collect())
        })
    }

    /// Records a violation against a household, offline (village cadres).
    pub fn record_violation(&self, violation: NewViolation) -> Result<Violation, FengqiaoError> {
        guard(|| {
            let v = CoreNewViolation {
                household_id: parse_id("household_id", &violation.household_id)?,
                item_code: violation.item_code,
                note: violation.note,
                evidence: violation.evidence,
            };
            Ok(self.core().record_violation(v)?.into())
        })
    }

    /// Restores a household after correction, offline (the village's secretaries).
    pub fn restore_household(&self, violation_id: String, note: String) -> Result<Violation, FengqiaoError> {
        guard(|| Ok(self.core().restore_household(parse_id("violation_id", &violation_id)?, note)?.into()))
    }

    /// The first of the user's villages still owing its screening for the
    /// current period, if any (village cadres; none for others). Offline.
    pub fn screening_due(&self) -> Result<Option<ScreeningDue>, FengqiaoError> {
        guard(|| Ok(self.core().screening_due()?.map(ScreeningDue::from)))
    }

    /// Files a village's screening (for the current period unless one is
    /// given), offline (village cadres).
    pub fn file_screening(&self, screening: NewScreening) -> Result<Screening, FengqiaoError> {
        guard(|| {
            let s = CoreNewScreening {
                village_id: parse_id("village_id", &screening.village_id)?,
                period: screening.period,
                hazards: screening.hazards,
                focus_areas: screening.focus_areas,
                new_disputes: parse_ids("new_disputes", &screening.new_disputes)?,
                note: screening.note,
            };
            Ok(self.core().file_screening(s)?.into())
        })
    }

    /// The county's screening focus areas (policy), for the screening form.
    pub fn focus_areas(&self) -> Vec<FocusArea> {
        guard(|| {
            Ok(self
                .core()
                .policy()
                .screening
                .focus_areas
                .iter()
                .map(|a| FocusArea { code: a.code.clone(), label_zh: a.label_zh.clone() })
                .collect())
        })
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientConfig;

    #[test]
    fn the_new_calls_forward_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("phone").display().to_string();
        let client =
            FieldClient::new(data, "http://127.0.0.1:9".into(), vec![3u8; 32], ClientConfig::default()).unwrap();
        let h = uuid::Uuid::now_v7().to_string();
        assert_eq!(client.household_standing(h.clone()).unwrap_err().code(), "not_logged_in");
        assert_eq!(client.my_subsidies().unwrap_err().code(), "not_logged_in");
        assert_eq!(client.screening_due().unwrap_err().code(), "not_logged_in");
        assert_eq!(client.escalation_inbox().unwrap_err().code(), "not_logged_in");
        let bad = client.violations_for("nope".into()).unwrap_err();
        assert!(matches!(bad, FengqiaoError::InvalidInput { ref reason, .. } if reason == "invalid_id"));
        let bad = client.restore_household(h, "x".into());
        assert_eq!(bad.unwrap_err().code(), "not_logged_in");
        assert!(client.dispute_kinds().iter().any(|k| k.code == "land"));
        assert!(!client.focus_areas().is_empty());
    }
}
