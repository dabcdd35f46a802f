//! A phone app's process for the crash harness (`tests/tests/crash_e2e.rs`):
//! opens a [`FieldClient`] on a data dir, signs in, and loops recording visits
//! (every few, a photo too) and syncing, until it is killed.
//!
//! After each `record_visit` (and `attach_photo`) returns, it appends the id
//! (the photo's SHA-256) to a journal file and syncs that file: a line in the
//! journal means "the core said it was recorded".
//!
//! ```text
//! field_driver --data DIR --url URL --user NAME --password PW --journal FILE --seed N
//! ```
//! Exit codes: 0 after `--max` visits, 2 bad arguments, 3 the store did not
//! open, 4 could not sign in or get households.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use fengqiao_core::{ClientError, FieldClient, NewPhoto};
use fengqiao_domain::EntityKind;
use fengqiao_tests::phone::{fast_options, routine_visit};
use rand::{Rng, SeedableRng};

fn args() -> Option<HashMap<String, String>> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut out = HashMap::new();
    for pair in raw.chunks(2) {
        let [k, v] = pair else { return None };
        out.insert(k.strip_prefix("--")?.to_string(), v.clone());
    }
    Some(out)
}

/// Deterministic photo bytes.
fn photo_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    fengqiao_tests::phone::as_jpeg((0..len).map(|_| rng.gen()).collect())
}

fn journal(path: &str, line: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(format!("{line}\n").as_bytes())?;
    f.sync_all()
}

fn open(dir: &str, url: &str) -> Result<FieldClient, ClientError> {
    let mut options = fast_options();
    options.upload_chunk_bytes = 16 * 1024;
    let mut last = None;
    // The previous (killed) process's lock goes with it; an in-test check may
    // still hold the store for a moment.
    for _ in 0..200 {
        match FieldClient::open(dir.to_string(), url.to_string(), fengqiao_tests::phone::store_key(), options.clone()) {
            Ok(c) => return Ok(c),
            Err(e) if matches!(&e, fengqiao_core::ClientError::Storage { message } if message.contains("lock") || message.contains("temporarily")) =>
            {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or(ClientError::Storage { message: "could not open".into() }))
}

fn main() -> ExitCode {
    let Some(a) = args() else {
        eprintln!("usage: field_driver --data DIR --url URL --user NAME --password PW --journal FILE --seed N");
        return ExitCode::from(2);
    };
    let get = |k: &str| a.get(k).cloned().unwrap_or_default();
    let (dir, url, journal_path) = (get("data"), get("url"), get("journal"));
    let seed: u64 = get("seed").parse().unwrap_or(1);
    let max: u64 = a.get("max").and_then(|m| m.parse().ok()).unwrap_or(u64::MAX);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("field_driver: runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let phone = match open(&dir, &url) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("field_driver: the phone store did not open: {e} ({})", e.code());
            return ExitCode::from(3);
        }
    };
    rt.block_on(async move {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        if phone.current_user().is_none() {
            let mut ok = false;
            for _ in 0..20 {
                if phone.login(get("user"), get("password")).await.is_ok() {
                    ok = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !ok {
                eprintln!("field_driver: could not sign in");
                return ExitCode::from(4);
            }
        }
        let mut households = phone.households().unwrap_or_default();
        for _ in 0..20 {
            if !households.is_empty() {
                break;
            }
            let _ = phone.sync().await;
            households = phone.households().unwrap_or_default();
        }
        if households.is_empty() {
            eprintln!("field_driver: no households");
            return ExitCode::from(4);
        }
        println!("ready");
        let mut n = 0u64;
        while n < max {
            n += 1;
            let h = &households[rng.gen_range(0..households.len())];
            let visit = match phone.record_visit(routine_visit(h, &format!("崩溃测试 {seed}-{n}"))) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("field_driver: record_visit failed: {e}");
                    return ExitCode::from(5);
                }
            };
            if let Err(e) = journal(&journal_path, &format!("visit {}", visit.id)) {
                eprintln!("field_driver: journal: {e}");
                return ExitCode::from(5);
            }
            if rng.gen_ratio(1, 4) {
                let len = rng.gen_range(24 * 1024..120 * 1024);
                let src = std::path::Path::new(&dir).join(format!("src-{seed}-{n}.jpg"));
                if std::fs::write(&src, photo_bytes(len, seed.wrapping_mul(1_000_003).wrapping_add(n))).is_ok() {
                    let photo = NewPhoto {
                        target_kind: EntityKind::Visit,
                        target_id: visit.id,
                        source_path: src.to_string_lossy().into_owned(),
                        content_type: "image/jpeg".into(),
                        caption: "存证".into(),
                    };
                    match phone.attach_photo(photo) {
                        Ok(a) => {
                            if let Err(e) = journal(&journal_path, &format!("photo {}", a.sha256)) {
                                eprintln!("field_driver: journal: {e}");
                                return ExitCode::from(5);
                            }
                        }
                        Err(e) => eprintln!("field_driver: attach_photo: {e}"),
                    }
                    let _ = std::fs::remove_file(&src);
                }
            }
            if rng.gen_ratio(1, 3) {
                // Errors are expected here (killed server, cut network): the
                // outbox keeps everything.
                let _ = phone.sync().await;
            }
        }
        ExitCode::SUCCESS
    })
}
