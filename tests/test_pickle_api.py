"""MPI.Pickle and MPI.pickle: the serializer every lowercase call uses.

A program plugs in its own (MPI.pickle.__init__(dumps, loads, ...), as
with mpi4py), changes PROTOCOL or THRESHOLD, and puts the default back
with MPI.pickle.__init__()."""
import gc
import json
import pickle
import sys

import numpy as np
import pytest

from _impl import MPI, peer


@pytest.fixture(autouse=True)
def default_pickle():
    MPI.pickle.__init__()
    yield
    MPI.pickle.__init__()


class Counting:
    """pickle's dumps and loads, counted."""

    def __init__(self):
        self.dumps_calls = 0
        self.loads_calls = 0
        self.callbacks = 0      # dumps calls that got a buffer_callback

    def dumps(self, obj, *args, **kwargs):
        self.dumps_calls += 1
        self.callbacks += "buffer_callback" in kwargs
        return pickle.dumps(obj, *args, **kwargs)

    def loads(self, data, *args, **kwargs):
        self.loads_calls += 1
        return pickle.loads(data, *args, **kwargs)


def json_dumps(obj):
    return json.dumps(obj).encode()


def json_loads(data):
    return json.loads(bytes(data))


class Boom(Exception):
    pass


def exchange(comm, obj, tag):
    """send/recv with the peer, the lower rank first; a self-paired rank
    isends to itself.  What was received."""
    rank = comm.Get_rank()
    p = peer(comm)
    if p == rank:
        req = comm.isend(obj, dest=rank, tag=tag)
        got = comm.recv(source=rank, tag=tag)
        req.wait()
        return got
    if rank < p:
        comm.send(obj, dest=p, tag=tag)
        return comm.recv(source=p, tag=tag)
    got = comm.recv(source=p, tag=tag)
    comm.send(obj, dest=p, tag=tag)
    return got


def ring(comm):
    rank, size = comm.Get_rank(), comm.Get_size()
    return (rank + 1) % size, (rank - 1) % size


def test_pickle_is_the_default():
    assert isinstance(MPI.pickle, MPI.Pickle)
    assert MPI.pickle.PROTOCOL == pickle.HIGHEST_PROTOCOL
    obj = {"a": (1, 2.5), "b": [None, "x"]}
    assert MPI.pickle.dumps(obj) == pickle.dumps(obj, MPI.pickle.PROTOCOL)
    assert MPI.pickle.loads(MPI.pickle.dumps(obj)) == obj


def test_counting_serializer_send_recv(comm):
    c = Counting()
    MPI.pickle.__init__(c.dumps, c.loads)
    assert MPI.pickle.PROTOCOL is None      # dumps(obj) alone
    objs = [None, 7, 2.5, True, "s", (1, 2), {"a": [1]}]
    for i, obj in enumerate(objs):
        got = exchange(comm, obj, tag=20 + i)
        assert got == obj and type(got) is type(obj)
    # every object, scalars too, went through the program's functions
    assert c.dumps_calls == len(objs)
    assert c.loads_calls == len(objs)


def test_json_serializer_everywhere(comm, rank, size):
    MPI.pickle.__init__(json_dumps, json_loads)
    nxt, prv = ring(comm)
    # tuples come back as lists: proof that json carried them
    assert exchange(comm, (1, "a"), tag=30) == [1, "a"]
    got = comm.sendrecv((rank, None), dest=nxt, sendtag=31, source=prv,
                        recvtag=31)
    assert got == [prv, None]
    rreq = comm.irecv(source=prv, tag=32)
    sreq = comm.isend((rank,), dest=nxt, tag=32)
    assert rreq.wait() == [prv]
    sreq.wait()
    sreq = comm.isend((rank, 1), dest=nxt, tag=33)
    assert comm.mprobe(source=prv, tag=33).recv() == [prv, 1]
    sreq.wait()
    sreq = comm.isend((rank, 2), dest=nxt, tag=34)
    assert comm.mprobe(source=prv, tag=34).irecv().wait() == [prv, 2]
    sreq.wait()
    assert comm.bcast((0, "root") if rank == 0 else None, root=0) == \
        [0, "root"]
    got = comm.gather((rank,), root=0)
    assert got == ([[r] for r in range(size)] if rank == 0 else None)
    assert comm.allgather((rank,)) == [[r] for r in range(size)]
    items = [(r, "x") for r in range(size)] if rank == 0 else None
    assert comm.scatter(items, root=0) == [rank, "x"]
    assert comm.alltoall([(rank, r) for r in range(size)]) == \
        [[r, rank] for r in range(size)]
    concat = lambda a, b: a + b  # noqa: E731
    assert comm.allreduce((rank,), op=concat) == list(range(size))
    assert comm.reduce((rank,), op=concat, root=0) == \
        (list(range(size)) if rank == 0 else None)
    assert comm.scan((rank,), op=concat) == list(range(rank + 1))
    cart = comm.Create_cart([size], periods=[True])
    try:
        left, right = cart.Shift(0, 1)
        assert cart.neighbor_allgather((rank,)) == [[left], [right]]
    finally:
        cart.Free()


