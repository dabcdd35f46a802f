//! Who may do what, and who sees what: the one table both phone and server use.
//!
//! A role acts on its unit and the units below it, never beside or above it
//! ([`crate::model::org::covers`]); within that, each action and each kind of record is
//! open to some roles only (least visibility).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::org::{covers, Role, RoleGrant};
use crate::model::records::EntityKind;

/// Something a user may ask to do: every role-gated act of the phone and the
/// server is one of these, and [`roles_for`] says which roles may do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Log a door-to-door visit to a household.
    RecordVisit,
    /// Work on a dispute's case file (which level acts is decided by the ladder),
    /// and hold case-number blocks to report disputes offline.
    HandleDispute,
    /// Record a violation of the negative list (and its evidence photos).
    RecordViolation,
    /// File a village's screening for disputes.
    FileScreening,
    /// Record whether a household signed the commitment letter to its
    /// village's rules (承诺书).
    RecordCommitment,
    /// Set a village's rules (its negative list).
    SetVillageRules,
    /// Approve a household's restoration after a violation.
    RestoreHousehold,
    /// Review a village's rules for legality (in the reviewer's town).
    ReviewVillageRules,
    /// Review a resolved case's file for its subsidy (in the reviewer's town).
    ReviewCaseFile,
    /// Review a legal consultation for its subsidy (in the reviewer's town).
    ReviewConsultation,
    /// Log a legal consultation in the advisor's village (it accrues a subsidy).
    RecordConsultation,
    /// Pay subsidies: the county's ledger, payment batches, rejections, any
    /// subsidy by id.
    PaySubsidies,
    /// Read the monthly reports of one's units.
    ReadReports,
    /// Read a village's dishonesty list (失信名单): its cadres, and the staff of
    /// its town.
    ReadVillageBlacklist,
    /// Read a town's dishonesty list (all its villages): the town's staff.
    ReadTownBlacklist,
    /// Administer the county: users, devices, imports, the audit log, wiping a phone.
    Administer,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 16] = [
        Action::RecordVisit,
        Action::HandleDispute,
        Action::RecordViolation,
        Action::FileScreening,
        Action::RecordCommitment,
        Action::SetVillageRules,
        Action::RestoreHousehold,
        Action::ReviewVillageRules,
        Action::ReviewCaseFile,
        Action::ReviewConsultation,
        Action::RecordConsultation,
        Action::PaySubsidies,
        Action::ReadReports,
        Action::ReadVillageBlacklist,
        Action::ReadTownBlacklist,
        Action::Administer,
    ];

    /// The action that writes records of a kind (who may create one may attach
    /// photos to it), if any.
    pub fn writing(kind: EntityKind) -> Option<Action> {
        match kind {
            EntityKind::Visit => Some(Action::RecordVisit),
            EntityKind::Dispute | EntityKind::MediationSession | EntityKind::Agreement | EntityKind::FollowUp => {
                Some(Action::HandleDispute)
            }
            EntityKind::Violation => Some(Action::RecordViolation),
            _ => None,
        }
    }
}

/// The roles allowed to do an action (inside their units): the one table.
pub const fn roles_for(action: Action) -> &'static [Role] {
    match action {
        Action::RecordVisit => &[Role::GroupLeader, Role::VillageSecretary, Role::FirstSecretary, Role::VillageCadre],
        Action::HandleDispute => DISPUTE_ROLES,
        Action::RecordViolation | Action::FileScreening | Action::RecordCommitment => VILLAGE_CADRES,
        Action::SetVillageRules | Action::RestoreHousehold => &[Role::VillageSecretary, Role::FirstSecretary],
        Action::ReviewVillageRules | Action::ReviewCaseFile | Action::ReviewConsultation => &[Role::JudicialOffice],
        Action::RecordConsultation => &[Role::LegalAdvisor],
        Action::PaySubsidies | Action::Administer => &[Role::CountyAdmin],
        Action::ReadReports => &[
            Role::VillageSecretary,
            Role::FirstSecretary,
            Role::VillageCadre,
            Role::JudicialOffice,
            Role::TownCommittee,
            Role::CountyAdmin,
        ],
        Action::ReadVillageBlacklist => &[
            Role::VillageSecretary,
            Role::FirstSecretary,
            Role::VillageCadre,
            Role::JudicialOffice,
            Role::TownCommittee,
        ],
        Action::ReadTownBlacklist => &[Role::JudicialOffice, Role::TownCommittee],
    }
}

