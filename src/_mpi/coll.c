/* coll.c: blocking collectives with buffers: Bcast, Gather(v),
 * Scatter(v), Allgather(v), Alltoall(v, w), Reduce, Allreduce,
 * Reduce_scatter(_block), Scan, Exscan.
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
 * Intercommunicators are not supported yet (nor can they be made yet).
 */
#include "fastmpi.h"

/* ---- helpers shared by the functions below ----------------------------- */

static int
comm_ranks(FastMPICommObject *self, int *rank, int *size)
{
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_rank(self->ob_mpi, rank)) < 0 ||
        fastmpi_check(MPI_Comm_size(self->ob_mpi, size)) < 0) {
        return -1;
    }
    return 0;
}

static int
root_check(const char *fname, int root, int size)
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
    return obj == fastmpi_st.IN_PLACE;
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

static void
vmsg_unused(fastmpi_vmsg *v)
{
    msg_unused(&v->msg);
    v->counts = v->displs = NULL;
    v->types = NULL;
    v->blocks = 0;
}

static int
not_in_place(const char *fname, const char *argname, const char *where)
{
    PyErr_Format(PyExc_ValueError,
                 "%s() argument '%s': MPI.IN_PLACE is allowed %s", fname,
                 argname, where);
    return -1;
}

/* A required buffer argument: MPI.IN_PLACE is not one. */
static int
parse_plain(PyObject *obj, int mode, const char *fname, const char *argname,
            const char *in_place_where, fastmpi_msg *m)
{
    if (obj == NULL || obj == Py_None) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a buffer or a buffer "
                     "spec, not None", fname, argname);
        return -1;
    }
    if (is_in_place(obj)) {
        return not_in_place(fname, argname, in_place_where);
    }
    return fastmpi_msg_parse(obj, mode, 0, fname, argname, m);
}

/* Block variant of parse_plain. */
static int
parse_blocks(PyObject *obj, int mode, int blocks, const char *fname,
             const char *argname, const char *in_place_where,
             fastmpi_msg *m)
{
    if (obj == NULL || obj == Py_None) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a buffer or a buffer "
                     "spec, not None", fname, argname);
        return -1;
    }
    if (is_in_place(obj)) {
        return not_in_place(fname, argname, in_place_where);
    }
    return fastmpi_msg_parse_blocks(obj, mode, blocks, fname, argname, m);
}

static int
parse_vector(PyObject *obj, int mode, int blocks, int with_types,
             const char *fname, const char *argname,
             const char *in_place_where, fastmpi_vmsg *v)
{
    if (obj == NULL || obj == Py_None) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a buffer or a vector "
                     "buffer spec, not None", fname, argname);
        return -1;
    }
    if (is_in_place(obj)) {
        return not_in_place(fname, argname, in_place_where);
    }
    return fastmpi_vmsg_parse(obj, mode, blocks, with_types, fname, argname,
                              v);
}

static int
type_size(MPI_Datatype t, Py_ssize_t *out)
{
    int size = 0;
    if (fastmpi_check(MPI_Type_size(t, &size)) < 0) {
        return -1;
    }
    *out = size;
    return 0;
}

/* This rank's part: `scount` of `stype` sent must be the `rcount` of
 * `rtype` received (the same number of bytes). */
