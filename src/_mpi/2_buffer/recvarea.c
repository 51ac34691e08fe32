/* recvarea.c: receive areas for messages of any size (see fastmpi.h).
 *
 * An area is address space reserved with MAP_NORESERVE: the kernel gives
 * pages only where the message is written, so reserving as much as the
 * machine's memory costs nothing until then.  The receive is posted as
 * `size / UNIT` elements of a contiguous UNIT-byte type, so int counts
 * reach terabytes; a message of bytes matches any prefix of it.
 *
 * After completion, a message of up to COPY_LIMIT bytes is unpickled from
 * a copy and the area is pooled for the next irecv() (no system call on
 * the small-message path).  A larger one keeps its area: a RecvArea object
 * owns it, so the arrays of an out-of-band message view it without a
 * copy, and gives it back to the pool when they are gone, so that the
 * next large message lands on pages already mapped instead of faulting in
 * fresh ones (a quarter of the time of a 1 MiB message).  Pooled areas
 * keep at most KEEP_RESIDENT bytes of memory each.  Past MAX_LIVE areas
 * held by results at once, a new result's area is cut to its message, so
 * a program that keeps thousands of received objects does not run out of
 * address space.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "pickle.h"

#include <sys/mman.h>
#include <unistd.h>

#define UNIT 4096
#define COPY_LIMIT (64 * 1024)
#define MIN_RESERVE ((size_t)1 << 20)
#define KEEP_RESIDENT ((size_t)64 << 20)
#define MAX_LIVE 64

/* The pool, the unit type, the reservation size and the count of
 * RecvArea objects holding a whole area: fastmpi_st->area_*. */

typedef struct {
    PyObject_HEAD
    fastmpi_area area;          /* whole, or cut to the message (cut) */
    int cut;
    Py_ssize_t size;            /* the message */
} RecvAreaObject;

static size_t
default_reserve(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long pagesize = sysconf(_SC_PAGESIZE);
    size_t bytes = (pages > 0 && pagesize > 0)
        ? (size_t)pages * (size_t)pagesize : (size_t)1 << 32;
    size_t max_bytes = (size_t)INT_MAX * UNIT;
    if (bytes > max_bytes) {
        bytes = max_bytes;
    }
    return bytes / UNIT * UNIT;
}

int
fastmpi_area_take(fastmpi_area *area)
{
    fastmpi_state *st = fastmpi_st;
    if (st->area_npool > 0) {
        *area = st->area_pool[--st->area_npool];
        return 0;
    }
    if (st->area_unit == MPI_DATATYPE_NULL) {
        MPI_Datatype t;
        if (fastmpi_check(MPI_Type_contiguous(UNIT, MPI_BYTE, &t)) < 0) {
            return -1;
        }
        if (fastmpi_check(MPI_Type_commit(&t)) < 0) {
            MPI_Type_free(&t);
            return -1;
        }
        st->area_unit = t;
    }
    if (st->area_reserve == 0) {
        st->area_reserve = default_reserve();
    }
    /* Under strict overcommit accounting a reservation this large can be
     * refused: halve until the kernel agrees. */
    for (size_t size = st->area_reserve; size >= MIN_RESERVE; size /= 2) {
        size = size / UNIT * UNIT;
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            area->base = p;
            area->size = size;
            area->used = 0;
            return 0;
        }
    }
    PyErr_SetString(PyExc_MemoryError,
                    "irecv(): cannot reserve address space to receive into");
    return -1;
}

void
fastmpi_area_give(fastmpi_area *area)
{
    if (area->base == NULL) {
        return;
    }
    fastmpi_state *st = fastmpi_st;
    if (st->area_npool < FASTMPI_AREA_POOL && fastmpi_mpi_active) {
        if (area->used > KEEP_RESIDENT) {
            /* give the memory of a very large message back */
            if (madvise(area->base + KEEP_RESIDENT,
                        area->used - KEEP_RESIDENT, MADV_DONTNEED) == 0) {
                area->used = KEEP_RESIDENT;
            }
        }
        st->area_pool[st->area_npool++] = *area;
    }
    else {
        munmap(area->base, area->size);
    }
    area->base = NULL;
    area->size = 0;
    area->used = 0;
}

