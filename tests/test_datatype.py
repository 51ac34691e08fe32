"""Predefined datatypes: size, extent, name."""
import ctypes

import pytest

from _impl import MPI

C = ctypes
PLAIN = {
    "CHAR": C.c_char, "SIGNED_CHAR": C.c_byte, "UNSIGNED_CHAR": C.c_ubyte,
    "SHORT": C.c_short, "UNSIGNED_SHORT": C.c_ushort,
    "INT": C.c_int, "UNSIGNED": C.c_uint, "LONG": C.c_long,
    "UNSIGNED_LONG": C.c_ulong, "LONG_LONG": C.c_longlong,
    "UNSIGNED_LONG_LONG": C.c_ulonglong,
    "FLOAT": C.c_float, "DOUBLE": C.c_double, "LONG_DOUBLE": C.c_longdouble,
    "C_BOOL": C.c_bool,
    "INT8_T": C.c_int8, "INT16_T": C.c_int16, "INT32_T": C.c_int32,
    "INT64_T": C.c_int64, "UINT8_T": C.c_uint8, "UINT16_T": C.c_uint16,
    "UINT32_T": C.c_uint32, "UINT64_T": C.c_uint64,
    "BYTE": C.c_ubyte, "PACKED": C.c_ubyte,
}
COMPLEX = {"C_FLOAT_COMPLEX": C.c_float, "C_DOUBLE_COMPLEX": C.c_double}
PAIRS = {
    "FLOAT_INT": C.c_float, "DOUBLE_INT": C.c_double, "LONG_INT": C.c_long,
    "TWOINT": C.c_int, "SHORT_INT": C.c_short,
    "LONG_DOUBLE_INT": C.c_longdouble,
}
MPI_NAMES = {"TWOINT": "MPI_2INT", "C_FLOAT_COMPLEX": "MPI_C_FLOAT_COMPLEX",
             "C_DOUBLE_COMPLEX": "MPI_C_DOUBLE_COMPLEX",
             "UNSIGNED": "MPI_UNSIGNED"}


def _check(dt, size, extent):
    assert isinstance(dt, MPI.Datatype)
    assert dt.Get_size() == size
    assert dt.size == size
    lb, ext = dt.Get_extent()
    assert (lb, ext) == (0, extent)
    assert dt.extent == extent
    assert dt.lb == 0 if hasattr(dt, "lb") else True
    assert bool(dt)


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain(name):
    ct = PLAIN[name]
    _check(getattr(MPI, name), C.sizeof(ct), C.sizeof(ct))


@pytest.mark.parametrize("name", sorted(COMPLEX))
def test_complex(name):
    n = 2 * C.sizeof(COMPLEX[name])
    _check(getattr(MPI, name), n, n)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_pair_types(name):
    class S(C.Structure):
        _fields_ = [("v", PAIRS[name]), ("i", C.c_int)]
    size = C.sizeof(PAIRS[name]) + C.sizeof(C.c_int)
    _check(getattr(MPI, name), size, C.sizeof(S))


@pytest.mark.parametrize("name", sorted(PLAIN) + sorted(COMPLEX) + sorted(PAIRS))
def test_names(name):
    dt = getattr(MPI, name)
    got = dt.Get_name()
    assert isinstance(got, str)
    expect = MPI_NAMES.get(name, "MPI_" + name)
    # names come from the MPI library, which may use the alias's name
    alternatives = {
        "C_FLOAT_COMPLEX": ("MPI_C_FLOAT_COMPLEX", "MPI_C_COMPLEX"),
        "LONG_LONG": ("MPI_LONG_LONG", "MPI_LONG_LONG_INT"),
    }
    assert got in alternatives.get(name, (expect,))
    assert dt.name == got


def test_datatype_null():
    dt = MPI.DATATYPE_NULL
    assert isinstance(dt, MPI.Datatype)
    assert not dt
    assert dt == MPI.Datatype()
    assert dt != MPI.INT
    with pytest.raises(MPI.Exception) as info:
        dt.Get_size()
    assert info.value.Get_error_class() in (MPI.ERR_TYPE, MPI.ERR_ARG)
    with pytest.raises(MPI.Exception):
        dt.Get_extent()


def test_equality_and_identity():
    assert MPI.INT == MPI.INT
    assert MPI.INT != MPI.DOUBLE
    assert MPI.Datatype(MPI.INT) == MPI.INT
    assert MPI.INT32_T.Get_size() == 4


