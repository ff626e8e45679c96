#!/usr/bin/env bash
# The C/C++ install path (README "Install"), end to end:
#   cargo cinstall --release --prefix=PREFIX --libdir=lib   # libxnano and libxnano_sim
# into PREFIX (default target/c-install/prefix; a fresh one each run), then checks what was
# installed (SONAMEs and links, libxnano.a, the headers under include/xnano and
# include/xnano_sim, the pkg-config files with Libs.private and the crate version), builds
# examples/pkg-config/stream.c and stream.cpp with nothing but
# `pkg-config --cflags --libs xnano xnano_sim` and runs them: each streams frames from the
# simulated console. A third build links libxnano statically (Libs.private).
# The prefix stays for the Python, .NET and Swift install checks (scripts/test-wheel.sh,
# scripts/pack-nuget.sh, scripts/test-swift.sh), which take libxnano from there.
# Needs cargo-c 0.10.24 (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
prefix="${1:-$repo/target/c-install/prefix}"
case "$prefix" in /*) ;; *) prefix="$repo/$prefix" ;; esac

command -v cargo-cinstall >/dev/null 2>&1 || export PATH="$HOME/.cargo/bin:$PATH"
cargo cinstall --version

rm -rf "$prefix"
# --libdir=lib: cargo-c's default on Debian is lib/<multiarch triple>.
echo "cargo cinstall --release --prefix=$prefix --libdir=lib"
cargo cinstall --release --prefix="$prefix" --libdir=lib
echo "installed:"
(cd "$prefix" && find . \( -type f -o -type l \) | sort | while read -r f; do
  if [ -L "$f" ]; then echo "  $f -> $(readlink "$f")"; else echo "  $f"; fi
done)

fail() { echo "install-c: $*" >&2; exit 1; }
abi="$(sed -n 's/^#define XNANO_ABI_VERSION \([0-9][0-9]*\).*/\1/p' include/xnano.h)"
sim_abi="$(sed -n 's/^#define XNANO_SIM_ABI_VERSION \([0-9][0-9]*\).*/\1/p' sim/include/xnano_sim.h)"
version="$(sed -n 's/^#define XNANO_VERSION_STRING "\(.*\)"/\1/p' include/xnano.h)"
lib="$prefix/lib"
for name in "libxnano.so.$abi" "libxnano_sim.so.$sim_abi"; do
  base="${name%.so.*}"
  [ -L "$lib/$base.so" ] || fail "$lib/$base.so is not a link"
  [ "$(readlink -f "$lib/$base.so")" = "$(readlink -f "$lib/$name")" ] || fail "$base.so and $name differ"
  soname="$(readelf -d "$lib/$name" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')"
  echo "readelf -d $lib/$name: $(readelf -d "$lib/$name" | grep SONAME | sed 's/^ *//')"
  [ "$soname" = "$name" ] || fail "$lib/$name: SONAME '$soname', want $name"
done
[ -f "$lib/libxnano.a" ] || fail "no $lib/libxnano.a"
[ -f "$lib/libxnano_sim.a" ] || fail "no $lib/libxnano_sim.a"
[ -f "$prefix/include/xnano/xnano.h" ] || fail "no include/xnano/xnano.h"
[ -f "$prefix/include/xnano_sim/xnano_sim.h" ] || fail "no include/xnano_sim/xnano_sim.h"
cmp include/xnano.h "$prefix/include/xnano/xnano.h" || fail "installed xnano.h differs"
cmp sim/include/xnano_sim.h "$prefix/include/xnano_sim/xnano_sim.h" || fail "installed xnano_sim.h differs"

export PKG_CONFIG_PATH="$lib/pkgconfig"
echo "--- $lib/pkgconfig/xnano.pc"
cat "$lib/pkgconfig/xnano.pc"
grep -q '^Libs.private: .' "$lib/pkgconfig/xnano.pc" || fail "xnano.pc has no Libs.private"
modversion="$(pkg-config --modversion xnano)"
echo "pkg-config --modversion xnano: $modversion"
[ "$modversion" = "$version" ] || fail "pkg-config --modversion xnano is '$modversion', want $version"
echo "pkg-config --cflags --libs xnano xnano_sim: $(pkg-config --cflags --libs xnano xnano_sim)"

out="$repo/target/c-install/examples"
rm -rf "$out"
mkdir -p "$out"
src=examples/pkg-config
# shellcheck disable=SC2046 # word splitting of pkg-config's output is the point
cc -std=c11 -Wall -Wextra -Werror -o "$out/stream" "$src/stream.c" $(pkg-config --cflags --libs xnano xnano_sim)
# shellcheck disable=SC2046
c++ -std=c++17 -Wall -Wextra -Werror -o "$out/stream-cxx" "$src/stream.cpp" $(pkg-config --cflags --libs xnano xnano_sim)
# Static libxnano: the archive, then what it needs from the system (Libs.private, through
# --static); libxnano_sim stays shared.
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$out/stream-static" "$src/stream.c" \
  $(pkg-config --cflags xnano xnano_sim) "$lib/libxnano.a" \
  $(pkg-config --libs-only-L xnano_sim) -lxnano_sim $(pkg-config --static --libs-only-l xnano | sed 's/-lxnano\b//')
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' '; }
for exe in stream stream-cxx; do
  needed "$out/$exe" | grep -q "libxnano.so.$abi " || fail "$exe does not need libxnano.so.$abi"
done
if needed "$out/stream-static" | grep -q "libxnano.so"; then fail "stream-static needs libxnano.so"; fi
echo "NEEDED: stream: $(needed "$out/stream"); stream-static: $(needed "$out/stream-static")"

export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$out/stream" 30
"$out/stream-cxx" 30
"$out/stream-static" 30
echo "install-c: C and C++ programs built with pkg-config streamed from the simulated console"
