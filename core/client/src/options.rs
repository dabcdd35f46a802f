//! [`ClientOptions`]: the phone core's settings (timeouts, retries, batch
//! sizes, policy, photo folder limits), with defaults that suit the field.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fengqiao_domain::policy::Policy;

use crate::clock::{Clock, SystemClock};
use crate::retry::RetryPolicy;

/// Settings of a [`crate::FieldClient`]. `Default` suits the field.
#[derive(Clone)]
pub struct ClientOptions {
    /// Longest wait to open a connection.
    pub connect_timeout: Duration,
    /// Longest wait for a whole request.
    pub request_timeout: Duration,
    /// Retries of transient failures within one call.
    pub retry: RetryPolicy,
    /// Ops per push (1..=500, default 500; the server takes at most
    /// `policy.sync.max_push_ops`). A batch is also cut short to fit the
    /// policy's `sync.max_push_bytes`.
    pub push_batch_size: u32,
    /// Changes asked for per pull page.
    pub pull_page_limit: u32,
    /// Refresh the access token when it expires within this margin.
    pub token_refresh_margin: Duration,
    /// The county policy used to validate input offline (until the server serves
    /// one, see `adopt_server_policy`).
    pub policy: Policy,
    /// Use the policy the server serves (`GET /v1/policy`, refreshed on every
    /// sync) instead of `policy` once one has been received. On by default; an app
    /// build may pin its bundled policy (e.g. while a county rolls a new one out).
    pub adopt_server_policy: bool,
    /// The clock (tests inject [`crate::ManualClock`]).
    pub clock: Arc<dyn Clock>,
    /// The photo folder; `None`: `<data_dir>/photos` for [`crate::FieldClient::open`],
    /// no photos for [`crate::FieldClient::with_store`].
    pub photo_dir: Option<PathBuf>,
    /// Most bytes the photo folder may hold. Over it, originals of uploaded
    /// photos are evicted (oldest first); photos not yet uploaded never are, and
    /// attaching one more that does not fit fails with `storage_full`.
    pub photo_budget_bytes: u64,
    /// The largest upload chunk in bytes (each PATCH; progress is saved after
    /// each; a cut connection re-sends at most one). Chunks start at 1 MiB (or
    /// this, if smaller) and double while they are answered within half a second,
    /// up to this; slow or refused chunks halve them again. The uploader holds
    /// at most two chunks in memory (ADR 0020). Default 2 MiB.
    pub upload_chunk_bytes: u32,
    /// Free space that must stay free: below it new photos are refused with
    /// `storage_low` (after evicting originals the server has); text records
    /// still save.
    pub min_free_bytes: u64,
    /// Most bytes the core may use in all (store and photos); `None`: the
    /// disk's free space is the only limit.
    pub storage_quota_bytes: Option<u64>,
    /// The county's own CA certificate(s), PEM, trusted beside the public roots
    /// (for a server whose certificate the county issues itself).
    pub server_ca_pem: Option<String>,
    /// Pins of the county's server keys, `sha256/<base64>` of a certificate's
    /// SubjectPublicKeyInfo (the server's key, or its CA's when the chain
    /// carries it); with any set, a server presenting none of them is refused
    /// (`server_not_trusted`, reason `certificate_pin_mismatch`) before
    /// anything is sent. Give the current key and the next one, so a renewal
    /// does not lock the phones out.
    pub server_pins: Vec<String>,
    /// gzip on the wire: answers asked for compressed, pushes sent compressed to
    /// a server that says it takes them (ADR 0034). On by default.
    pub compress: bool,
    /// How requests reach the server; `None`: reqwest, configured from the
    /// settings above (TLS, gzip, timeouts). A simulator supplies its own
    /// network here ([`crate::transport`]).
    pub transport: Option<Arc<dyn crate::transport::Transport>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            push_batch_size: 500,
            pull_page_limit: 500,
            token_refresh_margin: Duration::from_secs(60),
            policy: Policy::default(),
            adopt_server_policy: true,
            clock: Arc::new(SystemClock),
            photo_dir: None,
            photo_budget_bytes: 500 * 1024 * 1024,
            upload_chunk_bytes: 2 * 1024 * 1024,
            min_free_bytes: 100 * 1024 * 1024,
            storage_quota_bytes: None,
            server_ca_pem: None,
            server_pins: Vec::new(),
            compress: true,
            transport: None,
        }
    }
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("push_batch_size", &self.push_batch_size)
            .field("pull_page_limit", &self.pull_page_limit)
            .field("token_refresh_margin", &self.token_refresh_margin)
            .field("photo_budget_bytes", &self.photo_budget_bytes)
            .field("upload_chunk_bytes", &self.upload_chunk_bytes)
            .field("min_free_bytes", &self.min_free_bytes)
            .field("storage_quota_bytes", &self.storage_quota_bytes)
            .field("server_ca_pem", &self.server_ca_pem.is_some())
            .field("server_pins", &self.server_pins)
            .field("compress", &self.compress)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}
