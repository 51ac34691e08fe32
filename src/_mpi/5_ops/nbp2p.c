/* nbp2p.c: nonblocking and persistent point-to-point with buffers:
 * Isend, Ibsend, Issend, Irsend, Irecv, Isendrecv, Isendrecv_replace;
 * Send_init, Bsend_init, Ssend_init, Rsend_init, Recv_init.
 *
 * The parsed buffer goes into the request (fastmpi.h), which holds it
 * until MPI has completed the operation.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/msgbuffer.h"
#include "../3_request/request.h"
#include "../4_comm/comm.h"
#include "p2p.h"

/* The receive calls take a non-const buffer: one signature for all. */
static int
irecv(const void *buf, int count, MPI_Datatype dt, int source, int tag,
      MPI_Comm comm, MPI_Request *request)
{
    return MPI_Irecv((void *)buf, count, dt, source, tag, comm, request);
}

static int
recv_init(const void *buf, int count, MPI_Datatype dt, int source, int tag,
          MPI_Comm comm, MPI_Request *request)
{
    return MPI_Recv_init((void *)buf, count, dt, source, tag, comm,
                         request);
}

enum { SEND = 0, RECV = 1, PERSISTENT = 2 };

static const char *const send_names[] = {"buf", "dest", "tag", NULL};
static const char *const recv_names[] = {"buf", "source", "tag", NULL};

static PyObject *
start_common(FastMPICommObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames, fastmpi_argspec *spec,
             fastmpi_start_fn fn, const char *mpiname, int how)
{
    PyObject *argv[3];
    int peer, tag, ierr, recv = how & RECV;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(spec, 1, argv[1], recv ? MPI_ANY_SOURCE : 0,
                        &peer) < 0 ||
        fastmpi_arg_int(spec, 2, argv[2], recv ? MPI_ANY_TAG : 0, &tag) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new(
        how & PERSISTENT ? fastmpi_st->Prequest : fastmpi_st->Request);
    if (req == NULL) {
        return NULL;
    }
    fastmpi_msg *msg = &req->msg[0];
    if (fastmpi_msg_parse(argv[0], recv ? FASTMPI_MSG_RECV : FASTMPI_MSG_SEND,
                          peer, spec->fname, "buf", msg) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    req->nmsg = 1;
    req->recv = (unsigned char)recv;
    req->procnull = recv && peer == MPI_PROC_NULL;
    req->persistent = (how & PERSISTENT) != 0;
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_CALL(mpiname, comm, peer, tag, msg->nbytes,
                 ierr = fn(msg->addr, msg->count, msg->datatype, peer, tag,
                           comm, &req->ob_mpi));
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

#define DEFINE_START(NAME, FN, NAMES, HOW)                                 \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *const *args, Py_ssize_t nargs,  \
                                 PyObject *kwnames)                        \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, NAMES, 1};                   \
        return start_common(self, args, nargs, kwnames, &spec, FN,         \
                            "MPI_" #NAME, HOW);                            \
    }

DEFINE_START(Isend, MPI_Isend, send_names, SEND)
DEFINE_START(Ibsend, MPI_Ibsend, send_names, SEND)
DEFINE_START(Issend, MPI_Issend, send_names, SEND)
DEFINE_START(Irsend, MPI_Irsend, send_names, SEND)
DEFINE_START(Irecv, irecv, recv_names, RECV)
DEFINE_START(Send_init, MPI_Send_init, send_names, SEND | PERSISTENT)
DEFINE_START(Bsend_init, MPI_Bsend_init, send_names, SEND | PERSISTENT)
DEFINE_START(Ssend_init, MPI_Ssend_init, send_names, SEND | PERSISTENT)
DEFINE_START(Rsend_init, MPI_Rsend_init, send_names, SEND | PERSISTENT)
DEFINE_START(Recv_init, recv_init, recv_names, RECV | PERSISTENT)

#if MPI_VERSION >= 4

