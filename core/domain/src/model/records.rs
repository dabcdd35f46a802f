//! The records that sync: org units, households, visits. Each has an id made on
//! the device (UUIDv7) and a format version; readers tolerate added fields.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::disputes::{
    Agreement, Dispute, Escalation, FlowEntry, FollowUp, JudicialConfirmation, MediationSession,
};
use crate::model::org::OrgUnit;
use crate::model::prevent::{HouseholdStanding, Screening, VillageRules, Violation};
use crate::model::subsidy::{CaseReview, Consultation, PaymentBatch, Subsidy};
use crate::policy::Policy;
use crate::wire::rejection::{Rejection, RejectionCode};

pub use crate::model::entity::EntityKind;
pub use crate::model::text::is_sha256_hex;
pub use crate::model::visit_target::{SocialBody, SocialBodyKind, VisitTarget};

/// A household (户), belonging to one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Household {
    /// Stable id.
    pub id: Uuid,
    /// The group (组) it belongs to.
    pub group_id: Uuid,
    /// Household head's name (personal data).
    pub head_name: String,
    /// House number or address line within the group.
    pub address: String,
    /// Contact phone (personal data), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The county's own household code (from its registers); imports derive the
    /// household's id from it, so a re-import updates instead of duplicating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The head's resident identity number (personal data), checksum-validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<crate::model::id_number::IdNumber>,
}

/// The kind of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
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

/// A point on the map (WGS-84 degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeoPoint {
    /// Latitude, -90..=90.
    pub lat: f64,
    /// Longitude, -180..=180.
    pub lon: f64,
}

/// A lead (苗头隐患): an early sign of a dispute found on a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lead {
    /// Stable id (made on the device).
    pub id: Uuid,
    /// What was found.
    pub summary: String,
}

/// A visit (走访) logged by a group leader or another mediator: to a household
/// (挨家入户) or to another social body ([`SocialBody`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visit {
    /// Stable id, UUIDv7 made on the device.
    pub id: Uuid,
    /// The household visited; nil when the visit went to a [`SocialBody`].
    #[serde(default)]
    pub household_id: Uuid,
    /// The user who visited (set from the operation's author by the server).
    #[serde(default)]
    pub visitor_id: Uuid,
    /// When the visit happened (device clock, UTC; informational, never used to order).
    pub visited_at: DateTime<Utc>,
    /// Routine, legal publicity, follow-up or lead found.
    pub kind: VisitKind,
    /// Free-text notes (personal data).
    #[serde(default)]
    pub notes: String,
    /// Where, if the phone knew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    /// Leads found on this visit.
    #[serde(default)]
    pub leads: Vec<Lead>,
    /// The group the household belongs to, or the unit where the visited body
    /// stands (set by the server when applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
    /// The social body visited instead of a household (a cooperative, a school,
    /// a field...); absent for a household visit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<SocialBody>,
}

impl Visit {
    /// Checks the visit's own fields against policy. The same check runs on the
    /// phone before saving and on the server before applying.
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        let limits = &policy.visits;
        crate::model::text::check("走访记录", &self.notes, false, limits.max_notes_chars)?;
        if self.leads.len() > limits.max_leads {
            return Err(Rejection::new(
                RejectionCode::InvalidField,
                format!("苗头隐患：一次走访最多记 {} 条", limits.max_leads),
            ));
        }
        for lead in &self.leads {
            crate::model::text::check("苗头隐患内容", &lead.summary, true, limits.max_lead_chars)?;
        }
        if self.kind == VisitKind::LeadFound && self.leads.is_empty() {
            return Err(Rejection::new(
                RejectionCode::InvalidField,
                "走访类型：选择“发现苗头隐患”时须至少记一条苗头隐患",
            ));
        }
        if let Some(p) = self.location {
            if !(p.lat.is_finite()
                && p.lon.is_finite()
                && (-90.0..=90.0).contains(&p.lat)
                && (-180.0..=180.0).contains(&p.lon))
            {
                return Err(Rejection::new(
                    RejectionCode::InvalidField,
                    "位置：定位不对（纬度须在 -90 至 90 之间，经度须在 -180 至 180 之间）",
                ));
            }
        }
        let year = chrono::Datelike::year(&self.visited_at);
        if !(2000..=2100).contains(&year) {
            return Err(Rejection::new(RejectionCode::InvalidField, "走访日期：日期须在 2000 年至 2100 年之间"));
        }
        if self.id.is_nil() {
            return Err(Rejection::new(RejectionCode::InvalidField, crate::model::text::NIL_ID));
        }
        crate::model::visit_target::check_target(self.household_id, self.body.as_ref())
    }

    /// Whom it went to: its household, or the social body it names.
    pub fn target(&self) -> VisitTarget<'_> {
        match &self.body {
            Some(b) => VisitTarget::Body(b),
            None => VisitTarget::Household(self.household_id),
        }
    }
}