int
fastmpi_area_count(const fastmpi_area *area)
{
    return (int)(area->size / UNIT);
}

MPI_Datatype
fastmpi_area_datatype(void)
{
    return fastmpi_st->area_unit;
}

/* ---- RecvArea: the buffer object that owns a large message's area ------ */

static int
RecvArea_getbuffer(RecvAreaObject *self, Py_buffer *view, int flags)
{
    return PyBuffer_FillInfo(view, (PyObject *)self, self->area.base,
                             self->size, 0, flags);
}

static void
RecvArea_dealloc(RecvAreaObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (self->cut) {
        munmap(self->area.base, self->area.size);
    }
    else {
        fastmpi_st->area_live--;
        fastmpi_area_give(&self->area);
    }
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
RecvArea_len(RecvAreaObject *self, void *unused)
{
    return PyLong_FromSsize_t(self->size);
}

static PyGetSetDef RecvArea_getset[] = {
    {"nbytes", (getter)RecvArea_len, NULL, "size of the message"},
    {NULL},
};

static PyType_Slot RecvArea_slots[] = {
    {Py_tp_doc, "Memory a large message was received into (from irecv)."},
    {Py_tp_dealloc, RecvArea_dealloc},
    {Py_bf_getbuffer, RecvArea_getbuffer},
    {Py_tp_getset, RecvArea_getset},
    {0, NULL},
};

static PyType_Spec RecvArea_spec = {
    .name = "fastmpi.MPI._RecvArea",
    .basicsize = sizeof(RecvAreaObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = RecvArea_slots,
};

PyObject *
fastmpi_area_load(fastmpi_area *area, Py_ssize_t size)
{
    if (size <= COPY_LIMIT) {
        PyObject *obj = fastmpi_pickle_load_memory(area->base, size);
        if ((size_t)size > area->used) {
            area->used = (size_t)size;
        }
        fastmpi_area_give(area);
        return obj;
    }
    RecvAreaObject *owner = PyObject_New(RecvAreaObject,
                                         fastmpi_st->RecvArea);
    if (owner == NULL) {
        fastmpi_area_give(area);
        return NULL;
    }
    Py_INCREF(fastmpi_st->RecvArea);     /* instances own their heap type */
    if ((size_t)size > area->used) {
        area->used = (size_t)size;
    }
    owner->area = *area;
    owner->size = size;
    owner->cut = fastmpi_st->area_live >= MAX_LIVE;
    if (owner->cut) {
        long pagesize = sysconf(_SC_PAGESIZE);
        size_t keep = ((size_t)size + (size_t)pagesize - 1) /
                      (size_t)pagesize * (size_t)pagesize;
        if (keep < area->size) {
            munmap(area->base + keep, area->size - keep);
            owner->area.size = keep;
        }
    }
    else {
        fastmpi_st->area_live++;
    }
    area->base = NULL;
    area->size = 0;
    area->used = 0;
    PyObject *obj = fastmpi_pickle_load_exported((PyObject *)owner);
    Py_DECREF(owner);
    return obj;
}

void
fastmpi_area_before_finalize(void)
{
    fastmpi_state *st = fastmpi_st;
    while (st->area_npool > 0) {
        fastmpi_area *a = &st->area_pool[--st->area_npool];
        munmap(a->base, a->size);
    }
    if (st->area_unit != MPI_DATATYPE_NULL) {
        MPI_Type_free(&st->area_unit);
        st->area_unit = MPI_DATATYPE_NULL;
    }
}

int
fastmpi_area_init(PyObject *module)
{
    PyObject *t = (PyObject *)fastmpi_type_new(
        module, &RecvArea_spec, NULL, NULL);
    if (t == NULL) {
        return -1;
    }
    fastmpi_st->RecvArea = (PyTypeObject *)t;    /* owned by the state */
    return 0;
}
