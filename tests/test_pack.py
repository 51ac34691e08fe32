"""Datatype.Pack/Unpack, Pack_size, and the external32 variants."""
import struct

import numpy as np
import pytest

from _impl import MPI, FLAVOR, peer


def test_pack_unpack_round_trip():
    comm = MPI.COMM_SELF
    a = np.arange(5, dtype="i")
    d = np.array([1.5, 2.5])
    size = MPI.INT.Pack_size(5, comm) + MPI.DOUBLE.Pack_size(2, comm)
    buf = bytearray(size)
    pos = MPI.INT.Pack(a, buf, 0, comm)
    assert pos == a.nbytes
    pos = MPI.DOUBLE.Pack(d, buf, pos, comm)
    assert pos == a.nbytes + d.nbytes
    a2 = np.zeros(5, dtype="i")
    d2 = np.zeros(2)
    pos2 = MPI.INT.Unpack(buf, 0, a2, comm)
    pos2 = MPI.DOUBLE.Unpack(buf, pos2, d2, comm)
    assert pos2 == pos
    assert (a2 == a).all() and (d2 == d).all()


def test_pack_derived_type():
    comm = MPI.COMM_SELF
    col = MPI.INT.Create_vector(3, 1, 3).Commit()
    m = np.arange(9, dtype="i").reshape(3, 3)
    buf = bytearray(col.Pack_size(1, comm))
    pos = col.Pack(m, buf, 0, comm)
    assert pos == 3 * MPI.INT.Get_size()
    assert list(np.frombuffer(bytes(buf[:pos]), dtype="i")) == [0, 3, 6]
    out = np.zeros((3, 3), dtype="i")
    col.Unpack(buf, 0, out, comm)
    assert list(out[:, 0]) == [0, 3, 6] and (out[:, 1:] == 0).all()
    col.Free()


def test_pack_send_packed(comm, rank):
    p = peer(comm)
    a = np.arange(4, dtype="d") + rank
    buf = bytearray(MPI.DOUBLE.Pack_size(4, comm))
    n = MPI.DOUBLE.Pack(a, buf, 0, comm)
    got = bytearray(len(buf))
    comm.Sendrecv([buf, n, MPI.PACKED], p, 1, [got, MPI.PACKED], p, 1)
    out = np.zeros(4)
    MPI.DOUBLE.Unpack(got, 0, out, comm)
    assert (out == np.arange(4) + p).all()


def test_external32_round_trip():
    a = np.array([1, -2, 3], dtype="i4")
    n = MPI.INT32_T.Pack_external_size("external32", 3)
    assert n == 12
    buf = bytearray(n)
    pos = MPI.INT32_T.Pack_external("external32", a, buf, 0)
    assert pos == 12
    # external32 is big-endian
    assert struct.unpack(">3i", bytes(buf)) == (1, -2, 3)
    out = np.zeros(3, dtype="i4")
    assert MPI.INT32_T.Unpack_external("external32", buf, 0, out) == 12
    assert (out == a).all()


def test_external32_struct():
    if FLAVOR == "mpich":
        # MPICH 4.0.2 dies of SIGILL here (plain C reproducer in docs/datatypes.md):
        # fastmpi refuses instead
        s = MPI.Datatype.Create_struct([1, 1], [0, 8],
                                       [MPI.INT32_T, MPI.DOUBLE]).Commit()
        with pytest.raises(NotImplementedError, match="MPICH"):
            s.Pack_external_size("external32", 1)
        with pytest.raises(NotImplementedError, match="MPICH"):
            s.Pack_external("external32", bytearray(16), bytearray(16), 0)
        s.Free()
        return
    s = MPI.Datatype.Create_struct([1, 1], [0, 8], [MPI.INT32_T, MPI.DOUBLE])
    t = s.Create_resized(0, 16).Commit()
    s.Free()
    rec = np.zeros(2, dtype=np.dtype({"names": ["i", "d"],
                                      "formats": ["i4", "f8"],
                                      "offsets": [0, 8], "itemsize": 16}))
    rec["i"] = [7, 8]
    rec["d"] = [0.25, 0.5]
    n = t.Pack_external_size("external32", 2)
    assert n == 24
    buf = bytearray(n)
    assert t.Pack_external("external32", rec, buf, 0) == 24
    assert struct.unpack(">idid", bytes(buf)) == (7, 0.25, 8, 0.5)
    out = np.zeros_like(rec)
    t.Unpack_external("external32", buf, 0, out)
    assert (out == rec).all()
    t.Free()


