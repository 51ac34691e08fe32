/* pickle.c: Python objects as MPI messages.
 *
 * An object is pickled with protocol 5.  Buffers of MPI.pickle.THRESHOLD
 * bytes or more (numpy arrays, bytearrays) are taken out-of-band and sent
 * where they lie, in the same single message, through a derived datatype
 * over absolute addresses; the receiver gets one contiguous message and
 * hands the unpickler views into it, so a large array is neither copied
 * into the pickle nor out of it.  One message per object also keeps
 * matching atomic when threads receive from the same source.
 *
 * Scalars skip pickle: None, True, False, a float or an int that fits in
 * 64 bits travel as one code byte and their raw value, which is about
 * 200 ns less per message than pickle.dumps plus pickle.loads.
 *
 * All of that is MPI.pickle as it starts (pickler.c): pickle's dumps and
 * loads, protocol 5, THRESHOLD bytes (64 KiB unless changed).  A program
 * that puts other functions or another protocol into MPI.pickle gets the
 * general path: its dumps for every object, scalars too, out-of-band
 * buffers only with protocol 5 or above, and always the oob layout (with
 * no buffers, nbufs is 0, and a stream of up to 64 KiB is copied behind
 * the header), since its stream may begin with any byte; its
 * loads gets the stream as bytes (or the message's own bytearray).  The
 * receiver reads every layout whatever its own MPI.pickle holds.
 *
 * Wire format, told apart by the first byte:
 *   flat:   FLAT_* code byte, then for floats and ints 8 native bytes
 *   plain:  the pickle stream itself (it starts with PROTO, byte 0x80)
 *   oob:    uint64 header [MAGIC, nbufs, pickle_len, len_0 .. len_n-1],
 *           the pickle stream, then each buffer at the next multiple of
 *           FASTMPI_OOB_ALIGN bytes from the message start (zero padding).
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "msgbuffer.h"
#include "pickle.h"

#include <stdint.h>
#include <string.h>

#define FASTMPI_OOB_ALIGN 64
/* low byte 'F' (not PROTO's 0x80): "FMPIOOB1" */
#define FASTMPI_OOB_MAGIC UINT64_C(0x31424F4F49504D46)

static const char zero_pad[FASTMPI_OOB_ALIGN];

enum {
    FLAT_NONE = 0x01,
    FLAT_TRUE = 0x02,
    FLAT_FALSE = 0x03,
    FLAT_FLOAT = 0x04,
    FLAT_INT = 0x05,
};

/* Encode a scalar into p->flat: 1 if done, 0 if obj is not one. */
static int
dump_flat(PyObject *obj, fastmpi_pickled *p)
{
    PyTypeObject *t = Py_TYPE(obj);
    Py_ssize_t n = 1;
    if (t == &PyFloat_Type) {
        double v = PyFloat_AS_DOUBLE(obj);
        p->flat[0] = FLAT_FLOAT;
        memcpy(p->flat + 1, &v, sizeof(v));
        n += sizeof(v);
    }
    else if (t == &PyLong_Type) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (overflow) {
            return 0;   /* a big int: pickle it */
        }
        p->flat[0] = FLAT_INT;
        memcpy(p->flat + 1, &v, sizeof(v));
        n += sizeof(v);
    }
    else if (obj == Py_None) {
        p->flat[0] = FLAT_NONE;
    }
    else if (obj == Py_True) {
        p->flat[0] = FLAT_TRUE;
    }
    else if (obj == Py_False) {
        p->flat[0] = FLAT_FALSE;
    }
    else {
        return 0;
    }
    p->addr = p->flat;
    p->count = (int)n;
    p->nbytes = n;
    return 1;
}

