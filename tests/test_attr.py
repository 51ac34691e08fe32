"""Attribute caching: keyvals, Set/Get/Delete_attr, copy and delete
callbacks, predefined attributes."""
import gc
import os
import sys

import pytest

from _impl import MPI, FLAVOR
from _impl import UNDER_ASAN, rss_kb as _rss_kb


@pytest.fixture
def dup(comm):
    c = comm.Dup()
    yield c
    if c != MPI.COMM_NULL:
        c.Free()


def test_set_get_delete_object(dup):
    k = MPI.Comm.Create_keyval()
    try:
        assert dup.Get_attr(k) is None
        value = {"a": [1, 2]}
        dup.Set_attr(k, value)
        assert dup.Get_attr(k) is value
        dup.Set_attr(k, "other")
        assert dup.Get_attr(k) == "other"
        dup.Delete_attr(k)
        assert dup.Get_attr(k) is None
    finally:
        MPI.Comm.Free_keyval(k)


def test_reference_held_and_released(dup):
    k = MPI.Comm.Create_keyval()
    obj = object()
    base = sys.getrefcount(obj)
    dup.Set_attr(k, obj)
    assert sys.getrefcount(obj) == base + 1
    dup.Set_attr(k, 5)                    # replaced: released
    assert sys.getrefcount(obj) == base
    dup.Set_attr(k, obj)
    dup.Delete_attr(k)                    # deleted: released
    assert sys.getrefcount(obj) == base
    c2 = dup.Dup()
    c2.Set_attr(k, obj)
    assert sys.getrefcount(obj) == base + 1
    c2.Free()                             # comm freed: released
    assert sys.getrefcount(obj) == base
    MPI.Comm.Free_keyval(k)


@pytest.mark.beyond_mpi4py
def test_free_keyval_returns_invalid_and_keeps_attributes(dup):
    k = MPI.Comm.Create_keyval()
    dup.Set_attr(k, [1])
    assert MPI.Comm.Free_keyval(k) == MPI.KEYVAL_INVALID
    # the attribute stays until the communicator goes (MPI semantics)
    with pytest.raises(MPI.Exception):
        MPI.Comm.Free_keyval(k)         # freed once is enough
    with pytest.raises(MPI.Exception):
        dup.Get_attr(k)


def test_delete_fn_called(dup):
    calls = []

    def delete_fn(comm, keyval, attrval):
        calls.append((type(comm), keyval, attrval))

    k = MPI.Comm.Create_keyval(delete_fn=delete_fn)
    dup.Set_attr(k, "v1")
    dup.Set_attr(k, "v2")                  # replace -> delete "v1"
    assert [c[2] for c in calls] == ["v1"]
    assert issubclass(calls[0][0], MPI.Comm) and calls[0][1] == k
    dup.Delete_attr(k)
    assert [c[2] for c in calls] == ["v1", "v2"]
    c2 = dup.Dup()
    c2.Set_attr(k, "v3")
    c2.Free()
    assert [c[2] for c in calls] == ["v1", "v2", "v3"]
    MPI.Comm.Free_keyval(k)


@pytest.mark.mpich_big
def test_copy_semantics(dup):
    seen = []

    def copy_fn(comm, keyval, attrval):
        seen.append(attrval)
        return attrval + 1

    def no_copy(comm, keyval, attrval):
        return NotImplemented

    kc = MPI.Comm.Create_keyval(copy_fn=copy_fn)
    kt = MPI.Comm.Create_keyval(copy_fn=True)
    kn = MPI.Comm.Create_keyval()               # None: never copied
    ki = MPI.Comm.Create_keyval(copy_fn=no_copy)
    shared = ["same"]
    dup.Set_attr(kc, 41)
    dup.Set_attr(kt, shared)
    dup.Set_attr(kn, "x")
    dup.Set_attr(ki, "y")
    c2 = dup.Dup()
    try:
        assert seen == [41]
        assert c2.Get_attr(kc) == 42
        assert c2.Get_attr(kt) is shared
        assert c2.Get_attr(kn) is None
        assert c2.Get_attr(ki) is None
    finally:
        c2.Free()
    for k in (kc, kt, kn, ki):
        MPI.Comm.Free_keyval(k)


