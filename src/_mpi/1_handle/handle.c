/* handle.c: the one base of every MPI handle class (handle.h).
 *
 * A kind's root class is registered in the module state beside its
 * descriptor.  The slots (==, bool, repr) are compiled per kind in the
 * file that owns it (FASTMPI_HANDLE_SLOTS); the methods, which run less
 * often, find their kind by walking the class up its bases to the
 * registered one (a Python subclass of Intracomm reaches Comm).  Layer 1:
 * it knows no handle class, only the descriptors the classes hand it.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "handle.h"

#include <stdio.h>
#include <string.h>

/* ---- the handle inside an object ---------------------------------------- */

static void
handle_set(const fastmpi_handle_kind *k, PyObject *self, intptr_t h)
{
    char *p = (char *)self + k->offset;
    if (k->size == (int)sizeof(int)) {
        int v = (int)h;
        memcpy(p, &v, sizeof(v));
    }
    else {
        memcpy(p, &h, sizeof(h));
    }
}

static int *
handle_flags(const fastmpi_handle_kind *k, PyObject *self)
{
    return k->flags_offset < 0 ? NULL
                               : (int *)((char *)self + k->flags_offset);
}

const char *
fastmpi_handle_name_of(const fastmpi_handle_kind *k, intptr_t h)
{
    for (const fastmpi_handle_name *n = k->names; n != NULL && n->name;
         n++) {
        if (n->handle == h) {
            return n->name;
        }
    }
    return NULL;
}

static int
is_predefined(const fastmpi_handle_kind *k, PyObject *self, intptr_t h)
{
    int *flags = handle_flags(k, self);
    return (flags != NULL && (*flags & FASTMPI_PREDEFINED)) ||
           fastmpi_handle_name_of(k, h) != NULL;
}

/* Borrowed: the kind of a handle class or its subclass, or NULL with
 * TypeError. */
static const fastmpi_handle_kind *
kind_of(PyTypeObject *tp)
{
    const fastmpi_state *st = fastmpi_st;
    for (PyTypeObject *t = tp; t != NULL; t = t->tp_base) {
        for (int i = 0; i < st->nhandles; i++) {
            if (st->handles[i].type == t) {
                return st->handles[i].kind;
            }
        }
    }
    PyErr_Format(PyExc_TypeError, "%.100s is not an MPI handle class",
                 tp->tp_name);
    return NULL;
}

PyObject *
fastmpi_handle_repr(const fastmpi_handle_kind *k, PyObject *self)
{
    const char *name = fastmpi_handle_name_of(k, fastmpi_handle_get(k, self));
    return PyUnicode_FromFormat("<%s%s%s at %p>", Py_TYPE(self)->tp_name,
                                name ? " " : "", name ? name : "", self);
}

/* ---- arguments ---------------------------------------------------------- */

/* A Fortran (or toint()) integer argument `arg` of fname, once MPI is
 * running: 0, or -1 with TypeError (not an int) or ValueError (outside a
 * C int) naming it. */
static int
fint_arg(const char *fname, const char *what, PyObject *arg, MPI_Fint *out)
{
    if (!PyLong_Check(arg) && !PyIndex_Check(arg)) {   /* numpy ints too */
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'arg' must be int, not %.100s", fname,
                     Py_TYPE(arg)->tp_name);
        return -1;
    }
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(arg, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || v < INT_MIN || v > INT_MAX) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'arg' is not %s: %R", fname, what, arg);
        return -1;
    }
    *out = (MPI_Fint)v;
    return fastmpi_require_mpi();
}

/* fromhandle()'s argument: an int the size of the kind's handle (an int
 * handle also as its unsigned value): 0, or -1 with TypeError or
 * ValueError. */
