//! `GET /v1/sync/wait`: a held request that answers, without content, as soon as
//! the caller's scope has a change after their cursor (or when its time is up),
//! so an open app pulls within seconds of a decision instead of at its next
//! periodic sync. A held wait costs a connection and a small task: no thread, no
//! store reading while nothing is written. Every write request that moves the
//! feed rings the [`FeedBell`]; each waiter then asks the store for one change in
//! its scope past what it has already looked at.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use fengqiao_domain::wire::{ErrorBody, WaitResponse};
use serde::Deserialize;
use tokio::sync::watch;

use super::auth_routes::Authed;
use super::error::{ApiError, ApiResult};
use super::sync_routes::{decode_cursor, scope_fingerprint};
use super::AppState;

/// The longest a wait is held (seconds).
pub const MAX_WAIT_SECS: u64 = 55;
/// A wait's default length (seconds): under the idle timeout of most mobile
/// carriers' NATs.
pub const DEFAULT_WAIT_SECS: u64 = 25;
/// The wait route's own timeout: a held wait outlives the API's request timeout.
pub const WAIT_ROUTE_TIMEOUT: Duration = Duration::from_secs(MAX_WAIT_SECS + 10);

/// Rung when the feed may have moved: carries the highest committed sequence.
#[derive(Debug)]
pub struct FeedBell {
    tx: watch::Sender<u64>,
    closing: AtomicBool,
}

impl Default for FeedBell {
    fn default() -> Self {
        FeedBell { tx: watch::channel(0).0, closing: AtomicBool::new(false) }
    }
}

impl FeedBell {
    /// Wakes the waiters if `seq` is past the last sequence rung.
    pub fn ring(&self, seq: u64) {
        self.tx.send_if_modified(|last| {
            let moved = seq > *last;
            if moved {
                *last = seq;
            }
            moved
        });
    }

    /// Ends every held wait (answered "no change") and every later one at once:
    /// the server is stopping, and graceful shutdown waits for open requests.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.tx.send_modify(|_| {});
    }

    /// Whether the server is stopping.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// How many waits are held now.
    pub fn waiting(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// Rings the bell after every request that may have written (anything but GET,
/// HEAD and OPTIONS), with the store's highest committed sequence.
pub async fn ring_after_writes(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let res = next.run(req).await;
    if writes {
        if let Ok(seq) = st.store.last_seq() {
            st.bell.ring(seq);
        }
    }
    res
}

/// Query of a wait.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// The cursor of the caller's last pull; empty or absent for the start.
    pub cursor: Option<String>,
    /// Seconds to hold the request when nothing changes, 1 to 55 (default 25).
    pub timeout: Option<u64>,
}

/// Holds the request until the caller's scope (their units and their personal
/// feed) has a change after `cursor`, then answers `changed: true`; after
/// `timeout` seconds without one, `changed: false`. A cursor of another scope
/// (the caller's roles changed) or beyond the end of the feed answers `changed:
/// true` at once: the next pull resets. The answer carries no content: the app
/// pulls next.
#[utoipa::path(get, path = "/v1/sync/wait", tag = "sync", params(WaitQuery), security(("bearer" = [])),
    responses((status = 200, body = WaitResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn wait(
    State(st): State<AppState>,
    Authed(caller): Authed,
    query: Result<Query<WaitQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<WaitResponse>> {
    let Query(q) = query?;
    let secs = q.timeout.unwrap_or(DEFAULT_WAIT_SECS);
    if secs == 0 || secs > MAX_WAIT_SECS {
        return Err(ApiError::bad_request("invalid_timeout", format!("timeout: 1 to {MAX_WAIT_SECS} seconds")));
    }
    let fingerprint = scope_fingerprint(&caller.user.grants);
    let mut after = match q.cursor.as_deref() {
        None | Some("") => 0,
        Some(c) => match decode_cursor(c, &fingerprint)? {
            Some(pos) => pos,
            None => return Ok(Json(WaitResponse { changed: true })),
        },
    };
    // Subscribed before the first look: a change committed after it rings.
    let mut rx = st.bell.tx.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let (grants, user) = (caller.user.grants.clone(), caller.user.id);
    loop {
        if st.bell.is_closing() {
            return Ok(Json(WaitResponse { changed: false }));
        }
        rx.borrow_and_update();
        let (store, g) = (st.store.clone(), grants.clone());
        let page = tokio::task::spawn_blocking(move || store.pull(&g, Some(user), after, 1)).await??;
        if !page.changes.is_empty() || page.beyond_end {
            return Ok(Json(WaitResponse { changed: true }));
        }
        // Nothing in scope up to the feed's end: later looks start there.
        after = after.max(page.position);
        tokio::select! {
            r = rx.changed() => if r.is_err() { return Ok(Json(WaitResponse { changed: false })) },
            _ = tokio::time::sleep_until(deadline) => return Ok(Json(WaitResponse { changed: false })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_bell_wakes_only_when_the_feed_moves_and_on_close() {
        let bell = FeedBell::default();
        let mut rx = bell.tx.subscribe();
        bell.ring(0);
        assert!(!rx.has_changed().expect("open"), "no move, no wake");
        bell.ring(5);
        assert!(rx.has_changed().expect("open"));
        rx.borrow_and_update();
        bell.ring(4);
        assert!(!rx.has_changed().expect("open"), "an older sequence does not wake");
        assert_eq!(bell.waiting(), 1);
        bell.close();
        assert!(rx.has_changed().expect("open") && bell.is_closing());
    }
}
