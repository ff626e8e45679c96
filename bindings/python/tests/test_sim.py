"""The simulated console is a module (`xnano.sim`) over a library of its own
(libxnano_sim, sim/include/xnano_sim.h): its declarations match that
header, `import xnano` neither imports it nor loads the library, it is
found where the binding says, its ABI is checked at import, and its errors
carry libxnano_sim's message."""

import ast
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

import xnano
import xnano.sim
from xnano import _ffi, _sim_ffi
from xnano.sim import SimConsole
from conftest import (REPO, build_fake_libraries, check_struct_layout, header_structs, header_text,
                      refused_load, run_python)

HEADER = REPO / "sim" / "include" / "xnano_sim.h"
SIM_NAME = _sim_ffi.LIB_NAME


# ------------------------------------------------------------ the header


@pytest.fixture(scope="module")
def header():
    return header_text(HEADER)


def test_every_sim_function_is_declared_and_exported_by_libxnano_sim_only(header):
    protos = set(re.findall(r"\b(xnano_[a-z0-9_]+)\s*\(", header))
    assert "xnano_sim_abi_version" in protos and "xnano_sim_last_error" in protos
    assert protos == set(_sim_ffi.FUNCTIONS), protos ^ set(_sim_ffi.FUNCTIONS)
    for name in protos:
        getattr(_sim_ffi.lib, name)  # exported by libxnano_sim
        assert not hasattr(_ffi.lib, name), f"{name} is still exported by libxnano"
        assert name not in _ffi.FUNCTIONS


def test_every_sim_constant_has_the_header_value(header):
    consts = dict(re.findall(r"#define (XNANO_[A-Z0-9_]+) (-?\d+)\n", header))
    assert "XNANO_SIM_ABI_VERSION" in consts and len(consts) >= 6
    for name, value in consts.items():
        assert getattr(_sim_ffi, name) == int(value), name
        assert not hasattr(_ffi, name), f"{name} is declared by the libxnano module"


def test_sim_struct_fields_match(header):
    structs = header_structs(header)
    assert {n for n, _ in structs} == {"xnano_sim_config", "xnano_sim_stats"}
    for name, c_fields in structs:
        assert [f[0] for f in getattr(_sim_ffi, name)._fields_] == c_fields, name
        assert not hasattr(_ffi, name)
    # xnano_sim_console_info writes libxnano's struct: the same declaration.
    assert _sim_ffi.xnano_console_info is _ffi.xnano_console_info
    assert _sim_ffi.FUNCTIONS["xnano_sim_console_info"][1][1]._type_ is _ffi.xnano_console_info


def test_sim_struct_layout_matches_the_c_compiler(header, tmp_path):
    checked = check_struct_layout(_sim_ffi, header, "xnano_sim.h", [REPO / "include", HEADER.parent], tmp_path)
    assert checked > 40


# ------------------------------------------------ `import xnano` alone

PROBE = r"""
import sys
def mapped():
    try:
        with open("/proc/self/maps") as f:
            return f.read()
    except OSError:
        return None
import xnano
maps = mapped()
print("sim_modules", sorted(m for m in sys.modules if m in ("xnano.sim", "xnano._sim_ffi")))
print("has_SimConsole", hasattr(xnano, "SimConsole"), "sim" in dir(xnano))
print("libxnano_mapped", None if maps is None else "libxnano.so" in maps)
print("libxnano_sim_mapped", None if maps is None else "libxnano_sim" in maps)
import xnano.sim
maps = mapped()
print("after_import_sim", None if maps is None else "libxnano_sim" in maps, xnano.sim.abi_version())
"""


def test_import_xnano_leaves_the_simulator_unimported_and_unloaded():
    r = run_python(PROBE)
    assert r.returncode == 0, r.stderr
    out = dict(line.split(" ", 1) for line in r.stdout.strip().splitlines())
    assert out["sim_modules"] == "[]"
    assert out["has_SimConsole"] == "False False"
    if out["libxnano_mapped"] == "None":
        pytest.skip("no /proc/self/maps")
    assert out["libxnano_mapped"] == "True"  # the probe sees what is mapped
    assert out["libxnano_sim_mapped"] == "False"
    # ... and `import xnano.sim` is what loads it.
    assert out["after_import_sim"] == "True 1"


def test_import_xnano_works_without_libxnano_sim(tmp_path):
    """A libxnano alone (a copy in a directory of its own; XNANO_SIM_LIB at
    a missing file) is a complete client: `import xnano` works, and only
    `import xnano.sim` fails, saying what is missing and where it looked."""
    lib = tmp_path / _ffi.LIB_NAMES.get(sys.platform, "libxnano.so")
    shutil.copy2(_ffi.loaded_path, lib)
    missing = tmp_path / "nowhere" / SIM_NAME
    code = (
        "import xnano\n"
        "with xnano.Client() as c: print('client ok', c.state.name)\n"
        "try:\n"
        "    import xnano.sim\n"
        "except OSError as e:\n"
        "    print('sim', type(e).__name__, e)\n"
    )
    r = run_python(code, XNANO_LIB=lib, XNANO_SIM_LIB=missing)
    assert r.returncode == 0, r.stderr
    assert "client ok IDLE" in r.stdout
    assert f"sim OSError libxnano_sim not found (looked at {missing})" in r.stdout
    assert "cargo build -p xnano-sim" in r.stdout


