//! What a decision sees and what it gives back: the read-only [`StateView`] a
//! store backend lends, the [`Verdict`] with its [`Effect`]s, the scope of a unit
//! or a record, and the small refusals every area uses.

use uuid::Uuid;

use crate::model::org::RoleGrant;
use crate::model::records::{EntityKind, Record};
use crate::wire::rejection::{Rejection, RejectionCode};

/// The deepest an org tree goes (county > town > village > group).
pub const MAX_DEPTH: usize = 4;

/// A storage failure seen while reading state (not the operation's fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state read failed: {0}")]
pub struct ViewError(pub String);

/// What a view knows of a user: whether the account is enabled and the roles it
/// holds (the rules on who may be credited and paid read these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFacts {
    /// The account is enabled (a disabled user is credited nowhere new).
    pub enabled: bool,
    /// The user's roles, each bound to a unit.
    pub grants: Vec<RoleGrant>,
}

/// A view's answer about a user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonLookup {
    /// There is no such user (only a view holding every user says so: the server's).
    NoSuchUser,
    /// The user and their facts.
    Known(PersonFacts),
    /// The view cannot tell (a phone holds no directory of every user): the
    /// rule is left to the server, never refused on a guess.
    CannotTell,
}

/// Read access to current state, as of inside the caller's transaction.
pub trait StateView {
    /// The current record of that kind and id, if any.
    fn get(&self, kind: EntityKind, id: Uuid) -> Result<Option<Record>, ViewError>;
    /// Who reserved case-number block `block` of `year` (server only; a phone's
    /// view answers `None`).
    fn case_block_owner(&self, year: i32, block: u32) -> Result<Option<Uuid>, ViewError>;
    /// The dispute holding a case number, if any.
    fn case_number_holder(&self, case_number: &str) -> Result<Option<Uuid>, ViewError>;
    /// The feed sequence of the record's last change, where the view knows it
    /// (the server's does; a phone's answers `None`).
    fn version(&self, _kind: EntityKind, _id: Uuid) -> Result<Option<u64>, ViewError> {
        Ok(None)
    }
    /// The visit that found a lead, if the lead is known (a dispute may cite
    /// only a lead that exists).
    fn lead_visit(&self, lead: Uuid) -> Result<Option<Uuid>, ViewError>;
    /// What the view knows of a user (the server's store knows every user; a
    /// phone knows its signed-in user and answers [`PersonLookup::CannotTell`]
    /// for others).
    fn person(&self, id: Uuid) -> Result<PersonLookup, ViewError>;
    /// A county policy this deployment has run under, by its
    /// [`crate::policy::Policy::version`] (the server keeps each; a phone's view
    /// answers `None`): work made under it is judged by it where a later policy
    /// removed a code.
    fn earlier_policy(&self, _version: &str) -> Result<Option<crate::policy::Policy>, ViewError> {
        Ok(None)
    }
    /// The size of case-number block `block` of `year` when it was reserved,
    /// where the view knows it (`None` for a block reserved before sizes were
    /// kept: [`crate::disputes::MAX_CASE_BLOCK_SIZE`] bounds its numbers).
    fn case_block_size(&self, _year: i32, _block: u32) -> Result<Option<u32>, ViewError> {
        Ok(None)
    }
}

/// What to do with an operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Apply these effects (possibly none: an idempotent repeat).
    Apply(Vec<Effect>),
    /// Refuse for good with a stable code; change nothing.
    Reject(Rejection),
    /// Refuse because the state moved on; `current` is what stands.
    Conflict {
        /// Human message.
        message: String,
        /// The record as it stands.
        current: Box<Record>,
    },
}

impl From<Result<Vec<Effect>, Rejection>> for Verdict {
    fn from(r: Result<Vec<Effect>, Rejection>) -> Self {
        match r {
            Ok(e) => Verdict::Apply(e),
            Err(r) => Verdict::Reject(r),
        }
    }
}

/// A state change to execute.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Store this record and put it in the feed of every unit in `scope`.
    Put {
        /// The new record.
        record: Record,
        /// Its home unit first, then each unit above, the county last.
        scope: Vec<Uuid>,
    },
}