static int
handle_arg(const fastmpi_handle_kind *k, PyObject *arg, intptr_t *out)
{
    if (!PyLong_Check(arg) && !PyIndex_Check(arg)) {
        PyErr_Format(PyExc_TypeError,
                     "fromhandle() argument 'handle' must be int, not "
                     "%.100s", Py_TYPE(arg)->tp_name);
        return -1;
    }
    PyObject *v = PyNumber_Index(arg);
    if (v == NULL) {
        return -1;
    }
    int overflow = 0, ok = 1;
    long long s = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (s == -1 && PyErr_Occurred()) {
        Py_DECREF(v);
        return -1;
    }
    if (overflow == 0 && k->size == (int)sizeof(int)) {
        ok = s >= INT_MIN && s <= (long long)UINT_MAX;
        *out = (int)(unsigned int)(s & 0xffffffffLL);
    }
    else if (overflow == 0) {
        *out = (intptr_t)s;
    }
    else if (overflow > 0 && k->size == (int)sizeof(intptr_t)) {
        unsigned long long u = PyLong_AsUnsignedLongLong(v);
        ok = !(u == (unsigned long long)-1 && PyErr_Occurred());
        PyErr_Clear();
        *out = (intptr_t)u;
    }
    else {
        ok = 0;
    }
    Py_DECREF(v);
    if (!ok) {
        PyErr_Format(PyExc_ValueError,
                     "fromhandle() argument 'handle' is not a %s handle: %R",
                     k->name, arg);
        return -1;
    }
    return 0;
}

/* New reference: the object of cls for handle h (fname's result). */
static PyObject *
handle_make(const fastmpi_handle_kind *k, PyTypeObject *cls, intptr_t h,
            const char *fname)
{
    if (h == 0 && k->null != 0) {
        /* Open MPI's f2c answer for an index it does not know (its null
         * handles are real objects), never a valid MPICH handle either:
         * such a handle crashes the library later */
        return fastmpi_error_raise_detail(MPI_ERR_ARG, "%s(): not a valid "
                                          "%s handle", fname, k->name);
    }
    if (k->make != NULL) {
        return k->make(cls, h, fname);
    }
    PyObject *self = cls->tp_alloc(cls, 0);
    if (self != NULL) {
        handle_set(k, self, h);
        int *flags = handle_flags(k, self);
        if (flags != NULL && fastmpi_handle_name_of(k, h) != NULL) {
            *flags = FASTMPI_PREDEFINED;
        }
    }
    return self;
}

/* ---- the methods -------------------------------------------------------- */

static PyObject *
Handle_get_handle(PyObject *self, void *closure)
{
    const fastmpi_handle_kind *k = closure;
    return PyLong_FromSsize_t(fastmpi_handle_get(k, self));
}

static PyObject *
Handle_py2f(PyObject *self, PyObject *unused)
{
    const fastmpi_handle_kind *k = kind_of(Py_TYPE(self));
    MPI_Fint f;
    if (k == NULL || k->c2f(fastmpi_handle_get(k, self), &f) < 0) {
        return NULL;
    }
    return PyLong_FromLong((long)f);
}

static PyObject *
Handle_f2py(PyObject *cls, PyObject *arg)
{
    const fastmpi_handle_kind *k = kind_of((PyTypeObject *)cls);
    MPI_Fint f;
    if (k == NULL || fint_arg("f2py", "a Fortran handle", arg, &f) < 0) {
        return NULL;
    }
    return handle_make(k, (PyTypeObject *)cls, k->f2c(f), "f2py");
}

static PyObject *
Handle_toint(PyObject *self, PyObject *unused)
{
    const fastmpi_handle_kind *k = kind_of(Py_TYPE(self));
    int i;
    if (k == NULL || k->toint(fastmpi_handle_get(k, self), &i) < 0) {
        return NULL;
    }
    return PyLong_FromLong(i);
}

static PyObject *
Handle_fromint(PyObject *cls, PyObject *arg)
{
    const fastmpi_handle_kind *k = kind_of((PyTypeObject *)cls);
    MPI_Fint i;
    if (k == NULL ||
        fint_arg("fromint", "an integer handle", arg, &i) < 0) {
        return NULL;
    }
    return handle_make(k, (PyTypeObject *)cls, k->fromint((int)i),
                       "fromint");
}

