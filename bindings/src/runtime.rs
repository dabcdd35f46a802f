//! The edge: where calls from Kotlin and Swift enter Rust.
//!
//! - [`guard`] runs a synchronous call and turns a panic into
//!   [`FengqiaoError::Internal`], so nothing unwinds into foreign code.
//! - [`run`] runs an async call as a task on the bindings' own multi-threaded
//!   tokio runtime and awaits it. The foreign caller's thread only polls a
//!   join handle: no I/O, no disk work, no blocking happens on it. A panic in
//!   the task becomes [`FengqiaoError::Internal`]. If the caller drops the
//!   future (a Kotlin coroutine cancelled, a Swift task cancelled), the task is
//!   told to stop through its [`CancelHandle`] (it stops at a safe point, queued
//!   work intact) or, for calls without one, aborted.
//! - A call's foreign callbacks (a sync's progress listener) go through a
//!   [`Relay`] that the call cuts off when it returns or when its future is
//!   dropped: the cut waits for a callback in flight, releases the foreign
//!   object on the caller's own thread, and no callback reaches the host
//!   after it. A task that runs on to a safe point after a cancellation
//!   therefore never calls into a host that has moved on (or is shutting
//!   down: an interpreter at exit aborts on a late callback). A destroyed
//!   client object is covered by the same cut: a call in flight holds the
//!   object until its future is dropped, and what the task keeps afterwards
//!   (the core) holds nothing of the host's.
//!
//! (UniFFI's own panic catching stays in force underneath: the release profile
//! keeps `panic = "unwind"`.)

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock, TryLockError};

use fengqiao_core::CancelHandle;
use tokio::runtime::Runtime;
use tokio::task::AbortHandle;

use crate::error::FengqiaoError;

/// Worker threads of the bindings' runtime: network waits dominate, so two suffice on a phone.
const WORKER_THREADS: usize = 2;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The bindings' runtime, started on first use.
fn runtime() -> Result<&'static Runtime, FengqiaoError> {
    let rt = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("fengqiao-core")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    rt.as_ref().map_err(|e| FengqiaoError::internal(format!("could not start the runtime: {e}")))
}

/// A readable text for a panic payload (the message, cut short).
fn panic_detail(payload: &(dyn Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    let short: String = msg.chars().take(200).collect();
    format!("internal error in the phone core: {short}")
}

/// Runs a synchronous call; a panic becomes [`FengqiaoError::Internal`].
pub(crate) fn guard<T>(call: impl FnOnce() -> Result<T, FengqiaoError>) -> Result<T, FengqiaoError> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(r) => r,
        Err(payload) => {
            tracing::error!("panic caught at the FFI boundary");
            Err(FengqiaoError::internal(panic_detail(&*payload)))
        }
    }
}

/// A foreign object (e.g. a sync listener) that a task calls into for as long
/// as the foreign caller awaits it, and never after: see the module docs.
pub(crate) struct Relay<T: ?Sized> {
    open: AtomicBool,
    target: RwLock<Option<Arc<T>>>,
}

thread_local! {
    /// How many relay calls this thread is inside (a host callback running).
    static CALLING: Cell<u32> = const { Cell::new(0) };
}

/// Counts this thread out of a relay call, also when the callback panics.
struct Calling;

impl Calling {
    fn enter() -> Calling {
        CALLING.with(|c| c.set(c.get() + 1));
        Calling
    }
}

