#!/usr/bin/env bash
# Builds the Rust core (fengqiao-bindings) for the Android ABIs into
# app/src/main/jniLibs and regenerates the Kotlin bindings the app compiles
# (../bindings/generated/kotlin, package org.fengqiao.core).
#
#   android/build-core.sh
#
# Needs: the Android NDK (ANDROID_NDK_HOME, or Android Studio's SDK with an
# NDK installed), cargo-ndk (`cargo install cargo-ndk`) and the Rust targets
# (`rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`).
# Not run on the project's Linux CI machines (no NDK there).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

if [ -z "${ANDROID_NDK_HOME:-}" ]; then
  sdk="${ANDROID_HOME:-${ANDROID_SDK_ROOT:-$HOME/Android/Sdk}}"
  if [ -d "$sdk/ndk" ]; then
    ANDROID_NDK_HOME="$sdk/ndk/$(ls "$sdk/ndk" | sort -V | tail -1)"
    export ANDROID_NDK_HOME
  fi
fi
[ -n "${ANDROID_NDK_HOME:-}" ] && [ -d "$ANDROID_NDK_HOME" ] || {
  echo "no Android NDK: set ANDROID_NDK_HOME (Android Studio: SDK Manager > SDK Tools > NDK)" >&2; exit 1; }
command -v cargo-ndk >/dev/null 2>&1 || { echo "cargo-ndk missing: cargo install cargo-ndk" >&2; exit 1; }
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android >/dev/null

echo "==> building fengqiao-bindings (profile mobile) for arm64-v8a, armeabi-v7a, x86_64 (NDK: $ANDROID_NDK_HOME)"
# --platform 26 matches the app's minSdk.
# First the static library (the generator reads UniFFI's metadata from it), then
# the shared library on its own: built with the rlib/staticlib, LTO keeps what
# they export (≈1.5 MB more); alone, only the FFI's exports survive. Android
# packed relocations (API ≥ 23) shrink the relocation table (ADR 0014).
cargo ndk --platform 26 -t arm64-v8a -t armeabi-v7a -t x86_64 \
  build --profile mobile -p fengqiao-bindings --lib
cargo ndk --platform 26 -t arm64-v8a -t armeabi-v7a -t x86_64 -o "$here/app/src/main/jniLibs" \
  rustc --profile mobile -p fengqiao-bindings --lib --crate-type cdylib -- -C link-arg=-Wl,--pack-dyn-relocs=android

echo "==> generating the Kotlin bindings"
# The generator reads UniFFI's metadata from the library. The mobile profile
# strips the .so, so read it from the static library of the same build, which
# keeps the symbols (as bindings/build.sh does for --release).
. tests/lib/target-dir.sh
target_dir=$(cargo_target_dir)
cargo build -p fengqiao-bindings --features cli --bin uniffi-bindgen
meta_lib="$target_dir/aarch64-linux-android/mobile/libfengqiao_bindings.a"
out=bindings/generated/kotlin
rm -rf "$out"
mkdir -p "$out"
"$target_dir/debug/uniffi-bindgen" generate --library "$meta_lib" --language kotlin --out-dir "$out" --no-format

echo "==> done"
find "$here/app/src/main/jniLibs" -name '*.so' | sort
find "$out" -type f | sort
