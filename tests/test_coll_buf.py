"""Collectives with buffers, blocking and nonblocking: results equal to the
serial computation for every root, IN_PLACE, vector specs, bad inputs."""
import numpy as np
import pytest

from _impl import MPI, IMPL

DTYPES = ["i4", "i8", "f4", "f8", "u1"]
BAD = (TypeError, ValueError, BufferError, MPI.Exception)


def data(rank, n, dt, salt=0):
    """What rank contributes: small values, exact in every dtype."""
    return ((np.arange(n) + 3 * rank + salt) % 50).astype(dt)


# ---- Bcast, Gather, Scatter ------------------------------------------------

@pytest.mark.mpich_big
@pytest.mark.parametrize("dt", DTYPES)
def test_bcast_every_root(comm, rank, size, dt):
    for root in range(size):
        buf = data(root, 5, dt) if rank == root else np.zeros(5, dt)
        comm.Bcast(buf, root=root)
        assert np.array_equal(buf, data(root, 5, dt))


@pytest.mark.mpich_big
@pytest.mark.parametrize("dt", DTYPES)
def test_gather_every_root(comm, rank, size, dt):
    for root in range(size):
        recv = np.zeros(3 * size, dt) if rank == root else None
        comm.Gather(data(rank, 3, dt), recv, root=root)
        if rank == root:
            want = np.concatenate([data(r, 3, dt) for r in range(size)])
            assert np.array_equal(recv, want)


def test_gather_in_place_and_spec(comm, rank, size):
    for root in range(size):
        if rank == root:
            recv = np.zeros(2 * size, "f8")
            recv[2 * root:2 * root + 2] = data(root, 2, "f8")
            comm.Gather(MPI.IN_PLACE, [recv, MPI.DOUBLE], root=root)
            want = np.concatenate([data(r, 2, "f8") for r in range(size)])
            assert np.array_equal(recv, want)
        else:
            comm.Gather([data(rank, 2, "f8"), MPI.DOUBLE], None, root=root)


@pytest.mark.mpich_big
def test_gatherv_forms(comm, rank, size):
    counts = [r + 1 for r in range(size)]
    want = np.concatenate([data(r, r + 1, "i4") for r in range(size)])
    displs = [sum(counts[:r]) for r in range(size)]
    for root in range(size):
        mine = data(rank, rank + 1, "i4")
        for form in range(4):
            recv = np.zeros(sum(counts), "i4") if rank == root else None
            spec = None
            if rank == root:
                spec = [
                    [recv, counts],
                    [recv, counts, MPI.INT],
                    [recv, (counts, displs), MPI.INT],
                    [recv, counts, displs, MPI.INT],
                ][form]
            comm.Gatherv(mine, spec, root=root)
            if rank == root:
                assert np.array_equal(recv, want), form


def test_gatherv_strided_displs(comm, rank, size):
    # counts 2, displacements 3 apart: gaps stay untouched
    recv = np.full(3 * size, -1, "i8")
    comm.Gatherv(data(rank, 2, "i8"), [recv, (2, 3), MPI.INT64_T], root=0)
    if rank == 0:
        for r in range(size):
            assert np.array_equal(recv[3 * r:3 * r + 2], data(r, 2, "i8"))
            assert recv[3 * r + 2] == -1


@pytest.mark.mpich_big
@pytest.mark.parametrize("dt", DTYPES)
def test_scatter_every_root(comm, rank, size, dt):
    for root in range(size):
        send = None
        if rank == root:
            send = np.concatenate([data(r, 4, dt, root) for r in range(size)])
        recv = np.zeros(4, dt)
        comm.Scatter(send, recv, root=root)
        assert np.array_equal(recv, data(rank, 4, dt, root))