def _module_references_simulator(path):
    """Names, attributes, imports and string literals (docstrings aside) of
    a module that name the simulator."""
    tree = ast.parse(path.read_text())
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    pattern = re.compile(r"xnano_sim|libxnano_sim|_sim_ffi|\bSim[A-Z]|XNANO_SIM")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, ast.alias):
            text = node.name
        elif isinstance(node, ast.ImportFrom):
            text = node.module or ""
            if text in ("sim", "xnano.sim", "_sim_ffi") or any(a.name in ("sim", "_sim_ffi") for a in node.names):
                found.append(f"line {node.lineno}: from {text} import ...")
            continue
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        else:
            continue
        if pattern.search(text):
            found.append(f"line {getattr(node, 'lineno', '?')}: {text!r}")
    return found


def test_the_main_modules_do_not_reference_the_simulator():
    pkg = Path(xnano.__file__).parent
    modules = sorted(p for p in pkg.glob("*.py") if p.name not in ("sim.py", "_sim_ffi.py"))
    assert {"__init__.py", "_api.py", "_ffi.py", "aio.py"} <= {p.name for p in modules}
    for p in modules:
        assert _module_references_simulator(p) == [], p.name
    # The check finds what it looks for.
    assert _module_references_simulator(pkg / "sim.py")
    # Nor does the package bundle libxnano_sim.
    assert not (pkg / SIM_NAME).exists()


# -------------------------------------------------------------- loading


def test_the_sim_library_is_found_in_the_dev_build_dir():
    """In this run (scripts/python-binding.sh: no XNANO_SIM_LIB, the bundled
    libxnano) libxnano_sim comes from the dev build directory: the
    target/<profile> the bundled libxnano was built in."""
    if os.environ.get("XNANO_SIM_LIB") or os.environ.get("XNANO_LIB"):
        pytest.skip("an override is set")
    from xnano import _build_info

    assert _build_info.BUILD_DIR is not None  # recorded by setup.py
    build_dir = Path(_build_info.BUILD_DIR)
    assert build_dir.parent == Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target").absolute()
    if "XNANO_CARGO_PROFILE" in os.environ:  # as the script set it for the install
        profile = os.environ["XNANO_CARGO_PROFILE"]
        assert build_dir.name == ("debug" if profile == "dev" else profile)
    assert _sim_ffi.dev_build_dir() == build_dir
    assert xnano.sim.library_path() == build_dir / SIM_NAME
    assert _sim_ffi.library_candidates() == [_ffi.loaded_path.parent / SIM_NAME, build_dir / SIM_NAME]
    assert xnano.sim.abi_version() == xnano.sim.ABI_VERSION == _sim_ffi.XNANO_SIM_ABI_VERSION == 1


def test_the_search_order(monkeypatch, tmp_path):
    monkeypatch.setattr(_ffi, "loaded_path", tmp_path / "a" / "libxnano.so")
    monkeypatch.setattr(_sim_ffi, "dev_build_dir", lambda: tmp_path / "dev")
    monkeypatch.delenv("XNANO_SIM_LIB", raising=False)
    next_to, dev = tmp_path / "a" / SIM_NAME, tmp_path / "dev" / SIM_NAME
    assert _sim_ffi.library_candidates() == [next_to, dev]
    with pytest.raises(OSError) as e:
        _sim_ffi.library_path()
    assert f"looked at {next_to}, {dev}" in str(e.value)
    dev.parent.mkdir()
    dev.write_bytes(b"")
    assert _sim_ffi.library_path() == dev
    next_to.parent.mkdir()
    next_to.write_bytes(b"")
    assert _sim_ffi.library_path() == next_to  # next to libxnano first
    env = tmp_path / "env.so"
    monkeypatch.setenv("XNANO_SIM_LIB", str(env))
    assert _sim_ffi.library_candidates() == [env]  # the override alone
    with pytest.raises(OSError, match="not found"):
        _sim_ffi.library_path()


