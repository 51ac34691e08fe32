/* icoll.c: nonblocking collectives with buffers: Ibarrier, Ibcast,
 * Igather(v), Iscatter(v), Iallgather(v), Ialltoall(v, w), Ireduce,
 * Iallreduce, Ireduce_scatter(_block), Iscan, Iexscan.
 *
 * The arguments are checked and parsed as the blocking collective's
 * (coll.c's fastmpi_coll_prepare).  The Request then holds everything MPI
 * uses until the collective completes: both buffers (msg), the count,
 * displacement and datatype arrays (copied into one block, mem) and the
 * Op (keep).
 *
 * Not done yet: an exception raised by an Op.Create function during a
 * nonblocking reduction stays in the Op (the next blocking reduction with
 * that Op raises it); Wait does not raise it.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/op.h"
#include "../3_request/request.h"
#include "../4_comm/comm.h"
#include "coll.h"
#include "p2p.h"

#include <string.h>

/* The nonblocking MPI call for collective `which`. */
static int
coll_start(int which, fastmpi_coll *c, MPI_Request *req)
{
    fastmpi_msg *s = &c->s, *r = &c->r;
    fastmpi_vmsg *sv = &c->sv, *rv = &c->rv;
    MPI_Op op = c->op != NULL ? c->op->ob_mpi : MPI_OP_NULL;
    if (Py_UNLIKELY(fastmpi_vlarge_is(c))) {
        return fastmpi_vlarge_call(which, c, req);
    }
    switch (which) {
    case FASTMPI_COLL_BCAST:
        return MPI_Ibcast(s->addr, s->count, s->datatype, c->root, c->comm,
                          req);
    case FASTMPI_COLL_GATHER:
        return MPI_Igather(s->addr, s->count, s->datatype, r->addr,
                           r->count, r->datatype, c->root, c->comm, req);
    case FASTMPI_COLL_GATHERV:
        return MPI_Igatherv(s->addr, s->count, s->datatype, rv->msg.addr,
                            rv->counts, rv->displs, rv->msg.datatype,
                            c->root, c->comm, req);
    case FASTMPI_COLL_SCATTER:
        return MPI_Iscatter(s->addr, s->count, s->datatype, r->addr,
                            r->count, r->datatype, c->root, c->comm, req);
    case FASTMPI_COLL_SCATTERV:
        return MPI_Iscatterv(sv->msg.addr, sv->counts, sv->displs,
                             sv->msg.datatype, r->addr, r->count,
                             r->datatype, c->root, c->comm, req);
    case FASTMPI_COLL_ALLGATHER:
        return MPI_Iallgather(s->addr, s->count, s->datatype, r->addr,
                              r->count, r->datatype, c->comm, req);
    case FASTMPI_COLL_ALLGATHERV:
        return MPI_Iallgatherv(s->addr, s->count, s->datatype,
                               rv->msg.addr, rv->counts, rv->displs,
                               rv->msg.datatype, c->comm, req);
    case FASTMPI_COLL_ALLTOALL:
        return MPI_Ialltoall(s->addr, s->count, s->datatype, r->addr,
                             r->count, r->datatype, c->comm, req);
    case FASTMPI_COLL_ALLTOALLV:
        return MPI_Ialltoallv(sv->msg.addr, sv->counts, sv->displs,
                              sv->msg.datatype, rv->msg.addr, rv->counts,
                              rv->displs, rv->msg.datatype, c->comm, req);
    case FASTMPI_COLL_ALLTOALLW:
        return MPI_Ialltoallw(sv->msg.addr, sv->counts, sv->displs,
                              sv->types, rv->msg.addr, rv->counts,
                              rv->displs, rv->types, c->comm, req);
    case FASTMPI_COLL_REDUCE:
        return MPI_Ireduce(s->addr, r->addr, s->count, s->datatype, op,
                           c->root, c->comm, req);
    case FASTMPI_COLL_ALLREDUCE:
        return MPI_Iallreduce(s->addr, r->addr, r->count, r->datatype, op,
                              c->comm, req);
    case FASTMPI_COLL_REDUCE_SCATTER_BLOCK:
        return MPI_Ireduce_scatter_block(s->addr, r->addr, r->count,
                                         r->datatype, op, c->comm, req);
    case FASTMPI_COLL_REDUCE_SCATTER:
        return MPI_Ireduce_scatter(s->addr, r->addr, c->counts, r->datatype,
                                   op, c->comm, req);
    case FASTMPI_COLL_SCAN:
        return MPI_Iscan(s->addr, r->addr, r->count, r->datatype, op,
                         c->comm, req);
    case FASTMPI_COLL_EXSCAN:
        return MPI_Iexscan(s->addr, r->addr, r->count, r->datatype, op,
                           c->comm, req);
    }
    return MPI_ERR_INTERN;
}

