/* coll.c: blocking collectives with buffers: Bcast, Gather(v),
 * Scatter(v), Allgather(v), Alltoall(v, w), Reduce, Allreduce,
 * Reduce_scatter(_block), Scan, Exscan; and the argument checking and
 * parsing that icoll.c's nonblocking ones share (fastmpi_coll_prepare).
 *
 * Arguments are checked here, before MPI is called, as far as one rank
 * can: a root outside the communicator, a buffer that does not split into
 * one block per rank, this rank's send and receive sizes disagreeing, a
 * reduction's send and receive buffers of different counts or datatypes,
 * MPI.IN_PLACE where MPI does not allow it.  Every such error is raised
 * before any MPI call, so a rank that raises does not leave a collective
 * half-started behind it.  Arguments a rank ignores (the receive buffer of
 * a Gather on a non-root, ...) are not looked at, as in mpi4py.
 *
 * On an intercommunicator (c->inter) the MPI rules for one are followed
 * here too: a rooted collective's root is MPI.ROOT at the root,
 * MPI.PROC_NULL at the rest of its group (who pass no buffers) and the
 * root's rank in the remote group elsewhere; buffers that hold one block
 * per rank of the other group (Gather's at the root, Allgather's and
 * Alltoall's receive, ...) are split into remote-size blocks; MPI.IN_PLACE
 * is refused; Scan and Exscan are refused; Reduce_scatter needs its
 * recvcounts.  A rank's send and receive sizes are not compared (they
 * pair with different ranks).  The intracommunicator paths test one flag.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/op.h"
#include "../4_comm/comm.h"
#include "coll.h"
#include "p2p.h"

/* ---- helpers shared by the functions below ----------------------------- */

int
fastmpi_coll_root_check(const char *fname, int root, int size)
{
    if (Py_UNLIKELY(root < 0 || root >= size)) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'root' is %d; the communicator's ranks "
                     "are 0 to %d", fname, root, size - 1);
        return -1;
    }
    return 0;
}

static int
is_in_place(PyObject *obj)
{
    return obj == fastmpi_st->IN_PLACE;
}

/* An argument this rank does not use: nothing to release. */
static void
msg_unused(fastmpi_msg *m)
{
    m->view.obj = NULL;
    m->owner = NULL;
    m->addr = NULL;
    m->count = 0;
    m->datatype = MPI_BYTE;
    m->nbytes = 0;
}

/* sendbuf = MPI.IN_PLACE: MPI ignores count and datatype. */
static void
msg_in_place(fastmpi_msg *m, const fastmpi_msg *like)
{
    msg_unused(m);
    m->addr = MPI_IN_PLACE;
    m->count = like->count;
    m->datatype = like->datatype;
}

/* An ignored send buffer that still tells MPI count and datatype (Reduce's
 * at an intercommunicator's root, where MPI reads them from the send
 * side).  MPICH 4.0.2 refuses a NULL sendbuf there, and one aliasing
 * recvbuf, although MPI never reads it: it gets a dummy address. */
static void
msg_like(fastmpi_msg *m, const fastmpi_msg *like)
{
    static char never_read;
    msg_unused(m);
    m->addr = &never_read;
    m->count = like->count;
    m->datatype = like->datatype;
}

/* The buffer of a rank passing MPI.PROC_NULL to an intercommunicator's
 * Bcast or Reduce: MPI ignores it, but Open MPI 4.1.4's MPI_Ibcast and
 * MPI_Ireduce return at once for a count of 0 without taking part, which
 * leaves the communicator's nonblocking collectives out of step (the next
 * one hangs; reproduced in C).  One element of a type op accepts, at a
 * dummy address, is never read. */
static void
msg_placeholder(fastmpi_msg *m, const FastMPIOpObject *op)
{
    static int never_read[2];
    msg_unused(m);
    m->addr = never_read;
    m->count = 1;
    m->datatype = op == NULL ? MPI_BYTE
                : (op->kind == FASTMPI_OP_MAXLOC ||
                   op->kind == FASTMPI_OP_MINLOC) ? MPI_2INT : MPI_INT;
}

static void
vmsg_unused(fastmpi_vmsg *v)
{
    msg_unused(&v->msg);
    v->counts = v->displs = NULL;
    v->types = NULL;
    v->blocks = 0;
    v->lcounts = NULL;
    v->ldispls = NULL;
    v->wdispls = NULL;
    v->made = NULL;
}

static int
not_in_place(const char *fname, const char *argname, const char *where)
{
    PyErr_Format(PyExc_ValueError,
                 "%s() argument '%s': MPI.IN_PLACE is allowed %s", fname,
                 argname, where);
    return -1;
}

/* A required buffer argument (a `spec`: "buffer spec", "vector buffer
 * spec"): not None, and MPI.IN_PLACE is not one.  0, or -1 with an
 * exception. */
static int
required_buffer(PyObject *obj, const char *fname, const char *argname,
                const char *in_place_where, const char *spec)
{
    if (obj == NULL || obj == Py_None) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a buffer or a %s, not "
                     "None", fname, argname, spec);
        return -1;
    }
    if (is_in_place(obj)) {
        return not_in_place(fname, argname, in_place_where);
    }
    return 0;
}

