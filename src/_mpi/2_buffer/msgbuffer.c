/* msgbuffer.c: buffer specs, from Python objects to (address, count,
 * datatype).
 *
 *   buf                               datatype from the buffer's format
 *   [buf, datatype]                   count from the buffer's length
 *   [buf, count, datatype]
 *   [buf, (count, displ), datatype]   displ in datatype extents
 *   None                              an empty message
 *
 * datatype is a Datatype, or one of mpi4py's type codes ('d', 'i4', 'B',
 * ...: a predefined datatype, see dtnumpy.c).
 *
 * buf is anything with the buffer protocol, an object exporting its
 * memory through DLPack or the CUDA Array Interface (dlpack.c), or
 * MPI.BOTTOM (absolute addresses in a derived datatype).  Contiguous
 * buffers are used in place, never copied; so are strided ones (a[::2],
 * ...), described by a derived datatype (strided.c).
 *
 * numpy arrays have a fast path: numpy's buffer export rebuilds and
 * compares a format string on every call (about 600 instructions, a
 * quarter of a whole Send), so an exact numpy.ndarray is read from its
 * object head instead (see compat.h), with the MPI datatype looked up by
 * the array's dtype object in a small cache.  The cache is filled by the
 * buffer-protocol path the first time a dtype is seen, so the dtype's own
 * layout is never read.  The array is held (a reference) for the call, so
 * numpy refuses to resize it meanwhile.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "datatype.h"
#include "msgbuffer.h"

#include <string.h>

/* numpy.ndarray, once seen, and the dtype cache: fastmpi_st->ndarray_type,
 * ->dtype_cache (a ring of FASTMPI_DTYPE_CACHE dtypes). */

static inline int
is_ndarray(PyObject *obj)
{
    fastmpi_state *st = fastmpi_st;
    PyTypeObject *t = Py_TYPE(obj);
    if (Py_LIKELY(t == st->ndarray_type)) {
        return 1;
    }
    if (st->ndarray_type == NULL && strcmp(t->tp_name, "numpy.ndarray") == 0) {
        st->ndarray_type = (PyTypeObject *)Py_NewRef(t);
        return 1;
    }
    return 0;
}

static void
dtype_cache_add(PyObject *descr, MPI_Datatype datatype, Py_ssize_t itemsize)
{
    fastmpi_state *st = fastmpi_st;
    fastmpi_dtype_entry *e = &st->dtype_cache[st->dtype_next];
    st->dtype_next = (st->dtype_next + 1) % FASTMPI_DTYPE_CACHE;
    Py_XSETREF(e->descr, Py_NewRef(descr));
    e->datatype = datatype;
    e->itemsize = itemsize;
}

/* 1: msg filled from the array's head; 0: take the buffer-protocol path. */
static int
ndarray_fast(PyObject *obj, int mode, fastmpi_msg *msg)
{
    fastmpi_ndarray *a = (fastmpi_ndarray *)obj;
    int flags = a->flags;
    if (!(flags & (FASTMPI_NPY_C_CONTIGUOUS | FASTMPI_NPY_F_CONTIGUOUS)) ||
        (mode == FASTMPI_MSG_RECV && !(flags & FASTMPI_NPY_WRITEABLE))) {
        return 0;
    }
    const fastmpi_dtype_entry *e = NULL;
    const fastmpi_dtype_entry *cache = fastmpi_st->dtype_cache;
    for (int i = 0; i < FASTMPI_DTYPE_CACHE; i++) {
        if (cache[i].descr == a->descr) {
            e = &cache[i];
            break;
        }
    }
    if (e == NULL) {
        return 0;
    }
    Py_ssize_t n = 1;
    for (int d = 0; d < a->nd; d++) {
        n *= a->dimensions[d];
    }
    if (n > INT_MAX) {
        return 0;   /* the slow path says why */
    }
    msg->owner = Py_NewRef(obj);
    msg->addr = a->data;
    msg->count = (int)n;
    msg->datatype = e->datatype;
    msg->nbytes = n * e->itemsize;
    return 1;
}

