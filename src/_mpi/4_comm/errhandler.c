/* errhandler.c: MPI.Errhandler and the communicator methods about error
 * handlers (Get/Set/Call/Create_errhandler).
 *
 * Comm.Create_errhandler(fn) makes an MPI error handler whose C function
 * is one of FASTMPI_ERRH_SLOTS trampolines; slot i's trampoline calls
 * fastmpi_st->errh_slots[i].fn as fn(comm, errorcode) under the GIL.
 * (Asking MPI which handler a comm has from inside the handler is no way:
 * MPICH 4.0.2 asserts, its global lock being held.)  The MPI call still
 * returns its error, and the MPI.Exception fastmpi raises for it has fn's
 * exception, if fn raised, as __cause__ (Call_errhandler raises fn's
 * exception itself).
 *
 * MPI says nothing when it finally destroys a freed handler (comms may
 * still use it after Errhandler.Free), so a slot stays taken until MPI
 * gives a new handler the Fortran handle of the old one: then the old one
 * is gone.  Fortran handles, not C ones: Open MPI's C handle is the
 * object's address, reused only when malloc happens to give the memory
 * back (never under AddressSanitizer), while its Fortran handle is an
 * index freed when the object dies and handed out lowest first; MPICH's
 * two are the same int, off a free list.  So slots come back as soon as
 * new handlers need them: 64 is the limit of handlers alive at once.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "attr.h"
#include "comm.h"

typedef struct {
    PyObject_HEAD
    MPI_Errhandler ob_mpi;
    int flags;
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIErrhandlerObject;

/* The type: fastmpi_st->Errhandler; the slots (GIL held):
 * fastmpi_st->errh_slots. */

static _Thread_local fastmpi_pending errh_pending;

static PyObject *
errh_new(PyTypeObject *type, MPI_Errhandler h, int flags)
{
    FastMPIErrhandlerObject *self =
        (FastMPIErrhandlerObject *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->ob_mpi = h;
        self->flags = flags;
    }
    return (PyObject *)self;
}

/* Borrowed handle of an Errhandler argument, or -1 with TypeError. */
static int
errh_arg(PyObject *obj, const char *fname, MPI_Errhandler *out)
{
    if (!PyObject_TypeCheck(obj, fastmpi_st->Errhandler)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'errhandler' must be MPI.Errhandler, "
                     "not %.100s", fname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = ((FastMPIErrhandlerObject *)obj)->ob_mpi;
    return 0;
}

/* ---- the C function of Python error handlers ---------------------------- */

static void
errh_call(int slot, MPI_Comm *comm, int *code)
{
    if (!fastmpi_python_alive()) {
        return;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *fn = fastmpi_st->errh_slots[slot].fn;
    if (fn != NULL) {
        Py_INCREF(fn);
        MPI_Comm c = *comm;
        int pre = c == MPI_COMM_WORLD || c == MPI_COMM_SELF;
        PyObject *obj = fastmpi_comm_new(fastmpi_st->Comm, c,
                                         pre ? FASTMPI_PREDEFINED : 0);
        PyObject *res = obj ? PyObject_CallFunction(fn, "Oi", obj, *code)
                            : NULL;
        if (res == NULL) {
            fastmpi_pending_keep(&errh_pending, *code);
        }
        Py_XDECREF(res);
        Py_XDECREF(obj);
        Py_DECREF(fn);
    }
    PyGILState_Release(g);
}

#define TRAMPOLINE(n)                                                      \
    static void errh_fn_##n(MPI_Comm *comm, int *code, ...)                \
    {                                                                      \
        errh_call(n, comm, code);                                          \
    }
FASTMPI_SLOTS_64(TRAMPOLINE)
#undef TRAMPOLINE

#define TRAMPOLINE(n) errh_fn_##n,
static MPI_Comm_errhandler_function *const
    trampolines[FASTMPI_ERRH_SLOTS] = {
    FASTMPI_SLOTS_64(TRAMPOLINE)
};
#undef TRAMPOLINE

static void
attach_cause(PyObject *exc, int ierr)
{
    if (errh_pending.type == NULL) {
        return;
    }
    int code = errh_pending.code;
    int c1 = code, c2 = ierr;
    if (fastmpi_mpi_active) {
        MPI_Error_class(code, &c1);
        MPI_Error_class(ierr, &c2);
    }
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);       /* keep whatever is being raised */
    fastmpi_pending_restore(&errh_pending);
    if (code == ierr || c1 == c2) {
        PyObject *pt, *pv, *ptb;
        PyErr_Fetch(&pt, &pv, &ptb);
        PyException_SetCause(exc, pv);     /* steals pv */
        Py_XDECREF(pt);
        Py_XDECREF(ptb);
    }
    else {
        PyErr_WriteUnraisable(NULL);   /* some other call's error */
    }
    PyErr_Restore(t, v, tb);
}

/* ---- Errhandler --------------------------------------------------------- */

static PyObject *
Errhandler_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"errhandler", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Errhandler", kwlist,
                                     &other)) {
        return NULL;
    }
    MPI_Errhandler h = MPI_ERRHANDLER_NULL;
    if (other != NULL && other != Py_None &&
        errh_arg(other, "Errhandler", &h) < 0) {
        return NULL;
    }
    return errh_new(type, h, 0);
}

