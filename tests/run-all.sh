#!/usr/bin/env bash
# Runs every test of Fengqiao: formatting, lints, and the Rust suites (unit tests,
# store conformance suites, end-to-end tests against a real server on loopback)
# and the tus interoperability test (tuspy against the server binary); the Kotlin
# suite on a plain JVM against the generated bindings (tests/kotlin-jvm.sh), and
# the interpreter-exit check through the generated Python bindings
# (tests/python-exit.sh).
# Installs what it needs on a fresh machine first.
#
#   ./tests/run-all.sh            # everything CI runs
#   FENGQIAO_LONG=1 ./tests/run-all.sh   # also the long fault runs (documented in docs/RELIABILITY.md)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs); this machine has none" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi
cargo --version

step "system packages (headless Chromium, CJK fonts, poppler-utils and Node.js for the report and desk tests; PostgreSQL for the store tests)"
# Only what is missing: a machine with Node.js from NodeSource has npm inside its
# nodejs package, and Debian's npm would conflict with it.
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
# grep -c reads all of fc-list's output (grep -q would cut the pipe under pipefail)
[ "$(fc-list 2>/dev/null | grep -ci 'Noto Sans CJK')" -gt 0 ] || missing="$missing fonts-noto-cjk"
command -v pdftotext >/dev/null 2>&1 || missing="$missing poppler-utils"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
# The PostgreSQL store tests start their own throwaway cluster (store::postgres::testdb).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing="$missing postgresql"
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
  else
    echo "install$missing for the report and desk tests" >&2
    exit 1
  fi
fi

step "desk browser tests' driver (playwright-core from npm, tests/desk/package-lock.json)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "playwright-core needs Node.js 20 or newer; this machine has $(node --version)" >&2; exit 1; }
[ -d tests/desk/node_modules/playwright-core ] || npm ci --prefix tests/desk --no-audit --no-fund

step "S3-compatible server for the photo tests (moto_server from PyPI, tests/src/moto.rs)"
command -v python3 >/dev/null 2>&1 || { echo "python3 is required for the photo tests' S3 server" >&2; exit 1; }
if ! command -v moto_server >/dev/null 2>&1 && [ ! -x "$HOME/.pyenv/shims/moto_server" ] \
    && [ ! -x "$HOME/.local/bin/moto_server" ]; then
  python3 -m pip install --quiet 'moto[server]'
fi

. tests/lib/target-dir.sh
target_dir=$(cargo_target_dir)
server_bin="$target_dir/debug/fengqiao-server"

step "format"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets -- -D warnings

step "rust tests (unit, conformance, end-to-end)"
cargo test --workspace

step "subsidy overflow tests in release (no overflow checks there: checked arithmetic must hold on its own)"
# Only the domain crate, only its amount tests: a release build of a small crate.
cargo test --release -p fengqiao-domain --lib -- extreme_amounts overflowing_subsidy never_wrap

step "deterministic simulator: 20 seeds of a field day, 52 phones each (FENGQIAO_LONG=1: 10,000 seeds)"
# Release: turmoil steps every host each tick; the figures are in docs/BENCHMARKS.md.
dst_seeds=20
[ "${FENGQIAO_LONG:-}" = "1" ] && dst_seeds=10000
cargo run --release -q -p fengqiao-tests --bin fengqiao-dst -- --seeds "$dst_seeds" --day-minutes 5 | tail -3

step "kotlin on the JVM (generated bindings, real server; installs kotlinc and JNA if missing)"
tests/kotlin-jvm.sh

step "interpreter exit after async calls (generated Python bindings, 40 runs)"
tests/python-exit.sh 40

step "tus interoperability (official tus Python client, tuspy)"
if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 is required for the tus interoperability test" >&2
  exit 1
fi
python3 -c "import tusclient" 2>/dev/null || python3 -m pip install --quiet tuspy
cargo build -p fengqiao-server
python3 tests/interop/tuspy_upload.py "$server_bin"

step "identity interop (PyJWT verifies access tokens with the published JWKS)"
python3 -c "import jwt, cryptography" 2>/dev/null || python3 -m pip install --quiet "pyjwt[crypto]"
python3 tests/interop/pyjwt_verify.py "$server_bin"

step "property-based API test (schemathesis from /openapi.json; FENGQIAO_LONG=1: the long run)"
python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install --quiet schemathesis
python3 tests/interop/schemathesis_run.py "$server_bin"

step "fuzzing (cargo fuzz on stable via RUSTC_BOOTSTRAP: op decoding, tus headers)"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz || true
if command -v cargo-fuzz >/dev/null 2>&1; then
  secs=15
  [ "${FENGQIAO_LONG:-}" = "1" ] && secs=900
  for t in op_decode tus_headers; do
    mkdir -p "fuzz/corpus/$t"
    log="$(mktemp)"
    if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --dev --sanitizer none "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -print_final_stats=1) >"$log" 2>&1; then
      tail -60 "$log" >&2
      echo "fuzz target $t failed: the input is in fuzz/artifacts/$t" >&2
      exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$log" || true
  done
else
  echo "cargo-fuzz could not be installed here: fuzzing skipped (docs/RELIABILITY.md)" >&2
fi
