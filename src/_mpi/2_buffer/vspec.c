/* vspec.c: the buffer specs of collectives: block specs (a buffer split
 * into one block per rank) and vector specs (counts and displacements per
 * rank, and for Alltoallw a datatype per rank).
 *
 *   block:   like a p2p spec; a count inferred from the buffer is divided
 *            by the number of blocks, an explicit count is per block
 *   vector:  buf                                 even split, contiguous
 *            [buf, counts] / [buf, datatype]
 *            [buf, counts, datatype]             displs: running sum
 *            [buf, (counts, displs), datatype]
 *            [buf, counts, displs, datatype]
 *   counts:  None (even split, the first ranks get the remainder), an int
 *            (the same for every rank) or a sequence of one int per rank;
 *   displs:  None (running sum), an int d (rank i at i*d) or a sequence,
 *            in datatype extents
 *   types:   [buf, counts, displs, datatypes] or
 *            [buf, (counts, displs), datatypes], displs in bytes, datatypes
 *            a sequence of one Datatype per rank, or one for all
 *
 * A datatype may also be one of mpi4py's type codes ('d', 'i', ...).
 *
 * Every block must lie inside the buffer (checked here, before MPI sees
 * it), except for MPI.BOTTOM, whose displacements are addresses.  A w
 * spec's byte displacements are MPI_Aint (Neighbor_alltoallw takes them
 * so); for Alltoallw, whose are C ints, the blocks at MPI.BOTTOM or past
 * an int are folded into datatypes (fold_displs).
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "datatype.h"
#include "msgbuffer.h"

#include <string.h>

static int
has_explicit_count(PyObject *spec)
{
    if (!PyList_CheckExact(spec) && !PyTuple_CheckExact(spec)) {
        return 0;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(spec);
    if (n == 3) {
        return 1;
    }
    PyObject *second = n == 2 ? PySequence_Fast_ITEMS(spec)[1] : NULL;
    return second != NULL &&
           !PyObject_TypeCheck(second, fastmpi_st->Datatype) &&
           !PyUnicode_Check(second);
}

/* fastmpi_msg_parse for a buffer split into blocks: a strided buffer is
 * described as a count of items (strided.c), so the count splits. */
static int
parse_counted(PyObject *spec, int mode, const char *fname,
              const char *argname, fastmpi_msg *msg)
{
    fastmpi_strided_counted(1);
    int rc = fastmpi_msg_parse(spec, mode, 0, fname, argname, msg);
    fastmpi_strided_counted(-1);
    return rc;
}

/* spec with its explicit count (items[1]: an int, or (count, displ))
 * multiplied by `blocks`, so that parsing it checks every block against
 * the buffer; NULL (no exception) when the count is of another type, for
 * the ordinary parse to explain. */
static PyObject *
spec_of_all_blocks(PyObject *spec, int blocks, Py_ssize_t *count)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(spec);
    PyObject **items = PySequence_Fast_ITEMS(spec);
    PyObject *c = items[1], *displ = NULL;
    if (PyTuple_Check(c) && PyTuple_GET_SIZE(c) == 2) {
        displ = PyTuple_GET_ITEM(c, 1);
        c = PyTuple_GET_ITEM(c, 0);
    }
    if (!PyLong_Check(c)) {
        return NULL;
    }
    *count = PyLong_AsSsize_t(c);
    if (*count < 0 || *count > PY_SSIZE_T_MAX / blocks) {
        PyErr_Clear();
        return NULL;            /* the ordinary parse says what is wrong */
    }
    PyObject *total = PyLong_FromSsize_t(*count * blocks);
    if (total != NULL && displ != NULL) {
        Py_SETREF(total, PyTuple_Pack(2, total, displ));
    }
    PyObject *out = total != NULL ? PyList_New(n) : NULL;
    if (out == NULL) {
        Py_XDECREF(total);
        PyErr_Clear();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = i == 1 ? total : Py_NewRef(items[i]);
        PyList_SET_ITEM(out, i, item);
    }
    return out;
}

/* msg holds the whole buffer as one item of a large type: make it one
 * block of `per` items of base (an int count, or a smaller large type).
 * 0, or -1 with msg released. */