static PyObject *
Comm_Isendrecv(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendbuf", "dest", "sendtag",
                                        "recvbuf", "source", "recvtag",
                                        NULL};
    static fastmpi_argspec spec = {"Isendrecv", names, 2};
    PyObject *argv[6];
    int dest, sendtag, source, recvtag, ierr;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &dest) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &sendtag) < 0 ||
        fastmpi_arg_int(&spec, 4, argv[4], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(&spec, 5, argv[5], MPI_ANY_TAG, &recvtag) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new(fastmpi_st->Request);
    if (req == NULL) {
        return NULL;
    }
    fastmpi_msg *s = &req->msg[0], *r = &req->msg[1];
    if (fastmpi_msg_parse(argv[0], FASTMPI_MSG_SEND, dest, "Isendrecv",
                          "sendbuf", s) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    req->nmsg = 1;
    if (fastmpi_msg_parse(argv[3] ? argv[3] : Py_None, FASTMPI_MSG_RECV,
                          source, "Isendrecv", "recvbuf", r) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    req->nmsg = 2;
    req->recv = 1;
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_CALL("MPI_Isendrecv", comm, dest, sendtag, s->nbytes + r->nbytes,
                 ierr = MPI_Isendrecv(s->addr, s->count, s->datatype, dest,
                                      sendtag, r->addr, r->count,
                                      r->datatype, source, recvtag, comm,
                                      &req->ob_mpi));
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

static PyObject *
Comm_Isendrecv_replace(FastMPICommObject *self, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"buf", "dest", "sendtag", "source",
                                        "recvtag", NULL};
    static fastmpi_argspec spec = {"Isendrecv_replace", names, 2};
    PyObject *argv[5];
    int dest, sendtag, source, recvtag, ierr;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &dest) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &sendtag) < 0 ||
        fastmpi_arg_int(&spec, 3, argv[3], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(&spec, 4, argv[4], MPI_ANY_TAG, &recvtag) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new(fastmpi_st->Request);
    if (req == NULL) {
        return NULL;
    }
    fastmpi_msg *m = &req->msg[0];
    /* the buffer is sent and then received into: it must be writable */
    if (fastmpi_msg_parse(argv[0], FASTMPI_MSG_RECV, dest,
                          "Isendrecv_replace", "buf", m) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    req->nmsg = 1;
    req->recv = 1;
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_CALL("MPI_Isendrecv_replace", comm, dest, sendtag, m->nbytes,
                 ierr = MPI_Isendrecv_replace(m->addr, m->count, m->datatype,
                                              dest, sendtag, source, recvtag,
                                              comm, &req->ob_mpi));
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

#else   /* MPI-3: no nonblocking sendrecv */

static PyObject *
needs_mpi4(const char *fname)
{
    return PyErr_Format(PyExc_NotImplementedError,
                        "%s() needs an MPI-4 library; this one (%s) "
                        "implements MPI-%d.%d", fname, FASTMPI_MPI_VENDOR,
                        MPI_VERSION, MPI_SUBVERSION);
}

static PyObject *
Comm_Isendrecv(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    return needs_mpi4("Isendrecv");
}

static PyObject *
Comm_Isendrecv_replace(FastMPICommObject *self, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames)
{
    return needs_mpi4("Isendrecv_replace");
}

#endif

#define FC(f) FASTMPI_FASTCALL(f), METH_FASTCALL | METH_KEYWORDS

PyMethodDef fastmpi_nbp2p_methods[] = {
    {"Isend", FC(Comm_Isend), "Isend($self, buf, dest, tag=0)\n--\n\n"
                              "Isend(buf, dest, tag=0) -> Request"},
    {"Ibsend", FC(Comm_Ibsend), "Ibsend($self, buf, dest, tag=0)\n--\n\n"
                                "Ibsend(buf, dest, tag=0) -> Request"},
    {"Issend", FC(Comm_Issend), "Issend($self, buf, dest, tag=0)\n--\n\n"
                                "Issend(buf, dest, tag=0) -> Request"},
    {"Irsend", FC(Comm_Irsend), "Irsend($self, buf, dest, tag=0)\n--\n\n"
                                "Irsend(buf, dest, tag=0) -> Request"},
    {"Irecv", FC(Comm_Irecv),
     "Irecv($self, buf, source=ANY_SOURCE, tag=ANY_TAG)\n--\n\n"
     "Irecv(buf, source=ANY_SOURCE, tag=ANY_TAG) -> Request"},
    {"Isendrecv", FC(Comm_Isendrecv),
     "Isendrecv($self, sendbuf, dest, sendtag=0, recvbuf=None, "
     "source=ANY_SOURCE, recvtag=ANY_TAG)\n--\n\n"
     "Isendrecv(sendbuf, dest, sendtag=0, recvbuf=None, "
     "source=ANY_SOURCE, recvtag=ANY_TAG) -> Request (MPI-4)"},
    {"Isendrecv_replace", FC(Comm_Isendrecv_replace),
     "Isendrecv_replace($self, buf, dest, sendtag=0, source=ANY_SOURCE, "
     "recvtag=ANY_TAG)\n--\n\n"
     "Isendrecv_replace(buf, dest, sendtag=0, source=ANY_SOURCE, "
     "recvtag=ANY_TAG) -> Request (MPI-4)"},
    {"Send_init", FC(Comm_Send_init),
     "Send_init($self, buf, dest, tag=0)\n--\n\n"
     "Send_init(buf, dest, tag=0) -> Prequest"},
    {"Bsend_init", FC(Comm_Bsend_init),
     "Bsend_init($self, buf, dest, tag=0)\n--\n\n"
     "Bsend_init(buf, dest, tag=0) -> Prequest"},
    {"Ssend_init", FC(Comm_Ssend_init),
     "Ssend_init($self, buf, dest, tag=0)\n--\n\n"
     "Ssend_init(buf, dest, tag=0) -> Prequest"},
    {"Rsend_init", FC(Comm_Rsend_init),
     "Rsend_init($self, buf, dest, tag=0)\n--\n\n"
     "Rsend_init(buf, dest, tag=0) -> Prequest"},
    {"Recv_init", FC(Comm_Recv_init),
     "Recv_init($self, buf, source=ANY_SOURCE, tag=ANY_TAG)\n--\n\n"
     "Recv_init(buf, source=ANY_SOURCE, tag=ANY_TAG) -> Prequest"},
    {NULL},
};
