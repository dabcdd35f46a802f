//! The words the core puts on a user's screen, in the app's [`Locale`]: plain
//! Chinese (zh-CN, the default) or English, the second locale. One match per
//! error and per code, in this one module; the stable codes never change with
//! the locale.
//!
//! A message that arrives with an error (the domain's refusal, the server's
//! answer, a detail of the core) is shown as it is when it is in the reader's
//! language; otherwise the reader gets this module's text for its code. Domain
//! refusals travel in Chinese, so English readers get the text of their code
//! ([`rejection_en`]).

use std::sync::atomic::{AtomicU8, Ordering};

use fengqiao_domain::RejectionCode;

use crate::error::ClientError;

pub(crate) mod notices;

/// The language of the messages the core returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    /// Simplified Chinese, as the county's cadres read it (the default).
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Locale {
    /// Its BCP 47 tag: `zh-CN` or `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// The locale of a tag as the platforms give it (`zh`, `zh-CN`, `zh_Hans_CN`,
    /// `en`, `en-US` …); `None` for a language the core does not speak.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let lang = tag.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        match lang.as_str() {
            "zh" => Some(Locale::ZhCn),
            "en" => Some(Locale::En),
            _ => None,
        }
    }
}

/// The process's locale: an app shows one language at a time, whichever client
/// it uses (0 = zh-CN, 1 = en).
static LOCALE: AtomicU8 = AtomicU8::new(0);

/// Sets the language of every message the core returns from now on.
pub fn set_locale(locale: Locale) {
    LOCALE.store(
        match locale {
            Locale::ZhCn => 0,
            Locale::En => 1,
        },
        Ordering::Relaxed,
    );
}

/// The language messages are returned in ([`Locale::ZhCn`] unless set).
pub fn locale() -> Locale {
    match LOCALE.load(Ordering::Relaxed) {
        1 => Locale::En,
        _ => Locale::ZhCn,
    }
}

/// The text for the process's locale, of a message the core words itself.
pub(crate) fn pick(zh: &str, en: &str) -> String {
    match locale() {
        Locale::ZhCn => zh.to_string(),
        Locale::En => en.to_string(),
    }
}

/// Whether `s` holds Chinese characters.
fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Whether `message` is in `locale`'s language.
fn fits(message: &str, locale: Locale) -> bool {
    match locale {
        Locale::ZhCn => has_chinese(message),
        Locale::En => !message.trim().is_empty() && !has_chinese(message),
    }
}

/// The English text of a domain rejection code (its Chinese message names the
/// field and the figures; this names the rule).
pub fn rejection_en(code: RejectionCode) -> &'static str {
    match code {
        RejectionCode::InvalidField => "A field is missing, malformed or out of range.",
        RejectionCode::NotInJurisdiction => "This is not within your units (or does not exist).",
        RejectionCode::RoleNotAllowed => "None of your roles may do this here.",
        RejectionCode::AuthorMismatch => "This operation was made by another user than the one sending it.",
        RejectionCode::IdConflict => "A different record with this id exists.",
        RejectionCode::UnsupportedVersion => "This operation comes from a newer app than the server understands.",
        RejectionCode::InvalidState => "The record is not in a state that allows this (for example, it is closed).",
        RejectionCode::SelfApproval => "Nobody may decide their own request.",
        RejectionCode::TextTooLong => "A text is longer than its limit.",
        RejectionCode::OfficeChoiceRequired => "Several judicial offices serve this town: choose the one to take it.",
        RejectionCode::OfficeNotServing => "The judicial office chosen does not serve the dispute's town.",
        RejectionCode::ProtectedBenefit => {
            "A statutory benefit (subsistence allowance, medical insurance, schooling …) cannot be suspended by village rules."
        }
        RejectionCode::MediatorUnknown => "A credited mediator is not a user of the system.",
        RejectionCode::MediatorDisabled => "A credited mediator's account is disabled.",
        RejectionCode::MediatorNotAllowed => "A credited mediator does not mediate at this level in this unit.",
        RejectionCode::CorrectionReasonRequired => "A correction of grade or difficulty needs a reason.",
        RejectionCode::SubsidyAlreadyPaid => {
            "The case's subsidy is already in a payment batch or paid: its review can no longer change."
        }
    }
}

