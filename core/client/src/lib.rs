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
//! Disputes are reported, mediated, escalated and decided offline too (see
//! [`FieldClient::report_dispute`], [`FieldClient::escalation_inbox`],
//! [`FieldClient::allowed_actions`]): the phone checks each with the domain's
//! own rules over its local view, and numbers cases from blocks that `sync`
//! reserves ahead.
//!
//! The user's own subsidies ([`FieldClient::my_subsidies`]) and the
//! prevention work (household standing, violations, the screening due) are
//! read from what the last sync pulled, and written through the same checked
//! path as disputes.
//!
//! Photos are attached from a file path: copied into the phone's own
//! content-addressed folder, queued, and uploaded by `sync` after their records
//! (tus, in checksummed chunks, resuming from the server's offset).
//!
//! Everything on the phone is encrypted under the app's key (records, outbox,
//! session, photos; see [`store::vault`]); a PIN or the platform's biometric
//! check opens the user's data offline, each user's unsynced work waits for
//! them, and a revoked device drops the user's data (see [`LockStatus`],
//! [`WaitingWork`], [`WipeReport`], [`StorageUsage`]).
//!
//! Storage sits behind [`store::ClientStore`], with a sled backend for phones and
//! an in-memory one for tests; both run the conformance suite (`store::conformance`, tests only).

mod api;
mod case_blocks;
mod client;
mod clock;
mod consultations;
mod device;
mod disputes;
mod error;
mod households;
mod messages;
mod names;
mod notices;
mod ops;
mod options;
mod people;
mod photo_folder;
mod photo_sizing;
mod photos;
mod prevent;
mod progress;
mod retry;
mod review;
mod session;
pub mod store;
mod subsidies;
mod sync;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
pub mod tls;
pub mod transport;
mod view;
mod visits;
mod wait;

pub use client::{ClientOptions, FieldClient, QuarantinedOp, SyncStatus, EMPTY_DATA_DIR};
pub use clock::{Clock, ManualClock, SystemClock};
pub use consultations::{ConsultationItem, NewConsultation};
pub use device::{LockStatus, StorageUsage, WaitingWork, WipeReport, PIN_FREE_ATTEMPTS, PIN_MAX_ATTEMPTS};
pub use disputes::{
    dispute_order, CaseFileCheck, CaseNumberStock, ChecklistLine, DisputeActions, DisputeFile, DisputeFilter,
    DisputeItem, InboxCase, InboxItem, MyDecision, NewAgreement, NewConfirmation, NewDispute, NewFollowUp, NewSession,
};
pub use error::ClientError;
pub use households::{initials_match, HouseholdMatch, MAX_SEARCH_RESULTS};
pub use messages::{locale, reason_text, refusal, rejection_en, rejection_zh, set_locale, Locale};
pub use notices::{Indicator, Notice, NoticeKind, NoticeTab, TabCounts, NOTICE_HORIZON_DAYS};
pub use people::StandingDecision;
pub use photos::{
    AttachedPhoto, NewPhoto, PhotoStatus, PHOTO_CORRUPT, PHOTO_NOT_AN_IMAGE, PHOTO_NOT_A_FILE, PHOTO_TOO_MANY_PIXELS,
};
pub use prevent::{HouseholdRules, NewScreening, NewViolation, ScreeningDue, ViolationItem};
pub use progress::{SyncPhase, SyncProgress, SyncReport};
pub use retry::{CancelHandle, RetryPolicy};
pub use review::{NewReview, ReviewItem, ReviewView};
pub use store::{
    ClientStore, MemoryClientStore, PhotoUpload, SledClientStore, StoreKey, StoreRecovery, SyncErrorInfo, UploadState,
};
pub use subsidies::{MySubsidies, StatusTotal, SubsidyEstimate, SubsidyItem, SubsidyTotal};
pub use visits::{NewVisit, VisitItem};
