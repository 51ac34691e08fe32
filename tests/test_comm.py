"""Communicator basics (mpi4py 3.1 API)."""
import numpy as np
import pytest

from _impl import MPI


def test_predefined_types():
    assert isinstance(MPI.COMM_WORLD, MPI.Intracomm)
    assert isinstance(MPI.COMM_WORLD, MPI.Comm)
    assert isinstance(MPI.COMM_SELF, MPI.Intracomm)
    assert isinstance(MPI.COMM_NULL, MPI.Comm)
    assert issubclass(MPI.Intracomm, MPI.Comm)


def test_truthiness():
    assert bool(MPI.COMM_WORLD)
    assert bool(MPI.COMM_SELF)
    assert not bool(MPI.COMM_NULL)


def test_equality():
    assert MPI.COMM_WORLD == MPI.COMM_WORLD
    assert not (MPI.COMM_WORLD != MPI.COMM_WORLD)
    assert MPI.COMM_WORLD != MPI.COMM_SELF
    assert MPI.COMM_NULL == MPI.COMM_NULL
    assert MPI.COMM_WORLD != MPI.COMM_NULL
    assert MPI.Comm(MPI.COMM_WORLD) == MPI.COMM_WORLD
    assert MPI.Intracomm(MPI.COMM_WORLD) == MPI.COMM_WORLD
    assert MPI.Comm() == MPI.COMM_NULL


@pytest.mark.mpich_big
def test_rank_size(comm, rank, size):
    assert isinstance(comm.Get_rank(), int)
    assert isinstance(comm.Get_size(), int)
    assert comm.rank == comm.Get_rank() == rank
    assert comm.size == comm.Get_size() == size
    assert 0 <= rank < size
    assert MPI.COMM_SELF.Get_rank() == 0
    assert MPI.COMM_SELF.Get_size() == 1


def test_rank_size_null_raises():
    with pytest.raises(MPI.Exception) as info:
        MPI.COMM_NULL.Get_rank()
    assert info.value.Get_error_class() == MPI.ERR_COMM
    with pytest.raises(MPI.Exception) as info:
        MPI.COMM_NULL.Get_size()
    assert info.value.Get_error_class() == MPI.ERR_COMM


def test_names(comm):
    assert MPI.COMM_WORLD.Get_name() == "MPI_COMM_WORLD"
    assert MPI.COMM_SELF.Get_name() == "MPI_COMM_SELF"
    assert MPI.COMM_WORLD.name == "MPI_COMM_WORLD"
    d = comm.Dup()
    try:
        d.Set_name("my comm")
        assert d.Get_name() == "my comm"
        assert d.name == "my comm"
        d.name = "other"
        assert d.Get_name() == "other"
        d.Set_name("")
        assert d.Get_name() == ""
    finally:
        d.Free()


def test_set_name_bad_type(comm):
    d = comm.Dup()
    try:
        with pytest.raises(TypeError):
            d.Set_name(42)
    finally:
        d.Free()


@pytest.mark.mpich_big
def test_dup(comm, rank, size):
    d = comm.Dup()
    try:
        assert type(d) is MPI.Intracomm
        assert d != comm
        assert d.Get_rank() == rank
        assert d.Get_size() == size
        assert MPI.Comm.Compare(comm, d) == MPI.CONGRUENT
        assert MPI.Comm.Compare(d, d) == MPI.IDENT
        assert d.Is_intra() and not d.Is_inter()
        d.Barrier()
    finally:
        d.Free()
    assert d == MPI.COMM_NULL


def test_dup_self():
    d = MPI.COMM_SELF.Dup()
    assert isinstance(d, MPI.Intracomm)
    assert d.Get_size() == 1
    assert MPI.Comm.Compare(MPI.COMM_SELF, d) == MPI.CONGRUENT
    d.Free()


class MyComm(MPI.Intracomm):
    def hello(self):
        return "hello %d" % self.Get_rank()


def test_dup_subclass(comm, rank):
    c = MyComm(comm)
    assert isinstance(c, MyComm)
    assert c == comm
    d = c.Dup()
    try:
        assert type(d) is MyComm
        assert d.hello() == "hello %d" % rank
    finally:
        d.Free()


def test_free_world_raises():
    with pytest.raises(MPI.Exception) as info:
        MPI.COMM_WORLD.Free()
    assert info.value.Get_error_class() == MPI.ERR_COMM
    # still usable
    assert MPI.COMM_WORLD.Get_size() >= 1
    MPI.COMM_WORLD.Barrier()


def test_free_self_raises():
    with pytest.raises(MPI.Exception):
        MPI.COMM_SELF.Free()
    assert MPI.COMM_SELF.Get_size() == 1


def test_free_null_raises():
    with pytest.raises(MPI.Exception) as info:
        MPI.COMM_NULL.Free()
    assert info.value.Get_error_class() == MPI.ERR_COMM


