//! Names instead of ids: the server sends the display names of the users
//! within the signed-in user's jurisdiction (`GET /v1/people`, on every
//! sync); the phone keeps them (sealed, for that user only) and shows who
//! decided, asked or recorded something by name, offline.

use std::collections::BTreeMap;

use fengqiao_domain::disputes::EscalationDecision;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::session::{Authed, Ctx};

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

/// A decision another approver made first, with the decider's name.
#[derive(Debug, Clone, PartialEq)]
pub struct StandingDecision {
    /// The decision that stands.
    pub decision: EscalationDecision,
    /// Who made it, by name, if they are within the user's jurisdiction
    /// (`None` before the first sync that brought the names, or for someone
    /// outside it).
    pub decided_by_name: Option<String>,
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

impl FieldClient {
    /// The display name of `user_id` as the signed-in user may see it: the
    /// user themself, or someone whose role lies within their jurisdiction
    /// (names come with each sync). `None` for anyone else. Offline.
    pub fn display_name(&self, user_id: Uuid) -> Result<Option<String>, ClientError> {
        Ok(self.display_name_inner(user_id)?)
    }

    pub(crate) fn display_name_inner(&self, user_id: Uuid) -> Result<Option<String>, Error> {
        let session = self.session()?;
        if session.user.id == user_id {
            return Ok(Some(session.user.display_name));
        }
        let Some(bytes) = self.store.local_value(PEOPLE)? else { return Ok(None) };
        let names: Names = serde_json::from_slice(&bytes).unwrap_or_default();
        if names.user != session.user.id {
            return Ok(None);
        }
        Ok(names.names.get(&user_id).cloned())
    }

    /// For the signed-in user's quarantined decision that lost to another
    /// approver's: the decision that stands, with the decider's name (see
    /// [`display_name`](Self::display_name)). `None` for any other operation.
    pub fn standing_decision(&self, op_id: Uuid) -> Result<Option<StandingDecision>, ClientError> {
        let run = || -> Result<Option<StandingDecision>, Error> {
            let ops = self.user_quarantine(self.session()?.user.id)?;
            let Some(decision) = ops.iter().find(|q| q.op_id == op_id).and_then(|q| q.standing_decision()).cloned()
            else {
                return Ok(None);
            };
            let decided_by_name = self.display_name_inner(decision.decided_by)?;
            Ok(Some(StandingDecision { decision, decided_by_name }))
        };
        Ok(run()?)
    }
}
