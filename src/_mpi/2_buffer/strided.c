/* strided.c: non-contiguous buffers (a[::2], a[:, 3], a[1:5, 2:7],
 * a[::-1], any buffer-protocol exporter with strides) described to MPI by
 * a derived datatype, in place: never copied.
 *
 * The view's shape and strides are first simplified: dimensions of length
 * 1 are dropped and a dimension whose stride is exactly the next one's
 * whole extent is merged into it.  Then, innermost first, each dimension
 * wraps the type so far: MPI_Type_contiguous when the innermost stride is
 * the item size, MPI_Type_create_hvector (stride in bytes, negative
 * allowed) otherwise.  The outermost dimension is either the message's
 * count (the inner type resized to an extent of the outer stride, so a
 * 1-D view a[::k] is `len(a[::k])` items, like a contiguous buffer: the
 * block splits of collectives need that) or one more hvector, whichever
 * the MPI library moves faster (see use_hvector).  Status.Get_count
 * counts base items either way.  A negative outer stride cannot be an
 * extent: such a view is always one item of an hvector type.  The address
 * is the first element's.
 *
 * Building a type costs a few MPI calls, so types are cached by (base
 * datatype, item size, shape, strides) in a small LRU table; every cached
 * type is freed before MPI_Finalize.  Evicting a type that a pending
 * nonblocking call still uses is fine: MPI_Type_free only marks it (and
 * an evicted type is freed only 64 evictions later, see
 * FASTMPI_STRIDED_RETIRED).
 *
 * The same cache holds the types of contiguous messages above 2**31-1
 * items (fastmpi_large_type): one item of a type MPI's int counts reach:
 * MPI_Type_contiguous_c on MPI-4 (MPICH 4), a chunked struct on MPI-3
 * (Open MPI 4.1).
 *
 * Reductions cannot use these types: MPICH 4.0.2 ("MPI_SUM operation not
 * defined for this datatype") and Open MPI 4.1.4 (MPI_ERR_OP) both reject
 * predefined operations on them, even though they are made of one basic
 * type.  While a reduction's arguments are parsed a strided buffer is
 * staged through a contiguous temporary instead (staged.c); one past
 * 2**31-1 items is refused there (coll.c asks fastmpi_strided_is).
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "datatype.h"
#include "msgbuffer.h"

#include <string.h>

#define STRIDED_MAX_NDIM 64     /* PyBUF_MAX_NDIM */

/* The cache: fastmpi_st->strided_cache, its clock ->strided_clock. */

static int lookup(MPI_Datatype base, Py_ssize_t itemsize, int nd,
                  const Py_ssize_t *shape, const Py_ssize_t *strides,
                  MPI_Datatype *type, int *count);

/* The outer dimension: a count of resized items, or one hvector item.
 * MPICH 4.0.2 packs the resized form ~9x faster (yaksa's blocklength-1
 * vector path is slow); Open MPI 4.1.4 receives into the hvector form
 * ~1.5x faster.  Collectives that split a buffer into blocks need the
 * count (vspec.c raises fastmpi_st->strided_counted around their parses).
 * fastmpi.MPI._strided_layout(True/False/None) overrides, for benchmarks
 * (fastmpi_st->strided_hvector: -1 is the library's default). */
#if defined(OPEN_MPI) && OPEN_MPI
#define HVECTOR_DEFAULT 1
#else
#define HVECTOR_DEFAULT 0
#endif

void
fastmpi_strided_counted(int delta)
{
    fastmpi_st->strided_counted += delta;
}

static int
use_hvector(void)
{
    const fastmpi_state *st = fastmpi_st;
    if (st->strided_counted > 0) {
        return 0;
    }
    return st->strided_hvector >= 0 ? st->strided_hvector : HVECTOR_DEFAULT;
}

