//! [`FieldClient`]: the one entry point the apps use (wrapped by UniFFI in
//! `bindings/`): opening, the policy, sign-in, sync and the quarantine.
//! Recording and listing work fully offline; only `login`, `logout` and `sync`
//! touch the network.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use fengqiao_domain::org::OrgUnit;
use fengqiao_domain::policy::Policy;
use fengqiao_domain::wire::{LoginRequest, RefreshRequest, UserInfo};
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use crate::api::{Api, Timeouts};
use crate::error::{ClientError, Error};
use crate::photo_folder::BlobDir;
use crate::progress::{SyncProgress, SyncReport};
use crate::retry::{with_retry, CancelHandle};
use crate::session::{session_from, Ctx};
use crate::store::{
    ClientStore, QuarantinedEntry, SledClientStore, StoreError, StoreRecovery, StoredSession, SyncErrorInfo,
};
use crate::store::{StoreKey, Vault};
use crate::sync::Engine;

pub use crate::options::ClientOptions;

/// Stable reason of [`FieldClient::open`] refusing an empty data-dir path.
pub const EMPTY_DATA_DIR: &str = "empty_data_dir";

/// An operation the server refused, waiting for the user to retry or discard it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantinedOp {
    /// The operation's id (pass to retry / discard).
    pub op_id: Uuid,
    /// Its kind as on the wire (e.g. `record_visit`).
    pub kind: String,
    /// The record it carries, if any.
    pub record_id: Option<Uuid>,
    /// Stable code: a domain rejection code, `conflict`, `malformed_op`, ...
    pub code: String,
    /// The server's message for the screen, in the core's locale (the text of
    /// its code when the server's is in another language).
    pub message: String,
    /// For a conflict: the server's current record.
    pub current: Option<Record>,
    /// When it was quarantined (device clock).
    pub quarantined_at: DateTime<Utc>,
}

/// The sync status screen.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    /// Ops waiting to be pushed (the signed-in user's; everyone's if none is).
    pub pending_ops: u64,
    /// Ops queued by other users of this phone, waiting for them to sign in.
    pub waiting_for_other_users: u64,
    /// End of the last sync that completed without error.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The last sync's error (cleared by a successful sync).
    pub last_error: Option<SyncErrorInfo>,
    /// The signed-in user's quarantined ops.
    pub quarantined: Vec<QuarantinedOp>,
    /// The server ended the session: log in again to sync.
    pub session_expired: bool,
    /// The signed-in user's photos still to upload (waiting for their record,
    /// or partly sent; everyone's if nobody is signed in).
    pub photos_pending: u64,
    /// The signed-in user's photos that failed for good (see [`FieldClient::photo_states`]).
    pub photos_failed: u64,
}

/// The phone core: offline store, outbox and sync with one server.
pub struct FieldClient {
    pub(crate) store: Arc<dyn ClientStore>,
    pub(crate) api: Api,
    pub(crate) options: ClientOptions,
    /// The photo folder, if photos are enabled.
    pub(crate) photos: Option<BlobDir>,
    /// Serialises photo imports and evictions.
    pub(crate) photo_lock: std::sync::Mutex<()>,
    /// Serialises login, logout and sync (one token holder at a time, so a
    /// rotated refresh token is never spent twice).
    pub(crate) net: tokio::sync::Mutex<()>,
    /// The county policy last parsed from the store (its JSON and the result).
    pub(crate) policy_cache: std::sync::Mutex<Option<(String, Arc<Policy>)>>,
    /// The data dir of a client opened on disk (key rotation, disk use).
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// Whether the device lock is open this run (see [`FieldClient::unlock`]).
    pub(crate) unlocked: std::sync::atomic::AtomicBool,
    /// Serialises working out and acknowledging notices (see [`crate::notices`]).
    pub(crate) notice_lock: std::sync::Mutex<()>,
}

impl std::fmt::Debug for FieldClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldClient").field("options", &self.options).finish_non_exhaustive()
    }
}

