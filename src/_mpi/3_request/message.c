/* message.c: MPI.Message, a message matched by a probe (mprobe.c), with
 * Recv, Irecv, recv, irecv.
 *
 * A Message keeps the status of its probe, so recv()/irecv() know the size
 * to receive.  Once received it is MESSAGE_NULL; receiving it again raises
 * (MPI.MESSAGE_NO_PROC itself stays MESSAGE_NO_PROC, as in mpi4py; a
 * copy of it becomes MESSAGE_NULL).  Message(m) of a matched m shares m's
 * match: it acts on m.
 * A matched message nobody received is taken and dropped when its Message
 * object goes away, with a ResourceWarning: MPI has no other way to
 * release it.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/pickle.h"
#include "request.h"

typedef struct {
    PyObject_HEAD
    MPI_Message ob_mpi;
    MPI_Status probed;
    int flags;                  /* FASTMPI_PREDEFINED: MESSAGE_NULL and
                                   MESSAGE_NO_PROC, which stay what they
                                   are after a receive */
    PyObject *base;             /* owned or NULL: a copy (Message(m)) of
                                   a matched message acts on m itself */
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIMessageObject;

/* The object whose match a Message stands for: itself, or for a copy of
 * a matched message the original (so receiving through either one
 * receives it once, and only the original drops it unreceived). */
static FastMPIMessageObject *
target(FastMPIMessageObject *m)
{
    return m->base != NULL ? (FastMPIMessageObject *)m->base : m;
}

/* After a receive: the handle MPI left (MESSAGE_NULL), except on the
 * predefined objects (MPI.MESSAGE_NO_PROC stays itself, as in mpi4py). */
static void
set_handle(FastMPIMessageObject *m, MPI_Message handle)
{
    if (!(m->flags & FASTMPI_PREDEFINED)) {
        m->ob_mpi = handle;
    }
}

PyObject *
fastmpi_message_new(PyTypeObject *type, MPI_Message handle,
                    const MPI_Status *st)
{
    FastMPIMessageObject *m =
        (FastMPIMessageObject *)type->tp_alloc(type, 0);
    if (m != NULL) {
        m->ob_mpi = handle;
        if (st != NULL) {
            m->probed = *st;
        }
    }
    return (PyObject *)m;
}

static int
is_matched(FastMPIMessageObject *m)
{
    return m->ob_mpi != MPI_MESSAGE_NULL && m->ob_mpi != MPI_MESSAGE_NO_PROC;
}

/* Message(message=None): MESSAGE_NULL, or a copy of message (the same
 * handle; a copy of a matched message shares that match, see target). */
static PyObject *
Message_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"message", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Message", kwlist,
                                     &other)) {
        return NULL;
    }
    if (other == NULL || other == Py_None) {
        return fastmpi_message_new(type, MPI_MESSAGE_NULL, NULL);
    }
    if (!PyObject_TypeCheck(other, fastmpi_st->Message)) {
        return PyErr_Format(PyExc_TypeError,
                            "Message() argument 'message' must be "
                            "MPI.Message, not %.100s",
                            Py_TYPE(other)->tp_name);
    }
    FastMPIMessageObject *src = target((FastMPIMessageObject *)other);
    FastMPIMessageObject *m = (FastMPIMessageObject *)fastmpi_message_new(
        type, src->ob_mpi, &src->probed);
    if (m != NULL && is_matched(src)) {
        m->base = Py_NewRef((PyObject *)src);
    }
    return (PyObject *)m;
}

