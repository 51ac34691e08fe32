"""Buffers exported through DLPack (__dlpack__, __dlpack_device__) or the
CUDA Array Interface (__cuda_array_interface__) instead of the buffer
protocol: point-to-point, nonblocking, collectives, Pack/Unpack, strided
tensors, read-only and device memory refused, broken exporters, leaks.

Three exporters of host memory, none with the buffer protocol:
* NumpyDL: a numpy array's own __dlpack__ (numpy >= 1.22: a legacy capsule,
  and a producer older than max_version);
* Tensor: a DLPack producer written here with ctypes, versioned or legacy,
  on any device, read-only or strided, that records every deleter call;
* CAI: a __cuda_array_interface__ dict describing a numpy array's host
  memory.
"""
import ctypes
import gc
import sys

import numpy as np
import pytest

from _impl import MPI, UNDER_ASAN, peer, rss_kb, self_transfer


kDLCPU, kDLCUDA, kDLCUDAHost, kDLROCM = 1, 2, 3, 10
READ_ONLY = 1


# ---- the exporters ----------------------------------------------------------

class NumpyDL:
    """numpy's own DLPack export, without numpy's buffer protocol."""

    def __init__(self, a):
        self.a = a

    def __dlpack__(self, *, stream=None):
        return self.a.__dlpack__(stream=stream)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


