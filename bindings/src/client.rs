//! [`FieldClient`]: the object the apps hold, wrapping the core's
//! `fengqiao_core::FieldClient`. This module has the constructor and the
//! session (login, logout, current user); each feature adds its methods in its
//! own module with another `#[uniffi::export] impl FieldClient` block.

use std::sync::Arc;
use std::time::Duration;

use fengqiao_core::{ClientOptions, FieldClient as CoreClient, Locale, RetryPolicy};

use crate::error::FengqiaoError;
use crate::runtime::guard;

/// Settings of a [`FieldClient`]. Every field is optional: unset means the
/// core's default, which suits the field.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ClientConfig {
    /// Longest wait to open a connection (ms).
    #[uniffi(default = None)]
    pub connect_timeout_ms: Option<u64>,
    /// Longest wait for one whole request (ms).
    #[uniffi(default = None)]
    pub request_timeout_ms: Option<u64>,
    /// Tries of a request that failed transiently, the first included (at least 1).
    #[uniffi(default = None)]
    pub retry_max_attempts: Option<u32>,
    /// Wait before the second try (ms); doubles each time.
    #[uniffi(default = None)]
    pub retry_initial_backoff_ms: Option<u64>,
    /// Longest wait between tries (ms).
    #[uniffi(default = None)]
    pub retry_max_backoff_ms: Option<u64>,
    /// Operations per push.
    #[uniffi(default = None)]
    pub push_batch_size: Option<u32>,
    /// Changes asked for per pull page.
    #[uniffi(default = None)]
    pub pull_page_limit: Option<u32>,
    /// The photo folder; unset: `<data_dir>/photos`.
    #[uniffi(default = None)]
    pub photo_dir: Option<String>,
    /// Most bytes the photo folder may hold (uploaded originals are evicted over it).
    #[uniffi(default = None)]
    pub photo_budget_bytes: Option<u64>,
    /// The largest upload chunk in bytes (chunks start at 1 MiB and grow while
    /// the link keeps up; a cut re-sends at most one chunk; two are held in
    /// memory). Default 2 MiB.
    #[uniffi(default = None)]
    pub upload_chunk_bytes: Option<u32>,
    /// Use the county policy the server serves (default true); false pins the
    /// app's bundled policy.
    #[uniffi(default = None)]
    pub adopt_server_policy: Option<bool>,
    /// Free space that must stay free: below it new photos are refused with
    /// `storage_low` (default 100 MiB).
    #[uniffi(default = None)]
    pub min_free_bytes: Option<u64>,
    /// Most bytes the core may use in all (store and photos); none: the disk's
    /// free space is the only limit.
    #[uniffi(default = None)]
    pub storage_quota_bytes: Option<u64>,
    /// The county's own CA certificate(s), PEM, trusted beside the public roots.
    #[uniffi(default = None)]
    pub server_ca_pem: Option<String>,
    /// Pins of the county's server keys (`sha256/<base64>` of the key's
    /// SubjectPublicKeyInfo): a server presenting none of them is refused
    /// (`server_not_trusted`) before anything is sent. Give the current and the
    /// next key.
    #[uniffi(default = None)]
    pub server_pins: Option<Vec<String>>,
}

