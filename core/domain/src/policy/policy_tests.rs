//! Tests of `policy.rs`.

use super::*;

#[test]
fn empty_file_gives_seed_defaults() {
    let p = Policy::from_toml("").unwrap();
    assert_eq!(p, Policy::default());
    assert_eq!(p.deadlines.general_days, 7);
    assert_eq!(p.negative_list.len(), 4);
}

#[test]
fn partial_file_overrides_only_what_it_names() {
    let p = Policy::from_toml("[deadlines]\nmajor_days = 30\n").unwrap();
    assert_eq!(p.deadlines.major_days, 30);
    assert_eq!(p.deadlines.general_days, 7);
}

#[test]
fn unknown_key_is_an_error_naming_it() {
    let e = Policy::from_toml("[deadlines]\nmajr_days = 30\n").unwrap_err().to_string();
    assert!(e.contains("majr_days"), "{e}");
    let e = Policy::from_toml("colour = 1\n").unwrap_err().to_string();
    assert!(e.contains("colour"), "{e}");
}

/// The served policy (JSON) is read tolerantly: a phone built before a key
/// existed still reads a newer server's policy, while the county's TOML
/// file refuses the same unknown key by name.
#[test]
fn served_json_tolerates_added_keys_and_the_file_does_not() {
    let mut served = serde_json::to_value(Policy::default()).unwrap();
    served["a_section_added_later"] = serde_json::json!({ "x": 1 });
    served["deadlines"]["a_key_added_later"] = serde_json::json!(7);
    let read: Policy = serde_json::from_value(served).expect("an older phone reads a newer policy");
    assert_eq!(read, Policy::default());
    let e = Policy::from_toml("[deadlines]\na_key_added_later = 7\n").unwrap_err().to_string();
    assert!(e.contains("deadlines.a_key_added_later"), "{e}");
    let nested = Policy::default().to_toml().replacen("[[negative_list]]\n", "[[negative_list]]\nsurprise = 1\n", 1);
    let e = Policy::from_toml(&nested).unwrap_err().to_string();
    assert!(e.contains("negative_list") && e.contains("surprise"), "{e}");
}

#[test]
fn out_of_range_is_refused() {
    assert!(Policy::from_toml("[auth]\naccess_ttl_secs = 1\n").is_err());
    assert!(Policy::from_toml("[auth]\nrefresh_retry_grace_secs = 601\n").is_err());
    assert_eq!(Policy::from_toml("[auth]\nrefresh_retry_grace_secs = 0\n").unwrap().auth.refresh_retry_grace_secs, 0);
    assert!(Policy::from_toml("[auth]\ndesk_idle_mins = 0\n").is_err());
    assert!(Policy::from_toml("[auth]\ndesk_idle_mins = 721\n").is_err());
    assert_eq!(Policy::from_toml("[auth]\ndesk_idle_mins = 720\n").unwrap().auth.desk_idle_mins, 720);
    assert_eq!(Policy::default().auth.desk_idle_mins, 30);
    assert!(Policy::from_toml("[text]\nmax_note_chars = 10000000\n").is_err());
    assert!(Policy::from_toml("[visits]\nmax_notes_chars = 10000000\n").is_err());
    assert!(Policy::from_toml("[disputes]\nmax_open_case_blocks = 0\n").is_err());
    assert!(Policy::from_toml("[county]\ntimezone = \"Mars/Base\"\n").is_err());
}

#[test]
fn default_roundtrips_through_toml() {
    let p = Policy::default();
    assert_eq!(Policy::from_toml(&p.to_toml()).unwrap(), p);
}

#[test]
fn the_labour_kind_is_the_articles_labour_service_dispute() {
    // 劳务纠纷 (a civil labour-service dispute) in the county's own words, not
    // 劳动争议 (an employment dispute, which goes to labour arbitration); the code stays.
    let p = Policy::default();
    let labour = p.disputes.kinds.iter().find(|k| k.code == "labour").expect("the labour kind");
    assert_eq!(labour.label_zh, "劳务纠纷");
    assert_eq!(labour.label_en, "labour service");
    assert_eq!(labour.usual_level, crate::model::level::Level::JudicialOffice);
}

#[test]
fn a_photo_is_sized_unless_its_purpose_keeps_originals() {
    assert_eq!(PhotoPurpose::of(None), PhotoPurpose::Record);
    assert_eq!(PhotoPurpose::of(Some("identity_documents")), PhotoPurpose::CaseFile);
    let seed = Policy::default().photos;
    assert_eq!((seed.long_edge_px, seed.jpeg_quality, seed.keep_location, seed.keep_device), (1600, 80, false, false));
    assert!(!seed.keeps_original(PhotoPurpose::Record) && !seed.keeps_original(PhotoPurpose::CaseFile));
    let p = Policy::from_toml("[photos]\noriginals_for = [\"case_file\"]\n").unwrap();
    assert!(p.photos.keeps_original(PhotoPurpose::CaseFile) && !p.photos.keeps_original(PhotoPurpose::Record));
    assert!(Policy::from_toml("[photos]\noriginals_for = [\"selfie\"]\n").is_err(), "an unknown purpose");
}
