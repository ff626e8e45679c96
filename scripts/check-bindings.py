#!/usr/bin/env python3
"""Binding drift check: include/xnano.h and sim/include/xnano_sim.h against the Python, C# and Swift bindings.

The header is parsed into NORMALISED TYPES and so are the bindings' declarations; the check
compares them item by item. The vocabulary (what the messages print):

    i8 u8 i16 u16 i32 u32 i64 u64 f32 f64 bool usize isize char void
    long / ulong          C `long` (platform-dependent: 4 bytes on Windows, 8 elsewhere)
    ptr(T), const ptr(T)  data pointer (const: to const data; const is printed, never compared,
                          since ctypes and C# cannot express it)
    cstr, const cstr      char pointer (a NUL-terminated string)
    handle(X)             pointer to the opaque struct X (handle(*): Swift's OpaquePointer)
    T[N]                  fixed array (macro sizes resolved: char name[XNANO_CONSOLE_NAME_SIZE])
    struct X              struct by value
    enum X                a C enum without fixed width (int-sized: i32 and u32 both match it)
    fn(A, B)->R           function pointer (callback typedef, CFUNCTYPE, delegate, @convention(c))
    anyptr                an untyped pointer of a binding (C# IntPtr/nint/void*/SafeHandle,
                          ctypes c_void_p): matches any pointer, handle, string or fn pointer
    BOOL(4 bytes)         C# `bool` without [MarshalAs(UnmanagedType.U1)] (or I1): Win32 BOOL,
                          never a C bool (1 byte)

C typedefs are resolved: `typedef uint32_t xnano_result;` makes xnano_result u32 (ABI 1);
`typedef enum xnano_result {...} xnano_result;` (before ABI 1) makes it `enum xnano_result`.
Preprocessor conditionals are evaluated (C, not C++, __STDC_VERSION__ 201710L); the header is
parsed a second time as C23 (202311L, where cbindgen emits `enum X : uint32_t`) and both
readings must agree.

For every binding (comments and docstrings do not count; tests do not count either):

- Python (bindings/python, ctypes): every function of the header is declared in the `FUNCTIONS`
  table (name: (restype, [argtypes])) or by `.restype` / `.argtypes` assignments, with the
  header's return type and argument types; every callback typedef is a CFUNCTYPE of the same
  name with the header's arity, argument and return types; every struct is a `Structure` of
  the same name whose `_fields_` have the C names, order and types (`_pack_` is refused);
  aliases named like a C typedef (`xnano_result = c_uint32`) have its type; every constant is
  assigned under its C name, with the header's value where that is a literal. Calls
  `lib.xnano_f(...)` pass as many arguments as the header has; a Python function wrapped in a
  callback type (`xnano_log_callback(tramp)`, or a lambda passed alongside the type) takes as
  many arguments as the callback.
- C# (bindings/csharp/src, P/Invoke): every function is an `extern` method of the same name
  (or EntryPoint) with the header's return and parameter types (`ref`/`out`/`in` T = ptr(T),
  `T[]` = ptr(T), `string` = cstr; a `string` RETURN is refused: the marshaller would free
  the library's static string); every callback typedef is a delegate of the same name with
  [UnmanagedFunctionPointer(CallingConvention.Cdecl)] and the header's signature; every
  struct is a `struct` of the same name with the C fields, order and types (`fixed byte x[N]`
  or [MarshalAs(UnmanagedType.ByValArray, SizeConst = N)] = T[N]; no Pack, no non-Sequential
  layout); enums used in signatures have their declared width (`enum E : uint` = u32, no base
  = i32); every constant is a `const` of the same name and value.
- Swift (bindings/swift/Sources): the header is imported as it is by the system-library
  target, so declarations cannot drift; instead every function and constant must be USED by
  the Swift wrapper (deliberate exceptions in SWIFT_ALLOW with their reason), and what the
  Swift code writes must agree with the header: every call `xnano_f(...)` passes the header's
  number of arguments (nil only for pointers, &x only for pointers, explicit conversions such
  as `Int32(x)` of the parameter's type); the result of a function that returns void is not
  used; closures and functions passed as callbacks, closures declared with a callback typedef
  type, and `@convention(c)` types (passed as a callback, or cast from dlsym of "xnano_f")
  have the callback's arity and types; memberwise initialisers `xnano_struct(a: ..., b: ...)`
  name every field in order; `MemoryLayout<T>` names a header struct, and in a struct_size
  assignment it is the struct being filled and `.stride` where `.size` would differ (C's
  sizeof includes trailing padding).

For all three: `x.struct_size = <sizeof of T>` (ctypes.sizeof, Marshal.SizeOf, MemoryLayout)
must use the struct that x is, and T must have a struct_size field. Reverse check: every
`xnano_*` identifier a binding uses must exist in the header.

THE SIMULATOR (libxnano_sim, sim/include/xnano_sim.h, which includes xnano.h) is a library of
its own, and each binding has a MAIN MODULE, which must ship without it, and a SIMULATOR
MODULE. The files of each are told apart by what they declare, not by fixed file names (a
"simulator name" has the word `sim` in it: XnanoSim, Xnano.Sim, _sim_ffi; not Simulator):

- Python: modules with a simulator name (`xnano.sim`, `xnano._sim_ffi`), and private modules
  that only those import, are the simulator module; every other module is the main module's.
- C#: the assembly that compiles the file (the Compile items of a *.csproj under or beside
  --csharp, or the folder of a Unity *.asmdef) when one does, else the file's namespace
  (`namespace Xnano.Sim...`).
- Swift: the file's target (its folder under --swift, or a Package.swift `path:`).

The main module is checked against xnano.h as above, and must not declare, call or name
anything of xnano_sim.h (nor any other xnano_sim_* name): not in code, not in a string such
as a dlsym or EntryPoint name. Nor may it import the simulator module (Python: any import of
it; Swift: `import` of a simulator target or of a C module whose module map declares
xnano_sim.h, a main target depending on one in Package.swift, a main module map declaring
xnano_sim.h; C#: a file in a Sim namespace compiled into a main assembly, a main project
referencing a Sim project). The simulator module is checked against xnano_sim.h's own items
by the same rules (declared with the header's types; Swift: used); xnano.h's types
(xnano_result, xnano_console_info) resolve from the included header and, in the bindings, from
the main module's declarations, which the simulator module imports; a main function or struct
that the simulator module declares anyway is compared too. xnano_sim.h is parsed as C17 and as
C23 as well and its own items must agree.

Usage: scripts/check-bindings.py [--root DIR] [--header H] [--sim-header H] [--python DIR]
                                 [--csharp DIR] [--swift DIR]
                                 [--list [--sim] | --layout-c [--sim] | --self-test]
  --sim-header the simulator's header (default sim/include/xnano_sim.h; its `#include "xnano.h"`
              is looked for next to it, then beside --header); `none`: no simulator modules
              are checked (main modules are still checked for xnano_sim_* names)
  --python/--csharp/--swift  the binding source directories, main and simulator modules
              together (default: the repository's bindings/python, bindings/csharp,
              bindings/swift/Sources); relative paths are taken from --root
  --list      print what was parsed from the header (normalised types); with --sim, the
              simulator header's own items
  --layout-c  print a C program that prints each struct's size and field offsets
              (scripts/test-csharp.sh runs it; the C# tests compare Marshal.OffsetOf); with
              --sim, of the simulator header's own structs (it includes "xnano_sim.h")
  --self-test plant every kind of mismatch in a synthetic fixture and check each is caught
              (scripts/check_bindings_selftest.py)
Each binding reports twice: `Python` (its main module against xnano.h) and `Python-sim` (its
simulator module against xnano_sim.h), likewise `C#`/`C#-sim` and `Swift`/`Swift-sim`.
Exit status 0 without drift, 1 with; the last line is "check-bindings: N passed, N failed".
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Header items a binding deliberately does not declare or use: name -> reason. Entries that
# are not in the header are reported as stale, so the lists stay honest.
PYTHON_ALLOW: dict[str, str] = {}
CSHARP_ALLOW: dict[str, str] = {}
SWIFT_ALLOW: dict[str, str] = {}
# The same for the simulator modules (against the simulator header's own items).
PYTHON_SIM_ALLOW: dict[str, str] = {}
CSHARP_SIM_ALLOW: dict[str, str] = {}
SWIFT_SIM_ALLOW: dict[str, str] = {}

# Lower-case `xnano_` words in binding sources that are not C names (reverse check).
NOT_C_NAMES = re.compile(r"^xnano_(lib|library|path)$")

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"

# ------------------------------------------------------------------ normalised types


@dataclass(frozen=True)
class T:
    """A normalised type. `const` (pointee constness), `alias` (the typedef or binding name
    it was reached through) and `names` (parameter names of a fn) are not compared."""

    kind: str  # prim void ptr arr struct opaque enum fn anyptr bool32 unknown
    name: str = ""
    sub: tuple = ()  # ptr/arr: (element,); fn: (ret, *args)
    n: object = None  # arr: length (int, or the unresolved text)
    const: bool = field(default=False, compare=False)
    alias: str = field(default="", compare=False)
    names: tuple = field(default=(), compare=False)

    def __str__(self) -> str:
        return render(self)


def P(name: str) -> T:
    return T("prim", name)


VOID = T("void")
ANYPTR = T("anyptr")
BOOL32 = T("bool32")


def ptr(t: T, const: bool = False) -> T:
    if t.kind == "fn":  # a pointer to a function is the fn pointer type itself
        return t
    return T("ptr", sub=(t,), const=const)


def arr(t: T, n) -> T:
    return T("arr", sub=(t,), n=n)


def fn(ret: T, args, names=()) -> T:
    return T("fn", sub=(ret, *args), names=tuple(names))


def unknown(text: str) -> T:
    return T("unknown", name=" ".join(str(text).split()))


def aliased(t: T, alias: str) -> T:
    return dataclasses.replace(t, alias=alias)


def render(t: T) -> str:
    k = t.kind
    if k == "prim":
        return t.name
    if k in ("void", "anyptr"):
        return k
    if k == "bool32":
        return "BOOL(4 bytes)"
    if k == "unknown":
        return f"<unrecognised type {t.name!r}>"
    if k in ("struct", "opaque", "enum"):
        return f"{k} {t.name}"
    if k == "arr":
        return f"{render(t.sub[0])}[{t.n}]"
    if k == "fn":
        ret, *args = t.sub
        return f"fn({', '.join(render(a) for a in args)})->{render(ret)}"
    if k == "ptr":
        p, c = t.sub[0], ("const " if t.const else "")
        if p.kind == "prim" and p.name == "char":
            return c + "cstr"
        if p.kind == "opaque":
            return c + f"handle({p.name})"
        return f"{c}ptr({render(p)})"
    return k


def compatible(c: T, b: T) -> bool:
    """Whether binding type `b` matches header type `c` (const is not compared)."""
    if c.kind == "unknown" or b.kind == "unknown":
        return False
    if b.kind == "anyptr":
        return c.kind in ("ptr", "fn", "anyptr") or (c.kind == "prim" and c.name == "isize")
    if c.kind == "enum":
        return (b.kind == "prim" and b.name in ("i32", "u32")) or (b.kind == "enum" and b.name == c.name)
    if b.kind == "enum":
        return c.kind == "prim" and c.name in ("i32", "u32")
    if c.kind == "prim" and b.kind == "prim":
        return c.name == b.name or (c.name == "char" and b.name in ("i8", "u8")) or (
            b.name == "char" and c.name in ("i8", "u8")
        )
    if c.kind != b.kind:
        return False
    if c.kind == "ptr":
        cp, bp = c.sub[0], b.sub[0]
        if cp.kind == "void":
            return True  # any data pointer may be passed as void *
        if cp.kind in ("struct", "opaque") and bp.kind in ("struct", "opaque"):
            return cp.name == bp.name or bp.name == "*"
        return compatible(cp, bp)
    if c.kind == "arr":
        return c.n == b.n and compatible(c.sub[0], b.sub[0])
    if c.kind in ("struct", "opaque"):
        return c.name == b.name
    if c.kind == "fn":
        return len(c.sub) == len(b.sub) and all(compatible(x, y) for x, y in zip(c.sub, b.sub))
    return c == b


def contains(t: T, kind: str) -> bool:
    return t.kind == kind or any(contains(s, kind) for s in t.sub if isinstance(s, T))


def mismatch(c: T, b: T) -> str:
    """'binding has X, header has Y' with a hint for the classic mistakes."""
    msg = f"binding has {b}, header has {c}"
    if contains(b, "bool32") and contains(c, "prim") and "bool" in render(c):
        msg += " (a C# bool without [MarshalAs(UnmanagedType.U1)] is a 4-byte BOOL; C bool is 1 byte)"
    elif c.kind == "fn" and b.kind == "fn" and len(c.sub) != len(b.sub):
        msg += f" (the binding's callback takes {len(b.sub) - 1} arguments, the header's {len(c.sub) - 1})"
    return msg


def describe(c: T) -> str:
    return f"{c} (C {c.alias})" if c.alias and c.alias != render(c) else render(c)


PRIM_SIZE = {
    "i8": 1, "u8": 1, "char": 1, "bool": 1, "i16": 2, "u16": 2, "i32": 4, "u32": 4, "f32": 4,
    "i64": 8, "u64": 8, "f64": 8, "usize": 8, "isize": 8, "long": 8, "ulong": 8,
}


def size_align(t: T, structs: dict) -> tuple[int, int] | None:
    """sizeof and alignof on LP64 (x86_64, aarch64); None when not computable."""
    k = t.kind
    if k == "prim":
        s = PRIM_SIZE.get(t.name)
        return (s, s) if s else None
    if k in ("ptr", "fn", "anyptr"):
        return 8, 8
    if k in ("enum", "bool32"):
        return 4, 4
    if k == "arr":
        e = size_align(t.sub[0], structs)
        return (e[0] * t.n, e[1]) if e and isinstance(t.n, int) else None
    if k == "struct" and t.name in structs:
        lay = struct_layout(structs[t.name], structs)
        return (lay[0], lay[1]) if lay else None
    return None


def struct_layout(fields, structs) -> tuple[int, int, int] | None:
    """(sizeof, alignof, end of the last field) of a struct's fields."""
    off, align = 0, 1
    for _, ft in fields:
        sa = size_align(ft, structs)
        if not sa:
            return None
        off = (off + sa[1] - 1) // sa[1] * sa[1] + sa[0]
        align = max(align, sa[1])
    return (off + align - 1) // align * align, align, off


