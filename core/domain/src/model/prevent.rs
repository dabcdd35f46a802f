//! Prevent and screen (四提前, 四到位): village rules with their negative list,
//! violations and restorations, what a group leader may know of a household, and
//! the monthly screening with its key-period cadence.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::policy::Policy;
use crate::wire::rejection::{Rejection, RejectionCode};

pub use crate::model::prevent_terms::{Cadence, Sanction};
pub use crate::model::village_law::{Adoption, Commitment, SanctionsWithheld};

/// A village's rules (村规民约) with its negative list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VillageRules {
    /// Stable id (one rule set per village: [`rules_id`]).
    pub id: Uuid,
    /// The village.
    pub village_id: Uuid,
    /// Negative-list items in force.
    pub items: Vec<NegativeItem>,
    /// Township legality review done (unlawful rules are a known risk).
    pub legality_reviewed: bool,
    /// Who reviewed, when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<Uuid>,
    /// When reviewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The villagers' representative meeting's vote that adopted these rules
    /// (absent while not yet voted: such rules cannot be reviewed as lawful).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adoption: Option<Adoption>,
}

impl VillageRules {
    /// Why a violation recorded under these rules now carries no sanction, if
    /// it does not: see [`SanctionsWithheld`].
    pub fn sanctions_withheld(&self) -> Option<SanctionsWithheld> {
        match (self.legality_reviewed, self.reviewed_at) {
            (true, _) => None,
            (false, None) => Some(SanctionsWithheld::RulesUnreviewed),
            (false, Some(_)) => Some(SanctionsWithheld::RulesUnlawful),
        }
    }
}

/// An item of a negative list with its sanctions and correction period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NegativeItem {
    /// Stable code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// Sanctions after the correction period.
    pub sanctions: Vec<Sanction>,
    /// Days to correct before sanctions apply.
    pub correction_days: u32,
}

/// The id of a village's rule set.
pub fn rules_id(village: Uuid) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, &[b"rules:".as_slice(), village.as_bytes()].concat())
}

/// The id of a household's standing record.
pub fn standing_id(household: Uuid) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, &[b"standing:".as_slice(), household.as_bytes()].concat())
}

/// The negative list a village starts from (policy defaults).
pub fn default_items(policy: &Policy) -> Vec<NegativeItem> {
    policy
        .negative_list
        .iter()
        .map(|n| NegativeItem {
            code: n.code.clone(),
            label_zh: n.label_zh.clone(),
            sanctions: n.sanctions.clone(),
            correction_days: n.correction_days,
        })
        .collect()
}

/// Longest correction period an item may give, in days.
pub const MAX_CORRECTION_DAYS: u32 = 365;

/// Whether a negative list may stand as a village's rules: 1 to the policy's
/// `village_rules.max_items` items, each with a code (unique in the list), a
/// Chinese label and a correction period of at most [`MAX_CORRECTION_DAYS`];
/// a suspension of services names at least one service, each on the policy's
/// `village_rules.services` and none a statutory benefit
/// ([`crate::model::village_law::PROTECTED_BENEFITS`], refused
/// `protected_benefit` whatever the policy says).
/// The village-rules edit applies it, and so does the policy check to the
/// policy's own `negative_list` (the list every village starts from).
pub fn check_items(items: &[NegativeItem], policy: &Policy) -> Result<(), Rejection> {
    let bad = |m: String| Err(Rejection::new(RejectionCode::InvalidField, m));
    let max = policy.village_rules.max_items;
    if items.is_empty() || items.len() > max {
        return bad(format!("负面清单：须有 1 至 {max} 项（现有 {} 项）", items.len()));
    }
    let mut seen = std::collections::HashSet::new();
    for i in items {
        if i.code.trim().is_empty() || i.label_zh.trim().is_empty() {
            return bad("负面清单：每一项须有代码和中文名称".into());
        }
        if !seen.insert(i.code.as_str()) {
            return bad(format!("负面清单：“{}”与前面的一项代码重复，每项的代码须不同", i.label_zh));
        }
        if i.correction_days > MAX_CORRECTION_DAYS {
            return bad(format!("负面清单：“{}”的整改期不得超过 {MAX_CORRECTION_DAYS} 天", i.label_zh));
        }
        check_services(i, policy)?;
    }
    Ok(())
}

