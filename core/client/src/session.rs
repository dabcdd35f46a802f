//! The signed-in session: tokens kept fresh before use, one refresh on a 401,
//! rotated refresh tokens stored durably before the new access token is used.

use std::future::Future;

use chrono::Duration;
use fengqiao_domain::wire::{RefreshRequest, TokenResponse};
use uuid::Uuid;

use crate::api::{Api, ApiError};
use crate::clock::Clock;
use crate::error::Error;
use crate::retry::{with_retry, CancelHandle, RetryPolicy};
use crate::store::{ClientStore, StoredSession, Tokens};

/// The server's 401 code for a revoked device (a lost phone).
pub(crate) const DEVICE_REVOKED: &str = "device_revoked";

/// What a networked call needs.
pub(crate) struct Ctx<'a> {
    pub store: &'a dyn ClientStore,
    pub api: &'a Api,
    pub clock: &'a dyn Clock,
    pub retry: &'a RetryPolicy,
    /// Refresh the access token when it expires within this margin.
    pub refresh_margin: Duration,
    pub cancel: Option<&'a CancelHandle>,
}

/// The session a login or refresh answer makes, received at `now` (device
/// clock). The access token's expiry is kept on the device's clock (`now` plus
/// the server's `expires_in`), not as the server's `expires_at`: a phone whose
/// clock is hours ahead would otherwise refresh before every request (and a
/// refresh whose answer is lost ends the session), and one hours behind would
/// keep sending an expired token.
/// The refresh token's expiry is moved onto the device's clock the same way
/// (by the server clock's offset, read off `expires_at − expires_in`), so a
/// phone offline for weeks knows its refresh token has lapsed without asking.
pub(crate) fn session_from(t: TokenResponse, now: chrono::DateTime<chrono::Utc>) -> StoredSession {
    let max = 366 * 24 * 3600;
    let lifetime = Duration::seconds(i64::try_from(t.expires_in).unwrap_or(i64::MAX).min(max));
    let server_now = t.expires_at - lifetime;
    let refresh_left = (t.refresh_expires_at - server_now).clamp(Duration::zero(), Duration::seconds(max));
    StoredSession {
        user: t.user,
        tokens: Some(Tokens {
            access_token: t.access_token,
            access_expires_at: now + lifetime,
            refresh_token: t.refresh_token,
            refresh_expires_at: now + refresh_left,
        }),
    }
}

/// A signed-in user's session, for the length of one sync.
pub(crate) struct Authed<'a> {
    ctx: &'a Ctx<'a>,
    session: StoredSession,
    tokens: Tokens,
}

impl<'a> Authed<'a> {
    /// The cached session: [`Error::NotLoggedIn`] if none, [`Error::SessionExpired`]
    /// if the server refused its refresh token before.
    /// A refresh token past its expiry (device clock) ends the session here,
    /// without a request: work goes on offline and the next login (the
    /// password only) sends it as the same user.
    pub(crate) fn begin(ctx: &'a Ctx<'a>) -> Result<Self, Error> {
        let mut session = ctx.store.load_session()?.ok_or(Error::NotLoggedIn)?;
        let tokens = session.tokens.clone().ok_or(Error::SessionExpired)?;
        if tokens.refresh_expires_at <= ctx.clock.now() && tokens.access_expires_at <= ctx.clock.now() {
            tracing::info!("refresh token lapsed while offline; session expired");
            session.tokens = None;
            ctx.store.save_session(&session)?;
            return Err(Error::SessionExpired);
        }
        Ok(Authed { ctx, session, tokens })
    }

    /// The signed-in user's id.
    pub(crate) fn user_id(&self) -> Uuid {
        self.session.user.id
    }

    /// The access token, refreshed first if it expires within the margin.
    pub(crate) async fn fresh_access(&mut self) -> Result<String, Error> {
        if self.tokens.access_expires_at - self.ctx.refresh_margin <= self.ctx.clock.now() {
            tracing::debug!("access token expiring; refreshing before use");
            self.refresh().await?;
        }
        Ok(self.tokens.access_token.clone())
    }

    /// Spends the refresh token for new tokens. The rotated session is saved
    /// (durably) before anything uses it; a refused refresh token ends the
    /// session (the user stays known; queued work stays).
    pub(crate) async fn refresh(&mut self) -> Result<(), Error> {
        // The install id lets the server answer a retry of this refresh (its
        // answer lost on the way) instead of taking it for a stolen token.
        let device_id = Some(self.ctx.store.device_id()?);
        let req = RefreshRequest { refresh_token: self.tokens.refresh_token.clone(), device_id };
        let api = self.ctx.api;
        let res = with_retry(self.ctx.retry, self.ctx.cancel, true, || api.refresh(&req)).await;
        match res {
            Ok(t) => {
                if t.user.id != self.session.user.id {
                    return Err(Error::Protocol("refresh answered for another user".into()));
                }
                let next = session_from(t, self.ctx.clock.now());
                self.ctx.store.save_session(&next)?;
                self.tokens = next.tokens.clone().ok_or_else(|| Error::Protocol("no tokens".into()))?;
                self.session = next;
                tracing::info!("session refreshed");
                Ok(())
            }
            Err(Error::Unauthorized(code)) if code == DEVICE_REVOKED => Err(Error::DeviceRevoked),
            Err(Error::Unauthorized(code)) => {
                tracing::info!(code = code.as_str(), "refresh token refused; session expired");
                self.session.tokens = None;
                self.ctx.store.save_session(&self.session)?;
                Err(Error::SessionExpired)
            }
            Err(e) => Err(e),
        }
    }

    /// Calls the server with a fresh access token, retrying transient failures;
    /// on a 401 refreshes once and tries again.
    pub(crate) async fn call<T, F, Fut>(&mut self, f: F) -> Result<T, Error>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut refreshed = false;
        loop {
            let token = self.fresh_access().await?;
            let res = with_retry(self.ctx.retry, self.ctx.cancel, true, || f(token.clone())).await;
            match res {
                Err(Error::Unauthorized(code)) if code == DEVICE_REVOKED => return Err(Error::DeviceRevoked),
                Err(Error::Unauthorized(code)) if !refreshed => {
                    tracing::info!(code = code.as_str(), "access token refused; refreshing once");
                    self.refresh().await?;
                    refreshed = true;
                }
                Err(Error::Unauthorized(_)) => return Err(Error::SessionExpired),
                other => return other,
            }
        }
    }
}
