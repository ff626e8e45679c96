#!/usr/bin/env python3
"""Binding drift check: include/xnano.h against the Python, C# and Swift bindings.

For every binding (comments and docstrings are stripped from its sources first, so a mention
in a comment does not count; tests do not count either):

- Python (bindings/python, ctypes): every function of the header is declared in the
  `FUNCTIONS` table with as many argtypes as the C function has parameters; every constant
  (#define or enum constant) is assigned under its C name, with the header's value where it
  is a literal; every struct is a `Structure` of the same name whose `_fields_` names the C
  fields in the C order.
- C# (bindings/csharp/src, P/Invoke): every function is an `extern` method of the same name
  with as many parameters; every constant is a `const` of the same name and value; every
  struct is a `struct` of the same name with the C fields in the C order.
- Swift (bindings/swift/Sources): the header is imported as it is by the system-library
  target, so declarations cannot drift; instead every function and constant must be USED by
  the Swift wrapper, so that nothing of the C API is silently left unwrapped. Deliberate
  exceptions go in SWIFT_ALLOW with their reason.

Reverse check for all three: every `xnano_*` identifier a binding uses must exist in the
header (a binding calling a removed function would only fail at run time).

Usage: scripts/check-bindings.py [--root DIR] [--list | --layout-c]
  --list      print what was parsed from the header
  --layout-c  print a C program that prints each struct's size and field offsets
              (scripts/test-csharp.sh runs it; the C# tests compare Marshal.OffsetOf)
Exit status 0 without drift, 1 with; the last line is "check-bindings: N passed, N failed".
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Header items a binding deliberately does not declare or use: name -> reason. Entries that
# are not in the header are reported as stale, so the lists stay honest.
PYTHON_ALLOW: dict[str, str] = {}
CSHARP_ALLOW: dict[str, str] = {}
SWIFT_ALLOW: dict[str, str] = {}

# Lower-case `xnano_` words in binding sources that are not C names (reverse check).
NOT_C_NAMES = re.compile(r"^xnano_(lib|library|path)$")

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass
class Header:
    functions: dict[str, int] = field(default_factory=dict)  # name -> parameter count
    constants: dict[str, object] = field(default_factory=dict)  # name -> int | str | None
    structs: dict[str, list[str]] = field(default_factory=dict)  # name -> field names
    types: set[str] = field(default_factory=set)  # every typedef / tag name
    guards: set[str] = field(default_factory=set)

    def known(self) -> set[str]:
        return set(self.functions) | set(self.constants) | set(self.structs) | self.types | self.guards


# ------------------------------------------------------------------ C parsing


def strip_c_comments(text: str) -> str:
    """Removes /* */ and // comments, keeping string literals intact."""
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


def drop_cplusplus(text: str) -> str:
    """Drops the C++-only branches (`#ifdef __cplusplus` / `extern "C" {`); every other
    conditional keeps all of its branches."""
    out, stack = [], []  # [is_cplusplus_conditional, in_else]
    for line in text.split("\n"):
        d = re.match(r"\s*#\s*(ifdef|ifndef|if|elif|else|endif)\b(.*)", line)
        if d:
            kw, rest = d.group(1), d.group(2)
            if kw in ("ifdef", "ifndef", "if"):
                stack.append(["__cplusplus" in rest, kw == "ifndef"])
            elif kw in ("else", "elif") and stack:
                stack[-1][1] = not stack[-1][1]
            elif kw == "endif" and stack:
                stack.pop()
            out.append("")
            continue
        active = all(not cpp or in_else for cpp, in_else in stack)
        out.append(line if active else "")
    return "\n".join(out)


def parse_value(expr: str, known: dict[str, object]):
    """An integer or string literal (or a simple integer expression over known names)."""
    expr = expr.strip()
    if len(expr) >= 2 and expr[0] == '"' and expr[-1] == '"':
        return ast.literal_eval(expr)
    expr = re.sub(r"\(\s*(?:u?int\d+_t|unsigned|int|long|size_t)\s*\)", "", expr)  # casts
    expr = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr)
    if not re.fullmatch(r"[A-Za-z0-9_ ()<>|&+\-~]+", expr):
        return None

    def name(m):
        v = known.get(m.group(0))
        return str(v) if isinstance(v, int) else m.group(0)

    py = re.sub(r"\b[A-Za-z_]\w*\b", lambda m: m.group(0) if re.fullmatch(r"0[xX][0-9a-fA-F]+", m.group(0)) else name(m), expr)
    if re.search(r"[A-Za-z_]", re.sub(r"0[xX][0-9a-fA-F]+", "", py)):
        return None
    try:
        v = eval(py, {"__builtins__": {}}, {})  # noqa: S307 - digits and operators only
    except Exception:
        return None
    return v if isinstance(v, int) else None


