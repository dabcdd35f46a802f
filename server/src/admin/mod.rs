//! County administration: importing org units, users and households from the
//! county's spreadsheets ([`import`], [`template`]), managing users and their
//! devices ([`users`]), and the audit log ([`audit`]).
//!
//! Only county admins may do any of it; everyone else is answered 404 by the
//! HTTP layer so that nothing about the admin surface leaks.

pub mod audit;
pub mod import;
pub mod template;
pub mod users;

use fengqiao_domain::permissions::{any_may, Action};
use fengqiao_domain::RoleGrant;

use crate::store::StoreError;

/// Whether these grants make their holder a county administrator (the domain's
/// [`Action::Administer`]).
pub fn is_admin(grants: &[RoleGrant]) -> bool {
    any_may(grants, Action::Administer)
}

/// Why an admin action failed. Messages name ids and fields, never personal data.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No such user, device or unit (or outside the caller's reach).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// Input refused, with a stable code.
    #[error("{1}")]
    Invalid(&'static str, String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else failed on the server.
    #[error("{0}")]
    Internal(String),
}

/// Result alias for admin calls.
pub type AdminResult<T> = Result<T, AdminError>;
