/* request.c: MPI.Request and MPI.Prequest: one request's life.
 *
 * States (fastmpi.h): NULL -> ACTIVE -> DONE for a nonblocking call;
 * INACTIVE <-> ACTIVE for a persistent one; FREED after Free().  The rules
 * the user sees:
 *   - Wait on a request an earlier wait or test completed, on an inactive
 *     persistent request, or on a freed one raises MPI.Exception
 *     (ERR_REQUEST): a second wait is a bug that MPI would hide.  Test on
 *     a completed request answers True, as MPI does; REQUEST_NULL and
 *     Request() complete at once.  Lists (requestlist.c) take completed
 *     requests as null entries, so Waitsome loops work.
 *   - Everything a request uses stays referenced until MPI has completed
 *     it.  A pending request that loses its last reference, or is freed by
 *     the user, moves to fastmpi_st->orphans; the orphans are tested now
 *     and then and dropped when complete.
 *   - A request waited on without the GIL is marked busy, so another
 *     thread cannot wait on the same handle meanwhile.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/op.h"
#include "../2_buffer/pickle.h"
#include "request.h"

/* ---- holding and releasing ---------------------------------------------- */

static void
release_held(FastMPIRequestObject *req, int keep_result)
{
    for (int i = 0; i < req->nmsg; i++) {
        if (keep_result && i == 0 && req->kind == FASTMPI_REQ_OBJRECV) {
            continue;   /* an object received into the caller's buffer */
        }
        fastmpi_msg_release(&req->msg[i]);
    }
    if (!keep_result) {
        req->nmsg = 0;
        fastmpi_area_give(&req->area);
        Py_CLEAR(req->bytes);
        req->received = -1;
    }
    if (req->pickled != NULL) {
        fastmpi_pickled_release(req->pickled);
        PyMem_Free(req->pickled);
        req->pickled = NULL;
    }
    Py_CLEAR(req->keep);
    if (req->mem != NULL) {
        PyMem_Free(req->mem);
        req->mem = NULL;
    }
}

FastMPIRequestObject *
fastmpi_request_new(PyTypeObject *type)
{
    FastMPIRequestObject *req =
        (FastMPIRequestObject *)type->tp_alloc(type, 0);
    if (req != NULL) {
        req->ob_mpi = MPI_REQUEST_NULL;
        req->received = -1;
        req->capacity = -1;
    }
    return req;
}

int
fastmpi_request_keep(FastMPIRequestObject *req, PyObject *obj)
{
    if (req->keep == NULL) {
        req->keep = Py_NewRef(obj);
        return 0;
    }
    if (!PyList_CheckExact(req->keep)) {
        PyObject *list = PyList_New(1);
        if (list == NULL) {
            return -1;
        }
        PyList_SET_ITEM(list, 0, req->keep);    /* steals */
        req->keep = list;
    }
    return PyList_Append(req->keep, obj);
}

PyObject *
fastmpi_request_started(FastMPIRequestObject *req)
{
    req->state = req->persistent ? FASTMPI_REQ_INACTIVE : FASTMPI_REQ_ACTIVE;
    fastmpi_state *st = fastmpi_st;
    if (Py_UNLIKELY(--st->sweep_countdown == 0)) {
        st->sweep_countdown = FASTMPI_SWEEP_EVERY;
        if (PyList_GET_SIZE(st->orphans) > 0) {
            fastmpi_request_sweep();
        }
    }
    return (PyObject *)req;
}

