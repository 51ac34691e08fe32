/* objcoll.c: collectives with Python objects: bcast, gather, scatter,
 * allgather, alltoall, reduce, allreduce, scan, exscan.
 *
 * Objects travel pickled (pickle.c: scalars flat, large buffers
 * out-of-band, sent from where they lie).  Sizes go first in one small
 * collective, then the data in a v-collective into one bytearray, each
 * rank's message at a 64-byte boundary; every object is unpickled from its
 * slice of it, out-of-band arrays viewing it without a copy.  bcast sends
 * small objects within its first (fixed-size) message: one MPI_Bcast.
 * scatter and alltoall pack the pieces into one send buffer (MPI_Pack of
 * each piece's message, arrays included: one copy on the sending side);
 * gather and allgather send bytes too (see send_as_bytes).
 *
 * Reductions: op is an MPI.Op (predefined ops apply to objects as mpi4py
 * applies them; a user Op to buffers) or any callable f(a, b).  reduce
 * gathers to the root, allreduce, scan and exscan gather to every rank;
 * the objects are then folded in rank order, ((x0 op x1) op x2) ..., so
 * a non-commutative op is applied as MPI orders it, and every rank
 * computes the same thing (an op that raises, raises on every rank).
 *
 * The allreduce fast path: with a predefined SUM, PROD, MAX or MIN, each
 * rank contributes one 16-byte cell (what it holds: a float, an int that
 * fits in 64 bits, or something else; the op; the value) to a single
 * MPI_Allreduce with a C reduction.  Cells of the same kind combine; any
 * disagreement (an int meeting a float, a non-scalar, an int overflow, a
 * NaN under MAX/MIN, different ops) turns the result into "other".  All
 * ranks see the same combined cell, so all take the same path: the value
 * when it is a float or an int, else the general path (gather and fold),
 * which gives Python's exact result.  A rank never decides alone.
 *
 * On an intercommunicator (FASTMPI_INTER, tested once per call) the
 * objects come from the remote group: the root passes MPI.ROOT and gets
 * the list or reduction (None from bcast and scatter), the rest of its
 * group MPI.PROC_NULL (None), the other group the root's remote rank.
 * allreduce skips the fast path there (each group would see only the
 * other's cells, so the two could take different paths): it gathers and
 * folds.  bcast sends a fixed two messages (the ranks passing
 * MPI.PROC_NULL cannot know whether a second is needed).  scan and exscan
 * are refused.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/op.h"
#include "../2_buffer/pickle.h"
#include "../4_comm/comm.h"
#include "coll.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define ALIGN 64
#define BCAST_HEAD 256      /* bcast's first message: length + inline data */

static Py_ssize_t
align_up(Py_ssize_t n)
{
    return (n + ALIGN - 1) / ALIGN * ALIGN;
}

#define FAILED (-1)             /* a size: the sender could not pickle */
#define NO_PEER (-2)            /* a size MPI left alone: MPI.PROC_NULL */

/* The neighbour collectives (neighbor.c, nbr = 1) word some errors
 * differently; the texts are kept as they were. */
static const char *
too_large_text(int nbr)
{
    return nbr ? "the objects add up to more than 2**31-1 bytes; not "
                 "supported yet"
               : "the objects add up to more than 2**31-1 bytes; "
                 "collectives of that size are not supported yet";
}

/* Counts (sizes < 0 count as 0; counts may be sizes) and displacements
 * at ALIGN boundaries; the total in *total.  -1 with OverflowError past
 * what an int displacement reaches. */
static int
aligned_layout(const int *sizes, int n, int *counts, int *displs,
               Py_ssize_t *total, int nbr)
{
    Py_ssize_t at = 0;
    for (int i = 0; i < n; i++) {
        at = align_up(at);
        if (at > INT_MAX) {
            PyErr_SetString(PyExc_OverflowError, too_large_text(nbr));
            return -1;
        }
        counts[i] = sizes[i] > 0 ? sizes[i] : 0;
        displs[i] = (int)at;
        at += counts[i];
    }
    *total = at;
    return 0;
}

/* A rank that cannot produce its part of a collective still takes part
 * (sending nothing, with a size of -1 that tells the others), so that no
 * rank waits for ever; it then raises its own exception and the others
 * raise this one. */
static PyObject *
peer_failed(const char *fname, int rank)
{
    return PyErr_Format(PyExc_ValueError,
                        "%s(): rank %d failed to send its object (it "
                        "raised there)", fname, rank);
}

/* New list of n: None for NO_PEER, else the object in slice [displs[i],
 * + sizes[i]) of buf; ValueError naming the first sender that failed:
 * neighbour sources[i] (the neighbour collectives), or rank i (sources
 * NULL). */
static PyObject *
load_all(const char *fname, PyObject *buf, const int *sizes,
         const int *displs, int n, const int *sources)
{
    for (int i = 0; i < n; i++) {
        if (sizes[i] == FAILED && sources == NULL) {
            return peer_failed(fname, i);
        }
        if (sizes[i] == FAILED) {
            return PyErr_Format(PyExc_ValueError,
                                "%s(): neighbour rank %d failed to send its "
                                "object (it raised there)", fname,
                                sources[i]);
        }
    }
    PyObject *list = PyList_New(n);
    if (list == NULL) {
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        PyObject *obj = sizes[i] == NO_PEER
            ? Py_NewRef(Py_None)
            : fastmpi_pickle_load_slice(buf, displs[i], sizes[i]);
        if (obj == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, obj);      /* steals */
    }
    return list;
}

/* Replace failure marks (-1) in sizes[n] by 0; the first failed rank, or
 * -1 if none. */
static int
clear_failures(int *sizes, int n)
{
    int failed = -1;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0) {
            sizes[i] = 0;
            failed = failed < 0 ? i : failed;
        }
    }
    return failed;
}

typedef struct {
    PyObject *type, *value, *tb;
} saved_error;

/* Nothing to send (an intercommunicator's root group). */
static void
pickled_empty(fastmpi_pickled *p)
{
    memset(p, 0, sizeof(*p));
    p->datatype = MPI_BYTE;
}

/* Nothing to send, and size -1: this rank failed, the others hear of it
 * from the size. */
