//! Door-to-door visits (走访): record offline, list with their sync state.

use fengqiao_core::{NewVisit as CoreNewVisit, VisitItem as CoreVisitItem};
use fengqiao_domain::records as dom;

use crate::client::FieldClient;
use crate::convert::{from_millis, id, millis, parse_id};
use crate::error::FengqiaoError;
use crate::runtime::guard;

/// The kind of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum VisitKind {
    /// Routine door-to-door visit (挨家入户).
    Routine,
    /// Legal publicity (普法宣传).
    LegalPublicity,
    /// Follow-up of an earlier matter (回访).
    FollowUp,
    /// A lead (苗头隐患) was found.
    LeadFound,
}

impl From<dom::VisitKind> for VisitKind {
    fn from(k: dom::VisitKind) -> Self {
        match k {
            dom::VisitKind::Routine => VisitKind::Routine,
            dom::VisitKind::LegalPublicity => VisitKind::LegalPublicity,
            dom::VisitKind::FollowUp => VisitKind::FollowUp,
            dom::VisitKind::LeadFound => VisitKind::LeadFound,
        }
    }
}

impl From<VisitKind> for dom::VisitKind {
    fn from(k: VisitKind) -> Self {
        match k {
            VisitKind::Routine => dom::VisitKind::Routine,
            VisitKind::LegalPublicity => dom::VisitKind::LegalPublicity,
            VisitKind::FollowUp => dom::VisitKind::FollowUp,
            VisitKind::LeadFound => dom::VisitKind::LeadFound,
        }
    }
}

/// A point on the map (WGS-84 degrees).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct GeoPoint {
    /// Latitude, -90..=90.
    pub lat: f64,
    /// Longitude, -180..=180.
    pub lon: f64,
}

impl From<dom::GeoPoint> for GeoPoint {
    fn from(p: dom::GeoPoint) -> Self {
        GeoPoint { lat: p.lat, lon: p.lon }
    }
}

impl From<GeoPoint> for dom::GeoPoint {
    fn from(p: GeoPoint) -> Self {
        dom::GeoPoint { lat: p.lat, lon: p.lon }
    }
}

/// A lead (苗头隐患) found on a visit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Lead {
    /// Id (made on the phone).
    pub id: String,
    /// What was found.
    pub summary: String,
}

/// A visit as stored.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Visit {
    /// Id (UUIDv7 made on the phone).
    pub id: String,
    /// The household visited.
    pub household_id: String,
    /// Who visited.
    pub visitor_id: String,
    /// When (ms since the epoch, UTC; device clock).
    pub visited_at_ms: i64,
    /// Kind.
    pub kind: VisitKind,
    /// Notes (personal data).
    pub notes: String,
    /// Where, if known.
    pub location: Option<GeoPoint>,
    /// Leads found.
    pub leads: Vec<Lead>,
    /// The household's group (set when recorded or by the server).
    pub group_id: Option<String>,
}

impl From<dom::Visit> for Visit {
    fn from(v: dom::Visit) -> Self {
        Visit {
            id: id(v.id),
            household_id: id(v.household_id),
            visitor_id: id(v.visitor_id),
            visited_at_ms: millis(v.visited_at),
            kind: v.kind.into(),
            notes: v.notes,
            location: v.location.map(GeoPoint::from),
            leads: v.leads.into_iter().map(|l| Lead { id: id(l.id), summary: l.summary }).collect(),
            group_id: v.group_id.map(id),
        }
    }
}

/// A visit as the user enters it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewVisit {
    /// The household visited (one pulled to this phone).
    pub household_id: String,
    /// Kind.
    pub kind: VisitKind,
    /// When (ms since the epoch, UTC); none: now.
    #[uniffi(default = None)]
    pub visited_at_ms: Option<i64>,
    /// Notes.
    #[uniffi(default = "")]
    pub notes: String,
    /// Where, if known.
    #[uniffi(default = None)]
    pub location: Option<GeoPoint>,
    /// Summaries of leads found (each gets an id on the phone).
    #[uniffi(default = [])]
    pub leads: Vec<String>,
}

impl NewVisit {
    fn into_core(self) -> Result<CoreNewVisit, FengqiaoError> {
        Ok(CoreNewVisit {
            household_id: parse_id("household_id", &self.household_id)?,
            kind: self.kind.into(),
            visited_at: self.visited_at_ms.map(|ms| from_millis("visited_at_ms", ms)).transpose()?,
            notes: self.notes,
            location: self.location.map(dom::GeoPoint::from),
            leads: self.leads,
        })
    }
}

/// A visit in the local list, with where it stands with the server.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VisitItem {
    /// The visit.
    pub visit: Visit,
    /// Made on this phone and not yet confirmed by the server.
    pub pending: bool,
    /// Refused by the server; waits in quarantine for the user.
    pub quarantined: bool,
}

impl From<CoreVisitItem> for VisitItem {
    fn from(i: CoreVisitItem) -> Self {
        VisitItem { visit: i.visit.into(), pending: i.pending, quarantined: i.quarantined }
    }
}

#[uniffi::export]
impl FieldClient {
    /// Records a visit offline; durable when this returns, sent by the next sync.
    /// Checked first by the same rules the server applies (`invalid_input`,
    /// `rejected`).
    pub fn record_visit(&self, visit: NewVisit) -> Result<Visit, FengqiaoError> {
        guard(|| Ok(self.core().record_visit(visit.into_core()?)?.into()))
    }

    /// Visits, newest first, at most `limit`: pulled ones and this user's own
    /// unsynced ones (flagged `pending`). Offline.
    pub fn list_visits(&self, limit: u32) -> Result<Vec<VisitItem>, FengqiaoError> {
        guard(|| Ok(self.core().list_visits(limit)?.into_iter().map(VisitItem::from).collect()))
    }
}
