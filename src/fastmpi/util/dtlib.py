"""Convert numpy dtypes to MPI datatypes and back (as mpi4py.util.dtlib).

``from_numpy_dtype(dtype)`` returns a new, *uncommitted* MPI datatype that
the caller owns: commit it to communicate with it, free it when done.  It is
built in C (fastmpi.MPI, dtnumpy.c), the same code that lets a structured
numpy array be passed straight to Send/Recv/collectives.

``to_numpy_dtype(datatype)`` reads the datatype's construction back
(``Datatype.decode``) and describes the same memory layout as a numpy dtype.

MPI datatypes describe data in the host's byte order: a numpy dtype with a
non-native byte order raises ValueError (use ``Datatype.Pack_external`` with
``"external32"`` for a portable, big-endian form).
"""
import ctypes

import numpy as np

from .. import MPI

__all__ = ["from_numpy_dtype", "to_numpy_dtype"]


def from_numpy_dtype(dtype):
    """The MPI datatype (new, uncommitted) for a numpy dtype-like object."""
    dtype = np.dtype(dtype)
    if dtype.itemsize == 0:
        raise ValueError(
            f"from_numpy_dtype(): numpy dtype {dtype!r} has no size, so no "
            "MPI datatype")
    if dtype.hasobject:
        raise ValueError(
            f"from_numpy_dtype(): numpy dtype {dtype!r} holds Python objects, "
            "which have no MPI datatype")
    return MPI._dtlib_from_numpy(dtype)


# Fortran's predefined types by kind: numpy takes them by size.
_FORTRAN_KINDS = (
    ("S", ("CHARACTER",)),
    ("b", ("LOGICAL", "LOGICAL1", "LOGICAL2", "LOGICAL4", "LOGICAL8",
           "LOGICAL16")),
    ("i", ("INTEGER", "INTEGER1", "INTEGER2", "INTEGER4", "INTEGER8",
           "INTEGER16")),
    ("f", ("REAL", "DOUBLE_PRECISION", "REAL2", "REAL4", "REAL8", "REAL16")),
    ("c", ("COMPLEX", "DOUBLE_COMPLEX", "COMPLEX4", "COMPLEX8", "COMPLEX16",
           "COMPLEX32")),
)
_F90_KINDS = {"F90_INTEGER": "i", "F90_REAL": "f", "F90_COMPLEX": "c"}
_fortran = {}


def _fortran_kind(datatype):
    """'i', 'f', 'c' (complex), 'b' (LOGICAL) or 'S' (CHARACTER) for a
    Fortran predefined or Create_f90_* datatype, else None."""
    if not _fortran:
        for kind, names in _FORTRAN_KINDS:
            for name in names:
                t = getattr(MPI, name, MPI.DATATYPE_NULL)
                if t:
                    _fortran.setdefault(t.handle, kind)
    kind = _fortran.get(datatype.handle)
    if kind is None and datatype.combiner in (
            MPI.COMBINER_F90_INTEGER, MPI.COMBINER_F90_REAL,
            MPI.COMBINER_F90_COMPLEX):
        kind = _F90_KINDS[datatype.decode()[1]]
    return kind


def _fortran_dtype(datatype, kind):
    size = datatype.Get_size()
    name = datatype.Get_name() or repr(datatype)
    if kind == "S":
        return np.dtype("c")
    if kind == "b":
        raise ValueError(
            f"to_numpy_dtype(): the Fortran LOGICAL type {name} has no numpy "
            "dtype (its true value is the compiler's choice)")
    try:
        dtype = np.dtype(f"{kind}{size}")
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != kind or (
            kind in "fc" and dtype.itemsize > 8 * (1 + (kind == "c"))):
        # numpy's 'f16' is C's long double, not Fortran's quad precision
        raise ValueError(
            f"to_numpy_dtype(): no numpy dtype for the Fortran type {name} "
            f"({size} bytes)")
    return dtype