/// Whether `role` may do `action` (somewhere: inside the units it is bound to).
pub fn may(role: Role, action: Action) -> bool {
    roles_for(action).contains(&role)
}

/// Whether a role reads resident identity numbers whole (the judicial office
/// and the town committee, who take cases and sign agreements); every other role
/// sees them masked ([`crate::model::id_number::IdNumber::masked`]).
pub fn sees_whole_id_numbers(role: Role) -> bool {
    matches!(role, Role::JudicialOffice | Role::TownCommittee)
}

/// Whether any of `grants` may do `action` somewhere (a gate before the target
/// is known, such as a menu or a county-wide list).
pub fn any_may(grants: &[RoleGrant], action: Action) -> bool {
    grants.iter().any(|g| may(g.role, action))
}

/// The village's cadres: they record violations and file screenings.
const VILLAGE_CADRES: &[Role] = &[Role::VillageSecretary, Role::FirstSecretary, Role::VillageCadre];

/// Roles that work on disputes (everyone on the ladder, and legal advisors).
const DISPUTE_ROLES: &[Role] = &[
    Role::GroupLeader,
    Role::VillageSecretary,
    Role::FirstSecretary,
    Role::VillageCadre,
    Role::Mediator,
    Role::LegalAdvisor,
    Role::JudicialOffice,
    Role::TownCommittee,
];

/// The roles that may mediate (be credited in a mediation session) at a ladder
/// level, bound to a unit inside that level's unit or above it on its chain:
/// the level's handlers, the people's mediators (人民调解员), and, from the
/// village up, the legal advisors; the town's committee also takes in the judicial
/// office, first secretaries and village cadres (镇级综合调委会 … 吸收各包村干部、
/// 第一书记、法律顾问). Whether one of them is *paid* is the county's
/// `subsidy.paid_roles`.
pub const fn mediates_at(level: crate::model::ladder::Level) -> &'static [Role] {
    use crate::model::ladder::Level;
    match level {
        Level::Group => &[Role::GroupLeader, Role::Mediator],
        Level::Village => {
            &[Role::VillageSecretary, Role::FirstSecretary, Role::VillageCadre, Role::Mediator, Role::LegalAdvisor]
        }
        Level::JudicialOffice => &[Role::JudicialOffice, Role::Mediator, Role::LegalAdvisor],
        Level::Town => &[
            Role::TownCommittee,
            Role::JudicialOffice,
            Role::Mediator,
            Role::LegalAdvisor,
            Role::FirstSecretary,
            Role::VillageCadre,
        ],
    }
}

