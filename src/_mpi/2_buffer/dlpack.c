/* dlpack.c: memory that an object exports through DLPack (__dlpack__,
 * __dlpack_device__) or the CUDA Array Interface (__cuda_array_interface__)
 * instead of the buffer protocol, as a buffer.
 *
 * Such an object (a "foreign exporter") is read once per message into a
 * small bridge object, _ForeignBuffer, which exports the same memory
 * through the buffer protocol: address, length, item size, a format that
 * fastmpi_datatype_from_format understands, read-only, shape and strides
 * in bytes.  The rest of fastmpi then takes it like any buffer: contiguous
 * memory in place, strided memory through strided.c's derived datatypes.
 * A view of the bridge holds the bridge, and the bridge holds the exporter
 * and the DLPack capsule, so the memory lives as long as the message (or
 * the pending request that keeps the message) needs it.
 *
 * DLPack (the Python specification of the array API standard):
 * - __dlpack_device__() says where the memory is: (device_type, id).
 * - __dlpack__(stream=..., max_version=(1, 0)) asks for a versioned
 *   capsule ("dltensor_versioned", DLManagedTensorVersioned); a producer
 *   older than that raises TypeError, and is asked again as
 *   __dlpack__(stream=...) for a legacy one ("dltensor", DLManagedTensor).
 *   A receive also passes copy=False: a copy would not get the message.
 *   stream is None on the host; -1 ("no synchronisation") on a device:
 *   as with any MPI call on device memory, the caller makes sure the data
 *   is ready first.
 * - The consumer renames a capsule it takes ("used_dltensor",
 *   "used_dltensor_versioned") and then owns the managed tensor: it calls
 *   the tensor's deleter once it is done, and the producer's capsule
 *   destructor no longer does.  Here everything is checked before the
 *   rename; a capsule refused until then stays the producer's (its
 *   destructor frees it when the capsule goes).  The bridge calls the
 *   deleter first and drops the capsule after, since some producers keep
 *   the tensor alive through the capsule.
 * - A major version other than 1 is refused (its layout may differ past
 *   the deleter); the read-only flag makes the buffer read-only.
 *
 * Where the memory is: the host (kDLCPU, and the host memory of CUDA and
 * ROCm, kDLCUDAHost and kDLROCMHost, and CUDA managed memory, which the
 * host reads too), or a device (kDLCUDA, kDLROCM).  Device memory goes to
 * the MPI library as a device pointer, and only when compat.h says the
 * library takes one (fastmpi_device_aware); otherwise the call raises
 * BufferError saying the library is not CUDA- (ROCm-) aware, instead of
 * letting the library read a device address on the host.  Even then,
 * nothing in fastmpi itself reads device memory: only the paths that hand
 * the address straight to MPI accept it (fastmpi_buffer_get's `device`).
 *
 * The CUDA Array Interface is a dict: data (address, read-only), shape,
 * typestr, and optionally strides (in bytes; None for C order), version
 * (an int; it changed no key read here), descr, mask (must be None) and
 * stream (not used: as above, the caller synchronises).  Its memory may
 * be a device's or the host's (pinned, or any pointer an object chooses to
 * describe that way), and the dict does not say which.  CUDA memory can
 * only exist once the CUDA driver is loaded, so when libcuda is not in the
 * process the address is the host's; when it is, cuPointerGetAttribute
 * says.  The driver is never loaded from here.
 *
 * Errors follow mpi4py's: a device or capsule that cannot be used, a
 * tensor that makes no sense: BufferError; a key missing from the dict:
 * KeyError; a value of the wrong type: TypeError; of the wrong length:
 * ValueError.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "msgbuffer.h"

#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FOREIGN_MAX_NDIM 64         /* PyBUF_MAX_NDIM */

/* ---- the DLPack ABI (dlpack.h, v1.x), as the specification lays it out */

enum {
    DL_CPU = 1, DL_CUDA = 2, DL_CUDA_HOST = 3, DL_ROCM = 10,
    DL_ROCM_HOST = 11, DL_CUDA_MANAGED = 13,
};
enum {
    DL_INT = 0, DL_UINT = 1, DL_FLOAT = 2, DL_BFLOAT = 4, DL_COMPLEX = 5,
    DL_BOOL = 6,
};
#define DL_FLAG_READ_ONLY ((uint64_t)1 << 0)
#define DL_FLAG_IS_COPIED ((uint64_t)1 << 1)

typedef struct {
    int32_t device_type;        /* DLDeviceType, an int-sized enum */
    int32_t device_id;
} dl_device;

typedef struct {
    uint8_t code;
    uint8_t bits;
    uint16_t lanes;
} dl_dtype;

typedef struct {
    void *data;
    dl_device device;
    int32_t ndim;
    dl_dtype dtype;
    int64_t *shape;
    int64_t *strides;           /* in items; NULL: C order */
    uint64_t byte_offset;
} dl_tensor;

typedef struct dl_managed {
    dl_tensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct dl_managed *self);
} dl_managed;

typedef struct dl_managed_versioned {
    struct {
        uint32_t major, minor;
    } version;
    void *manager_ctx;
    void (*deleter)(struct dl_managed_versioned *self);
    uint64_t flags;
    dl_tensor dl_tensor;
} dl_managed_versioned;

/* ---- the bridge --------------------------------------------------------- */

enum { FROM_DLPACK = 0, FROM_CAI = 1 };

typedef struct {
    PyObject_VAR_HEAD
    PyObject *exporter;         /* owned: the object the memory is of */
    PyObject *capsule;          /* owned or NULL: the DLPack capsule, used */
    void *managed;              /* DLPack: the tensor whose deleter dealloc
                                   calls; NULL for the CUDA Array Interface */
    int versioned;              /* managed is a dl_managed_versioned */
    int from;                   /* FROM_DLPACK or FROM_CAI, for messages */
    int readonly;
    int device;                 /* device memory: only MPI may touch it */
    int contig;                 /* 1: C-contiguous, 2: Fortran, 3: both */
    int ndim;
    char *buf;
    Py_ssize_t len;
    Py_ssize_t itemsize;
    char format[24];
    Py_ssize_t dims[];          /* shape[ndim], then strides[ndim] */
} FastMPIForeignObject;

