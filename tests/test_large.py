"""Messages past 2 GiB / counts above 2**31-1: Send/Recv, Bcast and
Status counts of a 2.5 GiB buffer, send/recv, bcast and irecv of a 2.5 GiB
object, and the errors for sizes that cannot be represented.

fastmpi describes a large buffer as one item of a large datatype
(MPI_Type_contiguous_c on MPICH 4, a chunked struct on Open MPI 4.1);
mpi4py 3.1 on MPI-3 refuses them, hence beyond_mpi4py.

The big tests run at 2 ranks only (each rank holds a 2.5 GiB buffer, the
object tests up to two; the suite runs MPICH and Open MPI launches side by
side) and skip, with the reason, when /proc/meminfo's MemAvailable is
below what they need."""
import numpy as np
import pytest

from _impl import FLAVOR, IMPL, MPI

GiB = 1 << 30
BIG = 5 * GiB // 2 + 3          # 2.5 GiB + 3 bytes: count > 2**31-1
NEED = 12 * GiB                 # both ranks' buffers and a margin


def mem_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@pytest.fixture
def big_pair(comm):
    """Skip unless this is a 2-rank run with enough memory (the same answer
    on both ranks: rank 0 decides)."""
    if IMPL == "mpi4py":
        pytest.skip("mpi4py 3.1 on MPI-3 refuses messages past 2 GiB on "
                    "the sending side only: the receiving rank would wait")
    if comm.Get_size() != 2:
        pytest.skip("runs at 2 ranks only, to bound memory")
    avail = mem_available()
    ok = comm.bcast(avail is not None and avail >= NEED, root=0)
    if not ok:
        pytest.skip(f"needs {NEED / GiB:.0f} GiB of MemAvailable, the "
                    f"machine has {(avail or 0) / GiB:.1f} GiB")
    yield comm
    comm.Barrier()


def marks(a):
    """Samples of a big uint8 array: its first, last and every 256 MiB."""
    return [int(a[0]), int(a[-1])] + [int(x) for x in a[::256 << 20]]


@pytest.mark.beyond_mpi4py
def test_big_send_recv_and_status(big_pair):
    comm = big_pair
    rank = comm.Get_rank()
    a = np.empty(BIG, np.uint8)
    if rank == 0:
        a[:] = 7
        a[-1] = 9
        comm.Send(a, 1, 41)
        comm.Send([a, 3, MPI.BYTE], 1, 42)
    else:
        a[:] = 0        # touched pages: a receive into fresh ones is slow
        st = MPI.Status()
        comm.Recv(a, 0, 41, status=st)
        assert int(a[0]) == 7 and int(a[-1]) == 9
        assert int(a[1 << 31]) == 7
        assert st.Get_count(MPI.BYTE) == BIG
        assert st.Get_elements(MPI.BYTE) == BIG
        assert st.count == BIG
        assert st.Get_count(MPI.INT) == MPI.UNDEFINED  # not whole ints
        # a small message into the big buffer
        comm.Recv(a, 0, 42, status=st)
        assert st.Get_count(MPI.BYTE) == 3


@pytest.mark.beyond_mpi4py
def test_big_bcast_buffer(big_pair):
    comm = big_pair
    a = np.zeros(BIG, np.uint8)
    if comm.Get_rank() == 0:
        a[::4096] = 3
        a[-1] = 5
    comm.Bcast(a, root=0)
    assert int(a[0]) == 3 and int(a[4096]) == 3 and int(a[-1]) == 5
    assert int(a[1]) == 0


@pytest.mark.beyond_mpi4py
def test_big_object_send_recv_bcast(big_pair):
    comm = big_pair
    rank = comm.Get_rank()
    if rank == 0:
        a = np.full(BIG, 6, np.uint8)
        a[-1] = 8
        comm.send(a, 1, 43)
        del a
    else:
        st = MPI.Status()
        got = comm.recv(source=0, tag=43, status=st)
        assert isinstance(got, np.ndarray) and got.shape == (BIG,)
        assert int(got[0]) == 6 and int(got[-1]) == 8
        assert st.Get_count() > BIG     # the pickle header too
        del got
    comm.Barrier()
    # bcast: the root flattens the message into one buffer (a copy)
    obj = {"x": np.full(BIG, 2, np.uint8)} if rank == 0 else None
    got = comm.bcast(obj, root=0)
    del obj
    assert got["x"].shape == (BIG,) and int(got["x"][-1]) == 2
    del got


