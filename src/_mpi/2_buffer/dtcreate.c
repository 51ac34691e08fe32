/* dtcreate.c: the Datatype constructors (Dup, Create_contiguous, ...,
 * Create_struct, Create_subarray, Create_darray, Create_resized,
 * Match_size), their constants (COMBINER_*, TYPECLASS_*, DISTRIBUTE_*,
 * ORDER_*), and the address functions Get_address, Aint_add, Aint_diff.
 *
 * Every argument is checked before MPI is called: counts and block lengths
 * are non-negative ints, lists have matching lengths, datatypes are
 * Datatype objects; errors name the method and the argument.  A new type
 * is uncommitted and belongs to the caller (Commit, Free).
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "datatype.h"
#include "msgbuffer.h"

#include <string.h>

/* ---- argument helpers -------------------------------------------------- */

/* An int argument; nonneg: refuse negatives.  0 or -1 with an exception. */
static int
int_arg(PyObject *obj, const char *fname, const char *argname, int nonneg,
        int *out)
{
    if (!PyLong_Check(obj) && !PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be int, not %.100s", fname,
                     argname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v > INT_MAX || v < INT_MIN) {
        PyErr_Format(PyExc_OverflowError,
                     "%s() argument '%s' (%ld) does not fit in a C int",
                     fname, argname, v);
        return -1;
    }
    if (nonneg && v < 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must not be negative (got %ld)",
                     fname, argname, v);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int
aint_arg(PyObject *obj, const char *fname, const char *argname,
         MPI_Aint *out)
{
    if (!PyLong_Check(obj) && !PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be int, not %.100s", fname,
                     argname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t v = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    *out = (MPI_Aint)v;
    return 0;
}

/* A sequence argument as a new list (its length in *n), or NULL with
 * TypeError naming it.  want >= 0: ValueError unless it has that many. */
static PyObject *
seq_arg(PyObject *obj, const char *fname, const char *argname,
        Py_ssize_t want, Py_ssize_t *n)
{
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) ||
        !PySequence_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a sequence, not %.100s",
                     fname, argname, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyObject *list = PySequence_List(obj);
    if (list == NULL) {
        return NULL;
    }
    *n = PyList_GET_SIZE(list);
    if (want >= 0 && *n != want) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' has %zd items, but %zd are needed "
                     "(the lengths of the lists must match)",
                     fname, argname, *n, want);
        Py_DECREF(list);
        return NULL;
    }
    if (*n > INT_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s() argument '%s' is too long",
                     fname, argname);
        Py_DECREF(list);
        return NULL;
    }
    return list;
}

/* A PyMem array of ints from a sequence; *n its length. */
static int *
int_array(PyObject *obj, const char *fname, const char *argname,
          int nonneg, Py_ssize_t want, Py_ssize_t *n)
{
    PyObject *list = seq_arg(obj, fname, argname, want, n);
    if (list == NULL) {
        return NULL;
    }
    int *out = PyMem_Malloc((*n ? *n : 1) * sizeof(int));
    if (out == NULL) {
        Py_DECREF(list);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        if (int_arg(PyList_GET_ITEM(list, i), fname, argname, nonneg,
                    &out[i]) < 0) {
            Py_DECREF(list);
            PyMem_Free(out);
            return NULL;
        }
    }
    Py_DECREF(list);
    return out;
}

static MPI_Aint *
aint_array(PyObject *obj, const char *fname, const char *argname,
           Py_ssize_t want, Py_ssize_t *n)
{
    PyObject *list = seq_arg(obj, fname, argname, want, n);
    if (list == NULL) {
        return NULL;
    }
    MPI_Aint *out = PyMem_Malloc((*n ? *n : 1) * sizeof(MPI_Aint));
    if (out == NULL) {
        Py_DECREF(list);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        if (aint_arg(PyList_GET_ITEM(list, i), fname, argname, &out[i]) <
            0) {
            Py_DECREF(list);
            PyMem_Free(out);
            return NULL;
        }
    }
    Py_DECREF(list);
    return out;
}

/* The handle of `self` as the old type of a constructor: -1 with
 * MPI.Exception(ERR_TYPE) for DATATYPE_NULL or before MPI_Init. */
static int
old_type(FastMPIDatatypeObject *self, const char *fname, MPI_Datatype *dt)
{
    return fastmpi_datatype_handle((PyObject *)self, fname, dt);
}

/* New reference: the Datatype object for a constructor's result. */
static PyObject *
made(int ierr, const MPI_Datatype *newtype)
{
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return fastmpi_datatype_adopt(*newtype, 0);
}

