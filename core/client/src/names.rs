//! Colleagues' display names: the server sends the names of the users within
//! the signed-in user's jurisdiction (`GET /v1/people`, the step `sync` runs
//! after its pull); the phone keeps them (sealed, for that user only).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::Conditional;
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
    /// The `ETag` the server gave them (sent back in `If-None-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    /// Until when they may be kept without asking (the answer's `max-age`, on
    /// the phone's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fresh_until: Option<DateTime<Utc>>,
}

fn kept(store: &dyn ClientStore, user: Uuid) -> Option<Names> {
    let bytes = store.local_value(PEOPLE).ok()??;
    serde_json::from_slice::<Names>(&bytes).ok().filter(|n| n.user == user)
}

fn save(store: &dyn ClientStore, names: &Names) -> Result<(), Error> {
    let bytes = serde_json::to_vec(names).map_err(|e| Error::Protocol(e.to_string()))?;
    store.save_local_value(PEOPLE, Some(&bytes))?;
    Ok(())
}

/// Fetches and keeps the names for `user`: asked again only when the pull
/// brought changes (`pulled`) or the kept copy's `max-age` has passed, and then
/// with `If-None-Match` (a `304` costs no body). Best effort, like the policy:
/// an older server without the endpoint leaves the names the phone had.
pub(crate) async fn refresh(ctx: &Ctx<'_>, auth: &mut Authed<'_>, user: Uuid, pulled: bool) -> Result<(), Error> {
    let api = ctx.api;
    let now = ctx.clock.now();
    let mut names = kept(ctx.store, user);
    if !pulled && names.as_ref().and_then(|n| n.fresh_until).is_some_and(|t| now < t) {
        return Ok(());
    }
    let tag = names.as_ref().and_then(|n| n.etag.clone());
    let tag = tag.as_deref();
    let until = |max_age: Option<u64>| max_age.map(|s| now + chrono::Duration::seconds(s.min(86_400) as i64));
    match auth.call(move |tok| async move { api.people(&tok, tag).await }).await {
        Ok(Conditional::NotModified { max_age }) => match names.as_mut() {
            Some(n) => {
                n.fresh_until = until(max_age);
                save(ctx.store, n)
            }
            None => Ok(()),
        },
        Ok(Conditional::Fresh { value, etag, max_age }) => {
            let names = Names {
                user,
                names: value.people.into_iter().map(|p| (p.id, p.display_name)).collect(),
                etag,
                fresh_until: until(max_age),
            };
            save(ctx.store, &names)
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