def test_pack_size_grows():
    comm = MPI.COMM_SELF
    assert MPI.BYTE.Pack_size(0, comm) >= 0
    assert MPI.INT.Pack_size(10, comm) >= 10 * MPI.INT.Get_size()


def test_pack_overflow_is_mpi_error():
    comm = MPI.COMM_SELF
    a = np.arange(4, dtype="d")
    with pytest.raises(MPI.Exception):
        MPI.DOUBLE.Pack(a, bytearray(8), 0, comm)


@pytest.mark.beyond_mpi4py
def test_pack_unpack_short_buffers():
    # MPICH 4.0.2 packs a truncated prefix and returns success: fastmpi
    # checks first (ERR_TRUNCATE)
    comm = MPI.COMM_SELF
    a = np.arange(4, dtype="d")
    with pytest.raises(MPI.Exception, match="do not fit") as e:
        MPI.DOUBLE.Pack(a, bytearray(40), 16, comm)
    assert e.value.Get_error_class() == MPI.ERR_TRUNCATE
    with pytest.raises(MPI.Exception, match="do not fit"):
        MPI.DOUBLE.Unpack(bytearray(16), 0, a, comm)
    with pytest.raises(MPI.Exception, match="do not fit"):
        MPI.DOUBLE.Unpack_external("external32", bytearray(16), 0, a)
    with pytest.raises(MPI.Exception, match="do not fit"):
        MPI.DOUBLE.Pack_external("external32", a, bytearray(31), 0)


@pytest.mark.beyond_mpi4py
@pytest.mark.parametrize("call, exc, word", [
    (lambda: MPI.INT.Pack(np.zeros(2, "i"), bytearray(8), -1, MPI.COMM_SELF),
     ValueError, "position"),
    (lambda: MPI.INT.Pack(np.zeros(2, "i"), bytearray(8), 9, MPI.COMM_SELF),
     ValueError, "position"),
    (lambda: MPI.INT.Pack(np.zeros(2, "i"), bytes(8), 0, MPI.COMM_SELF),
     TypeError, "outbuf"),
    (lambda: MPI.INT.Pack(np.zeros(2, "i"), bytearray(8), 0, None),
     TypeError, "comm"),
    (lambda: MPI.INT.Pack(3, bytearray(8), 0, MPI.COMM_SELF),
     TypeError, "inbuf"),
    (lambda: MPI.INT.Unpack(bytearray(8), 0, bytes(8), MPI.COMM_SELF),
     TypeError, "outbuf"),
    (lambda: MPI.INT.Pack_size(-1, MPI.COMM_SELF), ValueError, "count"),
    (lambda: MPI.INT.Pack_external_size("native", 1), ValueError,
     "datarep"),
    (lambda: MPI.INT.Pack_external("external32", np.zeros(1, "i"),
                                   bytearray(4), 5), ValueError, "position"),
    (lambda: MPI.INT.Pack_external_size("external32", -3), ValueError,
     "count"),
])
def test_pack_bad_args(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


@pytest.mark.beyond_mpi4py
def test_pack_uncommitted_and_freed():
    t = MPI.INT.Create_contiguous(2)
    with pytest.raises(MPI.Exception, match="not committed"):
        t.Pack(np.zeros(2, "i"), bytearray(16), 0, MPI.COMM_SELF)
    t.Free()
    with pytest.raises((MPI.Exception, ValueError), match="DATATYPE_NULL"):
        t.Pack(np.zeros(2, "i"), bytearray(16), 0, MPI.COMM_SELF)
    with pytest.raises(MPI.Exception):
        t.Pack_size(1, MPI.COMM_SELF)
