/* membuffer.c: MPI.buffer (MPI.memory, its mpi4py 3 name): bytes of
 * memory as a Python buffer (format 'B', itemsize 1).
 *
 * A buffer holds its memory in one of these ways (`kind`):
 *
 *   buffer()                         none (address 0, 0 bytes)
 *   buffer(obj), frombuffer(obj)     a view of obj, held (obj cannot
 *   b[i:j], b.toreadonly()           resize or free it meanwhile); a
 *                                    slice holds a view of b
 *   fromaddress(address, nbytes)     memory someone else owns
 *   allocate(nbytes)                 PyMem, freed with the buffer
 *   Alloc_mem(size)                  MPI_Alloc_mem, freed by Free_mem
 *
 * Its exports (memoryviews, numpy arrays, slices, requests in flight) are
 * counted.  release() (or Free_mem) makes the buffer empty at once, as
 * mpi4py's does (address 0, nbytes 0), and any later access raises
 * ValueError; the memory itself is given back when the last export goes,
 * so that no view is ever left pointing at freed memory.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "membuffer.h"
#include "msgbuffer.h"

#include <string.h>

enum { MEM_NONE, MEM_VIEW, MEM_ADDRESS, MEM_PYMEM, MEM_MPI };
enum { LIVE = 0, RELEASED = 1, FREED = 2 };

typedef struct {
    PyObject_HEAD
    char *buf;                  /* what is shown: NULL once released */
    Py_ssize_t len;
    int readonly;
    int kind;                   /* MEM_*: what holds the memory */
    int state;                  /* LIVE, RELEASED or FREED (Free_mem) */
    int from_mpi;               /* made by Alloc_mem */
    Py_ssize_t exports;         /* live exports of the buffer protocol */
    Py_buffer view;             /* MEM_VIEW: held; view.obj owned */
    void *base;                 /* MEM_PYMEM, MEM_MPI: the allocation */
    PyObject *obj;              /* owned or NULL: the .obj attribute */
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} BufferObject;

/* New reference: an empty buffer (all fields zero), or NULL. */
static BufferObject *
buffer_alloc(void)
{
    PyTypeObject *tp = fastmpi_st->Buffer;
    return (BufferObject *)tp->tp_alloc(tp, 0);
}

/* -1 with ValueError if the buffer was released or freed; else 0. */
static int
check_live(BufferObject *self)
{
    if (Py_LIKELY(self->state == LIVE)) {
        return 0;
    }
    PyErr_SetString(PyExc_ValueError,
                    self->state == FREED
                        ? "this MPI.buffer's memory was freed by Free_mem()"
                        : "operation on a released MPI.buffer");
    return -1;
}

/* Give the memory back (no export is alive).  MPI_Free_mem is skipped
 * once MPI is finalised; its failure is printed as unraisable. */
static void
drop_memory(BufferObject *self)
{
    switch (self->kind) {
    case MEM_VIEW:
        PyBuffer_Release(&self->view);
        break;
    case MEM_PYMEM:
        PyMem_Free(self->base);
        break;
    case MEM_MPI:
        if (fastmpi_mpi_active) {
            int ierr = MPI_Free_mem(self->base);
            if (ierr != MPI_SUCCESS) {
                PyObject *t, *v, *tb;
                PyErr_Fetch(&t, &v, &tb);
                fastmpi_error_raise(ierr);
                PyErr_WriteUnraisable((PyObject *)self);
                PyErr_Restore(t, v, tb);
            }
        }
        break;
    }
    self->kind = MEM_NONE;
    self->base = NULL;
}

/* Show nothing from now on; the memory goes now, or with the last
 * export. */
static void
buffer_release(BufferObject *self, int how)
{
    if (self->state != LIVE) {
        return;
    }
    self->state = how;
    self->buf = NULL;
    self->len = 0;
    self->readonly = 0;
    Py_CLEAR(self->obj);
    if (self->exports == 0) {
        drop_memory(self);
    }
}

/* New reference: a buffer viewing n bytes of self from start (a slice,
 * toreadonly), holding a view of self; `obj` its .obj (borrowed, may be
 * NULL). */
