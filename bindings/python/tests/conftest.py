"""What the tests share: the repository root, waiting for a condition, the
simulated consoles they start, and the helpers of the header and ABI tests
(a header without comments, the C compiler's struct layout against ctypes',
fake shared libraries, a fresh interpreter)."""

import ctypes
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import xnano
from xnano.sim import SimAudio, SimConsole, SimVideo

REPO = Path(__file__).resolve().parents[3]

# A cheap simulated console: synthetic 320x240 video, PCM audio.
CHEAP_SIM = dict(width=320, height=240, fps=60, keyframe_interval=30,
                 video_source=SimVideo.SYNTHETIC, audio_source=SimAudio.PCM)
# A slow one: two tiny synthetic frames a second, no audio.
SLOW_SIM = dict(width=160, height=120, fps=2, keyframe_interval=2,
                video_source=SimVideo.SYNTHETIC, audio_source=SimAudio.NONE)


def wait_for(cond, timeout=20.0, step=0.02, tick=None):
    """Polls `cond` until true or `timeout`; calls `tick()` each round."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if tick:
            tick()
        if cond():
            return True
        time.sleep(step)
    return cond()


@pytest.fixture
def sim():
    """A cheap simulated console (CHEAP_SIM)."""
    with SimConsole(**CHEAP_SIM) as s:
        yield s


def run_python(code, **env_changes):
    """Runs `code` in a fresh interpreter (the installed package); env
    values None are removed."""
    env = dict(os.environ)
    for k, v in env_changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def c_compiler():
    """The C compiler; skips the test without one."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    return cc


def header_text(path):
    """A C header without its comments."""
    return re.sub(r"/\*.*?\*/", "", Path(path).read_text(), flags=re.S)


def header_structs(header):
    """[(name, [field, ...])] of the header's `typedef struct X {...} X;`."""
    return [(name, re.findall(r"\b([a-z_0-9]+)(?:\[[A-Z0-9_]+\])?;", body))
            for name, body in re.findall(r"typedef struct (xnano_[a-z_]+) \{(.*?)\} \1;", header, re.S)]


def check_struct_layout(module, header, include, include_dirs, tmp_path):
    """sizeof and offsetof of every struct field of `header` (its text, the
    file `include`), from the C compiler, equal the ctypes layout of
    `module`'s declarations; returns how many values were compared."""
    cc = c_compiler()
    lines = ["#include <stdio.h>", "#include <stddef.h>", f'#include "{include}"', "int main(void) {"]
    for name, fields in header_structs(header):
        lines.append(f'printf("{name} %zu\\n", sizeof({name}));')
        for f in fields:
            lines.append(f'printf("{name}.{f} %zu\\n", offsetof({name}, {f}));')
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.check_call([cc, "-std=c11", *(a for d in include_dirs for a in ("-I", str(d))),
                           str(src), "-o", str(exe)])
    checked = 0
    for line in subprocess.check_output([str(exe)], text=True).splitlines():
        key, value = line.rsplit(" ", 1)
        if "." in key:
            sname, fname = key.split(".")
            got = getattr(getattr(module, sname), fname).offset
        else:
            got = ctypes.sizeof(getattr(module, key))
        assert got == int(value), key
        checked += 1
    return checked


def build_fake_libraries(directory, sources, file_name):
    """Builds each {name: C source} into a shared library in `directory`,
    named file_name.format(name); returns {name: path}."""
    cc = c_compiler()
    out = {}
    for name, text in sources.items():
        src = directory / f"{name}.c"
        src.write_text(text)
        lib = directory / file_name.format(name)
        subprocess.check_call([cc, "-shared", "-fPIC", "-o", str(lib), str(src)])
        out[name] = lib
    return out


def refused_load(load, path):
    """The AbiMismatchError that `load(path)` raises (_ffi.load,
    _sim_ffi.load); its message names the file."""
    with pytest.raises(xnano.AbiMismatchError) as e:
        load(path)
    assert str(path) in str(e.value)
    return e.value
