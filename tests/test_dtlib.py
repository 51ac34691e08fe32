"""numpy dtypes <-> MPI datatypes (fastmpi.util.dtlib), and structured numpy
arrays passed straight to Send/Recv and collectives."""
import os
import sys

import numpy as np
import pytest

from _impl import MPI, IMPL, peer
from _impl import UNDER_ASAN, rss_kb as _rss_kb

if IMPL == "mpi4py":
    from mpi4py.util import dtlib
else:
    from fastmpi.util import dtlib

SCALARS = list("?bBhHiIlLqQfdgFDG")
OTHER = "<" if sys.byteorder == "big" else ">"


def _renamed(dt):
    """dt with fields named f0, f1, ... at every level (to_numpy_dtype
    cannot know the names)."""
    if dt.names is None:
        if dt.subdtype is not None:
            base, shape = dt.subdtype
            return np.dtype((_renamed(base), shape))
        return dt
    return np.dtype({
        "names": [f"f{i}" for i in range(len(dt.names))],
        "formats": [_renamed(dt.fields[n][0]) for n in dt.names],
        "offsets": [dt.fields[n][1] for n in dt.names],
        "itemsize": dt.itemsize,
    })


def _data_size(dt):
    """Bytes of data (no padding) in one element of dt."""
    if dt.names is None:
        if dt.subdtype is not None:
            base, shape = dt.subdtype
            return _data_size(base) * int(np.prod(shape))
        return dt.itemsize
    return sum(_data_size(dt.fields[n][0]) for n in dt.names)


def _round_trip(dt):
    t = dtlib.from_numpy_dtype(dt)
    try:
        assert t.extent == dt.itemsize
        assert t.lb == 0
        back = dtlib.to_numpy_dtype(t)
    finally:
        t.Free()
    return back


@pytest.mark.parametrize("code", SCALARS)
def test_scalar_round_trip(code):
    dt = np.dtype(code)
    t = dtlib.from_numpy_dtype(dt)
    assert t.Get_size() == dt.itemsize
    assert not t.is_predefined       # a new type the caller owns
    t.Commit()
    assert dtlib.to_numpy_dtype(t) == dt
    t.Free()


@pytest.mark.parametrize("name, code", [
    ("INT", "i"), ("DOUBLE", "d"), ("FLOAT", "f"), ("SIGNED_CHAR", "b"),
    ("UNSIGNED_LONG_LONG", "Q"), ("C_DOUBLE_COMPLEX", "D"), ("C_BOOL", "?"),
    ("INT64_T", "i8"), ("UINT16_T", "u2"),
])
def test_predefined_to_numpy(name, code):
    assert dtlib.to_numpy_dtype(getattr(MPI, name)) == np.dtype(code)


STRUCTS = {
    "packed": np.dtype("i4,f8"),
    "aligned": np.dtype("i1,f8,i2", align=True),
    "padded": np.dtype({"names": ["a", "b"], "formats": ["i1", "f8"],
                        "offsets": [0, 8], "itemsize": 24}),
    "nested": np.dtype([("x", "i2"), ("y", [("p", "f4"), ("q", "(3,)u1")])],
                       align=True),
    "subarray1": np.dtype([("v", "f8", (3,)), ("n", "i4")]),
    "subarray2": np.dtype([("m", "i4", (2, 3)), ("c", "c16")], align=True),
    "reordered": np.dtype({"names": ["b", "a"], "formats": ["f8", "i4"],
                           "offsets": [8, 0], "itemsize": 16}),
}


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_round_trip(name):
    dt = STRUCTS[name]
    t = dtlib.from_numpy_dtype(dt)
    assert t.Get_size() == _data_size(dt)
    assert t.Get_extent() == (0, dt.itemsize)
    t.Free()
    assert _round_trip(dt) == _renamed(dt)


