/* staged.c: reductions on non-contiguous buffers, through contiguous
 * temporaries.
 *
 * Everywhere else a strided view (a[::2], a[:, 3], ...) is described to
 * MPI by a derived datatype and used in place (strided.c).  Reductions
 * cannot do that: MPICH 4.0.2 ("MPI_SUM operation not defined for this
 * datatype") and Open MPI 4.1.4 (MPI_ERR_OP) both refuse predefined
 * operations on such types, although they are made of one basic type.  So
 * this is the one place where fastmpi copies a buffer: while a reduction's
 * arguments are parsed (fastmpi_staged_begin/end around the parse), a
 * strided buffer becomes a contiguous temporary of its items, with the
 * element datatype:
 *
 *   send buffers     packed into the temporary at once;
 *   receive buffers  left unset, or filled from the view first by
 *                    fastmpi_staged_fill when the operation reads them
 *                    (IN_PLACE, Reduce_local's inoutbuf) or may leave part
 *                    of them alone (Exscan's rank 0, Reduce_scatter);
 *                    copied back into the selected elements of the view
 *                    once the operation is complete (fastmpi_msg_unstage:
 *                    after the blocking call, or when a wait or test
 *                    completes the request of a nonblocking one).
 *
 * The message's owner is then a capsule holding the caller's view (so the
 * memory stays put), the layout and the temporary; releasing the message
 * frees them.  Copies are plain C loops along the view's simplified shape
 * and strides: for 8 MiB of float64 a[::2] they take ~0.83 ms, as
 * MPI_Pack with the derived type does on MPICH 4.0.2 and ~20% less than
 * on Open MPI 4.1.4 (1.0 ms); a contiguous memcpy takes ~0.55 ms.
 *
 * A 1-D view with an explicit count ([a[::2], (count, displ), MPI.DOUBLE])
 * is staged from its first item to the view's end, so that a collective
 * that reads `count` items per rank from it (Reduce_scatter_block) stays
 * inside the temporary; a receive buffer staged so is filled first.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "msgbuffer.h"

#include <string.h>

#define STAGED_NAME "fastmpi.staged"

typedef struct {
    Py_buffer view;             /* the caller's, held */
    char *first;                /* the first staged item, in the view */
    char *temp;                 /* nitems contiguous items (pool) */
    size_t tempsize;            /* its size in bytes, >= nitems items */
    Py_ssize_t itemsize;
    Py_ssize_t nitems;
    int mode;                   /* FASTMPI_MSG_SEND or _RECV */
    int nd;                     /* >= 1 */
    Py_ssize_t dims[];          /* shape[nd], then strides[nd] */
} staged;

/* Per thread: another thread may parse buffers while this one waits
 * without the GIL in the middle of a reduction's argument parsing. */
static _Thread_local int staging;

void
fastmpi_staged_begin(void)
{
    staging++;
}

void
fastmpi_staged_end(void)
{
    staging--;
}

int
fastmpi_staged_active(void)
{
    return staging > 0;
}

/* One row: n items, `stride` bytes apart in the view, contiguous in the
 * temporary.  A constant size lets memcpy become one move. */
#define ROW_LOOP(SIZE)                                                     \
    if (to_view) {                                                         \
        for (Py_ssize_t i = 0; i < n; i++) {                               \
            memcpy(v + i * stride, t + i * (SIZE), (SIZE));                \
        }                                                                  \
    }                                                                      \
    else {                                                                 \
        for (Py_ssize_t i = 0; i < n; i++) {                               \
            memcpy(t + i * (SIZE), v + i * stride, (SIZE));                \
        }                                                                  \
    }

static void
copy_row(char *t, char *v, Py_ssize_t n, Py_ssize_t stride,
         Py_ssize_t itemsize, int to_view)
{
    if (stride == itemsize) {
        if (to_view) {
            memcpy(v, t, (size_t)(n * itemsize));
        }
        else {
            memcpy(t, v, (size_t)(n * itemsize));
        }
        return;
    }
    switch (itemsize) {
    case 1:
        ROW_LOOP(1)
        break;
    case 2:
        ROW_LOOP(2)
        break;
    case 4:
        ROW_LOOP(4)
        break;
    case 8:
        ROW_LOOP(8)
        break;
    case 16:
        ROW_LOOP(16)
        break;
    default:
        ROW_LOOP((size_t)itemsize)
        break;
    }
}

/* Every item, between the view (its selected elements only) and the
 * temporary, in C order of the view. */
static void
copy_items(staged *s, int to_view)
{
    int nd = s->nd;
    const Py_ssize_t *shape = s->dims, *strides = s->dims + nd;
    Py_ssize_t inner = shape[nd - 1], rowbytes = inner * s->itemsize;
    Py_ssize_t rows = s->nitems / inner;
    Py_ssize_t index[FASTMPI_STAGED_MAX_NDIM] = {0};
    char *v = s->first, *t = s->temp;
    for (Py_ssize_t r = 0; r < rows; r++, t += rowbytes) {
        copy_row(t, v, inner, strides[nd - 1], s->itemsize, to_view);
        for (int d = nd - 2; d >= 0; d--) {
            v += strides[d];
            if (++index[d] < shape[d]) {
                break;
            }
            v -= strides[d] * shape[d];
            index[d] = 0;
        }
    }
}

