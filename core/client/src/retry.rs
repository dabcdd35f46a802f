//! Retrying transient failures with exponential backoff and jitter, and
//! cancelling long work.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;

use crate::api::ApiError;
use crate::error::Error;

/// How often and how patiently a request is retried after a transient failure
/// (network, timeout, 5xx, 429) within one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second try; doubles each time.
    pub initial_backoff: Duration,
    /// Longest single wait.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try number `attempt` (1-based): exponential,
    /// capped, then scaled by a random factor in [0.5, 1.0] so that many
    /// phones coming back online do not retry in step.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let capped = exp.min(self.max_backoff);
        let jitter: f64 = rand::thread_rng().gen_range(0.5..=1.0);
        capped.mul_f64(jitter)
    }
}

/// Cancels a running sync (or any long call handed this handle). Cloning shares
/// the handle. Cancelling leaves queued work intact: an op whose push was cut
/// off stays in the outbox and the server answers `duplicate` next time.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelHandle {
    /// A handle not yet cancelled.
    pub fn new() -> Self {
        CancelHandle { tx: Arc::new(watch::Sender::new(false)) }
    }

    /// Asks the work to stop as soon as it safely can.
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once cancelled.
    pub(crate) async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives as long as `self`, so this only ends on cancel.
        let _ = rx.wait_for(|c| *c).await;
    }
}

/// Runs `fut` unless `cancel` fires first.
pub(crate) async fn or_cancel<F: Future>(cancel: Option<&CancelHandle>, fut: F) -> Result<F::Output, Error> {
    match cancel {
        None => Ok(fut.await),
        Some(c) => {
            if c.is_cancelled() {
                return Err(Error::Cancelled);
            }
            tokio::select! {
                biased;
                _ = c.cancelled() => Err(Error::Cancelled),
                v = fut => Ok(v),
            }
        }
    }
}

/// Calls `f` until it succeeds, fails for good, or the tries run out; waits
/// [`RetryPolicy::backoff`] between tries. With `retry_rate_limited` false a
/// 429 is returned at once (e.g. for login, where retrying prolongs a lockout).
pub(crate) async fn with_retry<T, F, Fut>(
    policy: &RetryPolicy,
    cancel: Option<&CancelHandle>,
    retry_rate_limited: bool,
    mut f: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match or_cancel(cancel, f()).await? {
            Ok(v) => return Ok(v),
            Err(e) => {
                let rate_limited = matches!(e, ApiError::Status { status: 429, .. });
                let retry = e.is_transient() && (retry_rate_limited || !rate_limited);
                if !retry || attempt >= policy.max_attempts.max(1) {
                    return Err(e.into());
                }
                let wait = policy.backoff(attempt);
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "transient failure, retrying");
                or_cancel(cancel, tokio::time::sleep(wait)).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast(n: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts: n,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let p = RetryPolicy {
            max_attempts: 9,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        for _ in 0..50 {
            let b1 = p.backoff(1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100), "{b1:?}");
            let b2 = p.backoff(2);
            assert!(b2 >= Duration::from_millis(100) && b2 <= Duration::from_millis(200), "{b2:?}");
            assert!(p.backoff(30) <= Duration::from_millis(350));
        }
    }

    #[tokio::test]
    async fn transient_is_retried_then_given_up() {
        let calls = AtomicU32::new(0);
        let r: Result<(), Error> = with_retry(&fast(3), None, true, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(ApiError::Status { status: 503, body: None }) }
        })
        .await;
        assert!(matches!(r, Err(Error::Server { status: 503, .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let r = with_retry(&fast(3), None, true, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err(ApiError::Transport("reset".into()))
                } else {
                    Ok(7)
                }
            }
        })
        .await;
        assert_eq!(r.ok(), Some(7));
    }

    #[tokio::test]
    async fn permanent_and_unretried_429_return_at_once() {
        let calls = AtomicU32::new(0);
        let r: Result<(), Error> = with_retry(&fast(5), None, false, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(ApiError::Status { status: 429, body: None }) }
        })
        .await;
        assert!(matches!(r, Err(Error::RateLimited)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let r: Result<(), Error> =
            with_retry(&fast(5), None, true, || async { Err(ApiError::Status { status: 400, body: None }) }).await;
        assert!(matches!(r, Err(Error::Refused { status: 400, .. })));
    }

    #[tokio::test]
    async fn cancel_interrupts_wait_and_work() {
        let c = CancelHandle::new();
        let c2 = c.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            c2.cancel();
        });
        let r = or_cancel(Some(&c), tokio::time::sleep(Duration::from_secs(10))).await;
        assert!(matches!(r, Err(Error::Cancelled)));
        assert!(c.is_cancelled());
        let r: Result<(), Error> = with_retry(&fast(3), Some(&c), true, || async { Ok(()) }).await;
        assert!(matches!(r, Err(Error::Cancelled)), "already cancelled: nothing starts");
    }
}
