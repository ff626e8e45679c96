"""Builds the package and bundles libxnano into it.

Where the native library comes from (in this order):
  XNANO_PREBUILT_LIB=/path/libxnano.so  copy that file;
  otherwise run `cargo build -p xnano --lib` in the repository this
  directory is part of (bindings/python inside the xnano checkout), with the
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

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LIB_NAME = {"darwin": "libxnano.dylib", "win32": "xnano.dll"}.get(sys.platform, "libxnano.so")


def crate_version() -> str:
    cargo = ROOT / "Cargo.toml"
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
    manifest = ROOT / "Cargo.toml"
    if not manifest.exists():
        raise SystemExit(
            "cannot build libxnano: this directory is not inside the xnano repository; "
            "set XNANO_PREBUILT_LIB to a built libxnano"
        )
    profile = os.environ.get("XNANO_CARGO_PROFILE", "release")
    cmd = ["cargo", "build", "-p", "xnano", "--lib", "--manifest-path", str(manifest)]
    if profile == "release":
        cmd.append("--release")
    elif profile != "dev":
        cmd += ["--profile", profile]
    print("building libxnano:", " ".join(cmd), flush=True)
    subprocess.check_call(cmd)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
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


class BinaryDistribution(Distribution):
    """The wheel carries a native library: platform-specific."""

    def has_ext_modules(self):
        return True


setup(
    version=crate_version(),
    cmdclass={"build_py": BuildPyWithLib},
    distclass=BinaryDistribution,
)
