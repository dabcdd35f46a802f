//! The phone's side of the shaped-link benchmark (`tests/bench-netem.sh`):
//! a real phone core, in the phone's network namespace, against a real
//! `fengqiao-server` across the shaped link. Each scenario prints one line
//! `RESULT <scenario> key value ...` for the script to collect.
//!
//! ```text
//! link_bench --scenario visits|photo|pull|approval --url URL --data SERVER_DATA_DIR --work DIR [--rate-kbit N]
//! link_bench --scenario seed --url URL --data SERVER_DATA_DIR --work DIR --records N
//! ```
//! - `visits`: a signed-in phone that has pulled its scope records 50 visits;
//!   the time of the sync that pushes them (goal on "2G": ≤ 5 s). Three rounds.
//! - `photo`: a 12-megapixel camera JPEG (generated) attached, so sized at
//!   capture; the time of the upload phase of the sync that sends it, and its
//!   goodput against the link's rate (goal on "4G weak": ≥ 80 %).
//! - `seed` (run next to the server, unshaped): `--records` visits pushed
//!   by one group leader, so that a new phone of that group has a village's
//!   worth to pull.
//! - `pull`: a new phone of that group signs in and makes its first sync; the
//!   time until it has pulled everything (goal on "4G weak" with cuts: ≤ 60 s).
//! - `approval`: the village's first secretary has the app open (looping
//!   `wait_and_sync`); the group leader reports a dispute and asks the village
//!   to take it: the time from the leader's sync returning (the server has the
//!   request) to the request in the secretary's inbox; then the secretary
//!   approves, with the leader's app open: the time from the secretary's sync
//!   returning to the leader seeing the dispute at the village (goals: ≤ 2 s on
//!   loopback, ≤ 3 s on "4G weak"). Three rounds.
//!
//! A sync that a cut of the link breaks is started again at once, as the app's
//! sync worker does; the times include those restarts (their number is printed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fengqiao_core::{ClientOptions, FieldClient, NewPhoto, RetryPolicy, SyncPhase, SyncProgress, SyncReport};
use fengqiao_domain::disputes::EscalationReason;
use fengqiao_domain::ladder::{Grade, Level};
use fengqiao_domain::EntityKind;
use fengqiao_tests::phone::{new_dispute, routine_visit, store_key};
use fengqiao_tests::photos::camera_jpeg;

/// The group leader whose phone the scenarios drive (a group of the demo county).
const LEADER: &str = "leader.t1v1g1";

fn args() -> Option<HashMap<String, String>> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let mut out = HashMap::new();
    for pair in raw.chunks(2) {
        let [k, v] = pair else { return None };
        out.insert(k.strip_prefix("--")?.to_string(), v.clone());
    }
    Some(out)
}

fn options(photo_dir: Option<PathBuf>) -> ClientOptions {
    ClientOptions {
        photo_dir,
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(60),
        retry: RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        },
        ..ClientOptions::default()
    }
}

/// A phone in `dir` signed in as `user`.
async fn signed_in(dir: &Path, url: &str, data: &Path, user: &str) -> Result<FieldClient, String> {
    let creds = fengqiao_server::demo::read_credentials(data).map_err(|e| format!("credentials: {e}"))?;
    let cred = creds.into_iter().find(|c| c.username == user).ok_or(format!("no demo user {user}"))?;
    let p = FieldClient::open(
        dir.join("phone").to_string_lossy().into_owned(),
        url.into(),
        store_key(),
        options(Some(dir.join("photos"))),
    )
    .map_err(|e| format!("open: {e}"))?;
    let mut tries = 0;
    loop {
        match p.login(cred.username.clone(), cred.password.clone()).await {
            Ok(_) => return Ok(p),
            Err(e) if e.is_transient() && tries < 20 => tries += 1,
            Err(e) => return Err(format!("login: {e}")),
        }
    }
}

/// Syncs until one sync completes (a cut breaks a sync; the next one resumes).
/// The report and how many syncs a cut broke.
async fn sync_through_cuts(
    p: &FieldClient,
    progress: Option<Arc<dyn SyncProgress>>,
) -> Result<(SyncReport, u32), String> {
    let mut broken = 0;
    loop {
        match p.sync_with(progress.clone(), None).await {
            Ok(r) => return Ok((r, broken)),
            Err(e) if e.is_transient() && broken < 50 => broken += 1,
            Err(e) => return Err(format!("sync: {e}")),
        }
    }
}

/// When the upload phase of a sync first reported progress.
struct UploadStart(Mutex<Option<Instant>>);