# ------------------------------------------------------------------ C parsing


def strip_c_comments(text: str) -> str:
    """Removes /* */ and // comments, keeping string literals and the line count intact."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_value(expr: str, known: dict[str, object]):
    """An integer or string literal (or a simple integer expression over known names)."""
    expr = expr.strip()
    if len(expr) >= 2 and expr[0] == '"' and expr[-1] == '"':
        return ast.literal_eval(expr)
    expr = re.sub(r"\(\s*(?:u?int\d+_t|unsigned|int|long|size_t)\s*\)", "", expr)  # casts
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr)
    if not re.fullmatch(r"[A-Za-z0-9_ ()<>|&+\-~*]+", expr):
        return None

    def name(m):
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", m.group(0)):
            return m.group(0)
        v = known.get(m.group(0))
        return str(v) if isinstance(v, int) else m.group(0)

    py = re.sub(r"\b[A-Za-z_]\w*\b", name, expr)
    if re.search(r"[A-Za-z_]", re.sub(r"0[xX][0-9a-fA-F]+", "", py)):
        return None
    try:
        v = eval(py, {"__builtins__": {}}, {})  # noqa: S307 - digits and operators only
    except Exception:
        return None
    return v if isinstance(v, int) else None


def split_top(s: str, sep: str = ",") -> list[str]:
    """Splits on `sep` outside parentheses/brackets/braces/angle brackets."""
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def eval_pp_condition(expr: str, macros: dict[str, str]) -> bool:
    """A #if expression: defined(), integers, macros (unknown names are 0), C operators."""
    expr = re.sub(r"\bdefined\s*\(\s*(\w+)\s*\)|\bdefined\s+(\w+)", lambda m: "1" if (m.group(1) or m.group(2)) in macros else "0", expr)
    for _ in range(10):
        new = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: macros.get(m.group(0), "0") or "0", expr)
        if new == expr:
            break
        expr = new
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr)
    expr = expr.replace("&&", " and ").replace("||", " or ")
    expr = re.sub(r"!(?!=)", " not ", expr).replace("/", "//")
    try:
        return bool(eval(expr, {"__builtins__": {}}, {}))  # noqa: S307 - digits and operators only
    except Exception as e:
        raise SystemExit(f"check-bindings: cannot evaluate preprocessor condition {expr!r}: {e}")


def preprocess(text: str, config: dict[str, str]) -> tuple[str, list[tuple[str, str]], set[str]]:
    """Evaluates the conditionals for one configuration. Returns the text with directives
    and inactive lines blanked (line count kept), the active object-like #defines in order
    (name, value) and the names of function-like macros."""
    lines = text.split("\n")
    macros = dict(config)
    defines: list[tuple[str, str]] = []
    fn_macros: set[str] = set()
    out = []
    stack: list[list[bool]] = []  # [parent_active, this_active, taken]
    i = 0
    while i < len(lines):
        line = lines[i]
        span = 1
        while line.endswith("\\") and i + span < len(lines):
            line = line[:-1] + " " + lines[i + span]
            span += 1
        active = all(s[1] for s in stack)
        d = re.match(r"\s*#\s*(\w+)\s*(.*)$", line)
        if d:
            kw, rest = d.group(1), d.group(2).strip()
            if kw in ("if", "ifdef", "ifndef"):
                if not active:
                    cond = False
                elif kw == "ifdef":
                    cond = rest.split()[0] in macros
                elif kw == "ifndef":
                    cond = rest.split()[0] not in macros
                else:
                    cond = eval_pp_condition(rest, macros)
                stack.append([active, cond, cond])
            elif kw == "elif" and stack:
                s = stack[-1]
                cond = s[0] and not s[2] and eval_pp_condition(rest, macros)
                s[1] = cond
                s[2] = s[2] or cond
            elif kw == "else" and stack:
                s = stack[-1]
                s[1] = s[0] and not s[2]
                s[2] = True
            elif kw == "endif" and stack:
                stack.pop()
            elif kw == "define" and active:
                m = re.match(rf"({IDENT})(\()?\s*(.*)$", rest)
                if m:
                    if m.group(2):
                        fn_macros.add(m.group(1))
                    else:
                        macros[m.group(1)] = m.group(3).strip()
                        defines.append((m.group(1), m.group(3).strip()))
            elif kw == "undef" and active:
                macros.pop(rest.split()[0], None)
            out.extend([""] * span)
        else:
            out.extend(lines[i : i + span] if active else [""] * span)
        i += span
    return "\n".join(out), defines, fn_macros


C_TOKEN = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\.\.\.|\S")
C_BASE_WORDS = {"void", "char", "short", "int", "long", "signed", "unsigned", "float", "double", "_Bool", "bool"}
C_QUALS = {"const", "volatile", "restrict", "__restrict", "static", "extern", "inline", "register", "_Noreturn"}
C_STD_TYPES = {
    "int8_t": P("i8"), "uint8_t": P("u8"), "int16_t": P("i16"), "uint16_t": P("u16"),
    "int32_t": P("i32"), "uint32_t": P("u32"), "int64_t": P("i64"), "uint64_t": P("u64"),
    "size_t": P("usize"), "ssize_t": P("isize"), "ptrdiff_t": P("isize"), "intptr_t": P("isize"),
    "uintptr_t": P("usize"),
}


def c_base_from_words(words: list[str]) -> T:
    w = sorted(x for x in words if x != "int" or len(words) == 1 or "long" not in words and "short" not in words)
    key = " ".join(w)
    table = {
        "void": VOID, "char": P("char"), "char signed": P("i8"), "char unsigned": P("u8"),
        "short": P("i16"), "short signed": P("i16"), "short unsigned": P("u16"),
        "int": P("i32"), "signed": P("i32"), "int signed": P("i32"), "unsigned": P("u32"),
        "int unsigned": P("u32"), "long": P("long"), "long signed": P("long"),
        "long unsigned": P("ulong"), "long long": P("i64"), "long long signed": P("i64"),
        "long long unsigned": P("u64"), "float": P("f32"), "double": P("f64"),
        "_Bool": P("bool"), "bool": P("bool"),
    }
    return table.get(key, unknown(" ".join(words) or "<no type>"))


class CDecl:
    """One C declaration (`const char *name`, `void (*cb)(void *)`, `char x[N]`): types with
    placeholders (named / structtag / enumtag) that Header resolution replaces."""

    def __init__(self, tokens):
        self.t = tokens if isinstance(tokens, list) else C_TOKEN.findall(tokens)
        self.i = 0

    def peek(self, k: int = 0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def specifiers(self) -> T:
        const, words, base = False, [], None
        while True:
            tok = self.peek()
            if tok is None:
                break
            if tok in C_QUALS:
                const |= tok == "const"
                self.i += 1
            elif tok in ("struct", "union", "enum"):
                self.i += 1
                base = T(tok + "tag", self.take() or "")
            elif tok in C_BASE_WORDS:
                words.append(tok)
                self.i += 1
            elif re.fullmatch(IDENT, tok) and base is None and not words:
                base = T("named", tok)
                self.i += 1
            else:
                break
        if base is None:
            base = c_base_from_words(words)
        return dataclasses.replace(base, const=const)

    def declarator(self, base: T) -> tuple[str | None, T]:
        t, pending_const = base, base.const
        while self.peek() == "*":
            self.i += 1
            t = ptr(t, const=pending_const)
            pending_const = False
            while self.peek() in C_QUALS:
                pending_const |= self.take() == "const"
        if self.peek() == "(" and self.peek(1) == "*":
            self.i += 1
            start, depth = self.i, 1
            while depth:
                tok = self.take()
                if tok is None:
                    raise ValueError("unbalanced parentheses")
                depth += tok == "("
                depth -= tok == ")"
            inner = self.t[start : self.i - 1]
            t = self.suffixes(t)
            return CDecl(inner).declarator(t)
        name = None
        if self.peek() is not None and re.fullmatch(IDENT, self.peek()):
            name = self.take()
        return name, self.suffixes(t)

    def suffixes(self, t: T) -> T:
        sfx = []
        while self.peek() in ("[", "("):
            if self.take() == "[":
                expr = []
                while self.peek() not in ("]", None):
                    expr.append(self.take())
                self.i += 1
                sfx.append(("arr", " ".join(expr)))
            else:
                params, cur, depth = [], [], 0
                while True:
                    tok = self.take()
                    if tok is None:
                        raise ValueError("unbalanced parentheses")
                    if tok == "(":
                        depth += 1
                    elif tok == ")":
                        if depth == 0:
                            break
                        depth -= 1
                    if tok == "," and depth == 0:
                        params.append(cur)
                        cur = []
                    else:
                        cur.append(tok)
                if cur:
                    params.append(cur)
                sfx.append(("fn", params))
        for kind, v in reversed(sfx):
            if kind == "arr":
                t = arr(t, v)
            else:
                args, names = [], []
                if v not in ([], [["void"]]):
                    for ptoks in v:
                        if ptoks == ["..."]:
                            args.append(unknown("..."))
                            names.append("...")
                            continue
                        d = CDecl(ptoks)
                        nm, at = d.declarator(d.specifiers())
                        if at.kind == "arr":  # array parameters are pointers
                            at = ptr(at.sub[0], const=at.sub[0].const)
                        args.append(at)
                        names.append(nm or f"arg{len(args)}")
                t = fn(t, args, names)
        return t


@dataclass
class CFunc:
    ret: T
    params: list[tuple[str, T]]

    @property
    def type(self) -> T:
        return fn(self.ret, [t for _, t in self.params], [n for n, _ in self.params])


@dataclass
class Header:
    functions: dict[str, CFunc] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)  # name -> int | str | None
    structs: dict[str, list[tuple[str, T]]] = field(default_factory=dict)  # name -> fields
    opaque: set[str] = field(default_factory=set)
    typedefs: dict[str, T] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)  # every typedef / tag name
    guards: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    # The names this header declares itself, when it includes another header (xnano_sim.h
    # includes xnano.h): only these are required of a binding; the included ones resolve
    # types and are compared where a binding declares them too. None: every name.
    own: set[str] | None = None
    label: str = ""

    def known(self) -> set[str]:
        return set(self.functions) | set(self.constants) | set(self.structs) | self.types | self.guards

    def is_own(self, name: str) -> bool:
        return self.own is None or name in self.own

    def kind_of(self, name: str) -> str:
        if name in self.functions:
            return "function"
        if name in self.structs:
            return "struct"
        if name in self.constants:
            return "constant"
        return "type"

    def callbacks(self) -> dict[str, T]:
        return {n: t for n, t in self.typedefs.items() if t.kind == "fn"}

    def field_names(self, s: str) -> list[str]:
        return [f for f, _ in self.structs.get(s, [])]


C17 = {"__STDC__": "1", "__STDC_VERSION__": "201710L"}
C23 = {"__STDC__": "1", "__STDC_VERSION__": "202311L"}


INCLUDE = re.compile(r'(?m)^[ \t]*#[ \t]*include[ \t]*"([^"]+)"[^\n]*$')


def read_with_includes(path: Path, include_dirs, missing: list[str], seen: tuple = ()) -> str:
    """The header's text with every `#include "X"` replaced by X's text (looked for next to
    the including file, then in include_dirs); <X> includes are left to the preprocessor
    (which ignores them). Include guards are evaluated as usual."""

    def inline(m):
        for d in (path.parent, *include_dirs):
            p = Path(d) / m.group(1)
            if p.is_file():
                if p.resolve() in seen:
                    return ""
                return read_with_includes(p, include_dirs, missing, seen + (p.resolve(),))
        missing.append(m.group(1))
        return m.group(0)

    return INCLUDE.sub(inline, path.read_text())


