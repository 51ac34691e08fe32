"""Nonblocking point-to-point with Python objects: isend/ibsend/issend,
irecv (with and without a buffer), wait/test on them, objects of any size.

Each rank posts irecv from peer(comm) before its isend, so a rank paired
with itself needs no helper thread."""
import gc
import pickle
import threading
import time

import numpy as np
import pytest

from _impl import (MPI, Drain, check_proc_null_status, peer,
                   wait_for_self_message)

SMALL = [None, 0, -1, 2**70, 3.5, 1 + 2j, "text", b"bytes", (1, "a"),
         [1, [2, [3]]], {"a": 7, "b": 3.14}, {1, 2, 3}, True]


def obj_exchange(comm, obj, tag, mode="isend", status=None, buf=None):
    """irecv from the peer (into buf if given), `mode`(obj) to it; wait for
    both.  Returns (received object, peer)."""
    p = peer(comm)
    rreq = comm.irecv(buf, source=p, tag=tag) if buf is not None else \
        comm.irecv(source=p, tag=tag)
    sreq = getattr(comm, mode)(obj, dest=p, tag=tag)
    assert isinstance(rreq, MPI.Request) and isinstance(sreq, MPI.Request)
    got = rreq.wait(status)
    assert sreq.wait() is None
    return got, p


@pytest.mark.parametrize("obj", SMALL,
                         ids=[type(o).__name__ + str(i)
                              for i, o in enumerate(SMALL)])
def test_roundtrip(comm, obj):
    got, _ = obj_exchange(comm, obj, 301)
    assert got == obj and type(got) is type(obj)


@pytest.mark.mpich_big
@pytest.mark.parametrize("mode", ["isend", "issend"])
def test_modes_status(comm, rank, mode):
    st = MPI.Status()
    got, p = obj_exchange(comm, {"from": rank, "mode": mode}, 302, mode, st)
    assert got == {"from": p, "mode": mode}
    assert st.Get_source() == p and st.Get_tag() == 302
    assert st.Get_count() > 0  # the pickled size in bytes


def test_ibsend(comm, rank):
    buf = bytearray(1 << 16)
    MPI.Attach_buffer(buf)
    try:
        got, p = obj_exchange(comm, ["b", rank], 303, "ibsend")
        assert got == ["b", p]
    finally:
        MPI.Detach_buffer()


def test_issend_completes_only_when_matched(comm, rank):
    p = peer(comm)
    sreq = comm.issend(("sync", rank), dest=p, tag=304)
    for _ in range(20):
        flag, obj = sreq.test()
        assert flag is False and obj is None
    comm.Barrier()  # the peer posts its receive only after this
    rreq = comm.irecv(source=p, tag=304)
    assert MPI.Request.waitall([sreq, rreq]) == [None, ("sync", p)]


def test_test_polls_to_object(comm, rank):
    p = peer(comm)
    rreq = comm.irecv(source=p, tag=305)
    sreq = comm.isend({"t": rank}, dest=p, tag=305)
    deadline = time.monotonic() + 60
    st = MPI.Status()
    while True:
        flag, obj = rreq.test(st)
        if flag:
            break
        assert obj is None
        assert time.monotonic() < deadline
    assert obj == {"t": p}
    assert st.Get_source() == p and st.Get_tag() == 305
    assert rreq == MPI.REQUEST_NULL
    sreq.wait()


@pytest.fixture
def private(comm):
    """A duplicate of COMM_WORLD: ANY_SOURCE/ANY_TAG receives there cannot
    match a message some other test left behind."""
    d = comm.Dup()
    yield d
    d.Free()


def test_irecv_any_source_any_tag(private, rank, size):
    comm = private
    # everybody sends to rank 0 with tag 340 + rank
    reqs = []
    if rank == 0:
        reqs = [comm.irecv(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG)
                for _ in range(size)]
    sreq = comm.isend(("from", rank), dest=0, tag=340 + rank)
    sts = []
    out = MPI.Request.waitall(reqs + [sreq], sts)
    if rank == 0:
        got = out[:size]
        assert sorted(got) == [("from", r) for r in range(size)]
        for obj, st in zip(got, sts):
            assert st.Get_source() == obj[1]
            assert st.Get_tag() == 340 + obj[1]


def test_proc_null(comm):
    assert comm.isend("x", dest=MPI.PROC_NULL).wait() is None
    assert comm.issend("x", dest=MPI.PROC_NULL).wait() is None
    st = MPI.Status()
    assert comm.irecv(source=MPI.PROC_NULL).wait(st) is None
    check_proc_null_status(st)
    assert comm.irecv(bytearray(8), source=MPI.PROC_NULL).wait(st) is None
    check_proc_null_status(st)


