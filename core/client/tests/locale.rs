//! The process's locale (its own test binary: it changes what every error's
//! `Display` says).

use fengqiao_core::{locale, set_locale, ClientError, Locale};

#[test]
fn display_follows_the_locale_set_zh_cn_by_default() {
    assert_eq!(locale(), Locale::ZhCn);
    assert_eq!(ClientError::Locked.to_string(), "手机已锁定：请先解锁");
    set_locale(Locale::En);
    assert_eq!(ClientError::Locked.to_string(), "the phone is locked: unlock it first");
    set_locale(Locale::ZhCn);
    assert_eq!(ClientError::NotLoggedIn.to_string(), "尚未登录：请先登录");
}

#[test]
fn times_show_in_the_countys_zone_not_the_phones() {
    use chrono::TimeZone;
    let store = std::sync::Arc::new(fengqiao_core::MemoryClientStore::new());
    let client = fengqiao_core::FieldClient::with_store(
        store,
        "http://127.0.0.1:9".into(),
        fengqiao_core::ClientOptions::default(),
    )
    .expect("client");
    // 16:30 UTC is past midnight in the county (Asia/Shanghai, the bundled policy)
    let at = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 16, 30, 0).unwrap();
    assert_eq!(client.format_time(at), "2026-03-02 00:30");
    assert_eq!(client.format_date(at), "2026-03-02");
}