void
fastmpi_request_complete(FastMPIRequestObject *req, MPI_Status *st,
                         int want_result)
{
    if (req->procnull && st != NULL) {
        /* MPICH 4.0.2 gives source 0, tag 0 (Irecv) or ANY_SOURCE
         * (Recv_init): the standard says PROC_NULL, ANY_TAG, empty */
        st->MPI_SOURCE = MPI_PROC_NULL;
        st->MPI_TAG = MPI_ANY_TAG;
        if (MPI_Status_set_elements(st, MPI_BYTE, 0) != MPI_SUCCESS) {
            st->MPI_ERROR = MPI_SUCCESS;
        }
    }
    if (req->persistent) {
        req->state = FASTMPI_REQ_INACTIVE;
        return;     /* its buffers serve the next Start */
    }
    if (req->state != FASTMPI_REQ_FREED) {
        req->state = FASTMPI_REQ_DONE;
    }
    /* an object receive's size: its result, or a limit it broke */
    int keep = 0;
    MPI_Count count = -1;   /* _x: messages past 2 GiB too */
    int wanted = req->kind == FASTMPI_REQ_OBJRECV && want_result;
    if (st != NULL && (wanted || req->capacity >= 0)) {
        int cancelled = 0;
        if (MPI_Test_cancelled(st, &cancelled) != MPI_SUCCESS || cancelled ||
            MPI_Get_elements_x(st, MPI_BYTE, &count) != MPI_SUCCESS ||
            count == MPI_UNDEFINED) {
            count = -1;
        }
    }
    if (req->capacity >= 0 && count > req->capacity) {
        req->truncated = count;     /* raised by the wait */
    }
    else if (wanted && count >= 0) {
        req->received = count;
        keep = 1;
    }
    for (int i = 0; i < req->nmsg; i++) {
        /* a strided receive buffer of a reduction (staged.c) */
        fastmpi_msg_unstage(&req->msg[i]);
    }
    release_held(req, keep);
}

PyObject *
fastmpi_request_result(FastMPIRequestObject *req)
{
    Py_ssize_t size = req->received;
    if (req->kind == FASTMPI_REQ_GREQUEST && req->value != NULL) {
        PyObject *value = req->value;   /* given once, as a receive's */
        req->value = NULL;
        return value;
    }
    if (req->kind != FASTMPI_REQ_OBJRECV || size < 0) {
        Py_RETURN_NONE;
    }
    PyObject *obj;
    req->received = -1;
    if (req->area.base != NULL) {
        obj = fastmpi_area_load(&req->area, size);
    }
    else if (req->bytes != NULL) {
        if (size < PyByteArray_GET_SIZE(req->bytes) &&
            PyByteArray_Resize(req->bytes, size) < 0) {
            Py_CLEAR(req->bytes);
            return NULL;
        }
        obj = fastmpi_pickle_load_exported(req->bytes);
        Py_CLEAR(req->bytes);
    }
    else if (req->nmsg > 0) {
        obj = fastmpi_pickle_load_memory(req->msg[0].addr, size);
        fastmpi_msg_release(&req->msg[0]);
        req->nmsg = 0;
    }
    else {
        obj = Py_NewRef(Py_None);
    }
    return obj;
}

int
fastmpi_request_raise_pending(FastMPIRequestObject *req)
{
    if (Py_UNLIKELY(req->truncated > 0)) {
        Py_ssize_t size = req->truncated;
        req->truncated = 0;
        fastmpi_error_raise_detail(
            MPI_ERR_TRUNCATE, "irecv(): the message (%zd bytes) is larger "
            "than the buffer given (%zd bytes)", size, req->capacity);
        return -1;
    }
    if (req->kind == FASTMPI_REQ_GREQUEST &&
        fastmpi_st->grequest_raise((PyObject *)req) < 0) {
        return -1;
    }
    if (req->op != NULL) {
        PyObject *op = req->op;
        req->op = NULL;
        int r = fastmpi_op_raised((FastMPIOpObject *)op);
        Py_DECREF(op);
        return r;
    }
    return 0;
}

int
fastmpi_request_check(FastMPIRequestObject *req, const char *fname,
                      int wait)
{
    switch (req->state) {
    case FASTMPI_REQ_ACTIVE:
        if (req->busy) {
            fastmpi_error_raise_detail(
                MPI_ERR_REQUEST, "%s(): another thread is waiting on this "
                "request", fname);
            return -1;
        }
        return 0;
    case FASTMPI_REQ_NULL:
    case FASTMPI_REQ_DONE:
        /* MPI sets a completed request to MPI_REQUEST_NULL, and a wait
         * or test on that returns at once with an empty status: so does
         * one on a request an earlier wait or test completed (as in
         * mpi4py; programs poll Test() and then Wait()) */
        return 1;
    case FASTMPI_REQ_INACTIVE:
        if (wait) {
            fastmpi_error_raise_detail(
                MPI_ERR_REQUEST, "%s(): the persistent request is not "
                "active (Start() it first)", fname);
            return -1;
        }
        return 1;
    default:
        fastmpi_error_raise_detail(MPI_ERR_REQUEST,
                                   "%s(): the request was freed", fname);
        return -1;
    }
}

