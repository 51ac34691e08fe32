"""Process topologies: Cartesian grids (coordinates, shifts with and
without periods, Sub), graphs, distributed graphs (weights), Compute_dims,
the classes returned, and bad inputs raising before MPI is called."""
import gc
import itertools

import numpy as np
import pytest

from _impl import MPI, IMPL, FLAVOR
from _impl import UNDER_ASAN, rss_kb as _rss_kb

BAD = (TypeError, ValueError)


def grid_dims(size, ndims):
    return MPI.Compute_dims(size, ndims)


def serial_coords(rank, dims):
    """Row-major coordinates, as MPI numbers a grid without reordering."""
    out = []
    for d in reversed(dims):
        out.append(rank % d)
        rank //= d
    return out[::-1]


# ---- Compute_dims -----------------------------------------------------------

def test_compute_dims_results():
    assert MPI.Compute_dims(6, 2) == [3, 2]
    assert MPI.Compute_dims(6, [0, 3]) == [2, 3]
    assert MPI.Compute_dims(12, [0, 0, 0]) == [3, 2, 2]
    assert MPI.Compute_dims(4, [2, 2, 0]) == [2, 2, 1]
    assert MPI.Compute_dims(7, 1) == [7]
    assert MPI.Compute_dims(1, 0) == []
    assert MPI.Compute_dims(5, (5,)) == [5]
    assert MPI.Compute_dims(np.int64(6), np.array([0, 0])) == [3, 2]
    assert MPI.Compute_dims(6, np.int32(2)) == [3, 2]


@pytest.mark.beyond_mpi4py
@pytest.mark.parametrize("nnodes, dims", [
    (7, [2, 0]),        # 2 does not divide 7
    (4, [1, 1]),        # no free dimension and the product is not 4
    (0, 2), (-1, 2),    # no nodes
    (4, -1),            # negative number of dimensions
    (4, [0, -1]),       # a negative entry
])
def test_compute_dims_impossible(nnodes, dims):
    with pytest.raises(ValueError, match="Compute_dims"):
        MPI.Compute_dims(nnodes, dims)


@pytest.mark.beyond_mpi4py
def test_compute_dims_types():
    with pytest.raises(TypeError, match="dims"):
        MPI.Compute_dims(4, "ab")
    with pytest.raises(TypeError, match="dims"):
        MPI.Compute_dims(4, [1.5, 0])
    with pytest.raises(TypeError):
        MPI.Compute_dims("4", 2)


# ---- Cartesian grids --------------------------------------------------------

def test_world_has_no_topology(comm):
    assert comm.Get_topology() == MPI.UNDEFINED
    assert comm.topology == MPI.UNDEFINED
    assert {MPI.CART, MPI.GRAPH, MPI.DIST_GRAPH}.isdisjoint({MPI.UNDEFINED})


def test_is_topo(comm, size):
    assert comm.is_topo is False and MPI.COMM_SELF.is_topo is False
    made = [comm.Create_cart([size]),
            comm.Create_graph(*ring_graph(size)),
            comm.Create_dist_graph_adjacent([], [])]
    try:
        for t in made:
            assert t.is_topo is True
        assert type(MPI.Comm.__dict__["is_topo"]) is type(MPI.Comm.rank)
        dup = made[0].Dup()
        assert dup.is_topo is True
        dup.Free()
    finally:
        for t in made:
            t.Free()
    with pytest.raises(MPI.Exception):
        MPI.COMM_NULL.is_topo


@pytest.mark.parametrize("periods", [None, True, False, "list"])
def test_cart_map(comm, size, periods):
    for ndims in (1, 2, 3):
        dims = MPI.Compute_dims(size, ndims)
        p = [True] * ndims if periods == "list" else periods
        cart = comm.Create_cart(dims, p, reorder=True)
        try:
            assert comm.Cart_map(dims, p) == cart.Get_rank()
            assert comm.Cart_map(dims=dims, periods=p) == cart.Get_rank()
        finally:
            cart.Free()