/// Whether a role sees records of a kind (inside its units).
pub fn sees(role: Role, entity: EntityKind) -> bool {
    match entity {
        // Everyone needs the org tree and the households they serve.
        EntityKind::Unit | EntityKind::Household => true,
        // Visit logs are the grid's and the village's working notes.
        EntityKind::Visit => {
            matches!(role, Role::GroupLeader | Role::VillageSecretary | Role::FirstSecretary | Role::VillageCadre)
        }
        // A photo is seen by those who see what it is attached to: callers filter
        // by `Record::visibility_kind`, so this is only reached for drops.
        EntityKind::Attachment => true,
        // Disputes and their case files: everyone on the ladder; not the county's IT admin.
        k if k.is_case_record() => DISPUTE_ROLES.contains(&role),
        // Subsidies reach their payee through the payee's own feed; through the
        // org tree only the county (which pays) sees them.
        EntityKind::Subsidy | EntityKind::PaymentBatch => role == Role::CountyAdmin,
        // Village rules are public within the village.
        EntityKind::VillageRules | EntityKind::HouseholdStanding => true,
        // The history of violations: village cadres and above, never the group leader.
        EntityKind::Violation => matches!(
            role,
            Role::VillageSecretary
                | Role::FirstSecretary
                | Role::VillageCadre
                | Role::JudicialOffice
                | Role::TownCommittee
        ),
        EntityKind::Screening => matches!(
            role,
            Role::VillageSecretary
                | Role::FirstSecretary
                | Role::VillageCadre
                | Role::JudicialOffice
                | Role::TownCommittee
        ),
        // Consultations hold villagers' questions: the advisor's village and the judicial office.
        EntityKind::Consultation => {
            matches!(role, Role::LegalAdvisor | Role::VillageSecretary | Role::FirstSecretary | Role::JudicialOffice)
        }
        _ => false,
    }
}

/// The authenticated user behind an operation or a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user's id.
    pub user_id: Uuid,
    /// The user's roles, each bound to an org unit.
    pub grants: Vec<RoleGrant>,
}

/// How an actor stands to a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Allowed.
    Allowed,
    /// Inside the actor's units, but no role of theirs there may do it.
    RoleNotAllowed,
    /// Outside the actor's units.
    OutsideJurisdiction,
}

impl Actor {
    /// Whether the actor may do `action` on a target whose scope (its home unit
    /// first, the county last) is `scope`.
    pub fn standing(&self, action: Action, scope: &[Uuid]) -> Standing {
        let allowed = roles_for(action);
        let mut inside = false;
        for g in &self.grants {
            if covers(g.unit_id, scope) {
                inside = true;
                if allowed.contains(&g.role) {
                    return Standing::Allowed;
                }
            }
        }
        if inside {
            Standing::RoleNotAllowed
        } else {
            Standing::OutsideJurisdiction
        }
    }

    /// Whether the actor may do `action` on a target whose scope is `scope`
    /// ([`Actor::standing`] is [`Standing::Allowed`]).
    pub fn may(&self, action: Action, scope: &[Uuid]) -> bool {
        self.standing(action, scope) == Standing::Allowed
    }

    /// The unit of the actor's first grant whose role may do `action` (the
    /// county of a county admin, for a county-wide act).
    pub fn unit_for(&self, action: Action) -> Option<Uuid> {
        self.grants.iter().find(|g| may(g.role, action)).map(|g| g.unit_id)
    }