/* What a bridge is made of, filled by the DLPack or CAI reader. */
typedef struct {
    char *buf;
    Py_ssize_t itemsize;
    int ndim;
    Py_ssize_t shape[FOREIGN_MAX_NDIM];
    Py_ssize_t strides[FOREIGN_MAX_NDIM];
    int has_strides;            /* else C order */
    int readonly;
    int device;
    char format[24];
} foreign_desc;

static const char *const from_name[] = {"DLPack tensor",
                                        "__cuda_array_interface__"};

/* Constants, made once by fastmpi_foreign_init: interned names (a fresh
 * string per lookup would also fill the type attribute cache), keyword
 * tuples and arguments.  Immortal in effect, like the interned keyword
 * names of args.c. */
static struct {
    PyObject *dlpack, *dlpack_device, *cai;
    PyObject *data, *shape, *typestr, *version, *strides, *mask, *descr;
    PyObject *kw_versioned;     /* ("stream", "max_version") */
    PyObject *kw_nocopy;        /* ("stream", "max_version", "copy") */
    PyObject *kw_stream;        /* ("stream",) */
    PyObject *max_version;      /* (1, 0) */
    PyObject *no_sync;          /* -1: the stream for device memory */
} k;

/* "Send() argument 'buf': " (or nothing without a name) into out. */
static const char *
where(char *out, size_t size, const char *fname, const char *argname)
{
    if (fname == NULL) {
        out[0] = '\0';
    }
    else {
        PyOS_snprintf(out, size, "%s() argument '%s': ", fname, argname);
    }
    return out;
}

#define WHERE(fname, argname) where(where_, sizeof(where_), fname, argname)

static void
foreign_dealloc(FastMPIForeignObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);    /* a deleter may run Python code */
    if (self->managed != NULL) {
        if (self->versioned) {
            dl_managed_versioned *m = self->managed;
            if (m->deleter != NULL) {
                m->deleter(m);
            }
        }
        else {
            dl_managed *m = self->managed;
            if (m->deleter != NULL) {
                m->deleter(m);
            }
        }
    }
    Py_XDECREF(self->capsule);      /* after the deleter: see above */
    Py_XDECREF(self->exporter);
    PyErr_Restore(et, ev, etb);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* The buffer-protocol view of a bridge for `flags`, as memoryview gives
 * one: 0, or -1 with BufferError naming fname/argname (may be NULL). */
static int
bridge_view(FastMPIForeignObject *self, Py_buffer *view, int flags,
            int device_ok, const char *fname, const char *argname)
{
    char where_[160];
    const char *what = from_name[self->from];
    const char *tname = Py_TYPE(self->exporter)->tp_name;
    const char *need = NULL;
    if (self->device && !device_ok) {
        PyErr_Format(PyExc_BufferError,
                     "%sthe %s of %.100s is device memory, and fastmpi "
                     "would read it on the host here (only the MPI "
                     "library itself may take device memory)",
                     WHERE(fname, argname), what, tname);
        return -1;
    }
    if ((flags & PyBUF_WRITABLE) && self->readonly) {
        PyErr_Format(PyExc_BufferError,
                     "%sthe %s of %.100s is read-only; receiving needs a "
                     "writable one", WHERE(fname, argname), what, tname);
        return -1;
    }
    if ((flags & PyBUF_C_CONTIGUOUS) == PyBUF_C_CONTIGUOUS ||
        (flags & PyBUF_STRIDES) != PyBUF_STRIDES) {
        need = (self->contig & 1) ? NULL : "C-contiguous";
    }
    else if ((flags & PyBUF_F_CONTIGUOUS) == PyBUF_F_CONTIGUOUS) {
        need = (self->contig & 2) ? NULL : "Fortran-contiguous";
    }
    else if ((flags & PyBUF_ANY_CONTIGUOUS) == PyBUF_ANY_CONTIGUOUS) {
        need = self->contig ? NULL : "contiguous";
    }
    if (need != NULL) {
        PyErr_Format(PyExc_BufferError, "%sthe %s of %.100s is not %s",
                     WHERE(fname, argname), what, tname, need);
        return -1;
    }
    view->obj = Py_NewRef((PyObject *)self);
    view->buf = self->buf;
    view->len = self->len;
    view->readonly = self->readonly;
    view->itemsize = self->itemsize;
    view->format = (flags & PyBUF_FORMAT) ? self->format : NULL;
    view->ndim = self->ndim;
    view->shape = self->ndim > 0 ? self->dims : NULL;
    view->strides = self->ndim > 0 ? self->dims + self->ndim : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    if ((flags & PyBUF_ND) != PyBUF_ND) {
        /* PyBUF_SIMPLE: plain bytes (C-contiguous, checked above) */
        view->ndim = 1;
        view->shape = NULL;
        view->itemsize = 1;
        view->format = (flags & PyBUF_FORMAT) ? "B" : NULL;
    }
    if ((flags & PyBUF_STRIDES) != PyBUF_STRIDES) {
        view->strides = NULL;
    }
    return 0;
}

static int
foreign_getbuffer(FastMPIForeignObject *self, Py_buffer *view, int flags)
{
    return bridge_view(self, view, flags, 0, NULL, NULL);
}

static PyType_Slot foreign_slots[] = {
    {Py_tp_doc, "Memory exported through DLPack or the CUDA Array "
                "Interface, seen through the buffer protocol."},
    {Py_tp_dealloc, foreign_dealloc},
    {Py_bf_getbuffer, foreign_getbuffer},
    {0, NULL},
};

static PyType_Spec foreign_spec = {
    .name = "fastmpi.MPI._ForeignBuffer",
    .basicsize = offsetof(FastMPIForeignObject, dims),
    .itemsize = sizeof(Py_ssize_t),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = foreign_slots,
};

