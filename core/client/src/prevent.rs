//! Prevent and screen on the phone (四提前, 四到位): whether a household's
//! services are suspended (all a group leader may know), the negative list a
//! village's cadres record violations against, violations and restorations,
//! and the village's screening for the current period (一月一排查, denser in
//! key periods).
//!
//! Every write takes the one operation path ([`crate::ops`]): the domain's own
//! `decide` on the phone's view, then the record and its operation in one
//! transaction. The server
//! stays the authority (it fills in the sanctions, notification time and the
//! household's standing, which arrive with the next pull).

use chrono::{DateTime, NaiveDate, Utc};
use fengqiao_domain::apply::household_scope;
use fengqiao_domain::apply_disputes::level_unit;
use fengqiao_domain::apply_prevent::rules_of;
use fengqiao_domain::ladder::Level;
use fengqiao_domain::org::UnitLevel;
use fengqiao_domain::permissions::{may, sees, Action};
use fengqiao_domain::prevent::{
    screening_id, screening_period, standing_id, Adoption, Commitment, HouseholdStanding, NegativeItem, Screening,
    Violation,
};
use fengqiao_domain::village_law::{rules_status_zh, RecordCommitment};
use fengqiao_domain::wire::{Op, RestoreHousehold};
use fengqiao_domain::{EntityKind, Record, Rejection, RejectionCode};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::store::{LocalRecord, RecordState, StoredSession};
use crate::view::{view_error, PhoneView};

/// A violation of the negative list as a cadre records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewViolation {
    /// The household.
    pub household_id: Uuid,
    /// The negative-list item (a code of [`FieldClient::negative_list`]).
    pub item_code: String,
    /// What happened (personal data).
    pub note: String,
    /// SHA-256 (lowercase hex) of evidence photos (attach each with `attach_photo`).
    pub evidence: Vec<String>,
}

/// A village's screening as a cadre files it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewScreening {
    /// The village.
    pub village_id: Uuid,
    /// The period (`2026-05`, `2026-09-H2`, `2026-W40`); `None`: the current one.
    pub period: Option<String>,
    /// Hazards and leads found.
    pub hazards: Vec<String>,
    /// Focus areas covered (policy codes, e.g. `land_rights`).
    pub focus_areas: Vec<String>,
    /// Disputes newly registered in the period.
    pub new_disputes: Vec<Uuid>,
    /// Note.
    pub note: String,
}

/// A screening the user's village still owes for the current period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningDue {
    /// The village.
    pub village_id: Uuid,
    /// Its name.
    pub village_name: String,
    /// The current period ([`screening_period`] of today in the county's zone).
    pub period: String,
    /// The period's last day in the county's zone: the screening is due by it.
    pub due_on: NaiveDate,
}

/// A household under its village's rules, as the phone shows it: whether its
/// services are suspended, where the rules stand with the legality review and
/// their adopting vote, and the household's commitment letter (承诺书).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdRules {
    /// The household.
    pub household_id: Uuid,
    /// Services suspended now (暂停公共服务).
    pub suspended: bool,
    /// The rules were reviewed as lawful: sanctions apply.
    pub rules_lawful: bool,
    /// Where the rules stand, in plain Chinese from the domain
    /// ([`fengqiao_domain::village_law::rules_status_zh`]).
    pub rules_status: String,
    /// The villagers' representative meeting's vote, once recorded.
    pub adoption: Option<Adoption>,
    /// The household's commitment letter, once recorded.
    pub commitment: Option<Commitment>,
    /// The letter was recorded on this phone and not yet confirmed by the server.
    pub commitment_pending: bool,
}

/// A violation on the phone, with where it stands with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViolationItem {
    /// The violation (sanctions and dates as the server set them, once synced).
    pub violation: Violation,
    /// Recorded or restored on this phone and not yet confirmed by the server.
    pub pending: bool,
    /// That operation was refused and waits in quarantine.
    pub quarantined: bool,
}

fn not_in_jurisdiction(what: &str) -> Error {
    Error::Rejected(Rejection::new(
        RejectionCode::NotInJurisdiction,
        format!("辖区：该{what}不在您负责的单位范围内（或还没有同步到本机）"),
    ))
}

/// The villages whose screening the user files (a recorder's grant), with names.
fn screening_villages(session: &StoredSession) -> Vec<(Uuid, String)> {
    let mut out: Vec<(Uuid, String)> = Vec::new();
    for g in &session.user.roles {
        if !may(g.grant.role, Action::FileScreening) {
            continue;
        }
        let village = g.ancestors.iter().find(|u| u.level == UnitLevel::Village);
        if let Some(v) = village {
            if !out.iter().any(|(id, _)| *id == v.id) {
                out.push((v.id, v.name.clone()));
            }
        }
    }
    out
}

