"""Neighbourhood collectives on Cartesian grids (with PROC_NULL edges),
graphs and distributed graphs: every buffer form, blocking and
nonblocking, and the object forms, against the data each neighbour sent;
bad inputs."""
import gc

import numpy as np
import pytest

from _impl import MPI, FLAVOR, IMPL

PROC_NULL = MPI.PROC_NULL

# Topologies in which no process is the same neighbour twice.  Where one
# is (a periodic dimension of size 1 or 2, a graph with a repeated edge)
# the libraries disagree on which of the two blocks lands where: MPICH
# 4.0.2's neighbor_alltoall and (I)neighbor_alltoallv/w differ from each
# other, and Open MPI 4.1.4's nonblocking forms from its blocking ones
# (see docs/communicators.md).  The object forms are tested on such topologies too.


def unique(seq):
    out = []
    for x in seq:
        if x not in out:
            out.append(x)
    return out
# dist_graph_uneven: a process without in-neighbours passes a receive
# count of 0, with which Open MPI 4.1.4 skips its sends and hangs its
# out-neighbours (reproduced in C; mpi4py 3.1.4 hangs there, fastmpi
# works around it).
TOPOLOGIES = ["cart1", "cart2", "cart2_periodic", "cart3", "graph_ring",
              "dist_graph",
              pytest.param("dist_graph_uneven",
                           marks=pytest.mark.fastmpi_only)]


def make(comm, name):
    rank, size = comm.rank, comm.size
    if name == "cart1":
        return comm.Create_cart([size])
    if name == "cart2":
        return comm.Create_cart(MPI.Compute_dims(size, 2))
    if name == "cart2_periodic":
        dims = MPI.Compute_dims(size, 2)
        # periodic only where that gives distinct neighbours
        return comm.Create_cart(dims, periods=[d >= 3 for d in dims])
    if name == "cart3":
        return comm.Create_cart(MPI.Compute_dims(size, 3), periods=[
            False, False, False])
    if name == "cart_periodic_small":
        return comm.Create_cart([size], periods=[True])
    if name in ("graph_ring", "graph_multi"):
        index, edges = [], []
        for i in range(size):
            nbrs = [(i + 1) % size, (i - 1) % size]
            edges += nbrs if name == "graph_multi" else unique(nbrs)
            index.append(len(edges))
        return comm.Create_graph(index, edges)
    if name == "dist_graph":
        return comm.Create_dist_graph_adjacent(
            unique([(rank - 1) % size, (rank - 2) % size]),
            unique([(rank + 1) % size, (rank + 2) % size]))
    if name == "dist_graph_multi":
        return comm.Create_dist_graph_adjacent(
            [(rank - 1) % size, (rank - 1) % size, rank],
            [(rank + 1) % size, rank, (rank + 1) % size])
    if name == "dist_graph_uneven":
        # rank r sends to every higher rank: in- and out-degrees differ
        return comm.Create_dist_graph_adjacent(
            list(range(rank)), list(range(rank + 1, size)))
    raise AssertionError(name)


def value(sender, block):
    return 100 * sender + block + 1


def sender_blocks(topo):
    """For each in-edge i: (source, the source's out-block index j), or
    (PROC_NULL, None).  MPI's rule for graphs: the k-th edge from s to r is
    matched to the k-th edge r lists from s; for a Cartesian grid, the
    lower neighbour's upper block and the upper neighbour's lower one."""
    ins, outs = topo.inedges, topo.allgather(topo.outedges)
    rank = topo.rank
    result = []
    if topo.Get_topology() == MPI.CART:
        for i, s in enumerate(ins):
            result.append((s, None if s == PROC_NULL else i ^ 1))
        return result
    for i, s in enumerate(ins):
        k = ins[:i].count(s)
        js = [j for j, d in enumerate(outs[s]) if d == rank]
        result.append((s, js[k]))
    return result


