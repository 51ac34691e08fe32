/* p2p.c: blocking point-to-point with buffers: Send, Ssend, Rsend, Bsend,
 * Recv, Sendrecv, Sendrecv_replace, Probe, Iprobe; and the module's
 * Attach_buffer / Detach_buffer for Bsend. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/msgbuffer.h"
#include "../3_request/request.h"
#include "../4_comm/comm.h"
#include "p2p.h"

#include <stdlib.h>
#include <string.h>

#define VIEW_BYTES(m) ((m).nbytes)

static const char *const send_names[] = {"buf", "dest", "tag", NULL};

FASTMPI_DEFINE_SEND(Send, MPI_Send, send_names, 0)
FASTMPI_DEFINE_SEND(Ssend, MPI_Ssend, send_names, 0)
FASTMPI_DEFINE_SEND(Rsend, MPI_Rsend, send_names, 0)
FASTMPI_DEFINE_SEND(Bsend, MPI_Bsend, send_names, 0)

/* Sendrecv, and Sendrecv_replace, whose receive is checked as above. */
static int
sendrecv_checked(const void *saddr, int scount, MPI_Datatype sdt, int dest,
                 int sendtag, void *raddr, int rcount, MPI_Datatype rdt,
                 int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
    if (!fastmpi_recv_guard) {
        return MPI_Sendrecv(saddr, scount, sdt, dest, sendtag, raddr,
                            rcount, rdt, source, recvtag, comm, status);
    }
    MPI_Request request;
    int ierr = MPI_Isend(saddr, scount, sdt, dest, sendtag, comm, &request);
    if (ierr != MPI_SUCCESS) {
        return ierr;
    }
    ierr = fastmpi_recv_checked(raddr, rcount, rdt, source, recvtag, comm,
                                status);
    int eclass = MPI_SUCCESS;
    if (ierr != MPI_SUCCESS && MPI_Error_class(ierr, &eclass) ==
        MPI_SUCCESS && eclass != MPI_ERR_TRUNCATE) {
        MPI_Cancel(&request);   /* do not leave the send dangling */
    }
    int werr = MPI_Wait(&request, MPI_STATUS_IGNORE);
    return ierr != MPI_SUCCESS ? ierr : werr;
}

static int
sendrecv_replace_checked(void *addr, int count, MPI_Datatype dt, int dest,
                         int sendtag, int source, int recvtag, MPI_Comm comm,
                         MPI_Status *status)
{
    MPI_Count bytes = 0;
    int ierr = MPI_Type_size_x(dt, &bytes);
    if (ierr != MPI_SUCCESS) {
        return ierr;
    }
    /* the guard packs with int sizes: near 2 GiB, the plain call */
    if (!fastmpi_recv_guard || bytes * count > INT_MAX / 2) {
        return MPI_Sendrecv_replace(addr, count, dt, dest, sendtag, source,
                                    recvtag, comm, status);
    }
    int size = 0, position = 0;
    ierr = MPI_Pack_size(count, dt, comm, &size);
    if (ierr != MPI_SUCCESS) {
        return ierr;
    }
    void *packed = malloc(size ? (size_t)size : 1);
    if (packed == NULL) {
        return MPI_ERR_NO_MEM;
    }
    ierr = MPI_Pack(addr, count, dt, packed, size, &position, comm);
    if (ierr == MPI_SUCCESS) {
        ierr = sendrecv_checked(packed, position, MPI_PACKED, dest, sendtag,
                                addr, count, dt, source, recvtag, comm,
                                status);
    }
    free(packed);
    return ierr;
}

