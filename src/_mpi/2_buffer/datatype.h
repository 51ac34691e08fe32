/* datatype.h: MPI.Datatype and the derived datatypes (layer 2). */
#ifndef FASTMPI_DATATYPE_H
#define FASTMPI_DATATYPE_H

#include "../0_core/fastmpi.h"

typedef struct {
    PyObject_HEAD
    MPI_Datatype ob_mpi;
    int flags;
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIDatatypeObject;

/* ---- datatype.c -------------------------------------------------------- */

/* Make Datatype with the other files' tables (module.c). */
int fastmpi_datatype_init(PyObject *module, const fastmpi_type_parts *parts);
/* The MPI datatype for a buffer-protocol format string and item size, or
 * MPI_DATATYPE_NULL with ValueError set naming fname/argname. */
MPI_Datatype fastmpi_datatype_from_format(const char *format,
                                          Py_ssize_t itemsize,
                                          const char *fname,
                                          const char *argname);
/* Borrowed handle of a Datatype object, or MPI_DATATYPE_NULL with
 * TypeError set (ValueError for DATATYPE_NULL, MPI.Exception(ERR_TYPE) for
 * a freed or uncommitted derived type). */
MPI_Datatype fastmpi_datatype_arg(PyObject *obj, const char *fname,
                                  const char *argname);

/* ---- derived datatypes: dtcreate.c, dtdecode.c, pack.c, dtnumpy.c ------
 *
 * Datatype objects carry flags: FASTMPI_PREDEFINED (a named type, never
 * freed), FASTMPI_DT_COMMITTED (Commit() was called: usable in messages)
 * and FASTMPI_DT_OWNED (a handle Get_contents/decode made: freed when the
 * object goes away, unless Free() came first). */
enum {
    FASTMPI_DT_COMMITTED = 2,
    FASTMPI_DT_OWNED = 4,
};

/* Freed handles.  Several objects may share a derived handle (Datatype(t),
 * f2py, and MPICH's Get_contents, which hands back the same handle with its
 * reference count raised), and an MPI call on a freed handle crashes MPICH.
 * So datatype.c counts, per derived handle, the references fastmpi took
 * (fastmpi_datatype_adopt) and gave back (Free): a handle whose count fell
 * to 0 is refused with MPI.Exception(ERR_TYPE) instead of reaching MPI.
 * Handles it never saw pass, so every Datatype object that holds a new MPI
 * reference must be made with fastmpi_datatype_adopt (or _wrap). */

/* New reference: a Datatype object wrapping `handle` with `flags` (an
 * alias or a predefined type: no reference counted). */
PyObject *fastmpi_datatype_new(MPI_Datatype handle, int flags);
/* New reference: a Datatype object for a handle MPI just created or handed
 * over (a constructor's result, Dup, ...): one reference counted.  On
 * failure the handle is freed. */
PyObject *fastmpi_datatype_adopt(MPI_Datatype handle, int flags);
/* New reference for a handle MPI gave back (Get_contents, ...): flagged
 * predefined when MPI says it is named, else adopted with `flags`. */
PyObject *fastmpi_datatype_wrap(MPI_Datatype handle, int flags);
/* The handle of Datatype object `self` for a method `fname` that calls
 * MPI: 0, or -1 with MPI.Exception(ERR_TYPE) when it is DATATYPE_NULL or
 * was freed (or MPI is not running). */
int fastmpi_datatype_handle(PyObject *self, const char *fname,
                            MPI_Datatype *dt);
/* 1 if `dt` is predefined (named, or made by Create_f90_*: never freed),
 * 0 if not, -1 with an exception. */
int fastmpi_datatype_is_predefined(MPI_Datatype dt);
/* The datatype of a message ([buf, count, datatype]; a type code str
 * too): like fastmpi_datatype_arg, and also refuses a freed or
 * uncommitted derived type (MPI.Exception ERR_TYPE saying so).  Fills the
 * extent and the true extent.  0, or -1 with an exception naming
 * fname/argname. */
int fastmpi_datatype_msg_arg(PyObject *obj, const char *fname,
                             const char *argname, MPI_Datatype *dt,
                             MPI_Aint *lb, MPI_Aint *extent,
                             MPI_Aint *true_lb, MPI_Aint *true_extent);
/* The datatype of a buffer spec given as a type code str ([buf, 'd'],
 * mpi4py's codes: dtnumpy.c): a borrowed predefined handle, or
 * MPI_DATATYPE_NULL with KeyError naming fname/argname. */
MPI_Datatype fastmpi_datatype_from_code(PyObject *code, const char *fname,
                                        const char *argname);
/* fastmpi_datatype_arg that also takes a type code str (the datatypes of
 * vector and w buffer specs). */
MPI_Datatype fastmpi_datatype_spec_arg(PyObject *obj, const char *fname,
                                       const char *argname);
/* A committed datatype for a numpy dtype with fields (a structured array
 * passed as a message), built once per dtype object and cached (a few
 * dozen entries; freed before MPI_Finalize).  Borrowed handle, or
 * MPI_DATATYPE_NULL with ValueError naming fname/argname. */
MPI_Datatype fastmpi_datatype_from_descr(PyObject *descr, const char *fname,
                                         const char *argname);
void fastmpi_dtnumpy_before_finalize(void);

/* Method and attribute tables that module.c joins onto Datatype. */
extern PyMethodDef fastmpi_dtcreate_methods[];   /* dtcreate.c */
extern PyMethodDef fastmpi_dtdecode_methods[];   /* dtdecode.c */
extern PyGetSetDef fastmpi_dtdecode_getset[];    /* dtdecode.c */
extern PyMethodDef fastmpi_dtnumpy_methods[];    /* dtnumpy.c */
extern PyGetSetDef fastmpi_dtnumpy_getset[];     /* dtnumpy.c */
/* dtcreate.c: COMBINER_*, TYPECLASS_*, DISTRIBUTE_*, ORDER_* constants,
 * Get_address, Aint_add, Aint_diff; dtnumpy.c: the hidden helpers of
 * fastmpi.util.dtlib. */
int fastmpi_dtcreate_init(PyObject *module);
int fastmpi_dtnumpy_init(PyObject *module);

#endif /* FASTMPI_DATATYPE_H */