/* A required buffer argument, parsed. */
static int
parse_plain(PyObject *obj, int mode, const char *fname, const char *argname,
            const char *in_place_where, fastmpi_msg *m)
{
    if (required_buffer(obj, fname, argname, in_place_where,
                        "buffer spec") < 0) {
        return -1;
    }
    return fastmpi_msg_parse(obj, mode, 0, fname, argname, m);
}

/* Block variant of parse_plain. */
static int
parse_blocks(PyObject *obj, int mode, int blocks, const char *fname,
             const char *argname, const char *in_place_where,
             fastmpi_msg *m)
{
    if (required_buffer(obj, fname, argname, in_place_where,
                        "buffer spec") < 0) {
        return -1;
    }
    return fastmpi_msg_parse_blocks(obj, mode, blocks, fname, argname, m);
}

static int
parse_vector(PyObject *obj, int mode, int blocks, int with_types,
             const char *fname, const char *argname,
             const char *in_place_where, fastmpi_vmsg *v)
{
    if (required_buffer(obj, fname, argname, in_place_where,
                        "vector buffer spec") < 0) {
        return -1;
    }
    return fastmpi_vmsg_parse(obj, mode, blocks, with_types, fname, argname,
                              v);
}

static int
type_size(MPI_Datatype t, long long *out)
{
    int size = 0;
    if (fastmpi_check(MPI_Type_size(t, &size)) < 0) {
        return -1;
    }
    if (Py_UNLIKELY(size == MPI_UNDEFINED)) {
        /* a large type (strided.c, vlarge.c): past 2**31-1 bytes */
        MPI_Count big = 0;
        if (fastmpi_check(MPI_Type_size_x(t, &big)) < 0) {
            return -1;
        }
        *out = (long long)big;
        return 0;
    }
    *out = size;
    return 0;
}

/* This rank's part: `scount` of `stype` sent must be the `rcount` of
 * `rtype` received (the same number of bytes). */
static int
check_bytes(const char *fname, long long scount, MPI_Datatype stype,
            long long rcount, MPI_Datatype rtype, const char *what)
{
    long long ssize, rsize;
    if (type_size(stype, &ssize) < 0 || type_size(rtype, &rsize) < 0) {
        return -1;
    }
    if (scount * ssize != rcount * rsize) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): this rank sends %lld bytes (%lld elements) but "
                     "%s %lld bytes (%lld elements)", fname, scount * ssize,
                     scount, what, rcount * rsize, rcount);
        return -1;
    }
    return 0;
}

/* A reduction's send and receive buffers: same count, same datatype. */
static int
check_same(const char *fname, const fastmpi_msg *s, const fastmpi_msg *r)
{
    if (s->datatype != r->datatype) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): 'sendbuf' and 'recvbuf' have different MPI "
                     "datatypes", fname);
        return -1;
    }
    if (s->count != r->count) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): 'sendbuf' has %d elements and 'recvbuf' %d; "
                     "they must be equal", fname, s->count, r->count);
        return -1;
    }
    return 0;
}