def parse_header(path: Path, config: dict[str, str] | None = None, include_dirs=(), base: "Header | None" = None) -> Header:
    """Parses a header (and the headers it includes with `#include "..."`). With `base` (the
    parsed included header), `own` becomes the names this header adds to it."""
    h = Header(label=str(path))
    missing: list[str] = []
    source = read_with_includes(path, include_dirs, missing, (path.resolve(),))
    for name in missing:
        h.problems.append(f"header {path.name}: #include \"{name}\" not found (next to it nor in {[str(d) for d in include_dirs]})")
    text, defines, _ = preprocess(strip_c_comments(source), config or C17)
    for name, value in defines:
        if not value:
            h.guards.add(name)
        else:
            h.constants[name] = parse_value(value, h.constants)

    # struct / union / enum bodies: recorded, then replaced by their tag.
    bodies: dict[tuple[str, str], str] = {}
    enum_base: dict[str, str] = {}
    out, pos, anon = [], 0, 0
    head = re.compile(rf"\b(struct|union|enum)\s*({IDENT})?\s*(?::\s*([^{{;()]+?))?\s*\{{")
    while True:
        m = head.search(text, pos)
        if not m:
            out.append(text[pos:])
            break
        depth, j = 1, m.end()
        while depth and j < len(text):
            depth += text[j] == "{"
            depth -= text[j] == "}"
            j += 1
        kw, tag = m.group(1), m.group(2)
        if not tag:
            anon += 1
            tag = f"__anonymous_{anon}"
        body = text[m.end() : j - 1]
        if "{" in body:
            h.problems.append(f"header: nested braces in {kw} {tag} are not supported")
        bodies[(kw, tag)] = body
        if kw == "enum" and m.group(3):
            enum_base[tag] = m.group(3).strip()
        out.append(text[pos : m.start()] + f" {kw} {tag} ")
        pos = j
        h.types.add(tag)
        if kw == "enum":
            nxt = 0
            for item in split_top(body):
                if "=" in item:
                    name, value = (s.strip() for s in item.split("=", 1))
                    v = parse_value(value, h.constants)
                else:
                    name, v = item, nxt
                if not re.fullmatch(IDENT, name):
                    raise SystemExit(f"check-bindings: cannot parse enum item {item!r} in {path}")
                h.constants[name] = v
                nxt = (v + 1) if isinstance(v, int) else None
    text = "".join(out)

    raw_typedefs: dict[str, T] = {}
    raw_functions: dict[str, T] = {}
    for stmt in text.split(";"):
        s = " ".join(stmt.split())
        if not s:
            continue
        try:
            if s.startswith("typedef "):
                d = CDecl(s[len("typedef ") :])
                name, t = d.declarator(d.specifiers())
                if name:
                    raw_typedefs[name] = t
                    h.types.add(name)
            elif "(" in s:
                d = CDecl(s)
                name, t = d.declarator(d.specifiers())
                if name and t.kind == "fn":
                    raw_functions[name] = t
        except (ValueError, IndexError) as e:
            h.problems.append(f"header: cannot parse {s!r}: {e}")
    for m in re.finditer(rf"\b(?:struct|union|enum)\s+({IDENT})", text):
        h.types.add(m.group(1))

    complete = {tag for (kw, tag) in bodies if kw in ("struct", "union")}

    def resolve(t: T, seen: tuple = ()) -> T:
        k = t.kind
        if k == "named":
            if t.name in C_STD_TYPES:
                return dataclasses.replace(C_STD_TYPES[t.name], const=t.const, alias=t.name)
            if t.name in raw_typedefs and t.name not in seen:
                r = resolve(raw_typedefs[t.name], seen + (t.name,))
                return dataclasses.replace(r, const=t.const or r.const, alias=t.name)
            return unknown(t.name)
        if k in ("structtag", "uniontag"):
            if k == "uniontag":
                return unknown(f"union {t.name}")
            return T("struct" if t.name in complete else "opaque", t.name, const=t.const, alias=f"struct {t.name}")
        if k == "enumtag":
            if t.name in enum_base:
                d = CDecl(enum_base[t.name])
                r = resolve(d.specifiers(), seen)
                return dataclasses.replace(r, const=t.const, alias=f"enum {t.name}")
            return T("enum", t.name, const=t.const, alias=f"enum {t.name}")
        if k == "ptr":
            return ptr(resolve(t.sub[0], seen), const=t.const)
        if k == "arr":
            n = t.n
            if isinstance(n, str):
                v = parse_value(n, h.constants) if n else None
                n = v if isinstance(v, int) else n
            return arr(resolve(t.sub[0], seen), n)
        if k == "fn":
            return fn(resolve(t.sub[0], seen), [resolve(a, seen) for a in t.sub[1:]], t.names)
        return t

    for name, t in raw_typedefs.items():
        h.typedefs[name] = aliased(resolve(t), name)
    for (kw, tag), body in bodies.items():
        if kw != "struct":
            continue
        fields = []
        for decl in body.split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            try:
                d = CDecl(decl)
                fname, ft = d.declarator(d.specifiers())
                if d.peek() == ":":
                    ft = unknown(f"bit-field {decl}")
            except (ValueError, IndexError) as e:
                h.problems.append(f"header: cannot parse field {decl!r} of struct {tag}: {e}")
                continue
            fields.append((fname or "?", resolve(ft)))
        name = tag
        if tag.startswith("__anonymous_"):  # typedef struct { ... } name;
            name = next((n for n, t in h.typedefs.items() if t.kind == "struct" and t.name == tag), tag)
        h.structs[name] = fields
    for tag in h.types:
        if tag not in complete and any(t.kind == "opaque" and t.name == tag for t in h.typedefs.values()):
            h.opaque.add(tag)
    for name, t in raw_functions.items():
        r = resolve(t)
        h.functions[name] = CFunc(r.sub[0], list(zip(r.names, r.sub[1:])))
    for where, t in [(f"function {n}", f.type) for n, f in h.functions.items()] + [
        (f"typedef {n}", t) for n, t in h.typedefs.items()
    ] + [(f"struct {s} field {f}", t) for s, fs in h.structs.items() for f, t in fs]:
        if contains(t, "unknown"):
            h.problems.append(f"header: {where}: cannot resolve the type {t}")
    if base is not None:
        h.own = h.known() - base.known()
    return h


def header_differences(a: Header, b: Header, label: str) -> list[str]:
    """What differs between two readings of the header (C17 and C23); of a header that
    includes another, only in its own items (the included header's are its own report)."""
    out = []
    for n in sorted(x for x in set(a.functions) | set(b.functions) if a.is_own(x)):
        fa, fb = a.functions.get(n), b.functions.get(n)
        if not fa or not fb or fa.type != fb.type:
            out.append(f"header: function {n} is {fa.type if fa else 'absent'} as C17, {fb.type if fb else 'absent'} as {label}")
    for n in sorted(x for x in set(a.structs) | set(b.structs) if a.is_own(x)):
        if a.structs.get(n) != b.structs.get(n):
            out.append(f"header: struct {n} differs between C17 and {label}")
    for n in sorted(x for x in set(a.typedefs) | set(b.typedefs) if a.is_own(x)):
        if a.typedefs.get(n) != b.typedefs.get(n):
            out.append(f"header: typedef {n} is {a.typedefs.get(n)} as C17, {b.typedefs.get(n)} as {label}")
    return out


def layout_program(h: Header, include: str = "xnano.h") -> str:
    lines = [
        "/* Generated by scripts/check-bindings.py --layout-c: prints struct layouts. */",
        "#include <stdio.h>",
        "#include <stddef.h>",
        f'#include "{include}"',
        "int main(void) {",
    ]
    for s, fields in h.structs.items():
        if not h.is_own(s):
            continue
        lines.append(f'  printf("{s} sizeof %zu\\n", sizeof(struct {s}));')
        for f, _ in fields:
            lines.append(f'  printf("{s} {f} %zu\\n", offsetof(struct {s}, {f}));')
    lines += ["  return 0;", "}"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ bindings: common


# Tests, build scripts and build output do not count as declarations.
SKIP = re.compile(r"(^|/)(tests?|Tests|build|dist|\.build|\.venv|venv|obj|bin)/|(^|/)(test_[^/]*|conftest|setup)\.py$")


@dataclass
class Source:
    path: Path
    rel: str
    raw: str
    text: str  # comments (and Python docstrings) stripped; line numbers kept except Python

    def line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def where(self, pos: int) -> str:
        return f"{self.rel}:{self.line(pos)}"


def read_sources(root: Path, pattern: str, strip) -> list[Source]:
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.glob(pattern)):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not SKIP.search(rel):
            raw = p.read_text()
            out.append(Source(p, rel, raw, strip(raw)))
    return out


def strip_python(text: str) -> str:
    """Source without comments and docstrings (via the AST)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return re.sub(r"#[^\n]*", "", text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            v = body[0].value
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                body[0] = ast.Pass()
    return ast.unparse(tree)


def words(text: str) -> set[str]:
    return set(re.findall(IDENT, text))


@dataclass
class FuncDecl:
    """A binding's declaration of one C function: ret/args None where not declared."""

    ret: T | None
    args: list[T] | None
    where: str
    names: list[str] = field(default_factory=list)


@dataclass
class Binding:
    name: str
    files: list[Source]
    allow: dict[str, str]
    text: str = ""
    # What the binding declares; None where the rule is "used" rather than "declared".
    functions: dict[str, list[FuncDecl]] | None = None
    constants: dict[str, object] | None = None
    structs: dict[str, list[tuple[str, T]] | None] | None = None
    callbacks: dict[str, tuple[T, str]] | None = None  # C typedef name -> (fn type, where)
    aliases: dict[str, tuple[T, str]] = field(default_factory=dict)  # C typedef name -> type
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: int = 0


SIZEOF_RES = [
    re.compile(r"\bsizeof\s*\(\s*(?:[\w]+\.)*(\w+)\s*\)"),  # ctypes.sizeof(X), C# sizeof(X)
    re.compile(r"Marshal\s*\.\s*SizeOf\s*<\s*(?:[\w]+\.)*(\w+)\s*>"),
    re.compile(r"Marshal\s*\.\s*SizeOf\s*\(\s*typeof\s*\(\s*(?:[\w]+\.)*(\w+)\s*\)"),
    re.compile(r"Unsafe\s*\.\s*SizeOf\s*<\s*(?:[\w]+\.)*(\w+)\s*>"),
    re.compile(r"MemoryLayout\s*<\s*(?:[\w]+\.)*(\w+)\s*>\s*\.\s*(size|stride)\b"),
]


def check_struct_size_uses(h: Header, b: Binding, var_type_patterns) -> None:
    """`x.struct_size = <sizeof T>` / `T(struct_size=<sizeof U>)`: T is the struct filled,
    has a struct_size field, and (Swift) `.stride` where `.size` would differ."""
    for src in b.files:
        text = src.text
        for m in re.finditer(r"\bstruct_size\b\s*[=:](?!=)\s*([^;\n,]*)", text):
            expr = m.group(1)
            sized = None
            for rx in SIZEOF_RES:
                sm = rx.search(expr)
                if sm:
                    sized = sm
                    break
            if not sized:
                continue
            tname = sized.group(1)
            where = src.where(m.start())
            if tname == "Self":  # Swift: the extended struct, or every conformer of the extended protocol
                ext = list(re.finditer(rf"\bextension\s+({IDENT})", text[: m.start()]))
                owner = ext[-1].group(1) if ext else None
                if owner in h.structs:
                    names = [owner]
                else:
                    names = sorted({
                        em.group(1)
                        for f in b.files
                        for em in re.finditer(rf"\bextension\s+({IDENT})\s*:[^{{]*\b{re.escape(owner or '-')}\b", f.text)
                        if em.group(1) in h.structs
                    })
                for tn in names:
                    check_sized(h, b, tn, tn, sized, where, f" (MemoryLayout<Self> in extension {owner})")
                continue
            # What is being filled: `v.struct_size = ...`, `X(struct_size=...)`, `new X { struct_size = ...`.
            before = text[max(0, m.start() - 400) : m.start()]
            filled = None
            am = re.search(rf"(?:\b|\.)({IDENT})\s*\.\s*$", before)
            if am:
                var = am.group(1)
                best = None
                for rx in var_type_patterns:
                    for vm in re.finditer(rx.replace("VAR", re.escape(var)), text[: m.start()]):
                        if best is None or vm.start() > best[0]:
                            best = (vm.start(), vm.group("type").split(".")[-1])
                filled = best[1] if best else None
            else:
                cm = re.search(rf"\b({IDENT})\s*(?:\(\s*\))?\s*[({{][^(){{}}]*$", before)
                if cm:
                    filled = cm.group(1)
            check_sized(h, b, tname, filled, sized, where, "")


def check_sized(h: Header, b: Binding, tname: str, filled: str | None, sized, where: str, how: str) -> None:
    if tname not in h.structs:
        if tname.startswith("xnano_"):
            b.problems.append(f"struct_size at {where}: sizeof of {tname}, which is not a struct of the header")
        return
    if "struct_size" not in h.field_names(tname):
        b.problems.append(f"struct_size at {where}: struct {tname} has no struct_size field in the header")
    if filled and filled in h.structs and filled != tname:
        b.problems.append(f"struct {filled}: struct_size set from the size of {tname} at {where}")
    if sized.re is SIZEOF_RES[-1] and sized.group(2) == "size":
        lay = struct_layout(h.structs[tname], h.structs)
        if lay and lay[0] != lay[2]:
            b.problems.append(
                f"struct {tname}: struct_size from MemoryLayout<{'Self' if how else tname}>.size ({lay[2]}) at {where}{how}; "
                f"C sizeof is {lay[0]} (trailing padding): use .stride"
            )


# ------------------------------------------------------------------ Python (ctypes)

PY_CTYPES = {
    "c_int8": P("i8"), "c_byte": P("i8"), "c_uint8": P("u8"), "c_ubyte": P("u8"),
    "c_int16": P("i16"), "c_short": P("i16"), "c_uint16": P("u16"), "c_ushort": P("u16"),
    "c_int32": P("i32"), "c_int": P("i32"), "c_uint32": P("u32"), "c_uint": P("u32"),
    "c_int64": P("i64"), "c_longlong": P("i64"), "c_uint64": P("u64"), "c_ulonglong": P("u64"),
    "c_long": P("long"), "c_ulong": P("ulong"), "c_size_t": P("usize"), "c_ssize_t": P("isize"),
    "c_float": P("f32"), "c_double": P("f64"), "c_bool": P("bool"), "c_char": P("char"),
    "c_wchar": P("wchar"), "c_char_p": ptr(P("char")), "c_wchar_p": ptr(P("wchar")),
    "c_void_p": ANYPTR,
}
PY_FUNCTYPES = {"CFUNCTYPE"}


