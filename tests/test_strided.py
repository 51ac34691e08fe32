"""Non-contiguous buffers (numpy views a[::2], a[:, 3], sub-blocks,
negative strides, n-D, any strided exporter) as messages: described to MPI
by a derived datatype, never copied.  mpi4py refuses them (it asks for a
contiguous buffer), so these tests are beyond_mpi4py."""
import array

import numpy as np
import pytest

from _impl import MPI

pytestmark = pytest.mark.beyond_mpi4py

SENTINEL = -7.0

BASE = (10, 12)
VIEWS = {
    "every_other": lambda a: a.ravel()[::2],
    "column": lambda a: a[:, 3],
    "row_step": lambda a: a[2, ::3],
    "block": lambda a: a[1:5, 2:7],
    "block_step": lambda a: a[1:9:2, 1:11:3],
    "reversed": lambda a: a.ravel()[::-1],
    "reversed_step": lambda a: a.ravel()[::-3],
    "reversed_2d": lambda a: a[::-2, ::-1],
    "transposed": lambda a: a.T,
    "fortran_block": lambda a: a.T[2:8, 1:4],
    "nd": lambda a: a.reshape(2, 5, 3, 4)[:, 1:4, ::2, 1:3],
}


def ring(comm):
    rank, size = comm.Get_rank(), comm.Get_size()
    return (rank + 1) % size, (rank - 1) % size


def source_array(rank):
    return np.arange(np.prod(BASE), dtype="f8").reshape(BASE) + 1000 * rank


def expected(view, rank):
    want = np.full(BASE, SENTINEL)
    view(want)[...] = view(source_array(rank))
    return want


def exchange(comm, sendbuf, recvbuf, tag, status=None):
    dest, src = ring(comm)
    req = comm.Isend(sendbuf, dest=dest, tag=tag)
    comm.Recv(recvbuf, source=src, tag=tag, status=status)
    req.Wait()
    return src


@pytest.mark.mpich_big
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_send_recv_views(comm, rank, name):
    view = VIEWS[name]
    a = source_array(rank)
    b = np.full(BASE, SENTINEL)
    st = MPI.Status()
    src = exchange(comm, view(a), view(b), 11, st)
    assert np.array_equal(b, expected(view, src))
    assert st.Get_count(MPI.DOUBLE) == view(a).size
    assert st.Get_elements(MPI.DOUBLE) == view(a).size


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_strided_to_contiguous_and_back(comm, rank, name):
    view = VIEWS[name]
    a = source_array(rank)
    n = view(a).size
    flat = np.zeros(n)
    src = exchange(comm, view(a), flat, 12)
    # a Fortran-ordered view is contiguous: sent in memory order, as by
    # mpi4py; a strided one in its logical (C) order
    v = view(source_array(src))
    order = "F" if v.flags.f_contiguous and not v.flags.c_contiguous else "C"
    assert np.array_equal(flat, v.ravel(order=order))
    b = np.full(BASE, SENTINEL)
    src = exchange(comm, np.ascontiguousarray(view(a)), view(b), 13)
    if order == "F":
        assert np.array_equal(b.ravel(), view(source_array(src)).ravel())
    else:
        assert np.array_equal(b, expected(view, src))


def test_other_dtypes_and_exporters(comm, rank):
    for dt in ("i1", "i4", "u8", "f4", "c16"):
        a = (np.arange(30) + rank).astype(dt)
        b = np.zeros(30, dt)
        src = exchange(comm, a[1::3], b[::3], 14)
        assert np.array_equal(b[::3], (np.arange(30) + src).astype(dt)[1::3])
        assert not b[1::3].any() and not b[2::3].any()
    # a memoryview slice is a strided exporter without numpy's fast path
    a = array.array("i", range(rank, rank + 20))
    b = array.array("i", [0] * 20)
    src = exchange(comm, memoryview(a)[::2], memoryview(b)[1::2], 15)
    assert list(b[1::2]) == list(range(src, src + 20, 2))
    assert list(b[::2]) == [0] * 10


def test_explicit_specs(comm, rank):
    a = np.arange(20, dtype="f8") + rank
    b = np.full(20, SENTINEL)
    src = exchange(comm, [a[::2], MPI.DOUBLE], [b[::2], MPI.DOUBLE], 16)
    assert np.array_equal(b[::2], np.arange(0, 20, 2) + src)
    b[:] = SENTINEL
    # a count along a 1-D view, and (count, displacement) in items
    src = exchange(comm, [a[::2], 4, MPI.DOUBLE],
                   [b[::2], (4, 3), MPI.DOUBLE], 17)
    want = np.full(20, SENTINEL)
    want[6:14:2] = np.arange(0, 8, 2) + src
    assert np.array_equal(b, want)
    m = np.zeros((4, 6))
    src = exchange(comm, [m[:, ::2], 12, MPI.DOUBLE],
                   [np.zeros(12), MPI.DOUBLE], 18)


def test_explicit_spec_errors(comm):
    a = np.zeros(20)
    m = np.zeros((4, 6))
    with pytest.raises(ValueError, match="does not fit"):
        comm.Send([a[::2], 11, MPI.DOUBLE], MPI.PROC_NULL)
    with pytest.raises(ValueError, match="sent whole"):
        comm.Send([m[:, 1:3], 5, MPI.DOUBLE], MPI.PROC_NULL)
    with pytest.raises(ValueError, match="extent"):
        comm.Send([a[::2], MPI.INT], MPI.PROC_NULL)
    with pytest.raises(ValueError, match="negative"):
        comm.Send([a[::2], -1, MPI.DOUBLE], MPI.PROC_NULL)


