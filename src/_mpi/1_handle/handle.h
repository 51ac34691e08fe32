/* handle.h: the one base of every MPI handle class (layer 1).
 *
 * A handle class (Comm, Group, Info, Datatype, Op, Request, Message,
 * Errhandler; Win, File and Session to come) describes its handle kind
 * once, in a const fastmpi_handle_kind, and makes its root class with
 * fastmpi_handle_type_new(), which joins the base's methods and slots
 * into the class's spec (the class's own entries win):
 *
 *   handle          the MPI handle as an int (MPICH's int, Open MPI's
 *                   pointer; FASTMPI_HANDLE_TO_INT)
 *   py2f(), f2py(arg)          the Fortran handle, and back
 *   toint(), fromint(arg)      MPI-5's integer handle (MPI_X_toint), or
 *                   the Fortran handle without MPI-5's ABI (as mpi4py 4.1)
 *   fromhandle(handle)         the object of an int `handle` gave
 *   free()          Free() unless the handle is null or predefined
 *                   (mpi4py 4); a kind without a Free hook does nothing
 *   == and !=       same handle; NotImplemented for other types
 *   bool(obj)       not the null handle;  hash(obj): unhashable (mpi4py)
 *   repr(obj)       <fastmpi.MPI.Comm COMM_WORLD at 0x...>
 *   __reduce__      a predefined object by its name (MPI.<name>), a copy
 *                   of one as type(obj)(MPI.<name>); others refuse
 *
 * Subclasses (Intracomm, Prequest, Python classes) inherit it all.  The
 * descriptor's hooks do what storing the handle does not (Comm picks
 * Intracomm or Intercomm, Request sets its state, Op finds its predefined
 * kind, each class's Free()).  Layer 1 knows no handle class: the hooks
 * come from the files that own them.  Adding a kind (Win, File, Session)
 * is one descriptor, FASTMPI_HANDLE_CONVERTERS and FASTMPI_HANDLE_SLOTS
 * lines, and fastmpi_handle_type_new() in place of fastmpi_type_new().
 */
#ifndef FASTMPI_HANDLE_H
#define FASTMPI_HANDLE_H

#include "../0_core/fastmpi.h"

#include <stddef.h>     /* offsetof, for the descriptors */
#include <string.h>

/* A predefined object of a kind: MPI.<name> wraps `handle`. */
typedef struct {
    const char *name;
    intptr_t handle;
} fastmpi_handle_name;

/* {"COMM_WORLD", MPI_COMM_WORLD as an int}, for a table of names. */
#define FASTMPI_HANDLE_NAME(name) {#name, FASTMPI_HANDLE_TO_INT(MPI_##name)}

struct fastmpi_handle_kind {
    const char *name;           /* what docs and messages call it: the
                                   class ("Group"), or a word for it */
    int size;                   /* sizeof the C handle (int or pointer) */
    Py_ssize_t offset;          /* of the handle (ob_mpi) in the object */
    Py_ssize_t flags_offset;    /* of `int flags` (FASTMPI_PREDEFINED), or
                                   -1 */
    intptr_t null;              /* the null handle */
    /* The predefined objects (the null one too), NULL-terminated: repr
     * and pickling name them, free() leaves them alone, fromhandle()
     * flags them FASTMPI_PREDEFINED. */
    const fastmpi_handle_name *names;
    const char *local;          /* why the others do not pickle */
    /* FASTMPI_HANDLE_CONVERTERS: 0, or -1 with an exception */
    int (*c2f)(intptr_t handle, MPI_Fint *out);
    intptr_t (*f2c)(MPI_Fint f);
    int (*toint)(intptr_t handle, int *out);
    intptr_t (*fromint)(int i);
    /* Hooks, each may be NULL. */
    /* New reference: an object of `cls` (or the subclass the handle is
     * of) for `handle` (f2py, fromint, fromhandle: fname); NULL with an
     * exception.  NULL hook: allocate, store the handle, flag a
     * predefined one. */
    PyObject *(*make)(PyTypeObject *cls, intptr_t handle, const char *fname);
    /* The handle the user sees (Request: a freed one is null).  NULL
     * hook: the one stored at `offset`. */
    intptr_t (*get)(PyObject *self);
    /* The class's Free() (a METH_NOARGS function), for free().  NULL
     * hook: free() does nothing (Message, as mpi4py 4). */
    PyCFunction free;
    /* FASTMPI_HANDLE_SLOTS: ==, bool, repr and hash for this kind. */
    const PyType_Slot *slots;
};

/* ---- the slots ----------------------------------------------------------
 *
 * ==, bool and repr are compiled once per kind, in the file that owns the
 * kind, with the descriptor a constant: `comm == MPI.COMM_NULL` and
 * `bool(req)` cost what hand-written slots cost (no lookup of the kind,
 * its fields folded in).  The file writes, before its descriptor:
 *
 *     FASTMPI_HANDLE_SLOTS(comm_kind, fastmpi_st->Comm)
 *     static const fastmpi_handle_kind comm_kind = {
 *         ..., .slots = comm_kind_slots,
 *     };
 *
 * `base` is an expression for the kind's root class (the other operand of
 * == must be one). */

