//! The org hierarchy (county > town > village > group, and the judicial offices
//! under the county, each serving a set of towns) and the roles bound to it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The level of an org unit. Ordered from the top: county is the highest; a
/// judicial office sits under the county beside the towns it serves, after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// 旗 / 县
    County,
    /// Town level: 镇, 乡, 苏木, 街道 (the unit's [`UnitKind`] tells which).
    Town,
    /// 司法所 (a 中心司法所 serves several towns): the ladder's third level, a unit
    /// of its own under the county, serving the towns that list it
    /// ([`OrgUnit::offices`]).
    JudicialOffice,
    /// Village level: 村, 嘎查, 社区 (the unit's [`UnitKind`] tells which).
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
            UnitLevel::JudicialOffice | UnitLevel::Group => None,
        }
    }

    /// The level a unit of this level hangs under (`None` for the county).
    pub fn parent(self) -> Option<UnitLevel> {
        match self {
            UnitLevel::County => None,
            UnitLevel::Town | UnitLevel::JudicialOffice => Some(UnitLevel::County),
            UnitLevel::Village => Some(UnitLevel::Town),
            UnitLevel::Group => Some(UnitLevel::Village),
        }
    }

    /// The Chinese term of the level's usual kind.
    pub fn label_zh(self) -> &'static str {
        match self {
            UnitLevel::County => "旗",
            UnitLevel::Town => "镇",
            UnitLevel::JudicialOffice => "司法所",
            UnitLevel::Village => "村",
            UnitLevel::Group => "组",
        }
    }
}

/// What a town- or village-level unit is in the county's own words: Inner
/// Mongolia's 苏木 and 嘎查 beside 镇/乡 and 村, and a town's 街道 and 社区. The
/// ladder treats every kind of a level alike; reports and screens name the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 镇 (town level)
    Town,
    /// 乡 (town level)
    Township,
    /// 苏木 (town level, Inner Mongolia)
    Sumu,
    /// 街道 (subdistrict, town level)
    Subdistrict,
    /// 村 (village level)
    Village,
    /// 嘎查 (village level, Inner Mongolia)
    Gacha,
    /// 社区 (community, village level)
    Community,
}

impl UnitKind {
    /// Every kind.
    pub const ALL: [UnitKind; 7] = [
        UnitKind::Town,
        UnitKind::Township,
        UnitKind::Sumu,
        UnitKind::Subdistrict,
        UnitKind::Village,
        UnitKind::Gacha,
        UnitKind::Community,
    ];

    /// The level a unit of this kind stands at.
    pub fn level(self) -> UnitLevel {
        match self {
            UnitKind::Town | UnitKind::Township | UnitKind::Sumu | UnitKind::Subdistrict => UnitLevel::Town,
            UnitKind::Village | UnitKind::Gacha | UnitKind::Community => UnitLevel::Village,
        }
    }

    /// The Chinese term.
    pub fn label_zh(self) -> &'static str {
        match self {
            UnitKind::Town => "镇",
            UnitKind::Township => "乡",
            UnitKind::Sumu => "苏木",
            UnitKind::Subdistrict => "街道",
            UnitKind::Village => "村",
            UnitKind::Gacha => "嘎查",
            UnitKind::Community => "社区",
        }
    }

    /// The snake_case code used on the wire and in files (the English alias).
    pub fn code(self) -> &'static str {
        match self {
            UnitKind::Town => "town",
            UnitKind::Township => "township",
            UnitKind::Sumu => "sumu",
            UnitKind::Subdistrict => "subdistrict",
            UnitKind::Village => "village",
            UnitKind::Gacha => "gacha",
            UnitKind::Community => "community",
        }
    }

    /// A kind by its Chinese term or English alias (case and spaces ignored).
    pub fn parse(s: &str) -> Option<UnitKind> {
        let t = s.trim().to_lowercase();
        UnitKind::ALL.into_iter().find(|k| k.label_zh() == t || k.code() == t)
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
    /// What the unit is in the county's words (苏木, 嘎查, 社区, …); `None`: the
    /// level's usual kind (镇, 村). Units stored before kinds existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<UnitKind>,
    /// For a town: the judicial offices serving it (units of level
    /// [`UnitLevel::JudicialOffice`]); a dispute's third ladder level goes to one of
    /// them. Empty: no office unit serves the town, and the town's own unit stands
    /// for its office. Empty for other levels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offices: Vec<Uuid>,
}

impl OrgUnit {
    /// A unit of the level's usual kind serving no office (the fields every unit has).
    pub fn new(
        id: Uuid,
        code: impl Into<String>,
        name: impl Into<String>,
        level: UnitLevel,
        parent: Option<Uuid>,
    ) -> Self {
        OrgUnit { id, code: code.into(), name: name.into(), level, parent, kind: None, offices: vec![] }
    }

    /// The Chinese term of what the unit is: its kind's, else its level's.
    pub fn label_zh(&self) -> &'static str {
        self.kind.map(UnitKind::label_zh).unwrap_or(self.level.label_zh())
    }

    /// The towns an office serves, among `units` (those listing it).
    pub fn served_towns<'a>(office: Uuid, units: impl IntoIterator<Item = &'a OrgUnit>) -> Vec<Uuid> {
        units.into_iter().filter(|u| u.level == UnitLevel::Town && u.offices.contains(&office)).map(|u| u.id).collect()
    }
}

