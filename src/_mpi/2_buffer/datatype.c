/* datatype.c: MPI.Datatype (the object, Commit, Free, extents), the
 * predefined datatypes, and the mapping from buffer-protocol format strings
 * to MPI datatypes.  Constructors live in dtcreate.c, decoding in
 * dtdecode.c, packing in pack.c, numpy dtypes in dtnumpy.c. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "datatype.h"

#include <string.h>

static PyObject *
Datatype_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"datatype", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Datatype", kwlist,
                                     &other)) {
        return NULL;
    }
    MPI_Datatype handle = MPI_DATATYPE_NULL;
    int flags = 0;
    if (other != NULL && other != Py_None) {
        if (!PyObject_TypeCheck(other, fastmpi_st->Datatype)) {
            return PyErr_Format(PyExc_TypeError,
                                "Datatype() argument 'datatype' must be "
                                "MPI.Datatype, not %.100s",
                                Py_TYPE(other)->tp_name);
        }
        /* the same handle: the copy does not own it */
        handle = ((FastMPIDatatypeObject *)other)->ob_mpi;
        flags = ((FastMPIDatatypeObject *)other)->flags & ~FASTMPI_DT_OWNED;
    }
    FastMPIDatatypeObject *self =
        (FastMPIDatatypeObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->ob_mpi = handle;
    self->flags = flags;
    return (PyObject *)self;
}

/* ---- references fastmpi holds on derived handles ----------------------- */

/* fastmpi_st->live_refs, a dict: handle int -> 2 * references held +
 * committed.  An entry whose count fell to 0 stays, so later use of the
 * stale handle is caught; a new type that reuses the value starts afresh. */

static PyObject *
handle_key(MPI_Datatype dt)
{
    return PyLong_FromLongLong((long long)FASTMPI_HANDLE_TO_INT(dt));
}

/* The entry for dt, or -1 when fastmpi never counted it. */
static long
live_get(MPI_Datatype dt)
{
    PyObject *key = handle_key(dt);
    long state = -1;
    PyObject *live = fastmpi_st->live_refs;
    if (key != NULL && live != NULL) {
        PyObject *v = PyDict_GetItemWithError(live, key);
        if (v != NULL) {
            state = PyLong_AsLong(v);
        }
    }
    Py_XDECREF(key);
    PyErr_Clear();
    return state;
}

static void
live_set(MPI_Datatype dt, long state)
{
    PyObject *key = handle_key(dt);
    PyObject *v = PyLong_FromLong(state);
    PyObject *live = fastmpi_st->live_refs;
    if (key == NULL || v == NULL || live == NULL ||
        PyDict_SetItem(live, key, v) < 0) {
        PyErr_Clear();
    }
    Py_XDECREF(key);
    Py_XDECREF(v);
}

/* Add `delta` references for dt (never below 0); a handle taken afresh
 * (count was 0: MPI reused the value) starts uncommitted, or committed. */
static void
live_add(MPI_Datatype dt, long delta, int committed)
{
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    long state = live_get(dt);
    long n = state < 0 ? 0 : state / 2;
    long bit = state < 0 || n == 0 ? committed != 0 : state & 1;
    n = n + delta < 0 ? 0 : n + delta;
    live_set(dt, 2 * n + bit);
    PyErr_Restore(et, ev, etb);
}

/* 1 if fastmpi saw every reference to dt given back (freed), else 0. */
static int
live_freed(MPI_Datatype dt)
{
    long state = live_get(dt);
    return state >= 0 && state / 2 == 0;
}


int
fastmpi_datatype_handle(PyObject *self, const char *fname, MPI_Datatype *dt)
{
    FastMPIDatatypeObject *d = (FastMPIDatatypeObject *)self;
    if (fastmpi_require_mpi() < 0) {
        return -1;
    }
    *dt = d->ob_mpi;
    if (*dt == MPI_DATATYPE_NULL) {
        fastmpi_error_raise_detail(MPI_ERR_TYPE,
                                   "%s(): the datatype is DATATYPE_NULL "
                                   "(freed, or never created)", fname);
        return -1;
    }
    if (!(d->flags & FASTMPI_PREDEFINED) && live_freed(*dt)) {
        fastmpi_error_raise_detail(MPI_ERR_TYPE,
                                   "%s(): the datatype was freed (through "
                                   "another Datatype object sharing its "
                                   "handle)", fname);
        return -1;
    }
    return 0;
}

static void
Datatype_dealloc(PyObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIDatatypeObject);
    FastMPIDatatypeObject *dt = (FastMPIDatatypeObject *)self;
    PyTypeObject *tp = Py_TYPE(self);
    if ((dt->flags & FASTMPI_DT_OWNED) && dt->ob_mpi != MPI_DATATYPE_NULL &&
        fastmpi_mpi_active && !live_freed(dt->ob_mpi)) {
        live_add(dt->ob_mpi, -1, 0);
        MPI_Type_free(&dt->ob_mpi);
    }
    tp->tp_free(self);
    Py_DECREF(tp);
}

