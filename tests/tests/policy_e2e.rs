//! A policy file cannot break a promise: the real `fengqiao-server` command line
//! (`check-policy` and `serve`) refuses a file whose value breaks an invariant,
//! exiting non-zero with the TOML key named, and accepts the seed's template.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_test_server");

fn server(args: &[&str], extra: &[&Path]) -> Command {
    let mut c = Command::new(SERVER);
    c.args(args).args(extra).env_remove("FENGQIAO_POLICY").env_remove("FENGQIAO_DATA").env("FENGQIAO_LOG", "warn");
    c
}

/// Runs a command that must end by itself within a minute (a server that started
/// instead of refusing is killed and fails the test).
fn ends(mut c: Command) -> Output {
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("still running after a minute: {:?}", child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_policy_and_serve_refuse_a_broken_policy_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();

    // the seed's template passes
    let template = ends(server(&["policy-template"], &[]));
    assert!(template.status.success());
    let good = dir.path().join("good.toml");
    std::fs::write(&good, &template.stdout).unwrap();
    let ok = ends(server(&["check-policy"], &[&good]));
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("valid"));

    for (toml, key) in [
        ("[subsidy]\nquality = []\n", "subsidy.quality"),
        ("[screening.assessment]\non_time = 30\n", "screening.assessment"),
        ("[deadlines]\nwarn_days_before = 9\n", "deadlines.warn_days_before"),
        ("[subsidy]\nbase_major_fen = 9223372036854775807\n", "subsidy.base_major_fen"),
        // the county's zone: unknown, or a zone this build does not carry (ADR 0014)
        ("[county]\ntimezone = \"Mars/Base\"\n", "county.timezone"),
        ("[county]\ntimezone = \"Europe/Berlin\"\n", "county.timezone"),
    ] {
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, toml).unwrap();
        let out = ends(server(&["check-policy"], &[&bad]));
        assert!(!out.status.success(), "{toml}: accepted");
        let err = stderr(&out);
        assert!(err.contains(key) && err.contains("bad.toml"), "{toml}: {err}");
    }

    // server start: an explicit --policy, and the data dir's own policy.toml
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[subsidy]\nquality = []\n").unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let serve = |policy: Option<&Path>| {
        let mut c = server(&["serve", "--listen", "127.0.0.1:0", "--demo", "--data"], &[&data]);
        if let Some(p) = policy {
            c.arg("--policy").arg(p);
        }
        ends(c)
    };
    let out = serve(Some(&bad));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("subsidy.quality"), "{}", stderr(&out));
    assert!(stderr(&out).contains("质量系数"), "a plain Chinese message: {}", stderr(&out));

    std::fs::write(data.join("policy.toml"), "[disputes]\nconfirmation_within_days = 0\n").unwrap();
    let out = serve(None);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("disputes.confirmation_within_days"), "{}", stderr(&out));
}
