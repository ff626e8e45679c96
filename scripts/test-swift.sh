#!/usr/bin/env bash
# Builds libxnano and runs the Swift binding's XCTest suite (bindings/swift).
# Uses `swift` from PATH, or else the Debian 13 chroot made by scripts/setup-swift.sh, with
# this repository bind-mounted into it. Build products go to target/swift-build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/swift-env.sh

repo="$(pwd)"
# In the chroot case, run in a private mount namespace (re-executes this script once).
swift_native || swift_private_mounts "$0" "$@"
if [ "${XNANO_SKIP_CARGO_BUILD:-}" != 1 ]; then
  cargo build --lib --quiet
fi
[ -f target/debug/libxnano.so ] || { echo "test-swift: target/debug/libxnano.so missing" >&2; exit 1; }
# libxnano.so has the SONAME libxnano.so.1 (ABI 1): the test binary, linked with -lxnano,
# asks the loader for libxnano.so.1, which cargo does not create.
[ -e target/debug/libxnano.so.1 ] || ln -sf libxnano.so target/debug/libxnano.so.1

# Swift Testing's own summary ("0 tests passed") would follow XCTest's; only XCTest is used.
swift_args=(--disable-swift-testing)

if swift_native; then
  swift test --help 2>/dev/null | grep -q -- --disable-swift-testing || swift_args=()
  libdir="$repo/target/debug"
  LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    swift test --package-path bindings/swift --scratch-path target/swift-build-native \
    "${swift_args[@]}" -Xlinker -L"$libdir" -Xlinker -rpath -Xlinker "$libdir" "$@"
  exit
fi

bash scripts/setup-swift.sh
trap swift_chroot_umount EXIT
swift_chroot_mount
# A stable mount point per checkout keeps SwiftPM's incremental build valid between runs.
inner="/mnt/xnano-$(printf '%s' "$repo" | sha1sum | cut -c1-12)"
swift_chroot_mount_one "$repo" "$XNANO_SWIFT_CHROOT$inner" --bind
libdir="$inner/target/debug"
extra=""
for a in "$@"; do extra+=" $(printf '%q' "$a")"; done
swift_chroot_run "cd $inner && export LD_LIBRARY_PATH=\$LD_LIBRARY_PATH:$libdir &&
  swift test --package-path bindings/swift --scratch-path target/swift-build ${swift_args[*]} \
    -Xlinker -L$libdir -Xlinker -rpath -Xlinker $libdir$extra"
