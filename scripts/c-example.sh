#!/usr/bin/env bash
# Builds the C examples (examples/c) with -Wall -Wextra -Werror against
# include/xnano.h and the debug cdylib, then runs them under valgrind
# (memcheck, full leak check): stream_sim streams (at least 5 s, until 60
# frames, rumble and an input ack) from the simulated console over the
# direct Nano path, and its H.264 recording must decode with ffmpeg into the
# delivered frame count; console_sim goes through SmartGlass
# (discovery, session, commands, a gamestream started by the console, power
# off and on). Fails on any compiler warning, memory error, leak, or when
# frames/audio/rumble did not arrive.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ffprobe >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg
fi

cargo build --lib
make -C examples/c --no-print-directory

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# --fair-sched=yes: valgrind runs one thread at a time, and with its default
# scheduling the simulated console's encoder thread can starve the client.
# The examples also wait for conditions (frames, rumble, input ack) with
# generous deadlines rather than counting on a rate.
vg() {
  valgrind --quiet --fair-sched=yes --leak-check=full \
    --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=1 \
    --suppressions=examples/c/valgrind.supp \
    "$@"
}

# The H.264 a run recorded decodes with ffmpeg (an independent decoder) into
# exactly the number of frames the client delivered.
check_h264() { # LOG FILE
  local delivered decoded start
  delivered="$(sed -n 's/^client stats: delivered \([0-9]*\) .*/\1/p' "$1")"
  [ -n "$delivered" ] || { echo "$1: no client stats line" >&2; exit 1; }
  start=$(head -c 4 "$2" | od -An -tx1 | tr -d ' \n')
  if [ "$start" != "00000001" ]; then
    echo "$2 does not start with an H.264 start code ($start)" >&2
    exit 1
  fi
  decoded="$(ffprobe -v error -count_frames -select_streams v:0 \
    -show_entries stream=nb_read_frames -of csv=p=0 "$2")"
  echo "$2: client delivered $delivered frames; ffprobe decoded $decoded"
  [ "$decoded" = "$delivered" ] || { echo "$2: frame count mismatch" >&2; exit 1; }
}

mkdir -p "$out/vg" "$out/native"
vg target/c-example/stream_sim 5 "$out/vg" --pcm | tee "$out/vg.log"
check_h264 "$out/vg.log" "$out/vg/video.h264"
test -s "$out/vg/audio.raw" || { echo "audio.raw (valgrind run) is empty" >&2; exit 1; }
# Natively, with Opus audio as well.
target/c-example/stream_sim 3 "$out/native" | tee "$out/native.log"
check_h264 "$out/native.log" "$out/native/video.h264"
test -s "$out/native/audio.raw" || { echo "audio.raw is empty" >&2; exit 1; }
# console_sim under valgrind sends synthetic (non-H.264) frames: cheap to
# produce; what arrived is checked by the example itself.
vg target/c-example/console_sim 3 "$out" --synthetic
test -s "$out/sg_video.h264" || { echo "sg_video.h264 is empty" >&2; exit 1; }

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
