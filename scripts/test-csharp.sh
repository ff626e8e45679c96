#!/usr/bin/env bash
# Builds libxnano, compiles the C# binding (bindings/csharp) with Mono's mcs, and runs its
# NUnit 2.6 tests with nunit-console. Products go to target/csharp. Also builds two fake
# libxnano.so (xnano_abi_version returning 999; no xnano_abi_version at all) and the probe
# that AbiTests runs against each in a process of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

NUNIT_DIR=/usr/lib/cli/nunit.framework-2.6.3
if [ "${XNANO_SKIP_CARGO_BUILD:-}" != 1 ]; then
  cargo build --lib --quiet
fi
[ -f target/debug/libxnano.so ] || { echo "test-csharp: target/debug/libxnano.so missing" >&2; exit 1; }

out=target/csharp
rm -rf "$out"
mkdir -p "$out"
src=bindings/csharp
mcs -nologo -langversion:7.2 -target:library -warnaserror -debug -unsafe- \
  -out:"$out/Xnano.dll" -doc:"$out/Xnano.xml" $(find "$src/src" -name '*.cs' | sort)
mcs -nologo -langversion:7.2 -target:library -warnaserror -debug \
  -r:"$out/Xnano.dll" -r:"$NUNIT_DIR/nunit.framework.dll" \
  -out:"$out/Xnano.Tests.dll" $(find "$src/tests" -name '*.cs' -not -path '*/AbiProbe/*' | sort)
cp "$NUNIT_DIR/nunit.framework.dll" "$out/"
# The ABI check against libraries it must refuse (AbiTests.AMismatchedLibraryIsRefused).
mcs -nologo -langversion:7.2 -target:exe -warnaserror -debug -r:"$out/Xnano.dll" \
  -out:"$out/AbiProbe.exe" "$src/tests/AbiProbe/AbiProbe.cs"
fakes="$out/abi-fakes"
mkdir -p "$fakes/abi999" "$fakes/abinone"
printf '#include <stdint.h>\nuint32_t xnano_abi_version(void) { return 999; }\nconst char *xnano_version(void) { return "9.9.9"; }\n' \
  | cc -shared -fPIC -x c -o "$fakes/abi999/libxnano.so" -
printf 'const char *xnano_version(void) { return "0.0.1"; }\n' \
  | cc -shared -fPIC -x c -o "$fakes/abinone/libxnano.so" -
for d in "$fakes/abi999" "$fakes/abinone"; do
  cp "$out/Xnano.dll" "$out/AbiProbe.exe" "$d/"
done
export XNANO_ABI_FAKES="$(pwd)/$fakes" XNANO_MONO="$(command -v mono)"
# The header's struct layouts as a C compiler sees them, for StructLayoutsMatchTheHeader.
python3 scripts/check-bindings.py --layout-c >"$out/layout.c"
cc -std=c11 -Wall -Werror -Iinclude -o "$out/layout" "$out/layout.c"
"$out/layout" >"$out/layout.txt"
export XNANO_LAYOUT="$(pwd)/$out/layout.txt" XNANO_REPO="$(pwd)"
# DllImport("xnano") resolves to libxnano.so through the loader path.
cp target/debug/libxnano.so "$out/"
ln -sf libxnano.so "$out/libxnano.so.1" # its SONAME (ABI 1)
export LD_LIBRARY_PATH="$(pwd)/$out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
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