static int
check_bytes(const char *fname, int scount, MPI_Datatype stype, int rcount,
            MPI_Datatype rtype, const char *what)
{
    Py_ssize_t ssize, rsize;
    if (type_size(stype, &ssize) < 0 || type_size(rtype, &rsize) < 0) {
        return -1;
    }
    if (scount * ssize != rcount * rsize) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): this rank sends %zd bytes (%d elements) but "
                     "%s %zd bytes (%d elements)", fname, scount * ssize,
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
finish_reduction(int ierr, FastMPIOpObject *op, MPI_Comm comm,
                 const char *fname)
{
    if (op->kind != FASTMPI_OP_USER) {
        return finish(ierr, NULL);
    }
    int rank = 0, flag = 0, ierr2;
    if (fastmpi_check(MPI_Comm_rank(comm, &rank)) < 0) {
        return NULL;
    }
    flag = op->error != NULL ? rank + 1 : 0;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Allreduce", comm, MPI_PROC_NULL, 0, sizeof(int),
                 ierr2 = MPI_Allreduce(MPI_IN_PLACE, &flag, 1, MPI_INT,
                                       MPI_MAX, comm));
    FASTMPI_NOGIL_END
    if (fastmpi_op_raised(op) < 0 || fastmpi_check(ierr) < 0 ||
        fastmpi_check(ierr2) < 0) {
        return NULL;
    }
    if (flag != 0) {
        return PyErr_Format(PyExc_RuntimeError,
                            "%s(): the Op's Python function raised on rank "
                            "%d (see its exception there); the result is "
                            "not valid", fname, flag - 1);
    }
    Py_RETURN_NONE;
}

/* ---- Bcast ------------------------------------------------------------- */

static PyObject *
Comm_Bcast(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    static const char *const names[] = {"buf", "root", NULL};
    static fastmpi_argspec spec = {"Bcast", names, 1};
    PyObject *argv[2];
    int root, rank, size, ierr;
    fastmpi_msg m;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &root) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        root_check("Bcast", root, size) < 0 ||
        parse_plain(argv[0], rank == root ? FASTMPI_MSG_SEND
                                          : FASTMPI_MSG_RECV,
                    "Bcast", "buf", "in no Bcast", &m) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Bcast", comm, root, 0, m.nbytes,
                 ierr = MPI_Bcast(m.addr, m.count, m.datatype, root, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&m);
    return finish(ierr, NULL);
}

/* ---- Gather, Gatherv --------------------------------------------------- */

static const char *const gather_names[] = {"sendbuf", "recvbuf", "root",
                                           NULL};

