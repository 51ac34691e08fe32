"""util.pkl5: mpi4py's communicator wrappers (pickle protocol 5), which
programs import as ``from mpi4py.util import pkl5``."""
import pickle
import time

import numpy as np
import pytest

from _impl import IMPL, MPI, peer

if IMPL == "mpi4py":
    from mpi4py.util import pkl5
else:
    from fastmpi.util import pkl5

BIG = np.arange(1 << 17, dtype="f8")        # 1 MiB: out-of-band
OBJS = [None, True, -7, 2**63 - 1, 3.14, 1 + 2j, "pkl5", (1, "a"),
        [1, [2]], {"k": 1}, {1, 2}, np.arange(5, dtype="i4"), BIG,
        [BIG, BIG[:3]]]


@pytest.fixture
def pcomm(comm):
    c = pkl5.Intracomm(comm)
    yield c


def same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        return all(same(x, y) for x, y in zip(a, b))
    return a == b and type(a) is type(b)


def exchange(c, obj, tag, send="send"):
    """send/recv with the peer; a self-paired rank isends to itself."""
    rank = c.Get_rank()
    p = peer(c)
    if p == rank:
        req = c.isend(obj, rank, tag)
        got = c.recv(None, rank, tag)
        req.wait()
        return got
    if rank < p:
        getattr(c, send)(obj, p, tag)
        return c.recv(None, p, tag)
    got = c.recv(None, p, tag)
    getattr(c, send)(obj, p, tag)
    return got


def test_wrapper_types(pcomm, comm):
    assert isinstance(pcomm, pkl5.Comm)
    assert isinstance(pcomm, MPI.Intracomm)
    assert pcomm.Get_rank() == comm.Get_rank()
    assert pcomm.Get_size() == comm.Get_size()
    assert issubclass(pkl5.Intercomm, pkl5.Comm)
    assert issubclass(pkl5.Intercomm, MPI.Intercomm)
    d = pcomm.Dup()
    try:
        assert type(d) is pkl5.Intracomm
    finally:
        d.Free()


@pytest.mark.parametrize("send", ["send", "ssend"])
def test_send_recv(pcomm, send):
    for i, obj in enumerate(OBJS):
        assert same(obj, exchange(pcomm, obj, 10 + i, send))
    pcomm.send("x", MPI.PROC_NULL)
    assert pcomm.recv(None, MPI.PROC_NULL, 0) is None


def test_bsend_ibsend(pcomm, rank):
    buf = bytearray((1 << 21) + MPI.BSEND_OVERHEAD)
    MPI.Attach_buffer(buf)
    try:
        for i, obj in enumerate(OBJS[:8]):
            assert same(obj, exchange(pcomm, obj, 30 + i, "bsend"))
        req = pcomm.ibsend((1, 2), rank, 40)
        assert pcomm.recv(None, rank, 40) == (1, 2)
        req.wait()
    finally:
        MPI.Detach_buffer()


@pytest.mark.parametrize("isend", ["isend", "issend", "ibsend"])
def test_nonblocking_sends(pcomm, rank, size, isend):
    # room for a few BIG messages not yet delivered
    buf = bytearray((1 << 23) + 16 * MPI.BSEND_OVERHEAD)
    if isend == "ibsend":
        MPI.Attach_buffer(buf)
    try:
        nxt, prv = (rank + 1) % size, (rank - 1) % size
        for i, obj in enumerate(OBJS):
            req = getattr(pcomm, isend)(obj, nxt, 50 + i)
            assert isinstance(req, pkl5.Request) and req
            assert same(obj, pcomm.recv(None, prv, 50 + i))
            assert req.wait() is None
            assert not req
            assert req.test() == (True, None)
        req = getattr(pcomm, isend)("x", MPI.PROC_NULL)
        assert req
        req.wait()
        assert not req
    finally:
        if isend == "ibsend":
            MPI.Detach_buffer()


def test_irecv_raises(pcomm):
    with pytest.raises(RuntimeError):
        pcomm.irecv(None, MPI.PROC_NULL, 0)


def test_sendrecv(pcomm, rank, size):
    nxt, prv = (rank + 1) % size, (rank - 1) % size
    for i, obj in enumerate(OBJS):
        st = MPI.Status()
        got = pcomm.sendrecv(obj, nxt, 60 + i, None, prv, 60 + i, st)
        assert same(obj, got)
        assert (st.source, st.tag, st.error) == (prv, 60 + i, 0)
    assert pcomm.sendrecv("x", MPI.PROC_NULL, 0, None, MPI.PROC_NULL,
                          0) is None


