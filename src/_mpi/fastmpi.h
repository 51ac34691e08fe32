/* fastmpi.h: internal declarations shared by the files of fastmpi.MPI.
 *
 * Every name here is hidden (-fvisibility=hidden); only PyInit_MPI is
 * exported.  Cross-file internals are named fastmpi_<area>_<verb>.
 */
#ifndef FASTMPI_H
#define FASTMPI_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <mpi.h>

#include "compat.h"

/* ---- module state ------------------------------------------------------ */

/* MPI is initialised once per process, so the module is single-instance:
 * its state lives in one static struct that hot paths reach directly,
 * instead of a per-call PyType_GetModuleByDef() walk.  module.c refuses a
 * second initialisation (a subinterpreter or a re-import after deletion). */
typedef struct {
    PyObject *module;           /* borrowed: the module owns the state */
    PyObject *Exception;        /* MPI.Exception */
    PyTypeObject *Comm;
    PyTypeObject *Intracomm;
    PyTypeObject *Topocomm;     /* topology.c: Topocomm and subclasses */
    PyTypeObject *Cartcomm;
    PyTypeObject *Graphcomm;
    PyTypeObject *Distgraphcomm;
    PyTypeObject *Intercomm;    /* intercomm.c */
    PyTypeObject *Status;
    PyTypeObject *Datatype;
    PyTypeObject *Request;
    PyTypeObject *Prequest;
    PyTypeObject *Grequest;
    PyTypeObject *Message;
    PyTypeObject *RecvArea;
    PyTypeObject *Op;
    PyTypeObject *Group;        /* group.c */
    PyTypeObject *Info;         /* info.c */
    PyObject *orphans;          /* list: pending requests nobody holds */
    PyTypeObject *Sentinel;     /* type of BOTTOM and IN_PLACE */
    PyObject *BOTTOM;
    PyObject *IN_PLACE;
    PyObject *pickle_dumps;
    PyObject *pickle_loads;
    PyObject *PickleBuffer;
    PyObject *protocol;         /* int 5 */
    PyObject *kw_buffer_callback;   /* ("buffer_callback",) */
    PyObject *kw_buffers;           /* ("buffers",) */
    PyObject *attached_buffer;  /* owned: the buffer of Attach_buffer */
    Py_buffer attached_view;
    int initialized_here;       /* we called MPI_Init*: finalise at exit */
    int finalize_at_exit;
} fastmpi_state;

extern fastmpi_state fastmpi_st;

/* module.c: add methods (METH_CLASS ones as class methods) and getters to
 * a type made in another file; with keep_existing, names the type already
 * has (its own or inherited) are left as they are.  0, or -1. */
int fastmpi_type_add(PyTypeObject *type, PyMethodDef *methods,
                     PyGetSetDef *getset, int keep_existing);

/* ---- object structs ---------------------------------------------------- */

enum {
    FASTMPI_PREDEFINED = 1,     /* a predefined handle: never freed */
    FASTMPI_INTER = 2,          /* Comm: an intercommunicator (set once, at
                                   creation, so collectives test a bit) */
};

typedef struct {
    PyObject_HEAD
    MPI_Comm ob_mpi;
    int flags;
} FastMPICommObject;

typedef struct {
    PyObject_HEAD
    MPI_Status ob_mpi;
} FastMPIStatusObject;

typedef struct {
    PyObject_HEAD
    MPI_Datatype ob_mpi;
    int flags;
} FastMPIDatatypeObject;

typedef struct {
    PyBaseExceptionObject base;
    int error_code;
    PyObject *detail;           /* str or NULL: what fastmpi saw */
} FastMPIExceptionObject;

/* ---- the GIL around calls that can block --------------------------------
 *
 * FASTMPI_NOGIL_BEGIN ... FASTMPI_NOGIL_END wrap every MPI call that can
 * block; no Python API between them.  The GIL is released whenever the
 * interpreter has another thread state, so any thread (threading, or a C
 * thread registered with PyGILState) runs meanwhile.  With a single Python
 * thread nobody could take it: handing it over and back would cost about
 * 350 instructions, half of a whole Send, for nothing, so it is kept. */
static inline int
fastmpi_other_threads(PyThreadState *ts)
{
    return ts->prev != NULL || ts->next != NULL;
}

#define FASTMPI_NOGIL_BEGIN                                                \
    {                                                                      \
        PyThreadState *nogil_ts_ = PyThreadState_Get();                    \
        int nogil_released_ = fastmpi_other_threads(nogil_ts_);            \
        if (nogil_released_) {                                             \
            PyEval_SaveThread();                                           \
        }

#define FASTMPI_NOGIL_END                                                  \
        if (nogil_released_) {                                             \
            PyEval_RestoreThread(nogil_ts_);                               \
        }                                                                  \
    }

/* ---- errors.c: the one place MPI return codes are checked -------------- */

/* Raise MPI.Exception for a failed MPI call.  Always returns NULL. */
PyObject *fastmpi_error_raise(int ierr);
/* Raise MPI.Exception(errclass) for an error fastmpi detects itself (a
 * request waited twice, ...), with a printf-style detail appended to the
 * MPI library's text.  Always returns NULL. */
PyObject *fastmpi_error_raise_detail(int errclass, const char *fmt, ...);

/* 1 between MPI initialisation and finalisation.  Both libraries kill the
 * process when most MPI functions are called outside that window, so every
 * path into MPI checks it first (environment.c keeps it). */
extern int fastmpi_mpi_active;

/* 0, or -1 with MPI.Exception(ERR_OTHER) saying MPI is not initialised or
 * already finalised. */
int fastmpi_require_mpi_slow(void);