def test_subarray_field_types():
    t = dtlib.from_numpy_dtype(np.dtype("(2,3)i4"))
    assert t.decode()[1] == "SUBARRAY" and t.size == 24
    t.Free()
    t = dtlib.from_numpy_dtype(np.dtype("(5,)f8"))
    assert t.decode()[1] == "CONTIGUOUS" and t.size == 40
    t.Free()


@pytest.mark.parametrize("make, expect", [
    (lambda: MPI.INT.Create_contiguous(4), np.dtype(("i", (4,)))),
    (lambda: MPI.INT.Create_subarray([2, 3], [2, 3], [0, 0]),
     np.dtype(("i", (2, 3)))),
    (lambda: MPI.INT.Create_subarray([2, 3], [2, 3], [0, 0],
                                     order=MPI.ORDER_FORTRAN),
     np.dtype(("i", (3, 2)))),
    (lambda: MPI.DOUBLE.Create_vector(2, 1, 3),
     np.dtype({"names": ["f0", "f1"], "formats": [("d", (1,))] * 2,
               "offsets": [0, 24], "itemsize": 32})),
    (lambda: MPI.INT.Create_indexed([1, 2], [0, 3]),
     np.dtype({"names": ["f0", "f1"], "formats": [("i", (1,)), ("i", (2,))],
               "offsets": [0, 12], "itemsize": 20})),
])
def test_to_numpy_derived(make, expect):
    t = make()
    assert dtlib.to_numpy_dtype(t) == expect
    t.Free()


def test_byte_order():
    with pytest.raises(ValueError):
        dtlib.from_numpy_dtype(np.dtype(OTHER + "i4"))
    with pytest.raises(ValueError):
        dtlib.from_numpy_dtype(np.dtype([("a", OTHER + "f8"), ("b", "i4")]))
    # native byte order spelled explicitly is fine
    native = "<" if sys.byteorder == "little" else ">"
    t = dtlib.from_numpy_dtype(np.dtype(native + "i4"))
    assert t.size == 4
    t.Free()


def test_object_dtype_refused():
    with pytest.raises(ValueError):
        dtlib.from_numpy_dtype(np.dtype([("o", "O"), ("i", "i4")]))


@pytest.mark.beyond_mpi4py
def test_bad_inputs_named():
    with pytest.raises(ValueError, match="non-native byte order"):
        dtlib.from_numpy_dtype(OTHER + "i4")
    with pytest.raises(ValueError, match="no MPI datatype"):
        dtlib.from_numpy_dtype("f2")
    with pytest.raises(TypeError, match="datatype"):
        dtlib.to_numpy_dtype("i4")
    with pytest.raises(ValueError, match="DATATYPE_NULL"):
        dtlib.to_numpy_dtype(MPI.DATATYPE_NULL)
    t = MPI.INT.Create_subarray([4], [2], [1])
    with pytest.raises(ValueError, match="subarray"):
        dtlib.to_numpy_dtype(t)
    t.Free()


def test_resized_to_numpy():
    # a struct resized: a record whose itemsize is the new extent
    st = MPI.Datatype.Create_struct([1, 1], [0, 8], [MPI.INT, MPI.DOUBLE])
    t = st.Create_resized(0, 24)
    dt = dtlib.to_numpy_dtype(t)
    assert dt.names == ("f0", "f1") and dt.itemsize == 24
    assert [dt.fields[n][1] for n in dt.names] == [0, 8]
    # resized to its own extent: the base's dtype
    same = MPI.INT.Create_resized(0, 4)
    assert dtlib.to_numpy_dtype(same) == np.dtype("i")
    # a scalar resized to another extent, or to a non-zero lower bound,
    # has no numpy dtype
    wide = MPI.INT.Create_resized(0, 32)
    with pytest.raises(ValueError, match="resized to 32 bytes"):
        dtlib.to_numpy_dtype(wide)
    low = st.Create_resized(-8, 24)
    with pytest.raises(ValueError, match="lower"):
        dtlib.to_numpy_dtype(low)
    for x in (st, t, same, wide, low):
        x.Free()