/// Image types a photo may have.
pub const PHOTO_CONTENT_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/heic", "image/webp"];

/// The photo type the bytes themselves show (their first bytes, the "magic"),
/// one of [`PHOTO_CONTENT_TYPES`]; `None` for anything else (a text file, a
/// PDF, ...). `head` is the start of the file (16 bytes suffice).
pub fn sniff_photo_type(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some("image/png");
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    // ISO base media: a `ftyp` box first, with a HEIF brand.
    const HEIF_BRANDS: [&[u8; 4]; 8] = [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"];
    if head.len() >= 12 && &head[4..8] == b"ftyp" && HEIF_BRANDS.iter().any(|b| &head[8..12] == *b) {
        return Some("image/heic");
    }
    None
}

/// A photo attached to a record (a visit now; disputes, agreements and violations
/// later). The photo itself is content-addressed by its SHA-256 and uploaded after
/// the record syncs; this record says which photo belongs where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// Stable id (UUIDv7 made on the device).
    pub id: Uuid,
    /// Kind of the record it is attached to.
    pub target_kind: EntityKind,
    /// Id of that record.
    pub target_id: Uuid,
    /// SHA-256 of the photo's bytes, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub length: u64,
    /// `image/jpeg`, `image/png`, `image/heic` or `image/webp`.
    pub content_type: String,
    /// Optional caption (personal data possible).
    #[serde(default)]
    pub caption: String,
    /// Who attached it (set from the operation's author by the server).
    #[serde(default)]
    pub author: Uuid,
    /// The case-file checklist item this photo satisfies (e.g. `identity_documents`),
    /// when attached to a dispute's file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_item: Option<String>,
}

impl Attachment {
    /// Checks the attachment's own fields against policy (phone and server).
    pub fn validate(&self, policy: &Policy) -> Result<(), Rejection> {
        let bad = |m: &str| Err(Rejection::new(RejectionCode::InvalidField, m));
        if !is_sha256_hex(&self.sha256) {
            return bad(crate::model::text::BAD_PHOTO_HASH);
        }
        if self.length == 0 || self.length > policy.photos.max_bytes {
            return Err(Rejection::new(
                RejectionCode::InvalidField,
                format!("照片大小：不能为空，最大 {} 字节（本县照片大小上限）", policy.photos.max_bytes),
            ));
        }
        if !PHOTO_CONTENT_TYPES.contains(&self.content_type.as_str()) {
            return bad("照片格式：只收 JPEG、PNG、HEIC 或 WebP 格式的照片");
        }
        crate::model::text::check("照片说明", &self.caption, false, 500)?;
        if let Some(item) = &self.file_item {
            crate::model::text::check("案卷材料项", item, true, 64)?;
        }
        if matches!(
            self.target_kind,
            EntityKind::Attachment | EntityKind::Unit | EntityKind::FlowEntry | EntityKind::Escalation
        ) {
            return bad("照片：只能附在走访、纠纷等记录上，不能附在单位、其他照片或上报申请上");
        }
        if self.id.is_nil() || self.target_id.is_nil() {
            return bad(crate::model::text::NIL_ID);
        }
        if let Some(item) = &self.file_item {
            if !policy.subsidy.checklist.iter().any(|c| &c.code == item) {
                return bad("案卷材料项：不是本县案卷材料清单中的一项");
            }
        }
        Ok(())
    }
}

