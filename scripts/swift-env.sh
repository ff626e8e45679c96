# Sourced by setup-swift.sh and test-swift.sh: where Swift comes from.
#
# If `swift` is on PATH it is used as it is. Otherwise Swift lives in a Debian 13 (trixie)
# chroot, built once by setup-swift.sh and reused: Debian 12 has no Swift package, trixie
# has `swiftlang`. The chroot lives outside the repository so that clones and CI runs on the
# same machine share it.

XNANO_SWIFT_CHROOT="${XNANO_SWIFT_CHROOT:-/var/cache/xnano-swift-chroot}"
XNANO_SWIFT_MIRROR="${XNANO_SWIFT_MIRROR:-http://deb.debian.org/debian}"
# Inside the chroot the Swift runtime libraries are not on the loader path by default.
XNANO_SWIFT_LIBS=/usr/libexec/swift/lib/swift/linux
# Packages installed inside the chroot: the toolchain and a C toolchain for SwiftPM's clang
# module imports (which also bring libstdc++, the one library libxnano.so needs beyond libc;
# add any new run-time dependency of libxnano.so here, see `ldd target/debug/libxnano.so`).
XNANO_SWIFT_PACKAGES="swiftlang libc6-dev gcc libstdc++-14-dev"
# Marker written when the chroot is complete; a chroot without it is a failed attempt.
XNANO_SWIFT_READY="$XNANO_SWIFT_CHROOT/.xnano-swift-ready"

# Mount points we created, unmounted in reverse order by swift_chroot_umount.
XNANO_SWIFT_MOUNTS=()

swift_native() { command -v swift >/dev/null 2>&1; }

# swift_private_mounts SCRIPT ARGS...: re-runs SCRIPT in a private mount namespace (when
# `unshare` works), so that the chroot's mounts are invisible to other processes, cannot
# collide with a concurrent run, and vanish when the script ends even if a trap cannot run.
swift_private_mounts() {
  if [ -z "${XNANO_SWIFT_UNSHARED:-}" ] && unshare --mount --propagation private true 2>/dev/null; then
    XNANO_SWIFT_UNSHARED=1 exec unshare --mount --propagation private bash "$@"
  fi
}

# swift_chroot_mount_one SRC DEST [mount options...]: mount unless already mounted.
swift_chroot_mount_one() {
  local src="$1" dest="$2"
  shift 2
  mkdir -p "$dest"
  if ! mountpoint -q "$dest"; then
    mount "$@" "$src" "$dest"
    XNANO_SWIFT_MOUNTS+=("$dest")
  fi
}

# Mounts /proc and /dev (bind) into the chroot. Call swift_chroot_umount on exit (trap).
swift_chroot_mount() {
  swift_chroot_mount_one proc "$XNANO_SWIFT_CHROOT/proc" -t proc
  swift_chroot_mount_one /dev "$XNANO_SWIFT_CHROOT/dev" --bind
}

swift_chroot_umount() {
  local i
  for ((i = ${#XNANO_SWIFT_MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${XNANO_SWIFT_MOUNTS[$i]}" 2>/dev/null || umount -l "${XNANO_SWIFT_MOUNTS[$i]}" 2>/dev/null || true
  done
  XNANO_SWIFT_MOUNTS=()
}

# swift_chroot_run CMD...: runs a shell command line inside the chroot with Swift's libraries
# on the loader path.
swift_chroot_run() {
  chroot "$XNANO_SWIFT_CHROOT" /usr/bin/env -i \
    HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 LD_LIBRARY_PATH="$XNANO_SWIFT_LIBS" \
    /bin/bash -c "$*"
}
