"""Matched probes: Comm.Mprobe/Improbe/mprobe/improbe and Message.Recv/
Irecv/recv/irecv, MESSAGE_NULL and MESSAGE_NO_PROC, truncation and bad
inputs.

Each rank Isends to peer(comm) first and then probes for the peer's message;
a rank paired with itself needs no helper thread."""
import gc
import time
import weakref

import numpy as np
import pytest

from _impl import MPI, peer

DEADLINE = 60.0


def poll_improbe(comm, lower=False, **kw):
    probe = comm.improbe if lower else comm.Improbe
    deadline = time.monotonic() + DEADLINE
    while True:
        msg = probe(**kw)
        if msg is not None:
            return msg
        assert time.monotonic() < deadline, "message never arrived"
        time.sleep(0.0002)


def test_message_null():
    m = MPI.Message()
    assert isinstance(m, MPI.Message)
    assert not bool(m) and m == MPI.MESSAGE_NULL
    assert not bool(MPI.MESSAGE_NULL)
    assert MPI.MESSAGE_NO_PROC != MPI.MESSAGE_NULL


def test_message_constructor_copies():
    for m in (MPI.Message(None), MPI.Message(MPI.MESSAGE_NULL),
              MPI.Message(message=MPI.Message())):
        assert type(m) is MPI.Message and not m and m == MPI.MESSAGE_NULL
        assert m is not MPI.MESSAGE_NULL
    m = MPI.Message(MPI.MESSAGE_NO_PROC)
    assert m and m == MPI.MESSAGE_NO_PROC and m != MPI.MESSAGE_NULL
    assert m.py2f() == MPI.MESSAGE_NO_PROC.py2f()
    assert bool(MPI.MESSAGE_NO_PROC) is True
    assert bool(MPI.MESSAGE_NULL) is False


def test_message_no_proc_constant_stays_after_receives():
    # as mpi4py: MPI.MESSAGE_NO_PROC itself stays; a copy becomes NULL
    noproc = MPI.MESSAGE_NO_PROC
    assert noproc.recv() is None and noproc
    assert noproc.irecv().wait() is None and noproc
    noproc.Recv(bytearray(1))
    noproc.Irecv(bytearray(1)).Wait()
    assert noproc == MPI.MESSAGE_NO_PROC and noproc != MPI.MESSAGE_NULL
    m = MPI.Message(MPI.MESSAGE_NO_PROC)
    assert m.recv() is None and m == MPI.MESSAGE_NULL and not m
    m = MPI.Message(MPI.MESSAGE_NO_PROC)
    req = m.irecv()
    assert m == MPI.MESSAGE_NULL and req != MPI.REQUEST_NULL
    assert req.wait() is None and req == MPI.REQUEST_NULL


@pytest.mark.beyond_mpi4py     # mpi4py 3.1's copy keeps a stale handle
def test_message_copy_of_a_matched_message(comm, rank):
    # Message(m) stands for the same match: either one receives it, once
    p = peer(comm)
    for via_copy in (True, False):
        sreq = comm.isend(("copy", rank), dest=p, tag=505)
        m = poll_improbe(comm, lower=True, source=p, tag=505)
        c = MPI.Message(m)
        assert c == m and c and c.py2f() == m.py2f()
        first, second = (c, m) if via_copy else (m, c)
        assert first.recv() == ("copy", p)
        assert not m and not c and m == c == MPI.MESSAGE_NULL
        with pytest.raises(MPI.Exception):
            second.recv()
        sreq.wait()
    # a copy dropped first leaves the match with the original
    sreq = comm.Isend(b"kept", dest=p, tag=506)
    m = poll_improbe(comm, source=p, tag=506)
    c = MPI.Message(m)
    del c
    gc.collect()
    buf = bytearray(4)
    m.Recv(buf)
    assert buf == b"kept" and m == MPI.MESSAGE_NULL
    sreq.Wait()


