# Sourced by the project's scripts: `cargo_target_dir` prints the directory cargo
# builds into, as cargo itself resolves it (CARGO_TARGET_DIR, CARGO_BUILD_TARGET_DIR,
# `build.target-dir` in a .cargo/config.toml, else <workspace>/target), and fails
# (non-zero, a message on stderr) when cargo cannot say.
cargo_target_dir() {
  local meta dir
  meta=$(cargo metadata --format-version 1 --no-deps --offline) || {
    echo "cargo metadata failed: cannot tell cargo's target directory" >&2
    return 1
  }
  dir=$(printf '%s' "$meta" | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])') \
    && [ -n "$dir" ] || {
    echo "cargo metadata named no target directory" >&2
    return 1
  }
  printf '%s\n' "$dir"
}
