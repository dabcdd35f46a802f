//! The invariants of a policy file: values that would break a promise of the
//! system are refused when the policy is loaded (`fengqiao-server check-policy`
//! and server start both go through [`Policy::from_toml`]), each with the TOML
//! key that holds it and a plain Chinese message for the county's staff.
//!
//! - `subsidy.quality`: at least one step paying more than 0 % (else no file
//!   could pass review and no one would ever be paid).
//! - `screening.assessment`: the weights sum to 100 (percent, [`crate::policy::assessment`]).
//! - `deadlines.*`: 1 to [`MAX_DAYS`] days, general ≤ larger ≤ major, and the
//!   warning shorter than the shortest deadline; `deadlines.regrade_grace_days`
//!   1 to `general_days` (0 would make a downgraded case overdue at once).
//! - `disputes.kinds`, `screening.focus_areas`: codes present and unique;
//!   `negative_list`: passes the village-rules edit's own check
//!   ([`crate::model::prevent::check_items`], with `village_rules.max_items` ≥ 1:
//!   among others, it suspends only services of `village_rules.services`).
//! - `village_rules.services`: names present and unique, none a statutory
//!   benefit ([`crate::model::village_law::PROTECTED_BENEFITS`]).
//! - `subsidy.impact_bonus`: one bonus per kind, each a kind of `disputes.kinds`.
//! - `screening.key_periods[i].from`/`.to`: real (month, day) dates (29 February
//!   allowed); a period whose end comes before its start runs over the new year.
//! - `disputes.confirmation_within_days`, `subsidy.pay_within_days`: 1 to
//!   [`MAX_DAYS`]; `auth.refresh_ttl_days` and `photos.upload_expiry_hours` at
//!   most [`MAX_DAYS`] (added to the clock at run time).
//! - `subsidy.checklist`: codes present and unique.
//! - `photos.long_edge_px`: [`MIN_LONG_EDGE_PX`] to [`MAX_LONG_EDGE_PX`];
//!   `photos.jpeg_quality`: [`MIN_JPEG_QUALITY`] to 100; `photos.originals_for`:
//!   each purpose once.
//! - The pay rules (`subsidy.paid_roles`, `subsidy.resolving_level_percent`,
//!   `subsidy.consultation_rates`): see [`crate::policy::pay_check`].
//! - Subsidy amounts: each rate at most [`MAX_AMOUNT_FEN`], and so is the
//!   formula's worst case ([`crate::model::subsidy::worst_case_fen`]), computed with
//!   checked arithmetic.

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::model::subsidy::MAX_AMOUNT_FEN;
use crate::policy::{Policy, PolicyError, MAX_LONG_EDGE_PX, MAX_TEXT_LIMIT, MIN_JPEG_QUALITY, MIN_LONG_EDGE_PX};

