/* objp2p.c: point-to-point with Python objects: send, ssend, bsend, recv,
 * sendrecv, and the nonblocking isend, ibsend, issend, irecv.
 *
 * recv takes a message of any size: a matched probe (MPI_Mprobe) gives its
 * size, then MPI_Mrecv takes exactly that message, so no other thread can
 * take it in between.  Small messages arrive on the stack within the same
 * GIL release as the probe.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/pickle.h"
#include "../3_request/request.h"
#include "../4_comm/comm.h"
#include "p2p.h"

#define STACK_MESSAGE 1024

static const char *const send_names[] = {"obj", "dest", "tag", NULL};

FASTMPI_DEFINE_SEND(send, MPI_Send, send_names, 1)
FASTMPI_DEFINE_SEND(ssend, MPI_Ssend, send_names, 1)
FASTMPI_DEFINE_SEND(bsend, MPI_Bsend, send_names, 1)

/* Receive the message matched by *message (whose size is in *probed) and
 * unpickle it.  `stack` holds it already when *received is set. */
static PyObject *
finish_recv(MPI_Message *message, MPI_Status *probed, int received,
            const char *stack, Py_ssize_t size, MPI_Status *status)
{
    if (received) {
        if (status != MPI_STATUS_IGNORE) {
            /* Mprobe leaves MPI_ERROR unset (single-completion calls
             * never set it): keep the caller's */
            int error = status->MPI_ERROR;
            *status = *probed;
            status->MPI_ERROR = error;
        }
        return fastmpi_pickle_load_memory(stack, size);
    }
    PyObject *buf = PyByteArray_FromStringAndSize(NULL, size);
    if (buf == NULL) {
        return NULL;
    }
    int ierr, count = (int)size;
    MPI_Datatype type = MPI_BYTE;
    if (size > INT_MAX) {
        /* past 2 GiB: one item of a large type (strided.c) */
        if (fastmpi_large_type(MPI_BYTE, size, "recv", "buf", &type) < 0) {
            Py_DECREF(buf);
            return NULL;
        }
        count = 1;
    }
    char *data = PyByteArray_AS_STRING(buf);
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Mrecv", MPI_COMM_NULL, probed->MPI_SOURCE,
                 probed->MPI_TAG, size,
                 ierr = MPI_Mrecv(data, count, type, message, status));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(buf);
        return NULL;
    }
    PyObject *obj = fastmpi_pickle_load_exported(buf);
    Py_DECREF(buf);
    return obj;
}

/* Mprobe, size, and for small messages the Mrecv too: one GIL release. */
static int
probe_and_take(MPI_Comm comm, int source, int tag, MPI_Message *message,
               MPI_Status *probed, char *stack, Py_ssize_t *size,
               int *received)
{
    int ierr;
    *received = 0;
    ierr = MPI_Mprobe(source, tag, comm, message, probed);
    if (ierr != MPI_SUCCESS) {
        return ierr;
    }
    MPI_Count bytes = 0;    /* _x: messages past 2 GiB too */
    ierr = MPI_Get_elements_x(probed, MPI_BYTE, &bytes);
    if (ierr != MPI_SUCCESS) {
        return ierr;
    }
    *size = (Py_ssize_t)bytes;
    if (*size <= STACK_MESSAGE) {
        ierr = MPI_Mrecv(stack, (int)*size, MPI_BYTE, message,
                         MPI_STATUS_IGNORE);
        *received = ierr == MPI_SUCCESS;
    }
    return ierr;
}

static PyObject *
Comm_recv(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"buf", "source", "tag", "status",
                                        NULL};
    static fastmpi_argspec spec = {"recv", names, 0};
    PyObject *argv[4];
    int source, tag, received = 0, ierr;
    Py_ssize_t size = 0;
    MPI_Status *status, probed;
    MPI_Message message = MPI_MESSAGE_NULL;
    char stack[STACK_MESSAGE];
    /* argv[0] (a receive buffer) is accepted for mpi4py compatibility and
     * not needed: the message size is always probed. */
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], MPI_ANY_TAG, &tag) < 0 ||
        fastmpi_arg_status(&spec, 3, argv[3], &status) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Mprobe", comm, source, tag, 0,
                 ierr = probe_and_take(comm, source, tag, &message, &probed,
                                       stack, &size, &received));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return finish_recv(&message, &probed, received, stack, size, status);
}

