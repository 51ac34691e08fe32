/* grequest.c: MPI.Grequest, generalized requests: an operation the
 * program itself carries out and completes with Complete().
 *
 * MPI calls three C callbacks; each takes the GIL (MPI may call them from
 * a wait that released it) and calls the Python function given to Start()
 * with args and kwargs.  An exception in one is kept in the context and
 * raised by the wait or test that completed the request; the callback
 * still tells MPI it succeeded.  (Returning an error class from a query_fn
 * leaves MPICH 4.0.2 answering every later error of the process with a
 * bare MPI_ERR_OTHER, after about 60 of them.)
 *
 * The context is shared by MPI (until it calls free_fn) and the Grequest
 * object (until it is deallocated): a count of two owners.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "request.h"

typedef struct {
    PyObject *query, *free, *cancel;    /* owned, or None */
    PyObject *args, *kwargs;            /* owned: tuple, dict or NULL */
    PyObject *exc_type, *exc_value, *exc_tb;
    int owners;
    int completed;                      /* Complete() was called */
} greq_ctx;

static void
ctx_release(greq_ctx *ctx)
{
    if (--ctx->owners > 0) {
        return;
    }
    Py_XDECREF(ctx->query);
    Py_XDECREF(ctx->free);
    Py_XDECREF(ctx->cancel);
    Py_XDECREF(ctx->args);
    Py_XDECREF(ctx->kwargs);
    Py_XDECREF(ctx->exc_type);
    Py_XDECREF(ctx->exc_value);
    Py_XDECREF(ctx->exc_tb);
    PyMem_RawFree(ctx);
}

/* Keep the exception being raised for the wait (the first one wins). */
static void
keep_exception(greq_ctx *ctx)
{
    if (ctx->exc_type == NULL) {
        PyErr_Fetch(&ctx->exc_type, &ctx->exc_value, &ctx->exc_tb);
    }
    else {
        PyErr_Clear();
    }
}

/* Call fn(*first, *args, **kwargs): 0, or -1 if it raised (kept). */
static int
call(greq_ctx *ctx, PyObject *fn, PyObject *first)
{
    if (fn == Py_None) {
        return 0;
    }
    PyObject *head = first ? PyTuple_Pack(1, first) : PyTuple_New(0);
    PyObject *all = NULL, *res = NULL;
    if (head != NULL) {
        all = ctx->args ? PySequence_Concat(head, ctx->args)
                        : Py_NewRef(head);
    }
    if (all != NULL) {
        res = PyObject_Call(fn, all, ctx->kwargs);
    }
    Py_XDECREF(head);
    Py_XDECREF(all);
    if (res == NULL) {
        keep_exception(ctx);
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* The callbacks tell MPI they succeeded even when the Python function
 * raised: the wait raises its exception (see above). */
static int
query_cb(void *extra, MPI_Status *status)
{
    greq_ctx *ctx = extra;
    PyGILState_STATE g = PyGILState_Ensure();
    /* default: an empty, not cancelled status */
    if (MPI_Status_set_elements(status, MPI_BYTE, 0) != MPI_SUCCESS ||
        MPI_Status_set_cancelled(status, 0) != MPI_SUCCESS) {
        PyGILState_Release(g);
        return MPI_ERR_OTHER;
    }
    status->MPI_SOURCE = MPI_ANY_SOURCE;
    status->MPI_TAG = MPI_ANY_TAG;
    if (ctx->query != Py_None) {
        PyObject *st = PyObject_CallNoArgs((PyObject *)fastmpi_st->Status);
        if (st == NULL) {
            keep_exception(ctx);
        }
        else {
            MPI_Status *s = &((FastMPIStatusObject *)st)->ob_mpi;
            *s = *status;
            if (call(ctx, ctx->query, st) == 0) {
                int saved = status->MPI_ERROR;
                *status = *s;
                status->MPI_ERROR = saved;
            }
            Py_DECREF(st);
        }
    }
    PyGILState_Release(g);
    return MPI_SUCCESS;
}

static int
free_cb(void *extra)
{
    greq_ctx *ctx = extra;
    PyGILState_STATE g = PyGILState_Ensure();
    call(ctx, ctx->free, NULL);
    ctx_release(ctx);
    PyGILState_Release(g);
    return MPI_SUCCESS;
}

static int
cancel_cb(void *extra, int complete)
{
    greq_ctx *ctx = extra;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *flag = PyBool_FromLong(complete);
    call(ctx, ctx->cancel, flag);
    Py_DECREF(flag);
    PyGILState_Release(g);
    return MPI_SUCCESS;
}

static int
raise_pending(PyObject *obj)
{
    FastMPIRequestObject *req = (FastMPIRequestObject *)obj;
    greq_ctx *ctx = req->greq;
    if (ctx == NULL || ctx->exc_type == NULL) {
        return 0;
    }
    PyErr_Restore(ctx->exc_type, ctx->exc_value, ctx->exc_tb);
    ctx->exc_type = ctx->exc_value = ctx->exc_tb = NULL;
    return -1;
}

static int
callable_or_none(PyObject *obj, const char *name)
{
    if (obj != Py_None && !PyCallable_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "Grequest.Start() argument '%s' must "
                     "be callable or None, not %.100s", name,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *
Grequest_Start(PyObject *cls, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames)
{
    static const char *const names[] = {"query_fn", "free_fn", "cancel_fn",
                                        "args", "kwargs", NULL};
    static fastmpi_argspec spec = {"Start", names, 3};
    PyObject *argv[5];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        if (callable_or_none(argv[i], names[i]) < 0) {
            return NULL;
        }
    }
    PyObject *fargs = NULL, *fkwargs = NULL;
    if (argv[3] != NULL && argv[3] != Py_None) {
        if (!PyTuple_Check(argv[3]) && !PyList_Check(argv[3])) {
            return PyErr_Format(PyExc_TypeError, "Grequest.Start() argument "
                                "'args' must be a tuple or list, not %.100s",
                                Py_TYPE(argv[3])->tp_name);
        }
        if ((fargs = PySequence_Tuple(argv[3])) == NULL) {
            return NULL;
        }
    }
    if (argv[4] != NULL && argv[4] != Py_None) {
        if (!PyDict_Check(argv[4])) {
            Py_XDECREF(fargs);
            return PyErr_Format(PyExc_TypeError, "Grequest.Start() argument "
                                "'kwargs' must be a dict, not %.100s",
                                Py_TYPE(argv[4])->tp_name);
        }
        fkwargs = PyDict_Copy(argv[4]);
        if (fkwargs == NULL) {
            Py_XDECREF(fargs);
            return NULL;
        }
    }
    greq_ctx *ctx = PyMem_RawCalloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        Py_XDECREF(fargs);
        Py_XDECREF(fkwargs);
        return PyErr_NoMemory();
    }
    ctx->query = Py_NewRef(argv[0]);
    ctx->free = Py_NewRef(argv[1]);
    ctx->cancel = Py_NewRef(argv[2]);
    ctx->args = fargs;
    ctx->kwargs = fkwargs;
    ctx->owners = 1;
    PyTypeObject *type = PyType_Check(cls) &&
        PyType_IsSubtype((PyTypeObject *)cls, fastmpi_st->Grequest)
        ? (PyTypeObject *)cls : fastmpi_st->Grequest;
    FastMPIRequestObject *req = fastmpi_request_new(type);
    if (req == NULL) {
        ctx_release(ctx);
        return NULL;
    }
    req->kind = FASTMPI_REQ_GREQUEST;
    req->greq = ctx;
    int ierr = MPI_Grequest_start(query_cb, free_cb, cancel_cb, ctx,
                                  &req->ob_mpi);
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    ctx->owners++;      /* MPI's, given back in free_cb */
    return fastmpi_request_started(req);
}

static PyObject *
Grequest_Complete(FastMPIRequestObject *self, PyObject *unused)
{
    self = fastmpi_request_target(self);
    greq_ctx *ctx = self->greq;
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (ctx == NULL || self->ob_mpi == MPI_REQUEST_NULL) {
        return fastmpi_error_raise_detail(
            MPI_ERR_REQUEST, "Complete(): not a pending generalized "
            "request");
    }
    if (ctx->completed) {
        return fastmpi_error_raise_detail(
            MPI_ERR_REQUEST, "Complete(): the request was already "
            "completed");
    }
    if (fastmpi_check(MPI_Grequest_complete(self->ob_mpi)) < 0) {
        return NULL;
    }
    ctx->completed = 1;
    Py_RETURN_NONE;
}

/* complete(obj=None): Complete(), and obj is what wait() returns. */
static PyObject *
Grequest_complete(FastMPIRequestObject *self, PyObject *const *args,
                  Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"obj", NULL};
    static fastmpi_argspec spec = {"complete", names, 0};
    PyObject *obj;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, &obj) < 0) {
        return NULL;
    }
    FastMPIRequestObject *target = fastmpi_request_target(self);
    PyObject *r = Grequest_Complete(self, NULL);
    if (r != NULL && obj != NULL && obj != Py_None) {
        Py_XSETREF(target->value, Py_NewRef(obj));
    }
    return r;
}

