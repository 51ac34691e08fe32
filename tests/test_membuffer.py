"""MPI.buffer (MPI.memory), Alloc_mem / Free_mem, and the buffer markers
BOTTOM, IN_PLACE and BUFFER_AUTOMATIC.

mpi4py 3.1 has MPI.memory with a subset of this: no cast(), no
MPI.buffer name, other exception types for some bad inputs, and a
released buffer that still answers (tobytes() -> b"").  Its BOTTOM and
IN_PLACE are int subclasses that do not pickle, and it has no
BUFFER_AUTOMATIC.  Those tests are marked beyond_mpi4py.  Free_mem on
memory not from Alloc_mem (or twice) crashes mpi4py 3.1 (a double free in
the MPI library), so those are fastmpi_only.

Release with live exports: mpi4py lets release() go while a memoryview
of the buffer is alive (its own test suite does so), so fastmpi does too,
and keeps the memory (the exporter's view, or the allocation) until the
last export goes: the buffer is empty at once, no view ever points at
freed memory.
"""
import array
import gc
import operator
import pickle
import sys

import numpy as np
import pytest

from _impl import FLAVOR, MPI, UNDER_ASAN, peer, rss_kb, self_transfer

beyond = pytest.mark.beyond_mpi4py
fastmpi_only = pytest.mark.fastmpi_only

memory = MPI.memory


# ---- constructors ---------------------------------------------------------

def test_new_empty():
    mem = memory()
    assert mem.address == 0
    assert mem.obj is None
    assert mem.nbytes == 0 and len(mem) == 0
    assert mem.readonly is False
    assert mem.format == "B" and mem.itemsize == 1
    mem[:] = 0
    mem[:] = memory()
    m = memoryview(mem)
    assert (m.format, m.itemsize, m.ndim, m.shape, m.strides) == \
        ("B", 1, 1, (0,), (1,))
    assert m.readonly is False
    assert m.tobytes() == b"" and m.tolist() == []
    assert mem.tobytes() == b""


@beyond
def test_buffer_is_memory():
    assert MPI.buffer is MPI.memory
    assert MPI.buffer.__name__ == "buffer"


def test_new_from_objects():
    obj = b"abc"
    mem = memory(obj)
    assert mem.obj is obj and mem.nbytes == 3 and mem.readonly is True
    obj = bytearray(b"abc")
    mem = memory(obj)
    assert mem.obj is obj and mem.nbytes == 3 and mem.readonly is False
    obj = array.array("i", [1, 2, 3])
    mem = memory(obj)
    assert mem.nbytes == 3 * obj.itemsize and mem.readonly is False
    obj = np.arange(5, dtype="f8")
    mem = memory(obj)
    assert mem.nbytes == 40 and len(mem) == 40
    assert mem.address == obj.__array_interface__["data"][0]
    obj = memoryview(bytearray(4))
    assert memory(obj).nbytes == 4


@pytest.mark.parametrize("bad", [None, 0, 0.0, [], (), "abc"])
def test_new_bad(bad):
    with pytest.raises(TypeError):
        memory(bad)


@beyond
def test_new_bad_arity():
    with pytest.raises(TypeError):
        memory(b"a", b"b")
    with pytest.raises(TypeError):
        memory(buf=b"a")


def test_new_holds_a_view():
    obj = bytearray(4)
    mem = memory(obj)
    with pytest.raises(BufferError):
        obj.append(1)       # the view pins it: it cannot move
    mem.release()
    obj.append(1)
    # a non-contiguous exporter is refused
    with pytest.raises((BufferError, ValueError)):   # numpy's own error
        memory(np.arange(10)[::2])