static PyObject *
sub_buffer(BufferObject *self, Py_ssize_t start, Py_ssize_t n,
           int readonly, PyObject *obj)
{
    BufferObject *b = buffer_alloc();
    if (b == NULL) {
        return NULL;
    }
    if (PyObject_GetBuffer((PyObject *)self, &b->view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(b);
        return NULL;
    }
    b->kind = MEM_VIEW;
    b->buf = b->view.buf == NULL ? NULL : (char *)b->view.buf + start;
    b->len = n;
    b->readonly = readonly;
    b->obj = Py_XNewRef(obj);
    return (PyObject *)b;
}

/* New reference: a buffer holding a view of obj; readonly: forced
 * read-only, else writable if obj says so (buffer(obj)) or required to be
 * (frombuffer(obj, readonly=False), `need_writable`). */
static PyObject *
from_object(PyObject *obj, int need_writable, int readonly)
{
    BufferObject *b = buffer_alloc();
    if (b == NULL) {
        return NULL;
    }
    int flags = need_writable ? PyBUF_WRITABLE : PyBUF_SIMPLE;
    /* DLPack and CUDA Array Interface exporters too (dlpack.c): host
     * memory, C-contiguous, from data + byte_offset */
    if (fastmpi_buffer_get(obj, &b->view, flags, 0, "buffer", "obj") < 0) {
        Py_DECREF(b);
        return NULL;
    }
    b->kind = MEM_VIEW;
    b->buf = b->view.buf;
    b->len = b->view.len;
    b->readonly = readonly || b->view.readonly;
    b->obj = Py_NewRef(obj);
    return (PyObject *)b;
}

PyObject *
fastmpi_membuffer_alloc_mpi(MPI_Aint size, MPI_Info info)
{
    BufferObject *b = buffer_alloc();
    if (b == NULL) {
        return NULL;
    }
    void *base = NULL;
    if (fastmpi_check(MPI_Alloc_mem(size, info, &base)) < 0) {
        Py_DECREF(b);
        return NULL;
    }
    b->kind = MEM_MPI;
    b->from_mpi = 1;
    b->base = base;
    b->buf = base;
    b->len = (Py_ssize_t)size;
    return (PyObject *)b;
}

int
fastmpi_membuffer_free_mpi(PyObject *mem, const char *fname)
{
    if (!PyObject_TypeCheck(mem, fastmpi_st->Buffer)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'mem' must be an MPI.buffer from "
                     "Alloc_mem(), not %.100s", fname,
                     Py_TYPE(mem)->tp_name);
        return -1;
    }
    BufferObject *self = (BufferObject *)mem;
    if (!self->from_mpi) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'mem' is not memory from Alloc_mem() "
                     "(only that memory can be freed with MPI_Free_mem)",
                     fname);
        return -1;
    }
    if (self->state != LIVE) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'mem': this memory was already %s",
                     fname, self->state == FREED ? "freed" : "released");
        return -1;
    }
    if (self->exports == 0) {
        if (fastmpi_require_mpi() < 0 ||
            fastmpi_check(MPI_Free_mem(self->base)) < 0) {
            return -1;
        }
        self->kind = MEM_NONE;
        self->base = NULL;
    }
    buffer_release(self, FREED);
    return 0;
}

/* ---- argument helpers -------------------------------------------------- */

/* A byte count: an int >= 0.  TypeError, OverflowError or ValueError. */
static int
size_arg(PyObject *obj, const char *fname, const char *argname,
         Py_ssize_t *out)
{
    if (!PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be an int, not %.100s", fname,
                     argname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t v = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' must not be negative (got %zd)",
                     fname, argname, v);
        return -1;
    }
    *out = v;
    return 0;
}

/* A flag: any object's truth, 0 when not given. */
static int
flag_arg(PyObject *obj, int *out)
{
    *out = obj == NULL ? 0 : PyObject_IsTrue(obj);
    return *out < 0 ? -1 : 0;
}

/* One byte's value: an int in range(0, 256). */
static int
byte_arg(PyObject *obj, unsigned char *out)
{
    if (!PyIndex_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "an MPI.buffer item must be an int in range(0, 256), "
                     "not %.100s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t v = PyNumber_AsSsize_t(obj, NULL);  /* clipped */
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < 0 || v > 255) {
        PyErr_Format(PyExc_ValueError,
                     "an MPI.buffer item must be in range(0, 256), not %zd",
                     v);
        return -1;
    }
    *out = (unsigned char)v;
    return 0;
}