static int
split_large(fastmpi_msg *msg, MPI_Datatype base, Py_ssize_t per, int blocks,
            const char *fname, const char *argname)
{
    msg->datatype = base;
    msg->count = (int)per;
    if (per > INT_MAX) {
        msg->count = 1;
        if (fastmpi_large_type(base, per, fname, argname,
                               &msg->datatype) < 0) {
            fastmpi_msg_release(msg);
            return -1;
        }
    }
    msg->nbytes /= blocks;
    return 0;
}

int
fastmpi_msg_parse_blocks(PyObject *spec, int mode, int blocks,
                         const char *fname, const char *argname,
                         fastmpi_msg *msg)
{
    /* peer 0: None is not an empty message here */
    if (blocks > 1 && has_explicit_count(spec)) {
        /* an explicit count is per block: every block must fit */
        Py_ssize_t count = 0;
        PyObject *all = spec_of_all_blocks(spec, blocks, &count);
        if (all == NULL) {
            return parse_counted(spec, mode, fname, argname, msg);
        }
        int rc = parse_counted(all, mode, fname, argname, msg);
        Py_DECREF(all);
        if (rc < 0) {
            if (PyErr_ExceptionMatches(PyExc_ValueError)) {
                PyObject *t, *v, *tb;
                PyErr_Fetch(&t, &v, &tb);
                PyErr_NormalizeException(&t, &v, &tb);
                PyErr_Format(PyExc_ValueError,
                             "%s() argument '%s': its count %zd is per "
                             "block, and %d blocks (one per rank) do not "
                             "fit: %S", fname, argname, count, blocks, v);
                Py_XDECREF(t);
                Py_XDECREF(v);
                Py_XDECREF(tb);
            }
            return -1;
        }
        MPI_Datatype base;
        Py_ssize_t total;
        if ((Py_ssize_t)msg->count != count * blocks &&
            msg->nbytes > INT_MAX && msg->count == 1 &&
            fastmpi_large_type_info(msg->datatype, &base, &total) &&
            total == count * blocks) {
            /* a large type (strided.c) stands for the whole buffer */
            return split_large(msg, base, count, blocks, fname, argname);
        }
        if ((Py_ssize_t)msg->count != count * blocks) {
            fastmpi_msg_release(msg);
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': %d blocks of %zd items "
                         "(more than 2**31-1 in all) cannot be split "
                         "into blocks per rank", fname, argname, blocks,
                         count);
            return -1;
        }
        msg->count = (int)count;
        msg->nbytes /= blocks;
        return 0;
    }
    if (parse_counted(spec, mode, fname, argname, msg) < 0) {
        return -1;
    }
    if (blocks > 1 && !has_explicit_count(spec)) {
        /* a buffer past 2**31-1 items is one item of a large type: split
         * its items (into blocks of a smaller large type, or an int
         * count) */
        MPI_Datatype base = msg->datatype;
        Py_ssize_t total = msg->count;
        int large = Py_UNLIKELY(msg->nbytes > INT_MAX) && msg->count == 1 &&
                    fastmpi_large_type_info(msg->datatype, &base, &total);
        if (total % blocks != 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': its %zd elements do not "
                         "split into %d equal blocks (one per rank)",
                         fname, argname, total, blocks);
            fastmpi_msg_release(msg);
            return -1;
        }
        if (Py_UNLIKELY(large)) {
            return split_large(msg, base, total / blocks, blocks, fname,
                               argname);
        }
        msg->count /= blocks;
        msg->nbytes /= blocks;
    }
    return 0;
}

/* Above INT_MAX where vlarge.c takes over (not Alltoallw): */
#define PAST_INT 1

/* One non-negative C int: 0, PAST_INT (a larger value, no exception;
 * only if allow_large), or -1 with an exception naming what. */
static int
int_item(PyObject *obj, const char *fname, const char *argname,
         const char *what, Py_ssize_t i, int allow_large, int *out)
{
    if (!PyLong_Check(obj) && (!PyIndex_Check(obj) || PyBool_Check(obj))) {
        if (i < 0) {
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s': %s must be an int or a "
                         "sequence of ints, not %.100s", fname, argname,
                         what, Py_TYPE(obj)->tp_name);
        }
        else {
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s': %s[%zd] must be an int, not "
                         "%.100s", fname, argname, what, i,
                         Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    Py_ssize_t v = PyNumber_AsSsize_t(obj, NULL);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v > INT_MAX && allow_large) {
        return PAST_INT;
    }
    if (v < 0 || v > INT_MAX) {
        const char *rule = v < 0 ? "must not be negative"
                                 : "must be in [0, 2**31-1]";
        if (i < 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': %s is %zd; it %s", fname,
                         argname, what, v, rule);
        }
        else {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': %s[%zd] is %zd; it %s", fname,
                         argname, what, i, v, rule);
        }
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* `blocks` ints from obj (a sequence of that length): 0, PAST_INT or
 * -1. */
