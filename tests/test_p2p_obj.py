"""Point-to-point with Python objects (pickle): send/ssend/bsend/recv,
sendrecv, probe, iprobe."""
import pickle
import threading

import numpy as np
import pytest

from _impl import MPI, Drain, Sender, peer, self_transfer

SMALL = [None, 0, -1, 2**70, 3.5, 1 + 2j, "text", b"bytes", (1, "a"),
         [1, [2, [3]]], {"a": 7, "b": 3.14}, {1, 2, 3}, True]


def exchange(comm, obj, tag):
    """Lower rank of each pair sends, upper receives; a self-paired rank
    sends to itself from a helper thread.  Returns what was received or
    None on the pure sender."""
    rank = comm.Get_rank()
    p = peer(comm)
    if p == rank:
        return self_transfer(lambda: comm.send(obj, dest=rank, tag=tag),
                             lambda: comm.recv(source=rank, tag=tag),
                             comm=comm, source=rank, tag=tag)
    if rank < p:
        comm.send(obj, dest=p, tag=tag)
        return comm.recv(source=p, tag=tag)
    got = comm.recv(source=p, tag=tag)
    comm.send(got, dest=p, tag=tag)
    return got


@pytest.mark.mpich_big
@pytest.mark.parametrize("obj", SMALL, ids=[type(o).__name__ + str(i) for i, o in enumerate(SMALL)])
def test_send_recv_roundtrip(comm, obj):
    got = exchange(comm, obj, tag=7)
    assert got == obj
    assert type(got) is type(obj)


def big_transfer(comm, obj, tag):
    """Send a large object from the lower rank of a pair to the upper one
    (sendrecv to self when self-paired).  Returns the received object on the
    receiving side, None on the sender."""
    rank = comm.Get_rank()
    p = peer(comm)
    if p == rank:
        return comm.sendrecv(obj, dest=rank, sendtag=tag, source=rank,
                             recvtag=tag)
    if rank < p:
        comm.send(obj, dest=p, tag=tag)
        return None
    return comm.recv(source=p, tag=tag)


def test_recv_10mb_bytes(comm):
    obj = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    got = big_transfer(comm, obj, tag=9)
    if got is not None:
        assert got == obj


def test_list_of_dicts(comm):
    obj = [{"i": i, "s": "x" * i, "f": i / 3} for i in range(500)]
    got = big_transfer(comm, obj, tag=8)
    if got is not None:
        assert got == obj


def test_recv_large_list_of_dicts(comm):
    obj = [{"k%d" % i: list(range(i % 50))} for i in range(20000)]
    got = big_transfer(comm, obj, tag=10)
    if got is not None:
        assert got == obj


def test_large_numpy_in_object(comm):
    arr = np.arange(300_000, dtype="f8")  # 2.4 MB > 1 MiB
    obj = {"a": arr, "b": [arr[:10].copy(), "x"], "c": np.ones((600, 600), "i4")}
    got = big_transfer(comm, obj, tag=11)
    if got is not None:
        assert np.array_equal(got["a"], arr)
        assert got["a"].dtype == arr.dtype
        assert got["a"].flags.writeable
        got["a"][0] = 42.0  # must be writable
        assert got["a"][0] == 42.0
        assert np.array_equal(got["b"][0], arr[:10])
        assert got["c"].shape == (600, 600) and int(got["c"].sum()) == 360000
        assert got["c"].flags.writeable


def test_large_numpy_noncontiguous_in_object(comm):
    arr = np.arange(600_000, dtype="f8")[::2]
    got = big_transfer(comm, arr, tag=12)
    if got is not None:
        assert np.array_equal(got, arr)
        assert got.flags.writeable


@pytest.mark.mpich_big
def test_ssend(comm, rank):
    p = peer(comm)
    obj = {"ssend": rank}
    if p == rank:
        out = []
        t = threading.Thread(target=lambda: out.append(comm.recv(source=rank, tag=13)))
        t.start()
        comm.ssend(obj, dest=rank, tag=13)
        t.join()
        assert out == [obj]
    elif rank < p:
        comm.ssend(obj, dest=p, tag=13)
        assert comm.recv(source=p, tag=13) == {"ssend": p}
    else:
        other = comm.recv(source=p, tag=13)
        assert other == {"ssend": p}
        comm.ssend(obj, dest=p, tag=13)


def test_bsend(comm, rank):
    p = peer(comm)
    size = 1 << 16
    buf = bytearray(size + MPI.BSEND_OVERHEAD * 4)
    MPI.Attach_buffer(buf)
    try:
        comm.bsend({"b": rank}, dest=p, tag=14)
        assert comm.recv(source=p, tag=14) == {"b": p}
    finally:
        MPI.Detach_buffer()


@pytest.mark.mpich_big
def test_any_source_any_tag_status(comm, rank, size):
    # every rank sends to rank 0 with tag = 100 + rank
    if rank == 0:
        seen = {}
        me = Sender(lambda: comm.send(("from", 0), dest=0, tag=100),
                    wait=(comm, 0, 100))
        with me:
            for _ in range(size):
                st = MPI.Status()
                obj = comm.recv(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG,
                                status=st)
                assert obj == ("from", st.Get_source())
                assert st.Get_tag() == 100 + st.Get_source()
                assert st.source == st.Get_source() and st.tag == st.Get_tag()
                seen[st.Get_source()] = st.Get_tag()
        assert sorted(seen) == list(range(size))
    else:
        comm.send(("from", rank), dest=0, tag=100 + rank)