/* key as an index into self: 0 with *i in [0, len), or -1. */
static int
index_arg(BufferObject *self, PyObject *key, Py_ssize_t *i)
{
    Py_ssize_t k = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (k == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (k < 0) {
        k += self->len;
    }
    if (k < 0 || k >= self->len) {
        PyErr_SetString(PyExc_IndexError, "MPI.buffer index out of range");
        return -1;
    }
    *i = k;
    return 0;
}

/* key as a slice of self: 0 with *start and *n, or -1 (IndexError for a
 * step other than 1, as mpi4py). */
static int
slice_arg(BufferObject *self, PyObject *key, Py_ssize_t *start,
          Py_ssize_t *n)
{
    Py_ssize_t stop, step;
    if (PySlice_Unpack(key, start, &stop, &step) < 0) {
        return -1;
    }
    if (step != 1) {
        PyErr_Format(PyExc_IndexError,
                     "MPI.buffer slices must be contiguous (step 1), not "
                     "step %zd", step);
        return -1;
    }
    *n = PySlice_AdjustIndices(self->len, start, &stop, step);
    return 0;
}

static PyObject *
bad_key(PyObject *key)
{
    return PyErr_Format(PyExc_TypeError,
                        "MPI.buffer indices must be integers or slices, not "
                        "%.100s", Py_TYPE(key)->tp_name);
}

/* ---- the type ---------------------------------------------------------- */

static PyObject *
Buffer_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError,
                        "buffer() takes no keyword arguments");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (n == 0) {
        return (PyObject *)buffer_alloc();
    }
    if (n > 1) {
        return PyErr_Format(PyExc_TypeError,
                            "buffer() takes at most 1 argument (%zd given)",
                            n);
    }
    return from_object(PyTuple_GET_ITEM(args, 0), 0, 0);
}

static void
Buffer_dealloc(BufferObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, BufferObject);
    PyTypeObject *tp = Py_TYPE(self);
    drop_memory(self);      /* no export is alive: each holds self */
    Py_CLEAR(self->obj);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
Buffer_repr(BufferObject *self)
{
    if (self->state != LIVE) {
        return PyUnicode_FromFormat("<MPI.buffer: %s>",
                                    self->state == FREED ? "freed"
                                                         : "released");
    }
    const char *ro = self->readonly ? ", read-only" : "";
    if (self->buf == NULL) {
        return PyUnicode_FromFormat("<MPI.buffer: %zd bytes at 0x0%s>",
                                    self->len, ro);
    }
    return PyUnicode_FromFormat("<MPI.buffer: %zd bytes at %p%s>",
                                self->len, (void *)self->buf, ro);
}

static int
Buffer_getbuffer(BufferObject *self, Py_buffer *view, int flags)
{
    if (check_live(self) < 0) {
        view->obj = NULL;
        return -1;
    }
    if (PyBuffer_FillInfo(view, (PyObject *)self, self->buf, self->len,
                          self->readonly, flags) < 0) {
        return -1;
    }
    self->exports++;
    return 0;
}

static void
Buffer_releasebuffer(BufferObject *self, Py_buffer *view)
{
    if (--self->exports == 0 && self->state != LIVE) {
        drop_memory(self);
    }
}

static Py_ssize_t
Buffer_length(BufferObject *self)
{
    return self->len;
}

static PyObject *
Buffer_subscript(BufferObject *self, PyObject *key)
{
    if (check_live(self) < 0) {
        return NULL;
    }
    Py_ssize_t i, n;
    if (PyIndex_Check(key)) {
        if (index_arg(self, key, &i) < 0) {
            return NULL;
        }
        return PyLong_FromLong((unsigned char)self->buf[i]);
    }
    if (PySlice_Check(key)) {
        if (slice_arg(self, key, &i, &n) < 0) {
            return NULL;
        }
        return sub_buffer(self, i, n, self->readonly, (PyObject *)self);
    }
    return bad_key(key);
}

/* b[i:i+n] = value: an int fills, a buffer of n bytes is copied (an
 * object that is both, a numpy scalar, is taken as a buffer, as bytearray
 * takes it). */