/* Decode a flat message: new reference, or NULL with ValueError. */
static PyObject *
load_flat(const unsigned char *data, Py_ssize_t size)
{
    double f;
    long long i;
    switch (data[0]) {
    case FLAT_NONE:
        if (size == 1) {
            Py_RETURN_NONE;
        }
        break;
    case FLAT_TRUE:
        if (size == 1) {
            Py_RETURN_TRUE;
        }
        break;
    case FLAT_FALSE:
        if (size == 1) {
            Py_RETURN_FALSE;
        }
        break;
    case FLAT_FLOAT:
        if (size == 1 + (Py_ssize_t)sizeof(f)) {
            memcpy(&f, data + 1, sizeof(f));
            return PyFloat_FromDouble(f);
        }
        break;
    case FLAT_INT:
        if (size == 1 + (Py_ssize_t)sizeof(i)) {
            memcpy(&i, data + 1, sizeof(i));
            return PyLong_FromLongLong(i);
        }
        break;
    }
    return PyErr_Format(PyExc_ValueError,
                        "received object message is malformed (scalar code "
                        "%d, %zd bytes): was it sent with send() from "
                        "fastmpi?", (int)data[0], size);
}

static int
is_flat_code(unsigned char c)
{
    return c >= FLAT_NONE && c <= FLAT_INT;
}

/* MPI.pickle: borrowed (the state owns it). */
static inline FastMPIPickleObject *
pickler(void)
{
    return (FastMPIPickleObject *)fastmpi_st->pickle;
}


int
fastmpi_pickle_keep_inband(PyObject *picklebuffer, Py_ssize_t threshold)
{
    Py_buffer view;
    if (PyObject_GetBuffer(picklebuffer, &view, PyBUF_ANY_CONTIGUOUS) < 0) {
        PyErr_Clear();
        return 1;
    }
    Py_ssize_t len = view.len;
    PyBuffer_Release(&view);
    return len < threshold;
}

/* buffer_callback: keep small buffers in-band (return True), collect the
 * others into the list passed as self (return False). */
static PyObject *
collect_buffer(PyObject *list, PyObject *picklebuffer)
{
    if (fastmpi_pickle_keep_inband(picklebuffer, pickler()->threshold)) {
        Py_RETURN_TRUE;
    }
    if (PyList_Append(list, picklebuffer) < 0) {
        return NULL;
    }
    Py_RETURN_FALSE;
}

static PyMethodDef collect_def = {"collect_buffer", collect_buffer, METH_O,
                                  NULL};

/* Objects whose pickle cannot hold a buffer: skip the callback. */
static int
is_bufferless(PyObject *obj)
{
    PyTypeObject *t = Py_TYPE(obj);
    return t == &PyLong_Type || t == &PyUnicode_Type ||
           t == &PyBytes_Type || t == &PyComplex_Type;
}

void
fastmpi_pickled_release(fastmpi_pickled *p)
{
    if (p->datatype != MPI_BYTE && p->datatype != MPI_DATATYPE_NULL) {
        MPI_Type_free(&p->datatype);
    }
    for (Py_ssize_t i = 0; i < p->nviews; i++) {
        PyBuffer_Release(&p->views[i]);
    }
    PyMem_Free(p->views);
    PyMem_Free(p->header);
    Py_CLEAR(p->data);
    Py_CLEAR(p->oob);
    p->views = NULL;
    p->header = NULL;
    p->nviews = 0;
    p->datatype = MPI_BYTE;
}

static Py_ssize_t
align_up(Py_ssize_t n)
{
    return (n + FASTMPI_OOB_ALIGN - 1) / FASTMPI_OOB_ALIGN *
           FASTMPI_OOB_ALIGN;
}

/* hindexed block lengths are ints: a piece past 2 GiB is several blocks
 * of at most OOB_BLOCK bytes. */
#define OOB_BLOCK ((Py_ssize_t)1 << 30)

static Py_ssize_t
blocks_for(Py_ssize_t len)
{
    return len == 0 ? 1 : (len + OOB_BLOCK - 1) / OOB_BLOCK;
}

/* Append the block(s) of `len` bytes at `addr`. */
static void
add_blocks(const char *addr, Py_ssize_t len, int *lens, MPI_Aint *displs,
           Py_ssize_t *nblocks)
{
    do {
        Py_ssize_t part = len < OOB_BLOCK ? len : OOB_BLOCK;
        MPI_Get_address((void *)addr, &displs[*nblocks]);
        lens[(*nblocks)++] = (int)part;
        addr += part;
        len -= part;
    } while (len > 0);
}

