/* pack.c: Datatype.Pack, Unpack, Pack_size and their "external32"
 * variants (Pack_external, Unpack_external, Pack_external_size).
 *
 * As in mpi4py, the datatype is `self` and the typed buffer (Pack's inbuf,
 * Unpack's outbuf) holds as many whole elements as fit in it; the packed
 * buffer is plain bytes, and `position` is a byte offset into it that the
 * call returns advanced.  Everything is checked before MPI is called: the
 * datatype is committed, positions lie inside the packed buffer, and the
 * typed buffer covers every element's true extent.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/datatype.h"
#include "../2_buffer/msgbuffer.h"
#include "../4_comm/comm.h"

#include <string.h>

/* A contiguous view of obj (a buffer, or DLPack or CUDA Array Interface
 * memory, which MPI itself packs: device memory too): 0 or -1. */
static int
typed_buffer(PyObject *obj, int writable, const char *fname,
             const char *argname, Py_buffer *view)
{
    int flags = PyBUF_ANY_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (fastmpi_buffer_get(obj, view, flags, 1, fname, argname) < 0) {
        if (!fastmpi_foreign_check(obj)) {  /* else its error says why */
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s' must be a contiguous%s buffer, "
                         "not %.100s", fname, argname,
                         writable ? " writable" : "",
                         Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    return 0;
}

/* The view of a typed buffer for datatype self, and how many elements of
 * self fit in it; 0 or -1 with an exception (no view held). */
static int
typed_view(PyObject *self, PyObject *obj, int writable, const char *fname,
           const char *argname, MPI_Datatype *dt, Py_buffer *view,
           int *count)
{
    MPI_Aint lb, extent, tlb, textent;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_datatype_msg_arg(self, fname, "self", dt, &lb, &extent, &tlb,
                                 &textent) < 0) {
        return -1;
    }
    if (typed_buffer(obj, writable, fname, argname, view) < 0) {
        return -1;
    }
    Py_ssize_t len = view->len, n = 0;
    if (tlb < 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): the datatype reaches %zd bytes before the start "
                     "of argument '%s' (negative true lower bound)", fname,
                     (Py_ssize_t)-tlb, argname);
        PyBuffer_Release(view);
        return -1;
    }
    if (extent > 0 && len >= (Py_ssize_t)(tlb + textent)) {
        n = (len - (Py_ssize_t)(tlb + textent)) / (Py_ssize_t)extent + 1;
        if (n > len / (Py_ssize_t)extent) {
            n = len / (Py_ssize_t)extent;
        }
    }
    if (n > INT_MAX) {
        PyErr_Format(PyExc_OverflowError,
                     "%s() argument '%s' holds more than 2**31-1 elements",
                     fname, argname);
        PyBuffer_Release(view);
        return -1;
    }
    *count = (int)n;
    return 0;
}

static int
bytes_view(PyObject *obj, int writable, const char *fname,
           const char *argname, Py_buffer *view)
{
    return typed_buffer(obj, writable, fname, argname, view);
}

static int
position_arg(PyObject *obj, const char *fname, Py_ssize_t size,
             Py_ssize_t *pos)
{
    if (!PyLong_Check(obj) && !PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'position' must be int, not %.100s",
                     fname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    *pos = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    if (*pos == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (*pos < 0 || *pos > size) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'position' (%zd) must be between 0 and "
                     "the packed buffer's size (%zd)", fname, *pos, size);
        return -1;
    }
    return 0;
}

static int
comm_arg(PyObject *obj, const char *fname, MPI_Comm *comm)
{
    if (!PyObject_TypeCheck(obj, fastmpi_st->Comm)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'comm' must be MPI.Comm, not %.100s",
                     fname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (fastmpi_comm_check((FastMPICommObject *)obj) < 0) {
        return -1;
    }
    *comm = ((FastMPICommObject *)obj)->ob_mpi;
    return 0;
}

static int
datarep_arg(PyObject *obj, const char *fname)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'datarep' must be str, not %.100s",
                     fname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PyUnicode_CompareWithASCIIString(obj, "external32") != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'datarep' must be 'external32' (the "
                     "only portable representation MPI defines), not %R",
                     fname, obj);
        return -1;
    }
    return 0;
}

