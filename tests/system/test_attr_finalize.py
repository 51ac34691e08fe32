"""Attributes at MPI.Finalize(): COMM_SELF's are deleted first (the MPI
standard's finalize hook), their delete_fn runs, and an exception it
raises comes out of Finalize().  A fresh interpreter per case."""
import pytest

from conftest import py


def test_comm_self_attribute_deleted_at_finalize(target):
    res = py(target, """
from PKG import MPI
seen = []
k = MPI.Comm.Create_keyval(delete_fn=lambda c, k, v: seen.append(v))
MPI.COMM_SELF.Set_attr(k, "hook")
MPI.Finalize()
assert seen == ["hook"], seen
print("OK")
""")
    assert res.returncode == 0 and "OK" in res.out, res


def test_delete_fn_exception_raised_by_finalize(target):
    if target.impl == "mpi4py":
        pytest.xfail("mpi4py prints it and raises MPI.Exception instead")
    res = py(target, """
from PKG import MPI
def bad(c, k, v):
    raise ValueError("finalize hook failed")
k = MPI.Comm.Create_keyval(delete_fn=bad)
MPI.COMM_SELF.Set_attr(k, 1)
try:
    MPI.Finalize()
except ValueError as e:
    assert "finalize hook failed" in str(e)
    assert MPI.Is_finalized()
    print("OK")
""")
    assert res.returncode == 0 and "OK" in res.out, res


def test_attributes_left_at_exit(target):
    # communicators never freed, with attributes, at the automatic
    # finalisation: no crash, delete_fn output still printed
    res = py(target, """
from PKG import MPI
k = MPI.Comm.Create_keyval(delete_fn=lambda c, k, v: print("deleted", v))
c = MPI.COMM_WORLD.Dup()
c.Set_attr(k, "on a dup")
MPI.COMM_SELF.Set_attr(k, "on self")
MPI.COMM_WORLD.Set_attr(k, "on world")
print("OK")
""")
    assert res.returncode == 0 and "OK" in res.out, res
    assert "deleted on self" in res.out, res