static PyObject *
Comm_Gather(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Gather", gather_names, 1};
    PyObject *argv[3];
    int root, rank, size, ierr;
    fastmpi_msg s, r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &root) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        root_check("Gather", root, size) < 0) {
        return NULL;
    }
    msg_unused(&s);
    msg_unused(&r);
    if (rank == root) {
        if (parse_blocks(argv[1], FASTMPI_MSG_RECV, size, "Gather",
                         "recvbuf", "as 'sendbuf' only", &r) < 0) {
            return NULL;
        }
        if (is_in_place(argv[0])) {
            msg_in_place(&s, &r);
        }
        else if (parse_plain(argv[0], FASTMPI_MSG_SEND, "Gather",
                             "sendbuf", "", &s) < 0 ||
                 check_bytes("Gather", s.count, s.datatype, r.count,
                             r.datatype, "'recvbuf' takes per rank") < 0) {
            goto error;
        }
    }
    else if (parse_plain(argv[0], FASTMPI_MSG_SEND, "Gather", "sendbuf",
                         "at the root only", &s) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Gather", comm, root, 0, s.nbytes,
                 ierr = MPI_Gather(s.addr, s.count, s.datatype, r.addr,
                                   r.count, r.datatype, root, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return finish(ierr, NULL);
error:
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return NULL;
}

static PyObject *
Comm_Gatherv(FastMPICommObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Gatherv", gather_names, 1};
    PyObject *argv[3];
    int root, rank, size, ierr;
    fastmpi_msg s;
    fastmpi_vmsg r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &root) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        root_check("Gatherv", root, size) < 0) {
        return NULL;
    }
    msg_unused(&s);
    vmsg_unused(&r);
    if (rank == root) {
        if (parse_vector(argv[1], FASTMPI_MSG_RECV, size, 0, "Gatherv",
                         "recvbuf", "as 'sendbuf' only", &r) < 0) {
            return NULL;
        }
        if (is_in_place(argv[0])) {
            msg_in_place(&s, &r.msg);
        }
        else if (parse_plain(argv[0], FASTMPI_MSG_SEND, "Gatherv",
                             "sendbuf", "", &s) < 0 ||
                 check_bytes("Gatherv", s.count, s.datatype,
                             r.counts[rank], r.msg.datatype,
                             "'recvbuf' takes from it") < 0) {
            goto error;
        }
    }
    else if (parse_plain(argv[0], FASTMPI_MSG_SEND, "Gatherv", "sendbuf",
                         "at the root only", &s) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Gatherv", comm, root, 0, s.nbytes,
                 ierr = MPI_Gatherv(s.addr, s.count, s.datatype, r.msg.addr,
                                    r.counts, r.displs, r.msg.datatype,
                                    root, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_vmsg_release(&r);
    return finish(ierr, NULL);
error:
    fastmpi_msg_release(&s);
    fastmpi_vmsg_release(&r);
    return NULL;
}

/* ---- Scatter, Scatterv ------------------------------------------------- */

static PyObject *
Comm_Scatter(FastMPICommObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Scatter", gather_names, 2};
    PyObject *argv[3];
    int root, rank, size, ierr;
    fastmpi_msg s, r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &root) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        root_check("Scatter", root, size) < 0) {
        return NULL;
    }
    msg_unused(&s);
    msg_unused(&r);
    if (rank == root) {
        if (parse_blocks(argv[0], FASTMPI_MSG_SEND, size, "Scatter",
                         "sendbuf", "as 'recvbuf' only", &s) < 0) {
            return NULL;
        }
        if (is_in_place(argv[1])) {
            msg_in_place(&r, &s);
        }
        else if (parse_plain(argv[1], FASTMPI_MSG_RECV, "Scatter",
                             "recvbuf", "", &r) < 0 ||
                 check_bytes("Scatter", s.count, s.datatype, r.count,
                             r.datatype, "'recvbuf' takes") < 0) {
            goto error;
        }
    }
    else if (parse_plain(argv[1], FASTMPI_MSG_RECV, "Scatter", "recvbuf",
                         "at the root only", &r) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Scatter", comm, root, 0, r.nbytes,
                 ierr = MPI_Scatter(s.addr, s.count, s.datatype, r.addr,
                                    r.count, r.datatype, root, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return finish(ierr, NULL);
error:
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return NULL;
}

static PyObject *
Comm_Scatterv(FastMPICommObject *self, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Scatterv", gather_names, 2};
    PyObject *argv[3];
    int root, rank, size, ierr;
    fastmpi_vmsg s;
    fastmpi_msg r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &root) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        root_check("Scatterv", root, size) < 0) {
        return NULL;
    }
    vmsg_unused(&s);
    msg_unused(&r);
    if (rank == root) {
        if (parse_vector(argv[0], FASTMPI_MSG_SEND, size, 0, "Scatterv",
                         "sendbuf", "as 'recvbuf' only", &s) < 0) {
            return NULL;
        }
        if (is_in_place(argv[1])) {
            msg_in_place(&r, &s.msg);
        }
        else if (parse_plain(argv[1], FASTMPI_MSG_RECV, "Scatterv",
                             "recvbuf", "", &r) < 0 ||
                 check_bytes("Scatterv", s.counts[rank], s.msg.datatype,
                             r.count, r.datatype, "'recvbuf' takes") < 0) {
            goto error;
        }
    }
    else if (parse_plain(argv[1], FASTMPI_MSG_RECV, "Scatterv", "recvbuf",
                         "at the root only", &r) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Scatterv", comm, root, 0, r.nbytes,
                 ierr = MPI_Scatterv(s.msg.addr, s.counts, s.displs,
                                     s.msg.datatype, r.addr, r.count,
                                     r.datatype, root, comm));
    FASTMPI_NOGIL_END
    fastmpi_vmsg_release(&s);
    fastmpi_msg_release(&r);
    return finish(ierr, NULL);