impl Drop for Calling {
    fn drop(&mut self) {
        CALLING.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

impl<T: ?Sized> Relay<T> {
    /// A relay to `target`, open until [`cut`](Cut::cut).
    pub(crate) fn new(target: Arc<T>) -> Arc<Self> {
        Arc::new(Relay { open: AtomicBool::new(true), target: RwLock::new(Some(target)) })
    }

    /// Calls `f` on the target unless the relay was cut (then nothing).
    pub(crate) fn with(&self, f: impl FnOnce(&T)) {
        if !self.open.load(Ordering::Acquire) {
            return;
        }
        let guard = self.target.read().unwrap_or_else(|p| p.into_inner());
        if let (true, Some(t)) = (self.open.load(Ordering::Acquire), guard.as_ref()) {
            let _calling = Calling::enter();
            f(t);
        }
    }
}

/// Cutting a [`Relay`] off, whatever it carries.
pub(crate) trait Cut: Send + Sync {
    /// No call through the relay starts after this returns. A call in flight
    /// on another thread is waited for and the target is released on the
    /// calling thread; cut from inside a host callback (the host dropped the
    /// call while being called), nothing is waited for — that callback is this
    /// thread's own — and the target is released when the relay is.
    fn cut(&self);
}

impl<T: ?Sized + Send + Sync> Cut for Relay<T> {
    fn cut(&self) {
        self.open.store(false, Ordering::Release);
        let inside = CALLING.with(|c| c.get() > 0);
        let target = if inside {
            match self.target.try_write() {
                Ok(mut g) => g.take(),
                Err(TryLockError::Poisoned(p)) => p.into_inner().take(),
                Err(TryLockError::WouldBlock) => None,
            }
        } else {
            self.target.write().unwrap_or_else(|p| p.into_inner()).take()
        };
        drop(target);
    }
}

/// Stops the task when the awaiting future is dropped before it finished, and
/// cuts the call's relays either way.
struct StopOnDrop {
    abort: AbortHandle,
    cancel: Option<CancelHandle>,
    relays: Vec<Arc<dyn Cut>>,
    finished: bool,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if !self.finished {
            match &self.cancel {
                // Graceful: the core stops at its next safe point and records why.
                Some(c) => c.cancel(),
                None => self.abort.abort(),
            }
        }
        for r in &self.relays {
            r.cut();
        }
    }
}

/// Runs `work` on the bindings' runtime and awaits it (see the module docs).
/// With `cancel`, dropping the returned future cancels that handle; without,
/// it aborts the task.
pub(crate) async fn run<T, F>(cancel: Option<CancelHandle>, work: F) -> Result<T, FengqiaoError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, FengqiaoError>> + Send + 'static,
{
    run_relaying(cancel, Vec::new(), work).await
}

/// As [`run`], cutting `relays` off when the call returns or its future is
/// dropped: the task's callbacks to the host end with the call.
pub(crate) async fn run_relaying<T, F>(
    cancel: Option<CancelHandle>,
    relays: Vec<Arc<dyn Cut>>,
    work: F,
) -> Result<T, FengqiaoError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, FengqiaoError>> + Send + 'static,
{
    let handle = runtime()?.spawn(work);
    let mut stop = StopOnDrop { abort: handle.abort_handle(), cancel, relays, finished: false };
    let joined = handle.await;
    stop.finished = true;
    drop(stop);
    match joined {
        Ok(r) => r,
        Err(e) if e.is_panic() => {
            tracing::error!("panic caught at the FFI boundary (async call)");
            Err(FengqiaoError::internal(panic_detail(&*e.into_panic())))
        }
        Err(_) => Err(FengqiaoError::cancelled()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    fn explode() -> Result<u32, FengqiaoError> {
        panic!("boom: a bug in the core")
    }

    #[test]
    fn a_panicking_sync_call_becomes_an_internal_error() {
        let r = guard(explode);
        match r {
            Err(FengqiaoError::Internal { code, detail }) => {
                assert_eq!(code, "internal");
                assert!(detail.starts_with("手机核心程序出错"), "Chinese by default: {detail}");
            }
            other => panic!("expected Internal, got {other:?}"),
        }
        assert_eq!(guard(|| Ok(7)), Ok(7));
    }

    #[test]
    fn a_panicking_async_call_becomes_an_internal_error() {
        // The foreign side's executor stands in as a plain current-thread runtime.
        let Ok(foreign) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            panic!("no test runtime")
        };
        let r = foreign.block_on(run(None, async { explode() }));
        assert!(matches!(r, Err(FengqiaoError::Internal { .. })), "{r:?}");
        assert_eq!(foreign.block_on(run(None, async { Ok::<_, FengqiaoError>(1) })), Ok(1));
    }

    #[test]
    fn uniffi_still_catches_a_panic_that_escapes_a_call() {
        // What the generated scaffolding does around every exported call.
        let mut status = uniffi::RustCallStatus::default();
        let out: u32 = uniffi::rust_call(&mut status, || explode().map_err(|_| unreachable!()));
        assert_eq!(out, 0);
        assert_eq!(status.code, uniffi::RustCallStatusCode::UnexpectedError);
    }

    #[test]
    fn dropping_the_future_cancels_the_handle_or_aborts_the_task() {
        let cancel = CancelHandle::new();
        let fut = run(Some(cancel.clone()), async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, FengqiaoError>(())
        });
        let mut fut = Box::pin(fut);
        // Poll once so the task is spawned, then drop it as a cancelled coroutine would.
        let waker = std::task::Waker::noop();
        let _ = fut.as_mut().poll(&mut std::task::Context::from_waker(waker));
        drop(fut);
        assert!(cancel.is_cancelled());

        let ran_to_end = Arc::new(AtomicBool::new(false));
        let flag = ran_to_end.clone();
        let mut fut = Box::pin(run(None, async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            flag.store(true, Ordering::SeqCst);
            Ok::<_, FengqiaoError>(())
        }));
        let _ = fut.as_mut().poll(&mut std::task::Context::from_waker(waker));
        drop(fut);
        std::thread::sleep(Duration::from_millis(400));
        assert!(!ran_to_end.load(Ordering::SeqCst), "an aborted task must not run on");
    }
}