def test_nopython_keyval(dup):
    k = MPI.Comm.Create_keyval(nopython=True)
    kc = MPI.Comm.Create_keyval(copy_fn=True, nopython=True)
    dup.Set_attr(k, 123)
    assert dup.Get_attr(k) == 123
    with pytest.raises(TypeError):
        dup.Set_attr(k, "not an int")
    dup.Set_attr(kc, 77)
    c2 = dup.Dup()
    assert c2.Get_attr(kc) == 77
    assert c2.Get_attr(k) is None
    c2.Free()
    MPI.Comm.Free_keyval(k)
    MPI.Comm.Free_keyval(kc)


@pytest.mark.beyond_mpi4py
def test_copy_fn_exception_raised_by_dup(dup):
    def bad_copy(comm, keyval, attrval):
        raise ValueError("copy failed")

    k = MPI.Comm.Create_keyval(copy_fn=bad_copy)
    dup.Set_attr(k, 1)
    with pytest.raises(ValueError, match="copy failed"):
        dup.Dup()
    dup.Delete_attr(k)
    c2 = dup.Dup()                      # works again once it is gone
    c2.Free()
    MPI.Comm.Free_keyval(k)


@pytest.mark.beyond_mpi4py
def test_delete_fn_exception_raised(dup):
    def bad_delete(comm, keyval, attrval):
        raise KeyError(attrval)

    k = MPI.Comm.Create_keyval(delete_fn=bad_delete)
    dup.Set_attr(k, "a")
    with pytest.raises(KeyError):
        dup.Set_attr(k, "b")            # replacing deletes "a"
    assert dup.Get_attr(k) == "b"
    with pytest.raises(KeyError):
        dup.Delete_attr(k)
    assert dup.Get_attr(k) is None      # removed all the same
    c2 = dup.Dup()
    c2.Set_attr(k, "c")
    with pytest.raises(KeyError):
        c2.Free()
    assert c2 == MPI.COMM_NULL          # freed all the same
    MPI.Comm.Free_keyval(k)


def test_bad_keyvals(dup):
    with pytest.raises(TypeError):
        dup.Get_attr("x")
    with pytest.raises(TypeError):
        dup.Set_attr(None, 1)
    with pytest.raises(MPI.Exception):
        dup.Get_attr(123456)
    with pytest.raises(MPI.Exception):
        dup.Set_attr(123456, 1)
    with pytest.raises(MPI.Exception):
        dup.Delete_attr(123456)
    with pytest.raises(MPI.Exception):
        MPI.Comm.Free_keyval(123456)
    with pytest.raises(MPI.Exception):
        MPI.Comm.Free_keyval(MPI.TAG_UB)
    with pytest.raises(MPI.Exception):
        dup.Set_attr(MPI.TAG_UB, 5)
    with pytest.raises(MPI.Exception):
        dup.Delete_attr(MPI.TAG_UB)


@pytest.mark.beyond_mpi4py
def test_bad_keyvals_fastmpi_detail(dup):
    with pytest.raises(MPI.Exception) as e:
        dup.Get_attr(2**40)
    assert e.value.Get_error_class() == MPI.ERR_KEYVAL
    with pytest.raises(TypeError):
        MPI.Comm.Create_keyval(copy_fn=5)
    with pytest.raises(TypeError):
        MPI.Comm.Create_keyval(delete_fn="no")
    k = MPI.Comm.Create_keyval()
    MPI.Comm.Free_keyval(k)
    with pytest.raises(MPI.Exception) as e:
        dup.Set_attr(k, 1)
    assert e.value.Get_error_class() == MPI.ERR_KEYVAL
    with pytest.raises(MPI.Exception):
        MPI.COMM_NULL.Get_attr(MPI.TAG_UB)


def test_predefined_attributes(comm):
    tag_ub = comm.Get_attr(MPI.TAG_UB)
    assert isinstance(tag_ub, int) and tag_ub >= 32767
    for name in ("HOST", "IO", "WTIME_IS_GLOBAL", "UNIVERSE_SIZE", "APPNUM",
                 "LASTUSEDCODE"):
        v = comm.Get_attr(getattr(MPI, name))
        assert v is None or isinstance(v, int), name
    assert comm.Get_attr(MPI.LASTUSEDCODE) >= MPI.ERR_LASTCODE
    assert comm.Get_attr(MPI.WTIME_IS_GLOBAL) in (None, 0, 1)