static PyObject *
finish(int ierr, FastMPIOpObject *op)
{
    if ((op != NULL && fastmpi_op_raised(op) < 0) ||
        fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* After a reduction with an Op.Create op: the function may have raised on
 * some ranks only (a rank runs it only for its part of the reduction).
 * The ranks agree (one more MPI_Allreduce) so that each raises: its own
 * exception, or RuntimeError naming the rank whose function raised; no
 * rank returns a result that is not one. */
static PyObject *
finish_reduction(int call_ierr, FastMPIOpObject *op, MPI_Comm comm,
                 int inter, const char *fname)
{
    if (op->kind != FASTMPI_OP_USER) {
        return finish(call_ierr, NULL);
    }
    int rank = 0, flag = 0, ierr;
    if (fastmpi_check(MPI_Comm_rank(comm, &rank)) < 0) {
        return NULL;
    }
    flag = op->error != NULL ? rank + 1 : 0;
    /* On an intercommunicator each group learns the other's flags (no
     * MPI_IN_PLACE there): ranks then raise for their own function or for
     * one of the remote group's. */
    int mine = flag;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Allreduce", comm, MPI_PROC_NULL, 0, sizeof(int),
                 ierr = MPI_Allreduce(inter ? (void *)&mine : MPI_IN_PLACE,
                                      &flag, 1, MPI_INT, MPI_MAX, comm));
    FASTMPI_NOGIL_END
    if (fastmpi_op_raised(op) < 0 || fastmpi_check(call_ierr) < 0 ||
        fastmpi_check(ierr) < 0) {
        return NULL;
    }
    if (flag != 0) {
        return PyErr_Format(PyExc_RuntimeError,
                            "%s(): the Op's Python function raised on rank "
                            "%d%s (see its exception there); the result is "
                            "not valid", fname, flag - 1,
                            inter ? " of the remote group" : "");
    }
    Py_RETURN_NONE;
}

/* ---- preparing: one function per collective --------------------------- */

typedef int (*prepare_fn)(PyObject **argv, const char *fname, int rank,
                          int size, fastmpi_coll *c);

/* This rank's part in a rooted collective. */
enum {
    ROLE_LEAF = 0,      /* not the root */
    ROLE_ROOT,          /* the root */
    ROLE_NONE,          /* intercommunicator, MPI.PROC_NULL: no part */
};

/* The root argument into c->root, checked; this rank's role in *role. */
static int
root_arg(PyObject *obj, const char *fname, int rank, int size,
         fastmpi_coll *c, int *role)
{
    static const char *const names[] = {"root", NULL};
    fastmpi_argspec spec = {fname, names, 0, 1, NULL};
    int root;
    if (fastmpi_arg_int(&spec, 0, obj, 0, &root) < 0) {
        return -1;
    }
    c->root = root;
    if (Py_UNLIKELY(c->inter)) {
        *role = root == MPI_ROOT ? ROLE_ROOT
              : root == MPI_PROC_NULL ? ROLE_NONE : ROLE_LEAF;
        return fastmpi_inter_root_check(fname, root, c->rsize);
    }
    *role = rank == root ? ROLE_ROOT : ROLE_LEAF;
    return fastmpi_coll_root_check(fname, root, size);
}

static int
prep_bcast(PyObject **argv, const char *fname, int rank, int size,
           fastmpi_coll *c)
{
    int role;
    if (root_arg(argv[1], fname, rank, size, c, &role) < 0) {
        return -1;
    }
    if (role == ROLE_NONE) {
        msg_placeholder(&c->s, NULL);
        return 0;
    }
    return parse_plain(argv[0], role == ROLE_ROOT ? FASTMPI_MSG_SEND
                                                  : FASTMPI_MSG_RECV,
                       fname, "buf", "in no broadcast", &c->s);
}

/* Gather and Gatherv (gather = 1), Scatter and Scatterv (0); vector = 1
 * for the v forms.  The root's buffer holds one block per rank (Gather's
 * recvbuf, Scatter's sendbuf: `many`); every rank's own block is in the
 * other (`one`), which the root may give as MPI.IN_PLACE. */
static int
prep_rooted(PyObject **argv, const char *fname, int rank, int size,
            fastmpi_coll *c, int gather, int vector)
{
    PyObject *one_arg = argv[gather ? 0 : 1];
    PyObject *many_arg = argv[gather ? 1 : 0];
    int one_mode = gather ? FASTMPI_MSG_SEND : FASTMPI_MSG_RECV;
    int many_mode = gather ? FASTMPI_MSG_RECV : FASTMPI_MSG_SEND;
    const char *one_name = gather ? "sendbuf" : "recvbuf";
    const char *many_name = gather ? "recvbuf" : "sendbuf";
    const char *many_where = gather ? "as 'sendbuf' only"
                                    : "as 'recvbuf' only";
    fastmpi_msg *one = gather ? &c->s : &c->r;
    fastmpi_msg *many = gather ? &c->r : &c->s;
    fastmpi_vmsg *vmany = gather ? &c->rv : &c->sv;
    int role;
    if (root_arg(argv[2], fname, rank, size, c, &role) < 0) {
        return -1;
    }
    if (role == ROLE_NONE) {
        return 0;
    }
    if (role == ROLE_LEAF) {
        return parse_plain(one_arg, one_mode, fname, one_name,
                           "at the root only", one);
    }
    long long count;
    int blocks = c->inter ? c->rsize : size;
    if (vector) {
        if (parse_vector(many_arg, many_mode, blocks, 0, fname, many_name,
                         many_where, vmany) < 0) {
            return -1;
        }
        count = c->inter ? 0 : fastmpi_vmsg_count(vmany, rank);
        many = &vmany->msg;
    }
    else {
        if (parse_blocks(many_arg, many_mode, blocks, fname, many_name,
                         many_where, many) < 0) {
            return -1;
        }
        count = many->count;
    }
    if (c->inter) {
        return 0;       /* an intercommunicator's root sends (Gather) or
                           receives (Scatter) nothing itself */
    }
    if (is_in_place(one_arg)) {
        msg_in_place(one, many);
        return 0;
    }
    if (parse_plain(one_arg, one_mode, fname, one_name, "", one) < 0) {
        return -1;
    }
    if (gather) {
        return check_bytes(fname, one->count, one->datatype, count,
                           many->datatype,
                           vector ? "'recvbuf' takes from it"
                                  : "'recvbuf' takes per rank");
    }
    return check_bytes(fname, count, many->datatype, one->count,
                       one->datatype, "'recvbuf' takes");
}

static int
prep_gather(PyObject **argv, const char *fname, int rank, int size,
            fastmpi_coll *c)
{
    return prep_rooted(argv, fname, rank, size, c, 1, 0);
}

static int
prep_gatherv(PyObject **argv, const char *fname, int rank, int size,
             fastmpi_coll *c)
{
    return prep_rooted(argv, fname, rank, size, c, 1, 1);
}

static int
prep_scatter(PyObject **argv, const char *fname, int rank, int size,
             fastmpi_coll *c)
{
    return prep_rooted(argv, fname, rank, size, c, 0, 0);
}

static int
prep_scatterv(PyObject **argv, const char *fname, int rank, int size,
              fastmpi_coll *c)
{
    return prep_rooted(argv, fname, rank, size, c, 0, 1);
}

static int
prep_allgather(PyObject **argv, const char *fname, int rank, int size,
               fastmpi_coll *c)
{
    if (parse_blocks(argv[1], FASTMPI_MSG_RECV, c->inter ? c->rsize : size,
                     fname, "recvbuf", "as 'sendbuf' only", &c->r) < 0) {
        return -1;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&c->s, &c->r);
        return 0;
    }
    if (parse_plain(argv[0], FASTMPI_MSG_SEND, fname, "sendbuf", "",
                    &c->s) < 0) {
        return -1;
    }
    if (c->inter) {
        return 0;
    }
    return check_bytes(fname, c->s.count, c->s.datatype, c->r.count,
                       c->r.datatype, "'recvbuf' takes per rank");
}