/* d's strides for C order (no strides given). */
static void
c_strides(foreign_desc *d)
{
    Py_ssize_t s = d->itemsize;
    for (int i = d->ndim - 1; i >= 0; i--) {
        d->strides[i] = s;
        s *= d->shape[i] > 0 ? d->shape[i] : 1;
    }
    d->has_strides = 1;
}

/* New reference: the bridge for d, holding the exporter; NULL with
 * BufferError when the sizes overflow (or MemoryError). */
static FastMPIForeignObject *
bridge_new(PyObject *exporter, int from, foreign_desc *d,
           const char *fname, const char *argname)
{
    char where_[160];
    Py_ssize_t n = 1;
    for (int i = 0; i < d->ndim; i++) {
        if (d->shape[i] == 0) {
            n = 0;          /* empty, however large the other dimensions */
            break;
        }
    }
    for (int i = 0; i < d->ndim && n > 0; i++) {
        if (n > PY_SSIZE_T_MAX / d->shape[i]) {
            goto too_large;
        }
        n *= d->shape[i];
    }
    if (n > PY_SSIZE_T_MAX / d->itemsize) {
        goto too_large;
    }
    if (!d->has_strides) {
        c_strides(d);
    }
    if (d->buf == NULL && n > 0) {
        PyErr_Format(PyExc_BufferError,
                     "%sthe %s of %.100s has no memory (a NULL address) "
                     "for its %zd items", WHERE(fname, argname),
                     from_name[from], Py_TYPE(exporter)->tp_name, n);
        return NULL;
    }
    FastMPIForeignObject *self = PyObject_NewVar(
        FastMPIForeignObject, fastmpi_st->ForeignBuffer, 2 * d->ndim);
    if (self == NULL) {
        return NULL;
    }
    self->exporter = Py_NewRef(exporter);
    self->capsule = NULL;
    self->managed = NULL;
    self->versioned = 0;
    self->from = from;
    self->readonly = d->readonly;
    self->device = d->device;
    self->ndim = d->ndim;
    self->buf = d->buf;
    self->len = n * d->itemsize;
    self->itemsize = d->itemsize;
    memcpy(self->format, d->format, sizeof(self->format));
    memcpy(self->dims, d->shape, sizeof(Py_ssize_t) * (size_t)d->ndim);
    memcpy(self->dims + d->ndim, d->strides,
           sizeof(Py_ssize_t) * (size_t)d->ndim);
    Py_buffer probe = {.buf = d->buf, .obj = NULL, .len = self->len,
                       .itemsize = d->itemsize, .ndim = d->ndim,
                       .shape = self->dims,
                       .strides = self->dims + d->ndim};
    self->contig = (PyBuffer_IsContiguous(&probe, 'C') ? 1 : 0) |
                   (PyBuffer_IsContiguous(&probe, 'F') ? 2 : 0);
    return self;

too_large:
    PyErr_Format(PyExc_BufferError,
                 "%sthe %s of %.100s is larger than memory can be",
                 WHERE(fname, argname), from_name[from],
                 Py_TYPE(exporter)->tp_name);
    return NULL;
}

/* ---- formats -------------------------------------------------------------
 *
 * The struct-module code of a C type of `size` bytes: the one numpy's own
 * buffers use for it, so both describe the same data the same way.  A
 * size no C type has becomes "<size>s" (opaque bytes: sent with an
 * explicit datatype, never inferred). */

static void
opaque_format(char *out, Py_ssize_t size)
{
    PyOS_snprintf(out, 24, "%zds", size);
}

static void
int_format(char *out, Py_ssize_t size, int is_signed)
{
    char c = 0;
    if (size == 1) {
        c = 'b';
    }
    else if (size == (Py_ssize_t)sizeof(short)) {
        c = 'h';
    }
    else if (size == (Py_ssize_t)sizeof(int)) {
        c = 'i';
    }
    else if (size == (Py_ssize_t)sizeof(long)) {
        c = 'l';
    }
    else if (size == (Py_ssize_t)sizeof(long long)) {
        c = 'q';
    }
    if (c == 0) {
        opaque_format(out, size);
        return;
    }
    out[0] = is_signed ? c : (char)(c - 'a' + 'A');
    out[1] = '\0';
}

static void
float_format(char *out, Py_ssize_t size, int complex)
{
    Py_ssize_t part = complex ? size / 2 : size;
    const char *c = NULL;
    if (part == 2 && !complex) {
        c = "e";
    }
    else if (part == (Py_ssize_t)sizeof(float)) {
        c = complex ? "Zf" : "f";
    }
    else if (part == (Py_ssize_t)sizeof(double)) {
        c = complex ? "Zd" : "d";
    }
    else if (part == (Py_ssize_t)sizeof(long double)) {
        c = complex ? "Zg" : "g";
    }
    if (c == NULL || (complex && size % 2 != 0)) {
        opaque_format(out, size);
        return;
    }
    strcpy(out, c);
}

/* DLPack's (code, bits, lanes).  Two float lanes are laid out as a
 * complex number (mpi4py's test suite describes long double complex so):
 * an explicit datatype says otherwise. */
static void
dlpack_format(char *out, dl_dtype t, Py_ssize_t itemsize)
{
    if (t.lanes == 2 && t.code == DL_FLOAT) {
        float_format(out, itemsize, 1);
        return;
    }
    if (t.lanes != 1) {
        opaque_format(out, itemsize);
        return;
    }
    switch (t.code) {
    case DL_INT:
        int_format(out, itemsize, 1);
        return;
    case DL_UINT:
        int_format(out, itemsize, 0);
        return;
    case DL_FLOAT:
        float_format(out, itemsize, 0);
        return;
    case DL_COMPLEX:
        float_format(out, itemsize, 1);
        return;
    case DL_BOOL:
        if (itemsize == 1) {
            strcpy(out, "?");
            return;
        }
        break;
    }
    opaque_format(out, itemsize);     /* bfloat16, float8, handles, ... */
}