class PyEnv:
    """Module-level names of the binding's Python files, resolved to normalised types."""

    def __init__(self, modules: dict[str, tuple[Source, ast.Module]]):
        self.modules = modules
        self.assign: dict[str, dict[str, ast.AST]] = {m: {} for m in modules}
        self.classes: dict[str, dict] = {}
        for mod, (_, tree) in modules.items():
            for node in self._toplevel(tree.body):
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for tg in targets:
                        if isinstance(tg, ast.Name) and node.value is not None:
                            self.assign[mod][tg.id] = node.value
                        elif isinstance(tg, ast.Attribute) and tg.attr == "_fields_" and isinstance(tg.value, ast.Name):
                            self.classes.setdefault(tg.value.id, {"mod": mod, "line": node.lineno})["fields"] = node.value
                elif isinstance(node, ast.ImportFrom) and node.module == "ctypes":
                    for a in node.names:
                        if a.asname:
                            self.assign[mod][a.asname] = ast.Name(a.name)
                elif isinstance(node, ast.ClassDef):
                    bases = [self.dotted(bs) for bs in node.bases]
                    if any(bs in ("Structure", "Union", "LittleEndianStructure", "BigEndianStructure") for bs in bases):
                        info = self.classes.setdefault(node.name, {"mod": mod, "line": node.lineno})
                        info.update(mod=mod, line=node.lineno, union="Union" in bases)
                        for st in node.body:
                            if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
                                if st.targets[0].id == "_fields_":
                                    info["fields"] = st.value
                                elif st.targets[0].id == "_pack_":
                                    info["pack"] = True

    @staticmethod
    def _toplevel(body):
        for node in body:
            yield node
            if isinstance(node, (ast.If, ast.Try)):
                yield from PyEnv._toplevel(node.body)
                yield from PyEnv._toplevel(getattr(node, "orelse", []))
                for hnd in getattr(node, "handlers", []):
                    yield from PyEnv._toplevel(hnd.body)

    @staticmethod
    def dotted(node) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return ""

    def lookup(self, name: str, mod: str | None):
        if mod in self.assign and name in self.assign[mod]:
            return mod, self.assign[mod][name]
        for m, names in self.assign.items():
            if name in names:
                return m, names[name]
        return None, None

    def callee(self, node, mod, depth=0) -> str:
        """The final name a callee expression refers to (`_P` -> POINTER)."""
        name = self.dotted(node)
        if depth < 6 and name and name not in PY_CTYPES and name not in {"POINTER"} | PY_FUNCTYPES:
            m, v = self.lookup(name, mod)
            if isinstance(v, (ast.Name, ast.Attribute)):
                return self.callee(v, m, depth + 1)
        return name

    def int_value(self, node, mod, depth=0):
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, (ast.Name, ast.Attribute)) and depth < 6:
            m, v = self.lookup(self.dotted(node), mod)
            return self.int_value(v, m, depth + 1) if v is not None else None
        if isinstance(node, ast.BinOp):
            a, b = self.int_value(node.left, mod, depth + 1), self.int_value(node.right, mod, depth + 1)
            if isinstance(a, int) and isinstance(b, int):
                ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}
                return ops.get(type(node.op))
        return None

    def type_of(self, node, mod, depth=0) -> T:
        if depth > 12:
            return unknown(ast.unparse(node))
        if isinstance(node, ast.Constant) and node.value is None:
            return VOID
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.named(self.dotted(node), mod, depth)
        if isinstance(node, ast.Call):
            f = self.callee(node.func, mod)
            if f == "POINTER" and len(node.args) == 1:
                return ptr(self.type_of(node.args[0], mod, depth + 1))
            if f in PY_FUNCTYPES and node.args:
                ret = self.type_of(node.args[0], mod, depth + 1)
                return fn(ret, [self.type_of(a, mod, depth + 1) for a in node.args[1:]])
            return unknown(ast.unparse(node))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            n = self.int_value(node.right, mod)
            return arr(self.type_of(node.left, mod, depth + 1), n if n is not None else ast.unparse(node.right))
        return unknown(ast.unparse(node))

    def named(self, name: str, mod, depth=0) -> T:
        if name in PY_CTYPES:
            return aliased(PY_CTYPES[name], name)
        if name in self.classes:
            c = self.classes[name]
            if c.get("union"):
                return unknown(f"Union {name}")
            return T("struct" if "fields" in c else "opaque", name)
        m, v = self.lookup(name, mod)
        if v is not None:
            return aliased(self.type_of(v, m, depth + 1), name)
        return unknown(name)

    def fields(self, node, mod, depth=0):
        """A `_fields_` expression -> [(name, type node)] or None."""
        if depth > 6:
            return None
        if isinstance(node, (ast.List, ast.Tuple)):
            out = []
            for e in node.elts:
                if isinstance(e, ast.Tuple) and len(e.elts) >= 2 and isinstance(e.elts[0], ast.Constant):
                    out.append((e.elts[0].value, e.elts[1] if len(e.elts) == 2 else None))
                else:
                    return None
            return out
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            a, b = self.fields(node.left, mod, depth + 1), self.fields(node.right, mod, depth + 1)
            return a + b if a is not None and b is not None else None
        if isinstance(node, ast.ListComp) and len(node.generators) == 1:
            g = node.generators[0]
            it = g.iter
            if isinstance(it, ast.Name):
                _, it = self.lookup(it.id, mod)
            if (
                isinstance(g.target, ast.Name)
                and isinstance(it, (ast.List, ast.Tuple))
                and all(isinstance(x, ast.Constant) and isinstance(x.value, str) for x in it.elts)
                and isinstance(node.elt, ast.Tuple)
                and len(node.elt.elts) == 2
                and isinstance(node.elt.elts[0], ast.Name)
                and node.elt.elts[0].id == g.target.id
                and not g.ifs
            ):
                return [(x.value, node.elt.elts[1]) for x in it.elts]
            return None
        if isinstance(node, ast.Name):
            m, v = self.lookup(node.id, mod)
            return self.fields(v, m, depth + 1) if v is not None else None
        return None


def python_binding(files: list[Source], h: Header, b: Binding, context: list[Source] = ()) -> None:
    """Reads the declarations of `files`; names are resolved across `files` and `context`
    (the simulator module's `xnano_console_info` comes from the main module)."""
    modules = {}
    declaring = set()
    for src in [*files, *[c for c in context if c not in files]]:
        try:
            modules[src.rel] = (src, ast.parse(src.raw))
        except SyntaxError as e:
            if src in files:
                b.problems.append(f"{src.rel}: syntax error: {e}")
            continue
        if src in files:
            declaring.add(src.rel)
    env = PyEnv(modules)
    b.functions, b.constants, b.structs, b.callbacks = {}, {}, {}, {}
    header_cbs = h.callbacks()

    for mod, (src, tree) in modules.items():
        if mod not in declaring:
            continue
        parents = {}
        for node in ast.walk(tree):
            for ch in ast.iter_child_nodes(node):
                parents[ch] = node
        # Constants.
        for node in PyEnv._toplevel(tree.body):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                target = node.targets[0].id
                if re.fullmatch(r"XNANO_[A-Z0-9_]+", target):
                    try:
                        b.constants[target] = ast.literal_eval(node.value)
                    except ValueError:
                        b.constants[target] = None  # computed (e.g. from the loaded library)
                elif target.startswith("xnano_") and target in h.typedefs and target not in env.classes:
                    t = env.type_of(node.value, mod)
                    where = f"{src.rel}:{node.lineno}"
                    if target in header_cbs:
                        b.callbacks[target] = (t, where)
                    else:
                        b.aliases[target] = (t, where)
                elif target == "FUNCTIONS" and isinstance(node.value, ast.Dict):
                    for k, v in zip(node.value.keys, node.value.values):
                        if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                            continue
                        where = f"{src.rel}:{k.lineno}"
                        if isinstance(v, ast.Tuple) and len(v.elts) == 2:
                            ret = env.type_of(v.elts[0], mod)
                            args_node = v.elts[1]
                            if isinstance(args_node, ast.Name):
                                _, args_node = env.lookup(args_node.id, mod)
                            args = [env.type_of(a, mod) for a in args_node.elts] if isinstance(args_node, (ast.List, ast.Tuple)) else None
                            if args is None:
                                b.problems.append(f"function {k.value}: argtypes at {where} is not a list")
                            b.functions.setdefault(k.value, []).append(FuncDecl(ret, args, where))
                        else:
                            b.problems.append(f"function {k.value}: FUNCTIONS entry at {where} is not (restype, [argtypes])")
                            b.functions.setdefault(k.value, []).append(FuncDecl(None, None, where))
        # `.restype` / `.argtypes` assignments: lib.xnano_f, getattr(lib, "xnano_f"), or a
        # variable bound to one of those.
        bound: dict[str, str] = {}

        def c_name(expr) -> str | None:
            if isinstance(expr, ast.Attribute) and expr.attr.startswith("xnano_"):
                return expr.attr
            if (
                isinstance(expr, ast.Call)
                and PyEnv.dotted(expr.func) == "getattr"
                and len(expr.args) >= 2
                and isinstance(expr.args[1], ast.Constant)
                and str(expr.args[1].value).startswith("xnano_")
            ):
                return expr.args[1].value
            if isinstance(expr, ast.Name):
                return bound.get(expr.id)
            return None

        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                cn = c_name(node.value)
                if cn:
                    bound[node.targets[0].id] = cn
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)):
                continue
            tg = node.targets[0]
            if tg.attr not in ("restype", "argtypes"):
                continue
            cn = c_name(tg.value)
            if not cn:
                continue
            where = f"{src.rel}:{node.lineno}"
            decl = FuncDecl(None, None, where)
            if tg.attr == "restype":
                decl.ret = env.type_of(node.value, mod)
            elif isinstance(node.value, (ast.List, ast.Tuple)):
                decl.args = [env.type_of(a, mod) for a in node.value.elts]
            else:
                b.problems.append(f"function {cn}: argtypes at {where} is not a list")
            b.functions.setdefault(cn, []).append(decl)

        cb_names = set(header_cbs)

        def cb_ref(expr) -> str | None:
            n = PyEnv.dotted(expr)
            return n if n in cb_names and isinstance(expr, (ast.Name, ast.Attribute)) else None

        def scope_of(node):
            p = parents.get(node)
            while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                p = parents.get(p)
            return p if p is not None else tree

        def arity(f) -> int | None:
            a = f.args
            if a.vararg is not None:
                return None
            return len(a.posonlyargs) + len(a.args)

        def check_arity(cb: str, f, node) -> None:
            n = arity(f)
            want = len(header_cbs[cb].sub) - 1
            if n is not None and n != want:
                what = "lambda" if isinstance(f, ast.Lambda) else f"function {f.name}"
                b.problems.append(
                    f"callback {cb}: the Python {what} wrapped at {src.rel}:{node.lineno} takes {n} arguments, the header's callback {want}"
                )

        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            # lib.xnano_f(...) argument count.
            if isinstance(node.func, ast.Attribute) and node.func.attr in h.functions:
                if not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args):
                    want = len(h.functions[node.func.attr].params)
                    if len(node.args) != want:
                        b.problems.append(
                            f"function {node.func.attr}: called with {len(node.args)} arguments at {src.rel}:{node.lineno}, the header has {want}"
                        )
            # xnano_x_callback(f): f's arity.
            cb = cb_ref(node.func)
            if cb and len(node.args) == 1:
                a = node.args[0]
                if isinstance(a, ast.Lambda):
                    check_arity(cb, a, node)
                elif isinstance(a, ast.Name):
                    scope = scope_of(node)
                    for d in ast.walk(scope):
                        if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef)) and d.name == a.id:
                            check_arity(cb, d, node)
                            break
    for name, info in env.classes.items():
        if not name.startswith("xnano_") or info["mod"] not in declaring:
            continue
        mod = info["mod"]
        where = f"{modules[mod][0].rel}:{info['line']}"
        if info.get("pack"):
            b.problems.append(f"struct {name}: _pack_ at {where} (the header's structs have natural alignment)")
        if "fields" not in info:
            b.structs[name] = None
            continue
        fl = env.fields(info["fields"], mod)
        if fl is None:
            b.problems.append(f"struct {name}: cannot read _fields_ at {where}")
            b.structs[name] = None
            continue
        b.structs[name] = [
            (fname, env.type_of(tnode, mod) if tnode is not None else unknown("bit-field")) for fname, tnode in fl
        ]
    for name in header_cbs:
        if name not in b.callbacks:
            m, v = env.lookup(name, None)
            if v is not None:
                b.callbacks[name] = (env.type_of(v, m), "?")
    check_struct_size_uses(
        h,
        b,
        [
            r"\bVAR\s*=\s*(?:[\w]+\.)*(?P<type>\w+)\s*\(",
            r"\bVAR\s*:\s*(?:[\w]+\.)*(?P<type>\w+)",
        ],
    )


# ------------------------------------------------------------------ C# (P/Invoke)

CS_PRIMS = {
    "sbyte": P("i8"), "SByte": P("i8"), "byte": P("u8"), "Byte": P("u8"),
    "short": P("i16"), "Int16": P("i16"), "ushort": P("u16"), "UInt16": P("u16"),
    "int": P("i32"), "Int32": P("i32"), "uint": P("u32"), "UInt32": P("u32"),
    "long": P("i64"), "Int64": P("i64"), "ulong": P("u64"), "UInt64": P("u64"),
    "float": P("f32"), "Single": P("f32"), "double": P("f64"), "Double": P("f64"),
    "char": P("char16"), "Char": P("char16"), "void": VOID, "Void": VOID,
    "IntPtr": ANYPTR, "nint": ANYPTR, "UIntPtr": P("usize"), "nuint": P("usize"),
    "StringBuilder": ptr(P("char")),
}
CS_MARSHAL_PRIMS = {
    "I1": P("i8"), "U1": P("u8"), "I2": P("i16"), "U2": P("u16"), "I4": P("i32"), "U4": P("u32"),
    "I8": P("i64"), "U8": P("u64"), "R4": P("f32"), "R8": P("f64"), "SysInt": ANYPTR, "SysUInt": P("usize"),
}


def cs_strip(text: str) -> str:
    """Comments and preprocessor lines removed (line count kept)."""
    text = strip_c_comments(text)
    return re.sub(r"(?m)^[ \t]*#[^\n]*", "", text)


def skip_string(text: str, i: int) -> int:
    """Index after the string or char literal starting at i (C#, Swift)."""
    n = len(text)
    if text[i] == "'":
        j = i + 1
        while j < n and text[j] not in "'\n":
            j += 2 if text[j] == "\\" else 1
        return j + 1
    verbatim = i > 0 and text[i - 1] == "@"  # C# @"..." (and $@"...")
    if text.startswith('"""', i):
        j = text.find('"""', i + 3)
        return n if j < 0 else j + 3
    j = i + 1
    while j < n:
        if text[j] == "\\" and not verbatim:
            j += 2
            continue
        if text[j] == '"':
            if verbatim and text.startswith('""', j):
                j += 2
                continue
            return j + 1
        j += 1
    return n


def cs_pieces(text: str):
    """(kind, text, start, containers) for every statement ('stmt', ended by ;), block
    header ('open', ended by {) and block tail ('close', text before }); containers is the
    stack of (kind, name) of the enclosing blocks."""
    stack: list[tuple[str, str, str]] = []
    start, i, n = 0, 0, len(text)
    header = re.compile(rf"\b(struct|class|enum|interface|namespace|record)\s+((?:{IDENT}\.)*{IDENT})(?:\s*:\s*([^{{]*))?\s*$")
    while i < n:
        c = text[i]
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c in ";{}":
            piece = text[start:i]
            if c == ";":
                yield "stmt", piece, start, tuple(stack)
            elif c == "{":
                m = header.search(piece)
                kind, name, base = (m.group(1), m.group(2), (m.group(3) or "").strip()) if m else ("block", "", "")
                yield "open", piece, start, tuple(stack)
                stack.append((kind, name, base))
            else:
                yield "close", piece, start, tuple(stack)
                if stack:
                    stack.pop()
            start = i + 1
        i += 1


def split_attrs(s: str) -> tuple[list[str], str]:
    attrs = []
    s = s.strip()
    while s.startswith("["):
        depth, j = 0, 0
        while j < len(s):
            depth += s[j] == "["
            depth -= s[j] == "]"
            j += 1
            if depth == 0:
                break
        attrs.append(s[1 : j - 1])
        s = s[j:].strip()
    return attrs, s