def test_a_libxnano_sim_next_to_libxnano_is_preferred(tmp_path):
    lib = tmp_path / _ffi.LIB_NAMES.get(sys.platform, "libxnano.so")
    shutil.copy2(_ffi.loaded_path, lib)
    shutil.copy2(_sim_ffi.loaded_path, tmp_path / SIM_NAME)
    code = (
        "import xnano, xnano.sim\n"
        "with xnano.sim.SimConsole(smartglass=False) as s: print(xnano.sim.library_path(), s.tcp_port > 0)\n"
    )
    r = run_python(code, XNANO_LIB=lib, XNANO_SIM_LIB=None)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(tmp_path / SIM_NAME), "True"]
    # XNANO_SIM_LIB overrides it.
    r = run_python("import xnano.sim; print(xnano.sim.library_path())", XNANO_LIB=lib,
                   XNANO_SIM_LIB=_sim_ffi.loaded_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(_sim_ffi.loaded_path)


# ------------------------------------------------------------ ABI check


@pytest.fixture(scope="module")
def fake_sim_libraries(tmp_path_factory):
    """libxnano_sim look-alikes: one of another ABI, one without
    xnano_sim_abi_version (libxnano itself is another such library)."""
    sources = {
        "other": "unsigned int xnano_sim_abi_version(void) { return 999; }\n",
        "none": "int unrelated_function(void) { return 0; }\n",
    }
    return {"libxnano": _ffi.loaded_path,
            **build_fake_libraries(tmp_path_factory.mktemp("simabi"), sources, "libxnano_sim_{}.so")}


def test_a_sim_library_of_another_abi_is_refused(fake_sim_libraries):
    path = fake_sim_libraries["other"]
    e = refused_load(_sim_ffi.load, path)
    msg = str(e)
    assert msg.startswith(f"libxnano_sim at {path} has ABI version 999; xnano.sim needs ABI version 1")
    assert "XNANO_SIM_LIB" in msg
    assert (e.found, e.expected, e.path, e.library) == (999, 1, str(path), "libxnano_sim")
    assert e.name == "xnano.sim"


@pytest.mark.parametrize("which", ["none", "libxnano"])
def test_a_library_without_the_sim_abi_function_is_refused(fake_sim_libraries, which):
    path = fake_sim_libraries[which]
    e = refused_load(_sim_ffi.load, path)
    msg = str(e)
    assert "has no xnano_sim_abi_version" in msg and "xnano.sim needs ABI version 1" in msg
    assert e.found is None


@pytest.mark.parametrize("which,found", [
    ("other", "has ABI version 999"),
    ("none", "has no xnano_sim_abi_version"),
    ("libxnano", "has no xnano_sim_abi_version"),
])
def test_import_xnano_sim_refuses_through_the_env_override(fake_sim_libraries, which, found):
    """XNANO_SIM_LIB at a library of another ABI: `import xnano` is
    unaffected, `import xnano.sim` raises AbiMismatchError (an ImportError)
    naming the file, what it found and the ABI needed."""
    path = fake_sim_libraries[which]
    code = (
        "import sys\n"
        "import xnano\n"
        "print('xnano ok', xnano.abi_version())\n"
        "try:\n"
        "    import xnano.sim\n"
        "except ImportError as e:\n"
        "    print(type(e).__name__, isinstance(e, xnano.AbiMismatchError), e, sep='|')\n"
        "    sys.exit(3)\n"
    )
    r = run_python(code, XNANO_SIM_LIB=path)
    assert r.returncode == 3, (r.stdout, r.stderr)
    first, second = r.stdout.strip().splitlines()
    assert first == "xnano ok 1"
    name, is_abi_error, msg = second.split("|")
    assert (name, is_abi_error) == ("AbiMismatchError", "True")
    assert msg.startswith(f"libxnano_sim at {path} {found}")
    assert "xnano.sim needs ABI version 1" in msg


def test_the_libxnano_abi_message_is_unchanged():
    e = xnano.AbiMismatchError(Path("/x/libxnano.so"), 999, 1)
    assert str(e).startswith("libxnano at /x/libxnano.so has ABI version 999; this xnano binding needs ABI version 1")
    assert "XNANO_LIB" in str(e) and e.name == "xnano" and e.library == "libxnano"


# --------------------------------------------------------------- errors


def test_sim_errors_carry_libxnano_sim_s_message():
    """A failed xnano_sim_* call is described by xnano_sim_last_error(),
    not by libxnano's xnano_last_error() (which still holds the message of
    the last failed libxnano call)."""
    with pytest.raises(xnano.InvalidArgumentError, match="connect_timeout_ms"):
        xnano.Client(xnano.ClientConfig(connect_timeout_ms=0))
    client_message = _ffi.lib.xnano_last_error().decode()
    assert "connect_timeout_ms" in client_message
    with pytest.raises(xnano.InvalidArgumentError) as e:
        SimConsole(fps=0)
    assert e.value.code == xnano.Result.ERR_INVALID_ARGUMENT
    assert "fps" in e.value.message, e.value.message
    assert e.value.message == _sim_ffi.lib.xnano_sim_last_error().decode()
    assert _ffi.lib.xnano_last_error().decode() == client_message
    with pytest.raises(xnano.WrongStateError) as e:
        with SimConsole(smartglass=False, video_source=xnano.sim.SimVideo.SYNTHETIC) as s:
            s.console_info()
    assert e.value.message and "connect_timeout_ms" not in e.value.message


def test_the_compatibility_alias_is_gone():
    assert not hasattr(xnano, "SimConsole")
    with pytest.raises(AttributeError):
        xnano.SimConfig  # noqa: B018
    assert set(xnano.sim.__all__) == {
        "ABI_VERSION", "SimAudio", "SimConfig", "SimConsole", "SimStats", "SimVideo", "abi_version", "library_path",
    }
    assert not any("Sim" in n for n in xnano.__all__)
