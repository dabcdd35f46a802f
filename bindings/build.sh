#!/usr/bin/env bash
# Builds the bindings library (libfengqiao_bindings: .so/.dylib and .a) and
# regenerates the Kotlin and Swift bindings from it (UniFFI library mode).
#
#   bindings/build.sh             # debug build
#   bindings/build.sh --release   # release build for phones (the size-tuned `mobile` profile of the root Cargo.toml)
#
# Output (not committed):
#   target/<profile>/libfengqiao_bindings.{so,a}
#   bindings/generated/kotlin/org/fengqiao/core/fengqiao_bindings.kt
#   bindings/generated/swift/{FengqiaoCore.swift, FengqiaoCoreFFI.h, FengqiaoCoreFFI.modulemap}
# The iOS package copies the Swift output in with its own script.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
cargo_flags=()
for arg in "$@"; do
  case "$arg" in
    --release) profile=mobile; cargo_flags+=(--profile mobile) ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

. tests/lib/target-dir.sh
target_dir=$(cargo_target_dir)
case "$(uname -s)" in
  Darwin) lib="$target_dir/$profile/libfengqiao_bindings.dylib" ;;
  *) lib="$target_dir/$profile/libfengqiao_bindings.so" ;;
esac
# The generator reads UniFFI's metadata from the library's symbol table. The
# release profile strips the shared library (`strip = true`), so in release the
# metadata is read from the static library, which holds the same code unstripped.
meta_lib="$lib"
if [ "$profile" = mobile ]; then meta_lib="$target_dir/mobile/libfengqiao_bindings.a"; fi

echo "==> building fengqiao-bindings ($profile)"
cargo build ${cargo_flags[@]+"${cargo_flags[@]}"} -p fengqiao-bindings --lib
if [ "$profile" = mobile ]; then
  # The phone's shared library on its own: built together with the rlib and
  # staticlib, LTO keeps everything those export (≈1.5 MB more); alone, only
  # what the FFI exports survives. On Linux, packed relative relocations (RELR,
  # glibc ≥ 2.36) replace 24-byte entries by a bitmap (ADR 0014).
  link_args=()
  if [ "$(uname -s)" = Linux ]; then link_args=(-- -C link-arg=-Wl,-z,pack-relative-relocs); fi
  echo "==> linking the phone library alone (cdylib)"
  cargo rustc --profile mobile -p fengqiao-bindings --lib --crate-type cdylib ${link_args[@]+"${link_args[@]}"}
  bytes=$(stat -c %s "$lib" 2>/dev/null || stat -f %z "$lib")
  echo "==> $bytes bytes: $lib"
  # Issue 11's budget for the phone library (docs/BENCHMARKS.md, "Native library size").
  budget=${FENGQIAO_LIB_BUDGET:-6000000}
  if [ "$bytes" -gt "$budget" ]; then
    echo "==> OVER the phone library's budget of $budget bytes (see docs/BENCHMARKS.md, \"Native library size\")" >&2
    exit 1
  fi
fi
# The generator itself always builds in debug: it only reads the library's metadata.
cargo build -p fengqiao-bindings --features cli --bin uniffi-bindgen
bindgen="$target_dir/debug/uniffi-bindgen"

out=bindings/generated
rm -rf "$out/kotlin" "$out/swift"
mkdir -p "$out/kotlin" "$out/swift"
echo "==> generating Kotlin and Swift from $meta_lib"
"$bindgen" generate --library "$meta_lib" --language kotlin --out-dir "$out/kotlin" --no-format
"$bindgen" generate --library "$meta_lib" --language swift --out-dir "$out/swift" --no-format
echo "==> bindings in $out (library: $lib)"
find "$out" -type f | sort