def marshal_of(attrs: list[str], ret: bool = False):
    """(UnmanagedType name, SizeConst text) of a [MarshalAs] among attrs."""
    for a in attrs:
        if a.strip().startswith("return:") != ret:
            continue
        m = re.search(r"MarshalAs\s*\(\s*(?:[\w.]*\.)?UnmanagedType\s*\.\s*(\w+)", a)
        if m:
            sc = re.search(r"SizeConst\s*=\s*([^,)\]]+)", a)
            return m.group(1), (sc.group(1).strip() if sc else None)
    return None, None


@dataclass
class CsCtx:
    h: Header
    consts: dict[str, object]
    structs: set[str]
    enums: dict[str, T]
    delegates: dict[str, tuple]  # name -> (ret text, params text, attrs, where)
    safehandles: set[str]

    def size(self, text: str):
        text = text.strip()
        v = parse_value(re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", text), {**self.h.constants, **{k: v for k, v in self.consts.items() if isinstance(v, int)}})
        return v if isinstance(v, int) else text


def cs_type(text: str, marshal, size, ctx: CsCtx, role: str, depth: int = 0) -> T:
    text = " ".join(text.split()).replace("global::", "")
    text = re.sub(r"^(?:System\.(?:Text\.|Runtime\.InteropServices\.)?)", "", text)
    if depth > 8:
        return unknown(text)
    m = re.fullmatch(r"delegate\s*\*\s*unmanaged\s*(\[[^\]]*\])?\s*<(.*)>", text)
    if m:
        parts = [cs_type(p, None, None, ctx, "param", depth + 1) for p in split_top(m.group(2))]
        return fn(parts[-1], parts[:-1]) if parts else unknown(text)
    if text.endswith("[]"):
        elem = text[:-2].strip()
        if marshal == "ByValArray":
            et = cs_type(elem, None, None, ctx, "field", depth + 1)
            return arr(et, ctx.size(size) if size else "?")
        if role == "field":
            return unknown(f"{text} without [MarshalAs(UnmanagedType.ByValArray, SizeConst = N)]")
        return ptr(cs_type(elem, None, None, ctx, "field", depth + 1))
    if text.endswith("*"):
        inner = text[:-1].strip()
        return ANYPTR if inner == "void" else ptr(cs_type(inner, None, None, ctx, "field", depth + 1))
    if text in ("bool", "Boolean"):
        return P("bool") if marshal in ("U1", "I1") else (BOOL32 if marshal in (None, "Bool") else unknown(f"bool as {marshal}"))
    if text in ("string", "String"):
        if marshal == "ByValTStr":
            return arr(P("char"), ctx.size(size) if size else "?")
        if marshal in ("LPWStr", "BStr"):
            return ptr(P("u16"))
        return ptr(P("char"))
    if marshal in CS_MARSHAL_PRIMS and text not in ("IntPtr", "UIntPtr"):
        return CS_MARSHAL_PRIMS[marshal]
    if text in CS_PRIMS:
        return aliased(CS_PRIMS[text], text)
    short = text.split(".")[-1]
    if short in ctx.delegates:
        rt, ps, attrs, _ = ctx.delegates[short]
        return aliased(cs_signature(rt, ps, attrs, ctx, depth + 1), short)
    if short in ctx.enums:
        return aliased(ctx.enums[short], short)
    if short in ctx.structs:
        return T("struct", short)
    if short in ctx.safehandles:
        return aliased(ANYPTR, short)
    return unknown(text)


def cs_param(p: str, ctx: CsCtx, depth: int = 0) -> tuple[str, T]:
    attrs, rest = split_attrs(p)
    rest = re.sub(r"\s*=(?!=).*$", "", rest).strip()
    mods = []
    while True:
        m = re.match(r"(ref|out|in|params|this|scoped|readonly)\s+", rest)
        if not m:
            break
        mods.append(m.group(1))
        rest = rest[m.end() :]
    parts = rest.rsplit(None, 1)
    if len(parts) != 2:
        return rest, unknown(p)
    typ, name = parts
    marshal, size = marshal_of(attrs)
    t = cs_type(typ, marshal, size, ctx, "param", depth)
    if any(x in mods for x in ("ref", "out", "in")):
        t = ptr(t)
    return name.lstrip("@"), t


def cs_signature(ret: str, params: str, attrs: list[str], ctx: CsCtx, depth: int = 0) -> T:
    rm, rs = marshal_of(attrs, ret=True)
    r = cs_type(ret, rm, rs, ctx, "ret", depth)
    ps = [cs_param(p, ctx, depth) for p in split_top(params)]
    return fn(r, [t for _, t in ps], [n for n, _ in ps])


def csharp_binding(files: list[Source], h: Header, b: Binding, context: list[Source] = ()) -> None:
    """Reads the declarations of `files`; struct, enum, delegate, SafeHandle and constant
    names are resolved across `files` and `context` (the simulator assembly's
    `ref xnano_console_info` is the main assembly's struct)."""
    b.functions, b.constants, b.structs, b.callbacks = {}, {}, {}, {}
    externs = []  # (c name, ret, params, attrs, where)
    struct_fields: dict[str, list] = {}
    struct_attrs: dict[str, tuple[list[str], str]] = {}
    context_structs: set[str] = set()
    enums: dict[str, T] = {}
    delegates: dict[str, tuple] = {}
    own_delegates: set[str] = set()
    own_enums: set[str] = set()
    classes: dict[str, str] = {}
    consts: dict[str, object] = {}
    own_consts: dict[str, object] = {}
    for src in [*[c for c in context if c not in files], *files]:
        declaring = src in files
        text = src.text
        for m in re.finditer(rf"\bconst\s+[\w.]+\s+({IDENT})\s*=\s*([^;]+);", text):
            consts[m.group(1)] = parse_value(m.group(2), {})
            if declaring:
                own_consts[m.group(1)] = consts[m.group(1)]
        for kind, piece, start, stack in cs_pieces(text):
            if not declaring:
                # Context: only the names of types (and their widths) matter.
                body = " ".join(split_attrs(piece)[1].split())
                if kind == "open":
                    m = re.search(rf"\b(struct|class|enum|record)\s+({IDENT})(?:\s*:\s*([^{{]*))?\s*$", body)
                    if m and m.group(1) == "struct":
                        context_structs.add(m.group(2))
                    elif m and m.group(1) == "enum":
                        base = (m.group(3) or "int").strip().split(".")[-1]
                        enums[m.group(2)] = CS_PRIMS.get(base, unknown(f"enum base {base}"))
                    elif m and m.group(1) == "class":
                        classes[m.group(2)] = (m.group(3) or "").strip()
                elif kind == "stmt":
                    m = re.search(rf"\bdelegate\s+(?!\*)(.+?)\s+({IDENT})\s*\((.*)\)\s*$", body)
                    if m:
                        delegates[m.group(2)] = (m.group(1), m.group(3), split_attrs(piece)[0], src.where(start))
                continue
            attrs, body = split_attrs(piece)
            body = " ".join(body.split())
            where = src.where(start + len(piece) - len(piece.lstrip()))
            container = stack[-1] if stack else ("", "", "")
            if kind == "open":
                m = re.search(rf"\b(struct|class|enum|record)\s+({IDENT})(?:\s*:\s*([^{{]*))?\s*$", body)
                if m and m.group(1) == "struct":
                    struct_attrs[m.group(2)] = (attrs, where)
                    struct_fields.setdefault(m.group(2), [])
                elif m and m.group(1) == "enum":
                    base = (m.group(3) or "int").strip().split(".")[-1]
                    enums[m.group(2)] = CS_PRIMS.get(base, unknown(f"enum base {base}"))
                    own_enums.add(m.group(2))
                elif m and m.group(1) == "class":
                    classes[m.group(2)] = (m.group(3) or "").strip()
                continue
            if kind != "stmt":
                continue
            m = re.search(rf"\bdelegate\s+(?!\*)(.+?)\s+({IDENT})\s*\((.*)\)\s*$", body)
            if m:
                delegates[m.group(2)] = (m.group(1), m.group(3), attrs, where)
                own_delegates.add(m.group(2))
                continue
            m = re.search(rf"\b(extern|partial)\s+(.+?)\s+({IDENT})\s*\((.*)\)\s*$", body)
            if m and (m.group(1) == "extern" or any(re.match(r"\s*LibraryImport\b", a) for a in attrs)):
                cname = m.group(3)
                for a in attrs:
                    ep = re.search(r'EntryPoint\s*=\s*"([^"]+)"', a)
                    if ep:
                        cname = ep.group(1)
                    cc = re.search(r"CallingConvention\s*=\s*(?:[\w.]*\.)?CallingConvention\s*\.\s*(\w+)", a)
                    if cc and cc.group(1) != "Cdecl":
                        b.problems.append(f"function {cname}: CallingConvention.{cc.group(1)} at {where} (the library is cdecl)")
                externs.append((cname, m.group(2), m.group(4), attrs, where))
                continue
            if container[0] == "struct":
                if re.search(r"\b(static|const)\b|=>|\(", body):
                    continue
                fm = re.fullmatch(
                    rf"(?:(?:public|internal|private|protected|readonly|volatile|unsafe|new)\s+)*(fixed\s+)?(.+?)\s+({IDENT})\s*(?:\[([^\]]+)\])?\s*(?:=.*)?",
                    body,
                )
                if fm:
                    struct_fields.setdefault(container[1], []).append((fm.group(3), fm.group(2), bool(fm.group(1)), fm.group(4), attrs, where))
    # SafeHandle subclasses (transitively) are pointers when marshalled.
    safe = {"SafeHandle", "SafeHandleZeroOrMinusOneIsInvalid", "SafeHandleMinusOneIsInvalid", "CriticalHandle"}
    changed = True
    while changed:
        changed = False
        for c, base in classes.items():
            first = base.split(",")[0].strip().split(".")[-1] if base else ""
            if c not in safe and first in safe:
                safe.add(c)
                changed = True
    ctx = CsCtx(h, consts, set(struct_fields) | context_structs, enums, delegates, safe)
    b.constants = own_consts
    header_cbs = h.callbacks()
    used_delegates: set[str] = set()
    for cname, ret, params, attrs, where in externs:
        sig = cs_signature(ret, params, attrs, ctx)
        for t in sig.sub:
            if t.kind == "fn" and t.alias:
                used_delegates.add(t.alias)
        if re.sub(r"\s", "", ret) in ("string", "String", "System.String"):
            b.problems.append(
                f"function {cname}: returns string at {where}; the marshaller would free the library's string (use IntPtr)"
            )
        b.functions.setdefault(cname, []).append(FuncDecl(sig.sub[0], list(sig.sub[1:]), where, list(sig.names)))
    for name, (ret, params, attrs, where) in delegates.items():
        if name not in own_delegates:
            continue
        if name in header_cbs or name in used_delegates:
            ufp = [a for a in attrs if re.match(r"\s*(?:[\w.]*\.)?UnmanagedFunctionPointer\b", a)]
            if not ufp:
                b.problems.append(f"callback {name}: delegate at {where} lacks [UnmanagedFunctionPointer(CallingConvention.Cdecl)]")
            else:
                cc = re.search(r"CallingConvention\s*\.\s*(\w+)", ufp[0])
                if cc and cc.group(1) != "Cdecl":
                    b.problems.append(f"callback {name}: delegate at {where} is CallingConvention.{cc.group(1)} (the library calls it cdecl)")
        if name in header_cbs:
            b.callbacks[name] = (cs_signature(ret, params, attrs, ctx), where)
    for sname, fields in struct_fields.items():
        attrs, where = struct_attrs.get(sname, ([], "?"))
        for a in attrs:
            lk = re.search(r"StructLayout\s*\(\s*(?:[\w.]*\.)?LayoutKind\s*\.\s*(\w+)", a)
            if lk and lk.group(1) != "Sequential":
                b.problems.append(f"struct {sname}: LayoutKind.{lk.group(1)} at {where} (the header's structs are sequential)")
            pk = re.search(r"\bPack\s*=\s*(\w+)", a)
            if pk and pk.group(1) != "0":
                b.problems.append(f"struct {sname}: Pack = {pk.group(1)} at {where} (the header's structs have natural alignment)")
        out = []
        for fname, ftype, fixed, n, fattrs, _ in fields:
            marshal, size = marshal_of(fattrs)
            if fixed:
                t = arr(cs_type(ftype, None, None, ctx, "field"), ctx.size(n) if n else "?")
            else:
                t = cs_type(ftype, marshal, size, ctx, "field")
            out.append((fname, t))
        b.structs[sname] = out
    for name in h.typedefs:
        if name in own_enums and name not in header_cbs:
            b.aliases[name] = (enums[name], "enum")
    check_struct_size_uses(
        h,
        b,
        [
            r"\b(?!(?:var|ref|out|in|return|new|await|yield|case|else|is|as|readonly|const|static)\b)(?P<type>[\w.]+)\s+VAR\s*[=;,)]",
            r"\bVAR\s*=\s*new\s+(?P<type>[\w.]+)",
            r"\bout\s+(?P<type>[\w.]+)\s+VAR\b",
        ],
    )


# ------------------------------------------------------------------ Swift

SWIFT_PRIMS = {
    "Int8": P("i8"), "UInt8": P("u8"), "Int16": P("i16"), "UInt16": P("u16"), "Int32": P("i32"),
    "UInt32": P("u32"), "Int64": P("i64"), "UInt64": P("u64"), "Int": P("isize"), "UInt": P("usize"),
    "Float": P("f32"), "Float32": P("f32"), "Double": P("f64"), "Float64": P("f64"), "Bool": P("bool"),
    "CChar": P("char"), "CSignedChar": P("i8"), "CUnsignedChar": P("u8"), "CShort": P("i16"),
    "CUnsignedShort": P("u16"), "CInt": P("i32"), "CUnsignedInt": P("u32"), "CLong": P("long"),
    "CUnsignedLong": P("ulong"), "CLongLong": P("i64"), "CUnsignedLongLong": P("u64"),
    "CFloat": P("f32"), "CDouble": P("f64"), "CBool": P("bool"), "Void": VOID, "()": VOID,
}


def balanced(text: str, i: int) -> int:
    """Index after the bracket group opening at text[i] (strings skipped)."""
    pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
    stack, n = [], len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = skip_string(text, i)
            continue
        if c in "([{":
            stack.append(pairs[c])
        elif c in ")]}":
            if stack and stack[-1] == c:
                stack.pop()
            if not stack:
                return i + 1
        i += 1
    return n


def swift_args(text: str, open_i: int) -> tuple[list[tuple[str, int]], int]:
    """The top-level arguments of the call whose '(' is at open_i: [(text, start)], end."""
    end = balanced(text, open_i)
    inner_start = open_i + 1
    args, depth, cur_start, i = [], 0, inner_start, inner_start
    while i < end - 1:
        c = text[i]
        if c == '"':
            i = skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            args.append((text[cur_start:i], cur_start))
            cur_start = i + 1
        i += 1
    last = text[cur_start : end - 1]
    if last.strip() or args:
        args.append((last, cur_start))
    return args, end


class SwiftTypes:
    def __init__(self, h: Header, aliases: dict[str, str]):
        self.h, self.aliases = h, aliases

    def parse_fn(self, text: str, i: int) -> tuple[T | None, int]:
        """A function type `(A, B) -> R` starting at text[i] (after @convention(c))."""
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] != "(":
            return None, i
        end = balanced(text, i)
        params = [self.type(p) for p in split_top(text[i + 1 : end - 1])]
        m = re.match(r"\s*(?:throws\s*)?->\s*", text[end:])
        if not m:
            return None, end
        j = end + m.end()
        rm = re.match(r"\(\s*\)|@convention\s*\(\s*c\s*\)|[\w.]+(?:\s*<)?", text[j:])
        if not rm:
            return None, j
        if rm.group(0).startswith("@convention"):
            r, k = self.parse_fn(text, j + rm.end())
            return (fn(r, params) if r else None), k
        k = j + rm.end()
        if rm.group(0).endswith("<"):
            depth = 1
            while k < len(text) and depth:
                depth += text[k] == "<"
                depth -= text[k] == ">"
                k += 1
        while k < len(text) and text[k] in "?!":
            k += 1
        return fn(self.type(text[j:k]), params), k

    def type(self, text: str, depth: int = 0) -> T:
        t = " ".join(text.split())
        t = re.sub(r"^(?:\w+\s*:\s*)", "", t) if re.match(r"^\w+\s+\w+\s*:|^_\s+\w+\s*:|^\w+\s*:", t) else t
        t = t.strip()
        while t.endswith(("?", "!")):
            t = t[:-1].strip()
        if depth > 8:
            return unknown(t)
        if t.startswith("@convention"):
            m = re.match(r"@convention\s*\(\s*c\s*\)", t)
            if not m:
                return unknown(t)
            r, _ = self.parse_fn(t, m.end())
            return r or unknown(t)
        if t.startswith("(") and balanced(t, 0) == len(t) and t != "()":
            return self.type(t[1:-1], depth + 1)
        if t in SWIFT_PRIMS:
            return aliased(SWIFT_PRIMS[t], t)
        if t in ("UnsafeMutableRawPointer", "UnsafeRawPointer"):
            return ptr(VOID, const=t == "UnsafeRawPointer")
        if t == "OpaquePointer":
            return ptr(T("opaque", "*"))
        m = re.fullmatch(r"(UnsafePointer|UnsafeMutablePointer)\s*<(.*)>", t)
        if m:
            return ptr(self.type(m.group(2), depth + 1), const=m.group(1) == "UnsafePointer")
        if t in self.h.typedefs:
            return self.h.typedefs[t]
        if t in self.h.structs:
            return T("struct", t)
        if t in self.aliases:
            return self.type(self.aliases[t], depth + 1)
        return unknown(t)


