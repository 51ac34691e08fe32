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


# ---- one module state ----------------------------------------------------
#
# All mutable state is in the module state (0_core/state.h, reached as
# fastmpi_st).  Outside 0_core/state.c a file-scope variable, or a static
# one inside a function, must be constant, one of Python's definition
# tables, or listed here with the reason it stays (state.h says the same).

# Python's C API takes these tables non-const (a spec's slots, a module's
# methods); nothing writes them once the types are made.
PY_TABLE_TYPES = {"PyMethodDef", "PyGetSetDef", "PyMemberDef",
                  "PyType_Slot", "PyType_Spec", "PyModuleDef",
                  "PyModuleDef_Slot"}

STATIC_STAYS = {
    ("0_core/trace.c", "fastmpi_trace_on"):
        "read by every MPI call (FASTMPI_CALL): as a state field it costs "
        "a load of fastmpi_st (with the other two flags: +1 instruction per "
        "Send, +2 per Sendrecv; state.h)",
    ("2_buffer/recvguard.c", "fastmpi_recv_guard"):
        "read by every receive: the same cost",
    ("0_core/callbacks.c", "armed"):
        "per thread: the callback bracket of this thread's MPI call",
    ("0_core/callbacks.c", "pending"):
        "per thread: what a callback raised inside this thread's MPI call",
    ("4_comm/errhandler.c", "errh_pending"):
        "per thread: what an error handler raised inside this thread's "
        "MPI call",
    ("2_buffer/staged.c", "staging"):
        "per thread: this thread is parsing a reduction's arguments",
    ("6_module/module.c", "loaded"):
        "refuses a second module instance, so it outlives any one module",
    ("5_ops/coll.c", "never_read"):
        "a dummy address MPI is given and never reads: holds nothing",
    ("2_buffer/dlpack.c", "k"):
        "interned names and constant tuples made once at init, constant "
        "after (like the interned keyword names of every argspec)",
    ("2_buffer/dlpack.c", "cu_pointer_attr"):
        "the CUDA driver's cuPointerGetAttribute, found once in the "
        "process's loaded libraries: the process's, not the module's",
    ("2_buffer/dlpack.c", "cu_seen_adds"):
        "the loader's count of loaded libraries when the CUDA driver was "
        "last looked for: a cache of the process's libraries",
    ("2_buffer/pickler.c", "highest_protocol"):
        "pickle.HIGHEST_PROTOCOL, set once at init and constant after",
}


def _code_only(text):
    """The C code of a file: no comments, strings emptied, no
    preprocessor lines."""
    code = _strip_comments(text).replace("\\\n", " ")
    return re.sub(r"^\s*#.*$", "", code, flags=re.M)


