#!/usr/bin/env bash
# Runs the Swift package's XCTest suite (Package.swift at the repository root: the Xnano and
# XnanoSim targets, sources in bindings/swift; the tests use both) against the libraries as
# installed by cargo-c (scripts/install-c.sh, prefix target/c-install/prefix unless
# XNANO_C_PREFIX says otherwise): SwiftPM finds them through pkg-config (xnano.pc,
# xnano_sim.pc on PKG_CONFIG_PATH), the test binary through LD_LIBRARY_PATH.
# Uses `swift` from PATH, or else the Debian 13 chroot made by scripts/setup-swift.sh, with
# this repository and the install prefix bind-mounted into it. Build products go to
# target/swift-build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/swift-env.sh

repo="$(pwd)"
prefix="${XNANO_C_PREFIX:-$repo/target/c-install/prefix}"
for f in lib/pkgconfig/xnano.pc lib/pkgconfig/xnano_sim.pc lib/libxnano.so.1 lib/libxnano_sim.so.1; do
  [ -e "$prefix/$f" ] || { echo "test-swift: $prefix/$f missing: run scripts/install-c.sh first" >&2; exit 1; }
done
# In the chroot case, run in a private mount namespace (re-executes this script once).
swift_native || swift_private_mounts "$0" "$@"

# Swift Testing's own summary ("0 tests passed") would follow XCTest's; only XCTest is used.
swift_args=(--disable-swift-testing)

# Without arguments two more runs follow: the ABI checks end to end. A shim exporting only
# xnano_abi_version (returning 999) is preloaded, so the binding's call resolves to it; the one
# test that expects this (skipped in the first run) checks that every entry point refuses.
# Then the same for libxnano_sim: a shim exporting only xnano_sim_abi_version (999), and the
# test that sees the simulator refuse while libxnano works.
abi_shim_c='unsigned int xnano_abi_version(void) { return 999; }'
abi_test=AbiTests.testAMismatchedLibraryIsRefusedEverywhere
sim_abi_shim_c='unsigned int xnano_sim_abi_version(void) { return 999; }'
sim_abi_test=AbiTests.testAMismatchedSimLibraryIsRefused

if swift_native; then
  swift test --help 2>/dev/null | grep -q -- --disable-swift-testing || swift_args=()
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  run_swift_test() {
    swift test --package-path "$repo" --scratch-path target/swift-build-native "${swift_args[@]}" "$@"
  }
  run_swift_test "$@"
  if [ $# -eq 0 ]; then
    shim="$repo/target/swift-build-native/abi-999.so"
    echo "$abi_shim_c" | cc -shared -fPIC -x c - -o "$shim"
    XNANO_TEST_EXPECT_ABI=999 LD_PRELOAD="$shim" run_swift_test --skip-build --filter "$abi_test"
    sim_shim="$repo/target/swift-build-native/sim-abi-999.so"
    echo "$sim_abi_shim_c" | cc -shared -fPIC -x c - -o "$sim_shim"
    XNANO_TEST_EXPECT_SIM_ABI=999 LD_PRELOAD="$sim_shim" run_swift_test --skip-build --filter "$sim_abi_test"
  fi
  exit
fi

bash scripts/setup-swift.sh
trap swift_chroot_umount EXIT
swift_chroot_mount
# A stable mount point per checkout keeps SwiftPM's incremental build valid between runs.
inner="/mnt/xnano-$(printf '%s' "$repo" | sha1sum | cut -c1-12)"
swift_chroot_mount_one "$repo" "$XNANO_SWIFT_CHROOT$inner" --bind
# The prefix at its own path, as its .pc files name it.
swift_chroot_mount_one "$prefix" "$XNANO_SWIFT_CHROOT$prefix" --bind
extra=""
for a in "$@"; do extra+=" $(printf '%q' "$a")"; done
swift_test="swift test --scratch-path target/swift-build ${swift_args[*]}"
abi_run=""
if [ $# -eq 0 ]; then
  abi_run=" && echo '$abi_shim_c' | gcc -shared -fPIC -x c - -o target/swift-build/abi-999.so &&
    XNANO_TEST_EXPECT_ABI=999 LD_PRELOAD=$inner/target/swift-build/abi-999.so $swift_test --skip-build --filter $abi_test &&
    echo '$sim_abi_shim_c' | gcc -shared -fPIC -x c - -o target/swift-build/sim-abi-999.so &&
    XNANO_TEST_EXPECT_SIM_ABI=999 LD_PRELOAD=$inner/target/swift-build/sim-abi-999.so $swift_test --skip-build --filter $sim_abi_test"
fi
swift_chroot_run "cd $inner && export PKG_CONFIG_PATH=$prefix/lib/pkgconfig &&
  export LD_LIBRARY_PATH=\$LD_LIBRARY_PATH:$prefix/lib && $swift_test$extra$abi_run"