fn quarantined_op(q: QuarantinedEntry) -> QuarantinedOp {
    let record_id = Some(q.op.op.record_ref().1);
    QuarantinedOp {
        op_id: q.op.op_id,
        kind: q.op.op.kind_name().into(),
        record_id,
        message: crate::messages::refusal(&q.code, &q.message, crate::messages::locale()),
        code: q.code,
        current: q.current,
        quarantined_at: q.quarantined_at,
    }
}

impl FieldClient {
    /// Opens the client on the sled store in `data_dir` (created if missing;
    /// an empty path is refused: `invalid_input`, reason `empty_data_dir`)
    /// for the server at `server_url`. `store_key` is the app's 32-byte key
    /// from the platform keystore: everything the core keeps is encrypted
    /// under it (`wrong_store_key` if it does not open an existing store;
    /// nothing is changed then).
    pub fn open(
        data_dir: String,
        server_url: String,
        store_key: Vec<u8>,
        options: ClientOptions,
    ) -> Result<FieldClient, ClientError> {
        if data_dir.trim().is_empty() {
            // An empty path would put the store in the process's current folder.
            return Err(Error::BadInput {
                reason: EMPTY_DATA_DIR, message: "数据目录的路径不能为空".into()
            }
            .into());
        }
        let key = StoreKey::from_bytes(&store_key).map_err(Error::from)?;
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| Error::Store(crate::store::StoreError::Backend(format!("data dir: {e}"))))?;
        let store = SledClientStore::open(&data_dir, &key).map_err(Error::from)?;
        let mut options = options;
        if options.photo_dir.is_none() {
            options.photo_dir = Some(Path::new(&data_dir).join("photos"));
        }
        let mut client = FieldClient::with_store(Arc::new(store), server_url, options)?;
        client.data_dir = Some(Path::new(&data_dir).to_path_buf());
        Ok(client)
    }

    /// Re-wraps the store's key: afterwards the store opens only with
    /// `new_key` (durable when this returns; `current_key` must open it).
    /// The data is not re-encrypted: its random data key is what the app's
    /// key wraps (ADR 0010).
    pub fn rotate_store_key(&self, current_key: Vec<u8>, new_key: Vec<u8>) -> Result<(), ClientError> {
        let run = || -> Result<(), Error> {
            let dir = self.data_dir.as_ref().ok_or_else(|| Error::InvalidInput("this store is not on disk".into()))?;
            let current = StoreKey::from_bytes(&current_key)?;
            let new = StoreKey::from_bytes(&new_key)?;
            SledClientStore::rotate_key(dir, &current, &new)?;
            tracing::info!("store key rotated");
            Ok(())
        };
        Ok(run()?)
    }

    /// Rebuilds the phone store in `data_dir` after [`open`](Self::open) refused
    /// it as damaged (a `storage` error saying so): the damaged files are moved
    /// into `data_dir/damaged-<time>/`, a fresh store is made and every
    /// operation from the outbox journal is queued again. Log in and sync
    /// afterwards: the server applies each op once (answering `duplicate` for
    /// those it already had) and the pull brings the rest back. A store that
    /// opens cleanly is left alone (`invalid_input`).
    pub fn recover_store(data_dir: String, store_key: Vec<u8>) -> Result<StoreRecovery, ClientError> {
        let key = StoreKey::from_bytes(&store_key).map_err(Error::from)?;
        match SledClientStore::open(&data_dir, &key) {
            Ok(_) => Err(Error::InvalidInput("the store is not damaged: nothing to recover".into()).into()),
            Err(StoreError::Damaged { .. }) => Ok(SledClientStore::recover(&data_dir, &key).map_err(Error::from)?),
            Err(e) => Err(Error::from(e).into()),
        }
    }

    /// Opens the client on any store (e.g. [`crate::MemoryClientStore`]).
    pub fn with_store(
        store: Arc<dyn ClientStore>,
        server_url: String,
        options: ClientOptions,
    ) -> Result<FieldClient, ClientError> {
        crate::tls::require_https(&server_url, &options.server_pins)?;
        let tls = crate::tls::client_config(options.server_ca_pem.as_deref(), &options.server_pins)?;
        let timeouts = Timeouts { connect: options.connect_timeout, request: options.request_timeout };
        let mut api = Api::with_tls(&server_url, timeouts, options.compress, tls)?;
        if let Some(transport) = &options.transport {
            api = api.over(transport.clone());
        }
        let vault = store.vault().unwrap_or_else(|| Arc::new(Vault::ephemeral()));
        let photos = match &options.photo_dir {
            Some(dir) => Some(BlobDir::open(dir, vault)?),
            None => None,
        };
        Ok(FieldClient {
            store,
            api,
            options,
            photos,
            photo_lock: std::sync::Mutex::new(()),
            net: tokio::sync::Mutex::new(()),
            policy_cache: std::sync::Mutex::new(None),
            data_dir: None,
            unlocked: std::sync::atomic::AtomicBool::new(false),
            notice_lock: std::sync::Mutex::new(()),
        })
    }

    pub(crate) fn ctx<'a>(&'a self, cancel: Option<&'a CancelHandle>) -> Ctx<'a> {
        Ctx {
            store: &*self.store,
            api: &self.api,
            clock: &*self.options.clock,
            retry: &self.options.retry,
            refresh_margin: chrono::Duration::from_std(self.options.token_refresh_margin)
                .unwrap_or_else(|_| chrono::Duration::seconds(60)),
            cancel,
        }
    }

    /// The county policy this client checks input against (dispute kinds,
    /// focus areas, subsidy rates, deadlines), for the app's pickers: as the server
    /// last served it (refreshed on every sync), else the one in `ClientOptions`.
    pub fn policy(&self) -> Arc<Policy> {
        // The served policy's JSON, or "" for the one in `ClientOptions`.
        let served = if self.options.adopt_server_policy {
            self.store.sync_meta().ok().and_then(|m| m.county_policy)
        } else {
            None
        };
        let text = served.unwrap_or_default();
        let mut cache = self.policy_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((raw, p)) = cache.as_ref() {
            if *raw == text {
                return p.clone();
            }
        }
        let parsed = if text.is_empty() { None } else { serde_json::from_str::<Policy>(&text).ok() };
        let p = Arc::new(parsed.unwrap_or_else(|| self.options.policy.clone()));
        *cache = Some((text, p.clone()));
        p
    }
    /// The cached session, once the device lock is open.
    pub(crate) fn session(&self) -> Result<StoredSession, Error> {
        self.gate()?;
        self.store.load_session()?.ok_or(Error::NotLoggedIn)
    }

    /// Signs in. Another user's queued ops stay queued (they wait for that
    /// user); records pulled for another user are dropped.
    pub async fn login(&self, username: String, password: String) -> Result<UserInfo, ClientError> {
        let _net = self.net.lock().await;
        Ok(self.login_inner(username, password).await?)
    }

    async fn login_inner(&self, username: String, password: String) -> Result<UserInfo, Error> {
        let req = LoginRequest { username, password, device_id: Some(self.store.device_id()?) };
        let api = &self.api;
        let res = with_retry(&self.options.retry, None, false, || api.login(&req)).await;
        let tokens = match res {
            Ok(t) => t,
            Err(Error::Unauthorized(_)) => return Err(Error::InvalidCredentials),
            Err(e) => return Err(e),
        };
        let previous = self.store.load_session()?;
        if let Some(prev) = &previous {
            if prev.user.id != tokens.user.id {
                if let Some(t) = &prev.tokens {
                    // Best effort: the other user's refresh token should not outlive its use here.
                    let _ = self
                        .api
                        .logout(&RefreshRequest { refresh_token: t.refresh_token.clone(), device_id: None })
                        .await;
                }
            }
        }
        if self.store.pull_state()?.is_some_and(|p| p.user != tokens.user.id) {
            self.store.reset_pulled()?;
        }
        let session = session_from(tokens, self.options.clock.now());
        self.store.save_session(&session)?;
        self.after_login(&session.user)?;
        tracing::info!(user = %session.user.id, "logged in");
        Ok(session.user)
    }

    /// Signs out: revokes the refresh token on the server when reachable, forgets
    /// the session and the pulled records. Queued and quarantined ops and the
    /// records they carry are never deleted.
    /// While the user's PIN lock is closed this is refused (`locked`, nothing
    /// changed): whoever holds a locked phone cannot sign its user out. Unlock
    /// first, or use [`logout_with_password`](Self::logout_with_password).
    pub async fn logout(&self) -> Result<(), ClientError> {
        let _net = self.net.lock().await;
        let inner = async {
            self.gate()?;
            self.logout_inner().await
        };
        Ok(inner.await?)
    }

    /// Signs out a locked phone with the signed-in user's password, checked
    /// by the server (online; a wrong one: `invalid_credentials`, offline:
    /// `network`, and nothing changed). Otherwise as [`logout`](Self::logout).
    pub async fn logout_with_password(&self, password: String) -> Result<(), ClientError> {
        let _net = self.net.lock().await;
        let inner = async {
            let Some(session) = self.store.load_session()? else { return self.logout_inner().await };
            let old = session.tokens.map(|t| t.refresh_token);
            self.login_inner(session.user.username, password).await?;
            if let Some(refresh_token) = old {
                // The session the password replaced ends too.
                if let Err(e) = self.api.logout(&RefreshRequest { refresh_token, device_id: None }).await {
                    tracing::warn!(transient = e.is_transient(), "could not revoke the session on the server");
                }
            }
            self.logout_inner().await
        };
        Ok(inner.await?)
    }

    /// Revokes the cached session on the server when reachable and forgets it
    /// with the pulled records. Callers hold the network lock.
    async fn logout_inner(&self) -> Result<(), Error> {
        if let Some(session) = self.store.load_session()? {
            if let Some(t) = session.tokens {
                let req = RefreshRequest { refresh_token: t.refresh_token, device_id: None };
                if let Err(e) = self.api.logout(&req).await {
                    tracing::warn!(transient = e.is_transient(), "could not revoke the session on the server");
                }
            }
        }
        self.store.clear_session()?;
        self.store.reset_pulled()?;
        Ok(())
    }

    /// The signed-in user from the cached session (offline), if any. Also
    /// returned after the server ended the session (see [`SyncStatus::session_expired`]).
    pub fn current_user(&self) -> Option<UserInfo> {
        match self.store.load_session() {
            Ok(s) => s.map(|s| s.user),
            Err(e) => {
                tracing::error!(error = %e, "could not read the session");
                None
            }
        }
    }

    /// Org units pulled to this phone, county first, then by code.
    pub fn units(&self) -> Result<Vec<OrgUnit>, ClientError> {
        let run = || -> Result<Vec<OrgUnit>, Error> {
            self.session()?;
            let mut out: Vec<OrgUnit> = self
                .store
                .list_records(EntityKind::Unit, usize::MAX)?
                .into_iter()
                .filter_map(|r| match r.record {
                    Record::Unit(u) => Some(u),
                    _ => None,
                })
                .collect();
            out.sort_by(|a, b| (a.level, &a.code).cmp(&(b.level, &b.code)));
            Ok(out)
        };
        Ok(run()?)
    }

    /// Pushes the signed-in user's queued ops, pulls changes, then uploads the
    /// photos whose records the server has confirmed.
    pub async fn sync(&self) -> Result<SyncReport, ClientError> {
        self.sync_with(None, None).await
    }

    /// [`sync`](Self::sync) with progress reports and cancellation.
    pub async fn sync_with(
        &self,
        progress: Option<Arc<dyn SyncProgress>>,
        cancel: Option<CancelHandle>,
    ) -> Result<SyncReport, ClientError> {
        let _net = self.net.lock().await;
        // Not gated by the device lock: a locked phone in a pocket still sends
        // its work and fetches changes; it shows nothing to whoever holds it.
        let user = self.store.load_session().ok().flatten().map(|s| s.user.id);
        if self.store.sync_meta().is_ok_and(|m| m.server_takes_gzip) {
            self.api.assume_server_takes_gzip(true);
        }
        let ctx = self.ctx(cancel.as_ref());
        let engine = Engine {
            ctx: &ctx,
            shared_store: Arc::clone(&self.store),
            progress: progress.as_deref(),
            push_batch: self.options.push_batch_size.clamp(1, 500) as usize,
            // The body limit less room for the envelope; 64 KiB at the least.
            push_bytes: (self.policy().sync.max_push_bytes.saturating_sub(16 * 1024)).max(64 * 1024),
            pull_limit: self.options.pull_page_limit.max(1),
            photos: self.photos.as_ref().map(|b| (b, (self.options.upload_chunk_bytes as usize).max(1024))),
        };
        let mut result = match engine.run().await {
            Err(Error::DeviceRevoked) => {
                if let Some(user) = user {
                    self.wipe_revoked(user)?;
                }
                Err(ClientError::DeviceRevoked)
            }
            other => other.map_err(ClientError::from),
        };
        if let Err(e) = self.enforce_photo_budget() {
            tracing::warn!(error = %e, "could not keep the photo folder within its budget");
        }
        let now = self.options.clock.now();
        let mut meta = self.store.sync_meta().map_err(Error::from)?;
        match &result {
            Ok(_) => {
                meta.last_success_at = Some(now);
                meta.last_error = None;
            }
            Err(e) => meta.last_error = Some(SyncErrorInfo { code: e.code().into(), message: e.to_string(), at: now }),
        }
        meta.server_takes_gzip = self.api.server_takes_gzip();
        self.store.save_sync_meta(&meta).map_err(Error::from)?;
        if !matches!(result, Err(ClientError::DeviceRevoked)) {
            // Being told: what is new for the user, worked out once from the
            // state now on the phone (a locked phone does it once unlocked).
            match self.refresh_notices_inner() {
                Ok(added) => {
                    if let Ok(r) = result.as_mut() {
                        r.new_notices = added.len() as u64;
                    }
                }
                Err(Error::Locked | Error::NotLoggedIn) => {}
                Err(e) => tracing::warn!(error = %e, "could not work out the user's notices"),
            }
        }
        result
    }

    /// For the foreground app: holds a request to the server (`GET
    /// /v1/sync/wait`) until the signed-in user's scope has a change after the
    /// last pull, or `timeout_secs` (1 to 55) pass, then syncs if there was one.
    /// `None`: nothing changed within the time (call again); `Some`: the sync's
    /// report. A phone that has never pulled syncs at once. Network failures
    /// come back as errors (the app waits a little, then calls again).
    pub async fn wait_and_sync(
        &self,
        timeout_secs: u32,
        progress: Option<Arc<dyn SyncProgress>>,
        cancel: Option<CancelHandle>,
    ) -> Result<Option<SyncReport>, ClientError> {
        if !(1..=55).contains(&timeout_secs) {
            return Err(Error::InvalidInput("timeout_secs: 1 to 55".into()).into());
        }
        let token = {
            // The token only under the network lock (a refresh rotates the
            // session); the wait itself holds nothing, so a sync may run meanwhile.
            let _net = self.net.lock().await;
            let ctx = self.ctx(cancel.as_ref());
            crate::wait::access_for_wait(&ctx).await?
        };
        let changed = match token {
            None => true,
            Some((token, cursor)) => crate::wait::wait(&self.api, &token, &cursor, u64::from(timeout_secs)).await?,
        };
        if !changed {
            return Ok(None);
        }
        self.sync_with(progress, cancel).await.map(Some)
    }

    /// Counts, last sync, last error and quarantined ops.
    pub fn sync_status(&self) -> Result<SyncStatus, ClientError> {
        let run = || -> Result<SyncStatus, Error> {
            self.gate()?;
            let session = self.store.load_session()?;
            let meta = self.store.sync_meta()?;
            let all = self.store.outbox_len(None)?;
            let (pending_ops, quarantined) = match &session {
                Some(s) => (self.store.outbox_len(Some(s.user.id))?, self.user_quarantine(s.user.id)?),
                None => (all, Vec::new()),
            };
            // The signed-in user's photos only, as their ops (everyone's if nobody is signed in).
            let mut uploads = self.store.photo_uploads()?;
            if session.is_some() {
                let visible = self.visible_photos()?;
                uploads.retain(|u| visible.contains(&u.sha256));
            }
            let photos_pending = uploads.iter().filter(|u| u.state.is_open()).count() as u64;
            let photos_failed = uploads
                .iter()
                .filter(|u| matches!(u.state, crate::store::UploadState::Failed { permanent: true, .. }))
                .count() as u64;
            Ok(SyncStatus {
                photos_pending,
                photos_failed,
                pending_ops,
                waiting_for_other_users: all - pending_ops.min(all),
                last_sync_at: meta.last_success_at,
                last_error: meta.last_error,
                quarantined,
                session_expired: session.is_some_and(|s| s.tokens.is_none()),
            })
        };
        Ok(run()?)
    }

    pub(crate) fn user_quarantine(&self, user: Uuid) -> Result<Vec<QuarantinedOp>, Error> {
        Ok(self.store.quarantined()?.into_iter().filter(|q| q.op.author == user).map(quarantined_op).collect())
    }

    /// A time as the county reads it: `YYYY-MM-DD HH:MM` in the county's zone
    /// (the policy's `county.timezone`), whatever zone the phone is set to.
    pub fn format_time(&self, at: DateTime<Utc>) -> String {
        fengqiao_domain::time::display_local(at, &self.policy().county.timezone)
    }

    /// A day as the county reads it: `YYYY-MM-DD` in the county's zone.
    pub fn format_date(&self, at: DateTime<Utc>) -> String {
        fengqiao_domain::time::display_local_date(at, &self.policy().county.timezone)
    }

    /// Sets the language of the messages the core returns (errors, quarantined
    /// ops): zh-CN by default, or English. It is the app's, so it holds for
    /// every client in the process.
    pub fn set_locale(&self, locale: crate::Locale) {
        crate::messages::set_locale(locale)
    }

    /// The language of the messages the core returns.
    pub fn locale(&self) -> crate::Locale {
        crate::messages::locale()
    }

    /// The signed-in user's quarantined ops, oldest first.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedOp>, ClientError> {
        let run = || -> Result<Vec<QuarantinedOp>, Error> { self.user_quarantine(self.session()?.user.id) };
        Ok(run()?)
    }

    fn own_quarantined(&self, op_id: Uuid) -> Result<(), Error> {
        let user = self.session()?.user.id;
        if self.store.quarantined()?.iter().any(|q| q.op.op_id == op_id && q.op.author == user) {
            Ok(())
        } else {
            Err(Error::NotFound(format!("没有编号为 {op_id} 的待处理操作")))
        }
    }

    /// Puts a quarantined op back in the outbox (at its original place); the
    /// next sync sends it again.
    pub fn retry_quarantined(&self, op_id: Uuid) -> Result<(), ClientError> {
        let run = || -> Result<(), Error> {
            self.own_quarantined(op_id)?;
            self.store.requeue_quarantined(op_id)?;
            tracing::info!(op_id = %op_id, "quarantined operation requeued");
            Ok(())
        };
        Ok(run()?)
    }

    /// Drops a quarantined op for good, with the unsynced record it carried.
    /// Only on the user's explicit request.
    pub fn discard_quarantined(&self, op_id: Uuid) -> Result<(), ClientError> {
        let run = || -> Result<(), Error> {
            self.own_quarantined(op_id)?;
            self.store.discard_quarantined(op_id)?;
            tracing::info!(op_id = %op_id, "quarantined operation discarded by the user");
            Ok(())
        };
        Ok(run()?)
    }
}
