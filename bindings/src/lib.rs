#![warn(missing_docs)]
//! UniFFI bindings of the Fengqiao phone core (`fengqiao-core`).
//!
//! This crate only converts and forwards: every rule (validation, who may do
//! what, the ladder) lives in `core`. It builds `libfengqiao_bindings` (cdylib
//! for Android/JVM, staticlib for iOS) and, with the `cli` feature, the
//! `uniffi-bindgen` binary that generates Kotlin and Swift from that library
//! (`bindings/build.sh` does both).
//!
//! The exposed API, one module per feature, each adding its methods to
//! [`FieldClient`] with its own `#[uniffi::export] impl` block:
//!
//! | module | what |
//! |---|---|
//! | [`client`] | [`FieldClient`] (constructor), [`ClientConfig`] |
//! | [`org`] | login, logout, the current user, roles, org units, households |
//! | [`visits`] | record and list door-to-door visits |
//! | [`photos`] | attach photos to records, per-photo upload state |
//! | [`sync`] | sync with [`SyncListener`] progress and [`CancelToken`], status, quarantine |
//! | [`disputes`] | report, list and read disputes with deadlines, allowed actions, case numbers, dispute kinds; levels, grades, escalation records |
//! | [`casefile`] | sessions, agreements, follow-ups, judicial confirmation, closing, flow table, the whole file |
//! | [`inbox`] | request and decide escalations, the approver's inbox, the whole case behind a request, my decisions |
//! | [`notices`] | being told: notices after each sync, tab counts, the global indicator |
//! | [`review`] | case-file review: the judicial office's queue, the review, a case's reviews in words |
//! | [`subsidies`] | the user's own subsidies with totals and estimates |
//! | [`prevent`] | household standing, negative list, violations and restorations, screening due and filing |
//! | [`fieldwork`] | household search with standing, legal consultations, the case-file checklist, case numbers left |
//! | [`village_rules`] | a household under its village's rules: legality review, adopting vote, commitment letter |
//! | [`error`] | [`FengqiaoError`], one variant per stable code |
//!
//! Conventions at the boundary (see [`convert`]): ids are UUID strings; times
//! are `i64` milliseconds since the Unix epoch, UTC. Every exported call
//! catches panics and returns [`FengqiaoError::Internal`] instead; async calls
//! run on the bindings' own tokio runtime, never on the caller's thread (see
//! [`runtime`]).

pub mod casefile;
pub mod client;
pub mod convert;
pub mod device;
pub mod disputes;
pub mod error;
pub mod fieldwork;
pub mod inbox;
pub mod notices;
pub mod org;
pub mod photos;
pub mod prevent;
pub mod review;
pub mod runtime;
pub mod subsidies;
pub mod sync;
pub mod village_rules;
pub mod visits;

pub use casefile::{
    Agreement, DisputeFile, FlowEntry, FlowKind, FollowUp, JudicialConfirmation, MediationSession, NewAgreement,
    NewConfirmation, NewFollowUp, NewSession, Satisfaction,
};
pub use client::{ClientConfig, FieldClient, MessageLocale};
pub use disputes::{
    Analysis, Closing, ClosingOutcome, DeadlineState, Difficulty, Dispute, DisputeActions, DisputeFilter, DisputeItem,
    DisputeKind, Escalation, EscalationDecision, EscalationReason, Grade, Level, NewDispute, Party,
};
pub use error::FengqiaoError;
pub use fieldwork::{
    CaseFileCheck, CaseNumberStock, ChecklistLine, Consultation, ConsultationItem, ConsultationOutcome, HouseholdMatch,
    NewConsultation,
};
pub use inbox::{InboxCase, InboxItem, MyDecision};
pub use notices::{Indicator, Notice, NoticeKind, NoticeTab, TabCounts};
pub use org::{Household, OrgUnit, Role, RoleGrant, UnitLevel, User};
pub use photos::{AttachedPhoto, Attachment, NewPhoto, PhotoStatus, PhotoUploadState};
pub use prevent::{
    FocusArea, NegativeItem, NewScreening, NewViolation, Restoration, Sanction, Screening, ScreeningDue, Violation,
    ViolationItem,
};
pub use review::{CaseReview, NewReview, ReviewItem, ReviewView};
pub use subsidies::{
    MySubsidies, Subsidy, SubsidyEstimate, SubsidyItem, SubsidyMonthTotal, SubsidyStatus, SubsidyStatusTotal,
};
pub use sync::{CancelToken, QuarantinedOp, RecordRef, SyncErrorInfo, SyncListener, SyncPhase, SyncReport, SyncStatus};
pub use village_rules::{CommitmentLetter, HouseholdRules, RulesAdoption};
pub use visits::{GeoPoint, Lead, NewVisit, SocialBody, SocialBodyKind, Visit, VisitItem, VisitKind};

uniffi::setup_scaffolding!();