static int
int_array(PyObject *obj, int blocks, const char *fname, const char *argname,
          const char *what, int allow_large, int *out)
{
    if (PyLong_Check(obj) || !PySequence_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s': %s must be a sequence of %d ints "
                     "(one per rank), not %.100s", fname, argname, what,
                     blocks, Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyObject *seq = PySequence_Fast(obj, "");
    if (seq == NULL) {
        return -1;
    }
    int rc = -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n != blocks) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': %s has %zd items; the "
                     "communicator has %d ranks", fname, argname, what, n,
                     blocks);
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        rc = int_item(PySequence_Fast_ITEMS(seq)[i], fname, argname, what,
                      i, allow_large, &out[i]);
        if (rc != 0) {
            goto done;
        }
    }
    rc = 0;
done:
    Py_DECREF(seq);
    return rc;
}

static int
is_integral(PyObject *obj)
{
    return PyLong_Check(obj) ||
           (PyIndex_Check(obj) && !PySequence_Check(obj));
}

/* 0, PAST_INT or -1, as the functions below */
static int
fill_counts(PyObject *obj, Py_ssize_t total, fastmpi_vmsg *v,
            int allow_large, const char *fname, const char *argname)
{
    int blocks = v->blocks;
    if (obj == NULL || obj == Py_None) {
        for (int i = 0; i < blocks; i++) {
            v->counts[i] = (int)(total / blocks + (total % blocks > i));
        }
        return 0;
    }
    if (is_integral(obj)) {
        int c;
        int rc = int_item(obj, fname, argname, "counts", -1, allow_large,
                          &c);
        if (rc != 0) {
            return rc;
        }
        for (int i = 0; i < blocks; i++) {
            v->counts[i] = c;
        }
        return 0;
    }
    return int_array(obj, blocks, fname, argname, "counts", allow_large,
                     v->counts);
}

static int
fill_displs(PyObject *obj, fastmpi_vmsg *v, int allow_large,
            const char *fname, const char *argname)
{
    int blocks = v->blocks;
    if (obj == NULL || obj == Py_None) {
        long long at = 0;
        for (int i = 0; i < blocks; i++) {
            if (at > INT_MAX && allow_large) {
                return PAST_INT;
            }
            if (at > INT_MAX) {
                PyErr_Format(PyExc_OverflowError,
                             "%s() argument '%s': displacements past "
                             "2**31-1 elements", fname, argname);
                return -1;
            }
            v->displs[i] = (int)at;
            at += v->counts[i];
        }
        return 0;
    }
    if (is_integral(obj)) {
        int d;
        int rc = int_item(obj, fname, argname, "displs", -1, allow_large,
                          &d);
        if (rc != 0) {
            return rc;
        }
        for (int i = 0; i < blocks; i++) {
            if ((long long)d * i > INT_MAX && allow_large) {
                return PAST_INT;
            }
            if ((long long)d * i > INT_MAX) {
                PyErr_Format(PyExc_OverflowError,
                             "%s() argument '%s': displacements past "
                             "2**31-1 elements", fname, argname);
                return -1;
            }
            v->displs[i] = d * i;
        }
        return 0;
    }
    return int_array(obj, blocks, fname, argname, "displs", allow_large,
                     v->displs);
}

/* The byte displacements of a w spec into v->wdispls, and into
 * v->displs where they fit an int.  With MPI.BOTTOM (bottom) they are
 * addresses (MPI.Get_address): any MPI_Aint; else bytes into the buffer,
 * >= 0 (check_bounds checks the ends).  1 if some displacement does not
 * fit an int, 0 if all do, -1 with an exception. */