/// A record as it travels in the change feed and sits in stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "entity", content = "data", rename_all = "snake_case")]
// A dispute is the largest record (its case file, credit per level); records are
// decoded one at a time and moved, never held in bulk arrays where the size would
// tell, and boxing it would change every match on the public enum.
#[allow(clippy::large_enum_variant)]
pub enum Record {
    /// An org unit.
    Unit(OrgUnit),
    /// A household.
    Household(Household),
    /// A visit.
    Visit(Visit),
    /// A photo attached to a record.
    Attachment(Attachment),
    /// A dispute.
    Dispute(Dispute),
    /// An escalation request (and its decision).
    Escalation(Escalation),
    /// A flow-table entry.
    FlowEntry(FlowEntry),
    /// A mediation session.
    MediationSession(MediationSession),
    /// An agreement.
    Agreement(Agreement),
    /// A follow-up.
    FollowUp(FollowUp),
    /// Judicial confirmation.
    JudicialConfirmation(JudicialConfirmation),
    /// A subsidy.
    Subsidy(Subsidy),
    /// A case-file review.
    CaseReview(CaseReview),
    /// A legal consultation.
    Consultation(Consultation),
    /// A payment batch.
    PaymentBatch(PaymentBatch),
    /// A village's rules.
    VillageRules(VillageRules),
    /// A violation.
    Violation(Violation),
    /// A household's standing.
    HouseholdStanding(HouseholdStanding),
    /// A screening.
    Screening(Screening),
}

impl Record {
    /// Which kind of record this is.
    pub fn kind(&self) -> EntityKind {
        match self {
            Record::Unit(_) => EntityKind::Unit,
            Record::Household(_) => EntityKind::Household,
            Record::Visit(_) => EntityKind::Visit,
            Record::Attachment(_) => EntityKind::Attachment,
            Record::Dispute(_) => EntityKind::Dispute,
            Record::Escalation(_) => EntityKind::Escalation,
            Record::FlowEntry(_) => EntityKind::FlowEntry,
            Record::MediationSession(_) => EntityKind::MediationSession,
            Record::Agreement(_) => EntityKind::Agreement,
            Record::FollowUp(_) => EntityKind::FollowUp,
            Record::JudicialConfirmation(_) => EntityKind::JudicialConfirmation,
            Record::Subsidy(_) => EntityKind::Subsidy,
            Record::CaseReview(_) => EntityKind::CaseReview,
            Record::Consultation(_) => EntityKind::Consultation,
            Record::PaymentBatch(_) => EntityKind::PaymentBatch,
            Record::VillageRules(_) => EntityKind::VillageRules,
            Record::Violation(_) => EntityKind::Violation,
            Record::HouseholdStanding(_) => EntityKind::HouseholdStanding,
            Record::Screening(_) => EntityKind::Screening,
        }
    }

    /// The record's id.
    pub fn id(&self) -> Uuid {
        match self {
            Record::Unit(u) => u.id,
            Record::Household(h) => h.id,
            Record::Visit(v) => v.id,
            Record::Attachment(a) => a.id,
            Record::Dispute(d) => d.id,
            Record::Escalation(e) => e.id,
            Record::FlowEntry(f) => f.id,
            Record::MediationSession(m) => m.id,
            Record::Agreement(a) => a.id,
            Record::FollowUp(f) => f.id,
            Record::JudicialConfirmation(j) => j.id,
            Record::Subsidy(x) => x.id,
            Record::CaseReview(x) => x.id,
            Record::Consultation(x) => x.id,
            Record::PaymentBatch(x) => x.id,
            Record::VillageRules(x) => x.id,
            Record::Violation(x) => x.id,
            Record::HouseholdStanding(x) => x.id,
            Record::Screening(x) => x.id,
        }
    }