def test_graph_map(comm, rank, size):
    index, edges = ring_graph(size)
    for form in (index, [0] + index):
        g = comm.Create_graph(form, edges, reorder=True)
        try:
            assert comm.Graph_map(form, edges) == g.Get_rank()
        finally:
            g.Free()


@pytest.mark.beyond_mpi4py     # Open MPI answers every rank; see the docs
def test_cart_graph_map_smaller_than_comm(comm, size):
    # one cell / one node: UNDEFINED on every rank but one
    for got in (comm.allgather(comm.Cart_map([1])),
                comm.allgather(comm.Cart_map([1], True)),
                comm.allgather(comm.Graph_map([1], [0])),
                comm.allgather(comm.Graph_map([0, 1], [0]))):
        assert got.count(0) == 1 and got.count(MPI.UNDEFINED) == size - 1


@pytest.mark.beyond_mpi4py
def test_cart_graph_map_bad_inputs(comm, size):
    with pytest.raises(ValueError, match="Cart_map.*communicator has only"):
        comm.Cart_map([size + 1])
    with pytest.raises(ValueError, match="Cart_map.*dims"):
        comm.Cart_map([0])
    with pytest.raises(ValueError, match="Cart_map.*periods"):
        comm.Cart_map([size], [True, True])
    with pytest.raises(TypeError, match="Cart_map.*dims"):
        comm.Cart_map(size)
    with pytest.raises(TypeError, match="Cart_map.*periods"):
        comm.Cart_map([size], 3)
    with pytest.raises(ValueError, match="Graph_map.*nodes"):
        comm.Graph_map(list(range(1, size + 2)), list(range(size + 1)))
    with pytest.raises(ValueError, match="Graph_map.*edges"):
        comm.Graph_map([1], [1])
    with pytest.raises(TypeError, match="Graph_map.*edges"):
        comm.Graph_map([1], None)
    with pytest.raises(TypeError):
        comm.Graph_map([1])
    with pytest.raises(MPI.Exception):
        MPI.Intracomm().Cart_map([1])
    with pytest.raises(MPI.Exception):
        MPI.Intracomm().Graph_map([1], [0])


@pytest.mark.mpich_big
@pytest.mark.parametrize("ndims", [1, 2, 3])
@pytest.mark.parametrize("periodic", [False, True])
def test_cart_coords_and_shift(comm, rank, size, ndims, periodic):
    dims = grid_dims(size, ndims)
    cart = comm.Create_cart(dims, periods=[periodic] * ndims)
    try:
        assert type(cart) is MPI.Cartcomm
        assert cart.Get_topology() == MPI.CART
        assert cart.Get_dim() == cart.ndim == cart.dim == ndims
        coords = serial_coords(cart.rank, dims)
        assert cart.coords == coords
        assert cart.Get_topo() == cart.topo == (dims, [int(periodic)] * ndims,
                                                coords)
        assert cart.dims == dims
        assert cart.periods == [int(periodic)] * ndims
        for r in range(size):
            c = cart.Get_coords(r)
            assert c == serial_coords(r, dims)
            assert cart.Get_cart_rank(c) == r
        for d in range(ndims):
            for disp in (1, -1, 2):
                src, dst = cart.Shift(d, disp)
                for got, step in ((dst, disp), (src, -disp)):
                    c = list(coords)
                    c[d] += step
                    if periodic:
                        c[d] %= dims[d]
                        assert got == cart.Get_cart_rank(c)
                    elif 0 <= c[d] < dims[d]:
                        assert got == cart.Get_cart_rank(c)
                    else:
                        assert got == MPI.PROC_NULL
        # neighbours in MPI's order: per dimension, lower then upper
        want = []
        for d in range(ndims):
            want += list(cart.Shift(d, 1))
        assert cart.inedges == want and cart.outedges == want
        assert cart.inoutedges == (want, want)
        assert cart.degrees == (2 * ndims, 2 * ndims)
        assert cart.indegree == cart.outdegree == 2 * ndims
    finally:
        cart.Free()


def test_cart_periodic_wraps_coordinates(comm, size):
    cart = comm.Create_cart([size], periods=[True])
    assert cart.Get_cart_rank([size]) == 0
    assert cart.Get_cart_rank([-1]) == size - 1
    cart.Free()


