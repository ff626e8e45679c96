#!/usr/bin/env bash
# The client library ships the client and nothing else: the dependency tree
# of the root crate `xnano` (normal dependencies, which libxnano.so / .a
# link) holds no simulator, no media encoder, no certificate builder and
# none of the CLI's crates. (The exported symbols of the built library are
# checked by scripts/c-example.sh: no xnano_sim_*, no OpenH264.)
set -euo pipefail
cd "$(dirname "$0")/.."

forbidden='^(xnano-sim|xnano-cli|openh264|openh264-sys2|opus-pure|x509-cert|clap|indicatif|ctrlc|env_logger|hound|png|sdl2)$'
tree="$(cargo tree -p xnano-client -e normal --prefix none --no-dedupe | awk '{print $1}' | sort -u)"
bad="$(grep -E "$forbidden" <<<"$tree" || true)"
echo "xnano links $(wc -l <<<"$tree") crates: $(tr '\n' ' ' <<<"$tree")"
if [ -n "$bad" ]; then
  echo "check-library-deps: the client library depends on: $bad" >&2
  exit 1
fi
# The check can fail: the simulator crate itself has the encoders.
grep -qE '^openh264$' <(cargo tree -p xnano-sim -e normal --prefix none | awk '{print $1}') \
  || { echo "check-library-deps: the forbidden list no longer matches the simulator's tree" >&2; exit 1; }
echo "check-library-deps: no simulator, encoder or CLI crate in the client library"
