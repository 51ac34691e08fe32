/* pickle.h: objects as messages, and receive areas of any size (layer 2). */
#ifndef FASTMPI_PICKLE_H
#define FASTMPI_PICKLE_H

#include "../0_core/fastmpi.h"
#include "../0_core/state.h"

/* ---- pickle.c: objects as messages ------------------------------------- */

/* A pickled object ready to send as one message: `count` elements of
 * `datatype` from `addr` (MPI_BOTTOM plus a derived type when the object
 * carries out-of-band buffers). */
typedef struct {
    PyObject *data;             /* owned or NULL: the pickle bytes */
    PyObject *oob;              /* owned or NULL: list of PickleBuffer */
    Py_buffer *views;           /* held views of the out-of-band buffers */
    Py_ssize_t nviews;
    char *header;               /* PyMem: the out-of-band header */
    void *addr;
    int count;
    MPI_Datatype datatype;      /* MPI_BYTE, or a committed derived type */
    Py_ssize_t nbytes;          /* message size, for traces */
    unsigned char flat[16];     /* a scalar's whole message (see pickle.c) */
} fastmpi_pickled;

int fastmpi_pickle_dump(PyObject *obj, fastmpi_pickled *out);
void fastmpi_pickled_release(fastmpi_pickled *p);
/* Write the message's p->nbytes bytes to dst, contiguous (out-of-band
 * buffers copied in). */
void fastmpi_pickled_flatten(const fastmpi_pickled *p, char *dst);
/* New reference: the object from a received message: all of `buf`'s
 * bytes (a bytearray or other exporter whose memory stays put, which
 * out-of-band buffers will reference). */
PyObject *fastmpi_pickle_load_exported(PyObject *buf);
/* New reference: the object in bytes [start, start + size) of what `buf`
 * exports (several messages: collectives receive every rank's object
 * into one bytearray); out-of-band buffers view buf. */
PyObject *fastmpi_pickle_load_slice(PyObject *buf, Py_ssize_t start,
                                    Py_ssize_t size);
/* New reference: the object from `size` bytes at `data`, copied as needed
 * (for messages that arrived in temporary memory). */
PyObject *fastmpi_pickle_load_memory(const char *data, Py_ssize_t size);

int fastmpi_pickle_init(PyObject *module);
/* 1: keep the buffer a buffer_callback was handed in-band (it is shorter
 * than threshold, or not contiguous); 0: it may go out-of-band. */
int fastmpi_pickle_keep_inband(PyObject *picklebuffer, Py_ssize_t threshold);

/* ---- pickler.c: MPI.Pickle, and MPI.pickle ------------------------------
 *
 * MPI.pickle (fastmpi_st->pickle) serializes the objects of every
 * lowercase call.  While it holds pickle's own dumps and loads with
 * protocol 5 (`standard`), pickle.c takes its fast path (scalars flat,
 * THRESHOLD deciding what goes out-of-band); once a program puts in other
 * functions or another protocol, pickle.c calls them for every object. */
typedef struct {
    PyObject_HEAD
    PyObject *dumps;            /* callable: dumps(obj[, protocol]) */
    PyObject *loads;            /* callable: loads(data[, buffers=...]) */
    PyObject *protocol;         /* an int, or None: dumps(obj) alone */
    Py_ssize_t threshold;       /* buffers this long go out-of-band */
    int oob;                    /* the protocol has out-of-band buffers */
    int standard;               /* pickle.dumps, pickle.loads, protocol 5 */
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIPickleObject;

/* Make MPI.Pickle and MPI.pickle (called by fastmpi_pickle_init). */
int fastmpi_pickler_init(PyObject *module);

/* ---- recvarea.c: receive areas of any size ------------------------------
 *
 * irecv() without a buffer must post a real receive (so that message
 * order, progress and synchronous sends behave as MPI says) for a message
 * of unknown size.  It receives into an area of address space as large as
 * the machine's memory, reserved without backing (MAP_NORESERVE): only the
 * pages the message writes become memory.  Small results are unpickled in
 * place and the area goes back to a pool; large ones keep the area, cut
 * to size, as a RecvArea buffer object that the out-of-band arrays view.
 * (fastmpi_area is in state.h: the module state keeps the pool.) */

/* 0, or -1 with MemoryError. */
int fastmpi_area_take(fastmpi_area *area);
/* Give the area back (to the pool, or unmap it). */
void fastmpi_area_give(fastmpi_area *area);
/* The receive arguments covering the whole area. */
int fastmpi_area_count(const fastmpi_area *area);
MPI_Datatype fastmpi_area_datatype(void);
/* New reference: the object in the first `size` bytes of the area, which
 * is consumed (pooled again, or owned by the result's buffers). */
PyObject *fastmpi_area_load(fastmpi_area *area, Py_ssize_t size);
int fastmpi_area_init(PyObject *module);
void fastmpi_area_before_finalize(void);

#endif /* FASTMPI_PICKLE_H */