@pytest.mark.mpich_big
def test_cart_smaller_than_comm(comm, rank, size):
    cart = comm.Create_cart([max(size - 1, 1)])
    assert type(cart) is MPI.Cartcomm
    if rank < max(size - 1, 1):
        assert cart != MPI.COMM_NULL and cart.size == max(size - 1, 1)
        cart.Free()
    else:
        assert cart == MPI.COMM_NULL and not cart


def test_cart_zero_dimensions(comm, rank):
    cart = comm.Create_cart([])
    assert type(cart) is MPI.Cartcomm
    if rank == 0:
        assert cart.Get_topo() == ([], [], [])
        assert cart.size == 1
        cart.Free()
    else:
        assert cart == MPI.COMM_NULL


@pytest.mark.mpich_big
def test_cart_sub(comm, rank, size):
    dims = grid_dims(size, 2)
    cart = comm.Create_cart(dims, periods=[True, False])
    coords = cart.coords
    rows = cart.Sub([False, True])     # keep dimension 1: one row each
    cols = cart.Sub([True, False])
    none = cart.Sub([False, False])
    try:
        for sub in (rows, cols, none):
            assert type(sub) is MPI.Cartcomm and sub.Get_topology() == \
                MPI.CART
        assert rows.Get_topo() == ([dims[1]], [0], [coords[1]])
        assert cols.Get_topo() == ([dims[0]], [1], [coords[0]])
        assert rows.size == dims[1] and cols.size == dims[0]
        # every process gets a zero-dimensional grid of its own
        assert none.size == 1 and none.Get_topo() == ([], [], [])
        assert rows.allgather(coords[0]) == [coords[0]] * dims[1]
    finally:
        for c in (rows, cols, none, cart):
            c.Free()


def test_cart_dup_split_constructors(comm):
    cart = comm.Create_cart([comm.size])
    dup = cart.Dup()
    assert type(dup) is MPI.Cartcomm and dup.dims == [comm.size]
    split = cart.Split(0, 0)
    assert type(split) is MPI.Intracomm
    assert split.Get_topology() == MPI.UNDEFINED
    # communicators made from the group drop the topology, and the class
    # (Open MPI 4.1.4's MPI_Comm_create_group keeps the Cartesian
    # topology; the class is Intracomm there too, as in mpi4py)
    for name, made in (("Create", cart.Create(cart.Get_group())),
                       ("Create_group", cart.Create_group(cart.Get_group())),
                       ("Split_type", cart.Split_type(MPI.COMM_TYPE_SHARED))):
        assert type(made) is MPI.Intracomm
        if not (name == "Create_group" and FLAVOR == "openmpi"):
            assert made.Get_topology() == MPI.UNDEFINED
        made.Free()
    clone = cart.Clone()
    assert type(clone) is MPI.Cartcomm and clone.dims == [comm.size]
    clone.Free()
    assert type(MPI.Cartcomm(cart)) is MPI.Cartcomm
    assert MPI.Cartcomm(cart) == cart
    assert MPI.Cartcomm() == MPI.COMM_NULL
    assert isinstance(cart, MPI.Topocomm) and isinstance(cart, MPI.Intracomm)
    with pytest.raises(TypeError):
        MPI.Cartcomm(comm)
    with pytest.raises(TypeError):
        MPI.Topocomm(comm)
    with pytest.raises(TypeError):
        MPI.Graphcomm(cart)
    for c in (split, dup, cart):
        c.Free()


@pytest.mark.beyond_mpi4py
def test_topocomm_of_a_cart(comm):
    # mpi4py 3.1.4 raises TypeError on Topocomm(cart).degrees
    cart = comm.Create_cart([comm.size])
    topo = MPI.Topocomm(cart)
    assert type(topo) is MPI.Topocomm
    assert topo.degrees == (2, 2) and topo.inedges == cart.inedges
    cart.Free()