FastMPIRequestObject *
fastmpi_request_arg(PyObject *obj, const char *fname, const char *argname)
{
    if (!PyObject_TypeCheck(obj, fastmpi_st->Request)) {
        PyErr_Format(PyExc_TypeError, "%s() argument '%s' must be "
                     "MPI.Request, not %.100s", fname, argname,
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    return (FastMPIRequestObject *)obj;
}

/* ---- orphans: pending requests nobody holds ----------------------------- */

static int
is_pending(FastMPIRequestObject *req)
{
    return req->state == FASTMPI_REQ_ACTIVE ||
           (req->state == FASTMPI_REQ_FREED &&
            req->ob_mpi != MPI_REQUEST_NULL);
}

void
fastmpi_request_sweep(void)
{
    PyObject *orphans = fastmpi_st->orphans;
    if (!fastmpi_mpi_active) {
        return;
    }
    for (Py_ssize_t i = PyList_GET_SIZE(orphans) - 1; i >= 0; i--) {
        FastMPIRequestObject *req =
            (FastMPIRequestObject *)PyList_GET_ITEM(orphans, i);
        int flag = 0;
        MPI_Status st;
        int ierr = MPI_Test(&req->ob_mpi, &flag, &st);
        if (flag || ierr != MPI_SUCCESS) {
            if (req->persistent) {
                /* freed while active: MPI drops it once complete */
                req->persistent = 0;
                if (MPI_Request_free(&req->ob_mpi) != MPI_SUCCESS) {
                    req->ob_mpi = MPI_REQUEST_NULL;
                }
            }
            req->ob_mpi = MPI_REQUEST_NULL;
            fastmpi_request_complete(req, &st, 0);
            /* drops the list's reference: may deallocate req */
            PySequence_DelItem(orphans, i);
        }
    }
}

void
fastmpi_request_before_finalize(void)
{
    PyObject *orphans = fastmpi_st->orphans;
    if (orphans == NULL) {
        return;
    }
    fastmpi_request_sweep();
    /* What is left never completed: cancel the receives (no message will
     * come now) and let MPI finish the sends it can.  The buffers stay
     * referenced until the process ends. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(orphans); i++) {
        FastMPIRequestObject *req =
            (FastMPIRequestObject *)PyList_GET_ITEM(orphans, i);
        if (req->ob_mpi == MPI_REQUEST_NULL) {
            continue;
        }
        int ierr = MPI_SUCCESS;
        if (req->recv) {
            ierr = MPI_Cancel(&req->ob_mpi);
            if (ierr == MPI_SUCCESS) {
                FASTMPI_NOGIL_BEGIN
                ierr = MPI_Wait(&req->ob_mpi, MPI_STATUS_IGNORE);
                FASTMPI_NOGIL_END
            }
        }
        else {
            ierr = MPI_Request_free(&req->ob_mpi);
        }
        if (ierr != MPI_SUCCESS) {
            req->ob_mpi = MPI_REQUEST_NULL;
        }
    }
}

/* ---- the type ---------------------------------------------------------- */

/* Request() is a null request.  Request(other), as in mpi4py, is a second
 * object for the same request: an alias that forwards every operation to
 * it, so that a wait through either one completes both. */
static PyObject *
Request_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    if ((kwds && PyDict_GET_SIZE(kwds)) || PyTuple_GET_SIZE(args) > 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most one positional "
                     "argument, a request", type->tp_name);
        return NULL;
    }
    if (PyTuple_GET_SIZE(args) == 1) {
        other = PyTuple_GET_ITEM(args, 0);
        if (!PyObject_TypeCheck(other, fastmpi_st->Request)) {
            PyErr_Format(PyExc_TypeError, "%s() argument must be "
                         "MPI.Request, not %.100s", type->tp_name,
                         Py_TYPE(other)->tp_name);
            return NULL;
        }
    }
    FastMPIRequestObject *req = fastmpi_request_new(type);
    if (req != NULL && other != NULL) {
        req->kind = FASTMPI_REQ_ALIAS;
        req->keep = Py_NewRef(
            fastmpi_request_target((FastMPIRequestObject *)other));
    }
    return (PyObject *)req;
}

static void
Request_finalize(PyObject *self)
{
    FastMPIRequestObject *req = (FastMPIRequestObject *)self;
    if (is_pending(req) && fastmpi_mpi_active && fastmpi_st->orphans) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (PyList_Append(fastmpi_st->orphans, self) < 0) {
            PyErr_WriteUnraisable(self);
        }
        PyErr_Restore(type, value, tb);
    }
}