@pytest.fixture(params=TOPOLOGIES)
def topo(request, comm):
    t = make(comm, request.param)
    yield t
    t.Free()


def count_of(sender, block):
    return 1 + (sender + block) % 3


# ---- buffers ----------------------------------------------------------------

@pytest.mark.mpich_big
@pytest.mark.parametrize("nonblocking", [False, True])
def test_neighbor_allgather(topo, nonblocking):
    rank = topo.rank
    indeg, outdeg = topo.degrees
    send = np.array([value(rank, 0), value(rank, 1)], "i4")
    recv = np.full(2 * indeg, -1, "i4")
    if nonblocking:
        topo.Ineighbor_allgather(send, recv).Wait()
    else:
        topo.Neighbor_allgather(send, recv)
    for i, (s, _) in enumerate(sender_blocks(topo)):
        want = [-1, -1] if s == PROC_NULL else [value(s, 0), value(s, 1)]
        assert recv[2 * i:2 * i + 2].tolist() == want


@pytest.mark.mpich_big
@pytest.mark.parametrize("nonblocking", [False, True])
def test_neighbor_allgatherv(topo, nonblocking):
    rank = topo.rank
    indeg, _ = topo.degrees
    blocks = sender_blocks(topo)
    counts = [0 if s == PROC_NULL else count_of(s, 0) for s, _ in blocks]
    displs = [4 * i for i in range(indeg)]
    send = np.full(count_of(rank, 0), value(rank, 0), "f8")
    recv = np.full(4 * indeg, -1.0)
    spec = [recv, (counts, displs), MPI.DOUBLE]
    if nonblocking:
        topo.Ineighbor_allgatherv(send, spec).Wait()
    else:
        topo.Neighbor_allgatherv(send, spec)
    for i, (s, _) in enumerate(blocks):
        got = recv[4 * i:4 * i + 4].tolist()
        if s == PROC_NULL:
            assert got == [-1.0] * 4
        else:
            n = count_of(s, 0)
            assert got == [value(s, 0)] * n + [-1.0] * (4 - n)


@pytest.mark.mpich_big
@pytest.mark.parametrize("nonblocking", [False, True])
def test_neighbor_alltoall(topo, nonblocking):
    rank = topo.rank
    indeg, outdeg = topo.degrees
    send = np.repeat([value(rank, j) for j in range(outdeg)], 3).astype("i8")
    recv = np.full(3 * indeg, -1, "i8")
    if nonblocking:
        req = topo.Ineighbor_alltoall(send, recv)
        del send
        gc.collect()
        req.Wait()
    else:
        topo.Neighbor_alltoall(send, recv)
    for i, (s, j) in enumerate(sender_blocks(topo)):
        want = [-1] * 3 if s == PROC_NULL else [value(s, j)] * 3
        assert recv[3 * i:3 * i + 3].tolist() == want


@pytest.mark.mpich_big
@pytest.mark.parametrize("nonblocking", [False, True])
def test_neighbor_alltoallv(topo, nonblocking):
    rank = topo.rank
    indeg, outdeg = topo.degrees
    outs = topo.outedges
    scounts = [count_of(rank, j) if outs[j] != PROC_NULL else 0
               for j in range(outdeg)]
    sdispls = [5 * j for j in range(outdeg)]
    send = np.zeros(5 * outdeg + 1, "i4")
    for j in range(outdeg):
        send[5 * j:5 * j + scounts[j]] = value(rank, j)
    blocks = sender_blocks(topo)
    rcounts = [0 if s == PROC_NULL else count_of(s, j) for s, j in blocks]
    rdispls = [3 * i for i in range(indeg)]
    recv = np.full(3 * indeg + 1, -1, "i4")
    args = ([send, (scounts, sdispls), MPI.INT],
            [recv, (rcounts, rdispls), MPI.INT])
    if nonblocking:
        topo.Ineighbor_alltoallv(*args).Wait()
    else:
        topo.Neighbor_alltoallv(*args)
    for i, (s, j) in enumerate(blocks):
        got = recv[3 * i:3 * i + 3].tolist()
        n = rcounts[i]
        want = [-1] * 3 if s == PROC_NULL else [value(s, j)] * n + \
            [-1] * (3 - n)
        assert got == want