static void
pickled_failed(fastmpi_pickled *p)
{
    p->addr = NULL;
    p->count = 0;
    p->nbytes = -1;
    p->datatype = MPI_BYTE;
}

/* Pickle obj; on failure keep the exception in *err and send nothing. */
static void
dump_or_save(PyObject *obj, fastmpi_pickled *p, saved_error *err)
{
    err->type = err->value = err->tb = NULL;
    if (fastmpi_pickle_dump(obj, p) < 0) {
        PyErr_Fetch(&err->type, &err->value, &err->tb);
        pickled_failed(p);
    }
}

/* Open MPI's allgatherv chooses its algorithm from the send type's size
 * times the counts: ranks sending a derived type (an object with
 * out-of-band buffers, or one a program's serializer made) and ranks
 * sending bytes would choose different algorithms and wait for each other
 * for ever (3 ranks, one of them sending a large array).  So the gathers
 * always send bytes: a derived message is first copied into *flat (PyMem,
 * the caller frees it) and *addr, *count, *type describe what to send.
 * Without memory, the error goes to *err and the rank sends nothing, as
 * after a pickling error. */
static void
send_as_bytes(fastmpi_pickled *p, char **flat, void **addr, int *count,
              MPI_Datatype *type, saved_error *err)
{
    *flat = NULL;
    *addr = p->addr;
    *count = p->count;
    *type = p->datatype;
    if (p->datatype == MPI_BYTE || p->nbytes <= 0) {
        return;
    }
    *flat = PyMem_Malloc((size_t)p->nbytes);
    if (*flat == NULL) {
        fastmpi_pickled_release(p);
        PyErr_NoMemory();
        PyErr_Fetch(&err->type, &err->value, &err->tb);
        pickled_failed(p);
        *addr = NULL;
        *count = 0;
        *type = MPI_BYTE;
        return;
    }
    fastmpi_pickled_flatten(p, *flat);
    *addr = *flat;
    *count = (int)p->nbytes;
    *type = MPI_BYTE;
}

/* Every rank's object, as a new list of `size`, at `root` (None
 * elsewhere) or, with all, at every rank.  receiving: this rank gets the
 * list; sending: it sends an object (not so in an intercommunicator's
 * root group); size: the group's size, or the remote group's. */
static PyObject *
gather_objects(const char *fname, MPI_Comm comm, PyObject *obj, int root,
               int all, int receiving, int sending, int size)
{
    fastmpi_objx x = {all ? FASTMPI_OBJX_ALLGATHER : FASTMPI_OBJX_GATHER,
                      comm, root, 0, size, receiving, sending, NULL, 0};
    return fastmpi_objx_exchange(&x, obj, fname);
}

/* The items of a sequence of one object per rank: a new reference to a
 * list or tuple (PySequence_Fast), or NULL with an exception. */
static PyObject *
per_rank_items(PyObject *obj, int size, const char *fname,
               const char *argname)
{
    if (obj == Py_None) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a sequence of %d objects "
                     "(one per rank), not None", fname, argname, size);
        return NULL;
    }
    PyObject *seq = PySequence_Fast(obj, "");
    if (seq == NULL) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a sequence of %d objects "
                     "(one per rank), not %.100s", fname, argname, size,
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (PySequence_Fast_GET_SIZE(seq) != size) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' has %zd items; the communicator "
                     "has %d ranks", fname, argname,
                     PySequence_Fast_GET_SIZE(seq), size);
        Py_DECREF(seq);
        return NULL;
    }
    return seq;
}

/* Pickle the items of seq one after another into a new bytearray, each
 * at an ALIGN boundary; sizes and displs filled (nbr: as
 * too_large_text). */
static PyObject *
pack_items(PyObject *seq, int nbr, int *sizes, int *displs)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    fastmpi_pickled *ps = PyMem_Calloc(n ? n : 1, sizeof(*ps));
    PyObject *buf = NULL;
    Py_ssize_t done = 0, total;
    if (ps == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (; done < n; done++) {
        if (fastmpi_pickle_dump(PySequence_Fast_ITEMS(seq)[done],
                                &ps[done]) < 0) {
            goto out;
        }
        if (ps[done].nbytes > INT_MAX) {
            if (nbr) {
                PyErr_SetString(PyExc_OverflowError, "an object pickles "
                                "to more than 2**31-1 bytes");
            }
            else {
                PyErr_Format(PyExc_ValueError,
                             "item %zd pickles to %zd bytes; the object "
                             "collectives other than bcast take at most "
                             "2**31-1 bytes per item", done,
                             ps[done].nbytes);
            }
            done++;
            goto out;
        }
        sizes[done] = (int)ps[done].nbytes;
    }
    if (aligned_layout(sizes, (int)n, sizes, displs, &total, nbr) < 0 ||
        (buf = PyByteArray_FromStringAndSize(NULL, total)) == NULL) {
        goto out;
    }
    char *data = PyByteArray_AS_STRING(buf);
    for (Py_ssize_t i = 0; i < n; i++) {
        fastmpi_pickled_flatten(&ps[i], data + displs[i]);
    }
out:
    for (Py_ssize_t i = 0; i < done; i++) {
        fastmpi_pickled_release(&ps[i]);
    }
    PyMem_Free(ps);
    return buf;
}

/* ---- the object exchange (gather, allgather, alltoall, neighbor.c's) --- */

/* The items of the alltoalls' sendobj: a new reference to a list or
 * tuple of x->nout, or NULL with an exception (worded per family). */
static PyObject *
sendobj_items(const fastmpi_objx *x, PyObject *obj, const char *fname)
{
    if (x->which != FASTMPI_OBJX_NBR_ALLTOALL) {
        return per_rank_items(obj, x->nout, fname, "sendobj");
    }
    PyObject *seq = PySequence_Fast(obj, "");
    if (seq == NULL || PySequence_Fast_GET_SIZE(seq) != x->nout) {
        PyErr_Clear();
        PyErr_Format(seq ? PyExc_ValueError : PyExc_TypeError,
                     "%s() argument 'sendobj' must be a sequence of %d "
                     "objects (one per out-neighbour), not %.100s%s",
                     fname, x->nout, Py_TYPE(obj)->tp_name,
                     seq ? " of another length" : "");
        Py_XDECREF(seq);
        return NULL;
    }
    return seq;
}