def test_frombuffer():
    mem = memory.frombuffer(b"abc", readonly=True)
    assert mem.obj == b"abc" and type(mem.obj) is bytes
    assert mem.nbytes == 3 and mem.readonly is True and mem.address != 0
    with pytest.raises(BufferError):
        memory.frombuffer(b"abc")           # readonly=False needs writable
    obj = bytearray(b"xyz")
    rw = memory.frombuffer(obj)
    assert rw.readonly is False
    rw[0] = ord("X")
    assert obj == b"Xyz"
    ro = memory.frombuffer(obj=obj, readonly=True)
    assert ro.readonly is True and ro.address == rw.address


@pytest.mark.parametrize("bad", [None, 0, 0.0, [], ()])
def test_frombuffer_bad(bad):
    with pytest.raises(TypeError):
        memory.frombuffer(bad)


def test_fromaddress():
    obj = array.array("B", [1, 2, 3])
    addr, n = obj.buffer_info()
    mem = memory.fromaddress(addr, n)
    assert mem.address == addr and mem.nbytes == 3 and mem.readonly is False
    assert mem.obj is None
    mem[:] = 1
    assert obj == array.array("B", [1, 1, 1])
    mem[1:] = array.array("B", [7, 7])
    assert obj == array.array("B", [1, 7, 7])
    ro = memory.fromaddress(addr, n, readonly=True)
    assert ro.readonly is True
    empty = memory.fromaddress(0, 0)
    assert empty.address == 0 and empty.nbytes == 0


def test_fromaddress_bad():
    with pytest.raises(ValueError):
        memory.fromaddress(0, 5)            # NULL with a size
    with pytest.raises(ValueError):
        memory.fromaddress(1234, -1)
    with pytest.raises(TypeError):
        memory.fromaddress(None, 0)


@beyond
def test_fromaddress_bad_types():
    with pytest.raises(TypeError):
        memory.fromaddress(1234.0, 1)
    with pytest.raises(TypeError):
        memory.fromaddress(1234, 1.0)
    with pytest.raises(TypeError):
        memory.fromaddress(1234)


def test_allocate():
    for n in (0, 1, 2):
        mem = memory.allocate(n)
        assert mem.nbytes == n and len(mem) == n
        assert mem.address != 0
        assert mem.readonly is False
    mem = memory.allocate(1024, True)
    assert mem.tobytes() == bytes(1024)
    mem = memory.allocate(64, clear=True)
    assert mem[0] == 0 and mem[-1] == 0
    with pytest.raises(TypeError):
        memory.allocate(None)
    with pytest.raises(ValueError):
        memory.allocate(-1)


@beyond
def test_allocate_more():
    assert memory.allocate(8).obj is None
    with pytest.raises(TypeError):
        memory.allocate(4.0)
    with pytest.raises(TypeError):
        memory.allocate("4")
    if not UNDER_ASAN:      # AddressSanitizer aborts on such a request
        with pytest.raises(MemoryError):
            memory.allocate(sys.maxsize)


def test_attributes():
    obj = bytearray(b"hello")
    mem = memory(obj)
    assert mem.address == MPI.Get_address(obj)
    assert mem.format == "B" and mem.itemsize == 1
    assert mem.nbytes == 5 and len(mem) == 5


# ---- items and slices -----------------------------------------------------

def test_items():
    n = 16
    mem = memory.allocate(n)
    for i in range(n):
        mem[i] = i
    assert [mem[i] for i in range(n)] == list(range(n))
    for i in range(-n, 0):
        mem[i] = -i
    assert [mem[i] for i in range(-n, 0)] == [-i for i in range(-n, 0)]
    mem[0] = 255
    assert mem[0] == 255
    mem[1] = np.uint8(9)
    assert mem[1] == 9


def test_items_bad():
    mem = memory(bytearray(4))
    for i in (4, 100, -5):
        with pytest.raises(IndexError):
            mem[i]
        with pytest.raises(IndexError):
            mem[i] = 0
    for key in (None, 1.5, "0"):
        with pytest.raises(TypeError):
            mem[key]
        with pytest.raises(TypeError):
            mem[key] = 0
    with pytest.raises(TypeError):
        mem[0] = "a"
    with pytest.raises(Exception):
        del mem[0]


