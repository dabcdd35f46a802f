//! The ladder's four levels (四级逐调): group → village → judicial office → town,
//! and the one rule table of who acts and who approves at each level.

use serde::{Deserialize, Serialize};

use crate::model::org::{Role, UnitLevel};

/// The level a dispute is handled at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 组: family and neighbour disputes.
    Group,
    /// 村: complex, land and inter-group disputes.
    Village,
    /// 司法所: difficult disputes (injury, damage, labour services, large sums).
    JudicialOffice,
    /// 镇综合调委会: major, historical and mass disputes.
    Town,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::Group, Level::Village, Level::JudicialOffice, Level::Town];

    /// The next level up, if any.
    pub fn next(self) -> Option<Level> {
        match self {
            Level::Group => Some(Level::Village),
            Level::Village => Some(Level::JudicialOffice),
            Level::JudicialOffice => Some(Level::Town),
            Level::Town => None,
        }
    }

    /// The org-unit level whose unit handles disputes at this level (a town's
    /// own unit stands for its judicial office where no office unit serves it).
    pub fn unit_level(self) -> UnitLevel {
        match self {
            Level::Group => UnitLevel::Group,
            Level::Village => UnitLevel::Village,
            Level::JudicialOffice => UnitLevel::JudicialOffice,
            Level::Town => UnitLevel::Town,
        }
    }

    /// Roles that handle (mediate, record, close, ask to escalate) at this level.
    pub fn handlers(self) -> &'static [Role] {
        match self {
            Level::Group => &[Role::GroupLeader],
            Level::Village => &[Role::VillageSecretary, Role::FirstSecretary, Role::VillageCadre, Role::Mediator],
            Level::JudicialOffice => &[Role::JudicialOffice],
            Level::Town => &[Role::TownCommittee],
        }
    }

    /// Roles that approve a move **into** this level (at the unit of this level).
    pub fn approvers(self) -> &'static [Role] {
        match self {
            Level::Group => &[],
            Level::Village => &[Role::VillageSecretary, Role::FirstSecretary],
            Level::JudicialOffice => &[Role::JudicialOffice],
            Level::Town => &[Role::TownCommittee],
        }
    }

    /// The Chinese term.
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Group => "组",
            Level::Village => "村",
            Level::JudicialOffice => "司法所",
            Level::Town => "镇综合调委会",
        }
    }
}
