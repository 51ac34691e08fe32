"""Every public name of mpi4py 4.1's MPI module, outside the areas that have
issues of their own (one-sided, MPI-IO, dynamic processes, sessions,
persistent collectives, partitioned calls), exists on fastmpi.MPI with the
same kind, and every callable has mpi4py's parameters: the same names in
the same order, the same defaults (as written in mpi4py's stubs), taken by
keyword where mpi4py takes them so.

The reference is tests/mpi4py_names.json, made by tools/mpi4py_names.py
from mpi4py 4.1.2's MPI.pyi.  Signatures are read from each builtin's
__text_signature__; the special methods CPython itself defines (slot
wrappers such as __eq__ or __new__) have CPython's, and a class's
constructor is read from the class.  Local checks only: every rank runs
them on its own."""
import json
import os

import pytest

from _impl import IMPL, MPI

pytestmark = pytest.mark.skipif(IMPL != "fastmpi",
                                reason="fastmpi against mpi4py's names")

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "mpi4py_names.json"), encoding="utf-8") as f:
    NAMES = json.load(f)

CORE = {k: v for k, v in NAMES.items() if v["area"] == "core"}
CALLABLE = ("method", "classmethod", "staticmethod", "function")

def _lookup(name):
    """(owner, raw attribute, attribute) of a dotted name under MPI."""
    parts = name.split(".")
    owner = MPI
    for p in parts[:-1]:
        owner = getattr(owner, p)
    leaf = parts[-1]
    raw = None
    if isinstance(owner, type):
        for k in owner.__mro__:
            if leaf in k.__dict__:
                raw = k.__dict__[leaf]
                break
    return owner, raw, getattr(owner, leaf)


def _is_special(name):
    return name.split(".")[-1].startswith("__")


def _parse(text):
    """[(name, kind, default text)] of a __text_signature__, without the
    $self/$cls/$module parameter."""
    inner = text.strip()[1:-1]
    out, kind = [], "normal"
    for p in (x.strip() for x in inner.split(",")) if inner.strip() else ():
        if p.startswith("$"):
            continue
        if p == "/":
            out = [(n, "positional_only", d) for n, _, d in out]
        elif p == "*":
            kind = "keyword_only"
        elif p.startswith("**"):
            out.append((p[2:], "var_keyword", None))
        elif p.startswith("*"):
            out.append((p[1:], "var_positional", None))
            kind = "keyword_only"
        else:
            n, _, d = p.partition("=")
            out.append((n, kind, d or None))
    return out


def _wanted(entry):
    return [tuple(p) for p in entry["params"] if p[0] not in ("self", "cls")]


def test_the_reference_list_is_whole():
    # the list the other tests read: made from the stub, not trimmed
    assert len(NAMES) > 1000
    assert {"Comm.Send", "Intracomm.Scan", "COMM_WORLD", "Datatype",
            "buffer.allocate", "Win.Put", "File.Open"} <= set(NAMES)
    assert NAMES["Win.Put"]["area"] == "win"
    assert NAMES["Comm.Send"]["area"] == "core"


@pytest.mark.parametrize("name", sorted(CORE))
def test_name_exists(name):
    _lookup(name)


def _kind_ok(entry, owner, raw, obj):
    kind = entry["kind"]
    if kind == "class":
        return isinstance(obj, type)
    if kind == "method":
        return callable(obj) and not isinstance(raw, (classmethod,
                                                      staticmethod)) and \
            type(raw).__name__ != "classmethod_descriptor"
    if kind == "classmethod":
        return type(raw).__name__ == "classmethod_descriptor" or \
            isinstance(raw, classmethod)
    if kind == "staticmethod":
        return isinstance(raw, staticmethod)
    if kind == "function":
        return callable(obj) and not isinstance(obj, type)
    if kind in ("property", "attribute"):
        # a data descriptor of the class (getset, member, property)
        return raw is not None and hasattr(type(raw), "__get__") and \
            not callable(raw)
    if kind == "constant":
        want = entry["type"]
        if want.startswith("dict["):
            return isinstance(obj, dict)
        return type(obj).__name__ == want or \
            any(k.__name__ == want for k in type(obj).__mro__)
    if kind == "alias":
        return obj is _lookup(entry["of"])[2]
    return False