def test_restore_default(comm):
    c = Counting()
    MPI.pickle.__init__(c.dumps, c.loads)
    exchange(comm, (1, 2), tag=40)
    MPI.pickle.__init__()
    got = exchange(comm, (1, 2), tag=41)
    assert got == (1, 2) and type(got) is tuple
    assert (c.dumps_calls, c.loads_calls) == (1, 1)
    assert MPI.pickle.PROTOCOL == pickle.HIGHEST_PROTOCOL


def test_other_instances_leave_mpi_pickle_alone(comm):
    p = MPI.Pickle(json_dumps, json_loads)
    assert p.PROTOCOL is None
    assert p.dumps((1, 2)) == b"[1, 2]"
    assert p.loads(b"[1, 2]") == [1, 2]
    got = exchange(comm, (1, 2), tag=42)
    assert type(got) is tuple


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5, -1, None])
def test_protocols(comm, protocol):
    # mpi4py 3 programs: MPI.pickle.__init__(protocol=...) and
    # MPI.pickle.__init__(pickle.dumps, pickle.loads, protocol)
    objs = [None, 1 << 70, 3.5, "x", (1, 2), np.arange(20000.0)]
    for init in (lambda: MPI.pickle.__init__(protocol=protocol),
                 lambda: MPI.pickle.__init__(pickle.dumps, pickle.loads,
                                             protocol)):
        init()
        if protocol is None:
            assert MPI.pickle.PROTOCOL == pickle.HIGHEST_PROTOCOL
        else:
            assert MPI.pickle.PROTOCOL == protocol
        for i, obj in enumerate(objs):
            got = exchange(comm, obj, tag=50 + i)
            if isinstance(obj, np.ndarray):
                assert np.array_equal(got, obj)
            else:
                assert got == obj and type(got) is type(obj)


def test_protocol_attribute(comm):
    MPI.pickle.PROTOCOL = 4
    assert MPI.pickle.PROTOCOL == 4
    assert MPI.pickle.dumps((1,))[:2] == b"\x80\x04"
    assert exchange(comm, (1, 2), tag=60) == (1, 2)
    MPI.pickle.PROTOCOL = None      # the default, with pickle's dumps
    assert MPI.pickle.PROTOCOL == pickle.HIGHEST_PROTOCOL


@pytest.mark.beyond_mpi4py
def test_out_of_band_per_protocol_and_threshold(comm):
    big = np.arange(1 << 17, dtype="f8")        # 1 MiB
    small = np.arange(4, dtype="f8")
    assert MPI.pickle.THRESHOLD >= 0
    data, bufs = MPI.pickle.dumps_oob(big)
    assert len(bufs) == 1 and len(data) < 1000
    assert np.array_equal(MPI.pickle.loads_oob(data, bufs), big)
    assert MPI.pickle.dumps_oob(small)[1] == []
    assert MPI.pickle.dumps_oob(7)[1] == []
    # protocol 4: no out-of-band buffers at all
    MPI.pickle.__init__(protocol=4)
    data, bufs = MPI.pickle.dumps_oob(big)
    assert bufs == [] and len(data) > big.nbytes
    assert np.array_equal(exchange(comm, big, tag=61), big)
    # the threshold decides which buffers go out-of-band
    MPI.pickle.__init__()
    MPI.pickle.THRESHOLD = 0
    assert MPI.pickle.THRESHOLD == 0
    assert len(MPI.pickle.dumps_oob(small)[1]) == 1
    assert np.array_equal(exchange(comm, small, tag=62), small)
    MPI.pickle.THRESHOLD = 1 << 40
    assert MPI.pickle.dumps_oob(big)[1] == []
    assert np.array_equal(exchange(comm, big, tag=63), big)
    MPI.pickle.__init__(threshold=123)
    assert MPI.pickle.THRESHOLD == 123
    assert MPI.pickle.PROTOCOL == pickle.HIGHEST_PROTOCOL