@pytest.mark.beyond_mpi4py
def test_big_object_irecv(big_pair):
    comm = big_pair
    if comm.Get_rank() == 0:
        comm.isend(np.full(BIG, 4, np.uint8), 1, 44).wait()
    else:
        got = comm.irecv(source=0, tag=44).wait()
        assert got.shape == (BIG,) and int(got[-1]) == 4


@pytest.mark.beyond_mpi4py
def test_big_object_in_gather_refused(big_pair):
    comm = big_pair
    # the object collectives but bcast keep int sizes: a clear error on the
    # rank whose object is too big, a peer failure on the others; no hang
    obj = np.zeros(BIG, np.uint8) if comm.Get_rank() == 1 else 1
    with pytest.raises((ValueError, MPI.Exception, RuntimeError)) as info:
        comm.allgather(obj)
    if comm.Get_rank() == 1:
        assert "2**31-1" in str(info.value)


# ---- sizes that cannot be represented, negative counts (any size) -------

@pytest.mark.beyond_mpi4py
def test_count_cannot_be_represented(comm):
    a = np.zeros(8, np.uint8)
    with pytest.raises(ValueError, match="cannot be represented"):
        comm.Send([a, 2**70, MPI.BYTE], MPI.PROC_NULL)
    with pytest.raises(ValueError, match="cannot be represented"):
        comm.Send([MPI.BOTTOM, 2**62, MPI.DOUBLE], MPI.PROC_NULL)
    # more than the buffer holds: said before MPI sees it
    with pytest.raises(ValueError, match="buffer"):
        comm.Send([a, 2**33, MPI.BYTE], MPI.PROC_NULL)


@pytest.mark.beyond_mpi4py
def test_negative_counts(comm):
    a = np.zeros(8, np.uint8)
    with pytest.raises(ValueError, match="negative"):
        comm.Send([a, -1, MPI.BYTE], MPI.PROC_NULL)
    with pytest.raises(ValueError, match="negative"):
        comm.Recv([a, (-2, 0), MPI.BYTE], MPI.PROC_NULL)
    with pytest.raises(ValueError, match="negative"):
        comm.Send([a, (1, -1), MPI.BYTE], MPI.PROC_NULL)


@pytest.mark.beyond_mpi4py
def test_large_count_needs_predefined_datatype(comm):
    if not hasattr(MPI.DOUBLE, "Create_contiguous"):
        pytest.skip("this build has no Datatype.Create_contiguous")
    t = MPI.BYTE.Create_contiguous(2).Commit()
    try:
        with pytest.raises(ValueError, match="predefined"):
            comm.Send([MPI.BOTTOM, 2**31, t], MPI.PROC_NULL)
    finally:
        t.Free()


@pytest.mark.fastmpi_only
def test_large_type_cached_for_proc_null(comm):
    # a large count to PROC_NULL: builds (once) and reuses the large type,
    # no memory is touched, nothing grows
    import sys
    # np.zeros maps zero pages lazily: 6 GiB of address space, no memory
    spec = [np.zeros(3 * 2**31, np.uint8), MPI.BYTE]
    comm.Send(spec, MPI.PROC_NULL)
    before = sys.getallocatedblocks()
    for _ in range(10000):
        comm.Send(spec, MPI.PROC_NULL)
    assert sys.getallocatedblocks() - before < 100


# ---- v collectives past 2**31-1 (2 ranks) -------------------------------
# One 2 GiB buffer per rank, shared by the calls: rank 0's block is its
# first 8 bytes, rank 1's the 2**31+8 after them (a count past 2**31-1).
# MPICH takes MPI_Gatherv_c & co. on the rank whose arguments need it;
# Open MPI the int call with a unit datatype of 8 bytes (vlarge.c).

VSMALL = 8
VBIG = 2**31 + 8
VCOUNTS = [VSMALL, VBIG]
VSAMPLES = [0, 1, 4096, 2**31 - 1, 2**31, 2**31 + 1, VBIG - 1]