/// The Chinese text of a domain rejection code, for a refusal whose message
/// came in another language (from an older server).
pub fn rejection_zh(code: RejectionCode) -> &'static str {
    match code {
        RejectionCode::InvalidField => "填写有误：有一项缺少、格式不对或超出范围",
        RejectionCode::NotInJurisdiction => "辖区：这不在您负责的单位范围内（或不存在）",
        RejectionCode::RoleNotAllowed => "权限：您的角色不能在这里办理此事",
        RejectionCode::AuthorMismatch => "操作人：这项操作是另一位用户做的",
        RejectionCode::IdConflict => "记录编号：已有一条编号相同但内容不同的记录",
        RejectionCode::UnsupportedVersion => "应用版本：这项操作来自更新版本的应用，服务器尚不支持",
        RejectionCode::InvalidState => "记录状态：这条记录现在的状态不允许这样办理（例如已结案）",
        RejectionCode::SelfApproval => "审批：不能审批自己提出的申请",
        RejectionCode::TextTooLong => "文字长度：有一项文字超过了长度上限",
        RejectionCode::OfficeChoiceRequired => "受理司法所：该乡镇由多个司法所服务，须选定受理的司法所",
        RejectionCode::OfficeNotServing => "受理司法所：所选司法所不服务该纠纷所在的乡镇",
        RejectionCode::ProtectedBenefit => "法定保障：低保、医保、义务教育等法定保障待遇不能被村规民约暂停",
        RejectionCode::MediatorUnknown => "调解员：所记的调解员不是本系统的用户",
        RejectionCode::MediatorDisabled => "调解员：所记的调解员账号已停用",
        RejectionCode::MediatorNotAllowed => "调解员：所记的调解员不在这一层级、这个辖区调解",
        RejectionCode::CorrectionReasonRequired => "更正理由：更正等级或调解难度须写明理由",
        RejectionCode::SubsidyAlreadyPaid => "补贴：本案补贴已列入支付批次或已发放，评查结果不能再改",
    }
}

/// The text of a refusal's code in `locale`, for a message not in its language:
/// a domain code, one of the core's own reasons, or a quarantine code.
pub fn reason_text(reason: &str, locale: Locale) -> String {
    if let Some(code) = RejectionCode::parse(reason) {
        return match locale {
            Locale::ZhCn => rejection_zh(code),
            Locale::En => rejection_en(code),
        }
        .into();
    }
    let (zh, en) = match reason {
        "no_case_numbers" => (
            "案件编号：本机领取的案件编号已用完，请联网同步一次以领取新号段",
            "No case numbers are left on this phone: connect once to reserve more.",
        ),
        "photo_not_a_file" => ("照片：必须是一个普通文件", "A photo must be a regular file."),
        "photo_not_an_image" => ("照片：文件内容不是照片", "The file is not a photo: JPEG, PNG, WebP or HEIC only."),
        "empty_data_dir" => ("数据目录：路径不能为空", "The data directory's path is empty."),
        "invalid_store_key" => ("本机密钥：密钥格式不对", "The store key is not a valid key."),
        "conflict" => (
            "冲突：这条记录已被他人先一步改动，以服务器上的现状为准",
            "Someone changed this record first: the server's version stands.",
        ),
        "malformed_op" => {
            ("操作格式：服务器读不懂这项操作，请更新应用", "The server could not read this operation: update the app.")
        }
        _ => ("操作未通过检查：请核对后再试", "The request was refused: check it and try again."),
    };
    match locale {
        Locale::ZhCn => zh.into(),
        Locale::En => en.into(),
    }
}

