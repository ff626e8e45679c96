#!/usr/bin/env python3
"""Self-test of scripts/check-bindings.py (run by `check-bindings.py --self-test`, which
scripts/test.sh calls).

It writes a small synthetic fixture (a header in cbindgen's ABI-1 form and matching Python,
C# and Swift bindings; a simulator header that includes it, like sim/include/xnano_sim.h, with
each binding's simulator module: Python xnano.sim + xnano._sim_ffi, a C# Fixture.Sim assembly
with its own .csproj, a Swift FixtureSim target with its own module map in a Package.swift)
into a temporary directory, checks that the checker passes it, then plants one mismatch at a
time in a fresh copy (a textual edit of one file) and runs the checker's command line on that
copy (--header/--sim-header/--python/--csharp/--swift). Every case must exit non-zero, drift in
exactly the bindings it concerns (`Python`, `Python-sim`, ...), and name the item (and the
types) in the message. It does not read the repository's bindings, so it passes whether or not
they are in step with the headers; it does parse the repository's headers, which must parse
cleanly and identically as C17 and C23.

Usage: scripts/check_bindings_selftest.py [--checker PATH] [-v]
Exit status 0 when every case passed; the last line is
"check-bindings self-test: N passed, N failed".
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = """\
/* Synthetic fixture of scripts/check_bindings_selftest.py (cbindgen's ABI-1 form). */
#ifndef XNANO_H
#define XNANO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The ABI version. */
#define XNANO_ABI_VERSION 1
#define XNANO_NAME_SIZE 16

/**
 * Result of every fallible function.
 */
enum xnano_result
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  XNANO_OK = 0,
  XNANO_ERR_NULL = 1,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum xnano_result xnano_result;
#else
typedef uint32_t xnano_result;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

typedef struct xnano_thing xnano_thing;

typedef struct xnano_console_info {
  uint32_t struct_size;
  char name[XNANO_NAME_SIZE];
  uint16_t port;
  bool online;
  const char *label;
} xnano_console_info;

typedef struct xnano_stats {
  uint32_t struct_size;
  uint64_t frames;
  bool active;
} xnano_stats;

typedef void (*xnano_event_callback)(void *user_data, xnano_result error, const char *message);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

uint32_t xnano_abi_version(void);

const char *xnano_last_error(void);

xnano_result xnano_thing_new(struct xnano_thing **out_thing);

xnano_result xnano_thing_connect(struct xnano_thing *thing, const char *host, uint16_t port);

xnano_result xnano_thing_get_info(const struct xnano_thing *thing, struct xnano_console_info *out_info);

xnano_result xnano_thing_get_stats(const struct xnano_thing *thing, struct xnano_stats *out_stats);

xnano_result xnano_thing_set_callback(struct xnano_thing *thing, xnano_event_callback callback, void *user_data);

xnano_result xnano_thing_set_online(struct xnano_thing *thing, bool online);

xnano_result xnano_thing_send(struct xnano_thing *thing, const uint8_t *data, size_t len);

void xnano_thing_free(struct xnano_thing *thing);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* XNANO_H */
"""

# The same API as the header before ABI 1 (C enum typedefs); the fixture bindings match it too.
LEGACY_ENUM = """\
typedef enum xnano_result {
  XNANO_OK = 0,
  XNANO_ERR_NULL = 1,
} xnano_result;
"""

PY_FFI = '''\
"""ctypes declarations of the fixture header."""
import ctypes
from ctypes import CFUNCTYPE, POINTER, Structure, c_bool, c_char, c_char_p, c_size_t, c_uint8, c_uint16, c_uint32, c_uint64, c_void_p

XNANO_ABI_VERSION = 1
XNANO_NAME_SIZE = 16
XNANO_OK = 0
XNANO_ERR_NULL = 1

xnano_result = c_uint32


class xnano_console_info(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("name", c_char * XNANO_NAME_SIZE),
        ("port", c_uint16),
        ("online", c_bool),
        ("label", c_char_p),
    ]


class xnano_stats(Structure):
    _fields_ = [("struct_size", c_uint32)] + [(name, c_uint64) for name in ("frames",)] + [("active", c_bool)]


class xnano_thing(Structure):
    pass


xnano_event_callback = CFUNCTYPE(None, c_void_p, xnano_result, c_char_p)

_P = POINTER
FUNCTIONS = {
    "xnano_last_error": (c_char_p, []),
    "xnano_thing_new": (xnano_result, [_P(_P(xnano_thing))]),
    "xnano_thing_connect": (xnano_result, [_P(xnano_thing), c_char_p, c_uint16]),
    "xnano_thing_get_info": (xnano_result, [_P(xnano_thing), _P(xnano_console_info)]),
    "xnano_thing_get_stats": (xnano_result, [_P(xnano_thing), _P(xnano_stats)]),
    "xnano_thing_set_callback": (xnano_result, [_P(xnano_thing), xnano_event_callback, c_void_p]),
    "xnano_thing_set_online": (xnano_result, [_P(xnano_thing), c_bool]),
    "xnano_thing_send": (xnano_result, [_P(xnano_thing), _P(c_uint8), c_size_t]),
    "xnano_thing_free": (None, [_P(xnano_thing)]),
}


def load(lib):
    for name, (restype, argtypes) in FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    abi = getattr(lib, "xnano_abi_version", None)
    abi.restype = c_uint32
    abi.argtypes = []
    return abi()
'''

PY_API = '''\
"""The Python wrapper of the fixture."""
import ctypes

from . import _ffi


def info(lib, thing):
    out = _ffi.xnano_console_info()
    out.struct_size = ctypes.sizeof(_ffi.xnano_console_info)
    lib.xnano_thing_get_info(thing, ctypes.byref(out))
    return out


def stats(lib, thing):
    out = _ffi.xnano_stats(struct_size=ctypes.sizeof(_ffi.xnano_stats))
    lib.xnano_thing_get_stats(thing, ctypes.byref(out))
    return out


def watch(lib, thing, handler):
    def tramp(_ud, error, message):
        handler(error, message)

    cb = _ffi.xnano_event_callback(tramp)
    lib.xnano_thing_set_callback(thing, cb, None)
    quiet = _ffi.xnano_event_callback(lambda _ud, error, message: None)
    return cb, quiet
'''

CS = """\
// P/Invoke declarations of the fixture header.
using System;
using System.Runtime.InteropServices;

namespace Fixture
{
    public enum Result : uint
    {
        Ok = NativeMethods.XNANO_OK,
        Null = NativeMethods.XNANO_ERR_NULL,
    }

    public sealed class ThingHandle : SafeHandle
    {
        public ThingHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid => handle == IntPtr.Zero;
        protected override bool ReleaseHandle() { NativeMethods.xnano_thing_free(handle); return true; }
    }

    public static class NativeMethods
    {
        public const string Library = "xnano";

#pragma warning disable 1591
        public const uint XNANO_ABI_VERSION = 1;
        public const int XNANO_NAME_SIZE = 16;
        public const uint XNANO_OK = 0;
        public const uint XNANO_ERR_NULL = 1;

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void xnano_event_callback(IntPtr user_data, uint error, IntPtr message);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_abi_version();
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern IntPtr xnano_last_error();
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_thing_new(out IntPtr out_thing);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern Result xnano_thing_connect(ThingHandle thing, byte[] host, ushort port);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_thing_get_info(IntPtr thing, ref xnano_console_info out_info);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_thing_get_stats(IntPtr thing, ref xnano_stats out_stats);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_thing_set_callback(IntPtr thing, xnano_event_callback callback, IntPtr user_data);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_thing_set_online(IntPtr thing, [MarshalAs(UnmanagedType.U1)] bool online);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_thing_send(IntPtr thing, byte[] data, UIntPtr len);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void xnano_thing_free(IntPtr thing);
#pragma warning restore 1591
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_console_info
    {
        public uint struct_size;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = NativeMethods.XNANO_NAME_SIZE)] public byte[] name;
        public ushort port;
        [MarshalAs(UnmanagedType.U1)] public bool online;
        public IntPtr label;
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct xnano_stats
    {
        public uint struct_size;
        public ulong frames;
        [MarshalAs(UnmanagedType.I1)] public bool active;
    }