static PyObject *
Comm_sendrecv(FastMPICommObject *self, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendobj", "dest", "sendtag",
                                        "recvbuf", "source", "recvtag",
                                        "status", NULL};
    static fastmpi_argspec spec = {"sendrecv", names, 2};
    PyObject *argv[7];
    int dest, sendtag, source, recvtag, received = 0, ierr;
    Py_ssize_t size = 0;
    MPI_Status *status, probed;
    MPI_Message message = MPI_MESSAGE_NULL;
    MPI_Request request = MPI_REQUEST_NULL;
    fastmpi_pickled p;
    char stack[STACK_MESSAGE];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &dest) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &sendtag) < 0 ||
        fastmpi_arg_int(&spec, 4, argv[4], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(&spec, 5, argv[5], MPI_ANY_TAG, &recvtag) < 0 ||
        fastmpi_arg_status(&spec, 6, argv[6], &status) < 0 ||
        fastmpi_comm_check(self) < 0 ||
        fastmpi_pickle_dump(argv[0], &p) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Isend", comm, dest, sendtag, p.nbytes,
                 ierr = MPI_Isend(p.addr, p.count, p.datatype, dest, sendtag,
                                  comm, &request));
    if (ierr == MPI_SUCCESS) {
        FASTMPI_CALL("MPI_Mprobe", comm, source, recvtag, 0,
                     ierr = probe_and_take(comm, source, recvtag, &message,
                                           &probed, stack, &size,
                                           &received));
        if (ierr != MPI_SUCCESS) {
            /* do not leave the send dangling */
            MPI_Cancel(&request);
            MPI_Wait(&request, MPI_STATUS_IGNORE);
        }
    }
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        fastmpi_pickled_release(&p);
        return NULL;
    }
    PyObject *obj = finish_recv(&message, &probed, received, stack, size,
                                status);
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_Wait(&request, MPI_STATUS_IGNORE);
    FASTMPI_NOGIL_END
    fastmpi_pickled_release(&p);
    if (fastmpi_check(ierr) < 0) {
        Py_XDECREF(obj);
        return NULL;
    }
    return obj;
}

/* ---- nonblocking ------------------------------------------------------- */

static PyObject *
isend_common(FastMPICommObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames, fastmpi_argspec *spec,
             fastmpi_start_fn fn, const char *mpiname)
{
    PyObject *argv[3];
    int dest, tag, ierr;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(spec, 1, argv[1], 0, &dest) < 0 ||
        fastmpi_arg_int(spec, 2, argv[2], 0, &tag) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new(fastmpi_st->Request);
    if (req == NULL) {
        return NULL;
    }
    req->kind = FASTMPI_REQ_OBJSEND;
    void *addr = NULL;
    int count = 0;
    MPI_Datatype datatype = MPI_BYTE;
    Py_ssize_t nbytes = 0;
    if (dest != MPI_PROC_NULL) {    /* nothing is sent: do not pickle */
        /* pickled in place: a scalar's message lies inside the struct */
        fastmpi_pickled *p = PyMem_Malloc(sizeof(*p));
        if (p == NULL) {
            Py_DECREF(req);
            return PyErr_NoMemory();
        }
        if (fastmpi_pickle_dump(argv[0], p) < 0) {
            PyMem_Free(p);
            Py_DECREF(req);
            return NULL;
        }
        req->pickled = p;
        addr = p->addr;
        count = p->count;
        datatype = p->datatype;
        nbytes = p->nbytes;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_CALL(mpiname, comm, dest, tag, nbytes,
                 ierr = fn(addr, count, datatype, dest, tag, comm,
                           &req->ob_mpi));
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

#define DEFINE_ISEND(NAME, FN)                                             \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *const *args, Py_ssize_t nargs,  \
                                 PyObject *kwnames)                        \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, send_names, 2};              \
        return isend_common(self, args, nargs, kwnames, &spec, FN, #FN);  \
    }

DEFINE_ISEND(isend, MPI_Isend)
DEFINE_ISEND(ibsend, MPI_Ibsend)
DEFINE_ISEND(issend, MPI_Issend)

/* Where irecv(buf) receives: None, any size (a receive area); an int, a
 * bytearray of that many bytes; else a writable buffer, as bytes.  With
 * the receive guard (Open MPI, which writes a truncated large message past
 * the buffer's end, see p2p.c) a size or buffer only sets the limit: the
 * message goes to an area, and one larger than the limit raises
 * ERR_TRUNCATE at the wait. */
static int
irecv_target(FastMPIRequestObject *req, PyObject *buf, void **addr,
             int *count, MPI_Datatype *datatype)
{
    fastmpi_msg *m = &req->msg[0];
    Py_ssize_t n = -1;          /* the size given, or the buffer's */
    if (buf != NULL && buf != Py_None) {
        if (PyLong_Check(buf)) {
            n = PyLong_AsSsize_t(buf);
            if (n == -1 && PyErr_Occurred()) {
                return -1;
            }
            if (n < 0) {
                PyErr_Format(PyExc_ValueError, "irecv() argument 'buf': a "
                             "size must not be negative (got %zd)", n);
                return -1;
            }
        }
        else {
            if (fastmpi_buffer_get(buf, &m->view, PyBUF_WRITABLE, 0,
                                   "irecv", "buf") < 0) {
                if (!fastmpi_foreign_check(buf)) {
                    PyErr_Format(PyExc_TypeError, "irecv() argument 'buf' "
                                 "must be None, a size in bytes or a "
                                 "writable buffer, not %.100s",
                                 Py_TYPE(buf)->tp_name);
                }
                return -1;
            }
            req->nmsg = 1;
            n = m->view.len;
        }
    }
    if (n >= 0 && fastmpi_recv_guard) {
        req->capacity = n;      /* only the limit: receive into an area */
        fastmpi_msg_release(m);
        req->nmsg = 0;
        n = -1;
    }
    if (n < 0) {
        if (fastmpi_area_take(&req->area) < 0) {
            return -1;
        }
        *addr = req->area.base;
        *count = fastmpi_area_count(&req->area);
        *datatype = fastmpi_area_datatype();
        return 0;
    }
    *datatype = MPI_BYTE;
    *count = (int)n;
    if (Py_UNLIKELY(n > INT_MAX)) {
        /* past 2 GiB: one item of a large type (strided.c) */
        if (fastmpi_large_type(MPI_BYTE, n, "irecv", "buf", datatype) < 0) {
            return -1;
        }
        *count = 1;
    }
    if (req->nmsg == 0) {
        req->bytes = PyByteArray_FromStringAndSize(NULL, n);
        if (req->bytes == NULL) {
            return -1;
        }
        *addr = PyByteArray_AS_STRING(req->bytes);
        return 0;
    }
    m->addr = *addr = m->view.buf;
    m->count = *count;
    m->datatype = *datatype;
    m->nbytes = n;
    return 0;
}