impl Policy {
    /// Parses a policy from TOML text; missing keys take the seed's defaults.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        // Unknown keys are found by path here rather than by serde's
        // `deny_unknown_fields`, so the same types read the served JSON
        // tolerantly: a phone keeps reading the policy of a newer server.
        let mut unknown = Vec::new();
        let p: Policy =
            serde_ignored::deserialize(toml::Deserializer::new(text), |path| unknown.push(path.to_string()))
                .map_err(|e| PolicyError::Parse(e.to_string()))?;
        if !unknown.is_empty() {
            return Err(PolicyError::Parse(format!("unknown key: {}", unknown.join(", "))));
        }
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<(), PolicyError> {
        let bad = |m: &str| Err(PolicyError::Invalid(m.to_string()));
        if self.sync.max_push_ops == 0 || self.sync.max_pull_limit == 0 {
            return bad("sync.max_push_ops and sync.max_pull_limit must be at least 1");
        }
        if self.auth.access_ttl_secs < 60 || self.auth.access_ttl_secs > 24 * 3600 {
            return bad("auth.access_ttl_secs must be between 60 and 86400");
        }
        if self.auth.refresh_ttl_days == 0 {
            return bad("auth.refresh_ttl_days must be at least 1");
        }
        if self.auth.refresh_retry_grace_secs > 600 {
            return bad("auth.refresh_retry_grace_secs must be at most 600");
        }
        if !(1..=720).contains(&self.auth.desk_idle_mins) {
            return bad("auth.desk_idle_mins must be 1 to 720");
        }
        if self.county.timezone.parse::<chrono_tz::Tz>().is_err() {
            return bad("county.timezone is not an IANA zone name");
        }
        if self.photos.max_bytes == 0 || self.photos.upload_expiry_hours == 0 {
            return bad("photos.max_bytes and photos.upload_expiry_hours must be at least 1");
        }
        if self.disputes.kinds.is_empty()
            || self.disputes.case_block_size == 0
            || self.disputes.case_block_size > crate::model::disputes::MAX_CASE_BLOCK_SIZE
        {
            return bad("disputes: at least one kind, case_block_size 1 to 1000");
        }
        if self.disputes.max_open_case_blocks == 0 {
            return bad("disputes.max_open_case_blocks must be at least 1");
        }
        let s = &self.subsidy;
        if [
            s.base_general_fen,
            s.base_larger_fen,
            s.base_major_fen,
            s.difficulty_medium_fen,
            s.difficulty_high_fen,
            s.consultation_fen,
        ]
        .iter()
        .any(|v| *v < 0)
            || s.impact_bonus.iter().any(|b| b.fen < 0)
            || s.quality.iter().any(|q| q.percent > 200 || q.min_score > 100)
        {
            return bad("subsidy: amounts are non-negative fen; quality steps score 0-100, percent 0-200");
        }
        // Bounds on what one op may carry: a phone adopts the served policy, and
        // its store does not give back the space of a discarded op at once.
        if !(1..=MAX_TEXT_LIMIT).contains(&self.text.max_note_chars)
            || !(1..=MAX_TEXT_LIMIT).contains(&self.visits.max_notes_chars)
            || !(1..=MAX_TEXT_LIMIT).contains(&self.visits.max_lead_chars)
            || !(1..=100).contains(&self.visits.max_leads)
        {
            return bad("text.max_note_chars, visits.max_notes_chars and visits.max_lead_chars: 1 to 20000; visits.max_leads: 1 to 100");
        }
        if self.storage.warn_free_bytes < self.storage.reserve_bytes {
            return bad("storage: warn_free_bytes must be at least reserve_bytes");
        }
        check(self)
    }
}

/// Longest window, in days, a policy may give (deadlines, confirmation,
/// payment): ten years. Dates computed from a window always stay in range.
pub const MAX_DAYS: u32 = 3650;

fn refuse(key: impl Into<String>, message: impl Into<String>) -> Result<(), PolicyError> {
    Err(PolicyError::Key { key: key.into(), message: message.into() })
}

/// Checks every invariant; the first broken one names its key.
pub(crate) fn check(p: &Policy) -> Result<(), PolicyError> {
    quality(p)?;
    assessment(p)?;
    deadlines(p)?;
    codes(p)?;
    negative_list(p)?;
    impact_bonus(p)?;
    key_periods(p)?;
    window("disputes.confirmation_within_days", "申请司法确认的期限", p.disputes.confirmation_within_days)?;
    window("subsidy.pay_within_days", "补贴支付期限", p.subsidy.pay_within_days)?;
    lifetimes(p)?;
    photo_sizing(p)?;
    crate::policy::pay_check::check(p)?;
    amounts(p)
}

/// Lifetimes added to the clock at run time (sign-in, uploads): bounded so the
/// sum stays a date.
fn lifetimes(p: &Policy) -> Result<(), PolicyError> {
    if p.auth.refresh_ttl_days > u64::from(MAX_DAYS) {
        return refuse("auth.refresh_ttl_days", format!("刷新令牌有效期不得超过 {MAX_DAYS} 天"));
    }
    if p.photos.upload_expiry_hours > u64::from(MAX_DAYS) * 24 {
        return refuse("photos.upload_expiry_hours", format!("未完成上传的保留时间不得超过 {MAX_DAYS} 天"));
    }
    Ok(())
}