/* The general path's message without out-of-band buffers, when small:
 * header and stream copied into one contiguous block (cheaper than a
 * derived type, and plain bytes as the fast path sends). */
#define GENERAL_INLINE_LIMIT (64 * 1024)

static int
build_inline_message(fastmpi_pickled *p)
{
    Py_ssize_t plen = PyBytes_GET_SIZE(p->data);
    Py_ssize_t hlen = (Py_ssize_t)sizeof(uint64_t) * 3;
    p->header = PyMem_Malloc(hlen + plen);
    if (p->header == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    uint64_t h[3] = {FASTMPI_OOB_MAGIC, 0, (uint64_t)plen};
    memcpy(p->header, h, sizeof(h));
    memcpy(p->header + hlen, PyBytes_AS_STRING(p->data), (size_t)plen);
    p->addr = p->header;
    p->count = (int)(hlen + plen);
    p->nbytes = hlen + plen;
    return 0;
}

/* Describe header + pickle + out-of-band buffers as one derived type. */
static int
build_oob_message(fastmpi_pickled *p)
{
    Py_ssize_t n = p->oob != NULL ? PyList_GET_SIZE(p->oob) : 0;
    Py_ssize_t plen = PyBytes_GET_SIZE(p->data);
    Py_ssize_t hlen = (Py_ssize_t)sizeof(uint64_t) * (3 + n);
    Py_ssize_t nblocks = 0, maxblocks = 1 + blocks_for(plen);
    int *lens = NULL;
    MPI_Aint *displs = NULL;
    int rc = -1;

    p->views = PyMem_Calloc(n, sizeof(Py_buffer));
    p->header = PyMem_Malloc(hlen);
    if (p->views == NULL || p->header == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pb = PyList_GET_ITEM(p->oob, i);
        if (PyObject_GetBuffer(pb, &p->views[i], PyBUF_ANY_CONTIGUOUS) < 0) {
            goto done;
        }
        p->nviews++;
        maxblocks += 1 + blocks_for(p->views[i].len);
    }
    if (maxblocks > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "pickled object has too many "
                     "out-of-band pieces (%zd) for one MPI message",
                     maxblocks);
        goto done;
    }
    lens = PyMem_Calloc(maxblocks, sizeof(int));
    displs = PyMem_Calloc(maxblocks, sizeof(MPI_Aint));
    if (lens == NULL || displs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    uint64_t *h = (uint64_t *)p->header;
    h[0] = FASTMPI_OOB_MAGIC;
    h[1] = (uint64_t)n;
    h[2] = (uint64_t)plen;

    MPI_Get_address(p->header, &displs[nblocks]);
    lens[nblocks++] = (int)hlen;
    add_blocks(PyBytes_AS_STRING(p->data), plen, lens, displs, &nblocks);
    Py_ssize_t offset = hlen + plen;

    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len = p->views[i].len;
        Py_ssize_t pad = align_up(offset) - offset;
        if (pad > 0) {
            MPI_Get_address((void *)zero_pad, &displs[nblocks]);
            lens[nblocks++] = (int)pad;
        }
        offset += pad;
        h[3 + i] = (uint64_t)len;
        add_blocks(p->views[i].buf, len, lens, displs, &nblocks);
        offset += len;
    }
    if (fastmpi_check(MPI_Type_create_hindexed((int)nblocks, lens, displs,
                                               MPI_BYTE, &p->datatype)) <
            0 ||
        fastmpi_check(MPI_Type_commit(&p->datatype)) < 0) {
        p->datatype = MPI_BYTE;
        goto done;
    }
    p->nbytes = offset;
    p->addr = MPI_BOTTOM;
    p->count = 1;
    rc = 0;
done:
    PyMem_Free(lens);
    PyMem_Free(displs);
    return rc;
}