/* ---- constructors ------------------------------------------------------ */

static PyObject *
Datatype_Dup(FastMPIDatatypeObject *self, PyObject *unused)
{
    MPI_Datatype old, newtype = MPI_DATATYPE_NULL;
    if (old_type(self, "Dup", &old) < 0) {
        return NULL;
    }
    fastmpi_callbacks_begin();       /* a keyval's copy_fn may run (attr.c) */
    int ierr = MPI_Type_dup(old, &newtype);
    fastmpi_check(ierr);
    if (fastmpi_callbacks_end() < 0) {
        if (ierr == MPI_SUCCESS) {
            /* a copy_fn raised: no half-copied datatype */
            fastmpi_callbacks_begin();
            ierr = MPI_Type_free(&newtype);     /* the raise is reported */
            fastmpi_callbacks_end();
        }
        return NULL;
    }
    if (ierr != MPI_SUCCESS) {
        return NULL;
    }
    /* MPI_Type_dup keeps the committed state */
    return fastmpi_datatype_adopt(newtype,
                                  self->flags & FASTMPI_DT_COMMITTED);
}

static PyObject *
Datatype_Create_contiguous(FastMPIDatatypeObject *self, PyObject *args,
                           PyObject *kwds)
{
    static char *kwlist[] = {"count", NULL};
    MPI_Datatype old, newtype = MPI_DATATYPE_NULL;
    PyObject *arg;
    int count;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Create_contiguous",
                                     kwlist, &arg) ||
        int_arg(arg, "Create_contiguous", "count", 1, &count) < 0 ||
        old_type(self, "Create_contiguous", &old) < 0) {
        return NULL;
    }
    int ierr = MPI_Type_contiguous(count, old, &newtype);
    return made(ierr, &newtype);
}

static PyObject *
vector_common(FastMPIDatatypeObject *self, PyObject *args, PyObject *kwds,
              const char *fname, int bytes)
{
    static char *kwlist[] = {"count", "blocklength", "stride", NULL};
    PyObject *c, *b, *s;
    char fmt[64];
    snprintf(fmt, sizeof(fmt), "OOO:%s", fname);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, fmt, kwlist, &c, &b, &s)) {
        return NULL;
    }
    int count, blocklength, stride = 0;
    MPI_Aint hstride = 0;
    MPI_Datatype old, newtype = MPI_DATATYPE_NULL;
    if (int_arg(c, fname, "count", 1, &count) < 0 ||
        int_arg(b, fname, "blocklength", 1, &blocklength) < 0 ||
        (bytes ? aint_arg(s, fname, "stride", &hstride)
               : int_arg(s, fname, "stride", 0, &stride)) < 0 ||
        old_type(self, fname, &old) < 0) {
        return NULL;
    }
    int ierr;
    if (bytes) {
        ierr = MPI_Type_create_hvector(count, blocklength, hstride, old,
                                       &newtype);
    }
    else {
        ierr = MPI_Type_vector(count, blocklength, stride, old, &newtype);
    }
    return made(ierr, &newtype);
}

static PyObject *
Datatype_Create_vector(FastMPIDatatypeObject *self, PyObject *args,
                       PyObject *kwds)
{
    return vector_common(self, args, kwds, "Create_vector", 0);
}

static PyObject *
Datatype_Create_hvector(FastMPIDatatypeObject *self, PyObject *args,
                        PyObject *kwds)
{
    return vector_common(self, args, kwds, "Create_hvector", 1);
}