impl SyncProgress for UploadStart {
    fn on_progress(&self, phase: SyncPhase, _done: u64, _total: u64) {
        if phase == SyncPhase::Uploading {
            let mut at = self.0.lock().unwrap_or_else(|p| p.into_inner());
            at.get_or_insert_with(Instant::now);
        }
    }
}

async fn visits(url: &str, data: &Path, work: &Path) -> Result<String, String> {
    let p = signed_in(work, url, data, LEADER).await?;
    sync_through_cuts(&p, None).await?;
    let house = p.households().map_err(|e| e.to_string())?.into_iter().next().ok_or("no household")?;
    let mut secs = Vec::new();
    let mut broken_all = 0;
    for round in 0..3 {
        for i in 0..50 {
            p.record_visit(routine_visit(&house, &format!("第{round}轮走访{i}：邻里关系和睦，无矛盾线索。")))
                .map_err(|e| e.to_string())?;
        }
        let t = Instant::now();
        let (r, broken) = sync_through_cuts(&p, None).await?;
        secs.push(t.elapsed().as_secs_f64());
        broken_all += broken;
        if r.pushed_applied < 50 {
            return Err(format!("pushed {} of 50", r.pushed_applied));
        }
    }
    let mut sorted = secs.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(format!(
        "median_s {:.2} all_s {} broken_syncs {broken_all}",
        sorted[1],
        secs.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(",")
    ))
}

async fn photo(url: &str, data: &Path, work: &Path, rate_kbit: f64) -> Result<String, String> {
    let p = signed_in(work, url, data, LEADER).await?;
    sync_through_cuts(&p, None).await?;
    let house = p.households().map_err(|e| e.to_string())?.into_iter().next().ok_or("no household")?;
    let mut lines = Vec::new();
    for round in 0..2u16 {
        let v = p.record_visit(routine_visit(&house, "院墙开裂，拍照存证")).map_err(|e| e.to_string())?;
        sync_through_cuts(&p, None).await?;
        let taken = camera_jpeg(4000, 3000, [1, 6][usize::from(round)], true);
        let src = work.join(format!("camera{round}.jpg"));
        std::fs::write(&src, &taken).map_err(|e| e.to_string())?;
        let att = p
            .attach_photo(NewPhoto {
                target_kind: EntityKind::Visit,
                target_id: v.id,
                source_path: src.to_string_lossy().into_owned(),
                content_type: "image/jpeg".into(),
                caption: String::new(),
            })
            .map_err(|e| e.to_string())?;
        let start = Arc::new(UploadStart(Mutex::new(None)));
        let (r, broken) = sync_through_cuts(&p, Some(start.clone())).await?;
        let end = Instant::now();
        let began = start.0.lock().unwrap_or_else(|p| p.into_inner()).ok_or("no upload phase")?;
        if r.photos_uploaded != 1 {
            return Err(format!("uploaded {}", r.photos_uploaded));
        }
        let secs = (end - began).as_secs_f64();
        let kbit = att.length as f64 * 8.0 / secs / 1000.0;
        lines.push((att.length, taken.len(), secs, kbit, broken));
    }
    let (len, taken, secs, kbit, broken) = lines[lines.len() - 1];
    let share = if rate_kbit > 0.0 { format!("{:.2}", kbit / rate_kbit) } else { "-".into() };
    Ok(format!(
        "sized_bytes {len} taken_bytes {taken} upload_s {secs:.2} goodput_kbit {kbit:.0} of_link {share} first_round_kbit {:.0} broken_syncs {broken}",
        lines[0].3
    ))
}

async fn seed(url: &str, data: &Path, work: &Path, records: usize) -> Result<String, String> {
    let p = signed_in(work, url, data, LEADER).await?;
    sync_through_cuts(&p, None).await?;
    let house = p.households().map_err(|e| e.to_string())?.into_iter().next().ok_or("no household")?;
    let mut done = 0;
    while done < records {
        let n = (records - done).min(500);
        for i in 0..n {
            p.record_visit(routine_visit(
                &house,
                &format!("存量走访 {}：情况正常，邻里和睦，无矛盾纠纷线索。", done + i),
            ))
            .map_err(|e| e.to_string())?;
        }
        sync_through_cuts(&p, None).await?;
        done += n;
    }
    Ok(format!("records {records}"))
}

async fn pull(url: &str, data: &Path, work: &Path) -> Result<String, String> {
    let p = signed_in(work, url, data, LEADER).await?;
    let t = Instant::now();
    let (r, broken) = sync_through_cuts(&p, None).await?;
    let secs = t.elapsed().as_secs_f64();
    let visits = p.list_visits(u32::MAX).map_err(|e| e.to_string())?.len();
    Ok(format!("pull_s {secs:.2} pulled_changes {} visits {visits} broken_syncs {broken}", r.pulled))
}