/* ---- where the memory is -------------------------------------------------
 *
 * 0: the host; 1: a device (CUDA, or ROCm), usable only by a library that
 * takes device memory; -1: BufferError. */
static int
device_check(int type, int id, PyObject *exporter, int from,
             const char *fname, const char *argname)
{
    char where_[160];
    switch (type) {
    case DL_CPU:
    case DL_CUDA_HOST:
    case DL_ROCM_HOST:
    case DL_CUDA_MANAGED:
        return 0;
    case DL_CUDA:
    case DL_ROCM:
        if (fastmpi_device_aware(type == DL_ROCM)) {
            return 1;
        }
        PyErr_Format(PyExc_BufferError,
                     "%sthe %s of %.100s is in %s device memory (device "
                     "%d), and the MPI library (%s) is not %s-aware: it "
                     "takes host memory only; copy the data to the host, "
                     "or use an MPI library built with %s support",
                     WHERE(fname, argname), from_name[from],
                     Py_TYPE(exporter)->tp_name,
                     type == DL_ROCM ? "ROCm" : "CUDA", id,
                     FASTMPI_MPI_VENDOR, type == DL_ROCM ? "ROCm" : "CUDA",
                     type == DL_ROCM ? "ROCm" : "CUDA");
        return -1;
    }
    PyErr_Format(PyExc_BufferError,
                 "%sthe %s of %.100s is on a device of DLPack type %d, "
                 "whose memory MPI cannot take", WHERE(fname, argname),
                 from_name[from], Py_TYPE(exporter)->tp_name, type);
    return -1;
}

/* A CUDA Array Interface address: 1 if the CUDA driver (already loaded by
 * whoever allocated it) says it is device memory that the host cannot
 * read, else 0 (no driver: no CUDA memory at all).  Whether the driver is
 * loaded is asked of the loader's list in memory (dlopen with RTLD_NOLOAD
 * would search the file system on every call); once it is, its
 * cuPointerGetAttribute is kept. */
#define CU_POINTER_ATTRIBUTE_MEMORY_TYPE 2
#define CU_POINTER_ATTRIBUTE_IS_MANAGED 8
#define CU_MEMORYTYPE_DEVICE 2

typedef int (*cu_attr_fn)(void *data, int attribute, unsigned long long p);
static cu_attr_fn cu_pointer_attr;  /* found once, kept (never unloaded) */
static unsigned long long cu_seen_adds;  /* the loader's count of loads
                                            when libcuda was last missed */

typedef struct {
    int first;
    unsigned long long adds;
    const char *path;           /* libcuda's, once seen */
} cu_scan;

static int
find_libcuda(struct dl_phdr_info *info, size_t size, void *arg)
{
    cu_scan *scan = arg;
    if (scan->first) {
        /* nothing loaded since the last look: still no libcuda */
        scan->first = 0;
        scan->adds = info->dlpi_adds;
        if (size >= offsetof(struct dl_phdr_info, dlpi_subs) &&
            scan->adds == cu_seen_adds) {
            return 1;
        }
    }
    const char *name = info->dlpi_name, *base = strrchr(name, '/');
    base = base != NULL ? base + 1 : name;
    if (strncmp(base, "libcuda.so", 10) == 0) {
        scan->path = name;
        return 1;
    }
    return 0;
}

static int
cuda_device_memory(uintptr_t ptr)
{
    if (cu_pointer_attr == NULL) {
        cu_scan scan = {1, 0, NULL};
        void *lib;
        dl_iterate_phdr(find_libcuda, &scan);
        if (scan.path == NULL ||
            (lib = dlopen(scan.path, RTLD_LAZY | RTLD_NOLOAD)) == NULL) {
            cu_seen_adds = scan.adds;
            return 0;
        }
        *(void **)&cu_pointer_attr = dlsym(lib, "cuPointerGetAttribute");
        if (cu_pointer_attr == NULL) {
            dlclose(lib);
            cu_seen_adds = scan.adds;
            return 0;
        }
    }
    unsigned int type = 0, managed = 0;
    if (cu_pointer_attr(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                        (unsigned long long)ptr) != 0 ||
        type != CU_MEMORYTYPE_DEVICE) {
        return 0;           /* not CUDA's (an error), or host memory */
    }
    return !(cu_pointer_attr(&managed, CU_POINTER_ATTRIBUTE_IS_MANAGED,
                             (unsigned long long)ptr) == 0 && managed);
}

/* ---- DLPack ---------------------------------------------------------------
 *
 * __dlpack_device__() into *type, *id: 0, or 1 when obj has none, or -1
 * (TypeError: not a pair of ints; ValueError: not a pair). */
static int
dlpack_device(PyObject *obj, int *type, int *id, const char *fname,
              const char *argname)
{
    char where_[160];
    PyObject *meth = PyObject_GetAttr(obj, k.dlpack_device);
    if (meth == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 1;
    }
    PyObject *r = PyObject_CallNoArgs(meth);
    Py_DECREF(meth);
    if (r == NULL) {
        return -1;
    }
    int rc = -1;
    if (!PyTuple_Check(r)) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__dlpack_device__() returned %.100s, not a "
                     "tuple (device_type, device_id)", WHERE(fname, argname),
                     Py_TYPE(obj)->tp_name, Py_TYPE(r)->tp_name);
    }
    else if (PyTuple_GET_SIZE(r) != 2) {
        PyErr_Format(PyExc_ValueError,
                     "%s%.100s.__dlpack_device__() returned %zd items, not "
                     "2 (device_type, device_id)", WHERE(fname, argname),
                     Py_TYPE(obj)->tp_name, PyTuple_GET_SIZE(r));
    }
    else if (!PyLong_Check(PyTuple_GET_ITEM(r, 0)) ||
             !PyLong_Check(PyTuple_GET_ITEM(r, 1))) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__dlpack_device__() returned %R, not two "
                     "ints (device_type, device_id)", WHERE(fname, argname),
                     Py_TYPE(obj)->tp_name, r);
    }
    else {
        long t = PyLong_AsLong(PyTuple_GET_ITEM(r, 0));
        long i = PyLong_AsLong(PyTuple_GET_ITEM(r, 1));
        if (!PyErr_Occurred() && (t < INT_MIN || t > INT_MAX ||
                                  i < INT_MIN || i > INT_MAX)) {
            PyErr_Format(PyExc_ValueError,
                         "%s%.100s.__dlpack_device__() returned %R, out of "
                         "range", WHERE(fname, argname),
                         Py_TYPE(obj)->tp_name, r);
        }
        *type = (int)t;
        *id = (int)i;
        rc = PyErr_Occurred() ? -1 : 0;
    }
    Py_DECREF(r);
    return rc;
}