def test_message_constructor_bad_arguments():
    for bad in (5, "m", MPI.REQUEST_NULL, MPI.Status()):
        with pytest.raises(TypeError):
            MPI.Message(bad)
    with pytest.raises(TypeError):
        MPI.Message(MPI.MESSAGE_NULL, MPI.MESSAGE_NULL)


@pytest.mark.mpich_big
def test_mprobe_recv(comm, rank):
    p = peer(comm)
    sreq = comm.Isend(np.arange(13, dtype="f8") + rank, dest=p, tag=501)
    st = MPI.Status()
    msg = comm.Mprobe(source=p, tag=501, status=st)
    assert isinstance(msg, MPI.Message)
    assert bool(msg) and msg != MPI.MESSAGE_NULL
    assert st.Get_source() == p and st.Get_tag() == 501
    assert st.Get_count(MPI.DOUBLE) == 13
    buf = np.empty(st.Get_count(MPI.DOUBLE))
    st2 = MPI.Status()
    assert msg.Recv(buf, st2) is None
    assert np.array_equal(buf, np.arange(13, dtype="f8") + p)
    assert st2.Get_source() == p and st2.Get_tag() == 501
    assert st2.Get_count(MPI.DOUBLE) == 13
    assert msg == MPI.MESSAGE_NULL and not bool(msg)
    sreq.Wait()


@pytest.fixture
def private(comm):
    """A duplicate of COMM_WORLD: ANY_SOURCE/ANY_TAG probes there cannot
    match a message some other test left behind."""
    d = comm.Dup()
    yield d
    d.Free()


def test_mprobe_defaults_and_specs(private, rank):
    comm = private
    p = peer(comm)
    sreq = comm.Isend([np.full(6, rank, "i4"), MPI.INT], dest=p, tag=502)
    st = MPI.Status()
    msg = comm.Mprobe(status=st)  # ANY_SOURCE, ANY_TAG
    assert st.Get_source() == p and st.Get_tag() == 502
    buf = np.full(10, -1, "i4")
    msg.Recv([buf, 6, MPI.INT])
    assert list(buf) == [p] * 6 + [-1] * 4
    sreq.Wait()


def test_mprobe_keeps_message_from_other_receives(comm, rank):
    # once matched, a message cannot be taken by a receive or a probe
    p = peer(comm)
    sreq = comm.Isend(b"matched!", dest=p, tag=503)
    msg = comm.Mprobe(source=p, tag=503)
    assert comm.Iprobe(source=p, tag=503) is False
    assert comm.Improbe(source=p, tag=503) is None
    buf = bytearray(8)
    msg.Recv(buf)
    assert buf == b"matched!"
    sreq.Wait()


def test_improbe_and_message_irecv(comm, rank):
    p = peer(comm)
    assert comm.Improbe(source=p, tag=504) is None  # nothing sent yet
    comm.Barrier()
    sreq = comm.Isend(np.full(5, rank + 0.5), dest=p, tag=504)
    st = MPI.Status()
    msg = poll_improbe(comm, source=p, tag=504, status=st)
    assert isinstance(msg, MPI.Message)
    assert st.Get_source() == p and st.Get_count(MPI.DOUBLE) == 5
    buf = np.zeros(5)
    req = msg.Irecv(buf)
    assert isinstance(req, MPI.Request)
    assert msg == MPI.MESSAGE_NULL
    st2 = MPI.Status()
    req.Wait(st2)
    assert list(buf) == [p + 0.5] * 5
    assert st2.Get_source() == p and st2.Get_tag() == 504
    sreq.Wait()


@pytest.mark.mpich_big
def test_mprobe_objects(comm, rank):
    p = peer(comm)
    sreq = comm.isend({"from": rank, "l": list(range(10))}, dest=p, tag=505)
    st = MPI.Status()
    msg = comm.mprobe(source=p, tag=505, status=st)
    assert isinstance(msg, MPI.Message)
    assert st.Get_source() == p and st.Get_tag() == 505
    assert st.Get_count() > 0
    st2 = MPI.Status()
    assert msg.recv(st2) == {"from": p, "l": list(range(10))}
    assert st2.Get_source() == p
    assert msg == MPI.MESSAGE_NULL
    sreq.wait()