/* An evicted type is freed only FASTMPI_STRIDED_RETIRED evictions later
 * (fastmpi_st->strided_retired, a ring): a blocking call on another
 * thread may have parsed its message (under the GIL) and not yet started
 * the MPI call (without the GIL) when this thread evicts the type; once
 * the call has started, MPI_Type_free is harmless. */

static void
type_free(MPI_Datatype *t)
{
    if (*t != MPI_DATATYPE_NULL && fastmpi_mpi_active) {
        MPI_Type_free(t);
    }
    *t = MPI_DATATYPE_NULL;
}

/* evict: 1 = retire the type (freed later), 0 = free it now */
static void
entry_clear(fastmpi_strided_entry *e, int evict)
{
    if (e->type != MPI_DATATYPE_NULL) {
        if (evict) {
            fastmpi_state *st = fastmpi_st;
            int k = st->strided_retired_next;
            type_free(&st->strided_retired[k]);
            st->strided_retired[k] = e->type;
            st->strided_retired_next = (k + 1) % FASTMPI_STRIDED_RETIRED;
            e->type = MPI_DATATYPE_NULL;
        }
        else {
            type_free(&e->type);
        }
    }
    PyMem_Free(e->dims);
    e->dims = NULL;
}

void
fastmpi_strided_before_finalize(void)
{
    fastmpi_state *st = fastmpi_st;
    for (int i = 0; i < FASTMPI_STRIDED_CACHE; i++) {
        entry_clear(&st->strided_cache[i], 0);
    }
    for (int i = 0; i < FASTMPI_STRIDED_RETIRED; i++) {
        type_free(&st->strided_retired[i]);
    }
}

/* Drop length-1 dimensions, merge dimensions that are contiguous with the
 * next; returns the new number of dimensions (0: a single element). */
static int
simplify(int nd, Py_ssize_t *shape, Py_ssize_t *strides)
{
    int n = 0;
    for (int d = 0; d < nd; d++) {
        if (shape[d] != 1) {
            shape[n] = shape[d];
            strides[n] = strides[d];
            n++;
        }
    }
    int m = 0;
    for (int d = 0; d < n; d++) {
        if (m > 0 && strides[m - 1] == shape[d] * strides[d]) {
            shape[m - 1] *= shape[d];
            strides[m - 1] = strides[d];
        }
        else {
            shape[m] = shape[d];
            strides[m] = strides[d];
            m++;
        }
    }
    return m;
}

/* Counts above 2**31-1: `count` items of `base` (extent `extent`) as
 * one item of a type MPI's int counts can describe: LARGE_CHUNK items
 * times q, then the remainder, in a struct.  Its type signature is that
 * of `count` base items, so it matches any other description of them
 * (the peer may use its own large type, or MPICH's _c calls).  0 or -1. */
#define LARGE_CHUNK ((Py_ssize_t)1 << 30)