    public static class Api
    {
        public static xnano_console_info Info(IntPtr thing)
        {
            var info = new xnano_console_info();
            info.struct_size = (uint)Marshal.SizeOf<xnano_console_info>();
            NativeMethods.xnano_thing_get_info(thing, ref info);
            return info;
        }

        public static string Describe(xnano_console_info info) => $"{info.port} {{online}}";
    }
}
"""

SWIFT = """\
import CXnano
import Foundation

public let expectedAbi = XNANO_ABI_VERSION
public let nameSize = XNANO_NAME_SIZE

private let eventTrampoline: xnano_event_callback = { userData, error, message in
    _ = userData
}

struct Failure: Error { let code: xnano_result }

func check(_ r: xnano_result) throws {
    if r != XNANO_OK.rawValue || r == XNANO_ERR_NULL.rawValue { throw Failure(code: r) }
}

public final class Thing {
    let handle: OpaquePointer

    public init() throws {
        var p: OpaquePointer?
        try check(xnano_thing_new(&p))
        handle = p!
        _ = xnano_thing_set_callback(handle, eventTrampoline, nil)
    }

    deinit {
        xnano_thing_free(handle)
    }

    public func connect(host: String, port: UInt16) throws {
        try check(xnano_thing_connect(handle, host, UInt16(port)))
    }

    public func info() throws -> xnano_console_info {
        var info = xnano_console_info()
        info.struct_size = UInt32(MemoryLayout<xnano_console_info>.stride)
        try check(xnano_thing_get_info(handle, &info))
        return info
    }

    public func stats() throws -> xnano_stats {
        var s = xnano_stats(struct_size: 0, frames: 0, active: false)
        s.struct_size = UInt32(MemoryLayout<xnano_stats>.stride)
        try check(xnano_thing_get_stats(handle, &s))
        return s
    }

    public func setOnline(_ on: Bool) throws {
        try check(xnano_thing_set_online(handle, on))
    }

    public func send(_ data: [UInt8]) throws {
        try data.withUnsafeBufferPointer { try check(xnano_thing_send(handle, $0.baseAddress, $0.count)) }
    }

    public func watch() throws {
        try check(xnano_thing_set_callback(handle, { (userData: UnsafeMutableRawPointer?, error: xnano_result, message: UnsafePointer<CChar>?) in
            _ = "xnano_thing_set_callback(a, b)"
        }, nil))
    }
}

public func lastError() -> String { String(cString: xnano_last_error()) }

protocol SizedStruct {
    init()
    var struct_size: UInt32 { get set }
}

extension SizedStruct {
    static func sized() -> Self { var s = Self(); s.struct_size = UInt32(MemoryLayout<Self>.stride); return s }
}

extension xnano_stats: SizedStruct {}

let versionFunction: @convention(c) () -> UInt32 = xnano_abi_version

public func abiVersion() -> UInt32 {
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: -2), "xnano_abi_version") else { return 0 }
    let f = unsafeBitCast(sym, to: (@convention(c) () -> UInt32).self)
    return f()
}
"""

# The simulator's header: a library of its own whose header includes the main one (like
# sim/include/xnano_sim.h, which takes xnano_result and xnano_console_info from xnano.h).
SIM_HEADER = """\
/* Synthetic fixture of scripts/check_bindings_selftest.py: the simulator's header. */
#ifndef XNANO_SIM_H
#define XNANO_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include "xnano.h"

#define XNANO_SIM_ABI_VERSION 1
#define XNANO_SIM_MODE_FAST 2

typedef struct xnano_sim xnano_sim;

typedef struct xnano_sim_config {
  uint32_t struct_size;
  uint16_t port;
  bool fast;
} xnano_sim_config;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

uint32_t xnano_sim_abi_version(void);

const char *xnano_sim_last_error(void);

xnano_result xnano_sim_new(const struct xnano_sim_config *config, struct xnano_sim **out_sim);

xnano_result xnano_sim_port(const struct xnano_sim *sim, uint16_t *out_port);

xnano_result xnano_sim_set_delay(struct xnano_sim *sim, uint32_t delay_ms);

xnano_result xnano_sim_console_info(const struct xnano_sim *sim, xnano_console_info *out_info);

void xnano_sim_free(struct xnano_sim *sim);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* XNANO_SIM_H */
"""

SIM_PY_FFI = '''\
"""ctypes declarations of the fixture's simulator header (only xnano.sim imports this)."""
from ctypes import POINTER, Structure, c_bool, c_char_p, c_uint16, c_uint32

from ._ffi import xnano_console_info, xnano_result

XNANO_SIM_ABI_VERSION = 1
XNANO_SIM_MODE_FAST = 2


class xnano_sim_config(Structure):
    _fields_ = [("struct_size", c_uint32), ("port", c_uint16), ("fast", c_bool)]


class xnano_sim(Structure):
    pass


_P = POINTER
FUNCTIONS = {
    "xnano_sim_abi_version": (c_uint32, []),
    "xnano_sim_last_error": (c_char_p, []),
    "xnano_sim_new": (xnano_result, [_P(xnano_sim_config), _P(_P(xnano_sim))]),
    "xnano_sim_port": (xnano_result, [_P(xnano_sim), _P(c_uint16)]),
    "xnano_sim_set_delay": (xnano_result, [_P(xnano_sim), c_uint32]),
    "xnano_sim_console_info": (xnano_result, [_P(xnano_sim), _P(xnano_console_info)]),
    "xnano_sim_free": (None, [_P(xnano_sim)]),
}
'''

SIM_PY = '''\
"""The fixture's simulator module, xnano.sim (the main module never imports it)."""
import ctypes

from . import _sim_ffi
from ._ffi import xnano_console_info


def port(lib, sim):
    out = ctypes.c_uint16()
    lib.xnano_sim_port(sim, ctypes.byref(out))
    return out.value


def console_info(lib, sim):
    info = xnano_console_info()
    info.struct_size = ctypes.sizeof(xnano_console_info)
    lib.xnano_sim_console_info(sim, ctypes.byref(info))
    return info


def config():
    return _sim_ffi.xnano_sim_config(struct_size=ctypes.sizeof(_sim_ffi.xnano_sim_config))
