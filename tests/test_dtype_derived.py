"""Derived datatypes: constructors, extents, envelope/contents, decode,
Commit/Free, object model, and derived types in messages."""
import gc
import os
import sys

import numpy as np
import pytest

from _impl import MPI, peer
from _impl import UNDER_ASAN, rss_kb as _rss_kb

I4 = MPI.INT.Get_size()
F8 = MPI.DOUBLE.Get_size()


def _free(*types):
    for t in types:
        if t and not t.is_predefined:
            t.Free()


def _rebuild(t):
    """A new type made by feeding t.decode() back into its constructor."""
    base, name, p = t.decode()
    try:
        if name == "DUP":
            return base.Dup()
        if name == "CONTIGUOUS":
            return base.Create_contiguous(p["count"])
        if name == "VECTOR":
            return base.Create_vector(p["count"], p["blocklength"], p["stride"])
        if name == "HVECTOR":
            return base.Create_hvector(p["count"], p["blocklength"], p["stride"])
        if name == "INDEXED":
            return base.Create_indexed(p["blocklengths"], p["displacements"])
        if name == "HINDEXED":
            return base.Create_hindexed(p["blocklengths"], p["displacements"])
        if name == "INDEXED_BLOCK":
            return base.Create_indexed_block(p["blocklength"], p["displacements"])
        if name == "HINDEXED_BLOCK":
            return base.Create_hindexed_block(p["blocklength"],
                                              p["displacements"])
        if name == "STRUCT":
            return MPI.Datatype.Create_struct(
                p["blocklengths"], p["displacements"], p["datatypes"])
        if name == "SUBARRAY":
            return base.Create_subarray(p["sizes"], p["subsizes"], p["starts"],
                                        order=p["order"])
        if name == "DARRAY":
            return base.Create_darray(p["size"], p["rank"], p["gsizes"],
                                      p["distribs"], p["dargs"], p["psizes"],
                                      order=p["order"])
        if name == "RESIZED":
            return base.Create_resized(p["lb"], p["extent"])
        raise AssertionError(name)
    finally:
        if name == "STRUCT":
            _free(*p["datatypes"])
        elif base is not t:
            _free(base)