static int
build_large(MPI_Datatype base, Py_ssize_t extent, Py_ssize_t count,
            MPI_Datatype *out)
{
    if (count <= INT_MAX) {
        /* vlarge.c's unit types: a plain contiguous type */
        int ierr = MPI_Type_contiguous((int)count, base, out);
        if (ierr == MPI_SUCCESS) {
            ierr = MPI_Type_commit(out);
            if (ierr != MPI_SUCCESS) {
                MPI_Type_free(out);
            }
        }
        return fastmpi_check(ierr);
    }
#if FASTMPI_HAVE_LARGE_COUNT
    /* MPI-4 (MPICH 4): one contiguous type, which MPICH moves as
     * contiguous memory; its struct equivalent goes through the pack path
     * (3-4x slower for 2.5 GiB, worse into untouched pages) */
    int ierr = MPI_Type_contiguous_c((MPI_Count)count, base, out);
    if (ierr == MPI_SUCCESS) {
        ierr = MPI_Type_commit(out);
        if (ierr != MPI_SUCCESS) {
            MPI_Type_free(out);
        }
    }
    (void)extent;
    return fastmpi_check(ierr);
#else
    Py_ssize_t q = count / LARGE_CHUNK, r = count % LARGE_CHUNK;
    MPI_Datatype chunk = MPI_DATATYPE_NULL, types[2] = {MPI_DATATYPE_NULL,
                                                        MPI_DATATYPE_NULL};
    int lens[2] = {1, 1};
    MPI_Aint displs[2] = {0, (MPI_Aint)(q * LARGE_CHUNK * extent)};
    int ierr = MPI_Type_contiguous((int)LARGE_CHUNK, base, &chunk);
    if (ierr == MPI_SUCCESS) {
        ierr = MPI_Type_contiguous((int)q, chunk, &types[0]);
    }
    if (ierr == MPI_SUCCESS && r > 0) {
        ierr = MPI_Type_contiguous((int)r, base, &types[1]);
    }
    if (ierr == MPI_SUCCESS) {
        ierr = MPI_Type_create_struct(r > 0 ? 2 : 1, lens, displs, types,
                                      out);
    }
    if (ierr == MPI_SUCCESS) {
        ierr = MPI_Type_commit(out);
        if (ierr != MPI_SUCCESS) {
            MPI_Type_free(out);
        }
    }
    for (int i = 0; i < 2; i++) {
        if (types[i] != MPI_DATATYPE_NULL) {
            MPI_Type_free(&types[i]);
        }
    }
    if (chunk != MPI_DATATYPE_NULL) {
        MPI_Type_free(&chunk);
    }
    return fastmpi_check(ierr);
#endif
}

int
fastmpi_large_type_new(MPI_Datatype base, Py_ssize_t count,
                       MPI_Datatype *out)
{
    MPI_Aint lb, extent;
    if (fastmpi_check(MPI_Type_get_extent(base, &lb, &extent)) < 0) {
        return -1;
    }
    return build_large(base, (Py_ssize_t)extent, count, out);
}

int
fastmpi_large_type(MPI_Datatype base, Py_ssize_t count, const char *fname,
                   const char *argname, MPI_Datatype *out)
{
    int ni, na, nd, combiner, one;
    MPI_Aint lb, extent;
    if (fastmpi_check(MPI_Type_get_envelope(base, &ni, &na, &nd,
                                            &combiner)) < 0 ||
        fastmpi_check(MPI_Type_get_extent(base, &lb, &extent)) < 0) {
        return -1;
    }
    if (combiner != MPI_COMBINER_NAMED) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': %zd items is more than one MPI "
                     "count (2**31-1) takes; above that fastmpi needs a "
                     "predefined datatype, not a derived one", fname,
                     argname, count);
        return -1;
    }
    if (extent <= 0 || count / LARGE_CHUNK > INT_MAX ||
        count > PY_SSIZE_T_MAX / extent) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': %zd items of %zd bytes cannot be "
                     "represented as one message", fname, argname, count,
                     (Py_ssize_t)extent);
        return -1;
    }
    Py_ssize_t shape[1] = {count}, strides[1] = {(Py_ssize_t)extent};
    return lookup(base, (Py_ssize_t)extent, 1, shape, strides, out, &one);
}

int
fastmpi_large_type_info(MPI_Datatype t, MPI_Datatype *base,
                        Py_ssize_t *count)
{
    for (int i = 0; i < FASTMPI_STRIDED_CACHE; i++) {
        const fastmpi_strided_entry *e = &fastmpi_st->strided_cache[i];
        if (e->type == t && t != MPI_DATATYPE_NULL && e->nd == 1 &&
            e->count == 1 && e->dims[1] == e->itemsize &&
            e->dims[0] > INT_MAX) {
            *base = e->base;
            *count = e->dims[0];
            return 1;
        }
    }
    return 0;
}

