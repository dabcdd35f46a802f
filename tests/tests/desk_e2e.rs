//! The desk console in a real browser (headless Chromium through
//! playwright-core, scripts in `tests/desk/`) against a real server, with real
//! phone cores for the field side. Each test leaves screenshots under
//! `target/desk-screenshots/`. Issue 22's browser tests 1, 3 and 4.

use fengqiao_core::{FieldClient, NewPhoto};
use fengqiao_domain::subsidy::SubsidyStatus;
use fengqiao_domain::EntityKind;
use fengqiao_tests::desk::{browser, named, resolved_case, DeskClient};
use fengqiao_tests::phone::signed_in_synced;
use fengqiao_tests::TestServer;

fn creds(server: &TestServer, user: &str) -> Vec<(&'static str, String)> {
    let c = server.cred(user).unwrap();
    vec![("DESK_USER", c.username), ("DESK_PASSWORD", c.password)]
}

async fn my_subsidy(p: &FieldClient) -> (SubsidyStatus, String) {
    p.sync().await.unwrap();
    let mine = p.my_subsidies().unwrap();
    assert_eq!(mine.items.len(), 1, "{:?}", mine.items);
    (mine.items[0].subsidy.status, mine.items[0].subsidy.reason.clone())
}

/// Test 1: the judicial office returns a case file for missing items on the desk;
/// the mediator's phone syncs and sees it returned with the reasons; the missing
/// papers are photographed and filed from the phone; the desk shows them inline
/// and passes the file; the phone sees it approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judicial_office_returns_a_file_the_phone_fixes_it_and_the_desk_passes_it() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mediator = signed_in_synced(dirs[1].path(), &server.url(), &server, "mediator.t1v1").await;
    let village = server.cred("mediator.t1v1").unwrap().unit_id;
    mediator.prepare_case_numbers(1).await.unwrap();
    let d = resolved_case(&mediator, village, named(&["第一组村民"]));
    assert_eq!(my_subsidy(&mediator).await.0, SubsidyStatus::Accrued);

    let mut env = creds(&server, "judicial.t1");
    env.push(("DESK_CASE", d.case_number.clone()));
    env.push(("DESK_STEP", "return".into()));
    let seen = browser("review.mjs", &server.url(), &env).await;
    assert!(seen["missing"].as_u64().unwrap() >= 2, "{seen}");

    let (status, reason) = my_subsidy(&mediator).await;
    assert_eq!(status, SubsidyStatus::UnderReview);
    assert!(reason.contains("请补齐权利义务告知书和身份证明"), "the desk's reason reaches the phone: {reason}");
    assert!(reason.contains("rights_notice") && reason.contains("identity_documents"), "{reason}");

    for (i, item) in ["rights_notice", "identity_documents"].into_iter().enumerate() {
        let path = dirs[1].path().join(format!("{item}.jpg"));
        std::fs::write(&path, fengqiao_tests::phone::as_jpeg(vec![i as u8 + 1; 40_000])).unwrap();
        let photo = NewPhoto {
            target_kind: EntityKind::Dispute,
            target_id: d.id,
            source_path: path.to_string_lossy().into_owned(),
            content_type: "image/jpeg".into(),
            caption: item.into(),
        };
        mediator.attach_case_file_photo(photo, item.into()).unwrap();
    }
    let r = mediator.sync().await.unwrap();
    assert_eq!((r.rejected, r.photos_uploaded), (0, 2), "{r:?}");

    env.pop();
    env.push(("DESK_STEP", "pass".into()));
    let seen = browser("review.mjs", &server.url(), &env).await;
    assert_eq!((seen["missing"].as_u64(), seen["photos"].as_u64()), (Some(0), Some(2)), "{seen}");
    assert_eq!(seen["loaded"].as_u64(), Some(2), "both photos shown inline: {seen}");
    assert_eq!(my_subsidy(&mediator).await.0, SubsidyStatus::Approved);
}