CASES = {
    "DUP": (lambda: MPI.INT.Dup(), I4, (0, I4)),
    "CONTIGUOUS": (lambda: MPI.INT.Create_contiguous(3), 3 * I4, (0, 3 * I4)),
    "VECTOR": (lambda: MPI.INT.Create_vector(2, 3, 4), 6 * I4, (0, 7 * I4)),
    "HVECTOR": (lambda: MPI.INT.Create_hvector(3, 1, 16), 3 * I4,
                (0, 32 + I4)),
    "INDEXED": (lambda: MPI.INT.Create_indexed([1, 2], [0, 3]), 3 * I4,
                (0, 5 * I4)),
    "HINDEXED": (lambda: MPI.INT.Create_hindexed([2, 1], [0, 24]), 3 * I4,
                 (0, 24 + I4)),
    "INDEXED_BLOCK": (lambda: MPI.INT.Create_indexed_block(2, [0, 5]),
                      4 * I4, (0, 7 * I4)),
    "HINDEXED_BLOCK": (lambda: MPI.INT.Create_hindexed_block(2, [0, 16]),
                       4 * I4, (0, 16 + 2 * I4)),
    "STRUCT": (lambda: MPI.Datatype.Create_struct(
        [1, 2], [0, 8], [MPI.INT, MPI.DOUBLE]), I4 + 2 * F8, (0, 24)),
    "SUBARRAY": (lambda: MPI.INT.Create_subarray([4, 5], [2, 3], [1, 1]),
                 6 * I4, (0, 20 * I4)),
    "SUBARRAY_F": (lambda: MPI.INT.Create_subarray(
        [4, 5], [2, 3], [1, 1], order=MPI.ORDER_FORTRAN), 6 * I4,
        (0, 20 * I4)),
    "DARRAY": (lambda: MPI.INT.Create_darray(
        2, 1, [8, 4], [MPI.DISTRIBUTE_BLOCK, MPI.DISTRIBUTE_NONE],
        [MPI.DISTRIBUTE_DFLT_DARG, MPI.DISTRIBUTE_DFLT_DARG], [2, 1]),
        16 * I4, (0, 32 * I4)),
    "RESIZED": (lambda: MPI.INT.Create_resized(-4, 16), I4, (-4, 16)),
}
COMBINER = {"SUBARRAY_F": "SUBARRAY"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_constructor_size_extent(name):
    make, size, (lb, extent) = CASES[name]
    t = make()
    try:
        assert t.Get_size() == t.size == size
        assert t.Get_extent() == (lb, extent)
        assert (t.lb, t.extent, t.ub) == (lb, extent, lb + extent)
        tlb, text = t.Get_true_extent()
        assert (t.true_lb, t.true_extent, t.true_ub) == (tlb, text, tlb + text)
        assert not t.is_named and not t.is_predefined
        combiner = getattr(MPI, "COMBINER_" + COMBINER.get(name, name))
        assert t.combiner == combiner
        assert t.Get_envelope()[3] == combiner
        assert t.Commit() is t
    finally:
        t.Free()
    assert t == MPI.DATATYPE_NULL


@pytest.mark.parametrize("name", sorted(CASES))
def test_envelope_contents_round_trip(name):
    t = CASES[name][0]()
    r = _rebuild(t)
    try:
        assert t.decode()[1] == COMBINER.get(name, name)
        assert r.Get_envelope() == t.Get_envelope()
        ci, ca, cd = t.Get_contents()
        ri, ra, rd = r.Get_contents()
        assert (ci, ca) == (ri, ra)
        assert len(cd) == len(rd) == t.Get_envelope()[2]
        assert [d.Get_size() for d in cd] == [d.Get_size() for d in rd]
        _free(*cd, *rd)
        assert (r.size, r.Get_extent(), r.Get_true_extent()) == \
            (t.size, t.Get_extent(), t.Get_true_extent())
    finally:
        t.Free()
        r.Free()


def test_decode_params():
    t = MPI.INT.Create_vector(2, 3, 4)
    base, name, p = t.decode()
    assert base == MPI.INT and name == "VECTOR"
    assert p == {"count": 2, "blocklength": 3, "stride": 4}
    t.Free()
    s = MPI.Datatype.Create_struct([1, 2], [0, 8], [MPI.INT, MPI.DOUBLE])
    base, name, p = s.decode()
    assert name == "STRUCT"
    assert p["blocklengths"] == [1, 2] and p["displacements"] == [0, 8]
    assert p["datatypes"] == [MPI.INT, MPI.DOUBLE]
    assert all(d.is_predefined for d in p["datatypes"])
    s.Free()
    r = MPI.DOUBLE.Create_resized(-8, 32)
    assert r.decode()[1:] == ("RESIZED", {"lb": -8, "extent": 32})
    r.Free()
    sub = MPI.INT.Create_subarray([4], [2], [1], order=MPI.ORDER_FORTRAN)
    assert sub.decode()[2] == {"sizes": [4], "subsizes": [2], "starts": [1],
                               "order": MPI.ORDER_FORTRAN}
    sub.Free()


@pytest.mark.beyond_mpi4py
def test_decode_named():
    # mpi4py 4's shape; mpi4py 3.1 returned the bare datatype
    base, name, p = MPI.INT.decode()
    assert base == MPI.INT and name == "NAMED" and p == {}
    assert MPI.INT.combiner == MPI.COMBINER_NAMED
    assert MPI.INT.is_named and MPI.INT.is_predefined
    with pytest.raises(MPI.Exception):
        MPI.INT.Get_contents()


def test_nested_decode_frees_inner():
    inner = MPI.DOUBLE.Create_contiguous(2)
    outer = inner.Create_vector(3, 1, 2)
    inner.Free()
    base, name, p = outer.decode()
    assert name == "VECTOR" and base.combiner == MPI.COMBINER_CONTIGUOUS
    assert not base.is_predefined
    assert base.decode()[2] == {"count": 2}
    base.Free()
    outer.Free()


def test_dup_keeps_committed(comm):
    t = MPI.INT.Create_contiguous(2).Commit()
    d = t.Dup()
    t.Free()
    a = np.arange(4, dtype="i")
    b = np.zeros(4, dtype="i")
    comm.Sendrecv([a, 2, d], comm.Get_rank(), 3, [b, 2, d], comm.Get_rank(), 3)
    assert (a == b).all()
    d.Free()


def test_create_dup_is_dup():
    # the constructor named by decode() of a DUP type: Create_dup
    t = MPI.INT.Create_contiguous(2).Commit()
    d = t.Create_dup()
    base, name, p = d.decode()
    assert name == "DUP" and p == {} and base.Get_size() == 8
    assert d.Get_size() == 8 and d != t
    for x in (base, d, t):
        x.Free()
    with pytest.raises(TypeError):
        MPI.INT.Create_dup(1)
    with pytest.raises(MPI.Exception):
        MPI.DATATYPE_NULL.Create_dup()


def test_free_predefined_and_null():
    for t in (MPI.INT, MPI.DOUBLE, MPI.BYTE):
        with pytest.raises(MPI.Exception) as e:
            t.Free()
        assert e.value.Get_error_class() == MPI.ERR_TYPE
        assert t != MPI.DATATYPE_NULL
    t = MPI.INT.Dup()
    t.Free()
    with pytest.raises(MPI.Exception):
        t.Free()


@pytest.mark.beyond_mpi4py
def test_commit_seen_through_a_copy(comm):
    t = MPI.INT.Create_contiguous(2)
    alias = MPI.Datatype(t)
    t.Commit()
    a = np.zeros(4, dtype="i")
    comm.Send([a, 2, alias], dest=MPI.PROC_NULL)   # the handle is committed
    alias.Free()


@pytest.mark.beyond_mpi4py
def test_freed_through_a_copy():
    # MPICH 4.0.2 crashes on an MPI call with a freed handle: fastmpi
    # refuses it instead
    t = MPI.INT.Create_contiguous(2).Commit()
    alias = MPI.Datatype(t)
    alias.Free()
    assert alias == MPI.DATATYPE_NULL and t != MPI.DATATYPE_NULL
    for call in (t.Free, t.Commit, t.Get_size, t.Get_extent, t.decode,
                 t.Get_envelope, lambda: t.Create_contiguous(2),
                 lambda: t.Pack_size(1, MPI.COMM_SELF), lambda: t.extent,
                 lambda: t.is_named, lambda: t.typestr):
        with pytest.raises(MPI.Exception, match="freed"):
            call()
    with pytest.raises(MPI.Exception, match="freed"):
        MPI.COMM_SELF.Send([bytearray(8), 1, t], dest=MPI.PROC_NULL)
    with pytest.raises(MPI.Exception, match="freed"):
        MPI.Datatype.Create_struct([1], [0], [t])
    assert "freed" in repr(t)
    # a type decoded from another shares (MPICH) or not (Open MPI) its
    # handle: freeing one leaves the other usable
    outer = MPI.INT.Dup()
    outer2 = MPI.DOUBLE.Create_contiguous(3)
    v = outer2.Create_vector(2, 1, 1)
    base = v.decode()[0]
    base.Free()
    assert outer2.size == 24 and v.size == 48
    for x in (outer, outer2, v):
        x.Free()


@pytest.mark.beyond_mpi4py
def test_free_predefined_message():
    with pytest.raises(MPI.Exception, match="predefined"):
        MPI.INT.Free()


def test_object_model():
    assert MPI.Datatype(MPI.INT) == MPI.INT
    assert MPI.Datatype() == MPI.DATATYPE_NULL
    assert MPI.INT != MPI.DOUBLE
    f = MPI.DOUBLE.py2f()
    assert isinstance(f, int)
    assert MPI.Datatype.f2py(f) == MPI.DOUBLE
    t = MPI.INT.Dup()
    assert MPI.Datatype.f2py(t.py2f()) == t
    t.Free()
    assert not MPI.DATATYPE_NULL


@pytest.mark.beyond_mpi4py
def test_pickle(comm, rank):
    # mpi4py 4: predefined datatypes pickle by name, derived ones by their
    # construction (rebuilt committed); mpi4py 3.1 refused both
    import pickle
    for t in (MPI.INT, MPI.DOUBLE, MPI.DATATYPE_NULL, MPI.Datatype(MPI.INT)):
        assert pickle.loads(pickle.dumps(t)) == t
    inner = MPI.Datatype.Create_struct([1, 2], [0, 8], [MPI.INT, MPI.DOUBLE])
    for t in (MPI.INT.Create_vector(2, 3, 4), inner.Create_contiguous(3),
              inner.Create_resized(0, 32),
              MPI.INT.Create_subarray([4, 4], [2, 2], [1, 1])):
        u = pickle.loads(pickle.dumps(t))
        assert u != t
        assert u.Get_envelope() == t.Get_envelope()
        assert (u.size, u.Get_extent()) == (t.size, t.Get_extent())
        a = np.arange(64, dtype="i")
        b = np.zeros(64, dtype="i")
        comm.Sendrecv([a, 1, u], rank, 21, [b, 1, u], rank, 21)  # committed
        u.Free()
        t.Free()
    inner.Free()
    # a datatype sent as an object
    v = MPI.DOUBLE.Create_vector(2, 1, 2)
    w = comm.bcast(v if rank == 0 else None, root=0)
    assert w.decode()[2] == {"count": 2, "blocklength": 1, "stride": 2}
    w.Free()
    v.Free()


@pytest.mark.beyond_mpi4py
def test_handle():
    assert isinstance(MPI.INT.handle, int)
    assert MPI.INT.handle != MPI.DOUBLE.handle


def test_match_size():
    t = MPI.Datatype.Match_size(MPI.TYPECLASS_INTEGER, 4)
    assert t.Get_size() == 4 and t.is_predefined
    t = MPI.Datatype.Match_size(MPI.TYPECLASS_REAL, 8)
    assert t.Get_size() == 8


def test_address_functions():
    a = bytearray(16)
    base = MPI.Get_address(a)
    assert isinstance(base, int) and base != 0
    assert MPI.Aint_add(base, 8) == base + 8
    assert MPI.Aint_diff(base + 8, base) == 8
    assert MPI.Get_address(np.zeros(2)) != 0


@pytest.mark.beyond_mpi4py
def test_typecodes():
    assert MPI.Datatype.fromcode("i") == MPI.INT
    assert MPI.Datatype.fromcode("d") == MPI.DOUBLE
    assert MPI.Datatype.fromcode("i8") == MPI.INT64_T
    assert MPI.INT.tocode() == "i" and MPI.DOUBLE.tocode() == "d"
    assert MPI.INT32_T.tocode() == "i4"
    assert MPI.INT.typechar == "i"
    assert MPI.INT.typestr in ("<i4", ">i4")
    assert MPI.C_BOOL.typestr == "|b1"
    t = MPI.INT.Create_contiguous(3)
    assert t.typechar == "V" and t.typestr == "|V%d" % (3 * I4)
    with pytest.raises(ValueError):
        t.tocode()
    t.Free()
    with pytest.raises(ValueError):
        MPI.Datatype.fromcode("zz")
    with pytest.raises(TypeError):
        MPI.Datatype.fromcode(3)


@pytest.mark.beyond_mpi4py
def test_aint_and_count_codes():
    # numpy's 'p' (intp) is MPI_AINT; 'n' is MPI_COUNT; each has the
    # numpy character of the C integer of its size
    assert MPI._typedict["p"] == MPI.AINT and MPI.AINT.tocode() == "p"
    assert MPI._typedict["n"] == MPI.COUNT and MPI.COUNT.tocode() == "n"
    assert MPI.Datatype.fromcode("p") == MPI.AINT
    assert MPI.AINT.typechar in "lq"
    assert np.dtype(MPI.AINT.typechar).itemsize == MPI.AINT.Get_size()
    assert np.dtype(MPI.COUNT.typechar).itemsize == MPI.COUNT.Get_size()
    with pytest.raises(ValueError):
        MPI.Datatype.fromcode("pp")


# ---- bad inputs --------------------------------------------------------

BAD = [
    (lambda: MPI.INT.Create_contiguous(-1), ValueError, "count"),
    (lambda: MPI.INT.Create_contiguous("x"), TypeError, "count"),
    (lambda: MPI.INT.Create_vector(-2, 1, 1), ValueError, "count"),
    (lambda: MPI.INT.Create_vector(2, -1, 1), ValueError, "blocklength"),
    (lambda: MPI.INT.Create_indexed([1, 2], [0]), ValueError,
     "displacements"),
    (lambda: MPI.INT.Create_indexed([1, -2], [0, 4]), ValueError,
     "blocklengths"),
    (lambda: MPI.INT.Create_hindexed(5, [0]), TypeError, "blocklengths"),
    (lambda: MPI.INT.Create_indexed_block(-1, [0]), ValueError,
     "blocklength"),
    (lambda: MPI.Datatype.Create_struct([1, 1], [0, 8], [MPI.INT]),
     ValueError, "datatypes"),
    (lambda: MPI.Datatype.Create_struct([1], [0], [int]), TypeError,
     "datatypes"),
    (lambda: MPI.Datatype.Create_struct([1], [0, 4], [MPI.INT]), ValueError,
     "displacements"),
    (lambda: MPI.INT.Create_subarray([4], [5], [0]), ValueError, "subsizes"),
    (lambda: MPI.INT.Create_subarray([4], [2], [3]), ValueError, "starts"),
    (lambda: MPI.INT.Create_subarray([4, 4], [2], [0]), ValueError,
     "subsizes"),
    (lambda: MPI.INT.Create_subarray([4], [2], [0], order=99), ValueError,
     "order"),
    (lambda: MPI.INT.Create_darray(2, 0, [4], [MPI.DISTRIBUTE_BLOCK],
                                   [MPI.DISTRIBUTE_DFLT_DARG], [3]),
     ValueError, "psizes"),
    (lambda: MPI.INT.Create_darray(1, 1, [4], [MPI.DISTRIBUTE_BLOCK],
                                   [MPI.DISTRIBUTE_DFLT_DARG], [1]),
     ValueError, "rank"),
    (lambda: MPI.INT.Create_resized("a", 4), TypeError, "lb"),
    (lambda: MPI.Datatype.Match_size(12345, 4), ValueError, "typeclass"),
]


@pytest.mark.beyond_mpi4py
@pytest.mark.parametrize("i", range(len(BAD)))
def test_bad_constructor_args(i):
    call, exc, word = BAD[i]
    with pytest.raises(exc, match=word):
        call()


def test_freed_type_as_old_type():
    t = MPI.INT.Dup()
    t.Free()
    with pytest.raises((MPI.Exception, ValueError)):
        t.Create_contiguous(2)
    with pytest.raises((MPI.Exception, ValueError)):
        t.Commit()


# ---- derived types in messages -----------------------------------------

def test_sendrecv_vector(comm, rank):
    p = peer(comm)
    col = MPI.DOUBLE.Create_vector(4, 1, 4).Create_resized(0, F8)
    col.Commit()
    a = np.arange(16, dtype="d").reshape(4, 4) + 100 * rank
    b = np.zeros((4, 4))
    # send columns 1 and 2 (two resized column types), receive into 0 and 1
    comm.Sendrecv([a, (2, 1), col], p, 5, [b, 2, col], p, 5)
    expect = np.arange(16, dtype="d").reshape(4, 4) + 100 * p
    assert (b[:, :2] == expect[:, 1:3]).all()
    assert (b[:, 2:] == 0).all()
    col.Free()


@pytest.mark.mpich_big
def test_bcast_struct_type(comm, rank, size):
    dt = np.dtype([("i", "i4"), ("d", "f8")], align=True)
    t = MPI.Datatype.Create_struct([1, 1], [0, 8], [MPI.INT32_T, MPI.DOUBLE])
    t = t.Create_resized(0, dt.itemsize).Commit()
    root = size - 1
    a = np.zeros(3, dt)
    if rank == root:
        a["i"] = [1, 2, 3]
        a["d"] = [0.5, 1.5, 2.5]
    comm.Bcast([a, 3, t], root=root)
    assert list(a["i"]) == [1, 2, 3] and list(a["d"]) == [0.5, 1.5, 2.5]
    t.Free()


@pytest.mark.mpich_big
def test_gather_subarray(comm, rank, size):
    sub = MPI.INT.Create_subarray([3, 3], [2, 2], [1, 1]).Commit()
    a = (np.arange(9, dtype="i") + 10 * rank).reshape(3, 3)
    out = np.zeros((size, 4), dtype="i")
    comm.Allgather([a, 1, sub], [out, 4, MPI.INT])
    for r in range(size):
        assert list(out[r]) == [4 + 10 * r, 5 + 10 * r, 7 + 10 * r, 8 + 10 * r]
    sub.Free()


@pytest.mark.beyond_mpi4py
def test_uncommitted_in_message(comm, rank):
    t = MPI.INT.Create_contiguous(2)
    a = np.zeros(4, dtype="i")
    with pytest.raises(MPI.Exception, match="not committed") as e:
        comm.Send([a, 1, t], dest=MPI.PROC_NULL)
    assert e.value.Get_error_class() == MPI.ERR_TYPE
    with pytest.raises(MPI.Exception, match="Commit"):
        comm.Bcast([a, 1, t], root=0)
    t.Free()


@pytest.mark.beyond_mpi4py
def test_uncommitted_in_vector_collective(comm, size):
    t = MPI.INT.Create_contiguous(1)
    a = np.zeros(size, dtype="i")
    b = np.zeros(size, dtype="i")
    counts = [1] * size
    displs = [4 * i for i in range(size)]
    with pytest.raises(MPI.Exception, match="not committed"):
        comm.Alltoallw([a, counts, displs, [t] * size],
                       [b, counts, displs, [MPI.INT] * size])
    t.Commit()
    a[:] = comm.Get_rank()
    comm.Alltoallw([a, counts, displs, [t] * size],
                   [b, counts, displs, [MPI.INT] * size])
    assert list(b) == list(range(size))
    t.Free()


@pytest.mark.beyond_mpi4py
def test_freed_in_message(comm):
    t = MPI.INT.Create_contiguous(2).Commit()
    t.Free()
    a = np.zeros(4, dtype="i")
    with pytest.raises((ValueError, MPI.Exception), match="DATATYPE_NULL"):
        comm.Send([a, 1, t], dest=MPI.PROC_NULL)


@pytest.mark.beyond_mpi4py
def test_buffer_too_small_for_derived(comm):
    t = MPI.INT.Create_vector(3, 1, 4).Commit()     # spans 9 ints
    a = np.zeros(8, dtype="i")
    with pytest.raises(ValueError, match="outside the buffer"):
        comm.Send([a, 1, t], dest=MPI.PROC_NULL)
    r = MPI.INT.Create_resized(-4, 8).Commit()       # true lb 0: fine
    comm.Send([a, 2, r], dest=MPI.PROC_NULL)
    s = MPI.Datatype.Create_struct([1], [-4], [MPI.INT]).Commit()
    with pytest.raises(ValueError, match="outside the buffer"):
        comm.Send([a, 1, s], dest=MPI.PROC_NULL)    # reaches before the start
    for x in (t, r, s):
        x.Free()


def test_mismatched_signature_truncates(comm, rank):
    p = peer(comm)
    big = MPI.DOUBLE.Create_contiguous(4).Commit()
    a = np.arange(8, dtype="d")
    b = np.zeros(2, dtype="d")
    req = comm.Isend([a, 1, big], p, 9)
    with pytest.raises(MPI.Exception) as e:
        comm.Recv([b, 2, MPI.DOUBLE], p, 9)
    assert e.value.Get_error_class() in (MPI.ERR_TRUNCATE, MPI.ERR_OTHER)
    req.Wait()
    big.Free()



def _churn(n):
    for _ in range(n):
        t = MPI.Datatype.Create_struct([1, 2], [0, 8], [MPI.INT, MPI.DOUBLE])
        t.Commit()
        v = t.Create_vector(2, 1, 3)
        base, _, p = v.decode()
        base.Free()
        _, _, q = t.decode()
        t.Free()
        v.Free()


def test_create_commit_free_no_growth():
    _churn(500)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    _churn(10_000)
    gc.collect()
    assert sys.getallocatedblocks() - blocks0 < 200
    if not UNDER_ASAN:
        # AddressSanitizer keeps freed memory in a quarantine
        assert _rss_kb() - rss0 < 2048
