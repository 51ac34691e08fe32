/* state.h: the module state of fastmpi.MPI (layer 0). */
#ifndef FASTMPI_STATE_H
#define FASTMPI_STATE_H

#include "fastmpi.h"

/* ---- module state ------------------------------------------------------ */

/* All the module's mutable state, in the module object itself (m_size,
 * m_traverse, m_clear, m_free: module.c).  MPI is initialised once per
 * process, so the module is single-instance: module.c refuses a second
 * initialisation (a subinterpreter, or a re-import after deletion), and
 * fastmpi_st, set once by MPI_exec to PyModule_GetState(module), reaches
 * the state from every call without a per-call PyType_GetModuleByDef()
 * walk through the type's MRO (which hot paths cannot pay for).
 *
 * Every PyObject field is a strong reference (visited and cleared by
 * fastmpi_state_traverse/_clear) unless its comment says otherwise. */
typedef struct {
    PyObject *module;           /* borrowed: the module owns the state */
    PyObject *Exception;        /* MPI.Exception */
    PyTypeObject *Comm;
    PyTypeObject *Intracomm;
    PyTypeObject *Topocomm;     /* topology.c: Topocomm and subclasses */
    PyTypeObject *Cartcomm;
    PyTypeObject *Graphcomm;
    PyTypeObject *Distgraphcomm;
    PyTypeObject *Intercomm;    /* intercomm.c */
    PyTypeObject *Status;
    PyTypeObject *Datatype;
    PyTypeObject *Request;
    PyTypeObject *Prequest;
    PyTypeObject *Grequest;
    PyTypeObject *Message;
    PyTypeObject *RecvArea;
    PyTypeObject *ForeignBuffer;    /* dlpack.c: DLPack and CAI memory */
    PyTypeObject *Op;
    PyTypeObject *Group;        /* group.c */
    PyTypeObject *Info;         /* info.c */
    PyObject *orphans;          /* list: pending requests nobody holds */
    PyTypeObject *Sentinel;     /* type of BOTTOM and IN_PLACE */
    PyObject *BOTTOM;
    PyObject *IN_PLACE;
    PyObject *pickle_dumps;
    PyObject *pickle_loads;
    PyObject *PickleBuffer;
    PyObject *protocol;         /* int 5 */
    PyObject *kw_buffer_callback;   /* ("buffer_callback",) */
    PyObject *kw_buffers;           /* ("buffers",) */
    PyObject *attached_buffer;  /* owned: the buffer of Attach_buffer */
    Py_buffer attached_view;
    fastmpi_error_hook_fn error_hook;   /* errhandler.c's, or NULL */
    /* grequest.c's, for request.c (Grequest is built on Request): raise
     * what a callback kept (-1) or 0; release the context. */
    int (*grequest_raise)(PyObject *req);
    void (*grequest_forget)(PyObject *req);
    int initialized_here;       /* we called MPI_Init*: finalise at exit */
    int finalize_at_exit;
} fastmpi_state;

extern fastmpi_state *fastmpi_st;

/* module.c's m_traverse and m_clear: the state's references. */
int fastmpi_state_traverse(fastmpi_state *st, visitproc visit, void *arg);
void fastmpi_state_clear(fastmpi_state *st);

#endif /* FASTMPI_STATE_H */