PyObject *
fastmpi_datatype_new(MPI_Datatype handle, int flags)
{
    FastMPIDatatypeObject *obj = PyObject_New(FastMPIDatatypeObject,
                                              fastmpi_st->Datatype);
    if (obj == NULL) {
        return NULL;
    }
    obj->ob_mpi = handle;
    obj->weaklist = NULL;
    obj->flags = flags;
    return (PyObject *)obj;
}

PyObject *
fastmpi_datatype_adopt(MPI_Datatype handle, int flags)
{
    PyObject *obj = fastmpi_datatype_new(handle, flags);
    if (obj == NULL) {
        MPI_Type_free(&handle);
        return NULL;
    }
    live_add(handle, 1, flags & FASTMPI_DT_COMMITTED);
    return obj;
}

int
fastmpi_datatype_is_predefined(MPI_Datatype dt)
{
    int ni, na, nd, combiner;
    if (dt == MPI_DATATYPE_NULL) {
        return 0;
    }
    if (fastmpi_check(MPI_Type_get_envelope(dt, &ni, &na, &nd,
                                            &combiner)) < 0) {
        return -1;
    }
    return combiner == MPI_COMBINER_NAMED ||
           combiner == MPI_COMBINER_F90_INTEGER ||
           combiner == MPI_COMBINER_F90_REAL ||
           combiner == MPI_COMBINER_F90_COMPLEX;
}

PyObject *
fastmpi_datatype_wrap(MPI_Datatype handle, int flags)
{
    int named = fastmpi_datatype_is_predefined(handle);
    if (named < 0) {
        return NULL;
    }
    if (named) {
        return fastmpi_datatype_new(handle, FASTMPI_PREDEFINED |
                                                FASTMPI_DT_COMMITTED);
    }
    return fastmpi_datatype_adopt(handle, flags);
}

MPI_Datatype
fastmpi_datatype_arg(PyObject *obj, const char *fname, const char *argname)
{
    if (Py_UNLIKELY(!PyObject_TypeCheck(obj, fastmpi_st->Datatype))) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be MPI.Datatype, not %.100s",
                     fname, argname, Py_TYPE(obj)->tp_name);
        return MPI_DATATYPE_NULL;
    }
    FastMPIDatatypeObject *d = (FastMPIDatatypeObject *)obj;
    MPI_Datatype dt = d->ob_mpi;
    if (Py_UNLIKELY(dt == MPI_DATATYPE_NULL)) {
        /* what MPI would say of the null handle (as mpi4py, which passes
         * it on): MPI.Exception, ERR_TYPE */
        fastmpi_error_raise_detail(MPI_ERR_TYPE, "%s() argument '%s' is "
                                   "MPI.DATATYPE_NULL", fname, argname);
        return dt;
    }
    if (Py_LIKELY(d->flags & FASTMPI_PREDEFINED)) {
        return dt;
    }
    /* a derived type: not freed through another object, committed */
    long state = live_get(dt);
    if (state >= 0 && state / 2 == 0) {
        fastmpi_error_raise_detail(
            MPI_ERR_TYPE, "%s() argument '%s': the datatype was freed "
            "(through another Datatype object sharing its handle)", fname,
            argname);
        return MPI_DATATYPE_NULL;
    }
    if (!(d->flags & FASTMPI_DT_COMMITTED) && !(state >= 0 && (state & 1))) {
        int named = fastmpi_datatype_is_predefined(dt);
        if (named <= 0) {
            if (named == 0) {
                fastmpi_error_raise_detail(
                    MPI_ERR_TYPE, "%s() argument '%s': the derived datatype "
                    "is not committed; call its Commit() first", fname,
                    argname);
            }
            return MPI_DATATYPE_NULL;
        }
    }
    return dt;
}

MPI_Datatype
fastmpi_datatype_spec_arg(PyObject *obj, const char *fname,
                          const char *argname)
{
    if (Py_UNLIKELY(PyUnicode_Check(obj))) {
        return fastmpi_datatype_from_code(obj, fname, argname);
    }
    return fastmpi_datatype_arg(obj, fname, argname);
}