static void
Errhandler_dealloc(PyObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIErrhandlerObject);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
Errhandler_Free(FastMPIErrhandlerObject *self, PyObject *unused)
{
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (self->flags & FASTMPI_PREDEFINED) {
        return fastmpi_error_raise_detail(
            MPI_ERR_ARG, "Free(): a predefined error handler (%R) cannot "
            "be freed", (PyObject *)self);
    }
    if (self->ob_mpi == MPI_ERRHANDLER_NULL) {
        return fastmpi_error_raise_detail(
            MPI_ERR_ARG, "Free(): the error handler is ERRHANDLER_NULL");
    }
    if (fastmpi_check(MPI_Errhandler_free(&self->ob_mpi)) < 0) {
        return NULL;
    }
    self->ob_mpi = MPI_ERRHANDLER_NULL;
    Py_RETURN_NONE;
}

/* MPI-4's ERRORS_ABORT (abort the communicator's processes) is, on an
 * MPI-3 library (Open MPI 4.1), ERRORS_ARE_FATAL (abort them all), as
 * rc.errors = 'abort' is there: listed after it, so that repr and pickle
 * name that handle ERRORS_ARE_FATAL. */
static const fastmpi_handle_name errh_names[] = {
    FASTMPI_HANDLE_NAME(ERRHANDLER_NULL),
    FASTMPI_HANDLE_NAME(ERRORS_RETURN),
#ifdef MPI_ERRORS_ABORT
    FASTMPI_HANDLE_NAME(ERRORS_ABORT),
#endif
    FASTMPI_HANDLE_NAME(ERRORS_ARE_FATAL),
#ifndef MPI_ERRORS_ABORT
    {"ERRORS_ABORT", FASTMPI_HANDLE_TO_INT(MPI_ERRORS_ARE_FATAL)},
#endif
    {NULL},
};

FASTMPI_HANDLE_CONVERTERS(errh, Errhandler, MPI_Errhandler, 0)
FASTMPI_HANDLE_SLOTS(errh_kind, fastmpi_st->Errhandler)

static const fastmpi_handle_kind errh_kind = {
    .name = "Errhandler",
    .size = sizeof(MPI_Errhandler),
    .offset = offsetof(FastMPIErrhandlerObject, ob_mpi),
    .flags_offset = offsetof(FastMPIErrhandlerObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_ERRHANDLER_NULL),
    .names = errh_names,
    .local = "only the predefined error handlers pickle; a user error "
             "handler is local to its process",
    .c2f = errh_c2f,
    .f2c = errh_f2c,
    .toint = errh_toint,
    .fromint = errh_fromint,
    .free = (PyCFunction)Errhandler_Free,
    .slots = errh_kind_slots,
};

/* Not the handle base's repr: a predefined one has no address. */
static PyObject *
Errhandler_repr(FastMPIErrhandlerObject *self)
{
    const char *name = fastmpi_handle_name_of(
        &errh_kind, FASTMPI_HANDLE_TO_INT(self->ob_mpi));
    if (name != NULL) {
        return PyUnicode_FromFormat("<%s %s>", Py_TYPE(self)->tp_name, name);
    }
    return PyUnicode_FromFormat("<%s at %p>", Py_TYPE(self)->tp_name, self);
}