void
fastmpi_pickled_flatten(const fastmpi_pickled *p, char *dst)
{
    if (p->header == NULL) {    /* plain pickle bytes (any size) */
        memcpy(dst, p->addr, (size_t)p->nbytes);
        return;
    }
    /* the layout build_oob_message describes */
    Py_ssize_t hlen = (Py_ssize_t)sizeof(uint64_t) * (3 + p->nviews);
    Py_ssize_t plen = PyBytes_GET_SIZE(p->data);
    memcpy(dst, p->header, (size_t)hlen);
    memcpy(dst + hlen, PyBytes_AS_STRING(p->data), (size_t)plen);
    Py_ssize_t offset = hlen + plen;
    for (Py_ssize_t i = 0; i < p->nviews; i++) {
        Py_ssize_t pad = align_up(offset) - offset;
        memset(dst + offset, 0, (size_t)pad);
        offset += pad;
        memcpy(dst + offset, p->views[i].buf, (size_t)p->views[i].len);
        offset += p->views[i].len;
    }
}

/* The general path: MPI.pickle's dumps (a new reference), as bytes. */
static PyObject *
dump_with(FastMPIPickleObject *pk, PyObject *obj, PyObject *oob)
{
    PyObject *dumps = Py_NewRef(pk->dumps);     /* dumps may replace them */
    PyObject *protocol = Py_NewRef(pk->protocol);
    PyObject *data = NULL;
    if (oob != NULL) {
        PyObject *cb = PyCFunction_New(&collect_def, oob);
        if (cb != NULL) {
            PyObject *args[3] = {obj, protocol, cb};
            data = PyObject_Vectorcall(dumps, args, 2,
                                       fastmpi_st->kw_buffer_callback);
            Py_DECREF(cb);
        }
    }
    else {
        PyObject *args[2] = {obj, protocol};
        data = PyObject_Vectorcall(dumps, args, protocol == Py_None ? 1 : 2,
                                   NULL);
    }
    Py_DECREF(dumps);
    Py_DECREF(protocol);
    if (data == NULL || PyBytes_Check(data)) {
        return data;
    }
    if (!PyObject_CheckBuffer(data)) {
        PyErr_Format(PyExc_TypeError, "MPI.pickle: dumps() must return "
                     "bytes, not %.100s", Py_TYPE(data)->tp_name);
        Py_DECREF(data);
        return NULL;
    }
    Py_SETREF(data, PyBytes_FromObject(data));
    return data;
}

static int
dump_general(FastMPIPickleObject *pk, PyObject *obj, fastmpi_pickled *p)
{
    if (pk->oob && (p->oob = PyList_New(0)) == NULL) {
        return -1;
    }
    p->data = dump_with(pk, obj, p->oob);
    if (p->data == NULL) {
        fastmpi_pickled_release(p);
        return -1;
    }
    int inline_ = (p->oob == NULL || PyList_GET_SIZE(p->oob) == 0) &&
                  PyBytes_GET_SIZE(p->data) <= GENERAL_INLINE_LIMIT;
    if ((inline_ ? build_inline_message(p) : build_oob_message(p)) < 0) {
        fastmpi_pickled_release(p);
        return -1;
    }
    return 0;
}