/* A foreign exporter (DLPack, CUDA Array Interface: dlpack.c): its bridge
 * into *bridge (a new reference), then as get_view. */
static int
foreign_view(PyObject *obj, int mode, int flags, const char *fname,
             const char *argname, Py_buffer *view, PyObject **bridge)
{
    *bridge = fastmpi_foreign_export(obj, mode == FASTMPI_MSG_RECV, fname,
                                     argname);
    if (*bridge == NULL ||
        fastmpi_buffer_get(*bridge, view, (flags & ~PyBUF_ANY_CONTIGUOUS) |
                           PyBUF_STRIDES, 1, fname, argname) < 0) {
        return -1;
    }
    if (PyBuffer_IsContiguous(view, 'A')) {
        return 0;
    }
    PyBuffer_Release(view);     /* strided: strided.c reads the bridge */
    return 1;
}

/* 0: a contiguous view; 1: no view, obj (or *bridge, when set) is a
 * strided exporter (see strided.c); -1: an exception saying why there is
 * no view.  bridge NULL: foreign exporters are not looked for. */
static int
get_view(PyObject *obj, int mode, int need_format, const char *fname,
         const char *argname, Py_buffer *view, PyObject **bridge)
{
    int flags = PyBUF_ANY_CONTIGUOUS;
    if (need_format) {
        flags |= PyBUF_FORMAT;
    }
    if (mode == FASTMPI_MSG_RECV) {
        flags |= PyBUF_WRITABLE;
    }
    if (Py_LIKELY(PyObject_GetBuffer(obj, view, flags) == 0)) {
        return 0;
    }
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Clear();
        if (bridge != NULL && fastmpi_foreign_check(obj)) {
            return foreign_view(obj, mode, flags, fname, argname, view,
                                bridge);
        }
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a buffer (numpy array, "
                     "bytes, bytearray, memoryview, ...) or a list "
                     "[buf, count, datatype], not %.100s",
                     fname, argname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    /* say why: read-only, or not contiguous */
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    Py_buffer probe;
    if (mode == FASTMPI_MSG_RECV &&
        PyObject_GetBuffer(obj, &probe, PyBUF_ANY_CONTIGUOUS) == 0) {
        PyBuffer_Release(&probe);
        PyErr_Format(PyExc_BufferError,
                     "%s() argument '%s' is a read-only buffer (%.100s); "
                     "receiving needs a writable one",
                     fname, argname, Py_TYPE(obj)->tp_name);
    }
    else if (PyObject_GetBuffer(obj, &probe, PyBUF_STRIDES) == 0) {
        /* strided: strided.c describes it with a derived datatype */
        PyBuffer_Release(&probe);
        PyErr_Clear();
        Py_XDECREF(exc_type);
        Py_XDECREF(exc_value);
        Py_XDECREF(exc_tb);
        return 1;
    }
    else {
        PyErr_Clear();
        PyErr_Format(PyExc_BufferError,
                     "%s() argument '%s': cannot get a buffer from "
                     "%.100s: %S",
                     fname, argname, Py_TYPE(obj)->tp_name,
                     exc_value ? exc_value : Py_None);
    }
    Py_XDECREF(exc_type);
    Py_XDECREF(exc_value);
    Py_XDECREF(exc_tb);
    return -1;
}

static int
count_arg(PyObject *obj, const char *fname, const char *argname,
          const char *what, Py_ssize_t *out)
{
    if (!PyLong_Check(obj) && !PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s': the %s must be an int, not %.100s",
                     fname, argname, what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t v = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': the %s %R cannot be "
                         "represented (more than 2**63-1)", fname, argname,
                         what, obj);
        }
        return -1;
    }
    if (v < 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': the %s must not be negative "
                     "(got %zd)", fname, argname, what, v);
        return -1;
    }
    *out = v;
    return 0;
}

