#!/usr/bin/env bash
# Builds libxnano and libxnano_sim, compiles the C# binding (bindings/csharp: the client
# assembly Xnano.dll from src/, the simulator assembly Xnano.Sim.dll from sim/src/) with Mono's
# mcs, and runs the NUnit 2.6 tests (tests/, referencing both) with nunit-console. Products go
# to target/csharp. Also builds fake libraries the ABI checks must refuse (a libxnano.so and a
# libxnano_sim.so whose ABI version is 999, and ones without the version function) and the
# probes that AbiTests runs against each in a process of their own, plus a directory with the
# client alone (no Xnano.Sim.dll, no libxnano_sim.so) that must work as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

NUNIT_DIR=/usr/lib/cli/nunit.framework-2.6.3
# XNANO_CSHARP_PACKAGES=DIR (scripts/pack-nuget.sh): DIR holds the unpacked Xnano and
# Xnano.Sim nupkgs, and the suite runs against their assemblies (with their dllmap .config)
# and native libraries instead of ones built here.
pkgs="${XNANO_CSHARP_PACKAGES:-}"
if [ -z "$pkgs" ] && [ "${XNANO_SKIP_CARGO_BUILD:-}" != 1 ]; then
  cargo build -p xnano-client -p xnano-sim --lib --quiet
fi
native=target/debug
[ -z "$pkgs" ] || native="$pkgs/Xnano/runtimes/linux-x64/native"
sim_native=target/debug
[ -z "$pkgs" ] || sim_native="$pkgs/Xnano.Sim/runtimes/linux-x64/native"
for lib in "$native/libxnano.so" "$sim_native/libxnano_sim.so"; do
  [ -f "$lib" ] || { echo "test-csharp: $lib missing" >&2; exit 1; }
done