def test_explicit_derived_datatype_refused(comm):
    if not hasattr(MPI.DOUBLE, "Create_contiguous"):
        pytest.skip("this build has no Datatype.Create_contiguous")
    a = np.zeros(20)
    vec = MPI.DOUBLE.Create_contiguous(1).Commit()
    try:
        with pytest.raises(ValueError, match="predefined"):
            comm.Send([a[::2], vec], MPI.PROC_NULL)
    finally:
        vec.Free()


def test_read_only_strided_receive(comm):
    a = np.zeros(20)
    a.flags.writeable = False
    with pytest.raises(BufferError, match="read-only"):
        comm.Recv(a[::2], MPI.PROC_NULL)
    b = np.broadcast_to(np.zeros(1), (5,))
    with pytest.raises(BufferError, match="read-only"):
        comm.Recv(b, MPI.PROC_NULL)


def test_sendrecv_and_nonblocking(comm, rank):
    dest, src = ring(comm)
    a = source_array(rank)
    b = np.full(BASE, SENTINEL)
    view = VIEWS["block_step"]
    comm.Sendrecv(view(a), dest, 21, view(b), src, 21)
    assert np.array_equal(b, expected(view, src))
    b[:] = SENTINEL
    view = VIEWS["reversed_2d"]
    r = comm.Irecv(view(b), src, 22)
    s = comm.Isend(view(a), dest, 22)
    del a   # the request keeps the buffer
    MPI.Request.Waitall([r, s])
    assert np.array_equal(b, expected(view, src))


def test_sendrecv_replace(comm, rank):
    dest, src = ring(comm)
    a = source_array(rank)
    comm.Sendrecv_replace(a[:, 1::2], dest, 23, src, 23)
    want = source_array(rank)
    want[:, 1::2] = source_array(src)[:, 1::2]
    assert np.array_equal(a, want)


@pytest.mark.mpich_big
def test_bcast_gather_scatter(comm, rank, size):
    a = np.full((size * 2, 6), SENTINEL)
    if rank == 0:
        a[:, ::2] = np.arange(size * 6).reshape(size * 2, 3)
    comm.Bcast(a[:, ::2], root=0)
    assert np.array_equal(a[:, ::2], np.arange(size * 6).reshape(size * 2, 3))
    assert (a[:, 1::2] == SENTINEL).all()
    # Gather a strided send into strided rows of the root's buffer
    mine = np.arange(10.0) + 100 * rank
    out = np.full((size * 5, 3), SENTINEL)
    comm.Gather(mine[::2], out[:, 1] if rank == 0 else None, root=0)
    if rank == 0:
        want = np.concatenate([np.arange(0.0, 10, 2) + 100 * r
                               for r in range(size)])
        assert np.array_equal(out[:, 1], want)
        assert (out[:, [0, 2]] == SENTINEL).all()
    # Scatter from a strided root buffer into a strided receive
    src = np.arange(size * 8.0)
    got = np.full(8, SENTINEL)
    comm.Scatter(src[::2] if rank == 0 else None, got[::2], root=0)
    assert np.array_equal(got[::2], np.arange(size * 8.0)[::2][4 * rank:
                                                             4 * rank + 4])
    assert (got[1::2] == SENTINEL).all()


def test_allgather_alltoall(comm, rank, size):
    mine = np.arange(6.0) + 10 * rank
    out = np.full((size, 3, 2), SENTINEL)
    comm.Allgather(mine[::2], out[:, :, 0])
    for r in range(size):
        assert np.array_equal(out[r, :, 0], np.arange(0.0, 6, 2) + 10 * r)
    assert (out[:, :, 1] == SENTINEL).all()
    send = np.full((size, 4), SENTINEL)
    send[:, ::2] = (np.arange(size * 2) + 100 * rank).reshape(size, 2)
    recv = np.full((size, 4), SENTINEL)
    comm.Alltoall(send[:, ::2], recv[:, 1::2])
    for r in range(size):
        assert np.array_equal(recv[r, 1::2],
                              np.arange(2 * rank, 2 * rank + 2) + 100 * r)
    assert (recv[:, ::2] == SENTINEL).all()


def test_nonblocking_collective(comm, rank, size):
    a = np.full(12, SENTINEL)
    if rank == 0:
        a[::3] = [1, 2, 3, 4]
    comm.Ibcast(a[::3], root=0).Wait()
    assert list(a[::3]) == [1, 2, 3, 4]
    assert (a[1::3] == SENTINEL).all() and (a[2::3] == SENTINEL).all()


# Reductions with strided buffers (staged through contiguous temporaries):
# tests/test_strided_reduce.py.


@pytest.mark.fastmpi_only
def test_type_cache_bounded_and_no_leak(comm):
    import sys
    dest, src = ring(comm)
    a = np.zeros(400)
    # many different shapes: the cache evicts, nothing grows
    for k in range(2, 60):
        comm.Sendrecv(a[::k], dest, 30, a[::k], src, 30)
    before = sys.getallocatedblocks()
    for i in range(10000):
        k = 2 + i % 40
        comm.Send(a[::k], MPI.PROC_NULL)
    after = sys.getallocatedblocks()
    assert after - before < 100, (before, after)


@pytest.mark.fastmpi_only
def test_contiguous_path_unchanged(comm):
    # a contiguous array still goes the contiguous way (no derived type):
    # its status counts elements exactly as before
    a = np.arange(8.0)
    st = MPI.Status()
    dest, src = ring(comm)
    comm.Sendrecv(a, dest, 31, np.zeros(8), src, 31, status=st)
    assert st.Get_count(MPI.DOUBLE) == 8
