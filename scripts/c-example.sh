#!/usr/bin/env bash
# Builds the C examples (examples/c) with -Wall -Wextra -Werror against
# include/xnano.h and sim/include/xnano_sim.h and the two debug cdylibs,
# libxnano (the client) and libxnano_sim (the simulated console, a library
# of its own), then runs them under valgrind
# (memcheck, full leak check): stream_sim streams (at least 5 s, until 60
# frames, rumble and an input ack) from the simulated console over the
# direct Nano path, and its H.264 recording must decode with ffmpeg into the
# delivered frame count; console_sim goes through SmartGlass
# (discovery, session, commands, a gamestream started by the console, power
# off and on). Fails on any compiler warning, memory error, leak, or when
# frames/audio/rumble did not arrive. libxnano's SONAME must be
# libxnano.so.<XNANO_ABI_VERSION>, libxnano_sim's libxnano_sim.so.
# <XNANO_SIM_ABI_VERSION>, and the examples must ask for both (NEEDED); the
# Makefile links those names to libxnano.so and libxnano_sim.so in
# target/debug. libxnano (.so and .a) must contain no simulator: no
# xnano_sim_* symbol, no OpenH264.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ffprobe >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg
fi

# Both C libraries: libxnano (cdylib and staticlib) and libxnano_sim.
cargo build -p xnano-client -p xnano-sim --lib
make -C examples/c --no-print-directory

# libxnano ships without the simulator: the shared library exports no
# xnano_sim_* function and neither it nor the static library contains
# OpenH264 (the simulated console's encoder). The same counts over
# libxnano_sim.so must be non-zero, so the patterns are known to find what
# they look for.
count_syms() { # PATTERN NM-ARGS...: lines of `nm ARGS` matching PATTERN (grep -ci)
  local pattern="$1" syms
  shift
  syms="$(nm "$@" 2>/dev/null)" || { echo "nm $* failed" >&2; exit 1; }
  [ -n "$syms" ] || { echo "nm $* listed no symbols" >&2; exit 1; }
  grep -ci -- "$pattern" <<<"$syms" || true
}
check_count() { # WHAT WANT(0|some) PATTERN NM-ARGS...
  local what="$1" want="$2" pattern="$3" n
  shift 3
  n="$(count_syms "$pattern" "$@")"
  if { [ "$want" = 0 ] && [ "$n" != 0 ]; } || { [ "$want" = some ] && [ "$n" = 0 ]; }; then
    echo "nm $*: $n $what, want $want:" >&2
    nm "$@" 2>/dev/null | grep -i -- "$pattern" | head -n 20 >&2 || true
    exit 1
  fi
  echo "nm $*: $n $what"
}
check_count "exported xnano_sim_ symbols" 0 ' xnano_sim_' -D --defined-only target/debug/libxnano.so
check_count "WelsCreateSVCEncoder (OpenH264) symbols" 0 WelsCreateSVCEncoder target/debug/libxnano.so
check_count "defined xnano_sim_ symbols" 0 ' xnano_sim_' -A --defined-only target/debug/libxnano.a
check_count "WelsCreateSVCEncoder (OpenH264) symbols" 0 WelsCreateSVCEncoder -A target/debug/libxnano.a
check_count "exported xnano_abi_version" some ' xnano_abi_version$' -D --defined-only target/debug/libxnano.so
check_count "exported xnano_sim_ symbols" some ' xnano_sim_' -D --defined-only target/debug/libxnano_sim.so
check_count "WelsCreateSVCEncoder (OpenH264) symbols" some WelsCreateSVCEncoder target/debug/libxnano_sim.so
echo "libxnano.so and libxnano.a: no xnano_sim_ symbol, no OpenH264 (both found in libxnano_sim.so)"

# ABI 1: each SONAME carries its library's ABI version, and a program
# linked with -lxnano -lxnano_sim records those names, so the loader never
# gives it a library of another ABI.
abi="$(sed -n 's/^#define XNANO_ABI_VERSION \([0-9][0-9]*\).*/\1/p' include/xnano.h)"
[ "$abi" = 1 ] || { echo "include/xnano.h: XNANO_ABI_VERSION is '$abi', want 1" >&2; exit 1; }
sim_abi="$(sed -n 's/^#define XNANO_SIM_ABI_VERSION \([0-9][0-9]*\).*/\1/p' sim/include/xnano_sim.h)"
[ "$sim_abi" = 1 ] ||
  { echo "sim/include/xnano_sim.h: XNANO_SIM_ABI_VERSION is '$sim_abi', want 1" >&2; exit 1; }