@beyond
def test_items_bad_values():
    mem = memory(bytearray(4))
    for v in (256, -1, 2**70):
        with pytest.raises(ValueError):
            mem[0] = v
        with pytest.raises(ValueError):
            mem[:] = v
    with pytest.raises(TypeError):
        mem[0] = 1.0
    with pytest.raises(TypeError):
        del mem[0]
    with pytest.raises(TypeError):
        del mem[0:2]
    assert mem.tobytes() == bytes(4)


def test_slices():
    obj = bytearray(b"abcdefgh")
    mem = memory(obj)
    s = mem[2:5]
    assert type(s) is memory
    assert s.tobytes() == b"cde" and len(s) == 3
    assert s.address == mem.address + 2
    s[0] = ord("C")
    assert obj == b"abCdefgh"
    assert mem[-3:].tobytes() == b"fgh"
    assert mem[:-6].tobytes() == b"ab"
    assert mem[5:2].tobytes() == b"" and len(mem[10:20]) == 0
    assert mem[::1].tobytes() == b"abCdefgh"
    for step in (2, -1, 3):
        with pytest.raises(IndexError):
            mem[::step]
        with pytest.raises(IndexError):
            mem[::step] = 0


def test_slice_views_parent():
    mem = memory.allocate(8, clear=True)
    s = mem[1:3]
    assert s.obj is mem
    assert s.readonly is False
    ro = mem.toreadonly()[2:4]
    assert ro.readonly is True
    with pytest.raises(TypeError):
        ro[0] = 1
    with pytest.raises(ValueError):
        mem[::0]


def test_slice_assign():
    mem = memory.allocate(16)
    mem[:] = 0
    mem[1:5] = b"abcd"
    mem[10:13] = bytearray(b"xyz")
    assert mem.tobytes() == b"\0abcd\0\0\0\0\0xyz\0\0\0"
    mem[:8] = 1
    mem[8:] = 255
    assert mem.tobytes() == b"\1" * 8 + b"\xff" * 8
    mem[0:2] = memory(bytearray(b"XY"))
    assert mem[0:2].tobytes() == b"XY"
    with pytest.raises(ValueError):
        mem[0:2] = b"xyz"               # 3 bytes into 2
    with pytest.raises(ValueError):
        mem[:] = b""
    with pytest.raises(TypeError):
        mem[0:2] = [1, 2]
    with pytest.raises(TypeError):
        mem[0:2] = None


@beyond
def test_slice_assign_overlapping():
    mem = memory(bytearray(b"abcdef"))
    mem[1:6] = mem[0:5]
    assert mem.tobytes() == b"aabcde"
    mem[0:4] = np.arange(4, dtype="u1")
    assert mem.tobytes() == b"\0\1\2\3de"


def test_readonly():
    obj = b"abc"
    mem = memory(obj)
    with pytest.raises(TypeError):
        mem[0] = 1
    with pytest.raises(TypeError):
        mem[:] = b"xyz"
    with pytest.raises(TypeError):
        mem[0:1] = 0
    assert obj == b"abc"
    assert memoryview(mem).readonly is True


def test_toreadonly():
    obj = bytearray(b"abc")
    mem1 = memory.frombuffer(obj)
    mem2 = mem1.toreadonly()
    assert mem1.readonly is False and mem2.readonly is True
    assert mem1.address == mem2.address
    assert mem1.obj is mem2.obj and mem1.nbytes == mem2.nbytes
    with pytest.raises(TypeError):
        mem2[0] = 0
    mem1[0] = ord("A")
    assert mem2.tobytes() == b"Abc"


# ---- cast, tobytes, the buffer protocol -----------------------------------