/* Create_indexed / _hindexed (block: one blocklength, _block variants). */
static PyObject *
indexed_common(FastMPIDatatypeObject *self, PyObject *args, PyObject *kwds,
               const char *fname, int bytes, int block)
{
    static char *kw_many[] = {"blocklengths", "displacements", NULL};
    static char *kw_one[] = {"blocklength", "displacements", NULL};
    PyObject *b, *d;
    char fmt[64];
    snprintf(fmt, sizeof(fmt), "OO:%s", fname);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, fmt,
                                     block ? kw_one : kw_many, &b, &d)) {
        return NULL;
    }
    PyObject *result = NULL;
    int *blocks = NULL, *idispl = NULL, blocklength = 0;
    MPI_Aint *hdispl = NULL;
    Py_ssize_t n = 0, nd = 0;
    MPI_Datatype old, newtype = MPI_DATATYPE_NULL;
    if (block) {
        if (int_arg(b, fname, "blocklength", 1, &blocklength) < 0) {
            return NULL;
        }
    }
    else if ((blocks = int_array(b, fname, "blocklengths", 1, -1, &n)) ==
             NULL) {
        return NULL;
    }
    Py_ssize_t want = block ? -1 : n;
    if (bytes) {
        hdispl = aint_array(d, fname, "displacements", want, &nd);
    }
    else {
        idispl = int_array(d, fname, "displacements", 0, want, &nd);
    }
    if ((bytes ? (void *)hdispl : (void *)idispl) == NULL ||
        old_type(self, fname, &old) < 0) {
        goto done;
    }
    int ierr;
    int cnt = (int)nd;
    if (block && bytes) {
        ierr = MPI_Type_create_hindexed_block(cnt, blocklength, hdispl, old,
                                              &newtype);
    }
    else if (block) {
        ierr = MPI_Type_create_indexed_block(cnt, blocklength, idispl, old,
                                             &newtype);
    }
    else if (bytes) {
        ierr = MPI_Type_create_hindexed(cnt, blocks, hdispl, old, &newtype);
    }
    else {
        ierr = MPI_Type_indexed(cnt, blocks, idispl, old, &newtype);
    }
    result = made(ierr, &newtype);
done:
    PyMem_Free(blocks);
    PyMem_Free(idispl);
    PyMem_Free(hdispl);
    return result;
}

static PyObject *
Datatype_Create_indexed(FastMPIDatatypeObject *self, PyObject *args,
                        PyObject *kwds)
{
    return indexed_common(self, args, kwds, "Create_indexed", 0, 0);
}

static PyObject *
Datatype_Create_hindexed(FastMPIDatatypeObject *self, PyObject *args,
                         PyObject *kwds)
{
    return indexed_common(self, args, kwds, "Create_hindexed", 1, 0);
}

static PyObject *
Datatype_Create_indexed_block(FastMPIDatatypeObject *self, PyObject *args,
                              PyObject *kwds)
{
    return indexed_common(self, args, kwds, "Create_indexed_block", 0, 1);
}

static PyObject *
Datatype_Create_hindexed_block(FastMPIDatatypeObject *self, PyObject *args,
                               PyObject *kwds)
{
    return indexed_common(self, args, kwds, "Create_hindexed_block", 1, 1);
}

/* Create_struct(blocklengths, displacements, datatypes), a classmethod. */
static PyObject *
Datatype_Create_struct(PyObject *cls, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"blocklengths", "displacements", "datatypes",
                             NULL};
    const char *fname = "Create_struct";
    PyObject *b, *d, *t;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:Create_struct", kwlist,
                                     &b, &d, &t)) {
        return NULL;
    }
    PyObject *result = NULL, *types = NULL;
    MPI_Aint *displs = NULL;
    MPI_Datatype *handles = NULL, newtype = MPI_DATATYPE_NULL;
    Py_ssize_t n = 0, nd = 0, nt = 0;
    int *blocks = int_array(b, fname, "blocklengths", 1, -1, &n);
    if (blocks == NULL ||
        (displs = aint_array(d, fname, "displacements", n, &nd)) == NULL ||
        (types = seq_arg(t, fname, "datatypes", n, &nt)) == NULL) {
        goto done;
    }
    handles = PyMem_Malloc((n ? n : 1) * sizeof(MPI_Datatype));
    if (handles == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(types, i);
        if (!PyObject_TypeCheck(item, fastmpi_st->Datatype)) {
            PyErr_Format(PyExc_TypeError,
                         "Create_struct() argument 'datatypes': item %zd "
                         "must be MPI.Datatype, not %.100s", i,
                         Py_TYPE(item)->tp_name);
            goto done;
        }
        handles[i] = ((FastMPIDatatypeObject *)item)->ob_mpi;
        if (handles[i] == MPI_DATATYPE_NULL) {
            fastmpi_error_raise_detail(
                MPI_ERR_TYPE, "Create_struct() argument 'datatypes': item "
                "%zd is DATATYPE_NULL (freed, or never created)", i);
            goto done;
        }
        if (fastmpi_datatype_handle(item, fname, &handles[i]) < 0) {
            goto done;
        }
    }
    if (fastmpi_require_mpi() < 0) {
        goto done;
    }
    int ierr = MPI_Type_create_struct((int)n, blocks, displs, handles,
                                      &newtype);
    result = made(ierr, &newtype);
done:
    PyMem_Free(blocks);
    PyMem_Free(displs);
    PyMem_Free(handles);
    Py_XDECREF(types);
    return result;
}

