//! Fengqiao's domain: the rules of the county's mediation method and the wire
//! format, shared by the phone core and the server.
//!
//! This crate does no I/O. Storage backends hand it a read-only [`apply::StateView`]
//! and execute the [`apply::Effect`]s it returns, so the same rule decides an
//! operation on the phone (to guide the user offline) and on the server (as the
//! authority).

pub mod apply;
pub mod apply_disputes;
pub mod apply_prevent;
pub mod apply_subsidy;
pub mod assessment;
pub mod disputes;
pub mod id_number;
pub mod ladder;
pub mod op_validate;
pub mod org;
pub mod permissions;
pub mod policy;
pub mod policy_check;
pub mod prevent;
pub mod records;
pub mod rejection;
pub mod subsidy;
pub mod text;
pub mod time;
pub mod wire;

pub use org::{OrgUnit, Role, RoleGrant, UnitLevel};
pub use records::{Attachment, EntityKind, GeoPoint, Household, Lead, Record, Visit, VisitKind};
pub use rejection::{Rejection, RejectionCode};

/// Version of the wire format spoken by this build (carried in pushes and pulls).
pub const WIRE_VERSION: u32 = 1;

/// A new record or operation id, made on the device: UUIDv7 (time-ordered).
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