@beyond
def test_cast():
    mem = memory.allocate(16, clear=True)
    m = mem.cast("i")
    assert type(m) is memoryview
    assert m.format == "i" and len(m) == 4 and m.itemsize == 4
    m[1] = -2
    assert np.frombuffer(mem, dtype="i4")[1] == -2
    assert mem.cast("B", (2, 8)).shape == (2, 8)
    assert mem.cast("d", [2]).shape == (2,)
    assert mem.cast("i", ...).shape == (4,)
    assert mem.cast(format="B").nbytes == 16
    with pytest.raises(TypeError):
        mem.cast("i", (3,))             # 12 of 16 bytes
    with pytest.raises(ValueError):
        mem.cast("?x")
    with pytest.raises(TypeError):
        mem.cast(4)
    with pytest.raises(TypeError):
        mem.cast()
    ro = memory(b"abcd").cast("i")
    assert ro.readonly is True


def test_tobytes():
    mem = memory(bytearray(b"abc"))
    assert mem.tobytes() == b"abc"
    for order in (None, "C", "F", "A"):
        assert mem.tobytes(order) == b"abc"
    assert mem[1:].tobytes() == b"bc"


@beyond
def test_tobytes_bad_order():
    mem = memory(bytearray(b"abc"))
    with pytest.raises(ValueError):
        mem.tobytes("X")
    with pytest.raises(TypeError):
        mem.tobytes(1)


def test_buffer_protocol():
    obj = bytearray(b"abc")
    mem = memory.frombuffer(obj, readonly=True)
    m = memoryview(mem)
    assert (m.format, m.itemsize, m.ndim, m.shape, m.strides) == \
        ("B", 1, 1, (3,), (1,))
    assert m.readonly is True and m.tobytes() == b"abc"
    mem = memory.frombuffer(obj)
    a = np.frombuffer(mem, dtype="u1")
    assert a.flags.writeable
    a[0] = ord("A")
    assert obj == b"Abc"


@beyond
def test_buffer_dunder():
    if sys.version_info < (3, 12):
        pytest.skip("__buffer__ is Python 3.12's")
    mem = memory(bytearray(4))
    assert mem.__buffer__(0).nbytes == 4


# ---- release --------------------------------------------------------------

def test_release():
    obj = bytearray(b"abc")
    mem = memory.frombuffer(obj)
    mem.release()
    assert mem.address == 0 and mem.nbytes == 0 and mem.readonly is False
    assert mem.obj is None
    mem.release()                       # again: nothing happens
    obj.extend(b"def")                  # no view pins it any more


@beyond
def test_use_after_release():
    mem = memory.allocate(8)
    mem.release()
    assert len(mem) == 0
    for use in (lambda: mem[0], lambda: mem[0:1],
                lambda: mem.__setitem__(0, 1),
                lambda: mem.__setitem__(slice(None), 0),
                mem.tobytes, mem.toreadonly, lambda: mem.cast("B"),
                lambda: memoryview(mem)):
        with pytest.raises(ValueError, match="released"):
            use()
    with pytest.raises(BufferError, match="released"):
        MPI.COMM_SELF.Send(mem, dest=MPI.PROC_NULL)
    assert "released" in repr(mem)


@beyond
def test_release_with_live_exports():
    # the buffer empties at once; the memory lives on for its views
    obj = bytearray(b"abcd")
    mem = memory.frombuffer(obj)
    m = memoryview(mem)
    s = mem[1:3]
    mem.release()
    assert mem.nbytes == 0 and mem.address == 0
    assert m.tobytes() == b"abcd" and s.tobytes() == b"bc"
    m[0] = ord("A")
    assert obj == b"Abcd"
    with pytest.raises(BufferError):
        obj.append(0)                   # still viewed
    m.release()
    del s
    gc.collect()
    obj.append(0)                       # the last view went: free again
    own = memory.allocate(4, clear=True)
    a = np.frombuffer(own, dtype="u1")
    own.release()
    a[:] = 7                            # its memory is still there
    assert a.tolist() == [7] * 4


