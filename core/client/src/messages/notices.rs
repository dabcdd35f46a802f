//! Words the core shows unasked, from the domain's nouns alone: a level, the
//! approver's labels and comment templates, a deadline with its state, a
//! review's reasons — in the app's [`Locale`] (plain Chinese first, English
//! second). The notices' sentences are `crate::notices::words`, built on these.

use fengqiao_domain::disputes::EscalationReason;
use fengqiao_domain::ladder::{DeadlineState, Level};
use fengqiao_domain::policy::{DisputeKindPolicy, Policy};

use super::Locale;

/// A level of the ladder in words.
pub(crate) fn level(l: Level, loc: Locale) -> &'static str {
    match loc {
        Locale::ZhCn => l.label_zh(),
        Locale::En => match l {
            Level::Group => "the group",
            Level::Village => "the village",
            Level::JudicialOffice => "the judicial office",
            Level::Town => "the town's mediation committee",
        },
    }
}

/// An amount in fen as yuan with two decimals (`1234.50`).
pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// A dispute kind's label.
pub(crate) fn kind_label(k: &DisputeKindPolicy, loc: Locale) -> String {
    match loc {
        Locale::En if !k.label_en.trim().is_empty() => k.label_en.clone(),
        _ => k.label_zh.clone(),
    }
}

/// The reason for an escalation in words.
pub(crate) fn reason_label(r: EscalationReason, loc: Locale) -> &'static str {
    match (loc, r) {
        (Locale::ZhCn, EscalationReason::RepeatedMediationFailed) => "屡调不成",
        (Locale::ZhCn, EscalationReason::OutsideLevelScope) => "超出本级调解范围",
        (Locale::ZhCn, EscalationReason::PartiesAgitated) => "当事人情绪激烈",
        (Locale::ZhCn, EscalationReason::LargeSums) => "涉及金额较大",
        (Locale::ZhCn, EscalationReason::MajorGrade) => "重大纠纷，直接上报",
        (Locale::ZhCn, EscalationReason::Other) => "其他（见说明）",
        (Locale::En, EscalationReason::RepeatedMediationFailed) => "Repeated mediation failed",
        (Locale::En, EscalationReason::OutsideLevelScope) => "Beyond this level's scope",
        (Locale::En, EscalationReason::PartiesAgitated) => "Parties highly agitated",
        (Locale::En, EscalationReason::LargeSums) => "Large sums involved",
        (Locale::En, EscalationReason::MajorGrade) => "A major dispute, straight to its level",
        (Locale::En, EscalationReason::Other) => "Other (see the note)",
    }
}

/// A deadline with its state.
pub(crate) fn deadline_text(at: &str, state: Option<DeadlineState>, loc: Locale) -> String {
    let s = match (loc, state) {
        (_, None) => return at.to_string(),
        (Locale::ZhCn, Some(DeadlineState::Ok)) => "正常",
        (Locale::ZhCn, Some(DeadlineState::Approaching)) => "临近期限",
        (Locale::ZhCn, Some(DeadlineState::Overdue)) => "已逾期",
        (Locale::En, Some(DeadlineState::Ok)) => "on time",
        (Locale::En, Some(DeadlineState::Approaching)) => "approaching",
        (Locale::En, Some(DeadlineState::Overdue)) => "overdue",
    };
    match loc {
        Locale::ZhCn => format!("{at}（{s}）"),
        Locale::En => format!("{at} ({s})"),
    }
}

/// Comments offered to an approver.
pub(crate) fn comment_templates(approve: bool, loc: Locale) -> Vec<String> {
    let list: &[&str] = match (loc, approve) {
        (Locale::ZhCn, true) => {
            &["情况属实，同意上报。", "本级已多次调解未成，同意移交上级办理。", "涉及金额较大，同意上报。"]
        }
        (Locale::ZhCn, false) => &[
            "请继续在本级调解，必要时再申请。",
            "案卷材料不全，请补充调解笔录后再申请。",
            "属本级调解范围，请在本级办结。",
        ],
        (Locale::En, true) => &[
            "The facts hold: approved.",
            "Repeated mediation failed here: passed up.",
            "Large sums involved: approved.",
        ],
        (Locale::En, false) => &[
            "Keep mediating at this level; ask again if needed.",
            "The file is incomplete: add the session records and ask again.",
            "This is within this level's scope: close it here.",
        ],
    };
    list.iter().map(|s| s.to_string()).collect()
}

/// A checklist item's name (its code when the policy no longer lists it).
pub(crate) fn item_label<'a>(code: &'a str, policy: &'a Policy) -> &'a str {
    policy.subsidy.checklist.iter().find(|i| i.code == code).map_or(code, |i| i.label_zh.as_str())
}

/// A review's reason in words: `missing: code` names the item.
pub(crate) fn review_reason(reason: &str, policy: &Policy, loc: Locale) -> String {
    match loc {
        Locale::ZhCn => fengqiao_domain::subsidy::review_reason_zh(reason, policy),
        Locale::En => match reason.trim().strip_prefix(fengqiao_domain::subsidy::MISSING_REASON_PREFIX) {
            Some(code) => format!("missing “{}”", item_label(code.trim(), policy)),
            None => reason.trim().to_string(),
        },
    }
}