out=target/csharp
rm -rf "$out"
mkdir -p "$out"
src=bindings/csharp
mcs_() { mcs -nologo -langversion:7.2 -warnaserror -debug "$@"; }
if [ -n "$pkgs" ]; then
  cp "$pkgs"/Xnano/lib/netstandard2.0/* "$pkgs"/Xnano.Sim/lib/netstandard2.0/* "$out/"
  mkdir -p "$out/runtimes/linux-x64/native"   # where the packages' dllmaps send DllImport
  cp "$native/libxnano.so" "$sim_native/libxnano_sim.so" "$out/runtimes/linux-x64/native/"
  echo "test-csharp: Xnano.dll, Xnano.Sim.dll and the native libraries from $pkgs"
else
mcs_ -target:library -unsafe- -out:"$out/Xnano.dll" -doc:"$out/Xnano.xml" \
  $(find "$src/src" -name '*.cs' | sort)
mcs_ -target:library -unsafe- -r:"$out/Xnano.dll" -out:"$out/Xnano.Sim.dll" -doc:"$out/Xnano.Sim.xml" \
  $(find "$src/sim/src" -name '*.cs' | sort)
fi
mcs_ -target:library -r:"$out/Xnano.dll" -r:"$out/Xnano.Sim.dll" -r:"$NUNIT_DIR/nunit.framework.dll" \
  -out:"$out/Xnano.Tests.dll" $(find "$src/tests" -name '*.cs' -not -path '*Probe/*' | sort)
cp "$NUNIT_DIR/nunit.framework.dll" "$out/"

# DllImport("xnano") / DllImport("xnano_sim") resolve to these through the loader path.
cp "$native/libxnano.so" "$sim_native/libxnano_sim.so" "$out/"
ln -sf libxnano.so "$out/libxnano.so.1"         # their SONAMEs (ABI 1)
ln -sf libxnano_sim.so "$out/libxnano_sim.so.1"
real="$(pwd)/$out"

# The ABI checks against libraries they must refuse (AbiTests), each probe in a directory
# of its own with LD_LIBRARY_PATH pointing there: a process loads one libxnano only.
mcs_ -target:exe -r:"$out/Xnano.dll" -out:"$out/AbiProbe.exe" "$src/tests/AbiProbe/AbiProbe.cs"
mcs_ -target:exe -r:"$out/Xnano.dll" -r:"$out/Xnano.Sim.dll" -define:XNANO_SIM \
  -out:"$out/SimAbiProbe.exe" "$src/tests/AbiProbe/AbiProbe.cs"
fakes="$out/abi-fakes"
mkdir -p "$fakes"/{abi999,abinone,nosim,simabi999,simabinone}
printf '#include <stdint.h>\nuint32_t xnano_abi_version(void) { return 999; }\nconst char *xnano_version(void) { return "9.9.9"; }\n' \
  | cc -shared -fPIC -x c -o "$fakes/abi999/libxnano.so" -
printf 'const char *xnano_version(void) { return "0.0.1"; }\n' \
  | cc -shared -fPIC -x c -o "$fakes/abinone/libxnano.so" -
printf '#include <stdint.h>\nuint32_t xnano_sim_abi_version(void) { return 999; }\nconst char *xnano_sim_last_error(void) { return "fake"; }\n' \
  | cc -shared -fPIC -x c -o "$fakes/simabi999/libxnano_sim.so" -
printf 'const char *xnano_sim_last_error(void) { return "fake"; }\n' \
  | cc -shared -fPIC -x c -o "$fakes/simabinone/libxnano_sim.so" -
# The client alone, as an application ships it: Xnano.dll and libxnano, nothing of the simulator.
for d in abi999 abinone nosim; do
  cp "$out/Xnano.dll" "$out/AbiProbe.exe" "$fakes/$d/"
done
ln -sf "$real/libxnano.so" "$fakes/nosim/libxnano.so"
# A fake libxnano_sim beside the real libxnano (whose own check must still pass).
for d in simabi999 simabinone; do
  cp "$out/Xnano.dll" "$out/Xnano.Sim.dll" "$out/SimAbiProbe.exe" "$fakes/$d/"
  ln -sf "$real/libxnano.so" "$fakes/$d/libxnano.so"
done
export XNANO_ABI_FAKES="$(pwd)/$fakes" XNANO_MONO="$(command -v mono)"

# The headers' struct layouts as a C compiler sees them, for StructLayoutsMatchTheHeader
# (include/xnano.h) and SimStructLayoutsMatchTheSimHeader (sim/include/xnano_sim.h).
python3 scripts/check-bindings.py --layout-c >"$out/layout.c"
cc -std=c11 -Wall -Werror -Iinclude -o "$out/layout" "$out/layout.c"
"$out/layout" >"$out/layout.txt"
python3 scripts/check-bindings.py --header sim/include/xnano_sim.h --layout-c >"$out/sim-layout.c"
cc -std=c11 -Wall -Werror -Iinclude -Isim/include -include xnano_sim.h -o "$out/sim-layout" "$out/sim-layout.c"
"$out/sim-layout" >"$out/sim-layout.txt"
export XNANO_LAYOUT="$real/layout.txt" XNANO_SIM_LAYOUT="$real/sim-layout.txt" XNANO_REPO="$(pwd)"

export LD_LIBRARY_PATH="$real${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cd "$out"
# A hang (a test or the runtime's exit waiting on a thread) fails instead of stalling CI.
rc=0
timeout --kill-after=10 600 nunit-console -nologo -labels -xml=TestResult.xml Xnano.Tests.dll "$@" || rc=$?
# The plain summary line (NUnit 2's own is not one CI reads).
python3 - <<'PY' || rc=1
import xml.etree.ElementTree as ET
r = ET.parse("TestResult.xml").getroot()
total, bad = int(r.get("total")), int(r.get("failures")) + int(r.get("errors"))
print(f"csharp: {total - bad} passed, {bad} failed")
PY
exit $rc
