/* msgbuffer.h: buffer specs, strided and staged buffers, vector specs and
 * receives that never write past the buffer (layer 2). */
#ifndef FASTMPI_MSGBUFFER_H
#define FASTMPI_MSGBUFFER_H

#include "../0_core/fastmpi.h"

/* ---- msgbuffer.c: buffer specs ----------------------------------------- */

typedef struct {
    Py_buffer view;             /* view.obj != NULL while a view is held */
    PyObject *owner;            /* owned or NULL: a numpy array read
                                   directly, without a buffer view */
    void *addr;
    int count;
    MPI_Datatype datatype;
    Py_ssize_t nbytes;          /* for traces */
} fastmpi_msg;

enum { FASTMPI_MSG_SEND = 0, FASTMPI_MSG_RECV = 1 };

/* Parse a buffer spec: buf, [buf, datatype], [buf, count, datatype],
 * [buf, (count, displ), datatype], or None (an empty message, allowed
 * only when `peer` is MPI_PROC_NULL).  Returns 0 or -1 with an exception
 * naming fname/argname.  On success the caller must call
 * fastmpi_msg_release(). */
int fastmpi_msg_parse(PyObject *spec, int mode, int peer, const char *fname,
                      const char *argname, fastmpi_msg *msg);
void fastmpi_msg_release(fastmpi_msg *msg);

/* ---- dlpack.c: DLPack and CUDA Array Interface exporters -------------
 *
 * A "foreign" exporter offers its memory through __dlpack__ or
 * __cuda_array_interface__ instead of the buffer protocol.  It is read
 * into a bridge object (fastmpi_st->ForeignBuffer) that exports the same
 * memory through the buffer protocol and keeps the exporter (and its
 * DLPack capsule) alive; see dlpack.c. */

/* 1 if obj has no buffer protocol but __dlpack__ or
 * __cuda_array_interface__; never fails. */
int fastmpi_foreign_check(PyObject *obj);
/* New reference: the bridge for a foreign exporter obj.  writable: the
 * memory is to be written (a read-only one is refused; DLPack is asked for
 * no copy).  NULL with an exception naming fname/argname (BufferError: a
 * device or tensor that cannot be used, or a read-only one; KeyError,
 * TypeError, ValueError: a bad __cuda_array_interface__ or
 * __dlpack_device__; or what __dlpack__ raised). */
PyObject *fastmpi_foreign_export(PyObject *obj, int writable,
                                 const char *fname, const char *argname);
/* PyObject_GetBuffer(obj, view, flags), for foreign exporters too (and
 * their bridges): the view then holds a bridge.  device: the address goes
 * to the MPI library only, so device memory may be taken (where the
 * library takes it); else such memory is refused.  0, or -1 with an
 * exception (BufferError naming fname/argname for a foreign one). */
int fastmpi_buffer_get(PyObject *obj, Py_buffer *view, int flags,
                       int device, const char *fname, const char *argname);
int fastmpi_foreign_init(PyObject *module);

/* ---- strided.c: non-contiguous buffers as derived datatypes ------------
 *
 * Fill msg for a strided exporter `obj` (called by msgbuffer.c once a
 * contiguous view was refused): msg->view held, addr the first item, a
 * cached derived datatype.  `given` is the spec's datatype or
 * MPI_DATATYPE_NULL (from the buffer's format); count/displ the spec's,
 * count -1 for the whole view.  0, or -1 with an exception. */
int fastmpi_strided_parse(PyObject *obj, int mode, MPI_Datatype given,
                          Py_ssize_t count, Py_ssize_t displ,
                          const char *fname, const char *argname,
                          fastmpi_msg *msg);
/* Counts above 2**31-1: *out = a cached committed type that is `count`
 * items of the predefined `base`, to be sent as count 1 (also used for
 * smaller counts: vlarge.c's unit types).  0, or -1 with
 * ValueError (a derived base) or MPI.Exception. */
int fastmpi_large_type(MPI_Datatype base, Py_ssize_t count,
                       const char *fname, const char *argname,
                       MPI_Datatype *out);
/* 1 if t is a cached large type (from fastmpi_large_type): its base and
 * item count into *base and *count; else 0. */
int fastmpi_large_type_info(MPI_Datatype t, MPI_Datatype *base,
                            Py_ssize_t *count);
/* The same, not cached: a new committed type the caller frees. */
int fastmpi_large_type_new(MPI_Datatype base, Py_ssize_t count,
                           MPI_Datatype *out);
/* vspec.c, around the parse of a buffer split into blocks: +1 before,
 * -1 after (strided buffers then count items, see strided.c). */
void fastmpi_strided_counted(int delta);
/* 1 if msg describes a non-contiguous buffer with a strided.c type. */
int fastmpi_strided_is(const fastmpi_msg *msg);
/* Free the cached types (environment.c, before MPI_Finalize). */
void fastmpi_strided_before_finalize(void);
int fastmpi_strided_init(PyObject *module);

/* ---- staged.c: reductions on strided buffers, through contiguous
 * temporaries ------------------------------------------------------------
 *
 * Between fastmpi_staged_begin() and _end() (per thread), a strided
 * buffer that strided.c parses becomes a contiguous temporary of its
 * items with the element datatype, owned by a capsule in msg->owner (see
 * staged.c): a send buffer packed at once, a receive buffer copied back
 * by fastmpi_msg_unstage once the operation is complete. */
#define FASTMPI_STAGED_MAX_NDIM 64
void fastmpi_staged_begin(void);
void fastmpi_staged_end(void);
int fastmpi_staged_active(void);
/* strided.c, with msg->view held: stage the simplified view (nd >= 1,
 * `nitems` items from `first`) as a message of `count` (<= nitems) items
 * of `base`.  0 (the view moved into msg->owner), or -1 with an exception
 * (ValueError past 2**31-1 items; the view still in msg). */