/* neighbor_alltoall's data through the blocking MPI_Neighbor_alltoall
 * (x->dup, see neighbor.c's cart_duplicates): every block the size of the
 * largest object any process sends (one MPI_Allreduce finds it).  The
 * received objects go into a new *rbuf, block i at rdispls[i]. */
static int
uniform_alltoall(MPI_Comm comm, const char *sdata, int outdeg,
                 const int *ssizes, const int *sdispls, int indeg,
                 int *rdispls, PyObject **rbuf)
{
    int block = 0, ierr;
    for (int i = 0; i < outdeg; i++) {
        block = ssizes[i] > block ? ssizes[i] : block;
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Allreduce", comm, MPI_PROC_NULL, 0, sizeof(int),
                 ierr = MPI_Allreduce(MPI_IN_PLACE, &block, 1, MPI_INT,
                                      MPI_MAX, comm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return -1;
    }
    Py_ssize_t stride = align_up(block);
    if (stride * (outdeg > indeg ? outdeg : indeg) > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, too_large_text(1));
        return -1;
    }
    PyObject *sb = PyByteArray_FromStringAndSize(NULL, stride * outdeg + 1);
    PyObject *rb = PyByteArray_FromStringAndSize(NULL, stride * indeg + 1);
    if (sb == NULL || rb == NULL) {
        Py_XDECREF(sb);
        Py_XDECREF(rb);
        return -1;
    }
    char *s = PyByteArray_AS_STRING(sb), *r = PyByteArray_AS_STRING(rb);
    for (int i = 0; i < outdeg; i++) {
        if (sdata != NULL && ssizes[i] > 0) {
            memcpy(s + stride * i, sdata + sdispls[i], (size_t)ssizes[i]);
        }
    }
    for (int i = 0; i < indeg; i++) {
        rdispls[i] = (int)(stride * i);
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Neighbor_alltoall", comm, MPI_PROC_NULL, 0,
                 stride * indeg,
                 ierr = MPI_Neighbor_alltoall(s, (int)stride, MPI_BYTE, r,
                                              (int)stride, MPI_BYTE, comm));
    FASTMPI_NOGIL_END
    Py_DECREF(sb);
    if (fastmpi_check(ierr) < 0) {
        Py_DECREF(rb);
        return -1;
    }
    Py_SETREF(*rbuf, rb);
    return 0;
}

/* The sizes' collective: mine (one object to all) or ssizes (one each)
 * to the others, theirs into rsizes.  No Python API. */
static int
exchange_sizes(const fastmpi_objx *x, int *mine, int *ssizes, int *rsizes,
               int *ones, int *iota)
{
    MPI_Comm comm = x->comm;
    int ierr = MPI_ERR_INTERN;
    switch (x->which) {
    case FASTMPI_OBJX_GATHER:
        FASTMPI_CALL("MPI_Gather", comm, x->root, 0, sizeof(int),
                     ierr = MPI_Gather(mine, 1, MPI_INT, rsizes, 1, MPI_INT,
                                       x->root, comm));
        break;
    case FASTMPI_OBJX_ALLGATHER:
        FASTMPI_CALL("MPI_Allgather", comm, MPI_PROC_NULL, 0, sizeof(int),
                     ierr = MPI_Allgather(mine, 1, MPI_INT, rsizes, 1,
                                          MPI_INT, comm));
        break;
    case FASTMPI_OBJX_ALLTOALL:
        FASTMPI_CALL("MPI_Alltoall", comm, MPI_PROC_NULL, 0, sizeof(int),
                     ierr = MPI_Alltoall(ssizes, 1, MPI_INT, rsizes, 1,
                                         MPI_INT, comm));
        break;
    case FASTMPI_OBJX_NBR_ALLGATHER:
        FASTMPI_CALL("MPI_Neighbor_allgather", comm, MPI_PROC_NULL, 0,
                     sizeof(int),
                     ierr = MPI_Neighbor_allgather(mine, 1, MPI_INT,
                                                   rsizes, 1, MPI_INT,
                                                   comm));
        break;
    case FASTMPI_OBJX_NBR_ALLTOALL:
        if (x->dup) {
            FASTMPI_CALL("MPI_Neighbor_alltoall", comm, MPI_PROC_NULL, 0,
                         sizeof(int),
                         ierr = MPI_Neighbor_alltoall(ssizes, 1, MPI_INT,
                                                      rsizes, 1, MPI_INT,
                                                      comm));
            break;
        }
        /* the sizes through the same MPI function as the data: with a
         * neighbour listed twice, the libraries differ in which of the
         * two messages lands where, but each is consistent with itself */
        FASTMPI_CALL("MPI_Neighbor_alltoallv", comm, MPI_PROC_NULL, 0,
                     sizeof(int),
                     ierr = MPI_Neighbor_alltoallv(ssizes, ones, iota,
                                                   MPI_INT, rsizes, ones,
                                                   iota, MPI_INT, comm));
        break;
    }
    return ierr;
}

/* The data's v-collective: p (one object to all) or sdata in ssizes
 * blocks at sdispls (one each) to the others, theirs into rdata.  No
 * Python API. */
