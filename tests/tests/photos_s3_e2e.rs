//! Photos in an S3-compatible bucket (`moto_server`, started by the test
//! helper `fengqiao_tests::moto`) with the real server binary run as child
//! processes, signing with credentials from their environment: a tus upload
//! begun on one server process goes on and ends on another that reads the same
//! records and the same bucket (ADR 0038), with no photo byte on either's disk;
//! a bucket that does not answer stops `serve` at start; a backup lists the
//! photos in the bucket instead of carrying them, and the restored data dir
//! serves them again with the same bucket (and refuses to start without it).
//! The photo behaviour
//! of one server (content addressing, ranges, ETag and 304, who may download)
//! runs against the bucket in `photos_e2e.rs` and `photos_access_e2e.rs`.

use std::path::Path;

use base64::Engine;
use fengqiao_server::backup;
use fengqiao_server::tus::PhotoLocation;
use fengqiao_tests::api::ApiUser;
use fengqiao_tests::crash::{token, Extra, ServerProcess};
use fengqiao_tests::moto::{Moto, Photos};
use fengqiao_tests::photos::{download, new_photo, phone_with_visit, photo_bytes, source, upload_options};
use fengqiao_tests::TestServer;
use sha2::{Digest, Sha256};

const SERVER: &str = env!("CARGO_BIN_EXE_test_server");
const USER: &str = "leader.t1v1g1";