/// The grants a user acts with: their own, and for each role held at a judicial
/// office, the same role at every town the office serves (so its staff see and
/// act on the disputes of those towns, and of no other). `unit` looks up a unit by
/// id; `towns_served` lists the towns that name an office among their offices.
pub fn effective_grants(
    grants: &[RoleGrant],
    mut unit: impl FnMut(Uuid) -> Option<OrgUnit>,
    mut towns_served: impl FnMut(Uuid) -> Vec<Uuid>,
) -> Vec<RoleGrant> {
    let mut out = grants.to_vec();
    for g in grants {
        if unit(g.unit_id).is_some_and(|u| u.level == UnitLevel::JudicialOffice) {
            out.extend(towns_served(g.unit_id).into_iter().map(|t| RoleGrant { role: g.role, unit_id: t }));
        }
    }
    out.sort();
    out.dedup();
    out
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
            // at a town: that town's own office, where no office unit serves it
            Role::JudicialOffice => &[UnitLevel::JudicialOffice, UnitLevel::Town],
            Role::TownCommittee => &[UnitLevel::Town],
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
        assert!(Role::JudicialOffice.valid_levels().contains(&UnitLevel::JudicialOffice));
        assert!(!Role::TownCommittee.valid_levels().contains(&UnitLevel::JudicialOffice));
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
    fn kinds_parse_from_chinese_and_english_and_name_their_level() {
        for (text, kind, level) in [
            ("苏木", UnitKind::Sumu, UnitLevel::Town),
            ("sumu", UnitKind::Sumu, UnitLevel::Town),
            ("乡", UnitKind::Township, UnitLevel::Town),
            ("Subdistrict", UnitKind::Subdistrict, UnitLevel::Town),
            ("街道", UnitKind::Subdistrict, UnitLevel::Town),
            ("嘎查", UnitKind::Gacha, UnitLevel::Village),
            (" gacha ", UnitKind::Gacha, UnitLevel::Village),
            ("社区", UnitKind::Community, UnitLevel::Village),
            ("community", UnitKind::Community, UnitLevel::Village),
        ] {
            assert_eq!(UnitKind::parse(text), Some(kind), "{text}");
            assert_eq!(kind.level(), level);
        }
        assert_eq!(UnitKind::parse("旗"), None);
        let mut gacha = OrgUnit::new(Uuid::from_u128(3), "V01", "巴音嘎查", UnitLevel::Village, None);
        assert_eq!(gacha.label_zh(), "村", "no kind: the level's usual word");
        gacha.kind = Some(UnitKind::Gacha);
        assert_eq!(gacha.label_zh(), "嘎查");
    }

    #[test]
    fn a_unit_stored_before_kinds_and_offices_still_reads() {
        let old = r#"{"id":"00000000-0000-0000-0000-000000000002","code":"T01","name":"红旗镇","level":"town","parent":null}"#;
        let u: OrgUnit = serde_json::from_str(old).unwrap();
        assert_eq!((u.kind, u.offices.len(), u.label_zh()), (None, 0, "镇"));
        // and is written back the same way
        assert_eq!(serde_json::to_string(&u).unwrap(), old);
    }

    #[test]
    fn office_staff_act_at_every_town_their_office_serves_and_no_other() {
        let (county, t1, t2, t3) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4));
        let (central, other) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let town =
            |id, offices: Vec<Uuid>| OrgUnit { offices, ..OrgUnit::new(id, "T", "镇", UnitLevel::Town, Some(county)) };
        let units = vec![
            town(t1, vec![central]),
            town(t2, vec![central, other]),
            town(t3, vec![other]),
            OrgUnit::new(central, "S1", "中心司法所", UnitLevel::JudicialOffice, Some(county)),
            OrgUnit::new(other, "S2", "司法所", UnitLevel::JudicialOffice, Some(county)),
        ];
        let grant = RoleGrant { role: Role::JudicialOffice, unit_id: central };
        let got = effective_grants(
            &[grant],
            |id| units.iter().find(|u| u.id == id).cloned(),
            |o| OrgUnit::served_towns(o, &units),
        );
        let at: Vec<Uuid> = got.iter().map(|g| g.unit_id).collect();
        assert!(at.contains(&central) && at.contains(&t1) && at.contains(&t2));
        assert!(!at.contains(&t3), "t3 is served by the other office only");
        assert!(got.iter().all(|g| g.role == Role::JudicialOffice));
        // a grant at a town (a town's own office) is kept as it is
        let legacy = RoleGrant { role: Role::JudicialOffice, unit_id: t3 };
        let got = effective_grants(&[legacy], |id| units.iter().find(|u| u.id == id).cloned(), |_| vec![t1]);
        assert_eq!(got, vec![legacy]);
    }

    #[test]
    fn role_codes_roundtrip_through_serde() {
        for r in Role::ALL {
            let s = serde_json::to_string(&r).unwrap();
            assert_eq!(s, format!("\"{}\"", r.code()));
        }
    }
}