static inline int
fastmpi_require_mpi(void)
{
    return Py_LIKELY(fastmpi_mpi_active) ? 0 : fastmpi_require_mpi_slow();
}

/* Every MPI call's return code goes through here: 0 on success, -1 with
 * MPI.Exception set on failure. */
static inline int
fastmpi_check(int ierr)
{
    if (Py_LIKELY(ierr == MPI_SUCCESS)) {
        return 0;
    }
    fastmpi_error_raise(ierr);
    return -1;
}

int fastmpi_errors_init(PyObject *module);

/* ---- trace.c: the hook every MPI call passes ---------------------------
 *
 * FASTMPI_CALL(name, comm, peer, tag, bytes, ierr = MPI_X(...)) runs the
 * call; while tracing is off it costs one predictable branch.  While on,
 * it records name, communicator, peer, tag, bytes and duration into a ring
 * buffer without touching Python (it may run with the GIL released). */
extern int fastmpi_trace_on;
void fastmpi_trace_record(const char *name, MPI_Comm comm, int peer,
                          int tag, Py_ssize_t bytes, double t0, int ierr);

#define FASTMPI_CALL(name, comm, peer, tag, bytes, stmt)                   \
    do {                                                                   \
        if (Py_LIKELY(!fastmpi_trace_on)) {                                \
            stmt;                                                          \
        }                                                                  \
        else {                                                             \
            double t0_ = MPI_Wtime();                                      \
            stmt;                                                          \
            fastmpi_trace_record((name), (comm), (peer), (tag), (bytes),   \
                                 t0_, ierr);                               \
        }                                                                  \
    } while (0)

int fastmpi_trace_init(PyObject *module);

/* ---- method helpers ---------------------------------------------------- */

/* X(0) ... X(31), X(0) ... X(63): C callbacks without a context pointer
 * (Op.Create's functions, Python error handlers) are static trampolines,
 * one per slot, defined and tabled with these. */
#define FASTMPI_SLOTS_32(X)                                                \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12)   \
    X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)     \
    X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)
#define FASTMPI_SLOTS_64(X)                                                \
    FASTMPI_SLOTS_32(X)                                                    \
    X(32) X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42)     \
    X(43) X(44) X(45) X(46) X(47) X(48) X(49) X(50) X(51) X(52) X(53)     \
    X(54) X(55) X(56) X(57) X(58) X(59) X(60) X(61) X(62) X(63)

/* A METH_FASTCALL function as a PyMethodDef's ml_meth. */
#define FASTMPI_FASTCALL(f) ((PyCFunction)(void (*)(void))(f))

/* The four blocking send modes share one signature.  p2p.c (buffers) and
 * objp2p.c (objects) each have a static send_common() taking one, and make
 * a Comm method per mode with FASTMPI_DEFINE_SEND. */
typedef int (*fastmpi_send_fn)(const void *, int, MPI_Datatype, int, int,
                               MPI_Comm);

/* The nonblocking and persistent starts (Isend, Send_init, ...; objp2p.c's
 * isend family and nbp2p.c's) share one signature too. */
typedef int (*fastmpi_start_fn)(const void *, int, MPI_Datatype, int, int,
                                MPI_Comm, MPI_Request *);

#define FASTMPI_DEFINE_SEND(NAME, FN, NAMES)                               \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *const *args, Py_ssize_t nargs,  \
                                 PyObject *kwnames)                        \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, NAMES, 2};                   \
        return send_common(self, args, nargs, kwnames, &spec, FN, #FN);    \
    }

/* ---- args.c: tiny METH_FASTCALL | METH_KEYWORDS argument parser -------- */

typedef struct {
    const char *fname;          /* "Send", for messages */
    const char *const *names;   /* NULL-terminated keyword names */
    int nrequired;
    int nnames;                 /* filled on first use */
    PyObject **interned;        /* filled on first use */
} fastmpi_argspec;

/* Fill out[0..nnames) with borrowed references, NULL where not given.
 * Returns 0, or -1 with TypeError naming the function and argument. */
int fastmpi_parse_args(fastmpi_argspec *spec, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames, PyObject **out);

/* Converters: obj may be NULL (argument not given): then *out = dflt.
 * Errors name the function and the argument. */
int fastmpi_arg_int(fastmpi_argspec *spec, int index, PyObject *obj,
                    int dflt, int *out);
int fastmpi_arg_status(fastmpi_argspec *spec, int index, PyObject *obj,
                       MPI_Status **out);
/* And the other way: a new list of the n C ints at v (NULL on error). */
PyObject *fastmpi_int_list(const int *v, int n);

/* ---- comm.c ------------------------------------------------------------ */

int fastmpi_comm_init(PyObject *module);
/* New reference: a Comm object of `type` wrapping `comm`. */
PyObject *fastmpi_comm_new(PyTypeObject *type, MPI_Comm comm, int flags);
/* The class of a communicator made from self that drops its topology
 * (Split, Create, Create_group, Split_type): Intracomm for a Topocomm,
 * else self's own class.  Borrowed. */
PyTypeObject *fastmpi_comm_derived_type(FastMPICommObject *self);
/* Raise MPI.Exception(ERR_COMM) and return -1 if self is COMM_NULL. */
int fastmpi_comm_check(FastMPICommObject *self);
/* fastmpi_comm_check, then this process's rank and the size: 0 or -1. */
int fastmpi_comm_ranks(FastMPICommObject *self, int *rank, int *size);

/* ---- status.c ---------------------------------------------------------- */

int fastmpi_status_init(PyObject *module);

/* ---- datatype.c -------------------------------------------------------- */

int fastmpi_datatype_init(PyObject *module);
/* The MPI datatype for a buffer-protocol format string and item size, or
 * MPI_DATATYPE_NULL with ValueError set naming fname/argname. */