@pytest.mark.beyond_mpi4py
def test_strings_and_void():
    t = dtlib.from_numpy_dtype("S5")
    assert t.size == 5 and t.extent == 5
    t.Free()
    t = dtlib.from_numpy_dtype("V3")
    assert t.size == 3
    t.Free()


def test_void_of_no_size_refused():
    with pytest.raises(ValueError, match="no size"):
        dtlib.from_numpy_dtype(np.dtype("V"))
    with pytest.raises(ValueError):
        dtlib.from_numpy_dtype(np.dtype([]))


# ---- Fortran's predefined types and Create_f90_* ----------------------------

FORTRAN = [("CHARACTER", "c"), ("INTEGER", "i"), ("INTEGER1", "i"),
           ("INTEGER2", "i"), ("INTEGER4", "i"), ("INTEGER8", "i"),
           ("REAL", "f"), ("REAL4", "f"), ("REAL8", "f"),
           ("DOUBLE_PRECISION", "f"), ("COMPLEX", "c"),
           ("DOUBLE_COMPLEX", "c"), ("COMPLEX8", "c"), ("COMPLEX16", "c")]


@pytest.mark.parametrize("name, kind", FORTRAN)
def test_fortran_types_to_numpy(name, kind):
    t = getattr(MPI, name)
    if t == MPI.DATATYPE_NULL or t.Get_size() == 0:
        pytest.skip(f"{name} is not in this MPI")
    dt = dtlib.to_numpy_dtype(t)
    if name == "CHARACTER":
        assert dt == np.dtype("S1")
    else:
        assert dt.kind == kind
    assert dt.itemsize == t.extent == t.Get_size()
    assert dtlib._get_alignment(t) == min(dt.alignment, t.Get_size())


def test_fortran_types_without_numpy_dtype():
    for name in ("LOGICAL", "LOGICAL4", "REAL16", "COMPLEX32"):
        t = getattr(MPI, name)
        if t == MPI.DATATYPE_NULL or t.Get_size() == 0:
            continue
        with pytest.raises(ValueError, match=name):
            dtlib.to_numpy_dtype(t)
        assert dtlib._get_alignment(t) >= 1


def test_f90_types_to_numpy():
    for r in (1, 2, 4, 9, 18):
        t = MPI.Datatype.Create_f90_integer(r)
        assert t != MPI.DATATYPE_NULL
        dt = dtlib.to_numpy_dtype(t)
        assert dt.kind == "i" and dt.itemsize == t.Get_size()
        assert np.iinfo(dt).max >= 10 ** r - 1
    for p in (6, 15):
        real = MPI.Datatype.Create_f90_real(p, MPI.UNDEFINED)
        cplx = MPI.Datatype.Create_f90_complex(p, MPI.UNDEFINED)
        dr, dc = dtlib.to_numpy_dtype(real), dtlib.to_numpy_dtype(cplx)
        assert dr.kind == "f" and dr.itemsize == real.Get_size()
        assert dc.kind == "c" and dc.itemsize == cplx.Get_size()
        assert np.finfo(dr).precision >= p
    # a struct holding one goes there and back
    t = MPI.Datatype.Create_f90_integer(9)
    st = MPI.Datatype.Create_struct([1, 1], [0, 8], [t, MPI.DOUBLE])
    dt = dtlib.to_numpy_dtype(st)
    back = dtlib.from_numpy_dtype(dt)
    assert dtlib.to_numpy_dtype(back) == dt and back.extent == dt.itemsize
    back.Free()
    st.Free()


# ---- alignment helpers (private; dtlib users such as mpi4py's call them) ----

@pytest.mark.parametrize("code", SCALARS + ["c", "p", "b1", "i1", "i2",
                                            "i4", "i8", "u1", "u2", "u4",
                                            "u8", "f4", "f8", "c8", "c16"])
def test_alignment_of_type_codes(code):
    assert dtlib._get_alignment_ctypes(code) == np.dtype(code).alignment