static int
prep_allgatherv(PyObject **argv, const char *fname, int rank, int size,
                fastmpi_coll *c)
{
    if (parse_vector(argv[1], FASTMPI_MSG_RECV, c->inter ? c->rsize : size,
                     0, fname, "recvbuf", "as 'sendbuf' only", &c->rv) < 0) {
        return -1;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&c->s, &c->rv.msg);
        return 0;
    }
    if (parse_plain(argv[0], FASTMPI_MSG_SEND, fname, "sendbuf", "",
                    &c->s) < 0) {
        return -1;
    }
    if (c->inter) {
        return 0;
    }
    return check_bytes(fname, c->s.count, c->s.datatype,
                       fastmpi_vmsg_count(&c->rv, rank), c->rv.msg.datatype,
                       "'recvbuf' takes from it");
}

static int
prep_alltoall(PyObject **argv, const char *fname, int rank, int size,
              fastmpi_coll *c)
{
    int blocks = c->inter ? c->rsize : size;
    if (parse_blocks(argv[1], FASTMPI_MSG_RECV, blocks, fname, "recvbuf",
                     "as 'sendbuf' only", &c->r) < 0) {
        return -1;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&c->s, &c->r);
        return 0;
    }
    if (parse_blocks(argv[0], FASTMPI_MSG_SEND, blocks, fname, "sendbuf",
                     "", &c->s) < 0) {
        return -1;
    }
    if (c->inter) {
        return 0;
    }
    return check_bytes(fname, c->s.count, c->s.datatype, c->r.count,
                       c->r.datatype, "'recvbuf' takes per rank");
}

/* Alltoallv (with_types = 0) and Alltoallw (1). */
static int
prep_alltoall_vector(PyObject **argv, const char *fname, int rank, int size,
                     fastmpi_coll *c, int with_types)
{
    int blocks = c->inter ? c->rsize : size;
    if (parse_vector(argv[1], FASTMPI_MSG_RECV, blocks, with_types, fname,
                     "recvbuf", "as 'sendbuf' only", &c->rv) < 0) {
        return -1;
    }
    if (is_in_place(argv[0])) {
        c->sv = c->rv;      /* the arrays are rv's: not released twice */
        msg_unused(&c->sv.msg);
        c->sv.msg.addr = MPI_IN_PLACE;
        c->sv.msg.datatype = c->rv.msg.datatype;
        c->sv_shared = 1;
        return 0;
    }
    if (parse_vector(argv[0], FASTMPI_MSG_SEND, blocks, with_types, fname,
                     "sendbuf", "", &c->sv) < 0) {
        return -1;
    }
    if (c->inter) {
        return 0;
    }
    return check_bytes(
        fname, fastmpi_vmsg_count(&c->sv, rank),
        with_types ? c->sv.types[rank] : c->sv.msg.datatype,
        fastmpi_vmsg_count(&c->rv, rank),
        with_types ? c->rv.types[rank] : c->rv.msg.datatype,
        "to itself, and 'recvbuf' takes");
}

static int
prep_alltoallv(PyObject **argv, const char *fname, int rank, int size,
               fastmpi_coll *c)
{
    return prep_alltoall_vector(argv, fname, rank, size, c, 0);
}

static int
prep_alltoallw(PyObject **argv, const char *fname, int rank, int size,
               fastmpi_coll *c)
{
    return prep_alltoall_vector(argv, fname, rank, size, c, 1);
}

static int
prep_reduce(PyObject **argv, const char *fname, int rank, int size,
            fastmpi_coll *c)
{
    int role;
    if ((c->op = fastmpi_op_arg(argv[2], fname, "op")) == NULL ||
        root_arg(argv[3], fname, rank, size, c, &role) < 0) {
        return -1;
    }
    if (role == ROLE_NONE) {
        msg_placeholder(&c->s, c->op);
        return 0;
    }
    if (role == ROLE_LEAF) {
        return parse_plain(argv[0], FASTMPI_MSG_SEND, fname, "sendbuf",
                           "at the root only", &c->s);
    }
    if (parse_plain(argv[1], FASTMPI_MSG_RECV, fname, "recvbuf",
                    "as 'sendbuf' only", &c->r) < 0) {
        return -1;
    }
    if (c->inter) {
        msg_like(&c->s, &c->r);     /* the root sends nothing */
        return 0;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&c->s, &c->r);
        return 0;
    }
    if (parse_plain(argv[0], FASTMPI_MSG_SEND, fname, "sendbuf", "",
                    &c->s) < 0) {
        return -1;
    }
    return check_same(fname, &c->s, &c->r);
}

/* Allreduce, Scan, Exscan: the same arguments, the same checks. */
static int
prep_allreduce(PyObject **argv, const char *fname, int rank, int size,
               fastmpi_coll *c)
{
    if ((c->op = fastmpi_op_arg(argv[2], fname, "op")) == NULL ||
        parse_plain(argv[1], FASTMPI_MSG_RECV, fname, "recvbuf",
                    "as 'sendbuf' only", &c->r) < 0) {
        return -1;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&c->s, &c->r);
        return 0;
    }
    if (parse_plain(argv[0], FASTMPI_MSG_SEND, fname, "sendbuf", "",
                    &c->s) < 0) {
        return -1;
    }
    return check_same(fname, &c->s, &c->r);
}

