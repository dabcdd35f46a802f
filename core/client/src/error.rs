//! Errors in two tiers: the rich internal [`Error`] used inside the crate, and
//! the small public [`ClientError`] with stable string codes that crosses the
//! API (and later the FFI). `From<Error> for ClientError` is the one conversion
//! point, and where failures are logged — by code, never with personal data.

use fengqiao_domain::{Rejection, RejectionCode};

use crate::store::StoreError;

/// The crate's internal error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("not logged in")]
    NotLoggedIn,
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("the session has expired: log in again")]
    SessionExpired,
    #[error("the server asks to slow down: try again later")]
    RateLimited,
    #[error("network: {0}")]
    Network(String),
    #[error("server error (HTTP {status}, {code})")]
    Server { status: u16, code: String },
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// HTTP 401 with the server's code (`unauthorized`, `token_expired`, ...).
    #[error("not authorised by the server ({0})")]
    Unauthorized(String),
    /// A 4xx other than 401/429: the server refused the request as such.
    #[error("the server refused the request (HTTP {status}, {})", .body.code)]
    Refused { status: u16, body: fengqiao_domain::wire::ErrorBody },
    /// Refused by a domain rule on who may do what.
    #[error("{}", .0.message)]
    Rejected(Rejection),
    /// The input breaks a domain validation rule.
    #[error("{}", .0.message)]
    Invalid(Rejection),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Input refused by a rule of the core itself, with its own stable reason
    /// (e.g. `photo_not_a_file`) and a message in Chinese for the screen.
    #[error("{message}")]
    BadInput { reason: &'static str, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Out of disk, or over the photo budget: nothing was written.
    #[error("storage full: {0}")]
    StorageFull(String),
    #[error("cancelled")]
    Cancelled,
    /// Every case number held on this phone is spent.
    #[error("no case numbers left on this phone: connect once to reserve more")]
    NoCaseNumbers,
    #[error("the phone is locked")]
    Locked,
    #[error("wrong PIN")]
    WrongPin { attempts_left: u32, retry_after_secs: u64 },
    #[error("this device was revoked")]
    DeviceRevoked,
    #[error("unsynced work would be lost")]
    UnsyncedWork { ops: u64, photos: u64 },
    #[error("storage low: {0}")]
    StorageLow(String),
    /// The server's certificate failed a check (reason [`crate::tls::PIN_MISMATCH`]
    /// or [`crate::tls::UNTRUSTED`]); nothing was sent.
    #[error("the server's certificate was refused ({0})")]
    ServerNotTrusted(&'static str),
}

impl Error {
    /// A refusal by the domain's rules, in the tier the app sees: a fault of
    /// the input's own fields (`invalid_field`, `text_too_long`) is invalid
    /// input; any other code is a rule refusing the act (`rejected`). The one
    /// place that tells them apart, for every operation.
    pub(crate) fn refused(r: Rejection) -> Error {
        match r.code {
            RejectionCode::InvalidField | RejectionCode::TextTooLong => Error::Invalid(r),
            _ => Error::Rejected(r),
        }
    }
}

/// What went wrong, as the app sees it. Match on the variant or on
/// [`ClientError::code`] (stable strings, never renamed). `Display` is the
/// message for the screen in the process's locale ([`crate::set_locale`];
/// zh-CN by default), [`ClientError::message`] in a given one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// No user is signed in on this phone.
    NotLoggedIn,
    /// Login refused: wrong username or password.
    InvalidCredentials,
    /// The server no longer honours the session: log in again (as the same user
    /// to send that user's queued work). Nothing queued was lost.
    SessionExpired,
    /// The server asks to slow down (HTTP 429), even after retries.
    RateLimited,
    /// The server could not be reached (offline, timeout), even after retries.
    Network {
        /// What failed.
        message: String,
    },
    /// The server failed (5xx), even after retries.
    Server {
        /// What failed.
        message: String,
    },
    /// The server answered something this build cannot use.
    Protocol {
        /// What was wrong.
        message: String,
    },
    /// A domain rule refused the action (e.g. role or jurisdiction).
    Rejected {
        /// The domain's rejection code (e.g. `not_in_jurisdiction`).
        reason: String,
        /// Human message.
        message: String,
    },
    /// The input is invalid (e.g. notes too long).
    InvalidInput {
        /// The domain's rejection code (e.g. `invalid_field`) or `invalid_input`.
        reason: String,
        /// Human message.
        message: String,
    },
    /// The thing asked for does not exist (e.g. no such quarantined op).
    NotFound {
        /// What was not found.
        message: String,
    },
    /// The phone's store failed.
    Storage {
        /// What failed.
        message: String,
    },
    /// The phone is out of space (disk full, or the photo folder's budget is
    /// spent on photos not yet uploaded). Nothing was written.
    StorageFull {
        /// What ran out.
        message: String,
    },
    /// The caller cancelled; queued work is intact.
    Cancelled,
    /// The store key handed to `open` does not open this phone's store.
    /// Nothing was read or changed; try the key the store was made with.
    WrongStoreKey,
    /// The phone is locked: unlock it with the user's PIN (or the platform's
    /// biometric check) first. Nothing was read or changed.
    Locked,
    /// The PIN was wrong. After too many, unlocking waits `retry_after_secs`,
    /// and after the last allowed attempt only an online login opens it.
    WrongPin {
        /// Attempts left before only an online login opens the phone.
        attempts_left: u32,
        /// Seconds before the next attempt is accepted (0: now).
        retry_after_secs: u64,
    },
    /// The server has revoked this device (a lost phone): the user's local
    /// data was wiped after sending what the server still accepted.
    DeviceRevoked,
    /// Refused because unsynced work would be lost (e.g. wiping the phone
    /// without `force`). Nothing was changed.
    UnsyncedWork {
        /// Queued and quarantined operations.
        ops: u64,
        /// Photos not uploaded yet.
        photos: u64,
    },
    /// Free space is below the safety threshold: new photos are refused
    /// (text records still save). Sync, or free space on the phone.
    StorageLow {
        /// What is low.
        message: String,
    },
    /// The server's certificate was refused, so the connection was closed
    /// before anything was sent: it is not signed by a trusted CA (the public
    /// ones or the county's own), or, with pins set, its key is not one of the
    /// county's. Retrying does not help; the county's administrator must.
    ServerNotTrusted {
        /// `certificate_pin_mismatch` or `certificate_untrusted`.
        reason: String,
        /// Message for the screen (Chinese).
        message: String,
    },
}

