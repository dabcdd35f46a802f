//! The county policy file: a deployment's numbers (limits, token lifetimes,
//! deadlines, the negative list, subsidy rates) — policy, not code.
//!
//! Loaded from TOML; every section and key has the seed's default, and an unknown
//! key is an error that names it (a misspelt key must not silently fall back).

use serde::{Deserialize, Serialize};

use super::subsidy_policy::SubsidyPolicy;

/// The whole policy. `Policy::default()` is the seed county's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// The county itself.
    pub county: CountyPolicy,
    /// Limits on visit records.
    pub visits: VisitPolicy,
    /// Sync limits.
    pub sync: SyncPolicy,
    /// Sign-in and token lifetimes.
    pub auth: AuthPolicy,
    /// Deadlines by grade, in days.
    pub deadlines: DeadlinePolicy,
    /// Photo uploads.
    pub photos: PhotoPolicy,
    /// Dispute kinds, case numbers, judicial confirmation.
    pub disputes: DisputePolicy,
    /// Subsidy rates, the case-file checklist, payment deadline.
    pub subsidy: SubsidyPolicy,
    /// Screening focus areas, key periods, assessment weights.
    pub screening: ScreeningPolicy,
    /// The negative list (负面清单) every village starts from.
    pub negative_list: Vec<NegativeItemPolicy>,
    /// Limits on a village's own rules.
    pub village_rules: VillageRulesPolicy,
    /// Free disk space the server keeps and warns about.
    pub storage: StoragePolicy,
    /// Lengths of free text in operations.
    pub text: TextPolicy,
}

/// Limits on a village's rules (村规民约): the county's choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VillageRulesPolicy {
    /// Most items on a village's negative list (the policy's own `negative_list`
    /// included); at least 1.
    pub max_items: usize,
    /// The village-level services a negative-list sanction may suspend
    /// (村委会暂停公共服务): a suspension names only these. None may name a
    /// statutory benefit (低保, 特困供养, 医保, 养老保险, 义务教育 …: the list in
    /// code, [`crate::model::village_law::PROTECTED_BENEFITS`], that no policy
    /// edits). Default: 村集体分红, 村级评优评先, 村级福利.
    pub services: Vec<String>,
}

impl Default for VillageRulesPolicy {
    fn default() -> Self {
        VillageRulesPolicy {
            max_items: 15,
            services: ["村集体分红", "村级评优评先", "村级福利"].into_iter().map(String::from).collect(),
        }
    }
}

/// Lengths of free text in operations (limits every county shares, such as names
/// and phone numbers, are fixed in the domain's `validate` functions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextPolicy {
    /// Most characters in a note, comment or reason of a dispute, subsidy or
    /// village-rules operation (closing notes, follow-up notes, escalation
    /// decisions, refusals, restorations, violations, consultations). Longer is
    /// refused `text_too_long`, naming the field.
    pub max_note_chars: usize,
}

impl Default for TextPolicy {
    fn default() -> Self {
        TextPolicy { max_note_chars: 4000 }
    }
}

/// Free space on the server's data dir.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoragePolicy {
    /// Writes are refused (`507 storage_full`, retried later by the phones) while
    /// less than this many bytes are free, so the store never meets a full disk in
    /// the middle of a write (default 64 MiB).
    pub reserve_bytes: u64,
    /// The log warns, and `/healthz` says `"disk": "low"`, while less than this many
    /// bytes are free (default 1 GiB).
    pub warn_free_bytes: u64,
}

impl Default for StoragePolicy {
    fn default() -> Self {
        StoragePolicy { reserve_bytes: 64 * 1024 * 1024, warn_free_bytes: 1024 * 1024 * 1024 }
    }
}

/// Dispute kinds, case-number blocks, judicial confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisputePolicy {
    /// The county's dispute kinds.
    pub kinds: Vec<DisputeKindPolicy>,
    /// Case numbers a phone reserves at a time.
    pub case_block_size: u32,
    /// Most outstanding case-number blocks one user may hold in a year (a block
    /// is outstanding while some of its numbers are unused: see
    /// [`crate::model::disputes::CaseBlockUse`]); reserving more is refused
    /// `409 too_many_blocks`.
    pub max_open_case_blocks: u32,
    /// Judicial confirmation is applied for within this many days of the agreement.
    pub confirmation_within_days: u32,
}

/// One kind of dispute, with the level that usually settles it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisputeKindPolicy {
    /// Stable code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// The level that usually settles it.
    pub usual_level: crate::model::level::Level,
}

