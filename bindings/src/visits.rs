//! Visits (走访) to households or to other social bodies (a cooperative, a
//! school, a field): record offline, list with their sync state.

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

/// The kind of a social body visited instead of a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SocialBodyKind {
    /// 农民合作社
    Cooperative,
    /// 学校
    School,
    /// 田间地头
    Field,
    /// 农村社区
    Community,
    /// 其他社会主体 (its name says which).
    Other,
}

impl From<dom::SocialBodyKind> for SocialBodyKind {
    fn from(k: dom::SocialBodyKind) -> Self {
        match k {
            dom::SocialBodyKind::Cooperative => SocialBodyKind::Cooperative,
            dom::SocialBodyKind::School => SocialBodyKind::School,
            dom::SocialBodyKind::Field => SocialBodyKind::Field,
            dom::SocialBodyKind::Community => SocialBodyKind::Community,
            dom::SocialBodyKind::Other => SocialBodyKind::Other,
        }
    }
}

impl From<SocialBodyKind> for dom::SocialBodyKind {
    fn from(k: SocialBodyKind) -> Self {
        match k {
            SocialBodyKind::Cooperative => dom::SocialBodyKind::Cooperative,
            SocialBodyKind::School => dom::SocialBodyKind::School,
            SocialBodyKind::Field => dom::SocialBodyKind::Field,
            SocialBodyKind::Community => dom::SocialBodyKind::Community,
            SocialBodyKind::Other => dom::SocialBodyKind::Other,
        }
    }
}

/// A social body visited instead of a household.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SocialBody {
    /// What kind of body.
    pub kind: SocialBodyKind,
    /// Its name (e.g. 联丰农民专业合作社).
    pub name: String,
    /// The group or village where it stands (a unit pulled to this phone).
    pub unit_id: String,
}

impl From<dom::SocialBody> for SocialBody {
    fn from(b: dom::SocialBody) -> Self {
        SocialBody { kind: b.kind.into(), name: b.name, unit_id: id(b.unit_id) }
    }
}

impl SocialBody {
    fn into_dom(self) -> Result<dom::SocialBody, FengqiaoError> {
        Ok(dom::SocialBody {
            kind: self.kind.into(),
            name: self.name,
            unit_id: parse_id("body.unit_id", &self.unit_id)?,
        })
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
    /// The household visited; the nil id when `body` is set.
    pub household_id: String,
    /// The social body visited instead of a household.
    pub body: Option<SocialBody>,
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
            body: v.body.map(SocialBody::from),
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
    /// The household visited (one pulled to this phone); empty when `body` is set.
    pub household_id: String,
    /// Kind.
    pub kind: VisitKind,
    /// The cooperative, school, field or other social body visited instead of a
    /// household; none: a household visit.
    #[uniffi(default = None)]
    pub body: Option<SocialBody>,
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
            household_id: match (&self.body, self.household_id.as_str()) {
                (Some(_), "") => uuid::Uuid::nil(),
                (_, household) => parse_id("household_id", household)?,
            },
            body: self.body.map(SocialBody::into_dom).transpose()?,
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
