#!/usr/bin/env python3
"""Binding drift check: every function and constant of include/xnano.h must be declared in
each language binding, and no binding may name an `xnano_*` function the header lacks.

Rules, per binding (comments are stripped from the sources first, so a mention in a comment
does not count):

- Python (bindings/python): every function name and every constant name (#define or enum
  constant) appears as a word. Where the Python sources assign a constant (`NAME = 12`), the
  value must equal the header's.
- C# (bindings/csharp/src): every function name appears (the DllImport declarations use the
  C names) and every constant is declared as a `const` with the C name and the header's value.
- Swift (bindings/swift/Sources): the header is imported by the system-library target, so
  declarations cannot drift; instead every function and constant must be *used* by the Swift
  wrapper, so that nothing in the C API is silently left unwrapped. Deliberate exceptions are
  listed in SWIFT_ALLOW below, each with its reason.

Reverse check for all three: an `xnano_*` identifier used in a binding must exist in the
header (a binding calling a removed function would only fail at run time).

Usage: scripts/check-bindings.py [--header include/xnano.h] [--root .] [--list]
Exit status 0 when no drift, 1 otherwise; prints a summary line either way.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Header items that a binding deliberately does not use, with the reason. Only names that
# exist in the header are honoured; a stale entry is reported so the list stays honest.
PYTHON_ALLOW: dict[str, str] = {}
CSHARP_ALLOW: dict[str, str] = {}
SWIFT_ALLOW: dict[str, str] = {
    # Include guard style macros are never items; nothing else is exempt by default.
}

# Lower-case identifiers starting with "xnano_" in binding sources that are not C functions
# (for the reverse check).
NOT_C_NAMES = re.compile(r"^xnano_(lib|library|path|test|tests|sim_test)$")


@dataclass
class Header:
    functions: list[str] = field(default_factory=list)
    # name -> value (int or str), or None where the value is not a plain literal.
    constants: dict[str, object] = field(default_factory=dict)
    guards: set[str] = field(default_factory=set)


def strip_c_comments(text: str) -> str:
    """Removes /* */ and // comments, keeping string literals intact."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
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


def strip_python_comments(text: str) -> str:
    """Removes # comments and docstrings using the tokenizer-free AST round trip where
    possible; falls back to dropping # comments line by line."""
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


INT_RE = re.compile(r"^\(?\s*(?:\([A-Za-z_][A-Za-z0-9_ ]*\)\s*)?(-?(?:0[xX][0-9a-fA-F]+|\d+))[uUlL]*\s*\)?$")


def parse_value(expr: str, known: dict[str, object]):
    expr = expr.strip()
    m = INT_RE.match(expr)
    if m:
        return int(m.group(1), 0)
    if len(expr) >= 2 and expr[0] == '"' and expr[-1] == '"':
        return ast.literal_eval(expr)
    # Simple expressions over integers and known names: 1 << 3, A | B, -1.
    if re.fullmatch(r"[A-Za-z0-9_ ()<>|&+\-~xX]+", expr):
        py = re.sub(r"(\d+)[uUlL]+\b", r"\1", expr)

        def name(m):
            v = known.get(m.group(0))
            return str(v) if isinstance(v, int) else m.group(0)

        py = re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", name, py)
        try:
            v = eval(py, {"__builtins__": {}}, {})  # noqa: S307 - digits and operators only
            if isinstance(v, int):
                return v
        except Exception:
            return None
    return None


def drop_cplusplus(text: str) -> str:
    """Drops the C++-only branches (`#ifdef __cplusplus` ... `extern "C" {`); every other
    conditional keeps all its branches."""
    out, stack = [], []  # stack of (is_cplusplus_conditional, in_else)
    for line in text.split("\n"):
        d = re.match(r"\s*#\s*(ifdef|ifndef|if|elif|else|endif)\b(.*)", line)
        if d:
            kw, rest = d.group(1), d.group(2)
            if kw in ("ifdef", "ifndef", "if"):
                cpp = "__cplusplus" in rest
                # `#ifndef __cplusplus` keeps its first branch.
                stack.append([cpp, kw == "ifndef"])
            elif kw in ("else", "elif") and stack:
                stack[-1][1] = not stack[-1][1]
            elif kw == "endif" and stack:
                stack.pop()
            out.append("")
            continue
        active = all(not cpp or in_else for cpp, in_else in stack)
        out.append(line if active else "")
    return "\n".join(out)