static int
fill_wdispls(PyObject *obj, fastmpi_vmsg *v, int bottom, const char *fname,
             const char *argname)
{
    int blocks = v->blocks, wide = 0;
    PyObject *seq = NULL;
    if (is_integral(obj)) {
        /* one displacement d: block i at i * d */
    }
    else if (PyLong_Check(obj) || PyUnicode_Check(obj) ||
             PyBytes_Check(obj) || !PySequence_Check(obj) ||
             (seq = PySequence_Fast(obj, "")) == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s': displs must be an int or a "
                     "sequence of %d ints (one per rank), not %.100s", fname,
                     argname, blocks, Py_TYPE(obj)->tp_name);
        return -1;
    }
    else if (PySequence_Fast_GET_SIZE(seq) != blocks) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': displs has %zd items; the "
                     "communicator has %d ranks", fname, argname,
                     PySequence_Fast_GET_SIZE(seq), blocks);
        Py_DECREF(seq);
        return -1;
    }
    for (int i = 0; i < blocks; i++) {
        PyObject *item = seq != NULL ? PySequence_Fast_ITEMS(seq)[i] : obj;
        if (!PyLong_Check(item) &&
            (!PyIndex_Check(item) || PyBool_Check(item))) {
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s': displs[%d] must be an int, "
                         "not %.100s", fname, argname, i,
                         Py_TYPE(item)->tp_name);
            goto error;
        }
        Py_ssize_t d = PyNumber_AsSsize_t(item, PyExc_OverflowError);
        if (d == -1 && PyErr_Occurred()) {
            goto error;
        }
        if (seq == NULL) {
            if (d != 0 && i > PY_SSIZE_T_MAX / (d < 0 ? -d : d)) {
                PyErr_Format(PyExc_OverflowError,
                             "%s() argument '%s': displacement %zd * %d "
                             "overflows", fname, argname, d, i);
                goto error;
            }
            d *= i;
        }
        if (d < 0 && !bottom) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': displs[%d] is %zd; it must "
                         "not be negative (only MPI.BOTTOM takes addresses)",
                         fname, argname, i, d);
            goto error;
        }
        v->wdispls[i] = (MPI_Aint)d;
        v->displs[i] = d >= INT_MIN && d <= INT_MAX ? (int)d : 0;
        wide |= d < INT_MIN || d > INT_MAX;
    }
    Py_XDECREF(seq);
    return wide;
error:
    Py_XDECREF(seq);
    return -1;
}

/* Byte displacements that put the blocks one after the other: 1 if one
 * is past an int (as fill_wdispls), 0, or -1 with an exception. */
static int
consecutive_wdispls(fastmpi_vmsg *v)
{
    MPI_Aint at = 0;
    int wide = 0;
    for (int i = 0; i < v->blocks; i++) {
        MPI_Aint lb = 0, extent = 0;
        v->wdispls[i] = at;
        v->displs[i] = at <= INT_MAX ? (int)at : 0;
        wide |= at > INT_MAX;
        if (fastmpi_check(MPI_Type_get_extent(v->types[i], &lb,
                                              &extent)) < 0) {
            return -1;
        }
        at += (MPI_Aint)v->counts[i] * extent;
    }
    return wide;
}

/* Alltoallw's displacements are C ints, and neither library takes
 * MPI.BOTTOM there (reproduced in plain C: Open MPI 4.1.4 crashes on
 * MPI_Alltoallw(MPI_BOTTOM, ...) with absolute displacements even when
 * they fit an int, reading at displacement * extent; MPICH 4.0.2 refuses
 * MPI_BOTTOM on both sides as aliased buffers).  So each block of a w spec
 * at MPI.BOTTOM, or at a displacement past an int, is folded into a new
 * datatype, `count` of the block's type at its displacement
 * (MPI_Type_create_hindexed), sent as one item at displacement 0; with
 * MPI.BOTTOM the displacements are taken relative to the first block's
 * first byte, which becomes the buffer address.  v->made holds the new
 * types; release frees them (MPI lets a datatype be freed while an
 * operation started with it is pending).  0, or -1 with an exception. */