static void
Request_dealloc(PyObject *self)
{
    FastMPIRequestObject *req = (FastMPIRequestObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    if (is_pending(req) && PyObject_CallFinalizerFromDealloc(self) < 0) {
        return;     /* resurrected as an orphan */
    }
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIRequestObject);
    if (req->persistent && req->ob_mpi != MPI_REQUEST_NULL &&
        fastmpi_mpi_active) {
        if (MPI_Request_free(&req->ob_mpi) != MPI_SUCCESS) {
            req->ob_mpi = MPI_REQUEST_NULL;
        }
    }
    if (req->greq != NULL) {
        fastmpi_st->grequest_forget((PyObject *)req);
    }
    Py_CLEAR(req->op);
    Py_CLEAR(req->value);
    if (is_pending(req)) {
        /* MPI is finalized with the request pending: keep its memory */
        tp->tp_free(self);
        Py_DECREF(tp);
        return;
    }
    release_held(req, 0);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static const char *const status_names[] = {"status", NULL};

/* Wait or test one request: 1 complete, 0 not yet, -1 error. */
static int
complete_one(FastMPIRequestObject *self, fastmpi_argspec *spec,
             PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
             int wait, int want_result)
{
    PyObject *argv[1];
    MPI_Status *status, local;
    int ierr, flag = 1;
    self = fastmpi_request_target(self);
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_status(spec, 0, argv[0], &status) < 0) {
        return -1;
    }
    int r = fastmpi_request_check(self, spec->fname, wait);
    if (r != 0) {
        if (r < 0 || fastmpi_require_mpi() < 0) {
            return -1;
        }
        if (status != MPI_STATUS_IGNORE) {
            MPI_Request null = MPI_REQUEST_NULL;    /* an empty status */
            if (fastmpi_check(MPI_Wait(&null, status)) < 0) {
                return -1;
            }
        }
        return 1;
    }
    if (status == MPI_STATUS_IGNORE && self->kind == FASTMPI_REQ_OBJRECV) {
        status = &local;
    }
    MPI_Request handle = self->ob_mpi;
    if (wait) {
        self->busy = 1;
        FASTMPI_NOGIL_BEGIN
        FASTMPI_CALL("MPI_Wait", MPI_COMM_NULL, -1, -1, 0,
                     ierr = MPI_Wait(&handle, status));
        FASTMPI_NOGIL_END
        self->busy = 0;
    }
    else {
        FASTMPI_CALL("MPI_Test", MPI_COMM_NULL, -1, -1, 0,
                     ierr = MPI_Test(&handle, &flag, status));
    }
    self->ob_mpi = handle;
    if (flag || (ierr != MPI_SUCCESS && handle == MPI_REQUEST_NULL)) {
        fastmpi_request_complete(self, status == MPI_STATUS_IGNORE ? NULL
                                 : status, want_result);
    }
    if (fastmpi_request_raise_pending(self) < 0) {
        return -1;
    }
    if (fastmpi_check(ierr) < 0) {
        return -1;
    }
    return flag;
}

static PyObject *
Request_Wait(FastMPIRequestObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Wait", status_names, 0};
    if (complete_one(self, &spec, args, nargs, kwnames, 1, 0) < 0) {
        return NULL;
    }
    Py_RETURN_TRUE;
}

static PyObject *
Request_Test(FastMPIRequestObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Test", status_names, 0};
    int flag = complete_one(self, &spec, args, nargs, kwnames, 0, 0);
    if (flag < 0) {
        return NULL;
    }
    return PyBool_FromLong(flag);
}

static PyObject *
Request_wait(FastMPIRequestObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"wait", status_names, 0};
    if (complete_one(self, &spec, args, nargs, kwnames, 1, 1) < 0) {
        return NULL;
    }
    return fastmpi_request_result(self);
}