/// `serve --photos <bucket>` with the credentials in the environment.
fn in_bucket(photos: &PhotoLocation) -> Extra {
    Extra {
        args: vec!["--photos".into(), photos.to_string()],
        env: Moto::env().into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn tus(req: reqwest::RequestBuilder, tok: &str) -> reqwest::RequestBuilder {
    req.bearer_auth(tok).header("Tus-Resumable", "1.0.0")
}

/// Creates an upload of `bytes`; its path.
async fn create(url: &str, tok: &str, bytes: &[u8]) -> String {
    let sha = hex::encode(Sha256::digest(bytes));
    let meta = format!("sha256 {}", base64::engine::general_purpose::STANDARD.encode(&sha));
    let r = tus(reqwest::Client::new().post(format!("{url}/v1/photos/")), tok)
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", meta)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.headers()["location"].to_str().unwrap().to_string()
}

/// Sends `chunk` at `offset`: the status and the offset answered.
async fn patch(url: &str, tok: &str, upload: &str, offset: u64, chunk: &[u8]) -> (u16, Option<u64>) {
    let r = tus(reqwest::Client::new().patch(format!("{url}{upload}")), tok)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", offset.to_string())
        .body(chunk.to_vec())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.headers().get("upload-offset").and_then(|v| v.to_str().ok()?.parse().ok()))
}

/// The offset a server process tells for the upload.
async fn head(url: &str, tok: &str, upload: &str) -> u64 {
    let r = tus(reqwest::Client::new().head(format!("{url}{upload}")), tok).send().await.unwrap();
    assert!(r.status().is_success(), "HEAD {upload} on {url}: {}", r.status());
    r.headers()["upload-offset"].to_str().unwrap().parse().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Files under `dir` whose path names photos (none: the bytes live in the bucket).
fn photo_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().contains("photos") || p.extension().is_some_and(|x| x == "part") {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

/// Two server processes over the same records (the second on a copy of the
/// first's data dir, as a replica reading one database) and the same bucket:
/// chunks of one upload go to one, then the other, then back; each tells the
/// offset the other took; a chunk at a taken offset is refused; the one that
/// receives the last byte verifies the whole photo from the chunks in the
/// bucket (it never saw the first ones) and keeps it under its hash.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_begun_on_one_server_process_is_finished_on_another() {
    let moto = Moto::shared();
    let photos = moto.bucket("county").unwrap();
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut a = ServerProcess::start_with(Path::new(SERVER), dirs[0].path(), in_bucket(&photos)).unwrap();
    let tok_a = token(&a.url(), USER, &a.password(USER).unwrap()).await.unwrap();

    let bytes = photo_bytes(300_000, 23);
    let sha = hex::encode(Sha256::digest(&bytes));
    let upload = create(&a.url(), &tok_a, &bytes).await;
    assert_eq!(patch(&a.url(), &tok_a, &upload, 0, &bytes[..100_000]).await, (204, Some(100_000)));
    let id = upload.rsplit('/').next().unwrap();
    let keys = moto.keys(&photos).await.unwrap();
    assert!(keys.contains(&format!("county/uploads/{id}/{:020}", 0)), "the chunk is in the bucket: {keys:?}");

    // A second process on a copy of the records, the same bucket; the first serves again.
    a.kill().unwrap();
    copy_dir(dirs[0].path(), &dirs[1].path().join("data"));
    a.restart().unwrap();
    let b = ServerProcess::start_with(Path::new(SERVER), &dirs[1].path().join("data"), in_bucket(&photos)).unwrap();
    let tok_b = token(&b.url(), USER, &b.password(USER).unwrap()).await.unwrap();

    assert_eq!(head(&b.url(), &tok_b, &upload).await, 100_000, "the second process tells the first's offset");
    assert_eq!(patch(&b.url(), &tok_b, &upload, 0, &bytes[..1000]).await.0, 409, "a taken offset is refused");
    assert_eq!(patch(&b.url(), &tok_b, &upload, 100_000, &bytes[100_000..200_000]).await, (204, Some(200_000)));
    assert_eq!(head(&a.url(), &tok_a, &upload).await, 200_000, "and the first tells the second's");
    assert_eq!(patch(&a.url(), &tok_a, &upload, 200_000, &bytes[200_000..250_000]).await, (204, Some(250_000)));
    assert_eq!(patch(&b.url(), &tok_b, &upload, 250_000, &bytes[250_000..]).await, (204, Some(300_000)));
    assert_eq!(head(&b.url(), &tok_b, &upload).await, 300_000);

    let kept = moto.blob(&photos, &sha).await.unwrap().expect("the photo is kept");
    assert_eq!(hex::encode(Sha256::digest(&kept)), sha, "the photo's sha256 checks");
    let keys = moto.keys(&photos).await.unwrap();
    assert!(!keys.iter().any(|k| k.contains("/uploads/")), "no chunk is left once the photo is kept: {keys:?}");
    for d in [dirs[0].path(), dirs[1].path()] {
        assert_eq!(photo_files(d), Vec::<String>::new(), "no photo byte on a server's disk");
    }
}

/// A bucket that does not exist stops `serve` at start (not at the first photo).
#[tokio::test]
async fn serve_refuses_to_start_on_a_bucket_it_cannot_read() {
    let moto = Moto::shared();
    let PhotoLocation::S3(mut s3) = moto.bucket("county").unwrap() else { unreachable!() };
    s3.bucket = "fq-no-such-bucket".into();
    let dir = tempfile::tempdir().unwrap();
    let started = ServerProcess::start_with(Path::new(SERVER), dir.path(), in_bucket(&PhotoLocation::S3(s3)));
    let err = started.err().expect("serve does not start");
    assert!(err.to_string().contains("did not start"), "{err:#}");
}

/// A backup of a server whose photos are in a bucket holds the photo records
/// and lists the photos (count, bytes, checksum) without their bytes; `verify`
/// accepts it; the restored data dir refuses to start without the bucket and
/// serves the photo again with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_lists_the_photos_in_the_bucket_and_the_restore_serves_them_again() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut server = Photos::S3.start(dirs[0].path()).await.unwrap();
    let photos = server.state().unwrap().blobs.location().clone();
    let (leader, visit) =
        phone_with_visit(dirs[1].path(), &server.url(), &server, USER, &upload_options(64 * 1024, 2)).await;
    let bytes = photo_bytes(200_000, 5);
    let att = leader.attach_photo(new_photo(&visit, &source(dirs[1].path(), "IMG_1.jpg", &bytes))).unwrap();
    let report = leader.sync().await.unwrap();
    assert_eq!((report.photos_uploaded, report.photos_failed), (1, 0));
    assert!(!dirs[0].path().join("photos").exists(), "no photo folder in the data dir");
    assert!(
        std::fs::read_to_string(dirs[0].path().join(backup::listed::PHOTO_STORE_FILE)).unwrap().starts_with("s3://"),
        "the data dir remembers its bucket"
    );

    let file = dirs[2].path().join("county.fqbk");
    let (data, to) = (dirs[0].path().to_path_buf(), file.clone());
    let manifest = tokio::task::spawn_blocking(move || backup::control::request_backup(&data, &to))
        .await
        .unwrap()
        .expect("backup request")
        .expect("a server answers on the data dir");
    let listed = manifest.photos_listed.clone().expect("the photos are listed");
    assert_eq!((listed.count, listed.bytes), (1, bytes.len() as u64));
    assert_eq!(listed.location, photos.to_string());
    assert_eq!(manifest.photos.count, 0, "no photo bytes carried");
    assert_eq!(manifest.counts["photos"], 1);
    assert!(std::fs::metadata(&file).unwrap().len() < bytes.len() as u64 / 2, "the backup holds no photo bytes");
    let checked = backup::verify(&file).expect("verify accepts it");
    assert_eq!(checked.photos_listed, Some(listed));

    server.stop().await.unwrap();
    let restored = dirs[2].path().join("restored");
    let (from, into) = (file.clone(), restored.clone());
    tokio::task::spawn_blocking(move || backup::restore(&from, &into)).await.unwrap().expect("restore");
    std::fs::copy(dirs[0].path().join("demo-credentials.json"), restored.join("demo-credentials.json")).unwrap();
    let err = TestServer::start(&restored).await.err().expect("no start without the bucket");
    assert!(err.to_string().contains("--photos s3://"), "{err:#}");
    let again = TestServer::start_with_photos(&restored, photos).await.unwrap();
    let secretary = ApiUser::login(&again, "secretary.t1v1").await.token;
    let (status, body) = download(&again, &secretary, &att.sha256, None).await;
    assert_eq!(status, 200);
    assert!(body == bytes, "the restored server serves the photo from the bucket");
}
