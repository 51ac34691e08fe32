"""Lint the C extension's own source: the rules STYLE.md keeps.

Plain pytest (no MPI): it reads src/_mpi and the staged modules.
"""
import glob
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "src", "_mpi")
C_FILES = sorted(glob.glob(os.path.join(SRC, "*", "*.c")))
ALL_FILES = C_FILES + sorted(glob.glob(os.path.join(SRC, "*", "*.h")))
HOT_PATH = ("5_ops/p2p.c", "5_ops/objp2p.c", "2_buffer/msgbuffer.c",
            "2_buffer/pickle.c")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"),
                  text, flags=re.S)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def test_sources_found():
    assert len(C_FILES) >= 10, C_FILES


@pytest.mark.parametrize("path", ALL_FILES, ids=os.path.basename)
def test_pep7_line_length(path):
    long_lines = [i + 1 for i, line in enumerate(_read(path).splitlines())
                  if len(line) > 79]
    assert not long_lines, f"lines over 79 columns: {long_lines}"


@pytest.mark.parametrize("path", C_FILES, ids=os.path.basename)
def test_includes_fastmpi_h_first(path):
    includes = re.findall(r'^#include [<"]([^>"]+)[>"]', _read(path), re.M)
    assert includes and includes[0] in ("fastmpi.h", "../0_core/fastmpi.h"), \
        includes


@pytest.mark.parametrize("path", C_FILES, ids=os.path.basename)
def test_gil_released_only_through_the_macros(path):
    code = _strip_comments(_read(path))
    assert "Py_BEGIN_ALLOW_THREADS" not in code, \
        "use FASTMPI_NOGIL_BEGIN/END (fastmpi.h)"
    assert code.count("FASTMPI_NOGIL_BEGIN") == \
        code.count("FASTMPI_NOGIL_END")


@pytest.mark.parametrize("path", C_FILES, ids=os.path.basename)
def test_no_python_api_without_the_gil(path):
    code = _strip_comments(_read(path))
    for block in re.findall(r"FASTMPI_NOGIL_BEGIN(.*?)FASTMPI_NOGIL_END",
                            code, flags=re.S):
        calls = re.findall(r"\b(Py[A-Za-z_]\w*)\s*\(", block)
        allowed = set()
        assert not set(calls) - allowed, \
            f"Python API called without the GIL: {set(calls) - allowed}"


@pytest.mark.parametrize("name", HOT_PATH)
def test_hot_paths_avoid_tuple_parsing(name):
    code = _strip_comments(_read(os.path.join(SRC, name)))
    assert "PyArg_Parse" not in code
    assert "METH_VARARGS" not in code


@pytest.mark.parametrize("path", C_FILES, ids=os.path.basename)
def test_mpi_return_codes_are_checked(path):
    """Each MPI call's code goes to fastmpi_check, or to ierr (checked
    later), or is compared with MPI_SUCCESS, or is one of the calls that cannot fail or whose failure is
    deliberately ignored in a cleanup or query path."""
    never_checked = {
        "MPI_Wtime", "MPI_Wtick", "MPI_Get_address", "MPI_Comm_c2f",
        "MPI_Error_class", "MPI_Error_string",   # inside error reporting
        "MPI_Type_get_name",                     # repr only
        "MPI_Initialized", "MPI_Finalized",      # at exit
        "MPI_Buffer_detach",                     # at exit, then finalize
        "MPI_Type_free",                         # releasing a temporary
        "MPI_Group_free", "MPI_Info_free",       # the same (group.c, ...)
        "MPI_Comm_free",                         # a comm no object took
        "MPI_Cancel", "MPI_Wait",                # cleanup after an error
        "MPI_Comm_test_inter",                   # on a handle just made
        "MPI_Aint_add", "MPI_Aint_diff",         # return an address
    }
    code = _strip_comments(_read(path))
    bad = []
    for m in re.finditer(r"\b(MPI_[A-Z][a-z_]+)\s*\(", code):
        name = m.group(1)
        before = code[max(0, m.start() - 60):m.start()]
        if re.search(r"(fastmpi_check\(\s*|ierr\s*=\s*|return\s+)$", before):
            continue
        # compared with MPI_SUCCESS in the same expression
        end = min(i for i in (code.find(";", m.end()), code.find("{", m.end()),
                              len(code)) if i >= 0)
        if re.search(r"\)\s*[!=]=\s*MPI_SUCCESS", code[m.end():end]):
            continue
        if name in never_checked:
            continue
        line = code.count("\n", 0, m.start()) + 1
        bad.append(f"{name} at line {line}")
    assert not bad, "unchecked MPI calls: " + ", ".join(bad)


@pytest.mark.parametrize("mpi", ["mpich", "openmpi"])
def test_only_pyinit_is_exported(mpi):
    mods = glob.glob(os.path.join(ROOT, "build", mpi, "lib", "fastmpi",
                                  "MPI*.so"))
    assert mods, f"no staged module for {mpi}: run make stage MPI={mpi}"
    out = subprocess.run(["nm", "-D", "--defined-only", mods[0]],
                         capture_output=True, text=True, check=True).stdout
    symbols = {line.split()[-1] for line in out.splitlines()
               if line.split() and line.split()[-2] in "TDB"}
    assert symbols == {"PyInit_MPI"}, sorted(symbols)