impl ClientError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::NotLoggedIn => "not_logged_in",
            ClientError::InvalidCredentials => "invalid_credentials",
            ClientError::SessionExpired => "session_expired",
            ClientError::RateLimited => "rate_limited",
            ClientError::Network { .. } => "network",
            ClientError::Server { .. } => "server",
            ClientError::Protocol { .. } => "protocol",
            ClientError::Rejected { .. } => "rejected",
            ClientError::InvalidInput { .. } => "invalid_input",
            ClientError::NotFound { .. } => "not_found",
            ClientError::Storage { .. } => "storage",
            ClientError::StorageFull { .. } => "storage_full",
            ClientError::Cancelled => "cancelled",
            ClientError::WrongStoreKey => "wrong_store_key",
            ClientError::Locked => "locked",
            ClientError::WrongPin { .. } => "wrong_pin",
            ClientError::DeviceRevoked => "device_revoked",
            ClientError::UnsyncedWork { .. } => "unsynced_work",
            ClientError::StorageLow { .. } => "storage_low",
            ClientError::ServerNotTrusted { .. } => "server_not_trusted",
        }
    }

    /// True for failures that may pass by themselves (network, server, rate limit).
    pub fn is_transient(&self) -> bool {
        matches!(self, ClientError::Network { .. } | ClientError::Server { .. } | ClientError::RateLimited)
    }
}

