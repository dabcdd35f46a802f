//! Sync: push the queued work and pull changes, with progress reports to a
//! foreign [`SyncListener`] and cancellation by [`CancelToken`] or by dropping
//! the call (a cancelled Kotlin coroutine, a cancelled Swift task). Either way
//! a cancelled sync leaves the outbox intact: an op whose push was cut off is
//! sent again next time and the server answers `duplicate`. Also the sync
//! status screen and the quarantine of refused operations.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use fengqiao_core::{
    CancelHandle, QuarantinedOp as CoreQuarantinedOp, SyncErrorInfo as CoreSyncErrorInfo, SyncPhase as CorePhase,
    SyncProgress, SyncReport as CoreReport, SyncStatus as CoreStatus,
};
use fengqiao_domain::Record;

use crate::client::FieldClient;
use crate::convert::{id, millis, parse_id};
use crate::error::FengqiaoError;
use crate::photos::kind_name;
use crate::runtime::{guard, run_relaying, Cut, Relay};

/// Which part of a sync is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SyncPhase {
    /// Sending queued operations.
    Pushing,
    /// Fetching changes: the feed position reached of the feed's end.
    Pulling,
    /// Uploading photos: `done` of `total` bytes of this sync's photos.
    Uploading,
}

impl From<CorePhase> for SyncPhase {
    fn from(p: CorePhase) -> Self {
        match p {
            CorePhase::Pushing => SyncPhase::Pushing,
            CorePhase::Pulling => SyncPhase::Pulling,
            CorePhase::Uploading => SyncPhase::Uploading,
        }
    }
}

/// Receives progress during a sync. Implemented in Kotlin / Swift; called on
/// one of the core's threads (hop to the UI thread yourself), so keep it quick.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    /// Pushing: `done` of `total` operations pushed. Pulling: the position in
    /// the server's feed reached of the feed's end, so a first pull resumed
    /// after a cut shows how far it has come (from an older server: changes
    /// pulled so far, `total` 0). Uploading: bytes of this sync's photos.
    fn on_progress(&self, phase: SyncPhase, done: u64, total: u64);
}

/// Forwards the core's progress to the foreign listener while the sync's
/// caller awaits it (through a [`Relay`] the call cuts off when it returns or
/// is dropped). A listener that fails does not fail the sync: progress is
/// advisory.
struct ListenerBridge(Arc<Relay<dyn SyncListener>>);

impl SyncProgress for ListenerBridge {
    fn on_progress(&self, phase: CorePhase, done: u64, total: u64) {
        self.0.with(|l| {
            if catch_unwind(AssertUnwindSafe(|| l.on_progress(phase.into(), done, total))).is_err() {
                tracing::warn!("the sync listener failed; progress reports continue");
            }
        });
    }
}

/// Cancels a running sync. Once cancelled it stays cancelled: make a new one
/// for each sync.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelToken {
    handle: CancelHandle,
}

#[uniffi::export]
impl CancelToken {
    /// A token not yet cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelToken::default())
    }

    /// Asks the sync to stop at its next safe point; it then fails with
    /// `cancelled` and queued work stays intact.
    pub fn cancel(&self) {
        self.handle.cancel();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.handle.is_cancelled()
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Operations the server applied now.
    pub pushed_applied: u64,
    /// Operations the server had applied before (duplicate delivery).
    pub pushed_duplicate: u64,
    /// Operations refused for good, now in quarantine.
    pub rejected: u64,
    /// Operations refused because the state moved on, now in quarantine.
    pub conflicts: u64,
    /// Operations the server could not read or take, now in quarantine.
    pub malformed: u64,
    /// Changes pulled and applied (puts and drops).
    pub pulled: u64,
    /// Of those, records that left the user's jurisdiction.
    pub dropped: u64,
    /// Changes this build does not understand, skipped.
    pub skipped_unknown: u64,
    /// Pull pages fetched.
    pub pages: u64,
    /// The server reset the user's scope: pulled records were replaced.
    pub reset: bool,
    /// Operations queued by other users of this phone, left for them.
    pub waiting_for_other_users: u64,
    /// Photos whose upload completed (verified by the server) in this sync.
    pub photos_uploaded: u64,
    /// Photos that failed for good in this sync (the others went on).
    pub photos_failed: u64,
    /// Notices this sync gave (see `pending_notices`).
    #[uniffi(default = 0)]
    pub new_notices: u64,
}

