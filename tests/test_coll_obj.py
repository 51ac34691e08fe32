"""Collectives with Python objects: bcast, gather, scatter, allgather,
alltoall, reduce, allreduce (and its scalar fast path), scan, exscan."""
import math
import pickle

import numpy as np
import pytest

from _impl import MPI

OBJECTS = [None, True, 3, -2**70, 2.5, "text", b"bytes", [1, (2, 3)],
           {"a": 1, "b": [2.5, None]}]


@pytest.mark.mpich_big
def test_bcast_every_root(comm, rank, size):
    for root in range(size):
        for obj in OBJECTS:
            got = comm.bcast((obj, root) if rank == root else None,
                             root=root)
            assert got == (obj, root)


def test_bcast_result_is_a_copy(comm, rank):
    x = [1, 2]
    got = comm.bcast(x, root=0)
    assert got == [1, 2]
    if rank == 0:
        assert got is not x


@pytest.mark.mpich_big
def test_bcast_large_array(comm, rank, size):
    for root in range(size):
        arr = np.arange(200000, dtype="f8") + root
        got = comm.bcast({"x": arr} if rank == root else None, root=root)
        assert np.array_equal(got["x"], arr)
        assert got["x"].flags.writeable


@pytest.mark.mpich_big
def test_gather_every_root(comm, rank, size):
    for root in range(size):
        got = comm.gather({"rank": rank, "sq": rank * rank}, root=root)
        if rank == root:
            assert got == [{"rank": r, "sq": r * r} for r in range(size)]
        else:
            assert got is None


def test_allgather(comm, rank, size):
    assert comm.allgather(rank) == list(range(size))
    assert comm.allgather(None) == [None] * size
    got = comm.allgather(np.full(20000, rank, "i8"))
    for r, a in enumerate(got):
        assert np.array_equal(a, np.full(20000, r, "i8"))


@pytest.mark.mpich_big
def test_scatter_every_root(comm, rank, size):
    for root in range(size):
        items = [("item", r, root) for r in range(size)]
        got = comm.scatter(items if rank == root else None, root=root)
        assert got == ("item", rank, root)


def test_scatter_large_arrays(comm, rank, size):
    items = [np.full(30000, r, "f8") for r in range(size)]
    got = comm.scatter(items if rank == 0 else None, root=0)
    assert np.array_equal(got, np.full(30000, rank, "f8"))


@pytest.mark.mpich_big
def test_alltoall(comm, rank, size):
    got = comm.alltoall([(rank, j) for j in range(size)])
    assert got == [(j, rank) for j in range(size)]
    got = comm.alltoall([np.full(10000, 10 * rank + j) for j in range(size)])
    for j in range(size):
        assert np.array_equal(got[j], np.full(10000, 10 * j + rank))


def fold(op, items):
    acc = items[0]
    for x in items[1:]:
        acc = op(acc, x)
    return acc