def split_top(s: str, sep: str = ",") -> list[str]:
    """Splits on `sep` outside parentheses/brackets."""
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


def parse_header(path: Path) -> Header:
    raw = drop_cplusplus(path.read_text())
    h = Header()
    for m in re.finditer(rf"^[ \t]*#[ \t]*define[ \t]+({IDENT})(\(?)([^\n]*)$", raw, re.M):
        name, paren, value = m.group(1), m.group(2), strip_c_comments(m.group(3)).strip()
        if paren:
            continue  # function-like macro
        if not value:
            h.guards.add(name)
            continue
        h.constants[name] = parse_value(value, h.constants)
    text = strip_c_comments(raw)
    text = re.sub(r"^[ \t]*#[^\n]*(\\\n[^\n]*)*", "", text, flags=re.M)  # preprocessor lines

    for m in re.finditer(rf"\benum\s*({IDENT})?\s*\{{([^}}]*)\}}", text):
        if m.group(1):
            h.types.add(m.group(1))
        nxt = 0
        for item in split_top(m.group(2)):
            if "=" in item:
                name, value = (s.strip() for s in item.split("=", 1))
                v = parse_value(value, h.constants)
            else:
                name, v = item, nxt
            if not re.fullmatch(IDENT, name):
                raise SystemExit(f"check-bindings: cannot parse enum item {item!r} in {path}")
            h.constants[name] = v
            nxt = (v + 1) if isinstance(v, int) else None

    for m in re.finditer(rf"\bstruct\s+({IDENT})\s*\{{([^}}]*)\}}", text):
        fields = []
        for decl in m.group(2).split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            fp = re.search(rf"\(\s*\*\s*({IDENT})\s*\)", decl)  # function pointer member
            f = fp.group(1) if fp else re.search(rf"({IDENT})\s*(\[[^\]]*\])?$", decl).group(1)
            fields.append(f)
        h.structs[m.group(1)] = fields
    for m in re.finditer(rf"\btypedef\b[^;]*?\b({IDENT})\s*;", text):
        h.types.add(m.group(1))
    for m in re.finditer(rf"\btypedef\b[^;]*\(\s*\*\s*({IDENT})\s*\)", text):
        h.types.add(m.group(1))
    for m in re.finditer(rf"\bstruct\s+({IDENT})", text):
        h.types.add(m.group(1))

    # Function declarations: top-level statements with a parameter list, not typedefs.
    depth, stmt = 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            stmt = []
            continue
        if depth != 0:
            continue
        if ch != ";":
            stmt.append(ch)
            continue
        s = " ".join("".join(stmt).split())
        stmt = []
        if s.startswith("typedef") or "(" not in s:
            continue
        m = re.search(rf"\b({IDENT})\s*\((.*)\)\s*$", s)
        if m and not re.search(r"\(\s*\*", s[: m.start(2)]):
            params = split_top(m.group(2))
            h.functions[m.group(1)] = 0 if params in ([], ["void"]) else len(params)
    return h


def layout_program(h: Header) -> str:
    lines = [
        "/* Generated by scripts/check-bindings.py --layout-c: prints struct layouts. */",
        "#include <stdio.h>",
        "#include <stddef.h>",
        '#include "xnano.h"',
        "int main(void) {",
    ]
    for s, fields in h.structs.items():
        lines.append(f'  printf("{s} sizeof %zu\\n", sizeof(struct {s}));')
        for f in fields:
            lines.append(f'  printf("{s} {f} %zu\\n", offsetof(struct {s}, {f}));')
    lines += ["  return 0;", "}"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ bindings


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


# Tests, build scripts and build output do not count as declarations.
SKIP = re.compile(r"(^|/)(tests?|Tests|build|dist|\.build|\.venv|venv|obj|bin)/|(^|/)(test_[^/]*|conftest|setup)\.py$")


def read_sources(root: Path, pattern: str, strip) -> tuple[str, list[Path]]:
    files = sorted(
        p for p in root.glob(pattern) if p.is_file() and not SKIP.search(p.relative_to(root).as_posix())
    )
    return "\n".join(strip(p.read_text()) for p in files), files


def words(text: str) -> set[str]:
    return set(re.findall(IDENT, text))


@dataclass
class Binding:
    name: str
    files: list[Path]
    text: str
    allow: dict[str, str]
    # What the binding declares; None where the rule is "used" rather than "declared".
    functions: dict[str, int] | None = None
    constants: dict[str, object] | None = None
    structs: dict[str, list[str]] | None = None
    problems: list[str] = field(default_factory=list)
    checked: int = 0


def python_decls(text: str):
    """FUNCTIONS table (name -> argtypes count), constants, Structure classes."""
    tree = ast.parse(text)
    funcs, consts, structs = {}, {}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target == "FUNCTIONS" and isinstance(node.value, ast.Dict):
                for k, v in zip(node.value.keys, node.value.values):
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Tuple) and len(v.elts) == 2:
                        args = v.elts[1]
                        funcs[k.value] = len(args.elts) if isinstance(args, ast.List) else -1
            elif re.fullmatch(r"XNANO_[A-Z0-9_]+", target):
                try:
                    consts[target] = ast.literal_eval(node.value)
                except ValueError:
                    consts[target] = None  # computed (e.g. from the loaded library)
        if isinstance(node, ast.ClassDef) and node.name.startswith("xnano_"):
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and isinstance(stmt.targets[0], ast.Name)
                    and stmt.targets[0].id == "_fields_"
                ):
                    names = []
                    for n in ast.walk(stmt.value):
                        if isinstance(n, ast.Constant) and isinstance(n.value, str):
                            names.append(n.value)
                    structs[node.name] = names
            structs.setdefault(node.name, [])
    return funcs, consts, structs