static PyObject *
Comm_Recv(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"buf", "source", "tag", "status",
                                        NULL};
    static fastmpi_argspec spec = {"Recv", names, 1};
    PyObject *argv[4];
    int source, tag, ierr;
    MPI_Status *status;
    fastmpi_msg msg;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], MPI_ANY_TAG, &tag) < 0 ||
        fastmpi_arg_status(&spec, 3, argv[3], &status) < 0 ||
        fastmpi_comm_check(self) < 0 ||
        fastmpi_msg_parse(argv[0], FASTMPI_MSG_RECV, source, "Recv", "buf",
                          &msg) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Recv", comm, source, tag, VIEW_BYTES(msg),
                 ierr = fastmpi_recv_checked(msg.addr, msg.count,
                                             msg.datatype, source, tag, comm,
                                             status));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&msg);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Comm_Sendrecv(FastMPICommObject *self, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendbuf", "dest", "sendtag",
                                        "recvbuf", "source", "recvtag",
                                        "status", NULL};
    static fastmpi_argspec spec = {"Sendrecv", names, 2};
    PyObject *argv[7];
    int dest, sendtag, source, recvtag, ierr;
    MPI_Status *status;
    fastmpi_msg smsg, rmsg;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &dest) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &sendtag) < 0 ||
        fastmpi_arg_int(&spec, 4, argv[4], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(&spec, 5, argv[5], MPI_ANY_TAG, &recvtag) < 0 ||
        fastmpi_arg_status(&spec, 6, argv[6], &status) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    PyObject *recvbuf = argv[3] ? argv[3] : Py_None;
    if (fastmpi_msg_parse(argv[0], FASTMPI_MSG_SEND, dest, "Sendrecv",
                          "sendbuf", &smsg) < 0) {
        return NULL;
    }
    if (fastmpi_msg_parse(recvbuf, FASTMPI_MSG_RECV, source, "Sendrecv",
                          "recvbuf", &rmsg) < 0) {
        fastmpi_msg_release(&smsg);
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Sendrecv", comm, dest, sendtag,
                 VIEW_BYTES(smsg) + VIEW_BYTES(rmsg),
                 ierr = sendrecv_checked(smsg.addr, smsg.count,
                                         smsg.datatype, dest, sendtag,
                                         rmsg.addr, rmsg.count,
                                         rmsg.datatype, source, recvtag,
                                         comm, status));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&smsg);
    fastmpi_msg_release(&rmsg);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Comm_Sendrecv_replace(FastMPICommObject *self, PyObject *const *args,
                      Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"buf", "dest", "sendtag", "source",
                                        "recvtag", "status", NULL};
    static fastmpi_argspec spec = {"Sendrecv_replace", names, 2};
    PyObject *argv[6];
    int dest, sendtag, source, recvtag, ierr;
    MPI_Status *status;
    fastmpi_msg msg;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &dest) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &sendtag) < 0 ||
        fastmpi_arg_int(&spec, 3, argv[3], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(&spec, 4, argv[4], MPI_ANY_TAG, &recvtag) < 0 ||
        fastmpi_arg_status(&spec, 5, argv[5], &status) < 0 ||
        fastmpi_comm_check(self) < 0 ||
        /* None only when neither side moves data */
        fastmpi_msg_parse(argv[0], FASTMPI_MSG_RECV,
                          dest == MPI_PROC_NULL && source == MPI_PROC_NULL
                              ? MPI_PROC_NULL : MPI_UNDEFINED,
                          "Sendrecv_replace", "buf", &msg) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Sendrecv_replace", comm, dest, sendtag,
                 VIEW_BYTES(msg),
                 ierr = sendrecv_replace_checked(msg.addr, msg.count,
                                                 msg.datatype, dest, sendtag,
                                                 source, recvtag, comm,
                                                 status));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&msg);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static const char *const probe_names[] = {"source", "tag", "status", NULL};

static int
probe_args(fastmpi_argspec *spec, FastMPICommObject *self,
           PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
           int *source, int *tag, MPI_Status **status)
{
    PyObject *argv[3];
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(spec, 0, argv[0], MPI_ANY_SOURCE, source) < 0 ||
        fastmpi_arg_int(spec, 1, argv[1], MPI_ANY_TAG, tag) < 0 ||
        fastmpi_arg_status(spec, 2, argv[2], status) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return -1;
    }
    return 0;
}

