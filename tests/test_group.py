"""MPI.Group: construction from communicators, set operations, rank
translation, predefined groups, bad arguments, and no leaks.

Translate_ranks and Compare are spelled MPI.Group.X(group1, ...), which is
mpi4py 3.1's classmethod call and mpi4py 4's (and fastmpi's) instance
method called through the class: the same call in both.
"""
import gc
import os
import pickle
import sys

import numpy as np
import pytest

from _impl import MPI
from _impl import UNDER_ASAN, rss_kb as _rss_kb




def _error_class(excinfo):
    return excinfo.value.Get_error_class()


@pytest.mark.mpich_big
def test_world_group(comm, rank, size):
    g = comm.Get_group()
    try:
        assert isinstance(g, MPI.Group)
        assert g.Get_size() == g.size == size
        assert g.Get_rank() == g.rank == rank
        h = comm.group
        assert h.size == size and h.rank == rank
        h.Free()
        s = MPI.COMM_SELF.Get_group()
        assert (s.size, s.rank) == (1, 0)
        s.Free()
    finally:
        g.Free()
    assert g == MPI.GROUP_NULL


def test_predefined():
    assert isinstance(MPI.GROUP_EMPTY, MPI.Group)
    assert isinstance(MPI.GROUP_NULL, MPI.Group)
    assert MPI.GROUP_EMPTY.Get_size() == 0
    assert MPI.GROUP_EMPTY.Get_rank() == MPI.UNDEFINED
    assert bool(MPI.GROUP_EMPTY)
    assert not bool(MPI.GROUP_NULL)
    assert MPI.Group() == MPI.GROUP_NULL
    assert MPI.GROUP_EMPTY != MPI.GROUP_NULL
    with pytest.raises(MPI.Exception) as e:
        MPI.GROUP_NULL.Get_size()
    assert _error_class(e) == MPI.ERR_GROUP
    with pytest.raises(MPI.Exception) as e:
        MPI.GROUP_NULL.Get_rank()
    assert _error_class(e) == MPI.ERR_GROUP


def test_free_group_null_raises():
    with pytest.raises(MPI.Exception) as e:
        MPI.GROUP_NULL.Free()
    assert _error_class(e) == MPI.ERR_GROUP


# mpi4py 3.1.4 passes GROUP_EMPTY to MPI_Group_free, and Open MPI 4.1.4
# then free()s its static object: the process aborts.
@pytest.mark.fastmpi_only
def test_free_group_empty_raises():
    for g in (MPI.GROUP_EMPTY, MPI.Group(MPI.GROUP_EMPTY)):
        with pytest.raises(MPI.Exception) as e:
            g.Free()
        assert _error_class(e) == MPI.ERR_GROUP
        assert "predefined" in str(e.value)
    assert MPI.GROUP_EMPTY.Get_size() == 0


def test_use_after_free(comm):
    g = comm.Get_group().Dup()
    g.Free()
    assert g == MPI.GROUP_NULL
    assert not g
    for call in (g.Get_size, g.Get_rank, g.Free, g.Dup,
                 lambda: g.Incl([0]), lambda: g.Range_excl([])):
        with pytest.raises(MPI.Exception) as e:
            call()
        assert _error_class(e) == MPI.ERR_GROUP


@pytest.mark.beyond_mpi4py
def test_freed_group_as_argument_raises(comm):
    g = comm.Get_group()
    h = g.Dup()
    h.Free()
    try:
        for call in (lambda: MPI.Group.Union(g, h),
                     lambda: MPI.Group.Compare(g, h),
                     lambda: MPI.Group.Translate_ranks(g, [0], h)):
            with pytest.raises(MPI.Exception) as e:
                call()
            assert _error_class(e) == MPI.ERR_GROUP
    finally:
        g.Free()


@pytest.mark.mpich_big
def test_incl_excl(comm, rank, size):
    g = comm.Get_group()
    rev = g.Incl(list(range(size - 1, -1, -1)))
    assert rev.size == size
    assert rev.rank == size - 1 - rank
    ex = g.Excl([0])
    assert ex.size == size - 1
    assert ex.rank == (MPI.UNDEFINED if rank == 0 else rank - 1)
    one = g.Incl([size - 1])
    assert one.size == 1
    assert one.rank == (0 if rank == size - 1 else MPI.UNDEFINED)
    tup = g.Incl(tuple(np.arange(size, dtype=np.int64)))  # numpy ints
    assert MPI.Group.Compare(tup, g) == MPI.IDENT
    for x in (g, rev, ex, one, tup):
        x.Free()


def test_incl_excl_empty(comm, size):
    g = comm.Get_group()
    e = g.Incl([])
    assert e.size == 0
    assert e.rank == MPI.UNDEFINED
    e.Free()                  # a result that is empty can still be freed
    all_out = g.Excl(list(range(size)))
    assert all_out.size == 0
    all_out.Free()
    same = g.Excl([])
    assert same.size == size
    same.Free()
    g.Free()