static int
assign_slice(BufferObject *self, Py_ssize_t start, Py_ssize_t n,
             PyObject *value)
{
    unsigned char byte;
    if (PyLong_Check(value) ||
        (!PyObject_CheckBuffer(value) && PyIndex_Check(value))) {
        if (byte_arg(value, &byte) < 0) {
            return -1;
        }
        if (n > 0) {
            memset(self->buf + start, byte, (size_t)n);
        }
        return 0;
    }
    Py_buffer src;
    if (PyObject_GetBuffer(value, &src, PyBUF_SIMPLE) < 0) {
        if (!PyObject_CheckBuffer(value)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "an MPI.buffer slice takes an int in range(0, "
                         "256) or a contiguous buffer, not %.100s",
                         Py_TYPE(value)->tp_name);
        }
        return -1;
    }
    int rc = 0;
    if (src.len != n) {
        PyErr_Format(PyExc_ValueError,
                     "MPI.buffer slice assignment: %zd bytes given for a "
                     "slice of %zd", src.len, n);
        rc = -1;
    }
    else if (n > 0) {
        memmove(self->buf + start, src.buf, (size_t)n);  /* may overlap */
    }
    PyBuffer_Release(&src);
    return rc;
}

static int
Buffer_ass_subscript(BufferObject *self, PyObject *key, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "MPI.buffer items cannot be deleted");
        return -1;
    }
    if (check_live(self) < 0) {
        return -1;
    }
    if (self->readonly) {
        PyErr_SetString(PyExc_TypeError,
                        "cannot modify a read-only MPI.buffer");
        return -1;
    }
    Py_ssize_t i, n;
    unsigned char byte;
    if (PyIndex_Check(key)) {
        if (index_arg(self, key, &i) < 0 || byte_arg(value, &byte) < 0) {
            return -1;
        }
        self->buf[i] = (char)byte;
        return 0;
    }
    if (PySlice_Check(key)) {
        if (slice_arg(self, key, &i, &n) < 0) {
            return -1;
        }
        return assign_slice(self, i, n, value);
    }
    bad_key(key);
    return -1;
}

/* ---- constructors (static methods) ------------------------------------ */

static PyObject *
Buffer_allocate(PyObject *unused, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    static const char *const names[] = {"nbytes", "clear", NULL};
    static fastmpi_argspec spec = {"allocate", names, 1};
    PyObject *argv[2];
    Py_ssize_t nbytes;
    int clear;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        size_arg(argv[0], "allocate", "nbytes", &nbytes) < 0 ||
        flag_arg(argv[1], &clear) < 0) {
        return NULL;
    }
    BufferObject *b = buffer_alloc();
    if (b == NULL) {
        return NULL;
    }
    /* never NULL, even for 0 bytes (its address is not 0) */
    size_t size = nbytes > 0 ? (size_t)nbytes : 1;
    b->base = clear ? PyMem_Calloc(size, 1) : PyMem_Malloc(size);
    if (b->base == NULL) {
        Py_DECREF(b);
        return PyErr_NoMemory();
    }
    b->kind = MEM_PYMEM;
    b->buf = b->base;
    b->len = nbytes;
    return (PyObject *)b;
}

static PyObject *
Buffer_frombuffer(PyObject *unused, PyObject *const *args, Py_ssize_t nargs,
                  PyObject *kwnames)
{
    static const char *const names[] = {"obj", "readonly", NULL};
    static fastmpi_argspec spec = {"frombuffer", names, 1};
    PyObject *argv[2];
    int readonly;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        flag_arg(argv[1], &readonly) < 0) {
        return NULL;
    }
    return from_object(argv[0], !readonly, readonly);
}

static PyObject *
Buffer_fromaddress(PyObject *unused, PyObject *const *args,
                   Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"address", "nbytes", "readonly",
                                        NULL};
    static fastmpi_argspec spec = {"fromaddress", names, 2};
    PyObject *argv[3];
    Py_ssize_t nbytes;
    int readonly;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (!PyIndex_Check(argv[0])) {
        return PyErr_Format(PyExc_TypeError,
                            "fromaddress() argument 'address' must be an "
                            "int, not %.100s", Py_TYPE(argv[0])->tp_name);
    }
    if (size_arg(argv[1], "fromaddress", "nbytes", &nbytes) < 0 ||
        flag_arg(argv[2], &readonly) < 0) {
        return NULL;
    }
    PyObject *index = PyNumber_Index(argv[0]);
    if (index == NULL) {
        return NULL;
    }
    void *address = PyLong_AsVoidPtr(index);   /* signed or unsigned */
    Py_DECREF(index);
    if (address == NULL && PyErr_Occurred()) {
        return NULL;
    }
    if (address == NULL && nbytes > 0) {
        return PyErr_Format(PyExc_ValueError,
                            "fromaddress() argument 'address' is 0 (NULL) "
                            "but nbytes is %zd", nbytes);
    }
    BufferObject *b = buffer_alloc();
    if (b == NULL) {
        return NULL;
    }
    b->kind = MEM_ADDRESS;
    b->buf = address;
    b->len = nbytes;
    b->readonly = readonly;
    return (PyObject *)b;
}