impl Default for DisputePolicy {
    fn default() -> Self {
        use crate::model::level::Level::*;
        let kinds = [
            ("family", "家庭纠纷", "family", Group),
            ("neighbour", "邻里纠纷", "neighbour", Group),
            ("land", "土地纠纷", "land", Village),
            ("land_rights", "土地确权", "land-rights confirmation", Village),
            ("water_fee", "水费纠纷", "water fee", Village),
            ("inter_group", "组际纠纷", "inter-group", Village),
            ("wage_arrears", "讨薪", "wage arrears", JudicialOffice),
            ("personal_injury", "人身损害", "personal injury", JudicialOffice),
            ("property_damage", "财产损害", "property damage", JudicialOffice),
            ("labour", "劳务纠纷", "labour service", JudicialOffice),
            ("historical", "历史遗留", "historical", Town),
            ("mass", "群体性纠纷", "mass", Town),
        ]
        .into_iter()
        .map(|(c, zh, en, l)| DisputeKindPolicy {
            code: c.into(),
            label_zh: zh.into(),
            label_en: en.into(),
            usual_level: l,
        })
        .collect();
        DisputePolicy { kinds, case_block_size: 100, max_open_case_blocks: 10, confirmation_within_days: 30 }
    }
}

/// Photo uploads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhotoPolicy {
    /// Largest photo accepted, in bytes (default 25 MB).
    pub max_bytes: u64,
    /// An incomplete upload is removed this many hours after it was created.
    pub upload_expiry_hours: u64,
    /// Photos are sized on the phone when attached: a JPEG or PNG whose
    /// longer side exceeds this many pixels is scaled down to it and saved as
    /// a JPEG (default 1,600; [`MIN_LONG_EDGE_PX`] to [`MAX_LONG_EDGE_PX`]).
    pub long_edge_px: u32,
    /// JPEG quality of a sized photo, 1 to 100 (default 80; at least
    /// [`MIN_JPEG_QUALITY`]).
    pub jpeg_quality: u8,
    /// A sized photo keeps its EXIF location (GPS) fields (default false:
    /// dropped; the visit's own record says where it was).
    pub keep_location: bool,
    /// A sized photo keeps its EXIF device fields: make, model, software,
    /// serial numbers, lens, owner (default false: dropped).
    pub keep_device: bool,
    /// Purposes whose photos are kept as taken, neither scaled nor
    /// re-encoded (default none; e.g. `["case_file"]` for full-resolution
    /// case-file papers).
    pub originals_for: Vec<PhotoPurpose>,
}

/// Smallest [`PhotoPolicy::long_edge_px`] a county may set.
pub const MIN_LONG_EDGE_PX: u32 = 320;
/// Largest [`PhotoPolicy::long_edge_px`] a county may set.
pub const MAX_LONG_EDGE_PX: u32 = 8192;
/// Lowest [`PhotoPolicy::jpeg_quality`] a county may set (below it a paper is unreadable).
pub const MIN_JPEG_QUALITY: u8 = 30;

/// What a photo is for, which decides whether it is sized at capture
/// ([`PhotoPolicy::originals_for`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoPurpose {
    /// A photo of a record (a visit, a screening, a violation, ...).
    Record,
    /// A case-file paper filed under an item of the case-file checklist.
    CaseFile,
}

impl PhotoPurpose {
    /// The purpose of a photo attached with this case-file item (`None`: a record's photo).
    pub fn of(file_item: Option<&str>) -> PhotoPurpose {
        if file_item.is_some() {
            PhotoPurpose::CaseFile
        } else {
            PhotoPurpose::Record
        }
    }
}

impl PhotoPolicy {
    /// Whether photos of this purpose are kept as taken (not sized).
    pub fn keeps_original(&self, purpose: PhotoPurpose) -> bool {
        self.originals_for.contains(&purpose)
    }
}

impl Default for PhotoPolicy {
    fn default() -> Self {
        PhotoPolicy {
            max_bytes: 25 * 1024 * 1024,
            upload_expiry_hours: 24,
            long_edge_px: 1600,
            jpeg_quality: 80,
            keep_location: false,
            keep_device: false,
            originals_for: Vec::new(),
        }
    }
}

/// The county's name and display zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CountyPolicy {
    /// Display name.
    pub name: String,
    /// IANA zone used for display (times are stored in UTC). Builds know China's
    /// zones and UTC only (`.cargo/config.toml`, ADR 0014): any other name is refused.
    pub timezone: String,
}