impl From<Error> for ClientError {
    fn from(e: Error) -> Self {
        let out = match e {
            Error::NotLoggedIn => ClientError::NotLoggedIn,
            Error::InvalidCredentials => ClientError::InvalidCredentials,
            Error::SessionExpired => ClientError::SessionExpired,
            Error::RateLimited => ClientError::RateLimited,
            Error::Network(m) => ClientError::Network { message: m },
            e @ Error::Server { .. } => ClientError::Server { message: e.to_string() },
            Error::Protocol(m) => ClientError::Protocol { message: m },
            Error::Unauthorized(_) => ClientError::SessionExpired,
            // the server's own words when they are plain Chinese, else what was refused
            Error::Refused { body, .. } if body.message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) => {
                ClientError::Protocol { message: body.message }
            }
            e @ Error::Refused { .. } => ClientError::Protocol { message: e.to_string() },
            Error::Rejected(r) => ClientError::Rejected { reason: r.code.as_str().into(), message: r.message },
            Error::Invalid(r) => ClientError::InvalidInput { reason: r.code.as_str().into(), message: r.message },
            Error::InvalidInput(m) => ClientError::InvalidInput { reason: "invalid_input".into(), message: m },
            Error::BadInput { reason, message } => ClientError::InvalidInput { reason: reason.into(), message },
            Error::NotFound(m) => ClientError::NotFound { message: m },
            Error::Store(StoreError::WrongKey) => ClientError::WrongStoreKey,
            Error::Store(StoreError::InvalidKey(m)) => {
                ClientError::InvalidInput { reason: "invalid_store_key".into(), message: m }
            }
            Error::Store(s) => ClientError::Storage { message: s.to_string() },
            Error::StorageFull(m) => ClientError::StorageFull { message: m },
            Error::Cancelled => ClientError::Cancelled,
            e @ Error::NoCaseNumbers => {
                ClientError::Rejected { reason: "no_case_numbers".into(), message: e.to_string() }
            }
            Error::Locked => ClientError::Locked,
            Error::WrongPin { attempts_left, retry_after_secs } => {
                ClientError::WrongPin { attempts_left, retry_after_secs }
            }
            Error::DeviceRevoked => ClientError::DeviceRevoked,
            Error::UnsyncedWork { ops, photos } => ClientError::UnsyncedWork { ops, photos },
            Error::StorageLow(m) => ClientError::StorageLow { message: m },
            Error::ServerNotTrusted(reason) => ClientError::ServerNotTrusted {
                reason: reason.into(),
                message: match reason {
                    crate::tls::PIN_MISMATCH => crate::tls::PIN_MISMATCH_MESSAGE,
                    _ => crate::tls::UNTRUSTED_MESSAGE,
                }
                .into(),
            },
        };
        // Codes only: messages may echo server text, never personal data, but
        // keep the log minimal anyway.
        match &out {
            ClientError::Storage { .. } | ClientError::Protocol { .. } | ClientError::ServerNotTrusted { .. } => {
                tracing::error!(code = out.code(), "client call failed")
            }
            _ => tracing::debug!(code = out.code(), "client call failed"),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengqiao_domain::RejectionCode;

    #[test]
    fn codes_are_stable_and_rejections_keep_domain_code() {
        let e: ClientError = Error::Invalid(Rejection::new(RejectionCode::InvalidField, "notes: too long")).into();
        assert_eq!(e.code(), "invalid_input");
        assert_eq!(e, ClientError::InvalidInput { reason: "invalid_field".into(), message: "notes: too long".into() });
        let e: ClientError = Error::Rejected(Rejection::new(RejectionCode::NotInJurisdiction, "x")).into();
        assert_eq!(
            (e.code(), e.to_string()),
            ("rejected", crate::reason_text("not_in_jurisdiction", crate::Locale::ZhCn))
        );
        let e: ClientError = Error::Store(StoreError::Backend("disk full".into())).into();
        assert_eq!(e.code(), "storage");
        let e: ClientError = Error::Server { status: 503, code: "unavailable".into() }.into();
        assert!(e.is_transient());
        assert_eq!(e.code(), "server");
        assert!(!ClientError::SessionExpired.is_transient());
        assert_eq!(ClientError::from(Error::Cancelled).code(), "cancelled");
        assert_eq!(ClientError::from(Error::StorageFull("budget".into())).code(), "storage_full");
        assert_eq!(ClientError::from(Error::Network("offline".into())).code(), "network");
        // a refusal in the server's plain Chinese reaches the screen in its words
        let body = |message: &str| fengqiao_domain::wire::ErrorBody {
            code: "too_many_blocks".into(),
            message: message.into(),
            op_index: None,
        };
        let e = ClientError::from(Error::Refused { status: 409, body: body("案件编号段：已达上限") });
        assert_eq!(e.message(crate::Locale::ZhCn), "服务器答复：案件编号段：已达上限");
        let e = ClientError::from(Error::Refused { status: 409, body: body("too many") });
        assert!(e.message(crate::Locale::ZhCn).starts_with("服务器的答复本机无法使用"), "{e:?}");
    }
}
