//! Who may have a photo's bytes, end to end (real server, real phone cores,
//! loopback): those who see a record it is attached to by an author who
//! uploaded it; a known hash grants nothing; ranges and the headers a photo is
//! served with; a signature photo in a case file; each against both photo
//! backends (the data dir's folder, and an S3 bucket in `moto_server`).
//! Uploads themselves are in `photos_e2e.rs`.

use fengqiao_core::{NewPhoto, UploadState};
use fengqiao_domain::EntityKind;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::moto::Photos;
use fengqiao_tests::photos::{
    download, new_photo, phone_with_visit, photo_bytes, sha_hex, source, state_of, upload_options,
};
use serde_json::{json, Value};

const KIB: usize = 1024;

/// a. Attach + sync uploads after the record; the village secretary downloads
/// the same bytes (ranges too); another village's secretary gets 404. The same
/// bytes attached twice are stored once.
async fn attached_photo_uploads_and_only_those_who_see_the_visit_may_download_it(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let (leader, visit) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", &upload_options(64 * KIB, 2)).await;
    let bytes = photo_bytes(300 * KIB + 17, 1);
    let sha = sha_hex(&bytes);
    let src = source(dirs[1].path(), "IMG_0001.jpg", &bytes);
    let a1 = leader.attach_photo(new_photo(&visit, &src)).unwrap();
    let a2 = leader.attach_photo(new_photo(&visit, &src)).unwrap();
    assert_eq!((a1.sha256.as_str(), a1.length), (sha.as_str(), bytes.len() as u64));
    assert_eq!(a2.sha256, sha);
    std::fs::remove_file(&src).unwrap(); // the app may delete its copy: the core has its own
    let local: Vec<_> = std::fs::read_dir(dirs[1].path().join("photos")).unwrap().flatten().collect();
    assert_eq!(local.len(), 1, "the same bytes twice are stored once");

    let listed = leader.photos_for(EntityKind::Visit, visit.id).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|p| p.pending && p.status.as_ref().is_some_and(|s| s.is_pending() && !s.confirmed)));
    assert_eq!(leader.sync_status().unwrap().photos_pending, 1);
    assert_eq!(state_of(&leader, &sha).state, UploadState::Pending);

    let report = leader.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.photos_uploaded, report.photos_failed), (2, 1, 0));
    let st = state_of(&leader, &sha);
    assert_eq!((st.state, st.bytes_done, st.local_file), (UploadState::Done, bytes.len() as u64, true));
    assert_eq!(leader.sync_status().unwrap().photos_pending, 0);
    assert!(leader.photos_for(EntityKind::Visit, visit.id).unwrap().iter().all(|p| !p.pending));
    assert_eq!(Photos::blob(&server, &sha).await.unwrap(), bytes, "the server kept the same bytes");
    assert_eq!(leader.photo_bytes(&sha).unwrap().unwrap(), bytes);

    let secretary = ApiUser::login(&server, "secretary.t1v1").await.token;
    let (status, body) = download(&server, &secretary, &sha, None).await;
    assert_eq!(status, 200);
    assert!(body == bytes, "the secretary downloads the same bytes");
    let (status, body) = download(&server, &secretary, &sha, Some("bytes=1000-1999")).await;
    assert_eq!((status, body.as_slice()), (206, &bytes[1000..2000]));
    let (status, body) = download(&server, &secretary, &sha, Some("bytes=-17")).await;
    assert_eq!((status, body.as_slice()), (206, &bytes[bytes.len() - 17..]));
    // Content-addressed: kept for good, and revalidated without its bytes.
    let url = format!("{}/v1/photos/{sha}", server.url());
    let http = reqwest::Client::new();
    let first = http.get(&url).bearer_auth(&secretary).send().await.unwrap();
    assert_eq!(first.headers()["cache-control"], "private, max-age=31536000, immutable");
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(tag, format!("\"{sha}\""));
    let again = http.get(&url).bearer_auth(&secretary).header("if-none-match", &tag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    assert!(again.bytes().await.unwrap().is_empty(), "a 304 carries no bytes");

    let other = ApiUser::login(&server, "secretary.t1v2").await.token;
    assert_eq!(download(&server, &other, &sha, None).await.0, 404, "another village's secretary");
    let guess = http.get(&url).bearer_auth(&other).header("if-none-match", &tag).send().await.unwrap();
    assert_eq!(guess.status(), 404, "naming the tag grants no 304 to whom may not see the photo");
    let stranger = photo_bytes(10, 99);
    assert_eq!(download(&server, &secretary, &sha_hex(&stranger), None).await.0, 404, "unknown photo");
}