@pytest.mark.mpich_big
def test_reduce_every_root(comm, rank, size):
    for root in range(size):
        got = comm.reduce(rank + 1, op=MPI.SUM, root=root)
        assert got == (size * (size + 1) // 2 if rank == root else None)
        got = comm.reduce([rank], op=MPI.SUM, root=root)
        assert got == (list(range(size)) if rank == root else None)
        got = comm.reduce(rank, op=MPI.MAX, root=root)
        assert got == (size - 1 if rank == root else None)


@pytest.mark.mpich_big
@pytest.mark.parametrize("name", ["SUM", "PROD", "MAX", "MIN"])
def test_allreduce_scalars(comm, rank, size, name):
    op = getattr(MPI, name)
    for values in ([float(r + 1) for r in range(size)],
                   [r + 1 for r in range(size)],
                   [(-2) ** r for r in range(size)],
                   [0.5 * (r - 1) for r in range(size)]):
        got = comm.allreduce(values[rank], op=op)
        want = fold(op, values)
        assert got == want and type(got) is type(want)


@pytest.mark.mpich_big
def test_allreduce_mixed_kinds_agree(comm, rank, size):
    # ranks hold different kinds: every rank must take the same path
    mixed = [1, 2.5, True, 3][rank % 4]
    want = fold(MPI.SUM, [[1, 2.5, True, 3][r % 4] for r in range(size)])
    got = comm.allreduce(mixed, op=MPI.SUM)
    assert got == want and type(got) is type(want)
    big = [2**62, 2**62, 5, 7][rank % 4]
    want = sum([2**62, 2**62, 5, 7][r % 4] for r in range(size))
    assert comm.allreduce(big) == want
    prod = comm.allreduce(2**40 if rank < 2 else 1, op=MPI.PROD)
    assert prod == 2**(40 * min(size, 2))
    nan = comm.allreduce(float("nan") if rank == 0 else 1.0, op=MPI.MAX)
    want = fold(MPI.MAX, [float("nan")] + [1.0] * (size - 1))
    assert (math.isnan(nan) and math.isnan(want)) or nan == want
    assert comm.allreduce([rank], op=MPI.SUM) == list(range(size))
    assert comm.allreduce(rank % 2 == 0, op=MPI.LAND) == (size == 1)


def test_allreduce_all_ranks_same_result(comm, rank, size):
    got = comm.allreduce(0.1 * (rank + 1))
    everyone = comm.allgather(got)
    assert all(x == got for x in everyone)


@pytest.mark.mpich_big
def test_reduce_callable_and_order(comm, rank, size):
    concat = lambda a, b: a + b  # noqa: E731 - not commutative
    want = "".join(str(r) for r in range(size))
    assert comm.allreduce(str(rank), op=concat) == want
    for root in range(size):
        got = comm.reduce(str(rank), op=concat, root=root)
        assert got == (want if rank == root else None)
    assert comm.scan(str(rank), op=concat) == want[:rank + 1]
    ex = comm.exscan(str(rank), op=concat)
    assert ex == (want[:rank] if rank > 0 else None)


def test_maxloc_minloc_objects(comm, rank, size):
    vals = [(r * 5) % (size + 1) for r in range(size)]
    got = comm.allreduce((vals[rank], rank), op=MPI.MAXLOC)
    assert got == (max(vals), vals.index(max(vals)))
    got = comm.allreduce((vals[rank], rank), op=MPI.MINLOC)
    assert got == (min(vals), vals.index(min(vals)))


@pytest.mark.mpich_big
def test_scan_exscan(comm, rank, size):
    assert comm.scan(rank + 1) == (rank + 1) * (rank + 2) // 2
    got = comm.exscan(rank + 1)
    assert got == (rank * (rank + 1) // 2 if rank > 0 else None)
    assert comm.scan(float(rank), op=MPI.MAX) == float(rank)


@pytest.mark.fastmpi_only
def test_bad_op_and_root(comm, size):
    with pytest.raises((TypeError, ValueError)):
        comm.allreduce(1, op=5)
    with pytest.raises((ValueError, MPI.Exception)):
        comm.bcast(1, root=size)
    with pytest.raises((ValueError, MPI.Exception)):
        comm.gather(1, root=-3)


class Unpicklable:
    def __reduce__(self):
        raise pickle.PicklingError("not today")


@pytest.mark.fastmpi_only
@pytest.mark.mpich_big
def test_failure_on_one_rank_raises_everywhere(comm, rank, size):
    last = size - 1
    obj = Unpicklable() if rank == last else rank
    with pytest.raises((pickle.PicklingError, ValueError)):
        comm.allgather(obj)
    got = None
    try:
        got = comm.gather(obj, root=0)
    except (pickle.PicklingError, ValueError):
        assert rank in (0, last)
    else:
        assert rank not in (0, last) and got is None
    with pytest.raises((pickle.PicklingError, ValueError)):
        comm.bcast(Unpicklable() if rank == 0 else None, root=0)
    with pytest.raises(ValueError):
        comm.scatter([1] * (size + 1) if rank == 0 else None, root=0)
    with pytest.raises((pickle.PicklingError, ValueError)):
        comm.alltoall([obj] * size)
    with pytest.raises((TypeError, ValueError)):
        comm.alltoall(5 if rank == 0 else [0] * size)
    # and the communicator still works
    assert comm.allgather(rank) == list(range(size))


@pytest.mark.fastmpi_only
def test_user_op_in_object_reduction_raises_everywhere(comm, rank, size):
    def bad(a, b):
        raise ZeroDivisionError("nope")
    if size == 1:
        assert comm.allreduce(1, op=bad) == 1
        return
    with pytest.raises(ZeroDivisionError):
        comm.allreduce(rank, op=bad)


@pytest.mark.mpich_big
def test_gathers_of_large_and_small_objects(comm, rank, size):
    # One rank's object carries a large array (an out-of-band message, a
    # derived type), the others' are small: Open MPI's allgatherv chose its
    # algorithm from the send type's size, and 3 ranks chose differently
    # and waited for ever, before every rank sent bytes.
    for n in (10_000, 100_000, 1_000_000):
        mine = np.full(n, 7.0) if rank == 0 else rank
        got = comm.allgather(mine)
        assert np.array_equal(got[0], np.full(n, 7.0))
        assert got[1:] == list(range(1, size))
        got = comm.gather(mine, root=size - 1)
        if rank == size - 1:
            assert np.array_equal(got[0], mine if rank == 0
                                  else np.full(n, 7.0))
            assert got[1:] == list(range(1, size))
        else:
            assert got is None