def closure_signature(text: str) -> tuple[int | None, list[T | None] | None, str | None]:
    """(arity, annotated parameter type texts, return type text) of a closure literal
    `{ a, b in ... }`, `{ (a: T, b: U) -> R in ... }` or `{ $0 ... }`."""
    body = text.strip()[1:]
    s = body.lstrip()
    if s.startswith("["):  # capture list
        s = s[balanced(s, 0) :].lstrip()
    m = re.match(r"\(", s)
    if m:
        end = balanced(s, 0)
        rest = s[end:]
        rm = re.match(r"\s*(?:throws\s*)?(?:->\s*([^{}]+?))?\s*\bin\b", rest)
        if rm:
            params = split_top(s[1 : end - 1])
            types = []
            for p in params:
                pm = re.match(r"\s*(?:\w+\s+)?\w+\s*:\s*(.+)$", p)
                types.append(pm.group(1).strip() if pm else None)
            return len(params), types, (rm.group(1).strip() if rm.group(1) else None)
    m = re.match(r"((?:\s*\w+\s*,)*\s*\w+)\s+in\b", s)
    if m and not re.match(r"\s*(?:return|let|var|if|guard|for|while|switch|_\s*=)\b", s):
        names = [x.strip() for x in m.group(1).split(",")]
        return len(names), [None] * len(names), None
    dollars = [int(x) for x in re.findall(r"\$(\d+)", body)]
    return (max(dollars) + 1 if dollars else 0), None, None


SWIFT_CONVERSIONS = re.compile(r"(Int8|UInt8|Int16|UInt16|Int32|UInt32|Int64|UInt64|Int|UInt|Float|Double|Bool|CInt|CUnsignedInt|CChar|CShort|CUnsignedShort|CLongLong|CUnsignedLongLong)\s*\(")