@pytest.mark.beyond_mpi4py
def test_custom_dumps_with_protocol_5(comm):
    c = Counting()
    MPI.pickle.__init__(c.dumps, c.loads, 5, 1024)
    assert (MPI.pickle.PROTOCOL, MPI.pickle.THRESHOLD) == (5, 1024)
    big = np.arange(1 << 16, dtype="i8")
    data, bufs = MPI.pickle.dumps_oob(big)
    assert len(bufs) == 1
    assert np.array_equal(MPI.pickle.loads_oob(data, bufs), big)
    got = exchange(comm, [big, "x", big[:10]], tag=64)
    assert np.array_equal(got[0], big) and got[1] == "x"
    assert np.array_equal(got[2], big[:10])


@pytest.mark.fastmpi_only
def test_custom_dumps_gets_buffer_callback_from_protocol_5(comm):
    # the general path keeps arrays out-of-band for a program's dumps too
    c = Counting()
    MPI.pickle.__init__(c.dumps, c.loads, 5)
    exchange(comm, np.zeros(1 << 15), tag=65)
    assert c.callbacks == c.dumps_calls == 1
    MPI.pickle.__init__(c.dumps, c.loads, 4)
    exchange(comm, np.zeros(1 << 15), tag=66)
    assert c.callbacks == 1 and c.dumps_calls == 2


def test_dumps_raises_in_send(comm, rank):
    def dumps(obj, *args):
        raise Boom("cannot")
    MPI.pickle.__init__(dumps, pickle.loads)
    with pytest.raises(Boom):
        comm.isend("x", dest=rank, tag=67)
    with pytest.raises(Boom):
        comm.sendrecv("x", dest=rank, sendtag=68, source=rank, recvtag=68)
    assert not comm.iprobe(source=rank, tag=67)     # nothing was sent


def test_loads_raises_in_recv(comm):
    def loads(data, *args, **kwargs):
        raise Boom("cannot")
    MPI.pickle.__init__(pickle.dumps, loads)
    nxt, prv = ring(comm)
    with pytest.raises(Boom):
        comm.sendrecv("x", dest=nxt, sendtag=69, source=prv, recvtag=69)
    sreq = comm.isend("y", dest=nxt, tag=70)
    rreq = comm.irecv(source=prv, tag=70)
    with pytest.raises(Boom):
        rreq.wait()
    sreq.wait()
    MPI.pickle.__init__()
    assert not comm.iprobe(source=prv, tag=69)      # the messages were taken
    assert not comm.iprobe(source=prv, tag=70)


@pytest.mark.fastmpi_only
def test_dumps_raising_on_one_rank_in_collectives(comm, rank, size):
    last = size - 1

    def dumps(obj, *args, **kwargs):
        if obj == "boom":
            raise Boom("cannot")
        return pickle.dumps(obj, *args, **kwargs)
    MPI.pickle.__init__(dumps, pickle.loads)
    mine = "boom" if rank == last else rank
    with pytest.raises((Boom, ValueError)) as info:
        comm.allgather(mine)
    assert info.type is (Boom if rank == last else ValueError)
    try:
        got = comm.gather(mine, root=0)
    except (Boom, ValueError):
        assert rank in (0, last)
    else:
        assert rank not in (0, last) and got is None
    with pytest.raises((Boom, ValueError)):
        comm.bcast("boom" if rank == 0 else None, root=0)
    with pytest.raises((Boom, ValueError)):
        comm.alltoall([mine] * size)
    with pytest.raises((Boom, ValueError)):
        comm.allreduce(mine, op=lambda a, b: a)
    assert comm.allgather(rank) == list(range(size))   # still in step