/* A new committed type for the (simplified, nd >= 1) view: 0 or -1. */
static int
build(MPI_Datatype base, Py_ssize_t itemsize, int nd,
      const Py_ssize_t *shape, const Py_ssize_t *strides, int hv,
      MPI_Datatype *out, int *count)
{
    MPI_Datatype t = base, nt;
    int owned = 0, ierr = MPI_SUCCESS;
    if (nd == 1 && strides[0] == itemsize) {
        *count = 1;
        return build_large(base, itemsize, shape[0], out);
    }
    for (int d = nd - 1; d >= 1 && ierr == MPI_SUCCESS; d--) {
        if (d == nd - 1 && strides[d] == itemsize) {
            ierr = MPI_Type_contiguous((int)shape[d], t, &nt);
        }
        else {
            ierr = MPI_Type_create_hvector((int)shape[d], 1,
                                           (MPI_Aint)strides[d], t, &nt);
        }
        if (owned) {
            MPI_Type_free(&t);
        }
        t = nt;
        owned = 1;
    }
    if (ierr == MPI_SUCCESS) {
        if (strides[0] > 0 && !hv) {
            ierr = MPI_Type_create_resized(t, 0, (MPI_Aint)strides[0], &nt);
            *count = (int)shape[0];
        }
        else {
            ierr = MPI_Type_create_hvector((int)shape[0], 1,
                                           (MPI_Aint)strides[0], t, &nt);
            *count = 1;
        }
        if (owned) {
            MPI_Type_free(&t);
        }
        t = nt;
        owned = ierr == MPI_SUCCESS;
    }
    if (ierr == MPI_SUCCESS) {
        ierr = MPI_Type_commit(&t);
    }
    if (ierr != MPI_SUCCESS) {
        if (owned) {
            MPI_Type_free(&t);
        }
        return fastmpi_check(ierr);
    }
    *out = t;
    return 0;
}

/* The cached (or a newly built and cached) type for a view: 0 or -1. */
static int
lookup(MPI_Datatype base, Py_ssize_t itemsize, int nd,
       const Py_ssize_t *shape, const Py_ssize_t *strides,
       MPI_Datatype *type, int *count)
{
    size_t half = sizeof(Py_ssize_t) * (size_t)nd;
    int hv = use_hvector();
    fastmpi_state *st = fastmpi_st;
    fastmpi_strided_entry *victim = &st->strided_cache[0];
    for (int i = 0; i < FASTMPI_STRIDED_CACHE; i++) {
        fastmpi_strided_entry *e = &st->strided_cache[i];
        if (e->type != MPI_DATATYPE_NULL && e->base == base &&
            e->itemsize == itemsize && e->nd == nd && e->hv == hv &&
            memcmp(e->dims, shape, half) == 0 &&
            memcmp(e->dims + nd, strides, half) == 0) {
            e->used = ++st->strided_clock;
            *type = e->type;
            *count = e->count;
            return 0;
        }
        if (e->type == MPI_DATATYPE_NULL ||
            (victim->type != MPI_DATATYPE_NULL && e->used < victim->used)) {
            victim = e;
        }
    }
    Py_ssize_t *dims = PyMem_Malloc(2 * half);
    if (dims == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (build(base, itemsize, nd, shape, strides, hv, type, count) < 0) {
        PyMem_Free(dims);
        return -1;
    }
    memcpy(dims, shape, half);
    memcpy(dims + nd, strides, half);
    entry_clear(victim, 1);
    victim->type = *type;
    victim->base = base;
    victim->itemsize = itemsize;
    victim->nd = nd;
    victim->count = *count;
    victim->hv = hv;
    victim->dims = dims;
    victim->used = ++st->strided_clock;
    return 0;
}

/* A datatype given with a strided buffer must be predefined (its handle
 * is a cache key, and a user type's handle can be reused once freed) and
 * one item long. */
static int
check_given(MPI_Datatype dt, Py_ssize_t itemsize, const char *fname,
            const char *argname)
{
    int ni, na, nd, combiner;
    MPI_Aint lb, extent;
    if (fastmpi_check(MPI_Type_get_envelope(dt, &ni, &na, &nd,
                                            &combiner)) < 0 ||
        fastmpi_check(MPI_Type_get_extent(dt, &lb, &extent)) < 0) {
        return -1;
    }
    if (combiner != MPI_COMBINER_NAMED) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': a non-contiguous buffer takes a "
                     "predefined datatype (the element type), not a "
                     "derived one", fname, argname);
        return -1;
    }
    if ((Py_ssize_t)extent != itemsize || lb != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': the datatype's extent (%zd "
                     "bytes) must be the non-contiguous buffer's item "
                     "size (%zd bytes)", fname, argname,
                     (Py_ssize_t)extent, itemsize);
        return -1;
    }
    return 0;
}

