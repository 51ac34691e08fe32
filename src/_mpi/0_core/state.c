/* state.c: the module state of fastmpi.MPI (state.h), and whether MPI is
 * running. */
#include "fastmpi.h"
#include "state.h"

fastmpi_state *fastmpi_st;      /* the module's own: set by MPI_exec */

int fastmpi_mpi_active = 0;

/* The state's strong references, in one list for traverse and clear.
 * Not here: module (borrowed), attached_buffer and orphans, which MPI may
 * still be using (see fastmpi_state_clear). */
#define STATE_REFS(X)                                                      \
    X(Exception) X(Comm) X(Intracomm) X(Topocomm) X(Cartcomm)              \
    X(Graphcomm) X(Distgraphcomm) X(Intercomm) X(Status) X(Datatype)       \
    X(Request) X(Prequest) X(Grequest) X(Message) X(RecvArea) X(Op)        \
    X(Group) X(Info) X(Sentinel) X(BOTTOM) X(IN_PLACE) X(pickle_dumps)     \
    X(pickle_loads) X(PickleBuffer) X(protocol) X(kw_buffer_callback)      \
    X(kw_buffers) X(ForeignBuffer)

int
fastmpi_state_traverse(fastmpi_state *st, visitproc visit, void *arg)
{
#define VISIT(name) Py_VISIT(st->name);
    STATE_REFS(VISIT)
#undef VISIT
    Py_VISIT(st->orphans);
    Py_VISIT(st->attached_buffer);
    return 0;
}

void
fastmpi_state_clear(fastmpi_state *st)
{
#define CLEAR(name) Py_CLEAR(st->name);
    STATE_REFS(CLEAR)
#undef CLEAR
    /* pending requests and the Bsend buffer hold memory MPI may still
     * write to: released only once MPI is finalised (environment.c
     * releases them before MPI_Finalize) */
    if (!fastmpi_mpi_active) {
        Py_CLEAR(st->orphans);
    }
}
