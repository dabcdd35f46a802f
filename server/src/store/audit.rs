//! The audit log's entries and queries. The log is append-only: the [`Store`]
//! trait offers append and query, never update or delete. Entries carry ids and
//! stable codes only — no passwords, tokens, names, phone or ID numbers.
//!
//! [`Store`]: super::Store

use chrono::{DateTime, Utc};
use fengqiao_domain::wire::{OpAnswer, OpEnvelope, Outcome};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What was done. Stable snake_case codes (they are queried and exported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(utoipa::ToSchema)]
pub enum AuditAction {
    /// An operation pushed by a phone (detail: the op kind).
    SyncOp,
    /// A successful sign-in.
    Login,
    /// A refused sign-in (target: the user id if the username exists, else none).
    LoginFailed,
    /// A spent refresh token was presented again; its family was revoked.
    RefreshReuse,
    /// A spent refresh token was presented again by its own device within the
    /// grace (a retry after a lost answer); a fresh pair was issued.
    RefreshRetry,
    /// A sign-out (the session's family revoked).
    Logout,
    /// A user changed their own password.
    PasswordChange,
    /// An admin created a user.
    UserCreate,
    /// An admin disabled a user.
    UserDisable,
    /// An admin re-enabled a user.
    UserEnable,
    /// An admin reset a user's password (the user must change it).
    PasswordReset,
    /// An admin changed a user's roles or display name.
    UserUpdate,
    /// An admin revoked a user's device (its sessions).
    DeviceRevoke,
    /// An import of org units, users and households (detail: counts).
    Import,
}

impl AuditAction {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::SyncOp => "sync_op",
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::RefreshReuse => "refresh_reuse",
            AuditAction::RefreshRetry => "refresh_retry",
            AuditAction::Logout => "logout",
            AuditAction::PasswordChange => "password_change",
            AuditAction::UserCreate => "user_create",
            AuditAction::UserDisable => "user_disable",
            AuditAction::UserEnable => "user_enable",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::UserUpdate => "user_update",
            AuditAction::DeviceRevoke => "device_revoke",
            AuditAction::Import => "import",
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the log, assigned by the store on append (strictly increasing).
    pub seq: u64,
    /// Server time of the action.
    pub at: DateTime<Utc>,
    /// Who did it (`None`: an anonymous caller or the local command line).
    pub actor: Option<Uuid>,
    /// The device (phone install id) the actor used, if known.
    pub device: Option<Uuid>,
    /// What was done.
    pub action: AuditAction,
    /// What it was done to: a record or user id (never a name or number).
    pub target: Option<String>,
    /// How it ended: `ok`, or an outcome/error code (`applied`, `rejected:...`).
    pub outcome: String,
    /// A short non-personal detail (an op kind, import counts).
    #[serde(default)]
    pub detail: String,
}

impl AuditEntry {
    /// A new entry at `now` (its `seq` is assigned when appended).
    pub fn new(action: AuditAction, actor: Option<Uuid>, target: Option<String>, outcome: impl Into<String>) -> Self {
        AuditEntry {
            seq: 0,
            at: Utc::now(),
            actor,
            device: None,
            action,
            target,
            outcome: outcome.into(),
            detail: String::new(),
        }
    }

    /// With the actor's device.
    pub fn device(mut self, device: Option<Uuid>) -> Self {
        self.device = device;
        self
    }

    /// With a detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// The audit entries of one push: one per op, saying who (`actor`, from
/// `device`), what kind, which record, and how it ended (`applied`,
/// `duplicate`, `rejected:<code>`, `conflict`). `answers` are the ops' answers,
/// in the ops' order.
pub fn sync_op_entries(actor: Uuid, device: Option<Uuid>, ops: &[OpEnvelope], answers: &[OpAnswer]) -> Vec<AuditEntry> {
    ops.iter()
        .zip(answers)
        .map(|(env, a)| {
            let outcome = match &a.outcome {
                Outcome::Applied { .. } => "applied".to_string(),
                Outcome::Duplicate { .. } => "duplicate".to_string(),
                Outcome::Rejected { code, .. } => format!("rejected:{}", code.as_str()),
                Outcome::Conflict { .. } => "conflict".to_string(),
            };
            let target = env.op.record_ref().1.to_string();
            AuditEntry::new(AuditAction::SyncOp, Some(actor), Some(target), outcome)
                .device(device)
                .detail(env.op.kind_name())
        })
        .collect()
}

/// Which entries an audit query returns (all given filters must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this actor's.
    pub actor: Option<Uuid>,
    /// Only about this target.
    pub target: Option<String>,
    /// Only this action.
    pub action: Option<AuditAction>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Only entries after this position (paging).
    pub after: u64,
    /// At most this many.
    pub limit: usize,
}

impl AuditQuery {
    /// Whether an entry matches the filters (not `after`/`limit`).
    pub fn matches(&self, e: &AuditEntry) -> bool {
        self.actor.is_none_or(|a| e.actor == Some(a))
            && self.target.as_ref().is_none_or(|t| e.target.as_ref() == Some(t))
            && self.action.is_none_or(|a| e.action == a)
            && self.from.is_none_or(|f| e.at >= f)
            && self.to.is_none_or(|t| e.at < t)
    }
}
