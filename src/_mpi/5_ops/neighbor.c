/* neighbor.c: neighbourhood collectives on a Topocomm:
 * Neighbor_allgather(v), Neighbor_alltoall(v, w), their nonblocking
 * Ineighbor_* forms, and the object forms neighbor_allgather and
 * neighbor_alltoall.
 *
 * Buffers are parsed as coll.c's (msgbuffer.c / vspec.c specs), with one
 * block per neighbour: a receive buffer splits into indegree blocks, a
 * send buffer of alltoall into outdegree blocks.  MPI.IN_PLACE is not
 * allowed (MPI has none for these).  A side with no neighbours may be
 * None.  Every check happens before MPI is called.
 *
 * The count, displacement and datatype arrays live in one PyMem block
 * (nbr.mem); a nonblocking call hands that block and both buffers to its
 * Request, which releases them when MPI is done (request.c).
 *
 * Objects travel pickled, as objcoll.c's collectives send them (one
 * fastmpi_objx_exchange): each rank's sizes first (one small neighbour
 * collective), then the bytes (a v-collective into one bytearray, each
 * message at a 64-byte boundary).  A neighbour that is MPI.PROC_NULL (the
 * edge of a non-periodic Cartesian dimension) sends nothing: its place in
 * the result is None, as in mpi4py.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/msgbuffer.h"
#include "../3_request/request.h"
#include "../4_comm/comm.h"
#include "coll.h"
#include "p2p.h"
#include "topology.h"

#include <string.h>

enum {
    NBR_ALLGATHER = 0,
    NBR_ALLGATHERV,
    NBR_ALLTOALL,
    NBR_ALLTOALLV,
    NBR_ALLTOALLW,
};

typedef struct {
    fastmpi_msg s, r;
    void *mem;                  /* PyMem or NULL: the arrays below */
    int *scounts, *sdispls, *rcounts, *rdispls;
    MPI_Datatype *stypes, *rtypes;
    MPI_Aint *swdispls, *rwdispls;
    int indeg, outdeg;
    MPI_Comm comm;
} nbr;

static void
msg_empty(fastmpi_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->datatype = MPI_BYTE;
}

static void
nbr_release(nbr *n)
{
    fastmpi_msg_release(&n->s);
    fastmpi_msg_release(&n->r);
    PyMem_Free(n->mem);
    n->mem = NULL;
}

static int
refuse_in_place(PyObject *obj, const char *fname, const char *argname)
{
    if (obj == fastmpi_st->IN_PLACE) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': MPI.IN_PLACE is not allowed in "
                     "neighbourhood collectives", fname, argname);
        return -1;
    }
    if (obj == NULL) {
        PyErr_Format(PyExc_TypeError, "%s() missing argument '%s'", fname,
                     argname);
        return -1;
    }
    return 0;
}

/* A plain or block buffer for `blocks` neighbours (blocks < 0: plain). */
static int
parse_buffer(PyObject *obj, int mode, int blocks, const char *fname,
             const char *argname, fastmpi_msg *m)
{
    if (refuse_in_place(obj, fname, argname) < 0) {
        return -1;
    }
    if (obj == Py_None && blocks == 0) {
        msg_empty(m);
        return 0;
    }
    if (blocks < 0) {
        return fastmpi_msg_parse(obj, mode, 0, fname, argname, m);
    }
    return fastmpi_msg_parse_blocks(obj, mode, blocks, fname, argname, m);
}

/* A vector buffer for `blocks` neighbours: its buffer into *m, its arrays
 * copied to counts, displs (ints; or bytes as MPI_Aint into adispls) and
 * types. */
static int
parse_vector(PyObject *obj, int mode, int blocks, int with_types,
             const char *fname, const char *argname, fastmpi_msg *m,
             int *counts, int *displs, MPI_Aint *adispls,
             MPI_Datatype *types)
{
    fastmpi_vmsg v;
    if (refuse_in_place(obj, fname, argname) < 0) {
        return -1;
    }
    if (obj == Py_None && blocks == 0) {
        msg_empty(m);
        return 0;
    }
    if (fastmpi_vmsg_parse(obj, mode, blocks,
                           with_types ? FASTMPI_VMSG_TYPES_AINT : 0, fname,
                           argname, &v) < 0) {
        return -1;
    }
    for (int i = 0; i < blocks; i++) {
        counts[i] = v.counts[i];
        if (with_types) {
            adispls[i] = v.wdispls[i];     /* BOTTOM: addresses */
            types[i] = v.types[i];
        }
        else {
            displs[i] = v.displs[i];
        }
    }
    *m = v.msg;                 /* the view passes to *m */
    PyMem_Free(v.types != NULL ? (void *)v.types : (void *)v.counts);
    return 0;
}

