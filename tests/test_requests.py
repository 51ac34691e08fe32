"""Request objects: null requests, Wait/Test/Get_status/Cancel/Free, the
list calls (Waitany/Testany/Waitall/Testall/Waitsome/Testsome and their
lowercase object forms), and the errors fastmpi reports itself.

Every exchange posts its receive before its send and completes both with
nonblocking calls, so a rank paired with itself (size 1, or the odd last
rank) needs no helper thread."""
import time

import numpy as np
import pytest

from _impl import MPI, Drain, peer, wait_for_self_message

DEADLINE = 60.0


def post_pair(comm, n, tag, rank):
    """Irecv from the peer, then Isend to it: (recv request, send request,
    receive buffer, peer)."""
    p = peer(comm)
    recv = np.full(n, -1, "i4")
    rreq = comm.Irecv(recv, source=p, tag=tag)
    sreq = comm.Isend(np.arange(n, dtype="i4") + 1000 * rank, dest=p,
                      tag=tag)
    return rreq, sreq, recv, p


def poll(fn):
    """Call fn() until it returns something true; give up after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while True:
        out = fn()
        if out:
            return out
        if time.monotonic() > deadline:
            raise AssertionError("request did not complete")
        time.sleep(0.0002)


def is_null(req):
    return req == MPI.REQUEST_NULL and not bool(req)


# --- types, null requests ---------------------------------------------

def test_types_and_constants():
    assert issubclass(MPI.Prequest, MPI.Request)
    assert issubclass(MPI.Grequest, MPI.Request)
    assert isinstance(MPI.REQUEST_NULL, MPI.Request)
    assert isinstance(MPI.MESSAGE_NULL, MPI.Message)
    assert isinstance(MPI.MESSAGE_NO_PROC, MPI.Message)
    assert isinstance(MPI.UNDEFINED, int)
    assert MPI.MESSAGE_NULL != MPI.MESSAGE_NO_PROC


def test_null_request():
    r = MPI.Request()
    assert isinstance(r, MPI.Request)
    assert not bool(r)
    assert r == MPI.REQUEST_NULL
    assert not (r != MPI.REQUEST_NULL)
    assert not bool(MPI.REQUEST_NULL)
    # MPI: waiting on / testing a null request returns at once
    st = MPI.Status()
    assert r.Wait(st) is True
    assert st.Get_source() == MPI.ANY_SOURCE
    assert st.Get_tag() == MPI.ANY_TAG
    assert r.Test() is True
    assert r.wait() is None
    assert r.test() == (True, None)
    assert MPI.REQUEST_NULL.Wait() is True
    assert MPI.REQUEST_NULL.Test() is True
    assert MPI.REQUEST_NULL.Get_status() is True
    # still null afterwards
    assert r == MPI.REQUEST_NULL


def test_request_copy_compares_by_handle(comm, rank):
    rreq, sreq, recv, p = post_pair(comm, 4, 101, rank)
    assert bool(rreq) and bool(sreq)
    assert rreq != MPI.REQUEST_NULL
    assert rreq != sreq
    assert rreq == rreq
    MPI.Request.Waitall([rreq, sreq])
    assert list(recv) == list(np.arange(4) + 1000 * p)
    assert rreq == sreq == MPI.REQUEST_NULL


def test_request_copy_constructor(comm, rank):
    # mpi4py: Request(request) is a second Python object for the same handle
    rreq, sreq, recv, p = post_pair(comm, 4, 100, rank)
    alias = MPI.Request(rreq)
    assert isinstance(alias, MPI.Request)
    assert alias == rreq and alias is not rreq
    MPI.Request.Waitall([rreq, sreq])
    assert list(recv) == list(np.arange(4) + 1000 * p)


def test_request_constructor_rejects_non_request():
    for bad in (3, "x", object()):
        with pytest.raises(TypeError):
            MPI.Request(bad)


# --- Wait / Test / Get_status -----------------------------------------

@pytest.mark.mpich_big
def test_wait_status(comm, rank):
    rreq, sreq, recv, p = post_pair(comm, 17, 102, rank)
    st = MPI.Status()
    assert rreq.Wait(st) is True
    assert sreq.Wait() is True
    assert list(recv) == list(np.arange(17) + 1000 * p)
    assert st.Get_source() == p
    assert st.Get_tag() == 102
    assert st.Get_count(MPI.INT) == 17
    assert st.Get_count() == 68
    assert st.Get_error() == MPI.SUCCESS
    assert not st.Is_cancelled()
    assert is_null(rreq) and is_null(sreq)


def test_test_polls_to_completion(comm, rank):
    rreq, sreq, recv, p = post_pair(comm, 5, 103, rank)
    st = MPI.Status()
    poll(lambda: rreq.Test(st))
    poll(sreq.Test)
    assert list(recv) == list(np.arange(5) + 1000 * p)
    assert st.Get_source() == p and st.Get_tag() == 103
    assert st.Get_count(MPI.INT) == 5
    assert is_null(rreq) and is_null(sreq)
    # a completed request tests true again
    assert rreq.Test() is True
    assert sreq.Test() is True


def test_test_after_wait_returns_true(comm, rank):
    rreq, sreq, recv, p = post_pair(comm, 3, 104, rank)
    rreq.Wait()
    sreq.Wait()
    assert rreq.Test() is True
    assert sreq.Test() is True


def test_get_status_does_not_complete(comm, rank):
    rreq, sreq, recv, p = post_pair(comm, 6, 105, rank)
    st = MPI.Status()
    poll(lambda: rreq.Get_status(st))
    assert st.Get_source() == p and st.Get_tag() == 105
    assert st.Get_count(MPI.INT) == 6
    # the request is still there: Get_status again, then Wait completes it
    assert bool(rreq) and rreq != MPI.REQUEST_NULL
    assert rreq.Get_status() is True
    st2 = MPI.Status()
    assert rreq.Wait(st2) is True
    assert st2.Get_source() == p and st2.Get_count(MPI.INT) == 6
    assert is_null(rreq)
    sreq.Wait()
    assert list(recv) == list(np.arange(6) + 1000 * p)


def test_get_status_pending_is_false(selfcomm):
    r = selfcomm.Irecv(bytearray(4), source=0, tag=106)
    assert r.Get_status() is False
    assert r.Test() is False
    assert bool(r)
    s = selfcomm.Isend(b"abcd", dest=0, tag=106)
    r.Wait()
    s.Wait()


def test_lowercase_wait_test_on_buffer_requests(comm, rank):
    rreq, sreq, recv, p = post_pair(comm, 4, 107, rank)
    st = MPI.Status()
    assert rreq.wait(st) is None  # a buffer receive produces no object
    assert st.Get_source() == p and st.Get_tag() == 107
    flag, obj = poll(lambda: (lambda t: t if t[0] else None)(sreq.test()))
    assert flag is True and obj is None
    assert list(recv) == list(np.arange(4) + 1000 * p)


# --- Cancel / Free ----------------------------------------------------

@pytest.mark.mpich_big
def test_cancel_irecv(comm, size):
    # nobody sends on this tag
    r = comm.Irecv(np.zeros(4), source=MPI.ANY_SOURCE, tag=108)
    assert r.Cancel() is None
    st = MPI.Status()
    r.Wait(st)
    assert st.Is_cancelled() is True
    assert is_null(r)


def test_cancel_lowercase_irecv(comm):
    r = comm.irecv(bytearray(64), source=MPI.ANY_SOURCE, tag=109)
    r.cancel()
    st = MPI.Status()
    assert r.wait(st) is None
    assert st.Is_cancelled() is True


def test_cancel_then_test(comm):
    r = comm.Irecv(bytearray(8), source=MPI.ANY_SOURCE, tag=110)
    r.Cancel()
    st = MPI.Status()
    poll(lambda: r.Test(st))
    assert st.Is_cancelled()


def test_cancel_completed_receive_not_cancelled(comm, rank):
    rreq, sreq, recv, p = post_pair(comm, 4, 111, rank)
    st = MPI.Status()
    poll(lambda: rreq.Get_status())
    rreq.Cancel()  # too late: already matched and complete
    rreq.Wait(st)
    sreq.Wait()
    assert not st.Is_cancelled()
    assert list(recv) == list(np.arange(4) + 1000 * p)


def test_free_pending_send_still_delivers(comm, rank):
    p = peer(comm)
    recv = np.zeros(8, "f8")
    rreq = comm.Irecv(recv, source=p, tag=112)
    sreq = comm.Isend(np.full(8, rank + 0.25), dest=p, tag=112)
    sreq.Free()
    rreq.Wait()
    assert list(recv) == [p + 0.25] * 8
    # mpi4py: Free() sets the handle to MPI_REQUEST_NULL
    assert not bool(sreq)
    assert sreq == MPI.REQUEST_NULL


@pytest.mark.fastmpi_only
def test_wait_after_free_raises(comm, rank):
    p = peer(comm)
    recv = np.zeros(2, "i4")
    rreq = comm.Irecv(recv, source=p, tag=113)
    sreq = comm.Isend(np.full(2, rank, "i4"), dest=p, tag=113)
    sreq.Free()
    for call in (sreq.Wait, sreq.wait):
        with pytest.raises(MPI.Exception) as info:
            call()
        assert info.value.Get_error_class() == MPI.ERR_REQUEST
    rreq.Wait()
    assert list(recv) == [p] * 2


@pytest.mark.fastmpi_only
def test_free_twice_raises(comm, rank):
    p = peer(comm)
    rreq = comm.Irecv(bytearray(1), source=p, tag=114)
    sreq = comm.Isend(b"x", dest=p, tag=114)
    sreq.Free()
    with pytest.raises(MPI.Exception) as info:
        sreq.Free()
    assert info.value.Get_error_class() == MPI.ERR_REQUEST
    rreq.Wait()


# --- errors fastmpi detects -------------------------------------------

def test_wait_after_completion_is_a_null_request(comm, rank):
    # MPI sets a completed request to REQUEST_NULL: a second Wait/Test
    # returns at once with an empty status (as mpi4py; poll Test, then Wait)
    rreq, sreq, recv, p = post_pair(comm, 3, 115, rank)
    assert rreq.Wait() is True
    assert sreq.Wait() is True
    for req in (rreq, sreq):
        st = MPI.Status()
        st.source, st.tag = 5, 5
        assert req.Wait(st) is True
        assert st.Get_source() == MPI.ANY_SOURCE
        assert st.Get_tag() == MPI.ANY_TAG and st.Get_count() == 0
        assert req.Test() is True and req == MPI.REQUEST_NULL
    rreq, sreq, recv, p = post_pair(comm, 3, 119, rank)
    poll(lambda: rreq.Test())
    assert rreq.Wait() is True and list(recv) == list(
        np.arange(3, dtype="i4") + 1000 * p)
    sreq.Wait()


def test_lowercase_wait_after_completion_gives_none(comm, rank):
    p = peer(comm)
    r = comm.irecv(source=p, tag=116)
    s = comm.isend(("x", rank), dest=p, tag=116)
    assert r.wait() == ("x", p)
    assert s.wait() is None
    for req in (r, s):
        assert req.wait() is None
        assert req.test() == (True, None)


def test_non_request_in_list_raises_type_error(comm, rank):
    rreq, sreq, recv, p = post_pair(comm, 4, 117, rank)
    calls = [MPI.Request.Waitall, MPI.Request.Testall, MPI.Request.Waitany,
             MPI.Request.Testany, MPI.Request.Waitsome, MPI.Request.Testsome,
             MPI.Request.waitall, MPI.Request.testall, MPI.Request.waitany,
             MPI.Request.testany, MPI.Request.waitsome,
             MPI.Request.testsome]
    for call in calls:
        for bad in ([rreq, 3], (sreq, None), [rreq, sreq, "r"]):
            with pytest.raises(TypeError):
                call(bad)
    # the valid requests are untouched and still complete
    assert bool(rreq) and bool(sreq)
    assert MPI.Request.Waitall([rreq, sreq]) is True
    assert list(recv) == list(np.arange(4) + 1000 * p)


def test_list_argument_not_a_sequence():
    for call in (MPI.Request.Waitall, MPI.Request.Waitany,
                 MPI.Request.Waitsome, MPI.Request.Testall):
        with pytest.raises(TypeError):
            call(5)
        with pytest.raises(TypeError):
            call(MPI.REQUEST_NULL)


def test_isend_non_buffer(comm, rank):
    with Drain(comm, rank):
        for bad in (3, None, 2.5, object()):
            with pytest.raises(TypeError):
                comm.Isend(bad, dest=rank, tag=118)
        with pytest.raises(TypeError):
            comm.Irecv(7, source=rank, tag=118)


def test_bad_dest_source_tag(comm, rank, size):
    with pytest.raises(MPI.Exception) as info:
        comm.Isend(np.zeros(2), dest=size, tag=0)
    assert info.value.Get_error_class() == MPI.ERR_RANK
    with pytest.raises(MPI.Exception) as info:
        comm.Irecv(np.zeros(2), source=size + 3, tag=0)
    assert info.value.Get_error_class() == MPI.ERR_RANK
    with pytest.raises(MPI.Exception) as info:
        comm.isend("x", dest=-7, tag=0)
    assert info.value.Get_error_class() == MPI.ERR_RANK
    with Drain(comm, rank):
        with pytest.raises(MPI.Exception) as info:
            comm.Isend(np.zeros(2), dest=rank, tag=-4)
        assert info.value.Get_error_class() == MPI.ERR_TAG
        with pytest.raises(MPI.Exception) as info:
            comm.isend("x", dest=rank, tag=-4)
        assert info.value.Get_error_class() == MPI.ERR_TAG
    with pytest.raises(MPI.Exception) as info:
        comm.Irecv(np.zeros(2), source=rank, tag=-4)
    assert info.value.Get_error_class() == MPI.ERR_TAG


def test_bad_argument_types(comm, rank):
    with Drain(comm, rank):
        with pytest.raises(TypeError):
            comm.Isend(np.zeros(2), dest="0", tag=0)
        with pytest.raises(TypeError):
            comm.Isend(np.zeros(2), dest=rank, tag="t")
        with pytest.raises(TypeError):
            comm.Irecv(np.zeros(2), source=None, tag=0)
    with pytest.raises(TypeError):
        MPI.REQUEST_NULL.Wait(status=3)


def test_irecv_into_readonly(comm, rank):
    with pytest.raises((BufferError, TypeError)):
        comm.Irecv(b"abcd", source=rank, tag=119)


def test_on_freed_comm(comm):
    d = comm.Dup()
    d.Free()
    with pytest.raises(MPI.Exception) as info:
        d.Isend(np.zeros(2), dest=0, tag=0)
    assert info.value.Get_error_class() == MPI.ERR_COMM
    with pytest.raises(MPI.Exception) as info:
        MPI.COMM_NULL.Irecv(np.zeros(2), source=0, tag=0)
    assert info.value.Get_error_class() == MPI.ERR_COMM


# --- list calls -------------------------------------------------------

def four_requests(comm, rank, tag):
    """Two receives from the peer and two sends to it (tags tag, tag+1):
    (requests, receive buffers, peer)."""
    p = peer(comm)
    bufs = [np.full(3, -1, "i4"), np.full(5, -1, "i4")]
    reqs = [comm.Irecv(bufs[0], source=p, tag=tag),
            comm.Irecv(bufs[1], source=p, tag=tag + 1),
            comm.Isend(np.full(3, rank, "i4"), dest=p, tag=tag),
            comm.Isend(np.full(5, rank + 10, "i4"), dest=p, tag=tag + 1)]
    return reqs, bufs, p


def check_bufs(bufs, p):
    assert list(bufs[0]) == [p] * 3
    assert list(bufs[1]) == [p + 10] * 5


@pytest.mark.mpich_big
def test_waitall_statuses(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 120)
    sts = []
    assert MPI.Request.Waitall(reqs, sts) is True
    assert len(sts) == 4
    check_bufs(bufs, p)
    assert [s.Get_source() for s in sts[:2]] == [p, p]
    assert [s.Get_tag() for s in sts[:2]] == [120, 121]
    assert [s.Get_count(MPI.INT) for s in sts[:2]] == [3, 5]
    assert all(is_null(r) for r in reqs)


def test_waitall_statuses_extended_and_reused(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 122)
    first = MPI.Status()
    sts = [first]
    MPI.Request.Waitall(reqs, sts)
    assert len(sts) == 4 and sts[0] is first
    assert first.Get_tag() == 122 and sts[1].Get_tag() == 123
    assert all(isinstance(s, MPI.Status) for s in sts)
    check_bufs(bufs, p)


class StatusSeq:
    """A sequence that is neither a list nor a tuple."""

    def __init__(self, items):
        self.items = list(items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


@pytest.mark.parametrize("kind", [tuple, StatusSeq])
def test_waitall_statuses_any_sequence_filled_in_place(comm, rank, kind):
    reqs, bufs, p = four_requests(comm, rank, 130)
    mine = [MPI.Status() for _ in range(4)]
    sts = kind(mine)
    assert MPI.Request.Waitall(reqs, sts) is True
    check_bufs(bufs, p)
    assert [s.Get_tag() for s in mine[:2]] == [130, 131]
    assert [s.Get_count(MPI.INT) for s in mine[:2]] == [3, 5]
    assert len(sts) == 4 and all(a is b for a, b in zip(sts, mine))


def test_waitall_statuses_short_sequence(comm, rank):
    # a tuple shorter than the requests takes what fits; () takes nothing
    reqs, bufs, p = four_requests(comm, rank, 132)
    first = MPI.Status()
    assert MPI.Request.Waitall(reqs, (first,)) is True
    check_bufs(bufs, p)
    assert first.Get_tag() == 132 and first.Get_source() == p
    reqs, bufs, p = four_requests(comm, rank, 134)
    assert MPI.Request.Waitall(reqs, ()) is True
    check_bufs(bufs, p)


def test_testall_waitsome_testsome_statuses_tuple(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 136)
    mine = tuple(MPI.Status() for _ in range(4))
    poll(lambda: MPI.Request.Testall(reqs, mine))
    check_bufs(bufs, p)
    assert mine[1].Get_tag() == 137
    for call in (MPI.Request.Waitsome, MPI.Request.Testsome):
        reqs, bufs, p = four_requests(comm, rank, 138)
        mine = tuple(MPI.Status() for _ in range(4))
        done = []
        while len(done) < 4:
            idx = call(reqs, mine)
            for k, i in enumerate(idx or []):
                if i < 2:
                    assert mine[k].Get_tag() == 138 + i
                done.append(i)
        assert sorted(done) == [0, 1, 2, 3]
        check_bufs(bufs, p)
        assert call(reqs, mine) is None


def test_null_requests_statuses_forms():
    # as mpi4py's own suite calls them
    reqs = [MPI.Request() for _ in range(5)]
    sts = [MPI.Status() for _ in range(5)]
    for st in (tuple(sts), (sts[0],), (), StatusSeq(sts)):
        assert MPI.Request.Waitall(reqs, st) is True
        assert MPI.Request.Testall(reqs, st) is True
        assert MPI.Request.Waitsome(reqs, st) is None
        assert MPI.Request.Testsome(reqs, st) is None
    for st in (list(sts), []):
        MPI.Request.Waitall(reqs, st)
        assert len(st) == 5
        assert MPI.Request.waitall(reqs, st) == [None] * 5
        assert len(st) == 5
    assert MPI.Request.testall(reqs, tuple(sts)) == (True, [None] * 5)


@pytest.mark.beyond_mpi4py     # mpi4py 3.1 ignores some of these
def test_statuses_bad_forms():
    reqs = [MPI.Request() for _ in range(2)]
    for call in (MPI.Request.Waitall, MPI.Request.Testall,
                 MPI.Request.Waitsome, MPI.Request.Testsome,
                 MPI.Request.waitall, MPI.Request.testall):
        for bad in (5, "ab", b"ab", [1], (MPI.Status(), None), object()):
            with pytest.raises(TypeError):
                call(reqs, bad)


def test_waitall_tuple_and_nulls(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 124)
    tup = (reqs[0], MPI.REQUEST_NULL, reqs[1], reqs[2], MPI.Request(),
           reqs[3])
    assert MPI.Request.Waitall(tup) is True
    check_bufs(bufs, p)
    assert all(is_null(r) for r in reqs)
    assert MPI.Request.Waitall([]) is True
    assert MPI.Request.Waitall([MPI.REQUEST_NULL]) is True


def test_testall(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 126)
    sts = []
    poll(lambda: MPI.Request.Testall(reqs, sts))
    assert len(sts) == 4
    assert sts[1].Get_source() == p and sts[1].Get_count(MPI.INT) == 5
    check_bufs(bufs, p)
    assert all(is_null(r) for r in reqs)
    assert MPI.Request.Testall(reqs) is True


def test_testall_pending_is_false(selfcomm):
    r = selfcomm.Irecv(bytearray(2), source=0, tag=127)
    assert MPI.Request.Testall([r, MPI.REQUEST_NULL]) is False
    assert bool(r)
    s = selfcomm.Isend(b"ok", dest=0, tag=127)
    MPI.Request.Waitall([r, s])


@pytest.mark.mpich_big
def test_waitany(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 128)
    seen = []
    for _ in range(4):
        st = MPI.Status()
        i = MPI.Request.Waitany(reqs, st)
        assert 0 <= i < 4 and i not in seen
        assert is_null(reqs[i])
        if i < 2:
            assert st.Get_source() == p and st.Get_tag() == 128 + i
        seen.append(i)
    assert sorted(seen) == [0, 1, 2, 3]
    check_bufs(bufs, p)
    assert MPI.Request.Waitany(reqs) == MPI.UNDEFINED
    assert MPI.Request.Waitany([]) == MPI.UNDEFINED
    st = MPI.Status()  # no active request: an empty status
    assert MPI.Request.Waitany(reqs, st) == MPI.UNDEFINED
    assert (st.Get_source(), st.Get_tag()) == (MPI.ANY_SOURCE, MPI.ANY_TAG)
    assert st.Get_count() == 0


def test_testany(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 130)
    seen = []
    deadline = time.monotonic() + DEADLINE
    while len(seen) < 4:
        st = MPI.Status()
        i, flag = MPI.Request.Testany(reqs, st)
        if flag:
            assert i not in seen and 0 <= i < 4
            if i < 2:
                assert st.Get_tag() == 130 + i and st.Get_source() == p
            seen.append(i)
        else:
            assert i == MPI.UNDEFINED
        assert time.monotonic() < deadline
    check_bufs(bufs, p)
    assert MPI.Request.Testany(reqs) == (MPI.UNDEFINED, True)


@pytest.mark.mpich_big
def test_waitsome(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 132)
    seen = []
    while True:
        sts = []
        idx = MPI.Request.Waitsome(reqs, sts)
        if idx is None:
            break
        assert isinstance(idx, list) and idx
        assert len(sts) >= len(idx)
        for k, i in enumerate(idx):
            assert i not in seen and is_null(reqs[i])
            if i < 2:
                assert sts[k].Get_tag() == 132 + i
                assert sts[k].Get_source() == p
        seen += idx
    assert sorted(seen) == [0, 1, 2, 3]
    check_bufs(bufs, p)


def test_testsome(comm, rank):
    reqs, bufs, p = four_requests(comm, rank, 134)
    seen = []
    deadline = time.monotonic() + DEADLINE
    while True:
        sts = []
        idx = MPI.Request.Testsome(reqs, sts)
        if idx is None:
            break
        assert isinstance(idx, list)
        for k, i in enumerate(idx):
            assert i not in seen
            if i < 2:
                assert sts[k].Get_tag() == 134 + i
        seen += idx
        assert time.monotonic() < deadline
    assert sorted(seen) == [0, 1, 2, 3]
    check_bufs(bufs, p)
    assert MPI.Request.Testsome(reqs) is None


def test_list_calls_all_null():
    nulls = [MPI.REQUEST_NULL, MPI.Request()]
    assert MPI.Request.Waitany(nulls) == MPI.UNDEFINED
    assert MPI.Request.Testany(nulls) == (MPI.UNDEFINED, True)
    assert MPI.Request.Waitsome(nulls) is None
    assert MPI.Request.Testsome(nulls) is None
    assert MPI.Request.Waitall(nulls) is True
    assert MPI.Request.Testall(nulls) is True
    assert MPI.Request.waitany(nulls) == (MPI.UNDEFINED, None)
    assert MPI.Request.testany(nulls) == (MPI.UNDEFINED, True, None)
    assert MPI.Request.waitall(nulls) == [None, None]
    assert MPI.Request.testall(nulls) == (True, [None, None])
    assert MPI.Request.waitsome(nulls) == (None, None)
    assert MPI.Request.testsome(nulls) == (None, None)


# --- lowercase list calls (objects) -----------------------------------

def obj_requests(comm, rank, tag):
    """Two object receives from the peer, then two object sends to it."""
    p = peer(comm)
    reqs = [comm.irecv(source=p, tag=tag),
            comm.irecv(source=p, tag=tag + 1),
            comm.isend({"r": rank, "t": tag}, dest=p, tag=tag),
            comm.isend([rank] * 3, dest=p, tag=tag + 1)]
    return reqs, p


@pytest.mark.mpich_big
def test_waitall_objects(comm, rank):
    reqs, p = obj_requests(comm, rank, 140)
    sts = []
    out = MPI.Request.waitall(reqs, sts)
    assert out == [{"r": p, "t": 140}, [p] * 3, None, None]
    assert sts[0].Get_source() == p and sts[1].Get_tag() == 141
    assert all(is_null(r) for r in reqs)


def test_testall_objects(comm, rank):
    reqs, p = obj_requests(comm, rank, 142)
    flag, out = poll(lambda: (lambda t: t if t[0] else None)(
        MPI.Request.testall(reqs)))
    assert flag is True
    assert out == [{"r": p, "t": 142}, [p] * 3, None, None]


def test_testall_objects_pending(selfcomm):
    r = selfcomm.irecv(source=0, tag=143)
    assert MPI.Request.testall([r]) == (False, None)
    s = selfcomm.isend("late", dest=0, tag=143)
    assert MPI.Request.waitall([r, s]) == ["late", None]


def test_waitany_objects(comm, rank):
    reqs, p = obj_requests(comm, rank, 144)
    got = {}
    for _ in range(4):
        i, obj = MPI.Request.waitany(reqs)
        assert i not in got
        got[i] = obj
    assert got == {0: {"r": p, "t": 144}, 1: [p] * 3, 2: None, 3: None}
    assert MPI.Request.waitany(reqs) == (MPI.UNDEFINED, None)


def test_testany_objects(comm, rank):
    reqs, p = obj_requests(comm, rank, 146)
    got = {}
    deadline = time.monotonic() + DEADLINE
    while len(got) < 4:
        i, flag, obj = MPI.Request.testany(reqs)
        if flag:
            got[i] = obj
        else:
            assert obj is None
        assert time.monotonic() < deadline
    assert got == {0: {"r": p, "t": 146}, 1: [p] * 3, 2: None, 3: None}


def test_waitsome_objects(comm, rank):
    reqs, p = obj_requests(comm, rank, 148)
    got = {}
    while True:
        idx, objs = MPI.Request.waitsome(reqs)
        if idx is None:
            assert objs is None
            break
        assert len(idx) == len(objs)
        got.update(zip(idx, objs))
    assert got == {0: {"r": p, "t": 148}, 1: [p] * 3, 2: None, 3: None}


def test_testsome_objects(comm, rank):
    reqs, p = obj_requests(comm, rank, 150)
    got = {}
    deadline = time.monotonic() + DEADLINE
    while True:
        idx, objs = MPI.Request.testsome(reqs)
        if idx is None:
            break
        assert len(idx) == len(objs)
        got.update(zip(idx, objs))
        assert time.monotonic() < deadline
    assert got == {0: {"r": p, "t": 150}, 1: [p] * 3, 2: None, 3: None}


def test_mixed_buffer_and_object_requests(comm, rank):
    p = peer(comm)
    buf = np.zeros(4, "f8")
    reqs = [comm.Irecv(buf, source=p, tag=152),
            comm.irecv(source=p, tag=153),
            comm.Isend(np.full(4, rank + 0.5), dest=p, tag=152),
            comm.isend(("obj", rank), dest=p, tag=153)]
    out = MPI.Request.waitall(reqs)
    assert out[1] == ("obj", p)
    assert out[0] is None and out[2] is None and out[3] is None
    assert list(buf) == [p + 0.5] * 4


def test_many_requests_any_source(comm, rank, size):
    # every rank sends 3 small messages to every rank (itself included)
    bufs = [np.full(2, -1, "i4") for _ in range(3 * size)]
    reqs = [comm.Irecv(b, source=MPI.ANY_SOURCE, tag=154) for b in bufs]
    for dst in range(size):
        for k in range(3):
            reqs.append(comm.Isend(np.array([rank, k], "i4"), dest=dst,
                                   tag=154))
    sts = []
    MPI.Request.Waitall(reqs, sts)
    got = sorted(tuple(int(x) for x in b) for b in bufs)
    assert got == sorted((r, k) for r in range(size) for k in range(3))
    for b, st in zip(bufs, sts):
        assert st.Get_source() == b[0]


def test_wait_for_self_message_helper_compat(selfcomm):
    # a receive posted after the message arrived (both libraries' eager path)
    s = selfcomm.Isend(b"hello", dest=0, tag=155)
    wait_for_self_message(selfcomm, 0, 155, always=True)
    buf = bytearray(5)
    r = selfcomm.Irecv(buf, source=0, tag=155)
    MPI.Request.Waitall([r, s])
    assert buf == b"hello"