/* Get a strided view of obj; explain a failure. */
static int
get_strided_view(PyObject *obj, int mode, int need_format,
                 const char *fname, const char *argname, Py_buffer *view)
{
    int flags = PyBUF_STRIDES;
    if (need_format) {
        flags |= PyBUF_FORMAT;
    }
    if (mode == FASTMPI_MSG_RECV) {
        flags |= PyBUF_WRITABLE;
    }
    /* obj may be a DLPack or CUDA Array Interface bridge (dlpack.c): its
     * device memory goes to MPI as it is, but never to staged.c, which
     * copies it on the host */
    if (fastmpi_buffer_get(obj, view, flags, !fastmpi_staged_active(),
                           fname, argname) == 0) {
        return 0;
    }
    if (Py_TYPE(obj) == fastmpi_st->ForeignBuffer) {
        return -1;              /* its error says why */
    }
    if (mode == FASTMPI_MSG_RECV &&
        PyObject_GetBuffer(obj, view, flags & ~PyBUF_WRITABLE) == 0) {
        PyBuffer_Release(view);
        PyErr_Clear();
        PyErr_Format(PyExc_BufferError,
                     "%s() argument '%s' is a read-only buffer (%.100s); "
                     "receiving needs a writable one",
                     fname, argname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyObject *exc_type, *exc_value, *exc_tb;
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    PyErr_Format(PyExc_BufferError,
                 "%s() argument '%s': cannot get a strided buffer from "
                 "%.100s: %S", fname, argname, Py_TYPE(obj)->tp_name,
                 exc_value ? exc_value : Py_None);
    Py_XDECREF(exc_type);
    Py_XDECREF(exc_value);
    Py_XDECREF(exc_tb);
    return -1;
}

int
fastmpi_strided_parse(PyObject *obj, int mode, MPI_Datatype given,
                      Py_ssize_t count, Py_ssize_t displ, const char *fname,
                      const char *argname, fastmpi_msg *msg)
{
    Py_buffer *view = &msg->view;
    if (!fastmpi_st->strided_buffers) {
        PyErr_Format(PyExc_BufferError,
                     "%s() argument '%s': the buffer is not contiguous "
                     "(fastmpi.rc.strided is off, as under the mpi4py "
                     "alias: FASTMPI_RC_STRIDED=1 sends it in place)",
                     fname, argname);
        return -1;
    }
    if (get_strided_view(obj, mode, given == MPI_DATATYPE_NULL, fname,
                         argname, view) < 0) {
        return -1;
    }
    Py_ssize_t itemsize = view->itemsize > 0 ? view->itemsize : 1;
    MPI_Datatype base = given;
    if (base == MPI_DATATYPE_NULL) {
        base = fastmpi_datatype_from_format(view->format, itemsize, fname,
                                            argname);
        if (base == MPI_DATATYPE_NULL) {
            goto error;
        }
    }
    else if (check_given(base, itemsize, fname, argname) < 0) {
        goto error;
    }
    if (view->ndim > STRIDED_MAX_NDIM || view->strides == NULL) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': a buffer without strides or of "
                     "more than %d dimensions", fname, argname,
                     STRIDED_MAX_NDIM);
        goto error;
    }
    Py_ssize_t shape[STRIDED_MAX_NDIM], strides[STRIDED_MAX_NDIM];
    Py_ssize_t total = 1;
    for (int d = 0; d < view->ndim; d++) {
        shape[d] = view->shape[d];
        strides[d] = view->strides[d];
        total *= shape[d];
    }
    int nd = simplify(view->ndim, shape, strides);
    char *addr = view->buf;
    Py_ssize_t avail = total;   /* items from addr to the view's end */
    if (count < 0 && displ > 0) {
        /* no count but a displacement: the items past it */
        if (displ > total) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': displacement %zd is past the "
                         "buffer's %zd items", fname, argname, displ, total);
            goto error;
        }
        count = total - displ;
    }
    if (count >= 0) {
        /* an explicit count: of items along a 1-D view; an n-D view is
         * sent whole */
        int whole = nd > 1 && count == total && displ == 0;
        if (nd <= 1 && displ + count <= total) {
            if (nd == 1) {
                addr += displ * strides[0];
                shape[0] = count;
                avail = total - displ;
            }
            total = count;
            if (total == 0) {
                nd = 0;
            }
        }
        else if (!whole) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': count %zd (displacement %zd) "
                         "does not fit the non-contiguous buffer of %zd "
                         "items%s", fname, argname, count, displ, total,
                         nd > 1 ? " (a multi-dimensional one is sent "
                                  "whole)" : "");
            goto error;
        }
    }
    if (fastmpi_staged_active() && total > 0 && nd > 0 &&
        !(nd == 1 && strides[0] == itemsize)) {
        /* a reduction's buffer: a contiguous temporary (staged.c) */
        if (nd == 1) {
            shape[0] = avail;
        }
        if (fastmpi_staged_parse(mode, base, itemsize, addr, nd, shape,
                                 strides, nd == 1 ? avail : total, total,
                                 fname, argname, msg) < 0) {
            goto error;
        }
        return 0;
    }
    for (int d = 0; d < nd; d++) {
        if (shape[d] > INT_MAX) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': a non-contiguous buffer with "
                         "a dimension of %zd items (more than 2**31-1) "
                         "cannot be described to MPI", fname, argname,
                         shape[d]);
            goto error;
        }
    }
    msg->addr = addr;
    msg->nbytes = total * itemsize;
    if (total == 0 || nd == 0) {
        msg->datatype = base;
        msg->count = (int)total;
        return 0;
    }
    if (nd == 1 && strides[0] == itemsize) {
        msg->datatype = base;   /* contiguous after all */
        msg->count = (int)shape[0];
        return 0;
    }
    if (lookup(base, itemsize, nd, shape, strides, &msg->datatype,
               &msg->count) < 0) {
        goto error;
    }
    return 0;

