"""The ctypes declarations match include/xnano.h: every function, constant,
enum value and struct field, in order."""

import ctypes
import re
import shutil
import subprocess

import pytest

from xnano import _ffi
from conftest import REPO

HEADER = REPO / "include" / "xnano.h"


@pytest.fixture(scope="module")
def header():
    text = HEADER.read_text()
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def test_every_function_is_declared(header):
    names = re.findall(r"\b(xnano_[a-z0-9_]+)\s*\(", header)
    protos = {n for n in names if not re.search(rf"typedef[^;]*\(\*{n}\)", header)}
    assert protos, "no functions parsed"
    assert protos == set(_ffi.FUNCTIONS), protos ^ set(_ffi.FUNCTIONS)
    for name in protos:
        getattr(_ffi.lib, name)  # exported by the library


def test_every_constant_has_the_header_value(header):
    defines = dict(re.findall(r"#define (XNANO_[A-Z0-9_]+) (-?\d+)\n", header))
    enums = dict(re.findall(r"\b(XNANO_[A-Z0-9_]+) = (-?\d+),", header))
    consts = {**defines, **enums}
    assert len(consts) > 50
    for name, value in consts.items():
        assert getattr(_ffi, name) == int(value), name
    m = re.search(r'#define XNANO_VERSION_STRING "([^"]+)"', header)
    assert _ffi.lib.xnano_version().decode() == m.group(1)


def test_struct_fields_match(header):
    structs = re.findall(r"typedef struct (xnano_[a-z_]+) \{(.*?)\} \1;", header, re.S)
    assert len(structs) >= 9
    for name, body in structs:
        c_fields = re.findall(r"\b([a-z_0-9]+)(?:\[[A-Z0-9_]+\])?;", body)
        py = getattr(_ffi, name)
        assert [f[0] for f in py._fields_] == c_fields, name


def test_struct_layout_matches_the_c_compiler(header, tmp_path):
    """sizeof and offsetof of every struct field, from the C compiler, equal
    ctypes' layout."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    structs = re.findall(r"typedef struct (xnano_[a-z_]+) \{(.*?)\} \1;", header, re.S)
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "xnano.h"', "int main(void) {"]
    for name, body in structs:
        lines.append(f'printf("{name} %zu\\n", sizeof({name}));')
        for f in re.findall(r"\b([a-z_0-9]+)(?:\[[A-Z0-9_]+\])?;", body):
            lines.append(f'printf("{name}.{f} %zu\\n", offsetof({name}, {f}));')
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.check_call([cc, "-std=c11", "-I", str(HEADER.parent), str(src), "-o", str(exe)])
    out = subprocess.check_output([str(exe)], text=True)
    checked = 0
    for line in out.splitlines():
        key, value = line.rsplit(" ", 1)
        if "." in key:
            sname, fname = key.split(".")
            got = getattr(getattr(_ffi, sname), fname).offset
        else:
            got = ctypes.sizeof(getattr(_ffi, key))
        assert got == int(value), key
        checked += 1
    assert checked > 100
