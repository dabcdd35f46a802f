#!/usr/bin/env bash
# Builds the Rust core (fengqiao-bindings, profile `mobile`) for iOS devices
# and simulators, packs the static libraries into FengqiaoCoreFFI.xcframework,
# and copies the generated Swift into Sources/FengqiaoCore.
#
#   ios/build-xcframework.sh
#
# Needs macOS with Xcode (xcodebuild, lipo) and rustup. Not run on the
# project's Linux machines (no Apple toolchain there).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }
command -v xcodebuild >/dev/null || { echo "xcodebuild missing: install Xcode" >&2; exit 1; }

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
rustup target add "${targets[@]}" >/dev/null
. tests/lib/target-dir.sh
target_dir=$(cargo_target_dir)
export IPHONEOS_DEPLOYMENT_TARGET=16.0

for t in "${targets[@]}"; do
  echo "==> building fengqiao-bindings (mobile) for $t"
  cargo build --profile mobile -p fengqiao-bindings --lib --target "$t"
done

echo "==> generating the Swift bindings"
# Library mode reads UniFFI's metadata from the (unstripped) static library.
cargo build -p fengqiao-bindings --features cli --bin uniffi-bindgen
gen="$target_dir/uniffi-swift"
rm -rf "$gen"; mkdir -p "$gen"
"$target_dir/debug/uniffi-bindgen" generate --library "$target_dir/aarch64-apple-ios/mobile/libfengqiao_bindings.a" \
  --language swift --out-dir "$gen"

echo "==> packing FengqiaoCoreFFI.xcframework"
headers="$gen/headers"
mkdir -p "$headers"
cp "$gen/FengqiaoCoreFFI.h" "$headers/"
# An xcframework's headers dir must carry the module map under this name.
cp "$gen/FengqiaoCoreFFI.modulemap" "$headers/module.modulemap"

sim="$target_dir/ios-sim-universal/mobile"
mkdir -p "$sim"
lipo -create \
  "$target_dir/aarch64-apple-ios-sim/mobile/libfengqiao_bindings.a" \
  "$target_dir/x86_64-apple-ios/mobile/libfengqiao_bindings.a" \
  -output "$sim/libfengqiao_bindings.a"

rm -rf "$here/FengqiaoCoreFFI.xcframework"
xcodebuild -create-xcframework \
  -library "$target_dir/aarch64-apple-ios/mobile/libfengqiao_bindings.a" -headers "$headers" \
  -library "$sim/libfengqiao_bindings.a" -headers "$headers" \
  -output "$here/FengqiaoCoreFFI.xcframework"

mkdir -p "$here/Sources/FengqiaoCore"
cp "$gen/FengqiaoCore.swift" "$here/Sources/FengqiaoCore/FengqiaoCore.swift"

echo "==> done: ios/FengqiaoCoreFFI.xcframework, ios/Sources/FengqiaoCore/FengqiaoCore.swift"