impl ClientConfig {
    /// The core's options: its defaults, overridden by the fields set.
    pub(crate) fn to_options(&self) -> ClientOptions {
        let d = ClientOptions::default();
        let ms = Duration::from_millis;
        ClientOptions {
            connect_timeout: self.connect_timeout_ms.map(ms).unwrap_or(d.connect_timeout),
            request_timeout: self.request_timeout_ms.map(ms).unwrap_or(d.request_timeout),
            retry: RetryPolicy {
                max_attempts: self.retry_max_attempts.unwrap_or(d.retry.max_attempts),
                initial_backoff: self.retry_initial_backoff_ms.map(ms).unwrap_or(d.retry.initial_backoff),
                max_backoff: self.retry_max_backoff_ms.map(ms).unwrap_or(d.retry.max_backoff),
            },
            push_batch_size: self.push_batch_size.unwrap_or(d.push_batch_size),
            pull_page_limit: self.pull_page_limit.unwrap_or(d.pull_page_limit),
            photo_dir: self.photo_dir.as_ref().map(std::path::PathBuf::from).or(d.photo_dir.clone()),
            photo_budget_bytes: self.photo_budget_bytes.unwrap_or(d.photo_budget_bytes),
            upload_chunk_bytes: self.upload_chunk_bytes.unwrap_or(d.upload_chunk_bytes),
            adopt_server_policy: self.adopt_server_policy.unwrap_or(d.adopt_server_policy),
            min_free_bytes: self.min_free_bytes.unwrap_or(d.min_free_bytes),
            storage_quota_bytes: self.storage_quota_bytes.or(d.storage_quota_bytes),
            server_ca_pem: self.server_ca_pem.clone().or(d.server_ca_pem.clone()),
            server_pins: self.server_pins.clone().unwrap_or_else(|| d.server_pins.clone()),
            ..d
        }
    }
}

/// The language of the messages the core returns (errors' `detail`,
/// quarantined ops' messages). The stable codes do not change with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MessageLocale {
    /// Simplified Chinese (the default).
    ZhCn,
    /// English.
    En,
}

impl From<MessageLocale> for Locale {
    fn from(l: MessageLocale) -> Self {
        match l {
            MessageLocale::ZhCn => Locale::ZhCn,
            MessageLocale::En => Locale::En,
        }
    }
}

impl From<Locale> for MessageLocale {
    fn from(l: Locale) -> Self {
        match l {
            Locale::ZhCn => MessageLocale::ZhCn,
            Locale::En => MessageLocale::En,
        }
    }
}

/// The phone core: offline store, outbox and sync with one server.
///
/// One per data dir (the store allows one open client at a time; `close()` /
/// `destroy()` it before opening another on the same dir). Safe to share
/// between threads. Calls that touch the network (`login`, `logout`, `sync`)
/// are `suspend`/`async` and run on the core's own threads; the others read or
/// write the local store only and return quickly.
#[derive(uniffi::Object)]
pub struct FieldClient {
    core: Arc<CoreClient>,
}

impl std::fmt::Debug for FieldClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldClient").finish_non_exhaustive()
    }
}

impl FieldClient {
    /// The wrapped core client.
    pub(crate) fn core(&self) -> &CoreClient {
        &self.core
    }

    /// A shared handle on the core client, for work spawned on the runtime.
    pub(crate) fn core_arc(&self) -> Arc<CoreClient> {
        self.core.clone()
    }
}

#[uniffi::export]
impl FieldClient {
    /// Opens the client on the store in `data_dir` (created if missing) for the
    /// server at `server_url` (e.g. `https://fengqiao.example.gov.cn`).
    /// `store_key` is the app's 32-byte key from the Android Keystore / iOS
    /// Keychain: everything the core keeps is encrypted under it
    /// (`WrongStoreKey` if it does not open an existing store). `config` may
    /// be left out for the defaults.
    #[uniffi::constructor(default(config))]
    pub fn new(
        data_dir: String,
        server_url: String,
        store_key: Vec<u8>,
        config: ClientConfig,
    ) -> Result<Arc<Self>, FengqiaoError> {
        guard(|| {
            let core = CoreClient::open(data_dir, server_url, store_key, config.to_options())?;
            Ok(Arc::new(FieldClient { core: Arc::new(core) }))
        })
    }

    /// Sets the language of the messages the core returns from now on: zh-CN
    /// (the default) or English. It is the app's language, so it holds for
    /// every client in the process; set it at start and when the user changes
    /// the phone's language.
    pub fn set_locale(&self, locale: MessageLocale) {
        self.core.set_locale(locale.into())
    }