int
fastmpi_datatype_msg_arg(PyObject *obj, const char *fname,
                         const char *argname, MPI_Datatype *dt,
                         MPI_Aint *lb, MPI_Aint *extent, MPI_Aint *true_lb,
                         MPI_Aint *true_extent)
{
    if (Py_UNLIKELY(!PyObject_TypeCheck(obj, fastmpi_st->Datatype))) {
        if (PyUnicode_Check(obj)) {     /* a type code: predefined */
            *dt = fastmpi_datatype_from_code(obj, fname, argname);
            if (*dt == MPI_DATATYPE_NULL ||
                fastmpi_check(MPI_Type_get_extent(*dt, lb, extent)) < 0) {
                return -1;
            }
            *true_lb = *lb;
            *true_extent = *extent;
            return 0;
        }
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s': the datatype must be "
                     "MPI.Datatype or a type code str, not %.100s",
                     fname, argname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    FastMPIDatatypeObject *d = (FastMPIDatatypeObject *)obj;
    *dt = d->ob_mpi;
    if (Py_UNLIKELY(*dt == MPI_DATATYPE_NULL)) {
        /* a buffer spec that cannot describe a message (as mpi4py's
         * ValueError); elsewhere the null handle is MPI's ERR_TYPE */
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': the datatype is "
                     "MPI.DATATYPE_NULL (freed, or never created)",
                     fname, argname);
        return -1;
    }
    if (Py_LIKELY(d->flags & FASTMPI_PREDEFINED)) {
        if (fastmpi_check(MPI_Type_get_extent(*dt, lb, extent)) < 0) {
            return -1;
        }
        *true_lb = *lb;
        *true_extent = *extent;
        return 0;
    }
    long state = live_get(*dt);     /* one lookup: freed? committed? */
    if (state >= 0 && state / 2 == 0) {
        fastmpi_error_raise_detail(
            MPI_ERR_TYPE, "%s() argument '%s': the datatype was freed "
            "(through another Datatype object sharing its handle)", fname,
            argname);
        return -1;
    }
    if (fastmpi_check(MPI_Type_get_extent(*dt, lb, extent)) < 0) {
        return -1;
    }
    if (!(d->flags & FASTMPI_DT_COMMITTED) && !(state >= 0 && (state & 1))) {
        int named = fastmpi_datatype_is_predefined(*dt);
        if (named < 0) {
            return -1;
        }
        if (!named) {
            fastmpi_error_raise_detail(
                MPI_ERR_TYPE,
                "%s() argument '%s': the derived datatype is not "
                "committed; call its Commit() first", fname, argname);
            return -1;
        }
    }
    return fastmpi_check(MPI_Type_get_true_extent(*dt, true_lb,
                                                  true_extent));
}