static PyObject *
Comm_Probe(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Probe", probe_names, 0};
    int source, tag, ierr;
    MPI_Status *status;
    if (probe_args(&spec, self, args, nargs, kwnames, &source, &tag,
                   &status) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Probe", comm, source, tag, 0,
                 ierr = MPI_Probe(source, tag, comm, status));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_TRUE;
}

static PyObject *
Comm_Iprobe(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Iprobe", probe_names, 0};
    int source, tag, flag = 0, ierr;
    MPI_Status *status;
    if (probe_args(&spec, self, args, nargs, kwnames, &source, &tag,
                   &status) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Iprobe", comm, source, tag, 0,
                 ierr = MPI_Iprobe(source, tag, comm, &flag, status));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return PyBool_FromLong(flag);
}

PyMethodDef fastmpi_p2p_methods[] = {
    {"Send", FASTMPI_FASTCALL(Comm_Send), METH_FASTCALL | METH_KEYWORDS,
     "Send($self, buf, dest, tag=0)\n--\n\n"
     "Send(buf, dest, tag=0): blocking send."},
    {"Ssend", FASTMPI_FASTCALL(Comm_Ssend), METH_FASTCALL | METH_KEYWORDS,
     "Ssend($self, buf, dest, tag=0)\n--\n\n"
     "Ssend(buf, dest, tag=0): synchronous send."},
    {"Rsend", FASTMPI_FASTCALL(Comm_Rsend), METH_FASTCALL | METH_KEYWORDS,
     "Rsend($self, buf, dest, tag=0)\n--\n\n"
     "Rsend(buf, dest, tag=0): ready send (the receive must be posted)."},
    {"Bsend", FASTMPI_FASTCALL(Comm_Bsend), METH_FASTCALL | METH_KEYWORDS,
     "Bsend($self, buf, dest, tag=0)\n--\n\n"
     "Bsend(buf, dest, tag=0): buffered send (see Attach_buffer)."},
    {"Recv", FASTMPI_FASTCALL(Comm_Recv), METH_FASTCALL | METH_KEYWORDS,
     "Recv($self, buf, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "Recv(buf, source=ANY_SOURCE, tag=ANY_TAG, status=None)."},
    {"Sendrecv", FASTMPI_FASTCALL(Comm_Sendrecv),
     METH_FASTCALL | METH_KEYWORDS,
     "Sendrecv($self, sendbuf, dest, sendtag=0, recvbuf=None, "
     "source=ANY_SOURCE, recvtag=ANY_TAG, status=None)\n--\n\n"
     "Sendrecv(sendbuf, dest, sendtag=0, recvbuf=None, "
     "source=ANY_SOURCE, recvtag=ANY_TAG, status=None)."},
    {"Sendrecv_replace", FASTMPI_FASTCALL(Comm_Sendrecv_replace),
     METH_FASTCALL | METH_KEYWORDS,
     "Sendrecv_replace($self, buf, dest, sendtag=0, source=ANY_SOURCE, "
     "recvtag=ANY_TAG, status=None)\n--\n\n"
     "Sendrecv_replace(buf, dest, sendtag=0, source=ANY_SOURCE, "
     "recvtag=ANY_TAG, status=None)."},
    {"Probe", FASTMPI_FASTCALL(Comm_Probe), METH_FASTCALL | METH_KEYWORDS,
     "Probe($self, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "Probe(source=ANY_SOURCE, tag=ANY_TAG, status=None) -> True."},
    {"Iprobe", FASTMPI_FASTCALL(Comm_Iprobe), METH_FASTCALL | METH_KEYWORDS,
     "Iprobe($self, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "Iprobe(source=ANY_SOURCE, tag=ANY_TAG, status=None) -> bool."},
    {"probe", FASTMPI_FASTCALL(Comm_Probe), METH_FASTCALL | METH_KEYWORDS,
     "probe($self, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "probe(source=ANY_SOURCE, tag=ANY_TAG, status=None) -> True."},
    {"iprobe", FASTMPI_FASTCALL(Comm_Iprobe), METH_FASTCALL | METH_KEYWORDS,
     "iprobe($self, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "iprobe(source=ANY_SOURCE, tag=ANY_TAG, status=None) -> bool."},
    {NULL},
};

/* ---- buffered-mode buffer ---------------------------------------------- */

/* Attach_buffer(MPI.BUFFER_AUTOMATIC): MPI-4.1's automatic buffering,
 * where the library has it; Detach_buffer then gives the marker back. */
static PyObject *
attach_automatic(PyObject *buf)
{
#if FASTMPI_HAVE_BUFFER_AUTOMATIC
    if (fastmpi_check(MPI_Buffer_attach(MPI_BUFFER_AUTOMATIC, 0)) < 0) {
        return NULL;
    }
    memset(&fastmpi_st->attached_view, 0, sizeof(Py_buffer));   /* none */
    fastmpi_st->attached_buffer = Py_NewRef(buf);
    Py_RETURN_NONE;
#else
    return PyErr_Format(PyExc_NotImplementedError,
                        "Attach_buffer(MPI.BUFFER_AUTOMATIC): automatic "
                        "buffering is MPI-4.1, and this MPI library (%s, "
                        "MPI %d.%d) does not have it; attach a buffer "
                        "(a bytearray, ...) instead",
                        FASTMPI_MPI_VENDOR, MPI_VERSION, MPI_SUBVERSION);
#endif
}

static PyObject *
Attach_buffer(PyObject *module, PyObject *buf)
{
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (fastmpi_st->attached_buffer != NULL) {
        return fastmpi_error_raise(MPI_ERR_BUFFER);
    }
    if (buf == fastmpi_st->BUFFER_AUTOMATIC) {
        return attach_automatic(buf);
    }
    Py_buffer view;
    if (fastmpi_buffer_get(buf, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS,
                           0, "Attach_buffer", "buf") < 0) {
        if (fastmpi_foreign_check(buf)) {
            return NULL;        /* DLPack, CAI (dlpack.c): it says why */
        }
        PyErr_Clear();
        return PyErr_Format(PyExc_TypeError,
                            "Attach_buffer() argument 'buf' must be a "
                            "writable contiguous buffer (e.g. bytearray), "
                            "not %.100s", Py_TYPE(buf)->tp_name);
    }
    if (view.len > INT_MAX) {
        PyBuffer_Release(&view);
        return PyErr_Format(PyExc_OverflowError,
                            "Attach_buffer() argument 'buf' is larger "
                            "than 2**31-1 bytes");
    }
    if (fastmpi_check(MPI_Buffer_attach(view.buf, (int)view.len)) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    fastmpi_st->attached_view = view;    /* holds a reference to buf */
    fastmpi_st->attached_buffer = Py_NewRef(buf);
    Py_RETURN_NONE;
}

static PyObject *
Detach_buffer(PyObject *module, PyObject *unused)
{
    void *addr = NULL;
    int size = 0, ierr;
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_Buffer_detach(&addr, &size);
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    PyObject *buf = fastmpi_st->attached_buffer;    /* owned, handed out */
    if (buf == NULL) {
        Py_RETURN_NONE;
    }
    PyBuffer_Release(&fastmpi_st->attached_view);
    fastmpi_st->attached_buffer = NULL;
    return buf;
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Attach_buffer, "Attach_buffer", "buf")

PyMethodDef fastmpi_buffer_functions[] = {
    {"Attach_buffer", FASTMPI_FASTCALL(Attach_buffer_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Attach_buffer($module, buf)\n--\n\n"
     "Attach_buffer(buf): the memory Bsend copies messages into."},
    {"Detach_buffer", Detach_buffer, METH_NOARGS,
     "Detach_buffer($module)\n--\n\n"
     "Detach_buffer() -> the attached buffer (waits for its messages)."},
    {NULL},
};