def mpich_alltoallw_refused(topo):
    """MPICH 4.0.2's (I)neighbor_alltoallw loses the data on a distributed
    graph where some process's in- and out-degrees differ (reproduced in
    C); fastmpi raises NotImplementedError there instead, on every rank."""
    if IMPL != "fastmpi" or FLAVOR != "mpich":
        return False
    if topo.Get_topology() != MPI.DIST_GRAPH:
        return False
    return any(i != o for i, o in topo.allgather(topo.degrees))


@pytest.mark.mpich_big
@pytest.mark.parametrize("nonblocking", [False, True])
def test_neighbor_alltoallw(topo, nonblocking):
    rank = topo.rank
    indeg, outdeg = topo.degrees
    outs = topo.outedges
    # block j of the send: one int then one double, as bytes
    scounts = [1] * outdeg
    sdispls = [16 * j for j in range(outdeg)]
    send = bytearray(16 * outdeg + 1)
    for j in range(outdeg):
        np.frombuffer(send, "i4", 1, 16 * j)[:] = value(rank, j)
    blocks = sender_blocks(topo)
    recv = np.full(2 * indeg + 1, -1, "i4")
    rcounts = [1] * indeg
    rdispls = [8 * i for i in range(indeg)]
    args = ([send, (scounts, sdispls), [MPI.INT] * outdeg],
            [recv, (rcounts, rdispls), [MPI.INT] * indeg])
    del outs
    if mpich_alltoallw_refused(topo):
        with pytest.raises(NotImplementedError, match="MPICH 4.0"):
            if nonblocking:
                topo.Ineighbor_alltoallw(*args).Wait()
            else:
                topo.Neighbor_alltoallw(*args)
        return
    if nonblocking:
        topo.Ineighbor_alltoallw(*args).Wait()
    else:
        topo.Neighbor_alltoallw(*args)
    for i, (s, j) in enumerate(blocks):
        want = -1 if s == PROC_NULL else value(s, j)
        assert recv[2 * i] == want and recv[2 * i + 1] == -1


@pytest.mark.parametrize("nonblocking", [False, True])
@pytest.mark.parametrize("big", [False, True])
def test_neighbor_alltoallw_bottom_absolute(topo, nonblocking, big):
    # [BOTTOM, counts, displs, datatypes], displs from MPI.Get_address;
    # big: arrays numpy maps high (their addresses do not fit a C int)
    rank = topo.rank
    indeg, outdeg = topo.degrees
    n = (1 << 17) if big else 4
    send = np.zeros(max(n, 3 * outdeg + 1), "i4")
    recv = np.full(max(n, 3 * indeg + 1), -1, "i4")
    for j in range(outdeg):
        send[3 * j:3 * j + 2] = value(rank, j)
    sa, ra = MPI.Get_address(send), MPI.Get_address(recv)
    args = ([MPI.BOTTOM, ([2] * outdeg, [sa + 12 * j for j in range(outdeg)]),
             [MPI.INT] * outdeg],
            [MPI.BOTTOM, [2] * indeg, [ra + 12 * i for i in range(indeg)],
             [MPI.INT] * indeg])
    if mpich_alltoallw_refused(topo):
        with pytest.raises(NotImplementedError):
            topo.Neighbor_alltoallw(*args)
        return
    if nonblocking:
        topo.Ineighbor_alltoallw(*args).Wait()
    else:
        topo.Neighbor_alltoallw(*args)
    for i, (s, j) in enumerate(sender_blocks(topo)):
        want = -1 if s == PROC_NULL else value(s, j)
        assert list(recv[3 * i:3 * i + 3]) == [want, want, -1]