def test_handle_round_trip_gives_the_topology_class(comm, size):
    cart = comm.Create_cart([size])
    graph = comm.Create_graph(list(range(1, size + 1)),
                              [(i + 1) % size for i in range(size)])
    dist = comm.Create_dist_graph_adjacent([], [])
    plain = comm.Dup()
    try:
        for c, cls in ((cart, MPI.Cartcomm), (graph, MPI.Graphcomm),
                       (dist, MPI.Distgraphcomm), (plain, MPI.Intracomm)):
            for base in (MPI.Comm, MPI.Intracomm, MPI.Topocomm):
                back = base.f2py(c.py2f())
                assert type(back) is cls and back == c
            assert type(MPI.Comm.fromhandle(c.handle)) is cls
        # asked for exactly the class, the class is kept
        assert type(MPI.Cartcomm.f2py(cart.py2f())) is MPI.Cartcomm
        assert type(MPI.Comm.f2py(MPI.COMM_NULL.py2f())) is MPI.Comm
    finally:
        for c in (cart, graph, dist, plain):
            c.Free()
    with pytest.raises(BAD):
        MPI.Comm.f2py("not a handle")
    with pytest.raises(BAD):
        MPI.Comm.fromhandle(None)


@pytest.mark.beyond_mpi4py
def test_cart_bad_inputs(comm, size):
    with pytest.raises(ValueError, match="dims.*communicator has only"):
        comm.Create_cart([size + 1])
    with pytest.raises(ValueError, match="dims"):
        comm.Create_cart([size, 2, 2])  # 4*size > size
    with pytest.raises(ValueError, match="dims"):
        comm.Create_cart([-1])
    with pytest.raises(ValueError, match="dims"):
        comm.Create_cart([0])
    with pytest.raises(ValueError, match="periods"):
        comm.Create_cart([size], periods=[True, False])
    with pytest.raises(TypeError, match="dims"):
        comm.Create_cart(size)
    with pytest.raises(TypeError, match="dims"):
        comm.Create_cart(["a"])
    cart = comm.Create_cart([size, 1], periods=[False, True])
    try:
        with pytest.raises(ValueError, match="coords"):
            cart.Get_cart_rank([0])
        with pytest.raises(ValueError, match="coords"):
            cart.Get_cart_rank([size, 0])     # past a non-periodic edge
        with pytest.raises(ValueError, match="coords"):
            cart.Get_cart_rank([-1, 0])
        assert cart.Get_cart_rank([0, 5]) == 0  # dimension 1 is periodic
        with pytest.raises(ValueError, match="rank"):
            cart.Get_coords(size)
        with pytest.raises(ValueError, match="rank"):
            cart.Get_coords(-1)
        with pytest.raises(ValueError, match="direction"):
            cart.Shift(2, 1)
        with pytest.raises(ValueError, match="direction"):
            cart.Shift(-1, 1)
        with pytest.raises(ValueError, match="remain_dims"):
            cart.Sub([True])
        with pytest.raises(TypeError, match="remain_dims"):
            cart.Sub(None)
        with pytest.raises(TypeError):
            cart.Shift("0", 1)
    finally:
        cart.Free()
    with pytest.raises(MPI.Exception):
        MPI.Cartcomm().Get_topo()
    with pytest.raises(MPI.Exception):
        MPI.COMM_NULL.Get_topology()


# ---- graphs -----------------------------------------------------------------

def ring_graph(size):
    index, edges = [], []
    for i in range(size):
        edges += [(i + 1) % size, (i - 1) % size]
        index.append(len(edges))
    return index, edges


@pytest.mark.mpich_big
def test_graph(comm, rank, size):
    index, edges = ring_graph(size)
    g = comm.Create_graph(index, edges)
    try:
        assert type(g) is MPI.Graphcomm and g.Get_topology() == MPI.GRAPH
        assert g.Get_dims() == g.dims == (size, 2 * size)
        assert g.nnodes == size and g.nedges == 2 * size
        assert g.Get_topo() == g.topo == (index, edges)
        assert g.index == index and g.edges == edges
        for r in range(size):
            assert g.Get_neighbors_count(r) == 2
            assert g.Get_neighbors(r) == [(r + 1) % size, (r - 1) % size]
        mine = [(rank + 1) % size, (rank - 1) % size]
        assert g.nneighbors == 2 and g.neighbors == mine
        assert g.inedges == g.outedges == mine
        assert g.degrees == (2, 2)
    finally:
        g.Free()