MPI_Datatype fastmpi_datatype_from_format(const char *format,
                                          Py_ssize_t itemsize,
                                          const char *fname,
                                          const char *argname);
/* Borrowed handle of a Datatype object, or MPI_DATATYPE_NULL with
 * TypeError set (ValueError for DATATYPE_NULL, MPI.Exception(ERR_TYPE) for
 * a freed or uncommitted derived type). */
MPI_Datatype fastmpi_datatype_arg(PyObject *obj, const char *fname,
                                  const char *argname);

/* ---- derived datatypes: dtcreate.c, dtdecode.c, pack.c, dtnumpy.c ------
 *
 * Datatype objects carry flags: FASTMPI_PREDEFINED (a named type, never
 * freed), FASTMPI_DT_COMMITTED (Commit() was called: usable in messages)
 * and FASTMPI_DT_OWNED (a handle Get_contents/decode made: freed when the
 * object goes away, unless Free() came first). */
enum {
    FASTMPI_DT_COMMITTED = 2,
    FASTMPI_DT_OWNED = 4,
};

/* Freed handles.  Several objects may share a derived handle (Datatype(t),
 * f2py, and MPICH's Get_contents, which hands back the same handle with its
 * reference count raised), and an MPI call on a freed handle crashes MPICH.
 * So datatype.c counts, per derived handle, the references fastmpi took
 * (fastmpi_datatype_adopt) and gave back (Free): a handle whose count fell
 * to 0 is refused with MPI.Exception(ERR_TYPE) instead of reaching MPI.
 * Handles it never saw pass, so every Datatype object that holds a new MPI
 * reference must be made with fastmpi_datatype_adopt (or _wrap). */

/* New reference: a Datatype object wrapping `handle` with `flags` (an
 * alias or a predefined type: no reference counted). */
PyObject *fastmpi_datatype_new(MPI_Datatype handle, int flags);
/* New reference: a Datatype object for a handle MPI just created or handed
 * over (a constructor's result, Dup, ...): one reference counted.  On
 * failure the handle is freed. */
PyObject *fastmpi_datatype_adopt(MPI_Datatype handle, int flags);
/* New reference for a handle MPI gave back (Get_contents, ...): flagged
 * predefined when MPI says it is named, else adopted with `flags`. */
PyObject *fastmpi_datatype_wrap(MPI_Datatype handle, int flags);
/* The handle of Datatype object `self` for a method `fname` that calls
 * MPI: 0, or -1 with MPI.Exception(ERR_TYPE) when it is DATATYPE_NULL or
 * was freed (or MPI is not running). */
int fastmpi_datatype_handle(PyObject *self, const char *fname,
                            MPI_Datatype *dt);
/* 1 if `dt` is a named (predefined) type, 0 if not, -1 with an exception. */
int fastmpi_datatype_is_named(MPI_Datatype dt);
/* The datatype of a message ([buf, count, datatype]): like
 * fastmpi_datatype_arg, and also refuses a freed or uncommitted derived
 * type (MPI.Exception ERR_TYPE saying so).  Fills the extent and the true
 * extent.  0, or -1 with an exception naming fname/argname. */
int fastmpi_datatype_msg_arg(PyObject *obj, const char *fname,
                             const char *argname, MPI_Datatype *dt,
                             MPI_Aint *lb, MPI_Aint *extent,
                             MPI_Aint *true_lb, MPI_Aint *true_extent);
/* A committed datatype for a numpy dtype with fields (a structured array
 * passed as a message), built once per dtype object and cached (a few
 * dozen entries; freed before MPI_Finalize).  Borrowed handle, or
 * MPI_DATATYPE_NULL with ValueError naming fname/argname. */
MPI_Datatype fastmpi_datatype_from_descr(PyObject *descr, const char *fname,
                                         const char *argname);
void fastmpi_dtnumpy_before_finalize(void);

/* Method and attribute tables joined onto Datatype by datatype.c. */
extern PyMethodDef fastmpi_dtcreate_methods[];   /* dtcreate.c */
extern PyMethodDef fastmpi_dtdecode_methods[];   /* dtdecode.c */
extern PyGetSetDef fastmpi_dtdecode_getset[];    /* dtdecode.c */
extern PyMethodDef fastmpi_pack_methods[];       /* pack.c */
extern PyMethodDef fastmpi_dtnumpy_methods[];    /* dtnumpy.c */
extern PyGetSetDef fastmpi_dtnumpy_getset[];     /* dtnumpy.c */
/* dtcreate.c: COMBINER_*, TYPECLASS_*, DISTRIBUTE_*, ORDER_* constants,
 * Get_address, Aint_add, Aint_diff; dtnumpy.c: the hidden helpers of
 * fastmpi.util.dtlib. */
int fastmpi_dtcreate_init(PyObject *module);
int fastmpi_dtnumpy_init(PyObject *module);

/* ---- msgbuffer.c: buffer specs ----------------------------------------- */

typedef struct {
    Py_buffer view;             /* view.obj != NULL while a view is held */
    PyObject *owner;            /* owned or NULL: a numpy array read
                                   directly, without a buffer view */
    void *addr;
    int count;
    MPI_Datatype datatype;
    Py_ssize_t nbytes;          /* for traces */
} fastmpi_msg;

enum { FASTMPI_MSG_SEND = 0, FASTMPI_MSG_RECV = 1 };

/* Parse a buffer spec: buf, [buf, datatype], [buf, count, datatype],
 * [buf, (count, displ), datatype], or None (an empty message, allowed
 * only when `peer` is MPI_PROC_NULL).  Returns 0 or -1 with an exception
 * naming fname/argname.  On success the caller must call
 * fastmpi_msg_release(). */
