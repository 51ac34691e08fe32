"""The C extension's layers (docs/architecture.md): a lower layer never
calls a higher one.

Plain pytest (no MPI): it reads src/_mpi.  Each folder of src/_mpi is one
layer, its number first (0_core ... 6_module).  A file may include the
headers, and call the functions, of its own layer and the layers below;
where a lower layer must reach a higher one, the higher one registers a
hook (a function pointer) at init, which this test cannot see and does
not need to.
"""
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "src", "_mpi")
FILES = sorted(glob.glob(os.path.join(SRC, "*", "*.[ch]")))
CORE_HEADER = os.path.join(SRC, "0_core", "fastmpi.h")


def _rel(path):
    return os.path.relpath(path, SRC)


def _layer(path):
    folder = _rel(path).split(os.sep)[0]
    m = re.match(r"(\d+)_[a-z]+$", folder)
    assert m, f"{_rel(path)}: not in a layer folder (N_name)"
    return int(m.group(1))


def _code(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"),
                  text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def _defined_functions():
    """Non-static functions and variables defined at file scope, by name:
    the file that defines each."""
    where = {}
    for path in FILES:
        if not path.endswith(".c"):
            continue
        code = _code(path)
        for m in re.finditer(r"^([A-Za-z_]\w*)\(", code, re.M):
            start = code.rfind("\n", 0, m.start() - 1)
            before = code[start:m.start()].strip()
            # a definition: its return type on the line before; not a
            # file-scope macro use (FASTMPI_HANDLE_SLOTS(...))
            if re.fullmatch(r"[A-Za-z_][\w \*]*", before) and \
                    "static" not in before and not m.group(1).isupper():
                where[m.group(1)] = path
        for m in re.finditer(r"^(?!static\b)[A-Za-z_][\w \*]*?\b"
                             r"(fastmpi_\w+)(\[\])?\s*(=|;)", code, re.M):
            where.setdefault(m.group(1), path)
    return where


def test_every_file_is_in_a_layer():
    assert len(FILES) >= 40, FILES
    for path in FILES:
        _layer(path)


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_includes_only_own_or_lower_layers(path):
    mine = _layer(path)
    bad = []
    for inc in re.findall(r'^#include "([^"]+)"', _code(path), re.M):
        target = os.path.normpath(os.path.join(os.path.dirname(path), inc))
        assert os.path.exists(target), f"{inc} not found"
        if _layer(target) > mine:
            bad.append(inc)
    assert not bad, f"layer {mine} includes a higher layer: {bad}"


@pytest.mark.parametrize("path", [p for p in FILES if p.endswith(".c")],
                         ids=_rel)
def test_calls_only_own_or_lower_layers(path):
    mine = _layer(path)
    code = _code(path)
    defined = _defined_functions()
    bad = sorted({f"{name} ({_rel(defined[name])})"
                  for name in set(re.findall(r"\b([A-Za-z_]\w*)\b", code))
                  if name in defined and _layer(defined[name]) > mine})
    assert not bad, f"layer {mine} calls a higher layer: {bad}"


def test_core_header_is_small():
    with open(CORE_HEADER, encoding="utf-8") as f:
        lines = f.read().count("\n")
    assert lines <= 300, f"0_core/fastmpi.h has {lines} lines (at most 300)"


def test_layers_are_written_down():
    with open(os.path.join(ROOT, "docs", "architecture.md"),
              encoding="utf-8") as f:
        doc = f.read()
    for folder in sorted({_rel(p).split(os.sep)[0] for p in FILES}):
        assert folder in doc, f"docs/architecture.md does not name {folder}"
    for path in FILES:
        assert os.path.basename(path) in doc, \
            f"docs/architecture.md does not say what {_rel(path)} owns"