def sample(a, base):
    return [int(a[base + i]) for i in VSAMPLES]


@pytest.mark.beyond_mpi4py
def test_big_vector_collectives(big_pair):
    comm = big_pair
    rank = comm.Get_rank()
    a = np.zeros(VSMALL + VBIG, np.uint8)     # touched: see the top
    a[:] = 0
    mine = a[:VSMALL] if rank == 0 else a[VSMALL:]
    mine[:] = 10 + rank
    spec = [a, VCOUNTS, MPI.BYTE]

    # Gatherv to rank 0 (the root's own block in place)
    if rank == 0:
        comm.Gatherv(MPI.IN_PLACE, spec, root=0)
        assert sample(a, VSMALL) == [11] * len(VSAMPLES)
        assert list(a[:VSMALL]) == [10] * VSMALL
        for i in VSAMPLES:
            a[VSMALL + i] = 20 + i % 7
    else:
        comm.Gatherv(mine, None, root=0)

    # Scatterv back from rank 0
    if rank == 0:
        comm.Scatterv(spec, MPI.IN_PLACE, root=0)
    else:
        comm.Scatterv(None, mine, root=0)
        assert sample(a, VSMALL) == [20 + i % 7 for i in VSAMPLES]
        assert int(a[VSMALL + 2]) == 11

    # Iallgatherv in place: rank 1 gets rank 0's block, rank 0 rank 1's
    if rank == 0:
        a[VSMALL:VSMALL + 4096] = 0
    else:
        a[:VSMALL] = 0
    comm.Iallgatherv(MPI.IN_PLACE, spec).Wait()
    assert list(a[:VSMALL]) == [10] * VSMALL
    assert int(a[VSMALL + 2]) == 11
    assert sample(a, VSMALL) == [20 + i % 7 for i in VSAMPLES]

    # Alltoallv with a displacement past 2**31-1 (small counts): rank j's
    # 8 bytes land at a[0] (from rank 0) and at a[VBIG] (from rank 1)
    src = np.full(2 * VSMALL, 30 + rank, np.uint8)
    rspec = [a, ([VSMALL, VSMALL], [0, VBIG]), MPI.BYTE]
    comm.Alltoallv(src, rspec)
    assert list(a[:VSMALL]) == [30] * VSMALL
    assert list(a[VBIG:]) == [31] * VSMALL
    src[:] = 40 + rank
    comm.Ialltoallv(src, rspec).Wait()
    assert list(a[:VSMALL]) == [40] * VSMALL
    assert list(a[VBIG:]) == [41] * VSMALL


@pytest.mark.beyond_mpi4py
def test_big_vector_counts_without_common_factor(big_pair):
    # counts 2**31+1 and 2 share no factor, so no unit datatype brings
    # them below 2**31: MPICH takes MPI_Gatherv_c at the root (rank 1
    # calls the int MPI_Gatherv); Open MPI 4.1 (MPI-3.1) cannot, and the
    # root says so (rank 1 does not call: it would wait).  Allgatherv
    # refuses on every rank of both (MPICH 4.0.2's MPI_Allgatherv_c does
    # not finish with such counts).
    comm = big_pair
    rank = comm.Get_rank()
    counts = [2, 2**31 + 1]
    a = np.zeros(sum(counts), np.uint8)
    spec = [a, counts, MPI.BYTE]
    with pytest.raises(ValueError, match="common factor"):
        comm.Allgatherv(MPI.IN_PLACE, spec)
    if FLAVOR == "openmpi":
        if rank == 0:
            with pytest.raises(ValueError, match="common factor"):
                comm.Gatherv(MPI.IN_PLACE, spec, root=0)
        return
    a[:] = 0
    if rank == 0:
        a[:2] = 4
        comm.Gatherv(MPI.IN_PLACE, spec, root=0)
        assert int(a[2]) == 5 and int(a[2 + 4096]) == 5
        assert int(a[3]) == 0 and int(a[-1]) == 6 and list(a[:2]) == [4, 4]
    else:
        mine = a[2:]
        mine[::4096] = 5
        mine[-1] = 6
        comm.Gatherv(mine, None, root=0)