/// An unsatisfiable `Range` is one JSON error (`invalid_range`) with
/// `Content-Range: bytes */LEN` and nothing cacheable; a photo is served with
/// `nosniff` and a Content-Security-Policy that lets nothing in it run.
async fn an_unsatisfiable_range_is_one_json_error_and_photos_carry_a_csp(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let (leader, visit) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", &upload_options(64 * KIB, 2)).await;
    let bytes = photo_bytes(20 * KIB, 7);
    let sha = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "r.jpg", &bytes))).unwrap().sha256;
    assert_eq!(leader.sync().await.unwrap().photos_uploaded, 1);
    let tok = ApiUser::login(&server, "secretary.t1v1").await.token;
    let get = |range: Option<&'static str>| {
        let mut req = reqwest::Client::new().get(format!("{}/v1/photos/{sha}", server.url())).bearer_auth(&tok);
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        req.send()
    };
    let r = get(Some("bytes=999999-")).await.unwrap();
    assert_eq!(r.status(), 416);
    let h = r.headers().clone();
    assert_eq!(h.get("content-range").unwrap(), &format!("bytes */{}", bytes.len()));
    assert!(h.get("content-type").unwrap().to_str().unwrap().starts_with("application/json"));
    assert!(
        h.get("cache-control").is_none_or(|c| !c.to_str().unwrap().contains("immutable")),
        "an error is not cached for good: {h:?}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_range", "the error once, not wrapped: {body}");
    assert!(!body["message"].as_str().unwrap().contains("invalid_range"), "{body}");

    let r = get(None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(r.headers().get("content-security-policy").unwrap(), "default-src 'none'; sandbox");
    assert!(r.headers().get("cache-control").unwrap().to_str().unwrap().contains("immutable"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
}

/// Knowing a photo's hash is not holding it: a group leader in another town
/// attaches a known hash to his own visit. The attach is applied (records
/// sync ahead of photos) but grants no bytes: his download answers exactly
/// what a photo that does not exist answers. The uploader's village secretary,
/// who sees the uploader's visit, gets the bytes; an attach before its
/// author's own upload grants them once that upload completes.
async fn knowing_a_photos_hash_grants_no_bytes_only_an_authors_upload_does(photos: Photos) {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let opts = upload_options(64 * KIB, 2);
    let (leader, visit) = phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", &opts).await;
    let bytes = photo_bytes(100 * KIB, 11);
    let sha = sha_hex(&bytes);
    leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "p.jpg", &bytes))).unwrap();

    // The attacker's own visit, and an attach of the known hash to it.
    let (_attacker_phone, own) = phone_with_visit(dirs[2].path(), &server.url(), &server, "leader.t2v1g1", &opts).await;
    let attacker = fengqiao_tests::api::ApiUser::login(&server, "leader.t2v1g1").await;
    let attach = json!({"id": uuid::Uuid::now_v7(), "target_kind": "visit", "target_id": own.id, "sha256": sha,
        "length": bytes.len(), "content_type": "image/jpeg", "caption": "", "author": attacker.id});
    assert_eq!(attacker.push("attach_photo", attach).await["status"], "applied", "the attach itself is applied");

    // Before anyone uploaded: nobody gets the bytes.
    let secretary = ApiUser::login(&server, "secretary.t1v1").await.token;
    assert_eq!(download(&server, &secretary, &sha, None).await.0, 404);
    // The honest upload (its attach was pushed first, in the same sync).
    let report = leader.sync().await.unwrap();
    assert_eq!((report.pushed_applied, report.photos_uploaded), (1, 1));
    let (status, body) = download(&server, &secretary, &sha, None).await;
    assert_eq!(status, 200, "the uploader's colleague who sees the visit gets the photo");
    assert!(body == bytes);

    // The attacker: the same answer as for a photo that does not exist.
    let stolen = attacker.get(&format!("/v1/photos/{sha}")).await;
    let nothing = attacker.get(&format!("/v1/photos/{}", sha_hex(b"no such photo"))).await;
    assert_eq!((stolen.status().as_u16(), nothing.status().as_u16()), (404, 404));
    let (hs, hn) = (stolen.headers().clone(), nothing.headers().clone());
    for name in ["content-type", "content-length", "content-range", "cache-control", "etag"] {
        assert_eq!(hs.get(name), hn.get(name), "{name}");
    }
    assert_eq!(stolen.bytes().await.unwrap(), nothing.bytes().await.unwrap(), "byte-identical");
    let ranged = reqwest::Client::new()
        .get(format!("{}/v1/photos/{sha}", server.url()))
        .bearer_auth(&attacker.token)
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 404, "no part of it either");
}