/// The services an item suspends: named, never a statutory benefit, each a
/// village-level service of the county's list.
fn check_services(item: &NegativeItem, policy: &Policy) -> Result<(), Rejection> {
    for s in &item.sanctions {
        let Sanction::ServicesSuspended { services } = s else { continue };
        if services.is_empty() {
            return Err(Rejection::new(
                RejectionCode::InvalidField,
                format!("负面清单：“{}”暂停公共服务须写明暂停哪项村级服务", item.label_zh),
            ));
        }
        for service in services {
            crate::model::village_law::refuse_protected(&format!("负面清单“{}”", item.label_zh), service)?;
            if !policy.village_rules.services.iter().any(|v| v == service) {
                return Err(Rejection::new(
                    RejectionCode::InvalidField,
                    format!(
                        "负面清单：“{}”暂停的“{service}”不在本县可暂停的村级服务清单中（{}）",
                        item.label_zh,
                        policy.village_rules.services.join("、")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A restoration (恢复正常服务) after correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Restoration {
    /// Who approved it.
    pub approved_by: Uuid,
    /// Server time.
    pub at: DateTime<Utc>,
    /// What was corrected.
    #[serde(default)]
    pub note: String,
}

/// A violation of the negative list recorded against a household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Violation {
    /// Stable id.
    pub id: Uuid,
    /// The household.
    pub household_id: Uuid,
    /// The negative-list item.
    pub item_code: String,
    /// What happened (personal data).
    pub note: String,
    /// Evidence photos (SHA-256, attached with the photo mechanism).
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Who recorded it (set by the server).
    #[serde(default)]
    pub recorded_by: Uuid,
    /// When the household was notified (server time of recording).
    #[serde(default)]
    pub notified_at: DateTime<Utc>,
    /// Sanctions apply from here (after the correction period).
    pub sanctions_from: DateTime<Utc>,
    /// The sanctions that apply (copied from the rules at recording; none when
    /// [`Violation::sanctions_withheld`] is set).
    pub sanctions: Vec<Sanction>,
    /// Set (by the server) when the rules in force at recording were not
    /// reviewed as lawful: the violation is kept and carries no sanction, and a
    /// later review does not change that ([`SanctionsWithheld`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanctions_withheld: Option<SanctionsWithheld>,
    /// Set when restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restoration: Option<Restoration>,
    /// The county policy's version ([`Policy::version`]). In a `record_violation`
    /// op: the one the phone recorded it under (an item of the policy's default
    /// negative list that a later policy removed is still accepted if that
    /// version, kept by the server, had it, ADR 0030). On the record: the one in
    /// force when the server recorded it. Empty on violations recorded before.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub policy_version: String,
}

/// What a group leader may know of a household: whether services are suspended
/// (not why, not the history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdStanding {
    /// [`standing_id`] of the household.
    pub id: Uuid,
    /// The household.
    pub household_id: Uuid,
    /// When each open service suspension starts (after its correction period).
    #[serde(default)]
    pub suspensions: Vec<DateTime<Utc>>,
    /// The household's commitment letter to the village's rules (承诺书), once
    /// recorded (`record_commitment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment: Option<Commitment>,
}

impl HouseholdStanding {
    /// Whether services are suspended at `now` (same on phone and server).
    pub fn suspended_at(&self, now: DateTime<Utc>) -> bool {
        self.suspensions.iter().any(|t| *t <= now)
    }
}

/// Whether a violation suspends services (its suspension starts at `sanctions_from`).
pub fn suspends(v: &Violation) -> bool {
    v.sanctions_withheld.is_none() && v.sanctions.iter().any(|s| matches!(s, Sanction::ServicesSuspended { .. }))
}

/// Whether a violation puts its household on the dishonesty list (失信名单) at
/// `now`: recorded under lawful rules, its item's sanctions include the list,
/// the correction period is over, and it is not restored.
pub fn on_dishonesty_list(v: &Violation, now: DateTime<Utc>) -> bool {
    v.sanctions_withheld.is_none()
        && v.restoration.is_none()
        && v.sanctions_from <= now
        && v.sanctions.iter().any(|s| matches!(s, Sanction::DishonestyList))
}

/// The standing a household has given its open violations.
pub fn standing(household: Uuid, violations: &[Violation]) -> HouseholdStanding {
    let suspensions = violations
        .iter()
        .filter(|v| v.household_id == household && v.restoration.is_none() && suspends(v))
        .map(|v| v.sanctions_from)
        .collect();
    HouseholdStanding { id: standing_id(household), household_id: household, suspensions, commitment: None }
}

/// The sanctions start after the item's correction period.
pub fn sanctions_from(notified_at: DateTime<Utc>, item: &NegativeItem) -> DateTime<Utc> {
    notified_at + Duration::days(item.correction_days as i64)
}

/// The screening period a local date falls in, under the policy's key periods:
/// `2026-03` (monthly), `2026-10-H1` (half month), `2026-W40` (ISO week).
pub fn screening_period(day: NaiveDate, policy: &Policy) -> String {
    match cadence_on(day, policy) {
        Cadence::Monthly => format!("{:04}-{:02}", day.year(), day.month()),
        Cadence::HalfMonthly => {
            format!("{:04}-{:02}-H{}", day.year(), day.month(), if day.day() <= 15 { 1 } else { 2 })
        }
        Cadence::Weekly => {
            let w = day.iso_week();
            format!("{:04}-W{:02}", w.year(), w.week())
        }
    }
}

/// The last local day of the screening period `day` falls in: the day the
/// period's screening is due by (a period is at most a month long).
pub fn period_last_day(day: NaiveDate, policy: &Policy) -> NaiveDate {
    let period = screening_period(day, policy);
    let mut last = day;
    for _ in 0..31 {
        match last.succ_opt() {
            Some(next) if screening_period(next, policy) == period => last = next,
            _ => break,
        }
    }
    last
}

/// The cadence in force on a local date (the densest key period covering it).
pub fn cadence_on(day: NaiveDate, policy: &Policy) -> Cadence {
    let md = (day.month(), day.day());
    let mut best = Cadence::Monthly;
    for k in &policy.screening.key_periods {
        let inside = if k.from <= k.to { md >= k.from && md <= k.to } else { md >= k.from || md <= k.to };
        if inside {
            best = match (best, k.cadence) {
                (_, Cadence::Weekly) | (Cadence::Weekly, _) => Cadence::Weekly,
                (_, Cadence::HalfMonthly) | (Cadence::HalfMonthly, _) => Cadence::HalfMonthly,
                _ => Cadence::Monthly,
            };
        }
    }
    best
}

/// Every screening period that starts in a calendar month.
pub fn periods_in_month(year: i32, month: u32, policy: &Policy) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(mut d) = NaiveDate::from_ymd_opt(year, month, 1) else { return out };
    while d.month() == month {
        let p = screening_period(d, policy);
        if !out.contains(&p) {
            out.push(p);
        }
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// A village's screening (排查) for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Screening {
    /// Stable id: one per village and period ([`screening_id`]).
    pub id: Uuid,
    /// The village.
    pub village_id: Uuid,
    /// The period ([`screening_period`]).
    pub period: String,
    /// Hazards and leads found.
    #[serde(default)]
    pub hazards: Vec<String>,
    /// Focus areas covered (policy codes, e.g. `land_rights`).
    #[serde(default)]
    pub focus_areas: Vec<String>,
    /// Disputes newly registered in the period.
    #[serde(default)]
    pub new_disputes: Vec<Uuid>,
    /// Note.
    #[serde(default)]
    pub note: String,
    /// Who filed it (set by the server).
    #[serde(default)]
    pub filed_by: Uuid,
    /// Server time.
    #[serde(default)]
    pub filed_at: DateTime<Utc>,
    /// The county policy's version ([`Policy::version`]). In a `file_screening`
    /// op: the one the phone filed it under (a focus area a later policy removed
    /// is still accepted if that version, kept by the server, had it, ADR 0030).
    /// On the record: the one in force when the server filed it. Empty on
    /// screenings filed before.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub policy_version: String,
}

/// Most hazards on one screening.
pub const MAX_HAZARDS: usize = 500;
/// Longest hazard of a screening, in characters.
pub const MAX_HAZARD_CHARS: usize = 1000;

/// The id of a village's screening for a period.
pub fn screening_id(village: Uuid, period: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, &[b"screening:".as_slice(), village.as_bytes(), period.as_bytes()].concat())
}

impl Screening {
    /// [`Screening::validate_fields`], and every focus area one of the policy in
    /// force or of `earlier` (the policy the screening was filed under, when it
    /// differs): a focus area the county removed does not refuse screenings
    /// filed before the change.
    pub fn validate_under(&self, policy: &Policy, earlier: Option<&Policy>) -> Result<(), Rejection> {
        self.validate_fields(policy)?;
        let known = |p: &Policy, f: &String| p.screening.focus_areas.iter().any(|a| &a.code == f);
        if self.focus_areas.iter().any(|f| !known(policy, f) && !earlier.is_some_and(|e| known(e, f))) {
            return Err(Rejection::new(RejectionCode::InvalidField, "排查重点：所选重点领域不在本县的排查重点清单中"));
        }
        Ok(())
    }

    /// Field checks (phone and server, through [`crate::wire::Op::validate`]):
    /// the id, the number and length of hazards, the note within the policy's
    /// limit; the focus areas are checked by [`Screening::validate_under`] once
    /// the policy the screening was filed under is known.
    pub fn validate_fields(&self, policy: &Policy) -> Result<(), Rejection> {
        if self.id != screening_id(self.village_id, &self.period) {
            return Err(Rejection::new(RejectionCode::InvalidField, "排查记录：每个村每个排查周期只记一份排查"));
        }
        if self.hazards.len() > MAX_HAZARDS {
            return Err(Rejection::new(
                RejectionCode::InvalidField,
                format!("排查隐患：一次排查最多记 {MAX_HAZARDS} 条隐患"),
            ));
        }
        crate::text::check_all("排查隐患", &self.hazards, false, MAX_HAZARD_CHARS)?;
        crate::text::check("排查说明", &self.note, false, policy.text.max_note_chars)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn key_periods_raise_the_cadence() {
        let p = Policy::default();
        assert_eq!(screening_period(d(2026, 5, 20), &p), "2026-05");
        // the Two Sessions in March: weekly
        assert_eq!(cadence_on(d(2026, 3, 5), &p), Cadence::Weekly);
        assert_eq!(screening_period(d(2026, 3, 5), &p), "2026-W10");
        // harvest: half-monthly
        assert_eq!(screening_period(d(2026, 9, 20), &p), "2026-09-H2");
        assert_eq!(periods_in_month(2026, 5, &p), vec!["2026-05".to_string()]);
        // harvest half-months, then National Day's weeks from the 25th (the denser cadence wins)
        assert_eq!(periods_in_month(2026, 9, &p), vec!["2026-09-H1", "2026-09-H2", "2026-W39", "2026-W40"]);
        assert_eq!(screening_period(d(2026, 9, 26), &p), "2026-W39");
        assert!(periods_in_month(2026, 3, &p).len() >= 4);
    }

    #[test]
    fn a_period_is_due_by_its_last_day() {
        let p = Policy::default();
        assert_eq!(period_last_day(d(2026, 5, 20), &p), d(2026, 5, 31), "a month");
        assert_eq!(period_last_day(d(2026, 5, 31), &p), d(2026, 5, 31));
        assert_eq!(period_last_day(d(2026, 3, 5), &p), d(2026, 3, 8), "the Two Sessions' week ends on Sunday");
        assert_eq!(period_last_day(d(2026, 9, 3), &p), d(2026, 9, 15), "harvest's first half-month");
        assert_eq!(screening_period(period_last_day(d(2026, 9, 26), &p), &p), "2026-W39");
    }

    #[test]
    fn standing_shows_only_whether_services_are_suspended_now() {
        let h = Uuid::now_v7();
        let t0 = Utc::now();
        let mk = |code: &str, sanctions: Vec<Sanction>, from: DateTime<Utc>| Violation {
            id: Uuid::now_v7(),
            household_id: h,
            item_code: code.into(),
            note: "x".into(),
            evidence: vec![],
            recorded_by: Uuid::nil(),
            notified_at: t0,
            sanctions_from: from,
            sanctions,
            sanctions_withheld: None,
            restoration: None,
            policy_version: String::new(),
        };
        let suspend = vec![Sanction::ServicesSuspended { services: vec!["村集体分红".into()] }];
        let mut v = vec![
            mk("water_fees_unpaid", suspend.clone(), t0 + Duration::days(7)),
            mk("yard_dirty_messy", vec![Sanction::PublicNotice], t0),
        ];
        let s = standing(h, &v);
        assert!(!s.suspended_at(t0 + Duration::days(6)), "in the correction period");
        assert!(s.suspended_at(t0 + Duration::days(7)));
        v[0].restoration = Some(Restoration { approved_by: Uuid::nil(), at: t0, note: String::new() });
        assert!(!standing(h, &v).suspended_at(t0 + Duration::days(30)), "restored");
    }
}