class CAI:
    """A __cuda_array_interface__ of a numpy array's (host) memory."""

    def __init__(self, a, readonly=False, **changes):
        self.a = a
        cai = dict(version=3, data=(a.ctypes.data, readonly), shape=a.shape,
                   typestr=a.dtype.str,
                   strides=None if a.flags.c_contiguous else a.strides)
        cai.update(changes)
        self.__cuda_array_interface__ = cai


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8),
                ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice),
                ("ndim", ctypes.c_int32), ("dtype", DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class DLManaged(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", DELETER)]


class DLVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedVersioned(ctypes.Structure):
    _fields_ = [("version", DLVersion), ("manager_ctx", ctypes.c_void_p),
                ("deleter", DELETER), ("flags", ctypes.c_uint64),
                ("dl_tensor", DLTensor)]


# capsule functions on raw pointers: a capsule destructor runs on a
# capsule whose reference count is already 0
_capsule_new = ctypes.PYFUNCTYPE(
    ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)(
        ("PyCapsule_New", ctypes.pythonapi))
_capsule_is_valid = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(
        ("PyCapsule_IsValid", ctypes.pythonapi))
_capsule_pointer = ctypes.PYFUNCTYPE(
    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
        ("PyCapsule_GetPointer", ctypes.pythonapi))

LIVE = {}           # managed tensor address -> what keeps it alive
EVENTS = {"deleted": 0, "twice": 0}


@DELETER
def _deleter(address):
    if LIVE.pop(address, None) is None:
        EVENTS["twice"] += 1
    else:
        EVENTS["deleted"] += 1


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _capsule_destructor(capsule):
    # the producer's duty: free a capsule nobody took (name unchanged)
    for name in (b"dltensor", b"dltensor_versioned"):
        if _capsule_is_valid(capsule, name):
            _deleter(_capsule_pointer(capsule, name))


_DESTRUCTOR = ctypes.cast(_capsule_destructor, ctypes.c_void_p)


def dl_dtype(dt):
    code = {"i": 0, "u": 1, "f": 2, "c": 5, "b": 6}[dt.kind]
    return DLDataType(code, dt.itemsize * 8, 1)


def make_capsule(a, versioned=True, flags=0, device=(kDLCPU, 0),
                 major=1, strides=True, name=None, byte_offset=0):
    """A capsule of a fresh managed tensor describing array a (its address
    split into data and byte_offset)."""
    m = DLManagedVersioned() if versioned else DLManaged()
    shape = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
    st = (ctypes.c_int64 * max(a.ndim, 1))(
        *[s // a.itemsize for s in a.strides])
    t = m.dl_tensor
    t.data = a.ctypes.data - byte_offset if a.size else None
    t.device = DLDevice(*device)
    t.ndim = a.ndim
    t.dtype = dl_dtype(a.dtype)
    t.shape = shape
    t.strides = st if strides else None
    t.byte_offset = byte_offset
    m.deleter = _deleter
    if versioned:
        m.version = DLVersion(major, 0)
        m.flags = flags
    address = ctypes.addressof(m)
    LIVE[address] = (m, shape, st, a)
    if name is None:
        name = b"dltensor_versioned" if versioned else b"dltensor"
    return _capsule_new(address, name, _DESTRUCTOR)


class Tensor:
    """An array exported only through DLPack, by a producer of our own."""

    def __init__(self, a, versioned=True, readonly=False,
                 device=(kDLCPU, 0), **capsule_args):
        self.a = a
        self.versioned = versioned
        self.flags = READ_ONLY if readonly else 0
        self.device = device
        self.capsule_args = capsule_args
        self.calls = []

    def __dlpack_device__(self):
        return self.device

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None,
                   copy=None):
        self.calls.append(dict(stream=stream, max_version=max_version,
                               copy=copy))
        versioned = (self.versioned and max_version is not None
                     and tuple(max_version) >= (1, 0))
        return make_capsule(self.a, versioned, self.flags, self.device,
                            **self.capsule_args)


def settle():
    gc.collect()
    return dict(EVENTS, live=len(LIVE))


@pytest.fixture
def no_tensor_leak():
    """Every managed tensor made during the test is deleted exactly once.
    (mpi4py 3.1 calls the deleter as soon as it has the address, while the
    message may still use the memory; fastmpi once the message is done.)"""
    before = settle()
    yield
    after = settle()
    assert after["twice"] == before["twice"], "a deleter ran twice"
    assert after["live"] == before["live"], "a managed tensor leaked"


EXPORTERS = {
    "numpy_dlpack": NumpyDL,
    "tensor_versioned": Tensor,
    "tensor_legacy": lambda a: Tensor(a, versioned=False),
    "cai": CAI,
}


def take(x):
    """Have x read as a buffer (a send to PROC_NULL may not look at it)."""
    MPI.COMM_SELF.Bcast(x, root=0)


def pair_exchange(comm, send, recv, tag):
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


# ---- point-to-point ---------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(EXPORTERS))
@pytest.mark.parametrize("dt", ["i4", "i8", "f8", "c16", "u1"])
def test_send_recv(comm, rank, kind, dt, no_tensor_leak):
    wrap = EXPORTERS[kind]
    send = (np.arange(6) + 10 * rank).astype(dt)
    recv = np.zeros(6, dt)
    p = pair_exchange(comm, wrap(send), wrap(recv), tag=3)
    assert np.array_equal(recv, (np.arange(6) + 10 * p).astype(dt))


@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_send_recv_spec(comm, rank, kind, no_tensor_leak):
    wrap = EXPORTERS[kind]
    send = np.arange(8, dtype="i4") + rank
    recv = np.full(8, -1, "i4")
    p = pair_exchange(comm, [wrap(send), 5, MPI.INT],
                      [wrap(recv), MPI.INT], tag=4)
    assert list(recv[:5]) == list(np.arange(5) + p)
    assert list(recv[5:]) == [-1] * 3


@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_isend_irecv_keeps_the_exporter(comm, rank, kind, no_tensor_leak):
    wrap = EXPORTERS[kind]
    p = peer(comm)
    send = np.arange(5, dtype="f8") + rank
    recv = np.zeros(5)
    # only the requests hold the exporters
    rreq = comm.Irecv(wrap(recv), source=p, tag=5)
    sreq = comm.Isend(wrap(send), dest=p, tag=5)
    gc.collect()
    MPI.Request.Waitall([rreq, sreq])
    assert np.array_equal(recv, np.arange(5) + p)
    del rreq, sreq


@pytest.mark.beyond_mpi4py
def test_tensor_freed_when_request_completes(comm, rank, no_tensor_leak):
    p = peer(comm)
    recv = Tensor(np.zeros(4))
    before = len(LIVE)
    rreq = comm.Irecv(recv, source=p, tag=6)
    assert len(LIVE) == before + 1          # taken, held by the request
    comm.Send(np.arange(4.0), dest=p, tag=6)
    rreq.Wait()
    gc.collect()
    assert len(LIVE) == before              # released on completion
    assert list(recv.a) == [0.0, 1.0, 2.0, 3.0]


def test_sendrecv_self(no_tensor_leak):
    c = MPI.COMM_SELF
    for wrap in EXPORTERS.values():
        a = np.arange(7, dtype="i8")
        b = np.zeros(7, "i8")
        c.Sendrecv(wrap(a), 0, 7, wrap(b), 0, 7)
        assert np.array_equal(a, b)


# ---- collectives ------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_bcast(comm, rank, size, kind, no_tensor_leak):
    wrap = EXPORTERS[kind]
    for root in range(size):
        buf = np.arange(4, dtype="i4") + root if rank == root \
            else np.zeros(4, "i4")
        comm.Bcast(wrap(buf), root=root)
        assert np.array_equal(buf, np.arange(4) + root)


@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_gather_and_gatherv(comm, rank, size, kind, no_tensor_leak):
    wrap = EXPORTERS[kind]
    root = size - 1
    recv = np.zeros(3 * size, "f8")
    comm.Gather(wrap(np.full(3, rank, "f8")),
                wrap(recv) if rank == root else None, root=root)
    if rank == root:
        assert np.array_equal(recv, np.repeat(np.arange(size), 3))
    counts = [r + 1 for r in range(size)]
    recv = np.zeros(sum(counts), "i8")
    comm.Gatherv(wrap(np.full(rank + 1, rank, "i8")),
                 [wrap(recv), counts] if rank == root else None, root=root)
    if rank == root:
        assert np.array_equal(recv, np.repeat(np.arange(size), counts))


@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_allreduce(comm, size, rank, kind, no_tensor_leak):
    wrap = EXPORTERS[kind]
    out = np.zeros(5, "i8")
    comm.Allreduce(wrap(np.arange(5, dtype="i8") * (rank + 1)), wrap(out),
                   op=MPI.SUM)
    assert np.array_equal(out, np.arange(5) * size * (size + 1) // 2)
    inplace = np.arange(5, dtype="f8") + rank
    comm.Allreduce(MPI.IN_PLACE, wrap(inplace), op=MPI.MAX)
    assert np.array_equal(inplace, np.arange(5) + size - 1)


@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_alltoallv(comm, rank, size, kind, no_tensor_leak):
    wrap = EXPORTERS[kind]
    counts = [2] * size
    displs = [2 * r for r in range(size)]
    send = np.array([100 * rank + r for r in range(size) for _ in (0, 1)],
                    "i4")
    recv = np.zeros(2 * size, "i4")
    comm.Alltoallv([wrap(send), (counts, displs), MPI.INT],
                   [wrap(recv), (counts, displs), MPI.INT])
    assert list(recv) == [100 * r + rank for r in range(size)
                          for _ in (0, 1)]


# ---- Pack, Unpack, Get_address ----------------------------------------------

@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_pack_unpack(kind, no_tensor_leak):
    wrap = EXPORTERS[kind]
    comm = MPI.COMM_SELF
    a = np.arange(6, dtype="i4")
    packed = np.zeros(MPI.INT.Pack_size(6, comm), "u1")
    pos = MPI.INT.Pack(wrap(a), wrap(packed), 0, comm)
    assert pos == a.nbytes
    out = np.zeros(6, "i4")
    assert MPI.INT.Unpack(wrap(packed), 0, wrap(out), comm) == pos
    assert np.array_equal(out, a)


@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_get_address(kind, no_tensor_leak):
    a = np.arange(3.0)
    assert MPI.Get_address(EXPORTERS[kind](a)) == a.ctypes.data


def test_get_address_needs_contiguous_memory(no_tensor_leak):
    a = np.arange(12, dtype="i4").reshape(3, 4)
    for wrap in (Tensor, CAI):
        assert MPI.Get_address(wrap(a)) == a.ctypes.data
        f = np.asfortranarray(a)
        assert MPI.Get_address(wrap(f)) == f.ctypes.data
        with pytest.raises(BufferError, match="location.*contiguous"):
            MPI.Get_address(wrap(a[:, ::2]))
    # plain buffers alike
    assert MPI.Get_address(np.asfortranarray(a)) != 0
    with pytest.raises(BufferError, match="location.*not contiguous"):
        MPI.Get_address(a[:, ::2])
    with pytest.raises(TypeError, match="location.*buffer or MPI.BOTTOM"):
        MPI.Get_address(3.5)


@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_buffer_of_an_exporter(kind, no_tensor_leak):
    a = np.arange(4, dtype="u1")
    for cls in (MPI.buffer, MPI.memory):
        mem = cls(EXPORTERS[kind](a))
        assert mem.address == a.ctypes.data
        assert bytes(mem) == bytes(range(4))
        mem.release()
    mem = MPI.buffer.frombuffer(EXPORTERS[kind](a), readonly=False)
    mem[0] = 9
    assert a[0] == 9
    mem.release()


def test_buffer_of_a_tensor_honours_byte_offset(no_tensor_leak):
    a = np.arange(8, dtype="u1")
    for off in range(4):
        mem = MPI.buffer(Tensor(a[off:], byte_offset=off))
        assert mem.address == a.ctypes.data + off
        assert mem[0] == off and len(mem) == 8 - off
        mem.release()


def test_buffer_of_an_exporter_bad(no_tensor_leak):
    a = np.arange(12, dtype="i4").reshape(3, 4)
    for wrap in (Tensor, CAI):
        with pytest.raises(BufferError, match="not C-contiguous"):
            MPI.buffer(wrap(a[:, ::2]))
    with pytest.raises(BufferError, match="read-only"):
        MPI.buffer.frombuffer(CAI(a, readonly=True), readonly=False)
    with pytest.raises(BufferError, match="device"):
        MPI.buffer(Tensor(a, device=(2, 0)))


# ---- what the exporter says: dtype, shape, offsets, strides -----------------

@pytest.mark.parametrize("kind", sorted(EXPORTERS))
@pytest.mark.parametrize("dt, mpitype", [
    ("i1", "SIGNED_CHAR"), ("i2", "SHORT"), ("i4", "INT"), ("u2",
     "UNSIGNED_SHORT"), ("f4", "FLOAT"), ("f8", "DOUBLE"),
    ("c8", "C_FLOAT_COMPLEX"), ("c16", "C_DOUBLE_COMPLEX"), ("?", "C_BOOL")])
def test_datatype_inferred(kind, dt, mpitype, no_tensor_leak):
    if kind == "numpy_dlpack" and dt == "?" and \
            np.lib.NumpyVersion(np.__version__) < "1.25.0":
        pytest.skip("numpy exports bool through DLPack from 1.25 on")
    a = np.ones(3, dt)
    b = np.zeros(3, dt)
    st = MPI.Status()
    MPI.COMM_SELF.Sendrecv(EXPORTERS[kind](a), 0, 8, EXPORTERS[kind](b), 0,
                           8, status=st)
    assert np.array_equal(a, b)
    assert st.Get_count(getattr(MPI, mpitype)) == 3


def test_scalar_and_empty_tensors(no_tensor_leak):
    c = MPI.COMM_SELF
    for wrap in (Tensor, CAI):
        a, b = np.array(7.5), np.array(0.0)
        c.Sendrecv(wrap(a), 0, 9, wrap(b), 0, 9)
        assert b == 7.5
        e, f = np.zeros(0, "i4"), np.zeros(0, "i4")
        st = MPI.Status()
        c.Sendrecv(wrap(e), 0, 9, wrap(f), 0, 9, status=st)
        assert st.Get_count(MPI.INT) == 0


def test_tensor_byte_offset(no_tensor_leak):
    a = np.arange(5, dtype="i8")
    b = np.zeros(5, "i8")
    MPI.COMM_SELF.Sendrecv(Tensor(a, byte_offset=24), 0, 10,
                           Tensor(b, byte_offset=8), 0, 10)
    assert np.array_equal(a, b)
    assert MPI.Get_address(Tensor(a, byte_offset=16)) == a.ctypes.data


def test_tensor_without_strides_is_c_order(no_tensor_leak):
    a = np.arange(6, dtype="i4").reshape(2, 3)
    b = np.zeros((2, 3), "i4")
    MPI.COMM_SELF.Sendrecv(Tensor(a, strides=False), 0, 10,
                           Tensor(b, strides=False), 0, 10)
    assert np.array_equal(a, b)


@pytest.mark.beyond_mpi4py
@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_strided_send_recv_and_reduce(comm, rank, size, kind,
                                      no_tensor_leak):
    wrap = EXPORTERS[kind]
    p = peer(comm)
    base = np.arange(24, dtype="f8").reshape(4, 6) + 100 * rank
    recv = np.full((4, 6), -1.0)
    pair_exchange(comm, wrap(base[:, 1::2]), wrap(recv[:, ::2]), tag=12)
    want = np.full((4, 6), -1.0)
    want[:, ::2] = (np.arange(24.0).reshape(4, 6) + 100 * p)[:, 1::2]
    assert np.array_equal(recv, want)
    # a reduction stages a strided buffer through a contiguous temporary
    out = np.zeros((4, 6))
    comm.Allreduce(wrap(base[::-1, ::3]), wrap(out[:, ::3]), op=MPI.SUM)
    total = sum(np.arange(24.0).reshape(4, 6) + 100 * r for r in range(size))
    assert np.array_equal(out[:, ::3], total[::-1, ::3])
    assert not out[:, 1::3].any() and not out[:, 2::3].any()


# ---- refused: read-only, device memory --------------------------------------

def test_cai_read_only_receive_refused(no_tensor_leak):
    c = MPI.COMM_SELF
    b = np.zeros(3)
    with pytest.raises(BufferError, match="read-only|not writable"):
        c.Sendrecv(np.ones(3), 0, 13, CAI(b, readonly=True), 0, 13)
    c.Sendrecv(CAI(np.ones(3), readonly=True), 0, 13, b, 0, 13)
    assert list(b) == [1.0] * 3


@pytest.mark.beyond_mpi4py
def test_dlpack_read_only_receive_refused(no_tensor_leak):
    """A versioned tensor flagged read-only (mpi4py 3.1 knows no versioned
    capsule) is sent, never received into."""
    c = MPI.COMM_SELF
    b = np.zeros(3)
    ro = Tensor(b, readonly=True)
    with pytest.raises(BufferError, match="read-only"):
        c.Sendrecv(np.ones(3), 0, 14, ro, 0, 14)
    with pytest.raises(BufferError, match="read-only"):
        MPI.INT.Unpack(bytearray(24), 0, ro, c)
    c.Sendrecv(Tensor(np.full(3, 2.0), readonly=True), 0, 14, b, 0, 14)
    assert list(b) == [2.0] * 3


@pytest.mark.beyond_mpi4py
def test_dlpack_versioned_asked_first(no_tensor_leak):
    c = MPI.COMM_SELF
    s, r = Tensor(np.arange(3.0)), Tensor(np.zeros(3))
    c.Sendrecv(s, 0, 15, r, 0, 15)
    assert list(r.a) == [0.0, 1.0, 2.0]
    assert s.calls == [dict(stream=None, max_version=(1, 0), copy=None)]
    # a receive must not get a copy
    assert r.calls == [dict(stream=None, max_version=(1, 0), copy=False)]


@pytest.mark.beyond_mpi4py
@pytest.mark.parametrize("device", [(kDLCUDA, 0), (kDLROCM, 1)])
def test_device_tensor_refused(device, no_tensor_leak):
    """Device memory goes only to an MPI library that takes it; neither
    Debian build does, so the call says so instead of letting MPI read a
    device address on the host (mpi4py 3.1 passes it on regardless)."""
    c = MPI.COMM_SELF
    t = Tensor(np.zeros(4), device=device)
    name = "CUDA" if device[0] == kDLCUDA else "ROCm"
    with pytest.raises(BufferError, match=f"not {name}-aware"):
        c.Sendrecv(np.ones(4), 0, 16, t, 0, 16)
    with pytest.raises(BufferError, match=f"not {name}-aware"):
        c.Allreduce(t, np.zeros(4))
    assert t.calls == []        # refused before any capsule was made


@pytest.mark.beyond_mpi4py
def test_device_of_the_tensor_itself_refused(no_tensor_leak):
    """__dlpack_device__ says CPU, the tensor says CUDA: the tensor wins."""
    t = Tensor(np.zeros(4), device=(kDLCUDA, 0))
    t.__dlpack_device__ = lambda: (kDLCPU, 0)
    with pytest.raises(BufferError, match="not CUDA-aware"):
        take(t)


def test_host_memory_of_a_device_accepted(no_tensor_leak):
    a, b = np.arange(4.0), np.zeros(4)
    MPI.COMM_SELF.Sendrecv(Tensor(a, device=(kDLCUDAHost, 0)), 0, 17,
                           Tensor(b, device=(kDLCUDAHost, 0)), 0, 17)
    assert np.array_equal(a, b)


@pytest.mark.beyond_mpi4py
def test_device_memory_never_read_by_fastmpi(no_tensor_leak):
    """Paths that read memory on the host (a user Op, Attach_buffer)
    refuse a foreign exporter's device memory even where MPI would take
    it; here the library takes none, so the message is the same."""
    t = Tensor(np.zeros(8), device=(kDLCUDA, 0))
    with pytest.raises(BufferError, match="CUDA"):
        MPI.Attach_buffer(t)


# ---- broken exporters -------------------------------------------------------

class Raises(Tensor):
    def __dlpack__(self, **kwargs):
        raise RuntimeError("no tensor today")


class Returns(Tensor):
    def __init__(self, value):
        super().__init__(np.zeros(2))
        self.value = value

    def __dlpack__(self, **kwargs):
        return self.value


def test_dlpack_that_raises(no_tensor_leak):
    with pytest.raises(RuntimeError, match="no tensor today"):
        take(Raises(np.zeros(2)))


@pytest.mark.parametrize("junk", [None, 42, b"dltensor", "capsule"])
def test_dlpack_returns_junk(junk, no_tensor_leak):
    with pytest.raises(BufferError):
        take(Returns(junk))


def test_capsule_used_twice(no_tensor_leak):
    a = np.zeros(3)
    cap = make_capsule(a, versioned=False)
    t = Returns(cap)
    take(t)
    with pytest.raises(BufferError):
        take(t)
    del t, cap


@pytest.mark.beyond_mpi4py
def test_capsule_misnamed_or_newer(no_tensor_leak):
    """Refused capsules stay the producer's: its destructor frees them
    (no_tensor_leak counts the deleter calls)."""
    c = MPI.COMM_SELF
    for name, says in [(b"used_dltensor", "used"),
                       (b"tensor", "not a DLPack capsule")]:
        cap = make_capsule(np.zeros(2), name=name)
        with pytest.raises(BufferError, match=says):
            take(Returns(cap))
        _deleter(_capsule_pointer(id(cap), name))  # nobody else can
        del cap
    with pytest.raises(BufferError, match="version"):
        take(Tensor(np.zeros(2), major=2))


def test_dlpack_device_bad():
    t = Tensor(np.zeros(2))
    c = MPI.COMM_SELF
    for bad, exc in [(None, TypeError), ((None, 0), TypeError),
                     ((1,), ValueError), ((1, 0, 0), ValueError)]:
        t.__dlpack_device__ = lambda bad=bad: bad
        with pytest.raises(exc):
            take(t)
    assert t.calls == []


@pytest.mark.beyond_mpi4py
def test_dlpack_device_missing_is_fine(no_tensor_leak):
    class NoDevice:
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, stream=None):
            return make_capsule(self.a, versioned=False)

    b = np.zeros(3)
    MPI.COMM_SELF.Sendrecv(np.arange(3.0), 0, 18, NoDevice(b), 0, 18)
    assert list(b) == [0.0, 1.0, 2.0]


def test_cai_missing_keys():
    c = MPI.COMM_SELF
    for key in ("data", "shape", "typestr"):
        x = CAI(np.zeros(3))
        del x.__cuda_array_interface__[key]
        with pytest.raises(KeyError):
            take(x)
    for key in ("version", "strides"):      # optional
        x = CAI(np.zeros(3))
        del x.__cuda_array_interface__[key]
        take(x)
    x = CAI(np.zeros(3))
    x.__cuda_array_interface__ = {}
    with pytest.raises(KeyError):
        take(x)


def test_cai_bad_values():
    c = MPI.COMM_SELF
    a = np.zeros(3)
    for changes, exc in [
            (dict(data=None), TypeError), (dict(data=0), TypeError),
            (dict(data=(a.ctypes.data,)), ValueError),
            (dict(data=("0x10", False)), TypeError)]:
        with pytest.raises(exc):
            take(CAI(a, **changes))
    x = CAI(a)
    x.__cuda_array_interface__ = list(x.__cuda_array_interface__.items())
    with pytest.raises(TypeError):
        take(x)
    with pytest.raises(TypeError):
        take(CAI(a, descr=42))
    take(CAI(a, descr=None))
    take(CAI(a, descr=[("", "<f8")]))


def test_cai_records_go_as_bytes():
    """A record typestr (|V) has no MPI datatype: its bytes go, with a
    RuntimeWarning (as in mpi4py)."""
    c = MPI.COMM_SELF
    a = np.arange(15.0)
    b = np.zeros((5, 3))
    rec = CAI(b, typestr="|V24", shape=(5,), strides=(24,),
              descr=[("", "<f8")] * 3)
    with pytest.warns(RuntimeWarning):
        c.Sendrecv(a, 0, 22, rec, 0, 22)
    assert np.array_equal(b.ravel(), a)


STRICTER = pytest.mark.beyond_mpi4py     # mpi4py 3.1 takes it, or crashes


@pytest.mark.parametrize("typestr, exc", [
    ("f8", ValueError), ("<f", ValueError), ("<f8x", ValueError),
    (8, TypeError),
    pytest.param("<x8", ValueError, marks=STRICTER),
    pytest.param("", ValueError, marks=STRICTER),
    pytest.param("<O8", ValueError, marks=STRICTER)])
def test_cai_bad_typestr(typestr, exc):
    with pytest.raises(exc):
        take(CAI(np.zeros(3), typestr=typestr))


@pytest.mark.beyond_mpi4py
def test_cai_other_checks():
    c = MPI.COMM_SELF
    a = np.zeros(3)
    with pytest.raises(BufferError, match="mask"):
        take(CAI(a, mask=CAI(a)))
    with pytest.raises(TypeError, match="version"):
        take(CAI(a, version="3"))
    with pytest.raises(ValueError):
        take(CAI(a, strides=(8, 8)))
    with pytest.raises(BufferError):
        take(CAI(a, shape=(-3,)))
    # a type MPI has no datatype for: sent with an explicit one
    h = np.arange(4, dtype="f2")
    with pytest.raises(ValueError, match="no MPI datatype"):
        take(CAI(h))
    out = np.zeros(4, "f2")
    c.Sendrecv([CAI(h), MPI.UINT16_T], 0, 19, [CAI(out), MPI.UINT16_T], 0, 19)
    assert np.array_equal(h, out)
    # non-native byte order
    with pytest.raises(ValueError, match="byte order"):
        take(CAI(a.astype(">f8")))


# ---- leaks ------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(EXPORTERS))
def test_no_leak_round_trips(kind, no_tensor_leak):
    wrap = EXPORTERS[kind]
    c = MPI.COMM_SELF
    a = np.arange(8, dtype="f8")
    b = np.zeros(8)

    def loop(n):
        for _ in range(n):
            c.Sendrecv(wrap(a), 0, 20, wrap(b), 0, 20)
            try:
                c.Sendrecv(a, 0, 21, CAI(b, readonly=True), 0, 21)
            except BufferError:
                pass

    loop(1000)
    gc.collect()
    blocks0, rss0 = sys.getallocatedblocks(), rss_kb()
    loop(10_000)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    assert grew < 200, f"{grew} Python blocks leaked over 10000 round trips"
    if not UNDER_ASAN:
        assert rss_kb() - rss0 < 8 * 1024
    assert np.array_equal(a, b)
