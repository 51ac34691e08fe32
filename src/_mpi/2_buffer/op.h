/* op.h: MPI.Op (layer 2). */
#ifndef FASTMPI_OP_H
#define FASTMPI_OP_H

#include "../0_core/fastmpi.h"

/* ---- op.c: MPI.Op ------------------------------------------------------
 *
 * Predefined ops know which one they are (kind), so that they also apply
 * to Python objects (MPI.SUM(a, b), comm.allreduce(obj, op=MPI.MAX)).
 * Op.Create's function runs from a C trampoline (one per slot) under
 * PyGILState_Ensure; an exception it raises is kept in the Op (error) and
 * raised again by fastmpi_op_raised() once the MPI call has returned. */
enum {
    FASTMPI_OP_USER = -1,       /* Op.Create, or OP_NULL */
    FASTMPI_OP_MAX = 0,
    FASTMPI_OP_MIN,
    FASTMPI_OP_SUM,
    FASTMPI_OP_PROD,
    FASTMPI_OP_LAND,
    FASTMPI_OP_BAND,
    FASTMPI_OP_LOR,
    FASTMPI_OP_BOR,
    FASTMPI_OP_LXOR,
    FASTMPI_OP_BXOR,
    FASTMPI_OP_MAXLOC,
    FASTMPI_OP_MINLOC,
    FASTMPI_OP_REPLACE,
    FASTMPI_OP_NO_OP,
};

typedef struct {
    PyObject_HEAD
    MPI_Op ob_mpi;
    int flags;
    int kind;                   /* FASTMPI_OP_* */
    int slot;                   /* Op.Create: its trampoline; else -1 */
    int commute;
    PyObject *function;         /* owned or NULL: Op.Create's function */
    PyObject *error;            /* owned or NULL: raised inside MPI */
    PyObject *base;             /* owned or NULL: the op this copies */
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIOpObject;

int fastmpi_op_init(PyObject *module);
/* Borrowed: the Op behind an `op` argument (NULL: MPI.SUM), or NULL with
 * TypeError/ValueError naming fname/argname. */
FastMPIOpObject *fastmpi_op_arg(PyObject *obj, const char *fname,
                                const char *argname);
/* After an MPI call that may have run op's Python function: -1 with that
 * function's exception set if it raised, else 0. */
int fastmpi_op_raised(FastMPIOpObject *op);
/* New reference: op applied to two Python objects, op(a, b). */
PyObject *fastmpi_op_apply(FastMPIOpObject *op, PyObject *a, PyObject *b);

#endif /* FASTMPI_OP_H */