static PyObject *
Comm_irecv(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    static const char *const names[] = {"buf", "source", "tag", NULL};
    static fastmpi_argspec spec = {"irecv", names, 0};
    PyObject *argv[3];
    int source, tag, count, ierr;
    void *addr;
    MPI_Datatype datatype;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], MPI_ANY_TAG, &tag) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new(fastmpi_st->Request);
    if (req == NULL) {
        return NULL;
    }
    req->kind = FASTMPI_REQ_OBJRECV;
    req->recv = 1;
    req->procnull = source == MPI_PROC_NULL;
    if (irecv_target(req, argv[0], &addr, &count, &datatype) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_CALL("MPI_Irecv", comm, source, tag, 0,
                 ierr = MPI_Irecv(addr, count, datatype, source, tag, comm,
                                  &req->ob_mpi));
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

PyMethodDef fastmpi_objp2p_methods[] = {
    {"isend", FASTMPI_FASTCALL(Comm_isend), METH_FASTCALL | METH_KEYWORDS,
     "isend($self, obj, dest, tag=0)\n--\n\n"
     "isend(obj, dest, tag=0) -> Request: nonblocking object send."},
    {"ibsend", FASTMPI_FASTCALL(Comm_ibsend), METH_FASTCALL | METH_KEYWORDS,
     "ibsend($self, obj, dest, tag=0)\n--\n\n"
     "ibsend(obj, dest, tag=0) -> Request: buffered nonblocking send."},
    {"issend", FASTMPI_FASTCALL(Comm_issend), METH_FASTCALL | METH_KEYWORDS,
     "issend($self, obj, dest, tag=0)\n--\n\n"
     "issend(obj, dest, tag=0) -> Request: synchronous nonblocking send."},
    {"irecv", FASTMPI_FASTCALL(Comm_irecv), METH_FASTCALL | METH_KEYWORDS,
     "irecv($self, buf=None, source=ANY_SOURCE, tag=ANY_TAG)\n--\n\n"
     "irecv(buf=None, source=ANY_SOURCE, tag=ANY_TAG) -> Request; wait() "
     "returns the object.  Without buf, a message of any size."},
    {"send", FASTMPI_FASTCALL(Comm_send), METH_FASTCALL | METH_KEYWORDS,
     "send($self, obj, dest, tag=0)\n--\n\n"
     "send(obj, dest, tag=0): send a picklable object."},
    {"ssend", FASTMPI_FASTCALL(Comm_ssend), METH_FASTCALL | METH_KEYWORDS,
     "ssend($self, obj, dest, tag=0)\n--\n\n"
     "ssend(obj, dest, tag=0): synchronous object send."},
    {"bsend", FASTMPI_FASTCALL(Comm_bsend), METH_FASTCALL | METH_KEYWORDS,
     "bsend($self, obj, dest, tag=0)\n--\n\n"
     "bsend(obj, dest, tag=0): buffered object send."},
    {"recv", FASTMPI_FASTCALL(Comm_recv), METH_FASTCALL | METH_KEYWORDS,
     "recv($self, buf=None, source=ANY_SOURCE, tag=ANY_TAG, "
     "status=None)\n--\n\n"
     "recv(buf=None, source=ANY_SOURCE, tag=ANY_TAG, status=None) -> obj; "
     "a message of any size."},
    {"sendrecv", FASTMPI_FASTCALL(Comm_sendrecv),
     METH_FASTCALL | METH_KEYWORDS,
     "sendrecv($self, sendobj, dest, sendtag=0, recvbuf=None, "
     "source=ANY_SOURCE, recvtag=ANY_TAG, status=None)\n--\n\n"
     "sendrecv(sendobj, dest, sendtag=0, recvbuf=None, "
     "source=ANY_SOURCE, recvtag=ANY_TAG, status=None) -> obj."},
    {NULL},
};