static PyObject *
Request_test(FastMPIRequestObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"test", status_names, 0};
    int flag = complete_one(self, &spec, args, nargs, kwnames, 0, 1);
    if (flag < 0) {
        return NULL;
    }
    PyObject *obj = flag ? fastmpi_request_result(self)
                         : Py_NewRef(Py_None);
    if (obj == NULL) {
        return NULL;
    }
    PyObject *res = PyTuple_Pack(2, flag ? Py_True : Py_False, obj);
    Py_DECREF(obj);
    return res;
}

static PyObject *
Request_Get_status(FastMPIRequestObject *self, PyObject *const *args,
                   Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Get_status", status_names, 0};
    PyObject *argv[1];
    MPI_Status *status;
    int flag = 1;
    self = fastmpi_request_target(self);
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_status(&spec, 0, argv[0], &status) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    int r = fastmpi_request_check(self, "Get_status", 0);
    if (r < 0) {
        return NULL;
    }
    MPI_Request handle = r == 0 ? self->ob_mpi : MPI_REQUEST_NULL;
    if (fastmpi_check(MPI_Request_get_status(handle, &flag, status)) < 0) {
        return NULL;
    }
    return PyBool_FromLong(flag);
}

static PyObject *
Request_Cancel(FastMPIRequestObject *self, PyObject *unused)
{
    self = fastmpi_request_target(self);
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (self->state != FASTMPI_REQ_ACTIVE) {
        return fastmpi_error_raise_detail(
            MPI_ERR_REQUEST, "Cancel(): the request is not active");
    }
    if (fastmpi_check(MPI_Cancel(&self->ob_mpi)) < 0 ||
        (self->kind == FASTMPI_REQ_GREQUEST &&
         fastmpi_st->grequest_raise((PyObject *)self) < 0)) {
        return NULL;    /* a cancel_fn's exception comes out here */
    }
    Py_RETURN_NONE;
}

static PyObject *
Request_Free(FastMPIRequestObject *self, PyObject *unused)
{
    self = fastmpi_request_target(self);
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    switch (self->state) {
    case FASTMPI_REQ_ACTIVE:
        /* MPI may still use the buffers: an orphan until it completes */
        if (PyList_Append(fastmpi_st->orphans, (PyObject *)self) < 0) {
            return NULL;
        }
        self->state = FASTMPI_REQ_FREED;
        Py_RETURN_NONE;
    case FASTMPI_REQ_INACTIVE:
        if (fastmpi_check(MPI_Request_free(&self->ob_mpi)) < 0) {
            return NULL;
        }
        self->persistent = 0;
        release_held(self, 0);
        self->state = FASTMPI_REQ_FREED;
        Py_RETURN_NONE;
    case FASTMPI_REQ_FREED:
        return fastmpi_error_raise_detail(
            MPI_ERR_REQUEST, "Free(): the request was already freed");
    default:
        return fastmpi_error_raise_detail(
            MPI_ERR_REQUEST, "Free(): a null or completed request has "
            "nothing to free");
    }
}

/* The handle the user sees: a freed request is null to them, even while
 * MPI completes it in the background. */
static MPI_Request
visible_handle(FastMPIRequestObject *req)
{
    req = fastmpi_request_target(req);
    return req->state == FASTMPI_REQ_FREED ? MPI_REQUEST_NULL : req->ob_mpi;
}

/* The handle base's get hook: the handle the user sees. */
static intptr_t
request_get(PyObject *self)
{
    return FASTMPI_HANDLE_TO_INT(visible_handle((FastMPIRequestObject *)self));
}

#define FC(f) FASTMPI_FASTCALL(f), METH_FASTCALL | METH_KEYWORDS

/* ---- Request ------------------------------------------------------------ */

/* The handle base's make hook (f2py, fromint, fromhandle). */
static PyObject *
request_make(PyTypeObject *cls, intptr_t h, const char *fname)
{
    FastMPIRequestObject *req = fastmpi_request_new(cls);
    if (req == NULL) {
        return NULL;
    }
    req->ob_mpi = (MPI_Request)h;
    if (req->ob_mpi != MPI_REQUEST_NULL) {
        req->state = FASTMPI_REQ_ACTIVE;
    }
    return (PyObject *)req;
}

static const fastmpi_handle_name request_names[] = {
    FASTMPI_HANDLE_NAME(REQUEST_NULL),
    {NULL},
};

/* Open MPI's MPI_Request_c2f enters the request in a table: MPI must be
 * running. */
FASTMPI_HANDLE_CONVERTERS(request, Request, MPI_Request,
                          fastmpi_require_mpi())