def test_improbe_objects_irecv(comm, rank):
    p = peer(comm)
    assert comm.improbe(source=p, tag=506) is None
    comm.Barrier()
    sreq = comm.isend(("obj", rank), dest=p, tag=506)
    msg = poll_improbe(comm, lower=True, source=p, tag=506)
    req = msg.irecv()
    assert isinstance(req, MPI.Request)
    assert req.wait() == ("obj", p)
    assert msg == MPI.MESSAGE_NULL
    sreq.wait()


def test_mprobe_large_object(comm, rank):
    p = peer(comm)
    arr = np.arange(600_000, dtype="f8") + rank  # 4.8 MB
    sreq = comm.isend({"a": arr}, dest=p, tag=507)
    got = comm.mprobe(source=p, tag=507).recv()
    assert np.array_equal(got["a"], np.arange(600_000, dtype="f8") + p)
    sreq.wait()
    sreq = comm.isend(b"x" * 3_000_000, dest=p, tag=508)
    got = poll_improbe(comm, lower=True, source=p, tag=508).irecv().wait()
    assert got == b"x" * 3_000_000
    sreq.wait()


@pytest.mark.mpich_big
def test_mprobe_any_source_at_root(comm, rank, size):
    sreq = comm.isend(["to root", rank], dest=0, tag=509)
    if rank == 0:
        seen = []
        for _ in range(size):
            st = MPI.Status()
            msg = comm.mprobe(source=MPI.ANY_SOURCE, tag=509, status=st)
            obj = msg.recv()
            assert obj == ["to root", st.Get_source()]
            seen.append(st.Get_source())
        assert sorted(seen) == list(range(size))
    sreq.wait()


def test_message_no_proc(comm):
    st = MPI.Status()
    msg = comm.Mprobe(source=MPI.PROC_NULL, status=st)
    assert msg == MPI.MESSAGE_NO_PROC
    assert st.Get_source() == MPI.PROC_NULL
    buf = np.full(3, 9.0)
    st2 = MPI.Status()
    msg.Recv(buf, st2)
    assert list(buf) == [9.0] * 3
    assert st2.Get_source() == MPI.PROC_NULL and st2.Get_count() == 0
    assert msg == MPI.MESSAGE_NULL
    msg = comm.Improbe(source=MPI.PROC_NULL)
    assert msg == MPI.MESSAGE_NO_PROC
    st3 = MPI.Status()
    msg.Irecv(buf).Wait(st3)
    assert st3.Get_source() == MPI.PROC_NULL
    msg = comm.mprobe(source=MPI.PROC_NULL)
    assert msg == MPI.MESSAGE_NO_PROC
    st4 = MPI.Status()
    assert msg.recv(st4) is None
    assert st4.Get_source() == MPI.PROC_NULL
    msg = comm.improbe(source=MPI.PROC_NULL)
    assert msg == MPI.MESSAGE_NO_PROC
    assert msg.irecv().wait() is None


# --- errors -----------------------------------------------------------

@pytest.mark.fastmpi_only  # mpi4py 3.1.4 lets MPI abort the job here
def test_recv_twice_raises(comm, rank):
    p = peer(comm)
    sreq = comm.Isend(b"once", dest=p, tag=510)
    msg = comm.Mprobe(source=p, tag=510)
    buf = bytearray(4)
    msg.Recv(buf)
    assert buf == b"once"
    for call in (lambda: msg.Recv(bytearray(4)), lambda: msg.Irecv(buf),
                 msg.recv, msg.irecv,
                 lambda: MPI.MESSAGE_NULL.Recv(bytearray(4)),
                 MPI.MESSAGE_NULL.recv, MPI.Message().irecv):
        with pytest.raises(MPI.Exception) as info:
            call()
        assert info.value.Get_error_class() != MPI.SUCCESS
        assert str(info.value)
    sreq.Wait()
    sreq = comm.isend("once", dest=p, tag=511)
    msg = comm.mprobe(source=p, tag=511)
    assert msg.recv() == "once"
    with pytest.raises(MPI.Exception):
        msg.recv()
    sreq.wait()