def test_recv_default_args(comm, rank):
    # recv() with no arguments = ANY_SOURCE, ANY_TAG
    if peer(comm) == rank:
        got = self_transfer(lambda: comm.send("me", dest=rank),
                            lambda: comm.recv(),
                            comm=comm, source=rank, tag=0)
        assert got == "me"
    else:
        p = peer(comm)
        if rank < p:
            comm.send("hi", dest=p, tag=15)
        else:
            st = MPI.Status()
            assert comm.recv(status=st) == "hi"
            assert st.source == p and st.tag == 15


@pytest.mark.mpich_big
def test_sendrecv_ring(comm, rank, size):
    right, left = (rank + 1) % size, (rank - 1) % size
    st = MPI.Status()
    got = comm.sendrecv({"r": rank}, dest=right, sendtag=16,
                        source=left, recvtag=16, status=st)
    assert got == {"r": left}
    assert st.Get_source() == left
    assert st.Get_tag() == 16


def test_sendrecv_large_ring(comm, rank, size):
    right, left = (rank + 1) % size, (rank - 1) % size
    data = np.full(200_000, rank, dtype="i8")
    got = comm.sendrecv(data, dest=right, sendtag=17, source=left, recvtag=17)
    assert np.array_equal(got, np.full(200_000, left, dtype="i8"))


def test_proc_null(comm):
    comm.send({"x": 1}, dest=MPI.PROC_NULL)
    comm.ssend({"x": 1}, dest=MPI.PROC_NULL)
    st = MPI.Status()
    assert comm.recv(source=MPI.PROC_NULL, status=st) is None
    assert st.Get_source() == MPI.PROC_NULL
    assert st.Get_tag() == MPI.ANY_TAG
    assert comm.sendrecv(5, dest=MPI.PROC_NULL, source=MPI.PROC_NULL) is None


def test_probe_iprobe(comm, rank):
    p = peer(comm)
    obj = list(range(100))
    sender = Sender(lambda: comm.send(obj, dest=p, tag=18),
                    wait=(comm, p, 18))
    if p == rank:
        sender.__enter__()
    elif rank < p:
        comm.send(obj, dest=p, tag=18)
    if p == rank or rank > p:
        st = MPI.Status()
        assert comm.probe(source=p, tag=18, status=st) is True
        assert st.Get_source() == p and st.Get_tag() == 18
        assert st.Get_count() > 0  # pickled size in bytes
        st2 = MPI.Status()
        assert comm.iprobe(source=MPI.ANY_SOURCE, tag=18, status=st2) is True
        assert st2.Get_source() == p
        assert comm.recv(source=p, tag=18) == obj
        if p == rank:
            sender.__exit__(None, None, None)
        assert comm.iprobe(source=p, tag=18) is False
    assert comm.iprobe(source=MPI.PROC_NULL) is True


def test_iprobe_nothing(comm):
    assert comm.iprobe(source=MPI.ANY_SOURCE, tag=12345) is False


def test_bad_dest_rank(comm, size):
    for dest in (size, size + 10, -7):
        with pytest.raises(MPI.Exception) as info:
            comm.send("x", dest=dest, tag=0)
        assert info.value.Get_error_class() == MPI.ERR_RANK


def test_bad_source_rank(comm, size):
    with pytest.raises(MPI.Exception) as info:
        comm.recv(source=size + 3, tag=0)
    assert info.value.Get_error_class() == MPI.ERR_RANK


def test_negative_tag(comm, rank):
    with Drain(comm, rank), pytest.raises(MPI.Exception) as info:
        comm.send("x", dest=rank, tag=-5)
    assert info.value.Get_error_class() == MPI.ERR_TAG


def test_tag_too_big(comm, rank):
    with Drain(comm, rank), \
            pytest.raises((MPI.Exception, OverflowError)) as info:
        comm.send("x", dest=rank, tag=2**31 + 5)
    if isinstance(info.value, MPI.Exception):
        assert info.value.Get_error_class() == MPI.ERR_TAG


def test_dest_wrong_type(comm):
    for dest in ("1", None, [0], object()):
        with pytest.raises(TypeError):
            comm.send("x", dest=dest, tag=0)


@pytest.mark.beyond_mpi4py
def test_dest_float_rejected(comm):
    # mpi4py 3.1 (Cython) silently truncates floats; an int is required
    with pytest.raises(TypeError):
        comm.send("x", dest=0.0, tag=0)


def test_tag_wrong_type(comm, rank):
    with Drain(comm, rank), pytest.raises(TypeError):
        comm.send("x", dest=rank, tag="t")


class Unpicklable:
    def __reduce__(self):
        raise ZeroDivisionError("refuse to pickle")


def test_unpicklable_propagates(comm, rank):
    with Drain(comm, rank, 19) as drain:
        with pytest.raises(ZeroDivisionError, match="refuse to pickle"):
            comm.send(Unpicklable(), dest=rank, tag=19)
        with pytest.raises(ZeroDivisionError):
            comm.send([1, Unpicklable()], dest=rank, tag=19)
        with pytest.raises((TypeError, pickle.PicklingError, AttributeError)):
            comm.send(threading.Lock(), dest=rank, tag=19)
    assert drain.received == []  # nothing was sent


class BadUnpickle:
    def __reduce__(self):
        return (_raise_on_load, ())


def _raise_on_load():
    raise KeyError("unpickle failed")


def test_unpickle_error_propagates(comm, rank):
    with Sender(lambda: comm.send(BadUnpickle(), dest=rank, tag=20),
                wait=(comm, rank, 20)):
        with pytest.raises(KeyError):
            comm.recv(source=rank, tag=20)
    assert comm.iprobe(source=rank, tag=20) is False


def test_send_on_freed_comm(comm):
    d = comm.Dup()
    d.Free()
    with pytest.raises(MPI.Exception) as info:
        d.send("x", dest=0)
    assert info.value.Get_error_class() == MPI.ERR_COMM