FASTMPI_HANDLE_SLOTS(request_kind, fastmpi_st->Request)

static const fastmpi_handle_kind request_kind = {
    .name = "Request",
    .size = sizeof(MPI_Request),
    .offset = offsetof(FastMPIRequestObject, ob_mpi),
    .flags_offset = -1,
    .null = FASTMPI_HANDLE_TO_INT(MPI_REQUEST_NULL),
    .names = request_names,
    .local = "a request is local to its process",
    .c2f = request_c2f,
    .f2c = request_f2c,
    .toint = request_toint,
    .fromint = request_fromint,
    .make = request_make,
    .get = request_get,
    .free = (PyCFunction)Request_Free,
    .slots = request_kind_slots,
};

static PyMethodDef Request_methods[] = {
    {"Wait", FC(Request_Wait),
     "Wait($self, status=None)\n--\n\n"
     "Wait(status=None) -> True: wait for the request to complete."},
    {"Test", FC(Request_Test),
     "Test($self, status=None)\n--\n\n"
     "Test(status=None) -> bool: has the request completed?"},
    {"wait", FC(Request_wait),
     "wait($self, status=None)\n--\n\n"
     "wait(status=None) -> obj: wait, and return a received object."},
    {"test", FC(Request_test),
     "test($self, status=None)\n--\n\n"
     "test(status=None) -> (flag, obj): test, and return a received "
     "object."},
    {"Get_status", FC(Request_Get_status),
     "Get_status($self, status=None)\n--\n\n"
     "Get_status(status=None) -> bool: completed?  Does not free it."},
    {"get_status", FC(Request_Get_status),
     "get_status($self, status=None)\n--\n\n"
     "get_status(status=None) -> bool: as Get_status."},
    {"Cancel", (PyCFunction)Request_Cancel, METH_NOARGS,
     "Cancel($self)\n--\n\n"
     "Cancel(): cancel the pending request (then wait on it)."},
    {"cancel", (PyCFunction)Request_Cancel, METH_NOARGS,
     "cancel($self)\n--\n\n"
     "cancel(): as Cancel."},
    {"Free", (PyCFunction)Request_Free, METH_NOARGS,
     "Free($self)\n--\n\n"
     "Free(): give the request up; it completes in the background."},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Request_members, FastMPIRequestObject);

static PyType_Slot Request_slots[] = {
    {Py_tp_members, Request_members},
    {Py_tp_doc, "Request(request=None)\n--\n\n"
                "A nonblocking operation in progress."},
    {Py_tp_new, Request_new},
    {Py_tp_dealloc, Request_dealloc},
    {Py_tp_finalize, Request_finalize},
    {Py_tp_methods, Request_methods},
    {0, NULL},
};

