//! The records and the nouns they are made of: the org tree, households, visits
//! and photos, disputes and the ladder, prevention, subsidies, and the small
//! checks of text, id numbers and dates. Each record's `validate` holds its own
//! field rules, against the county's [`crate::policy::Policy`] where counties differ.

pub mod case_numbers;
pub mod credit;
pub mod disputes;
pub mod entity;
pub mod flow;
pub mod id_number;
pub mod ladder;
pub mod level;
pub mod org;
pub mod permissions;
pub mod prevent;
pub mod prevent_terms;
pub mod records;
pub mod subsidy;
pub mod text;
pub mod time;
pub mod village_law;
pub mod visit_target;
