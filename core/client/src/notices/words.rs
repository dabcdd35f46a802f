//! The sentences of notices and of the global indicator, in the app's
//! [`Locale`], from the words of [`crate::messages::notices`].

use crate::client::FieldClient;
use crate::messages::notices::{level, review_reason, yuan};
use crate::messages::Locale;
use crate::notices::{Indicator, NoticeData, TabCounts};

/// Title and text of a notice.
pub(crate) fn text(data: &NoticeData, case: &str, client: &FieldClient, loc: Locale) -> (String, String) {
    let zh = loc == Locale::ZhCn;
    match data {
        NoticeData::Awaits { to_level, grade, requester } => {
            let who = requester.clone().unwrap_or_else(|| if zh { "有人".into() } else { "A colleague".into() });
            if zh {
                (
                    "待您审批".into(),
                    format!("{case}（{}纠纷）：{who}申请上报至{}，等您决定", grade.label_zh(), level(*to_level, loc)),
                )
            } else {
                (
                    "Awaits your decision".into(),
                    format!("{case}: {who} asks to move it up to {}; your decision is awaited.", level(*to_level, loc)),
                )
            }
        }
        NoticeData::Decided { approved, to_level, by, comment } => {
            let who = by.clone().unwrap_or_else(|| if zh { "审批人".into() } else { "The approver".into() });
            match (zh, approved) {
                (true, true) => {
                    ("上报申请已批准".into(), format!("{case}：{who}已批准上报至{}", level(*to_level, loc)))
                }
                (true, false) => ("上报申请未批准".into(), format!("{case}：{who}未批准上报，意见：{comment}")),
                (false, true) => (
                    "Your request was approved".into(),
                    format!("{case}: {who} approved moving it up to {}.", level(*to_level, loc)),
                ),
                (false, false) => {
                    ("Your request was refused".into(), format!("{case}: {who} refused to move it up: {comment}"))
                }
            }
        }
        NoticeData::Deadline { deadline, overdue } => {
            let at = client.format_time(*deadline);
            match (zh, overdue) {
                (true, false) => ("办理期限临近".into(), format!("{case}：须在 {at} 前在本级办结或上报")),
                (true, true) => ("已超过办理期限".into(), format!("{case}：本级办理期限 {at} 已过，请尽快办结或上报")),
                (false, false) => ("Deadline approaching".into(), format!("{case}: due at this level by {at}.")),
                (false, true) => {
                    ("Deadline passed".into(), format!("{case}: the deadline at this level ({at}) has passed."))
                }
            }
        }
        NoticeData::Returned { reasons } => {
            let policy = client.policy();
            let why: Vec<String> = reasons.iter().map(|r| review_reason(r, &policy, loc)).collect();
            if zh {
                ("案卷被退回".into(), format!("{case}：司法所退回案卷，{}。补齐后将重新评查", why.join("；")))
            } else {
                (
                    "Case file returned".into(),
                    format!("{case}: the judicial office returned the file: {}.", why.join("; ")),
                )
            }
        }
        NoticeData::Paid { amount_fen, paid_at, payment_ref } => {
            let on = client.format_date(*paid_at);
            if zh {
                (
                    "补贴已发放".into(),
                    format!("{case}：补贴 {} 元已于 {on} 发放，支付凭证号 {payment_ref}", yuan(*amount_fen)),
                )
            } else {
                (
                    "Subsidy paid".into(),
                    format!("{case}: {} yuan paid on {on}, payment reference {payment_ref}.", yuan(*amount_fen)),
                )
            }
        }
        NoticeData::Screening { village, period } => {
            if zh {
                ("请填报矛盾纠纷排查".into(), format!("{village} {period} 的排查尚未填报"))
            } else {
                ("Screening due".into(), format!("{village} has not filed its screening for {period}."))
            }
        }
        NoticeData::Superseded { approved, by } => {
            let who =
                by.clone().unwrap_or_else(|| if zh { "另一位审批人".into() } else { "Another approver".into() });
            match (zh, approved) {
                (true, true) => ("您的审批未生效".into(), format!("{case}：{who}已先行批准，以该决定为准")),
                (true, false) => ("您的审批未生效".into(), format!("{case}：{who}已先行不予批准，以该决定为准")),
                (false, true) => (
                    "Your decision did not count".into(),
                    format!("{case}: {who} approved it first; that decision stands."),
                ),
                (false, false) => (
                    "Your decision did not count".into(),
                    format!("{case}: {who} refused it first; that decision stands."),
                ),
            }
        }
    }
}

/// The indicator's one line.
pub(crate) fn indicator(ind: &Indicator, counts: &TabCounts, client: &FieldClient, loc: Locale) -> String {
    let zh = loc == Locale::ZhCn;
    let mut parts = Vec::new();
    let waiting = ind.pending_ops + ind.photos_pending;
    parts.push(match (zh, waiting) {
        (true, 0) => "全部已发送".to_string(),
        (true, n) => format!("待发送 {n} 项"),
        (false, 0) => "Everything sent".to_string(),
        (false, n) => format!("{n} waiting to be sent"),
    });
    parts.push(match (zh, ind.last_sync_at) {
        (true, Some(t)) => format!("上次同步 {}", client.format_time(t)),
        (true, None) => "尚未同步".into(),
        (false, Some(t)) => format!("last synced {}", client.format_time(t)),
        (false, None) => "never synced".into(),
    });
    let things = counts.inbox + counts.reviews + counts.notices + ind.quarantined;
    if ind.session_expired {
        parts.push(if zh { "请重新登录".into() } else { "sign in again".into() });
    }
    if things > 0 {
        parts.push(if zh { format!("{things} 件事需要您处理") } else { format!("{things} need you") });
    }
    parts.join(" · ")
}