/* Temporaries of up to POOL_MAX bytes are kept for the next reduction
 * (in fastmpi_st->staged_pool: FASTMPI_STAGED_POOL of them, the largest):
 * glibc maps a large block afresh for every malloc, and faulting in
 * 2 x 8 MiB of new pages took 5 ms, 3x the copies and the reduction
 * together.  Taken and given with the GIL held (parsing, capsule
 * destructors). */
#define POOL_MAX ((size_t)16 << 20)

static char *
temp_take(size_t size, size_t *got)
{
    fastmpi_staged_block *pool = fastmpi_st->staged_pool;
    int best = -1;
    for (int i = 0; i < FASTMPI_STAGED_POOL; i++) {
        if (pool[i].block != NULL && pool[i].size >= size &&
            (best < 0 || pool[i].size < pool[best].size)) {
            best = i;
        }
    }
    if (best >= 0) {
        char *block = pool[best].block;
        *got = pool[best].size;
        pool[best].block = NULL;
        return block;
    }
    *got = size;
    return PyMem_RawMalloc(size);
}

static void
temp_give(char *block, size_t size)
{
    if (size <= POOL_MAX) {
        fastmpi_staged_block *pool = fastmpi_st->staged_pool;
        int smallest = 0;
        for (int i = 0; i < FASTMPI_STAGED_POOL; i++) {
            if (pool[i].block == NULL) {
                smallest = i;
                break;
            }
            if (pool[i].size < pool[smallest].size) {
                smallest = i;
            }
        }
        if (pool[smallest].block == NULL || pool[smallest].size < size) {
            PyMem_RawFree(pool[smallest].block);
            pool[smallest].block = block;
            pool[smallest].size = size;
            return;
        }
    }
    PyMem_RawFree(block);
}

static void
staged_destroy(PyObject *capsule)
{
    staged *s = PyCapsule_GetPointer(capsule, STAGED_NAME);
    if (s == NULL) {
        PyErr_Clear();
        return;
    }
    PyBuffer_Release(&s->view);
    temp_give(s->temp, s->tempsize);
    PyMem_Free(s);
}

/* The staging record of msg, or NULL if it is not staged. */
static staged *
staged_of(const fastmpi_msg *msg)
{
    if (msg->owner == NULL || !PyCapsule_IsValid(msg->owner, STAGED_NAME)) {
        return NULL;
    }
    return PyCapsule_GetPointer(msg->owner, STAGED_NAME);
}

int
fastmpi_staged_parse(int mode, MPI_Datatype base, Py_ssize_t itemsize,
                     char *first, int nd, const Py_ssize_t *shape,
                     const Py_ssize_t *strides, Py_ssize_t nitems,
                     Py_ssize_t count, const char *fname,
                     const char *argname, fastmpi_msg *msg)
{
    if (nitems > INT_MAX || count > INT_MAX) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': reductions take at most 2**31-1 "
                     "items per buffer (this one has %zd); reduce in parts",
                     fname, argname, nitems > count ? nitems : count);
        return -1;
    }
    if (nd < 1 || nd > FASTMPI_STAGED_MAX_NDIM) {
        PyErr_Format(PyExc_SystemError, "%s(): staging %d dimensions",
                     fname, nd);
        return -1;
    }
    size_t half = sizeof(Py_ssize_t) * (size_t)nd;
    staged *s = PyMem_Malloc(sizeof(staged) + 2 * half);
    if (s == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    s->temp = temp_take((size_t)(nitems * itemsize), &s->tempsize);
    if (s->temp == NULL) {
        PyMem_Free(s);
        PyErr_NoMemory();
        return -1;
    }
    s->view = msg->view;
    s->first = first;
    s->itemsize = itemsize;
    s->nitems = nitems;
    s->mode = mode;
    s->nd = nd;
    memcpy(s->dims, shape, half);
    memcpy(s->dims + nd, strides, half);
    PyObject *capsule = PyCapsule_New(s, STAGED_NAME, staged_destroy);
    if (capsule == NULL) {
        temp_give(s->temp, s->tempsize);
        PyMem_Free(s);
        return -1;      /* the caller still holds (and releases) the view */
    }
    /* the capsule holds the view now */
    msg->view.obj = NULL;
    msg->owner = capsule;
    msg->addr = s->temp;
    msg->count = (int)count;
    msg->datatype = base;
    msg->nbytes = count * itemsize;
    if (mode == FASTMPI_MSG_SEND || count < nitems) {
        copy_items(s, 0);
    }
    return 0;
}

void
fastmpi_staged_fill(fastmpi_msg *msg)
{
    staged *s = staged_of(msg);
    if (s != NULL && s->mode == FASTMPI_MSG_RECV) {
        copy_items(s, 0);
    }
}

void
fastmpi_staged_copy_back(fastmpi_msg *msg)
{
    staged *s = staged_of(msg);
    if (s != NULL && s->mode == FASTMPI_MSG_RECV) {
        copy_items(s, 1);
    }
}