/// The scope of an org unit: itself, then each unit above it up to the county.
/// `None` if the unit is unknown or the tree is broken.
pub fn unit_scope(view: &dyn StateView, unit_id: Uuid) -> Result<Option<Vec<Uuid>>, ViewError> {
    let mut scope = Vec::with_capacity(MAX_DEPTH);
    let mut next = Some(unit_id);
    while let Some(id) = next {
        if scope.len() >= MAX_DEPTH || scope.contains(&id) {
            return Ok(None);
        }
        match view.get(EntityKind::Unit, id)? {
            Some(Record::Unit(u)) => {
                scope.push(u.id);
                next = u.parent;
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(scope))
}

/// The part of a unit's scope that `view` knows: the unit itself, then each known
/// unit above it. A phone holds only the units of its own jurisdiction (a group
/// leader has their group, not the village above), and a grant covers a target iff
/// the grant's unit is in the target's scope — so checking the known part is exact
/// for every grant the phone's user holds.
pub fn known_scope(view: &dyn StateView, unit_id: Uuid) -> Result<Vec<Uuid>, ViewError> {
    let mut scope = Vec::with_capacity(MAX_DEPTH);
    let mut next = Some(unit_id);
    while let Some(id) = next {
        if scope.len() >= MAX_DEPTH || scope.contains(&id) {
            break;
        }
        scope.push(id);
        next = match view.get(EntityKind::Unit, id)? {
            Some(Record::Unit(u)) => u.parent,
            _ => None,
        };
    }
    Ok(scope)
}

/// The scope of a household (its group's).
pub fn household_scope(view: &dyn StateView, household: Uuid) -> Result<Option<Vec<Uuid>>, ViewError> {
    match view.get(EntityKind::Household, household)? {
        Some(Record::Household(h)) => unit_scope(view, h.group_id),
        _ => Ok(None),
    }
}

/// The scope a record lives in (the units whose feeds carry it).
pub fn record_scope(view: &dyn StateView, record: &Record) -> Result<Option<Vec<Uuid>>, ViewError> {
    match record {
        Record::Unit(u) => unit_scope(view, u.id).map(|s| {
            // A unit not yet stored: its scope is itself plus its parent's.
            s.or_else(|| match u.parent {
                None => Some(vec![u.id]),
                Some(p) => unit_scope(view, p).ok().flatten().map(|mut s| {
                    s.insert(0, u.id);
                    s
                }),
            })
        }),
        Record::Household(h) => unit_scope(view, h.group_id),
        Record::Attachment(a) => match view.get(a.target_kind, a.target_id)? {
            Some(target) => record_scope(view, &target),
            None => Ok(None),
        },
        Record::Dispute(d) => unit_scope(view, d.origin_unit),
        Record::Consultation(c) => unit_scope(view, c.village_id),
        Record::VillageRules(r) => unit_scope(view, r.village_id),
        Record::Screening(r) => unit_scope(view, r.village_id),
        Record::Violation(v) => household_scope(view, v.household_id),
        Record::HouseholdStanding(h) => household_scope(view, h.household_id),
        // A batch is placed by its decision (the admin's county); never from here.
        Record::PaymentBatch(_) => Ok(None),
        Record::Subsidy(s) => {
            let source = match (s.dispute_id, s.consultation_id) {
                (Some(d), _) => view.get(EntityKind::Dispute, d)?,
                (None, Some(c)) => view.get(EntityKind::Consultation, c)?,
                _ => None,
            };
            // the payee's own feed carries it too
            Ok(match source {
                Some(src) => record_scope(view, &src)?.map(|mut sc| {
                    sc.push(s.payee);
                    sc
                }),
                None => None,
            })
        }
        Record::Visit(v) => match (v.group_id, &v.body) {
            (Some(g), _) => unit_scope(view, g),
            (None, Some(b)) => unit_scope(view, b.unit_id),
            (None, None) => match view.get(EntityKind::Household, v.household_id)? {
                Some(Record::Household(h)) => unit_scope(view, h.group_id),
                _ => Ok(None),
            },
        },
        other => match other.dispute_id() {
            Some(id) => match view.get(EntityKind::Dispute, id)? {
                Some(d) => record_scope(view, &d),
                None => Ok(None),
            },
            None => Ok(None),
        },
    }
}

/// Asserts that a refusal's or conflict's message is plain Chinese for the
/// screen ([`crate::wire::rejection::unreadable_reason`]); the decide tests run
/// every verdict they get through it.
#[cfg(test)]
pub(crate) fn assert_readable(v: &Verdict) {
    let (code, message) = match v {
        Verdict::Reject(r) => (r.code.as_str(), r.message.as_str()),
        Verdict::Conflict { message, .. } => ("conflict", message.as_str()),
        Verdict::Apply(_) => return,
    };
    if let Some(why) = crate::wire::rejection::unreadable_reason(message) {
        panic!("the {code} message is not plain Chinese ({why}): {message}");
    }
}

/// What a decision function returns.
pub(crate) type Out = Result<Verdict, ViewError>;

/// The refusal of an op routed to an area that does not decide it (a fault of
/// the app or server, never of the user).
pub(crate) const NOT_THIS_AREA: &str = "操作：这项操作不能在这里办理，请更新应用后重试";

/// The refusal of a subsidy whose amount, by the county's policy, overflows.
pub(crate) const SUBSIDY_OUT_OF_RANGE: &str = "补贴金额：按本县补贴政策算出的金额超出可计算范围，请县里检查补贴政策";

/// Refuse with a code and message.
pub(crate) fn reject(code: RejectionCode, msg: impl Into<String>) -> Out {
    Ok(Verdict::Reject(Rejection::new(code, msg)))
}

/// Refuse as outside the actor's units (or unknown: not told apart).
pub(crate) fn nij(what: &str) -> Out {
    Ok(Verdict::Reject(not_in_jurisdiction(what)))
}

pub(crate) fn not_in_jurisdiction(what: &str) -> Rejection {
    Rejection::new(
        RejectionCode::NotInJurisdiction,
        format!("辖区：该{what}不在您负责的单位范围内（或不存在），不能办理"),
    )
}