static int
exchange_data(const fastmpi_objx *x, const fastmpi_pickled *p,
              const char *sdata, const int *ssizes, const int *sdispls,
              char *rdata, const int *rcounts, const int *rdispls,
              Py_ssize_t total)
{
    MPI_Comm comm = x->comm;
    int ierr = MPI_ERR_INTERN;
    switch (x->which) {
    case FASTMPI_OBJX_GATHER:
        FASTMPI_CALL("MPI_Gatherv", comm, x->root, 0, p->nbytes,
                     ierr = MPI_Gatherv(p->addr, p->count, p->datatype,
                                        rdata, rcounts, rdispls, MPI_BYTE,
                                        x->root, comm));
        break;
    case FASTMPI_OBJX_ALLGATHER:
        FASTMPI_CALL("MPI_Allgatherv", comm, MPI_PROC_NULL, 0, p->nbytes,
                     ierr = MPI_Allgatherv(p->addr, p->count, p->datatype,
                                           rdata, rcounts, rdispls,
                                           MPI_BYTE, comm));
        break;
    case FASTMPI_OBJX_ALLTOALL:
        FASTMPI_CALL("MPI_Alltoallv", comm, MPI_PROC_NULL, 0, total,
                     ierr = MPI_Alltoallv(sdata, ssizes, sdispls, MPI_BYTE,
                                          rdata, rcounts, rdispls, MPI_BYTE,
                                          comm));
        break;
    case FASTMPI_OBJX_NBR_ALLGATHER:
        FASTMPI_CALL("MPI_Neighbor_allgatherv", comm, MPI_PROC_NULL, 0,
                     total,
                     ierr = MPI_Neighbor_allgatherv(p->addr, p->count,
                                                    p->datatype, rdata,
                                                    rcounts, rdispls,
                                                    MPI_BYTE, comm));
        break;
    case FASTMPI_OBJX_NBR_ALLTOALL:
        FASTMPI_CALL("MPI_Neighbor_alltoallv", comm, MPI_PROC_NULL, 0,
                     total,
                     ierr = MPI_Neighbor_alltoallv(sdata, ssizes, sdispls,
                                                   MPI_BYTE, rdata, rcounts,
                                                   rdispls, MPI_BYTE,
                                                   comm));
        break;
    }
    return ierr;
}

PyObject *
fastmpi_objx_exchange(const fastmpi_objx *x, PyObject *sendobj,
                      const char *fname)
{
    int nbr = x->which >= FASTMPI_OBJX_NBR_ALLGATHER;
    int each = x->which == FASTMPI_OBJX_ALLTOALL ||
               x->which == FASTMPI_OBJX_NBR_ALLTOALL;
    int nout = each ? x->nout : 0, nin = x->nin, ierr, mine = 0;
    fastmpi_pickled p;
    saved_error err = {NULL, NULL, NULL};
    PyObject *seq = NULL, *sbuf = NULL, *rbuf = NULL, *result = NULL;
    /* ssizes, sdispls (nout); rsizes, rcounts, rdispls (nin); ones and
     * iota (the neighbour alltoall's sizes) run to the larger count */
    int most = nout > nin ? nout : nin;
    int *mem = PyMem_Malloc(sizeof(int) * (size_t)(2 * nout + 3 * nin +
                                                   2 * most + 1));
    if (mem == NULL) {
        return PyErr_NoMemory();
    }
    int *ssizes = mem, *sdispls = mem + nout;
    int *rsizes = sdispls + nout, *rcounts = rsizes + nin;
    int *rdispls = rcounts + nin;
    int *ones = rdispls + nin, *iota = ones + most;
    for (int i = 0; i < most; i++) {
        ones[i] = 1;
        iota[i] = i;
    }
    for (int i = 0; i < nin; i++) {
        rsizes[i] = NO_PEER;
    }
    const char *sdata = NULL;
    pickled_empty(&p);
    if (each) {
        seq = sendobj_items(x, sendobj, fname);
        if (seq == NULL || (sbuf = pack_items(seq, nbr, ssizes, sdispls)) ==
                               NULL) {
            PyErr_Fetch(&err.type, &err.value, &err.tb);
            for (int i = 0; i < nout; i++) {
                ssizes[i] = FAILED;
                sdispls[i] = 0;
            }
        }
        else {
            sdata = PyByteArray_AS_STRING(sbuf);
        }
    }
    else if (x->sending) {
        dump_or_save(sendobj, &p, &err);
    }
    if (p.nbytes > INT_MAX) {
        /* int sizes and displacements: fail like a pickling error, so
         * the other ranks hear of it and nobody waits */
        Py_ssize_t big = p.nbytes;
        fastmpi_pickled_release(&p);
        if (nbr) {
            PyErr_SetString(PyExc_OverflowError,
                            "the object pickles to more than 2**31-1 bytes");
        }
        else {
            PyErr_Format(PyExc_ValueError,
                         "%s(): the object pickles to %zd bytes; the object "
                         "collectives other than bcast take at most 2**31-1 "
                         "bytes per rank", fname, big);
        }
        PyErr_Fetch(&err.type, &err.value, &err.tb);
        pickled_failed(&p);
    }
    /* what exchange_data sends: the message as bytes (send_as_bytes) */
    fastmpi_pickled sendp = p;
    char *flat = NULL;
    if (!each) {
        send_as_bytes(&p, &flat, &sendp.addr, &sendp.count, &sendp.datatype,
                      &err);
        sendp.nbytes = p.nbytes;
    }
    mine = (int)p.nbytes;
    FASTMPI_NOGIL_BEGIN
    ierr = exchange_sizes(x, &mine, ssizes, rsizes, ones, iota);
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        goto done;
    }
    char *rdata = NULL;
    Py_ssize_t total = 0;
    if (x->receiving) {
        if (aligned_layout(rsizes, nin, rcounts, rdispls, &total, nbr) < 0 ||
            (rbuf = PyByteArray_FromStringAndSize(NULL, total)) == NULL) {
            goto done;
        }
        rdata = PyByteArray_AS_STRING(rbuf);
    }
    for (int i = 0; i < nout; i++) {
        ssizes[i] = ssizes[i] > 0 ? ssizes[i] : 0;
    }
    if (x->which == FASTMPI_OBJX_NBR_ALLTOALL && x->dup) {
        if (uniform_alltoall(x->comm, sdata, nout, ssizes, sdispls, nin,
                             rdispls, &rbuf) < 0) {
            goto done;
        }
    }
    else {
        FASTMPI_NOGIL_BEGIN
        ierr = exchange_data(x, &sendp, sdata, ssizes, sdispls, rdata,
                             rcounts, rdispls, total);
        FASTMPI_NOGIL_END
        if (fastmpi_check(ierr) < 0) {
            goto done;
        }
    }
    if (err.type != NULL) {
        goto done;
    }
    result = x->receiving ? load_all(fname, rbuf, rsizes, rdispls, nin,
                                     x->sources)
                          : Py_NewRef(Py_None);
done:
    if (err.type != NULL) {
        PyErr_Restore(err.type, err.value, err.tb);     /* ours first */
    }
    fastmpi_pickled_release(&p);
    PyMem_Free(flat);
    Py_XDECREF(seq);
    Py_XDECREF(sbuf);
    Py_XDECREF(rbuf);
    PyMem_Free(mem);
    return result;
}

