/* state.h: the module state of fastmpi.MPI (layer 0). */
#ifndef FASTMPI_STATE_H
#define FASTMPI_STATE_H

#include "fastmpi.h"

/* ---- the record types of the state's caches and tables ---------------
 *
 * Each belongs to the file named in its comment, which says how it is
 * used; they are here because the state holds them (and traverse and
 * clear below must see their references). */

/* trace.c: one MPI call, recorded while tracing is on. */
#define FASTMPI_TRACE_RING 4096
typedef struct {
    const char *name;
    MPI_Comm comm;
    int peer;
    int tag;
    Py_ssize_t bytes;
    double seconds;
    int ierr;
} fastmpi_trace_entry;

/* dtnumpy.c: a numpy type code and its predefined datatype. */
#define FASTMPI_CODES 40
typedef struct {
    const char *code;           /* fromcode/tocode: 'i' or 'i4' */
    char typechar;              /* numpy's character code */
    char kind;                  /* typestr kind: b i u f c S */
    MPI_Datatype handle;
} fastmpi_code_entry;

/* dtnumpy.c: the datatype made for a structured numpy dtype. */
#define FASTMPI_DESCR_CACHE 32
typedef struct {
    PyObject *descr;            /* owned */
    MPI_Datatype datatype;      /* committed, owned */
} fastmpi_descr_entry;

/* msgbuffer.c: the datatype of a numpy dtype (the ndarray fast path). */
#define FASTMPI_DTYPE_CACHE 16
typedef struct {
    PyObject *descr;            /* owned */
    MPI_Datatype datatype;
    Py_ssize_t itemsize;
} fastmpi_dtype_entry;

/* recvarea.c: a receive area: address space reserved for a message of
 * any size (pickle.h tells how irecv() uses them). */
#define FASTMPI_AREA_POOL 4
typedef struct {
    char *base;                 /* NULL: no area */
    size_t size;                /* reserved bytes, a multiple of the unit */
    size_t used;                /* bytes messages have written: resident */
} fastmpi_area;

/* staged.c: a temporary kept for the next reduction. */
#define FASTMPI_STAGED_POOL 2
typedef struct {
    char *block;                /* PyMem_Raw or NULL */
    size_t size;
} fastmpi_staged_block;

/* strided.c: the derived datatype of a strided view's layout. */
#define FASTMPI_STRIDED_CACHE 16
#define FASTMPI_STRIDED_RETIRED 64
typedef struct {
    MPI_Datatype type;          /* committed; MPI_DATATYPE_NULL: free */
    MPI_Datatype base;
    Py_ssize_t itemsize;
    int nd;
    int count;
    int hv;                     /* outer dimension as an hvector */
    Py_ssize_t *dims;           /* PyMem: shape[nd], then strides[nd] */
    unsigned long used;
} fastmpi_strided_entry;

/* op.c: the trampolines of Op.Create (one per user-defined op alive). */
#define FASTMPI_OP_SLOTS 32

/* attr.c: the context of a keyval fastmpi made, which MPI hands to its
 * copy and delete callbacks (attr.c tells how it is counted). */
typedef struct {
    PyObject *copy_fn;          /* owned: None, True, or a callable */
    PyObject *delete_fn;        /* owned: None or a callable */
    int keyval;
    int kind;                   /* ATTR_COMM, ATTR_TYPE */
    int nopython;               /* values are C integers, not objects */
    int freed;                  /* Free_keyval was called */
    Py_ssize_t refs;            /* 1 until freed, + 1 per attribute */
} fastmpi_keyval;

/* errhandler.c: the Python function of one error handler trampoline. */
#define FASTMPI_ERRH_SLOTS 64
typedef struct {
    MPI_Fint fhandle;           /* MPI_Errhandler_c2f of the handler */
    PyObject *fn;               /* owned, or NULL: a free slot */
} fastmpi_errh_slot;

/* request.c: the orphans are tested every FASTMPI_SWEEP_EVERY starts. */
#define FASTMPI_SWEEP_EVERY 64

/* ---- module state ------------------------------------------------------ */