# ---- v collectives: sizes that cannot be represented (any size) ---------
# Allgatherv's counts are every rank's arguments: every rank raises.

@pytest.mark.beyond_mpi4py
@pytest.mark.mpich_big      # no MPI call: every rank raises first
def test_vector_count_cannot_be_represented(comm):
    n = comm.Get_size()
    a = np.zeros(8 * n, np.uint8)
    with pytest.raises(ValueError, match="cannot be represented"):
        comm.Allgatherv(MPI.IN_PLACE, [a, [2**64] * n, MPI.BYTE])
    with pytest.raises(ValueError, match="cannot be represented"):
        comm.Allgatherv(MPI.IN_PLACE, [a, ([0] * n, [2**70] * n),
                                       MPI.BYTE])
    # past 2**31-1 but beyond the buffer: said before MPI sees it
    with pytest.raises(ValueError, match="does not fit"):
        comm.Allgatherv(MPI.IN_PLACE, [a, [2**31] * n, MPI.BYTE])
    with pytest.raises(ValueError, match="does not fit"):
        comm.Allgatherv(MPI.IN_PLACE, [a, ([1] * n, [2**40] * n),
                                       MPI.BYTE])
    # a buffer past 2**31-1 items that does not split into one block per
    # rank (zeros are mapped lazily: no memory is touched)
    if n > 1:
        with pytest.raises(ValueError, match="do not split"):
            comm.Allgather(MPI.IN_PLACE, np.zeros(2**31 * n + 1, np.uint8))
    # the running sum of the counts past 2**63-1
    if n > 1:
        with pytest.raises(ValueError, match="cannot be represented"):
            comm.Allgatherv(MPI.IN_PLACE, [a, [2**62] * n, MPI.BYTE])
    # Open MPI: a derived datatype past 2**31-1 items needs a unit type
    # built on it, which fastmpi refuses clearly (MPI.BOTTOM: no bounds,
    # and no call is made)
    if FLAVOR == "openmpi" and hasattr(MPI.BYTE, "Create_contiguous"):
        t = MPI.BYTE.Create_contiguous(2).Commit()
        try:
            with pytest.raises(ValueError, match="predefined"):
                comm.Allgatherv(MPI.IN_PLACE, [MPI.BOTTOM, [2**31] * n, t])
        finally:
            t.Free()


# fastmpi_only: mpi4py 3.1 hands the negative counts to Open MPI, which
# crashes (SIGSEGV), ending the reference run
@pytest.mark.fastmpi_only
@pytest.mark.mpich_big      # no MPI call: every rank raises first
def test_vector_negative_counts(comm):
    n = comm.Get_size()
    a = np.zeros(8 * n, np.uint8)
    with pytest.raises(ValueError, match="negative|must be in"):
        comm.Allgatherv(MPI.IN_PLACE, [a, [-1] * n, MPI.BYTE])
    # past 2**31-1 first, then a negative one: the 64-bit pass says so
    with pytest.raises(ValueError, match="negative"):
        comm.Allgatherv(MPI.IN_PLACE, [a, [2**31] + [-1] * (n - 1) if n > 1
                                       else [-1], MPI.BYTE])
    with pytest.raises(ValueError, match="negative"):
        comm.Allgatherv(MPI.IN_PLACE, [a, ([1] * n, [2**31] + [-3] * (n - 1)
                                           if n > 1 else [-3]), MPI.BYTE])
    # wrong lengths and types after a value past 2**31-1
    with pytest.raises(ValueError, match="items"):
        comm.Allgatherv(MPI.IN_PLACE, [a, ([2**31] * n, [0] * (n + 1)),
                                       MPI.BYTE])
    with pytest.raises(TypeError, match="int"):
        comm.Allgatherv(MPI.IN_PLACE, [a, [2**31] + ["x"] * (n - 1) if n > 1
                                       else ["x"], MPI.BYTE])


