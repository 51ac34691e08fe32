"""The module state (src/_mpi/0_core/state.h): every type is immutable, made
whole from its spec, and the state's references are visible to the garbage
collector.  Each case in a fresh interpreter (a singleton, no mpiexec)."""
import pytest

from conftest import py


@pytest.fixture
def fastmpi(target):
    if target.impl != "fastmpi":
        pytest.skip("fastmpi's own module state")
    return target


def test_types_are_immutable(fastmpi):
    res = py(fastmpi, """
import gc
from PKG import MPI
IMMUTABLE = 1 << 8      # Py_TPFLAGS_IMMUTABLETYPE
# the exported classes, and the internal ones the state holds
# (_RecvArea, the type of BOTTOM and IN_PLACE)
types = {t for t in list(vars(MPI).values()) + gc.get_referents(MPI)
         if isinstance(t, type) and t.__module__ == "fastmpi.MPI"}
assert len(types) >= 20 and type(MPI.BOTTOM) in types, types
for t in types:
    assert t.__flags__ & IMMUTABLE, t
    try:
        t.patched = 1
    except TypeError:
        pass
    else:
        raise AssertionError(f"{t.__name__} took a new attribute")
print("OK", len(types))
""")
    assert res.returncode == 0 and "OK" in res.out, res


def test_state_references_are_traversed(fastmpi):
    """What the caches and tables hold is reachable from the module for
    gc (m_traverse), not hidden in C statics."""
    res = py(fastmpi, """
import gc
import numpy as np
from PKG import MPI
def copy_fn(*args): return True
def delete_fn(*args): pass
def handler(comm, code): pass
keyval = MPI.Comm.Create_keyval(copy_fn=copy_fn, delete_fn=delete_fn)
errh = MPI.Comm.Create_errhandler(handler)
a = np.zeros(3)
MPI.COMM_SELF.Send(a, MPI.PROC_NULL, 0)
s = np.zeros(2, [("x", "i4"), ("y", "f8")])
MPI.COMM_SELF.Send(s, MPI.PROC_NULL, 0)
refs = gc.get_referents(MPI)
seen = lambda obj: any(r is obj for r in refs)
for name, obj in [("copy_fn", copy_fn), ("delete_fn", delete_fn),
                  ("handler", handler), ("ndarray", np.ndarray),
                  ("dtype key", a.dtype), ("structured dtype", s.dtype),
                  ("Errhandler", MPI.Errhandler), ("SUM", MPI.SUM),
                  ("Comm", MPI.Comm)]:
    assert seen(obj), name
MPI.Comm.Free_keyval(keyval)
errh.Free()
print("OK")
""")
    assert res.returncode == 0 and "OK" in res.out, res
