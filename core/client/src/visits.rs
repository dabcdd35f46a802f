//! Door-to-door visits (入户走访) on the phone: recording one offline, with
//! the leads found, and the list of visits and households for the visit
//! screens. A visit is checked and queued by the one operation path
//! ([`crate::ops`]): the domain's `decide_record_visit` on the phone's view
//! (the household must be pulled here and within the user's units, the
//! user's role may record visits there), then the visit and its op in one
//! transaction.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use fengqiao_domain::records::Lead;
use fengqiao_domain::wire::Op;
use fengqiao_domain::{EntityKind, GeoPoint, Household, Record, Visit, VisitKind};
use uuid::Uuid;

use crate::client::FieldClient;
use crate::error::{ClientError, Error};
use crate::store::RecordState;

/// A visit as the user enters it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVisit {
    /// The household visited (must be one pulled to this phone); nil when `body`
    /// names another social body.
    pub household_id: Uuid,
    /// The cooperative, school, field or other social body visited instead of a
    /// household, in a unit pulled to this phone.
    pub body: Option<fengqiao_domain::records::SocialBody>,
    /// Routine, legal publicity, follow-up or lead found.
    pub kind: VisitKind,
    /// When the visit happened; `None`: now.
    pub visited_at: Option<DateTime<Utc>>,
    /// Free-text notes.
    pub notes: String,
    /// Where, if known.
    pub location: Option<GeoPoint>,
    /// Summaries of leads found (each gets an id on the device).
    pub leads: Vec<String>,
}

/// A visit in the local list.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitItem {
    /// The visit.
    pub visit: Visit,
    /// Made on this phone and not yet confirmed by the server.
    pub pending: bool,
    /// Its operation was refused and waits in quarantine for the user.
    pub quarantined: bool,
}

impl FieldClient {
    /// Records a visit offline: checked by the domain's rules (see the
    /// module), saved with its outbox op all or nothing, durable when this
    /// returns. The visit carries its household's group, or the unit where the
    /// social body it went to stands.
    pub fn record_visit(&self, new_visit: NewVisit) -> Result<Visit, ClientError> {
        let nv = new_visit;
        self.submit(|a| {
            Op::RecordVisit(Visit {
                id: fengqiao_domain::new_id(),
                household_id: nv.household_id,
                visitor_id: a.user,
                visited_at: nv.visited_at.unwrap_or(a.now),
                kind: nv.kind,
                notes: nv.notes,
                location: nv.location,
                leads: nv.leads.into_iter().map(|summary| Lead { id: fengqiao_domain::new_id(), summary }).collect(),
                // The domain sets the household's group, or the body's unit.
                group_id: None,
                body: nv.body,
            })
        })
    }

    /// Visits, newest made first, at most `limit`: pulled ones and this user's
    /// own not yet synced ones (flagged).
    pub fn list_visits(&self, limit: u32) -> Result<Vec<VisitItem>, ClientError> {
        Ok(self.list_visits_inner(limit as usize)?)
    }

    fn list_visits_inner(&self, limit: usize) -> Result<Vec<VisitItem>, Error> {
        let user = self.session()?.user.id;
        let quarantined: HashSet<Uuid> = self.store.quarantined()?.into_iter().map(|q| q.op.op_id).collect();
        let mut fetch = limit.max(1);
        loop {
            let records = self.store.list_records(EntityKind::Visit, fetch)?;
            let exhausted = records.len() < fetch;
            let items: Vec<VisitItem> = records
                .into_iter()
                .filter_map(|r| {
                    let Record::Visit(visit) = r.record else { return None };
                    match r.state {
                        RecordState::Synced => Some(VisitItem { visit, pending: false, quarantined: false }),
                        RecordState::Pending { op_id, author } if author == user => {
                            Some(VisitItem { visit, pending: true, quarantined: quarantined.contains(&op_id) })
                        }
                        // Another user's unsynced work is not shown.
                        RecordState::Pending { .. } => None,
                    }
                })
                .take(limit)
                .collect();
            if items.len() >= limit || exhausted {
                return Ok(items);
            }
            fetch = fetch.saturating_mul(2);
        }
    }

    /// Households pulled to this phone (the user's jurisdiction), by address.
    pub fn households(&self) -> Result<Vec<Household>, ClientError> {
        let run = || -> Result<Vec<Household>, Error> {
            self.session()?;
            let mut out: Vec<Household> = self
                .store
                .list_records(EntityKind::Household, usize::MAX)?
                .into_iter()
                .filter_map(|r| match r.record {
                    Record::Household(h) => Some(h),
                    _ => None,
                })
                .collect();
            out.sort_by(|a, b| (a.group_id, &a.address).cmp(&(b.group_id, &b.address)));
            Ok(out)
        };
        Ok(run()?)
    }
}
