"""Builds the package and bundles libxnano into it.

    pip wheel ./bindings/python -w DIR     # a wheel, py3-none-<platform>
    python -m build --sdist bindings/python  # an sdist with the crate sources

The wheel holds no Python extension, only libxnano loaded by ctypes: it
works on every Python 3 (tag py3-none-<platform>); scripts/test-wheel.sh
makes it manylinux with `auditwheel repair`.

Where the native library comes from (in this order):
  XNANO_PREBUILT_LIB=/path/libxnano.so  copy that file;
  otherwise run `cargo build -p xnano-client --lib` in the crate sources: the
  repository this directory is part of (bindings/python inside the xnano
  checkout), or the copy an sdist carries (crate/ beside setup.py), with the
  profile XNANO_CARGO_PROFILE (default "release"; "dev" for the debug
  build), and copy target/<profile>/libxnano.so (CARGO_TARGET_DIR is
  honoured).
The version is the crate's, read from Cargo.toml.

Only libxnano is built and bundled: the simulated console's library
(libxnano_sim, used by the `xnano.sim` module for tests and demos) is not
needed by the package and not in the wheel. The directory libxnano was
copied from is recorded in the built package (xnano/_build_info.py,
BUILD_DIR): `xnano.sim` looks there for a libxnano_sim built alongside
(`cargo build -p xnano-sim --lib`), after $XNANO_SIM_LIB and the
directory of the loaded libxnano.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from typing import Optional

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
LIB_NAME = {"darwin": "libxnano.dylib", "win32": "xnano.dll"}.get(sys.platform, "libxnano.so")


# What of the cargo workspace an sdist carries (under crate/): the manifests and
# sources of every member (cargo loads the whole workspace) and the files of the targets
# the root manifest names ([[bench]], [[example]]: cargo refuses a manifest without them);
# nothing of the tests, test data or bindings.
CRATE_FILES = [
    "Cargo.toml", "Cargo.lock", "README.md", "build.rs", "cbindgen.toml", "include/xnano.h",
    "src/**/*.rs", "benches/**/*.rs", "examples/player/**/*.rs",
    "proto/Cargo.toml", "proto/src/**/*.rs",
    "ffi-support/Cargo.toml", "ffi-support/src/**/*.rs",
    "sim/Cargo.toml", "sim/build.rs", "sim/cbindgen.toml", "sim/include/xnano_sim.h", "sim/src/**/*.rs",
    "cli/Cargo.toml", "cli/src/**/*.rs",
]


def crate_root() -> Optional[Path]:
    """The cargo workspace to build libxnano from: the sdist's copy
    (crate/ beside this file), else the checkout this directory is in."""
    for root in (HERE / "crate", HERE.parent.parent):
        if (root / "Cargo.toml").is_file() and (root / "src" / "ffi").is_dir():
            return root
    return None


def crate_version() -> str:
    root = crate_root()
    cargo = root / "Cargo.toml" if root else HERE / "Cargo.toml"
    if cargo.exists():
        m = re.search(r'^\[package\][^\[]*?^version\s*=\s*"([^"]+)"', cargo.read_text(), re.M | re.S)
        if m:
            return m.group(1)
    return "0.0.0"


def native_library() -> Path:
    pre = os.environ.get("XNANO_PREBUILT_LIB")
    if pre:
        p = Path(pre)
        if not p.is_file():
            raise SystemExit(f"XNANO_PREBUILT_LIB={pre}: no such file")
        return p
    root = crate_root()
    if root is None:
        raise SystemExit(
            "cannot build libxnano: no crate sources (neither crate/ from an sdist nor the "
            "xnano repository around this directory); set XNANO_PREBUILT_LIB to a built libxnano"
        )
    manifest = root / "Cargo.toml"
    profile = os.environ.get("XNANO_CARGO_PROFILE", "release")
    cmd = ["cargo", "build", "-p", "xnano-client", "--lib", "--manifest-path", str(manifest)]
    if profile == "release":
        cmd.append("--release")
    elif profile != "dev":
        cmd += ["--profile", profile]
    print("building libxnano:", " ".join(cmd), flush=True)
    subprocess.check_call(cmd)
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    return target / ("debug" if profile == "dev" else profile) / LIB_NAME


class BuildPyWithLib(build_py):
    def run(self):
        super().run()
        src = native_library()
        dest = Path(self.build_lib) / "xnano" / LIB_NAME
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
        print(f"bundled {src} -> {dest}", flush=True)
        info = Path(self.build_lib) / "xnano" / "_build_info.py"
        text = info.read_text()
        line = f"BUILD_DIR: Optional[str] = {str(src.absolute().parent)!r}"
        new = re.sub(r"^BUILD_DIR: Optional\[str\] = .*$", lambda _: line, text, flags=re.M)
        if line not in new:
            raise SystemExit(f"{info}: no BUILD_DIR line to fill in")
        info.write_text(new)


class BdistWheelAnyPython(bdist_wheel):
    """Tag py3-none-<platform>: platform-specific (libxnano), but no CPython
    extension, so one wheel serves every Python 3."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


class SdistWithCrate(sdist):
    """The sdist carries the crate sources (crate/), so that it builds a
    wheel without the repository around it."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        root = crate_root()
        if root is None:
            raise SystemExit("sdist: no crate sources to include (see CRATE_FILES)")
        n = 0
        for pattern in CRATE_FILES:
            matches = sorted(root.glob(pattern)) if "*" in pattern else [root / pattern]
            for src in matches:
                if not src.is_file():
                    raise SystemExit(f"sdist: {src} missing")
                dest = Path(base_dir) / "crate" / src.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
                n += 1
        print(f"sdist: {n} crate files from {root} -> {base_dir}/crate", flush=True)


class BinaryDistribution(Distribution):
    """The wheel carries a native library: platform-specific."""

    def has_ext_modules(self):
        return True


setup(
    version=crate_version(),
    cmdclass={"build_py": BuildPyWithLib, "bdist_wheel": BdistWheelAnyPython, "sdist": SdistWithCrate},
    distclass=BinaryDistribution,
)