/* ---- bcast ------------------------------------------------------------- */

/* Where this rank stands in a rooted collective on an intercommunicator:
 * 1 the root (MPI.ROOT), 0 the root's group (MPI.PROC_NULL), -1 the other
 * group; the remote size in *rsize.  -2 with an exception. */
static int
inter_role(FastMPICommObject *self, const char *fname, int root, int *rsize)
{
    if (fastmpi_comm_remote_size(self, rsize) < 0 ||
        fastmpi_inter_root_check(fname, root, *rsize) < 0) {
        return -2;
    }
    return root == MPI_ROOT ? 1 : root == MPI_PROC_NULL ? 0 : -1;
}

/* bcast on an intercommunicator: the length, then the data, always two
 * broadcasts.  None at the root's group. */
static PyObject *
bcast_inter(FastMPICommObject *self, PyObject *obj, int root)
{
    int rsize, ierr;
    int role = inter_role(self, "bcast", root, &rsize);
    if (role == -2) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    fastmpi_pickled p;
    saved_error err = {NULL, NULL, NULL};
    PyObject *buf = NULL, *result = NULL;
    int64_t len = 0;
    pickled_empty(&p);
    if (role == 1) {
        dump_or_save(obj, &p, &err);
        len = p.nbytes;     /* -1 if it failed */
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Bcast", comm, root, 0, sizeof(len),
                 ierr = MPI_Bcast(&len, 1, MPI_INT64_T, root, comm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        goto done;
    }
    void *addr = p.addr;
    int count = p.count;
    MPI_Datatype type = p.datatype;
    int too_big = 0;
    if (role == -1) {
        if (len > INT_MAX) {
            too_big = 1;
            len = 0;    /* still take part: the root sends, MPI errs */
        }
        buf = PyByteArray_FromStringAndSize(NULL, len > 0 ? len : 0);
        if (buf == NULL) {
            goto done;
        }
        addr = PyByteArray_AS_STRING(buf);
        count = len > 0 ? (int)len : 0;
        type = MPI_BYTE;
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Bcast", comm, root, 0, count,
                 ierr = MPI_Bcast(addr, count, type, root, comm));
    FASTMPI_NOGIL_END
    if (too_big) {
        PyErr_Format(PyExc_OverflowError,
                     "bcast(): the object is more than 2**31-1 bytes; "
                     "not supported yet");
        goto done;
    }
    if (fastmpi_check(ierr) < 0 || err.type != NULL) {
        goto done;
    }
    if (role != -1) {
        result = Py_NewRef(Py_None);
    }
    else if (len < 0) {
        peer_failed("bcast", root);
    }
    else {
        result = fastmpi_pickle_load_exported(buf);
    }
done:
    if (err.type != NULL) {
        PyErr_Restore(err.type, err.value, err.tb);
    }
    fastmpi_pickled_release(&p);
    Py_XDECREF(buf);
    return result;
}

static PyObject *
Comm_bcast(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    static const char *const names[] = {"obj", "root", NULL};
    static fastmpi_argspec spec = {"bcast", names, 0};
    PyObject *argv[2];
    int root, rank, size, ierr;
    fastmpi_pickled p;
    saved_error err = {NULL, NULL, NULL};
    union {
        int64_t len;
        char bytes[BCAST_HEAD];
    } head;
    char *inline_data = head.bytes + sizeof(int64_t);
    const Py_ssize_t room = BCAST_HEAD - (Py_ssize_t)sizeof(int64_t);
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &root) < 0) {
        return NULL;
    }
    if (Py_UNLIKELY(self->flags & FASTMPI_INTER)) {
        return bcast_inter(self, argv[0] ? argv[0] : Py_None, root);
    }
    if (fastmpi_comm_ranks(self, &rank, &size) < 0 ||
        fastmpi_coll_root_check("bcast", root, size) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    if (rank == root) {
        dump_or_save(argv[0] ? argv[0] : Py_None, &p, &err);
        head.len = p.nbytes;    /* -1 if it failed */
        if (p.nbytes >= 0 && p.nbytes <= room) {
            fastmpi_pickled_flatten(&p, inline_data);
        }
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Bcast", comm, root, 0, BCAST_HEAD,
                 ierr = MPI_Bcast(head.bytes, BCAST_HEAD, MPI_BYTE, root,
                                  comm));
    FASTMPI_NOGIL_END
    PyObject *buf = NULL, *result = NULL;
    Py_ssize_t len = (Py_ssize_t)head.len;
    if (fastmpi_check(ierr) < 0 || err.type != NULL) {
        goto done;
    }
    if (len < 0) {
        peer_failed("bcast", root);
        goto done;
    }
    if (len <= room) {
        /* all in the first message; the root's result is a copy too */
        result = fastmpi_pickle_load_memory(inline_data, len);
        goto done;
    }
    if ((buf = PyByteArray_FromStringAndSize(NULL, len)) == NULL) {
        goto done;      /* MemoryError: the others wait (not handled) */
    }
    /* The root sends a contiguous copy: MPI may write into the root's
     * buffer of a broadcast (MPICH's scatter-allgather algorithm writes
     * the same bytes back), which the pieces of an out-of-band message
     * (read-only padding, the caller's arrays) must not see. */
    char *data = PyByteArray_AS_STRING(buf);
    if (rank == root) {
        fastmpi_pickled_flatten(&p, data);
    }
    int count = (int)len;
    MPI_Datatype type = MPI_BYTE;
    if (len > INT_MAX) {
        /* past 2 GiB: one item of a large type (strided.c); every rank
         * has the same len, so all take this branch */
        if (fastmpi_large_type(MPI_BYTE, len, "bcast", "obj", &type) < 0) {
            goto done;
        }
        count = 1;
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Bcast", comm, root, 0, len,
                 ierr = MPI_Bcast(data, count, type, root, comm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        goto done;
    }
    result = fastmpi_pickle_load_exported(buf);
done:
    if (err.type != NULL) {
        PyErr_Restore(err.type, err.value, err.tb);
    }
    if (rank == root) {
        fastmpi_pickled_release(&p);
    }
    Py_XDECREF(buf);
    return result;
}

/* ---- gather, allgather ------------------------------------------------- */

/* This rank's rank, and the number of ranks objects come from: the size,
 * or on an intercommunicator the remote group's size.  0 or -1. */
static int
group_size(FastMPICommObject *self, int *rank, int *size)
{
    if (fastmpi_comm_ranks(self, rank, size) < 0) {
        return -1;
    }
    if (Py_UNLIKELY(self->flags & FASTMPI_INTER)) {
        return fastmpi_comm_remote_size(self, size);
    }
    return 0;
}

static PyObject *
Comm_gather(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendobj", "root", NULL};
    static fastmpi_argspec spec = {"gather", names, 0};
    PyObject *argv[2];
    int root, rank, size;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &root) < 0) {
        return NULL;
    }
    PyObject *obj = argv[0] ? argv[0] : Py_None;
    if (Py_UNLIKELY(self->flags & FASTMPI_INTER)) {
        int role = inter_role(self, "gather", root, &size);
        if (role == -2) {
            return NULL;
        }
        return gather_objects("gather", self->ob_mpi, obj, root, 0,
                              role == 1, role == -1, size);
    }
    if (fastmpi_comm_ranks(self, &rank, &size) < 0 ||
        fastmpi_coll_root_check("gather", root, size) < 0) {
        return NULL;
    }
    return gather_objects("gather", self->ob_mpi, obj, root, 0,
                          rank == root, 1, size);
}