@pytest.mark.mpich_big
def test_range_incl_excl(comm, rank, size):
    g = comm.Get_group()
    evens = g.Range_incl([(0, size - 1, 2)])
    assert evens.size == (size + 1) // 2
    assert evens.rank == (rank // 2 if rank % 2 == 0 else MPI.UNDEFINED)
    odds = g.Range_excl([(0, size - 1, 2)])
    assert odds.size == size // 2
    assert odds.rank == (rank // 2 if rank % 2 == 1 else MPI.UNDEFINED)
    rev = g.Range_incl([(size - 1, 0, -1)])
    assert rev.rank == size - 1 - rank
    two = g.Range_incl([(0, 0, 1), (size - 1, size - 1, 1)]) if size > 1 \
        else g.Range_incl([(0, 0, 1)])
    assert two.size == min(size, 2)
    for x in (g, evens, odds, rev, two):
        x.Free()


@pytest.mark.mpich_big
def test_translate_ranks(comm, rank, size):
    g = comm.Get_group()
    rev = g.Incl(list(range(size - 1, -1, -1)))
    got = MPI.Group.Translate_ranks(g, list(range(size)), rev)
    assert got == [size - 1 - i for i in range(size)]
    assert isinstance(got, list)
    # into a group without them: UNDEFINED
    assert MPI.Group.Translate_ranks(g, [0], MPI.GROUP_EMPTY) == \
        [MPI.UNDEFINED]
    # group2 omitted: the group of COMM_WORLD
    sub = g.Incl([size - 1])
    assert MPI.Group.Translate_ranks(sub, [0]) == [size - 1]
    assert MPI.Group.Translate_ranks(g, [], rev) == []
    for x in (g, rev, sub):
        x.Free()


@pytest.mark.beyond_mpi4py
def test_translate_ranks_instance_method(comm, size):
    # mpi4py 4's spelling: g.Translate_ranks(ranks=None, group=None)
    g = comm.Get_group()
    rev = g.Incl(list(range(size - 1, -1, -1)))
    assert rev.Translate_ranks(None, g) == list(range(size - 1, -1, -1))
    assert rev.Translate_ranks(group=g) == list(range(size - 1, -1, -1))
    assert g.Translate_ranks() == list(range(size))
    assert g.Translate_ranks([MPI.PROC_NULL], MPI.GROUP_EMPTY) == \
        [MPI.PROC_NULL]
    assert g.Compare(rev) == (MPI.IDENT if size == 1 else MPI.SIMILAR)
    g.Free()
    rev.Free()


def test_mpi4py3_spellings_through_an_instance(comm, size):
    # mpi4py 3.1: Compare and Translate_ranks are classmethods, so an
    # instance call passes both groups explicitly
    g = comm.Get_group()
    rev = g.Incl(list(range(size - 1, -1, -1)))
    other = MPI.GROUP_EMPTY
    try:
        assert other.Compare(g, rev) == \
            (MPI.IDENT if size == 1 else MPI.SIMILAR)
        assert other.Translate_ranks(g, [0], rev) == [size - 1]
        assert other.Translate_ranks(rev, [0], g) == [size - 1]
        with pytest.raises(TypeError):
            other.Compare(3, g)
    finally:
        g.Free()
        rev.Free()


@pytest.mark.mpich_big
def test_compare(comm, size):
    assert len({MPI.IDENT, MPI.CONGRUENT, MPI.SIMILAR, MPI.UNEQUAL}) == 4
    g = comm.Get_group()
    d = g.Dup()
    assert d.size == size
    assert MPI.Group.Compare(g, d) == MPI.IDENT
    rev = g.Incl(list(range(size - 1, -1, -1)))
    assert MPI.Group.Compare(g, rev) == \
        (MPI.IDENT if size == 1 else MPI.SIMILAR)
    assert MPI.Group.Compare(g, MPI.GROUP_EMPTY) == MPI.UNEQUAL
    if size > 1:
        ex = g.Excl([0])
        assert MPI.Group.Compare(g, ex) == MPI.UNEQUAL
        ex.Free()
    for x in (g, d, rev):
        x.Free()


@pytest.mark.mpich_big
def test_set_operations(comm, rank, size):
    g = comm.Get_group()
    first = g.Incl([0])
    u = MPI.Group.Union(g, MPI.GROUP_EMPTY)
    assert MPI.Group.Compare(u, g) == MPI.IDENT
    i = MPI.Group.Intersection(g, first)
    assert i.size == 1
    assert i.rank == (0 if rank == 0 else MPI.UNDEFINED)
    i2 = MPI.Group.Intersect(first, g)
    assert MPI.Group.Compare(i, i2) == MPI.IDENT
    d = MPI.Group.Difference(g, first)
    assert d.size == size - 1
    e = MPI.Group.Difference(g, g)
    assert e.size == 0
    u2 = g.Union(first, d)          # classmethod through an instance
    assert u2.size == size
    assert isinstance(u2, MPI.Group)
    for x in (g, first, u, i, i2, d, e, u2):
        x.Free()


@pytest.mark.beyond_mpi4py
def test_subclass_results(comm):
    class MyGroup(MPI.Group):
        pass
    g = MyGroup(comm.Get_group())
    h = g.Dup()
    u = MyGroup.Union(g, MPI.GROUP_EMPTY)
    assert type(u) is MyGroup
    assert MPI.Group.Compare(h, g) == MPI.IDENT
    for x in (g, h, u):
        x.Free()


def test_type_errors(comm):
    g = comm.Get_group()
    try:
        with pytest.raises(TypeError):
            g.Incl(5)
        with pytest.raises(TypeError):
            g.Incl(["a"])
        with pytest.raises(TypeError):
            g.Excl(None)
        with pytest.raises(TypeError):
            MPI.Group.Union(g, 3)
        with pytest.raises(TypeError):
            MPI.Group.Compare(g, "x")
        with pytest.raises(TypeError):
            g.Range_incl([("a", 0, 1)])
        with pytest.raises(TypeError):
            MPI.Group(3)
    finally:
        g.Free()


@pytest.mark.beyond_mpi4py
def test_bad_ranks_value_errors(comm, size):
    # checked before MPI sees them, naming the argument and the rank
    g = comm.Get_group()
    try:
        for call, bad in ((lambda: g.Incl([size]), size),
                          (lambda: g.Incl([0, -1]), -1),
                          (lambda: g.Excl([size + 5]), size + 5)):
            with pytest.raises(ValueError) as e:
                call()
            assert "'ranks'" in str(e.value)
            assert f"rank {bad}" in str(e.value)
        with pytest.raises(ValueError, match="more than once"):
            g.Incl([0, 0])
        with pytest.raises(ValueError, match="more than once"):
            g.Excl([0, 0])
        with pytest.raises(ValueError, match="3 entries"):
            g.Range_incl([(0, 0)])
        with pytest.raises(ValueError, match="stride"):
            g.Range_incl([(0, 0, 0)])
        with pytest.raises(ValueError, match="outside"):
            g.Range_excl([(0, size, 1)])
        if size > 1:
            with pytest.raises(ValueError, match="stride"):
                g.Range_incl([(size - 1, 0, 1)])
            with pytest.raises(ValueError, match="more than one range"):
                g.Range_incl([(0, 1, 1), (1, 1, 1)])
    finally:
        g.Free()


# mpi4py 3.1.4 hands the bad rank to Open MPI 4.1.4, which crashes in
# ompi_group_translate_ranks.
@pytest.mark.fastmpi_only
def test_translate_ranks_bad_rank(comm, size):
    g = comm.Get_group()
    try:
        with pytest.raises(ValueError) as e:
            MPI.Group.Translate_ranks(g, [0, size], g)
        assert "'ranks'" in str(e.value) and f"rank {size}" in str(e.value)
        with pytest.raises(ValueError):
            MPI.Group.Translate_ranks(MPI.GROUP_EMPTY, [0], g)
    finally:
        g.Free()


def test_object_basics(comm):
    g = comm.Get_group()
    try:
        assert MPI.Group(g) == g
        assert not (MPI.Group(g) != g)
        assert g != MPI.GROUP_EMPTY
        with pytest.raises(TypeError):
            pickle.dumps(g)
        with pytest.raises(TypeError):
            hash(g)
        f = g.py2f()
        assert isinstance(f, int)
        assert MPI.Group.f2py(f) == g
    finally:
        g.Free()


@pytest.mark.beyond_mpi4py
def test_handle(comm):
    g = comm.Get_group()
    h = g.Dup()
    try:
        assert isinstance(g.handle, int)
        assert MPI.Group(g).handle == g.handle
        assert "GROUP_EMPTY" in repr(MPI.GROUP_EMPTY)
    finally:
        g.Free()
        h.Free()


def _group_loop(comm, n):
    g0 = comm.Get_group()
    for _ in range(n):
        g = comm.Get_group()
        a = g.Incl([0])
        b = g.Range_excl([(0, 0, 1)])
        u = MPI.Group.Union(a, b)
        i = MPI.Group.Intersection(u, g)
        d = g.Dup()
        MPI.Group.Translate_ranks(g, [0], u)
        MPI.Group.Compare(g, d)
        for x in (g, a, b, u, i, d):
            x.Free()
        try:
            g.Free()
        except MPI.Exception:
            pass
        try:
            g0.Incl(["x"])
        except TypeError:
            pass
    g0.Free()


def test_no_leak_groups(comm):
    # local calls only: every rank loops on its own
    _group_loop(comm, 500)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    _group_loop(comm, 10_000)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    rss1 = _rss_kb()
    assert grew < 200, f"{grew} Python blocks leaked over 10000 rounds"
    if not UNDER_ASAN:
        assert rss1 - rss0 < 8 * 1024, f"RSS grew by {rss1 - rss0} KiB"
