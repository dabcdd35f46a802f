//! The Fengqiao server: auth, sync and workflow authority over a pluggable store.
//!
//! Layout: [`store`] (trait, sled and memory backends, conformance suite for
//! tests), [`auth`] (argon2id, EdDSA access tokens, rotating refresh tokens),
//! [`http`] (axum routes and layers), [`tus`] (photo uploads over tus, photo
//! bytes), [`desk`] (the desk console's HTML at `/desk/`), [`app`] (opening a data dir, running),
//! [`demo`] (the demo county), [`backup`] (backups, restore, the data dir's format),
//! [`metrics`] and [`readiness`] (what the county's monitoring reads), [`tls`],
//! [`cli`].

pub mod admin;
pub mod app;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod demo;
pub mod desk;
pub mod disk;
pub mod http;
pub mod metrics;
pub mod readiness;
pub mod reports;
#[cfg(feature = "sim-bugs")]
pub mod sim_bugs;
pub mod store;
pub mod tls;
pub mod tus;