def test_isend_object_last_reference_dropped(comm, rank):
    p = peer(comm)
    rreq = comm.irecv(source=p, tag=311)
    obj = {"data": list(range(100)), "r": rank}
    sreq = comm.isend(obj, dest=p, tag=311)
    del obj
    gc.collect()
    assert rreq.wait() == {"data": list(range(100)), "r": p}
    sreq.wait()


def test_irecv_into_explicit_buffer(comm, rank):
    # an explicit buffer large enough: works in every implementation
    obj = {"payload": bytes(100_000), "r": rank}
    buf = bytearray(len(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)) + 4096)
    got, p = obj_exchange(comm, obj, 312, buf=buf)
    assert got == {"payload": bytes(100_000), "r": p}


def test_irecv_into_explicit_buffer_small_object(comm, rank):
    got, p = obj_exchange(comm, [rank, "x"], 313, buf=bytearray(256))
    assert got == [p, "x"]
    got, p = obj_exchange(comm, [rank, "y"], 313,
                          buf=memoryview(bytearray(256)))
    assert got == [p, "y"]


@pytest.mark.mpich_big
def test_irecv_buffer_too_small_truncates(comm, rank):
    p = peer(comm)
    # keep it small: Open MPI 4.1.4 writes a truncated message larger than
    # its eager limit (~1 KB to oneself, ~4 KB between ranks) past the end
    # of the receive buffer (reproduced in C)
    sreq = comm.isend(b"z" * 100, dest=p, tag=314)
    wait_for_self_message(comm, p, 314, always=True)  # Open MPI, see _impl
    rreq = comm.irecv(bytearray(10), source=p, tag=314)
    with pytest.raises(MPI.Exception) as info:
        rreq.wait()
    assert info.value.Get_error_class() == MPI.ERR_TRUNCATE
    sreq.wait()
    got, _ = obj_exchange(comm, "after", 315)  # both sides still work
    assert got == "after"


@pytest.mark.beyond_mpi4py
def test_irecv_buffer_too_small_large_message_no_overflow(comm, rank):
    # 100 KB, above every eager limit, into the first 10 bytes of a larger
    # bytearray: ERR_TRUNCATE, and nothing written past those 10 bytes
    # (Open MPI 4.1.4 ob1 writes the whole message there, see README)
    p = peer(comm)
    sreq = comm.isend(b"z" * 100_000, dest=p, tag=319)
    wait_for_self_message(comm, p, 319, always=True)
    area = bytearray(b"G") * 300_000
    rreq = comm.irecv(memoryview(area)[:10], source=p, tag=319)
    with pytest.raises(MPI.Exception) as info:
        rreq.wait()
    assert info.value.Get_error_class() == MPI.ERR_TRUNCATE
    sreq.wait()
    assert area[10:] == b"G" * (300_000 - 10)


def test_irecv_bad_buffer(comm, rank):
    with pytest.raises((TypeError, BufferError)):
        comm.irecv(b"read-only", source=rank, tag=316)
    with pytest.raises(TypeError):
        comm.irecv(3.5, source=rank, tag=316)


def test_bad_dest_source_tag(comm, rank, size):
    for dest in (size, -7):
        with pytest.raises(MPI.Exception) as info:
            comm.isend("x", dest=dest, tag=0)
        assert info.value.Get_error_class() == MPI.ERR_RANK
    with pytest.raises(MPI.Exception) as info:
        comm.issend("x", dest=size + 1, tag=0)
    assert info.value.Get_error_class() == MPI.ERR_RANK
    with pytest.raises(MPI.Exception) as info:
        comm.irecv(source=size, tag=0)
    assert info.value.Get_error_class() == MPI.ERR_RANK
    with Drain(comm, rank):
        with pytest.raises(MPI.Exception) as info:
            comm.isend("x", dest=rank, tag=-3)
        assert info.value.Get_error_class() == MPI.ERR_TAG
        with pytest.raises(TypeError):
            comm.isend("x", dest="0", tag=0)
        with pytest.raises(TypeError):
            comm.isend("x", dest=rank, tag="t")
    with pytest.raises(MPI.Exception) as info:
        comm.irecv(source=rank, tag=-3)
    assert info.value.Get_error_class() == MPI.ERR_TAG


class Unpicklable:
    def __reduce__(self):
        raise ZeroDivisionError("refuse to pickle")


def test_unpicklable_propagates(comm, rank):
    # nonblocking: nothing can block, so no Drain thread is needed; and
    # nothing may have been sent
    with pytest.raises(ZeroDivisionError, match="refuse to pickle"):
        comm.isend(Unpicklable(), dest=rank, tag=317)
    with pytest.raises(ZeroDivisionError):
        comm.issend([1, Unpicklable()], dest=rank, tag=317)
    with pytest.raises((TypeError, pickle.PicklingError, AttributeError)):
        comm.isend(threading.Lock(), dest=rank, tag=317)
    assert comm.iprobe(source=rank, tag=317) is False