static int
fold_displs(fastmpi_vmsg *v, int bottom)
{
    MPI_Aint base = 0;
    for (int i = 0; bottom && i < v->blocks; i++) {
        MPI_Aint tlb = 0, text = 0;
        if (v->counts[i] != 0) {
            if (fastmpi_check(MPI_Type_get_true_extent(v->types[i], &tlb,
                                                       &text)) < 0) {
                return -1;
            }
            base = v->wdispls[i] + tlb;
            break;
        }
    }
    v->made = PyMem_Calloc((size_t)v->blocks, sizeof(MPI_Datatype));
    if (v->made == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = 0; i < v->blocks; i++) {
        v->made[i] = MPI_DATATYPE_NULL;
        v->displs[i] = 0;
        if (v->counts[i] == 0) {
            continue;
        }
        MPI_Datatype t;
        MPI_Aint at = v->wdispls[i] - base;
        int ierr = MPI_Type_create_hindexed(1, &v->counts[i], &at,
                                            v->types[i], &t);
        if (ierr == MPI_SUCCESS && (ierr = MPI_Type_commit(&t)) !=
            MPI_SUCCESS) {
            MPI_Type_free(&t);
        }
        if (fastmpi_check(ierr) < 0) {
            return -1;
        }
        v->made[i] = v->types[i] = t;
        v->counts[i] = 1;
        v->wdispls[i] = 0;
    }
    if (bottom && base != 0) {
        v->msg.addr = (void *)(intptr_t)MPI_Aint_add(
            (MPI_Aint)(intptr_t)MPI_BOTTOM, base);
    }
    return 0;
}

static int
fill_types(PyObject *obj, fastmpi_vmsg *v, const char *fname,
           const char *argname)
{
    int blocks = v->blocks;
    if (PyObject_TypeCheck(obj, fastmpi_st->Datatype) ||
        PyUnicode_Check(obj)) {
        MPI_Datatype t = fastmpi_datatype_spec_arg(obj, fname, argname);
        if (t == MPI_DATATYPE_NULL) {
            return -1;
        }
        for (int i = 0; i < blocks; i++) {
            v->types[i] = t;
        }
        return 0;
    }
    if (!PySequence_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s': datatypes must be a sequence of "
                     "%d MPI.Datatype (one per rank), not %.100s", fname,
                     argname, blocks, Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyObject *seq = PySequence_Fast(obj, "");
    if (seq == NULL) {
        return -1;
    }
    int rc = -1;
    if (PySequence_Fast_GET_SIZE(seq) != blocks) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': datatypes has %zd items; the "
                     "communicator has %d ranks", fname, argname,
                     PySequence_Fast_GET_SIZE(seq), blocks);
        goto done;
    }
    for (int i = 0; i < blocks; i++) {
        v->types[i] = fastmpi_datatype_spec_arg(
            PySequence_Fast_ITEMS(seq)[i], fname, argname);
        if (v->types[i] == MPI_DATATYPE_NULL) {
            goto done;
        }
    }
    rc = 0;
done:
    Py_DECREF(seq);
    return rc;
}

/* A raw byte view of buf (Alltoallw: the datatypes say the rest). */
static int
byte_view(PyObject *buf, int mode, const char *fname, const char *argname,
          fastmpi_msg *msg)
{
    if (buf == fastmpi_st->BOTTOM) {
        msg->addr = MPI_BOTTOM;
        return 0;
    }
    int flags = PyBUF_ANY_CONTIGUOUS;
    if (mode == FASTMPI_MSG_RECV) {
        flags |= PyBUF_WRITABLE;
    }
    if (fastmpi_buffer_get(buf, &msg->view, flags, 1, fname, argname) < 0) {
        msg->view.obj = NULL;
        if (fastmpi_foreign_check(buf)) {
            return -1;          /* DLPack, CAI (dlpack.c): it says why */
        }
        PyObject *t, *val, *tb;
        PyErr_Fetch(&t, &val, &tb);
        PyErr_Format(PyObject_CheckBuffer(buf) ? PyExc_BufferError
                                               : PyExc_TypeError,
                     "%s() argument '%s': need a contiguous%s buffer, not "
                     "%.100s (%S)", fname, argname,
                     mode == FASTMPI_MSG_RECV ? " writable" : "",
                     Py_TYPE(buf)->tp_name, val ? val : Py_None);
        Py_XDECREF(t);
        Py_XDECREF(val);
        Py_XDECREF(tb);
        return -1;
    }
    msg->addr = msg->view.buf;
    msg->nbytes = msg->view.len;
    return 0;
}

