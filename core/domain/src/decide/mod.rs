//! Deciding an operation: the read-only [`view::StateView`] a backend lends, the
//! [`view::Verdict`] and [`view::Effect`]s it gets back, the one
//! [`apply::decide`] that dispatches every op, one file per area
//! (`apply_disputes`, `apply_prevent`, `apply_subsidy`; visits and photos in
//! `apply`), and the helpers the areas share ([`shared`]).

pub mod apply;
pub mod apply_disputes;
pub mod apply_prevent;
pub mod apply_subsidy;
pub mod payees;
pub mod shared;
pub mod view;