class BadUnpickle:
    def __reduce__(self):
        return (_raise_on_load, ())


def _raise_on_load():
    raise KeyError("unpickle failed")


def test_unpickle_error_propagates_from_wait(comm, rank):
    p = peer(comm)
    rreq = comm.irecv(bytearray(1024), source=p, tag=318)
    sreq = comm.isend(BadUnpickle(), dest=p, tag=318)
    with pytest.raises(KeyError):
        rreq.wait()
    sreq.wait()
    comm.Barrier()
    assert comm.iprobe(source=p, tag=318) is False


# --- irecv() without a buffer: any size (fastmpi) ---------------------

@pytest.mark.fastmpi_only
@pytest.mark.parametrize("nbytes", [100_000, 5_000_000])
def test_irecv_any_size_bytes(comm, rank, nbytes):
    obj = bytes([rank % 251]) * nbytes
    st = MPI.Status()
    got, p = obj_exchange(comm, obj, 320, status=st)
    assert got == bytes([p % 251]) * nbytes
    assert st.Get_source() == p and st.Get_tag() == 320
    assert st.Get_count() >= nbytes


@pytest.mark.fastmpi_only
def test_irecv_any_size_numpy_in_object(comm, rank):
    arr = np.arange(500_000, dtype="f8") + rank  # 4 MB
    got, p = obj_exchange(comm, {"a": arr, "tag": "big"}, 321)
    assert got["tag"] == "big"
    assert got["a"].dtype == np.float64 and got["a"].shape == (500_000,)
    assert np.array_equal(got["a"], np.arange(500_000, dtype="f8") + p)
    assert got["a"].flags.writeable
    got["a"][0] = -1.0
    assert got["a"][0] == -1.0


@pytest.mark.fastmpi_only
def test_irecv_any_size_message_already_there(comm, rank):
    # the message arrives before the receive is posted
    p = peer(comm)
    sreq = comm.isend(np.full(300_000, rank, "i8"), dest=p, tag=322)
    wait_for_self_message(comm, p, 322, always=True)
    got = comm.irecv(source=p, tag=322).wait()
    sreq.wait()
    assert np.array_equal(got, np.full(300_000, p, "i8"))


@pytest.mark.fastmpi_only
def test_irecv_any_size_order_kept(comm, rank):
    # small, large, small on one tag: received in order, all complete
    p = peer(comm)
    sizes = (10, 3_000_000, 20)
    rreqs = [comm.irecv(source=p, tag=323) for _ in sizes]
    sreqs = [comm.isend(bytes([k]) * n, dest=p, tag=323)
             for k, n in enumerate(sizes)]
    sts = []
    got = MPI.Request.waitall(rreqs + sreqs, sts)
    for k, n in enumerate(sizes):
        assert got[k] == bytes([k]) * n
        assert sts[k].Get_source() == p
    assert got[3:] == [None, None, None]


@pytest.mark.fastmpi_only
def test_irecv_any_size_test_and_waitany(comm, rank):
    p = peer(comm)
    rreqs = [comm.irecv(source=p, tag=324 + k) for k in range(2)]
    sreqs = [comm.isend(bytes(200_000 * (k + 1)), dest=p, tag=324 + k)
             for k in range(2)]
    got = {}
    deadline = time.monotonic() + 60
    while len(got) < 2:
        i, flag, obj = MPI.Request.testany(rreqs)
        if flag:
            got[i] = obj
        assert time.monotonic() < deadline
    assert got == {0: bytes(200_000), 1: bytes(400_000)}
    MPI.Request.waitall(sreqs)


@pytest.mark.fastmpi_only
def test_irecv_any_size_cancel(comm):
    r = comm.irecv(source=MPI.ANY_SOURCE, tag=326)
    r.cancel()
    st = MPI.Status()
    assert r.wait(st) is None
    assert st.Is_cancelled()


@pytest.mark.fastmpi_only
def test_isend_object_dropped_request(comm, rank):
    p = peer(comm)
    comm.isend(("dropped", rank, bytes(1 << 20)), dest=p, tag=327)
    gc.collect()
    got = comm.irecv(source=p, tag=327).wait()
    assert got == ("dropped", p, bytes(1 << 20))


@pytest.mark.fastmpi_only
def test_irecv_dropped_request(comm, rank):
    p = peer(comm)
    comm.irecv(source=p, tag=328)  # dropped while pending
    comm.irecv(bytearray(1 << 16), source=p, tag=329)
    gc.collect()
    s1 = comm.issend(bytes(2_000_000), dest=p, tag=328)
    s2 = comm.issend(["small", rank], dest=p, tag=329)
    MPI.Request.waitall([s1, s2])
    comm.Barrier()
    assert comm.iprobe(source=p, tag=328) is False
    assert comm.iprobe(source=p, tag=329) is False
    got, _ = obj_exchange(comm, "still fine", 330)
    assert got == "still fine"