/* The arrays of the vector variants, for in + out blocks. */
static int
alloc_arrays(nbr *n)
{
    size_t in = (size_t)n->indeg, out = (size_t)n->outdeg;
    size_t size = (in + out) * (2 * sizeof(int) + sizeof(MPI_Aint) +
                                sizeof(MPI_Datatype)) + 1;
    char *block = PyMem_Malloc(size);
    if (block == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    n->mem = block;
    /* MPI_Aint first: the strictest alignment */
    n->swdispls = (MPI_Aint *)block;
    n->rwdispls = n->swdispls + out;
    n->stypes = (MPI_Datatype *)(n->rwdispls + in);
    n->rtypes = n->stypes + out;
    n->scounts = (int *)(n->rtypes + in);
    n->sdispls = n->scounts + out;
    n->rcounts = n->sdispls + out;
    n->rdispls = n->rcounts + in;
    return 0;
}

/* 0, or -1 with NotImplementedError where the library's alltoallw is
 * broken (compat.h): on MPICH 4.0, a distributed graph in which any
 * process has different in- and out-degrees.  Every process of the
 * communicator takes part in a neighbourhood collective, so they agree
 * with one MPI_Allreduce and all raise together. */
static int
alltoallw_supported(nbr *n, const char *fname)
{
    if (!FASTMPI_NEIGHBOR_ALLTOALLW_UNEVEN_BROKEN) {
        return 0;
    }
    int topo, uneven = n->indeg != n->outdeg, ierr;
    if (fastmpi_check(MPI_Topo_test(n->comm, &topo)) < 0) {
        return -1;
    }
    if (topo != MPI_DIST_GRAPH) {
        return 0;
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Allreduce", n->comm, MPI_PROC_NULL, 0, sizeof(int),
                 ierr = MPI_Allreduce(MPI_IN_PLACE, &uneven, 1, MPI_INT,
                                      MPI_LOR, n->comm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return -1;
    }
    if (uneven) {
        PyErr_Format(PyExc_NotImplementedError,
                     "%s(): MPICH 4.0's neighbor_alltoallw loses data on a "
                     "distributed graph whose in- and out-degrees differ "
                     "somewhere; use %s on such graphs", fname,
                     fname[0] == 'I' ? "Ineighbor_alltoallv"
                                     : "Neighbor_alltoallv");
        return -1;
    }
    return 0;
}

/* Check and parse a neighbour collective's arguments.  0, or -1 with an
 * exception; either way the caller calls nbr_release(n). */
static int
nbr_prepare(int which, FastMPICommObject *self, PyObject **argv,
            const char *fname, nbr *n)
{
    memset(n, 0, sizeof(*n));
    msg_empty(&n->s);
    msg_empty(&n->r);
    n->comm = self->ob_mpi;
    if (fastmpi_topo_neighbors(self, fname, &n->indeg, &n->outdeg, NULL,
                               NULL) < 0) {
        return -1;
    }
    int in = n->indeg, out = n->outdeg;
    switch (which) {
    case NBR_ALLGATHER:
    case NBR_ALLTOALL:
        if (parse_buffer(argv[0], FASTMPI_MSG_SEND,
                         which == NBR_ALLGATHER ? -1 : out, fname,
                         "sendbuf", &n->s) < 0 ||
            parse_buffer(argv[1], FASTMPI_MSG_RECV, in, fname, "recvbuf",
                         &n->r) < 0) {
            return -1;
        }
        /* Open MPI 4.1.4 skips a rank's sends when its receive count is 0
         * (and so hangs its out-neighbours), even with no in-neighbours:
         * a side without neighbours takes the other side's count. */
        if (in == 0) {
            n->r.count = n->s.count;
            n->r.datatype = n->s.datatype;
        }
        if (out == 0) {
            n->s.count = n->r.count;
            n->s.datatype = n->r.datatype;
        }
        return 0;
    case NBR_ALLGATHERV:
        if (alloc_arrays(n) < 0 ||
            parse_buffer(argv[0], FASTMPI_MSG_SEND, -1, fname, "sendbuf",
                         &n->s) < 0) {
            return -1;
        }
        return parse_vector(argv[1], FASTMPI_MSG_RECV, in, 0, fname,
                            "recvbuf", &n->r, n->rcounts, n->rdispls, NULL,
                            NULL);
    default: {
        int w = which == NBR_ALLTOALLW;
        if (alloc_arrays(n) < 0 ||
            parse_vector(argv[0], FASTMPI_MSG_SEND, out, w, fname,
                         "sendbuf", &n->s, n->scounts, n->sdispls,
                         n->swdispls, n->stypes) < 0) {
            return -1;
        }
        if (parse_vector(argv[1], FASTMPI_MSG_RECV, in, w, fname,
                         "recvbuf", &n->r, n->rcounts, n->rdispls,
                         n->rwdispls, n->rtypes) < 0) {
            return -1;
        }
        return w ? alltoallw_supported(n, fname) : 0;
    }
    }
}

/* The blocking MPI call (no Python API: runs without the GIL). */
static int
nbr_call(int which, nbr *n)
{
    fastmpi_msg *s = &n->s, *r = &n->r;
    switch (which) {
    case NBR_ALLGATHER:
        return MPI_Neighbor_allgather(s->addr, s->count, s->datatype,
                                      r->addr, r->count, r->datatype,
                                      n->comm);
    case NBR_ALLGATHERV:
        return MPI_Neighbor_allgatherv(s->addr, s->count, s->datatype,
                                       r->addr, n->rcounts, n->rdispls,
                                       r->datatype, n->comm);
    case NBR_ALLTOALL:
        return MPI_Neighbor_alltoall(s->addr, s->count, s->datatype,
                                     r->addr, r->count, r->datatype,
                                     n->comm);
    case NBR_ALLTOALLV:
        return MPI_Neighbor_alltoallv(s->addr, n->scounts, n->sdispls,
                                      s->datatype, r->addr, n->rcounts,
                                      n->rdispls, r->datatype, n->comm);
    case NBR_ALLTOALLW:
        return MPI_Neighbor_alltoallw(s->addr, n->scounts, n->swdispls,
                                      n->stypes, r->addr, n->rcounts,
                                      n->rwdispls, n->rtypes, n->comm);
    }
    return MPI_ERR_INTERN;
}

static int
nbr_start(int which, nbr *n, MPI_Request *req)
{
    fastmpi_msg *s = &n->s, *r = &n->r;
    switch (which) {
    case NBR_ALLGATHER:
        return MPI_Ineighbor_allgather(s->addr, s->count, s->datatype,
                                       r->addr, r->count, r->datatype,
                                       n->comm, req);
    case NBR_ALLGATHERV:
        return MPI_Ineighbor_allgatherv(s->addr, s->count, s->datatype,
                                        r->addr, n->rcounts, n->rdispls,
                                        r->datatype, n->comm, req);
    case NBR_ALLTOALL:
        return MPI_Ineighbor_alltoall(s->addr, s->count, s->datatype,
                                      r->addr, r->count, r->datatype,
                                      n->comm, req);
    case NBR_ALLTOALLV:
        return MPI_Ineighbor_alltoallv(s->addr, n->scounts, n->sdispls,
                                       s->datatype, r->addr, n->rcounts,
                                       n->rdispls, r->datatype, n->comm,
                                       req);
    case NBR_ALLTOALLW:
        return MPI_Ineighbor_alltoallw(s->addr, n->scounts, n->swdispls,
                                       n->stypes, r->addr, n->rcounts,
                                       n->rwdispls, n->rtypes, n->comm,
                                       req);
    }
    return MPI_ERR_INTERN;
}

static const char *const nbr_names[] = {"sendbuf", "recvbuf", NULL};

static PyObject *
nbr_blocking(int which, const char *mpiname, FastMPICommObject *self,
             PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
             fastmpi_argspec *spec)
{
    PyObject *argv[2];
    nbr n;
    int ierr;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (nbr_prepare(which, self, argv, spec->fname, &n) < 0) {
        nbr_release(&n);
        return NULL;
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL(mpiname, n.comm, MPI_PROC_NULL, 0,
                 n.s.nbytes + n.r.nbytes, ierr = nbr_call(which, &n));
    FASTMPI_NOGIL_END
    nbr_release(&n);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
nbr_nonblocking(int which, const char *mpiname, FastMPICommObject *self,
                PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                fastmpi_argspec *spec)
{
    PyObject *argv[2];
    nbr n;
    int ierr;
    FastMPIRequestObject *req = NULL;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (nbr_prepare(which, self, argv, spec->fname, &n) < 0 ||
        (req = fastmpi_request_new(fastmpi_st->Request)) == NULL) {
        nbr_release(&n);
        return NULL;
    }
    /* buffers and arrays pass to the request, which releases them */
    req->msg[0] = n.s;
    req->msg[1] = n.r;
    req->nmsg = 2;
    req->mem = n.mem;
    FASTMPI_CALL(mpiname, n.comm, MPI_PROC_NULL, 0,
                 n.s.nbytes + n.r.nbytes,
                 ierr = nbr_start(which, &n, &req->ob_mpi));
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(req);
        return NULL;
    }
    return fastmpi_request_started(req);
}

#define DEFINE_NBR(NAME, INAME, WHICH)                                     \
    static PyObject *Topocomm_##NAME(FastMPICommObject *self,              \
                                     PyObject *const *args,                \
                                     Py_ssize_t nargs, PyObject *kwnames)  \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, nbr_names, 2};               \
        return nbr_blocking(WHICH, "MPI_" #NAME, self, args, nargs,        \
                            kwnames, &spec);                               \
    }                                                                      \
    static PyObject *Topocomm_##INAME(FastMPICommObject *self,             \
                                      PyObject *const *args,               \
                                      Py_ssize_t nargs, PyObject *kwnames) \
    {                                                                      \
        static fastmpi_argspec spec = {#INAME, nbr_names, 2};              \
        return nbr_nonblocking(WHICH, "MPI_" #INAME, self, args, nargs,    \
                               kwnames, &spec);                            \
    }

DEFINE_NBR(Neighbor_allgather, Ineighbor_allgather, NBR_ALLGATHER)
DEFINE_NBR(Neighbor_allgatherv, Ineighbor_allgatherv, NBR_ALLGATHERV)
DEFINE_NBR(Neighbor_alltoall, Ineighbor_alltoall, NBR_ALLTOALL)
DEFINE_NBR(Neighbor_alltoallv, Ineighbor_alltoallv, NBR_ALLTOALLV)
DEFINE_NBR(Neighbor_alltoallw, Ineighbor_alltoallw, NBR_ALLTOALLW)

/* ---- objects ------------------------------------------------------------ */

/* *dup = 1 for a Cartesian grid with a periodic dimension of size 1 or 2,
 * where a process is the same neighbour twice in one dimension.  There
 * MPI says the block received from the lower neighbour is the one it sent
 * upwards; MPICH 4.0.2's (I)neighbor_alltoallv/w and Open MPI 4.1.4's
 * Ineighbor_alltoall(v) match the two messages in the order sent instead.
 * Both libraries' blocking MPI_Neighbor_alltoall get it right. */
static int
cart_duplicates(MPI_Comm comm, int *dup)
{
    int topo, n;
    *dup = 0;
    if (fastmpi_check(MPI_Topo_test(comm, &topo)) < 0) {
        return -1;
    }
    if (topo != MPI_CART) {
        return 0;
    }
    if (fastmpi_check(MPI_Cartdim_get(comm, &n)) < 0) {
        return -1;
    }
    int *all = PyMem_Malloc(sizeof(int) * (size_t)(3 * n + 1));
    if (all == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int rc = fastmpi_check(MPI_Cart_get(comm, n, all, all + n, all + 2 * n));
    for (int i = 0; rc == 0 && i < n; i++) {
        if (all[n + i] && all[i] <= 2) {
            *dup = 1;
        }
    }
    PyMem_Free(all);
    return rc;
}

/* neighbor_allgather (all = 1: sendobj to every neighbour) and
 * neighbor_alltoall (0: sendobj a sequence, one item per neighbour), as
 * objcoll.c exchanges objects. */
static PyObject *
object_exchange(FastMPICommObject *self, PyObject *sendobj, int all,
                const char *fname)
{
    int indeg, outdeg, *in = NULL, *out;
    if (fastmpi_topo_neighbors(self, fname, &indeg, &outdeg, &in, &out) <
        0) {
        return NULL;
    }
    fastmpi_objx x = {all ? FASTMPI_OBJX_NBR_ALLGATHER
                          : FASTMPI_OBJX_NBR_ALLTOALL,
                      self->ob_mpi, 0, outdeg, indeg, 1, 1, in, 0};
    if (!all && cart_duplicates(x.comm, &x.dup) < 0) {
        PyMem_Free(in);
        return NULL;
    }
    PyObject *result = fastmpi_objx_exchange(&x, sendobj, fname);
    PyMem_Free(in);
    return result;
}

static PyObject *
Topocomm_neighbor_allgather(FastMPICommObject *self, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendobj", NULL};
    static fastmpi_argspec spec = {"neighbor_allgather", names, 1};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    return object_exchange(self, argv[0], 1, spec.fname);
}

static PyObject *
Topocomm_neighbor_alltoall(FastMPICommObject *self, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendobj", NULL};
    static fastmpi_argspec spec = {"neighbor_alltoall", names, 1};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    return object_exchange(self, argv[0], 0, spec.fname);
}

#define NBR_METHOD(name, doc)                                              \
    {#name, FASTMPI_FASTCALL(Topocomm_##name),                             \
     METH_FASTCALL | METH_KEYWORDS, doc}

PyMethodDef fastmpi_neighbor_methods[] = {
    NBR_METHOD(Neighbor_allgather,
               "Neighbor_allgather($self, sendbuf, recvbuf)\n--\n\n"
               "Neighbor_allgather(sendbuf, recvbuf): sendbuf to every "
               "out-neighbour; recvbuf one block per in-neighbour."),
    NBR_METHOD(Neighbor_allgatherv,
               "Neighbor_allgatherv($self, sendbuf, recvbuf)\n--\n\n"
               "Neighbor_allgatherv(sendbuf, recvbuf): recvbuf [buf, "
               "counts, displs, datatype] per in-neighbour."),
    NBR_METHOD(Neighbor_alltoall,
               "Neighbor_alltoall($self, sendbuf, recvbuf)\n--\n\n"
               "Neighbor_alltoall(sendbuf, recvbuf): one block per "
               "neighbour each way."),
    NBR_METHOD(Neighbor_alltoallv,
               "Neighbor_alltoallv($self, sendbuf, recvbuf)\n--\n\n"
               "Neighbor_alltoallv(sendbuf, recvbuf): counts and "
               "displacements per neighbour."),
    NBR_METHOD(Neighbor_alltoallw,
               "Neighbor_alltoallw($self, sendbuf, recvbuf)\n--\n\n"
               "Neighbor_alltoallw(sendbuf, recvbuf): [buf, counts, "
               "displs (bytes), datatypes] per neighbour."),
    NBR_METHOD(Ineighbor_allgather,
               "Ineighbor_allgather($self, sendbuf, recvbuf)\n--\n\n"
               "Ineighbor_allgather(sendbuf, recvbuf) -> Request."),
    NBR_METHOD(Ineighbor_allgatherv,
               "Ineighbor_allgatherv($self, sendbuf, recvbuf)\n--\n\n"
               "Ineighbor_allgatherv(sendbuf, recvbuf) -> Request."),
    NBR_METHOD(Ineighbor_alltoall,
               "Ineighbor_alltoall($self, sendbuf, recvbuf)\n--\n\n"
               "Ineighbor_alltoall(sendbuf, recvbuf) -> Request."),
    NBR_METHOD(Ineighbor_alltoallv,
               "Ineighbor_alltoallv($self, sendbuf, recvbuf)\n--\n\n"
               "Ineighbor_alltoallv(sendbuf, recvbuf) -> Request."),
    NBR_METHOD(Ineighbor_alltoallw,
               "Ineighbor_alltoallw($self, sendbuf, recvbuf)\n--\n\n"
               "Ineighbor_alltoallw(sendbuf, recvbuf) -> Request."),
    NBR_METHOD(neighbor_allgather,
               "neighbor_allgather($self, sendobj)\n--\n\n"
               "neighbor_allgather(sendobj) -> list, one object per "
               "in-neighbour (None for PROC_NULL)."),
    NBR_METHOD(neighbor_alltoall,
               "neighbor_alltoall($self, sendobj)\n--\n\n"
               "neighbor_alltoall(sendobj) -> list: sendobj holds one "
               "object per out-neighbour."),
    {NULL},
};