PyObject *
fastmpi_membuffer_of_memory(void *buf, Py_ssize_t len, int readonly)
{
    BufferObject *b = buffer_alloc();
    if (b == NULL) {
        return NULL;
    }
    b->kind = MEM_ADDRESS;
    b->buf = buf;
    b->len = len;
    b->readonly = readonly;
    return (PyObject *)b;
}

void
fastmpi_membuffer_release(PyObject *mem)
{
    buffer_release((BufferObject *)mem, RELEASED);
}

/* ---- methods ----------------------------------------------------------- */

static PyObject *
Buffer_cast(BufferObject *self, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    static const char *const names[] = {"format", "shape", NULL};
    static fastmpi_argspec spec = {"cast", names, 1};
    PyObject *argv[2];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        check_live(self) < 0) {
        return NULL;
    }
    PyObject *view = PyMemoryView_FromObject((PyObject *)self);
    if (view == NULL) {
        return NULL;
    }
    PyObject *shape = argv[1];
    PyObject *result =
        shape == NULL || shape == Py_Ellipsis
            ? PyObject_CallMethod(view, "cast", "O", argv[0])
            : PyObject_CallMethod(view, "cast", "OO", argv[0], shape);
    Py_DECREF(view);    /* the cast memoryview holds the export */
    return result;
}

static PyObject *
Buffer_tobytes(BufferObject *self, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames)
{
    static const char *const names[] = {"order", NULL};
    static fastmpi_argspec spec = {"tobytes", names, 0};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    PyObject *order = argv[0];
    if (order != NULL && order != Py_None) {
        if (!PyUnicode_Check(order)) {
            return PyErr_Format(PyExc_TypeError,
                                "tobytes() argument 'order' must be str or "
                                "None, not %.100s", Py_TYPE(order)->tp_name);
        }
        const char *o = PyUnicode_AsUTF8(order);
        if (o == NULL) {
            return NULL;
        }
        if (strcmp(o, "C") != 0 && strcmp(o, "F") != 0 &&
            strcmp(o, "A") != 0) {
            return PyErr_Format(PyExc_ValueError,
                                "tobytes() argument 'order' must be 'C', "
                                "'F', 'A' or None, not %R", order);
        }
    }
    if (check_live(self) < 0) {
        return NULL;
    }
    return PyBytes_FromStringAndSize(self->buf, self->len);
}

static PyObject *
Buffer_toreadonly(BufferObject *self, PyObject *unused)
{
    if (check_live(self) < 0) {
        return NULL;
    }
    return sub_buffer(self, 0, self->len, 1, self->obj);
}

static PyObject *
Buffer_release(BufferObject *self, PyObject *unused)
{
    buffer_release(self, RELEASED);
    Py_RETURN_NONE;
}

/* ---- attributes -------------------------------------------------------- */

static PyObject *
Buffer_get_address(BufferObject *self, void *unused)
{
    return PyLong_FromVoidPtr(self->buf);
}

static PyObject *
Buffer_get_obj(BufferObject *self, void *unused)
{
    return Py_NewRef(self->obj != NULL ? self->obj : Py_None);
}

static PyObject *
Buffer_get_nbytes(BufferObject *self, void *unused)
{
    return PyLong_FromSsize_t(self->len);
}

static PyObject *
Buffer_get_readonly(BufferObject *self, void *unused)
{
    return PyBool_FromLong(self->readonly);
}

static PyObject *
Buffer_get_format(BufferObject *self, void *unused)
{
    return PyUnicode_FromString("B");
}

static PyObject *
Buffer_get_itemsize(BufferObject *self, void *unused)
{
    return PyLong_FromLong(1);
}

#define STATIC_KW (METH_FASTCALL | METH_KEYWORDS | METH_STATIC)