@pytest.mark.mpich_big
def test_attribute_per_rank(comm, dup, rank):
    k = MPI.Comm.Create_keyval(copy_fn=True)
    dup.Set_attr(k, ("rank", rank))
    c2 = dup.Dup()
    got = c2.allgather(c2.Get_attr(k))
    assert got == [("rank", r) for r in range(comm.Get_size())]
    c2.Free()
    MPI.Comm.Free_keyval(k)


@pytest.mark.beyond_mpi4py
def test_datatype_keyvals():
    t = MPI.INT                         # attributes work on any datatype
    k = MPI.Datatype.Create_keyval(copy_fn=True)
    deleted = []
    kd = MPI.Datatype.Create_keyval(delete_fn=lambda o, k, v:
                                    deleted.append(v))
    try:
        t.Set_attr(k, [1, 2])
        t.Set_attr(kd, "gone")
        assert t.Get_attr(k) == [1, 2]
        t2 = t.Dup()
        assert t2.Get_attr(k) == [1, 2]
        assert t2.Get_attr(kd) is None
        t2.Free()
        t.Delete_attr(kd)
        assert deleted == ["gone"]
        assert t.Get_attr(kd) is None
        with pytest.raises(MPI.Exception):
            MPI.COMM_SELF.Get_attr(k)   # a datatype keyval
        with pytest.raises(MPI.Exception):
            t.Get_attr(MPI.TAG_UB)      # a communicator keyval
        t.Delete_attr(k)
    finally:
        MPI.Datatype.Free_keyval(k)
        MPI.Datatype.Free_keyval(kd)


@pytest.mark.beyond_mpi4py
def test_datatype_callback_exceptions_raised_by_dup_and_free():
    def bad_copy(o, k, v):
        raise KeyError("copy refused")

    def bad_delete(o, k, v):
        raise LookupError("delete refused")

    kc = MPI.Datatype.Create_keyval(copy_fn=bad_copy)
    kd = MPI.Datatype.Create_keyval(delete_fn=bad_delete)
    t = MPI.DOUBLE.Create_contiguous(2).Commit()
    try:
        t.Set_attr(kc, 1)
        with pytest.raises(KeyError, match="copy refused"):
            t.Dup()
        t.Delete_attr(kc)
        t.Set_attr(kd, 2)
        with pytest.raises(LookupError, match="delete refused"):
            t.Free()
        assert t == MPI.DATATYPE_NULL   # freed all the same
    finally:
        MPI.Datatype.Free_keyval(kc)
        MPI.Datatype.Free_keyval(kd)





def test_keyval_loop_no_leak(dup):
    payload = [1, 2, 3]

    def loop(n):
        for _ in range(n):
            k = MPI.Comm.Create_keyval(delete_fn=lambda c, k, v: None)
            dup.Set_attr(k, payload)
            dup.Set_attr(k, payload)
            dup.Get_attr(k)
            dup.Delete_attr(k)
            MPI.Comm.Free_keyval(k)

    loop(1000)
    gc.collect()
    blocks0, rss0 = sys.getallocatedblocks(), _rss_kb()
    base = sys.getrefcount(payload)
    loop(10_000)
    gc.collect()
    assert sys.getrefcount(payload) == base
    assert sys.getallocatedblocks() - blocks0 < 200
    if not UNDER_ASAN:      # its quarantine: RSS says nothing
        assert _rss_kb() - rss0 < 2048


@pytest.mark.beyond_mpi4py
def test_callbacks_while_another_thread_runs(dup):
    # With a second thread alive fastmpi releases the GIL around Dup and
    # Free: the callbacks must take it back themselves.
    import threading
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        def copy_fn(comm, keyval, attrval):
            return attrval * 2

        def bad_delete(comm, keyval, attrval):
            raise RuntimeError("delete %r" % (attrval,))

        k = MPI.Comm.Create_keyval(copy_fn=copy_fn, delete_fn=bad_delete)
        dup.Set_attr(k, 21)
        c2 = dup.Dup()
        assert c2.Get_attr(k) == 42
        with pytest.raises(RuntimeError, match="delete 42"):
            c2.Free()
        with pytest.raises(RuntimeError, match="delete 21"):
            dup.Delete_attr(k)
        MPI.Comm.Free_keyval(k)
    finally:
        stop.set()
        t.join()
