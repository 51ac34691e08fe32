"""Generalized requests: Grequest.Start(query_fn, free_fn, cancel_fn, args,
kwargs), Complete, Wait/Test/Cancel on them, in list calls, completed from
another thread, and exceptions raised by the callbacks.  Purely local: no
messages, so every rank runs every test on its own."""
import threading
import time

import numpy as np
import pytest

from _impl import MPI, peer


class Recorder:
    """Callbacks that record their calls; query_fn sets source and tag."""

    def __init__(self, source=5, tag=7):
        self.calls = []
        self.source, self.tag = source, tag

    def query(self, status, *args, **kwargs):
        self.calls.append(("query", args, kwargs))
        status.Set_source(self.source)
        status.tag = self.tag
        status.Set_error(MPI.SUCCESS)

    def free(self, *args, **kwargs):
        self.calls.append(("free", args, kwargs))

    def cancel(self, completed, *args, **kwargs):
        self.calls.append(("cancel", completed, args, kwargs))

    def names(self):
        return [c[0] for c in self.calls]

    def start(self, *extra):
        return MPI.Grequest.Start(self.query, self.free, self.cancel, *extra)


@pytest.mark.mpich_big
def test_complete_then_wait(comm):
    rec = Recorder()
    g = rec.start((1, "two"), {"x": 3})
    assert isinstance(g, MPI.Grequest) and isinstance(g, MPI.Request)
    assert bool(g) and g != MPI.REQUEST_NULL
    assert g.Test() is False
    assert g.Get_status() is False
    g.Complete()
    assert g.Get_status() is True  # does not free it
    assert "free" not in rec.names()
    st = MPI.Status()
    assert g.Wait(st) is True
    assert st.Get_source() == 5 and st.Get_tag() == 7
    assert st.Get_error() == MPI.SUCCESS
    assert rec.names().count("free") == 1
    q = [c for c in rec.calls if c[0] == "query"][-1]
    assert q[1:] == ((1, "two"), {"x": 3})
    f = [c for c in rec.calls if c[0] == "free"][0]
    assert f[1:] == ((1, "two"), {"x": 3})
    assert rec.names()[-1] == "free"  # query before free
    assert "cancel" not in rec.names()
    assert g == MPI.REQUEST_NULL and not bool(g)


def test_no_args(comm):
    calls = []
    g = MPI.Grequest.Start(lambda st: calls.append("q") or st.Set_tag(11),
                           lambda: calls.append("f"),
                           lambda done: calls.append(("c", done)))
    g.Complete()
    st = MPI.Status()
    g.Wait(st)
    assert st.Get_tag() == 11
    assert calls.count("f") == 1 and "q" in calls


@pytest.mark.beyond_mpi4py  # mpi4py 3.1 spells the keyword 'kargs'
def test_keyword_args_kwargs():
    rec = Recorder(source=1, tag=2)
    g = MPI.Grequest.Start(rec.query, rec.free, rec.cancel, args=(9,),
                           kwargs={"k": "v"})
    g.Complete()
    st = MPI.Status()
    g.Wait(st)
    assert st.Get_tag() == 2
    assert ("free", (9,), {"k": "v"}) in rec.calls


def test_test_polls(comm):
    rec = Recorder(tag=21)
    g = rec.start()
    for _ in range(5):
        assert g.Test() is False
    g.Complete()
    st = MPI.Status()
    assert g.Test(st) is True
    assert st.Get_tag() == 21
    assert rec.names().count("free") == 1


def test_lowercase_wait_test(comm):
    rec = Recorder()
    g = rec.start()
    assert g.test() == (False, None)
    g.Complete()
    assert g.wait() is None
    rec2 = Recorder()
    g2 = rec2.start()
    g2.Complete()
    assert g2.test() == (True, None)


def test_complete_with_an_object(comm):
    # complete(obj): what the lowercase wait/test then return, once
    rec = Recorder()
    g = rec.start()
    result = {"answer": 42}
    g.complete(result)
    assert g.wait() is result
    g2 = Recorder().start()
    g2.complete(obj=[1, 2])
    assert g2.test() == (True, [1, 2])
    g3 = Recorder().start()
    g3.complete()
    assert g3.wait() is None
    # a completed one refuses a second completion; bad keywords are named
    with pytest.raises(MPI.Exception):
        g3.complete(1)
    g4 = Recorder().start()
    with pytest.raises(TypeError, match="unexpected keyword argument 'value'"):
        g4.complete(value=1)
    g4.Complete()
    g4.Wait()


def test_cancel_before_complete(comm):
    rec = Recorder()
    g = rec.start((4,), {})
    g.Cancel()
    assert ("cancel", False, (4,), {}) in rec.calls
    g.Complete()
    g.Wait()
    assert rec.names().count("free") == 1


def test_cancel_after_complete(comm):
    rec = Recorder()
    g = rec.start()
    g.Complete()
    g.Cancel()
    assert ("cancel", True, (), {}) in rec.calls
    g.Wait()


def test_query_sets_cancelled():
    def query(st):
        st.Set_cancelled(True)
        st.Set_source(0)
    g = MPI.Grequest.Start(query, lambda: None, lambda done: None)
    g.Cancel()
    g.Complete()
    st = MPI.Status()
    g.Wait(st)
    assert st.Is_cancelled()