static int
order_arg(PyObject *obj, const char *fname, int *order)
{
    if (obj == NULL) {
        *order = MPI_ORDER_C;
        return 0;
    }
    if (int_arg(obj, fname, "order", 0, order) < 0) {
        return -1;
    }
    if (*order != MPI_ORDER_C && *order != MPI_ORDER_FORTRAN) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'order' must be MPI.ORDER_C or "
                     "MPI.ORDER_FORTRAN (got %d)", fname, *order);
        return -1;
    }
    return 0;
}

static PyObject *
Datatype_Create_subarray(FastMPIDatatypeObject *self, PyObject *args,
                         PyObject *kwds)
{
    static char *kwlist[] = {"sizes", "subsizes", "starts", "order", NULL};
    const char *fname = "Create_subarray";
    PyObject *sz, *sub, *st, *ord = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO|O:Create_subarray",
                                     kwlist, &sz, &sub, &st, &ord)) {
        return NULL;
    }
    PyObject *result = NULL;
    int *subsizes = NULL, *starts = NULL, order;
    Py_ssize_t n = 0, n2;
    MPI_Datatype old, newtype = MPI_DATATYPE_NULL;
    int *sizes = int_array(sz, fname, "sizes", 1, -1, &n);
    if (sizes == NULL ||
        (subsizes = int_array(sub, fname, "subsizes", 1, n, &n2)) == NULL ||
        (starts = int_array(st, fname, "starts", 1, n, &n2)) == NULL ||
        order_arg(ord, fname, &order) < 0) {
        goto done;
    }
    if (n == 0) {
        PyErr_Format(PyExc_ValueError,
                     "Create_subarray() argument 'sizes' must not be empty");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (subsizes[i] < 1 || subsizes[i] > sizes[i] ||
            starts[i] > sizes[i] - subsizes[i]) {
            PyErr_Format(PyExc_ValueError,
                         "Create_subarray(): dimension %zd: need 1 <= "
                         "subsizes <= sizes and starts + subsizes <= sizes "
                         "(sizes %d, subsizes %d, starts %d)", i, sizes[i],
                         subsizes[i], starts[i]);
            goto done;
        }
    }
    if (old_type(self, fname, &old) < 0) {
        goto done;
    }
    int ierr = MPI_Type_create_subarray((int)n, sizes, subsizes, starts,
                                        order, old, &newtype);
    result = made(ierr, &newtype);
done:
    PyMem_Free(sizes);
    PyMem_Free(subsizes);
    PyMem_Free(starts);
    return result;
}

static PyObject *
Datatype_Create_darray(FastMPIDatatypeObject *self, PyObject *args,
                       PyObject *kwds)
{
    static char *kwlist[] = {"size", "rank", "gsizes", "distribs", "dargs",
                             "psizes", "order", NULL};
    const char *fname = "Create_darray";
    PyObject *osize, *orank, *og, *odist, *odarg, *op, *ord = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOO|O:Create_darray",
                                     kwlist, &osize, &orank, &og, &odist,
                                     &odarg, &op, &ord)) {
        return NULL;
    }
    PyObject *result = NULL;
    int size, rank, order;
    int *gsizes = NULL, *distribs = NULL, *dargs = NULL, *psizes = NULL;
    Py_ssize_t n = 0, n2;
    MPI_Datatype old, newtype = MPI_DATATYPE_NULL;
    if (int_arg(osize, fname, "size", 1, &size) < 0 ||
        int_arg(orank, fname, "rank", 1, &rank) < 0 ||
        (gsizes = int_array(og, fname, "gsizes", 1, -1, &n)) == NULL ||
        (distribs = int_array(odist, fname, "distribs", 0, n, &n2)) ==
            NULL ||
        (dargs = int_array(odarg, fname, "dargs", 0, n, &n2)) == NULL ||
        (psizes = int_array(op, fname, "psizes", 1, n, &n2)) == NULL ||
        order_arg(ord, fname, &order) < 0) {
        goto done;
    }
    if (size < 1 || rank >= size) {
        PyErr_Format(PyExc_ValueError,
                     "Create_darray(): need size >= 1 and 0 <= rank < size "
                     "(size %d, rank %d)", size, rank);
        goto done;
    }
    long prod = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        int dist = distribs[i];
        if (dist != MPI_DISTRIBUTE_BLOCK && dist != MPI_DISTRIBUTE_CYCLIC &&
            dist != MPI_DISTRIBUTE_NONE) {
            PyErr_Format(PyExc_ValueError,
                         "Create_darray() argument 'distribs': item %zd "
                         "must be DISTRIBUTE_BLOCK, DISTRIBUTE_CYCLIC or "
                         "DISTRIBUTE_NONE (got %d)", i, dist);
            goto done;
        }
        if (dargs[i] != MPI_DISTRIBUTE_DFLT_DARG && dargs[i] < 1) {
            PyErr_Format(PyExc_ValueError,
                         "Create_darray() argument 'dargs': item %zd must "
                         "be positive or DISTRIBUTE_DFLT_DARG (got %d)", i,
                         dargs[i]);
            goto done;
        }
        if (psizes[i] < 1 ||
            (dist == MPI_DISTRIBUTE_NONE && psizes[i] != 1)) {
            PyErr_Format(PyExc_ValueError,
                         "Create_darray() argument 'psizes': item %zd must "
                         "be >= 1 (and 1 for DISTRIBUTE_NONE), got %d", i,
                         psizes[i]);
            goto done;
        }
        if (dist == MPI_DISTRIBUTE_BLOCK &&
            dargs[i] != MPI_DISTRIBUTE_DFLT_DARG &&
            (long)dargs[i] * psizes[i] < gsizes[i]) {
            PyErr_Format(PyExc_ValueError,
                         "Create_darray(): dimension %zd: a block of %d "
                         "elements on %d processes cannot cover %d", i,
                         dargs[i], psizes[i], gsizes[i]);
            goto done;
        }
        prod *= psizes[i];
        if (prod > INT_MAX) {
            break;
        }
    }
    if (prod != size) {
        PyErr_Format(PyExc_ValueError,
                     "Create_darray(): the product of psizes (%ld) must "
                     "equal size (%d)", prod, size);
        goto done;
    }
    if (old_type(self, fname, &old) < 0) {
        goto done;
    }
    int ierr = MPI_Type_create_darray(size, rank, (int)n, gsizes, distribs,
                                      dargs, psizes, order, old, &newtype);
    result = made(ierr, &newtype);