/* New reference: obj.__dlpack__(...), a versioned capsule asked for
 * first.  NULL with the exception it raised. */
static PyObject *
dlpack_call(PyObject *obj, int on_device, int writable)
{
    PyObject *meth = PyObject_GetAttr(obj, k.dlpack);
    if (meth == NULL) {
        return NULL;
    }
    PyObject *args[3] = {on_device ? k.no_sync : Py_None, k.max_version,
                         Py_False};
    PyObject *r = PyObject_Vectorcall(
        meth, args, 0, writable ? k.kw_nocopy : k.kw_versioned);
    if (r == NULL && PyErr_ExceptionMatches(PyExc_TypeError)) {
        /* a producer before DLPack 1.0: no max_version, no copy */
        PyErr_Clear();
        r = on_device ? PyObject_Vectorcall(meth, args, 0, k.kw_stream)
                      : PyObject_CallNoArgs(meth);
    }
    Py_DECREF(meth);
    return r;
}

/* Read tensor t into d: 0, or -1 with BufferError. */
static int
dlpack_read(const dl_tensor *t, uint64_t flags, int writable,
            PyObject *obj, foreign_desc *d, const char *fname,
            const char *argname)
{
    char where_[160];
    const char *tname = Py_TYPE(obj)->tp_name;
    const char *bad = NULL;
    int device = device_check(t->device.device_type, t->device.device_id,
                              obj, FROM_DLPACK, fname, argname);
    if (device < 0) {
        return -1;
    }
    if (t->ndim < 0 || t->ndim > FOREIGN_MAX_NDIM) {
        PyErr_Format(PyExc_BufferError,
                     "%sthe DLPack tensor of %.100s has %d dimensions (0 "
                     "to %d can be taken)", WHERE(fname, argname), tname,
                     (int)t->ndim, FOREIGN_MAX_NDIM);
        return -1;
    }
    if (t->ndim > 0 && t->shape == NULL) {
        bad = "dimensions but no shape";
    }
    else if (t->dtype.bits == 0 || t->dtype.bits % 8 != 0 ||
             t->dtype.lanes == 0) {
        bad = "items that are not whole bytes";
    }
    else if ((flags & DL_FLAG_IS_COPIED) && writable) {
        bad = "a copy of the memory (a receive into it would be lost)";
    }
    if (bad != NULL) {
        PyErr_Format(PyExc_BufferError, "%sthe DLPack tensor of %.100s has "
                     "%s", WHERE(fname, argname), tname, bad);
        return -1;
    }
    d->itemsize = (Py_ssize_t)(t->dtype.bits / 8) * t->dtype.lanes;
    d->ndim = t->ndim;
    d->has_strides = t->strides != NULL;
    for (int i = 0; i < t->ndim; i++) {
        int64_t s = d->has_strides ? t->strides[i] : 0;
        if (t->shape[i] < 0 || s > PY_SSIZE_T_MAX / d->itemsize ||
            s < -(PY_SSIZE_T_MAX / d->itemsize)) {
            PyErr_Format(PyExc_BufferError,
                         "%sthe DLPack tensor of %.100s has a bad shape or "
                         "stride in dimension %d (%lld, %lld)",
                         WHERE(fname, argname), tname, i,
                         (long long)t->shape[i], (long long)s);
            return -1;
        }
        d->shape[i] = (Py_ssize_t)t->shape[i];
        d->strides[i] = (Py_ssize_t)s * d->itemsize;
    }
    d->buf = t->data == NULL ? NULL : (char *)t->data + t->byte_offset;
    d->readonly = (flags & DL_FLAG_READ_ONLY) != 0;
    d->device = device;
    dlpack_format(d->format, t->dtype, d->itemsize);
    if (writable && d->readonly) {
        PyErr_Format(PyExc_BufferError,
                     "%sthe DLPack tensor of %.100s is read-only; receiving "
                     "needs a writable one", WHERE(fname, argname), tname);
        return -1;
    }
    return 0;
}

/* Drop a capsule not taken, with an exception set: its destructor (the
 * producer's, which frees the tensor) may run Python code. */
static void
drop_refused(PyObject *cap)
{
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    Py_DECREF(cap);
    PyErr_Restore(et, ev, etb);
}