@pytest.mark.beyond_mpi4py
def test_neighbor_alltoallw_displacements_bad(comm, rank, size):
    dg = comm.Create_dist_graph_adjacent([rank], [rank])
    try:
        buf = np.zeros(4, "i4")
        ok = [buf, [1], [0], [MPI.INT]]
        for bad, exc in (([buf, [1], [-4], [MPI.INT]], ValueError),
                         ([buf, [1], [1.5], [MPI.INT]], TypeError),
                         ([buf, [1], [0, 0], [MPI.INT]], ValueError),
                         ([buf, [1], "ab", [MPI.INT]], TypeError),
                         ([buf, [1], [16], [MPI.INT]], ValueError)):
            with pytest.raises(exc, match="displ|block"):
                dg.Neighbor_alltoallw(bad, ok)
    finally:
        dg.Free()


# ---- objects ----------------------------------------------------------------

@pytest.mark.mpich_big
@pytest.mark.parametrize("name", TOPOLOGIES + ["cart_periodic_small"])
def test_neighbor_allgather_objects(comm, name):
    topo = make(comm, name)
    try:
        rank = topo.rank
        got = topo.neighbor_allgather({"rank": rank, "a": np.arange(rank)})
        blocks = sender_blocks(topo)
        assert len(got) == topo.indegree
        for g, (s, _) in zip(got, blocks):
            if s == PROC_NULL:
                assert g is None
            else:
                assert g["rank"] == s and g["a"].tolist() == list(range(s))
    finally:
        topo.Free()


@pytest.mark.mpich_big
@pytest.mark.parametrize("name", TOPOLOGIES + ["cart_periodic_small"])
def test_neighbor_alltoall_objects(comm, name):
    topo = make(comm, name)
    try:
        rank = topo.rank
        outdeg = topo.outdegree
        got = topo.neighbor_alltoall([(rank, j, "x" * (j * 50))
                                      for j in range(outdeg)])
        assert len(got) == topo.indegree
        for g, (s, j) in zip(got, sender_blocks(topo)):
            assert g == (None if s == PROC_NULL else (s, j, "x" * (j * 50)))
    finally:
        topo.Free()


@pytest.mark.mpich_big
@pytest.mark.parametrize("name", ["graph_multi", "dist_graph_multi"])
def test_neighbor_alltoall_objects_repeated_edges(comm, name):
    """A neighbour listed twice: which of its two objects lands first is
    the library's choice, but both arrive whole."""
    topo = make(comm, name)
    try:
        rank = topo.rank
        got = topo.neighbor_alltoall([(rank, j, "y" * (j * 40))
                                      for j in range(topo.outdegree)])
        want = [(s, j, "y" * (j * 40)) for s, j in sender_blocks(topo)]
        assert sorted(got) == sorted(want)
        for g, s in zip(got, topo.inedges):
            assert g[0] == s
        assert topo.neighbor_allgather(rank) == topo.inedges
    finally:
        topo.Free()


def test_neighbor_alltoall_objects_bad_length(comm):
    topo = make(comm, "cart1")
    try:
        name = "sendobj" if IMPL == "fastmpi" else ""
        with pytest.raises(ValueError, match=name):
            topo.neighbor_alltoall([1])          # outdegree is 2
        with pytest.raises(TypeError, match=name):
            topo.neighbor_alltoall(5)
        # the ranks still agree afterwards
        assert topo.neighbor_alltoall([1, 2]) is not None
    finally:
        topo.Free()


@pytest.mark.fastmpi_only   # mpi4py 3.1.4 raises on that rank alone: a hang
def test_neighbor_object_one_rank_fails(comm, rank, size):
    """A rank whose object cannot be pickled raises its own error; its
    neighbours raise ValueError naming it; nobody hangs."""
    topo = make(comm, "cart1")
    try:
        bad = rank == 0
        obj = (lambda: 0) if bad else rank
        if bad:
            with pytest.raises(Exception):
                topo.neighbor_allgather(obj)
        elif 0 in topo.inedges:
            with pytest.raises(ValueError, match="rank 0"):
                topo.neighbor_allgather(obj)
        else:
            topo.neighbor_allgather(obj)
    finally:
        topo.Free()