error:
    fastmpi_vmsg_release(&s);
    fastmpi_msg_release(&r);
    return NULL;
}

/* ---- Allgather(v), Alltoall(v, w) -------------------------------------- */

static const char *const all_names[] = {"sendbuf", "recvbuf", NULL};

static PyObject *
Comm_Allgather(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Allgather", all_names, 2};
    PyObject *argv[2];
    int rank, size, ierr;
    fastmpi_msg s, r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        parse_blocks(argv[1], FASTMPI_MSG_RECV, size, "Allgather",
                     "recvbuf", "as 'sendbuf' only", &r) < 0) {
        return NULL;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&s, &r);
    }
    else if (parse_plain(argv[0], FASTMPI_MSG_SEND, "Allgather", "sendbuf",
                         "", &s) < 0) {
        fastmpi_msg_release(&r);
        return NULL;
    }
    else if (check_bytes("Allgather", s.count, s.datatype, r.count,
                         r.datatype, "'recvbuf' takes per rank") < 0) {
        fastmpi_msg_release(&s);
        fastmpi_msg_release(&r);
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Allgather", comm, MPI_PROC_NULL, 0, s.nbytes,
                 ierr = MPI_Allgather(s.addr, s.count, s.datatype, r.addr,
                                      r.count, r.datatype, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return finish(ierr, NULL);
}

static PyObject *
Comm_Allgatherv(FastMPICommObject *self, PyObject *const *args,
                Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Allgatherv", all_names, 2};
    PyObject *argv[2];
    int rank, size, ierr;
    fastmpi_msg s;
    fastmpi_vmsg r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        parse_vector(argv[1], FASTMPI_MSG_RECV, size, 0, "Allgatherv",
                     "recvbuf", "as 'sendbuf' only", &r) < 0) {
        return NULL;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&s, &r.msg);
    }
    else if (parse_plain(argv[0], FASTMPI_MSG_SEND, "Allgatherv",
                         "sendbuf", "", &s) < 0) {
        fastmpi_vmsg_release(&r);
        return NULL;
    }
    else if (check_bytes("Allgatherv", s.count, s.datatype, r.counts[rank],
                         r.msg.datatype, "'recvbuf' takes from it") < 0) {
        fastmpi_msg_release(&s);
        fastmpi_vmsg_release(&r);
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Allgatherv", comm, MPI_PROC_NULL, 0, s.nbytes,
                 ierr = MPI_Allgatherv(s.addr, s.count, s.datatype,
                                       r.msg.addr, r.counts, r.displs,
                                       r.msg.datatype, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_vmsg_release(&r);
    return finish(ierr, NULL);
}

static PyObject *
Comm_Alltoall(FastMPICommObject *self, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Alltoall", all_names, 2};
    PyObject *argv[2];
    int rank, size, ierr;
    fastmpi_msg s, r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        parse_blocks(argv[1], FASTMPI_MSG_RECV, size, "Alltoall",
                     "recvbuf", "as 'sendbuf' only", &r) < 0) {
        return NULL;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&s, &r);
    }
    else if (parse_blocks(argv[0], FASTMPI_MSG_SEND, size, "Alltoall",
                          "sendbuf", "", &s) < 0) {
        fastmpi_msg_release(&r);
        return NULL;
    }
    else if (check_bytes("Alltoall", s.count, s.datatype, r.count,
                         r.datatype, "'recvbuf' takes per rank") < 0) {
        fastmpi_msg_release(&s);
        fastmpi_msg_release(&r);
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Alltoall", comm, MPI_PROC_NULL, 0, s.nbytes,
                 ierr = MPI_Alltoall(s.addr, s.count, s.datatype, r.addr,
                                     r.count, r.datatype, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return finish(ierr, NULL);
}

static PyObject *
alltoall_vector(FastMPICommObject *self, PyObject *const *args,
                Py_ssize_t nargs, PyObject *kwnames, fastmpi_argspec *spec,
                int with_types)
{
    PyObject *argv[2];
    int rank, size, ierr;
    const char *fname = spec->fname;
    fastmpi_vmsg s, r;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        comm_ranks(self, &rank, &size) < 0 ||
        parse_vector(argv[1], FASTMPI_MSG_RECV, size, with_types, fname,
                     "recvbuf", "as 'sendbuf' only", &r) < 0) {
        return NULL;
    }
    if (is_in_place(argv[0])) {
        vmsg_unused(&s);
        s.msg.addr = MPI_IN_PLACE;
        s.msg.datatype = r.msg.datatype;
        s.counts = r.counts;
        s.displs = r.displs;
        s.types = r.types;
    }
    else if (parse_vector(argv[0], FASTMPI_MSG_SEND, size, with_types,
                          fname, "sendbuf", "", &s) < 0) {
        fastmpi_vmsg_release(&r);
        return NULL;
    }
    else if (check_bytes(fname, s.counts[rank],
                         s.types ? s.types[rank] : s.msg.datatype,
                         r.counts[rank],
                         r.types ? r.types[rank] : r.msg.datatype,
                         "to itself, and 'recvbuf' takes") < 0) {
        fastmpi_vmsg_release(&s);
        fastmpi_vmsg_release(&r);
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    if (with_types) {
        FASTMPI_NOGIL_BEGIN
        FASTMPI_CALL("MPI_Alltoallw", comm, MPI_PROC_NULL, 0, s.msg.nbytes,
                     ierr = MPI_Alltoallw(s.msg.addr, s.counts, s.displs,
                                          s.types, r.msg.addr, r.counts,
                                          r.displs, r.types, comm));
        FASTMPI_NOGIL_END
    }
    else {
        FASTMPI_NOGIL_BEGIN
        FASTMPI_CALL("MPI_Alltoallv", comm, MPI_PROC_NULL, 0, s.msg.nbytes,
                     ierr = MPI_Alltoallv(s.msg.addr, s.counts, s.displs,
                                          s.msg.datatype, r.msg.addr,
                                          r.counts, r.displs,
                                          r.msg.datatype, comm));
        FASTMPI_NOGIL_END
    }
    if (s.msg.addr != MPI_IN_PLACE) {
        fastmpi_vmsg_release(&s);
    }
    fastmpi_vmsg_release(&r);
    return finish(ierr, NULL);
}

static PyObject *
Comm_Alltoallv(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Alltoallv", all_names, 2};
    return alltoall_vector(self, args, nargs, kwnames, &spec, 0);
}

static PyObject *
Comm_Alltoallw(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Alltoallw", all_names, 2};
    return alltoall_vector(self, args, nargs, kwnames, &spec, 1);
}

/* ---- reductions -------------------------------------------------------- */

static PyObject *
Comm_Reduce(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendbuf", "recvbuf", "op", "root",
                                        NULL};
    static fastmpi_argspec spec = {"Reduce", names, 1};
    PyObject *argv[4];
    int root, rank, size, ierr;
    FastMPIOpObject *op;
    fastmpi_msg s, r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 3, argv[3], 0, &root) < 0 ||
        (op = fastmpi_op_arg(argv[2], "Reduce", "op")) == NULL ||
        comm_ranks(self, &rank, &size) < 0 ||
        root_check("Reduce", root, size) < 0) {
        return NULL;
    }
    msg_unused(&s);
    msg_unused(&r);
    if (rank == root) {
        if (parse_plain(argv[1], FASTMPI_MSG_RECV, "Reduce", "recvbuf",
                        "as 'sendbuf' only", &r) < 0) {
            return NULL;
        }
        if (is_in_place(argv[0])) {
            msg_in_place(&s, &r);
        }
        else if (parse_plain(argv[0], FASTMPI_MSG_SEND, "Reduce",
                             "sendbuf", "", &s) < 0 ||
                 check_same("Reduce", &s, &r) < 0) {
            goto error;
        }
    }
    else if (parse_plain(argv[0], FASTMPI_MSG_SEND, "Reduce", "sendbuf",
                         "at the root only", &s) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    MPI_Op mop = op->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Reduce", comm, root, 0, s.nbytes,
                 ierr = MPI_Reduce(s.addr, r.addr, s.count, s.datatype, mop,
                                   root, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return finish_reduction(ierr, op, comm, "Reduce");
error:
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return NULL;
}

typedef int (*allreduce_fn)(const void *, void *, int, MPI_Datatype, MPI_Op,
                            MPI_Comm);

/* Allreduce, Scan and Exscan: the same arguments, the same checks. */
static PyObject *
allreduce_like(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames, fastmpi_argspec *spec,
               allreduce_fn fn, const char *mpiname)
{
    PyObject *argv[3];
    int ierr;
    const char *fname = spec->fname;
    FastMPIOpObject *op;
    fastmpi_msg s, r;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        (op = fastmpi_op_arg(argv[2], fname, "op")) == NULL ||
        fastmpi_comm_check(self) < 0 ||
        parse_plain(argv[1], FASTMPI_MSG_RECV, fname, "recvbuf",
                    "as 'sendbuf' only", &r) < 0) {
        return NULL;
    }
    if (is_in_place(argv[0])) {
        msg_in_place(&s, &r);
    }
    else if (parse_plain(argv[0], FASTMPI_MSG_SEND, fname, "sendbuf", "",
                         &s) < 0) {
        fastmpi_msg_release(&r);
        return NULL;
    }
    else if (check_same(fname, &s, &r) < 0) {
        fastmpi_msg_release(&s);
        fastmpi_msg_release(&r);
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    MPI_Op mop = op->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL(mpiname, comm, MPI_PROC_NULL, 0, r.nbytes,
                 ierr = fn(s.addr, r.addr, r.count, r.datatype, mop, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return finish_reduction(ierr, op, comm, fname);
}

static const char *const allreduce_names[] = {"sendbuf", "recvbuf", "op",
                                              NULL};

static PyObject *
Comm_Allreduce(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Allreduce", allreduce_names, 2};
    return allreduce_like(self, args, nargs, kwnames, &spec, MPI_Allreduce,
                          "MPI_Allreduce");
}

static PyObject *
Comm_Scan(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Scan", allreduce_names, 2};
    return allreduce_like(self, args, nargs, kwnames, &spec, MPI_Scan,
                          "MPI_Scan");
}

static PyObject *
Comm_Exscan(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Exscan", allreduce_names, 2};
    return allreduce_like(self, args, nargs, kwnames, &spec, MPI_Exscan,
                          "MPI_Exscan");
}

static PyObject *
Comm_Reduce_scatter_block(FastMPICommObject *self, PyObject *const *args,
                          Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Reduce_scatter_block", allreduce_names,
                                   2};
    const char *fname = spec.fname;
    PyObject *argv[3];
    int rank, size, ierr;
    FastMPIOpObject *op;
    fastmpi_msg s, r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        (op = fastmpi_op_arg(argv[2], fname, "op")) == NULL ||
        comm_ranks(self, &rank, &size) < 0) {
        return NULL;
    }
    if (is_in_place(argv[0])) {
        /* recvbuf holds every rank's block; the result is the first */
        if (parse_blocks(argv[1], FASTMPI_MSG_RECV, size, fname, "recvbuf",
                         "as 'sendbuf' only", &r) < 0) {
            return NULL;
        }
        msg_in_place(&s, &r);
    }
    else {
        if (parse_plain(argv[1], FASTMPI_MSG_RECV, fname, "recvbuf",
                        "as 'sendbuf' only", &r) < 0) {
            return NULL;
        }
        if (parse_blocks(argv[0], FASTMPI_MSG_SEND, size, fname,
                         "sendbuf", "", &s) < 0) {
            fastmpi_msg_release(&r);
            return NULL;
        }
        if (check_same(fname, &s, &r) < 0) {
            fastmpi_msg_release(&s);
            fastmpi_msg_release(&r);
            return NULL;
        }
    }
    MPI_Comm comm = self->ob_mpi;
    MPI_Op mop = op->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Reduce_scatter_block", comm, MPI_PROC_NULL, 0,
                 r.nbytes,
                 ierr = MPI_Reduce_scatter_block(s.addr, r.addr, r.count,
                                                 r.datatype, mop, comm));
    FASTMPI_NOGIL_END
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return finish_reduction(ierr, op, comm, fname);
}

