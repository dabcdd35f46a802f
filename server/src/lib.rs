//! The Fengqiao server: auth, sync and workflow authority over a pluggable store.

pub mod store;