def test_alignment_of_datatypes():
    assert dtlib._get_alignment(MPI.DOUBLE) == np.dtype("d").alignment
    assert dtlib._get_alignment(MPI.BYTE) == 1
    assert dtlib._get_alignment(MPI.DOUBLE_INT) == np.dtype("d").alignment
    st = MPI.Datatype.Create_struct([1, 2], [0, 4], [MPI.CHAR, MPI.SHORT])
    vec = MPI.DOUBLE.Create_vector(2, 1, 3)
    try:
        assert dtlib._get_alignment(st) == np.dtype("h").alignment
        assert dtlib._get_alignment(vec) == np.dtype("d").alignment
    finally:
        st.Free()
        vec.Free()


@pytest.mark.beyond_mpi4py
def test_alignment_bad_inputs():
    with pytest.raises(TypeError, match="typecode"):
        dtlib._get_alignment_ctypes(4)
    with pytest.raises(ValueError, match="'x9'"):
        dtlib._get_alignment_ctypes("x9")
    with pytest.raises(TypeError, match="datatype"):
        dtlib._get_alignment("d")
    with pytest.raises(ValueError, match="DATATYPE_NULL"):
        dtlib._get_alignment(MPI.DATATYPE_NULL)


# ---- structured arrays as messages (mpi4py raises KeyError) -------------

REC = np.dtype([("id", "i4"), ("pos", "f8", (3,)), ("tag", "S3"),
                ("sub", [("a", "u1"), ("b", "f4")])], align=True)


def _records(n, seed):
    a = np.zeros(n, REC)
    a["id"] = np.arange(n) + 1000 * seed
    a["pos"] = np.arange(3 * n).reshape(n, 3) * 0.5 + seed
    a["tag"] = [b"r%d" % (seed % 10)] * n
    a["sub"]["a"] = seed % 256
    a["sub"]["b"] = -seed
    return a


@pytest.mark.beyond_mpi4py
def test_structured_sendrecv(comm, rank):
    p = peer(comm)
    a = _records(5, rank)
    b = np.zeros(5, REC)
    comm.Sendrecv(a, p, 11, b, p, 11)
    assert (b == _records(5, p)).all()


@pytest.mark.fastmpi_only
def test_structured_strided_refused_clearly():
    # a non-contiguous structured view is not described to MPI yet: a clear
    # ValueError, before MPI is called (mpi4py raises KeyError for any
    # structured array)
    a = _records(6, 1)
    with pytest.raises(ValueError, match="non-contiguous structured"):
        MPI.COMM_SELF.Send(a[::2], dest=MPI.PROC_NULL)
    with pytest.raises(ValueError, match="item size"):
        MPI.COMM_SELF.Send([a[::2], MPI.BYTE], dest=MPI.PROC_NULL)


@pytest.mark.beyond_mpi4py
def test_structured_send_recv_blocking(comm, rank, size):
    if size < 2:
        pytest.skip("needs 2 ranks")
    if rank == 0:
        comm.Send(_records(4, 7), dest=1, tag=3)
    elif rank == 1:
        b = np.zeros(4, REC)
        comm.Recv(b, source=0, tag=3)
        assert (b == _records(4, 7)).all()


@pytest.mark.beyond_mpi4py
@pytest.mark.mpich_big
def test_structured_bcast(comm, rank, size):
    root = size // 2
    a = _records(6, 3) if rank == root else np.zeros(6, REC)
    comm.Bcast(a, root=root)
    assert (a == _records(6, 3)).all()


@pytest.mark.beyond_mpi4py
@pytest.mark.mpich_big
def test_structured_gather_allgather(comm, rank, size):
    a = _records(2, rank)
    out = np.zeros(2 * size, REC)
    comm.Allgather(a, out)
    for r in range(size):
        assert (out[2 * r:2 * r + 2] == _records(2, r)).all()
    root = size - 1
    g = np.zeros(2 * size, REC) if rank == root else None
    comm.Gather(a, g, root=root)
    if rank == root:
        assert (g == out).all()