# ---- Alloc_mem / Free_mem -------------------------------------------------

def test_alloc_mem():
    n = 16
    mem = MPI.Alloc_mem(n, MPI.INFO_NULL)
    try:
        assert type(mem) is memory
        assert mem.address != 0 and mem.nbytes == n and len(mem) == n
        assert mem.readonly is False
        mem[:] = 0
        mem[1:5] = b"abcd"
        assert mem[1:5].tobytes() == b"abcd"
        assert mem[0] == 0 and mem[5] == 0
    finally:
        MPI.Free_mem(mem)
    assert mem.address == 0 and mem.nbytes == 0 and mem.readonly is False
    for size in range(0, 10000, 997):
        mem = MPI.Alloc_mem(size)
        assert len(mem) == size
        MPI.Free_mem(mem)


@beyond
def test_alloc_mem_args():
    mem = MPI.Alloc_mem(size=8, info={})
    assert mem.obj is None and mem.nbytes == 8
    MPI.Free_mem(mem=mem)
    with pytest.raises(ValueError):
        MPI.Alloc_mem(-1)
    with pytest.raises(TypeError):
        MPI.Alloc_mem(None)
    with pytest.raises(TypeError):
        MPI.Alloc_mem(8.0)
    with pytest.raises(TypeError):
        MPI.Alloc_mem(8, 3)
    mem = MPI.Alloc_mem(8)              # never freed: freed with the buffer
    del mem


@fastmpi_only
def test_free_mem_bad():
    mem = MPI.Alloc_mem(8)
    MPI.Free_mem(mem)
    with pytest.raises(ValueError, match="already freed"):
        MPI.Free_mem(mem)
    for other in (memory.allocate(8), memory(bytearray(8)), memory(),
                  memory.fromaddress(0, 0)):
        with pytest.raises(ValueError, match="not memory from Alloc_mem"):
            MPI.Free_mem(other)
    for other in (bytearray(8), None, 0):
        with pytest.raises(TypeError):
            MPI.Free_mem(other)
    released = MPI.Alloc_mem(8)
    released.release()                  # gives the memory back to MPI
    with pytest.raises(ValueError, match="already released"):
        MPI.Free_mem(released)


@fastmpi_only
def test_use_after_free_mem():
    mem = MPI.Alloc_mem(8)
    mem[0] = 1
    MPI.Free_mem(mem)
    for use in (lambda: mem[0], lambda: mem.__setitem__(0, 1),
                mem.tobytes, lambda: memoryview(mem), lambda: mem[1:]):
        with pytest.raises(ValueError, match="freed by Free_mem"):
            use()
    with pytest.raises(BufferError, match="Free_mem"):
        MPI.COMM_SELF.Send(mem, dest=MPI.PROC_NULL)
    assert "freed" in repr(mem)


@fastmpi_only
def test_free_mem_with_live_export(selfcomm):
    # a view (here a pending receive, and a numpy array) keeps the memory
    # until it goes; Free_mem empties the buffer at once
    mem = MPI.Alloc_mem(8)
    a = np.frombuffer(mem, dtype="u1")
    s = selfcomm.Isend(np.arange(8, dtype="u1"), dest=0, tag=3)
    r = selfcomm.Irecv(mem, source=0, tag=3)
    MPI.Free_mem(mem)
    assert mem.nbytes == 0
    MPI.Request.Waitall([s, r])
    assert a.tolist() == list(range(8))
    del r, a
    gc.collect()


def _exchange(comm, send, recv, tag):
    rank, p = comm.Get_rank(), peer(comm)
    if p == rank:
        self_transfer(lambda: comm.Send(send, dest=p, tag=tag),
                      lambda: comm.Recv(recv, source=p, tag=tag),
                      comm=comm, source=p, tag=tag)
    elif rank < p:
        comm.Send(send, dest=p, tag=tag)
        comm.Recv(recv, source=p, tag=tag)
    else:
        comm.Recv(recv, source=p, tag=tag)
        comm.Send(send, dest=p, tag=tag)
    return p