/* Walk dt's construction: *basic is set to the one basic type its type
 * map uses, or to MPI_DATATYPE_NULL-with-return-1 when it mixes several.
 * 0 or 1; -1 with an exception. */
static int
mixed_basic(MPI_Datatype dt, MPI_Datatype *basic)
{
    int ni, na, nd, combiner, mixed = 0;
    if (fastmpi_check(MPI_Type_get_envelope(dt, &ni, &na, &nd,
                                            &combiner)) < 0) {
        return -1;
    }
    if (combiner == MPI_COMBINER_NAMED) {
        if (*basic == MPI_DATATYPE_NULL) {
            *basic = dt;
        }
        return *basic != dt;
    }
    int *ints = PyMem_Malloc(sizeof(int) * (ni + 1));
    MPI_Aint *addrs = PyMem_Malloc(sizeof(MPI_Aint) * (na + 1));
    MPI_Datatype *types = PyMem_Malloc(sizeof(MPI_Datatype) * (nd + 1));
    if (ints == NULL || addrs == NULL || types == NULL) {
        PyErr_NoMemory();
        mixed = -1;
    }
    else if (fastmpi_check(MPI_Type_get_contents(dt, ni, na, nd, ints,
                                                 addrs, types)) < 0) {
        mixed = -1;
    }
    else {
        for (int i = 0; i < nd; i++) {
            if (mixed == 0) {
                mixed = mixed_basic(types[i], basic);
            }
            int named = fastmpi_datatype_is_predefined(types[i]);
            if (named == 0) {
                MPI_Type_free(&types[i]);
            }
            else if (named < 0) {
                mixed = -1;
            }
        }
    }
    PyMem_Free(ints);
    PyMem_Free(addrs);
    PyMem_Free(types);
    return mixed;
}

/* 0 if MPI can take dt in an external32 call, else -1 with an exception
 * (see FASTMPI_EXTERNAL32_MIXED_CRASH in compat.h). */
static int
external32_safe(MPI_Datatype dt, const char *fname)
{
    if (!FASTMPI_EXTERNAL32_MIXED_CRASH) {
        return 0;
    }
    MPI_Datatype basic = MPI_DATATYPE_NULL;
    int mixed = mixed_basic(dt, &basic);
    if (mixed > 0) {
        PyErr_Format(PyExc_NotImplementedError,
                     "%s(): MPICH 4.0 crashes (SIGILL) packing external32 "
                     "data of a datatype that mixes basic types; pack each "
                     "basic type separately", fname);
    }
    return mixed == 0 ? 0 : -1;
}

/* The packed size of count elements of dt (native or external32);
 * -1 with an exception. */
static Py_ssize_t
packed_size(MPI_Datatype dt, int count, int external)
{
    if (external) {
        MPI_Aint size = 0;
        if (fastmpi_check(MPI_Pack_external_size("external32", count, dt,
                                                 &size)) < 0) {
            return -1;
        }
        return (Py_ssize_t)size;
    }
    int size = 0;
    if (fastmpi_check(MPI_Type_size(dt, &size)) < 0) {
        return -1;
    }
    return (Py_ssize_t)size * count;
}

/* MPI.Exception(ERR_TRUNCATE) unless `need` bytes from pos fit in `have`
 * (MPICH 4.0 packs a truncated prefix and reports success). */
static int
packed_fits(Py_ssize_t need, Py_ssize_t pos, Py_ssize_t have,
            const char *fname, const char *what)
{
    if (need < 0) {
        return -1;
    }
    if (pos + need > have) {
        fastmpi_error_raise_detail(MPI_ERR_TRUNCATE,
                                   "%s(): %zd packed bytes from position "
                                   "%zd do not fit in the %s's %zd bytes",
                                   fname, need, pos, what, have);
        return -1;
    }
    return 0;
}

static int
int_size(Py_ssize_t n, const char *fname, const char *argname)
{
    if (n > INT_MAX) {
        PyErr_Format(PyExc_OverflowError,
                     "%s() argument '%s' is larger than 2**31-1 bytes",
                     fname, argname);
        return -1;
    }
    return 0;
}

