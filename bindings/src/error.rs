//! [`FengqiaoError`]: the one error type that crosses the boundary. It mirrors
//! the core's [`ClientError`] variant for variant, keeps its stable codes, and
//! adds [`FengqiaoError::Internal`] for what the boundary itself catches (a
//! panic, an id that is not a UUID, a runtime that would not start).
//!
//! In Kotlin every variant is a subclass of `FengqiaoException` with `code` and
//! `detail` properties (`reason` too for `Rejected` / `InvalidInput`); the base
//! class has `code()` and `detail()` for a uniform `catch`, and `toString()` is
//! the readable message. In Swift it is an `Error` enum with the same shape.

use fengqiao_core::ClientError;

/// What went wrong, as the apps see it. Match on the variant or on
/// [`code`](FengqiaoError::code), a stable string that is never renamed.
/// `detail` is a readable message without personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum FengqiaoError {
    /// No user is signed in on this phone (`not_logged_in`).
    #[error("{detail}")]
    NotLoggedIn {
        /// `not_logged_in`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// Login refused: wrong username or password (`invalid_credentials`).
    #[error("{detail}")]
    InvalidCredentials {
        /// `invalid_credentials`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The server ended the session: log in again; nothing queued was lost
    /// (`session_expired`).
    #[error("{detail}")]
    SessionExpired {
        /// `session_expired`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The server asks to slow down, even after retries (`rate_limited`).
    #[error("{detail}")]
    RateLimited {
        /// `rate_limited`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The server could not be reached (offline, timeout) (`network`).
    #[error("{detail}")]
    Network {
        /// `network`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The server failed (5xx), even after retries (`server`).
    #[error("{detail}")]
    Server {
        /// `server`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The server answered something this build cannot use (`protocol`).
    #[error("{detail}")]
    Protocol {
        /// `protocol`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// A domain rule refused the action, e.g. role or jurisdiction (`rejected`).
    #[error("{detail}")]
    Rejected {
        /// `rejected`.
        code: String,
        /// The domain's rejection code, e.g. `not_in_jurisdiction`.
        reason: String,
        /// Readable message.
        detail: String,
    },
    /// The input is invalid, e.g. notes too long or an id that is not a UUID
    /// (`invalid_input`).
    #[error("{detail}")]
    InvalidInput {
        /// `invalid_input`.
        code: String,
        /// The domain's rejection code (e.g. `invalid_field`), `invalid_input`,
        /// or `invalid_id` for an id the boundary could not read.
        reason: String,
        /// Readable message.
        detail: String,
    },
    /// The thing asked for does not exist (`not_found`).
    #[error("{detail}")]
    NotFound {
        /// `not_found`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The phone's store failed (`storage`).
    #[error("{detail}")]
    Storage {
        /// `storage`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The phone is out of space: disk full, or the photo folder's budget is
    /// spent on photos not yet uploaded. Nothing was written (`storage_full`).
    #[error("{detail}")]
    StorageFull {
        /// `storage_full`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The caller cancelled; queued work is intact (`cancelled`).
    #[error("{detail}")]
    Cancelled {
        /// `cancelled`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The store key does not open this phone's store; nothing was read or
    /// changed (`wrong_store_key`).
    #[error("{detail}")]
    WrongStoreKey {
        /// `wrong_store_key`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The phone is locked: unlock with the PIN or biometrics (`locked`).
    #[error("{detail}")]
    Locked {
        /// `locked`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// A wrong PIN (`wrong_pin`); with 0 attempts left only an online login
    /// opens the phone.
    #[error("{detail}")]
    WrongPin {
        /// `wrong_pin`.
        code: String,
        /// Readable message.
        detail: String,
        /// Attempts left.
        attempts_left: u32,
        /// Seconds before the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// The county revoked this device; the user's local data was removed
    /// (`device_revoked`).
    #[error("{detail}")]
    DeviceRevoked {
        /// `device_revoked`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// Unsynced work would be lost; nothing changed (`unsynced_work`).
    #[error("{detail}")]
    UnsyncedWork {
        /// `unsynced_work`.
        code: String,
        /// Readable message.
        detail: String,
        /// Queued and quarantined operations.
        ops: u64,
        /// Photos not uploaded.
        photos: u64,
    },
    /// Free space is below the threshold: new photos are refused, text still
    /// saves (`storage_low`).
    #[error("{detail}")]
    StorageLow {
        /// `storage_low`.
        code: String,
        /// Readable message.
        detail: String,
    },
    /// The server's certificate was refused before anything was sent: not
    /// signed by a trusted CA, or (with pins set) not one of the county's keys
    /// (`server_not_trusted`). Retrying does not help.
    #[error("{detail}")]
    ServerNotTrusted {
        /// `server_not_trusted`.
        code: String,
        /// `certificate_pin_mismatch` or `certificate_untrusted`.
        reason: String,
        /// Readable message (Chinese).
        detail: String,
    },
    /// A failure caught at the boundary: a panic in Rust, or the runtime
    /// could not start (`internal`). Queued work is intact.
    #[error("{detail}")]
    Internal {
        /// `internal`.
        code: String,
        /// Readable message.
        detail: String,
    },
}

/// Stable code of [`FengqiaoError::Internal`].
pub const INTERNAL: &str = "internal";
/// Reason of the [`FengqiaoError::InvalidInput`] raised for an unreadable id.
pub const INVALID_ID: &str = "invalid_id";

/// `zh` or `en`, by the core's locale (the boundary's own messages).
fn in_locale(zh: &str, en: impl FnOnce() -> String) -> String {
    match fengqiao_core::locale() {
        fengqiao_core::Locale::ZhCn => zh.to_string(),
        fengqiao_core::Locale::En => en(),
    }
}

impl FengqiaoError {
    /// A failure caught at the boundary; `detail` is the English detail (a
    /// panic's text), shown in the English locale only.
    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        let detail = in_locale("手机核心程序出错：请重启应用（本机保存的工作不会丢失）", || detail.into());
        FengqiaoError::Internal { code: INTERNAL.into(), detail }
    }

    /// The call was cancelled; queued work is intact.
    pub(crate) fn cancelled() -> Self {
        let detail = in_locale("已取消（本机保存的工作不会丢失）", || "cancelled".into());
        FengqiaoError::Cancelled { code: "cancelled".into(), detail }
    }

    /// An argument the boundary could not read: `zh` for the screen, `en` in
    /// the English locale.
    pub(crate) fn invalid_input(zh: &str, en: impl FnOnce() -> String) -> Self {
        FengqiaoError::InvalidInput {
            code: "invalid_input".into(),
            reason: "invalid_input".into(),
            detail: in_locale(zh, en),
        }
    }

    /// An id argument that is not a UUID (a fault of the app, not the user's).
    pub(crate) fn invalid_id(what: &str) -> Self {
        FengqiaoError::InvalidInput {
            code: "invalid_input".into(),
            reason: INVALID_ID.into(),
            detail: in_locale("编号无效：应用传来的编号不是有效的编号，请更新应用", || {
                format!("{what}: not a valid id")
            }),
        }
    }
}

#[uniffi::export]
impl FengqiaoError {
    /// The stable code: `not_logged_in`, `invalid_credentials`, `session_expired`,
    /// `rate_limited`, `network`, `server`, `protocol`, `rejected`,
    /// `invalid_input`, `not_found`, `storage`, `storage_full`, `cancelled`,
    /// `server_not_trusted` or `internal`.
    pub fn code(&self) -> String {
        match self {
            FengqiaoError::NotLoggedIn { code, .. }
            | FengqiaoError::InvalidCredentials { code, .. }
            | FengqiaoError::SessionExpired { code, .. }
            | FengqiaoError::RateLimited { code, .. }
            | FengqiaoError::Network { code, .. }
            | FengqiaoError::Server { code, .. }
            | FengqiaoError::Protocol { code, .. }
            | FengqiaoError::Rejected { code, .. }
            | FengqiaoError::InvalidInput { code, .. }
            | FengqiaoError::NotFound { code, .. }
            | FengqiaoError::Storage { code, .. }
            | FengqiaoError::StorageFull { code, .. }
            | FengqiaoError::Cancelled { code, .. }
            | FengqiaoError::WrongStoreKey { code, .. }
            | FengqiaoError::Locked { code, .. }
            | FengqiaoError::WrongPin { code, .. }
            | FengqiaoError::DeviceRevoked { code, .. }
            | FengqiaoError::UnsyncedWork { code, .. }
            | FengqiaoError::StorageLow { code, .. }
            | FengqiaoError::ServerNotTrusted { code, .. }
            | FengqiaoError::Internal { code, .. } => code.clone(),
        }
    }

    /// The readable message.
    pub fn detail(&self) -> String {
        self.to_string()
    }

    /// True for failures that may pass by themselves (network, server, rate
    /// limit): worth a later retry.
    pub fn is_transient(&self) -> bool {
        matches!(self, FengqiaoError::Network { .. } | FengqiaoError::Server { .. } | FengqiaoError::RateLimited { .. })
    }
}

impl From<ClientError> for FengqiaoError {
    fn from(e: ClientError) -> Self {
        let code = e.code().to_string();
        let detail = e.to_string();
        match e {
            ClientError::NotLoggedIn => FengqiaoError::NotLoggedIn { code, detail },
            ClientError::InvalidCredentials => FengqiaoError::InvalidCredentials { code, detail },
            ClientError::SessionExpired => FengqiaoError::SessionExpired { code, detail },
            ClientError::RateLimited => FengqiaoError::RateLimited { code, detail },
            ClientError::Network { .. } => FengqiaoError::Network { code, detail },
            ClientError::Server { .. } => FengqiaoError::Server { code, detail },
            ClientError::Protocol { .. } => FengqiaoError::Protocol { code, detail },
            ClientError::Rejected { reason, .. } => FengqiaoError::Rejected { code, reason, detail },
            ClientError::InvalidInput { reason, .. } => FengqiaoError::InvalidInput { code, reason, detail },
            ClientError::NotFound { .. } => FengqiaoError::NotFound { code, detail },
            ClientError::Storage { .. } => FengqiaoError::Storage { code, detail },
            ClientError::StorageFull { .. } => FengqiaoError::StorageFull { code, detail },
            ClientError::Cancelled => FengqiaoError::Cancelled { code, detail },
            ClientError::WrongStoreKey => FengqiaoError::WrongStoreKey { code, detail },
            ClientError::Locked => FengqiaoError::Locked { code, detail },
            ClientError::WrongPin { attempts_left, retry_after_secs } => {
                FengqiaoError::WrongPin { code, detail, attempts_left, retry_after_secs }
            }
            ClientError::DeviceRevoked => FengqiaoError::DeviceRevoked { code, detail },
            ClientError::UnsyncedWork { ops, photos } => FengqiaoError::UnsyncedWork { code, detail, ops, photos },
            ClientError::StorageLow { .. } => FengqiaoError::StorageLow { code, detail },
            ClientError::ServerNotTrusted { reason, .. } => FengqiaoError::ServerNotTrusted { code, reason, detail },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_client_errors() -> Vec<ClientError> {
        let m = || "m".to_string();
        vec![
            ClientError::NotLoggedIn,
            ClientError::InvalidCredentials,
            ClientError::SessionExpired,
            ClientError::RateLimited,
            ClientError::Network { message: m() },
            ClientError::Server { message: m() },
            ClientError::Protocol { message: m() },
            ClientError::Rejected { reason: "not_in_jurisdiction".into(), message: m() },
            ClientError::InvalidInput { reason: "invalid_field".into(), message: m() },
            ClientError::NotFound { message: m() },
            ClientError::Storage { message: m() },
            ClientError::StorageFull { message: m() },
            ClientError::Cancelled,
            ClientError::WrongStoreKey,
            ClientError::Locked,
            ClientError::WrongPin { attempts_left: 3, retry_after_secs: 60 },
            ClientError::DeviceRevoked,
            ClientError::UnsyncedWork { ops: 2, photos: 1 },
            ClientError::StorageLow { message: m() },
            ClientError::ServerNotTrusted { reason: "certificate_pin_mismatch".into(), message: m() },
        ]
    }

    #[test]
    fn every_client_error_keeps_its_code_message_and_transience() {
        for e in all_client_errors() {
            let f = FengqiaoError::from(e.clone());
            assert_eq!(f.code(), e.code(), "{e:?}");
            assert_eq!(f.detail(), e.to_string(), "{e:?}");
            assert_eq!(f.is_transient(), e.is_transient(), "{e:?}");
        }
    }

    #[test]
    fn rejections_keep_the_domain_reason() {
        let f = FengqiaoError::from(ClientError::Rejected { reason: "role_not_allowed".into(), message: "no".into() });
        assert!(matches!(f, FengqiaoError::Rejected { ref reason, .. } if reason == "role_not_allowed"));
        let f = FengqiaoError::invalid_id("household_id");
        assert_eq!(f.code(), "invalid_input");
        assert!(matches!(f, FengqiaoError::InvalidInput { ref reason, .. } if reason == INVALID_ID));
        assert_eq!(FengqiaoError::internal("x").code(), INTERNAL);
    }
}