/// A refusal's message for the screen: the message if in `locale`'s language,
/// else the text of its code.
pub fn refusal(reason: &str, message: &str, locale: Locale) -> String {
    if fits(message, locale) {
        message.to_string()
    } else {
        reason_text(reason, locale)
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(locale()))
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The message for a user's screen in `locale` (no raw code; the code stays
    /// in [`ClientError::code`]). `Display` gives it in the process's [`locale`].
    pub fn message(&self, locale: Locale) -> String {
        let zh = locale == Locale::ZhCn;
        let pick = |z: &str, e: &str| if zh { z.to_string() } else { e.to_string() };
        // a detail shown after a prefix when it is in the reader's language
        let detailed = |message: &str, z: &str, e: &str, z_none: &str, e_none: &str| {
            if fits(message, locale) {
                format!("{}{message}", if zh { z } else { e })
            } else {
                pick(z_none, e_none)
            }
        };
        match self {
            ClientError::NotLoggedIn => pick("尚未登录：请先登录", "not logged in"),
            ClientError::InvalidCredentials => pick("用户名或密码不对", "wrong username or password"),
            ClientError::SessionExpired => {
                pick("登录已过期：请重新登录（本机保存的工作不会丢失）", "the session has expired: log in again")
            }
            ClientError::RateLimited => pick("尝试次数太多：请稍后再试", "too many attempts: try again later"),
            ClientError::Network { message } => detailed(
                message,
                "网络：",
                "network: ",
                "连不上服务器（没有网络或超时）：有网时再同步，本机保存的工作不会丢失",
                "network: the server could not be reached",
            ),
            ClientError::Server { message } => detailed(
                message,
                "服务器：",
                "server: ",
                "服务器出错：请稍后再同步，本机保存的工作不会丢失",
                "server: the server failed; try again later",
            ),
            ClientError::Protocol { message } => detailed(
                message,
                "服务器答复：",
                "protocol: ",
                "服务器的答复本机无法使用：请更新应用，或联系县里技术支持",
                "protocol: the server's answer cannot be used by this app",
            ),
            ClientError::Rejected { reason, message } | ClientError::InvalidInput { reason, message } => {
                refusal(reason, message, locale)
            }
            ClientError::NotFound { message } => {
                detailed(message, "找不到：", "not found: ", "找不到要找的记录", "not found")
            }
            ClientError::Storage { message } if message.starts_with("the phone's store is damaged") => {
                if zh {
                    "手机上的数据已损坏：未同步的操作都保存在恢复日志里，请用“恢复数据”把它们重新排队".into()
                } else {
                    format!("storage: {message}")
                }
            }
            ClientError::Storage { message } if message.contains("lock") || message.contains("temporarily") => pick(
                "手机存储正被占用（另一个程序打开着它）：请稍后再试",
                "storage: the phone's store is held by another client; try again shortly",
            ),
            ClientError::Storage { message } => detailed(
                message,
                "手机存储：",
                "storage: ",
                "手机存储出错：请联系县里技术支持（本机保存的工作不会丢失）",
                "storage: the phone's store failed",
            ),
            ClientError::StorageFull { message } => detailed(
                message,
                "存储空间不足：",
                "storage full: ",
                "存储空间不足：这次没有写入任何内容",
                "storage full: nothing was written",
            ),
            ClientError::Cancelled => pick("已取消（本机保存的工作不会丢失）", "cancelled"),
            ClientError::WrongStoreKey => {
                pick("本机密钥不对：打不开这台手机上的数据", "the store key does not open this phone's store")
            }
            ClientError::Locked => pick("手机已锁定：请先解锁", "the phone is locked: unlock it first"),
            ClientError::WrongPin { attempts_left, .. } => {
                if zh {
                    format!("锁屏密码不对（还可以再试 {attempts_left} 次）")
                } else {
                    format!("wrong PIN ({attempts_left} attempts left)")
                }
            }
            ClientError::DeviceRevoked => pick(
                "这台手机已被县里停用：本机上的数据已清除",
                "this device was revoked by the county: its local data was removed",
            ),
            ClientError::UnsyncedWork { ops, photos } => {
                if zh {
                    format!("还有 {ops} 项操作和 {photos} 张照片没有同步")
                } else {
                    format!("{ops} operations and {photos} photos are not synced yet")
                }
            }
            ClientError::StorageLow { message } => detailed(
                message,
                "空间不足：",
                "storage low: ",
                "手机剩余空间太少：同步或清理空间之前不能再拍新照片",
                "storage low: new photos are refused until the phone syncs or space is freed",
            ),
            ClientError::ServerNotTrusted { reason, message } => match locale {
                Locale::ZhCn => message.clone(),
                Locale::En if reason == crate::tls::PIN_MISMATCH => {
                    "the server's key is not one of the county's pinned keys: nothing was sent".into()
                }
                Locale::En => "the server's certificate is not trusted: nothing was sent".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fengqiao_domain::rejection::unreadable_reason;

    /// One of every variant, each detail in English as the core's inner
    /// failures give it.
    fn every_error() -> Vec<ClientError> {
        let m = || "error sending request for url".to_string();
        vec![
            ClientError::NotLoggedIn,
            ClientError::InvalidCredentials,
            ClientError::SessionExpired,
            ClientError::RateLimited,
            ClientError::Network { message: m() },
            ClientError::Server { message: m() },
            ClientError::Protocol { message: m() },
            ClientError::Rejected {
                reason: "not_in_jurisdiction".into(),
                message: "辖区：该纠纷不在您负责的单位范围内".into(),
            },
            ClientError::InvalidInput {
                reason: "invalid_input".into(),
                message: "server url: must be http:// or https://".into(),
            },
            ClientError::NotFound { message: m() },
            ClientError::Storage { message: m() },
            ClientError::Storage { message: "the phone's store is damaged (x); 4 unsynced operations are kept".into() },
            ClientError::Storage { message: "could not acquire lock: Resource temporarily unavailable".into() },
            ClientError::StorageFull { message: m() },
            ClientError::Cancelled,
            ClientError::WrongStoreKey,
            ClientError::Locked,
            ClientError::WrongPin { attempts_left: 3, retry_after_secs: 60 },
            ClientError::DeviceRevoked,
            ClientError::UnsyncedWork { ops: 2, photos: 1 },
            ClientError::StorageLow { message: m() },
            ClientError::ServerNotTrusted {
                reason: crate::tls::PIN_MISMATCH.into(),
                message: crate::tls::PIN_MISMATCH_MESSAGE.into(),
            },
            ClientError::ServerNotTrusted {
                reason: crate::tls::UNTRUSTED.into(),
                message: crate::tls::UNTRUSTED_MESSAGE.into(),
            },
        ]
    }

    #[test]
    fn every_client_error_reads_in_chinese_and_in_english() {
        for e in every_error() {
            let zh = e.message(Locale::ZhCn);
            assert_eq!(unreadable_reason(&zh), None, "{}: {zh}", e.code());
            assert!(!zh.contains(e.code()), "{zh}");
            let en = e.message(Locale::En);
            assert!(!has_chinese(&en) && !en.trim().is_empty(), "{}: {en}", e.code());
        }
        // the figures are kept in both
        let pin = ClientError::WrongPin { attempts_left: 3, retry_after_secs: 0 };
        assert!(pin.message(Locale::ZhCn).contains('3') && pin.message(Locale::En).contains('3'));
    }

    #[test]
    fn a_domain_refusal_is_the_domains_chinese_and_its_codes_english() {
        let e = ClientError::InvalidInput {
            reason: "invalid_field".into(),
            message: "当事人：每件纠纷 1 至 200 人".into(),
        };
        assert_eq!(e.message(Locale::ZhCn), "当事人：每件纠纷 1 至 200 人");
        assert_eq!(e.message(Locale::En), rejection_en(RejectionCode::InvalidField));
        let fallback = reason_text("no_such_reason", Locale::En);
        let fallback_zh = reason_text("no_such_reason", Locale::ZhCn);
        for code in RejectionCode::ALL {
            let en = reason_text(code.as_str(), Locale::En);
            assert!(en != fallback && !has_chinese(&en), "{en}");
            let zh = reason_text(code.as_str(), Locale::ZhCn);
            assert!(zh != fallback_zh && unreadable_reason(&zh).is_none(), "{zh}");
        }
        // an English detail of the core becomes its reason's Chinese text
        let e = ClientError::Rejected { reason: "no_case_numbers".into(), message: "no case numbers left".into() };
        assert!(e.message(Locale::ZhCn).starts_with("案件编号："), "{}", e.message(Locale::ZhCn));
        assert_eq!(e.message(Locale::En), "no case numbers left");
    }

    #[test]
    fn locale_tags_as_the_platforms_give_them() {
        for (tag, want) in
            [("zh-CN", Some(Locale::ZhCn)), ("zh_Hans_CN", Some(Locale::ZhCn)), ("en-US", Some(Locale::En))]
        {
            assert_eq!(Locale::from_tag(tag), want, "{tag}");
        }
        assert_eq!(Locale::from_tag("mn"), None);
        assert_eq!(Locale::default().tag(), "zh-CN");
    }
}