error:
    PyBuffer_Release(view);
    view->obj = NULL;
    return -1;
}

int
fastmpi_strided_is(const fastmpi_msg *msg)
{
    if (msg->view.obj == NULL || msg->datatype == MPI_DATATYPE_NULL) {
        return 0;
    }
    for (int i = 0; i < FASTMPI_STRIDED_CACHE; i++) {
        if (fastmpi_st->strided_cache[i].type == msg->datatype) {
            return 1;
        }
    }
    return 0;
}

static PyObject *
strided_layout(PyObject *module, PyObject *arg)
{
    int v = arg == Py_None ? -1 : PyObject_IsTrue(arg);
    if (v < 0 && arg != Py_None) {
        return NULL;
    }
    fastmpi_strided_before_finalize();  /* drop types of the old layout */
    fastmpi_st->strided_hvector = v;
    Py_RETURN_NONE;
}

static PyMethodDef strided_functions[] = {
    {"_strided_layout", strided_layout, METH_O,
     "Benchmarks only: describe the outer dimension of strided buffers as "
     "one hvector (True), a count of resized items (False) or as the MPI "
     "library does best (None, the default)."},
    {NULL, NULL, 0, NULL},
};

int
fastmpi_strided_init(PyObject *module)
{
    /* (the cache's null handles: fastmpi_state_init) */
    return PyModule_AddFunctions(module, strided_functions);
}