impl FieldClient {
    /// Today's screening period in the county's zone.
    fn current_period(&self, now: DateTime<Utc>) -> String {
        let policy = self.policy();
        let today = now.with_timezone(&policy.zone()).date_naive();
        screening_period(today, &policy)
    }

    /// Whether the household's services are suspended now (暂停公共服务), from
    /// the standing last pulled; `false` if none. All a group leader may know
    /// of a household's record: not why, not the history. Offline.
    pub fn household_standing(&self, household_id: Uuid) -> Result<bool, ClientError> {
        let run = || -> Result<bool, Error> {
            self.session()?;
            Ok(match self.store.get_record(EntityKind::HouseholdStanding, standing_id(household_id))? {
                Some(LocalRecord { record: Record::HouseholdStanding(s), .. }) => {
                    s.suspended_at(self.options.clock.now())
                }
                _ => false,
            })
        };
        Ok(run()?)
    }

    /// The household under its village's rules: suspension now, the rules'
    /// legality review and adopting vote, the commitment letter. For anyone
    /// who sees the household (group leaders too). Offline.
    pub fn household_rules(&self, household_id: Uuid) -> Result<HouseholdRules, ClientError> {
        let run = || -> Result<HouseholdRules, Error> {
            let session = self.session()?;
            let view = PhoneView::new(self.store.as_ref(), Some(&session));
            let scope = household_scope(&view, household_id).map_err(view_error)?;
            let scope = scope.ok_or_else(|| not_in_jurisdiction("农户"))?;
            let village = level_unit(&view, &scope, Level::Village)
                .map_err(view_error)?
                .ok_or_else(|| not_in_jurisdiction("农户"))?;
            let rules = rules_of(&view, village, &self.policy()).map_err(view_error)?;
            let (standing, pending) =
                match self.store.get_record(EntityKind::HouseholdStanding, standing_id(household_id))? {
                    Some(r) if r.shown_to(session.user.id) => {
                        let pending = matches!(r.state, RecordState::Pending { .. });
                        match r.record {
                            Record::HouseholdStanding(s) => (Some(s), pending),
                            _ => (None, false),
                        }
                    }
                    _ => (None, false),
                };
            let withheld = rules.sanctions_withheld();
            Ok(HouseholdRules {
                household_id,
                suspended: standing.as_ref().is_some_and(|s| s.suspended_at(self.options.clock.now())),
                rules_lawful: withheld.is_none(),
                rules_status: rules_status_zh(withheld).to_string(),
                adoption: rules.adoption,
                commitment_pending: pending && standing.as_ref().is_some_and(|s| s.commitment.is_some()),
                commitment: standing.and_then(|s| s.commitment),
            })
        };
        Ok(run()?)
    }

    /// Records whether a household signed the commitment letter to its
    /// village's rules (承诺书), offline (village cadres): signed with the day
    /// (no later than today), or not signed with none.
    pub fn record_commitment(
        &self,
        household_id: Uuid,
        signed: bool,
        signed_on: Option<chrono::NaiveDate>,
    ) -> Result<Commitment, ClientError> {
        let run = || -> Result<Commitment, Error> {
            let standing: HouseholdStanding =
                self.submit_inner(|_| Op::RecordCommitment(RecordCommitment { household_id, signed, signed_on }))?;
            standing
                .commitment
                .ok_or_else(|| Error::InvalidInput("承诺书未能记下（内部错误，请联系县里技术支持）".into()))
        };
        Ok(run()?)
    }

    /// The negative list in force in the household's village (its rules, else
    /// the policy's defaults): the items a violation may be recorded against.
    pub fn negative_list(&self, household_id: Uuid) -> Result<Vec<NegativeItem>, ClientError> {
        let run = || -> Result<Vec<NegativeItem>, Error> {
            let session = self.session()?;
            let view = PhoneView::new(self.store.as_ref(), Some(&session));
            let scope = household_scope(&view, household_id).map_err(view_error)?;
            let scope = scope.ok_or_else(|| not_in_jurisdiction("农户"))?;
            let village = level_unit(&view, &scope, Level::Village)
                .map_err(view_error)?
                .ok_or_else(|| not_in_jurisdiction("农户"))?;
            Ok(rules_of(&view, village, &self.policy()).map_err(view_error)?.items)
        };
        Ok(run()?)
    }