/* New reference: the bridge for a DLPack exporter, or NULL. */
static PyObject *
dlpack_export(PyObject *obj, int writable, const char *fname,
              const char *argname)
{
    char where_[160];
    const char *tname = Py_TYPE(obj)->tp_name;
    int type = DL_CPU, id = 0, on_device = 0;
    int rc = dlpack_device(obj, &type, &id, fname, argname);
    if (rc < 0) {
        return NULL;
    }
    if (rc == 0) {
        on_device = device_check(type, id, obj, FROM_DLPACK, fname,
                                 argname);
        if (on_device < 0) {
            return NULL;
        }
    }
    PyObject *cap = dlpack_call(obj, on_device, writable);
    if (cap == NULL) {
        return NULL;
    }
    const char *name = PyCapsule_CheckExact(cap) ? PyCapsule_GetName(cap)
                                                 : NULL;
    int versioned = name != NULL && strcmp(name, "dltensor_versioned") == 0;
    if (name == NULL || (!versioned && strcmp(name, "dltensor") != 0)) {
        PyErr_Clear();
        int used = name != NULL && (strcmp(name, "used_dltensor") == 0 ||
                                    strcmp(name, "used_dltensor_versioned")
                                        == 0);
        if (used) {
            PyErr_Format(PyExc_BufferError,
                         "%s%.100s.__dlpack__() returned a capsule that "
                         "was already used (each capsule is taken once)",
                         WHERE(fname, argname), tname);
        }
        else {
            PyErr_Format(PyExc_BufferError,
                         "%s%.100s.__dlpack__() returned %.100s%s%.100s%s, "
                         "not a DLPack capsule (\"dltensor\")",
                         WHERE(fname, argname), tname, Py_TYPE(cap)->tp_name,
                         name ? " named \"" : "", name ? name : "",
                         name ? "\"" : "");
        }
        drop_refused(cap);
        return NULL;
    }
    void *managed = PyCapsule_GetPointer(cap, name);
    if (managed == NULL) {
        drop_refused(cap);
        return NULL;
    }
    const dl_tensor *t;
    uint64_t flags = 0;
    if (versioned) {
        dl_managed_versioned *m = managed;
        if (m->version.major != 1) {
            PyErr_Format(PyExc_BufferError,
                         "%s%.100s.__dlpack__() returned a DLPack %u.%u "
                         "tensor; fastmpi reads version 1", WHERE(fname,
                         argname), tname, (unsigned)m->version.major,
                         (unsigned)m->version.minor);
            drop_refused(cap);
            return NULL;
        }
        t = &m->dl_tensor;
        flags = m->flags;
    }
    else {
        t = &((dl_managed *)managed)->dl_tensor;
    }
    foreign_desc d;
    FastMPIForeignObject *self = NULL;
    if (dlpack_read(t, flags, writable, obj, &d, fname, argname) < 0 ||
        (self = bridge_new(obj, FROM_DLPACK, &d, fname, argname)) == NULL) {
        drop_refused(cap);          /* still the producer's: it frees it */
        return NULL;
    }
    /* taken: from here on the deleter is ours to call (foreign_dealloc) */
    if (PyCapsule_SetName(cap, versioned ? "used_dltensor_versioned"
                                         : "used_dltensor") < 0) {
        Py_DECREF(self);
        drop_refused(cap);
        return NULL;
    }
    self->capsule = cap;            /* steals */
    self->managed = managed;
    self->versioned = versioned;
    return (PyObject *)self;
}

/* ---- the CUDA Array Interface ------------------------------------------- */

/* Borrowed: d[key], or NULL with KeyError (or another error). */
static PyObject *
cai_item(PyObject *dict, PyObject *key, PyObject *obj, const char *fname,
         const char *argname)
{
    char where_[160];
    PyObject *v = PyDict_GetItemWithError(dict, key);
    if (v == NULL && !PyErr_Occurred()) {
        PyObject *msg = PyUnicode_FromFormat(
            "%s%.100s.__cuda_array_interface__ has no %R",
            WHERE(fname, argname), Py_TYPE(obj)->tp_name, key);
        if (msg != NULL) {
            PyErr_SetObject(PyExc_KeyError, msg);
            Py_DECREF(msg);
        }
    }
    return v;
}

/* Borrowed: d[key] if there, else NULL (with an exception only on an
 * error). */
static PyObject *
cai_optional(PyObject *dict, PyObject *key)
{
    return PyDict_GetItemWithError(dict, key);
}

/* A tuple of ints (shape, strides) into out[]: its length, or -1. */
static int
cai_ints(PyObject *seq, const char *key, Py_ssize_t *out, PyObject *obj,
         const char *fname, const char *argname)
{
    char where_[160];
    if (!PyTuple_Check(seq)) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__cuda_array_interface__['%s'] must be a "
                     "tuple of ints, not %.100s", WHERE(fname, argname),
                     Py_TYPE(obj)->tp_name, key, Py_TYPE(seq)->tp_name);
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    if (n > FOREIGN_MAX_NDIM) {
        PyErr_Format(PyExc_ValueError,
                     "%s%.100s.__cuda_array_interface__['%s'] has %zd "
                     "dimensions (at most %d can be taken)",
                     WHERE(fname, argname), Py_TYPE(obj)->tp_name, key, n,
                     FOREIGN_MAX_NDIM);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyTuple_GET_ITEM(seq, i);
        if (!PyLong_Check(v)) {
            PyErr_Format(PyExc_TypeError,
                         "%s%.100s.__cuda_array_interface__['%s'] must be "
                         "a tuple of ints, not of %.100s",
                         WHERE(fname, argname), Py_TYPE(obj)->tp_name, key,
                         Py_TYPE(v)->tp_name);
            return -1;
        }
        out[i] = PyLong_AsSsize_t(v);
        if (out[i] == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    return (int)n;
}

/* typestr ("<f8", "|u1", ...) into a format and item size: 0, or 1 for
 * items that are plain bytes (kinds V and S, format "B": the caller makes
 * their bytes a dimension), or -1 (ValueError, TypeError). */
static int
cai_typestr(PyObject *ts, foreign_desc *d, PyObject *obj,
            const char *fname, const char *argname)
{
    char where_[160];
    if (!PyUnicode_Check(ts)) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__cuda_array_interface__['typestr'] must be "
                     "a str, not %.100s", WHERE(fname, argname),
                     Py_TYPE(obj)->tp_name, Py_TYPE(ts)->tp_name);
        return -1;
    }
    const char *s = PyUnicode_AsUTF8(ts);
    if (s == NULL) {
        return -1;
    }
    char order = s[0], kind = order ? s[1] : 0;
    char *end = NULL;
    long size = (order && kind && s[2] >= '0' && s[2] <= '9')
        ? strtol(s + 2, &end, 10) : 0;
    const unsigned int one = 1;
    int little = *(const unsigned char *)&one == 1;
    if (strchr("<>|=", order) == NULL || size <= 0 || size > 1024 ||
        end == NULL || *end != '\0' || strchr("biufcVSmM", kind) == NULL) {
        PyErr_Format(PyExc_ValueError,
                     "%s%.100s.__cuda_array_interface__['typestr'] is "
                     "%R, not a type string such as '<f8' (byte order, "
                     "kind b/i/u/f/c/V, size in bytes)",
                     WHERE(fname, argname), Py_TYPE(obj)->tp_name, ts);
        return -1;
    }
    d->itemsize = size;
    char *f = d->format;
    if (size > 1 && ((order == '<' && !little) || (order == '>' && little))) {
        *f++ = order;       /* fastmpi_datatype_from_format refuses it */
    }
    switch (kind) {
    case 'b':
        if (size == 1) {
            strcpy(f, "?");
        }
        else {
            opaque_format(f, size);
        }
        break;
    case 'i':
        int_format(f, size, 1);
        break;
    case 'u':
        int_format(f, size, 0);
        break;
    case 'f':
        float_format(f, size, 0);
        break;
    case 'c':
        float_format(f, size, 1);
        break;
    case 'V':
        /* records: mpi4py sends their bytes, with this warning */
        if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                             "%s%.100s.__cuda_array_interface__['typestr'] "
                             "is %R, which has no MPI datatype: each item "
                             "goes as its %ld bytes (pass [buf, datatype] "
                             "to say what they are)", WHERE(fname, argname),
                             Py_TYPE(obj)->tp_name, ts, size) < 0) {
            return -1;
        }
        /* fall through */
    case 'S':
        strcpy(d->format, "B");
        return 1;
    default:                /* m, M: bytes of an explicit datatype */
        opaque_format(d->format, size);
    }
    return 0;
}

