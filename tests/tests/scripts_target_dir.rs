//! The project's scripts find what cargo built where cargo put it: with
//! `CARGO_TARGET_DIR` (or `build.target-dir`) set, `tests/run-all.sh` and the
//! bindings scripts must not look in `./target`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cargo_target_dir` from `tests/lib/target-dir.sh`, run with `env` set.
fn resolve(env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("bash");
    cmd.current_dir(repo())
        .arg("-c")
        .arg(". tests/lib/target-dir.sh && cargo_target_dir")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs");
    assert!(out.status.success(), "cargo_target_dir failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn target_dir_is_resolved_by_cargo() {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let elsewhere = elsewhere.path().to_string_lossy().to_string();
    assert_eq!(resolve(&[("CARGO_TARGET_DIR", &elsewhere)]), elsewhere);
    assert_eq!(resolve(&[("CARGO_BUILD_TARGET_DIR", &elsewhere)]), elsewhere);
    let default = resolve(&[]);
    let expected = repo().canonicalize().expect("repo path").join("target");
    assert_eq!(Path::new(&default), expected, "without settings cargo builds into <workspace>/target");
}

#[test]
fn scripts_use_the_resolved_target_dir() {
    for script in [
        "tests/run-all.sh",
        "tests/kotlin-jvm.sh",
        "bindings/build.sh",
        "android/build-core.sh",
        "ios/build-xcframework.sh",
    ] {
        let text = std::fs::read_to_string(repo().join(script)).expect("script readable");
        assert!(text.contains("tests/lib/target-dir.sh"), "{script} does not resolve cargo's target directory");
        for guess in ["target/debug", "${CARGO_TARGET_DIR:-"] {
            assert!(!text.contains(guess), "{script} guesses the target directory ({guess})");
        }
    }
}