static void
Message_dealloc(FastMPIMessageObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIMessageObject);
    PyTypeObject *tp = Py_TYPE(self);
    if (self->base != NULL) {
        Py_CLEAR(self->base);   /* a copy: the original owns the match */
    }
    else if (is_matched(self) && fastmpi_mpi_active) {
        int size = 0;
        if (MPI_Get_count(&self->probed, MPI_BYTE, &size) != MPI_SUCCESS ||
            size == MPI_UNDEFINED) {
            size = 0;
        }
        void *scratch = PyMem_RawMalloc(size ? (size_t)size : 1);
        if (scratch != NULL) {
            if (MPI_Mrecv(scratch, size, MPI_BYTE, &self->ob_mpi,
                          MPI_STATUS_IGNORE) != MPI_SUCCESS) {
                self->ob_mpi = MPI_MESSAGE_NULL;
            }
            PyMem_RawFree(scratch);
        }
        PyObject *exc, *val, *tb;
        PyErr_Fetch(&exc, &val, &tb);
        if (PyErr_WarnFormat(PyExc_ResourceWarning, 1, "a matched MPI "
                             "message (%d bytes from rank %d, tag %d) was "
                             "dropped without being received", size,
                             self->probed.MPI_SOURCE,
                             self->probed.MPI_TAG) < 0) {
            PyErr_WriteUnraisable((PyObject *)self);
        }
        PyErr_Restore(exc, val, tb);
    }
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* ---- probing ------------------------------------------------------------ */

/* ---- receiving ---------------------------------------------------------- */

static int
check_receivable(FastMPIMessageObject *self, const char *fname)
{
    if (fastmpi_require_mpi() < 0) {
        return -1;
    }
    if (target(self)->ob_mpi == MPI_MESSAGE_NULL) {
        fastmpi_error_raise_detail(
            MPI_ERR_REQUEST, "Message.%s(): the message is MESSAGE_NULL "
            "(already received, or never probed)", fname);
        return -1;
    }
    return 0;
}

static int
message_source(FastMPIMessageObject *self)
{
    self = target(self);
    return self->ob_mpi == MPI_MESSAGE_NO_PROC ? MPI_PROC_NULL
                                               : self->probed.MPI_SOURCE;
}