static PyObject *
Handle_fromhandle(PyObject *cls, PyObject *const *args, Py_ssize_t nargs,
                  PyObject *kwnames)
{
    static const char *const names[] = {"handle", NULL};
    static fastmpi_argspec spec = {"fromhandle", names, 1};
    PyObject *argv[1];
    const fastmpi_handle_kind *k = kind_of((PyTypeObject *)cls);
    intptr_t h;
    if (k == NULL || fastmpi_parse_args(&spec, args, nargs, kwnames,
                                        argv) < 0 ||
        handle_arg(k, argv[0], &h) < 0 || fastmpi_require_mpi() < 0) {
        return NULL;
    }
    return handle_make(k, (PyTypeObject *)cls, h, "fromhandle");
}

static PyObject *
Handle_free(PyObject *self, PyObject *unused)
{
    const fastmpi_handle_kind *k = kind_of(Py_TYPE(self));
    if (k == NULL) {
        return NULL;
    }
    intptr_t h = fastmpi_handle_get(k, self);
    if (k->free == NULL || h == k->null || is_predefined(k, self, h)) {
        Py_RETURN_NONE;
    }
    return k->free(self, NULL);
}

/* __reduce__ of a predefined object: "name" for MPI.<name> itself, else
 * (type(self), (MPI.<name>,)). */
static PyObject *
reduce_predefined(PyObject *self, const char *name)
{
    PyObject *obj = PyObject_GetAttrString(fastmpi_st->module, name);
    if (obj == NULL) {
        return NULL;
    }
    if (obj == self) {
        Py_DECREF(obj);
        return PyUnicode_FromString(name);      /* MPI.<name> by name */
    }
    /* a copy of a predefined handle: the class called on the original */
    PyObject *r = Py_BuildValue("(O(O))", (PyObject *)Py_TYPE(self), obj);
    Py_DECREF(obj);
    return r;
}

static PyObject *
Handle_reduce(PyObject *self, PyObject *unused)
{
    const fastmpi_handle_kind *k = kind_of(Py_TYPE(self));
    if (k == NULL) {
        return NULL;
    }
    const char *name = fastmpi_handle_name_of(k, fastmpi_handle_get(k, self));
    if (name == NULL) {
        return PyErr_Format(PyExc_TypeError, "cannot pickle %.100s: %s",
                            Py_TYPE(self)->tp_name,
                            k->local ? k->local
                                     : "it is local to its process");
    }
    return reduce_predefined(self, name);
}

/* ---- the root classes --------------------------------------------------- */

/* The base's methods; a doc's %s is the class's name.  free() has two
 * docs: for kinds with a Free hook and without. */
/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Handle_f2py, "f2py", "arg")

static const PyMethodDef base_methods[] = {
    {"py2f", Handle_py2f, METH_NOARGS,
     "py2f($self)\n--\n\n"
     "py2f() -> int: the Fortran handle."},
    {"f2py", FASTMPI_FASTCALL(Handle_f2py_kw),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "f2py($cls, arg)\n--\n\n"
     "f2py(arg): the %s of a Fortran handle."},
    {"toint", Handle_toint, METH_NOARGS,
     "toint($self)\n--\n\n"
     "toint() -> int: the handle as an integer (MPI-5's integer handle; "
     "without MPI-5's ABI, the Fortran handle)."},
    {"fromint", Handle_fromint, METH_O | METH_CLASS,
     "fromint($cls, arg, /)\n--\n\n"
     "fromint(arg, /): the %s of an integer toint() gave."},
    {"fromhandle", FASTMPI_FASTCALL(Handle_fromhandle),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "fromhandle($cls, handle)\n--\n\n"
     "fromhandle(handle): the %s of an MPI handle (an int, as .handle "
     "gives)."},
    {"free", Handle_free, METH_NOARGS,
     "free($self)\n--\n\n"
     "free(): Free() the %s unless it is null or predefined."},
    {"__reduce__", Handle_reduce, METH_NOARGS, "__reduce__($self)\n--\n\n"},
    {NULL},
};