/// Test 3: a village secretary cannot reach another village's case: the same
/// 404 page as for a case that does not exist; search finds only their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_secretary_cannot_reach_another_villages_case() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mut cases = Vec::new();
    for (i, who) in ["mediator.t1v1", "mediator.t1v2"].into_iter().enumerate() {
        let p = signed_in_synced(dirs[i + 1].path(), &server.url(), &server, who).await;
        p.prepare_case_numbers(1).await.unwrap();
        let d = resolved_case(&p, server.cred(who).unwrap().unit_id, named(&["李四"]));
        let r = p.sync().await.unwrap();
        assert_eq!(r.rejected, 0, "{r:?}");
        cases.push(d);
    }
    let mut env = creds(&server, "secretary.t1v1");
    env.extend([
        ("DESK_OWN", cases[0].id.to_string()),
        ("DESK_OWN_NUMBER", cases[0].case_number.clone()),
        ("DESK_OTHER", cases[1].id.to_string()),
        ("DESK_OTHER_NUMBER", cases[1].case_number.clone()),
        ("DESK_NONE", uuid::Uuid::now_v7().to_string()),
    ]);
    let seen = browser("scoping.mjs", &server.url(), &env).await;
    assert_eq!((seen["other"].as_u64(), seen["none"].as_u64()), (Some(404), Some(404)), "{seen}");
}

/// Test 4: a `<script>` party name is text everywhere; a form without its CSRF
/// token is refused and changes nothing; the session cookie's flags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_names_are_text_csrf_less_posts_are_refused_and_the_cookie_is_flagged() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mediator = signed_in_synced(dirs[1].path(), &server.url(), &server, "mediator.t1v1").await;
    mediator.prepare_case_numbers(1).await.unwrap();
    let name = "<script>window.__pwned=1</script>张三<img src=x onerror=\"window.__pwned=2\">";
    let d = resolved_case(&mediator, server.cred("mediator.t1v1").unwrap().unit_id, named(&[name]));
    let r = mediator.sync().await.unwrap();
    assert_eq!(r.rejected, 0, "{r:?}");
    let mut env = creds(&server, "judicial.t1");
    env.extend([("DESK_CASE", d.id.to_string()), ("DESK_NAME", name.to_string())]);
    let seen = browser("safety.mjs", &server.url(), &env).await;
    assert_eq!(seen["csrf"], serde_json::json!([403, 403]), "{seen}");
    assert_eq!(seen["cookie"]["httpOnly"], true);
}

/// Printing: the agreement, registration form, notice of rights and duties and
/// the file's cover each render to an A4 PDF (headless Chromium) whose text,
/// read back by `pdftotext`, holds the case number and both parties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_pages_render_to_a4_pdfs_with_the_case_number_and_parties() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mediator = signed_in_synced(dirs[1].path(), &server.url(), &server, "mediator.t1v1").await;
    mediator.prepare_case_numbers(1).await.unwrap();
    let d = resolved_case(&mediator, server.cred("mediator.t1v1").unwrap().unit_id, named(&["王大山", "赵小河"]));
    assert_eq!(mediator.sync().await.unwrap().rejected, 0);
    let pdfs = fengqiao_tests::desk::screenshots();
    std::fs::create_dir_all(&pdfs).unwrap();
    let mut env = creds(&server, "judicial.t1");
    env.extend([("DESK_CASE", d.id.to_string()), ("DESK_PDF_DIR", pdfs.to_string_lossy().into_owned())]);
    browser("print.mjs", &server.url(), &env).await;
    for (doc, title) in
        [("agreement", "调解协议书"), ("intake", "受理登记表"), ("notice", "权利义务告知书"), ("cover", "卷宗")]
    {
        let pdf = pdfs.join(format!("{doc}.pdf"));
        let info = std::process::Command::new("pdfinfo").arg(&pdf).output().expect("pdfinfo (poppler-utils) runs");
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("(A4)"), "{doc}: not A4: {info}");
        let out = std::process::Command::new("pdftotext").arg("-layout").arg(&pdf).arg("-").output().unwrap();
        assert!(out.status.success(), "{doc}: pdftotext failed");
        let text = String::from_utf8_lossy(&out.stdout).replace(' ', "");
        for want in [d.case_number.as_str(), "王大山", "赵小河", title] {
            assert!(text.contains(want), "{doc}: the PDF's text lacks {want}: {text}");
        }
    }
}