/* The handle classes (1_handle/handle.h): each root class of a handle
 * kind (Comm, Datatype, ...) beside its descriptor, in the order the
 * classes were made; an entry's index picks its slot functions. */
typedef struct fastmpi_handle_kind fastmpi_handle_kind;
typedef struct {
    PyTypeObject *type;         /* borrowed: the module keeps the class */
    const fastmpi_handle_kind *kind;
} fastmpi_handle_entry;

#define FASTMPI_HANDLE_KINDS 16

/* All the module's mutable state, in the module object itself (m_size,
 * m_traverse, m_clear, m_free: module.c).  MPI is initialised once per
 * process, so the module is single-instance: module.c refuses a second
 * initialisation (a subinterpreter, or a re-import after deletion), and
 * fastmpi_st, set once by MPI_exec to PyModule_GetState(module), reaches
 * the state from every call without a per-call PyType_GetModuleByDef()
 * walk through the type's MRO (which hot paths cannot pay for).
 *
 * Every PyObject field is a strong reference (visited and cleared by
 * fastmpi_state_traverse/_clear) unless its comment says otherwise; so
 * are the keys of the caches.  Constant tables stay static.
 *
 * What else stays outside the state, and why (tests/system/
 * test_c_source.py checks that nothing more does):
 *  - fastmpi_st itself, and the three flags the hot paths read:
 *    fastmpi_mpi_active (state.c), fastmpi_trace_on (trace.c) and
 *    fastmpi_recv_guard (recvguard.c).  As fields they cost a load of
 *    fastmpi_st at reads where it is not at hand: +1 instruction per
 *    Send, +2 per Sendrecv (callgrind, MPICH);
 *  - the `static fastmpi_argspec spec` of methods: keyword names interned
 *    at the first call, constant after it;
 *  - `loaded` in MPI_exec: it refuses a second module instance, so it
 *    must outlive any one module object;
 *  - _Thread_local state of the MPI call in progress on a thread, which
 *    is per thread by design: the callback bracket and what a callback
 *    raised (callbacks.c), what an error handler raised (errhandler.c),
 *    a reduction's arguments being staged (staged.c);
 *  - coll.c's never_read: dummy addresses MPI is given but never reads. */