def blank_strings(text: str) -> str:
    """String literal contents replaced by spaces (same length and lines): code only."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == '"':
            j = skip_string(text, i)
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1 : j - 1]) + '"')
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def swift_binding(files: list[Source], h: Header, b: Binding, context: list[Source] = ()) -> None:
    """Checks the calls of `files`; typealiases and named callbacks are also taken from
    `context` (the targets the files' target depends on)."""
    literal_texts = {src.rel: src.text for src in files}
    others = [dataclasses.replace(src, text=blank_strings(src.text)) for src in context if src not in files]
    files = [dataclasses.replace(src, text=blank_strings(src.text)) for src in files]
    aliases: dict[str, str] = {}
    for src in [*others, *files]:
        for m in re.finditer(rf"\btypealias\s+({IDENT})\s*=\s*([^\n]+)", src.text):
            aliases[m.group(1)] = m.group(2).strip()
    st = SwiftTypes(h, aliases)
    # Named callbacks: `let NAME: TYPE = {closure}` and `func NAME(params) -> R`.
    named: dict[str, tuple[T | None, tuple | None, str]] = {}  # name -> (declared type, closure sig, where)
    own_rels = {src.rel for src in files}
    from_others: set[str] = set()  # named entries that come from context files
    for src in [*others, *files]:  # the files' own declarations win
        text = src.text
        for m in re.finditer(rf"\b(?:let|var)\s+({IDENT})\s*:\s*", text):
            j = m.end()
            tm = re.match(r"@convention\s*\(\s*c\s*\)", text[j:])
            if tm:
                dt, k = st.parse_fn(text, j + tm.end())
            else:
                tm = re.match(r"[\w.]+(?:<[^=\n]*>)?[?!]?", text[j:])
                if not tm:
                    continue
                k = j + tm.end()
                dt = st.type(tm.group(0))
                if dt.kind != "fn":
                    continue
            fm = re.match(r"\s*=\s*(xnano_\w+)\b(?!\s*\()", text[k:])
            if fm and fm.group(1) in h.functions and dt is not None and src.rel in own_rels:  # a C function as a fn pointer
                cf = h.functions[fm.group(1)]
                if not compatible(cf.type, dt):
                    b.problems.append(f"function {fm.group(1)}: the Swift @convention(c) type at {src.where(m.start())}: {mismatch(cf.type, dt)}")
            sig = None
            em = re.match(r"\s*=\s*\{", text[k:])
            if em:
                o = k + em.end() - 1
                sig = closure_signature(text[o : balanced(text, o)])
            named[m.group(1)] = (dt, sig, src.where(m.start()))
            if src.rel in own_rels:
                from_others.discard(m.group(1))
            else:
                from_others.add(m.group(1))
        for m in re.finditer(rf"\bfunc\s+({IDENT})\s*\(", text):
            o = m.end() - 1
            end = balanced(text, o)
            params = split_top(text[o + 1 : end - 1])
            types = []
            for p in params:
                pm = re.match(r"\s*(?:\w+\s+)?\w+\s*:\s*(.+)$", p)
                types.append(pm.group(1).strip() if pm else None)
            rm = re.match(r"\s*(?:throws\s*)?(?:->\s*([\w.<>?!]+|\(\s*\)))?", text[end:])
            entry = (None, (len(params), types, rm.group(1) if rm else None), src.where(m.start()))
            if m.group(1) not in named or m.group(1) in from_others and src.rel in own_rels:
                named[m.group(1)] = entry
            if src.rel not in own_rels:
                from_others.add(m.group(1))
            elif m.group(1) in from_others and named[m.group(1)] is entry:
                from_others.discard(m.group(1))

    def check_closure(cb: T, sig, what: str, where: str) -> None:
        n, types, ret = sig
        want = len(cb.sub) - 1
        if n is not None and n != want:
            b.problems.append(f"{what}: the Swift closure at {where} takes {n} arguments, the header's callback {want}")
            return
        for i, tt in enumerate(types or []):
            if tt is None:
                continue
            bt = st.type(tt)
            if not compatible(cb.sub[i + 1], bt):
                b.problems.append(f"{what}: argument {i + 1} of the Swift closure at {where}: {mismatch(cb.sub[i + 1], bt)}")
        if ret is not None:
            bt = st.type(ret)
            if not compatible(cb.sub[0], bt):
                b.problems.append(f"{what}: return type of the Swift closure at {where}: {mismatch(cb.sub[0], bt)}")

    attributed: set[tuple[str, int]] = set()
    header_cbs = h.callbacks()
    # Closures declared with a callback typedef's type.
    for name, (dt, sig, where) in named.items():
        if name in from_others:
            continue  # checked with the files that declare it
        if dt is not None and dt.alias in header_cbs and sig is not None:
            check_closure(header_cbs[dt.alias], sig, f"callback {dt.alias}", where)
    for src in files:
        text = src.text
        for m in re.finditer(r"(?<![\w.])(xnano_\w+)\s*\(", text):
            name = m.group(1)
            if re.search(r"\bfunc\s+$", text[max(0, m.start() - 10) : m.start()]):
                continue
            o = m.end() - 1
            args, end = swift_args(text, o)
            where = src.where(m.start())
            if name in h.structs:
                labels = [re.match(rf"\s*({IDENT})\s*:(?!:)", a) for a, _ in args]
                if args and all(labels):
                    got = [lm.group(1) for lm in labels]
                    want = h.field_names(name)
                    if got != want:
                        b.problems.append(f"struct {name}: the Swift initialiser at {where} names the fields {got}, the header's are {want}")
                continue
            if name not in h.functions:
                continue
            cf = h.functions[name]
            trailing = re.match(r"[ \t]*\{", text[end:])
            line_start = text.rfind("\n", 0, m.start()) + 1
            if trailing and not re.match(r"\s*(?:\}\s*else\s+)?(if|guard|while|switch|for)\b", text[line_start : m.start()]):
                t_o = end + trailing.end() - 1
                args.append((text[t_o : balanced(text, t_o)], t_o))
            if len(args) != len(cf.params):
                b.problems.append(f"function {name}: called with {len(args)} arguments at {where}, the header has {len(cf.params)}")
                continue
            # The result of a void function must not be used.
            if cf.ret.kind == "void":
                before = text[line_start : m.start()]
                after = text[end : end + 20]
                if (
                    re.search(r"(?:\blet|\bvar)\s+\w+(?:\s*:\s*[\w.]+)?\s*=\s*(?:try\s+)?$|(?<![\w_])[A-Za-z]\w*\s*=\s*$|\bcheck\s*\(\s*$", before)
                    or re.match(r"\s*(==|!=)", after)
                ):
                    b.problems.append(f"function {name} returns void in the header; the Swift code uses its result at {where}")
            for i, ((a, a_start), (pname, pt)) in enumerate(zip(args, cf.params)):
                a = a.strip()
                label = f"function {name}: argument {i + 1} ({pname}) at {where}"
                if a == "nil":
                    if pt.kind not in ("ptr", "fn"):
                        b.problems.append(f"{label}: nil passed, the header has {describe(pt)}")
                elif a.startswith("&"):
                    if pt.kind != "ptr":
                        b.problems.append(f"{label}: a pointer (&) passed, the header has {describe(pt)}")
                elif a.startswith("{"):
                    if pt.kind != "fn":
                        b.problems.append(f"{label}: a closure passed, the header has {describe(pt)}")
                    else:
                        check_closure(pt, closure_signature(a), f"callback {pt.alias or name}", src.where(a_start))
                    for cm in re.finditer(r"@convention", a):
                        attributed.add((src.rel, a_start + cm.start()))
                elif SWIFT_CONVERSIONS.match(a) and balanced(a, SWIFT_CONVERSIONS.match(a).end() - 1) == len(a):
                    bt = SWIFT_PRIMS[SWIFT_CONVERSIONS.match(a).group(1)]
                    if not compatible(pt, bt):
                        b.problems.append(f"{label}: {a.split('(')[0]}(...) passed, {mismatch(pt, bt)}")
                elif re.fullmatch(IDENT, a) and a in named and pt.kind == "fn":
                    dt, sig, dwhere = named[a]
                    if dt is not None:
                        if not compatible(pt, dt):
                            b.problems.append(f"{label}: {a} ({dwhere}): {mismatch(pt, dt)}")
                    elif sig is not None:
                        check_closure(pt, sig, f"callback {pt.alias or name}", dwhere)
        # @convention(c) types of dlsym'd functions: unsafeBitCast(sym, to: (@convention(c) ...).self)
        for cm in re.finditer(r"@convention\s*\(\s*c\s*\)", text):
            if (src.rel, cm.start()) in attributed:
                continue
            ft, _ = st.parse_fn(text, cm.end())
            decl = re.search(rf"\b(?:let|var)\s+({IDENT})\s*:\s*$", text[max(0, cm.start() - 80) : cm.start()])
            if decl and decl.group(1) in named:
                continue  # checked where it is passed
            if re.search(rf"\btypealias\s+{IDENT}\s*=\s*$", text[max(0, cm.start() - 80) : cm.start()]):
                continue
            window = literal_texts[src.rel][max(0, cm.start() - 400) : cm.start()]
            lits = [x for x in re.findall(r'"(xnano_\w+)"', window) if x in h.functions]
            where = src.where(cm.start())
            if lits and ft is not None:
                cf = h.functions[lits[-1]]
                if not compatible(cf.type, ft):
                    b.problems.append(f"function {lits[-1]}: the Swift @convention(c) type at {where}: {mismatch(cf.type, ft)}")
            elif ft is None:
                b.problems.append(f"cannot read the @convention(c) type at {where}")
            else:
                b.notes.append(f"@convention(c) type at {where} is not passed to a header function nor cast from a dlsym'd \"xnano_*\": not compared")
        # MemoryLayout<T>: T must be a header struct (or a Swift type).
        for mm in re.finditer(r"MemoryLayout\s*<\s*(xnano_\w+)\s*>", text):
            if mm.group(1) not in h.structs and mm.group(1) not in h.typedefs:
                b.problems.append(f"MemoryLayout<{mm.group(1)}> at {src.where(mm.start())}: not a struct of the header")
    check_struct_size_uses(
        h,
        b,
        [
            r"\b(?:var|let)\s+VAR\s*(?::\s*[\w.]+\s*)?=\s*(?P<type>[\w.]+)\s*\(",
            r"\b(?:var|let)\s+VAR\s*:\s*(?P<type>[\w.]+)",
            r"(?<![\w.])VAR\s*=\s*(?P<type>[\w.]+)\s*\(",
        ],
    )


# ------------------------------------------------------------------ main module / simulator module
#
# Since libxnano_sim is a library of its own, every binding has a main module, which must ship
# without the simulator, and a simulator module. The files of each are found by what they
# declare: Python modules by their import graph (the module `<package>.sim`, or any module
# with a `sim` name component, and the private modules only those import), C# files by the
# assembly that compiles them (*.csproj Compile items, Unity *.asmdef folders) or else by
# their namespace (`Xnano.Sim`), Swift files by their target (the folder under Sources, or a
# Package.swift `path:`). A name "is a simulator name" when one of its words is `sim`
# (XnanoSim, Xnano.Sim, _sim_ffi; not Simulator).


def name_words(name: str) -> list[str]:
    """'CXnanoSim' -> ['c', 'xnano', 'sim'], 'Xnano.Sim.Native' -> ['xnano', 'sim', 'native']."""
    out = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        out += [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", part)]
    return out


def is_sim_name(name: str) -> bool:
    return "sim" in name_words(name)


@dataclass
class Split:
    main: list[Source]
    sim: list[Source]
    problems: list[str] = field(default_factory=list)  # the main module's
    how: str = ""  # how the simulator's files were recognised (printed)


def py_module_names(files: list[Source]) -> dict[str, Source]:
    """Dotted module names (from the source root: src.xnano._ffi, src.xnano.sim)."""
    out = {}
    for src in files:
        parts = src.rel[: -len(".py")].split("/")
        out[".".join(parts)] = src
    return out


def py_imports(src: Source, modname: str) -> list[tuple[str, int, bool]]:
    """(module name candidate, line, relative) of every import in the module (also inside
    functions: a lazy import references the module as much as one at the top)."""
    try:
        tree = ast.parse(src.raw)
    except SyntaxError:
        return []
    parts = modname.split(".")
    pkg = parts[:-1]  # __init__: the package itself
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, False) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            rel = bool(node.level)
            out.append((prefix, node.lineno, rel))
            out += [(f"{prefix}.{a.name}", node.lineno, rel) for a in node.names if a.name != "*"]
    return out


def split_python(root: Path, files: list[Source], sim_header: "Header | None") -> Split:
    mods = py_module_names(files)
    index: dict[str, str] = {}
    for m in mods:
        index[m] = m
        if m.endswith(".__init__"):
            index[m[: -len(".__init__")]] = m

    def resolve(name: str, relative: bool) -> str | None:
        if name in index:
            return index[name]
        if relative:
            return None
        hits = [k for k in index if k.endswith("." + name)]
        return index[hits[0]] if len(hits) == 1 else None

    imports: dict[str, list[tuple[str, int]]] = {}
    for m, src in mods.items():
        seen = set()
        for cand, line, rel in py_imports(src, m):
            t = resolve(cand, rel)
            if t and t != m and t not in seen:
                seen.add(t)
                imports.setdefault(m, []).append((t, line))
    importers: dict[str, set[str]] = {}
    for m, ts in imports.items():
        for t, _ in ts:
            importers.setdefault(t, set()).add(m)
    sim = {m for m in mods if any(is_sim_name(c) for c in m.split(".") if c != "__init__")}
    roots = set(sim)
    changed = True
    while changed:  # private modules that only simulator modules import are the simulator's
        changed = False
        for m in mods:
            last = m.split(".")[-1]
            if m in sim or not last.startswith("_") or last == "__init__":
                continue
            if importers.get(m) and importers[m] <= sim:
                sim.add(m)
                changed = True
    out = Split([mods[m] for m in mods if m not in sim], [mods[m] for m in mods if m in sim])
    out.how = "modules " + ", ".join(sorted(mods[m].rel for m in sim)) if sim else "no module named sim"
    for m in mods:
        if m in sim:
            continue
        for t, line in imports.get(m, []):
            if t in sim:
                why = "the simulator module" if t in roots else "a module of the simulator"
                out.problems.append(
                    f"{mods[m].rel}:{line}: imports {t.split('.__init__')[0]} ({why}): the main module must not import the simulator"
                )
    return out


def csharp_assemblies(root: Path, files: list[Source]) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """rel -> [(assembly, how)] from the *.csproj (under the root, or beside it) whose Compile
    items include the file, and the Unity *.asmdef whose folder holds it; and the problems
    of project references from a main project to a simulator project."""
    import glob
    import json

    rel_of = {src.path.resolve(): src.rel for src in files}
    out: dict[str, list[tuple[str, str]]] = {}
    problems: list[str] = []
    projects = sorted({
        *(p for p in root.rglob("*.csproj") if not SKIP.search(p.relative_to(root).as_posix())),
        *root.parent.glob("*.csproj"),
    })
    names = {}
    for proj in projects:
        text = proj.read_text(errors="replace")
        am = re.search(r"<AssemblyName>\s*([^<\s]+)\s*</AssemblyName>", text)
        names[proj.resolve()] = am.group(1) if am else proj.stem
    for proj in projects:
        text = proj.read_text(errors="replace")
        asm = names[proj.resolve()]
        shown = proj.name
        includes = [x for pat in re.findall(r'<Compile\s+Include\s*=\s*"([^"]+)"', text) for x in pat.split(";")]
        removes = [x for pat in re.findall(r'<Compile\s+Remove\s*=\s*"([^"]+)"', text) for x in pat.split(";")]
        if not re.search(r"<EnableDefaultCompileItems>\s*false\s*<", text, re.I):
            includes.insert(0, "**/*.cs")
            removes += ["bin/**", "obj/**"]

        def matched(pats):
            found = set()
            for pat in pats:
                pat = pat.strip().replace("\\", "/")
                if pat:
                    found |= {Path(x).resolve() for x in glob.glob(str(proj.parent / pat), recursive=True)}
            return found

        for p in matched(includes) - matched(removes):
            if p in rel_of:
                out.setdefault(rel_of[p], []).append((asm, f"{shown}"))
        if not is_sim_name(asm):
            for ref in re.findall(r'<ProjectReference\s+Include\s*=\s*"([^"]+)"', text):
                target = (proj.parent / ref.replace("\\", "/")).resolve()
                ref_name = names.get(target, target.stem)
                if is_sim_name(ref_name):
                    problems.append(f"{shown}: the main assembly {asm} references {ref} (the simulator's project)")
    asmdefs = {}
    for a in root.rglob("*.asmdef"):
        if SKIP.search(a.relative_to(root).as_posix()):
            continue
        try:
            asmdefs[a.parent.resolve()] = (json.loads(a.read_text()).get("name") or a.stem, a.name)
        except (ValueError, AttributeError):
            asmdefs[a.parent.resolve()] = (a.stem, a.name)
    for src in files:
        for d in src.path.resolve().parents:
            if d in asmdefs:
                out.setdefault(src.rel, []).append((asmdefs[d][0], f"Unity {asmdefs[d][1]}"))
                break
    return out, problems


def split_csharp(root: Path, files: list[Source], sim_header: "Header | None") -> Split:
    assemblies, problems = csharp_assemblies(root, files)
    main, sim = [], []
    out = Split(main, sim, problems)
    for src in files:
        namespaces = re.findall(r"\bnamespace\s+([\w.]+)", src.text)
        asms = assemblies.get(src.rel, [])
        if asms:
            is_sim = all(is_sim_name(a) for a, _ in asms)
        else:
            is_sim = any(is_sim_name(ns) for ns in namespaces)
        (sim if is_sim else main).append(src)
        sim_ns = [ns for ns in namespaces if is_sim_name(ns)]
        for a, how in asms:
            if sim_ns and not is_sim_name(a):
                out.problems.append(
                    f"{src.rel}: namespace {sim_ns[0]} is compiled into the main assembly {a} ({how}): the main assembly must ship without the simulator"
                )
    kinds = sorted({a for s in sim for a, _ in assemblies.get(s.rel, [])})
    out.how = (f"assembly {', '.join(kinds)}" if kinds else "namespace *.Sim") + f": {len(sim)} files" if sim else "no Sim assembly or namespace"
    return out


def swift_package(root: Path) -> tuple[Path | None, dict[str, tuple[str, list[str], str]]]:
    """The nearest Package.swift at or above the sources (the repository root keeps it, so
    that an app depends on the package by the repository's git URL): target name -> (kind,
    dependencies, path)."""
    for cand in (d / "Package.swift" for d in (root, *root.resolve().parents)):
        if cand.is_file():
            text = strip_c_comments(cand.read_text())
            targets = {}
            for m in re.finditer(r'\.(\w*[tT]arget|systemLibrary)\s*\(\s*name\s*:\s*"([^"]+)"', text):
                body = text[m.start() : balanced(text, text.index("(", m.start()))]
                deps = []
                dm = re.search(r"\bdependencies\s*:\s*\[", body)
                if dm:
                    o = dm.end() - 1
                    deps = re.findall(r'"([^"]+)"', body[o : balanced(body, o)])
                pm = re.search(r'\bpath\s*:\s*"([^"]+)"', body)
                targets[m.group(2)] = (m.group(1), deps, pm.group(1) if pm else "")
            return cand, targets
    return None, {}


def split_swift(root: Path, files: list[Source], sim_header: "Header | None") -> Split:
    pkg, targets = swift_package(root)
    dirs = {}  # folder under the root -> target name
    for name, (_, _, path) in targets.items():
        if path and pkg is not None:
            try:
                dirs[(pkg.parent / path).resolve().relative_to(root.resolve()).as_posix()] = name
            except ValueError:
                pass

    def target_of(rel: str) -> str:
        for d, name in dirs.items():
            if rel.startswith(d + "/"):
                return name
        return rel.split("/")[0] if "/" in rel else ""

    main, sim = [], []
    out = Split(main, sim)
    sim_header_name = Path(sim_header.label).name if sim_header is not None else "xnano_sim.h"
    sim_modules = {t for t in targets if is_sim_name(t)}
    for mm in sorted(root.rglob("*.modulemap")):
        text = strip_c_comments(mm.read_text())
        rel = mm.relative_to(root).as_posix()
        for m in re.finditer(r"\bmodule\s+(\w+)[^{]*\{", text):
            body = text[m.end() : balanced(text, m.end() - 1)]
            heads = [Path(x).name for x in re.findall(r'\bheader\s+"([^"]+)"', body)]
            links = re.findall(r'\blink\s+"([^"]+)"', body)
            if sim_header_name in heads or "xnano_sim" in links:
                sim_modules.add(m.group(1))
                if not is_sim_name(m.group(1)) or not is_sim_name(target_of(rel)):
                    out.problems.append(f"{rel}: module {m.group(1)} of the main target imports {sim_header_name} / links xnano_sim")
    for src in files:
        t = target_of(src.rel)
        if t and is_sim_name(t):
            sim.append(src)
            sim_modules.add(t)
        else:
            main.append(src)
    for src in main:
        for m in re.finditer(r"(?m)^[ \t]*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:struct|class|enum|func|let|var|typealias|protocol)\s+)?(\w+)", src.text):
            if m.group(1) in sim_modules:
                out.problems.append(f"{src.where(m.start(1))}: imports {m.group(1)} (the simulator's module): the main target must not")
    for name, (kind, deps, _) in targets.items():
        if kind == "testTarget" or is_sim_name(name):
            continue
        for d in deps:
            if d in sim_modules or is_sim_name(d):
                out.problems.append(f"{pkg.name}: the main target {name} depends on {d} (the simulator's)")
    names = sorted({target_of(s.rel) for s in sim})
    out.how = f"target {', '.join(names)}: {len(sim)} files" if sim else "no Sim target"
    return out


def code_words(src: Source, lang: str) -> list[tuple[str, int, bool]]:
    """(word, line, in a string literal) of a source, without comments and docstrings."""
    out = []
    if lang == "Python":
        try:
            tree = ast.parse(src.raw)
        except SyntaxError:
            return out
        docs = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
        for node in ast.walk(tree):
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.Name):
                out.append((node.id, line, False))
            elif isinstance(node, ast.Attribute):
                out.append((node.attr, line, False))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.append((node.name, line, False))
            elif isinstance(node, ast.alias):
                out += [(w, line, False) for w in re.findall(IDENT, f"{node.name} {node.asname or ''}")]
            elif isinstance(node, ast.keyword) and node.arg:
                out.append((node.arg, line, False))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                out += [(w, line, True) for w in re.findall(IDENT, node.value)]
        return out
    text, i, n = src.text, 0, len(src.text)
    while i < n:
        c = text[i]
        if c == '"' or (c == "'" and lang == "C#"):
            j = skip_string(text, i)
            out += [(m.group(0), src.line(i + 1 + m.start()), True) for m in re.finditer(IDENT, text[i + 1 : j - 1])]
            i = j
        elif c.isalpha() or c == "_":
            m = re.compile(IDENT).match(text, i)
            out.append((m.group(0), src.line(i), False))
            i = m.end()
        elif c.isdigit():
            while i < n and (text[i].isalnum() or text[i] in "_."):
                i += 1
        else:
            i += 1
    return out


