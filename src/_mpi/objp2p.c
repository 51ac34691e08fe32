/* objp2p.c: blocking point-to-point with Python objects: send, ssend,
 * bsend, recv, sendrecv.
 *
 * recv takes a message of any size: a matched probe (MPI_Mprobe) gives its
 * size, then MPI_Mrecv takes exactly that message, so no other thread can
 * take it in between.  Small messages arrive on the stack within the same
 * GIL release as the probe.
 */
#include "fastmpi.h"

#define STACK_MESSAGE 1024

static const char *const send_names[] = {"obj", "dest", "tag", NULL};

static PyObject *
send_common(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames, fastmpi_argspec *spec,
            fastmpi_send_fn fn, const char *mpiname)
{
    PyObject *argv[3];
    int dest, tag, ierr;
    fastmpi_pickled p;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(spec, 1, argv[1], 0, &dest) < 0 ||
        fastmpi_arg_int(spec, 2, argv[2], 0, &tag) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    if (dest == MPI_PROC_NULL) {
        Py_RETURN_NONE;     /* nothing is sent: do not pickle */
    }
    if (fastmpi_pickle_dump(argv[0], &p) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL(mpiname, comm, dest, tag, p.nbytes,
                 ierr = fn(p.addr, p.count, p.datatype, dest, tag, comm));
    FASTMPI_NOGIL_END
    fastmpi_pickled_release(&p);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

FASTMPI_DEFINE_SEND(send, MPI_Send, send_names)
FASTMPI_DEFINE_SEND(ssend, MPI_Ssend, send_names)
FASTMPI_DEFINE_SEND(bsend, MPI_Bsend, send_names)

/* Receive the message matched by *message (whose size is in *probed) and
 * unpickle it.  `stack` holds it already when *received is set. */
static PyObject *
finish_recv(MPI_Message *message, MPI_Status *probed, int received,
            const char *stack, int size, MPI_Status *status)
{
    if (received) {
        if (status != MPI_STATUS_IGNORE) {
            *status = *probed;
        }
        return fastmpi_pickle_load_memory(stack, size);
    }
    PyObject *buf = PyByteArray_FromStringAndSize(NULL, size);
    if (buf == NULL) {
        return NULL;
    }
    int ierr;
    char *data = PyByteArray_AS_STRING(buf);
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Mrecv", MPI_COMM_NULL, probed->MPI_SOURCE,
                 probed->MPI_TAG, size,
                 ierr = MPI_Mrecv(data, size, MPI_BYTE, message, status));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(buf);
        return NULL;
    }
    PyObject *obj = fastmpi_pickle_load_bytearray(buf);
    Py_DECREF(buf);
    return obj;
}

/* Mprobe, size, and for small messages the Mrecv too: one GIL release. */
static int
probe_and_take(MPI_Comm comm, int source, int tag, MPI_Message *message,
               MPI_Status *probed, char *stack, int *size, int *received)
{
    int ierr;
    *received = 0;
    ierr = MPI_Mprobe(source, tag, comm, message, probed);
    if (ierr != MPI_SUCCESS) {
        return ierr;
    }
    ierr = MPI_Get_count(probed, MPI_BYTE, size);
    if (ierr != MPI_SUCCESS) {
        return ierr;
    }
    if (*size <= STACK_MESSAGE) {
        ierr = MPI_Mrecv(stack, *size, MPI_BYTE, message, MPI_STATUS_IGNORE);
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
    int source, tag, size = 0, received = 0, ierr;
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
    int dest, sendtag, source, recvtag, size = 0, received = 0, ierr;
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

PyMethodDef fastmpi_objp2p_methods[] = {
    {"send", FASTMPI_FASTCALL(Comm_send), METH_FASTCALL | METH_KEYWORDS,
     "send(obj, dest, tag=0): send a picklable object."},
    {"ssend", FASTMPI_FASTCALL(Comm_ssend), METH_FASTCALL | METH_KEYWORDS,
     "ssend(obj, dest, tag=0): synchronous object send."},
    {"bsend", FASTMPI_FASTCALL(Comm_bsend), METH_FASTCALL | METH_KEYWORDS,
     "bsend(obj, dest, tag=0): buffered object send."},
    {"recv", FASTMPI_FASTCALL(Comm_recv), METH_FASTCALL | METH_KEYWORDS,
     "recv(buf=None, source=ANY_SOURCE, tag=ANY_TAG, status=None) -> obj; "
     "a message of any size."},
    {"sendrecv", FASTMPI_FASTCALL(Comm_sendrecv),
     METH_FASTCALL | METH_KEYWORDS,
     "sendrecv(sendobj, dest, sendtag=0, recvbuf=None, "
     "source=ANY_SOURCE, recvtag=ANY_TAG, status=None) -> obj."},
    {NULL},
};
