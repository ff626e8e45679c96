#!/usr/bin/env bash
# Headless test of examples/player: runs it under Xvfb against the in-process simulated console
# for a few seconds (dummy audio), holds the E key (right trigger) through the X server as a
# user would, takes a screenshot of the X display while it plays, and checks that screenshot
# and the player's own last rendered frame are not blank, that the rumble the console answers
# the trigger with is on screen, and that video, audio, input and rumble all flowed.
# Exits non-zero on failure.
#
# Env: PLAYER_SECONDS (default 8), PLAYER_PROFILE (dev or release, default dev),
#      PLAYER_TEST_OUT (default target/player-test), SDL_RENDER_DRIVER (default software).
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${PLAYER_SECONDS:-8}"
profile="${PLAYER_PROFILE:-dev}"
out="${PLAYER_TEST_OUT:-target/player-test}"
mkdir -p "$out"
rm -f "$out"/*.png "$out"/*.xwd "$out"/*.log

fail() { echo "test-player: FAIL: $*" >&2; exit 1; }

# --- what it needs: SDL2 (headers to build), Xvfb, xwd, xdotool -----------------------------
missing=()
dpkg -s libsdl2-dev >/dev/null 2>&1 || missing+=(libsdl2-dev)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v xwd >/dev/null 2>&1 || missing+=(x11-apps)
command -v xdotool >/dev/null 2>&1 || missing+=(xdotool)
if ((${#missing[@]})); then
  echo "test-player: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- build and unit tests ---------------------------------------------------------------------
cargo clippy --features player --example player -- -D warnings
cargo test --features player --example player
if [ "$profile" = release ]; then
  cargo build --release --features player --example player
  bin=target/release/examples/player
else
  cargo build --features player --example player
  bin=target/debug/examples/player
fi

# --- a private X server -----------------------------------------------------------------------
# Always our own Xvfb (even when DISPLAY is set): the test must not draw on a user's desktop,
# and a known screen size makes the screenshot checkable.
n=99
while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do
  n=$((n + 1))
  [ "$n" -lt 200 ] || fail "no free X display number in :99..:199"
done
Xvfb ":$n" -screen 0 1280x720x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
xvfb_pid=$!
player_pid=""
cleanup() {
  [ -z "$player_pid" ] || kill "$player_pid" 2>/dev/null || true
  kill "$xvfb_pid" 2>/dev/null || true
  wait "$xvfb_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
  [ -e "/tmp/.X11-unix/X$n" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || { cat "$out/xvfb.log" >&2; fail "Xvfb :$n did not start"; }
  sleep 0.1
done
[ -e "/tmp/.X11-unix/X$n" ] || fail "Xvfb :$n has no socket after 10 s"
export DISPLAY=":$n"
echo "test-player: Xvfb on $DISPLAY (pid $xvfb_pid)"

# --- run the player ---------------------------------------------------------------------------
export SDL_VIDEODRIVER=x11
export SDL_AUDIODRIVER=dummy
export SDL_RENDER_DRIVER="${SDL_RENDER_DRIVER:-software}"
"$bin" --sim --window 1280x720 --exit-after "$secs" \
  --screenshot "$out/player.png" >"$out/player.log" 2>&1 &
player_pid=$!

# Once video plays and the console opened Input: hold E (right trigger) with the pointer over
# the window (no window manager: the keyboard goes where the pointer is), screenshot the
# display while the console's rumble answer is on screen, release.
for _ in $(seq 300); do
  grep -q "player: video " "$out/player.log" && grep -q "player: input ready" "$out/player.log" && break
  kill -0 "$player_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "player: input ready" "$out/player.log" || { cat "$out/player.log" >&2; fail "no video/input within 30 s"; }
sleep "$(awk -v s="$secs" 'BEGIN { t = s / 2 - 1; if (t < 1) t = 1; print t }')"
xdotool mousemove 640 360 || fail "xdotool mousemove failed"
xdotool keydown e || fail "xdotool keydown failed"
sleep 1
xwd -root -silent -display "$DISPLAY" >"$out/screen.xwd" || fail "xwd failed"
xdotool keyup e || fail "xdotool keyup failed"

rc=0
wait "$player_pid" || rc=$?
player_pid=""
cat "$out/player.log"
[ "$rc" = 0 ] || fail "the player exited with $rc"

# --- checks -----------------------------------------------------------------------------------
summary=$(grep '^player: seconds=' "$out/player.log") || fail "no summary line"
num() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$summary"; }
shown=$(num shown) decoded=$(num decoded) errors=$(num decode_errors)
audio=$(num audio_packets) samples=$(num audio_samples) sent=$(num input_frames_sent)
rumble=$(num rumble)
echo "test-player: shown=$shown decoded=$decoded decode_errors=$errors audio_packets=$audio" \
  "audio_samples=$samples input_frames_sent=$sent rumble=$rumble"
[ "${shown:-0}" -ge 10 ] || fail "only ${shown:-0} pictures shown"
[ "${errors:-1}" = 0 ] || fail "$errors decode errors"
[ "${audio:-0}" -ge 10 ] || fail "only ${audio:-0} audio packets decoded"
[ "${samples:-0}" -gt 0 ] || fail "no audio queued to SDL"
# Controller announced, E down, E up; the console answers each with rumble.
[ "${sent:-0}" -ge 3 ] || fail "only ${sent:-0} input frames sent (the E key did not arrive?)"
[ "${rumble:-0}" -ge 2 ] || fail "only ${rumble:-0} rumble commands received for the trigger"

# The rumble indicator's trigger bar is drawn in 255,170,0 (10x60 pixels at full trigger).
python3 scripts/check-screenshot.py "$out/screen.xwd" --png-out "$out/screen.png" \
  --expect-colour 255,170,0 --expect-count 300 \
  || fail "the X display screenshot is blank or lacks the rumble indicator ($out/screen.png)"
python3 scripts/check-screenshot.py "$out/player.png" \
  || fail "the player's own screenshot is blank ($out/player.png)"
echo "test-player: passed (screenshots in $out/)"
