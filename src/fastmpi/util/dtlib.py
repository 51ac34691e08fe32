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
import numpy as np

from .. import MPI

__all__ = ["from_numpy_dtype", "to_numpy_dtype"]


def from_numpy_dtype(dtype):
    """The MPI datatype (new, uncommitted) for a numpy dtype-like object."""
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise ValueError(
            f"from_numpy_dtype(): numpy dtype {dtype!r} holds Python objects, "
            "which have no MPI datatype")
    return MPI._dtlib_from_numpy(dtype)


# the predefined datatypes MPI.Datatype.tocode() does not know
_NAMED_EXTRA = {"BYTE": "B", "PACKED": "B", "WCHAR": None}


def _named(datatype):
    try:
        return np.dtype(datatype.tocode())
    except ValueError:
        pass
    raise ValueError(
        f"to_numpy_dtype(): no numpy dtype for the predefined MPI datatype "
        f"{datatype.Get_name() or datatype!r}")


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
    if datatype.is_named:
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
        if inner.names:
            formats = [inner.fields[n][0] for n in inner.names]
            offsets = [inner.fields[n][1] for n in inner.names]
        else:
            formats, offsets = [inner], [0]
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
    if combiner == "STRUCT":
        base = None         # decode() gives the struct itself
    return (_datatype_create, (base, combiner, params))


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