def test_scatter_in_place(comm, rank, size):
    for root in range(size):
        if rank == root:
            send = np.concatenate([data(r, 2, "f4") for r in range(size)])
            comm.Scatter(send, MPI.IN_PLACE, root=root)
            assert np.array_equal(send[2 * root:2 * root + 2],
                                  data(root, 2, "f4"))
        else:
            recv = np.zeros(2, "f4")
            comm.Scatter(None, recv, root=root)
            assert np.array_equal(recv, data(rank, 2, "f4"))


@pytest.mark.mpich_big
def test_scatterv(comm, rank, size):
    counts = [size - r for r in range(size)]
    for root in range(size):
        send = None
        if rank == root:
            send = [np.concatenate([data(r, counts[r], "f8")
                                    for r in range(size)]), counts, MPI.DOUBLE]
        recv = np.zeros(counts[rank], "f8")
        comm.Scatterv(send, recv, root=root)
        assert np.array_equal(recv, data(rank, counts[rank], "f8"))


def test_scatterv_even_split(comm, rank, size):
    # no counts: the first ranks get the remainder
    n = 2 * size + 1
    send = np.arange(n, dtype="i4") if rank == 0 else None
    mine = n // size + (rank < n % size)
    start = sum(n // size + (r < n % size) for r in range(rank))
    recv = np.zeros(mine, "i4")
    comm.Scatterv(send, recv, root=0)
    assert np.array_equal(recv, np.arange(start, start + mine, dtype="i4"))


# ---- Allgather, Alltoall -----------------------------------------------------

@pytest.mark.mpich_big
@pytest.mark.parametrize("dt", DTYPES)
def test_allgather(comm, rank, size, dt):
    recv = np.zeros(3 * size, dt)
    comm.Allgather(data(rank, 3, dt), recv)
    assert np.array_equal(recv, np.concatenate([data(r, 3, dt)
                                                for r in range(size)]))
    inplace = np.zeros(3 * size, dt)
    inplace[3 * rank:3 * rank + 3] = data(rank, 3, dt)
    comm.Allgather(MPI.IN_PLACE, inplace)
    assert np.array_equal(inplace, recv)


def test_allgatherv(comm, rank, size):
    counts = [r + 1 for r in range(size)]
    want = np.concatenate([data(r, r + 1, "f8") for r in range(size)])
    recv = np.zeros(sum(counts))
    comm.Allgatherv(data(rank, rank + 1, "f8"), [recv, counts])
    assert np.array_equal(recv, want)
    recv2 = np.zeros(sum(counts))
    at = sum(counts[:rank])
    recv2[at:at + rank + 1] = data(rank, rank + 1, "f8")
    comm.Allgatherv(MPI.IN_PLACE, [recv2, counts, MPI.DOUBLE])
    assert np.array_equal(recv2, want)


@pytest.mark.mpich_big
@pytest.mark.parametrize("dt", ["i4", "f8"])
def test_alltoall(comm, rank, size, dt):
    send = np.array([100 * rank + j for j in range(size)], dt).repeat(2)
    recv = np.zeros(2 * size, dt)
    comm.Alltoall(send, recv)
    want = np.array([100 * j + rank for j in range(size)], dt).repeat(2)
    assert np.array_equal(recv, want)
    comm.Alltoall(MPI.IN_PLACE, send)
    assert np.array_equal(send, want)


@pytest.mark.mpich_big
def test_alltoallv(comm, rank, size):
    # rank r sends j+1 copies of 10*r+j to rank j
    scounts = [j + 1 for j in range(size)]
    send = np.concatenate([np.full(j + 1, 10 * rank + j, "i8")
                           for j in range(size)])
    rcounts = [rank + 1] * size
    recv = np.zeros(sum(rcounts), "i8")
    comm.Alltoallv([send, scounts], [recv, rcounts])
    want = np.concatenate([np.full(rank + 1, 10 * j + rank, "i8")
                           for j in range(size)])
    assert np.array_equal(recv, want)


def test_alltoallw(comm, rank, size):
    # to rank j: one int32 and one float64, typed per block, bytes displs
    send32 = np.array([10 * rank + j for j in range(size)], "i4")
    recv32 = np.zeros(size, "i4")
    sd = [4 * j for j in range(size)]
    comm.Alltoallw([send32, [1] * size, sd, [MPI.INT32_T] * size],
                   [recv32, ([1] * size, sd), [MPI.INT32_T] * size])
    assert np.array_equal(recv32, [10 * j + rank for j in range(size)])


def test_alltoallw_counts_and_displs_left_out(comm, rank, size):
    # [buf, datatypes] and [buf, None, None, datatypes]: one item of each
    # rank's datatype, the blocks one after the other
    send = np.array([10 * rank + j for j in range(size)], "i4")
    recv = np.zeros(size, "i4")
    comm.Alltoallw([send, [MPI.INT] * size],
                   [recv, None, None, [MPI.INT] * size])
    assert np.array_equal(recv, [10 * j + rank for j in range(size)])
    # blocks of different extents: rank j gets a pair of int32 if j is
    # odd, one float64 otherwise; the offsets follow the extents
    pair = MPI.INT32_T.Create_contiguous(2).Commit()
    try:
        types = [pair if j % 2 else MPI.DOUBLE for j in range(size)]
        send = bytearray(8 * size)
        for j in range(size):
            if j % 2:
                send[8 * j:8 * j + 8] = np.array([rank, j], "i4").tobytes()
            else:
                send[8 * j:8 * j + 8] = np.array([rank + j / 2]).tobytes()
        recv = bytearray(8 * size)
        rtypes = [pair if rank % 2 else MPI.DOUBLE] * size
        comm.Alltoallw([send, types], [recv, None, None, rtypes])
        for j in range(size):
            got = recv[8 * j:8 * j + 8]
            if rank % 2:
                assert list(np.frombuffer(got, "i4")) == [j, rank]
            else:
                assert np.frombuffer(got, "f8")[0] == j + rank / 2
    finally:
        pair.Free()


def test_alltoallw_counts_and_displs_left_out_bad(comm, size):
    buf = bytearray(4 * size)
    ok = [buf, [MPI.INT] * size]
    with pytest.raises(ValueError, match="2 to 4 items, not 1"):
        comm.Alltoallw([buf], ok)
    with pytest.raises(ValueError, match="BOTTOM needs explicit"):
        comm.Alltoallw([MPI.BOTTOM, [MPI.INT] * size], ok)
    with pytest.raises(ValueError, match="datatypes has"):
        comm.Alltoallw([buf, [MPI.INT] * (size + 1)], ok)
    # consecutive blocks past the buffer's end
    with pytest.raises(ValueError, match="block"):
        comm.Alltoallw([bytearray(4 * size - 1), [MPI.INT] * size], ok)


@pytest.mark.beyond_mpi4py
@pytest.mark.skipif(IMPL == "mpi4py", reason="mpi4py 3.1 cuts Alltoallw's "
                    "addresses to C ints, and crashes")
@pytest.mark.parametrize("nonblocking", [False, True])
@pytest.mark.parametrize("big", [False, True])
def test_alltoallw_bottom_absolute(comm, rank, size, nonblocking, big):
    # [BOTTOM, counts, displs, datatypes] with displs from MPI.Get_address:
    # big arrays are mapped high, past what Alltoallw's C int displacements
    # hold (fastmpi folds those blocks into datatypes of their own)
    n = (1 << 17) if big else 2 * size
    send = np.zeros(n, "i4")
    recv = np.full(n, -1, "i4")
    send[:2 * size] = [100 * rank + j for j in range(2 * size)]
    sa, ra = MPI.Get_address(send), MPI.Get_address(recv)
    sd = [sa + 8 * j for j in range(size)]
    rd = [ra + 8 * j for j in range(size)]
    args = ([MPI.BOTTOM, [2] * size, sd, [MPI.INT] * size],
            [MPI.BOTTOM, ([2] * size, rd), [MPI.INT] * size])
    if nonblocking:
        req = comm.Ialltoallw(*args)
        junk = [MPI.INT.Create_contiguous(3).Commit() for _ in range(4)]
        req.Wait()
        for t in junk:
            t.Free()
    else:
        comm.Alltoallw(*args)
    want = [100 * j + 2 * rank + k for j in range(size) for k in (0, 1)]
    assert list(recv[:2 * size]) == want
    assert (recv[2 * size:] == -1).all()
    # one side at absolute addresses, the other a buffer; zero counts
    recv[:] = -1
    comm.Alltoallw(args[0], [recv, [2] * size, [8 * j for j in range(size)],
                             [MPI.INT] * size])
    assert list(recv[:2 * size]) == want
    recv[:] = -1
    comm.Alltoallw([MPI.BOTTOM, [0] * size, sd, [MPI.INT] * size],
                   [MPI.BOTTOM, [0] * size, rd, [MPI.INT] * size])
    assert (recv == -1).all()


@pytest.mark.beyond_mpi4py
def test_alltoallw_displacements_bad(comm, size):
    buf = np.zeros(size, "i4")
    ok = [buf, [1] * size, [4 * j for j in range(size)], [MPI.INT] * size]
    for bad, exc in (([buf, [1] * size, [-4] * size, [MPI.INT] * size],
                      ValueError),
                     ([buf, [1] * size, [0.5] * size, [MPI.INT] * size],
                      TypeError),
                     ([buf, [1] * size, [0] * (size + 1), [MPI.INT] * size],
                      ValueError),
                     ([buf, [1] * size, [4 * size] * size, [MPI.INT] * size],
                      ValueError)):
        with pytest.raises(exc, match="displ|block"):
            comm.Alltoallw(bad, ok)


def test_type_codes_in_collective_specs(comm, rank, size):
    # the datatype of block, vector and w specs as a type code str
    send = np.full(3, rank, "f8")
    recv = np.zeros(3 * size, "f8")
    comm.Allgather([send, "d"], [recv, "d"])
    assert np.array_equal(recv, np.repeat(np.arange(size), 3).astype("f8"))
    recv[:] = 0
    comm.Allgather([send, 3, "d"], [recv, 3, "f8"])
    assert np.array_equal(recv, np.repeat(np.arange(size), 3).astype("f8"))
    recv[:] = 0
    comm.Allgatherv([send, "d"], [recv, [3] * size, "d"])
    assert np.array_equal(recv, np.repeat(np.arange(size), 3).astype("f8"))
    recv[:] = 0
    comm.Allgatherv([send, "d"], [recv, [3] * size, None, "d"])
    assert np.array_equal(recv, np.repeat(np.arange(size), 3).astype("f8"))
    buf = np.array([rank], "i4")
    comm.Bcast([buf, "i"], root=0)
    assert buf[0] == 0
    out = np.zeros(1, "i4")
    comm.Allreduce([np.array([rank + 1], "i4"), "i"], [out, "i"])
    assert out[0] == size * (size + 1) // 2


@pytest.mark.beyond_mpi4py     # mpi4py 3.1 takes Datatypes only in w specs
def test_type_codes_in_w_specs(comm, rank, size):
    send32 = np.array([10 * rank + j for j in range(size)], "i4")
    recv32 = np.zeros(size, "i4")
    sd = [4 * j for j in range(size)]
    comm.Alltoallw([send32, [1] * size, sd, "i"],
                   [recv32, ([1] * size, sd), ["i4"] * size])
    assert np.array_equal(recv32, [10 * j + rank for j in range(size)])


def test_type_codes_bad_in_collective_specs(comm, size):
    with pytest.raises(KeyError):
        comm.Allgather([np.zeros(1), "x"], [np.zeros(size), "d"])
    with pytest.raises(KeyError):
        comm.Allgatherv([np.zeros(1), "d"], [np.zeros(size), [1] * size, "x"])



@pytest.mark.beyond_mpi4py
def test_type_codes_bad_in_w_specs(comm, size):
    with pytest.raises(KeyError):
        comm.Alltoallw([np.zeros(size, "i4"), [1] * size, [0] * size,
                        ["x"] * size],
                       [np.zeros(size, "i4"), [1] * size, [0] * size,
                        ["i"] * size])


# ---- reductions ------------------------------------------------------------

OPS = {
    "SUM": np.add, "PROD": np.multiply, "MAX": np.maximum,
    "MIN": np.minimum, "BAND": np.bitwise_and, "BOR": np.bitwise_or,
    "BXOR": np.bitwise_xor,
}


def serial(opname, arrays):
    f = OPS[opname]
    acc = arrays[0].copy()
    for a in arrays[1:]:
        acc = f(acc, a).astype(acc.dtype)
    return acc


def small(rank, dt):
    return ((np.arange(6) + rank) % 3 + 1).astype(dt)


@pytest.mark.mpich_big
@pytest.mark.parametrize("opname", list(OPS))
@pytest.mark.parametrize("dt", ["i4", "i8", "f8", "u1"])
def test_allreduce_ops(comm, rank, size, opname, dt):
    if opname.startswith("B") and dt == "f8":
        pytest.skip("bitwise ops need integers")
    want = serial(opname, [small(r, dt) for r in range(size)])
    recv = np.zeros(6, dt)
    op = getattr(MPI, opname)
    comm.Allreduce(small(rank, dt), recv, op=op)
    assert np.array_equal(recv, want)
    buf = small(rank, dt)
    comm.Allreduce(MPI.IN_PLACE, buf, op=op)
    assert np.array_equal(buf, want)


@pytest.mark.mpich_big
@pytest.mark.parametrize("dt", DTYPES)
def test_reduce_every_root(comm, rank, size, dt):
    want = serial("SUM", [small(r, dt) for r in range(size)])
    for root in range(size):
        recv = np.zeros(6, dt) if rank == root else None
        comm.Reduce(small(rank, dt), recv, op=MPI.SUM, root=root)
        if rank == root:
            assert np.array_equal(recv, want)
        buf = small(rank, dt)
        if rank == root:
            comm.Reduce(MPI.IN_PLACE, buf, op=MPI.MAX, root=root)
            assert np.array_equal(
                buf, serial("MAX", [small(r, dt) for r in range(size)]))
        else:
            comm.Reduce(buf, None, op=MPI.MAX, root=root)


def test_maxloc_minloc_pairs(comm, rank, size):
    # MPI.DOUBLE_INT pairs as a numpy structured array viewed as bytes
    pair = np.dtype([("v", "f8"), ("i", "i4")], align=True)
    assert pair.itemsize == MPI.DOUBLE_INT.extent
    send = np.zeros(1, pair)
    send["v"] = float((rank * 7) % size)
    send["i"] = rank
    recv = np.zeros(1, pair)
    comm.Allreduce([send, MPI.DOUBLE_INT], [recv, MPI.DOUBLE_INT],
                   op=MPI.MAXLOC)
    vals = [float((r * 7) % size) for r in range(size)]
    assert recv["v"][0] == max(vals)
    assert recv["i"][0] == vals.index(max(vals))
    comm.Allreduce([send, MPI.DOUBLE_INT], [recv, MPI.DOUBLE_INT],
                   op=MPI.MINLOC)
    assert recv["v"][0] == min(vals)
    assert recv["i"][0] == vals.index(min(vals))


@pytest.mark.mpich_big
def test_reduce_scatter_block(comm, rank, size):
    send = np.concatenate([small(rank, "i8") for _ in range(size)])
    recv = np.zeros(6, "i8")
    comm.Reduce_scatter_block(send, recv, op=MPI.SUM)
    assert np.array_equal(recv, serial("SUM", [small(r, "i8")
                                               for r in range(size)]))
    inplace = send.copy()
    comm.Reduce_scatter_block(MPI.IN_PLACE, inplace, op=MPI.SUM)
    assert np.array_equal(inplace[:6], recv)


@pytest.mark.mpich_big
def test_reduce_scatter(comm, rank, size):
    counts = [r + 1 for r in range(size)]
    total = sum(counts)
    send = (np.arange(total) + rank).astype("f8")
    want_all = sum((np.arange(total) + r).astype("f8") for r in range(size))
    start = sum(counts[:rank])
    recv = np.zeros(counts[rank])
    comm.Reduce_scatter(send, recv, counts, op=MPI.SUM)
    assert np.array_equal(recv, want_all[start:start + counts[rank]])
    recv2 = np.zeros(counts[rank])
    comm.Reduce_scatter(send, recv2)      # counts gathered from recvbufs
    assert np.array_equal(recv2, recv)
    inplace = send.copy()
    comm.Reduce_scatter(MPI.IN_PLACE, inplace, counts, op=MPI.SUM)
    assert np.array_equal(inplace[:counts[rank]], recv)


@pytest.mark.mpich_big
@pytest.mark.parametrize("dt", ["i4", "f8"])
def test_scan_exscan(comm, rank, size, dt):
    recv = np.zeros(6, dt)
    comm.Scan(small(rank, dt), recv, op=MPI.SUM)
    assert np.array_equal(recv, serial("SUM", [small(r, dt)
                                               for r in range(rank + 1)]))
    buf = small(rank, dt)
    comm.Scan(MPI.IN_PLACE, buf, op=MPI.PROD)
    assert np.array_equal(buf, serial("PROD", [small(r, dt)
                                               for r in range(rank + 1)]))
    ex = np.full(6, 77, dt)
    comm.Exscan(small(rank, dt), ex, op=MPI.SUM)
    if rank > 0:
        assert np.array_equal(ex, serial("SUM", [small(r, dt)
                                                 for r in range(rank)]))


# ---- nonblocking -----------------------------------------------------------

@pytest.mark.mpich_big
def test_nonblocking_every_root(comm, rank, size):
    for root in range(size):
        buf = data(root, 4, "f8") if rank == root else np.zeros(4)
        req = comm.Ibcast(buf, root=root)
        assert isinstance(req, MPI.Request)
        req.Wait()
        assert np.array_equal(buf, data(root, 4, "f8"))
        recv = np.zeros(2 * size, "i4") if rank == root else None
        comm.Igather(data(rank, 2, "i4"), recv, root=root).Wait()
        if rank == root:
            assert np.array_equal(recv, np.concatenate(
                [data(r, 2, "i4") for r in range(size)]))
        rr = np.zeros(6, "i8") if rank == root else None
        comm.Ireduce(small(rank, "i8"), rr, op=MPI.MAX, root=root).Wait()
        if rank == root:
            assert np.array_equal(rr, serial("MAX", [small(r, "i8")
                                                     for r in range(size)]))


@pytest.mark.beyond_mpi4py
def test_nonblocking_all(comm, rank, size):
    reqs, checks = [], []
    ar = np.zeros(6, "i4")
    reqs.append(comm.Iallreduce(small(rank, "i4"), ar, op=MPI.SUM))
    checks.append(lambda: np.array_equal(
        ar, serial("SUM", [small(r, "i4") for r in range(size)])))
    ag = np.zeros(3 * size, "f8")
    reqs.append(comm.Iallgather(data(rank, 3, "f8"), ag))
    checks.append(lambda: np.array_equal(ag, np.concatenate(
        [data(r, 3, "f8") for r in range(size)])))
    counts = [r + 1 for r in range(size)]
    agv = np.zeros(sum(counts), "i8")
    reqs.append(comm.Iallgatherv(data(rank, rank + 1, "i8"), [agv, counts]))
    checks.append(lambda: np.array_equal(agv, np.concatenate(
        [data(r, r + 1, "i8") for r in range(size)])))
    a2a = np.zeros(size, "i4")
    reqs.append(comm.Ialltoall(np.arange(size, dtype="i4") + 10 * rank, a2a))
    checks.append(lambda: np.array_equal(
        a2a, [10 * j + rank for j in range(size)]))
    sc = np.zeros(6, "f8")
    reqs.append(comm.Iscan(small(rank, "f8"), sc))
    checks.append(lambda: np.array_equal(
        sc, serial("SUM", [small(r, "f8") for r in range(rank + 1)])))
    reqs.append(comm.Ibarrier())
    MPI.Request.Waitall(reqs)
    assert all(check() for check in checks)


def test_nonblocking_keeps_buffers(comm, rank, size):
    """The request holds the send buffer, counts and displacements."""
    import gc
    recv = np.zeros(sum(r + 1 for r in range(size)), "f8")
    req = comm.Iallgatherv(np.full(rank + 1, float(rank)),
                           [recv, [r + 1 for r in range(size)]])
    gc.collect()
    req.Wait()
    want = np.concatenate([np.full(r + 1, float(r)) for r in range(size)])
    assert np.array_equal(recv, want)
    out = np.zeros(1, "i4")
    req = comm.Ireduce_scatter_block(np.full(size, rank + 1, "i4"), out,
                                     op=MPI.SUM)
    gc.collect()
    req.Wait()
    assert out[0] == size * (size + 1) // 2


def test_nonblocking_vector_and_scatter(comm, rank, size):
    counts = [r + 1 for r in range(size)]
    send = None
    if rank == 0:
        send = [np.concatenate([np.full(r + 1, r, "i4")
                                for r in range(size)]), counts, MPI.INT]
    recv = np.zeros(rank + 1, "i4")
    comm.Iscatterv(send, recv, root=0).Wait()
    assert np.array_equal(recv, np.full(rank + 1, rank, "i4"))
    rs = np.zeros(counts[rank], "f8")
    comm.Ireduce_scatter(np.ones(sum(counts)), rs, counts, op=MPI.SUM).Wait()
    assert np.array_equal(rs, np.full(counts[rank], float(size)))
    ex = np.zeros(2, "i8")
    comm.Iexscan(np.full(2, rank + 1, "i8"), ex, op=MPI.SUM).Wait()
    if rank > 0:
        assert np.array_equal(ex, np.full(2, rank * (rank + 1) // 2))
    sv = np.arange(size, dtype="i8") + 100 * rank
    rv = np.zeros(size, "i8")
    comm.Ialltoallv([sv, [1] * size], [rv, [1] * size]).Wait()
    assert np.array_equal(rv, [100 * j + rank for j in range(size)])
    comm.Ialltoallw([sv, [1] * size, [8 * j for j in range(size)],
                     [MPI.INT64_T] * size],
                    [rv, [1] * size, [8 * j for j in range(size)],
                     [MPI.INT64_T] * size]).Wait()
    assert np.array_equal(rv, [100 * j + rank for j in range(size)])


# ---- bad input: every rank raises, before MPI is called ----------------------

@pytest.mark.mpich_big
def test_bad_root(comm, rank, size):
    buf = np.zeros(2)
    for bad in (size, -1, 10**3):
        with pytest.raises(BAD):
            comm.Bcast(buf, root=bad)
        with pytest.raises(BAD):
            comm.Reduce(buf, np.zeros(2), root=bad)
    comm.Barrier()


@pytest.mark.beyond_mpi4py
def test_bad_root_names_the_argument(comm, size):
    with pytest.raises(ValueError, match="root"):
        comm.Gather(np.zeros(1), np.zeros(size), root=size)


def test_recvbuf_not_divisible(comm, rank, size):
    if size == 1:
        pytest.skip("any length divides by 1")
    with pytest.raises(ValueError):
        comm.Allgather(np.zeros(2), np.zeros(2 * size + 1))


@pytest.mark.beyond_mpi4py
def test_allgather_size_mismatch(comm, rank, size):
    with pytest.raises(ValueError, match="bytes"):
        comm.Allgather(np.zeros(3), np.zeros(2 * size))


def test_allreduce_mismatch(comm, size):
    with pytest.raises(ValueError):
        comm.Allreduce(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        comm.Allreduce(np.zeros(3, "f8"), np.zeros(3, "i8"))
    with pytest.raises(BAD):
        comm.Iallreduce(np.zeros(3), np.zeros(4))


def test_read_only_recvbuf(comm, size):
    with pytest.raises(BAD):
        comm.Allgather(np.zeros(1), bytes(8 * size))
    ro = np.zeros(4)
    ro.flags.writeable = False
    with pytest.raises(BAD):
        comm.Allreduce(np.ones(4), ro)


@pytest.mark.beyond_mpi4py
def test_in_place_not_allowed(comm, size):
    with pytest.raises(ValueError, match="IN_PLACE"):
        comm.Bcast(MPI.IN_PLACE)
    with pytest.raises(ValueError, match="IN_PLACE"):
        comm.Allreduce(np.zeros(2), MPI.IN_PLACE)
    with pytest.raises(ValueError, match="IN_PLACE"):
        comm.Allgather(np.zeros(1), MPI.IN_PLACE)


@pytest.mark.beyond_mpi4py
def test_vector_spec_errors(comm, size):
    recv = np.zeros(size)
    with pytest.raises(ValueError, match="counts"):
        comm.Allgatherv(np.zeros(1), [recv, [1] * (size + 1)])
    with pytest.raises(ValueError, match="block"):
        comm.Allgatherv(np.zeros(1), [recv, [2] * size])
    with pytest.raises(TypeError):
        comm.Allgatherv(np.zeros(1), [recv, ["x"] * size])
    with pytest.raises(ValueError):
        comm.Allgatherv(np.zeros(1), [recv, [-1] * size])


def test_bad_op(comm):
    with pytest.raises(TypeError):
        comm.Allreduce(np.zeros(1), np.zeros(1), op="sum")
    with pytest.raises(BAD):
        comm.Allreduce(np.zeros(1), np.zeros(1), op=MPI.OP_NULL)


# ---- an explicit count in a block spec is per block: every block must fit

@pytest.mark.beyond_mpi4py         # mpi4py 3.1.4 writes past the buffer
@pytest.mark.mpich_big
def test_explicit_block_count_checked_for_every_block(comm, size):
    x = np.arange(3.0)
    big = np.full(3 * size + 3, -1.0)
    if size > 1:
        # room for one block of 3 only: every rank refuses before MPI
        with pytest.raises(ValueError, match="per block"):
            comm.Allgather(x, [big[:3], 3, MPI.DOUBLE])
        with pytest.raises(ValueError, match="per block"):
            comm.Alltoall([x, 3, MPI.DOUBLE], [big, 3, MPI.DOUBLE])
        with pytest.raises(ValueError, match="per block"):
            comm.Reduce_scatter_block([x, 3, MPI.DOUBLE],
                                      [big[:3], 3, MPI.DOUBLE])
        with pytest.raises(ValueError, match="per block"):
            comm.Iallgather(x, [big[1:3 * size], (3, 1), MPI.DOUBLE])
        assert (big == -1.0).all()      # nothing written
    # blocks that fit, with a displacement
    comm.Allgather(x + comm.Get_rank(), [big, (3, 1), MPI.DOUBLE])
    want = np.concatenate([x + r for r in range(size)])
    assert big[0] == -1.0 and (big[1:3 * size + 1] == want).all()
    assert (big[3 * size + 1:] == -1.0).all()