/// The secretary who approves the group's requests.
const APPROVER: &str = "firstsec.t1v1";

/// Keeps `p`'s app "open": waits for changes and syncs, until `done` says so
/// (checked after each wake); when it holds, returns the instant it first did.
async fn open_until(p: Arc<FieldClient>, done: impl Fn(&FieldClient) -> bool) -> Instant {
    loop {
        if done(&p) {
            return Instant::now();
        }
        if p.wait_and_sync(25, None, None).await.is_err() {
            // a cut: the app tries again shortly
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

async fn approval(url: &str, data: &Path, work: &Path) -> Result<String, String> {
    let creds = fengqiao_server::demo::read_credentials(data).map_err(|e| format!("credentials: {e}"))?;
    let group = creds.iter().find(|c| c.username == LEADER).ok_or("no leader")?.unit_id;
    let leader = Arc::new(signed_in(&work.join("leader"), url, data, LEADER).await?);
    let approver = Arc::new(signed_in(&work.join("approver"), url, data, APPROVER).await?);
    sync_through_cuts(&leader, None).await?;
    sync_through_cuts(&approver, None).await?;
    let (mut to_approver, mut to_leader) = (Vec::new(), Vec::new());
    for round in 0..3 {
        let d = leader
            .report_dispute(new_dispute(group, Grade::General, &format!("第{round}起：两户因排水沟争执")))
            .map_err(|e| e.to_string())?;
        let e = leader
            .request_escalation(d.id, Level::Village, EscalationReason::RepeatedMediationFailed, "组内调解未果".into())
            .map_err(|e| e.to_string())?;
        let eid = e.id;
        let seen = tokio::spawn(open_until(approver.clone(), move |p| {
            p.escalation_inbox().is_ok_and(|i| i.iter().any(|x| x.escalation.id == eid))
        }));
        // the approver's wait is held before the request goes out
        tokio::time::sleep(Duration::from_millis(500)).await;
        sync_through_cuts(&leader, None).await?;
        let t0 = Instant::now();
        let at = tokio::time::timeout(Duration::from_secs(120), seen)
            .await
            .map_err(|_| "never reached")?
            .map_err(|e| e.to_string())?;
        to_approver.push(at.saturating_duration_since(t0).as_secs_f64());

        approver.decide_escalation(eid, true, "同意移交村调委会".into()).map_err(|e| e.to_string())?;
        let did = d.id;
        let seen = tokio::spawn(open_until(leader.clone(), move |p| {
            p.dispute(did).is_ok_and(|x| x.dispute.level == Level::Village)
        }));
        tokio::time::sleep(Duration::from_millis(500)).await;
        sync_through_cuts(&approver, None).await?;
        let t1 = Instant::now();
        let at = tokio::time::timeout(Duration::from_secs(120), seen)
            .await
            .map_err(|_| "never reached")?
            .map_err(|e| e.to_string())?;
        to_leader.push(at.saturating_duration_since(t1).as_secs_f64());
    }
    let med = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let all = |v: &[f64]| v.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(",");
    Ok(format!(
        "request_to_approver_s {:.2} ({}) decision_to_requester_s {:.2} ({})",
        med(&to_approver),
        all(&to_approver),
        med(&to_leader),
        all(&to_leader)
    ))
}

fn main() -> ExitCode {
    let Some(a) = args() else {
        eprintln!("usage: link_bench --scenario S --url URL --data DIR --work DIR [--rate-kbit N] [--records N]");
        return ExitCode::from(2);
    };
    let get = |k: &str| a.get(k).cloned().unwrap_or_default();
    let (scenario, url, data, work) =
        (get("scenario"), get("url"), PathBuf::from(get("data")), PathBuf::from(get("work")));
    let rate: f64 = a.get("rate-kbit").and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let records: usize = a.get("records").and_then(|v| v.parse().ok()).unwrap_or(5000);
    if let Err(e) = std::fs::create_dir_all(&work) {
        eprintln!("work dir: {e}");
        return ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let out = rt.block_on(async {
        match scenario.as_str() {
            "visits" => visits(&url, &data, &work).await,
            "photo" => photo(&url, &data, &work, rate).await,
            "seed" => seed(&url, &data, &work, records).await,
            "pull" => pull(&url, &data, &work).await,
            "approval" => approval(&url, &data, &work).await,
            other => Err(format!("unknown scenario {other}")),
        }
    });
    match out {
        Ok(line) => {
            println!("RESULT {scenario} {line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{scenario}: {e}");
            ExitCode::from(1)
        }
    }
}