int fastmpi_staged_parse(int mode, MPI_Datatype base, Py_ssize_t itemsize,
                         char *first, int nd, const Py_ssize_t *shape,
                         const Py_ssize_t *strides, Py_ssize_t nitems,
                         Py_ssize_t count, const char *fname,
                         const char *argname, fastmpi_msg *msg);
/* A staged receive buffer that the operation reads: copy the view's
 * elements into the temporary.  Nothing for other messages. */
void fastmpi_staged_fill(fastmpi_msg *msg);
void fastmpi_staged_copy_back(fastmpi_msg *msg);

static inline int
fastmpi_msg_is_staged(const fastmpi_msg *msg)
{
    return msg->owner != NULL && PyCapsule_CheckExact(msg->owner);
}

/* The operation on msg is complete: a staged receive buffer's result goes
 * back into the caller's view (only the elements it selects).  Nothing
 * for other messages. */
static inline void
fastmpi_msg_unstage(fastmpi_msg *msg)
{
    if (Py_UNLIKELY(fastmpi_msg_is_staged(msg))) {
        fastmpi_staged_copy_back(msg);
    }
}

/* ---- p2p.c: receives that never write past the buffer ----------------
 * (Open MPI 4.1.4 does, for truncated large messages; see p2p.c.)  MPI
 * return codes, no GIL needed.  fastmpi_mrecv_checked takes a message
 * already matched by a probe whose status is *probed. */
extern int fastmpi_recv_guard;     /* Open MPI and fastmpi.rc.recv_guard */
int fastmpi_recv_checked(void *addr, int count, MPI_Datatype datatype,
                         int source, int tag, MPI_Comm comm,
                         MPI_Status *status);
int fastmpi_mrecv_checked(void *addr, int count, MPI_Datatype datatype,
                          MPI_Message *message, const MPI_Status *probed,
                          MPI_Status *status);

/* ---- vspec.c: buffer specs of collectives ------------------------------ */

/* Like fastmpi_msg_parse, for the block variants (Gather's receive buffer
 * at the root, ...): a count inferred from the buffer is divided by
 * `blocks` (ValueError unless it divides evenly); an explicit count is
 * the count per block. */
int fastmpi_msg_parse_blocks(PyObject *spec, int mode, int blocks,
                             const char *fname, const char *argname,
                             fastmpi_msg *msg);

/* A vector spec: buf, [buf, counts], [buf, datatype], [buf, counts,
 * datatype], [buf, (counts, displs), datatype], [buf, counts, displs,
 * datatype]; with types (Alltoallw) [buf, counts, displs, datatypes] or
 * [buf, (counts, displs), datatypes], displacements in bytes (with
 * MPI.BOTTOM: addresses, from MPI.Get_address).  Counts
 * default to an even split of the buffer, displacements to the running
 * sum of the counts. */
typedef struct {
    fastmpi_msg msg;            /* the buffer and its datatype */
    int *counts;                /* PyMem, `blocks` entries */
    int *displs;                /* in the same block as counts */
    MPI_Datatype *types;        /* Alltoallw: in the same block, at its
                                   start; else NULL */
    MPI_Aint *wdispls;          /* w specs: the byte displacements as
                                   MPI_Aint, in the same block; else NULL */
    MPI_Datatype *made;         /* PyMem or NULL: datatypes vspec.c made
                                   (MPI_DATATYPE_NULL where none), freed
                                   by fastmpi_vmsg_release */
    int blocks;
    /* Past 2**31-1 on MPI-4 (vlarge.c): PyMem, `blocks` counts, then as
     * many displacements, in one block; NULL on the int path.  counts and
     * displs are then not used. */
    MPI_Count *lcounts;
    MPI_Aint *ldispls;
} fastmpi_vmsg;

/* with_types: 0 (one datatype), FASTMPI_VMSG_TYPES (Alltoallw: int
 * displacements; blocks at MPI.BOTTOM or past an int get folded into
 * datatypes of their own, one item each at displacement 0, and then
 * msg.addr is not MPI_BOTTOM but the first block's address) or
 * FASTMPI_VMSG_TYPES_AINT (Neighbor_alltoallw: take wdispls, any
 * MPI_Aint). */
enum { FASTMPI_VMSG_TYPES = 1, FASTMPI_VMSG_TYPES_AINT = 2 };
int fastmpi_vmsg_parse(PyObject *spec, int mode, int blocks, int with_types,
                       const char *fname, const char *argname,
                       fastmpi_vmsg *v);
void fastmpi_vmsg_release(fastmpi_vmsg *v);

/* vlarge.c: vector specs past 2**31-1 (a count, a displacement or the
 * buffer's items).  vspec.c hands over counts and displs (the spec's
 * objects, NULL when absent) and the buffer's item count; v->msg holds the
 * buffer with its element datatype (bottom: MPI.BOTTOM, no bounds check).
 * Fills v for the call: int arrays when they can say it (on Open MPI with
 * a unit datatype of k items, k dividing every count and displacement),
 * else (MPI-4) lcounts/ldispls for the _c functions.  0, or -1 with
 * ValueError. */
int fastmpi_vlarge_fill(PyObject *counts, PyObject *displs, Py_ssize_t total,
                        int bottom, fastmpi_vmsg *v, const char *fname,
                        const char *argname);
/* Block i's count, either path. */
static inline long long
fastmpi_vmsg_count(const fastmpi_vmsg *v, int i)
{
    return v->lcounts != NULL ? (long long)v->lcounts[i]
                              : (long long)v->counts[i];
}

#endif /* FASTMPI_MSGBUFFER_H */