/* More than 2**31-1 items: one item of a large type (strided.c). */
static int
set_large_count(fastmpi_msg *msg, Py_ssize_t count, const char *fname,
                const char *argname)
{
    if (fastmpi_large_type(msg->datatype, count, fname, argname,
                           &msg->datatype) < 0) {
        return -1;
    }
    msg->count = 1;
    return 0;
}

static int
set_count(fastmpi_msg *msg, Py_ssize_t count, const char *fname,
          const char *argname)
{
    if (Py_UNLIKELY(count > INT_MAX)) {
        return set_large_count(msg, count, fname, argname);
    }
    msg->count = (int)count;
    return 0;
}

/* A numpy array with a structured dtype (fields): its memory, as a view
 * without a format (numpy cannot export every structured layout as one),
 * and the derived datatype dtnumpy.c builds, commits and caches for its
 * dtype.  1: done (view held, *datatype set); 0: not such an array, no
 * exception; -1: error.  Only reached off the fast path. */
static int
structured_array(PyObject *obj, int mode, const char *fname,
                 const char *argname, Py_buffer *view,
                 MPI_Datatype *datatype)
{
    if (!is_ndarray(obj)) {
        return 0;
    }
    PyObject *descr = ((fastmpi_ndarray *)obj)->descr;
    PyObject *names = PyObject_GetAttrString(descr, "names");
    if (names == NULL) {
        PyErr_Clear();
        return 0;
    }
    int structured = names != Py_None;
    Py_DECREF(names);
    if (!structured) {
        return 0;
    }
    int rc = get_view(obj, mode, 0, fname, argname, view, NULL);
    if (rc != 0) {
        if (rc > 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': a non-contiguous structured "
                         "array is not supported yet; pass "
                         "numpy.ascontiguousarray(...)", fname, argname);
        }
        return -1;
    }
    *datatype = fastmpi_datatype_from_descr(descr, fname, argname);
    if (*datatype == MPI_DATATYPE_NULL) {
        PyBuffer_Release(view);
        view->obj = NULL;
        return -1;
    }
    return 1;
}

/* buf's memory for a message.  0: msg->view is held, and *structured
 * says whether msg->datatype already describes a structured array's
 * items; 1: buf is strided and strided.c has parsed the whole message;
 * -1: an exception.  given: the spec's datatype, or MPI_DATATYPE_NULL to
 * take it from the buffer. */
static int
message_memory(PyObject *buf, int mode, MPI_Datatype given,
               Py_ssize_t count, Py_ssize_t displ, const char *fname,
               const char *argname, fastmpi_msg *msg, int *structured)
{
    int inferred = given == MPI_DATATYPE_NULL;
    *structured = inferred ? structured_array(buf, mode, fname, argname,
                                              &msg->view, &msg->datatype)
                           : 0;
    if (*structured != 0) {
        return *structured < 0 ? -1 : 0;
    }
    PyObject *bridge = NULL;    /* a foreign exporter's (dlpack.c) */
    int rc = get_view(buf, mode, inferred, fname, argname, &msg->view,
                      &bridge);
    if (rc > 0) {
        rc = fastmpi_strided_parse(bridge != NULL ? bridge : buf, mode,
                                   given, count, displ, fname, argname,
                                   msg) < 0 ? -1 : 1;
    }
    Py_XDECREF(bridge);         /* the view holds it, if there is one */
    return rc;
}