static PyObject *
Message_Recv(FastMPIMessageObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"buf", "status", NULL};
    static fastmpi_argspec spec = {"Recv", names, 1};
    PyObject *argv[2];
    MPI_Status *status;
    fastmpi_msg msg;
    int ierr;
    self = target(self);
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_status(&spec, 1, argv[1], &status) < 0 ||
        check_receivable(self, "Recv") < 0 ||
        fastmpi_msg_parse(argv[0], FASTMPI_MSG_RECV, message_source(self),
                          "Recv", "buf", &msg) < 0) {
        return NULL;
    }
    MPI_Message handle = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Mrecv", MPI_COMM_NULL, self->probed.MPI_SOURCE,
                 self->probed.MPI_TAG, msg.nbytes,
                 ierr = fastmpi_mrecv_checked(msg.addr, msg.count,
                                              msg.datatype, &handle,
                                              &self->probed, status));
    FASTMPI_NOGIL_END
    set_handle(self, handle);
    fastmpi_msg_release(&msg);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Message_Irecv(FastMPIMessageObject *self, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"buf", NULL};
    static fastmpi_argspec spec = {"Irecv", names, 1};
    PyObject *argv[1];
    int ierr;
    self = target(self);
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        check_receivable(self, "Irecv") < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new(fastmpi_st->Request);
    if (req == NULL) {
        return NULL;
    }
    fastmpi_msg *m = &req->msg[0];
    if (fastmpi_msg_parse(argv[0], FASTMPI_MSG_RECV, message_source(self),
                          "Irecv", "buf", m) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    req->nmsg = 1;
    req->recv = 1;
    MPI_Message handle = self->ob_mpi;
    FASTMPI_CALL("MPI_Imrecv", MPI_COMM_NULL, self->probed.MPI_SOURCE,
                 self->probed.MPI_TAG, m->nbytes,
                 ierr = MPI_Imrecv(m->addr, m->count, m->datatype,
                                   &handle, &req->ob_mpi));
    set_handle(self, handle);
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

/* The probed message's size in bytes (past 2 GiB too), or -1 with an
 * exception. */
static Py_ssize_t
probed_size(FastMPIMessageObject *self)
{
    int size = 0;
    if (self->ob_mpi == MPI_MESSAGE_NO_PROC) {
        return 0;
    }
    if (fastmpi_check(MPI_Get_count(&self->probed, MPI_BYTE, &size)) < 0) {
        return -1;
    }
    MPI_Count bytes = 0;
    if (size == MPI_UNDEFINED &&
        MPI_Get_elements_x(&self->probed, MPI_BYTE, &bytes) == MPI_SUCCESS &&
        bytes > INT_MAX && bytes <= PY_SSIZE_T_MAX) {
        return (Py_ssize_t)bytes;
    }
    if (size == MPI_UNDEFINED) {
        PyErr_SetString(PyExc_ValueError, "the probed message is not a "
                        "whole number of bytes: not an object message");
        return -1;
    }
    return size;
}

/* size bytes as (count, datatype): past 2 GiB one item of a large type
 * (strided.c).  0 or -1. */
static int
byte_count(Py_ssize_t size, const char *fname, int *count,
           MPI_Datatype *type)
{
    *count = (int)size;
    *type = MPI_BYTE;
    if (Py_UNLIKELY(size > INT_MAX)) {
        *count = 1;
        return fastmpi_large_type(MPI_BYTE, size, fname, "message", type);
    }
    return 0;
}

static PyObject *
Message_recv(FastMPIMessageObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"status", NULL};
    static fastmpi_argspec spec = {"recv", names, 0};
    PyObject *argv[1];
    MPI_Status *status;
    Py_ssize_t size;
    int ierr, count;
    MPI_Datatype type;
    self = target(self);
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_status(&spec, 0, argv[0], &status) < 0 ||
        check_receivable(self, "recv") < 0 ||
        (size = probed_size(self)) < 0 ||
        byte_count(size, "recv", &count, &type) < 0) {
        return NULL;
    }
    PyObject *buf = PyByteArray_FromStringAndSize(NULL, size);
    if (buf == NULL) {
        return NULL;
    }
    char *data = PyByteArray_AS_STRING(buf);
    MPI_Message handle = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Mrecv", MPI_COMM_NULL, self->probed.MPI_SOURCE,
                 self->probed.MPI_TAG, size,
                 ierr = MPI_Mrecv(data, count, type, &handle, status));
    FASTMPI_NOGIL_END
    set_handle(self, handle);
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(buf);
        return NULL;
    }
    PyObject *obj = fastmpi_pickle_load_exported(buf);
    Py_DECREF(buf);
    return obj;
}