impl From<CoreReport> for SyncReport {
    fn from(r: CoreReport) -> Self {
        SyncReport {
            pushed_applied: r.pushed_applied,
            pushed_duplicate: r.pushed_duplicate,
            rejected: r.rejected,
            conflicts: r.conflicts,
            malformed: r.malformed,
            pulled: r.pulled,
            dropped: r.dropped,
            skipped_unknown: r.skipped_unknown,
            pages: r.pages,
            reset: r.reset,
            waiting_for_other_users: r.waiting_for_other_users,
            photos_uploaded: r.photos_uploaded,
            photos_failed: r.photos_failed,
            new_notices: r.new_notices,
        }
    }
}

/// Which record: its kind (`visit`, `household`, … as on the wire) and id.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordRef {
    /// The record's kind, snake_case as on the wire.
    pub kind: String,
    /// Its id.
    pub id: String,
}

impl From<&Record> for RecordRef {
    fn from(r: &Record) -> Self {
        RecordRef { kind: kind_name(r.kind()), id: id(r.id()) }
    }
}

/// An operation the server refused, waiting for the user to retry or discard it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QuarantinedOp {
    /// The operation's id (pass to retry / discard).
    pub op_id: String,
    /// Its kind as on the wire (e.g. `record_visit`).
    pub kind: String,
    /// The record it carries, if any.
    pub record_id: Option<String>,
    /// Stable code: a domain rejection code (e.g. `invalid_field`), `conflict`, `malformed_op`, …
    pub code: String,
    /// The server's message.
    pub message: String,
    /// For a conflict: the record that stands on the server.
    pub current: Option<RecordRef>,
    /// When it was quarantined (ms since the epoch, UTC; device clock).
    pub quarantined_at_ms: i64,
}

impl From<CoreQuarantinedOp> for QuarantinedOp {
    fn from(q: CoreQuarantinedOp) -> Self {
        QuarantinedOp {
            op_id: id(q.op_id),
            kind: q.kind,
            record_id: q.record_id.map(id),
            code: q.code,
            message: q.message,
            current: q.current.as_ref().map(RecordRef::from),
            quarantined_at_ms: millis(q.quarantined_at),
        }
    }
}

/// The last sync's failure.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncErrorInfo {
    /// Stable code (as [`FengqiaoError::code`]).
    pub code: String,
    /// Readable message.
    pub message: String,
    /// When (ms since the epoch, UTC; device clock).
    pub at_ms: i64,
}

impl From<CoreSyncErrorInfo> for SyncErrorInfo {
    fn from(e: CoreSyncErrorInfo) -> Self {
        SyncErrorInfo { code: e.code, message: e.message, at_ms: millis(e.at) }
    }
}

/// The sync status screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// Operations waiting to be pushed (the signed-in user's; everyone's if none is).
    pub pending_ops: u64,
    /// Operations queued by other users of this phone, waiting for them to sign in.
    pub waiting_for_other_users: u64,
    /// End of the last sync that succeeded (ms since the epoch, UTC).
    pub last_sync_at_ms: Option<i64>,
    /// The last sync's failure (cleared by a successful sync).
    pub last_error: Option<SyncErrorInfo>,
    /// The signed-in user's quarantined operations.
    pub quarantined: Vec<QuarantinedOp>,
    /// The server ended the session: log in again to sync.
    pub session_expired: bool,
    /// The signed-in user's photos still to upload (waiting for their record,
    /// or partly sent; everyone's if nobody is signed in).
    pub photos_pending: u64,
    /// The signed-in user's photos that failed for good (see `photo_states`).
    pub photos_failed: u64,
}

impl From<CoreStatus> for SyncStatus {
    fn from(s: CoreStatus) -> Self {
        SyncStatus {
            pending_ops: s.pending_ops,
            waiting_for_other_users: s.waiting_for_other_users,
            last_sync_at_ms: s.last_sync_at.map(millis),
            last_error: s.last_error.map(SyncErrorInfo::from),
            quarantined: s.quarantined.into_iter().map(QuarantinedOp::from).collect(),
            session_expired: s.session_expired,
            photos_pending: s.photos_pending,
            photos_failed: s.photos_failed,
        }
    }
}

