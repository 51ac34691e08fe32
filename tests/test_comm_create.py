"""New communicators: Create, Create_group, Split_type, Dup with info,
Dup_with_info, Idup, Clone; info hints; the type of the result; errors on
new communicators; freeing; no leaks."""
import gc
import os
import sys

import pytest

from _impl import MPI, FLAVOR
from _impl import UNDER_ASAN, rss_kb as _rss_kb




class MyComm(MPI.Intracomm):
    def hello(self):
        return "hello"


def _check_works(c, rank_in_c, size_of_c):
    """c is a working intracommunicator of this size with this rank."""
    assert c.Get_size() == size_of_c
    assert c.Get_rank() == rank_in_c
    assert c.allreduce(1) == size_of_c
    assert c.bcast(c.Get_rank() * 10 if c.Get_rank() == 0 else None,
                   root=0) == 0


@pytest.mark.mpich_big
def test_get_group_matches(comm, rank, size):
    g = comm.Get_group()
    d = comm.Dup()
    try:
        dg = d.group
        assert MPI.Group.Compare(g, dg) == MPI.IDENT
        dg.Free()
    finally:
        d.Free()
        g.Free()


@pytest.mark.mpich_big
def test_create_evens(comm, rank, size):
    g = comm.Get_group()
    evens = g.Range_incl([(0, size - 1, 2)])
    c = comm.Create(evens)
    try:
        if rank % 2 == 0:
            assert c != MPI.COMM_NULL
            assert isinstance(c, MPI.Intracomm)
            _check_works(c, rank // 2, (size + 1) // 2)
        else:
            assert c == MPI.COMM_NULL
    finally:
        if c:
            c.Free()
        evens.Free()
        g.Free()


def test_create_whole_group(comm, rank, size):
    g = comm.Get_group()
    c = comm.Create(g)
    try:
        _check_works(c, rank, size)
        assert MPI.Comm.Compare(comm, c) == MPI.CONGRUENT
    finally:
        c.Free()
        g.Free()


@pytest.mark.mpich_big
def test_create_group_subset(comm, rank, size):
    # only the members call: rank 0 and the last rank
    g = comm.Get_group()
    members = sorted({0, size - 1})
    sub = g.Incl(members)
    try:
        if rank in members:
            c = comm.Create_group(sub, tag=7)
            try:
                _check_works(c, members.index(rank), len(members))
            finally:
                c.Free()
    finally:
        sub.Free()
        g.Free()


@pytest.mark.fastmpi_only
def test_create_group_non_member_gets_null(comm):
    # a process outside the group gets COMM_NULL without entering MPI
    c = comm.Create_group(MPI.GROUP_EMPTY)
    assert c == MPI.COMM_NULL
    assert type(c) is type(comm)


def test_create_group_bad_tag(comm):
    g = comm.Get_group()
    try:
        with pytest.raises(MPI.Exception) as e:
            comm.Create_group(g, tag=-5)
        assert e.value.Get_error_class() == MPI.ERR_TAG
    finally:
        g.Free()


def test_create_bad_arguments(comm):
    with pytest.raises(TypeError):
        comm.Create(5)
    with pytest.raises(TypeError):
        comm.Create_group("g")
    with pytest.raises(TypeError):
        comm.Create()


@pytest.mark.beyond_mpi4py
def test_create_freed_group_raises(comm):
    g = comm.Get_group()
    g.Free()
    with pytest.raises(MPI.Exception) as e:
        comm.Create(g)
    assert e.value.Get_error_class() == MPI.ERR_GROUP
    with pytest.raises(MPI.Exception) as e:
        comm.Create_group(g)
    assert e.value.Get_error_class() == MPI.ERR_GROUP


@pytest.mark.mpich_big
def test_split_type_shared(comm, rank, size):
    node = comm.Split_type(MPI.COMM_TYPE_SHARED, key=rank)
    try:
        assert isinstance(node, MPI.Intracomm)
        assert 1 <= node.size <= size
        assert node.allreduce(1) == node.size
        # the node communicators partition the job, whatever the hosts
        leaders = comm.allreduce(node.size if node.rank == 0 else 0)
        assert leaders == size
        # key=rank keeps the world order inside a node
        ranks = node.allgather(rank)
        assert ranks == sorted(ranks)
    finally:
        node.Free()


def test_split_type_undefined(comm):
    c = comm.Split_type(MPI.UNDEFINED)
    assert c == MPI.COMM_NULL


def test_split_type_with_info(comm, size):
    info = MPI.Info.Create()
    try:
        info.Set("no_such_hint", "x")
        c = comm.Split_type(MPI.COMM_TYPE_SHARED, 0, info)
        assert 1 <= c.size <= size
        c.Free()
        c = comm.Split_type(MPI.COMM_TYPE_SHARED, info=MPI.INFO_NULL)
        c.Free()
    finally:
        info.Free()


@pytest.mark.beyond_mpi4py
def test_split_type_info_mapping(comm, size):
    c = comm.Split_type(MPI.COMM_TYPE_SHARED, info={"no_such_hint": "x"})
    assert 1 <= c.size <= size
    c.Free()
    with pytest.raises(TypeError) as e:
        comm.Split_type(MPI.COMM_TYPE_SHARED, info=3)
    assert "'info'" in str(e.value)


def test_split_type_bad(comm):
    with pytest.raises(MPI.Exception):
        comm.Split_type(12345)
    with pytest.raises(TypeError):
        comm.Split_type("shared")


def test_comm_type_shared_constant():
    assert isinstance(MPI.COMM_TYPE_SHARED, int)
    assert MPI.COMM_TYPE_SHARED != MPI.UNDEFINED


@pytest.mark.beyond_mpi4py
def test_split_type_hw_guided(comm, size):
    if MPI.VERSION < 4:
        # an MPI-3 library has no such split: the name is UNDEFINED (as in
        # mpi4py), and splitting by UNDEFINED gives COMM_NULL, as MPI says
        assert MPI.COMM_TYPE_HW_GUIDED == MPI.UNDEFINED
        assert comm.Split_type(MPI.COMM_TYPE_HW_GUIDED) == MPI.COMM_NULL
        return
    # MPI-4: with the shared-memory resource type it splits like SHARED
    c = comm.Split_type(MPI.COMM_TYPE_HW_GUIDED,
                        info={"mpi_hw_resource_type": "mpi_shared_memory"})
    try:
        assert c != MPI.COMM_NULL
        assert comm.allreduce(c.size if c.rank == 0 else 0) == size
    finally:
        c.Free()


def test_dup_with_info(comm, rank, size):
    info = MPI.Info.Create()
    info.Set("mpi_assert_no_any_source", "true")
    try:
        for c in (comm.Dup(info), comm.Dup(info=info),
                  comm.Dup_with_info(info), comm.Clone(), comm.Dup(None)):
            try:
                _check_works(c, rank, size)
                assert MPI.Comm.Compare(comm, c) == MPI.CONGRUENT
                got = c.Get_info()
                assert isinstance(got, MPI.Info)
                got.Free()
            finally:
                c.Free()
    finally:
        info.Free()


@pytest.mark.beyond_mpi4py
def test_dup_info_mapping(comm, rank, size):
    c = comm.Dup({"mpi_assert_no_any_source": "true"})
    try:
        _check_works(c, rank, size)
    finally:
        c.Free()
    with pytest.raises(TypeError) as e:
        comm.Dup(info=5)
    assert "'info'" in str(e.value)


def test_get_set_info(comm):
    c = comm.Dup()
    try:
        i = c.Get_info()
        assert isinstance(i, MPI.Info)
        i.Free()
        hints = MPI.Info.Create()
        hints.Set("mpi_assert_no_any_tag", "false")
        c.Set_info(hints)
        hints.Free()
        i = c.info
        assert isinstance(i, MPI.Info)
        i.Free()
        c.barrier()
    finally:
        c.Free()


@pytest.mark.mpich_big
def test_idup(comm, rank, size):
    c, req = comm.Idup()
    assert isinstance(req, MPI.Request)
    req.Wait()
    try:
        _check_works(c, rank, size)
        assert MPI.Comm.Compare(comm, c) == MPI.CONGRUENT
    finally:
        c.Free()


def test_idup_dropped_comm(comm):
    # the request keeps the new communicator's object alive until MPI has
    # written its handle: dropping it first must be safe
    c, req = comm.Idup()
    del c
    gc.collect()
    req.Wait()


@pytest.mark.fastmpi_only
def test_idup_request_holds_comm(comm, size):
    c, req = comm.Idup()
    held = sys.getrefcount(c)
    req.Wait()
    assert sys.getrefcount(c) == held - 1     # released at completion
    assert c.Get_size() == size
    c.Free()


@pytest.mark.fastmpi_only
def test_idup_with_info(comm, rank, size):
    if MPI.VERSION >= 4:
        c, req = comm.Idup({"mpi_assert_no_any_source": "true"})
        req.Wait()
        _check_works(c, rank, size)
        c.Free()
    else:
        with pytest.raises(NotImplementedError, match="MPI-4"):
            comm.Idup(MPI.Info.Create())


def test_subclass_kept_by_dups(comm):
    m = MyComm(comm)
    made = [m.Dup(), m.Clone(), m.Dup_with_info(MPI.INFO_NULL)]
    c, req = m.Idup()
    req.Wait()
    made.append(c)
    try:
        for c in made:
            assert type(c) is MyComm
            assert c.hello() == "hello"
    finally:
        for c in made:
            c.Free()


@pytest.mark.beyond_mpi4py
def test_subclass_kept_by_constructors(comm, rank):
    m = MyComm(comm)
    g = comm.Get_group()
    made = [m.Split(0, rank), m.Create(g), m.Create_group(g),
            m.Split_type(MPI.COMM_TYPE_SHARED)]
    try:
        for c in made:
            assert type(c) is MyComm
    finally:
        for c in made:
            c.Free()
        g.Free()


def test_names_on_new_comms(comm):
    c = comm.Dup()
    try:
        assert isinstance(c.Get_name(), str)
        c.Set_name("created")
        assert c.Get_name() == "created" and c.name == "created"
    finally:
        c.Free()


def test_errors_raise_on_new_comms(comm, rank, size):
    # new communicators inherit ERRORS_RETURN: errors are exceptions
    g = comm.Get_group()
    made = [comm.Dup(), comm.Create(g), comm.Split(0, 0),
            comm.Split_type(MPI.COMM_TYPE_SHARED), comm.Clone()]
    try:
        for c in made:
            with pytest.raises(MPI.Exception) as e:
                c.Send(b"x", dest=c.Get_size() + 3)
            assert e.value.Get_error_class() == MPI.ERR_RANK
    finally:
        for c in made:
            c.Free()
        g.Free()


def test_free_twice_raises(comm):
    c = comm.Dup()
    c.Free()
    assert c == MPI.COMM_NULL
    with pytest.raises(MPI.Exception) as e:
        c.Free()
    assert e.value.Get_error_class() == MPI.ERR_COMM
    for call in (c.Dup, c.Clone, c.Get_group, c.Get_info,
                 lambda: c.Split_type(MPI.COMM_TYPE_SHARED), c.Idup):
        with pytest.raises(MPI.Exception) as e:
            call()
        assert e.value.Get_error_class() == MPI.ERR_COMM


def test_free_predefined_raises():
    for c in (MPI.COMM_WORLD, MPI.COMM_SELF, MPI.COMM_NULL):
        with pytest.raises(MPI.Exception) as e:
            c.Free()
        assert e.value.Get_error_class() == MPI.ERR_COMM
    assert MPI.COMM_WORLD.Get_size() >= 1


@pytest.mark.fastmpi_only  # mpi4py passes MPI_COMM_WORLD to MPI_Comm_free
def test_free_wrapped_world_raises():
    for c in (MPI.Comm(MPI.COMM_WORLD), MPI.Intracomm(MPI.COMM_SELF)):
        with pytest.raises(MPI.Exception) as e:
            c.Free()
        assert e.value.Get_error_class() == MPI.ERR_COMM
        assert "predefined" in str(e.value)
    assert MPI.COMM_WORLD.Get_size() >= 1


# Creating and freeing communicators synchronises the ranks (and MPICH
# spins when oversubscribed), so the leak loop works on COMM_SELF: every
# rank on its own, 10 000 rounds of Dup+Free plus the other constructors.
def _comm_loop(n):
    base = MPI.COMM_SELF
    g = base.Get_group()
    info = MPI.Info.Create()
    info.Set("mpi_assert_no_any_tag", "false")
    for i in range(n):
        c = base.Dup()
        c.Free()
        if i % 10 == 0:
            for c in (base.Create(g), base.Create_group(g),
                      base.Split_type(MPI.COMM_TYPE_SHARED),
                      base.Dup(info), base.Dup_with_info(info)):
                c.Free()
            c, req = base.Idup()
            req.Wait()
            c.Free()
            ci = base.Get_info()
            ci.Free()
            try:
                c.Free()
            except MPI.Exception:
                pass
    info.Free()
    g.Free()


def test_no_leak_comms():
    _comm_loop(300)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    _comm_loop(10_000)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    rss1 = _rss_kb()
    assert grew < 200, f"{grew} Python blocks leaked over 10000 rounds"
    if not UNDER_ASAN:
        assert rss1 - rss0 < 8 * 1024, f"RSS grew by {rss1 - rss0} KiB"


def _world_loop(comm, n):
    for _ in range(n):
        c = comm.Dup()
        c.Free()


def test_no_leak_world_dups(comm):
    # the collective path too, shorter: each round synchronises all ranks
    _world_loop(comm, 50)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    _world_loop(comm, 1_000)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    assert grew < 100, f"{grew} Python blocks leaked over 1000 Dup+Free"
