//! Tests of the subsidy rules: the formula, totals and orders.
use super::*;
use chrono::TimeZone;

#[test]
fn formula_in_integer_fen_with_quality_and_bonus() {
    let p = Policy::default();
    assert_eq!(amount_fen(Grade::General, Difficulty::Low, "family", 100, &p), Some(10_000));
    assert_eq!(amount_fen(Grade::Larger, Difficulty::Low, "land", 100, &p), Some(20_000));
    assert_eq!(amount_fen(Grade::Major, Difficulty::High, "mass", 100, &p), Some(30_000 + 10_000 + 10_000));
    // quality 80 % of (base + difficulty), bonus added whole
    assert_eq!(amount_fen(Grade::Major, Difficulty::High, "mass", 80, &p), Some(32_000 + 10_000));
    assert_eq!(amount_fen(Grade::General, Difficulty::Medium, "family", 0, &p), Some(0));
    // rounding down to the fen, never floats
    assert_eq!(amount_fen(Grade::General, Difficulty::Low, "family", 33, &p), Some(3_300));
    assert_eq!(worst_case_fen(&p), Some(50_000));
}

/// Extreme amounts (a policy built in code, bypassing the file check): the
/// formula answers `None` at every overflowing step, never a wrapped amount or
/// a panic; also run in release (`cargo test --release -p fengqiao-domain
/// extreme_amounts`), where unchecked `i64` arithmetic would wrap silently.
#[test]
fn extreme_amounts_neither_wrap_nor_panic() {
    let mut p = Policy::default();
    p.subsidy.base_major_fen = i64::MAX;
    p.subsidy.difficulty_high_fen = 1;
    assert_eq!(amount_fen(Grade::Major, Difficulty::High, "family", 100, &p), None, "base + difficulty");
    assert_eq!(amount_fen(Grade::Major, Difficulty::Low, "family", 200, &p), None, "times the quality");
    assert_eq!(amount_fen(Grade::Major, Difficulty::Low, "family", 1, &p), Some(i64::MAX / 100), "1 % fits");
    assert_eq!(amount_fen(Grade::Major, Difficulty::Low, "family", 0, &p), Some(0));
    assert_eq!(worst_case_fen(&p), None);
    let mut p = Policy::default();
    p.subsidy.base_general_fen = i64::MAX / 100;
    p.subsidy.impact_bonus[0].fen = i64::MAX;
    assert_eq!(amount_fen(Grade::General, Difficulty::Low, "family", 100, &p), Some(i64::MAX / 100));
    assert_eq!(amount_fen(Grade::General, Difficulty::Low, "mass", 100, &p), None, "plus the bonus");
    p.subsidy.base_general_fen = i64::MIN;
    assert_eq!(amount_fen(Grade::General, Difficulty::Low, "family", 100, &p), None, "below i64::MIN");
    // the policy file refuses all of these; the ceiling itself passes
    let mut p = Policy::default();
    p.subsidy.base_major_fen = MAX_AMOUNT_FEN / 2 - 10_000;
    p.subsidy.difficulty_high_fen = 10_000;
    p.subsidy.quality[0].percent = 200;
    p.subsidy.impact_bonus[0].fen = 0;
    assert_eq!(worst_case_fen(&p), Some(MAX_AMOUNT_FEN));
    assert!(Policy::from_toml(&p.to_toml()).is_ok());
    p.subsidy.impact_bonus[0].fen = 1;
    assert!(Policy::from_toml(&p.to_toml()).is_err(), "one fen over the ceiling");
    assert_eq!(split(i64::MAX, 1), vec![i64::MAX]);
    assert_eq!(split(i64::MAX, 2).iter().map(|v| i128::from(*v)).sum::<i128>(), i128::from(i64::MAX));
}

