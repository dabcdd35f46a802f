//! The county's policy: tunable numbers read from TOML (unknown keys refused,
//! defaults = the seed values), the invariants every policy must keep
//! ([`policy_check`]), and the village assessment it weighs ([`assessment`]).

// The folder's main file keeps the name of its public path, `crate::policy`.
#[allow(clippy::module_inception)]
mod policy;
mod subsidy_policy;

pub mod assessment;
pub mod pay_check;
pub mod policy_check;

pub use self::policy::*;
pub use self::subsidy_policy::{ChecklistItem, ConsultationRate, ImpactBonus, QualityStep, SubsidyPolicy};