static int
parse_plain(PyObject *obj, int mode, const char *fname, const char *argname,
            fastmpi_msg *msg)
{
    int ndarray = is_ndarray(obj);
    if (ndarray && ndarray_fast(obj, mode, msg)) {
        return 0;
    }
    int structured;
    int rc = message_memory(obj, mode, MPI_DATATYPE_NULL, -1, 0, fname,
                            argname, msg, &structured);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }
    Py_ssize_t itemsize = msg->view.itemsize > 0 ? msg->view.itemsize : 1;
    if (!structured) {
        msg->datatype = fastmpi_datatype_from_format(msg->view.format,
                                                     itemsize, fname,
                                                     argname);
    }
    /* the element type: set_count may replace msg->datatype with a large
     * type (strided.c) */
    MPI_Datatype base = msg->datatype;
    if (base == MPI_DATATYPE_NULL ||
        set_count(msg, msg->view.len / itemsize, fname, argname) < 0) {
        PyBuffer_Release(&msg->view);
        msg->view.obj = NULL;
        return -1;
    }
    msg->addr = msg->view.buf;
    msg->nbytes = msg->view.len;
    if (ndarray && !structured) {
        dtype_cache_add(((fastmpi_ndarray *)obj)->descr, base, itemsize);
    }
    return 0;
}

static int
parse_list(PyObject *spec, int mode, const char *fname, const char *argname,
           fastmpi_msg *msg)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(spec);
    PyObject **items = PySequence_Fast_ITEMS(spec);
    PyObject *buf = items[0];
    PyObject *dtobj = NULL, *countobj = NULL;
    Py_ssize_t count = -1, displ = 0;

    PyObject *displobj = NULL;
    if (n == 2) {
        if (PyObject_TypeCheck(items[1], fastmpi_st->Datatype) ||
            PyUnicode_Check(items[1])) {
            dtobj = items[1];       /* a Datatype, or a type code */
        }
        else {
            countobj = items[1];
        }
    }
    else if (n == 3) {
        countobj = items[1];
        dtobj = items[2];
    }
    else if (n == 4) {
        countobj = items[1];
        displobj = items[2];
        dtobj = items[3];
    }
    else {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': a buffer spec has 2 to 4 items "
                     "([buf, datatype], [buf, count, datatype] or [buf, "
                     "count, displ, datatype]), not %zd", fname, argname, n);
        return -1;
    }
    if (dtobj == Py_None) {
        dtobj = NULL;               /* None: the buffer's own type */
    }
    if (countobj != NULL && displobj == NULL &&
        (PyTuple_Check(countobj) || PyList_Check(countobj))) {
        if (PySequence_Fast_GET_SIZE(countobj) != 2) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': (count, displ) must have "
                         "2 items, not %zd", fname, argname,
                         PySequence_Fast_GET_SIZE(countobj));
            return -1;
        }
        displobj = PySequence_Fast_GET_ITEM(countobj, 1);
        countobj = PySequence_Fast_GET_ITEM(countobj, 0);
    }
    /* None for the count: all the buffer holds past the displacement;
     * None for the displacement: 0 */
    if (countobj != NULL && countobj != Py_None &&
        count_arg(countobj, fname, argname, "count", &count) < 0) {
        return -1;
    }
    if (displobj != NULL && displobj != Py_None &&
        count_arg(displobj, fname, argname, "displacement", &displ) < 0) {
        return -1;
    }

    MPI_Aint lb = 0, extent = 1, true_lb = 0, true_extent = 1;
    if (dtobj != NULL &&
        fastmpi_datatype_msg_arg(dtobj, fname, argname, &msg->datatype, &lb,
                                 &extent, &true_lb, &true_extent) < 0) {
        return -1;
    }

    if (buf == fastmpi_st->BOTTOM || buf == Py_None) {
        if (dtobj == NULL) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': MPI.BOTTOM or None needs a "
                         "datatype (the count, if absent, is 0)", fname,
                         argname);
            return -1;
        }
        if (buf == Py_None && count > 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': buffer is None but count is "
                         "%zd", fname, argname, count);
            return -1;
        }
        msg->addr = buf == Py_None ? NULL : MPI_BOTTOM;
        return set_count(msg, count < 0 ? 0 : count, fname, argname);
    }

    int structured;
    int rc = message_memory(buf, mode,
                            dtobj ? msg->datatype : MPI_DATATYPE_NULL, count,
                            displ, fname, argname, msg, &structured);
    if (rc != 0) {
        return rc < 0 ? -1 : 0;
    }
    if (dtobj == NULL) {
        Py_ssize_t itemsize = msg->view.itemsize > 0 ? msg->view.itemsize
                                                     : 1;
        if (!structured) {
            msg->datatype = fastmpi_datatype_from_format(
                msg->view.format, itemsize, fname, argname);
        }
        if (msg->datatype == MPI_DATATYPE_NULL) {
            goto error;
        }
        extent = true_extent = itemsize;
    }
    Py_ssize_t len = msg->view.len;
    if (count < 0) {
        if (extent <= 0 || len % extent != 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': buffer of %zd bytes is not a "
                         "whole number of datatype extents (%zd bytes)",
                         fname, argname, len, (Py_ssize_t)extent);
            goto error;
        }
        count = len / extent - displ;
        if (count < 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': displacement %zd is past the "
                         "buffer's %zd items", fname, argname, displ,
                         len / extent);
            goto error;
        }
    }
    else if (count == 0) {
        /* no element, but the address must still lie in the buffer */
        Py_ssize_t at = displ * (Py_ssize_t)extent;
        if (at < 0 || at > len) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': displacement %zd of %zd-byte "
                         "extents is byte %zd, outside the buffer's %zd "
                         "bytes", fname, argname, displ, (Py_ssize_t)extent,
                         at, len);
            goto error;
        }
    }
    else {
        /* the bytes the elements touch: from the first one's true lower
         * bound to the last one's true upper bound */
        Py_ssize_t first = displ * (Py_ssize_t)extent + (Py_ssize_t)true_lb;
        Py_ssize_t end = (displ + count - 1) * (Py_ssize_t)extent +
                         (Py_ssize_t)(true_lb + true_extent);
        if (first < 0 || end > len) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': count %zd (displacement %zd) "
                         "of %zd-byte extents reaches bytes %zd to %zd, "
                         "outside the buffer's %zd bytes", fname, argname,
                         count, displ, (Py_ssize_t)extent, first, end, len);
            goto error;
        }
    }
    msg->addr = (char *)msg->view.buf + displ * (Py_ssize_t)extent;
    msg->nbytes = count * (Py_ssize_t)extent;
    if (set_count(msg, count, fname, argname) < 0) {
        goto error;
    }
    return 0;