def test_graph_fewer_nodes(comm, rank, size):
    # a star on the first nodes: node 0 linked to the others
    if size < 2:
        pytest.skip("needs 2 ranks (a one-node graph without edges is "
                    "COMM_NULL on Open MPI)")
    n = max(size - 1, 2)
    index = [n - 1] + [n - 1 + i for i in range(1, n)]
    edges = list(range(1, n)) + [0] * (n - 1)
    g = comm.Create_graph(index, edges)
    assert type(g) is MPI.Graphcomm
    if rank < n:
        assert g.Get_neighbors_count(0) == n - 1
        assert g.neighbors == (list(range(1, n)) if rank == 0 else [0])
        g.Free()
    else:
        assert g == MPI.COMM_NULL


def test_graph_index_with_leading_zero(comm, rank, size):
    # the adjacency-array form: nnodes + 1 running totals from 0
    index, edges = ring_graph(size)
    for form in ([0] + index, index):
        g = comm.Create_graph(form, edges)
        try:
            assert g.index == index and g.edges == edges
            assert g.nnodes == size and g.neighbors == edges[
                (index[rank - 1] if rank else 0):index[rank]]
        finally:
            g.Free()


def test_graph_fewer_nodes_leading_zero(comm, rank, size):
    # one node with a self loop, both forms: the other ranks get COMM_NULL
    for index in ([1], [0, 1]):
        g = comm.Create_graph(index, [0])
        assert type(g) is MPI.Graphcomm
        if rank == 0:
            assert g.dims == (1, 1) and g.index == [1] and g.edges == [0]
            g.Free()
        else:
            assert g == MPI.COMM_NULL


@pytest.mark.beyond_mpi4py
def test_graph_more_nodes_than_processes(comm, size):
    # more nodes than processes is MPI's error, in either form
    loops = list(range(size + 1))
    index = list(range(1, size + 2))
    for form in (index, [0] + index):
        with pytest.raises(ValueError, match=f"{size + 1} nodes but the "
                           f"communicator only {size} processes"):
            comm.Create_graph(form, loops)


@pytest.mark.beyond_mpi4py
def test_graph_bad_inputs(comm, size):
    with pytest.raises(ValueError, match="index"):
        comm.Create_graph([1] * (size + 1), [0])     # more nodes than ranks
    with pytest.raises(ValueError, match="index"):
        comm.Create_graph([2, 1] + [2] * (size - 2), [0, 0])  # decreasing
    with pytest.raises(ValueError, match="edges"):
        comm.Create_graph([1], [1])                  # node 1 of 1
    with pytest.raises(ValueError, match="edges"):
        comm.Create_graph([1], [-1])
    with pytest.raises(ValueError, match="'index' ends at 2"):
        comm.Create_graph([2], [0])
    with pytest.raises(TypeError, match="edges"):
        comm.Create_graph([1], None)
    index, edges = ring_graph(size)
    g = comm.Create_graph(index, edges)
    with pytest.raises(ValueError, match="rank"):
        g.Get_neighbors(size)
    with pytest.raises(ValueError, match="rank"):
        g.Get_neighbors_count(-1)
    g.Free()


# ---- distributed graphs -------------------------------------------------------

@pytest.mark.mpich_big
@pytest.mark.parametrize("weighted", [False, True])
def test_dist_graph_adjacent(comm, rank, size, weighted):
    src = [(rank - 1) % size, (rank - 2) % size]
    dst = [(rank + 1) % size, (rank + 2) % size]
    sw = [10 * s + rank for s in src] if weighted else None
    dw = [10 * rank + d for d in dst] if weighted else None
    dg = comm.Create_dist_graph_adjacent(src, dst, sw, dw)
    try:
        assert type(dg) is MPI.Distgraphcomm
        assert dg.Get_topology() == MPI.DIST_GRAPH
        assert dg.Get_dist_neighbors_count() == (2, 2, weighted)
        s, d, w = dg.Get_dist_neighbors()
        assert s == src and d == dst
        assert w == ((sw, dw) if weighted else None)
        assert dg.inedges == src and dg.outedges == dst
        assert dg.degrees == (2, 2)
    finally:
        dg.Free()