/// Test 2: the county imports a workbook with three bad rows (each shown by
/// sheet, row and column; nothing written), fixes it and imports it; then pays
/// an approved subsidy in a batch with a payment reference and downloads the
/// ledger as xlsx; the mediator's phone sees it paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_county_imports_after_a_dry_run_pays_a_batch_and_downloads_the_ledger() {
    use fengqiao_tests::workbook::workbook;
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mediator = signed_in_synced(dirs[1].path(), &server.url(), &server, "mediator.t1v1").await;
    mediator.prepare_case_numbers(1).await.unwrap();
    let d = resolved_case(&mediator, server.cred("mediator.t1v1").unwrap().unit_id, named(&["钱七"]));
    for (i, item) in ["rights_notice", "identity_documents"].into_iter().enumerate() {
        let path = dirs[1].path().join(format!("{item}.jpg"));
        std::fs::write(&path, fengqiao_tests::phone::as_jpeg(vec![i as u8 + 7; 20_000])).unwrap();
        let photo = NewPhoto {
            target_kind: EntityKind::Dispute,
            target_id: d.id,
            source_path: path.to_string_lossy().into_owned(),
            content_type: "image/jpeg".into(),
            caption: item.into(),
        };
        mediator.attach_case_file_photo(photo, item.into()).unwrap();
    }
    assert_eq!(mediator.sync().await.unwrap().rejected, 0);
    let judicial = fengqiao_tests::api::ApiUser::login(&server, "judicial.t1").await;
    let review = serde_json::json!({"id": uuid::Uuid::now_v7(), "dispute_id": d.id, "score": 90, "passed": true,
        "reasons": [], "reviewer": uuid::Uuid::nil(), "reviewed_at": chrono::Utc::now()});
    assert_eq!(judicial.push("review_case_file", review).await["status"], "applied");
    assert_eq!(my_subsidy(&mediator).await.0, SubsidyStatus::Approved);

    const HOUSEHOLDS: &[&str] = &["户编码", "组", "户主", "地址", "电话", "身份证号"];
    let bad = workbook(&[(
        "户",
        HOUSEHOLDS,
        vec![
            vec!["H101", "T01/V01/G01", "孙一", "1号", "", "110105194912310021"],
            vec!["H102", "T01/V01/G99", "孙二", "2号", "", ""],
            vec!["H103", "T01/V01/G01", "", "3号", "", ""],
        ],
    )]);
    let good = workbook(&[(
        "户",
        HOUSEHOLDS,
        vec![
            vec!["H101", "T01/V01/G01", "孙一", "1号", "", "11010519491231002X"],
            vec!["H102", "T01/V01/G02", "孙二", "2号", "", ""],
            vec!["H103", "T01/V01/G01", "孙三", "3号", "", ""],
        ],
    )]);
    let (bad_path, good_path) = (dirs[2].path().join("bad.xlsx"), dirs[2].path().join("county.xlsx"));
    std::fs::write(&bad_path, bad).unwrap();
    std::fs::write(&good_path, good).unwrap();
    let store = server.state().unwrap().store.clone();
    let households = || store.records_of_kind(EntityKind::Household).unwrap().len();
    let before = households();
    let xlsx = fengqiao_tests::desk::screenshots().join("ledger.xlsx");
    let mut env = creds(&server, "admin");
    env.extend([
        ("DESK_BAD", bad_path.to_string_lossy().into_owned()),
        ("DESK_GOOD", good_path.to_string_lossy().into_owned()),
        ("DESK_CASE_NUMBER", d.case_number.clone()),
        ("DESK_XLSX", xlsx.to_string_lossy().into_owned()),
    ]);
    let seen = browser("import_pay.mjs", &server.url(), &env).await;
    let problems: Vec<(String, String, String)> = seen["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into(), p[2].as_str().unwrap().into()))
        .collect();
    let rows: Vec<&str> = problems.iter().map(|p| p.1.as_str()).collect();
    assert_eq!(rows, ["2", "3", "4"], "{problems:?}");
    assert!(problems.iter().all(|p| p.0 == "户" && !p.2.is_empty()), "each by sheet and column: {problems:?}");
    assert_eq!(households(), before + 3, "the bad file wrote nothing, the fixed one its three rows");
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an xlsx was downloaded");
    let (status, _) = my_subsidy(&mediator).await;
    assert_eq!(status, SubsidyStatus::Paid);
    assert_eq!(mediator.my_subsidies().unwrap().items[0].subsidy.payment_ref, "NX2026-0042");
}