'''

CSPROJ = """\
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <AssemblyName>Fixture</AssemblyName>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
  </PropertyGroup>
  <ItemGroup>
    <Compile Include="*.cs" />
  </ItemGroup>
</Project>
"""

SIM_CSPROJ = """\
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <AssemblyName>Fixture.Sim</AssemblyName>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="../Fixture.csproj" />
  </ItemGroup>
</Project>
"""

SIM_CS = """\
// P/Invoke declarations of the fixture's simulator header: an assembly of its own.
using System;
using System.Runtime.InteropServices;
using Fixture;

namespace Fixture.Sim
{
    public static class SimNativeMethods
    {
        public const string Library = "xnano_sim";

        public const uint XNANO_SIM_ABI_VERSION = 1;
        public const uint XNANO_SIM_MODE_FAST = 2;

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_sim_abi_version();
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern IntPtr xnano_sim_last_error();
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_sim_new(ref xnano_sim_config config, out IntPtr out_sim);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_sim_port(IntPtr sim, out ushort out_port);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_sim_set_delay(IntPtr sim, uint delay_ms);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern uint xnano_sim_console_info(IntPtr sim, ref xnano_console_info out_info);
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void xnano_sim_free(IntPtr sim);
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_sim_config
    {
        public uint struct_size;
        public ushort port;
        [MarshalAs(UnmanagedType.U1)] public bool fast;
    }

    public static class SimApi
    {
        public static xnano_console_info Info(IntPtr sim)
        {
            var info = new xnano_console_info();
            info.struct_size = (uint)Marshal.SizeOf<xnano_console_info>();
            SimNativeMethods.xnano_sim_console_info(sim, ref info);
            return info;
        }
    }
}
"""

PACKAGE_SWIFT = """\
// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "Fixture",
    products: [
        .library(name: "Fixture", targets: ["Fixture"]),
        .library(name: "FixtureSim", targets: ["FixtureSim"]),
    ],
    targets: [
        .systemLibrary(name: "CXnano", path: "swift/CXnano"),
        .target(name: "Fixture", dependencies: ["CXnano"], path: "swift/Fixture"),
        .systemLibrary(name: "CXnanoSim", path: "swift/CXnanoSim"),
        .target(name: "FixtureSim", dependencies: ["Fixture", "CXnano", "CXnanoSim"], path: "swift/FixtureSim"),
        .testTarget(name: "FixtureTests", dependencies: ["Fixture", "FixtureSim"]),
    ]
)
"""

MODULEMAP = """\
module CXnano [system] {
    header "../../include/xnano.h"
    link "xnano"
    export *
}
"""

SIM_MODULEMAP = """\
module CXnanoSim [system] {
    header "../../sim/include/xnano_sim.h"
    link "xnano_sim"
    export *
}
"""

SIM_SWIFT = """\
import CXnanoSim
import Fixture

public let simAbi = XNANO_SIM_ABI_VERSION
public let fastMode = XNANO_SIM_MODE_FAST

struct SimFailure: Error {}

public final class Sim {
    let handle: OpaquePointer

    public init(port: UInt16) throws {
        var config = xnano_sim_config(struct_size: 0, port: port, fast: false)
        config.struct_size = UInt32(MemoryLayout<xnano_sim_config>.stride)
        var p: OpaquePointer?
        guard xnano_sim_new(&config, &p) == 0, let h = p else { throw SimFailure() }
        handle = h
    }

    deinit {
        xnano_sim_free(handle)
    }

    public func port() -> UInt16 {
        var port: UInt16 = 0
        _ = xnano_sim_port(handle, &port)
        return port
    }

    public func setDelay(_ ms: UInt32) {
        _ = xnano_sim_set_delay(handle, UInt32(ms))
    }

    public func info() -> xnano_console_info {
        var info = xnano_console_info()
        info.struct_size = UInt32(MemoryLayout<xnano_console_info>.stride)
        _ = xnano_sim_console_info(handle, &info)
        return info
    }

    public static func abi() -> UInt32 { xnano_sim_abi_version() }

    public static func lastError() -> String { String(cString: xnano_sim_last_error()) }
}
"""

HDR, PYF, PYA, CSF, SWF = "include/xnano.h", "py/xnano/_ffi.py", "py/xnano/_api.py", "cs/NativeMethods.cs", "swift/Fixture/Thing.swift"
SIM_HDR, SIM_PYF, SIM_PYA = "sim/include/xnano_sim.h", "py/xnano/_sim_ffi.py", "py/xnano/sim.py"
CSPROJ_F, SIM_CSPROJ_F, SIM_CSF = "cs/Fixture.csproj", "cs/Sim/Fixture.Sim.csproj", "cs/Sim/SimNativeMethods.cs"
PKG, SIM_SWF = "Package.swift", "swift/FixtureSim/Sim.swift"
FILES = {
    HDR: HEADER,
    PYF: PY_FFI,
    PYA: PY_API,
    CSF: CS,
    SWF: SWIFT,
    SIM_HDR: SIM_HEADER,
    SIM_PYF: SIM_PY_FFI,
    SIM_PYA: SIM_PY,
    CSPROJ_F: CSPROJ,
    SIM_CSPROJ_F: SIM_CSPROJ,
    SIM_CSF: SIM_CS,
    PKG: PACKAGE_SWIFT,
    "swift/CXnano/module.modulemap": MODULEMAP,
    "swift/CXnanoSim/module.modulemap": SIM_MODULEMAP,
    SIM_SWF: SIM_SWIFT,
}

# (name, file, old, new, bindings expected to drift, substrings the message must contain)
CASES = [
    # ---- Python
    ("Python: wrong argument type (c_uint64 for uint16_t)", PYF,
     "c_char_p, c_uint16]", "c_char_p, c_uint64]", {"Python"},
     ["function xnano_thing_connect: argument 3 (port)", "binding has u64, header has u16"]),
    ("Python: size_t declared c_uint64", PYF,
     "_P(c_uint8), c_size_t]", "_P(c_uint8), c_uint64]", {"Python"},
     ["function xnano_thing_send: argument 3 (len)", "binding has u64, header has usize"]),
    ("Python: c_void_p restype for a const char * return is allowed", PYF,
     '"xnano_last_error": (c_char_p, [])', '"xnano_last_error": (c_void_p, [])', set(), []),  # c_void_p is a valid pointer return
    ("Python: wrong return type (restype attribute)", PYF,
     "abi.restype = c_uint32", "abi.restype = c_uint16", {"Python"},
     ["function xnano_abi_version: return type", "binding has u16, header has u32"]),
    ("Python: wrong return type (FUNCTIONS)", PYF,
     '"xnano_thing_free": (None,', '"xnano_thing_free": (xnano_result,', {"Python"},
     ["function xnano_thing_free: return type", "binding has u32, header has void"]),
    ("Python: missing argument", PYF,
     "[_P(xnano_thing), c_char_p, c_uint16]", "[_P(xnano_thing), c_char_p]", {"Python"},
     ["function xnano_thing_connect: 2 parameters declared", "the header has 3"]),
    ("Python: extra argument", PYF,
     "[_P(xnano_thing), c_bool]", "[_P(xnano_thing), c_bool, c_bool]", {"Python"},
     ["function xnano_thing_set_online: 3 parameters declared", "the header has 2"]),
    ("Python: wrong handle type", PYF,
     '"xnano_thing_free": (None, [_P(xnano_thing)])', '"xnano_thing_free": (None, [_P(xnano_console_info)])', {"Python"},
     ["function xnano_thing_free: argument 1 (thing)", "binding has ptr(struct xnano_console_info), header has handle(xnano_thing)"]),
    ("Python: wrong struct field type", PYF,
     '("port", c_uint16)', '("port", c_uint32)', {"Python"},
     ["struct xnano_console_info field port: binding has u32, header has u16"]),
    ("Python: wrong array size", PYF,
     "c_char * XNANO_NAME_SIZE", "c_char * 8", {"Python"},
     ["struct xnano_console_info field name: binding has char[8], header has char[16]"]),
    ("Python: struct field missing", PYF,
     '        ("online", c_bool),\n', "", {"Python"},
     ["struct xnano_console_info: fields missing ['online']"]),
    ("Python: struct field missing (list comprehension)", PYF,
     '[(name, c_uint64) for name in ("frames",)]', "[]", {"Python"},
     ["struct xnano_stats: fields missing ['frames']"]),
    ("Python: struct fields reordered", PYF,
     '        ("port", c_uint16),\n        ("online", c_bool),\n', '        ("online", c_bool),\n        ("port", c_uint16),\n', {"Python"},
     ["struct xnano_console_info: fields reordered: field 3 is 'online', the header's is 'port'"]),
    ("Python: _pack_", PYF,
     "class xnano_console_info(Structure):\n", "class xnano_console_info(Structure):\n    _pack_ = 1\n", {"Python"},
     ["struct xnano_console_info: _pack_"]),
    ("Python: callback with the wrong arity", PYF,
     "CFUNCTYPE(None, c_void_p, xnano_result, c_char_p)", "CFUNCTYPE(None, c_void_p, xnano_result)", {"Python"},
     ["callback xnano_event_callback", "the binding's callback takes 2 arguments, the header's 3"]),
    ("Python: callback with a wrong argument type", PYF,
     "CFUNCTYPE(None, c_void_p, xnano_result, c_char_p)", "CFUNCTYPE(None, c_void_p, c_uint16, c_char_p)", {"Python"},
     ["callback xnano_event_callback", "binding has fn(anyptr, u16, cstr)->void, header has fn(ptr(void), u32, const cstr)->void"]),
    ("Python: callback with a wrong return type", PYF,
     "CFUNCTYPE(None, c_void_p, xnano_result, c_char_p)", "CFUNCTYPE(c_uint32, c_void_p, xnano_result, c_char_p)", {"Python"},
     ["callback xnano_event_callback", "->u32, header has fn(ptr(void), u32, const cstr)->void"]),
    ("Python: wrapped function with the wrong arity", PYA,
     "def tramp(_ud, error, message):", "def tramp(_ud, error):", {"Python"},
     ["callback xnano_event_callback: the Python function tramp wrapped at", "takes 2 arguments, the header's callback 3"]),
    ("Python: wrapped lambda with the wrong arity", PYA,
     "lambda _ud, error, message: None", "lambda _ud, message: None", {"Python"},
     ["callback xnano_event_callback: the Python lambda wrapped at", "takes 2 arguments, the header's callback 3"]),
    ("Python: enum typedef alias of the wrong width", PYF,
     "xnano_result = c_uint32", "xnano_result = c_int", {"Python", "Python-sim"},  # the simulator module imports it
     ["type xnano_result", "binding has i32, header has u32", "function xnano_thing_new: return type"]),
    ("Python: missing function", PYF,
     '    "xnano_thing_free": (None, [_P(xnano_thing)]),\n', "", {"Python"},
     ["function xnano_thing_free is not declared"]),
    ("Python: call with the wrong argument count", PYA,
     "lib.xnano_thing_get_info(thing, ctypes.byref(out))", "lib.xnano_thing_get_info(ctypes.byref(out))", {"Python"},
     ["function xnano_thing_get_info: called with 1 arguments", "the header has 2"]),
    ("Python: struct_size from the wrong struct", PYA,
     "out.struct_size = ctypes.sizeof(_ffi.xnano_console_info)", "out.struct_size = ctypes.sizeof(_ffi.xnano_stats)", {"Python"},
     ["struct xnano_console_info: struct_size set from the size of xnano_stats"]),
    ("Python: struct_size from the wrong struct (keyword)", PYA,
     "_ffi.xnano_stats(struct_size=ctypes.sizeof(_ffi.xnano_stats))", "_ffi.xnano_stats(struct_size=ctypes.sizeof(_ffi.xnano_console_info))", {"Python"},
     ["struct xnano_stats: struct_size set from the size of xnano_console_info"]),
    # ---- C#
    ("C#: wrong argument type (ulong for uint16_t)", CSF,
     "byte[] host, ushort port)", "byte[] host, ulong port)", {"C#"},
     ["function xnano_thing_connect: argument 3 (port)", "binding has u64, header has u16"]),
    ("C#: size_t declared ulong", CSF,
     "byte[] data, UIntPtr len)", "byte[] data, ulong len)", {"C#"},
     ["function xnano_thing_send: argument 3 (len)", "binding has u64, header has usize"]),
    ("C#: wrong return type", CSF,
     "public static extern uint xnano_abi_version()", "public static extern int xnano_abi_version()", {"C#"},
     ["function xnano_abi_version: return type", "binding has i32, header has u32"]),
    ("C#: enum without its width (int, not uint)", CSF,
     "public enum Result : uint", "public enum Result", {"C#"},
     ["function xnano_thing_connect: return type", "binding has i32, header has u32"]),
    ("C#: string return (marshaller frees it)", CSF,
     "public static extern IntPtr xnano_last_error()", "public static extern string xnano_last_error()", {"C#"},
     ["function xnano_last_error: returns string"]),
    ("C#: missing argument", CSF,
     "(ThingHandle thing, byte[] host, ushort port)", "(ThingHandle thing, byte[] host)", {"C#"},
     ["function xnano_thing_connect: 2 parameters declared", "the header has 3"]),
    ("C#: extra argument", CSF,
     "xnano_thing_free(IntPtr thing);", "xnano_thing_free(IntPtr thing, IntPtr extra);", {"C#"},
     ["function xnano_thing_free: 2 parameters declared", "the header has 1"]),
    ("C#: ref struct where the header has a handle", CSF,
     "xnano_thing_get_info(IntPtr thing, ref xnano_console_info out_info)", "xnano_thing_get_info(ref xnano_stats thing, ref xnano_console_info out_info)", {"C#"},
     ["function xnano_thing_get_info: argument 1 (thing)", "binding has ptr(struct xnano_stats), header has const handle(xnano_thing)"]),
    ("C#: out value where the header has a pointer to a struct", CSF,
     "ref xnano_stats out_stats", "out uint out_stats", {"C#"},
     ["function xnano_thing_get_stats: argument 2 (out_stats)", "binding has ptr(u32), header has ptr(struct xnano_stats)"]),
    ("C#: bool parameter without U1 marshalling", CSF,
     "[MarshalAs(UnmanagedType.U1)] bool online)", "bool online)", {"C#"},
     ["function xnano_thing_set_online: argument 2 (online)", "binding has BOOL(4 bytes), header has bool", "4-byte BOOL"]),
    ("C#: bool field without U1 marshalling", CSF,
     "[MarshalAs(UnmanagedType.U1)] public bool online;", "public bool online;", {"C#"},
     ["struct xnano_console_info field online: binding has BOOL(4 bytes), header has bool"]),
    ("C#: wrong struct field type", CSF,
     "public ushort port;", "public uint port;", {"C#"},
     ["struct xnano_console_info field port: binding has u32, header has u16"]),
    ("C#: wrong ByValArray size", CSF,
     "SizeConst = NativeMethods.XNANO_NAME_SIZE)] public byte[] name;", "SizeConst = 8)] public byte[] name;", {"C#"},
     ["struct xnano_console_info field name: binding has u8[8], header has char[16]"]),
    ("C#: fixed buffer of the wrong size", CSF,
     "[MarshalAs(UnmanagedType.ByValArray, SizeConst = NativeMethods.XNANO_NAME_SIZE)] public byte[] name;", "public fixed byte name[15];", {"C#"},
     ["struct xnano_console_info field name: binding has u8[15], header has char[16]"]),
    ("C#: struct field missing", CSF,
     "        [MarshalAs(UnmanagedType.U1)] public bool online;\n", "", {"C#"},
     ["struct xnano_console_info: fields missing ['online']"]),
    ("C#: struct fields reordered", CSF,
     "        public ushort port;\n        [MarshalAs(UnmanagedType.U1)] public bool online;\n",
     "        [MarshalAs(UnmanagedType.U1)] public bool online;\n        public ushort port;\n", {"C#"},
     ["struct xnano_console_info: fields reordered: field 3 is 'online', the header's is 'port'"]),
    ("C#: packed struct", CSF,
     "[StructLayout(LayoutKind.Sequential)]\n    public struct xnano_console_info", "[StructLayout(LayoutKind.Sequential, Pack = 1)]\n    public struct xnano_console_info", {"C#"},
     ["struct xnano_console_info: Pack = 1"]),
    ("C#: callback with the wrong arity", CSF,
     "xnano_event_callback(IntPtr user_data, uint error, IntPtr message)", "xnano_event_callback(IntPtr user_data, uint error)", {"C#"},
     ["callback xnano_event_callback", "the binding's callback takes 2 arguments, the header's 3"]),
    ("C#: callback with a wrong argument type", CSF,
     "xnano_event_callback(IntPtr user_data, uint error, IntPtr message)", "xnano_event_callback(IntPtr user_data, ushort error, IntPtr message)", {"C#"},
     ["callback xnano_event_callback", "binding has fn(anyptr, u16, anyptr)->void"]),
    ("C#: callback with a wrong return type", CSF,
     "public delegate void xnano_event_callback", "public delegate int xnano_event_callback", {"C#"},
     ["callback xnano_event_callback", "->i32, header has fn(ptr(void), u32, const cstr)->void"]),
    ("C#: callback delegate without [UnmanagedFunctionPointer]", CSF,
     "        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]\n", "", {"C#"},
     ["callback xnano_event_callback: delegate at", "lacks [UnmanagedFunctionPointer(CallingConvention.Cdecl)]"]),
    ("C#: missing function", CSF,
     "        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void xnano_thing_free(IntPtr thing);\n", "", {"C#"},
     ["function xnano_thing_free is not declared"]),
    ("C#: stdcall", CSF,
     "CallingConvention = CallingConvention.Cdecl)] public static extern void xnano_thing_free", "CallingConvention = CallingConvention.StdCall)] public static extern void xnano_thing_free", {"C#"},
     ["function xnano_thing_free: CallingConvention.StdCall"]),
    ("C#: struct_size from the wrong struct", CSF,
     "(uint)Marshal.SizeOf<xnano_console_info>()", "(uint)Marshal.SizeOf<xnano_stats>()", {"C#"},
     ["struct xnano_console_info: struct_size set from the size of xnano_stats"]),
    # ---- Swift
    ("Swift: missing argument", SWF,
     "xnano_thing_connect(handle, host, UInt16(port))", "xnano_thing_connect(handle, host)", {"Swift"},
     ["function xnano_thing_connect: called with 2 arguments", "the header has 3"]),
    ("Swift: extra argument", SWF,
     "xnano_thing_set_online(handle, on)", "xnano_thing_set_online(handle, on, on)", {"Swift"},
     ["function xnano_thing_set_online: called with 3 arguments", "the header has 2"]),
    ("Swift: wrong argument type (UInt64 for uint16_t)", SWF,
     "UInt16(port)", "UInt64(port)", {"Swift"},
     ["function xnano_thing_connect: argument 3 (port)", "UInt64(...) passed, binding has u64, header has u16"]),
    ("Swift: nil for a value argument", SWF,
     "xnano_thing_set_online(handle, on)", "xnano_thing_set_online(handle, nil)", {"Swift"},
     ["function xnano_thing_set_online: argument 2 (online)", "nil passed, the header has bool"]),
    ("Swift: wrong return type (@convention(c) of a dlsym'd function)", SWF,
     "(@convention(c) () -> UInt32)", "(@convention(c) () -> UInt16)", {"Swift"},
     ["function xnano_abi_version: the Swift @convention(c) type", "binding has fn()->u16, header has fn()->u32"]),
    ("Swift: result of a void function used", SWF,
     "        xnano_thing_free(handle)\n", "        let r = xnano_thing_free(handle)\n        _ = r\n", {"Swift"},
     ["function xnano_thing_free returns void in the header; the Swift code uses its result"]),
    ("Swift: callback closure with the wrong arity", SWF,
     "{ userData, error, message in", "{ userData, error in", {"Swift"},
     ["callback xnano_event_callback: the Swift closure at", "takes 2 arguments, the header's callback 3"]),
    ("Swift: inline callback closure with the wrong arity", SWF,
     "error: xnano_result, message: UnsafePointer<CChar>?) in", "error: xnano_result) in", {"Swift"},
     ["callback xnano_event_callback: the Swift closure at", "takes 2 arguments, the header's callback 3"]),
    ("Swift: callback closure with a wrong argument type", SWF,
     "error: xnano_result, message", "error: Int32, message", {"Swift"},
     ["callback xnano_event_callback: argument 2 of the Swift closure", "binding has i32, header has u32"]),
    ("Swift: @convention(c) callback with a wrong argument type", SWF,
     "private let eventTrampoline: xnano_event_callback = { userData, error, message in",
     "private let eventTrampoline: @convention(c) (UnsafeMutableRawPointer?, UInt16, UnsafePointer<CChar>?) -> Void = { userData, error, message in",
     {"Swift"},
     ["function xnano_thing_set_callback: argument 2 (callback)", "eventTrampoline", "binding has fn(ptr(void), u16, const cstr)->void"]),
    ("Swift: memberwise initialiser missing a field", SWF,
     "xnano_stats(struct_size: 0, frames: 0, active: false)", "xnano_stats(frames: 0, active: false)", {"Swift"},
     ["struct xnano_stats: the Swift initialiser", "['frames', 'active'], the header's are ['struct_size', 'frames', 'active']"]),
    ("Swift: memberwise initialiser fields reordered", SWF,
     "xnano_stats(struct_size: 0, frames: 0, active: false)", "xnano_stats(struct_size: 0, active: false, frames: 0)", {"Swift"},
     ["struct xnano_stats: the Swift initialiser"]),
    ("Swift: struct_size from the wrong struct (MemoryLayout)", SWF,
     "UInt32(MemoryLayout<xnano_console_info>.stride)", "UInt32(MemoryLayout<xnano_stats>.stride)", {"Swift"},
     ["struct xnano_console_info: struct_size set from the size of xnano_stats"]),
    ("Swift: struct_size from MemoryLayout.size (trailing padding)", SWF,
     "UInt32(MemoryLayout<xnano_stats>.stride)", "UInt32(MemoryLayout<xnano_stats>.size)", {"Swift"},
     ["struct xnano_stats: struct_size from MemoryLayout<xnano_stats>.size (17)", "C sizeof is 24", "use .stride"]),
    ("Swift: struct_size from MemoryLayout<Self>.size in a protocol extension", SWF,
     "UInt32(MemoryLayout<Self>.stride)", "UInt32(MemoryLayout<Self>.size)", {"Swift"},
     ["struct xnano_stats: struct_size from MemoryLayout<Self>.size (17)", "extension SizedStruct", "use .stride"]),
    ("Swift: @convention(c) variable holding a C function, wrong return type", SWF,
     "let versionFunction: @convention(c) () -> UInt32 = xnano_abi_version", "let versionFunction: @convention(c) () -> Int32 = xnano_abi_version", {"Swift"},
     ["function xnano_abi_version: the Swift @convention(c) type", "binding has fn()->i32, header has fn()->u32"]),
    ("Swift: missing function (a name not in the header)", SWF,
     "        xnano_thing_free(handle)\n", "        xnano_thing_release(handle)\n", {"Swift"},
     ["xnano_thing_release is not in the header", "function xnano_thing_free is not used"]),
    # ---- the simulator: its own module in each binding, checked against its own header
    ("Python: a simulator function declared in the main module", PYF,
     '    "xnano_thing_free": (None, [_P(xnano_thing)]),\n',
     '    "xnano_thing_free": (None, [_P(xnano_thing)]),\n    "xnano_sim_port": (xnano_result, [c_void_p, _P(c_uint16)]),\n', {"Python"},
     ["xnano/_ffi.py:", "xnano_sim_port (a function of sim/include/xnano_sim.h) in the main module", "must ship without the simulator"]),
    ("Python: a simulator function called by the main module", PYA,
     "    lib.xnano_thing_get_info(thing, ctypes.byref(out))\n",
     "    lib.xnano_thing_get_info(thing, ctypes.byref(out))\n    lib.xnano_sim_free(None)\n", {"Python"},
     ["xnano/_api.py:", "xnano_sim_free (a function of sim/include/xnano_sim.h) in the main module"]),
    ("Python: the main module imports the simulator module", PYA,
     "from . import _ffi\n", "from . import _ffi, sim\n", {"Python"},
     ["xnano/_api.py:", "imports xnano.sim (the simulator module): the main module must not import the simulator"]),
    ("Python: simulator function with a wrong argument type (simulator module)", SIM_PYF,
     '"xnano_sim_port": (xnano_result, [_P(xnano_sim), _P(c_uint16)])', '"xnano_sim_port": (xnano_result, [_P(xnano_sim), _P(c_uint32)])', {"Python-sim"},
     ["function xnano_sim_port: argument 2 (out_port) at xnano/_sim_ffi.py", "binding has ptr(u32), header has ptr(u16)"]),
    ("Python: simulator function with a value argument of the wrong width", SIM_PYF,
     "[_P(xnano_sim), c_uint32]", "[_P(xnano_sim), c_uint16]", {"Python-sim"},
     ["function xnano_sim_set_delay: argument 2 (delay_ms)", "binding has u16, header has u32"]),
    ("Python: xnano.h's struct (from the main module) in a simulator function: the wrong one", SIM_PYF,
     "[_P(xnano_sim), _P(xnano_console_info)]", "[_P(xnano_sim), _P(xnano_stats)]", {"Python-sim"},
     ["function xnano_sim_console_info: argument 2 (out_info)", "binding has ptr(struct xnano_stats), header has ptr(struct xnano_console_info)"]),
    ("Python: simulator function missing from the simulator module", SIM_PYF,
     '    "xnano_sim_free": (None, [_P(xnano_sim)]),\n', "", {"Python-sim"},
     ["function xnano_sim_free is not declared"]),
    ("Python: simulator struct field of the wrong type", SIM_PYF,
     '("port", c_uint16), ("fast", c_bool)', '("port", c_uint32), ("fast", c_bool)', {"Python-sim"},
     ["struct xnano_sim_config field port: binding has u32, header has u16"]),
    ("Python: simulator constant of the wrong value", SIM_PYF,
     "XNANO_SIM_MODE_FAST = 2", "XNANO_SIM_MODE_FAST = 3", {"Python-sim"},
     ["constant XNANO_SIM_MODE_FAST: binding has 3, the header 2"]),
    ("Python: simulator call with the wrong argument count", SIM_PYA,
     "lib.xnano_sim_port(sim, ctypes.byref(out))", "lib.xnano_sim_port(ctypes.byref(out))", {"Python-sim"},
     ["function xnano_sim_port: called with 1 arguments at xnano/sim.py", "the header has 2"]),
    ("Python: struct_size of xnano.h's struct in the simulator module from the wrong struct", SIM_PYA,
     "info.struct_size = ctypes.sizeof(xnano_console_info)", "info.struct_size = ctypes.sizeof(_sim_ffi.xnano_sim_config)", {"Python-sim"},
     ["struct xnano_console_info: struct_size set from the size of xnano_sim_config"]),
    ("C#: a simulator function declared in the main assembly", CSF,
     "        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void xnano_thing_free(IntPtr thing);\n",
     "        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)] public static extern void xnano_thing_free(IntPtr thing);\n"
     '        [DllImport("xnano_sim", CallingConvention = CallingConvention.Cdecl)] public static extern void xnano_sim_free(IntPtr sim);\n', {"C#"},
     ["NativeMethods.cs:", "xnano_sim_free (a function of sim/include/xnano_sim.h) in the main module"]),
    ("C#: simulator function with a wrong argument type (simulator assembly)", SIM_CSF,
     "xnano_sim_port(IntPtr sim, out ushort out_port)", "xnano_sim_port(IntPtr sim, out uint out_port)", {"C#-sim"},
     ["function xnano_sim_port: argument 2 (out_port) at Sim/SimNativeMethods.cs", "binding has ptr(u32), header has ptr(u16)"]),
    ("C#: xnano.h's struct (from the main assembly) in a simulator function: the wrong one", SIM_CSF,
     "ref xnano_console_info out_info", "ref xnano_stats out_info", {"C#-sim"},
     ["function xnano_sim_console_info: argument 2 (out_info)", "binding has ptr(struct xnano_stats), header has ptr(struct xnano_console_info)"]),
    ("C#: simulator bool field without U1 marshalling", SIM_CSF,
     "[MarshalAs(UnmanagedType.U1)] public bool fast;", "public bool fast;", {"C#-sim"},
     ["struct xnano_sim_config field fast: binding has BOOL(4 bytes), header has bool"]),
    ("C#: simulator constant missing", SIM_CSF,
     "        public const uint XNANO_SIM_MODE_FAST = 2;\n", "", {"C#-sim"},
     ["constant XNANO_SIM_MODE_FAST is not declared"]),
    ("C#: the simulator's files compiled into the main assembly (csproj glob)", CSPROJ_F,
     '<Compile Include="*.cs" />', '<Compile Include="**/*.cs" />', {"C#", "C#-sim"},
     ["Sim/SimNativeMethods.cs: namespace Fixture.Sim is compiled into the main assembly Fixture (Fixture.csproj)",
      "xnano_sim_abi_version (a function of sim/include/xnano_sim.h) in the main module", "and 6 more simulator names in the main module",
      "no source files found"]),
    ("C#: the simulator's project builds the main assembly (its AssemblyName)", SIM_CSPROJ_F,
     "<AssemblyName>Fixture.Sim</AssemblyName>", "<AssemblyName>Fixture</AssemblyName>", {"C#", "C#-sim"},
     ["namespace Fixture.Sim is compiled into the main assembly Fixture (Fixture.Sim.csproj)"]),
    ("C#: the main project references the simulator's", CSPROJ_F,
     "  <ItemGroup>\n", '  <ItemGroup>\n    <ProjectReference Include="Sim/Fixture.Sim.csproj" />\n', {"C#"},
     ["Fixture.csproj: the main assembly Fixture references Sim/Fixture.Sim.csproj (the simulator's project)"]),
    ("Swift: the main target calls a simulator function", SWF,
     "public func lastError() -> String { String(cString: xnano_last_error()) }\n",
     "public func lastError() -> String { String(cString: xnano_last_error()) }\n"
     "public func simError() -> String { String(cString: xnano_sim_last_error()) }\n", {"Swift"},
     ["Fixture/Thing.swift:", "xnano_sim_last_error (a function of sim/include/xnano_sim.h) in the main module"]),
    ("Swift: the main target imports the simulator's C module", SWF,
     "import CXnano\n", "import CXnano\nimport CXnanoSim\n", {"Swift"},
     ["Fixture/Thing.swift:2: imports CXnanoSim (the simulator's module)"]),
    ("Swift: the main target depends on the simulator's (Package.swift)", PKG,
     '.target(name: "Fixture", dependencies: ["CXnano"]', '.target(name: "Fixture", dependencies: ["CXnano", "FixtureSim"]', {"Swift"},
     ["Package.swift: the main target Fixture depends on FixtureSim (the simulator's)"]),
    ("Swift: the main target's C module imports the simulator's header", "swift/CXnano/module.modulemap",
     '    header "../../include/xnano.h"\n', '    header "../../include/xnano.h"\n    header "../../sim/include/xnano_sim.h"\n', {"Swift"},
     ["CXnano/module.modulemap: module CXnano of the main target imports xnano_sim.h"]),
    ("Swift: simulator call with the wrong argument count (simulator target)", SIM_SWF,
     "xnano_sim_port(handle, &port)", "xnano_sim_port(handle)", {"Swift-sim"},
     ["function xnano_sim_port: called with 1 arguments at FixtureSim/Sim.swift", "the header has 2"]),
    ("Swift: simulator call with a wrong argument type (UInt16 for uint32_t)", SIM_SWF,
     "xnano_sim_set_delay(handle, UInt32(ms))", "xnano_sim_set_delay(handle, UInt16(ms))", {"Swift-sim"},
     ["function xnano_sim_set_delay: argument 2 (delay_ms)", "UInt16(...) passed, binding has u16, header has u32"]),
    ("Swift: nil for xnano.h's struct pointer is fine, &info of it too; a value is not", SIM_SWF,
     "xnano_sim_console_info(handle, &info)", "xnano_sim_console_info(handle, UInt32(0))", {"Swift-sim"},
     ["function xnano_sim_console_info: argument 2 (out_info)", "header has ptr(struct xnano_console_info)"]),
    ("Swift: simulator function not used by the simulator target", SIM_SWF,
     "        xnano_sim_free(handle)\n", "", {"Swift-sim"},
     ["function xnano_sim_free is not used"]),
    ("Swift: simulator struct_size from MemoryLayout.size (trailing padding)", SIM_SWF,
     "MemoryLayout<xnano_sim_config>.stride", "MemoryLayout<xnano_sim_config>.size", {"Swift-sim"},
     ["struct xnano_sim_config: struct_size from MemoryLayout<xnano_sim_config>.size (7)", "C sizeof is 8"]),
    ("Swift: simulator memberwise initialiser missing a field", SIM_SWF,
     "xnano_sim_config(struct_size: 0, port: port, fast: false)", "xnano_sim_config(port: port, fast: false)", {"Swift-sim"},
     ["struct xnano_sim_config: the Swift initialiser", "the header's are ['struct_size', 'port', 'fast']"]),
    # ---- simulator header changes: every simulator module must notice, no main module
    ("sim header: new function", SIM_HDR,
     "void xnano_sim_free(", "xnano_result xnano_sim_reset(struct xnano_sim *sim);\n\nvoid xnano_sim_free(", {"Python-sim", "C#-sim", "Swift-sim"},
     ["function xnano_sim_reset is not"]),
    ("sim header: parameter type changed", SIM_HDR,
     "uint32_t delay_ms", "uint64_t delay_ms", {"Python-sim", "C#-sim", "Swift-sim"},
     ["function xnano_sim_set_delay: argument 2 (delay_ms)", "header has u64"]),
    ("sim header: struct field added", SIM_HDR,
     "  bool fast;\n", "  bool fast;\n  uint32_t delay_ms;\n", {"Python-sim", "C#-sim", "Swift-sim"},
     ["struct xnano_sim_config", "delay_ms"]),
    ("sim header: its include of xnano.h not found", SIM_HDR,
     '#include "xnano.h"', '#include "xnano_core.h"', {"sim-header", "Python-sim", "C#-sim", "Swift-sim"},
     ['#include "xnano_core.h" not found', "cannot resolve the type"]),
    ("header: a field added to xnano_console_info: the main modules notice, the simulator modules use theirs", HDR,
     "  const char *label;\n", "  const char *label;\n  uint32_t flags;\n", {"Python", "C#"},
     ["struct xnano_console_info: fields missing ['flags']"]),
    # ---- header changes: every binding must notice
    ("header: new function", HDR,
     "void xnano_thing_free(", "xnano_result xnano_thing_reset(struct xnano_thing *thing);\n\nvoid xnano_thing_free(", {"Python", "C#", "Swift"},
     ["function xnano_thing_reset is not"]),
    ("header: parameter type changed", HDR,
     "const char *host, uint16_t port)", "const char *host, uint32_t port)", {"Python", "C#", "Swift"},
     ["function xnano_thing_connect: argument 3 (port)", "header has u32"]),
    ("header: struct field added", HDR,
     "  bool active;\n", "  bool active;\n  uint64_t dropped;\n", {"Python", "C#", "Swift"},
     ["struct xnano_stats", "dropped"]),
    ("header: callback argument added", HDR,
     "xnano_result error, const char *message);", "xnano_result error, const char *message, uint32_t code);", {"Python", "C#", "Swift"},
     ["callback xnano_event_callback"]),
    ("header: C23 and C17 readings differ", HDR,
     "#else\ntypedef uint32_t xnano_result;", "#else\ntypedef uint16_t xnano_result;",
     {"header", "sim-header", "Python", "Python-sim", "C#", "C#-sim"},  # xnano_sim.h includes xnano.h
     ["header: typedef xnano_result is u16 as C17, u32 as C23", "sim header: function xnano_sim_new is fn(const ptr(struct xnano_sim_config), ptr(handle(xnano_sim)))->u16 as C17"]),
]


def write_fixture(d: Path, edits: dict[str, tuple[str, str]] | None = None) -> None:
    for rel, text in FILES.items():
        if edits and rel in edits:
            old, new = edits[rel]
            if old not in text:
                raise SystemExit(f"self-test: {old!r} not found in the fixture's {rel}")
            text = text.replace(old, new, 1)
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def run(checker: Path, d: Path) -> tuple[int, dict[str, list[str]], str]:
    cmd = [
        sys.executable, str(checker), "--root", str(d), "--header", "include/xnano.h",
        "--sim-header", "sim/include/xnano_sim.h", "--python", "py", "--csharp", "cs", "--swift", "swift",
    ]
    p = subprocess.run(cmd, capture_output=True, text=True)
    out = p.stdout + p.stderr
    sections: dict[str, list[str]] = {}
    cur = None
    for line in p.stdout.splitlines():
        m = re.match(r"  (\S+)\s+(ok|DRIFT):", line)
        if m:
            cur = m.group(1)
            sections[cur] = [] if m.group(2) == "DRIFT" else None
        elif line.startswith("    ") and cur and sections.get(cur) is not None and not line.strip().startswith("note:"):
            sections[cur].append(line.strip())
    drift = {k: v for k, v in sections.items() if v is not None}
    return p.returncode, drift, out


def load_checker(checker: Path):
    spec = importlib.util.spec_from_file_location("check_bindings", checker)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_bindings"] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checker", default=str(Path(__file__).resolve().parent / "check-bindings.py"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    checker = Path(args.checker)
    passed = failed = 0

    def report(ok: bool, name: str, detail: str) -> None:
        nonlocal passed, failed
        passed += ok
        failed += not ok
        print(f"  {'ok    ' if ok else 'FAILED'} {name}: {detail}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # The clean fixture passes.
        d = tmp / "clean"
        write_fixture(d)
        rc, drift, out = run(checker, d)
        report(rc == 0 and not drift, "clean fixture passes", "exit 0" if rc == 0 else f"exit {rc}\n{out}")
        # So does the pre-ABI-1 header form (`typedef enum {...} x;` is int-sized: u32 matches).
        d = tmp / "legacy"
        enum_start = HEADER.index("enum xnano_result\n")
        enum_end = HEADER.index("#endif // __cplusplus\n", enum_start) + len("#endif // __cplusplus\n")
        write_fixture(d, {HDR: (HEADER[enum_start:enum_end], LEGACY_ENUM)})
        rc, drift, out = run(checker, d)
        report(rc == 0 and not drift, "clean fixture against the pre-ABI-1 header form (typedef enum) passes", "exit 0" if rc == 0 else f"exit {rc}\n{out}")

        # Parser unit checks.
        cb = load_checker(checker)
        h17 = cb.parse_header(tmp / "clean" / HDR)
        h23 = cb.parse_header(tmp / "clean" / HDR, cb.C23)
        hl = cb.parse_header(tmp / "legacy" / HDR)
        checks = [
            ("ABI-1 form: xnano_result is u32 (C17)", str(h17.typedefs["xnano_result"]) == "u32"),
            ("ABI-1 form: xnano_result is u32 (C23, enum : uint32_t)", str(h23.typedefs["xnano_result"]) == "u32"),
            ("legacy form: xnano_result is an int-sized enum", str(hl.typedefs["xnano_result"]) == "enum xnano_result"),
            ("legacy enum matches i32 and u32, ABI-1 u32 does not match i32",
             cb.compatible(hl.typedefs["xnano_result"], cb.P("i32")) and cb.compatible(hl.typedefs["xnano_result"], cb.P("u32"))
             and not cb.compatible(h17.typedefs["xnano_result"], cb.P("i32"))),
            ("array size from a macro: char[16]", str(dict(h17.structs["xnano_console_info"])["name"]) == "char[16]"),
            ("callback typedef: fn(ptr(void), u32, const cstr)->void",
             str(h17.typedefs["xnano_event_callback"]) == "fn(ptr(void), u32, const cstr)->void"),
            ("handles: handle(xnano_thing), ptr(handle(xnano_thing))",
             [str(t) for _, t in h17.functions["xnano_thing_new"].params] == ["ptr(handle(xnano_thing))"]
             and str(h17.functions["xnano_thing_free"].params[0][1]) == "handle(xnano_thing)"),
            ("void return, no parameters", str(h17.functions["xnano_thing_free"].ret) == "void" and h17.functions["xnano_abi_version"].params == []),
            ("C17 and C23 readings agree", not cb.header_differences(h17, h23, "C23") and not h17.problems),
            ("constants from #define and enum", h17.constants.get("XNANO_NAME_SIZE") == 16 and h17.constants.get("XNANO_ERR_NULL") == 1),
        ]
        real = checker.resolve().parent.parent / "include" / "xnano.h"
        if real.exists():
            r17, r23 = cb.parse_header(real), cb.parse_header(real, cb.C23)
            checks.append((f"the repository's header parses ({len(r17.functions)} functions, no unresolved types, C17 == C23)",
                           len(r17.functions) > 0 and not r17.problems and not cb.header_differences(r17, r23, "C23")))
            if "xnano_client_connect_nano" in r17.functions:
                checks.append(("the repository's header: xnano_client_connect_nano(handle, const cstr, u16, u16)",
                               [str(t) for _, t in r17.functions["xnano_client_connect_nano"].params]
                               == ["handle(xnano_client)", "const cstr", "u16", "u16"]))
        # The simulator's header includes xnano.h: its own items are only its own, and
        # xnano.h's types (xnano_result, xnano_console_info) resolve in it.
        inc = [tmp / "clean" / "include"]
        hs = cb.parse_header(tmp / "clean" / SIM_HDR, include_dirs=inc, base=h17)
        hs23 = cb.parse_header(tmp / "clean" / SIM_HDR, cb.C23, include_dirs=inc, base=h23)
        own = lambda d: sorted(n for n in d if hs.is_own(n))  # noqa: E731
        checks += [
            ("simulator header: its own functions are its 7 xnano_sim_* (xnano.h's resolve, are not its own)",
             own(hs.functions) == sorted(n for n in hs.functions if n.startswith("xnano_sim_")) and len(own(hs.functions)) == 7
             and "xnano_thing_new" in hs.functions and not hs.is_own("xnano_thing_new")),
            ("simulator header: xnano_sim_console_info(const handle(xnano_sim), ptr(struct xnano_console_info)): xnano.h's struct",
             [str(t) for _, t in hs.functions["xnano_sim_console_info"].params] == ["const handle(xnano_sim)", "ptr(struct xnano_console_info)"]),
            ("simulator header: xnano_result (xnano.h's) is u32 in both readings",
             str(hs.functions["xnano_sim_new"].ret) == "u32" and str(hs23.functions["xnano_sim_new"].ret) == "u32"),
            ("simulator header: its own constants and structs",
             own(hs.constants) == ["XNANO_SIM_ABI_VERSION", "XNANO_SIM_MODE_FAST"] and own(hs.structs) == ["xnano_sim_config"]),
            ("simulator header: C17 and C23 readings agree, nothing unresolved", not hs.problems and not cb.header_differences(hs, hs23, "C23")),
            ("simulator names: XnanoSim, CXnanoSim, Xnano.Sim.Native, _sim_ffi are; Simulator, Xnano, simple are not",
             all(cb.is_sim_name(n) for n in ("XnanoSim", "CXnanoSim", "Xnano.Sim.Native", "_sim_ffi", "sim"))
             and not any(cb.is_sim_name(n) for n in ("Simulator", "Xnano", "simple", "CXnano"))),
        ]
        # Python: the simulator module and the private modules only it imports; a private
        # module both import is the main module's.
        pd = tmp / "pysplit" / "pkg"
        pd.mkdir(parents=True)
        for rel, text in {
            "__init__.py": "from . import _core\n", "_core.py": "X = 1\n", "_loader.py": "from ._core import X\n",
            "sim.py": "from . import _core\nfrom ._loader import X\n", "aio.py": "import pkg._core\n",
        }.items():
            (pd / rel).write_text(text)
        sp = cb.split_python(pd.parent, cb.read_sources(pd.parent, "**/*.py", cb.strip_python), hs)
        checks.append(("Python: the simulator's files are pkg/sim.py and pkg/_loader.py (only sim imports it); _core, aio, __init__ are main",
                       sorted(x.rel for x in sp.sim) == ["pkg/_loader.py", "pkg/sim.py"]
                       and sorted(x.rel for x in sp.main) == ["pkg/__init__.py", "pkg/_core.py", "pkg/aio.py"] and not sp.problems))
        # C# without projects: the simulator's files by their namespace.
        nd = tmp / "cssplit"
        (nd / "Any").mkdir(parents=True)
        (nd / "Main.cs").write_text("namespace Fixture { class A {} }\nnamespace AOT { class B {} }\n")
        (nd / "Any" / "Sim.cs").write_text("namespace Fixture.Sim.Native { class C {} }\n")
        sp = cb.split_csharp(nd, cb.read_sources(nd, "**/*.cs", cb.cs_strip), hs)
        checks.append(("C# without projects: Any/Sim.cs (namespace Fixture.Sim.Native) is the simulator's, Main.cs the main assembly's",
                       [x.rel for x in sp.main] == ["Main.cs"] and [x.rel for x in sp.sim] == ["Any/Sim.cs"]))
        real_sim = checker.resolve().parent.parent / "sim" / "include" / "xnano_sim.h"
        if real.exists() and real_sim.exists():
            s17 = cb.parse_header(real_sim, include_dirs=[real.parent], base=r17)
            s23 = cb.parse_header(real_sim, cb.C23, include_dirs=[real.parent], base=r23)
            n = sum(1 for f in s17.functions if s17.is_own(f))
            checks.append((f"the repository's simulator header parses ({n} functions of its own, no unresolved types, C17 == C23)",
                           n > 0 and not s17.problems and not cb.header_differences(s17, s23, "C23")
                           and all(f.startswith("xnano_sim_") for f in s17.functions if s17.is_own(f))))
            if "xnano_sim_console_info" in s17.functions:
                checks.append(("the repository's simulator header: xnano_sim_console_info(const handle(xnano_sim), ptr(struct xnano_console_info)) (xnano.h's struct)",
                               [str(t) for _, t in s17.functions["xnano_sim_console_info"].params]
                               == ["const handle(xnano_sim)", "ptr(struct xnano_console_info)"]))
        for name, ok in checks:
            report(bool(ok), f"parser: {name}", "as expected" if ok else "WRONG")

        # Planted mismatches.
        for i, (name, rel, old, new, expected, needles) in enumerate(CASES):
            d = tmp / f"case{i}"
            write_fixture(d, {rel: (old, new)})
            rc, drift, out = run(checker, d)
            caught = set(drift)
            msgs = [m for k in sorted(drift) for m in drift[k]]
            missing = [n for n in needles if not any(n in m for m in msgs)]
            ok = caught == expected and (rc != 0) == bool(expected) and not missing and "Traceback" not in out
            if ok:
                if expected:
                    shown = next((m for m in msgs if needles and needles[0] in m), msgs[0] if msgs else "")
                    detail = f"exit {rc}, caught by {sorted(caught)}: {shown}"
                else:
                    detail = "exit 0 (not a mismatch: c_void_p is a valid pointer restype)"
            else:
                detail = f"exit {rc}, caught by {sorted(caught)}, expected {sorted(expected)}; missing {missing}\n{out}"
            if args.verbose and ok:
                detail += "".join(f"\n        {m}" for m in msgs)
            report(ok, name, detail)
    print(f"check-bindings self-test: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