#[uniffi::export]
impl FieldClient {
    /// Pushes the signed-in user's queued operations, then pulls changes.
    /// Progress goes to `listener`; `cancel` (or cancelling the calling
    /// coroutine / task) stops it with `cancelled`, queued work intact.
    #[uniffi::method(default(listener = None, cancel = None))]
    pub async fn sync(
        &self,
        listener: Option<Arc<dyn SyncListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<SyncReport, FengqiaoError> {
        let core = self.core_arc();
        let handle = cancel.map(|t| t.handle.clone()).unwrap_or_default();
        let relay = listener.map(Relay::new);
        let relays: Vec<Arc<dyn Cut>> = relay.iter().map(|r| r.clone() as Arc<dyn Cut>).collect();
        let progress = relay.map(|r| Arc::new(ListenerBridge(r)) as Arc<dyn SyncProgress>);
        let task_handle = handle.clone();
        run_relaying(Some(handle), relays, async move { Ok(core.sync_with(progress, Some(task_handle)).await?.into()) })
            .await
    }

    /// For the app in the foreground: holds a request until the signed-in
    /// user's scope has a change after the last pull (an approval, a new
    /// request), or `timeout_secs` (1 to 55) pass; then syncs if there was one.
    /// `None`: nothing changed (call again); otherwise the sync's report. The
    /// wait itself holds no lock: `sync` may run meanwhile. Network failures
    /// come back as errors (wait a little, then call again).
    #[uniffi::method(default(listener = None, cancel = None))]
    pub async fn wait_and_sync(
        &self,
        timeout_secs: u32,
        listener: Option<Arc<dyn SyncListener>>,
        cancel: Option<Arc<CancelToken>>,
    ) -> Result<Option<SyncReport>, FengqiaoError> {
        let core = self.core_arc();
        let handle = cancel.map(|t| t.handle.clone()).unwrap_or_default();
        let relay = listener.map(Relay::new);
        let relays: Vec<Arc<dyn Cut>> = relay.iter().map(|r| r.clone() as Arc<dyn Cut>).collect();
        let progress = relay.map(|r| Arc::new(ListenerBridge(r)) as Arc<dyn SyncProgress>);
        let task_handle = handle.clone();
        run_relaying(Some(handle), relays, async move {
            Ok(core.wait_and_sync(timeout_secs, progress, Some(task_handle)).await?.map(SyncReport::from))
        })
        .await
    }

    /// Counts, last sync, last error and quarantined operations. Offline.
    pub fn sync_status(&self) -> Result<SyncStatus, FengqiaoError> {
        guard(|| Ok(self.core().sync_status()?.into()))
    }

    /// The signed-in user's quarantined operations, oldest first. Offline.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedOp>, FengqiaoError> {
        guard(|| Ok(self.core().quarantined()?.into_iter().map(QuarantinedOp::from).collect()))
    }

    /// Puts a quarantined operation back in the outbox; the next sync sends it again.
    pub fn retry_quarantined(&self, op_id: String) -> Result<(), FengqiaoError> {
        guard(|| Ok(self.core().retry_quarantined(parse_id("op_id", &op_id)?)?))
    }

