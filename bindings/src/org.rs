//! The signed-in user (sign in, sign out, the user of the cached session), roles,
//! org units and households, as the apps show them.

use fengqiao_domain::org::{self as dom, OrgUnit as DomUnit};
use fengqiao_domain::wire::UserInfo;
use fengqiao_domain::Household as DomHousehold;

use crate::client::FieldClient;
use crate::convert::id;
use crate::error::FengqiaoError;
use crate::runtime::{guard, run};

/// A user's role (see DESIGN.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
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

impl From<dom::Role> for Role {
    fn from(r: dom::Role) -> Self {
        match r {
            dom::Role::GroupLeader => Role::GroupLeader,
            dom::Role::VillageSecretary => Role::VillageSecretary,
            dom::Role::FirstSecretary => Role::FirstSecretary,
            dom::Role::VillageCadre => Role::VillageCadre,
            dom::Role::Mediator => Role::Mediator,
            dom::Role::LegalAdvisor => Role::LegalAdvisor,
            dom::Role::JudicialOffice => Role::JudicialOffice,
            dom::Role::TownCommittee => Role::TownCommittee,
            dom::Role::CountyAdmin => Role::CountyAdmin,
        }
    }
}

impl From<Role> for dom::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::GroupLeader => dom::Role::GroupLeader,
            Role::VillageSecretary => dom::Role::VillageSecretary,
            Role::FirstSecretary => dom::Role::FirstSecretary,
            Role::VillageCadre => dom::Role::VillageCadre,
            Role::Mediator => dom::Role::Mediator,
            Role::LegalAdvisor => dom::Role::LegalAdvisor,
            Role::JudicialOffice => dom::Role::JudicialOffice,
            Role::TownCommittee => dom::Role::TownCommittee,
            Role::CountyAdmin => dom::Role::CountyAdmin,
        }
    }
}

/// The role's stable code as on the wire (e.g. `group_leader`).
#[uniffi::export]
pub fn role_code(role: Role) -> String {
    dom::Role::from(role).code().into()
}

/// The Chinese term the apps show for a role (e.g. `组长/网格员`).
#[uniffi::export]
pub fn role_label_zh(role: Role) -> String {
    dom::Role::from(role).label_zh().into()
}

/// The level of an org unit, from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum UnitLevel {
    /// 旗 / 县
    County,
    /// 镇 (also 乡, 苏木, 街道)
    Town,
    /// 司法所 (serves one or more towns)
    JudicialOffice,
    /// 村 (also 嘎查, 社区)
    Village,
    /// 组
    Group,
}

impl From<dom::UnitLevel> for UnitLevel {
    fn from(l: dom::UnitLevel) -> Self {
        match l {
            dom::UnitLevel::County => UnitLevel::County,
            dom::UnitLevel::Town => UnitLevel::Town,
            dom::UnitLevel::JudicialOffice => UnitLevel::JudicialOffice,
            dom::UnitLevel::Village => UnitLevel::Village,
            dom::UnitLevel::Group => UnitLevel::Group,
        }
    }
}

/// A role bound to an org unit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoleGrant {
    /// The role.
    pub role: Role,
    /// The unit it is bound to.
    pub unit_id: String,
    /// That unit's name.
    pub unit_name: String,
}

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct User {
    /// User id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Roles and their units.
    pub roles: Vec<RoleGrant>,
}

impl From<UserInfo> for User {
    fn from(u: UserInfo) -> Self {
        User {
            id: id(u.id),
            username: u.username,
            display_name: u.display_name,
            roles: u
                .roles
                .into_iter()
                .map(|g| RoleGrant { role: g.grant.role.into(), unit_id: id(g.grant.unit_id), unit_name: g.unit_name })
                .collect(),
        }
    }
}

/// An org unit: county, town, village or group.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrgUnit {
    /// Id.
    pub id: String,
    /// Short code (e.g. `V02`).
    pub code: String,
    /// Display name.
    pub name: String,
    /// Level.
    pub level: UnitLevel,
    /// The unit above; none for the county.
    pub parent_id: Option<String>,
}

impl From<DomUnit> for OrgUnit {
    fn from(u: DomUnit) -> Self {
        OrgUnit { id: id(u.id), code: u.code, name: u.name, level: u.level.into(), parent_id: u.parent.map(id) }
    }
}

/// A household (户) in a group.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Household {
    /// Id.
    pub id: String,
    /// The group it belongs to.
    pub group_id: String,
    /// Household head's name (personal data).
    pub head_name: String,
    /// Address within the group.
    pub address: String,
    /// Contact phone (personal data), if known.
    pub phone: Option<String>,
    /// The county's household code (户编号), if the register has one.
    #[uniffi(default = None)]
    pub code: Option<String>,
}

impl From<DomHousehold> for Household {
    fn from(h: DomHousehold) -> Self {
        Household {
            id: id(h.id),
            group_id: id(h.group_id),
            head_name: h.head_name,
            address: h.address,
            phone: h.phone,
            code: h.code,
        }
    }
}

#[uniffi::export]
impl FieldClient {
    /// Signs in. Another user's queued work on this phone stays queued for them.
    pub async fn login(&self, username: String, password: String) -> Result<User, FengqiaoError> {
        let core = self.core_arc();
        run(None, async move { Ok(core.login(username, password).await?.into()) }).await
    }

    /// Signs out: revokes the session on the server when reachable and forgets
    /// it here. Queued and quarantined work is never deleted. Refused with
    /// `Locked` while the user's PIN lock is closed: unlock first, or use
    /// `logout_with_password`.
    pub async fn logout(&self) -> Result<(), FengqiaoError> {
        let core = self.core_arc();
        run(None, async move { Ok(core.logout().await?) }).await
    }

    /// Signs out a locked phone with the signed-in user's password, checked by
    /// the server (online): `InvalidCredentials` for a wrong one, `Network`
    /// offline, and nothing changed then. Otherwise as `logout`.
    pub async fn logout_with_password(&self, password: String) -> Result<(), FengqiaoError> {
        let core = self.core_arc();
        run(None, async move { Ok(core.logout_with_password(password).await?) }).await
    }

    /// The signed-in user from the cached session (works offline), if any.
    pub fn current_user(&self) -> Option<User> {
        guard(|| Ok(self.core().current_user().map(User::from))).ok().flatten()
    }
}

#[uniffi::export]
impl FieldClient {
    /// Households pulled to this phone (the user's jurisdiction), by address. Offline.
    pub fn households(&self) -> Result<Vec<Household>, FengqiaoError> {
        guard(|| Ok(self.core().households()?.into_iter().map(Household::from).collect()))
    }

    /// Org units pulled to this phone, county first, then by code. Offline.
    pub fn units(&self) -> Result<Vec<OrgUnit>, FengqiaoError> {
        guard(|| Ok(self.core().units()?.into_iter().map(OrgUnit::from).collect()))
    }
}