@pytest.mark.beyond_mpi4py
def test_big_buffer_splits_into_blocks(big_pair):
    # Gather/Scatter/Allgather split a buffer past 2**31-1 items into one
    # block per rank: 2 x 1.2 GiB at the root (int counts per block), then
    # 2 x (2**31+8) in every rank's Allgather buffer (large blocks)
    comm = big_pair
    rank = comm.Get_rank()
    half = 1200 * 2**20
    if rank == 0:
        a = np.zeros(2 * half, np.uint8)
        a[:] = 0
        a[:half:4096] = 1
        comm.Gather(MPI.IN_PLACE, a, root=0)
        assert int(a[half]) == 2 and int(a[half + 4096]) == 2
        assert int(a[-1]) == 3 and int(a[half + 1]) == 0
        assert int(a[0]) == 1
        a[half:] = 0
        a[half::4096] = 4
        comm.Scatter(a, MPI.IN_PLACE, root=0)
    else:
        b = np.zeros(half, np.uint8)
        b[::4096] = 2
        b[-1] = 3
        comm.Gather(b, None, root=0)
        b[:] = 0
        comm.Scatter(None, b, root=0)
        assert int(b[0]) == 4 and int(b[4096]) == 4 and int(b[1]) == 0
        del b
    comm.Barrier()
    if rank == 0:
        del a
    blk = 2**31 + 8
    c = np.zeros(2 * blk, np.uint8)
    c[:] = 0
    mine = c[rank * blk:(rank + 1) * blk]
    mine[::4096] = 5 + rank
    mine[-1] = 7 + rank
    comm.Allgather(MPI.IN_PLACE, c)
    for r in range(2):
        assert int(c[r * blk]) == 5 + r and int(c[r * blk + 4096]) == 5 + r
        assert int(c[r * blk + 1]) == 0 and int(c[(r + 1) * blk - 1]) == 7 + r
    # an explicit count is per block
    other = c[(1 - rank) * blk:(2 - rank) * blk]
    other[::4096] = 0
    comm.Allgather(MPI.IN_PLACE, [c, blk, MPI.BYTE])
    r = 1 - rank
    assert int(c[r * blk]) == 5 + r and int(c[r * blk + 8192]) == 5 + r


@pytest.mark.beyond_mpi4py
def test_big_object_message_recv_and_irecv_into_buffer(big_pair):
    # a probed message past 2 GiB: Message.recv and Message.irecv; then
    # irecv into a given buffer past 2 GiB (MPICH receives into it with a
    # large type; Open MPI's receive guard takes it as the size limit)
    comm = big_pair
    n = 2**31 + 16
    if comm.Get_rank() == 0:
        a = np.full(n, 6, np.uint8)
        a[-1] = 9
        for tag in (45, 46, 47):
            comm.send(a, 1, tag)
        del a
    else:
        msg = MPI.Message.probe(comm, 0, 45)
        got = msg.recv()
        assert got.shape == (n,) and int(got[0]) == 6 and int(got[-1]) == 9
        del got
        got = MPI.Message.probe(comm, 0, 46).irecv().wait()
        assert got.shape == (n,) and int(got[-1]) == 9
        del got
        buf = bytearray(n + 4096)
        got = comm.irecv(buf, 0, 47).wait()
        assert got.shape == (n,) and int(got[-1]) == 9


@pytest.mark.fastmpi_only
def test_vector_large_path_does_not_leak(selfcomm):
    # the large path of the v collectives on one rank (COMM_SELF: nothing
    # is sent, almost nothing touched): unit types come from the cache,
    # the 64-bit arrays are freed, nothing grows
    import sys
    a = np.zeros(2**31 + 16, np.uint8)    # mapped lazily
    src = np.full(8, 3, np.uint8)
    vspec = [a, [2**31 + 16], MPI.BYTE]
    dspec = [a, ([8], [2**31 + 8]), MPI.BYTE]

    def calls():
        selfcomm.Allgatherv(MPI.IN_PLACE, vspec)
        selfcomm.Gatherv(MPI.IN_PLACE, vspec, root=0)
        selfcomm.Alltoallv([src, [8], MPI.BYTE], dspec)
        selfcomm.Ialltoallv([src, [8], MPI.BYTE], dspec).Wait()
    calls()
    assert list(a[-8:]) == [3] * 8
    before = sys.getallocatedblocks()
    for _ in range(10000):
        calls()
    assert sys.getallocatedblocks() - before < 100