static int
prep_reduce_scatter_block(PyObject **argv, const char *fname, int rank,
                          int size, fastmpi_coll *c)
{
    if ((c->op = fastmpi_op_arg(argv[2], fname, "op")) == NULL) {
        return -1;
    }
    if (is_in_place(argv[0])) {
        /* recvbuf holds every rank's block; the result is the first */
        if (parse_blocks(argv[1], FASTMPI_MSG_RECV, size, fname, "recvbuf",
                         "as 'sendbuf' only", &c->r) < 0) {
            return -1;
        }
        msg_in_place(&c->s, &c->r);
        return 0;
    }
    if (parse_plain(argv[1], FASTMPI_MSG_RECV, fname, "recvbuf",
                    "as 'sendbuf' only", &c->r) < 0 ||
        parse_blocks(argv[0], FASTMPI_MSG_SEND, size, fname, "sendbuf", "",
                     &c->s) < 0) {
        return -1;
    }
    return check_same(fname, &c->s, &c->r);
}

/* Reduce_scatter's recvcounts: one per rank; None: every rank's receive
 * count, gathered (as mpi4py does: a collective call). */
static int
reduce_scatter_counts(PyObject *obj, MPI_Comm comm, int size, int mine,
                      const char *fname, int *counts)
{
    if (obj != NULL && obj != Py_None) {
        PyObject *seq;
        if (PyLong_Check(obj) || !PySequence_Check(obj) ||
            (seq = PySequence_Fast(obj, "")) == NULL) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "%s() argument 'recvcounts' must be a sequence of "
                         "%d ints, not %.100s", fname, size,
                         Py_TYPE(obj)->tp_name);
            return -1;
        }
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        if (n != size) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_ValueError,
                         "%s() argument 'recvcounts' has %zd items; the "
                         "communicator has %d ranks", fname, n, size);
            return -1;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PySequence_Fast_ITEMS(seq)[i];
            long v = PyLong_Check(item) || PyIndex_Check(item)
                         ? PyLong_AsLong(item) : -2;
            if (v == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                v = -2;
            }
            if (v < 0 || v > INT_MAX) {
                PyErr_Format(PyExc_ValueError,
                             "%s() argument 'recvcounts': item %zd must be "
                             "an int in [0, 2**31-1], not %R", fname, i,
                             item);
                Py_DECREF(seq);
                return -1;
            }
            counts[i] = (int)v;
        }
        Py_DECREF(seq);
        return 0;
    }
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Allgather", comm, MPI_PROC_NULL, 0, sizeof(int),
                 ierr = MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT,
                                      comm));
    FASTMPI_NOGIL_END
    return fastmpi_check(ierr);
}

static int
prep_reduce_scatter(PyObject **argv, const char *fname, int rank, int size,
                    fastmpi_coll *c)
{
    int in_place = is_in_place(argv[0]);
    if ((c->op = fastmpi_op_arg(argv[3], fname, "op")) == NULL) {
        return -1;
    }
    if (c->inter && (argv[2] == NULL || argv[2] == Py_None)) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): on an intercommunicator 'recvcounts' is "
                     "required (one count per rank of the local group)",
                     fname);
        return -1;
    }
    if (in_place && (argv[2] == NULL || argv[2] == Py_None)) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): with sendbuf=MPI.IN_PLACE, 'recvcounts' is "
                     "required", fname);
        return -1;
    }
    if (parse_plain(argv[1], FASTMPI_MSG_RECV, fname, "recvbuf",
                    "as 'sendbuf' only", &c->r) < 0) {
        return -1;
    }
    if (in_place) {
        msg_in_place(&c->s, &c->r);
    }
    else if (parse_plain(argv[0], FASTMPI_MSG_SEND, fname, "sendbuf", "",
                         &c->s) < 0) {
        return -1;
    }
    if (!in_place && c->s.datatype != c->r.datatype) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): 'sendbuf' and 'recvbuf' have different MPI "
                     "datatypes", fname);
        return -1;
    }
    c->counts = PyMem_Malloc(sizeof(int) * (size_t)size);
    if (c->counts == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (reduce_scatter_counts(argv[2], c->comm, size, c->r.count, fname,
                              c->counts) < 0) {
        return -1;
    }
    long long total = 0;
    for (int i = 0; i < size; i++) {
        total += c->counts[i];
    }
    const fastmpi_msg *whole = in_place ? &c->r : &c->s;
    if (whole->count != total) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): '%s' has %d elements but recvcounts add up to "
                     "%lld", fname, in_place ? "recvbuf" : "sendbuf",
                     whole->count, total);
        return -1;
    }
    if (!in_place && c->r.count < c->counts[rank]) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): 'recvbuf' has %d elements; recvcounts[%d] is "
                     "%d", fname, c->r.count, rank, c->counts[rank]);
        return -1;
    }
    return 0;
}

static const prepare_fn prepare_table[FASTMPI_COLL_COUNT] = {
    prep_bcast, prep_gather, prep_gatherv, prep_scatter, prep_scatterv,
    prep_allgather, prep_allgatherv, prep_alltoall, prep_alltoallv,
    prep_alltoallw, prep_reduce, prep_allreduce, prep_reduce_scatter_block,
    prep_reduce_scatter, prep_allreduce, prep_allreduce,
};