@pytest.mark.mpich_big
def test_in_list_calls_with_messages(comm, rank):
    p = peer(comm)
    rec = Recorder(tag=33)
    g = rec.start()
    buf = np.zeros(3, "i4")
    reqs = [g, comm.Irecv(buf, source=p, tag=601),
            comm.Isend(np.full(3, rank, "i4"), dest=p, tag=601)]
    assert MPI.Request.Testall(reqs) is False  # g is not complete
    g.Complete()
    sts = []
    MPI.Request.Waitall(reqs, sts)
    assert sts[0].Get_tag() == 33 and sts[0].Get_source() == 5
    assert sts[1].Get_source() == p and sts[1].Get_tag() == 601
    assert list(buf) == [p] * 3
    assert rec.names().count("free") == 1
    gs = [Recorder(tag=40 + k).start() for k in range(3)]
    gs[1].Complete()
    st = MPI.Status()
    assert MPI.Request.Waitany(gs, st) == 1
    assert st.Get_tag() == 41
    gs[0].Complete()
    gs[2].Complete()
    assert sorted(MPI.Request.Waitsome(gs) or []) in ([0, 2], [0], [2])
    MPI.Request.Waitall(gs)
    assert all(r == MPI.REQUEST_NULL for r in gs)


def test_complete_from_other_thread_wakes_waiter(comm):
    assert MPI.Query_thread() == MPI.THREAD_MULTIPLE
    rec = Recorder(tag=44)
    g = rec.start()
    started = threading.Event()

    def completer():
        started.wait(30)
        time.sleep(0.05)  # let the main thread block in Wait
        g.Complete()

    t = threading.Thread(target=completer, daemon=True)
    t.start()
    started.set()
    st = MPI.Status()
    t0 = time.monotonic()
    assert g.Wait(st) is True
    assert time.monotonic() - t0 < 30
    t.join(30)
    assert not t.is_alive()
    assert st.Get_tag() == 44
    assert rec.names().count("free") == 1


def test_waiting_thread_woken_by_main(comm):
    rec = Recorder(tag=45)
    g = rec.start()
    out = []

    def waiter():
        st = MPI.Status()
        g.Wait(st)
        out.append(st.Get_tag())

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    time.sleep(0.05)
    assert out == []  # still waiting
    g.Complete()
    t.join(30)
    assert not t.is_alive()
    assert out == [45]


# --- errors -----------------------------------------------------------

class QueryError(Exception):
    pass


@pytest.mark.fastmpi_only
def test_query_exception_propagates(comm):
    def query(st):
        raise QueryError("from query_fn")
    freed = []
    g = MPI.Grequest.Start(query, lambda: freed.append(1), lambda d: None)
    g.Complete()
    with pytest.raises(QueryError, match="from query_fn"):
        g.Wait()
    assert freed == [1]  # freed all the same


@pytest.mark.fastmpi_only
def test_query_exception_propagates_from_list_call(comm):
    def query(st):
        raise QueryError("in a list")
    g = MPI.Grequest.Start(query, lambda: None, lambda d: None)
    g.Complete()
    with pytest.raises(QueryError):
        MPI.Request.Waitall([g])


@pytest.mark.fastmpi_only
def test_cancel_exception_propagates(comm):
    def cancel(done):
        raise QueryError("from cancel_fn")
    g = MPI.Grequest.Start(lambda st: None, lambda: None, cancel)
    with pytest.raises((QueryError, MPI.Exception)):
        g.Cancel()
    g.Complete()
    try:
        g.Wait()
    except QueryError:
        pass


def test_test_then_wait(comm):
    # as mpi4py's own suite does: Test() completes it, Wait() then returns
    g = Recorder().start()
    assert g.Test() is False
    g.Complete()
    st = MPI.Status()
    assert g.Test(st) is True
    assert g.Wait() is True and g.Wait(st) is True
    assert st.Get_source() == MPI.ANY_SOURCE


@pytest.mark.fastmpi_only
def test_wait_twice_and_complete_after_wait(comm):
    g = Recorder().start()
    g.Complete()
    g.Wait()
    assert g.Wait() is True          # a completed request: REQUEST_NULL
    with pytest.raises(MPI.Exception) as info:
        g.Complete()
    assert info.value.Get_error_class() == MPI.ERR_REQUEST


def test_bad_arguments():
    ok = (lambda st: None, lambda: None, lambda d: None)
    with pytest.raises(TypeError):
        MPI.Grequest.Start(*ok, 5)  # args must be a sequence
    with pytest.raises(TypeError):
        MPI.Grequest.Start(*ok, (), 5)  # kwargs must be a dict
    with pytest.raises(TypeError):
        MPI.Grequest.Start()  # query_fn is required


@pytest.mark.beyond_mpi4py  # mpi4py 3.1 swallows a non-callable free_fn
def test_non_callable_callbacks():
    # rejected by Start, or an error once MPI calls them
    for fns in ((3, lambda: None, lambda d: None),
                (lambda st: None, 4, lambda d: None)):
        try:
            g = MPI.Grequest.Start(*fns)
        except TypeError:
            continue
        g.Complete()
        with pytest.raises((TypeError, MPI.Exception)):
            g.Wait()
