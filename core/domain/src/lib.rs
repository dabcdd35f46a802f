//! Fengqiao's domain: the rules of the county's mediation method and the wire
//! format, shared by the phone core and the server.
//!
//! This crate does no I/O. Storage backends hand it a read-only [`apply::StateView`]
//! and execute the [`apply::Effect`]s it returns, so the same rule decides an
//! operation on the phone (to guide the user offline) and on the server (as the
//! authority).
//!
//! The rooms, from the ground up: [`model`] (the records and their nouns, each
//! with its own checks), [`policy`] (the county's tunable numbers and their
//! invariants), [`wire`] (operations, answers, validation of an op as a whole,
//! refusal codes) and [`decide`] (the one `decide` and a file per area).

pub mod decide;
pub mod model;
pub mod policy;
pub mod wire;

// The crate's public paths: every module keeps the path it is known by
// (`fengqiao_domain::disputes::Dispute`, `fengqiao_domain::apply::StateView`,
// `fengqiao_domain::rejection::RejectionCode`, ...), wherever its file stands.
pub use decide::{apply, apply_disputes, apply_prevent, apply_subsidy};
pub use model::{
    disputes, id_number, ladder, org, permissions, prevent, records, subsidy, text, time, village_law, visit_target,
};
pub use policy::{assessment, policy_check};
pub use wire::{op_validate, rejection};

pub use model::org::{effective_grants, OrgUnit, Role, RoleGrant, UnitKind, UnitLevel};
pub use model::records::{Attachment, EntityKind, GeoPoint, Household, Lead, Record, Visit, VisitKind};
pub use wire::rejection::{Rejection, RejectionCode};

/// Version of the wire format spoken by this build (carried in pushes and pulls).
pub const WIRE_VERSION: u32 = 1;

/// A new record or operation id, made on the device: UUIDv7 (time-ordered).
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