int
fastmpi_pickle_dump(PyObject *obj, fastmpi_pickled *p)
{
    memset(p, 0, sizeof(*p));
    p->datatype = MPI_BYTE;
    FastMPIPickleObject *pk = pickler();
    if (Py_UNLIKELY(!pk->standard)) {
        return dump_general(pk, obj, p);
    }
    if (dump_flat(obj, p)) {
        return 0;
    }
    if (is_bufferless(obj)) {
        PyObject *args[2] = {obj, fastmpi_st->protocol};
        p->data = PyObject_Vectorcall(fastmpi_st->pickle_dumps, args, 2,
                                      NULL);
    }
    else {
        p->oob = PyList_New(0);
        if (p->oob == NULL) {
            return -1;
        }
        PyObject *cb = PyCFunction_New(&collect_def, p->oob);
        if (cb == NULL) {
            fastmpi_pickled_release(p);
            return -1;
        }
        PyObject *args[3] = {obj, fastmpi_st->protocol, cb};
        p->data = PyObject_Vectorcall(fastmpi_st->pickle_dumps, args, 2,
                                      fastmpi_st->kw_buffer_callback);
        Py_DECREF(cb);
    }
    if (p->data == NULL) {
        fastmpi_pickled_release(p);
        return -1;
    }
    if (!PyBytes_Check(p->data)) {
        PyErr_SetString(PyExc_TypeError, "pickle.dumps() did not return "
                                         "bytes");
        fastmpi_pickled_release(p);
        return -1;
    }
    if (p->oob != NULL && PyList_GET_SIZE(p->oob) > 0) {
        if (build_oob_message(p) < 0) {
            fastmpi_pickled_release(p);
            return -1;
        }
        return 0;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(p->data);
    p->addr = PyBytes_AS_STRING(p->data);
    p->count = (int)size;
    p->nbytes = size;
    if (size > INT_MAX) {
        /* past 2 GiB: one item of a large type, owned (freed by
         * fastmpi_pickled_release) */
        p->count = 1;
        if (fastmpi_large_type_new(MPI_BYTE, size, &p->datatype) < 0) {
            p->datatype = MPI_BYTE;
            fastmpi_pickled_release(p);
            return -1;
        }
    }
    return 0;
}

static PyObject *
corrupt(const char *why)
{
    return PyErr_Format(PyExc_ValueError,
                        "received object message is malformed (%s): was it "
                        "sent with send() from fastmpi?", why);
}

static PyObject *
loads(PyObject *data)
{
    return PyObject_CallOneArg(fastmpi_st->pickle_loads, data);
}

/* The general path: MPI.pickle's loads on the `size` bytes at `data`, as
 * bytes (buf itself when that is the message's own bytearray), with
 * buffers=... when there are out-of-band buffers. */
static PyObject *
load_general(PyObject *buf, const unsigned char *data, Py_ssize_t size,
             int whole, PyObject *buffers)
{
    PyObject *stream;
    if (whole && PyByteArray_CheckExact(buf)) {
        stream = Py_NewRef(buf);
    }
    else {
        stream = PyBytes_FromStringAndSize((const char *)data, size);
        if (stream == NULL) {
            return NULL;
        }
    }
    PyObject *fn = Py_NewRef(pickler()->loads);     /* loads may replace it */
    PyObject *args[2] = {stream, buffers};
    PyObject *obj;
    if (buffers != NULL && PyList_GET_SIZE(buffers) > 0) {
        obj = PyObject_Vectorcall(fn, args, 1, fastmpi_st->kw_buffers);
    }
    else {
        obj = PyObject_Vectorcall(fn, args, 1, NULL);
    }
    Py_DECREF(fn);
    Py_DECREF(stream);
    return obj;
}

/* The object in `size` bytes at `data`, which is byte `start` of what
 * `buf` exports (out-of-band buffers become views of buf; anything else
 * is copied out of it).  whole: the message is all of buf. */
static PyObject *
load_from(PyObject *buf, Py_ssize_t start, const unsigned char *data,
          Py_ssize_t size, int whole)
{
    PyObject *view = NULL, *pickled = NULL, *buffers = NULL, *obj = NULL;
    if (size == 0) {
        Py_RETURN_NONE;
    }
    int general = !pickler()->standard;
    if (data[0] == 0x80) {
        if (Py_UNLIKELY(general)) {
            return load_general(buf, data, size, whole, NULL);
        }
        if (whole) {
            return loads(buf);
        }
        view = PyMemoryView_FromObject(buf);
        if (view == NULL) {
            return NULL;
        }
        pickled = PySequence_GetSlice(view, start, start + size);
        if (pickled != NULL) {
            obj = loads(pickled);
        }
        goto done;
    }
    if (is_flat_code(data[0])) {
        return load_flat(data, size);
    }
    uint64_t h[3];
    if (size < (Py_ssize_t)sizeof(h)) {
        return corrupt("too short");
    }
    memcpy(h, data, sizeof(h));
    if (h[0] != FASTMPI_OOB_MAGIC) {
        return corrupt("bad header");
    }
    uint64_t n = h[1], plen = h[2];
    Py_ssize_t hlen = (Py_ssize_t)sizeof(uint64_t) * (3 + (Py_ssize_t)n);
    if (n > (uint64_t)size / 8 || hlen > size ||
        plen > (uint64_t)(size - hlen)) {
        return corrupt("bad lengths");
    }
    view = PyMemoryView_FromObject(buf);
    if (view == NULL) {
        return NULL;
    }
    if (!general) {
        pickled = PySequence_GetSlice(view, start + hlen,
                                      start + hlen + (Py_ssize_t)plen);
        if (pickled == NULL) {
            goto done;
        }
    }
    buffers = PyList_New((Py_ssize_t)n);
    if (buffers == NULL) {
        goto done;
    }
    /* offsets from the message's start (which the sender aligned to) */
    Py_ssize_t offset = hlen + (Py_ssize_t)plen;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len;
        memcpy(&len, data + sizeof(uint64_t) * (3 + i), sizeof(len));
        offset = align_up(offset);
        if (offset > size || len > (uint64_t)(size - offset)) {
            corrupt("buffer past the end");
            goto done;
        }
        PyObject *slice = PySequence_GetSlice(
            view, start + offset, start + offset + (Py_ssize_t)len);
        if (slice == NULL) {
            goto done;
        }
        PyList_SET_ITEM(buffers, (Py_ssize_t)i, slice);  /* steals */
        offset += (Py_ssize_t)len;
    }
    if (Py_UNLIKELY(general)) {
        obj = load_general(buf, data + hlen, (Py_ssize_t)plen, 0, buffers);
        goto done;
    }
    PyObject *args[2] = {pickled, buffers};
    obj = PyObject_Vectorcall(fastmpi_st->pickle_loads, args, 1,
                              fastmpi_st->kw_buffers);
done:
    Py_XDECREF(buffers);
    Py_XDECREF(pickled);
    Py_XDECREF(view);
    return obj;
}