def csharp_decls(text: str):
    funcs, consts, structs = {}, {}, {}
    no_attributes = re.sub(r"\[[^\]]*\]", "", text)
    for m in re.finditer(rf"\bextern\s+[\w<>.]+\s+({IDENT})\s*\(([^)]*)\)\s*;", no_attributes):
        params = split_top(m.group(2))
        funcs[m.group(1)] = len(params)
    for m in re.finditer(rf"\bconst\s+\w+\s+({IDENT})\s*=\s*([^;]+);", text):
        consts[m.group(1)] = parse_value(m.group(2), {})
    for m in re.finditer(rf"\bstruct\s+({IDENT})\s*\{{([^}}]*)\}}", text):
        body = re.sub(r"\[[^\]]*\]", "", m.group(2))
        structs[m.group(1)] = re.findall(rf"\bpublic\s+[\w.\[\]]+\s+({IDENT})\s*;", body)
    return funcs, consts, structs


def check(h: Header, b: Binding) -> None:
    p = b.problems
    if not b.files:
        p.append("no source files found")
        return
    present = words(b.text)
    for name, nparams in h.functions.items():
        b.checked += 1
        if name in b.allow:
            continue
        if b.functions is None:
            if name not in present:
                p.append(f"function {name} is not used")
        elif name not in b.functions:
            p.append(f"function {name} is not declared")
        elif b.functions[name] != nparams:
            p.append(f"function {name}: {b.functions[name]} parameters declared, the header has {nparams}")
    for name, value in h.constants.items():
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
        for name, fields in h.structs.items():
            b.checked += 1
            if name in b.allow:
                continue
            if name not in b.structs:
                p.append(f"struct {name} is not declared")
            elif b.structs[name] != fields:
                p.append(f"struct {name}: fields {b.structs[name]} differ from the header's {fields}")
    known = h.known()
    for w in sorted(present):
        if w.lower().startswith("xnano_") and w not in known and not NOT_C_NAMES.match(w):
            if w.startswith("xnano_") or (b.constants is not None and w in b.constants):
                p.append(f"{w} is not in the header")
    for a in b.allow:
        if a not in known:
            p.append(f"allow-list entry {a} is not in the header (stale)")


def run_checks(root: Path, header_path: Path, quiet: bool = False) -> dict[str, list[str]]:
    h = parse_header(header_path)
    if not h.functions or not h.constants:
        raise SystemExit("check-bindings: parsed no functions or no constants from the header")
    bindings = []
    text, files = read_sources(root, "bindings/python/**/*.py", strip_python)
    b = Binding("Python", files, text, PYTHON_ALLOW)
    if files:
        b.functions, b.constants, b.structs = python_decls(text)
    bindings.append(b)

    text, files = read_sources(root, "bindings/csharp/src/**/*.cs", strip_c_comments)
    b = Binding("C#", files, text, CSHARP_ALLOW)
    b.functions, b.constants, b.structs = csharp_decls(text)
    bindings.append(b)

    text, files = read_sources(root, "bindings/swift/Sources/**/*.swift", strip_c_comments)
    bindings.append(Binding("Swift", files, text, SWIFT_ALLOW))

    if not quiet:
        print(
            f"check-bindings: {header_path.relative_to(root)}: {len(h.functions)} functions, "
            f"{len(h.constants)} constants, {len(h.structs)} structs"
        )
    for b in bindings:
        check(h, b)
        if not quiet:
            allowed = f", {len(b.allow)} allow-listed" if b.allow else ""
            print(f"  {b.name:6} {'ok' if not b.problems else 'DRIFT'}: {b.checked} items checked in {len(b.files)} files{allowed}")
            for prob in b.problems:
                print(f"    {prob}")
    return {b.name: b.problems for b in bindings}