/// A signature photo attached to a mediation agreement from the phone uploads and
/// joins the dispute's case file; the village secretary can download it.
async fn signature_photo_attaches_to_an_agreement_and_joins_the_case_file(photos: Photos) {
    use fengqiao_core::{NewAgreement, NewDispute};
    use fengqiao_domain::disputes::{Analysis, Difficulty, Party};
    use fengqiao_domain::ladder::Grade;
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let server = photos.start(dirs[0].path()).await.unwrap();
    let (leader, _) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, "leader.t1v1g1", &upload_options(64 * 1024, 3)).await;
    leader.prepare_case_numbers(1).await.unwrap();
    let d = leader
        .report_dispute(NewDispute {
            kind: "neighbour".into(),
            origin_unit: server.cred("leader.t1v1g1").unwrap().unit_id,
            parties: vec![Party { name: "张三".into(), household_id: None, phone: None }],
            summary: "排水沟纠纷".into(),
            grade: Grade::General,
            analysis: Analysis { cause: "排水".into(), consequences: "轻微".into(), difficulty: Difficulty::Low },
            found_at: None,
            lead_id: None,
            level: None,
        })
        .unwrap();
    let bytes = photo_bytes(150_000, 42);
    let sha = sha_hex(&bytes);
    let a = leader
        .record_agreement(NewAgreement {
            dispute_id: d.id,
            signed_at: None,
            terms: "疏通排水沟".into(),
            sum_fen: 0,
            obligations: "双方共同出工".into(),
            signature_photos: vec![sha.clone()],
        })
        .unwrap();
    let path = source(dirs[1].path(), "signature.jpg", &bytes);
    leader
        .attach_photo(NewPhoto {
            target_kind: EntityKind::Agreement,
            target_id: a.id,
            source_path: path,
            content_type: "image/jpeg".into(),
            caption: "双方签字".into(),
        })
        .unwrap();
    let r = leader.sync().await.unwrap();
    assert_eq!((r.rejected, r.photos_uploaded), (0, 1), "{r:?}");
    assert_eq!(Photos::blob(&server, &sha).await.unwrap(), bytes);
    // the village secretary may download it; another village's may not
    let sec = fengqiao_tests::api::ApiUser::login(&server, "secretary.t1v1").await;
    let got = sec.get(&format!("/v1/photos/{sha}")).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    let other = fengqiao_tests::api::ApiUser::login(&server, "secretary.t1v2").await;
    assert_eq!(other.get(&format!("/v1/photos/{sha}")).await.status(), 404);
}

fengqiao_tests::both_photo_backends!(
    attached_photo_uploads_and_only_those_who_see_the_visit_may_download_it,
    an_unsatisfiable_range_is_one_json_error_and_photos_carry_a_csp,
    knowing_a_photos_hash_grants_no_bytes_only_an_authors_upload_does,
    signature_photo_attaches_to_an_agreement_and_joins_the_case_file,
);