static PyMethodDef Buffer_methods[] = {
    {"allocate", FASTMPI_FASTCALL(Buffer_allocate), STATIC_KW,
     "allocate(nbytes, clear=False)\n--\n\n"
     "allocate(nbytes, clear=False) -> buffer: new memory (zeroed if "
     "clear), freed with the buffer."},
    {"frombuffer", FASTMPI_FASTCALL(Buffer_frombuffer), STATIC_KW,
     "frombuffer(obj, readonly=False)\n--\n\n"
     "frombuffer(obj, readonly=False) -> buffer: the memory of obj (which "
     "must be writable unless readonly)."},
    {"fromaddress", FASTMPI_FASTCALL(Buffer_fromaddress), STATIC_KW,
     "fromaddress(address, nbytes, readonly=False)\n--\n\n"
     "fromaddress(address, nbytes, readonly=False) -> buffer: nbytes of "
     "memory at an address (its owner keeps it alive)."},
    {"cast", FASTMPI_FASTCALL(Buffer_cast), METH_FASTCALL | METH_KEYWORDS,
     "cast($self, format, shape=...)\n--\n\n"
     "cast(format, shape=...) -> memoryview with a new format or shape."},
    {"tobytes", FASTMPI_FASTCALL(Buffer_tobytes),
     METH_FASTCALL | METH_KEYWORDS,
     "tobytes($self, order=None)\n--\n\n"
     "tobytes(order=None) -> bytes: a copy of the memory."},
    {"toreadonly", (PyCFunction)Buffer_toreadonly, METH_NOARGS,
     "toreadonly($self)\n--\n\n"
     "toreadonly() -> buffer: a read-only buffer of the same memory."},
    {"release", (PyCFunction)Buffer_release, METH_NOARGS,
     "release($self)\n--\n\n"
     "release(): let go of the memory; the buffer is then empty, and "
     "using it raises ValueError."},
    {NULL},
};

#undef STATIC_KW

static PyGetSetDef Buffer_getset[] = {
    {"address", (getter)Buffer_get_address, NULL, "Buffer address.", NULL},
    {"obj", (getter)Buffer_get_obj, NULL, "Object exposing buffer.", NULL},
    {"nbytes", (getter)Buffer_get_nbytes, NULL, "Buffer size (in bytes).",
     NULL},
    {"readonly", (getter)Buffer_get_readonly, NULL, "Buffer is read-only.",
     NULL},
    {"format", (getter)Buffer_get_format, NULL, "Format of each element.",
     NULL},
    {"itemsize", (getter)Buffer_get_itemsize, NULL,
     "Size (in bytes) of each element.", NULL},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Buffer_members, BufferObject);

static PyType_Slot Buffer_slots[] = {
    {Py_tp_members, Buffer_members},
    {Py_tp_doc, "buffer(buf, /)\n--\n\n"
                "buffer() or buffer(buf): bytes of memory as a Python "
                "buffer: none, or the memory of buf."},
    {Py_tp_new, Buffer_new},
    {Py_tp_dealloc, Buffer_dealloc},
    {Py_tp_repr, Buffer_repr},
    {Py_bf_getbuffer, Buffer_getbuffer},
    {Py_bf_releasebuffer, Buffer_releasebuffer},
    {Py_sq_length, Buffer_length},
    {Py_mp_length, Buffer_length},
    {Py_mp_subscript, Buffer_subscript},
    {Py_mp_ass_subscript, Buffer_ass_subscript},
    {Py_tp_methods, Buffer_methods},
    {Py_tp_getset, Buffer_getset},
    {0, NULL},
};

static PyType_Spec Buffer_spec = {
    .name = "fastmpi.MPI.buffer",
    .basicsize = sizeof(BufferObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Buffer_slots,
};

int
fastmpi_membuffer_init(PyObject *module)
{
    fastmpi_st->Buffer = fastmpi_type_new(module, &Buffer_spec, NULL, NULL);
    if (fastmpi_st->Buffer == NULL ||
        PyModule_AddObjectRef(module, "buffer",
                              (PyObject *)fastmpi_st->Buffer) < 0 ||
        PyModule_AddObjectRef(module, "memory",
                              (PyObject *)fastmpi_st->Buffer) < 0) {
        return -1;
    }
    return 0;
}