/// How photos are sized at capture: a long edge and a quality that keep a
/// paper readable and a photo within what a phone can decode.
fn photo_sizing(p: &Policy) -> Result<(), PolicyError> {
    let ph = &p.photos;
    if !(MIN_LONG_EDGE_PX..=MAX_LONG_EDGE_PX).contains(&ph.long_edge_px) {
        return refuse(
            "photos.long_edge_px",
            format!("照片长边须在 {MIN_LONG_EDGE_PX} 到 {MAX_LONG_EDGE_PX} 像素之间（太小看不清，太大手机处理不了）"),
        );
    }
    if !(MIN_JPEG_QUALITY..=100).contains(&ph.jpeg_quality) {
        return refuse(
            "photos.jpeg_quality",
            format!("照片压缩质量须在 {MIN_JPEG_QUALITY} 到 100 之间（太低看不清文字）"),
        );
    }
    let mut seen = HashSet::new();
    if !ph.originals_for.iter().all(|purpose| seen.insert(*purpose)) {
        return refuse("photos.originals_for", "保留原图的照片用途重复了：每种用途只写一次");
    }
    Ok(())
}

fn quality(p: &Policy) -> Result<(), PolicyError> {
    if !p.subsidy.quality.iter().any(|q| q.percent > 0) {
        return refuse(
            "subsidy.quality",
            "质量系数表中没有任何一档的比例大于 0：任何案卷都无法通过评查，调解员永远领不到补贴",
        );
    }
    Ok(())
}

fn assessment(p: &Policy) -> Result<(), PolicyError> {
    let w = &p.screening.assessment;
    let sum = u64::from(w.settled_locally) + u64::from(w.screening) + u64::from(w.on_time);
    if sum != 100 {
        return refuse("screening.assessment", format!("考核权重（百分比）之和须为 100，现为 {sum}"));
    }
    Ok(())
}

fn window(key: &str, what: &str, days: u32) -> Result<(), PolicyError> {
    if days == 0 || days > MAX_DAYS {
        return refuse(key, format!("{what}须为 1 至 {MAX_DAYS} 天，现为 {days}"));
    }
    Ok(())
}

fn deadlines(p: &Policy) -> Result<(), PolicyError> {
    let d = &p.deadlines;
    window("deadlines.general_days", "一般纠纷的办理期限", d.general_days)?;
    window("deadlines.larger_days", "较大纠纷的办理期限", d.larger_days)?;
    window("deadlines.major_days", "重大纠纷的办理期限", d.major_days)?;
    if d.larger_days < d.general_days {
        return refuse("deadlines.larger_days", "较大纠纷的期限不得短于一般纠纷的期限");
    }
    if d.major_days < d.larger_days {
        return refuse("deadlines.major_days", "重大纠纷的期限不得短于较大纠纷的期限");
    }
    if d.warn_days_before >= d.general_days {
        return refuse(
            "deadlines.warn_days_before",
            format!(
                "到期提醒天数（{}）须短于最短的期限（{} 天），否则案件一登记就处于提醒中",
                d.warn_days_before, d.general_days
            ),
        );
    }
    if d.regrade_grace_days == 0 || d.regrade_grace_days > d.general_days {
        return refuse(
            "deadlines.regrade_grace_days",
            format!(
                "重新定级后的最短办理宽限（{} 天）须为 1 至一般纠纷的期限（{} 天）：为 0 时降级的案件会立即超期",
                d.regrade_grace_days, d.general_days
            ),
        );
    }
    Ok(())
}

fn unique<'a>(key: &str, what: &str, codes: impl Iterator<Item = &'a str>) -> Result<(), PolicyError> {
    let mut seen = HashSet::new();
    for c in codes {
        if c.trim().is_empty() {
            return refuse(key, format!("{what}的代码不得为空"));
        }
        if !seen.insert(c) {
            return refuse(key, format!("{what}的代码 {c} 重复"));
        }
    }
    Ok(())
}

