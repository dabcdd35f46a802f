//! Colleagues' display names: the server sends the names of the users within
//! the signed-in user's jurisdiction (`GET /v1/people`, the step `sync` runs
//! after its pull); the phone keeps them (sealed, for that user only).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::session::{Authed, Ctx};
use crate::store::ClientStore;

/// Local value holding the names.
const PEOPLE: &str = "people";

/// The names the server sent, and for whom.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Names {
    /// The user they were sent to (they are shown to that user only).
    user: Uuid,
    /// Display name by user id.
    names: BTreeMap<Uuid, String>,
}

/// Fetches and keeps the names for `user`. Best effort, like the policy: an
/// older server without the endpoint leaves the names the phone had.
pub(crate) async fn refresh(ctx: &Ctx<'_>, auth: &mut Authed<'_>, user: Uuid) -> Result<(), Error> {
    let api = ctx.api;
    match auth.call(move |tok| async move { api.people(&tok).await }).await {
        Ok(r) => {
            let names = Names { user, names: r.people.into_iter().map(|p| (p.id, p.display_name)).collect() };
            let bytes = serde_json::to_vec(&names).map_err(|e| Error::Protocol(e.to_string()))?;
            ctx.store.save_local_value(PEOPLE, Some(&bytes))?;
            Ok(())
        }
        Err(Error::Cancelled) => Err(Error::Cancelled),
        Err(Error::DeviceRevoked) => Err(Error::DeviceRevoked),
        Err(e) => {
            tracing::warn!(error = %e, "could not refresh the names of colleagues; keeping the ones on the phone");
            Ok(())
        }
    }
}

/// The name of `user_id` kept for `viewer` (`None` if none was sent, or the
/// names kept are another user's).
pub(crate) fn kept_name(store: &dyn ClientStore, viewer: Uuid, user_id: Uuid) -> Result<Option<String>, Error> {
    let Some(bytes) = store.local_value(PEOPLE)? else { return Ok(None) };
    let names: Names = serde_json::from_slice(&bytes).unwrap_or_default();
    if names.user != viewer {
        return Ok(None);
    }
    Ok(names.names.get(&user_id).cloned())
}