@pytest.mark.mpich_big
def test_dist_graph_general(comm, rank, size):
    # rank 0 states every edge r -> r+1 (weight r); the others state none
    if rank == 0:
        sources = list(range(size))
        degrees = [1] * size
        dests = [(r + 1) % size for r in range(size)]
        weights = list(range(size))
    else:
        sources, degrees, dests, weights = [], [], [], []
    dg = comm.Create_dist_graph(sources, degrees, dests, weights)
    try:
        assert type(dg) is MPI.Distgraphcomm
        s, d, w = dg.Get_dist_neighbors()
        assert s == [(rank - 1) % size] and d == [(rank + 1) % size]
        assert w == ([(rank - 1) % size], [rank])
    finally:
        dg.Free()
    dg = comm.Create_dist_graph([rank], [1], [(rank + 1) % size])
    assert dg.Get_dist_neighbors() == ([(rank - 1) % size],
                                       [(rank + 1) % size], None)
    dg.Free()


def test_dist_graph_with_info(comm, rank, size):
    info = MPI.Info.Create()
    info.Set("fastmpi_hint", "1")
    for arg in (info, MPI.INFO_NULL):
        dg = comm.Create_dist_graph_adjacent([(rank - 1) % size],
                                             [(rank + 1) % size], info=arg)
        assert dg.inedges == [(rank - 1) % size]
        dg.Free()
        dg = comm.Create_dist_graph([rank], [1], [(rank + 1) % size],
                                    info=arg, reorder=False)
        assert dg.outedges == [(rank + 1) % size]
        dg.Free()
    info.Free()


def test_dist_graph_empty(comm):
    dg = comm.Create_dist_graph_adjacent([], [], [], [])
    assert dg.Get_dist_neighbors_count() == (0, 0, True)
    assert dg.Get_dist_neighbors() == ([], [], ([], []))
    dg.Free()
    dg = comm.Create_dist_graph_adjacent([], [], MPI.WEIGHTS_EMPTY,
                                         MPI.WEIGHTS_EMPTY)
    assert dg.Get_dist_neighbors_count() == (0, 0, True)
    dg.Free()
    dg = comm.Create_dist_graph_adjacent([], [])
    assert dg.Get_dist_neighbors() == ([], [], None)
    dg.Free()


def test_dist_graph_adjacent_none(comm, rank, size):
    src, dst = [(rank - 1) % size], [(rank + 1) % size]
    dg = comm.Create_dist_graph_adjacent(None, None)
    assert dg.Get_dist_neighbors_count() == (0, 0, False)
    assert dg.Get_dist_neighbors() == ([], [], None)
    dg.Free()
    # every rank names its sources only, or its destinations only
    for args, counts, nbrs in (
            ((src, None), (1, 0, False), (src, [], None)),
            ((None, dst), (0, 1, False), ([], dst, None)),
            ((src, None, MPI.UNWEIGHTED, None), (1, 0, False),
             (src, [], None)),
            ((None, dst, None, MPI.UNWEIGHTED), (0, 1, False),
             ([], dst, None))):
        dg = comm.Create_dist_graph_adjacent(*args)
        try:
            assert dg.Get_dist_neighbors_count() == counts
            assert dg.Get_dist_neighbors() == nbrs
        finally:
            dg.Free()


