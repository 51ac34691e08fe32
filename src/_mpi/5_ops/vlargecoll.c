/* vlargecoll.c: the calls of the v collectives past 2**31-1 (vlarge.c
 * parses their vectors): MPI-4's _c functions where a vector has 64-bit
 * counts, blocking or not. */
#include "../0_core/fastmpi.h"
#include "../2_buffer/msgbuffer.h"
#include "coll.h"

#if FASTMPI_HAVE_LARGE_COUNT
/* The 64-bit arrays of an int-path vector (the other side of an
 * Alltoallv): 0 or -1. */
static int
promote(fastmpi_vmsg *v)
{
    if (v->counts == NULL || v->lcounts != NULL) {
        return 0;
    }
    v->lcounts = PyMem_Malloc((sizeof(MPI_Count) + sizeof(MPI_Aint)) *
                              (size_t)v->blocks + 1);
    if (v->lcounts == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    v->ldispls = (MPI_Aint *)(v->lcounts + v->blocks);
    for (int i = 0; i < v->blocks; i++) {
        v->lcounts[i] = v->counts[i];
        v->ldispls[i] = v->displs[i];
    }
    return 0;
}
#endif

int
fastmpi_vlarge_prepare(int which, fastmpi_coll *c, const char *fname)
{
#if FASTMPI_HAVE_LARGE_COUNT
    if (which == FASTMPI_COLL_ALLGATHERV && c->rv.lcounts != NULL) {
        for (int i = 0; i < c->rv.blocks; i++) {
            if (c->rv.lcounts[i] > INT_MAX) {
                PyErr_Format(PyExc_ValueError,
                             "%s() argument 'recvbuf': counts past "
                             "2**31-1 items (counts[%d] is %lld) with no "
                             "common factor bringing them below it: MPICH "
                             "4.0.2's MPI_Allgatherv_c does not finish with "
                             "such counts; use counts and displacements "
                             "that are multiples of a common block size",
                             fname, i, (long long)c->rv.lcounts[i]);
                return -1;
            }
        }
    }
    if (promote(&c->rv) < 0) {
        return -1;
    }
    if (c->sv_shared) {
        c->sv.lcounts = c->rv.lcounts;
        c->sv.ldispls = c->rv.ldispls;
        return 0;
    }
    return promote(&c->sv);
#else
    (void)which;
    (void)c;
    (void)fname;
    return 0;
#endif
}

int
fastmpi_vlarge_call(int which, fastmpi_coll *c, MPI_Request *req)
{
#if FASTMPI_HAVE_LARGE_COUNT
    fastmpi_msg *s = &c->s, *r = &c->r;
    fastmpi_vmsg *sv = &c->sv, *rv = &c->rv;
    if (req == NULL) {
        switch (which) {
        case FASTMPI_COLL_GATHERV:
            return MPI_Gatherv_c(s->addr, s->count, s->datatype,
                                 rv->msg.addr, rv->lcounts, rv->ldispls,
                                 rv->msg.datatype, c->root, c->comm);
        case FASTMPI_COLL_SCATTERV:
            return MPI_Scatterv_c(sv->msg.addr, sv->lcounts, sv->ldispls,
                                  sv->msg.datatype, r->addr, r->count,
                                  r->datatype, c->root, c->comm);
        case FASTMPI_COLL_ALLGATHERV:
            return MPI_Allgatherv_c(s->addr, s->count, s->datatype,
                                    rv->msg.addr, rv->lcounts, rv->ldispls,
                                    rv->msg.datatype, c->comm);
        case FASTMPI_COLL_ALLTOALLV:
            return MPI_Alltoallv_c(sv->msg.addr, sv->lcounts, sv->ldispls,
                                   sv->msg.datatype, rv->msg.addr,
                                   rv->lcounts, rv->ldispls,
                                   rv->msg.datatype, c->comm);
        }
        return MPI_ERR_INTERN;
    }
    switch (which) {
    case FASTMPI_COLL_GATHERV:
        return MPI_Igatherv_c(s->addr, s->count, s->datatype, rv->msg.addr,
                              rv->lcounts, rv->ldispls, rv->msg.datatype,
                              c->root, c->comm, req);
    case FASTMPI_COLL_SCATTERV:
        return MPI_Iscatterv_c(sv->msg.addr, sv->lcounts, sv->ldispls,
                               sv->msg.datatype, r->addr, r->count,
                               r->datatype, c->root, c->comm, req);
    case FASTMPI_COLL_ALLGATHERV:
        return MPI_Iallgatherv_c(s->addr, s->count, s->datatype,
                                 rv->msg.addr, rv->lcounts, rv->ldispls,
                                 rv->msg.datatype, c->comm, req);
    case FASTMPI_COLL_ALLTOALLV:
        return MPI_Ialltoallv_c(sv->msg.addr, sv->lcounts, sv->ldispls,
                                sv->msg.datatype, rv->msg.addr, rv->lcounts,
                                rv->ldispls, rv->msg.datatype, c->comm, req);
    }
#else
    (void)which;
    (void)c;
    (void)req;
#endif
    return MPI_ERR_INTERN;
}