static PyObject *
Datatype_Get_size(FastMPIDatatypeObject *self, PyObject *unused)
{
    int size = 0;
    MPI_Datatype dt;
    if (fastmpi_datatype_handle((PyObject *)self, "Get_size", &dt) < 0) {
        return NULL;
    }
    if (fastmpi_check(MPI_Type_size(dt, &size)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(size);
}

/* self's lower bound and extent, or with true_extent the true ones: 0,
 * or -1 with an exception naming Get_extent or Get_true_extent. */
static int
extents(FastMPIDatatypeObject *self, int true_extent, MPI_Aint *lb,
        MPI_Aint *extent)
{
    MPI_Datatype dt;
    *lb = *extent = 0;
    if (fastmpi_datatype_handle((PyObject *)self,
                                true_extent ? "Get_true_extent"
                                            : "Get_extent", &dt) < 0) {
        return -1;
    }
    if (true_extent) {
        return fastmpi_check(MPI_Type_get_true_extent(dt, lb, extent));
    }
    return fastmpi_check(MPI_Type_get_extent(dt, lb, extent));
}

/* Get_extent() and Get_true_extent(): (lb, extent). */
static PyObject *
extent_pair(FastMPIDatatypeObject *self, int true_extent)
{
    MPI_Aint lb, extent;
    if (extents(self, true_extent, &lb, &extent) < 0) {
        return NULL;
    }
    return Py_BuildValue("(nn)", (Py_ssize_t)lb, (Py_ssize_t)extent);
}

/* The properties: which = 0 the lower bound, 1 the extent, 2 the upper
 * bound (true ones with true_extent). */
static PyObject *
extent_part(FastMPIDatatypeObject *self, int true_extent, int which)
{
    MPI_Aint lb, extent;
    if (extents(self, true_extent, &lb, &extent) < 0) {
        return NULL;
    }
    MPI_Aint v = which == 0 ? lb : which == 1 ? extent : lb + extent;
    return PyLong_FromSsize_t((Py_ssize_t)v);
}

static PyObject *
Datatype_Get_extent(FastMPIDatatypeObject *self, PyObject *unused)
{
    return extent_pair(self, 0);
}

static PyObject *
Datatype_get_lb(FastMPIDatatypeObject *self, void *c)
{
    return extent_part(self, 0, 0);
}

static PyObject *
Datatype_get_extent(FastMPIDatatypeObject *self, void *c)
{
    return extent_part(self, 0, 1);
}

static PyObject *
Datatype_get_ub(FastMPIDatatypeObject *self, void *c)
{
    return extent_part(self, 0, 2);
}

static PyObject *
Datatype_Get_name(FastMPIDatatypeObject *self, PyObject *unused)
{
    char name[MPI_MAX_OBJECT_NAME + 1];
    int len = 0;
    MPI_Datatype dt;
    if (fastmpi_datatype_handle((PyObject *)self, "Get_name", &dt) < 0) {
        return NULL;
    }
    if (fastmpi_check(MPI_Type_get_name(dt, name, &len)) < 0) {
        return NULL;
    }
    return PyUnicode_FromStringAndSize(name, len);
}

static PyObject *
Datatype_Set_name(FastMPIDatatypeObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        return PyErr_Format(PyExc_TypeError,
                            "Set_name() argument 'name' must be str, "
                            "not %.100s", Py_TYPE(arg)->tp_name);
    }
    const char *name = PyUnicode_AsUTF8(arg);
    MPI_Datatype dt;
    if (name == NULL ||
        fastmpi_datatype_handle((PyObject *)self, "Set_name", &dt) < 0 ||
        fastmpi_check(MPI_Type_set_name(dt, (char *)name)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Datatype_Get_true_extent(FastMPIDatatypeObject *self, PyObject *unused)
{
    return extent_pair(self, 1);
}

static PyObject *
Datatype_get_true_lb(FastMPIDatatypeObject *self, void *c)
{
    return extent_part(self, 1, 0);
}

static PyObject *
Datatype_get_true_extent(FastMPIDatatypeObject *self, void *c)
{
    return extent_part(self, 1, 1);
}

static PyObject *
Datatype_get_true_ub(FastMPIDatatypeObject *self, void *c)
{
    return extent_part(self, 1, 2);
}

/* Commit() -> self: the type may now be used in communication. */
static PyObject *
Datatype_Commit(FastMPIDatatypeObject *self, PyObject *unused)
{
    MPI_Datatype dt;
    if (fastmpi_datatype_handle((PyObject *)self, "Commit", &dt) < 0 ||
        fastmpi_check(MPI_Type_commit(&self->ob_mpi)) < 0) {
        return NULL;
    }
    self->flags |= FASTMPI_DT_COMMITTED;
    if (!(self->flags & FASTMPI_PREDEFINED)) {
        long state = live_get(dt);
        live_set(dt, state < 0 ? 3 : state | 1);  /* unknown: count 1 */
    }
    return Py_NewRef(self);
}

static PyObject *
Datatype_Free(FastMPIDatatypeObject *self, PyObject *unused)
{
    MPI_Datatype dt;
    if (fastmpi_datatype_handle((PyObject *)self, "Free", &dt) < 0) {
        return NULL;
    }
    int named = (self->flags & FASTMPI_PREDEFINED)
        ? 1 : fastmpi_datatype_is_predefined(dt);
    if (named < 0) {
        return NULL;
    }
    if (named) {
        return fastmpi_error_raise_detail(
            MPI_ERR_TYPE, "Free(): a predefined datatype cannot be freed");
    }
    fastmpi_callbacks_begin();  /* a keyval's delete_fn may run (attr.c) */
    int ierr = MPI_Type_free(&self->ob_mpi);
    if (ierr == MPI_SUCCESS) {
        live_add(dt, -1, 0);
        self->ob_mpi = MPI_DATATYPE_NULL;
        self->flags = 0;
    }
    fastmpi_check(ierr);
    if (fastmpi_callbacks_end() < 0 || ierr != MPI_SUCCESS) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The handle base's make hook (f2py, fromint, fromhandle): an alias of a
 * handle someone holds, no reference taken. */
static PyObject *
datatype_make(PyTypeObject *cls, intptr_t h, const char *fname)
{
    MPI_Datatype dt = (MPI_Datatype)h;
    int named = fastmpi_datatype_is_predefined(dt);
    if (named < 0) {
        return NULL;
    }
    return fastmpi_datatype_new(dt, named ? FASTMPI_PREDEFINED |
                                                FASTMPI_DT_COMMITTED
                                          : FASTMPI_DT_COMMITTED);
}

static PyObject *
Datatype_repr(FastMPIDatatypeObject *self)
{
    char name[MPI_MAX_OBJECT_NAME + 1];
    int len = 0;
    if (self->ob_mpi == MPI_DATATYPE_NULL) {
        return PyUnicode_FromString("<MPI.Datatype DATATYPE_NULL>");
    }
    if (!(self->flags & FASTMPI_PREDEFINED) && live_freed(self->ob_mpi)) {
        return PyUnicode_FromString("<MPI.Datatype (freed)>");
    }
    if (!fastmpi_mpi_active ||
        MPI_Type_get_name(self->ob_mpi, name, &len) != MPI_SUCCESS ||
        len == 0) {
        return PyUnicode_FromString("<MPI.Datatype>");
    }
    name[len] = '\0';
    return PyUnicode_FromFormat("<MPI.Datatype %s>", name);
}

/* Pickling, as mpi4py 4: a predefined datatype by its name, a derived one
 * by its construction (decode()), rebuilt committed.  The Python side is
 * fastmpi.util.dtlib._datatype_reduce. */
static PyObject *
Datatype_reduce(PyObject *self, PyObject *unused)
{
    PyObject *dtlib = PyImport_ImportModule("fastmpi.util.dtlib");
    if (dtlib == NULL) {
        return NULL;
    }
    PyObject *r = PyObject_CallMethod(dtlib, "_datatype_reduce", "O", self);
    Py_DECREF(dtlib);
    return r;
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Datatype_Set_name, "Set_name", "name")

static PyMethodDef Datatype_methods[] = {
    {"Get_size", (PyCFunction)Datatype_Get_size, METH_NOARGS,
     "Get_size($self)\n--\n\n"
     "Size in bytes of the data described."},
    {"Get_extent", (PyCFunction)Datatype_Get_extent, METH_NOARGS,
     "Get_extent($self)\n--\n\n"
     "Get_extent() -> (lb, extent)."},
    {"Get_name", (PyCFunction)Datatype_Get_name, METH_NOARGS,
     "Get_name($self)\n--\n\n"
                                                              "Name."},
    {"Set_name", FASTMPI_FASTCALL(Datatype_Set_name_kw),
     METH_FASTCALL | METH_KEYWORDS, "Set_name($self, name)\n--\n\n"
                                                         "Set the name."},
    {"Get_true_extent", (PyCFunction)Datatype_Get_true_extent, METH_NOARGS,
     "Get_true_extent($self)\n--\n\n"
     "Get_true_extent() -> (true_lb, true_extent)."},
    {"Commit", (PyCFunction)Datatype_Commit, METH_NOARGS,
     "Commit($self)\n--\n\n"
     "Commit() -> self: make the datatype usable in communication."},
    {"Free", (PyCFunction)Datatype_Free, METH_NOARGS,
     "Free($self)\n--\n\n"
     "Free a user-defined datatype (it becomes DATATYPE_NULL)."},
    {"__reduce__", Datatype_reduce, METH_NOARGS, "__reduce__($self)\n--\n\n"},
    {NULL},
};

static PyGetSetDef Datatype_getset[] = {
    {"size", (getter)Datatype_Get_size, NULL, "size in bytes"},
    {"extent", (getter)Datatype_get_extent, NULL, "extent in bytes"},
    {"lb", (getter)Datatype_get_lb, NULL, "lower bound"},
    {"ub", (getter)Datatype_get_ub, NULL, "upper bound"},
    {"true_lb", (getter)Datatype_get_true_lb, NULL, "true lower bound"},
    {"true_extent", (getter)Datatype_get_true_extent, NULL, "true extent"},
    {"true_ub", (getter)Datatype_get_true_ub, NULL, "true upper bound"},
    {"name", (getter)Datatype_Get_name, NULL, "name"},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Datatype_members, FastMPIDatatypeObject);

static PyType_Slot Datatype_slots[] = {
    {Py_tp_members, Datatype_members},
    {Py_tp_doc, "Datatype(datatype=None)\n--\n\n"
                "Datatype(datatype=None): an MPI datatype."},
    {Py_tp_new, Datatype_new},
    {Py_tp_dealloc, Datatype_dealloc},
    {Py_tp_repr, Datatype_repr},
    {Py_tp_methods, Datatype_methods},
    {Py_tp_getset, Datatype_getset},
    {0, NULL},
};

static PyType_Spec Datatype_spec = {
    .name = "fastmpi.MPI.Datatype",
    .basicsize = sizeof(FastMPIDatatypeObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Datatype_slots,
};

FASTMPI_HANDLE_CONVERTERS(datatype, Type, MPI_Datatype, 0)
FASTMPI_HANDLE_SLOTS(datatype_kind, fastmpi_st->Datatype)

/* No names: repr and pickling are Datatype's own; free() knows a named
 * type by its flag (every way of making one sets it). */
static const fastmpi_handle_kind datatype_kind = {
    .name = "Datatype",
    .size = sizeof(MPI_Datatype),
    .offset = offsetof(FastMPIDatatypeObject, ob_mpi),
    .flags_offset = offsetof(FastMPIDatatypeObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_DATATYPE_NULL),
    .c2f = datatype_c2f,
    .f2c = datatype_f2c,
    .toint = datatype_toint,
    .fromint = datatype_fromint,
    .make = datatype_make,
    .free = (PyCFunction)Datatype_Free,
    .slots = datatype_kind_slots,
};

/* ---- format strings -> MPI datatypes ----------------------------------- */

static MPI_Datatype
signed_by_size(Py_ssize_t size)
{
    switch (size) {
    case 1: return MPI_INT8_T;
    case 2: return MPI_INT16_T;
    case 4: return MPI_INT32_T;
    case 8: return MPI_INT64_T;
    }
    return MPI_DATATYPE_NULL;
}

static MPI_Datatype
unsigned_by_size(Py_ssize_t size)
{
    switch (size) {
    case 1: return MPI_UINT8_T;
    case 2: return MPI_UINT16_T;
    case 4: return MPI_UINT32_T;
    case 8: return MPI_UINT64_T;
    }
    return MPI_DATATYPE_NULL;
}

/* Native ('@' or no prefix): C types of the platform. */
static MPI_Datatype
native_code(const char *f)
{
    switch (f[0]) {
    case '?': return MPI_C_BOOL;
    case 'c': return MPI_CHAR;
    case 'b': return MPI_SIGNED_CHAR;
    case 'B': return MPI_UNSIGNED_CHAR;
    case 'h': return MPI_SHORT;
    case 'H': return MPI_UNSIGNED_SHORT;
    case 'i': return MPI_INT;
    case 'I': return MPI_UNSIGNED;
    case 'l': return MPI_LONG;
    case 'L': return MPI_UNSIGNED_LONG;
    case 'q': return MPI_LONG_LONG;
    case 'Q': return MPI_UNSIGNED_LONG_LONG;
    case 'n': return signed_by_size(sizeof(Py_ssize_t));
    case 'N': return unsigned_by_size(sizeof(size_t));
    case 'f': return MPI_FLOAT;
    case 'd': return MPI_DOUBLE;
    case 'g': return MPI_LONG_DOUBLE;
    case 'u': case 'w': return MPI_WCHAR;
    case 'Z':
        switch (f[1]) {
        case 'f': return MPI_C_FLOAT_COMPLEX;
        case 'd': return MPI_C_DOUBLE_COMPLEX;
        case 'g': return MPI_C_LONG_DOUBLE_COMPLEX;
        }
    }
    return MPI_DATATYPE_NULL;
}

/* Standard sizes ('=' or '<' on a little-endian host): by kind and size. */
static MPI_Datatype
standard_code(const char *f, Py_ssize_t itemsize)
{
    switch (f[0]) {
    case '?': return itemsize == 1 ? MPI_C_BOOL : MPI_DATATYPE_NULL;
    case 'c': return MPI_CHAR;
    case 'b': case 'h': case 'i': case 'l': case 'q': case 'n':
        return signed_by_size(itemsize);
    case 'B': case 'H': case 'I': case 'L': case 'Q': case 'N':
        return unsigned_by_size(itemsize);
    case 'f': return itemsize == 4 ? MPI_FLOAT : MPI_DATATYPE_NULL;
    case 'd': return itemsize == 8 ? MPI_DOUBLE : MPI_DATATYPE_NULL;
    case 'Z':
        if (f[1] == 'f' && itemsize == 8) return MPI_C_FLOAT_COMPLEX;
        if (f[1] == 'd' && itemsize == 16) return MPI_C_DOUBLE_COMPLEX;
    }
    return MPI_DATATYPE_NULL;
}

static int
host_is_little_endian(void)
{
    const unsigned int one = 1;
    return *(const unsigned char *)&one == 1;
}

MPI_Datatype
fastmpi_datatype_from_format(const char *format, Py_ssize_t itemsize,
                             const char *fname, const char *argname)
{
    const char *f = format == NULL ? "B" : format;
    MPI_Datatype dt = MPI_DATATYPE_NULL;

    /* the common case: one native code letter */
    if (Py_LIKELY(f[0] != '\0' && f[1] == '\0')) {
        dt = native_code(f);
        if (Py_LIKELY(dt != MPI_DATATYPE_NULL)) {
            return dt;
        }
    }
    else {
        char order = f[0];
        int little = host_is_little_endian();
        if (order == '@') {
            dt = native_code(f + 1);
        }
        else if (order == '=' || (order == '<' && little) ||
                 (order == '>' && !little) || (order == '!' && !little)) {
            dt = standard_code(f + 1, itemsize);
        }
        else if (order == '<' || order == '>' || order == '!') {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': buffer format '%s' has "
                         "non-native byte order; MPI sends native data "
                         "(convert with arr.astype(arr.dtype."
                         "newbyteorder('=')))",
                         fname, argname, f);
            return MPI_DATATYPE_NULL;
        }
        else {
            dt = native_code(f);
            if (dt != MPI_DATATYPE_NULL && f[0] == 'Z' && f[2] != '\0') {
                dt = MPI_DATATYPE_NULL;
            }
        }
        if (dt != MPI_DATATYPE_NULL) {
            return dt;
        }
    }
    if (strchr(f, 'T') != NULL) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': structured buffer format '%.200s' "
                     "has no MPI datatype; pass the numpy array itself, or "
                     "[buf, datatype] (fastmpi.util.dtlib)",
                     fname, argname, f);
    }
    else {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': no MPI datatype for buffer format "
                     "'%.200s' (item size %zd); pass [buf, datatype]",
                     fname, argname, f, itemsize);
    }
    return MPI_DATATYPE_NULL;
}

/* ---- predefined datatypes ---------------------------------------------- */

typedef struct {
    const char *name;
    MPI_Datatype handle;
} predefined_entry;

static int
add_predefined(PyObject *module, const char *name, MPI_Datatype handle)
{
    FastMPIDatatypeObject *obj = PyObject_New(FastMPIDatatypeObject,
                                              fastmpi_st->Datatype);
    if (obj == NULL) {
        return -1;
    }
    obj->ob_mpi = handle;
    obj->weaklist = NULL;
    obj->flags = handle == MPI_DATATYPE_NULL
        ? 0 : FASTMPI_PREDEFINED | FASTMPI_DT_COMMITTED;
    int r = PyModule_AddObjectRef(module, name, (PyObject *)obj);
    Py_DECREF(obj);
    return r;
}

int
fastmpi_datatype_init(PyObject *module, const fastmpi_type_parts *parts)
{
    fastmpi_st->live_refs = PyDict_New();
    if (fastmpi_st->live_refs == NULL) {
        return -1;
    }
    PyObject *type = (PyObject *)fastmpi_handle_type_new(
        module, &Datatype_spec, &datatype_kind, parts);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Datatype = (PyTypeObject *)type;
    if (PyModule_AddObjectRef(module, "Datatype", type) < 0) {
        return -1;
    }
    const predefined_entry table[] = {
        {"DATATYPE_NULL", MPI_DATATYPE_NULL},
        {"PACKED", MPI_PACKED}, {"BYTE", MPI_BYTE},
        {"AINT", MPI_AINT}, {"OFFSET", MPI_OFFSET}, {"COUNT", MPI_COUNT},
        {"CHAR", MPI_CHAR}, {"WCHAR", MPI_WCHAR},
        {"SIGNED_CHAR", MPI_SIGNED_CHAR}, {"SHORT", MPI_SHORT},
        {"INT", MPI_INT}, {"LONG", MPI_LONG}, {"LONG_LONG", MPI_LONG_LONG},
        {"UNSIGNED_CHAR", MPI_UNSIGNED_CHAR},
        {"UNSIGNED_SHORT", MPI_UNSIGNED_SHORT}, {"UNSIGNED", MPI_UNSIGNED},
        {"UNSIGNED_LONG", MPI_UNSIGNED_LONG},
        {"UNSIGNED_LONG_LONG", MPI_UNSIGNED_LONG_LONG},
        {"FLOAT", MPI_FLOAT}, {"DOUBLE", MPI_DOUBLE},
        {"LONG_DOUBLE", MPI_LONG_DOUBLE}, {"C_BOOL", MPI_C_BOOL},
        {"INT8_T", MPI_INT8_T}, {"INT16_T", MPI_INT16_T},
        {"INT32_T", MPI_INT32_T}, {"INT64_T", MPI_INT64_T},
        {"UINT8_T", MPI_UINT8_T}, {"UINT16_T", MPI_UINT16_T},
        {"UINT32_T", MPI_UINT32_T}, {"UINT64_T", MPI_UINT64_T},
        {"C_COMPLEX", MPI_C_COMPLEX},
        {"C_FLOAT_COMPLEX", MPI_C_FLOAT_COMPLEX},
        {"C_DOUBLE_COMPLEX", MPI_C_DOUBLE_COMPLEX},
        {"C_LONG_DOUBLE_COMPLEX", MPI_C_LONG_DOUBLE_COMPLEX},
        {"SHORT_INT", MPI_SHORT_INT}, {"TWOINT", MPI_2INT},
        {"LONG_INT", MPI_LONG_INT}, {"FLOAT_INT", MPI_FLOAT_INT},
        {"DOUBLE_INT", MPI_DOUBLE_INT},
        {"LONG_DOUBLE_INT", MPI_LONG_DOUBLE_INT},
        /* Fortran, C++ and MPI-4.1's fixed-size types: DATATYPE_NULL
         * where the library lacks one, as mpi4py does */
#ifdef MPI_CHARACTER
        {"CHARACTER", MPI_CHARACTER},
#else
        {"CHARACTER", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_LOGICAL
        {"LOGICAL", MPI_LOGICAL},
#else
        {"LOGICAL", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_INTEGER
        {"INTEGER", MPI_INTEGER},
#else
        {"INTEGER", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_REAL
        {"REAL", MPI_REAL},
#else
        {"REAL", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_DOUBLE_PRECISION
        {"DOUBLE_PRECISION", MPI_DOUBLE_PRECISION},
#else
        {"DOUBLE_PRECISION", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_COMPLEX
        {"COMPLEX", MPI_COMPLEX},
#else
        {"COMPLEX", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_LOGICAL1
        {"LOGICAL1", MPI_LOGICAL1},
#else
        {"LOGICAL1", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_LOGICAL2
        {"LOGICAL2", MPI_LOGICAL2},
#else
        {"LOGICAL2", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_LOGICAL4
        {"LOGICAL4", MPI_LOGICAL4},
#else
        {"LOGICAL4", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_LOGICAL8
        {"LOGICAL8", MPI_LOGICAL8},
#else
        {"LOGICAL8", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_LOGICAL16
        {"LOGICAL16", MPI_LOGICAL16},
#else
        {"LOGICAL16", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_INTEGER1
        {"INTEGER1", MPI_INTEGER1},
#else
        {"INTEGER1", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_INTEGER2
        {"INTEGER2", MPI_INTEGER2},
#else
        {"INTEGER2", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_INTEGER4
        {"INTEGER4", MPI_INTEGER4},
#else
        {"INTEGER4", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_INTEGER8
        {"INTEGER8", MPI_INTEGER8},
#else
        {"INTEGER8", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_INTEGER16
        {"INTEGER16", MPI_INTEGER16},
#else
        {"INTEGER16", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_REAL2
        {"REAL2", MPI_REAL2},
#else
        {"REAL2", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_REAL4
        {"REAL4", MPI_REAL4},
#else
        {"REAL4", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_REAL8
        {"REAL8", MPI_REAL8},
#else
        {"REAL8", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_REAL16
        {"REAL16", MPI_REAL16},
#else
        {"REAL16", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_COMPLEX4
        {"COMPLEX4", MPI_COMPLEX4},
#else
        {"COMPLEX4", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_COMPLEX8
        {"COMPLEX8", MPI_COMPLEX8},
#else
        {"COMPLEX8", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_COMPLEX16
        {"COMPLEX16", MPI_COMPLEX16},
#else
        {"COMPLEX16", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_COMPLEX32
        {"COMPLEX32", MPI_COMPLEX32},
#else
        {"COMPLEX32", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_CXX_BOOL
        {"CXX_BOOL", MPI_CXX_BOOL},
#else
        {"CXX_BOOL", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_CXX_FLOAT_COMPLEX
        {"CXX_FLOAT_COMPLEX", MPI_CXX_FLOAT_COMPLEX},
#else
        {"CXX_FLOAT_COMPLEX", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_CXX_DOUBLE_COMPLEX
        {"CXX_DOUBLE_COMPLEX", MPI_CXX_DOUBLE_COMPLEX},
#else
        {"CXX_DOUBLE_COMPLEX", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_CXX_LONG_DOUBLE_COMPLEX
        {"CXX_LONG_DOUBLE_COMPLEX", MPI_CXX_LONG_DOUBLE_COMPLEX},
#else
        {"CXX_LONG_DOUBLE_COMPLEX", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_SINT8_T
        {"SINT8_T", MPI_SINT8_T},
#else
        {"SINT8_T", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_SINT16_T
        {"SINT16_T", MPI_SINT16_T},
#else
        {"SINT16_T", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_SINT32_T
        {"SINT32_T", MPI_SINT32_T},
#else
        {"SINT32_T", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_SINT64_T
        {"SINT64_T", MPI_SINT64_T},
#else
        {"SINT64_T", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_FLOAT16_T
        {"FLOAT16_T", MPI_FLOAT16_T},
#else
        {"FLOAT16_T", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_BFLOAT16_T
        {"BFLOAT16_T", MPI_BFLOAT16_T},
#else
        {"BFLOAT16_T", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_FLOAT32_T
        {"FLOAT32_T", MPI_FLOAT32_T},
#else
        {"FLOAT32_T", MPI_DATATYPE_NULL},
#endif
#ifdef MPI_FLOAT64_T
        {"FLOAT64_T", MPI_FLOAT64_T},
#else
        {"FLOAT64_T", MPI_DATATYPE_NULL},
#endif
        /* MPI-1's markers, removed by MPI-3 (mpi4py 3 programs name
         * them) */
        {"UB", MPI_DATATYPE_NULL}, {"LB", MPI_DATATYPE_NULL},
        /* mpi4py's F_ names of the Fortran types */
        {"F_BOOL", MPI_LOGICAL}, {"F_INT", MPI_INTEGER},
        {"F_FLOAT", MPI_REAL}, {"F_DOUBLE", MPI_DOUBLE_PRECISION},
        {"F_COMPLEX", MPI_COMPLEX}, {"F_FLOAT_COMPLEX", MPI_COMPLEX},
        {"F_DOUBLE_COMPLEX", MPI_DOUBLE_COMPLEX},
        /* mpi4py's aliases */
        {"SIGNED_SHORT", MPI_SHORT}, {"SIGNED_INT", MPI_INT},
        {"SIGNED_LONG", MPI_LONG}, {"SIGNED_LONG_LONG", MPI_LONG_LONG},
        {"UNSIGNED_INT", MPI_UNSIGNED}, {"LONG_LONG_INT", MPI_LONG_LONG_INT},
        {"INT_INT", MPI_2INT}, {"BOOL", MPI_C_BOOL},
        {"FLOAT_COMPLEX", MPI_C_FLOAT_COMPLEX},
        {"DOUBLE_COMPLEX", MPI_C_DOUBLE_COMPLEX},
        {"LONG_DOUBLE_COMPLEX", MPI_C_LONG_DOUBLE_COMPLEX},
        {NULL, MPI_DATATYPE_NULL},
    };
    for (const predefined_entry *e = table; e->name != NULL; e++) {
        if (add_predefined(module, e->name, e->handle) < 0) {
            return -1;
        }
    }
    return 0;
}