static PyObject *
Comm_allgather(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendobj", NULL};
    static fastmpi_argspec spec = {"allgather", names, 1};
    PyObject *argv[1];
    int rank, size;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        group_size(self, &rank, &size) < 0) {
        return NULL;
    }
    return gather_objects("allgather", self->ob_mpi, argv[0], 0, 1, 1, 1,
                          size);
}

/* ---- scatter, alltoall ------------------------------------------------- */

static PyObject *
Comm_scatter(FastMPICommObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendobj", "root", NULL};
    static fastmpi_argspec spec = {"scatter", names, 0};
    PyObject *argv[2];
    PyObject *seq = NULL, *buf = NULL, *rbuf = NULL, *result = NULL;
    int root, rank, size, ierr, mine = 0, *sizes = NULL, *displs = NULL;
    saved_error err = {NULL, NULL, NULL};
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &root) < 0) {
        return NULL;
    }
    /* the root's side: the root; on an intercommunicator also the ranks
     * passing MPI.PROC_NULL, which send and receive nothing */
    int root_side, inter = self->flags & FASTMPI_INTER;
    if (Py_UNLIKELY(inter)) {
        int role = inter_role(self, "scatter", root, &size);
        if (role == -2) {
            return NULL;
        }
        rank = role == 1 ? root : MPI_UNDEFINED;
        root_side = role >= 0;
    }
    else {
        if (fastmpi_comm_ranks(self, &rank, &size) < 0 ||
            fastmpi_coll_root_check("scatter", root, size) < 0) {
            return NULL;
        }
        root_side = rank == root;
    }
    MPI_Comm comm = self->ob_mpi;
    char *sdata = NULL, *rdata = NULL;
    if (rank == root) {
        sizes = PyMem_Malloc(2 * sizeof(int) * (size_t)size);
        if (sizes == NULL) {
            return PyErr_NoMemory();
        }
        displs = sizes + size;
        seq = per_rank_items(argv[0] ? argv[0] : Py_None, size, "scatter",
                             "sendobj");
        if (seq == NULL || (buf = pack_items(seq, 0, sizes, displs)) ==
                               NULL) {
            PyErr_Fetch(&err.type, &err.value, &err.tb);
            for (int i = 0; i < size; i++) {
                sizes[i] = -1;
                displs[i] = 0;
            }
        }
        else {
            sdata = PyByteArray_AS_STRING(buf);
        }
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Scatter", comm, root, 0, sizeof(int),
                 ierr = MPI_Scatter(sizes, 1, MPI_INT, &mine, 1, MPI_INT,
                                    root, comm));
    FASTMPI_NOGIL_END
    /* on an intercommunicator the ranks passing MPI.PROC_NULL cannot
     * know of a failure: every rank always takes part in both calls */
    if (fastmpi_check(ierr) < 0 || (err.type != NULL && !inter)) {
        goto done;
    }
    if (mine < 0 && !root_side) {
        if (inter) {
            FASTMPI_NOGIL_BEGIN
            FASTMPI_CALL("MPI_Scatterv", comm, root, 0, 0,
                         ierr = MPI_Scatterv(NULL, NULL, NULL, MPI_BYTE,
                                             NULL, 0, MPI_BYTE, root, comm));
            FASTMPI_NOGIL_END
        }
        peer_failed("scatter", root);
        goto done;
    }
    if (Py_UNLIKELY(inter) && root_side) {
        if (sizes != NULL) {
            clear_failures(sizes, size);
        }
        FASTMPI_NOGIL_BEGIN
        FASTMPI_CALL("MPI_Scatterv", comm, root, 0, 0,
                     ierr = MPI_Scatterv(sdata, sizes, displs, MPI_BYTE,
                                         NULL, 0, MPI_BYTE, root, comm));
        FASTMPI_NOGIL_END
        if (fastmpi_check(ierr) == 0 && err.type == NULL) {
            result = Py_NewRef(Py_None);
        }
        goto done;
    }
    if (rank == root) {
        /* the root keeps its piece where it is */
        FASTMPI_NOGIL_BEGIN
        FASTMPI_CALL("MPI_Scatterv", comm, root, 0, 0,
                     ierr = MPI_Scatterv(sdata, sizes, displs, MPI_BYTE,
                                         MPI_IN_PLACE, mine, MPI_BYTE,
                                         root, comm));
        FASTMPI_NOGIL_END
        if (fastmpi_check(ierr) == 0) {
            result = fastmpi_pickle_load_slice(buf, displs[rank], mine);
        }
        goto done;
    }
    if ((rbuf = PyByteArray_FromStringAndSize(NULL, mine)) == NULL) {
        goto done;
    }
    rdata = PyByteArray_AS_STRING(rbuf);
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Scatterv", comm, root, 0, mine,
                 ierr = MPI_Scatterv(NULL, NULL, NULL, MPI_BYTE, rdata, mine,
                                     MPI_BYTE, root, comm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) == 0) {
        result = fastmpi_pickle_load_exported(rbuf);
    }
