#!/usr/bin/env bash
# Bounded fuzz run: every cargo-fuzz target for SECONDS each (default 10,
# or $XNANO_FUZZ_SECS), on corpora seeded from the vectors. Prints a table of
# target / executions / crashes and exits non-zero when any target crashed
# (the crashing input is kept under fuzz/artifacts/<target>/).
#
# Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET] [TARGET...]
# Works on a stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the
# sanitizer flags it needs).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-${XNANO_FUZZ_SECS:-10}}"
shift || true
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

bash scripts/fuzz-seed.sh

if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(cargo fuzz list)
fi

echo "fuzz-smoke: building ${#TARGETS[@]} targets"
cargo fuzz build >/dev/null 2>fuzz/build.log || { cat fuzz/build.log; exit 1; }

LOGDIR=fuzz/logs
mkdir -p "$LOGDIR"
failed=0
rows=()
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  log="$LOGDIR/$t.log"
  set +e
  # -timeout: one input running over 10 s is a hang; -rss_limit_mb bounds memory.
  cargo fuzz run "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  execs=${execs:-?}
  crashes=0
  if [ $rc -ne 0 ]; then
    crashes=1
    failed=1
    echo "---- $t FAILED (exit $rc); log tail:"
    tail -40 "$log"
  fi
  rows+=("$(printf '%-16s %12s %8s' "$t" "$execs" "$crashes")")
done

printf '\n%-16s %12s %8s\n' target executions crashes
printf '%s\n' "${rows[@]}"
if [ $failed -ne 0 ]; then
  echo "fuzz-smoke: crash found (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz-smoke: ${#TARGETS[@]} targets, ${SECS}s each, no crash"
