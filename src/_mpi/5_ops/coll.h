/* coll.h: collective operations (layer 5). */
#ifndef FASTMPI_COLL_H
#define FASTMPI_COLL_H

#include "../0_core/fastmpi.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/op.h"
#include "../4_comm/comm.h"

/* ---- coll.c: the arguments of buffer collectives ----------------------
 *
 * One prepare function per collective checks and parses a method's
 * arguments (argv as its argspec says) into a fastmpi_coll; coll.c makes
 * the blocking MPI call with it, icoll.c the nonblocking one. */
enum {
    FASTMPI_COLL_BCAST = 0,
    FASTMPI_COLL_GATHER,
    FASTMPI_COLL_GATHERV,
    FASTMPI_COLL_SCATTER,
    FASTMPI_COLL_SCATTERV,
    FASTMPI_COLL_ALLGATHER,
    FASTMPI_COLL_ALLGATHERV,
    FASTMPI_COLL_ALLTOALL,
    FASTMPI_COLL_ALLTOALLV,
    FASTMPI_COLL_ALLTOALLW,
    FASTMPI_COLL_REDUCE,
    FASTMPI_COLL_ALLREDUCE,
    FASTMPI_COLL_REDUCE_SCATTER_BLOCK,
    FASTMPI_COLL_REDUCE_SCATTER,
    FASTMPI_COLL_SCAN,
    FASTMPI_COLL_EXSCAN,
    FASTMPI_COLL_COUNT,
};

typedef struct {
    fastmpi_msg s, r;           /* send and receive buffers */
    fastmpi_vmsg sv, rv;        /* vector variants: these instead */
    int sv_shared;              /* sv borrows rv's arrays (IN_PLACE) */
    int *counts;                /* PyMem or NULL: Reduce_scatter's */
    int root;
    FastMPIOpObject *op;        /* borrowed from the arguments, or NULL */
    MPI_Comm comm;
    int inter;                  /* comm is an intercommunicator */
    int rsize;                  /* its remote group's size (inter only) */
} fastmpi_coll;

/* Check and parse argv (from fastmpi_coll_args) for collective `which`;
 * errors name fname.  0, or -1 with an exception; either way the caller
 * calls fastmpi_coll_release(c). */
int fastmpi_coll_prepare(int which, FastMPICommObject *self,
                         PyObject **argv, const char *fname,
                         fastmpi_coll *c);
void fastmpi_coll_release(fastmpi_coll *c);
/* Parse a collective's arguments into argv[4] (the spec's names, those of
 * the blocking method, filled on first use).  0, or -1 with TypeError. */
int fastmpi_coll_args(int which, fastmpi_argspec *spec, PyObject *const *args,
                      Py_ssize_t nargs, PyObject *kwnames, PyObject **argv);
/* ValueError naming fname's 'root' unless 0 <= root < size. */
int fastmpi_coll_root_check(const char *fname, int root, int size);
/* vlarge.c: 1 if collective c takes MPI-4's _c functions (a vector with
 * lcounts); then fastmpi_vlarge_call makes the call (blocking when req is
 * NULL; no Python API) after fastmpi_vlarge_prepare (0 or -1 with
 * ValueError: gives the other vector 64-bit arrays too, refuses what the
 * library cannot do). */
static inline int
fastmpi_vlarge_is(const fastmpi_coll *c)
{
    return c->sv.lcounts != NULL || c->rv.lcounts != NULL;
}
int fastmpi_vlarge_prepare(int which, fastmpi_coll *c, const char *fname);
int fastmpi_vlarge_call(int which, fastmpi_coll *c, MPI_Request *req);

/* ---- objcoll.c: objects exchanged -------------------------------------
 *
 * gather, allgather, alltoall (objcoll.c) and neighbor_allgather,
 * neighbor_alltoall (neighbor.c) move objects one way: every rank's sizes
 * first (one small collective), then the bytes (a v-collective into one
 * bytearray, each message at a 64-byte boundary), each object unpickled
 * from its slice.  A rank that cannot pickle still takes part, with a
 * size of -1: it raises its own exception, the others a ValueError naming
 * it, and nobody waits for ever. */
enum {
    FASTMPI_OBJX_GATHER = 0,    /* sendobj to the root */
    FASTMPI_OBJX_ALLGATHER,     /* sendobj to every rank */
    FASTMPI_OBJX_ALLTOALL,      /* sendobj[i] to rank i */
    FASTMPI_OBJX_NBR_ALLGATHER, /* sendobj to every out-neighbour */
    FASTMPI_OBJX_NBR_ALLTOALL,  /* sendobj[i] to out-neighbour i */
};

typedef struct {
    int which;
    MPI_Comm comm;
    int root;                   /* GATHER's */
    int nout;                   /* the alltoalls: the items sendobj has */
    int nin;                    /* the objects received */
    int receiving;              /* 0: None instead (GATHER off the root) */
    int sending;                /* 0: nothing sent (the one-object forms
                                   in an intercommunicator's root group) */
    const int *sources;         /* the neighbours: the in-neighbours, for
                                   errors; a PROC_NULL one gives None */
    int dup;                    /* NBR_ALLTOALL where a process is the same
                                   neighbour twice (neighbor.c) */
} fastmpi_objx;

/* New reference: the list of the x->nin objects received (None where not
 * receiving), or NULL with an exception. */
PyObject *fastmpi_objx_exchange(const fastmpi_objx *x, PyObject *sendobj,
                                const char *fname);

extern PyMethodDef fastmpi_coll_methods[];    /* coll.c, on Comm */
extern PyMethodDef fastmpi_objcoll_methods[]; /* objcoll.c, on Comm */
extern PyMethodDef fastmpi_icoll_methods[];   /* icoll.c, on Comm */
/* Scan, Exscan; scan, exscan; Iscan, Iexscan: on Intracomm only. */
extern PyMethodDef fastmpi_coll_intracomm_methods[];
extern PyMethodDef fastmpi_objcoll_intracomm_methods[];
extern PyMethodDef fastmpi_icoll_intracomm_methods[];

#endif /* FASTMPI_COLL_H */