static PyObject *
Message_irecv(FastMPIMessageObject *self, PyObject *unused)
{
    Py_ssize_t size;
    int ierr, count;
    MPI_Datatype type;
    self = target(self);
    if (check_receivable(self, "irecv") < 0 ||
        (size = probed_size(self)) < 0 ||
        byte_count(size, "irecv", &count, &type) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new(fastmpi_st->Request);
    if (req == NULL) {
        return NULL;
    }
    req->kind = FASTMPI_REQ_OBJRECV;
    req->recv = 1;
    req->bytes = PyByteArray_FromStringAndSize(NULL, size);
    if (req->bytes == NULL) {
        Py_DECREF(req);
        return NULL;
    }
    MPI_Message handle = self->ob_mpi;
    FASTMPI_CALL("MPI_Imrecv", MPI_COMM_NULL, self->probed.MPI_SOURCE,
                 self->probed.MPI_TAG, size,
                 ierr = MPI_Imrecv(PyByteArray_AS_STRING(req->bytes), count,
                                   type, &handle, &req->ob_mpi));
    set_handle(self, handle);
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

/* ---- the handle base ---------------------------------------------------- */

/* The handle a Message stands for (a copy's original's). */
static intptr_t
message_get(PyObject *self)
{
    return FASTMPI_HANDLE_TO_INT(target((FastMPIMessageObject *)self)->ob_mpi);
}

static const fastmpi_handle_name message_names[] = {
    FASTMPI_HANDLE_NAME(MESSAGE_NULL),
    FASTMPI_HANDLE_NAME(MESSAGE_NO_PROC),
    {NULL},
};

FASTMPI_HANDLE_CONVERTERS(message, Message, MPI_Message, 0)
FASTMPI_HANDLE_SLOTS(message_kind, fastmpi_st->Message)

/* Nothing to free (free() does nothing, as mpi4py 4): a matched message
 * goes only by being received. */
static const fastmpi_handle_kind message_kind = {
    .name = "Message",
    .size = sizeof(MPI_Message),
    .offset = offsetof(FastMPIMessageObject, ob_mpi),
    .flags_offset = offsetof(FastMPIMessageObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_MESSAGE_NULL),
    .names = message_names,
    .local = "a matched message is local to its process",
    .c2f = message_c2f,
    .f2c = message_f2c,
    .toint = message_toint,
    .fromint = message_fromint,
    .get = message_get,
    .slots = message_kind_slots,
};

#define FC(f) FASTMPI_FASTCALL(f), METH_FASTCALL | METH_KEYWORDS

static PyMethodDef Message_methods[] = {
    {"Recv", FC(Message_Recv), "Recv($self, buf, status=None)\n--\n\n"
                               "Recv(buf, status=None): receive it."},
    {"Irecv", FC(Message_Irecv), "Irecv($self, buf)\n--\n\n"
                                 "Irecv(buf) -> Request"},
    {"recv", FC(Message_recv), "recv($self, status=None)\n--\n\n"
                               "recv(status=None) -> obj"},
    {"irecv", (PyCFunction)Message_irecv, METH_NOARGS,
     "irecv($self)\n--\n\n"
     "irecv() -> Request; its wait() returns the object."},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Message_members, FastMPIMessageObject);

static PyType_Slot Message_slots[] = {
    {Py_tp_members, Message_members},
    {Py_tp_doc, "Message(message=None)\n--\n\n"
                "Message(message=None): a message matched by a probe, to "
                "be received exactly once.  Message() is MESSAGE_NULL; "
                "Message(m) stands for the same message as m.  False only "
                "for MESSAGE_NULL."},
    {Py_tp_new, Message_new},
    {Py_tp_dealloc, Message_dealloc},
    {Py_tp_methods, Message_methods},
    {0, NULL},
};

static PyType_Spec Message_spec = {
    .name = "fastmpi.MPI.Message",
    .basicsize = sizeof(FastMPIMessageObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Message_slots,
};

int
fastmpi_message_init(PyObject *module, const fastmpi_type_parts *parts)
{
    PyObject *type = (PyObject *)fastmpi_handle_type_new(
        module, &Message_spec, &message_kind, parts);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Message = (PyTypeObject *)type;  /* owned by the state */
    PyObject *null = fastmpi_message_new(fastmpi_st->Message,
                                         MPI_MESSAGE_NULL, NULL);
    PyObject *noproc = fastmpi_message_new(fastmpi_st->Message,
                                           MPI_MESSAGE_NO_PROC, NULL);
    if (null != NULL && noproc != NULL) {
        ((FastMPIMessageObject *)null)->flags = FASTMPI_PREDEFINED;
        ((FastMPIMessageObject *)noproc)->flags = FASTMPI_PREDEFINED;
    }
    int r = (null == NULL || noproc == NULL ||
             PyModule_AddObjectRef(module, "Message", type) < 0 ||
             PyModule_AddObjectRef(module, "MESSAGE_NULL", null) < 0 ||
             PyModule_AddObjectRef(module, "MESSAGE_NO_PROC", noproc) < 0)
            ? -1 : 0;
    Py_XDECREF(null);
    Py_XDECREF(noproc);
    return r;
}
