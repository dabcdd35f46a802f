//! The desk's browser tests from Rust: runs a script of `tests/desk/` (headless
//! Chromium through playwright-core, installed by `tests/run-all.sh`) against a
//! test server, and a resolved case made on a real phone core.

use std::path::PathBuf;
use std::process::Command;

use fengqiao_core::{FieldClient, NewAgreement, NewDispute, NewSession};
use fengqiao_domain::disputes::{Analysis, ClosingOutcome, Difficulty, Dispute, Party};
use fengqiao_domain::ladder::{Grade, Level};
use uuid::Uuid;

/// Where the screenshots go: `desk-screenshots` in cargo's target directory
/// (the test binary runs from `<target>/debug/deps`).
pub fn screenshots() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe.ancestors().nth(3).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("desk-screenshots")
}

/// Runs `tests/desk/<script>` with `env` and the server's URL; returns the JSON
/// it printed. Panics with the script's own error output when a check failed.
pub async fn browser(script: &str, url: &str, env: &[(&str, String)]) -> serde_json::Value {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("desk");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run `npm ci --prefix tests/desk` (tests/run-all.sh does)"
    );
    let mut cmd = Command::new("node");
    cmd.arg(script).current_dir(&dir).env("DESK_URL", url).env("DESK_SHOTS", screenshots());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().unwrap_or("{}");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}

/// A major dispute reported on the phone at village level with `parties`,
/// mediated twice, agreed and closed as resolved (not yet synced).
pub fn resolved_case(phone: &FieldClient, village: Uuid, parties: &[&str]) -> Dispute {
    let d = phone
        .report_dispute(NewDispute {
            kind: "mass".into(),
            origin_unit: village,
            parties: parties.iter().map(|n| Party { name: n.to_string(), household_id: None, phone: None }).collect(),
            summary: "灌溉用水分配纠纷".into(),
            grade: Grade::Major,
            analysis: Analysis {
                cause: "水源不足".into(),
                consequences: "可能聚集".into(),
                difficulty: Difficulty::Medium,
            },
            found_at: None,
            lead_id: None,
            level: Some(Level::Village),
        })
        .expect("report");
    for (i, agreed) in [false, true].into_iter().enumerate() {
        phone
            .record_session(NewSession {
                dispute_id: d.id,
                held_at: None,
                place: "村委会".into(),
                mediators: vec![],
                participants: vec!["乡贤王老".into()],
                record: format!("第{}次调解", i + 1),
                agreed,
            })
            .expect("session");
    }
    phone
        .record_agreement(NewAgreement {
            dispute_id: d.id,
            signed_at: None,
            terms: "按户轮灌".into(),
            sum_fen: 0,
            obligations: "各组按时段放水".into(),
            signature_photos: vec![],
        })
        .expect("agreement");
    phone.close_dispute(d.id, ClosingOutcome::Resolved, "和解".into()).expect("close");
    d
}