static PyType_Spec Request_spec = {
    .name = "fastmpi.MPI.Request",
    .basicsize = sizeof(FastMPIRequestObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Request_slots,
};

/* ---- Prequest: Start, Startall ------------------------------------------ */

static int
check_startable(PyObject *obj, const char *fname, Py_ssize_t index)
{
    if (!PyObject_TypeCheck(obj, fastmpi_st->Prequest)) {
        if (index < 0) {
            PyErr_Format(PyExc_TypeError, "%s() needs an MPI.Prequest, "
                         "not %.100s", fname, Py_TYPE(obj)->tp_name);
        }
        else {
            PyErr_Format(PyExc_TypeError, "%s() argument 'requests' item "
                         "%zd must be MPI.Prequest, not %.100s", fname,
                         index, Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    FastMPIRequestObject *req =
        fastmpi_request_target((FastMPIRequestObject *)obj);
    if (req->state == FASTMPI_REQ_INACTIVE) {
        return 0;
    }
    const char *why = req->state == FASTMPI_REQ_ACTIVE
        ? "is already active (wait for it first)"
        : req->state == FASTMPI_REQ_FREED ? "was freed"
                                           : "is not a persistent request";
    if (index < 0) {
        fastmpi_error_raise_detail(MPI_ERR_REQUEST, "%s(): the request %s",
                                   fname, why);
    }
    else {
        fastmpi_error_raise_detail(MPI_ERR_REQUEST, "%s(): requests[%zd] %s",
                                   fname, index, why);
    }
    return -1;
}

static PyObject *
Prequest_Start(FastMPIRequestObject *self, PyObject *unused)
{
    int ierr;
    if (fastmpi_require_mpi() < 0 ||
        check_startable((PyObject *)self, "Start", -1) < 0) {
        return NULL;
    }
    self = fastmpi_request_target(self);
    FASTMPI_CALL("MPI_Start", MPI_COMM_NULL, -1, -1, 0,
                 ierr = MPI_Start(&self->ob_mpi));
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    self->state = FASTMPI_REQ_ACTIVE;
    Py_RETURN_NONE;
}

static PyObject *
Prequest_Startall(PyObject *cls, PyObject *requests)
{
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(requests, "Startall() argument "
                                    "'requests' must be a sequence of "
                                    "MPI.Prequest");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    MPI_Request *handles = PyMem_New(MPI_Request, n ? n : 1);
    if (handles == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (check_startable(items[i], "Startall", i) < 0) {
            goto fail;
        }
        for (Py_ssize_t j = 0; j < i; j++) {
            if (fastmpi_request_target((FastMPIRequestObject *)items[j]) ==
                fastmpi_request_target((FastMPIRequestObject *)items[i])) {
                fastmpi_error_raise_detail(
                    MPI_ERR_REQUEST, "Startall(): requests[%zd] is "
                    "requests[%zd] again", i, j);
                goto fail;
            }
        }
        handles[i] =
            fastmpi_request_target((FastMPIRequestObject *)items[i])->ob_mpi;
    }
    int ierr;
    FASTMPI_CALL("MPI_Startall", MPI_COMM_NULL, -1, -1, 0,
                 ierr = MPI_Startall((int)n, handles));
    if (fastmpi_check(ierr) < 0) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        fastmpi_request_target((FastMPIRequestObject *)items[i])->state =
            FASTMPI_REQ_ACTIVE;
    }
    PyMem_Free(handles);
    Py_DECREF(seq);
    Py_RETURN_NONE;
fail:
    PyMem_Free(handles);
    Py_DECREF(seq);
    return NULL;
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Prequest_Startall, "Startall", "requests")

static PyMethodDef Prequest_methods[] = {
    {"Start", (PyCFunction)Prequest_Start, METH_NOARGS,
     "Start($self)\n--\n\n"
     "Start(): start the persistent request."},
    {"start", (PyCFunction)Prequest_Start, METH_NOARGS,
     "start(): as Start."},
    {"Startall", FASTMPI_FASTCALL(Prequest_Startall_kw),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "Startall($cls, requests)\n--\n\n"
     "Startall(requests): start a list of persistent requests."},
    {"startall", (PyCFunction)Prequest_Startall, METH_O | METH_CLASS,
     "startall(requests): as Startall."},
    {NULL},
};

static PyType_Slot Prequest_slots[] = {
    {Py_tp_doc, "Prequest(request=None)\n--\n\n"
                "A persistent request: Start it, wait, Start it again."},
    {Py_tp_methods, Prequest_methods},
    {0, NULL},
};

static PyType_Spec Prequest_spec = {
    .name = "fastmpi.MPI.Prequest",
    .basicsize = sizeof(FastMPIRequestObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Prequest_slots,
};

int
fastmpi_request_init(PyObject *module, const fastmpi_type_parts *parts)
{
    fastmpi_st->orphans = PyList_New(0);
    if (fastmpi_st->orphans == NULL) {
        return -1;
    }
    PyObject *req = (PyObject *)fastmpi_handle_type_new(
        module, &Request_spec, &request_kind, parts);
    if (req == NULL) {
        return -1;
    }
    fastmpi_st->Request = (PyTypeObject *)req;   /* owned by the state */
    PyObject *preq = (PyObject *)fastmpi_type_new(module, &Prequest_spec,
                                                  req, NULL);
    if (preq == NULL) {
        return -1;
    }
    fastmpi_st->Prequest = (PyTypeObject *)preq;
    PyObject *null = (PyObject *)fastmpi_request_new(fastmpi_st->Request);
    if (null == NULL || PyModule_AddObjectRef(module, "Request", req) < 0 ||
        PyModule_AddObjectRef(module, "Prequest", preq) < 0 ||
        PyModule_AddObject(module, "REQUEST_NULL", null) < 0) {
        Py_XDECREF(null);
        return -1;
    }
    return 0;
}