static void
forget(PyObject *obj)
{
    FastMPIRequestObject *req = (FastMPIRequestObject *)obj;
    if (req->greq != NULL) {
        ctx_release(req->greq);
        req->greq = NULL;
    }
}

static PyMethodDef Grequest_methods[] = {
    {"Start", FASTMPI_FASTCALL(Grequest_Start),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "Start($cls, query_fn=None, free_fn=None, cancel_fn=None, args=None, "
     "kwargs=None)\n--\n\n"
     "Start(query_fn, free_fn, cancel_fn, args=None, kwargs=None) -> "
     "Grequest"},
    {"Complete", (PyCFunction)Grequest_Complete, METH_NOARGS,
     "Complete($self)\n--\n\n"
     "Complete(): the operation is done; a wait on it can return."},
    {"complete", FASTMPI_FASTCALL(Grequest_complete),
     METH_FASTCALL | METH_KEYWORDS,
     "complete($self, obj=None)\n--\n\n"
     "complete(obj=None): as Complete; wait() then returns obj."},
    {NULL},
};

static PyType_Slot Grequest_slots[] = {
    {Py_tp_doc, "Grequest(request=None)\n--\n\n"
                "A generalized request, completed by the program."},
    {Py_tp_methods, Grequest_methods},
    {0, NULL},
};

static PyType_Spec Grequest_spec = {
    .name = "fastmpi.MPI.Grequest",
    .basicsize = sizeof(FastMPIRequestObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Grequest_slots,
};

int
fastmpi_grequest_init(PyObject *module)
{
    PyObject *type = (PyObject *)fastmpi_type_new(
        module, &Grequest_spec, (PyObject *)fastmpi_st->Request, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Grequest = (PyTypeObject *)type;     /* owned by the state */
    fastmpi_st->grequest_raise = raise_pending;
    fastmpi_st->grequest_forget = forget;
    return PyModule_AddObjectRef(module, "Grequest", type);
}