def parse_header(path: Path) -> Header:
    raw = drop_cplusplus(path.read_text())
    h = Header()
    # #defines (on the raw text: cbindgen puts no comments inside them).
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)(\(?)([^\n]*)$", raw, re.M):
        name, paren, value = m.group(1), m.group(2), strip_c_comments(m.group(3)).strip()
        if paren:
            continue  # function-like macro
        if not value:
            h.guards.add(name)
            continue
        h.constants[name] = parse_value(value, h.constants)
    text = strip_c_comments(raw)
    text = re.sub(r"^[ \t]*#[^\n]*(\\\n[^\n]*)*", "", text, flags=re.M)  # preprocessor lines
    # enums
    for m in re.finditer(r"\benum\b\s*[A-Za-z_0-9]*\s*\{([^}]*)\}", text):
        nxt = 0
        for item in m.group(1).split(","):
            item = item.strip()
            if not item:
                continue
            if "=" in item:
                name, value = (s.strip() for s in item.split("=", 1))
                v = parse_value(value, h.constants)
            else:
                name, v = item, nxt
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise SystemExit(f"check-bindings: cannot parse enum item {item!r} in {path}")
            h.constants[name] = v
            nxt = (v + 1) if isinstance(v, int) else None
    # Function declarations: top-level statements ending in ");" that are not typedefs.
    depth = 0
    stmt = []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if depth == 0 and ch == ";":
            s = " ".join("".join(stmt).split())
            stmt = []
            if s.startswith("typedef") or "(" not in s or s.startswith("}"):
                continue
            m = re.search(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", s)
            if m and not re.search(r"\(\s*\*", s[: m.end() + 2]):
                h.functions.append(m.group(1))
        elif depth == 0 and ch != "}":
            stmt.append(ch)
        elif depth == 0:
            stmt = []
    return h


# Tests, build scripts and build output do not count as declarations.
PY_SKIP = re.compile(r"(^|/)(tests?|build|dist|\.venv|venv)/|(^|/)(test_[^/]*|conftest|setup)\.py$")


def read_sources(root: Path, patterns: list[str], strip, skip=None):
    files = sorted(
        {
            p
            for pat in patterns
            for p in root.glob(pat)
            if p.is_file() and not (skip and skip.search(p.relative_to(root).as_posix()))
        }
    )
    return "\n".join(strip(p.read_text()) for p in files), files


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


@dataclass
class Report:
    name: str
    missing: list[str] = field(default_factory=list)
    wrong_value: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    stale_allow: list[str] = field(default_factory=list)
    checked: int = 0
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return not (self.missing or self.wrong_value or self.unknown or self.stale_allow)


def check(name, header: Header, text: str, allow: dict[str, str], values: dict[str, object] | None) -> Report:
    r = Report(name)
    present = words(text)
    items = list(header.functions) + [c for c in header.constants]
    for item in items:
        r.checked += 1
        if item in allow:
            continue
        if item not in present:
            r.missing.append(item)
        elif values is not None and item in header.constants:
            want = header.constants[item]
            if item not in values:
                if name == "C#":
                    r.missing.append(f"{item} (no `const` declaration)")
            elif want is not None and values[item] != want:
                r.wrong_value.append(f"{item}: header {want!r}, binding {values[item]!r}")
    known = set(header.functions) | set(header.constants) | header.guards
    for w in sorted(present):
        if w.startswith("xnano_") and w not in known and not NOT_C_NAMES.match(w):
            r.unknown.append(w)
    r.stale_allow = [a for a in allow if a not in known]
    return r


def csharp_consts(text: str) -> dict[str, object]:
    out = {}
    for m in re.finditer(r"\bconst\s+\w+\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^;]+);", text):
        v = m.group(2).strip()
        v = re.sub(r"^\(\s*\w+\s*\)\s*", "", v)  # (uint) casts
        v = re.sub(r"^unchecked\s*\(\s*\(\s*\w+\s*\)\s*(.*)\)$", r"\1", v)
        out[m.group(1)] = parse_value(v.rstrip("uUlL") if re.fullmatch(r"-?(0[xX][0-9a-fA-F]+|\d+)[uUlL]*", v) else v, {})
    return out


def python_consts(text: str) -> dict[str, object]:
    out = {}
    for m in re.finditer(r"^\s*(XNANO_[A-Z0-9_]+)\s*(?::\s*\w+\s*)?=\s*([^\n#]+)$", text, re.M):
        try:
            out[m.group(1)] = ast.literal_eval(m.group(2).strip())
        except Exception:
            pass
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--header", default="include/xnano.h")
    ap.add_argument("--list", action="store_true", help="print the header's items and exit")
    args = ap.parse_args()
    root = Path(args.root)
    header_path = root / args.header
    if not header_path.exists():
        print(f"check-bindings: {header_path} not found", file=sys.stderr)
        return 1
    header = parse_header(header_path)
    if args.list:
        for f in header.functions:
            print("function", f)
        for c, v in header.constants.items():
            print("constant", c, repr(v))
        return 0
    if not header.functions:
        print("check-bindings: no functions parsed from the header", file=sys.stderr)
        return 1

    reports = []
    py_text, py_files = read_sources(root, ["bindings/python/**/*.py"], strip_python_comments, PY_SKIP)
    reports.append(("Python", py_files, check("Python", header, py_text, PYTHON_ALLOW, python_consts(py_text))))
    cs_text, cs_files = read_sources(root, ["bindings/csharp/src/**/*.cs"], strip_c_comments)
    reports.append(("C#", cs_files, check("C#", header, cs_text, CSHARP_ALLOW, csharp_consts(cs_text))))
    sw_text, sw_files = read_sources(root, ["bindings/swift/Sources/**/*.swift"], strip_c_comments)
    reports.append(("Swift", sw_files, check("Swift", header, sw_text, SWIFT_ALLOW, None)))

    failed = 0
    print(f"check-bindings: {header_path.relative_to(root)}: {len(header.functions)} functions, {len(header.constants)} constants")
    for name, files, r in reports:
        if not files:
            r.missing = ["(no source files found)"]
        status = "ok" if r.ok else "DRIFT"
        print(f"  {name:6} {status}: {r.checked} items, {len(files)} files")
        for label, lst in (
            ("missing", r.missing),
            ("wrong value", r.wrong_value),
            ("not in header", r.unknown),
            ("stale allow-list entry", r.stale_allow),
        ):
            for item in lst:
                print(f"    {label}: {item}")
        failed += not r.ok
    passed = len(reports) - failed
    print(f"check-bindings: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