done:
    if (err.type != NULL) {
        PyErr_Restore(err.type, err.value, err.tb);
    }
    Py_XDECREF(seq);
    Py_XDECREF(buf);
    Py_XDECREF(rbuf);
    PyMem_Free(sizes);
    return result;
}

static PyObject *
Comm_alltoall(FastMPICommObject *self, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendobj", NULL};
    static fastmpi_argspec spec = {"alltoall", names, 1};
    PyObject *argv[1];
    int rank, size;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        group_size(self, &rank, &size) < 0) {
        return NULL;
    }
    fastmpi_objx x = {FASTMPI_OBJX_ALLTOALL, self->ob_mpi, 0, size, size, 1,
                      1, NULL, 0};
    return fastmpi_objx_exchange(&x, argv[0], "alltoall");
}

/* ---- reductions -------------------------------------------------------- */

/* The op argument: an MPI.Op (*mop set) or a callable (*mop NULL). */
static int
reduction_op(PyObject *obj, const char *fname, FastMPIOpObject **mop)
{
    *mop = NULL;
    if (obj == NULL || PyObject_TypeCheck(obj, fastmpi_st->Op)) {
        *mop = fastmpi_op_arg(obj, fname, "op");
        return *mop == NULL ? -1 : 0;
    }
    if (!PyCallable_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'op' must be MPI.Op or a callable "
                     "f(a, b), not %.100s", fname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    return 0;
}

/* New reference: items[0] op items[1] op ... op items[n-1], from the
 * left. */
static PyObject *
fold(PyObject *opobj, FastMPIOpObject *mop, PyObject *list, Py_ssize_t n)
{
    PyObject *acc = Py_NewRef(PyList_GET_ITEM(list, 0));
    for (Py_ssize_t i = 1; i < n && acc != NULL; i++) {
        PyObject *next = PyList_GET_ITEM(list, i);
        PyObject *r;
        if (mop != NULL) {
            r = fastmpi_op_apply(mop, acc, next);
        }
        else {
            PyObject *args[2] = {acc, next};
            r = PyObject_Vectorcall(opobj, args, 2, NULL);
        }
        Py_DECREF(acc);
        acc = r;
    }
    return acc;
}

static PyObject *
Comm_reduce(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sendobj", "op", "root", NULL};
    static fastmpi_argspec spec = {"reduce", names, 1};
    PyObject *argv[3];
    int root, rank, size;
    FastMPIOpObject *mop;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &root) < 0 ||
        reduction_op(argv[1], "reduce", &mop) < 0) {
        return NULL;
    }
    int receiving, sending = 1;
    if (Py_UNLIKELY(self->flags & FASTMPI_INTER)) {
        int role = inter_role(self, "reduce", root, &size);
        if (role == -2) {
            return NULL;
        }
        receiving = role == 1;
        sending = role == -1;
    }
    else {
        if (fastmpi_comm_ranks(self, &rank, &size) < 0 ||
            fastmpi_coll_root_check("reduce", root, size) < 0) {
            return NULL;
        }
        receiving = rank == root;
    }
    PyObject *all = gather_objects("reduce", self->ob_mpi, argv[0], root,
                                   0, receiving, sending, size);
    if (all == NULL || all == Py_None) {
        return all;
    }
    PyObject *r = fold(argv[1], mop, all, size);
    Py_DECREF(all);
    return r;
}

/* ---- allreduce's fast path --------------------------------------------- */

enum { CELL_OTHER = 0, CELL_FLOAT = 1, CELL_INT = 2 };

typedef struct {
    int32_t kind;
    int32_t op;
    union {
        double f;
        int64_t i;
    } v;
} scalar_cell;

/* One cell travels as one element of a predefined 16-byte type, so MPI
 * never splits it (no derived type to free before MPI_Finalize either). */
#define CELL_TYPE MPI_C_DOUBLE_COMPLEX
_Static_assert(sizeof(scalar_cell) == 16, "a cell is 16 bytes");

/* Its MPI op, made at first use: fastmpi_st->cell_op. */

static void
combine_cell(const scalar_cell *a, scalar_cell *b)
{
    if (a->kind != b->kind || a->op != b->op || a->kind == CELL_OTHER) {
        b->kind = CELL_OTHER;
        return;
    }
    if (a->kind == CELL_FLOAT) {
        double x = a->v.f, y = b->v.f;
        switch (a->op) {
        case FASTMPI_OP_SUM:
            b->v.f = x + y;
            return;
        case FASTMPI_OP_PROD:
            b->v.f = x * y;
            return;
        }
        if (isnan(x) || isnan(y)) {
            b->kind = CELL_OTHER;   /* Python's answer depends on order */
            return;
        }
        b->v.f = a->op == FASTMPI_OP_MAX ? (x > y ? x : y)
                                         : (x < y ? x : y);
        return;
    }
    int64_t x = a->v.i, y = b->v.i, r;
    switch (a->op) {
    case FASTMPI_OP_SUM:
        if (__builtin_add_overflow(x, y, &r)) {
            b->kind = CELL_OTHER;
        }
        b->v.i = r;
        return;
    case FASTMPI_OP_PROD:
        if (__builtin_mul_overflow(x, y, &r)) {
            b->kind = CELL_OTHER;
        }
        b->v.i = r;
        return;
    }
    b->v.i = a->op == FASTMPI_OP_MAX ? (x > y ? x : y) : (x < y ? x : y);
}

static void
combine_cells(void *in, void *inout, int *len, MPI_Datatype *datatype)
{
    const scalar_cell *a = in;
    scalar_cell *b = inout;
    for (int i = 0; i < *len; i++) {
        combine_cell(&a[i], &b[i]);
    }
}

static int
cell_setup(void)
{
    if (fastmpi_st->cell_op != MPI_OP_NULL) {
        return 0;
    }
    return fastmpi_check(MPI_Op_create(combine_cells, 1,
                                       &fastmpi_st->cell_op));
}