static const char *const bcast_names[] = {"buf", "root", NULL};
static const char *const rooted_names[] = {"sendbuf", "recvbuf", "root",
                                           NULL};
static const char *const all_names[] = {"sendbuf", "recvbuf", NULL};
static const char *const reduce_names[] = {"sendbuf", "recvbuf", "op",
                                           "root", NULL};
static const char *const allreduce_names[] = {"sendbuf", "recvbuf", "op",
                                              NULL};
static const char *const reduce_scatter_names[] = {"sendbuf", "recvbuf",
                                                   "recvcounts", "op",
                                                   NULL};

static const char *const *const coll_names[FASTMPI_COLL_COUNT] = {
    bcast_names, rooted_names, rooted_names, rooted_names, rooted_names,
    all_names, all_names, all_names, all_names, all_names, reduce_names,
    allreduce_names, allreduce_names, reduce_scatter_names,
    allreduce_names, allreduce_names,
};

static const int coll_nrequired[FASTMPI_COLL_COUNT] = {
    1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* An intercommunicator: its remote size into c; what MPI does not allow
 * there refused. */
static int
inter_prepare(int which, FastMPICommObject *self, PyObject **argv,
              const char *fname, fastmpi_coll *c)
{
    if (which == FASTMPI_COLL_SCAN || which == FASTMPI_COLL_EXSCAN) {
        PyErr_Format(PyExc_TypeError,
                     "%s() is for intracommunicators only; this is an "
                     "intercommunicator", fname);
        return -1;
    }
    for (int i = 0; coll_names[which][i] != NULL; i++) {
        if (is_in_place(argv[i])) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': MPI.IN_PLACE is not allowed "
                         "on an intercommunicator", fname,
                         coll_names[which][i]);
            return -1;
        }
    }
    c->inter = 1;
    return fastmpi_comm_remote_size(self, &c->rsize);
}

/* A reduction's parsed buffers.  Neither library reduces derived
 * datatypes, so a strided buffer was staged through a contiguous
 * temporary (staged.c: the one place fastmpi copies a buffer); one past
 * 2**31-1 items (a contiguous buffer described by a large type) is
 * refused.  A staged receive buffer that MPI reads or leaves partly alone
 * gets the view's elements first: IN_PLACE, Exscan's rank 0 (left as
 * is), Reduce_scatter (recvbuf may be longer than its count). */
static int
reduction_buffers(int which, int rank, const char *fname, fastmpi_coll *c)
{
    if (Py_UNLIKELY(fastmpi_strided_is(&c->s) ||
                    fastmpi_strided_is(&c->r))) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): reductions take buffers of at most 2**31-1 "
                     "items (MPI's reduction operations do not take the "
                     "derived datatype a larger buffer becomes); reduce in "
                     "parts", fname);
        return -1;
    }
    if (Py_UNLIKELY(fastmpi_msg_is_staged(&c->r)) &&
        (c->s.addr == MPI_IN_PLACE || which == FASTMPI_COLL_REDUCE_SCATTER ||
         (which == FASTMPI_COLL_EXSCAN && rank == 0))) {
        fastmpi_staged_fill(&c->r);
    }
    return 0;
}

int
fastmpi_coll_prepare(int which, FastMPICommObject *self, PyObject **argv,
                     const char *fname, fastmpi_coll *c)
{
    int rank, size;
    msg_unused(&c->s);
    msg_unused(&c->r);
    vmsg_unused(&c->sv);
    vmsg_unused(&c->rv);
    c->sv_shared = 0;
    c->counts = NULL;
    c->root = 0;
    c->op = NULL;
    c->comm = self->ob_mpi;
    c->inter = 0;
    c->rsize = 0;
    if (fastmpi_comm_ranks(self, &rank, &size) < 0) {
        return -1;
    }
    if (Py_UNLIKELY(self->flags & FASTMPI_INTER) &&
        inter_prepare(which, self, argv, fname, c) < 0) {
        return -1;
    }
    if (which < FASTMPI_COLL_REDUCE || which > FASTMPI_COLL_EXSCAN) {
        if (prepare_table[which](argv, fname, rank, size, c) < 0 ||
            (Py_UNLIKELY(fastmpi_vlarge_is(c)) &&
             fastmpi_vlarge_prepare(which, c, fname) < 0)) {
            return -1;
        }
        return 0;
    }
    /* a reduction: strided buffers staged (staged.c) */
    fastmpi_staged_begin();
    int rc = prepare_table[which](argv, fname, rank, size, c);
    fastmpi_staged_end();
    return rc < 0 ? -1 : reduction_buffers(which, rank, fname, c);
}

void
fastmpi_coll_release(fastmpi_coll *c)
{
    fastmpi_msg_release(&c->s);
    fastmpi_msg_release(&c->r);
    if (!c->sv_shared) {
        fastmpi_vmsg_release(&c->sv);
    }
    fastmpi_vmsg_release(&c->rv);
    PyMem_Free(c->counts);
    c->counts = NULL;
    c->sv_shared = 0;
}

/* ---- the blocking calls ------------------------------------------------ */

/* The MPI call for collective `which` (no Python API: runs without the
 * GIL). */