def test_alloc_mem_send_recv(comm, rank):
    send = MPI.Alloc_mem(32)
    recv = MPI.Alloc_mem(32)
    try:
        send[:] = rank % 256
        recv[:] = 255
        p = _exchange(comm, send, recv, tag=41)
        assert recv.tobytes() == bytes([p % 256]) * 32
        # as a [buf, count, datatype] spec
        np.frombuffer(send, dtype="i4")[:] = np.arange(8) + rank
        _exchange(comm, [send, 8, MPI.INT], [recv, MPI.INT], tag=42)
        assert np.frombuffer(recv, dtype="i4").tolist() == \
            list(np.arange(8) + p)
    finally:
        MPI.Free_mem(send)
        MPI.Free_mem(recv)


def test_buffer_send_recv(comm, rank):
    send = memory.allocate(16)
    send[:] = (rank + 1) % 256
    recv = memory.frombuffer(bytearray(16))
    p = _exchange(comm, send, recv, tag=43)
    assert recv.tobytes() == bytes([(p + 1) % 256]) * 16


@beyond
def test_buffer_read_only_receive(comm):
    ro = memory.allocate(16).toreadonly()
    with pytest.raises(BufferError, match="read-only"):
        comm.Recv(ro, source=MPI.PROC_NULL)
    with pytest.raises(BufferError, match="read-only"):
        comm.Recv(memory(b"abcd"), source=MPI.PROC_NULL)


def test_buffer_collectives(comm, rank, size):
    buf = MPI.Alloc_mem(4 * 4)
    try:
        a = np.frombuffer(buf, dtype="i4")
        a[:] = rank
        out = memory.allocate(16)
        comm.Allreduce([buf, MPI.INT], [out, MPI.INT], op=MPI.SUM)
        assert np.frombuffer(out, dtype="i4").tolist() == \
            [size * (size - 1) // 2] * 4
        comm.Allreduce(MPI.IN_PLACE, [buf, MPI.INT], op=MPI.MAX)
        assert a.tolist() == [size - 1] * 4
        b = memory.allocate(8)
        b[:] = rank
        comm.Bcast(b, root=0)
        assert b.tobytes() == bytes(8)
        g = memory.allocate(size)
        comm.Allgather(memory(bytearray([rank % 256])), g)
        assert list(g.tobytes()) == [r % 256 for r in range(size)]
        del a
    finally:
        MPI.Free_mem(buf)


# ---- leaks ----------------------------------------------------------------

def _buffer_loop(n):
    obj = bytearray(64)
    for _ in range(n):
        a = memory.allocate(64)
        b = memory.allocate(64, clear=True)
        c = memory.frombuffer(obj)
        d = c[8:16].toreadonly()
        m = memoryview(d)
        c.release()
        del m
        e = MPI.Alloc_mem(64)
        e[0:4] = b"abcd"
        MPI.Free_mem(e)
        f = MPI.Alloc_mem(64)           # freed at deallocation
        del a, b, c, d, f


def _alloc_mem_loop(n, nbytes):
    for _ in range(n):
        mem = MPI.Alloc_mem(nbytes)
        mem[0] = 1
        mem[nbytes - 1] = 2
        MPI.Free_mem(mem)
        big = memory.allocate(nbytes)
        big[nbytes - 1] = 3
        del big


def test_no_leak():
    _buffer_loop(500)
    _alloc_mem_loop(50, 1 << 16)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = rss_kb()
    _buffer_loop(10_000)
    _alloc_mem_loop(10_000, 1 << 16)    # 64 KiB each: 1.2 GiB if kept
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    rss1 = rss_kb()
    assert grew < 200, f"{grew} Python blocks leaked over 10000 rounds"
    if not UNDER_ASAN:
        assert rss1 - rss0 < 16 * 1024, f"RSS grew by {rss1 - rss0} KiB"


# ---- the markers ----------------------------------------------------------

MARKERS = ["BOTTOM", "IN_PLACE"]
ADDRESS = {"BOTTOM": 0, "IN_PLACE": 1 if FLAVOR == "openmpi" else -1}


@pytest.mark.parametrize("name", MARKERS)
def test_marker_values(name):
    m = getattr(MPI, name)
    assert repr(m) == name
    assert int(m) == ADDRESS[name]
    assert bool(m) == (ADDRESS[name] != 0)
    assert m == ADDRESS[name] and not (m != ADDRESS[name])
    assert hash(m) == hash(ADDRESS[name])
    assert m == m
    assert MPI.BOTTOM != MPI.IN_PLACE


def test_bottom_index():
    assert operator.index(MPI.BOTTOM) == 0
    assert MPI.Get_address(MPI.BOTTOM) == 0
    assert MPI.Aint_add(MPI.BOTTOM, 8) == 8


@beyond
@pytest.mark.parametrize("name,tname", [
    ("BOTTOM", "BottomType"), ("IN_PLACE", "InPlaceType"),
    ("BUFFER_AUTOMATIC", "BufferAutomaticType")])
def test_marker_types(name, tname):
    m = getattr(MPI, name)
    t = getattr(MPI, tname)
    assert type(m) is t and t.__name__ == tname
    assert t() is m
    with pytest.raises(TypeError):
        t(1)
    with pytest.raises(TypeError):
        class Sub(t):               # final, as in mpi4py
            pass
    assert m != 0.5 and m != "x" and m != MPI.memory()
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(m, proto)) is m
    assert m.__reduce__() == name
    v = memoryview(m)
    assert v.nbytes == 0 and v.format == "B"
    assert repr(m) == name


