/* fastmpi.h: the core header of fastmpi.MPI (layer 0), included first by
 * every .c file: Python and MPI, the vendor differences (compat.h), the
 * handle flags, the GIL macros, the one error check, the trace hook, the
 * argument parser and the callback bracket.  Each area's own declarations
 * are in the header of its layer folder (docs/architecture.md).
 *
 * Every name here is hidden (-fvisibility=hidden); only PyInit_MPI is
 * exported.  Cross-file internals are named fastmpi_<area>_<verb>.
 */
#ifndef FASTMPI_H
#define FASTMPI_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>   /* T_PYSSIZET, READONLY */
#include <stddef.h>         /* offsetof */
#include <mpi.h>

#include "compat.h"

/* ---- handle flags ------------------------------------------------------ */

enum {
    FASTMPI_PREDEFINED = 1,     /* a predefined handle: never freed */
    FASTMPI_INTER = 2,          /* Comm: an intercommunicator (set once, at
                                   creation, so collectives test a bit) */
};

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
 * freed request waited on, ...), with a printf-style detail appended to the
 * MPI library's text.  Always returns NULL. */
PyObject *fastmpi_error_raise_detail(int errclass, const char *fmt, ...);

/* 1 between MPI initialisation and finalisation.  Both libraries kill the
 * process when most MPI functions are called outside that window, so every
 * path into MPI checks it first (state.c holds it, environment.c sets it). */
extern int fastmpi_mpi_active;

/* 0, or -1 with MPI.Exception(ERR_OTHER) saying MPI is not initialised or
 * already finalised. */
int fastmpi_require_mpi_slow(void);
/* NULL with NotImplementedError: fname needs MPI-version.subversion, and
 * names the library's vendor and MPI version. */
PyObject *fastmpi_not_available(const char *fname, int version,
                                int subversion);
/* -1 with MPI.Exception(ERR_OTHER) carrying `why` as a note (its text
 * cannot come from the MPI library, which cannot be asked now). */
int fastmpi_error_raise_state(const char *why);

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

/* The hook errors.c runs on each new MPI.Exception (exc, its error code):
 * errhandler.c (layer 4) registers one at init, so that an exception a
 * Python error handler raised for this error becomes its __cause__.  The
 * error path itself never calls upward. */
typedef void (*fastmpi_error_hook_fn)(PyObject *exc, int ierr);
void fastmpi_set_error_hook(fastmpi_error_hook_fn hook);

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

/* A one-argument function written for METH_O that takes its argument by
 * keyword too: FASTMPI_ONE_ARG(Comm_Set_name, "Set_name", "name") defines
 * Comm_Set_name_kw, for a METH_FASTCALL | METH_KEYWORDS entry; a call
 * with one positional argument goes straight through.  (impl is called
 * through the PyCFunction type, as CPython calls a METH_O function.) */
#define FASTMPI_ONE_ARG(impl, fname, argname)                              \
    static PyObject *                                                      \
    impl##_kw(PyObject *self, PyObject *const *args, Py_ssize_t nargs,     \
              PyObject *kwnames)                                           \
    {                                                                      \
        static const char *const names_[] = {argname, NULL};               \
        static fastmpi_argspec spec_ = {fname, names_, 1, 0, NULL};        \
        PyObject *arg_ = NULL;                                             \
        if (Py_LIKELY(kwnames == NULL && nargs == 1)) {                    \
            arg_ = args[0];                                                \
        }                                                                  \
        else if (fastmpi_parse_args(&spec_, args, nargs, kwnames,          \
                                    &arg_) < 0) {                          \
            return NULL;                                                   \
        }                                                                  \
        PyCFunction f_ = (PyCFunction)(void (*)(void))impl;                \
        return f_(self, arg_);                                             \
    }

/* Converters: obj may be NULL (argument not given): then *out = dflt.
 * Errors name the function and the argument. */
int fastmpi_arg_int(fastmpi_argspec *spec, int index, PyObject *obj,
                    int dflt, int *out);
/* And the other way: a new list of the n C ints at v (NULL on error). */
PyObject *fastmpi_int_list(const int *v, int n);

/* ---- typespec.c: types made whole from their specs -------------------- */

/* The method and getter tables a type takes from other files (the
 * operations on Comm, ...), handed over by module.c: NULL-terminated lists
 * of tables, either may be NULL. */
typedef struct {
    PyMethodDef *const *methods;
    PyGetSetDef *const *getset;
} fastmpi_type_parts;

/* New reference: the immutable type of `spec` with module as its module,
 * base as its base (or NULL), its own tables first and then those of
 * parts (may be NULL).  NULL with an exception. */
PyTypeObject *fastmpi_type_new(PyObject *module, const PyType_Spec *spec,
                               PyObject *base,
                               const fastmpi_type_parts *parts);

/* ---- weak references ---------------------------------------------------
 *
 * Every class of MPI objects takes weak references, as mpi4py's do: its
 * struct ends with `PyObject *weaklist`, its spec has the slot
 * {Py_tp_members, name} of FASTMPI_WEAKLIST_MEMBERS(name, struct), and its
 * dealloc calls FASTMPI_WEAKLIST_CLEAR(self, struct) before freeing. */
#define FASTMPI_WEAKLIST_MEMBERS(name, type)                               \
    static PyMemberDef name[] = {                                          \
        {"__weaklistoffset__", T_PYSSIZET, offsetof(type, weaklist),       \
         READONLY, NULL},                                                  \
        {NULL, 0, 0, 0, NULL},                                             \
    }
#define FASTMPI_WEAKLIST_CLEAR(self, type)                                 \
    do {                                                                   \
        if (((type *)(self))->weaklist != NULL) {                          \
            PyObject_ClearWeakRefs((PyObject *)(self));                    \
        }                                                                  \
    } while (0)

/* ---- callbacks that run inside MPI calls ----------------------------- */

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
void fastmpi_callbacks_begin(void);
int fastmpi_callbacks_end(void);
/* In a callback, with its exception set: keep it for the bracketing call,
 * or print it as unraisable when no bracket is open. */
void fastmpi_callback_failed(void);

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

#endif /* FASTMPI_H */
