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

extern PyMethodDef fastmpi_coll_methods[];    /* coll.c, on Comm */
extern PyMethodDef fastmpi_objcoll_methods[]; /* objcoll.c, on Comm */
extern PyMethodDef fastmpi_icoll_methods[];   /* icoll.c, on Comm */
/* Scan, Exscan; scan, exscan; Iscan, Iexscan: on Intracomm only. */
extern PyMethodDef fastmpi_coll_intracomm_methods[];
extern PyMethodDef fastmpi_objcoll_intracomm_methods[];
extern PyMethodDef fastmpi_icoll_intracomm_methods[];

#endif /* FASTMPI_COLL_H */