def test_matched_probe(pcomm, rank):
    comm = pcomm.Dup()
    try:
        m = comm.mprobe(MPI.PROC_NULL)
        assert isinstance(m, pkl5.Message)
        assert m == MPI.MESSAGE_NO_PROC and m != None  # noqa: E711
        assert m.recv() is None
        assert m == MPI.MESSAGE_NULL and not m
        assert comm.improbe(rank, 80) is None
        assert pkl5.Message.iprobe(comm, rank, 80) is None
        for i, obj in enumerate(OBJS):
            req = comm.issend(obj, rank, 80)
            st = MPI.Status()
            m = comm.mprobe(MPI.ANY_SOURCE, MPI.ANY_TAG, st)
            assert (st.source, st.tag) == (rank, 80)
            assert m and m == pkl5.Message(m)
            if i % 2:
                assert same(obj, m.recv())
            else:
                rreq = m.irecv()
                assert isinstance(rreq, pkl5.Request)
                st = MPI.Status()
                assert same(obj, rreq.wait(st))
                assert st.Get_count() > 0 and not rreq
            assert not m
            req.wait()
            req = comm.isend(obj, rank, 81)
            while not comm.iprobe(rank, 81):
                pass
            m = comm.improbe(rank, 81) if i % 2 else \
                pkl5.Message.iprobe(comm, rank, 81)
            assert same(obj, m.recv())
            req.wait()
            req = comm.isend(obj, rank, 82)
            assert same(obj, pkl5.Message.probe(comm, rank, 82).recv())
            req.wait()
    finally:
        comm.Free()


def test_request_and_message_objects():
    r = pkl5.Request()
    assert not r and r == pkl5.Request() and r == MPI.REQUEST_NULL
    r = pkl5.Request(MPI.REQUEST_NULL)
    assert not r and r == MPI.REQUEST_NULL and r != None  # noqa: E711
    m = pkl5.Message()
    assert not m and m == pkl5.Message() and m == MPI.MESSAGE_NULL
    m = pkl5.Message(MPI.MESSAGE_NO_PROC)
    assert m and m == MPI.MESSAGE_NO_PROC and m != MPI.MESSAGE_NULL


def test_testall_waitall(pcomm, rank, size):
    comm = pcomm.Dup()
    try:
        nxt, prv = (rank + 1) % size, (rank - 1) % size
        reqs = [comm.issend(obj, nxt, 90) for obj in OBJS[:6]]
        assert pkl5.Request.testall(reqs) == (False, None)
        comm.Barrier()
        for obj in OBJS[:6]:
            assert same(obj, comm.recv(None, prv, 90))
        assert pkl5.Request.waitall(reqs) == [None] * 6
        flag, objs = pkl5.Request.testall(reqs)
        assert flag
        sends = [comm.issend(obj, nxt, 91) for obj in OBJS]
        recvs = [comm.mprobe(prv, 91).irecv() for _ in OBJS]
        statuses = [MPI.Status()]
        got = pkl5.Request.waitall(recvs, statuses)
        assert all(same(a, b) for a, b in zip(OBJS, got))
        assert len(statuses) == len(OBJS)
        assert all(s.source == prv and s.tag == 91 for s in statuses)
        statuses = (MPI.Status(),)      # any sequence: filled, not grown
        pkl5.Request.waitall(sends, statuses)
        assert statuses[0].error == 0
    finally:
        comm.Free()


def test_cancel_and_free(pcomm, rank):
    comm = pcomm.Dup()
    try:
        req = comm.issend("x", rank, 95)
        assert req.test() == (False, None)
        req.cancel()
        st = MPI.Status()
        # a cancelled send completes soon; one MPI cannot cancel (Open
        # MPI's) completes only when received
        deadline = time.monotonic() + 0.5
        while not req.get_status(st) and time.monotonic() < deadline:
            time.sleep(0.001)
        if st.Is_cancelled():
            req.Free()
        else:
            assert comm.recv(None, rank, 95) == "x"
            req.wait()
        assert not req and req == MPI.REQUEST_NULL
    finally:
        comm.Free()


