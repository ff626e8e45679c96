"""ABI 1: the version check at load, fixed-width enums, struct_size, frees
that return nothing."""

import ctypes

import pytest

import xnano
from xnano import _ffi, _sim_ffi
from xnano.sim import SimConfig
from conftest import build_fake_libraries, refused_load, run_python


@pytest.fixture(scope="module")
def fake_libraries(tmp_path_factory):
    """Two tiny shared libraries built here: one with another ABI version,
    one without xnano_abi_version at all (as a pre-ABI-1 build)."""
    sources = {
        "other": "unsigned int xnano_abi_version(void) { return 999; }\n",
        "none": "int unrelated_function(void) { return 0; }\n",
    }
    return build_fake_libraries(tmp_path_factory.mktemp("abi"), sources, "lib{}.so")


def test_the_loaded_library_has_the_bindings_abi():
    assert xnano.ABI_VERSION == _ffi.XNANO_ABI_VERSION == 1
    assert xnano.abi_version() == xnano.ABI_VERSION
    assert issubclass(xnano.AbiMismatchError, ImportError)


def test_a_library_of_another_abi_is_refused(fake_libraries):
    path = fake_libraries["other"]
    e = refused_load(_ffi.load, path)
    msg = str(e)
    assert "ABI version 999" in msg and "needs ABI version 1" in msg
    assert (e.found, e.expected, e.path) == (999, 1, str(path))


def test_a_library_without_the_symbol_is_refused(fake_libraries):
    path = fake_libraries["none"]
    e = refused_load(_ffi.load, path)
    msg = str(e)
    assert "no xnano_abi_version" in msg and "needs ABI version 1" in msg
    assert e.found is None


@pytest.mark.parametrize("which,found", [("other", "ABI version 999"), ("none", "no xnano_abi_version")])
def test_import_refuses_through_the_env_override(fake_libraries, which, found):
    path = fake_libraries[which]
    code = (
        "import sys\n"
        "try:\n"
        "    import xnano\n"
        "except ImportError as e:\n"
        "    print(type(e).__name__, isinstance(e, ImportError), e, sep='|')\n"
        "    sys.exit(3)\n"
    )
    r = run_python(code, XNANO_LIB=path)
    assert r.returncode == 3, r.stderr
    name, is_import_error, msg = r.stdout.strip().split("|")
    assert (name, is_import_error) == ("AbiMismatchError", "True")
    assert str(path) in msg and found in msg and "needs ABI version 1" in msg


def test_declarations_follow_abi_1():
    for name in ("xnano_result", "xnano_state", "xnano_event_type", "xnano_log_level",
                 "xnano_console_event_type", "xnano_console_state"):
        assert getattr(_ffi, name) is ctypes.c_uint32, name
    for name in ("xnano_client_free", "xnano_console_free", "xnano_event_free"):
        assert getattr(_ffi.lib, name).restype is None, name
    assert _sim_ffi.lib.xnano_sim_free.restype is None
    assert _ffi.xnano_state_callback._argtypes_[1:3] == (ctypes.c_uint32, ctypes.c_uint32)
    assert _ffi.xnano_log_callback._argtypes_[1] is ctypes.c_uint32
    assert _ffi.lib.xnano_result_name.argtypes == [ctypes.c_uint32]
    assert xnano.Result(7) is xnano.Result.ERR_PROTOCOL


def test_struct_size_is_set_for_every_caller_struct(sim):
    """Every struct with a struct_size goes to the library with its size as
    the binding declares it; the library writes back what it knows."""
    def sized(module):
        return {n for n in dir(module) if n.startswith("xnano_")
                and isinstance(getattr(module, n), type) and issubclass(getattr(module, n), ctypes.Structure)
                and getattr(module, n).__module__ == module.__name__
                and any(f[0] == "struct_size" for f in getattr(getattr(module, n), "_fields_", []))}

    assert sized(_ffi) == {
        "xnano_client_config", "xnano_console_config", "xnano_client_stats",
        "xnano_console_info", "xnano_controller_state", "xnano_gamepad",
    }
    assert sized(_sim_ffi) == {"xnano_sim_config", "xnano_sim_stats"}
    assert xnano.ClientConfig().to_c().struct_size == ctypes.sizeof(_ffi.xnano_client_config)
    assert SimConfig().to_c().struct_size == ctypes.sizeof(_sim_ffi.xnano_sim_config)
    assert xnano.ConsoleConfig().to_c().struct_size == ctypes.sizeof(_ffi.xnano_console_config)
    assert xnano.ControllerState().to_c().struct_size == ctypes.sizeof(_ffi.xnano_controller_state)
    assert xnano.GamepadState().to_c().struct_size == ctypes.sizeof(_ffi.xnano_gamepad)
    # What the library writes, with the size it wrote back.
    from xnano._api import _sized
    for struct, fill in (
        (_sim_ffi.xnano_sim_stats, lambda s: _sim_ffi.lib.xnano_sim_get_stats(sim._h._ptr, ctypes.byref(s))),
        (_ffi.xnano_console_info, lambda s: _sim_ffi.lib.xnano_sim_console_info(sim._h._ptr, ctypes.byref(s))),
    ):
        s = _sized(struct)
        assert fill(s) == _ffi.XNANO_OK
        assert s.struct_size == ctypes.sizeof(struct)
    with xnano.Client() as c:
        s = _sized(_ffi.xnano_client_stats)
        assert c._h.call(_ffi.lib.xnano_client_get_stats, ctypes.byref(s)) == _ffi.XNANO_OK
        assert s.struct_size == ctypes.sizeof(_ffi.xnano_client_stats)
        # A struct without its size is refused by the library, not misread.
        s.struct_size = 0
        assert c._h.call(_ffi.lib.xnano_client_get_stats, ctypes.byref(s)) == _ffi.XNANO_ERR_INVALID_ARGUMENT