def _named(datatype):
    kind = _fortran_kind(datatype)
    if kind is not None:
        return _fortran_dtype(datatype, kind)
    try:
        return np.dtype(datatype.tocode())
    except ValueError:
        pass
    raise ValueError(
        f"to_numpy_dtype(): no numpy dtype for the predefined MPI datatype "
        f"{datatype.Get_name() or datatype!r}")


# ---- alignment (private; mpi4py's dtlib has the same two helpers) ----------

_CTYPES = {
    "?": ctypes.c_bool, "c": ctypes.c_char, "b": ctypes.c_byte,
    "h": ctypes.c_short, "i": ctypes.c_int, "l": ctypes.c_long,
    "q": ctypes.c_longlong, "p": ctypes.c_ssize_t, "n": ctypes.c_ssize_t,
    "B": ctypes.c_ubyte, "H": ctypes.c_ushort, "I": ctypes.c_uint,
    "L": ctypes.c_ulong, "Q": ctypes.c_ulonglong, "P": ctypes.c_size_t,
    "f": ctypes.c_float, "d": ctypes.c_double, "g": ctypes.c_longdouble,
    "F": ctypes.c_float, "D": ctypes.c_double, "G": ctypes.c_longdouble,
}
_BY_SIZE = {
    "b": {1: ctypes.c_bool}, "S": {1: ctypes.c_char},
    "i": {1: ctypes.c_int8, 2: ctypes.c_int16, 4: ctypes.c_int32,
          8: ctypes.c_int64},
    "u": {1: ctypes.c_uint8, 2: ctypes.c_uint16, 4: ctypes.c_uint32,
          8: ctypes.c_uint64},
    "f": {4: ctypes.c_float, 8: ctypes.c_double},
}


def _get_alignment_ctypes(typecode):
    """The C alignment, in bytes, of a numpy/struct type code ('i', 'f8',
    'c16', ...), read from ctypes."""
    if not isinstance(typecode, str):
        raise TypeError("_get_alignment_ctypes() argument 'typecode' must be "
                        f"str, not {type(typecode).__name__}")
    if typecode in _CTYPES:
        return ctypes.alignment(_CTYPES[typecode])
    kind, digits = typecode[:1], typecode[1:]
    if digits.isdigit():
        size = int(digits)
        if kind == "c":
            kind, size = "f", size // 2
        elif kind == "b" and size == 1:
            kind = "b"
        ctype = _BY_SIZE.get(kind, {}).get(size)
        if ctype is None and kind == "f" and \
                size == ctypes.sizeof(ctypes.c_longdouble):
            ctype = ctypes.c_longdouble
        if ctype is not None:
            return ctypes.alignment(ctype)
    raise ValueError(
        f"_get_alignment_ctypes(): no C type for the type code {typecode!r}")


# MPI's pair types for MINLOC/MAXLOC: (value, int)
_PAIRS = (("FLOAT_INT", "f"), ("DOUBLE_INT", "d"), ("LONG_INT", "l"),
          ("SHORT_INT", "h"), ("LONG_DOUBLE_INT", "g"), ("TWOINT", "i"),
          ("INT_INT", "i"))


def _get_alignment(datatype):
    """The alignment, in bytes, a C compiler would give a value of an MPI
    datatype: its type code's for a predefined type, by kind and size for
    Fortran's, the largest of its parts' for a derived one."""
    if not isinstance(datatype, MPI.Datatype):
        raise TypeError("_get_alignment() argument 'datatype' must be "
                        f"MPI.Datatype, not {type(datatype).__name__}")
    if datatype == MPI.DATATYPE_NULL:
        raise ValueError("_get_alignment(): the datatype is DATATYPE_NULL")
    if datatype.is_predefined:
        kind = _fortran_kind(datatype)
        if kind is not None:
            size = datatype.Get_size()
            if kind == "c":
                kind, size = "f", size // 2
            code = f"{kind}{size}"
            if kind in "bS" and size > 1:
                code = f"i{size}"
            return _get_alignment_ctypes(code)
        for name, code in _PAIRS:
            pair = getattr(MPI, name, MPI.DATATYPE_NULL)
            if pair and datatype == pair:
                return max(_get_alignment_ctypes(code),
                           _get_alignment_ctypes("i"))
        if datatype in (MPI.BYTE, MPI.PACKED):
            return 1
        try:
            return _get_alignment_ctypes(datatype.tocode())
        except ValueError:
            pass
        raise ValueError(
            "_get_alignment(): no C alignment known for the predefined "
            f"datatype {datatype.Get_name() or datatype!r}")
    base, combiner, p = datatype.decode()
    types = p.get("datatypes", [base])
    try:
        return max(_get_alignment(t) for t in types)
    finally:
        _free(types, datatype)