PyObject *
fastmpi_pickle_load_exported(PyObject *buf)
{
    Py_buffer view;
    if (PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *obj = load_from(buf, 0, view.buf, view.len, 1);
    PyBuffer_Release(&view);
    return obj;
}

PyObject *
fastmpi_pickle_load_slice(PyObject *buf, Py_ssize_t start, Py_ssize_t size)
{
    Py_buffer view;
    if (PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (start < 0 || size < 0 || start + size > view.len) {
        PyBuffer_Release(&view);
        return corrupt("slice past the end");
    }
    PyObject *obj = load_from(buf, start, (unsigned char *)view.buf + start,
                              size, start == 0 && size == view.len);
    PyBuffer_Release(&view);
    return obj;
}

PyObject *
fastmpi_pickle_load_memory(const char *data, Py_ssize_t size)
{
    const unsigned char *bytes = (const unsigned char *)data;
    if (size == 0) {
        Py_RETURN_NONE;
    }
    if (is_flat_code(bytes[0])) {
        return load_flat(bytes, size);  /* no copy for scalars */
    }
    PyObject *buf = PyByteArray_FromStringAndSize(data, size);
    if (buf == NULL) {
        return NULL;
    }
    PyObject *obj = load_from(buf, 0, (unsigned char *)
                              PyByteArray_AS_STRING(buf), size, 1);
    Py_DECREF(buf);
    return obj;
}

int
fastmpi_pickle_init(PyObject *module)
{
    PyObject *pickle = PyImport_ImportModule("pickle");
    if (pickle == NULL) {
        return -1;
    }
    fastmpi_st->pickle_dumps = PyObject_GetAttrString(pickle, "dumps");
    fastmpi_st->pickle_loads = PyObject_GetAttrString(pickle, "loads");
    fastmpi_st->PickleBuffer = PyObject_GetAttrString(pickle, "PickleBuffer");
    Py_DECREF(pickle);
    fastmpi_st->protocol = PyLong_FromLong(5);
    fastmpi_st->kw_buffer_callback = Py_BuildValue("(s)", "buffer_callback");
    fastmpi_st->kw_buffers = Py_BuildValue("(s)", "buffers");
    if (fastmpi_st->pickle_dumps == NULL || fastmpi_st->pickle_loads == NULL ||
        fastmpi_st->PickleBuffer == NULL || fastmpi_st->protocol == NULL ||
        fastmpi_st->kw_buffer_callback == NULL ||
        fastmpi_st->kw_buffers == NULL) {
        return -1;
    }
    return fastmpi_pickler_init(module);
}