/// Search by identity number, and the number masked but for the roles that
/// need it: the judicial office reads it whole, a village secretary finds the
/// case by it but sees it masked on every page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_by_identity_number_and_masking_by_role() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let admin = fengqiao_tests::api::ApiUser::login(&server, "admin").await;
    let csv = "户编码,组,户主,地址,电话,身份证号\nH201,T01/V01/G01,周八,8号,,11010519491231002X\n";
    let r = reqwest::Client::new()
        .post(format!("{}/v1/admin/import?name=hh.csv", server.url()))
        .bearer_auth(&admin.token)
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let store = server.state().unwrap().store.clone();
    let household = store
        .records_of_kind(EntityKind::Household)
        .unwrap()
        .into_iter()
        .find_map(|r| match r {
            fengqiao_domain::Record::Household(h) if h.head_name == "周八" => Some(h.id),
            _ => None,
        })
        .expect("imported");
    let mediator = signed_in_synced(dirs[1].path(), &server.url(), &server, "mediator.t1v1").await;
    mediator.prepare_case_numbers(1).await.unwrap();
    let mut parties = named(&["周八"]);
    parties[0].household_id = Some(household);
    let d = resolved_case(&mediator, server.cred("mediator.t1v1").unwrap().unit_id, parties);
    assert_eq!(mediator.sync().await.unwrap().rejected, 0);

    let (whole, masked) = ("11010519491231002X", "110***********002X");
    for (user, sees_whole) in [("judicial.t1", true), ("secretary.t1v1", false)] {
        let c = server.cred(user).unwrap();
        let desk = DeskClient::sign_in(&server.url(), &c.username, &c.password).await;
        let (status, found) = desk.get(&format!("/desk/cases?q={whole}")).await;
        assert_eq!(status, 200);
        assert!(found.contains(&d.case_number), "{user}: found by identity number");
        let (_, miss) = desk.get("/desk/cases?q=11010519491231003X").await;
        assert!(!miss.contains(&d.case_number), "{user}: another number finds nothing");
        let (_, page) = desk.get(&format!("/desk/cases/{}", d.id)).await;
        assert_eq!(page.contains(whole), sees_whole, "{user}: the whole number");
        assert_eq!(page.contains(masked), !sees_whole, "{user}: the masked number");
    }
}

