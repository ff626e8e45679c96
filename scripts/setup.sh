#!/usr/bin/env bash
# Installs what the test command needs that a fresh machine may lack.
# Idempotent: every step checks before it installs.
set -euo pipefail

need_pip() { python3 -c "import $1" 2>/dev/null; }

# The reference implementation, used as an independent peer in tests.
if ! need_pip xbox.nano || ! need_pip xbox.sg; then
  python3 -m pip install --quiet --no-deps xbox-smartglass-core==1.3.0 xbox-smartglass-nano==0.10.1
fi
if ! need_pip construct || ! need_pip cryptography || ! need_pip pydantic; then
  python3 -m pip install --quiet construct==2.10.56 "cryptography<42" "pydantic<2"
fi

# No system library for the build: Opus is pure Rust (crate `opus-pure`), OpenH264 is built from
# its bundled source (gcc/g++). ffmpeg is for tests only: an independent Opus decoder/encoder
# (tests/sim_media.rs) and the demo's H.264 check (scripts/test-demo.sh).
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg
fi

# C toolchain and valgrind for the C example (examples/c, scripts/c-example.sh).
if ! command -v cc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1 || ! command -v valgrind >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq gcc make valgrind
fi

# venv support for the Python binding's tests (scripts/python-binding.sh).
if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  apt-get update -qq && apt-get install -y -qq python3-venv
fi

# SDL2 for examples/player (cargo feature `player`; crate `sdl2` links the system lib), and an
# X server, xwd and xdotool for its headless test (scripts/test-player.sh).
player_pkgs=()
dpkg -s libsdl2-dev >/dev/null 2>&1 || player_pkgs+=(libsdl2-dev)
command -v Xvfb >/dev/null 2>&1 || player_pkgs+=(xvfb)
command -v xwd >/dev/null 2>&1 || player_pkgs+=(x11-apps)
command -v xdotool >/dev/null 2>&1 || player_pkgs+=(xdotool)
if ((${#player_pkgs[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${player_pkgs[@]}"
fi

# The C/C++ install path (scripts/install-c.sh): cargo-c 0.10.24 (`cargo cinstall`; Debian's
# cargo-c 0.9 cannot read Cargo.lock v4), built once (about 10 minutes) into ~/.cargo/bin and
# skipped when that version is there; pkg-config and a C++ compiler for the programs it builds.
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo cinstall --version 2>/dev/null | grep -q '0\.10\.24'; then
  if ! dpkg -s libssl-dev >/dev/null 2>&1 || ! command -v pkg-config >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libssl-dev pkg-config
  fi
  cargo install cargo-c --version 0.10.24 --locked
fi
install_pkgs=()
command -v pkg-config >/dev/null 2>&1 || install_pkgs+=(pkg-config)
command -v c++ >/dev/null 2>&1 || install_pkgs+=(g++)
command -v zip >/dev/null 2>&1 || install_pkgs+=(zip)
command -v unzip >/dev/null 2>&1 || install_pkgs+=(unzip)
if ((${#install_pkgs[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${install_pkgs[@]}"
fi

# Mono + NUnit 2.6 for the C# binding; Swift (from PATH, or a Debian 13 chroot) for the Swift one.
bash "$(dirname "$0")/setup-csharp.sh"
bash "$(dirname "$0")/setup-swift.sh"