/* 1: the allreduce went through the fast path, *result set (new
 * reference, or NULL on error); 0: take the general path. */
static int
allreduce_fast(MPI_Comm comm, PyObject *obj, FastMPIOpObject *mop,
               PyObject **result)
{
    scalar_cell cell;
    int ierr;
    *result = NULL;
    if (mop == NULL ||
        (mop->kind != FASTMPI_OP_SUM && mop->kind != FASTMPI_OP_PROD &&
         mop->kind != FASTMPI_OP_MAX && mop->kind != FASTMPI_OP_MIN)) {
        return 0;   /* the same on every rank: no cell needed */
    }
    memset(&cell, 0, sizeof(cell));
    cell.op = mop->kind;
    cell.kind = CELL_OTHER;
    if (PyFloat_CheckExact(obj)) {
        cell.kind = CELL_FLOAT;
        cell.v.f = PyFloat_AS_DOUBLE(obj);
    }
    else if (PyLong_CheckExact(obj)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            PyErr_Clear();      /* cannot happen for an int; be safe */
            overflow = 1;
        }
        if (!overflow) {
            cell.kind = CELL_INT;
            cell.v.i = v;
        }
    }
    if (cell_setup() < 0) {
        return 1;
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Allreduce", comm, MPI_PROC_NULL, 0, sizeof(cell),
                 ierr = MPI_Allreduce(MPI_IN_PLACE, &cell, 1, CELL_TYPE,
                                      fastmpi_st->cell_op, comm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return 1;
    }
    if (cell.kind == CELL_FLOAT) {
        *result = PyFloat_FromDouble(cell.v.f);
        return 1;
    }
    if (cell.kind == CELL_INT) {
        *result = PyLong_FromLongLong(cell.v.i);
        return 1;
    }
    return 0;
}

static const char *const allreduce_names[] = {"sendobj", "op", NULL};

static PyObject *
Comm_allreduce(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"allreduce", allreduce_names, 1};
    PyObject *argv[2], *result;
    int rank, size;
    FastMPIOpObject *mop;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        reduction_op(argv[1], "allreduce", &mop) < 0 ||
        group_size(self, &rank, &size) < 0) {
        return NULL;
    }
    if (!(self->flags & FASTMPI_INTER) &&
        allreduce_fast(self->ob_mpi, argv[0], mop, &result)) {
        return result;
    }
    PyObject *all = gather_objects("allreduce", self->ob_mpi, argv[0], 0, 1,
                                   1, 1, size);
    if (all == NULL) {
        return NULL;
    }
    result = fold(argv[1], mop, all, size);
    Py_DECREF(all);
    return result;
}

/* scan (inclusive: ranks 0..rank) and exscan (0..rank-1; None at 0). */
static PyObject *
scan_common(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames, fastmpi_argspec *spec,
            int exclusive)
{
    PyObject *argv[2];
    int rank, size;
    FastMPIOpObject *mop;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        reduction_op(argv[1], spec->fname, &mop) < 0 ||
        fastmpi_comm_ranks(self, &rank, &size) < 0) {
        return NULL;
    }
    if (self->flags & FASTMPI_INTER) {
        return PyErr_Format(PyExc_TypeError,
                            "%s() is for intracommunicators only; this is "
                            "an intercommunicator", spec->fname);
    }
    PyObject *all = gather_objects(spec->fname, self->ob_mpi, argv[0], 0, 1,
                                   1, 1, size);
    if (all == NULL) {
        return NULL;
    }
    Py_ssize_t n = exclusive ? rank : rank + 1;
    PyObject *r = n == 0 ? Py_NewRef(Py_None) : fold(argv[1], mop, all, n);
    Py_DECREF(all);
    return r;
}

static PyObject *
Comm_scan(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static fastmpi_argspec spec = {"scan", allreduce_names, 1};
    return scan_common(self, args, nargs, kwnames, &spec, 0);
}

static PyObject *
Comm_exscan(FastMPICommObject *self, PyObject *const *args,
            Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"exscan", allreduce_names, 1};
    return scan_common(self, args, nargs, kwnames, &spec, 1);
}

#define OBJ_METHOD(name, doc)                                              \
    {#name, FASTMPI_FASTCALL(Comm_##name), METH_FASTCALL | METH_KEYWORDS,  \
     doc}

PyMethodDef fastmpi_objcoll_methods[] = {
    OBJ_METHOD(bcast, "bcast($self, obj, root=0)\n--\n\n"
                      "bcast(obj, root=0) -> root's object, at every rank."),
    OBJ_METHOD(gather, "gather($self, sendobj, root=0)\n--\n\n"
                       "gather(sendobj, root=0) -> list at root, else "
                       "None."),
    OBJ_METHOD(scatter, "scatter($self, sendobj, root=0)\n--\n\n"
                        "scatter(sendobj, root=0) -> this rank's item of "
                        "root's sequence."),
    OBJ_METHOD(allgather, "allgather($self, sendobj)\n--\n\n"
                          "allgather(sendobj) -> list of every rank's "
                          "object."),
    OBJ_METHOD(alltoall, "alltoall($self, sendobj)\n--\n\n"
                         "alltoall(sendobj) -> list: item i from rank i."),
    OBJ_METHOD(reduce, "reduce($self, sendobj, op=SUM, root=0)\n--\n\n"
                       "reduce(sendobj, op=SUM, root=0) -> result at root, "
                       "else None; op an MPI.Op or a callable f(a, b)."),
    OBJ_METHOD(allreduce, "allreduce($self, sendobj, op=SUM)\n--\n\n"
                          "allreduce(sendobj, op=SUM) -> result at every "
                          "rank."),
    {NULL},
};

/* The prefix reductions are Intracomm's only, as in mpi4py. */
PyMethodDef fastmpi_objcoll_intracomm_methods[] = {
    OBJ_METHOD(scan, "scan($self, sendobj, op=SUM)\n--\n\n"
                     "scan(sendobj, op=SUM) -> reduction over ranks 0 to "
                     "this one."),
    OBJ_METHOD(exscan, "exscan($self, sendobj, op=SUM)\n--\n\n"
                       "exscan(sendobj, op=SUM) -> reduction over ranks "
                       "before this one (None at rank 0)."),
    {NULL},
};