def test_collectives(pcomm, rank, size):
    for obj in OBJS:
        for root in range(size):
            assert same(obj, pcomm.bcast(obj if rank == root else None,
                                         root))
    got = pcomm.gather((rank, BIG), root=size - 1)
    if rank == size - 1:
        assert [g[0] for g in got] == list(range(size))
        assert all(np.array_equal(g[1], BIG) for g in got)
    else:
        assert got is None
    items = [(r, BIG[:r + 1]) for r in range(size)] if rank == 0 else None
    r, a = pcomm.scatter(items, root=0)
    assert r == rank and np.array_equal(a, BIG[:rank + 1])
    got = pcomm.allgather({"r": rank})
    assert got == [{"r": r} for r in range(size)]
    got = pcomm.alltoall([(rank, r, BIG[:2]) for r in range(size)])
    assert [g[:2] for g in got] == [(r, rank) for r in range(size)]


def test_bad_root(pcomm, size):
    with pytest.raises(MPI.Exception):
        pcomm.bcast(None, root=size)


def test_intercomm_bcast(comm, rank, size):
    if size < 2:
        pytest.skip("an intercommunicator needs two groups")
    color = 0 if rank < size // 2 else 1
    local = comm.Split(color, key=0)
    inter = local.Create_intercomm(0, comm, size // 2 if color == 0 else 0)
    local.Free()
    try:
        ic = pkl5.Intercomm(inter)
        assert isinstance(ic, pkl5.Comm) and isinstance(ic, MPI.Intercomm)
        obj = {"from": 0, "a": BIG}
        if color == 0:
            root = MPI.ROOT if ic.Get_rank() == 0 else MPI.PROC_NULL
            assert ic.bcast(obj if root == MPI.ROOT else None, root) is None
        else:
            got = ic.bcast(None, 0)
            assert got["from"] == 0 and np.array_equal(got["a"], BIG)
        with pytest.raises(MPI.Exception):
            ic.bcast(None, root=ic.Get_remote_size())
    finally:
        inter.Free()


class Counting:
    def __init__(self):
        self.dumps_calls = self.loads_calls = 0

    def dumps(self, obj, *args, **kwargs):
        self.dumps_calls += 1
        return pickle.dumps(obj, *args, **kwargs)

    def loads(self, data, *args, **kwargs):
        self.loads_calls += 1
        return pickle.loads(data, *args, **kwargs)


@pytest.fixture
def own_pickle():
    saved = pkl5.pickle
    yield
    pkl5.pickle = saved


def test_pickle_object(own_pickle):
    p = pkl5.Pickle()
    assert p.PROTOCOL == pickle.HIGHEST_PROTOCOL
    data, bufs = p.dumps(BIG)
    assert len(bufs) == 1 and np.array_equal(p.loads(data, bufs), BIG)
    for protocol in [None, -1, 0, 4, 5]:
        p.PROTOCOL = protocol
        for threshold in (-1, 0, 64, 1 << 30):
            p.THRESHOLD = threshold
            for n in (0, 16, 100):
                a = np.full(n, 3, dtype="i4")
                data, bufs = p.dumps(a)
                assert np.array_equal(p.loads(data, bufs), a)
                proto = 5 if protocol is None or protocol < 0 else protocol
                oob = proto >= 5 and a.nbytes >= threshold
                assert len(bufs) == (1 if oob else 0)


def test_changed_pkl5_pickle(pcomm, own_pickle):
    c = Counting()
    pkl5.pickle = pkl5.Pickle(c.dumps, c.loads)
    for i, obj in enumerate(OBJS):
        assert same(obj, exchange(pcomm, obj, 100 + i))
    assert c.dumps_calls == c.loads_calls == len(OBJS)
    pkl5.pickle = pkl5.Pickle()
    pkl5.pickle.PROTOCOL = 4
    pkl5.pickle.THRESHOLD = 0
    for i, obj in enumerate(OBJS):
        assert same(obj, exchange(pcomm, obj, 120 + i))
        assert same(obj, pcomm.bcast(obj, 0))


def test_threshold_on_one_side_only(pcomm, rank, own_pickle):
    # what one rank's pkl5.pickle made, another's rebuilds
    pkl5.pickle = pkl5.Pickle()
    if rank % 2 == 0:
        pkl5.pickle.THRESHOLD = 0
    for i, obj in enumerate(OBJS):
        assert same(obj, exchange(pcomm, obj, 140 + i))
    got = pcomm.allgather((rank, BIG[:8]))
    assert [g[0] for g in got] == list(range(pcomm.Get_size()))
