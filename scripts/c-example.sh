#!/usr/bin/env bash
# Builds the C examples (examples/c) with -Wall -Wextra -Werror against
# include/xnano.h and the debug cdylib, then runs them under valgrind
# (memcheck, full leak check): stream_sim streams 5 s from the simulated
# console over the direct Nano path; console_sim goes through SmartGlass
# (discovery, session, commands, a gamestream started by the console, power
# off and on). Fails on any compiler warning, memory error, leak, or when
# frames/audio/rumble did not arrive.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --lib
make -C examples/c --no-print-directory

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

vg() {
  # --fair-sched=yes: valgrind runs one thread at a time; without it the
  # in-process simulator can starve the client (seen: 92 of ~1,200 datagrams).
  valgrind --quiet --fair-sched=yes --leak-check=full \
    --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=1 \
    --suppressions=examples/c/valgrind.supp \
    "$@"
}

vg target/c-example/stream_sim 5 "$out" --pcm
# Natively, with Opus audio as well.
target/c-example/stream_sim 3 "$out"
vg target/c-example/console_sim 3 "$out" --synthetic
test -s "$out/sg_video.h264" || { echo "sg_video.h264 is empty" >&2; exit 1; }

# The files hold what was streamed: H.264 Annex B and audio packets.
start=$(head -c 4 "$out/video.h264" | od -An -tx1 | tr -d ' \n')
if [ "$start" != "00000001" ]; then
  echo "video.h264 does not start with an H.264 start code ($start)" >&2
  exit 1
fi
test -s "$out/audio.raw" || { echo "audio.raw is empty" >&2; exit 1; }

# FFI abuse (examples/c/abuse.c): NULLs, wrong states, stop/free from
# callbacks, create/connect/stop/free cycles leaving no thread or fd behind,
# threads hammering one client while it stops. Under valgrind (few cycles:
# it is slow) and under AddressSanitizer + UBSan with the full 1000 cycles.
vg target/c-example/abuse 20 4 500
cc -std=c11 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
  -Iinclude -o target/c-example/abuse-asan examples/c/abuse.c \
  -Ltarget/debug -Wl,-rpath,"$PWD/target/debug" -lxnano -pthread
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  target/c-example/abuse-asan 1000 8
echo "C examples: passed under valgrind and AddressSanitizer"