int fastmpi_msg_parse(PyObject *spec, int mode, int peer, const char *fname,
                      const char *argname, fastmpi_msg *msg);
void fastmpi_msg_release(fastmpi_msg *msg);

/* ---- strided.c: non-contiguous buffers as derived datatypes ------------
 *
 * Fill msg for a strided exporter `obj` (called by msgbuffer.c once a
 * contiguous view was refused): msg->view held, addr the first item, a
 * cached derived datatype.  `given` is the spec's datatype or
 * MPI_DATATYPE_NULL (from the buffer's format); count/displ the spec's,
 * count -1 for the whole view.  0, or -1 with an exception. */
int fastmpi_strided_parse(PyObject *obj, int mode, MPI_Datatype given,
                          Py_ssize_t count, Py_ssize_t displ,
                          const char *fname, const char *argname,
                          fastmpi_msg *msg);
/* Counts above 2**31-1: *out = a cached committed type that is `count`
 * items of the predefined `base`, to be sent as count 1 (also used for
 * smaller counts: vlarge.c's unit types).  0, or -1 with
 * ValueError (a derived base) or MPI.Exception. */
int fastmpi_large_type(MPI_Datatype base, Py_ssize_t count,
                       const char *fname, const char *argname,
                       MPI_Datatype *out);
/* 1 if t is a cached large type (from fastmpi_large_type): its base and
 * item count into *base and *count; else 0. */
int fastmpi_large_type_info(MPI_Datatype t, MPI_Datatype *base,
                            Py_ssize_t *count);
/* The same, not cached: a new committed type the caller frees. */
int fastmpi_large_type_new(MPI_Datatype base, Py_ssize_t count,
                           MPI_Datatype *out);
/* vspec.c, around the parse of a buffer split into blocks: +1 before,
 * -1 after (strided buffers then count items, see strided.c). */
void fastmpi_strided_counted(int delta);
/* 1 if msg describes a non-contiguous buffer with a strided.c type. */
int fastmpi_strided_is(const fastmpi_msg *msg);
/* Free the cached types (environment.c, before MPI_Finalize). */
void fastmpi_strided_before_finalize(void);
int fastmpi_strided_init(PyObject *module);

/* ---- staged.c: reductions on strided buffers, through contiguous
 * temporaries ------------------------------------------------------------
 *
 * Between fastmpi_staged_begin() and _end() (per thread), a strided
 * buffer that strided.c parses becomes a contiguous temporary of its
 * items with the element datatype, owned by a capsule in msg->owner (see
 * staged.c): a send buffer packed at once, a receive buffer copied back
 * by fastmpi_msg_unstage once the operation is complete. */
#define FASTMPI_STAGED_MAX_NDIM 64
void fastmpi_staged_begin(void);
void fastmpi_staged_end(void);
int fastmpi_staged_active(void);
/* strided.c, with msg->view held: stage the simplified view (nd >= 1,
 * `nitems` items from `first`) as a message of `count` (<= nitems) items
 * of `base`.  0 (the view moved into msg->owner), or -1 with an exception
 * (ValueError past 2**31-1 items; the view still in msg). */
int fastmpi_staged_parse(int mode, MPI_Datatype base, Py_ssize_t itemsize,
                         char *first, int nd, const Py_ssize_t *shape,
                         const Py_ssize_t *strides, Py_ssize_t nitems,
                         Py_ssize_t count, const char *fname,
                         const char *argname, fastmpi_msg *msg);
/* A staged receive buffer that the operation reads: copy the view's
 * elements into the temporary.  Nothing for other messages. */
void fastmpi_staged_fill(fastmpi_msg *msg);
void fastmpi_staged_copy_back(fastmpi_msg *msg);

static inline int
fastmpi_msg_is_staged(const fastmpi_msg *msg)
{
    return msg->owner != NULL && PyCapsule_CheckExact(msg->owner);
}

/* The operation on msg is complete: a staged receive buffer's result goes
 * back into the caller's view (only the elements it selects).  Nothing
 * for other messages. */
static inline void
fastmpi_msg_unstage(fastmpi_msg *msg)
{
    if (Py_UNLIKELY(fastmpi_msg_is_staged(msg))) {
        fastmpi_staged_copy_back(msg);
    }
}

/* ---- p2p.c: receives that never write past the buffer ----------------
 * (Open MPI 4.1.4 does, for truncated large messages; see p2p.c.)  MPI
 * return codes, no GIL needed.  fastmpi_mrecv_checked takes a message
 * already matched by a probe whose status is *probed. */
extern int fastmpi_recv_guard;     /* Open MPI and fastmpi.rc.recv_guard */
int fastmpi_recv_checked(void *addr, int count, MPI_Datatype datatype,
                         int source, int tag, MPI_Comm comm,
                         MPI_Status *status);
int fastmpi_mrecv_checked(void *addr, int count, MPI_Datatype datatype,
                          MPI_Message *message, const MPI_Status *probed,
                          MPI_Status *status);

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

/* ---- recvarea.c: receive areas of any size ------------------------------
 *
 * irecv() without a buffer must post a real receive (so that message
 * order, progress and synchronous sends behave as MPI says) for a message
 * of unknown size.  It receives into an area of address space as large as
 * the machine's memory, reserved without backing (MAP_NORESERVE): only the
 * pages the message writes become memory.  Small results are unpickled in
 * place and the area goes back to a pool; large ones keep the area, cut
 * to size, as a RecvArea buffer object that the out-of-band arrays view. */
typedef struct {
    char *base;                 /* NULL: no area */
    size_t size;                /* reserved bytes, a multiple of the unit */
    size_t used;                /* bytes messages have written: resident */
} fastmpi_area;

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

