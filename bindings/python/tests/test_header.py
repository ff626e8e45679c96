"""The ctypes declarations match include/xnano.h: every function, constant,
enum value and struct field, in order."""

import re

import pytest

from xnano import _ffi
from conftest import REPO, check_struct_layout, header_structs, header_text

HEADER = REPO / "include" / "xnano.h"


@pytest.fixture(scope="module")
def header():
    return header_text(HEADER)


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
    structs = header_structs(header)
    assert len(structs) >= 9
    for name, c_fields in structs:
        py = getattr(_ffi, name)
        assert [f[0] for f in py._fields_] == c_fields, name


def test_struct_layout_matches_the_c_compiler(header, tmp_path):
    """sizeof and offsetof of every struct field, from the C compiler, equal
    ctypes' layout."""
    checked = check_struct_layout(_ffi, header, "xnano.h", [HEADER.parent], tmp_path)
    assert checked > 100
