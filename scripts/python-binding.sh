#!/usr/bin/env bash
# Installs the Python binding the way users do (`pip install ./bindings/python`,
# which builds libxnano with cargo and bundles it) into a private venv, then
# runs its pytest suite end to end against the simulated console.
#
# XNANO_CARGO_PROFILE=dev reuses the debug build that the Rust tests made
# (the package default is a release build).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/py-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "setuptools>=61" wheel pytest

export XNANO_CARGO_PROFILE="${XNANO_CARGO_PROFILE:-dev}"
unset XNANO_LIB
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  --force-reinstall --no-deps ./bindings/python
rm -rf bindings/python/build

# Run from the test directory: `import xnano` must resolve to the installed
# package (with its bundled library), not to the source tree.
cd bindings/python/tests
"../../../$venv/bin/python" -m pytest -q -p no:cacheprovider .