want_soname="libxnano.so.$abi"
want_sim_soname="libxnano_sim.so.$sim_abi"
check_soname() { # LIBRARY WANT
  local soname
  soname="$(readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')"
  if [ "$soname" != "$2" ]; then
    echo "$1: SONAME is '$soname', want $2" >&2
    exit 1
  fi
  echo "$1: SONAME $soname"
}
check_soname target/debug/libxnano.so "$want_soname"
check_soname target/debug/libxnano_sim.so "$want_sim_soname"
check_needed() { # EXECUTABLE
  local dyn name
  dyn="$(readelf -d "$1")"
  for name in "$want_soname" "$want_sim_soname"; do
    if ! grep '(NEEDED)' <<<"$dyn" | grep -qF "[$name]"; then
      echo "$1 does not record NEEDED $name:" >&2
      grep NEEDED <<<"$dyn" >&2 || true
      exit 1
    fi
  done
}
for exe in stream_sim console_sim abuse; do
  check_needed "target/c-example/$exe"
done
[ "$(readlink target/debug/"$want_soname")" = libxnano.so ] ||
  { echo "target/debug/$want_soname is not a link to libxnano.so" >&2; exit 1; }
[ "$(readlink target/debug/"$want_sim_soname")" = libxnano_sim.so ] ||
  { echo "target/debug/$want_sim_soname is not a link to libxnano_sim.so" >&2; exit 1; }
echo "the examples need $want_soname and $want_sim_soname"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Each example refuses a libxnano, and a libxnano_sim, of another ABI: a
# preloaded xnano_abi_version() (xnano_sim_abi_version()) that answers 2
# stands in for one.
for fn in xnano_abi_version xnano_sim_abi_version; do
  printf '#include <stdint.h>\nuint32_t %s(void) { return 2; }\n' "$fn" >"$out/$fn-2.c"
  cc -shared -fPIC -o "$out/$fn-2.so" "$out/$fn-2.c"
  case "$fn" in
    xnano_abi_version) want_msg="^xnano ABI mismatch" ;;
    *) want_msg="^xnano_sim ABI mismatch" ;;
  esac
  for exe in stream_sim console_sim abuse; do
    rc=0
    LD_PRELOAD="$out/$fn-2.so" "target/c-example/$exe" >"$out/abi2.log" 2>&1 || rc=$?
    if [ "$rc" = 0 ] || ! grep -q "$want_msg" "$out/abi2.log"; then
      echo "$exe ran with $fn() answering 2 (exit $rc):" >&2
      cat "$out/abi2.log" >&2
      exit 1
    fi
  done
  echo "the examples refuse $fn() == 2: $(head -n 1 "$out/abi2.log")"
done

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

# FFI abuse (examples/c/abuse.c): NULLs, wrong states, stop from a
# callback, create/connect/stop/free cycles leaving no thread or fd behind,
# threads hammering one client while it stops, and the ABI 1 promises under
# races (two stops, stop vs free, disconnect vs connect, two disconnects,
# free inside every callback kind, truncated structs). Under valgrind (few
# cycles and race rounds: it is slow) and under AddressSanitizer + UBSan
# with the full 1000 cycles and 100 rounds of each race.
vg target/c-example/abuse 20 4 500 3
ln -sfn libxnano.so "target/debug/$want_soname"
ln -sfn libxnano_sim.so "target/debug/$want_sim_soname"
cc -std=c11 -Wall -Wextra -Werror -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
  -Iinclude -Isim/include -o target/c-example/abuse-asan examples/c/abuse.c examples/c/common.c \
  -Ltarget/debug -Wl,-rpath,"$PWD/target/debug" -lxnano -lxnano_sim -pthread
check_needed target/c-example/abuse-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  target/c-example/abuse-asan 1000 8 0 100
echo "C examples: passed under valgrind and AddressSanitizer"