static int
coll_call(int which, fastmpi_coll *c)
{
    fastmpi_msg *s = &c->s, *r = &c->r;
    fastmpi_vmsg *sv = &c->sv, *rv = &c->rv;
    MPI_Op op = c->op != NULL ? c->op->ob_mpi : MPI_OP_NULL;
    if (Py_UNLIKELY(fastmpi_vlarge_is(c))) {
        return fastmpi_vlarge_call(which, c, NULL);
    }
    switch (which) {
    case FASTMPI_COLL_BCAST:
        return MPI_Bcast(s->addr, s->count, s->datatype, c->root, c->comm);
    case FASTMPI_COLL_GATHER:
        return MPI_Gather(s->addr, s->count, s->datatype, r->addr, r->count,
                          r->datatype, c->root, c->comm);
    case FASTMPI_COLL_GATHERV:
        return MPI_Gatherv(s->addr, s->count, s->datatype, rv->msg.addr,
                           rv->counts, rv->displs, rv->msg.datatype,
                           c->root, c->comm);
    case FASTMPI_COLL_SCATTER:
        return MPI_Scatter(s->addr, s->count, s->datatype, r->addr,
                           r->count, r->datatype, c->root, c->comm);
    case FASTMPI_COLL_SCATTERV:
        return MPI_Scatterv(sv->msg.addr, sv->counts, sv->displs,
                            sv->msg.datatype, r->addr, r->count,
                            r->datatype, c->root, c->comm);
    case FASTMPI_COLL_ALLGATHER:
        return MPI_Allgather(s->addr, s->count, s->datatype, r->addr,
                             r->count, r->datatype, c->comm);
    case FASTMPI_COLL_ALLGATHERV:
        return MPI_Allgatherv(s->addr, s->count, s->datatype, rv->msg.addr,
                              rv->counts, rv->displs, rv->msg.datatype,
                              c->comm);
    case FASTMPI_COLL_ALLTOALL:
        return MPI_Alltoall(s->addr, s->count, s->datatype, r->addr,
                            r->count, r->datatype, c->comm);
    case FASTMPI_COLL_ALLTOALLV:
        return MPI_Alltoallv(sv->msg.addr, sv->counts, sv->displs,
                             sv->msg.datatype, rv->msg.addr, rv->counts,
                             rv->displs, rv->msg.datatype, c->comm);
    case FASTMPI_COLL_ALLTOALLW:
        return MPI_Alltoallw(sv->msg.addr, sv->counts, sv->displs,
                             sv->types, rv->msg.addr, rv->counts,
                             rv->displs, rv->types, c->comm);
    case FASTMPI_COLL_REDUCE:
        return MPI_Reduce(s->addr, r->addr, s->count, s->datatype, op,
                          c->root, c->comm);
    case FASTMPI_COLL_ALLREDUCE:
        return MPI_Allreduce(s->addr, r->addr, r->count, r->datatype, op,
                             c->comm);
    case FASTMPI_COLL_REDUCE_SCATTER_BLOCK:
        return MPI_Reduce_scatter_block(s->addr, r->addr, r->count,
                                        r->datatype, op, c->comm);
    case FASTMPI_COLL_REDUCE_SCATTER:
        return MPI_Reduce_scatter(s->addr, r->addr, c->counts, r->datatype,
                                  op, c->comm);
    case FASTMPI_COLL_SCAN:
        return MPI_Scan(s->addr, r->addr, r->count, r->datatype, op,
                        c->comm);
    case FASTMPI_COLL_EXSCAN:
        return MPI_Exscan(s->addr, r->addr, r->count, r->datatype, op,
                          c->comm);
    }
    return MPI_ERR_INTERN;
}

int
fastmpi_coll_args(int which, fastmpi_argspec *spec, PyObject *const *args,
                  Py_ssize_t nargs, PyObject *kwnames, PyObject **argv)
{
    if (spec->names == NULL) {
        spec->names = coll_names[which];
        spec->nrequired = coll_nrequired[which];
    }
    return fastmpi_parse_args(spec, args, nargs, kwnames, argv);
}

static PyObject *
coll_blocking(int which, const char *mpiname, FastMPICommObject *self,
              PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
              fastmpi_argspec *spec)
{
    PyObject *argv[4];
    fastmpi_coll c;
    int ierr;
    if (fastmpi_coll_args(which, spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (fastmpi_coll_prepare(which, self, argv, spec->fname, &c) < 0) {
        fastmpi_coll_release(&c);
        return NULL;
    }
    Py_ssize_t bytes = c.s.nbytes + c.r.nbytes + c.sv.msg.nbytes +
                       c.rv.msg.nbytes;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL(mpiname, c.comm, c.root, 0, bytes,
                 ierr = coll_call(which, &c));
    FASTMPI_NOGIL_END
    if (ierr == MPI_SUCCESS) {
        fastmpi_msg_unstage(&c.r);  /* a strided recvbuf: the result */
    }
    fastmpi_coll_release(&c);
    if (c.op != NULL) {
        return finish_reduction(ierr, c.op, c.comm, c.inter, spec->fname);
    }
    return finish(ierr, NULL);
}

#define DEFINE_COLL(NAME, WHICH)                                           \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *const *args, Py_ssize_t nargs,  \
                                 PyObject *kwnames)                        \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, NULL, 0};                    \
        return coll_blocking(WHICH, "MPI_" #NAME, self, args, nargs,       \
                             kwnames, &spec);                              \
    }