def _field(dtype, count):
    return dtype if count == 1 else (dtype, (count,))


def _aligned(formats, offsets, itemsize):
    align = 1
    for fmt, off in zip(formats, offsets):
        a = np.dtype(fmt).alignment
        if off % a:
            return False
        align = max(align, a)
    return itemsize % align == 0


def _record(formats, offsets, itemsize):
    # A struct holding a member with an explicit extent (resized, subarray)
    # takes its upper bound from that member alone in Open MPI (MPI's ub
    # marker rule), so its extent can end before the last field does.
    end = max((off + np.dtype(f).itemsize
               for f, off in zip(formats, offsets)), default=0)
    itemsize = max(itemsize, end)
    return np.dtype({
        "names": [f"f{i}" for i in range(len(formats))],
        "formats": formats,
        "offsets": offsets,
        "itemsize": itemsize,
        "aligned": _aligned(formats, offsets, itemsize),
    })


def _free(types, keep):
    for t in types:
        if t is not keep and t and not t.is_predefined:
            t.Free()


def to_numpy_dtype(datatype):
    """The numpy dtype describing the memory layout of an MPI datatype."""
    if not isinstance(datatype, MPI.Datatype):
        raise TypeError(
            "to_numpy_dtype() argument 'datatype' must be MPI.Datatype, not "
            f"{type(datatype).__name__}")
    if datatype == MPI.DATATYPE_NULL:
        raise ValueError("to_numpy_dtype(): the datatype is DATATYPE_NULL")
    if datatype.is_predefined:      # named, or made by Create_f90_*
        return _named(datatype)

    base, combiner, p = datatype.decode()
    types = p.get("datatypes", [base])
    try:
        return _convert(datatype, base, combiner, p)
    finally:
        _free(types, datatype)


def _convert(datatype, base, combiner, p):
    extent = datatype.extent
    if combiner == "DUP":
        return to_numpy_dtype(base)
    if combiner == "CONTIGUOUS":
        return np.dtype((to_numpy_dtype(base), (p["count"],)))
    if combiner == "SUBARRAY":
        sizes, subsizes, starts = p["sizes"], p["subsizes"], p["starts"]
        if subsizes != sizes or any(starts):
            raise ValueError(
                "to_numpy_dtype(): a subarray that is only part of its "
                "array has no numpy dtype")
        shape = sizes if p["order"] == MPI.ORDER_C else sizes[::-1]
        return np.dtype((to_numpy_dtype(base), tuple(shape)))
    if combiner == "RESIZED":
        if p["lb"] != 0:
            raise ValueError(
                "to_numpy_dtype(): a datatype resized to a non-zero lower "
                f"bound ({p['lb']}) has no numpy dtype")
        inner = to_numpy_dtype(base)
        if not inner.names:
            # a record's itemsize is numpy's extent; a scalar or subarray
            # dtype has none of its own (as mpi4py's dtlib)
            if p["extent"] == inner.itemsize:
                return inner
            raise ValueError(
                "to_numpy_dtype(): only a struct resized to a new extent "
                f"has a numpy dtype (a record's itemsize), not {base} "
                f"resized to {p['extent']} bytes")
        formats = [inner.fields[n][0] for n in inner.names]
        offsets = [inner.fields[n][1] for n in inner.names]
        return _record(formats, offsets, p["extent"])
    if combiner == "STRUCT":
        formats = [_field(to_numpy_dtype(t), n)
                   for t, n in zip(p["datatypes"], p["blocklengths"])]
        return _record(formats, p["displacements"], extent)

    if combiner in ("VECTOR", "HVECTOR"):
        unit = base.extent if combiner == "VECTOR" else 1
        offsets = [i * p["stride"] * unit for i in range(p["count"])]
        blocks = [p["blocklength"]] * p["count"]
    elif combiner in ("INDEXED", "HINDEXED",
                      "INDEXED_BLOCK", "HINDEXED_BLOCK"):
        unit = base.extent if combiner in ("INDEXED", "INDEXED_BLOCK") else 1
        offsets = [d * unit for d in p["displacements"]]
        blocks = p.get("blocklengths",
                       [p.get("blocklength")] * len(offsets))
    else:
        raise ValueError(
            f"to_numpy_dtype(): no numpy dtype for a {combiner} datatype")
    if any(off < 0 for off in offsets):
        raise ValueError(
            "to_numpy_dtype(): negative displacements have no numpy dtype")
    elem = to_numpy_dtype(base)
    pairs = [(np.dtype((elem, (n,))), off)
             for n, off in zip(blocks, offsets) if n > 0]
    return _record([f for f, _ in pairs], [o for _, o in pairs], extent)