#[test]
fn quality_steps_by_score() {
    let p = Policy::default();
    assert_eq!(quality_percent(100, &p), 100);
    assert_eq!(quality_percent(90, &p), 100);
    assert_eq!(quality_percent(89, &p), 80);
    assert_eq!(quality_percent(60, &p), 60);
    assert_eq!(quality_percent(59, &p), 0);
}

#[test]
fn split_sums_exactly() {
    assert_eq!(split(10_001, 2), vec![5_001, 5_000]);
    assert_eq!(split(10_000, 3).iter().sum::<i64>(), 10_000);
    assert_eq!(split(2, 3), vec![1, 1, 0]);
    assert!(split(5, 0).is_empty());
    for n in 1..10 {
        for amt in [0i64, 1, 99, 12_345, 30_000] {
            assert_eq!(split(amt, n).iter().sum::<i64>(), amt);
        }
    }
}

#[test]
fn one_id_per_case_and_payee() {
    let (d, m1, m2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(subsidy_id(d, m1), subsidy_id(d, m1));
    assert_ne!(subsidy_id(d, m1), subsidy_id(d, m2));
}

#[test]
fn overdue_at_the_deadline_boundary() {
    let p = Policy::default();
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let s = Subsidy {
        id: Uuid::now_v7(),
        dispute_id: None,
        consultation_id: None,
        case_number: "x".into(),
        payee: Uuid::now_v7(),
        amount_fen: 1,
        status: SubsidyStatus::Approved,
        accrued_at: at,
        approved_at: Some(at),
        batch_id: None,
        paid_at: None,
        payment_ref: String::new(),
        reason: String::new(),
    };
    let due = at + Duration::days(p.subsidy.pay_within_days as i64);
    assert!(!is_overdue(&s, due - Duration::seconds(1), &p));
    assert!(is_overdue(&s, due, &p));
    let paid = Subsidy { status: SubsidyStatus::Paid, ..s.clone() };
    assert!(!is_overdue(&paid, due + Duration::days(100), &p));
}

#[test]
fn missing_required_items() {
    let p = Policy::default();
    let have = vec![FileItem {
        item: items::INTAKE_FORM.into(),
        kind: crate::model::entity::EntityKind::Dispute,
        id: Uuid::nil(),
    }];
    let missing = missing_items(&have, &p);
    assert!(missing.contains(&items::AGREEMENT.to_string()));
    assert!(!missing.contains(&items::INTAKE_FORM.to_string()));
    assert!(!missing.contains(&items::FOLLOW_UP_RECORD.to_string()), "as needed, not required");
}

fn accrued(status: SubsidyStatus, fen: i64, at: DateTime<Utc>) -> Subsidy {
    Subsidy {
        id: Uuid::now_v7(),
        dispute_id: None,
        consultation_id: None,
        case_number: String::new(),
        payee: Uuid::nil(),
        amount_fen: fen,
        status,
        accrued_at: at,
        approved_at: None,
        batch_id: None,
        paid_at: None,
        payment_ref: String::new(),
        reason: String::new(),
    }
}

/// Months oldest first in the county's zone; within a month and by status,
/// the lifecycle's order (the server listed statuses by name before:
/// approved, batched, paid, rejected, under review).
#[test]
fn totals_by_county_month_then_lifecycle_order() {
    let zone = Policy::default().zone();
    let late_may = Utc.with_ymd_and_hms(2026, 5, 31, 16, 30, 0).unwrap(); // 1 June in the county
    let may = Utc.with_ymd_and_hms(2026, 5, 10, 2, 0, 0).unwrap();
    let items = [
        accrued(SubsidyStatus::Rejected, 5, may),
        accrued(SubsidyStatus::Paid, 40, may),
        accrued(SubsidyStatus::UnderReview, 20, may),
        accrued(SubsidyStatus::Batched, 30, may),
        accrued(SubsidyStatus::Approved, 10, late_may),
        accrued(SubsidyStatus::Accrued, 1, may),
        accrued(SubsidyStatus::Accrued, 2, late_may),
    ];
    let t = totals(&items, zone);
    let months: Vec<(&str, SubsidyStatus, u32, i64)> =
        t.by_month.iter().map(|m| (m.month.as_str(), m.status, m.count, m.total_fen)).collect();
    assert_eq!(
        months,
        vec![
            ("2026-05", SubsidyStatus::Accrued, 1, 1),
            ("2026-05", SubsidyStatus::UnderReview, 1, 20),
            ("2026-05", SubsidyStatus::Batched, 1, 30),
            ("2026-05", SubsidyStatus::Paid, 1, 40),
            ("2026-05", SubsidyStatus::Rejected, 1, 5),
            ("2026-06", SubsidyStatus::Accrued, 1, 2),
            ("2026-06", SubsidyStatus::Approved, 1, 10),
        ]
    );
    let statuses: Vec<SubsidyStatus> = t.by_status.iter().map(|s| s.status).collect();
    assert_eq!(statuses, SubsidyStatus::LIFECYCLE.to_vec());
    assert_eq!((t.by_status[0].count, t.by_status[0].total_fen), (2, 3));
    assert_eq!(t.total_fen, 1 + 20 + 30 + 40 + 10 + 2, "rejected ones are not counted");
    assert!(SubsidyStatus::LIFECYCLE.iter().enumerate().all(|(i, s)| s.rank() == i));
}

#[test]
fn totals_never_wrap() {
    let at = Utc.with_ymd_and_hms(2026, 5, 10, 2, 0, 0).unwrap();
    let items = [accrued(SubsidyStatus::Paid, i64::MAX, at), accrued(SubsidyStatus::Paid, 1, at)];
    let t = totals(&items, Policy::default().zone());
    assert_eq!((t.by_month[0].total_fen, t.by_status[0].total_fen, t.total_fen), (i64::MAX, i64::MAX, i64::MAX));
    assert_eq!((t.paid_fen, t.owed_fen), (i64::MAX, 0));
}

/// What is owed: accrued, under review, approved and batched; never paid or
/// rejected ones (the apps show these sums as the core gives them).
#[test]
fn owed_and_paid_sums() {
    let at = Utc.with_ymd_and_hms(2026, 5, 10, 2, 0, 0).unwrap();
    let items: Vec<Subsidy> =
        SubsidyStatus::LIFECYCLE.iter().enumerate().map(|(i, st)| accrued(*st, 10i64.pow(i as u32), at)).collect();
    let t = totals(&items, Policy::default().zone());
    let fen = |st: SubsidyStatus| 10i64.pow(SubsidyStatus::LIFECYCLE.iter().position(|s| *s == st).unwrap() as u32);
    let owed: i64 =
        [SubsidyStatus::Accrued, SubsidyStatus::UnderReview, SubsidyStatus::Approved, SubsidyStatus::Batched]
            .into_iter()
            .map(fen)
            .sum();
    assert_eq!(t.owed_fen, owed);
    assert_eq!(t.paid_fen, fen(SubsidyStatus::Paid));
    assert!(!SubsidyStatus::Rejected.is_owed() && !SubsidyStatus::Paid.is_owed());
}

#[test]
fn a_returned_reviews_reasons_read_in_chinese() {
    let p = Policy::default();
    assert_eq!(review_reason_zh("missing: rights_notice", &p), "缺少“权利义务告知书”");
    assert_eq!(review_reason_zh("  笔录未签字 ", &p), "笔录未签字", "the reviewer's own words are kept");
    assert_eq!(review_reason_zh("missing: no_such_item", &p), "缺少“no_such_item”", "an unlisted code by itself");
    assert_eq!(
        subsidy_reason_zh("笔录未签字; missing: rights_notice; missing: identity_documents", &p),
        "笔录未签字；缺少“权利义务告知书”；缺少“当事人身份证明”"
    );
    assert_eq!(subsidy_reason_zh("", &p), "");
}