typedef struct {
    /* ---- the types and objects the layers share ---- */
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
    PyTypeObject *ForeignBuffer;    /* dlpack.c: DLPack and CAI memory */
    PyTypeObject *Op;
    PyTypeObject *Group;        /* group.c */
    PyTypeObject *Info;         /* info.c */
    PyObject *orphans;          /* list: pending requests nobody holds */
    unsigned sweep_countdown;   /* request.c: starts until orphans are
                                   tested (FASTMPI_SWEEP_EVERY) */
    PyTypeObject *Buffer;       /* membuffer.c: MPI.buffer */
    PyTypeObject *Win;          /* winfile.c */
    PyTypeObject *File;         /* winfile.c */
    PyObject *BOTTOM;           /* markers.c: the buffer markers */
    PyObject *IN_PLACE;
    PyObject *BUFFER_AUTOMATIC;
    PyObject *pickle_dumps;
    PyObject *pickle_loads;
    PyObject *PickleBuffer;
    PyObject *protocol;         /* int 5 */
    PyObject *kw_buffer_callback;   /* ("buffer_callback",) */
    PyObject *kw_buffers;           /* ("buffers",) */
    PyTypeObject *Pickle;       /* pickler.c */
    PyObject *pickle;           /* MPI.pickle: what lowercase calls use */
    PyObject *attached_buffer;  /* owned: the buffer of Attach_buffer */
    Py_buffer attached_view;
    fastmpi_error_hook_fn error_hook;   /* errhandler.c's, or NULL */
    /* grequest.c's, for request.c (Grequest is built on Request): raise
     * what a callback kept (-1) or 0; release the context. */
    int (*grequest_raise)(PyObject *req);
    void (*grequest_forget)(PyObject *req);
    fastmpi_handle_entry handles[FASTMPI_HANDLE_KINDS];    /* handle.c */
    int nhandles;
    int initialized_here;       /* we called MPI_Init*: finalise at exit */
    int finalize_at_exit;       /* rc.finalize: 1, 0, or -1 (None: if we
                                   initialised) */
    int errors_policy;          /* environment.c: rc.errors (0: raise) */
    int strided_buffers;        /* rc.strided: 1, non-contiguous buffers
                                 * are sent in place (strided.c); 0, they
                                 * raise BufferError, as in mpi4py */
    PyObject *added_errors;     /* errors.c: set of the error classes and
                                   codes Add_error_* made, or NULL */

    /* ---- 2_buffer: datatypes and numpy ---- */
    /* datatype.c: dict, handle int -> 2 * references held + committed */
    PyObject *live_refs;
    /* dtnumpy.c: the type codes (filled at init: MPI handles are not
     * constant expressions in Open MPI), and the datatypes of structured
     * dtypes, a ring */
    fastmpi_code_entry codes[FASTMPI_CODES];
    fastmpi_descr_entry descr_cache[FASTMPI_DESCR_CACHE];
    int descr_next;
    /* msgbuffer.c: numpy.ndarray once seen (owned), and the ring of
     * dtypes its fast path knows */
    PyTypeObject *ndarray_type;
    fastmpi_dtype_entry dtype_cache[FASTMPI_DTYPE_CACHE];
    int dtype_next;

    /* ---- 2_buffer: op.c ---- */
    /* borrowed: the Op of each trampoline, cleared when the Op dies (its
     * slot is given back then); so never traversed */
    PyObject *user_ops[FASTMPI_OP_SLOTS];
    PyObject *op_sum;           /* MPI.SUM: the default op */

    /* ---- 2_buffer: memory kept for the next message (no PyObject) ---- */
    /* recvarea.c: pooled receive areas, the unit datatype of receives
     * into them, how much to reserve, RecvAreas holding a whole area */
    fastmpi_area area_pool[FASTMPI_AREA_POOL];
    int area_npool;
    MPI_Datatype area_unit;
    size_t area_reserve;
    int area_live;
    /* staged.c: pooled temporaries of reductions on strided buffers */
    fastmpi_staged_block staged_pool[FASTMPI_STAGED_POOL];
    /* strided.c: the LRU cache of layouts (used: its clock), evicted types
     * not freed yet (a ring), the layout chosen (-1: the library's
     * default), and the parses that need the counted layout */
    fastmpi_strided_entry strided_cache[FASTMPI_STRIDED_CACHE];
    unsigned long strided_clock;
    MPI_Datatype strided_retired[FASTMPI_STRIDED_RETIRED];
    int strided_retired_next;
    int strided_hvector;
    int strided_counted;

    /* ---- 4_comm: attr.c, errhandler.c ---- */
    /* attr.c: the live keyval contexts (a handful, searched linearly);
     * MPI holds them too, so their functions are cleared only once MPI
     * has ended */
    fastmpi_keyval **keyvals;
    Py_ssize_t nkeyvals, capkeyvals;
    /* errhandler.c: the type, and the functions of the trampolines */
    PyTypeObject *Errhandler;
    fastmpi_errh_slot errh_slots[FASTMPI_ERRH_SLOTS];

    /* ---- 5_ops ---- */
    MPI_Op cell_op;             /* objcoll.c: allreduce's fast path */
    int *unweighted;            /* topology.c: MPI_UNWEIGHTED */

    /* ---- trace.c: the record of MPI calls (last: it is large) ---- */
    size_t trace_next;          /* records ever written (atomic: calls
                                   record without the GIL) */
    fastmpi_trace_entry trace_ring[FASTMPI_TRACE_RING];
} fastmpi_state;

extern fastmpi_state *fastmpi_st;

/* MPI_exec's first step, on the state Python zeroed: the fields that
 * start as something else (MPI's null handles are not 0). */
void fastmpi_state_init(fastmpi_state *st, PyObject *module);

/* module.c's m_traverse and m_clear: the state's references. */
int fastmpi_state_traverse(fastmpi_state *st, visitproc visit, void *arg);
void fastmpi_state_clear(fastmpi_state *st);

#endif /* FASTMPI_STATE_H */