def _close(code, i):
    """The index of the brace that closes the one at code[i]."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise AssertionError("unbalanced braces")


def _statements(code):
    """(declaration text, in_function) for every top-level declaration
    and every static declaration inside a function body."""
    start = i = 0
    while i < len(code):
        if code[i] == ";":
            yield code[start:i], False
            start = i + 1
        elif code[i] == "{":
            end = _close(code, i)
            if code[start:i].rstrip().endswith(")"):    # a function
                for m in re.finditer(r"\bstatic\b[^;]*", code[i:end]):
                    yield m.group(0), True
                start = end + 1
            i = end
        i += 1


def _variables(decl):
    """(name, mutable, text) of each variable a declaration defines."""
    d = re.sub(r"^\s*(?:[A-Z][A-Z0-9_]*\([^()]*\)\s*)+", "", decl).strip()
    while re.search(r"\{[^{}]*\}", d):
        d = re.sub(r"\{[^{}]*\}", "@", d)   # initialisers, struct bodies
    if not d or re.match(r"(typedef|extern|_Static_assert)\b", d):
        return []
    parts = []
    depth = 0
    last = 0
    for k, c in enumerate(d):
        depth += c == "("
        depth -= c == ")"
        if c == "," and depth == 0:
            parts.append(d[last:k])
            last = k + 1
    parts.append(d[last:])
    specifiers = None
    found = []
    for part in parts:
        before_init = part.split("=")[0]
        paren = before_init.find("(")
        if paren >= 0 and not re.match(r"\s*\*", before_init[paren + 1:]):
            return []           # a function's prototype
        m = (re.search(r"\(\s*\*\s*(?:const\s+)?(\w+)\s*\)", before_init)
             or re.search(r"(\w+)\s*(?:\[[^\]]*\]\s*)*$", before_init))
        if m is None:
            continue            # struct X @: a type, no variable
        before = before_init[:m.start(1)]
        if specifiers is None:
            specifiers = before.split("*")[0]
            if not re.search(r"\w", specifiers) or specifiers.strip() in (
                    "struct", "enum", "union"):
                return []       # struct X @, enum @
        if "*" in before:
            const = bool(re.search(r"\*\s*const\s*$", before))
        else:
            const = bool(re.search(r"\bconst\b", specifiers))
        table = bool(set(re.findall(r"\w+", specifiers)) & PY_TABLE_TYPES)
        found.append((m.group(1), not const and not table, d))
    return found


def _mutable_variables(path):
    code = _code_only(_read(path))
    for decl, local in _statements(code):
        for name, mutable, text in _variables(decl):
            if not mutable:
                continue
            if local and re.search(r"\bfastmpi_argspec\b", text):
                continue    # keyword names interned at the first call
            if local and re.match(r"static\s+char\s*\*\s*\w+\s*\[\s*\]\s*=",
                                  text):
                continue    # PyArg_ParseTupleAndKeywords' keyword list
            yield name, text


def _rel(path):
    return os.path.relpath(path, SRC).replace(os.sep, "/")


@pytest.mark.parametrize("path", ALL_FILES, ids=os.path.basename)
def test_mutable_state_is_in_the_module_state(path):
    if _rel(path) == "0_core/state.c":
        pytest.skip("the module state's own file")
    bad = [f"{name} ({text.strip()[:60]})"
           for name, text in _mutable_variables(path)
           if (_rel(path), name) not in STATIC_STAYS]
    assert not bad, ("mutable variables outside the module state "
                     "(move them into fastmpi_state, state.h): "
                     + ", ".join(bad))


def test_static_allowlist_is_current():
    found = {(_rel(p), name) for p in ALL_FILES
             for name, _ in _mutable_variables(p)}
    stale = set(STATIC_STAYS) - found
    assert not stale, f"allowlisted statics that no longer exist: {stale}"


def test_lint_sees_mutable_variables():
    """The scanner itself, on the shapes it must tell apart."""
    code = _code_only("""
        static int counter = 0;
        static PyObject *cache[4], *other;
        static const char *const names[] = {"a", NULL};
        static const char *loose[] = {"a", NULL};
        static PyMethodDef methods[] = {{NULL}};
        static struct { int a; } pool[2];
        static int (*hook)(void);
        static int helper(int x);
        void run(int (*callback)(void), int n);
        typedef struct { int a; } thing;
        int
        f(void)
        {
            static fastmpi_argspec spec = {"f", names, 0};
            static int calls;
            return calls++;
        }
        """)
    got = {name: mutable for decl, local in _statements(code)
           for name, mutable, _ in _variables(decl)}
    assert got == {"counter": True, "cache": True, "other": True,
                   "names": False, "loose": True, "methods": False,
                   "pool": True, "hook": True, "spec": True,
                   "calls": True}, got


@pytest.mark.parametrize("path", C_FILES, ids=os.path.basename)
def test_types_are_made_only_by_typespec(path):
    """fastmpi_type_new (typespec.c) makes every type whole from its spec,
    immutable; nothing else makes one (or patches it afterwards)."""
    if _rel(path) == "0_core/typespec.c":
        pytest.skip("the one place types are made")
    code = _strip_comments(_read(path))
    made = re.findall(r"\bPyType_From\w+", code)
    assert not made, f"use fastmpi_type_new (typespec.c), not {made}"