def self_test(root: Path) -> int:
    """Plants one drift at a time in a copy of the header and bindings; each must be caught
    by exactly the bindings it concerns."""
    import shutil
    import tempfile

    def edit(rel, old, new):
        def apply(tmp: Path):
            p = tmp / rel
            t = p.read_text()
            if old not in t:
                raise SystemExit(f"self-test: {old!r} not found in {rel}")
            p.write_text(t.replace(old, new, 1))
        return apply

    py = "bindings/python/src/xnano/_ffi.py"
    cs = "bindings/csharp/src/NativeMethods.cs"
    hdr = "include/xnano.h"
    cases = [
        ("new function in the header", edit(hdr, "void xnano_sim_free(", "void xnano_sim_new_thing(void);\nvoid xnano_sim_free("), {"Python", "C#", "Swift"}),
        ("new constant in the header", edit(hdr, "#define XNANO_ANY", "#define XNANO_NEW_THING 7\n#define XNANO_ANY"), {"Python", "C#", "Swift"}),
        ("new enum value in the header", edit(hdr, "XNANO_ERR_PANIC = 11,", "XNANO_ERR_PANIC = 11,\n  XNANO_ERR_NEW = 12,"), {"Python", "C#", "Swift"}),
        ("new struct field in the header", edit(hdr, "  uint64_t events_dropped;", "  uint64_t events_dropped;\n  uint64_t new_counter;"), {"Python", "C#"}),
        ("extra parameter in the header", edit(hdr, "xnano_client_request_keyframe(struct xnano_client *client)", "xnano_client_request_keyframe(struct xnano_client *client, int flags)"), {"Python", "C#"}),
        ("C# constant value", edit(cs, "XNANO_ERR_PANIC = 11;", "XNANO_ERR_PANIC = 12;"), {"C#"}),
        ("C# parameter count", edit(cs, "xnano_client_request_keyframe(IntPtr client)", "xnano_client_request_keyframe(IntPtr client, int x)"), {"C#"}),
        ("C# field order", edit(cs, "public uint width;\n        public uint height;", "public uint height;\n        public uint width;"), {"C#"}),
        ("C# unknown function", edit(cs, "public static extern void xnano_sim_free(", "public static extern void xnano_sim_gone();\n        public static extern void xnano_sim_free("), {"C#"}),
        ("Python constant value", edit(py, "XNANO_ERR_PANIC = 11", "XNANO_ERR_PANIC = 10"), {"Python"}),
        ("Python function missing", edit(py, '"xnano_sim_close_client"', '"xnano_sim_close_clients"'), {"Python"}),
        ("Swift function unused", edit("bindings/swift/Sources/Xnano/Client.swift", "xnano_sim_close_client(handle)", "xnano_sim_stop(handle)"), {"Swift"}),
    ]
    failures = 0
    for name, apply, expected in cases:
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            for rel in ("include", "bindings/python/src", "bindings/csharp/src", "bindings/swift/Sources"):
                shutil.copytree(root / rel, t / rel)
            apply(t)
            caught = {k for k, v in run_checks(t, t / hdr, quiet=True).items() if v}
        ok = caught == expected
        failures += not ok
        print(f"  self-test {'ok' if ok else 'FAILED'}: {name}: caught by {sorted(caught)}, expected {sorted(expected)}")
    print(f"check-bindings self-test: {len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--header", default="include/xnano.h")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--layout-c", action="store_true")
    ap.add_argument("--self-test", action="store_true", help="check that planted drifts are caught")
    args = ap.parse_args()
    root = Path(args.root)
    header_path = root / args.header
    if not header_path.exists():
        print(f"check-bindings: {header_path} not found", file=sys.stderr)
        return 1
    if args.self_test:
        return self_test(root)
    h = parse_header(header_path)
    if args.list:
        for f, n in h.functions.items():
            print("function", f, n)
        for c, v in h.constants.items():
            print("constant", c, repr(v))
        for s, fs in h.structs.items():
            print("struct", s, " ".join(fs))
        return 0
    if args.layout_c:
        sys.stdout.write(layout_program(h))
        return 0
    results = run_checks(root, header_path)
    failed = sum(1 for v in results.values() if v)
    print(f"check-bindings: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