done:
    PyMem_Free(gsizes);
    PyMem_Free(distribs);
    PyMem_Free(dargs);
    PyMem_Free(psizes);
    return result;
}

static PyObject *
Datatype_Create_resized(FastMPIDatatypeObject *self, PyObject *args,
                        PyObject *kwds)
{
    static char *kwlist[] = {"lb", "extent", NULL};
    PyObject *olb, *oext;
    MPI_Aint lb, extent;
    MPI_Datatype old, newtype = MPI_DATATYPE_NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Create_resized", kwlist,
                                     &olb, &oext) ||
        aint_arg(olb, "Create_resized", "lb", &lb) < 0 ||
        aint_arg(oext, "Create_resized", "extent", &extent) < 0 ||
        old_type(self, "Create_resized", &old) < 0) {
        return NULL;
    }
    int ierr = MPI_Type_create_resized(old, lb, extent, &newtype);
    return made(ierr, &newtype);
}

/* Match_size(typeclass, size): a predefined type (static method). */
static PyObject *
Datatype_Match_size(PyObject *cls, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"typeclass", "size", NULL};
    PyObject *otc, *osz;
    int typeclass, size;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Match_size", kwlist,
                                     &otc, &osz) ||
        int_arg(otc, "Match_size", "typeclass", 0, &typeclass) < 0 ||
        int_arg(osz, "Match_size", "size", 1, &size) < 0) {
        return NULL;
    }
    if (typeclass != MPI_TYPECLASS_INTEGER &&
        typeclass != MPI_TYPECLASS_REAL &&
        typeclass != MPI_TYPECLASS_COMPLEX) {
        return PyErr_Format(PyExc_ValueError,
                            "Match_size() argument 'typeclass' must be "
                            "TYPECLASS_INTEGER, TYPECLASS_REAL or "
                            "TYPECLASS_COMPLEX (got %d)", typeclass);
    }
    MPI_Datatype dt = MPI_DATATYPE_NULL;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Type_match_size(typeclass, size, &dt)) < 0) {
        return NULL;
    }
    return fastmpi_datatype_new(dt, FASTMPI_PREDEFINED |
                                        FASTMPI_DT_COMMITTED);
}

/* Create_f90_integer(r), Create_f90_real(p, r), Create_f90_complex(p, r):
 * the predefined type of a Fortran 90 kind (class methods).  p or r may be
 * UNDEFINED, as MPI says. */