    /// The violations recorded against a household, newest first (village
    /// cadres and above; the server feeds them nobody else). A user with no
    /// role that sees violations (e.g. a group leader) is refused with
    /// `role_not_allowed`: they see only [`household_standing`](Self::household_standing).
    pub fn violations_for(&self, household_id: Uuid) -> Result<Vec<ViolationItem>, ClientError> {
        let run = || -> Result<Vec<ViolationItem>, Error> {
            let session = self.session()?;
            let user = session.user.id;
            if !session.user.roles.iter().any(|g| sees(g.grant.role, EntityKind::Violation)) {
                return Err(Error::Rejected(Rejection::new(
                    RejectionCode::RoleNotAllowed,
                    "权限：违反村规民约的记录只有村干部及以上才能查看",
                )));
            }
            let quarantined: std::collections::HashSet<Uuid> =
                self.store.quarantined()?.into_iter().map(|q| q.op.op_id).collect();
            let mut out: Vec<ViolationItem> = self
                .store
                .list_records(EntityKind::Violation, usize::MAX)?
                .into_iter()
                .filter(|r| r.shown_to(user))
                .filter_map(|r| {
                    let Record::Violation(v) = r.record else { return None };
                    if v.household_id != household_id {
                        return None;
                    }
                    let (pending, q) = match r.state {
                        RecordState::Synced => (false, false),
                        RecordState::Pending { op_id, .. } => (true, quarantined.contains(&op_id)),
                    };
                    Some(ViolationItem { violation: v, pending, quarantined: q })
                })
                .collect();
            out.sort_by_key(|i| std::cmp::Reverse((i.violation.notified_at, i.violation.id)));
            Ok(out)
        };
        Ok(run()?)
    }

    /// Records a violation against a household, offline (village cadres). The
    /// server sets the notification time, the sanctions of the item and when
    /// they apply (after the correction period), and the household's standing.
    pub fn record_violation(&self, new: NewViolation) -> Result<Violation, ClientError> {
        self.submit(|a| {
            Op::RecordViolation(Violation {
                id: fengqiao_domain::new_id(),
                household_id: new.household_id,
                item_code: new.item_code,
                note: new.note,
                evidence: new.evidence,
                recorded_by: a.user,
                notified_at: a.now,
                sanctions_from: a.now,
                sanctions: vec![],
                sanctions_withheld: None,
                restoration: None,
                // the policy this phone records it under: an item of the default
                // list the county removes later is still accepted for it
                policy_version: self.policy().version(),
            })
        })
    }

    /// Restores a household after correction (恢复正常服务), offline (the
    /// village's secretaries). An already restored violation is refused.
    pub fn restore_household(&self, violation_id: Uuid, note: String) -> Result<Violation, ClientError> {
        self.submit(|_| Op::RestoreHousehold(RestoreHousehold { violation_id, note }))
    }

    /// The first of the user's villages that has not filed its screening for
    /// the current period (today in the county's zone, under the policy's key
    /// periods), if any. Only for those who file screenings (village cadres).
    /// Offline: a screening filed here and not yet synced counts as filed.
    pub fn screening_due(&self) -> Result<Option<ScreeningDue>, ClientError> {
        Ok(self.screening_due_inner()?)
    }

    pub(crate) fn screening_due_inner(&self) -> Result<Option<ScreeningDue>, Error> {
        let run = || -> Result<Option<ScreeningDue>, Error> {
            let session = self.session()?;
            let period = self.current_period(self.options.clock.now());
            for (village_id, village_name) in screening_villages(&session) {
                let filed = self
                    .store
                    .get_record(EntityKind::Screening, screening_id(village_id, &period))?
                    .is_some_and(|r| r.shown_to(session.user.id));
                if !filed {
                    let policy = self.policy();
                    let today = self.options.clock.now().with_timezone(&policy.zone()).date_naive();
                    let due_on = fengqiao_domain::prevent::period_last_day(today, &policy);
                    return Ok(Some(ScreeningDue { village_id, village_name, period, due_on }));
                }
            }
            Ok(None)
        };
        run()
    }

    /// Files a village's screening for a period (the current one if none is
    /// given), offline (village cadres). One per village and period: filing
    /// again replaces it.
    pub fn file_screening(&self, new: NewScreening) -> Result<Screening, ClientError> {
        self.submit(|a| {
            let period = new.period.unwrap_or_else(|| self.current_period(a.now));
            Op::FileScreening(Screening {
                id: screening_id(new.village_id, &period),
                village_id: new.village_id,
                period,
                hazards: new.hazards,
                focus_areas: new.focus_areas,
                new_disputes: new.new_disputes,
                note: new.note,
                filed_by: a.user,
                filed_at: a.now,
                // the policy this phone files it under: a focus area the county
                // removes later is still accepted for it
                policy_version: self.policy().version(),
            })
        })
    }
}

#[cfg(test)]
#[path = "prevent_tests.rs"]
mod tests;
