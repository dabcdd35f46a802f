//! Names instead of ids: the phone shows who decided, asked or recorded
//! something by name, offline, from the names the last sync kept (see
//! [`crate::names`]).

use fengqiao_domain::disputes::{Escalation, EscalationDecision};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::names::kept_name;

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
        kept_name(self.store.as_ref(), session.user.id, user_id)
    }

    /// Who decided `escalation`, by name, where the signed-in user may see it
    /// (see [`display_name`](Self::display_name)); `None` while undecided, for
    /// anyone else, or when the names cannot be read (a name never fails the
    /// record it labels).
    pub fn decider_name(&self, escalation: &Escalation) -> Option<String> {
        let decision = escalation.decision.as_ref()?;
        self.display_name_inner(decision.decided_by).ok().flatten()
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