static PyObject *
f90_result(int ierr, const MPI_Datatype *dt)
{
    /* dt by address: read after the MPI call has stored it, whatever the
     * order in which the caller's arguments are evaluated */
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return fastmpi_datatype_new(*dt, FASTMPI_PREDEFINED |
                                         FASTMPI_DT_COMMITTED);
}

static PyObject *
Datatype_Create_f90_integer(PyObject *cls, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"r", NULL};
    PyObject *arg;
    int r;
    MPI_Datatype dt = MPI_DATATYPE_NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Create_f90_integer",
                                     kwlist, &arg) ||
        int_arg(arg, "Create_f90_integer", "r", 0, &r) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    return f90_result(MPI_Type_create_f90_integer(r, &dt), &dt);
}

/* (p, r) of Create_f90_real/complex: UNDEFINED allowed. */
static int
f90_pr(PyObject *args, PyObject *kwds, const char *fname, int *p, int *r)
{
    static char *kwlist[] = {"p", "r", NULL};
    PyObject *op, *orr;
    char format[32];
    PyOS_snprintf(format, sizeof(format), "OO:%s", fname);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, format, kwlist, &op,
                                     &orr) ||
        int_arg(op, fname, "p", 0, p) < 0 ||
        int_arg(orr, fname, "r", 0, r) < 0) {
        return -1;
    }
    return fastmpi_require_mpi();
}

static PyObject *
Datatype_Create_f90_real(PyObject *cls, PyObject *args, PyObject *kwds)
{
    int p, r;
    MPI_Datatype dt = MPI_DATATYPE_NULL;
    if (f90_pr(args, kwds, "Create_f90_real", &p, &r) < 0) {
        return NULL;
    }
    return f90_result(MPI_Type_create_f90_real(p, r, &dt), &dt);
}

static PyObject *
Datatype_Create_f90_complex(PyObject *cls, PyObject *args, PyObject *kwds)
{
    int p, r;
    MPI_Datatype dt = MPI_DATATYPE_NULL;
    if (f90_pr(args, kwds, "Create_f90_complex", &p, &r) < 0) {
        return NULL;
    }
    return f90_result(MPI_Type_create_f90_complex(p, r, &dt), &dt);
}

/* Get_value_index(value, index): MPI-4.1's pair type (class method). */
static PyObject *
Datatype_Get_value_index(PyObject *cls, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"value", "index", NULL};
    PyObject *ovalue, *oindex;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Get_value_index",
                                     kwlist, &ovalue, &oindex)) {
        return NULL;
    }
    MPI_Datatype value = fastmpi_datatype_arg(ovalue, "Get_value_index",
                                              "value");
    if (value == MPI_DATATYPE_NULL) {
        return NULL;
    }
    MPI_Datatype index = fastmpi_datatype_arg(oindex, "Get_value_index",
                                              "index");
    if (index == MPI_DATATYPE_NULL) {
        return NULL;
    }
#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
    MPI_Datatype dt = MPI_DATATYPE_NULL;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Type_get_value_index(value, index, &dt)) < 0) {
        return NULL;
    }
    return fastmpi_datatype_new(dt, FASTMPI_PREDEFINED |
                                        FASTMPI_DT_COMMITTED);
#else
    return fastmpi_not_available("Get_value_index", 4, 1);
#endif
}

#define KW (METH_VARARGS | METH_KEYWORDS)

