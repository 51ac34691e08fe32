/* attr.c: attribute caching on communicators and datatypes: keyvals
 * (Create_keyval, Free_keyval) and Set_attr, Get_attr, Delete_attr, with
 * Python objects as values; the predefined attributes (TAG_UB, ...).
 *
 * Every keyval fastmpi creates has a context (fastmpi_keyval, state.h)
 * that MPI hands back to the copy and delete callbacks as extra_state.
 * The context is counted: one for the keyval until Free_keyval, one per
 * attribute set with it.  It outlives Free_keyval while attributes remain
 * (MPI keeps the keyval too), and a table (fastmpi_st->keyvals) finds it
 * from the keyval number for Get_attr/Set_attr.  An attribute owns one
 * reference to its value (or is a plain integer, for nopython keyvals).
 *
 * The callbacks take the GIL (Dup and Free release it) and always tell
 * MPI they succeeded: an exception from copy_fn or delete_fn is kept and
 * raised by the call that ran the callback (see fastmpi_callbacks_begin).  A
 * copy_fn that raises does not copy; Dup then frees the new communicator
 * and raises.  A delete_fn that raises still removes the attribute.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/datatype.h"
#include "attr.h"
#include "comm.h"

enum { ATTR_COMM = 0, ATTR_TYPE = 1 };

static const char *const kind_names[] = {"Comm", "Datatype"};

/* The live contexts (GIL held): fastmpi_st->keyvals[0 .. nkeyvals), a
 * handful, searched linearly. */

static fastmpi_keyval *
keyval_find(int kind, int keyval)
{
    fastmpi_state *st = fastmpi_st;
    for (Py_ssize_t i = 0; i < st->nkeyvals; i++) {
        fastmpi_keyval *kv = st->keyvals[i];
        if (kv->keyval == keyval && kv->kind == kind) {
            return kv;
        }
    }
    return NULL;
}