# ---- pickling of MPI.Datatype (Datatype.__reduce__ calls this) ----------

_names = {}


def _datatype_named(name):
    """Unpickle a predefined datatype: the module's object of that name."""
    return getattr(MPI, name)


def _datatype_reduce(datatype):
    """Datatype.__reduce__: a predefined datatype pickles as its name, a
    derived one as its construction (rebuilt and committed on load)."""
    if not datatype:
        return (_datatype_named, ("DATATYPE_NULL",))
    if datatype.is_named:
        if not _names:
            for name in dir(MPI):
                obj = getattr(MPI, name)
                if isinstance(obj, MPI.Datatype) and obj and name.isupper():
                    _names.setdefault(obj.handle, name)
        name = _names.get(datatype.handle)
        if name is None:
            raise TypeError(
                f"cannot pickle the predefined datatype {datatype!r}: it "
                "has no name in fastmpi.MPI")
        return (_datatype_named, (name,))
    base, combiner, params = datatype.decode()
    if combiner in _F90_KINDS:      # predefined, made again by its kind
        return (_datatype_f90, (combiner, params))
    if combiner == "STRUCT":
        base = None         # decode() gives the struct itself
    return (_datatype_create, (base, combiner, params))


def _datatype_f90(combiner, params):
    """Unpickle a Create_f90_* datatype."""
    make = getattr(MPI.Datatype, "Create_" + combiner.lower())
    return make(*params.values())   # (r) or (p, r), in that order


def _datatype_create(base, combiner, params):
    """Unpickle a derived datatype: build it again, committed."""
    p = params
    try:
        if combiner == "STRUCT":
            new = MPI.Datatype.Create_struct(
                p["blocklengths"], p["displacements"], p["datatypes"])
        elif combiner == "DUP":
            new = base.Dup()
        elif combiner == "RESIZED":
            new = base.Create_resized(p["lb"], p["extent"])
        elif combiner in ("SUBARRAY", "DARRAY"):
            make = getattr(base, "Create_" + combiner.lower())
            new = make(**p)
        elif combiner in _CONSTRUCTORS:
            new = getattr(base, _CONSTRUCTORS[combiner])(**p)
        else:
            raise TypeError(f"cannot unpickle a {combiner} datatype")
    finally:
        for t in p.get("datatypes", [base]):
            if t is not None and t and not t.is_predefined:
                t.Free()
    return new.Commit()


_CONSTRUCTORS = {
    "CONTIGUOUS": "Create_contiguous",
    "VECTOR": "Create_vector",
    "HVECTOR": "Create_hvector",
    "INDEXED": "Create_indexed",
    "HINDEXED": "Create_hindexed",
    "INDEXED_BLOCK": "Create_indexed_block",
    "HINDEXED_BLOCK": "Create_hindexed_block",
}
