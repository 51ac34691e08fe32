"""Reductions with non-contiguous buffers (a[::2], a[:, 1], sub-blocks,
negative strides, transposed and n-D views) as send and/or receive
buffers: Reduce, Allreduce, Reduce_scatter(_block), Scan, Exscan, their
nonblocking forms and Op.Reduce_local.  fastmpi stages them through
contiguous temporaries (MPI's reduction operations do not take the derived
datatypes strided buffers otherwise become); results are checked against
numpy on every rank, and the elements a view does not select must keep
their sentinel.  mpi4py refuses non-contiguous buffers, so these tests are
beyond_mpi4py."""
import gc
import os
import sys

import numpy as np
import pytest

from _impl import MPI
from _impl import UNDER_ASAN, rss_kb as _rss_kb

pytestmark = pytest.mark.beyond_mpi4py


# name: (base shape for n selected items, the view of a base)
LAYOUTS = {
    "contig": (lambda n: (n,), lambda b: b),
    "every_other": (lambda n: (2 * n,), lambda b: b[::2]),
    "column": (lambda n: (n, 3), lambda b: b[:, 1]),
    "reversed": (lambda n: (3 * n,), lambda b: b[::-3]),
    "block": (lambda n: (n // 2 + 2, 5), lambda b: b[1:-1, 1:3]),
    "fortran_block": (lambda n: (n // 2 + 2, 4),
                      lambda b: b.T[1:3, 1:-1]),
    "nd": (lambda n: (5, n // 4, 4), lambda b: b[1:5:2, ::-1, 1:3]),
}
STRIDED = [k for k in LAYOUTS if k != "contig"]
N = 24


def sentinel(dt):
    return np.array(-7).astype(dt)


def make(layout, n, dt="f8", values=None):
    """(base full of the sentinel, the view selecting n of its items),
    the view set to values (in the view's C order) if given."""
    shape, select = LAYOUTS[layout]
    base = np.full(shape(n), sentinel(dt), dtype=dt)
    view = select(base)
    assert view.size == n
    if values is not None:
        view[...] = np.asarray(values, dtype=dt).reshape(view.shape)
    return base, view


def check(layout, base, want):
    """The view's items (C order) are want; the rest is still sentinel."""
    _, select = LAYOUTS[layout]
    mask = np.zeros(base.shape, bool)
    select(mask)[...] = True
    got = select(base).ravel()
    assert np.array_equal(got, np.asarray(want, base.dtype)), (got, want)
    assert (base[~mask] == sentinel(base.dtype)).all()


def data(rank, n, dt="f8"):
    return ((np.arange(n) * 7 + rank * 3) % 11 + 1).astype(dt)


OPS = {"SUM": np.add, "PROD": np.multiply, "MAX": np.maximum,
       "MIN": np.minimum, "BXOR": np.bitwise_xor}


def serial(opname, arrays):
    acc = arrays[0].copy()
    for a in arrays[1:]:
        acc = OPS[opname](acc, a).astype(acc.dtype)
    return acc


def total(size, n, dt="f8", opname="SUM"):
    return serial(opname, [data(r, n, dt) for r in range(size)])


# ---- Allreduce ---------------------------------------------------------

@pytest.mark.parametrize("recv", ["contig", "every_other", "column",
                                  "nd"])
@pytest.mark.parametrize("send", list(LAYOUTS))
def test_allreduce_layouts(comm, rank, size, send, recv):
    if send == recv == "contig":
        pytest.skip("contiguous: test_coll_buf.py")
    sbase, sview = make(send, N, values=data(rank, N))
    before = sbase.copy()
    rbase, rview = make(recv, N)
    comm.Allreduce(sview, rview, op=MPI.SUM)
    check(recv, rbase, total(size, N))
    assert np.array_equal(sbase, before)    # the send buffer untouched


@pytest.mark.mpich_big
@pytest.mark.parametrize("layout", ["every_other", "fortran_block", "nd"])
def test_allreduce_odd_sizes(comm, rank, size, layout):
    _, sview = make(layout, N, values=data(rank, N))
    rbase, rview = make("column", N)
    comm.Allreduce(sview, rview, op=MPI.MAX)
    check("column", rbase, total(size, N, opname="MAX"))
    ibase, iview = make(layout, N, values=data(rank, N))
    comm.Allreduce(MPI.IN_PLACE, iview, op=MPI.SUM)
    check(layout, ibase, total(size, N))


@pytest.mark.parametrize("opname", list(OPS))
@pytest.mark.parametrize("dt", ["i1", "u1", "i2", "i4", "f4", "i8", "f8",
                                "c16"])
def test_allreduce_dtypes_and_ops(comm, rank, size, dt, opname):
    if opname == "BXOR" and dt[0] in "fc":
        pytest.skip("bitwise ops need integers")
    if opname in ("MAX", "MIN") and dt[0] == "c":
        pytest.skip("no order on complex numbers")
    _, sview = make("every_other", N, dt, data(rank, N, dt))
    rbase, rview = make("column", N, dt)
    comm.Allreduce(sview, rview, op=getattr(MPI, opname))
    check("column", rbase, total(size, N, dt, opname))


@pytest.mark.parametrize("layout", STRIDED)
def test_allreduce_in_place(comm, rank, size, layout):
    base, view = make(layout, N, values=data(rank, N))
    comm.Allreduce(MPI.IN_PLACE, view, op=MPI.SUM)
    check(layout, base, total(size, N))


def test_allreduce_explicit_specs(comm, rank, size):
    # [view, count, datatype]: the first `count` items; the rest untouched
    sbase, sview = make("every_other", N, values=data(rank, N))
    rbase, rview = make("reversed", N)
    comm.Allreduce([sview, 10, MPI.DOUBLE], [rview, 10, MPI.DOUBLE],
                   op=MPI.SUM)
    want = np.full(N, -7.0)
    want[:10] = total(size, N)[:10]
    check("reversed", rbase, want)
    # [view, (count, displ), datatype]
    rbase, rview = make("every_other", N)
    comm.Allreduce([sview, (5, 3), MPI.DOUBLE], [rview, (5, 8), MPI.DOUBLE],
                   op=MPI.SUM)
    want = np.full(N, -7.0)
    want[8:13] = total(size, N)[3:8]
    check("every_other", rbase, want)
    # [view, datatype]
    rbase, rview = make("column", N)
    comm.Allreduce([sview, MPI.DOUBLE], [rview, MPI.DOUBLE], op=MPI.SUM)
    check("column", rbase, total(size, N))


def test_other_strided_exporters(comm, rank, size):
    # a memoryview slice of an array.array: strided, not numpy
    import array
    src = array.array("d", np.repeat(data(rank, N), 2).tolist())
    rbase, rview = make("every_other", N)
    comm.Allreduce(memoryview(src)[::2], rview, op=MPI.SUM)
    check("every_other", rbase, total(size, N))
    dst = array.array("i", [-7] * (2 * N))
    comm.Allreduce(data(rank, N, "i4"), memoryview(dst)[1::2], op=MPI.SUM)
    assert list(dst[1::2]) == total(size, N, "i4").tolist()
    assert list(dst[::2]) == [-7] * N


def test_user_op_on_strided_buffers(comm, rank, size):
    def absmax(inbuf, inoutbuf, datatype):
        a = np.frombuffer(inbuf, dtype="f8")
        b = np.frombuffer(inoutbuf, dtype="f8")
        b[:] = np.maximum(np.abs(a), np.abs(b))

    op = MPI.Op.Create(absmax, commute=True)
    try:
        _, sview = make("column", N, values=-data(rank, N))
        rbase, rview = make("fortran_block", N)
        comm.Allreduce(sview, rview, op=op)
        # one rank: nothing to combine, the function is not called
        check("fortran_block", rbase,
              total(size, N, opname="MAX") if size > 1 else -data(0, N))
    finally:
        op.Free()


# ---- Reduce ------------------------------------------------------------

@pytest.mark.mpich_big
@pytest.mark.parametrize("send,recv", [("every_other", "column"),
                                       ("contig", "block"),
                                       ("nd", "contig")])
def test_reduce_every_root(comm, rank, size, send, recv):
    for root in range(size):
        _, sview = make(send, N, values=data(rank, N))
        rbase, rview = make(recv, N)
        comm.Reduce(sview, rview if rank == root else None, op=MPI.SUM,
                    root=root)
        if rank == root:
            check(recv, rbase, total(size, N))
        else:
            assert (rbase == -7).all()      # a leaf's recvbuf is not used
        ibase, iview = make(recv, N, values=data(rank, N))
        if rank == root:
            comm.Reduce(MPI.IN_PLACE, iview, op=MPI.MIN, root=root)
            check(recv, ibase, total(size, N, opname="MIN"))
        else:
            comm.Reduce(iview, None, op=MPI.MIN, root=root)


@pytest.mark.mpich_big
def test_intercommunicator_reductions(comm, rank, size):
    if size < 2:
        pytest.skip("an intercommunicator needs 2 ranks (two groups)")
    half = size // 2
    color = 0 if rank < half else 1
    local = comm.Split(color, rank)
    inter = local.Create_intercomm(0, comm, half if color == 0 else 0,
                                   tag=12)
    try:
        remote = range(half, size) if color == 0 else range(half)
        # Allreduce: each group gets the other group's reduction
        _, sview = make("every_other", N, values=data(rank, N))
        rbase, rview = make("column", N)
        inter.Allreduce(sview, rview, op=MPI.SUM)
        check("column", rbase, serial("SUM", [data(r, N) for r in remote]))
        # Reduce to local rank 0 of group 1 (MPI.ROOT there)
        rbase, rview = make("reversed", N)
        if color == 1:
            root = MPI.ROOT if local.Get_rank() == 0 else MPI.PROC_NULL
            inter.Reduce(None, rview if root == MPI.ROOT else None,
                         op=MPI.MAX, root=root)
            if root == MPI.ROOT:
                check("reversed", rbase,
                      serial("MAX", [data(r, N) for r in range(half)]))
        else:
            inter.Reduce(sview, None, op=MPI.MAX, root=0)
    finally:
        inter.Free()
        local.Free()


# ---- Reduce_scatter_block, Reduce_scatter ------------------------------

K = 6       # items per rank


@pytest.mark.mpich_big
@pytest.mark.parametrize("send,recv", [("every_other", "column"),
                                       ("contig", "reversed"),
                                       ("block", "contig"),
                                       ("fortran_block", "every_other")])
def test_reduce_scatter_block(comm, rank, size, send, recv):
    n = K * size
    _, sview = make(send, n, values=data(rank, n))
    rbase, rview = make(recv, K)
    comm.Reduce_scatter_block(sview, rview, op=MPI.SUM)
    check(recv, rbase, total(size, n)[rank * K:(rank + 1) * K])


@pytest.mark.parametrize("layout", ["every_other", "column", "reversed"])
def test_reduce_scatter_block_in_place(comm, rank, size, layout):
    n = K * size
    base, view = make(layout, n, values=data(rank, n))
    comm.Reduce_scatter_block(MPI.IN_PLACE, view, op=MPI.SUM)
    _, select = LAYOUTS[layout]
    got = select(base).ravel()
    assert np.array_equal(got[:K], total(size, n)[rank * K:(rank + 1) * K])
    mask = np.zeros(base.shape, bool)
    select(mask)[...] = True
    assert (base[~mask] == -7).all()


def test_reduce_scatter_block_explicit_count(comm, rank, size):
    # an explicit count is per rank: the send view holds K * size items
    n = K * size
    _, sview = make("every_other", n, values=data(rank, n))
    rbase, rview = make("column", K)
    comm.Reduce_scatter_block([sview, K, MPI.DOUBLE], rview, op=MPI.SUM)
    check("column", rbase, total(size, n)[rank * K:(rank + 1) * K])


@pytest.mark.mpich_big
def test_reduce_scatter(comm, rank, size):
    counts = [r + 1 for r in range(size)]
    n = sum(counts)
    start = sum(counts[:rank])
    want = total(size, n)[start:start + counts[rank]]
    _, sview = make("reversed", n, values=data(rank, n))
    rbase, rview = make("every_other", counts[rank])
    comm.Reduce_scatter(sview, rview, counts, op=MPI.SUM)
    check("every_other", rbase, want)
    # counts gathered from the (strided) receive buffers
    rbase, rview = make("column", counts[rank])
    comm.Reduce_scatter(sview, rview, op=MPI.SUM)
    check("column", rbase, want)
    # a receive buffer longer than its count: the tail is left alone
    longer = np.arange(2.0 * (counts[rank] + 2)) + 100
    before = longer.copy()
    comm.Reduce_scatter(sview, longer[::2], counts, op=MPI.SUM)
    assert np.array_equal(longer[:2 * counts[rank]:2], want)
    assert np.array_equal(longer[2 * counts[rank]::2],
                          before[2 * counts[rank]::2])
    assert np.array_equal(longer[1::2], before[1::2])
    # IN_PLACE
    ibase, iview = make("column", n, values=data(rank, n))
    comm.Reduce_scatter(MPI.IN_PLACE, iview, counts, op=MPI.SUM)
    assert np.array_equal(iview[:counts[rank]], want)


# ---- Scan, Exscan ------------------------------------------------------

@pytest.mark.mpich_big
@pytest.mark.parametrize("send,recv", [("every_other", "column"),
                                       ("contig", "nd"),
                                       ("reversed", "contig")])
def test_scan_exscan(comm, rank, size, send, recv):
    def prefix(upto, opname="SUM"):
        return serial(opname, [data(r, N) for r in range(upto)])

    _, sview = make(send, N, values=data(rank, N))
    rbase, rview = make(recv, N)
    comm.Scan(sview, rview, op=MPI.SUM)
    check(recv, rbase, prefix(rank + 1))
    ibase, iview = make(recv, N, values=data(rank, N))
    comm.Scan(MPI.IN_PLACE, iview, op=MPI.PROD)
    check(recv, ibase, prefix(rank + 1, "PROD"))
    rbase, rview = make(recv, N, values=np.full(N, 77.0))
    comm.Exscan(sview, rview, op=MPI.SUM)
    # rank 0's recvbuf is left as it was (fastmpi; MPI: undefined)
    check(recv, rbase, prefix(rank) if rank > 0 else np.full(N, 77.0))
    ibase, iview = make(recv, N, values=data(rank, N))
    comm.Exscan(MPI.IN_PLACE, iview, op=MPI.MAX)
    check(recv, ibase, prefix(rank, "MAX") if rank > 0 else data(rank, N))


# ---- nonblocking forms: the copy back happens when the request completes

@pytest.mark.mpich_big
def test_nonblocking_reductions(comm, rank, size):
    n = K * size
    reqs, checks = [], []

    _, s1 = make("every_other", N, values=data(rank, N))
    b1, r1 = make("column", N)
    reqs.append(comm.Iallreduce(s1, r1, op=MPI.SUM))
    checks.append(("column", b1, total(size, N)))

    b2, r2 = make("nd", N, values=data(rank, N))
    reqs.append(comm.Iallreduce(MPI.IN_PLACE, r2, op=MPI.MAX))
    checks.append(("nd", b2, total(size, N, opname="MAX")))

    root = size - 1
    b3, r3 = make("fortran_block", N)
    reqs.append(comm.Ireduce(s1, r3 if rank == root else None,
                             op=MPI.SUM, root=root))
    if rank == root:
        checks.append(("fortran_block", b3, total(size, N)))

    _, s4 = make("reversed", n, values=data(rank, n))
    b4, r4 = make("every_other", K)
    reqs.append(comm.Ireduce_scatter_block(s4, r4, op=MPI.SUM))
    checks.append(("every_other", b4,
                   total(size, n)[rank * K:(rank + 1) * K]))

    b5, r5 = make("block", N)
    reqs.append(comm.Iscan(s1, r5, op=MPI.SUM))
    checks.append(("block", b5,
                   serial("SUM", [data(r, N) for r in range(rank + 1)])))

    b6, r6 = make("column", N, values=np.full(N, 5.0))
    reqs.append(comm.Iexscan(s1, r6, op=MPI.SUM))
    checks.append(("column", b6,
                   serial("SUM", [data(r, N) for r in range(rank)])
                   if rank > 0 else np.full(N, 5.0)))

    counts = [K] * size
    b7, r7 = make("reversed", K)
    reqs.append(comm.Ireduce_scatter(s4, r7, counts, op=MPI.SUM))
    checks.append(("reversed", b7,
                   total(size, n)[rank * K:(rank + 1) * K]))

    MPI.Request.Waitall(reqs)
    for layout, base, want in checks:
        check(layout, base, want)


def test_nonblocking_wait_test_and_lists(comm, rank, size):
    _, sview = make("every_other", N, values=data(rank, N))
    # Wait
    b, r = make("column", N)
    comm.Iallreduce(sview, r, op=MPI.SUM).Wait()
    check("column", b, total(size, N))
    # Test until done
    b, r = make("reversed", N)
    req = comm.Iallreduce(sview, r, op=MPI.SUM)
    while not req.Test():
        pass
    check("reversed", b, total(size, N))
    # Waitany / Testall
    b1, r1 = make("column", N)
    b2, r2 = make("nd", N)
    reqs = [comm.Iallreduce(sview, r1, op=MPI.SUM),
            comm.Iallreduce(sview, r2, op=MPI.MIN)]
    MPI.Request.Waitany(reqs)
    while not MPI.Request.Testall(reqs):
        pass
    check("column", b1, total(size, N))
    check("nd", b2, total(size, N, opname="MIN"))
    # the send view may change once the call returned (it was copied)
    b, r = make("every_other", N)
    req = comm.Iallreduce(sview, r, op=MPI.SUM)
    sview[...] = -1000.0
    req.Wait()
    check("every_other", b, total(size, N))


def test_nonblocking_request_dropped(comm, rank, size):
    # a dropped pending request keeps the view alive and completes later
    _, sview = make("every_other", N, values=data(rank, N))
    base, rview = make("column", N)
    req = comm.Iallreduce(sview, rview, op=MPI.SUM)
    del req, rview
    gc.collect()
    comm.Barrier()
    # more requests sweep the orphans; the buffer's owner may go now
    for _ in range(200):
        comm.Iallreduce(MPI.IN_PLACE, np.zeros(1), op=MPI.SUM).Wait()
    del base


# ---- Op.Reduce_local ---------------------------------------------------

@pytest.mark.parametrize("inl,inout", [("every_other", "contig"),
                                       ("contig", "column"),
                                       ("nd", "fortran_block")])
def test_reduce_local(inl, inout):
    _, a = make(inl, N, values=data(1, N))
    base, b = make(inout, N, values=data(2, N))
    MPI.SUM.Reduce_local(a, b)
    check(inout, base, data(1, N) + data(2, N))
    base, b = make(inout, N, values=data(2, N))
    MPI.MAX.Reduce_local([a, MPI.DOUBLE], [b, MPI.DOUBLE])
    check(inout, base, np.maximum(data(1, N), data(2, N)))


def test_reduce_local_errors():
    a = np.arange(20.0)
    with pytest.raises(ValueError):
        MPI.SUM.Reduce_local(a[::2], a[1::4])
    with pytest.raises(ValueError):
        MPI.SUM.Reduce_local(a[::2], np.zeros(10, "i8"))
    ro = np.zeros(20)
    ro.flags.writeable = False
    with pytest.raises(BufferError):
        MPI.SUM.Reduce_local(a[::2], ro[::2])


# ---- bad inputs ----------------------------------------------------------

def test_mismatches_raise(comm, size):
    a = np.arange(40.0)
    with pytest.raises(ValueError, match="elements"):
        comm.Allreduce(a[::2], np.zeros(30)[::2])
    with pytest.raises(ValueError, match="datatypes"):
        comm.Allreduce(a[::2], np.zeros((20, 2), "i8")[:, 0])
    with pytest.raises(ValueError, match="elements"):
        comm.Iallreduce(np.zeros(15), a[::2])
    with pytest.raises(ValueError):
        comm.Reduce_scatter_block(a[::4], np.zeros(14)[::2])
    with pytest.raises(ValueError):
        comm.Scan(a[::2], np.zeros((5, 3))[:, 1])
    with pytest.raises(ValueError):
        comm.Allreduce([a[::2], 25, MPI.DOUBLE], np.zeros(50)[::2])
    ro = np.zeros(40)
    ro.flags.writeable = False
    with pytest.raises(BufferError, match="read-only"):
        comm.Allreduce(a[::2], ro[::2])
    dt = MPI.DOUBLE.Create_contiguous(1).Commit()
    try:
        with pytest.raises(ValueError, match="derived"):
            comm.Allreduce([a[::2], dt], np.zeros(20))
    finally:
        dt.Free()
    comm.Barrier()


def test_more_than_int_max_items_refused(comm):
    # 2**31 items of stride 0 over one double: refused before any copy
    one = np.zeros(1)
    huge = np.lib.stride_tricks.as_strided(one, shape=(2 ** 31,),
                                           strides=(0,))
    with pytest.raises(ValueError, match=r"2\*\*31-1"):
        comm.Allreduce(huge, np.zeros(4)[::2])
    with pytest.raises(ValueError, match=r"2\*\*31-1"):
        comm.Iallreduce(huge, np.zeros(4)[::2])
    with pytest.raises(ValueError, match=r"2\*\*31-1"):
        MPI.SUM.Reduce_local(huge, np.zeros(4)[::2])
    comm.Barrier()


def test_contiguous_past_int_max_still_refused(comm):
    # calloc'd: 2 GiB of address space each, no memory touched
    a = np.zeros(2 ** 31, "u1")
    b = np.zeros(2 ** 31, "u1")
    with pytest.raises(ValueError, match=r"2\*\*31-1"):
        comm.Allreduce(a, b, op=MPI.SUM)
    with pytest.raises(ValueError, match=r"2\*\*31-1"):
        comm.Iallreduce(MPI.IN_PLACE, b, op=MPI.SUM)
    with pytest.raises(ValueError, match=r"2\*\*31-1"):
        MPI.SUM.Reduce_local(a, b)
    comm.Barrier()


# ---- memory --------------------------------------------------------------


@pytest.mark.fastmpi_only
def test_no_leak_strided_reductions(selfcomm):
    a = np.arange(2000.0)
    b = np.zeros((1000, 3))

    def loop(n):
        for _ in range(n):
            selfcomm.Allreduce(a[::2], b[:, 1], op=MPI.SUM)
            selfcomm.Allreduce(MPI.IN_PLACE, b[:, 2], op=MPI.MAX)
        for _ in range(n // 10):
            selfcomm.Iallreduce(a[::2], b[:, 1], op=MPI.SUM).Wait()
            MPI.SUM.Reduce_local(a[::2], b[:, 1])

    loop(1000)
    gc.collect()
    blocks0, rss0 = sys.getallocatedblocks(), _rss_kb()
    loop(10000)
    gc.collect()
    blocks1, rss1 = sys.getallocatedblocks(), _rss_kb()
    assert blocks1 - blocks0 < 200, (blocks0, blocks1)
    if not UNDER_ASAN:      # its quarantine keeps freed memory
        assert rss1 - rss0 < 4096, (rss0, rss1)
    assert np.array_equal(b[:, 1], 2 * a[::2])