/// The judicial office's inbox: an escalation asked for on the phone shows on
/// the desk, is approved there (a `decide_escalation` operation), and the
/// phone's next pull has the dispute at the judicial office.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_asked_on_the_phone_is_approved_on_the_desk() {
    use fengqiao_domain::disputes::EscalationReason;
    use fengqiao_domain::ladder::{Grade, Level};
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = TestServer::start(dirs[0].path()).await.unwrap();
    let mediator = signed_in_synced(dirs[1].path(), &server.url(), &server, "mediator.t1v1").await;
    mediator.prepare_case_numbers(1).await.unwrap();
    let village = server.cred("mediator.t1v1").unwrap().unit_id;
    let mut nd = fengqiao_tests::phone::new_dispute(village, Grade::Larger, "宅基地纠纷");
    nd.level = Some(Level::Village);
    let d = mediator.report_dispute(nd).unwrap();
    let e = mediator
        .request_escalation(d.id, Level::JudicialOffice, EscalationReason::OutsideLevelScope, "超出村调解范围".into())
        .unwrap();
    assert_eq!(mediator.sync().await.unwrap().rejected, 0);

    let c = server.cred("judicial.t1").unwrap();
    let desk = DeskClient::sign_in(&server.url(), &c.username, &c.password).await;
    let (status, inbox) = desk.get("/desk/inbox").await;
    assert_eq!(status, 200);
    assert!(inbox.contains(&d.case_number), "the request awaits the office: {inbox}");
    let (refused, page) = desk.post(&format!("/desk/escalations/{}/decide", e.id), &[("decision", "refuse")]).await;
    assert_eq!(refused, 422, "a refusal without a comment is the domain's refusal: {page}");
    let (status, _) = desk.post(&format!("/desk/escalations/{}/decide", e.id), &[("decision", "approve")]).await;
    assert_eq!(status, 303);
    let (_, inbox) = desk.get("/desk/inbox").await;
    assert!(!inbox.contains(&d.case_number), "decided: gone from the inbox");

    // the phone's next pull has the desk's decision
    assert_eq!(mediator.sync().await.unwrap().rejected, 0);
    let item = mediator.dispute(d.id).unwrap();
    assert_eq!(item.dispute.level, Level::JudicialOffice);
}

/// The judicial office reviews a legal consultation from its desk inbox (a
/// `review_consultation` operation): the advisor's subsidy is priced by the
/// review and approved; the other town's office never sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_is_reviewed_from_the_desk_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await.unwrap();
    let advisor = fengqiao_tests::api::ApiUser::login(&server, "advisor.t1v1").await;
    let village = server.cred("advisor.t1v1").unwrap().unit_id;
    let id = uuid::Uuid::now_v7();
    let logged = advisor
        .push(
            "record_consultation",
            serde_json::json!({"id": id, "village_id": village, "at": chrono::Utc::now(), "question": "宅基地能否继承",
                "answer": "可依法继承使用", "satisfaction": "satisfied", "outcome": "solved"}),
        )
        .await;
    assert_eq!(logged["status"], "applied", "{logged}");
    let other = server.cred("judicial.t2").unwrap();
    let other = DeskClient::sign_in(&server.url(), &other.username, &other.password).await;
    assert!(!other.get("/desk/inbox").await.1.contains("宅基地能否继承"), "another town's office sees nothing");
    let c = server.cred("judicial.t1").unwrap();
    let desk = DeskClient::sign_in(&server.url(), &c.username, &c.password).await;
    assert!(desk.get("/desk/inbox").await.1.contains("宅基地能否继承"));
    let path = format!("/desk/consultations/{id}/review");
    let fields = [("outcome", "referred"), ("satisfaction", "neutral"), ("note", "电话回访")];
    assert_eq!(other.post(&path, &fields).await.0, 404, "the other office's post answers as for nothing");
    assert_eq!(desk.post(&path, &fields).await.0, 303);
    assert!(!desk.get("/desk/inbox").await.1.contains("宅基地能否继承"), "reviewed: gone from the inbox");
    let mine: serde_json::Value = advisor.get("/v1/subsidies/mine").await.json().await.unwrap();
    let item = &mine["items"][0];
    assert_eq!((item["status"].as_str(), item["amount_fen"].as_i64()), (Some("approved"), Some(1_200)), "{mine}");
}