def test_disconnect(comm):
    # after its pending communication is done; intra and inter alike
    d = comm.Dup()
    req = d.Isend(np.arange(3.0), dest=d.Get_rank(), tag=5)
    buf = np.zeros(3)
    d.Recv(buf, source=d.Get_rank(), tag=5)
    req.Wait()
    d.Disconnect()
    assert d == MPI.COMM_NULL and not d
    assert list(buf) == [0.0, 1.0, 2.0]
    with pytest.raises(MPI.Exception) as info:
        d.Disconnect()
    assert info.value.Get_error_class() == MPI.ERR_COMM


def test_disconnect_null_and_predefined_raise():
    for c in (MPI.COMM_NULL, MPI.COMM_WORLD, MPI.COMM_SELF):
        with pytest.raises(MPI.Exception) as info:
            c.Disconnect()
        assert info.value.Get_error_class() == MPI.ERR_COMM
    assert MPI.COMM_WORLD.Get_size() >= 1 and MPI.COMM_SELF.Get_size() == 1
    with pytest.raises(TypeError):
        MPI.COMM_WORLD.Disconnect(1)


def test_use_after_free(comm):
    d = comm.Dup()
    d.Free()
    assert d == MPI.COMM_NULL
    assert not d
    for call in (d.Get_rank, d.Get_size, d.Barrier, d.Dup):
        with pytest.raises(MPI.Exception) as info:
            call()
        assert info.value.Get_error_class() == MPI.ERR_COMM
    with pytest.raises(MPI.Exception) as info:
        d.Free()
    assert info.value.Get_error_class() == MPI.ERR_COMM


@pytest.mark.mpich_big
def test_split_parity(comm, rank, size):
    color = rank % 2
    sub = comm.Split(color, rank)
    try:
        assert isinstance(sub, MPI.Intracomm)
        expected_size = len([r for r in range(size) if r % 2 == color])
        assert sub.Get_size() == expected_size
        assert sub.Get_rank() == rank // 2
        if size == 1:
            assert MPI.Comm.Compare(comm, sub) == MPI.CONGRUENT
        else:
            assert MPI.Comm.Compare(comm, sub) == MPI.UNEQUAL
        sub.Barrier()
    finally:
        sub.Free()


@pytest.mark.mpich_big
def test_split_key_reverses(comm, rank, size):
    sub = comm.Split(0, size - rank)
    try:
        assert sub.Get_size() == size
        assert sub.Get_rank() == size - 1 - rank
        expect = MPI.CONGRUENT if size == 1 else MPI.SIMILAR
        assert MPI.Comm.Compare(comm, sub) == expect
    finally:
        sub.Free()


@pytest.mark.mpich_big
def test_split_undefined(comm, rank, size):
    color = MPI.UNDEFINED if rank == size - 1 else 0
    sub = comm.Split(color, 0)
    if rank == size - 1:
        assert sub == MPI.COMM_NULL
        assert not sub
    else:
        assert sub.Get_size() == size - 1
        sub.Free()


@pytest.mark.mpich_big
def test_split_default_key(comm, rank, size):
    sub = comm.Split(rank // 2)
    try:
        assert sub.Get_rank() == rank % 2
    finally:
        sub.Free()


def test_split_bad_color_type(comm):
    with pytest.raises(TypeError):
        comm.Split("red", 0)


def test_compare(comm, size):
    assert MPI.Comm.Compare(comm, comm) == MPI.IDENT
    assert MPI.Comm.Compare(MPI.COMM_SELF, MPI.COMM_SELF) == MPI.IDENT
    expect = MPI.CONGRUENT if size == 1 else MPI.UNEQUAL
    assert MPI.Comm.Compare(comm, MPI.COMM_SELF) == expect
    assert MPI.Comm.Compare(MPI.COMM_SELF, comm) == expect


def test_compare_bad_type(comm):
    with pytest.raises(TypeError):
        MPI.Comm.Compare(comm, 42)


def test_inter_intra(comm):
    assert comm.Is_intra() is True
    assert comm.Is_inter() is False
    assert MPI.COMM_SELF.Is_intra() is True
    assert comm.is_intra is True
    assert comm.is_inter is False


@pytest.mark.mpich_big
def test_barrier(comm):
    comm.Barrier()
    comm.barrier()
    MPI.COMM_SELF.Barrier()
    r = comm.barrier()
    assert r is None


@pytest.mark.mpich_big
def test_barrier_orders_messages(comm, rank, size):
    # Every rank sends to rank 0 after a barrier; rank 0 receives from all.
    tag = 101
    comm.Barrier()
    if rank == 0:
        got = sorted(comm.recv(source=MPI.ANY_SOURCE, tag=tag)
                     for _ in range(size - 1))
        assert got == list(range(1, size))
    else:
        comm.send(rank, dest=0, tag=tag)
    comm.Barrier()


def test_barrier_null_raises():
    with pytest.raises(MPI.Exception) as info:
        MPI.COMM_NULL.Barrier()
    assert info.value.Get_error_class() == MPI.ERR_COMM


def test_get_parent_without_spawn(comm):
    # not spawned: an Intercomm COMM_NULL, from the class or an instance
    for parent in (MPI.Comm.Get_parent(), comm.Get_parent(),
                   MPI.Intracomm.Get_parent()):
        assert isinstance(parent, MPI.Intercomm)
        assert parent == MPI.COMM_NULL and not parent