    /// Drops a quarantined operation for good, with the unsynced record it
    /// carried. Only on the user's explicit request.
    pub fn discard_quarantined(&self, op_id: String) -> Result<(), FengqiaoError> {
        guard(|| Ok(self.core().discard_quarantined(parse_id("op_id", &op_id)?)?))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::client::ClientConfig;

    /// A server that answers a login and never answers anything else.
    fn login_then_silence() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for mut sock in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    if !String::from_utf8_lossy(&buf).starts_with("POST /v1/auth/login") {
                        std::thread::sleep(Duration::from_secs(30));
                        return;
                    }
                    let now = chrono::Utc::now();
                    let body = serde_json::json!({
                        "access_token": "a", "token_type": "Bearer", "expires_in": 900,
                        "expires_at": now + chrono::Duration::seconds(900),
                        "refresh_token": "r", "refresh_expires_at": now + chrono::Duration::days(30),
                        "user": {"id": uuid::Uuid::now_v7(), "username": "leader", "display_name": "组长", "roles": []},
                    })
                    .to_string();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = sock.write_all(head.as_bytes());
                    let _ = sock.write_all(body.as_bytes());
                });
            }
        });
        url
    }

    /// Counts its calls, and names the thread it was released on.
    #[derive(Default)]
    struct Probe {
        calls: AtomicUsize,
        released_on: Mutex<Option<String>>,
    }

    struct Listener(Arc<Probe>);

    impl SyncListener for Listener {
        fn on_progress(&self, _: SyncPhase, _: u64, _: u64) {
            self.0.calls.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            let name = std::thread::current().name().unwrap_or("?").to_string();
            *self.0.released_on.lock().expect("lock") = Some(name);
        }
    }

    /// A dropped sync (a cancelled coroutine, an interpreter shutting down)
    /// releases its listener at once, on the dropping thread, and never calls
    /// it again: the task that runs on to its safe point has no way back into
    /// the host. The same once a sync returns.
    #[test]
    fn a_dropped_or_finished_sync_never_calls_its_listener_again() {
        let dir = tempfile::tempdir().expect("tmp");
        let data = dir.path().join("phone").display().to_string();
        let config = ClientConfig { retry_max_attempts: Some(1), ..ClientConfig::default() };
        let client = FieldClient::new(data, login_then_silence(), vec![4u8; 32], config).expect("client");
        let foreign = std::thread::Builder::new().name("host".into());
        let probe = Arc::new(Probe::default());
        let p2 = probe.clone();
        foreign
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
                rt.block_on(client.login("leader".into(), "pw".into())).expect("login");
                let listener: Arc<dyn SyncListener> = Arc::new(Listener(p2));
                let mut fut = Box::pin(client.sync(Some(listener), None));
                rt.block_on(async {
                    tokio::select! {
                        r = &mut fut => panic!("the server never answers: {r:?}"),
                        _ = tokio::time::sleep(Duration::from_millis(300)) => {}
                    }
                });
                drop(fut);
            })
            .expect("spawn")
            .join()
            .expect("host thread");
        let calls = probe.calls.load(Ordering::SeqCst);
        assert_eq!(
            probe.released_on.lock().expect("lock").as_deref(),
            Some("host"),
            "released when the future was dropped, on the host's thread"
        );
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(probe.calls.load(Ordering::SeqCst), calls, "no call after the drop");
        assert_eq!(Arc::strong_count(&probe), 1, "nothing of the listener is left in the core");
    }

    /// The host drops the call from inside its own callback (the same
    /// thread holds the relay's read guard): the cut returns at once instead
    /// of waiting for itself, and no later call passes.
    #[test]
    fn a_relay_cut_from_inside_its_callback_does_not_wait_for_itself() {
        let probe = Arc::new(Probe::default());
        let relay = Relay::new(Arc::new(Listener(probe.clone())) as Arc<dyn SyncListener>);
        let (tx, rx) = std::sync::mpsc::channel();
        let r2 = relay.clone();
        std::thread::spawn(move || {
            let bridge = ListenerBridge(r2.clone());
            r2.with(|_| r2.cut());
            bridge.on_progress(CorePhase::Pulling, 1, 0);
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(5)).expect("a cut inside a callback returns");
        assert_eq!(probe.calls.load(Ordering::SeqCst), 0, "nothing passes after the cut");
    }

    /// A relay cut while a task keeps calling through it: the calls stop at
    /// the cut, and a call in flight is waited for.
    #[test]
    fn a_cut_relay_passes_no_call() {
        let probe = Arc::new(Probe::default());
        let relay = Relay::new(Arc::new(Listener(probe.clone())) as Arc<dyn SyncListener>);
        let bridge = ListenerBridge(relay.clone());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s2 = stop.clone();
        let caller = std::thread::spawn(move || {
            while !s2.load(Ordering::SeqCst) {
                bridge.on_progress(CorePhase::Pulling, 1, 0);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        while probe.calls.load(Ordering::SeqCst) < 3 {
            std::thread::sleep(Duration::from_millis(1));
        }
        relay.cut();
        let at_cut = probe.calls.load(Ordering::SeqCst);
        assert!(probe.released_on.lock().expect("lock").is_some(), "released by the cut");
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(probe.calls.load(Ordering::SeqCst), at_cut);
        stop.store(true, Ordering::SeqCst);
        caller.join().expect("caller");
    }
}