DEFINE_COLL(Bcast, FASTMPI_COLL_BCAST)
DEFINE_COLL(Gather, FASTMPI_COLL_GATHER)
DEFINE_COLL(Gatherv, FASTMPI_COLL_GATHERV)
DEFINE_COLL(Scatter, FASTMPI_COLL_SCATTER)
DEFINE_COLL(Scatterv, FASTMPI_COLL_SCATTERV)
DEFINE_COLL(Allgather, FASTMPI_COLL_ALLGATHER)
DEFINE_COLL(Allgatherv, FASTMPI_COLL_ALLGATHERV)
DEFINE_COLL(Alltoall, FASTMPI_COLL_ALLTOALL)
DEFINE_COLL(Alltoallv, FASTMPI_COLL_ALLTOALLV)
DEFINE_COLL(Alltoallw, FASTMPI_COLL_ALLTOALLW)
DEFINE_COLL(Reduce, FASTMPI_COLL_REDUCE)
DEFINE_COLL(Allreduce, FASTMPI_COLL_ALLREDUCE)
DEFINE_COLL(Reduce_scatter_block, FASTMPI_COLL_REDUCE_SCATTER_BLOCK)
DEFINE_COLL(Reduce_scatter, FASTMPI_COLL_REDUCE_SCATTER)
DEFINE_COLL(Scan, FASTMPI_COLL_SCAN)
DEFINE_COLL(Exscan, FASTMPI_COLL_EXSCAN)

#define COLL_METHOD(name, doc)                                             \
    {#name, FASTMPI_FASTCALL(Comm_##name), METH_FASTCALL | METH_KEYWORDS,  \
     doc}

PyMethodDef fastmpi_coll_methods[] = {
    COLL_METHOD(Bcast, "Bcast($self, buf, root=0)\n--\n\n"
                       "Bcast(buf, root=0): broadcast from root."),
    COLL_METHOD(Gather, "Gather($self, sendbuf, recvbuf, root=0)\n--\n\n"
                        "Gather(sendbuf, recvbuf, root=0): gather to "
                        "root, the same count from every rank."),
    COLL_METHOD(Gatherv, "Gatherv($self, sendbuf, recvbuf, root=0)\n--\n\n"
                         "Gatherv(sendbuf, recvbuf, root=0): gather to "
                         "root; recvbuf [buf, counts, displs, datatype]."),
    COLL_METHOD(Scatter, "Scatter($self, sendbuf, recvbuf, root=0)\n--\n\n"
                         "Scatter(sendbuf, recvbuf, root=0): scatter "
                         "from root, the same count to every rank."),
    COLL_METHOD(Scatterv, "Scatterv($self, sendbuf, recvbuf, root=0)\n--\n\n"
                          "Scatterv(sendbuf, recvbuf, root=0): scatter "
                          "from root; sendbuf [buf, counts, displs, "
                          "datatype]."),
    COLL_METHOD(Allgather, "Allgather($self, sendbuf, recvbuf)\n--\n\n"
                           "Allgather(sendbuf, recvbuf): gather to all."),
    COLL_METHOD(Allgatherv, "Allgatherv($self, sendbuf, recvbuf)\n--\n\n"
                            "Allgatherv(sendbuf, recvbuf): gather to all, "
                            "counts per rank."),
    COLL_METHOD(Alltoall, "Alltoall($self, sendbuf, recvbuf)\n--\n\n"
                          "Alltoall(sendbuf, recvbuf): all to all."),
    COLL_METHOD(Alltoallv, "Alltoallv($self, sendbuf, recvbuf)\n--\n\n"
                           "Alltoallv(sendbuf, recvbuf): all to all, "
                           "counts and displacements per rank."),
    COLL_METHOD(Alltoallw, "Alltoallw($self, sendbuf, recvbuf)\n--\n\n"
                           "Alltoallw(sendbuf, recvbuf): all to all, "
                           "[buf, counts, displs (bytes), datatypes]."),
    COLL_METHOD(Reduce, "Reduce($self, sendbuf, recvbuf, op=SUM, "
                        "root=0)\n--\n\n"
                        "Reduce(sendbuf, recvbuf, op=SUM, root=0)."),
    COLL_METHOD(Allreduce, "Allreduce($self, sendbuf, recvbuf, op=SUM)\n--\n\n"
                           "Allreduce(sendbuf, recvbuf, op=SUM)."),
    COLL_METHOD(Reduce_scatter_block, "Reduce_scatter_block($self, sendbuf, "
                                      "recvbuf, op=SUM)\n--\n\n"
                                      "Reduce_scatter_block(sendbuf, "
                                      "recvbuf, op=SUM)."),
    COLL_METHOD(Reduce_scatter, "Reduce_scatter($self, sendbuf, recvbuf, "
                                "recvcounts=None, op=SUM)\n--\n\n"
                                "Reduce_scatter(sendbuf, recvbuf, "
                                "recvcounts=None, op=SUM)."),
    {NULL},
};

/* The prefix reductions are Intracomm's only, as in mpi4py. */
PyMethodDef fastmpi_coll_intracomm_methods[] = {
    COLL_METHOD(Scan, "Scan($self, sendbuf, recvbuf, op=SUM)\n--\n\n"
                      "Scan(sendbuf, recvbuf, op=SUM): inclusive prefix "
                      "reduction."),
    COLL_METHOD(Exscan, "Exscan($self, sendbuf, recvbuf, op=SUM)\n--\n\n"
                        "Exscan(sendbuf, recvbuf, op=SUM): exclusive "
                        "prefix reduction (rank 0's recvbuf is left "
                        "as is)."),
    {NULL},
};