error:
    PyBuffer_Release(&msg->view);
    msg->view.obj = NULL;
    return -1;
}

int
fastmpi_msg_parse(PyObject *spec, int mode, int peer, const char *fname,
                  const char *argname, fastmpi_msg *msg)
{
    msg->view.obj = NULL;
    msg->owner = NULL;
    msg->addr = NULL;
    msg->count = 0;
    msg->datatype = MPI_BYTE;
    msg->nbytes = 0;
    if (spec == Py_None) {
        if (peer == MPI_PROC_NULL) {
            return 0;
        }
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a buffer or a list "
                     "[buf, count, datatype], not None (None is only for "
                     "a PROC_NULL peer)", fname, argname);
        return -1;
    }
    if (PyList_CheckExact(spec) || PyTuple_CheckExact(spec)) {
        if (PySequence_Fast_GET_SIZE(spec) == 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': empty buffer spec", fname,
                         argname);
            return -1;
        }
        return parse_list(spec, mode, fname, argname, msg);
    }
    return parse_plain(spec, mode, fname, argname, msg);
}

void
fastmpi_msg_release(fastmpi_msg *msg)
{
    if (msg->view.obj != NULL) {
        PyBuffer_Release(&msg->view);
        msg->view.obj = NULL;
    }
    Py_CLEAR(msg->owner);
}
