#!/usr/bin/env bash
# Builds libxnano for Apple platforms into an XCFramework (README "Install", Swift):
#   target/xcframework/Xnano.xcframework   static libxnano.a per platform + xnano.h and a
#                                          module map (module CXnano), for a SwiftPM
#                                          .binaryTarget or an Xcode project.
#
# IT CANNOT RUN COMPLETELY HERE (Linux): linking for Apple targets and
# `xcodebuild -create-xcframework` / `lipo` need macOS with Xcode. What it does anywhere:
#   - stages the XCFramework's headers (include/xnano.h + module.modulemap) and checks them
#     (the header compiles as C with the module's include);
#   - for each Apple target whose Rust standard library is installed (`rustup target list
#     --installed`), builds the static library: `cargo rustc --release -p xnano-client --lib
#     --target T --crate-type staticlib` (a static library needs no Apple linker); targets not
#     installed are listed with the `rustup target add` that would add them;
#   - on macOS with xcodebuild: lipo-merges the simulator and macOS slices and creates the
#     XCFramework; elsewhere prints the commands it would run and exits 0.
# scripts/test.sh runs it (the Linux part). On a Mac:
#   rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios \
#     aarch64-apple-darwin x86_64-apple-darwin
#   bash scripts/build-xcframework.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
out="$repo/target/xcframework"
rm -rf "$out/headers" "$out/Xnano.xcframework"
mkdir -p "$out/headers"

# Each XCFramework slice: a platform and the Rust targets merged into its one library.
slices=(
  "ios:aarch64-apple-ios"
  "ios-simulator:aarch64-apple-ios-sim x86_64-apple-ios"
  "macos:aarch64-apple-darwin x86_64-apple-darwin"
)

# The headers every slice carries: libxnano's header and a module map, so Swift imports it
# as `CXnano` (the same module name as the package's system-library target).
cp include/xnano.h "$out/headers/"
cat >"$out/headers/module.modulemap" <<'MAP'
module CXnano {
    header "xnano.h"
    export *
}
MAP
echo '#include <xnano.h>
int main(void) { return XNANO_ABI_VERSION == 1 ? 0 : 1; }' |
  cc -std=c11 -Wall -Werror -fsyntax-only -I"$out/headers" -x c -
echo "xcframework: headers staged and checked in $out/headers"

installed="$(rustup target list --installed 2>/dev/null || true)"
built=0
wanted=0
missing=()
for slice in "${slices[@]}"; do
  for t in ${slice#*:}; do
    wanted=$((wanted + 1))
    if grep -qx "$t" <<<"$installed"; then
      echo "cargo rustc --release -p xnano-client --lib --target $t --crate-type staticlib"
      cargo rustc --release --quiet -p xnano-client --lib --target "$t" --crate-type staticlib
      [ -f "target/$t/release/libxnano.a" ] || { echo "xcframework: no target/$t/release/libxnano.a" >&2; exit 1; }
      built=$((built + 1))
    else
      missing+=("$t")
    fi
  done
done
echo "xcframework: built $built of $wanted static libraries"
if ((${#missing[@]})); then
  echo "xcframework: not installed here (rustup target add ${missing[*]})"
fi

if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null 2>&1; then
  echo "xcframework: lipo and xcodebuild need macOS with Xcode; on a Mac this script would run:"
  for slice in "${slices[@]}"; do
    name="${slice%%:*}"
    libs=""
    for t in ${slice#*:}; do libs+=" target/$t/release/libxnano.a"; done
    echo "  lipo -create$libs -output target/xcframework/$name/libxnano.a"
  done
  echo "  xcodebuild -create-xcframework \\"
  for slice in "${slices[@]}"; do
    echo "    -library target/xcframework/${slice%%:*}/libxnano.a -headers target/xcframework/headers \\"
  done
  echo "    -output target/xcframework/Xnano.xcframework"
  exit 0
fi
((${#missing[@]} == 0)) || { echo "xcframework: install the missing targets first" >&2; exit 1; }
args=()
for slice in "${slices[@]}"; do
  name="${slice%%:*}"
  libs=()
  for t in ${slice#*:}; do libs+=("target/$t/release/libxnano.a"); done
  mkdir -p "$out/$name"
  lipo -create "${libs[@]}" -output "$out/$name/libxnano.a"
  args+=(-library "$out/$name/libxnano.a" -headers "$out/headers")
done
xcodebuild -create-xcframework "${args[@]}" -output "$out/Xnano.xcframework"
echo "xcframework: $out/Xnano.xcframework"