@pytest.mark.fastmpi_only
def test_loads_raising_in_collectives(comm, rank, size):
    def loads(data, *args, **kwargs):
        raise Boom("cannot")
    MPI.pickle.__init__(pickle.dumps, loads)
    with pytest.raises(Boom):
        comm.bcast("x", root=0)
    with pytest.raises(Boom):
        comm.allgather(rank)
    if rank == 0:
        with pytest.raises(Boom):
            comm.gather(rank, root=0)
    else:
        assert comm.gather(rank, root=0) is None
    MPI.pickle.__init__()
    assert comm.allgather(rank) == list(range(size))


@pytest.mark.beyond_mpi4py
def test_bad_arguments(comm):
    with pytest.raises(TypeError, match="dumps"):
        MPI.Pickle(dumps=1)
    with pytest.raises(TypeError, match="loads"):
        MPI.Pickle(pickle.dumps, "loads")
    with pytest.raises(ValueError, match="protocol"):
        MPI.Pickle(protocol=pickle.HIGHEST_PROTOCOL + 1)
    with pytest.raises(TypeError, match="protocol"):
        MPI.Pickle(protocol="5")
    with pytest.raises(ValueError, match="threshold"):
        MPI.Pickle(threshold=-1)
    with pytest.raises(TypeError, match="threshold"):
        MPI.Pickle(threshold=1.5)
    with pytest.raises(ValueError):
        MPI.pickle.PROTOCOL = 99
    with pytest.raises(ValueError):
        MPI.pickle.THRESHOLD = -5
    with pytest.raises(TypeError):
        MPI.pickle.THRESHOLD = None
    # a failed __init__ changes nothing
    c = Counting()
    with pytest.raises(ValueError):
        MPI.pickle.__init__(c.dumps, c.loads, 99)
    assert MPI.pickle.PROTOCOL == pickle.HIGHEST_PROTOCOL
    exchange(comm, (1,), tag=71)
    assert c.dumps_calls == 0


@pytest.mark.fastmpi_only
def test_dumps_must_return_bytes(comm, rank):
    MPI.pickle.__init__(lambda obj: "text", json_loads)
    with pytest.raises(TypeError, match="bytes"):
        comm.isend([1], dest=rank, tag=72)
    # other bytes-like results are taken
    MPI.pickle.__init__(lambda obj: bytearray(json_dumps(obj)), json_loads)
    assert exchange(comm, (3,), tag=73) == [3]


@pytest.mark.parametrize("dummy", [0])
def test_no_leak_with_a_custom_serializer(comm, rank, dummy):
    c = Counting()
    MPI.pickle.__init__(c.dumps, c.loads, 5)
    if hasattr(MPI.pickle, "THRESHOLD"):    # mpi4py 4, fastmpi
        MPI.pickle.THRESHOLD = 4096
    obj = {"i": 1, "l": [1, 2, 3]}
    arr = np.arange(1024, dtype="f8")       # 8 KiB: out-of-band

    def loop(n):
        for _ in range(n):
            exchange(comm, obj, tag=74)
        for _ in range(n // 5):
            exchange(comm, arr, tag=75)
    loop(1000)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    loop(10_000)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    assert grew < 200, f"{grew} Python blocks leaked"
    assert c.dumps_calls == c.loads_calls == 1000 + 200 + 10_000 + 2000


@pytest.mark.mpich_big
def test_gathers_of_objects_of_every_size(comm, rank, size):
    # a program's serializer: each rank's object its own size
    MPI.pickle.__init__(json_dumps, json_loads)
    mine = "x" * (10 ** rank)
    assert comm.allgather(mine) == ["x" * 10 ** r for r in range(size)]
    got = comm.gather(mine, root=0)
    assert got == (["x" * 10 ** r for r in range(size)] if rank == 0
                   else None)
    assert comm.alltoall([mine] * size) == ["x" * 10 ** r
                                            for r in range(size)]
