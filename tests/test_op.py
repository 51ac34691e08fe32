"""MPI.Op: predefined ops on Python objects, Op.Create with a Python
function in every kind of buffer reduction, exceptions raised inside."""
import numpy as np
import pytest

from _impl import MPI

PREDEFINED = ["MAX", "MIN", "SUM", "PROD", "LAND", "BAND", "LOR", "BOR",
              "LXOR", "BXOR", "MAXLOC", "MINLOC", "REPLACE", "NO_OP"]


def test_predefined_ops_exist():
    for name in PREDEFINED:
        op = getattr(MPI, name)
        assert isinstance(op, MPI.Op)
        assert op.is_predefined
        assert op
    assert not MPI.OP_NULL
    assert MPI.SUM == MPI.SUM and MPI.SUM != MPI.PROD
    assert MPI.SUM.is_commutative and MPI.SUM.Is_commutative()
    assert isinstance(MPI.Op(), MPI.Op) and not MPI.Op()


def test_ops_on_objects():
    assert MPI.SUM(1, 2) == 3
    assert MPI.SUM([1], [2]) == [1, 2]
    assert MPI.PROD(3, 4) == 12
    assert MPI.MAX(3, 7) == 7 and MPI.MIN(3, 7) == 3
    assert MPI.LAND(1, 2) is True and MPI.LAND(0, 2) is False
    assert MPI.LOR(0, 2) is True and MPI.LOR(0, 0) is False
    assert MPI.LXOR(1, 2) is False and MPI.LXOR(0, 5) is True
    assert MPI.BAND(6, 3) == 2 and MPI.BOR(6, 3) == 7
    assert MPI.BXOR(6, 3) == 5
    assert MPI.MAXLOC((1, 2), (1, 0)) == (1, 0)
    assert MPI.MAXLOC((2, 1), (1, 0)) == (2, 1)
    assert MPI.MINLOC((3, 5), (3, 1)) == (3, 1)
    assert MPI.MINLOC((1, 5), (3, 1)) == (1, 5)
    assert MPI.REPLACE(1, 2) == 2 and MPI.NO_OP(1, 2) == 1


def _add(inbuf, inoutbuf, datatype):
    a = np.frombuffer(inbuf, dtype="f8")
    b = np.frombuffer(inoutbuf, dtype="f8")
    b += a


def _compose(inbuf, inoutbuf, datatype):
    """Affine maps x -> a*x + b as complex a+bj; inout = in then inout:
    associative, not commutative."""
    f = np.frombuffer(inbuf, dtype="c16")
    g = np.frombuffer(inoutbuf, dtype="c16")
    a = f.real * g.real
    b = g.real * f.imag + g.imag
    g[:] = a + 1j * b


def compose(f, g):
    return complex(f.real * g.real, g.real * f.imag + g.imag)


def affine(rank):
    return complex(rank + 2, rank + 1)


def test_create_reduce_local():
    seen = []

    def f(inbuf, inoutbuf, datatype):
        seen.append(datatype.Get_size())
        _add(inbuf, inoutbuf, datatype)
    op = MPI.Op.Create(f, commute=True)
    try:
        assert not op.is_predefined
        assert op.is_commutative
        a, b = np.arange(4.0), np.ones(4)
        op.Reduce_local(a, b)
        assert np.array_equal(b, np.arange(4.0) + 1)
        assert seen and seen[0] == 8
    finally:
        op.Free()
    assert not op


def test_user_function_gets_mpi_buffers(comm, size):
    # bytes of the vectors as MPI.buffer: read-only in, writable inout; a
    # slice takes any buffer of as many bytes (an array.array of ints)
    import array
    seen = []

    def f(inbuf, inoutbuf, datatype):
        seen.append((type(inbuf), inbuf.readonly, inoutbuf.readonly,
                     len(inoutbuf)))
        a = array.array("i", inbuf.tobytes())
        b = array.array("i", inoutbuf.tobytes())
        inoutbuf[:] = array.array("i", [x + y for x, y in zip(a, b)])
        with pytest.raises(TypeError):
            inbuf[0] = 1
        kept.append(inoutbuf)
    kept = []
    op = MPI.Op.Create(f, commute=True)
    try:
        a = np.arange(3, dtype="i")
        b = np.ones(3, dtype="i")
        op.Reduce_local(a, b)
        assert list(b) == [1, 2, 3]
        assert seen[0] == (MPI.buffer, True, False, 12)
        # released once the call is done: a kept one shows nothing
        with pytest.raises(ValueError, match="released"):
            kept[0][0]
        out = np.zeros(3, dtype="i")
        comm.Allreduce(np.full(3, 2, dtype="i"), out, op=op)
        assert list(out) == [2 * size] * 3
    finally:
        op.Free()


