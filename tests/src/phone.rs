//! Helpers to drive real phone cores ([`FieldClient`] on a sled data dir).

use std::path::Path;
use std::time::Duration;

use fengqiao_core::{ClientError, ClientOptions, FieldClient, NewDispute, NewVisit, RetryPolicy};
use fengqiao_domain::disputes::{Analysis, Difficulty, EscalationReason, Party};
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::{Household, VisitKind};
use uuid::Uuid;

use crate::TestServer;

/// `bytes` as a real JPEG the core takes as it is: a tiny picture (within
/// any long edge, no EXIF: the core keeps it byte for byte) whose comment
/// segments carry `bytes`. The length is kept from [`MIN_JPEG_LEN`] bytes
/// on (below it, the tiny picture alone); the content is `bytes`' own, cut
/// where the segments' headers and the picture take room.
pub fn as_jpeg(bytes: Vec<u8>) -> Vec<u8> {
    let base = tiny_jpeg();
    let room = bytes.len().saturating_sub(base.len());
    // Each comment segment: FF FE, a 2-byte length, up to 65,533 bytes.
    let segments = room.div_ceil(65_537).max(1);
    if room < 4 * segments {
        return base.to_vec();
    }
    let payload = room - 4 * segments;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&base[..2]);
    let mut from = 0;
    for i in 0..segments {
        let len = payload / segments + usize::from(i < payload % segments);
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&u16::try_from(len + 2).expect("a segment's length").to_be_bytes());
        out.extend_from_slice(&bytes[from..from + len]);
        from += len;
    }
    out.extend_from_slice(&base[2..]);
    debug_assert_eq!(out.len(), bytes.len());
    out
}

/// Shortest length [`as_jpeg`] keeps.
pub const MIN_JPEG_LEN: usize = 700;

/// An 8 × 8 grey JPEG, made once.
fn tiny_jpeg() -> &'static [u8] {
    static TINY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    TINY.get_or_init(|| {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 50)
            .encode_image(&image::GrayImage::from_pixel(8, 8, image::Luma([128])))
            .expect("encode a tiny JPEG");
        assert!(out.len() + 4 <= MIN_JPEG_LEN, "{} bytes", out.len());
        out
    })
}

/// Options for tests: quick retries so faults resolve fast.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
        },
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    }
}

/// The store key test phones use (an app keeps its own in the platform keystore).
pub const STORE_KEY: [u8; 32] = [42u8; 32];

/// [`STORE_KEY`] as `FieldClient::open` takes it.
pub fn store_key() -> Vec<u8> {
    STORE_KEY.to_vec()
}

/// A phone with its own sled store in `dir`, talking to `url`.
pub fn phone(dir: &Path, url: &str) -> FieldClient {
    phone_with(dir, url, fast_options())
}

/// [`phone`] with other options.
pub fn phone_with(dir: &Path, url: &str, options: ClientOptions) -> FieldClient {
    FieldClient::open(dir.to_string_lossy().into_owned(), url.to_string(), store_key(), options)
        .expect("open phone store")
}

/// Opens the phone on `dir` once the store's previous owner (a phone just
/// dropped, or a killed process) has let go of its lock: a refusal naming the
/// lock is tried again for up to five seconds; any other answer is returned.
pub async fn reopen(dir: &Path, url: &str, options: &ClientOptions) -> Result<FieldClient, ClientError> {
    let open = || FieldClient::open(dir.to_string_lossy().into_owned(), url.to_string(), store_key(), options.clone());
    for _ in 0..200 {
        match open() {
            Err(e) if held_lock(&e) => tokio::time::sleep(Duration::from_millis(25)).await,
            other => return other,
        }
    }
    open()
}

/// Whether opening a phone store was refused because another owner holds its lock.
fn held_lock(e: &ClientError) -> bool {
    matches!(e, ClientError::Storage { message } if message.contains("lock") || message.contains("temporarily"))
}

/// Signs `phone` in as the demo user `user` of `server`.
pub async fn sign_in(phone: &FieldClient, server: &TestServer, user: &str) {
    let c = server.cred(user).expect("demo user");
    phone.login(c.username, c.password).await.expect("sign in");
}

/// A phone on `dir` talking to `url`, signed in as the demo user `user`
/// (nothing synced yet).
pub async fn signed_in(dir: &Path, url: &str, server: &TestServer, user: &str) -> FieldClient {
    let p = phone(dir, url);
    sign_in(&p, server, user).await;
    p
}

/// [`signed_in`], then synced once (its scope pulled).
pub async fn signed_in_synced(dir: &Path, url: &str, server: &TestServer, user: &str) -> FieldClient {
    signed_in_synced_with(dir, url, server, user, fast_options()).await
}

/// [`signed_in_synced`] with other options.
pub async fn signed_in_synced_with(
    dir: &Path,
    url: &str,
    server: &TestServer,
    user: &str,
    options: ClientOptions,
) -> FieldClient {
    let p = phone_with(dir, url, options);
    sign_in(&p, server, user).await;
    p.sync().await.expect("first sync");
    p
}

/// A dispute between two neighbours found in `origin`, of `grade`.
pub fn new_dispute(origin: Uuid, grade: Grade, summary: &str) -> NewDispute {
    NewDispute {
        kind: "neighbour".into(),
        origin_unit: origin,
        parties: vec![
            Party { name: "李四".into(), household_id: None, phone: None },
            Party { name: "赵六".into(), household_id: None, phone: None },
        ],
        summary: summary.into(),
        grade,
        analysis: Analysis {
            cause: "界址不清".into(), consequences: "可能动手".into(), difficulty: Difficulty::High
        },
        found_at: None,
        lead_id: None,
        level: None,
    }
}

/// Village t1v1's group leader, secretary and first secretary on their own
/// phones, and a general dispute the leader reported and asked to move up to
/// the village, pushed (the village's phones have not pulled it yet).
pub struct EscalatedToVillage {
    /// `leader.t1v1g1`, who reported it.
    pub leader: FieldClient,
    /// `secretary.t1v1`.
    pub secretary: FieldClient,
    /// `firstsec.t1v1`.
    pub firstsec: FieldClient,
    /// The dispute.
    pub dispute: Uuid,
    /// The escalation request.
    pub escalation: Uuid,
}

/// [`EscalatedToVillage`], the phones in `dirs` (leader, secretary, first
/// secretary) signed in and synced, the dispute summed up as `summary`.
pub async fn escalated_to_village(server: &TestServer, dirs: [&Path; 3], summary: &str) -> EscalatedToVillage {
    let url = server.url();
    let leader = signed_in_synced(dirs[0], &url, server, "leader.t1v1g1").await;
    let secretary = signed_in_synced(dirs[1], &url, server, "secretary.t1v1").await;
    let firstsec = signed_in_synced(dirs[2], &url, server, "firstsec.t1v1").await;
    let group = server.cred("leader.t1v1g1").expect("demo user").unit_id;
    let d = leader.report_dispute(new_dispute(group, Grade::General, summary)).expect("report the dispute");
    let e = leader
        .request_escalation(d.id, Level::Village, EscalationReason::OutsideLevelScope, String::new())
        .expect("ask to move it up");
    leader.sync().await.expect("push the dispute");
    EscalatedToVillage { leader, secretary, firstsec, dispute: d.id, escalation: e.id }
}

/// A routine visit to a household.
pub fn routine_visit(household: &Household, notes: &str) -> NewVisit {
    NewVisit {
        household_id: household.id,
        body: None,
        kind: VisitKind::Routine,
        visited_at: None,
        notes: notes.to_string(),
        location: None,
        leads: vec![],
    }
}
