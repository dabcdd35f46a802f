#!/usr/bin/env bash
# The interpreter-exit check through the generated Python bindings (UniFFI
# library mode): 40 runs of tests/python/exit_after_async.py, each an async
# call, a sync given up on while its listener is being called, and an
# immediate exit. Every run must exit 0: a callback reaching Python after its
# side dropped the future aborts the interpreter at exit.
#
#   ./tests/python-exit.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-40}"
target_dir="${CARGO_TARGET_DIR:-target}"

cargo build -p fengqiao-bindings --lib
cargo build -p fengqiao-bindings --features cli --bin uniffi-bindgen
lib="$target_dir/debug/libfengqiao_bindings.so"
[ "$(uname -s)" = Darwin ] && lib="$target_dir/debug/libfengqiao_bindings.dylib"
out=$(mktemp -d "${TMPDIR:-/tmp}/fengqiao-python.XXXXXX")
trap 'rm -rf "$out"' EXIT
"$target_dir/debug/uniffi-bindgen" generate --library "$lib" --language python --out-dir "$out" --no-format
cp "$lib" "$out/"

failed=0
for i in $(seq 1 "$runs"); do
  code=0
  python3 tests/python/exit_after_async.py "$out" >"$out/run.log" 2>&1 || code=$?
  if [ "$code" -ne 0 ]; then
    failed=$((failed + 1))
    echo "run $i exited $code:" >&2
    tail -5 "$out/run.log" >&2
  fi
done
echo "$((runs - failed)) of $runs runs exited cleanly"
[ "$failed" -eq 0 ]
