#!/usr/bin/env bash
# The README's main command, checked: `cargo run --release -- demo` goes the
# whole way against the built-in simulated console, and the demo.h264 it
# writes decodes with ffmpeg into the number of frames the demo reported.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ffprobe >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo run --release --quiet -- demo --seconds 10 --out-dir "$out" 2>&1 | tee "$out/demo.log"

frames="$(sed -n 's/^done: \([0-9]*\) frames.*/\1/p' "$out/demo.log")"
[ -n "$frames" ] || { echo "demo did not report its frames"; exit 1; }
[ "$frames" -ge 500 ] || { echo "demo delivered only $frames frames in 10 s"; exit 1; }
decoded="$(ffprobe -v error -count_frames -select_streams v:0 \
  -show_entries stream=nb_read_frames -of csv=p=0 "$out/demo.h264")"
echo "demo reported $frames frames; ffprobe decoded $decoded"
[ "$decoded" = "$frames" ] || { echo "frame count mismatch"; exit 1; }
for f in demo.png demo.wav demo-stats.json; do
  [ -s "$out/$f" ] || { echo "missing $f"; exit 1; }
done
grep -q "rumble events received: [1-9]" "$out/demo.log" || { echo "no rumble"; exit 1; }
echo "demo: ok"
