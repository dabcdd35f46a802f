#![warn(missing_docs)]
//! Fengqiao's phone core: the offline store, the outbox of operations and the
//! sync engine that talks to the server.
//!
//! [`FieldClient`] is the one entry point (the UniFFI layer wraps it). Records
//! get their ids on the phone, are validated by the shared domain crate's
//! rules, and are saved with their operation in one durable transaction; `sync`
//! pushes the signed-in user's operations oldest first and pulls the change feed.
//! Refused operations go to quarantine, never silently away.
//!
//! Storage sits behind [`store::ClientStore`], with a sled backend for phones and
//! an in-memory one for tests; both run [`store::conformance`].

mod api;
mod client;
mod clock;
mod error;
mod outbox;
mod retry;
mod session;
pub mod store;
mod sync;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;

pub use client::{ClientOptions, FieldClient, NewVisit, QuarantinedOp, SyncStatus, VisitItem};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ClientError;
pub use retry::{CancelHandle, RetryPolicy};
pub use store::{ClientStore, MemoryClientStore, SledClientStore, SyncErrorInfo};
pub use sync::{SyncPhase, SyncProgress, SyncReport};