/* ---- request.c: Request, Prequest; requestlist.c: the list calls -------
 *
 * A request holds everything MPI reads or writes until it completes: the
 * parsed buffers (msg), a pickled object, a receive area, any other
 * objects (keep) and one PyMem block (mem, for count/displacement arrays).
 * Releasing happens in one place, fastmpi_request_complete().  A pending
 * request whose last reference goes away is kept in fastmpi_st.orphans
 * until MPI completes it, so memory MPI writes to is never freed early.
 *
 * To start one: req = fastmpi_request_new(type); fill msg/nmsg, keep, mem
 * (the request owns them from then on); make the MPI call on &req->ob_mpi;
 * on success fastmpi_request_started(req); on failure Py_DECREF(req)
 * releases everything. */
enum {
    FASTMPI_REQ_NULL = 0,       /* REQUEST_NULL, or not yet started */
    FASTMPI_REQ_ACTIVE,         /* MPI may still use the buffers */
    FASTMPI_REQ_INACTIVE,       /* persistent, not started */
    FASTMPI_REQ_DONE,           /* completed by a wait or test */
    FASTMPI_REQ_FREED,          /* freed by the user */
};

enum {
    FASTMPI_REQ_BUFFERS = 0,    /* completion produces nothing */
    FASTMPI_REQ_OBJSEND,        /* a pickled object in `pickled` */
    FASTMPI_REQ_OBJRECV,        /* an object: in `area`, or msg[0] */
    FASTMPI_REQ_GREQUEST,       /* a generalized request (grequest.c) */
    FASTMPI_REQ_ALIAS,          /* Request(other): stands for `keep` */
};

typedef struct {
    PyObject_HEAD
    MPI_Request ob_mpi;
    unsigned char state;
    unsigned char kind;
    unsigned char persistent;
    unsigned char busy;         /* waited on without the GIL right now */
    unsigned char recv;         /* a receive: cancelled at finalisation */
    unsigned char procnull;     /* a receive from MPI_PROC_NULL */
    int nmsg;
    fastmpi_msg msg[2];
    PyObject *keep;             /* owned or NULL */
    void *mem;                  /* PyMem_Free'd at release */
    fastmpi_pickled *pickled;   /* PyMem, OBJSEND */
    fastmpi_area area;          /* OBJRECV without a buffer */
    Py_ssize_t received;        /* OBJRECV: bytes, once complete; -1 */
    Py_ssize_t capacity;        /* OBJRECV into an area standing in for a
                                   caller's buffer of this size; else -1 */
    Py_ssize_t truncated;       /* > 0: the message that did not fit */
    PyObject *bytes;            /* OBJRECV: a bytearray received into */
    void *greq;                 /* GREQUEST: its context (grequest.c) */
    PyObject *op;               /* owned or NULL: an Op.Create op whose
                                   function's exception the wait raises */
} FastMPIRequestObject;

/* The request an object stands for: itself, or for Request(other), the
 * other. */
static inline FastMPIRequestObject *
fastmpi_request_target(FastMPIRequestObject *req)
{
    return Py_UNLIKELY(req->kind == FASTMPI_REQ_ALIAS)
        ? (FastMPIRequestObject *)req->keep : req;
}

/* A new request of `type` (Request, Prequest, or a subclass), state NULL.
 * Never fails other than MemoryError. */
FastMPIRequestObject *fastmpi_request_new(PyTypeObject *type);
/* Keep `obj` alive as long as the request needs its buffers. */
int fastmpi_request_keep(FastMPIRequestObject *req, PyObject *obj);
/* The MPI call succeeded: the request is active (or inactive, for a
 * persistent one).  Returns req as a PyObject (the reference passes). */
PyObject *fastmpi_request_started(FastMPIRequestObject *req);
/* MPI completed the request (its status in *st, or NULL): release what it
 * held.  want_result keeps a received object for fastmpi_request_result. */
void fastmpi_request_complete(FastMPIRequestObject *req, MPI_Status *st,
                              int want_result);
/* New reference: what a completed request produced (an object for an
 * object receive, else None); consumes it. */
PyObject *fastmpi_request_result(FastMPIRequestObject *req);
/* After a wait or test completed req: -1 with the exception a Python
 * callback raised meanwhile (a generalized request's, a user op's), else
 * 0. */
int fastmpi_request_raise_pending(FastMPIRequestObject *req);
/* Raise (ERR_REQUEST, naming fname) and return -1 unless req can be waited
 * on or tested: 0 = go ahead, 1 = a null request (complete at once). */
int fastmpi_request_check(FastMPIRequestObject *req, const char *fname,
                          int wait);
/* Test the orphans, dropping the completed ones (GIL held). */
void fastmpi_request_sweep(void);
void fastmpi_request_before_finalize(void);
int fastmpi_request_init(PyObject *module);
int fastmpi_requestlist_init(PyObject *module);  /* requestlist.c */
int fastmpi_grequest_init(PyObject *module);     /* grequest.c */
/* grequest.c: raise (and return -1) the exception a callback of this
 * generalized request raised, if any; 0 otherwise. */
int fastmpi_grequest_raise_pending(FastMPIRequestObject *req);
/* grequest.c: the request object no longer needs its context. */
void fastmpi_grequest_forget(FastMPIRequestObject *req);
int fastmpi_message_init(PyObject *module);      /* message.c */

/* Borrowed: a Request argument, or NULL with TypeError naming it. */
FastMPIRequestObject *fastmpi_request_arg(PyObject *obj, const char *fname,
                                          const char *argname);

/* ---- op.c: MPI.Op ------------------------------------------------------
 *
 * Predefined ops know which one they are (kind), so that they also apply
 * to Python objects (MPI.SUM(a, b), comm.allreduce(obj, op=MPI.MAX)).
 * Op.Create's function runs from a C trampoline (one per slot) under
 * PyGILState_Ensure; an exception it raises is kept in the Op (error) and
 * raised again by fastmpi_op_raised() once the MPI call has returned. */