@pytest.mark.beyond_mpi4py
def test_structured_padded_and_packed(comm, rank):
    p = peer(comm)
    for dt in STRUCTS.values():
        a = np.zeros(3, dt)
        a.view("u1")[:] = (np.arange(a.nbytes) + rank) % 251
        b = np.zeros(3, dt)
        comm.Sendrecv(a, p, 12, b, p, 12)
        expect = np.zeros(3, dt)
        expect.view("u1")[:] = (np.arange(a.nbytes) + p) % 251
        assert (b == expect).all(), dt
        # padding bytes are not part of the type: they stay untouched
        if dt.itemsize > _data_size(dt):
            assert not (b.view("u1") == expect.view("u1")).all()


@pytest.mark.beyond_mpi4py
def test_structured_nonblocking(comm, rank):
    p = peer(comm)
    a = _records(3, rank)
    b = np.zeros(3, REC)
    r = comm.Irecv(b, p, 13)
    comm.Isend(a, p, 13).Wait()
    r.Wait()
    assert (b == _records(3, p)).all()


@pytest.mark.beyond_mpi4py
def test_structured_bad(comm, rank):
    p = peer(comm)
    bad = np.zeros(2, [("a", OTHER + "i4"), ("b", "f8")])
    with pytest.raises(ValueError, match="byte order"):
        comm.Send(bad, dest=MPI.PROC_NULL)
    objs = np.zeros(2, [("a", "O"), ("b", "f8")])
    with pytest.raises((ValueError, TypeError, BufferError)):
        comm.Send(objs, dest=MPI.PROC_NULL)
    # a smaller receive buffer: MPI reports the truncation
    a = _records(4, rank)
    small = np.zeros(2, REC)
    req = comm.Isend(a, p, 14)
    with pytest.raises(MPI.Exception) as e:
        comm.Recv(small, p, 14)
    assert e.value.Get_error_class() in (MPI.ERR_TRUNCATE, MPI.ERR_OTHER)
    req.Wait()
    ro = _records(2, 0)
    ro.flags.writeable = False
    with pytest.raises(BufferError):
        comm.Recv(ro, source=MPI.PROC_NULL)


@pytest.mark.fastmpi_only
def test_structured_cache_bounded(comm):
    dts = [np.dtype([("a", "i4"), ("b", "f8", (k,))]) for k in range(1, 80)]
    for dt in dts:
        comm.Send(np.zeros(1, dt), dest=MPI.PROC_NULL)
    assert MPI._dtlib_cache_size() <= 32
    # the same dtype object again: found in the cache
    a = np.zeros(2, dts[-1])
    for _ in range(3):
        comm.Send(a, dest=MPI.PROC_NULL)


@pytest.mark.beyond_mpi4py
def test_structured_view_with_count(comm, rank):
    p = peer(comm)
    a = _records(4, rank)
    b = np.zeros(4, REC)
    comm.Sendrecv([a, 2], p, 15, [b, 2], p, 15)
    assert (b[:2] == _records(4, p)[:2]).all()
    assert (b[2:] == np.zeros(2, REC)).all()



@pytest.mark.beyond_mpi4py
def test_structured_messages_no_growth(comm):
    import gc
    a = _records(4, 1)
    b = np.zeros(4, REC)

    def loop(n):
        for _ in range(n):
            comm.Send(a, dest=MPI.PROC_NULL)
            comm.Recv(b, source=MPI.PROC_NULL)
            t = dtlib.from_numpy_dtype(REC)
            dtlib.to_numpy_dtype(t)
            t.Free()

    loop(3000)      # long enough for one-time caches to fill
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    loop(3000)
    gc.collect()
    # a leak of one object per iteration would be 3000 blocks; allocator
    # and cache noise settles below a few hundred
    assert sys.getallocatedblocks() - blocks0 < 1000
    if not UNDER_ASAN:
        # AddressSanitizer keeps freed memory in a quarantine
        assert _rss_kb() - rss0 < 2048