@beyond
def test_marker_ints():
    with pytest.raises(TypeError):
        operator.index(MPI.IN_PLACE)
    with pytest.raises(TypeError):
        operator.index(MPI.BUFFER_AUTOMATIC)
    assert int(MPI.BUFFER_AUTOMATIC) == 2 or MPI.Get_version() >= (4, 1)
    assert MPI.BUFFER_AUTOMATIC != MPI.BOTTOM
    assert MPI.BUFFER_AUTOMATIC != MPI.IN_PLACE
    assert len({MPI.BOTTOM, MPI.IN_PLACE, MPI.BUFFER_AUTOMATIC}) == 3


@beyond
def test_attach_buffer_automatic():
    if MPI.Get_version() >= (4, 1):
        MPI.Attach_buffer(MPI.BUFFER_AUTOMATIC)
        assert MPI.Detach_buffer() is MPI.BUFFER_AUTOMATIC
        return
    with pytest.raises(NotImplementedError, match="BUFFER_AUTOMATIC"):
        MPI.Attach_buffer(MPI.BUFFER_AUTOMATIC)
    MPI.Attach_buffer(bytearray(MPI.BSEND_OVERHEAD + 16))   # still free
    MPI.Detach_buffer()


def test_markers_in_messages(selfcomm):
    # BOTTOM with absolute addresses, IN_PLACE in a reduction
    a = np.arange(4, dtype="i4")
    b = np.zeros(4, dtype="i4")
    ta = MPI.INT.Create_hindexed([4], [MPI.Get_address(a)]).Commit()
    tb = MPI.INT.Create_hindexed([4], [MPI.Get_address(b)]).Commit()
    try:
        selfcomm.Sendrecv([MPI.BOTTOM, 1, ta], 0, 5,
                          [MPI.BOTTOM, 1, tb], 0, 5)
    finally:
        ta.Free()
        tb.Free()
    assert b.tolist() == [0, 1, 2, 3]
    selfcomm.Allreduce(MPI.IN_PLACE, b, op=MPI.SUM)
    assert b.tolist() == [0, 1, 2, 3]