/* The handle of self as an int (the get hook, or the one stored). */
static inline intptr_t
fastmpi_handle_get(const fastmpi_handle_kind *k, PyObject *self)
{
    if (k->get != NULL) {
        return k->get(self);
    }
    const char *p = (const char *)self + k->offset;
    if (k->size == (int)sizeof(int)) {
        int v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    intptr_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline PyObject *
fastmpi_handle_richcompare(const fastmpi_handle_kind *k, PyTypeObject *base,
                           PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(b, base)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    int eq = fastmpi_handle_get(k, a) == fastmpi_handle_get(k, b);
    return PyBool_FromLong(eq == (op == Py_EQ));
}

/* New reference: <fastmpi.MPI.Comm COMM_WORLD at 0x...>, the name only
 * for a predefined handle. */
PyObject *fastmpi_handle_repr(const fastmpi_handle_kind *k, PyObject *self);

#define FASTMPI_HANDLE_SLOTS(kind, base)                                   \
    static const fastmpi_handle_kind kind;                                 \
    static PyObject *kind##_richcompare(PyObject *a, PyObject *b, int op)  \
    {                                                                      \
        return fastmpi_handle_richcompare(&kind, (base), a, b, op);        \
    }                                                                      \
    static int kind##_bool(PyObject *self)                                 \
    {                                                                      \
        return fastmpi_handle_get(&kind, self) != kind.null;               \
    }                                                                      \
    static PyObject *kind##_repr(PyObject *self)                           \
    {                                                                      \
        return fastmpi_handle_repr(&kind, self);                           \
    }                                                                      \
    static const PyType_Slot kind##_slots[] = {                            \
        {Py_tp_richcompare, kind##_richcompare},                           \
        {Py_nb_bool, kind##_bool},                                         \
        {Py_tp_repr, kind##_repr},                                         \
        {Py_tp_hash, PyObject_HashNotImplemented}, /* as mpi4py */         \
        {0, NULL},                                                         \
    };

/* The four conversion functions of a kind, for its descriptor: X is the
 * MPI name (Comm, Type, ...), ctype its C type.  `check` runs before the
 * C-to-int ones (fastmpi_require_mpi() where the library needs MPI, 0
 * otherwise). */
#if FASTMPI_HAVE_TOINT
#define FASTMPI_HANDLE_TOINT_(X, ctype, h) MPI_##X##_toint((ctype)(h))
#define FASTMPI_HANDLE_FROMINT_(X, i) MPI_##X##_fromint(i)
#else
#define FASTMPI_HANDLE_TOINT_(X, ctype, h) (int)MPI_##X##_c2f((ctype)(h))
#define FASTMPI_HANDLE_FROMINT_(X, i) MPI_##X##_f2c((MPI_Fint)(i))
#endif
#define FASTMPI_HANDLE_CONVERTERS(prefix, X, ctype, check)                 \
    static int prefix##_c2f(intptr_t h, MPI_Fint *out)                     \
    {                                                                      \
        if ((check) < 0) {                                                 \
            return -1;                                                     \
        }                                                                  \
        *out = MPI_##X##_c2f((ctype)h);                                    \
        return 0;                                                          \
    }                                                                      \
    static intptr_t prefix##_f2c(MPI_Fint f)                               \
    {                                                                      \
        return FASTMPI_HANDLE_TO_INT(MPI_##X##_f2c(f));                    \
    }                                                                      \
    static int prefix##_toint(intptr_t h, int *out)                        \
    {                                                                      \
        if ((check) < 0) {                                                 \
            return -1;                                                     \
        }                                                                  \
        *out = FASTMPI_HANDLE_TOINT_(X, ctype, h);                         \
        return 0;                                                          \
    }                                                                      \
    static intptr_t prefix##_fromint(int i)                                \
    {                                                                      \
        return FASTMPI_HANDLE_TO_INT(FASTMPI_HANDLE_FROMINT_(X, i));       \
    }

/* New reference: the immutable root class of a handle kind, made from
 * `spec` and `parts` (as fastmpi_type_new) with the base's methods,
 * getters and slots joined in where the class has none of its own, and
 * registered in the module state.  NULL with an exception. */
PyTypeObject *fastmpi_handle_type_new(PyObject *module,
                                      const PyType_Spec *spec,
                                      const fastmpi_handle_kind *kind,
                                      const fastmpi_type_parts *parts);
/* _sizeof, _addressof and _handleof, for module.c. */
extern PyMethodDef fastmpi_handle_functions[];
/* The name of a predefined handle of `kind` ("COMM_WORLD"), or NULL. */
const char *fastmpi_handle_name_of(const fastmpi_handle_kind *kind,
                                   intptr_t handle);

#endif /* FASTMPI_HANDLE_H */