# ---- bad inputs ---------------------------------------------------------------

@pytest.mark.beyond_mpi4py
def test_neighbor_bad_buffers(comm, size):
    topo = make(comm, "cart1")           # in- and outdegree 2
    try:
        send = np.zeros(2, "i4")
        with pytest.raises(ValueError, match="recvbuf.*2 equal blocks"):
            topo.Neighbor_allgather(send, np.zeros(3, "i4"))
        with pytest.raises(ValueError, match="IN_PLACE"):
            topo.Neighbor_allgather(MPI.IN_PLACE, np.zeros(4, "i4"))
        with pytest.raises(ValueError, match="IN_PLACE"):
            topo.Ineighbor_alltoall(send, MPI.IN_PLACE)
        with pytest.raises(TypeError, match="recvbuf"):
            topo.Neighbor_alltoall(send, None)
        with pytest.raises(ValueError, match="sendbuf.*2 equal blocks"):
            topo.Neighbor_alltoall(np.zeros(3, "i4"), np.zeros(4, "i4"))
        with pytest.raises(ValueError, match="counts"):
            topo.Neighbor_alltoallv([send, [1, 1, 0], MPI.INT],
                                    [np.zeros(2, "i4"), [1, 1], MPI.INT])
        with pytest.raises(ValueError, match="recvbuf"):
            topo.Neighbor_allgatherv(send[:1], [np.zeros(2, "i4"), [1, 1],
                                                [0, 5], MPI.INT])
        with pytest.raises((TypeError, BufferError), match="recvbuf"):
            topo.Neighbor_allgather(send, b"read-only")
        with pytest.raises(ValueError, match="datatypes"):
            topo.Neighbor_alltoallw(
                [send, [1, 1], [0, 4], [MPI.INT]],
                [np.zeros(2, "i4"), [1, 1], [0, 4], [MPI.INT] * 2])
        with pytest.raises(TypeError):
            topo.Neighbor_allgather(send)
        with pytest.raises(MPI.Exception):
            MPI.Cartcomm().Neighbor_allgather(send, send)
    finally:
        topo.Free()
    # a Topocomm object whose communicator has no topology
    with pytest.raises(AttributeError):
        comm.Neighbor_allgather


@pytest.mark.fastmpi_only
def test_neighbor_no_leak():
    """Buffers, arrays and pickles of every form are released: thousands of
    calls leave Python's block count flat."""
    import sys
    cart = MPI.COMM_SELF.Create_cart([1], periods=[False])
    dg = MPI.COMM_SELF.Create_dist_graph_adjacent([0], [0])
    send = np.arange(2, dtype="i4")
    recv = np.zeros(2, "i4")

    def cycle(n):
        for _ in range(n):
            cart.Neighbor_allgather(send[:1], recv)
            cart.Ineighbor_alltoallv([send, [1, 1], [0, 1], MPI.INT],
                                     [recv, [1, 1], [0, 1], MPI.INT]).Wait()
            dg.Ineighbor_alltoallw([send, [1], [0], [MPI.INT]],
                                   [recv, [1], [4], [MPI.INT]]).Wait()
            dg.neighbor_alltoall([{"a": 1}])
            cart.neighbor_allgather(np.arange(3))
            try:
                cart.Neighbor_alltoall(send, np.zeros(3, "i4"))
            except ValueError:
                pass

    cycle(1000)
    gc.collect()
    blocks = sys.getallocatedblocks()
    cycle(3000)
    gc.collect()
    # one object kept per call would be 3000 or more
    assert sys.getallocatedblocks() - blocks < 300
    cart.Free()
    dg.Free()