/// Limits on visit records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VisitPolicy {
    /// Most characters in a visit's notes.
    pub max_notes_chars: usize,
    /// Most leads on one visit.
    pub max_leads: usize,
    /// Most characters in a lead's summary.
    pub max_lead_chars: usize,
}

/// Sync limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncPolicy {
    /// Most operations in one push.
    pub max_push_ops: usize,
    /// Largest push body in bytes.
    pub max_push_bytes: usize,
    /// Largest pull page.
    pub max_pull_limit: usize,
    /// How long one API request (not a photo upload) may take, seconds; a slower
    /// one is answered 408.
    pub request_timeout_secs: u64,
}

/// Sign-in and token lifetimes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthPolicy {
    /// Access-token lifetime in seconds.
    pub access_ttl_secs: u64,
    /// Refresh-token lifetime in days (the phone may be offline for weeks).
    pub refresh_ttl_days: u64,
    /// Shortest password accepted when one is set.
    pub min_password_chars: usize,
    /// Sign-in attempts one username may make per minute (a burst of this many,
    /// refilled evenly); more get 429 before any password is hashed. 0: no limit.
    pub login_per_account_per_minute: u32,
    /// Sign-in attempts one client address may make per minute (all usernames
    /// together); more get 429 before any password is hashed. 0: no limit.
    pub login_per_address_per_minute: u32,
    /// Seconds after a refresh token is spent in which the same device may
    /// present it again (its answer was lost) and get a fresh pair, as long as
    /// the pair it was given has not been used; reuse after that, or from
    /// another device, revokes the session. 0: no grace. At most 600.
    pub refresh_retry_grace_secs: u64,
    /// Minutes a desk session (`/desk/`) may sit idle before it ends and the
    /// user signs in again. 1 to 720; default 30.
    pub desk_idle_mins: u32,
}

/// Deadlines by dispute grade, in days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DeadlinePolicy {
    /// 一般
    pub general_days: u32,
    /// 较大
    pub larger_days: u32,
    /// 重大
    pub major_days: u32,
    /// Warn this many days before a deadline.
    pub warn_days_before: u32,
    /// A re-grading that shortens a dispute's deadline leaves its handler at
    /// least this many days from the re-grading (never more than the deadline
    /// had before it; ADR 0026). 1 to `general_days`.
    pub regrade_grace_days: u32,
}

/// One item of the negative list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegativeItemPolicy {
    /// Stable code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Sanctions after the correction period.
    #[serde(default)]
    pub sanctions: Vec<crate::model::prevent_terms::Sanction>,
    /// Days to correct before sanctions apply.
    #[serde(default = "default_correction_days")]
    pub correction_days: u32,
}

fn default_correction_days() -> u32 {
    15
}

/// Screening: focus areas and key periods that raise the cadence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScreeningPolicy {
    /// Focus areas (重点领域).
    pub focus_areas: Vec<FocusArea>,
    /// Key periods (重点时段).
    pub key_periods: Vec<KeyPeriod>,
    /// Weights of the village assessment (percent, summing to 100).
    pub assessment: AssessmentWeights,
}

/// A focus area of screening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FocusArea {
    /// Stable code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
}

/// A key period: from and to as (month, day), inclusive, and the cadence in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyPeriod {
    /// Chinese name.
    pub name: String,
    /// First day (month, day).
    pub from: (u32, u32),
    /// Last day (month, day).
    pub to: (u32, u32),
    /// Cadence inside.
    pub cadence: crate::model::prevent_terms::Cadence,
}

/// Weights of the village assessment, percent (the rule: [`crate::policy::assessment`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssessmentWeights {
    /// Share of disputes settled in the group or village.
    pub settled_locally: u32,
    /// Screening completion.
    pub screening: u32,
    /// Share of open disputes not overdue.
    pub on_time: u32,
}

impl Default for AssessmentWeights {
    fn default() -> Self {
        AssessmentWeights { settled_locally: 50, screening: 30, on_time: 20 }
    }
}

