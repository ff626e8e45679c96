#!/usr/bin/env bash
# Installs the Python binding the way users do (`pip install ./bindings/python`,
# which builds libxnano with cargo and bundles it) into a private venv, then
# checks its type hints with mypy --strict and runs its pytest suite end to
# end against the simulated console.
#
# The simulated console is a library of its own (libxnano_sim, crate
# xnano-sim), which the package neither builds nor bundles: it is built here
# beside libxnano, and the tests' `import xnano.sim` finds it in that dev
# build directory (target/<profile>, recorded in the installed package).
#
# XNANO_CARGO_PROFILE=dev reuses the debug build that the Rust tests made
# (the package default is a release build).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "setuptools>=77" wheel pytest mypy

export XNANO_CARGO_PROFILE="${XNANO_CARGO_PROFILE:-dev}"
unset XNANO_LIB XNANO_SIM_LIB

case "$XNANO_CARGO_PROFILE" in
  dev) profile_args=() ;;
  release) profile_args=(--release) ;;
  *) profile_args=(--profile "$XNANO_CARGO_PROFILE") ;;
esac
echo "cargo build -p xnano-client -p xnano-sim --lib ${profile_args[*]}"
cargo build -p xnano-client -p xnano-sim --lib "${profile_args[@]}"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  --force-reinstall --no-deps ./bindings/python
rm -rf bindings/python/build

# Run from the test directory: `import xnano` must resolve to the installed
# package (with its bundled library), not to the source tree.
cd bindings/python/tests

# Type hints: the installed package (found through its py.typed marker)
# passes mypy --strict.
echo "mypy --strict -p xnano (installed package)"
"../../../$venv/bin/python" -m mypy --strict --cache-dir=/dev/null -p xnano

"../../../$venv/bin/python" -m pytest -q -p no:cacheprovider .