static int
keyval_add(fastmpi_keyval *kv)
{
    fastmpi_state *st = fastmpi_st;
    /* MPI reused the number: the old context is gone in MPI's eyes */
    for (Py_ssize_t i = 0; i < st->nkeyvals; i++) {
        if (st->keyvals[i]->keyval == kv->keyval &&
            st->keyvals[i]->kind == kv->kind) {
            st->keyvals[i] = kv;
            return 0;
        }
    }
    if (st->nkeyvals == st->capkeyvals) {
        Py_ssize_t cap = st->capkeyvals ? 2 * st->capkeyvals : 16;
        fastmpi_keyval **t = PyMem_Realloc(st->keyvals, cap * sizeof(*t));
        if (t == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        st->keyvals = t;
        st->capkeyvals = cap;
    }
    st->keyvals[st->nkeyvals++] = kv;
    return 0;
}

/* Drop one count of kv (GIL held); the last one frees it. */
static void
keyval_release(fastmpi_keyval *kv)
{
    if (--kv->refs > 0) {
        return;
    }
    fastmpi_state *st = fastmpi_st;
    for (Py_ssize_t i = 0; i < st->nkeyvals; i++) {
        if (st->keyvals[i] == kv) {
            st->keyvals[i] = st->keyvals[--st->nkeyvals];
            break;
        }
    }
    Py_XDECREF(kv->copy_fn);
    Py_XDECREF(kv->delete_fn);
    PyMem_Free(kv);
}

/* ---- the callbacks ------------------------------------------------------ */

/* New reference: the object a callback passes for handle h. */
static PyObject *
owner_object(int kind, const void *h)
{
    if (kind == ATTR_COMM) {
        MPI_Comm c = *(const MPI_Comm *)h;
        int pre = c == MPI_COMM_WORLD || c == MPI_COMM_SELF;
        return fastmpi_comm_new(fastmpi_st->Comm, c,
                                pre ? FASTMPI_PREDEFINED : 0);
    }
    PyObject *t = PyObject_CallNoArgs((PyObject *)fastmpi_st->Datatype);
    if (t != NULL) {
        ((FastMPIDatatypeObject *)t)->ob_mpi = *(const MPI_Datatype *)h;
    }
    return t;
}

/* New reference: an attribute value as the Python functions see it. */
static PyObject *
value_object(fastmpi_keyval *kv, void *value)
{
    if (kv->nopython) {
        return PyLong_FromSsize_t((Py_ssize_t)(intptr_t)value);
    }
    return Py_NewRef((PyObject *)value);
}

static void
copy_common(int kind, const void *h, fastmpi_keyval *kv, void *in, void *out,
            int *flag)
{
    PyObject *owner = NULL, *arg = NULL, *res = NULL;
    if (kv->copy_fn == Py_None || kv->copy_fn == Py_False) {
        return;
    }
    if (kv->copy_fn == Py_True) {
        if (!kv->nopython) {
            Py_INCREF((PyObject *)in);
        }
        *(void **)out = in;
        kv->refs++;
        *flag = 1;
        return;
    }
    owner = owner_object(kind, h);
    arg = owner ? value_object(kv, in) : NULL;
    if (arg != NULL) {
        res = PyObject_CallFunction(kv->copy_fn, "OiO", owner, kv->keyval,
                                    arg);
    }
    if (res == NULL) {
        fastmpi_callback_failed();
        goto done;
    }
    if (res == Py_NotImplemented) {
        goto done;
    }
    if (kv->nopython) {
        Py_ssize_t v = PyLong_AsSsize_t(res);
        if (v == -1 && PyErr_Occurred()) {
            fastmpi_callback_failed();
            goto done;
        }
        *(void **)out = (void *)(intptr_t)v;
    }
    else {
        *(void **)out = Py_NewRef(res);
    }
    kv->refs++;
    *flag = 1;
done:
    Py_XDECREF(res);
    Py_XDECREF(arg);
    Py_XDECREF(owner);
}

static void
delete_common(int kind, const void *h, fastmpi_keyval *kv, void *value)
{
    if (kv->delete_fn != Py_None) {
        PyObject *owner = owner_object(kind, h);
        PyObject *arg = owner ? value_object(kv, value) : NULL;
        PyObject *res = NULL;
        if (arg != NULL) {
            res = PyObject_CallFunction(kv->delete_fn, "OiO", owner,
                                        kv->keyval, arg);
        }
        if (res == NULL) {
            fastmpi_callback_failed();
        }
        Py_XDECREF(res);
        Py_XDECREF(arg);
        Py_XDECREF(owner);
    }
    if (!kv->nopython) {
        Py_DECREF((PyObject *)value);
    }
    keyval_release(kv);
}

static int
comm_copy_cb(MPI_Comm comm, int keyval, void *extra, void *in, void *out,
             int *flag)
{
    *flag = 0;
    if (!fastmpi_python_alive()) {
        return MPI_SUCCESS;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    copy_common(ATTR_COMM, &comm, extra, in, out, flag);
    PyGILState_Release(g);
    return MPI_SUCCESS;
}

static int
comm_delete_cb(MPI_Comm comm, int keyval, void *value, void *extra)
{
    if (!fastmpi_python_alive()) {
        return MPI_SUCCESS;     /* too late to release anything */
    }
    PyGILState_STATE g = PyGILState_Ensure();
    delete_common(ATTR_COMM, &comm, extra, value);
    PyGILState_Release(g);
    return MPI_SUCCESS;
}

static int
type_copy_cb(MPI_Datatype type, int keyval, void *extra, void *in,
             void *out, int *flag)
{
    *flag = 0;
    if (!fastmpi_python_alive()) {
        return MPI_SUCCESS;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    copy_common(ATTR_TYPE, &type, extra, in, out, flag);
    PyGILState_Release(g);
    return MPI_SUCCESS;
}

static int
type_delete_cb(MPI_Datatype type, int keyval, void *value, void *extra)
{
    if (!fastmpi_python_alive()) {
        return MPI_SUCCESS;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    delete_common(ATTR_TYPE, &type, extra, value);
    PyGILState_Release(g);
    return MPI_SUCCESS;
}

/* ---- per-kind MPI calls ------------------------------------------------- */

static int
kind_of(PyObject *self)
{
    return PyObject_TypeCheck(self, fastmpi_st->Comm) ? ATTR_COMM : ATTR_TYPE;
}

/* 0, or -1 with MPI.Exception if self is a null handle. */
static int
handle_check(int kind, PyObject *self, const char *fname)
{
    if (fastmpi_require_mpi() < 0) {
        return -1;
    }
    if (kind == ATTR_COMM) {
        if (((FastMPICommObject *)self)->ob_mpi == MPI_COMM_NULL) {
            fastmpi_error_raise_detail(MPI_ERR_COMM,
                                       "%s() on COMM_NULL", fname);
            return -1;
        }
    }
    else if (((FastMPIDatatypeObject *)self)->ob_mpi == MPI_DATATYPE_NULL) {
        fastmpi_error_raise_detail(MPI_ERR_TYPE, "%s() on DATATYPE_NULL",
                                   fname);
        return -1;
    }
    return 0;
}

static int
mpi_set_attr(int kind, PyObject *self, int keyval, void *value)
{
    if (kind == ATTR_COMM) {
        return MPI_Comm_set_attr(((FastMPICommObject *)self)->ob_mpi, keyval,
                                 value);
    }
    return MPI_Type_set_attr(((FastMPIDatatypeObject *)self)->ob_mpi, keyval,
                             value);
}

static int
mpi_get_attr(int kind, PyObject *self, int keyval, void *value, int *flag)
{
    if (kind == ATTR_COMM) {
        return MPI_Comm_get_attr(((FastMPICommObject *)self)->ob_mpi, keyval,
                                 value, flag);
    }
    return MPI_Type_get_attr(((FastMPIDatatypeObject *)self)->ob_mpi, keyval,
                             value, flag);
}

static int
mpi_delete_attr(int kind, PyObject *self, int keyval)
{
    if (kind == ATTR_COMM) {
        return MPI_Comm_delete_attr(((FastMPICommObject *)self)->ob_mpi,
                                    keyval);
    }
    return MPI_Type_delete_attr(((FastMPIDatatypeObject *)self)->ob_mpi,
                                keyval);
}

/* ---- arguments ---------------------------------------------------------- */

static int
keyval_arg(PyObject *arg, const char *fname, int *keyval)
{
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'keyval' must be int, not %.100s", fname,
                     Py_TYPE(arg)->tp_name);
        return -1;
    }
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(arg, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || v < INT_MIN || v > INT_MAX) {
        fastmpi_error_raise_detail(MPI_ERR_KEYVAL,
                                   "%s(): %R is not a keyval", fname, arg);
        return -1;
    }
    *keyval = (int)v;
    return 0;
}

static int
is_predefined_keyval(int kind, int keyval)
{
    return kind == ATTR_COMM &&
           (keyval == MPI_TAG_UB || keyval == MPI_HOST || keyval == MPI_IO ||
            keyval == MPI_WTIME_IS_GLOBAL || keyval == MPI_UNIVERSE_SIZE ||
            keyval == MPI_APPNUM || keyval == MPI_LASTUSEDCODE);
}

/* The live (not freed) context of a keyval a method was given, or NULL
 * with MPI.Exception(ERR_KEYVAL) saying why not. */
static fastmpi_keyval *
user_keyval(int kind, int keyval, const char *fname)
{
    fastmpi_keyval *kv = keyval_find(kind, keyval);
    if (kv != NULL && !kv->freed) {
        return kv;
    }
    if (is_predefined_keyval(kind, keyval)) {
        fastmpi_error_raise_detail(MPI_ERR_KEYVAL,
                                   "%s(): keyval %d is predefined: its "
                                   "attribute can only be read", fname,
                                   keyval);
    }
    else if (kv != NULL) {
        fastmpi_error_raise_detail(MPI_ERR_KEYVAL,
                                   "%s(): keyval %d was freed", fname,
                                   keyval);
    }
    else {
        fastmpi_error_raise_detail(MPI_ERR_KEYVAL,
                                   "%s(): %d is not a keyval made by "
                                   "%s.Create_keyval()", fname, keyval,
                                   kind_names[kind]);
    }
    return NULL;
}

/* ---- methods ------------------------------------------------------------ */

static PyObject *
create_keyval(int kind, PyObject *const *args, Py_ssize_t nargs,
              PyObject *kwnames)
{
    static const char *const names[] = {"copy_fn", "delete_fn", "nopython",
                                        NULL};
    static fastmpi_argspec spec = {"Create_keyval", names, 0};
    PyObject *argv[3];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    PyObject *copy_fn = argv[0] ? argv[0] : Py_None;
    PyObject *delete_fn = argv[1] ? argv[1] : Py_None;
    int nopython = argv[2] ? PyObject_IsTrue(argv[2]) : 0;
    if (nopython < 0) {
        return NULL;
    }
    if (copy_fn != Py_None && copy_fn != Py_True && copy_fn != Py_False &&
        !PyCallable_Check(copy_fn)) {
        return PyErr_Format(PyExc_TypeError,
                            "Create_keyval() argument 'copy_fn' must be "
                            "callable, True, False or None, not %.100s",
                            Py_TYPE(copy_fn)->tp_name);
    }
    if (delete_fn != Py_None && !PyCallable_Check(delete_fn)) {
        return PyErr_Format(PyExc_TypeError,
                            "Create_keyval() argument 'delete_fn' must be "
                            "callable or None, not %.100s",
                            Py_TYPE(delete_fn)->tp_name);
    }
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    fastmpi_keyval *kv = PyMem_Calloc(1, sizeof(*kv));
    if (kv == NULL) {
        return PyErr_NoMemory();
    }
    kv->copy_fn = Py_NewRef(copy_fn);
    kv->delete_fn = Py_NewRef(delete_fn);
    kv->kind = kind;
    kv->nopython = nopython;
    kv->refs = 1;
    int ierr;
    if (kind == ATTR_COMM) {
        ierr = MPI_Comm_create_keyval(comm_copy_cb, comm_delete_cb,
                                      &kv->keyval, kv);
    }
    else {
        ierr = MPI_Type_create_keyval(type_copy_cb, type_delete_cb,
                                      &kv->keyval, kv);
    }
    if (fastmpi_check(ierr) < 0) {
        keyval_release(kv);
        return NULL;
    }
    if (keyval_add(kv) < 0) {
        int k = kv->keyval;     /* MemoryError is what we report */
        if (kind == ATTR_COMM) {
            ierr = MPI_Comm_free_keyval(&k);
        }
        else {
            ierr = MPI_Type_free_keyval(&k);
        }
        keyval_release(kv);
        return NULL;
    }
    return PyLong_FromLong(kv->keyval);
}

static PyObject *
free_keyval(int kind, PyObject *arg)
{
    int keyval;
    if (keyval_arg(arg, "Free_keyval", &keyval) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    fastmpi_keyval *kv = user_keyval(kind, keyval, "Free_keyval");
    if (kv == NULL) {
        return NULL;
    }
    int k = keyval;
    int ierr;
    if (kind == ATTR_COMM) {
        ierr = MPI_Comm_free_keyval(&k);
    }
    else {
        ierr = MPI_Type_free_keyval(&k);
    }
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    kv->freed = 1;
    keyval_release(kv);
    return PyLong_FromLong(MPI_KEYVAL_INVALID);
}

static PyObject *
Attr_Set_attr(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
              PyObject *kwnames)
{
    static const char *const names[] = {"keyval", "attrval", NULL};
    static fastmpi_argspec spec = {"Set_attr", names, 2};
    PyObject *argv[2];
    int keyval, kind = kind_of(self);
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        keyval_arg(argv[0], "Set_attr", &keyval) < 0 ||
        handle_check(kind, self, "Set_attr") < 0) {
        return NULL;
    }
    fastmpi_keyval *kv = user_keyval(kind, keyval, "Set_attr");
    if (kv == NULL) {
        return NULL;
    }
    void *value;
    if (kv->nopython) {
        if (!PyLong_Check(argv[1])) {
            return PyErr_Format(PyExc_TypeError,
                                "Set_attr() argument 'attrval' must be int "
                                "for a nopython keyval, not %.100s",
                                Py_TYPE(argv[1])->tp_name);
        }
        Py_ssize_t v = PyLong_AsSsize_t(argv[1]);
        if (v == -1 && PyErr_Occurred()) {
            return NULL;
        }
        value = (void *)(intptr_t)v;
    }
    else {
        value = Py_NewRef(argv[1]);     /* the attribute's reference */
    }
    kv->refs++;
    fastmpi_callbacks_begin();
    int ierr = mpi_set_attr(kind, self, keyval, value);
    if (ierr != MPI_SUCCESS) {
        if (!kv->nopython) {
            Py_DECREF((PyObject *)value);
        }
        keyval_release(kv);
        fastmpi_error_raise(ierr);
    }
    /* a replaced value's delete_fn may have raised */
    if (fastmpi_callbacks_end() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* A predefined attribute: an int, or None (MPI has no value). */
static PyObject *
predefined_attr(PyObject *self, int keyval)
{
    int flag = 0;
    void *value = NULL;
    if (keyval == MPI_UNIVERSE_SIZE && fastmpi_mpich_singleton()) {
        Py_RETURN_NONE;     /* see compat.h: asking would hang */
    }
    if (fastmpi_check(mpi_get_attr(ATTR_COMM, self, keyval, &value,
                                   &flag)) < 0) {
        return NULL;
    }
    if (!flag || value == NULL) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(*(int *)value);
}

static PyObject *
Attr_Get_attr(PyObject *self, PyObject *arg)
{
    int keyval, kind = kind_of(self), flag = 0;
    void *value = NULL;
    if (keyval_arg(arg, "Get_attr", &keyval) < 0 ||
        handle_check(kind, self, "Get_attr") < 0) {
        return NULL;
    }
    if (is_predefined_keyval(kind, keyval)) {
        return predefined_attr(self, keyval);
    }
    fastmpi_keyval *kv = user_keyval(kind, keyval, "Get_attr");
    if (kv == NULL) {
        return NULL;
    }
    if (fastmpi_check(mpi_get_attr(kind, self, keyval, &value, &flag)) < 0) {
        return NULL;
    }
    if (!flag) {
        Py_RETURN_NONE;
    }
    return value_object(kv, value);
}

static PyObject *
Attr_Delete_attr(PyObject *self, PyObject *arg)
{
    int keyval, kind = kind_of(self);
    if (keyval_arg(arg, "Delete_attr", &keyval) < 0 ||
        handle_check(kind, self, "Delete_attr") < 0) {
        return NULL;
    }
    if (user_keyval(kind, keyval, "Delete_attr") == NULL) {
        return NULL;
    }
    fastmpi_callbacks_begin();
    int ierr = mpi_delete_attr(kind, self, keyval);
    if (ierr != MPI_SUCCESS) {
        fastmpi_error_raise(ierr);
    }
    if (fastmpi_callbacks_end() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Comm_Create_keyval(PyObject *cls, PyObject *const *args, Py_ssize_t nargs,
                   PyObject *kwnames)
{
    return create_keyval(ATTR_COMM, args, nargs, kwnames);
}

static PyObject *
Comm_Free_keyval(PyObject *cls, PyObject *arg)
{
    return free_keyval(ATTR_COMM, arg);
}

static PyObject *
Type_Create_keyval(PyObject *cls, PyObject *const *args, Py_ssize_t nargs,
                   PyObject *kwnames)
{
    return create_keyval(ATTR_TYPE, args, nargs, kwnames);
}

static PyObject *
Type_Free_keyval(PyObject *cls, PyObject *arg)
{
    return free_keyval(ATTR_TYPE, arg);
}

#define FC(f) FASTMPI_FASTCALL(f), METH_FASTCALL | METH_KEYWORDS

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Attr_Get_attr, "Get_attr", "keyval")
FASTMPI_ONE_ARG(Attr_Delete_attr, "Delete_attr", "keyval")
FASTMPI_ONE_ARG(Comm_Free_keyval, "Free_keyval", "keyval")
FASTMPI_ONE_ARG(Type_Free_keyval, "Free_keyval", "keyval")

#define ATTR_METHODS(PREFIX, WHAT)                                         \
    {"Create_keyval", FASTMPI_FASTCALL(PREFIX##_Create_keyval),            \
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,                           \
     "Create_keyval($cls, copy_fn=None, delete_fn=None, nopython=False)"   \
     "\n--\n\n"                                                           \
     "Create_keyval(copy_fn=None, delete_fn=None, nopython=False) -> a "   \
     "new attribute key for " WHAT "s.  copy_fn(obj, keyval, attrval) "   \
     "gives the copy's value on Dup (NotImplemented: no copy; True: the " \
     "same value; None: never copied); delete_fn(obj, keyval, attrval) "  \
     "runs when the value goes.  nopython: values are ints."},            \
    {"Free_keyval", FASTMPI_FASTCALL(PREFIX##_Free_keyval_kw),             \
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,                           \
     "Free_keyval($cls, keyval)\n--\n\n"                                   \
     "Free_keyval(keyval) -> KEYVAL_INVALID: free an attribute key."},     \
    {"Set_attr", FC(Attr_Set_attr),                                        \
     "Set_attr($self, keyval, attrval)\n--\n\n"                            \
     "Set_attr(keyval, attrval): attach a value (replacing one)."},        \
    {"Get_attr", FASTMPI_FASTCALL(Attr_Get_attr_kw),                       \
     METH_FASTCALL | METH_KEYWORDS,                                        \
     "Get_attr($self, keyval)\n--\n\n"                                     \
     "Get_attr(keyval) -> the attached value, or None."},                  \
    {"Delete_attr", FASTMPI_FASTCALL(Attr_Delete_attr_kw),                 \
     METH_FASTCALL | METH_KEYWORDS,                                        \
     "Delete_attr($self, keyval)\n--\n\n"                                  \
     "Delete_attr(keyval): remove an attached value."},                    \
    {NULL}

PyMethodDef fastmpi_attr_comm_methods[] = {ATTR_METHODS(Comm,
                                                        "communicator")};

/* On Datatype: module.c joins it after datatype.c's own methods. */
PyMethodDef fastmpi_attr_datatype_methods[] = {ATTR_METHODS(Type,
                                                            "datatype")};