static PyMethodDef Errhandler_methods[] = {
    {"Free", (PyCFunction)Errhandler_Free, METH_NOARGS,
     "Free($self)\n--\n\n"
     "Free(): free the error handler (it becomes ERRHANDLER_NULL)."},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Errhandler_members, FastMPIErrhandlerObject);

static PyType_Slot Errhandler_slots[] = {
    {Py_tp_members, Errhandler_members},
    {Py_tp_doc, "Errhandler(errhandler=None)\n--\n\n"
                "Errhandler(errhandler=None): an MPI error handler."},
    {Py_tp_new, Errhandler_tp_new},
    {Py_tp_dealloc, Errhandler_dealloc},
    {Py_tp_repr, Errhandler_repr},
    {Py_tp_methods, Errhandler_methods},
    {0, NULL},
};

static PyType_Spec Errhandler_spec = {
    .name = "fastmpi.MPI.Errhandler",
    .basicsize = sizeof(FastMPIErrhandlerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Errhandler_slots,
};

/* ---- Comm methods ------------------------------------------------------- */

static PyObject *
Comm_Get_errhandler(FastMPICommObject *self, PyObject *unused)
{
    MPI_Errhandler h = MPI_ERRHANDLER_NULL;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_get_errhandler(self->ob_mpi, &h)) < 0) {
        return NULL;
    }
    PyObject *obj = errh_new(fastmpi_st->Errhandler, h, 0);
    if (obj == NULL) {
        int ierr = MPI_Errhandler_free(&h);    /* MemoryError reported */
        (void)ierr;
    }
    return obj;
}