def test_message_recv_truncate(comm, rank):
    # the message is matched (it has arrived): MPI reports truncation
    p = peer(comm)
    sreq = comm.Isend(np.arange(16, dtype="f8"), dest=p, tag=512)
    msg = comm.Mprobe(source=p, tag=512)
    with pytest.raises(MPI.Exception) as info:
        msg.Recv(np.zeros(8))
    assert info.value.Get_error_class() == MPI.ERR_TRUNCATE
    sreq.Wait()
    comm.Barrier()
    assert comm.Iprobe(source=p, tag=512) is False  # not left behind


@pytest.mark.beyond_mpi4py
def test_message_recv_truncate_large_no_overflow(comm, rank):
    # above every eager limit, into the first 8 doubles of a larger array
    p = peer(comm)
    sreq = comm.Isend(np.arange(4000, dtype="f8"), dest=p, tag=513)
    msg = comm.Mprobe(source=p, tag=513)
    arr = np.full(8000, -1.0)
    with pytest.raises(MPI.Exception) as info:
        msg.Recv([arr, 8, MPI.DOUBLE])
    assert info.value.Get_error_class() == MPI.ERR_TRUNCATE
    sreq.Wait()
    assert (arr[8:] == -1.0).all()


def test_message_recv_bad_buffer_keeps_message(comm, rank):
    p = peer(comm)
    sreq = comm.Isend(b"abcd", dest=p, tag=514)
    msg = comm.Mprobe(source=p, tag=514)
    with pytest.raises((BufferError, TypeError)):
        msg.Recv(b"read")
    with pytest.raises(TypeError):
        msg.Recv(3)
    assert bool(msg)  # still there: receive it properly
    buf = bytearray(4)
    msg.Recv(buf)
    assert buf == b"abcd"
    sreq.Wait()


def test_mprobe_bad_source_tag(comm, rank, size):
    for call in (comm.Mprobe, comm.Improbe, comm.mprobe, comm.improbe):
        with pytest.raises(MPI.Exception) as info:
            call(source=size + 2, tag=0)
        assert info.value.Get_error_class() == MPI.ERR_RANK
        with pytest.raises(MPI.Exception) as info:
            call(source=rank, tag=-5)
        assert info.value.Get_error_class() == MPI.ERR_TAG
        with pytest.raises(TypeError):
            call(source="0")
    with pytest.raises(TypeError):
        comm.Mprobe(source=MPI.PROC_NULL, status=5)


@pytest.mark.fastmpi_only  # mpi4py 3.1.4 lets Open MPI abort the job here
def test_mprobe_on_freed_comm(comm):
    d = comm.Dup()
    d.Free()
    with pytest.raises(MPI.Exception) as info:
        d.Improbe()
    assert info.value.Get_error_class() == MPI.ERR_COMM


@pytest.mark.fastmpi_only
def test_message_irecv_keeps_buffer_alive(comm, rank):
    p = peer(comm)
    sreq = comm.Isend(np.full(1 << 17, rank + 1.0), dest=p, tag=515)
    msg = comm.Mprobe(source=p, tag=515)
    arr = np.zeros(1 << 17)
    ref = weakref.ref(arr)
    req = msg.Irecv(arr)
    del arr
    gc.collect()
    assert ref() is not None
    deadline = time.monotonic() + DEADLINE
    while not req.Get_status():
        assert time.monotonic() < deadline
    assert (ref() == p + 1.0).all()
    req.Wait()
    sreq.Wait()
    del req
    gc.collect()
    assert ref() is None