@pytest.mark.parametrize("name", sorted(CORE))
def test_name_has_the_kind(name):
    owner, raw, obj = _lookup(name)
    assert _kind_ok(CORE[name], owner, raw, obj), (
        name, CORE[name], type(raw).__name__, type(obj).__name__)


SIGNED = sorted(n for n, e in CORE.items()
                if e["kind"] in CALLABLE and not _is_special(n))


@pytest.mark.parametrize("name", SIGNED)
def test_signature_matches(name):
    obj = _lookup(name)[2]
    text = getattr(obj, "__text_signature__", None)
    assert text, f"{name} has no signature"
    got = _parse(text)
    want = _wanted(CORE[name])
    assert [g[0] for g in got] == [w[0] for w in want], (name, text)
    assert [g[2] for g in got] == [w[2] for w in want], (name, text)
    assert [g[1] for g in got] == [w[1] for w in want], (name, text)


CLASSES = sorted(n for n, e in CORE.items() if e["kind"] == "class")


@pytest.mark.parametrize("name", CLASSES)
def test_constructor_signature(name):
    ctor = CORE.get(name + ".__new__") or CORE.get(name + ".__init__")
    cls = getattr(MPI, name)
    text = cls.__text_signature__
    assert text, f"{name} has no constructor signature"
    got = _parse(text)
    want = _wanted(ctor) if ctor else []
    # a superset at the end (Pickle's protocol, threshold): extra
    # parameters with defaults that mpi4py's calls never reach
    assert got[:len(want)] == want, (name, text, want)
    assert all(d is not None for _, _, d in got[len(want):]), (name, text)


class _Sentinel:
    """An argument no MPI call accepts."""


def _receiver(name, kind):
    """What to call a method on: the class's null object (no MPI call
    can block or act on it), the class itself for class methods."""
    owner = getattr(MPI, name.split(".")[0]) if "." in name else MPI
    if "." in name and kind == "method":
        return owner()
    return owner


# Calls that end the process or the library whatever their arguments say.
NEVER_CALLED = {"Comm.Abort", "Finalize", "Init", "Init_thread"}


@pytest.mark.parametrize("name", [n for n in SIGNED if n not in NEVER_CALLED
                                  and any(p[1] in ("normal", "keyword_only")
                                          for p in _wanted(CORE[n]))])
def test_keyword_calls_reach_the_arguments(name):
    # every parameter mpi4py takes by keyword, passed by keyword with a
    # value no call accepts: the call must get past keyword parsing and
    # refuse the value (any exception but "unexpected keyword")
    entry = CORE[name]
    kw = {p[0]: _Sentinel() for p in _wanted(entry)
          if p[1] in ("normal", "keyword_only")}
    f = getattr(_receiver(name, entry["kind"]), name.split(".")[-1])
    try:
        f(**kw)
    except TypeError as e:
        text = str(e)
        assert "keyword" not in text and "positional" not in text, \
            (name, text)
    except Exception:
        pass            # refused the value: the keywords were taken


@pytest.mark.parametrize("name", [
    n for n in SIGNED if n not in NEVER_CALLED
    and CORE[n]["kind"] != "staticmethod"
    and not any(p[1] == "var_keyword" for p in CORE[n]["params"])])
def test_unknown_keyword_raises_type_error(name):
    entry = CORE[name]
    f = getattr(_receiver(name, entry["kind"]), name.split(".")[-1])
    try:
        f(no_such_parameter_name=1)
    except NotImplementedError:
        # a call of a newer MPI than this library: refused before its
        # arguments are read (the signature test still checks its names)
        assert MPI.Get_version() < (4, 1)
    except TypeError as e:
        # unknown, or found out first that required ones are missing
        assert "no_such_parameter_name" in str(e) or \
            "keyword" in str(e) or "missing" in str(e), e
    else:
        pytest.fail(f"{name} took an unknown keyword")


def test_signatures_evaluate_where_python_can():
    # inspect evaluates literal defaults; constants stay as the names
    # mpi4py's stubs write (ANY_SOURCE, SUM, INFO_NULL, ...)
    import inspect
    sig = inspect.signature(MPI.Comm.Send)
    assert list(sig.parameters) == ["self", "buf", "dest", "tag"]
    assert sig.parameters["tag"].default == 0
    assert MPI.Comm.Recv.__text_signature__ == \
        "($self, buf, source=ANY_SOURCE, tag=ANY_TAG, status=None)"
    assert str(inspect.signature(MPI.Comm)) == "(comm=None)"