/* data: (address, read-only) into d: 0 or -1. */
static int
cai_data(PyObject *data, foreign_desc *d, PyObject *obj, const char *fname,
         const char *argname)
{
    char where_[160];
    if (!PyTuple_Check(data)) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__cuda_array_interface__['data'] must be a "
                     "tuple (address, readonly), not %.100s",
                     WHERE(fname, argname), Py_TYPE(obj)->tp_name,
                     Py_TYPE(data)->tp_name);
        return -1;
    }
    if (PyTuple_GET_SIZE(data) != 2) {
        PyErr_Format(PyExc_ValueError,
                     "%s%.100s.__cuda_array_interface__['data'] has %zd "
                     "items, not 2 (address, readonly)",
                     WHERE(fname, argname), Py_TYPE(obj)->tp_name,
                     PyTuple_GET_SIZE(data));
        return -1;
    }
    PyObject *addr = PyTuple_GET_ITEM(data, 0);
    if (!PyLong_Check(addr)) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__cuda_array_interface__['data'][0] must be "
                     "an int (an address), not %.100s",
                     WHERE(fname, argname), Py_TYPE(obj)->tp_name,
                     Py_TYPE(addr)->tp_name);
        return -1;
    }
    d->buf = PyLong_AsVoidPtr(addr);
    if (d->buf == NULL && PyErr_Occurred()) {
        return -1;
    }
    d->readonly = PyObject_IsTrue(PyTuple_GET_ITEM(data, 1));
    return d->readonly < 0 ? -1 : 0;
}

/* The optional keys: version (an int: the specification asks for one,
 * mpi4py does not, and no key read here changed meaning between
 * versions), descr (a list, or None), mask (None: a masked array is no
 * buffer).  0 or -1. */
static int
cai_optionals(PyObject *cai, PyObject *obj, const char *fname,
              const char *argname)
{
    char where_[160];
    PyObject *version = cai_optional(cai, k.version);
    PyObject *descr = PyErr_Occurred() ? NULL : cai_optional(cai, k.descr);
    PyObject *mask = PyErr_Occurred() ? NULL : cai_optional(cai, k.mask);
    if (PyErr_Occurred()) {
        return -1;
    }
    if (version != NULL && !PyLong_Check(version)) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__cuda_array_interface__['version'] must be "
                     "an int, not %.100s", WHERE(fname, argname),
                     Py_TYPE(obj)->tp_name, Py_TYPE(version)->tp_name);
        return -1;
    }
    if (descr != NULL && descr != Py_None && !PyList_Check(descr)) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__cuda_array_interface__['descr'] must be a "
                     "list, not %.100s", WHERE(fname, argname),
                     Py_TYPE(obj)->tp_name, Py_TYPE(descr)->tp_name);
        return -1;
    }
    if (mask != NULL && mask != Py_None) {
        PyErr_Format(PyExc_BufferError,
                     "%s%.100s.__cuda_array_interface__ has a mask; a "
                     "masked array cannot be a buffer",
                     WHERE(fname, argname), Py_TYPE(obj)->tp_name);
        return -1;
    }
    return 0;
}

/* shape, typestr and strides into d: 0 or -1. */
static int
cai_layout(PyObject *cai, PyObject *shape, PyObject *ts, foreign_desc *d,
           PyObject *obj, const char *fname, const char *argname)
{
    char where_[160];
    const char *tname = Py_TYPE(obj)->tp_name;
    int bytes;
    if ((d->ndim = cai_ints(shape, "shape", d->shape, obj, fname,
                            argname)) < 0 ||
        (bytes = cai_typestr(ts, d, obj, fname, argname)) < 0) {
        return -1;
    }
    for (int i = 0; i < d->ndim; i++) {
        if (d->shape[i] < 0) {
            PyErr_Format(PyExc_BufferError,
                         "%s%.100s.__cuda_array_interface__['shape'] has a "
                         "negative dimension (%R)", WHERE(fname, argname),
                         tname, shape);
            return -1;
        }
    }
    PyObject *strides = cai_optional(cai, k.strides);
    if (strides == NULL && PyErr_Occurred()) {
        return -1;
    }
    d->has_strides = 0;
    if (strides != NULL && strides != Py_None) {
        int n = cai_ints(strides, "strides", d->strides, obj, fname,
                         argname);
        if (n >= 0 && n != d->ndim) {
            PyErr_Format(PyExc_ValueError,
                         "%s%.100s.__cuda_array_interface__ has %d strides "
                         "for %d dimensions", WHERE(fname, argname), tname,
                         n, d->ndim);
        }
        if (n != d->ndim) {
            return -1;
        }
        d->has_strides = 1;
    }
    if (bytes) {
        /* items of plain bytes: the bytes are the last dimension */
        if (d->ndim == FOREIGN_MAX_NDIM) {
            PyErr_Format(PyExc_ValueError,
                         "%s%.100s.__cuda_array_interface__ has too many "
                         "dimensions", WHERE(fname, argname), tname);
            return -1;
        }
        if (!d->has_strides) {
            c_strides(d);
        }
        d->shape[d->ndim] = d->itemsize;
        d->strides[d->ndim] = 1;
        d->ndim++;
        d->itemsize = 1;
    }
    return 0;
}