    /// Whether the actor may read a record of `entity` whose scope is `scope`.
    pub fn may_see(&self, entity: EntityKind, scope: &[Uuid]) -> bool {
        self.grants.iter().any(|g| sees(g.role, entity) && covers(g.unit_id, scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (Uuid, Uuid, Uuid, Uuid, Uuid) {
        (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4), Uuid::from_u128(5))
    }

    #[test]
    fn group_leader_records_visits_in_own_group_only() {
        let (county, town, village, group, other_group) = ids();
        let a =
            Actor { user_id: Uuid::from_u128(10), grants: vec![RoleGrant { role: Role::GroupLeader, unit_id: group }] };
        assert_eq!(a.standing(Action::RecordVisit, &[group, village, town, county]), Standing::Allowed);
        assert_eq!(
            a.standing(Action::RecordVisit, &[other_group, village, town, county]),
            Standing::OutsideJurisdiction
        );
    }

    #[test]
    fn mediator_inside_but_not_allowed_to_log_visits() {
        let (county, town, village, group, _) = ids();
        let a =
            Actor { user_id: Uuid::from_u128(10), grants: vec![RoleGrant { role: Role::Mediator, unit_id: village }] };
        assert_eq!(a.standing(Action::RecordVisit, &[group, village, town, county]), Standing::RoleNotAllowed);
        assert!(!a.may_see(EntityKind::Visit, &[group, village, town, county]));
        assert!(a.may_see(EntityKind::Household, &[group, village, town, county]));
    }

    #[test]
    fn secretary_sees_village_visits_not_beside() {
        let (county, town, village, group, other_village) = ids();
        let a = Actor {
            user_id: Uuid::from_u128(10),
            grants: vec![RoleGrant { role: Role::VillageSecretary, unit_id: village }],
        };
        assert!(a.may_see(EntityKind::Visit, &[group, village, town, county]));
        assert!(!a.may_see(EntityKind::Visit, &[Uuid::from_u128(77), other_village, town, county]));
        // nor above: the town's own records
        assert!(!a.may_see(EntityKind::Unit, &[town, county]));
    }

    /// The one table, action by action: the roles that may (inside their units).
    #[test]
    fn each_action_lists_its_roles() {
        use Role::*;
        let table: Vec<(Action, Vec<Role>)> = vec![
            (Action::RecordVisit, vec![GroupLeader, VillageSecretary, FirstSecretary, VillageCadre]),
            (
                Action::HandleDispute,
                vec![
                    GroupLeader,
                    VillageSecretary,
                    FirstSecretary,
                    VillageCadre,
                    Mediator,
                    LegalAdvisor,
                    JudicialOffice,
                    TownCommittee,
                ],
            ),
            (Action::RecordViolation, vec![VillageSecretary, FirstSecretary, VillageCadre]),
            (Action::FileScreening, vec![VillageSecretary, FirstSecretary, VillageCadre]),
            (Action::RecordCommitment, vec![VillageSecretary, FirstSecretary, VillageCadre]),
            (Action::SetVillageRules, vec![VillageSecretary, FirstSecretary]),
            (Action::RestoreHousehold, vec![VillageSecretary, FirstSecretary]),
            (Action::ReviewVillageRules, vec![JudicialOffice]),
            (Action::ReviewCaseFile, vec![JudicialOffice]),
            (Action::ReviewConsultation, vec![JudicialOffice]),
            (Action::RecordConsultation, vec![LegalAdvisor]),
            (Action::PaySubsidies, vec![CountyAdmin]),
            (
                Action::ReadReports,
                vec![VillageSecretary, FirstSecretary, VillageCadre, JudicialOffice, TownCommittee, CountyAdmin],
            ),
            (
                Action::ReadVillageBlacklist,
                vec![VillageSecretary, FirstSecretary, VillageCadre, JudicialOffice, TownCommittee],
            ),
            (Action::ReadTownBlacklist, vec![JudicialOffice, TownCommittee]),
            (Action::Administer, vec![CountyAdmin]),
        ];
        assert_eq!(table.iter().map(|(a, _)| *a).collect::<Vec<_>>(), Action::ALL.to_vec(), "every action listed");
        for (action, roles) in table {
            let allowed: Vec<Role> = Role::ALL.iter().copied().filter(|r| may(*r, action)).collect();
            assert_eq!(allowed, roles, "{action:?}");
        }
    }

    #[test]
    fn county_wide_gates_ask_the_table() {
        let (county, town, ..) = ids();
        let admin = [RoleGrant { role: Role::CountyAdmin, unit_id: county }];
        let office = [RoleGrant { role: Role::JudicialOffice, unit_id: town }];
        assert!(any_may(&admin, Action::Administer) && any_may(&admin, Action::PaySubsidies));
        assert!(!any_may(&office, Action::Administer) && any_may(&office, Action::ReviewCaseFile));
        let a = Actor { user_id: Uuid::from_u128(10), grants: [office.to_vec(), admin.to_vec()].concat() };
        assert_eq!(a.unit_for(Action::PaySubsidies), Some(county));
        assert_eq!(a.unit_for(Action::RecordVisit), None);
        assert!(a.may(Action::ReviewCaseFile, &[town, county]) && !a.may(Action::ReviewCaseFile, &[county]));
    }
}
