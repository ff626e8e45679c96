#!/usr/bin/env bash
# Provides Swift for the Swift binding's tests (scripts/test-swift.sh). Idempotent.
#
# `swift` on PATH: nothing to do. Otherwise builds (once) a Debian 13 chroot with `swiftlang`
# at $XNANO_SWIFT_CHROOT (default /var/cache/xnano-swift-chroot): ~3 GB, a few minutes.
# A chroot that exists and answers `swift --version` is reused as it is.
set -euo pipefail
source "$(dirname "$0")/swift-env.sh"

if swift_native; then
  echo "setup-swift: using $(command -v swift)"
  exit 0
fi

swift_private_mounts "$0" "$@"
trap swift_chroot_umount EXIT

chroot_install() {
  swift_chroot_run "export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends $XNANO_SWIFT_PACKAGES >/tmp/apt.log 2>&1 ||
    { tail -n 30 /tmp/apt.log; exit 1; }
    apt-get clean"
}

chroot_works() {
  [ -f "$XNANO_SWIFT_READY" ] || return 1
  swift_chroot_mount
  swift_chroot_run 'swift --version' >/dev/null 2>&1
}

if chroot_works; then
  # A chroot made by an older version of this script may lack a package added since.
  if ! swift_chroot_run "dpkg -s $XNANO_SWIFT_PACKAGES" >/dev/null 2>&1; then
    echo "setup-swift: adding packages to the Swift chroot"
    cp /etc/resolv.conf "$XNANO_SWIFT_CHROOT/etc/resolv.conf" 2>/dev/null || true
    chroot_install
  fi
  echo "setup-swift: reusing the Swift chroot at $XNANO_SWIFT_CHROOT"
  exit 0
fi
swift_chroot_umount

start=$(date +%s)
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq debootstrap
fi

# A chroot without the ready marker is left from an interrupted attempt: start over. Make
# sure nothing is mounted inside before deleting, and never cross into another file system.
if [ -e "$XNANO_SWIFT_CHROOT" ]; then
  for m in dev proc; do
    if mountpoint -q "$XNANO_SWIFT_CHROOT/$m"; then umount "$XNANO_SWIFT_CHROOT/$m" || umount -l "$XNANO_SWIFT_CHROOT/$m"; fi
  done
  if findmnt -rn -o TARGET | grep -q "^$XNANO_SWIFT_CHROOT/"; then
    echo "setup-swift: something is still mounted under $XNANO_SWIFT_CHROOT; refusing to delete it" >&2
    exit 1
  fi
  rm -rf --one-file-system "$XNANO_SWIFT_CHROOT"
fi

echo "setup-swift: debootstrap trixie into $XNANO_SWIFT_CHROOT"
mkdir -p "$(dirname "$XNANO_SWIFT_CHROOT")"
debootstrap --variant=minbase trixie "$XNANO_SWIFT_CHROOT" "$XNANO_SWIFT_MIRROR" >/tmp/xnano-debootstrap.log 2>&1 || {
  tail -n 30 /tmp/xnano-debootstrap.log >&2
  exit 1
}

cp /etc/resolv.conf "$XNANO_SWIFT_CHROOT/etc/resolv.conf" 2>/dev/null || true
swift_chroot_mount
echo "setup-swift: apt-get install swiftlang inside the chroot"
chroot_install
swift_chroot_run 'swift --version'
touch "$XNANO_SWIFT_READY"
echo "setup-swift: chroot ready in $(($(date +%s) - start)) s"