enum {
    FASTMPI_OP_USER = -1,       /* Op.Create, or OP_NULL */
    FASTMPI_OP_MAX = 0,
    FASTMPI_OP_MIN,
    FASTMPI_OP_SUM,
    FASTMPI_OP_PROD,
    FASTMPI_OP_LAND,
    FASTMPI_OP_BAND,
    FASTMPI_OP_LOR,
    FASTMPI_OP_BOR,
    FASTMPI_OP_LXOR,
    FASTMPI_OP_BXOR,
    FASTMPI_OP_MAXLOC,
    FASTMPI_OP_MINLOC,
    FASTMPI_OP_REPLACE,
    FASTMPI_OP_NO_OP,
};

typedef struct {
    PyObject_HEAD
    MPI_Op ob_mpi;
    int flags;
    int kind;                   /* FASTMPI_OP_* */
    int slot;                   /* Op.Create: its trampoline; else -1 */
    int commute;
    PyObject *function;         /* owned or NULL: Op.Create's function */
    PyObject *error;            /* owned or NULL: raised inside MPI */
    PyObject *base;             /* owned or NULL: the op this copies */
} FastMPIOpObject;

int fastmpi_op_init(PyObject *module);
/* Borrowed: the Op behind an `op` argument (NULL: MPI.SUM), or NULL with
 * TypeError/ValueError naming fname/argname. */
FastMPIOpObject *fastmpi_op_arg(PyObject *obj, const char *fname,
                                const char *argname);
/* After an MPI call that may have run op's Python function: -1 with that
 * function's exception set if it raised, else 0. */
int fastmpi_op_raised(FastMPIOpObject *op);
/* New reference: op applied to two Python objects, op(a, b). */
PyObject *fastmpi_op_apply(FastMPIOpObject *op, PyObject *a, PyObject *b);

/* ---- vspec.c: buffer specs of collectives ------------------------------ */

/* Like fastmpi_msg_parse, for the block variants (Gather's receive buffer
 * at the root, ...): a count inferred from the buffer is divided by
 * `blocks` (ValueError unless it divides evenly); an explicit count is
 * the count per block. */
int fastmpi_msg_parse_blocks(PyObject *spec, int mode, int blocks,
                             const char *fname, const char *argname,
                             fastmpi_msg *msg);

/* A vector spec: buf, [buf, counts], [buf, datatype], [buf, counts,
 * datatype], [buf, (counts, displs), datatype], [buf, counts, displs,
 * datatype]; with types (Alltoallw) [buf, counts, displs, datatypes] or
 * [buf, (counts, displs), datatypes], displacements in bytes.  Counts
 * default to an even split of the buffer, displacements to the running
 * sum of the counts. */
typedef struct {
    fastmpi_msg msg;            /* the buffer and its datatype */
    int *counts;                /* PyMem, `blocks` entries */
    int *displs;                /* in the same block as counts */
    MPI_Datatype *types;        /* Alltoallw: in the same block; else NULL */
    int blocks;
    /* Past 2**31-1 on MPI-4 (vlarge.c): PyMem, `blocks` counts, then as
     * many displacements, in one block; NULL on the int path.  counts and
     * displs are then not used. */
    MPI_Count *lcounts;
    MPI_Aint *ldispls;
} fastmpi_vmsg;

int fastmpi_vmsg_parse(PyObject *spec, int mode, int blocks, int with_types,
                       const char *fname, const char *argname,
                       fastmpi_vmsg *v);
void fastmpi_vmsg_release(fastmpi_vmsg *v);

/* vlarge.c: vector specs past 2**31-1 (a count, a displacement or the
 * buffer's items).  vspec.c hands over counts and displs (the spec's
 * objects, NULL when absent) and the buffer's item count; v->msg holds the
 * buffer with its element datatype (bottom: MPI.BOTTOM, no bounds check).
 * Fills v for the call: int arrays when they can say it (on Open MPI with
 * a unit datatype of k items, k dividing every count and displacement),
 * else (MPI-4) lcounts/ldispls for the _c functions.  0, or -1 with
 * ValueError. */
int fastmpi_vlarge_fill(PyObject *counts, PyObject *displs, Py_ssize_t total,
                        int bottom, fastmpi_vmsg *v, const char *fname,
                        const char *argname);
/* Block i's count, either path. */
static inline long long
fastmpi_vmsg_count(const fastmpi_vmsg *v, int i)
{
    return v->lcounts != NULL ? (long long)v->lcounts[i]
                              : (long long)v->counts[i];
}

/* ---- coll.c: the arguments of buffer collectives ----------------------
 *
 * One prepare function per collective checks and parses a method's
 * arguments (argv as its argspec says) into a fastmpi_coll; coll.c makes
 * the blocking MPI call with it, icoll.c the nonblocking one. */
enum {
    FASTMPI_COLL_BCAST = 0,
    FASTMPI_COLL_GATHER,
    FASTMPI_COLL_GATHERV,
    FASTMPI_COLL_SCATTER,
    FASTMPI_COLL_SCATTERV,
    FASTMPI_COLL_ALLGATHER,
    FASTMPI_COLL_ALLGATHERV,
    FASTMPI_COLL_ALLTOALL,
    FASTMPI_COLL_ALLTOALLV,
    FASTMPI_COLL_ALLTOALLW,
    FASTMPI_COLL_REDUCE,
    FASTMPI_COLL_ALLREDUCE,
    FASTMPI_COLL_REDUCE_SCATTER_BLOCK,
    FASTMPI_COLL_REDUCE_SCATTER,
    FASTMPI_COLL_SCAN,
    FASTMPI_COLL_EXSCAN,
    FASTMPI_COLL_COUNT,
};