static const char free_nothing_doc[] = "free($self)\n--\n\n"
                                       "free(): do nothing (a %s is not "
                                       "freed).";

/* A doc for the kind: fmt with its name, kept for the life of the
 * process (the class's methods point to it).  NULL with MemoryError. */
static const char *
kind_doc(const char *fmt, const fastmpi_handle_kind *k)
{
    if (fmt == NULL || strstr(fmt, "%s") == NULL) {
        return fmt;
    }
    size_t n = strlen(fmt) + strlen(k->name) + 1;
    char *doc = PyMem_RawMalloc(n);
    if (doc == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    snprintf(doc, n, fmt, k->name);
    return doc;
}

/* A new slot table: the spec's, then the kind's where the spec has none
 * of its own.  NULL with MemoryError. */
static PyType_Slot *
join_slots(const PyType_Spec *spec, const PyType_Slot *base)
{
    int n = 0, nbase = 0;
    while (spec->slots[n].slot != 0) {
        n++;
    }
    while (base[nbase].slot != 0) {
        nbase++;
    }
    PyType_Slot *slots = PyMem_Calloc((size_t)(n + nbase + 1),
                                      sizeof(*slots));
    if (slots == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(slots, spec->slots, (size_t)n * sizeof(*slots));
    int total = n;              /* n stays the spec's own count */
    for (int b = 0; b < nbase; b++) {
        int own = 0;
        for (int i = 0; i < n; i++) {
            own |= spec->slots[i].slot == base[b].slot;
        }
        if (!own) {
            slots[total++] = base[b];
        }
    }
    return slots;
}

/* A new NULL-terminated list: the tables of `tables` (may be NULL), then
 * `last`.  NULL with MemoryError. */
static void **
join_tables(void *const *tables, void *last)
{
    size_t n = 0;
    while (tables != NULL && tables[n] != NULL) {
        n++;
    }
    void **all = PyMem_Calloc(n + 2, sizeof(*all));
    if (all == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (n > 0) {
        memcpy(all, tables, n * sizeof(*all));
    }
    all[n] = last;
    return all;
}

PyTypeObject *
fastmpi_handle_type_new(PyObject *module, const PyType_Spec *spec,
                        const fastmpi_handle_kind *kind,
                        const fastmpi_type_parts *parts)
{
    fastmpi_state *st = fastmpi_st;
    int index = st->nhandles;
    if (index >= FASTMPI_HANDLE_KINDS ||
        (kind->size != (int)sizeof(int) &&
         kind->size != (int)sizeof(intptr_t))) {
        PyErr_Format(PyExc_SystemError, "cannot make the handle class %s",
                     kind->name);
        return NULL;
    }
    /* this kind's copy of the base's tables: entries are copied again
     * into the class's own, the docs they point to stay */
    enum { NMETHODS = sizeof(base_methods) / sizeof(base_methods[0]) };
    PyMethodDef methods[NMETHODS];
    for (int i = 0; i < NMETHODS; i++) {
        methods[i] = base_methods[i];
        const char *fmt = methods[i].ml_doc;
        if (methods[i].ml_meth == Handle_free && kind->free == NULL) {
            fmt = free_nothing_doc;
        }
        if (methods[i].ml_name != NULL &&
            (methods[i].ml_doc = kind_doc(fmt, kind)) == NULL && fmt) {
            return NULL;
        }
    }
    PyGetSetDef getset[] = {
        {"handle", Handle_get_handle, NULL, "MPI handle as an int",
         (void *)kind},
        {NULL},
    };
    PyType_Slot *slots = join_slots(spec, kind->slots);
    void **mlist = join_tables(parts ? (void *const *)parts->methods : NULL,
                               methods);
    void **glist = join_tables(parts ? (void *const *)parts->getset : NULL,
                               getset);
    PyTypeObject *type = NULL;
    if (slots != NULL && mlist != NULL && glist != NULL) {
        PyType_Spec whole = *spec;
        whole.slots = slots;
        fastmpi_type_parts all = {(PyMethodDef *const *)mlist,
                                  (PyGetSetDef *const *)glist};
        type = fastmpi_type_new(module, &whole, NULL, &all);
    }
    PyMem_Free(slots);
    PyMem_Free(mlist);
    PyMem_Free(glist);
    if (type != NULL) {
        st->handles[index] = (fastmpi_handle_entry){type, kind};
        st->nhandles = index + 1;
    }
    return type;
}

/* ---- _sizeof, _addressof, _handleof --------------------------------------
 *
 * mpi4py's helpers for other bindings (ctypes, cffi, numba-mpi, mpi4jax):
 * the size of the C handle of a handle object or class, the address of
 * the handle inside the object, and its value.  A Status counts too: its
 * MPI_Status is stored right after the object head, as every handle is
 * (status.c), but it has no handle value. */

static int
is_status(PyObject *obj)
{
    PyTypeObject *st = fastmpi_st->Status;
    return PyType_Check(obj) ? PyType_IsSubtype((PyTypeObject *)obj, st)
                             : PyObject_TypeCheck(obj, st);
}

/* The kind of obj (an object, or a class for _sizeof), or NULL with
 * TypeError naming fname. */
static const fastmpi_handle_kind *
arg_kind(PyObject *obj, const char *fname, int classes)
{
    PyTypeObject *tp = classes && PyType_Check(obj) ? (PyTypeObject *)obj
                                                    : Py_TYPE(obj);
    const fastmpi_handle_kind *k = kind_of(tp);
    if (k == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s() argument must be an MPI handle "
                     "object%s, not %.100s", fname,
                     classes ? " or class" : "", Py_TYPE(obj)->tp_name);
    }
    return k;
}

static PyObject *
Handle_sizeof(PyObject *module, PyObject *obj)
{
    if (is_status(obj)) {
        return PyLong_FromSize_t(sizeof(MPI_Status));
    }
    const fastmpi_handle_kind *k = arg_kind(obj, "_sizeof", 1);
    return k == NULL ? NULL : PyLong_FromLong(k->size);
}

static PyObject *
Handle_addressof(PyObject *module, PyObject *obj)
{
    if (!PyType_Check(obj) && is_status(obj)) {
        return PyLong_FromVoidPtr((char *)obj + sizeof(PyObject));
    }
    const fastmpi_handle_kind *k = arg_kind(obj, "_addressof", 0);
    return k == NULL ? NULL : PyLong_FromVoidPtr((char *)obj + k->offset);
}

static PyObject *
Handle_handleof(PyObject *module, PyObject *obj)
{
    if (!PyType_Check(obj) && is_status(obj)) {
        return PyErr_Format(PyExc_NotImplementedError, "_handleof(): a "
                            "Status has no handle (it is a C struct)");
    }
    const fastmpi_handle_kind *k = arg_kind(obj, "_handleof", 0);
    if (k == NULL) {
        return NULL;
    }
    intptr_t h = fastmpi_handle_get(k, obj);
    return k->size == (int)sizeof(int) ? PyLong_FromLong((long)h)
                                       : PyLong_FromSize_t((size_t)h);
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Handle_sizeof, "_sizeof", "arg")
FASTMPI_ONE_ARG(Handle_addressof, "_addressof", "arg")
FASTMPI_ONE_ARG(Handle_handleof, "_handleof", "arg")

PyMethodDef fastmpi_handle_functions[] = {
    {"_sizeof", FASTMPI_FASTCALL(Handle_sizeof_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "_sizeof($module, arg)\n--\n\n"
     "_sizeof(obj) -> the size of the C handle of an MPI object or class."},
    {"_addressof", FASTMPI_FASTCALL(Handle_addressof_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "_addressof($module, arg)\n--\n\n"
     "_addressof(obj) -> the address of the C handle inside an MPI "
     "object."},
    {"_handleof", FASTMPI_FASTCALL(Handle_handleof_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "_handleof($module, arg)\n--\n\n"
     "_handleof(obj) -> the C handle of an MPI object as an int."},
    {NULL},
};
