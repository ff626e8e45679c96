#!/usr/bin/env bash
# The one test command (README): installs what it needs, then runs every check.
set -euo pipefail
cd "$(dirname "$0")/.."

export XNANO_VECTORS="${XNANO_VECTORS:-$(cd .. && pwd)/shared/vectors}"
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

step "cargo test"
cargo test --all-targets 2>&1 | tee target/cargo-test.log
cargo test --doc

# Bounded fuzzing: every cargo-fuzz target for XNANO_FUZZ_SECS (default 10)
# seconds; fails on any crash. XNANO_SKIP_FUZZ=1 skips it (local runs).
if [ "${XNANO_SKIP_FUZZ:-0}" != "1" ]; then
  step "fuzz smoke (${XNANO_FUZZ_SECS:-10} s per target)"
  bash scripts/fuzz-smoke.sh "${XNANO_FUZZ_SECS:-10}"
fi

step "all checks passed"