fn codes(p: &Policy) -> Result<(), PolicyError> {
    unique("disputes.kinds", "纠纷类型", p.disputes.kinds.iter().map(|k| k.code.as_str()))?;
    unique("screening.focus_areas", "重点领域", p.screening.focus_areas.iter().map(|f| f.code.as_str()))?;
    unique("subsidy.checklist", "案卷清单项", p.subsidy.checklist.iter().map(|c| c.code.as_str()))
}

fn negative_list(p: &Policy) -> Result<(), PolicyError> {
    if p.village_rules.max_items == 0 {
        return refuse("village_rules.max_items", "每村负面清单至少要允许 1 项");
    }
    unique("village_rules.services", "可暂停的村级服务", p.village_rules.services.iter().map(String::as_str))?;
    for s in &p.village_rules.services {
        if let Err(r) = crate::model::village_law::refuse_protected("village_rules.services", s) {
            let why = r.message.strip_prefix("village_rules.services：").unwrap_or(&r.message);
            return refuse("village_rules.services", why);
        }
    }
    if let Err(r) = crate::model::prevent::check_items(&crate::model::prevent::default_items(p), p) {
        let why = r.message.strip_prefix("负面清单：").unwrap_or(&r.message);
        return refuse("negative_list", format!("村规民约编辑会拒绝这份清单：{why}"));
    }
    Ok(())
}

fn impact_bonus(p: &Policy) -> Result<(), PolicyError> {
    let mut seen = HashSet::new();
    for b in &p.subsidy.impact_bonus {
        if !p.disputes.kinds.iter().any(|k| k.code == b.kind) {
            return refuse("subsidy.impact_bonus", format!("{} 不是 disputes.kinds 中的纠纷类型", b.kind));
        }
        if !seen.insert(b.kind.as_str()) {
            return refuse("subsidy.impact_bonus", format!("纠纷类型 {} 有两项影响加分", b.kind));
        }
    }
    Ok(())
}

fn key_periods(p: &Policy) -> Result<(), PolicyError> {
    for (i, k) in p.screening.key_periods.iter().enumerate() {
        for (end, (month, day)) in [("from", k.from), ("to", k.to)] {
            // a leap year, so 29 February is a real date
            if NaiveDate::from_ymd_opt(2024, month, day).is_none() {
                return refuse(
                    format!("screening.key_periods[{i}].{end}"),
                    format!("重点时段“{}”的日期 {month} 月 {day} 日不存在", k.name),
                );
            }
        }
    }
    Ok(())
}