PyMethodDef fastmpi_dtcreate_methods[] = {
    {"Dup", (PyCFunction)Datatype_Dup, METH_NOARGS,
     "Dup($self)\n--\n\n"
     "Dup() -> Datatype: a duplicate (committed if this one is)."},
    {"Create_dup", (PyCFunction)Datatype_Dup, METH_NOARGS,
     "Create_dup() -> Datatype: Dup() (the constructor decode() names "
     "for a DUP type)."},
    {"Create_contiguous",
     (PyCFunction)(void (*)(void))Datatype_Create_contiguous, KW,
     "Create_contiguous($self, count)\n--\n\n"
     "Create_contiguous(count) -> Datatype."},
    {"Create_vector", (PyCFunction)(void (*)(void))Datatype_Create_vector,
     KW, "Create_vector($self, count, blocklength, stride)\n--\n\n"
         "Create_vector(count, blocklength, stride) -> Datatype."},
    {"Create_hvector", (PyCFunction)(void (*)(void))Datatype_Create_hvector,
     KW, "Create_hvector($self, count, blocklength, stride)\n--\n\n"
         "Create_hvector(count, blocklength, stride) -> Datatype (stride "
     "in bytes)."},
    {"Create_indexed", (PyCFunction)(void (*)(void))Datatype_Create_indexed,
     KW, "Create_indexed($self, blocklengths, displacements)\n--\n\n"
         "Create_indexed(blocklengths, displacements) -> Datatype."},
    {"Create_hindexed",
     (PyCFunction)(void (*)(void))Datatype_Create_hindexed, KW,
     "Create_hindexed($self, blocklengths, displacements)\n--\n\n"
     "Create_hindexed(blocklengths, displacements) -> Datatype "
     "(displacements in bytes)."},
    {"Create_indexed_block",
     (PyCFunction)(void (*)(void))Datatype_Create_indexed_block, KW,
     "Create_indexed_block($self, blocklength, displacements)\n--\n\n"
     "Create_indexed_block(blocklength, displacements) -> Datatype."},
    {"Create_hindexed_block",
     (PyCFunction)(void (*)(void))Datatype_Create_hindexed_block, KW,
     "Create_hindexed_block($self, blocklength, displacements)\n--\n\n"
     "Create_hindexed_block(blocklength, displacements) -> Datatype "
     "(displacements in bytes)."},
    {"Create_struct", (PyCFunction)(void (*)(void))Datatype_Create_struct,
     KW | METH_CLASS,
     "Create_struct($cls, blocklengths, displacements, datatypes)\n--\n\n"
     "Create_struct(blocklengths, displacements, datatypes) -> Datatype."},
    {"Create_subarray",
     (PyCFunction)(void (*)(void))Datatype_Create_subarray, KW,
     "Create_subarray($self, sizes, subsizes, starts, order=ORDER_C)\n--\n\n"
     "Create_subarray(sizes, subsizes, starts, order=ORDER_C) -> "
     "Datatype."},
    {"Create_darray", (PyCFunction)(void (*)(void))Datatype_Create_darray,
     KW, "Create_darray($self, size, rank, gsizes, distribs, dargs, psizes, "
         "order=ORDER_C)\n--\n\n"
         "Create_darray(size, rank, gsizes, distribs, dargs, psizes, "
     "order=ORDER_C) -> Datatype."},
    {"Create_resized",
     (PyCFunction)(void (*)(void))Datatype_Create_resized, KW,
     "Create_resized($self, lb, extent)\n--\n\n"
     "Create_resized(lb, extent) -> Datatype."},
    {"Match_size", (PyCFunction)(void (*)(void))Datatype_Match_size,
     KW | METH_CLASS,
     "Match_size($cls, typeclass, size)\n--\n\n"
     "Match_size(typeclass, size) -> the predefined Datatype."},
    {"Create_f90_integer",
     (PyCFunction)(void (*)(void))Datatype_Create_f90_integer,
     KW | METH_CLASS,
     "Create_f90_integer($cls, r)\n--\n\n"
     "Create_f90_integer(r) -> the predefined INTEGER of range r."},
    {"Create_f90_real", (PyCFunction)(void (*)(void))Datatype_Create_f90_real,
     KW | METH_CLASS,
     "Create_f90_real($cls, p, r)\n--\n\n"
     "Create_f90_real(p, r) -> the predefined REAL of precision p and "
     "range r."},
    {"Create_f90_complex",
     (PyCFunction)(void (*)(void))Datatype_Create_f90_complex,
     KW | METH_CLASS,
     "Create_f90_complex($cls, p, r)\n--\n\n"
     "Create_f90_complex(p, r) -> the predefined COMPLEX of precision p "
     "and range r."},
    {"Get_value_index",
     (PyCFunction)(void (*)(void))Datatype_Get_value_index, KW | METH_CLASS,
     "Get_value_index($cls, value, index)\n--\n\n"
     "Get_value_index(value, index) -> the pair type of MINLOC/MAXLOC "
     "(MPI-4.1)."},
    {NULL},
};

/* ---- module functions: addresses --------------------------------------- */