/* New reference: the bridge for a CUDA Array Interface exporter, or
 * NULL. */
static PyObject *
cai_export(PyObject *obj, int writable, const char *fname,
           const char *argname)
{
    char where_[160];
    const char *tname = Py_TYPE(obj)->tp_name;
    PyObject *cai = PyObject_GetAttr(obj, k.cai);
    if (cai == NULL) {
        return NULL;
    }
    PyObject *r = NULL;
    foreign_desc d;
    if (!PyDict_Check(cai)) {
        PyErr_Format(PyExc_TypeError,
                     "%s%.100s.__cuda_array_interface__ must be a dict, "
                     "not %.100s", WHERE(fname, argname), tname,
                     Py_TYPE(cai)->tp_name);
        goto done;
    }
    PyObject *data = cai_item(cai, k.data, obj, fname, argname);
    PyObject *shape = data ? cai_item(cai, k.shape, obj, fname, argname)
                           : NULL;
    PyObject *ts = shape ? cai_item(cai, k.typestr, obj, fname, argname)
                         : NULL;
    if (ts == NULL || cai_optionals(cai, obj, fname, argname) < 0 ||
        cai_data(data, &d, obj, fname, argname) < 0 ||
        cai_layout(cai, shape, ts, &d, obj, fname, argname) < 0) {
        goto done;
    }
    d.device = 0;
    if (cuda_device_memory((uintptr_t)d.buf) &&
        (d.device = device_check(DL_CUDA, 0, obj, FROM_CAI, fname,
                                 argname)) < 0) {
        goto done;
    }
    if (writable && d.readonly) {
        PyErr_Format(PyExc_BufferError,
                     "%sthe __cuda_array_interface__ of %.100s is "
                     "read-only; receiving needs a writable one",
                     WHERE(fname, argname), tname);
        goto done;
    }
    r = (PyObject *)bridge_new(obj, FROM_CAI, &d, fname, argname);
done:
    Py_DECREF(cai);
    return r;
}

/* ---- entry points (msgbuffer.h) ----------------------------------------- */

/* hasattr(), errors (but MemoryError) taken as "no" */
static int
has_attr(PyObject *obj, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(v);
    return 1;
}

int
fastmpi_foreign_check(PyObject *obj)
{
    PyBufferProcs *pb = Py_TYPE(obj)->tp_as_buffer;
    if (pb != NULL && pb->bf_getbuffer != NULL) {
        return 0;
    }
    return has_attr(obj, k.dlpack) || has_attr(obj, k.cai);
}

PyObject *
fastmpi_foreign_export(PyObject *obj, int writable, const char *fname,
                       const char *argname)
{
    if (has_attr(obj, k.dlpack)) {
        return dlpack_export(obj, writable, fname, argname);
    }
    return cai_export(obj, writable, fname, argname);
}

int
fastmpi_buffer_get(PyObject *obj, Py_buffer *view, int flags, int device,
                   const char *fname, const char *argname)
{
    if (Py_TYPE(obj) == fastmpi_st->ForeignBuffer) {
        return bridge_view((FastMPIForeignObject *)obj, view, flags, device,
                           fname, argname);
    }
    if (!fastmpi_foreign_check(obj)) {
        return PyObject_GetBuffer(obj, view, flags);
    }
    PyObject *bridge = fastmpi_foreign_export(obj, flags & PyBUF_WRITABLE,
                                              fname, argname);
    if (bridge == NULL) {
        return -1;
    }
    int rc = bridge_view((FastMPIForeignObject *)bridge, view, flags,
                         device, fname, argname);
    Py_DECREF(bridge);      /* the view holds it, if there is one */
    return rc;
}

static PyObject *
intern(const char *name)
{
    return PyUnicode_InternFromString(name);
}

int
fastmpi_foreign_init(PyObject *module)
{
    if (k.dlpack == NULL &&
        ((k.dlpack = intern("__dlpack__")) == NULL ||
         (k.dlpack_device = intern("__dlpack_device__")) == NULL ||
         (k.cai = intern("__cuda_array_interface__")) == NULL ||
         (k.data = intern("data")) == NULL ||
         (k.shape = intern("shape")) == NULL ||
         (k.typestr = intern("typestr")) == NULL ||
         (k.version = intern("version")) == NULL ||
         (k.strides = intern("strides")) == NULL ||
         (k.mask = intern("mask")) == NULL ||
         (k.descr = intern("descr")) == NULL ||
         (k.kw_versioned = Py_BuildValue("(ss)", "stream", "max_version"))
             == NULL ||
         (k.kw_nocopy = Py_BuildValue("(sss)", "stream", "max_version",
                                      "copy")) == NULL ||
         (k.kw_stream = Py_BuildValue("(s)", "stream")) == NULL ||
         (k.max_version = Py_BuildValue("(ii)", 1, 0)) == NULL ||
         (k.no_sync = PyLong_FromLong(-1)) == NULL)) {
        return -1;
    }
    PyObject *t = (PyObject *)fastmpi_type_new(module, &foreign_spec, NULL,
                                               NULL);
    if (t == NULL) {
        return -1;
    }
    fastmpi_st->ForeignBuffer = (PyTypeObject *)t;   /* owned by the state */
    return 0;
}