typedef struct {
    fastmpi_msg s, r;           /* send and receive buffers */
    fastmpi_vmsg sv, rv;        /* vector variants: these instead */
    int sv_shared;              /* sv borrows rv's arrays (IN_PLACE) */
    int *counts;                /* PyMem or NULL: Reduce_scatter's */
    int root;
    FastMPIOpObject *op;        /* borrowed from the arguments, or NULL */
    MPI_Comm comm;
    int inter;                  /* comm is an intercommunicator */
    int rsize;                  /* its remote group's size (inter only) */
} fastmpi_coll;

/* Check and parse argv (from fastmpi_coll_args) for collective `which`;
 * errors name fname.  0, or -1 with an exception; either way the caller
 * calls fastmpi_coll_release(c). */
int fastmpi_coll_prepare(int which, FastMPICommObject *self,
                         PyObject **argv, const char *fname,
                         fastmpi_coll *c);
void fastmpi_coll_release(fastmpi_coll *c);
/* Parse a collective's arguments into argv[4] (the spec's names, those of
 * the blocking method, filled on first use).  0, or -1 with TypeError. */
int fastmpi_coll_args(int which, fastmpi_argspec *spec, PyObject *const *args,
                      Py_ssize_t nargs, PyObject *kwnames, PyObject **argv);
/* ValueError naming fname's 'root' unless 0 <= root < size. */
int fastmpi_coll_root_check(const char *fname, int root, int size);
/* vlarge.c: 1 if collective c takes MPI-4's _c functions (a vector with
 * lcounts); then fastmpi_vlarge_call makes the call (blocking when req is
 * NULL; no Python API) after fastmpi_vlarge_prepare (0 or -1 with
 * ValueError: gives the other vector 64-bit arrays too, refuses what the
 * library cannot do). */
static inline int
fastmpi_vlarge_is(const fastmpi_coll *c)
{
    return c->sv.lcounts != NULL || c->rv.lcounts != NULL;
}
int fastmpi_vlarge_prepare(int which, fastmpi_coll *c, const char *fname);
int fastmpi_vlarge_call(int which, fastmpi_coll *c, MPI_Request *req);

/* ---- intercomm.c: MPI.Intercomm, Intracomm.Create_intercomm ---------- */

int fastmpi_intercomm_init(PyObject *module);
extern PyMethodDef fastmpi_intracomm_methods[];  /* on Intracomm */
/* The remote group's size of an intercommunicator: 0 or -1. */
int fastmpi_comm_remote_size(FastMPICommObject *self, int *rsize);
/* ValueError naming fname's 'root' unless root is MPI.ROOT, MPI.PROC_NULL
 * or a rank of the remote group (0 to rsize - 1). */
int fastmpi_inter_root_check(const char *fname, int root, int rsize);

/* ---- method tables defined in one file, installed on a type in another -- */

extern PyMethodDef fastmpi_p2p_methods[];     /* p2p.c, on Comm */
extern PyMethodDef fastmpi_objp2p_methods[];  /* objp2p.c, on Comm */
extern PyMethodDef fastmpi_nbp2p_methods[];   /* nbp2p.c, on Comm */
extern PyMethodDef fastmpi_message_methods[]; /* message.c, on Comm */
extern PyMethodDef fastmpi_buffer_functions[]; /* p2p.c, module */
extern PyMethodDef fastmpi_coll_methods[];    /* coll.c, on Comm */
extern PyMethodDef fastmpi_objcoll_methods[]; /* objcoll.c, on Comm */
extern PyMethodDef fastmpi_icoll_methods[];   /* icoll.c, on Comm */

/* ---- topology.c, neighbor.c: process topologies ------------------------ */

int fastmpi_topology_init(PyObject *module);
/* The in- and out-degree of a communicator with a process topology (any
 * kind); with `in` non-NULL also its neighbour lists, in MPI's order, in
 * one new PyMem block at *in (*out points into it; PyMem_Free(*in)).
 * TypeError naming fname for a communicator without a topology. */
int fastmpi_topo_neighbors(FastMPICommObject *self, const char *fname,
                           int *indeg, int *outdeg, int **in, int **out);
extern PyMethodDef fastmpi_neighbor_methods[]; /* neighbor.c, on Topocomm */
/* topology.c's argument helpers, shared with cartcomm.c and graphcomm.c:
 * a sequence of ints (or of truth values, `want` of them; None: all
 * false) into a new PyMem array; an int argument; and
 * MPI_UNWEIGHTED (through a function: Open MPI's is ((int *)2), which GCC
 * takes for an empty array when passed straight to an int[] parameter).
 * Errors name fname/argname. */
int fastmpi_topo_int_seq(PyObject *obj, const char *fname,
                         const char *argname, int **out, int *n);
int fastmpi_topo_bool_seq(PyObject *obj, int want, const char *fname,
                          const char *argname, int **out);
int fastmpi_topo_int_arg(const char *fname, const char *argname,
                         PyObject *obj, int *out);
int *fastmpi_topo_unweighted(void);
/* The tables of cartcomm.c and graphcomm.c, for topology.c's types. */
extern PyMethodDef fastmpi_cartcomm_methods[];
extern PyGetSetDef fastmpi_cartcomm_getset[];
extern PyMethodDef fastmpi_graphcomm_methods[];
extern PyGetSetDef fastmpi_graphcomm_getset[];
extern PyMethodDef fastmpi_distgraphcomm_methods[];

/* ---- attr.c, errhandler.c, objmodel.c: attributes, error handlers and
 * what every handle object has (f2py, pickling, ...) -------------------- */