static PyObject *
Get_address(PyObject *module, PyObject *location)
{
    MPI_Aint addr = 0;
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (location == fastmpi_st->BOTTOM) {
        if (fastmpi_check(MPI_Get_address(MPI_BOTTOM, &addr)) < 0) {
            return NULL;
        }
        return PyLong_FromSsize_t((Py_ssize_t)addr);
    }
    /* the address of contiguous memory (C or Fortran order), as mpi4py:
     * a strided view's first item need not be its lowest byte */
    Py_buffer view;
    if (fastmpi_foreign_check(location)) {
        /* DLPack, CUDA Array Interface (dlpack.c): it says what is wrong */
        if (fastmpi_buffer_get(location, &view, PyBUF_ANY_CONTIGUOUS, 1,
                               "Get_address", "location") < 0) {
            return NULL;
        }
    }
    else if (!PyObject_CheckBuffer(location)) {
        return PyErr_Format(PyExc_TypeError,
                            "Get_address() argument 'location' must be a "
                            "buffer or MPI.BOTTOM, not %.100s",
                            Py_TYPE(location)->tp_name);
    }
    else if (PyObject_GetBuffer(location, &view, PyBUF_ANY_CONTIGUOUS) < 0) {
        PyErr_Clear();
        return PyErr_Format(PyExc_BufferError,
                            "Get_address() argument 'location': %.100s is "
                            "not contiguous (C or Fortran order)",
                            Py_TYPE(location)->tp_name);
    }
    int ierr = MPI_Get_address(view.buf, &addr);
    PyBuffer_Release(&view);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t((Py_ssize_t)addr);
}

static int
two_aints(fastmpi_argspec *spec, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames, MPI_Aint *x, MPI_Aint *y)
{
    PyObject *argv[2];
    return fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
           aint_arg(argv[0], spec->fname, spec->names[0], x) < 0 ||
           aint_arg(argv[1], spec->fname, spec->names[1], y) < 0 ? -1 : 0;
}

static PyObject *
Aint_add(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
         PyObject *kwnames)
{
    static const char *const names[] = {"base", "disp", NULL};
    static fastmpi_argspec spec = {"Aint_add", names, 2};
    MPI_Aint base, disp;
    if (two_aints(&spec, args, nargs, kwnames, &base, &disp) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t((Py_ssize_t)MPI_Aint_add(base, disp));
}

static PyObject *
Aint_diff(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"addr1", "addr2", NULL};
    static fastmpi_argspec spec = {"Aint_diff", names, 2};
    MPI_Aint a1, a2;
    if (two_aints(&spec, args, nargs, kwnames, &a1, &a2) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t((Py_ssize_t)MPI_Aint_diff(a1, a2));
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Get_address, "Get_address", "location")

static PyMethodDef address_functions[] = {
    {"Get_address", FASTMPI_FASTCALL(Get_address_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Get_address($module, location)\n--\n\n"
     "Get_address(location) -> int: the address of a buffer."},
    {"Aint_add", FASTMPI_FASTCALL(Aint_add), METH_FASTCALL | METH_KEYWORDS,
     "Aint_add($module, base, disp)\n--\n\n"
     "Aint_add(base, disp) -> int."},
    {"Aint_diff", FASTMPI_FASTCALL(Aint_diff),
     METH_FASTCALL | METH_KEYWORDS,
     "Aint_diff($module, addr1, addr2)\n--\n\n"
     "Aint_diff(addr1, addr2) -> int."},
    {NULL},
};

typedef struct {
    const char *name;
    long value;
} dt_constant;

#define C(name) {#name, (long)MPI_##name}

static const dt_constant dt_constants[] = {
    C(COMBINER_NAMED), C(COMBINER_DUP), C(COMBINER_CONTIGUOUS),
    C(COMBINER_VECTOR), C(COMBINER_HVECTOR), C(COMBINER_INDEXED),
    C(COMBINER_HINDEXED), C(COMBINER_INDEXED_BLOCK),
    C(COMBINER_HINDEXED_BLOCK), C(COMBINER_STRUCT), C(COMBINER_SUBARRAY),
    C(COMBINER_DARRAY), C(COMBINER_F90_REAL), C(COMBINER_F90_COMPLEX),
    C(COMBINER_F90_INTEGER), C(COMBINER_RESIZED),
    C(TYPECLASS_INTEGER), C(TYPECLASS_REAL), C(TYPECLASS_COMPLEX),
    C(TYPECLASS_LOGICAL), C(COMBINER_VALUE_INDEX),
    C(DISTRIBUTE_NONE), C(DISTRIBUTE_BLOCK), C(DISTRIBUTE_CYCLIC),
    C(DISTRIBUTE_DFLT_DARG),
    C(ORDER_C), C(ORDER_FORTRAN), {"ORDER_F", (long)MPI_ORDER_FORTRAN},
    {NULL, 0},
};

#undef C

int
fastmpi_dtcreate_init(PyObject *module)
{
    for (const dt_constant *c = dt_constants; c->name != NULL; c++) {
        if (PyModule_AddIntConstant(module, c->name, c->value) < 0) {
            return -1;
        }
    }
    return PyModule_AddFunctions(module, address_functions);
}