    /// The language of the messages the core returns.
    pub fn locale(&self) -> MessageLocale {
        self.core.locale().into()
    }

    /// A time (ms since the epoch) as the county reads it: `YYYY-MM-DD HH:MM`
    /// in the county's zone (its policy's), whatever zone the phone is set to.
    /// Empty for a time out of range.
    pub fn format_time(&self, at_ms: i64) -> String {
        chrono::DateTime::from_timestamp_millis(at_ms).map(|t| self.core.format_time(t)).unwrap_or_default()
    }

    /// A day (ms since the epoch) as the county reads it: `YYYY-MM-DD` in the
    /// county's zone. Empty for a time out of range.
    pub fn format_date(&self, at_ms: i64) -> String {
        chrono::DateTime::from_timestamp_millis(at_ms).map(|t| self.core.format_date(t)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_config_fields_keep_the_core_defaults() {
        let d = ClientOptions::default();
        let o = ClientConfig::default().to_options();
        assert_eq!((o.connect_timeout, o.request_timeout, o.retry), (d.connect_timeout, d.request_timeout, d.retry));
        assert_eq!((o.push_batch_size, o.pull_page_limit), (d.push_batch_size, d.pull_page_limit));
        let o = ClientConfig { request_timeout_ms: Some(1500), retry_max_attempts: Some(1), ..Default::default() }
            .to_options();
        assert_eq!(o.request_timeout, Duration::from_millis(1500));
        assert_eq!(o.retry.max_attempts, 1);
        assert_eq!(o.retry.initial_backoff, d.retry.initial_backoff);
    }

    #[test]
    fn the_countys_ca_and_pins_reach_the_core() {
        let o = ClientConfig::default().to_options();
        assert!(o.server_ca_pem.is_none() && o.server_pins.is_empty());
        let pin = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string();
        let c = ClientConfig {
            server_ca_pem: Some("PEM".into()),
            server_pins: Some(vec![pin.clone()]),
            ..Default::default()
        };
        let o = c.to_options();
        assert_eq!((o.server_ca_pem.as_deref(), o.server_pins), (Some("PEM"), vec![pin]));
        // A malformed pin is refused when the client opens, with its reason.
        let dir = tempfile::tempdir().unwrap();
        let bad = ClientConfig { server_pins: Some(vec!["sha256/short".into()]), ..Default::default() };
        let e = FieldClient::new(dir.path().display().to_string(), "https://127.0.0.1:9".into(), vec![3u8; 32], bad)
            .unwrap_err();
        assert!(matches!(e, FengqiaoError::InvalidInput { ref reason, .. } if reason == "invalid_pin"), "{e:?}");
    }

    #[test]
    fn the_object_forwards_and_returns_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("phone").display().to_string();
        let client =
            FieldClient::new(data.clone(), "http://127.0.0.1:9".into(), vec![3u8; 32], ClientConfig::default())
                .unwrap();
        assert_eq!(client.current_user(), None);
        let e = client.households().unwrap_err();
        assert_eq!(e.code(), "not_logged_in");
        let nv = crate::NewVisit {
            household_id: "not-an-id".into(),
            body: None,
            kind: crate::VisitKind::Routine,
            visited_at_ms: None,
            notes: String::new(),
            location: None,
            leads: vec![],
        };
        assert!(
            matches!(client.record_visit(nv), Err(FengqiaoError::InvalidInput { ref reason, .. }) if reason == "invalid_id")
        );
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        assert_eq!(rt.block_on(client.sync(None, None)).unwrap_err().code(), "not_logged_in");
        assert_eq!(client.sync_status().unwrap().pending_ops, 0);
        // One open client per data dir: a second one is a typed storage error.
        let second = FieldClient::new(data, "http://127.0.0.1:9".into(), vec![3u8; 32], ClientConfig::default());
        assert_eq!(second.unwrap_err().code(), "storage");
    }
}