@pytest.mark.mpich_big
def test_create_in_every_reduction(comm, rank, size):
    op = MPI.Op.Create(_add, commute=True)
    try:
        mine = np.arange(5.0) + rank
        total = sum(np.arange(5.0) + r for r in range(size))
        out = np.zeros(5)
        comm.Allreduce(mine, out, op=op)
        assert np.array_equal(out, total)
        for root in range(size):
            out = np.zeros(5)
            comm.Reduce(mine, out if rank == root else None, op=op,
                        root=root)
            if rank == root:
                assert np.array_equal(out, total)
        out = np.zeros(5)
        comm.Scan(mine, out, op=op)
        assert np.array_equal(out, sum(np.arange(5.0) + r
                                       for r in range(rank + 1)))
        out = np.zeros(5)
        comm.Iallreduce(mine, out, op=op).Wait()
        assert np.array_equal(out, total)
        rsb = np.zeros(1)
        comm.Reduce_scatter_block(np.full(size, float(rank)), rsb, op=op)
        assert rsb[0] == sum(range(size))
    finally:
        op.Free()


@pytest.mark.mpich_big
def test_create_non_commutative_order(comm, rank, size):
    op = MPI.Op.Create(_compose, commute=False)
    try:
        assert not op.is_commutative
        want = affine(0)
        for r in range(1, size):
            want = compose(want, affine(r))
        out = np.zeros(1, "c16")
        comm.Allreduce(np.array([affine(rank)]), out, op=op)
        assert out[0] == want
        scan = np.zeros(1, "c16")
        comm.Scan(np.array([affine(rank)]), scan, op=op)
        prefix = affine(0)
        for r in range(1, rank + 1):
            prefix = compose(prefix, affine(r))
        assert scan[0] == prefix
    finally:
        op.Free()


@pytest.mark.fastmpi_only
@pytest.mark.mpich_big
def test_exception_inside_op_propagates(comm, rank, size):
    class Boom(Exception):
        pass

    def bad(inbuf, inoutbuf, datatype):
        raise Boom("inside the op")
    op = MPI.Op.Create(bad, commute=True)
    try:
        with pytest.raises(Boom):
            op.Reduce_local(np.zeros(2), np.zeros(2))
        if size == 1:
            return      # a one-rank Allreduce does not call the op
        # on every rank: its own exception, or RuntimeError naming the
        # rank whose function raised
        with pytest.raises((Boom, RuntimeError)):
            comm.Allreduce(np.zeros(3), np.zeros(3), op=op)
        with pytest.raises((Boom, RuntimeError)):
            comm.Reduce(np.zeros(3), np.zeros(3), op=op, root=size - 1)
        # the communicator still works afterwards
        out = np.zeros(1)
        comm.Allreduce(np.ones(1), out)
        assert out[0] == size
    finally:
        op.Free()


def test_create_bad_arguments():
    with pytest.raises((TypeError, AttributeError)):
        MPI.Op.Create(42)
    with pytest.raises((MPI.Exception, ValueError)):
        MPI.SUM.Free()


def test_reduce_local_predefined_and_errors():
    a, b = np.arange(3, dtype="i4"), np.full(3, 5, "i4")
    MPI.MAX.Reduce_local(a, b)
    assert list(b) == [5, 5, 5]
    MPI.SUM.Reduce_local(a, b)
    assert list(b) == [5, 6, 7]
    with pytest.raises(ValueError):
        MPI.SUM.Reduce_local(np.zeros(3), np.zeros(4))
    with pytest.raises((ValueError, BufferError, TypeError)):
        MPI.SUM.Reduce_local(np.zeros(3), b"\0" * 24)


@pytest.mark.fastmpi_only
def test_many_ops_created_and_dropped():
    import gc
    for _ in range(100):
        op = MPI.Op.Create(_add)
        op.Free()
        del op
    gc.collect()
    ops = [MPI.Op.Create(_add) for _ in range(8)]
    for op in ops:
        op.Free()