/* Copy n items of `each` bytes from *arr to *at, point *arr there. */
static void
move_array(void **arr, char **at, int n, size_t each)
{
    if (*arr == NULL) {
        return;
    }
    memcpy(*at, *arr, each * (size_t)n);
    *arr = *at;
    *at += each * (size_t)n;
}

/* Move c's arrays (vector counts, displacements and datatypes,
 * Reduce_scatter's counts) into one new PyMem block, *mem, and free
 * their own blocks.  0, or -1 with MemoryError. */
static int
gather_arrays(fastmpi_coll *c, void **mem)
{
    fastmpi_vmsg *vs[2] = {c->sv_shared ? NULL : &c->sv, &c->rv};
    size_t types = 0, ints = 0, larges = 0;
    for (int k = 0; k < 2; k++) {
        if (vs[k] != NULL && vs[k]->counts != NULL) {
            types += vs[k]->types ? (size_t)vs[k]->blocks : 0;
            ints += 2 * (size_t)vs[k]->blocks;
        }
        if (vs[k] != NULL && vs[k]->lcounts != NULL) {
            larges += (size_t)vs[k]->blocks;   /* vlarge.c's, first */
        }
    }
    int ncounts = 0;
    if (c->counts != NULL) {
        /* Reduce_scatter has no vectors: its counts are one per rank */
        int size = 0;
        if (fastmpi_check(MPI_Comm_size(c->comm, &size)) < 0) {
            return -1;
        }
        ncounts = size;
        ints += (size_t)size;
    }
    if (types + ints + larges == 0) {
        *mem = NULL;
        return 0;
    }
    char *block = PyMem_Malloc(larges * (sizeof(MPI_Count) +
                                         sizeof(MPI_Aint)) +
                               types * sizeof(MPI_Datatype) +
                               ints * sizeof(int));
    if (block == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    char *at = block;
    for (int k = 0; k < 2; k++) {
        fastmpi_vmsg *v = vs[k];
        if (v != NULL && v->lcounts != NULL) {
            void *old = v->lcounts;
            move_array((void **)&v->lcounts, &at, v->blocks,
                       sizeof(MPI_Count));
            move_array((void **)&v->ldispls, &at, v->blocks,
                       sizeof(MPI_Aint));
            PyMem_Free(old);
        }
    }
    for (int k = 0; k < 2; k++) {
        fastmpi_vmsg *v = vs[k];
        if (v == NULL || v->counts == NULL) {
            continue;
        }
        /* the old block starts at types, or at counts without types */
        void *old = v->types != NULL ? (void *)v->types : (void *)v->counts;
        move_array((void **)&v->types, &at, v->blocks,
                   sizeof(MPI_Datatype));
        move_array((void **)&v->counts, &at, v->blocks, sizeof(int));
        move_array((void **)&v->displs, &at, v->blocks, sizeof(int));
        PyMem_Free(old);
    }
    if (c->counts != NULL) {
        void *old = c->counts;
        move_array((void **)&c->counts, &at, ncounts, sizeof(int));
        PyMem_Free(old);
    }
    if (c->sv_shared) {
        c->sv.counts = c->rv.counts;
        c->sv.displs = c->rv.displs;
        c->sv.types = c->rv.types;
        c->sv.lcounts = c->rv.lcounts;
        c->sv.ldispls = c->rv.ldispls;
    }
    *mem = block;
    return 0;
}

static PyObject *
coll_nonblocking(int which, const char *mpiname, FastMPICommObject *self,
                 PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                 fastmpi_argspec *spec)
{
    PyObject *argv[4];
    fastmpi_coll c;
    int ierr;
    if (fastmpi_coll_args(which, spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = NULL;
    if (fastmpi_coll_prepare(which, self, argv, spec->fname, &c) < 0 ||
        (req = fastmpi_request_new(fastmpi_st->Request)) == NULL ||
        (c.op != NULL &&
         fastmpi_request_keep(req, (PyObject *)c.op) < 0) ||
        (c.op != NULL && c.op->kind == FASTMPI_OP_USER &&
         (req->op = Py_NewRef((PyObject *)c.op)) == NULL) ||
        gather_arrays(&c, &req->mem) < 0) {
        fastmpi_coll_release(&c);
        Py_XDECREF(req);
        return NULL;
    }
    /* the buffers pass to the request: c no longer releases them */
    int vsend = which == FASTMPI_COLL_SCATTERV ||
                which == FASTMPI_COLL_ALLTOALLV ||
                which == FASTMPI_COLL_ALLTOALLW;
    int vrecv = which == FASTMPI_COLL_GATHERV ||
                which == FASTMPI_COLL_ALLGATHERV ||
                which == FASTMPI_COLL_ALLTOALLV ||
                which == FASTMPI_COLL_ALLTOALLW;
    fastmpi_msg *s = vsend ? &c.sv.msg : &c.s;
    fastmpi_msg *r = vrecv ? &c.rv.msg : &c.r;
    req->msg[0] = *s;
    req->msg[1] = *r;
    req->nmsg = 2;
    s->view.obj = r->view.obj = NULL;
    s->owner = r->owner = NULL;
    Py_ssize_t bytes = s->nbytes + r->nbytes;
#if defined(MPICH_VERSION)
    if (Py_UNLIKELY(c.inter) && which == FASTMPI_COLL_BCAST) {
        /* MPICH 4.0.2's MPI_Ibcast on an intercommunicator broadcasts
         * in the receiving group from local rank `root` instead of 0:
         * wrong data whenever root > 0 (reproduced in C).  Its MPI_Bcast
         * is right: every rank (each knows the library and that this is
         * an intercommunicator) broadcasts blocking, and the request is
         * complete at once. */
        FASTMPI_NOGIL_BEGIN
        FASTMPI_CALL("MPI_Bcast", c.comm, c.root, 0, bytes,
                     ierr = MPI_Bcast(s->addr, s->count, s->datatype,
                                      c.root, c.comm));
        FASTMPI_NOGIL_END
        req->ob_mpi = MPI_REQUEST_NULL;
    }
    else
#endif
    FASTMPI_CALL(mpiname, c.comm, c.root, 0, bytes,
                 ierr = coll_start(which, &c, &req->ob_mpi));
    /* the arrays are the request's (mem) now */
    c.sv.counts = c.rv.counts = NULL;
    c.sv.types = c.rv.types = NULL;
    c.sv.lcounts = c.rv.lcounts = NULL;
    c.counts = NULL;
    fastmpi_coll_release(&c);
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

#define DEFINE_ICOLL(NAME, WHICH)                                          \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *const *args, Py_ssize_t nargs,  \
                                 PyObject *kwnames)                        \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, NULL, 0};                    \
        return coll_nonblocking(WHICH, "MPI_" #NAME, self, args, nargs,    \
                                kwnames, &spec);                           \
    }

DEFINE_ICOLL(Ibcast, FASTMPI_COLL_BCAST)
DEFINE_ICOLL(Igather, FASTMPI_COLL_GATHER)
DEFINE_ICOLL(Igatherv, FASTMPI_COLL_GATHERV)
DEFINE_ICOLL(Iscatter, FASTMPI_COLL_SCATTER)
DEFINE_ICOLL(Iscatterv, FASTMPI_COLL_SCATTERV)
DEFINE_ICOLL(Iallgather, FASTMPI_COLL_ALLGATHER)
DEFINE_ICOLL(Iallgatherv, FASTMPI_COLL_ALLGATHERV)
DEFINE_ICOLL(Ialltoall, FASTMPI_COLL_ALLTOALL)
DEFINE_ICOLL(Ialltoallv, FASTMPI_COLL_ALLTOALLV)
DEFINE_ICOLL(Ialltoallw, FASTMPI_COLL_ALLTOALLW)
DEFINE_ICOLL(Ireduce, FASTMPI_COLL_REDUCE)
DEFINE_ICOLL(Iallreduce, FASTMPI_COLL_ALLREDUCE)
DEFINE_ICOLL(Ireduce_scatter_block, FASTMPI_COLL_REDUCE_SCATTER_BLOCK)
DEFINE_ICOLL(Ireduce_scatter, FASTMPI_COLL_REDUCE_SCATTER)
DEFINE_ICOLL(Iscan, FASTMPI_COLL_SCAN)
DEFINE_ICOLL(Iexscan, FASTMPI_COLL_EXSCAN)

static PyObject *
Comm_Ibarrier(FastMPICommObject *self, PyObject *unused)
{
    int ierr;
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new(fastmpi_st->Request);
    if (req == NULL) {
        return NULL;
    }
    FASTMPI_CALL("MPI_Ibarrier", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Ibarrier(self->ob_mpi, &req->ob_mpi));
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

#define ICOLL_METHOD(name, doc)                                            \
    {#name, FASTMPI_FASTCALL(Comm_##name), METH_FASTCALL | METH_KEYWORDS,  \
     doc " -> Request."}

PyMethodDef fastmpi_icoll_methods[] = {
    {"Ibarrier", (PyCFunction)Comm_Ibarrier, METH_NOARGS,
     "Ibarrier($self)\n--\n\n"
     "Ibarrier() -> Request: nonblocking barrier."},
    ICOLL_METHOD(Ibcast, "Ibcast($self, buf, root=0)\n--\n\n"
                         "Ibcast(buf, root=0)"),
    ICOLL_METHOD(Igather, "Igather($self, sendbuf, recvbuf, root=0)\n--\n\n"
                          "Igather(sendbuf, recvbuf, root=0)"),
    ICOLL_METHOD(Igatherv, "Igatherv($self, sendbuf, recvbuf, root=0)\n--\n\n"
                           "Igatherv(sendbuf, recvbuf, root=0)"),
    ICOLL_METHOD(Iscatter, "Iscatter($self, sendbuf, recvbuf, root=0)\n--\n\n"
                           "Iscatter(sendbuf, recvbuf, root=0)"),
    ICOLL_METHOD(Iscatterv, "Iscatterv($self, sendbuf, recvbuf, "
                            "root=0)\n--\n\n"
                            "Iscatterv(sendbuf, recvbuf, root=0)"),
    ICOLL_METHOD(Iallgather, "Iallgather($self, sendbuf, recvbuf)\n--\n\n"
                             "Iallgather(sendbuf, recvbuf)"),
    ICOLL_METHOD(Iallgatherv, "Iallgatherv($self, sendbuf, recvbuf)\n--\n\n"
                              "Iallgatherv(sendbuf, recvbuf)"),
    ICOLL_METHOD(Ialltoall, "Ialltoall($self, sendbuf, recvbuf)\n--\n\n"
                            "Ialltoall(sendbuf, recvbuf)"),
    ICOLL_METHOD(Ialltoallv, "Ialltoallv($self, sendbuf, recvbuf)\n--\n\n"
                             "Ialltoallv(sendbuf, recvbuf)"),
    ICOLL_METHOD(Ialltoallw, "Ialltoallw($self, sendbuf, recvbuf)\n--\n\n"
                             "Ialltoallw(sendbuf, recvbuf)"),
    ICOLL_METHOD(Ireduce, "Ireduce($self, sendbuf, recvbuf, op=SUM, "
                          "root=0)\n--\n\n"
                          "Ireduce(sendbuf, recvbuf, op=SUM, root=0)"),
    ICOLL_METHOD(Iallreduce, "Iallreduce($self, sendbuf, recvbuf, "
                             "op=SUM)\n--\n\n"
                             "Iallreduce(sendbuf, recvbuf, op=SUM)"),
    ICOLL_METHOD(Ireduce_scatter_block,
                 "Ireduce_scatter_block($self, sendbuf, recvbuf, "
                 "op=SUM)\n--\n\n"
                 "Ireduce_scatter_block(sendbuf, recvbuf, op=SUM)"),
    ICOLL_METHOD(Ireduce_scatter,
                 "Ireduce_scatter($self, sendbuf, recvbuf, recvcounts=None, "
                 "op=SUM)\n--\n\n"
                 "Ireduce_scatter(sendbuf, recvbuf, recvcounts=None, "
                 "op=SUM)"),
    {NULL},
};

/* The prefix reductions are Intracomm's only, as in mpi4py. */
PyMethodDef fastmpi_icoll_intracomm_methods[] = {
    ICOLL_METHOD(Iscan, "Iscan($self, sendbuf, recvbuf, op=SUM)\n--\n\n"
                        "Iscan(sendbuf, recvbuf, op=SUM)"),
    ICOLL_METHOD(Iexscan, "Iexscan($self, sendbuf, recvbuf, op=SUM)\n--\n\n"
                          "Iexscan(sendbuf, recvbuf, op=SUM)"),
    {NULL},
};