impl Default for ScreeningPolicy {
    fn default() -> Self {
        use crate::model::prevent_terms::Cadence;
        ScreeningPolicy {
            focus_areas: [("land_rights", "土地确权"), ("water_fees", "水费"), ("wage_arrears", "讨薪")]
                .into_iter()
                .map(|(c, zh)| FocusArea { code: c.into(), label_zh: zh.into() })
                .collect(),
            key_periods: vec![
                KeyPeriod { name: "两会".into(), from: (3, 1), to: (3, 15), cadence: Cadence::Weekly },
                KeyPeriod { name: "农忙秋收".into(), from: (9, 1), to: (10, 31), cadence: Cadence::HalfMonthly },
                KeyPeriod { name: "国庆".into(), from: (9, 25), to: (10, 8), cadence: Cadence::Weekly },
            ],
            assessment: AssessmentWeights::default(),
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            county: CountyPolicy::default(),
            visits: VisitPolicy::default(),
            sync: SyncPolicy::default(),
            auth: AuthPolicy::default(),
            deadlines: DeadlinePolicy::default(),
            photos: PhotoPolicy::default(),
            disputes: DisputePolicy::default(),
            subsidy: SubsidyPolicy::default(),
            screening: ScreeningPolicy::default(),
            negative_list: seed_negative_list(),
            village_rules: VillageRulesPolicy::default(),
            storage: StoragePolicy::default(),
            text: TextPolicy::default(),
        }
    }
}

impl Default for CountyPolicy {
    fn default() -> Self {
        CountyPolicy { name: "示范旗".into(), timezone: "Asia/Shanghai".into() }
    }
}

impl Default for VisitPolicy {
    fn default() -> Self {
        VisitPolicy { max_notes_chars: 4000, max_leads: 20, max_lead_chars: 500 }
    }
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy {
            max_push_ops: 500,
            max_push_bytes: 2 * 1024 * 1024,
            max_pull_limit: 1000,
            request_timeout_secs: 30,
        }
    }
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            access_ttl_secs: 900,
            refresh_ttl_days: 60,
            min_password_chars: 10,
            login_per_account_per_minute: 10,
            login_per_address_per_minute: 120,
            refresh_retry_grace_secs: 60,
            desk_idle_mins: 30,
        }
    }
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy { general_days: 7, larger_days: 15, major_days: 20, warn_days_before: 2, regrade_grace_days: 2 }
    }
}

fn seed_negative_list() -> Vec<NegativeItemPolicy> {
    [
        ("water_fees_unpaid", "不按规定交纳水费", "not paying water fees as required"),
        ("elderly_abandoned_or_abused", "遗弃虐待老人", "abandoning or abusing the elderly"),
        ("yard_dirty_messy", "村庄卫生脏乱差", "dirty, messy, unsanitary yard"),
        ("unreasonable_petitioning", "无理取闹、缠访闹访", "unreasonable trouble-making and pestering petitions"),
    ]
    .into_iter()
    .map(|(c, zh, en)| {
        use crate::model::prevent_terms::Sanction;
        let sanctions = match c {
            "water_fees_unpaid" => vec![Sanction::ServicesSuspended {
                services: vec!["村集体分红".into(), "村级评优评先".into()],
            }],
            "elderly_abandoned_or_abused" => vec![Sanction::DishonestyList, Sanction::PublicNotice],
            "yard_dirty_messy" => vec![Sanction::PublicNotice],
            _ => vec![Sanction::ServicesSuspended { services: vec!["村级评优评先".into()] }, Sanction::DishonestyList],
        };
        NegativeItemPolicy { code: c.into(), label_zh: zh.into(), label_en: en.into(), sanctions, correction_days: 15 }
    })
    .collect()
}

/// The largest text limit a county may set (characters).
pub const MAX_TEXT_LIMIT: usize = 20_000;

/// A policy file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not valid TOML, a wrong type, or an unknown key (the message names it).
    #[error("policy file: {0}")]
    Parse(String),
    /// Parsed, but a value is out of range.
    #[error("policy file: {0}")]
    Invalid(String),
    /// Parsed, but a value breaks an invariant ([`crate::policy::policy_check`]): the TOML
    /// key path (e.g. `subsidy.quality`, `screening.key_periods[0].from`) and a
    /// plain Chinese message for the county's staff.
    #[error("policy file: {key}: {message}")]
    Key {
        /// TOML key path of the offending value.
        key: String,
        /// Why it is refused.
        message: String,
    },
}

impl Policy {
    /// The policy as TOML (e.g. to write a template).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// The policy's version: the first 16 hex digits of the SHA-256 of its JSON
    /// (as `GET /v1/policy` serves it), so two policies with the same values have
    /// the same version whatever the file's layout. A dispute records the version
    /// it was registered under, and the server keeps every version it has run
    /// under, so work done offline under an older one is judged by it.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