    /// For a record of a dispute's case file (other than the dispute itself), the
    /// dispute it belongs to.
    pub fn dispute_id(&self) -> Option<Uuid> {
        match self {
            Record::Escalation(e) => Some(e.dispute_id),
            Record::FlowEntry(f) => Some(f.dispute_id),
            Record::MediationSession(m) => Some(m.dispute_id),
            Record::Agreement(a) => Some(a.dispute_id),
            Record::FollowUp(f) => Some(f.dispute_id),
            Record::JudicialConfirmation(j) => Some(j.dispute_id),
            Record::CaseReview(r) => Some(r.dispute_id),
            _ => None,
        }
    }

    /// The kind whose visibility rule governs this record: a photo is seen by
    /// exactly those who see the record it is attached to.
    pub fn visibility_kind(&self) -> EntityKind {
        match self {
            Record::Attachment(a) => a.target_kind,
            other => other.kind(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit() -> Visit {
        Visit {
            id: Uuid::now_v7(),
            household_id: Uuid::now_v7(),
            visitor_id: Uuid::now_v7(),
            visited_at: Utc::now(),
            kind: VisitKind::Routine,
            notes: "院子里堆放杂物".into(),
            location: None,
            leads: vec![],
            group_id: None,
            body: None,
        }
    }

    #[test]
    fn valid_visit_passes() {
        visit().validate(&Policy::default()).unwrap();
    }

    #[test]
    fn over_long_notes_are_refused() {
        let p = Policy::default();
        let mut v = visit();
        v.notes = "字".repeat(p.visits.max_notes_chars + 1);
        assert_eq!(v.validate(&p).unwrap_err().code, RejectionCode::TextTooLong);
    }

    #[test]
    fn lead_found_needs_a_lead_and_bad_location_is_refused() {
        let p = Policy::default();
        let mut v = visit();
        v.kind = VisitKind::LeadFound;
        assert!(v.validate(&p).is_err());
        v.leads.push(Lead { id: Uuid::now_v7(), summary: "两户因宅基地界线争吵".into() });
        v.validate(&p).unwrap();
        v.location = Some(GeoPoint { lat: 91.0, lon: 0.0 });
        assert!(v.validate(&p).is_err());
        v.location = Some(GeoPoint { lat: f64::NAN, lon: 0.0 });
        assert!(v.validate(&p).is_err());
    }

    #[test]
    fn readers_tolerate_added_fields() {
        let v = visit();
        let mut json = serde_json::to_value(Record::Visit(v.clone())).unwrap();
        json["data"]["added_in_v2"] = serde_json::json!("x");
        json["also_new"] = serde_json::json!(1);
        let back: Record = serde_json::from_value(json).unwrap();
        assert_eq!(back, Record::Visit(v));
    }

    #[test]
    fn photo_types_are_read_from_the_bytes() {
        assert_eq!(sniff_photo_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some("image/jpeg"));
        assert_eq!(sniff_photo_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff_photo_type(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_photo_type(b"\0\0\0\x18ftypheic\0\0\0\0"), Some("image/heic"));
        assert_eq!(sniff_photo_type(b"\0\0\0\x18ftypmif1\0\0\0\0"), Some("image/heic"));
        for not_a_photo in
            [&b"hello, this is text"[..], b"%PDF-1.7", b"\0\0\0\x18ftypisom", b"RIFF\0\0\0\0WAVE", b"", b"\xFF\xD8"]
        {
            assert_eq!(sniff_photo_type(not_a_photo), None, "{not_a_photo:?}");
        }
        for t in [&[0xFFu8, 0xD8, 0xFF][..], b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP", b"\0\0\0\x18ftypheic"] {
            assert!(PHOTO_CONTENT_TYPES.contains(&sniff_photo_type(t).unwrap_or_default()));
        }
    }
}