static PyObject *
Comm_Set_errhandler(FastMPICommObject *self, PyObject *arg)
{
    MPI_Errhandler h;
    if (errh_arg(arg, "Set_errhandler", &h) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    if (h == MPI_ERRHANDLER_NULL) {
        return fastmpi_error_raise_detail(
            MPI_ERR_ARG, "Set_errhandler(): ERRHANDLER_NULL is not an error "
            "handler");
    }
    if (fastmpi_check(MPI_Comm_set_errhandler(self->ob_mpi, h)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Comm_Call_errhandler(FastMPICommObject *self, PyObject *arg)
{
    if (!PyLong_Check(arg)) {
        return PyErr_Format(PyExc_TypeError,
                            "Call_errhandler() argument 'errorcode' must be "
                            "int, not %.100s", Py_TYPE(arg)->tp_name);
    }
    int overflow = 0;
    long code = PyLong_AsLongAndOverflow(arg, &overflow);
    if (code == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow || code < INT_MIN || code > INT_MAX) {
        return PyErr_Format(PyExc_OverflowError,
                            "Call_errhandler() argument 'errorcode' is out "
                            "of the range of a C int");
    }
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    fastmpi_pending_restore(&errh_pending);     /* a stale one: */
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(NULL);
    }
    int ierr;
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_Comm_call_errhandler(self->ob_mpi, (int)code);
    FASTMPI_NOGIL_END
    if (fastmpi_pending_restore(&errh_pending) < 0) {
        return NULL;            /* the handler's own exception */
    }
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
free_slot(void)
{
    const fastmpi_errh_slot *slots = fastmpi_st->errh_slots;
    int slot = 0;
    while (slot < FASTMPI_ERRH_SLOTS && slots[slot].fn != NULL) {
        slot++;
    }
    return slot;
}

/* MPI gave a new handler Fortran handle fh: a slot holding fh belonged to
 * a handler MPI has destroyed. */
static void
reclaim(MPI_Fint fh)
{
    fastmpi_errh_slot *slots = fastmpi_st->errh_slots;
    for (int i = 0; i < FASTMPI_ERRH_SLOTS; i++) {
        if (slots[i].fn != NULL && slots[i].fhandle == fh) {
            Py_CLEAR(slots[i].fn);
        }
    }
}

/* The C function of the probe handler, never set on a communicator. */
static void
errh_probe(MPI_Comm *comm, int *code, ...)
{
}

static PyObject *
Comm_Create_errhandler(PyObject *cls, PyObject *arg)
{
    if (!PyCallable_Check(arg)) {
        return PyErr_Format(PyExc_TypeError,
                            "Create_errhandler() argument 'errhandler_fn' "
                            "must be callable, not %.100s",
                            Py_TYPE(arg)->tp_name);
    }
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    int slot = free_slot();
    if (slot == FASTMPI_ERRH_SLOTS) {
        /* every slot taken: a handler made and freed at once tells which
         * Fortran handle is free, and so which taken slot's handler is
         * gone */
        MPI_Errhandler probe = MPI_ERRHANDLER_NULL;
        if (fastmpi_check(MPI_Comm_create_errhandler(errh_probe, &probe)) <
            0) {
            return NULL;
        }
        reclaim(MPI_Errhandler_c2f(probe));
        if (fastmpi_check(MPI_Errhandler_free(&probe)) < 0) {
            return NULL;
        }
        slot = free_slot();
    }
    if (slot == FASTMPI_ERRH_SLOTS) {
        return fastmpi_error_raise_detail(
            MPI_ERR_OTHER, "Create_errhandler(): %d Python error handlers "
            "are alive already (communicators may still use freed ones)",
            FASTMPI_ERRH_SLOTS);
    }
    MPI_Errhandler h = MPI_ERRHANDLER_NULL;
    if (fastmpi_check(MPI_Comm_create_errhandler(trampolines[slot], &h)) <
        0) {
        return NULL;
    }
    PyObject *obj = errh_new(fastmpi_st->Errhandler, h, 0);
    if (obj == NULL) {
        int ierr = MPI_Errhandler_free(&h);    /* MemoryError reported */
        (void)ierr;
        return NULL;
    }
    MPI_Fint fh = MPI_Errhandler_c2f(h);
    reclaim(fh);
    fastmpi_st->errh_slots[slot].fhandle = fh;
    fastmpi_st->errh_slots[slot].fn = Py_NewRef(arg);
    return obj;
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Comm_Set_errhandler, "Set_errhandler", "errhandler")
FASTMPI_ONE_ARG(Comm_Call_errhandler, "Call_errhandler", "errorcode")
FASTMPI_ONE_ARG(Comm_Create_errhandler, "Create_errhandler", "errhandler_fn")

PyMethodDef fastmpi_errhandler_comm_methods[] = {
    {"Get_errhandler", (PyCFunction)Comm_Get_errhandler, METH_NOARGS,
     "Get_errhandler($self)\n--\n\n"
     "Get_errhandler() -> a new Errhandler for the communicator's error "
     "handler (Free it when done)."},
    {"Set_errhandler", FASTMPI_FASTCALL(Comm_Set_errhandler_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Set_errhandler($self, errhandler)\n--\n\n"
     "Set_errhandler(errhandler): the communicator's error handler."},
    {"Call_errhandler", FASTMPI_FASTCALL(Comm_Call_errhandler_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Call_errhandler($self, errorcode)\n--\n\n"
     "Call_errhandler(errorcode): call the communicator's error handler."},
    {"Create_errhandler", FASTMPI_FASTCALL(Comm_Create_errhandler_kw),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "Create_errhandler($cls, errhandler_fn)\n--\n\n"
     "Create_errhandler(errhandler_fn) -> Errhandler calling "
     "errhandler_fn(comm, errorcode) on an error."},
    {NULL},
};

static int
add_predefined(PyObject *module, const char *name, MPI_Errhandler h)
{
    PyObject *obj = errh_new(fastmpi_st->Errhandler, h, FASTMPI_PREDEFINED);
    if (obj == NULL) {
        return -1;
    }
    int r = PyModule_AddObjectRef(module, name, obj);
    Py_DECREF(obj);
    return r;
}

int
fastmpi_errhandler_init(PyObject *module)
{
    PyObject *type = (PyObject *)fastmpi_handle_type_new(
        module, &Errhandler_spec, &errh_kind, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Errhandler = (PyTypeObject *)type;  /* owned by the state */
    fastmpi_set_error_hook(attach_cause);
    if (PyModule_AddObjectRef(module, "Errhandler", type) < 0) {
        return -1;
    }
    for (const fastmpi_handle_name *n = errh_names; n->name != NULL; n++) {
        if (add_predefined(module, n->name, (MPI_Errhandler)n->handle) < 0) {
            return -1;
        }
    }
    return 0;
}
