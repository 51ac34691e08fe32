/* state.c: the module state of fastmpi.MPI (state.h), and whether MPI is
 * running. */
#include "fastmpi.h"
#include "state.h"

fastmpi_state *fastmpi_st;      /* the module's own: set by MPI_exec */

int fastmpi_mpi_active = 0;

/* The state's strong references, in one list for traverse and clear.
 * Not here: module and user_ops (borrowed); attached_buffer, orphans and
 * the keyval contexts, which MPI may still be using; and the references
 * in tables (see fastmpi_state_traverse and _clear). */
#define STATE_REFS(X)                                                      \
    X(Exception) X(Comm) X(Intracomm) X(Topocomm) X(Cartcomm)              \
    X(Graphcomm) X(Distgraphcomm) X(Intercomm) X(Status) X(Datatype)       \
    X(Request) X(Prequest) X(Grequest) X(Message) X(RecvArea) X(Op)        \
    X(Group) X(Info) X(Buffer) X(Win) X(File) X(BOTTOM) X(IN_PLACE)        \
    X(pickle_dumps) X(pickle_loads) X(PickleBuffer) X(protocol)            \
    X(kw_buffer_callback)                                                  \
    X(kw_buffers) X(BUFFER_AUTOMATIC) X(live_refs) X(ndarray_type)         \
    X(op_sum) X(Errhandler) X(added_errors) X(Pickle)                    \
    X(pickle) X(ForeignBuffer)

void
fastmpi_state_init(fastmpi_state *st, PyObject *module)
{
    st->module = module;
    /* MPI_DATATYPE_NULL is not 0 (MPICH: 0x0c000000; Open MPI: the
     * address of a global) */
    for (int i = 0; i < FASTMPI_DESCR_CACHE; i++) {
        st->descr_cache[i].datatype = MPI_DATATYPE_NULL;
    }
    st->area_unit = MPI_DATATYPE_NULL;
    for (int i = 0; i < FASTMPI_STRIDED_CACHE; i++) {
        st->strided_cache[i].type = MPI_DATATYPE_NULL;
    }
    for (int i = 0; i < FASTMPI_STRIDED_RETIRED; i++) {
        st->strided_retired[i] = MPI_DATATYPE_NULL;
    }
    st->strided_hvector = -1;
    st->sweep_countdown = FASTMPI_SWEEP_EVERY;
    st->cell_op = MPI_OP_NULL;
    st->finalize_at_exit = -1;
}

int
fastmpi_state_traverse(fastmpi_state *st, visitproc visit, void *arg)
{
#define VISIT(name) Py_VISIT(st->name);
    STATE_REFS(VISIT)
#undef VISIT
    Py_VISIT(st->orphans);
    Py_VISIT(st->attached_buffer);
    /* the tables: the dtype caches' keys, the error handlers' and the
     * keyvals' functions */
    for (int i = 0; i < FASTMPI_DESCR_CACHE; i++) {
        Py_VISIT(st->descr_cache[i].descr);
    }
    for (int i = 0; i < FASTMPI_DTYPE_CACHE; i++) {
        Py_VISIT(st->dtype_cache[i].descr);
    }
    for (int i = 0; i < FASTMPI_ERRH_SLOTS; i++) {
        Py_VISIT(st->errh_slots[i].fn);
    }
    for (Py_ssize_t i = 0; i < st->nkeyvals; i++) {
        Py_VISIT(st->keyvals[i]->copy_fn);
        Py_VISIT(st->keyvals[i]->delete_fn);
    }
    return 0;
}

void
fastmpi_state_clear(fastmpi_state *st)
{
#define CLEAR(name) Py_CLEAR(st->name);
    STATE_REFS(CLEAR)
#undef CLEAR
    /* the caches' keys only: their datatypes are freed before
     * MPI_Finalize (a key cleared never matches again) */
    for (int i = 0; i < FASTMPI_DESCR_CACHE; i++) {
        Py_CLEAR(st->descr_cache[i].descr);
    }
    for (int i = 0; i < FASTMPI_DTYPE_CACHE; i++) {
        Py_CLEAR(st->dtype_cache[i].descr);
    }
    /* a trampoline whose function is gone does nothing */
    for (int i = 0; i < FASTMPI_ERRH_SLOTS; i++) {
        Py_CLEAR(st->errh_slots[i].fn);
    }
    /* pending requests and the Bsend buffer hold memory MPI may still
     * write to: released only once MPI is finalised (environment.c
     * releases them before MPI_Finalize) */
    if (!fastmpi_mpi_active) {
        Py_CLEAR(st->orphans);
        /* (and attribute callbacks can run no more) */
        for (Py_ssize_t i = 0; i < st->nkeyvals; i++) {
            Py_CLEAR(st->keyvals[i]->copy_fn);
            Py_CLEAR(st->keyvals[i]->delete_fn);
        }
    }
}
