//! The terms of prevention that a county's policy names: the sanctions of a
//! negative list and how often villages screen.

use serde::{Deserialize, Serialize};

/// A sanction of the negative list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
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

/// How often villages screen in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// 一月一排查
    Monthly,
    /// Every half month.
    HalfMonthly,
    /// Every week.
    Weekly,
}
