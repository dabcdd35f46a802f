//! The apps choose the language of the core's messages (its own test binary:
//! the locale is the process's).

use fengqiao_bindings::{ClientConfig, FengqiaoError, FieldClient, MessageLocale, NewVisit, VisitKind};

fn refused_visit(client: &FieldClient) -> FengqiaoError {
    let nv = NewVisit {
        household_id: "not-an-id".into(),
        body: None,
        kind: VisitKind::Routine,
        visited_at_ms: None,
        notes: String::new(),
        location: None,
        leads: vec![],
    };
    client.record_visit(nv).unwrap_err()
}

#[test]
fn set_locale_switches_every_message_and_keeps_the_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("phone").display().to_string();
    let client = FieldClient::new(data, "http://127.0.0.1:9".into(), vec![3u8; 32], ClientConfig::default()).unwrap();
    assert_eq!(client.locale(), MessageLocale::ZhCn, "Chinese by default");
    let zh = client.households().unwrap_err();
    assert_eq!((zh.code(), zh.detail().as_str()), ("not_logged_in".to_string(), "尚未登录：请先登录"));
    assert!(refused_visit(&client).detail().starts_with("编号无效"));

    client.set_locale(MessageLocale::En);
    assert_eq!(client.locale(), MessageLocale::En);
    let en = client.households().unwrap_err();
    assert_eq!((en.code(), en.detail().as_str()), ("not_logged_in".to_string(), "not logged in"));
    assert_eq!(refused_visit(&client).detail(), "household_id: not a valid id");

    client.set_locale(MessageLocale::ZhCn);
    assert_eq!(client.households().unwrap_err().detail(), "尚未登录：请先登录");
}

#[test]
fn times_are_formatted_by_the_core_in_the_countys_zone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("phone").display().to_string();
    let client = FieldClient::new(data, "http://127.0.0.1:9".into(), vec![3u8; 32], ClientConfig::default()).unwrap();
    // 2026-03-01 16:30 UTC is 00:30 the next day in Asia/Shanghai (the bundled policy)
    let ms = 1_772_382_600_000;
    assert_eq!(client.format_time(ms), "2026-03-02 00:30");
    assert_eq!(client.format_date(ms), "2026-03-02");
    assert_eq!(client.format_time(i64::MAX), "");
}