/* Every block inside the buffer's len bytes. */
static int
check_bounds(fastmpi_vmsg *v, Py_ssize_t len, const char *fname,
             const char *argname)
{
    for (int i = 0; i < v->blocks; i++) {
        MPI_Datatype t = v->types ? v->types[i] : v->msg.datatype;
        MPI_Aint lb = 0, extent = 0;
        if (v->counts[i] == 0) {
            continue;
        }
        if (fastmpi_check(MPI_Type_get_extent(t, &lb, &extent)) < 0) {
            return -1;
        }
        long long start = v->types ? (long long)v->wdispls[i]
                                   : (long long)v->displs[i] * extent;
        long long end = start + (long long)v->counts[i] * extent;
        if (start + lb < 0 || end > (long long)len) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': block %d (count %d at "
                         "displacement %lld) reaches byte %lld of a "
                         "%zd-byte buffer", fname, argname, i, v->counts[i],
                         v->types ? (long long)v->wdispls[i]
                                  : (long long)v->displs[i], end, len);
            return -1;
        }
    }
    return 0;
}

int
fastmpi_vmsg_parse(PyObject *spec, int mode, int blocks, int with_types,
                   const char *fname, const char *argname, fastmpi_vmsg *v)
{
    PyObject *buf = spec, *counts = NULL, *displs = NULL, *type = NULL;
    memset(v, 0, sizeof(*v));
    v->msg.datatype = MPI_BYTE;
    v->blocks = blocks;
    if (PyList_CheckExact(spec) || PyTuple_CheckExact(spec)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(spec);
        PyObject **items = PySequence_Fast_ITEMS(spec);
        PyObject *second = n >= 2 ? items[1] : NULL;
        int pair = second != NULL && PyTuple_Check(second);
        if (n == 2 && with_types) {
            type = second;          /* [buf, datatypes] */
        }
        else if (n == 2) {
            if (PyObject_TypeCheck(second, fastmpi_st->Datatype) ||
                PyUnicode_Check(second)) {
                type = second;
            }
            else {
                counts = second;
            }
        }
        else if (n == 3) {
            counts = second;
            type = items[2];
            if (with_types && !pair) {
                PyErr_Format(PyExc_ValueError,
                             "%s() argument '%s': a 3-item spec is [buf, "
                             "(counts, displs), datatypes]", fname,
                             argname);
                return -1;
            }
        }
        else if (n == 4) {
            counts = second;
            displs = items[2];
            type = items[3];
        }
        else {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': a vector buffer spec has "
                         "2 to 4 items, not %zd", fname, argname, n);
            return -1;
        }
        buf = items[0];
        if (displs == NULL && counts != NULL && PyTuple_Check(counts)) {
            if (PyTuple_GET_SIZE(counts) != 2) {
                PyErr_Format(PyExc_ValueError,
                             "%s() argument '%s': (counts, displs) must "
                             "have 2 items", fname, argname);
                return -1;
            }
            displs = PyTuple_GET_ITEM(counts, 1);
            counts = PyTuple_GET_ITEM(counts, 0);
        }
    }
    else if (with_types) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a list [buf, counts, "
                     "displs, datatypes], not %.100s", fname, argname,
                     Py_TYPE(spec)->tp_name);
        return -1;
    }

    /* the buffer */
    /* one datatype per rank: counts None, one item each; displacements
     * None, the blocks one after the other (byte offsets from the types'
     * extents); MPI.BOTTOM needs the absolute ones */
    int auto_counts = counts == NULL || counts == Py_None;
    int auto_displs = displs == NULL || displs == Py_None;
    if (with_types) {
        if (auto_displs && buf == fastmpi_st->BOTTOM) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': MPI.BOTTOM needs explicit "
                         "displacements", fname, argname);
            return -1;
        }
        if (byte_view(buf, mode, fname, argname, &v->msg) < 0) {
            return -1;
        }
    }
    else if (buf == fastmpi_st->BOTTOM) {
        if (type == NULL) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': MPI.BOTTOM needs an explicit "
                         "datatype", fname, argname);
            return -1;
        }
        v->msg.datatype = fastmpi_datatype_spec_arg(type, fname, argname);
        if (v->msg.datatype == MPI_DATATYPE_NULL) {
            return -1;
        }
        v->msg.addr = MPI_BOTTOM;
    }
    else if (type != NULL) {
        PyObject *pair = PyTuple_Pack(2, buf, type);
        if (pair == NULL) {
            return -1;
        }
        int r = parse_counted(pair, mode, fname, argname, &v->msg);
        Py_DECREF(pair);
        if (r < 0) {
            return -1;
        }
    }
    else if (parse_counted(buf, mode, fname, argname, &v->msg) < 0) {
        return -1;
    }

    /* a buffer of more than 2**31-1 items is one item of a large type
     * (msgbuffer.c): its items split here, so take them back */
    Py_ssize_t total = v->msg.count;
    MPI_Datatype base;
    int rc = 0;
    if (Py_UNLIKELY(v->msg.nbytes > INT_MAX) && v->msg.count == 1 &&
        fastmpi_large_type_info(v->msg.datatype, &base, &total)) {
        v->msg.datatype = base;
        rc = PAST_INT;
    }

    /* datatypes, byte displacements (w specs), counts, displacements:
     * one PyMem block, starting with the datatypes (or the counts) */
    size_t tsize = 0;
    if (with_types) {
        tsize = sizeof(MPI_Datatype) * (size_t)blocks;
        tsize = (tsize + sizeof(MPI_Aint) - 1) / sizeof(MPI_Aint) *
                sizeof(MPI_Aint);
        tsize += sizeof(MPI_Aint) * (size_t)blocks;
    }
    char *mem = PyMem_Malloc(tsize + 2 * sizeof(int) * (size_t)blocks + 1);
    if (mem == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    v->types = with_types ? (MPI_Datatype *)mem : NULL;
    v->wdispls = with_types ? (MPI_Aint *)(mem + tsize) - blocks : NULL;
    v->counts = (int *)(mem + tsize);
    v->displs = v->counts + blocks;
    int wide = 0;
    int types_done = 0;
    if (rc == 0 && with_types && auto_counts) {
        for (int i = 0; i < blocks; i++) {
            v->counts[i] = 1;
        }
    }
    else if (rc == 0) {
        rc = fill_counts(counts, total, v, !with_types, fname, argname);
    }
    if (rc == 0 && with_types && auto_displs) {
        wide = fill_types(type, v, fname, argname) < 0
                   ? -1 : consecutive_wdispls(v);
        rc = wide < 0 ? -1 : 0;
        types_done = 1;
    }
    else if (rc == 0 && with_types) {
        wide = fill_wdispls(displs, v, buf == fastmpi_st->BOTTOM, fname,
                            argname);
        rc = wide < 0 ? -1 : 0;
    }
    else if (rc == 0) {
        rc = fill_displs(displs, v, 1, fname, argname);
    }
    if (rc < 0) {
        goto error;
    }
    if (Py_UNLIKELY(rc == PAST_INT)) {
        /* with_types never gets here */
        if (fastmpi_vlarge_fill(counts, displs, total,
                                buf == fastmpi_st->BOTTOM, v, fname,
                                argname) < 0) {
            goto error;
        }
        return 0;
    }
    if ((with_types && !types_done &&
         fill_types(type, v, fname, argname) < 0) ||
        (buf != fastmpi_st->BOTTOM &&
         check_bounds(v, v->msg.nbytes, fname, argname) < 0) ||
        (with_types == FASTMPI_VMSG_TYPES &&
         (wide || buf == fastmpi_st->BOTTOM) &&
         fold_displs(v, buf == fastmpi_st->BOTTOM) < 0)) {
        goto error;
    }
    return 0;

error:
    fastmpi_vmsg_release(v);
    return -1;
}

void
fastmpi_vmsg_release(fastmpi_vmsg *v)
{
    fastmpi_msg_release(&v->msg);
    if (Py_UNLIKELY(v->made != NULL)) {
        for (int i = 0; i < v->blocks; i++) {
            if (v->made[i] != MPI_DATATYPE_NULL && fastmpi_mpi_active) {
                MPI_Type_free(&v->made[i]);
            }
        }
        PyMem_Free(v->made);
        v->made = NULL;
    }
    PyMem_Free(v->types != NULL ? (void *)v->types : (void *)v->counts);
    if (Py_UNLIKELY(v->lcounts != NULL)) {
        PyMem_Free(v->lcounts);
    }
    v->types = NULL;
    v->wdispls = NULL;
    v->counts = NULL;
    v->displs = NULL;
    v->lcounts = NULL;
    v->ldispls = NULL;
}