static int
count_arg(PyObject *obj, const char *fname, int *count)
{
    if (!PyLong_Check(obj) && !PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'count' must be int, not %.100s", fname,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < 0 || v > INT_MAX) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'count' must be between 0 and 2**31-1 "
                     "(got %ld)", fname, v);
        return -1;
    }
    *count = (int)v;
    return 0;
}

/* Pack(inbuf, outbuf, position, comm), Unpack(inbuf, position, outbuf,
 * comm), and their _external forms (datarep first, no comm) -> the new
 * position.  The buffer self describes is Pack's inbuf and Unpack's
 * outbuf (`typed`); the other holds the packed bytes. */
static PyObject *
pack_common(PyObject *self, PyObject *args, PyObject *kwds, int external,
            int unpack)
{
    static char *kw_pack[] = {"inbuf", "outbuf", "position", "comm", NULL};
    static char *kw_pack_ext[] = {"datarep", "inbuf", "outbuf", "position",
                                  NULL};
    static char *kw_unpack[] = {"inbuf", "position", "outbuf", "comm", NULL};
    static char *kw_unpack_ext[] = {"datarep", "inbuf", "position",
                                    "outbuf", NULL};
    static char **const kwlists[2][2] = {{kw_pack, kw_pack_ext},
                                         {kw_unpack, kw_unpack_ext}};
    static const char *const formats[2][2] = {
        {"OOOO:Pack", "OOOO:Pack_external"},
        {"OOOO:Unpack", "OOOO:Unpack_external"},
    };
    static const char *const fnames[2][2] = {
        {"Pack", "Pack_external"}, {"Unpack", "Unpack_external"},
    };
    const char *fname = fnames[unpack][external];
    PyObject *a, *b, *c, *d;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, formats[unpack][external],
                                     kwlists[unpack][external], &a, &b, &c,
                                     &d)) {
        return NULL;
    }
    PyObject *inobj = external ? b : a;
    PyObject *second = external ? c : b, *third = external ? d : c;
    PyObject *outobj = unpack ? third : second;
    PyObject *posobj = unpack ? second : third;
    MPI_Comm comm = MPI_COMM_NULL;
    MPI_Datatype dt;
    Py_buffer in, out;
    Py_buffer *typed = unpack ? &out : &in, *packed = unpack ? &in : &out;
    const char *typed_name = unpack ? "outbuf" : "inbuf";
    const char *packed_name = unpack ? "inbuf" : "outbuf";
    int count, ierr;
    Py_ssize_t pos;
    if ((external ? datarep_arg(a, fname) : comm_arg(d, fname, &comm)) < 0 ||
        typed_view(self, unpack ? outobj : inobj, unpack, fname, typed_name,
                   &dt, typed, &count) < 0) {
        return NULL;
    }
    if (bytes_view(unpack ? inobj : outobj, !unpack, fname, packed_name,
                   packed) < 0) {
        PyBuffer_Release(typed);
        return NULL;
    }
    PyObject *result = NULL;
    if (position_arg(posobj, fname, packed->len, &pos) < 0 ||
        (external && external32_safe(dt, fname) < 0) ||
        packed_fits(packed_size(dt, count, external), pos, packed->len,
                    fname, packed_name) < 0 ||
        (!external && int_size(packed->len, fname, packed_name) < 0)) {
        goto done;
    }
    MPI_Aint apos = (MPI_Aint)pos;
    int ipos = (int)pos;
    if (external && !unpack) {
        FASTMPI_CALL("MPI_Pack_external", MPI_COMM_NULL, 0, 0, in.len,
                     ierr = MPI_Pack_external("external32", in.buf, count,
                                              dt, out.buf,
                                              (MPI_Aint)out.len, &apos));
    }
    else if (external) {
        FASTMPI_CALL("MPI_Unpack_external", MPI_COMM_NULL, 0, 0, in.len,
                     ierr = MPI_Unpack_external("external32", in.buf,
                                                (MPI_Aint)in.len, &apos,
                                                out.buf, count, dt));
    }
    else if (!unpack) {
        FASTMPI_CALL("MPI_Pack", comm, 0, 0, in.len,
                     ierr = MPI_Pack(in.buf, count, dt, out.buf,
                                     (int)out.len, &ipos, comm));
    }
    else {
        FASTMPI_CALL("MPI_Unpack", comm, 0, 0, in.len,
                     ierr = MPI_Unpack(in.buf, (int)in.len, &ipos, out.buf,
                                       count, dt, comm));
    }
    pos = external ? (Py_ssize_t)apos : ipos;
    if (fastmpi_check(ierr) == 0) {
        result = PyLong_FromSsize_t(pos);
    }