/* recvcounts of Reduce_scatter: one per rank; None: every rank's receive
 * count, gathered (as mpi4py does).  Fills counts[size]. */
static int
reduce_scatter_counts(PyObject *obj, MPI_Comm comm, int size, int mine,
                      int *counts)
{
    if (obj != NULL && obj != Py_None) {
        PyObject *seq;
        if (PyLong_Check(obj) || !PySequence_Check(obj) ||
            (seq = PySequence_Fast(obj, "")) == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "Reduce_scatter() argument 'recvcounts' must be "
                         "a sequence of %d ints, not %.100s", size,
                         Py_TYPE(obj)->tp_name);
            return -1;
        }
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        if (n != size) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_ValueError,
                         "Reduce_scatter() argument 'recvcounts' has %zd "
                         "items; the communicator has %d ranks", n, size);
            return -1;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PySequence_Fast_ITEMS(seq)[i];
            long c = PyLong_Check(item) || PyIndex_Check(item)
                         ? PyLong_AsLong(item) : -2;
            if (c == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                c = -2;
            }
            if (c < 0 || c > INT_MAX) {
                Py_DECREF(seq);
                PyErr_Format(PyExc_ValueError,
                             "Reduce_scatter() argument 'recvcounts': "
                             "item %zd must be an int in [0, 2**31-1], "
                             "not %R", i, item);
                return -1;
            }
            counts[i] = (int)c;
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