def test_datatype_in_message_with_bytes(selfcomm):
    import numpy as np
    a = np.arange(6, dtype="i2")
    from _impl import self_transfer
    st = MPI.Status()
    out = bytearray(12)
    self_transfer(lambda: selfcomm.Send([a, MPI.SHORT], dest=0, tag=1),
                  lambda: selfcomm.Recv([out, MPI.BYTE], source=0, tag=1,
                                        status=st),
                  comm=selfcomm, source=0, tag=1)
    assert bytes(out) == a.tobytes()
    assert st.Get_count(MPI.SHORT) == 6
    assert st.Get_count(MPI.INT) == MPI.UNDEFINED or st.Get_count(MPI.INT) == 3


# ---- Fortran, C++ and MPI-4.1 names; the type-code dictionaries ----------

FORTRAN = ["CHARACTER", "LOGICAL", "INTEGER", "REAL", "DOUBLE_PRECISION",
           "COMPLEX", "DOUBLE_COMPLEX"]
SIZED = ["LOGICAL1", "LOGICAL2", "LOGICAL4", "LOGICAL8", "INTEGER1",
         "INTEGER2", "INTEGER4", "INTEGER8", "INTEGER16", "REAL2", "REAL4",
         "REAL8", "REAL16", "COMPLEX4", "COMPLEX8", "COMPLEX16",
         "COMPLEX32", "CXX_BOOL", "CXX_FLOAT_COMPLEX", "CXX_DOUBLE_COMPLEX",
         "CXX_LONG_DOUBLE_COMPLEX"]


@pytest.mark.parametrize("name", FORTRAN + SIZED)
def test_fortran_and_cxx_types_exist(name):
    dt = getattr(MPI, name)
    assert isinstance(dt, MPI.Datatype)
    if dt != MPI.DATATYPE_NULL:     # the library may lack a sized one
        assert dt.Get_size() > 0 and dt.is_predefined


def test_fortran_basic_sizes():
    assert MPI.CHARACTER.Get_size() == 1
    assert MPI.INTEGER.Get_size() == MPI.REAL.Get_size() == 4
    assert MPI.DOUBLE_PRECISION.Get_size() == 8
    assert MPI.COMPLEX.Get_size() == 8


@pytest.mark.beyond_mpi4py
def test_f_aliases_and_mpi41_names():
    assert MPI.F_INT == MPI.INTEGER and MPI.F_BOOL == MPI.LOGICAL
    assert MPI.F_FLOAT == MPI.REAL and MPI.F_DOUBLE == MPI.DOUBLE_PRECISION
    assert MPI.F_COMPLEX == MPI.COMPLEX
    for name in ("SINT8_T", "SINT16_T", "SINT32_T", "SINT64_T", "FLOAT16_T",
                 "BFLOAT16_T", "FLOAT32_T", "FLOAT64_T"):
        assert isinstance(getattr(MPI, name), MPI.Datatype)


def test_ub_lb_of_mpi1_are_null():
    # MPI-3 removed them; mpi4py 3 programs still name them
    assert MPI.UB == MPI.DATATYPE_NULL and MPI.LB == MPI.DATATYPE_NULL


def test_typedict_maps_codes_to_types():
    d = MPI._typedict
    assert d["i"] == MPI.INT and d["d"] == MPI.DOUBLE
    assert d["b"] == MPI.SIGNED_CHAR and d["?"] == MPI.C_BOOL
    assert all(isinstance(v, MPI.Datatype) for v in d.values())


@pytest.mark.beyond_mpi4py
def test_typedict_c_and_f():
    assert MPI._typedict_c["f"] == MPI.FLOAT
    assert set(MPI._typedict_c) <= set(MPI._typedict)
    assert MPI._typedict_f["i"] == MPI.INTEGER
    assert MPI._typedict_f["d"] == MPI.DOUBLE_PRECISION


@pytest.mark.beyond_mpi4py
def test_private_typecode_and_typealign():
    assert MPI._typecode(MPI.DOUBLE) == "d" and MPI._typecode(MPI.INT) == "i"
    vec = MPI.INT.Create_vector(2, 1, 2)
    try:
        assert MPI._typecode(vec) is None and MPI._typealign(vec) is None
    finally:
        vec.Free()
    assert MPI._typealign(MPI.DOUBLE) == ctypes.alignment(ctypes.c_double)
    assert MPI._typealign(MPI.SHORT) == ctypes.alignment(ctypes.c_short)
    assert MPI._typealign(MPI.C_DOUBLE_COMPLEX) == \
        ctypes.alignment(ctypes.c_double)
    for fn in (MPI._typecode, MPI._typealign):
        with pytest.raises(TypeError, match="datatype"):
            fn("d")
