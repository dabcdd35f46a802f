//! Waiting for changes while the app is in the foreground: a held request
//! (`GET /v1/sync/wait`) that the server answers as soon as the user's scope
//! has a change after the phone's last pull; the app then syncs
//! ([`crate::FieldClient::wait_and_sync`]).

use crate::api::{Api, ApiError};
use crate::error::Error;
use crate::session::{Authed, Ctx};

/// The access token and pull cursor a wait sends; `None` when the phone has
/// never pulled for the signed-in user (it syncs at once instead).
pub(crate) async fn access_for_wait(ctx: &Ctx<'_>) -> Result<Option<(String, String)>, Error> {
    let mut auth = Authed::begin(ctx)?;
    let user = auth.user_id();
    let cursor = match ctx.store.pull_state()? {
        Some(s) if s.user == user && !s.cursor.is_empty() => s.cursor,
        _ => return Ok(None),
    };
    Ok(Some((auth.fresh_access().await?, cursor)))
}

/// Holds the wait: whether a sync is due. A refused token or cursor (401, 400)
/// says a sync is due too: the sync refreshes the session or resets the pull.
pub(crate) async fn wait(api: &Api, token: &str, cursor: &str, secs: u64) -> Result<bool, Error> {
    match api.wait(token, cursor, secs).await {
        Ok(changed) => Ok(changed),
        Err(ApiError::Status { status: 400 | 401, .. }) => Ok(true),
        Err(e) => Err(e.into()),
    }
}
