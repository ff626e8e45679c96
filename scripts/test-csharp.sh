#!/usr/bin/env bash
# Builds libxnano and libxnano_sim, compiles the C# binding (bindings/csharp: the client
# assembly Xnano.dll from src/, the simulator assembly Xnano.Sim.dll from sim/src/) with Mono's
# mcs, and runs the NUnit 2.6 tests (tests/, referencing both) with nunit-console. Products go
# to target/csharp. Also builds two fake libxnano.so (xnano_abi_version returning 999; no
# xnano_abi_version at all) and the probe that AbiTests runs against each in a process of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

NUNIT_DIR=/usr/lib/cli/nunit.framework-2.6.3
if [ "${XNANO_SKIP_CARGO_BUILD:-}" != 1 ]; then
  cargo build -p xnano -p xnano-sim --lib --quiet
fi
for lib in libxnano.so libxnano_sim.so; do
  [ -f "target/debug/$lib" ] || { echo "test-csharp: target/debug/$lib missing" >&2; exit 1; }
done

out=target/csharp
rm -rf "$out"
mkdir -p "$out"
src=bindings/csharp
mcs_() { mcs -nologo -langversion:7.2 -warnaserror -debug "$@"; }
mcs_ -target:library -unsafe- -out:"$out/Xnano.dll" -doc:"$out/Xnano.xml" \
  $(find "$src/src" -name '*.cs' | sort)
mcs_ -target:library -unsafe- -r:"$out/Xnano.dll" -out:"$out/Xnano.Sim.dll" -doc:"$out/Xnano.Sim.xml" \
  $(find "$src/sim/src" -name '*.cs' | sort)
mcs_ -target:library -r:"$out/Xnano.dll" -r:"$out/Xnano.Sim.dll" -r:"$NUNIT_DIR/nunit.framework.dll" \
  -out:"$out/Xnano.Tests.dll" $(find "$src/tests" -name '*.cs' -not -path '*Probe/*' | sort)
cp "$NUNIT_DIR/nunit.framework.dll" "$out/"

# DllImport("xnano") / DllImport("xnano_sim") resolve to these through the loader path.
cp target/debug/libxnano.so target/debug/libxnano_sim.so "$out/"
ln -sf libxnano.so "$out/libxnano.so.1"         # their SONAMEs (ABI 1)
ln -sf libxnano_sim.so "$out/libxnano_sim.so.1"
real="$(pwd)/$out"

# The ABI check against libraries it must refuse (AbiTests), the probe in a directory of its
# own with LD_LIBRARY_PATH pointing there: a process loads one libxnano only.
mcs_ -target:exe -r:"$out/Xnano.dll" -out:"$out/AbiProbe.exe" "$src/tests/AbiProbe/AbiProbe.cs"
fakes="$out/abi-fakes"
mkdir -p "$fakes"/{abi999,abinone}
printf '#include <stdint.h>\nuint32_t xnano_abi_version(void) { return 999; }\nconst char *xnano_version(void) { return "9.9.9"; }\n' \
  | cc -shared -fPIC -x c -o "$fakes/abi999/libxnano.so" -
printf 'const char *xnano_version(void) { return "0.0.1"; }\n' \
  | cc -shared -fPIC -x c -o "$fakes/abinone/libxnano.so" -
for d in abi999 abinone; do
  cp "$out/Xnano.dll" "$out/AbiProbe.exe" "$fakes/$d/"
done
export XNANO_ABI_FAKES="$(pwd)/$fakes" XNANO_MONO="$(command -v mono)"

# The header's struct layouts as a C compiler sees them, for StructLayoutsMatchTheHeader.
python3 scripts/check-bindings.py --layout-c >"$out/layout.c"
cc -std=c11 -Wall -Werror -Iinclude -o "$out/layout" "$out/layout.c"
"$out/layout" >"$out/layout.txt"
export XNANO_LAYOUT="$real/layout.txt" XNANO_REPO="$(pwd)"

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