/* An exception a Python callback raised inside an MPI call, kept until
 * the call returns (per thread). */
typedef struct {
    PyObject *type, *value, *tb;
    int code;                   /* errhandler.c: the error code */
} fastmpi_pending;

/* With an exception set: keep it in p (a second one is printed as
 * unraisable, never lost). */
void fastmpi_pending_keep(fastmpi_pending *p, int code);
/* -1 with p's exception set (p emptied), or 0 if p holds none. */
int fastmpi_pending_restore(fastmpi_pending *p);

/* Around an MPI call that may run attribute callbacks (Dup, Free,
 * Set_attr, Delete_attr): begin(); call; end() returns -1 with the
 * exception a copy_fn or delete_fn raised meanwhile, else 0.  Callbacks
 * outside such a bracket print their exceptions as unraisable. */
void fastmpi_attr_begin(void);
int fastmpi_attr_end(void);

extern PyMethodDef fastmpi_attr_comm_methods[];       /* attr.c, on Comm */
extern PyMethodDef fastmpi_errhandler_comm_methods[]; /* errhandler.c */
int fastmpi_attr_init(PyObject *module);        /* after the types */
int fastmpi_errhandler_init(PyObject *module);
int fastmpi_objmodel_init(PyObject *module);    /* after every type */
/* errors.c calls this with each new MPI.Exception: an exception a Python
 * error handler raised for this error becomes its __cause__. */
void fastmpi_errhandler_attach(PyObject *exc, int ierr);
/* __reduce__ of a predefined object: "name" for MPI.<name> itself, else
 * (type(self), (MPI.<name>,)). */
PyObject *fastmpi_reduce_predefined(PyObject *self, const char *name);
/* f2py's check of what MPI_X_f2c returned (objmodel.c): 0, or -1 with
 * MPI.Exception(ERR_ARG) for the zero handle (an unknown Fortran index). */
/* objmodel.c: f2py()'s argument as an MPI_Fint (TypeError unless an int,
 * ValueError outside a Fortran int), once MPI is running: 0, or -1. */
int fastmpi_fint_arg(PyObject *arg, MPI_Fint *out);
int fastmpi_f2c_check(intptr_t handle, MPI_Fint f);

/* Whether a callback from MPI (maybe at MPI_Finalize) may still run
 * Python code. */
static inline int
fastmpi_python_alive(void)
{
#if PY_VERSION_HEX >= 0x030d0000
    return Py_IsInitialized() && !Py_IsFinalizing();
#else
    return Py_IsInitialized() && !_Py_IsFinalizing();
#endif
}

/* ---- group.c: MPI.Group; info.c: MPI.Info; commctor.c: new comms ------- */
typedef struct {
    PyObject_HEAD
    MPI_Group ob_mpi;
    int flags;                  /* FASTMPI_PREDEFINED: GROUP_EMPTY/NULL */
} FastMPIGroupObject;

extern int fastmpi_group_init(PyObject *module);
/* New reference: a Group object of `type` (fastmpi_st.Group, or a
 * subclass) that owns `g` (freed only by its Free()). */
PyObject *fastmpi_group_new(PyTypeObject *type, MPI_Group g, int flags);
/* Borrowed handle of a Group argument, or MPI_GROUP_NULL with TypeError
 * (not a Group) or MPI.Exception(ERR_GROUP) (GROUP_NULL, a freed group)
 * naming fname/argname. */
MPI_Group fastmpi_group_arg(PyObject *obj, const char *fname,
                            const char *argname);

typedef struct {
    PyObject_HEAD
    MPI_Info ob_mpi;
    int flags;                  /* FASTMPI_PREDEFINED: INFO_NULL/ENV */
} FastMPIInfoObject;

extern int fastmpi_info_init(PyObject *module);
/* New reference: an Info object of `type` owning `info`. */
PyObject *fastmpi_info_new(PyTypeObject *type, MPI_Info info, int flags);
/* The MPI_Info for an `info` argument: None or INFO_NULL -> MPI_INFO_NULL;
 * an Info -> its handle (borrowed); a mapping or an iterable of (key,
 * value) pairs of str -> a new MPI_Info holding them.  On error
 * MPI_INFO_NULL with an exception naming fname/argname (so check
 * PyErr_Occurred() when MPI_INFO_NULL comes back).  Every successful call
 * is paired with fastmpi_info_arg_release(obj, info), which frees the
 * MPI_Info made from a mapping. */
MPI_Info fastmpi_info_arg(PyObject *obj, const char *fname,
                          const char *argname);
void fastmpi_info_arg_release(PyObject *obj, MPI_Info info);

/* commctor.c: Create, Create_group, Split_type, Idup, ...; on Comm. */
extern PyMethodDef fastmpi_commctor_methods[];
/* New reference: a duplicate of self of the same type, with info's hints
 * when infoarg (an `info` argument, may be NULL or None) is given. */
PyObject *fastmpi_comm_dup(FastMPICommObject *self, PyObject *infoarg,
                           const char *fname);
/* Comm.group and Comm.info (getters in Comm's getset, comm.c). */
PyObject *fastmpi_comm_get_group(FastMPICommObject *self, void *closure);
PyObject *fastmpi_comm_get_info(FastMPICommObject *self, void *closure);
int fastmpi_comm_set_info(FastMPICommObject *self, PyObject *value,
                          void *closure);

/* environment.c: Init, Finalize, Wtime, versions ...; MPI start-up as
 * fastmpi.rc says, on import. */
int fastmpi_environment_init(PyObject *module);
/* constants.c: the integer constants and the BOTTOM / IN_PLACE markers. */
int fastmpi_constants_init(PyObject *module);

#endif /* FASTMPI_H */
