//! The one path of every operation made on the phone: build → decide →
//! enqueue → typed record.
//!
//! 1. **Build**: the feature's method turns the user's input into the domain's
//!    [`Op`], given the author and the time ([`Author`]).
//! 2. **Decide**: [`FieldClient::decide_locally`] wraps it in an
//!    [`OpEnvelope`] (UUIDv7 op id, wire version, author, device time, the feed
//!    sequence last pulled) and runs the domain's own `decide` over the phone's
//!    optimistic [`PhoneView`](crate::view::PhoneView) — the server's rule on
//!    local state. A refusal comes back with the domain's code and message
//!    ([`Error::refused`]) and nothing is queued.
//! 3. **Enqueue**: the record the op creates or changes, as the domain
//!    computed it, is saved as pending with the op in the outbox, in one
//!    durable transaction ([`Enqueue`]: plain, with a photo's upload-queue
//!    entry, or claiming a case number). Other effects of the op (e.g. the
//!    dispute's case-file line of a checklist photo, the flow table) come with
//!    the next pull, as the server computed them.
//! 4. **Typed record**: the saved record is returned as the feature's type
//!    ([`OpRecord`]).
//!
//! A feature's write method is usually only its build step passed to
//! [`FieldClient::submit`].

use chrono::{DateTime, Utc};
use fengqiao_domain::apply::{decide, Effect, Verdict};
use fengqiao_domain::disputes::{Agreement, Dispute, Escalation, FollowUp, JudicialConfirmation, MediationSession};
use fengqiao_domain::permissions::Actor;
use fengqiao_domain::prevent::{HouseholdStanding, Screening, Violation};
use fengqiao_domain::subsidy::CaseReview;
use fengqiao_domain::subsidy::Consultation;
use fengqiao_domain::wire::{Op, OpEnvelope};
use fengqiao_domain::{Attachment, Record, Rejection, RejectionCode, Visit, WIRE_VERSION};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::store::{CaseClaim, PhotoUpload, StoredSession};
use crate::view::view_error;

/// Who makes an operation, and when (the device's clock).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Author {
    /// The signed-in user.
    pub user: Uuid,
    /// Now, on the device's clock (the op's `created_at` too).
    pub now: DateTime<Utc>,
}

/// A locally decided operation: the envelope to queue and the record it
/// creates or changes, as the domain computed it.
pub(crate) struct Decided {
    pub env: OpEnvelope,
    pub record: Record,
}

/// How a decided operation goes into the outbox.
pub(crate) enum Enqueue<'a> {
    /// The record and its op.
    Plain,
    /// An attach-photo op, with the photo's upload-queue entry.
    Photo(&'a PhotoUpload),
    /// A report, taking this case number in the same transaction (`None` from
    /// [`FieldClient::enqueue_decided`]: another report took it first).
    Claiming(&'a CaseClaim),
}

/// The record type an operation hands back.
pub(crate) trait OpRecord: Sized {
    /// The record, if it is of this type.
    fn from_record(r: Record) -> Option<Self>;
}

macro_rules! op_records {
    ($($ty:ident),* $(,)?) => {$(
        impl OpRecord for $ty {
            fn from_record(r: Record) -> Option<Self> {
                match r {
                    Record::$ty(x) => Some(x),
                    _ => None,
                }
            }
        }
    )*};
}
op_records!(
    Visit,
    Attachment,
    Dispute,
    Escalation,
    MediationSession,
    Agreement,
    FollowUp,
    JudicialConfirmation,
    Violation,
    Screening,
    HouseholdStanding,
    CaseReview,
    Consultation,
);

/// The record as the operation's type.
pub(crate) fn typed<T: OpRecord>(record: Record) -> Result<T, Error> {
    T::from_record(record)
        .ok_or_else(|| Error::InvalidInput("本操作记下的记录类型与预期不符（内部错误，请联系县里技术支持）".into()))
}

/// The rules' view of the signed-in user.
pub(crate) fn actor_of(session: &StoredSession) -> Actor {
    Actor { user_id: session.user.id, grants: session.user.roles.iter().map(|g| g.grant).collect() }
}

impl FieldClient {
    /// The whole path for one operation: `build` it for the signed-in user,
    /// decide it locally, queue it with its record (durable on return) and
    /// return that record.
    pub(crate) fn submit<T: OpRecord>(&self, build: impl FnOnce(Author) -> Op) -> Result<T, ClientError> {
        Ok(self.submit_inner(build)?)
    }

    /// [`submit`](Self::submit) with the crate's error.
    pub(crate) fn submit_inner<T: OpRecord>(&self, build: impl FnOnce(Author) -> Op) -> Result<T, Error> {
        let session = self.session()?;
        let author = Author { user: session.user.id, now: self.options.clock.now() };
        let d = self.decide_locally(&session, build(author), author.now)?;
        self.enqueue_decided(&d, Enqueue::Plain)?;
        typed(d.record)
    }

    /// Runs the domain's `decide` for `op`, made by `session`'s user at `now`,
    /// on the phone's optimistic view.
    pub(crate) fn decide_locally(&self, session: &StoredSession, op: Op, now: DateTime<Utc>) -> Result<Decided, Error> {
        // What the phone knew: a refusal for a record changed after this is a
        // lost race on the server (a conflict), not a plain rejection.
        let seen = self.store.pull_state()?.filter(|p| p.user == session.user.id).and_then(|p| p.seen);
        let env = OpEnvelope {
            op_id: fengqiao_domain::new_id(),
            v: WIRE_VERSION,
            author: session.user.id,
            created_at: now,
            op,
            seen,
        };
        let view = self.optimistic_view(session)?;
        let verdict = decide(&env, &actor_of(session), &self.policy(), &view, now).map_err(view_error)?;
        let effects = match verdict {
            Verdict::Apply(effects) => effects,
            Verdict::Reject(r) => return Err(Error::refused(r)),
            Verdict::Conflict { message, .. } => {
                return Err(Error::Rejected(Rejection::new(RejectionCode::InvalidState, message)))
            }
            #[allow(unreachable_patterns)]
            _ => return Err(Error::InvalidInput("the rules gave no answer for this operation".into())),
        };
        let (kind, id) = env.op.record_ref();
        let record = effects
            .into_iter()
            .find_map(|e| match e {
                Effect::Put { record, .. } if record.kind() == kind && record.id() == id => Some(record),
                #[allow(unreachable_patterns)]
                _ => None,
            })
            .ok_or_else(|| Error::InvalidInput("nothing to record: it is already on this phone".into()))?;
        Ok(Decided { env, record })
    }

    /// Queues a decided operation with its record, durable on return. Its
    /// enqueue sequence; `None` only for [`Enqueue::Claiming`] when the case
    /// number was taken meanwhile (nothing written then).
    pub(crate) fn enqueue_decided(&self, d: &Decided, how: Enqueue<'_>) -> Result<Option<u64>, Error> {
        let at = d.env.created_at;
        let seq = match how {
            Enqueue::Plain => Some(self.store.enqueue(&d.record, &d.env, at)?),
            Enqueue::Photo(upload) => Some(self.store.enqueue_photo(&d.record, &d.env, upload, at)?),
            Enqueue::Claiming(claim) => self.store.enqueue_claiming(&d.record, &d.env, claim, at)?,
        };
        if seq.is_some() {
            tracing::info!(op_id = %d.env.op_id, kind = d.env.op.kind_name(), "operation queued");
        }
        Ok(seq)
    }
}