static PyObject *
Comm_Reduce_scatter(FastMPICommObject *self, PyObject *const *args,
                    Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendbuf", "recvbuf", "recvcounts",
                                        "op", NULL};
    static fastmpi_argspec spec = {"Reduce_scatter", names, 2};
    const char *fname = spec.fname;
    PyObject *argv[4];
    PyObject *result = NULL;
    int rank, size, ierr, *counts = NULL;
    FastMPIOpObject *op;
    fastmpi_msg s, r;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        (op = fastmpi_op_arg(argv[3], fname, "op")) == NULL ||
        comm_ranks(self, &rank, &size) < 0) {
        return NULL;
    }
    int in_place = is_in_place(argv[0]);
    if (in_place && (argv[2] == NULL || argv[2] == Py_None)) {
        PyErr_SetString(PyExc_ValueError,
                        "Reduce_scatter(): with sendbuf=MPI.IN_PLACE, "
                        "'recvcounts' is required");
        return NULL;
    }
    msg_unused(&s);
    if (parse_plain(argv[1], FASTMPI_MSG_RECV, fname, "recvbuf",
                    "as 'sendbuf' only", &r) < 0) {
        return NULL;
    }
    if (in_place) {
        msg_in_place(&s, &r);
    }
    else if (parse_plain(argv[0], FASTMPI_MSG_SEND, fname, "sendbuf", "",
                         &s) < 0) {
        goto done;
    }
    counts = PyMem_Malloc(sizeof(int) * (size_t)size);
    if (counts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (reduce_scatter_counts(argv[2], self->ob_mpi, size, r.count,
                              counts) < 0) {
        goto done;
    }
    long long total = 0;
    for (int i = 0; i < size; i++) {
        total += counts[i];
    }
    if (in_place ? r.count != total : s.count != total) {
        PyErr_Format(PyExc_ValueError,
                     "Reduce_scatter(): '%s' has %d elements but "
                     "recvcounts add up to %lld",
                     in_place ? "recvbuf" : "sendbuf",
                     in_place ? r.count : s.count, total);
        goto done;
    }
    if (!in_place) {
        if (s.datatype != r.datatype) {
            PyErr_SetString(PyExc_ValueError,
                            "Reduce_scatter(): 'sendbuf' and 'recvbuf' "
                            "have different MPI datatypes");
            goto done;
        }
        if (r.count < counts[rank]) {
            PyErr_Format(PyExc_ValueError,
                         "Reduce_scatter(): 'recvbuf' has %d elements; "
                         "recvcounts[%d] is %d", r.count, rank,
                         counts[rank]);
            goto done;
        }
    }
    MPI_Comm comm = self->ob_mpi;
    MPI_Op mop = op->ob_mpi;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Reduce_scatter", comm, MPI_PROC_NULL, 0, r.nbytes,
                 ierr = MPI_Reduce_scatter(s.addr, r.addr, counts,
                                           r.datatype, mop, comm));
    FASTMPI_NOGIL_END
    result = finish_reduction(ierr, op, comm, fname);