def test_dist_graph_adjacent_weights_one_side(comm, rank, size):
    # weights on the side with edges; None on the empty side follows them
    src, dst = [(rank - 1) % size], [(rank + 1) % size]
    for args, counts, nbrs in (
            ((src, None, [7], None), (1, 0, True), (src, [], ([7], []))),
            ((None, dst, None, [8]), (0, 1, True), ([], dst, ([], [8]))),
            ((src, [], [7], MPI.WEIGHTS_EMPTY), (1, 0, True),
             (src, [], ([7], [])))):
        dg = comm.Create_dist_graph_adjacent(*args)
        try:
            assert dg.Get_dist_neighbors_count() == counts
            assert dg.Get_dist_neighbors() == nbrs
        finally:
            dg.Free()


@pytest.mark.beyond_mpi4py
def test_dist_graph_bad_inputs(comm, rank, size):
    f = comm.Create_dist_graph_adjacent
    with pytest.raises(ValueError, match="sources"):
        f([size], [rank])
    with pytest.raises(ValueError, match="destinations"):
        f([rank], [-1])
    with pytest.raises(ValueError, match="sourceweights"):
        f([rank], [rank], [1, 2], [1])
    with pytest.raises(ValueError, match="sourceweights.*>= 0"):
        f([rank], [rank], [-1], [1])
    with pytest.raises(ValueError, match="neither"):
        f([rank], [rank], [1], None)
    with pytest.raises(TypeError, match="sources"):
        f(5, [rank])
    with pytest.raises(TypeError, match="destinations"):
        f([rank], "ab")
    with pytest.raises(ValueError, match="neither"):
        f([rank], None, [1], MPI.UNWEIGHTED)    # explicitly mixed
    with pytest.raises(ValueError, match="sourceweights"):
        f(None, [rank], [1], [1])               # weights for no sources
    with pytest.raises(TypeError, match="info"):
        f([rank], [rank], info=object())
    with pytest.raises(TypeError, match="info"):
        comm.Create_dist_graph([rank], [1], [rank], info=5)
    g = comm.Create_dist_graph
    with pytest.raises(ValueError, match="degrees"):
        g([rank], [2], [rank])                 # degrees add up to 2, not 1
    with pytest.raises(ValueError, match="degrees"):
        g([rank], [1, 0], [rank])
    with pytest.raises(ValueError, match="degrees"):
        g([rank], [-1], [])
    with pytest.raises(ValueError, match="destinations"):
        g([rank], [1], [size])
    with pytest.raises(ValueError, match="sources"):
        g([-1], [1], [rank])
    with pytest.raises(ValueError, match="weights"):
        g([rank], [1], [rank], [1, 2])


def test_topocomm_attributes_need_a_topology(comm):
    # the attributes live on Topocomm; a plain Intracomm has none
    assert not hasattr(comm, "degrees")
    assert not hasattr(comm, "Neighbor_allgather")


# ---- create and free: memory stays flat -------------------------------------


@pytest.mark.fastmpi_only
def test_cart_create_free_loop_no_leak():
    """10 000 create/free cycles of a Cartcomm (and its queries) on
    COMM_SELF: Python objects and memory stay flat."""
    self = MPI.COMM_SELF

    def cycle(n):
        for _ in range(n):
            cart = self.Create_cart([1, 1], periods=[True, False])
            cart.Get_topo()
            cart.Shift(0, 1)
            cart.inedges
            sub = cart.Sub([True, False])
            sub.Free()
            cart.Free()

    cycle(1000)
    gc.collect()
    blocks, rss = __import__("sys").getallocatedblocks(), _rss_kb()
    cycle(10_000)
    gc.collect()
    assert __import__("sys").getallocatedblocks() - blocks < 200
    if not UNDER_ASAN:
        assert _rss_kb() - rss < 4096


@pytest.mark.fastmpi_only
def test_graph_create_free_loop_no_leak():
    self = MPI.COMM_SELF
    for k in range(2):
        gc.collect()
        blocks = __import__("sys").getallocatedblocks()
        for _ in range(3000):
            g = self.Create_graph([1], [0])
            g.topo
            g.Free()
            d = self.Create_dist_graph_adjacent([0], [0], [1], [2])
            d.Get_dist_neighbors()
            d.Free()
            try:
                self.Create_cart([2])
            except ValueError:
                pass
        gc.collect()
    assert __import__("sys").getallocatedblocks() - blocks < 200