fn amounts(p: &Policy) -> Result<(), PolicyError> {
    let s = &p.subsidy;
    let ceiling = |key: &str, fen: i64| {
        if fen > MAX_AMOUNT_FEN {
            refuse(key, format!("金额 {fen} 分超过上限 {MAX_AMOUNT_FEN} 分（10 亿元）"))
        } else {
            Ok(())
        }
    };
    ceiling("subsidy.base_general_fen", s.base_general_fen)?;
    ceiling("subsidy.base_larger_fen", s.base_larger_fen)?;
    ceiling("subsidy.base_major_fen", s.base_major_fen)?;
    ceiling("subsidy.difficulty_medium_fen", s.difficulty_medium_fen)?;
    ceiling("subsidy.difficulty_high_fen", s.difficulty_high_fen)?;
    ceiling("subsidy.consultation_fen", s.consultation_fen)?;
    for b in &s.impact_bonus {
        ceiling("subsidy.impact_bonus", b.fen)?;
    }
    match crate::model::subsidy::worst_case_fen(p) {
        Some(worst) if worst <= MAX_AMOUNT_FEN => Ok(()),
        worst => refuse(
            "subsidy",
            format!(
                "一案补贴最多可达（基数 + 难度加成）× 最高质量系数 + 影响加分 = {}，超过上限 {MAX_AMOUNT_FEN} 分（10 亿元）",
                worst.map_or_else(|| "超出 i64 范围".to_string(), |w| format!("{w} 分"))
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::{Policy, PolicyError};

    /// Negative-list items as TOML, `n` of them, codes `item0`…
    fn items(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!("[[negative_list]]\ncode = \"item{i}\"\nlabel_zh = \"事项{i}\"\nlabel_en = \"item {i}\"\n\n")
            })
            .collect()
    }

    /// Each case: a policy file (missing keys take the seed's values) and the key
    /// its refusal must name.
    fn refused() -> Vec<(&'static str, String, &'static str)> {
        let mut cases: Vec<(&str, String, &str)> = vec![
            ("empty quality table", "[subsidy]\nquality = []\n".into(), "subsidy.quality"),
            (
                "a quality table that pays nothing",
                "[subsidy]\nquality = [{ min_score = 60, percent = 0 }]\n".into(),
                "subsidy.quality",
            ),
            (
                "weights summing to 110",
                "[screening.assessment]\nsettled_locally = 50\nscreening = 30\non_time = 30\n".into(),
                "screening.assessment",
            ),
            (
                "weights whose u32 sum wraps to 100",
                "[screening.assessment]\nsettled_locally = 4294967295\nscreening = 101\non_time = 0\n".into(),
                "screening.assessment",
            ),
            ("zero general deadline", "[deadlines]\ngeneral_days = 0\n".into(), "deadlines.general_days"),
            ("zero major deadline", "[deadlines]\nmajor_days = 0\n".into(), "deadlines.major_days"),
            ("larger shorter than general", "[deadlines]\nlarger_days = 3\n".into(), "deadlines.larger_days"),
            ("major shorter than larger", "[deadlines]\nmajor_days = 10\n".into(), "deadlines.major_days"),
            ("warning as long as the deadline", "[deadlines]\nwarn_days_before = 7\n".into(), "deadlines.warn_days_before"),
            ("warning longer than the deadline", "[deadlines]\nwarn_days_before = 30\n".into(), "deadlines.warn_days_before"),
            ("zero re-grading grace", "[deadlines]\nregrade_grace_days = 0\n".into(), "deadlines.regrade_grace_days"),
            ("re-grading grace past the shortest deadline", "[deadlines]\nregrade_grace_days = 8\n".into(), "deadlines.regrade_grace_days"),
            ("a deadline past the calendar", "[deadlines]\nmajor_days = 4000000000\n".into(), "deadlines.major_days"),
            (
                "duplicate dispute kind",
                "[[disputes.kinds]]\ncode = \"land\"\nlabel_zh = \"土地\"\nlabel_en = \"land\"\nusual_level = \"village\"\n\n\
                 [[disputes.kinds]]\ncode = \"land\"\nlabel_zh = \"土地2\"\nlabel_en = \"land 2\"\nusual_level = \"town\"\n\n\
                 [[disputes.kinds]]\ncode = \"mass\"\nlabel_zh = \"群体\"\nlabel_en = \"mass\"\nusual_level = \"town\"\n"
                    .into(),
                "disputes.kinds",
            ),
            (
                "dispute kind without a code",
                "[[disputes.kinds]]\ncode = \" \"\nlabel_zh = \"土地\"\nlabel_en = \"land\"\nusual_level = \"village\"\n\n\
                 [[disputes.kinds]]\ncode = \"mass\"\nlabel_zh = \"群体\"\nlabel_en = \"mass\"\nusual_level = \"town\"\n"
                    .into(),
                "disputes.kinds",
            ),
            (
                "duplicate focus area",
                "[[screening.focus_areas]]\ncode = \"water\"\nlabel_zh = \"水费\"\n\n\
                 [[screening.focus_areas]]\ncode = \"water\"\nlabel_zh = \"水\"\n"
                    .into(),
                "screening.focus_areas",
            ),
            ("duplicate negative-list code", format!("{}{}", items(2), items(1)), "negative_list"),
            ("empty negative list", "negative_list = []\n".into(), "negative_list"),
            ("more items than a village may have", items(16), "negative_list"),
            (
                "more items than the county's own cap",
                format!("[village_rules]\nmax_items = 3\n\n{}", items(4)),
                "negative_list",
            ),
            (
                "a correction period the edit refuses",
                "[[negative_list]]\ncode = \"x\"\nlabel_zh = \"某事\"\nlabel_en = \"x\"\ncorrection_days = 400\n".into(),
                "negative_list",
            ),
            (
                "a negative-list item without a label",
                "[[negative_list]]\ncode = \"x\"\nlabel_zh = \"  \"\nlabel_en = \"x\"\n".into(),
                "negative_list",
            ),
            ("a village may have no item", "[village_rules]\nmax_items = 0\n".into(), "village_rules.max_items"),
            (
                "bonus for an unknown kind",
                "[subsidy]\nimpact_bonus = [{ kind = \"masss\", fen = 100 }]\n".into(),
                "subsidy.impact_bonus",
            ),
            (
                "two bonuses for one kind",
                "[subsidy]\nimpact_bonus = [{ kind = \"mass\", fen = 100 }, { kind = \"mass\", fen = 200 }]\n".into(),
                "subsidy.impact_bonus",
            ),
            (
                "month 13",
                "[[screening.key_periods]]\nname = \"x\"\nfrom = [13, 1]\nto = [3, 15]\ncadence = \"weekly\"\n".into(),
                "screening.key_periods[0].from",
            ),
            (
                "February 30",
                "[[screening.key_periods]]\nname = \"x\"\nfrom = [3, 1]\nto = [3, 15]\ncadence = \"weekly\"\n\n\
                 [[screening.key_periods]]\nname = \"y\"\nfrom = [2, 1]\nto = [2, 30]\ncadence = \"weekly\"\n"
                    .into(),
                "screening.key_periods[1].to",
            ),
            (
                "day 0",
                "[[screening.key_periods]]\nname = \"x\"\nfrom = [3, 0]\nto = [3, 15]\ncadence = \"weekly\"\n".into(),
                "screening.key_periods[0].from",
            ),
            (
                "April 31",
                "[[screening.key_periods]]\nname = \"x\"\nfrom = [4, 1]\nto = [4, 31]\ncadence = \"weekly\"\n".into(),
                "screening.key_periods[0].to",
            ),
            (
                "zero confirmation window",
                "[disputes]\nconfirmation_within_days = 0\n".into(),
                "disputes.confirmation_within_days",
            ),
            ("zero payment window", "[subsidy]\npay_within_days = 0\n".into(), "subsidy.pay_within_days"),
            ("a payment window past the calendar", "[subsidy]\npay_within_days = 4000000000\n".into(), "subsidy.pay_within_days"),
            (
                "a base that overflows any arithmetic",
                "[subsidy]\nbase_major_fen = 9223372036854775807\n".into(),
                "subsidy.base_major_fen",
            ),
            (
                "a difficulty addition that overflows",
                "[subsidy]\ndifficulty_high_fen = 9223372036854775000\n".into(),
                "subsidy.difficulty_high_fen",
            ),
            (
                "a consultation fee past the ceiling",
                "[subsidy]\nconsultation_fen = 9223372036854775807\n".into(),
                "subsidy.consultation_fen",
            ),
            (
                "a bonus past the ceiling",
                "[subsidy]\nimpact_bonus = [{ kind = \"mass\", fen = 9223372036854775807 }]\n".into(),
                "subsidy.impact_bonus",
            ),
            (
                "amounts each under the ceiling whose worst case is over it",
                "[subsidy]\nbase_major_fen = 90000000000\ndifficulty_high_fen = 90000000000\n".into(),
                "subsidy",
            ),
        ];
        cases.push((
            "duplicate checklist item",
            "[subsidy]\nchecklist = [{ code = \"agreement\", label_zh = \"协议\", required = true }, \
             { code = \"agreement\", label_zh = \"协议书\", required = false }]\n"
                .into(),
            "subsidy.checklist",
        ));
        cases.push((
            "a refresh token past the calendar",
            "[auth]\nrefresh_ttl_days = 1000000000000\n".into(),
            "auth.refresh_ttl_days",
        ));
        cases.push((
            "an upload kept past the calendar",
            "[photos]\nupload_expiry_hours = 1000000000000\n".into(),
            "photos.upload_expiry_hours",
        ));
        cases.push(("a long edge of 10 px", "[photos]\nlong_edge_px = 10\n".into(), "photos.long_edge_px"));
        cases.push((
            "a long edge past a phone's decoder",
            "[photos]\nlong_edge_px = 100000\n".into(),
            "photos.long_edge_px",
        ));
        cases.push(("an unreadable JPEG quality", "[photos]\njpeg_quality = 5\n".into(), "photos.jpeg_quality"));
        cases.push(("a JPEG quality over 100", "[photos]\njpeg_quality = 101\n".into(), "photos.jpeg_quality"));
        cases.push((
            "a purpose named twice",
            "[photos]\noriginals_for = [\"case_file\", \"case_file\"]\n".into(),
            "photos.originals_for",
        ));
        cases.push(("a bonus for a kind dropped from the list", "[[disputes.kinds]]\ncode = \"family\"\nlabel_zh = \"家庭\"\nlabel_en = \"family\"\nusual_level = \"group\"\n".into(), "subsidy.impact_bonus"));
        cases
    }

    #[test]
    fn every_value_that_breaks_an_invariant_is_refused_naming_its_key() {
        let mut wrong = Vec::new();
        for (what, toml, want) in refused() {
            match Policy::from_toml(&toml) {
                Err(PolicyError::Key { key, message }) if key == want => {
                    assert!(!message.is_empty(), "{what}");
                    let shown = Policy::from_toml(&toml).unwrap_err().to_string();
                    assert!(shown.contains(want) && shown.contains(&message), "{what}: {shown}");
                }
                Ok(_) => wrong.push(format!("{what}: accepted, expected a refusal naming {want}")),
                Err(e) => wrong.push(format!("{what}: expected a refusal naming {want}, got: {e}")),
            }
        }
        assert!(wrong.is_empty(), "{} cases wrong:\n{}", wrong.len(), wrong.join("\n"));
    }

    #[test]
    fn the_seed_and_county_choices_pass() {
        assert_eq!(Policy::from_toml("").unwrap(), Policy::default());
        let p = Policy::default();
        assert_eq!(Policy::from_toml(&p.to_toml()).unwrap(), p);
        for ok in [
            // a key period across the new year wraps (see prevent::cadence_on)
            "[[screening.key_periods]]\nname = \"春节\"\nfrom = [12, 20]\nto = [1, 10]\ncadence = \"weekly\"\n"
                .to_string(),
            "[[screening.key_periods]]\nname = \"x\"\nfrom = [2, 29]\nto = [2, 29]\ncadence = \"weekly\"\n".into(),
            // the item cap is the county's: 16 items under a cap of 20
            format!("[village_rules]\nmax_items = 20\n\n{}", items(16)),
            "[deadlines]\ngeneral_days = 15\nlarger_days = 15\nmajor_days = 15\nwarn_days_before = 0\n".into(),
            "[screening.assessment]\nsettled_locally = 100\nscreening = 0\non_time = 0\n".into(),
            "[subsidy]\nquality = [{ min_score = 0, percent = 100 }]\nimpact_bonus = []\n".into(),
            "[photos]\nlong_edge_px = 2048\njpeg_quality = 90\nkeep_location = true\noriginals_for = [\"case_file\"]\n"
                .into(),
        ] {
            if let Err(e) = Policy::from_toml(&ok) {
                panic!("{ok}\nrefused: {e}");
            }
        }
    }
}