done:
    PyMem_Free(counts);
    fastmpi_msg_release(&s);
    fastmpi_msg_release(&r);
    return result;
}

#define COLL_METHOD(name, doc)                                             \
    {#name, FASTMPI_FASTCALL(Comm_##name), METH_FASTCALL | METH_KEYWORDS,  \
     doc}

PyMethodDef fastmpi_coll_methods[] = {
    COLL_METHOD(Bcast, "Bcast(buf, root=0): broadcast from root."),
    COLL_METHOD(Gather, "Gather(sendbuf, recvbuf, root=0): gather to "
                        "root, the same count from every rank."),
    COLL_METHOD(Gatherv, "Gatherv(sendbuf, recvbuf, root=0): gather to "
                         "root; recvbuf [buf, counts, displs, datatype]."),
    COLL_METHOD(Scatter, "Scatter(sendbuf, recvbuf, root=0): scatter "
                         "from root, the same count to every rank."),
    COLL_METHOD(Scatterv, "Scatterv(sendbuf, recvbuf, root=0): scatter "
                          "from root; sendbuf [buf, counts, displs, "
                          "datatype]."),
    COLL_METHOD(Allgather, "Allgather(sendbuf, recvbuf): gather to all."),
    COLL_METHOD(Allgatherv, "Allgatherv(sendbuf, recvbuf): gather to all, "
                            "counts per rank."),
    COLL_METHOD(Alltoall, "Alltoall(sendbuf, recvbuf): all to all."),
    COLL_METHOD(Alltoallv, "Alltoallv(sendbuf, recvbuf): all to all, "
                           "counts and displacements per rank."),
    COLL_METHOD(Alltoallw, "Alltoallw(sendbuf, recvbuf): all to all, "
                           "[buf, counts, displs (bytes), datatypes]."),
    COLL_METHOD(Reduce, "Reduce(sendbuf, recvbuf, op=SUM, root=0)."),
    COLL_METHOD(Allreduce, "Allreduce(sendbuf, recvbuf, op=SUM)."),
    COLL_METHOD(Reduce_scatter_block, "Reduce_scatter_block(sendbuf, "
                                      "recvbuf, op=SUM)."),
    COLL_METHOD(Reduce_scatter, "Reduce_scatter(sendbuf, recvbuf, "
                                "recvcounts=None, op=SUM)."),
    COLL_METHOD(Scan, "Scan(sendbuf, recvbuf, op=SUM): inclusive prefix "
                      "reduction."),
    COLL_METHOD(Exscan, "Exscan(sendbuf, recvbuf, op=SUM): exclusive "
                        "prefix reduction (rank 0's recvbuf is left "
                        "as is)."),
    {NULL},
};