def sim_predicate(sim_header: "Header | None"):
    """Whether a word names the simulator's C API: an item of the simulator header (its own
    ones) or any xnano_sim_* name."""
    own = (sim_header.own or set()) if sim_header is not None else set()

    def pred(word: str, in_string: bool = False) -> bool:
        if word.startswith("xnano_sim_"):
            return True
        if in_string and word == "xnano_sim":
            return False  # the library's name in a message
        return word in own and word not in (sim_header.guards if sim_header else set())

    return pred


SIM_NAMES_SHOWN = 4  # per file, one line each; the rest in one line


def check_no_sim(b: Binding, lang: str, sim_header: "Header | None") -> None:
    """No file of a main module declares, calls or names anything of the simulator's C API."""
    pred = sim_predicate(sim_header)
    label = sim_header.label if sim_header is not None else "the simulator header"
    for src in b.files:
        found: dict[str, list[int]] = {}
        for w, line, in_string in code_words(src, lang):
            if pred(w, in_string):
                found.setdefault(w, []).append(line)
        found = dict(sorted(found.items(), key=lambda kv: kv[1][0]))
        shown = list(found.items())[:SIM_NAMES_SHOWN]
        for w, lines in shown:
            if sim_header is not None and w in sim_header.known():
                what = f"a {sim_header.kind_of(w)} of {label}"
            else:
                what = f"a simulator name, not even in {label}"
            more = f" (and {len(lines) - 1} more places)" if len(lines) > 1 else ""
            b.problems.append(
                f"{src.rel}:{lines[0]}: {w} ({what}) in the main module{more}: it must ship without the simulator "
                "(move it to the simulator module)"
            )
        rest = list(found)[SIM_NAMES_SHOWN:]
        if rest:
            b.problems.append(f"{src.rel}: and {len(rest)} more simulator names in the main module: {', '.join(rest)}")



# ------------------------------------------------------------------ comparison


def compare_function(h: Header, name: str, decls: list[FuncDecl], b: Binding) -> None:
    cf = h.functions[name]
    for d in decls:
        if d.ret is not None and not compatible(cf.ret, d.ret):
            b.problems.append(f"function {name}: return type at {d.where}: {mismatch(cf.ret, d.ret)}")
        if d.args is None:
            continue
        if len(d.args) != len(cf.params):
            b.problems.append(f"function {name}: {len(d.args)} parameters declared at {d.where}, the header has {len(cf.params)}")
            continue
        for i, (bt, (pname, ct)) in enumerate(zip(d.args, cf.params)):
            if ct.kind == "fn" and bt.kind == "fn" and ct.alias and bt.alias == ct.alias and b.callbacks and ct.alias in b.callbacks:
                continue  # the callback type itself is compared once, under its name
            if not compatible(ct, bt):
                b.problems.append(f"function {name}: argument {i + 1} ({pname}) at {d.where}: {mismatch(ct, bt)}")
    if decls and all(d.args is None for d in decls) and b.name == "Python":
        b.problems.append(f"function {name}: no argtypes declared")
    if decls and all(d.ret is None for d in decls) and b.name == "Python":
        b.problems.append(f"function {name}: no restype declared (ctypes would assume int)")


def compare_struct(h: Header, name: str, fields: list[tuple[str, T]] | None, b: Binding) -> None:
    cfields = h.structs[name]
    if fields is None:
        if cfields:
            b.problems.append(f"struct {name}: declared without fields, the header has {[f for f, _ in cfields]}")
        return
    cn, bn = [f for f, _ in cfields], [f for f, _ in fields]
    if cn != bn:
        missing = [f for f in cn if f not in bn]
        extra = [f for f in bn if f not in cn]
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if extra:
            parts.append(f"not in the header {extra}")
        if not missing and not extra:
            k = next(i for i, (x, y) in enumerate(zip(cn, bn)) if x != y)
            parts.append(f"reordered: field {k + 1} is {bn[k]!r}, the header's is {cn[k]!r}")
        b.problems.append(f"struct {name}: fields {', '.join(parts)}")
    bmap = dict(fields)
    for fname, ct in cfields:
        if fname in bmap and not compatible(ct, bmap[fname]):
            b.problems.append(f"struct {name} field {fname}: {mismatch(ct, bmap[fname])}")


def check(h: Header, b: Binding, foreign=None) -> None:
    """Every item of h (its own ones, for a header that includes another) is declared (or,
    Swift, used) by the binding with the header's types; items of an included header that
    the binding declares anyway are compared too. `foreign(word)`: names the reverse check
    leaves to another check (the simulator's names in a main module)."""
    p = b.problems
    if not b.files:
        p.append("no source files found")
        return
    present = words(b.text)
    header_cbs = {n: t for n, t in h.callbacks().items() if h.is_own(n)}
    for name in h.functions:
        if not h.is_own(name):
            if b.functions and name in b.functions:
                b.checked += 1
                compare_function(h, name, b.functions[name], b)
            continue
        b.checked += 1
        if name in b.allow:
            continue
        if b.functions is None:
            if name not in present:
                p.append(f"function {name} is not used")
        elif name not in b.functions:
            p.append(f"function {name} is not declared")
        else:
            compare_function(h, name, b.functions[name], b)
    for name, value in h.constants.items():
        if not h.is_own(name):
            continue
        b.checked += 1
        if name in b.allow:
            continue
        if b.constants is None:
            if name not in present:
                p.append(f"constant {name} is not used")
        elif name not in b.constants:
            p.append(f"constant {name} is not declared")
        elif value is not None and b.constants[name] is not None and b.constants[name] != value:
            p.append(f"constant {name}: binding has {b.constants[name]!r}, the header {value!r}")
    if b.structs is not None:
        for name in h.structs:
            if not h.is_own(name):
                if name in b.structs:
                    b.checked += 1
                    compare_struct(h, name, b.structs[name], b)
                continue
            b.checked += 1
            if name in b.allow:
                continue
            if name not in b.structs:
                p.append(f"struct {name} is not declared")
            else:
                compare_struct(h, name, b.structs[name], b)
    if b.callbacks is not None:
        for name, ct in header_cbs.items():
            b.checked += 1
            if name in b.allow:
                continue
            if name not in b.callbacks:
                p.append(f"callback type {name} is not declared")
                continue
            bt, where = b.callbacks[name]
            if not compatible(ct, bt):
                p.append(f"callback {name} at {where}: {mismatch(ct, bt)}")
    for name, (bt, where) in b.aliases.items():
        b.checked += 1
        ct = h.typedefs[name]
        if not compatible(ct, bt):
            p.append(f"type {name} at {where}: {mismatch(ct, bt)}")
    known = h.known()
    for w in sorted(present):
        if foreign is not None and foreign(w):
            continue
        if w.lower().startswith("xnano_") and w not in known and not NOT_C_NAMES.match(w):
            if w.startswith("xnano_") or (b.constants is not None and w in b.constants):
                p.append(f"{w} is not in the header")
    for a in b.allow:
        if a not in known:
            p.append(f"allow-list entry {a} is not in the header (stale)")
    # One message per problem, in a stable order.
    seen = set()
    b.problems[:] = [x for x in b.problems if not (x in seen or seen.add(x))]


LANGUAGES = [
    # name, source glob, comment stripper, reader, splitter, main allow-list, simulator allow-list
    ("Python", "**/*.py", strip_python, python_binding, split_python, PYTHON_ALLOW, PYTHON_SIM_ALLOW),
    ("C#", "**/*.cs", cs_strip, csharp_binding, split_csharp, CSHARP_ALLOW, CSHARP_SIM_ALLOW),
    ("Swift", "**/*.swift", strip_c_comments, swift_binding, split_swift, SWIFT_ALLOW, SWIFT_SIM_ALLOW),
]


def run_checks(
    header_path: Path,
    python_dir: Path,
    csharp_dir: Path,
    swift_dir: Path,
    quiet: bool = False,
    label: str | None = None,
    sim_header_path: Path | None = None,
    sim_label: str | None = None,
) -> dict[str, list[str]]:
    h = parse_header(header_path)
    if not h.functions or not h.constants:
        raise SystemExit(f"check-bindings: parsed no functions or no constants from {header_path}")
    h.label = label or str(header_path)
    h23 = parse_header(header_path, C23)
    header_problems = h.problems + header_differences(h, h23, "C23")

    hs = None
    sim_problems: list[str] = []
    if sim_header_path is not None:
        if not sim_header_path.is_file():
            sim_problems.append(f"{sim_label or sim_header_path} not found")
        else:
            hs = parse_header(sim_header_path, include_dirs=[header_path.parent], base=h)
            hs23 = parse_header(sim_header_path, C23, include_dirs=[header_path.parent], base=h23)
            hs.label = sim_label or str(sim_header_path)
            sim_problems = [p.replace("header:", "sim header:", 1) for p in hs.problems + header_differences(hs, hs23, "C23")]
            if not any(hs.is_own(f) for f in hs.functions):
                sim_problems.append(f"parsed no functions of its own from {hs.label}")

    dirs = {"Python": python_dir, "C#": csharp_dir, "Swift": swift_dir}
    bindings: list[Binding] = []
    splits: dict[str, Split] = {}
    for name, pattern, strip, reader, splitter, allow, sim_allow in LANGUAGES:
        root = dirs[name]
        files = read_sources(root, pattern, strip)
        sp = splitter(root, files, hs) if files else Split([], [])
        splits[name] = sp
        b = Binding(name, sp.main, allow, "\n".join(x.text for x in sp.main))
        if sp.main:
            reader(sp.main, h, b)
        b.problems[:0] = sp.problems
        check_no_sim(b, name, hs)
        pred = sim_predicate(hs)
        check(h, b, foreign=pred)
        bindings.append(b)
        if hs is not None:
            bs = Binding(f"{name}-sim", sp.sim, sim_allow, "\n".join(x.text for x in sp.sim))
            if sp.sim:
                reader(sp.sim, hs, bs, context=sp.main)
            check(hs, bs)
            bindings.append(bs)

    if not quiet:
        print(
            f"check-bindings: {h.label}: {len(h.functions)} functions, {len(h.constants)} constants, "
            f"{len(h.structs)} structs, {len(h.callbacks())} callback types (normalised types compared)"
        )
        if header_problems:
            print(f"  header DRIFT: {len(header_problems)} problems")
            for prob in header_problems:
                print(f"    {prob}")
        if hs is not None:
            own = lambda d: sum(1 for n in d if hs.is_own(n))  # noqa: E731
            print(
                f"check-bindings: {hs.label} (its own items; {Path(h.label).name}'s types resolved): {own(hs.functions)} functions, "
                f"{own(hs.constants)} constants, {own(hs.structs)} structs, {own(hs.callbacks())} callback types"
            )
        elif sim_header_path is None:
            print("check-bindings: no simulator header (--sim-header none): main modules checked for xnano_sim_* names only")
        if sim_problems:
            print(f"  sim-header DRIFT: {len(sim_problems)} problems")
            for prob in sim_problems:
                print(f"    {prob}")
        for name, sp in splits.items():
            print(f"  {name} simulator module: {sp.how}")
    results = {"header": header_problems} if header_problems else {}
    if sim_problems:
        results["sim-header"] = sim_problems
    for b in bindings:
        if not quiet:
            allowed = f", {len(b.allow)} allow-listed" if b.allow else ""
            print(f"  {b.name:10} {'ok' if not b.problems else 'DRIFT'}: {b.checked} items checked in {len(b.files)} files{allowed}")
            for prob in b.problems:
                print(f"    {prob}")
            for note in b.notes:
                print(f"    note: {note}")
        results[b.name] = b.problems
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--header", default="include/xnano.h")
    ap.add_argument(
        "--sim-header",
        default="sim/include/xnano_sim.h",
        help="the simulator's header (it includes --header); 'none': no simulator modules are checked",
    )
    ap.add_argument("--python", default="bindings/python", help="Python binding sources")
    ap.add_argument("--csharp", default="bindings/csharp", help="C# binding sources (main and simulator assemblies)")
    ap.add_argument("--swift", default="bindings/swift/Sources", help="Swift binding sources (all targets)")
    ap.add_argument("--list", action="store_true", help="print the header's normalised types")
    ap.add_argument("--layout-c", action="store_true")
    ap.add_argument("--sim", action="store_true", help="--list / --layout-c: of the simulator header (its own items)")
    ap.add_argument("--self-test", action="store_true", help="check that planted mismatches are caught")
    args = ap.parse_args()
    if args.self_test:
        selftest = Path(__file__).resolve().parent / "check_bindings_selftest.py"
        return subprocess.call([sys.executable, str(selftest), "--checker", str(Path(__file__).resolve())])
    root = Path(args.root)
    header_path = root / args.header
    if not header_path.exists():
        print(f"check-bindings: {header_path} not found", file=sys.stderr)
        return 1
    sim_header_path = None if args.sim_header in ("", "none") else root / args.sim_header
    h = parse_header(header_path)
    if args.sim:
        if sim_header_path is None or not sim_header_path.exists():
            print(f"check-bindings: {sim_header_path} not found", file=sys.stderr)
            return 1
        h = parse_header(sim_header_path, include_dirs=[header_path.parent], base=h)
    if args.list:
        for f, cf in h.functions.items():
            if h.is_own(f):
                print("function", f, "(" + ", ".join(f"{n}: {t}" for n, t in cf.params) + ")", "->", cf.ret)
        for n, t in h.typedefs.items():
            if h.is_own(n):
                print("typedef", n, t)
        for c, v in h.constants.items():
            if h.is_own(c):
                print("constant", c, repr(v))
        for s, fs in h.structs.items():
            if h.is_own(s):
                print("struct", s, "{" + "; ".join(f"{f}: {t}" for f, t in fs) + "}")
        for prob in h.problems:
            print("problem", prob)
        return 0
    if args.layout_c:
        sys.stdout.write(layout_program(h, sim_header_path.name if args.sim else header_path.name))
        return 0

    def shown(p: Path) -> str:
        try:
            return str(p.relative_to(root))
        except ValueError:
            return str(p)

    results = run_checks(
        header_path,
        root / args.python,
        root / args.csharp,
        root / args.swift,
        label=shown(header_path),
        sim_header_path=sim_header_path,
        sim_label=shown(sim_header_path) if sim_header_path else None,
    )
    failed = sum(1 for v in results.values() if v)
    print(f"check-bindings: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
