//! The org hierarchy (county > town > village > group) and the roles bound to it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The level of an org unit. Ordered from the top: county is the highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// 旗 / 县
    County,
    /// 镇
    Town,
    /// 村
    Village,
    /// 组 (one grid)
    Group,
}

impl UnitLevel {
    /// The level directly below this one, if any.
    pub fn child(self) -> Option<UnitLevel> {
        match self {
            UnitLevel::County => Some(UnitLevel::Town),
            UnitLevel::Town => Some(UnitLevel::Village),
            UnitLevel::Village => Some(UnitLevel::Group),
            UnitLevel::Group => None,
        }
    }
}

/// An org unit: county, town, village or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgUnit {
    /// Stable id.
    pub id: Uuid,
    /// Short code used in case numbers and exports (e.g. `T01`, `V02`).
    pub code: String,
    /// Display name (Chinese).
    pub name: String,
    /// County, town, village or group.
    pub level: UnitLevel,
    /// The unit directly above; `None` only for the county.
    pub parent: Option<Uuid>,
}

/// A user's role (DESIGN.md §1). Each role is bound to one org unit by a [`RoleGrant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 组长 / 网格员
    GroupLeader,
    /// 村书记
    VillageSecretary,
    /// 第一书记
    FirstSecretary,
    /// 村两委
    VillageCadre,
    /// 人民调解员
    Mediator,
    /// 法律顾问
    LegalAdvisor,
    /// 司法所
    JudicialOffice,
    /// 镇综合调委会
    TownCommittee,
    /// 旗/县 admin
    CountyAdmin,
}

impl Role {
    /// Every role, in ladder order.
    pub const ALL: [Role; 9] = [
        Role::GroupLeader,
        Role::VillageSecretary,
        Role::FirstSecretary,
        Role::VillageCadre,
        Role::Mediator,
        Role::LegalAdvisor,
        Role::JudicialOffice,
        Role::TownCommittee,
        Role::CountyAdmin,
    ];

    /// The org-unit levels this role may be bound to.
    pub fn valid_levels(self) -> &'static [UnitLevel] {
        match self {
            Role::GroupLeader => &[UnitLevel::Group],
            Role::VillageSecretary | Role::FirstSecretary | Role::VillageCadre => &[UnitLevel::Village],
            Role::Mediator => &[UnitLevel::Village, UnitLevel::Town],
            Role::LegalAdvisor => &[UnitLevel::Village],
            Role::JudicialOffice | Role::TownCommittee => &[UnitLevel::Town],
            Role::CountyAdmin => &[UnitLevel::County],
        }
    }

    /// The snake_case code used on the wire and in files.
    pub fn code(self) -> &'static str {
        match self {
            Role::GroupLeader => "group_leader",
            Role::VillageSecretary => "village_secretary",
            Role::FirstSecretary => "first_secretary",
            Role::VillageCadre => "village_cadre",
            Role::Mediator => "mediator",
            Role::LegalAdvisor => "legal_advisor",
            Role::JudicialOffice => "judicial_office",
            Role::TownCommittee => "town_committee",
            Role::CountyAdmin => "county_admin",
        }
    }

    /// The Chinese term the apps show.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::GroupLeader => "组长/网格员",
            Role::VillageSecretary => "村书记",
            Role::FirstSecretary => "第一书记",
            Role::VillageCadre => "村两委",
            Role::Mediator => "人民调解员",
            Role::LegalAdvisor => "法律顾问",
            Role::JudicialOffice => "司法所",
            Role::TownCommittee => "镇综合调委会",
            Role::CountyAdmin => "旗/县管理员",
        }
    }
}

/// A role bound to an org unit: the holder sees and acts on that unit and the
/// units below it, never beside or above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleGrant {
    /// The role.
    pub role: Role,
    /// The org unit it is bound to.
    pub unit_id: Uuid,
}

/// Whether `grant_unit` covers a target whose ancestry (itself first, the county
/// last) is `target_scope`.
pub fn covers(grant_unit: Uuid, target_scope: &[Uuid]) -> bool {
    target_scope.contains(&grant_unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_bind_to_their_levels_only() {
        assert_eq!(Role::GroupLeader.valid_levels(), &[UnitLevel::Group]);
        assert!(!Role::FirstSecretary.valid_levels().contains(&UnitLevel::Town));
        assert!(Role::Mediator.valid_levels().contains(&UnitLevel::Town));
        assert_eq!(Role::CountyAdmin.valid_levels(), &[UnitLevel::County]);
    }

    #[test]
    fn coverage_is_down_the_tree_only() {
        let (county, town, village, group) =
            (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4));
        let scope = [group, village, town, county];
        assert!(covers(village, &scope));
        assert!(covers(group, &scope));
        // a group leader does not cover its village's records
        assert!(!covers(group, &[village, town, county]));
        assert!(!covers(Uuid::from_u128(9), &scope));
    }

    #[test]
    fn role_codes_roundtrip_through_serde() {
        for r in Role::ALL {
            let s = serde_json::to_string(&r).unwrap();
            assert_eq!(s, format!("\"{}\"", r.code()));
        }
    }
}