done:
    PyBuffer_Release(&in);
    PyBuffer_Release(&out);
    return result;
}

static PyObject *
Datatype_Pack(PyObject *self, PyObject *args, PyObject *kwds)
{
    return pack_common(self, args, kwds, 0, 0);
}

static PyObject *
Datatype_Pack_external(PyObject *self, PyObject *args, PyObject *kwds)
{
    return pack_common(self, args, kwds, 1, 0);
}

static PyObject *
Datatype_Unpack(PyObject *self, PyObject *args, PyObject *kwds)
{
    return pack_common(self, args, kwds, 0, 1);
}

static PyObject *
Datatype_Unpack_external(PyObject *self, PyObject *args, PyObject *kwds)
{
    return pack_common(self, args, kwds, 1, 1);
}

/* The handle of self for a size query (no commit needed). */
static int
size_handle(PyObject *self, const char *fname, MPI_Datatype *dt)
{
    return fastmpi_datatype_handle(self, fname, dt);
}

static PyObject *
Datatype_Pack_size(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"count", "comm", NULL};
    PyObject *ocount, *ocomm;
    int count, size = 0;
    MPI_Comm comm;
    MPI_Datatype dt;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Pack_size", kwlist,
                                     &ocount, &ocomm) ||
        count_arg(ocount, "Pack_size", &count) < 0 ||
        comm_arg(ocomm, "Pack_size", &comm) < 0 ||
        size_handle(self, "Pack_size", &dt) < 0 ||
        fastmpi_check(MPI_Pack_size(count, dt, comm, &size)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(size);
}

static PyObject *
Datatype_Pack_external_size(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"datarep", "count", NULL};
    PyObject *orep, *ocount;
    int count;
    MPI_Aint size = 0;
    MPI_Datatype dt;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Pack_external_size",
                                     kwlist, &orep, &ocount) ||
        datarep_arg(orep, "Pack_external_size") < 0 ||
        count_arg(ocount, "Pack_external_size", &count) < 0 ||
        size_handle(self, "Pack_external_size", &dt) < 0 ||
        external32_safe(dt, "Pack_external_size") < 0 ||
        fastmpi_check(MPI_Pack_external_size("external32", count, dt,
                                             &size)) < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t((Py_ssize_t)size);
}

#define KW (METH_VARARGS | METH_KEYWORDS)
#define KWFN(f) ((PyCFunction)(void (*)(void))(f))

PyMethodDef fastmpi_pack_methods[] = {
    {"Pack", KWFN(Datatype_Pack), KW,
     "Pack($self, inbuf, outbuf, position, comm)\n--\n\n"
     "Pack(inbuf, outbuf, position, comm) -> new position."},
    {"Unpack", KWFN(Datatype_Unpack), KW,
     "Unpack($self, inbuf, position, outbuf, comm)\n--\n\n"
     "Unpack(inbuf, position, outbuf, comm) -> new position."},
    {"Pack_size", KWFN(Datatype_Pack_size), KW,
     "Pack_size($self, count, comm)\n--\n\n"
     "Pack_size(count, comm) -> upper bound of the packed size in bytes."},
    {"Pack_external", KWFN(Datatype_Pack_external), KW,
     "Pack_external($self, datarep, inbuf, outbuf, position)\n--\n\n"
     "Pack_external(datarep, inbuf, outbuf, position) -> new position."},
    {"Unpack_external", KWFN(Datatype_Unpack_external), KW,
     "Unpack_external($self, datarep, inbuf, position, outbuf)\n--\n\n"
     "Unpack_external(datarep, inbuf, position, outbuf) -> new position."},
    {"Pack_external_size", KWFN(Datatype_Pack_external_size), KW,
     "Pack_external_size($self, datarep, count)\n--\n\n"
     "Pack_external_size(datarep, count) -> packed size in bytes."},
    {NULL},
};
